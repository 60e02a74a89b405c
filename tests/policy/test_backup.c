/* SPDX-License-Identifier: Apache-2.0 */
/* test_backup.c - BackupPolicy documents: fields, defaults, each validation error with its
 * position, find by name and label form, and the loader's cross-checks. */
#include "policy/policy.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static const char gold[] =
    "apiVersion: lockwarden.io/v1alpha1\n"
    "kind: BackupPolicy\n"
    "metadata:\n"
    "  name: goldpolicy\n"
    "spec:\n"
    "  schedule: \"@hourly\"\n"
    "  retention: {hourly: 24, daily: 7, weekly: 4, monthly: 12, yearly: 1}\n"
    "  objectLock: {mode: COMPLIANCE, days: 30}\n"
    "  location:\n"
    "    endpoint: https://s3.example.com\n"
    "    region: eu-west-1\n"
    "    bucket: lockwarden-backups\n"
    "    prefix: /gold/\n"
    "    pathStyle: true\n"
    "    credentialsSecret: lockwarden-s3\n"
    "  volumeSnapshotClass: csi-snap\n"
    "  encryption: {keySecret: backup-key}\n"
    "  selector:\n"
    "    namespaces: [prod-*]\n"
    "    matchLabels: {tier: db}\n";

static int setup(void **state)
{
    (void)state;
    policy_json_hooks_install();
    return 0;
}

static int load(const char *y, struct policy_set **out, struct cm_err *err)
{
    return policy_set_load("bp.yaml", y, strlen(y), out, err);
}

static struct policy_set *load_ok(const char *y)
{
    struct policy_set *s = NULL;
    struct cm_err err;
    int rc = load(y, &s, &err);

    if (rc != 0)
        fail_msg("load failed: %s", err.msg);
    return s;
}

static void test_full_document(void **state)
{
    struct policy_set *s = load_ok(gold);
    const struct policy_backup *b;

    (void)state;
    assert_int_equal(policy_set_backup_count(s), 1);
    assert_int_equal(policy_set_policy_count(s), 0);
    b = policy_set_backup_get(s, 0);
    assert_string_equal(b->name, "goldpolicy");
    assert_string_equal(b->schedule, "@hourly");
    assert_int_equal(b->cron.hours, 0xffffff);
    assert_int_equal(b->retention.hourly, 24);
    assert_int_equal(b->retention.yearly, 1);
    assert_int_equal(b->lock_mode, POLICY_LOCK_COMPLIANCE);
    assert_int_equal(b->lock_days, 30);
    assert_string_equal(b->location.endpoint, "https://s3.example.com");
    assert_string_equal(b->location.region, "eu-west-1");
    assert_string_equal(b->location.bucket, "lockwarden-backups");
    assert_string_equal(b->location.prefix, "gold");
    assert_true(b->location.path_style);
    assert_string_equal(b->location.credentials_secret, "lockwarden-s3");
    assert_string_equal(b->volume_snapshot_class, "csi-snap");
    assert_string_equal(b->encryption_key_secret, "backup-key");
    assert_non_null(b->selector_);
    assert_null(policy_set_backup_get(s, 1));
    policy_set_destroy(s);
}

static void test_defaults(void **state)
{
    const char *y = "apiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\n"
                    "metadata: {name: bronze}\n"
                    "spec: {schedule: '0 3 * * sun', location: {bucket: b-1}}\n";
    struct policy_set *s = load_ok(y);
    const struct policy_backup *b = policy_set_backup_get(s, 0);

    (void)state;
    assert_int_equal(b->lock_mode, POLICY_LOCK_NONE);
    assert_int_equal(b->lock_days, 0);
    assert_int_equal(b->retention.daily, 0);
    assert_string_equal(b->location.endpoint, "");
    assert_string_equal(b->location.region, "");
    assert_string_equal(b->location.prefix, "");
    assert_false(b->location.path_style);
    assert_string_equal(b->location.credentials_secret, "");
    assert_string_equal(b->volume_snapshot_class, "");
    assert_string_equal(b->encryption_key_secret, "");
    assert_null(b->selector_);
    policy_set_destroy(s);
}

static void test_find(void **state)
{
    struct policy_set *s = load_ok(gold);

    (void)state;
    assert_non_null(policy_set_backup_find(s, "goldpolicy", 10));
    assert_non_null(policy_set_backup_find(s, "k10-goldpolicy", 14));
    assert_null(policy_set_backup_find(s, "k10-", 4));
    assert_null(policy_set_backup_find(s, "gold", 4));
    assert_null(policy_set_backup_find(s, "k10-goldpolicyx", 15));
    assert_null(policy_set_backup_find(s, NULL, 0));
    assert_null(policy_set_backup_find(NULL, "goldpolicy", 10));
    /* a length shorter than the string is honoured */
    assert_non_null(policy_set_backup_find(s, "goldpolicy-extra", 10));
    policy_set_destroy(s);
}

