/* SPDX-License-Identifier: Apache-2.0 */
/* test_s3_client.c - the client and its request engine on the recording/fault
 * transport: configuration limits, addressing, signed headers (Content-MD5 and
 * x-amz-content-sha256 on every PUT), lock headers, retries with backoff and
 * Retry-After, connection resets, truncated XML, error mapping, paging, preflight, OOM. */
#include "backup/s3/s3_int.h"
#include "tests/support/s3_fault.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fx {
    struct s3_fault *f;
    struct s3_credentials creds;
    struct s3_config cfg;
    struct s3_client *c;
};

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof(*x));
    struct cm_err err;

    if (x == NULL || s3_fault_create(&x->f) != 0)
        return -1;
    s3_fault_config(x->f, &x->creds, &x->cfg);
    if (s3_client_create(&x->cfg, &x->c, &err) != 0)
        return -1;
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;

    s3_client_destroy(x->c);
    s3_fault_destroy(x->f);
    free(x);
    return 0;
}

static void push(struct s3_fault *f, int trc, long status, const char *headers, const char *body,
                 size_t trunc)
{
    struct s3_fault_reply r = {trc, status, headers, body, trunc};

    assert_int_equal(s3_fault_push(f, &r), 0);
}

#define ERRBODY(code, msg)                                                                         \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" code "</Code><Message>" msg          \
    "</Message><RequestId>tx-42</RequestId></Error>"

/* Asserts a recorded request carries a correct Content-MD5 and x-amz-content-sha256. */
static void assert_digests(const struct s3_fault_rec *r)
{
    const char *md5 = s3_fault_header(r, "Content-MD5");
    const char *sha = s3_fault_header(r, "x-amz-content-sha256");

    assert_non_null(md5);
    assert_string_equal(md5, r->body_md5_b64);
    assert_non_null(sha);
    assert_string_equal(sha, r->body_sha256_hex);
}

static void test_create_validation(void **state)
{
    struct fx *x = *state;
    struct s3_config cfg = x->cfg;
    struct s3_client *c = NULL;
    struct cm_err err;

    cfg.bucket = "abc"; /* 3: the minimum */
    assert_int_equal(s3_client_create(&cfg, &c, &err), 0);
    s3_client_destroy(c);
    cfg.bucket = "ab";
    assert_int_equal(s3_client_create(&cfg, &c, &err), CM_EINVAL);
    assert_non_null(strstr(err.msg, "bucket"));
    cfg.bucket = "a23456789012345678901234567890123456789012345678901234567890123"; /* 63 */
    assert_int_equal(s3_client_create(&cfg, &c, &err), 0);
    s3_client_destroy(c);
    cfg.bucket = "a234567890123456789012345678901234567890123456789012345678901234"; /* 64 */
    assert_int_equal(s3_client_create(&cfg, &c, &err), CM_EINVAL);
    cfg.bucket = "Upper";
    assert_int_equal(s3_client_create(&cfg, &c, &err), CM_EINVAL);
    cfg.bucket = "a..b";
    assert_int_equal(s3_client_create(&cfg, &c, &err), CM_EINVAL);
    cfg.bucket = "-ab";
    assert_int_equal(s3_client_create(&cfg, &c, &err), CM_EINVAL);
    cfg.bucket = "b-test";

    cfg.endpoint = "ftp://x";
    assert_int_equal(s3_client_create(&cfg, &c, &err), CM_EINVAL);
    assert_non_null(strstr(err.msg, "http://"));
    cfg.endpoint = "http://host/path";
    assert_int_equal(s3_client_create(&cfg, &c, &err), CM_EINVAL);
    cfg.endpoint = "http://user@host";
    assert_int_equal(s3_client_create(&cfg, &c, &err), CM_EINVAL);
    cfg.endpoint = "http://";
    assert_int_equal(s3_client_create(&cfg, &c, &err), CM_EINVAL);
    cfg.endpoint = "https://host:8443/";
    assert_int_equal(s3_client_create(&cfg, &c, &err), 0);
    s3_client_destroy(c);
    cfg.endpoint = x->cfg.endpoint;

    cfg.part_size = S3_MIN_PART_SIZE - 1;
    assert_int_equal(s3_client_create(&cfg, &c, &err), CM_EINVAL);
    cfg.part_size = S3_MAX_PART_SIZE + 1;
    assert_int_equal(s3_client_create(&cfg, &c, &err), CM_EINVAL);
    cfg.part_size = S3_MAX_PART_SIZE;
    assert_int_equal(s3_client_create(&cfg, &c, &err), 0);
    s3_client_destroy(c);
    cfg.part_size = 0;
    cfg.max_attempts = S3_MAX_ATTEMPTS;
    assert_int_equal(s3_client_create(&cfg, &c, &err), 0);
    s3_client_destroy(c);
    cfg.max_attempts = S3_MAX_ATTEMPTS + 1;
    assert_int_equal(s3_client_create(&cfg, &c, &err), CM_EINVAL);
    cfg.max_attempts = 0;
    cfg.region = "eu west";
    assert_int_equal(s3_client_create(&cfg, &c, &err), CM_EINVAL);
    cfg.region = NULL;
    cfg.creds = NULL;
    assert_int_equal(s3_client_create(&cfg, &c, &err), CM_EINVAL);
    assert_int_equal(s3_client_create(NULL, &c, &err), CM_EINVAL);
    s3_client_destroy(NULL);
}

