/* SPDX-License-Identifier: Apache-2.0 */
/* test_wh_metrics.c - counters and their Prometheus text: requests by endpoint and
 * decision, denials by policy and rule (label escaping, the slot cap on both sides),
 * the cumulative latency histogram. */
#include "webhook/wh_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *format(struct wh_metrics *m)
{
    struct cm_buf out;
    char *s;

    cm_buf_init(&out, 1u << 22);
    assert_int_equal(wh_metrics_format(m, 7, &out), 0);
    s = cm_buf_take(&out, NULL);
    assert_non_null(s);
    return s;
}

static void observe(struct wh_metrics *m, enum wh_endpoint ep, enum wh_decision d,
                    const char *policy, const char *rule, uint64_t ns)
{
    struct wh_verdict v;

    wh_verdict_init(&v);
    v.decision = d;
    if (policy != NULL) {
        v.denied_policy[0] = policy;
        v.denied_rule[0] = rule;
        v.n_denied = 1;
    }
    wh_metrics_observe(m, ep, &v, ns);
    wh_verdict_cleanup(&v);
}

static void test_counts_and_histogram(void **state)
{
    struct wh_metrics *m = malloc(sizeof(*m));
    char *s;

    (void)state;
    assert_non_null(m);
    assert_int_equal(wh_metrics_init(m), 0);
    observe(m, WH_EP_VALIDATE, WH_DEC_DENIED, "p", "r", 50000);       /* 50 us */
    observe(m, WH_EP_VALIDATE, WH_DEC_DENIED, "p", "r", 300000);      /* 0.3 ms */
    observe(m, WH_EP_MUTATE, WH_DEC_PATCHED, NULL, NULL, 2000000000); /* 2 s: +Inf */
    s = format(m);
    assert_non_null(strstr(s, "lockwarden_webhook_requests_total{endpoint=\"validate\","
                              "decision=\"denied\"} 2\n"));
    assert_non_null(strstr(s, "lockwarden_webhook_requests_total{endpoint=\"mutate\","
                              "decision=\"patched\"} 1\n"));
    assert_non_null(strstr(s, "lockwarden_webhook_denials_total{policy=\"p\",rule=\"r\"} 2\n"));
    assert_non_null(strstr(s, "lockwarden_webhook_request_duration_seconds_bucket{endpoint="
                              "\"validate\",le=\"0.0001\"} 1\n"));
    assert_non_null(strstr(s, "lockwarden_webhook_request_duration_seconds_bucket{endpoint="
                              "\"validate\",le=\"0.0005\"} 2\n"));
    assert_non_null(strstr(s, "lockwarden_webhook_request_duration_seconds_bucket{endpoint="
                              "\"mutate\",le=\"1\"} 0\n"));
    assert_non_null(strstr(s, "lockwarden_webhook_request_duration_seconds_bucket{endpoint="
                              "\"mutate\",le=\"+Inf\"} 1\n"));
    assert_non_null(strstr(s, "lockwarden_webhook_request_duration_seconds_count{endpoint="
                              "\"validate\"} 2\n"));
    assert_non_null(strstr(s, "lockwarden_webhook_policy_rules 7\n"));
    assert_non_null(strstr(s, "# TYPE lockwarden_webhook_request_duration_seconds histogram\n"));
    free(s);
    wh_metrics_cleanup(m);
    free(m);
}

static void test_label_escaping(void **state)
{
    struct wh_metrics *m = malloc(sizeof(*m));
    char *s;

    (void)state;
    assert_non_null(m);
    assert_int_equal(wh_metrics_init(m), 0);
    observe(m, WH_EP_VALIDATE, WH_DEC_DENIED, "ns/p\"x", "a\\b\nc", 1000);
    s = format(m);
    assert_non_null(strstr(s, "{policy=\"ns/p\\\"x\",rule=\"a\\\\b\\nc\"} 1\n"));
    free(s);
    wh_metrics_cleanup(m);
    free(m);
}

static void test_denial_slots_capped(void **state)
{
    struct wh_metrics *m = malloc(sizeof(*m));
    char name[32];
    char *s;
    size_t i;

    (void)state;
    assert_non_null(m);
    assert_int_equal(wh_metrics_init(m), 0);
    for (i = 0; i < WH_DENIAL_SLOTS; i++) {
        (void)snprintf(name, sizeof(name), "p%zu", i);
        observe(m, WH_EP_VALIDATE, WH_DEC_DENIED, name, "r", 1000);
    }
    s = format(m);
    assert_null(strstr(s, "_other")); /* the last slot still fits */
    free(s);
    observe(m, WH_EP_VALIDATE, WH_DEC_DENIED, "one-too-many", "r", 1000);
    s = format(m);
    assert_non_null(strstr(s, "{policy=\"_other\",rule=\"_other\"} 1\n"));
    assert_null(strstr(s, "one-too-many"));
    free(s);
    wh_metrics_cleanup(m);
    free(m);
}

static void test_format_cap(void **state)
{
    struct wh_metrics *m = malloc(sizeof(*m));
    struct cm_buf out;

    (void)state;
    assert_non_null(m);
    assert_int_equal(wh_metrics_init(m), 0);
    cm_buf_init(&out, 100);
    assert_int_equal(wh_metrics_format(m, 0, &out), CM_ETOOBIG);
    cm_buf_free(&out);
    wh_metrics_cleanup(m);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_histogram),
        cmocka_unit_test(test_label_escaping),
        cmocka_unit_test(test_denial_slots_capped),
        cmocka_unit_test(test_format_cap),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
