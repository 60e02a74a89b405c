/* SPDX-License-Identifier: Apache-2.0 */
/* test_executor.c - `lockwarden executor` against radosgw and the fake apiserver: a
 * bound app with no restore point is captured once (the missed slot), a second pass
 * finds nothing due, /metrics reports the last success per app, SIGTERM stops it
 * cleanly, and two replicas with --leader-elect never both capture. */
#include "backup/backup.h"
#include "backup/s3/s3.h"
#include "tests/support/backup_env.h"
#include "tests/support/fake_kube.h"
#include "tests/support/kube_testutil.h"
#include "tests/support/proc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void policy_yaml(const struct bte_env *e, char *yaml, size_t cap)
{
    (void)snprintf(yaml, cap,
                   "apiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\n"
                   "metadata:\n  name: testpolicy\nspec:\n  schedule: \"0 0 1 1 *\"\n"
                   "  retention:\n    hourly: 5\n  objectLock:\n    mode: GOVERNANCE\n"
                   "    days: 1\n  location:\n    endpoint: \"%s\"\n    region: us-east-1\n"
                   "    bucket: %s\n    prefix: ex\n    pathStyle: true\n",
                   e->endpoint, e->bucket);
}

static int setup(void **state)
{
    *state = bte_env_new("lw-ex", "executor.log", 1, policy_yaml);
    return *state != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    bte_env_free(*state);
    return 0;
}

static size_t complete_points(struct bte_env *e)
{
    struct backup_catalog *c = NULL;
    struct cm_err err;
    size_t i, n = 0;

    assert_int_equal(backup_catalog_list(e->s3, "ex", NULL, false, &c, &err), 0);
    for (i = 0; i < backup_catalog_count(c); i++)
        n += backup_catalog_get(c, i)->complete;
    backup_catalog_destroy(c);
    return n;
}

static void test_once_catches_up_then_idles(void **state)
{
    struct bte_env *e = *state;
    const char *extra[] = {"--once", NULL};
    char *argv[BTE_ARGV_MAX];
    int code = -1;

    bte_executor_argv(e, "", extra, argv);
    assert_int_equal(proc_run(argv, e->log, 120000, &code), 0);
    assert_int_equal(code, 0);
    assert_int_equal(complete_points(e), 1);
    /* the newest point is newer than the last slot: nothing due */
    assert_int_equal(proc_run(argv, e->log, 120000, &code), 0);
    assert_int_equal(code, 0);
    assert_int_equal(complete_points(e), 1);
}

/* True when needle occurs in l[0..ll) (memmem is not POSIX). */
static bool line_has(const char *l, size_t ll, const char *needle)
{
    size_t n = strlen(needle);
    size_t i;

    for (i = 0; i + n <= ll; i++)
        if (memcmp(l + i, needle, n) == 0)
            return true;
    return false;
}

/* Two bound apps, --max-concurrent 1: --once captures both, one at a time. */
static void test_once_two_apps_capped(void **state)
{
    struct bte_env *e = *state;
    const char *extra[] = {"--once", "--max-concurrent", "1", NULL};
    char *argv[BTE_ARGV_MAX];
    int code = -1;
    size_t i;
    int running = 0, max_running = 0;
    char *log = NULL;
    size_t len = 0;
    struct cm_err err;
    const char *l;

    bte_executor_argv(e, "", extra, argv);
    assert_int_equal(fake_kube_add_object_json(
                         e->kube,
                         "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{"
                         "\"name\":\"api\",\"namespace\":\"shop2\",\"annotations\":{"
                         "\"lockwarden.io/backup-policy\":\"testpolicy\"}},\"spec\":{}}"),
                     1);
    assert_int_equal(proc_run(argv, e->log, 120000, &code), 0);
    assert_int_equal(code, 0);
    assert_int_equal(complete_points(e), 2);
    /* started/completed lines never overlap: at most one capture at a time */
    assert_int_equal(cm_fs_read_file(e->log, 1 << 24, &log, &len, &err), 0);
    for (l = log, i = 0; l != NULL && *l != '\0'; i++) {
        const char *nl = strchr(l, '\n');
        size_t ll = nl ? (size_t)(nl - l) : strlen(l);

        if (line_has(l, ll, "\"capture started\""))
            running++;
        if (line_has(l, ll, "\"capture complete\"") || line_has(l, ll, "\"capture failed\""))
            running--;
        if (running > max_running)
            max_running = running;
        l = nl ? nl + 1 : NULL;
    }
    cm_free(log);
    assert_int_equal(max_running, 1);
}

