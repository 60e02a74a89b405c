/* SPDX-License-Identifier: Apache-2.0 */
/* rgw_env.c - the fixture of the S3 client tests against a real radosgw. */
#include "tests/support/rgw_env.h"

#include "tests/support/backup_env.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct s3_client *rgw_client(struct rgw_env *e, const char *bucket, bool path_style,
                             const char *endpoint, size_t part_size)
{
    struct s3_config cfg;
    struct s3_client *c = NULL;
    struct cm_err err;
    int rc;

    memset(&cfg, 0, sizeof(cfg));
    cfg.endpoint = endpoint != NULL ? endpoint : e->endpoint;
    cfg.region = e->region;
    cfg.bucket = bucket;
    cfg.path_style = path_style;
    cfg.creds = &e->creds;
    cfg.part_size = part_size;
    rc = s3_client_create(&cfg, &c, &err);
    if (rc != 0)
        fail_msg("s3_client_create: %s", err.msg);
    return c;
}

int rgw_env_setup(void **state)
{
    struct rgw_env *e = calloc(1, sizeof(*e));
    const char *ak = getenv("S3_ACCESS_KEY");
    const char *sk = getenv("S3_SECRET_KEY");
    struct cm_err err;

    if (e == NULL)
        return -1;
    e->endpoint = getenv("S3_ENDPOINT");
    e->region = getenv("S3_REGION");
    if (e->endpoint == NULL || ak == NULL || sk == NULL) {
        /* A missing server is a failure, not a skip: these tests are the proof. */
        fprintf(stderr, "S3_ENDPOINT/S3_ACCESS_KEY/S3_SECRET_KEY not set: run through "
                        "tests/run.sh, which starts tests/support/rgw.sh\n");
        free(e);
        return -1;
    }
    if (s3_credentials_set(&e->creds, ak, sk, NULL, &err) != 0) {
        free(e);
        return -1;
    }
    bte_bucket_name(e->bucket, sizeof(e->bucket), "lw-lock");
    e->c = rgw_client(e, e->bucket, true, NULL, 0);
    if (s3_client_create_bucket(e->c, true, &err) != 0) {
        fprintf(stderr, "create bucket: %s\n", err.msg);
        s3_client_destroy(e->c);
        s3_credentials_cleanup(&e->creds);
        free(e);
        return -1;
    }
    *state = e;
    return 0;
}

int rgw_env_teardown(void **state)
{
    struct rgw_env *e = *state;

    /* Locked versions cannot be deleted; the throwaway radosgw drops them at stop. */
    s3_client_destroy(e->c);
    s3_credentials_cleanup(&e->creds);
    free(e);
    return 0;
}

void rgw_count_sleep(uint64_t ms, void *ctx)
{
    struct rgw_sleeps *s = ctx;

    (void)ms; /* recorded, not slept: the backoff itself is unit-tested */
    s->n++;
}
