/* SPDX-License-Identifier: Apache-2.0 */
/* kube.h - the Kubernetes API client: configuration (in-cluster or kubeconfig),
 * discovery, typed list/get/create/update/patch/delete, retries and error mapping.
 *
 * Design note
 * - Config: a struct kube_config is built once (kube_config_load and friends), may be
 *   tuned with the kube_config_set_* calls, and is copied by kube_client_create(), so
 *   the caller may destroy it right after. Secrets it holds (bearer tokens, private
 *   keys, passwords) are wiped with cm_free_secure on destroy and are never logged.
 * - Transport: HTTP goes through a small vtable (struct kube_transport_ops, like curl's
 *   vtls). The default is libcurl (TLS via OpenSSL, PEM kept in memory with
 *   CURLOPT_*_BLOB). Tests plug a fault transport with kube_config_set_transport().
 * - Retries: 429, 500, 502, 503, 504 and connection errors (refused, reset, empty
 *   reply, timeout) are retried with capped exponential backoff plus jitter; a
 *   Retry-After header (seconds) overrides the computed delay (still capped by
 *   max_delay_ms and the deadline). Attempts and total time are bounded. The sleep is
 *   a config callback, so tests record the delays instead of sleeping. Every method is
 *   retried: a create whose first attempt reached the server before the connection
 *   broke may come back CM_EEXIST, which callers of kube_create should treat as "maybe
 *   mine" (compare the object). libcurl itself also re-sends once, silently, when a
 *   kept-alive connection turns out to be dead.
 * - Errors: every failure returns a CM_E* code and a sentence in struct cm_err that
 *   names the verb and the resource, e.g.
 *     CM_EAUTH   "forbidden: cannot list secrets in namespace prod: <server message>"
 *     CM_EAUTH   "unauthorized: cannot get deployments.apps demo in namespace prod: ..."
 *     CM_ENOENT  404 NotFound;  CM_EEXIST  409 AlreadyExists (create);
 *     CM_EAGAIN  409 Conflict (update with a stale resourceVersion: re-read, retry);
 *     CM_EAGAIN  410 Gone/Expired (a continue token too old), or retries exhausted
 *                on 429/5xx (the message says which status and how many attempts);
 *     CM_EINVAL  400 BadRequest / 422 Invalid;  CM_EHTTP  any other status;
 *     CM_ECONN   connection failed after the retries;  CM_ETIMEDOUT  deadline;
 *     CM_ETLS    TLS handshake or certificate verification failed (not retried);
 *     CM_EPROTO  a 2xx body that is not the JSON expected;
 *     CM_ETOOBIG a response body over the cap (KUBE_MAX_BODY by default).
 *   The server's Status object (kind: Status) gives the reason and message.
 * - Responses are parsed with cJSON_ParseWithLengthOpts (never cJSON_GetErrorPtr),
 *   nesting capped at KUBE_MAX_JSON_DEPTH.
 * - Threads: a struct kube_client is used by one thread at a time (one libcurl easy
 *   handle inside); use one client per thread. Configs are not thread-safe to modify,
 *   but a finished config may be copied into clients from several threads. Discovery
 *   results are immutable and may be read from any thread.
 * - Memory: everything comes from cm_malloc, so OOM tests reach every path. cJSON
 *   trees handed out are the caller's (cJSON_Delete); cJSON must route through
 *   cm_malloc (policy_json_hooks_install) for OOM tests to cover them.
 * - List items: the apiserver omits apiVersion/kind on the items of built-in lists;
 *   kube_list() fills them in (from the list's apiVersion and kind minus "List"), so
 *   every item handed to a callback is a complete object. */
#ifndef BACKUP_KUBE_KUBE_H
#define BACKUP_KUBE_KUBE_H

#include "common/cm.h"
#include "backup/kube/kube_jt.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- limits ---- */