/* Replaces the first occurrence of from in gold with to and expects a load error whose
 * message contains want. */
static void expect_error(const char *from, const char *to, int code, const char *want)
{
    char y[4096];
    const char *p = strstr(gold, from);
    struct policy_set *s = NULL;
    struct cm_err err;
    int rc;

    assert_non_null(p);
    (void)snprintf(y, sizeof(y), "%.*s%s%s", (int)(p - gold), gold, to, p + strlen(from));
    rc = load(y, &s, &err);
    if (rc != code || strstr(err.msg, want) == NULL)
        fail_msg("replacing \"%s\" with \"%s\": rc %d, message \"%s\", wanted \"%s\"", from, to, rc,
                 err.msg, want);
    assert_null(s);
}

static void test_validation_errors(void **state)
{
    (void)state;
    expect_error("\"@hourly\"", "\"61 * * * *\"", CM_ECONFIG,
                 "bp.yaml:6:13: backuppolicy goldpolicy: spec.schedule: bad minute field");
    expect_error("\"@hourly\"", "\"@sometimes\"", CM_ECONFIG, "unknown schedule macro");
    expect_error("  schedule: \"@hourly\"\n", "", CM_ECONFIG, "schedule is required");
    expect_error("hourly: 24", "hourly: -1", CM_ECONFIG, "hourly must be a whole number");
    expect_error("hourly: 24", "hourly: 1.5", CM_ECONFIG, "hourly must be a whole number");
    expect_error("hourly: 24", "hourly: \"24\"", CM_ECONFIG, "hourly must be a whole number");
    expect_error("hourly: 24", "hourli: 24", CM_ECONFIG,
                 "bp.yaml:7:15: backuppolicy goldpolicy: unknown field \"hourli\"");
    expect_error("mode: COMPLIANCE", "mode: compliance", CM_ECONFIG,
                 "spec.objectLock.mode must be COMPLIANCE or GOVERNANCE");
    expect_error("days: 30", "days: 0", CM_ECONFIG, "days must be a whole number from 1 to 36500");
    expect_error("days: 30", "days: 36501", CM_ECONFIG, "days must be a whole number");
    expect_error(", days: 30", "", CM_ECONFIG, "days is required");
    expect_error("bucket: lockwarden-backups", "bucket: Bad_Bucket", CM_ECONFIG,
                 "bp.yaml:12:13: backuppolicy goldpolicy: spec.location.bucket \"Bad_Bucket\"");
    expect_error("bucket: lockwarden-backups", "bucket: ab", CM_ECONFIG, "not a valid S3 bucket");
    expect_error("    bucket: lockwarden-backups\n", "", CM_ECONFIG, "bucket is required");
    expect_error("https://s3.example.com", "ftp://x", CM_ECONFIG, "must start with https://");
    expect_error("pathStyle: true", "pathStyle: yes", CM_ECONFIG, "pathStyle must be true");
    expect_error("credentialsSecret: lockwarden-s3", "credentialsSecret: Not/A/Name", CM_ECONFIG,
                 "credentialsSecret must be a Secret name");
    expect_error("keySecret: backup-key", "keySecret: \"\"", CM_ECONFIG,
                 "keySecret must be a Secret name");
    expect_error("name: goldpolicy", "name: Gold_Policy", CM_ECONFIG, "is not a valid name");
    expect_error("volumeSnapshotClass: csi-snap", "volumeSnapshotClass: [x]", CM_ECONFIG,
                 "volumeSnapshotClass must be a string, not a list");
    expect_error("  volumeSnapshotClass", "  volumeSnapshotKlass", CM_ECONFIG,
                 "unknown field \"volumeSnapshotKlass\"");
    expect_error("namespaces: [prod-*]", "namespaces: prod", CM_ECONFIG,
                 "spec.selector.namespaces must be a list");
    expect_error("    namespaces: [prod-*]\n    matchLabels: {tier: db}\n", "    {}\n", CM_ECONFIG,
                 "selector");
    expect_error("matchLabels: {tier: db}", "matchLabels: {tier: 1}", CM_ECONFIG,
                 "must be a string");
    expect_error("matchLabels", "matchLabelz", CM_ECONFIG, "unknown field \"matchLabelz\"");
    expect_error("location:\n", "locations:\n", CM_ECONFIG, "unknown field \"locations\"");
    expect_error("kind: BackupPolicy", "kind: BackupPolicies", CM_ECONFIG, "is not a policy");
    expect_error("lockwarden.io/v1alpha1", "lockwarden.io/v2", CM_ECONFIG, "is not a policy");
}

