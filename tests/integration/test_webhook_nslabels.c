/* SPDX-License-Identifier: Apache-2.0 */
/* test_webhook_nslabels.c - the real `lockwarden webhook` with
 * --namespace-labels-from-cluster against the fake kube-apiserver: a namespaceSelector
 * rule denies in the labelled namespace only, follows a label change, and keeps the last
 * labels serving (and the pod ready) while the API server answers 500. Until the first
 * list succeeds /readyz answers 503 with the list's error, and a namespaceSelector rule
 * that a request does not pass denies it saying the labels are not known yet, while a
 * policy without namespaceSelector judges as usual; a namespace created since the last
 * list is judged the same way until a list that the miss brings forward. Without the
 * source, the webhook warns at load that such rules match nothing. */
#include "tests/support/fake_kube.h"
#include "tests/support/tls_client.h"
#include "tests/support/wh_env.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEADLINE_MS 15000

static const char policy_yaml[] =
    "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: prod-team}\n"
    "spec:\n  validationFailureAction: Enforce\n  rules:\n  - name: need-team\n"
    "    match:\n      any:\n      - resources:\n          kinds: [Deployment]\n"
    "          namespaceSelector: {matchLabels: {env: prod}}\n"
    "    validate:\n      message: need team\n"
    "      pattern: {metadata: {labels: {team: '?*'}}}\n"
    /* A policy without namespaceSelector: judged as usual whatever the labels. */
    "---\napiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: sts-app}\n"
    "spec:\n  validationFailureAction: Enforce\n  rules:\n  - name: need-app\n"
    "    match: {any: [{resources: {kinds: [StatefulSet]}}]}\n"
    "    validate:\n      message: need app\n"
    "      pattern: {metadata: {labels: {app: '?*'}}}\n";

static const char ready_reason[] =
    "namespace labels not listed yet (--namespace-labels-from-cluster); last error: ";

#define NOT_KNOWN(ns) "the labels of namespace \"" ns "\" are not known yet"

/* How a test's webhook starts. */
enum mode {
    M_PLAIN = 0, /* no label source */
    M_SOURCE,    /* the source, refreshed every second */
    M_REFUSED,   /* the source, with the API server refusing the list (403) at start */
    M_SLOW,      /* the source, refreshed hourly: only a kick lists again */
};

struct fix {
    struct wht_env env;
    struct fake_kube *kube;
    struct tls_client *client;
    struct tls_response resp;
    char policy[400];
    char kubeconfig[400];
};

static int set_ns(struct fake_kube *k, const char *name, const char *env)
{
    char json[512];

    (void)snprintf(json, sizeof(json),
                   "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\","
                   "\"labels\":{\"env\":\"%s\"}}}",
                   name, env);
    return fake_kube_add_object_json(k, json) == 1 ? 0 : -1;
}

