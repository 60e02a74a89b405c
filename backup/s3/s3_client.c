/* SPDX-License-Identifier: Apache-2.0 */
/* s3_client.c - the S3 client object and its request engine: addressing, SigV4
 * signing, retries with capped exponential backoff, and S3 error mapping. */
#include "backup/s3/s3_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define S3_DEFAULT_ATTEMPTS 5
#define S3_DEFAULT_RETRY_BASE_MS 200
#define S3_DEFAULT_RETRY_MAX_MS 20000
#define S3_MAX_HOST 512

struct s3_client {
    char scheme[8]; /* "http" or "https" */
    char *host;     /* host[:port] of the endpoint */
    char *vhost;    /* bucket.host[:port] (virtual-host addressing) */
    char *region;
    char *bucket;
    bool path_style;
    struct s3_credentials creds;
    size_t part_size;
    unsigned max_parts;
    unsigned max_attempts;
    uint64_t retry_base_ms;
    uint64_t retry_max_ms;
    s3_sleep_fn sleep;
    void *sleep_ctx;
    uint64_t rng; /* xorshift64 state for jitter */
    const struct s3_transport *tp;
    void *tp_ctx;
};

const char *s3_lock_mode_name(enum s3_lock_mode m)
{
    switch (m) {
    case S3_LOCK_GOVERNANCE:
        return "GOVERNANCE";
    case S3_LOCK_COMPLIANCE:
        return "COMPLIANCE";
    default:
        return "NONE";
    }
}

int s3_lock_mode_parse(const char *s, size_t n, enum s3_lock_mode *out)
{
    if (s == NULL)
        return CM_EINVAL;
    if (n == 10 && strncasecmp(s, "GOVERNANCE", 10) == 0)
        *out = S3_LOCK_GOVERNANCE;
    else if (n == 10 && strncasecmp(s, "COMPLIANCE", 10) == 0)
        *out = S3_LOCK_COMPLIANCE;
    else
        return CM_EINVAL;
    return 0;
}

static void default_sleep(uint64_t ms, void *ctx)
{
    struct timespec ts;

    (void)ctx;
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static bool bucket_name_ok(const char *b)
{
    size_t n = strlen(b);
    size_t i;

    if (n < 3 || n > 63)
        return false;
    for (i = 0; i < n; i++) {
        char c = b[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

        if (!alnum && c != '.' && c != '-')
            return false;
        if ((i == 0 || i == n - 1) && !alnum)
            return false;
        if (c == '.' && b[i + 1] == '.')
            return false;
    }
    return true;
}

/* Splits "http(s)://host[:port][/]" into scheme and host. */
static int parse_endpoint(const char *ep, char *scheme, size_t scheme_len, char **host,
                          struct cm_err *err)
{
    const char *h;
    size_t n;
    size_t i;

    if (strncmp(ep, "https://", 8) == 0) {
        (void)snprintf(scheme, scheme_len, "https");
        h = ep + 8;
    } else if (strncmp(ep, "http://", 7) == 0) {
        (void)snprintf(scheme, scheme_len, "http");
        h = ep + 7;
    } else {
        return cm_err_set(err, CM_EINVAL,
                          "s3 endpoint \"%.100s\": must start with http:// or "
                          "https://",
                          ep);
    }
    n = strlen(h);
    if (n > 0 && h[n - 1] == '/')
        n--;
    if (n == 0 || n > S3_MAX_HOST)
        return cm_err_set(err, CM_EINVAL, "s3 endpoint \"%.100s\": bad host", ep);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)h[i];

        if (c <= 0x20 || c >= 0x7f || c == '/' || c == '?' || c == '#' || c == '@' || c == '\\')
            return cm_err_set(err, CM_EINVAL,
                              "s3 endpoint \"%.100s\": only scheme://host[:port] "
                              "is allowed",
                              ep);
    }
    *host = cm_strndup(h, n);
    if (*host == NULL)
        return cm_err_set(err, CM_ENOMEM, "s3: out of memory");
    return 0;
}

