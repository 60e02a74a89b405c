/* SPDX-License-Identifier: Apache-2.0 */
/* test_s3_complete.c - CompleteMultipartUpload on the fault transport (the fixture is
 * tests/support/s3_testutil.h), above all the recovery of a lost answer: a completion
 * retried after a connection reset or a 5xx that then finds the upload gone
 * (NoSuchUpload) takes the stored object only when its ETag is the multipart ETag of our
 * parts and its size ours (latest version by HEAD, older ones from the key's version
 * listing), and fails naming key, ETag, size and upload id otherwise; a NoSuchUpload on
 * the first attempt is never recovered. The multipart ETag is checked against digests
 * computed here with OpenSSL and a vector from another MD5 implementation. */
#include "backup/s3/s3_int.h"
#include "tests/support/s3_fault.h"
#include "tests/support/s3_testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PART S3_MIN_PART_SIZE
#define NO_SUCH_UPLOAD S3T_ERRBODY("NoSuchUpload", "The specified upload does not exist.")

/* MD5("a") and MD5("b") as part ETags; the multipart ETag of the two, in that order, is
 * hashlib.md5(md5(b"a").digest() + md5(b"b").digest()).hexdigest() + "-2" (Python). */
#define ETAG_A "\"0cc175b9c0f1b6a831c399e269772661\""
#define ETAG_B "\"92eb5ffee6ae2fec3ad71c777531578f\""
#define ETAG_AB "\"96e024ba2074fe77e8e965ba43a704be-2\""

static const char etags_ab[2][S3_MAX_ETAG + 1] = {ETAG_A, ETAG_B};
/* Key "k", upload "up-1", the parts ETAG_A and ETAG_B, 7 bytes. */
static const struct s3_complete in_k = {"k", "up-1", etags_ab, 2, 7};

