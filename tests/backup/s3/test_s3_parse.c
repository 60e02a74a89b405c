/* SPDX-License-Identifier: Apache-2.0 */
/* test_s3_parse.c - the S3 response parsers: error bodies, versioning, Object Lock
 * configuration, retention, legal hold, multipart results, listing pages, timestamps. */
#include "backup/s3/s3_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P(s) (s), strlen(s)

static void test_error_body(void **state)
{
    struct s3_error_info ei;
    char big[512];

    (void)state;
    s3_error_parse(P("<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>forbidden "
                     "by object lock</Message><RequestId>tx1</RequestId><HostId>h</HostId>"
                     "</Error>"),
                   &ei);
    assert_string_equal(ei.code, "AccessDenied");
    assert_string_equal(ei.message, "forbidden by object lock");
    assert_string_equal(ei.request_id, "tx1");
    s3_error_parse(P("<Error><Code>NoSuchKey</Code></Error>"), &ei);
    assert_string_equal(ei.code, "NoSuchKey");
    assert_string_equal(ei.message, "");
    s3_error_parse(P("<Error><Code>Trunc"), &ei); /* truncated: nothing, no crash */
    assert_string_equal(ei.code, "");
    s3_error_parse(P("<html>busy</html>"), &ei);
    assert_string_equal(ei.code, "");
    s3_error_parse(NULL, 0, &ei);
    assert_string_equal(ei.code, "");
    /* A too-long message is cut, not dropped. */
    memset(big, 'm', sizeof(big));
    memcpy(big, "<Error><Message>", 16);
    memcpy(big + sizeof(big) - 19, "</Message></Error>", 18);
    big[sizeof(big) - 1] = '\0';
    s3_error_parse(big, strlen(big), &ei);
    assert_int_equal(strlen(ei.message), sizeof(ei.message) - 1);
    assert_false(ei.is_oom);
}

/* Out of memory while parsing an error body: flagged, so that a missing code is never
 * taken for "no code" (a NoSuchUpload read as a plain 404); unparsable is not OOM. */
static void test_error_body_oom(void **state)
{
    struct s3_error_info ei;
    long n;

    (void)state;
    s3_error_parse(P("<Error><Code>Trunc"), &ei);
    assert_false(ei.is_oom);
    for (n = 1;; n++) {
        cm_alloc_fault_set(n);
        s3_error_parse(P("<Error><Code>NoSuchUpload</Code></Error>"), &ei);
        cm_alloc_fault_set(0);
        if (!ei.is_oom)
            break;
        assert_string_equal(ei.code, "");
    }
    assert_true(n > 1);
    assert_string_equal(ei.code, "NoSuchUpload");
}

static void test_versioning(void **state)
{
    enum s3_versioning v = S3_VERSIONING_ENABLED;
    struct cm_err err;

    (void)state;
    assert_int_equal(s3_parse_versioning(P("<VersioningConfiguration xmlns=\"x\"/>"), &v, &err), 0);
    assert_int_equal(v, S3_VERSIONING_NONE);
    assert_int_equal(s3_parse_versioning(P("<VersioningConfiguration><Status>Enabled</Status>"
                                           "</VersioningConfiguration>"),
                                         &v, &err),
                     0);
    assert_int_equal(v, S3_VERSIONING_ENABLED);
    assert_int_equal(s3_parse_versioning(P("<VersioningConfiguration><Status>Suspended</Status>"
                                           "</VersioningConfiguration>"),
                                         &v, &err),
                     0);
    assert_int_equal(v, S3_VERSIONING_SUSPENDED);
    assert_int_equal(s3_parse_versioning(P("<VersioningConfiguration><Status>On</Status>"
                                           "</VersioningConfiguration>"),
                                         &v, &err),
                     CM_EPROTO);
    assert_int_equal(s3_parse_versioning(P("<Other/>"), &v, &err), CM_EPROTO);
    assert_non_null(strstr(err.msg, "VersioningConfiguration"));
    assert_int_equal(s3_parse_versioning(P("<Versioning"), &v, &err), CM_EPARSE);
}

