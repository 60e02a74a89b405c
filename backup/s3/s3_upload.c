/* SPDX-License-Identifier: Apache-2.0 */
/* s3_upload.c - streaming upload with bounded memory: one part buffer; small objects
 * become a single PUT, larger ones a multipart upload whose version is then locked with
 * PutObjectRetention (radosgw 16.2 ignores lock headers on CreateMultipartUpload). The
 * buffer's SHA-256 and MD5 are computed as bytes are written, so sending a part or the
 * single PUT does not wait for them. */
#include "backup/s3/s3_int.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#define S3_MAX_UPLOAD_ID 1024

struct s3_upload {
    struct s3_client *c;
    char *key;
    struct s3_put_opts opts; /* meta and content_type point into the copies below */
    struct s3_meta *meta;
    char *content_type;
    unsigned char *buf;
    size_t len;
    size_t cap;
    char upload_id[S3_MAX_UPLOAD_ID + 1];
    char (*etags)[S3_MAX_ETAG + 1];
    unsigned n_parts;
    unsigned etags_cap;
    uint64_t total;
    EVP_MD_CTX *sha;      /* the whole object: s3_put_result.sha256_hex */
    EVP_MD_CTX *part_sha; /* buf[0..len): the request's x-amz-content-sha256 */
    EVP_MD_CTX *part_md5; /* buf[0..len): the request's Content-MD5 */
    int failed;           /* sticky: once a step failed, every call returns it */
    struct cm_err ferr;
};

static void upload_free(struct s3_upload *u)
{
    if (u == NULL)
        return;
    cm_free(u->key);
    cm_free(u->meta);
    cm_free(u->content_type);
    cm_free(u->buf);
    cm_free(u->etags);
    EVP_MD_CTX_free(u->sha);
    EVP_MD_CTX_free(u->part_sha);
    EVP_MD_CTX_free(u->part_md5);
    cm_free(u);
}

int s3_upload_open(struct s3_client *c, const char *key, const struct s3_put_opts *opts,
                   struct s3_upload **out, struct cm_err *err)
{
    struct s3_upload *u = NULL;
    int rc;

    rc = s3_key_check(key, err);
    if (rc != 0)
        return rc;
    rc = s3_put_opts_check(opts, err);
    if (rc != 0)
        return rc;
    u = cm_calloc(1, sizeof(*u));
    if (u == NULL)
        return cm_err_set(err, CM_ENOMEM, "s3: out of memory");
    u->c = c;
    u->cap = s3_client_part_size_(c);
    u->key = cm_strdup(key);
    u->buf = cm_malloc(u->cap);
    u->sha = EVP_MD_CTX_new();
    u->part_sha = EVP_MD_CTX_new();
    u->part_md5 = EVP_MD_CTX_new();
    if (u->key == NULL || u->buf == NULL || u->sha == NULL || u->part_sha == NULL ||
        u->part_md5 == NULL || EVP_DigestInit_ex(u->sha, EVP_sha256(), NULL) != 1 ||
        EVP_DigestInit_ex(u->part_sha, EVP_sha256(), NULL) != 1 ||
        EVP_DigestInit_ex(u->part_md5, EVP_md5(), NULL) != 1)
        goto oom;
    if (opts != NULL) {
        u->opts = *opts;
        u->opts.meta = NULL;
        u->opts.content_type = NULL;
        if (opts->n_meta > 0) {
            u->meta = cm_malloc(opts->n_meta * sizeof(*u->meta));
            if (u->meta == NULL)
                goto oom;
            memcpy(u->meta, opts->meta, opts->n_meta * sizeof(*u->meta));
            u->opts.meta = u->meta;
        }
        if (opts->content_type != NULL) {
            u->content_type = cm_strdup(opts->content_type);
            if (u->content_type == NULL)
                goto oom;
            u->opts.content_type = u->content_type;
        }
    }
    *out = u;
    return 0;
oom:
    upload_free(u);
    return cm_err_set(err, CM_ENOMEM, "s3: out of memory");
}

/* Records a failure (sticky) and aborts the multipart upload on the server. */
static int fail(struct s3_upload *u, int rc, const struct cm_err *e, struct cm_err *err)
{
    u->failed = rc;
    if (e != NULL && e != &u->ferr)
        u->ferr = *e;
    if (err != NULL && err != &u->ferr) {
        *err = u->ferr;
        err->code = rc;
    }
    return rc;
}

