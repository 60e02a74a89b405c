/* SPDX-License-Identifier: Apache-2.0 */
/* wh_metrics.c - the webhook's counters and their Prometheus text exposition. */
#include "webhook/wh_int.h"

#include <stdio.h>
#include <string.h>

/* Upper bounds in seconds; the last bucket is +Inf. */
static const double lat_le[WH_LAT_BUCKETS - 1] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0};

int wh_metrics_init(struct wh_metrics *m)
{
    memset(m, 0, sizeof(*m));
    return pthread_mutex_init(&m->denial_mu, NULL) == 0 ? 0 : CM_ENOMEM;
}

void wh_metrics_cleanup(struct wh_metrics *m)
{
    pthread_mutex_destroy(&m->denial_mu);
}

static void count_denial(struct wh_metrics *m, const char *policy, const char *rule)
{
    size_t i;

    pthread_mutex_lock(&m->denial_mu);
    for (i = 0; i < m->n_denials; i++) {
        if (strcmp(m->denials[i].policy, policy) == 0 && strcmp(m->denials[i].rule, rule) == 0)
            break;
    }
    if (i == m->n_denials) {
        if (m->n_denials == WH_DENIAL_SLOTS || strlen(policy) >= sizeof(m->denials[0].policy) ||
            strlen(rule) >= sizeof(m->denials[0].rule)) {
            /* Capped: the label set stays bounded whatever the policies are. */
            m->denials_other++;
            pthread_mutex_unlock(&m->denial_mu);
            return;
        }
        (void)snprintf(m->denials[i].policy, sizeof(m->denials[i].policy), "%s", policy);
        (void)snprintf(m->denials[i].rule, sizeof(m->denials[i].rule), "%s", rule);
        m->n_denials++;
    }
    m->denials[i].count++;
    pthread_mutex_unlock(&m->denial_mu);
}

