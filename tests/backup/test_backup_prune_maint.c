/* SPDX-License-Identifier: Apache-2.0 */
/* test_backup_prune_maint.c - what the executor's maintenance pass needs from prune,
 * against scripted S3 answers (the fault transport): the extension margin reaches the
 * decision and the PutObjectRetention dates, a namespace whose locks cannot be read is
 * counted and skipped while the next one is pruned, the namespace hook serialises and
 * cancels, a missing policy leaves its namespace alone (counted), and the report's
 * retained-by-lock count includes deletes the lock refused. */
#include "backup/backup.h"
#include "backup/s3/s3.h"
#include "policy/policy.h"
#include "tests/support/backup_env.h"
#include "tests/support/s3_fault.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID1 "20261120T010000Z-00000001"
#define HEX "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static int setup(void **state)
{
    static const char yaml[] =
        "apiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\nmetadata:\n  name: zeropolicy\n"
        "spec:\n  schedule: \"@daily\"\n  retention:\n    daily: 0\n  objectLock:\n"
        "    mode: GOVERNANCE\n    days: 1\n  location:\n    region: us-east-1\n"
        "    bucket: b-test\n    prefix: p\n"
        "---\n"
        "apiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\nmetadata:\n  name: keeppolicy\n"
        "spec:\n  schedule: \"@hourly\"\n  retention:\n    hourly: 1\n  objectLock:\n"
        "    mode: GOVERNANCE\n    days: 1\n  location:\n    region: us-east-1\n"
        "    bucket: b-test\n    prefix: p\n";
    struct bte_fault_env *e = bte_fault_env_new(yaml, sizeof(yaml) - 1);

    if (e == NULL)
        return -1;
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    bte_fault_env_free(*state);
    return 0;
}

static void push(struct bte_fault_env *e, long status, const char *headers, const char *body)
{
    assert_int_equal(bte_fault_push(e, status, headers, body), 0);
}

/* A listing of one complete point ID1 (manifest + archive) in each namespace of nss. */
static void push_listing(struct bte_fault_env *e, const char *const *nss, size_t n)
{
    struct cm_buf b;
    size_t i;
    int leaf;

    cm_buf_init(&b, 1 << 20);
    assert_int_equal(cm_buf_adds(&b, "<?xml version=\"1.0\"?><ListVersionsResult><Name>b-test"
                                     "</Name><IsTruncated>false</IsTruncated>"),
                     0);
    for (i = 0; i < n; i++)
        for (leaf = 0; leaf < 2; leaf++)
            assert_int_equal(
                cm_buf_addf(&b,
                            "<Version><Key>p/%s/" ID1 "/%s</Key><VersionId>%c%zu</VersionId>"
                            "<IsLatest>true</IsLatest><LastModified>2026-11-20T01:00:00.000Z"
                            "</LastModified><ETag>\"e\"</ETag><Size>10</Size></Version>",
                            nss[i], leaf ? "resources.tar.gz" : "manifest.json", leaf ? 'a' : 'm',
                            i),
                0);
    assert_int_equal(cm_buf_adds(&b, "</ListVersionsResult>"), 0);
    push(e, 200, NULL, b.ptr);
    cm_buf_free(&b);
}

static void push_manifest(struct bte_fault_env *e, const char *ns, const char *policy)
{
    struct backup_manifest *m = NULL;
    struct cm_buf b;

    assert_int_equal(backup_manifest_create(ID1, ns, policy, &m), 0);
    memcpy(m->archive_sha256, HEX, 65);
    memcpy(m->lock_mode, "GOVERNANCE", 11);
    m->retain_until = cm_time_from_utc(2026, 11, 21, 1, 0, 0);
    m->completed_at = m->created_at;
    cm_buf_init(&b, 1 << 20);
    assert_int_equal(backup_manifest_format(m, &b), 0);
    backup_manifest_destroy(m);
    push(e, 200, NULL, b.ptr);
    cm_buf_free(&b);
}

/* A HEAD answer: locked (GOVERNANCE) until `until`. */
static void push_head(struct bte_fault_env *e, time_t until)
{
    char h[160], t[32];

    (void)snprintf(h, sizeof(h),
                   "x-amz-object-lock-mode: GOVERNANCE\n"
                   "x-amz-object-lock-retain-until-date: %s\nContent-Length: 10\n",
                   cm_time_format(until, t, sizeof(t)));
    push(e, 200, h, NULL);
}