static int write_file(const char *path, const char *data)
{
    FILE *f = fopen(path, "w");
    int rc = 0;

    if (f == NULL)
        return -1;
    if (fputs(data, f) < 0)
        rc = -1;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

static int setup_common(void **state, enum mode mode)
{
    struct fix *f = calloc(1, sizeof(*f));
    struct fake_kube_rule refuse = {"GET", "/api/v1/namespaces", NULL, FAKE_KUBE_FAULT_403, 0, 0};
    const char *extra_src[] = {"--policies",
                               NULL,
                               "--namespace-labels-from-cluster",
                               "--kubeconfig",
                               NULL,
                               "--namespace-refresh",
                               mode == M_SLOW ? "3600" : "1",
                               NULL};
    const char *extra_plain[] = {"--policies", NULL, NULL};

    if (f == NULL)
        return -1;
    *state = f;
    tls_response_init(&f->resp);
    if (wht_env_setup(&f->env, NULL) != 0 || fake_kube_start(NULL, &f->kube) != 0)
        return -1;
    if (set_ns(f->kube, "shop", "prod") != 0 || set_ns(f->kube, "lab", "dev") != 0)
        return -1;
    if (mode == M_REFUSED && fake_kube_inject(f->kube, &refuse) != 0)
        return -1;
    (void)snprintf(f->policy, sizeof(f->policy), "%s/ns-policy.yaml", f->env.dir);
    (void)snprintf(f->kubeconfig, sizeof(f->kubeconfig), "%s/kubeconfig", f->env.dir);
    if (write_file(f->policy, policy_yaml) != 0 ||
        fake_kube_write_kubeconfig(f->kube, f->kubeconfig, NULL, false) != 0)
        return -1;
    if (tls_client_create(f->env.ca, 10000, &f->client) != 0)
        return -1;
    extra_src[1] = f->policy;
    extra_src[4] = f->kubeconfig;
    extra_plain[1] = f->policy;
    return wht_env_start_or_dump(&f->env, mode == M_PLAIN ? extra_plain : extra_src) == 0 ? 0 : -1;
}

static int setup(void **state)
{
    return setup_common(state, M_SOURCE);
}

static int setup_refused(void **state)
{
    return setup_common(state, M_REFUSED);
}

static int setup_slow(void **state)
{
    return setup_common(state, M_SLOW);
}

static int setup_plain(void **state)
{
    return setup_common(state, M_PLAIN);
}

static int teardown(void **state)
{
    struct fix *f = *state;
    int rc;

    if (f == NULL)
        return 0;
    tls_client_destroy(f->client);
    tls_response_cleanup(&f->resp);
    rc = wht_env_finish(&f->env);
    fake_kube_stop(f->kube);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* Whether a CREATE of kind ("Deployment" or "StatefulSet") "web" with labels (a JSON
 * object text) in ns is allowed; the denial's message into msg[cap] ("" when allowed). */
static bool admit(struct fix *f, const char *kind, const char *ns, const char *labels, char *msg,
                  size_t cap)
{
    char body[1024];
    char url[256];
    cJSON *j;
    const cJSON *r;
    const cJSON *a;
    const cJSON *m;
    bool allowed;
    int n;

    n = snprintf(body, sizeof(body),
                 "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
                 "\"request\":{\"uid\":\"u-%s\",\"operation\":\"CREATE\",\"name\":\"web\","
                 "\"namespace\":\"%s\",\"kind\":{\"group\":\"apps\",\"version\":\"v1\","
                 "\"kind\":\"%s\"},\"object\":{\"apiVersion\":\"apps/v1\",\"kind\":\"%s\","
                 "\"metadata\":{\"name\":\"web\",\"namespace\":\"%s\",\"labels\":%s}}}}",
                 ns, ns, kind, kind, ns, labels);
    assert_true(n > 0 && (size_t)n < sizeof(body));
    wht_env_url(&f->env, "/validate", url, sizeof(url));
    assert_int_equal(tls_client_post_review(f->client, url, body, (size_t)n, &f->resp), 0);
    assert_int_equal(f->resp.status, 200);
    j = cJSON_ParseWithLength(f->resp.body.ptr, f->resp.body.len);
    assert_non_null(j);
    r = cJSON_GetObjectItemCaseSensitive(j, "response");
    a = cJSON_GetObjectItemCaseSensitive(r, "allowed");
    assert_true(cJSON_IsBool(a));
    allowed = cJSON_IsTrue(a);
    m = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "status"), "message");
    if (msg != NULL && cap > 0)
        (void)snprintf(msg, cap, "%s", cJSON_IsString(m) ? m->valuestring : "");
    cJSON_Delete(j);
    return allowed;
}

/* "allowed" or "denied": a Deployment without a team label in ns. */
static bool allowed_in(struct fix *f, const char *ns)
{
    return admit(f, "Deployment", ns, "{}", NULL, 0);
}

/* The status of GET /readyz; its body into body[cap]. */
static long readyz(struct fix *f, char *body, size_t cap)
{
    char url[256];

    wht_env_url(&f->env, "/readyz", url, sizeof(url));
    assert_int_equal(tls_client_request(f->client, "GET", url, NULL, 0, NULL, &f->resp), 0);
    (void)snprintf(body, cap, "%.*s", (int)f->resp.body.len,
                   f->resp.body.ptr != NULL ? f->resp.body.ptr : "");
    return f->resp.status;
}

/* Polls /readyz until it answers want, or fails at the deadline. */
static void wait_ready(struct fix *f, long want, char *body, size_t cap)
{
    uint64_t end = cm_time_mono_ns() + (uint64_t)DEADLINE_MS * 1000000u;

    while (readyz(f, body, cap) != want) {
        if (cm_time_mono_ns() > end) {
            wht_env_dump_log(&f->env);
            fail_msg("/readyz did not answer %ld (last: %s)", want, body);
        }
        proc_nap_ms(20);
    }
}