#define KUBE_MAX_BODY (64u << 20)         /* one response body (one list page): 64 MiB */
#define KUBE_MAX_REQUEST_BODY (16u << 20) /* one request body */
#define KUBE_MAX_JSON_DEPTH 256           /* nesting of a response */
#define KUBE_MAX_KUBECONFIG (4u << 20)    /* a kubeconfig file */
#define KUBE_MAX_KUBECONFIG_FILES 16      /* distinct files listed in $KUBECONFIG */
#define KUBE_MAX_PATH 4096                /* path + query of one request */
#define KUBE_MAX_NAME 254                 /* group, kind, plural, namespace, name (+NUL) */
#define KUBE_MAX_RESOURCES 4096           /* resource types kept by discovery */
#define KUBE_DEFAULT_LIMIT 500            /* list page size when opts.limit is 0 */

/* Default in-cluster locations (Kubernetes conventions). */
#define KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* ---- configuration ---- */

struct kube_config;

/* Sleep callback: sleep for ms milliseconds (tests record instead). ctx as given. */
typedef void (*kube_sleep_fn)(uint64_t ms, void *ctx);

/* Loads a kubeconfig file (YAML or JSON), or merges the files of $KUBECONFIG.
 * path: the file, used alone (no merging, as kubectl --kubeconfig); NULL or "" means
 *   $KUBECONFIG, else ~/.kube/config ($HOME).
 * $KUBECONFIG: a ':'-separated list of files, merged with kubectl's rules. Empty
 *   entries are ignored, a repeated file is read once, and files that do not exist are
 *   skipped; any other read error, and a parse error in any file, fails the load. The
 *   first file with a non-empty current-context sets it. Clusters, users and contexts
 *   are merged by name: the first file that defines a name wins, and later definitions
 *   of that name are ignored entirely (not merged field by field). At most
 *   KUBE_MAX_KUBECONFIG_FILES distinct entries (existing or not), each file at most
 *   KUBE_MAX_KUBECONFIG bytes; all the parsed files are held until the load ends. An
 *   empty file is an empty kubeconfig.
 * context: the context to use; NULL or "" means current-context.
 * Supported fields: clusters[].cluster.{server, certificate-authority,
 *   certificate-authority-data, insecure-skip-tls-verify, tls-server-name};
 *   users[].user.{token, tokenFile, client-certificate, client-certificate-data,
 *   client-key, client-key-data, username, password}; contexts[].context.{cluster,
 *   user, namespace}. Relative file paths are relative to the directory of the
 *   kubeconfig that defines the entry (each file its own, when merged).
 *   File references are read at load time and must be regular files (not "-", a
 *   FIFO or a device), except tokenFile, which is re-read by the client when its mtime
 *   or size changes (rotating tokens). token wins over tokenFile; a token together
 *   with username is an error. insecure-skip-tls-verify turns off peer and host
 *   verification; tls-server-name is sent as SNI and checked against the certificate
 *   while connecting to the server's real address.
 * Errors: CM_ENOENT (no file; for $KUBECONFIG, none of its files exists), CM_EAUTH or
 *   CM_EIO (a file exists but cannot be read), CM_EPARSE (not YAML/JSON; "file:line:col"),
 *   CM_ECONFIG (missing current-context, context "x" not found, cluster/user named by
 *   the context not found, no server, unreadable referenced file, bad base64),
 *   CM_EUNSUPPORTED (user "x" uses an exec or auth-provider plugin), CM_ETOOBIG (a file
 *   over KUBE_MAX_KUBECONFIG, more than KUBE_MAX_KUBECONFIG_FILES files), CM_ENOMEM.
 *   err names the file and the entry; a merged lookup that fails names
 *   "KUBECONFIG=<value>". *out untouched on failure. Not thread-safe (reads env). */
CM_NODISCARD int kube_config_from_kubeconfig(const char *path, const char *context,
                                             struct kube_config **out, struct cm_err *err);

/* Parses a kubeconfig held in memory (one file, no merging). name is used in messages;
 * base_dir resolves relative paths (NULL = current directory). Same fields and errors
 * as above. */
