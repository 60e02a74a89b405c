/* SPDX-License-Identifier: Apache-2.0 */
/* test_eval_ns.c - evaluation when the namespace's labels are not known yet
 * (policy_request.namespace_labels_unknown): an undecided namespaceSelector in match,
 * exclude or validationFailureActionOverrides never lets a request pass silently, and
 * never blocks one that passes the rule anyway. */
#include "policy/policy.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define NOT_SELECTED (-1)

static const char note_select[] =
    "the labels of namespace \"prod\" are not known yet, so the namespaceSelector of this rule "
    "cannot be evaluated, and the resource does not pass the rule: ";
static const char note_action[] =
    "the labels of namespace \"prod\" are not known yet, so validationFailureActionOverrides "
    "cannot be evaluated and Enforce applies: ";
static const char fail_text[] =
    "validation error: need team. rule r failed at path /metadata/labels/team/";

static const char deploy_ok[] = "apiVersion: apps/v1\nkind: Deployment\n"
                                "metadata: {name: web, namespace: prod, labels: {team: a}}\n";
static const char deploy_bad[] = "apiVersion: apps/v1\nkind: Deployment\n"
                                 "metadata: {name: web, namespace: prod, labels: {team: b}}\n";

static int setup(void **state)
{
    (void)state;
    policy_json_hooks_install();
    return 0;
}

/* A ClusterPolicy "p" with one rule "r" requiring label team=a. */
static struct policy_set *rule_set(const char *spec_extra, const char *rule_body)
{
    char y[8192];
    struct policy_set *s = NULL;
    struct cm_err err;

    (void)snprintf(y, sizeof(y),
                   "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\n"
                   "spec:\n%s  rules:\n  - name: r\n%s"
                   "    validate:\n      message: need team\n"
                   "      pattern: {metadata: {labels: {team: a}}}\n",
                   spec_extra, rule_body);
    if (policy_set_load("p.yaml", y, strlen(y), &s, &err) != 0)
        fail_msg("load failed: %s", err.msg);
    return s;
}

struct run {
    struct policy_docs *docs;
    struct policy_docs *nsd;
    struct policy_report *rep;
    const struct policy_rule_result *res; /* rule p/r, or NULL when not reported */
};

/* Evaluates obj (YAML) with ns_labels (YAML, or NULL) and the unknown flag. Returns the
 * result of p/r or NOT_SELECTED. */
static int eval_ns(const struct policy_set *s, const char *obj, const char *ns_labels, bool unknown,
                   struct run *run)
{
    struct policy_request req;
    struct cm_err err;
    size_t i;

    memset(&req, 0, sizeof(req));
    memset(run, 0, sizeof(*run));
    assert_int_equal(policy_docs_parse("obj", obj, strlen(obj), &run->docs, &err), 0);
    req.object = policy_docs_get(run->docs, 0);
    req.operation = POLICY_OP_CREATE;
    req.namespace_labels_unknown = unknown;
    if (ns_labels != NULL) {
        assert_int_equal(policy_docs_parse("ns", ns_labels, strlen(ns_labels), &run->nsd, &err), 0);
        req.namespace_labels = policy_docs_get(run->nsd, 0);
    }
    assert_int_equal(policy_report_create(&run->rep), 0);
    assert_int_equal(policy_set_eval(s, &req, run->rep, &err), 0);
    for (i = 0; i < policy_report_count(run->rep); i++) {
        const struct policy_rule_result *x = policy_report_get(run->rep, i);

        if (strcmp(x->policy, "p") == 0)
            run->res = x;
    }
    return run->res != NULL ? (int)run->res->result : NOT_SELECTED;
}

static void run_free(struct run *run)
{
    policy_report_destroy(run->rep);
    policy_docs_destroy(run->nsd);
    policy_docs_destroy(run->docs);
}

static int verdict(const struct policy_set *s, const char *obj, const char *ns_labels, bool unknown)
{
    struct run run;
    int r = eval_ns(s, obj, ns_labels, unknown, &run);

    run_free(&run);
    return r;
}

/* The message is note + the rule's own failure text. */
static void assert_noted(const struct run *run, const char *note)
{
    char want[1024];

    (void)snprintf(want, sizeof(want), "%s%s", note, fail_text);
    assert_non_null(run->res);
    assert_string_equal(run->res->message, want);
}

static const char sel_prod[] =
    "    match: {resources: {kinds: [Deployment], namespaceSelector: {matchLabels: "
    "{env: prod}}}}\n";

