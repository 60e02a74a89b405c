/* SPDX-License-Identifier: Apache-2.0 */
/* test_wh_nslabels.c - the namespace-label map: building it from a Namespace list,
 * lookups (known, unknown, without labels, duplicates, empty, no map), pinning across a
 * swap with concurrent readers; the holder's listed state and kicks; and the refresher
 * against the fake API server (first list failing, retry backoff, kick, later failure).
 * Admission with these labels: test_wh_admission_ns.c. */
#include "webhook/wh_int.h"
#include "tests/support/fake_kube.h"
#include "tests/support/kube_testutil.h"
#include "tests/support/proc.h"

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

static void test_listed_and_kick_without_thread(void **state)
{
    struct wh_metrics metrics;
    struct wh_nslabels l;
    char err[64] = "x";

    (void)state;
    assert_int_equal(wh_metrics_init(&metrics), 0);
    assert_int_equal(wh_nslabels_init(&l, &metrics), 0);
    /* No list yet, no attempt finished: not listed, no error. */
    assert_false(wh_nslabels_listed(&l, err, sizeof(err)));
    assert_string_equal(err, "");
    wh_nslabels_kick(&l); /* no thread: nothing to wake */
    wh_nslabels_swap(&l, map_of(two_ns));
    assert_true(wh_nslabels_listed(&l, err, sizeof(err)));
    wh_nslabels_cleanup(&l);
    wh_metrics_cleanup(&metrics);
}

/* Polls cond(l) until true, or fails at the deadline. */
static void wait_for(bool (*cond)(struct wh_nslabels *l, void *ctx), struct wh_nslabels *l,
                     void *ctx, const char *what)
{
    uint64_t end = cm_time_mono_ns() + 15000ull * 1000000u;

    while (!cond(l, ctx)) {
        if (cm_time_mono_ns() > end)
            fail_msg("timed out waiting for %s", what);
        proc_nap_ms(20);
    }
}

static bool failures_at_least(struct wh_nslabels *l, void *ctx)
{
    return atomic_load(&l->metrics->ns_refresh_failures) >= *(unsigned long long *)ctx;
}

static bool is_listed(struct wh_nslabels *l, void *ctx)
{
    char err[256];

    (void)ctx;
    return wh_nslabels_listed(l, err, sizeof(err));
}

static bool knows(struct wh_nslabels *l, void *ctx)
{
    struct wh_nsmap *m = wh_nslabels_acquire(l);
    bool found = false;

    (void)wh_nsmap_lookup(m, ctx, &found);
    wh_nsmap_release(m);
    return found;
}

static int add_ns(struct fake_kube *k, const char *name)
{
    char json[256];

    (void)snprintf(json, sizeof(json),
                   "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\","
                   "\"labels\":{\"env\":\"prod\"}}}",
                   name);
    return fake_kube_add_object_json(k, json) == 1 ? 0 : -1;
}

/* The refresher against the fake API server, refreshing only hourly: the first list
 * fails (not listed, the error kept), the retry backoff lists soon after the server
 * recovers, a kick lists a namespace created since, and a later failure keeps the
 * last map and the listed state. */
static void test_refresher(void **state)
{
    struct fake_kube_rule fail500 = {"GET", "/api/v1/namespaces", NULL, FAKE_KUBE_FAULT_500, 0, 0};
    struct wh_metrics metrics;
    struct wh_nslabels l;
    struct wh_config c;
    struct fake_kube *k = NULL;
    struct cm_err e;
    char dir[512];
    char err[256];
    unsigned long long n;
    size_t lists;

    (void)state;
    assert_int_equal(kube_test_mkdtemp(dir, sizeof(dir)), 0);
    assert_int_equal(fake_kube_start(NULL, &k), 0);
    assert_int_equal(add_ns(k, "shop"), 0);
    assert_int_equal(fake_kube_inject(k, &fail500), 0);
    wh_config_init(&c);
    c.ns_labels_from_cluster = true;
    c.ns_refresh_s = 3600;
    (void)snprintf(c.kubeconfig, sizeof(c.kubeconfig), "%s/kubeconfig", dir);
    assert_int_equal(fake_kube_write_kubeconfig(k, c.kubeconfig, NULL, false), 0);
    assert_int_equal(wh_metrics_init(&metrics), 0);
    assert_int_equal(wh_nslabels_init(&l, &metrics), 0);
    if (wh_nslabels_start(&l, &c, &e) != 0)
        fail_msg("start: %s", e.msg);

    n = 1;
    wait_for(failures_at_least, &l, &n, "a failed list");
    assert_false(wh_nslabels_listed(&l, err, sizeof(err)));
    assert_true(err[0] != '\0');
    assert_null(strchr(err, '\n'));
    assert_null(wh_nslabels_acquire(&l));

    /* The server recovers: the backoff (not the hourly refresh) lists it. */
    fake_kube_clear_faults(k);
    wait_for(is_listed, &l, NULL, "the first successful list");
    assert_true(knows(&l, "shop"));

    /* A namespace created since: a kick lists it. */
    assert_int_equal(add_ns(k, "newns"), 0);
    assert_false(knows(&l, "newns"));
    wh_nslabels_kick(&l);
    wait_for(knows, &l, "newns", "the kicked list");

    /* Failing later: still listed, the last map serves. */
    assert_int_equal(fake_kube_inject(k, &fail500), 0);
    n = atomic_load(&metrics.ns_refresh_failures) + 1;
    lists = fake_kube_request_match(k, "GET", "/api/v1/namespaces", NULL);
    wh_nslabels_kick(&l);
    wait_for(failures_at_least, &l, &n, "a failed kicked list");
    assert_true(fake_kube_request_match(k, "GET", "/api/v1/namespaces", NULL) > lists);
    assert_true(wh_nslabels_listed(&l, err, sizeof(err)));
    assert_true(knows(&l, "newns"));

    wh_nslabels_cleanup(&l);
    wh_metrics_cleanup(&metrics);
    fake_kube_stop(k);
    kube_test_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_swap_pins),
        cmocka_unit_test(test_concurrent_readers),
        cmocka_unit_test(test_listed_and_kick_without_thread),
        cmocka_unit_test(test_refresher),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
