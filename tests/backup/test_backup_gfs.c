/* SPDX-License-Identifier: Apache-2.0 */
/* test_backup_gfs.c - GFS retention decisions: buckets, counts, locks, extension
 * (with and without the executor's maintenance margin), partial points, ordering,
 * boundaries. */
#include "backup/backup.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#define H 3600
#define D 86400

static time_t T(int y, int mo, int d, int h)
{
    return cm_time_from_utc(y, mo, d, h, 0, 0);
}

static void test_empty_and_invalid(void **state)
{
    struct backup_gfs_counts c = {1, 1, 1, 1, 1};
    struct backup_gfs_point p = {0};
    struct backup_gfs_decision d;

    (void)state;
    assert_int_equal(backup_gfs_decide(NULL, 0, &c, 0, 0, NULL), 0);
    assert_int_equal(backup_gfs_decide(&p, 1, NULL, 0, 0, &d), CM_EINVAL);
    assert_int_equal(backup_gfs_decide(&p, 1, &c, 0, 0, NULL), CM_EINVAL);
    assert_string_equal(backup_gfs_action_name(BACKUP_GFS_EXPIRE), "expire");
    assert_string_equal(backup_gfs_action_name(BACKUP_GFS_RETAINED), "retained");
}

/* 48 hourly points; hourly=24 keeps exactly the newest 24, the 25th expires. */
static void test_hourly_count_boundary(void **state)
{
    struct backup_gfs_point p[48];
    struct backup_gfs_decision d[48];
    struct backup_gfs_counts c = {24, 0, 0, 0, 0};
    time_t now = T(2026, 11, 22, 12) + 600;
    int i;

    (void)state;
    for (i = 0; i < 48; i++) {
        p[i].created = T(2026, 11, 22, 12) - (time_t)i * H + 5;
        p[i].retain_until = 0;
        p[i].complete = true;
    }
    assert_int_equal(backup_gfs_decide(p, 48, &c, now, 0, d), 0);
    for (i = 0; i < 48; i++) {
        if (i < 24) {
            assert_int_equal(d[i].action, BACKUP_GFS_KEEP);
            assert_int_equal(d[i].reasons, BACKUP_GFS_R_HOURLY);
        } else {
            assert_int_equal(d[i].action, BACKUP_GFS_EXPIRE);
            assert_int_equal(d[i].reasons, 0);
        }
    }
}

/* Several points in one hour: only the newest of the bucket counts. */
static void test_newest_in_bucket(void **state)
{
    struct backup_gfs_point p[4] = {
        {T(2026, 11, 22, 10) + 60, 0, true},
        {T(2026, 11, 22, 10) + 3000, 0, true}, /* newest in 10:00 */
        {T(2026, 11, 22, 9) + 10, 0, true},
        {T(2026, 11, 22, 10) + 1800, 0, true},
    };
    struct backup_gfs_decision d[4];
    struct backup_gfs_counts c = {2, 0, 0, 0, 0};

    (void)state;
    assert_int_equal(backup_gfs_decide(p, 4, &c, T(2026, 11, 22, 11), 0, d), 0);
    assert_int_equal(d[0].action, BACKUP_GFS_EXPIRE);
    assert_int_equal(d[1].action, BACKUP_GFS_KEEP);
    assert_int_equal(d[2].action, BACKUP_GFS_KEEP);
    assert_int_equal(d[3].action, BACKUP_GFS_EXPIRE);
}

/* Daily over 40 days + weekly 4 + monthly 2: reasons combine and buckets follow UTC
 * days, ISO weeks (Monday) and months. */