static void test_default_endpoint_and_vhost(void **state)
{
    struct fx *x = *state;
    struct s3_config cfg = x->cfg;
    struct s3_client *c = NULL;
    const struct s3_fault_rec *r;
    struct cm_err err;

    cfg.endpoint = NULL;
    cfg.region = "eu-west-1";
    cfg.path_style = false;
    assert_int_equal(s3_client_create(&cfg, &c, &err), 0);
    assert_int_equal(s3_client_put_object(c, "a b/\xc3\xbc+x", "1", 1, NULL, NULL, &err), 0);
    r = s3_fault_get(x->f, 0);
    assert_string_equal(r->url, "https://b-test.s3.eu-west-1.amazonaws.com/a%20b/%C3%BC%2Bx");
    assert_string_equal(s3_fault_header(r, "Host"), "b-test.s3.eu-west-1.amazonaws.com");
    assert_non_null(strstr(s3_fault_header(r, "Authorization"), "/eu-west-1/s3/aws4_request"));
    /* Bucket creation outside us-east-1 names the location. */
    assert_int_equal(s3_client_create_bucket(c, true, &err), 0);
    r = s3_fault_get(x->f, 1);
    assert_string_equal(r->method, "PUT");
    assert_string_equal(r->url, "https://b-test.s3.eu-west-1.amazonaws.com/");
    assert_non_null(strstr(r->body_head, "<LocationConstraint>eu-west-1</LocationConstraint>"));
    assert_string_equal(s3_fault_header(r, "x-amz-bucket-object-lock-enabled"), "true");
    assert_digests(r);
    s3_client_destroy(c);
}

static void test_create_bucket_us_east_1(void **state)
{
    struct fx *x = *state;
    const struct s3_fault_rec *r;
    struct cm_err err;

    assert_int_equal(s3_client_create_bucket(x->c, false, &err), 0);
    r = s3_fault_get(x->f, 0);
    assert_string_equal(r->url, "http://127.0.0.1:9/b-test");
    assert_int_equal(r->body_len, 0); /* never a LocationConstraint for us-east-1 */
    assert_null(s3_fault_header(r, "x-amz-bucket-object-lock-enabled"));
    assert_digests(r);
    push(x->f, 0, 409, NULL, ERRBODY("BucketAlreadyOwnedByYou", "yours"), 0);
    assert_int_equal(s3_client_create_bucket(x->c, true, &err), CM_EEXIST);
    assert_string_equal(s3_fault_header(s3_fault_get(x->f, 1), "x-amz-bucket-object-lock-enabled"),
                        "true");
}

