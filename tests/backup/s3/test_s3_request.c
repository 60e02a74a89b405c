/* SPDX-License-Identifier: Apache-2.0 */
/* test_s3_request.c - the client's request engine on the recording/fault transport (the
 * fixture is tests/support/s3_testutil.h): digests a caller precomputed, retries with
 * backoff and Retry-After, connection resets and timeouts, truncated XML, error mapping,
 * and downloads (ranges, resume after a reset, the in-memory limit). The requests the
 * client builds are in test_s3_client.c. */
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

/* Digests a caller precomputed go on the wire verbatim, deliberately wrong ones included:
 * the engine does not hash the body again (the server is what checks them). */
static void test_request_precomputed_digests(void **state)
{
    static const char wrong_md5[] = "AAAAAAAAAAAAAAAAAAAAAA==";
    static const char wrong_sha[] =
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    struct s3t_fx *x = *state;
    struct s3_req r;
    struct s3_resp resp;
    struct s3_put_result res;
    const struct s3_fault_rec *rec;
    char sha[65];
    char md5[25];
    struct cm_err err;

    memset(&r, 0, sizeof(r));
    r.method = "PUT";
    r.key = "k";
    r.body = (const unsigned char *)"hello";
    r.body_len = 5;
    r.body_md5_b64 = wrong_md5;
    r.body_sha256_hex = wrong_sha;
    s3t_push(x->f, 0, 503, NULL, S3T_ERRBODY("SlowDown", "x"), 0);
    assert_int_equal(s3_request(x->c, &r, &resp, &err), 0);
    cm_buf_free(&resp.body);
    assert_int_equal(s3_fault_count(x->f), 2);
    for (size_t i = 0; i < 2; i++) { /* the retry carries them too */
        rec = s3_fault_get(x->f, i);
        assert_string_equal(s3_fault_header(rec, "Content-MD5"), wrong_md5);
        assert_string_equal(s3_fault_header(rec, "x-amz-content-sha256"), wrong_sha);
        assert_string_not_equal(rec->body_md5_b64, wrong_md5); /* not what was sent */
        assert_string_not_equal(rec->body_sha256_hex, wrong_sha);
    }
    /* Only one of them given: the other is computed from the body. */
    r.body_sha256_hex = NULL;
    assert_int_equal(s3_request(x->c, &r, &resp, &err), 0);
    cm_buf_free(&resp.body);
    rec = s3_fault_get(x->f, 2);
    assert_string_equal(s3_fault_header(rec, "Content-MD5"), wrong_md5);
    assert_string_equal(s3_fault_header(rec, "x-amz-content-sha256"), rec->body_sha256_hex);
    r.body_sha256_hex = wrong_sha;
    r.body_md5_b64 = NULL;
    assert_int_equal(s3_request(x->c, &r, &resp, &err), 0);
    cm_buf_free(&resp.body);
    rec = s3_fault_get(x->f, 3);
    assert_string_equal(s3_fault_header(rec, "Content-MD5"), rec->body_md5_b64);
    assert_string_equal(s3_fault_header(rec, "x-amz-content-sha256"), wrong_sha);
    /* Content-MD5 stays a PUT/POST header: a GET ignores a given MD5. */
    memset(&r, 0, sizeof(r));
    r.method = "GET";
    r.key = "k";
    r.body_md5_b64 = wrong_md5;
    assert_int_equal(s3_request(x->c, &r, &resp, &err), 0);
    cm_buf_free(&resp.body);
    rec = s3_fault_get(x->f, 4);
    assert_null(s3_fault_header(rec, "Content-MD5"));
    assert_string_equal(s3_fault_header(rec, "x-amz-content-sha256"), rec->body_sha256_hex);

    /* The internal PUT with digests: sent as given, and the result's SHA-256 is the
     * given one (not hashed a third time). */
    s3_sha256_hex("payload", 7, sha);
    s3_md5_base64("payload", 7, md5);
    assert_int_equal(
        s3_client_put_object_hashed(x->c, "p", "payload", 7, NULL, sha, md5, &res, &err), 0);
    rec = s3_fault_get(x->f, 5);
    s3t_assert_digests(rec);
    assert_string_equal(res.sha256_hex, sha);
    assert_int_equal(res.size, 7);
    assert_int_equal(
        s3_client_put_object_hashed(x->c, "p", "payload", 7, NULL, wrong_sha, NULL, &res, &err), 0);
    rec = s3_fault_get(x->f, 6);
    assert_string_equal(s3_fault_header(rec, "x-amz-content-sha256"), wrong_sha);
    assert_string_equal(s3_fault_header(rec, "Content-MD5"), rec->body_md5_b64);
    assert_string_equal(res.sha256_hex, wrong_sha);
    /* NULL digests: exactly s3_client_put_object. */
    assert_int_equal(
        s3_client_put_object_hashed(x->c, "p", "payload", 7, NULL, NULL, NULL, &res, &err), 0);
    s3t_assert_digests(s3_fault_get(x->f, 7));
    assert_string_equal(res.sha256_hex, sha);

    /* What a server answers to a wrong digest is an integrity failure. */
    s3t_push(x->f, 0, 400, NULL, S3T_ERRBODY("XAmzContentSHA256Mismatch", "sha"), 0);
    assert_int_equal(
        s3_client_put_object_hashed(x->c, "p", "payload", 7, NULL, wrong_sha, md5, &res, &err),
        CM_EINTEGRITY);
    s3t_push(x->f, 0, 400, NULL, S3T_ERRBODY("BadDigest", "md5"), 0);
    assert_int_equal(
        s3_client_put_object_hashed(x->c, "p", "payload", 7, NULL, sha, wrong_md5, &res, &err),
        CM_EINTEGRITY);
}

