/* SPDX-License-Identifier: Apache-2.0 */
/* policy_testutil.c - helpers of the policy evaluation tests. */
#include "tests/support/policy_testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

struct policy_set *pt_rule_set(const char *spec_extra, const char *rule_body)
{
    char y[8192];
    struct policy_set *s = NULL;
    struct cm_err err;
    int n;

    n = snprintf(y, sizeof(y),
                 "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\n"
                 "spec:\n%s  rules:\n  - name: r\n%s"
                 "    validate:\n      message: need team\n"
                 "      pattern: {metadata: {labels: {team: a}}}\n",
                 spec_extra, rule_body);
    assert_true(n > 0 && (size_t)n < sizeof(y));
    if (policy_set_load("p.yaml", y, strlen(y), &s, &err) != 0)
        fail_msg("load failed: %s", err.msg);
    return s;
}

int pt_eval(const struct policy_set *s, const char *obj, enum policy_op op, const char *ns_labels,
            bool labels_unknown, struct pt_run *run)
{
    struct policy_request req;
    struct cm_err err;
    size_t i;

    memset(&req, 0, sizeof(req));
    memset(run, 0, sizeof(*run));
    assert_int_equal(policy_docs_parse("obj", obj, strlen(obj), &run->docs, &err), 0);
    req.object = policy_docs_get(run->docs, 0);
    req.operation = op;
    req.namespace_labels_unknown = labels_unknown;
    if (ns_labels != NULL) {
        assert_int_equal(policy_docs_parse("ns", ns_labels, strlen(ns_labels), &run->nsd, &err), 0);
        req.namespace_labels = policy_docs_get(run->nsd, 0);
    }
    assert_int_equal(policy_report_create(&run->rep), 0);
    assert_int_equal(policy_set_eval(s, &req, run->rep, &err), 0);
    for (i = 0; i < policy_report_count(run->rep); i++) {
        const struct policy_rule_result *x = policy_report_get(run->rep, i);

        if (strcmp(x->policy, "lockwarden-backup-binding") != 0)
            run->res = x;
    }
    return run->res != NULL ? (int)run->res->result : PT_NOT_SELECTED;
}

void pt_run_free(struct pt_run *run)
{
    policy_report_destroy(run->rep);
    policy_docs_destroy(run->nsd);
    policy_docs_destroy(run->docs);
}

int pt_verdict(const struct policy_set *s, const char *obj, enum policy_op op,
               const char *ns_labels, bool labels_unknown)
{
    struct pt_run run;
    int r = pt_eval(s, obj, op, ns_labels, labels_unknown, &run);

    pt_run_free(&run);
    return r;
}
