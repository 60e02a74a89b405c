/* SPDX-License-Identifier: Apache-2.0 */
/* test_kube_client.c - unit tests of kube_request through the scripted fault
 * transport: retries and backoff (Retry-After, jitter bounds, caps, attempts,
 * deadline), status-to-error mapping with verb+resource messages, response parsing
 * limits (depth, body cap, truncation, trailing bytes), no secrets in logs, and the
 * OOM loop. */
#include "backup/kube/kube.h"
#include "policy/policy.h"
#include "tests/support/kube_fault.h"
#include "tests/support/kube_testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fx {
    struct kube_fault *fl;
    struct kube_config *cfg;
    struct kube_client *c;
    struct kube_test_sleeps sleeps;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct cm_err err;

    if (f == NULL || kube_fault_create(&f->fl) != 0 ||
        kube_config_create("https://kube.test:6443", &f->cfg, &err) != 0 ||
        kube_config_set_token(f->cfg, "SECRET-TOKEN-XYZ") != 0)
        return -1;
    kube_fault_attach(f->fl, f->cfg);
    kube_config_set_sleep(f->cfg, kube_test_sleep_record, &f->sleeps);
    kube_config_set_retry(f->cfg, 4, 200, 30000, 120000);
    *state = f;
    return 0;
}

static void client(struct fx *f)
{
    struct cm_err err;

    kube_client_destroy(f->c);
    f->c = NULL;
    assert_int_equal(kube_client_create(f->cfg, &f->c, &err), 0);
}

static int teardown(void **state)
{
    struct fx *f = *state;

    kube_client_destroy(f->c);
    kube_config_destroy(f->cfg);
    kube_fault_destroy(f->fl);
    free(f);
    return 0;
}

static const char *status_body(int code, const char *reason, const char *msg, char *buf, size_t len)
{
    (void)snprintf(buf, len,
                   "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                   "\"Failure\",\"message\":\"%s\",\"reason\":\"%s\",\"code\":%d}",
                   msg, reason, code);
    return buf;
}

static void test_retry_after_honoured(void **state)
{
    struct fx *f = *state;
    struct cm_err err;
    cJSON *out = NULL;
    long st = 0;
    char b[512];

    client(f);
    kube_fault_push(f->fl, 429, 2,
                    status_body(429, "TooManyRequests", "Too many requests", b, sizeof(b)));
    kube_fault_push(f->fl, 200, -1, "{\"kind\":\"PodList\",\"items\":[]}");
    assert_int_equal(kube_request(f->c, "GET", "/api/v1/pods", NULL, 0, NULL, &st, &out, &err), 0);
    assert_int_equal(st, 200);
    assert_non_null(out);
    cJSON_Delete(out);
    assert_int_equal(f->sleeps.n, 1);
    assert_int_equal(f->sleeps.ms[0], 2000); /* exactly Retry-After, no jitter */
    assert_int_equal(kube_fault_count(f->fl), 2);
    {
        struct kube_client_stats s;

        kube_client_stats_get(f->c, &s);
        assert_int_equal(s.requests, 2);
        assert_int_equal(s.retries, 1);
    }
}

/* 500/502/503/504 and resets back off exponentially from base with at most +25%. */
static void test_backoff_jitter_bounds(void **state)
{
    struct fx *f = *state;
    struct cm_err err;
    cJSON *out = NULL;

    client(f);
    kube_fault_push(f->fl, 500, -1, "{\"kind\":\"Status\",\"code\":500}");
    kube_fault_push_error(f->fl, CM_ECONN, "connection reset by peer");
    kube_fault_push(f->fl, 502, -1, "<html>bad gateway</html>");
    kube_fault_push(f->fl, 200, -1, "{}");
    assert_int_equal(kube_request(f->c, "GET", "/api", NULL, 0, NULL, NULL, &out, &err), 0);
    cJSON_Delete(out);
    assert_int_equal(f->sleeps.n, 3);
    assert_in_range(f->sleeps.ms[0], 200, 250);
    assert_in_range(f->sleeps.ms[1], 400, 500);
    assert_in_range(f->sleeps.ms[2], 800, 1000);
}

