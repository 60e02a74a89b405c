/* SPDX-License-Identifier: Apache-2.0 */
/* wh.h - the admission webhook: AdmissionReview in, AdmissionReview out, served over
 * HTTPS by libmicrohttpd, with hot policy reload and certificate rotation.
 *
 * Design note
 * - Layers: wh_config (flags + LW_* environment), wh_admission (bytes of one
 *   AdmissionReview -> response bytes + a verdict for logs/metrics; no I/O), wh_patch
 *   (RFC 6902 patch for the binding annotation), wh_server (libmicrohttpd, routing,
 *   limits, health, metrics), wh_snapshot (refcounted policy snapshots), wh_reload
 *   (inotify + periodic digest + SIGHUP), wh_tls (GnuTLS credentials swapped under a
 *   retrieve callback, so that a rotated certificate reaches new handshakes with no
 *   restart), wh_nslabels (optional: Namespace labels listed from the API server by a
 *   background thread into an immutable map that requests read without I/O, for
 *   namespaceSelector).
 * - Ownership: a request owns its context (arena, body, response) from its first
 *   handler call until libmicrohttpd's request-completed callback frees it. A request
 *   holds one reference on the policy snapshot it started with.
 * - Threads: the handler runs on libmicrohttpd's worker threads; one watcher thread
 *   reloads; with a namespace-label source, one refresher thread lists Namespaces; the
 *   caller's thread waits for signals. Every function says which.
 * - Limits: WH_MAX_BODY (3 MiB, the API server's own cap), WH_MAX_UID, connection
 *   limits and timeouts from struct wh_config. */
#ifndef WEBHOOK_WH_H
#define WEBHOOK_WH_H

#include "common/cm.h"
#include "policy/policy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WH_MAX_BODY (3u << 20) /* request bodies past this get 413 */
#define WH_MAX_UID 256         /* request.uid longer than this is a 400 */
#define WH_MAX_POLICY_PATHS 8  /* --policies given more than once */
#define WH_PATH_MAX 1024       /* one configured path */
#define WH_MAX_THREADS 64
#define WH_MAX_RESPONSE (1u << 20) /* a response body (denial text is bounded by it) */

/* ---- configuration ---- */

enum wh_accept_mode {
    WH_ACCEPT_POOL = 0,  /* one daemon, libmicrohttpd's thread pool on one socket */
    WH_ACCEPT_REUSEPORT, /* one daemon per thread, each on its own SO_REUSEPORT socket */
};

/* Settings of `lockwarden webhook`. Value type: the caller owns it; no heap. */
struct wh_config {
    char listen_host[64]; /* "127.0.0.1", "0.0.0.0" or "::" */
    uint16_t listen_port; /* 0: an ephemeral port (logged when listening) */
    char tls_cert[WH_PATH_MAX];
    char tls_key[WH_PATH_MAX];
    char policies[WH_MAX_POLICY_PATHS][WH_PATH_MAX];
    size_t n_policies;
    unsigned threads; /* 1..WH_MAX_THREADS */
    enum cm_log_level log_level;
    enum wh_accept_mode accept_mode;
    unsigned max_connections;    /* all clients */
    unsigned max_per_ip;         /* one client address */
    unsigned idle_timeout_s;     /* a connection idle this long is closed */
    unsigned request_timeout_ms; /* a request body must arrive within this */
    unsigned reload_interval_ms; /* periodic digest check (inotify fallback) */
    unsigned shutdown_grace_ms;  /* SIGTERM: how long in-flight requests may finish */
    /* Namespace labels for namespaceSelector (wh_nslabels.c). Off by default. */
    bool ns_labels_from_cluster;  /* list Namespaces from the API server */
    char kubeconfig[WH_PATH_MAX]; /* "" = in-cluster when in a pod, else $KUBECONFIG */
    char kube_context[256];       /* "" = current-context */
    unsigned ns_refresh_s;        /* list every this many seconds (default 30) */
};

/* Looks up an environment variable; returns NULL when unset. */
typedef const char *(*wh_env_fn)(const char *name, void *ctx);

/* Fills c with the defaults (listen 0.0.0.0:8443, 2 threads, info, reuseport, 1024
 * connections, 256 per address, 30 s idle, 10 s per request, reload check every 2 s,
 * 10 s shutdown grace, no namespace labels, refreshed every 30 s when enabled).
 * Cannot fail. */
void wh_config_init(struct wh_config *c);

/* Applies the LW_LISTEN, LW_TLS_CERT, LW_TLS_KEY, LW_POLICIES (comma-separated),
 * LW_THREADS, LW_LOG_LEVEL, LW_NAMESPACE_LABELS (cluster|off), LW_KUBECONFIG,
 * LW_NAMESPACE_REFRESH (seconds, 1-86400) environment (through env, which may be NULL: no
 * environment), then the flags in argv[1..argc) (argv[0] is the command
 * name), so flags override the environment. Requires a certificate, a key and at least one policies
 * path. Returns 0, CM_EINVAL (err names the flag or variable and the bad value) or, for --help,
 * CM_ECANCELED with nothing in err. On failure c may be partly updated. Not thread-safe (call
 * before threads start). */
CM_NODISCARD int wh_config_parse(struct wh_config *c, int argc, char **argv, wh_env_fn env,
                                 void *env_ctx, struct cm_err *err);

/* The usage text of `lockwarden webhook`. Cannot fail. */
const char *wh_config_usage(void);

/* ---- one AdmissionReview (no I/O; the fuzz target and the server share it) ---- */

enum wh_endpoint { WH_EP_VALIDATE = 0, WH_EP_MUTATE, WH_EP_COUNT_ };

