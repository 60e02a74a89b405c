/* SPDX-License-Identifier: Apache-2.0 */
/* kube_fake_select.c - label selectors for the fake kube-apiserver: equality
 * (=, ==, !=) and set-based (in, notin, exists, !key) requirements, comma = AND. */
#include "kube_fake_int.h"

#include "common/cm.h"

#include <stdio.h>
#include <string.h>

static bool key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == '/';
}

static bool value_ok(const char *s, size_t n)
{
    size_t i;

    if (n > 63)
        return false;
    for (i = 0; i < n; i++) {
        if (!key_char(s[i]) || s[i] == '/')
            return false;
    }
    return true;
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static const cJSON *label_get(const cJSON *labels, const char *k, size_t kn)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, labels)
    {
        if (it->string != NULL && strlen(it->string) == kn && memcmp(it->string, k, kn) == 0)
            return it;
    }
    return NULL;
}

static bool label_is(const cJSON *l, const char *v, size_t vn)
{
    return cJSON_IsString(l) && strlen(l->valuestring) == vn && memcmp(l->valuestring, v, vn) == 0;
}

/* One requirement in r[0..end); returns 1, 0 or -1 (msg set). */
static int one_req(const char *r, const char *end, const cJSON *labels, char *msg, size_t ml)
{
    const char *p = skip_ws(r, end);
    const char *k;
    size_t kn;
    bool neg = false;
    const cJSON *l;

    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (p == end) {
        (void)snprintf(msg, ml, "unable to parse requirement: empty requirement");
        return -1;
    }
    if (*p == '!') {
        neg = true;
        p = skip_ws(p + 1, end);
    }
    k = p;
    while (p < end && key_char(*p))
        p++;
    kn = (size_t)(p - k);
    if (kn == 0 || kn > 316) {
        (void)snprintf(msg, ml, "unable to parse requirement: invalid label key \"%.*s\"",
                       (int)(end - r), r);
        return -1;
    }
    l = label_get(labels, k, kn);
    p = skip_ws(p, end);
    if (neg) {
        if (p != end) {
            (void)snprintf(msg, ml, "unable to parse requirement: \"!\" takes only a key");
            return -1;
        }
        return l == NULL;
    }
    if (p == end)
        return l != NULL;
    if (*p == '=' || (*p == '!' && p + 1 < end && p[1] == '=')) {
        bool ne = *p == '!';
        const char *v;

        p += (ne || (p + 1 < end && p[1] == '=')) ? 2 : 1;
        v = skip_ws(p, end);
        if (!value_ok(v, (size_t)(end - v))) {
            (void)snprintf(msg, ml, "unable to parse requirement: invalid label value \"%.*s\"",
                           (int)(end - v), v);
            return -1;
        }
        return ne ? !label_is(l, v, (size_t)(end - v)) : label_is(l, v, (size_t)(end - v));
    }
    {
        bool notin;
        bool any = false;
        bool hit = false;

        if ((size_t)(end - p) > 5 && strncmp(p, "notin", 5) == 0 && (p[5] == ' ' || p[5] == '(')) {
            notin = true;
            p += 5;
        } else if ((size_t)(end - p) > 2 && strncmp(p, "in", 2) == 0 &&
                   (p[2] == ' ' || p[2] == '(')) {
            notin = false;
            p += 2;
        } else {
            (void)snprintf(msg, ml, "unable to parse requirement: unknown operator in \"%.*s\"",
                           (int)(end - r), r);
            return -1;
        }
        p = skip_ws(p, end);
        if (p == end || *p != '(' || end[-1] != ')') {
            (void)snprintf(msg, ml, "unable to parse requirement: expected \"(values)\"");
            return -1;
        }
        p++;
        end--;
        while (p <= end) {
            const char *c = memchr(p, ',', (size_t)(end - p));
            const char *ve = c ? c : end;
            const char *vs = skip_ws(p, ve);
            const char *vend = ve;

            while (vend > vs && (vend[-1] == ' ' || vend[-1] == '\t'))
                vend--;
            if (vend == vs || !value_ok(vs, (size_t)(vend - vs))) {
                (void)snprintf(msg, ml, "unable to parse requirement: bad value in set");
                return -1;
            }
            any = true;
            if (label_is(l, vs, (size_t)(vend - vs)))
                hit = true;
            if (c == NULL)
                break;
            p = c + 1;
        }
        if (!any) {
            (void)snprintf(msg, ml, "unable to parse requirement: empty set");
            return -1;
        }
        return notin ? !hit : hit;
    }
}

int fk_label_match(const char *selector, const cJSON *labels, char *msg, size_t msglen)
{
    const char *p = selector;
    const char *end = selector + strlen(selector);
    int result = 1;

    if (skip_ws(p, end) == end)
        return 1;
    while (p <= end) {
        const char *q = p;
        int depth = 0;
        int r;

        while (q < end && (depth > 0 || *q != ',')) {
            if (*q == '(')
                depth++;
            else if (*q == ')')
                depth--;
            q++;
        }
        r = one_req(p, q, labels, msg, msglen);
        if (r < 0)
            return -1;
        if (r == 0)
            result = 0;
        if (q == end)
            break;
        p = q + 1;
    }
    return result;
}
