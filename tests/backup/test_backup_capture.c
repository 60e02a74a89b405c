/* SPDX-License-Identifier: Apache-2.0 */
/* test_backup_capture.c - backup_capture_run against the in-process fake apiserver and
 * the fault-injecting S3 transport: S3 503 retried, the manifest written last and
 * never after a failure, snapshots awaited with a deadline (injected clock) and
 * cleaned up on failure, preflight refusal, RBAC errors named, encryption framing,
 * and the bound-app discovery. */
#include "backup/backup.h"
#include "backup/kube/kube.h"
#include "backup/s3/s3.h"
#include "policy/policy.h"
#include "tests/support/fake_kube.h"
#include "tests/support/kube_testutil.h"
#include "tests/support/s3_fault.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLICY_PLAIN                                                                               \
    "apiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\nmetadata:\n  name: testpolicy\n"      \
    "spec:\n  schedule: \"@daily\"\n  retention:\n    daily: 3\n  location:\n"                     \
    "    endpoint: \"http://127.0.0.1:9\"\n    region: us-east-1\n    bucket: b-test\n"            \
    "    prefix: p\n    pathStyle: true\n"
#define POLICY_LOCKED                                                                              \
    "apiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\nmetadata:\n  name: lockedpolicy\n"    \
    "spec:\n  schedule: \"@daily\"\n  retention:\n    daily: 3\n  objectLock:\n"                   \
    "    mode: GOVERNANCE\n    days: 2\n  location:\n    endpoint: \"http://127.0.0.1:9\"\n"       \
    "    region: us-east-1\n    bucket: b-test\n    prefix: p\n    pathStyle: true\n"

struct env {
    struct fake_kube *fk;
    struct kube_client *kube;
    struct kube_test_sleeps ksleeps;
    struct s3_fault *f;
    struct s3_credentials creds;
    struct s3_client *s3;
    struct policy_set *ps;
    struct kube_test_sleeps sleeps; /* the capture's snapshot polling */
};

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    struct fake_kube_opts ko;
    struct kube_config *cfg = NULL;
    struct policy_loader *l = NULL;
    struct s3_config sc;
    struct cm_err err;
    char seed[600];

    if (e == NULL)
        return -1;
    (void)snprintf(seed, sizeof(seed), "%s/tests/fixtures/backup/app-shop.json",
                   getenv("LW_TOP") ? getenv("LW_TOP") : ".");
    memset(&ko, 0, sizeof(ko));
    ko.seed_file = seed;
    ko.snapshot_ready_after_gets = 1;
    if (fake_kube_start(&ko, &e->fk) != 0)
        return -1;
    if (kube_config_create(fake_kube_url(e->fk), &cfg, &err) != 0)
        return -1;
    kube_config_set_sleep(cfg, kube_test_sleep_record, &e->ksleeps);
    if (kube_client_create(cfg, &e->kube, &err) != 0)
        return -1;
    kube_config_destroy(cfg);
    if (s3_fault_create(&e->f) != 0)
        return -1;
    s3_fault_config(e->f, &e->creds, &sc);
    if (s3_client_create(&sc, &e->s3, &err) != 0)
        return -1;
    if (policy_loader_create(&l, &err) != 0 ||
        policy_loader_add(l, "plain.yaml", POLICY_PLAIN, strlen(POLICY_PLAIN), &err) != 0 ||
        policy_loader_add(l, "locked.yaml", POLICY_LOCKED, strlen(POLICY_LOCKED), &err) != 0 ||
        policy_loader_finish(l, &e->ps, &err) != 0) {
        fprintf(stderr, "policies: %s\n", err.msg);
        return -1;
    }
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;

    s3_client_destroy(e->s3);
    s3_fault_destroy(e->f); /* e->creds points at the fault kit's static strings */
    kube_client_destroy(e->kube);
    fake_kube_stop(e->fk);
    policy_set_destroy(e->ps);
    free(e);
    return 0;
}