static void test_match_undecided(void **state)
{
    struct policy_set *s = rule_set("  validationFailureAction: Enforce\n", sel_prod);
    struct run run;

    (void)state;
    /* Not passing: an error of the rule, blocked under Enforce, with the note. */
    assert_int_equal(eval_ns(s, deploy_bad, NULL, true, &run), POLICY_ERROR);
    assert_int_equal(run.res->action, POLICY_ENFORCE);
    assert_true(policy_report_blocked(run.rep));
    assert_noted(&run, note_select);
    assert_string_equal(run.res->path, "/metadata/labels/team/");
    run_free(&run);
    /* Passing anyway: not reported, nothing blocked. */
    assert_int_equal(eval_ns(s, deploy_ok, NULL, true, &run), NOT_SELECTED);
    assert_false(policy_report_blocked(run.rep));
    assert_int_equal(policy_report_count(run.rep), 0);
    run_free(&run);
    /* Without the flag, absent labels match nothing (as before). */
    assert_int_equal(verdict(s, deploy_bad, NULL, false), NOT_SELECTED);
    /* Known labels win over the flag, and carry no note. */
    assert_int_equal(verdict(s, deploy_bad, "{env: dev}", true), NOT_SELECTED);
    assert_int_equal(eval_ns(s, deploy_bad, "{env: prod}", true, &run), POLICY_FAIL);
    assert_string_equal(run.res->message, fail_text);
    run_free(&run);
    policy_set_destroy(s);
}

static void test_match_undecided_audit(void **state)
{
    struct policy_set *s = rule_set("", sel_prod);
    struct run run;

    (void)state;
    /* Audit: the same error, reported for a warning, not blocking. */
    assert_int_equal(eval_ns(s, deploy_bad, NULL, true, &run), POLICY_ERROR);
    assert_int_equal(run.res->action, POLICY_AUDIT);
    assert_false(policy_report_blocked(run.rep));
    assert_noted(&run, note_select);
    run_free(&run);
    policy_set_destroy(s);
}

/* A definite answer elsewhere in the filter or the list decides alone. */
static void test_match_definite_wins(void **state)
{
    struct policy_set *s;

    (void)state;
    /* Another criterion of the same filter is false: not selected. */
    s = rule_set("", "    match: {resources: {kinds: [Pod], namespaceSelector: {matchLabels: "
                     "{env: prod}}}}\n");
    assert_int_equal(verdict(s, deploy_bad, NULL, true), NOT_SELECTED);
    policy_set_destroy(s);
    s = rule_set("", "    match: {resources: {kinds: [Deployment], names: [other], "
                     "namespaceSelector: {matchLabels: {env: prod}}}}\n");
    assert_int_equal(verdict(s, deploy_bad, NULL, true), NOT_SELECTED);
    policy_set_destroy(s);
    /* any: a filter that selects for sure wins; the rule plainly fails. */
    s = rule_set("", "    match:\n      any:\n"
                     "      - resources: {kinds: [Deployment], namespaceSelector: "
                     "{matchLabels: {env: prod}}}\n"
                     "      - resources: {kinds: [Deployment], namespaces: [prod]}\n");
    assert_int_equal(verdict(s, deploy_bad, NULL, true), POLICY_FAIL);
    policy_set_destroy(s);
    /* any: the other filter does not select: undecided. */
    s = rule_set("", "    match:\n      any:\n"
                     "      - resources: {kinds: [Deployment], namespaceSelector: "
                     "{matchLabels: {env: prod}}}\n"
                     "      - resources: {kinds: [Deployment], namespaces: [dev]}\n");
    assert_int_equal(verdict(s, deploy_bad, NULL, true), POLICY_ERROR);
    policy_set_destroy(s);
    /* all: a filter that does not select wins; otherwise undecided. */
    s = rule_set("", "    match:\n      all:\n"
                     "      - resources: {kinds: [Deployment], namespaceSelector: "
                     "{matchLabels: {env: prod}}}\n"
                     "      - resources: {kinds: [Pod]}\n");
    assert_int_equal(verdict(s, deploy_bad, NULL, true), NOT_SELECTED);
    policy_set_destroy(s);
    s = rule_set("", "    match:\n      all:\n"
                     "      - resources: {kinds: [Deployment], namespaceSelector: "
                     "{matchLabels: {env: prod}}}\n"
                     "      - resources: {kinds: [Deployment], namespaces: [prod]}\n");
    assert_int_equal(verdict(s, deploy_bad, NULL, true), POLICY_ERROR);
    assert_int_equal(verdict(s, deploy_bad, "{env: prod}", true), POLICY_FAIL);
    policy_set_destroy(s);
}