static void test_retry_503_then_success(void **state)
{
    struct s3t_fx *x = *state;
    struct s3_put_result res;
    struct cm_err err;

    s3t_push(x->f, 0, 503, NULL, S3T_ERRBODY("SlowDown", "Please reduce your request rate."), 0);
    s3t_push(x->f, 0, 500, NULL, "not xml at all", 0);
    assert_int_equal(s3_client_put_object(x->c, "k", "data", 4, NULL, &res, &err), 0);
    assert_int_equal(s3_fault_count(x->f), 3);
    /* The body was re-sent each time, with the same digests. */
    for (size_t i = 0; i < 3; i++)
        s3t_assert_digests(s3_fault_get(x->f, i));
    assert_int_equal(s3_fault_sleeps(x->f), 2);
    /* Equal jitter: retry n waits within [d/2, d] for d = 100 * 2^(n-1). */
    assert_in_range(s3_fault_sleep_ms(x->f, 0), 50, 100);
    assert_in_range(s3_fault_sleep_ms(x->f, 1), 100, 200);
}

static void test_retry_after_and_cap(void **state)
{
    struct s3t_fx *x = *state;
    struct cm_err err;

    s3t_push(x->f, 0, 503, "Retry-After: 0\n", S3T_ERRBODY("SlowDown", "x"), 0);
    s3t_push(x->f, 0, 429, "Retry-After: 3600\n", NULL, 0);
    assert_int_equal(s3_client_head_bucket(x->c, &err), 0);
    assert_int_equal(s3_fault_sleeps(x->f), 2);
    assert_in_range(s3_fault_sleep_ms(x->f, 0), 50, 100); /* backoff beats Retry-After: 0 */
    assert_int_equal(s3_fault_sleep_ms(x->f, 1), 1000);   /* honoured, capped at max */
    /* HTTP-date form: far future is capped, the past means "now" (plain backoff). */
    s3t_push(x->f, 0, 503, "Retry-After: Fri, 31 Dec 2100 23:59:59 GMT\n", NULL, 0);
    s3t_push(x->f, 0, 503, "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\n", NULL, 0);
    s3t_push(x->f, 0, 503, "Retry-After: soon\n", NULL, 0);
    assert_int_equal(s3_client_head_bucket(x->c, &err), 0);
    assert_int_equal(s3_fault_sleeps(x->f), 5);
    assert_int_equal(s3_fault_sleep_ms(x->f, 2), 1000);
    assert_in_range(s3_fault_sleep_ms(x->f, 3), 100, 200);
    assert_in_range(s3_fault_sleep_ms(x->f, 4), 200, 400);
}

