/* SPDX-License-Identifier: Apache-2.0 */
/* s3_sigv4.c - AWS Signature Version 4 (HMAC-SHA256 over the canonical request) and the
 * digest/encoding helpers the client needs (SHA-256, MD5, URI encoding). */
#include "backup/s3/s3_int.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SIGV4_MAX_ITEMS 64
#define SIGV4_MAX_CANONICAL (1u << 20)
#define SIGV4_MAX_SECRET 256

void s3_hex(const unsigned char *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void s3_sha256_hex(const void *data, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;

    /* EVP_Digest fails only on allocation failure inside OpenSSL; an all-zero digest
     * then makes the server reject the request (signature/digest mismatch) instead of
     * sending something unverified. */
    if (EVP_Digest(data, n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        memset(md, 0, sizeof(md));
    s3_hex(md, 32, out);
}

void s3_md5_b64_encode(const unsigned char md[16], char out[25])
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;
    size_t o = 0;

    /* 16 bytes -> 5 full groups + 1 byte with "==" padding = 24 characters. */
    for (i = 0; i + 3 <= 15; i += 3) {
        uint32_t v = ((uint32_t)md[i] << 16) | ((uint32_t)md[i + 1] << 8) | md[i + 2];

        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
        out[o++] = b64[v & 63];
    }
    out[o++] = b64[md[15] >> 2];
    out[o++] = b64[(md[15] & 3) << 4];
    out[o++] = '=';
    out[o++] = '=';
    out[o] = '\0';
}

void s3_md5_base64(const void *data, size_t n, char out[25])
{
    unsigned char md[16];
    unsigned int mdlen = 0;

    if (EVP_Digest(data, n, md, &mdlen, EVP_md5(), NULL) != 1 || mdlen != 16)
        memset(md, 0, sizeof(md));
    s3_md5_b64_encode(md, out);
}

int s3_uri_encode(struct cm_buf *b, const char *s, size_t n, bool keep_slash)
{
    static const char hexu[] = "0123456789ABCDEF";
    size_t i;
    int rc;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || (c == '/' && keep_slash)) {
            rc = cm_buf_addc(b, (char)c);
        } else {
            char e[3] = {'%', hexu[c >> 4], hexu[c & 15]};

            rc = cm_buf_add(b, e, 3);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

void s3_amz_date(time_t t, char out[17])
{
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) == 0)
        memcpy(out, "19700101T000000Z", 17);
}

struct sig_item {
    char *name;
    char *value;
};

static int item_cmp(const void *a, const void *b)
{
    const struct sig_item *x = a;
    const struct sig_item *y = b;
    int c = strcmp(x->name, y->name);

    return c != 0 ? c : strcmp(x->value, y->value);
}

static void items_free(struct sig_item *it, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        cm_free(it[i].name);
        cm_free(it[i].value);
    }
}

/* Query items: URI-encoded name and value. */
static int query_items(const struct s3_kv *q, size_t n, struct sig_item *out)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < n; i++) {
        struct cm_buf b;
        const char *v = q[i].value != NULL ? q[i].value : "";

        cm_buf_init(&b, 8192);
        rc = s3_uri_encode(&b, q[i].name, strlen(q[i].name), false);
        if (rc == 0)
            rc = cm_buf_addc(&b, '\0'); /* ensures an allocation even when empty */
        if (rc != 0)
            goto fail;
        out[i].name = cm_buf_take(&b, NULL);
        cm_buf_init(&b, 8192);
        rc = s3_uri_encode(&b, v, strlen(v), false);
        if (rc == 0)
            rc = cm_buf_addc(&b, '\0');
        if (rc != 0 || out[i].name == NULL)
            goto fail_name;
        out[i].value = cm_buf_take(&b, NULL);
        if (out[i].value == NULL) {
            rc = CM_ENOMEM;
            goto fail_name;
        }
        continue;
    fail_name:
        cm_buf_free(&b);
        cm_free(out[i].name);
        out[i].name = NULL;
        if (rc == 0)
            rc = CM_ENOMEM;
    fail:
        items_free(out, i);
        return rc;
    }
    return 0;
}

