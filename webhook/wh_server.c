/* SPDX-License-Identifier: Apache-2.0 */
/* wh_server.c - the HTTPS edge on libmicrohttpd: routing, body limits, timeouts,
 * health, metrics, the decision log, reload and graceful shutdown. */
#define _GNU_SOURCE /* SO_REUSEPORT, SOCK_CLOEXEC */
#include "webhook/wh_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* TLS 1.2 and 1.3 only. libmicrohttpd sets ALPN to http/1.1 itself. */
#define WH_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/* A too-large body is read and dropped up to this size before the 413. */
#define WH_DISCARD_MAX (4u * WH_MAX_BODY)

enum route { R_VALIDATE = 0, R_MUTATE, R_HEALTHZ, R_READYZ, R_METRICS, R_NOTFOUND };

/* One admission request, from its first handler call to request-completed. */
struct wh_req {
    enum route route;
    bool too_large;
    bool heap_body;    /* body came without a length: heap, not arena */
    bool is_admission; /* POST /validate or /mutate; else the body is only counted */
    bool answer_now;   /* declared length past WH_DISCARD_MAX: 413 without reading */
    uint64_t start_ns;
    char *body;
    size_t len;
    size_t cap;
    struct wh_arena arena; /* last: the inline chunk is large */
};

/* ---- responses ---- */

