/* SPDX-License-Identifier: Apache-2.0 */
/* test_s3_xml.c - the bounded XML reader: structure, entities, CDATA, what it refuses
 * (DTDs, unknown entities, bad nesting) and both sides of its size, depth and element
 * limits, plus its out-of-memory paths. */
#include "backup/s3/s3_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_str(const char *s, struct s3_xml **x, struct cm_err *err)
{
    return s3_xml_parse(s, strlen(s), x, err);
}

static void test_structure(void **state)
{
    const char *doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- hi -->"
                      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                      "<Name>b</Name><s3:Contents a='1' b = \"2\"><Key>k1</Key></s3:Contents>"
                      "<Contents><Key>k2</Key><Empty/></Contents></ListBucketResult>\n";
    struct s3_xml *x = NULL;
    const struct s3_xml_node *root;
    const struct s3_xml_node *c;
    char buf[16];
    struct cm_err err;

    (void)state;
    assert_int_equal(parse_str(doc, &x, &err), 0);
    root = s3_xml_root(x);
    assert_true(s3_xml_is(root, "ListBucketResult"));
    assert_int_equal(s3_xml_child_text(x, root, "Name", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "b");
    c = s3_xml_child(x, root, "Contents"); /* the prefix is dropped */
    assert_non_null(c);
    assert_int_equal(s3_xml_child_text(x, c, "Key", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "k1");
    c = s3_xml_next(x, c, "Contents");
    assert_non_null(c);
    assert_int_equal(s3_xml_child_text(x, c, "Key", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "k2");
    assert_non_null(s3_xml_child(x, c, "Empty"));
    assert_true(s3_xml_text_is(s3_xml_child(x, c, "Empty"), ""));
    assert_null(s3_xml_next(x, c, "Contents"));
    assert_int_equal(s3_xml_child_text(x, c, "Nope", buf, sizeof(buf)), CM_ENOENT);
    assert_int_equal(s3_xml_child_text(x, c, "Key", buf, 2), CM_ETOOBIG); /* "k2" + NUL */
    assert_int_equal(s3_xml_child_text(x, c, "Key", buf, 3), 0);
    assert_null(s3_xml_child(x, NULL, "Key"));
    s3_xml_destroy(x);
    s3_xml_destroy(NULL);
}

static void test_entities_and_cdata(void **state)
{
    struct s3_xml *x = NULL;
    char buf[64];
    struct cm_err err;

    (void)state;
    assert_int_equal(
        parse_str("<a>&amp;&lt;&gt;&quot;&apos;&#65;&#x42;&#x20AC;&#x1F600;</a>", &x, &err), 0);
    assert_int_equal(s3_xml_text_copy(s3_xml_root(x), buf, sizeof(buf)), 0);
    assert_string_equal(buf, "&<>\"'AB\xe2\x82\xac\xf0\x9f\x98\x80");
    s3_xml_destroy(x);
    assert_int_equal(parse_str("<a>x<![CDATA[<&>]]>y<!--c-->z</a>", &x, &err), 0);
    assert_int_equal(s3_xml_text_copy(s3_xml_root(x), buf, sizeof(buf)), 0);
    assert_string_equal(buf, "x<&>yz");
    s3_xml_destroy(x);
}

static void expect_error(const char *doc, int code, const char *why)
{
    struct s3_xml *x = NULL;
    struct cm_err err;

    assert_int_equal(parse_str(doc, &x, &err), code);
    assert_null(x);
    if (why != NULL && strstr(err.msg, why) == NULL)
        fail_msg("\"%s\": got \"%s\", wanted \"%s\"", doc, err.msg, why);
}

static void test_refusals(void **state)
{
    (void)state;
    expect_error("<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>", CM_EPARSE, "DTD");
    expect_error("<a>&x;</a>", CM_EPARSE, "unknown entity");
    expect_error("<a>&amp</a>", CM_EPARSE, "unterminated entity");
    expect_error("<a>&#0;</a>", CM_EPARSE, "invalid character reference");
    expect_error("<a>&#xD800;</a>", CM_EPARSE, "invalid character reference");
    expect_error("<a>&#x110000;</a>", CM_EPARSE, "out of range");
    expect_error("<a>&#x;</a>", CM_EPARSE, "empty character reference");
    expect_error("<a>&#1a;</a>", CM_EPARSE, "bad character reference");
    expect_error("<a><b></a></b>", CM_EPARSE, "mismatched end tag");
    expect_error("<a><b>", CM_EPARSE, "unclosed element");
    expect_error("<a/><b/>", CM_EPARSE, "more than one document element");
    expect_error("x<a/>", CM_EPARSE, "outside the document element");
    expect_error("<a/>x", CM_EPARSE, "outside the document element");
    expect_error("", CM_EPARSE, "no document element");
    expect_error("   ", CM_EPARSE, "no document element");
    expect_error("</a>", CM_EPARSE, "end tag without start tag");
    expect_error("<a b=c/>", CM_EPARSE, "unquoted attribute value");
    expect_error("<a b/>", CM_EPARSE, "without '='");
    expect_error("<a b=\"<\"/>", CM_EPARSE, "'<' in attribute value");
    expect_error("<a b=\"x", CM_EPARSE, "unterminated");
    expect_error("<a><!-- x </a>", CM_EPARSE, "unterminated comment");
    expect_error("<a><![CDATA[x</a>", CM_EPARSE, "unterminated CDATA");
    expect_error("<?xml version='1.0'", CM_EPARSE, "unterminated processing instruction");
    expect_error("<>", CM_EPARSE, "bad element name");
    expect_error("<a/ >", CM_EPARSE, "expected '>'");
}

static void test_depth_limit(void **state)
{
    char doc[1024];
    size_t n = 0;
    int i;
    struct s3_xml *x = NULL;
    struct cm_err err;

    (void)state;
    for (i = 0; i < S3_MAX_XML_DEPTH; i++)
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, "<e>");
    for (i = 0; i < S3_MAX_XML_DEPTH; i++)
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, "</e>");
    assert_int_equal(s3_xml_parse(doc, n, &x, &err), 0); /* exactly the limit */
    s3_xml_destroy(x);
    n = 0;
    for (i = 0; i < S3_MAX_XML_DEPTH + 1; i++)
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, "<e>");
    for (i = 0; i < S3_MAX_XML_DEPTH + 1; i++)
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, "</e>");
    x = NULL;
    assert_int_equal(s3_xml_parse(doc, n, &x, &err), CM_ETOOBIG); /* limit + 1 */
    assert_null(x);
}

