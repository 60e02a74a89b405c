/* SPDX-License-Identifier: Apache-2.0 */
/* test_wh_tls.c - serving credentials: a good pair loads with its notAfter; a key that
 * does not match, a garbage certificate and a missing file are errors naming the file;
 * the digest follows the contents; the swap keeps a pinned credential alive. */
#include "webhook/wh_int.h"
#include "tests/support/wh_env.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_good_pair(void **state)
{
    struct wht_env *e = *state;
    struct wh_cred *c = NULL;
    struct cm_err err;
    uint64_t d = 0;

    assert_int_equal(wh_cred_load(e->cert, e->key, &c, &err), 0);
    assert_int_equal(c->n_pcert, 1);
    assert_true(c->not_after > time(NULL) + 300 * 86400);
    assert_int_equal(wh_cred_digest(e->cert, e->key, &d, &err), 0);
    assert_true(d == c->digest);
    wh_cred_release(c);
}

static void test_mismatch_garbage_missing(void **state)
{
    struct wht_env *e = *state;
    struct wh_cred *c = NULL;
    struct cm_err err;
    char ca_key[400];
    char bad[400];

    (void)snprintf(ca_key, sizeof(ca_key), "%s/ca.key", e->certs);
    assert_int_equal(wh_cred_load(e->cert, ca_key, &c, &err), CM_ETLS);
    assert_non_null(strstr(err.msg, "does not match"));
    (void)snprintf(bad, sizeof(bad), "%s/bad.crt", e->dir);
    assert_int_equal(cm_fs_write_atomic(bad, "-----BEGIN CERTIFICATE-----\nxx\n", 31, 0644, &err),
                     0);
    assert_int_equal(wh_cred_load(bad, e->key, &c, &err), CM_ETLS);
    assert_non_null(strstr(err.msg, "bad.crt"));
    assert_int_equal(wh_cred_load(e->cert, bad, &c, &err), CM_ETLS);
    (void)snprintf(bad, sizeof(bad), "%s/missing.crt", e->dir);
    assert_int_equal(wh_cred_load(bad, e->key, &c, &err), CM_ENOENT);
    assert_null(c);
}

static void test_swap_keeps_pinned(void **state)
{
    struct wht_env *e = *state;
    struct wh_tls t;
    struct wh_cred *a = NULL;
    struct wh_cred *b = NULL;
    struct wh_cred *pinned;
    struct cm_err err;

    assert_int_equal(wh_tls_init(&t), 0);
    assert_null(wh_tls_acquire(&t));
    assert_int_equal(wh_cred_load(e->cert, e->key, &a, &err), 0);
    assert_int_equal(wh_cred_load(e->cert, e->key, &b, &err), 0);
    wh_tls_swap(&t, a);
    pinned = wh_tls_acquire(&t); /* a connection accepted now */
    assert_ptr_equal(pinned, a);
    wh_tls_swap(&t, b); /* rotation: a lives on for that connection */
    assert_int_equal(pinned->n_pcert, 1);
    wh_cred_release(pinned); /* the connection closes: a is freed (ASan checks) */
    pinned = wh_tls_acquire(&t);
    assert_ptr_equal(pinned, b);
    wh_cred_release(pinned);
    wh_tls_cleanup(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        WHT_ENV_TEST(test_good_pair),
        WHT_ENV_TEST(test_mismatch_garbage_missing),
        WHT_ENV_TEST(test_swap_keeps_pinned),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
