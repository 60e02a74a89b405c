/* SPDX-License-Identifier: Apache-2.0 */
/* test_cron.c - policy_cron_parse/next/prev: fields, macros, month ends, leap years and
 * the day-of-month/day-of-week OR rule. */
#include "policy/policy.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static struct policy_cron parse(const char *s)
{
    struct policy_cron c;
    struct cm_err err;

    assert_int_equal(policy_cron_parse(s, &c, &err), 0);
    return c;
}

static time_t T(int y, int mo, int d, int h, int mi)
{
    return cm_time_from_utc(y, mo, d, h, mi, 0);
}

static void test_parse_fields(void **state)
{
    struct policy_cron c = parse("*/15 0-6/2 1,15 JAN-mar,Dec mon-FRI");

    (void)state;
    assert_true(c.minutes == ((1ULL << 0) | (1ULL << 15) | (1ULL << 30) | (1ULL << 45)));
    assert_int_equal(c.hours, (1u << 0) | (1u << 2) | (1u << 4) | (1u << 6));
    assert_int_equal(c.mdays, (1u << 1) | (1u << 15));
    assert_int_equal(c.months, (1u << 1) | (1u << 2) | (1u << 3) | (1u << 12));
    assert_int_equal(c.wdays, 0x3e);
    assert_false(c.mday_star);
    assert_false(c.wday_star);
    c = parse("5/20 * * * 7");
    assert_true(c.minutes == ((1ULL << 5) | (1ULL << 25) | (1ULL << 45)));
    assert_int_equal(c.wdays, 1);
    assert_true(c.mday_star);
    c = parse("0 0 * * 5-7");
    assert_int_equal(c.wdays, (1u << 5) | (1u << 6) | 1u);
    c = parse("  0\t0  *  *  *  ");
    assert_int_equal(c.hours, 1);
}

static void test_macros(void **state)
{
    struct policy_cron a = parse("@hourly");
    struct policy_cron b = parse("0 * * * *");

    (void)state;
    assert_memory_equal(&a, &b, sizeof(a));
    a = parse("@daily");
    b = parse("@midnight");
    assert_memory_equal(&a, &b, sizeof(a));
    a = parse("@yearly");
    b = parse("@annually");
    assert_memory_equal(&a, &b, sizeof(a));
    a = parse("@weekly");
    assert_int_equal(a.wdays, 1);
    a = parse("@monthly");
    assert_int_equal(a.mdays, 2);
}

static void test_parse_errors(void **state)
{
    static const char *const bad[] = {
        "",
        "* * * *",
        "* * * * * *",
        "60 * * * *",
        "* 24 * * *",
        "* * 0 * *",
        "* * 32 * *",
        "* * * 13 *",
        "* * * * 8",
        "*/0 * * * *",
        "5-1 * * * *",
        "a * * * *",
        "1,,2 * * * *",
        "* * * foo *",
        "@every",
        "-1 * * * *",
        "+1 * * * *",
        "*/61 * * * *",
        "1- * * * *",
        "@hourly ",
        "* * * * mon-",
        "1/ * * * *",
    };
    struct policy_cron c;
    struct cm_err err;
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(bad); i++) {
        if (policy_cron_parse(bad[i], &c, &err) != CM_EPARSE)
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_int_equal(policy_cron_parse("61 * * * *", &c, &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "minute"));
    assert_int_equal(policy_cron_parse("* * * * 9", &c, &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "day-of-week"));
    assert_int_equal(policy_cron_parse("* * *", &c, &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "5 fields"));
    assert_int_equal(policy_cron_parse(NULL, &c, &err), CM_EPARSE);
}

static void test_next_basic(void **state)
{
    struct policy_cron c = parse("@hourly");

    (void)state;
    assert_int_equal(policy_cron_next(&c, T(2026, 11, 22, 9, 30)), T(2026, 11, 22, 10, 0));
    /* strictly after */
    assert_int_equal(policy_cron_next(&c, T(2026, 11, 22, 10, 0)), T(2026, 11, 22, 11, 0));
    assert_int_equal(policy_cron_next(&c, T(2026, 11, 22, 9, 59) + 59), T(2026, 11, 22, 10, 0));
    c = parse("@daily");
    assert_int_equal(policy_cron_next(&c, T(2026, 12, 31, 23, 59)), T(2027, 1, 1, 0, 0));
    c = parse("30 2 * * *");
    assert_int_equal(policy_cron_next(&c, T(2026, 1, 1, 2, 30)), T(2026, 1, 2, 2, 30));
}

