/* SPDX-License-Identifier: Apache-2.0 */
/* test_webhook_nslabels.c - the real `lockwarden webhook` with
 * --namespace-labels-from-cluster against the fake kube-apiserver: a namespaceSelector
 * rule denies in the labelled namespace only, follows a label change, and keeps the last
 * labels serving while the API server answers 500. Without the source, the webhook warns
 * at load that such rules match nothing. */
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
    "      pattern: {metadata: {labels: {team: '?*'}}}\n";

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

static int setup_common(void **state, bool with_source)
{
    struct fix *f = calloc(1, sizeof(*f));
    const char *extra_src[] = {"--policies",
                               NULL,
                               "--namespace-labels-from-cluster",
                               "--kubeconfig",
                               NULL,
                               "--namespace-refresh",
                               "1",
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
    return wht_env_start_or_dump(&f->env, with_source ? extra_src : extra_plain) == 0 ? 0 : -1;
}

static int setup(void **state)
{
    return setup_common(state, true);
}

static int setup_plain(void **state)
{
    return setup_common(state, false);
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

/* "allowed" or "denied": a Deployment without a team label in ns. */
static bool allowed_in(struct fix *f, const char *ns)
{
    char body[1024];
    char url[256];
    cJSON *j;
    const cJSON *a;
    bool allowed;
    int n;

    n = snprintf(body, sizeof(body),
                 "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
                 "\"request\":{\"uid\":\"u-%s\",\"operation\":\"CREATE\",\"name\":\"web\","
                 "\"namespace\":\"%s\",\"kind\":{\"group\":\"apps\",\"version\":\"v1\","
                 "\"kind\":\"Deployment\"},\"object\":{\"apiVersion\":\"apps/v1\","
                 "\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\",\"namespace\":\"%s\"}}}}",
                 ns, ns, ns);
    assert_true(n > 0 && (size_t)n < sizeof(body));
    wht_env_url(&f->env, "/validate", url, sizeof(url));
    assert_int_equal(tls_client_post_review(f->client, url, body, (size_t)n, &f->resp), 0);
    assert_int_equal(f->resp.status, 200);
    j = cJSON_ParseWithLength(f->resp.body.ptr, f->resp.body.len);
    assert_non_null(j);
    a = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "response"),
                                         "allowed");
    assert_true(cJSON_IsBool(a));
    allowed = cJSON_IsTrue(a);
    cJSON_Delete(j);
    return allowed;
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

    wait_verdict(f, "shop", false);
    assert_true(allowed_in(f, "lab"));
    /* A namespace the webhook does not know: no labels, allowed, counted. */
    assert_true(allowed_in(f, "ghost"));
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
    uint64_t end;

    wait_verdict(f, "shop", false);
    assert_int_equal(fake_kube_inject(f->kube, &rule), 0);
    /* A label change the webhook cannot see while the API server fails. */
    assert_int_equal(set_ns(f->kube, "shop", "dev"), 0);
    end = cm_time_mono_ns() + (uint64_t)DEADLINE_MS * 1000000u;
    while (metric(f, "lockwarden_webhook_namespace_refresh_failures_total") < 1) {
        if (cm_time_mono_ns() > end)
            fail_msg("no namespace refresh failure counted");
        proc_nap_ms(20);
    }
    /* The last snapshot keeps serving. */
    assert_false(allowed_in(f, "shop"));
    assert_true(allowed_in(f, "lab"));
    assert_int_equal(metric(f, "lockwarden_webhook_namespaces_known"), 2);
    assert_true(proc_log_count(&f->env.proc, "cannot list namespaces") >= 1);
    /* The API server recovers: the change arrives. */
    fake_kube_clear_faults(f->kube);
    wait_verdict(f, "shop", true);
}

static void test_warns_without_source(void **state)
{
    struct fix *f = *state;

    /* No source: the rule matches nothing (as before), and the load said so. */
    assert_true(allowed_in(f, "shop"));
    assert_true(proc_log_count(&f->env.proc, "policies use namespaceSelector") >= 1);
    assert_int_equal(metric(f, "lockwarden_webhook_namespaces_known"), -2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_follows_namespace_labels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keeps_last_labels_on_500, setup, teardown),
        cmocka_unit_test_setup_teardown(test_warns_without_source, setup_plain, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
