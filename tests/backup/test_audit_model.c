/* SPDX-License-Identifier: Apache-2.0 */
/* test_audit_model.c - unit tests of the audit classification (each class, each issue,
 * both sides of the RPO boundary and of the lock expiry) and of the report model. */
#include "backup/backup.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

/* 2026-11-22T10:30:00Z; the hourly schedule's last run is 10:00, the one before 09:00. */
#define NOW ((time_t)1795343400)
#define H 3600

struct fx {
    struct policy_cron hourly;
    struct policy_cron never;
    struct backup_audit_facts f;
};

static int setup(void **state)
{
    static struct fx fx;
    struct cm_err err;

    memset(&fx, 0, sizeof(fx));
    assert_int_equal(policy_cron_parse("0 * * * *", &fx.hourly, &err), 0);
    assert_int_equal(policy_cron_parse("0 0 30 2 *", &fx.never, &err), 0);
    fx.f.kind = "Deployment";
    fx.f.ns = "shop";
    fx.f.name = "web";
    fx.f.guardrail = BACKUP_AUDIT_GR_PASS;
    fx.f.policy = "gold";
    fx.f.schedule = "0 * * * *";
    fx.f.cron = &fx.hourly;
    fx.f.lock_required = POLICY_LOCK_COMPLIANCE;
    fx.f.point = "20261122T100000Z-0a0b0c0d";
    fx.f.point_time = NOW - 30 * 60;
    fx.f.point_complete = true;
    fx.f.verify = BACKUP_AUDIT_VERIFY_OK;
    fx.f.lock_mode = POLICY_LOCK_COMPLIANCE;
    fx.f.retain_until = NOW + 30 * 86400;
    *state = &fx;
    return 0;
}

static struct backup_audit_verdict classify(const struct backup_audit_facts *f)
{
    struct backup_audit_verdict v;

    backup_audit_classify(f, NOW, &v);
    return v;
}

static void test_now_constant(void **state)
{
    (void)state;
    assert_int_equal(NOW, cm_time_from_utc(2026, 11, 22, 10, 30, 0));
}

static void test_protected(void **state)
{
    struct fx *fx = *state;
    struct backup_audit_verdict v = classify(&fx->f);

    assert_int_equal(v.cls, BACKUP_AUDIT_PROTECTED);
    assert_int_equal(v.issues, 0);
    assert_int_equal(v.age_s, 30 * 60);
    assert_int_equal(v.rpo_boundary, NOW - 30 * 60 - H);
    assert_true(v.lock_required);
    assert_string_equal(backup_audit_class_name(v.cls), "protected");
}

static void test_stale_boundary(void **state)
{
    struct fx *fx = *state;
    struct backup_audit_verdict v;
    time_t boundary = cm_time_from_utc(2026, 11, 22, 9, 0, 0);

    /* Exactly at the boundary less the skew allowance: still fresh. */
    fx->f.point_time = boundary - BACKUP_AUDIT_SKEW_S;
    v = classify(&fx->f);
    assert_int_equal(v.cls, BACKUP_AUDIT_PROTECTED);
    /* One second older: stale. */
    fx->f.point_time = boundary - BACKUP_AUDIT_SKEW_S - 1;
    v = classify(&fx->f);
    assert_int_equal(v.cls, BACKUP_AUDIT_STALE);
    assert_int_equal(v.issues, BACKUP_AUDIT_ISSUE_STALE);
    assert_string_equal(backup_audit_class_name(v.cls), "stale");
    /* A point from the 09:00 run while the 10:00 run is late: fine. */
    fx->f.point_time = boundary + 5;
    assert_int_equal(classify(&fx->f).cls, BACKUP_AUDIT_PROTECTED);
}

static void test_schedule_never_fires_is_stale(void **state)
{
    struct fx *fx = *state;
    struct backup_audit_verdict v;

    fx->f.cron = &fx->never;
    v = classify(&fx->f);
    assert_int_equal(v.cls, BACKUP_AUDIT_STALE);
    assert_true(v.issues & BACKUP_AUDIT_ISSUE_NO_SCHEDULE);
    assert_int_equal(v.rpo_boundary, 0);
}

static void test_no_cron_means_no_rpo(void **state)
{
    struct fx *fx = *state;

    fx->f.cron = NULL;
    fx->f.point_time = NOW - 400 * 86400;
    fx->f.retain_until = NOW + 1;
    assert_int_equal(classify(&fx->f).cls, BACKUP_AUDIT_PROTECTED);
}