static void test_attempts_exhausted(void **state)
{
    struct fx *f = *state;
    struct cm_err err;
    cJSON *out = NULL;
    long st = 0;
    char b[512];

    client(f);
    kube_fault_set_default(
        f->fl, 503,
        status_body(503, "ServiceUnavailable", "apiserver is shutting down", b, sizeof(b)));
    assert_int_equal(kube_request(f->c, "GET", "/apis/apps/v1/namespaces/prod/deployments", NULL, 0,
                                  NULL, &st, &out, &err),
                     CM_EAGAIN);
    assert_int_equal(st, 503);
    assert_null(out);
    assert_int_equal(kube_fault_count(f->fl), 4); /* max_attempts */
    assert_int_equal(f->sleeps.n, 3);
    assert_non_null(strstr(err.msg, "HTTP 503 after 4 attempts"));
    assert_non_null(strstr(err.msg, "cannot list deployments.apps in namespace prod"));
    assert_non_null(strstr(err.msg, "apiserver is shutting down"));
}

static void test_connection_errors(void **state)
{
    struct fx *f = *state;
    struct cm_err err;
    cJSON *out = NULL;

    client(f);
    /* A slow peer (timeout) is retried; then resets until attempts run out. */
    kube_fault_push_error(f->fl, CM_ETIMEDOUT, "operation timed out");
    kube_fault_push_error(f->fl, CM_ECONN, "reset");
    kube_fault_push_error(f->fl, CM_ECONN, "reset");
    kube_fault_push_error(f->fl, CM_ECONN, "connection reset by peer");
    assert_int_equal(kube_request(f->c, "GET", "/api", NULL, 0, NULL, NULL, &out, &err), CM_ECONN);
    assert_non_null(strstr(err.msg, "gave up after 4 attempts"));
    assert_non_null(strstr(err.msg, "connection reset by peer"));
    assert_int_equal(f->sleeps.n, 3);

    /* TLS failures are not retried. */
    f->sleeps.n = 0;
    kube_fault_push_error(f->fl, CM_ETLS, "certificate verify failed");
    assert_int_equal(kube_request(f->c, "GET", "/api", NULL, 0, NULL, NULL, &out, &err), CM_ETLS);
    assert_int_equal(f->sleeps.n, 0);
    assert_int_equal(kube_fault_count(f->fl), 5);
}

static void test_caps_and_deadline(void **state)
{
    struct fx *f = *state;
    struct cm_err err;
    cJSON *out = NULL;

    /* Retry-After above max_delay_ms is capped. */
    kube_config_set_retry(f->cfg, 3, 100, 1500, 0);
    client(f);
    kube_fault_push(f->fl, 429, 60, NULL);
    kube_fault_push(f->fl, 200, -1, "{}");
    assert_int_equal(kube_request(f->c, "GET", "/api", NULL, 0, NULL, NULL, &out, &err), 0);
    cJSON_Delete(out);
    assert_int_equal(f->sleeps.ms[0], 1500);

    /* A wait that would cross the deadline is not taken. */
    f->sleeps.n = 0;
    kube_config_set_retry(f->cfg, 10, 100, 60000, 3000);
    client(f);
    kube_fault_push(f->fl, 429, 2, NULL);
    kube_fault_push(f->fl, 429, 2, NULL);
    {
        long st = 0;

        assert_int_equal(kube_request(f->c, "GET", "/api/v1/namespaces/x/configmaps/y", NULL, 0,
                                      NULL, &st, &out, &err),
                         CM_ETIMEDOUT);
        assert_int_equal(st, 429); /* the last status seen */
    }
    assert_int_equal(f->sleeps.n, 1); /* 2 s taken, the next 2 s would pass 3 s */
    assert_non_null(strstr(err.msg, "deadline of 3000 ms"));
    assert_non_null(strstr(err.msg, "cannot get configmaps y in namespace x"));
    assert_int_equal(kube_fault_pending(f->fl), 0);

    /* max_attempts 1: no retry at all. */
    f->sleeps.n = 0;
    kube_config_set_retry(f->cfg, 1, 100, 60000, 0);
    client(f);
    kube_fault_push(f->fl, 500, -1, NULL);
    assert_int_equal(kube_request(f->c, "GET", "/api", NULL, 0, NULL, NULL, &out, &err), CM_EAGAIN);
    assert_int_equal(f->sleeps.n, 0);
}

struct map_case {
    long status;
    const char *reason;
    const char *method;
    const char *path;
    int code;
    const char *text;
};

