/* SPDX-License-Identifier: Apache-2.0 */
/* test_yaml.c - policy_docs_parse: YAML/JSON to cJSON with positions and limits. */
#include "policy/policy.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static int setup(void **state)
{
    (void)state;
    policy_json_hooks_install();
    return 0;
}

static struct policy_docs *parse_ok(const char *s)
{
    struct policy_docs *d = NULL;
    struct cm_err err;
    int rc = policy_docs_parse("t.yaml", s, strlen(s), &d, &err);

    if (rc != 0)
        fprintf(stderr, "unexpected: %s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_non_null(d);
    return d;
}

static int parse_fail(const char *s, size_t n, struct cm_err *err)
{
    struct policy_docs *d = NULL;
    int rc = policy_docs_parse("t.yaml", s, n, &d, err);

    assert_null(d);
    return rc;
}

static void test_mapping_positions(void **state)
{
    const char *y = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels:\n    a: \"1\"\n";
    struct policy_docs *d = parse_ok(y);
    const cJSON *doc;
    const cJSON *name;
    int line = 0;
    int col = 0;

    (void)state;
    assert_int_equal(policy_docs_count(d), 1);
    doc = policy_docs_get(d, 0);
    assert_string_equal(cJSON_GetObjectItem(doc, "kind")->valuestring, "Pod");
    name = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "metadata"), "name");
    assert_true(policy_docs_pos(d, name, &line, &col));
    assert_int_equal(line, 4);
    assert_int_equal(col, 9);
    assert_true(policy_docs_pos(d, doc, &line, &col));
    assert_int_equal(line, 1);
    assert_int_equal(col, 1);
    assert_false(policy_docs_pos(d, NULL, &line, &col));
    assert_null(policy_docs_get(d, 1));
    policy_docs_destroy(d);
}

static void test_scalar_types(void **state)
{
    const char *y = "a: true\nb: False\nc: 42\nd: -1.5e3\ne: \"42\"\nf: '~'\ng: ~\nh: null\n"
                    "i: 0x1F\nj: 0o17\nk: yes\nl: 1.2.3\nm: !!str 12\nn: |\n  text\n";
    struct policy_docs *d = parse_ok(y);
    const cJSON *o = policy_docs_get(d, 0);

    (void)state;
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "a")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "b")));
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(o, "c")));
    assert_true(cJSON_GetObjectItem(o, "c")->valuedouble == 42.0);
    assert_true(cJSON_GetObjectItem(o, "d")->valuedouble == -1500.0);
    assert_string_equal(cJSON_GetObjectItem(o, "e")->valuestring, "42");
    assert_string_equal(cJSON_GetObjectItem(o, "f")->valuestring, "~");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "g")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "h")));
    assert_true(cJSON_GetObjectItem(o, "i")->valuedouble == 31.0);
    assert_true(cJSON_GetObjectItem(o, "j")->valuedouble == 15.0);
    assert_string_equal(cJSON_GetObjectItem(o, "k")->valuestring, "yes");
    assert_string_equal(cJSON_GetObjectItem(o, "l")->valuestring, "1.2.3");
    assert_string_equal(cJSON_GetObjectItem(o, "m")->valuestring, "12");
    assert_string_equal(cJSON_GetObjectItem(o, "n")->valuestring, "text\n");
    policy_docs_destroy(d);
}

static void test_json_input(void **state)
{
    const char *j = "{\"kind\": \"Deployment\", \"spec\": {\"replicas\": 3, \"x\": [1, \"a\\/b\", "
                    "null, false]}}";
    struct policy_docs *d = parse_ok(j);
    const cJSON *x = cJSON_GetObjectItem(cJSON_GetObjectItem(policy_docs_get(d, 0), "spec"), "x");

    (void)state;
    assert_int_equal(cJSON_GetArraySize(x), 4);
    assert_string_equal(cJSON_GetArrayItem(x, 1)->valuestring, "a/b");
    assert_true(cJSON_IsNull(cJSON_GetArrayItem(x, 2)));
    policy_docs_destroy(d);
}

static void test_multi_docs_and_empty(void **state)
{
    struct policy_docs *d = parse_ok("---\na: 1\n---\n---\n# only a comment\n---\nb: 2\n...\n");

    (void)state;
    assert_int_equal(policy_docs_count(d), 2);
    assert_non_null(cJSON_GetObjectItem(policy_docs_get(d, 1), "b"));
    policy_docs_destroy(d);
    d = parse_ok("");
    assert_int_equal(policy_docs_count(d), 0);
    policy_docs_destroy(d);
}

