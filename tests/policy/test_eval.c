/* SPDX-License-Identifier: Apache-2.0 */
/* test_eval.c - ClusterPolicy/Policy evaluation: every match/exclude feature, actions and
 * overrides, messages in Kyverno's words, namespaced Policies, the denial text, and loader
 * errors for Kyverno documents. */
#include "policy/policy.h"
#include "tests/support/policy_testutil.h"

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

static int load(const char *y, struct policy_set **out, struct cm_err *err)
{
    return policy_set_load("p.yaml", y, strlen(y), out, err);
}

static struct policy_set *load_ok(const char *y)
{
    struct policy_set *s = NULL;
    struct cm_err err;

    if (load(y, &s, &err) != 0)
        fail_msg("load failed: %s", err.msg);
    return s;
}

static const char deploy_ok[] = "apiVersion: apps/v1\nkind: Deployment\n"
                                "metadata: {name: web, namespace: prod, labels: {team: a, app: "
                                "web}, annotations: {owner: ops}}\n";
static const char deploy_bad[] = "apiVersion: apps/v1\nkind: Deployment\n"
                                 "metadata: {name: web, namespace: prod, labels: {team: b}}\n";
static const char pod_bad[] = "apiVersion: v1\nkind: Pod\n"
                              "metadata: {name: p1, namespace: dev, labels: {team: b}}\n";

static void test_kinds(void **state)
{
    static const struct {
        const char *kinds;
        int deploy;
        int pod;
    } cases[] = {
        {"[Deployment]", POLICY_FAIL, PT_NOT_SELECTED},
        {"[apps/v1/Deployment]", POLICY_FAIL, PT_NOT_SELECTED},
        {"[apps/*/Deployment]", POLICY_FAIL, PT_NOT_SELECTED},
        {"[batch/v1/Deployment]", PT_NOT_SELECTED, PT_NOT_SELECTED},
        {"[v1/Pod]", PT_NOT_SELECTED, POLICY_FAIL},
        {"[v1/Deployment]", POLICY_FAIL, PT_NOT_SELECTED},
        {"[v2/Deployment]", PT_NOT_SELECTED, PT_NOT_SELECTED},
        {"['*']", POLICY_FAIL, POLICY_FAIL},
        {"[Dep*]", POLICY_FAIL, PT_NOT_SELECTED},
        {"[Pod, Deployment]", POLICY_FAIL, POLICY_FAIL},
        {"['*/Pod']", PT_NOT_SELECTED, POLICY_FAIL},
    };
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(cases); i++) {
        char body[256];
        struct policy_set *s;

        (void)snprintf(body, sizeof(body), "    match: {resources: {kinds: %s}}\n", cases[i].kinds);
        s = pt_rule_set("", body);
        if (pt_verdict(s, deploy_bad, POLICY_OP_CREATE, NULL, false) != cases[i].deploy ||
            pt_verdict(s, pod_bad, POLICY_OP_CREATE, NULL, false) != cases[i].pod)
            fail_msg("kinds %s", cases[i].kinds);
        policy_set_destroy(s);
    }
}

static void test_names_namespaces(void **state)
{
    struct policy_set *s;

    (void)state;
    s = pt_rule_set("", "    match: {any: [{resources: {kinds: ['*'], names: ['w?b', 'x*']}}]}\n");
    assert_int_equal(pt_verdict(s, deploy_bad, POLICY_OP_CREATE, NULL, false), POLICY_FAIL);
    assert_int_equal(pt_verdict(s, pod_bad, POLICY_OP_CREATE, NULL, false), PT_NOT_SELECTED);
    policy_set_destroy(s);
    s = pt_rule_set("", "    match: {resources: {kinds: ['*'], name: 'p*'}}\n");
    assert_int_equal(pt_verdict(s, deploy_bad, POLICY_OP_CREATE, NULL, false), PT_NOT_SELECTED);
    assert_int_equal(pt_verdict(s, pod_bad, POLICY_OP_CREATE, NULL, false), POLICY_FAIL);
    policy_set_destroy(s);
    s = pt_rule_set("", "    match: {resources: {kinds: ['*'], namespaces: ['pro*']}}\n");
    assert_int_equal(pt_verdict(s, deploy_bad, POLICY_OP_CREATE, NULL, false), POLICY_FAIL);
    assert_int_equal(pt_verdict(s, pod_bad, POLICY_OP_CREATE, NULL, false), PT_NOT_SELECTED);
    /* a Namespace object is matched by its own name */
    assert_int_equal(pt_verdict(s, "apiVersion: v1\nkind: Namespace\nmetadata: {name: prod}\n",
                                POLICY_OP_CREATE, NULL, false),
                     POLICY_FAIL);
    policy_set_destroy(s);
}

