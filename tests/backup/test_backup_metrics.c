/* SPDX-License-Identifier: Apache-2.0 */
/* test_backup_metrics.c - Prometheus text of the executor metrics, escaping, caps,
 * concurrent updates, prune and maintenance counters. */
#include "backup/backup.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static void test_format(void **state)
{
    struct backup_metrics *m = NULL;
    struct cm_buf b;

    (void)state;
    assert_int_equal(backup_metrics_create(&m), 0);
    backup_metrics_capture(m, "shop", "gold", true, 1000, 1.5, 1700000000);
    backup_metrics_capture(m, "shop", "gold", false, 0, 0.25, 1700000100);
    backup_metrics_capture(m, "db", "we\"ird\\\n", true, 5, 2, 1700000200);
    backup_metrics_prune(m, BACKUP_GFS_EXPIRE, 3);
    backup_metrics_prune(m, BACKUP_GFS_RETAINED, 1);
    backup_metrics_set_leader(m, true);
    backup_metrics_set_running(m, 2);
    cm_buf_init(&b, 1 << 20);
    assert_int_equal(backup_metrics_format(m, &b), 0);
    assert_non_null(
        strstr(b.ptr, "# TYPE lockwarden_backup_last_success_timestamp_seconds gauge\n"));
    assert_non_null(strstr(b.ptr, "lockwarden_backup_last_success_timestamp_seconds{namespace="
                                  "\"shop\",policy=\"gold\"} 1700000000\n"));
    assert_non_null(strstr(b.ptr, "lockwarden_backup_last_failure_timestamp_seconds{namespace="
                                  "\"shop\",policy=\"gold\"} 1700000100\n"));
    assert_non_null(strstr(b.ptr, "lockwarden_backup_captures_total{namespace=\"shop\",policy="
                                  "\"gold\",result=\"failure\"} 1\n"));
    assert_non_null(strstr(b.ptr, "lockwarden_backup_bytes_total{namespace=\"shop\",policy="
                                  "\"gold\"} 1000\n"));
    assert_non_null(strstr(b.ptr, "lockwarden_backup_last_duration_seconds{namespace=\"shop\","
                                  "policy=\"gold\"} 0.250\n"));
    assert_non_null(strstr(b.ptr, "lockwarden_backup_duration_seconds_total{namespace=\"shop\","
                                  "policy=\"gold\"} 1.750\n"));
    assert_non_null(strstr(b.ptr, "policy=\"we\\\"ird\\\\\\n\""));
    assert_non_null(
        strstr(b.ptr, "lockwarden_backup_prune_decisions_total{action=\"expire\"} 3\n"));
    assert_non_null(strstr(b.ptr, "lockwarden_executor_leader 1\n"));
    assert_non_null(strstr(b.ptr, "lockwarden_executor_running_captures 2\n"));
    /* db never failed: no failure timestamp line for it */
    assert_null(strstr(b.ptr, "lockwarden_backup_last_failure_timestamp_seconds{namespace=\"db\""));
    cm_buf_free(&b);
    backup_metrics_destroy(m);
    backup_metrics_destroy(NULL);
}

static void test_seen_from_bucket(void **state)
{
    struct backup_metrics *m = NULL;
    struct cm_buf b;

    (void)state;
    assert_int_equal(backup_metrics_create(&m), 0);
    backup_metrics_seen(m, "shop", "gold", 1700000000);
    backup_metrics_seen(m, "shop", "gold", 1600000000); /* older: ignored */
    backup_metrics_seen(m, "idle", "gold", 0);          /* never captured: no gauge */
    cm_buf_init(&b, 1 << 20);
    assert_int_equal(backup_metrics_format(m, &b), 0);
    assert_non_null(strstr(b.ptr, "lockwarden_backup_last_success_timestamp_seconds{namespace="
                                  "\"shop\",policy=\"gold\"} 1700000000\n"));
    /* no capture was counted */
    assert_non_null(strstr(b.ptr, "lockwarden_backup_captures_total{namespace=\"shop\",policy="
                                  "\"gold\",result=\"success\"} 0\n"));
    assert_null(strstr(b.ptr, "namespace=\"idle\""));
    cm_buf_free(&b);
    backup_metrics_destroy(m);
}

