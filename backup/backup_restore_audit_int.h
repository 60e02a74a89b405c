/* SPDX-License-Identifier: Apache-2.0 */
/* backup_restore_audit_int.h - restore planning and the compliance audit model.
 * (Temporary home: these declarations move to the end of backup/backup.h.) */
#ifndef BACKUP_BACKUP_RESTORE_AUDIT_INT_H
#define BACKUP_BACKUP_RESTORE_AUDIT_INT_H

#include "backup/backup.h"
#include "common/cm.h"
#include "policy/policy.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* ==== restore and audit (engineer "restore") ======================================== */
/* Design note
 * - Restore is split into pure planning (cJSON in, cJSON out: order, namespace rewrite,
 *   cluster-assigned fields dropped, PVCs pointed at their VolumeSnapshots) and
 *   applying the plan through the kube client, which reports every resource as
 *   created, updated, skipped or failed. Nothing is applied before the restore point's
 *   checksums all verify.
 * - The audit is a model (struct backup_audit_report: one row per app, classified by
 *   backup_audit_classify() as a pure function of facts and `now`) fed either by the
 *   live collector (kube + S3 + policies) or by an offline state file, and rendered as
 *   text, JSON, CSV (RFC 4180) or one self-contained HTML file.
 * - Threads: nothing here is thread-safe; use one object per thread.
 * - Memory: everything through cm_malloc; every string copied in is capped. */

/* ---- restore planning ---- */

#define BACKUP_RESTORE_MAX_NSMAP 64     /* --namespace-map entries */
#define BACKUP_RESTORE_MAX_ITEMS 100000 /* resources in one plan */
#define BACKUP_RESTORE_NAME_MAX 253     /* Kubernetes object names */

/* Dependency ranks, in restore order. */
enum backup_restore_rank {
    BACKUP_RANK_CRD = 0,
    BACKUP_RANK_NAMESPACE,
    BACKUP_RANK_SERVICEACCOUNT,
    BACKUP_RANK_RBAC,
    BACKUP_RANK_SECRET,
    BACKUP_RANK_CONFIGMAP,
    BACKUP_RANK_SNAPSHOT, /* VolumeSnapshotContent/VolumeSnapshot made for a PVC */
    BACKUP_RANK_PVC,
    BACKUP_RANK_SERVICE,
    BACKUP_RANK_OTHER,    /* other built-in kinds (Ingress, PDB, HPA, NetworkPolicy...) */
    BACKUP_RANK_WORKLOAD, /* Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod... */
    BACKUP_RANK_CUSTOM,   /* objects of custom resource kinds */
    BACKUP_RANK_COUNT_
};

/* The rank of an object of apiVersion/kind (either may be NULL). Cannot fail. */
enum backup_restore_rank backup_restore_rank_of(const char *api_version, const char *kind);
/* "crd", "namespace", ... for reports. Cannot fail. */
const char *backup_restore_rank_name(enum backup_restore_rank r);

/* OLD=NEW namespace pairs. Value type; init before use, cleanup after. */
struct backup_restore_nsmap {
    size_t n;
    struct {
        char from[64];
        char to[64];
    } pairs[BACKUP_RESTORE_MAX_NSMAP];
};

void backup_restore_nsmap_init(struct backup_restore_nsmap *m);
/* Adds "OLD=NEW" (both DNS-1123 labels, at most 63 bytes; OLD not mapped yet).
 * Returns 0, CM_EINVAL (malformed, duplicate) or CM_ETOOBIG (more than
 * BACKUP_RESTORE_MAX_NSMAP); m is unchanged on failure. */
CM_NODISCARD int backup_restore_nsmap_add(struct backup_restore_nsmap *m, const char *spec,
                                          struct cm_err *err);
/* The namespace ns maps to (ns itself when unmapped). Borrowed. Cannot fail. */
const char *backup_restore_nsmap_apply(const struct backup_restore_nsmap *m, const char *ns);