static void test_selector(void **state)
{
    struct policy_set *s;

    (void)state;
    s = pt_rule_set("",
                    "    match: {resources: {kinds: ['*'], selector: {matchLabels: {team: b}}}}\n");
    assert_int_equal(pt_verdict(s, deploy_bad, POLICY_OP_CREATE, NULL, false), POLICY_FAIL);
    assert_int_equal(pt_verdict(s, deploy_ok, POLICY_OP_CREATE, NULL, false), PT_NOT_SELECTED);
    policy_set_destroy(s);
    /* wildcards in matchLabels keys and values */
    s = pt_rule_set(
        "", "    match: {resources: {kinds: ['*'], selector: {matchLabels: {'te*': '?'}}}}\n");
    assert_int_equal(pt_verdict(s, deploy_bad, POLICY_OP_CREATE, NULL, false), POLICY_FAIL);
    assert_int_equal(
        pt_verdict(s, "kind: Pod\nmetadata: {name: x}\n", POLICY_OP_CREATE, NULL, false),
        PT_NOT_SELECTED);
    policy_set_destroy(s);
    s = pt_rule_set("", "    match: {resources: {kinds: ['*'], selector: {matchExpressions: ["
                        "{key: team, operator: In, values: [b, c]}]}}}\n");
    assert_int_equal(pt_verdict(s, deploy_bad, POLICY_OP_CREATE, NULL, false), POLICY_FAIL);
    assert_int_equal(pt_verdict(s, deploy_ok, POLICY_OP_CREATE, NULL, false), PT_NOT_SELECTED);
    policy_set_destroy(s);
    s = pt_rule_set("", "    match: {resources: {kinds: ['*'], selector: {matchExpressions: ["
                        "{key: team, operator: NotIn, values: [a]}]}}}\n");
    assert_int_equal(pt_verdict(s, deploy_bad, POLICY_OP_CREATE, NULL, false), POLICY_FAIL);
    assert_int_equal(pt_verdict(s, deploy_ok, POLICY_OP_CREATE, NULL, false), PT_NOT_SELECTED);
    /* NotIn holds when the label is absent */
    assert_int_equal(
        pt_verdict(s, "kind: Pod\nmetadata: {name: x}\n", POLICY_OP_CREATE, NULL, false),
        POLICY_FAIL);
    policy_set_destroy(s);
    s = pt_rule_set("", "    match: {resources: {kinds: ['*'], selector: {matchExpressions: ["
                        "{key: app, operator: Exists}]}}}\n");
    assert_int_equal(pt_verdict(s, deploy_ok, POLICY_OP_CREATE, NULL, false), POLICY_PASS);
    assert_int_equal(pt_verdict(s, deploy_bad, POLICY_OP_CREATE, NULL, false), PT_NOT_SELECTED);
    policy_set_destroy(s);
    s = pt_rule_set("", "    match: {resources: {kinds: ['*'], selector: {matchExpressions: ["
                        "{key: app, operator: DoesNotExist}]}}}\n");
    assert_int_equal(pt_verdict(s, deploy_ok, POLICY_OP_CREATE, NULL, false), PT_NOT_SELECTED);
    assert_int_equal(pt_verdict(s, deploy_bad, POLICY_OP_CREATE, NULL, false), POLICY_FAIL);
    policy_set_destroy(s);
}

static void test_namespace_selector(void **state)
{
    struct policy_set *s =
        pt_rule_set("", "    match: {resources: {kinds: ['*'], namespaceSelector: {matchLabels: "
                        "{env: prod}}}}\n");

    (void)state;
    assert_int_equal(pt_verdict(s, deploy_bad, POLICY_OP_CREATE, "{env: prod}", false),
                     POLICY_FAIL);
    assert_int_equal(pt_verdict(s, deploy_bad, POLICY_OP_CREATE, "{env: dev}", false),
                     PT_NOT_SELECTED);
    /* unknown namespace labels never match */
    assert_int_equal(pt_verdict(s, deploy_bad, POLICY_OP_CREATE, NULL, false), PT_NOT_SELECTED);
    policy_set_destroy(s);
}

/* policy_set_uses_namespace_selector: match, exclude (any) and overrides; NULL and none. */
static void test_uses_namespace_selector(void **state)
{
    struct policy_set *s;

    (void)state;
    assert_false(policy_set_uses_namespace_selector(NULL));
    s = pt_rule_set("", "    match: {resources: {kinds: ['*'], namespaces: [prod]}}\n");
    assert_false(policy_set_uses_namespace_selector(s));
    policy_set_destroy(s);
    s = pt_rule_set("", "    match: {resources: {kinds: ['*'], namespaceSelector: {matchLabels: "
                        "{env: prod}}}}\n");
    assert_true(policy_set_uses_namespace_selector(s));
    policy_set_destroy(s);
    s = pt_rule_set("", "    match: {resources: {kinds: ['*']}}\n"
                        "    exclude:\n      any:\n      - resources: {namespaces: [dev]}\n"
                        "      - resources: {namespaceSelector: {matchLabels: {env: dev}}}\n");
    assert_true(policy_set_uses_namespace_selector(s));
    policy_set_destroy(s);
    s = pt_rule_set("  validationFailureActionOverrides:\n"
                    "  - action: Enforce\n"
                    "    namespaceSelector: {matchLabels: {env: prod}}\n",
                    "    match: {resources: {kinds: ['*']}}\n");
    assert_true(policy_set_uses_namespace_selector(s));
    policy_set_destroy(s);
}

static void test_annotations_and_operations(void **state)
{
    struct policy_set *s;

    (void)state;
    s = pt_rule_set("", "    match: {resources: {kinds: ['*'], annotations: {owner: 'o*'}}}\n");
    assert_int_equal(pt_verdict(s, deploy_ok, POLICY_OP_CREATE, NULL, false), POLICY_PASS);
    assert_int_equal(pt_verdict(s, deploy_bad, POLICY_OP_CREATE, NULL, false), PT_NOT_SELECTED);
    policy_set_destroy(s);
    /* default operations: CREATE and UPDATE */
    s = pt_rule_set("", "    match: {resources: {kinds: ['*']}}\n");
    assert_int_equal(pt_verdict(s, deploy_bad, POLICY_OP_UPDATE, NULL, false), POLICY_FAIL);
    assert_int_equal(pt_verdict(s, deploy_bad, POLICY_OP_DELETE, NULL, false), PT_NOT_SELECTED);
    policy_set_destroy(s);
    s = pt_rule_set("", "    match: {resources: {kinds: ['*'], operations: [DELETE]}}\n");
    assert_int_equal(pt_verdict(s, deploy_bad, POLICY_OP_DELETE, NULL, false), POLICY_FAIL);
    assert_int_equal(pt_verdict(s, deploy_bad, POLICY_OP_CREATE, NULL, false), PT_NOT_SELECTED);
    policy_set_destroy(s);
}

