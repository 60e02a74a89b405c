/* SPDX-License-Identifier: Apache-2.0 */
/* test_s3_upload.c - the streaming uploader on the fault transport (the fixture is
 * tests/support/s3_testutil.h): single PUT below one part, multipart above it with
 * Content-MD5 on every part, lock headers on CreateMultipartUpload plus
 * PutObjectRetention on the completed version, HEAD for the ETag, part retries from the
 * buffer, abort on failure, sticky errors, read callbacks, and digests hashed as bytes
 * arrive that match each request's body whatever the write pattern. */
#include "backup/s3/s3_int.h"
#include "tests/support/s3_fault.h"
#include "tests/support/s3_testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PART S3_MIN_PART_SIZE

/* The digests of no bytes. */
#define EMPTY_MD5_B64 "1B2M2Y8AsgTpgAmY7PhCfg=="
#define EMPTY_SHA256_HEX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Writes x->data in uneven chunks. */
static int write_all(struct s3_upload *u, const unsigned char *p, size_t n, struct cm_err *err)
{
    size_t off = 0;
    size_t step = 1;

    while (off < n) {
        size_t k = n - off < step ? n - off : step;
        int rc = s3_upload_write(u, p + off, k, err);

        if (rc != 0)
            return rc;
        off += k;
        step = step * 3 + 1;
        if (step > 1000000)
            step = 77777;
    }
    return 0;
}

/* Asserts that the last request sent no body, with the digests of no bytes. */
static void assert_last_empty(const struct s3t_fx *x)
{
    const struct s3_fault_rec *r = s3_fault_get(x->f, s3_fault_count(x->f) - 1);

    assert_int_equal(r->body_len, 0);
    s3t_assert_digests(r);
    assert_string_equal(s3_fault_header(r, "Content-MD5"), EMPTY_MD5_B64);
    assert_string_equal(s3_fault_header(r, "x-amz-content-sha256"), EMPTY_SHA256_HEX);
}

/* Asserts that b is a sent again: the same URL, the same bytes (by their digests) and the
 * same digest headers, each correct for the bytes received. */
static void assert_resent(const struct s3_fault_rec *a, const struct s3_fault_rec *b)
{
    s3t_assert_digests(a);
    s3t_assert_digests(b);
    assert_string_equal(a->url, b->url);
    assert_string_equal(a->body_md5_b64, b->body_md5_b64);
    assert_string_equal(s3_fault_header(a, "Content-MD5"), s3_fault_header(b, "Content-MD5"));
    assert_string_equal(s3_fault_header(a, "x-amz-content-sha256"),
                        s3_fault_header(b, "x-amz-content-sha256"));
}