/* A VolumeSnapshot the restore point recorded for a PVC. All strings borrowed. */
struct backup_restore_snapref {
    const char *ns;               /* the PVC's namespace at capture */
    const char *pvc;              /* the PVC's name */
    const char *snapshot;         /* VolumeSnapshot name at capture (may be NULL) */
    const char *content;          /* VolumeSnapshotContent name (may be NULL) */
    const char *snapshot_handle;  /* CSI snapshot handle (may be NULL) */
    const char *driver;           /* CSI driver (may be NULL) */
    const char *snapshot_class;   /* VolumeSnapshotClass (may be NULL) */
    const char *restore_size;     /* "1Gi" (may be NULL) */
};

/* Rewrites one captured object in place into what restore sends: drops the fields the
 * cluster assigns (metadata uid, resourceVersion, creationTimestamp, generation,
 * selfLink, managedFields, ownerReferences, deletion*, status; Service clusterIP(s)
 * except "None", nodePorts and healthCheckNodePort; Pod nodeName; PVC volumeName and
 * binding annotations), rewrites namespaces with m (metadata.namespace, a Namespace's
 * own name and its kubernetes.io/metadata.name label, RoleBinding subjects), and gives
 * a PVC the dataSource `VolumeSnapshot/<snapshot_name>` when snapshot_name is not
 * NULL. Returns 0, CM_EINVAL (obj is not an object with apiVersion, kind and
 * metadata.name) or CM_ENOMEM (obj is then partly rewritten; drop it). */
CM_NODISCARD int backup_restore_sanitize(cJSON *obj, const struct backup_restore_nsmap *m,
                                         const char *snapshot_name, struct cm_err *err);

/* True when the object is recreated by its owner rather than restored (it carries a
 * controller ownerReference, or is an Event, Endpoints or EndpointSlice); why names
 * the reason. Cannot fail. */
bool backup_restore_is_derived(const cJSON *obj, const char **why);

/* The name restore gives the VolumeSnapshot it creates for a PVC in the target
 * namespace: "lw-r-<restore point id, lowercased>-<pvc>"; and, with ns not NULL, the
 * cluster-scoped VolumeSnapshotContent behind it: "lw-r-<ns>-<id>-<pvc>" (one per
 * target namespace, so two clones never share a content). Cut to 253 bytes without a
 * trailing '-', into buf (>= BACKUP_RESTORE_NAME_MAX + 1). Cannot fail. */
void backup_restore_snapshot_name(const char *point_id, const char *ns, const char *pvc,
                                  char *buf, size_t len);

/* Builds the pre-provisioned VolumeSnapshotContent content_name (*content) and the
 * VolumeSnapshot ns/name (*snap) bound to it, importing ref's CSI snapshot handle.
 * Needs ref->snapshot_handle and ref->driver. Returns 0, CM_EINVAL (missing
 * handle/driver) or CM_ENOMEM; outputs untouched on failure; the caller cJSON_Deletes
 * both. */
CM_NODISCARD int backup_restore_snapshot_objects(const struct backup_restore_snapref *ref,
                                                 const char *ns, const char *name,
                                                 const char *content_name, cJSON **content,
                                                 cJSON **snap, struct cm_err *err);

/* Sorts objects (an array of cJSON objects; stable, linear) into restore order.
 * Objects without a kind sort last. Returns 0 or CM_ENOMEM (objs unchanged). */
CM_NODISCARD int backup_restore_sort(cJSON **objs, size_t n);

/* ---- reading a restore point back from its bucket ---- */

struct kube_client;
struct s3_client;
struct backup_manifest;
struct backup_key;

/* Makes an S3 client for bp's location (endpoint_override, when not NULL or "",
 * replaces the policy's endpoint and turns on path-style addressing). Credentials as
 * backup_creds_resolve(): the Secret bp names (location.credentialsSecret, in
 * namespace secret_ns, read through kc), else the environment. kc may be NULL
 * (environment only). Returns 0 or the s3/kube codes with err. */
CM_NODISCARD int backup_restore_s3_open(const struct policy_backup *bp, struct kube_client *kc,
                                        const char *secret_ns, const char *endpoint_override,
                                        struct s3_client **out, struct cm_err *err);