static void test_status_mapping(void **state)
{
    static const struct map_case cases[] = {
        {401, "Unauthorized", "GET", "/api/v1/namespaces/prod/secrets", CM_EAUTH,
         "unauthorized: cannot list secrets in namespace prod: Unauthorized"},
        {403, "Forbidden", "GET", "/api/v1/namespaces/prod/secrets?limit=500", CM_EAUTH,
         "forbidden: cannot list secrets in namespace prod: msg"},
        {403, "Forbidden", "DELETE", "/apis/apps/v1/namespaces/a/deployments/web", CM_EAUTH,
         "forbidden: cannot delete deployments.apps web in namespace a: msg"},
        {403, "Forbidden", "POST", "/api/v1/namespaces", CM_EAUTH,
         "forbidden: cannot create namespaces: msg"},
        {403, "Forbidden", "GET", "/api/v1/namespaces/prod", CM_EAUTH,
         "forbidden: cannot get namespaces prod: msg"},
        {403, "Forbidden", "PUT", "/apis/coordination.k8s.io/v1/namespaces/n/leases/l/status",
         CM_EAUTH, "forbidden: cannot update leases.coordination.k8s.io/status l in namespace n"},
        {404, "NotFound", "GET", "/apis/apps/v1/namespaces/a/deployments/web", CM_ENOENT,
         "not found: cannot get deployments.apps web in namespace a: msg"},
        {409, "AlreadyExists", "POST", "/api/v1/namespaces/a/configmaps", CM_EEXIST,
         "already exists: cannot create configmaps in namespace a"},
        {409, "Conflict", "PUT", "/apis/coordination.k8s.io/v1/namespaces/a/leases/x", CM_EAGAIN,
         "conflict: cannot update leases.coordination.k8s.io x in namespace a"},
        {410, "Expired", "GET", "/api/v1/pods?continue=abc", CM_EAGAIN,
         "expired: cannot list pods in all namespaces"},
        {400, "BadRequest", "PATCH", "/api/v1/namespaces/a/pods/p", CM_EINVAL,
         "bad request: cannot patch pods p in namespace a"},
        {422, "Invalid", "POST", "/api/v1/namespaces/a/pods", CM_EINVAL, "invalid: cannot create"},
        {418, "Teapot", "GET", "/apis", CM_EHTTP,
         "unexpected HTTP 418: cannot get discovery information"},
    };
    struct fx *f = *state;
    struct cm_err err;
    cJSON *out = NULL;
    char b[512];
    size_t i;

    client(f);
    for (i = 0; i < CM_ARRAY_LEN(cases); i++) {
        const struct map_case *mc = &cases[i];

        kube_fault_push(f->fl, mc->status, -1,
                        status_body((int)mc->status, mc->reason,
                                    mc->status == 401 ? "Unauthorized" : "msg", b, sizeof(b)));
        assert_int_equal(kube_request(f->c, mc->method, mc->path, NULL, 0, NULL, NULL, &out, &err),
                         mc->code);
        assert_null(out);
        if (strstr(err.msg, mc->text) == NULL)
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, mc->text);
    }
    /* 409 without a Status body: POST means it exists. Non-JSON bodies are quoted. */
    kube_fault_push(f->fl, 409, -1, NULL);
    assert_int_equal(
        kube_request(f->c, "POST", "/api/v1/namespaces/a/pods", "{}", 2, NULL, NULL, NULL, &err),
        CM_EEXIST);
    kube_fault_push(f->fl, 403, -1, "RBAC: access denied\n");
    assert_int_equal(kube_request(f->c, "GET", "/api/v1/nodes", NULL, 0, NULL, NULL, NULL, &err),
                     CM_EAUTH);
    assert_non_null(strstr(err.msg, "RBAC: access denied"));
    assert_int_equal(f->sleeps.n, 0); /* none of these is retried */
}

static void test_response_parsing(void **state)
{
    struct fx *f = *state;
    struct cm_err err;
    cJSON *out = NULL;

    client(f);
    kube_fault_push(f->fl, 200, -1, "{\"kind\":\"PodList\",\"items\":[{\"metadata\":");
    assert_int_equal(kube_request(f->c, "GET", "/api/v1/pods", NULL, 0, NULL, NULL, &out, &err),
                     CM_EPROTO);
    assert_non_null(strstr(err.msg, "not valid JSON"));
    assert_non_null(strstr(err.msg, "cannot list pods"));
    kube_fault_push(f->fl, 200, -1, "{} {}");
    assert_int_equal(kube_request(f->c, "GET", "/api", NULL, 0, NULL, NULL, &out, &err), CM_EPROTO);
    assert_non_null(strstr(err.msg, "trailing bytes"));
    /* An empty 2xx body is fine: *out stays NULL. */
    kube_fault_push(f->fl, 200, -1, NULL);
    assert_int_equal(kube_request(f->c, "DELETE", "/api/v1/namespaces/a/pods/p", NULL, 0, NULL,
                                  NULL, &out, &err),
                     0);
    assert_null(out);
}