static void opts(struct env *e, struct backup_capture_opts *o, const char *policy)
{
    memset(o, 0, sizeof(*o));
    o->policy = policy_set_backup_find(e->ps, policy, strlen(policy));
    assert_non_null(o->policy);
    o->namespace_ = "shop";
    o->kube = e->kube;
    o->s3 = e->s3;
    o->prefix = "p";
    o->tool_version = "test";
    o->now = cm_time_from_utc(2026, 11, 22, 9, 30, 0);
    o->sleep = kube_test_sleep_record;
    o->sleep_ctx = &e->sleeps;
    o->snapshot_poll_ms = 1000;
}

/* Index of the first request whose method matches and URL contains needle, from i. */
static size_t find_req(struct env *e, size_t from, const char *method, const char *needle)
{
    size_t i;

    for (i = from; i < s3_fault_count(e->f); i++) {
        const struct s3_fault_rec *r = s3_fault_get(e->f, i);

        if (strcmp(r->method, method) == 0 && strstr(r->url, needle) != NULL)
            return i;
    }
    return SIZE_MAX;
}

static void test_capture_ok_s3_503_retried(void **state)
{
    struct env *e = *state;
    struct backup_capture_opts o;
    struct backup_capture_result res;
    struct s3_fault_reply r503 = {0, 503, NULL,
                                  "<Error><Code>SlowDown</Code><Message>busy</Message></Error>", 0};
    struct cm_err err;
    size_t a1, a2, m;
    struct backup_manifest *mf = NULL;
    const struct s3_fault_rec *rec;

    opts(e, &o, "testpolicy");
    assert_int_equal(s3_fault_push(e->f, &r503), 0);
    if (backup_capture_run(&o, &res, &err) != 0)
        fail_msg("capture: %s", err.msg);
    assert_true(res.resources >= 10);
    assert_int_equal(res.snapshots, 1);
    assert_int_equal(strncmp(res.id, "20261122T093000Z-", 17), 0);
    /* the archive PUT was answered 503, retried after a recorded backoff */
    a1 = find_req(e, 0, "PUT", "/resources.tar.zst");
    assert_true(a1 != SIZE_MAX);
    a2 = find_req(e, a1 + 1, "PUT", "/resources.tar.zst");
    assert_true(a2 != SIZE_MAX);
    assert_true(s3_fault_sleeps(e->f) >= 1);
    /* the manifest is the last object written */
    m = find_req(e, 0, "PUT", "/manifest.json");
    assert_true(m != SIZE_MAX && m > a2);
    assert_int_equal(find_req(e, m + 1, "PUT", ""), SIZE_MAX);
    rec = s3_fault_get(e->f, m);
    assert_non_null(s3_fault_header(rec, "content-md5"));
    assert_int_equal(strncmp(rec->body_head, "{\"format\":\"lockwarden.io/restore-point/v1\"", 42),
                     0);
    assert_non_null(strstr(rec->body_head, res.id));
    assert_non_null(strstr(rec->body_head, "\"mode\":\"NONE\""));
    assert_non_null(strstr(rec->body_head, s3_fault_get(e->f, a2)->body_sha256_hex));
    (void)mf;
    /* the snapshot was polled once (ready after 1 GET): at most one sleep */
    assert_true(e->sleeps.n <= 1);
}

static void test_s3_refusal_no_manifest_snapshot_cleaned(void **state)
{
    struct env *e = *state;
    struct backup_capture_opts o;
    struct s3_fault_reply r403 = {
        0, 403, NULL, "<Error><Code>AccessDenied</Code><Message>no</Message></Error>", 0};
    struct cm_err err;

    opts(e, &o, "testpolicy");
    assert_int_equal(s3_fault_push(e->f, &r403), 0);
    assert_int_equal(backup_capture_run(&o, NULL, &err), CM_EAUTH);
    assert_int_equal(find_req(e, 0, "PUT", "/manifest.json"), SIZE_MAX);
    assert_int_equal(
        fake_kube_count_objects(e->fk, "snapshot.storage.k8s.io/v1", "volumesnapshots", "shop"), 0);
}

