/* SPDX-License-Identifier: Apache-2.0 */
/* test_kube_jt.c - JSON by byte span: the strict grammar (and that cJSON accepts what
 * it accepts), the tape's shape, lookups through escapes, unescaping, drop and emit,
 * the limits (depth, values) and allocation failures. */
#include "backup/kube/kube_jt.h"

#include <cjson/cJSON.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

static int parse(struct kube_jt *t, const char *s, struct kube_jt_error *e)
{
    return kube_jt_parse(t, s, strlen(s), 16, e);
}

static void test_grammar(void **state)
{
    static const char *good[] = {
        "0",
        "-0",
        "1.5e-3",
        "-12E+7",
        "true",
        "false",
        "null",
        "\"\"",
        " {} ",
        "[]",
        "{\"a\":[1,{\"b\":null}],\"c\":\"\\u00e9\\ud83d\\ude00\\n\\\"\"}",
        "[ 1 , 2 ]\n",
        "\"12345678901234567890 long enough for the 8-byte scan \\\\ \"",
    };
    static const char *bad[] = {
        "",
        " ",
        "01",
        "1.",
        ".5",
        "+1",
        "1e",
        "tru",
        "nul",
        "[1,]",
        "{,}",
        "{\"a\"}",
        "{\"a\":}",
        "{a:1}",
        "[1 2]",
        "\"\\x\"",
        "\"\t\"",
        "\"abc",
        "[",
        "{\"a\":1",
        "1 2",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"\\ud800\\u0041\"",
        "\"\\u12\"",
        "[\"\\u0000\" 1]",
        "1234567890123456789012345678901234567890123456789012345678901234", /* 64 > 63 */
    };
    struct kube_jt t;
    struct kube_jt_error e;
    size_t i;

    (void)state;
    kube_jt_init(&t);
    for (i = 0; i < CM_ARRAY_LEN(good); i++) {
        cJSON *j = cJSON_Parse(good[i]);

        assert_int_equal(parse(&t, good[i], &e), 0);
        assert_int_equal(parse(NULL, good[i], &e), 0);
        /* what passes here, cJSON parses (kube_json_parse relies on it) */
        assert_non_null(j);
        cJSON_Delete(j);
    }
    for (i = 0; i < CM_ARRAY_LEN(bad); i++) {
        assert_int_equal(parse(&t, bad[i], &e), CM_EPARSE);
        assert_int_equal(t.count, 0);
        assert_int_equal(parse(NULL, bad[i], &e), CM_EPARSE);
    }
    /* where and why */
    assert_int_equal(parse(&t, "[1,2,x]", &e), CM_EPARSE);
    assert_int_equal(e.offset, 5);
    assert_false(e.trailing);
    assert_int_equal(parse(&t, "{} {}", &e), CM_EPARSE);
    assert_true(e.trailing);
    assert_int_equal(parse(&t, "[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]", &e), CM_EPARSE);
    assert_true(e.too_deep);
    assert_int_equal(parse(&t, "[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]", &e), 0); /* 16 deep */
    /* not NUL-terminated: the length is the end */
    assert_int_equal(kube_jt_parse(&t, "[1]xyz", 3, 4, &e), 0);
    kube_jt_free(&t);
}