static void test_retry_exhausted(void **state)
{
    struct s3t_fx *x = *state;
    struct cm_err err;
    int i;
    int rc;

    for (i = 0; i < 4; i++)
        s3t_push(x->f, 0, 503, NULL, S3T_ERRBODY("SlowDown", "Please reduce your request rate."),
                 0);
    rc = s3_client_put_object(x->c, "prod/a", "x", 1, NULL, NULL, &err);
    assert_int_equal(rc, CM_EAGAIN);
    assert_string_equal(err.msg, "PUT b-test/prod/a: 503 SlowDown: Please reduce your request "
                                 "rate. (request id tx-42), after 4 attempts");
    assert_int_equal(s3_fault_count(x->f), 4); /* bounded attempts */
    assert_int_equal(s3_fault_sleeps(x->f), 3);
    for (i = 0; i < 3; i++) /* capped at retry_max_ms */
        assert_true(s3_fault_sleep_ms(x->f, (size_t)i) <= 1000);
}

static void test_connection_failures(void **state)
{
    struct s3t_fx *x = *state;
    enum s3_versioning v;
    struct cm_err err;

    s3t_push(x->f, CM_ECONN, 0, NULL, NULL, 0);
    s3t_push(x->f, CM_ETIMEDOUT, 0, NULL, NULL, 0);
    s3t_push(x->f, 0, 200, NULL,
             "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>", 30);
    s3t_push(x->f, 0, 200, NULL,
             "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>", 0);
    /* reset, timeout, reset mid-XML: all retried; then success. */
    assert_int_equal(s3_client_get_versioning(x->c, &v, &err), 0);
    assert_int_equal(v, S3_VERSIONING_ENABLED);
    assert_int_equal(s3_fault_count(x->f), 4);
    assert_int_equal(s3_fault_sleeps(x->f), 3);

    /* TLS failures are not retried. */
    s3t_push(x->f, CM_ETLS, 0, NULL, NULL, 0);
    assert_int_equal(s3_client_get_versioning(x->c, &v, &err), CM_ETLS);
    assert_non_null(strstr(err.msg, "GET b-test: fault: injected CM_ETLS"));
    assert_int_equal(s3_fault_count(x->f), 5);

    /* Connection refused on every attempt: CM_ECONN. */
    for (int i = 0; i < 4; i++)
        s3t_push(x->f, CM_ECONN, 0, NULL, NULL, 0);
    assert_int_equal(s3_client_head_bucket(x->c, &err), CM_ECONN);
}

static void test_truncated_xml_is_an_error(void **state)
{
    struct s3t_fx *x = *state;
    enum s3_versioning v = S3_VERSIONING_NONE;
    struct cm_err err;

    /* A complete HTTP response whose XML is cut short: a parse error, no retry. */
    s3t_push(x->f, 0, 200, NULL, "<VersioningConfiguration><Status>Enab", 0);
    assert_int_equal(s3_client_get_versioning(x->c, &v, &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "GET b-test?versioning: XML:"));
    assert_int_equal(v, S3_VERSIONING_NONE);
    assert_int_equal(s3_fault_count(x->f), 1);
}

struct sink {
    char buf[64];
    size_t n;
    int fail_with;
};

static int sink_write(const void *p, size_t n, void *ctx)
{
    struct sink *s = ctx;

    if (s->fail_with != 0)
        return s->fail_with;
    if (n > sizeof(s->buf) - s->n)
        return CM_ETOOBIG;
    memcpy(s->buf + s->n, p, n);
    s->n += n;
    return 0;
}