static void test_multipart_locked(void **state)
{
    struct s3t_fx *x = *state;
    struct s3_upload *u = NULL;
    struct s3_put_opts po;
    struct s3_put_result res;
    char want_sha[65];
    const struct s3_fault_rec *r;
    struct cm_err err;
    size_t i;

    memset(&po, 0, sizeof(po));
    po.lock_mode = S3_LOCK_COMPLIANCE;
    po.retain_until = cm_time_from_utc(2027, 3, 4, 5, 6, 7);
    po.legal_hold = true;
    assert_int_equal(s3_upload_open(x->c, "prod/rp/archive.tar.gz", &po, &u, &err), 0);
    assert_int_equal(write_all(u, x->data, x->len, &err), 0);
    assert_int_equal(s3_fault_count(x->f), 3); /* create + 2 full parts so far */
    assert_int_equal(s3_upload_close(u, &res, &err), 0);
    s3_sha256_hex(x->data, x->len, want_sha);
    assert_string_equal(res.sha256_hex, want_sha);
    assert_int_equal(res.size, x->len);
    assert_int_equal(res.parts, 3);
    assert_string_equal(res.version_id, "fv1");
    assert_string_equal(res.etag, "\"head-etag\""); /* from HEAD: Complete's ETag is empty */

    /* create, part 1..3, complete, retention, legal hold, head */
    assert_int_equal(s3_fault_count(x->f), 8);
    r = s3_fault_get(x->f, 0);
    assert_string_equal(r->method, "POST");
    assert_string_equal(r->url, "http://127.0.0.1:9/b-test/prod/rp/archive.tar.gz?uploads=");
    assert_string_equal(s3_fault_header(r, "x-amz-object-lock-mode"), "COMPLIANCE");
    assert_string_equal(s3_fault_header(r, "x-amz-object-lock-retain-until-date"),
                        "2027-03-04T05:06:07Z");
    s3t_assert_digests(r);
    for (i = 1; i <= 3; i++) {
        char want[160];

        r = s3_fault_get(x->f, i);
        (void)snprintf(want, sizeof(want),
                       "http://127.0.0.1:9/b-test/prod/rp/archive.tar.gz?partNumber=%zu&"
                       "uploadId=fault-upload-1",
                       i);
        assert_string_equal(r->method, "PUT");
        assert_string_equal(r->url, want);
        assert_int_equal(r->body_len, i < 3 ? PART : 12345);
        s3t_assert_digests(r); /* Content-MD5 and sha256 of this part's bytes */
    }
    r = s3_fault_get(x->f, 4);
    assert_string_equal(r->method, "POST");
    assert_non_null(strstr(r->url, "?uploadId=fault-upload-1"));
    s3t_assert_digests(r);
    assert_non_null(strstr(r->body_head, "<Part><PartNumber>3</PartNumber><ETag>&quot;"));
    r = s3_fault_get(x->f, 5);
    assert_string_equal(r->url, "http://127.0.0.1:9/b-test/prod/rp/archive.tar.gz?retention=&"
                                "versionId=fv1");
    assert_non_null(strstr(r->body_head, "<RetainUntilDate>2027-03-04T05:06:07Z"));
    s3t_assert_digests(r);
    r = s3_fault_get(x->f, 6);
    assert_non_null(strstr(r->url, "?legal-hold=&versionId=fv1"));
    r = s3_fault_get(x->f, 7);
    assert_string_equal(r->method, "HEAD");
    assert_non_null(strstr(r->url, "?versionId=fv1"));
}

static void test_single_put_below_one_part(void **state)
{
    struct s3t_fx *x = *state;
    struct s3_upload *u = NULL;
    struct s3_put_opts po;
    struct s3_put_result res;
    const struct s3_fault_rec *r;
    struct cm_err err;

    memset(&po, 0, sizeof(po));
    po.lock_mode = S3_LOCK_GOVERNANCE;
    po.retain_until = 2000000000;
    /* A full buffer starts a multipart upload, so PART - 1 bytes stay a single PUT. */
    assert_int_equal(s3_upload_open(x->c, "small", &po, &u, &err), 0);
    assert_int_equal(write_all(u, x->data, PART - 1, &err), 0);
    assert_int_equal(s3_fault_count(x->f), 0); /* nothing sent until close */
    assert_int_equal(s3_upload_close(u, &res, &err), 0);
    assert_int_equal(s3_fault_count(x->f), 1);
    r = s3_fault_get(x->f, 0);
    assert_string_equal(r->method, "PUT");
    assert_string_equal(r->url, "http://127.0.0.1:9/b-test/small");
    assert_int_equal(r->body_len, PART - 1);
    s3t_assert_digests(r);
    assert_string_equal(s3_fault_header(r, "x-amz-object-lock-mode"), "GOVERNANCE");
    assert_int_equal(res.parts, 0);

    /* PART bytes: the buffer filled, so it became a one-part multipart upload. */
    assert_int_equal(s3_upload_open(x->c, "one-part", NULL, &u, &err), 0);
    assert_int_equal(s3_upload_write(u, x->data, PART, &err), 0);
    assert_int_equal(s3_upload_close(u, &res, &err), 0);
    assert_int_equal(res.parts, 1);
    assert_int_equal(res.size, PART);

    /* An empty object. */
    assert_int_equal(s3_upload_open(x->c, "empty", NULL, &u, &err), 0);
    assert_int_equal(s3_upload_close(u, &res, &err), 0);
    assert_last_empty(x);
    assert_string_equal(res.sha256_hex, EMPTY_SHA256_HEX);
}

