/* SPDX-License-Identifier: Apache-2.0 */
/* test_webhook_limits.c - the real binary against misbehaving clients: an idle
 * connection and a trickled body time out, a per-address connection limit keeps one
 * client from holding every slot, SIGTERM lets an in-flight request finish and then
 * exits 0, and configuration errors exit 2. */
#include "tests/support/tls_client.h"
#include "tests/support/wh_env.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void start(struct wht_env *e, const char *const *extra)
{
    if (wht_env_start(e, extra) != 0)
        fail_msg("webhook did not start; see %s", e->log);
}

static long get_status(struct wht_env *e, const char *path)
{
    struct tls_client *c = NULL;
    struct tls_response r;
    char url[256];
    long st;

    assert_int_equal(tls_client_create(e->ca, 5000, &c), 0);
    tls_response_init(&r);
    wht_env_url(e, path, url, sizeof(url));
    st = tls_client_request(c, "GET", url, NULL, 0, NULL, &r) == 0 ? r.status : 0;
    tls_response_cleanup(&r);
    tls_client_destroy(c);
    return st;
}

static void test_idle_connection_times_out(void **state)
{
    struct wht_env *e = *state;
    const char *const extra[] = {"--idle-timeout", "1", NULL};
    static const char half[] = "POST /validate HTTP/1.1\r\nHost: localhost\r\n"
                               "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{";
    struct tls_raw *r = NULL;

    start(e, extra);
    assert_int_equal(tls_raw_connect(e->port, e->ca, &r), 0);
    assert_int_equal(tls_raw_send(r, half, sizeof(half) - 1), 0);
    /* Idle for more than a second: the server closes (well before 10 s). */
    assert_int_equal(tls_raw_read_until_closed(r, 10000, NULL), 0);
    tls_raw_close(r);
    assert_int_equal(get_status(e, "/healthz"), 200);
}

static void test_trickled_body_hits_the_request_timeout(void **state)
{
    struct wht_env *e = *state;
    const char *const extra[] = {"--idle-timeout", "30", "--request-timeout", "300", NULL};
    static const char head[] = "POST /validate HTTP/1.1\r\nHost: localhost\r\n"
                               "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n";
    struct tls_raw *r = NULL;
    uint64_t t0;
    int i;
    bool closed = false;

    start(e, extra);
    assert_int_equal(tls_raw_connect(e->port, e->ca, &r), 0);
    assert_int_equal(tls_raw_send(r, head, sizeof(head) - 1), 0);
    t0 = cm_time_mono_ns();
    /* One byte every 50 ms never looks idle, but the whole body must come in 300 ms. */
    for (i = 0; i < 200 && !closed; i++) {
        if (tls_raw_send(r, " ", 1) != 0) {
            closed = true;
            break;
        }
        proc_nap_ms(50);
        if (i > 10 && tls_raw_read_until_closed(r, 1, NULL) == 0)
            closed = true;
    }
    assert_true(closed);
    assert_true((cm_time_mono_ns() - t0) / 1000000u < 5000);
    tls_raw_close(r);
    assert_int_equal(proc_wait_log(&e->proc, "request body too slow", 5000, NULL, 0), 0);
    assert_int_equal(get_status(e, "/healthz"), 200);
}

static void test_per_address_connection_limit(void **state)
{
    struct wht_env *e = *state;
    const char *const extra[] = {"--max-connections-per-ip", "3", NULL};
    struct tls_raw *held[3] = {NULL, NULL, NULL};
    struct tls_raw *extra_conn = NULL;
    size_t i;
    int rc;

    start(e, extra);
    /* The start-up health check's connection may still be counted for a moment
     * (closing is noticed asynchronously): retry each slot until a deadline. */
    for (i = 0; i < 3; i++) {
        int tries;

        for (tries = 0; tries < 200; tries++) {
            if (tls_raw_connect(e->port, e->ca, &held[i]) == 0)
                break;
            proc_nap_ms(10);
        }
        assert_true(tries < 200);
    }
    /* The fourth connection from the same address is closed before the handshake. */
    rc = tls_raw_connect(e->port, e->ca, &extra_conn);
    if (rc == 0)
        rc = tls_raw_read_until_closed(extra_conn, 5000, NULL) == 0 ? CM_ETLS : 0;
    tls_raw_close(extra_conn);
    assert_int_not_equal(rc, 0);
    tls_raw_close(held[0]);
    held[0] = NULL;
    /* A slot is free again (closing is noticed asynchronously: poll). */
    for (i = 0; i < 500 && get_status(e, "/healthz") != 200; i++)
        proc_nap_ms(10);
    assert_true(i < 500);
    tls_raw_close(held[1]);
    tls_raw_close(held[2]);
}

