/* SPDX-License-Identifier: Apache-2.0 */
/* test_webhook_certs.c - certificate rotation on the real binary under concurrent load
 * (keep-alive clients and clients that handshake for every request): `lockwarden
 * certs --renew-within` writes a new certificate, new connections get it with no
 * restart and no failed request; a broken write keeps the old one serving. */
#include "tests/support/tls_client.h"
#include "tests/support/wh_env.h"
#include "tests/support/wh_load.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OK_UID "ce50cb09-e435-4d7d-b406-54e8b00319a5"

static int setup(void **state)
{
    *state = wht_client_env_new("validate-deployment-create-web-ok.json", true);
    return *state != NULL ? 0 : -1;
}

/* Polls (deadline 10 s) until the served serial differs from old; returns it. */
static void wait_new_serial(struct wht_client_env *f, const char *old, char *out, size_t cap)
{
    int i;

    for (i = 0; i < 1000; i++) {
        if (tls_peer_serial(f->env.port, f->env.ca, out, cap) == 0 && strcmp(out, old) != 0)
            return;
        proc_nap_ms(10);
    }
    fail_msg("the served certificate did not change from %s", old);
}

static void renew(struct wht_client_env *f)
{
    const char *const args[] = {"--renew-within", "36500", NULL};
    int code = -1;

    assert_int_equal(wht_env_certs(&f->env, args, &code), 0);
    assert_int_equal(code, 0);
}

static void test_rotation_under_load_fails_nothing(void **state)
{
    struct wht_client_env *f = *state;
    struct wht_load load;
    struct tls_client *c = NULL;
    struct tls_response r;
    char url[256];
    char s0[128];
    char s1[128];
    char s2[128];

    assert_int_equal(tls_peer_serial(f->env.port, f->env.ca, s0, sizeof(s0)), 0);
    wht_env_url(&f->env, "/validate?timeout=5s", url, sizeof(url));
    /* 2 threads handshake for every request, 2 keep their connection. */
    assert_int_equal(wht_load_start(&load, 4, 2, url, f->env.ca, f->body, f->len, OK_UID), 0);
    assert_int_equal(wht_load_wait_progress(&load, 20, 10000), 0);

    renew(f);
    wait_new_serial(f, s0, s1, sizeof(s1));
    assert_int_equal(wht_load_wait_progress(&load, 20, 10000), 0);
    renew(f);
    wait_new_serial(f, s1, s2, sizeof(s2));
    assert_int_equal(wht_load_wait_progress(&load, 20, 10000), 0);
    wht_load_stop(&load);
    if (atomic_load(&load.failed) != 0)
        fail_msg("%lu requests failed during rotation; first: %s", atomic_load(&load.failed),
                 load.first_error);
    assert_true(atomic_load(&load.ok) >= 60);

    assert_int_equal(tls_client_create(f->env.ca, 10000, &c), 0);
    tls_response_init(&r);
    wht_env_url(&f->env, "/metrics", url, sizeof(url));
    assert_int_equal(tls_client_request(c, "GET", url, NULL, 0, NULL, &r), 0);
    assert_non_null(strstr(r.body.ptr, "lockwarden_webhook_certificate_reloads_total 2\n"));
    assert_non_null(strstr(r.body.ptr, "lockwarden_webhook_certificate_reload_failures_total 0\n"));
    tls_response_cleanup(&r);
    tls_client_destroy(c);
    assert_int_equal(proc_log_count(&f->env.proc, "serving certificate rotated"), 2);
}

static void test_broken_certificate_keeps_the_old_one(void **state)
{
    struct wht_client_env *f = *state;
    struct tls_client *c = NULL;
    struct tls_response r;
    char url[256];
    char s0[128];
    char s1[128];
    char *good = NULL;
    size_t good_len = 0;

    assert_int_equal(tls_peer_serial(f->env.port, f->env.ca, s0, sizeof(s0)), 0);
    assert_int_equal(cm_fs_read_file(f->env.cert, 1 << 20, &good, &good_len, NULL), 0);
    assert_int_equal(cm_fs_write_atomic(f->env.cert, "garbage\n", 8, 0644, NULL), 0);
    assert_int_equal(proc_wait_log(&f->env.proc, "certificate change not loaded", 10000, NULL, 0),
                     0);
    /* Still serving, still the same certificate, and readiness holds. */
    assert_int_equal(tls_peer_serial(f->env.port, f->env.ca, s1, sizeof(s1)), 0);
    assert_string_equal(s0, s1);
    assert_int_equal(tls_client_create(f->env.ca, 10000, &c), 0);
    tls_response_init(&r);
    wht_env_url(&f->env, "/readyz", url, sizeof(url));
    assert_int_equal(tls_client_request(c, "GET", url, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    wht_env_url(&f->env, "/metrics", url, sizeof(url));
    assert_int_equal(tls_client_request(c, "GET", url, NULL, 0, NULL, &r), 0);
    assert_non_null(strstr(r.body.ptr, "lockwarden_webhook_certificate_reload_failures_total 1\n"));
    /* A key that does not match the certificate is refused the same way: the CA's key
     * stands in for the serving key next to the restored certificate. */
    {
        char ca_key[400];
        char *k = NULL;
        size_t klen = 0;

        (void)snprintf(ca_key, sizeof(ca_key), "%s/ca.key", f->env.certs);
        assert_int_equal(cm_fs_read_file(ca_key, 1 << 20, &k, &klen, NULL), 0);
        assert_int_equal(cm_fs_write_atomic(f->env.cert, good, good_len, 0644, NULL), 0);
        assert_int_equal(cm_fs_write_atomic(f->env.key, k, klen, 0600, NULL), 0);
        cm_free(k);
    }
    assert_int_equal(proc_wait_log(&f->env.proc, "does not match the certificate", 10000, NULL, 0),
                     0);
    assert_int_equal(tls_peer_serial(f->env.port, f->env.ca, s1, sizeof(s1)), 0);
    assert_string_equal(s0, s1);
    tls_response_cleanup(&r);
    tls_client_destroy(c);
    cm_free(good);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        WHT_CLIENT_TEST(test_rotation_under_load_fails_nothing, setup),
        WHT_CLIENT_TEST(test_broken_certificate_keeps_the_old_one, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