CM_NODISCARD int kube_config_parse_kubeconfig(const char *name, const char *buf, size_t len,
                                              const char *base_dir, const char *context,
                                              struct kube_config **out, struct cm_err *err);

/* In-cluster config: server https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT
 * (IPv6 hosts bracketed), token, ca.crt and namespace from KUBE_SA_DIR. The token file
 * is re-read whenever its mtime or size changes (projected tokens rotate). Errors:
 * CM_ECONFIG (variables unset, token or ca.crt missing/unreadable), CM_ENOMEM. */
CM_NODISCARD int kube_config_in_cluster(struct kube_config **out, struct cm_err *err);

/* The same with explicit inputs (tests, or a non-standard mount): sa_dir holds
 * token, ca.crt and optionally namespace; host and port as the environment gives them. */
CM_NODISCARD int kube_config_in_cluster_at(const char *sa_dir, const char *host, const char *port,
                                           struct kube_config **out, struct cm_err *err);

/* The CLI's choice (client-go's rule): when kubeconfig is NULL, $KUBECONFIG is unset or
 * empty, no context is named and KUBERNETES_SERVICE_HOST is set, the in-cluster
 * config; otherwise kube_config_from_kubeconfig(kubeconfig, context). Errors as those. */
CM_NODISCARD int kube_config_load(const char *kubeconfig, const char *context,
                                  struct kube_config **out, struct cm_err *err);

/* A bare config for a server URL ("https://127.0.0.1:6443" or "http://..."), with no
 * credentials; add them with the setters below. Returns 0, CM_EINVAL or CM_ENOMEM. */
CM_NODISCARD int kube_config_create(const char *server, struct kube_config **out,
                                    struct cm_err *err);

/* Copies. NULL-safe destroy; wipes secrets. */
CM_NODISCARD int kube_config_dup(const struct kube_config *c, struct kube_config **out);
void kube_config_destroy(struct kube_config *c);

/* Setters. Strings are copied (NULL clears). Return 0 or CM_ENOMEM (CM_EINVAL for a
 * bad value); on failure the config is unchanged. */
CM_NODISCARD int kube_config_set_token(struct kube_config *c, const char *token);
CM_NODISCARD int kube_config_set_ca_pem(struct kube_config *c, const char *pem, size_t len);
CM_NODISCARD int kube_config_set_client_cert(struct kube_config *c, const char *cert_pem,
                                             size_t cert_len, const char *key_pem, size_t key_len);
CM_NODISCARD int kube_config_set_namespace(struct kube_config *c, const char *ns);
CM_NODISCARD int kube_config_set_user_agent(struct kube_config *c, const char *ua);
void kube_config_set_insecure(struct kube_config *c, bool insecure_skip_verify);

/* Retry policy. max_attempts >= 1 (default 5), base_ms (default 200) doubles per
 * attempt up to max_delay_ms (default 30000), jitter adds up to 25%; deadline_ms
 * bounds one call including its retries (default 120000; 0 = none). */
void kube_config_set_retry(struct kube_config *c, unsigned max_attempts, uint64_t base_ms,
                           uint64_t max_delay_ms, uint64_t deadline_ms);
/* Per-request timeouts: connect (default 10000 ms) and whole transfer (default
 * 300000 ms); a transfer slower than 1 byte/s for 60 s is also aborted. */
void kube_config_set_timeouts(struct kube_config *c, uint64_t connect_ms, uint64_t request_ms);
/* The sleep used between retries (default nanosleep). fn NULL restores the default. */
void kube_config_set_sleep(struct kube_config *c, kube_sleep_fn fn, void *ctx);
/* Response body cap (default KUBE_MAX_BODY; minimum 1024). */
void kube_config_set_max_body(struct kube_config *c, size_t max);

