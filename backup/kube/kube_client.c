/* SPDX-License-Identifier: Apache-2.0 */
/* kube_client.c - the client: credentials (with token-file rotation), one request
 * with retries and backoff, and the mapping of HTTP statuses to CM_E* codes with
 * messages that name the verb and the resource. */
#include "kube_int.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct kube_client {
    struct kube_config *cfg;
    void *tctx;
    /* token file cache: re-read when mtime or size change */
    char *file_token;
    struct timespec file_mtime;
    off_t file_size;
    uint64_t rng;
    struct kube_client_stats stats;
};

/* ---- PEM checks: fail at create with a clear message, not at the first request ---- */

static int check_pem_cert(const char *pem, size_t len, const char *what, struct cm_err *err)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509 *x = NULL;
    int rc = 0;

    if (bio == NULL)
        return cm_err_set(err, CM_ENOMEM, "kube: out of memory");
    if (len > INT32_MAX || (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL)
        rc = cm_err_set(err, CM_ETLS, "kube: the %s is not a PEM certificate", what);
    X509_free(x);
    BIO_free(bio);
    ERR_clear_error();
    return rc;
}

static int check_pem_key(const char *pem, size_t len, struct cm_err *err)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *k = NULL;
    int rc = 0;

    if (bio == NULL)
        return cm_err_set(err, CM_ENOMEM, "kube: out of memory");
    if (len > INT32_MAX || (k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL)
        rc = cm_err_set(err, CM_ETLS, "kube: the client key is not a PEM private key");
    EVP_PKEY_free(k);
    BIO_free(bio);
    ERR_clear_error();
    return rc;
}

int kube_client_create(const struct kube_config *cfg, struct kube_client **out, struct cm_err *err)
{
    struct kube_client *c;
    const struct kube_transport_ops *ops;
    int rc;

    if (cfg->ca_pem != NULL) {
        rc = check_pem_cert(cfg->ca_pem, cfg->ca_len, "CA certificate", err);
        if (rc != 0)
            return rc;
    }
    if (cfg->cert_pem != NULL) {
        rc = check_pem_cert(cfg->cert_pem, cfg->cert_len, "client certificate", err);
        if (rc != 0)
            return rc;
        rc = check_pem_key(cfg->key_pem, cfg->key_len, err);
        if (rc != 0)
            return rc;
    }
    c = cm_calloc(1, sizeof(*c));
    if (c == NULL)
        return cm_err_set(err, CM_ENOMEM, "kube: out of memory");
    rc = kube_config_dup(cfg, &c->cfg);
    if (rc != 0) {
        cm_free(c);
        return cm_err_set(err, rc, "kube: out of memory");
    }
    ops = c->cfg->ops ? c->cfg->ops : kube_transport_curl();
    c->cfg->ops = ops;
    rc = ops->open(c->cfg, &c->tctx, err);
    if (rc != 0) {
        kube_config_destroy(c->cfg);
        cm_free(c);
        return rc;
    }
    c->rng = cm_time_mono_ns() ^ (uint64_t)(uintptr_t)c ^ 0x9e3779b97f4a7c15ull;
    *out = c;
    return 0;
}

void kube_client_destroy(struct kube_client *c)
{
    if (c == NULL)
        return;
    if (c->tctx != NULL)
        c->cfg->ops->close(c->tctx);
    kube_secret_free(c->file_token);
    kube_config_destroy(c->cfg);
    cm_free(c);
}

const struct kube_config *kube_client_config(const struct kube_client *c)
{
    return c->cfg;
}

void kube_client_stats_get(const struct kube_client *c, struct kube_client_stats *out)
{
    *out = c->stats;
}

/* Re-reads the token file when its mtime or size changed (projected service account
 * tokens rotate under a running pod). A failed re-read keeps the previous token. */
