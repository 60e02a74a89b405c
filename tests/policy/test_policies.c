/* SPDX-License-Identifier: Apache-2.0 */
/* test_policies.c - every file in policies/ loads on its own and together, says what it
 * enforces in a comment, matches the product design (guardrail, gold/silver/bronze), and
 * gives the expected verdicts on the manifests in tests/fixtures/manifests. Run from the
 * repository root (tests/run.sh does). */
#include "policy/policy.h"

#include <dirent.h>
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

static int load_paths(const char *const *paths, size_t n, struct policy_set **out)
{
    struct policy_loader *l = NULL;
    struct cm_err err;

    assert_int_equal(policy_loader_create(&l, &err), 0);
    if (cm_fs_load_tree(paths, n, POLICY_MAX_FILE_BYTES, policy_loader_add_file, l, &err) != 0) {
        policy_loader_destroy(l);
        fail_msg("%s", err.msg);
    }
    if (policy_loader_finish(l, out, &err) != 0)
        fail_msg("%s", err.msg);
    return 0;
}

static void test_each_file_alone(void **state)
{
    DIR *dir = opendir("policies");
    struct dirent *de;
    size_t files = 0;

    (void)state;
    assert_non_null(dir);
    while ((de = readdir(dir)) != NULL) {
        char path[512];
        char *buf = NULL;
        size_t len = 0;
        struct cm_err err;
        struct policy_set *s = NULL;
        const char *paths[1];

        if (de->d_name[0] == '.')
            continue;
        (void)snprintf(path, sizeof(path), "policies/%s", de->d_name);
        assert_int_equal(cm_fs_read_file(path, POLICY_MAX_FILE_BYTES, &buf, &len, &err), 0);
        /* each file says what it enforces */
        if (buf[0] != '#')
            fail_msg("%s does not start with a comment", path);
        cm_free(buf);
        paths[0] = path;
        (void)load_paths(paths, 1, &s);
        assert_true(policy_set_policy_count(s) + policy_set_backup_count(s) > 0);
        policy_set_destroy(s);
        files++;
    }
    closedir(dir);
    assert_true(files >= 4);
}

static void test_product_design(void **state)
{
    const char *paths[1] = {"policies"};
    struct policy_set *s = NULL;
    const struct policy_backup *g;
    const struct policy_backup *sv;
    const struct policy_backup *b;

    (void)state;
    (void)load_paths(paths, 1, &s);
    assert_int_equal(policy_set_policy_count(s), 1);
    assert_int_equal(policy_set_rule_count(s), 1);
    g = policy_set_backup_find(s, "k10-goldpolicy", 14);
    sv = policy_set_backup_find(s, "silverpolicy", 12);
    b = policy_set_backup_find(s, "k10-bronzepolicy", 16);
    assert_non_null(g);
    assert_non_null(sv);
    assert_non_null(b);
    assert_int_equal(g->lock_mode, POLICY_LOCK_COMPLIANCE);
    assert_true(g->lock_days > 0);
    assert_int_equal(g->cron.hours, 0xffffff); /* hourly */
    assert_int_equal(sv->lock_mode, POLICY_LOCK_GOVERNANCE);
    assert_true(sv->lock_days > 0);
    assert_int_equal(__builtin_popcount(sv->cron.hours), 1); /* daily */
    assert_true(sv->cron.mday_star && sv->cron.wday_star);
    assert_int_equal(b->lock_mode, POLICY_LOCK_NONE);
    assert_int_equal(__builtin_popcount(b->cron.wdays), 1); /* weekly */
    assert_string_equal(g->location.bucket, "lockwarden-backups");
    assert_string_equal(g->location.credentials_secret, "lockwarden-s3");
    policy_set_destroy(s);
}

/* Evaluates every object of a fixture manifest; returns whether any was blocked and the
 * names of the failed rules, comma-separated. */
static bool verdict(const struct policy_set *s, const char *file, char *failed, size_t cap)
{
    char path[512];
    char *buf = NULL;
    size_t len = 0;
    struct cm_err err;
    struct policy_docs *d = NULL;
    struct policy_report *rep = NULL;
    bool blocked = false;
    size_t off = 0;
    size_t i;
    size_t j;

    failed[0] = '\0';
    (void)snprintf(path, sizeof(path), "tests/fixtures/manifests/%s", file);
    assert_int_equal(cm_fs_read_file(path, POLICY_MAX_FILE_BYTES, &buf, &len, &err), 0);
    assert_int_equal(policy_manifest_parse(path, buf, len, &d, &err), 0);
    assert_int_equal(policy_report_create(&rep), 0);
    for (i = 0; i < policy_docs_count(d); i++) {
        struct policy_request req;

        memset(&req, 0, sizeof(req));
        req.object = policy_docs_get(d, i);
        assert_int_equal(policy_set_eval(s, &req, rep, &err), 0);
        blocked = blocked || policy_report_blocked(rep);
        for (j = 0; j < policy_report_count(rep); j++) {
            const struct policy_rule_result *x = policy_report_get(rep, j);

            if (x->result == POLICY_FAIL)
                off +=
                    (size_t)snprintf(failed + off, cap - off, "%s%s", off > 0 ? "," : "", x->rule);
        }
    }
    policy_report_destroy(rep);
    policy_docs_destroy(d);
    cm_free(buf);
    return blocked;
}

static void test_fixture_verdicts(void **state)
{
    const char *paths[1] = {"policies"};
    struct policy_set *s = NULL;
    char failed[1024];

    (void)state;
    (void)load_paths(paths, 1, &s);
    assert_false(verdict(s, "deploy-compliant.yaml", failed, sizeof(failed)));
    assert_string_equal(failed, "");
    assert_false(verdict(s, "bench-deployment.json", failed, sizeof(failed)));
    assert_true(verdict(s, "deploy-missing-labels.yaml", failed, sizeof(failed)));
    assert_string_equal(failed, "cd-prod-backup-policy");
    assert_true(verdict(s, "deploy.json", failed, sizeof(failed)));
    assert_string_equal(failed, "cd-prod-backup-policy");
    assert_true(verdict(s, "multi.yaml", failed, sizeof(failed)));
    assert_string_equal(failed, "cd-prod-backup-policy,backup-policy-exists,"
                                "immutable-requires-object-lock");
    assert_false(verdict(s, "namespace-and-service.yaml", failed, sizeof(failed)));
    policy_set_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_file_alone),
        cmocka_unit_test(test_product_design),
        cmocka_unit_test(test_fixture_verdicts),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