/* The digests of the bytes in buf, for the request that sends them. OpenSSL fails
 * here only when it cannot allocate. */
static int part_digests_final(struct s3_upload *u, char sha_hex[65], char md5_b64[25],
                              struct cm_err *err)
{
    unsigned char md[32];
    unsigned int mdlen = 0;

    if (EVP_DigestFinal_ex(u->part_sha, md, &mdlen) != 1 || mdlen != 32)
        return cm_err_set(err, CM_ENOMEM, "s3: SHA-256 of the part failed");
    s3_hex(md, 32, sha_hex);
    if (EVP_DigestFinal_ex(u->part_md5, md, &mdlen) != 1 || mdlen != 16)
        return cm_err_set(err, CM_ENOMEM, "s3: MD5 of the part failed");
    s3_md5_b64_encode(md, md5_b64);
    return 0;
}

/* Starts the part digests over for the bytes of the next part. */
static int part_digests_restart(struct s3_upload *u, struct cm_err *err)
{
    if (EVP_DigestInit_ex(u->part_sha, EVP_sha256(), NULL) != 1 ||
        EVP_DigestInit_ex(u->part_md5, EVP_md5(), NULL) != 1)
        return cm_err_set(err, CM_ENOMEM, "s3: part digest reset failed");
    return 0;
}

static int create_multipart(struct s3_upload *u, struct cm_err *err)
{
    struct s3_req r;
    struct s3_resp resp;
    char lock_date[32];
    char meta_names[S3_MAX_META][S3_MAX_META_NAME + 12];
    int rc;

    memset(&r, 0, sizeof(r));
    r.method = "POST";
    r.key = u->key;
    (void)s3_req_query(&r, "uploads", "");
    /* AWS applies these lock headers to the completed object; radosgw 16.2 ignores
     * them, which is why close() also sets the retention on the version. */
    rc = s3_req_put_headers(&r, &u->opts, lock_date, meta_names, err);
    if (rc != 0)
        return rc;
    rc = s3_request(u->c, &r, &resp, err);
    if (rc != 0)
        return rc;
    rc = s3_parse_upload_id(resp.body.ptr, resp.body.len, u->upload_id, sizeof(u->upload_id), err);
    cm_buf_free(&resp.body);
    if (rc != 0) {
        u->upload_id[0] = '\0';
        cm_err_prefix(err, "POST %s/%s?uploads", s3_client_bucket(u->c), u->key);
    }
    return rc;
}

static int upload_part(struct s3_upload *u, struct cm_err *err)
{
    struct s3_req r;
    struct s3_resp resp;
    char num[16];
    char sha_hex[65];
    char md5_b64[25];
    int rc;

    if (u->n_parts >= s3_client_max_parts_(u->c))
        return cm_err_set(err, CM_ETOOBIG, "PUT %s/%s: more than %u parts (raise part_size)",
                          s3_client_bucket(u->c), u->key, s3_client_max_parts_(u->c));
    if (u->n_parts == u->etags_cap) {
        unsigned ncap = u->etags_cap ? u->etags_cap * 2 : 16;
        char(*ne)[S3_MAX_ETAG + 1];

        if (ncap > S3_MAX_PARTS)
            ncap = S3_MAX_PARTS;
        ne = cm_realloc(u->etags, ncap * sizeof(*ne));
        if (ne == NULL)
            return cm_err_set(err, CM_ENOMEM, "s3: out of memory");
        u->etags = ne;
        u->etags_cap = ncap;
    }
    rc = part_digests_final(u, sha_hex, md5_b64, err);
    rc = rc ? rc : part_digests_restart(u, err);
    if (rc != 0)
        return rc;
    (void)snprintf(num, sizeof(num), "%u", u->n_parts + 1);
    memset(&r, 0, sizeof(r));
    r.method = "PUT";
    r.key = u->key;
    (void)s3_req_query(&r, "partNumber", num);
    (void)s3_req_query(&r, "uploadId", u->upload_id);
    /* Content-MD5 and x-amz-content-sha256 of this part's bytes, hashed as they were
     * written; retries resend the buffer with the same digests. */
    r.body = u->buf;
    r.body_len = u->len;
    r.body_sha256_hex = sha_hex;
    r.body_md5_b64 = md5_b64;
    rc = s3_request(u->c, &r, &resp, err);
    if (rc != 0) {
        cm_err_prefix(err, "part %u", u->n_parts + 1);
        return rc;
    }
    cm_buf_free(&resp.body);
    if (resp.etag[0] == '\0')
        return cm_err_set(err, CM_EPROTO, "PUT %s/%s part %u: no ETag in the response",
                          s3_client_bucket(u->c), u->key, u->n_parts + 1);
    memcpy(u->etags[u->n_parts], resp.etag, sizeof(resp.etag));
    u->n_parts++;
    u->len = 0;
    return 0;
}

