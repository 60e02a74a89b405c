/* SPDX-License-Identifier: Apache-2.0 */
/* test_s3_rgw.c - the S3 client against a real radosgw with Object Lock (started by
 * tests/run.sh via tests/support/rgw.sh, which exports S3_ENDPOINT and the keys; the
 * fixture is tests/support/rgw_env.h): lock preflight, COMPLIANCE/GOVERNANCE semantics,
 * retention extension, legal hold, listing with paging, virtual-host addressing, bad
 * credentials and the libcurl transport's failure mapping. Uploads (multipart, digests,
 * retries, a lost CompleteMultipartUpload answer) are in test_s3_rgw_upload.c. */
#include "backup/s3/s3.h"
#include "tests/support/backup_env.h"
#include "tests/support/rgw_env.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_lock_bucket_preflight(void **state)
{
    struct rgw_env *e = *state;
    enum s3_versioning v = S3_VERSIONING_NONE;
    struct s3_lock_config lc;
    struct cm_err err;

    assert_int_equal(s3_client_head_bucket(e->c, &err), 0);
    assert_int_equal(s3_client_get_versioning(e->c, &v, &err), 0);
    assert_int_equal(v, S3_VERSIONING_ENABLED);
    memset(&lc, 0, sizeof(lc));
    assert_int_equal(s3_client_get_lock_config(e->c, &lc, &err), 0);
    assert_true(lc.enabled);
    assert_int_equal(s3_client_preflight_lock(e->c, &err), 0);
    /* Default retention round trip. */
    lc.default_mode = S3_LOCK_GOVERNANCE;
    lc.default_days = 1;
    assert_int_equal(s3_client_put_lock_config(e->c, &lc, &err), 0);
    memset(&lc, 0, sizeof(lc));
    assert_int_equal(s3_client_get_lock_config(e->c, &lc, &err), 0);
    assert_int_equal(lc.default_mode, S3_LOCK_GOVERNANCE);
    assert_int_equal(lc.default_days, 1);
}

static void test_plain_bucket_refused(void **state)
{
    struct rgw_env *e = *state;
    char name[64];
    char want[160];
    struct s3_client *c;
    struct s3_lock_config lc;
    struct s3_put_opts po;
    struct cm_err err;
    int rc;

    bte_bucket_name(name, sizeof(name), "lw-plain");
    c = rgw_client(e, name, true, NULL, 0);
    /* A bucket that does not exist yet. */
    rc = s3_client_preflight_lock(c, &err);
    assert_int_equal(rc, CM_ECONFIG);
    (void)snprintf(want, sizeof(want), "bucket %s: does not exist", name);
    assert_string_equal(err.msg, want);
    assert_int_equal(s3_client_head_bucket(c, &err), CM_ENOENT);

    assert_int_equal(s3_client_create_bucket(c, false, &err), 0);
    rc = s3_client_preflight_lock(c, &err);
    assert_int_equal(rc, CM_ECONFIG);
    (void)snprintf(want, sizeof(want), "bucket %s: versioning is not enabled", name);
    assert_non_null(strstr(err.msg, want));

    assert_int_equal(s3_client_get_lock_config(c, &lc, &err), CM_ENOENT);
    assert_non_null(strstr(err.msg, "Object Lock is not enabled"));

    /* Versioning alone is not enough. */
    assert_int_equal(s3_client_put_versioning(c, true, &err), 0);
    rc = s3_client_preflight_lock(c, &err);
    assert_int_equal(rc, CM_ECONFIG);
    (void)snprintf(want, sizeof(want), "bucket %s: Object Lock is not enabled", name);
    assert_string_equal(err.msg, want);

    /* Lock headers on a bucket without Object Lock: 400 InvalidRequest, named. */
    memset(&po, 0, sizeof(po));
    po.lock_mode = S3_LOCK_COMPLIANCE;
    po.retain_until = (time_t)(cm_time_now_ms() / 1000) + 300;
    rc = s3_client_put_object(c, "x", "abc", 3, &po, NULL, &err);
    assert_int_equal(rc, CM_EHTTP);
    assert_non_null(strstr(err.msg, "400 InvalidRequest"));
    /* Creating it again "with Object Lock" succeeds silently on radosgw (like AWS in
     * us-east-1 for the owner) without adding the lock: only the preflight can tell. */
    assert_int_equal(s3_client_create_bucket(c, true, &err), 0);
    assert_int_equal(s3_client_preflight_lock(c, &err), CM_ECONFIG);
    (void)snprintf(want, sizeof(want), "bucket %s: Object Lock is not enabled", name);
    assert_string_equal(err.msg, want);
    s3_client_destroy(c);
}