static void test_lock_config(void **state)
{
    struct s3_lock_config lc;
    struct cm_err err;

    (void)state;
    assert_int_equal(s3_parse_lock_config(P("<ObjectLockConfiguration><ObjectLockEnabled>Enabled"
                                            "</ObjectLockEnabled></ObjectLockConfiguration>"),
                                          &lc, &err),
                     0);
    assert_true(lc.enabled);
    assert_int_equal(lc.default_mode, S3_LOCK_NONE);
    assert_int_equal(s3_parse_lock_config(P("<ObjectLockConfiguration><ObjectLockEnabled>Enabled"
                                            "</ObjectLockEnabled><Rule><DefaultRetention><Mode>"
                                            "COMPLIANCE</Mode><Years>2</Years></DefaultRetention>"
                                            "</Rule></ObjectLockConfiguration>"),
                                          &lc, &err),
                     0);
    assert_int_equal(lc.default_mode, S3_LOCK_COMPLIANCE);
    assert_int_equal(lc.default_years, 2);
    assert_int_equal(lc.default_days, 0);
    assert_int_equal(s3_parse_lock_config(P("<ObjectLockConfiguration><Rule><DefaultRetention>"
                                            "<Mode>X</Mode></DefaultRetention></Rule>"
                                            "</ObjectLockConfiguration>"),
                                          &lc, &err),
                     CM_EPROTO);
    assert_int_equal(s3_parse_lock_config(P("<ObjectLockConfiguration><Rule><DefaultRetention>"
                                            "<Mode>GOVERNANCE</Mode><Days>-1</Days>"
                                            "</DefaultRetention></Rule></ObjectLockConfiguration>"),
                                          &lc, &err),
                     CM_EPROTO);
    /* Limits: 36500 days passes, 36501 fails. */
    assert_int_equal(s3_parse_lock_config(P("<ObjectLockConfiguration><Rule><DefaultRetention>"
                                            "<Mode>GOVERNANCE</Mode><Days>36500</Days>"
                                            "</DefaultRetention></Rule></ObjectLockConfiguration>"),
                                          &lc, &err),
                     0);
    assert_int_equal(s3_parse_lock_config(P("<ObjectLockConfiguration><Rule><DefaultRetention>"
                                            "<Mode>GOVERNANCE</Mode><Days>36501</Days>"
                                            "</DefaultRetention></Rule></ObjectLockConfiguration>"),
                                          &lc, &err),
                     CM_EPROTO);
}

static void test_retention_and_hold(void **state)
{
    enum s3_lock_mode m = S3_LOCK_NONE;
    time_t t = 0;
    bool on = false;
    struct cm_err err;

    (void)state;
    assert_int_equal(s3_parse_retention(P("<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>"
                                          "2026-11-22T09:30:00.000Z</RetainUntilDate>"
                                          "</Retention>"),
                                        &m, &t, &err),
                     0);
    assert_int_equal(m, S3_LOCK_GOVERNANCE);
    assert_int_equal((long long)t, (long long)cm_time_from_utc(2026, 11, 22, 9, 30, 0));
    assert_int_equal(
        s3_parse_retention(P("<Retention><Mode>GOVERNANCE</Mode></Retention>"), &m, &t, &err),
        CM_EPROTO);
    assert_int_equal(s3_parse_retention(P("<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>"
                                          "soon</RetainUntilDate></Retention>"),
                                        &m, &t, &err),
                     CM_EPROTO);
    assert_int_equal(
        s3_parse_legal_hold(P("<LegalHold><Status>ON</Status></LegalHold>"), &on, &err), 0);
    assert_true(on);
    assert_int_equal(
        s3_parse_legal_hold(P("<LegalHold><Status>OFF</Status></LegalHold>"), &on, &err), 0);
    assert_false(on);
    assert_int_equal(s3_parse_legal_hold(P("<LegalHold/>"), &on, &err), CM_EPROTO);
}

