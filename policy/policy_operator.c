/* SPDX-License-Identifier: Apache-2.0 */
/* policy_operator.c - Kyverno string patterns ("k10-?*", ">=1Gi", "1-10", "a|b&!c")
 * compiled once into conditions and matched against resource values. */
#include "policy/policy_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum op_kind {
    OP_EQ = 0, /* no operator: wildcard equality */
    OP_NE,     /* ! */
    OP_GT,     /* > */
    OP_LT,     /* < */
    OP_GE,     /* >= */
    OP_LE,     /* <= */
    OP_IN,     /* a-b: >= a & <= b */
    OP_NOT_IN, /* a!-b: < a | > b */
};

struct op_cond {
    enum op_kind op;
    struct pol_wildcard *wc; /* OP_EQ / OP_NE: the operand as a wildcard */
    bool is_dur;             /* the operand parses as a Go duration */
    bool is_qty;             /* ... as a Kubernetes quantity */
    struct pol_value dur;
    struct pol_value qty;
    struct op_cond *lo; /* ranges: the two bounds as simple conditions */
    struct op_cond *hi;
};

struct op_alt {
    struct op_cond *conds;
    size_t n;
};

struct pol_strpat {
    char *text;
    size_t len;
    struct op_alt *alts;
    size_t n_alts;
};

/* ---- compile ---- */

static bool is_go_space(uint32_t c)
{
    switch (c) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
        return true;
    default:
        return c >= 0x2000 && c <= 0x200A;
    }
}

/* strings.TrimSpace on s[0..*n): Unicode white space at both ends. */
static const char *trim_space(const char *s, size_t *n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    size_t start = *n;
    size_t end = 0;

    while (i < *n) {
        uint32_t cp;
        size_t w = pol_utf8_next(u + i, *n - i, &cp);

        if (!is_go_space(cp)) {
            if (start == *n) {
                start = i;
            }
            end = i + w;
        }
        i += w;
    }
    if (start == *n) {
        *n = 0;
        return s;
    }
    *n = end - start;
    return s + start;
}

