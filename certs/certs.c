/* SPDX-License-Identifier: Apache-2.0 */
/* certs.c - makes and renews the webhook CA and serving certificate with OpenSSL. */
#include "certs/certs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define DAY 86400

/* err gets "what: <OpenSSL's reason>" and CM_ETLS (or CM_ENOMEM). */
static int ssl_fail(struct cm_err *err, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[200];

    if (e == 0)
        return cm_err_set(err, CM_ETLS, "%s failed", what);
    ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    if (ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE)
        return cm_err_set(err, CM_ENOMEM, "%s: out of memory", what);
    return cm_err_set(err, CM_ETLS, "%s: %s", what, buf);
}

static int join(char *dst, size_t cap, const char *dir, const char *file, struct cm_err *err)
{
    int n = snprintf(dst, cap, "%s/%s", dir, file);

    if (n < 0 || (size_t)n >= cap)
        return cm_err_set(err, CM_EINVAL, "path too long: %s/%s", dir, file);
    return 0;
}

static bool file_exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

/* ASN1_TIME -> seconds since the epoch (UTC, without the process time zone). */
static int asn1_to_time(const ASN1_TIME *t, time_t *out)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (ASN1_TIME_to_tm(t, &tm) != 1)
        return CM_ETLS;
    *out = cm_time_from_utc(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                            tm.tm_sec);
    return 0;
}

/* Reads one PEM object from path: a certificate (want_key false) or a private key. The
 * file's bytes are wiped before they are freed, since a key file holds a secret. */
static int read_pem(const char *path, bool want_key, X509 **cert, EVP_PKEY **key,
                    struct cm_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    BIO *bio = NULL;
    int rc = cm_fs_read_file(path, CERTS_MAX_FILE, &buf, &len, err);

    if (rc != 0)
        return rc;
    bio = BIO_new_mem_buf(buf, (int)len);
    if (bio == NULL) {
        rc = ssl_fail(err, "BIO_new_mem_buf");
        goto cleanup;
    }
    if (want_key)
        *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    else
        *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    if (want_key ? *key == NULL : *cert == NULL) {
        rc = ssl_fail(err, path);
        cm_err_prefix(err, want_key ? "not a PEM private key" : "not a PEM certificate");
    }
cleanup:
    BIO_free(bio);
    cm_free_secure(buf, len);
    return rc;
}

static int read_pem_cert(const char *path, X509 **out, struct cm_err *err)
{
    return read_pem(path, false, out, NULL, err);
}

static int read_pem_key(const char *path, EVP_PKEY **out, struct cm_err *err)
{
    return read_pem(path, true, NULL, out, err);
}

int certs_file_not_after(const char *path, time_t *out, struct cm_err *err)
{
    X509 *x = NULL;
    int rc = read_pem_cert(path, &x, err);

    if (rc != 0)
        return rc;
    if (asn1_to_time(X509_get0_notAfter(x), out) != 0)
        rc = cm_err_set(err, CM_ETLS, "%s: unreadable notAfter", path);
    X509_free(x);
    return rc;
}

static EVP_PKEY *new_key(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value, struct cm_err *err)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    int ok;

    if (ext == NULL)
        return ssl_fail(err, "X509V3_EXT_conf_nid");
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? 0 : ssl_fail(err, "X509_add_ext");
}

static int set_serial(X509 *x, struct cm_err *err)
{
    BIGNUM *bn = BN_new();
    ASN1_INTEGER *ai = NULL;
    int rc = 0;

    /* 127 random bits: positive and unique enough (RFC 5280 allows up to 20 octets). */
    if (bn == NULL || BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) {
        rc = ssl_fail(err, "BN_rand");
        goto cleanup;
    }
    ai = BN_to_ASN1_INTEGER(bn, NULL);
    if (ai == NULL || X509_set_serialNumber(x, ai) != 1)
        rc = ssl_fail(err, "serial number");
cleanup:
    ASN1_INTEGER_free(ai);
    BN_free(bn);
    return rc;
}

