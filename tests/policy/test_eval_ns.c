/* SPDX-License-Identifier: Apache-2.0 */
/* test_eval_ns.c - evaluation when the namespace's labels are not known yet
 * (policy_request.namespace_labels_unknown): an undecided namespaceSelector in match,
 * exclude or validationFailureActionOverrides never lets a request pass silently, and
 * never blocks one that passes the rule anyway. */
#include "policy/policy.h"
#include "tests/support/policy_testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

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

static const char sel_prod[] =
    "    match: {resources: {kinds: [Deployment], namespaceSelector: {matchLabels: "
    "{env: prod}}}}\n";
static const char match_deploy[] = "    match: {resources: {kinds: [Deployment]}}\n";
static const char enforce[] = "  validationFailureAction: Enforce\n";

static int setup(void **state)
{
    (void)state;
    policy_json_hooks_install();
    return 0;
}

/* One evaluation of p/r (a CREATE) and what it must give. */
struct check {
    const char *obj;           /* deploy_ok or deploy_bad */
    const char *ns_labels;     /* YAML, or NULL: none */
    bool unknown;              /* policy_request.namespace_labels_unknown */
    int result;                /* PT_NOT_SELECTED: not reported */
    enum policy_action action; /* of a failure or an error; else 0 */
    const char *note;          /* before a failure's or an error's fail_text; NULL: none */
};

/* A policy (spec_extra and rule_body of pt_rule_set) and its checks, up to the first
 * without an object. */
struct policy_case {
    const char *what;
    const char *spec;
    const char *rule;
    struct check checks[5];
};

/* Asserts what c says and what follows from it: a failure or an error fails at the team
 * label, its message is the note and the rule's own failure text, and it blocks exactly
 * under Enforce; a pass has no message and blocks nothing; an unselected rule is not
 * reported and blocks nothing. */
static void run_check(const struct policy_set *s, const char *what, size_t n, const struct check *c)
{
    struct pt_run run;
    char want[1024];
    int got = pt_eval(s, c->obj, POLICY_OP_CREATE, c->ns_labels, c->unknown, &run);

    if (got != c->result)
        fail_msg("%s, check %zu: result %d, want %d", what, n, got, c->result);
    if (c->result == PT_NOT_SELECTED) {
        assert_int_equal(policy_report_count(run.rep), 0);
        assert_false(policy_report_blocked(run.rep));
    } else if (c->result == POLICY_PASS) {
        assert_string_equal(run.res->message, "");
        assert_false(policy_report_blocked(run.rep));
    } else {
        (void)snprintf(want, sizeof(want), "%s%s", c->note != NULL ? c->note : "", fail_text);
        assert_int_equal(run.res->action, c->action);
        assert_int_equal(policy_report_blocked(run.rep), c->action == POLICY_ENFORCE);
        assert_string_equal(run.res->message, want);
        assert_string_equal(run.res->path, "/metadata/labels/team/");
    }
    pt_run_free(&run);
}

static void check_cases(const struct policy_case *cases, size_t n)
{
    size_t i;
    size_t j;

    for (i = 0; i < n; i++) {
        struct policy_set *s = pt_rule_set(cases[i].spec, cases[i].rule);

        for (j = 0; j < CM_ARRAY_LEN(cases[i].checks) && cases[i].checks[j].obj != NULL; j++)
            run_check(s, cases[i].what, j, &cases[i].checks[j]);
        policy_set_destroy(s);
    }
}

static void test_match_undecided(void **state)
{
    static const struct policy_case cases[] = {
        {"selector, Enforce",
         enforce,
         sel_prod,
         {/* Not passing: an error of the rule, blocked under Enforce, with the note. */
          {deploy_bad, NULL, true, POLICY_ERROR, POLICY_ENFORCE, note_select},
          /* Passing anyway: not reported, nothing blocked. */
          {deploy_ok, NULL, true, PT_NOT_SELECTED, 0, NULL},
          /* Without the flag, absent labels match nothing (as before). */
          {deploy_bad, NULL, false, PT_NOT_SELECTED, 0, NULL},
          /* Known labels win over the flag, and carry no note. */
          {deploy_bad, "{env: dev}", true, PT_NOT_SELECTED, 0, NULL},
          {deploy_bad, "{env: prod}", true, POLICY_FAIL, POLICY_ENFORCE, NULL}}},
    };

    (void)state;
    check_cases(cases, CM_ARRAY_LEN(cases));
}

