/* SPDX-License-Identifier: Apache-2.0 */
/* s3_complete.c - CompleteMultipartUpload, and the recovery of a completion whose answer
 * was lost: when a retried completion finds the upload gone (NoSuchUpload), the object
 * is looked up and taken as ours only if its ETag is the multipart ETag of our parts and
 * its size the bytes we sent (what the AWS SDKs do). */
#include "backup/s3/s3_int.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* An ETag without its surrounding quotes (when it has both). */
static void etag_bare(const char *e, const char **p, size_t *n)
{
    size_t l = strlen(e);

    if (l >= 2 && e[0] == '"' && e[l - 1] == '"') {
        e++;
        l -= 2;
    }
    *p = e;
    *n = l;
}

/* A part ETag as the 16 bytes of the MD5 it spells in hex; false when it is not one. */
static bool etag_md5(const char *etag, unsigned char out[16])
{
    const char *p;
    size_t n;
    size_t i;

    etag_bare(etag, &p, &n);
    if (n != 32)
        return false;
    for (i = 0; i < 16; i++) {
        int hi = cm_hexval(p[2 * i]);
        int lo = cm_hexval(p[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

/* Equal ETags: quotes optional, hex in any case. */
static bool etag_eq(const char *a, const char *b)
{
    const char *pa;
    const char *pb;
    size_t na;
    size_t nb;

    etag_bare(a, &pa, &na);
    etag_bare(b, &pb, &nb);
    return na > 0 && na == nb && strncasecmp(pa, pb, na) == 0;
}

int s3_multipart_etag(const char (*etags)[S3_MAX_ETAG + 1], unsigned n, char out[S3_MAX_ETAG + 1],
                      struct cm_err *err)
{
    EVP_MD_CTX *md = NULL;
    unsigned char bin[16];
    unsigned int mdlen = 0;
    char hex[33];
    unsigned i;
    int rc = 0;

    if (n == 0 || n > S3_MAX_PARTS)
        return cm_err_set(err, CM_EINVAL, "s3: a multipart ETag of %u parts", n);
    md = EVP_MD_CTX_new();
    if (md == NULL || EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1) {
        rc = cm_err_set(err, CM_ENOMEM, "s3: MD5 of the part ETags failed");
        goto cleanup;
    }
    for (i = 0; i < n; i++) {
        /* With SSE-KMS or SSE-C a part's ETag is not its MD5: nothing to compute. */
        if (!etag_md5(etags[i], bin)) {
            rc = cm_err_set(err, CM_EINVAL, "s3: part %u ETag %.40s is not an MD5 in hex", i + 1,
                            etags[i]);
            goto cleanup;
        }
        if (EVP_DigestUpdate(md, bin, sizeof(bin)) != 1) {
            rc = cm_err_set(err, CM_ENOMEM, "s3: MD5 of the part ETags failed");
            goto cleanup;
        }
    }
    if (EVP_DigestFinal_ex(md, bin, &mdlen) != 1 || mdlen != 16) {
        rc = cm_err_set(err, CM_ENOMEM, "s3: MD5 of the part ETags failed");
        goto cleanup;
    }
    s3_hex(bin, 16, hex);
    (void)snprintf(out, S3_MAX_ETAG + 1, "\"%s-%u\"", hex, n);
cleanup:
    EVP_MD_CTX_free(md);
    return rc;
}

/* The listing state of find_version: the first version of key (newest first) whose
 * ETag and size are ours. */
struct find_ctx {
    const char *key;
    const char *etag;
    uint64_t size;
    bool found;
    char version_id[S3_MAX_VERSION_ID + 1];
};

static int find_version(const struct s3_list_entry *e, void *ctx)
{
    struct find_ctx *f = ctx;

    if (e->is_prefix)
        return 0;
    /* The listing is by key, and key sorts before every longer key it prefixes: the
     * first other key means all versions of ours have been seen. */
    if (strcmp(e->key, f->key) != 0)
        return 1;
    if (e->is_delete_marker || e->etag == NULL || e->size != f->size || !etag_eq(e->etag, f->etag))
        return 0;
    (void)snprintf(f->version_id, sizeof(f->version_id), "%s",
                   e->version_id != NULL ? e->version_id : "");
    f->found = true;
    return 1;
}

/* Finds the version our parts made: the latest (HEAD) when it is ours; otherwise, when
 * it is a delete marker or the bucket keeps versions, the key's versions, newest first.
 * Returns 0 (version_id set), CM_ENOENT when none is ours (err untouched), or the error
 * of the HEAD or the listing. */
static int find_ours(struct s3_client *c, const struct s3_complete *in, const char *want,
                     char version_id[S3_MAX_VERSION_ID + 1], struct cm_err *err)
{
    struct s3_object_info *info = NULL;
    struct find_ctx *f = NULL;
    struct s3_list_opts lo;
    struct cm_err e;
    int rc;

    info = cm_malloc(sizeof(*info));
    f = cm_calloc(1, sizeof(*f));
    if (info == NULL || f == NULL) {
        rc = cm_err_set(err, CM_ENOMEM, "s3: out of memory");
        goto cleanup;
    }
    rc = s3_client_head_object(c, in->key, NULL, info, &e);
    if (rc == 0 && info->size == in->size && etag_eq(info->etag, want)) {
        memcpy(f->version_id, info->version_id, sizeof(f->version_id));
        f->found = true;
    } else if (rc != 0 && rc != CM_ENOENT) {
        rc = cm_err_set(err, rc, "%s", e.msg);
        goto cleanup;
    } else if (rc == CM_ENOENT || info->version_id[0] != '\0') {
        /* Without a version id the bucket keeps one object per key: no older one. */
        f->key = in->key;
        f->etag = want;
        f->size = in->size;
        memset(&lo, 0, sizeof(lo));
        lo.prefix = in->key;
        rc = s3_client_list_versions(c, &lo, find_version, f, NULL, err);
        if (rc != 0)
            goto cleanup;
    }
    rc = f->found ? 0 : CM_ENOENT;
    if (rc == 0)
        memcpy(version_id, f->version_id, S3_MAX_VERSION_ID + 1);
cleanup:
    cm_free(info);
    cm_free(f);
    return rc;
}

/* Why a completion's outcome is looked up on the server. */
enum lost_kind {
    LOST_GONE,      /* NoSuchUpload on a retry */
    LOST_BUSY,      /* a retryable 5xx on every attempt (radosgw: "already in progress") */
    LOST_NO_VERSION /* 200 on a retry without x-amz-version-id (radosgw's own recovery) */
};

static const char *const lost_what[] = {
    "NoSuchUpload after a retried CompleteMultipartUpload",
    "a retried CompleteMultipartUpload failed on every attempt",
    "a retried CompleteMultipartUpload answered without a version id",
};

/* The completion's answer was lost on some attempt (see s3_complete_multipart): the
 * object is ours only with our multipart ETag and size. rerr is the request's own error
 * (LOST_GONE, LOST_BUSY), returned as it is where the lookup cannot improve on it. */
static int recover(struct s3_client *c, const struct s3_complete *in, enum lost_kind kind, int rrc,
                   const struct cm_err *rerr, char version_id[S3_MAX_VERSION_ID + 1],
                   struct cm_err *err)
{
    char want[S3_MAX_ETAG + 1];
    char vid[S3_MAX_VERSION_ID + 1];
    struct cm_err e;
    int rc;

    rc = s3_multipart_etag(in->etags, in->n_parts, want, &e);
    if (rc == CM_ENOMEM)
        return cm_err_set(err, rc, "%s", e.msg);
    if (rc != 0 && kind == LOST_GONE)
        return cm_err_set(err, CM_ENOENT,
                          "%.64s: %s, and the object cannot be proven ours: %s (upload id %.40s)",
                          in->key, lost_what[kind], e.msg, in->upload_id);
    if (rc != 0 && kind == LOST_NO_VERSION) {
        version_id[0] = '\0'; /* the answer as it came: no version id to find */
        return 0;
    }
    if (rc == 0)
        rc = find_ours(c, in, want, vid, &e);
    if (rc != 0 && rc != CM_ENOMEM && kind == LOST_BUSY) {
        if (err != NULL)
            *err = *rerr;
        return rrc;
    }
    if (rc == CM_ENOENT)
        return cm_err_set(err, kind == LOST_GONE ? CM_ENOENT : CM_EINTEGRITY,
                          "%.64s: %s and no object with the expected ETag %s and size %llu "
                          "(upload id %.40s)",
                          in->key, lost_what[kind], want, (unsigned long long)in->size,
                          in->upload_id);
    if (rc != 0) {
        if (err != NULL)
            *err = e;
        cm_err_prefix(err, "%s; looking for the object", lost_what[kind]);
        return rc;
    }
    cm_log(CM_LOG_WARN, "s3", "CompleteMultipartUpload answer lost; the completed object found",
           CM_LS("bucket", s3_client_bucket(c)), CM_LS("key", in->key),
           CM_LS("upload_id", in->upload_id), CM_LS("why", lost_what[kind]), CM_LS("etag", want),
           CM_LS("version_id", vid));
    memcpy(version_id, vid, S3_MAX_VERSION_ID + 1);
    return 0;
}

/* <CompleteMultipartUpload> with every part's number and ETag. */
static int complete_body(const struct s3_complete *in, struct cm_buf *body)
{
    unsigned i;
    int rc;

    rc = cm_buf_adds(body, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/"
                           "2006-03-01/\">");
    for (i = 0; rc == 0 && i < in->n_parts; i++) {
        /* ETags are quoted hex from the server; escape anyway, they are foreign bytes. */
        const char *e = in->etags[i];

        rc = cm_buf_addf(body, "<Part><PartNumber>%u</PartNumber><ETag>", i + 1);
        for (; rc == 0 && *e != '\0'; e++) {
            if (*e == '"')
                rc = cm_buf_adds(body, "&quot;");
            else if (*e == '&')
                rc = cm_buf_adds(body, "&amp;");
            else if (*e == '<')
                rc = cm_buf_adds(body, "&lt;");
            else
                rc = cm_buf_addc(body, *e);
        }
        rc = rc ? rc : cm_buf_adds(body, "</ETag></Part>");
    }
    return rc ? rc : cm_buf_adds(body, "</CompleteMultipartUpload>");
}

int s3_complete_multipart(struct s3_client *c, const struct s3_complete *in,
                          char version_id[S3_MAX_VERSION_ID + 1], bool *gone, struct cm_err *err)
{
    struct s3_req r;
    struct s3_resp resp;
    struct cm_buf body;
    char etag[S3_MAX_ETAG + 1];
    struct cm_err rerr;
    int rc;

    if (gone != NULL)
        *gone = false;
    cm_buf_init(&body, (size_t)S3_MAX_PARTS * (S3_MAX_ETAG + 64) + 256);
    rc = complete_body(in, &body);
    if (rc != 0) {
        cm_buf_free(&body);
        return cm_err_set(err, rc, "s3: cannot build CompleteMultipartUpload");
    }
    memset(&r, 0, sizeof(r));
    r.method = "POST";
    r.key = in->key;
    (void)s3_req_query(&r, "uploadId", in->upload_id);
    (void)s3_req_header(&r, "Content-Type", "application/xml");
    r.body = (const unsigned char *)body.ptr;
    r.body_len = body.len;
    cm_err_clear(&rerr);
    rc = s3_request(c, &r, &resp, &rerr);
    cm_buf_free(&body);
    /* Above one attempt, an earlier one got no usable answer, and the server may have
     * completed the upload then: an answer that does not say so is checked against
     * what the server holds. A first attempt's answer stands as it is. */
    if (rc == CM_ENOENT && strcmp(resp.s3_code, "NoSuchUpload") == 0) {
        /* Completed or aborted: there is nothing left to abort either way. */
        if (gone != NULL)
            *gone = true;
        if (resp.attempts > 1)
            return recover(c, in, LOST_GONE, rc, &rerr, version_id, err);
    } else if (rc == CM_EAGAIN && resp.attempts > 1) {
        rc = recover(c, in, LOST_BUSY, rc, &rerr, version_id, err);
        if (rc == 0 && gone != NULL)
            *gone = true;
        return rc;
    }
    if (rc != 0) {
        if (err != NULL)
            *err = rerr;
        return rc;
    }
    /* S3 may answer 200 and still fail the completion in the body. */
    rc = s3_parse_complete(resp.body.ptr, resp.body.len, etag, sizeof(etag), err);
    if (rc != 0)
        cm_err_prefix(err, "POST %s/%s?uploadId", s3_client_bucket(c), in->key);
    else if (resp.attempts > 1 && resp.version_id[0] == '\0')
        rc = recover(c, in, LOST_NO_VERSION, 0, NULL, version_id, err);
    else
        memcpy(version_id, resp.version_id, S3_MAX_VERSION_ID + 1);
    cm_buf_free(&resp.body);
    return rc;
}