static void test_json_depth_limit(void **state)
{
    char buf[2 * (KUBE_MAX_JSON_DEPTH + 1) + 1];
    struct cm_err err;
    cJSON *j = NULL;
    size_t d;

    (void)state;
    for (d = 0; d < KUBE_MAX_JSON_DEPTH; d++) {
        buf[d] = '[';
        buf[2 * KUBE_MAX_JSON_DEPTH - 1 - d] = ']';
    }
    assert_int_equal(kube_json_parse(buf, 2 * KUBE_MAX_JSON_DEPTH, &j, &err), 0);
    cJSON_Delete(j);
    for (d = 0; d <= KUBE_MAX_JSON_DEPTH; d++) {
        buf[d] = '[';
        buf[2 * KUBE_MAX_JSON_DEPTH + 1 - d] = ']';
    }
    j = NULL;
    assert_int_equal(kube_json_parse(buf, 2 * KUBE_MAX_JSON_DEPTH + 2, &j, &err), CM_EPROTO);
    assert_null(j);
    assert_non_null(strstr(err.msg, "nested deeper"));
    /* Brackets inside strings do not count; buffers need no NUL. */
    assert_int_equal(kube_json_parse("{\"a\":\"[[[[\\\"[[\"}xx", 16, &j, &err), 0);
    cJSON_Delete(j);
    assert_int_equal(kube_json_parse("", 0, &j, &err), CM_EPROTO);
}

static void test_body_cap(void **state)
{
    struct fx *f = *state;
    struct cm_err err;
    cJSON *out = NULL;
    char body[1026];

    kube_config_set_max_body(f->cfg, 1024);
    client(f);
    memset(body, ' ', sizeof(body));
    body[0] = '{';
    body[1022] = '}';
    body[1023] = ' ';
    body[1024] = '\0'; /* exactly the cap */
    kube_fault_push(f->fl, 200, -1, body);
    assert_int_equal(kube_request(f->c, "GET", "/api", NULL, 0, NULL, NULL, &out, &err), 0);
    cJSON_Delete(out);
    body[1024] = ' ';
    body[1025] = '\0'; /* cap + 1 */
    kube_fault_push(f->fl, 200, -1, body);
    assert_int_equal(kube_request(f->c, "GET", "/api", NULL, 0, NULL, NULL, &out, &err),
                     CM_ETOOBIG);
    assert_int_equal(f->sleeps.n, 0);
}

/* Tokens never reach the log, even on retries and errors. */
static void test_no_secret_in_logs(void **state)
{
    struct fx *f = *state;
    struct cm_err err;
    char path[600];
    char dir[512];
    char buf[8192];
    ssize_t n;
    int fd;

    assert_int_equal(kube_test_mkdtemp(dir, sizeof(dir)), 0);
    (void)snprintf(path, sizeof(path), "%s/log", dir);
    fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    assert_true(fd >= 0);
    cm_log_set_fd(fd);
    cm_log_set_level(CM_LOG_DEBUG);
    client(f);
    kube_fault_push(f->fl, 503, -1, NULL);
    kube_fault_push(f->fl, 401, -1, NULL);
    assert_int_equal(
        kube_request(f->c, "GET", "/api/v1/namespaces/a/secrets", NULL, 0, NULL, NULL, NULL, &err),
        CM_EAUTH);
    cm_log_set_level(CM_LOG_OFF);
    cm_log_set_fd(2);
    assert_string_equal(kube_fault_auth(f->fl, 1), "Bearer SECRET-TOKEN-XYZ");
    n = pread(fd, buf, sizeof(buf) - 1, 0);
    assert_true(n > 0); /* the retry was logged */
    buf[n] = '\0';
    assert_non_null(strstr(buf, "retrying request"));
    assert_null(strstr(buf, "SECRET"));
    assert_null(strstr(err.msg, "SECRET"));
    close(fd);
    kube_test_rmtree(dir);
}

