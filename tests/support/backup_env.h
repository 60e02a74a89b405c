/* SPDX-License-Identifier: Apache-2.0 */
/* backup_env.h - the environment of the backup, executor, restore and audit
 * integration tests: radosgw credentials from tests/run.sh, a scratch directory, the
 * fake kube-apiserver seeded with the "shop" app and a kubeconfig for it, a fresh
 * bucket name with an S3 client for it, and loopback helpers (a free port, a silent
 * listener, a plain HTTP GET for /metrics).
 *
 * Design note
 * - S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY and LW_BIN come from tests/run.sh; a
 *   missing one is a setup failure with a message, not a skip (these tests are the
 *   proof). The binary reads the standard AWS variables, so setup exports them.
 * - Setup does not create the bucket: some tests want it without Object Lock.
 * - Not thread-safe; one env per test. */
#ifndef TESTS_SUPPORT_BACKUP_ENV_H
#define TESTS_SUPPORT_BACKUP_ENV_H

#include "backup/s3/s3.h"
#include "common/cm.h"
#include "tests/support/fake_kube.h"
#include "tests/support/proc.h"

struct policy_set;

struct bte_env {
    const char *endpoint; /* $S3_ENDPOINT */
    const char *lw;       /* $LW_BIN */
    struct s3_credentials creds;
    struct fake_kube *kube;
    char dir[512];        /* scratch directory, removed by teardown */
    char kubeconfig[600]; /* dir/kubeconfig for the fake apiserver */
    char policy[600];     /* for the test's policy file */
    char log[600];        /* dir/<log_name> */
    char bucket[64];
    struct s3_client *s3; /* a client for bucket */
};

/* Fills e: the variables above, dir, the fake apiserver seeded from
 * tests/fixtures/backup/app-shop.json whose VolumeSnapshots are ready after
 * snapshot_ready_after_gets GETs, its kubeconfig, log = dir/log_name, a bucket name
 * made by bte_bucket_name(bucket_prefix) and e->s3 for it. Returns 0 or -1 (with a
 * message on stderr; e is then cleaned up). */
CM_NODISCARD int bte_env_setup(struct bte_env *e, const char *bucket_prefix, const char *log_name,
                               int snapshot_ready_after_gets);

/* Releases what setup made and removes dir. Locked versions cannot be deleted; the
 * throwaway radosgw drops them when it stops. Safe after a failed setup. */
void bte_env_teardown(struct bte_env *e);

/* Writes the policy file of e (fills yaml, cap bytes, from e->endpoint and e->bucket). */
typedef void bte_policy_fn(const struct bte_env *e, char *yaml, size_t cap);

/* A fixture for a test with one policy and a locked bucket: a calloc'd env after
 * bte_env_setup(bucket_prefix, log_name, snapshot_ready_after_gets); policy writes
 * dir/policy.yaml (path in e->policy); then e->bucket is created with Object Lock.
 * Returns NULL on failure (message on stderr). */
struct bte_env *bte_env_new(const char *bucket_prefix, const char *log_name,
                            int snapshot_ready_after_gets, bte_policy_fn *policy);

/* bte_env_teardown(), then frees e. NULL-safe. */
void bte_env_free(struct bte_env *e);

/* $S3_ENDPOINT for the live test name, or NULL with how to start radosgw by hand on
 * stderr (tests/run.sh starts it). */
const char *bte_s3_endpoint(const char *name);

/* A path-style client of endpoint (region NULL: the client's default) for bucket,
 * with the credentials of the AWS_* variables, and the bucket created with Object
 * Lock. Returns 0 or -1 (message on stderr; *out is then NULL). */
CM_NODISCARD int bte_locked_bucket(const char *endpoint, const char *region, const char *bucket,
                                   struct s3_client **out);

/* The "goldpolicy" BackupPolicy document of the live tests (hourly, 24 kept,
 * GOVERNANCE for 1 day, prefix gold, path style) for bucket at endpoint and region,
 * into out. Returns its length (as snprintf). */
