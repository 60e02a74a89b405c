/* SPDX-License-Identifier: Apache-2.0 */
/* wh_nslabels.c - the labels of every Namespace, for namespaceSelector at admission: a
 * background thread lists Namespaces and publishes an immutable, refcounted map that
 * requests read without I/O (AdmissionReview does not carry the namespace's labels). */
#include "webhook/wh_int.h"

#include "backup/kube/kube.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A failing list is logged at most this often (it is retried with a backoff). */
#define WH_NS_FAIL_LOG_MS 60000
/* One list, with its retries, must end within this (the refresher also stops through it). */
#define WH_NS_LIST_DEADLINE_MS 10000
/* After a failed list the next comes after 1, 2, 4 ... s, never later than the refresh. */
#define WH_NS_RETRY_FIRST_MS 1000u
#define WH_NS_RETRY_MAX_SHIFT 6
/* A kick (a namespace missing from the map) lists early, but not sooner than this after
 * the previous list started. */
#define WH_NS_KICK_MIN_MS 2000u
/* The last error kept for /readyz: one line, at most this long. */
#define WH_NS_ERR_MAX 200

static int entry_cmp(const void *a, const void *b)
{
    const struct wh_ns_entry *x = a;
    const struct wh_ns_entry *y = b;

    return strcmp(x->name, y->name);
}

static void map_free(struct wh_nsmap *m)
{
    if (m == NULL)
        return;
    cJSON_Delete(m->tree_);
    cm_free(m->entries);
    cm_free(m);
}

int wh_nsmap_create(cJSON *items, int64_t built_at, struct wh_nsmap **out)
{
    struct wh_nsmap *m = NULL;
    const cJSON *it;
    size_t n = 0;
    size_t i;
    size_t w;

    m = cm_calloc(1, sizeof(*m));
    if (m == NULL) {
        cJSON_Delete(items);
        return CM_ENOMEM;
    }
    m->tree_ = items;
    m->built_at = built_at;
    atomic_init(&m->refs, 1);
    cJSON_ArrayForEach(it, items)
    {
        n++;
    }
    if (n > 0) {
        m->entries = cm_calloc(n, sizeof(*m->entries));
        if (m->entries == NULL) {
            map_free(m);
            return CM_ENOMEM;
        }
    }
    cJSON_ArrayForEach(it, items)
    {
        cJSON *meta = cJSON_GetObjectItemCaseSensitive(it, "metadata");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
        const cJSON *labels = cJSON_GetObjectItemCaseSensitive(meta, "labels");

        if (!cJSON_IsString(name) || name->valuestring[0] == '\0')
            continue;
        /* Only names and labels are read: drop what can be large. */
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "annotations");
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "managedFields");
        m->entries[m->n].name = name->valuestring;
        m->entries[m->n].labels = cJSON_IsObject(labels) ? labels : NULL;
        m->n++;
    }
    if (m->n > 1) {
        /* A stable order is not needed: a duplicate keeps the later item below. */
        qsort(m->entries, m->n, sizeof(*m->entries), entry_cmp);
        for (i = 1, w = 1; i < m->n; i++) {
            if (strcmp(m->entries[i].name, m->entries[w - 1].name) == 0)
                m->entries[w - 1] = m->entries[i];
            else
                m->entries[w++] = m->entries[i];
        }
        m->n = w;
    }
    *out = m;
    return 0;
}

void wh_nsmap_acquire(struct wh_nsmap *m)
{
    if (m != NULL)
        atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
}

void wh_nsmap_release(struct wh_nsmap *m)
{
    if (m == NULL)
        return;
    if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
        map_free(m);
}

const cJSON *wh_nsmap_lookup(const struct wh_nsmap *m, const char *name, bool *found)
{
    struct wh_ns_entry key;
    const struct wh_ns_entry *e;

    *found = false;
    if (m == NULL || name == NULL || m->n == 0)
        return NULL;
    key.name = name;
    key.labels = NULL;
    e = bsearch(&key, m->entries, m->n, sizeof(*m->entries), entry_cmp);
    if (e == NULL)
        return NULL;
    *found = true;
    return e->labels;
}

/* ---- the holder and its refresher ---- */