static void test_part_retry_resends_buffer(void **state)
{
    struct s3t_fx *x = *state;
    struct s3_upload *u = NULL;
    struct s3_put_result res;
    struct cm_err err;

    s3t_push_auto(x->f, 2);                                                  /* create, part 1 */
    s3t_push(x->f, 0, 503, NULL, "<Error><Code>SlowDown</Code></Error>", 0); /* part 2 */
    s3t_push(x->f, CM_ECONN, 0, NULL, NULL, 0);                              /* part 2 again */
    assert_int_equal(s3_upload_open(x->c, "k", NULL, &u, &err), 0);
    assert_int_equal(write_all(u, x->data, x->len, &err), 0);
    assert_int_equal(s3_upload_close(u, &res, &err), 0);
    assert_int_equal(res.parts, 3);
    assert_resent(s3_fault_get(x->f, 2), s3_fault_get(x->f, 4));
    assert_int_equal(s3_fault_sleeps(x->f), 2);
}

/* s3_upload_room(): the bytes a write takes without a request; at the limit nothing is
 * sent, one more byte sends the part; 0 once the upload failed. */
static void test_room(void **state)
{
    struct s3t_fx *x = *state;
    struct s3_upload *u = NULL;
    struct s3_put_result res;
    struct cm_err err;

    assert_int_equal(s3_upload_open(x->c, "room", NULL, &u, &err), 0);
    assert_int_equal(s3_upload_room(u), PART - 1);
    assert_int_equal(s3_upload_write(u, x->data, 10, &err), 0);
    assert_int_equal(s3_upload_room(u), PART - 11);
    assert_int_equal(s3_upload_write(u, x->data, PART - 11, &err), 0); /* exactly the room */
    assert_int_equal(s3_fault_count(x->f), 0);
    assert_int_equal(s3_upload_room(u), 0);
    assert_int_equal(s3_upload_write(u, x->data, 1, &err), 0); /* one more: the part goes */
    assert_int_equal(s3_fault_count(x->f), 2);                 /* create + part 1 */
    assert_int_equal(s3_upload_room(u), PART - 1);
    assert_int_equal(s3_upload_close(u, &res, &err), 0);
    assert_int_equal(res.size, PART);

    s3t_push(x->f, 0, 403, NULL, "<Error><Code>AccessDenied</Code></Error>", 0);
    assert_int_equal(s3_upload_open(x->c, "room2", NULL, &u, &err), 0);
    assert_int_equal(s3_upload_write(u, x->data, PART, &err), CM_EAUTH);
    assert_int_equal(s3_upload_room(u), 0);
    s3_upload_abort(u);
}

static void test_part_failure_aborts(void **state)
{
    struct s3t_fx *x = *state;
    struct s3_upload *u = NULL;
    const struct s3_fault_rec *r;
    struct cm_err err;
    int rc;
    int i;

    s3t_push_auto(x->f, 2); /* create, part 1 */
    for (i = 0; i < 4; i++)
        s3t_push(x->f, 0, 500, NULL, "<Error><Code>InternalError</Code></Error>", 0);
    assert_int_equal(s3_upload_open(x->c, "k", NULL, &u, &err), 0);
    rc = write_all(u, x->data, x->len, &err);
    assert_int_equal(rc, CM_EAGAIN);
    assert_non_null(strstr(err.msg, "part 2"));
    /* Sticky: later calls fail the same way without I/O. */
    assert_int_equal(s3_upload_write(u, "x", 1, &err), CM_EAGAIN);
    assert_int_equal(s3_fault_count(x->f), 6);
    assert_int_equal(s3_upload_close(u, NULL, &err), CM_EAGAIN);
    r = s3_fault_get(x->f, 6);
    assert_non_null(r);
    assert_string_equal(r->method, "DELETE");
    assert_string_equal(r->url, "http://127.0.0.1:9/b-test/k?uploadId=fault-upload-1");
    assert_int_equal(s3_fault_count(x->f), 7);
}

static void test_abort_frees_and_aborts(void **state)
{
    struct s3t_fx *x = *state;
    struct s3_upload *u = NULL;
    struct cm_err err;

    assert_int_equal(s3_upload_open(x->c, "k", NULL, &u, &err), 0);
    assert_int_equal(s3_upload_write(u, x->data, PART + 1, &err), 0);
    s3_upload_abort(u);
    assert_int_equal(s3_fault_count(x->f), 3);
    assert_string_equal(s3_fault_get(x->f, 2)->method, "DELETE");
    /* Nothing started: abort sends nothing. */
    assert_int_equal(s3_upload_open(x->c, "k", NULL, &u, &err), 0);
    assert_int_equal(s3_upload_write(u, "abc", 3, &err), 0);
    s3_upload_abort(u);
    assert_int_equal(s3_fault_count(x->f), 3);
    s3_upload_abort(NULL);
}

