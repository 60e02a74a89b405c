/* SPDX-License-Identifier: Apache-2.0 */
/* test_cond.c - preconditions: every operator, any/all, the old list form, variables
 * (object paths, quoted keys, indexes, defaults, operation, namespace, oldObject) and
 * message templates. */
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

static const char obj[] =
    "apiVersion: apps/v1\nkind: Deployment\n"
    "metadata:\n  name: web\n  namespace: prod\n"
    "  labels: {team: a, app.kubernetes.io/name: shop, tier: db}\n"
    "spec:\n  replicas: 3\n  memory: 1Gi\n  timeout: 90s\n  ports: [80, 443]\n"
    "  ratio: 0.25\n  flag: true\n  off: false\n  none: null\n"
    "  tags: [blue, green]\n  template: {spec: {containers: [{name: c0, image: nginx:1.25}]}}\n";

static const char old_obj[] = "apiVersion: apps/v1\nkind: Deployment\n"
                              "metadata: {name: web, namespace: prod}\nspec: {replicas: 1}\n";

/* Evaluates preconditions (YAML, indented for the rule) on obj: 1 = rule ran (its pattern
 * always passes), 0 = skipped. */
static int pre(const char *preconditions, enum policy_op op)
{
    char y[4096];
    struct policy_set *s = NULL;
    struct policy_docs *d = NULL;
    struct policy_docs *od = NULL;
    struct policy_report *rep = NULL;
    struct policy_request req;
    struct cm_err err;
    int out;

    (void)snprintf(y, sizeof(y),
                   "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\n"
                   "spec:\n  rules:\n  - name: r\n"
                   "    match: {resources: {kinds: [Deployment], operations: [CREATE, UPDATE, "
                   "DELETE]}}\n"
                   "    preconditions:\n%s"
                   "    validate: {pattern: {metadata: {name: '?*'}}}\n",
                   preconditions);
    if (policy_set_load("p.yaml", y, strlen(y), &s, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(policy_docs_parse("o", obj, strlen(obj), &d, &err), 0);
    assert_int_equal(policy_docs_parse("o", old_obj, strlen(old_obj), &od, &err), 0);
    memset(&req, 0, sizeof(req));
    req.object = policy_docs_get(d, 0);
    req.old_object = policy_docs_get(od, 0);
    req.operation = op;
    assert_int_equal(policy_report_create(&rep), 0);
    assert_int_equal(policy_set_eval(s, &req, rep, &err), 0);
    assert_int_equal(policy_report_count(rep), 1);
    out = policy_report_get(rep, 0)->result == POLICY_PASS;
    if (!out)
        assert_int_equal(policy_report_get(rep, 0)->result, POLICY_SKIP);
    policy_report_destroy(rep);
    policy_docs_destroy(d);
    policy_docs_destroy(od);
    policy_set_destroy(s);
    return out;
}

#define ALL1(k, op, v) "      all: [{key: " k ", operator: " op ", value: " v "}]\n"

static void check(const char *k, const char *op, const char *v, int want)
{
    char p[1024];
    int got;

    (void)snprintf(p, sizeof(p), "      all: [{key: %s, operator: %s, value: %s}]\n", k, op, v);
    got = pre(p, POLICY_OP_CREATE);
    if (got != want)
        fail_msg("%s %s %s: got %d, want %d", k, op, v, got, want);
}

static void test_equals(void **state)
{
    (void)state;
    check("'{{ request.object.metadata.name }}'", "Equals", "web", 1);
    check("'{{ request.object.metadata.name }}'", "Equals", "'w*'", 1);
    check("'{{ request.object.metadata.name }}'", "Equals", "api", 0);
    check("'{{request.object.spec.replicas}}'", "Equals", "3", 1);
    check("'{{request.object.spec.replicas}}'", "Equals", "'3'", 1);
    check("'{{request.object.spec.replicas}}'", "Equals", "4", 0);
    check("'{{ request.object.spec.tags }}'", "Equals", "[blue, green]", 1);
    check("'{{ request.object.spec.tags }}'", "Equals", "[green, blue]", 0);
    check("'{{ request.object.metadata.labels.\"app.kubernetes.io/name\" }}'", "Equals", "shop", 1);
    check("'{{ request.object.spec.template.spec.containers[0].image }}'", "Equals", "'nginx:*'",
          1);
    check("'{{ request.object.metadata.labels.missing }}'", "Equals", "''", 1);
    check("'{{ request.object.metadata.labels.missing || ''none'' }}'", "Equals", "none", 1);
    check("'{{ request.object.metadata.labels.team || ''none'' }}'", "Equals", "a", 1);
    check("'{{ request.object.spec.ports[5] }}'", "Equals", "x", 0);
    check("'team-{{ request.object.metadata.labels.team }}-{{ request.object.spec.replicas }}'",
          "Equals", "team-a-3", 1);
    check("'{{ request.namespace }}'", "Equals", "prod", 1);
    check("'{{ request.oldObject.spec.replicas }}'", "Equals", "1", 1);
    check("true", "Equals", "true", 1);
}

static void test_not_equals(void **state)
{
    (void)state;
    check("'{{ request.object.metadata.name }}'", "NotEquals", "api", 1);
    check("'{{ request.object.metadata.name }}'", "NotEquals", "web", 0);
}

static void test_in_family(void **state)
{
    (void)state;
    check("'{{ request.object.metadata.labels.tier }}'", "In", "[db, cache]", 1);
    check("'{{ request.object.metadata.labels.tier }}'", "In", "[web]", 0);
    check("'{{ request.object.metadata.labels.tier }}'", "NotIn", "[web]", 1);
    check("'{{ request.object.metadata.labels.tier }}'", "NotIn", "[db]", 0);
    check("'{{ request.object.spec.tags }}'", "AnyIn", "[green, red]", 1);
    check("'{{ request.object.spec.tags }}'", "AnyIn", "[red]", 0);
    check("'{{ request.object.spec.tags }}'", "AnyIn", "['gr*']", 1);
    check("'{{ request.object.spec.tags }}'", "AllIn", "[blue, green, red]", 1);
    check("'{{ request.object.spec.tags }}'", "AllIn", "[blue]", 0);
    check("'{{ request.object.spec.tags }}'", "AnyNotIn", "[blue]", 1);
    check("'{{ request.object.spec.tags }}'", "AnyNotIn", "[blue, green]", 0);
    check("'{{ request.object.spec.tags }}'", "AllNotIn", "[red, pink]", 1);
    check("'{{ request.object.spec.tags }}'", "AllNotIn", "[red, green]", 0);
    check("'{{ request.object.spec.ports }}'", "AnyIn", "[443]", 1);
    check("'{{ request.object.spec.tags }}'", "In", "[blue, green]", 1);
}

static void test_ordering(void **state)
{
    (void)state;
    check("'{{ request.object.spec.replicas }}'", "GreaterThan", "2", 1);
    check("'{{ request.object.spec.replicas }}'", "GreaterThan", "3", 0);
    check("'{{ request.object.spec.replicas }}'", "GreaterThanOrEquals", "3", 1);
    check("'{{ request.object.spec.replicas }}'", "GreaterThanOrEquals", "4", 0);
    check("'{{ request.object.spec.replicas }}'", "LessThan", "4", 1);
    check("'{{ request.object.spec.replicas }}'", "LessThan", "3", 0);
    check("'{{ request.object.spec.replicas }}'", "LessThanOrEquals", "3", 1);
    check("'{{ request.object.spec.replicas }}'", "LessThanOrEquals", "2", 0);
    check("'{{ request.object.spec.memory }}'", "GreaterThan", "512Mi", 1);
    check("'{{ request.object.spec.memory }}'", "LessThanOrEquals", "1024Mi", 1);
    check("'{{ request.object.spec.timeout }}'", "GreaterThan", "1m", 1);
    check("'{{ request.object.spec.timeout }}'", "LessThan", "1m", 0);
    /* strings that are neither durations nor quantities do not order */
    check("'{{ request.object.metadata.name }}'", "GreaterThan", "a", 0);
    check("'{{ request.object.metadata.name }}'", "LessThan", "z", 0);
}

static void test_operation_and_lists(void **state)
{
    (void)state;
    assert_int_equal(pre(ALL1("'{{ request.operation }}'", "Equals", "CREATE"), POLICY_OP_CREATE),
                     1);
    assert_int_equal(pre(ALL1("'{{ request.operation }}'", "Equals", "CREATE"), POLICY_OP_UPDATE),
                     0);
    assert_int_equal(
        pre(ALL1("'{{ request.operation }}'", "AnyIn", "[UPDATE, DELETE]"), POLICY_OP_DELETE), 1);
    /* any: one is enough; all: every one */
    assert_int_equal(pre("      any:\n      - {key: a, operator: Equals, value: b}\n"
                         "      - {key: a, operator: Equals, value: a}\n",
                         POLICY_OP_CREATE),
                     1);
    assert_int_equal(pre("      any:\n      - {key: a, operator: Equals, value: b}\n"
                         "      - {key: a, operator: Equals, value: c}\n",
                         POLICY_OP_CREATE),
                     0);
    assert_int_equal(pre("      all:\n      - {key: a, operator: Equals, value: a}\n"
                         "      - {key: a, operator: Equals, value: c}\n",
                         POLICY_OP_CREATE),
                     0);
    /* all and any together: both must hold */
    assert_int_equal(pre("      all: [{key: a, operator: Equals, value: a}]\n"
                         "      any: [{key: a, operator: Equals, value: b}]\n",
                         POLICY_OP_CREATE),
                     0);
    assert_int_equal(pre("      all: [{key: a, operator: Equals, value: a}]\n"
                         "      any: [{key: b, operator: Equals, value: b}]\n",
                         POLICY_OP_CREATE),
                     1);
    /* the old form: a plain list means all */
    assert_int_equal(pre("    - {key: a, operator: NotEquals, value: b}\n", POLICY_OP_CREATE), 1);
    assert_int_equal(
        pre("    - {key: a, operator: Equals, value: b, message: why}\n", POLICY_OP_CREATE), 0);
}

static void test_template_too_long_is_error(void **state)
{
    /* A key that expands past the evaluation buffer gives a rule error, not a crash. */
    char big[4096];
    char p[6000];
    struct policy_set *s = NULL;
    struct policy_docs *d = NULL;
    struct policy_report *rep = NULL;
    struct policy_request req;
    struct cm_err err;
    char y[8192];

    (void)state;
    memset(big, 'x', 3000);
    big[3000] = '\0';
    (void)snprintf(p, sizeof(p),
                   "      all: [{key: '%s{{ request.object.metadata.name }}', operator: Equals, "
                   "value: x}]\n",
                   big);
    (void)snprintf(y, sizeof(y),
                   "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\n"
                   "spec:\n  validationFailureAction: Enforce\n  rules:\n  - name: r\n"
                   "    match: {resources: {kinds: [Deployment]}}\n"
                   "    preconditions:\n%s"
                   "    validate: {pattern: {metadata: {name: '?*'}}}\n",
                   p);
    assert_int_equal(policy_set_load("p.yaml", y, strlen(y), &s, &err), 0);
    assert_int_equal(policy_docs_parse("o", obj, strlen(obj), &d, &err), 0);
    memset(&req, 0, sizeof(req));
    req.object = policy_docs_get(d, 0);
    assert_int_equal(policy_report_create(&rep), 0);
    assert_int_equal(policy_set_eval(s, &req, rep, &err), 0);
    assert_int_equal(policy_report_get(rep, 0)->result, POLICY_ERROR);
    assert_non_null(strstr(policy_report_get(rep, 0)->message, "rule r execution error"));
    assert_true(policy_report_blocked(rep));
    policy_report_destroy(rep);
    policy_docs_destroy(d);
    policy_set_destroy(s);
}

static void test_more_values(void **state)
{
    (void)state;
    /* backtick JSON defaults */
    check("'{{ request.object.spec.nothing || `5` }}'", "Equals", "5", 1);
    check("'{{ request.object.spec.nothing || `[1, 2]` }}'", "AnyIn", "[2]", 1);
    /* numbers against numeric strings, floats, booleans, null */
    check("'{{ request.object.spec.replicas }}'", "Equals", "'3.0'", 1);
    check("'n={{ request.object.spec.ratio }}'", "Equals", "'n=0.25'", 1);
    check("'{{ request.object.spec.flag }}-{{ request.object.spec.off }}'", "Equals",
          "'true-false'", 1);
    check("'x{{ request.object.spec.none }}x'", "Equals", "xx", 1);
    check("'{{ request.object.spec.none }}'", "Equals", "null", 1);
    check("'{{ request.object.spec.none }}'", "GreaterThan", "1", 0);
    /* collections in a template are printed as compact JSON */
    check("'labels: {{ request.object.metadata.labels }}'", "Equals",
          "'labels: {\"team\":\"a\",\"app.kubernetes.io/name\":\"shop\",\"tier\":\"db\"}'", 1);
    check("'{{ request.object.spec.tags }}'", "Equals", "blue", 0);
    check("[a, b]", "AllIn", "[a, b, c]", 1);
    check("[]", "AnyIn", "[a]", 0);
    check("[]", "AllIn", "[a]", 1);
}

static void expect_error(const char *preconditions, const char *want)
{
    char y[4096];
    struct policy_loader *l = NULL;
    struct cm_err err;
    int rc;

    (void)snprintf(y, sizeof(y),
                   "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\n"
                   "spec:\n  rules:\n  - name: r\n"
                   "    match: {resources: {kinds: [Deployment]}}\n"
                   "    preconditions:%s\n"
                   "    validate: {pattern: {metadata: {name: '?*'}}}\n",
                   preconditions);
    assert_int_equal(policy_loader_create(&l, &err), 0);
    rc = policy_loader_add(l, "p.yaml", y, strlen(y), &err);
    policy_loader_destroy(l);
    if (rc != CM_ECONFIG || strstr(err.msg, want) == NULL)
        fail_msg("%s: rc %d \"%s\", wanted \"%s\"", preconditions, rc, err.msg, want);
}

static void test_compile_errors(void **state)
{
    static const char *const bad_vars[] = {
        "request.foo",          "request.object..x",     "request.object.x[",
        "request.object.x[a]",  "request.object.x!",     "request.object.\"\"",
        "request.objectx",      "request.object.x || 5", "request.object.x || `[1,`",
        "request.oldObjectx.y", "images.containers",     "request.object.1x",
    };
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(bad_vars); i++) {
        char p[256];

        (void)snprintf(p, sizeof(p), " {all: [{key: '{{ %s }}', operator: Equals, value: x}]}",
                       bad_vars[i]);
        expect_error(p, "unsupported variable");
    }
    expect_error(" {all: [x]}", "preconditions entries must be mappings");
    expect_error(" {all: [{operator: Equals, value: x}]}", "key is required");
    expect_error(" {all: [{key: a, value: x}]}", "operator is required");
    expect_error(" {all: x}", "preconditions any/all must be lists");
    expect_error(" 3", "preconditions must be a mapping with all/any");
    expect_error(" {none: []}", "unknown field \"none\"");
    expect_error(" {all: [{key: a, operator: Equals, value: x, note: y}]}",
                 "unknown field \"note\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equals),
        cmocka_unit_test(test_not_equals),
        cmocka_unit_test(test_in_family),
        cmocka_unit_test(test_ordering),
        cmocka_unit_test(test_operation_and_lists),
        cmocka_unit_test(test_template_too_long_is_error),
        cmocka_unit_test(test_more_values),
        cmocka_unit_test(test_compile_errors),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
