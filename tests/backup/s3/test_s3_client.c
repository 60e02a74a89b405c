/* SPDX-License-Identifier: Apache-2.0 */
/* test_s3_client.c - the requests the client builds, on the recording/fault transport
 * (the fixture is tests/support/s3_testutil.h): configuration limits, addressing, signed
 * headers (Content-MD5 and x-amz-content-sha256 on every PUT), lock headers, retention,
 * legal hold, lock configuration and versioning requests, preflight, argument checks,
 * list paging, OOM. How the request engine handles the answers (retries, errors,
 * downloads) is in test_s3_request.c. */
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

static void test_create_validation(void **state)
{
    struct s3t_fx *x = *state;
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
    struct s3t_fx *x = *state;
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
    s3t_assert_digests(r);
    s3_client_destroy(c);
}

static void test_create_bucket_us_east_1(void **state)
{
    struct s3t_fx *x = *state;
    const struct s3_fault_rec *r;
    struct cm_err err;

    assert_int_equal(s3_client_create_bucket(x->c, false, &err), 0);
    r = s3_fault_get(x->f, 0);
    assert_string_equal(r->url, "http://127.0.0.1:9/b-test");
    assert_int_equal(r->body_len, 0); /* never a LocationConstraint for us-east-1 */
    assert_null(s3_fault_header(r, "x-amz-bucket-object-lock-enabled"));
    s3t_assert_digests(r);
    s3t_push(x->f, 0, 409, NULL, S3T_ERRBODY("BucketAlreadyOwnedByYou", "yours"), 0);
    assert_int_equal(s3_client_create_bucket(x->c, true, &err), CM_EEXIST);
    assert_string_equal(s3_fault_header(s3_fault_get(x->f, 1), "x-amz-bucket-object-lock-enabled"),
                        "true");
}

