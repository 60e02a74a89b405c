/* SPDX-License-Identifier: Apache-2.0 */
/* bench_capture.c - `lockwarden backup run` of a namespace of 2,000 resources (about
 * 10 MB of JSON) into radosgw with Object Lock, beside a raw `curl` upload of the same
 * JSON bytes: seconds, MB/s of source JSON, peak RSS of each process, and the ratio of
 * capture throughput to raw throughput (targets: >= 0.8, RSS <= 64 MiB).
 * S3_ENDPOINT etc. come from tests/bench/run.sh; the fake kube-apiserver runs here.
 *   LW_BENCH_CAPTURE_N      resources (default 2000)
 *   LW_BENCH_CAPTURE_BYTES  bytes of payload per resource (default 5000)
 *   LW_BENCH_CAPTURE_RANDOM set: random alphanumeric payloads (deflate's worst case) */
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

/* Runs argv, returns wall seconds, the child's peak RSS (KiB) and exit status. */
static int run(char *const argv[], const char *log, double *secs, long *rss_kib, int *status)
{
    uint64_t t0;
    struct rusage ru;
    pid_t pid;

    /* Buffered output would be written again by the child's freopen. */
    fflush(stdout);
    t0 = cm_time_mono_ns();
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
    if (wait4(pid, status, 0, &ru) != pid)
        return -1;
    *secs = (double)(cm_time_mono_ns() - t0) / 1e9;
    *rss_kib = ru.ru_maxrss;
    return 0;
}