/* A certificate for key, signed by (issuer, issuer_key), or self-signed when issuer
 * is NULL. san: "DNS:...,IP:..." or NULL for the CA. */
static int make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, time_t now,
                     unsigned days, const char *san, X509 **out, struct cm_err *err)
{
    X509 *x = X509_new();
    X509_NAME *name;
    X509V3_CTX ctx;
    bool is_ca = issuer == NULL;
    int rc = 0;

    if (x == NULL)
        return cm_err_set(err, CM_ENOMEM, "X509_new: out of memory");
    if (X509_set_version(x, 2) != 1) {
        rc = ssl_fail(err, "X509_set_version");
        goto cleanup;
    }
    rc = set_serial(x, err);
    if (rc != 0)
        goto cleanup;
    /* Backdate five minutes so a clock a little behind still accepts it. */
    if (X509_time_adj_ex(X509_getm_notBefore(x), 0, -300, &now) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, &now) == NULL) {
        rc = ssl_fail(err, "validity");
        goto cleanup;
    }
    name = X509_get_subject_name(x);
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                   0) != 1 ||
        X509_set_issuer_name(x, is_ca ? name : X509_get_subject_name(issuer)) != 1 ||
        X509_set_pubkey(x, key) != 1) {
        rc = ssl_fail(err, "subject");
        goto cleanup;
    }
    X509V3_set_ctx(&ctx, is_ca ? x : issuer, x, NULL, NULL, 0);
    if (is_ca) {
        rc = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE", err);
        if (rc == 0)
            rc = add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign", err);
        if (rc == 0)
            rc = add_ext(x, &ctx, NID_subject_key_identifier, "hash", err);
    } else {
        rc = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE", err);
        if (rc == 0)
            rc = add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature", err);
        if (rc == 0)
            rc = add_ext(x, &ctx, NID_ext_key_usage, "serverAuth", err);
        if (rc == 0)
            rc = add_ext(x, &ctx, NID_subject_key_identifier, "hash", err);
        if (rc == 0)
            rc = add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always", err);
        if (rc == 0)
            rc = add_ext(x, &ctx, NID_subject_alt_name, san, err);
    }
    if (rc != 0)
        goto cleanup;
    if (X509_sign(x, is_ca ? key : issuer_key, EVP_sha256()) <= 0) {
        rc = ssl_fail(err, "X509_sign");
        goto cleanup;
    }
    *out = x;
    x = NULL;
cleanup:
    X509_free(x);
    return rc;
}

/* PEM of a certificate or a key into a new buffer (cm_free / cm_free_secure). */
static int to_pem(X509 *x, EVP_PKEY *k, char **out, size_t *out_len, struct cm_err *err)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *p = NULL;
    long n = 0;
    int ok;
    int rc = 0;

    if (bio == NULL)
        return ssl_fail(err, "BIO_new");
    ok = x != NULL ? PEM_write_bio_X509(bio, x)
                   : PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL);
    if (ok != 1) {
        rc = ssl_fail(err, "PEM write");
        goto cleanup;
    }
    n = BIO_get_mem_data(bio, &p);
    if (n <= 0) {
        rc = ssl_fail(err, "PEM write");
        goto cleanup;
    }
    *out = cm_malloc((size_t)n + 1);
    if (*out == NULL) {
        rc = cm_err_set(err, CM_ENOMEM, "out of memory");
        goto cleanup;
    }
    memcpy(*out, p, (size_t)n);
    (*out)[n] = '\0';
    *out_len = (size_t)n;
cleanup:
    if (p != NULL && n > 0)
        OPENSSL_cleanse(p, (size_t)n);
    BIO_free(bio);
    return rc;
}

