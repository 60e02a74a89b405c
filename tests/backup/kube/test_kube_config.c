/* SPDX-License-Identifier: Apache-2.0 */
/* test_kube_config.c - unit tests of bare configs: server URL checks, setters and
 * getters, copies (independent, OOM-safe), that a client works from its own copy
 * after the caller's config is gone, and kube_config_load's choice between an explicit
 * kubeconfig (alone), the merged $KUBECONFIG files and in-cluster. */
#include "backup/kube/kube.h"
#include "policy/policy.h"
#include "tests/support/kube_fault.h"
#include "tests/support/kube_testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Two kubeconfigs: a sets current-context a, whose user u is defined in b only; b sets
 * current-context b and also defines a cluster "c" that must lose to a's. */
static const char *kc_a = "current-context: a\nclusters:\n- name: c\n"
                          "  cluster: {server: 'https://a.example:1'}\n"
                          "contexts:\n- name: a\n  context: {cluster: c, user: u}\n";
static const char *kc_b = "current-context: b\nclusters:\n- name: c\n"
                          "  cluster: {server: 'https://b.example:2'}\n"
                          "users:\n- name: u\n  user: {token: tok-b}\n"
                          "contexts:\n- name: b\n  context: {cluster: c}\n";

/* kube_config_load: $KUBECONFIG's files are merged (and win over in-cluster); an
 * explicit kubeconfig (--kubeconfig FILE) is read alone, $KUBECONFIG or not. */
static void test_load_merge_and_explicit(void **state)
{
    struct kube_config *c = NULL;
    struct kube_fault *fl = NULL;
    struct kube_client *cl = NULL;
    struct cm_err err;
    char dir[512];
    char pa[1024];
    char pb[1024];
    char env[2100];

    (void)state;
    assert_int_equal(kube_test_mkdtemp(dir, sizeof(dir)), 0);
    assert_int_equal(kube_test_write(dir, "a", kc_a, pa, sizeof(pa)), 0);
    assert_int_equal(kube_test_write(dir, "b", kc_b, pb, sizeof(pb)), 0);
    (void)snprintf(env, sizeof(env), "%s:%s", pa, pb);
    assert_int_equal(setenv("KUBECONFIG", env, 1), 0);
    assert_int_equal(setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1), 0);

    assert_int_equal(kube_config_load(NULL, NULL, &c, &err), 0);
    assert_false(kube_config_is_in_cluster(c));
    assert_string_equal(kube_config_context(c), "a");
    assert_string_equal(kube_config_server(c), "https://a.example:1");
    assert_int_equal(kube_fault_create(&fl), 0);
    assert_int_equal(kube_fault_push(fl, 200, -1, NULL), 0);
    kube_fault_attach(fl, c);
    assert_int_equal(kube_client_create(c, &cl, &err), 0);
    assert_int_equal(kube_request(cl, "GET", "/api", NULL, 0, NULL, NULL, NULL, &err), 0);
    assert_string_equal(kube_fault_auth(fl, 0), "Bearer tok-b"); /* user u from file b */
    kube_client_destroy(cl);
    kube_fault_destroy(fl);
    kube_config_destroy(c);
    c = NULL;

    /* Explicit: b alone (its own current-context and cluster), a alone (u unknown). */
    assert_int_equal(kube_config_load(pb, NULL, &c, &err), 0);
    assert_string_equal(kube_config_context(c), "b");
    assert_string_equal(kube_config_server(c), "https://b.example:2");
    kube_config_destroy(c);
    c = NULL;
    assert_int_equal(kube_config_load(pa, NULL, &c, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "user \"u\" (named by context \"a\") not found"));
    assert_non_null(strstr(err.msg, pa));
    assert_null(c);

    assert_int_equal(unsetenv("KUBERNETES_SERVICE_HOST"), 0);
    assert_int_equal(unsetenv("KUBECONFIG"), 0);
    kube_test_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_urls),
        cmocka_unit_test(test_setters_and_dup),
        cmocka_unit_test(test_dup_oom_loop),
        cmocka_unit_test(test_client_owns_copy),
        cmocka_unit_test(test_load_merge_and_explicit),
    };

    policy_json_hooks_install();
    cm_log_set_level(CM_LOG_OFF);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
