/* SPDX-License-Identifier: Apache-2.0 */
/* s3_object.c - object operations: PUT from memory with Content-MD5 and Object Lock
 * headers, streaming GET, HEAD, retention, legal hold and versioned DELETE. */
#include "backup/s3/s3_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define S3_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"

int s3_key_check(const char *key, struct cm_err *err)
{
    size_t n;
    size_t i;

    if (key == NULL || key[0] == '\0')
        return cm_err_set(err, CM_EINVAL, "s3: empty object key");
    n = strlen(key);
    if (n > S3_MAX_KEY)
        return cm_err_set(err, CM_EINVAL, "s3: object key longer than %d bytes", S3_MAX_KEY);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)key[i];

        if (c < 0x20 || c == 0x7f)
            return cm_err_set(err, CM_EINVAL, "s3: object key with a control character");
    }
    return 0;
}

static bool header_value_ok(const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c < 0x20 || c > 0x7e)
            return false;
    }
    return true;
}

static bool version_ok(const char *v)
{
    return v == NULL || (v[0] != '\0' && strlen(v) <= S3_MAX_VERSION_ID && header_value_ok(v));
}

int s3_put_opts_check(const struct s3_put_opts *opts, struct cm_err *err)
{
    size_t i;

    if (opts == NULL)
        return 0;
    if (opts->lock_mode != S3_LOCK_NONE && opts->lock_mode != S3_LOCK_GOVERNANCE &&
        opts->lock_mode != S3_LOCK_COMPLIANCE)
        return cm_err_set(err, CM_EINVAL, "s3: unknown lock mode %d", (int)opts->lock_mode);
    if (opts->lock_mode != S3_LOCK_NONE && opts->retain_until <= 0)
        return cm_err_set(err, CM_EINVAL, "s3: a %s lock needs a retain-until date",
                          s3_lock_mode_name(opts->lock_mode));
    if (opts->n_meta > S3_MAX_META || (opts->n_meta > 0 && opts->meta == NULL))
        return cm_err_set(err, CM_EINVAL, "s3: at most %d metadata entries", S3_MAX_META);
    for (i = 0; i < opts->n_meta; i++) {
        const char *n = opts->meta[i].name;
        size_t j;

        if (n[0] == '\0' || memchr(n, '\0', S3_MAX_META_NAME + 1) == NULL)
            return cm_err_set(err, CM_EINVAL, "s3: empty or unterminated metadata name");
        for (j = 0; n[j] != '\0'; j++) {
            char c = n[j];

            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
                return cm_err_set(err, CM_EINVAL, "s3: metadata name \"%.64s\": use a-z 0-9 - _",
                                  n);
        }
        if (memchr(opts->meta[i].value, '\0', S3_MAX_META_VALUE + 1) == NULL ||
            !header_value_ok(opts->meta[i].value))
            return cm_err_set(err, CM_EINVAL,
                              "s3: metadata \"%.64s\": value must be printable "
                              "ASCII",
                              n);
    }
    if (opts->content_type != NULL &&
        (strlen(opts->content_type) > 255 || !header_value_ok(opts->content_type)))
        return cm_err_set(err, CM_EINVAL, "s3: bad content type");
    return 0;
}

int s3_req_put_headers(struct s3_req *r, const struct s3_put_opts *opts, char lock_date[32],
                       char (*meta_names)[S3_MAX_META_NAME + 12], struct cm_err *err)
{
    size_t i;
    int rc;

    rc = s3_put_opts_check(opts, err);
    if (rc != 0)
        return rc;
    rc = s3_req_header(r, "Content-Type",
                       opts != NULL && opts->content_type != NULL ? opts->content_type
                                                                  : "application/octet-stream");
    if (opts == NULL || rc != 0)
        goto out;
    if (opts->lock_mode != S3_LOCK_NONE) {
        cm_time_format(opts->retain_until, lock_date, 32);
        rc = s3_req_header(r, "x-amz-object-lock-mode", s3_lock_mode_name(opts->lock_mode));
        rc = rc ? rc : s3_req_header(r, "x-amz-object-lock-retain-until-date", lock_date);
    }
    if (rc == 0 && opts->legal_hold)
        rc = s3_req_header(r, "x-amz-object-lock-legal-hold", "ON");
    for (i = 0; rc == 0 && i < opts->n_meta; i++) {
        (void)snprintf(meta_names[i], S3_MAX_META_NAME + 12, "x-amz-meta-%s", opts->meta[i].name);
        rc = s3_req_header(r, meta_names[i], opts->meta[i].value);
    }
out:
    if (rc != 0)
        return cm_err_set(err, rc, "s3: too many request headers");
    return 0;
}

