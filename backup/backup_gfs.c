/* SPDX-License-Identifier: Apache-2.0 */
/* backup_gfs.c - grandfather-father-son retention: a pure function of (restore
 * points, counts, now, lock days) to keep / extend / retained / expire decisions. */
#include "backup/backup.h"

#include <string.h>

#define GFS_KINDS 5

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The bucket of t for kind k: hour, day, ISO week (Monday start), month, year. */
static int64_t bucket(int k, time_t t)
{
    int64_t days = floor_div((int64_t)t, 86400);
    struct tm tm;

    switch (k) {
    case 0:
        return floor_div((int64_t)t, 3600);
    case 1:
        return days;
    case 2:
        /* 1970-01-01 was a Thursday; the Monday before it is day -3. */
        return floor_div(days + 3, 7);
    default:
        memset(&tm, 0, sizeof(tm));
        if (gmtime_r(&t, &tm) == NULL)
            return 0;
        return k == 3 ? (int64_t)tm.tm_year * 12 + tm.tm_mon : (int64_t)tm.tm_year;
    }
}

const char *backup_gfs_action_name(enum backup_gfs_action a)
{
    switch (a) {
    case BACKUP_GFS_KEEP:
        return "keep";
    case BACKUP_GFS_EXTEND:
        return "extend";
    case BACKUP_GFS_RETAINED:
        return "retained";
    case BACKUP_GFS_EXPIRE:
        return "expire";
    }
    return "unknown";
}

int64_t backup_gfs_extend_window(uint32_t lock_days, int64_t margin_s)
{
    int64_t window = (int64_t)lock_days * 86400 / 2;

    if (window > 7 * 86400)
        window = 7 * 86400;
    if (window < 3600)
        window = 3600;
    return margin_s > window ? margin_s : window;
}

int backup_gfs_decide(const struct backup_gfs_point *pts, size_t n,
                      const struct backup_gfs_counts *counts, time_t now, uint32_t lock_days,
                      struct backup_gfs_decision *out)
{
    return backup_gfs_decide_margin(pts, n, counts, now, lock_days, 0, out);
}

int backup_gfs_decide_margin(const struct backup_gfs_point *pts, size_t n,
                             const struct backup_gfs_counts *counts, time_t now, uint32_t lock_days,
                             int64_t margin_s, struct backup_gfs_decision *out)
{
    static const unsigned reason[GFS_KINDS] = {BACKUP_GFS_R_HOURLY, BACKUP_GFS_R_DAILY,
                                               BACKUP_GFS_R_WEEKLY, BACKUP_GFS_R_MONTHLY,
                                               BACKUP_GFS_R_YEARLY};
    uint32_t want[GFS_KINDS];
    size_t *order = NULL;
    size_t m = 0;
    size_t i;
    int k;
    int64_t lock_s = (int64_t)lock_days * 86400;
    int64_t window = backup_gfs_extend_window(lock_days, margin_s);

    if (n == 0)
        return 0;
    if (pts == NULL || counts == NULL || out == NULL)
        return CM_EINVAL;
    /* A lock shorter than the margin, renewed to now + lock_s, could lapse before the
     * next maintenance pass renews it again: renew to the margin then. */
    if (margin_s > lock_s)
        lock_s = margin_s;
    want[0] = counts->hourly;
    want[1] = counts->daily;
    want[2] = counts->weekly;
    want[3] = counts->monthly;
    want[4] = counts->yearly;
    memset(out, 0, n * sizeof(*out));
    order = cm_malloc(n * sizeof(*order));
    if (order == NULL)
        return CM_ENOMEM;
    /* Complete points, newest first (insertion sort: n is the points of one app). For
     * equal times the later index counts as newer, so the result is deterministic. */
    for (i = 0; i < n; i++) {
        size_t j;

        if (!pts[i].complete)
            continue;
        for (j = m; j > 0 && pts[order[j - 1]].created <= pts[i].created; j--)
            order[j] = order[j - 1];
        order[j] = i;
        m++;
    }
    for (k = 0; k < GFS_KINDS; k++) {
        uint32_t taken = 0;
        int64_t last = 0;
        bool have_last = false;

        for (i = 0; i < m && taken < want[k]; i++) {
            int64_t b = bucket(k, pts[order[i]].created);

            if (have_last && b == last)
                continue;
            out[order[i]].reasons |= reason[k];
            last = b;
            have_last = true;
            taken++;
        }
    }
    cm_free(order);
    for (i = 0; i < n; i++) {
        const struct backup_gfs_point *p = &pts[i];
        struct backup_gfs_decision *d = &out[i];
        bool locked = p->retain_until > now;

        if (!p->complete && p->created > now - BACKUP_GFS_PARTIAL_GRACE)
            d->reasons |= BACKUP_GFS_R_PARTIAL_GRACE;
        if (d->reasons != 0) {
            d->action = BACKUP_GFS_KEEP;
            if (p->complete && lock_days > 0 && (int64_t)p->retain_until - (int64_t)now < window) {
                time_t until = (time_t)((int64_t)now + lock_s);

                /* Only ever later: a lock is never shortened. */
                if (until > p->retain_until) {
                    d->action = BACKUP_GFS_EXTEND;
                    d->new_retain_until = until;
                }
            }
        } else {
            d->action = locked ? BACKUP_GFS_RETAINED : BACKUP_GFS_EXPIRE;
        }
    }
    return 0;
}
