/* SPDX-License-Identifier: Apache-2.0 */
/* wh_int.h - declarations shared inside webhook/ only: policy snapshots, TLS
 * credentials, metrics, the change watcher and the per-request arena. Never include
 * from outside the module.
 *
 * Design note
 * - Snapshots (wh_snapshot.c): the current policy set sits behind a mutex-protected
 *   pointer. A request takes a reference (pointer read + increment in one short
 *   critical section) and drops it when done; the swap replaces the pointer under the
 *   same mutex and drops the holder's reference. The last release destroys the set.
 * - Credentials (wh_tls.c): the same scheme for the serving certificate. Each TLS
 *   connection pins the credential current when it was accepted (libmicrohttpd's
 *   connection notifier) and releases it when it closes, so a rotation never frees a
 *   certificate that a handshake may still use.
 * - Watcher (wh_reload.c): one thread; inotify on the policy directories and on the
 *   certificate's and key's directories, a periodic content digest as the fallback,
 *   and an eventfd for SIGHUP-initiated reloads and for stopping.
 * - Namespace labels (wh_nslabels.c): a refresher thread lists Namespaces through the
 *   kube client every refresh interval and swaps in an immutable name -> labels map
 *   under the same acquire/release discipline as policy snapshots. A failed list keeps
 *   the last map and is retried sooner (1, 2, 4 ... s, at most the interval). Requests
 *   only look up (bsearch, no allocation, no I/O). Until the first list succeeds there
 *   is no map: /readyz answers 503 with the last list error, and admission treats every
 *   namespace's labels as not known yet (policy_request.namespace_labels_unknown), as
 *   it does for a namespace missing from the map; a validating request that misses
 *   kicks the refresher for an early list (at most one per 2 s). */
#ifndef WEBHOOK_WH_INT_H
#define WEBHOOK_WH_INT_H

#include "webhook/wh.h"

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdatomic.h>

/* ---- policy snapshots ---- */

struct wh_snapshot {
    struct policy_set *set;
    atomic_long refs;
    uint64_t generation;
    uint64_t digest;
};

struct wh_holder {
    pthread_mutex_t mu;
    struct wh_snapshot *cur; /* NULL until the first load */
};

CM_NODISCARD int wh_holder_init(struct wh_holder *h);
/* Drops the holder's reference. Call after every user has released. */
void wh_holder_cleanup(struct wh_holder *h);
/* +1 on the current snapshot, or NULL when none. Thread-safe. */
struct wh_snapshot *wh_snapshot_acquire(struct wh_holder *h);
/* -1; the last one destroys the set. NULL-safe, thread-safe. */
void wh_snapshot_release(struct wh_snapshot *s);
/* Installs set (ownership moves in, even on failure) as the current snapshot.
 * Returns 0 or CM_ENOMEM (set destroyed, old snapshot kept). Thread-safe. */
CM_NODISCARD int wh_holder_swap(struct wh_holder *h, struct policy_set *set, uint64_t digest);

/* Loads every path into a new set. *digest gets a digest of the files' names and
 * contents. Returns 0 or the loader's error with err naming file:line. */
CM_NODISCARD int wh_policies_load(char (*paths)[WH_PATH_MAX], size_t n, struct policy_set **out,
                                  uint64_t *digest, struct cm_err *err);
/* Only the digest (the periodic check reads the tree, cheap for policy directories). */
CM_NODISCARD int wh_policies_digest(char (*paths)[WH_PATH_MAX], size_t n, uint64_t *digest,
                                    struct cm_err *err);

/* ---- namespace labels (wh_nslabels.c) ---- */

struct wh_ns_entry {
    const char *name;    /* borrowed from the map's tree */
    const cJSON *labels; /* metadata.labels, or NULL when the Namespace has none */
};

/* An immutable, refcounted map of Namespace name -> labels, built by the refresher and
 * read by requests (the same discipline as policy snapshots). */
struct wh_nsmap {
    cJSON *tree_;                /* owns the (stripped) Namespace objects */
    struct wh_ns_entry *entries; /* sorted by name */
    size_t n;
    int64_t built_at; /* unix seconds of the list that built it */
    atomic_long refs;
};

/* Builds a map from a JSON array of Namespace objects; ownership of items moves in,
 * even on failure. Items without a string metadata.name are skipped; a later duplicate
 * name replaces an earlier one. Annotations and managedFields are dropped to keep the
 * map small. Returns 0 or CM_ENOMEM. Thread-safe. */