static void test_alias_expansion(void **state)
{
    struct policy_docs *d = parse_ok("base: &b {x: 1, y: [a, b]}\nuse: *b\nk: &s key\n*s : v\n");
    const cJSON *o = policy_docs_get(d, 0);
    const cJSON *use = cJSON_GetObjectItem(o, "use");

    (void)state;
    assert_non_null(use);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(use, "y")), 2);
    assert_string_equal(cJSON_GetObjectItem(o, "key")->valuestring, "v");
    policy_docs_destroy(d);
}

static void test_alias_bomb(void **state)
{
    /* Nine levels of ten-fold aliases: 10^9 nodes if expanded. */
    const char *y = "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
                    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
                    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
                    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
    struct cm_err err;

    (void)state;
    assert_int_equal(parse_fail(y, strlen(y), &err), CM_ETOOBIG);
    assert_non_null(strstr(err.msg, "POLICY_MAX_NODES"));
    assert_non_null(strstr(err.msg, "t.yaml:"));
}

static void test_undefined_and_recursive_alias(void **state)
{
    struct cm_err err;
    const char *y1 = "a: *nope\n";
    const char *y2 = "a: &x [1, *x]\n";

    (void)state;
    assert_int_equal(parse_fail(y1, strlen(y1), &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "alias"));
    assert_int_equal(parse_fail(y2, strlen(y2), &err), CM_EPARSE);
}

static char *nested(int levels)
{
    char *s = cm_malloc((size_t)levels * 2 + 1);
    int i;

    for (i = 0; i < levels; i++) {
        s[i] = '[';
        s[levels * 2 - 1 - i] = ']';
    }
    s[levels * 2] = '\0';
    return s;
}

static void test_depth_limit(void **state)
{
    char *ok = nested(POLICY_MAX_DEPTH);
    char *bad = nested(POLICY_MAX_DEPTH + 1);
    struct policy_docs *d = parse_ok(ok);
    struct cm_err err;

    (void)state;
    policy_docs_destroy(d);
    assert_int_equal(parse_fail(bad, strlen(bad), &err), CM_ETOOBIG);
    assert_non_null(strstr(err.msg, "t.yaml:1:65:"));
    cm_free(ok);
    cm_free(bad);
}

static void test_alias_depth(void **state)
{
    /* The anchor is 40 deep, used at depth 30: 70 levels after expansion. */
    char y[512];
    char *n40 = nested(40);
    struct cm_err err;
    size_t off;
    int i;

    (void)state;
    off = (size_t)snprintf(y, sizeof(y), "a: &x %s\nb: ", n40);
    for (i = 0; i < 30; i++)
        y[off++] = '[';
    memcpy(y + off, "*x", 2);
    off += 2;
    for (i = 0; i < 30; i++)
        y[off++] = ']';
    y[off] = '\0';
    assert_int_equal(parse_fail(y, off, &err), CM_ETOOBIG);
    assert_non_null(strstr(err.msg, "t.yaml:2:"));
    cm_free(n40);
}

static void test_invalid_utf8(void **state)
{
    const char y[] = "a: \"caf\xc3\x28\"\n";
    struct cm_err err;

    (void)state;
    assert_int_equal(parse_fail(y, sizeof(y) - 1, &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "t.yaml:1:"));
    assert_non_null(strstr(err.msg, "UTF-8"));
}

static void test_nul_rejected(void **state)
{
    const char *y = "a: \"x\\0y\"\n";
    const char raw[] = "a: b\0c\n";
    struct cm_err err;

    (void)state;
    assert_int_equal(parse_fail(y, strlen(y), &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "NUL"));
    assert_int_equal(parse_fail(raw, sizeof(raw) - 1, &err), CM_EPARSE);
}

static void test_duplicate_keys(void **state)
{
    struct cm_err err;
    char big[4096];
    size_t off = 0;
    int i;
    const char *small = "a: 1\nb: 2\na: 3\n";

    (void)state;
    assert_int_equal(parse_fail(small, strlen(small), &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "t.yaml:3:1: duplicate mapping key \"a\""));
    for (i = 0; i < 100; i++)
        off += (size_t)snprintf(big + off, sizeof(big) - off, "k%d: %d\n", i, i);
    (void)snprintf(big + off, sizeof(big) - off, "k7: dup\n");
    assert_int_equal(parse_fail(big, strlen(big), &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "duplicate mapping key \"k7\""));
    /* 100 distinct keys are fine. */
    big[off] = '\0';
    policy_docs_destroy(parse_ok(big));
}