static void test_compliance_lock(void **state)
{
    struct rgw_env *e = *state;
    struct s3_put_opts po;
    struct s3_put_result r1;
    struct s3_put_result r2;
    struct s3_object_info info;
    enum s3_lock_mode mode;
    time_t until;
    time_t now = (time_t)(cm_time_now_ms() / 1000);
    time_t t0 = now + 300;
    char *buf = NULL;
    size_t len = 0;
    struct cm_err err;
    const char *key = "prod/20261122T093000Z/manifest.json";
    const char *v1 = "{\"restore_point\":1}";
    int rc;

    memset(&po, 0, sizeof(po));
    po.lock_mode = S3_LOCK_COMPLIANCE;
    po.retain_until = t0;
    po.content_type = "application/json";
    po.n_meta = 1;
    struct s3_meta meta = {.name = "sha256", .value = "abc123"};
    po.meta = &meta;
    assert_int_equal(s3_client_put_object(e->c, key, v1, strlen(v1), &po, &r1, &err), 0);
    assert_true(r1.version_id[0] != '\0');
    assert_true(r1.etag[0] != '\0');

    /* The server refuses to delete the locked version: "retained", not a failure. */
    rc = s3_client_delete_object(e->c, key, r1.version_id, false, &err);
    assert_int_equal(rc, CM_ELOCKED);
    assert_non_null(strstr(err.msg, "retained by object lock"));
    assert_non_null(strstr(err.msg, "403 AccessDenied"));
    /* Not even with the governance bypass. */
    assert_int_equal(s3_client_delete_object(e->c, key, r1.version_id, true, &err), CM_ELOCKED);

    /* An overwrite makes a new version; the old one reads back byte-identical. */
    po.lock_mode = S3_LOCK_NONE;
    assert_int_equal(s3_client_put_object(e->c, key, "new", 3, &po, &r2, &err), 0);
    assert_string_not_equal(r1.version_id, r2.version_id);
    assert_int_equal(
        s3_client_get_object_mem(e->c, key, r1.version_id, 4096, &buf, &len, &info, &err), 0);
    assert_int_equal(len, strlen(v1));
    assert_memory_equal(buf, v1, len);
    cm_free(buf);
    assert_string_equal(info.version_id, r1.version_id);

    /* HEAD and GET ?retention show the mode and date; metadata survives. */
    assert_int_equal(s3_client_head_object(e->c, key, r1.version_id, &info, &err), 0);
    assert_int_equal(info.lock_mode, S3_LOCK_COMPLIANCE);
    assert_int_equal((long long)info.retain_until, (long long)t0);
    assert_int_equal(info.size, strlen(v1));
    assert_string_equal(info.content_type, "application/json");
    assert_int_equal(info.n_meta, 1);
    assert_string_equal(info.meta[0].name, "sha256");
    assert_string_equal(info.meta[0].value, "abc123");
    assert_int_equal(s3_client_get_retention(e->c, key, r1.version_id, &mode, &until, &err), 0);
    assert_int_equal(mode, S3_LOCK_COMPLIANCE);
    assert_int_equal((long long)until, (long long)t0);

    /* Extending works; shortening and weakening are refused by the server. */
    assert_int_equal(s3_client_put_retention(e->c, key, r1.version_id, S3_LOCK_COMPLIANCE, t0 + 600,
                                             false, &err),
                     0);
    assert_int_equal(s3_client_get_retention(e->c, key, r1.version_id, &mode, &until, &err), 0);
    assert_int_equal((long long)until, (long long)(t0 + 600));
    rc =
        s3_client_put_retention(e->c, key, r1.version_id, S3_LOCK_COMPLIANCE, t0 + 60, false, &err);
    assert_int_equal(rc, CM_ELOCKED);
    assert_non_null(strstr(err.msg, "cannot be shortened"));
    rc = s3_client_put_retention(e->c, key, r1.version_id, S3_LOCK_GOVERNANCE, t0 + 900, false,
                                 &err);
    assert_int_equal(rc, CM_ELOCKED);

    /* Missing things are CM_ENOENT. */
    assert_int_equal(s3_client_head_object(e->c, "no/such/key", NULL, &info, &err), CM_ENOENT);
    rc = s3_client_get_object_mem(e->c, "no/such/key", NULL, 16, &buf, &len, NULL, &err);
    assert_int_equal(rc, CM_ENOENT);
    assert_non_null(strstr(err.msg, "NoSuchKey"));
}

