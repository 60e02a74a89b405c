/* SPDX-License-Identifier: Apache-2.0 */
/* test_manifest.c - policy_manifest_parse (objects, List expansion, each check with its
 * position, OOM) and the size limits of the document parser on both sides. */
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

static const char multi[] = "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n"
                            "---\n"
                            "apiVersion: v1\nkind: List\nitems:\n"
                            "- {apiVersion: apps/v1, kind: Deployment, metadata: {name: b}}\n"
                            "- {apiVersion: apps/v1, kind: StatefulSet, metadata: "
                            "{generateName: c-, labels: {x: y}}}\n"
                            "---\n"
                            "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": "
                            "{\"name\": \"d\"}}\n";

static void test_objects_and_lists(void **state)
{
    struct policy_docs *d = NULL;
    struct cm_err err;

    (void)state;
    assert_int_equal(policy_manifest_parse("m.yaml", multi, strlen(multi), &d, &err), 0);
    assert_int_equal(policy_docs_count(d), 4);
    assert_string_equal(cJSON_GetObjectItem(policy_docs_get(d, 0), "kind")->valuestring, "Service");
    assert_string_equal(cJSON_GetObjectItem(policy_docs_get(d, 1), "kind")->valuestring,
                        "Deployment");
    assert_string_equal(cJSON_GetObjectItem(policy_docs_get(d, 2), "kind")->valuestring,
                        "StatefulSet");
    assert_string_equal(cJSON_GetObjectItem(policy_docs_get(d, 3), "kind")->valuestring, "Pod");
    assert_null(policy_docs_get(d, 4));
    policy_docs_destroy(d);
    /* empty input: no objects */
    d = NULL;
    assert_int_equal(policy_manifest_parse("e.yaml", "# nothing\n", 10, &d, &err), 0);
    assert_int_equal(policy_docs_count(d), 0);
    policy_docs_destroy(d);
}

static void expect(const char *y, int code, const char *want)
{
    struct policy_docs *d = NULL;
    struct cm_err err;
    int rc = policy_manifest_parse("m.yaml", y, strlen(y), &d, &err);

    if (rc != code || strstr(err.msg, want) == NULL)
        fail_msg("rc %d \"%s\", wanted %d \"%s\"", rc, err.msg, code, want);
    assert_null(d);
}

static void test_errors(void **state)
{
    (void)state;
    expect("- a\n", CM_ECONFIG, "m.yaml:1:1: a Kubernetes object must be a mapping");
    expect("kind: Pod\nmetadata: {name: a}\n", CM_ECONFIG, "apiVersion is required");
    expect("apiVersion: v1\nmetadata: {name: a}\n", CM_ECONFIG, "kind is required");
    expect("apiVersion: v1\nkind: 3\nmetadata: {name: a}\n", CM_ECONFIG,
           "m.yaml:2:7: kind must be a string, not a number");
    expect("apiVersion: v1\nkind: ''\nmetadata: {name: a}\n", CM_ECONFIG, "kind is empty");
    expect("apiVersion: v1\nkind: Pod\n", CM_ECONFIG, "metadata is required");
    expect("apiVersion: v1\nkind: Pod\nmetadata: []\n", CM_ECONFIG, "metadata must be a mapping");
    expect("apiVersion: v1\nkind: Pod\nmetadata: {labels: {}}\n", CM_ECONFIG,
           "metadata.name is required");
    expect("apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: 3}\n", CM_ECONFIG,
           "namespace must be a string");
    expect("apiVersion: v1\nkind: Pod\nmetadata: {name: a, labels: [x]}\n", CM_ECONFIG,
           "metadata.labels must be a mapping");
    expect("apiVersion: v1\nkind: Pod\nmetadata: {name: a, annotations: {a: true}}\n", CM_ECONFIG,
           "m.yaml:3:38: metadata.annotations.a must be a string");
    expect("apiVersion: v1\nkind: List\n", CM_ECONFIG, "a List needs items");
    expect("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {}}\n",
           CM_ECONFIG, "m.yaml:4:");
    expect("a: [1, 2\n", CM_EPARSE, "m.yaml:2:1: YAML:");
}