static void test_complex_and_merge_keys(void **state)
{
    struct cm_err err;
    const char *y1 = "? [a, b]\n: 1\n";
    const char *y3 = "a: &l [1]\n*l : 2\n";
    const char *bad_merges[] = {
        "m:\n  <<: 5\n",
        "a: &a [1]\nm:\n  <<: *a\n",
        "m:\n  <<: [{a: 1}, 2]\n",
        "a: &a {x: 1}\nm:\n  <<: *a\n  <<: *a\n",
        "m:\n  <<:\n",
    };
    size_t i;

    (void)state;
    assert_int_equal(parse_fail(y1, strlen(y1), &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "keys must be scalars"));
    assert_int_equal(parse_fail(y3, strlen(y3), &err), CM_EPARSE);
    for (i = 0; i < CM_ARRAY_LEN(bad_merges); i++) {
        if (parse_fail(bad_merges[i], strlen(bad_merges[i]), &err) != CM_EPARSE ||
            strstr(err.msg, "merge key") == NULL)
            fail_msg("accepted merge %zu: %s", i, err.msg);
    }
    assert_int_equal(parse_fail(bad_merges[0], strlen(bad_merges[0]), &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "t.yaml:2:3: a merge key (<<) takes a mapping"));
}

static void test_merge_keys(void **state)
{
    const char *y = "base: &b {x: 1, y: 2, z: 3}\n"
                    "other: &o {y: 20, w: 40}\n"
                    "one:\n  <<: *b\n  y: 9\n"
                    "two:\n  y: 9\n  <<: [*o, *b]\n"
                    "three: {<<: {q: 1}, r: 2}\n"
                    "quoted: {\"<<\": 1}\n";
    struct policy_docs *d = parse_ok(y);
    const cJSON *o = policy_docs_get(d, 0);
    const cJSON *one = cJSON_GetObjectItem(o, "one");
    const cJSON *two = cJSON_GetObjectItem(o, "two");
    const cJSON *three = cJSON_GetObjectItem(o, "three");

    (void)state;
    /* explicit keys win wherever they appear; earlier sources win over later ones */
    assert_int_equal(cJSON_GetArraySize(one), 3);
    assert_true(cJSON_GetObjectItem(one, "y")->valuedouble == 9.0);
    assert_true(cJSON_GetObjectItem(one, "x")->valuedouble == 1.0);
    assert_null(cJSON_GetObjectItem(one, "<<"));
    assert_int_equal(cJSON_GetArraySize(two), 4);
    assert_true(cJSON_GetObjectItem(two, "y")->valuedouble == 9.0);
    assert_true(cJSON_GetObjectItem(two, "w")->valuedouble == 40.0);
    assert_true(cJSON_GetObjectItem(two, "z")->valuedouble == 3.0);
    assert_int_equal(cJSON_GetArraySize(three), 2);
    assert_non_null(cJSON_GetObjectItem(three, "q"));
    /* a quoted "<<" is an ordinary key */
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "quoted"), "<<"));
    /* the source is left intact */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "base")), 3);
    policy_docs_destroy(d);
}

static void test_big_merge(void **state)
{
    /* 20,000 merged keys and 30 explicit ones (10 overlapping): sorted, not quadratic. */
    size_t cap = 20000 * 24 + 4096;
    char *y = cm_malloc(cap);
    size_t off = 0;
    struct policy_docs *d = NULL;
    struct cm_err err;
    const cJSON *m;
    int i;

    (void)state;
    off += (size_t)snprintf(y + off, cap - off, "base: &b\n");
    for (i = 0; i < 20000; i++)
        off += (size_t)snprintf(y + off, cap - off, "  k%d: base\n", i);
    off += (size_t)snprintf(y + off, cap - off, "m:\n  <<: *b\n");
    for (i = 19990; i < 20020; i++)
        off += (size_t)snprintf(y + off, cap - off, "  k%d: mine\n", i);
    assert_int_equal(policy_docs_parse("t.yaml", y, off, &d, &err), 0);
    m = cJSON_GetObjectItem(policy_docs_get(d, 0), "m");
    assert_int_equal(cJSON_GetArraySize(m), 20020);
    assert_string_equal(cJSON_GetObjectItem(m, "k19995")->valuestring, "mine");
    assert_string_equal(cJSON_GetObjectItem(m, "k5")->valuestring, "base");
    policy_docs_destroy(d);
    cm_free(y);
}

static void test_syntax_error_position(void **state)
{
    struct cm_err err;
    const char *y = "a: 1\nb: [1, 2\nc: 3\n";
    const char *j = "{\"a\": 1,, }";

    (void)state;
    assert_int_equal(parse_fail(y, strlen(y), &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "t.yaml:"));
    assert_non_null(strstr(err.msg, "YAML:"));
    assert_int_equal(parse_fail(j, strlen(j), &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "t.yaml:1:"));
}

