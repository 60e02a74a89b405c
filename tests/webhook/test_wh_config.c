/* SPDX-License-Identifier: Apache-2.0 */
/* test_wh_config.c - `lockwarden webhook` settings: defaults, LW_* environment, flags
 * overriding it, every bad value named, limits on both sides. */
#include "webhook/wh.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

struct fake_env {
    const char *const *kv; /* name, value, name, value, ..., NULL */
};

static const char *fake_get(const char *name, void *ctx)
{
    const struct fake_env *e = ctx;
    size_t i;

    for (i = 0; e->kv[i] != NULL; i += 2) {
        if (strcmp(e->kv[i], name) == 0)
            return e->kv[i + 1];
    }
    return NULL;
}

static int parse(struct wh_config *c, const char *const *env, int argc, const char **argv,
                 struct cm_err *err)
{
    struct fake_env fe = {env};
    static const char *const none[] = {NULL};

    wh_config_init(c);
    if (env == NULL)
        fe.kv = none;
    return wh_config_parse(c, argc, (char **)argv, fake_get, &fe, err);
}

static void test_defaults(void **state)
{
    struct wh_config c;

    (void)state;
    wh_config_init(&c);
    assert_string_equal(c.listen_host, "0.0.0.0");
    assert_int_equal(c.listen_port, 8443);
    assert_int_equal(c.threads, 2);
    assert_int_equal(c.log_level, CM_LOG_INFO);
    assert_int_equal(c.accept_mode, WH_ACCEPT_REUSEPORT);
    assert_int_equal(c.n_policies, 0);
}

static void test_env_only(void **state)
{
    static const char *const env[] = {
        "LW_LISTEN",    "127.0.0.1:9443", "LW_TLS_CERT", "/c/tls.crt", "LW_TLS_KEY",
        "/c/tls.key",   "LW_POLICIES",    "/p1,/p2",     "LW_THREADS", "4",
        "LW_LOG_LEVEL", "warn",           NULL};
    const char *argv[] = {"webhook"};
    struct wh_config c;
    struct cm_err err;

    (void)state;
    assert_int_equal(parse(&c, env, 1, argv, &err), 0);
    assert_string_equal(c.listen_host, "127.0.0.1");
    assert_int_equal(c.listen_port, 9443);
    assert_string_equal(c.tls_cert, "/c/tls.crt");
    assert_string_equal(c.tls_key, "/c/tls.key");
    assert_int_equal(c.n_policies, 2);
    assert_string_equal(c.policies[1], "/p2");
    assert_int_equal(c.threads, 4);
    assert_int_equal(c.log_level, CM_LOG_WARN);
}

static void test_flags_override_env(void **state)
{
    static const char *const env[] = {
        "LW_LISTEN",   "127.0.0.1:9443", "LW_TLS_CERT", "/env.crt", "LW_TLS_KEY", "/env.key",
        "LW_POLICIES", "/env-pol",       "LW_THREADS",  "4",        NULL};
    const char *argv[] = {"webhook",        "--listen", "[::1]:0",       "--tls-cert=/flag.crt",
                          "--policies",     "/a",       "--policies",    "/b",
                          "--threads",      "1",        "--accept-mode", "pool",
                          "--idle-timeout", "5"};
    struct wh_config c;
    struct cm_err err;

    (void)state;
    assert_int_equal(parse(&c, env, (int)CM_ARRAY_LEN(argv), argv, &err), 0);
    assert_string_equal(c.listen_host, "::1");
    assert_int_equal(c.listen_port, 0);
    assert_string_equal(c.tls_cert, "/flag.crt");
    assert_string_equal(c.tls_key, "/env.key");
    assert_int_equal(c.n_policies, 2);
    assert_string_equal(c.policies[0], "/a");
    assert_string_equal(c.policies[1], "/b");
    assert_int_equal(c.threads, 1);
    assert_int_equal(c.accept_mode, WH_ACCEPT_POOL);
    assert_int_equal(c.idle_timeout_s, 5);
}

static void expect_bad(const char *const *env, int argc, const char **argv, const char *needle)
{
    struct wh_config c;
    struct cm_err err;

    assert_int_equal(parse(&c, env, argc, argv, &err), CM_EINVAL);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("error \"%s\" does not name \"%s\"", err.msg, needle);
}

