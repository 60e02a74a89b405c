/* SPDX-License-Identifier: Apache-2.0 */
/* test_operator.c - unit tests of policy_operator.c: Kyverno string patterns with
 * '|', '&', '!', '>', '<', '>=', '<=', ranges, durations, quantities and wildcards,
 * against every JSON value type (and a missing value). */
#include "policy/policy_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MISSING NULL

struct op_case {
    const char *pattern;
    const char *value; /* JSON text, or MISSING for an absent key */
    bool want;
};

static const struct op_case op_cases[] = {
    /* plain equality with wildcards */
    {"production", "\"production\"", true},
    {"production", "\"prod\"", false},
    {"k10-?*", "\"k10-gold\"", true},
    {"k10-?*", "\"k10-\"", false},
    {"*", "\"\"", true},
    {"*", MISSING, false}, /* missing fields do not match '*' */
    {"*", "null", false},
    {"?*", "\"\"", false},
    {"", "\"\"", true},
    {"", MISSING, false},
    /* the whole pattern equal to the value matches first (Kyverno's value == pattern) */
    {"a|b", "\"a|b\"", true},
    {">5", "\">5\"", true},
    /* '|' is OR (lowest precedence), '&' AND, spaces trimmed */
    {"a|b", "\"b\"", true},
    {"a | b", "\"b\"", true},
    {"a|b", "\"c\"", false},
    {"a*&*b", "\"axb\"", true},
    {"a*&*b", "\"axc\"", false},
    {"a* & *b | c", "\"c\"", true},
    {">1 & <5 | 10", "3", true},
    {">1 & <5 | 10", "10", true},
    {">1 & <5 | 10", "7", false},
    /* '!' */
    {"!production", "\"staging\"", true},
    {"!production", "\"production\"", false},
    {"!prod*", "\"production\"", false},
    {"!x", MISSING, false}, /* nil never matches a string compare */
    {"!x", "null", false},
    {"!!x", "\"x\"", true},  /* the operand is "!x" */
    {"! x", "\"x\"", false}, /* operand trimmed */
    /* short patterns are plain equality */
    {"!", "\"!\"", true},
    {">", "\">\"", true},
    {"<", "\"a\"", false},
    /* numeric comparisons: quantities */
    {">5", "6", true},
    {">5", "5", false},
    {">=5", "5", true},
    {"<=5", "5", true},
    {"<5", "4.5", true},
    {"<5", "\"4\"", true},
    {">1Gi", "\"1025Mi\"", true},
    {">1Gi", "\"1024Mi\"", false},
    {">=1Gi", "\"1024Mi\"", true},
    {"1Gi", "\"1024Mi\"", true}, /* equality through quantities */
    {"!1Gi", "\"1024Mi\"", false},
    {"2", "2", true},
    {"2", "\"2.0\"", true},
    {"0.5", "\"500m\"", true},
    {">= 10", "10", true}, /* operand TrimSpace'd */
    {"<500m", "0.25", true},
    {">1", "1.000001", true},
    {">1", "1.0000001", false},    /* %f keeps 6 decimals, as Kyverno */
    {">1", "\"1.0000001\"", true}, /* strings keep full precision */
    /* ordering on non-numeric strings is false, not an error */
    {">abc", "\"abd\"", false},
    {"<abc", "\"abb\"", false},
    {">5", "\"abc\"", false},
    {">5", "true", false},
    {">5", "{}", false},
    /* a missing value is "0" in the numeric path (Kyverno's convertNumberToString(nil)) */
    {"<5", MISSING, true},
    {">5", MISSING, false},
    {"0", MISSING, true},
    {"0", "null", true},
    {"<5", "null", true},
    /* durations first */
    {">1h", "\"90m\"", true},
    {">1h", "\"60m\"", false},
    {">=1h", "\"60m\"", true},
    {"<=30s", "\"30s\"", true},
    {"1h", "\"3600s\"", true},
    {"!1h", "\"3600s\"", false},
    {"0s", "0", true}, /* int 0 -> "0" is a duration */
    {"0s", "\"0\"", true},
    {"<1h", "5", false}, /* "5" is no duration, and "1h" is no quantity */
    {">1h", "\"2h\"", true},
    /* ranges */
    {"1-10", "5", true},
    {"1-10", "1", true},
    {"1-10", "10", true},
    {"1-10", "11", false},
    {"1-10", "0", false},
    {"1Gi-2Gi", "\"1536Mi\"", true},
    {"1Gi-2Gi", "\"3Gi\"", false},
    {"-10-10", "-5", true},
    {"-10--5", "-7", true},
    {"-10--5", "-3", false},
    {"1.5-2.5", "2", true},
    {"1!-10", "0", true},
    {"1!-10", "11", true},
    {"1!-10", "5", false},
    {"1!-10", "1", false},
    {"!1-10", "5", true}, /* literal not-equal to "1-10" */
    {"!1-10", "\"1-10\"", false},
    {"1-10-20", "\"1-10-20\"", true}, /* not a range: plain equality */
    {"1-10-20", "5", false},
    {"a-b", "\"a-b\"", true},
    {"1-10", MISSING, false}, /* nil -> 0, outside */
    {"1!-10", MISSING, true},
    {"1s-1m", "\"30s\"", true}, /* duration ranges */
    {"1s-1m", "\"2m\"", false},
    /* value stringification for = and ! */
    {"3", "3", true},
    {"3", "3.5", false},
    {"true", "true", true},
    {"false", "true", false},
    {"tr*", "true", true},
    {"!true", "false", true},
    {"2E+00", "2.5", false},
    {"2.5E+00", "2.5", true},     /* floats are formatted as Go's 'E' */
    {"1.5E-07", "1.5e-7", false}, /* a quantity (150n) vs %f's "0.000000" */
    {"1.5E-0?", "1.5e-7", true},  /* not a quantity: the 'E' string form */
    {"*E+0?", "2.5", true},
    {"[*", "[1]", false}, /* lists have no string form */
    {"!x", "[1]", false},
    {"!x", "{}", false},
    /* Kyverno's own pattern_test.go cases */
    {"192.168.88.1 | 10.100.11.*", "\"10.100.11.54\"", true},
    {">1 & <20 | >31 & <33", "\"32\"", true},
    {">1 & <20 | >31 & <33", "\"21\"", false},
    {"0.00001-2.00001", "0", false},
    {"0.00001-2.00001", "2", true},
    {"0.00001-2.00001", "2.0001", false},
    {"0.00001!-2.00001", "2.0001", true},
    {"2-2", "2", true},
    {"2!-2", "2", false},
    {"2.99998-3", "2.99999", true},
    {"2.99998!-3", "3.00001", true},
    {"128Mi-512Mi", "\"256Mi\"", true},
    {"128Mi-512Mi", "\"1024Mi\"", false},
    {"128Mi!-512Mi", "\"64Mi\"", true},
    {">7.000001", "7.00001", true},
    {"!7", "7.00001", true},
    {"7", "7.0", true},
    {"<6", "6.000000001", false},
    {">1000Mi", "\"1Gi\"", true},
    {"<1Gi", "\"1G\"", true},
    {">=0.5", "\"500m\"", true},
    {"<=.5", "\"0.2\"", true},
    {"!.5", "\"0.2\"", true},
    {"1024Gi", "\"gii\"", false},
    {"1024", "1024", true},
    {"!5.10.84-1", "\"5.16.5-arch1-1\"", true},
    {"!5.10.84-1", "\"5.10.84-1\"", false},
    {"!5.10.84-1 & !5.15.2-1", "\"5.15.2-1\"", false},
    {"!5.10.84-1 & !5.15.2-1", "\"5.16.5-arch1-1\"", true},
    /* unicode spaces are trimmed from operands */
    {">\xC2\xA0"
     "5",
     "6", true},
};

