/* SPDX-License-Identifier: Apache-2.0 */
/* policy_value.c - the scalars Kyverno's operators compare: Go durations
 * (time.ParseDuration) and Kubernetes quantities (resource.ParseQuantity), exactly. */
#include "policy/policy_int.h"

#include <string.h>

#define U63 ((uint64_t)1 << 63)

/* Go's leadingInt: digits into x; false on overflow past 1<<63. */
static size_t leading_int(const char *s, size_t n, uint64_t *x, bool *overflow)
{
    size_t i = 0;
    uint64_t v = 0;

    *overflow = false;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        if (v > U63 / 10) {
            *overflow = true;
            return i;
        }
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > U63) {
            *overflow = true;
            return i;
        }
    }
    *x = v;
    return i;
}

/* Go's leadingFraction: digits into f with scale 10^count; extra digits are ignored
 * once f would overflow. */
static size_t leading_fraction(const char *s, size_t n, uint64_t *f, double *scale)
{
    size_t i = 0;
    uint64_t v = 0;
    double sc = 1.0;
    bool overflow = false;

    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        uint64_t y;

        if (overflow) {
            continue;
        }
        if (v > (U63 - 1) / 10) {
            overflow = true;
            continue;
        }
        y = v * 10 + (uint64_t)(s[i] - '0');
        if (y > U63) {
            overflow = true;
            continue;
        }
        v = y;
        sc *= 10;
    }
    *f = v;
    *scale = sc;
    return i;
}

static bool duration_unit(const char *u, size_t n, uint64_t *unit)
{
    static const struct {
        const char *name;
        uint64_t ns;
    } units[] = {
        {"ns", 1},           {"us", 1000},      {"\xC2\xB5s", 1000}, /* U+00B5 micro sign */
        {"\xCE\xBCs", 1000},                                         /* U+03BC Greek mu */
        {"ms", 1000000},     {"s", 1000000000}, {"m", 60000000000ULL}, {"h", 3600000000000ULL},
    };
    size_t i;

    for (i = 0; i < CM_ARRAY_LEN(units); i++) {
        if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0) {
            *unit = units[i].ns;
            return true;
        }
    }
    return false;
}