static void test_multipart_results(void **state)
{
    char id[32];
    char etag[S3_MAX_ETAG + 1];
    struct cm_err err;

    (void)state;
    assert_int_equal(s3_parse_upload_id(P("<InitiateMultipartUploadResult><UploadId>u-1"
                                          "</UploadId></InitiateMultipartUploadResult>"),
                                        id, sizeof(id), &err),
                     0);
    assert_string_equal(id, "u-1");
    assert_int_equal(s3_parse_upload_id(P("<InitiateMultipartUploadResult><UploadId></UploadId>"
                                          "</InitiateMultipartUploadResult>"),
                                        id, sizeof(id), &err),
                     CM_EPROTO);
    assert_int_equal(s3_parse_upload_id(P("<InitiateMultipartUploadResult><UploadId>"
                                          "0123456789012345678901234567890123456789"
                                          "</UploadId></InitiateMultipartUploadResult>"),
                                        id, sizeof(id), &err),
                     CM_EPROTO);
    assert_int_equal(s3_parse_complete(P("<CompleteMultipartUploadResult><ETag>\"e-2\"</ETag>"
                                         "</CompleteMultipartUploadResult>"),
                                       etag, sizeof(etag), &err),
                     0);
    assert_string_equal(etag, "\"e-2\"");
    assert_int_equal(s3_parse_complete(P("<CompleteMultipartUploadResult><ETag></ETag>"
                                         "</CompleteMultipartUploadResult>"),
                                       etag, sizeof(etag), &err),
                     0);
    assert_string_equal(etag, "");
    /* 200 OK carrying an error: a failure, not a success. */
    assert_int_equal(s3_parse_complete(P("<Error><Code>InternalError</Code><Message>try again"
                                         "</Message></Error>"),
                                       etag, sizeof(etag), &err),
                     CM_EAGAIN);
    assert_non_null(strstr(err.msg, "InternalError"));
    assert_int_equal(
        s3_parse_complete(P("<Error><Code>InvalidPart</Code></Error>"), etag, sizeof(etag), &err),
        CM_EINTEGRITY);
}

struct seen {
    char keys[8][64];
    bool prefix[8];
    bool marker[8];
    uint64_t size[8];
    int n;
    int stop_at;
};

static int collect(const struct s3_list_entry *e, void *ctx)
{
    struct seen *s = ctx;

    if (s->n < 8) {
        (void)snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s%s%s", e->key,
                       e->version_id ? "@" : "", e->version_id ? e->version_id : "");
        s->prefix[s->n] = e->is_prefix;
        s->marker[s->n] = e->is_delete_marker;
        s->size[s->n] = e->size;
    }
    s->n++;
    if (s->stop_at > 0 && s->n == s->stop_at)
        return s->stop_at < 0 ? -1 : 7;
    return 0;
}

static void test_list_pages(void **state)
{
    struct s3_list_page page;
    struct seen s;
    struct cm_err err;
    const char *v2 = "<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>a</Key>"
                     "<LastModified>2026-11-22T09:30:00.000Z</LastModified><ETag>\"e\"</ETag>"
                     "<Size>12</Size></Contents><CommonPrefixes><Prefix>p/</Prefix>"
                     "</CommonPrefixes><NextContinuationToken>tok==</NextContinuationToken>"
                     "</ListBucketResult>";
    const char *vers = "<ListVersionsResult><IsTruncated>false</IsTruncated><Version><Key>k"
                       "</Key><VersionId>v1</VersionId><IsLatest>false</IsLatest><Size>3</Size>"
                       "</Version><DeleteMarker><Key>k</Key><VersionId>v2</VersionId><IsLatest>"
                       "true</IsLatest></DeleteMarker></ListVersionsResult>";

    (void)state;
    memset(&s, 0, sizeof(s));
    assert_int_equal(s3_parse_list_page(P(v2), false, collect, &s, &page, &err), 0);
    assert_true(page.is_truncated);
    assert_string_equal(page.next_token, "tok==");
    assert_int_equal(page.entries, 2);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.keys[0], "a");
    assert_int_equal(s.size[0], 12);
    assert_string_equal(s.keys[1], "p/");
    assert_true(s.prefix[1]);

    memset(&s, 0, sizeof(s));
    assert_int_equal(s3_parse_list_page(P(vers), true, collect, &s, &page, &err), 0);
    assert_false(page.is_truncated);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.keys[0], "k@v1");
    assert_false(s.marker[0]);
    assert_string_equal(s.keys[1], "k@v2");
    assert_true(s.marker[1]);

    /* The callback stops the walk with a positive value, which is returned. */
    memset(&s, 0, sizeof(s));
    s.stop_at = 1;
    assert_int_equal(s3_parse_list_page(P(v2), false, collect, &s, &page, &err), 7);
    assert_int_equal(s.n, 1);

    /* Malformed pages. */
    memset(&s, 0, sizeof(s));
    assert_int_equal(s3_parse_list_page(P("<ListBucketResult><Contents><Size>1</Size>"
                                          "</Contents></ListBucketResult>"),
                                        false, collect, &s, &page, &err),
                     CM_EPROTO);
    assert_non_null(strstr(err.msg, "without <Key>"));
    assert_int_equal(s3_parse_list_page(P("<ListBucketResult><Contents><Key>a</Key><Size>x"
                                          "</Size></Contents></ListBucketResult>"),
                                        false, collect, &s, &page, &err),
                     CM_EPROTO);
    assert_int_equal(s3_parse_list_page(P("<ListVersionsResult><Version><Key>a</Key></Version>"
                                          "</ListVersionsResult>"),
                                        true, collect, &s, &page, &err),
                     CM_EPROTO);
    assert_int_equal(s3_parse_list_page(P(v2), true, collect, &s, &page, &err), CM_EPROTO);
}