static void test_daily_weekly_monthly(void **state)
{
    struct backup_gfs_point p[40];
    struct backup_gfs_decision d[40];
    struct backup_gfs_counts c = {0, 7, 4, 2, 0};
    time_t base = T(2026, 11, 30, 1); /* a Monday */
    time_t now = base + H;
    int i;

    (void)state;
    /* retain_until = 0 (unlocked): left unset it was stack garbage, and a garbage date
     * in the future made d[29] RETAINED instead of EXPIREd under ASan. */
    memset(p, 0, sizeof(p));
    for (i = 0; i < 40; i++) {
        p[i].created = base - (time_t)i * D;
        p[i].complete = true;
    }
    assert_int_equal(backup_gfs_decide(p, 40, &c, now, 0, d), 0);
    for (i = 0; i < 7; i++)
        assert_true(d[i].reasons & BACKUP_GFS_R_DAILY);
    assert_false(d[7].reasons & BACKUP_GFS_R_DAILY);
    /* weekly: newest of each ISO week: i=0 (Mon 30th, own week), i=1 (Sun 29th), i=8,
     * i=15 */
    assert_true(d[0].reasons & BACKUP_GFS_R_WEEKLY);
    assert_true(d[1].reasons & BACKUP_GFS_R_WEEKLY);
    assert_false(d[2].reasons & BACKUP_GFS_R_WEEKLY);
    assert_true(d[8].reasons & BACKUP_GFS_R_WEEKLY);
    assert_true(d[15].reasons & BACKUP_GFS_R_WEEKLY);
    assert_false(d[22].reasons & BACKUP_GFS_R_WEEKLY);
    /* monthly: Nov 30 (i=0) and Oct 31 (i=30) */
    assert_true(d[0].reasons & BACKUP_GFS_R_MONTHLY);
    assert_true(d[30].reasons & BACKUP_GFS_R_MONTHLY);
    assert_false(d[29].reasons & BACKUP_GFS_R_MONTHLY);
    assert_false(d[31].reasons & BACKUP_GFS_R_MONTHLY);
    assert_int_equal(d[30].action, BACKUP_GFS_KEEP);
    assert_int_equal(d[29].action, BACKUP_GFS_EXPIRE);
    assert_int_equal(d[39].action, BACKUP_GFS_EXPIRE);
}

static void test_yearly(void **state)
{
    struct backup_gfs_point p[3] = {
        {T(2026, 1, 1, 0), 0, true},
        {T(2025, 12, 31, 23), 0, true},
        {T(2025, 6, 1, 0), 0, true},
    };
    struct backup_gfs_decision d[3];
    struct backup_gfs_counts c = {0, 0, 0, 0, 2};

    (void)state;
    assert_int_equal(backup_gfs_decide(p, 3, &c, T(2026, 2, 1, 0), 0, d), 0);
    assert_int_equal(d[0].action, BACKUP_GFS_KEEP);
    assert_int_equal(d[1].action, BACKUP_GFS_KEEP);
    assert_int_equal(d[2].action, BACKUP_GFS_EXPIRE);
}

/* A point past the counts but locked is RETAINED; at the exact unlock second it is
 * EXPIREd (retain_until > now means locked). */
static void test_locked_is_retained(void **state)
{
    struct backup_gfs_point p[2] = {
        {T(2026, 11, 22, 10), T(2026, 12, 22, 10), true},
        {T(2026, 11, 21, 10), T(2026, 12, 21, 10), true},
    };
    struct backup_gfs_decision d[2];
    struct backup_gfs_counts c = {0, 1, 0, 0, 0};

    (void)state;
    assert_int_equal(backup_gfs_decide(p, 2, &c, T(2026, 12, 21, 10) - 1, 30, d), 0);
    assert_int_equal(d[1].action, BACKUP_GFS_RETAINED);
    assert_int_equal(backup_gfs_decide(p, 2, &c, T(2026, 12, 21, 10), 30, d), 0);
    assert_int_equal(d[1].action, BACKUP_GFS_EXPIRE);
}

/* A kept point is extended when its lock ends within the window (lock/2, capped at 7
 * days, at least 1 hour) to now + lock days, and never shortened. */