CM_NODISCARD int wh_nsmap_create(cJSON *items, int64_t built_at, struct wh_nsmap **out);
/* +1 / -1; the last release frees. NULL-safe, thread-safe. */
void wh_nsmap_acquire(struct wh_nsmap *m);
void wh_nsmap_release(struct wh_nsmap *m);
/* The labels of namespace name (NUL-terminated); *found says whether the namespace is
 * known (labels may still be NULL for a Namespace without labels). m may be NULL.
 * Borrowed from m. No allocation; thread-safe. */
const cJSON *wh_nsmap_lookup(const struct wh_nsmap *m, const char *name, bool *found);

struct kube_client;

/* The current map and the thread that refreshes it. */
struct wh_nslabels {
    pthread_mutex_t mu;
    pthread_cond_t cv;    /* wakes the refresher to stop */
    struct wh_nsmap *cur; /* NULL until the first successful list */
    bool stopping;        /* under mu */
    bool has_thread;
    pthread_t thread;
    struct kube_client *client;
    unsigned refresh_s;
    struct wh_metrics *metrics;
    int64_t last_fail_log_ms; /* refresher thread only: rate-limits failure lines */
    char last_err[256];       /* under mu: the last list's error, "" after a success */
    atomic_bool kicked;       /* a request asked for an early list */
};

/* Initialises a disabled source (no thread; lookups give nothing). Returns 0 or
 * CM_ENOMEM. */
CM_NODISCARD int wh_nslabels_init(struct wh_nslabels *l, struct wh_metrics *m);
/* Loads the kube config from c (kubeconfig, context; in-cluster in a pod), and starts
 * the refresher thread, which lists at once and then every c->ns_refresh_s. Returns 0,
 * CM_ECONFIG (kube config, err says why), CM_ETLS or CM_ENOMEM. Call once, from the
 * thread that owns the server. */
CM_NODISCARD int wh_nslabels_start(struct wh_nslabels *l, const struct wh_config *c,
                                   struct cm_err *err);
/* Installs m (ownership moves in) as the current map. Thread-safe. */
void wh_nslabels_swap(struct wh_nslabels *l, struct wh_nsmap *m);
/* +1 on the current map, or NULL. Thread-safe. */
struct wh_nsmap *wh_nslabels_acquire(struct wh_nslabels *l);
/* True once a list has succeeded (or a map was swapped in). Otherwise copies the last
 * list's error into err[cap] (one line; "" while the first list is under way). Later
 * failures keep it true: the last map keeps serving. Thread-safe. */
bool wh_nslabels_listed(struct wh_nslabels *l, char *err, size_t cap);
/* Asks the refresher for an early list (a namespace was missing from the map). It lists
 * at most once per 2 s this way, and only after a successful list (failures have their
 * own backoff). Does nothing without a refresher thread. Thread-safe; does not block
 * beyond a short mutex-held section. */
void wh_nslabels_kick(struct wh_nslabels *l);
/* Stops and joins the thread, frees the client and the map. Safe after init. */
void wh_nslabels_cleanup(struct wh_nslabels *l);

/* wh_admission_handle() with namespace labels from nsmap (may be NULL): a Namespace
 * object uses its own labels, any other its namespace's from the map (a namespace in the
 * map without labels has none: {}). *ns_unknown is set when the request has a namespace
 * that the map does not know (or there is no map). With ns_source (a label source is
 * configured), such a namespace's labels are "not known yet" for the policies: a
 * namespaceSelector the verdict turns on makes its rule an error (Enforce denies, Audit
 * warns) instead of not matching. Without ns_source they match nothing (as the warning
 * at load says). */
CM_NODISCARD int wh_admission_handle_ns(const struct policy_set *set, const struct wh_nsmap *nsmap,
                                        bool ns_source, enum wh_endpoint ep, const char *body,
                                        size_t len, struct policy_report *report,
                                        struct cm_buf *resp, struct wh_verdict *v,
                                        bool *ns_unknown);

/* ---- TLS credentials ---- */

#define WH_MAX_CHAIN 8

struct wh_cred {
    gnutls_pcert_st pcert[WH_MAX_CHAIN];
    unsigned n_pcert;
    gnutls_privkey_t key;
    time_t not_after;
    uint64_t digest;
    atomic_long refs;
};

struct wh_tls {
    pthread_mutex_t mu;
    struct wh_cred *cur;
};

CM_NODISCARD int wh_tls_init(struct wh_tls *t);
void wh_tls_cleanup(struct wh_tls *t);
/* Reads cert_path (PEM chain, leaf first) and key_path, checks that the key matches the
 * leaf. Returns 0, CM_ENOENT/CM_EIO (files), CM_ETLS (bad PEM, mismatch), CM_ENOMEM. */
CM_NODISCARD int wh_cred_load(const char *cert_path, const char *key_path, struct wh_cred **out,
                              struct cm_err *err);