static void test_get_object(void **state)
{
    struct s3t_fx *x = *state;
    struct sink s;
    struct s3_object_info info;
    struct s3_range range = {2, 5};
    const struct s3_fault_rec *r;
    struct cm_err err;

    memset(&s, 0, sizeof(s));
    s3t_push(x->f, 0, 206,
             "Content-Length: 4\nContent-Range: bytes 2-5/10\nETag: \"e1\"\nx-amz-version-id: v7\n"
             "Last-Modified: Sun, 22 Nov 2026 09:30:05 GMT\nx-amz-object-lock-mode: GOVERNANCE\n"
             "x-amz-object-lock-retain-until-date: 2026-12-01T00:00:00.000Z\n"
             "x-amz-object-lock-legal-hold: ON\nX-Amz-Meta-SHA256: abc\nx-amz-meta-sha256: def\n",
             "2345", 0);
    assert_int_equal(s3_client_get_object(x->c, "k", "v7", &range, sink_write, &s, &info, &err), 0);
    assert_int_equal(s.n, 4);
    assert_memory_equal(s.buf, "2345", 4);
    assert_int_equal(info.size, 10);
    assert_string_equal(info.etag, "\"e1\"");
    assert_string_equal(info.version_id, "v7");
    assert_int_equal(info.lock_mode, S3_LOCK_GOVERNANCE);
    assert_int_equal((long long)info.retain_until,
                     (long long)cm_time_from_utc(2026, 12, 1, 0, 0, 0));
    assert_int_equal((long long)info.last_modified,
                     (long long)cm_time_from_utc(2026, 11, 22, 9, 30, 5));
    assert_true(info.legal_hold);
    assert_int_equal(info.n_meta, 1); /* same name twice: replaced, not duplicated */
    assert_string_equal(info.meta[0].value, "def");
    r = s3_fault_get(x->f, 0);
    assert_string_equal(r->url, "http://127.0.0.1:9/b-test/k?versionId=v7");
    assert_string_equal(s3_fault_header(r, "Range"), "bytes=2-5");

    /* A reset after part of the body reached the caller is not retried. */
    memset(&s, 0, sizeof(s));
    s3t_push(x->f, 0, 200, "Content-Length: 10\n", "0123456789", 4);
    assert_int_equal(s3_client_get_object(x->c, "k", NULL, NULL, sink_write, &s, NULL, &err),
                     CM_EPROTO);
    assert_non_null(strstr(err.msg, "after part of the body was delivered"));
    assert_int_equal(s3_fault_count(x->f), 2);

    /* The receiver can stop the download with its own code. */
    memset(&s, 0, sizeof(s));
    s.fail_with = CM_ECANCELED;
    s3t_push(x->f, 0, 200, "Content-Length: 10\n", "0123456789", 0);
    assert_int_equal(s3_client_get_object(x->c, "k", NULL, NULL, sink_write, &s, NULL, &err),
                     CM_ECANCELED);

    /* A body shorter than its Content-Length. */
    memset(&s, 0, sizeof(s));
    s3t_push(x->f, 0, 200, "Content-Length: 12\n", "0123456789", 0);
    assert_int_equal(s3_client_get_object(x->c, "k", NULL, NULL, sink_write, &s, NULL, &err),
                     CM_EPROTO);

    range.first = 6;
    assert_int_equal(s3_client_get_object(x->c, "k", NULL, &range, sink_write, &s, NULL, &err),
                     CM_EINVAL);
}

