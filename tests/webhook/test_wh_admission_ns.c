/* SPDX-License-Identifier: Apache-2.0 */
/* test_wh_admission_ns.c - admission with namespace labels (wh_admission_handle_ns): a
 * namespace's labels from the map, a Namespace's own, an unlabelled namespace as {}, and
 * with a label source a namespace whose labels are not known yet (no list yet, or
 * created since the last one): a namespaceSelector rule it does not pass denies under
 * Enforce and warns under Audit, saying why, while other policies judge as usual. */
#include "webhook/wh_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#define UNKNOWN_NOTE(ns) "the labels of namespace \\\"" ns "\\\" are not known yet"

static const char two_ns[] =
    "[{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"prod\","
    "\"labels\":{\"env\":\"prod\"}}},"
    "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"dev\","
    "\"labels\":{\"env\":\"dev\"}}},"
    "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"bare\"}}]";

/* Enforce: team label in env=prod namespaces. */
static const char prod_team[] =
    "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: prod-team}\n"
    "spec:\n  validationFailureAction: %s\n  rules:\n  - name: need-team\n"
    "    match:\n      any:\n      - resources:\n          kinds: [Deployment, Namespace]\n"
    "          namespaceSelector: {matchLabels: {env: prod}}\n"
    "    validate:\n      message: need team\n"
    "      pattern: {metadata: {labels: {team: '?*'}}}\n";

/* Enforce, no namespaceSelector: an app label everywhere. */
static const char need_app[] =
    "---\napiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: need-app}\n"
    "spec:\n  validationFailureAction: Enforce\n  rules:\n  - name: app\n"
    "    match: {any: [{resources: {kinds: [Deployment]}}]}\n"
    "    validate:\n      message: need app\n"
    "      pattern: {metadata: {labels: {app: '?*'}}}\n";

/* Enforce everywhere but env=dev, for any kind (cluster-scoped ones too). */
static const char not_dev[] =
    "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: not-dev}\n"
    "spec:\n  validationFailureAction: Enforce\n  rules:\n  - name: need-team\n"
    "    match:\n      any:\n      - resources:\n          kinds: ['*']\n"
    "          namespaceSelector: {matchExpressions: [{key: env, operator: NotIn, "
    "values: [dev]}]}\n"
    "    validate:\n      message: need team\n"
    "      pattern: {metadata: {labels: {team: '?*'}}}\n";

struct fx {
    struct policy_set *set;
    struct wh_nsmap *map;
    struct policy_report *report;
    struct cm_buf resp;
    struct wh_verdict v;
    bool unknown;
};

static int setup(void **state)
{
    (void)state;
    policy_json_hooks_install();
    return 0;
}

static struct fx *fx_create(const char *policy_yaml)
{
    struct fx *f = cm_calloc(1, sizeof(*f));
    struct cm_err err;
    cJSON *items = cJSON_Parse(two_ns);

    assert_non_null(f);
    assert_non_null(items);
    if (policy_set_load("p.yaml", policy_yaml, strlen(policy_yaml), &f->set, &err) != 0)
        fail_msg("load: %s", err.msg);
    assert_int_equal(wh_nsmap_create(items, 1000, &f->map), 0);
    assert_int_equal(policy_report_create(&f->report), 0);
    cm_buf_init(&f->resp, WH_MAX_RESPONSE);
    wh_verdict_init(&f->v);
    return f;
}

static void fx_destroy(struct fx *f)
{
    wh_verdict_cleanup(&f->v);
    cm_buf_free(&f->resp);
    policy_report_destroy(f->report);
    wh_nsmap_release(f->map);
    policy_set_destroy(f->set);
    cm_free(f);
}

/* The decision for a CREATE of kind/name in ns ("" = cluster-scoped) with labels (a
 * JSON object text), through map (may be NULL) and with or without a label source. */
static enum wh_decision judge_ep(struct fx *f, enum wh_endpoint ep, const struct wh_nsmap *map,
                                 bool source, const char *kind, const char *ns, const char *labels)
{
    char body[2048];
    const char *api = strcmp(kind, "Deployment") == 0 ? "apps/v1" : "v1";
    int n;

    n = snprintf(body, sizeof(body),
                 "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
                 "\"request\":{\"uid\":\"u1\",\"operation\":\"CREATE\",\"name\":\"x\","
                 "\"namespace\":\"%s\",\"kind\":{\"group\":\"\",\"version\":\"v1\","
                 "\"kind\":\"%s\"},\"object\":{\"apiVersion\":\"%s\",\"kind\":\"%s\","
                 "\"metadata\":{\"name\":\"x\",\"labels\":%s}}}}",
                 ns, kind, api, kind, labels);
    assert_true(n > 0 && (size_t)n < sizeof(body));
    wh_verdict_cleanup(&f->v);
    wh_verdict_init(&f->v);
    f->unknown = false;
    assert_int_equal(wh_admission_handle_ns(f->set, map, source, ep, body, (size_t)n, f->report,
                                            &f->resp, &f->v, &f->unknown),
                     0);
    assert_int_equal(f->v.http_status, 200);
    return f->v.decision;
}