static void test_exclude_undecided(void **state)
{
    struct policy_set *s;
    struct run run;

    (void)state;
    s = rule_set("  validationFailureAction: Enforce\n",
                 "    match: {resources: {kinds: [Deployment]}}\n"
                 "    exclude: {resources: {namespaceSelector: {matchLabels: {env: dev}}}}\n");
    /* Perhaps excluded: not passing is an error; passing is not reported. */
    assert_int_equal(eval_ns(s, deploy_bad, NULL, true, &run), POLICY_ERROR);
    assert_true(policy_report_blocked(run.rep));
    assert_noted(&run, note_select);
    run_free(&run);
    assert_int_equal(verdict(s, deploy_ok, NULL, true), NOT_SELECTED);
    assert_int_equal(verdict(s, deploy_bad, "{env: dev}", true), NOT_SELECTED);
    assert_int_equal(verdict(s, deploy_bad, "{env: prod}", true), POLICY_FAIL);
    /* Without the flag: labels absent, the exclude never matches (as before). */
    assert_int_equal(verdict(s, deploy_bad, NULL, false), POLICY_FAIL);
    policy_set_destroy(s);
    /* Excluded for sure by another filter: not reported. */
    s = rule_set("", "    match: {resources: {kinds: [Deployment]}}\n"
                     "    exclude:\n      any:\n"
                     "      - resources: {namespaceSelector: {matchLabels: {env: dev}}}\n"
                     "      - resources: {namespaces: [prod]}\n");
    assert_int_equal(verdict(s, deploy_bad, NULL, true), NOT_SELECTED);
    policy_set_destroy(s);
}

static void test_override_undecided(void **state)
{
    struct policy_set *s;
    struct run run;

    (void)state;
    /* Audit, Enforce for env=prod: the failure is enforced, with the note. */
    s = rule_set("  validationFailureActionOverrides:\n"
                 "  - action: Enforce\n"
                 "    namespaceSelector: {matchLabels: {env: prod}}\n",
                 "    match: {resources: {kinds: [Deployment]}}\n");
    assert_int_equal(eval_ns(s, deploy_bad, NULL, true, &run), POLICY_FAIL);
    assert_int_equal(run.res->action, POLICY_ENFORCE);
    assert_true(policy_report_blocked(run.rep));
    assert_noted(&run, note_action);
    run_free(&run);
    /* Passing: reported as a pass, with no message. */
    assert_int_equal(eval_ns(s, deploy_ok, NULL, true, &run), POLICY_PASS);
    assert_string_equal(run.res->message, "");
    run_free(&run);
    /* Known labels: the override decides, no note. */
    assert_int_equal(eval_ns(s, deploy_bad, "{env: dev}", true, &run), POLICY_FAIL);
    assert_int_equal(run.res->action, POLICY_AUDIT);
    assert_string_equal(run.res->message, fail_text);
    run_free(&run);
    /* Without the flag: the policy's own action (as before). */
    assert_int_equal(eval_ns(s, deploy_bad, NULL, false, &run), POLICY_FAIL);
    assert_int_equal(run.res->action, POLICY_AUDIT);
    run_free(&run);
    policy_set_destroy(s);

    /* Enforce, Audit for env=dev: still Enforce, and said to be a guess. */
    s = rule_set("  validationFailureAction: Enforce\n"
                 "  validationFailureActionOverrides:\n"
                 "  - action: Audit\n"
                 "    namespaceSelector: {matchLabels: {env: dev}}\n",
                 "    match: {resources: {kinds: [Deployment]}}\n");
    assert_int_equal(eval_ns(s, deploy_bad, NULL, true, &run), POLICY_FAIL);
    assert_int_equal(run.res->action, POLICY_ENFORCE);
    assert_noted(&run, note_action);
    run_free(&run);
    policy_set_destroy(s);

    /* Every possible action is Audit: nothing to guess. */
    s = rule_set("  validationFailureActionOverrides:\n"
                 "  - action: Audit\n"
                 "    namespaceSelector: {matchLabels: {env: dev}}\n",
                 "    match: {resources: {kinds: [Deployment]}}\n");
    assert_int_equal(eval_ns(s, deploy_bad, NULL, true, &run), POLICY_FAIL);
    assert_int_equal(run.res->action, POLICY_AUDIT);
    assert_string_equal(run.res->message, fail_text);
    run_free(&run);
    policy_set_destroy(s);

    /* A definite earlier override wins (first match); a later undecided one is moot. */
    s = rule_set("  validationFailureActionOverrides:\n"
                 "  - action: Audit\n    namespaces: [prod]\n"
                 "  - action: Enforce\n"
                 "    namespaceSelector: {matchLabels: {env: prod}}\n",
                 "    match: {resources: {kinds: [Deployment]}}\n");
    assert_int_equal(eval_ns(s, deploy_bad, NULL, true, &run), POLICY_FAIL);
    assert_int_equal(run.res->action, POLICY_AUDIT);
    assert_string_equal(run.res->message, fail_text);
    run_free(&run);
    policy_set_destroy(s);

    /* Undecided selection and action: an error under the strictest action. */
    s = rule_set("  validationFailureActionOverrides:\n"
                 "  - action: Enforce\n"
                 "    namespaceSelector: {matchLabels: {env: prod}}\n",
                 sel_prod);
    assert_int_equal(eval_ns(s, deploy_bad, NULL, true, &run), POLICY_ERROR);
    assert_int_equal(run.res->action, POLICY_ENFORCE);
    assert_noted(&run, note_select);
    run_free(&run);
    policy_set_destroy(s);
}