/* Borrowed getters; live until the config's next change or destroy. */
const char *kube_config_server(const struct kube_config *c);
/* The context's namespace, else the service account's, else "default". */
const char *kube_config_namespace(const struct kube_config *c);
/* The context name ("" in-cluster or for kube_config_create). */
const char *kube_config_context(const struct kube_config *c);
bool kube_config_is_in_cluster(const struct kube_config *c);

/* ---- transport (backend vtable; tests plug a fault transport) ---- */

/* One HTTP exchange as the client asks for it. All borrowed for the call. */
struct kube_http_req {
    const char *method;       /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *url;          /* server + path + query */
    const char *content_type; /* NULL when no body */
    const char *body;         /* may be NULL */
    size_t body_len;
    const char *authorization; /* "Bearer ..." or "Basic ...", or NULL; never log */
    const char *user_agent;
};

/* What a transport fills. body is initialised by the client with the body cap; the
 * transport appends to it (CM_ETOOBIG when over the cap). */
struct kube_http_resp {
    long status;        /* HTTP status */
    long retry_after_s; /* Retry-After in seconds, -1 when absent or not a number */
    struct cm_buf body;
};

struct kube_transport_ops {
    const char *name;
    /* Builds the transport state for one client from its config (TLS material etc.).
     * cfg is the client's own copy and stays valid until close(), so the transport may
     * point into it instead of copying secrets. Returns 0, CM_ETLS (bad PEM),
     * CM_ENOMEM. */
    int (*open)(const struct kube_config *cfg, void **tctx, struct cm_err *err);
    /* Performs one exchange. Returns 0 with resp filled for any HTTP status, or
     * CM_ECONN (refused, reset, empty reply: retried), CM_ETIMEDOUT (retried), CM_ETLS
     * (not retried), CM_ETOOBIG (body over the cap: not retried), CM_ENOMEM. */
    int (*send)(void *tctx, const struct kube_http_req *req, struct kube_http_resp *resp,
                struct cm_err *err);
    void (*close)(void *tctx);
};

/* The libcurl transport (the default). Static; cannot fail. */
const struct kube_transport_ops *kube_transport_curl(void);
/* Uses ops (borrowed; must outlive clients made from this config); user_ctx is
 * returned by kube_config_transport_ctx() for the ops' open(). NULL = libcurl. */
void kube_config_set_transport(struct kube_config *c, const struct kube_transport_ops *ops,
                               void *user_ctx);
void *kube_config_transport_ctx(const struct kube_config *c);

/* ---- client ---- */

struct kube_client;

/* Creates a client from a copy of cfg (the caller keeps cfg). Returns 0, CM_ETLS (bad
 * client cert/key/CA PEM), CM_ENOMEM. Not thread-safe: one thread at a time. */
CM_NODISCARD int kube_client_create(const struct kube_config *cfg, struct kube_client **out,
                                    struct cm_err *err);
/* NULL-safe; wipes credentials. */
void kube_client_destroy(struct kube_client *c);
/* The client's copy of its config (borrowed). */
const struct kube_config *kube_client_config(const struct kube_client *c);

/* Counters since creation (for tests and logs). */
struct kube_client_stats {
    uint64_t requests; /* HTTP exchanges attempted, retries included */
    uint64_t retries;
    uint64_t bytes_in;
};
void kube_client_stats_get(const struct kube_client *c, struct kube_client_stats *out);

/* Generic request. path starts with '/' and may carry a query ("/api/v1/pods?limit=1");
 * body may be NULL (len 0); content_type NULL means "application/json" when a body is
 * given. Retries as described above. On 2xx returns 0 and *out gets the parsed body
 * (NULL when the body is empty); *status (may be NULL) gets the last HTTP status
 * received, also on failure (0 when no response was received at all). On other statuses returns the
 * mapped code with err naming verb + resource (derived from method and path) and the
 * Status message; *out is left NULL. Caller frees *out with cJSON_Delete. */
CM_NODISCARD int kube_request(struct kube_client *c, const char *method, const char *path,
                              const char *body, size_t body_len, const char *content_type,
                              long *status, cJSON **out, struct cm_err *err);