static void test_cross_checks(void **state)
{
    const char *dup = "apiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\n"
                      "metadata: {name: a}\nspec: {schedule: '@daily', location: {bucket: bkt}}\n"
                      "---\n"
                      "apiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\n"
                      "metadata: {name: a}\nspec: {schedule: '@daily', location: {bucket: bkt}}\n";
    const char *same_sel =
        "apiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\n"
        "metadata: {name: a}\nspec: {schedule: '@daily', location: {bucket: bkt},"
        " selector: {namespaces: [x]}}\n"
        "---\n"
        "apiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\n"
        "metadata: {name: b}\nspec: {schedule: '@daily', location: {bucket: bkt},"
        " selector: {namespaces: [x]}}\n";
    struct policy_set *s = NULL;
    struct cm_err err;

    (void)state;
    assert_int_equal(load(dup, &s, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "backuppolicy a is defined twice"));
    assert_int_equal(load(same_sel, &s, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "backuppolicies a and b have the same selector"));
    assert_null(s);
}

static void test_all_or_nothing(void **state)
{
    /* The second document is bad: the loader keeps nothing from this buffer. */
    const char *bad =
        "apiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\n"
        "metadata: {name: ok}\nspec: {schedule: '@daily', location: {bucket: bkt}}\n"
        "---\n"
        "apiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\n"
        "metadata: {name: bad}\nspec: {schedule: '@never', location: {bucket: bkt}}\n";
    struct policy_loader *l = NULL;
    struct policy_set *s = NULL;
    struct cm_err err;

    (void)state;
    assert_int_equal(policy_loader_create(&l, &err), 0);
    assert_int_equal(policy_loader_add(l, "bad.yaml", bad, strlen(bad), &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "bad.yaml:9:"));
    assert_int_equal(policy_loader_add_file("gold.yaml", gold, strlen(gold), l, &err), 0);
    assert_int_equal(policy_loader_finish(l, &s, &err), 0);
    assert_int_equal(policy_set_backup_count(s), 1);
    assert_string_equal(policy_set_backup_get(s, 0)->name, "goldpolicy");
    policy_set_destroy(s);
}

/* policy_set_load: the one-buffer load; a failure leaves *out alone and leaks nothing,
 * also when allocation N fails for every N. */
static void test_set_load(void **state)
{
    struct policy_set *s = NULL;
    struct policy_set *const sentinel = (struct policy_set *)&s;
    struct cm_err err;
    long n;
    int rc;

    (void)state;
    assert_int_equal(policy_set_load("gold.yaml", gold, strlen(gold), &s, &err), 0);
    assert_int_equal(policy_set_backup_count(s), 1);
    policy_set_destroy(s);
    s = sentinel;
    assert_int_equal(policy_set_load("bad.yaml", "kind: [", 7, &s, &err), CM_EPARSE);
    assert_ptr_equal(s, sentinel);
    assert_non_null(strstr(err.msg, "bad.yaml:"));
    for (n = 1;; n++) {
        s = sentinel;
        cm_alloc_fault_set(n);
        rc = policy_set_load("gold.yaml", gold, strlen(gold), &s, &err);
        cm_alloc_fault_set(0);
        if (rc == 0)
            break;
        assert_int_equal(rc, CM_ENOMEM);
        assert_ptr_equal(s, sentinel);
    }
    assert_true(n > 1);
    policy_set_destroy(s);
}

static void test_list_expansion(void **state)
{
    const char *y =
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: lockwarden.io/v1alpha1\n  kind: BackupPolicy\n"
        "  metadata: {name: one}\n  spec: {schedule: '@daily', location: {bucket: bkt}}\n"
        "- apiVersion: lockwarden.io/v1alpha1\n  kind: BackupPolicy\n"
        "  metadata: {name: two}\n  spec: {schedule: '@weekly', location: {bucket: bkt}}\n";
    struct policy_set *s = load_ok(y);

    (void)state;
    assert_int_equal(policy_set_backup_count(s), 2);
    assert_int_equal(policy_set_backup_get(s, 1)->cron.wdays, 1);
    policy_set_destroy(s);
}

static void test_oom_loop(void **state)
{
    long n;
    int rc = CM_ENOMEM;

    (void)state;
    for (n = 1; rc == CM_ENOMEM && n < 100000; n++) {
        struct policy_loader *l = NULL;
        struct policy_set *s = NULL;
        struct cm_err err;

        cm_alloc_fault_set(n);
        rc = policy_loader_create(&l, &err);
        if (rc == 0) {
            rc = policy_loader_add(l, "gold.yaml", gold, strlen(gold), &err);
            if (rc == 0)
                rc = policy_loader_finish(l, &s, &err);
            else
                policy_loader_destroy(l);
        }
        cm_alloc_fault_set(0);
        if (rc != 0) {
            assert_int_equal(rc, CM_ENOMEM);
            assert_null(s);
        }
        policy_set_destroy(s);
    }
    assert_int_equal(rc, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_document),  cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_find),           cmocka_unit_test(test_validation_errors),
        cmocka_unit_test(test_cross_checks),   cmocka_unit_test(test_all_or_nothing),
        cmocka_unit_test(test_list_expansion), cmocka_unit_test(test_oom_loop),
        cmocka_unit_test(test_set_load),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