#define BACKUP_RESTORE_MAX_IDS 100000 /* restore points listed for one namespace */

/* Lists the restore point ids of namespace ns under prefix (the "<prefix>/<ns>/"
 * directory), complete or not, sorted oldest first (ids sort by time). *ids is a new
 * array of *n ids (cm_free; NULL when *n is 0). Returns 0, CM_ETOOBIG (more than
 * BACKUP_RESTORE_MAX_IDS), CM_EINVAL (bad namespace), CM_ENOMEM or the s3 codes. */
CM_NODISCARD int backup_restore_list_ids(struct s3_client *s3, const char *prefix,
                                         const char *ns, char (**ids)[BACKUP_ID_LEN + 1],
                                         size_t *n, struct cm_err *err);

/* A restore point read back and verified. Read-only for users. */
struct backup_restore_point {
    struct backup_manifest *mf;   /* the parsed manifest (owned) */
    enum policy_lock_mode lock_mode; /* the weakest lock of manifest and archive, as the
                                        bucket reports it now */
    time_t retain_until;          /* the earliest retain-until of the two (0 = none) */
    bool legal_hold;              /* both objects under legal hold */
    cJSON **objects;              /* keep_objects: parsed entries in manifest order */
    size_t n_objects;
};

/* Reads <prefix>/<ns>/<id>/: the manifest (strictly parsed; its id and namespace must
 * match), the lock state of the manifest and the archive, then streams the archive
 * through the reader (decrypting with key when the manifest names one) and checks the
 * archive's size and SHA-256 and every entry's size and SHA-256 against the manifest
 * (no entry missing, extra or repeated). With keep_objects the entries are kept as
 * parsed JSON. Returns 0; CM_ENOENT "incomplete" when the manifest does not exist;
 * CM_EINTEGRITY when anything disagrees (err says what: the restore point is
 * corrupt or has been tampered with); CM_EINVAL when an encrypted point gets no key
 * or the wrong one; CM_EPARSE, CM_ETOOBIG, CM_ENOMEM, or the s3 codes. *out untouched
 * on failure. */
CM_NODISCARD int backup_restore_point_read(struct s3_client *s3, const char *prefix,
                                           const char *ns, const char *id,
                                           const struct backup_key *key, bool keep_objects,
                                           struct backup_restore_point **out,
                                           struct cm_err *err);
void backup_restore_point_destroy(struct backup_restore_point *p);

/* ---- restore results ---- */

enum backup_restore_status {
    BACKUP_RESTORE_CREATED = 0,
    BACKUP_RESTORE_UPDATED,
    BACKUP_RESTORE_SKIPPED,
    BACKUP_RESTORE_FAILED,
    BACKUP_RESTORE_PLANNED, /* --dry-run: the API server accepted it as a dry run */
    BACKUP_RESTORE_STATUS_COUNT_
};

const char *backup_restore_status_name(enum backup_restore_status s);

/* One resource's outcome; value type owned by its result list. */
struct backup_restore_item {
    char api_version[128];
    char kind[64];
    char ns[64];        /* target namespace, "" when cluster-scoped */
    char name[BACKUP_RESTORE_NAME_MAX + 1];
    enum backup_restore_status status;
    char detail[512];   /* why skipped or failed, or "" */
};

struct backup_restore_result;

CM_NODISCARD int backup_restore_result_create(struct backup_restore_result **out);
void backup_restore_result_destroy(struct backup_restore_result *r);
/* Appends an outcome; strings are copied (cut to the field sizes). detail may be NULL.
 * Returns 0, CM_ETOOBIG (more than BACKUP_RESTORE_MAX_ITEMS) or CM_ENOMEM. */
CM_NODISCARD int backup_restore_result_add(struct backup_restore_result *r,
                                           const char *api_version, const char *kind,
                                           const char *ns, const char *name,
                                           enum backup_restore_status status,
                                           const char *detail);
size_t backup_restore_result_count(const struct backup_restore_result *r);
const struct backup_restore_item *backup_restore_result_get(const struct backup_restore_result *r,
                                                            size_t i);
