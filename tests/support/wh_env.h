/* SPDX-License-Identifier: Apache-2.0 */
/* wh_env.h - a running `lockwarden webhook` for integration tests: a temporary
 * directory with a fresh CA and serving certificate made by `lockwarden certs`, a copy
 * of a policy directory (so a test may change it), the real binary on an ephemeral
 * 127.0.0.1 port, and teardown that kills, reaps and removes everything.
 *
 * Design note
 * - The binary is $LW_BIN (tests/run.sh exports it), else build/lockwarden; fixtures
 *   are under $LW_TOP (else the current directory).
 * - Readiness is a poll with a deadline: the "listening" log line gives the port,
 *   then GET /healthz must answer 200.
 * - Not thread-safe; one env per test. */
#ifndef TESTS_SUPPORT_WH_ENV_H
#define TESTS_SUPPORT_WH_ENV_H

#include "tests/support/proc.h"
#include "tests/support/tls_client.h"

#include <stdint.h>

struct wht_env {
    char dir[256];
    char certs[300];
    char ca[320];
    char cert[320];
    char key[320];
    char policies[300];
    char log[320];
    char bin[512];
    struct proc proc;
    uint16_t port;
};

/* The path of a file under $LW_TOP (e.g. "tests/fixtures/admissionreview/x.json"). */
void wht_top_path(const char *rel, char *out, size_t cap);
/* Reads a fixture under tests/fixtures/admissionreview/ (cm_free the buffer). */
CM_NODISCARD int wht_fixture(const char *name, char **buf, size_t *len);

/* Makes the directory, runs `lockwarden certs` for localhost/127.0.0.1 and copies
 * every file of policy_src (a directory under $LW_TOP; NULL = the admissionreview
 * fixtures' policies) into e->policies. Returns 0 or a CM_E* code. */
CM_NODISCARD int wht_env_setup(struct wht_env *e, const char *policy_src);

/* Starts the webhook with the env's certificate and policies, --listen 127.0.0.1:0,
 * --reload-interval 200 and the extra args (NULL-terminated, may be NULL; a
 * "--policies" there replaces the env's policy directory), and waits
 * up to 10 s until it serves /healthz. Returns 0, CM_ETIMEDOUT or CM_ECANCELED (it
 * exited: read e->log). */
CM_NODISCARD int wht_env_start(struct wht_env *e, const char *const *extra);

/* SIGTERM and wait up to timeout_ms for a clean exit; *exit_code as proc_wait_exit. */
CM_NODISCARD int wht_env_stop(struct wht_env *e, int timeout_ms, int *exit_code);

/* Kills the webhook if running and removes the directory. Safe in any state. */
void wht_env_teardown(struct wht_env *e);

/* The end of a test: when the webhook runs, SIGTERM and wait up to 15 s for it to
 * exit, then wht_env_teardown(). A clean stop exits 0; under ASan a leak or a
 * sanitizer error in the server makes it non-zero. Returns 0 (it exited 0, or was not
 * running), CM_ETIMEDOUT (it did not exit) or CM_EIO (it exited non-zero: the code is
 * printed on stderr). */
CM_NODISCARD int wht_env_finish(struct wht_env *e);

/* cmocka setup and teardown for a test whose state is the env alone: *state = a
 * calloc'd env after wht_env_setup(NULL); then wht_env_finish() and free. Each
 * returns 0 or -1, which cmocka reports as a failed test (a webhook that did not stop
 * with exit 0 fails its test). */
int wht_env_fixture_setup(void **state);
int wht_env_fixture_teardown(void **state);
/* A cmocka test entry with those two. */
#define WHT_ENV_TEST(f)                                                                            \
    cmocka_unit_test_setup_teardown(f, wht_env_fixture_setup, wht_env_fixture_teardown)

/* An env with a TLS client that trusts its CA (10 s timeout), a response and, when
 * asked for, an AdmissionReview fixture to send. */
struct wht_client_env {
    struct wht_env env;
    struct tls_client *client;
    struct tls_response resp;
    char *body; /* the review fixture (NULL when none was asked for) */
    size_t len;
};

/* A calloc'd client env: resp initialised, wht_env_setup(NULL), the client created
 * and review (a name for wht_fixture(); NULL: none) read into body. With start, the
 * webhook is started too (wht_env_start(NULL); on a failure its log goes to
 * stderr). NULL on any failure (message on stderr). */
struct wht_client_env *wht_client_env_new(const char *review, bool start);

/* Destroys the client, the response and the body, wht_env_finish(), frees c; the
 * same returns as wht_env_finish (0 for NULL). */
CM_NODISCARD int wht_client_env_destroy(struct wht_client_env *c);

/* cmocka teardown for a test whose state is a client env: wht_client_env_destroy();
 * 0, or -1 (a failed test) when the webhook did not stop with exit 0. */
int wht_client_env_fixture_teardown(void **state);
/* A cmocka test entry with the file's setup (which makes the client env) and that. */
#define WHT_CLIENT_TEST(f, setup)                                                                  \
    cmocka_unit_test_setup_teardown(f, setup, wht_client_env_fixture_teardown)

/* wht_env_start(); on a failure the webhook's log is copied to stderr. */
CM_NODISCARD int wht_env_start_or_dump(struct wht_env *e, const char *const *extra);

/* Copies the webhook's log to stderr (for a failure message). */
void wht_env_dump_log(const struct wht_env *e);

/* https://localhost:<port><path> */
void wht_env_url(const struct wht_env *e, const char *path, char *out, size_t cap);

/* Runs `lockwarden certs` into e->certs with args after the service/namespace/out
 * (e.g. "--renew-within", "36500", NULL). Returns 0 with *exit_code or an error. */
CM_NODISCARD int wht_env_certs(const struct wht_env *e, const char *const *extra, int *exit_code);

/* Writes data to e->policies/name atomically (a reload trigger). */
CM_NODISCARD int wht_env_write_policy(const struct wht_env *e, const char *name, const char *data);

#endif /* TESTS_SUPPORT_WH_ENV_H */