static void test_namespace_labels_source(void **state)
{
    static const char *const base_env[] = {"LW_TLS_CERT", "/c", "LW_TLS_KEY", "/k",
                                           "LW_POLICIES", "/p", NULL};
    static const char *const env[] = {
        "LW_TLS_CERT",   "/c",  "LW_TLS_KEY",          "/k",      "LW_POLICIES", "/p",
        "LW_KUBECONFIG", "/kc", "LW_NAMESPACE_LABELS", "cluster", NULL};
    const char *plain[] = {"webhook"};
    const char *flags[] = {"webhook",
                           "--namespace-labels-from-cluster",
                           "--context",
                           "ctx",
                           "--kubeconfig",
                           "/flag-kc",
                           "--namespace-refresh",
                           "86400"};
    const char *off[] = {"webhook", "--namespace-labels-from-cluster=false"};
    const char *r0[] = {"webhook", "--namespace-refresh", "0"};
    const char *r1[] = {"webhook", "--namespace-refresh", "86401"};
    const char *bad_env[] = {"LW_TLS_CERT",         "/c",  "LW_TLS_KEY", "/k", "LW_POLICIES", "/p",
                             "LW_NAMESPACE_LABELS", "yes", NULL};
    struct wh_config c;
    struct cm_err err;

    (void)state;
    assert_int_equal(parse(&c, base_env, 1, plain, &err), 0);
    assert_false(c.ns_labels_from_cluster);
    assert_int_equal(c.ns_refresh_s, 30);
    assert_string_equal(c.kubeconfig, "");
    assert_int_equal(parse(&c, env, 1, plain, &err), 0);
    assert_true(c.ns_labels_from_cluster);
    assert_string_equal(c.kubeconfig, "/kc");
    assert_int_equal(parse(&c, base_env, (int)CM_ARRAY_LEN(flags), flags, &err), 0);
    assert_true(c.ns_labels_from_cluster);
    assert_string_equal(c.kubeconfig, "/flag-kc");
    assert_string_equal(c.kube_context, "ctx");
    assert_int_equal(c.ns_refresh_s, 86400);
    assert_int_equal(parse(&c, env, 2, off, &err), 0);
    assert_false(c.ns_labels_from_cluster);
    expect_bad(base_env, 3, r0, "--namespace-refresh");
    expect_bad(base_env, 3, r1, "--namespace-refresh");
    expect_bad(bad_env, 1, plain, "LW_NAMESPACE_LABELS");
}

/* LW_NAMESPACE_REFRESH: both ends of 1..86400, each side refused naming the variable, and
 * the flag wins. */
static void test_namespace_refresh_env(void **state)
{
    static const char *const ok_lo[] = {"LW_TLS_CERT", "/c", "LW_TLS_KEY",           "/k",
                                        "LW_POLICIES", "/p", "LW_NAMESPACE_REFRESH", "1",
                                        NULL};
    static const char *const ok_hi[] = {"LW_TLS_CERT", "/c", "LW_TLS_KEY",           "/k",
                                        "LW_POLICIES", "/p", "LW_NAMESPACE_REFRESH", "86400",
                                        NULL};
    static const char *const zero[] = {"LW_TLS_CERT", "/c", "LW_TLS_KEY",           "/k",
                                       "LW_POLICIES", "/p", "LW_NAMESPACE_REFRESH", "0",
                                       NULL};
    static const char *const over[] = {"LW_TLS_CERT", "/c", "LW_TLS_KEY",           "/k",
                                       "LW_POLICIES", "/p", "LW_NAMESPACE_REFRESH", "86401",
                                       NULL};
    static const char *const word[] = {"LW_TLS_CERT", "/c", "LW_TLS_KEY",           "/k",
                                       "LW_POLICIES", "/p", "LW_NAMESPACE_REFRESH", "30s",
                                       NULL};
    const char *plain[] = {"webhook"};
    const char *flag[] = {"webhook", "--namespace-refresh", "45"};
    struct wh_config c;
    struct cm_err err;

    (void)state;
    assert_int_equal(parse(&c, ok_lo, 1, plain, &err), 0);
    assert_int_equal(c.ns_refresh_s, 1);
    assert_int_equal(parse(&c, ok_hi, 1, plain, &err), 0);
    assert_int_equal(c.ns_refresh_s, 86400);
    assert_int_equal(parse(&c, ok_hi, 3, flag, &err), 0);
    assert_int_equal(c.ns_refresh_s, 45);
    expect_bad(zero, 1, plain, "LW_NAMESPACE_REFRESH");
    expect_bad(zero, 1, plain, "1..86400");
    expect_bad(over, 1, plain, "LW_NAMESPACE_REFRESH");
    expect_bad(word, 1, plain, "LW_NAMESPACE_REFRESH");
    /* A bad variable is refused even when the flag would replace it. */
    expect_bad(over, 3, flag, "LW_NAMESPACE_REFRESH");
    assert_non_null(strstr(wh_config_usage(), "LW_NAMESPACE_REFRESH"));
}

