/* SPDX-License-Identifier: Apache-2.0 */
/* backup_json.c - non-allocating checks of untrusted manifest bytes before cJSON sees
 * them: JSON syntax with a nesting cap, and well-formed UTF-8. */
#include "backup/backup_int.h"

#include <string.h>

/* Why a second JSON check: cJSON returns NULL both for bad syntax and for a failed
 * allocation; running this first tells the two apart, so that OOM is reported as
 * CM_ENOMEM and never as "bad data". */

static size_t js_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

static bool js_lit(const char *s, size_t n, size_t *i, const char *lit)
{
    size_t l = strlen(lit);

    if (n - *i < l || memcmp(s + *i, lit, l) != 0)
        return false;
    *i += l;
    return true;
}

static bool js_string(const char *s, size_t n, size_t *i)
{
    size_t j = *i + 1;

    while (j < n) {
        unsigned char c = (unsigned char)s[j];

        if (c == '"') {
            *i = j + 1;
            return true;
        }
        if (c < 0x20)
            return false;
        if (c == '\\') {
            if (j + 1 >= n)
                return false;
            c = (unsigned char)s[j + 1];
            if (c == 'u') {
                size_t k;

                if (j + 6 > n)
                    return false;
                for (k = j + 2; k < j + 6; k++) {
                    char h = s[k];

                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
                          (h >= 'A' && h <= 'F')))
                        return false;
                }
                j += 6;
                continue;
            }
            if (strchr("\"\\/bfnrt", c) == NULL || c == '\0')
                return false;
            j += 2;
            continue;
        }
        j++;
    }
    return false;
}

static bool js_number(const char *s, size_t n, size_t *i)
{
    size_t j = *i;
    size_t d;

    if (j < n && s[j] == '-')
        j++;
    if (j < n && s[j] == '0') {
        j++;
    } else {
        for (d = j; j < n && s[j] >= '0' && s[j] <= '9'; j++)
            ;
        if (j == d)
            return false;
    }
    if (j < n && s[j] == '.') {
        for (d = ++j; j < n && s[j] >= '0' && s[j] <= '9'; j++)
            ;
        if (j == d)
            return false;
    }
    if (j < n && (s[j] == 'e' || s[j] == 'E')) {
        j++;
        if (j < n && (s[j] == '+' || s[j] == '-'))
            j++;
        for (d = j; j < n && s[j] >= '0' && s[j] <= '9'; j++)
            ;
        if (j == d)
            return false;
    }
    *i = j;
    return true;
}

/* Iterative: a stack of container kinds ('{' or '['). */
bool bk_json_valid(const char *s, size_t n)
{
    char stack[BK_JSON_MAX_DEPTH];
    int depth = 0;
    size_t i = js_ws(s, n, 0);

    for (;;) {
        /* expect a value at i */
        if (i >= n)
            return false;
        if (s[i] == '{' || s[i] == '[') {
            if (depth == BK_JSON_MAX_DEPTH)
                return false;
            stack[depth++] = s[i++];
            i = js_ws(s, n, i);
            if (i < n && ((stack[depth - 1] == '{' && s[i] == '}') ||
                          (stack[depth - 1] == '[' && s[i] == ']'))) {
                i++;
                depth--;
                goto after_value;
            }
            if (stack[depth - 1] == '{')
                goto object_key;
            continue;
        }
        if (s[i] == '"') {
            if (!js_string(s, n, &i))
                return false;
        } else if (s[i] == 't') {
            if (!js_lit(s, n, &i, "true"))
                return false;
        } else if (s[i] == 'f') {
            if (!js_lit(s, n, &i, "false"))
                return false;
        } else if (s[i] == 'n') {
            if (!js_lit(s, n, &i, "null"))
                return false;
        } else if (!js_number(s, n, &i)) {
            return false;
        }
    after_value:
        i = js_ws(s, n, i);
        if (depth == 0)
            return i == n;
        if (i < n && s[i] == ',') {
            i = js_ws(s, n, i + 1);
            if (stack[depth - 1] == '{')
                goto object_key;
            continue;
        }
        if (i < n && ((stack[depth - 1] == '{' && s[i] == '}') ||
                      (stack[depth - 1] == '[' && s[i] == ']'))) {
            i++;
            depth--;
            goto after_value;
        }
        return false;
    object_key:
        if (i >= n || s[i] != '"' || !js_string(s, n, &i))
            return false;
        i = js_ws(s, n, i);
        if (i >= n || s[i] != ':')
            return false;
        i = js_ws(s, n, i + 1);
    }
}

/* Well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF). The
 * writer escapes malformed bytes, which would not read back as the same string. */
bool bk_utf8_ok(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;

    while (*s != 0) {
        unsigned c = *s;
        size_t n;
        unsigned cp;
        size_t i;

        if (c < 0x80) {
            s++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        for (i = 1; i <= n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        s += n + 1;
    }
    return true;
}
