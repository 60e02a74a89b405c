/* SPDX-License-Identifier: Apache-2.0 */
/* bench_capture.c - `lockwarden backup run` of a namespace of 2,000 resources (about
 * 10 MB of JSON) into radosgw with Object Lock, beside a raw `curl` upload of the same
 * JSON bytes: seconds, MB/s of source JSON, peak RSS of each process, and the ratio of
 * capture throughput to raw throughput (targets: >= 0.8, RSS <= 64 MiB).
 * Both sides run REPS times, alternating, and the medians are compared (the machine is
 * shared). The capture is the whole process, end to end: start, policy, preflight,
 * discovery, every list page over HTTP from the fake apiserver, strip, archive, upload,
 * manifest; its own log line gives the phases.
 * S3_ENDPOINT etc. come from tests/bench/run.sh; the fake kube-apiserver runs here
 * (in this process, plain HTTP unless LW_BENCH_CAPTURE_TLS). It keeps each object's list-item JSON
 * once it was serialised, as a real apiserver's watch cache does; one list before timing warms it.
 *   LW_BENCH_CAPTURE_N      resources (default 2000)
 *   LW_BENCH_CAPTURE_BYTES  bytes of payload per resource (default 5000)
 *   LW_BENCH_CAPTURE_REPS   runs of each side (default 5)
 *   LW_BENCH_CAPTURE_RANDOM set: random alphanumeric payloads (the compressor's worst case)
 *   LW_BENCH_CAPTURE_TLS    set: the fake apiserver speaks HTTPS (as a real one does) */
