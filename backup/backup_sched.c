/* SPDX-License-Identifier: Apache-2.0 */
/* backup_sched.c - when a capture is due (a BackupPolicy's cron and the newest restore
 * point) and when a maintenance pass is due, with its lock-extension margin: pure
 * functions of the clock, so the executor loop is testable. */
#include "backup/backup.h"
#include "policy/policy.h"

time_t backup_sched_due(const struct policy_cron *c, time_t last_run, time_t now)
{
    time_t prev;

    if (c == NULL)
        return -1;
    prev = policy_cron_prev(c, now);
    if (prev < 0 || prev <= last_run)
        return -1;
    return prev;
}

int64_t backup_maint_margin(uint64_t interval_s)
{
    if (interval_s == 0)
        interval_s = BACKUP_MAINT_INTERVAL_DEFAULT;
    if (interval_s > BACKUP_MAINT_INTERVAL_MAX)
        interval_s = BACKUP_MAINT_INTERVAL_MAX;
    return 2 * (int64_t)interval_s + 86400;
}

time_t backup_maint_next(time_t last_start, bool last_ok, uint64_t interval_s)
{
    uint64_t wait;

    if (last_start <= 0)
        return 0;
    if (interval_s == 0)
        interval_s = BACKUP_MAINT_INTERVAL_DEFAULT;
    if (interval_s > BACKUP_MAINT_INTERVAL_MAX)
        interval_s = BACKUP_MAINT_INTERVAL_MAX;
    wait = interval_s;
    /* A failed pass (bucket unreachable, credentials rotated) is retried soon: the
     * margin assumes at most one lost interval. */
    if (!last_ok && wait > BACKUP_MAINT_RETRY_S)
        wait = BACKUP_MAINT_RETRY_S;
    return (time_t)((int64_t)last_start + (int64_t)wait);
}

bool backup_maint_due(time_t last_start, bool last_ok, uint64_t interval_s, time_t now)
{
    if (last_start > 0 && now < last_start)
        return true;
    return now >= backup_maint_next(last_start, last_ok, interval_s);
}