static enum MHD_Result reply(struct wh_server *s, struct MHD_Connection *c, unsigned status,
                             const char *type, const char *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    if (r == NULL)
        return MHD_NO;
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES) {
        MHD_destroy_response(r);
        return MHD_NO;
    }
    /* While draining, ask clients to reconnect (to a replica still serving). */
    if (atomic_load(&s->draining))
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply_text(struct wh_server *s, struct MHD_Connection *c, unsigned status,
                                  const char *text)
{
    return reply(s, c, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* ---- health and metrics ---- */

static bool is_ready(struct wh_server *s, char *why, size_t cap)
{
    struct wh_snapshot *snap;
    time_t not_after;

    if (atomic_load(&s->draining)) {
        (void)snprintf(why, cap, "shutting down\n");
        return false;
    }
    snap = wh_snapshot_acquire(&s->policies);
    if (snap == NULL) {
        (void)snprintf(why, cap, "no policies loaded\n");
        return false;
    }
    wh_snapshot_release(snap);
    not_after = (time_t)atomic_load(&s->metrics.cert_not_after);
    if (not_after <= time(NULL)) {
        (void)snprintf(why, cap, "serving certificate expired\n");
        return false;
    }
    /* Until the first Namespace list, every namespaceSelector is undecided and such
     * rules deny (Enforce): keep traffic on replicas that know the labels. Later
     * failures keep the last list serving and the pod ready, so that one API server
     * hiccup cannot take every replica out at once. */
    if (s->cfg.ns_labels_from_cluster) {
        char err[256];

        if (!wh_nslabels_listed(&s->nslabels, err, sizeof(err))) {
            (void)snprintf(why, cap,
                           "namespace labels not listed yet (--namespace-labels-from-cluster); "
                           "%s%s\n",
                           err[0] != '\0' ? "last error: " : "first list under way", err);
            return false;
        }
    }
    (void)snprintf(why, cap, "ok\n");
    return true;
}

static enum MHD_Result serve_metrics(struct wh_server *s, struct MHD_Connection *c)
{
    struct cm_buf out;
    struct wh_snapshot *snap = wh_snapshot_acquire(&s->policies);
    size_t rules = snap != NULL ? policy_set_rule_count(snap->set) : 0;
    enum MHD_Result ret;

    wh_snapshot_release(snap);
    cm_buf_init(&out, 1u << 20);
    if (wh_metrics_format(&s->metrics, rules, &out) != 0) {
        cm_buf_free(&out);
        return reply_text(s, c, 500, "metrics unavailable\n");
    }
    ret = reply(s, c, 200, "text/plain; version=0.0.4; charset=utf-8", out.ptr, out.len);
    cm_buf_free(&out);
    return ret;
}

/* ---- admission ---- */

/* What one worker thread keeps between requests, so that the common path allocates
 * little: its policy report, a response buffer and one spare request context (16 KiB
 * with its inline arena; allocating that per request made glibc consolidate its free
 * lists every time). Freed when the thread exits. */
struct wh_worker {
    struct policy_report *report;
    struct cm_buf resp;
    struct wh_req *spare;
};

static void worker_destroy(void *p)
{
    struct wh_worker *w = p;

    policy_report_destroy(w->report);
    cm_buf_free(&w->resp);
    cm_free(w->spare);
    cm_free(w);
}

/* The calling thread's worker state, created on first use; NULL on CM_ENOMEM. Only
 * libmicrohttpd's worker threads call this (they exit before the key is deleted). */
static struct wh_worker *thread_worker(struct wh_server *s)
{
    struct wh_worker *w = pthread_getspecific(s->report_key);

    if (w != NULL)
        return w;
    w = cm_calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    cm_buf_init(&w->resp, WH_MAX_RESPONSE);
    if (policy_report_create(&w->report) != 0 || pthread_setspecific(s->report_key, w) != 0) {
        worker_destroy(w);
        return NULL;
    }
    return w;
}

static void log_decision(enum wh_endpoint ep, const struct wh_verdict *v, uint64_t lat_ns)
{
    if (!cm_log_enabled(CM_LOG_INFO))
        return;
    cm_log(CM_LOG_INFO, "webhook", "admission", CM_LS("endpoint", wh_endpoint_name(ep)),
           CM_LS("uid", v->uid), CM_LS("op", v->operation), CM_LS("kind", v->kind),
           CM_LS("ns", v->ns), CM_LS("name", v->name), CM_LS("user", v->user),
           CM_LS("decision", wh_decision_name(v->decision)), CM_LI("status", v->http_status),
           CM_LB("dry_run", v->dry_run), CM_LJ("rules", v->rules.len > 0 ? v->rules.ptr : "[]"),
           CM_LS("bound", v->bound[0] != '\0' ? v->bound : NULL),
           CM_LS("err", v->reason[0] != '\0' ? v->reason : NULL),
           CM_LI("latency_us", (long long)(lat_ns / 1000u)));
}

static enum MHD_Result judge(struct wh_server *s, struct MHD_Connection *c, struct wh_req *rq)
{
    enum wh_endpoint ep = rq->route == R_MUTATE ? WH_EP_MUTATE : WH_EP_VALIDATE;
    struct wh_worker *w = thread_worker(s);
    struct wh_snapshot *snap;
    struct wh_nsmap *nsmap;
    bool ns_unknown = false;
    struct wh_verdict v;
    struct cm_buf *resp;
    enum MHD_Result ret;
    uint64_t lat;
    int rc;

    wh_verdict_init(&v);
    snap = wh_snapshot_acquire(&s->policies);
    /* Without a source there is no map: skip the lock on the hot path. */
    nsmap = s->cfg.ns_labels_from_cluster ? wh_nslabels_acquire(&s->nslabels) : NULL;
    if (w == NULL) {
        rc = CM_ENOMEM;
    } else {
        resp = &w->resp;
        cm_buf_reset(resp);
        rc = wh_admission_handle_ns(snap != NULL ? snap->set : NULL, nsmap,
                                    s->cfg.ns_labels_from_cluster, ep, rq->body, rq->len, w->report,
                                    resp, &v, &ns_unknown);
    }
    wh_nsmap_release(nsmap);
    if (ns_unknown && s->cfg.ns_labels_from_cluster) {
        atomic_fetch_add_explicit(&s->metrics.ns_unknown, 1, memory_order_relaxed);
        /* A namespace created since the last list: list again soon, when it matters. */
        if (ep == WH_EP_VALIDATE && snap != NULL && policy_set_uses_namespace_selector(snap->set))
            wh_nslabels_kick(&s->nslabels);
    }
    if (rc != 0) {
        v.http_status = 500;
        v.decision = WH_DEC_ERROR;
        (void)snprintf(v.reason, sizeof(v.reason), "cannot build the response: %s",
                       cm_strerror(rc));
        ret = reply_text(s, c, 500, "internal error: cannot build the response\n");
    } else if (v.http_status == 200) {
        ret = reply(s, c, 200, "application/json", resp->ptr, resp->len);
    } else {
        ret =
            reply(s, c, (unsigned)v.http_status, "text/plain; charset=utf-8", resp->ptr, resp->len);
    }
    lat = cm_time_mono_ns() - rq->start_ns;
    /* The verdict borrows policy and rule names from the snapshot: count first. */
    wh_metrics_observe(&s->metrics, ep, &v, lat);
    log_decision(ep, &v, lat);
    wh_snapshot_release(snap);
    wh_verdict_cleanup(&v);
    return ret;
}

static enum route route_of(const char *url)
{
    size_t n = strcspn(url, "?"); /* libmicrohttpd strips the query; be sure anyway */

    if (n == 9 && strncmp(url, "/validate", 9) == 0)
        return R_VALIDATE;
    if (n == 7 && strncmp(url, "/mutate", 7) == 0)
        return R_MUTATE;
    if (n == 8 && strncmp(url, "/healthz", 8) == 0)
        return R_HEALTHZ;
    if (n == 7 && strncmp(url, "/readyz", 7) == 0)
        return R_READYZ;
    if (n == 8 && strncmp(url, "/metrics", 8) == 0)
        return R_METRICS;
    return R_NOTFOUND;
}

static enum MHD_Result method_not_allowed(struct wh_server *s, struct MHD_Connection *c,
                                          const char *allow)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    static const char text[] = "method not allowed\n";

    r = MHD_create_response_from_buffer(sizeof(text) - 1, (void *)text, MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    if (atomic_load(&s->draining))
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    ret = MHD_queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED, r);
    MHD_destroy_response(r);
    return ret;
}

/* Requests other than admission carry no state: their context pointer is the address
 * of one of these markers (read-only; never freed). */
static const unsigned char simple_marker[R_NOTFOUND + 1];

static bool is_simple(const void *p)
{
    uintptr_t a = (uintptr_t)p;

    return a >= (uintptr_t)simple_marker && a <= (uintptr_t)(simple_marker + R_NOTFOUND);
}

/* Health, readiness, metrics, 404 and 405, answered once the request is complete
 * (answering during the first call would make libmicrohttpd close the connection). */
static enum MHD_Result answer_simple(struct wh_server *s, struct MHD_Connection *c,
                                     enum route route, const char *method)
{
    char why[512];

    if (route == R_NOTFOUND) {
        atomic_fetch_add_explicit(&s->metrics.other_requests[3], 1, memory_order_relaxed);
        return reply_text(s, c, MHD_HTTP_NOT_FOUND,
                          "not found: the webhook serves POST /validate, POST /mutate, "
                          "GET /healthz, /readyz and /metrics\n");
    }
    if (route == R_VALIDATE || route == R_MUTATE)
        return method_not_allowed(s, c, "POST");
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return method_not_allowed(s, c, "GET, HEAD");
    if (route == R_HEALTHZ) {
        atomic_fetch_add_explicit(&s->metrics.other_requests[0], 1, memory_order_relaxed);
        return reply_text(s, c, 200, "ok\n");
    }
    if (route == R_READYZ) {
        bool ok = is_ready(s, why, sizeof(why));

        atomic_fetch_add_explicit(&s->metrics.other_requests[1], 1, memory_order_relaxed);
        return reply_text(s, c, ok ? 200 : 503, why);
    }
    atomic_fetch_add_explicit(&s->metrics.other_requests[2], 1, memory_order_relaxed);
    return serve_metrics(s, c);
}

/* The first call for a request: route and check the declared length. */
static enum MHD_Result first_call(struct wh_server *s, struct MHD_Connection *c, const char *url,
                                  const char *method, void **con_cls)
{
    enum route route = route_of(url);
    const char *cl;
    struct wh_req *rq;

    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
        *con_cls = (void *)(uintptr_t)(simple_marker + route);
        return MHD_YES;
    }

    cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    {
        struct wh_worker *w = thread_worker(s);

        rq = w != NULL ? w->spare : NULL;
        if (rq != NULL)
            w->spare = NULL;
        else
            rq = cm_malloc(sizeof(*rq));
    }
    if (rq == NULL)
        return MHD_NO;
    rq->route = route;
    rq->too_large = false;
    rq->heap_body = false;
    rq->answer_now = false;
    rq->is_admission = (route == R_VALIDATE || route == R_MUTATE) && strcmp(method, "POST") == 0;
    rq->start_ns = cm_time_mono_ns();
    rq->body = NULL;
    rq->len = 0;
    rq->cap = 0;
    wh_arena_init(&rq->arena, WH_MAX_BODY + 65536);
    if (cl != NULL) {
        uint64_t n;

        if (cm_parse_u64(cl, strlen(cl), &n) == 0 && n > WH_MAX_BODY) {
            rq->too_large = true;
            /* Up to WH_DISCARD_MAX the body is read and dropped, then 413 goes out:
             * closing a socket with unread data resets it, and the client could lose
             * the answer. Past that, answer now and close. */
            rq->answer_now = n > WH_DISCARD_MAX;
            /* A client that waits for "100 Continue" sends nothing more: answer now. */
            {
                const char *expect =
                    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);

                if (expect != NULL && strstr(expect, "100-continue") != NULL)
                    rq->answer_now = true;
            }
        } else if (rq->is_admission && cm_parse_u64(cl, strlen(cl), &n) == 0 && n > 0) {
            /* The API server always sends Content-Length: one exact allocation. */
            rq->body = wh_arena_alloc(&rq->arena, (size_t)n);
            rq->cap = rq->body != NULL ? (size_t)n : 0;
        }
    }
    atomic_fetch_add_explicit(&s->metrics.inflight, 1, memory_order_relaxed);
    *con_cls = rq;
    if (rq->answer_now) {
        /* Answer before reading the body; libmicrohttpd then closes the connection. */
        atomic_fetch_add_explicit(&s->metrics.too_large, 1, memory_order_relaxed);
        return reply_text(s, c, MHD_HTTP_CONTENT_TOO_LARGE,
                          "request body larger than 3 MiB (the API server's own limit)\n");
    }
    return MHD_YES;
}