/* Polls until ns's verdict is want, or fails at the deadline. */
static void wait_verdict(struct fix *f, const char *ns, bool want)
{
    uint64_t end = cm_time_mono_ns() + (uint64_t)DEADLINE_MS * 1000000u;

    while (allowed_in(f, ns) != want) {
        if (cm_time_mono_ns() > end) {
            wht_env_dump_log(&f->env);
            fail_msg("namespace %s: verdict did not become %s", ns, want ? "allowed" : "denied");
        }
        proc_nap_ms(20);
    }
}

/* The value of a metric line "name value" in /metrics (-2 when absent). */
static long long metric(struct fix *f, const char *name)
{
    char url[256];
    char needle[128];
    const char *p;
    long long v = -2;

    wht_env_url(&f->env, "/metrics", url, sizeof(url));
    assert_int_equal(tls_client_request(f->client, "GET", url, NULL, 0, NULL, &f->resp), 0);
    assert_int_equal(f->resp.status, 200);
    (void)snprintf(needle, sizeof(needle), "\n%s ", name);
    p = strstr(f->resp.body.ptr, needle);
    if (p != NULL) {
        char *end = NULL;

        v = strtoll(p + strlen(needle), &end, 10);
    }
    return v;
}

static void test_follows_namespace_labels(void **state)
{
    struct fix *f = *state;
    char msg[1024];

    wait_verdict(f, "shop", false);
    assert_true(allowed_in(f, "lab"));
    /* A namespace the webhook does not know: its labels are not known, so the rule it
     * does not pass denies, saying so; counted. */
    assert_false(admit(f, "Deployment", "ghost", "{}", msg, sizeof(msg)));
    if (strstr(msg, NOT_KNOWN("ghost")) == NULL)
        fail_msg("denial without the reason: %s", msg);
    assert_true(admit(f, "Deployment", "ghost", "{\"team\":\"a\"}", NULL, 0));
    assert_true(metric(f, "lockwarden_webhook_namespace_unknown_total") >= 1);
    assert_int_equal(metric(f, "lockwarden_webhook_namespaces_known"), 2);
    assert_true(metric(f, "lockwarden_webhook_namespace_snapshot_age_seconds") >= 0);

    /* Labels change in the cluster: the verdicts follow. */
    assert_int_equal(set_ns(f->kube, "shop", "dev"), 0);
    assert_int_equal(set_ns(f->kube, "lab", "prod"), 0);
    wait_verdict(f, "shop", true);
    wait_verdict(f, "lab", false);
}

static void test_keeps_last_labels_on_500(void **state)
{
    struct fix *f = *state;
    struct fake_kube_rule rule = {"GET", "/api/v1/namespaces", NULL, FAKE_KUBE_FAULT_500, 0, 0};
    char body[512];
    uint64_t end;

    wait_verdict(f, "shop", false);
    wait_ready(f, 200, body, sizeof(body));
    assert_int_equal(fake_kube_inject(f->kube, &rule), 0);
    /* A label change the webhook cannot see while the API server fails. */
    assert_int_equal(set_ns(f->kube, "shop", "dev"), 0);
    end = cm_time_mono_ns() + (uint64_t)DEADLINE_MS * 1000000u;
    while (metric(f, "lockwarden_webhook_namespace_refresh_failures_total") < 1) {
        if (cm_time_mono_ns() > end)
            fail_msg("no namespace refresh failure counted");
        proc_nap_ms(20);
    }
    /* The last snapshot keeps serving, and the pod stays ready. */
    assert_int_equal(readyz(f, body, sizeof(body)), 200);
    assert_false(allowed_in(f, "shop"));
    assert_true(allowed_in(f, "lab"));
    assert_int_equal(metric(f, "lockwarden_webhook_namespaces_known"), 2);
    assert_true(proc_log_count(&f->env.proc, "cannot list namespaces") >= 1);
    /* The API server recovers: the change arrives. */
    fake_kube_clear_faults(f->kube);
    wait_verdict(f, "shop", true);
}

/* The API server refuses the list at start: not ready, saying why; admission meanwhile
 * denies what a namespaceSelector rule would catch and judges the rest as usual; the
 * first successful list makes the pod ready and the labels known. */