static enum wh_decision judge(struct fx *f, const struct wh_nsmap *map, bool source, const char *ns,
                              const char *labels)
{
    return judge_ep(f, WH_EP_VALIDATE, map, source, "Deployment", ns, labels);
}

static bool resp_has(const struct fx *f, const char *needle)
{
    return f->resp.ptr != NULL && strstr(f->resp.ptr, needle) != NULL;
}

static void test_known_labels(void **state)
{
    char y[2048];
    struct fx *f;

    (void)state;
    (void)snprintf(y, sizeof(y), prod_team, "Enforce");
    f = fx_create(y);
    assert_int_equal(judge(f, f->map, true, "prod", "{}"), WH_DEC_DENIED);
    assert_false(f->unknown);
    assert_false(resp_has(f, "not known yet"));
    assert_int_equal(judge(f, f->map, true, "dev", "{}"), WH_DEC_ALLOWED);
    assert_int_equal(judge(f, f->map, true, "bare", "{}"), WH_DEC_ALLOWED);
    assert_false(f->unknown);
    /* A Namespace is judged by its own labels, map or not, source or not. */
    assert_int_equal(judge_ep(f, WH_EP_VALIDATE, NULL, true, "Namespace", "", "{\"env\":\"prod\"}"),
                     WH_DEC_DENIED);
    assert_false(f->unknown);
    assert_int_equal(judge_ep(f, WH_EP_VALIDATE, NULL, true, "Namespace", "", "{\"env\":\"dev\"}"),
                     WH_DEC_ALLOWED);
    fx_destroy(f);
}

/* With a source: not listed yet (no map) or not in the map: not known yet, deny. */
static void test_unknown_denies_under_enforce(void **state)
{
    char y[2048];
    struct fx *f;

    (void)state;
    (void)snprintf(y, sizeof(y), prod_team, "Enforce");
    f = fx_create(y);
    assert_int_equal(judge(f, NULL, true, "prod", "{}"), WH_DEC_DENIED);
    assert_true(f->unknown);
    assert_true(resp_has(f, UNKNOWN_NOTE("prod")));
    assert_true(resp_has(f, "need team"));
    assert_true(resp_has(f, "\"code\":403"));
    assert_false(resp_has(f, "''")); /* nothing for the YAML quoting to double */
    /* Created since the last list: the same. */
    assert_int_equal(judge(f, f->map, true, "newns", "{}"), WH_DEC_DENIED);
    assert_true(f->unknown);
    assert_true(resp_has(f, UNKNOWN_NOTE("newns")));
    /* A resource that passes the rule anyway is allowed: its verdict does not turn on
     * the labels. */
    assert_int_equal(judge(f, NULL, true, "prod", "{\"team\":\"a\"}"), WH_DEC_ALLOWED);
    assert_true(f->unknown);
    assert_int_equal(judge(f, f->map, true, "newns", "{\"team\":\"a\"}"), WH_DEC_ALLOWED);
    /* Without a source the labels are not expected: the rule matches nothing (the
     * webhook warned at load), the namespace is still reported as unknown. */
    assert_int_equal(judge(f, NULL, false, "prod", "{}"), WH_DEC_ALLOWED);
    assert_true(f->unknown);
    assert_int_equal(judge(f, f->map, false, "newns", "{}"), WH_DEC_ALLOWED);
    /* The mutating webhook does not evaluate these rules. */
    assert_int_equal(judge_ep(f, WH_EP_MUTATE, NULL, true, "Deployment", "prod", "{}"),
                     WH_DEC_ALLOWED);
    fx_destroy(f);
}

static void test_unknown_warns_under_audit(void **state)
{
    char y[2048];
    struct fx *f;

    (void)state;
    (void)snprintf(y, sizeof(y), prod_team, "Audit");
    f = fx_create(y);
    assert_int_equal(judge(f, NULL, true, "prod", "{}"), WH_DEC_WARNED);
    assert_true(resp_has(f, "\"allowed\":true"));
    assert_true(resp_has(f, "\"warnings\":[\"policy prod-team/need-team: " UNKNOWN_NOTE("prod")));
    assert_int_equal(judge(f, f->map, true, "dev", "{}"), WH_DEC_ALLOWED);
    fx_destroy(f);
}