size_t backup_restore_result_tally(const struct backup_restore_result *r,
                                   enum backup_restore_status s);
/* Renders the outcomes: json=false gives one aligned line per resource plus a summary
 * line; json=true gives {"restorePoint":...,"items":[...],"summary":{...}}.
 * Returns 0 or the cm_buf error. */
CM_NODISCARD int backup_restore_result_format(const struct backup_restore_result *r,
                                              const char *point_id, bool dry_run, bool json,
                                              struct cm_buf *out);

/* ---- applying a restore point ---- */

struct backup_restore_opts {
    const struct backup_restore_nsmap *nsmap; /* may be NULL: same namespaces */
    bool dry_run;          /* read-only: report what would be created/updated/skipped */
    bool update_existing;  /* --existing update: PUT over existing objects (else skip) */
};

/* Recreates rp's objects (rp must have been read with keep_objects, i.e. verified) in
 * dependency order through kc: the target namespace first when the point has no
 * Namespace object, then CRDs, Namespaces, ServiceAccounts, RBAC, Secrets,
 * ConfigMaps, the VolumeSnapshots the PVCs restore from, PVCs, Services, other kinds,
 * workloads, custom resources. Objects owned by controllers are skipped, PVs of
 * snapshotted claims are skipped (the claim gets a new volume from its snapshot).
 * In a clone (another namespace) the captured CSI snapshot is imported into the target
 * namespace as a Retain VolumeSnapshotContent plus a VolumeSnapshot. Every object's
 * outcome is appended to res; one object's failure never stops the others. Returns 0
 * when the run completed (look at res for failures), or CM_ENOMEM / the discovery
 * error when it could not run at all. Not thread-safe. */
CM_NODISCARD int backup_restore_apply(struct kube_client *kc,
                                      const struct backup_restore_point *rp,
                                      const struct backup_restore_opts *o,
                                      struct backup_restore_result *res, struct cm_err *err);

/* ---- compliance audit ---- */

#define BACKUP_AUDIT_MAX_APPS 100000
#define BACKUP_AUDIT_DETAIL_MAX 512
/* A restore point may be this much older than the RPO boundary (clock skew between
 * the scheduler that started the capture and the time the point records). */
#define BACKUP_AUDIT_SKEW_S 60

enum backup_audit_class {
    BACKUP_AUDIT_PROTECTED = 0,
    BACKUP_AUDIT_UNPROTECTED,
    BACKUP_AUDIT_NOT_IMMUTABLE,
    BACKUP_AUDIT_STALE,
    BACKUP_AUDIT_CLASS_COUNT_
};

/* "protected", "unprotected", "not-immutable", "stale". Cannot fail. */
const char *backup_audit_class_name(enum backup_audit_class c);

enum backup_audit_guardrail {
    BACKUP_AUDIT_GR_PASS = 0, /* every selecting rule passed or skipped */
    BACKUP_AUDIT_GR_NONE,     /* no rule selects the app (counts as passing) */
    BACKUP_AUDIT_GR_FAIL,     /* a rule failed or errored (Audit or Enforce) */
};

enum backup_audit_verify {
    BACKUP_AUDIT_VERIFY_NONE = 0, /* no restore point to verify */
    BACKUP_AUDIT_VERIFY_OK,
    BACKUP_AUDIT_VERIFY_FAILED,   /* checksum mismatch, missing object, unreadable */
};