int main(void)
{
    const char *endpoint = getenv("S3_ENDPOINT");
    const char *ak = getenv("S3_ACCESS_KEY");
    const char *sk = getenv("S3_SECRET_KEY");
    const char *lw = getenv("LW_BIN");
    uint64_t n = env_u64("LW_BENCH_CAPTURE_N", 2000);
    uint64_t per = env_u64("LW_BENCH_CAPTURE_BYTES", 5000);
    struct fake_kube *fk = NULL;
    struct s3_credentials creds = {0};
    struct s3_client *s3 = NULL;
    struct s3_config cfg;
    struct cm_err err;
    struct cm_buf obj, all;
    char dir[512], kc[600], pol[600], raw[600], log[600], bucket[64], yaml[1200], url[1500],
        user[300];
    char *payload = NULL;
    double t_cap = 0, t_raw = 0;
    long rss_cap = 0, rss_raw = 0;
    int st_cap = -1, st_raw = -1;
    uint64_t i;
    int rc = 1;

    if (endpoint == NULL || ak == NULL || sk == NULL || lw == NULL) {
        printf("bench_capture: S3_ENDPOINT/S3_ACCESS_KEY/S3_SECRET_KEY/LW_BIN not set "
               "(run through make bench); skipped\n");
        return 0;
    }
    setenv("AWS_ACCESS_KEY_ID", ak, 1);
    setenv("AWS_SECRET_ACCESS_KEY", sk, 1);
    if (kube_test_mkdtemp(dir, sizeof(dir)) != 0 || fake_kube_start(NULL, &fk) != 0)
        return 1;
    payload = malloc(per + 1);
    if (payload == NULL)
        goto out;
    cm_buf_init(&obj, 1 << 20);
    cm_buf_init(&all, 1u << 30);
    /* 2,000 ConfigMaps shaped like real configuration: properties lines with distinct
     * keys and pseudo-random values (about half the bytes are random), so the archive
     * compresses like Kubernetes JSON does, neither trivially nor not at all. With
     * LW_BENCH_CAPTURE_RANDOM=1 the payload is random alphanumerics instead (the worst
     * case for deflate). */
    for (i = 0; i < n; i++) {
        uint64_t j = 0;
        uint32_t x = (uint32_t)(i * 2654435761u) | 1u;
        unsigned line = 0;

        while (j < per) {
            char l[96];
            int k;

            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if (getenv("LW_BENCH_CAPTURE_RANDOM") != NULL) {
                payload[j++] = "abcdefghijklmnopqrstuvwxyz0123456789"[x % 36];
                continue;
            }
            k = snprintf(l, sizeof(l), "service.endpoint.%u.url=https://svc-%08x.example:%u/v%u\\n",
                         line++, x, 1024 + x % 60000, x % 9);
            for (int q = 0; q < k && j < per; q++)
                payload[j++] = l[q];
        }
        payload[per] = '\0';
        cm_buf_reset(&obj);
        if (cm_buf_addf(&obj,
                        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                        "\"cm-%06llu\",\"namespace\":\"bench\",\"labels\":{\"app\":\"bench\"}},"
                        "\"data\":{\"blob\":\"%s\"}}",
                        (unsigned long long)i, payload) != 0 ||
            fake_kube_add_object_json(fk, obj.ptr) != 1 ||
            cm_buf_add(&all, obj.ptr, obj.len) != 0 || cm_buf_addc(&all, '\n') != 0) {
            fprintf(stderr, "bench_capture: seeding failed\n");
            goto out;
        }
    }
    (void)snprintf(kc, sizeof(kc), "%s/kubeconfig", dir);
    (void)snprintf(log, sizeof(log), "%s/run.log", dir);
    if (fake_kube_write_kubeconfig(fk, kc, NULL, false) != 0 ||
        kube_test_write(dir, "raw.json", all.ptr, raw, sizeof(raw)) != 0)
        goto out;
    (void)snprintf(bucket, sizeof(bucket), "lw-bench-cap-%ld-%lld", (long)getpid(),
                   (long long)(cm_time_now_ms() % 100000000));
    (void)snprintf(yaml, sizeof(yaml),
                   "apiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\n"
                   "metadata:\n  name: benchpolicy\nspec:\n  schedule: \"@daily\"\n"
                   "  retention:\n    daily: 7\n  objectLock:\n    mode: GOVERNANCE\n"
                   "    days: 1\n  location:\n    endpoint: \"%s\"\n    region: us-east-1\n"
                   "    bucket: %s\n    prefix: bench\n    pathStyle: true\n",
                   endpoint, bucket);
    if (kube_test_write(dir, "policy.yaml", yaml, pol, sizeof(pol)) != 0)
        goto out;
    memset(&cfg, 0, sizeof(cfg));
    cfg.endpoint = endpoint;
    cfg.region = "us-east-1";
    cfg.bucket = bucket;
    cfg.path_style = true;
    cfg.creds = &creds;
    if (s3_global_init(&err) != 0 || s3_credentials_set(&creds, ak, sk, NULL, &err) != 0 ||
        s3_client_create(&cfg, &s3, &err) != 0 || s3_client_create_bucket(s3, true, &err) != 0) {
        fprintf(stderr, "bench_capture: bucket: %s\n", err.msg);
        goto out;
    }
    {
        char *argv[] = {(char *)lw, "backup",       "run", "--namespace", "bench",       "-p",
                        pol,        "--kubeconfig", kc,    "--policy",    "benchpolicy", NULL};

        if (run(argv, log, &t_cap, &rss_cap, &st_cap) != 0 || !WIFEXITED(st_cap) ||
            WEXITSTATUS(st_cap) != 0) {
            fprintf(stderr, "bench_capture: backup run failed (see %s)\n", log);
            goto out;
        }
    }
    {
        /* the capture's own log line: resources, bytes and duration inside the process */
        char *lg = NULL;
        size_t ll = 0;

        if (cm_fs_read_file(log, 1 << 20, &lg, &ll, &err) == 0) {
            char *l = strstr(lg, "\"capture complete\"");

            if (l != NULL) {
                char *nl = strchr(l, '\n');

                printf("  capture log: %.*s\n", nl ? (int)(nl - l) : (int)strlen(l), l);
            }
            cm_free(lg);
        }
    }
    (void)snprintf(url, sizeof(url), "%s/%s/raw/raw.json", endpoint, bucket);
    (void)snprintf(user, sizeof(user), "%s:%s", ak, sk);
    {
        /* radosgw wants x-amz-content-sha256, which curl 7.88 does not add itself. */
        char *argv[] = {"/usr/bin/curl",
                        "-sS",
                        "-f",
                        "--aws-sigv4",
                        "aws:amz:us-east-1:s3",
                        "--user",
                        user,
                        "-H",
                        "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                        "-T",
                        raw,
                        url,
                        NULL};

        if (run(argv, log, &t_raw, &rss_raw, &st_raw) != 0 || !WIFEXITED(st_raw) ||
            WEXITSTATUS(st_raw) != 0) {
            fprintf(stderr, "bench_capture: curl upload failed (see %s)\n", log);
            goto out;
        }
    }
    printf("capture: %llu resources, %.1f MB of JSON (%s payload)\n", (unsigned long long)n,
           (double)all.len / 1e6, getenv("LW_BENCH_CAPTURE_RANDOM") ? "random" : "config-like");
    printf("  lockwarden backup run : %6.2f s  %7.1f MB/s  peak RSS %6.1f MiB\n", t_cap,
           (double)all.len / 1e6 / t_cap, (double)rss_cap / 1024.0);
    printf("  raw curl PUT          : %6.2f s  %7.1f MB/s  peak RSS %6.1f MiB\n", t_raw,
           (double)all.len / 1e6 / t_raw, (double)rss_raw / 1024.0);
    printf("  throughput ratio capture/raw: %.2f (target >= 0.80); capture RSS %s 64 MiB\n",
           t_raw / t_cap, rss_cap <= 64 * 1024 ? "<=" : ">");
    rc = 0;
out:
    free(payload);
    cm_buf_free(&obj);
    cm_buf_free(&all);
    s3_client_destroy(s3);
    s3_credentials_cleanup(&creds);
    fake_kube_stop(fk);
    kube_test_rmtree(dir);
    return rc;
}
