/* SPDX-License-Identifier: Apache-2.0 */
/* policy_testutil.h - helpers of the policy evaluation tests (tests/policy/test_eval.c,
 * test_eval_ns.c): a ClusterPolicy "p" with one rule "r" built around the YAML under
 * test, and one object evaluated against a set, the result of the rule under test picked
 * from the report. Failures are cmocka assertions, so call these only from a cmocka
 * test; call policy_json_hooks_install() first (the group setup). Not thread-safe. */
#ifndef TESTS_SUPPORT_POLICY_TESTUTIL_H
#define TESTS_SUPPORT_POLICY_TESTUTIL_H

#include "policy/policy.h"

#include <stdbool.h>

/* What pt_eval() and pt_verdict() return when the rule was not reported. */
#define PT_NOT_SELECTED (-1)

/* Loads a ClusterPolicy "p" whose spec starts with spec_extra (YAML lines indented for
 * the spec, may be "") and whose one rule "r" has rule_body (match/exclude/preconditions
 * YAML indented for the rule) and validates "need team" with a pattern requiring the
 * label team=a. Fails the test when the set does not load. The caller destroys it. */
struct policy_set *pt_rule_set(const char *spec_extra, const char *rule_body);

/* One evaluation: the parsed object and namespace labels, the report, and the result of
 * the rule under test. */
struct pt_run {
    struct policy_docs *docs;
    struct policy_docs *nsd; /* NULL when no labels were given */
    struct policy_report *rep;
    /* The last result not of the built-in "lockwarden-backup-binding" policy, or NULL
     * when none was reported. Borrowed from rep. */
    const struct policy_rule_result *res;
};

/* Evaluates obj (YAML) for op with the namespace labels ns_labels (YAML, or NULL) and
 * policy_request.namespace_labels_unknown = labels_unknown. Returns res's result, or
 * PT_NOT_SELECTED. Free run with pt_run_free(). */
int pt_eval(const struct policy_set *s, const char *obj, enum policy_op op, const char *ns_labels,
            bool labels_unknown, struct pt_run *run);
void pt_run_free(struct pt_run *run);

/* pt_eval() and pt_run_free(): the result alone. */
int pt_verdict(const struct policy_set *s, const char *obj, enum policy_op op,
               const char *ns_labels, bool labels_unknown);

#endif /* TESTS_SUPPORT_POLICY_TESTUTIL_H */