static bool region_ok(const char *r)
{
    size_t n = strlen(r);
    size_t i;

    if (n == 0 || n > 64)
        return false;
    for (i = 0; i < n; i++) {
        char c = r[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    }
    return true;
}

void s3_client_destroy(struct s3_client *c)
{
    if (c == NULL)
        return;
    if (c->tp != NULL && c->tp->destroy != NULL)
        c->tp->destroy(c->tp_ctx);
    s3_credentials_cleanup(&c->creds);
    cm_free(c->host);
    cm_free(c->vhost);
    cm_free(c->region);
    cm_free(c->bucket);
    cm_free(c);
}

int s3_client_create(const struct s3_config *cfg, struct s3_client **out, struct cm_err *err)
{
    struct s3_client *c = NULL;
    char def_ep[128];
    const char *ep;
    const char *region;
    size_t vlen;
    int rc;

    if (cfg == NULL || out == NULL)
        return cm_err_set(err, CM_EINVAL, "s3: no configuration");
    region = cfg->region != NULL && cfg->region[0] != '\0' ? cfg->region : "us-east-1";
    if (!region_ok(region))
        return cm_err_set(err, CM_EINVAL, "s3 region \"%.64s\": invalid", region);
    if (cfg->bucket == NULL || !bucket_name_ok(cfg->bucket))
        return cm_err_set(err, CM_EINVAL, "s3 bucket \"%.64s\": invalid name (3-63 of a-z 0-9 . -)",
                          cfg->bucket != NULL ? cfg->bucket : "");
    if (cfg->creds == NULL || cfg->creds->access_key == NULL || cfg->creds->secret_key == NULL)
        return cm_err_set(err, CM_EINVAL, "s3: credentials are required");
    if (cfg->part_size != 0 &&
        (cfg->part_size < S3_MIN_PART_SIZE || cfg->part_size > S3_MAX_PART_SIZE))
        return cm_err_set(err, CM_EINVAL, "s3 part_size %zu: must be within %zu..%zu",
                          cfg->part_size, S3_MIN_PART_SIZE, S3_MAX_PART_SIZE);
    if (cfg->max_attempts > S3_MAX_ATTEMPTS)
        return cm_err_set(err, CM_EINVAL, "s3 max_attempts %u: at most %d", cfg->max_attempts,
                          S3_MAX_ATTEMPTS);
    if (cfg->transport != NULL && cfg->transport->perform == NULL)
        return cm_err_set(err, CM_EINVAL, "s3: transport without perform()");
    c = cm_calloc(1, sizeof(*c));
    if (c == NULL)
        return cm_err_set(err, CM_ENOMEM, "s3: out of memory");
    ep = cfg->endpoint;
    if (ep == NULL || ep[0] == '\0') {
        (void)snprintf(def_ep, sizeof(def_ep), "https://s3.%s.amazonaws.com", region);
        ep = def_ep;
    }
    rc = parse_endpoint(ep, c->scheme, sizeof(c->scheme), &c->host, err);
    if (rc != 0)
        goto fail;
    c->region = cm_strdup(region);
    c->bucket = cm_strdup(cfg->bucket);
    vlen = strlen(cfg->bucket) + 1 + strlen(c->host) + 1;
    c->vhost = cm_malloc(vlen);
    if (c->region == NULL || c->bucket == NULL || c->vhost == NULL) {
        rc = cm_err_set(err, CM_ENOMEM, "s3: out of memory");
        goto fail;
    }
    (void)snprintf(c->vhost, vlen, "%s.%s", cfg->bucket, c->host);
    rc = s3_credentials_set(&c->creds, cfg->creds->access_key, cfg->creds->secret_key,
                            cfg->creds->session_token, err);
    if (rc != 0)
        goto fail;
    c->path_style = cfg->path_style;
    c->part_size = cfg->part_size ? cfg->part_size : S3_DEFAULT_PART_SIZE;
    c->max_parts = S3_MAX_PARTS;
    c->max_attempts = cfg->max_attempts ? cfg->max_attempts : S3_DEFAULT_ATTEMPTS;
    c->retry_base_ms = cfg->retry_base_ms ? cfg->retry_base_ms : S3_DEFAULT_RETRY_BASE_MS;
    c->retry_max_ms = cfg->retry_max_ms ? cfg->retry_max_ms : S3_DEFAULT_RETRY_MAX_MS;
    c->sleep = cfg->sleep ? cfg->sleep : default_sleep;
    c->sleep_ctx = cfg->sleep_ctx;
    c->rng = cfg->jitter_seed ? cfg->jitter_seed : (cm_time_mono_ns() | 1u);
    if (cfg->transport != NULL) {
        c->tp = cfg->transport;
        c->tp_ctx = cfg->transport_ctx;
    } else {
        struct s3_curl_opts o = {
            .ca_file = cfg->ca_file,
            .connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 10000,
            .stall_timeout_ms = cfg->stall_timeout_ms > 0 ? cfg->stall_timeout_ms : 60000,
        };

        rc = s3_curl_create(&o, &c->tp_ctx, err);
        if (rc != 0)
            goto fail;
        c->tp = &s3_curl_transport;
    }
    *out = c;
    return 0;
fail:
    /* The caller's transport context stays the caller's on failure. */
    c->tp = NULL;
    s3_client_destroy(c);
    return rc;
}

const char *s3_client_bucket(const struct s3_client *c)
{
    return c->bucket;
}

size_t s3_client_part_size_(const struct s3_client *c)
{
    return c->part_size;
}

const char *s3_client_region_(const struct s3_client *c)
{
    return c->region;
}

unsigned s3_client_max_parts_(const struct s3_client *c)
{
    return c->max_parts;
}

void s3_client_max_parts_set_(struct s3_client *c, unsigned n)
{
    c->max_parts = n >= 1 && n <= S3_MAX_PARTS ? n : S3_MAX_PARTS;
}

unsigned s3_client_attempts_(const struct s3_client *c)
{
    return c->max_attempts;
}

int s3_req_query(struct s3_req *r, const char *name, const char *value)
{
    if (CM_NEVER(r->n_query >= S3_REQ_MAX_QUERY))
        return CM_ETOOBIG;
    r->query[r->n_query].name = name;
    r->query[r->n_query].value = value != NULL ? value : "";
    r->n_query++;
    return 0;
}

int s3_req_header(struct s3_req *r, const char *name, const char *value)
{
    if (CM_NEVER(r->n_headers >= S3_REQ_MAX_HEADERS))
        return CM_ETOOBIG;
    r->headers[r->n_headers].name = name;
    r->headers[r->n_headers].value = value;
    r->n_headers++;
    return 0;
}

/* ---- one exchange ---- */

struct attempt {
    const struct s3_req *req;
    struct s3_resp *resp;
    long status;
    struct cm_buf errbody;
    uint64_t retry_after_ms;
    bool has_retry_after;
    int sink_rc;
};

static bool is_2xx(long s)
{
    return s >= 200 && s < 300;
}

static bool hdr_is(const char *n, size_t nl, const char *lit)
{
    size_t l = strlen(lit);

    return nl == l && strncasecmp(n, lit, l) == 0;
}

static void copy_val(char *dst, size_t cap, const char *v, size_t vl)
{
    if (vl >= cap)
        vl = cap - 1;
    memcpy(dst, v, vl);
    dst[vl] = '\0';
}

static int on_status(long status, void *ctx)
{
    struct attempt *a = ctx;

    a->status = status;
    a->resp->etag[0] = '\0';
    a->resp->version_id[0] = '\0';
    a->resp->has_content_length = false;
    a->has_retry_after = false;
    return 0;
}

static int on_header(const char *n, size_t nl, const char *v, size_t vl, void *ctx)
{
    struct attempt *a = ctx;
    uint64_t u;

    if (hdr_is(n, nl, "etag"))
        copy_val(a->resp->etag, sizeof(a->resp->etag), v, vl);
    else if (hdr_is(n, nl, "x-amz-version-id"))
        copy_val(a->resp->version_id, sizeof(a->resp->version_id), v, vl);
    else if (hdr_is(n, nl, "content-length") && cm_parse_u64(v, vl, &u) == 0) {
        a->resp->has_content_length = true;
        a->resp->content_length = u;
    } else if (hdr_is(n, nl, "retry-after")) {
        time_t t;

        /* Delay-seconds or an HTTP-date; the caller caps it at retry_max_ms. */
        if (cm_parse_u64(v, vl, &u) == 0) {
            a->has_retry_after = true;
            a->retry_after_ms = u > 86400 ? 86400000u : u * 1000u;
        } else if (s3_time_parse(v, vl, &t) == 0) {
            int64_t d = (int64_t)t * 1000 - cm_time_now_ms();

            a->has_retry_after = true;
            a->retry_after_ms = d <= 0 ? 0 : (d > 86400000 ? 86400000u : (uint64_t)d);
        }
    }
    if (is_2xx(a->status) && a->req->on_header != NULL)
        return a->req->on_header(n, nl, v, vl, a->req->header_ctx);
    return 0;
}

static int on_body(const void *p, size_t n, void *ctx)
{
    struct attempt *a = ctx;
    int rc;

    if (!is_2xx(a->status)) {
        size_t room = S3_MAX_ERROR_BODY - a->errbody.len;

        /* Only the start of an error body matters; the rest is dropped, not an error.
         * One that cannot be kept is: its S3 code decides what the caller does (a
         * NoSuchUpload is not a NoSuchKey), so a 404 without it must not pass. */
        if (n > room)
            n = room;
        if (n > 0 && cm_buf_add(&a->errbody, p, n) != 0) {
            a->sink_rc = CM_ENOMEM;
            return CM_ENOMEM;
        }
        return 0;
    }
    if (a->req->expect_status != 0 && a->status != a->req->expect_status) {
        a->sink_rc = CM_EPROTO;
        return CM_EPROTO;
    }
    if (a->req->sink != NULL) {
        rc = a->req->sink(p, n, a->req->sink_ctx);
        if (rc != 0) {
            a->sink_rc = rc;
            return rc;
        }
        a->resp->delivered += n;
        return 0;
    }
    rc = cm_buf_add(&a->resp->body, p, n);
    if (rc != 0)
        a->sink_rc = rc;
    return rc;
}

static uint64_t next_rand(struct s3_client *c)
{
    uint64_t x = c->rng;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c->rng = x;
    return x;
}

/* Backoff before retry number `retry` (1 = first retry): base * 2^(retry-1), capped,
 * with "equal jitter" (half fixed, half random), never below a Retry-After (itself
 * capped at retry_max_ms). */
static uint64_t backoff_ms(struct s3_client *c, unsigned retry, bool has_ra, uint64_t ra_ms)
{
    uint64_t d = c->retry_base_ms;
    unsigned i;

    for (i = 1; i < retry && d < c->retry_max_ms; i++)
        d *= 2;
    if (d > c->retry_max_ms)
        d = c->retry_max_ms;
    d = d / 2 + next_rand(c) % (d / 2 + 1);
    if (has_ra) {
        uint64_t r = ra_ms < c->retry_max_ms ? ra_ms : c->retry_max_ms;

        if (r > d)
            d = r;
    }
    return d;
}

void s3_client_backoff_(struct s3_client *c, unsigned retry)
{
    c->sleep(backoff_ms(c, retry, false, 0), c->sleep_ctx);
}

static bool retryable_status(long s)
{
    return s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

static bool retryable_rc(int rc)
{
    return rc == CM_ECONN || rc == CM_ETIMEDOUT || rc == CM_EPROTO;
}

/* "PUT bucket/key" (+ "?versionId=..") for messages. */
static void describe(const struct s3_client *c, const struct s3_req *r, char *out, size_t cap)
{
    const char *vid = NULL;
    size_t i;

    for (i = 0; i < r->n_query; i++) {
        if (strcmp(r->query[i].name, "versionId") == 0)
            vid = r->query[i].value;
    }
    (void)snprintf(out, cap, "%s %s%s%s%s%s", r->method, c->bucket, r->key ? "/" : "",
                   r->key ? r->key : "", vid ? "?versionId=" : "", vid ? vid : "");
}

static int map_error(const struct s3_client *c, const struct s3_req *r, long status,
                     const struct s3_error_info *ei, bool exhausted, struct cm_err *err)
{
    char what[200];
    char detail[400];
    const char *code = ei->code[0] ? ei->code : (status == 404 ? "NotFound" : "");
    int rc;

    describe(c, r, what, sizeof(what));
    (void)snprintf(detail, sizeof(detail), "%ld%s%s%s%s%s%s%s", status, code[0] ? " " : "", code,
                   ei->message[0] ? ": " : "", ei->message,
                   ei->request_id[0] ? " (request id " : "", ei->request_id,
                   ei->request_id[0] ? ")" : "");
    if (status == 403 && strcmp(code, "AccessDenied") == 0 && r->deny == S3_DENY_DELETE)
        return cm_err_set(err, CM_ELOCKED, "%.120s: retained by object lock (%s)", what, detail);
    if (status == 403 && strcmp(code, "AccessDenied") == 0 && r->deny == S3_DENY_RETENTION)
        return cm_err_set(err, CM_ELOCKED,
                          "%.120s: retention cannot be shortened or its mode "
                          "changed (%s)",
                          what, detail);
    if (status == 404)
        rc = CM_ENOENT;
    else if (status == 401 || status == 403)
        rc = CM_EAUTH;
    else if (status == 400 &&
             (strcmp(code, "BadDigest") == 0 || strcmp(code, "InvalidDigest") == 0 ||
              strcmp(code, "XAmzContentSHA256Mismatch") == 0))
        rc = CM_EINTEGRITY;
    else if (status == 409 && (strcmp(code, "BucketAlreadyOwnedByYou") == 0 ||
                               strcmp(code, "BucketAlreadyExists") == 0))
        rc = CM_EEXIST;
    else if (exhausted && retryable_status(status))
        rc = CM_EAGAIN;
    else
        rc = CM_EHTTP;
    if (exhausted && retryable_status(status))
        return cm_err_set(err, rc, "%.120s: %s, after %u attempts", what, detail, c->max_attempts);
    return cm_err_set(err, rc, "%.120s: %s", what, detail);
}

/* Builds the URL and the signed header list for one attempt. */
static int build_attempt(struct s3_client *c, const struct s3_req *r, const char *sha_hex,
                         const char *md5_b64, struct cm_buf *url, struct s3_kv *hdrs, size_t *nh,
                         char *auth, size_t auth_len, char amz_date[17], struct cm_err *err)
{
    const char *host = c->path_style ? c->host : c->vhost;
    struct cm_buf path;
    struct s3_sigv4_input in;
    size_t n = 0;
    size_t i;
    int rc;

    cm_buf_init(&path, S3_MAX_URL);
    rc = cm_buf_addc(&path, '/');
    if (rc == 0 && c->path_style) {
        rc = cm_buf_adds(&path, c->bucket);
        if (rc == 0 && r->key != NULL)
            rc = cm_buf_addc(&path, '/');
    }
    if (rc == 0 && r->key != NULL)
        rc = cm_buf_adds(&path, r->key);
    /* URL: scheme://host + encoded path + encoded query (the same encoding as SigV4). */
    rc = rc ? rc : cm_buf_addf(url, "%s://%s", c->scheme, host);
    rc = rc ? rc : s3_uri_encode(url, path.ptr, path.len, true);
    for (i = 0; rc == 0 && i < r->n_query; i++) {
        rc = cm_buf_addc(url, i == 0 ? '?' : '&');
        rc = rc ? rc : s3_uri_encode(url, r->query[i].name, strlen(r->query[i].name), false);
        rc = rc ? rc : cm_buf_addc(url, '=');
        rc = rc ? rc : s3_uri_encode(url, r->query[i].value, strlen(r->query[i].value), false);
    }
    if (rc != 0) {
        cm_buf_free(&path);
        return cm_err_set(err, rc == CM_ETOOBIG ? CM_ETOOBIG : rc, "s3: URL longer than %d bytes",
                          S3_MAX_URL);
    }
    s3_amz_date((time_t)(cm_time_now_ms() / 1000), amz_date);
    hdrs[n++] = (struct s3_kv){"Host", host};
    hdrs[n++] = (struct s3_kv){"x-amz-date", amz_date};
    /* radosgw requires x-amz-content-sha256 on every request; we always send the real
     * digest of the body (never UNSIGNED-PAYLOAD). */
    hdrs[n++] = (struct s3_kv){"x-amz-content-sha256", sha_hex};
    if (c->creds.session_token != NULL)
        hdrs[n++] = (struct s3_kv){"x-amz-security-token", c->creds.session_token};
    if (md5_b64 != NULL)
        hdrs[n++] = (struct s3_kv){"Content-MD5", md5_b64};
    for (i = 0; i < r->n_headers; i++)
        hdrs[n++] = r->headers[i];
    memset(&in, 0, sizeof(in));
    in.method = r->method;
    in.path = path.ptr;
    in.query = r->query;
    in.n_query = r->n_query;
    in.headers = hdrs;
    in.n_headers = n;
    in.payload_sha256_hex = sha_hex;
    in.amz_date = amz_date;
    in.region = c->region;
    in.service = "s3";
    in.access_key = c->creds.access_key;
    in.secret_key = c->creds.secret_key;
    rc = s3_sigv4_sign(&in, auth, auth_len, NULL, 0, err);
    cm_buf_free(&path);
    if (rc != 0)
        return rc;
    hdrs[n++] = (struct s3_kv){"Authorization", auth};
    *nh = n;
    return 0;
}

/* True when s is n characters of lowercase hex (hex) or of base64 with its padding. */
static bool digest_ok(const char *s, size_t n, bool hex)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

    if (strlen(s) != n)
        return false;
    return strspn(s, hex ? "0123456789abcdef" : b64) == n;
}

int s3_request(struct s3_client *c, const struct s3_req *r, struct s3_resp *resp,
               struct cm_err *err)
{
    struct s3_kv hdrs[S3_REQ_MAX_HEADERS + 8];
    char auth[512];
    char amz_date[17];
    char sha_hex[65];
    char md5_b64[25];
    const char *sha = r->body_sha256_hex;
    const char *md5 = NULL;
    bool want_md5 = strcmp(r->method, "PUT") == 0 || strcmp(r->method, "POST") == 0;
    unsigned attempt;
    struct cm_buf url;
    struct cm_err terr;
    int rc = 0;

    memset(resp, 0, sizeof(*resp));
    cm_buf_init(&resp->body, S3_MAX_XML_BYTES);
    cm_buf_init(&url, S3_MAX_URL);
    /* Precomputed digests are taken as given (the caller vouches for them, and the
     * server checks them); a malformed one is a programmer error, refused before any
     * byte leaves so it can never become a broken header. */
    if (CM_NEVER(sha != NULL && !digest_ok(sha, 64, true)) ||
        CM_NEVER(want_md5 && r->body_md5_b64 != NULL && !digest_ok(r->body_md5_b64, 24, false))) {
        cm_buf_free(&url);
        cm_buf_free(&resp->body);
        return cm_err_set(err, CM_EINVAL, "s3: malformed precomputed body digest");
    }
    if (sha == NULL) {
        s3_sha256_hex(r->body, r->body_len, sha_hex);
        sha = sha_hex;
    }
    /* Content-MD5 on every PUT and POST (AWS requires it with Object Lock; radosgw
     * verifies it when present). */
    if (want_md5) {
        md5 = r->body_md5_b64;
        if (md5 == NULL) {
            s3_md5_base64(r->body, r->body_len, md5_b64);
            md5 = md5_b64;
        }
    }
    for (attempt = 1;; attempt++) {
        struct attempt a;
        struct s3_http_request hr;
        struct s3_http_response hs;
        size_t nh = 0;
        bool last = attempt >= c->max_attempts;
        bool retry = false;
        uint64_t t0;

        memset(&a, 0, sizeof(a));
        a.req = r;
        a.resp = resp;
        resp->attempts = attempt;
        cm_buf_init(&a.errbody, S3_MAX_ERROR_BODY);
        cm_buf_reset(&resp->body);
        cm_buf_reset(&url);
        cm_err_clear(&terr);
        rc = build_attempt(c, r, sha, md5, &url, hdrs, &nh, auth, sizeof(auth), amz_date, err);
        if (rc != 0)
            break;
        memset(&hr, 0, sizeof(hr));
        hr.method = r->method;
        hr.url = url.ptr;
        hr.headers = hdrs;
        hr.n_headers = nh;
        hr.body = r->body;
        hr.body_len = r->body_len;
        hs.on_header = on_header;
        hs.on_status = on_status;
        hs.on_body = on_body;
        hs.ctx = &a;
        t0 = cm_time_mono_ns();
        rc = c->tp->perform(c->tp_ctx, &hr, &hs, &terr);
        cm_memzero_secure(auth, sizeof(auth));
        if (cm_log_enabled(CM_LOG_DEBUG))
            cm_log(CM_LOG_DEBUG, "s3", "request", CM_LS("op", r->method),
                   CM_LS("bucket", c->bucket), CM_LS("key", r->key), CM_LI("status", a.status),
                   CM_LI("attempt", attempt), CM_LS("err", rc != 0 ? cm_errname(rc) : NULL),
                   CM_LI("duration_ms", (long long)((cm_time_mono_ns() - t0) / 1000000u)));
        if (a.sink_rc != 0) {
            char what[200];

            rc = a.sink_rc;
            describe(c, r, what, sizeof(what));
            if (rc == CM_ETOOBIG && r->sink == NULL)
                cm_err_set(err, rc, "%.120s: response body larger than %u bytes", what,
                           S3_MAX_XML_BYTES);
            else if (rc == CM_ENOMEM && (r->sink == NULL || !is_2xx(a.status)))
                cm_err_set(err, rc, "%.120s: out of memory reading the response", what);
            else if (rc == CM_EPROTO && r->expect_status != 0 && a.status != r->expect_status)
                cm_err_set(err, rc, "%.120s: expected HTTP %ld, got %ld", what, r->expect_status,
                           a.status);
            else
                cm_err_set(err, rc, "%.120s: stopped by the receiver: %s", what, cm_strerror(rc));
            cm_buf_free(&a.errbody);
            break;
        }
        if (rc != 0) {
            char what[200];

            describe(c, r, what, sizeof(what));
            if (retryable_rc(rc) && !last && resp->delivered == 0) {
                retry = true;
                cm_log(CM_LOG_WARN, "s3", "request failed, retrying", CM_LS("op", r->method),
                       CM_LS("bucket", c->bucket), CM_LS("key", r->key), CM_LS("err", terr.msg),
                       CM_LI("attempt", attempt));
            } else {
                resp->resumable = retryable_rc(rc) && resp->delivered > 0;
                cm_err_set(err, rc, "%.120s: %s%s", what, terr.msg,
                           resp->delivered > 0 ? " (after part of the body was delivered)" : "");
            }
        } else if (a.status == 0) {
            rc = cm_err_set(err, CM_EPROTO, "s3: transport returned no HTTP status");
        } else if (!is_2xx(a.status)) {
            struct s3_error_info ei;

            s3_error_parse(a.errbody.ptr, a.errbody.len, &ei);
            if (retryable_status(a.status) && !last && resp->delivered == 0) {
                retry = true;
                cm_log(CM_LOG_WARN, "s3", "server busy, retrying", CM_LS("op", r->method),
                       CM_LS("bucket", c->bucket), CM_LS("key", r->key), CM_LI("status", a.status),
                       CM_LS("s3_code", ei.code), CM_LI("attempt", attempt));
            } else if (ei.is_oom) {
                char what[200];

                describe(c, r, what, sizeof(what));
                rc = cm_err_set(err, CM_ENOMEM, "%.120s: %ld, out of memory reading the error",
                                what, a.status);
            } else {
                resp->status = a.status;
                (void)snprintf(resp->s3_code, sizeof(resp->s3_code), "%s", ei.code);
                rc = map_error(c, r, a.status, &ei, retryable_status(a.status), err);
            }
        } else if (r->expect_status != 0 && a.status != r->expect_status) {
            char what[200];

            describe(c, r, what, sizeof(what));
            rc = cm_err_set(err, CM_EPROTO, "%.120s: expected HTTP %ld, got %ld", what,
                            r->expect_status, a.status);
        } else {
            resp->status = a.status;
        }
        cm_buf_free(&a.errbody);
        if (!retry)
            break;
        c->sleep(backoff_ms(c, attempt, a.has_retry_after, a.retry_after_ms), c->sleep_ctx);
    }
    cm_buf_free(&url);
    if (rc != 0)
        cm_buf_free(&resp->body);
    return rc;
}