int s3_client_put_object(struct s3_client *c, const char *key, const void *data, size_t len,
                         const struct s3_put_opts *opts, struct s3_put_result *out,
                         struct cm_err *err)
{
    return s3_client_put_object_hashed(c, key, data, len, opts, NULL, NULL, out, err);
}

int s3_client_put_object_hashed(struct s3_client *c, const char *key, const void *data, size_t len,
                                const struct s3_put_opts *opts, const char *sha256_hex,
                                const char *md5_b64, struct s3_put_result *out, struct cm_err *err)
{
    struct s3_req r;
    struct s3_resp resp;
    char lock_date[32];
    char meta_names[S3_MAX_META][S3_MAX_META_NAME + 12];
    int rc;

    rc = s3_key_check(key, err);
    if (rc != 0)
        return rc;
    if (data == NULL && len > 0)
        return cm_err_set(err, CM_EINVAL, "s3: no data");
    memset(&r, 0, sizeof(r));
    r.method = "PUT";
    r.key = key;
    r.body = data;
    r.body_len = len;
    r.body_sha256_hex = sha256_hex;
    r.body_md5_b64 = md5_b64;
    rc = s3_req_put_headers(&r, opts, lock_date, meta_names, err);
    if (rc != 0)
        return rc;
    rc = s3_request(c, &r, &resp, err);
    if (rc != 0)
        return rc;
    if (out != NULL) {
        memset(out, 0, sizeof(*out));
        memcpy(out->etag, resp.etag, sizeof(out->etag));
        memcpy(out->version_id, resp.version_id, sizeof(out->version_id));
        if (sha256_hex != NULL)
            (void)snprintf(out->sha256_hex, sizeof(out->sha256_hex), "%s", sha256_hex);
        else
            s3_sha256_hex(data, len, out->sha256_hex);
        out->size = len;
    }
    cm_buf_free(&resp.body);
    return 0;
}

/* ---- object info from response headers ---- */

static bool hname(const char *n, size_t nl, const char *lit)
{
    size_t l = strlen(lit);

    return nl == l && strncasecmp(n, lit, l) == 0;
}

static void hcopy(char *dst, size_t cap, const char *v, size_t vl)
{
    if (vl >= cap)
        vl = cap - 1;
    memcpy(dst, v, vl);
    dst[vl] = '\0';
}

/* Header parsing state: the object's size comes from Content-Range when there is one
 * (a range or resumed GET), whatever the order of the headers. */
struct info_ctx {
    struct s3_object_info *info;
    bool size_from_range;
};