static void test_governance_and_legal_hold(void **state)
{
    struct rgw_env *e = *state;
    struct s3_put_opts po;
    struct s3_put_result r;
    bool on = false;
    struct cm_err err;

    memset(&po, 0, sizeof(po));
    po.lock_mode = S3_LOCK_GOVERNANCE;
    po.retain_until = (time_t)(cm_time_now_ms() / 1000) + 300;
    assert_int_equal(s3_client_put_object(e->c, "gov/a", "gov", 3, &po, &r, &err), 0);
    assert_int_equal(s3_client_delete_object(e->c, "gov/a", r.version_id, false, &err), CM_ELOCKED);
    /* Only an explicit bypass (never used by the executor) removes it. */
    assert_int_equal(s3_client_delete_object(e->c, "gov/a", r.version_id, true, &err), 0);

    memset(&po, 0, sizeof(po));
    po.legal_hold = true;
    assert_int_equal(s3_client_put_object(e->c, "hold/a", "hold", 4, &po, &r, &err), 0);
    assert_int_equal(s3_client_get_legal_hold(e->c, "hold/a", r.version_id, &on, &err), 0);
    assert_true(on);
    assert_int_equal(s3_client_delete_object(e->c, "hold/a", r.version_id, false, &err),
                     CM_ELOCKED);
    assert_int_equal(s3_client_put_legal_hold(e->c, "hold/a", r.version_id, false, &err), 0);
    assert_int_equal(s3_client_delete_object(e->c, "hold/a", r.version_id, false, &err), 0);
}

struct counter {
    unsigned objects;
    unsigned prefixes;
    unsigned versions;
    unsigned latest;
    unsigned stop_after;
};

static int count_entry(const struct s3_list_entry *en, void *ctx)
{
    struct counter *k = ctx;

    if (en->is_prefix)
        k->prefixes++;
    else
        k->objects++;
    if (en->version_id != NULL)
        k->versions++;
    if (en->is_latest)
        k->latest++;
    if (k->stop_after > 0 && k->objects == k->stop_after)
        return 1;
    return 0;
}