static void test_complete_errors(void **state)
{
    struct s3t_fx *x = *state;
    struct s3_upload *u = NULL;
    struct s3_put_opts po;
    struct cm_err err;
    int rc;

    /* 200 OK with an <Error> body on CompleteMultipartUpload: failure + abort. */
    s3t_push_auto(x->f, 4); /* create, 3 parts */
    s3t_push(x->f, 0, 200, NULL,
             "<Error><Code>InternalError</Code><Message>retry</Message></Error>", 0);
    assert_int_equal(s3_upload_open(x->c, "k", NULL, &u, &err), 0);
    assert_int_equal(write_all(u, x->data, 2 * PART + 1, &err), 0);
    rc = s3_upload_close(u, NULL, &err);
    assert_int_equal(rc, CM_EAGAIN);
    assert_non_null(strstr(err.msg, "InternalError"));
    assert_string_equal(s3_fault_get(x->f, 5)->method, "DELETE");

    /* Retention refused after completion: reported, nothing to abort any more. */
    memset(&po, 0, sizeof(po));
    po.lock_mode = S3_LOCK_COMPLIANCE;
    po.retain_until = 2000000000;
    s3t_push_auto(x->f, 4); /* create, 2 parts, complete */
    s3t_push(x->f, 0, 400, NULL,
             "<Error><Code>InvalidRequest</Code><Message>no lock</Message></Error>", 0);
    assert_int_equal(s3_upload_open(x->c, "k2", &po, &u, &err), 0);
    assert_int_equal(write_all(u, x->data, PART + 7, &err), 0);
    rc = s3_upload_close(u, NULL, &err);
    assert_int_equal(rc, CM_EHTTP);
    assert_non_null(strstr(err.msg, "object stored but not locked"));
    assert_int_equal(s3_fault_count(x->f), 11); /* 6 above + create, 2 parts, complete, retention */
    assert_string_equal(s3_fault_get(x->f, 10)->method, "PUT");
    assert_non_null(strstr(s3_fault_get(x->f, 10)->url, "?retention="));

    /* The server holds a different size than was written: integrity failure. */
    s3t_push_auto(x->f, 4);
    s3t_push(x->f, 0, 200, "Content-Length: 3\nETag: \"x\"\n", NULL, 0);
    assert_int_equal(s3_upload_open(x->c, "k3", NULL, &u, &err), 0);
    assert_int_equal(write_all(u, x->data, PART + 9, &err), 0);
    assert_int_equal(s3_upload_close(u, NULL, &err), CM_EINTEGRITY);
}

/* One run of a write pattern: count writes of size bytes (REST: what is left). */
#define REST ((size_t)-1)
struct run {
    size_t size;
    size_t count;
};

/* Asserts that r's body is want[0..k) and that its Content-MD5 and x-amz-content-sha256
 * are the digests of the bytes received (computed by the fault transport from the
 * recorded body) and of want[0..k). */
static void assert_slice(const struct s3_fault_rec *r, const unsigned char *want, size_t k)
{
    char sha[65];
    char md5[25];

    assert_int_equal(r->body_len, k);
    assert_memory_equal(r->body_head, want, k < 4096 ? k : 4096);
    s3t_assert_digests(r);
    s3_sha256_hex(want, k, sha);
    s3_md5_base64(want, k, md5);
    assert_string_equal(s3_fault_header(r, "x-amz-content-sha256"), sha);
    assert_string_equal(s3_fault_header(r, "Content-MD5"), md5);
}

/* Asserts that the requests from index `first` on that carry object bytes (the single
 * PUT, or each part in order) received exactly the next slice of want[0..len), and that
 * their Content-MD5 and x-amz-content-sha256 are the digests of the bytes received
 * (computed by the fault transport from the recorded body) and of that slice. Returns
 * how many such requests there were. */
