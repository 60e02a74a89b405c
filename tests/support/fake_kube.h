/* SPDX-License-Identifier: Apache-2.0 */
/* fake_kube.h - a fake kube-apiserver for tests: libmicrohttpd on 127.0.0.1 (ephemeral
 * port), HTTP or HTTPS (optionally requiring a client certificate and/or a bearer
 * token), with an in-memory object store that speaks the real wire format.
 *
 * Design note
 * - What it serves (JSON only):
 *     GET /version, /api (APIVersions), /api/v1 (APIResourceList), /apis (APIGroupList
 *     with preferredVersion), /apis/<group>/<version> (APIResourceList).
 *     Built-in types: core v1 namespaces pods services configmaps secrets
 *     serviceaccounts persistentvolumeclaims persistentvolumes events endpoints;
 *     apps/v1 deployments statefulsets replicasets daemonsets; batch/v1 jobs cronjobs;
 *     discovery.k8s.io/v1 endpointslices; coordination.k8s.io/v1 leases;
 *     storage.k8s.io/v1 storageclasses; snapshot.storage.k8s.io/v1 volumesnapshots
 *     volumesnapshotcontents volumesnapshotclasses; apiextensions.k8s.io/v1
 *     customresourcedefinitions; rbac.authorization.k8s.io/v1 roles rolebindings
 *     clusterroles clusterrolebindings; networking.k8s.io/v1 ingresses networkpolicies;
 *     admissionregistration.k8s.io/v1 validatingwebhookconfigurations
 *     mutatingwebhookconfigurations. Some subresources (pods/log, pods/exec,
 *     pods/status, deployments/scale, deployments/status, statefulsets/scale,
 *     statefulsets/status, namespaces/finalize, namespaces/status,
 *     volumesnapshots/status) are listed in discovery, as the real server lists them
 *     (clients must skip names with '/'). Served: only <object>/status for every type
 *     (GET returns the object; PUT and merge-PATCH change nothing but .status);
 *     other subresources answer 404.
 *     PLUS every custom resource defined by an apiextensions.k8s.io/v1
 *     CustomResourceDefinition in the store (spec.group, spec.names.plural/kind,
 *     spec.scope, served versions; the storage version is the preferred one), so
 *     discovery finds it as soon as the CRD is created.
 *   Collections and objects, namespaced and cluster-scoped:
 *     GET    list (all namespaces when the path has none) -> <Kind>List with apiVersion,
 *            metadata.resourceVersion, and with ?limit=N metadata.continue (opaque) and
 *            metadata.remainingItemCount while more remain. Order: namespace, name.
 *            ?labelSelector= (k=v, k==v, k!=v, k in (a,b), k notin (a,b), k, !k;
 *            comma = AND) and ?fieldSelector= (metadata.name, metadata.namespace with
 *            =, ==, !=). Items of built-in types carry NO apiVersion/kind, as the real
 *            apiserver sends them; custom resources carry both.
 *     GET    one object;  POST create (sets metadata.uid, resourceVersion,
 *            creationTimestamp, generation=1, namespace from the path; generateName is
 *            honoured; 409 AlreadyExists);  PUT update (409 Conflict when the body's
 *            metadata.resourceVersion is set and differs; bumps resourceVersion and, on
 *            a spec change, generation);  PATCH: merge patch (RFC 7386), JSON patch
 *            (RFC 6902: add remove replace move copy test; a failed op is 422 Invalid)
 *            and strategic merge patch (applied as a merge patch: no list merge keys);
 *            DELETE (returns the object as it was; deleting a Namespace deletes the
 *            objects in it at once).
 *   Errors are metav1.Status bodies with the real reasons and messages, e.g.
 *     404 NotFound 'deployments.apps "web" not found', 409 AlreadyExists, 409 Conflict
 *     'Operation cannot be fulfilled on leases.coordination.k8s.io "x": the object has
 *     been modified; please apply your changes to the latest version and try again',
 *     410 Expired, 401 Unauthorized, 403 Forbidden ('secrets is forbidden: User
 *     "test" cannot list resource "secrets" in API group "" in the namespace "prod"'),
 *     429 TooManyRequests with Retry-After, 500 InternalError, 503 ServiceUnavailable.
 *   Namespaces are not required to exist before objects are created in them.
 * - resourceVersion is one global counter; continue tokens are opaque (base64 of the
 *   list's scope, last key and resourceVersion). fake_kube_expire_continue_tokens()
 *   simulates etcd compaction: every token issued so far then answers 410 Expired.
 * - VolumeSnapshots: a created snapshot.storage.k8s.io/v1 VolumeSnapshot starts with
 *   status.readyToUse=false; the K-th GET of that snapshot (K =
 *   opts.snapshot_ready_after_gets; 0 = already in the create response; lists do not
 *   count) returns it readyToUse=true with boundVolumeSnapshotContentName
 *   "snapcontent-<uid>", creationTime and restoreSize "1Gi", and a matching cluster-
 *   scoped VolumeSnapshotContent is added to the store. A failure rule
 *   (fake_kube_snapshot_fail) instead sets status.error {message, time} and
 *   readyToUse=false, matched by snapshot name or by
 *   spec.source.persistentVolumeClaimName.
 * - Threads: libmicrohttpd serves from its own thread; every fake_kube_* call is
 *   thread-safe (one mutex around the store, log, faults and counters).
 * - Memory: the fake allocates with malloc, never cm_malloc, so cm_alloc_fault_set()
 *   in a test does not hit it, except through cJSON: once policy_json_hooks_install()
 *   routes cJSON through cm_malloc, an armed allocation fault may fire inside the fake.
 *   Run OOM loops against a fault transport (kube_config_set_transport), not the fake.
 *   The store owns its cJSON trees; accessor results are copies the caller frees. Request bodies
 * are capped at 16 MiB (413 beyond); the request log keeps the last FAKE_KUBE_LOG_MAX requests.
 * - Link: part of libtestsupport.a (every test binary). Needs libmicrohttpd (GnuTLS),
 *   OpenSSL (the test CA) and cJSON. */