enum wh_decision {
    WH_DEC_ALLOWED = 0, /* allowed, nothing to say */
    WH_DEC_DENIED,      /* allowed: false, 403 */
    WH_DEC_WARNED,      /* allowed with warnings (Audit failures) */
    WH_DEC_PATCHED,     /* allowed with a JSONPatch */
    WH_DEC_INVALID,     /* HTTP 4xx: not an AdmissionReview we can answer */
    WH_DEC_ERROR,       /* HTTP 500: out of memory or an evaluation error */
    WH_DEC_COUNT_
};

/* The name used in logs and metrics ("allowed", "denied", ...). Cannot fail. */
const char *wh_decision_name(enum wh_decision d);
const char *wh_endpoint_name(enum wh_endpoint e);

#define WH_VERDICT_RULES_MAX 4096 /* the JSON array of failing rules, capped */

/* What happened to one request, for the decision log and metrics. Value type; the
 * caller provides it to wh_verdict_init() and releases it with wh_verdict_cleanup().
 * Strings are copies (truncated to their arrays) so they outlive the request body;
 * they never hold object contents. */
struct wh_verdict {
    int http_status; /* 200, 400, 413, 500 */
    enum wh_decision decision;
    bool dry_run;
    char uid[WH_MAX_UID + 1];
    char operation[16];
    char kind[64];
    char ns[254];
    char name[254];
    char user[256];
    char reason[256];    /* for 4xx/5xx: what was wrong; else "" */
    char bound[254];     /* mutate: the BackupPolicy bound (patched or already) */
    struct cm_buf rules; /* JSON array of "policy/rule" that failed, or empty */
    /* Failing rules by policy and rule for metrics: borrowed from the snapshot, valid
     * while the caller holds the snapshot. */
    const char *denied_policy[16];
    const char *denied_rule[16];
    size_t n_denied;
};

void wh_verdict_init(struct wh_verdict *v);
void wh_verdict_cleanup(struct wh_verdict *v);

/* Judges one AdmissionReview body[0..len) (not NUL-terminated) sent to endpoint ep,
 * against set (NULL means no policies are loaded: 500), and writes the HTTP response body
 * into resp (a cm_buf the caller initialised, cap >= 64 KiB; WH_MAX_RESPONSE advised)
 * and the outcome into v (initialised by the caller).
 * - 200 with an AdmissionReview in the version asked (admission.k8s.io/v1 or v1beta1)
 *   echoing request.uid, for every request that can be answered;
 * - 400 (v->decision WH_DEC_INVALID) with a plain-text reason in resp for a body that
 *   is not JSON, not an AdmissionReview, has no request, uid or operation;
 * - 500 (WH_DEC_ERROR) when set is NULL or evaluation ran out of memory.
 * report is a caller-owned policy_report reused across calls (one per thread).
 * Returns 0 when resp holds the response (whatever the status), or CM_ENOMEM /
 * CM_ETOOBIG when even the response could not be built (the caller answers 500).
 * Thread-safe for distinct resp, v and report. Never logs. */
CM_NODISCARD int wh_admission_handle(const struct policy_set *set, enum wh_endpoint ep,
                                     const char *body, size_t len, struct policy_report *report,
                                     struct cm_buf *resp, struct wh_verdict *v);

/* ---- RFC 6902 patch for the binding annotation ---- */

/* Appends to out the JSON Patch array that makes object's
 * metadata.annotations[key] equal value: an `add` of the whole annotations map when
 * it is absent (or not an object), an `add` of /metadata when even metadata is
 * absent, else an `add` (new key) or `replace` (other value) of
 * /metadata/annotations/<key escaped per RFC 6901: ~ -> ~0, / -> ~1>. Appends nothing
 * and returns 0 when the annotation already has that value (*changed = false).
 * Returns 0, CM_EINVAL (object is not a JSON object) or the cm_buf error (out is then
 * reset). Thread-safe. */
CM_NODISCARD int wh_patch_annotation(const cJSON *object, const char *key, const char *value,
                                     struct cm_buf *out, bool *changed);

/* Appends s[0..n) escaped as one RFC 6901 JSON-pointer token (~0, ~1). */
CM_NODISCARD int wh_pointer_escape(const char *s, size_t n, struct cm_buf *out);

/* ---- the server ---- */

struct wh_server;

/* Loads the policies and the certificate (failing fast with err naming the file),
 * binds the listening socket(s) and starts serving and watching for changes.
 * c is copied. Returns 0, CM_ECONFIG (policies), CM_ETLS (certificate/key), CM_EIO
 * (bind/listen, err says which address), CM_ENOMEM. *out untouched on failure.
 * Call from one thread; SIGPIPE, SIGHUP, SIGTERM and SIGINT must already be blocked
 * in the calling thread so that the server's threads inherit the mask. */
CM_NODISCARD int wh_server_create(const struct wh_config *c, struct wh_server **out,
                                  struct cm_err *err);

/* The port actually bound (useful with listen port 0). Cannot fail. */
uint16_t wh_server_port(const struct wh_server *s);

/* Asks the watcher thread to reload policies (and re-check the certificate) now, as
 * on SIGHUP. Thread-safe; async-signal-unsafe (call from a sigwait loop). */
void wh_server_reload(struct wh_server *s);

/* Graceful stop: stops accepting, waits up to shutdown_grace_ms for in-flight
 * requests, closes the rest, stops the watcher. Then frees s. NULL-safe. Call from the
 * thread that created s. */
void wh_server_destroy(struct wh_server *s);

/* `lockwarden webhook`: parses argv and the environment, serves until SIGTERM or
 * SIGINT, reloads on SIGHUP. Returns the process exit code (0 clean stop, 2 usage or
 * startup error). */
int wh_main(int argc, char **argv);

#endif /* WEBHOOK_WH_H */
