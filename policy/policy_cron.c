/* SPDX-License-Identifier: Apache-2.0 */
/* policy_cron.c - five-field cron schedules and @macros: parse, next and previous match,
 * in UTC with the time as a parameter (no clock, no time zone database). */
#include "policy.h"

#include <string.h>

#define CRON_MAX_LEN 256
#define CRON_SPAN_MINUTES (8LL * 366 * 24 * 60) /* search horizon: 8 years */

struct cron_field {
    const char *name;
    int lo, hi;
    const char *const *names; /* 3-letter names, index = value - names_base */
    int names_base;
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const wday_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const struct cron_field fields[5] = {
    {"minute", 0, 59, NULL, 0},           {"hour", 0, 23, NULL, 0},
    {"day-of-month", 1, 31, NULL, 0},     {"month", 1, 12, month_names, 1},
    {"day-of-week", 0, 7, wday_names, 0},
};

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* A number or (for month/weekday) a three-letter name. */
static int parse_value(const struct cron_field *f, const char *s, size_t n, int *out)
{
    uint64_t v;
    size_t i;

    if (n == 3 && f->names != NULL && !(s[0] >= '0' && s[0] <= '9')) {
        for (i = 0; f->names[i] != NULL; i++) {
            if (lower(s[0]) == f->names[i][0] && lower(s[1]) == f->names[i][1] &&
                lower(s[2]) == f->names[i][2]) {
                *out = (int)i + f->names_base;
                return 0;
            }
        }
        return CM_EPARSE;
    }
    if (n == 0 || n > 2 || cm_parse_u64(s, n, &v) != 0 || s[0] == '+')
        return CM_EPARSE;
    if ((int)v < f->lo || (int)v > f->hi)
        return CM_EPARSE;
    *out = (int)v;
    return 0;
}

/* One comma-separated item: "*", "a", "a-b", each optionally "/step". */
static int parse_item(const struct cron_field *f, const char *s, size_t n, uint64_t *bits)
{
    const char *slash = memchr(s, '/', n);
    size_t rn = slash != NULL ? (size_t)(slash - s) : n;
    int lo;
    int hi;
    int step = 1;
    int v;

    if (slash != NULL) {
        uint64_t st;
        size_t sn = n - rn - 1;

        if (sn == 0 || sn > 2 || cm_parse_u64(slash + 1, sn, &st) != 0 || slash[1] == '+' ||
            st == 0 || (int)st > f->hi)
            return CM_EPARSE;
        step = (int)st;
    }
    if (rn == 1 && s[0] == '*') {
        lo = f->lo;
        hi = f->hi == 7 ? 6 : f->hi;
    } else {
        const char *dash = memchr(s, '-', rn);

        if (dash != NULL) {
            if (parse_value(f, s, (size_t)(dash - s), &lo) != 0 ||
                parse_value(f, dash + 1, rn - (size_t)(dash - s) - 1, &hi) != 0)
                return CM_EPARSE;
            if (hi < lo)
                return CM_EPARSE;
        } else {
            if (parse_value(f, s, rn, &lo) != 0)
                return CM_EPARSE;
            /* "a/step" runs from a to the end of the range, as in Vixie cron. */
            hi = slash != NULL ? f->hi : lo;
        }
    }
    for (v = lo; v <= hi; v += step)
        *bits |= (uint64_t)1 << (f->hi == 7 && v == 7 ? 0 : v);
    return 0;
}

static int parse_field(const struct cron_field *f, const char *s, size_t n, uint64_t *bits)
{
    size_t i = 0;

    *bits = 0;
    while (i <= n) {
        const char *comma = memchr(s + i, ',', n - i);
        size_t end = comma != NULL ? (size_t)(comma - s) : n;

        if (end == i || parse_item(f, s + i, end - i, bits) != 0)
            return CM_EPARSE;
        i = end + 1;
        if (comma == NULL)
            break;
    }
    return 0;
}

static const struct {
    const char *name;
    const char *expansion;
} macros[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

int policy_cron_parse(const char *s, struct policy_cron *out, struct cm_err *err)
{
    struct policy_cron c;
    const char *start[5];
    size_t len[5];
    size_t n;
    size_t i;
    int nf = 0;

    if (s == NULL)
        return cm_err_set(err, CM_EPARSE, "empty schedule");
    n = strlen(s);
    if (n > CRON_MAX_LEN)
        return cm_err_set(err, CM_EPARSE, "schedule longer than %d bytes", CRON_MAX_LEN);
    if (s[0] == '@') {
        for (i = 0; i < CM_ARRAY_LEN(macros); i++) {
            if (strcmp(s, macros[i].name) == 0)
                return policy_cron_parse(macros[i].expansion, out, err);
        }
        return cm_err_set(err, CM_EPARSE,
                          "unknown schedule macro \"%.40s\" (use @hourly, @daily, @weekly, "
                          "@monthly or @yearly)",
                          s);
    }
    for (i = 0; i < n;) {
        size_t j;

        if (s[i] == ' ' || s[i] == '\t') {
            i++;
            continue;
        }
        for (j = i; j < n && s[j] != ' ' && s[j] != '\t'; j++)
            ;
        if (nf == 5)
            return cm_err_set(err, CM_EPARSE, "schedule has more than 5 fields");
        start[nf] = s + i;
        len[nf] = j - i;
        nf++;
        i = j;
    }
    if (nf != 5)
        return cm_err_set(err, CM_EPARSE,
                          "schedule needs 5 fields (minute hour day-of-month month "
                          "day-of-week), got %d",
                          nf);
    memset(&c, 0, sizeof(c));
    for (i = 0; i < 5; i++) {
        uint64_t bits;

        if (parse_field(&fields[i], start[i], len[i], &bits) != 0)
            return cm_err_set(err, CM_EPARSE, "bad %s field \"%.*s\"", fields[i].name,
                              (int)(len[i] > 40 ? 40 : len[i]), start[i]);
        switch (i) {
        case 0:
            c.minutes = bits;
            break;
        case 1:
            c.hours = (uint32_t)bits;
            break;
        case 2:
            c.mdays = (uint32_t)bits;
            break;
        case 3:
            c.months = (uint16_t)bits;
            break;
        default:
            c.wdays = (uint8_t)bits;
            break;
        }
    }
    /* Vixie cron: a field that starts with '*' leaves the other day field in charge. */
    c.mday_star = start[2][0] == '*';
    c.wday_star = start[4][0] == '*';
    *out = c;
    return 0;
}

/* ---- civil calendar (Howard Hinnant's days-from-civil algorithms) ---- */

struct civil {
    int64_t year;
    int mon, mday, hour, min, wday;
};

static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era;
    int64_t yoe;
    int64_t doy;
    int64_t doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_minutes(int64_t mins, struct civil *c)
{
    int64_t days = mins >= 0 ? mins / 1440 : -((-mins + 1439) / 1440);
    int64_t rem = mins - days * 1440;
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;

    c->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    c->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
    c->year = yoe + era * 400 + (c->mon <= 2);
    c->hour = (int)(rem / 60);
    c->min = (int)(rem % 60);
    c->wday = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
}

static int64_t civil_to_minutes(int64_t y, int mon, int mday, int hour, int min)
{
    return days_from_civil(y, mon, mday) * 1440 + hour * 60 + min;
}

static bool day_matches(const struct policy_cron *c, const struct civil *t)
{
    bool dom = (c->mdays >> t->mday) & 1u;
    bool dow = (c->wdays >> t->wday) & 1u;

    if (c->mday_star || c->wday_star)
        return dom && dow;
    return dom || dow;
}

time_t policy_cron_next(const struct policy_cron *c, time_t after)
{
    int64_t m = (int64_t)after >= 0 ? (int64_t)after / 60 : -((-(int64_t)after + 59) / 60);
    int64_t limit;
    struct civil t;

    if (c->minutes == 0 || c->hours == 0 || c->mdays == 0 || c->months == 0 || c->wdays == 0)
        return -1;
    m++;
    limit = m + CRON_SPAN_MINUTES;
    while (m <= limit) {
        civil_from_minutes(m, &t);
        if (!((c->months >> t.mon) & 1u)) {
            m = t.mon == 12 ? civil_to_minutes(t.year + 1, 1, 1, 0, 0)
                            : civil_to_minutes(t.year, t.mon + 1, 1, 0, 0);
            continue;
        }
        if (!day_matches(c, &t)) {
            m = civil_to_minutes(t.year, t.mon, t.mday, 0, 0) + 1440;
            continue;
        }
        if (!((c->hours >> t.hour) & 1u)) {
            m = m - t.min + 60;
            continue;
        }
        if (!((c->minutes >> t.min) & 1u)) {
            m++;
            continue;
        }
        return (time_t)(m * 60);
    }
    return -1;
}

time_t policy_cron_prev(const struct policy_cron *c, time_t at)
{
    int64_t m = (int64_t)at >= 0 ? (int64_t)at / 60 : -((-(int64_t)at + 59) / 60);
    int64_t limit = m - CRON_SPAN_MINUTES;
    struct civil t;

    if (c->minutes == 0 || c->hours == 0 || c->mdays == 0 || c->months == 0 || c->wdays == 0)
        return -1;
    while (m >= limit) {
        civil_from_minutes(m, &t);
        if (!((c->months >> t.mon) & 1u)) {
            /* last minute of the previous month */
            m = civil_to_minutes(t.year, t.mon, 1, 0, 0) - 1;
            continue;
        }
        if (!day_matches(c, &t)) {
            m = civil_to_minutes(t.year, t.mon, t.mday, 0, 0) - 1;
            continue;
        }
        if (!((c->hours >> t.hour) & 1u)) {
            m = m - t.min - 1;
            continue;
        }
        if (!((c->minutes >> t.min) & 1u)) {
            m--;
            continue;
        }
        return (time_t)(m * 60);
    }
    return -1;
}