static void test_oom_loop(void **state)
{
    long n;
    int rc = CM_ENOMEM;

    (void)state;
    for (n = 1; rc == CM_ENOMEM && n < 100000; n++) {
        struct policy_docs *d = NULL;
        struct cm_err err;

        cm_alloc_fault_set(n);
        rc = policy_manifest_parse("m.yaml", multi, strlen(multi), &d, &err);
        cm_alloc_fault_set(0);
        if (rc != 0) {
            assert_int_equal(rc, CM_ENOMEM);
            assert_null(d);
        } else {
            assert_int_equal(policy_docs_count(d), 4);
        }
        policy_docs_destroy(d);
    }
    assert_int_equal(rc, 0);
}

static void test_file_size_limit(void **state)
{
    size_t n = POLICY_MAX_FILE_BYTES;
    char *y = cm_malloc(n + 1);
    struct policy_docs *d = NULL;
    struct cm_err err;

    (void)state;
    /* a comment that fills the whole allowance: exactly the limit parses */
    memset(y, 'x', n + 1);
    y[0] = '#';
    y[n - 1] = '\n';
    assert_int_equal(policy_docs_parse("big.yaml", y, n, &d, &err), 0);
    assert_int_equal(policy_docs_count(d), 0);
    policy_docs_destroy(d);
    d = NULL;
    assert_int_equal(policy_docs_parse("big.yaml", y, n + 1, &d, &err), CM_ETOOBIG);
    assert_non_null(strstr(err.msg, "big.yaml"));
    assert_null(d);
    cm_free(y);
}

/* A document of exactly `nodes` nodes built with aliases: a root list holding one anchored
 * list of 999 scalars (1,000 nodes), k aliases of it and some plain scalars. */
static char *alias_doc(size_t nodes, size_t *len)
{
    size_t k = (nodes - 1) / 1000 - 1;
    size_t rest = nodes - 1 - 1000 * (k + 1);
    size_t cap = 8000 + k * 6 + rest * 4;
    char *y = cm_malloc(cap);
    size_t off = 0;
    size_t i;

    off += (size_t)snprintf(y + off, cap - off, "- &a [");
    for (i = 0; i < 999; i++)
        off += (size_t)snprintf(y + off, cap - off, "%sx", i > 0 ? "," : "");
    off += (size_t)snprintf(y + off, cap - off, "]\n");
    for (i = 0; i < k; i++)
        off += (size_t)snprintf(y + off, cap - off, "- *a\n");
    for (i = 0; i < rest; i++)
        off += (size_t)snprintf(y + off, cap - off, "- y\n");
    *len = off;
    return y;
}

static void test_node_limit(void **state)
{
    size_t len;
    char *ok = alias_doc(POLICY_MAX_NODES, &len);
    struct policy_docs *d = NULL;
    struct cm_err err;
    char *bad;

    (void)state;
    assert_int_equal(policy_docs_parse("n.yaml", ok, len, &d, &err), 0);
    assert_int_equal(cJSON_GetArraySize(policy_docs_get(d, 0)),
                     (int)((POLICY_MAX_NODES - 1) / 1000 + 999));
    policy_docs_destroy(d);
    d = NULL;
    cm_free(ok);
    bad = alias_doc(POLICY_MAX_NODES + 1, &len);
    assert_int_equal(policy_docs_parse("n.yaml", bad, len, &d, &err), CM_ETOOBIG);
    assert_null(d);
    cm_free(bad);
}