static void test_errors_name_the_setting(void **state)
{
    static const char *const base_env[] = {"LW_TLS_CERT", "/c", "LW_TLS_KEY", "/k",
                                           "LW_POLICIES", "/p", NULL};
    static const char *const bad_env[] = {
        "LW_TLS_CERT", "/c", "LW_TLS_KEY", "/k", "LW_POLICIES", "/p", "LW_THREADS", "zero", NULL};
    const char *a1[] = {"webhook", "--threads", "0"};
    const char *a2[] = {"webhook", "--threads", "65"};
    const char *a3[] = {"webhook", "--listen", "nocolon"};
    const char *a4[] = {"webhook", "--listen", "1.2.3.4:65536"};
    const char *a5[] = {"webhook", "--log-level", "loud"};
    const char *a6[] = {"webhook", "--bogus", "1"};
    const char *a7[] = {"webhook", "--threads"};
    const char *a8[] = {"webhook", "stray"};
    const char *a9[] = {"webhook", "--accept-mode", "fork"};
    const char *a10[] = {"webhook"};

    (void)state;
    expect_bad(base_env, 3, a1, "--threads");
    expect_bad(base_env, 3, a2, "--threads");
    expect_bad(base_env, 3, a3, "--listen");
    expect_bad(base_env, 3, a4, "--listen");
    expect_bad(base_env, 3, a5, "--log-level");
    expect_bad(base_env, 3, a6, "--bogus");
    expect_bad(base_env, 2, a7, "--threads");
    expect_bad(base_env, 2, a8, "stray");
    expect_bad(base_env, 3, a9, "--accept-mode");
    expect_bad(bad_env, 1, a10, "LW_THREADS");
    expect_bad(NULL, 1, a10, "--tls-cert");
}

static void test_limits_both_sides(void **state)
{
    static const char *const env[] = {"LW_TLS_CERT", "/c", "LW_TLS_KEY", "/k",
                                      "LW_POLICIES", "/p", NULL};
    const char *t64[] = {"webhook", "--threads", "64"};
    const char *t1[] = {"webhook", "--threads", "1"};
    const char *p8[] = {"webhook", "--policies", "1", "--policies", "2", "--policies",
                        "3",       "--policies", "4", "--policies", "5", "--policies",
                        "6",       "--policies", "7", "--policies", "8"};
    const char *p9[] = {"webhook",    "--policies", "1",          "--policies", "2",
                        "--policies", "3",          "--policies", "4",          "--policies",
                        "5",          "--policies", "6",          "--policies", "7",
                        "--policies", "8",          "--policies", "9"};
    char longpath[WH_PATH_MAX + 1];
    const char *lp[] = {"webhook", "--tls-key", longpath};
    struct wh_config c;
    struct cm_err err;

    (void)state;
    assert_int_equal(parse(&c, env, 3, t64, &err), 0);
    assert_int_equal(c.threads, 64);
    assert_int_equal(parse(&c, env, 3, t1, &err), 0);
    assert_int_equal(parse(&c, env, (int)CM_ARRAY_LEN(p8), p8, &err), 0);
    assert_int_equal(c.n_policies, 8);
    assert_int_equal(parse(&c, env, (int)CM_ARRAY_LEN(p9), p9, &err), CM_EINVAL);
    memset(longpath, 'a', WH_PATH_MAX - 1);
    longpath[WH_PATH_MAX - 1] = '\0';
    assert_int_equal(parse(&c, env, 3, lp, &err), 0); /* 1023 bytes: fits */
    longpath[WH_PATH_MAX - 1] = 'a';
    longpath[WH_PATH_MAX] = '\0';
    assert_int_equal(parse(&c, env, 3, lp, &err), CM_EINVAL); /* 1024: too long */
}

static void test_help(void **state)
{
    const char *argv[] = {"webhook", "--help"};
    struct wh_config c;
    struct cm_err err;

    (void)state;
    assert_int_equal(parse(&c, NULL, 2, argv, &err), CM_ECANCELED);
    assert_non_null(strstr(wh_config_usage(), "LW_TLS_CERT"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_env_only),
        cmocka_unit_test(test_flags_override_env),
        cmocka_unit_test(test_errors_name_the_setting),
        cmocka_unit_test(test_limits_both_sides),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_namespace_labels_source),
        cmocka_unit_test(test_namespace_refresh_env),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
