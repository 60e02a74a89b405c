/* SPDX-License-Identifier: Apache-2.0 */
/* bench_s3.c - S3 client throughput against radosgw (S3_ENDPOINT etc. from the bench
 * runner): a streamed multipart upload with Object Lock (then locked by retention), many
 * single PUTs with lock headers over one kept-alive connection, and a streamed GET;
 * MB/s, objects/s and peak RSS (the uploader holds one part, whatever the size).
 *   LW_BENCH_S3_MIB   MiB per phase (default 64)
 *   LW_BENCH_S3_PART  part size in MiB (default 8) */
#include "backup/s3/s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static long peak_rss_kib(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return ru.ru_maxrss;
}

static double now_s(void)
{
    return (double)cm_time_mono_ns() / 1e9;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
    const char *v = getenv(name);
    uint64_t u;

    if (v == NULL || cm_parse_u64(v, strlen(v), &u) != 0 || u == 0)
        return def;
    return u;
}

static int count_sink(const void *p, size_t n, void *ctx)
{
    uint64_t *total = ctx;

    (void)p;
    *total += n;
    return 0;
}

int main(void)
{
    const char *ep = getenv("S3_ENDPOINT");
    const char *ak = getenv("S3_ACCESS_KEY");
    const char *sk = getenv("S3_SECRET_KEY");
    uint64_t mib = env_u64("LW_BENCH_S3_MIB", 64);
    size_t part = (size_t)env_u64("LW_BENCH_S3_PART", 8) << 20;
    struct s3_credentials creds = {0};
    struct s3_config cfg;
    struct s3_client *c = NULL;
    struct s3_upload *u = NULL;
    struct s3_put_opts po;
    struct s3_put_result res;
    char bucket[64];
    unsigned char *chunk = NULL;
    const size_t chunk_len = 1u << 20;
    const size_t small = 64u << 10;
    uint64_t got = 0;
    uint64_t i;
    uint64_t n_small;
    long rss0;
    double t0;
    double dt;
    struct cm_err err = {0};
    int status = 1;

    if (ep == NULL || ak == NULL || sk == NULL) {
        fprintf(stderr, "bench_s3: S3_ENDPOINT/S3_ACCESS_KEY/S3_SECRET_KEY not set (radosgw "
                        "not started)\n");
        return 1;
    }
    cm_log_set_level(CM_LOG_ERROR);
    if (s3_global_init(&err) != 0 || s3_credentials_set(&creds, ak, sk, NULL, &err) != 0)
        goto out;
    (void)snprintf(bucket, sizeof(bucket), "lw-bench-%ld-%lld", (long)getpid(),
                   (long long)(cm_time_now_ms() % 100000000));
    memset(&cfg, 0, sizeof(cfg));
    cfg.endpoint = ep;
    cfg.region = getenv("S3_REGION");
    cfg.bucket = bucket;
    cfg.path_style = true;
    cfg.creds = &creds;
    cfg.part_size = part;
    if (s3_client_create(&cfg, &c, &err) != 0 || s3_client_create_bucket(c, true, &err) != 0)
        goto out;
    chunk = malloc(chunk_len);
    if (chunk == NULL)
        goto out;
    for (i = 0; i < chunk_len; i++)
        chunk[i] = (unsigned char)(i * 2654435761u >> 13);
    memset(&po, 0, sizeof(po));
    po.lock_mode = S3_LOCK_COMPLIANCE;
    po.retain_until = (time_t)(cm_time_now_ms() / 1000) + 3600;
    rss0 = peak_rss_kib();

    /* 1. streamed multipart upload */
    t0 = now_s();
    if (s3_upload_open(c, "bench/archive.bin", &po, &u, &err) != 0)
        goto out;
    for (i = 0; i < mib; i++) {
        chunk[0] = (unsigned char)i;
        if (s3_upload_write(u, chunk, chunk_len, &err) != 0) {
            s3_upload_abort(u);
            goto out;
        }
    }
    if (s3_upload_close(u, &res, &err) != 0)
        goto out;
    dt = now_s() - t0;
    printf("s3 multipart upload (COMPLIANCE, %zu MiB parts): %llu MiB in %.2f s = %.1f MB/s, "
           "%u parts\n",
           part >> 20, (unsigned long long)mib, dt, (double)(mib << 20) / 1e6 / dt, res.parts);
    printf("s3 peak RSS: %.1f MiB before the upload, %.1f MiB after (part buffer %zu MiB)\n",
           (double)rss0 / 1024, (double)peak_rss_kib() / 1024, part >> 20);

    /* 2. streamed GET of the same object */
    t0 = now_s();
    if (s3_client_get_object(c, "bench/archive.bin", res.version_id, NULL, count_sink, &got, NULL,
                             &err) != 0)
        goto out;
    dt = now_s() - t0;
    printf("s3 GET (streamed): %.1f MB/s\n", (double)got / 1e6 / dt);

    /* 3. single PUTs with lock headers, one kept-alive connection */
    n_small = (mib << 20) / small;
    t0 = now_s();
    for (i = 0; i < n_small; i++) {
        char key[64];

        (void)snprintf(key, sizeof(key), "bench/small/%06llu", (unsigned long long)i);
        chunk[0] = (unsigned char)i;
        if (s3_client_put_object(c, key, chunk, small, &po, NULL, &err) != 0)
            goto out;
    }
    dt = now_s() - t0;
    printf("s3 single PUT (64 KiB, COMPLIANCE, Content-MD5): %llu objects in %.2f s = %.0f "
           "objects/s, %.1f MB/s\n",
           (unsigned long long)n_small, dt, (double)n_small / dt,
           (double)(n_small * small) / 1e6 / dt);
    printf("s3 peak RSS at end: %.1f MiB\n", (double)peak_rss_kib() / 1024);
    status = 0;
out:
    if (status != 0)
        fprintf(stderr, "bench_s3: %s\n", err.msg);
    free(chunk);
    s3_client_destroy(c);
    s3_credentials_cleanup(&creds);
    s3_global_cleanup();
    return status;
}