int s3_upload_write(struct s3_upload *u, const void *p, size_t n, struct cm_err *err)
{
    const unsigned char *src = p;
    int rc;

    if (u->failed != 0)
        return fail(u, u->failed, NULL, err);
    if (n > 0 && p == NULL)
        return cm_err_set(err, CM_EINVAL, "s3: no data");
    if (n > 0 && EVP_DigestUpdate(u->sha, p, n) != 1)
        return fail(u, cm_err_set(&u->ferr, CM_ENOMEM, "s3: SHA-256 update failed"), NULL, err);
    u->total += n;
    while (n > 0) {
        size_t room = u->cap - u->len;
        size_t k = n < room ? n : room;

        memcpy(u->buf + u->len, src, k);
        if (EVP_DigestUpdate(u->part_sha, u->buf + u->len, k) != 1 ||
            EVP_DigestUpdate(u->part_md5, u->buf + u->len, k) != 1)
            return fail(u, cm_err_set(&u->ferr, CM_ENOMEM, "s3: part digest update failed"), NULL,
                        err);
        u->len += k;
        src += k;
        n -= k;
        if (u->len < u->cap)
            break;
        /* The buffer holds a full part: from here on this is a multipart upload. */
        if (u->upload_id[0] == '\0') {
            rc = create_multipart(u, &u->ferr);
            if (rc != 0)
                return fail(u, rc, NULL, err);
        }
        rc = upload_part(u, &u->ferr);
        if (rc != 0)
            return fail(u, rc, NULL, err);
    }
    return 0;
}

size_t s3_upload_room(const struct s3_upload *u)
{
    /* A write that fills the buffer exactly sends the part: the room is one less. */
    return u->failed != 0 ? 0 : u->cap - u->len - 1;
}

static void abort_multipart(struct s3_upload *u)
{
    struct s3_req r;
    struct s3_resp resp;
    struct cm_err e;

    if (u->upload_id[0] == '\0')
        return;
    memset(&r, 0, sizeof(r));
    r.method = "DELETE";
    r.key = u->key;
    (void)s3_req_query(&r, "uploadId", u->upload_id);
    if (s3_request(u->c, &r, &resp, &e) != 0)
        cm_log(CM_LOG_WARN, "s3", "abort of multipart upload failed", CM_LS("key", u->key),
               CM_LS("bucket", s3_client_bucket(u->c)), CM_LS("err", e.msg));
    else
        cm_buf_free(&resp.body);
    u->upload_id[0] = '\0';
}

void s3_upload_abort(struct s3_upload *u)
{
    if (u == NULL)
        return;
    abort_multipart(u);
    upload_free(u);
}

/* CompleteMultipartUpload of the parts sent; a lost answer is recovered there. */
static int complete_multipart(struct s3_upload *u, char *version_id, struct cm_err *err)
{
    struct s3_complete in;
    bool gone = false;
    int rc;

    in.key = u->key;
    in.upload_id = u->upload_id;
    in.etags = u->etags;
    in.n_parts = u->n_parts;
    in.size = u->total;
    rc = s3_complete_multipart(u->c, &in, version_id, &gone, err);
    /* Completed, or no longer known to the server: nothing left to abort. */
    if (rc == 0 || gone)
        u->upload_id[0] = '\0';
    return rc;
}

