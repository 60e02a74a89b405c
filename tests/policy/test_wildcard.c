/* SPDX-License-Identifier: Apache-2.0 */
/* test_wildcard.c - unit tests of policy_wildcard.c: Kyverno's '*'/'?' semantics on
 * every compiled path (literal, '*', affix, PCRE2, linear), limits and OOM. */
#include "policy/policy_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wc_case {
    const char *pat;
    const char *subject;
    bool match;
};

/* Each row is checked through the compiled matcher and the one-shot matcher. */
static const struct wc_case wc_cases[] = {
    /* empty pattern only matches empty */
    {"", "", true},
    {"", "a", false},
    /* literals */
    {"abc", "abc", true},
    {"abc", "abcd", false},
    {"abc", "ab", false},
    {"abc", "ABC", false}, /* case-sensitive */
    /* '*' alone and runs of stars */
    {"*", "", true},
    {"*", "anything/at/all", true},
    {"***", "", true},
    /* '*' matches '/' too */
    {"a*", "a/b/c", true},
    {"*/x", "ns/name/x", true},
    /* '?' is exactly one rune */
    {"?", "", false},
    {"?", "a", true},
    {"?", "ab", false},
    {"?", "\xC3\xA9", true},         /* é is one rune, two bytes */
    {"??", "\xC3\xA9", false},       /* ... not two */
    {"?", "\xF0\x9F\x98\x80", true}, /* 4-byte rune */
    {"?", "\xff", true},             /* an invalid byte is one rune (Go) */
    {"??", "\xff\xfe", true},
    /* '?*' means non-empty */
    {"?*", "", false},
    {"?*", "x", true},
    {"*?", "", false},
    {"*?", "xy", true},
    /* the shipped guardrail's value */
    {"k10-?*", "k10-goldpolicy", true},
    {"k10-?*", "k10-", false},
    {"k10-?*", "k10", false},
    {"k10-?*", "goldpolicy", false},
    {"k10-?*", "K10-gold", false},
    {"k10-*", "k10-", true},
    /* prefix / suffix fast paths */
    {"abc*", "abc", true},
    {"abc*", "abcdef", true},
    {"abc*", "xabc", false},
    {"*.svc", "kube-dns.svc", true},
    {"*.svc", ".svc", true},
    {"*.svc", "svc", false},
    {"a??b", "axyb", true},
    {"a??b", "axb", false},
    {"a??b", "axyzb", false},
    {"a?*?b", "axyb", true},
    {"a?*?b", "axb", false},
    {"a?*?b", "ax\xC3\xA9zb", true},
    /* general (PCRE2 / linear) */
    {"a*b*c", "abc", true},
    {"a*b*c", "aXXbYYc", true},
    {"a*b*c", "aXXbYY", false},
    {"*foo*", "barfoobaz", true},
    {"*foo*", "fo", false},
    {"a?c*e", "abcde", true},
    {"a?c*e", "abde", false},
    {"*a?b*",
     "xxa\xC3\xA9"
     "bzz",
     true},
    {"fluxcd.io/*", "fluxcd.io/sync-gc-mark", true},
    {"*.io/*", "fluxcd.io/x", true},
    {"*.io/*", "fluxcd.iox", false},
    /* regex metacharacters are literal */
    {"a.c", "abc", false},
    {"a.c", "a.c", true},
    {"a.c*", "abc", false},
    {"(x)*[y]", "(x)zz[y]", true},
    {"(x)*[y]", "xzzy", false},
    {"\\*", "\\abc", true},
    {"^a*$", "^abc$", true},
    {"a+*b", "a+xb", true},
    {"a+*b", "aaxb", false},
    {"a|*|b", "a|x|b", true},
    /* a literal U+FFFD equals an invalid subject byte, as in Go */
    {"\xEF\xBF\xBD*", "\xff-x", true},
    {"*\xEF\xBF\xBD", "x\xfe", true},
    {"\xEF\xBF\xBD", "\xEF\xBF\xBD", true},
    {"\xEF\xBF\xBD", "\xff", true}, /* literal path too */
    /* invalid UTF-8 subjects on the general path fall back to the linear matcher */
    {"a*b*c",
     "a\xffzb\xfe"
     "c",
     true},
    {"a?b*c", "a\xffzbc", false},
    {"a?b*c",
     "a\xff"
     "bc",
     true},
};