static void test_snapshot_deadline(void **state)
{
    struct env *e = *state;
    struct backup_capture_opts o;
    struct cm_err err;

    opts(e, &o, "testpolicy");
    o.snapshot_timeout_ms = 5000;
    fake_kube_snapshot_ready_after(e->fk, 1000000);
    assert_int_equal(backup_capture_run(&o, NULL, &err), CM_ETIMEDOUT);
    assert_non_null(strstr(err.msg, "data-db-0"));
    assert_non_null(strstr(err.msg, "readyToUse"));
    /* polled every second up to the deadline (recorded, not slept) */
    assert_int_equal(e->sleeps.n, 5);
    assert_int_equal(e->sleeps.total_ms, 5000);
    assert_int_equal(find_req(e, 0, "PUT", "/manifest.json"), SIZE_MAX);
    assert_int_equal(
        fake_kube_count_objects(e->fk, "snapshot.storage.k8s.io/v1", "volumesnapshots", "shop"), 0);
}

static void test_preflight_refuses(void **state)
{
    struct env *e = *state;
    struct backup_capture_opts o;
    struct cm_err err;

    struct s3_fault_reply none = {0, 200, NULL,
                                  "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/"
                                  "2006-03-01/\"/>",
                                  0};

    opts(e, &o, "lockedpolicy");
    /* a bucket that never had versioning (and so no Object Lock) */
    assert_int_equal(s3_fault_push(e->f, &none), 0);
    assert_int_equal(backup_capture_run(&o, NULL, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "b-test"));
    assert_non_null(strstr(err.msg, "lockedpolicy"));
    assert_int_equal(find_req(e, 0, "PUT", ""), SIZE_MAX);
    assert_int_equal(
        fake_kube_count_objects(e->fk, "snapshot.storage.k8s.io/v1", "volumesnapshots", "shop"), 0);
}

/* Without PVCs nothing waits for the preflight until the first archive byte: it runs
 * while the namespace is read, and its refusal still comes before any S3 write. */
static void test_preflight_refuses_while_listing(void **state)
{
    struct env *e = *state;
    struct backup_capture_opts o;
    struct cm_err err;
    struct s3_fault_reply none = {0, 200, NULL,
                                  "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/"
                                  "2006-03-01/\"/>",
                                  0};

    assert_int_equal(fake_kube_add_object_json(
                         e->fk, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
                                "{\"name\":\"c\",\"namespace\":\"nopvc\"},\"data\":{}}"),
                     1);
    opts(e, &o, "lockedpolicy");
    o.namespace_ = "nopvc";
    assert_int_equal(s3_fault_push(e->f, &none), 0);
    assert_int_equal(backup_capture_run(&o, NULL, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "b-test"));
    assert_non_null(strstr(err.msg, "lockedpolicy"));
    assert_non_null(strstr(err.msg, "refusing"));
    assert_int_equal(find_req(e, 0, "PUT", ""), SIZE_MAX);
    assert_int_equal(find_req(e, 0, "POST", ""), SIZE_MAX);
}

/* 403 on one type (RBAC without Secrets): skipped, logged, named in the manifest. */
static void test_forbidden_type_skipped(void **state)
{
    struct env *e = *state;
    struct backup_capture_opts o;
    struct backup_capture_result res;
    struct fake_kube_rule r = {"GET", "/secrets", NULL, FAKE_KUBE_FAULT_403, 0, 0};
    struct cm_err err;
    size_t m;

    opts(e, &o, "testpolicy");
    assert_int_equal(fake_kube_inject(e->fk, &r), 0);
    if (backup_capture_run(&o, &res, &err) != 0)
        fail_msg("capture: %s", err.msg);
    assert_int_equal(res.skipped, 1);
    m = find_req(e, 0, "PUT", "/manifest.json");
    assert_true(m != SIZE_MAX);
    /* (the manifest's "skipped" content is checked end to end in test_backup_rgw) */
}

/* 401 (bad credentials) is never skipped: it would skip everything. */
static void test_unauthorized_fails(void **state)
{
    struct env *e = *state;
    struct backup_capture_opts o;
    struct fake_kube_rule r = {"GET", "/secrets", NULL, FAKE_KUBE_FAULT_401, 0, 0};
    struct cm_err err;

    opts(e, &o, "testpolicy");
    assert_int_equal(fake_kube_inject(e->fk, &r), 0);
    assert_int_equal(backup_capture_run(&o, NULL, &err), CM_EAUTH);
    assert_non_null(strstr(err.msg, "secrets"));
    assert_int_equal(find_req(e, 0, "PUT", "/manifest.json"), SIZE_MAX);
}