static size_t assert_body_digests(const struct s3t_fx *x, size_t first, const unsigned char *want,
                                  size_t len)
{
    size_t off = 0;
    size_t n = 0;
    size_t i;

    for (i = first; i < s3_fault_count(x->f); i++) {
        const struct s3_fault_rec *r = s3_fault_get(x->f, i);
        bool part = strstr(r->url, "partNumber=") != NULL;
        bool single = strchr(r->url, '?') == NULL;
        size_t k;

        if (strcmp(r->method, "PUT") != 0 || (!part && !single))
            continue;
        k = len - off < PART ? len - off : PART;
        assert_slice(r, want + off, k);
        off += k;
        n++;
    }
    assert_int_equal(off, len);
    return n;
}

/* Uploads x->data[0..len) written as runs describes, then checks every body's digests
 * and the result. */
static void upload_pattern(struct s3t_fx *x, const char *key, size_t len, const struct run *runs,
                           size_t n_runs, unsigned want_parts)
{
    struct s3_upload *u = NULL;
    struct s3_put_result res;
    size_t first = s3_fault_count(x->f);
    char want_sha[65];
    struct cm_err err;
    size_t off = 0;
    size_t i;
    size_t j;

    assert_int_equal(s3_upload_open(x->c, key, NULL, &u, &err), 0);
    for (i = 0; i < n_runs; i++) {
        for (j = 0; j < runs[i].count; j++) {
            size_t k = runs[i].size == REST ? len - off : runs[i].size;

            assert_true(k <= len - off);
            assert_int_equal(s3_upload_write(u, x->data + off, k, &err), 0);
            off += k;
        }
    }
    assert_int_equal(off, len);
    assert_int_equal(s3_upload_close(u, &res, &err), 0);
    assert_int_equal(res.parts, want_parts);
    assert_int_equal(res.size, len);
    s3_sha256_hex(x->data, len, want_sha);
    assert_string_equal(res.sha256_hex, want_sha);
    assert_int_equal(assert_body_digests(x, first, x->data, len), want_parts ? want_parts : 1);
}

static void test_digests_whatever_the_writes(void **state)
{
    struct s3t_fx *x = *state;
    const struct run one_big[] = {{REST, 1}};
    const struct run bytes[] = {{1, 4099}};
    const struct run bytes_across[] = {{PART - 3000, 1}, {1, 6000}, {REST, 1}};
    const struct run straddle[] = {{PART - 10, 1}, {20, 1}, {PART - 20, 1}, {33, 1}, {REST, 1}};
    const struct run fill[] = {{PART, 1}};
    const struct run fill_twice[] = {{PART, 2}, {5, 1}};
    const struct run fill_after[] = {{7, 1}, {PART - 7, 1}, {REST, 1}};
    const struct run empty_writes[] = {{0, 3}, {REST, 1}, {0, 2}};

    upload_pattern(x, "one-big", x->len, one_big, 1, 3);
    upload_pattern(x, "one-big-single", PART - 1, one_big, 1, 0); /* the largest single PUT */
    upload_pattern(x, "bytes", 4099, bytes, 1, 0);
    upload_pattern(x, "bytes-across", PART + 3000, bytes_across, 3, 2);
    upload_pattern(x, "straddle", x->len, straddle, 5, 3);
    upload_pattern(x, "fill", PART, fill, 1, 1); /* sent by the write, close adds none */
    upload_pattern(x, "fill-twice", 2 * PART + 5, fill_twice, 2, 3);
    upload_pattern(x, "fill-after", PART + 1, fill_after, 3, 2);
    upload_pattern(x, "zero-length-writes", 1000, empty_writes, 3, 0);
    upload_pattern(x, "empty", 0, NULL, 0, 0);
    assert_last_empty(x);
}

/* A request refused with 503 is resent with the same digests, which are still those of
 * its bytes: for a part (the next part gets its own) and for the single PUT. */