/* Issue bits an app can carry; the class is derived from them. */
#define BACKUP_AUDIT_ISSUE_UNBOUND (1u << 0)      /* no BackupPolicy binding */
#define BACKUP_AUDIT_ISSUE_UNKNOWN_POLICY (1u << 1) /* binding names no loaded policy */
#define BACKUP_AUDIT_ISSUE_GUARDRAIL (1u << 2)    /* fails a guardrail rule */
#define BACKUP_AUDIT_ISSUE_NO_POINT (1u << 3)     /* no restore point */
#define BACKUP_AUDIT_ISSUE_INCOMPLETE (1u << 4)   /* latest point has no manifest */
#define BACKUP_AUDIT_ISSUE_VERIFY (1u << 5)       /* latest point does not verify */
#define BACKUP_AUDIT_ISSUE_STALE (1u << 6)        /* older than the RPO boundary */
#define BACKUP_AUDIT_ISSUE_NO_LOCK (1u << 7)      /* not locked where required */
#define BACKUP_AUDIT_ISSUE_LOCK_EXPIRED (1u << 8) /* retain-until is in the past */
#define BACKUP_AUDIT_ISSUE_LOCK_WEAK (1u << 9)    /* GOVERNANCE where COMPLIANCE asked */
#define BACKUP_AUDIT_ISSUE_POLICY_NO_LOCK (1u << 10) /* immutable label, policy unlocked */
#define BACKUP_AUDIT_ISSUE_NO_SCHEDULE (1u << 11) /* schedule never fired: RPO unknown */
#define BACKUP_AUDIT_ISSUE_COUNT_ 12

/* "unbound", "unknown-policy", ... Cannot fail; "?" for an unknown bit. */
const char *backup_audit_issue_name(unsigned bit);

/* What is known about one app. All pointers are borrowed for the call; NULL strings
 * mean "not known / not applicable". */
struct backup_audit_facts {
    const char *kind;               /* "Deployment" | "StatefulSet"; required */
    const char *ns;                 /* required */
    const char *name;               /* required */
    enum backup_audit_guardrail guardrail;
    const char *guardrail_detail;   /* failing policy/rule and message */
    const char *policy;             /* bound BackupPolicy name; NULL = unbound */
    bool policy_missing;            /* policy is named but not loaded */
    const char *schedule;           /* the policy's schedule as written */
    const struct policy_cron *cron; /* parsed schedule; NULL = none */
    enum policy_lock_mode lock_required; /* NONE = immutability not required */
    bool policy_lacks_lock;         /* the app asks immutable, the policy has no lock */
    const char *point;              /* latest restore point id; NULL = none */
    time_t point_time;              /* when it was taken; <= 0 unknown (no age, no RPO) */
    bool point_complete;            /* its manifest exists */
    enum backup_audit_verify verify;
    const char *verify_detail;
    enum policy_lock_mode lock_mode; /* read back from the bucket; NONE = no lock */
    time_t retain_until;            /* 0 = none */
    bool legal_hold;
};

/* The verdict for one app. Value type. */
struct backup_audit_verdict {
    enum backup_audit_class cls;
    unsigned issues;        /* BACKUP_AUDIT_ISSUE_* bits */
    time_t rpo_boundary;    /* the oldest acceptable point time; 0 = not applicable */
    long long age_s;        /* now - point_time, >= 0; -1 without a point */
    bool lock_required;
};

/* Classifies an app at time now. The rules (see docs/readme/restore-audit.md):
 * - unprotected: unbound, binding names no loaded policy, fails a guardrail, no restore
 *   point, latest point incomplete or failing verification;
 * - else not-immutable: immutability is required (policy objectLock, or the app's
 *   immutable label) and the latest point has no lock, an expired one, or GOVERNANCE
 *   where COMPLIANCE is asked (or the policy has no lock at all);
 * - else stale: the latest point is older than the RPO boundary, which is the
 *   scheduled time before the most recent scheduled time at or before now (one run may
 *   be late or running; a whole missed run is stale), less BACKUP_AUDIT_SKEW_S; a
 *   schedule that has not fired twice in the 8-year search window is stale too;
 * - else protected.
 * Every issue found is set in issues, not only the one that decides the class.
 * Pure; cannot fail. */
void backup_audit_classify(const struct backup_audit_facts *f, time_t now,
                           struct backup_audit_verdict *out);

