/* SPDX-License-Identifier: Apache-2.0 */
/* test_wh_nslabels.c - the namespace-label map: building it from a Namespace list,
 * lookups (known, unknown, without labels, duplicates, empty, no map), pinning across a
 * swap with concurrent readers, and admission seeing a namespace's labels (or a
 * Namespace's own) through namespaceSelector. */
#include "webhook/wh_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

static int setup(void **state)
{
    (void)state;
    policy_json_hooks_install();
    return 0;
}

static struct wh_nsmap *map_of(const char *json)
{
    struct wh_nsmap *m = NULL;
    cJSON *items = cJSON_Parse(json);

    assert_non_null(items);
    assert_int_equal(wh_nsmap_create(items, 1000, &m), 0);
    return m;
}

static const char two_ns[] =
    "[{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"prod\","
    "\"labels\":{\"env\":\"prod\"},\"annotations\":{\"a\":\"b\"}}},"
    "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"dev\","
    "\"labels\":{\"env\":\"dev\"}}},"
    "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"bare\"}},"
    "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{}},"
    "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"dev\","
    "\"labels\":{\"env\":\"dev2\"}}}]";

static void test_lookup(void **state)
{
    struct wh_nsmap *m = map_of(two_ns);
    const cJSON *l;
    bool found;

    (void)state;
    assert_int_equal(m->n, 3); /* nameless dropped, duplicate "dev" merged */
    l = wh_nsmap_lookup(m, "prod", &found);
    assert_true(found);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(l, "env")->valuestring, "prod");
    /* The later duplicate wins. */
    l = wh_nsmap_lookup(m, "dev", &found);
    assert_true(found);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(l, "env")->valuestring, "dev2");
    assert_null(wh_nsmap_lookup(m, "bare", &found));
    assert_true(found);
    assert_null(wh_nsmap_lookup(m, "nope", &found));
    assert_false(found);
    assert_null(wh_nsmap_lookup(m, "", &found));
    assert_false(found);
    assert_null(wh_nsmap_lookup(NULL, "prod", &found));
    assert_false(found);
    /* Annotations are not kept. */
    assert_null(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(m->tree_, 0), "metadata"),
        "annotations"));
    assert_int_equal(m->built_at, 1000);
    wh_nsmap_release(m);
    wh_nsmap_release(NULL);

    m = map_of("[]");
    assert_int_equal(m->n, 0);
    assert_null(wh_nsmap_lookup(m, "prod", &found));
    assert_false(found);
    wh_nsmap_release(m);
}

static void test_swap_pins(void **state)
{
    struct wh_metrics metrics;
    struct wh_nslabels l;
    struct wh_nsmap *a;
    struct wh_nsmap *b;
    bool found;

    (void)state;
    assert_int_equal(wh_metrics_init(&metrics), 0);
    assert_int_equal(wh_nslabels_init(&l, &metrics), 0);
    assert_null(wh_nslabels_acquire(&l));
    wh_nslabels_swap(&l, map_of(two_ns));
    assert_int_equal(atomic_load(&metrics.ns_known), 3);
    assert_int_equal(atomic_load(&metrics.ns_built_at), 1000);
    a = wh_nslabels_acquire(&l);
    wh_nslabels_swap(&l, map_of("[{\"metadata\":{\"name\":\"only\"}}]"));
    b = wh_nslabels_acquire(&l);
    /* The old map still answers for whoever holds it. */
    assert_non_null(wh_nsmap_lookup(a, "prod", &found));
    assert_null(wh_nsmap_lookup(b, "prod", &found));
    assert_false(found);
    (void)wh_nsmap_lookup(b, "only", &found);
    assert_true(found);
    wh_nsmap_release(a);
    wh_nsmap_release(b);
    wh_nslabels_cleanup(&l);
    wh_metrics_cleanup(&metrics);
}

struct race {
    struct wh_nslabels *l;
    atomic_bool stop;
};

static void *reader(void *p)
{
    struct race *r = p;
    unsigned long n = 0;

    while (!atomic_load(&r->stop) || n < 1000) {
        struct wh_nsmap *m = wh_nslabels_acquire(r->l);
        bool found;

        (void)wh_nsmap_lookup(m, "prod", &found);
        wh_nsmap_release(m);
        n++;
    }
    return NULL;
}

