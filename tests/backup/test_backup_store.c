/* SPDX-License-Identifier: Apache-2.0 */
/* test_backup_store.c - the pure parts of backup_store.c: the policy lookup prune uses,
 * and when two locations are the same place (visited once by maintenance and `backup
 * list/prune`). */
#include "backup/backup.h"
#include "policy/policy.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static void test_location_same(void **state)
{
    struct backup_location a = {"http://127.0.0.1:7480", "us-east-1", "b", "p", false};
    struct backup_location b = a;

    (void)state;
    assert_true(backup_location_same(&a, &b));
    /* region and path style do not make another place */
    b.region = "eu-west-1";
    b.path_style = true;
    assert_true(backup_location_same(&a, &b));
    b = a;
    b.bucket = "c";
    assert_false(backup_location_same(&a, &b));
    b = a;
    b.prefix = "q";
    assert_false(backup_location_same(&a, &b));
    b = a;
    b.endpoint = "http://127.0.0.1:7481";
    assert_false(backup_location_same(&a, &b));
    /* NULL and "" are the same: no prefix, the default endpoint */
    a.prefix = NULL;
    a.endpoint = "";
    b = a;
    b.prefix = "";
    b.endpoint = NULL;
    assert_true(backup_location_same(&a, &b));
    b.prefix = "p";
    assert_false(backup_location_same(&a, &b));
}

static void test_policy_lookup(void **state)
{
    static const char yaml[] =
        "apiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\nmetadata:\n  name: daily\n"
        "spec:\n  schedule: \"@daily\"\n  retention:\n    daily: 7\n  location:\n"
        "    region: us-east-1\n    bucket: b-test\n    prefix: p\n";
    struct policy_loader *l = NULL;
    struct policy_set *ps = NULL;
    const struct policy_backup *p;
    struct cm_err err;

    (void)state;
    assert_int_equal(policy_loader_create(&l, &err), 0);
    assert_int_equal(policy_loader_add(l, "p.yaml", yaml, sizeof(yaml) - 1, &err), 0);
    assert_int_equal(policy_loader_finish(l, &ps, &err), 0);
    p = backup_policy_lookup("daily", ps);
    assert_non_null(p);
    assert_string_equal(p->name, "daily");
    assert_null(backup_policy_lookup("dail", ps));
    assert_null(backup_policy_lookup("dailyx", ps));
    assert_null(backup_policy_lookup("", ps));
    policy_set_destroy(ps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_location_same),
        cmocka_unit_test(test_policy_lookup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