static void test_month_ends_and_leap(void **state)
{
    struct policy_cron c = parse("0 0 31 * *");

    (void)state;
    /* April has 30 days: the next 31st is in May. */
    assert_int_equal(policy_cron_next(&c, T(2026, 4, 1, 0, 0)), T(2026, 5, 31, 0, 0));
    c = parse("0 12 29 2 *");
    assert_int_equal(policy_cron_next(&c, T(2025, 3, 1, 0, 0)), T(2028, 2, 29, 12, 0));
    assert_int_equal(policy_cron_prev(&c, T(2028, 2, 28, 0, 0)), T(2024, 2, 29, 12, 0));
    /* 2100 is not a leap year: the next Feb 29 after 2096 is 2104. */
    assert_int_equal(policy_cron_next(&c, T(2096, 3, 1, 0, 0)), T(2104, 2, 29, 12, 0));
    c = parse("@monthly");
    assert_int_equal(policy_cron_next(&c, T(2024, 2, 29, 23, 59)), T(2024, 3, 1, 0, 0));
    assert_int_equal(policy_cron_prev(&c, T(2024, 3, 1, 0, 0)), T(2024, 3, 1, 0, 0));
    assert_int_equal(policy_cron_prev(&c, T(2024, 2, 29, 23, 59)), T(2024, 2, 1, 0, 0));
}

static void test_never(void **state)
{
    struct policy_cron c = parse("0 0 30 2 *");
    struct policy_cron z;

    (void)state;
    assert_int_equal(policy_cron_next(&c, T(2026, 1, 1, 0, 0)), -1);
    assert_int_equal(policy_cron_prev(&c, T(2026, 1, 1, 0, 0)), -1);
    memset(&z, 0, sizeof(z));
    assert_int_equal(policy_cron_next(&z, 0), -1);
    assert_int_equal(policy_cron_prev(&z, 0), -1);
}

static void test_dom_dow_or_rule(void **state)
{
    /* Both restricted: the 13th OR any Friday. 2026-11-01 is a Sunday. */
    struct policy_cron c = parse("0 0 13 * 5");

    (void)state;
    assert_int_equal(policy_cron_next(&c, T(2026, 11, 1, 0, 0)), T(2026, 11, 6, 0, 0));
    assert_int_equal(policy_cron_next(&c, T(2026, 11, 10, 0, 0)), T(2026, 11, 13, 0, 0));
    assert_int_equal(policy_cron_next(&c, T(2026, 11, 13, 0, 0)), T(2026, 11, 20, 0, 0));
    /* dom '*': weekday alone decides. */
    c = parse("0 0 * * 1");
    assert_int_equal(policy_cron_next(&c, T(2026, 11, 1, 0, 0)), T(2026, 11, 2, 0, 0));
    /* dow '*': day of month alone decides. */
    c = parse("0 0 13 * *");
    assert_int_equal(policy_cron_next(&c, T(2026, 11, 1, 0, 0)), T(2026, 11, 13, 0, 0));
    /* a field starting with '*' counts as '*' (Vixie): AND of odd days and Fridays. */
    c = parse("0 0 */2 * fri");
    assert_true(c.mday_star);
    assert_int_equal(policy_cron_next(&c, T(2026, 11, 1, 0, 0)), T(2026, 11, 13, 0, 0));
}

static void test_prev(void **state)
{
    struct policy_cron c = parse("15 3 * * 0");

    (void)state;
    /* 2026-11-22 is a Sunday */
    assert_int_equal(policy_cron_prev(&c, T(2026, 11, 22, 3, 15)), T(2026, 11, 22, 3, 15));
    assert_int_equal(policy_cron_prev(&c, T(2026, 11, 22, 3, 14)), T(2026, 11, 15, 3, 15));
    c = parse("@yearly");
    assert_int_equal(policy_cron_prev(&c, T(2026, 11, 22, 0, 0)), T(2026, 1, 1, 0, 0));
    c = parse("*/20 * * * *");
    assert_int_equal(policy_cron_prev(&c, T(2026, 1, 1, 0, 19)), T(2026, 1, 1, 0, 0));
    assert_int_equal(policy_cron_prev(&c, T(2026, 1, 1, 0, 0) - 60), T(2025, 12, 31, 23, 40));
}

static void test_next_prev_agree(void **state)
{
    static const char *const sched[] = {"*/7 */5 * * *", "0 0 1,15 * mon", "59 23 31 12 *",
                                        "0 6 * feb-apr sat,sun"};
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(sched); i++) {
        struct policy_cron c = parse(sched[i]);
        time_t t = T(2023, 12, 30, 12, 0);
        int k;

        for (k = 0; k < 50; k++) {
            time_t n = policy_cron_next(&c, t);

            assert_true(n > t);
            assert_int_equal(policy_cron_prev(&c, n), n);
            assert_int_equal(policy_cron_prev(&c, n - 60) < n, 1);
            assert_int_equal(policy_cron_next(&c, policy_cron_prev(&c, n - 60)), n);
            t = n;
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_fields),        cmocka_unit_test(test_macros),
        cmocka_unit_test(test_parse_errors),        cmocka_unit_test(test_next_basic),
        cmocka_unit_test(test_month_ends_and_leap), cmocka_unit_test(test_never),
        cmocka_unit_test(test_dom_dow_or_rule),     cmocka_unit_test(test_prev),
        cmocka_unit_test(test_next_prev_agree),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