static void test_any_all_exclude(void **state)
{
    struct policy_set *s;

    (void)state;
    s = pt_rule_set("", "    match:\n      all:\n      - resources: {kinds: [Deployment]}\n"
                        "      - resources: {kinds: ['*'], namespaces: [prod]}\n");
    assert_int_equal(pt_verdict(s, deploy_bad, POLICY_OP_CREATE, NULL, false), POLICY_FAIL);
    assert_int_equal(pt_verdict(s, pod_bad, POLICY_OP_CREATE, NULL, false), PT_NOT_SELECTED);
    policy_set_destroy(s);
    s = pt_rule_set("", "    match:\n      any:\n      - resources: {kinds: [Deployment]}\n"
                        "      - resources: {kinds: ['*'], namespaces: [dev]}\n");
    assert_int_equal(pt_verdict(s, deploy_bad, POLICY_OP_CREATE, NULL, false), POLICY_FAIL);
    assert_int_equal(pt_verdict(s, pod_bad, POLICY_OP_CREATE, NULL, false), POLICY_FAIL);
    policy_set_destroy(s);
    /* exclude any: one filter is enough */
    s = pt_rule_set("", "    match: {resources: {kinds: ['*']}}\n"
                        "    exclude:\n      any:\n      - resources: {namespaces: [dev]}\n"
                        "      - resources: {names: [nothing]}\n");
    assert_int_equal(pt_verdict(s, pod_bad, POLICY_OP_CREATE, NULL, false), PT_NOT_SELECTED);
    assert_int_equal(pt_verdict(s, deploy_bad, POLICY_OP_CREATE, NULL, false), POLICY_FAIL);
    policy_set_destroy(s);
    /* exclude all: every filter must match */
    s = pt_rule_set("", "    match: {resources: {kinds: ['*']}}\n"
                        "    exclude:\n      all:\n      - resources: {namespaces: [dev]}\n"
                        "      - resources: {kinds: [Pod], selector: {matchLabels: {team: b}}}\n");
    assert_int_equal(pt_verdict(s, pod_bad, POLICY_OP_CREATE, NULL, false), PT_NOT_SELECTED);
    assert_int_equal(pt_verdict(s, "kind: Pod\nmetadata: {name: x, namespace: dev}\n",
                                POLICY_OP_CREATE, NULL, false),
                     POLICY_FAIL);
    policy_set_destroy(s);
    /* exclude with the resources shorthand */
    s = pt_rule_set("", "    match: {resources: {kinds: ['*']}}\n"
                        "    exclude: {resources: {kinds: [Pod]}}\n");
    assert_int_equal(pt_verdict(s, pod_bad, POLICY_OP_CREATE, NULL, false), PT_NOT_SELECTED);
    assert_int_equal(pt_verdict(s, deploy_bad, POLICY_OP_CREATE, NULL, false), POLICY_FAIL);
    policy_set_destroy(s);
}

static const struct policy_rule_result *first(const struct policy_report *r)
{
    assert_true(policy_report_count(r) > 0);
    return policy_report_get(r, 0);
}

static void test_actions(void **state)
{
    static const struct {
        const char *spec;
        const char *rule_extra;
        const char *ns;
        enum policy_action want;
    } cases[] = {
        {"", "", "prod", POLICY_AUDIT},
        {"  validationFailureAction: Enforce\n", "", "prod", POLICY_ENFORCE},
        {"  validationFailureAction: enforce\n", "", "prod", POLICY_ENFORCE},
        {"  validationFailureAction: ENFORCE\n", "", "prod", POLICY_ENFORCE},
        {"  validationFailureAction: audit\n", "", "prod", POLICY_AUDIT},
        {"  validationFailureAction: Audit\n", "failureAction: Enforce", "prod", POLICY_ENFORCE},
        {"  validationFailureAction: Enforce\n", "failureAction: audit", "prod", POLICY_AUDIT},
        {"  validationFailureAction: Audit\n  validationFailureActionOverrides:\n"
         "  - {action: Enforce, namespaces: ['pr*']}\n",
         "", "prod", POLICY_ENFORCE},
        {"  validationFailureAction: Audit\n  validationFailureActionOverrides:\n"
         "  - {action: Enforce, namespaces: ['pr*']}\n",
         "", "dev", POLICY_AUDIT},
        {"  validationFailureAction: Enforce\n  validationFailureActionOverrides:\n"
         "  - {action: Audit, namespaces: [dev]}\n  - {action: Enforce, namespaces: ['*']}\n",
         "", "dev", POLICY_AUDIT},
    };
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(cases); i++) {
        char y[2048];
        char obj[256];
        struct policy_set *s;
        struct pt_run run;

        (void)snprintf(y, sizeof(y),
                       "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\n"
                       "spec:\n%s  rules:\n  - name: r\n    match: {resources: {kinds: ['*']}}\n"
                       "    validate:\n      message: need team\n%s%s%s"
                       "      pattern: {metadata: {labels: {team: a}}}\n",
                       cases[i].spec, cases[i].rule_extra[0] != '\0' ? "      " : "",
                       cases[i].rule_extra, cases[i].rule_extra[0] != '\0' ? "\n" : "");
        s = load_ok(y);
        (void)snprintf(obj, sizeof(obj), "kind: Pod\nmetadata: {name: x, namespace: %s}\n",
                       cases[i].ns);
        assert_int_equal(pt_eval(s, obj, POLICY_OP_CREATE, NULL, false, &run), POLICY_FAIL);
        if (first(run.rep)->action != cases[i].want)
            fail_msg("case %zu: action %d", i, (int)first(run.rep)->action);
        assert_int_equal(policy_report_blocked(run.rep), cases[i].want == POLICY_ENFORCE);
        pt_run_free(&run);
        policy_set_destroy(s);
    }
}

