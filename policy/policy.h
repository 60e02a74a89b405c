/* SPDX-License-Identifier: Apache-2.0 */
/* policy.h - the pure policy library: parse YAML/JSON documents, compile Kyverno-style
 * ClusterPolicy/Policy and lockwarden BackupPolicy documents into an immutable set,
 * evaluate Kubernetes objects against it, and decide backup bindings.
 *
 * Design note
 * - Pure: bytes in, decision out. No files, sockets, environment, clocks (time is a
 *   parameter), logging or threads; `make check-deps` enforces it.
 * - Load: a struct policy_loader collects documents file by file; a file that does not
 *   load leaves the loader unchanged (a bad document never half-loads) and the error
 *   names "file:line:column: reason". policy_loader_finish() cross-checks and yields an
 *   immutable struct policy_set.
 * - Compile once: wildcards, operators and patterns are compiled at load; evaluating a
 *   resource never re-parses a policy.
 * - Threads: a policy_set is immutable and may be evaluated from any number of threads
 *   at once, each with its own struct policy_report. Loaders and reports are not
 *   thread-safe. Lifetime of a shared set (refcounts, reload) is the caller's business.
 * - Memory: everything comes from cm_malloc(); cJSON must use it too
 *   (policy_json_hooks_install() before threads start), so OOM tests reach every path.
 * - Limits (both sides tested): POLICY_MAX_* below. */
#ifndef POLICY_POLICY_H
#define POLICY_POLICY_H

#include "common/cm.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define POLICY_MAX_FILE_BYTES (8u << 20) /* one policy or manifest file/buffer */
#define POLICY_MAX_DEPTH 64              /* nesting of a YAML/JSON document */
#define POLICY_MAX_NODES 1000000         /* nodes in one buffer (alias bombs stop here) */
#define POLICY_MAX_DOCS 10000            /* documents in one buffer */
#define POLICY_MAX_RULES 10000           /* rules in one set */
#define POLICY_MAX_STRING 65536          /* one pattern string or wildcard */

/* The annotation the mutating webhook adds and the executor reads. */
#define POLICY_BINDING_ANNOTATION "lockwarden.io/backup-policy"
/* The label that names a BackupPolicy ("k10-goldpolicy" or "goldpolicy"). */
#define POLICY_DATAPROTECTION_LABEL "dataprotection"
#define POLICY_IMMUTABLE_LABEL "immutable"

/* Routes cJSON's allocations through cm_malloc/cm_free. Call once, before threads. */
void policy_json_hooks_install(void);

/* ---- documents: YAML or JSON, one or many, to cJSON trees with positions ---- */

struct policy_docs;

/* Parses buf[0..len) (YAML 1.1 multi-document stream, or JSON, which is YAML) into
 * cJSON documents. name is used in error messages ("file.yaml:3:7: ..."). Empty
 * documents are dropped. Scalars keep YAML's types: plain `true`/`false`, integers,
 * floats and `null` become JSON values; quoted scalars stay strings. Anchors and
 * aliases are expanded within POLICY_MAX_NODES. Rejects invalid UTF-8, depth over
 * POLICY_MAX_DEPTH, more than POLICY_MAX_DOCS documents, non-scalar mapping keys (a
 * scalar key is taken as its text: `80: http` has the key "80"), duplicate keys and NUL
 * characters. Merge keys (`<<: *anchor` or a list of them) are applied: explicit keys win,
 * then earlier sources.
 * Returns 0, CM_EPARSE, CM_ETOOBIG or CM_ENOMEM; *out untouched on failure. */
CM_NODISCARD int policy_docs_parse(const char *name, const char *buf, size_t len,
                                   struct policy_docs **out, struct cm_err *err);
size_t policy_docs_count(const struct policy_docs *d);
/* Borrowed; lives until policy_docs_destroy(). */
const cJSON *policy_docs_get(const struct policy_docs *d, size_t i);
/* The 1-based line and column where node starts; false when unknown. */
bool policy_docs_pos(const struct policy_docs *d, const cJSON *node, int *line, int *col);
void policy_docs_destroy(struct policy_docs *d);

/* Parses a manifest buffer (what `kubectl apply -f` takes) into the Kubernetes objects it
 * holds: every document, with the items of a `List` expanded in place. Each object must be
 * a mapping with string apiVersion and kind, a metadata mapping with a string name (or
 * generateName), and string-valued labels/annotations when present; errors name
 * "name:line:col". policy_docs_count()/get() then serve the objects, in order. Returns 0,
 * CM_EPARSE (syntax, as policy_docs_parse), CM_ECONFIG (not an object), CM_ETOOBIG or
 * CM_ENOMEM; *out untouched on failure. Thread-safe. (Additive, for `check`.) */
CM_NODISCARD int policy_manifest_parse(const char *name, const char *buf, size_t len,
                                       struct policy_docs **out, struct cm_err *err);

/* ---- backup policies (lockwarden.io/v1alpha1 BackupPolicy) ---- */

enum policy_lock_mode { POLICY_LOCK_NONE = 0, POLICY_LOCK_GOVERNANCE, POLICY_LOCK_COMPLIANCE };