static void test_sigterm_finishes_in_flight_request(void **state)
{
    struct wht_env *e = *state;
    char *body = NULL;
    size_t len = 0;
    char head[256];
    struct tls_raw *r = NULL;
    struct cm_buf got;
    int code = -1;
    int n;

    start(e, NULL);
    assert_int_equal(wht_fixture("validate-deployment-create-web-bad.json", &body, &len), 0);
    n = snprintf(head, sizeof(head),
                 "POST /validate?timeout=5s HTTP/1.1\r\nHost: localhost\r\n"
                 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                 len);
    assert_true(n > 0 && (size_t)n < sizeof(head));
    assert_int_equal(tls_raw_connect(e->port, e->ca, &r), 0);
    assert_int_equal(tls_raw_send(r, head, (size_t)n), 0);
    assert_int_equal(tls_raw_send(r, body, len / 2), 0);
    /* In flight once the server has started it (its gauge says so): then stop. */
    {
        struct tls_client *c = NULL;
        struct tls_response m;
        char url[256];
        int i;

        assert_int_equal(tls_client_create(e->ca, 5000, &c), 0);
        tls_response_init(&m);
        wht_env_url(e, "/metrics", url, sizeof(url));
        for (i = 0; i < 500; i++) {
            assert_int_equal(tls_client_request(c, "GET", url, NULL, 0, NULL, &m), 0);
            if (strstr(m.body.ptr, "lockwarden_webhook_inflight_requests 1\n") != NULL)
                break;
            proc_nap_ms(10);
        }
        assert_true(i < 500);
        tls_response_cleanup(&m);
        tls_client_destroy(c);
    }
    assert_int_equal(proc_signal(&e->proc, SIGTERM), 0);
    assert_int_equal(
        proc_wait_log(&e->proc, "stopping: finishing in-flight requests", 5000, NULL, 0), 0);
    /* It no longer accepts new connections... */
    assert_int_equal(get_status(e, "/healthz"), 0);
    /* ...but the request in flight completes with its real answer. */
    assert_int_equal(tls_raw_send(r, body + len / 2, len - len / 2), 0);
    cm_buf_init(&got, 1 << 20);
    assert_int_equal(tls_raw_read_until_closed(r, 10000, &got), 0);
    assert_non_null(got.ptr);
    assert_non_null(strstr(got.ptr, "HTTP/1.1 200"));
    assert_non_null(strstr(got.ptr, "\"uid\":\"df140e37-1e3a-4e08-b05f-1bdc0c51b647\""));
    assert_non_null(strstr(got.ptr, "\"allowed\":false"));
    cm_buf_free(&got);
    tls_raw_close(r);
    assert_int_equal(proc_wait_exit(&e->proc, 10000, &code), 0);
    assert_int_equal(code, 0);
    cm_free(body);
}

static void test_config_errors_exit_2(void **state)
{
    struct wht_env *e = *state;
    char log[400];
    char *no_cert[] = {e->bin, "webhook", "--policies", e->policies, NULL};
    char *bad_threads[] = {e->bin,       "webhook",   "--tls-cert", e->cert, "--tls-key", e->key,
                           "--policies", e->policies, "--threads",  "0",     NULL};
    char *bad_key[] = {e->bin,       "webhook",   "--tls-cert", e->cert,       "--tls-key", e->ca,
                       "--policies", e->policies, "--listen",   "127.0.0.1:0", NULL};
    char *help[] = {e->bin, "webhook", "--help", NULL};
    int code = -1;

    (void)snprintf(log, sizeof(log), "%s/cfg.log", e->dir);
    assert_int_equal(proc_run(no_cert, log, 10000, &code), 0);
    assert_int_equal(code, 2);
    assert_int_equal(proc_run(bad_threads, log, 10000, &code), 0);
    assert_int_equal(code, 2);
    assert_int_equal(proc_run(bad_key, log, 10000, &code), 0);
    assert_int_equal(code, 2);
    assert_int_equal(proc_run(help, log, 10000, &code), 0);
    assert_int_equal(code, 0);
}

static void test_environment_configures_the_server(void **state)
{
    struct wht_env *e = *state;
    char cert[400];
    char key[400];
    char pol[400];
    char *env[] = {cert, key, pol, "LW_LISTEN=127.0.0.1:0", "LW_THREADS=3", "LW_LOG_LEVEL=debug",
                   NULL};
    char *argv[] = {e->bin, "webhook", NULL};
    char line[1024];

    (void)snprintf(cert, sizeof(cert), "LW_TLS_CERT=%s", e->cert);
    (void)snprintf(key, sizeof(key), "LW_TLS_KEY=%s", e->key);
    (void)snprintf(pol, sizeof(pol), "LW_POLICIES=%s", e->policies);
    assert_int_equal(proc_spawn(&e->proc, argv, env, e->log), 0);
    assert_int_equal(proc_wait_log(&e->proc, "\"msg\":\"listening\"", 10000, line, sizeof(line)),
                     0);
    assert_non_null(strstr(line, "\"threads\":3"));
    assert_non_null(strstr(line, "\"host\":\"127.0.0.1\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        WHT_ENV_TEST(test_idle_connection_times_out),
        WHT_ENV_TEST(test_trickled_body_hits_the_request_timeout),
        WHT_ENV_TEST(test_per_address_connection_limit),
        WHT_ENV_TEST(test_sigterm_finishes_in_flight_request),
        WHT_ENV_TEST(test_config_errors_exit_2),
        WHT_ENV_TEST(test_environment_configures_the_server),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