static void test_encrypted_capture(void **state)
{
    struct env *e = *state;
    struct backup_capture_opts o;
    struct backup_key k;
    struct cm_err err;
    size_t a, m;
    struct backup_manifest *mf = NULL;

    assert_int_equal(backup_key_parse("0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
                                      "abcdef",
                                      64, &k, &err),
                     0);
    opts(e, &o, "testpolicy");
    o.key = &k;
    assert_int_equal(backup_capture_run(&o, NULL, &err), 0);
    a = find_req(e, 0, "PUT", "/resources.tar.zst.enc");
    assert_true(a != SIZE_MAX);
    assert_memory_equal(s3_fault_get(e->f, a)->body_head, "LWENC001", 8);
    m = find_req(e, 0, "PUT", "/manifest.json");
    assert_true(m != SIZE_MAX);
    assert_non_null(strstr(s3_fault_get(e->f, m)->body_head, k.id));
    assert_non_null(strstr(s3_fault_get(e->f, m)->body_head, "\"key\":\"resources.tar.zst.enc\""));
    (void)mf;
    backup_key_wipe(&k);
}

static void test_apps_discover(void **state)
{
    struct env *e = *state;
    struct backup_app *apps = NULL;
    size_t n = 0;
    struct cm_err err;

    assert_int_equal(fake_kube_add_object_json(
                         e->fk, "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{"
                                "\"name\":\"x\",\"namespace\":\"alpha\",\"annotations\":{"
                                "\"lockwarden.io/backup-policy\":\"gold\"}},\"spec\":{}}"),
                     1);
    assert_int_equal(fake_kube_add_object_json(
                         e->fk, "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{"
                                "\"name\":\"unbound\",\"namespace\":\"beta\"},\"spec\":{}}"),
                     1);
    assert_int_equal(backup_apps_discover(e->kube, &apps, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(apps[0].namespace_, "alpha");
    assert_string_equal(apps[0].policy, "gold");
    assert_string_equal(apps[1].namespace_, "shop");
    assert_string_equal(apps[1].policy, "testpolicy");
    cm_free(apps);
}

static void test_lease(void **state)
{
    struct env *e = *state;
    time_t t = cm_time_from_utc(2026, 11, 22, 9, 0, 0);
    bool lead = false;
    struct cm_err err;
    cJSON *l;

    assert_int_equal(backup_lease_try(e->kube, "lockwarden", "ex", "a", 15, t, &lead, &err), 0);
    assert_true(lead);
    /* b sees a live holder */
    assert_int_equal(backup_lease_try(e->kube, "lockwarden", "ex", "b", 15, t + 5, &lead, &err), 0);
    assert_false(lead);
    /* a renews */
    assert_int_equal(backup_lease_try(e->kube, "lockwarden", "ex", "a", 15, t + 10, &lead, &err),
                     0);
    assert_true(lead);
    /* 15 s after a's last renewal b takes over (the boundary itself is still a's) */
    assert_int_equal(backup_lease_try(e->kube, "lockwarden", "ex", "b", 15, t + 24, &lead, &err),
                     0);
    assert_false(lead);
    assert_int_equal(backup_lease_try(e->kube, "lockwarden", "ex", "b", 15, t + 25, &lead, &err),
                     0);
    assert_true(lead);
    assert_int_equal(backup_lease_try(e->kube, "lockwarden", "ex", "a", 15, t + 26, &lead, &err),
                     0);
    assert_false(lead);
    l = fake_kube_get_object(e->fk, "coordination.k8s.io/v1", "leases", "lockwarden", "ex");
    assert_non_null(l);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(l, "spec"), "holderIdentity")->valuestring, "b");
    assert_int_equal(
        (int)cJSON_GetObjectItem(cJSON_GetObjectItem(l, "spec"), "leaseTransitions")->valuedouble,
        1);
    cJSON_Delete(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_capture_ok_s3_503_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_s3_refusal_no_manifest_snapshot_cleaned, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preflight_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preflight_refuses_while_listing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forbidden_type_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unauthorized_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encrypted_capture, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apps_discover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lease, setup, teardown),
    };

    policy_json_hooks_install();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