static void test_put_headers(void **state)
{
    struct s3t_fx *x = *state;
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
    s3t_assert_digests(r);
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
    struct s3t_fx *x = *state;
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
    struct s3t_fx *x = *state;
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

static void test_retention_requests(void **state)
{
    struct s3t_fx *x = *state;
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
    s3t_assert_digests(r);
    assert_non_null(strstr(r->body_head, "<Mode>COMPLIANCE</Mode><RetainUntilDate>"
                                         "2027-01-01T00:00:00Z</RetainUntilDate>"));
    assert_null(s3_fault_header(r, "x-amz-bypass-governance-retention"));
    assert_int_equal(s3_client_put_retention(x->c, "k", NULL, S3_LOCK_NONE, 5, false, &err),
                     CM_EINVAL);
    assert_int_equal(s3_client_put_retention(x->c, "k", NULL, S3_LOCK_GOVERNANCE, 0, false, &err),
                     CM_EINVAL);
    s3t_push(x->f, 0, 200, NULL,
             "<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>2027-01-01T00:00:00Z"
             "</RetainUntilDate></Retention>",
             0);
    assert_int_equal(s3_client_get_retention(x->c, "k", "v1", &m, &t, &err), 0);
    assert_int_equal(m, S3_LOCK_COMPLIANCE);
    assert_int_equal(s3_client_put_legal_hold(x->c, "k", "v1", true, &err), 0);
    r = s3_fault_get(x->f, 2);
    assert_string_equal(r->url, "http://127.0.0.1:9/b-test/k?legal-hold=&versionId=v1");
    s3t_assert_digests(r);
    assert_non_null(strstr(r->body_head, "<Status>ON</Status>"));
    s3t_push(x->f, 0, 200, NULL, "<LegalHold><Status>OFF</Status></LegalHold>", 0);
    assert_int_equal(s3_client_get_legal_hold(x->c, "k", "v1", &on, &err), 0);
    assert_false(on);
}

static void test_preflight(void **state)
{
    struct s3t_fx *x = *state;
    struct cm_err err;

    s3t_push(x->f, 0, 200, NULL, "<VersioningConfiguration/>", 0);
    assert_int_equal(s3_client_preflight_lock(x->c, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "bucket b-test: versioning is not enabled"));
    s3t_push(x->f, 0, 200, NULL,
             "<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>", 0);
    assert_int_equal(s3_client_preflight_lock(x->c, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "suspended"));
    s3t_push(x->f, 0, 200, NULL,
             "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>", 0);
    s3t_push(x->f, 0, 404, NULL, S3T_ERRBODY("ObjectLockConfigurationNotFoundError", "none"), 0);
    assert_int_equal(s3_client_preflight_lock(x->c, &err), CM_ECONFIG);
    assert_string_equal(err.msg, "bucket b-test: Object Lock is not enabled");
    s3t_push(x->f, 0, 200, NULL,
             "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>", 0);
    s3t_push(x->f, 0, 200, NULL,
             "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>"
             "</ObjectLockConfiguration>",
             0);
    assert_int_equal(s3_client_preflight_lock(x->c, &err), 0);
    s3t_push(x->f, 0, 404, NULL, S3T_ERRBODY("NoSuchBucket", "none"), 0);
    assert_int_equal(s3_client_preflight_lock(x->c, &err), CM_ECONFIG);
    assert_string_equal(err.msg, "bucket b-test: does not exist");
    s3t_push(x->f, 0, 403, NULL, S3T_ERRBODY("AccessDenied", "none"), 0);
    assert_int_equal(s3_client_preflight_lock(x->c, &err), CM_EAUTH);
}

static void test_argument_checks(void **state)
{
    struct s3t_fx *x = *state;
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
    struct s3t_fx *x = *state;
    struct s3_lock_config lc = {true, S3_LOCK_GOVERNANCE, 3, 0};
    const struct s3_fault_rec *r;
    struct cm_err err;

    assert_int_equal(s3_client_put_lock_config(x->c, &lc, &err), 0);
    r = s3_fault_get(x->f, 0);
    assert_string_equal(r->url, "http://127.0.0.1:9/b-test?object-lock=");
    s3t_assert_digests(r);
    assert_non_null(strstr(r->body_head, "<Mode>GOVERNANCE</Mode><Days>3</Days>"));
    lc.default_years = 1;
    assert_int_equal(s3_client_put_lock_config(x->c, &lc, &err), CM_EINVAL);
    lc.default_days = 0;
    lc.default_years = 0;
    assert_int_equal(s3_client_put_lock_config(x->c, &lc, &err), CM_EINVAL);
    assert_int_equal(s3_client_put_versioning(x->c, true, &err), 0);
    r = s3_fault_get(x->f, 1);
    s3t_assert_digests(r);
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
    struct s3t_fx *x = *state;
    struct s3_list_opts lo = {"p/", NULL, 2};
    struct lcount k = {0};
    unsigned pages = 0;
    struct cm_err err;

    s3t_push(
        x->f, 0, 200, NULL,
        "<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>p/a</Key></Contents>"
        "<Contents><Key>p/b</Key></Contents><NextContinuationToken>t+1/=</NextContinuationToken>"
        "</ListBucketResult>",
        0);
    s3t_push(x->f, 0, 200, NULL,
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
    s3t_push(x->f, 0, 200, NULL,
             "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>", 0);
    assert_int_equal(s3_client_list_objects(x->c, &lo, lcount_fn, &k, &pages, &err), CM_EPROTO);
    /* Versions: key and version markers. */
    k.n = 0;
    s3t_push(x->f, 0, 200, NULL,
             "<ListVersionsResult><IsTruncated>true</IsTruncated><NextKeyMarker>p/a</NextKeyMarker>"
             "<NextVersionIdMarker>v2</NextVersionIdMarker><Version><Key>p/a</Key><VersionId>v1"
             "</VersionId></Version></ListVersionsResult>",
             0);
    s3t_push(
        x->f, 0, 200, NULL,
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
    s3t_push(x->f, 0, 500, NULL, NULL, 0);
    s3t_push(x->f, 0, 200, NULL,
             "<ListBucketResult><IsTruncated>false</IsTruncated>"
             "</ListBucketResult>",
             0);
    assert_int_equal(s3_client_list_objects(x->c, &lo, lcount_fn, &k, &pages, &err), 0);
    assert_int_equal(pages, 1);
}

static void test_oom_loops(void **state)
{
    struct s3t_fx *x = *state;
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
        s3t_push(x->f, 0, 200, NULL,
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
#define T(f) cmocka_unit_test_setup_teardown(f, s3t_setup, s3t_teardown)
    const struct CMUnitTest tests[] = {
        T(test_create_validation),
        T(test_default_endpoint_and_vhost),
        T(test_create_bucket_us_east_1),
        T(test_put_headers),
        T(test_put_validation),
        T(test_session_token_signed),
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