static void test_listing_pages(void **state)
{
    struct rgw_env *e = *state;
    struct s3_list_opts lo;
    struct counter k;
    unsigned pages = 0;
    char key[64];
    struct cm_err err;
    int i;

    for (i = 0; i < 7; i++) {
        (void)snprintf(key, sizeof(key), "list/%s/obj-%d", i < 4 ? "a" : "b", i);
        assert_int_equal(s3_client_put_object(e->c, key, key, strlen(key), NULL, NULL, &err), 0);
    }
    assert_int_equal(s3_client_put_object(e->c, "list/a/obj-0", "v2", 2, NULL, NULL, &err), 0);

    memset(&lo, 0, sizeof(lo));
    lo.prefix = "list/";
    lo.max_keys = 3;
    memset(&k, 0, sizeof(k));
    assert_int_equal(s3_client_list_objects(e->c, &lo, count_entry, &k, &pages, &err), 0);
    assert_int_equal(k.objects, 7);
    assert_int_equal(pages, 3); /* 3 + 3 + 1 via continuation tokens */

    memset(&k, 0, sizeof(k));
    lo.max_keys = 2;
    assert_int_equal(s3_client_list_versions(e->c, &lo, count_entry, &k, &pages, &err), 0);
    assert_int_equal(k.versions, 8);
    assert_int_equal(k.latest, 7);
    assert_int_equal(pages, 4); /* 2 + 2 + 2 + 2 via key/version-id markers */

    memset(&k, 0, sizeof(k));
    lo.max_keys = 0;
    lo.delimiter = "/";
    assert_int_equal(s3_client_list_objects(e->c, &lo, count_entry, &k, &pages, &err), 0);
    assert_int_equal(k.prefixes, 2);
    assert_int_equal(k.objects, 0);

    /* A callback can stop early. */
    memset(&k, 0, sizeof(k));
    lo.delimiter = NULL;
    lo.max_keys = 2;
    k.stop_after = 3;
    assert_int_equal(s3_client_list_objects(e->c, &lo, count_entry, &k, &pages, &err), 0);
    assert_int_equal(k.objects, 3);
    assert_int_equal(pages, 2);
}

static void test_virtual_host(void **state)
{
    struct rgw_env *e = *state;
    char name[64];
    char ep[128];
    const char *port = strrchr(e->endpoint, ':');
    struct s3_client *c;
    struct s3_put_result r;
    char *buf = NULL;
    size_t len = 0;
    struct cm_err err;

    assert_non_null(port);
    /* radosgw runs with rgw_dns_name = localhost: bucket.localhost:PORT is the bucket,
     * and *.localhost resolves to the loopback address. */
    (void)snprintf(ep, sizeof(ep), "http://localhost%s", port);
    bte_bucket_name(name, sizeof(name), "lw-vhost");
    c = rgw_client(e, name, false, ep, 0);
    assert_int_equal(s3_client_create_bucket(c, true, &err), 0);
    assert_int_equal(s3_client_preflight_lock(c, &err), 0);
    assert_int_equal(s3_client_put_object(c, "dir/with space+plus", "vh", 2, NULL, &r, &err), 0);
    /* Dot segments are part of the key, never normalised away. */
    assert_int_equal(s3_client_put_object(c, "a/../b/./c", "dots", 4, NULL, &r, &err), 0);
    assert_int_equal(s3_client_get_object_mem(c, "a/../b/./c", NULL, 16, &buf, &len, NULL, &err),
                     0);
    assert_int_equal(len, 4);
    cm_free(buf);
    assert_int_equal(s3_client_head_object(c, "b/c", NULL, NULL, &err), CM_ENOENT);
    assert_int_equal(
        s3_client_get_object_mem(c, "dir/with space+plus", NULL, 16, &buf, &len, NULL, &err), 0);
    assert_int_equal(len, 2);
    assert_memory_equal(buf, "vh", 2);
    cm_free(buf);
    s3_client_destroy(c);
}

static void test_bad_credentials(void **state)
{
    struct rgw_env *e = *state;
    struct s3_credentials bad = {0};
    struct s3_config cfg;
    struct s3_client *c = NULL;
    struct cm_err err;
    int rc;

    assert_int_equal(s3_credentials_set(&bad, "OBJLOCKTESTACCESSKEY01", "wrong-secret", NULL, &err),
                     0);
    memset(&cfg, 0, sizeof(cfg));
    cfg.endpoint = e->endpoint;
    cfg.bucket = e->bucket;
    cfg.path_style = true;
    cfg.creds = &bad;
    assert_int_equal(s3_client_create(&cfg, &c, &err), 0);
    rc = s3_client_head_bucket(c, &err);
    assert_int_equal(rc, CM_EAUTH);
    rc = s3_client_put_object(c, "k", "x", 1, NULL, NULL, &err);
    assert_int_equal(rc, CM_EAUTH);
    assert_non_null(strstr(err.msg, "SignatureDoesNotMatch"));
    s3_client_destroy(c);
    s3_credentials_cleanup(&bad);
}