/* After CompleteMultipartUpload: lock the new version, then read back its ETag/size. */
static int finish_multipart(struct s3_upload *u, struct s3_put_result *res, struct cm_err *err)
{
    const char *vid = res->version_id[0] != '\0' ? res->version_id : NULL;
    struct s3_object_info *info = NULL;
    int rc;

    if (u->opts.lock_mode != S3_LOCK_NONE) {
        rc = s3_client_put_retention(u->c, u->key, vid, u->opts.lock_mode, u->opts.retain_until,
                                     false, err);
        if (rc != 0) {
            cm_err_prefix(err, "object stored but not locked");
            return rc;
        }
    }
    if (u->opts.legal_hold) {
        rc = s3_client_put_legal_hold(u->c, u->key, vid, true, err);
        if (rc != 0) {
            cm_err_prefix(err, "object stored but legal hold not set");
            return rc;
        }
    }
    info = cm_malloc(sizeof(*info));
    if (info == NULL)
        return cm_err_set(err, CM_ENOMEM, "s3: out of memory");
    /* radosgw 16.2 leaves the CompleteMultipartUploadResult ETag empty: HEAD for it,
     * and check that the server holds as many bytes as were written. */
    rc = s3_client_head_object(u->c, u->key, vid, info, err);
    if (rc == 0 && info->size != u->total)
        rc = cm_err_set(err, CM_EINTEGRITY, "PUT %s/%s: server holds %llu bytes, %llu written",
                        s3_client_bucket(u->c), u->key, (unsigned long long)info->size,
                        (unsigned long long)u->total);
    if (rc == 0)
        memcpy(res->etag, info->etag, sizeof(res->etag));
    cm_free(info);
    return rc;
}

int s3_upload_close(struct s3_upload *u, struct s3_put_result *out, struct cm_err *err)
{
    struct s3_put_result res;
    unsigned char md[32];
    unsigned int mdlen = 0;
    int rc;

    if (u == NULL)
        return cm_err_set(err, CM_EINVAL, "s3: no upload");
    if (u->failed != 0) {
        rc = fail(u, u->failed, NULL, err);
        goto done;
    }
    memset(&res, 0, sizeof(res));
    if (EVP_DigestFinal_ex(u->sha, md, &mdlen) != 1 || mdlen != 32) {
        rc = cm_err_set(err, CM_ENOMEM, "s3: SHA-256 failed");
        goto done;
    }
    if (u->upload_id[0] == '\0') {
        char sha_hex[65];
        char md5_b64[25];

        /* Fits in one part: a single PUT (lock headers honoured by AWS and radosgw),
         * with the digests computed as the bytes were written. */
        rc = part_digests_final(u, sha_hex, md5_b64, err);
        if (rc != 0)
            goto done;
        rc = s3_client_put_object_hashed(u->c, u->key, u->buf, u->len, &u->opts, sha_hex, md5_b64,
                                         &res, err);
        if (rc != 0)
            goto done;
    } else {
        if (u->len > 0) {
            rc = upload_part(u, err);
            if (rc != 0)
                goto done;
        }
        rc = complete_multipart(u, res.version_id, err);
        if (rc != 0)
            goto done;
        res.parts = u->n_parts;
        res.size = u->total;
        rc = finish_multipart(u, &res, err);
        if (rc != 0)
            goto done;
    }
    s3_hex(md, 32, res.sha256_hex);
    res.size = u->total;
    if (out != NULL)
        *out = res;
    rc = 0;
done:
    if (rc != 0)
        abort_multipart(u);
    upload_free(u);
    return rc;
}

int s3_client_put_stream(struct s3_client *c, const char *key, s3_read_fn read, void *ctx,
                         const struct s3_put_opts *opts, struct s3_put_result *out,
                         struct cm_err *err)
{
    struct s3_upload *u = NULL;
    unsigned char *chunk = NULL;
    const size_t chunk_len = 64u << 10;
    int rc;

    if (read == NULL)
        return cm_err_set(err, CM_EINVAL, "s3: no read callback");
    rc = s3_upload_open(c, key, opts, &u, err);
    if (rc != 0)
        return rc;
    chunk = cm_malloc(chunk_len);
    if (chunk == NULL) {
        rc = cm_err_set(err, CM_ENOMEM, "s3: out of memory");
        goto cleanup;
    }
    for (;;) {
        size_t got = 0;

        rc = read(chunk, chunk_len, &got, ctx);
        if (rc != 0) {
            cm_err_set(err, rc, "PUT %s/%s: the data source failed: %s", s3_client_bucket(c), key,
                       cm_strerror(rc));
            goto cleanup;
        }
        if (got > chunk_len) {
            rc = cm_err_set(err, CM_EINVAL, "s3: read callback returned too many bytes");
            goto cleanup;
        }
        if (got == 0)
            break;
        rc = s3_upload_write(u, chunk, got, err);
        if (rc != 0)
            goto cleanup;
    }
    cm_free(chunk);
    chunk = NULL;
    rc = s3_upload_close(u, out, err);
    u = NULL;
cleanup:
    cm_free(chunk);
    s3_upload_abort(u);
    return rc;
}