/* strings.Trim(s, " "): spaces only. */
static const char *trim_blanks(const char *s, size_t *n)
{
    size_t a = 0;
    size_t b = *n;

    while (a < b && s[a] == ' ') {
        a++;
    }
    while (b > a && s[b - 1] == ' ') {
        b--;
    }
    *n = b - a;
    return s + a;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* One range endpoint, Kyverno's [-|+]?\d+(\.\d+)?[A-Za-z]* ; returns bytes taken or 0. */
static size_t range_endpoint(const char *s, size_t n)
{
    size_t i = 0;
    size_t d;

    if (i < n && (s[i] == '-' || s[i] == '+' || s[i] == '|')) {
        i++;
    }
    d = i;
    while (i < n && is_digit(s[i])) {
        i++;
    }
    if (i == d) {
        return 0;
    }
    if (i + 1 < n && s[i] == '.' && is_digit(s[i + 1])) {
        i++;
        while (i < n && is_digit(s[i])) {
            i++;
        }
    }
    while (i < n && is_alpha(s[i])) {
        i++;
    }
    return i;
}

/* Matches the whole of s against endpoint SEP endpoint; sets the endpoints. */
static bool range_split(const char *s, size_t n, const char *sep, size_t seplen, size_t *l_len,
                        const char **r, size_t *r_len)
{
    size_t a = range_endpoint(s, n);
    size_t b;

    if (a == 0 || n - a < seplen || memcmp(s + a, sep, seplen) != 0) {
        return false;
    }
    b = range_endpoint(s + a + seplen, n - a - seplen);
    if (b == 0 || a + seplen + b != n) {
        return false;
    }
    *l_len = a;
    *r = s + a + seplen;
    *r_len = b;
    return true;
}

static int cond_compile_simple(struct op_cond *c, enum op_kind op, const char *s, size_t n,
                               struct cm_err *err)
{
    c->op = op;
    c->is_dur = pol_value_parse_duration(s, n, &c->dur);
    c->is_qty = pol_value_parse_quantity(s, n, &c->qty);
    if (op == OP_EQ || op == OP_NE) {
        return pol_wildcard_compile(s, n, &c->wc, err);
    }
    return 0;
}

static void cond_cleanup(struct op_cond *c)
{
    if (c->lo != NULL) {
        cond_cleanup(c->lo);
        cm_free(c->lo);
    }
    if (c->hi != NULL) {
        cond_cleanup(c->hi);
        cm_free(c->hi);
    }
    pol_wildcard_destroy(c->wc);
    memset(c, 0, sizeof(*c));
}

/* operator.GetOperatorFromStringPattern, then the operand (TrimSpace'd). */
static int cond_compile(struct op_cond *c, const char *s, size_t n, struct cm_err *err)
{
    static const struct {
        const char *prefix;
        size_t len;
        enum op_kind op;
    } prefixes[] = {
        {">=", 2, OP_GE}, {"<=", 2, OP_LE}, {">", 1, OP_GT}, {"<", 1, OP_LT}, {"!", 1, OP_NE},
    };
    size_t i;
    size_t l_len;
    const char *r;
    size_t r_len;
    bool not_in;

    if (n >= 2) {
        for (i = 0; i < CM_ARRAY_LEN(prefixes); i++) {
            if (memcmp(s, prefixes[i].prefix, prefixes[i].len) == 0) {
                size_t on = n - prefixes[i].len;
                const char *o = trim_space(s + prefixes[i].len, &on);

                return cond_compile_simple(c, prefixes[i].op, o, on, err);
            }
        }
        not_in = range_split(s, n, "!-", 2, &l_len, &r, &r_len);
        if (not_in || range_split(s, n, "-", 1, &l_len, &r, &r_len)) {
            int rc;

            c->op = not_in ? OP_NOT_IN : OP_IN;
            c->lo = cm_calloc(1, sizeof(*c->lo));
            c->hi = cm_calloc(1, sizeof(*c->hi));
            if (c->lo == NULL || c->hi == NULL) {
                return cm_err_set(err, CM_ENOMEM, "pattern: out of memory");
            }
            rc = cond_compile_simple(c->lo, not_in ? OP_LT : OP_GE, s, l_len, err);
            if (rc == 0) {
                rc = cond_compile_simple(c->hi, not_in ? OP_GT : OP_LE, r, r_len, err);
            }
            return rc;
        }
    }
    {
        size_t on = n;
        const char *o = trim_space(s, &on);

        return cond_compile_simple(c, OP_EQ, o, on, err);
    }
}

static size_t count_byte(const char *s, size_t n, char c)
{
    size_t k = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        k += s[i] == c;
    }
    return k;
}

void pol_strpat_destroy(struct pol_strpat *p)
{
    size_t i;
    size_t j;

    if (p == NULL) {
        return;
    }
    for (i = 0; p->alts != NULL && i < p->n_alts; i++) {
        for (j = 0; p->alts[i].conds != NULL && j < p->alts[i].n; j++) {
            cond_cleanup(&p->alts[i].conds[j]);
        }
        cm_free(p->alts[i].conds);
    }
    cm_free(p->alts);
    cm_free(p->text);
    cm_free(p);
}