static void test_metrics_and_sigterm(void **state)
{
    struct bte_env *e = *state;
    char addr[64], url[96];
    struct proc p;
    struct cm_buf b;
    int code = -1;
    const char *want[] = {"lockwarden_backup_last_success_timestamp_seconds{namespace=\"shop\","
                          "policy=\"testpolicy\"}",
                          NULL};
    const char *extra[] = {"--tick", "1", NULL};
    char *argv[BTE_ARGV_MAX];

    assert_int_equal(bte_metrics_addr(addr, sizeof(addr), url, sizeof(url)), 0);
    cm_buf_init(&b, 1 << 20);
    bte_executor_argv(e, addr, extra, argv);
    if (bte_spawn_wait_body(&p, argv, e->log, url, want, 60000, &b) != 0)
        fail_msg("no success metric for shop; last body:\n%s", b.ptr ? b.ptr : "(none)");
    assert_non_null(strstr(b.ptr, "lockwarden_backup_captures_total{namespace=\"shop\","
                                  "policy=\"testpolicy\",result=\"success\"} 1\n"));
    assert_non_null(strstr(b.ptr, "lockwarden_executor_leader 1\n"));
    assert_int_equal(proc_signal(&p, SIGTERM), 0);
    assert_int_equal(proc_wait_exit(&p, 30000, &code), 0);
    assert_int_equal(code, 0);
    assert_int_equal(complete_points(e), 1);
    cm_buf_free(&b);
}

static void test_two_replicas_one_leader(void **state)
{
    struct bte_env *e = *state;
    struct proc a, b;
    char loga[700], logb[700];
    int64_t deadline;
    int code;
    const char *extra[] = {"--tick",     "1",          "--leader-elect", "--lease-namespace",
                           "lockwarden", "--identity", "replica-a",      NULL};
    char *argv[BTE_ARGV_MAX];

    (void)snprintf(loga, sizeof(loga), "%s/a.log", e->dir);
    (void)snprintf(logb, sizeof(logb), "%s/b.log", e->dir);
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    bte_executor_argv(e, "", extra, argv);
    assert_int_equal(proc_spawn(&a, argv, NULL, loga), 0);
    extra[6] = "replica-b"; /* --identity */
    bte_executor_argv(e, "", extra, argv);
    assert_int_equal(proc_spawn(&b, argv, NULL, logb), 0);
    /* wait until one capture is complete and both replicas ran a few ticks */
    deadline = cm_time_now_ms() + 60000;
    while (complete_points(e) == 0 && cm_time_now_ms() < deadline)
        proc_nap_ms(200);
    assert_int_equal(proc_wait_log(&a, "\"msg\":\"started\"", 10000, NULL, 0), 0);
    assert_int_equal(proc_wait_log(&b, "\"msg\":\"started\"", 10000, NULL, 0), 0);
    while (fake_kube_request_match(e->kube, "GET", "/leases/lockwarden-executor", NULL) < 6 &&
           cm_time_now_ms() < deadline)
        proc_nap_ms(100);
    assert_int_equal(proc_signal(&a, SIGTERM), 0);
    assert_int_equal(proc_signal(&b, SIGTERM), 0);
    assert_int_equal(proc_wait_exit(&a, 30000, &code), 0);
    assert_int_equal(proc_wait_exit(&b, 30000, &code), 0);
    assert_int_equal(complete_points(e), 1);
    assert_int_equal(proc_log_count(&a, "became leader") + proc_log_count(&b, "became leader"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_once_catches_up_then_idles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_once_two_apps_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_and_sigterm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_replicas_one_leader, setup, teardown),
    };

    return cmocka_run_group_tests(tests, bte_group_setup, bte_group_teardown);
}