/* Digest of the two files' contents (to notice a change). */
CM_NODISCARD int wh_cred_digest(const char *cert_path, const char *key_path, uint64_t *digest,
                                struct cm_err *err);
void wh_cred_release(struct wh_cred *c);
struct wh_cred *wh_tls_acquire(struct wh_tls *t);
/* Installs c (ownership moves in) as the credential for new connections. */
void wh_tls_swap(struct wh_tls *t, struct wh_cred *c);
/* The libmicrohttpd/GnuTLS retrieve callback: serves the credential pinned by the
 * connection (its socket context). */
int wh_tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                    gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *pkey);

/* 64-bit FNV-1a, chained through h. */
uint64_t wh_fnv1a(uint64_t h, const void *p, size_t n);
#define WH_FNV_INIT 1469598103934665603ull

/* ---- metrics ---- */

#define WH_LAT_BUCKETS 14
#define WH_DENIAL_SLOTS 256

struct wh_denial_slot {
    char policy[128];
    char rule[128];
    unsigned long long count;
};

struct wh_metrics {
    atomic_ullong requests[WH_EP_COUNT_][WH_DEC_COUNT_];
    atomic_ullong other_requests[4]; /* healthz, readyz, metrics, not found */
    atomic_ullong too_large;         /* 413 */
    atomic_ullong timeouts;          /* 408 */
    atomic_ullong refused_conns;     /* over a connection limit */
    atomic_ullong lat_bucket[WH_EP_COUNT_][WH_LAT_BUCKETS];
    atomic_ullong lat_count[WH_EP_COUNT_];
    atomic_ullong lat_sum_ns[WH_EP_COUNT_];
    atomic_ullong reloads;
    atomic_ullong reload_failures;
    atomic_ullong cert_reloads;
    atomic_ullong cert_reload_failures;
    atomic_llong cert_not_after;
    atomic_ullong policy_generation;
    atomic_llong inflight;
    atomic_bool ns_enabled; /* a namespace-label source is configured */
    atomic_ullong ns_refresh_failures;
    atomic_ullong ns_unknown; /* requests whose namespace had no known labels */
    atomic_llong ns_built_at; /* unix seconds of the serving map; 0 = none yet */
    atomic_llong ns_known;    /* namespaces in the serving map */
    pthread_mutex_t denial_mu;
    struct wh_denial_slot denials[WH_DENIAL_SLOTS];
    size_t n_denials;
    unsigned long long denials_other;
};

CM_NODISCARD int wh_metrics_init(struct wh_metrics *m);
void wh_metrics_cleanup(struct wh_metrics *m);
/* Counts one answered admission request. Thread-safe. */
void wh_metrics_observe(struct wh_metrics *m, enum wh_endpoint ep, const struct wh_verdict *v,
                        uint64_t latency_ns);
/* The Prometheus text exposition (format 0.0.4). Thread-safe. */
CM_NODISCARD int wh_metrics_format(struct wh_metrics *m, size_t rules, struct cm_buf *out);

/* ---- per-request arena ---- */

#define WH_ARENA_INLINE 16384

typedef void (*wh_cleanup_fn)(void *p);

struct wh_arena_chunk;

struct wh_arena_cleanup {
    wh_cleanup_fn fn;
    void *p;
    struct wh_arena_cleanup *next;
};

/* A bump allocator whose first chunk sits inside the owner (no allocation for small
 * requests), plus a list of cleanups run at destroy (nginx pool cleanups). */
struct wh_arena {
    size_t used_;
    size_t limit_; /* total bytes the arena may hand out */
    size_t total_;
    struct wh_arena_chunk *chunks_;
    struct wh_arena_cleanup *cleanups_;
    _Alignas(16) unsigned char inline_[WH_ARENA_INLINE];
};

void wh_arena_init(struct wh_arena *a, size_t limit);
/* n bytes, 16-aligned, or NULL (CM_ENOMEM or past the limit). Not thread-safe. */
void *wh_arena_alloc(struct wh_arena *a, size_t n);
/* Registers fn(p) to run at wh_arena_cleanup(). Returns 0 or CM_ENOMEM (fn(p) is then
 * run at once so nothing leaks). */
CM_NODISCARD int wh_arena_add_cleanup(struct wh_arena *a, wh_cleanup_fn fn, void *p);
/* Runs the cleanups (last registered first) and frees the chunks. */
void wh_arena_cleanup(struct wh_arena *a);

/* ---- connection limits (wh_connlimit.c) ---- */

struct wh_connlimit_node;

/* Counts of open connections, in all and per client address, shared by every daemon.
 * Checked when a connection is accepted (libmicrohttpd's accept policy) and counted
 * when it starts and ends (its connection notifier), so a connection rejected later
 * by libmicrohttpd is never counted. Daemons accepting at the same instant can each
 * pass the check: the limits may be exceeded by at most the number of daemons - 1. */