static int info_header(const char *n, size_t nl, const char *v, size_t vl, void *ctx)
{
    struct info_ctx *ic = ctx;
    struct s3_object_info *info = ic->info;
    uint64_t u;
    time_t t;

    if (hname(n, nl, "content-length")) {
        if (!ic->size_from_range && cm_parse_u64(v, vl, &u) == 0)
            info->size = u;
    } else if (hname(n, nl, "content-range")) {
        /* "bytes 0-9/443": the object's full size is after '/'. */
        const char *slash = memchr(v, '/', vl);

        if (slash != NULL && cm_parse_u64(slash + 1, vl - (size_t)(slash + 1 - v), &u) == 0) {
            info->size = u;
            ic->size_from_range = true;
        }
    } else if (hname(n, nl, "etag")) {
        hcopy(info->etag, sizeof(info->etag), v, vl);
    } else if (hname(n, nl, "x-amz-version-id")) {
        hcopy(info->version_id, sizeof(info->version_id), v, vl);
    } else if (hname(n, nl, "content-type")) {
        hcopy(info->content_type, sizeof(info->content_type), v, vl);
    } else if (hname(n, nl, "last-modified")) {
        if (s3_time_parse(v, vl, &t) == 0)
            info->last_modified = t;
    } else if (hname(n, nl, "x-amz-object-lock-mode")) {
        enum s3_lock_mode m;

        if (s3_lock_mode_parse(v, vl, &m) == 0)
            info->lock_mode = m;
    } else if (hname(n, nl, "x-amz-object-lock-retain-until-date")) {
        if (s3_time_parse(v, vl, &t) == 0)
            info->retain_until = t;
    } else if (hname(n, nl, "x-amz-object-lock-legal-hold")) {
        info->legal_hold = vl == 2 && strncasecmp(v, "ON", 2) == 0;
    } else if (nl > 11 && strncasecmp(n, "x-amz-meta-", 11) == 0 && nl - 11 <= S3_MAX_META_NAME) {
        char name[S3_MAX_META_NAME + 1];
        size_t i;
        size_t slot;

        for (i = 0; i < nl - 11; i++) {
            char ch = n[11 + i];

            name[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
        }
        name[nl - 11] = '\0';
        /* A retried GET delivers the headers again: replace, never duplicate. */
        for (slot = 0; slot < info->n_meta; slot++) {
            if (strcmp(info->meta[slot].name, name) == 0)
                break;
        }
        if (slot == info->n_meta) {
            if (info->n_meta == S3_MAX_META)
                return 0;
            info->n_meta++;
        }
        memcpy(info->meta[slot].name, name, nl - 11 + 1);
        hcopy(info->meta[slot].value, sizeof(info->meta[slot].value), v, vl);
    }
    return 0;
}

static int add_version(struct s3_req *r, const char *version_id, struct cm_err *err)
{
    if (!version_ok(version_id))
        return cm_err_set(err, CM_EINVAL, "s3: bad version id");
    if (version_id != NULL && s3_req_query(r, "versionId", version_id) != 0)
        return cm_err_set(err, CM_ETOOBIG, "s3: too many query parameters");
    return 0;
}

/* One GET segment from absolute offset `first` (to `last`, or to the end when !bounded). */
static int get_segment(struct s3_client *c, const char *key, const char *version_id, bool ranged,
                       uint64_t first, bool bounded, uint64_t last, const char *if_match,
                       s3_write_fn write, void *ctx, struct info_ctx *ic, struct s3_resp *resp,
                       struct cm_err *err)
{
    struct s3_req r;
    char range_hdr[64];
    int rc;

    memset(&r, 0, sizeof(r));
    r.method = "GET";
    r.key = key;
    rc = add_version(&r, version_id, err);
    if (rc != 0)
        return rc;
    if (ranged) {
        if (bounded)
            (void)snprintf(range_hdr, sizeof(range_hdr), "bytes=%llu-%llu",
                           (unsigned long long)first, (unsigned long long)last);
        else
            (void)snprintf(range_hdr, sizeof(range_hdr), "bytes=%llu-", (unsigned long long)first);
        (void)s3_req_header(&r, "Range", range_hdr);
    }
    if (if_match != NULL) {
        /* A resumed download must continue the same bytes: if the object changed in
         * between, the server answers 412 instead of mixing two objects. */
        (void)s3_req_header(&r, "If-Match", if_match);
        r.expect_status = 206;
    }
    r.sink = write;
    r.sink_ctx = ctx;
    r.on_header = info_header;
    r.header_ctx = ic;
    rc = s3_request(c, &r, resp, err);
    if (rc != 0)
        return rc;
    cm_buf_free(&resp->body);
    if (resp->has_content_length && resp->delivered != resp->content_length) {
        /* The server closed cleanly but early: as resumable as a reset. */
        resp->resumable = resp->delivered > 0 && resp->delivered < resp->content_length;
        return cm_err_set(err, CM_EPROTO, "GET %s/%s: body of %llu bytes, Content-Length %llu",
                          s3_client_bucket(c), key, (unsigned long long)resp->delivered,
                          (unsigned long long)resp->content_length);
    }
    return 0;
}

int s3_client_get_object(struct s3_client *c, const char *key, const char *version_id,
                         const struct s3_range *range, s3_write_fn write, void *ctx,
                         struct s3_object_info *info, struct cm_err *err)
{
    struct s3_object_info *tmp = NULL;
    struct info_ctx ic;
    char if_match[S3_MAX_ETAG + 1] = "";
    uint64_t done = 0;
    unsigned resumes = 0;
    int rc;

    rc = s3_key_check(key, err);
    if (rc != 0)
        return rc;
    if (write == NULL)
        return cm_err_set(err, CM_EINVAL, "s3: no write callback");
    if (range != NULL && range->first > range->last)
        return cm_err_set(err, CM_EINVAL, "s3: empty byte range");
    tmp = cm_calloc(1, sizeof(*tmp));
    if (tmp == NULL)
        return cm_err_set(err, CM_ENOMEM, "s3: out of memory");
    ic.info = tmp;
    ic.size_from_range = false;
    for (;;) {
        struct s3_resp resp;
        uint64_t first = (range != NULL ? range->first : 0) + done;

        memset(&resp, 0, sizeof(resp));
        rc = get_segment(c, key, version_id, range != NULL || done > 0, first, range != NULL,
                         range != NULL ? range->last : 0, done > 0 ? if_match : NULL, write, ctx,
                         &ic, &resp, err);
        if (rc == 0)
            break;
        /* A reset after part of the body reached the caller: continue from the next
         * byte with Range (+ If-Match on the first ETag), within the attempt budget. */
        if (!resp.resumable || resumes + 1 >= s3_client_attempts_(c))
            break;
        if (done == 0) {
            if (tmp->etag[0] == '\0')
                break; /* nothing to pin the object with: do not risk mixing versions */
            memcpy(if_match, tmp->etag, sizeof(if_match));
        }
        done += resp.delivered;
        resumes++;
        cm_log(CM_LOG_WARN, "s3", "download interrupted, resuming", CM_LS("op", "GET"),
               CM_LS("bucket", s3_client_bucket(c)), CM_LS("key", key),
               CM_LI("offset", (long long)((range != NULL ? range->first : 0) + done)),
               CM_LI("attempt", resumes + 1));
        s3_client_backoff_(c, resumes);
    }
    if (rc == 0 && info != NULL)
        *info = *tmp;
    cm_free(tmp);
    return rc;
}

struct mem_sink {
    struct cm_buf b;
};

static int mem_write(const void *p, size_t n, void *ctx)
{
    struct mem_sink *m = ctx;

    return cm_buf_add(&m->b, p, n);
}

int s3_client_get_object_mem(struct s3_client *c, const char *key, const char *version_id,
                             size_t max, char **out, size_t *out_len, struct s3_object_info *info,
                             struct cm_err *err)
{
    struct mem_sink m;
    size_t len = 0;
    char *p;
    int rc;

    cm_buf_init(&m.b, max);
    rc = s3_client_get_object(c, key, version_id, NULL, mem_write, &m, info, err);
    if (rc == CM_ETOOBIG)
        cm_err_set(err, CM_ETOOBIG, "GET %s/%s: object larger than %zu bytes", s3_client_bucket(c),
                   key, max);
    if (rc != 0) {
        cm_buf_free(&m.b);
        return rc;
    }
    p = cm_buf_take(&m.b, &len);
    if (p == NULL)
        return cm_err_set(err, CM_ENOMEM, "s3: out of memory");
    *out = p;
    *out_len = len;
    return 0;
}

int s3_client_head_object(struct s3_client *c, const char *key, const char *version_id,
                          struct s3_object_info *info, struct cm_err *err)
{
    struct s3_req r;
    struct s3_resp resp;
    struct s3_object_info tmp;
    struct info_ctx ic;
    int rc;

    rc = s3_key_check(key, err);
    if (rc != 0)
        return rc;
    memset(&r, 0, sizeof(r));
    memset(&tmp, 0, sizeof(tmp));
    r.method = "HEAD";
    r.key = key;
    rc = add_version(&r, version_id, err);
    if (rc != 0)
        return rc;
    ic.info = &tmp;
    ic.size_from_range = false;
    r.on_header = info_header;
    r.header_ctx = &ic;
    rc = s3_request(c, &r, &resp, err);
    if (rc != 0)
        return rc;
    cm_buf_free(&resp.body);
    if (info != NULL)
        *info = tmp;
    return 0;
}

/* GET of a sub-resource (?retention, ?legal-hold) of a version into resp. */
static int get_sub(struct s3_client *c, const char *key, const char *version_id, const char *sub,
                   struct s3_resp *resp, struct cm_err *err)
{
    struct s3_req r;
    int rc;

    rc = s3_key_check(key, err);
    if (rc != 0)
        return rc;
    memset(&r, 0, sizeof(r));
    r.method = "GET";
    r.key = key;
    (void)s3_req_query(&r, sub, "");
    rc = add_version(&r, version_id, err);
    if (rc != 0)
        return rc;
    return s3_request(c, &r, resp, err);
}

int s3_client_get_retention(struct s3_client *c, const char *key, const char *version_id,
                            enum s3_lock_mode *mode, time_t *retain_until, struct cm_err *err)
{
    struct s3_resp resp;
    int rc = get_sub(c, key, version_id, "retention", &resp, err);

    if (rc != 0)
        return rc;
    rc = s3_parse_retention(resp.body.ptr, resp.body.len, mode, retain_until, err);
    if (rc != 0)
        cm_err_prefix(err, "GET %s/%s?retention", s3_client_bucket(c), key);
    cm_buf_free(&resp.body);
    return rc;
}

int s3_client_get_legal_hold(struct s3_client *c, const char *key, const char *version_id, bool *on,
                             struct cm_err *err)
{
    struct s3_resp resp;
    int rc = get_sub(c, key, version_id, "legal-hold", &resp, err);

    if (rc != 0)
        return rc;
    rc = s3_parse_legal_hold(resp.body.ptr, resp.body.len, on, err);
    if (rc != 0)
        cm_err_prefix(err, "GET %s/%s?legal-hold", s3_client_bucket(c), key);
    cm_buf_free(&resp.body);
    return rc;
}

/* PUT of a small XML sub-resource document. */
static int put_sub(struct s3_client *c, const char *key, const char *version_id, const char *sub,
                   const char *xml, bool bypass, enum s3_deny_kind deny, struct cm_err *err)
{
    struct s3_req r;
    struct s3_resp resp;
    int rc;

    rc = s3_key_check(key, err);
    if (rc != 0)
        return rc;
    memset(&r, 0, sizeof(r));
    r.method = "PUT";
    r.key = key;
    r.deny = deny;
    r.body = (const unsigned char *)xml;
    r.body_len = strlen(xml);
    (void)s3_req_query(&r, sub, "");
    rc = add_version(&r, version_id, err);
    if (rc != 0)
        return rc;
    (void)s3_req_header(&r, "Content-Type", "application/xml");
    if (bypass)
        (void)s3_req_header(&r, "x-amz-bypass-governance-retention", "true");
    rc = s3_request(c, &r, &resp, err);
    if (rc == 0)
        cm_buf_free(&resp.body);
    return rc;
}

int s3_client_put_retention(struct s3_client *c, const char *key, const char *version_id,
                            enum s3_lock_mode mode, time_t retain_until, bool bypass_governance,
                            struct cm_err *err)
{
    char date[32];
    char xml[256];

    if (mode != S3_LOCK_GOVERNANCE && mode != S3_LOCK_COMPLIANCE)
        return cm_err_set(err, CM_EINVAL, "s3: retention needs GOVERNANCE or COMPLIANCE");
    if (retain_until <= 0)
        return cm_err_set(err, CM_EINVAL, "s3: retention needs a retain-until date");
    cm_time_format(retain_until, date, sizeof(date));
    (void)snprintf(xml, sizeof(xml),
                   "<Retention xmlns=\"" S3_XMLNS "\"><Mode>%s</Mode>"
                   "<RetainUntilDate>%s</RetainUntilDate></Retention>",
                   s3_lock_mode_name(mode), date);
    return put_sub(c, key, version_id, "retention", xml, bypass_governance, S3_DENY_RETENTION, err);
}

int s3_client_put_legal_hold(struct s3_client *c, const char *key, const char *version_id, bool on,
                             struct cm_err *err)
{
    char xml[160];

    (void)snprintf(xml, sizeof(xml),
                   "<LegalHold xmlns=\"" S3_XMLNS "\"><Status>%s</Status></LegalHold>",
                   on ? "ON" : "OFF");
    return put_sub(c, key, version_id, "legal-hold", xml, false, S3_DENY_AUTH, err);
}

int s3_client_delete_object(struct s3_client *c, const char *key, const char *version_id,
                            bool bypass_governance, struct cm_err *err)
{
    struct s3_req r;
    struct s3_resp resp;
    int rc;

    rc = s3_key_check(key, err);
    if (rc != 0)
        return rc;
    memset(&r, 0, sizeof(r));
    r.method = "DELETE";
    r.key = key;
    /* Only a versioned delete can hit a lock; without a version S3 adds a marker. */
    r.deny = version_id != NULL ? S3_DENY_DELETE : S3_DENY_AUTH;
    rc = add_version(&r, version_id, err);
    if (rc != 0)
        return rc;
    if (bypass_governance)
        (void)s3_req_header(&r, "x-amz-bypass-governance-retention", "true");
    rc = s3_request(c, &r, &resp, err);
    if (rc == CM_ENOENT &&
        (strcmp(resp.s3_code, "NoSuchKey") == 0 || strcmp(resp.s3_code, "NoSuchVersion") == 0)) {
        cm_err_clear(err);
        return 0;
    }
    if (rc == 0)
        cm_buf_free(&resp.body);
    return rc;
}
