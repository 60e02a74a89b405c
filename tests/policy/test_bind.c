/* SPDX-License-Identifier: Apache-2.0 */
/* test_bind.c - policy_set_bind and the built-in binding rules that policy_set_eval
 * reports: label binding (k10- form and bare), selector defaults, unknown names, immutable
 * workloads without Object Lock, and the annotation already in place. */
#include "policy/policy.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static const char backups[] =
    "apiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\nmetadata: {name: goldpolicy}\n"
    "spec: {schedule: '@hourly', objectLock: {mode: COMPLIANCE, days: 30},"
    " location: {bucket: bkt}}\n"
    "---\n"
    "apiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\nmetadata: {name: bronzepolicy}\n"
    "spec: {schedule: '@weekly', location: {bucket: bkt},"
    " selector: {namespaces: ['dev-*']}}\n"
    "---\n"
    "apiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\nmetadata: {name: dbpolicy}\n"
    "spec: {schedule: '@daily', objectLock: {mode: GOVERNANCE, days: 7}, location: {bucket: bkt},"
    " selector: {matchLabels: {tier: db}}}\n";

struct fixture {
    struct policy_set *set;
};

static int setup(void **state)
{
    static struct fixture f;
    struct cm_err err;

    policy_json_hooks_install();
    assert_int_equal(policy_set_load("b.yaml", backups, strlen(backups), &f.set, &err), 0);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    policy_set_destroy(f->set);
    return 0;
}

static void bind(const struct policy_set *s, const char *y, struct policy_binding *b)
{
    struct policy_docs *d = NULL;
    struct policy_request req;
    struct cm_err err;

    assert_int_equal(policy_docs_parse("o", y, strlen(y), &d, &err), 0);
    memset(&req, 0, sizeof(req));
    req.object = policy_docs_get(d, 0);
    policy_set_bind(s, &req, b);
    policy_docs_destroy(d);
}

static void test_label_forms(void **state)
{
    struct fixture *f = *state;
    struct policy_binding b;

    bind(f->set,
         "kind: Deployment\nmetadata: {name: w, namespace: p, labels: "
         "{dataprotection: k10-goldpolicy}}\n",
         &b);
    assert_int_equal(b.status, POLICY_BIND_OK);
    assert_string_equal(b.backup->name, "goldpolicy");
    assert_true(b.by_label);
    assert_false(b.annotation_ok);
    assert_string_equal(b.message, "");
    bind(f->set,
         "kind: StatefulSet\nmetadata: {name: w, namespace: p, labels: "
         "{dataprotection: goldpolicy}, annotations: {lockwarden.io/backup-policy: "
         "goldpolicy}}\n",
         &b);
    assert_int_equal(b.status, POLICY_BIND_OK);
    assert_true(b.annotation_ok);
    /* a stale annotation is not ok */
    bind(f->set,
         "kind: StatefulSet\nmetadata: {name: w, namespace: p, labels: "
         "{dataprotection: goldpolicy}, annotations: {lockwarden.io/backup-policy: "
         "bronzepolicy}}\n",
         &b);
    assert_false(b.annotation_ok);
}

static void test_label_beats_selector(void **state)
{
    struct fixture *f = *state;
    struct policy_binding b;

    bind(f->set,
         "kind: Deployment\nmetadata: {name: w, namespace: dev-1, labels: "
         "{dataprotection: k10-goldpolicy, tier: db}}\n",
         &b);
    assert_int_equal(b.status, POLICY_BIND_OK);
    assert_string_equal(b.backup->name, "goldpolicy");
}

static void test_selector_defaults(void **state)
{
    struct fixture *f = *state;
    struct policy_binding b;

    bind(f->set, "kind: Deployment\nmetadata: {name: w, namespace: dev-1}\n", &b);
    assert_int_equal(b.status, POLICY_BIND_OK);
    assert_string_equal(b.backup->name, "bronzepolicy");
    assert_false(b.by_label);
    bind(f->set, "kind: Deployment\nmetadata: {name: w, namespace: prod, labels: {tier: db}}\n",
         &b);
    assert_int_equal(b.status, POLICY_BIND_OK);
    assert_string_equal(b.backup->name, "dbpolicy");
    /* the first in load order wins when two select */
    bind(f->set, "kind: Deployment\nmetadata: {name: w, namespace: dev-2, labels: {tier: db}}\n",
         &b);
    assert_string_equal(b.backup->name, "bronzepolicy");
    bind(f->set, "kind: Deployment\nmetadata: {name: w, namespace: prod}\n", &b);
    assert_int_equal(b.status, POLICY_BIND_NONE);
    assert_null(b.backup);
}