static cJSON *parse_value(const char *json)
{
    cJSON *v;

    if (json == NULL) {
        return NULL;
    }
    v = cJSON_Parse(json);
    if (v == NULL) {
        fail_msg("bad test JSON: %s", json);
    }
    return v;
}

static void test_operator_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(op_cases); i++) {
        const struct op_case *c = &op_cases[i];
        struct pol_strpat *p = NULL;
        struct cm_err err;
        cJSON *v;
        bool got;

        if (pol_strpat_compile(c->pattern, strlen(c->pattern), &p, &err) != 0) {
            fail_msg("case %zu: compile '%s': %s", i, c->pattern, err.msg);
        }
        v = parse_value(c->value);
        got = pol_strpat_match(p, v);
        if (got != c->want) {
            fail_msg("case %zu: pattern '%s' value %s: want %d got %d", i, c->pattern,
                     c->value != NULL ? c->value : "(missing)", c->want, got);
        }
        cJSON_Delete(v);
        pol_strpat_destroy(p);
    }
}

static void test_operator_text(void **state)
{
    struct pol_strpat *p = NULL;
    size_t n = 0;

    (void)state;
    assert_int_equal(pol_strpat_compile(">1 | a", 6, &p, NULL), 0);
    assert_string_equal(pol_strpat_text(p, &n), ">1 | a");
    assert_int_equal(n, 6);
    pol_strpat_destroy(p);
    pol_strpat_destroy(NULL);
}