int wh_nslabels_init(struct wh_nslabels *l, struct wh_metrics *m)
{
    pthread_condattr_t ca;
    int rc = 0;

    memset(l, 0, sizeof(*l));
    l->metrics = m;
    atomic_init(&l->kicked, false);
    if (pthread_mutex_init(&l->mu, NULL) != 0)
        return CM_ENOMEM;
    if (pthread_condattr_init(&ca) != 0) {
        pthread_mutex_destroy(&l->mu);
        return CM_ENOMEM;
    }
    /* Waits are measured on the monotonic clock: a wall-clock step must not stall them. */
    if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 || pthread_cond_init(&l->cv, &ca) != 0)
        rc = CM_ENOMEM;
    pthread_condattr_destroy(&ca);
    if (rc != 0)
        pthread_mutex_destroy(&l->mu);
    return rc;
}

void wh_nslabels_swap(struct wh_nslabels *l, struct wh_nsmap *m)
{
    struct wh_nsmap *old;

    pthread_mutex_lock(&l->mu);
    old = l->cur;
    l->cur = m;
    pthread_mutex_unlock(&l->mu);
    if (l->metrics != NULL && m != NULL) {
        atomic_store(&l->metrics->ns_built_at, (long long)m->built_at);
        atomic_store(&l->metrics->ns_known, (long long)m->n);
    }
    wh_nsmap_release(old);
}

struct wh_nsmap *wh_nslabels_acquire(struct wh_nslabels *l)
{
    struct wh_nsmap *m;

    /* Read and increment under the lock, as for policy snapshots. */
    pthread_mutex_lock(&l->mu);
    m = l->cur;
    wh_nsmap_acquire(m);
    pthread_mutex_unlock(&l->mu);
    return m;
}

static int collect(cJSON *item, void *ctx)
{
    cJSON *arr = ctx;

    if (!cJSON_AddItemToArray(arr, item)) {
        cJSON_Delete(item);
        return CM_ENOMEM;
    }
    return 0;
}

static void restart(void *ctx)
{
    cJSON *arr = ctx;
    cJSON *it;

    while ((it = cJSON_DetachItemFromArray(arr, 0)) != NULL)
        cJSON_Delete(it);
}