static void test_extend(void **state)
{
    struct backup_gfs_point p[1] = {{T(2026, 1, 1, 0), 0, true}};
    struct backup_gfs_decision d[1];
    struct backup_gfs_counts c = {0, 0, 0, 12, 0};
    time_t now = T(2026, 3, 1, 0);

    (void)state;
    /* lock 30 days: window 7 days. 7 days + 1 s left: keep. */
    p[0].retain_until = now + 7 * D + 1;
    assert_int_equal(backup_gfs_decide(p, 1, &c, now, 30, d), 0);
    assert_int_equal(d[0].action, BACKUP_GFS_KEEP);
    assert_int_equal((long long)d[0].new_retain_until, 0);
    /* 7 days - 1 s left: extend to now + 30 days */
    p[0].retain_until = now + 7 * D - 1;
    assert_int_equal(backup_gfs_decide(p, 1, &c, now, 30, d), 0);
    assert_int_equal(d[0].action, BACKUP_GFS_EXTEND);
    assert_int_equal((long long)d[0].new_retain_until, (long long)(now + 30 * D));
    assert_true(d[0].new_retain_until > p[0].retain_until);
    /* an expired lock on a kept point is put back */
    p[0].retain_until = now - D;
    assert_int_equal(backup_gfs_decide(p, 1, &c, now, 30, d), 0);
    assert_int_equal(d[0].action, BACKUP_GFS_EXTEND);
    /* lock 4 days: window 2 days */
    p[0].retain_until = now + 2 * D + 1;
    assert_int_equal(backup_gfs_decide(p, 1, &c, now, 4, d), 0);
    assert_int_equal(d[0].action, BACKUP_GFS_KEEP);
    p[0].retain_until = now + 2 * D - 1;
    assert_int_equal(backup_gfs_decide(p, 1, &c, now, 4, d), 0);
    assert_int_equal(d[0].action, BACKUP_GFS_EXTEND);
    /* no lock configured: never extended */
    p[0].retain_until = 0;
    assert_int_equal(backup_gfs_decide(p, 1, &c, now, 0, d), 0);
    assert_int_equal(d[0].action, BACKUP_GFS_KEEP);
    /* a lock far in the future (set by hand) is never shortened */
    p[0].retain_until = now + 3650 * D;
    assert_int_equal(backup_gfs_decide(p, 1, &c, now, 30, d), 0);
    assert_int_equal(d[0].action, BACKUP_GFS_KEEP);
}

/* The window: lock/2 clamped to [1 h, 7 d], or the margin when it is longer. */
static void test_extend_window(void **state)
{
    (void)state;
    assert_int_equal(backup_gfs_extend_window(30, 0), 7 * D);
    assert_int_equal(backup_gfs_extend_window(14, 0), 7 * D);
    assert_int_equal(backup_gfs_extend_window(13, 0), 13 * D / 2);
    assert_int_equal(backup_gfs_extend_window(1, 0), 12 * H);
    assert_int_equal(backup_gfs_extend_window(0, 0), H);
    assert_int_equal(backup_gfs_extend_window(1, -5), 12 * H);
    /* margin one second shorter than, equal to, and one second longer than the window */
    assert_int_equal(backup_gfs_extend_window(30, 7 * D - 1), 7 * D);
    assert_int_equal(backup_gfs_extend_window(30, 7 * D), 7 * D);
    assert_int_equal(backup_gfs_extend_window(30, 7 * D + 1), 7 * D + 1);
    assert_int_equal(backup_gfs_extend_window(1, 36 * H), 36 * H);
}

/* With the executor's margin (6 h interval: 2 x 6 h + 1 day = 36 h): a kept point is
 * extended exactly when its lock ends less than the window from now, on both sides of
 * each boundary, and a lock shorter than the margin is renewed to now + margin. */
