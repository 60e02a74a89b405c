/* SPDX-License-Identifier: Apache-2.0 */
/* test_audit_state.c - the offline audit (recorded cluster state) with the shipped
 * policies: every class is reached, bindings by annotation, label and unknown name,
 * guardrail failures, partial and tampered points; malformed state files are refused
 * with the member named; OOM loop. Run from the repository root (tests/run.sh does). */
#include "backup/backup.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#define FIXTURE "tests/fixtures/audit/cluster-state.json"

struct fx {
    struct policy_set *ps;
    char *state;
    size_t len;
};

static int setup(void **state)
{
    static struct fx fx;
    const char *paths[] = {"policies"};
    struct cm_err err;

    memset(&fx, 0, sizeof(fx));
    if (backup_policies_load(paths, 1, &fx.ps, &err) != 0) {
        fprintf(stderr, "policies: %s\n", err.msg);
        return -1;
    }
    if (cm_fs_read_file(FIXTURE, 1 << 20, &fx.state, &fx.len, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;

    policy_set_destroy(fx->ps);
    cm_free(fx->state);
    return 0;
}

static const struct backup_audit_app *find(const struct backup_audit_report *r, const char *ns,
                                           const char *name)
{
    size_t i;

    for (i = 0; i < backup_audit_report_count(r); i++) {
        const struct backup_audit_app *a = backup_audit_report_get(r, i);

        if (strcmp(a->ns, ns) == 0 && strcmp(a->name, name) == 0)
            return a;
    }
    fail_msg("no app %s/%s", ns, name);
    return NULL;
}

static void test_fixture_classes(void **state)
{
    struct fx *fx = *state;
    struct backup_audit_report *r = NULL;
    struct cm_err err;
    FILE *f;
    char line[512];
    size_t rows = 0;
    const struct backup_audit_app *a;

    assert_int_equal(backup_audit_state_load(FIXTURE, fx->state, fx->len, fx->ps, 0, &r, &err), 0);
    assert_int_equal(backup_audit_report_now(r), cm_time_from_utc(2026, 11, 22, 10, 30, 0));
    assert_int_equal(backup_audit_report_count(r), 9); /* the ConfigMap is not an app */
    f = fopen("tests/fixtures/audit/expected-classes.txt", "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        char *ns = line;
        char *kind = strchr(ns, ' ');
        char *name;
        char *cls;

        assert_non_null(kind);
        *kind++ = '\0';
        name = strchr(kind, ' ');
        assert_non_null(name);
        *name++ = '\0';
        cls = strrchr(name, ' ');
        assert_non_null(cls);
        *cls++ = '\0';
        cls[strcspn(cls, "\n")] = '\0';
        a = find(r, ns, name);
        assert_string_equal(a->kind, kind);
        if (strcmp(backup_audit_class_name(a->v.cls), cls) != 0)
            fail_msg("%s/%s: class %s, want %s", ns, name, backup_audit_class_name(a->v.cls), cls);
        rows++;
    }
    fclose(f);
    assert_int_equal(rows, 9);
    assert_int_equal(backup_audit_report_tally(r, BACKUP_AUDIT_PROTECTED), 3);
    assert_int_equal(backup_audit_report_tally(r, BACKUP_AUDIT_UNPROTECTED), 4);
    assert_int_equal(backup_audit_report_tally(r, BACKUP_AUDIT_STALE), 1);
    assert_int_equal(backup_audit_report_tally(r, BACKUP_AUDIT_NOT_IMMUTABLE), 1);

    /* Bound by label without the annotation: the policy's choice. */
    a = find(r, "shop", "api");
    assert_string_equal(a->policy, "goldpolicy");
    assert_string_equal(a->point, "20261122T100000Z-1a2b3c4d"); /* the newest of two */
    assert_int_equal(a->guardrail, BACKUP_AUDIT_GR_PASS);
    a = find(r, "legacy", "old-app");
    assert_string_equal(a->policy, "");
    assert_int_equal(a->guardrail, BACKUP_AUDIT_GR_FAIL);
    assert_non_null(
        strstr(a->guardrail_detail, "prod-backup-enforce-policy/cd-prod-backup-policy"));
    assert_true(a->v.issues & BACKUP_AUDIT_ISSUE_UNBOUND);
    a = find(r, "inventory", "db");
    assert_int_equal(a->v.issues, BACKUP_AUDIT_ISSUE_STALE);
    assert_int_equal(a->v.rpo_boundary, cm_time_from_utc(2026, 11, 22, 9, 0, 0));
    a = find(r, "payments", "ledger");
    assert_int_equal(a->v.issues, BACKUP_AUDIT_ISSUE_NO_LOCK);
    a = find(r, "media", "encoder");
    assert_int_equal(a->lock_required, POLICY_LOCK_GOVERNANCE);
    assert_int_equal(a->v.issues, 0);
    a = find(r, "archive", "batch");
    assert_true(a->v.issues & BACKUP_AUDIT_ISSUE_INCOMPLETE);
    a = find(r, "tampered", "app");
    assert_int_equal(a->v.issues, BACKUP_AUDIT_ISSUE_VERIFY);
    assert_non_null(strstr(a->verify_detail, "checksum mismatch"));
    backup_audit_report_destroy(r);
}

static void test_now_override_and_missing(void **state)
{
    struct fx *fx = *state;
    struct backup_audit_report *r = NULL;
    struct cm_err err;
    const char *no_now = "{\"workloads\":[]}";

    /* A day later the hourly points are stale; the daily one (02:00 yesterday) is still
     * within its RPO (the run before today's 02:00 run). */
    assert_int_equal(backup_audit_state_load("s", fx->state, fx->len, fx->ps,
                                             cm_time_from_utc(2026, 11, 23, 10, 30, 0), &r, &err),
                     0);
    assert_int_equal(backup_audit_report_tally(r, BACKUP_AUDIT_PROTECTED), 1);
    assert_string_equal(backup_audit_class_name(find(r, "media", "encoder")->v.cls), "protected");
    assert_string_equal(backup_audit_class_name(find(r, "shop", "web")->v.cls), "stale");
    backup_audit_report_destroy(r);
    r = NULL;
    assert_int_equal(backup_audit_state_load("s", no_now, strlen(no_now), fx->ps, 0, &r, &err),
                     CM_EINVAL);
    assert_null(r);
    assert_int_equal(backup_audit_state_load("s", no_now, strlen(no_now), fx->ps, 1000, &r, &err),
                     0);
    assert_int_equal(backup_audit_report_count(r), 0);
    assert_true(backup_audit_report_compliant(r));
    backup_audit_report_destroy(r);
}

static void test_yaml_and_list_form(void **state)
{
    struct fx *fx = *state;
    struct backup_audit_report *r = NULL;
    struct cm_err err;
    const char *y = "now: 2026-11-22T10:30:00Z\n"
                    "workloads:\n"
                    "  kind: List\n"
                    "  items:\n"
                    "  - apiVersion: apps/v1\n"
                    "    kind: Deployment\n"
                    "    metadata: {name: a, namespace: n, labels: {dataprotection: k10-nosuch,"
                    " immutable: enabled}}\n";

    assert_int_equal(backup_audit_state_load("y.yaml", y, strlen(y), fx->ps, 0, &r, &err), 0);
    assert_int_equal(backup_audit_report_count(r), 1);
    assert_true(backup_audit_report_get(r, 0)->v.issues & BACKUP_AUDIT_ISSUE_UNKNOWN_POLICY);
    assert_string_equal(backup_audit_report_get(r, 0)->policy, "k10-nosuch");
    backup_audit_report_destroy(r);
}

static void test_malformed(void **state)
{
    struct fx *fx = *state;
    static const struct {
        const char *in;
        int rc;
        const char *msg;
    } cases[] = {
        {"[]", CM_EPARSE, "want one document"},
        {"{\"now\":\"2026-11-22T10:30:00Z\"}", CM_EPARSE, "workloads"},
        {"{\"now\":\"x\",\"workloads\":[]}", CM_EINVAL, "now"},
        {"{\"now\":\"2026-11-22T10:30:00Z\",\"workloads\":[1]}", CM_EPARSE, "workloads[0]"},
        {"{\"now\":\"2026-11-22T10:30:00Z\",\"workloads\":[{\"apiVersion\":\"apps/v1\","
         "\"kind\":\"Deployment\",\"metadata\":{\"name\":\"a\"}}]}",
         CM_EPARSE, "metadata.namespace"},
        {"{\"now\":\"2026-11-22T10:30:00Z\",\"workloads\":[],\"restorePoints\":{}}", CM_EPARSE,
         "restorePoints"},
        {"{\"now\":\"2026-11-22T10:30:00Z\",\"workloads\":[],\"restorePoints\":[{\"namespace\":"
         "\"a\",\"id\":\"i\",\"createdAt\":\"2026-11-22T10:00:00Z\",\"verified\":\"yes\"}]}",
         CM_EPARSE, "booleans"},
        {"{\"now\":\"2026-11-22T10:30:00Z\",\"workloads\":[],\"restorePoints\":[{\"namespace\":"
         "\"a\",\"id\":\"i\",\"createdAt\":\"yesterday\",\"verified\":true}]}",
         CM_EPARSE, "createdAt"},
        {"{\"now\":\"2026-11-22T10:30:00Z\",\"workloads\":[],\"restorePoints\":[{\"namespace\":"
         "\"a\",\"id\":\"i\",\"createdAt\":\"2026-11-22T10:00:00Z\",\"verified\":true,"
         "\"objectLock\":{\"mode\":\"STRICT\"}}]}",
         CM_EPARSE, "objectLock.mode"},
        {"{\"now\":\"2026-11-22T10:30:00Z\",\"workloads\":[],\"restorePoints\":[{\"namespace\":"
         "\"a\",\"id\":\"i\",\"createdAt\":\"2026-11-22T10:00:00Z\",\"verified\":true,"
         "\"objectLock\":{\"mode\":\"COMPLIANCE\"}}]}",
         CM_EPARSE, "retainUntil"},
        {"{\"now\":\"2026-11-22T10:30:00Z\",\"workloads\":[],\"namespaces\":[{}]}", CM_EPARSE,
         "namespaces[0]"},
        {"{\"now\":\"2026-11-22T10:30:00Z\",\"workloads\":[],\"namespaces\":7}", CM_EPARSE,
         "namespaces"},
        {"{", CM_EPARSE, ""},
    };
    size_t i;

    for (i = 0; i < CM_ARRAY_LEN(cases); i++) {
        struct backup_audit_report *r = NULL;
        struct cm_err err;
        int rc;

        cm_err_clear(&err);
        rc = backup_audit_state_load("bad.json", cases[i].in, strlen(cases[i].in), fx->ps, 0, &r,
                                     &err);
        if (rc != cases[i].rc || strstr(err.msg, cases[i].msg) == NULL)
            fail_msg("case %zu: rc %d (%s), want %d with \"%s\"", i, rc, err.msg, cases[i].rc,
                     cases[i].msg);
        assert_null(r);
    }
}

/* {"now":..., "<member>":[<item> x n]} */
static char *big_state(const char *member, const char *item, size_t n, size_t *len)
{
    struct cm_buf b;
    size_t i;

    cm_buf_init(&b, 64u << 20);
    assert_int_equal(cm_buf_addf(&b, "{\"now\":\"2026-11-22T10:30:00Z\",%s\"%s\":[",
                                 strcmp(member, "workloads") == 0 ? "" : "\"workloads\":[],",
                                 member),
                     0);
    for (i = 0; i < n; i++)
        assert_int_equal(cm_buf_addf(&b, "%s%s", i ? "," : "", item), 0);
    assert_int_equal(cm_buf_adds(&b, "]}"), 0);
    return cm_buf_take(&b, len);
}

static void test_count_limits(void **state)
{
    struct fx *fx = *state;
    struct backup_audit_report *r = NULL;
    struct cm_err err;
    size_t len;
    char *s;

    /* At the limit the array is accepted and its first (bad) element is judged... */
    s = big_state("workloads", "1", BACKUP_AUDIT_MAX_APPS, &len);
    assert_int_equal(backup_audit_state_load("s", s, len, fx->ps, 0, &r, &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "workloads[0]"));
    cm_free(s);
    /* ...one more is refused as a whole. */
    s = big_state("workloads", "1", BACKUP_AUDIT_MAX_APPS + 1, &len);
    assert_int_equal(backup_audit_state_load("s", s, len, fx->ps, 0, &r, &err), CM_ETOOBIG);
    cm_free(s);
    s = big_state("restorePoints", "1", BACKUP_AUDIT_STATE_MAX_POINTS, &len);
    assert_int_equal(backup_audit_state_load("s", s, len, fx->ps, 0, &r, &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "restorePoints[0]"));
    cm_free(s);
    s = big_state("restorePoints", "1", BACKUP_AUDIT_STATE_MAX_POINTS + 1, &len);
    assert_int_equal(backup_audit_state_load("s", s, len, fx->ps, 0, &r, &err), CM_ETOOBIG);
    cm_free(s);
    assert_null(r);
}

static void test_oom(void **state)
{
    struct fx *fx = *state;
    long n;

    for (n = 1;; n++) {
        struct backup_audit_report *r = NULL;
        int rc;

        cm_alloc_fault_set(n);
        rc = backup_audit_state_load("s", fx->state, fx->len, fx->ps, 0, &r, NULL);
        cm_alloc_fault_set(0);
        backup_audit_report_destroy(r);
        if (rc == 0)
            break;
        assert_int_equal(rc, CM_ENOMEM);
    }
    assert_true(n > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_classes),    cmocka_unit_test(test_now_override_and_missing),
        cmocka_unit_test(test_yaml_and_list_form), cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_count_limits),       cmocka_unit_test(test_oom),
    };

    policy_json_hooks_install();
    return cmocka_run_group_tests(tests, setup, teardown);
}