#ifndef TESTS_SUPPORT_FAKE_KUBE_H
#define TESTS_SUPPORT_FAKE_KUBE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define FAKE_KUBE_LOG_MAX 20000

struct fake_kube;

struct fake_kube_opts {
    /* TLS. When tls is true and cert_pem/key_pem are NULL, a throwaway CA and a server
     * certificate for 127.0.0.1 are generated (kube_testca.h); fake_kube_ca_pem() then
     * returns that CA, and fake_kube_client_cert_pem()/_key_pem() a client certificate
     * signed by it (CN "test", O "system:masters"). When cert_pem/key_pem are given,
     * ca_pem should be their CA (returned by fake_kube_ca_pem). All copied. */
    bool tls;
    const char *cert_pem;
    const char *key_pem;
    const char *ca_pem;
    /* Require a client certificate that verifies against client_ca_pem (NULL = the
     * generated CA / ca_pem). Without a valid one: 401 Unauthorized. TLS only. */
    bool require_client_cert;
    const char *client_ca_pem;
    /* Require "Authorization: Bearer <token>" (401 otherwise). When both token and
     * require_client_cert are set, either credential is enough (as the apiserver). */
    const char *token;
    /* Initial objects: JSON text of one object, an array of objects or a List; and/or
     * a file with the same. NULL = none. */
    const char *seed_json;
    const char *seed_file;
    /* GETs of a VolumeSnapshot before it becomes ready (0 = ready at creation). */
    unsigned snapshot_ready_after_gets;
};

/* Starts the server on 127.0.0.1 with an ephemeral port. opts may be NULL (plain HTTP,
 * no auth, empty store). Returns 0, or -1 with a reason on stderr (bad seed, bad PEM,
 * bind failure). The server is ready to answer when this returns. */
int fake_kube_start(const struct fake_kube_opts *opts, struct fake_kube **out);
/* Stops the daemon, joins its threads and frees everything. NULL-safe. */
void fake_kube_stop(struct fake_kube *srv);

/* "http://127.0.0.1:<port>" or "https://127.0.0.1:<port>"; borrowed until stop. */
const char *fake_kube_url(const struct fake_kube *srv);
unsigned fake_kube_port(const struct fake_kube *srv);
/* The CA that signed the server certificate (PEM), NULL for plain HTTP. Borrowed. */
const char *fake_kube_ca_pem(const struct fake_kube *srv);
/* The generated client certificate and key (PEM), NULL unless the TLS material was
 * generated. Borrowed. */
const char *fake_kube_client_cert_pem(const struct fake_kube *srv);
const char *fake_kube_client_key_pem(const struct fake_kube *srv);

/* Writes a kubeconfig (YAML) for this server to path: cluster "fake" with the CA as
 * certificate-authority-data (TLS), user "fake-user" with token (NULL = none) and,
 * when client_cert is true, the generated client certificate/key as *-data; context
 * "fake" (namespace "default") as current-context. Returns 0 or -1. */
int fake_kube_write_kubeconfig(const struct fake_kube *srv, const char *path, const char *token,
                               bool client_cert);

/* ---- the store ---- */

/* Adds objects from JSON text: one object, an array, or a List (items). Each needs
 * apiVersion, kind and metadata.name; namespaced kinds default to namespace "default".
 * The type must be built in or defined by a CRD already in the store (add CRDs
 * first). Objects get uid/resourceVersion/creationTimestamp when missing; an existing
 * object with the same key is replaced. Returns the number added, or -1 (reason on
 * stderr; nothing added). */
int fake_kube_add_object_json(struct fake_kube *srv, const char *json);
/* The same for a tree (copied). */
int fake_kube_add_object(struct fake_kube *srv, const cJSON *obj);
/* The same from a file. */
int fake_kube_load_file(struct fake_kube *srv, const char *path);