static int write_pem(const char *dir, const char *file, X509 *x, EVP_PKEY *k, struct cm_err *err)
{
    char path[4096];
    char *pem = NULL;
    size_t len = 0;
    int rc = join(path, sizeof(path), dir, file, err);

    if (rc == 0)
        rc = to_pem(x, k, &pem, &len, err);
    if (rc == 0)
        rc = cm_fs_write_atomic(path, pem, len, k != NULL ? 0600 : 0644, err);
    if (pem != NULL)
        cm_free_secure(pem, len);
    return rc;
}

/* "DNS:svc,DNS:svc.ns,...,IP:..." from the options. */
static int build_san(const struct certs_opts *o, struct cm_buf *san)
{
    size_t i;
    int rc = cm_buf_addf(san, "DNS:%s,DNS:%s.%s,DNS:%s.%s.svc,DNS:%s.%s.svc.cluster.local",
                         o->service, o->service, o->ns, o->service, o->ns, o->service, o->ns);

    for (i = 0; rc == 0 && i < o->n_dns; i++)
        rc = cm_buf_addf(san, ",DNS:%s", o->dns[i]);
    for (i = 0; rc == 0 && i < o->n_ip; i++)
        rc = cm_buf_addf(san, ",IP:%s", o->ip[i]);
    return rc;
}

/* Loads ca.crt + ca.key when both exist, match, and the CA outlives the new
 * certificate. Returns 0 with *ca NULL when a new CA is needed. */
static int load_ca(const struct certs_opts *o, X509 **ca, EVP_PKEY **ca_key, struct cm_err *err)
{
    char crt_path[4096];
    char key_path[4096];
    X509 *x = NULL;
    EVP_PKEY *k = NULL;
    time_t not_after;
    int rc;

    *ca = NULL;
    *ca_key = NULL;
    if (join(crt_path, sizeof(crt_path), o->out_dir, "ca.crt", err) != 0 ||
        join(key_path, sizeof(key_path), o->out_dir, "ca.key", err) != 0)
        return CM_EINVAL;
    if (!file_exists(crt_path) || !file_exists(key_path))
        return 0;
    rc = read_pem_cert(crt_path, &x, err);
    if (rc == 0)
        rc = read_pem_key(key_path, &k, err);
    if (rc != 0)
        goto cleanup;
    if (X509_check_private_key(x, k) != 1) {
        ERR_clear_error();
        rc = cm_err_set(err, CM_ETLS, "%s does not match %s (use --force for a new CA)", key_path,
                        crt_path);
        goto cleanup;
    }
    if (asn1_to_time(X509_get0_notAfter(x), &not_after) != 0) {
        rc = cm_err_set(err, CM_ETLS, "%s: unreadable notAfter", crt_path);
        goto cleanup;
    }
    if (not_after >= o->now + (time_t)o->days * DAY) {
        *ca = x;
        *ca_key = k;
        x = NULL;
        k = NULL;
    }
cleanup:
    X509_free(x);
    EVP_PKEY_free(k);
    return rc;
}