static void test_wildcard_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(wc_cases); i++) {
        const struct wc_case *c = &wc_cases[i];
        struct pol_wildcard *w = NULL;
        struct cm_err err;
        bool got;
        bool raw;

        assert_int_equal(pol_wildcard_compile(c->pat, strlen(c->pat), &w, &err), 0);
        got = pol_wildcard_match(w, c->subject, strlen(c->subject));
        raw = pol_wildcard_match_raw(c->pat, strlen(c->pat), c->subject, strlen(c->subject));
        if (got != c->match || raw != c->match) {
            fail_msg("case %zu: pattern '%s' subject '%s': want %d, compiled %d, raw %d", i, c->pat,
                     c->subject, c->match, got, raw);
        }
        pol_wildcard_destroy(w);
    }
}

static void test_wildcard_is_literal(void **state)
{
    struct pol_wildcard *w = NULL;

    (void)state;
    assert_int_equal(pol_wildcard_compile("Deployment", 10, &w, NULL), 0);
    assert_true(pol_wildcard_is_literal(w));
    pol_wildcard_destroy(w);
    assert_int_equal(pol_wildcard_compile("Deploy*", 7, &w, NULL), 0);
    assert_false(pol_wildcard_is_literal(w));
    pol_wildcard_destroy(w);
    assert_int_equal(pol_wildcard_compile("?", 1, &w, NULL), 0);
    assert_false(pol_wildcard_is_literal(w));
    pol_wildcard_destroy(w);
    pol_wildcard_destroy(NULL); /* no-op */
}

/* Embedded NUL bytes are ordinary characters: (ptr, len) is never NUL-terminated. */
static void test_wildcard_nul_bytes(void **state)
{
    struct pol_wildcard *w = NULL;

    (void)state;
    assert_int_equal(pol_wildcard_compile("a\0b", 3, &w, NULL), 0);
    assert_true(pol_wildcard_match(w, "a\0b", 3));
    assert_false(pol_wildcard_match(w, "a", 1));
    pol_wildcard_destroy(w);
    assert_int_equal(pol_wildcard_compile("*\0*x", 4, &w, NULL), 0);
    assert_true(pol_wildcard_match(w, "yy\0zx", 5));
    assert_false(pol_wildcard_match(w, "yyzx", 4));
    pol_wildcard_destroy(w);
}

static void test_wildcard_invalid_utf8(void **state)
{
    struct pol_wildcard *w = NULL;
    struct cm_err err;
    static const char *bad[] = {
        "\xff", "a\xC3", "\xC0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "k10-\xE2\x82"};
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(bad); i++) {
        assert_int_equal(pol_wildcard_compile(bad[i], strlen(bad[i]), &w, &err), CM_EPARSE);
        assert_int_equal(err.code, CM_EPARSE);
        assert_non_null(strstr(err.msg, "UTF-8"));
        assert_null(w);
    }
}

