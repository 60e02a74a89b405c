/* SPDX-License-Identifier: Apache-2.0 */
/* test_value.c - unit tests of policy_value.c: Go durations and Kubernetes quantities,
 * parsed and compared exactly as Kyverno's operators see them. */
#include "policy/policy_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

struct dur_case {
    const char *s;
    bool ok;
    int64_t ns;
};

static const struct dur_case dur_cases[] = {
    {"0", true, 0},
    {"-0", true, 0},
    {"+0", true, 0},
    {"90s", true, 90000000000LL},
    {"1h30m", true, 5400000000000LL},
    {"-1.5h", true, -5400000000000LL},
    {"1h2m3.5s", true, 3723500000000LL},
    {"500ms", true, 500000000LL},
    {"1us", true, 1000},
    {"1\xC2\xB5s", true, 1000}, /* micro sign */
    {"1\xCE\xBCs", true, 1000}, /* Greek mu */
    {"3ns", true, 3},
    {".5s", true, 500000000LL},
    {"5.s", true, 5000000000LL},
    {"1.0000000001s", true, 1000000000LL}, /* Go truncates below 1ns */
    {"2562047h47m16.854775807s", true, INT64_MAX},
    {"-2562047h47m16.854775808s", true, INT64_MIN},
    {"2562047h47m16.854775808s", false, 0}, /* overflow */
    {"9223372036854775808ns", false, 0},
    {"", false, 0},
    {"+", false, 0},
    {"1", false, 0}, /* missing unit */
    {"12", false, 0},
    {"1x", false, 0}, /* unknown unit */
    {"1H", false, 0}, /* units are case-sensitive */
    {".s", false, 0},
    {"1h ", false, 0},
    {" 1h", false, 0},
    {"1h-1m", false, 0},
    {"0.000000", false, 0},                         /* Kyverno's %f of 0.0 is not a duration */
    {"99999999999999999999s", false, 0},            /* integer part overflows */
    {"3000000h", false, 0},                         /* unit multiplication overflows */
    {"2562047h47m16.8547758079s", true, INT64_MAX}, /* Go truncates the float fraction */
    {"9223372036.854775808s", false, 0},            /* the fraction pushes it to 2^63 */
    {"1.000000000000000000000000001s", true, 1000000000LL}, /* long fractions are cut */
    {"1h1h", true, 7200000000000LL},
};

static void test_duration_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(dur_cases); i++) {
        struct pol_value v;
        bool ok = pol_value_parse_duration(dur_cases[i].s, strlen(dur_cases[i].s), &v);

        if (ok != dur_cases[i].ok) {
            fail_msg("duration '%s': want ok=%d got %d", dur_cases[i].s, dur_cases[i].ok, ok);
        }
        if (ok) {
            assert_int_equal(v.kind, POL_VAL_DURATION);
            if (v.ns_ != dur_cases[i].ns) {
                fail_msg("duration '%s': want %lld ns got %lld", dur_cases[i].s,
                         (long long)dur_cases[i].ns, (long long)v.ns_);
            }
        }
    }
}

struct qty_case {
    const char *s;
    bool ok;
    bool neg;
    uint64_t whole;
    uint32_t nano;
};

static const struct qty_case qty_cases[] = {
    {"0", true, false, 0, 0},
    {"-0", true, false, 0, 0},
    {"2", true, false, 2, 0},
    {"+2", true, false, 2, 0},
    {"-2", true, true, 2, 0},
    {"500m", true, false, 0, 500000000},
    {"1.5", true, false, 1, 500000000},
    {".5", true, false, 0, 500000000},
    {"5.", true, false, 5, 0},
    {"1k", true, false, 1000, 0},
    {"1M", true, false, 1000000, 0},
    {"1G", true, false, 1000000000, 0},
    {"1T", true, false, 1000000000000ULL, 0},
    {"1P", true, false, 1000000000000000ULL, 0},
    {"1E", true, false, 1000000000000000000ULL, 0},
    {"1Ki", true, false, 1024, 0},
    {"1Mi", true, false, 1048576, 0},
    {"1Gi", true, false, 1073741824ULL, 0},
    {"1024Mi", true, false, 1073741824ULL, 0},
    {"1.5Gi", true, false, 1610612736ULL, 0},
    {"1Ei", true, false, 1152921504606846976ULL, 0},
    {"1e3", true, false, 1000, 0},
    {"1E3", true, false, 1000, 0},
    {"1e-3", true, false, 0, 1000000},
    {"1e+3", true, false, 1000, 0},
    {"1n", true, false, 0, 1},
    {"1u", true, false, 0, 1000},
    {"0.1n", true, false, 0, 1},         /* rounded up to 1n */
    {"-0.1n", true, true, 0, 1},         /* away from zero */
    {"1.0000000001", true, false, 1, 1}, /* rounded up at 1e-9 */
    {"9223372036854775807", true, false, 9223372036854775807ULL, 0},
    {"9223372036854775808", true, false, 9223372036854775807ULL, 0}, /* capped */
    {"100Ei", true, false, 9223372036854775807ULL, 0},
    {"1e1000000000", true, false, 9223372036854775807ULL, 0},
    {"1e-1000000000", true, false, 0, 1},
    {"2.500000", true, false, 2, 500000000}, /* Kyverno's %f of a float */
    {"0.9999999999", true, false, 1, 0},     /* the round-up carries into the units */
    {"-0.9999999999", true, true, 1, 0},
    {"1e49Ki", false, false, 0, 0}, /* an exponent and a binary suffix do not mix */
    {"1"
     "0000000000"
     "0000000000"
     "0000000000"
     "0000000000"
     "000000000"
     "Ki",
     true, false, 9223372036854775807ULL, 0}, /* carry out of the top digit while scaling */
    {"9Ei", true, false, 9223372036854775807ULL, 0},
    {"", false, false, 0, 0},
    {"+", false, false, 0, 0},
    {".", false, false, 0, 0},
    {"Gi", false, false, 0, 0},
    {"1Kb", false, false, 0, 0},
    {"1K", false, false, 0, 0},
    {"1ki", false, false, 0, 0},
    {"1 Gi", false, false, 0, 0},
    {" 1", false, false, 0, 0},
    {"1e", false, false, 0, 0},
    {"1e3.5", false, false, 0, 0},
    {"1.2.3", false, false, 0, 0},
    {"1h", false, false, 0, 0},
    {"abc", false, false, 0, 0},
    {"0x10", false, false, 0, 0},
};