static void test_unprotected_each_cause(void **state)
{
    struct fx *fx = *state;
    struct backup_audit_facts f;
    struct backup_audit_verdict v;

    f = fx->f;
    f.policy = NULL;
    v = classify(&f);
    assert_int_equal(v.cls, BACKUP_AUDIT_UNPROTECTED);
    assert_true(v.issues & BACKUP_AUDIT_ISSUE_UNBOUND);

    f = fx->f;
    f.policy = "";
    assert_true(classify(&f).issues & BACKUP_AUDIT_ISSUE_UNBOUND);

    f = fx->f;
    f.policy_missing = true;
    v = classify(&f);
    assert_int_equal(v.cls, BACKUP_AUDIT_UNPROTECTED);
    assert_int_equal(v.issues, BACKUP_AUDIT_ISSUE_UNKNOWN_POLICY);

    f = fx->f;
    f.guardrail = BACKUP_AUDIT_GR_FAIL;
    v = classify(&f);
    assert_int_equal(v.cls, BACKUP_AUDIT_UNPROTECTED);
    assert_int_equal(v.issues, BACKUP_AUDIT_ISSUE_GUARDRAIL);

    f = fx->f;
    f.guardrail = BACKUP_AUDIT_GR_NONE; /* no rule selects it: not a failure */
    assert_int_equal(classify(&f).cls, BACKUP_AUDIT_PROTECTED);

    f = fx->f;
    f.point = NULL;
    v = classify(&f);
    assert_int_equal(v.cls, BACKUP_AUDIT_UNPROTECTED);
    assert_int_equal(v.issues, BACKUP_AUDIT_ISSUE_NO_POINT);
    assert_int_equal(v.age_s, -1);

    f = fx->f;
    f.point_complete = false;
    v = classify(&f);
    assert_int_equal(v.cls, BACKUP_AUDIT_UNPROTECTED);
    assert_int_equal(v.issues, BACKUP_AUDIT_ISSUE_INCOMPLETE);

    f = fx->f;
    f.verify = BACKUP_AUDIT_VERIFY_FAILED;
    v = classify(&f);
    assert_int_equal(v.cls, BACKUP_AUDIT_UNPROTECTED);
    assert_int_equal(v.issues, BACKUP_AUDIT_ISSUE_VERIFY);
}

static void test_not_immutable_each_cause(void **state)
{
    struct fx *fx = *state;
    struct backup_audit_facts f;
    struct backup_audit_verdict v;

    f = fx->f;
    f.lock_mode = POLICY_LOCK_NONE;
    f.retain_until = 0;
    v = classify(&f);
    assert_int_equal(v.cls, BACKUP_AUDIT_NOT_IMMUTABLE);
    assert_int_equal(v.issues, BACKUP_AUDIT_ISSUE_NO_LOCK);
    assert_string_equal(backup_audit_class_name(v.cls), "not-immutable");

    /* retain-until exactly now has expired; one second later it holds. */
    f = fx->f;
    f.retain_until = NOW;
    v = classify(&f);
    assert_int_equal(v.cls, BACKUP_AUDIT_NOT_IMMUTABLE);
    assert_int_equal(v.issues, BACKUP_AUDIT_ISSUE_LOCK_EXPIRED);
    f.retain_until = NOW + 1;
    assert_int_equal(classify(&f).cls, BACKUP_AUDIT_PROTECTED);

    f = fx->f;
    f.lock_mode = POLICY_LOCK_GOVERNANCE;
    v = classify(&f);
    assert_int_equal(v.cls, BACKUP_AUDIT_NOT_IMMUTABLE);
    assert_int_equal(v.issues, BACKUP_AUDIT_ISSUE_LOCK_WEAK);
    /* GOVERNANCE satisfies a policy that asks GOVERNANCE. */
    f.lock_required = POLICY_LOCK_GOVERNANCE;
    assert_int_equal(classify(&f).cls, BACKUP_AUDIT_PROTECTED);
    /* COMPLIANCE satisfies GOVERNANCE too. */
    f.lock_mode = POLICY_LOCK_COMPLIANCE;
    assert_int_equal(classify(&f).cls, BACKUP_AUDIT_PROTECTED);

    /* The app asks for immutability, its policy has no lock. */
    f = fx->f;
    f.lock_required = POLICY_LOCK_NONE;
    f.policy_lacks_lock = true;
    f.lock_mode = POLICY_LOCK_NONE;
    f.retain_until = 0;
    v = classify(&f);
    assert_int_equal(v.cls, BACKUP_AUDIT_NOT_IMMUTABLE);
    assert_int_equal(v.issues, BACKUP_AUDIT_ISSUE_POLICY_NO_LOCK | BACKUP_AUDIT_ISSUE_NO_LOCK);
    assert_true(v.lock_required);
}