static void test_app_cap(void **state)
{
    struct backup_metrics *m = NULL;
    struct cm_buf b;
    char ns[32];
    int i;

    (void)state;
    assert_int_equal(backup_metrics_create(&m), 0);
    for (i = 0; i < BACKUP_METRICS_MAX_APPS + 1; i++) {
        (void)snprintf(ns, sizeof(ns), "ns-%d", i);
        backup_metrics_capture(m, ns, "p", true, 1, 1, 1);
    }
    cm_buf_init(&b, 16 << 20);
    assert_int_equal(backup_metrics_format(m, &b), 0);
    assert_non_null(strstr(b.ptr, "lockwarden_backup_apps_overflow_total 1\n"));
    (void)snprintf(ns, sizeof(ns), "\"ns-%d\"", BACKUP_METRICS_MAX_APPS - 1);
    assert_non_null(strstr(b.ptr, ns));
    (void)snprintf(ns, sizeof(ns), "\"ns-%d\"", BACKUP_METRICS_MAX_APPS);
    assert_null(strstr(b.ptr, ns));
    cm_buf_free(&b);
    /* a capped output buffer reports the cm_buf error */
    cm_buf_init(&b, 64);
    assert_int_equal(backup_metrics_format(m, &b), CM_ETOOBIG);
    cm_buf_free(&b);
    backup_metrics_destroy(m);
}

static void *worker(void *arg)
{
    struct backup_metrics *m = arg;
    int i;

    for (i = 0; i < 1000; i++)
        backup_metrics_capture(m, "shop", "gold", true, 1, 0, i);
    return NULL;
}

static void test_threads(void **state)
{
    struct backup_metrics *m = NULL;
    pthread_t t[4];
    struct cm_buf b;
    int i;

    (void)state;
    assert_int_equal(backup_metrics_create(&m), 0);
    for (i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, m), 0);
    for (i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    cm_buf_init(&b, 1 << 20);
    assert_int_equal(backup_metrics_format(m, &b), 0);
    assert_non_null(strstr(b.ptr, "result=\"success\"} 4000\n"));
    cm_buf_free(&b);
    backup_metrics_destroy(m);
}

/* Prune reports and maintenance passes: lock extensions, deletions and points retained
 * by their lock add up; a failed pass counts as a run and a failure and keeps the last
 * success time; the left-alone gauge follows the last pass. */
static void test_maintenance(void **state)
{
    struct backup_metrics *m = NULL;
    struct backup_prune_report r;
    struct cm_buf b;

    (void)state;
    assert_int_equal(backup_metrics_create(&m), 0);
    memset(&r, 0, sizeof(r));
    r.counts[BACKUP_GFS_KEEP] = 4;
    r.counts[BACKUP_GFS_EXTEND] = 2;
    r.counts[BACKUP_GFS_RETAINED] = 3;
    r.counts[BACKUP_GFS_EXPIRE] = 1;
    r.extended = 2;
    r.deleted = 1;
    r.retained_by_lock = 3;
    backup_metrics_prune_report(m, &r);
    backup_metrics_prune_report(m, &r);
    backup_metrics_prune_report(m, NULL);
    backup_metrics_prune_report(NULL, &r);
    backup_metrics_maintenance(m, true, 1700000000, 2);
    backup_metrics_maintenance(m, false, 1700000500, 1);
    backup_metrics_maintenance(NULL, true, 1, 0);
    cm_buf_init(&b, 1 << 20);
    assert_int_equal(backup_metrics_format(m, &b), 0);
    assert_non_null(strstr(b.ptr, "# TYPE lockwarden_backup_locks_extended_total counter\n"
                                  "lockwarden_backup_locks_extended_total 4\n"));
    assert_non_null(strstr(b.ptr, "lockwarden_backup_points_pruned_total 2\n"));
    assert_non_null(strstr(b.ptr, "lockwarden_backup_points_retained_by_lock_total 6\n"));
    assert_non_null(
        strstr(b.ptr, "lockwarden_backup_prune_decisions_total{action=\"extend\"} 4\n"));
    assert_non_null(strstr(b.ptr, "lockwarden_backup_prune_decisions_total{action=\"keep\"} 8\n"));
    assert_non_null(strstr(b.ptr, "lockwarden_backup_maintenance_runs_total 2\n"));
    assert_non_null(strstr(b.ptr, "lockwarden_backup_maintenance_failures_total 1\n"));
    assert_non_null(
        strstr(b.ptr, "lockwarden_backup_maintenance_last_success_timestamp_seconds 1700000000\n"));
    assert_non_null(strstr(b.ptr, "lockwarden_backup_maintenance_namespaces_left_alone 1\n"));
    cm_buf_free(&b);
    /* an older success never replaces a newer one */
    backup_metrics_maintenance(m, true, 1600000000, 0);
    cm_buf_init(&b, 1 << 20);
    assert_int_equal(backup_metrics_format(m, &b), 0);
    assert_non_null(
        strstr(b.ptr, "lockwarden_backup_maintenance_last_success_timestamp_seconds 1700000000\n"));
    assert_non_null(strstr(b.ptr, "lockwarden_backup_maintenance_runs_total 3\n"));
    assert_non_null(strstr(b.ptr, "lockwarden_backup_maintenance_namespaces_left_alone 0\n"));
    cm_buf_free(&b);
    backup_metrics_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),      cmocka_unit_test(test_seen_from_bucket),
        cmocka_unit_test(test_app_cap),     cmocka_unit_test(test_threads),
        cmocka_unit_test(test_maintenance),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