/* kube_request() without a request body whose 2xx response body is not parsed: out
 * (initialised by the caller, cm_buf_init(out, 0); cm_buf_free it, also on failure)
 * gets the bytes as received, in the storage it already had (a list's pages reuse
 * one buffer). */
CM_NODISCARD int kube_request_raw(struct kube_client *c, const char *method, const char *path,
                                  long *status, struct cm_buf *out, struct cm_err *err);

/* ---- resources and references ---- */

/* Verb bits of a discovered resource type. */
#define KUBE_VERB_GET (1u << 0)
#define KUBE_VERB_LIST (1u << 1)
#define KUBE_VERB_WATCH (1u << 2)
#define KUBE_VERB_CREATE (1u << 3)
#define KUBE_VERB_UPDATE (1u << 4)
#define KUBE_VERB_PATCH (1u << 5)
#define KUBE_VERB_DELETE (1u << 6)
#define KUBE_VERB_DELETECOLLECTION (1u << 7)

/* One resource type found by discovery. Value type, read-only for users. */
struct kube_resource {
    char group[KUBE_MAX_NAME];            /* "" for the core group */
    char version[64];                     /* the group's preferred version: "v1" */
    char api_version[KUBE_MAX_NAME + 64]; /* "v1" or "apps/v1" (as objects carry it) */
    char kind[KUBE_MAX_NAME];             /* "Deployment" */
    char plural[KUBE_MAX_NAME];           /* the resource name: "deployments" */
    bool namespaced;
    uint32_t verbs; /* KUBE_VERB_* */
};

/* Names one object or one collection. All strings borrowed.
 * api_version: "v1" (core) or "<group>/<version>".
 * resource: the plural ("deployments").
 * namespace_: NULL or "" for cluster-scoped resources, and for "all namespaces" in a list.
 * name: the object's name; NULL for list and create. */
struct kube_ref {
    const char *api_version;
    const char *resource;
    const char *namespace_;
    const char *name;
};

/* Formats the API path for ref plus an optional subresource ("status") into buf.
 * Returns 0, CM_EINVAL (missing api_version/resource, names with '/' or '?', a name
 * with no resource) or CM_ETOOBIG (over len). Names are percent-encoded as needed. */
CM_NODISCARD int kube_ref_path(const struct kube_ref *ref, const char *subresource, char *buf,
                               size_t len);

/* ---- discovery ---- */

struct kube_discovery;

/* Reads /api, /api/v1, /apis and /apis/<group>/<preferredVersion> for every group and
 * collects every resource type (subresources such as "pods/log" excluded), custom
 * resources included; nothing is hard-coded. A group whose version list fails to load
 * (e.g. an unavailable aggregated API answering 503 after the retries) is skipped with
 * a warn log and counted in kube_discovery_failed_groups(); auth errors are not
 * skipped. Returns 0, the kube_request codes, CM_EPROTO (malformed discovery
 * document), CM_ETOOBIG (over KUBE_MAX_RESOURCES) or CM_ENOMEM. */
CM_NODISCARD int kube_discover(struct kube_client *c, struct kube_discovery **out,
                               struct cm_err *err);
void kube_discovery_destroy(struct kube_discovery *d);
size_t kube_discovery_count(const struct kube_discovery *d);
/* i < count; borrowed until destroy. Order: core first, then groups in /apis order. */
const struct kube_resource *kube_discovery_get(const struct kube_discovery *d, size_t i);
/* Groups skipped because they failed to load. */
size_t kube_discovery_failed_groups(const struct kube_discovery *d);
/* By group ("" core, "apps") and kind ("Deployment") or plural ("deployments"),
 * case-sensitive. NULL when absent. */
const struct kube_resource *kube_discovery_find(const struct kube_discovery *d, const char *group,
                                                const char *kind_or_plural);
/* By an object's apiVersion ("apps/v1"; the version part is ignored) and kind. */
const struct kube_resource *kube_discovery_find_kind(const struct kube_discovery *d,
                                                     const char *api_version, const char *kind);