/* One classified app as stored in a report. Read-only for users. */
struct backup_audit_app {
    char kind[32];
    char ns[64];
    char name[BACKUP_RESTORE_NAME_MAX + 1];
    enum backup_audit_guardrail guardrail;
    char guardrail_detail[BACKUP_AUDIT_DETAIL_MAX];
    char policy[BACKUP_RESTORE_NAME_MAX + 1]; /* "" = unbound */
    char schedule[128];
    enum policy_lock_mode lock_required;
    char point[BACKUP_RESTORE_NAME_MAX + 1];  /* "" = none */
    time_t point_time;
    bool point_complete;
    enum backup_audit_verify verify;
    char verify_detail[BACKUP_AUDIT_DETAIL_MAX];
    enum policy_lock_mode lock_mode;
    time_t retain_until;
    bool legal_hold;
    struct backup_audit_verdict v;
};

enum backup_audit_format {
    BACKUP_AUDIT_TEXT = 0,
    BACKUP_AUDIT_JSON,
    BACKUP_AUDIT_CSV,
    BACKUP_AUDIT_HTML,
};

/* Parses "text|json|csv|html". Returns 0 or CM_EINVAL. */
CM_NODISCARD int backup_audit_format_parse(const char *s, enum backup_audit_format *out);
const char *backup_audit_lock_name(enum policy_lock_mode m);

struct backup_audit_report;

/* An empty report as of time now (the classification clock). Returns 0 or
 * CM_ENOMEM. */
CM_NODISCARD int backup_audit_report_create(time_t now, struct backup_audit_report **out);
void backup_audit_report_destroy(struct backup_audit_report *r);
/* Classifies f and appends the app (strings copied and cut to the field sizes).
 * Returns 0, CM_EINVAL (kind, ns or name missing), CM_ETOOBIG (more than
 * BACKUP_AUDIT_MAX_APPS) or CM_ENOMEM; r unchanged on failure. */
CM_NODISCARD int backup_audit_report_add(struct backup_audit_report *r,
                                         const struct backup_audit_facts *f,
                                         struct cm_err *err);
/* Sorts the apps by namespace, name, kind (deterministic output). Cannot fail. */
void backup_audit_report_sort(struct backup_audit_report *r);
size_t backup_audit_report_count(const struct backup_audit_report *r);
const struct backup_audit_app *backup_audit_report_get(const struct backup_audit_report *r,
                                                       size_t i);
time_t backup_audit_report_now(const struct backup_audit_report *r);
/* Apps per class. */
size_t backup_audit_report_tally(const struct backup_audit_report *r,
                                 enum backup_audit_class c);
/* True when every app is protected (an empty cluster is compliant). */
bool backup_audit_report_compliant(const struct backup_audit_report *r);

/* Renders r in format f, appending to out. Every string from the cluster is escaped for
 * the format (JSON escapes, CSV RFC 4180 quoting with formula cells defused, HTML
 * entities; control bytes never reach a terminal in text). Returns 0 or the cm_buf
 * error (CM_ETOOBIG, CM_ENOMEM); out is then reset. */
CM_NODISCARD int backup_audit_render(const struct backup_audit_report *r,
                                     enum backup_audit_format f, struct cm_buf *out);

/* ---- audit inputs: from a workload object to facts ---- */

/* The latest restore point of an app as read back from its bucket. Strings borrowed. */
struct backup_audit_point {
    const char *id;
    time_t created;
    bool complete;
    enum backup_audit_verify verify;
    const char *verify_detail;          /* may be NULL */
    enum policy_lock_mode lock_mode;    /* the weakest lock found on its objects */
    time_t retain_until;                /* the earliest retain-until of its objects */
    bool legal_hold;
};

/* How an app is bound. Value type. */
struct backup_audit_binding {
    const struct policy_backup *backup; /* the loaded policy, or NULL */
    char name[BACKUP_RESTORE_NAME_MAX + 1]; /* the policy the app names/binds ("" none) */
    bool missing;                       /* name set but no such policy loaded */
    bool lacks_lock;                    /* immutable: enabled, the policy has no lock */
};

/* Decides an app's binding: its lockwarden.io/backup-policy annotation when present
 * (what the mutating webhook wrote), else what policy_set_bind() chooses (its
 * dataprotection label or a BackupPolicy selector). ps may be NULL (nothing bound).
 * Cannot fail. */