static void test_string_limit(void **state)
{
    size_t n = POLICY_MAX_STRING + 200;
    char *y = cm_malloc(n + 400);
    struct policy_loader *l = NULL;
    struct policy_set *s = NULL;
    struct cm_err err;
    int len;
    int rc;
    int extra;

    (void)state;
    for (extra = 0; extra <= 1; extra++) {
        len = snprintf(y, n + 400,
                       "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\n"
                       "spec:\n  rules:\n  - name: r\n    match: {resources: {kinds: [Pod]}}\n"
                       "    validate:\n      pattern: {metadata: {name: '?*'}}\n"
                       "      message: '%0*d'\n",
                       POLICY_MAX_STRING + extra, 0);
        assert_int_equal(policy_loader_create(&l, &err), 0);
        rc = policy_loader_add(l, "s.yaml", y, (size_t)len, &err);
        if (extra == 0) {
            assert_int_equal(rc, 0);
            assert_int_equal(policy_loader_finish(l, &s, &err), 0);
            policy_set_destroy(s);
        } else {
            assert_int_equal(rc, CM_ETOOBIG);
            assert_non_null(strstr(err.msg, "s.yaml:10:16: policy p rule r: message is longer"));
            policy_loader_destroy(l);
        }
    }
    cm_free(y);
}

static void test_format_limit(void **state)
{
    struct policy_report *rep = NULL;
    struct cm_buf b;

    (void)state;
    assert_int_equal(policy_report_create(&rep), 0);
    cm_buf_init(&b, 16);
    assert_int_equal(policy_report_format(rep, false, "Deployment", "prod", "web", &b), CM_ETOOBIG);
    cm_buf_free(&b);
    cm_buf_init(&b, 4096);
    assert_int_equal(policy_report_format(rep, false, "Namespace", NULL, "n", &b), 0);
    assert_string_equal(b.ptr, "resource Namespace//n was blocked due to the following "
                               "policies\n\n");
    cm_buf_free(&b);
    policy_report_destroy(rep);
    policy_report_destroy(NULL);
    assert_int_equal(policy_report_count(NULL), 0);
    assert_false(policy_report_blocked(NULL));
}

static void test_message_limit(void **state)
{
    /* A 60,000-byte message and 2,000 failing anyPattern alternatives exceed the report's
     * message cap: the rule still fails, with a short message instead of an empty one. */
    size_t cap = 200000;
    char *y = cm_malloc(cap);
    size_t off = 0;
    struct policy_loader *l = NULL;
    struct policy_set *s = NULL;
    struct policy_docs *d = NULL;
    struct policy_report *rep = NULL;
    struct policy_request req;
    struct cm_err err;
    const char *obj = "kind: Pod\nmetadata: {name: x}\n";
    int i;

    (void)state;
    off += (size_t)snprintf(y + off, cap - off,
                            "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\n"
                            "spec:\n  rules:\n  - name: r\n    match: {resources: {kinds: [Pod]}}\n"
                            "    validate:\n      message: '%0*d'\n      anyPattern:\n",
                            60000, 0);
    for (i = 0; i < 2000; i++)
        off += (size_t)snprintf(y + off, cap - off, "      - {metadata: {labels: {l%d: x}}}\n", i);
    assert_int_equal(policy_loader_create(&l, &err), 0);
    assert_int_equal(policy_loader_add(l, "m.yaml", y, off, &err), 0);
    assert_int_equal(policy_loader_finish(l, &s, &err), 0);
    assert_int_equal(policy_docs_parse("o", obj, strlen(obj), &d, &err), 0);
    memset(&req, 0, sizeof(req));
    req.object = policy_docs_get(d, 0);
    assert_int_equal(policy_report_create(&rep), 0);
    assert_int_equal(policy_set_eval(s, &req, rep, &err), 0);
    assert_int_equal(policy_report_get(rep, 0)->result, POLICY_FAIL);
    assert_string_equal(policy_report_get(rep, 0)->message,
                        "validation error: rule r failed (message longer than 131072 bytes)");
    policy_report_destroy(rep);
    policy_docs_destroy(d);
    policy_set_destroy(s);
    cm_free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_objects_and_lists), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_oom_loop),          cmocka_unit_test(test_file_size_limit),
        cmocka_unit_test(test_node_limit),        cmocka_unit_test(test_string_limit),
        cmocka_unit_test(test_format_limit),      cmocka_unit_test(test_message_limit),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
