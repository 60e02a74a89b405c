/* SPDX-License-Identifier: Apache-2.0 */
/* s3_parse.c - pure parsers of S3 response bodies (errors, versioning, Object Lock
 * configuration, retention, legal hold, multipart results, listing pages) and of the
 * timestamps S3 sends. Every function takes (ptr, len) from the network: hostile. */
#include "backup/s3/s3_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int month_of(const char *m)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int i;

    for (i = 0; i < 12; i++) {
        if (memcmp(names + 3 * i, m, 3) == 0)
            return i + 1;
    }
    return 0;
}

static bool digits(const char *s, size_t n, int *out)
{
    size_t i;
    int v = 0;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

int s3_time_parse(const char *s, size_t n, time_t *out)
{
    int day;
    int mon;
    int year;
    int hh;
    int mm;
    int ss;

    if (n > 0 && s[0] >= '0' && s[0] <= '9')
        return cm_time_parse(s, n, out);
    /* RFC 1123: "Sun, 22 Nov 2026 09:30:00 GMT" (29 bytes). */
    if (n != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
        s[19] != ':' || s[22] != ':' || s[25] != ' ' || memcmp(s + 26, "GMT", 3) != 0)
        return CM_EPARSE;
    mon = month_of(s + 8);
    if (mon == 0 || !digits(s + 5, 2, &day) || !digits(s + 12, 4, &year) ||
        !digits(s + 17, 2, &hh) || !digits(s + 20, 2, &mm) || !digits(s + 23, 2, &ss))
        return CM_EPARSE;
    if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
        return CM_EPARSE;
    *out = cm_time_from_utc(year, mon, day, hh, mm, ss);
    return 0;
}

void s3_error_parse(const char *body, size_t len, struct s3_error_info *out)
{
    struct s3_xml *x = NULL;
    const struct s3_xml_node *root;
    int rc;

    memset(out, 0, sizeof(*out));
    if (body == NULL || len == 0)
        return;
    rc = s3_xml_parse(body, len, &x, NULL);
    if (rc != 0) {
        out->is_oom = rc == CM_ENOMEM;
        return;
    }
    root = s3_xml_root(x);
    if (s3_xml_is(root, "Error")) {
        /* Too-long values are cut, not dropped: the start is what a human needs. */
        const struct s3_xml_node *c = s3_xml_child(x, root, "Code");
        const struct s3_xml_node *m = s3_xml_child(x, root, "Message");
        const struct s3_xml_node *r = s3_xml_child(x, root, "RequestId");

        if (c != NULL)
            (void)snprintf(out->code, sizeof(out->code), "%.*s", (int)c->text_len, c->text);
        if (m != NULL)
            (void)snprintf(out->message, sizeof(out->message), "%.*s", (int)m->text_len, m->text);
        if (r != NULL)
            (void)snprintf(out->request_id, sizeof(out->request_id), "%.*s", (int)r->text_len,
                           r->text);
    }
    s3_xml_destroy(x);
}

/* Parses body and checks the root element name. */
static int parse_root(const char *body, size_t len, const char *root_name, struct s3_xml **x,
                      const struct s3_xml_node **root, struct cm_err *err)
{
    int rc = s3_xml_parse(body, len, x, err);

    if (rc != 0)
        return rc;
    *root = s3_xml_root(*x);
    if (!s3_xml_is(*root, root_name)) {
        s3_xml_destroy(*x);
        *x = NULL;
        return cm_err_set(err, CM_EPROTO, "expected <%s> in the response", root_name);
    }
    return 0;
}

int s3_parse_versioning(const char *body, size_t len, enum s3_versioning *out, struct cm_err *err)
{
    struct s3_xml *x = NULL;
    const struct s3_xml_node *root;
    const struct s3_xml_node *st;
    int rc = parse_root(body, len, "VersioningConfiguration", &x, &root, err);

    if (rc != 0)
        return rc;
    st = s3_xml_child(x, root, "Status");
    if (st == NULL)
        *out = S3_VERSIONING_NONE;
    else if (s3_xml_text_is(st, "Enabled"))
        *out = S3_VERSIONING_ENABLED;
    else if (s3_xml_text_is(st, "Suspended"))
        *out = S3_VERSIONING_SUSPENDED;
    else
        rc = cm_err_set(err, CM_EPROTO, "unknown versioning status");
    s3_xml_destroy(x);
    return rc;
}

static int parse_uint(const struct s3_xml_node *n, unsigned max, unsigned *out)
{
    uint64_t v;

    if (n == NULL) {
        *out = 0;
        return 0;
    }
    if (cm_parse_u64(n->text, n->text_len, &v) != 0 || v > max)
        return CM_EPROTO;
    *out = (unsigned)v;
    return 0;
}

int s3_parse_lock_config(const char *body, size_t len, struct s3_lock_config *out,
                         struct cm_err *err)
{
    struct s3_xml *x = NULL;
    const struct s3_xml_node *root;
    const struct s3_xml_node *dr;
    struct s3_lock_config cfg;
    int rc = parse_root(body, len, "ObjectLockConfiguration", &x, &root, err);

    if (rc != 0)
        return rc;
    memset(&cfg, 0, sizeof(cfg));
    cfg.enabled = s3_xml_text_is(s3_xml_child(x, root, "ObjectLockEnabled"), "Enabled");
    dr = s3_xml_child(x, s3_xml_child(x, root, "Rule"), "DefaultRetention");
    if (dr != NULL) {
        const struct s3_xml_node *parent = dr;
        const struct s3_xml_node *mode = s3_xml_child(x, parent, "Mode");

        if (mode != NULL &&
            s3_lock_mode_parse(mode->text, mode->text_len, &cfg.default_mode) != 0) {
            rc = cm_err_set(err, CM_EPROTO, "unknown default retention mode");
            goto cleanup;
        }
        if (parse_uint(s3_xml_child(x, parent, "Days"), 36500, &cfg.default_days) != 0 ||
            parse_uint(s3_xml_child(x, parent, "Years"), 100, &cfg.default_years) != 0) {
            rc = cm_err_set(err, CM_EPROTO, "bad default retention period");
            goto cleanup;
        }
    }
    *out = cfg;
cleanup:
    s3_xml_destroy(x);
    return rc;
}

int s3_parse_retention(const char *body, size_t len, enum s3_lock_mode *mode, time_t *until,
                       struct cm_err *err)
{
    struct s3_xml *x = NULL;
    const struct s3_xml_node *root;
    const struct s3_xml_node *m;
    const struct s3_xml_node *d;
    enum s3_lock_mode mv;
    time_t t;
    int rc = parse_root(body, len, "Retention", &x, &root, err);

    if (rc != 0)
        return rc;
    m = s3_xml_child(x, root, "Mode");
    d = s3_xml_child(x, root, "RetainUntilDate");
    if (m == NULL || d == NULL || s3_lock_mode_parse(m->text, m->text_len, &mv) != 0 ||
        s3_time_parse(d->text, d->text_len, &t) != 0) {
        rc = cm_err_set(err, CM_EPROTO, "retention without a valid Mode and RetainUntilDate");
        goto cleanup;
    }
    *mode = mv;
    *until = t;
cleanup:
    s3_xml_destroy(x);
    return rc;
}

int s3_parse_legal_hold(const char *body, size_t len, bool *on, struct cm_err *err)
{
    struct s3_xml *x = NULL;
    const struct s3_xml_node *root;
    const struct s3_xml_node *st;
    int rc = parse_root(body, len, "LegalHold", &x, &root, err);

    if (rc != 0)
        return rc;
    st = s3_xml_child(x, root, "Status");
    if (s3_xml_text_is(st, "ON"))
        *on = true;
    else if (s3_xml_text_is(st, "OFF"))
        *on = false;
    else
        rc = cm_err_set(err, CM_EPROTO, "legal hold status is neither ON nor OFF");
    s3_xml_destroy(x);
    return rc;
}

int s3_parse_upload_id(const char *body, size_t len, char *out, size_t cap, struct cm_err *err)
{
    struct s3_xml *x = NULL;
    const struct s3_xml_node *root;
    int rc = parse_root(body, len, "InitiateMultipartUploadResult", &x, &root, err);

    if (rc != 0)
        return rc;
    rc = s3_xml_child_text(x, root, "UploadId", out, cap);
    if (rc != 0 || out[0] == '\0')
        rc = cm_err_set(err, CM_EPROTO, "no usable UploadId in the response");
    s3_xml_destroy(x);
    return rc;
}

int s3_parse_complete(const char *body, size_t len, char *etag, size_t cap, struct cm_err *err)
{
    struct s3_xml *x = NULL;
    const struct s3_xml_node *root;
    int rc = s3_xml_parse(body, len, &x, err);

    if (rc != 0)
        return rc;
    root = s3_xml_root(x);
    if (s3_xml_is(root, "Error")) {
        struct s3_error_info ei;

        int code = CM_EHTTP;

        s3_error_parse(body, len, &ei);
        if (ei.is_oom)
            code = CM_ENOMEM;
        else if (strcmp(ei.code, "InternalError") == 0 || strcmp(ei.code, "SlowDown") == 0 ||
                 strcmp(ei.code, "ServiceUnavailable") == 0)
            code = CM_EAGAIN;
        else if (strcmp(ei.code, "InvalidPart") == 0 || strcmp(ei.code, "InvalidPartOrder") == 0)
            code = CM_EINTEGRITY;
        rc = cm_err_set(err, code, "200 with error %s: %s", ei.code, ei.message);
    } else if (!s3_xml_is(root, "CompleteMultipartUploadResult")) {
        rc = cm_err_set(err, CM_EPROTO, "expected <CompleteMultipartUploadResult>");
    } else if (s3_xml_child_text(x, root, "ETag", etag, cap) == CM_ETOOBIG) {
        rc = cm_err_set(err, CM_EPROTO, "ETag too long");
    }
    s3_xml_destroy(x);
    return rc;
}

/* Copies a required/optional child text, failing the page when it does not fit. */
static int child_str(const struct s3_xml *x, const struct s3_xml_node *n, const char *name,
                     char *out, size_t cap, bool required, struct cm_err *err)
{
    int rc = s3_xml_child_text(x, n, name, out, cap);

    if (rc == CM_ENOENT && !required)
        return 0;
    if (rc == CM_ENOENT)
        return cm_err_set(err, CM_EPROTO, "list entry without <%s>", name);
    if (rc != 0)
        return cm_err_set(err, CM_EPROTO, "list entry <%s> longer than %zu bytes", name, cap - 1);
    return 0;
}

struct list_bufs {
    char key[S3_MAX_KEY + 1];
    char version[S3_MAX_VERSION_ID + 1];
    char etag[S3_MAX_ETAG + 1];
    char num[32];
};

static int list_entry(const struct s3_xml *x, const struct s3_xml_node *n, bool versions,
                      struct list_bufs *b, s3_list_fn fn, void *ctx, struct cm_err *err)
{
    struct s3_list_entry e;
    uint64_t size = 0;
    int rc;

    memset(&e, 0, sizeof(e));
    if (s3_xml_is(n, "CommonPrefixes")) {
        rc = child_str(x, n, "Prefix", b->key, sizeof(b->key), true, err);
        if (rc != 0)
            return rc;
        e.key = b->key;
        e.is_prefix = true;
        return fn(&e, ctx);
    }
    rc = child_str(x, n, "Key", b->key, sizeof(b->key), true, err);
    if (rc == 0 && versions)
        rc = child_str(x, n, "VersionId", b->version, sizeof(b->version), true, err);
    if (rc == 0)
        rc = child_str(x, n, "ETag", b->etag, sizeof(b->etag), false, err);
    if (rc != 0)
        return rc;
    e.key = b->key;
    e.version_id = versions ? b->version : NULL;
    e.is_delete_marker = s3_xml_is(n, "DeleteMarker");
    e.etag = (!e.is_delete_marker && s3_xml_child(x, n, "ETag") != NULL) ? b->etag : NULL;
    e.is_latest = s3_xml_text_is(s3_xml_child(x, n, "IsLatest"), "true");
    if (s3_xml_child_text(x, n, "Size", b->num, sizeof(b->num)) == 0 &&
        cm_parse_u64(b->num, strlen(b->num), &size) != 0)
        return cm_err_set(err, CM_EPROTO, "list entry with a bad <Size>");
    e.size = size;
    if (s3_xml_child_text(x, n, "LastModified", b->num, sizeof(b->num)) == 0 &&
        s3_time_parse(b->num, strlen(b->num), &e.last_modified) != 0)
        return cm_err_set(err, CM_EPROTO, "list entry with a bad <LastModified>");
    return fn(&e, ctx);
}

int s3_parse_list_page(const char *body, size_t len, bool versions, s3_list_fn fn, void *ctx,
                       struct s3_list_page *page, struct cm_err *err)
{
    struct s3_xml *x = NULL;
    const struct s3_xml_node *root;
    const struct s3_xml_node *n;
    struct list_bufs *b = NULL;
    int rc =
        parse_root(body, len, versions ? "ListVersionsResult" : "ListBucketResult", &x, &root, err);

    if (rc != 0)
        return rc;
    memset(page, 0, sizeof(*page));
    b = cm_malloc(sizeof(*b));
    if (b == NULL) {
        rc = cm_err_set(err, CM_ENOMEM, "out of memory");
        goto cleanup;
    }
    page->is_truncated = s3_xml_text_is(s3_xml_child(x, root, "IsTruncated"), "true");
    if (versions) {
        rc =
            child_str(x, root, "NextKeyMarker", page->next_key, sizeof(page->next_key), false, err);
        if (rc == 0)
            rc = child_str(x, root, "NextVersionIdMarker", page->next_version,
                           sizeof(page->next_version), false, err);
    } else {
        rc = child_str(x, root, "NextContinuationToken", page->next_token, sizeof(page->next_token),
                       false, err);
    }
    if (rc != 0)
        goto cleanup;
    for (n = s3_xml_child(x, root, NULL); n != NULL; n = s3_xml_next(x, n, NULL)) {
        bool entry = s3_xml_is(n, "CommonPrefixes") ||
                     (versions ? (s3_xml_is(n, "Version") || s3_xml_is(n, "DeleteMarker"))
                               : s3_xml_is(n, "Contents"));

        if (!entry)
            continue;
        page->entries++;
        rc = list_entry(x, n, versions, b, fn, ctx, err);
        if (rc != 0)
            goto cleanup;
    }
cleanup:
    cm_free(b);
    s3_xml_destroy(x);
    return rc;
}