/* The message over the cap is shortened, and keeps the note. */
static void test_note_survives_long_message(void **state)
{
    size_t cap = 400000;
    char *y = cm_malloc(cap);
    size_t off = 0;
    struct policy_set *s = NULL;
    struct cm_err err;
    struct run run;
    char want[1024];
    int i;

    (void)state;
    assert_non_null(y);
    off += (size_t)snprintf(y + off, cap - off,
                            "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\n"
                            "spec:\n  rules:\n  - name: r\n    match: {resources: {kinds: "
                            "[Deployment], namespaceSelector: {matchLabels: {env: prod}}}}\n"
                            "    validate:\n      message: '%0*d'\n      anyPattern:\n",
                            60000, 0);
    for (i = 0; i < 2000; i++)
        off += (size_t)snprintf(y + off, cap - off, "      - {metadata: {labels: {l%d: x}}}\n", i);
    assert_true(off < cap);
    assert_int_equal(policy_set_load("p.yaml", y, off, &s, &err), 0);
    assert_int_equal(eval_ns(s, deploy_bad, NULL, true, &run), POLICY_ERROR);
    (void)snprintf(want, sizeof(want), "%s%s", note_select,
                   "validation error: rule r failed (message longer than 131072 bytes)");
    assert_string_equal(run.res->message, want);
    run_free(&run);
    policy_set_destroy(s);
    cm_free(y);
}

/* Out of memory on the undecided path: CM_ENOMEM and an empty report, no leak. */
static void test_oom_loop(void **state)
{
    struct policy_set *s = rule_set("  validationFailureAction: Enforce\n", sel_prod);
    struct policy_docs *d = NULL;
    struct policy_report *rep = NULL;
    struct policy_request req;
    struct cm_err err;
    long n;
    int rc = CM_ENOMEM;

    (void)state;
    assert_int_equal(policy_docs_parse("o", deploy_bad, strlen(deploy_bad), &d, &err), 0);
    memset(&req, 0, sizeof(req));
    req.object = policy_docs_get(d, 0);
    req.namespace_labels_unknown = true;
    for (n = 1; rc == CM_ENOMEM && n < 100; n++) {
        assert_int_equal(policy_report_create(&rep), 0);
        cm_alloc_fault_set(n);
        rc = policy_set_eval(s, &req, rep, &err);
        cm_alloc_fault_set(0);
        if (rc == CM_ENOMEM) {
            assert_int_equal(policy_report_count(rep), 0);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(policy_report_count(rep), 1);
            assert_int_equal(policy_report_get(rep, 0)->result, POLICY_ERROR);
        }
        policy_report_destroy(rep);
        rep = NULL;
    }
    assert_int_equal(rc, 0);
    assert_true(n > 2); /* at least one allocation failed on the way */
    policy_docs_destroy(d);
    policy_set_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_undecided),
        cmocka_unit_test(test_match_undecided_audit),
        cmocka_unit_test(test_match_definite_wins),
        cmocka_unit_test(test_exclude_undecided),
        cmocka_unit_test(test_override_undecided),
        cmocka_unit_test(test_note_survives_long_message),
        cmocka_unit_test(test_oom_loop),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