static void test_size_limit(void **state)
{
    size_t n = S3_MAX_XML_BYTES;
    char *doc = malloc(n + 1);
    struct s3_xml *x = NULL;
    struct cm_err err;

    (void)state;
    assert_non_null(doc);
    memset(doc, ' ', n + 1);
    memcpy(doc, "<a>", 3);
    memcpy(doc + n - 4, "</a>", 4);
    assert_int_equal(s3_xml_parse(doc, n, &x, &err), 0);
    s3_xml_destroy(x);
    x = NULL;
    memcpy(doc + n - 4, "    ", 4);
    memcpy(doc + n + 1 - 4, "</a>", 4);
    assert_int_equal(s3_xml_parse(doc, n + 1, &x, &err), CM_ETOOBIG);
    assert_null(x);
    free(doc);
}

static void test_element_limit(void **state)
{
    /* Node 0 is the sentinel and the root is one more element. */
    size_t kids = S3_XML_MAX_NODES - 2;
    size_t cap = 8 + (kids + 1) * 4;
    char *doc = malloc(cap);
    size_t n = 0;
    size_t i;
    struct s3_xml *x = NULL;
    struct cm_err err;

    (void)state;
    assert_non_null(doc);
    memcpy(doc, "<r>", 3);
    n = 3;
    for (i = 0; i < kids; i++) {
        memcpy(doc + n, "<b/>", 4);
        n += 4;
    }
    memcpy(doc + n, "</r>", 4);
    assert_int_equal(s3_xml_parse(doc, n + 4, &x, &err), 0);
    s3_xml_destroy(x);
    x = NULL;
    memcpy(doc + n, "<b/></r>", 8);
    assert_int_equal(s3_xml_parse(doc, n + 8, &x, &err), CM_ETOOBIG);
    assert_null(x);
    free(doc);
}

static void test_oom(void **state)
{
    const char *doc = "<a><b>1</b><c>2</c><d><e>&amp;</e></d></a>";
    struct s3_xml *x = NULL;
    struct cm_err err;
    long n;
    int rc;

    (void)state;
    for (n = 1;; n++) {
        cm_alloc_fault_set(n);
        rc = parse_str(doc, &x, &err);
        cm_alloc_fault_set(0);
        if (rc == 0)
            break;
        assert_int_equal(rc, CM_ENOMEM);
        assert_null(x);
    }
    assert_true(n > 2);
    assert_true(s3_xml_is(s3_xml_root(x), "a"));
    s3_xml_destroy(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_structure),  cmocka_unit_test(test_entities_and_cdata),
        cmocka_unit_test(test_refusals),   cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_size_limit), cmocka_unit_test(test_element_limit),
        cmocka_unit_test(test_oom),
    };

    return cmocka_run_group_tests_name("s3_xml", tests, NULL, NULL);
}