void backup_audit_bind(const struct policy_set *ps, const cJSON *obj, const cJSON *ns_labels,
                       struct backup_audit_binding *out);

/* Evaluates obj (a Deployment or StatefulSet) against ps's guardrails (the built-in
 * binding rules are left out: bindings are reported separately), binds it, and adds
 * it to r with its latest restore point pt (NULL = none). Returns 0, CM_EINVAL (obj
 * lacks kind/metadata.name/namespace), CM_ETOOBIG or CM_ENOMEM; r unchanged on
 * failure. */
CM_NODISCARD int backup_audit_add_workload(struct backup_audit_report *r,
                                           const struct policy_set *ps, const cJSON *obj,
                                           const cJSON *ns_labels,
                                           const struct backup_audit_point *pt,
                                           struct cm_err *err);

/* Loads every policy file under paths (files or directories, cm_fs_load_tree) into
 * one set. n == 0 gives an empty set. Returns 0, the loader's codes or CM_ENOMEM, with
 * err naming "file:line:col". */
CM_NODISCARD int backup_audit_policies_load(const char *const *paths, size_t n,
                                            struct policy_set **out, struct cm_err *err);

#define BACKUP_AUDIT_STATE_MAX_POINTS 100000

/* Builds a report from a recorded cluster state (JSON or YAML, untrusted):
 *   {"now": RFC3339 (optional), "namespaces": [Namespace...] (optional),
 *    "workloads": [obj...] or a List, "restorePoints": [{"namespace", "policy"
 *    (optional), "id", "createdAt", "complete", "verified", "verifyDetail",
 *    "objectLock": {"mode", "retainUntil", "legalHold"}}]}
 * Objects other than Deployments and StatefulSets are ignored. The newest point per
 * (namespace, policy) is the app's latest. now > 0 overrides the file's "now"; with
 * neither, CM_EINVAL. Returns 0, CM_EPARSE/CM_EINVAL (err names the member),
 * CM_ETOOBIG or CM_ENOMEM; *out untouched on failure. */
CM_NODISCARD int backup_audit_state_load(const char *name, const char *buf, size_t len,
                                         const struct policy_set *ps, time_t now,
                                         struct backup_audit_report **out, struct cm_err *err);

/* The live audit: lists every namespace, Deployment and StatefulSet through the
 * cluster (kubeconfig/context as kube_config_load; NULL = defaults), binds and
 * evaluates each app against ps, and for each bound app reads the newest complete
 * restore point of its namespace from its BackupPolicy's bucket (S3 credentials as
 * backup_restore_s3_open with the Secret in the kubeconfig's namespace; encrypted
 * points get their key from the policy's encryptionKeySecret in the app's namespace;
 * endpoint_override as backup_restore_s3_open),
 * verifying it end to end and reading its lock back. Partial points are skipped when
 * a complete one exists. A bucket that cannot be read makes the app's point
 * "does not verify" (named in verify_detail), never a pass. Returns 0 with *out, or the
 * kube/s3 codes when the cluster itself cannot be listed. */
CM_NODISCARD int backup_audit_live(const char *kubeconfig, const char *context,
                                   const char *endpoint_override, const struct policy_set *ps,
                                   time_t now,
                                   struct backup_audit_report **out, struct cm_err *err);

/* Helpers shared by the audit renderers (not for other modules). */
/* "-" for age < 0, else "45s", "12m", "3h05m", "2d04h" into buf (>= 24). */
const char *backup_audit_age_format(long long age_s, char *buf, size_t len);
/* Appends the names of the issue bits joined by sep ("" when none). */
CM_NODISCARD int backup_audit_issues_format(unsigned issues, const char *sep, struct cm_buf *out);
/* Appends s with &, <, >, ", ' as entities (control bytes become U+FFFD). */
CM_NODISCARD int backup_audit_html_escape(struct cm_buf *out, const char *s);
CM_NODISCARD int backup_audit_render_html(const struct backup_audit_report *r,
                                          struct cm_buf *out);

#endif /* BACKUP_BACKUP_RESTORE_AUDIT_INT_H */