static void test_get_resume(void **state)
{
    struct s3t_fx *x = *state;
    struct sink s;
    struct s3_object_info info;
    struct s3_range range = {2, 9};
    const struct s3_fault_rec *r;
    struct cm_err err;
    int i;

    /* Reset after 4 bytes: resumed from byte 4, pinned to the first ETag. */
    memset(&s, 0, sizeof(s));
    s3t_push(x->f, 0, 200, "Content-Length: 10\nETag: \"e\"\n", "0123456789", 4);
    s3t_push(x->f, 0, 206, "Content-Range: bytes 4-9/10\nContent-Length: 6\nETag: \"e\"\n",
             "456789", 0);
    assert_int_equal(s3_client_get_object(x->c, "k", NULL, NULL, sink_write, &s, &info, &err), 0);
    assert_int_equal(s.n, 10);
    assert_memory_equal(s.buf, "0123456789", 10);
    assert_int_equal(info.size, 10);
    r = s3_fault_get(x->f, 1);
    assert_string_equal(s3_fault_header(r, "Range"), "bytes=4-");
    assert_string_equal(s3_fault_header(r, "If-Match"), "\"e\"");
    assert_null(s3_fault_header(s3_fault_get(x->f, 0), "If-Match"));
    assert_int_equal(s3_fault_sleeps(x->f), 1);

    /* Within a caller's range: continues to the same last byte. */
    memset(&s, 0, sizeof(s));
    s3t_push(x->f, 0, 206, "Content-Range: bytes 2-9/10\nContent-Length: 8\nETag: \"e\"\n",
             "23456789", 3);
    s3t_push(x->f, 0, 206, "Content-Range: bytes 5-9/10\nContent-Length: 5\nETag: \"e\"\n", "56789",
             0);
    assert_int_equal(s3_client_get_object(x->c, "k", "v1", &range, sink_write, &s, NULL, &err), 0);
    assert_int_equal(s.n, 8);
    assert_memory_equal(s.buf, "23456789", 8);
    assert_string_equal(s3_fault_header(s3_fault_get(x->f, 3), "Range"), "bytes=5-9");

    /* A server that ignores Range on the resume would restart the body: refused before
     * a single byte reaches the caller. */
    memset(&s, 0, sizeof(s));
    s3t_push(x->f, 0, 200, "Content-Length: 10\nETag: \"e\"\n", "0123456789", 4);
    s3t_push(x->f, 0, 200, "Content-Length: 10\nETag: \"e\"\n", "0123456789", 0);
    assert_int_equal(s3_client_get_object(x->c, "k", NULL, NULL, sink_write, &s, NULL, &err),
                     CM_EPROTO);
    assert_non_null(strstr(err.msg, "expected HTTP 206, got 200"));
    assert_int_equal(s.n, 4);

    /* The object changed in between: 412 from If-Match. */
    memset(&s, 0, sizeof(s));
    s3t_push(x->f, 0, 200, "Content-Length: 10\nETag: \"e\"\n", "0123456789", 4);
    s3t_push(x->f, 0, 412, NULL, "<Error><Code>PreconditionFailed</Code></Error>", 0);
    assert_int_equal(s3_client_get_object(x->c, "k", NULL, NULL, sink_write, &s, NULL, &err),
                     CM_EHTTP);
    assert_non_null(strstr(err.msg, "412 PreconditionFailed"));

    /* Every segment cut short: bounded by max_attempts (4). */
    memset(&s, 0, sizeof(s));
    s3t_push(x->f, 0, 200, "Content-Length: 10\nETag: \"e\"\n", "0123456789", 1);
    for (i = 1; i < 4; i++)
        s3t_push(x->f, 0, 206, "Content-Length: 9\nETag: \"e\"\n", "123456789", 1);
    assert_int_equal(s3_client_get_object(x->c, "k", NULL, NULL, sink_write, &s, NULL, &err),
                     CM_EPROTO);
    assert_int_equal(s.n, 4);
}

static void test_get_object_mem_limit(void **state)
{
    struct s3t_fx *x = *state;
    char *buf = NULL;
    size_t len = 0;
    struct cm_err err;

    s3t_push(x->f, 0, 200, "Content-Length: 8\n", "12345678", 0);
    assert_int_equal(s3_client_get_object_mem(x->c, "k", NULL, 8, &buf, &len, NULL, &err), 0);
    assert_int_equal(len, 8);
    assert_memory_equal(buf, "12345678", 8);
    cm_free(buf);
    buf = NULL;
    s3t_push(x->f, 0, 200, "Content-Length: 9\n", "123456789", 0);
    assert_int_equal(s3_client_get_object_mem(x->c, "k", NULL, 8, &buf, &len, NULL, &err),
                     CM_ETOOBIG);
    assert_null(buf);
    assert_non_null(strstr(err.msg, "larger than 8 bytes"));
}

