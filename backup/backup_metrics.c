/* SPDX-License-Identifier: Apache-2.0 */
/* backup_metrics.c - the executor's Prometheus metrics: last success per app,
 * failures, bytes, durations, prune decisions, lock extensions, maintenance passes,
 * leadership. Thread-safe. */
#include "backup/backup.h"

#include <pthread.h>
#include <string.h>

#define MET_NAME_MAX 254

struct met_app {
    char ns[64];
    char policy[MET_NAME_MAX];
    time_t last_success;
    time_t last_failure;
    uint64_t successes;
    uint64_t failures;
    uint64_t bytes;
    double last_seconds;
    double seconds_sum;
};

struct backup_metrics {
    pthread_mutex_t mu;
    struct met_app *apps;
    size_t n_apps;
    size_t cap_apps;
    uint64_t overflow;
    uint64_t prune[4];
    uint64_t extended; /* locks extended (prune after capture and maintenance) */
    uint64_t pruned;   /* restore points deleted */
    uint64_t retained; /* past the counts but kept by their lock */
    uint64_t maint_runs;
    uint64_t maint_failures;
    time_t maint_last_success;
    uint64_t maint_left_alone; /* gauge: namespaces the last pass could not judge */
    bool leader;
    int running;
};

int backup_metrics_create(struct backup_metrics **out)
{
    struct backup_metrics *m = cm_calloc(1, sizeof(*m));

    if (m == NULL)
        return CM_ENOMEM;
    if (pthread_mutex_init(&m->mu, NULL) != 0) {
        cm_free(m);
        return CM_ENOMEM;
    }
    *out = m;
    return 0;
}

void backup_metrics_destroy(struct backup_metrics *m)
{
    if (m == NULL)
        return;
    pthread_mutex_destroy(&m->mu);
    cm_free(m->apps);
    cm_free(m);
}

static struct met_app *find_app(struct backup_metrics *m, const char *ns, const char *policy)
{
    struct met_app *a;
    size_t i;

    for (i = 0; i < m->n_apps; i++) {
        if (strcmp(m->apps[i].ns, ns) == 0 && strcmp(m->apps[i].policy, policy) == 0)
            return &m->apps[i];
    }
    if (m->n_apps >= BACKUP_METRICS_MAX_APPS || strlen(ns) >= sizeof(a->ns) ||
        strlen(policy) >= sizeof(a->policy))
        return NULL;
    if (m->n_apps == m->cap_apps) {
        size_t nc = m->cap_apps ? m->cap_apps * 2 : 16;
        void *p = cm_realloc(m->apps, nc * sizeof(*m->apps));

        if (p == NULL)
            return NULL;
        m->apps = p;
        m->cap_apps = nc;
    }
    a = &m->apps[m->n_apps++];
    memset(a, 0, sizeof(*a));
    memcpy(a->ns, ns, strlen(ns) + 1);
    memcpy(a->policy, policy, strlen(policy) + 1);
    return a;
}

void backup_metrics_capture(struct backup_metrics *m, const char *ns, const char *policy, bool ok,
                            uint64_t bytes, double seconds, time_t when)
{
    struct met_app *a;

    if (m == NULL || ns == NULL || policy == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    a = find_app(m, ns, policy);
    if (a == NULL) {
        m->overflow++;
    } else {
        if (ok) {
            a->successes++;
            a->last_success = when;
        } else {
            a->failures++;
            a->last_failure = when;
        }
        a->bytes += bytes;
        a->last_seconds = seconds;
        a->seconds_sum += seconds;
    }
    pthread_mutex_unlock(&m->mu);
}

void backup_metrics_seen(struct backup_metrics *m, const char *ns, const char *policy,
                         time_t last_success)
{
    struct met_app *a;

    if (m == NULL || ns == NULL || policy == NULL || last_success <= 0)
        return;
    pthread_mutex_lock(&m->mu);
    a = find_app(m, ns, policy);
    if (a != NULL && last_success > a->last_success)
        a->last_success = last_success;
    pthread_mutex_unlock(&m->mu);
}

void backup_metrics_prune(struct backup_metrics *m, enum backup_gfs_action a, unsigned count)
{
    if (m == NULL || (unsigned)a > BACKUP_GFS_EXPIRE)
        return;
    pthread_mutex_lock(&m->mu);
    m->prune[a] += count;
    pthread_mutex_unlock(&m->mu);
}

void backup_metrics_prune_report(struct backup_metrics *m, const struct backup_prune_report *r)
{
    size_t i;

    if (m == NULL || r == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    for (i = 0; i < 4; i++)
        m->prune[i] += r->counts[i];
    m->extended += r->extended;
    m->pruned += r->deleted;
    m->retained += r->retained_by_lock;
    pthread_mutex_unlock(&m->mu);
}

void backup_metrics_maintenance(struct backup_metrics *m, bool ok, time_t when, size_t left_alone)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    m->maint_runs++;
    if (ok) {
        if (when > m->maint_last_success)
            m->maint_last_success = when;
    } else {
        m->maint_failures++;
    }
    m->maint_left_alone = left_alone;
    pthread_mutex_unlock(&m->mu);
}

void backup_metrics_set_leader(struct backup_metrics *m, bool is_leader)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    m->leader = is_leader;
    pthread_mutex_unlock(&m->mu);
}

