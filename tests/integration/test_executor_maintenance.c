/* SPDX-License-Identifier: Apache-2.0 */
/* test_executor_maintenance.c - the executor's maintenance pass against radosgw and
 * the fake apiserver: restore points of an app no workload is bound to any more are
 * still maintained (the kept point's 1-day lock is extended, an expired point is
 * deleted, a locked one and a legally held one are retained), a namespace whose policy
 * is gone is left alone, a location shared by two policies is visited once, and a
 * long-running executor does it at startup and reports it on /metrics. */
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

#define PREFIX "ex"
#define INTERVAL 3600 /* --maintenance-interval: margin 2 h + 1 day > the 1-day lock */

/* Two policies naming the same location: it must be maintained once. The app points
 * name testpolicy: 1 hourly point kept, locks of 1 day. */
static void policy_yaml(const struct bte_env *e, char *yaml, size_t cap)
{
    int i, n = 0;

    for (i = 0; i < 2; i++)
        n += snprintf(yaml + n, cap - (size_t)n,
                      "%sapiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\n"
                      "metadata:\n  name: %s\nspec:\n  schedule: \"0 0 1 1 *\"\n"
                      "  retention:\n    hourly: 1\n  objectLock:\n    mode: GOVERNANCE\n"
                      "    days: 1\n  location:\n    endpoint: \"%s\"\n    region: us-east-1\n"
                      "    bucket: %s\n    prefix: " PREFIX "\n    pathStyle: true\n",
                      i ? "---\n" : "", i ? "otherpolicy" : "testpolicy", e->endpoint, e->bucket);
}

static int setup(void **state)
{
    *state = bte_env_new("lw-mt", "executor.log", 1, policy_yaml);
    return *state != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    bte_env_free(*state);
    return 0;
}

/* Writes a complete restore point ns/<id> created at `created`, as a capture would:
 * an archive, then a manifest naming policy; both locked (GOVERNANCE) until `until`
 * (0: not locked) and, with hold, under legal hold. The id goes to id. */
static void put_point(struct bte_env *e, const char *ns, time_t created, const char *policy,
                      time_t until, bool hold, char id[BACKUP_ID_LEN + 1])
{
    static const char archive[] = "not a real archive: prune never reads it";
    struct backup_manifest *m = NULL;
    struct s3_put_opts po;
    struct cm_buf b;
    struct cm_err err;
    char key[BACKUP_KEY_MAX + 1];

    assert_int_equal(backup_rp_id_new(created, id, BACKUP_ID_LEN + 1), 0);
    memset(&po, 0, sizeof(po));
    po.lock_mode = until != 0 ? S3_LOCK_GOVERNANCE : S3_LOCK_NONE;
    po.retain_until = until;
    po.legal_hold = hold;
    assert_int_equal(backup_rp_key(PREFIX, ns, id, BACKUP_ARCHIVE_NAME, key, sizeof(key), &err), 0);
    assert_int_equal(
        s3_client_put_object(e->s3, key, archive, sizeof(archive) - 1, &po, NULL, &err), 0);
    assert_int_equal(backup_manifest_create(id, ns, policy, &m), 0);
    backup_sha256_hex(archive, sizeof(archive) - 1, m->archive_sha256);
    m->archive_size = sizeof(archive) - 1;
    memcpy(m->lock_mode, until != 0 ? "GOVERNANCE" : "NONE", until != 0 ? 11 : 5);
    m->retain_until = until;
    m->completed_at = created + 1;
    cm_buf_init(&b, 1 << 20);
    assert_int_equal(backup_manifest_format(m, &b), 0);
    backup_manifest_destroy(m);
    po.content_type = "application/json";
    assert_int_equal(backup_rp_key(PREFIX, ns, id, BACKUP_MANIFEST_NAME, key, sizeof(key), &err),
                     0);
    assert_int_equal(s3_client_put_object(e->s3, key, b.ptr, b.len, &po, NULL, &err), 0);
    cm_buf_free(&b);
}

/* Object versions stored under ns/id (0: the point is gone). */
static size_t versions(struct bte_env *e, const char *ns, const char *id)
{
    struct backup_catalog *c = NULL;
    const struct backup_rp_info *p;
    struct cm_err err;
    size_t n = 0;

    assert_int_equal(backup_catalog_list(e->s3, PREFIX, ns, false, &c, &err), 0);
    p = backup_catalog_find(c, ns, id);
    if (p != NULL)
        n = p->n_objects;
    backup_catalog_destroy(c);
    return n;
}