bool pol_value_parse_duration(const char *s, size_t n, struct pol_value *out)
{
    uint64_t d = 0;
    bool neg = false;
    size_t i = 0;

    if (n > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (n - i == 1 && s[i] == '0') {
        memset(out, 0, sizeof(*out));
        out->kind = POL_VAL_DURATION;
        return true;
    }
    if (i == n) {
        return false;
    }
    while (i < n) {
        uint64_t v = 0;
        uint64_t f = 0;
        uint64_t unit = 0;
        double scale = 1.0;
        bool pre;
        bool post = false;
        bool overflow;
        size_t k;
        size_t u0;

        if (!(s[i] == '.' || (s[i] >= '0' && s[i] <= '9'))) {
            return false;
        }
        k = leading_int(s + i, n - i, &v, &overflow);
        if (overflow) {
            return false;
        }
        pre = k > 0;
        i += k;
        if (i < n && s[i] == '.') {
            i++;
            k = leading_fraction(s + i, n - i, &f, &scale);
            post = k > 0;
            i += k;
        }
        if (!pre && !post) {
            return false;
        }
        u0 = i;
        while (i < n && s[i] != '.' && !(s[i] >= '0' && s[i] <= '9')) {
            i++;
        }
        if (i == u0 || !duration_unit(s + u0, i - u0, &unit)) {
            return false; /* missing or unknown unit */
        }
        if (v > U63 / unit) {
            return false;
        }
        v *= unit;
        if (f > 0) {
            /* Go adds the fraction through float64, rounding the same way. */
            v += (uint64_t)((double)f * ((double)unit / scale));
            if (v > U63) {
                return false;
            }
        }
        d += v;
        if (d > U63) {
            return false;
        }
    }
    if (!neg && d > U63 - 1) {
        return false;
    }
    memset(out, 0, sizeof(*out));
    out->kind = POL_VAL_DURATION;
    if (!neg) {
        out->ns_ = (int64_t)d;
    } else if (d == U63) {
        out->ns_ = INT64_MIN;
    } else {
        out->ns_ = -(int64_t)d;
    }
    out->v = (long double)out->ns_;
    return true;
}

/* ---- quantities ---- */

/* Decimal places held exactly: 10^49 .. 10^-50; below that only "non-zero" (sticky). */
#define Q_INT 50
#define Q_FRAC 50
#define Q_DIGITS (Q_INT + Q_FRAC)
#define Q_EXP_CLAMP 1000000

static bool quantity_suffix(const char *s, size_t n, int64_t *e10, int *b2)
{
    static const struct {
        const char *name;
        int e10;
        int b2;
    } sfx[] = {
        {"", 0, 0},    {"n", -9, 0},  {"u", -6, 0},  {"m", -3, 0},  {"k", 3, 0},   {"M", 6, 0},
        {"G", 9, 0},   {"T", 12, 0},  {"P", 15, 0},  {"E", 18, 0},  {"Ki", 0, 10}, {"Mi", 0, 20},
        {"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50}, {"Ei", 0, 60},
    };
    size_t i;

    for (i = 0; i < CM_ARRAY_LEN(sfx); i++) {
        if (strlen(sfx[i].name) == n && memcmp(sfx[i].name, s, n) == 0) {
            *e10 = sfx[i].e10;
            *b2 = sfx[i].b2;
            return true;
        }
    }
    if (n >= 2 && (s[0] == 'e' || s[0] == 'E')) {
        int64_t e;

        if (cm_parse_i64(s + 1, n - 1, &e) != 0) {
            return false;
        }
        *e10 = e;
        *b2 = 0;
        return true;
    }
    return false;
}

static void quantity_set_max(struct pol_value *out)
{
    out->whole_ = (uint64_t)INT64_MAX;
    out->nano_ = 0;
}

bool pol_value_parse_quantity(const char *s, size_t n, struct pol_value *out)
{
    unsigned char d[Q_DIGITS];
    bool neg = false;
    bool sticky = false;
    bool overflow = false;
    bool nonzero = false;
    size_t i = 0;
    size_t int0;
    size_t nint;
    size_t frac0;
    size_t nfrac = 0;
    int64_t e10;
    int b2;
    size_t j;
    struct pol_value v;

    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i = 1;
    }
    int0 = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        i++;
    }
    nint = i - int0;
    frac0 = i;
    if (i < n && s[i] == '.') {
        i++;
        frac0 = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
        nfrac = i - frac0;
    }
    if (nint + nfrac == 0) {
        return false;
    }
    if (!quantity_suffix(s + i, n - i, &e10, &b2)) {
        return false;
    }
    if (e10 > Q_EXP_CLAMP) {
        e10 = Q_EXP_CLAMP;
    } else if (e10 < -Q_EXP_CLAMP) {
        e10 = -Q_EXP_CLAMP;
    }
    memset(d, 0, sizeof(d));
    for (j = 0; j < nint + nfrac; j++) {
        char c = j < nint ? s[int0 + j] : s[frac0 + (j - nint)];
        int64_t place = (int64_t)nint - 1 - (int64_t)j + e10;

        if (c == '0') {
            continue;
        }
        nonzero = true;
        if (place >= Q_INT) {
            overflow = true;
        } else if (place < -Q_FRAC) {
            sticky = true;
        } else {
            d[Q_INT - 1 - place] = (unsigned char)(c - '0');
        }
    }
    memset(&v, 0, sizeof(v));
    v.kind = POL_VAL_QUANTITY;
    if (!nonzero) {
        *out = v; /* zero, whatever its sign or suffix */
        return true;
    }
    v.neg_ = neg;
    /* Binary suffixes: multiply by 1024 per step, exactly. */
    for (j = 0; j < (size_t)(b2 / 10) && !overflow; j++) {
        unsigned carry = 0;
        size_t k = Q_DIGITS;

        while (k-- > 0) {
            unsigned x = (unsigned)d[k] * 1024u + carry;

            d[k] = (unsigned char)(x % 10);
            carry = x / 10;
        }
        if (carry != 0) {
            overflow = true;
        }
    }
    if (!overflow) {
        /* resource.ParseQuantity rounds non-zero values up to the next nano. */
        size_t nano_last = Q_INT + 8; /* place 10^-9 */
        bool below = sticky;

        for (j = nano_last + 1; j < Q_DIGITS && !below; j++) {
            below = d[j] != 0;
        }
        if (below) {
            size_t k = nano_last + 1;

            while (k-- > 0) {
                if (d[k] < 9) {
                    d[k]++;
                    break;
                }
                d[k] = 0;
                if (k == 0) {
                    overflow = true;
                }
            }
        }
    }
    if (!overflow) {
        uint64_t w = 0;

        for (j = 0; j < Q_INT - 19; j++) {
            if (d[j] != 0) {
                overflow = true;
            }
        }
        for (j = Q_INT - 19; j < Q_INT && !overflow; j++) {
            w = w * 10 + d[j];
        }
        if (!overflow) {
            uint32_t nano = 0;

            for (j = Q_INT; j < Q_INT + 9; j++) {
                nano = nano * 10 + d[j];
            }
            if (w > (uint64_t)INT64_MAX || (w == (uint64_t)INT64_MAX && nano > 0)) {
                overflow = true;
            } else {
                v.whole_ = w;
                v.nano_ = nano;
            }
        }
    }
    if (overflow) {
        quantity_set_max(&v); /* Kubernetes caps quantities at 2^63-1 */
    }
    v.v = (long double)v.whole_ + (long double)v.nano_ / 1e9L;
    if (neg) {
        v.v = -v.v;
    }
    *out = v;
    return true;
}

int pol_value_cmp(const struct pol_value *a, const struct pol_value *b)
{
    int sign;

    if (a->kind != b->kind) {
        return a->kind < b->kind ? -1 : 1;
    }
    if (a->kind == POL_VAL_DURATION) {
        return a->ns_ < b->ns_ ? -1 : a->ns_ > b->ns_ ? 1 : 0;
    }
    if (a->neg_ != b->neg_) {
        return a->neg_ ? -1 : 1; /* zero is never negative */
    }
    sign = a->neg_ ? -1 : 1;
    if (a->whole_ != b->whole_) {
        return a->whole_ < b->whole_ ? -sign : sign;
    }
    if (a->nano_ != b->nano_) {
        return a->nano_ < b->nano_ ? -sign : sign;
    }
    return 0;
}

bool pol_value_compare_strings(const char *a, size_t an, const char *b, size_t bn, int *cmp)
{
    struct pol_value va;
    struct pol_value vb;

    if (pol_value_parse_duration(a, an, &va) && pol_value_parse_duration(b, bn, &vb)) {
        *cmp = pol_value_cmp(&va, &vb);
        return true;
    }
    if (pol_value_parse_quantity(a, an, &va) && pol_value_parse_quantity(b, bn, &vb)) {
        *cmp = pol_value_cmp(&va, &vb);
        return true;
    }
    return false;
}