static void test_not_a_workload(void **state)
{
    struct fixture *f = *state;
    struct policy_binding b;

    bind(f->set,
         "kind: Pod\nmetadata: {name: w, namespace: dev-1, labels: "
         "{dataprotection: k10-nope}}\n",
         &b);
    assert_int_equal(b.status, POLICY_BIND_NONE);
    bind(NULL, "kind: Deployment\nmetadata: {name: w}\n", &b);
    assert_int_equal(b.status, POLICY_BIND_NONE);
}

static void test_unknown_and_no_lock(void **state)
{
    struct fixture *f = *state;
    struct policy_binding b;

    bind(f->set,
         "kind: Deployment\nmetadata: {name: w, namespace: p, labels: "
         "{dataprotection: k10-platinum}}\n",
         &b);
    assert_int_equal(b.status, POLICY_BIND_UNKNOWN);
    assert_null(b.backup);
    assert_string_equal(b.message,
                        "label dataprotection: \"k10-platinum\" names no BackupPolicy (known: "
                        "bronzepolicy, dbpolicy, goldpolicy); set it to k10-<name> of an existing "
                        "BackupPolicy, or create BackupPolicy \"platinum\".");
    bind(f->set,
         "kind: Deployment\nmetadata: {name: w, namespace: p, labels: "
         "{dataprotection: k10-bronzepolicy, immutable: enabled}}\n",
         &b);
    assert_int_equal(b.status, POLICY_BIND_NO_LOCK);
    assert_string_equal(b.backup->name, "bronzepolicy");
    assert_non_null(strstr(b.message, "BackupPolicy \"bronzepolicy\" has no objectLock"));
    /* selector-chosen without lock, immutable: enabled */
    bind(f->set,
         "kind: Deployment\nmetadata: {name: w, namespace: dev-3, labels: "
         "{immutable: enabled}}\n",
         &b);
    assert_int_equal(b.status, POLICY_BIND_NO_LOCK);
    /* immutable: disabled is fine */
    bind(f->set,
         "kind: Deployment\nmetadata: {name: w, namespace: p, labels: "
         "{dataprotection: k10-bronzepolicy, immutable: disabled}}\n",
         &b);
    assert_int_equal(b.status, POLICY_BIND_OK);
}

/* The built-in rules as policy_set_eval reports them. */
static void eval(const struct policy_set *s, const char *y, enum policy_op op, int *exists,
                 int *lock, char *msg, size_t msg_len)
{
    struct policy_docs *d = NULL;
    struct policy_report *rep = NULL;
    struct policy_request req;
    struct cm_err err;
    size_t i;

    *exists = -1;
    *lock = -1;
    msg[0] = '\0';
    assert_int_equal(policy_docs_parse("o", y, strlen(y), &d, &err), 0);
    memset(&req, 0, sizeof(req));
    req.object = policy_docs_get(d, 0);
    req.operation = op;
    assert_int_equal(policy_report_create(&rep), 0);
    assert_int_equal(policy_set_eval(s, &req, rep, &err), 0);
    for (i = 0; i < policy_report_count(rep); i++) {
        const struct policy_rule_result *x = policy_report_get(rep, i);

        assert_string_equal(x->policy, "lockwarden-backup-binding");
        assert_int_equal(x->action, POLICY_ENFORCE);
        if (strcmp(x->rule, "backup-policy-exists") == 0)
            *exists = (int)x->result;
        else if (strcmp(x->rule, "immutable-requires-object-lock") == 0)
            *lock = (int)x->result;
        else
            fail_msg("unexpected rule %s", x->rule);
        if (x->message[0] != '\0')
            (void)snprintf(msg, msg_len, "%s", x->message);
    }
    policy_report_destroy(rep);
    policy_docs_destroy(d);
}