static void test_extend_margin_boundaries(void **state)
{
    struct backup_gfs_point p[1] = {{T(2026, 1, 1, 0), 0, true}};
    struct backup_gfs_decision d[1];
    struct backup_gfs_counts c = {0, 0, 0, 12, 0};
    time_t now = T(2026, 3, 1, 0);
    int64_t m = backup_maint_margin(6 * H);

    (void)state;
    assert_int_equal(m, 36 * H);
    /* lock 1 day < margin: window = margin; the new date is now + margin */
    p[0].retain_until = now + m;
    assert_int_equal(backup_gfs_decide_margin(p, 1, &c, now, 1, m, d), 0);
    assert_int_equal(d[0].action, BACKUP_GFS_KEEP);
    p[0].retain_until = now + m - 1;
    assert_int_equal(backup_gfs_decide_margin(p, 1, &c, now, 1, m, d), 0);
    assert_int_equal(d[0].action, BACKUP_GFS_EXTEND);
    assert_int_equal((long long)d[0].new_retain_until, (long long)(now + m));
    /* without the margin the same point waits (window 12 h): the margin is what keeps a
     * 1-day lock from lapsing between two 6-hourly passes */
    assert_int_equal(backup_gfs_decide(p, 1, &c, now, 1, d), 0);
    assert_int_equal(d[0].action, BACKUP_GFS_KEEP);
    /* lock 30 days > margin: the 7-day window rules, the new date is now + 30 days */
    p[0].retain_until = now + 7 * D;
    assert_int_equal(backup_gfs_decide_margin(p, 1, &c, now, 30, m, d), 0);
    assert_int_equal(d[0].action, BACKUP_GFS_KEEP);
    p[0].retain_until = now + 7 * D - 1;
    assert_int_equal(backup_gfs_decide_margin(p, 1, &c, now, 30, m, d), 0);
    assert_int_equal(d[0].action, BACKUP_GFS_EXTEND);
    assert_int_equal((long long)d[0].new_retain_until, (long long)(now + 30 * D));
    /* weekly passes: margin 15 days > the 7-day window */
    m = backup_maint_margin(7 * D);
    assert_int_equal(m, 15 * D);
    p[0].retain_until = now + 15 * D;
    assert_int_equal(backup_gfs_decide_margin(p, 1, &c, now, 30, m, d), 0);
    assert_int_equal(d[0].action, BACKUP_GFS_KEEP);
    p[0].retain_until = now + 15 * D - 1;
    assert_int_equal(backup_gfs_decide_margin(p, 1, &c, now, 30, m, d), 0);
    assert_int_equal(d[0].action, BACKUP_GFS_EXTEND);
    assert_int_equal((long long)d[0].new_retain_until, (long long)(now + 30 * D));
    /* the margin never locks a policy without a lock */
    p[0].retain_until = 0;
    assert_int_equal(backup_gfs_decide_margin(p, 1, &c, now, 0, m, d), 0);
    assert_int_equal(d[0].action, BACKUP_GFS_KEEP);
    /* and never shortens one set by hand */
    p[0].retain_until = now + 3650 * D;
    assert_int_equal(backup_gfs_decide_margin(p, 1, &c, now, 30, m, d), 0);
    assert_int_equal(d[0].action, BACKUP_GFS_KEEP);
}

/* The margin changes only how kept points are extended: past the counts a locked point
 * is RETAINED (one second before its date) and EXPIREs at it, never extended. */
static void test_margin_not_kept(void **state)
{
    time_t now = T(2026, 11, 22, 12);
    struct backup_gfs_point p[2] = {{now - H, now + D, true}, {now - 2 * D, now + 1, true}};
    struct backup_gfs_decision d[2];
    struct backup_gfs_counts c = {1, 0, 0, 0, 0};
    int64_t m = backup_maint_margin(6 * H);

    (void)state;
    assert_int_equal(backup_gfs_decide_margin(p, 2, &c, now, 1, m, d), 0);
    assert_int_equal(d[0].action, BACKUP_GFS_EXTEND);
    assert_int_equal(d[1].action, BACKUP_GFS_RETAINED);
    assert_int_equal((long long)d[1].new_retain_until, 0);
    p[1].retain_until = now;
    assert_int_equal(backup_gfs_decide_margin(p, 2, &c, now, 1, m, d), 0);
    assert_int_equal(d[1].action, BACKUP_GFS_EXPIRE);
}

