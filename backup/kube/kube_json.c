/* SPDX-License-Identifier: Apache-2.0 */
/* kube_json.c - parsing API responses: a strict RFC 8259 validator with a depth cap
 * runs first, so that when cJSON then fails on a valid document the cause can only
 * be memory (CM_ENOMEM, not a misleading CM_EPROTO); and Status objects. */
#include "kube_int.h"

#include <stdio.h>
#include <string.h>

struct jv {
    const char *s;
    size_t n;
    size_t i;
    unsigned depth;
    bool too_deep;
};

static void jv_ws(struct jv *v)
{
    while (v->i < v->n &&
           (v->s[v->i] == ' ' || v->s[v->i] == '\t' || v->s[v->i] == '\n' || v->s[v->i] == '\r'))
        v->i++;
}

/* Reads the 4 hex digits after "\u" at v->i; -1 when malformed. */
static long jv_u4(struct jv *v)
{
    long x = 0;
    int k;

    if (v->n - v->i < 4)
        return -1;
    for (k = 0; k < 4; k++) {
        int h = cm_hexval(v->s[v->i + (size_t)k]);

        if (h < 0)
            return -1;
        x = x * 16 + h;
    }
    v->i += 4;
    return x;
}

static bool jv_string(struct jv *v)
{
    v->i++; /* opening quote */
    while (v->i < v->n) {
        unsigned char ch = (unsigned char)v->s[v->i++];

        if (ch == '"')
            return true;
        if (ch < 0x20)
            return false;
        if (ch != '\\')
            continue;
        if (v->i >= v->n)
            return false;
        ch = (unsigned char)v->s[v->i++];
        if (ch == 'u') {
            long u = jv_u4(v);

            if (u < 0 || (u >= 0xDC00 && u <= 0xDFFF))
                return false; /* cJSON rejects a lone low surrogate */
            if (u >= 0xD800 && u <= 0xDBFF) {
                long lo;

                /* cJSON needs the low half right after the high half. */
                if (v->n - v->i < 2 || v->s[v->i] != '\\' || v->s[v->i + 1] != 'u')
                    return false;
                v->i += 2;
                lo = jv_u4(v);
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return false;
            }
        } else if (strchr("\"\\/bfnrt", (int)ch) == NULL || ch == '\0') {
            return false;
        }
    }
    return false;
}

static bool jv_digits(struct jv *v)
{
    size_t start = v->i;

    while (v->i < v->n && v->s[v->i] >= '0' && v->s[v->i] <= '9')
        v->i++;
    return v->i > start;
}

static bool jv_number_body(struct jv *v);

/* cJSON copies at most 63 characters of a number: longer ones are refused here so a
 * cJSON failure on validated text still means memory. */
static bool jv_number(struct jv *v)
{
    size_t start = v->i;

    return jv_number_body(v) && v->i - start <= 63;
}

static bool jv_number_body(struct jv *v)
{
    if (v->s[v->i] == '-')
        v->i++;
    if (v->i < v->n && v->s[v->i] == '0')
        v->i++;
    else if (!jv_digits(v))
        return false;
    if (v->i < v->n && v->s[v->i] == '.') {
        v->i++;
        if (!jv_digits(v))
            return false;
    }
    if (v->i < v->n && (v->s[v->i] == 'e' || v->s[v->i] == 'E')) {
        v->i++;
        if (v->i < v->n && (v->s[v->i] == '+' || v->s[v->i] == '-'))
            v->i++;
        if (!jv_digits(v))
            return false;
    }
    return true;
}

static bool jv_lit(struct jv *v, const char *lit)
{
    size_t l = strlen(lit);

    if (v->n - v->i < l || memcmp(v->s + v->i, lit, l) != 0)
        return false;
    v->i += l;
    return true;
}

static bool jv_value(struct jv *v);

static bool jv_container(struct jv *v, char close)
{
    bool first = true;

    if (++v->depth > KUBE_MAX_JSON_DEPTH) {
        v->too_deep = true;
        return false;
    }
    v->i++;
    for (;;) {
        jv_ws(v);
        if (v->i >= v->n)
            return false;
        if (v->s[v->i] == close && first) {
            v->i++;
            break;
        }
        if (close == '}') {
            if (v->s[v->i] != '"' || !jv_string(v))
                return false;
            jv_ws(v);
            if (v->i >= v->n || v->s[v->i] != ':')
                return false;
            v->i++;
        }
        if (!jv_value(v))
            return false;
        jv_ws(v);
        if (v->i >= v->n)
            return false;
        if (v->s[v->i] == ',') {
            v->i++;
            first = false;
            continue;
        }
        if (v->s[v->i] != close)
            return false;
        v->i++;
        break;
    }
    v->depth--;
    return true;
}

static bool jv_value(struct jv *v)
{
    jv_ws(v);
    if (v->i >= v->n)
        return false;
    switch (v->s[v->i]) {
    case '{':
        return jv_container(v, '}');
    case '[':
        return jv_container(v, ']');
    case '"':
        return jv_string(v);
    case 't':
        return jv_lit(v, "true");
    case 'f':
        return jv_lit(v, "false");
    case 'n':
        return jv_lit(v, "null");
    default:
        return (v->s[v->i] == '-' || (v->s[v->i] >= '0' && v->s[v->i] <= '9')) && jv_number(v);
    }
}

int kube_json_parse(const char *buf, size_t len, cJSON **out, struct cm_err *err)
{
    struct jv v = {buf, len, 0, 0, false};
    const char *end = NULL;
    cJSON *j;

    if (len == 0)
        return cm_err_set(err, CM_EPROTO, "kube: empty response body where JSON was expected");
    if (!jv_value(&v)) {
        if (v.too_deep)
            return cm_err_set(err, CM_EPROTO, "kube: response JSON nested deeper than %d",
                              KUBE_MAX_JSON_DEPTH);
        return cm_err_set(err, CM_EPROTO,
                          "kube: response is not valid JSON (at byte %zu of "
                          "%zu)",
                          v.i, len);
    }
    jv_ws(&v);
    if (v.i != len)
        return cm_err_set(err, CM_EPROTO,
                          "kube: trailing bytes after the JSON response (at "
                          "byte %zu)",
                          v.i);
    j = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (j == NULL) /* the text is valid JSON, so cJSON ran out of memory */
        return cm_err_set(err, CM_ENOMEM, "kube: out of memory parsing a response");
    *out = j;
    return 0;
}

static void copy_field(char *dst, size_t cap, const char *src)
{
    size_t n = 0;

    if (src != NULL) {
        for (; src[n] != '\0' && n + 1 < cap; n++)
            dst[n] = (src[n] == '\n' || src[n] == '\r') ? ' ' : src[n];
    }
    dst[n] = '\0';
}

bool kube_status_parse(const cJSON *body, struct kube_status *st)
{
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(body, "kind");
    const cJSON *v;

    memset(st, 0, sizeof(*st));
    if (!cJSON_IsObject(body) || !cJSON_IsString(kind) || strcmp(kind->valuestring, "Status"))
        return false;
    v = cJSON_GetObjectItemCaseSensitive(body, "reason");
    copy_field(st->reason, sizeof(st->reason), cJSON_IsString(v) ? v->valuestring : NULL);
    v = cJSON_GetObjectItemCaseSensitive(body, "message");
    copy_field(st->message, sizeof(st->message), cJSON_IsString(v) ? v->valuestring : NULL);
    v = cJSON_GetObjectItemCaseSensitive(body, "code");
    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1000)
        st->code = (long)v->valuedouble;
    return true;
}
