/* SPDX-License-Identifier: Apache-2.0 */
/* backup_executor.c - `lockwarden executor`: the scheduling loop (cron per
 * BackupPolicy, one catch-up after downtime, capped concurrent captures, a prune after
 * each capture), the periodic maintenance pass on its own thread, leader election and
 * the /metrics endpoint. */
#include "backup/backup.h"
#include "backup/kube/kube.h"
#include "backup/s3/s3.h"
#include "policy/policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define EX_MAX_SLOTS 64
#define EX_MAX_APPS 10000

struct ex_app {
    char ns[64];
    char policy[254];
    time_t last_run; /* newest restore point or attempt */
    bool known;      /* last_run was read from the bucket */
    bool running;
};

struct ex_slot {
    pthread_t th;
    bool busy; /* a thread runs or awaits join */
    bool done;
    struct ex *ex;
    char ns[64];
    const struct policy_backup *pol;
    time_t started;
};

/* The maintenance thread. busy, last_start and last_ok belong to the loop thread; done
 * and stop are shared under ex->mu; ok is written by the thread before done. */
struct ex_maint {
    pthread_t th;
    bool busy; /* a thread runs or awaits join */
    bool done;
    bool stop; /* leadership lost or shutting down: stop between namespaces */
    bool ok;
    time_t started;
    time_t last_start; /* 0: due at once (startup, became leader) */
    bool last_ok;
};

struct ex {
    const struct backup_executor_opts *o;
    struct backup_metrics *metrics;
    pthread_mutex_t mu; /* guards slots' done flags, the running count, maint.done/stop */
    /* Held while prune works on one namespace, by a capture's prune and by the
     * maintenance pass, so the two never extend or delete the same point at once (a
     * second extension could otherwise try to set an earlier date, or rewrite the
     * locks/<time>.json key in the same second). */
    pthread_mutex_t prune_mu;
    struct ex_maint maint;
    struct ex_slot slots[EX_MAX_SLOTS];
    unsigned n_slots;
    int running;
    struct ex_app *apps;
    size_t n_apps;
};

/* The S3 client of policy p as restore and the audit open it (credentials from the
 * Secret namespace, the endpoint override applied). */
static int ex_open_s3(const struct ex *ex, struct kube_client *kube, const struct policy_backup *p,
                      struct s3_client **s3, struct cm_err *err)
{
    return backup_store_open(p, kube, ex->o->secret_namespace, ex->o->endpoint_override, s3, err);
}

static void *worker(void *arg)
{
    struct ex_slot *s = arg;
    struct ex *ex = s->ex;
    struct kube_client *kube = NULL;
    struct s3_client *s3 = NULL;
    struct backup_capture_opts co;
    struct backup_capture_result res;
    struct backup_prune_opts po;
    struct backup_prune_report pr;
    struct backup_key key;
    bool have_key = false;
    struct cm_err err;
    struct backup_location loc;
    int rc;

    memset(&key, 0, sizeof(key));
    memset(&res, 0, sizeof(res));
    memset(&err, 0, sizeof(err));
    rc = kube_client_create(ex->o->kube_cfg, &kube, &err);
    if (rc == 0)
        rc = ex_open_s3(ex, kube, s->pol, &s3, &err);
    if (rc == 0 && s->pol->encryption_key_secret[0] != '\0') {
        /* The Secret namespace only: a capture never takes its key from the namespace
         * it captures. */
        rc = backup_key_lookup(kube, s->pol, ex->o->secret_namespace, NULL, &key, &err);
        have_key = rc == 0;
    }
    if (rc == 0) {
        backup_location_of(s->pol, ex->o->endpoint_override, &loc);
        memset(&co, 0, sizeof(co));
        co.policy = s->pol;
        co.namespace_ = s->ns;
        co.kube = kube;
        co.s3 = s3;
        co.prefix = loc.prefix;
        co.key = have_key ? &key : NULL;
        co.tool_version = ex->o->tool_version;
        co.now = s->started;
        co.snapshot_timeout_ms = ex->o->snapshot_timeout_ms;
        rc = backup_capture_run(&co, &res, &err);
    }
    backup_metrics_capture(ex->metrics, s->ns, s->pol->name, rc == 0, res.archive_bytes,
                           res.seconds, (time_t)(cm_time_now_ms() / 1000));
    if (rc != 0)
        cm_log(CM_LOG_ERROR, "executor", "scheduled capture failed", CM_LS("ns", s->ns),
               CM_LS("policy", s->pol->name), CM_LS("err", err.msg));
    if (rc == 0) {
        memset(&po, 0, sizeof(po));
        po.s3 = s3;
        po.prefix = loc.prefix;
        po.namespace_ = s->ns;
        po.lookup = backup_policy_lookup;
        po.lookup_ctx = (void *)ex->o->policies;
        po.extend_margin_s = backup_maint_margin(ex->o->maintenance_interval_s);
        pthread_mutex_lock(&ex->prune_mu);
        rc = backup_prune_run(&po, &pr, &err);
        pthread_mutex_unlock(&ex->prune_mu);
        if (rc == 0) {
            backup_metrics_prune_report(ex->metrics, &pr);
            backup_prune_report_cleanup(&pr);
        } else {
            cm_log(CM_LOG_WARN, "executor", "prune after capture failed", CM_LS("ns", s->ns),
                   CM_LS("err", err.msg));
        }
    }
    backup_key_wipe(&key);
    s3_client_destroy(s3);
    kube_client_destroy(kube);
    pthread_mutex_lock(&ex->mu);
    s->done = true;
    pthread_mutex_unlock(&ex->mu);
    return NULL;
}