/* Appends a body piece. With a Content-Length the body sits in one arena block of
 * exactly that size; without one (chunked) it grows on the heap by doubling. */
static bool body_add(struct wh_req *rq, const char *p, size_t n)
{
    if (rq->len + n > WH_MAX_BODY) {
        rq->too_large = true;
        return true;
    }
    if (rq->len + n > rq->cap) {
        size_t cap = rq->cap < 4096 ? 4096 : rq->cap * 2;
        char *nb;

        while (cap < rq->len + n)
            cap *= 2;
        if (cap > WH_MAX_BODY)
            cap = WH_MAX_BODY;
        if (rq->heap_body) {
            nb = cm_realloc(rq->body, cap);
        } else {
            nb = cm_malloc(cap);
            if (nb != NULL && rq->len > 0)
                memcpy(nb, rq->body, rq->len);
        }
        if (nb == NULL)
            return false;
        rq->body = nb;
        rq->cap = cap;
        rq->heap_body = true;
    }
    memcpy(rq->body + rq->len, p, n);
    rq->len += n;
    return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct wh_server *s = cls;
    struct wh_req *rq = *con_cls;

    (void)version;
    if (rq == NULL)
        return first_call(s, c, url, method, con_cls);
    if (is_simple(rq)) {
        if (*upload_data_size > 0)
            return MHD_NO; /* a GET with a body: not a client we serve */
        return answer_simple(s, c, (enum route)((const unsigned char *)rq - simple_marker), method);
    }
    if (*upload_data_size > 0) {
        if ((cm_time_mono_ns() - rq->start_ns) / 1000000u > s->cfg.request_timeout_ms) {
            /* Too slow: drop the connection (a slow client must not hold a worker). */
            atomic_fetch_add_explicit(&s->metrics.timeouts, 1, memory_order_relaxed);
            cm_log(CM_LOG_WARN, "webhook", "request body too slow; closing the connection",
                   CM_LI("received", (long long)rq->len));
            return MHD_NO;
        }
        if (!rq->is_admission || rq->too_large) {
            /* Counted, not kept: the answer will be 404, 405 or 413. */
            rq->len += *upload_data_size;
            rq->too_large = rq->too_large || rq->len > WH_MAX_BODY;
            if (rq->len > WH_DISCARD_MAX)
                return MHD_NO;
        } else if (!rq->too_large && !body_add(rq, upload_data, *upload_data_size)) {
            return MHD_NO;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (rq->too_large) {
        atomic_fetch_add_explicit(&s->metrics.too_large, 1, memory_order_relaxed);
        return reply_text(s, c, MHD_HTTP_CONTENT_TOO_LARGE,
                          "request body larger than 3 MiB (the API server's own limit)\n");
    }
    if (!rq->is_admission)
        return answer_simple(s, c, rq->route, method);
    return judge(s, c, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct wh_server *s = cls;
    struct wh_req *rq = *con_cls;

    (void)c;
    (void)toe;
    if (rq == NULL || is_simple(rq)) {
        *con_cls = NULL;
        return;
    }
    if (rq->heap_body)
        cm_free(rq->body);
    wh_arena_cleanup(&rq->arena);
    {
        /* Keep it for this thread's next request (never create state here: during
         * shutdown this runs on the thread that stops the daemon). */
        struct wh_worker *w = pthread_getspecific(s->report_key);

        if (w != NULL && w->spare == NULL)
            w->spare = rq;
        else
            cm_free(rq);
    }
    *con_cls = NULL;
    if (atomic_fetch_sub_explicit(&s->metrics.inflight, 1, memory_order_acq_rel) == 1 &&
        atomic_load(&s->draining)) {
        pthread_mutex_lock(&s->drain_mu);
        pthread_cond_broadcast(&s->drain_cv);
        pthread_mutex_unlock(&s->drain_mu);
    }
}

static const struct sockaddr *client_addr(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

    return ci != NULL ? ci->client_addr : NULL;
}

/* libmicrohttpd's accept policy: the shared connection limits. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    struct wh_server *s = cls;

    (void)addrlen;
    if (wh_connlimit_allows(&s->limits, addr))
        return MHD_YES;
    atomic_fetch_add_explicit(&s->metrics.refused_conns, 1, memory_order_relaxed);
    return MHD_NO;
}

/* Each connection pins the certificate current when it was accepted, and counts
 * towards the connection limits until it closes. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct wh_server *s = cls;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = wh_tls_acquire(&s->tls);
        wh_connlimit_add(&s->limits, client_addr(c));
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        wh_cred_release(*socket_context);
        *socket_context = NULL;
        wh_connlimit_remove(&s->limits, client_addr(c));
    }
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;

    (void)cls;
    if (!cm_log_enabled(CM_LOG_DEBUG))
        return;
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    cm_log(CM_LOG_DEBUG, "webhook", "libmicrohttpd", CM_LS("detail", msg));
}

/* ---- lifecycle ---- */

static struct MHD_Daemon *start_daemon(struct wh_server *s, int fd, unsigned pool)
{
    unsigned flags = MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    struct MHD_OptionItem ops[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, NULL},
        {MHD_OPTION_LISTEN_SOCKET, fd, NULL},
        {MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)wh_tls_retrieve},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)WH_TLS_PRIORITIES},
        /* The limits that matter are shared (on_accept); this one is a backstop. */
        {MHD_OPTION_CONNECTION_LIMIT, s->cfg.max_connections + 16, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, s->cfg.idle_timeout_s, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, s},
        {pool > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, pool, NULL},
        {MHD_OPTION_END, 0, NULL},
    };

    return MHD_start_daemon(flags, 0, on_accept, s, on_request, s, MHD_OPTION_ARRAY, ops,
                            MHD_OPTION_END);
}