static void test_builtin_rules(void **state)
{
    struct fixture *f = *state;
    char msg[1024];
    int e;
    int l;

    eval(f->set,
         "kind: Deployment\nmetadata: {name: w, labels: {dataprotection: k10-goldpolicy,"
         " immutable: enabled}}\n",
         POLICY_OP_CREATE, &e, &l, msg, sizeof(msg));
    assert_int_equal(e, POLICY_PASS);
    assert_int_equal(l, POLICY_PASS);
    eval(f->set, "kind: Deployment\nmetadata: {name: w, labels: {dataprotection: k10-x}}\n",
         POLICY_OP_CREATE, &e, &l, msg, sizeof(msg));
    assert_int_equal(e, POLICY_FAIL);
    assert_int_equal(l, POLICY_SKIP);
    assert_string_equal(msg, "validation error: label dataprotection: \"k10-x\" names no "
                             "BackupPolicy (known: bronzepolicy, dbpolicy, goldpolicy); set it to "
                             "k10-<name> of an existing BackupPolicy, or create BackupPolicy "
                             "\"x\". rule backup-policy-exists failed at path "
                             "/metadata/labels/dataprotection/");
    eval(f->set,
         "kind: StatefulSet\nmetadata: {name: w, labels: {dataprotection: bronzepolicy,"
         " immutable: enabled}}\n",
         POLICY_OP_UPDATE, &e, &l, msg, sizeof(msg));
    assert_int_equal(e, POLICY_PASS);
    assert_int_equal(l, POLICY_FAIL);
    assert_non_null(strstr(msg, "rule immutable-requires-object-lock failed at path "
                                "/metadata/labels/immutable/"));
    /* no label: nothing to check */
    eval(f->set, "kind: Deployment\nmetadata: {name: w}\n", POLICY_OP_CREATE, &e, &l, msg,
         sizeof(msg));
    assert_int_equal(e, POLICY_SKIP);
    assert_int_equal(l, POLICY_SKIP);
    /* not for DELETE, not for other kinds */
    eval(f->set, "kind: Deployment\nmetadata: {name: w, labels: {dataprotection: k10-x}}\n",
         POLICY_OP_DELETE, &e, &l, msg, sizeof(msg));
    assert_int_equal(e, -1);
    eval(f->set, "kind: Pod\nmetadata: {name: w, labels: {dataprotection: k10-x}}\n",
         POLICY_OP_CREATE, &e, &l, msg, sizeof(msg));
    assert_int_equal(e, -1);
    assert_int_equal(l, -1);
}

static void test_no_backups_no_builtin(void **state)
{
    struct policy_loader *l = NULL;
    struct policy_set *s = NULL;
    struct cm_err err;
    char msg[64];
    int e;
    int k;

    (void)state;
    assert_int_equal(policy_loader_create(&l, &err), 0);
    assert_int_equal(policy_loader_finish(l, &s, &err), 0);
    eval(s, "kind: Deployment\nmetadata: {name: w, labels: {dataprotection: k10-x}}\n",
         POLICY_OP_CREATE, &e, &k, msg, sizeof(msg));
    assert_int_equal(e, -1);
    assert_int_equal(k, -1);
    policy_set_destroy(s);
}

struct thread_arg {
    const struct policy_set *set;
    const cJSON *obj;
    int failures;
};

static void *eval_thread(void *p)
{
    struct thread_arg *a = p;
    struct policy_report *rep = NULL;
    struct policy_request req;
    struct cm_err err;
    int i;

    if (policy_report_create(&rep) != 0) {
        a->failures++;
        return NULL;
    }
    memset(&req, 0, sizeof(req));
    req.object = a->obj;
    for (i = 0; i < 2000; i++) {
        struct policy_binding b;

        if (policy_set_eval(a->set, &req, rep, &err) != 0 || policy_report_count(rep) != 2 ||
            policy_report_get(rep, 0)->result != POLICY_FAIL ||
            strstr(policy_report_get(rep, 0)->message, "k10-x") == NULL)
            a->failures++;
        policy_set_bind(a->set, &req, &b);
        if (b.status != POLICY_BIND_UNKNOWN)
            a->failures++;
    }
    policy_report_destroy(rep);
    return NULL;
}

static void test_concurrent_eval(void **state)
{
    /* One immutable set, four threads, each with its own report (the documented contract). */
    struct fixture *f = *state;
    const char *y = "kind: Deployment\nmetadata: {name: w, labels: {dataprotection: k10-x}}\n";
    struct policy_docs *d = NULL;
    struct thread_arg args[4];
    pthread_t th[4];
    struct cm_err err;
    int i;

    assert_int_equal(policy_docs_parse("o", y, strlen(y), &d, &err), 0);
    for (i = 0; i < 4; i++) {
        args[i].set = f->set;
        args[i].obj = policy_docs_get(d, 0);
        args[i].failures = 0;
        assert_int_equal(pthread_create(&th[i], NULL, eval_thread, &args[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(args[i].failures, 0);
    }
    policy_docs_destroy(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_forms),           cmocka_unit_test(test_label_beats_selector),
        cmocka_unit_test(test_selector_defaults),     cmocka_unit_test(test_not_a_workload),
        cmocka_unit_test(test_unknown_and_no_lock),   cmocka_unit_test(test_builtin_rules),
        cmocka_unit_test(test_no_backups_no_builtin), cmocka_unit_test(test_concurrent_eval),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