/* A parsed cron schedule (5 fields or @hourly/@daily/@weekly/@monthly/@yearly/
 * @annually/@midnight). Value type; fields are read-only for users. */
struct policy_cron {
    uint64_t minutes; /* bit m set: minute m (0-59) */
    uint32_t hours;   /* bit h: hour 0-23 */
    uint32_t mdays;   /* bit d: day of month 1-31 */
    uint16_t months;  /* bit m: month 1-12 */
    uint8_t wdays;    /* bit w: weekday 0-6, Sunday = 0 (7 is accepted as Sunday) */
    bool mday_star;   /* day-of-month field was "*" (cron's OR rule for dom/dow) */
    bool wday_star;
};

/* Parses a schedule. Returns 0 or CM_EPARSE with err saying which field is wrong. */
CM_NODISCARD int policy_cron_parse(const char *s, struct policy_cron *out, struct cm_err *err);
/* The first minute strictly after `after` (UTC, seconds) that the schedule matches, or
 * -1 when none comes within 8 years (e.g. "0 0 30 2 *"). Cannot fail otherwise. */
time_t policy_cron_next(const struct policy_cron *c, time_t after);
/* The last matching minute at or before `at`, or -1 within 8 years. */
time_t policy_cron_prev(const struct policy_cron *c, time_t at);

/* A BackupPolicy as loaded. Owned by its policy_set; read-only for users. Strings are
 * never NULL ("" when not set) unless noted. */
struct policy_backup {
    const char *name;
    const char *schedule; /* as written */
    struct policy_cron cron;
    struct {
        uint32_t hourly, daily, weekly, monthly, yearly;
    } retention;                     /* GFS counts; all 0 = keep nothing past the lock */
    enum policy_lock_mode lock_mode; /* NONE when objectLock is absent */
    uint32_t lock_days;              /* > 0 when lock_mode != NONE */
    struct {
        const char *endpoint; /* "" = AWS default for the region */
        const char *region;
        const char *bucket;
        const char *prefix; /* "" or ends without '/' */
        bool path_style;
        const char *credentials_secret; /* Secret name ("" = from the environment) */
    } location;
    const char *volume_snapshot_class; /* "" = the cluster default */
    const char *encryption_key_secret; /* "" = no client-side encryption */
    const void *selector_;             /* private: compiled default-binding selector */
};

/* ---- loading ---- */

struct policy_loader;
struct policy_set;

CM_NODISCARD int policy_loader_create(struct policy_loader **out, struct cm_err *err);
/* Adds every document of one buffer: kyverno.io/v1 ClusterPolicy or Policy, or
 * lockwarden.io/v1alpha1 BackupPolicy; a `List` of those is expanded. Any other kind
 * is an error. All-or-nothing: on failure the loader is unchanged. Errors read
 * "name:line:col: policy X rule Y: reason". Returns 0, CM_EPARSE, CM_ECONFIG,
 * CM_ETOOBIG or CM_ENOMEM. */
CM_NODISCARD int policy_loader_add(struct policy_loader *l, const char *name, const char *buf,
                                   size_t len, struct cm_err *err);
/* The same, shaped as a cm_fs_file_fn; ctx is the loader. */
int policy_loader_add_file(const char *path, const char *buf, size_t len, void *ctx,
                           struct cm_err *err);
/* Cross-checks (duplicate policy names, at most one default BackupPolicy per
 * selector overlap is allowed; see README) and builds the immutable set. The loader is
 * destroyed whether or not it succeeds. Returns 0, CM_ECONFIG or CM_ENOMEM. */
CM_NODISCARD int policy_loader_finish(struct policy_loader *l, struct policy_set **out,
                                      struct cm_err *err);
void policy_loader_destroy(struct policy_loader *l);
/* The three steps for one buffer: create, add (name, buf, len), finish. Returns what
 * the failing step returns; *out is untouched on failure and nothing leaks. */
CM_NODISCARD int policy_set_load(const char *name, const char *buf, size_t len,
                                 struct policy_set **out, struct cm_err *err);

void policy_set_destroy(struct policy_set *s);
size_t policy_set_policy_count(const struct policy_set *s);
size_t policy_set_rule_count(const struct policy_set *s);
size_t policy_set_backup_count(const struct policy_set *s);
/* True when any rule's match/exclude or any validationFailureActionOverrides entry uses a
 * namespaceSelector (which needs policy_request.namespace_labels to ever match). NULL
 * gives false. Cannot fail; thread-safe. (Additive, for the webhook's warning.) */
bool policy_set_uses_namespace_selector(const struct policy_set *s);
/* i < policy_set_backup_count(); borrowed from the set. */
const struct policy_backup *policy_set_backup_get(const struct policy_set *s, size_t i);
/* By name: "goldpolicy", or the label form "k10-goldpolicy". NULL when none. */
const struct policy_backup *policy_set_backup_find(const struct policy_set *s, const char *name,
                                                   size_t len);

/* ---- evaluation ---- */