static void hex_of(const unsigned char *p, size_t n, char *out)
{
    static const char hexd[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = hexd[p[i] >> 4];
        out[2 * i + 1] = hexd[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static void digest(const EVP_MD *type, const void *p, size_t n, unsigned char *md)
{
    unsigned int len = 0;

    assert_int_equal(EVP_Digest(p, n, md, &len, type, NULL), 1);
}

/* The multipart ETag the fault server's parts make, computed here: its part ETag is the
 * first 16 bytes of the part's SHA-256 in hex (an opaque MD5-shaped value), so the
 * object's ETag is the MD5 of those binary digests, "-", the part count, in quotes. */
static void want_upload_etag(const struct s3t_fx *x, size_t len, char out[S3_MAX_ETAG + 1])
{
    unsigned char bins[16 * 8];
    unsigned char md[32];
    char hex[33];
    size_t n = 0;
    size_t off;

    for (off = 0; off < len; off += PART, n++) {
        assert_true(n < 8);
        digest(EVP_sha256(), x->data + off, len - off < PART ? len - off : PART, md);
        memcpy(bins + 16 * n, md, 16);
    }
    digest(EVP_md5(), bins, 16 * n, md);
    hex_of(md, 16, hex);
    (void)snprintf(out, S3_MAX_ETAG + 1, "\"%s-%zu\"", hex, n);
}

/* (d) The multipart ETag against a vector computed here with OpenSSL MD5 over the
 * binary part digests, and against a literal from Python's hashlib. */
static void test_multipart_etag_vector(void **state)
{
    static const char *const parts[] = {"part one", "part two, longer", "", "3"};
    char etags[4][S3_MAX_ETAG + 1];
    unsigned char bins[16 * 4];
    unsigned char md[16];
    char hex[33];
    char want[S3_MAX_ETAG + 1];
    char out[S3_MAX_ETAG + 1];
    struct cm_err err;
    size_t i;

    (void)state;
    assert_int_equal(s3_multipart_etag(in_k.etags, 2, out, &err), 0);
    assert_string_equal(out, ETAG_AB);
    for (i = 0; i < 4; i++) {
        digest(EVP_md5(), parts[i], strlen(parts[i]), bins + 16 * i);
        hex_of(bins + 16 * i, 16, hex);
        /* Quotes are optional and hex may come in either case. */
        if (i == 1)
            (void)snprintf(etags[i], sizeof(etags[i]), "%s", hex);
        else
            (void)snprintf(etags[i], sizeof(etags[i]), "\"%s\"", hex);
        if (i == 3) {
            size_t j;

            for (j = 1; j < 33; j++)
                etags[i][j] = (char)(etags[i][j] >= 'a' ? etags[i][j] - 'a' + 'A' : etags[i][j]);
        }
    }
    digest(EVP_md5(), bins, sizeof(bins), md);
    hex_of(md, 16, hex);
    (void)snprintf(want, sizeof(want), "\"%s-4\"", hex);
    assert_int_equal(s3_multipart_etag(etags, 4, out, &err), 0);
    assert_string_equal(out, want);
    /* One part: still the MD5 of its MD5, with "-1". */
    digest(EVP_md5(), bins, 16, md);
    hex_of(md, 16, hex);
    (void)snprintf(want, sizeof(want), "\"%s-1\"", hex);
    assert_int_equal(s3_multipart_etag(etags, 1, out, &err), 0);
    assert_string_equal(out, want);
}

static void test_multipart_etag_limits(void **state)
{
    char(*many)[S3_MAX_ETAG + 1] = calloc(S3_MAX_PARTS + 1, sizeof(*many));
    char out[S3_MAX_ETAG + 1] = "untouched";
    struct cm_err err;
    unsigned i;

    (void)state;
    assert_non_null(many);
    for (i = 0; i <= S3_MAX_PARTS; i++)
        memcpy(many[i], ETAG_A, sizeof(ETAG_A));
    assert_int_equal(s3_multipart_etag(many, S3_MAX_PARTS, out, &err), 0);
    assert_non_null(strstr(out, "-10000\""));
    (void)snprintf(out, sizeof(out), "untouched");
    assert_int_equal(s3_multipart_etag(many, S3_MAX_PARTS + 1, out, &err), CM_EINVAL);
    assert_int_equal(s3_multipart_etag(in_k.etags, 0, out, &err), CM_EINVAL);
    /* 32 hex digits exactly: 31, 33, a non-hex digit, an SSE-KMS style opaque value. */
    (void)snprintf(many[1], sizeof(many[1]), "\"0cc175b9c0f1b6a831c399e26977266\"");
    assert_int_equal(s3_multipart_etag(many, 2, out, &err), CM_EINVAL);
    assert_non_null(strstr(err.msg, "part 2 ETag"));
    (void)snprintf(many[1], sizeof(many[1]), "\"0cc175b9c0f1b6a831c399e2697726610\"");
    assert_int_equal(s3_multipart_etag(many, 2, out, &err), CM_EINVAL);
    (void)snprintf(many[1], sizeof(many[1]), "\"0cc175b9c0f1b6a831c399e26977266g\"");
    assert_int_equal(s3_multipart_etag(many, 2, out, &err), CM_EINVAL);
    (void)snprintf(many[0], sizeof(many[0]), "\"a4e1d8d1c1b0ee07e1c6a0a3f7c0d5bd-kms\"");
    assert_int_equal(s3_multipart_etag(many, 1, out, &err), CM_EINVAL);
    assert_non_null(strstr(err.msg, "part 1 ETag"));
    assert_string_equal(out, "untouched");
    free(many);
}

/* Uploads x->data locked; the first completion attempt gets (first_trc, first_status),
 * the retry NoSuchUpload, and the HEAD shows the object our parts make. */
static void lost_answer(struct s3t_fx *x, int first_trc, long first_status)
{
    struct s3_upload *u = NULL;
    struct s3_put_opts po;
    struct s3_put_result res;
    char etag[S3_MAX_ETAG + 1];
    char head[512];
    const struct s3_fault_rec *r;
    struct cm_err err;
    size_t i;

    want_upload_etag(x, x->len, etag);
    (void)snprintf(head, sizeof(head), "Content-Length: %zu\nETag: %s\nx-amz-version-id: v-lost\n",
                   x->len, etag);
    s3t_push_auto(x->f, 4); /* create, 3 parts */
    s3t_push(x->f, first_trc, first_status, NULL,
             first_status != 0 ? "<Error><Code>InternalError</Code></Error>" : NULL, 0);
    s3t_push(x->f, 0, 404, NULL, NO_SUCH_UPLOAD, 0);
    s3t_push(x->f, 0, 200, head, NULL, 0); /* HEAD of the key */
    s3t_push_auto(x->f, 1);                /* PutObjectRetention */
    s3t_push(x->f, 0, 200, head, NULL, 0); /* the finish path's HEAD of the version */
    memset(&po, 0, sizeof(po));
    po.lock_mode = S3_LOCK_COMPLIANCE;
    po.retain_until = 2000000000;
    assert_int_equal(s3_upload_open(x->c, "prod/rp/archive.tar.zst", &po, &u, &err), 0);
    assert_int_equal(s3_upload_write(u, x->data, x->len, &err), 0);
    assert_int_equal(s3_upload_close(u, &res, &err), 0);
    assert_string_equal(res.version_id, "v-lost");
    assert_string_equal(res.etag, etag);
    assert_int_equal(res.size, x->len);
    assert_int_equal(res.parts, 3);

    /* create, 3 parts, complete twice, HEAD, retention, HEAD; no abort */
    assert_int_equal(s3_fault_count(x->f), 9);
    for (i = 4; i <= 5; i++) {
        r = s3_fault_get(x->f, i);
        assert_string_equal(r->method, "POST");
        assert_non_null(strstr(r->url, "archive.tar.zst?uploadId=fault-upload-1"));
    }
    r = s3_fault_get(x->f, 6);
    assert_string_equal(r->method, "HEAD");
    assert_string_equal(r->url, "http://127.0.0.1:9/b-test/prod/rp/archive.tar.zst");
    r = s3_fault_get(x->f, 7);
    assert_string_equal(r->method, "PUT");
    assert_string_equal(r->url, "http://127.0.0.1:9/b-test/prod/rp/archive.tar.zst?retention=&"
                                "versionId=v-lost");
    assert_non_null(strstr(r->body_head, "<Mode>COMPLIANCE</Mode>"));
    r = s3_fault_get(x->f, 8);
    assert_string_equal(r->method, "HEAD");
    assert_non_null(strstr(r->url, "?versionId=v-lost"));
    assert_int_equal(s3_fault_sleeps(x->f), 1);
}

/* (a) A reset after the server committed: the retry's NoSuchUpload is recovered. */
static void test_lost_answer_after_reset(void **state)
{
    lost_answer(*state, CM_ECONN, 0);
}

/* (a) A 500 the server sent after committing: the same. */
static void test_lost_answer_after_5xx(void **state)
{
    lost_answer(*state, 0, 500);
}

/* The latest version is someone else's (or a delete marker): our version is found in
 * the key's version listing, newest first, skipping a wrong size, delete markers and
 * other keys; the listing stops at the first other key. */
static void test_lost_answer_older_version(void **state)
{
    struct s3t_fx *x = *state;
    char vid[S3_MAX_VERSION_ID + 1] = "";
    const struct s3_fault_rec *r;
    bool gone = false;
    struct cm_err err;

    s3t_push(x->f, 0, 503, NULL, "<Error><Code>SlowDown</Code></Error>", 0);
    s3t_push(x->f, 0, 404, NULL, NO_SUCH_UPLOAD, 0);
    s3t_push(x->f, 0, 200, "Content-Length: 7\nETag: \"other-1\"\nx-amz-version-id: v9\n", NULL, 0);
    s3t_push(x->f, 0, 200, NULL,
             "<ListVersionsResult><IsTruncated>false</IsTruncated>"
             "<Version><Key>k</Key><VersionId>v9</VersionId><ETag>&quot;other-1&quot;</ETag>"
             "<Size>7</Size></Version>"
             "<DeleteMarker><Key>k</Key><VersionId>v8</VersionId></DeleteMarker>"
             "<Version><Key>k</Key><VersionId>v7</VersionId><ETag>" ETAG_AB "</ETag>"
             "<Size>8</Size></Version>"
             "<Version><Key>k</Key><VersionId>v6</VersionId>"
             "<ETag>96E024BA2074FE77E8E965BA43A704BE-2</ETag><Size>7</Size></Version>"
             "<Version><Key>k</Key><VersionId>v5</VersionId><ETag>" ETAG_AB "</ETag>"
             "<Size>7</Size></Version></ListVersionsResult>",
             0);
    assert_int_equal(s3_complete_multipart(x->c, &in_k, vid, &gone, &err), 0);
    assert_string_equal(vid, "v6");
    assert_true(gone);
    assert_int_equal(s3_fault_count(x->f), 4);
    r = s3_fault_get(x->f, 3);
    assert_string_equal(r->method, "GET");
    assert_string_equal(r->url, "http://127.0.0.1:9/b-test?versions=&prefix=k&max-keys=1000");

    /* HEAD 404 (a delete marker is the latest); a longer key with our ETag is not ours
     * and ends the search, so a version listed after it is never taken. */
    s3t_push(x->f, CM_ETIMEDOUT, 0, NULL, NULL, 0);
    s3t_push(x->f, 0, 404, NULL, NO_SUCH_UPLOAD, 0);
    s3t_push(x->f, 0, 404, NULL, NULL, 0);
    s3t_push(x->f, 0, 200, NULL,
             "<ListVersionsResult><IsTruncated>false</IsTruncated>"
             "<DeleteMarker><Key>k</Key><VersionId>v9</VersionId></DeleteMarker>"
             "<Version><Key>k</Key><VersionId>v4</VersionId><ETag>" ETAG_AB "</ETag>"
             "<Size>7</Size></Version>"
             "<Version><Key>k.x</Key><VersionId>v3</VersionId><ETag>" ETAG_AB "</ETag>"
             "<Size>7</Size></Version></ListVersionsResult>",
             0);
    assert_int_equal(s3_complete_multipart(x->c, &in_k, vid, &gone, &err), 0);
    assert_string_equal(vid, "v4");
    s3t_push(x->f, CM_ETIMEDOUT, 0, NULL, NULL, 0);
    s3t_push(x->f, 0, 404, NULL, NO_SUCH_UPLOAD, 0);
    s3t_push(x->f, 0, 404, NULL, NULL, 0);
    s3t_push(x->f, 0, 200, NULL,
             "<ListVersionsResult><IsTruncated>false</IsTruncated>"
             "<Version><Key>k.x</Key><VersionId>v3</VersionId><ETag>" ETAG_AB "</ETag>"
             "<Size>7</Size></Version>"
             "<Version><Key>k</Key><VersionId>v2</VersionId><ETag>" ETAG_AB "</ETag>"
             "<Size>7</Size></Version></ListVersionsResult>",
             0);
    assert_int_equal(s3_complete_multipart(x->c, &in_k, vid, &gone, &err), CM_ENOENT);
    assert_string_equal(vid, "v4"); /* untouched */
}

/* (b) After a lost answer the key holds another object: a different ETag, or ours with
 * another size. Failure naming key, ETag, size and upload id; nothing is aborted (the
 * upload is gone); an unversioned answer needs no listing, a versioned one is listed. */
static void test_lost_answer_other_object(void **state)
{
    struct s3t_fx *x = *state;
    struct s3_upload *u = NULL;
    char etag[S3_MAX_ETAG + 1];
    char want[512];
    char head[512];
    char vid[S3_MAX_VERSION_ID + 1] = "unchanged";
    size_t n;
    struct cm_err err;

    want_upload_etag(x, x->len, etag);
    (void)snprintf(head, sizeof(head), "Content-Length: %zu\nETag: \"%s\"\n", x->len,
                   "d41d8cd98f00b204e9800998ecf8427e-3");
    s3t_push_auto(x->f, 4);
    s3t_push(x->f, CM_ECONN, 0, NULL, NULL, 0);
    s3t_push(x->f, 0, 404, NULL, NO_SUCH_UPLOAD, 0);
    s3t_push(x->f, 0, 200, head, NULL, 0);
    assert_int_equal(s3_upload_open(x->c, "prod/rp/archive.tar.zst", NULL, &u, &err), 0);
    assert_int_equal(s3_upload_write(u, x->data, x->len, &err), 0);
    assert_int_equal(s3_upload_close(u, NULL, &err), CM_ENOENT);
    (void)snprintf(want, sizeof(want),
                   "prod/rp/archive.tar.zst: NoSuchUpload after a retried "
                   "CompleteMultipartUpload and no object with the expected ETag %s and size "
                   "%zu (upload id fault-upload-1)",
                   etag, x->len);
    assert_string_equal(err.msg, want);
    assert_int_equal(s3_fault_count(x->f), 7); /* ..., HEAD; no listing, no DELETE */
    assert_string_equal(s3_fault_get(x->f, 6)->method, "HEAD");

    /* Our ETag but another size, in a versioned bucket: the listing has nothing better. */
    n = s3_fault_count(x->f);
    s3t_push(x->f, CM_ECONN, 0, NULL, NULL, 0);
    s3t_push(x->f, 0, 404, NULL, NO_SUCH_UPLOAD, 0);
    s3t_push(x->f, 0, 200, "Content-Length: 8\nETag: " ETAG_AB "\nx-amz-version-id: v2\n", NULL, 0);
    s3t_push(x->f, 0, 200, NULL,
             "<ListVersionsResult><IsTruncated>false</IsTruncated>"
             "<Version><Key>k</Key><VersionId>v2</VersionId><ETag>" ETAG_AB "</ETag>"
             "<Size>8</Size></Version></ListVersionsResult>",
             0);
    assert_int_equal(s3_complete_multipart(x->c, &in_k, vid, NULL, &err), CM_ENOENT);
    assert_string_equal(err.msg,
                        "k: NoSuchUpload after a retried CompleteMultipartUpload and no "
                        "object with the expected ETag " ETAG_AB " and size 7 (upload id up-1)");
    assert_string_equal(vid, "unchanged");
    assert_int_equal(s3_fault_count(x->f), n + 4);
    assert_string_equal(s3_fault_get(x->f, n + 3)->method, "GET");
}

/* (c) NoSuchUpload on the first attempt: no earlier attempt can have completed it, so it
 * fails as the server said, with no lookup and nothing to abort. */
static void test_no_such_upload_first_attempt(void **state)
{
    struct s3t_fx *x = *state;
    struct s3_upload *u = NULL;
    char vid[S3_MAX_VERSION_ID + 1] = "unchanged";
    bool gone = false;
    struct cm_err err;

    s3t_push(x->f, 0, 404, NULL, NO_SUCH_UPLOAD, 0);
    assert_int_equal(s3_complete_multipart(x->c, &in_k, vid, &gone, &err), CM_ENOENT);
    assert_true(gone);
    assert_string_equal(vid, "unchanged");
    assert_non_null(strstr(err.msg, "POST b-test/k: 404 NoSuchUpload"));
    assert_int_equal(s3_fault_count(x->f), 1);
    assert_int_equal(s3_fault_sleeps(x->f), 0);

    /* Through the uploader: no HEAD and no DELETE follow. */
    s3t_push_auto(x->f, 3); /* create, 2 parts */
    s3t_push(x->f, 0, 404, NULL, NO_SUCH_UPLOAD, 0);
    assert_int_equal(s3_upload_open(x->c, "k", NULL, &u, &err), 0);
    assert_int_equal(s3_upload_write(u, x->data, PART + 1, &err), 0);
    assert_int_equal(s3_upload_close(u, NULL, &err), CM_ENOENT);
    assert_non_null(strstr(err.msg, "404 NoSuchUpload"));
    assert_null(strstr(err.msg, "retried"));
    assert_int_equal(s3_fault_count(x->f), 5); /* 1 + create, 2 parts, complete */
    assert_string_equal(s3_fault_get(x->f, 4)->method, "POST");

    /* Another 404 (no NoSuchUpload code) after a retry is not recovered either. */
    s3t_push(x->f, CM_ECONN, 0, NULL, NULL, 0);
    s3t_push(x->f, 0, 404, NULL, "<Error><Code>NoSuchBucket</Code></Error>", 0);
    assert_int_equal(s3_complete_multipart(x->c, &in_k, vid, &gone, &err), CM_ENOENT);
    assert_false(gone);
    assert_non_null(strstr(err.msg, "NoSuchBucket"));
    assert_int_equal(s3_fault_count(x->f), 7);
}

/* The lookup itself fails: its error, saying what was looked for. Part ETags that are
 * not MD5s: nothing can be proven, no lookup. A 200 answer still needs its body. */
static void test_lost_answer_lookup_fails(void **state)
{
    struct s3t_fx *x = *state;
    char vid[S3_MAX_VERSION_ID + 1] = "";
    char kms[2][S3_MAX_ETAG + 1] = {"\"opaque-kms-etag-1\"", ETAG_B};
    struct s3_complete in = in_k;
    bool gone = false;
    struct cm_err err;
    int i;

    s3t_push(x->f, CM_ECONN, 0, NULL, NULL, 0);
    s3t_push(x->f, 0, 404, NULL, NO_SUCH_UPLOAD, 0);
    s3t_push(x->f, 0, 403, NULL, "<Error><Code>AccessDenied</Code></Error>", 0);
    assert_int_equal(s3_complete_multipart(x->c, &in_k, vid, &gone, &err), CM_EAUTH);
    assert_true(gone);
    assert_non_null(strstr(err.msg, "NoSuchUpload after a retried CompleteMultipartUpload; "
                                    "looking for the object: HEAD b-test/k: 403 AccessDenied"));

    s3t_push(x->f, CM_ECONN, 0, NULL, NULL, 0);
    s3t_push(x->f, 0, 404, NULL, NO_SUCH_UPLOAD, 0);
    s3t_push(x->f, 0, 404, NULL, NULL, 0);
    for (i = 0; i < 4; i++)
        s3t_push(x->f, 0, 500, NULL, "<Error><Code>InternalError</Code></Error>", 0);
    assert_int_equal(s3_complete_multipart(x->c, &in_k, vid, &gone, &err), CM_EAGAIN);
    assert_non_null(strstr(err.msg, "looking for the object: GET b-test: 500 InternalError"));

    in.etags = kms;
    s3t_push(x->f, 0, 502, NULL, NULL, 0);
    s3t_push(x->f, 0, 404, NULL, NO_SUCH_UPLOAD, 0);
    assert_int_equal(s3_complete_multipart(x->c, &in, vid, &gone, &err), CM_ENOENT);
    assert_string_equal(err.msg, "k: NoSuchUpload after a retried CompleteMultipartUpload, and "
                                 "the object cannot be proven ours: s3: part 1 ETag "
                                 "\"opaque-kms-etag-1\" is not an MD5 in hex (upload id up-1)");
    assert_int_equal(s3_fault_count(x->f), 3 + 7 + 2);

    /* The plain path: a 200 after a retry is the answer; its version is taken. */
    s3t_push(x->f, CM_ECONN, 0, NULL, NULL, 0);
    s3t_push(x->f, 0, 200, "x-amz-version-id: v-ok\n",
             "<CompleteMultipartUploadResult><ETag>" ETAG_AB
             "</ETag></CompleteMultipartUploadResult>",
             0);
    assert_int_equal(s3_complete_multipart(x->c, &in_k, vid, &gone, &err), 0);
    assert_false(gone);
    assert_string_equal(vid, "v-ok");
}

/* radosgw's answer to a retry once the key holds a newer object: 500 InternalError
 * "already in progress" on every attempt. Our version found: success, nothing to abort;
 * none found, or nothing provable: the request's own error. */
static void test_lost_answer_busy(void **state)
{
    struct s3t_fx *x = *state;
    char vid[S3_MAX_VERSION_ID + 1] = "unchanged";
    char kms[2][S3_MAX_ETAG + 1] = {"\"opaque-kms-etag-1\"", ETAG_B};
    struct s3_complete in = in_k;
    static const char busy[] = "<Error><Code>InternalError</Code><Message>This multipart "
                               "completion is already in progress</Message></Error>";
    bool gone = false;
    struct cm_err err;
    size_t n;
    int i;

    s3t_push(x->f, CM_ECONN, 0, NULL, NULL, 0);
    for (i = 0; i < 3; i++)
        s3t_push(x->f, 0, 500, NULL, busy, 0);
    s3t_push(x->f, 0, 200, "Content-Length: 7\nETag: \"other-1\"\nx-amz-version-id: v9\n", NULL, 0);
    s3t_push(x->f, 0, 200, NULL,
             "<ListVersionsResult><IsTruncated>false</IsTruncated>"
             "<Version><Key>k</Key><VersionId>v9</VersionId><ETag>&quot;other-1&quot;</ETag>"
             "<Size>7</Size></Version>"
             "<Version><Key>k</Key><VersionId>v8</VersionId><ETag>" ETAG_AB "</ETag>"
             "<Size>7</Size></Version></ListVersionsResult>",
             0);
    assert_int_equal(s3_complete_multipart(x->c, &in_k, vid, &gone, &err), 0);
    assert_string_equal(vid, "v8");
    assert_true(gone);
    assert_int_equal(s3_fault_count(x->f), 6);

    /* Nothing of ours: the 500s stand, the upload may still be there to abort. */
    s3t_push(x->f, CM_ECONN, 0, NULL, NULL, 0);
    for (i = 0; i < 3; i++)
        s3t_push(x->f, 0, 500, NULL, busy, 0);
    s3t_push(x->f, 0, 200, "Content-Length: 7\nETag: \"other-1\"\n", NULL, 0);
    assert_int_equal(s3_complete_multipart(x->c, &in_k, vid, &gone, &err), CM_EAGAIN);
    assert_false(gone);
    assert_string_equal(vid, "v8");
    assert_non_null(strstr(err.msg, "POST b-test/k: 500 InternalError: This multipart completion "
                                    "is already in progress, after 4 attempts"));
    assert_int_equal(s3_fault_count(x->f), 11);
    /* The lookup fails, or the ETags prove nothing: the same. */
    for (i = 0; i < 4; i++)
        s3t_push(x->f, 0, 503, NULL, "<Error><Code>SlowDown</Code></Error>", 0);
    s3t_push(x->f, 0, 403, NULL, "<Error><Code>AccessDenied</Code></Error>", 0);
    assert_int_equal(s3_complete_multipart(x->c, &in_k, vid, &gone, &err), CM_EAGAIN);
    assert_non_null(strstr(err.msg, "503 SlowDown, after 4 attempts"));
    n = s3_fault_count(x->f);
    in.etags = kms;
    for (i = 0; i < 4; i++)
        s3t_push(x->f, 0, 503, NULL, "<Error><Code>SlowDown</Code></Error>", 0);
    assert_int_equal(s3_complete_multipart(x->c, &in, vid, &gone, &err), CM_EAGAIN);
    assert_int_equal(s3_fault_count(x->f), n + 4); /* no lookup */
}

/* radosgw's own recovery: a retry answered 200 without x-amz-version-id. The version
 * is looked up; none of ours is an integrity failure; unprovable part ETags leave the
 * answer as it came. */
static void test_lost_answer_200_without_version(void **state)
{
    struct s3t_fx *x = *state;
    char vid[S3_MAX_VERSION_ID + 1] = "unchanged";
    char kms[2][S3_MAX_ETAG + 1] = {"\"opaque-kms-etag-1\"", ETAG_B};
    struct s3_complete in = in_k;
    static const char done[] =
        "<CompleteMultipartUploadResult><ETag>" ETAG_AB "</ETag></CompleteMultipartUploadResult>";
    bool gone = true;
    struct cm_err err;

    s3t_push(x->f, 0, 503, NULL, NULL, 0);
    s3t_push(x->f, 0, 200, NULL, done, 0);
    s3t_push(x->f, 0, 200, "Content-Length: 7\nETag: " ETAG_AB "\nx-amz-version-id: v3\n", NULL, 0);
    assert_int_equal(s3_complete_multipart(x->c, &in_k, vid, &gone, &err), 0);
    assert_string_equal(vid, "v3");
    assert_false(gone);
    assert_string_equal(s3_fault_get(x->f, 2)->method, "HEAD");

    /* Unversioned: the object is ours, no version id, no listing. */
    s3t_push(x->f, CM_ECONN, 0, NULL, NULL, 0);
    s3t_push(x->f, 0, 200, NULL, done, 0);
    s3t_push(x->f, 0, 200, "Content-Length: 7\nETag: " ETAG_AB "\n", NULL, 0);
    assert_int_equal(s3_complete_multipart(x->c, &in_k, vid, &gone, &err), 0);
    assert_string_equal(vid, "");
    assert_int_equal(s3_fault_count(x->f), 6);

    s3t_push(x->f, CM_ECONN, 0, NULL, NULL, 0);
    s3t_push(x->f, 0, 200, NULL, done, 0);
    s3t_push(x->f, 0, 200, "Content-Length: 6\nETag: " ETAG_AB "\n", NULL, 0);
    (void)snprintf(vid, sizeof(vid), "unchanged");
    assert_int_equal(s3_complete_multipart(x->c, &in_k, vid, &gone, &err), CM_EINTEGRITY);
    assert_string_equal(err.msg, "k: a retried CompleteMultipartUpload answered without a "
                                 "version id and no object with the expected ETag " ETAG_AB
                                 " and size 7 (upload id up-1)");
    assert_string_equal(vid, "unchanged");

    in.etags = kms;
    s3t_push(x->f, CM_ECONN, 0, NULL, NULL, 0);
    s3t_push(x->f, 0, 200, NULL, done, 0);
    assert_int_equal(s3_complete_multipart(x->c, &in, vid, &gone, &err), 0);
    assert_string_equal(vid, "");
    assert_int_equal(s3_fault_count(x->f), 11); /* no lookup */

    /* A first attempt's 200 without a version id stands: an unversioned bucket. */
    (void)snprintf(vid, sizeof(vid), "unchanged");
    s3t_push(x->f, 0, 200, NULL, done, 0);
    assert_int_equal(s3_complete_multipart(x->c, &in_k, vid, &gone, &err), 0);
    assert_string_equal(vid, "");
    assert_int_equal(s3_fault_count(x->f), 12);
}

/* OOM loop over a recovery that HEADs and lists: every failed allocation returns
 * CM_ENOMEM (a NoSuchUpload whose body could not be kept is never read as another 404)
 * and leaks nothing. Each run gets a fresh fault server and client. */
static void test_recovery_oom(void **state)
{
    long n;
    int rc;

    (void)state;
    for (n = 1;; n++) {
        void *run = NULL;
        struct s3t_fx *x;
        char vid[S3_MAX_VERSION_ID + 1] = "";
        struct cm_err err;

        assert_int_equal(s3t_setup(&run), 0);
        x = run;
        s3t_push(x->f, CM_ECONN, 0, NULL, NULL, 0);
        s3t_push(x->f, 0, 404, NULL, NO_SUCH_UPLOAD, 0);
        s3t_push(x->f, 0, 200, "Content-Length: 7\nETag: \"other-1\"\nx-amz-version-id: v9\n", NULL,
                 0);
        s3t_push(x->f, 0, 200, NULL,
                 "<ListVersionsResult><IsTruncated>false</IsTruncated>"
                 "<Version><Key>k</Key><VersionId>v5</VersionId><ETag>" ETAG_AB "</ETag>"
                 "<Size>7</Size></Version></ListVersionsResult>",
                 0);
        cm_alloc_fault_set(n);
        rc = s3_complete_multipart(x->c, &in_k, vid, NULL, &err);
        cm_alloc_fault_set(0);
        (void)s3t_teardown(&run);
        if (rc == 0) {
            assert_string_equal(vid, "v5");
            break;
        }
        if (rc != CM_ENOMEM)
            fail_msg("allocation %ld: %s", n, err.msg);
        assert_string_equal(vid, "");
    }
    assert_true(n > 5);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, s3t_setup_data, s3t_teardown)
    const struct CMUnitTest tests[] = {
        T(test_multipart_etag_vector),
        T(test_multipart_etag_limits),
        T(test_lost_answer_after_reset),
        T(test_lost_answer_after_5xx),
        T(test_lost_answer_older_version),
        T(test_lost_answer_other_object),
        T(test_no_such_upload_first_attempt),
        T(test_lost_answer_lookup_fails),
        T(test_lost_answer_busy),
        T(test_lost_answer_200_without_version),
        T(test_recovery_oom),
    };
#undef T

    cm_log_set_level(CM_LOG_OFF);
    return cmocka_run_group_tests_name("s3_complete", tests, NULL, NULL);
}