static void test_match_undecided_audit(void **state)
{
    static const struct policy_case cases[] = {
        /* Audit: the same error, reported for a warning, not blocking. */
        {"selector, Audit",
         "",
         sel_prod,
         {{deploy_bad, NULL, true, POLICY_ERROR, POLICY_AUDIT, note_select}}},
    };

    (void)state;
    check_cases(cases, CM_ARRAY_LEN(cases));
}

/* A definite answer elsewhere in the filter or the list decides alone. */
static void test_match_definite_wins(void **state)
{
    static const struct policy_case cases[] = {
        /* Another criterion of the same filter is false: not selected. */
        {"kinds false",
         "",
         "    match: {resources: {kinds: [Pod], namespaceSelector: {matchLabels: "
         "{env: prod}}}}\n",
         {{deploy_bad, NULL, true, PT_NOT_SELECTED, 0, NULL}}},
        {"names false",
         "",
         "    match: {resources: {kinds: [Deployment], names: [other], "
         "namespaceSelector: {matchLabels: {env: prod}}}}\n",
         {{deploy_bad, NULL, true, PT_NOT_SELECTED, 0, NULL}}},
        /* any: a filter that selects for sure wins; the rule plainly fails. */
        {"any, one selects",
         "",
         "    match:\n      any:\n"
         "      - resources: {kinds: [Deployment], namespaceSelector: "
         "{matchLabels: {env: prod}}}\n"
         "      - resources: {kinds: [Deployment], namespaces: [prod]}\n",
         {{deploy_bad, NULL, true, POLICY_FAIL, POLICY_AUDIT, NULL}}},
        /* any: the other filter does not select: undecided. */
        {"any, other does not select",
         "",
         "    match:\n      any:\n"
         "      - resources: {kinds: [Deployment], namespaceSelector: "
         "{matchLabels: {env: prod}}}\n"
         "      - resources: {kinds: [Deployment], namespaces: [dev]}\n",
         {{deploy_bad, NULL, true, POLICY_ERROR, POLICY_AUDIT, note_select}}},
        /* all: a filter that does not select wins; otherwise undecided. */
        {"all, one does not select",
         "",
         "    match:\n      all:\n"
         "      - resources: {kinds: [Deployment], namespaceSelector: "
         "{matchLabels: {env: prod}}}\n"
         "      - resources: {kinds: [Pod]}\n",
         {{deploy_bad, NULL, true, PT_NOT_SELECTED, 0, NULL}}},
        {"all, undecided",
         "",
         "    match:\n      all:\n"
         "      - resources: {kinds: [Deployment], namespaceSelector: "
         "{matchLabels: {env: prod}}}\n"
         "      - resources: {kinds: [Deployment], namespaces: [prod]}\n",
         {{deploy_bad, NULL, true, POLICY_ERROR, POLICY_AUDIT, note_select},
          {deploy_bad, "{env: prod}", true, POLICY_FAIL, POLICY_AUDIT, NULL}}},
    };

    (void)state;
    check_cases(cases, CM_ARRAY_LEN(cases));
}

static void test_exclude_undecided(void **state)
{
    static const struct policy_case cases[] = {
        {"exclude by selector",
         enforce,
         "    match: {resources: {kinds: [Deployment]}}\n"
         "    exclude: {resources: {namespaceSelector: {matchLabels: {env: dev}}}}\n",
         {/* Perhaps excluded: not passing is an error; passing is not reported. */
          {deploy_bad, NULL, true, POLICY_ERROR, POLICY_ENFORCE, note_select},
          {deploy_ok, NULL, true, PT_NOT_SELECTED, 0, NULL},
          {deploy_bad, "{env: dev}", true, PT_NOT_SELECTED, 0, NULL},
          {deploy_bad, "{env: prod}", true, POLICY_FAIL, POLICY_ENFORCE, NULL},
          /* Without the flag: labels absent, the exclude never matches (as before). */
          {deploy_bad, NULL, false, POLICY_FAIL, POLICY_ENFORCE, NULL}}},
        /* Excluded for sure by another filter: not reported. */
        {"excluded for sure",
         "",
         "    match: {resources: {kinds: [Deployment]}}\n"
         "    exclude:\n      any:\n"
         "      - resources: {namespaceSelector: {matchLabels: {env: dev}}}\n"
         "      - resources: {namespaces: [prod]}\n",
         {{deploy_bad, NULL, true, PT_NOT_SELECTED, 0, NULL}}},
    };

    (void)state;
    check_cases(cases, CM_ARRAY_LEN(cases));
}