/* A policy without namespaceSelector judges as usual while labels are unknown. */
static void test_unrelated_policy_as_usual(void **state)
{
    char y[4096];
    char p[2048];
    struct fx *f;

    (void)state;
    (void)snprintf(p, sizeof(p), prod_team, "Enforce");
    (void)snprintf(y, sizeof(y), "%s%s", p, need_app);
    f = fx_create(y);
    /* Passes prod-team anyway, fails need-app: denied by need-app alone, no note. */
    assert_int_equal(judge(f, NULL, true, "prod", "{\"team\":\"a\"}"), WH_DEC_DENIED);
    assert_true(resp_has(f, "need-app"));
    assert_false(resp_has(f, "prod-team"));
    assert_false(resp_has(f, "not known yet"));
    /* Passes both: allowed. */
    assert_int_equal(judge(f, NULL, true, "prod", "{\"team\":\"a\",\"app\":\"w\"}"),
                     WH_DEC_ALLOWED);
    /* Fails prod-team only: denied by it, with the note. */
    assert_int_equal(judge(f, NULL, true, "prod", "{\"app\":\"w\"}"), WH_DEC_DENIED);
    assert_true(resp_has(f, "prod-team"));
    assert_false(resp_has(f, "need-app"));
    assert_true(resp_has(f, UNKNOWN_NOTE("prod")));
    fx_destroy(f);
}

/* A namespace known without labels has none ({}): NotIn selects it. Cluster-scoped
 * objects have no namespace labels to wait for. */
static void test_empty_labels_and_cluster_scope(void **state)
{
    struct fx *f = fx_create(not_dev);

    (void)state;
    assert_int_equal(judge(f, f->map, true, "bare", "{}"), WH_DEC_DENIED);
    assert_false(f->unknown);
    assert_false(resp_has(f, "not known yet"));
    assert_int_equal(judge(f, f->map, true, "dev", "{}"), WH_DEC_ALLOWED);
    assert_int_equal(judge(f, f->map, true, "prod", "{}"), WH_DEC_DENIED);
    /* A Namespace without labels: its own labels are {}. */
    assert_int_equal(judge_ep(f, WH_EP_VALIDATE, NULL, true, "Namespace", "", "{}"), WH_DEC_DENIED);
    assert_false(f->unknown);
    /* A cluster-scoped object: not unknown, and no namespace labels to match. */
    assert_int_equal(judge_ep(f, WH_EP_VALIDATE, NULL, true, "PersistentVolume", "", "{}"),
                     WH_DEC_ALLOWED);
    assert_false(f->unknown);
    fx_destroy(f);
}

/* Out of memory while judging an unknown namespace: every run answers CM_ENOMEM, a
 * 400/500, or the same denial; the run where no allocation fails denies. */
static void test_oom_loop(void **state)
{
    char y[2048];
    struct fx *f;
    const char body[] = "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
                        "\"request\":{\"uid\":\"u1\",\"operation\":\"CREATE\",\"name\":\"x\","
                        "\"namespace\":\"prod\",\"kind\":{\"group\":\"apps\",\"version\":\"v1\","
                        "\"kind\":\"Deployment\"},\"object\":{\"apiVersion\":\"apps/v1\","
                        "\"kind\":\"Deployment\",\"metadata\":{\"name\":\"x\"}}}}";
    bool fired = true;
    long n;

    (void)state;
    (void)snprintf(y, sizeof(y), prod_team, "Enforce");
    f = fx_create(y);
    for (n = 1; fired && n < 100000; n++) {
        struct policy_report *rep = NULL;
        struct cm_buf resp;
        struct wh_verdict v;
        bool unknown = false;
        int rc;

        assert_int_equal(policy_report_create(&rep), 0);
        cm_buf_init(&resp, WH_MAX_RESPONSE);
        wh_verdict_init(&v);
        cm_alloc_fault_set(n);
        rc = wh_admission_handle_ns(f->set, NULL, true, WH_EP_VALIDATE, body, sizeof(body) - 1, rep,
                                    &resp, &v, &unknown);
        fired = cm_alloc_fault_fired();
        cm_alloc_fault_set(0);
        assert_true(rc == 0 || rc == CM_ENOMEM);
        if (rc == 0 && v.http_status == 200) {
            assert_int_equal(v.decision, WH_DEC_DENIED);
            assert_non_null(strstr(resp.ptr, UNKNOWN_NOTE("prod")));
        } else if (rc == 0) {
            assert_true(v.http_status == 400 || v.http_status == 500);
        }
        assert_true(fired || (rc == 0 && v.decision == WH_DEC_DENIED));
        wh_verdict_cleanup(&v);
        cm_buf_free(&resp);
        policy_report_destroy(rep);
    }
    assert_false(fired);
    assert_true(n > 2);
    fx_destroy(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_labels),
        cmocka_unit_test(test_unknown_denies_under_enforce),
        cmocka_unit_test(test_unknown_warns_under_audit),
        cmocka_unit_test(test_unrelated_policy_as_usual),
        cmocka_unit_test(test_empty_labels_and_cluster_scope),
        cmocka_unit_test(test_oom_loop),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