static void test_quantity_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(qty_cases); i++) {
        const struct qty_case *c = &qty_cases[i];
        struct pol_value v;
        bool ok = pol_value_parse_quantity(c->s, strlen(c->s), &v);

        if (ok != c->ok) {
            fail_msg("quantity '%s': want ok=%d got %d", c->s, c->ok, ok);
        }
        if (ok && (v.kind != POL_VAL_QUANTITY || v.neg_ != c->neg || v.whole_ != c->whole ||
                   v.nano_ != c->nano)) {
            fail_msg("quantity '%s': want %s%llu.%09u got %s%llu.%09u", c->s, c->neg ? "-" : "",
                     (unsigned long long)c->whole, c->nano, v.neg_ ? "-" : "",
                     (unsigned long long)v.whole_, v.nano_);
        }
    }
}

struct cmp_case {
    const char *a;
    const char *b;
    bool ok;
    int cmp;
};

static const struct cmp_case cmp_cases[] = {
    {"1Gi", "1024Mi", true, 0}, {"1G", "1Gi", true, -1},  {"0.1", "100m", true, 0},
    {"1", "1000m", true, 0},    {"2", "10", true, -1}, /* numeric, not lexical */
    {"-5", "3", true, -1},      {"-5", "-3", true, -1},   {"-3", "-5", true, 1},
    {"0", "-0", true, 0},       {"1h", "60m", true, 0},   {"90s", "1h", true, -1},
    {"1h30m", "1h", true, 1},   {"0", "0s", true, 0}, /* "0" is a duration too */
    {"1h", "5", false, 0}, /* one duration, one quantity: not comparable */
    {"abc", "1", false, 0},     {"abc", "abc", false, 0},
};

static void test_compare_strings(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(cmp_cases); i++) {
        const struct cmp_case *c = &cmp_cases[i];
        int cmp = 99;
        bool ok = pol_value_compare_strings(c->a, strlen(c->a), c->b, strlen(c->b), &cmp);

        if (ok != c->ok || (ok && cmp != c->cmp)) {
            fail_msg("compare '%s' '%s': want ok=%d cmp=%d got ok=%d cmp=%d", c->a, c->b, c->ok,
                     c->cmp, ok, cmp);
        }
    }
}

/* Long mantissas: digits past 10^-50 still count (sticky) for the round-up. */
static void test_quantity_long_mantissa(void **state)
{
    char buf[200];
    struct pol_value v;

    (void)state;
    memset(buf, '0', sizeof(buf));
    buf[0] = '1';
    buf[1] = '.';
    buf[sizeof(buf) - 1] = '1';
    assert_true(pol_value_parse_quantity(buf, sizeof(buf), &v));
    assert_int_equal(v.whole_, 1);
    assert_int_equal(v.nano_, 1);
    buf[sizeof(buf) - 1] = '0';
    assert_true(pol_value_parse_quantity(buf, sizeof(buf), &v));
    assert_int_equal(v.whole_, 1);
    assert_int_equal(v.nano_, 0);
}

static void test_value_cmp_kinds(void **state)
{
    struct pol_value d;
    struct pol_value q;

    (void)state;
    assert_true(pol_value_parse_duration("1s", 2, &d));
    assert_true(pol_value_parse_quantity("1", 1, &q));
    /* different kinds order by kind; callers never mix them, but it must be stable */
    assert_int_equal(pol_value_cmp(&d, &q), -1);
    assert_int_equal(pol_value_cmp(&q, &d), 1);
    assert_int_equal(pol_value_cmp(&d, &d), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_table),  cmocka_unit_test(test_quantity_table),
        cmocka_unit_test(test_compare_strings), cmocka_unit_test(test_quantity_long_mantissa),
        cmocka_unit_test(test_value_cmp_kinds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