struct wh_connlimit {
    pthread_mutex_t mu;
    struct wh_connlimit_node **buckets;
    size_t n_buckets;
    unsigned max_total;
    unsigned max_per_ip;
    unsigned total;
};

/* Returns 0 or CM_ENOMEM. */
CM_NODISCARD int wh_connlimit_init(struct wh_connlimit *l, unsigned max_total, unsigned max_per_ip);
/* Frees everything. Call after every daemon stopped. Safe after a failed init. */
void wh_connlimit_cleanup(struct wh_connlimit *l);
/* True when one more connection from sa fits both limits. Thread-safe. Addresses of
 * other families than IPv4/IPv6 are limited by the total only. */
bool wh_connlimit_allows(struct wh_connlimit *l, const struct sockaddr *sa);
/* Counts a connection that started / ended. Thread-safe; cannot fail (out of memory,
 * an address goes uncounted by the per-address limit). */
void wh_connlimit_add(struct wh_connlimit *l, const struct sockaddr *sa);
void wh_connlimit_remove(struct wh_connlimit *l, const struct sockaddr *sa);

/* ---- watcher ---- */

struct wh_watcher;

/* What the watcher calls, from its own thread. */
struct wh_watch_cb {
    /* Re-check everything now; returns true to be called again after a short delay
     * (a change that looked half-written). */
    bool (*on_check)(bool forced, void *ctx);
    void *ctx;
};

/* Starts the watcher thread: inotify on the policy paths (a directory itself, a file's
 * directory) and on the certificate's and key's directories, a periodic check every
 * interval_ms, and kicks. cb->on_check runs on that thread after a change settles
 * (100 ms), at each interval, and at once for a kick. Returns 0, CM_EIO (eventfd) or
 * CM_ENOMEM. Without inotify it logs a warning and relies on the periodic check. */
CM_NODISCARD int wh_watcher_start(char (*paths)[WH_PATH_MAX], size_t n, const char *cert,
                                  const char *key, unsigned interval_ms,
                                  const struct wh_watch_cb *cb, struct wh_watcher **out,
                                  struct cm_err *err);
/* Wakes the watcher for a forced check (SIGHUP). Thread-safe. */
void wh_watcher_kick(struct wh_watcher *w);
/* Stops and joins the thread; frees w. NULL-safe. */
void wh_watcher_stop(struct wh_watcher *w);

/* A certificate/key pair that fails to load is retried this long before the failure is
 * reported (a writer replaces the two files one after the other). */
#define WH_CERT_SETTLE_MS 2000

/* ---- the server (wh_server.c, wh_server_reload.c, wh_listen.c) ---- */

/* The running server. Fields other than the watcher-only digests are set before the
 * daemons start and read-only after, except the atomics and the holders. */
struct wh_server {
    struct wh_config cfg;
    struct wh_holder policies;
    struct wh_nslabels nslabels;
    bool has_nslabels;
    struct wh_tls tls;
    struct wh_metrics metrics;
    struct wh_connlimit limits;
    bool has_limits;
    struct wh_watcher *watcher;
    struct MHD_Daemon *daemons[WH_MAX_THREADS];
    int listen_fds[WH_MAX_THREADS];
    size_t n_daemons;
    uint16_t port;
    pthread_key_t report_key;
    bool has_report_key;
    atomic_bool draining;
    pthread_mutex_t drain_mu;
    pthread_cond_t drain_cv;
    /* Watcher thread only: digests that failed to load, so a broken file is logged
     * once, not at every periodic check. */
    uint64_t failed_policy_digest;
    uint64_t failed_cert_digest;
    uint64_t suspect_cert_digest;
    int64_t suspect_since_ms;
};

/* The watcher's callback: re-reads the certificate and the policies when they
 * changed. Call only from the watcher thread. Returns true to be called again soon. */
bool wh_server_on_check(bool forced, void *ctx);

/* Warns when set uses namespaceSelector and no namespace-label source is configured
 * (such rules then match nothing at admission). Cannot fail. */
void wh_server_warn_ns_selector(const struct wh_server *s, const struct policy_set *set);

/* Binds and listens on c->listen_host:port (SO_REUSEPORT when asked). Returns 0,
 * CM_EINVAL (bad address) or CM_EIO with err naming the address. */
CM_NODISCARD int wh_listen_open(const struct wh_config *c, uint16_t port, bool reuseport, int *out,
                                struct cm_err *err);
/* The port a socket is bound to (0 when unknown). */
uint16_t wh_listen_port(int fd);

#endif /* WEBHOOK_WH_INT_H */