/* Header items: lowercase name, value trimmed with inner space runs folded. */
static int header_items(const struct s3_kv *h, size_t n, struct sig_item *out)
{
    size_t i;
    size_t j;

    for (i = 0; i < n; i++) {
        size_t nl = strlen(h[i].name);
        const char *v = h[i].value != NULL ? h[i].value : "";
        size_t vl = strlen(v);
        char *name = cm_malloc(nl + 1);
        char *value = cm_malloc(vl + 1);
        size_t w = 0;
        bool space = false;

        if (name == NULL || value == NULL) {
            cm_free(name);
            cm_free(value);
            items_free(out, i);
            return CM_ENOMEM;
        }
        for (j = 0; j < nl; j++) {
            char c = h[i].name[j];

            name[j] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        name[nl] = '\0';
        for (j = 0; j < vl; j++) {
            char c = v[j];

            if (c == ' ' || c == '\t') {
                space = w > 0;
                continue;
            }
            if (space)
                value[w++] = ' ';
            space = false;
            value[w++] = c;
        }
        value[w] = '\0';
        out[i].name = name;
        out[i].value = value;
    }
    return 0;
}

static int hmac(const unsigned char *key, size_t klen, const char *msg, size_t mlen,
                unsigned char out[32])
{
    unsigned char tmp[32];
    unsigned int olen = 0;

    /* Through tmp: callers chain the key in place (out == key). */
    if (HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, mlen, tmp, &olen) == NULL ||
        olen != 32)
        return CM_ENOMEM;
    memcpy(out, tmp, 32);
    cm_memzero_secure(tmp, sizeof(tmp));
    return 0;
}