void backup_metrics_set_running(struct backup_metrics *m, int running)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    m->running = running;
    pthread_mutex_unlock(&m->mu);
}

/* Prometheus label value: backslash, double quote and newline escaped. */
static int add_label(struct cm_buf *b, const char *v)
{
    int rc = 0;

    for (; rc == 0 && *v != '\0'; v++) {
        if (*v == '\\')
            rc = cm_buf_adds(b, "\\\\");
        else if (*v == '"')
            rc = cm_buf_adds(b, "\\\"");
        else if (*v == '\n')
            rc = cm_buf_adds(b, "\\n");
        else
            rc = cm_buf_addc(b, *v);
    }
    return rc;
}

static int app_line(struct cm_buf *b, const char *metric, const struct met_app *a,
                    const char *extra, int decimals, double v)
{
    int rc = cm_buf_addf(b, "%s{namespace=\"", metric);

    if (rc == 0)
        rc = add_label(b, a->ns);
    if (rc == 0)
        rc = cm_buf_adds(b, "\",policy=\"");
    if (rc == 0)
        rc = add_label(b, a->policy);
    if (rc == 0)
        rc = cm_buf_addf(b, "\"%s} ", extra);
    if (rc == 0)
        rc = cm_buf_addf(b, "%.*f", decimals, v);
    if (rc == 0)
        rc = cm_buf_addc(b, '\n');
    return rc;
}