static int refresh_file_token(struct kube_client *c, struct cm_err *err)
{
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    char ebuf[128];
    int rc;

    if (stat(c->cfg->token_file, &st) != 0) {
        int e = errno;

        if (c->file_token != NULL) {
            cm_log(CM_LOG_WARN, "kube", "token file unreadable; keeping the previous token",
                   CM_LS("path", c->cfg->token_file),
                   CM_LS("err", cm_errno_str(e, ebuf, sizeof(ebuf))));
            return 0;
        }
        return cm_err_set(err, CM_ECONFIG, "kube: token file %.200s: %s", c->cfg->token_file,
                          cm_errno_str(e, ebuf, sizeof(ebuf)));
    }
    if (c->file_token != NULL && st.st_size == c->file_size &&
        st.st_mtim.tv_sec == c->file_mtime.tv_sec && st.st_mtim.tv_nsec == c->file_mtime.tv_nsec)
        return 0;
    rc = cm_fs_read_file(c->cfg->token_file, KUBE_MAX_TOKEN_FILE, &buf, &len, err);
    if (rc != 0) {
        if (c->file_token != NULL && rc != CM_ENOMEM)
            return 0;
        return rc == CM_ENOMEM ? rc
                               : cm_err_set(err, CM_ECONFIG, "kube: token file: %s",
                                            err ? err->msg : "unreadable");
    }
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
        buf[--len] = '\0';
    if (len == 0 || memchr(buf, '\n', len) != NULL || memchr(buf, '\r', len) != NULL) {
        cm_free_secure(buf, len);
        if (c->file_token != NULL)
            return 0;
        return cm_err_set(err, CM_ECONFIG,
                          "kube: token file %.200s is empty or has several "
                          "lines",
                          c->cfg->token_file);
    }
    kube_secret_free(c->file_token);
    c->file_token = buf;
    c->file_size = st.st_size;
    c->file_mtime = st.st_mtim;
    return 0;
}

/* Builds the Authorization value into *out (secret; caller wipes), or NULL. */
static int build_auth(struct kube_client *c, char **out, struct cm_err *err)
{
    struct cm_buf b;
    const char *token = c->cfg->token;
    int rc;

    *out = NULL;
    if (token == NULL && c->cfg->token_file != NULL) {
        rc = refresh_file_token(c, err);
        if (rc != 0)
            return rc;
        token = c->file_token;
    }
    cm_buf_init(&b, KUBE_MAX_TOKEN_FILE + 64);
    if (token != NULL) {
        if (strpbrk(token, "\r\n") != NULL)
            return cm_err_set(err, CM_ECONFIG, "kube: bearer token contains a line break");
        rc = cm_buf_adds(&b, "Bearer ");
        if (rc == 0)
            rc = cm_buf_adds(&b, token);
    } else if (c->cfg->username != NULL) {
        struct cm_buf up;
        char *enc;

        cm_buf_init(&up, 8192);
        rc = cm_buf_addf(&up, "%s:%s", c->cfg->username, c->cfg->password ? c->cfg->password : "");
        if (rc != 0)
            return cm_err_set(err, rc, "kube: basic credentials too long");
        enc = cm_base64_encode(up.ptr, up.len, NULL);
        OPENSSL_cleanse(up.ptr, up.len);
        cm_buf_free(&up);
        if (enc == NULL)
            return cm_err_set(err, CM_ENOMEM, "kube: out of memory");
        rc = cm_buf_adds(&b, "Basic ");
        if (rc == 0)
            rc = cm_buf_adds(&b, enc);
        kube_secret_free(enc);
    } else {
        return 0;
    }
    if (rc != 0) {
        cm_buf_free(&b);
        return cm_err_set(err, rc, "kube: credentials too long");
    }
    *out = cm_buf_take(&b, NULL);
    if (*out == NULL)
        return cm_err_set(err, CM_ENOMEM, "kube: out of memory");
    return 0;
}

/* ---- the request ---- */