static bool date_ok(const char *d)
{
    size_t i;

    if (d == NULL || strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z')
        return false;
    for (i = 0; i < 15; i++) {
        if (i != 8 && (d[i] < '0' || d[i] > '9'))
            return false;
    }
    return true;
}

int s3_sigv4_sign(const struct s3_sigv4_input *in, char *out, size_t out_len, char *canonical,
                  size_t canonical_len, struct cm_err *err)
{
    struct sig_item q[SIGV4_MAX_ITEMS];
    struct sig_item h[SIGV4_MAX_ITEMS];
    size_t nq = 0;
    size_t nh = 0;
    struct cm_buf cr;
    struct cm_buf sh;
    char cr_hash[65];
    char sts[512];
    char scope[160];
    unsigned char k[32];
    unsigned char sig[32];
    char sig_hex[65];
    char kbuf[SIGV4_MAX_SECRET + 5];
    size_t sts_len;
    size_t i;
    int n;
    int rc;

    cm_buf_init(&cr, SIGV4_MAX_CANONICAL);
    cm_buf_init(&sh, 8192);
    if (in == NULL || in->method == NULL || in->path == NULL || in->payload_sha256_hex == NULL ||
        in->region == NULL || in->service == NULL || in->access_key == NULL ||
        in->secret_key == NULL || (in->n_query > 0 && in->query == NULL) ||
        (in->n_headers > 0 && in->headers == NULL))
        return cm_err_set(err, CM_EINVAL, "sigv4: missing input");
    if (!date_ok(in->amz_date))
        return cm_err_set(err, CM_EINVAL, "sigv4: x-amz-date must be YYYYMMDDTHHMMSSZ");
    if (in->n_query > SIGV4_MAX_ITEMS || in->n_headers > SIGV4_MAX_ITEMS)
        return cm_err_set(err, CM_ETOOBIG, "sigv4: more than %d headers or query parameters",
                          SIGV4_MAX_ITEMS);
    if (strlen(in->secret_key) > SIGV4_MAX_SECRET)
        return cm_err_set(err, CM_ETOOBIG, "sigv4: secret key too long");
    rc = query_items(in->query, in->n_query, q);
    if (rc != 0)
        return cm_err_set(err, rc, "sigv4: cannot encode the query");
    nq = in->n_query;
    rc = header_items(in->headers, in->n_headers, h);
    if (rc != 0) {
        cm_err_set(err, rc, "sigv4: cannot canonicalise the headers");
        goto cleanup;
    }
    nh = in->n_headers;
    qsort(q, nq, sizeof(q[0]), item_cmp);
    qsort(h, nh, sizeof(h[0]), item_cmp);
    for (i = 1; i < nh; i++) {
        if (strcmp(h[i - 1].name, h[i].name) == 0) {
            rc = cm_err_set(err, CM_EINVAL, "sigv4: duplicate header %s", h[i].name);
            goto cleanup;
        }
    }

    /* Canonical request. */
    rc = cm_buf_adds(&cr, in->method);
    rc = rc ? rc : cm_buf_addc(&cr, '\n');
    if (rc == 0 && in->path[0] != '/')
        rc = cm_buf_addc(&cr, '/');
    rc = rc ? rc : s3_uri_encode(&cr, in->path, strlen(in->path), true);
    rc = rc ? rc : cm_buf_addc(&cr, '\n');
    for (i = 0; rc == 0 && i < nq; i++)
        rc = cm_buf_addf(&cr, "%s%s=%s", i ? "&" : "", q[i].name, q[i].value);
    rc = rc ? rc : cm_buf_addc(&cr, '\n');
    for (i = 0; rc == 0 && i < nh; i++) {
        rc = cm_buf_addf(&cr, "%s:%s\n", h[i].name, h[i].value);
        if (rc == 0)
            rc = cm_buf_addf(&sh, "%s%s", i ? ";" : "", h[i].name);
    }
    rc = rc ? rc : cm_buf_addc(&cr, '\n');
    rc = rc ? rc : cm_buf_add(&cr, sh.ptr != NULL ? sh.ptr : "", sh.len);
    rc = rc ? rc : cm_buf_addc(&cr, '\n');
    rc = rc ? rc : cm_buf_adds(&cr, in->payload_sha256_hex);
    if (rc != 0) {
        cm_err_set(err, rc, "sigv4: canonical request too large");
        goto cleanup;
    }
    if (canonical != NULL && canonical_len > 0)
        (void)snprintf(canonical, canonical_len, "%s", cr.ptr);
    s3_sha256_hex(cr.ptr, cr.len, cr_hash);

    n = snprintf(scope, sizeof(scope), "%.8s/%s/%s/aws4_request", in->amz_date, in->region,
                 in->service);
    if (n < 0 || (size_t)n >= sizeof(scope)) {
        rc = cm_err_set(err, CM_ETOOBIG, "sigv4: region or service too long");
        goto cleanup;
    }
    n = snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s\n%s", in->amz_date, scope, cr_hash);
    if (n < 0 || (size_t)n >= sizeof(sts)) {
        rc = cm_err_set(err, CM_ETOOBIG, "sigv4: string to sign too long");
        goto cleanup;
    }

    /* Signing key: HMAC chain over date, region, service and "aws4_request". */
    sts_len = (size_t)n;
    n = snprintf(kbuf, sizeof(kbuf), "AWS4%s", in->secret_key);
    rc = hmac((const unsigned char *)kbuf, (size_t)n, in->amz_date, 8, k);
    cm_memzero_secure(kbuf, sizeof(kbuf));
    rc = rc ? rc : hmac(k, 32, in->region, strlen(in->region), k);
    rc = rc ? rc : hmac(k, 32, in->service, strlen(in->service), k);
    rc = rc ? rc : hmac(k, 32, "aws4_request", 12, k);
    rc = rc ? rc : hmac(k, 32, sts, sts_len, sig);
    cm_memzero_secure(k, sizeof(k));
    if (rc != 0) {
        cm_err_set(err, rc, "sigv4: HMAC failed");
        goto cleanup;
    }
    s3_hex(sig, 32, sig_hex);
    n = snprintf(out, out_len, "AWS4-HMAC-SHA256 Credential=%s/%s,SignedHeaders=%s,Signature=%s",
                 in->access_key, scope, sh.ptr != NULL ? sh.ptr : "", sig_hex);
    if (n < 0 || (size_t)n >= out_len) {
        if (out_len > 0)
            out[0] = '\0';
        rc = cm_err_set(err, CM_ETOOBIG, "sigv4: Authorization value does not fit");
        goto cleanup;
    }
    rc = 0;
cleanup:
    items_free(q, nq);
    items_free(h, nh);
    cm_buf_free(&cr);
    cm_buf_free(&sh);
    return rc;
}