static void test_list_key_limit(void **state)
{
    size_t cap = S3_MAX_KEY + 200;
    char *doc = malloc(cap);
    struct s3_list_page page;
    struct seen s;
    struct cm_err err;
    int n;

    (void)state;
    assert_non_null(doc);
    n = snprintf(doc, cap,
                 "<ListBucketResult><Contents><Key>%0*d</Key></Contents>"
                 "</ListBucketResult>",
                 S3_MAX_KEY, 0);
    memset(&s, 0, sizeof(s));
    assert_int_equal(s3_parse_list_page(doc, (size_t)n, false, collect, &s, &page, &err), 0);
    n = snprintf(doc, cap,
                 "<ListBucketResult><Contents><Key>%0*d</Key></Contents>"
                 "</ListBucketResult>",
                 S3_MAX_KEY + 1, 0);
    assert_int_equal(s3_parse_list_page(doc, (size_t)n, false, collect, &s, &page, &err),
                     CM_EPROTO);
    free(doc);
}

static void test_times(void **state)
{
    time_t t = 0;
    time_t want = cm_time_from_utc(2026, 11, 22, 9, 30, 5);

    (void)state;
    assert_int_equal(s3_time_parse(P("Sun, 22 Nov 2026 09:30:05 GMT"), &t), 0);
    assert_int_equal((long long)t, (long long)want);
    assert_int_equal(s3_time_parse(P("2026-11-22T09:30:05.123Z"), &t), 0);
    assert_int_equal((long long)t, (long long)want);
    assert_int_equal(s3_time_parse(P("Sun, 22 Foo 2026 09:30:05 GMT"), &t), CM_EPARSE);
    assert_int_equal(s3_time_parse(P("Sun, 22 Nov 2026 25:30:05 GMT"), &t), CM_EPARSE);
    assert_int_equal(s3_time_parse(P("Sun, 22 Nov 2026 09:30:05 UTC"), &t), CM_EPARSE);
    assert_int_equal(s3_time_parse(P(""), &t), CM_EPARSE);
}

static void test_lock_mode_names(void **state)
{
    enum s3_lock_mode m;

    (void)state;
    assert_string_equal(s3_lock_mode_name(S3_LOCK_COMPLIANCE), "COMPLIANCE");
    assert_string_equal(s3_lock_mode_name(S3_LOCK_GOVERNANCE), "GOVERNANCE");
    assert_string_equal(s3_lock_mode_name(S3_LOCK_NONE), "NONE");
    assert_int_equal(s3_lock_mode_parse(P("compliance"), &m), 0);
    assert_int_equal(m, S3_LOCK_COMPLIANCE);
    assert_int_equal(s3_lock_mode_parse(P("GOVERNANCE"), &m), 0);
    assert_int_equal(m, S3_LOCK_GOVERNANCE);
    assert_int_equal(s3_lock_mode_parse(P("NONE"), &m), CM_EINVAL);
    assert_int_equal(s3_lock_mode_parse(NULL, 0, &m), CM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_body),
        cmocka_unit_test(test_error_body_oom),
        cmocka_unit_test(test_versioning),
        cmocka_unit_test(test_lock_config),
        cmocka_unit_test(test_retention_and_hold),
        cmocka_unit_test(test_multipart_results),
        cmocka_unit_test(test_list_pages),
        cmocka_unit_test(test_list_key_limit),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_lock_mode_names),
    };

    return cmocka_run_group_tests_name("s3_parse", tests, NULL, NULL);
}
