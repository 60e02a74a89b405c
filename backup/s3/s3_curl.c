/* SPDX-License-Identifier: Apache-2.0 */
/* s3_curl.c - the default S3 transport: one libcurl easy handle per client, reused so
 * that connections stay alive between requests. */
#include "backup/s3/s3_int.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

struct s3_curl {
    CURL *h;
    char *ca_file;
    long connect_timeout_ms;
    long stall_timeout_ms;
};

/* State of one exchange, shared by the libcurl callbacks. */
struct xfer {
    const struct s3_http_request *req;
    const struct s3_http_response *resp;
    size_t sent;
    int cb_rc; /* first non-zero code returned by a response callback */
};

int s3_global_init(struct cm_err *err)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return cm_err_set(err, CM_EIO, "curl_global_init failed");
    return 0;
}

void s3_global_cleanup(void)
{
    curl_global_cleanup();
}

int s3_curl_create(const struct s3_curl_opts *o, void **ctx, struct cm_err *err)
{
    struct s3_curl *c = cm_calloc(1, sizeof(*c));

    if (c == NULL)
        return cm_err_set(err, CM_ENOMEM, "s3: out of memory");
    if (o->ca_file != NULL) {
        c->ca_file = cm_strdup(o->ca_file);
        if (c->ca_file == NULL) {
            cm_free(c);
            return cm_err_set(err, CM_ENOMEM, "s3: out of memory");
        }
    }
    c->h = curl_easy_init();
    if (c->h == NULL) {
        cm_free(c->ca_file);
        cm_free(c);
        return cm_err_set(err, CM_EIO, "s3: curl_easy_init failed");
    }
    c->connect_timeout_ms = o->connect_timeout_ms;
    c->stall_timeout_ms = o->stall_timeout_ms;
    *ctx = c;
    return 0;
}

static void curl_destroy(void *ctx)
{
    struct s3_curl *c = ctx;

    if (c == NULL)
        return;
    curl_easy_cleanup(c->h);
    cm_free(c->ca_file);
    cm_free(c);
}

static size_t read_cb(char *buf, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t room = size * nmemb;
    size_t left = x->req->body_len - x->sent;
    size_t n = left < room ? left : room;

    if (n > 0) {
        memcpy(buf, x->req->body + x->sent, n);
        x->sent += n;
    }
    return n;
}

/* libcurl rewinds the upload when it has to resend (e.g. a reused connection died). */
static int seek_cb(void *ud, curl_off_t off, int origin)
{
    struct xfer *x = ud;

    if (origin != SEEK_SET || off < 0 || (uint64_t)off > x->req->body_len)
        return CURL_SEEKFUNC_FAIL;
    x->sent = (size_t)off;
    return CURL_SEEKFUNC_OK;
}

static size_t write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    int rc;

    if (x->cb_rc != 0)
        return 0;
    if (x->resp->on_body == NULL)
        return n;
    rc = x->resp->on_body(p, n, x->resp->ctx);
    if (rc != 0) {
        x->cb_rc = rc;
        return 0; /* makes libcurl stop with CURLE_WRITE_ERROR */
    }
    return n;
}

static size_t header_cb(char *p, size_t size, size_t nitems, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nitems;
    size_t len = n;
    const char *colon;
    const char *v;
    size_t nl;
    size_t vl;
    int rc = 0;

    if (x->cb_rc != 0)
        return 0;
    while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n'))
        len--;
    if (len >= 12 && memcmp(p, "HTTP/", 5) == 0) {
        /* A status line (also of a 100 Continue or a retried exchange). */
        const char *sp = memchr(p, ' ', len);
        uint64_t st = 0;

        if (sp != NULL && (size_t)(p + len - sp) >= 4 && cm_parse_u64(sp + 1, 3, &st) == 0 &&
            x->resp->on_status != NULL)
            rc = x->resp->on_status((long)st, x->resp->ctx);
    } else if (len > 0) {
        colon = memchr(p, ':', len);
        if (colon != NULL && x->resp->on_header != NULL) {
            nl = (size_t)(colon - p);
            v = colon + 1;
            vl = len - nl - 1;
            while (vl > 0 && (*v == ' ' || *v == '\t')) {
                v++;
                vl--;
            }
            while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            rc = x->resp->on_header(p, nl, v, vl, x->resp->ctx);
        }
    }
    if (rc != 0) {
        x->cb_rc = rc;
        return 0;
    }
    return n;
}

static int map_curl(CURLcode cc, const char *errbuf, const char *url, struct cm_err *err)
{
    const char *what = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc);
    int code;

    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
        code = CM_ETIMEDOUT;
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_USE_SSL_FAILED:
        code = CM_ETLS;
        break;
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
        code = CM_EPROTO;
        break;
    case CURLE_OUT_OF_MEMORY:
        code = CM_ENOMEM;
        break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        code = CM_EINVAL;
        break;
    default:
        code = CM_ECONN;
        break;
    }
    /* The URL carries no secret (SigV4 goes in a header); it helps the reader. */
    return cm_err_set(err, code, "%s: %s", url, what);
}