int wh_server_create(const struct wh_config *c, struct wh_server **out, struct cm_err *err)
{
    struct wh_server *s = cm_calloc(1, sizeof(*s));
    struct policy_set *set = NULL;
    struct wh_cred *cred = NULL;
    struct wh_watch_cb cb;
    uint64_t digest = 0;
    size_t i;
    size_t want;
    int rc;

    if (s == NULL)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    s->cfg = *c;
    for (i = 0; i < WH_MAX_THREADS; i++)
        s->listen_fds[i] = -1;
    atomic_init(&s->draining, false);
    rc = wh_metrics_init(&s->metrics);
    if (rc == 0)
        rc = wh_holder_init(&s->policies);
    if (rc == 0)
        rc = wh_tls_init(&s->tls);
    if (rc == 0 &&
        (pthread_mutex_init(&s->drain_mu, NULL) != 0 || pthread_cond_init(&s->drain_cv, NULL) != 0))
        rc = CM_ENOMEM;
    if (rc == 0 && pthread_key_create(&s->report_key, worker_destroy) != 0)
        rc = CM_ENOMEM;
    if (rc != 0) {
        cm_free(s);
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    }
    s->has_report_key = true;
    rc = wh_connlimit_init(&s->limits, c->max_connections, c->max_per_ip);
    if (rc != 0) {
        cm_err_set(err, rc, "out of memory");
        goto fail;
    }
    s->has_limits = true;
    rc = wh_nslabels_init(&s->nslabels, &s->metrics);
    if (rc != 0) {
        cm_err_set(err, rc, "out of memory");
        goto fail;
    }
    s->has_nslabels = true;

    rc = wh_cred_load(c->tls_cert, c->tls_key, &cred, err);
    if (rc != 0) {
        rc = rc == CM_ENOMEM ? rc : CM_ETLS;
        goto fail;
    }
    atomic_store(&s->metrics.cert_not_after, (long long)cred->not_after);
    wh_tls_swap(&s->tls, cred);
    rc = wh_policies_load(s->cfg.policies, s->cfg.n_policies, &set, &digest, err);
    if (rc != 0) {
        rc = rc == CM_ENOMEM ? rc : CM_ECONFIG;
        goto fail;
    }
    rc = wh_holder_swap(&s->policies, set, digest);
    if (rc != 0) {
        cm_err_set(err, rc, "out of memory");
        goto fail;
    }
    atomic_store(&s->metrics.policy_generation, 1);
    wh_server_warn_ns_selector(s, set);
    if (c->ns_labels_from_cluster) {
        rc = wh_nslabels_start(&s->nslabels, c, err);
        if (rc != 0)
            goto fail;
    }

    want = c->accept_mode == WH_ACCEPT_REUSEPORT ? c->threads : 1;
    for (i = 0; i < want; i++) {
        unsigned pool = c->accept_mode == WH_ACCEPT_REUSEPORT ? 1 : c->threads;

        rc = wh_listen_open(c, i == 0 ? c->listen_port : s->port,
                            c->accept_mode == WH_ACCEPT_REUSEPORT, &s->listen_fds[i], err);
        if (rc != 0)
            goto fail;
        if (i == 0)
            s->port = wh_listen_port(s->listen_fds[0]);
        s->daemons[i] = start_daemon(s, s->listen_fds[i], pool);
        if (s->daemons[i] == NULL) {
            rc = cm_err_set(err, CM_EIO, "libmicrohttpd could not start on %s:%u", c->listen_host,
                            s->port);
            goto fail;
        }
        s->n_daemons++;
    }
    cb.on_check = wh_server_on_check;
    cb.ctx = s;
    rc = wh_watcher_start(s->cfg.policies, s->cfg.n_policies, s->cfg.tls_cert, s->cfg.tls_key,
                          s->cfg.reload_interval_ms, &cb, &s->watcher, err);
    if (rc != 0)
        goto fail;
    *out = s;
    return 0;
fail:
    s->cfg.shutdown_grace_ms = 0;
    wh_server_destroy(s);
    return rc;
}

