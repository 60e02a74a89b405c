/* SPDX-License-Identifier: Apache-2.0 */
/* kube_testca.c - generates a throwaway CA plus server and client certificates with
 * OpenSSL's API, all PEM in memory, for the fake kube-apiserver and its tests. */
#include "kube_testca.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

static char *bio_take(BIO *bio)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    char *out;

    if (n <= 0)
        return NULL;
    out = malloc((size_t)n + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
    return out;
}

static char *cert_pem(X509 *x)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *s = NULL;

    if (bio != NULL && PEM_write_bio_X509(bio, x) == 1)
        s = bio_take(bio);
    BIO_free(bio);
    return s;
}

static char *key_pem(EVP_PKEY *k)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *s = NULL;

    if (bio != NULL && PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL) == 1)
        s = bio_take(bio);
    BIO_free(bio);
    return s;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return -1;
    ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? 0 : -1;
}

/* Makes a certificate for key, signed by issuer_key (self-signed when issuer is NULL). */
static X509 *make_cert(EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, const char *cn,
                       const char *org, int kind)
{
    X509 *x = X509_new();
    X509_NAME *name;
    ASN1_INTEGER *serial;
    unsigned char rnd[8];
    BIGNUM *bn = NULL;

    if (x == NULL)
        return NULL;
    if (X509_set_version(x, 2) != 1 || RAND_bytes(rnd, sizeof(rnd)) != 1)
        goto fail;
    rnd[0] &= 0x7f;
    bn = BN_bin2bn(rnd, sizeof(rnd), NULL);
    serial = X509_get_serialNumber(x);
    if (bn == NULL || BN_to_ASN1_INTEGER(bn, serial) == NULL)
        goto fail;
    if (X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(x), 86400) == NULL)
        goto fail;
    if (X509_set_pubkey(x, key) != 1)
        goto fail;
    name = X509_get_subject_name(x);
    if (org != NULL && X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                                  (const unsigned char *)org, -1, -1, 0) != 1)
        goto fail;
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                   0) != 1)
        goto fail;
    if (X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) != 1)
        goto fail;
    if (kind == 0) {
        if (add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") != 0 ||
            add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") != 0 ||
            add_ext(x, x, NID_subject_key_identifier, "hash") != 0)
            goto fail;
    } else {
        if (add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
            add_ext(x, issuer, NID_key_usage, "critical,digitalSignature,keyEncipherment") != 0 ||
            add_ext(x, issuer, NID_ext_key_usage, kind == 1 ? "serverAuth" : "clientAuth") != 0 ||
            add_ext(x, issuer, NID_authority_key_identifier, "keyid:always") != 0)
            goto fail;
        if (kind == 1 &&
            add_ext(x, issuer, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost") != 0)
            goto fail;
    }
    if (X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) == 0)
        goto fail;
    BN_free(bn);
    return x;
fail:
    BN_free(bn);
    X509_free(x);
    return NULL;
}

void kube_testca_destroy(struct kube_testca *ca)
{
    if (ca == NULL)
        return;
    free(ca->ca_cert_pem);
    if (ca->ca_key_pem != NULL)
        OPENSSL_cleanse(ca->ca_key_pem, strlen(ca->ca_key_pem));
    free(ca->ca_key_pem);
    free(ca->server_cert_pem);
    if (ca->server_key_pem != NULL)
        OPENSSL_cleanse(ca->server_key_pem, strlen(ca->server_key_pem));
    free(ca->server_key_pem);
    free(ca->client_cert_pem);
    if (ca->client_key_pem != NULL)
        OPENSSL_cleanse(ca->client_key_pem, strlen(ca->client_key_pem));
    free(ca->client_key_pem);
    free(ca);
}

int kube_testca_create(const char *client_cn, const char *client_org, struct kube_testca **out)
{
    struct kube_testca *ca = calloc(1, sizeof(*ca));
    EVP_PKEY *cak = NULL;
    EVP_PKEY *sk = NULL;
    EVP_PKEY *ck = NULL;
    X509 *cax = NULL;
    X509 *sx = NULL;
    X509 *cx = NULL;
    int rc = -1;

    if (ca == NULL)
        return -1;
    cak = EVP_EC_gen("P-256");
    sk = EVP_EC_gen("P-256");
    ck = EVP_EC_gen("P-256");
    if (cak == NULL || sk == NULL || ck == NULL)
        goto cleanup;
    cax = make_cert(cak, NULL, NULL, "lockwarden-test-ca", NULL, 0);
    if (cax == NULL)
        goto cleanup;
    sx = make_cert(sk, cax, cak, "127.0.0.1", NULL, 1);
    cx = make_cert(ck, cax, cak, client_cn ? client_cn : "lockwarden-test",
                   client_org ? client_org : "system:masters", 2);
    if (sx == NULL || cx == NULL)
        goto cleanup;
    ca->ca_cert_pem = cert_pem(cax);
    ca->ca_key_pem = key_pem(cak);
    ca->server_cert_pem = cert_pem(sx);
    ca->server_key_pem = key_pem(sk);
    ca->client_cert_pem = cert_pem(cx);
    ca->client_key_pem = key_pem(ck);
    if (ca->ca_cert_pem == NULL || ca->ca_key_pem == NULL || ca->server_cert_pem == NULL ||
        ca->server_key_pem == NULL || ca->client_cert_pem == NULL || ca->client_key_pem == NULL)
        goto cleanup;
    *out = ca;
    ca = NULL;
    rc = 0;
cleanup:
    X509_free(cax);
    X509_free(sx);
    X509_free(cx);
    EVP_PKEY_free(cak);
    EVP_PKEY_free(sk);
    EVP_PKEY_free(ck);
    kube_testca_destroy(ca);
    return rc;
}