/* Joins finished workers; returns how many are still running. */
static int reap(struct ex *ex, bool wait_all)
{
    unsigned i;
    int running = 0;

    for (i = 0; i < ex->n_slots; i++) {
        struct ex_slot *s = &ex->slots[i];
        bool done;
        size_t j;

        if (!s->busy)
            continue;
        pthread_mutex_lock(&ex->mu);
        done = s->done;
        pthread_mutex_unlock(&ex->mu);
        if (!done && !wait_all) {
            running++;
            continue;
        }
        pthread_join(s->th, NULL);
        s->busy = false;
        for (j = 0; j < ex->n_apps; j++)
            if (strcmp(ex->apps[j].ns, s->ns) == 0)
                ex->apps[j].running = false;
    }
    backup_metrics_set_running(ex->metrics, running);
    return running;
}

static int start(struct ex *ex, struct ex_app *a, const struct policy_backup *p, time_t now)
{
    unsigned i;
    sigset_t all, old;
    int rc;

    for (i = 0; i < ex->n_slots && ex->slots[i].busy; i++)
        ;
    if (i == ex->n_slots)
        return CM_EAGAIN;
    memset(&ex->slots[i], 0, sizeof(ex->slots[i]));
    ex->slots[i].ex = ex;
    ex->slots[i].pol = p;
    ex->slots[i].started = now;
    memcpy(ex->slots[i].ns, a->ns, sizeof(a->ns));
    /* Workers never take the signals: the loop waits for them. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(&ex->slots[i].th, NULL, worker, &ex->slots[i]);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return CM_ENOMEM;
    ex->slots[i].busy = true;
    a->running = true;
    a->last_run = now;
    return 0;
}

/* ---- maintenance ---- */

/* Serialises a namespace with captures' prunes, and stops the pass when asked. */
static bool maint_ns_hook(const char *ns, bool begin, void *ctx)
{
    struct ex *ex = ctx;
    bool stop;

    (void)ns;
    if (!begin) {
        pthread_mutex_unlock(&ex->prune_mu);
        return true;
    }
    pthread_mutex_lock(&ex->mu);
    stop = ex->maint.stop;
    pthread_mutex_unlock(&ex->mu);
    if (stop)
        return false;
    pthread_mutex_lock(&ex->prune_mu);
    return true;
}

static void *maint_thread(void *arg)
{
    struct ex *ex = arg;
    struct kube_client *kube = NULL;
    struct backup_maint_opts mo;
    struct backup_maint_result res;
    struct cm_err err;
    uint64_t t0 = cm_time_mono_ns();
    int rc;

    memset(&err, 0, sizeof(err));
    memset(&res, 0, sizeof(res));
    rc = kube_client_create(ex->o->kube_cfg, &kube, &err);
    if (rc == 0) {
        memset(&mo, 0, sizeof(mo));
        mo.policies = ex->o->policies;
        mo.kube = kube;
        mo.secret_namespace = ex->o->secret_namespace;
        mo.endpoint_override = ex->o->endpoint_override;
        mo.now = ex->maint.started;
        mo.interval_s = ex->o->maintenance_interval_s;
        mo.metrics = ex->metrics;
        mo.ns_hook = maint_ns_hook;
        mo.ns_hook_ctx = ex;
        rc = backup_maint_run(&mo, &res, &err);
    }
    kube_client_destroy(kube);
    /* A canceled pass (leadership lost, shutdown) is neither a success nor a failure. */
    if (rc != CM_ECANCELED)
        backup_metrics_maintenance(ex->metrics, rc == 0, (time_t)(cm_time_now_ms() / 1000),
                                   res.left_alone);
    cm_log(rc == 0              ? CM_LOG_INFO
           : rc == CM_ECANCELED ? CM_LOG_WARN
                                : CM_LOG_ERROR,
           "executor",
           rc == 0              ? "maintenance pass done"
           : rc == CM_ECANCELED ? "maintenance pass stopped"
                                : "maintenance pass failed",
           CM_LI("locations", (long long)res.locations),
           CM_LI("locations_failed", (long long)res.locations_failed),
           CM_LI("namespaces", (long long)res.namespaces),
           CM_LI("extended", (long long)res.extended), CM_LI("deleted", (long long)res.deleted),
           CM_LI("retained_by_lock", (long long)res.retained_by_lock),
           CM_LI("left_alone", (long long)res.left_alone), CM_LI("errors", (long long)res.errors),
           CM_LI("duration_ms", (long long)((cm_time_mono_ns() - t0) / 1000000u)),
           CM_LS("err", rc != 0 ? err.msg : NULL));
    pthread_mutex_lock(&ex->mu);
    ex->maint.ok = rc == 0;
    ex->maint.done = true;
    pthread_mutex_unlock(&ex->mu);
    return NULL;
}

/* Joins a finished (or, with wait, any) maintenance thread. Loop thread only. */
static void maint_reap(struct ex *ex, bool wait)
{
    bool done;

    if (!ex->maint.busy)
        return;
    pthread_mutex_lock(&ex->mu);
    done = ex->maint.done;
    pthread_mutex_unlock(&ex->mu);
    if (!done && !wait)
        return;
    pthread_join(ex->maint.th, NULL);
    ex->maint.busy = false;
    ex->maint.last_ok = ex->maint.ok;
}

/* Asks a running pass to stop between namespaces (it is joined by maint_reap). */
static void maint_stop(struct ex *ex)
{
    pthread_mutex_lock(&ex->mu);
    ex->maint.stop = true;
    pthread_mutex_unlock(&ex->mu);
}

/* Starts a pass when one is due and none runs. Loop thread only. */
static void maint_start(struct ex *ex, time_t now, bool force)
{
    sigset_t all, old;
    int rc;

    if (ex->maint.busy)
        return;
    if (!force && !backup_maint_due(ex->maint.last_start, ex->maint.last_ok,
                                    ex->o->maintenance_interval_s, now))
        return;
    ex->maint.done = false;
    ex->maint.stop = false;
    ex->maint.ok = false;
    ex->maint.started = now;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(&ex->maint.th, NULL, maint_thread, ex);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    /* Counted as started either way: a failure to start retries after the short delay. */
    ex->maint.last_start = now;
    if (rc != 0) {
        ex->maint.last_ok = false;
        cm_log(CM_LOG_ERROR, "executor", "cannot start the maintenance thread");
        return;
    }
    ex->maint.busy = true;
    cm_log(CM_LOG_INFO, "executor", "maintenance pass started");
}

/* Warns about policies whose lock is not longer than the margin: their kept points
 * are renewed at every pass, to now + margin (longer than the policy asks). */
static void warn_short_locks(const struct ex *ex)
{
    int64_t margin = backup_maint_margin(ex->o->maintenance_interval_s);
    size_t i;

    for (i = 0; i < policy_set_backup_count(ex->o->policies); i++) {
        const struct policy_backup *p = policy_set_backup_get(ex->o->policies, i);

        if (p->lock_mode != POLICY_LOCK_NONE && (int64_t)p->lock_days * 86400 <= margin)
            cm_log(CM_LOG_WARN, "executor",
                   "objectLock.days is not longer than the maintenance margin (2 x interval + "
                   "1 day): kept restore points are extended at every pass, to now + the margin",
                   CM_LS("policy", p->name), CM_LI("lock_days", p->lock_days),
                   CM_LI("margin_s", margin));
    }
}

/* The newest complete restore point's time, from the bucket. */
static int last_point(struct ex *ex, struct kube_client *kube, const struct policy_backup *p,
                      const char *ns, time_t *out, struct cm_err *err)
{
    struct s3_client *s3 = NULL;
    struct backup_catalog *c = NULL;
    struct backup_location loc;
    size_t i;
    int rc = ex_open_s3(ex, kube, p, &s3, err);

    *out = 0;
    backup_location_of(p, ex->o->endpoint_override, &loc);
    if (rc == 0)
        rc = backup_catalog_list(s3, loc.prefix, ns, false, &c, err);
    for (i = 0; rc == 0 && i < backup_catalog_count(c); i++) {
        const struct backup_rp_info *r = backup_catalog_get(c, i);

        if (r->complete && r->created > *out)
            *out = r->created;
    }
    backup_catalog_destroy(c);
    s3_client_destroy(s3);
    return rc;
}

static struct ex_app *app_get(struct ex *ex, const char *ns, const char *policy)
{
    size_t i;
    struct ex_app *a;

    for (i = 0; i < ex->n_apps; i++) {
        if (strcmp(ex->apps[i].ns, ns) == 0) {
            if (strcmp(ex->apps[i].policy, policy) != 0) {
                memcpy(ex->apps[i].policy, policy, strlen(policy) + 1);
                ex->apps[i].known = false;
            }
            return &ex->apps[i];
        }
    }
    if (ex->n_apps >= EX_MAX_APPS)
        return NULL;
    if ((ex->n_apps & (ex->n_apps - 1)) == 0) {
        void *np = cm_realloc(ex->apps, (ex->n_apps ? ex->n_apps * 2 : 16) * sizeof(*ex->apps));

        if (np == NULL)
            return NULL;
        ex->apps = np;
    }
    a = &ex->apps[ex->n_apps++];
    memset(a, 0, sizeof(*a));
    memcpy(a->ns, ns, strlen(ns) + 1);
    memcpy(a->policy, policy, strlen(policy) + 1);
    return a;
}

/* One scheduling pass; returns the number of captures it started. */
static size_t pass(struct ex *ex, struct kube_client *kube, time_t now)
{
    struct backup_app *apps = NULL;
    struct cm_err err;
    size_t n = 0, i, started = 0;

    if (backup_apps_discover(kube, &apps, &n, &err) != 0) {
        cm_log(CM_LOG_WARN, "executor", "cannot list bound workloads", CM_LS("err", err.msg));
        return 0;
    }
    for (i = 0; i < n; i++) {
        const struct policy_backup *p =
            policy_set_backup_find(ex->o->policies, apps[i].policy, strlen(apps[i].policy));
        struct ex_app *a;
        time_t due;

        if (p == NULL) {
            cm_log(CM_LOG_WARN, "executor", "workloads bound to an unknown BackupPolicy",
                   CM_LS("ns", apps[i].namespace_), CM_LS("policy", apps[i].policy));
            continue;
        }
        a = app_get(ex, apps[i].namespace_, apps[i].policy);
        if (a == NULL || a->running)
            continue;
        if (!a->known) {
            time_t last = 0;

            if (last_point(ex, kube, p, a->ns, &last, &err) != 0) {
                cm_log(CM_LOG_WARN, "executor", "cannot read the app's restore points",
                       CM_LS("ns", a->ns), CM_LS("err", err.msg));
                continue;
            }
            if (last > a->last_run)
                a->last_run = last;
            a->known = true;
            /* After a restart the success gauge comes from the bucket, not from zero. */
            backup_metrics_seen(ex->metrics, a->ns, a->policy, last);
        }
        due = backup_sched_due(&p->cron, a->last_run, now);
        if (due < 0)
            continue;
        if (start(ex, a, p, now) != 0)
            break; /* every slot busy: the rest waits for the next tick */
        started++;
        cm_log(CM_LOG_INFO, "executor", "capture due", CM_LS("ns", a->ns), CM_LS("policy", p->name),
               CM_LI("slot", (long long)due));
    }
    cm_free(apps);
    return started;
}

/* ---- /metrics ---- */

static enum MHD_Result serve(void *cls, struct MHD_Connection *c, const char *url,
                             const char *method, const char *version, const char *upload,
                             size_t *upload_size, void **con_cls)
{
    struct ex *ex = cls;
    struct MHD_Response *r;
    enum MHD_Result ret;
    struct cm_buf b;
    unsigned status = MHD_HTTP_OK;
    const char *type = "text/plain; charset=utf-8";

    (void)version;
    (void)upload;
    (void)upload_size;
    (void)con_cls;
    const char *text = NULL;

    cm_buf_init(&b, 64u << 20);
    if (strcmp(method, "GET") != 0) {
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
        text = "method not allowed\n";
    } else if (strcmp(url, "/metrics") == 0) {
        type = "text/plain; version=0.0.4; charset=utf-8";
        if (backup_metrics_format(ex->metrics, &b) != 0) {
            status = MHD_HTTP_INTERNAL_SERVER_ERROR;
            text = "metrics unavailable\n";
        }
    } else if (strcmp(url, "/healthz") == 0) {
        text = "ok\n";
    } else {
        status = MHD_HTTP_NOT_FOUND;
        text = "not found\n";
    }
    if (text != NULL)
        r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    else
        r = MHD_create_response_from_buffer(b.len, b.ptr ? b.ptr : (char *)"",
                                            MHD_RESPMEM_MUST_COPY);
    cm_buf_free(&b);
    if (r == NULL)
        return MHD_NO;
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static int parse_addr(const char *s, struct sockaddr_in *sa, struct cm_err *err)
{
    const char *colon = strrchr(s, ':');
    char host[64];
    uint64_t port;

    memset(sa, 0, sizeof(*sa));
    if (colon == NULL || (size_t)(colon - s) >= sizeof(host) ||
        cm_parse_u64(colon + 1, strlen(colon + 1), &port) != 0 || port > 65535)
        return cm_err_set(err, CM_ECONFIG, "metrics address %s: want HOST:PORT (IPv4)", s);
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host[0] ? host : "0.0.0.0", &sa->sin_addr) != 1)
        return cm_err_set(err, CM_ECONFIG, "metrics address %s: bad IPv4 host", s);
    return 0;
}

