/* SPDX-License-Identifier: Apache-2.0 */
/* test_kube_json.c - unit tests of kube_json_parse: the strict validator accepts what
 * RFC 8259 accepts and cJSON can hold, refuses everything else with CM_EPROTO, and a
 * cJSON failure on valid text (memory) is CM_ENOMEM. */
#include "backup/kube/kube.h"
#include "policy/policy.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

static void test_valid(void **state)
{
    static const char *const ok[] = {
        "0",
        "-0",
        "12",
        "-1.5e+10",
        "0.1E-2",
        "1e5",
        "true",
        "false",
        "null",
        "\"\"",
        "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"",
        "\"\\u00e9\\u20AC\"",
        "\"\\ud83d\\ude00\"",
        "[]",
        "{}",
        " [ 1 , 2 ] ",
        "{\"a\":{\"b\":[null,true,{\"c\":\"d\"}]}}",
        "\"caf\xc3\xa9\"",
        "{\"a\":1}\r\n\t ",
        "123456789012345678901234567890123456789012345678901234567890123", /* 63 chars */
    };
    struct cm_err err;
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(ok); i++) {
        cJSON *j = NULL;

        if (kube_json_parse(ok[i], strlen(ok[i]), &j, &err) != 0)
            fail_msg("refused %s: %s", ok[i], err.msg);
        assert_non_null(j);
        cJSON_Delete(j);
    }
}

static void test_invalid(void **state)
{
    static const char *const bad[] = {
        "01",
        "1.",
        "-",
        ".5",
        "1e",
        "1e+",
        "+1",
        "tru",
        "nul",
        "falsey",
        "\"\\x\"",
        "\"\\u12G4\"",
        "\"\\ud83d\"",
        "\"\\ude00\"",
        "\"\\ud83d\\u0041\"",
        "\"abc",
        "\"a\tb\"",
        "[1,]",
        "[1 2]",
        "{\"a\"}",
        "{\"a\":}",
        "{1:2}",
        "{\"a\":1,}",
        "[",
        "]",
        "{",
        "\"\\",
        "[1]]",
        "{}{}",
        "nan",
        "Infinity",
        "'a'",
        "1234567890123456789012345678901234567890123456789012345678901234", /* 64 chars */
    };
    struct cm_err err;
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(bad); i++) {
        cJSON *j = NULL;
        int rc = kube_json_parse(bad[i], strlen(bad[i]), &j, &err);

        if (rc != CM_EPROTO)
            fail_msg("accepted or misreported %s: rc %d", bad[i], rc);
        assert_null(j);
    }
    /* A NUL inside is not whitespace. */
    {
        cJSON *j = NULL;

        assert_int_equal(kube_json_parse("{}\0", 3, &j, &err), CM_EPROTO);
        assert_non_null(strstr(err.msg, "trailing bytes"));
    }
}

/* Fails each allocation of parse(doc) in turn: every failure is CM_ENOMEM with nothing
 * returned (and, under ASan, nothing leaked), until the parse succeeds. */
static void oom_loop(int (*parse)(const char *, size_t, cJSON **, struct cm_err *), const char *doc)
{
    struct cm_err err;
    long n;

    for (n = 1;; n++) {
        cJSON *j = NULL;
        int rc;

        cm_alloc_fault_set(n);
        rc = parse(doc, strlen(doc), &j, &err);
        if (!cm_alloc_fault_fired()) {
            cm_alloc_fault_set(0);
            assert_int_equal(rc, 0);
            cJSON_Delete(j);
            break;
        }
        cm_alloc_fault_set(0);
        assert_int_equal(rc, CM_ENOMEM);
        assert_null(j);
        assert_true(n < 10000);
    }
}

static void test_oom_is_enomem(void **state)
{
    (void)state;
    oom_loop(kube_json_parse, "{\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"name\":"
                              "\"a\"}},{\"metadata\":{\"name\":\"b\"}}]}");
}

/* kube_json_parse_exact: integers a double cannot hold print with every digit (in
 * objects, arrays, repeated keys, negative), ordinary numbers stay numbers, and the
 * other values are untouched. */
static void test_exact_integers(void **state)
{
    static const char doc[] =
        "{\"spec\":{\"id\":9007199254740993,\"n\":3,\"f\":1.5,\"neg\":-123456789012345678,"
        "\"list\":[12345678901234567890,7,{\"deep\":98765432109876543}],"
        "\"id\":18014398509481985,\"s\":\"9007199254740993\"},\"kind\":\"Big\"}";
    static const char want[] =
        "{\"spec\":{\"id\":9007199254740993,\"n\":3,\"f\":1.5,\"neg\":-123456789012345678,"
        "\"list\":[12345678901234567890,7,{\"deep\":98765432109876543}],"
        "\"id\":18014398509481985,\"s\":\"9007199254740993\"},\"kind\":\"Big\"}";
    struct cm_err err;
    cJSON *j = NULL;
    const cJSON *spec;
    char *out;

    (void)state;
    assert_int_equal(kube_json_parse_exact(doc, strlen(doc), &j, &err), 0);
    out = cJSON_PrintUnformatted(j);
    assert_string_equal(out, want);
    cJSON_free(out);
    spec = cJSON_GetObjectItemCaseSensitive(j, "spec");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(spec, "n")));
    assert_true(cJSON_IsRaw(cJSON_GetObjectItemCaseSensitive(spec, "id")));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(spec, "s")->valuestring,
                        "9007199254740993");
    cJSON_Delete(j);
    /* the plain parse rounds them: the reason for the exact one */
    assert_int_equal(kube_json_parse(doc, strlen(doc), &j, &err), 0);
    out = cJSON_PrintUnformatted(j);
    assert_null(strstr(out, "9007199254740993,"));
    cJSON_free(out);
    cJSON_Delete(j);
    /* errors as kube_json_parse; out of memory anywhere is CM_ENOMEM, nothing leaks */
    j = NULL;
    assert_int_equal(kube_json_parse_exact("[1,", 3, &j, &err), CM_EPROTO);
    assert_null(j);
    oom_loop(kube_json_parse_exact, doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_oom_is_enomem),
        cmocka_unit_test(test_exact_integers),
    };

    policy_json_hooks_install();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