static void test_error_mapping(void **state)
{
    struct s3t_fx *x = *state;
    struct s3_object_info info;
    enum s3_lock_mode m;
    time_t t;
    struct cm_err err;
    int rc;

    s3t_push(x->f, 0, 404, NULL, S3T_ERRBODY("NoSuchKey", "The specified key does not exist."), 0);
    assert_int_equal(s3_client_get_retention(x->c, "k", NULL, &m, &t, &err), CM_ENOENT);
    s3t_push(x->f, 0, 404, NULL, NULL, 0); /* HEAD: no body */
    assert_int_equal(s3_client_head_object(x->c, "k", NULL, &info, &err), CM_ENOENT);
    assert_string_equal(err.msg, "HEAD b-test/k: 404 NotFound");

    s3t_push(x->f, 0, 403, NULL, S3T_ERRBODY("AccessDenied", "forbidden by object lock"), 0);
    rc = s3_client_delete_object(x->c, "prod/rp/a", "v1", false, &err);
    assert_int_equal(rc, CM_ELOCKED);
    assert_string_equal(err.msg, "DELETE b-test/prod/rp/a?versionId=v1: retained by object lock "
                                 "(403 AccessDenied: forbidden by object lock (request id "
                                 "tx-42))");
    assert_null(s3_fault_header(s3_fault_get(x->f, 2), "x-amz-bypass-governance-retention"));
    s3t_push(x->f, 0, 403, NULL, S3T_ERRBODY("AccessDenied", "x"), 0);
    assert_int_equal(s3_client_delete_object(x->c, "k", "v1", true, &err), CM_ELOCKED);
    assert_string_equal(s3_fault_header(s3_fault_get(x->f, 3), "x-amz-bypass-governance-retention"),
                        "true");
    /* Without a version id, 403 is plain access denied. */
    s3t_push(x->f, 0, 403, NULL, S3T_ERRBODY("AccessDenied", "x"), 0);
    assert_int_equal(s3_client_delete_object(x->c, "k", NULL, false, &err), CM_EAUTH);
    s3t_push(x->f, 0, 403, NULL, S3T_ERRBODY("AccessDenied", "x"), 0);
    rc = s3_client_put_retention(x->c, "k", "v1", S3_LOCK_COMPLIANCE, 1000, false, &err);
    assert_int_equal(rc, CM_ELOCKED);
    assert_non_null(strstr(err.msg, "cannot be shortened"));
    s3t_push(x->f, 0, 403, NULL, S3T_ERRBODY("SignatureDoesNotMatch", "x"), 0);
    assert_int_equal(s3_client_head_bucket(x->c, &err), CM_EAUTH);
    s3t_push(x->f, 0, 400, NULL, S3T_ERRBODY("BadDigest", "md5"), 0);
    assert_int_equal(s3_client_put_object(x->c, "k", "1", 1, NULL, NULL, &err), CM_EINTEGRITY);
    s3t_push(x->f, 0, 400, NULL, S3T_ERRBODY("InvalidRequest", "lock on a plain bucket"), 0);
    assert_int_equal(s3_client_put_object(x->c, "k", "1", 1, NULL, NULL, &err), CM_EHTTP);
    assert_non_null(strstr(err.msg, "400 InvalidRequest: lock on a plain bucket"));
    /* A missing version to delete is a success (S3 semantics); a missing bucket is not. */
    s3t_push(x->f, 0, 404, NULL, S3T_ERRBODY("NoSuchVersion", "x"), 0);
    assert_int_equal(s3_client_delete_object(x->c, "k", "v9", false, &err), 0);
    s3t_push(x->f, 0, 404, NULL, S3T_ERRBODY("NoSuchBucket", "x"), 0);
    assert_int_equal(s3_client_delete_object(x->c, "k", "v9", false, &err), CM_ENOENT);
    /* A huge non-XML error body is cut, not buffered, and still mapped. */
    {
        size_t n = S3_MAX_ERROR_BODY * 2;
        char *big = malloc(n + 1);

        assert_non_null(big);
        memset(big, 'z', n);
        big[n] = '\0';
        s3t_push(x->f, 0, 418, NULL, big, 0);
        free(big);
        assert_int_equal(s3_client_head_bucket(x->c, &err), CM_EHTTP);
        assert_string_equal(err.msg, "HEAD b-test: 418");
    }
    /* 2xx XML above the cap. */
    {
        size_t n = S3_MAX_XML_BYTES + 1;
        char *big = malloc(n + 1);
        enum s3_versioning v;

        assert_non_null(big);
        memset(big, ' ', n);
        big[n] = '\0';
        s3t_push(x->f, 0, 200, NULL, big, 0);
        free(big);
        assert_int_equal(s3_client_get_versioning(x->c, &v, &err), CM_ETOOBIG);
    }
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, s3t_setup, s3t_teardown)
    const struct CMUnitTest tests[] = {
        T(test_request_precomputed_digests),
        T(test_retry_503_then_success),
        T(test_retry_after_and_cap),
        T(test_retry_exhausted),
        T(test_connection_failures),
        T(test_truncated_xml_is_an_error),
        T(test_get_object),
        T(test_get_resume),
        T(test_get_object_mem_limit),
        T(test_error_mapping),
    };
#undef T

    cm_log_set_level(CM_LOG_OFF);
    return cmocka_run_group_tests_name("s3_request", tests, NULL, NULL);
}