static void test_lock_not_required(void **state)
{
    struct fx *fx = *state;
    struct backup_audit_verdict v;

    fx->f.lock_required = POLICY_LOCK_NONE;
    fx->f.lock_mode = POLICY_LOCK_NONE;
    fx->f.retain_until = 0;
    v = classify(&fx->f);
    assert_int_equal(v.cls, BACKUP_AUDIT_PROTECTED);
    assert_false(v.lock_required);
}

static void test_precedence_keeps_all_issues(void **state)
{
    struct fx *fx = *state;
    struct backup_audit_verdict v;

    fx->f.point_time = NOW - 5 * H;
    fx->f.lock_mode = POLICY_LOCK_NONE;
    v = classify(&fx->f);
    assert_int_equal(v.cls, BACKUP_AUDIT_NOT_IMMUTABLE);
    assert_int_equal(v.issues, BACKUP_AUDIT_ISSUE_STALE | BACKUP_AUDIT_ISSUE_NO_LOCK);
    fx->f.verify = BACKUP_AUDIT_VERIFY_FAILED;
    v = classify(&fx->f);
    assert_int_equal(v.cls, BACKUP_AUDIT_UNPROTECTED);
    /* The lock of a point that fails verification is not judged (not trustworthy). */
    assert_int_equal(v.issues, BACKUP_AUDIT_ISSUE_STALE | BACKUP_AUDIT_ISSUE_VERIFY);
    fx->f.verify = BACKUP_AUDIT_VERIFY_OK;
    fx->f.point_complete = false;
    v = classify(&fx->f);
    assert_int_equal(v.issues, BACKUP_AUDIT_ISSUE_STALE | BACKUP_AUDIT_ISSUE_INCOMPLETE);
}

static void test_unknown_point_time(void **state)
{
    struct fx *fx = *state;
    struct backup_audit_verdict v;

    fx->f.point_time = 0;
    fx->f.verify = BACKUP_AUDIT_VERIFY_FAILED;
    v = classify(&fx->f);
    assert_int_equal(v.age_s, -1);
    assert_int_equal(v.issues, BACKUP_AUDIT_ISSUE_VERIFY); /* no stale verdict without a time */
    assert_int_equal(v.cls, BACKUP_AUDIT_UNPROTECTED);
}

static void test_future_point_age_zero(void **state)
{
    struct fx *fx = *state;

    fx->f.point_time = NOW + 120;
    assert_int_equal(classify(&fx->f).age_s, 0);
    assert_int_equal(classify(&fx->f).cls, BACKUP_AUDIT_PROTECTED);
}

static void test_names(void **state)
{
    enum backup_audit_format f;

    (void)state;
    assert_string_equal(backup_audit_issue_name(BACKUP_AUDIT_ISSUE_UNBOUND), "unbound");
    assert_string_equal(backup_audit_issue_name(BACKUP_AUDIT_ISSUE_NO_SCHEDULE),
                        "schedule-never-fires");
    assert_string_equal(backup_audit_issue_name(1u << BACKUP_AUDIT_ISSUE_COUNT_), "?");
    assert_string_equal(backup_audit_issue_name(3), "?");
    assert_string_equal(backup_audit_class_name(BACKUP_AUDIT_CLASS_COUNT_), "?");
    assert_string_equal(backup_audit_lock_name(POLICY_LOCK_GOVERNANCE), "GOVERNANCE");
    assert_int_equal(backup_audit_format_parse("csv", &f), 0);
    assert_int_equal(f, BACKUP_AUDIT_CSV);
    assert_int_equal(backup_audit_format_parse("html", &f), 0);
    assert_int_equal(f, BACKUP_AUDIT_HTML);
    assert_int_equal(backup_audit_format_parse("yaml", &f), CM_EINVAL);
    assert_int_equal(backup_audit_format_parse(NULL, &f), CM_EINVAL);
}

