/* SPDX-License-Identifier: Apache-2.0 */
/* test_backup_sched.c - capture due-ness from cron + newest restore point with an
 * injected clock: on time, not twice, one catch-up after downtime. */
#include "backup/backup.h"
#include "policy/policy.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

static struct policy_cron cron(const char *s)
{
    struct policy_cron c;
    struct cm_err err;

    assert_int_equal(policy_cron_parse(s, &c, &err), 0);
    return c;
}

static void test_daily(void **state)
{
    struct policy_cron c = cron("30 2 * * *");
    time_t slot = cm_time_from_utc(2026, 11, 22, 2, 30, 0);

    (void)state;
    /* before the slot, with yesterday's point: not due */
    assert_int_equal((long long)backup_sched_due(&c, slot - 86400 + 5, slot - 1), -1);
    /* at the slot: due, reporting the slot */
    assert_int_equal((long long)backup_sched_due(&c, slot - 86400 + 5, slot), (long long)slot);
    /* once the capture made a point after the slot: not due again */
    assert_int_equal((long long)backup_sched_due(&c, slot + 3, slot + 600), -1);
    /* a point exactly at the slot second counts as done */
    assert_int_equal((long long)backup_sched_due(&c, slot, slot + 600), -1);
}

static void test_catch_up_once(void **state)
{
    struct policy_cron c = cron("@hourly");
    time_t last = cm_time_from_utc(2026, 11, 20, 0, 0, 7);
    time_t now = cm_time_from_utc(2026, 11, 22, 9, 17, 0);

    (void)state;
    /* two days down: one catch-up for the newest missed slot, not 57 */
    assert_int_equal((long long)backup_sched_due(&c, last, now),
                     (long long)cm_time_from_utc(2026, 11, 22, 9, 0, 0));
    assert_int_equal((long long)backup_sched_due(&c, now, now + 60), -1);
}

static void test_never_run(void **state)
{
    struct policy_cron c = cron("0 0 1 * *");

    (void)state;
    assert_true(backup_sched_due(&c, 0, cm_time_from_utc(2026, 11, 22, 9, 0, 0)) > 0);
    assert_int_equal((long long)backup_sched_due(NULL, 0, 100), -1);
}

static void test_impossible(void **state)
{
    struct policy_cron c = cron("0 0 30 2 *");

    (void)state;
    assert_int_equal((long long)backup_sched_due(&c, 0, cm_time_from_utc(2026, 11, 22, 0, 0, 0)),
                     -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_daily),
        cmocka_unit_test(test_catch_up_once),
        cmocka_unit_test(test_never_run),
        cmocka_unit_test(test_impossible),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