static size_t count_req(struct bte_fault_env *e, const char *method, const char *needle)
{
    size_t i, n = 0;

    for (i = 0; i < s3_fault_count(e->f); i++) {
        const struct s3_fault_rec *rec = s3_fault_get(e->f, i);

        n += strcmp(rec->method, method) == 0 && strstr(rec->url, needle) != NULL;
    }
    return n;
}

static void opts(struct bte_fault_env *e, struct backup_prune_opts *o, time_t now)
{
    memset(o, 0, sizeof(*o));
    o->s3 = e->s3;
    o->prefix = "p";
    o->lookup = backup_policy_lookup;
    o->lookup_ctx = e->ps;
    o->now = now;
}

/* keeppolicy keeps ID1 (hourly: 1), locked until now + 25 h. Without a margin the
 * 1-day lock's window is 12 h: kept as is. With the margin of a 1-hour interval (2 h +
 * 1 day = 26 h) it is extended to now + 26 h, on both objects, and recorded. */
static void test_margin_reaches_retention(void **state)
{
    struct bte_fault_env *e = *state;
    static const char *const nss[] = {"shop"};
    struct backup_prune_opts o;
    struct backup_prune_report r;
    struct cm_err err;
    time_t now = cm_time_from_utc(2026, 11, 20, 1, 30, 0);
    char until[32];
    size_t i;
    bool saw_date = false;

    push_listing(e, nss, 1);
    push_manifest(e, "shop", "keeppolicy");
    push_head(e, now + 25 * 3600);
    push_head(e, now + 25 * 3600);
    opts(e, &o, now);
    assert_int_equal(backup_prune_run(&o, &r, &err), 0);
    assert_int_equal(r.n_items, 1);
    assert_int_equal(r.items[0].decision.action, BACKUP_GFS_KEEP);
    assert_int_equal(r.extended, 0);
    assert_int_equal(count_req(e, "PUT", "retention"), 0);
    backup_prune_report_cleanup(&r);

    push_listing(e, nss, 1);
    push_manifest(e, "shop", "keeppolicy");
    push_head(e, now + 25 * 3600);
    push_head(e, now + 25 * 3600);
    o.extend_margin_s = backup_maint_margin(3600);
    assert_int_equal(backup_prune_run(&o, &r, &err), 0);
    assert_int_equal(r.items[0].decision.action, BACKUP_GFS_EXTEND);
    assert_int_equal((long long)r.items[0].decision.new_retain_until, (long long)(now + 26 * 3600));
    assert_int_equal(r.extended, 1);
    assert_int_equal(r.errors, 0);
    assert_int_equal(count_req(e, "PUT", "retention"), 2);
    assert_int_equal(count_req(e, "PUT", ID1 "/locks/20261120T013000Z.json"), 1);
    cm_time_format(now + 26 * 3600, until, sizeof(until));
    for (i = 0; i < s3_fault_count(e->f); i++) {
        const struct s3_fault_rec *rec = s3_fault_get(e->f, i);

        if (strstr(rec->url, "retention") != NULL && rec->body_head != NULL &&
            strstr(rec->body_head, until) != NULL)
            saw_date = true;
    }
    assert_true(saw_date);
    backup_prune_report_cleanup(&r);
}

/* "aaa"'s locks cannot be read (403 on HEAD): counted as an error, and "shop" is still
 * pruned. */
static void test_namespace_failure_continues(void **state)
{
    struct bte_fault_env *e = *state;
    static const char *const nss[] = {"aaa", "shop"};
    struct backup_prune_opts o;
    struct backup_prune_report r;
    struct cm_err err;
    time_t now = cm_time_from_utc(2026, 11, 30, 0, 0, 0);

    push_listing(e, nss, 2);
    push_manifest(e, "aaa", "zeropolicy");
    push_manifest(e, "shop", "zeropolicy");
    push(e, 403, NULL, NULL);
    push_head(e, now - 86400);
    push_head(e, now - 86400);
    opts(e, &o, now);
    assert_int_equal(backup_prune_run(&o, &r, &err), 0);
    assert_int_equal(r.errors, 1);
    assert_int_equal(r.n_items, 1);
    assert_string_equal(r.items[0].namespace_, "shop");
    assert_int_equal(r.deleted, 1);
    assert_int_equal(count_req(e, "DELETE", "p/aaa/"), 0);
    assert_int_equal(count_req(e, "DELETE", "p/shop/" ID1 "/manifest.json"), 1);
    assert_int_equal(count_req(e, "DELETE", "p/shop/" ID1 "/resources.tar.gz"), 1);
    backup_prune_report_cleanup(&r);
}