int bte_gold_policy(char *out, size_t cap, const char *endpoint, const char *region,
                    const char *bucket);

/* Writes yaml to dir/name (the path into path) and loads it as a policy set into
 * *ps. Returns 0 or -1 (message on stderr). */
CM_NODISCARD int bte_policy_file(const char *dir, const char *name, const char *yaml, char *path,
                                 size_t cap, struct policy_set **ps);

/* cmocka group setup and teardown: cJSON allocates through cm_malloc/cm_free (so the
 * leak checks see it) and libcurl is initialised once for the group. Return 0. */
int bte_group_setup(void **state);
int bte_group_teardown(void **state);

/* "<prefix>-<pid>-<ms>-<seq>": a bucket name no other test or run uses. */
void bte_bucket_name(char *out, size_t cap, const char *prefix);

/* A path-style us-east-1 client of e's endpoint and credentials for bucket.
 * Returns 0 or a CM_E* code with err. */
CM_NODISCARD int bte_s3_client(const struct bte_env *e, const char *bucket, struct s3_client **out,
                               struct cm_err *err);

/* A 127.0.0.1 TCP port that was free a moment ago, or -1. */
int bte_free_port(void);

/* A 127.0.0.1 socket that listens but never accepts or answers (the kernel completes
 * handshakes from the backlog); "http://127.0.0.1:<port>" into url. Returns the fd
 * (the caller closes it) or -1. */
int bte_silent_listener(char *url, size_t cap);

/* Plain HTTP GET of url (2 s timeout) into b (reset first). Returns 0 or -1. */
CM_NODISCARD int bte_http_get(const char *url, struct cm_buf *b);

/* Room for the argv bte_executor_argv() builds (with up to 16 extra arguments). */
#define BTE_ARGV_MAX 24

/* argv of "$LW_BIN executor -p <e->policy> --kubeconfig <e->kubeconfig>
 * --metrics-addr <metrics_addr>" then the NULL-terminated extra (at most 16; the
 * rest is dropped), NULL-terminated. The strings are not copied. */
void bte_executor_argv(const struct bte_env *e, const char *metrics_addr, const char *const *extra,
                       char *argv[BTE_ARGV_MAX]);

/* A --metrics-addr for a child: "127.0.0.1:<free port>" into addr and
 * "http://<addr>/metrics" into url. Returns 0 or -1 (no free port). */
CM_NODISCARD int bte_metrics_addr(char *addr, size_t acap, char *url, size_t ucap);

/* Starts argv with its output appended to log, then bte_wait_body(url, want,
 * timeout_ms, b); on a timeout the child is killed and reaped. Returns 0, a
 * proc_spawn() error or CM_ETIMEDOUT. */
CM_NODISCARD int bte_spawn_wait_body(struct proc *p, char *const argv[], const char *log,
                                     const char *url, const char *const *want, int timeout_ms,
                                     struct cm_buf *b);

/* GETs url every 100 ms until the body contains every string of want (NULL-terminated)
 * or timeout_ms passes; the last body stays in b. Returns 0 or CM_ETIMEDOUT. */
CM_NODISCARD int bte_wait_body(const char *url, const char *const *want, int timeout_ms,
                               struct cm_buf *b);

/* A scripted-S3 environment for unit tests of catalog, prune and friends: the fault
 * transport (tests/support/s3_fault.h), an S3 client on it, and a policy set loaded from
 * yaml[0..len). Returns NULL after printing why when any step fails. */
struct s3_fault;
struct bte_fault_env {
    struct s3_fault *f;
    struct s3_credentials creds;
    struct s3_client *s3;
    struct policy_set *ps;
};

struct bte_fault_env *bte_fault_env_new(const char *yaml, size_t len);
void bte_fault_env_free(struct bte_fault_env *e);
/* Queues one scripted answer (status, raw header lines or NULL, body). Returns 0 or the
 * fault transport's error. */
int bte_fault_push(struct bte_fault_env *e, long status, const char *headers, const char *body);

#endif /* TESTS_SUPPORT_BACKUP_ENV_H */
