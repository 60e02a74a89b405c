/* SPDX-License-Identifier: Apache-2.0 */
/* bench_restore.c - `lockwarden restore` (clone) of a captured namespace of 2,000
 * ConfigMaps from radosgw into the fake kube-apiserver: seconds, resources/s and peak
 * RSS of the process (it holds the verified objects of the point); then `lockwarden
 * audit --input` of a recorded state with 10,000 apps in 1,000 namespaces rendered as
 * HTML: seconds, apps/s and peak RSS. S3_ENDPOINT etc. come from tests/bench/run.sh.
 *   LW_BENCH_RESTORE_N     resources (default 2000)
 *   LW_BENCH_AUDIT_APPS    apps in the audit state (default 10000) */
/* wait4() gives each child's own peak RSS (BSD/GNU, not POSIX). */
#define _DEFAULT_SOURCE 1

#include "backup/backup.h"
#include "backup/s3/s3.h"
#include "tests/support/fake_kube.h"
#include "tests/support/kube_testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t env_u64(const char *name, uint64_t def)
{
    const char *v = getenv(name);
    uint64_t u;

    if (v == NULL || cm_parse_u64(v, strlen(v), &u) != 0 || u == 0)
        return def;
    return u;
}

/* Runs argv with output to log; wall seconds, the child's peak RSS (KiB), exit code. */
static int run(char *const argv[], const char *log, double *secs, long *rss_kib)
{
    uint64_t t0 = cm_time_mono_ns();
    struct rusage ru;
    int status = -1;
    pid_t pid;

    fflush(stdout); /* or the child's freopen would write our buffer a second time */
    pid = fork();

    if (pid < 0)
        return -1;
    if (pid == 0) {
        FILE *f = freopen(log, "w", stdout);

        if (f == NULL || dup2(fileno(stdout), 2) < 0)
            _exit(127);
        execv(argv[0], argv);
        _exit(127);
    }
    memset(&ru, 0, sizeof(ru));
    if (wait4(pid, &status, 0, &ru) != pid)
        return -1;
    *secs = (double)(cm_time_mono_ns() - t0) / 1e9;
    *rss_kib = ru.ru_maxrss;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int bench_restore(const char *lw, const char *endpoint, const char *ak, const char *sk,
                         const char *dir)
{
    uint64_t n = env_u64("LW_BENCH_RESTORE_N", 2000);
    struct fake_kube *fk = NULL;
    struct s3_credentials creds = {0};
    struct s3_client *s3 = NULL;
    struct s3_config cfg;
    struct cm_err err;
    struct cm_buf obj;
    char kc[600], pol[600], log[600], bucket[64], yaml[1200], point[128];
    char(*ids)[BACKUP_ID_LEN + 1] = NULL;
    size_t nids = 0;
    double secs = 0;
    long rss = 0;
    uint64_t i;
    int rc = 1;

    cm_buf_init(&obj, 1 << 16);
    if (fake_kube_start(NULL, &fk) != 0)
        return 1;
    for (i = 0; i < n; i++) {
        cm_buf_reset(&obj);
        if (cm_buf_addf(&obj,
                        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                        "\"cm-%06llu\",\"namespace\":\"bench\",\"labels\":{\"app\":\"bench\"}},"
                        "\"data\":{\"k\":\"value-%llu-%0512llu\"}}",
                        (unsigned long long)i, (unsigned long long)i,
                        (unsigned long long)(i * 2654435761u)) != 0 ||
            fake_kube_add_object_json(fk, obj.ptr) != 1)
            goto out;
    }
    (void)snprintf(kc, sizeof(kc), "%s/kubeconfig", dir);
    (void)snprintf(log, sizeof(log), "%s/restore.log", dir);
    (void)snprintf(bucket, sizeof(bucket), "lw-bench-rst-%ld-%lld", (long)getpid(),
                   (long long)(cm_time_now_ms() % 100000000));
    (void)snprintf(yaml, sizeof(yaml),
                   "apiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\n"
                   "metadata:\n  name: benchpolicy\nspec:\n  schedule: \"@daily\"\n"
                   "  retention:\n    daily: 7\n  objectLock:\n    mode: GOVERNANCE\n"
                   "    days: 1\n  location:\n    endpoint: \"%s\"\n    region: us-east-1\n"
                   "    bucket: %s\n    prefix: bench\n    pathStyle: true\n",
                   endpoint, bucket);
    if (fake_kube_write_kubeconfig(fk, kc, NULL, false) != 0 ||
        kube_test_write(dir, "policy.yaml", yaml, pol, sizeof(pol)) != 0)
        goto out;
    memset(&cfg, 0, sizeof(cfg));
    cfg.endpoint = endpoint;
    cfg.region = "us-east-1";
    cfg.bucket = bucket;
    cfg.path_style = true;
    cfg.creds = &creds;
    if (s3_credentials_set(&creds, ak, sk, NULL, &err) != 0 ||
        s3_client_create(&cfg, &s3, &err) != 0 || s3_client_create_bucket(s3, true, &err) != 0) {
        fprintf(stderr, "bench_restore: bucket: %s\n", err.msg);
        goto out;
    }
    {
        char *argv[] = {(char *)lw, "backup",       "run", "--namespace", "bench",       "-p",
                        pol,        "--kubeconfig", kc,    "--policy",    "benchpolicy", NULL};

        if (run(argv, log, &secs, &rss) != 0) {
            fprintf(stderr, "bench_restore: backup run failed (see %s)\n", log);
            goto out;
        }
    }
    if (backup_restore_list_ids(s3, "bench", "bench", &ids, &nids, &err) != 0 || nids != 1) {
        fprintf(stderr, "bench_restore: no restore point\n");
        goto out;
    }
    (void)snprintf(point, sizeof(point), "benchpolicy/bench/%s", ids[0]);
    {
        char *argv[] = {
            (char *)lw,     "restore", point, "--namespace-map", "bench=bench-copy", "-p", pol,
            "--kubeconfig", kc,        NULL};

        if (run(argv, log, &secs, &rss) != 0) {
            fprintf(stderr, "bench_restore: restore failed (see %s)\n", log);
            goto out;
        }
    }
    if (fake_kube_count_objects(fk, "v1", "configmaps", "bench-copy") < n) {
        fprintf(stderr, "bench_restore: only %zu of %llu ConfigMaps restored\n",
                fake_kube_count_objects(fk, "v1", "configmaps", "bench-copy"),
                (unsigned long long)n);
        goto out;
    }
    printf("  restore (clone) of %llu resources: %.2f s, %.0f resources/s, peak RSS %ld KiB\n",
           (unsigned long long)n, secs, (double)n / secs, rss);
    rc = 0;
out:
    cm_free(ids);
    cm_buf_free(&obj);
    s3_client_destroy(s3);
    s3_credentials_cleanup(&creds);
    fake_kube_stop(fk);
    return rc;
}

static int bench_audit(const char *lw, const char *dir)
{
    uint64_t apps = env_u64("LW_BENCH_AUDIT_APPS", 10000);
    struct cm_buf st;
    char path[600], log[600], out[600];
    double secs = 0;
    long rss = 0;
    uint64_t i;
    int rc = 1;

    cm_buf_init(&st, 1u << 30);
    if (cm_buf_adds(&st, "{\"now\":\"2026-11-22T10:30:00Z\",\"workloads\":[") != 0)
        goto out;
    for (i = 0; i < apps; i++) {
        if (cm_buf_addf(&st,
                        "%s{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{"
                        "\"name\":\"app-%llu\",\"namespace\":\"ns-%llu\",\"labels\":{"
                        "\"dataprotection\":\"k10-goldpolicy\",\"immutable\":\"enabled\"}}}",
                        i ? "," : "", (unsigned long long)i, (unsigned long long)(i / 10)) != 0)
            goto out;
    }
    if (cm_buf_adds(&st, "],\"restorePoints\":[") != 0)
        goto out;
    for (i = 0; i < apps / 10; i++) {
        if (cm_buf_addf(&st,
                        "%s{\"namespace\":\"ns-%llu\",\"policy\":\"goldpolicy\",\"id\":"
                        "\"20261122T100000Z-%08llx\",\"createdAt\":\"2026-11-22T%02llu:00:00Z\","
                        "\"verified\":true,\"objectLock\":{\"mode\":\"COMPLIANCE\","
                        "\"retainUntil\":\"2026-12-22T10:00:00Z\"}}",
                        i ? "," : "", (unsigned long long)i, (unsigned long long)i,
                        (unsigned long long)(i % 11)) != 0)
            goto out;
    }
    if (cm_buf_adds(&st, "]}") != 0 ||
        kube_test_write(dir, "state.json", st.ptr, path, sizeof(path)) != 0)
        goto out;
    (void)snprintf(log, sizeof(log), "%s/audit.log", dir);
    (void)snprintf(out, sizeof(out), "%s/audit.html", dir);
    {
        char *argv[] = {(char *)lw, "audit", "-p",    "policies", "--input", path,
                        "-o",       "html",  "--out", out,        NULL};
        int code = run(argv, log, &secs, &rss);

        if (code != 0 && code != 1) { /* 1: not compliant, expected for stale apps */
            fprintf(stderr, "bench_restore: audit failed (see %s)\n", log);
            goto out;
        }
    }
    printf("  audit --input of %llu apps to HTML: %.2f s, %.0f apps/s, peak RSS %ld KiB\n",
           (unsigned long long)apps, secs, (double)apps / secs, rss);
    rc = 0;
out:
    cm_buf_free(&st);
    return rc;
}

int main(void)
{
    const char *endpoint = getenv("S3_ENDPOINT");
    const char *ak = getenv("S3_ACCESS_KEY");
    const char *sk = getenv("S3_SECRET_KEY");
    const char *lw = getenv("LW_BIN");
    char dir[512];
    int rc = 0;

    if (lw == NULL) {
        printf("bench_restore: LW_BIN not set (run through make bench); skipped\n");
        return 0;
    }
    policy_json_hooks_install();
    if (kube_test_mkdtemp(dir, sizeof(dir)) != 0)
        return 1;
    if (endpoint == NULL || ak == NULL || sk == NULL) {
        printf("bench_restore: S3_ENDPOINT/S3_ACCESS_KEY/S3_SECRET_KEY not set; restore "
               "skipped\n");
    } else {
        struct cm_err err;

        setenv("AWS_ACCESS_KEY_ID", ak, 1);
        setenv("AWS_SECRET_ACCESS_KEY", sk, 1);
        if (s3_global_init(&err) != 0 || bench_restore(lw, endpoint, ak, sk, dir) != 0)
            rc = 1;
    }
    if (bench_audit(lw, dir) != 0)
        rc = 1;
    kube_test_rmtree(dir);
    return rc;
}