static int curl_perform(void *ctx, const struct s3_http_request *req,
                        const struct s3_http_response *resp, struct cm_err *err)
{
    struct s3_curl *c = ctx;
    struct curl_slist *hl = NULL;
    struct xfer x;
    char errbuf[CURL_ERROR_SIZE];
    char line[8192];
    CURLcode cc;
    size_t i;
    int rc = 0;

    memset(&x, 0, sizeof(x));
    x.req = req;
    x.resp = resp;
    errbuf[0] = '\0';
    /* reset keeps the connection cache: connections are reused across requests. */
    curl_easy_reset(c->h);
    for (i = 0; i < req->n_headers; i++) {
        struct curl_slist *t;
        int n = snprintf(line, sizeof(line), "%s: %s", req->headers[i].name, req->headers[i].value);

        if (n < 0 || (size_t)n >= sizeof(line)) {
            rc = cm_err_set(err, CM_ETOOBIG, "s3: header %s too long", req->headers[i].name);
            goto cleanup;
        }
        t = curl_slist_append(hl, line);
        if (t == NULL) {
            rc = cm_err_set(err, CM_ENOMEM, "s3: out of memory");
            goto cleanup;
        }
        hl = t;
    }
    /* No "Expect: 100-continue" round trip, no Accept header we did not sign. */
    {
        static const char *const extra[] = {"Expect:", "Accept:"};

        for (i = 0; i < CM_ARRAY_LEN(extra); i++) {
            struct curl_slist *t = curl_slist_append(hl, extra[i]);

            if (t == NULL) {
                rc = cm_err_set(err, CM_ENOMEM, "s3: out of memory");
                goto cleanup;
            }
            hl = t;
        }
    }
    cc = CURLE_OK;
#define SETOPT(o, v)                                                                               \
    do {                                                                                           \
        if (cc == CURLE_OK)                                                                        \
            cc = curl_easy_setopt(c->h, o, v);                                                     \
    } while (0)
    SETOPT(CURLOPT_URL, req->url);
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    /* Object keys may contain "." and ".." segments: never let libcurl squash them
     * (that would change the object and break the signature). */
    SETOPT(CURLOPT_PATH_AS_IS, 1L);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_HTTPHEADER, hl);
    SETOPT(CURLOPT_ERRORBUFFER, errbuf);
    SETOPT(CURLOPT_HEADERFUNCTION, header_cb);
    SETOPT(CURLOPT_HEADERDATA, &x);
    SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
    SETOPT(CURLOPT_WRITEDATA, &x);
    SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    SETOPT(CURLOPT_LOW_SPEED_LIMIT, 1L);
    SETOPT(CURLOPT_LOW_SPEED_TIME, (c->stall_timeout_ms + 999) / 1000);
    if (c->ca_file != NULL)
        SETOPT(CURLOPT_CAINFO, c->ca_file);
    if (strcmp(req->method, "HEAD") == 0) {
        SETOPT(CURLOPT_NOBODY, 1L);
    } else if (strcmp(req->method, "GET") == 0) {
        SETOPT(CURLOPT_HTTPGET, 1L);
    } else if (strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0) {
        /* Upload mode with a known size sends Content-Length from memory. */
        SETOPT(CURLOPT_UPLOAD, 1L);
        SETOPT(CURLOPT_READFUNCTION, read_cb);
        SETOPT(CURLOPT_READDATA, &x);
        SETOPT(CURLOPT_SEEKFUNCTION, seek_cb);
        SETOPT(CURLOPT_SEEKDATA, &x);
        SETOPT(CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
        SETOPT(CURLOPT_CUSTOMREQUEST, req->method);
    } else {
        SETOPT(CURLOPT_CUSTOMREQUEST, req->method);
    }
#undef SETOPT
    if (cc != CURLE_OK) {
        rc = cm_err_set(err, CM_EIO, "s3: curl_easy_setopt: %s", curl_easy_strerror(cc));
        goto cleanup;
    }
    cc = curl_easy_perform(c->h);
    if (x.cb_rc != 0) {
        rc = cm_err_set(err, x.cb_rc, "s3: response handling stopped: %s", cm_strerror(x.cb_rc));
        goto cleanup;
    }
    if (cc != CURLE_OK) {
        rc = map_curl(cc, errbuf, req->url, err);
        goto cleanup;
    }
cleanup:
    /* Never leave pointers to this call's stack in the reused handle. */
    (void)curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
    (void)curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, NULL);
    /* The list held the Authorization value and any session token. */
    for (struct curl_slist *t = hl; t != NULL; t = t->next)
        cm_memzero_secure(t->data, strlen(t->data));
    curl_slist_free_all(hl);
    cm_memzero_secure(line, sizeof(line));
    return rc;
}

const struct s3_transport s3_curl_transport = {
    .perform = curl_perform,
    .destroy = curl_destroy,
};