int certs_generate(const struct certs_opts *o, struct certs_result *res, struct cm_err *err)
{
    char path[4096];
    struct cm_buf san;
    X509 *ca = NULL;
    X509 *leaf = NULL;
    EVP_PKEY *ca_key = NULL;
    EVP_PKEY *key = NULL;
    char *ca_pem = NULL;
    size_t ca_pem_len = 0;
    struct certs_result r;
    bool new_ca = false;
    bool exists;
    int rc;

    cm_buf_init(&san, 64 * 1024);
    memset(&r, 0, sizeof(r));
    rc = certs_opts_check(o, err);
    if (rc != 0)
        return rc;
    if (mkdir(o->out_dir, 0700) != 0 && errno != EEXIST) {
        char eb[128];

        return cm_err_set(err, CM_EIO, "mkdir %s: %s", o->out_dir,
                          cm_errno_str(errno, eb, sizeof(eb)));
    }
    rc = join(path, sizeof(path), o->out_dir, "tls.crt", err);
    if (rc != 0)
        return rc;
    exists = file_exists(path);
    if (exists && !o->force && o->renew_within < 0)
        return cm_err_set(err, CM_EEXIST,
                          "%s exists: use --force to replace the CA and certificate, or "
                          "--renew-within DAYS to renew it near expiry",
                          path);
    if (exists && !o->force) {
        time_t not_after;

        rc = certs_file_not_after(path, &not_after, err);
        if (rc != 0)
            return rc;
        if (not_after - o->now > (time_t)o->renew_within * DAY) {
            char ca_path[4096];
            time_t ca_not_after = 0;

            rc = join(ca_path, sizeof(ca_path), o->out_dir, "ca.crt", err);
            if (rc == 0)
                rc = certs_file_not_after(ca_path, &ca_not_after, err);
            if (rc == 0)
                rc = cm_fs_read_file(ca_path, CERTS_MAX_FILE, &ca_pem, &ca_pem_len, err);
            if (rc != 0)
                return rc;
            r.action = CERTS_UNCHANGED;
            r.not_after = not_after;
            r.ca_not_after = ca_not_after;
            goto bundle;
        }
    }
    if (!o->force) {
        rc = load_ca(o, &ca, &ca_key, err);
        if (rc != 0)
            goto cleanup;
    }
    if (ca == NULL) {
        new_ca = true;
        ca_key = new_key();
        if (ca_key == NULL) {
            rc = ssl_fail(err, "CA key generation");
            goto cleanup;
        }
        rc = make_cert(ca_key, "lockwarden-webhook-ca", NULL, NULL, o->now, o->ca_days, NULL, &ca,
                       err);
        if (rc != 0)
            goto cleanup;
    }
    key = new_key();
    if (key == NULL) {
        rc = ssl_fail(err, "key generation");
        goto cleanup;
    }
    rc = build_san(o, &san);
    if (rc != 0) {
        rc = cm_err_set(err, rc, "subjectAltName too long");
        goto cleanup;
    }
    {
        char cn[CERTS_MAX_NAME_LEN + 1];

        (void)snprintf(cn, sizeof(cn), "%s.%s.svc", o->service, o->ns);
        rc = make_cert(key, cn, ca, ca_key, o->now, o->days, san.ptr, &leaf, err);
    }
    if (rc != 0)
        goto cleanup;
    /* CA first, key before certificate: a reader that sees the new certificate also
     * finds its key and issuer in place. */
    if (new_ca) {
        rc = write_pem(o->out_dir, "ca.key", NULL, ca_key, err);
        if (rc == 0)
            rc = write_pem(o->out_dir, "ca.crt", ca, NULL, err);
    }
    if (rc == 0)
        rc = write_pem(o->out_dir, "tls.key", NULL, key, err);
    if (rc == 0)
        rc = write_pem(o->out_dir, "tls.crt", leaf, NULL, err);
    if (rc == 0)
        rc = to_pem(ca, NULL, &ca_pem, &ca_pem_len, err);
    if (rc != 0)
        goto cleanup;
    r.action = !exists               ? CERTS_CREATED
               : new_ca && !o->force ? CERTS_RENEWED_NEW_CA
               : o->force            ? CERTS_CREATED
                                     : CERTS_RENEWED;
    if (asn1_to_time(X509_get0_notAfter(leaf), &r.not_after) != 0 ||
        asn1_to_time(X509_get0_notAfter(ca), &r.ca_not_after) != 0) {
        rc = cm_err_set(err, CM_ETLS, "unreadable notAfter");
        goto cleanup;
    }
bundle:
    r.ca_bundle = cm_base64_encode(ca_pem, ca_pem_len, NULL);
    if (r.ca_bundle == NULL) {
        rc = cm_err_set(err, CM_ENOMEM, "out of memory");
        goto cleanup;
    }
    *res = r;
cleanup:
    cm_free(ca_pem);
    cm_buf_free(&san);
    X509_free(leaf);
    X509_free(ca);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ca_key);
    return rc;
}