uint16_t wh_server_port(const struct wh_server *s)
{
    return s->port;
}

void wh_server_reload(struct wh_server *s)
{
    if (s->watcher != NULL)
        wh_watcher_kick(s->watcher);
}

/* Waits for in-flight admission requests to finish, up to the grace period. */
static void drain(struct wh_server *s)
{
    struct timespec deadline;
    uint64_t ns;

    clock_gettime(CLOCK_REALTIME, &deadline);
    ns = (uint64_t)deadline.tv_nsec + (uint64_t)s->cfg.shutdown_grace_ms * 1000000u;
    deadline.tv_sec += (time_t)(ns / 1000000000u);
    deadline.tv_nsec = (long)(ns % 1000000000u);
    pthread_mutex_lock(&s->drain_mu);
    while (atomic_load(&s->metrics.inflight) > 0) {
        if (pthread_cond_timedwait(&s->drain_cv, &s->drain_mu, &deadline) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&s->drain_mu);
}

void wh_server_destroy(struct wh_server *s)
{
    size_t i;
    long long left;

    if (s == NULL)
        return;
    atomic_store(&s->draining, true);
    /* Stop accepting first, and close the listening sockets so that new connections
     * are refused at once (a load balancer or the API server retries elsewhere). */
    for (i = 0; i < s->n_daemons; i++)
        (void)MHD_quiesce_daemon(s->daemons[i]);
    for (i = 0; i < WH_MAX_THREADS; i++) {
        if (s->listen_fds[i] >= 0) {
            close(s->listen_fds[i]);
            s->listen_fds[i] = -1;
        }
    }
    if (s->cfg.shutdown_grace_ms > 0)
        drain(s);
    left = (long long)atomic_load(&s->metrics.inflight);
    if (left > 0)
        cm_log(CM_LOG_WARN, "webhook", "shutdown grace over; closing in-flight requests",
               CM_LI("inflight", left));
    wh_watcher_stop(s->watcher);
    for (i = 0; i < s->n_daemons; i++)
        MHD_stop_daemon(s->daemons[i]);
    for (i = 0; i < WH_MAX_THREADS; i++) {
        if (s->listen_fds[i] >= 0)
            close(s->listen_fds[i]);
    }
    if (s->has_nslabels)
        wh_nslabels_cleanup(&s->nslabels);
    if (s->has_report_key)
        pthread_key_delete(s->report_key);
    wh_holder_cleanup(&s->policies);
    wh_tls_cleanup(&s->tls);
    if (s->has_limits)
        wh_connlimit_cleanup(&s->limits);
    wh_metrics_cleanup(&s->metrics);
    pthread_cond_destroy(&s->drain_cv);
    pthread_mutex_destroy(&s->drain_mu);
    cm_free(s);
}