void wh_metrics_observe(struct wh_metrics *m, enum wh_endpoint ep, const struct wh_verdict *v,
                        uint64_t latency_ns)
{
    double s = (double)latency_ns / 1e9;
    size_t b;
    size_t i;

    if ((unsigned)ep >= WH_EP_COUNT_ || (unsigned)v->decision >= WH_DEC_COUNT_)
        return;
    atomic_fetch_add_explicit(&m->requests[ep][v->decision], 1, memory_order_relaxed);
    for (b = 0; b < WH_LAT_BUCKETS - 1 && s > lat_le[b]; b++)
        ;
    atomic_fetch_add_explicit(&m->lat_bucket[ep][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->lat_count[ep], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->lat_sum_ns[ep], latency_ns, memory_order_relaxed);
    if (v->decision == WH_DEC_DENIED) {
        for (i = 0; i < v->n_denied; i++)
            count_denial(m, v->denied_policy[i], v->denied_rule[i]);
    }
}

/* A label value: backslash, quote and newline escaped (exposition format). */
static int add_label(struct cm_buf *out, const char *s)
{
    int rc = 0;

    for (; rc == 0 && *s != '\0'; s++) {
        if (*s == '\\')
            rc = cm_buf_adds(out, "\\\\");
        else if (*s == '"')
            rc = cm_buf_adds(out, "\\\"");
        else if (*s == '\n')
            rc = cm_buf_adds(out, "\\n");
        else
            rc = cm_buf_addc(out, *s);
    }
    return rc;
}

static unsigned long long ld(atomic_ullong *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

static int head(struct cm_buf *out, const char *name, const char *type, const char *help)
{
    return cm_buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int format_requests(struct wh_metrics *m, struct cm_buf *out)
{
    static const char *const other[] = {"healthz", "readyz", "metrics", "notfound"};
    int rc = head(out, "lockwarden_webhook_requests_total", "counter",
                  "Admission requests answered, by endpoint and decision.");
    int e;
    int d;
    size_t i;

    for (e = 0; rc == 0 && e < WH_EP_COUNT_; e++) {
        for (d = 0; rc == 0 && d < WH_DEC_COUNT_; d++)
            rc = cm_buf_addf(out,
                             "lockwarden_webhook_requests_total{endpoint=\"%s\",decision=\"%s\"} "
                             "%llu\n",
                             wh_endpoint_name((enum wh_endpoint)e),
                             wh_decision_name((enum wh_decision)d), ld(&m->requests[e][d]));
    }
    if (rc == 0)
        rc = head(out, "lockwarden_webhook_http_requests_total", "counter",
                  "Other HTTP requests, by path.");
    for (i = 0; rc == 0 && i < CM_ARRAY_LEN(other); i++)
        rc = cm_buf_addf(out, "lockwarden_webhook_http_requests_total{path=\"%s\"} %llu\n",
                         other[i], ld(&m->other_requests[i]));
    if (rc == 0)
        rc = head(out, "lockwarden_webhook_rejected_requests_total", "counter",
                  "Requests refused before judging: body too large (413) or too slow (408).");
    if (rc == 0)
        rc = cm_buf_addf(out,
                         "lockwarden_webhook_rejected_requests_total{reason=\"too_large\"} %llu\n"
                         "lockwarden_webhook_rejected_requests_total{reason=\"timeout\"} %llu\n",
                         ld(&m->too_large), ld(&m->timeouts));
    if (rc == 0)
        rc = head(out, "lockwarden_webhook_refused_connections_total", "counter",
                  "Connections refused by --max-connections or --max-connections-per-ip.");
    if (rc == 0)
        rc = cm_buf_addf(out, "lockwarden_webhook_refused_connections_total %llu\n",
                         ld(&m->refused_conns));
    return rc;
}

static int format_denials(struct wh_metrics *m, struct cm_buf *out)
{
    int rc = head(out, "lockwarden_webhook_denials_total", "counter",
                  "Enforce rule failures that denied a request, by policy and rule.");
    size_t i;

    pthread_mutex_lock(&m->denial_mu);
    for (i = 0; rc == 0 && i < m->n_denials; i++) {
        rc = cm_buf_adds(out, "lockwarden_webhook_denials_total{policy=\"");
        if (rc == 0)
            rc = add_label(out, m->denials[i].policy);
        if (rc == 0)
            rc = cm_buf_adds(out, "\",rule=\"");
        if (rc == 0)
            rc = add_label(out, m->denials[i].rule);
        if (rc == 0)
            rc = cm_buf_addf(out, "\"} %llu\n", m->denials[i].count);
    }
    if (rc == 0 && m->denials_other > 0)
        rc = cm_buf_addf(out,
                         "lockwarden_webhook_denials_total{policy=\"_other\",rule=\"_other\"} "
                         "%llu\n",
                         m->denials_other);
    pthread_mutex_unlock(&m->denial_mu);
    return rc;
}

static int format_latency(struct wh_metrics *m, struct cm_buf *out)
{
    int rc = head(out, "lockwarden_webhook_request_duration_seconds", "histogram",
                  "Time from the first byte of the body to the response, by endpoint.");
    int e;
    size_t b;

    for (e = 0; rc == 0 && e < WH_EP_COUNT_; e++) {
        unsigned long long cum = 0;
        const char *name = wh_endpoint_name((enum wh_endpoint)e);

        for (b = 0; rc == 0 && b < WH_LAT_BUCKETS; b++) {
            cum += ld(&m->lat_bucket[e][b]);
            if (b < WH_LAT_BUCKETS - 1)
                rc = cm_buf_addf(out,
                                 "lockwarden_webhook_request_duration_seconds_bucket{endpoint="
                                 "\"%s\",le=\"%g\"} %llu\n",
                                 name, lat_le[b], cum);
            else
                rc = cm_buf_addf(out,
                                 "lockwarden_webhook_request_duration_seconds_bucket{endpoint="
                                 "\"%s\",le=\"+Inf\"} %llu\n",
                                 name, cum);
        }
        if (rc == 0)
            rc = cm_buf_addf(out,
                             "lockwarden_webhook_request_duration_seconds_sum{endpoint=\"%s\"} "
                             "%.9f\n"
                             "lockwarden_webhook_request_duration_seconds_count{endpoint=\"%s\"} "
                             "%llu\n",
                             name, (double)ld(&m->lat_sum_ns[e]) / 1e9, name, ld(&m->lat_count[e]));
    }
    return rc;
}

/* Only when a namespace-label source is configured (absent metrics say "off"). */
static int format_nslabels(struct wh_metrics *m, struct cm_buf *out)
{
    long long built = (long long)atomic_load(&m->ns_built_at);
    long long age = -1;
    int rc;

    if (!atomic_load(&m->ns_enabled))
        return 0;
    if (built > 0) {
        age = (long long)(cm_time_now_ms() / 1000) - built;
        if (age < 0)
            age = 0;
    }
    rc = head(out, "lockwarden_webhook_namespace_refresh_failures_total", "counter",
              "Namespace lists that failed (the last known labels kept serving).");
    if (rc == 0)
        rc = cm_buf_addf(out, "lockwarden_webhook_namespace_refresh_failures_total %llu\n",
                         ld(&m->ns_refresh_failures));
    if (rc == 0)
        rc = head(out, "lockwarden_webhook_namespace_snapshot_age_seconds", "gauge",
                  "Age of the namespace labels serving; -1 before the first list.");
    if (rc == 0)
        rc = cm_buf_addf(out, "lockwarden_webhook_namespace_snapshot_age_seconds %lld\n", age);
    if (rc == 0)
        rc = head(out, "lockwarden_webhook_namespaces_known", "gauge",
                  "Namespaces whose labels are known.");
    if (rc == 0)
        rc = cm_buf_addf(out, "lockwarden_webhook_namespaces_known %lld\n",
                         (long long)atomic_load(&m->ns_known));
    if (rc == 0)
        rc = head(out, "lockwarden_webhook_namespace_unknown_total", "counter",
                  "Admission requests whose namespace had no known labels.");
    if (rc == 0)
        rc = cm_buf_addf(out, "lockwarden_webhook_namespace_unknown_total %llu\n",
                         ld(&m->ns_unknown));
    return rc;
}

int wh_metrics_format(struct wh_metrics *m, size_t rules, struct cm_buf *out)
{
    int rc = format_requests(m, out);

    if (rc == 0)
        rc = format_denials(m, out);
    if (rc == 0)
        rc = format_latency(m, out);
    if (rc == 0)
        rc = head(out, "lockwarden_webhook_policy_reloads_total", "counter",
                  "Policy sets loaded and swapped in after start.");
    if (rc == 0)
        rc = cm_buf_addf(out, "lockwarden_webhook_policy_reloads_total %llu\n", ld(&m->reloads));
    if (rc == 0)
        rc = head(out, "lockwarden_webhook_policy_reload_failures_total", "counter",
                  "Policy reloads that failed (the last good set kept serving).");
    if (rc == 0)
        rc = cm_buf_addf(out, "lockwarden_webhook_policy_reload_failures_total %llu\n",
                         ld(&m->reload_failures));
    if (rc == 0)
        rc = head(out, "lockwarden_webhook_policy_generation", "gauge",
                  "Generation of the policy set serving (1 = loaded at start).");
    if (rc == 0)
        rc = cm_buf_addf(out, "lockwarden_webhook_policy_generation %llu\n",
                         ld(&m->policy_generation));
    if (rc == 0)
        rc = head(out, "lockwarden_webhook_policy_rules", "gauge",
                  "Rules in the policy set serving.");
    if (rc == 0)
        rc = cm_buf_addf(out, "lockwarden_webhook_policy_rules %zu\n", rules);
    if (rc == 0)
        rc = head(out, "lockwarden_webhook_certificate_not_after_seconds", "gauge",
                  "notAfter of the serving certificate, seconds since the epoch.");
    if (rc == 0)
        rc = cm_buf_addf(out, "lockwarden_webhook_certificate_not_after_seconds %lld\n",
                         (long long)atomic_load(&m->cert_not_after));
    if (rc == 0)
        rc = head(out, "lockwarden_webhook_certificate_reloads_total", "counter",
                  "Serving certificates rotated in after start.");
    if (rc == 0)
        rc = cm_buf_addf(out, "lockwarden_webhook_certificate_reloads_total %llu\n",
                         ld(&m->cert_reloads));
    if (rc == 0)
        rc = head(out, "lockwarden_webhook_certificate_reload_failures_total", "counter",
                  "Certificate changes that did not load (the previous one kept serving).");
    if (rc == 0)
        rc = cm_buf_addf(out, "lockwarden_webhook_certificate_reload_failures_total %llu\n",
                         ld(&m->cert_reload_failures));
    if (rc == 0)
        rc = head(out, "lockwarden_webhook_inflight_requests", "gauge",
                  "Admission requests being handled.");
    if (rc == 0)
        rc = cm_buf_addf(out, "lockwarden_webhook_inflight_requests %lld\n",
                         (long long)atomic_load(&m->inflight));
    if (rc == 0)
        rc = format_nslabels(m, out);
    return rc;
}