static void test_not_ready_until_listed(void **state)
{
    struct fix *f = *state;
    char body[512];
    char msg[1024];
    uint64_t end = cm_time_mono_ns() + (uint64_t)DEADLINE_MS * 1000000u;

    /* 503 from the start; the reason names the last error once a list has failed. */
    while (readyz(f, body, sizeof(body)) != 503 || strstr(body, "last error: ") == NULL) {
        assert_int_equal(f->resp.status, 503);
        if (cm_time_mono_ns() > end)
            fail_msg("/readyz never named the list error: %s", body);
        proc_nap_ms(20);
    }
    if (strncmp(body, ready_reason, strlen(ready_reason)) != 0 ||
        strstr(body, "namespaces is forbidden") == NULL ||
        strchr(body, '\n') != body + strlen(body) - 1)
        fail_msg("readyz reason: %s", body);

    /* Served meanwhile: the namespaceSelector rule's failure denies, saying why. */
    assert_false(admit(f, "Deployment", "shop", "{}", msg, sizeof(msg)));
    if (strstr(msg, NOT_KNOWN("shop")) == NULL || strstr(msg, "prod-team") == NULL ||
        strstr(msg, "need team") == NULL)
        fail_msg("denial: %s", msg);
    assert_false(admit(f, "Deployment", "lab", "{}", NULL, 0));
    /* What passes the rule anyway is allowed. */
    assert_true(admit(f, "Deployment", "shop", "{\"team\":\"a\"}", NULL, 0));
    /* The policy without namespaceSelector judges as usual. */
    assert_false(admit(f, "StatefulSet", "shop", "{}", msg, sizeof(msg)));
    if (strstr(msg, "sts-app") == NULL || strstr(msg, "not known yet") != NULL)
        fail_msg("denial: %s", msg);
    assert_true(admit(f, "StatefulSet", "shop", "{\"app\":\"a\"}", NULL, 0));
    assert_true(metric(f, "lockwarden_webhook_namespace_unknown_total") >= 4);
    assert_int_equal(metric(f, "lockwarden_webhook_namespaces_known"), 0);
    assert_true(proc_log_count(&f->env.proc, "not ready until a list succeeds") >= 1);

    /* The API server lets it list: ready, and the labels decide. */
    fake_kube_clear_faults(f->kube);
    wait_ready(f, 200, body, sizeof(body));
    assert_string_equal(body, "ok\n");
    assert_false(admit(f, "Deployment", "shop", "{}", msg, sizeof(msg)));
    assert_null(strstr(msg, "not known yet"));
    assert_true(allowed_in(f, "lab"));
    assert_int_equal(metric(f, "lockwarden_webhook_namespaces_known"), 2);
}

/* Refreshed hourly: a namespace created after the list is judged as not known, and the
 * miss brings the next list forward, after which its labels decide. */
static void test_new_namespace_listed_early(void **state)
{
    struct fix *f = *state;
    char body[512];
    char msg[1024];

    wait_ready(f, 200, body, sizeof(body));
    assert_false(allowed_in(f, "shop"));
    assert_int_equal(set_ns(f->kube, "fresh", "dev"), 0);
    assert_false(admit(f, "Deployment", "fresh", "{}", msg, sizeof(msg)));
    if (strstr(msg, NOT_KNOWN("fresh")) == NULL)
        fail_msg("denial: %s", msg);
    /* Only the kick can list it within the deadline (the refresh is an hour). */
    wait_verdict(f, "fresh", true);
    assert_int_equal(metric(f, "lockwarden_webhook_namespaces_known"), 3);
}

static void test_warns_without_source(void **state)
{
    struct fix *f = *state;
    char body[512];

    /* No source: the rule matches nothing (as before), and the load said so. */
    assert_true(allowed_in(f, "shop"));
    assert_true(proc_log_count(&f->env.proc, "policies use namespaceSelector") >= 1);
    assert_int_equal(metric(f, "lockwarden_webhook_namespaces_known"), -2);
    /* Readiness does not wait for labels nobody asked for. */
    assert_int_equal(readyz(f, body, sizeof(body)), 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_follows_namespace_labels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keeps_last_labels_on_500, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_ready_until_listed, setup_refused, teardown),
        cmocka_unit_test_setup_teardown(test_new_namespace_listed_early, setup_slow, teardown),
        cmocka_unit_test_setup_teardown(test_warns_without_source, setup_plain, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