int pol_strpat_compile(const char *s, size_t n, struct pol_strpat **out, struct cm_err *err)
{
    struct pol_strpat *p = NULL;
    size_t start = 0;
    size_t a = 0;
    int rc = 0;

    if (n > POLICY_MAX_STRING) {
        return cm_err_set(err, CM_ETOOBIG, "pattern string is %zu bytes, over the limit of %u", n,
                          (unsigned)POLICY_MAX_STRING);
    }
    if (!pol_utf8_valid((const unsigned char *)s, n)) {
        return cm_err_set(err, CM_EPARSE, "pattern string is not valid UTF-8");
    }
    p = cm_calloc(1, sizeof(*p));
    if (p == NULL) {
        return cm_err_set(err, CM_ENOMEM, "pattern: out of memory");
    }
    p->text = cm_malloc(n + 1);
    p->n_alts = count_byte(s, n, '|') + 1;
    p->alts = cm_calloc(p->n_alts, sizeof(*p->alts));
    if (p->text == NULL || p->alts == NULL) {
        rc = cm_err_set(err, CM_ENOMEM, "pattern: out of memory");
        goto fail;
    }
    if (n > 0) {
        memcpy(p->text, s, n);
    }
    p->text[n] = '\0';
    p->len = n;
    /* strings.Split on '|', then on '&', each piece Trim'd of spaces. */
    for (a = 0; a < p->n_alts; a++) {
        size_t end = start;
        size_t an;
        const char *as;
        size_t cstart = 0;
        size_t k;
        struct op_alt *alt = &p->alts[a];

        while (end < n && s[end] != '|') {
            end++;
        }
        an = end - start;
        as = trim_blanks(s + start, &an);
        alt->n = count_byte(as, an, '&') + 1;
        alt->conds = cm_calloc(alt->n, sizeof(*alt->conds));
        if (alt->conds == NULL) {
            alt->n = 0;
            rc = cm_err_set(err, CM_ENOMEM, "pattern: out of memory");
            goto fail;
        }
        for (k = 0; k < alt->n; k++) {
            size_t cend = cstart;
            size_t cn;
            const char *cs;

            while (cend < an && as[cend] != '&') {
                cend++;
            }
            cn = cend - cstart;
            cs = trim_blanks(as + cstart, &cn);
            rc = cond_compile(&alt->conds[k], cs, cn, err);
            if (rc != 0) {
                if (rc == CM_EPARSE) {
                    cm_err_prefix(err, "pattern \"%.*s\"", (int)(n > 80 ? 80 : n), s);
                }
                goto fail;
            }
            cstart = cend + 1;
        }
        start = end + 1;
    }
    *out = p;
    return 0;

fail:
    pol_strpat_destroy(p);
    return rc;
}

const char *pol_strpat_text(const struct pol_strpat *p, size_t *len)
{
    if (len != NULL) {
        *len = p->len;
    }
    return p->text;
}

/* ---- value conversions ---- */

bool pol_json_int64(const cJSON *v, int64_t *out)
{
    double d;

    if (v == NULL || !cJSON_IsNumber(v)) {
        return false;
    }
    d = v->valuedouble;
    /* -2^63 <= d < 2^63 and integral: apimachinery's JSON decoding gives an int64. */
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != trunc(d)) {
        return false;
    }
    *out = (int64_t)d;
    return true;
}

/* Decimal text of an int64 into buf (>= 21 bytes), no printf. */
static size_t format_i64(int64_t v, char *buf)
{
    char tmp[24];
    size_t n = 0;
    size_t i;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    i = 0;
    if (v < 0) {
        buf[i++] = '-';
    }
    while (n > 0) {
        buf[i++] = tmp[--n];
    }
    buf[i] = '\0';
    return i;
}

size_t pol_format_float_E(double v, char *buf, size_t cap)
{
    int prec;
    int len = 0;

    /* The shortest precision that reads back as the same double, like Go's -1. */
    for (prec = 0; prec <= 17; prec++) {
        len = snprintf(buf, cap, "%.*E", prec, v);
        if (len > 0 && (size_t)len < cap && strtod(buf, NULL) == v) {
            break;
        }
    }
    if (len < 0) {
        buf[0] = '\0';
        return 0;
    }
    return (size_t)len < cap ? (size_t)len : cap - 1;
}

/* Kyverno's convertNumberToString (strings are handled by the caller): nil -> "0", int64 decimal,
 * float64 with %f; false for bools, maps and lists. buf has >= 400 bytes. */