static void test_override_namespace_selector(void **state)
{
    struct policy_set *s = pt_rule_set("  validationFailureActionOverrides:\n"
                                       "  - action: Enforce\n"
                                       "    namespaceSelector: {matchLabels: {env: prod}}\n",
                                       "    match: {resources: {kinds: ['*']}}\n");
    struct pt_run run;

    (void)state;
    assert_int_equal(pt_eval(s, deploy_bad, POLICY_OP_CREATE, "{env: prod}", false, &run),
                     POLICY_FAIL);
    assert_int_equal(first(run.rep)->action, POLICY_ENFORCE);
    pt_run_free(&run);
    assert_int_equal(pt_eval(s, deploy_bad, POLICY_OP_CREATE, NULL, false, &run), POLICY_FAIL);
    assert_int_equal(first(run.rep)->action, POLICY_AUDIT);
    pt_run_free(&run);
    policy_set_destroy(s);
}

static void test_messages(void **state)
{
    const char *y =
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\n"
        "spec:\n  validationFailureAction: Enforce\n  rules:\n"
        "  - name: with-msg\n    match: {resources: {kinds: ['*']}}\n"
        "    validate:\n      message: 'team label needed on {{ request.object.metadata.name }}'\n"
        "      pattern: {metadata: {labels: {team: a}}}\n"
        "  - name: no-msg\n    match: {resources: {kinds: ['*']}}\n"
        "    validate:\n      pattern: {metadata: {labels: {team: a}}}\n"
        "  - name: any\n    match: {resources: {kinds: ['*']}}\n"
        "    validate:\n      message: one of them.\n"
        "      anyPattern:\n      - {metadata: {labels: {team: a}}}\n"
        "      - {metadata: {labels: {app: '?*'}}}\n";
    struct policy_set *s = load_ok(y);
    struct pt_run run;
    struct cm_buf b;

    (void)state;
    (void)pt_eval(s, deploy_bad, POLICY_OP_CREATE, NULL, false, &run);
    assert_int_equal(policy_report_count(run.rep), 3);
    assert_string_equal(policy_report_get(run.rep, 0)->message,
                        "validation error: team label needed on web. rule with-msg failed at path "
                        "/metadata/labels/team/");
    assert_string_equal(policy_report_get(run.rep, 0)->path, "/metadata/labels/team/");
    assert_string_equal(policy_report_get(run.rep, 1)->message,
                        "validation error: rule no-msg failed at path /metadata/labels/team/");
    assert_string_equal(policy_report_get(run.rep, 2)->message,
                        "validation error: one of them. rule any[0] failed at path "
                        "/metadata/labels/team/ rule any[1] failed at path /metadata/labels/app/");
    assert_true(policy_report_blocked(run.rep));
    cm_buf_init(&b, 1 << 16);
    assert_int_equal(policy_report_format(run.rep, false, "Deployment", "prod", "web", &b), 0);
    assert_string_equal(b.ptr,
                        "resource Deployment/prod/web was blocked due to the following policies\n\n"
                        "p:\n"
                        "  any: 'validation error: one of them. rule any[0] failed at path "
                        "/metadata/labels/team/ rule any[1] failed at path /metadata/labels/app/'\n"
                        "  no-msg: 'validation error: rule no-msg failed at path "
                        "/metadata/labels/team/'\n"
                        "  with-msg: 'validation error: team label needed on web. rule with-msg "
                        "failed at path /metadata/labels/team/'\n");
    cm_buf_free(&b);
    pt_run_free(&run);
    /* anyPattern passes when one alternative passes */
    assert_int_equal(pt_eval(s, deploy_ok, POLICY_OP_CREATE, NULL, false, &run), POLICY_PASS);
    assert_false(policy_report_blocked(run.rep));
    assert_string_equal(policy_report_get(run.rep, 2)->message, "");
    pt_run_free(&run);
    policy_set_destroy(s);
}

static void test_format_audit_and_quotes(void **state)
{
    const char *y = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: zeta}\n"
                    "spec:\n  rules:\n"
                    "  - name: r\n    match: {resources: {kinds: ['*']}}\n"
                    "    validate:\n      message: \"it's wrong\"\n"
                    "      pattern: {metadata: {labels: {team: a}}}\n"
                    "---\n"
                    "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: alpha}\n"
                    "spec:\n  validationFailureAction: Enforce\n  rules:\n"
                    "  - name: r\n    match: {resources: {kinds: ['*']}}\n"
                    "    validate:\n      pattern: {metadata: {labels: {team: a}}}\n";
    struct policy_set *s = load_ok(y);
    struct pt_run run;
    struct cm_buf b;

    (void)state;
    (void)pt_eval(s, pod_bad, POLICY_OP_CREATE, NULL, false, &run);
    cm_buf_init(&b, 1 << 16);
    assert_int_equal(policy_report_format(run.rep, true, "Pod", "dev", "p1", &b), 0);
    assert_string_equal(b.ptr, "resource Pod/dev/p1 was blocked due to the following policies\n\n"
                               "zeta:\n"
                               "  r: 'validation error: it''s wrong. rule r failed at path "
                               "/metadata/labels/team/'\n");
    cm_buf_reset(&b);
    assert_int_equal(policy_report_format(run.rep, false, "Pod", "dev", "p1", &b), 0);
    assert_non_null(strstr(b.ptr, "\n\nalpha:\n  r: 'validation error: rule r failed"));
    assert_null(strstr(b.ptr, "zeta"));
    cm_buf_free(&b);
    pt_run_free(&run);
    policy_set_destroy(s);
}