/* One list of every Namespace into a new map. Returns 0 or the list's error. */
static int refresh_once(struct wh_nslabels *l, struct cm_err *err)
{
    static const struct kube_ref ref = {"v1", "namespaces", NULL, NULL};
    struct kube_list_opts opts;
    struct wh_nsmap *m = NULL;
    cJSON *arr = cJSON_CreateArray();
    int rc;

    if (arr == NULL)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    memset(&opts, 0, sizeof(opts));
    opts.limit = 500;
    opts.on_restart = restart;
    rc = kube_list_take(l->client, &ref, &opts, collect, NULL, arr, NULL, err);
    if (rc != 0) {
        cJSON_Delete(arr);
        return rc;
    }
    rc = wh_nsmap_create(arr, cm_time_now_ms() / 1000, &m);
    if (rc != 0)
        return cm_err_set(err, rc, "out of memory");
    wh_nslabels_swap(l, m);
    return 0;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Records how the list went, for wh_nslabels_listed(): the error as one short line. */
static void record_result(struct wh_nslabels *l, int rc, const struct cm_err *err)
{
    size_t i;

    pthread_mutex_lock(&l->mu);
    if (rc == 0) {
        l->last_err[0] = '\0';
    } else {
        (void)snprintf(l->last_err, sizeof(l->last_err), "%.*s", WH_NS_ERR_MAX,
                       err->msg[0] != '\0' ? err->msg : cm_strerror(rc));
        for (i = 0; l->last_err[i] != '\0'; i++) {
            if (l->last_err[i] == '\n' || l->last_err[i] == '\r' || l->last_err[i] == '\t')
                l->last_err[i] = ' ';
        }
    }
    pthread_mutex_unlock(&l->mu);
}

/* Waits until due_ms, or until WH_NS_KICK_MIN_MS after started_ms when kicked (and
 * kickable), or until told to stop. Returns true to stop. */
static bool wait_next(struct wh_nslabels *l, uint64_t started_ms, uint64_t due_ms, bool kickable)
{
    bool stopping;

    pthread_mutex_lock(&l->mu);
    while (!l->stopping) {
        uint64_t until = due_ms;
        struct timespec ts;

        if (kickable && atomic_load(&l->kicked) && started_ms + WH_NS_KICK_MIN_MS < until)
            until = started_ms + WH_NS_KICK_MIN_MS;
        if (mono_ms() >= until)
            break;
        ts.tv_sec = (time_t)(until / 1000u);
        ts.tv_nsec = (long)(until % 1000u) * 1000000L;
        (void)pthread_cond_timedwait(&l->cv, &l->mu, &ts);
    }
    stopping = l->stopping;
    pthread_mutex_unlock(&l->mu);
    return stopping;
}

static void *refresher(void *arg)
{
    struct wh_nslabels *l = arg;
    unsigned fails = 0;
    bool listed = false;
    bool stopping = false;

    while (!stopping) {
        uint64_t started = mono_ms();
        uint64_t wait_ms = (uint64_t)l->refresh_s * 1000u;
        struct cm_err err;
        int rc;

        /* Kicks from now on ask for the list after this one. */
        atomic_store(&l->kicked, false);
        cm_err_clear(&err);
        rc = refresh_once(l, &err);
        record_result(l, rc, &err);
        if (rc != 0) {
            int64_t now = (int64_t)started;
            uint64_t retry = WH_NS_RETRY_FIRST_MS
                             << (fails < WH_NS_RETRY_MAX_SHIFT ? fails : WH_NS_RETRY_MAX_SHIFT);

            fails++;
            if (retry < wait_ms)
                wait_ms = retry;
            atomic_fetch_add_explicit(&l->metrics->ns_refresh_failures, 1, memory_order_relaxed);
            if (l->last_fail_log_ms == 0 || now - l->last_fail_log_ms >= WH_NS_FAIL_LOG_MS) {
                l->last_fail_log_ms = now;
                cm_log(CM_LOG_WARN, "webhook",
                       listed ? "cannot list namespaces; the last known labels keep serving"
                              : "cannot list namespaces; not ready until a list succeeds",
                       CM_LS("err", err.msg));
            }
        } else {
            fails = 0;
            if (!listed)
                cm_log(CM_LOG_INFO, "webhook", "namespaces listed",
                       CM_LI("namespaces", atomic_load(&l->metrics->ns_known)));
            else if (l->last_fail_log_ms != 0)
                cm_log(CM_LOG_INFO, "webhook", "namespaces listed again");
            l->last_fail_log_ms = 0;
            listed = true;
        }
        stopping = wait_next(l, started, started + wait_ms, rc == 0);
    }
    return NULL;
}

bool wh_nslabels_listed(struct wh_nslabels *l, char *err, size_t cap)
{
    bool listed;

    pthread_mutex_lock(&l->mu);
    listed = l->cur != NULL;
    if (!listed && cap > 0)
        (void)snprintf(err, cap, "%s", l->last_err);
    pthread_mutex_unlock(&l->mu);
    return listed;
}

void wh_nslabels_kick(struct wh_nslabels *l)
{
    /* One signal per list: later kicks find the flag set and return at once. */
    if (!l->has_thread || atomic_exchange(&l->kicked, true))
        return;
    pthread_mutex_lock(&l->mu);
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

int wh_nslabels_start(struct wh_nslabels *l, const struct wh_config *c, struct cm_err *err)
{
    struct kube_config *kc = NULL;
    int rc;

    rc = kube_config_load(c->kubeconfig[0] != '\0' ? c->kubeconfig : NULL,
                          c->kube_context[0] != '\0' ? c->kube_context : NULL, &kc, err);
    if (rc != 0)
        return rc == CM_ENOMEM ? rc : CM_ECONFIG;
    /* Fail soon and retry at the next refresh: the last map serves meanwhile. */
    kube_config_set_retry(kc, 2, 200, 1000, WH_NS_LIST_DEADLINE_MS);
    kube_config_set_timeouts(kc, 5000, WH_NS_LIST_DEADLINE_MS);
    rc = kube_client_create(kc, &l->client, err);
    kube_config_destroy(kc);
    if (rc != 0)
        return rc;
    l->refresh_s = c->ns_refresh_s > 0 ? c->ns_refresh_s : 30;
    atomic_store(&l->metrics->ns_enabled, true);
    if (pthread_create(&l->thread, NULL, refresher, l) != 0) {
        kube_client_destroy(l->client);
        l->client = NULL;
        return cm_err_set(err, CM_ENOMEM, "cannot start the namespace refresher thread");
    }
    l->has_thread = true;
    return 0;
}

void wh_nslabels_cleanup(struct wh_nslabels *l)
{
    if (l->has_thread) {
        pthread_mutex_lock(&l->mu);
        l->stopping = true;
        pthread_cond_signal(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
        l->has_thread = false;
    }
    kube_client_destroy(l->client);
    l->client = NULL;
    wh_nsmap_release(l->cur);
    l->cur = NULL;
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
}