static void test_wildcard_length_limit(void **state)
{
    char *p = malloc(POLICY_MAX_STRING + 2);
    struct pol_wildcard *w = NULL;
    struct cm_err err;

    (void)state;
    assert_non_null(p);
    memset(p, 'a', POLICY_MAX_STRING + 1);
    p[0] = '*';
    p[POLICY_MAX_STRING / 2] = '?';
    p[POLICY_MAX_STRING / 2 + 1] = '*';
    /* exactly the limit compiles and matches */
    assert_int_equal(pol_wildcard_compile(p, POLICY_MAX_STRING, &w, &err), 0);
    assert_true(pol_wildcard_match(w, p + 1, POLICY_MAX_STRING - 1));
    pol_wildcard_destroy(w);
    w = NULL;
    /* limit + 1 is refused */
    assert_int_equal(pol_wildcard_compile(p, POLICY_MAX_STRING + 1, &w, &err), CM_ETOOBIG);
    assert_null(w);
    assert_non_null(strstr(err.msg, "limit"));
    free(p);
}

/* A pattern that makes a backtracking engine explode must still answer quickly and
 * correctly (PCRE2 hits its match limit, the linear matcher decides). */
static void test_wildcard_pathological(void **state)
{
    static const char pat[] = "*a*a*a*a*a*a*a*a*a*a*a*a*b";
    char subject[4097];
    struct pol_wildcard *w = NULL;

    (void)state;
    memset(subject, 'a', sizeof(subject) - 1);
    subject[sizeof(subject) - 1] = '\0';
    /* a 'b' exists (so PCRE2's required-character check cannot shortcut) but not last */
    subject[sizeof(subject) / 2] = 'b';
    assert_int_equal(pol_wildcard_compile(pat, sizeof(pat) - 1, &w, NULL), 0);
    assert_false(pol_wildcard_match(w, subject, sizeof(subject) - 1));
    subject[sizeof(subject) - 2] = 'b';
    assert_true(pol_wildcard_match(w, subject, sizeof(subject) - 1));
    pol_wildcard_destroy(w);
}

/* Matching never allocates, on any path (PCRE2 match data lives on the stack). */
static void test_wildcard_match_no_alloc(void **state)
{
    static const char *pats[] = {"lit", "*", "k10-?*", "a*b?c*d"};
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(pats); i++) {
        struct pol_wildcard *w = NULL;

        assert_int_equal(pol_wildcard_compile(pats[i], strlen(pats[i]), &w, NULL), 0);
        cm_alloc_fault_set(1);
        (void)pol_wildcard_match(w, "aXbYcZd", 7);
        (void)pol_wildcard_match(w,
                                 "a\xff"
                                 "b",
                                 3);
        assert_false(cm_alloc_fault_fired());
        cm_alloc_fault_set(0);
        pol_wildcard_destroy(w);
    }
}

/* OOM loop: fail allocation N for N = 1, 2, ... until compile succeeds. */
static void test_wildcard_oom(void **state)
{
    static const char *pats[] = {"literal", "k10-?*", "a*b?c*d", "*"};
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(pats); i++) {
        long n;
        bool done = false;

        for (n = 1; n < 1000 && !done; n++) {
            struct pol_wildcard *w = NULL;
            struct cm_err err;
            int rc;

            cm_alloc_fault_set(n);
            rc = pol_wildcard_compile(pats[i], strlen(pats[i]), &w, &err);
            if (rc == 0) {
                cm_alloc_fault_set(0);
                assert_true(pol_wildcard_match(w, "a-b-c-d", 7) ==
                            pol_wildcard_match_raw(pats[i], strlen(pats[i]), "a-b-c-d", 7));
                pol_wildcard_destroy(w);
                done = true;
            } else {
                assert_int_equal(rc, CM_ENOMEM);
                assert_null(w);
                assert_true(cm_alloc_fault_fired());
            }
        }
        cm_alloc_fault_set(0);
        assert_true(done);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wildcard_table),
        cmocka_unit_test(test_wildcard_is_literal),
        cmocka_unit_test(test_wildcard_nul_bytes),
        cmocka_unit_test(test_wildcard_invalid_utf8),
        cmocka_unit_test(test_wildcard_length_limit),
        cmocka_unit_test(test_wildcard_pathological),
        cmocka_unit_test(test_wildcard_oom),
        cmocka_unit_test(test_wildcard_match_no_alloc),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