/* A ref for r (borrows r's strings): ns and name as for struct kube_ref. */
void kube_resource_ref(const struct kube_resource *r, const char *ns, const char *name,
                       struct kube_ref *out);

/* ---- typed calls ---- */

/* GET one object as text: body (initialised here; cm_buf_free it, also on failure)
 * gets the bytes as received, validated into t (initialised by the caller; node 0 is
 * the object; valid while body is). CM_ENOENT when absent; CM_EPROTO when the body is
 * not one JSON object. */
CM_NODISCARD int kube_get_raw(struct kube_client *c, const struct kube_ref *ref,
                              struct cm_buf *body, struct kube_jt *t, struct cm_err *err);
/* GET one object. *out: the object (cJSON_Delete). CM_ENOENT when absent. */
CM_NODISCARD int kube_get(struct kube_client *c, const struct kube_ref *ref, cJSON **out,
                          struct cm_err *err);

/* POST obj to ref's collection (ref->name must be NULL). *out (may be NULL) gets the
 * created object. 409 AlreadyExists → CM_EEXIST. */
CM_NODISCARD int kube_create(struct kube_client *c, const struct kube_ref *ref, const cJSON *obj,
                             cJSON **out, struct cm_err *err);

/* PUT obj to ref (ref->name required). With metadata.resourceVersion set, a stale
 * version gives 409 Conflict → CM_EAGAIN (re-read and retry). *out may be NULL. */
CM_NODISCARD int kube_update(struct kube_client *c, const struct kube_ref *ref, const cJSON *obj,
                             cJSON **out, struct cm_err *err);

enum kube_patch_type {
    KUBE_PATCH_MERGE = 0, /* application/merge-patch+json (RFC 7386) */
    KUBE_PATCH_STRATEGIC, /* application/strategic-merge-patch+json (built-ins only) */
    KUBE_PATCH_JSON,      /* application/json-patch+json (RFC 6902) */
};

/* PATCH ref with patch[0..len). *out may be NULL. */
CM_NODISCARD int kube_patch(struct kube_client *c, const struct kube_ref *ref,
                            enum kube_patch_type type, const char *patch, size_t len, cJSON **out,
                            struct cm_err *err);

/* DELETE ref. propagation: NULL, "Foreground", "Background" or "Orphan". CM_ENOENT
 * when absent (callers that do not care compare for it). */
CM_NODISCARD int kube_delete(struct kube_client *c, const struct kube_ref *ref,
                             const char *propagation, struct cm_err *err);

/* ---- lists ---- */

/* Called once per item. item is borrowed for the call (complete: apiVersion and kind
 * filled in). Return 0 to go on; any other value stops the list and is returned by
 * kube_list (use a CM_E* code or a positive value of your own). */
typedef int (*kube_item_fn)(const cJSON *item, void *ctx);
/* Called once per page with the whole <Kind>List (items completed as above). */
typedef int (*kube_page_fn)(const cJSON *list, void *ctx);
/* Called before a list restarts from the beginning because its continue token
 * expired (410): drop what the item/page callbacks collected so far. */
typedef void (*kube_restart_fn)(void *ctx);
/* Like kube_item_fn, but the item (complete, as above) is detached from its page and
 * moves to the callback, which frees it with cJSON_Delete whatever it returns. Lets a
 * caller change or keep an item without copying it. */
typedef int (*kube_item_take_fn)(cJSON *item, void *ctx);
/* An item of a raw list (kube_list_raw): node item of the page's tape t, valid for
 * the call only; the callback may mark nodes (kube_jt_drop) and emit them. head is
 * NULL, or the members the item lacks and the list implies, to pass to kube_jt_emit
 * ("\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\"": typed lists leave them out). */
typedef int (*kube_raw_item_fn)(struct kube_jt *t, uint32_t item, const char *head, void *ctx);