#include "backup/backup.h"
#include "backup/kube/kube.h"
#include "backup/s3/s3.h"
#include "tests/support/fake_kube.h"
#include "tests/support/kube_testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(const double *v, size_t n)
{
    double s[64];
    size_t i;

    for (i = 0; i < n; i++)
        s[i] = v[i];
    qsort(s, n, sizeof(*s), cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* The number after "key": in a capture log line, or -1. */
static double log_field(const char *line, const char *key)
{
    char k[64];
    const char *p;
    uint64_t u = 0;
    size_t n = 0;

    (void)snprintf(k, sizeof(k), "\"%s\":", key);
    p = strstr(line, k);
    if (p == NULL)
        return -1;
    p += strlen(k);
    while (p[n] >= '0' && p[n] <= '9')
        n++;
    if (n == 0 || cm_parse_u64(p, n, &u) != 0)
        return -1;
    return (double)u;
}

/* Lists the namespace once, so that the fake apiserver has serialised every item
 * before the timed captures (a real apiserver serves lists from its watch cache). */
static int warm_fake(const struct fake_kube *fk)
{
    struct kube_config *cfg = NULL;
    struct kube_client *kc = NULL;
    struct kube_ref ref = {"v1", "configmaps", "bench", NULL};
    struct kube_list_info info;
    struct cm_err err;
    int rc;

    rc = kube_config_create(fake_kube_url(fk), &cfg, &err);
    if (rc == 0 && fake_kube_ca_pem(fk) != NULL)
        rc = kube_config_set_ca_pem(cfg, fake_kube_ca_pem(fk), strlen(fake_kube_ca_pem(fk)));
    if (rc == 0)
        rc = kube_client_create(cfg, &kc, &err);
    if (rc == 0)
        rc = kube_list(kc, &ref, NULL, NULL, NULL, NULL, &info, &err);
    if (rc != 0)
        fprintf(stderr, "bench_capture: warming the fake apiserver: %s\n", err.msg);
    kube_client_destroy(kc);
    kube_config_destroy(cfg);
    return rc;
}

/* Runs argv through /usr/bin/time -f %M, returns wall seconds, the peak RSS (KiB) of
 * the program itself and its exit status. Not wait4()'s ru_maxrss of our own child:
 * a forked child starts with this process's pages mapped and exec() records that
 * high-water mark too, so it would report this (big) process instead. time(1) is a
 * small process whose own child starts clean. */
static int run(char *const argv[], const char *log, const char *rssfile, double *secs,
               long *rss_kib, int *status)
{
    char *targv[40];
    uint64_t t0;
    pid_t pid;
    size_t i;
    char *txt = NULL;
    size_t tl = 0;
    struct cm_err err;
    uint64_t kib = 0;

    targv[0] = "/usr/bin/time";
    targv[1] = "-f";
    targv[2] = "%M";
    targv[3] = "-o";
    targv[4] = (char *)rssfile;
    for (i = 0; argv[i] != NULL && i < 34; i++)
        targv[5 + i] = argv[i];
    targv[5 + i] = NULL;
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
        execv(targv[0], targv);
        _exit(127);
    }
    if (waitpid(pid, status, 0) != pid)
        return -1;
    *secs = (double)(cm_time_mono_ns() - t0) / 1e9;
    *rss_kib = -1;
    if (cm_fs_read_file(rssfile, 4096, &txt, &tl, &err) == 0) {
        while (tl > 0 && (txt[tl - 1] == '\n' || txt[tl - 1] == '\r'))
            tl--;
        /* the last line (time(1) may add a "Command exited..." line first) */
        for (i = tl; i > 0 && txt[i - 1] != '\n'; i--)
            ;
        if (cm_parse_u64(txt + i, tl - i, &kib) == 0)
            *rss_kib = (long)kib;
        cm_free(txt);
    }
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
    struct fake_kube_opts fko;
    struct s3_credentials creds = {0};
    struct s3_client *s3 = NULL;
    struct s3_config cfg;
    struct cm_err err;
    struct cm_buf obj, all;
    char dir[512], kc[600], pol[600], raw[600], log[600], rssf[600], bucket[64], yaml[1200],
        url[1500], user[300];
    char *payload = NULL;
    uint64_t reps = env_u64("LW_BENCH_CAPTURE_REPS", 5);
    double t_cap[32], t_raw[32], rss_cap[32], rss_raw[32];
    double ph_setup[32], ph_objects[32], ph_close[32], ph_total[32], ph_manifest[32];
    double arch_bytes = 0;
    int st_cap = -1, st_raw = -1;
    uint64_t i;
    int rc = 1;

    if (reps > 32)
        reps = 32;
    if (endpoint == NULL || ak == NULL || sk == NULL || lw == NULL) {
        printf("bench_capture: S3_ENDPOINT/S3_ACCESS_KEY/S3_SECRET_KEY/LW_BIN not set "
               "(run through make bench); skipped\n");
        return 0;
    }
    setenv("AWS_ACCESS_KEY_ID", ak, 1);
    setenv("AWS_SECRET_ACCESS_KEY", sk, 1);
    memset(&fko, 0, sizeof(fko));
    fko.tls = getenv("LW_BENCH_CAPTURE_TLS") != NULL;
    if (kube_test_mkdtemp(dir, sizeof(dir)) != 0 || fake_kube_start(&fko, &fk) != 0)
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
     * case for the compressor). */
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
    (void)snprintf(rssf, sizeof(rssf), "%s/rss.txt", dir);
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
    if (warm_fake(fk) != 0)
        goto out;
    (void)snprintf(user, sizeof(user), "%s:%s", ak, sk);
    printf("capture: %llu resources, %.1f MB of JSON (%s payload), %llu runs of each side\n",
           (unsigned long long)n, (double)all.len / 1e6,
           getenv("LW_BENCH_CAPTURE_RANDOM") ? "random" : "config-like", (unsigned long long)reps);
    printf("  fake apiserver: in this process, %s, one libmicrohttpd thread; list items\n"
           "  pre-serialised (warmed by one list before timing), as a watch cache serves them\n",
           fko.tls ? "HTTPS" : "plain HTTP");
    for (i = 0; i < reps; i++) {
        char *argv[] = {(char *)lw, "backup",       "run", "--namespace", "bench",       "-p",
                        pol,        "--kubeconfig", kc,    "--policy",    "benchpolicy", NULL};
        char *lg = NULL;
        size_t ll = 0;
        long rss = 0;

        if (run(argv, log, rssf, &t_cap[i], &rss, &st_cap) != 0 || !WIFEXITED(st_cap) ||
            WEXITSTATUS(st_cap) != 0) {
            fprintf(stderr, "bench_capture: backup run failed (see %s)\n", log);
            goto out;
        }
        rss_cap[i] = (double)rss / 1024.0;
        /* the capture's own log line: its phases inside the process */
        ph_setup[i] = ph_objects[i] = ph_close[i] = ph_total[i] = ph_manifest[i] = -1;
        if (cm_fs_read_file(log, 1 << 20, &lg, &ll, &err) == 0) {
            const char *l = strstr(lg, "\"capture complete\"");

            if (l != NULL) {
                ph_setup[i] = log_field(l, "setup_ms");
                ph_objects[i] = log_field(l, "objects_ms");
                ph_close[i] = log_field(l, "close_ms");
                ph_total[i] = log_field(l, "duration_ms");
                ph_manifest[i] = ph_total[i] - ph_setup[i] - ph_objects[i] - ph_close[i] -
                                 log_field(l, "snapshots_ms");
                arch_bytes = log_field(l, "bytes");
            }
            cm_free(lg);
        }
        (void)snprintf(url, sizeof(url), "%s/%s/raw/raw-%llu.json", endpoint, bucket,
                       (unsigned long long)i);
        {
            /* radosgw wants x-amz-content-sha256, which curl 7.88 does not add itself. */
            char *cargv[] = {"/usr/bin/curl",
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

            if (run(cargv, log, rssf, &t_raw[i], &rss, &st_raw) != 0 || !WIFEXITED(st_raw) ||
                WEXITSTATUS(st_raw) != 0) {
                fprintf(stderr, "bench_capture: curl upload failed (see %s)\n", log);
                goto out;
            }
            rss_raw[i] = (double)rss / 1024.0;
        }
        printf("  run %llu: capture %.3f s (setup %.0f ms, objects %.0f ms, close %.0f ms, "
               "process %.0f ms), raw %.3f s, ratio %.2f\n",
               (unsigned long long)i + 1, t_cap[i], ph_setup[i], ph_objects[i], ph_close[i],
               t_cap[i] * 1000 - ph_total[i], t_raw[i], t_raw[i] / t_cap[i]);
    }
    {
        double mc = median(t_cap, reps);
        double mr = median(t_raw, reps);
        double mb = (double)all.len / 1e6;

        printf("  medians of %llu runs:\n", (unsigned long long)reps);
        printf("  lockwarden backup run : %6.3f s  %7.1f MB/s  peak RSS %6.1f MiB  "
               "(%.1f MB stored after zstd)\n",
               mc, mb / mc, median(rss_cap, reps), arch_bytes / 1e6);
        printf(
            "    phases (medians): setup %.0f ms (S3 preflight, PVCs, discovery), objects %.0f ms "
            "(list pages, strip, SHA-256; tar+zstd on a worker), close %.0f ms "
            "(archive PUT), manifest %.0f ms, process start/exit %.0f ms\n",
            median(ph_setup, reps), median(ph_objects, reps), median(ph_close, reps),
            median(ph_manifest, reps), mc * 1000 - median(ph_total, reps));
        printf(
            "  raw curl PUT          : %6.3f s  %7.1f MB/s  peak RSS %6.1f MiB  (%.1f MB sent)\n",
            mr, mb / mr, median(rss_raw, reps), mb);
        printf("  throughput ratio capture/raw: %.2f (target >= 0.80); capture RSS %s 64 MiB\n",
               mr / mc, median(rss_cap, reps) <= 64 ? "<=" : ">");
    }
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