static int header(struct cm_buf *b, const char *name, const char *type, const char *help)
{
    return cm_buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int counter(struct cm_buf *b, const char *name, const char *help, uint64_t v)
{
    int rc = header(b, name, "counter", help);

    return rc == 0 ? cm_buf_addf(b, "%s %llu\n", name, (unsigned long long)v) : rc;
}

int backup_metrics_format(struct backup_metrics *m, struct cm_buf *b)
{
    size_t i;
    int rc;

    if (m == NULL || b == NULL)
        return CM_EINVAL;
    pthread_mutex_lock(&m->mu);
    rc = header(b, "lockwarden_backup_last_success_timestamp_seconds", "gauge",
                "Unix time of the last complete restore point per app.");
    for (i = 0; rc == 0 && i < m->n_apps; i++) {
        if (m->apps[i].last_success > 0)
            rc = app_line(b, "lockwarden_backup_last_success_timestamp_seconds", &m->apps[i], "", 0,
                          (double)m->apps[i].last_success);
    }
    if (rc == 0)
        rc = header(b, "lockwarden_backup_last_failure_timestamp_seconds", "gauge",
                    "Unix time of the last failed capture per app.");
    for (i = 0; rc == 0 && i < m->n_apps; i++) {
        if (m->apps[i].failures > 0)
            rc = app_line(b, "lockwarden_backup_last_failure_timestamp_seconds", &m->apps[i], "", 0,
                          (double)m->apps[i].last_failure);
    }
    if (rc == 0)
        rc = header(b, "lockwarden_backup_captures_total", "counter", "Captures by result.");
    for (i = 0; rc == 0 && i < m->n_apps; i++) {
        rc = app_line(b, "lockwarden_backup_captures_total", &m->apps[i], ",result=\"success\"", 0,
                      (double)m->apps[i].successes);
        if (rc == 0)
            rc = app_line(b, "lockwarden_backup_captures_total", &m->apps[i], ",result=\"failure\"",
                          0, (double)m->apps[i].failures);
    }
    if (rc == 0)
        rc = header(b, "lockwarden_backup_bytes_total", "counter",
                    "Archive bytes uploaded per app.");
    for (i = 0; rc == 0 && i < m->n_apps; i++)
        rc = app_line(b, "lockwarden_backup_bytes_total", &m->apps[i], "", 0,
                      (double)m->apps[i].bytes);
    if (rc == 0)
        rc = header(b, "lockwarden_backup_last_duration_seconds", "gauge",
                    "Duration of the last capture per app.");
    for (i = 0; rc == 0 && i < m->n_apps; i++)
        rc = app_line(b, "lockwarden_backup_last_duration_seconds", &m->apps[i], "", 3,
                      m->apps[i].last_seconds);
    if (rc == 0)
        rc = header(b, "lockwarden_backup_duration_seconds_total", "counter",
                    "Total capture time per app.");
    for (i = 0; rc == 0 && i < m->n_apps; i++)
        rc = app_line(b, "lockwarden_backup_duration_seconds_total", &m->apps[i], "", 3,
                      m->apps[i].seconds_sum);
    if (rc == 0)
        rc = header(b, "lockwarden_backup_prune_decisions_total", "counter",
                    "Prune decisions by action.");
    for (i = 0; rc == 0 && i < 4; i++)
        rc = cm_buf_addf(b, "lockwarden_backup_prune_decisions_total{action=\"%s\"} %llu\n",
                         backup_gfs_action_name((enum backup_gfs_action)i),
                         (unsigned long long)m->prune[i]);
    if (rc == 0)
        rc = counter(b, "lockwarden_backup_locks_extended_total",
                     "Restore points whose Object Lock was extended.", m->extended);
    if (rc == 0)
        rc = counter(b, "lockwarden_backup_points_pruned_total",
                     "Restore points deleted past the GFS counts (their lock expired).", m->pruned);
    if (rc == 0)
        rc = counter(b, "lockwarden_backup_points_retained_by_lock_total",
                     "Prune decisions on points past the GFS counts kept by their lock.",
                     m->retained);
    if (rc == 0)
        rc = counter(b, "lockwarden_backup_maintenance_runs_total",
                     "Maintenance passes (prune and lock extension of every location).",
                     m->maint_runs);
    if (rc == 0)
        rc = counter(b, "lockwarden_backup_maintenance_failures_total",
                     "Maintenance passes with an error (location, namespace or point).",
                     m->maint_failures);
    if (rc == 0)
        rc = header(b, "lockwarden_backup_maintenance_last_success_timestamp_seconds", "gauge",
                    "Unix time of the last maintenance pass without errors.");
    if (rc == 0)
        rc = cm_buf_addf(b, "lockwarden_backup_maintenance_last_success_timestamp_seconds %lld\n",
                         (long long)m->maint_last_success);
    if (rc == 0)
        rc = header(b, "lockwarden_backup_maintenance_namespaces_left_alone", "gauge",
                    "Namespaces the last maintenance pass could not judge (policy not loaded).");
    if (rc == 0)
        rc = cm_buf_addf(b, "lockwarden_backup_maintenance_namespaces_left_alone %llu\n",
                         (unsigned long long)m->maint_left_alone);
    if (rc == 0)
        rc = header(b, "lockwarden_backup_apps_overflow_total", "counter",
                    "Captures of apps beyond the metrics table cap.");
    if (rc == 0)
        rc = cm_buf_addf(b, "lockwarden_backup_apps_overflow_total %llu\n",
                         (unsigned long long)m->overflow);
    if (rc == 0)
        rc = header(b, "lockwarden_executor_leader", "gauge",
                    "1 when this replica holds the executor Lease.");
    if (rc == 0)
        rc = cm_buf_addf(b, "lockwarden_executor_leader %d\n", m->leader ? 1 : 0);
    if (rc == 0)
        rc = header(b, "lockwarden_executor_running_captures", "gauge", "Captures in progress.");
    if (rc == 0)
        rc = cm_buf_addf(b, "lockwarden_executor_running_captures %d\n", m->running);
    pthread_mutex_unlock(&m->mu);
    return rc;
}