static void test_tape_and_lookups(void **state)
{
    static const char doc[] = "{\"metadata\":{\"name\":\"web\",\"labels\":{}},"
                              "\"k\\u0069nd\":\"Dep\\u006coyment\",\"items\":[1,\"two\",[]],"
                              "\"esc\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\","
                              "\"nul\":\"x\\u0000y\",\"e\":[]}";
    struct kube_jt t;
    uint32_t md, items, c;
    char buf[64];

    (void)state;
    kube_jt_init(&t);
    assert_int_equal(parse(&t, doc, NULL), 0);
    assert_int_equal(t.n[0].type, KUBE_JT_OBJECT);
    assert_int_equal(t.n[0].start, 0);
    assert_int_equal(t.n[0].end, strlen(doc));
    md = kube_jt_get(&t, 0, "metadata");
    assert_int_equal(md, 1);
    assert_true(kube_jt_str_eq(&t, kube_jt_get(&t, md, "name"), "web"));
    assert_false(kube_jt_str_eq(&t, kube_jt_get(&t, md, "name"), "we"));
    assert_int_equal(kube_jt_first(&t, kube_jt_get(&t, md, "labels")), 0); /* empty */
    /* an escaped key and an escaped value */
    assert_true(kube_jt_str_eq(&t, kube_jt_get(&t, 0, "kind"), "Deployment"));
    assert_int_equal(kube_jt_get(&t, 0, "k\\u0069nd"), 0);
    assert_int_equal(kube_jt_get(&t, 0, "absent"), 0);
    assert_int_equal(kube_jt_get(&t, md + 1, "x"), 0); /* a string is not an object */
    /* siblings in order */
    items = kube_jt_get(&t, 0, "items");
    c = kube_jt_first(&t, items);
    assert_int_equal(t.n[c].type, KUBE_JT_NUMBER);
    c = t.n[c].next;
    assert_int_equal(t.n[c].type, KUBE_JT_STRING);
    assert_int_equal(t.n[c].parent, items);
    c = t.n[c].next;
    assert_int_equal(t.n[c].type, KUBE_JT_ARRAY);
    assert_int_equal(t.n[c].next, 0);
    /* unescaping */
    assert_int_equal(kube_jt_str(&t, kube_jt_get(&t, 0, "esc"), buf, sizeof(buf)), 0);
    assert_string_equal(buf, "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
    assert_int_equal(kube_jt_str(&t, kube_jt_get(&t, 0, "esc"), buf, 8), CM_ETOOBIG);
    assert_int_equal(kube_jt_str(&t, kube_jt_get(&t, md, "name"), buf, 4), 0);
    assert_string_equal(buf, "web");
    assert_int_equal(kube_jt_str(&t, kube_jt_get(&t, md, "name"), buf, 3), CM_ETOOBIG);
    assert_int_equal(kube_jt_str(&t, kube_jt_get(&t, 0, "nul"), buf, sizeof(buf)), CM_EPARSE);
    assert_int_equal(kube_jt_str(&t, items, buf, sizeof(buf)), CM_EINVAL);
    kube_jt_free(&t);
}

static char *emit(const struct kube_jt *t, uint32_t i, const char *head)
{
    struct cm_buf b;
    char *s;

    cm_buf_init(&b, 1u << 16);
    assert_int_equal(kube_jt_emit(t, i, head, &b), 0);
    s = cm_buf_take(&b, NULL);
    assert_non_null(s);
    return s;
}

static void test_drop_and_emit(void **state)
{
    static const char doc[] = "{ \"a\" : 1 , \"b\" : [ 1 , {\"x\":1,\"y\":2} , 3 ] ,"
                              " \"c\" : { \"d\" : true } }";
    struct kube_jt t;
    uint32_t b, el;
    char *s;

    (void)state;
    kube_jt_init(&t);
    assert_int_equal(parse(&t, doc, NULL), 0);
    /* untouched: byte for byte, whitespace and all */
    s = emit(&t, 0, NULL);
    assert_string_equal(s, doc);
    cm_free(s);
    /* a head on an untouched object rebuilds only the top level */
    s = emit(&t, 0, "\"k\":\"v\"");
    assert_string_equal(s, "{\"k\":\"v\",\"a\":1,\"b\":[ 1 , {\"x\":1,\"y\":2} , 3 ],"
                           "\"c\":{ \"d\" : true }}");
    cm_free(s);
    /* drop the first member, an array element and a nested member */
    kube_jt_drop(&t, kube_jt_get(&t, 0, "a"));
    b = kube_jt_get(&t, 0, "b");
    el = kube_jt_first(&t, b);
    kube_jt_drop(&t, el);
    kube_jt_drop(&t, kube_jt_get(&t, t.n[el].next, "x"));
    s = emit(&t, 0, NULL);
    assert_string_equal(s, "{\"b\":[{\"y\":2},3],\"c\":{ \"d\" : true }}");
    cm_free(s);
    /* a subtree emits alone; dropping everything leaves empty containers */
    s = emit(&t, kube_jt_get(&t, 0, "c"), NULL);
    assert_string_equal(s, "{ \"d\" : true }");
    cm_free(s);
    kube_jt_drop(&t, kube_jt_get(&t, 0, "b"));
    kube_jt_drop(&t, kube_jt_get(&t, 0, "c"));
    s = emit(&t, 0, "\"k\":1");
    assert_string_equal(s, "{\"k\":1}");
    cm_free(s);
    s = emit(&t, 0, NULL);
    assert_string_equal(s, "{}");
    cm_free(s);
    kube_jt_drop(&t, 0); /* the root: ignored */
    kube_jt_drop(&t, 999);
    kube_jt_free(&t);
}

static void test_limits(void **state)
{
    struct kube_jt t;
    struct kube_jt_error e;
    struct cm_buf b;
    size_t n = KUBE_JT_MAX_NODES;
    size_t i;

    (void)state;
    /* an array of MAX-1 elements is MAX values; one more is refused */
    cm_buf_init(&b, 4 * n);
    assert_int_equal(cm_buf_reserve(&b, 2 * n + 2), 0);
    assert_int_equal(cm_buf_addc(&b, '['), 0);
    for (i = 0; i + 1 < n; i++)
        assert_int_equal(cm_buf_add(&b, i ? ",0" : "0", i ? 2 : 1), 0);
    assert_int_equal(cm_buf_addc(&b, ']'), 0);
    kube_jt_init(&t);
    assert_int_equal(kube_jt_parse(&t, b.ptr, b.len, 4, &e), 0);
    assert_int_equal(t.count, n);
    b.ptr[b.len - 1] = ',';
    assert_int_equal(cm_buf_adds(&b, "0]"), 0);
    assert_int_equal(kube_jt_parse(&t, b.ptr, b.len, 4, &e), CM_EPARSE);
    assert_true(e.too_many);
    assert_int_equal(kube_jt_parse(NULL, b.ptr, b.len, 4, &e), CM_EPARSE);
    assert_true(e.too_many);
    cm_buf_free(&b);
    kube_jt_free(&t);
}

static void test_oom_loop(void **state)
{
    static const char doc[] = "{\"a\":[1,2,3],\"b\":{\"c\":\"d\"}}";
    struct kube_jt t;
    unsigned k;
    int rc;

    (void)state;
    for (k = 1;; k++) {
        kube_jt_init(&t);
        cm_alloc_fault_set(k);
        rc = parse(&t, doc, NULL);
        cm_alloc_fault_set(0);
        if (rc == 0) {
            assert_int_equal(t.count, 7);
            kube_jt_free(&t);
            break;
        }
        assert_int_equal(rc, CM_ENOMEM);
        assert_int_equal(t.count, 0);
        kube_jt_free(&t);
    }
    assert_true(k > 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grammar),       cmocka_unit_test(test_tape_and_lookups),
        cmocka_unit_test(test_drop_and_emit), cmocka_unit_test(test_limits),
        cmocka_unit_test(test_oom_loop),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