/* The retain-until date radosgw reports for a point's manifest. */
static time_t manifest_lock(struct bte_env *e, const char *ns, const char *id)
{
    struct s3_object_info info;
    struct cm_err err;
    char key[BACKUP_KEY_MAX + 1];

    assert_int_equal(backup_rp_key(PREFIX, ns, id, BACKUP_MANIFEST_NAME, key, sizeof(key), &err),
                     0);
    assert_int_equal(s3_client_head_object(e->s3, key, NULL, &info, &err), 0);
    return info.retain_until;
}

static size_t complete_points(struct bte_env *e, const char *ns)
{
    struct backup_catalog *c = NULL;
    struct cm_err err;
    size_t i, n = 0;

    assert_int_equal(backup_catalog_list(e->s3, PREFIX, ns, false, &c, &err), 0);
    for (i = 0; i < backup_catalog_count(c); i++)
        n += backup_catalog_get(c, i)->complete;
    backup_catalog_destroy(c);
    return n;
}

static bool log_has(const char *path, const char *needle)
{
    char *log = NULL;
    size_t len = 0;
    struct cm_err err;
    bool found;

    if (cm_fs_read_file(path, 1 << 24, &log, &len, &err) != 0)
        return false;
    found = strstr(log, needle) != NULL;
    cm_free(log);
    return found;
}

/* The points of app "gone", whose workloads no longer exist (the fake cluster has
 * none in that namespace): hourly: 1 keeps only the newest. */
struct gone {
    char kept[BACKUP_ID_LEN + 1];    /* 1 h old, locked 1 day: extended */
    char locked[BACKUP_ID_LEN + 1];  /* 2 h old, locked 1 day: retained */
    char expired[BACKUP_ID_LEN + 1]; /* 3 h old, no lock: deleted */
    char held[BACKUP_ID_LEN + 1];    /* 4 h old, legal hold: the delete is refused */
    time_t until;
};

static void seed_gone(struct bte_env *e, struct gone *g)
{
    time_t now = (time_t)(cm_time_now_ms() / 1000);

    g->until = now + 86400;
    put_point(e, "gone", now - 4 * 3600, "testpolicy", 0, true, g->held);
    put_point(e, "gone", now - 3 * 3600, "testpolicy", 0, false, g->expired);
    put_point(e, "gone", now - 2 * 3600, "testpolicy", g->until, false, g->locked);
    put_point(e, "gone", now - 3600, "testpolicy", g->until, false, g->kept);
    assert_int_equal(versions(e, "gone", g->expired), 2);
}

static void check_gone(struct bte_env *e, const struct gone *g, time_t started)
{
    /* kept: extended to at least start + the margin (2 x interval + 1 day), and the
     * extension recorded as a new locks/ object beside the point's two */
    assert_true(manifest_lock(e, "gone", g->kept) >= started + 2 * INTERVAL + 86400);
    assert_int_equal(versions(e, "gone", g->kept), 3);
    /* past the counts and locked: untouched, lock never shortened nor extended */
    assert_int_equal(versions(e, "gone", g->locked), 2);
    assert_int_equal((long long)manifest_lock(e, "gone", g->locked), (long long)g->until);
    /* past the counts and unlocked: every version deleted */
    assert_int_equal(versions(e, "gone", g->expired), 0);
    /* legal hold: the refused delete means retained; the manifest went first, so the
     * archive is still there too */
    assert_int_equal(versions(e, "gone", g->held), 2);
}

/* `executor --once --maintenance-only`: no capture, one maintenance pass. */
static void test_once_maintains_unbound_app(void **state)
{
    struct bte_env *e = *state;
    char interval[16];
    const char *extra[] = {"--once", "--maintenance-only", "--maintenance-interval", interval,
                           NULL};
    char *argv[BTE_ARGV_MAX];
    struct gone g;
    time_t started;
    int code = -1;

    (void)snprintf(interval, sizeof(interval), "%d", INTERVAL);
    bte_executor_argv(e, "", extra, argv);
    seed_gone(e, &g);
    started = (time_t)(cm_time_now_ms() / 1000);
    assert_int_equal(proc_run(argv, e->log, 120000, &code), 0);
    assert_int_equal(code, 0);
    check_gone(e, &g, started);
    /* maintenance only: the bound app "shop" was not captured */
    assert_int_equal(complete_points(e, "shop"), 0);
    assert_true(log_has(e->log, "\"extended\":1,\"deleted\":1,\"retained_by_lock\":2"));
    /* testpolicy and otherpolicy share the location: one visit */
    assert_true(log_has(e->log, "\"locations\":1,\"locations_failed\":0"));
    /* a 1-day lock is shorter than the margin: the executor warns that such points are
     * renewed at every pass */
    assert_true(log_has(e->log, "objectLock.days is not longer than the maintenance margin"));
}