static void test_override_undecided(void **state)
{
    static const struct policy_case cases[] = {
        /* Audit, Enforce for env=prod: the failure is enforced, with the note. */
        {"Audit, Enforce for prod",
         "  validationFailureActionOverrides:\n"
         "  - action: Enforce\n"
         "    namespaceSelector: {matchLabels: {env: prod}}\n",
         match_deploy,
         {{deploy_bad, NULL, true, POLICY_FAIL, POLICY_ENFORCE, note_action},
          /* Passing: reported as a pass, with no message. */
          {deploy_ok, NULL, true, POLICY_PASS, 0, NULL},
          /* Known labels: the override decides, no note. */
          {deploy_bad, "{env: dev}", true, POLICY_FAIL, POLICY_AUDIT, NULL},
          /* Without the flag: the policy's own action (as before). */
          {deploy_bad, NULL, false, POLICY_FAIL, POLICY_AUDIT, NULL}}},
        /* Enforce, Audit for env=dev: still Enforce, and said to be a guess. */
        {"Enforce, Audit for dev",
         "  validationFailureAction: Enforce\n"
         "  validationFailureActionOverrides:\n"
         "  - action: Audit\n"
         "    namespaceSelector: {matchLabels: {env: dev}}\n",
         match_deploy,
         {{deploy_bad, NULL, true, POLICY_FAIL, POLICY_ENFORCE, note_action}}},
        /* Every possible action is Audit: nothing to guess. */
        {"Audit only",
         "  validationFailureActionOverrides:\n"
         "  - action: Audit\n"
         "    namespaceSelector: {matchLabels: {env: dev}}\n",
         match_deploy,
         {{deploy_bad, NULL, true, POLICY_FAIL, POLICY_AUDIT, NULL}}},
        /* A definite earlier override wins (first match); a later undecided one is moot. */
        {"definite override first",
         "  validationFailureActionOverrides:\n"
         "  - action: Audit\n    namespaces: [prod]\n"
         "  - action: Enforce\n"
         "    namespaceSelector: {matchLabels: {env: prod}}\n",
         match_deploy,
         {{deploy_bad, NULL, true, POLICY_FAIL, POLICY_AUDIT, NULL}}},
        /* Undecided selection and action: an error under the strictest action. */
        {"selection and action undecided",
         "  validationFailureActionOverrides:\n"
         "  - action: Enforce\n"
         "    namespaceSelector: {matchLabels: {env: prod}}\n",
         sel_prod,
         {{deploy_bad, NULL, true, POLICY_ERROR, POLICY_ENFORCE, note_select}}},
    };

    (void)state;
    check_cases(cases, CM_ARRAY_LEN(cases));
}

/* The message over the cap is shortened, and keeps the note. */
static void test_note_survives_long_message(void **state)
{
    size_t cap = 400000;
    char *y = cm_malloc(cap);
    size_t off = 0;
    struct policy_set *s = NULL;
    struct cm_err err;
    struct pt_run run;
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
    assert_int_equal(pt_eval(s, deploy_bad, POLICY_OP_CREATE, NULL, true, &run), POLICY_ERROR);
    (void)snprintf(want, sizeof(want), "%s%s", note_select,
                   "validation error: rule r failed (message longer than 131072 bytes)");
    assert_string_equal(run.res->message, want);
    pt_run_free(&run);
    policy_set_destroy(s);
    cm_free(y);
}

/* Out of memory on the undecided path: CM_ENOMEM and an empty report, no leak. */
static void test_oom_loop(void **state)
{
    struct policy_set *s = pt_rule_set(enforce, sel_prod);
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
