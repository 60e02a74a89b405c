/* SPDX-License-Identifier: Apache-2.0 */
/* test_backup_store.c - the pure parts of backup_store.c: the policy lookup prune uses,
 * and when two locations are the same place (visited once by maintenance and `backup
 * list/prune`), and where credentials come from without a Secret. */
#include "backup/backup.h"
#include "backup/s3/s3.h"
#include "policy/policy.h"
#include "tests/support/kube_testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    struct policy_set *ps = NULL;
    const struct policy_backup *p;
    struct cm_err err;

    (void)state;
    assert_int_equal(policy_set_load("p.yaml", yaml, sizeof(yaml) - 1, &ps, &err), 0);
    p = backup_policy_lookup("daily", ps);
    assert_non_null(p);
    assert_string_equal(p->name, "daily");
    assert_null(backup_policy_lookup("dail", ps));
    assert_null(backup_policy_lookup("dailyx", ps));
    assert_null(backup_policy_lookup("", ps));
    policy_set_destroy(ps);
}

/* A policy without a credentials Secret takes the environment first, then the AWS
 * shared credentials file ($AWS_SHARED_CREDENTIALS_FILE, profile $AWS_PROFILE), and
 * says where it looked when neither has keys. */
static void test_creds_env_then_file(void **state)
{
    static const char yaml[] =
        "apiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\nmetadata:\n  name: daily\n"
        "spec:\n  schedule: \"@daily\"\n  location:\n    region: us-east-1\n"
        "    bucket: b-test\n";
    static const char ini[] = "[default]\naws_access_key_id = FILEKEY\n"
                              "aws_secret_access_key = filesecret\n"
                              "[team]\naws_access_key_id = TEAMKEY\n"
                              "aws_secret_access_key = teamsecret\n";
    char dir[512];
    char path[600];
    struct policy_set *ps = NULL;
    struct s3_credentials c;
    struct cm_err err;

    (void)state;
    assert_int_equal(policy_set_load("p.yaml", yaml, sizeof(yaml) - 1, &ps, &err), 0);
    assert_int_equal(kube_test_mkdtemp(dir, sizeof(dir)), 0);
    assert_int_equal(kube_test_write(dir, "credentials", ini, path, sizeof(path)), 0);
    unsetenv("AWS_PROFILE");
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    memset(&c, 0, sizeof(c));
    assert_int_equal(backup_creds_resolve(NULL, NULL, backup_policy_lookup("daily", ps), &c, &err),
                     0);
    assert_string_equal(c.access_key, "ENVKEY"); /* the environment wins */
    s3_credentials_cleanup(&c);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    assert_int_equal(backup_creds_resolve(NULL, NULL, backup_policy_lookup("daily", ps), &c, &err),
                     0);
    assert_string_equal(c.access_key, "FILEKEY");
    assert_string_equal(c.secret_key, "filesecret");
    s3_credentials_cleanup(&c);
    setenv("AWS_PROFILE", "team", 1);
    assert_int_equal(backup_creds_resolve(NULL, NULL, backup_policy_lookup("daily", ps), &c, &err),
                     0);
    assert_string_equal(c.access_key, "TEAMKEY");
    s3_credentials_cleanup(&c);
    unsetenv("AWS_PROFILE");
    /* neither: an error that names the policy */
    kube_test_rmtree(dir);
    assert_int_equal(backup_creds_resolve(NULL, NULL, backup_policy_lookup("daily", ps), &c, &err),
                     CM_ENOENT);
    assert_non_null(strstr(err.msg, "daily"));
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    policy_set_destroy(ps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_location_same),
        cmocka_unit_test(test_policy_lookup),
        cmocka_unit_test(test_creds_env_then_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
