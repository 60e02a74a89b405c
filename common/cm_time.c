/* SPDX-License-Identifier: Apache-2.0 */
/* cm_time.c - clocks and RFC 3339 formatting/parsing in UTC, with no time-zone state. */
#include "cm.h"

#include <stdio.h>
#include <string.h>

int64_t cm_time_now_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t cm_time_mono_ns(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

time_t cm_time_from_utc(int year, int mon, int mday, int hour, int min, int sec)
{
    /* Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar. */
    int64_t y = (int64_t)year - (mon <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t m = mon;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + mday - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;

    return (time_t)(days * 86400 + hour * 3600 + min * 60 + sec);
}

const char *cm_time_format(time_t t, char *buf, size_t len)
{
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        if (len > 0)
            buf[0] = '\0';
    }
    return buf;
}

const char *cm_time_format_ms(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char base[32];

    if (gmtime_r(&t, &tm) == NULL || strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        if (len > 0)
            buf[0] = '\0';
        return buf;
    }
    (void)snprintf(buf, len, "%s.%03dZ", base, (int)(ms % 1000));
    return buf;
}

static int digits(const char *s, size_t n, size_t at, size_t count, int *out)
{
    int v = 0;
    size_t i;

    if (at + count > n)
        return CM_EPARSE;
    for (i = at; i < at + count; i++) {
        if (s[i] < '0' || s[i] > '9')
            return CM_EPARSE;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int cm_time_parse(const char *s, size_t n, time_t *out)
{
    int y, mo, d, h, mi, sec, oh = 0, om = 0;
    size_t i = 19;
    long off = 0;

    if (n < 20 || digits(s, n, 0, 4, &y) || s[4] != '-' || digits(s, n, 5, 2, &mo) || s[7] != '-' ||
        digits(s, n, 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s, n, 11, 2, &h) || s[13] != ':' || digits(s, n, 14, 2, &mi) || s[16] != ':' ||
        digits(s, n, 17, 2, &sec))
        return CM_EPARSE;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return CM_EPARSE;
    if (s[i] == '.') {
        i++;
        if (i >= n || s[i] < '0' || s[i] > '9')
            return CM_EPARSE;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        if (digits(s, n, i + 1, 2, &oh) || i + 3 >= n || s[i + 3] != ':' ||
            digits(s, n, i + 4, 2, &om) || oh > 23 || om > 59)
            return CM_EPARSE;
        off = (long)oh * 3600 + om * 60;
        if (s[i] == '-')
            off = -off;
        i += 6;
    } else {
        return CM_EPARSE;
    }
    if (i != n)
        return CM_EPARSE;
    *out = cm_time_from_utc(y, mo, d, h, mi, sec) - off;
    return 0;
}