struct kube_list_opts {
    const char *label_selector; /* NULL or "app=web,tier in (a,b)"; passed as is */
    const char *field_selector; /* NULL or "metadata.name=x" */
    unsigned limit;             /* page size; 0 = KUBE_DEFAULT_LIMIT */
    kube_restart_fn on_restart; /* may be NULL: callbacks then see items again */
};

/* What a finished list saw. */
struct kube_list_info {
    char resource_version[64]; /* metadata.resourceVersion of the last page */
    size_t items;
    unsigned pages;
    unsigned restarts; /* 0 or 1 */
};

/* Lists ref's collection (ref->name NULL; namespace_ NULL = all namespaces or a
 * cluster-scoped type) page by page with limit/continue, calling item_fn for each
 * item and/or page_fn for each page (either may be NULL, ctx shared). When the server
 * answers 410 Expired to a continue token, the list restarts once from the beginning
 * (on_restart is called first; a warn line is logged); a second expiry returns
 * CM_EAGAIN "list of <resource> expired twice...". A callback's non-zero value stops
 * the list and is returned. opts and info may be NULL. Other errors as kube_request. */
CM_NODISCARD int kube_list(struct kube_client *c, const struct kube_ref *ref,
                           const struct kube_list_opts *opts, kube_item_fn item_fn,
                           kube_page_fn page_fn, void *ctx, struct kube_list_info *info,
                           struct cm_err *err);

/* kube_list() whose items move to take_fn (see kube_item_take_fn) instead of being
 * lent: page_fn (may be NULL) sees each whole page first, then take_fn gets its items
 * one by one, detached. take_fn is required (CM_EINVAL). Same paging, restart and
 * errors as kube_list; when take_fn stops the list, the items not yet taken are freed
 * with their page. */
CM_NODISCARD int kube_list_take(struct kube_client *c, const struct kube_ref *ref,
                                const struct kube_list_opts *opts, kube_item_take_fn take_fn,
                                kube_page_fn page_fn, void *ctx, struct kube_list_info *info,
                                struct cm_err *err);

/* kube_list() whose pages are never parsed into trees: each page is validated into a
 * tape (kube_jt.h) and fn gets its items as spans, so that a caller can store them as
 * the server wrote them. Same paging, restart (opts->on_restart), limits and errors
 * as kube_list; fn is required (CM_EINVAL). */
CM_NODISCARD int kube_list_raw(struct kube_client *c, const struct kube_ref *ref,
                               const struct kube_list_opts *opts, kube_raw_item_fn fn, void *ctx,
                               struct kube_list_info *info, struct cm_err *err);

/* ---- Status objects ---- */

/* A parsed metav1.Status. Value type. */
struct kube_status {
    char reason[64];   /* "NotFound", "AlreadyExists", "Conflict", "Expired", ... or "" */
    char message[512]; /* the server's message, truncated; "" when absent */
    long code;         /* Status.code, 0 when absent */
};

/* Fills st from a response body when it is a Status (kind: "Status"); returns true
 * then. Cannot fail; never reads past the tree. */
bool kube_status_parse(const cJSON *body, struct kube_status *st);

/* Parses a response body: JSON only, at most KUBE_MAX_JSON_DEPTH deep, nothing but
 * whitespace after the value. buf need not be NUL-terminated. Returns 0, CM_EPROTO
 * (with the byte offset) or CM_ENOMEM. */
CM_NODISCARD int kube_json_parse(const char *buf, size_t len, cJSON **out, struct cm_err *err);
/* kube_json_parse() for objects that will be written back: an integer a double cannot
 * hold exactly (more than 15 digits) becomes a cJSON raw item holding its text, so
 * that printing the tree sends every digit. Such a value is cJSON_IsRaw, not
 * cJSON_IsNumber. Same returns as kube_json_parse. */
CM_NODISCARD int kube_json_parse_exact(const char *buf, size_t len, cJSON **out,
                                       struct cm_err *err);

#endif /* BACKUP_KUBE_KUBE_H */