enum policy_op { POLICY_OP_CREATE = 0, POLICY_OP_UPDATE, POLICY_OP_DELETE, POLICY_OP_CONNECT };

/* What is being admitted. All pointers are borrowed for the call. */
struct policy_request {
    const cJSON *object;           /* the resource; required */
    const cJSON *old_object;       /* UPDATE: the previous object, else NULL */
    enum policy_op operation;      /* `check` uses CREATE */
    const char *namespace_;        /* the request's namespace; NULL = object's own */
    const cJSON *namespace_labels; /* the namespace's labels when known, else NULL */
    /* With namespace_labels NULL: true when the namespace has labels that the caller does
     * not know yet (the webhook before its first Namespace list, or a namespace created
     * since), false when it has none to know (a cluster-scoped object; no label source).
     * See policy_set_eval(). Ignored when namespace_labels is set. (Additive.) */
    bool namespace_labels_unknown;
};

enum policy_result { POLICY_PASS = 0, POLICY_FAIL, POLICY_SKIP, POLICY_ERROR };
enum policy_action { POLICY_AUDIT = 0, POLICY_ENFORCE };

/* One rule's outcome. Strings are borrowed from the set (policy, rule) or owned by
 * the report (message); they live until the report's next eval or destroy. */
struct policy_rule_result {
    const char *policy; /* policy name; namespaced Policies are "ns/name" */
    const char *rule;
    enum policy_result result;
    enum policy_action action; /* after validationFailureActionOverrides */
    const char *message;       /* Kyverno's wording for fail/error; "" for pass/skip */
    const char *path;          /* failing path ("/metadata/labels/x/"), or "" */
};

struct policy_report;

CM_NODISCARD int policy_report_create(struct policy_report **out);
void policy_report_destroy(struct policy_report *r);

/* Resets r and evaluates req against every rule of s, in load order. A rule whose
 * match/exclude does not select the resource is not reported; a rule whose
 * preconditions are false is reported as SKIP. Without namespace labels a
 * namespaceSelector matches nothing, unless req->namespace_labels_unknown: then a
 * selector the outcome turns on is undecided, and never lets a request pass silently.
 * A rule whose match or exclude is undecided is judged as if it applied: when it passes
 * or skips it is not reported; otherwise it is reported as POLICY_ERROR. A rule that
 * does not pass and whose validationFailureActionOverrides entry is undecided gets the
 * strictest action that could apply (Enforce when any could). Either way its message
 * starts with `the labels of namespace "<ns>" are not known yet, so ...: ` followed by
 * the rule's own message. The built-in binding rules (policy
 * "lockwarden-backup-binding": rules "backup-policy-exists" and
 * "immutable-requires-object-lock", Enforce) are evaluated for Deployments and
 * StatefulSets whenever s holds at least one BackupPolicy, so that `check` and the
 * webhook reach the same verdict. Thread-safe for concurrent calls with distinct
 * reports. Returns 0 or CM_ENOMEM (r is then reset). */
CM_NODISCARD int policy_set_eval(const struct policy_set *s, const struct policy_request *req,
                                 struct policy_report *r, struct cm_err *err);
size_t policy_report_count(const struct policy_report *r);
const struct policy_rule_result *policy_report_get(const struct policy_report *r, size_t i);
/* True when any Enforce rule failed or errored (the request must be denied). */
bool policy_report_blocked(const struct policy_report *r);
/* Appends Kyverno's denial text for the blocked (Enforce fail/error) results:
 * "resource Kind/ns/name was blocked due to the following policies\n\n<policy>:\n
 *  <rule>: '<message>'\n...". With audit_only, the Audit failures instead (warnings).
 * Returns 0 or the cm_buf error. */
CM_NODISCARD int policy_report_format(const struct policy_report *r, bool audit_only,
                                      const char *kind, const char *ns, const char *name,
                                      struct cm_buf *out);

/* ---- binding (the mutating webhook and the executor) ---- */

enum policy_bind_status {
    POLICY_BIND_NONE = 0, /* not a Deployment/StatefulSet, or no BackupPolicy applies */
    POLICY_BIND_OK,       /* backup is the policy to bind */
    POLICY_BIND_UNKNOWN,  /* the dataprotection label names no BackupPolicy */
    POLICY_BIND_NO_LOCK,  /* immutable: enabled but backup has no Object Lock */
};

struct policy_binding {
    enum policy_bind_status status;
    const struct policy_backup *backup; /* OK and NO_LOCK: the policy; else NULL */
    bool by_label;                      /* chosen by the dataprotection label (else selector) */
    bool annotation_ok;                 /* the object already carries the right annotation */
    char message[512];                  /* for UNKNOWN/NO_LOCK: what is wrong and how to fix */
};

/* Decides which BackupPolicy req->object binds to: its dataprotection label when it
 * has one, else the BackupPolicy whose selector (namespaces, matchLabels) selects it
 * (the first in load order). Cannot fail; thread-safe. */
void policy_set_bind(const struct policy_set *s, const struct policy_request *req,
                     struct policy_binding *out);

#endif /* POLICY_POLICY_H */