static void test_namespaced_policy(void **state)
{
    const char *y = "apiVersion: kyverno.io/v1\nkind: Policy\nmetadata: {name: p, namespace: dev}\n"
                    "spec:\n  rules:\n  - name: r\n    match: {resources: {kinds: ['*']}}\n"
                    "    validate: {pattern: {metadata: {labels: {team: a}}}}\n";
    struct policy_set *s = load_ok(y);
    struct pt_run run;

    (void)state;
    assert_int_equal(pt_verdict(s, deploy_bad, POLICY_OP_CREATE, NULL, false), PT_NOT_SELECTED);
    assert_int_equal(pt_eval(s, pod_bad, POLICY_OP_CREATE, NULL, false, &run), POLICY_FAIL);
    assert_string_equal(first(run.rep)->policy, "dev/p");
    pt_run_free(&run);
    policy_set_destroy(s);
}

static void test_not_an_object(void **state)
{
    struct policy_set *s = pt_rule_set("", "    match: {resources: {kinds: ['*']}}\n");
    struct policy_report *rep = NULL;
    struct policy_request req;
    struct cm_err err;
    cJSON *arr = cJSON_CreateArray();

    (void)state;
    memset(&req, 0, sizeof(req));
    req.object = arr;
    assert_int_equal(policy_report_create(&rep), 0);
    assert_int_equal(policy_set_eval(s, &req, rep, &err), 0);
    assert_int_equal(policy_report_count(rep), 0);
    assert_false(policy_report_blocked(rep));
    assert_null(policy_report_get(rep, 0));
    /* no kind: not a Kubernetes object */
    assert_int_equal(pt_verdict(s, "metadata: {name: x}\n", POLICY_OP_CREATE, NULL, false),
                     PT_NOT_SELECTED);
    cJSON_Delete(arr);
    policy_report_destroy(rep);
    policy_set_destroy(s);
}

static void test_report_reuse_many_rules(void **state)
{
    char *y = cm_malloc(200000);
    size_t off = 0;
    struct policy_set *s;
    struct pt_run run;
    int i;

    (void)state;
    off += (size_t)snprintf(y + off, 200000 - off,
                            "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\n"
                            "spec:\n  rules:\n");
    for (i = 0; i < 100; i++)
        off += (size_t)snprintf(y + off, 200000 - off,
                                "  - name: r%d\n    match: {resources: {kinds: ['*']}}\n"
                                "    validate: {pattern: {metadata: {labels: {team: a}}}}\n",
                                i);
    s = load_ok(y);
    assert_int_equal(policy_set_rule_count(s), 100);
    assert_int_equal(pt_eval(s, pod_bad, POLICY_OP_CREATE, NULL, false, &run), POLICY_FAIL);
    assert_int_equal(policy_report_count(run.rep), 100);
    assert_string_equal(policy_report_get(run.rep, 99)->rule, "r99");
    assert_string_equal(policy_report_get(run.rep, 0)->path, "/metadata/labels/team/");
    assert_non_null(strstr(policy_report_get(run.rep, 0)->message, "rule r0 failed"));
    pt_run_free(&run);
    policy_set_destroy(s);
    cm_free(y);
}

static void expect_load_error(const char *y, int code, const char *want)
{
    struct policy_set *s = NULL;
    struct cm_err err;
    int rc = load(y, &s, &err);

    if (rc != code || strstr(err.msg, want) == NULL)
        fail_msg("rc %d message \"%s\", wanted \"%s\"", rc, err.msg, want);
    assert_null(s);
}