static bool number_string(const cJSON *v, char *buf, size_t cap, const char **s, size_t *n)
{
    int64_t i;

    if (v == NULL || cJSON_IsNull(v)) {
        *s = "0";
        *n = 1;
        return true;
    }
    if (cJSON_IsNumber(v)) {
        if (pol_json_int64(v, &i)) {
            *n = format_i64(i, buf);
        } else {
            int len = snprintf(buf, cap, "%f", v->valuedouble);

            if (len < 0 || (size_t)len >= cap) {
                return false;
            }
            *n = (size_t)len;
        }
        *s = buf;
        return true;
    }
    return false;
}

static bool op_apply(enum op_kind op, int cmp)
{
    switch (op) {
    case OP_EQ:
        return cmp == 0;
    case OP_NE:
        return cmp != 0;
    case OP_GT:
        return cmp > 0;
    case OP_LT:
        return cmp < 0;
    case OP_GE:
        return cmp >= 0;
    case OP_LE:
        return cmp <= 0;
    default:
        return false;
    }
}

/* pattern.validateString: durations, then quantities, then strings (= and ! only). */
static bool cond_match(const struct op_cond *c, const cJSON *v, const char *str, size_t slen)
{
    char buf[400];
    const char *s = NULL;
    size_t n = 0;
    bool have_num = false;
    bool matched;
    int64_t iv;

    if (c->op == OP_IN) {
        return cond_match(c->lo, v, str, slen) && cond_match(c->hi, v, str, slen);
    }
    if (c->op == OP_NOT_IN) {
        return cond_match(c->lo, v, str, slen) || cond_match(c->hi, v, str, slen);
    }
    if (str != NULL) {
        s = str;
        n = slen;
        have_num = true;
    } else if (c->is_dur || c->is_qty) {
        have_num = number_string(v, buf, sizeof(buf), &s, &n);
    }
    if (c->is_dur && have_num) {
        struct pol_value rv;

        if (pol_value_parse_duration(s, n, &rv)) {
            return op_apply(c->op, pol_value_cmp(&rv, &c->dur));
        }
    }
    if (c->is_qty && have_num) {
        struct pol_value rv;

        if (pol_value_parse_quantity(s, n, &rv)) {
            return op_apply(c->op, pol_value_cmp(&rv, &c->qty));
        }
    }
    if (c->op != OP_EQ && c->op != OP_NE) {
        return false; /* > < >= <= are not applicable to strings */
    }
    if (v == NULL || cJSON_IsNull(v)) {
        return false; /* nil never matches, not even "!x" */
    }
    if (str != NULL) {
        matched = pol_wildcard_match(c->wc, str, slen);
    } else if (cJSON_IsBool(v)) {
        matched = cJSON_IsTrue(v) ? pol_wildcard_match(c->wc, "true", 4)
                                  : pol_wildcard_match(c->wc, "false", 5);
    } else if (cJSON_IsNumber(v)) {
        if (pol_json_int64(v, &iv)) {
            n = format_i64(iv, buf);
        } else {
            n = pol_format_float_E(v->valuedouble, buf, sizeof(buf));
        }
        matched = pol_wildcard_match(c->wc, buf, n);
    } else {
        return false; /* maps and lists have no string form */
    }
    return c->op == OP_NE ? !matched : matched;
}

bool pol_strpat_match(const struct pol_strpat *p, const cJSON *value)
{
    size_t a;
    size_t k;
    const char *str = NULL;
    size_t slen = 0;

    if (value != NULL && cJSON_IsString(value)) {
        str = value->valuestring != NULL ? value->valuestring : "";
        slen = strlen(str);
        if (slen == p->len && memcmp(str, p->text, slen) == 0) {
            return true;
        }
    }
    for (a = 0; a < p->n_alts; a++) {
        const struct op_alt *alt = &p->alts[a];
        bool all = true;

        for (k = 0; k < alt->n && all; k++) {
            all = cond_match(&alt->conds[k], value, str, slen);
        }
        if (all) {
            return true;
        }
    }
    return false;
}
