/* SPDX-License-Identifier: Apache-2.0 */
/* backup_sched.c - when a capture is due, from a BackupPolicy's cron and the newest
 * restore point: a pure function of the clock, so the executor loop is testable. */
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