static void default_identity(char *buf, size_t len)
{
    char host[128];

    if (gethostname(host, sizeof(host)) != 0)
        memcpy(host, "lockwarden", 11);
    host[sizeof(host) - 1] = '\0';
    (void)snprintf(buf, len, "%s-%ld", host, (long)getpid());
}

int backup_executor_run(const struct backup_executor_opts *o, struct cm_err *err)
{
    struct ex ex;
    struct MHD_Daemon *d = NULL;
    struct kube_client *kube = NULL;
    struct sockaddr_in sa;
    sigset_t sigs;
    char ident[200];
    uint64_t tick = o->tick_ms ? o->tick_ms : 15000;
    bool leader = !o->leader_elect;
    bool once_failed = false;
    int rc;

    memset(&ex, 0, sizeof(ex));
    if (o->policies == NULL || o->kube_cfg == NULL)
        return cm_err_set(err, CM_EINVAL, "executor: policies and a cluster are required");
    ex.o = o;
    ex.n_slots = o->max_concurrent ? o->max_concurrent : 2;
    if (ex.n_slots > EX_MAX_SLOTS)
        ex.n_slots = EX_MAX_SLOTS;
    if (o->identity != NULL)
        (void)snprintf(ident, sizeof(ident), "%s", o->identity);
    else
        default_identity(ident, sizeof(ident));
    /* The loop, not a handler, takes SIGINT/SIGTERM: no global state, and every
     * thread started below inherits the blocked mask. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    if (pthread_mutex_init(&ex.mu, NULL) != 0)
        return cm_err_set(err, CM_ENOMEM, "executor: mutex");
    if (pthread_mutex_init(&ex.prune_mu, NULL) != 0) {
        pthread_mutex_destroy(&ex.mu);
        return cm_err_set(err, CM_ENOMEM, "executor: mutex");
    }
    rc = backup_metrics_create(&ex.metrics);
    if (rc != 0) {
        rc = cm_err_set(err, rc, "executor: out of memory");
        goto cleanup;
    }
    rc = kube_client_create(o->kube_cfg, &kube, err);
    if (rc != 0)
        goto cleanup;
    if (o->metrics_addr != NULL && o->metrics_addr[0] != '\0') {
        rc = parse_addr(o->metrics_addr, &sa, err);
        if (rc != 0)
            goto cleanup;
        d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, ntohs(sa.sin_port), NULL, NULL, serve,
                             &ex, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                             MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
        if (d == NULL) {
            rc = cm_err_set(err, CM_EIO, "executor: cannot listen on %s for /metrics",
                            o->metrics_addr);
            goto cleanup;
        }
        cm_log(CM_LOG_INFO, "executor", "metrics listening", CM_LS("addr", o->metrics_addr));
    }
    cm_log(CM_LOG_INFO, "executor", "started", CM_LS("identity", ident),
           CM_LI("max_concurrent", ex.n_slots), CM_LB("leader_elect", o->leader_elect),
           CM_LI("maintenance_interval_s", o->maintenance_interval_s
                                               ? (long long)o->maintenance_interval_s
                                               : (long long)BACKUP_MAINT_INTERVAL_DEFAULT),
           CM_LB("maintenance_only", o->maintenance_only));
    warn_short_locks(&ex);
    for (;;) {
        time_t now = (time_t)(cm_time_now_ms() / 1000);
        struct timespec ts;
        siginfo_t si;
        int sig;

        reap(&ex, false);
        maint_reap(&ex, false);
        if (o->leader_elect) {
            struct cm_err le;
            bool was = leader;

            if (backup_lease_try(kube,
                                 o->lease_namespace ? o->lease_namespace : o->secret_namespace,
                                 o->lease_name ? o->lease_name : "lockwarden-executor", ident,
                                 o->lease_seconds, now, &leader, &le) != 0)
                cm_log(CM_LOG_WARN, "executor", "lease", CM_LS("err", le.msg));
            if (leader != was) {
                size_t j;

                cm_log(CM_LOG_INFO, "executor", leader ? "became leader" : "lost leadership",
                       CM_LS("identity", ident));
                /* Another replica may have captured meanwhile: re-read the bucket. */
                for (j = 0; j < ex.n_apps; j++)
                    ex.apps[j].known = false;
                /* Only the leader maintains: stop a running pass when leadership goes,
                 * and start one at once when it comes. */
                if (leader)
                    ex.maint.last_start = 0;
                else
                    maint_stop(&ex);
            }
            backup_metrics_set_leader(ex.metrics, leader);
        } else {
            backup_metrics_set_leader(ex.metrics, true);
        }
        if (leader && o->once) {
            /* One pass over every due app, at most max_concurrent at a time, then one
             * maintenance pass (after the captures, so it sees their points). */
            while (!o->maintenance_only && pass(&ex, kube, now) > 0)
                reap(&ex, true);
            maint_start(&ex, (time_t)(cm_time_now_ms() / 1000), true);
            maint_reap(&ex, true);
            once_failed = !ex.maint.last_ok;
            break;
        }
        if (leader && !o->maintenance_only)
            (void)pass(&ex, kube, now);
        if (leader)
            maint_start(&ex, now, false);
        ts.tv_sec = (time_t)(tick / 1000);
        ts.tv_nsec = (long)(tick % 1000) * 1000000L;
        sig = sigtimedwait(&sigs, &si, &ts);
        if (sig == SIGINT || sig == SIGTERM) {
            cm_log(CM_LOG_INFO, "executor", "stopping: waiting for running captures",
                   CM_LI("signal", sig));
            break;
        }
    }
    maint_stop(&ex);
    reap(&ex, true);
    maint_reap(&ex, true);
    rc = once_failed ? cm_err_set(err, CM_EIO, "executor: the maintenance pass failed") : 0;
cleanup:
    if (d != NULL)
        MHD_stop_daemon(d);
    kube_client_destroy(kube);
    backup_metrics_destroy(ex.metrics);
    cm_free(ex.apps);
    pthread_mutex_destroy(&ex.prune_mu);
    pthread_mutex_destroy(&ex.mu);
    return rc;
}