static void test_report_add_sort_tally(void **state)
{
    struct fx *fx = *state;
    struct backup_audit_report *r = NULL;
    struct backup_audit_facts f;
    struct cm_err err;

    assert_int_equal(backup_audit_report_create(NOW, &r), 0);
    assert_true(backup_audit_report_compliant(r)); /* empty cluster */
    f = fx->f;
    f.ns = "zeta";
    assert_int_equal(backup_audit_report_add(r, &f, &err), 0);
    f = fx->f;
    f.policy = NULL;
    assert_int_equal(backup_audit_report_add(r, &f, &err), 0);
    f = fx->f;
    f.name = "api";
    f.point_time = NOW - 3 * H;
    assert_int_equal(backup_audit_report_add(r, &f, &err), 0);
    assert_int_equal(backup_audit_report_count(r), 3);
    assert_false(backup_audit_report_compliant(r));
    assert_int_equal(backup_audit_report_tally(r, BACKUP_AUDIT_PROTECTED), 1);
    assert_int_equal(backup_audit_report_tally(r, BACKUP_AUDIT_UNPROTECTED), 1);
    assert_int_equal(backup_audit_report_tally(r, BACKUP_AUDIT_STALE), 1);
    assert_int_equal(backup_audit_report_tally(r, BACKUP_AUDIT_NOT_IMMUTABLE), 0);
    backup_audit_report_sort(r);
    assert_string_equal(backup_audit_report_get(r, 0)->name, "api");
    assert_string_equal(backup_audit_report_get(r, 1)->name, "web");
    assert_string_equal(backup_audit_report_get(r, 1)->policy, "");
    assert_string_equal(backup_audit_report_get(r, 2)->ns, "zeta");
    assert_null(backup_audit_report_get(r, 3));
    assert_int_equal(backup_audit_report_now(r), NOW);

    /* Excluding a namespace drops its apps and nothing else. */
    backup_audit_report_exclude(r, "nosuch");
    assert_int_equal(backup_audit_report_count(r), 3);
    backup_audit_report_exclude(r, "zeta");
    assert_int_equal(backup_audit_report_count(r), 2);
    assert_string_equal(backup_audit_report_get(r, 1)->name, "web");
    assert_int_equal(backup_audit_report_tally(r, BACKUP_AUDIT_PROTECTED), 0);
    assert_true(backup_audit_report_compliant(r) == false);
    backup_audit_report_exclude(r, "shop");
    assert_int_equal(backup_audit_report_count(r), 0);
    assert_true(backup_audit_report_compliant(r));

    f = fx->f;
    f.name = NULL;
    assert_int_equal(backup_audit_report_add(r, &f, &err), CM_EINVAL);
    f.name = "";
    assert_int_equal(backup_audit_report_add(r, &f, &err), CM_EINVAL);
    assert_int_equal(backup_audit_report_count(r), 0);
    backup_audit_report_destroy(r);
    backup_audit_report_destroy(NULL);
}

static void test_report_cuts_long_strings_at_utf8(void **state)
{
    struct fx *fx = *state;
    struct backup_audit_report *r = NULL;
    char detail[BACKUP_AUDIT_DETAIL_MAX + 8];
    size_t i;

    /* 'a' then two-byte characters so the cut falls inside one. */
    detail[0] = 'a';
    for (i = 1; i + 1 < sizeof(detail) - 1; i += 2) {
        detail[i] = (char)0xc3;
        detail[i + 1] = (char)0xa9;
    }
    detail[i] = '\0';
    fx->f.guardrail_detail = detail;
    assert_int_equal(backup_audit_report_create(NOW, &r), 0);
    assert_int_equal(backup_audit_report_add(r, &fx->f, NULL), 0);
    {
        const char *d = backup_audit_report_get(r, 0)->guardrail_detail;
        size_t n = strlen(d);

        assert_true(n < BACKUP_AUDIT_DETAIL_MAX);
        assert_int_equal(n % 2, 1); /* 'a' + whole two-byte characters */
        assert_int_equal((unsigned char)d[n - 1], 0xa9);
    }
    backup_audit_report_destroy(r);
}

static void test_report_oom(void **state)
{
    struct fx *fx = *state;
    long n;

    for (n = 1;; n++) {
        struct backup_audit_report *r = NULL;
        int rc;

        cm_alloc_fault_set(n);
        rc = backup_audit_report_create(NOW, &r);
        if (rc == 0)
            rc = backup_audit_report_add(r, &fx->f, NULL);
        cm_alloc_fault_set(0);
        backup_audit_report_destroy(r);
        if (rc == 0)
            break;
        assert_int_equal(rc, CM_ENOMEM);
    }
    assert_true(n > 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_now_constant),
        cmocka_unit_test_setup(test_protected, setup),
        cmocka_unit_test_setup(test_stale_boundary, setup),
        cmocka_unit_test_setup(test_schedule_never_fires_is_stale, setup),
        cmocka_unit_test_setup(test_no_cron_means_no_rpo, setup),
        cmocka_unit_test_setup(test_unprotected_each_cause, setup),
        cmocka_unit_test_setup(test_not_immutable_each_cause, setup),
        cmocka_unit_test_setup(test_lock_not_required, setup),
        cmocka_unit_test_setup(test_precedence_keeps_all_issues, setup),
        cmocka_unit_test_setup(test_unknown_point_time, setup),
        cmocka_unit_test_setup(test_future_point_age_zero, setup),
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup(test_report_add_sort_tally, setup),
        cmocka_unit_test_setup(test_report_cuts_long_strings_at_utf8, setup),
        cmocka_unit_test_setup(test_report_oom, setup),
    };

    policy_json_hooks_install();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