static void test_concurrent_readers(void **state)
{
    struct wh_metrics metrics;
    struct wh_nslabels l;
    struct race r;
    pthread_t t[4];
    int i;

    (void)state;
    assert_int_equal(wh_metrics_init(&metrics), 0);
    assert_int_equal(wh_nslabels_init(&l, &metrics), 0);
    r.l = &l;
    atomic_init(&r.stop, false);
    for (i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, reader, &r), 0);
    for (i = 0; i < 200; i++)
        wh_nslabels_swap(&l, map_of(two_ns));
    atomic_store(&r.stop, true);
    for (i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    wh_nslabels_cleanup(&l);
    wh_metrics_cleanup(&metrics);
}

static const char policy_yaml[] =
    "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: prod-team}\n"
    "spec:\n  validationFailureAction: Enforce\n  rules:\n  - name: need-team\n"
    "    match:\n      any:\n      - resources:\n          kinds: [Deployment, Namespace]\n"
    "          namespaceSelector: {matchLabels: {env: prod}}\n"
    "    validate:\n      message: need team\n"
    "      pattern: {metadata: {labels: {team: '?*'}}}\n";

static struct policy_set *load_policy(void)
{
    struct policy_loader *ld = NULL;
    struct policy_set *s = NULL;
    struct cm_err err;

    assert_int_equal(policy_loader_create(&ld, &err), 0);
    assert_int_equal(policy_loader_add(ld, "p.yaml", policy_yaml, sizeof(policy_yaml) - 1, &err),
                     0);
    assert_int_equal(policy_loader_finish(ld, &s, &err), 0);
    assert_true(policy_set_uses_namespace_selector(s));
    return s;
}

/* The decision for a Deployment without a team label in ns (or a Namespace ns when
 * is_ns, labelled env=prod by itself). */
static enum wh_decision judge(const struct policy_set *s, const struct wh_nsmap *m, const char *ns,
                              bool is_ns, bool *unknown)
{
    char body[2048];
    struct policy_report *rep = NULL;
    struct cm_buf resp;
    struct wh_verdict v;
    enum wh_decision d;
    int n;

    if (is_ns)
        n = snprintf(body, sizeof(body),
                     "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
                     "\"request\":{\"uid\":\"u1\",\"operation\":\"CREATE\",\"name\":\"%s\","
                     "\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Namespace\"},"
                     "\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
                     "\"metadata\":{\"name\":\"%s\",\"labels\":{\"env\":\"prod\"}}}}}",
                     ns, ns);
    else
        n = snprintf(body, sizeof(body),
                     "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
                     "\"request\":{\"uid\":\"u1\",\"operation\":\"CREATE\",\"name\":\"web\","
                     "\"namespace\":\"%s\",\"kind\":{\"group\":\"apps\",\"version\":\"v1\","
                     "\"kind\":\"Deployment\"},\"object\":{\"apiVersion\":\"apps/v1\","
                     "\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
                     "\"namespace\":\"%s\"}}}}",
                     ns, ns);
    assert_true(n > 0 && (size_t)n < sizeof(body));
    assert_int_equal(policy_report_create(&rep), 0);
    cm_buf_init(&resp, WH_MAX_RESPONSE);
    wh_verdict_init(&v);
    *unknown = false;
    assert_int_equal(
        wh_admission_handle_ns(s, m, WH_EP_VALIDATE, body, (size_t)n, rep, &resp, &v, unknown), 0);
    assert_int_equal(v.http_status, 200);
    d = v.decision;
    wh_verdict_cleanup(&v);
    cm_buf_free(&resp);
    policy_report_destroy(rep);
    return d;
}

static void test_admission_sees_labels(void **state)
{
    struct policy_set *s = load_policy();
    struct wh_nsmap *m = map_of(two_ns);
    bool unknown;

    (void)state;
    assert_int_equal(judge(s, m, "prod", false, &unknown), WH_DEC_DENIED);
    assert_false(unknown);
    assert_int_equal(judge(s, m, "dev", false, &unknown), WH_DEC_ALLOWED);
    assert_false(unknown);
    assert_int_equal(judge(s, m, "bare", false, &unknown), WH_DEC_ALLOWED);
    assert_false(unknown);
    /* Unknown namespace or no map: no labels (as before), and counted. */
    assert_int_equal(judge(s, m, "nope", false, &unknown), WH_DEC_ALLOWED);
    assert_true(unknown);
    assert_int_equal(judge(s, NULL, "prod", false, &unknown), WH_DEC_ALLOWED);
    assert_true(unknown);
    /* A Namespace is judged by its own labels, map or not. */
    assert_int_equal(judge(s, NULL, "newns", true, &unknown), WH_DEC_DENIED);
    assert_false(unknown);
    wh_nsmap_release(m);
    policy_set_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_swap_pins),
        cmocka_unit_test(test_concurrent_readers),
        cmocka_unit_test(test_admission_sees_labels),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