static void test_load_errors(void **state)
{
    static const char head[] = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\n"
                               "metadata: {name: p}\nspec:\n  rules:\n  - name: r\n";
    static const struct {
        const char *rule;
        const char *want;
    } cases[] = {
        {"    match: {resources: {kinds: [Pod]}}\n    mutate: {}\n",
         "p.yaml:8:5: policy p rule r: mutate rules are not supported"},
        {"    match: {resources: {kinds: [Pod]}}\n", "rule needs validate"},
        {"    validate: {pattern: {a: b}}\n", "match is required"},
        {"    match: {resources: {kinds: []}}\n    validate: {pattern: {a: b}}\n",
         "at least one kind"},
        {"    match: {resources: {kinds: [a/b/c/d]}}\n    validate: {pattern: {a: b}}\n",
         "too many parts"},
        {"    match: {resources: {kinds: [Pod/exec]}}\n    validate: {pattern: {a: b}}\n",
         "subresources are not supported"},
        {"    match: {resources: {kinds: [Pod], operations: [PATCH]}}\n"
         "    validate: {pattern: {a: b}}\n",
         "operations entries must be"},
        {"    match: {resources: {kinds: [Pod], colour: red}}\n    validate: {pattern: {a: b}}\n",
         "unknown field \"colour\""},
        {"    match: {any: [{subjects: [{kind: User, name: x}]}]}\n"
         "    validate: {pattern: {a: b}}\n",
         "subjects filters are not supported"},
        {"    match: {resources: {kinds: [Pod]}, any: [{resources: {kinds: [Pod]}}]}\n"
         "    validate: {pattern: {a: b}}\n",
         "takes one of resources, any or all"},
        {"    match: {any: []}\n    validate: {pattern: {a: b}}\n", "must be a non-empty list"},
        {"    match: {resources: {kinds: [Pod], selector: {matchExpressions: [{key: a, "
         "operator: Maybe}]}}}\n    validate: {pattern: {a: b}}\n",
         "operator \"Maybe\""},
        {"    match: {resources: {kinds: [Pod], selector: {matchExpressions: [{key: a, "
         "operator: In}]}}}\n    validate: {pattern: {a: b}}\n",
         "In needs values"},
        {"    match: {resources: {kinds: [Pod]}}\n"
         "    validate: {pattern: {a: b}, anyPattern: [{a: b}]}\n",
         "either pattern or anyPattern"},
        {"    match: {resources: {kinds: [Pod]}}\n    validate: {message: x}\n",
         "needs pattern or anyPattern"},
        {"    match: {resources: {kinds: [Pod]}}\n    validate: {anyPattern: []}\n",
         "anyPattern must be a non-empty list"},
        {"    match: {resources: {kinds: [Pod]}}\n    validate: {deny: {}}\n",
         "validate.deny is not supported"},
        {"    match: {resources: {kinds: [Pod]}}\n"
         "    validate: {failureAction: Block, pattern: {a: b}}\n",
         "must be Enforce or Audit, not \"Block\""},
        {"    match: {resources: {kinds: [Pod]}}\n"
         "    preconditions: {all: [{key: x, operator: Like, value: y}]}\n"
         "    validate: {pattern: {a: b}}\n",
         "unsupported operator \"Like\""},
        {"    match: {resources: {kinds: [Pod]}}\n"
         "    preconditions: {all: [{key: '{{ serviceAccountName }}', operator: Equals, "
         "value: y}]}\n    validate: {pattern: {a: b}}\n",
         "unsupported variable"},
        {"    match: {resources: {kinds: [Pod]}}\n"
         "    preconditions: {all: [{key: '{{ request.object.x ', operator: Equals, "
         "value: y}]}\n    validate: {pattern: {a: b}}\n",
         "unterminated {{"},
        {"    match: {resources: {kinds: [Pod], names: [3]}}\n    validate: {pattern: {a: b}}\n",
         "names entries must be strings"},
        {"    match: {resources: {kinds: [Pod]}}\n    validate: {pattern: {a: b}}\n"
         "  - name: r\n    match: {resources: {kinds: [Pod]}}\n    validate: {pattern: {a: b}}\n",
         "duplicate rule name"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(cases); i++) {
        char y[2048];

        (void)snprintf(y, sizeof(y), "%s%s", head, cases[i].rule);
        expect_load_error(y, CM_ECONFIG, cases[i].want);
    }
    expect_load_error("apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\n"
                      "spec:\n  validationFailureAction: Warn\n  rules: []\n",
                      CM_ECONFIG, "spec.rules is empty");
    expect_load_error("apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\n"
                      "spec:\n  validationFailureAction: Warn\n  rules:\n  - name: r\n"
                      "    match: {resources: {kinds: [Pod]}}\n    validate: {pattern: {a: b}}\n",
                      CM_ECONFIG, "p.yaml:5:28: policy p: spec.validationFailureAction must be");
    expect_load_error("apiVersion: kyverno.io/v1\nkind: Policy\nmetadata: {name: p}\n"
                      "spec:\n  validationFailureActionOverrides: []\n  rules:\n  - name: r\n"
                      "    match: {resources: {kinds: [Pod]}}\n    validate: {pattern: {a: b}}\n",
                      CM_ECONFIG, "only for ClusterPolicy");
    expect_load_error("apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\n"
                      "spec:\n  rules:\n  - name: r\n"
                      "    match: {resources: {kinds: [Pod]}}\n    validate: {pattern: {a: b}}\n"
                      "---\n"
                      "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\n"
                      "spec:\n  rules:\n  - name: r\n"
                      "    match: {resources: {kinds: [Pod]}}\n    validate: {pattern: {a: b}}\n",
                      CM_ECONFIG, "policy p is defined twice");
    expect_load_error("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p}\n", CM_ECONFIG,
                      "p.yaml:1:1: v1 ConfigMap is not a policy");
    expect_load_error("- a\n- b\n", CM_ECONFIG, "a document must be a mapping");
}

static void test_skips_and_request_namespace(void **state)
{
    /* A conditional anchor that does not hold makes the rule skip; so does an anyPattern
     * whose alternatives all skip. */
    const char *y = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\n"
                    "spec:\n  rules:\n"
                    "  - name: cond\n    match: {resources: {kinds: ['*']}}\n"
                    "    validate: {pattern: {metadata: {(name): only-this, labels: {team: a}}}}\n"
                    "  - name: anyskip\n    match: {resources: {kinds: ['*']}}\n"
                    "    validate:\n      anyPattern:\n"
                    "      - {metadata: {(name): x, labels: {team: a}}}\n"
                    "      - {metadata: {(name): y, labels: {team: a}}}\n"
                    "  - name: ns\n    match: {resources: {kinds: ['*'], namespaces: [override]}}\n"
                    "    validate: {pattern: {metadata: {labels: {team: a}}}}\n";
    struct policy_set *s = load_ok(y);
    struct policy_docs *d = NULL;
    struct policy_report *rep = NULL;
    struct policy_request req;
    struct cm_err err;

    (void)state;
    assert_int_equal(policy_docs_parse("o", pod_bad, strlen(pod_bad), &d, &err), 0);
    memset(&req, 0, sizeof(req));
    req.object = policy_docs_get(d, 0);
    req.namespace_ = "override"; /* the request's namespace wins over the object's */
    assert_int_equal(policy_report_create(&rep), 0);
    assert_int_equal(policy_set_eval(s, &req, rep, &err), 0);
    assert_int_equal(policy_report_count(rep), 3);
    assert_int_equal(policy_report_get(rep, 0)->result, POLICY_SKIP);
    assert_int_equal(policy_report_get(rep, 1)->result, POLICY_SKIP);
    assert_int_equal(policy_report_get(rep, 2)->result, POLICY_FAIL);
    assert_string_equal(policy_report_get(rep, 0)->message, "");
    policy_report_destroy(rep);
    policy_docs_destroy(d);
    policy_set_destroy(s);
}

static void test_more_load_errors(void **state)
{
    static const char head[] = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\n";
    static const struct {
        const char *body;
        const char *want;
    } cases[] = {
        {"metadata: {name: p}\nspec:\n  rules: [x]\n", "rules entries must be mappings"},
        {"metadata: {name: p}\nspec:\n  rules: [{name: '', match: {resources: {kinds: [Pod]}}, "
         "validate: {pattern: {a: b}}}]\n",
         "rule names are 1 to 63 characters"},
        {"metadata: {name: p}\nspec:\n  rules: [{name: r, context: [], match: {resources: "
         "{kinds: [Pod]}}, validate: {pattern: {a: b}}}]\n",
         "context and celPreconditions are not supported"},
        {"metadata: {name: p}\nspec:\n  rules: [{name: r, match: {resources: {kinds: [Pod]}}, "
         "validate: x}]\n",
         "validate must be a mapping"},
        {"metadata: {name: p}\nspec:\n  rules: [{name: r, match: {resources: {kinds: [Pod]}}, "
         "validate: {pattern: {a: b}, failureAction: 1}}]\n",
         "validate.failureAction must be Enforce or Audit"},
        {"metadata: {name: p}\nspec:\n  validationFailureActionOverrides: x\n  rules: [{name: r, "
         "match: {resources: {kinds: [Pod]}}, validate: {pattern: {a: b}}}]\n",
         "validationFailureActionOverrides must be a list"},
        {"metadata: {name: p}\nspec:\n  validationFailureActionOverrides: [x]\n  rules: [{name: "
         "r, match: {resources: {kinds: [Pod]}}, validate: {pattern: {a: b}}}]\n",
         "override entries must be mappings"},
        {"metadata: {name: p}\nspec:\n  validationFailureActionOverrides: [{action: Audit}]\n"
         "  rules: [{name: r, match: {resources: {kinds: [Pod]}}, validate: {pattern: {a: b}}}]\n",
         "override needs namespaces or namespaceSelector"},
        {"metadata: {name: p}\nspec:\n  applyRules: One\n  rules: [{name: r, match: "
         "{resources: {kinds: [Pod]}}, validate: {pattern: {a: b}}}]\n",
         "applyRules: only All is supported"},
        {"metadata: {name: Bad_Name}\nspec:\n  rules: [{name: r, match: {resources: {kinds: "
         "[Pod]}}, validate: {pattern: {a: b}}}]\n",
         "metadata.name \"Bad_Name\" is not a valid name"},
        {"metadata: {name: p}\nspec:\n  rules: [{name: r, match: {resources: {kinds: [Pod]}}, "
         "validate: {pattern: {metadata: {labels: {^(x): y}}}}}]\n",
         "p.yaml:"},
        {"metadata: {name: p}\n", "spec is required"},
        {"metadata: {name: p}\nspec:\n  validationFailureActon: Enforce\n  rules: [{name: r, "
         "match: {resources: {kinds: [Pod]}}, validate: {pattern: {a: b}}}]\n",
         "p.yaml:5:3: policy p: unknown field \"validationFailureActon\""},
        {"metadata: {name: p}\nspek: {}\n", "unknown field \"spek\""},
        {"metadata: {name: p}\nspec: {}\n", "rules is required"},
        {"metadata: {name: p}\nspec:\n  rules: [{name: r, match: {resources: {kinds: [Pod]}}, "
         "exclude: {resources: {kinds: [Pod]}, all: []}, validate: {pattern: {a: b}}}]\n",
         "exclude takes one of resources, any or all"},
        {"metadata: {name: p}\nspec:\n  rules: [{name: r, match: {foo: 1}, validate: {pattern: "
         "{a: b}}}]\n",
         "filter needs resources"},
        {"metadata: {name: p}\nspec:\n  rules: [{name: r, match: {resources: {kinds: [Pod], "
         "name: a, names: [b]}}, validate: {pattern: {a: b}}}]\n",
         "use either name or names"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(cases); i++) {
        char y[2048];

        (void)snprintf(y, sizeof(y), "%s%s", head, cases[i].body);
        expect_load_error(y, CM_ECONFIG, cases[i].want);
    }
}

static void test_rule_limit(void **state)
{
    /* POLICY_MAX_RULES rules pass, one more fails (spread over two buffers). */
    size_t cap = 1u << 22;
    char *y = cm_malloc(cap);
    struct policy_loader *l = NULL;
    struct policy_set *s = NULL;
    struct cm_err err;
    size_t off = 0;
    int i;

    (void)state;
    off +=
        (size_t)snprintf(y + off, cap - off,
                         "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: big}\n"
                         "spec:\n  rules:\n");
    for (i = 0; i < POLICY_MAX_RULES; i++)
        off += (size_t)snprintf(y + off, cap - off,
                                "  - {name: r%d, match: {resources: {kinds: [Pod]}}, "
                                "validate: {pattern: {a: b}}}\n",
                                i);
    assert_int_equal(policy_loader_create(&l, &err), 0);
    assert_int_equal(policy_loader_add(l, "big.yaml", y, off, &err), 0);
    off = (size_t)snprintf(y, cap,
                           "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: one}\n"
                           "spec:\n  rules:\n  - {name: r, match: {resources: {kinds: [Pod]}}, "
                           "validate: {pattern: {a: b}}}\n");
    assert_int_equal(policy_loader_add(l, "one.yaml", y, off, &err), CM_ETOOBIG);
    assert_non_null(strstr(err.msg, "more than 10000 rules"));
    assert_int_equal(policy_loader_finish(l, &s, &err), 0);
    assert_int_equal(policy_set_rule_count(s), POLICY_MAX_RULES);
    policy_set_destroy(s);
    cm_free(y);
}

static void test_oom_loop_policy(void **state)
{
    const char *y =
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\n"
        "spec:\n  validationFailureAction: Enforce\n"
        "  validationFailureActionOverrides: [{action: Audit, namespaces: [dev-*]}]\n"
        "  rules:\n  - name: r\n"
        "    match: {any: [{resources: {kinds: [apps/v1/Deployment], names: ['w*'], "
        "selector: {matchLabels: {a: b}, matchExpressions: [{key: c, operator: In, "
        "values: [d]}]}}}]}\n"
        "    exclude: {resources: {namespaces: [kube-system]}}\n"
        "    preconditions: {any: [{key: '{{ request.object.metadata.name }}', operator: "
        "NotEquals, value: x}]}\n"
        "    validate:\n      message: 'm {{ request.operation }}'\n"
        "      pattern: {metadata: {labels: {team: 'a*'}}}\n"
        "---\n"
        "apiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\nmetadata: {name: g}\n"
        "spec: {schedule: '@daily', location: {bucket: bkt}, selector: {namespaces: [x]}}\n";
    long n;
    int rc = CM_ENOMEM;

    (void)state;
    for (n = 1; rc == CM_ENOMEM && n < 100000; n++) {
        struct policy_loader *l = NULL;
        struct policy_set *s = NULL;
        struct cm_err err;

        cm_alloc_fault_set(n);
        rc = policy_loader_create(&l, &err);
        if (rc == 0) {
            rc = policy_loader_add(l, "p.yaml", y, strlen(y), &err);
            if (rc == 0)
                rc = policy_loader_finish(l, &s, &err);
            else
                policy_loader_destroy(l);
        }
        cm_alloc_fault_set(0);
        if (rc != 0) {
            if (rc != CM_ENOMEM)
                fail_msg("n=%ld rc=%d %s", n, rc, err.msg);
            assert_null(s);
        } else {
            assert_int_equal(policy_set_rule_count(s), 1);
        }
        policy_set_destroy(s);
    }
    assert_int_equal(rc, 0);
}

static void test_eval_oom(void **state)
{
    struct policy_set *s = pt_rule_set("", "    match: {resources: {kinds: ['*']}}\n");
    struct policy_docs *d = NULL;
    struct policy_report *rep = NULL;
    struct policy_request req;
    struct cm_err err;

    (void)state;
    assert_int_equal(policy_docs_parse("o", pod_bad, strlen(pod_bad), &d, &err), 0);
    memset(&req, 0, sizeof(req));
    req.object = policy_docs_get(d, 0);
    assert_int_equal(policy_report_create(&rep), 0);
    cm_alloc_fault_set(1);
    assert_int_equal(policy_set_eval(s, &req, rep, &err), CM_ENOMEM);
    cm_alloc_fault_set(0);
    assert_int_equal(policy_report_count(rep), 0);
    assert_int_equal(policy_set_eval(s, &req, rep, &err), 0);
    assert_int_equal(policy_report_count(rep), 1);
    policy_report_destroy(rep);
    policy_docs_destroy(d);
    policy_set_destroy(s);
}

static void test_eval_oom_loop(void **state)
{
    /* Failures build messages (and the report grows past its first size): every allocation
     * of an evaluation may fail, and each failure is CM_ENOMEM with an empty report. */
    char *y = cm_malloc(100000);
    size_t off = 0;
    struct policy_set *s;
    struct policy_docs *d = NULL;
    struct cm_err err;
    long n;
    int rc = CM_ENOMEM;
    int i;

    (void)state;
    off += (size_t)snprintf(y + off, 100000 - off,
                            "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\n"
                            "spec:\n  rules:\n");
    for (i = 0; i < 12; i++)
        off += (size_t)snprintf(
            y + off, 100000 - off,
            "  - name: r%d\n    match: {resources: {kinds: ['*']}}\n"
            "    validate:\n      message: 'm {{ request.object.metadata.name }}'\n"
            "      anyPattern: [{metadata: {labels: {team: a}}}, "
            "{metadata: {labels: {app: b}}}]\n",
            i);
    off += (size_t)snprintf(y + off, 100000 - off,
                            "---\napiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\n"
                            "metadata: {name: g}\nspec: {schedule: '@daily', location: "
                            "{bucket: bkt}}\n");
    s = load_ok(y);
    assert_int_equal(policy_docs_parse("o", deploy_bad, strlen(deploy_bad), &d, &err), 0);
    for (n = 1; rc == CM_ENOMEM && n < 10000; n++) {
        struct policy_report *rep = NULL;
        struct policy_request req;

        memset(&req, 0, sizeof(req));
        req.object = policy_docs_get(d, 0);
        if (policy_report_create(&rep) != 0)
            fail();
        cm_alloc_fault_set(n);
        rc = policy_set_eval(s, &req, rep, &err);
        cm_alloc_fault_set(0);
        if (rc != 0) {
            assert_int_equal(rc, CM_ENOMEM);
            assert_int_equal(policy_report_count(rep), 0);
        } else {
            assert_int_equal(policy_report_count(rep), 14);
            assert_non_null(strstr(policy_report_get(rep, 11)->message, "m web. rule r11[0]"));
        }
        policy_report_destroy(rep);
    }
    assert_int_equal(rc, 0);
    policy_docs_destroy(d);
    policy_set_destroy(s);
    cm_free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_names_namespaces),
        cmocka_unit_test(test_selector),
        cmocka_unit_test(test_namespace_selector),
        cmocka_unit_test(test_uses_namespace_selector),
        cmocka_unit_test(test_annotations_and_operations),
        cmocka_unit_test(test_any_all_exclude),
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_override_namespace_selector),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_format_audit_and_quotes),
        cmocka_unit_test(test_namespaced_policy),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_report_reuse_many_rules),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_skips_and_request_namespace),
        cmocka_unit_test(test_more_load_errors),
        cmocka_unit_test(test_rule_limit),
        cmocka_unit_test(test_oom_loop_policy),
        cmocka_unit_test(test_eval_oom),
        cmocka_unit_test(test_eval_oom_loop),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