static void test_put_headers(void **state)
{
    struct fx *x = *state;
    struct s3_put_opts po;
    struct s3_put_result res;
    struct s3_meta meta[2] = {{"sha256", "abc"}, {"restore-point", "rp-1"}};
    const struct s3_fault_rec *r;
    const char *auth;
    struct cm_err err;

    memset(&po, 0, sizeof(po));
    po.lock_mode = S3_LOCK_COMPLIANCE;
    po.retain_until = cm_time_from_utc(2027, 1, 2, 3, 4, 5);
    po.legal_hold = true;
    po.meta = meta;
    po.n_meta = 2;
    po.content_type = "application/json";
    assert_int_equal(s3_client_put_object(x->c, "prod/rp/manifest.json", "{}", 2, &po, &res, &err),
                     0);
    assert_string_equal(res.version_id, "fv1");
    assert_true(res.etag[0] == '"');
    assert_int_equal(res.size, 2);
    assert_string_equal(res.sha256_hex,
                        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    r = s3_fault_get(x->f, 0);
    assert_string_equal(r->method, "PUT");
    assert_string_equal(r->url, "http://127.0.0.1:9/b-test/prod/rp/manifest.json");
    assert_digests(r);
    assert_string_equal(s3_fault_header(r, "x-amz-object-lock-mode"), "COMPLIANCE");
    assert_string_equal(s3_fault_header(r, "x-amz-object-lock-retain-until-date"),
                        "2027-01-02T03:04:05Z");
    assert_string_equal(s3_fault_header(r, "x-amz-object-lock-legal-hold"), "ON");
    assert_string_equal(s3_fault_header(r, "x-amz-meta-sha256"), "abc");
    assert_string_equal(s3_fault_header(r, "x-amz-meta-restore-point"), "rp-1");
    assert_string_equal(s3_fault_header(r, "Content-Type"), "application/json");
    assert_non_null(s3_fault_header(r, "x-amz-date"));
    auth = s3_fault_header(r, "Authorization");
    assert_non_null(auth);
    assert_non_null(strstr(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
    assert_non_null(strstr(auth, "content-md5;content-type;host;x-amz-content-sha256;x-amz-date;"
                                 "x-amz-meta-restore-point;x-amz-meta-sha256;"
                                 "x-amz-object-lock-legal-hold;x-amz-object-lock-mode;"
                                 "x-amz-object-lock-retain-until-date,"));
    /* Secrets never travel: neither the secret key nor a token header. */
    assert_null(strstr(auth, "wJalrXUtnFEMI"));
    assert_null(s3_fault_header(r, "x-amz-security-token"));
}

static void test_put_validation(void **state)
{
    struct fx *x = *state;
    struct s3_put_opts po;
    struct s3_meta bad = {"Bad Name", "v"};
    char key[S3_MAX_KEY + 2];
    struct cm_err err;

    memset(&po, 0, sizeof(po));
    po.lock_mode = S3_LOCK_COMPLIANCE; /* without a date */
    assert_int_equal(s3_client_put_object(x->c, "k", "1", 1, &po, NULL, &err), CM_EINVAL);
    assert_non_null(strstr(err.msg, "retain-until"));
    po.lock_mode = S3_LOCK_NONE;
    po.meta = &bad;
    po.n_meta = 1;
    assert_int_equal(s3_client_put_object(x->c, "k", "1", 1, &po, NULL, &err), CM_EINVAL);
    po.n_meta = S3_MAX_META + 1;
    assert_int_equal(s3_client_put_object(x->c, "k", "1", 1, &po, NULL, &err), CM_EINVAL);
    memset(key, 'k', sizeof(key));
    key[S3_MAX_KEY] = '\0'; /* the limit passes */
    assert_int_equal(s3_client_put_object(x->c, key, "1", 1, NULL, NULL, &err), 0);
    key[S3_MAX_KEY] = 'k';
    key[S3_MAX_KEY + 1] = '\0'; /* limit + 1 */
    assert_int_equal(s3_client_put_object(x->c, key, "1", 1, NULL, NULL, &err), CM_EINVAL);
    assert_int_equal(s3_client_put_object(x->c, "", "1", 1, NULL, NULL, &err), CM_EINVAL);
    assert_int_equal(s3_client_put_object(x->c, "a\nb", "1", 1, NULL, NULL, &err), CM_EINVAL);
    assert_int_equal(s3_client_put_object(x->c, "k", NULL, 1, NULL, NULL, &err), CM_EINVAL);
    assert_int_equal(s3_fault_count(x->f), 1); /* nothing invalid reached the wire */
}

static void test_session_token_signed(void **state)
{
    struct fx *x = *state;
    struct s3_credentials creds = {0};
    struct s3_config cfg = x->cfg;
    struct s3_client *c = NULL;
    const struct s3_fault_rec *r;
    struct cm_err err;

    assert_int_equal(s3_credentials_set(&creds, "AK", "SK", "SESSION", &err), 0);
    cfg.creds = &creds;
    assert_int_equal(s3_client_create(&cfg, &c, &err), 0);
    s3_credentials_cleanup(&creds); /* the client keeps its own copy */
    assert_int_equal(s3_client_head_bucket(c, &err), 0);
    r = s3_fault_get(x->f, 0);
    assert_string_equal(s3_fault_header(r, "x-amz-security-token"), "SESSION");
    assert_non_null(strstr(s3_fault_header(r, "Authorization"), "x-amz-security-token"));
    assert_null(s3_fault_header(r, "Content-MD5")); /* HEAD has no body */
    assert_string_equal(s3_fault_header(r, "x-amz-content-sha256"), r->body_sha256_hex);
    s3_client_destroy(c);
}

/* Digests a caller precomputed go on the wire verbatim, deliberately wrong ones included:
 * the engine does not hash the body again (the server is what checks them). */
static void test_request_precomputed_digests(void **state)
{
    static const char wrong_md5[] = "AAAAAAAAAAAAAAAAAAAAAA==";
    static const char wrong_sha[] =
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    struct fx *x = *state;
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
    push(x->f, 0, 503, NULL, ERRBODY("SlowDown", "x"), 0);
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
    assert_digests(rec);
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
    assert_digests(s3_fault_get(x->f, 7));
    assert_string_equal(res.sha256_hex, sha);

    /* What a server answers to a wrong digest is an integrity failure. */
    push(x->f, 0, 400, NULL, ERRBODY("XAmzContentSHA256Mismatch", "sha"), 0);
    assert_int_equal(
        s3_client_put_object_hashed(x->c, "p", "payload", 7, NULL, wrong_sha, md5, &res, &err),
        CM_EINTEGRITY);
    push(x->f, 0, 400, NULL, ERRBODY("BadDigest", "md5"), 0);
    assert_int_equal(
        s3_client_put_object_hashed(x->c, "p", "payload", 7, NULL, sha, wrong_md5, &res, &err),
        CM_EINTEGRITY);
}

static void test_retry_503_then_success(void **state)
{
    struct fx *x = *state;
    struct s3_put_result res;
    struct cm_err err;

    push(x->f, 0, 503, NULL, ERRBODY("SlowDown", "Please reduce your request rate."), 0);
    push(x->f, 0, 500, NULL, "not xml at all", 0);
    assert_int_equal(s3_client_put_object(x->c, "k", "data", 4, NULL, &res, &err), 0);
    assert_int_equal(s3_fault_count(x->f), 3);
    /* The body was re-sent each time, with the same digests. */
    for (size_t i = 0; i < 3; i++)
        assert_digests(s3_fault_get(x->f, i));
    assert_int_equal(s3_fault_sleeps(x->f), 2);
    /* Equal jitter: retry n waits within [d/2, d] for d = 100 * 2^(n-1). */
    assert_in_range(s3_fault_sleep_ms(x->f, 0), 50, 100);
    assert_in_range(s3_fault_sleep_ms(x->f, 1), 100, 200);
}

static void test_retry_after_and_cap(void **state)
{
    struct fx *x = *state;
    struct cm_err err;

    push(x->f, 0, 503, "Retry-After: 0\n", ERRBODY("SlowDown", "x"), 0);
    push(x->f, 0, 429, "Retry-After: 3600\n", NULL, 0);
    assert_int_equal(s3_client_head_bucket(x->c, &err), 0);
    assert_int_equal(s3_fault_sleeps(x->f), 2);
    assert_in_range(s3_fault_sleep_ms(x->f, 0), 50, 100); /* backoff beats Retry-After: 0 */
    assert_int_equal(s3_fault_sleep_ms(x->f, 1), 1000);   /* honoured, capped at max */
    /* HTTP-date form: far future is capped, the past means "now" (plain backoff). */
    push(x->f, 0, 503, "Retry-After: Fri, 31 Dec 2100 23:59:59 GMT\n", NULL, 0);
    push(x->f, 0, 503, "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\n", NULL, 0);
    push(x->f, 0, 503, "Retry-After: soon\n", NULL, 0);
    assert_int_equal(s3_client_head_bucket(x->c, &err), 0);
    assert_int_equal(s3_fault_sleeps(x->f), 5);
    assert_int_equal(s3_fault_sleep_ms(x->f, 2), 1000);
    assert_in_range(s3_fault_sleep_ms(x->f, 3), 100, 200);
    assert_in_range(s3_fault_sleep_ms(x->f, 4), 200, 400);
}

static void test_retry_exhausted(void **state)
{
    struct fx *x = *state;
    struct cm_err err;
    int i;
    int rc;

    for (i = 0; i < 4; i++)
        push(x->f, 0, 503, NULL, ERRBODY("SlowDown", "Please reduce your request rate."), 0);
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
    struct fx *x = *state;
    enum s3_versioning v;
    struct cm_err err;

    push(x->f, CM_ECONN, 0, NULL, NULL, 0);
    push(x->f, CM_ETIMEDOUT, 0, NULL, NULL, 0);
    push(x->f, 0, 200, NULL,
         "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>", 30);
    push(x->f, 0, 200, NULL,
         "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>", 0);
    /* reset, timeout, reset mid-XML: all retried; then success. */
    assert_int_equal(s3_client_get_versioning(x->c, &v, &err), 0);
    assert_int_equal(v, S3_VERSIONING_ENABLED);
    assert_int_equal(s3_fault_count(x->f), 4);
    assert_int_equal(s3_fault_sleeps(x->f), 3);

    /* TLS failures are not retried. */
    push(x->f, CM_ETLS, 0, NULL, NULL, 0);
    assert_int_equal(s3_client_get_versioning(x->c, &v, &err), CM_ETLS);
    assert_non_null(strstr(err.msg, "GET b-test: fault: injected CM_ETLS"));
    assert_int_equal(s3_fault_count(x->f), 5);

    /* Connection refused on every attempt: CM_ECONN. */
    for (int i = 0; i < 4; i++)
        push(x->f, CM_ECONN, 0, NULL, NULL, 0);
    assert_int_equal(s3_client_head_bucket(x->c, &err), CM_ECONN);
}

static void test_truncated_xml_is_an_error(void **state)
{
    struct fx *x = *state;
    enum s3_versioning v = S3_VERSIONING_NONE;
    struct cm_err err;

    /* A complete HTTP response whose XML is cut short: a parse error, no retry. */
    push(x->f, 0, 200, NULL, "<VersioningConfiguration><Status>Enab", 0);
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
    struct fx *x = *state;
    struct sink s;
    struct s3_object_info info;
    struct s3_range range = {2, 5};
    const struct s3_fault_rec *r;
    struct cm_err err;

    memset(&s, 0, sizeof(s));
    push(x->f, 0, 206,
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
    push(x->f, 0, 200, "Content-Length: 10\n", "0123456789", 4);
    assert_int_equal(s3_client_get_object(x->c, "k", NULL, NULL, sink_write, &s, NULL, &err),
                     CM_EPROTO);
    assert_non_null(strstr(err.msg, "after part of the body was delivered"));
    assert_int_equal(s3_fault_count(x->f), 2);

    /* The receiver can stop the download with its own code. */
    memset(&s, 0, sizeof(s));
    s.fail_with = CM_ECANCELED;
    push(x->f, 0, 200, "Content-Length: 10\n", "0123456789", 0);
    assert_int_equal(s3_client_get_object(x->c, "k", NULL, NULL, sink_write, &s, NULL, &err),
                     CM_ECANCELED);

    /* A body shorter than its Content-Length. */
    memset(&s, 0, sizeof(s));
    push(x->f, 0, 200, "Content-Length: 12\n", "0123456789", 0);
    assert_int_equal(s3_client_get_object(x->c, "k", NULL, NULL, sink_write, &s, NULL, &err),
                     CM_EPROTO);

    range.first = 6;
    assert_int_equal(s3_client_get_object(x->c, "k", NULL, &range, sink_write, &s, NULL, &err),
                     CM_EINVAL);
}

static void test_get_resume(void **state)
{
    struct fx *x = *state;
    struct sink s;
    struct s3_object_info info;
    struct s3_range range = {2, 9};
    const struct s3_fault_rec *r;
    struct cm_err err;
    int i;

    /* Reset after 4 bytes: resumed from byte 4, pinned to the first ETag. */
    memset(&s, 0, sizeof(s));
    push(x->f, 0, 200, "Content-Length: 10\nETag: \"e\"\n", "0123456789", 4);
    push(x->f, 0, 206, "Content-Range: bytes 4-9/10\nContent-Length: 6\nETag: \"e\"\n", "456789",
         0);
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
    push(x->f, 0, 206, "Content-Range: bytes 2-9/10\nContent-Length: 8\nETag: \"e\"\n", "23456789",
         3);
    push(x->f, 0, 206, "Content-Range: bytes 5-9/10\nContent-Length: 5\nETag: \"e\"\n", "56789", 0);
    assert_int_equal(s3_client_get_object(x->c, "k", "v1", &range, sink_write, &s, NULL, &err), 0);
    assert_int_equal(s.n, 8);
    assert_memory_equal(s.buf, "23456789", 8);
    assert_string_equal(s3_fault_header(s3_fault_get(x->f, 3), "Range"), "bytes=5-9");

    /* A server that ignores Range on the resume would restart the body: refused before
     * a single byte reaches the caller. */
    memset(&s, 0, sizeof(s));
    push(x->f, 0, 200, "Content-Length: 10\nETag: \"e\"\n", "0123456789", 4);
    push(x->f, 0, 200, "Content-Length: 10\nETag: \"e\"\n", "0123456789", 0);
    assert_int_equal(s3_client_get_object(x->c, "k", NULL, NULL, sink_write, &s, NULL, &err),
                     CM_EPROTO);
    assert_non_null(strstr(err.msg, "expected HTTP 206, got 200"));
    assert_int_equal(s.n, 4);

    /* The object changed in between: 412 from If-Match. */
    memset(&s, 0, sizeof(s));
    push(x->f, 0, 200, "Content-Length: 10\nETag: \"e\"\n", "0123456789", 4);
    push(x->f, 0, 412, NULL, "<Error><Code>PreconditionFailed</Code></Error>", 0);
    assert_int_equal(s3_client_get_object(x->c, "k", NULL, NULL, sink_write, &s, NULL, &err),
                     CM_EHTTP);
    assert_non_null(strstr(err.msg, "412 PreconditionFailed"));

    /* Every segment cut short: bounded by max_attempts (4). */
    memset(&s, 0, sizeof(s));
    push(x->f, 0, 200, "Content-Length: 10\nETag: \"e\"\n", "0123456789", 1);
    for (i = 1; i < 4; i++)
        push(x->f, 0, 206, "Content-Length: 9\nETag: \"e\"\n", "123456789", 1);
    assert_int_equal(s3_client_get_object(x->c, "k", NULL, NULL, sink_write, &s, NULL, &err),
                     CM_EPROTO);
    assert_int_equal(s.n, 4);
}

static void test_get_object_mem_limit(void **state)
{
    struct fx *x = *state;
    char *buf = NULL;
    size_t len = 0;
    struct cm_err err;

    push(x->f, 0, 200, "Content-Length: 8\n", "12345678", 0);
    assert_int_equal(s3_client_get_object_mem(x->c, "k", NULL, 8, &buf, &len, NULL, &err), 0);
    assert_int_equal(len, 8);
    assert_memory_equal(buf, "12345678", 8);
    cm_free(buf);
    buf = NULL;
    push(x->f, 0, 200, "Content-Length: 9\n", "123456789", 0);
    assert_int_equal(s3_client_get_object_mem(x->c, "k", NULL, 8, &buf, &len, NULL, &err),
                     CM_ETOOBIG);
    assert_null(buf);
    assert_non_null(strstr(err.msg, "larger than 8 bytes"));
}

static void test_error_mapping(void **state)
{
    struct fx *x = *state;
    struct s3_object_info info;
    enum s3_lock_mode m;
    time_t t;
    struct cm_err err;
    int rc;

    push(x->f, 0, 404, NULL, ERRBODY("NoSuchKey", "The specified key does not exist."), 0);
    assert_int_equal(s3_client_get_retention(x->c, "k", NULL, &m, &t, &err), CM_ENOENT);
    push(x->f, 0, 404, NULL, NULL, 0); /* HEAD: no body */
    assert_int_equal(s3_client_head_object(x->c, "k", NULL, &info, &err), CM_ENOENT);
    assert_string_equal(err.msg, "HEAD b-test/k: 404 NotFound");

    push(x->f, 0, 403, NULL, ERRBODY("AccessDenied", "forbidden by object lock"), 0);
    rc = s3_client_delete_object(x->c, "prod/rp/a", "v1", false, &err);
    assert_int_equal(rc, CM_ELOCKED);
    assert_string_equal(err.msg, "DELETE b-test/prod/rp/a?versionId=v1: retained by object lock "
                                 "(403 AccessDenied: forbidden by object lock (request id "
                                 "tx-42))");
    assert_null(s3_fault_header(s3_fault_get(x->f, 2), "x-amz-bypass-governance-retention"));
    push(x->f, 0, 403, NULL, ERRBODY("AccessDenied", "x"), 0);
    assert_int_equal(s3_client_delete_object(x->c, "k", "v1", true, &err), CM_ELOCKED);
    assert_string_equal(s3_fault_header(s3_fault_get(x->f, 3), "x-amz-bypass-governance-retention"),
                        "true");
    /* Without a version id, 403 is plain access denied. */
    push(x->f, 0, 403, NULL, ERRBODY("AccessDenied", "x"), 0);
    assert_int_equal(s3_client_delete_object(x->c, "k", NULL, false, &err), CM_EAUTH);
    push(x->f, 0, 403, NULL, ERRBODY("AccessDenied", "x"), 0);
    rc = s3_client_put_retention(x->c, "k", "v1", S3_LOCK_COMPLIANCE, 1000, false, &err);
    assert_int_equal(rc, CM_ELOCKED);
    assert_non_null(strstr(err.msg, "cannot be shortened"));
    push(x->f, 0, 403, NULL, ERRBODY("SignatureDoesNotMatch", "x"), 0);
    assert_int_equal(s3_client_head_bucket(x->c, &err), CM_EAUTH);
    push(x->f, 0, 400, NULL, ERRBODY("BadDigest", "md5"), 0);
    assert_int_equal(s3_client_put_object(x->c, "k", "1", 1, NULL, NULL, &err), CM_EINTEGRITY);
    push(x->f, 0, 400, NULL, ERRBODY("InvalidRequest", "lock on a plain bucket"), 0);
    assert_int_equal(s3_client_put_object(x->c, "k", "1", 1, NULL, NULL, &err), CM_EHTTP);
    assert_non_null(strstr(err.msg, "400 InvalidRequest: lock on a plain bucket"));
    /* A missing version to delete is a success (S3 semantics); a missing bucket is not. */
    push(x->f, 0, 404, NULL, ERRBODY("NoSuchVersion", "x"), 0);
    assert_int_equal(s3_client_delete_object(x->c, "k", "v9", false, &err), 0);
    push(x->f, 0, 404, NULL, ERRBODY("NoSuchBucket", "x"), 0);
    assert_int_equal(s3_client_delete_object(x->c, "k", "v9", false, &err), CM_ENOENT);
    /* A huge non-XML error body is cut, not buffered, and still mapped. */
    {
        size_t n = S3_MAX_ERROR_BODY * 2;
        char *big = malloc(n + 1);

        assert_non_null(big);
        memset(big, 'z', n);
        big[n] = '\0';
        push(x->f, 0, 418, NULL, big, 0);
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
        push(x->f, 0, 200, NULL, big, 0);
        free(big);
        assert_int_equal(s3_client_get_versioning(x->c, &v, &err), CM_ETOOBIG);
    }
}

static void test_retention_requests(void **state)
{
    struct fx *x = *state;
    const struct s3_fault_rec *r;
    enum s3_lock_mode m;
    time_t t;
    bool on;
    struct cm_err err;

    assert_int_equal(s3_client_put_retention(x->c, "k", "v1", S3_LOCK_COMPLIANCE,
                                             cm_time_from_utc(2027, 1, 1, 0, 0, 0), false, &err),
                     0);
    r = s3_fault_get(x->f, 0);
    assert_string_equal(r->url, "http://127.0.0.1:9/b-test/k?retention=&versionId=v1");
    assert_digests(r);
    assert_non_null(strstr(r->body_head, "<Mode>COMPLIANCE</Mode><RetainUntilDate>"
                                         "2027-01-01T00:00:00Z</RetainUntilDate>"));
    assert_null(s3_fault_header(r, "x-amz-bypass-governance-retention"));
    assert_int_equal(s3_client_put_retention(x->c, "k", NULL, S3_LOCK_NONE, 5, false, &err),
                     CM_EINVAL);
    assert_int_equal(s3_client_put_retention(x->c, "k", NULL, S3_LOCK_GOVERNANCE, 0, false, &err),
                     CM_EINVAL);
    push(x->f, 0, 200, NULL,
         "<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>2027-01-01T00:00:00Z"
         "</RetainUntilDate></Retention>",
         0);
    assert_int_equal(s3_client_get_retention(x->c, "k", "v1", &m, &t, &err), 0);
    assert_int_equal(m, S3_LOCK_COMPLIANCE);
    assert_int_equal(s3_client_put_legal_hold(x->c, "k", "v1", true, &err), 0);
    r = s3_fault_get(x->f, 2);
    assert_string_equal(r->url, "http://127.0.0.1:9/b-test/k?legal-hold=&versionId=v1");
    assert_digests(r);
    assert_non_null(strstr(r->body_head, "<Status>ON</Status>"));
    push(x->f, 0, 200, NULL, "<LegalHold><Status>OFF</Status></LegalHold>", 0);
    assert_int_equal(s3_client_get_legal_hold(x->c, "k", "v1", &on, &err), 0);
    assert_false(on);
}

static void test_preflight(void **state)
{
    struct fx *x = *state;
    struct cm_err err;

    push(x->f, 0, 200, NULL, "<VersioningConfiguration/>", 0);
    assert_int_equal(s3_client_preflight_lock(x->c, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "bucket b-test: versioning is not enabled"));
    push(x->f, 0, 200, NULL,
         "<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>", 0);
    assert_int_equal(s3_client_preflight_lock(x->c, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "suspended"));
    push(x->f, 0, 200, NULL,
         "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>", 0);
    push(x->f, 0, 404, NULL, ERRBODY("ObjectLockConfigurationNotFoundError", "none"), 0);
    assert_int_equal(s3_client_preflight_lock(x->c, &err), CM_ECONFIG);
    assert_string_equal(err.msg, "bucket b-test: Object Lock is not enabled");
    push(x->f, 0, 200, NULL,
         "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>", 0);
    push(x->f, 0, 200, NULL,
         "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>"
         "</ObjectLockConfiguration>",
         0);
    assert_int_equal(s3_client_preflight_lock(x->c, &err), 0);
    push(x->f, 0, 404, NULL, ERRBODY("NoSuchBucket", "none"), 0);
    assert_int_equal(s3_client_preflight_lock(x->c, &err), CM_ECONFIG);
    assert_string_equal(err.msg, "bucket b-test: does not exist");
    push(x->f, 0, 403, NULL, ERRBODY("AccessDenied", "none"), 0);
    assert_int_equal(s3_client_preflight_lock(x->c, &err), CM_EAUTH);
}

static void test_argument_checks(void **state)
{
    struct fx *x = *state;
    struct s3_object_info info;
    struct s3_lock_config lc = {true, (enum s3_lock_mode)7, 1, 0};
    struct s3_put_opts po;
    struct cm_err err;

    assert_int_equal(s3_client_head_object(x->c, "k", "", &info, &err), CM_EINVAL);
    assert_int_equal(s3_client_head_object(x->c, "k", "v\n1", &info, &err), CM_EINVAL);
    assert_int_equal(s3_client_list_objects(x->c, NULL, NULL, NULL, NULL, &err), CM_EINVAL);
    assert_int_equal(s3_client_put_lock_config(x->c, NULL, &err), CM_EINVAL);
    assert_int_equal(s3_client_put_lock_config(x->c, &lc, &err), CM_EINVAL);
    memset(&po, 0, sizeof(po));
    po.lock_mode = (enum s3_lock_mode)9;
    assert_int_equal(s3_client_put_object(x->c, "k", "1", 1, &po, NULL, &err), CM_EINVAL);
    po.lock_mode = S3_LOCK_NONE;
    po.content_type = "text/plain\r\nx-evil: 1";
    assert_int_equal(s3_client_put_object(x->c, "k", "1", 1, &po, NULL, &err), CM_EINVAL);
    assert_int_equal(s3_fault_count(x->f), 0);
    assert_int_equal(s3_client_delete_bucket(x->c, &err), 0);
    assert_string_equal(s3_fault_get(x->f, 0)->method, "DELETE");
    assert_string_equal(s3_fault_get(x->f, 0)->url, "http://127.0.0.1:9/b-test");
    assert_string_equal(s3_client_bucket(x->c), "b-test");
}

static void test_lock_config_requests(void **state)
{
    struct fx *x = *state;
    struct s3_lock_config lc = {true, S3_LOCK_GOVERNANCE, 3, 0};
    const struct s3_fault_rec *r;
    struct cm_err err;

    assert_int_equal(s3_client_put_lock_config(x->c, &lc, &err), 0);
    r = s3_fault_get(x->f, 0);
    assert_string_equal(r->url, "http://127.0.0.1:9/b-test?object-lock=");
    assert_digests(r);
    assert_non_null(strstr(r->body_head, "<Mode>GOVERNANCE</Mode><Days>3</Days>"));
    lc.default_years = 1;
    assert_int_equal(s3_client_put_lock_config(x->c, &lc, &err), CM_EINVAL);
    lc.default_days = 0;
    lc.default_years = 0;
    assert_int_equal(s3_client_put_lock_config(x->c, &lc, &err), CM_EINVAL);
    assert_int_equal(s3_client_put_versioning(x->c, true, &err), 0);
    r = s3_fault_get(x->f, 1);
    assert_digests(r);
    assert_non_null(strstr(r->body_head, "<Status>Enabled</Status>"));
}

struct lcount {
    unsigned n;
};

static int lcount_fn(const struct s3_list_entry *e, void *ctx)
{
    struct lcount *k = ctx;

    (void)e;
    k->n++;
    return 0;
}

static void test_list_paging(void **state)
{
    struct fx *x = *state;
    struct s3_list_opts lo = {"p/", NULL, 2};
    struct lcount k = {0};
    unsigned pages = 0;
    struct cm_err err;

    push(x->f, 0, 200, NULL,
         "<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>p/a</Key></Contents>"
         "<Contents><Key>p/b</Key></Contents><NextContinuationToken>t+1/=</NextContinuationToken>"
         "</ListBucketResult>",
         0);
    push(x->f, 0, 200, NULL,
         "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>p/c</Key></Contents>"
         "</ListBucketResult>",
         0);
    assert_int_equal(s3_client_list_objects(x->c, &lo, lcount_fn, &k, &pages, &err), 0);
    assert_int_equal(k.n, 3);
    assert_int_equal(pages, 2);
    assert_string_equal(s3_fault_get(x->f, 0)->url,
                        "http://127.0.0.1:9/b-test?list-type=2&prefix=p%2F&max-keys=2");
    assert_string_equal(s3_fault_get(x->f, 1)->url,
                        "http://127.0.0.1:9/b-test?list-type=2&prefix=p%2F&max-keys=2&"
                        "continuation-token=t%2B1%2F%3D");
    /* A truncated page without a token would loop forever: refused. */
    push(x->f, 0, 200, NULL, "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
         0);
    assert_int_equal(s3_client_list_objects(x->c, &lo, lcount_fn, &k, &pages, &err), CM_EPROTO);
    /* Versions: key and version markers. */
    k.n = 0;
    push(x->f, 0, 200, NULL,
         "<ListVersionsResult><IsTruncated>true</IsTruncated><NextKeyMarker>p/a</NextKeyMarker>"
         "<NextVersionIdMarker>v2</NextVersionIdMarker><Version><Key>p/a</Key><VersionId>v1"
         "</VersionId></Version></ListVersionsResult>",
         0);
    push(x->f, 0, 200, NULL,
         "<ListVersionsResult><IsTruncated>true</IsTruncated><NextKeyMarker>p/a</NextKeyMarker>"
         "<NextVersionIdMarker>v2</NextVersionIdMarker><DeleteMarker><Key>p/a</Key><VersionId>v2"
         "</VersionId></DeleteMarker></ListVersionsResult>",
         0);
    assert_int_equal(s3_client_list_versions(x->c, &lo, lcount_fn, &k, &pages, &err), CM_EPROTO);
    assert_non_null(strstr(err.msg, "without new markers"));
    assert_int_equal(k.n, 2);
    assert_string_equal(s3_fault_get(x->f, 4)->url,
                        "http://127.0.0.1:9/b-test?versions=&prefix=p%2F&max-keys=2&"
                        "key-marker=p%2Fa&version-id-marker=v2");
    lo.max_keys = 1001;
    assert_int_equal(s3_client_list_objects(x->c, &lo, lcount_fn, &k, &pages, &err), CM_EINVAL);
    lo.max_keys = 1000;
    push(x->f, 0, 500, NULL, NULL, 0);
    push(x->f, 0, 200, NULL,
         "<ListBucketResult><IsTruncated>false</IsTruncated>"
         "</ListBucketResult>",
         0);
    assert_int_equal(s3_client_list_objects(x->c, &lo, lcount_fn, &k, &pages, &err), 0);
    assert_int_equal(pages, 1);
}

static void test_oom_loops(void **state)
{
    struct fx *x = *state;
    struct s3_put_opts po;
    struct s3_object_info info;
    enum s3_versioning v;
    struct cm_err err;
    long n;
    int rc;

    memset(&po, 0, sizeof(po));
    po.lock_mode = S3_LOCK_GOVERNANCE;
    po.retain_until = 2000000000;
    for (n = 1;; n++) {
        cm_alloc_fault_set(n);
        rc = s3_client_put_object(x->c, "k", "abc", 3, &po, NULL, &err);
        cm_alloc_fault_set(0);
        if (rc == 0)
            break;
        assert_int_equal(rc, CM_ENOMEM);
    }
    assert_true(n > 1);
    for (n = 1;; n++) {
        push(x->f, 0, 200, NULL,
             "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>", 0);
        cm_alloc_fault_set(n);
        rc = s3_client_get_versioning(x->c, &v, &err);
        cm_alloc_fault_set(0);
        if (rc == 0)
            break;
        assert_int_equal(rc, CM_ENOMEM);
    }
    assert_true(n > 1);
    for (n = 1;; n++) {
        cm_alloc_fault_set(n);
        rc = s3_client_head_object(x->c, "k", "v1", &info, &err);
        cm_alloc_fault_set(0);
        if (rc == 0)
            break;
        assert_int_equal(rc, CM_ENOMEM);
    }
    {
        struct s3_client *c = NULL;

        for (n = 1;; n++) {
            cm_alloc_fault_set(n);
            rc = s3_client_create(&x->cfg, &c, &err);
            cm_alloc_fault_set(0);
            if (rc == 0)
                break;
            assert_int_equal(rc, CM_ENOMEM);
        }
        assert_true(n > 3);
        s3_client_destroy(c);
    }
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_create_validation),
        T(test_default_endpoint_and_vhost),
        T(test_create_bucket_us_east_1),
        T(test_put_headers),
        T(test_put_validation),
        T(test_session_token_signed),
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
        T(test_retention_requests),
        T(test_preflight),
        T(test_argument_checks),
        T(test_lock_config_requests),
        T(test_list_paging),
        T(test_oom_loops),
    };
#undef T

    cm_log_set_level(CM_LOG_OFF);
    return cmocka_run_group_tests_name("s3_client", tests, NULL, NULL);
}