static void test_partial(void **state)
{
    time_t now = T(2026, 11, 22, 12);
    struct backup_gfs_point p[4] = {
        {now - BACKUP_GFS_PARTIAL_GRACE + 1, 0, false}, /* young partial: keep */
        {now - BACKUP_GFS_PARTIAL_GRACE, 0, false},     /* at the grace: expire */
        {now - 2 * D, now + D, false},                  /* old, locked: retained */
        {now - 3 * H, 0, true},
    };
    struct backup_gfs_decision d[4];
    struct backup_gfs_counts c = {10, 10, 10, 10, 10};

    (void)state;
    assert_int_equal(backup_gfs_decide(p, 4, &c, now, 30, d), 0);
    assert_int_equal(d[0].action, BACKUP_GFS_KEEP);
    assert_int_equal(d[0].reasons, BACKUP_GFS_R_PARTIAL_GRACE);
    assert_int_equal(d[1].action, BACKUP_GFS_EXPIRE);
    assert_int_equal(d[2].action, BACKUP_GFS_RETAINED);
    /* partial points never take a GFS slot: the complete point is the newest hourly */
    assert_true(d[3].reasons & BACKUP_GFS_R_HOURLY);
}

static void test_zero_counts_expire_after_lock(void **state)
{
    time_t now = T(2026, 11, 22, 12);
    struct backup_gfs_point p[2] = {{now - H, now + 29 * D, true},
                                    {now - 40 * D, now - 10 * D, true}};
    struct backup_gfs_decision d[2];
    struct backup_gfs_counts c = {0, 0, 0, 0, 0};

    (void)state;
    assert_int_equal(backup_gfs_decide(p, 2, &c, now, 30, d), 0);
    assert_int_equal(d[0].action, BACKUP_GFS_RETAINED);
    assert_int_equal(d[1].action, BACKUP_GFS_EXPIRE);
}

/* The decision does not depend on input order. */
static void test_order_independent(void **state)
{
    struct backup_gfs_point p[30], q[30];
    struct backup_gfs_decision dp[30], dq[30];
    struct backup_gfs_counts c = {3, 5, 2, 2, 1};
    time_t now = T(2026, 11, 22, 12);
    int i;

    (void)state;
    for (i = 0; i < 30; i++) {
        p[i].created = now - (time_t)(i * 7 + 1) * H * 5;
        p[i].retain_until = p[i].created + 10 * D;
        p[i].complete = (i % 7) != 3;
        q[29 - i] = p[i];
    }
    assert_int_equal(backup_gfs_decide(p, 30, &c, now, 10, dp), 0);
    assert_int_equal(backup_gfs_decide(q, 30, &c, now, 10, dq), 0);
    for (i = 0; i < 30; i++) {
        assert_int_equal(dp[i].action, dq[29 - i].action);
        assert_int_equal(dp[i].reasons, dq[29 - i].reasons);
    }
}

static void test_oom(void **state)
{
    struct backup_gfs_point p[1] = {{1000, 0, true}};
    struct backup_gfs_decision d[1];
    struct backup_gfs_counts c = {1, 0, 0, 0, 0};

    (void)state;
    cm_alloc_fault_set(1);
    assert_int_equal(backup_gfs_decide(p, 1, &c, 2000, 0, d), CM_ENOMEM);
    cm_alloc_fault_set(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_invalid),
        cmocka_unit_test(test_hourly_count_boundary),
        cmocka_unit_test(test_newest_in_bucket),
        cmocka_unit_test(test_daily_weekly_monthly),
        cmocka_unit_test(test_yearly),
        cmocka_unit_test(test_locked_is_retained),
        cmocka_unit_test(test_extend),
        cmocka_unit_test(test_extend_window),
        cmocka_unit_test(test_extend_margin_boundaries),
        cmocka_unit_test(test_margin_not_kept),
        cmocka_unit_test(test_partial),
        cmocka_unit_test(test_zero_counts_expire_after_lock),
        cmocka_unit_test(test_order_independent),
        cmocka_unit_test(test_oom),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