struct hook_log {
    char calls[8][80];
    size_t n;
    size_t allow; /* begins allowed before saying stop */
};

static bool hook(const char *ns, bool begin, void *ctx)
{
    struct hook_log *h = ctx;

    if (h->n < 8)
        (void)snprintf(h->calls[h->n++], sizeof(h->calls[0]), "%s %s", begin ? "begin" : "end", ns);
    if (!begin)
        return true;
    if (h->allow == 0)
        return false;
    h->allow--;
    return true;
}

/* The hook brackets each namespace; refusing a begin stops the run with CM_ECANCELED
 * and keeps the report of what was done. */
static void test_hook_brackets_and_cancels(void **state)
{
    struct bte_fault_env *e = *state;
    static const char *const nss[] = {"aaa", "shop"};
    struct backup_prune_opts o;
    struct backup_prune_report r;
    struct hook_log h;
    struct cm_err err;
    time_t now = cm_time_from_utc(2026, 11, 30, 0, 0, 0);

    memset(&h, 0, sizeof(h));
    h.allow = 1;
    push_listing(e, nss, 2);
    push_manifest(e, "aaa", "zeropolicy");
    push_manifest(e, "shop", "zeropolicy");
    push_head(e, now - 86400);
    push_head(e, now - 86400);
    opts(e, &o, now);
    o.ns_hook = hook;
    o.ns_hook_ctx = &h;
    assert_int_equal(backup_prune_run(&o, &r, &err), CM_ECANCELED);
    assert_int_equal(err.code, CM_ECANCELED);
    assert_int_equal(h.n, 3);
    assert_string_equal(h.calls[0], "begin aaa");
    assert_string_equal(h.calls[1], "end aaa");
    assert_string_equal(h.calls[2], "begin shop");
    assert_int_equal(r.n_items, 1);
    assert_int_equal(r.deleted, 1);
    assert_int_equal(count_req(e, "DELETE", "p/shop/"), 0);
    backup_prune_report_cleanup(&r);
}

/* The newest manifest names a policy that is not loaded: left alone and counted; a
 * refused delete (AccessDenied: locked) counts as retained by lock. */
static void test_left_alone_and_refused_delete(void **state)
{
    struct bte_fault_env *e = *state;
    static const char *const nss[] = {"aaa", "shop"};
    struct backup_prune_opts o;
    struct backup_prune_report r;
    struct cm_err err;
    time_t now = cm_time_from_utc(2026, 11, 30, 0, 0, 0);

    push_listing(e, nss, 2);
    push_manifest(e, "aaa", "deletedpolicy");
    push_manifest(e, "shop", "zeropolicy");
    push_head(e, now - 86400);
    push_head(e, now - 86400);
    push(e, 403, NULL, "<Error><Code>AccessDenied</Code><Message>held</Message></Error>");
    opts(e, &o, now);
    assert_int_equal(backup_prune_run(&o, &r, &err), 0);
    assert_int_equal(r.left_alone, 1);
    assert_int_equal(r.n_items, 1);
    assert_int_equal(r.items[0].decision.action, BACKUP_GFS_EXPIRE);
    assert_true(r.items[0].retained_by_lock);
    assert_int_equal(r.retained_by_lock, 1);
    assert_int_equal(r.deleted, 0);
    assert_int_equal(r.errors, 0);
    assert_int_equal(count_req(e, "DELETE", "p/aaa/"), 0);
    backup_prune_report_cleanup(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_margin_reaches_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_namespace_failure_continues, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hook_brackets_and_cancels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_left_alone_and_refused_delete, setup, teardown),
    };
    cJSON_Hooks h = {cm_malloc, cm_free};

    cJSON_InitHooks(&h);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
