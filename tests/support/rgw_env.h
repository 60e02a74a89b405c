/* SPDX-License-Identifier: Apache-2.0 */
/* rgw_env.h - the fixture of the S3 client tests against a real radosgw
 * (tests/integration/test_s3_rgw*.c): the endpoint and keys tests/run.sh exports after
 * starting tests/support/rgw.sh, a fresh bucket with Object Lock and a path-style client
 * for it, more clients on the same credentials, and a sleep callback that counts the
 * backoff sleeps instead of sleeping.
 *
 * A missing S3_ENDPOINT, S3_ACCESS_KEY or S3_SECRET_KEY is a setup failure with a message,
 * not a skip: these tests are the proof. Failures are cmocka assertions, so call these
 * only from a cmocka test. Not thread-safe; one env per test. */
#ifndef TESTS_SUPPORT_RGW_ENV_H
#define TESTS_SUPPORT_RGW_ENV_H

#include "backup/s3/s3.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rgw_env {
    const char *endpoint; /* $S3_ENDPOINT */
    const char *region;   /* $S3_REGION, may be NULL */
    struct s3_credentials creds;
    char bucket[64];     /* "lw-lock-<pid>-<ms>-<seq>", created with Object Lock */
    struct s3_client *c; /* a path-style client for bucket */
};

/* cmocka setup: calloc's a struct rgw_env into *state, fills it from the environment
 * and creates its bucket with Object Lock. Returns 0 or -1 (message on stderr). */
int rgw_env_setup(void **state);
/* cmocka teardown: destroys the client, wipes the credentials and frees the env. Locked
 * versions cannot be deleted; the throwaway radosgw drops them at stop. Returns 0. */
int rgw_env_teardown(void **state);

/* A client of e's credentials and region for bucket at endpoint (NULL: e->endpoint) with
 * part_size (0: the default). Fails the test when the client cannot be made. */
struct s3_client *rgw_client(struct rgw_env *e, const char *bucket, bool path_style,
                             const char *endpoint, size_t part_size);

/* A s3_sleep_fn that counts the sleeps (ctx = struct rgw_sleeps) and never sleeps: the
 * backoff itself is unit-tested. */
struct rgw_sleeps {
    unsigned n;
};
void rgw_count_sleep(uint64_t ms, void *ctx);

#endif /* TESTS_SUPPORT_RGW_ENV_H */
