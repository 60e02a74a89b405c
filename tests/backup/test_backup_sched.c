/* SPDX-License-Identifier: Apache-2.0 */
/* test_backup_sched.c - capture due-ness from cron + newest restore point with an
 * injected clock: on time, not twice, one catch-up after downtime; the maintenance
 * pass schedule, its retry and margin, and that a kept point's lock never lapses. */
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

#define H 3600
#define D 86400

/* The margin is two intervals plus a day, always longer than the interval. */
static void test_maint_margin(void **state)
{
    (void)state;
    assert_int_equal(backup_maint_margin(6 * H), 36 * H);
    assert_int_equal(backup_maint_margin(0), 2 * BACKUP_MAINT_INTERVAL_DEFAULT + D);
    assert_int_equal(backup_maint_margin(1), D + 2);
    assert_int_equal(backup_maint_margin(BACKUP_MAINT_INTERVAL_MAX),
                     2 * (int64_t)BACKUP_MAINT_INTERVAL_MAX + D);
    /* past the cap: the cap */
    assert_int_equal(backup_maint_margin(BACKUP_MAINT_INTERVAL_MAX + 1),
                     2 * (int64_t)BACKUP_MAINT_INTERVAL_MAX + D);
}

/* At startup (and on becoming leader) a pass is due at once; then every interval after
 * the previous start, on both sides of the boundary. */
static void test_maint_due_interval(void **state)
{
    time_t t = cm_time_from_utc(2026, 11, 22, 9, 0, 0);

    (void)state;
    assert_int_equal((long long)backup_maint_next(0, false, 6 * H), 0);
    assert_true(backup_maint_due(0, false, 6 * H, t));
    assert_true(backup_maint_due(0, true, 6 * H, 1));
    assert_int_equal((long long)backup_maint_next(t, true, 6 * H), (long long)(t + 6 * H));
    assert_false(backup_maint_due(t, true, 6 * H, t));
    assert_false(backup_maint_due(t, true, 6 * H, t + 6 * H - 1));
    assert_true(backup_maint_due(t, true, 6 * H, t + 6 * H));
    /* interval 0 is the default */
    assert_false(backup_maint_due(t, true, 0, t + BACKUP_MAINT_INTERVAL_DEFAULT - 1));
    assert_true(backup_maint_due(t, true, 0, t + BACKUP_MAINT_INTERVAL_DEFAULT));
    /* an interval past the cap waits the cap, not longer */
    assert_false(backup_maint_due(t, true, BACKUP_MAINT_INTERVAL_MAX + 5,
                                  t + BACKUP_MAINT_INTERVAL_MAX - 1));
    assert_true(
        backup_maint_due(t, true, BACKUP_MAINT_INTERVAL_MAX + 5, t + BACKUP_MAINT_INTERVAL_MAX));
}

/* A failed pass is retried after BACKUP_MAINT_RETRY_S, or after the interval when that
 * is shorter. */
static void test_maint_due_retry(void **state)
{
    time_t t = cm_time_from_utc(2026, 11, 22, 9, 0, 0);

    (void)state;
    assert_false(backup_maint_due(t, false, 6 * H, t + BACKUP_MAINT_RETRY_S - 1));
    assert_true(backup_maint_due(t, false, 6 * H, t + BACKUP_MAINT_RETRY_S));
    assert_false(backup_maint_due(t, false, 300, t + 299));
    assert_true(backup_maint_due(t, false, 300, t + 300));
    /* an interval exactly the retry delay: the same either way */
    assert_int_equal((long long)backup_maint_next(t, false, BACKUP_MAINT_RETRY_S),
                     (long long)backup_maint_next(t, true, BACKUP_MAINT_RETRY_S));
}

/* A clock stepped back before the last start never postpones maintenance. */
static void test_maint_clock_back(void **state)
{
    time_t t = cm_time_from_utc(2026, 11, 22, 9, 0, 0);

    (void)state;
    assert_false(backup_maint_due(t, true, 6 * H, t));
    assert_true(backup_maint_due(t, true, 6 * H, t - 1));
    assert_true(backup_maint_due(t, true, 6 * H, t - 30 * D));
}

/* The guarantee, simulated with an injected clock over 90 days: passes every interval
 * (one in five fails and changes nothing; the retry comes BACKUP_MAINT_RETRY_S later),
 * each extending a kept point per backup_gfs_decide_margin(). The point's lock never
 * lapses, for locks shorter and longer than the margin, and for 1-hourly to weekly
 * passes. */
static void test_maint_lock_never_lapses(void **state)
{
    static const uint64_t intervals[] = {H, 6 * H, D, 7 * D};
    static const uint32_t locks[] = {1, 2, 30, 365};
    struct backup_gfs_counts c = {0, 0, 0, 0, 5};
    size_t ii, li;

    (void)state;
    for (ii = 0; ii < sizeof(intervals) / sizeof(intervals[0]); ii++) {
        for (li = 0; li < sizeof(locks) / sizeof(locks[0]); li++) {
            time_t t0 = cm_time_from_utc(2026, 1, 1, 0, 0, 0);
            struct backup_gfs_point p = {t0, t0 + (time_t)locks[li] * D, true};
            int64_t m = backup_maint_margin(intervals[ii]);
            time_t last = 0;
            bool ok = true;
            unsigned passes = 0;
            time_t t;

            for (t = t0; t < t0 + 90 * D; t += 60) {
                struct backup_gfs_decision d;

                assert_true(p.retain_until > t);
                if (!backup_maint_due(last, ok, intervals[ii], t))
                    continue;
                last = t;
                ok = ++passes % 5 != 0;
                if (!ok)
                    continue;
                assert_int_equal(backup_gfs_decide_margin(&p, 1, &c, t, locks[li], m, &d), 0);
                assert_int_not_equal(d.action, BACKUP_GFS_RETAINED);
                if (d.action == BACKUP_GFS_EXTEND) {
                    assert_true(d.new_retain_until > p.retain_until);
                    p.retain_until = d.new_retain_until;
                }
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_daily),
        cmocka_unit_test(test_catch_up_once),
        cmocka_unit_test(test_never_run),
        cmocka_unit_test(test_impossible),
        cmocka_unit_test(test_maint_margin),
        cmocka_unit_test(test_maint_due_interval),
        cmocka_unit_test(test_maint_due_retry),
        cmocka_unit_test(test_maint_clock_back),
        cmocka_unit_test(test_maint_lock_never_lapses),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