static void test_too_many_docs(void **state)
{
    size_t n = (size_t)(POLICY_MAX_DOCS + 1) * 9;
    char *y = cm_malloc(n + 1);
    size_t i;
    struct cm_err err;
    struct policy_docs *d = NULL;

    (void)state;
    for (i = 0; i < (size_t)POLICY_MAX_DOCS + 1; i++)
        memcpy(y + i * 9, "---\na: 1\n", 9);
    y[n] = '\0';
    /* exactly the limit passes */
    assert_int_equal(policy_docs_parse("t.yaml", y, n - 9, &d, &err), 0);
    assert_int_equal(policy_docs_count(d), POLICY_MAX_DOCS);
    policy_docs_destroy(d);
    d = NULL;
    assert_int_equal(policy_docs_parse("t.yaml", y, n, &d, &err), CM_ETOOBIG);
    assert_null(d);
    cm_free(y);
}

static void test_too_big(void **state)
{
    struct cm_err err;
    struct policy_docs *d = NULL;

    (void)state;
    assert_int_equal(policy_docs_parse("t.yaml", "a", (size_t)POLICY_MAX_FILE_BYTES + 1, &d, &err),
                     CM_ETOOBIG);
    assert_null(d);
    assert_int_equal(policy_docs_parse("t.yaml", NULL, 3, &d, &err), CM_EINVAL);
}

static void test_many_anchors(void **state)
{
    /* 200,000 anchors, every 1,000th aliased, plus a redefinition: each alias must resolve
     * to its own (latest) anchor. A stream of many anchors must also stay linear. */
    size_t n = 200000;
    size_t cap = n * 24 + 64;
    char *y = cm_malloc(cap);
    size_t off = 0;
    size_t i;
    struct policy_docs *d = NULL;
    struct cm_err err;
    const cJSON *root;

    (void)state;
    for (i = 0; i < n; i++)
        off += (size_t)snprintf(y + off, cap - off, "- &a%zu v%zu\n", i, i);
    off += (size_t)snprintf(y + off, cap - off, "- &a5 again\n- *a5\n");
    for (i = 0; i < n; i += 1000)
        off += (size_t)snprintf(y + off, cap - off, "- *a%zu\n", i);
    assert_int_equal(policy_docs_parse("t.yaml", y, off, &d, &err), 0);
    root = policy_docs_get(d, 0);
    assert_int_equal(cJSON_GetArraySize(root), (int)(n + 2 + n / 1000));
    assert_string_equal(cJSON_GetArrayItem(root, (int)n + 1)->valuestring, "again");
    for (i = 0; i < n / 1000; i++) {
        char want[32];

        (void)snprintf(want, sizeof(want), "v%zu", i * 1000);
        if (i * 1000 == 5)
            continue;
        assert_string_equal(cJSON_GetArrayItem(root, (int)(n + 2 + i))->valuestring, want);
    }
    policy_docs_destroy(d);
    cm_free(y);
}

static void test_oom_loop(void **state)
{
    const char *y = "a: &x {b: [1, 2, {c: d}], e: f}\ng: *x\nm: {<<: *x, e: g}\n---\nh: [i, j]\n";
    long n;
    int rc = CM_ENOMEM;

    (void)state;
    for (n = 1; rc == CM_ENOMEM && n < 10000; n++) {
        struct policy_docs *d = NULL;
        struct cm_err err;

        cm_alloc_fault_set(n);
        rc = policy_docs_parse("t.yaml", y, strlen(y), &d, &err);
        cm_alloc_fault_set(0);
        if (rc == CM_ENOMEM) {
            assert_null(d);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(policy_docs_count(d), 2);
        }
        policy_docs_destroy(d);
    }
    assert_int_equal(rc, 0);
    assert_true(n > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mapping_positions),
        cmocka_unit_test(test_scalar_types),
        cmocka_unit_test(test_json_input),
        cmocka_unit_test(test_multi_docs_and_empty),
        cmocka_unit_test(test_alias_expansion),
        cmocka_unit_test(test_alias_bomb),
        cmocka_unit_test(test_undefined_and_recursive_alias),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_alias_depth),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_nul_rejected),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_complex_and_merge_keys),
        cmocka_unit_test(test_merge_keys),
        cmocka_unit_test(test_big_merge),
        cmocka_unit_test(test_syntax_error_position),
        cmocka_unit_test(test_too_many_docs),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_many_anchors),
        cmocka_unit_test(test_oom_loop),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