static bool retriable_status(long s)
{
    return s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

static uint64_t next_rand(struct kube_client *c)
{
    /* xorshift64*: jitter only, per client, no shared state. */
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return c->rng * 2685821657736338717ull;
}

static void default_sleep(uint64_t ms)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* A printable excerpt of a non-Status body for messages. */
static void body_excerpt(const struct cm_buf *b, char *out, size_t cap)
{
    size_t i;
    size_t n = 0;

    for (i = 0; i < b->len && n + 1 < cap && n < 200; i++) {
        unsigned char ch = (unsigned char)b->ptr[i];

        out[n++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : ' ';
    }
    out[n] = '\0';
}

static int map_status(const char *method, const char *path, long status, const struct cm_buf *body,
                      unsigned attempts, struct cm_err *err)
{
    struct kube_path_info pi;
    struct kube_status st;
    char what[KUBE_MAX_PATH + 64];
    char msg[600];
    cJSON *j = NULL;
    const char *word;
    int code;

    kube_path_info_parse(path, &pi);
    kube_path_describe(method, &pi, what, sizeof(what));
    memset(&st, 0, sizeof(st));
    if (body->len > 0 && kube_json_parse(body->ptr, body->len, &j, NULL) == 0)
        (void)kube_status_parse(j, &st);
    cJSON_Delete(j);
    if (st.message[0] != '\0')
        (void)snprintf(msg, sizeof(msg), "%s", st.message);
    else if (body->len > 0)
        body_excerpt(body, msg, sizeof(msg));
    else
        (void)snprintf(msg, sizeof(msg), "HTTP %ld with an empty body", status);

    switch (status) {
    case 400:
        code = CM_EINVAL;
        word = "bad request";
        break;
    case 401:
        code = CM_EAUTH;
        word = "unauthorized";
        break;
    case 403:
        code = CM_EAUTH;
        word = "forbidden";
        break;
    case 404:
        code = CM_ENOENT;
        word = "not found";
        break;
    case 409:
        if (strcmp(st.reason, "AlreadyExists") == 0 ||
            (st.reason[0] == '\0' && strcmp(method, "POST") == 0)) {
            code = CM_EEXIST;
            word = "already exists";
        } else {
            code = CM_EAGAIN;
            word = "conflict";
        }
        break;
    case 410:
        code = CM_EAGAIN;
        word = "expired";
        break;
    case 422:
        code = CM_EINVAL;
        word = "invalid";
        break;
    default:
        if (retriable_status(status)) {
            return cm_err_set(err, CM_EAGAIN,
                              "server error: %s: HTTP %ld after %u attempt%s: "
                              "%s",
                              what, status, attempts, attempts == 1 ? "" : "s", msg);
        }
        return cm_err_set(err, CM_EHTTP, "unexpected HTTP %ld: %s: %s", status, what, msg);
    }
    return cm_err_set(err, code, "%s: %s: %s", word, what, msg);
}

/* kube_request() and kube_request_raw(): a 2xx body is parsed into *out or moved into
 * *raw (one of them, or neither, is set). */
static int do_request(struct kube_client *c, const char *method, const char *path, const char *body,
                      size_t body_len, const char *content_type, long *status, cJSON **out,
                      struct cm_buf *raw, struct cm_err *err)
{
    const struct kube_config *cfg = c->cfg;
    struct kube_http_req req;
    struct kube_http_resp resp;
    struct cm_buf url;
    char *auth = NULL;
    uint64_t spent_ms = 0;
    unsigned attempt;
    long last_status = 0;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (status != NULL)
        *status = 0;
    if (path == NULL || path[0] != '/' || strlen(path) >= KUBE_MAX_PATH)
        return cm_err_set(err, CM_EINVAL, "kube: bad request path");
    if (body_len > KUBE_MAX_REQUEST_BODY)
        return cm_err_set(err, CM_ETOOBIG, "kube: request body over %u bytes",
                          KUBE_MAX_REQUEST_BODY);
    cm_buf_init(&url, 2 * KUBE_MAX_PATH);
    cm_buf_init(&resp.body, cfg->max_body);
    if (raw != NULL)
        cm_buf_recycle(&resp.body, raw); /* a list's pages reuse one buffer */
    rc = cm_buf_adds(&url, cfg->server);
    if (rc == 0)
        rc = cm_buf_adds(&url, path);
    if (rc != 0) {
        rc = cm_err_set(err, rc, "kube: out of memory");
        goto cleanup;
    }
    rc = build_auth(c, &auth, err);
    if (rc != 0)
        goto cleanup;
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.url = url.ptr;
    req.body = body;
    req.body_len = body ? body_len : 0;
    req.content_type = body ? (content_type ? content_type : "application/json") : NULL;
    req.authorization = auth;
    req.user_agent = cfg->user_agent;

    for (attempt = 1;; attempt++) {
        uint64_t t0 = cm_time_mono_ns();
        uint64_t delay;
        bool retry;

        cm_buf_reset(&resp.body);
        resp.status = 0;
        resp.retry_after_s = -1;
        c->stats.requests++;
        rc = cfg->ops->send(c->tctx, &req, &resp, err);
        spent_ms += (cm_time_mono_ns() - t0) / 1000000u;
        if (rc == 0) {
            last_status = resp.status;
            c->stats.bytes_in += resp.body.len;
            retry = retriable_status(resp.status);
        } else {
            retry = rc == CM_ECONN || rc == CM_ETIMEDOUT;
        }
        if (!retry)
            break;
        if (attempt >= cfg->max_attempts) {
            if (rc != 0)
                cm_err_prefix(err, "gave up after %u attempt%s", attempt, attempt == 1 ? "" : "s");
            break;
        }
        if (resp.retry_after_s >= 0 && rc == 0) {
            delay = (uint64_t)resp.retry_after_s * 1000u;
        } else {
            unsigned shift = attempt - 1 > 20 ? 20 : attempt - 1;

            delay = cfg->base_ms << shift;
            if (delay > cfg->max_delay_ms)
                delay = cfg->max_delay_ms;
            delay += next_rand(c) % (delay / 4 + 1);
        }
        if (delay > cfg->max_delay_ms)
            delay = cfg->max_delay_ms;
        if (cfg->deadline_ms != 0 && spent_ms + delay > cfg->deadline_ms) {
            struct kube_path_info pi;
            char what[KUBE_MAX_PATH + 64];

            kube_path_info_parse(path, &pi);
            kube_path_describe(method, &pi, what, sizeof(what));
            rc = cm_err_set(err, CM_ETIMEDOUT, "deadline of %llu ms reached: %s: last %s %ld",
                            (unsigned long long)cfg->deadline_ms, what,
                            rc == 0 ? "HTTP status" : "error", rc == 0 ? resp.status : (long)rc);
            goto cleanup;
        }
        {
            struct kube_path_info pi;

            kube_path_info_parse(path, &pi);
            cm_log(CM_LOG_WARN, "kube", "retrying request", CM_LS("op", method),
                   CM_LS("resource", pi.resource), CM_LS("ns", pi.ns),
                   CM_LI("status", rc == 0 ? resp.status : 0),
                   CM_LS("err", rc == 0 ? "" : cm_errname(rc)), CM_LI("attempt", attempt),
                   CM_LI("delay_ms", delay));
        }
        c->stats.retries++;
        if (cfg->sleep_fn != NULL)
            cfg->sleep_fn(delay, cfg->sleep_ctx);
        else
            default_sleep(delay);
        spent_ms += delay;
    }
    if (rc != 0)
        goto cleanup;
    if (resp.status < 200 || resp.status > 299) {
        rc = map_status(method, path, resp.status, &resp.body, attempt, err);
        goto cleanup;
    }
    if (raw != NULL) {
        *raw = resp.body;
        cm_buf_init(&resp.body, 0);
    } else if (resp.body.len > 0 && out != NULL) {
        rc = kube_json_parse(resp.body.ptr, resp.body.len, out, err);
        if (rc != 0) {
            struct kube_path_info pi;
            char what[KUBE_MAX_PATH + 64];

            kube_path_info_parse(path, &pi);
            kube_path_describe(method, &pi, what, sizeof(what));
            cm_err_prefix(err, "%s", what);
        }
    }
cleanup:
    if (status != NULL)
        *status = last_status;
    if (auth != NULL)
        kube_secret_free(auth);
    cm_buf_free(&url);
    cm_buf_free(&resp.body);
    return rc;
}

int kube_request(struct kube_client *c, const char *method, const char *path, const char *body,
                 size_t body_len, const char *content_type, long *status, cJSON **out,
                 struct cm_err *err)
{
    return do_request(c, method, path, body, body_len, content_type, status, out, NULL, err);
}

int kube_request_raw(struct kube_client *c, const char *method, const char *path, long *status,
                     struct cm_buf *out, struct cm_err *err)
{
    return do_request(c, method, path, NULL, 0, NULL, status, NULL, out, err);
}
