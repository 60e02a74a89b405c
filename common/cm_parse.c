/* SPDX-License-Identifier: Apache-2.0 */
/* cm_parse.c - strict number parsers that report errors (instead of atoi/sscanf) and
 * the value of a hexadecimal digit. */
#include "cm.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int cm_parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (n == 0)
        return CM_EPARSE;
    for (i = 0; i < n; i++) {
        unsigned d;

        if (s[i] < '0' || s[i] > '9')
            return CM_EPARSE;
        d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return CM_ETOOBIG;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int cm_parse_i64(const char *s, size_t n, int64_t *out)
{
    bool neg = false;
    uint64_t v;
    int rc;

    if (n > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        s++;
        n--;
    }
    rc = cm_parse_u64(s, n, &v);
    if (rc != 0)
        return rc;
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return CM_ETOOBIG;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX)
            return CM_ETOOBIG;
        *out = (int64_t)v;
    }
    return 0;
}

int cm_parse_double(const char *s, size_t n, double *out)
{
    char tmp[128];
    char *end;
    double v;
    size_t i;

    if (n == 0 || n >= sizeof(tmp))
        return CM_EPARSE;
    /* strtod accepts hex, inf, nan and leading spaces; JSON-ish numbers only here. */
    for (i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-' || s[i] == '+' ||
              s[i] == 'e' || s[i] == 'E'))
            return CM_EPARSE;
    }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    errno = 0;
    v = strtod(tmp, &end);
    if (end != tmp + n || errno == ERANGE || !isfinite(v))
        return CM_EPARSE;
    *out = v;
    return 0;
}

int cm_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t cm_utf8_put(char *w, uint32_t cp)
{
    if (cp < 0x80) {
        w[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        w[0] = (char)(0xC0 | (cp >> 6));
        w[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        w[0] = (char)(0xE0 | (cp >> 12));
        w[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        w[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    w[0] = (char)(0xF0 | (cp >> 18));
    w[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    w[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    w[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}
