/* SPDX-License-Identifier: Apache-2.0 */
/* test_kube_config.c - unit tests of bare configs: server URL checks, setters and
 * getters, copies (independent, OOM-safe), and that a client works from its own copy
 * after the caller's config is gone. */
#include "backup/kube/kube.h"
#include "policy/policy.h"
#include "tests/support/kube_fault.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

static void test_server_urls(void **state)
{
    static const char *const bad[] = {
        "", "127.0.0.1:6443", "ftp://h", "https://h/x?y", "https://h#f", "https://h x"};
    struct kube_config *c = NULL;
    struct cm_err err;
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(bad); i++) {
        assert_int_equal(kube_config_create(bad[i], &c, &err), CM_EINVAL);
        assert_null(c);
    }
    assert_int_equal(kube_config_create(NULL, &c, &err), CM_EINVAL);
    assert_int_equal(kube_config_create("https://h:6443/prefix//", &c, &err), 0);
    assert_string_equal(kube_config_server(c), "https://h:6443/prefix");
    assert_string_equal(kube_config_namespace(c), "default");
    assert_string_equal(kube_config_context(c), "");
    assert_false(kube_config_is_in_cluster(c));
    kube_config_destroy(c);
    kube_config_destroy(NULL);
}

static void test_setters_and_dup(void **state)
{
    struct kube_config *c = NULL;
    struct kube_config *d = NULL;
    struct cm_err err;

    (void)state;
    assert_int_equal(kube_config_create("http://h", &c, &err), 0);
    assert_int_equal(kube_config_set_namespace(c, "team-a"), 0);
    assert_int_equal(kube_config_set_token(c, "t1"), 0);
    assert_int_equal(kube_config_set_user_agent(c, "ua/1"), 0);
    assert_int_equal(kube_config_set_client_cert(c, "c", 1, NULL, 0), CM_EINVAL);
    assert_int_equal(kube_config_set_client_cert(c, "cert", 4, "key", 3), 0);
    assert_int_equal(kube_config_set_ca_pem(c, "ca", 2), 0);
    assert_int_equal(kube_config_dup(c, &d), 0);
    /* The copy is independent of later changes. */
    assert_int_equal(kube_config_set_namespace(c, NULL), 0);
    assert_string_equal(kube_config_namespace(c), "default");
    assert_string_equal(kube_config_namespace(d), "team-a");
    assert_int_equal(kube_config_set_client_cert(c, NULL, 0, NULL, 0), 0);
    assert_int_equal(kube_config_set_ca_pem(c, NULL, 0), 0);
    assert_int_equal(kube_config_set_user_agent(c, NULL), 0); /* back to the default */
    kube_config_destroy(c);
    kube_config_destroy(d);
}

static void test_dup_oom_loop(void **state)
{
    struct kube_config *c = NULL;
    struct cm_err err;
    long n;

    (void)state;
    assert_int_equal(kube_config_create("https://h", &c, &err), 0);
    assert_int_equal(kube_config_set_token(c, "secret"), 0);
    assert_int_equal(kube_config_set_client_cert(c, "cert", 4, "key", 3), 0);
    assert_int_equal(kube_config_set_namespace(c, "x"), 0);
    for (n = 1;; n++) {
        struct kube_config *d = NULL;
        int rc;

        cm_alloc_fault_set(n);
        rc = kube_config_dup(c, &d);
        if (!cm_alloc_fault_fired()) {
            cm_alloc_fault_set(0);
            assert_int_equal(rc, 0);
            assert_string_equal(kube_config_namespace(d), "x");
            kube_config_destroy(d);
            break;
        }
        cm_alloc_fault_set(0);
        assert_int_equal(rc, CM_ENOMEM);
        assert_null(d);
        assert_true(n < 1000);
    }
    /* Setters leave the config unchanged on failure. */
    cm_alloc_fault_set(1);
    assert_int_equal(kube_config_set_namespace(c, "y"), CM_ENOMEM);
    cm_alloc_fault_set(0);
    assert_string_equal(kube_config_namespace(c), "x");
    kube_config_destroy(c);
}

/* The client keeps its own copy: the caller may destroy the config at once. */
static void test_client_owns_copy(void **state)
{
    struct kube_config *c = NULL;
    struct kube_client *cl = NULL;
    struct kube_fault *fl = NULL;
    struct cm_err err;

    (void)state;
    assert_int_equal(kube_fault_create(&fl), 0);
    assert_int_equal(kube_fault_push(fl, 200, -1, NULL), 0);
    assert_int_equal(kube_config_create("https://h", &c, &err), 0);
    assert_int_equal(kube_config_set_token(c, "tok"), 0);
    assert_int_equal(kube_config_set_user_agent(c, "agent/2"), 0);
    kube_fault_attach(fl, c);
    assert_int_equal(kube_client_create(c, &cl, &err), 0);
    kube_config_destroy(c);
    assert_string_equal(kube_config_server(kube_client_config(cl)), "https://h");
    assert_int_equal(
        kube_request(cl, "DELETE", "/api/v1/namespaces/a", NULL, 0, NULL, NULL, NULL, &err), 0);
    assert_string_equal(kube_fault_auth(fl, 0), "Bearer tok");
    kube_client_destroy(cl);
    kube_client_destroy(NULL);
    kube_fault_destroy(fl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_urls),
        cmocka_unit_test(test_setters_and_dup),
        cmocka_unit_test(test_dup_oom_loop),
        cmocka_unit_test(test_client_owns_copy),
    };

    policy_json_hooks_install();
    cm_log_set_level(CM_LOG_OFF);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