/* The libcurl transport's failure mapping, with real sockets on 127.0.0.1. */
static void test_transport_failures(void **state)
{
    struct rgw_env *e = *state;
    struct s3_config cfg;
    struct s3_client *c = NULL;
    struct rgw_sleeps sl = {0};
    char ep[128];
    const char *port = strrchr(e->endpoint, ':');
    struct cm_err err;
    int fd;
    int rc;

    memset(&cfg, 0, sizeof(cfg));
    cfg.bucket = e->bucket;
    cfg.path_style = true;
    cfg.creds = &e->creds;
    cfg.max_attempts = 2;
    cfg.sleep = rgw_count_sleep;
    cfg.sleep_ctx = &sl;
    cfg.stall_timeout_ms = 1000;
    cfg.connect_timeout_ms = 2000;

    /* A listening socket that never answers: the stall timeout fires, retried once. */
    fd = bte_silent_listener(ep, sizeof(ep));
    assert_true(fd >= 0);
    cfg.endpoint = ep;
    assert_int_equal(s3_client_create(&cfg, &c, &err), 0);
    rc = s3_client_head_bucket(c, &err);
    assert_int_equal(rc, CM_ETIMEDOUT);
    assert_int_equal(sl.n, 1);
    s3_client_destroy(c);
    /* Closed: connection refused, retried, then CM_ECONN. */
    close(fd);
    sl.n = 0;
    assert_int_equal(s3_client_create(&cfg, &c, &err), 0);
    assert_int_equal(s3_client_head_bucket(c, &err), CM_ECONN);
    assert_int_equal(sl.n, 1);
    s3_client_destroy(c);

    /* TLS to a plain-HTTP port: a TLS error, not retried. */
    assert_non_null(port);
    (void)snprintf(ep, sizeof(ep), "https://127.0.0.1%s", port);
    sl.n = 0;
    assert_int_equal(s3_client_create(&cfg, &c, &err), 0);
    assert_int_equal(s3_client_head_bucket(c, &err), CM_ETLS);
    assert_int_equal(sl.n, 0);
    s3_client_destroy(c);
    /* A CA file that does not exist. */
    cfg.ca_file = "/nonexistent/lockwarden-ca.pem";
    assert_int_equal(s3_client_create(&cfg, &c, &err), 0);
    assert_int_equal(s3_client_head_bucket(c, &err), CM_ETLS);
    s3_client_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lock_bucket_preflight, rgw_env_setup,
                                        rgw_env_teardown),
        cmocka_unit_test_setup_teardown(test_plain_bucket_refused, rgw_env_setup, rgw_env_teardown),
        cmocka_unit_test_setup_teardown(test_compliance_lock, rgw_env_setup, rgw_env_teardown),
        cmocka_unit_test_setup_teardown(test_governance_and_legal_hold, rgw_env_setup,
                                        rgw_env_teardown),
        cmocka_unit_test_setup_teardown(test_listing_pages, rgw_env_setup, rgw_env_teardown),
        cmocka_unit_test_setup_teardown(test_virtual_host, rgw_env_setup, rgw_env_teardown),
        cmocka_unit_test_setup_teardown(test_bad_credentials, rgw_env_setup, rgw_env_teardown),
        cmocka_unit_test_setup_teardown(test_transport_failures, rgw_env_setup, rgw_env_teardown),
    };
    struct cm_err err;

    cm_log_set_level(CM_LOG_ERROR);
    if (s3_global_init(&err) != 0)
        return 1;
    int rc = cmocka_run_group_tests_name("s3_rgw", tests, NULL, NULL);
    s3_global_cleanup();
    return rc;
}