/* A namespace whose newest manifest names a policy that no longer exists: nothing is
 * deleted (never delete on missing configuration), and the pass says so. */
static void test_missing_policy_left_alone(void **state)
{
    struct bte_env *e = *state;
    const char *extra[] = {"--once", "--maintenance-only", NULL};
    char *argv[BTE_ARGV_MAX];
    char old[BACKUP_ID_LEN + 1], newest[BACKUP_ID_LEN + 1];
    time_t now = (time_t)(cm_time_now_ms() / 1000);
    int code = -1;

    bte_executor_argv(e, "", extra, argv);
    put_point(e, "orphan", now - 3 * 3600, "deletedpolicy", 0, false, old);
    put_point(e, "orphan", now - 3600, "deletedpolicy", 0, false, newest);
    assert_int_equal(proc_run(argv, e->log, 120000, &code), 0);
    assert_int_equal(code, 0);
    assert_int_equal(versions(e, "orphan", old), 2);
    assert_int_equal(versions(e, "orphan", newest), 2);
    assert_true(log_has(e->log, "policy not loaded; namespace left alone"));
    assert_true(log_has(e->log, "\"left_alone\":1"));
}

/* The long-running executor runs a pass at startup (beside capturing the bound app
 * "shop") and reports it on /metrics; SIGTERM stops it cleanly. */
static void test_startup_pass_and_metrics(void **state)
{
    struct bte_env *e = *state;
    char addr[64], url[96], interval[16];
    struct proc p;
    struct cm_buf b;
    struct gone g;
    time_t started;
    int code = -1;
    const char *want[] = {"lockwarden_backup_maintenance_runs_total 1\n",
                          "lockwarden_backup_captures_total{namespace=\"shop\"", NULL};

    assert_int_equal(bte_metrics_addr(addr, sizeof(addr), url, sizeof(url)), 0);
    (void)snprintf(interval, sizeof(interval), "%d", INTERVAL);
    seed_gone(e, &g);
    started = (time_t)(cm_time_now_ms() / 1000);
    {
        const char *extra[] = {"--tick", "1", "--maintenance-interval", interval, NULL};
        char *argv[BTE_ARGV_MAX];

        bte_executor_argv(e, addr, extra, argv);
        cm_buf_init(&b, 1 << 20);
        if (bte_spawn_wait_body(&p, argv, e->log, url, want, 60000, &b) != 0)
            fail_msg("no maintenance run on /metrics; last body:\n%s", b.ptr ? b.ptr : "(none)");
    }
    assert_non_null(strstr(b.ptr, "lockwarden_backup_maintenance_failures_total 0\n"));
    assert_null(strstr(b.ptr, "lockwarden_backup_maintenance_last_success_timestamp_seconds 0\n"));
    assert_non_null(strstr(b.ptr, "lockwarden_backup_points_pruned_total 1\n"));
    assert_null(strstr(b.ptr, "lockwarden_backup_locks_extended_total 0\n"));
    assert_null(strstr(b.ptr, "lockwarden_backup_points_retained_by_lock_total 0\n"));
    assert_non_null(strstr(b.ptr, "lockwarden_backup_maintenance_namespaces_left_alone 0\n"));
    assert_int_equal(proc_signal(&p, SIGTERM), 0);
    assert_int_equal(proc_wait_exit(&p, 30000, &code), 0);
    assert_int_equal(code, 0);
    check_gone(e, &g, started);
    assert_int_equal(complete_points(e, "shop"), 1);
    cm_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_once_maintains_unbound_app, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_policy_left_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_startup_pass_and_metrics, setup, teardown),
    };

    return cmocka_run_group_tests(tests, bte_group_setup, bte_group_teardown);
}