/* A copy of one object (cJSON_Delete), or NULL when absent. api_version "v1" or
 * "apps/v1" (the version part is ignored); kind_or_plural "Deployment" or
 * "deployments"; ns NULL/"" for cluster-scoped. Does not count as a GET. */
cJSON *fake_kube_get_object(struct fake_kube *srv, const char *api_version,
                            const char *kind_or_plural, const char *ns, const char *name);
/* Number of stored objects of a type in ns (NULL = all namespaces). */
size_t fake_kube_count_objects(struct fake_kube *srv, const char *api_version,
                               const char *kind_or_plural, const char *ns);
/* Removes one object; returns 0 or -1 when absent. */
int fake_kube_delete_object(struct fake_kube *srv, const char *api_version,
                            const char *kind_or_plural, const char *ns, const char *name);
/* Every continue token issued so far answers 410 Expired from now on. */
void fake_kube_expire_continue_tokens(struct fake_kube *srv);

/* ---- VolumeSnapshots ---- */

/* Snapshots created from now on whose name or source PVC name equals name_or_pvc get
 * status.error.message = message instead of becoming ready. Returns 0 or -1. */
int fake_kube_snapshot_fail(struct fake_kube *srv, const char *name_or_pvc, const char *message);
/* Changes opts.snapshot_ready_after_gets for snapshots created from now on. */
void fake_kube_snapshot_ready_after(struct fake_kube *srv, unsigned gets);

/* ---- fault injection ---- */

enum fake_kube_fault {
    FAKE_KUBE_FAULT_429 = 0, /* 429 TooManyRequests, Retry-After: retry_after_s */
    FAKE_KUBE_FAULT_500,     /* 500 InternalError */
    FAKE_KUBE_FAULT_502,     /* 502 with a non-JSON body (a proxy's page) */
    FAKE_KUBE_FAULT_503,     /* 503 ServiceUnavailable (Retry-After when retry_after_s) */
    FAKE_KUBE_FAULT_504,     /* 504 Timeout */
    FAKE_KUBE_FAULT_401,     /* 401 Unauthorized */
    FAKE_KUBE_FAULT_403,     /* 403 Forbidden naming the user, verb and resource */
    FAKE_KUBE_FAULT_410,     /* 410 Expired (as for a stale continue token) */
    FAKE_KUBE_FAULT_RESET,   /* close the connection without any response */
    FAKE_KUBE_FAULT_TRUNCATE /* 200 with a JSON body cut in half */
};

/* The next `count` requests that match answer with `fault` instead of being served
 * (count 0 = every matching request until fake_kube_clear_faults). A request matches
 * when method is NULL or equal (e.g. "GET"), path is NULL or a substring of the URL
 * path, and query is NULL or a substring of the query string (e.g. "continue=").
 * Rules are checked in the order added; the first match with count left wins.
 * Returns 0 or -1 (too many rules: 64 max). */
struct fake_kube_rule {
    const char *method;
    const char *path;
    const char *query;
    enum fake_kube_fault fault;
    unsigned count;
    unsigned retry_after_s; /* 429/503: Retry-After value; 0 = header omitted for 503,
                               "1" for 429 */
};
int fake_kube_inject(struct fake_kube *srv, const struct fake_kube_rule *rule);
void fake_kube_clear_faults(struct fake_kube *srv);

/* ---- the request log and counters ---- */

/* One served request, as logged (copied out). */
struct fake_kube_request {
    char method[16];
    char path[1024];  /* URL path without the query */
    char query[2048]; /* the query rebuilt from the decoded arguments in order:
                         "limit=2&labelSelector=app=web"; "" when none */
    char user_agent[256];
    char verb[24];        /* Kubernetes verb: get list create update patch delete
                             discovery (version/api/apis), or "" */
    int status;           /* HTTP status answered; 0 for a reset */
    bool had_token;       /* an Authorization: Bearer header was sent */
    bool had_client_cert; /* a verified client certificate was presented */
};

/* Number of requests logged so far. */
size_t fake_kube_request_count(struct fake_kube *srv);
/* Copies request i (0 = oldest kept) into out; returns 0 or -1 when i is out of range. */
int fake_kube_request_get(struct fake_kube *srv, size_t i, struct fake_kube_request *out);
/* Requests whose method equals method (NULL = any), path contains path (NULL = any) and
 * query contains query (NULL = any). */
size_t fake_kube_request_match(struct fake_kube *srv, const char *method, const char *path,
                               const char *query);
/* Forgets the log and zeroes the verb counters. */
void fake_kube_requests_clear(struct fake_kube *srv);
/* Requests served per Kubernetes verb ("get", "list", "create", "update", "patch",
 * "delete", "discovery"), faults included. */
size_t fake_kube_verb_count(struct fake_kube *srv, const char *verb);

#endif /* TESTS_SUPPORT_FAKE_KUBE_H */