static void test_retry_keeps_digests(void **state)
{
    struct s3t_fx *x = *state;
    struct s3_upload *u = NULL;
    struct s3_put_result res;
    const struct s3_fault_rec *a;
    const struct s3_fault_rec *b;
    struct cm_err err;
    size_t first;

    s3t_push_auto(x->f, 1);                                                  /* create */
    s3t_push(x->f, 0, 503, NULL, "<Error><Code>SlowDown</Code></Error>", 0); /* part 1 */
    s3t_push_auto(x->f, 2);                                                  /* part 1 again, 2 */
    s3t_push(x->f, 0, 503, NULL, "<Error><Code>SlowDown</Code></Error>", 0); /* part 3 */
    assert_int_equal(s3_upload_open(x->c, "k", NULL, &u, &err), 0);
    assert_int_equal(write_all(u, x->data, x->len, &err), 0);
    assert_int_equal(s3_upload_close(u, &res, &err), 0);
    assert_int_equal(res.parts, 3);
    assert_int_equal(s3_fault_sleeps(x->f), 2);
    a = s3_fault_get(x->f, 1);
    b = s3_fault_get(x->f, 2);
    assert_resent(a, b);
    assert_slice(a, x->data, PART);
    assert_slice(b, x->data, PART);
    assert_slice(s3_fault_get(x->f, 3), x->data + PART, PART); /* part 2: its own digests */
    a = s3_fault_get(x->f, 4);
    b = s3_fault_get(x->f, 5);
    assert_resent(a, b);
    assert_non_null(strstr(a->url, "partNumber=3"));
    assert_slice(a, x->data + 2 * PART, x->len - 2 * PART);
    assert_slice(b, x->data + 2 * PART, x->len - 2 * PART);

    first = s3_fault_count(x->f);
    s3t_push(x->f, 0, 503, NULL, "<Error><Code>SlowDown</Code></Error>", 0);
    assert_int_equal(s3_upload_open(x->c, "single", NULL, &u, &err), 0);
    assert_int_equal(write_all(u, x->data, 100000, &err), 0);
    assert_int_equal(s3_upload_close(u, &res, &err), 0);
    assert_int_equal(s3_fault_count(x->f), first + 2);
    a = s3_fault_get(x->f, first);
    b = s3_fault_get(x->f, first + 1);
    assert_resent(a, b);
    assert_slice(a, x->data, 100000);
    assert_slice(b, x->data, 100000);
}

struct reader {
    const unsigned char *p;
    size_t n;
    size_t off;
    int fail_at_call;
    int calls;
};

static int read_cb(void *buf, size_t cap, size_t *got, void *ctx)
{
    struct reader *r = ctx;
    size_t k = r->n - r->off;

    r->calls++;
    if (r->fail_at_call > 0 && r->calls == r->fail_at_call)
        return CM_EIO;
    if (k > cap)
        k = cap;
    if (k > 1000003)
        k = 1000003;
    memcpy(buf, r->p + r->off, k);
    r->off += k;
    *got = k;
    return 0;
}

static void test_put_stream(void **state)
{
    struct s3t_fx *x = *state;
    struct reader rd = {x->data, x->len, 0, 0, 0};
    struct s3_put_result res;
    char want[65];
    struct cm_err err;
    size_t before;

    assert_int_equal(s3_client_put_stream(x->c, "s", read_cb, &rd, NULL, &res, &err), 0);
    s3_sha256_hex(x->data, x->len, want);
    assert_string_equal(res.sha256_hex, want);
    assert_int_equal(res.parts, 3);
    assert_int_equal(s3_fault_stored_size(x->f), x->len);

    /* The data source fails after a part went out: returned, upload aborted. */
    before = s3_fault_count(x->f);
    memset(&rd, 0, sizeof(rd));
    rd.p = x->data;
    rd.n = x->len;
    rd.fail_at_call = 120; /* past the first 5 MiB part (64 KiB reads) */
    assert_int_equal(s3_client_put_stream(x->c, "s", read_cb, &rd, NULL, &res, &err), CM_EIO);
    assert_non_null(strstr(err.msg, "the data source failed"));
    assert_string_equal(s3_fault_get(x->f, s3_fault_count(x->f) - 1)->method, "DELETE");
    assert_true(s3_fault_count(x->f) > before + 2);
    assert_int_equal(s3_client_put_stream(x->c, "s", NULL, &rd, NULL, &res, &err), CM_EINVAL);
}

static int greedy_read(void *buf, size_t cap, size_t *got, void *ctx)
{
    (void)buf;
    (void)ctx;
    *got = cap + 1; /* a broken source claiming more than the buffer holds */
    return 0;
}