static void test_status_parse(void **state)
{
    struct kube_status st;
    cJSON *j;

    (void)state;
    j = cJSON_Parse("{\"kind\":\"Status\",\"reason\":\"NotFound\",\"message\":\"x\\ny\","
                    "\"code\":404}");
    assert_true(kube_status_parse(j, &st));
    assert_string_equal(st.reason, "NotFound");
    assert_string_equal(st.message, "x y");
    assert_int_equal(st.code, 404);
    cJSON_Delete(j);
    j = cJSON_Parse("{\"kind\":\"Pod\"}");
    assert_false(kube_status_parse(j, &st));
    cJSON_Delete(j);
    j = cJSON_Parse("{\"kind\":\"Status\",\"reason\":7,\"code\":1e30}");
    assert_true(kube_status_parse(j, &st));
    assert_string_equal(st.reason, "");
    assert_int_equal(st.code, 0);
    cJSON_Delete(j);
    assert_false(kube_status_parse(NULL, &st));
}

static void test_bad_arguments(void **state)
{
    struct fx *f = *state;
    struct cm_err err;
    char *big;

    client(f);
    assert_int_equal(kube_request(f->c, "GET", "api", NULL, 0, NULL, NULL, NULL, &err), CM_EINVAL);
    big = malloc(KUBE_MAX_REQUEST_BODY + 1);
    assert_non_null(big);
    assert_int_equal(kube_request(f->c, "POST", "/api/v1/namespaces", big,
                                  KUBE_MAX_REQUEST_BODY + 1, NULL, NULL, NULL, &err),
                     CM_ETOOBIG);
    free(big);
    assert_int_equal(kube_fault_count(f->fl), 0);
    assert_int_equal(kube_config_set_user_agent(f->cfg, "bad\r\nua"), CM_EINVAL);
    {
        struct kube_config *tmp = NULL;

        assert_int_equal(kube_config_create("ftp://x", &tmp, &err), CM_EINVAL);
        assert_null(tmp);
        assert_int_equal(kube_config_create("https://h/p?q=1", &tmp, &err), CM_EINVAL);
    }
}

static void test_request_headers(void **state)
{
    struct fx *f = *state;
    struct cm_err err;

    client(f);
    kube_fault_push(f->fl, 201, -1, "{\"kind\":\"ConfigMap\"}");
    assert_int_equal(kube_request(f->c, "POST", "/api/v1/namespaces/a/configmaps", "{\"a\":1}", 7,
                                  NULL, NULL, NULL, &err),
                     0);
    assert_string_equal(kube_fault_method(f->fl, 0), "POST");
    assert_string_equal(kube_fault_url(f->fl, 0),
                        "https://kube.test:6443/api/v1/namespaces/a/configmaps");
    assert_string_equal(kube_fault_body(f->fl, 0), "{\"a\":1}");
    assert_string_equal(kube_fault_ctype(f->fl, 0), "application/json");
    assert_int_equal(kube_fault_opens(f->fl), 1);
    kube_client_destroy(f->c);
    f->c = NULL;
    assert_int_equal(kube_fault_closes(f->fl), 1);
}

static void test_oom_loop(void **state)
{
    struct fx *f = *state;
    struct kube_client *c = NULL;
    struct cm_err err;
    cJSON *out = NULL;
    long n;
    int rc;

    kube_fault_set_default(f->fl, 200, "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}");
    for (n = 1;; n++) {
        cm_alloc_fault_set(n);
        rc = kube_client_create(f->cfg, &c, &err);
        if (rc == 0) {
            rc = kube_request(c, "GET", "/api/v1/namespaces/a/pods/p", NULL, 0, NULL, NULL, &out,
                              &err);
        }
        if (!cm_alloc_fault_fired()) {
            cm_alloc_fault_set(0);
            assert_int_equal(rc, 0);
            break;
        }
        cm_alloc_fault_set(0);
        if (rc != CM_ENOMEM)
            fail_msg("n=%ld: rc %d (%s)", n, rc, err.msg);
        assert_null(out);
        kube_client_destroy(c);
        c = NULL;
        assert_true(n < 100000);
    }
    cJSON_Delete(out);
    kube_client_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_retry_after_honoured, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backoff_jitter_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attempts_exhausted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caps_and_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_parsing, setup, teardown),
        cmocka_unit_test(test_json_depth_limit),
        cmocka_unit_test_setup_teardown(test_body_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_secret_in_logs, setup, teardown),
        cmocka_unit_test(test_status_parse),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oom_loop, setup, teardown),
    };

    policy_json_hooks_install();
    cm_log_set_level(CM_LOG_OFF);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