static void test_operator_limits(void **state)
{
    char *s = malloc(POLICY_MAX_STRING + 1);
    struct pol_strpat *p = NULL;
    struct cm_err err;

    (void)state;
    assert_non_null(s);
    memset(s, 'a', POLICY_MAX_STRING + 1);
    s[1] = '|';
    assert_int_equal(pol_strpat_compile(s, POLICY_MAX_STRING, &p, &err), 0);
    pol_strpat_destroy(p);
    p = NULL;
    assert_int_equal(pol_strpat_compile(s, POLICY_MAX_STRING + 1, &p, &err), CM_ETOOBIG);
    assert_null(p);
    /* thousands of alternatives compile and match */
    memset(s, '|', 5000);
    s[5000] = 'z';
    assert_int_equal(pol_strpat_compile(s, 5001, &p, &err), 0);
    {
        cJSON *v = cJSON_CreateString("z");

        assert_true(pol_strpat_match(p, v));
        cJSON_Delete(v);
    }
    pol_strpat_destroy(p);
    free(s);
}

static void test_operator_bad_utf8(void **state)
{
    struct pol_strpat *p = NULL;
    struct cm_err err;

    (void)state;
    assert_int_equal(pol_strpat_compile("a|\xff", 3, &p, &err), CM_EPARSE);
    assert_null(p);
    assert_non_null(strstr(err.msg, "UTF-8"));
    /* also where the operand is no wildcard (ordering operators) */
    assert_int_equal(pol_strpat_compile(">\xC3", 2, &p, &err), CM_EPARSE);
    assert_null(p);
}

static void test_operator_oom(void **state)
{
    static const char *pats[] = {"k10-?*", ">=1Gi & <=2Gi | 1!-10 | !a*b*c", "1-10"};
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(pats); i++) {
        long n;
        bool done = false;

        for (n = 1; n < 1000 && !done; n++) {
            struct pol_strpat *p = NULL;
            int rc;

            cm_alloc_fault_set(n);
            rc = pol_strpat_compile(pats[i], strlen(pats[i]), &p, NULL);
            cm_alloc_fault_set(0);
            if (rc == 0) {
                pol_strpat_destroy(p);
                done = true;
            } else {
                assert_int_equal(rc, CM_ENOMEM);
                assert_null(p);
            }
        }
        assert_true(done);
    }
}

static void test_format_float_E(void **state)
{
    static const struct {
        double v;
        const char *s;
    } cases[] = {
        {2.0, "2E+00"},           {2.5, "2.5E+00"}, {0.1, "1E-01"},
        {-3.25, "-3.25E+00"},     {1e21, "1E+21"},  {1e100, "1E+100"},
        {123.456, "1.23456E+02"}, {0.3, "3E-01"},   {1.0 / 3.0, "3.333333333333333E-01"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(cases); i++) {
        char buf[64];

        (void)pol_format_float_E(cases[i].v, buf, sizeof(buf));
        assert_string_equal(buf, cases[i].s);
    }
}

static int setup_hooks(void **state)
{
    cJSON_Hooks hooks = {cm_malloc, cm_free};

    (void)state;
    cJSON_InitHooks(&hooks);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operator_table),  cmocka_unit_test(test_operator_text),
        cmocka_unit_test(test_operator_limits), cmocka_unit_test(test_operator_bad_utf8),
        cmocka_unit_test(test_operator_oom),    cmocka_unit_test(test_format_float_E),
    };

    return cmocka_run_group_tests(tests, setup_hooks, NULL);
}