static void test_part_without_etag(void **state)
{
    struct s3t_fx *x = *state;
    struct s3_upload *u = NULL;
    struct s3_put_result res;
    struct cm_err err;

    s3t_push_auto(x->f, 1);                /* create */
    s3t_push(x->f, 0, 200, NULL, NULL, 0); /* part 1 answered without an ETag */
    assert_int_equal(s3_upload_open(x->c, "k", NULL, &u, &err), 0);
    assert_int_equal(s3_upload_write(u, x->data, PART, &err), CM_EPROTO);
    assert_non_null(strstr(err.msg, "no ETag"));
    s3_upload_abort(u);
    assert_string_equal(s3_fault_get(x->f, 2)->method, "DELETE");
    assert_int_equal(s3_client_put_stream(x->c, "k", greedy_read, NULL, NULL, &res, &err),
                     CM_EINVAL);
    assert_int_equal(s3_upload_close(NULL, &res, &err), CM_EINVAL);
}

static void test_part_limit(void **state)
{
    struct s3t_fx *x = *state;
    struct s3_upload *u = NULL;
    struct s3_put_result res;
    struct cm_err err;

    s3_client_max_parts_set_(x->c, 2);
    /* Exactly the limit: 2 parts (the second one sent by close). */
    assert_int_equal(s3_upload_open(x->c, "k", NULL, &u, &err), 0);
    assert_int_equal(s3_upload_write(u, x->data, 2 * PART, &err), 0);
    assert_int_equal(s3_upload_close(u, &res, &err), 0);
    assert_int_equal(res.parts, 2);
    /* Limit + 1: the third part is refused, the upload aborted. */
    assert_int_equal(s3_upload_open(x->c, "k", NULL, &u, &err), 0);
    assert_int_equal(s3_upload_write(u, x->data, 2 * PART, &err), 0);
    assert_int_equal(s3_upload_write(u, x->data, 1, &err), 0);
    assert_int_equal(s3_upload_close(u, &res, &err), CM_ETOOBIG);
    assert_non_null(strstr(err.msg, "more than 2 parts"));
    assert_string_equal(s3_fault_get(x->f, s3_fault_count(x->f) - 1)->method, "DELETE");
}

static void test_open_validation_and_oom(void **state)
{
    struct s3t_fx *x = *state;
    struct s3_upload *u = NULL;
    struct s3_put_opts po;
    struct s3_meta meta = {"k", "v"};
    struct s3_put_result res;
    struct cm_err err;
    long n;
    int rc;

    memset(&po, 0, sizeof(po));
    po.lock_mode = S3_LOCK_COMPLIANCE;
    assert_int_equal(s3_upload_open(x->c, "k", &po, &u, &err), CM_EINVAL);
    assert_int_equal(s3_upload_open(x->c, "", NULL, &u, &err), CM_EINVAL);
    assert_null(u);
    po.retain_until = 2000000000;
    po.meta = &meta;
    po.n_meta = 1;
    po.content_type = "application/gzip";
    for (n = 1;; n++) {
        cm_alloc_fault_set(n);
        rc = s3_upload_open(x->c, "k", &po, &u, &err);
        if (rc == 0)
            rc = s3_upload_write(u, x->data, PART + 3, &err);
        if (rc == 0) {
            rc = s3_upload_close(u, &res, &err);
            u = NULL;
        } else if (u != NULL) {
            s3_upload_abort(u);
            u = NULL;
        }
        cm_alloc_fault_set(0);
        if (rc == 0)
            break;
        assert_int_equal(rc, CM_ENOMEM);
    }
    assert_true(n > 4);
    assert_int_equal(res.parts, 2);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, s3t_setup_data, s3t_teardown)
    const struct CMUnitTest tests[] = {
        T(test_multipart_locked),          T(test_single_put_below_one_part),
        T(test_part_retry_resends_buffer), T(test_room),
        T(test_part_failure_aborts),       T(test_abort_frees_and_aborts),
        T(test_complete_errors),           T(test_put_stream),
        T(test_part_without_etag),         T(test_part_limit),
        T(test_open_validation_and_oom),   T(test_digests_whatever_the_writes),
        T(test_retry_keeps_digests),
    };
#undef T

    cm_log_set_level(CM_LOG_OFF);
    return cmocka_run_group_tests_name("s3_upload", tests, NULL, NULL);
}
