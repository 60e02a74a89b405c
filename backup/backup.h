/* SPDX-License-Identifier: Apache-2.0 */
/* backup.h - the executor: captures bound applications (one namespace each) into
 * S3 Object Lock restore points, lists, verifies and prunes them, and schedules them.
 *
 * Design note
 * - Format: docs/restore-point-format.md is the contract. Keys are never overwritten;
 *   manifest.json is written last and its presence means "complete".
 * - Pipeline (bounded memory): resource JSON -> tar writer -> zstd ->
 *   optional AES-256-GCM frames -> SHA-256 + size -> a sink callback (the S3
 *   multipart uploader, or memory in tests). Reading is the mirror image, push-based:
 *   bytes fed in any chunking come out as whole archive entries.
 * - Pure parts (ids, keys, manifest, archive, crypto, stripping, GFS retention, cron
 *   due-ness, metrics text) take time as a parameter and do no I/O, so they are unit
 *   tested exhaustively; capture/catalog/executor do the I/O through kube.h and s3.h.
 * - Threads: unless a contract says otherwise an object is not thread-safe; distinct
 *   objects may be used from distinct threads. struct backup_metrics is thread-safe.
 * - Memory: everything through cm_malloc (OOM-testable); every buffer is capped by the
 *   BACKUP_MAX_* limits below. Keys are wiped with backup_key_wipe(). */
#ifndef BACKUP_BACKUP_H
#define BACKUP_BACKUP_H

#include "common/cm.h"
#include "backup/kube/kube_jt.h"
#include "policy/policy.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define BACKUP_FORMAT "lockwarden.io/restore-point/v1"
#define BACKUP_MANIFEST_MAX (64u << 20) /* bytes of manifest.json */
#define BACKUP_MAX_RESOURCES 100000     /* resources in one restore point */
#define BACKUP_MAX_SNAPSHOTS 10000      /* snapshots in one restore point */
#define BACKUP_MAX_STRING 1024          /* any manifest string */
#define BACKUP_MAX_ENTRY (8u << 20)     /* one archive entry (one object's JSON) */
#define BACKUP_ID_LEN 25                /* "YYYYMMDDTHHMMSSZ-xxxxxxxx" */
#define BACKUP_KEY_MAX 1024             /* one S3 key */
#define BACKUP_ENC_FRAME 65536          /* plaintext bytes per GCM frame */
#define BACKUP_LABEL_RP "lockwarden.io/restore-point"
#define BACKUP_LABEL_PVC "lockwarden.io/pvc"
#define BACKUP_ARCHIVE_NAME "resources.tar.zst"
#define BACKUP_ARCHIVE_NAME_ENC "resources.tar.zst.enc"
#define BACKUP_ARCHIVE_FORMAT "tar+zstd"
/* Restore points written before the switch to zstd: still read (and verified). */
#define BACKUP_ARCHIVE_NAME_GZ "resources.tar.gz"
#define BACKUP_ARCHIVE_NAME_GZ_ENC "resources.tar.gz.enc"
#define BACKUP_ARCHIVE_FORMAT_GZ "tar+gzip"
#define BACKUP_MANIFEST_NAME "manifest.json"

/* ---- restore-point ids and keys (backup_rp.c) ---- */

/* Formats the id for capture time t and 4 random bytes into buf (>= BACKUP_ID_LEN + 1):
 * "20261122T093000Z-1a2b3c4d". Returns 0 or CM_EINVAL (buf too small, t < 0). */
CM_NODISCARD int backup_rp_id_format(time_t t, const unsigned char rnd[4], char *buf, size_t len);
/* The same with 4 bytes from the OpenSSL CSPRNG. Returns 0, CM_EINVAL or CM_EIO. */
CM_NODISCARD int backup_rp_id_new(time_t t, char *buf, size_t len);
/* Validates id[0..n) strictly and returns its time. Returns 0 or CM_EPARSE. */
CM_NODISCARD int backup_rp_id_parse(const char *id, size_t n, time_t *out);
/* Builds "<prefix>/<ns>/<id>/<leaf>" (no leading part when prefix is "" or NULL; leaf
 * may be NULL for the directory, which then ends with '/'). ns must be a DNS label
 * and id a valid id. Returns 0, CM_EINVAL (bad ns/id/leaf, with err) or CM_ETOOBIG. */
CM_NODISCARD int backup_rp_key(const char *prefix, const char *ns, const char *id, const char *leaf,
                               char *buf, size_t len, struct cm_err *err);
/* True when s is a Kubernetes namespace name (RFC 1123 label, 1..63). */
bool backup_ns_valid(const char *s, size_t n);
/* The archive names a restore point may hold: today's (zstd) first, then those of points
 * written before the switch to zstd (gzip), each with its manifest format and whether
 * it is encrypted. */
struct backup_archive_kind {
    const char *name;
    const char *format;
    bool encrypted;
};
#define BACKUP_ARCHIVE_KINDS 4
extern const struct backup_archive_kind backup_archive_kinds[BACKUP_ARCHIVE_KINDS];
/* The index of name in backup_archive_kinds, or -1. */
int backup_archive_kind_find(const char *name);

/* ---- manifest (backup_manifest.c) ---- */

/* One captured object. In a parsed manifest every string is owned by the manifest
 * and never NULL; stripped[] holds n_stripped strings. */
struct backup_mf_resource {
    char *api_version;
    char *kind;
    char *resource;   /* plural, e.g. "deployments" */
    char *namespace_; /* "" for cluster-scoped */
    char *name;
    char *path; /* archive path */
    uint64_t size;
    char sha256[65]; /* lowercase hex */
    char **stripped;
    size_t n_stripped;
};

struct backup_mf_snapshot {
    char *pvc;
    char *volume_snapshot;
    char *volume_snapshot_class;
    char *volume_snapshot_content;
    char *restore_size; /* "" when unknown */
    char *storage_class;
    char *volume_name;
};

/* A restore point's manifest. Value-like: the fields are read-only for users of a
 * parsed manifest; the capture fills one through backup_manifest_add_*. Create with
 * backup_manifest_create(), free with backup_manifest_destroy(). */
struct backup_manifest {
    char id[BACKUP_ID_LEN + 1];
    char *namespace_;
    char *policy;
    time_t created_at;
    time_t completed_at;
    char *tool_name;
    char *tool_version;
    char lock_mode[16];  /* "NONE", "GOVERNANCE" or "COMPLIANCE" */
    time_t retain_until; /* 0 with NONE */
    char *archive_key;   /* BACKUP_ARCHIVE_NAME or BACKUP_ARCHIVE_NAME_ENC */
    uint64_t archive_size;
    char archive_sha256[65];
    char archive_version[257]; /* the archive's S3 version id ("" when unversioned) */
    char key_id[32];           /* "" without encryption, else "sha256:<16 hex>" */
    struct backup_mf_resource *resources;
    size_t n_resources;
    size_t resources_cap_;
    struct backup_mf_snapshot *snapshots;
    size_t n_snapshots;
    size_t snapshots_cap_;
    /* Resource types the capture was forbidden to list (RBAC), "resource.group" or
     * "resource" for core; n_skipped strings owned by the manifest. */
    char **skipped;
    size_t n_skipped;
};

/* Creates an empty manifest with namespace, policy and id copied. Returns 0, CM_EINVAL
 * (NULL/invalid strings) or CM_ENOMEM. */
CM_NODISCARD int backup_manifest_create(const char *id, const char *ns, const char *policy,
                                        struct backup_manifest **out);
void backup_manifest_destroy(struct backup_manifest *m);
/* Appends a resource (strings copied; stripped[] of n_stripped copied). Rejects a
 * duplicate path (O(1) amortised is not needed: callers produce unique paths; the
 * check is done by the reader). Returns 0, CM_EINVAL, CM_ETOOBIG or CM_ENOMEM; on
 * failure m is unchanged. */
CM_NODISCARD int backup_manifest_add_resource(struct backup_manifest *m,
                                              const struct backup_mf_resource *r);
CM_NODISCARD int backup_manifest_add_snapshot(struct backup_manifest *m,
                                              const struct backup_mf_snapshot *s);
/* Records a resource type that could not be listed (copied; at most
 * BACKUP_MAX_SKIPPED). Returns 0, CM_EINVAL, CM_ETOOBIG or CM_ENOMEM. */
#define BACKUP_MAX_SKIPPED 4096
CM_NODISCARD int backup_manifest_add_skipped(struct backup_manifest *m, const char *type);
/* Sets a string field through the manifest's allocator (so destroy frees it). */
CM_NODISCARD int backup_manifest_set_str(char **field, const char *value);
/* Appends the manifest as JSON to out. Returns 0, CM_EINVAL (incomplete manifest) or
 * the cm_buf error (out is then reset). */
CM_NODISCARD int backup_manifest_format(const struct backup_manifest *m, struct cm_buf *out);
/* Parses untrusted bytes strictly (format, types, limits above, safe unique paths,
 * hex digests). Returns 0, CM_EPARSE, CM_EUNSUPPORTED (another format), CM_ETOOBIG or
 * CM_ENOMEM with err saying which member is wrong; *out untouched on failure. */
CM_NODISCARD int backup_manifest_parse(const char *buf, size_t len, struct backup_manifest **out,
                                       struct cm_err *err);
/* The resource with this archive path, or NULL. O(n). */
const struct backup_mf_resource *backup_manifest_find(const struct backup_manifest *m,
                                                      const char *path);

/* ---- hashing helper ---- */

/* Writes the lowercase hex SHA-256 of p[0..n) into hex[65]. Cannot fail. */
void backup_sha256_hex(const void *p, size_t n, char hex[65]);

/* ---- client-side encryption key (backup_crypt.c) ---- */

/* A 32-byte AES key and its public id. Value type; wipe with backup_key_wipe(). */
struct backup_key {
    unsigned char k[32];
    char id[32]; /* "sha256:<16 hex>" */
};

/* Decodes 32 raw bytes, 64 hex digits or base64 of 32 bytes (surrounding whitespace
 * ignored). Returns 0 or CM_EINVAL with err; *out untouched on failure. */
CM_NODISCARD int backup_key_parse(const void *buf, size_t n, struct backup_key *out,
                                  struct cm_err *err);
/* Reads a key file (at most 4 KiB) and parses it. Returns 0, CM_ENOENT, CM_EIO,
 * CM_EINVAL, CM_ENOMEM with err. */
CM_NODISCARD int backup_key_load_file(const char *path, struct backup_key *out, struct cm_err *err);
void backup_key_wipe(struct backup_key *k);

/* ---- streaming archive (backup_archive.c) ---- */

/* Receives output bytes in order. A non-zero return aborts the writer with that code. */
typedef int (*backup_sink_fn)(void *ctx, const void *p, size_t n, struct cm_err *err);

struct backup_archive_writer;

/* Creates a tar+zstd writer that pushes compressed (and, with key != NULL, AES-256-GCM
 * framed) bytes to sink. key is copied. mtime is written in every header. Memory is
 * bounded (zstd's level-1 context + one frame) whatever is written. Returns 0,
 * CM_ENOMEM or CM_EIO (zstd/OpenSSL init). */
CM_NODISCARD int backup_archive_writer_create(backup_sink_fn sink, void *ctx,
                                              const struct backup_key *key, time_t mtime,
                                              struct backup_archive_writer **out,
                                              struct cm_err *err);
/* Adds one regular file. path: relative, no "..", at most 255 bytes; n <=
 * BACKUP_MAX_ENTRY. Returns 0, CM_EINVAL, CM_ETOOBIG, the sink's error, CM_EIO; after a
 * failure the writer only accepts destroy. */
CM_NODISCARD int backup_archive_writer_add(struct backup_archive_writer *w, const char *path,
                                           const void *data, size_t n, struct cm_err *err);
/* Ends the tar stream, the zstd frame and the last GCM frame, and flushes. */
CM_NODISCARD int backup_archive_writer_finish(struct backup_archive_writer *w, struct cm_err *err);
/* Bytes pushed to the sink and their SHA-256 (hex; valid after finish). */
uint64_t backup_archive_writer_bytes(const struct backup_archive_writer *w);
const char *backup_archive_writer_sha256(const struct backup_archive_writer *w);
void backup_archive_writer_destroy(struct backup_archive_writer *w);

/* Receives one archive entry: path and data are borrowed for the call. A non-zero
 * return stops the reader with that code. */
typedef int (*backup_entry_fn)(void *ctx, const char *path, const void *data, size_t n,
                               struct cm_err *err);

struct backup_archive_reader;

/* Creates a push reader: feed it the stored bytes in any chunking; it decrypts (key
 * != NULL), decompresses (zstd, or the gzip of restore points written before zstd: the
 * first bytes tell) and parses tar, calling fn per regular file. Also computes the
 * SHA-256 and size of the stored bytes. Returns 0, CM_ENOMEM, CM_EIO. */
CM_NODISCARD int backup_archive_reader_create(const struct backup_key *key, backup_entry_fn fn,
                                              void *ctx, struct backup_archive_reader **out,
                                              struct cm_err *err);
/* Feeds p[0..n). Returns 0, CM_EPARSE (bad tar/zstd/gzip/frame), CM_EINTEGRITY (GCM tag
 * failure or wrong key), CM_ETOOBIG (entry > BACKUP_MAX_ENTRY), CM_ENOMEM, or fn's code;
 * after a failure only destroy is allowed. */
CM_NODISCARD int backup_archive_reader_feed(struct backup_archive_reader *r, const void *p,
                                            size_t n, struct cm_err *err);
/* Checks that the stream ended cleanly (zstd frame or gzip trailer, tar end, final GCM
 * frame).
 * Returns 0 or CM_EPARSE ("truncated archive"). */
CM_NODISCARD int backup_archive_reader_finish(struct backup_archive_reader *r, struct cm_err *err);
uint64_t backup_archive_reader_bytes(const struct backup_archive_reader *r);
const char *backup_archive_reader_sha256(const struct backup_archive_reader *r);
void backup_archive_reader_destroy(struct backup_archive_reader *r);

/* ---- what to capture and how to strip it (backup_strip.c) ---- */

/* True when the cluster recreates this object and it must not be captured (see the
 * format document). group is "" for core. The object is node obj of tape t; t may be
 * NULL (type-level decision). Cannot fail; thread-safe. */
bool backup_strip_skip(const char *group, const char *resource, const struct kube_jt *t,
                       uint32_t obj);
/* True for a resource type skipped whatever the object (Events, Endpoints, ...). */
bool backup_strip_skip_type(const char *group, const char *resource);
#define BACKUP_STRIP_MAX 24
/* Marks the runtime fields of node obj of t as removed (kube_jt_drop: the text is
 * untouched; kube_jt_emit writes the object without them) and reports the removed
 * field names (static strings) in stripped[0..*n) (at most BACKUP_STRIP_MAX). Cannot
 * fail. */
void backup_strip_object(struct kube_jt *t, uint32_t obj, const char *group, const char *kind,
                         const char **stripped, size_t *n);
/* The archive path for an object: "resources/<group|core>/<version>/<plural>/<name>.json"
 * or "cluster/...". Returns 0, CM_EINVAL (unsafe name) or CM_ETOOBIG. */
CM_NODISCARD int backup_strip_path(bool cluster, const char *group, const char *version,
                                   const char *resource, const char *name, char *buf, size_t len);

/* ---- GFS retention (backup_gfs.c) ---- */

struct backup_gfs_counts {
    uint32_t hourly, daily, weekly, monthly, yearly;
};

/* One restore point as prune sees it. */
struct backup_gfs_point {
    time_t created;      /* the id's time */
    time_t retain_until; /* the earliest lock date of its objects (0 = not locked) */
    bool complete;       /* has a manifest */
};

enum backup_gfs_action {
    BACKUP_GFS_KEEP = 0, /* selected by a GFS rule (or too recent to judge) */
    BACKUP_GFS_EXTEND,   /* kept, and its lock must move to new_retain_until */
    BACKUP_GFS_RETAINED, /* past the counts but still locked: wait, never delete */
    BACKUP_GFS_EXPIRE,   /* past the counts and unlocked: delete */
};

/* Reasons for KEEP/EXTEND (bits). */
#define BACKUP_GFS_R_HOURLY 0x01u
#define BACKUP_GFS_R_DAILY 0x02u
#define BACKUP_GFS_R_WEEKLY 0x04u
#define BACKUP_GFS_R_MONTHLY 0x08u
#define BACKUP_GFS_R_YEARLY 0x10u
#define BACKUP_GFS_R_PARTIAL_GRACE 0x20u /* a partial point younger than the grace */

#define BACKUP_GFS_PARTIAL_GRACE (24 * 3600) /* partial points are kept this long */

struct backup_gfs_decision {
    enum backup_gfs_action action;
    unsigned reasons;
    time_t new_retain_until; /* EXTEND: the later date to set; else 0 */
};

/* Decides, for n points (any order), what prune does: complete points are bucketed by
 * UTC hour, day, ISO week, month and year, newest first, and the newest point of each
 * of the most recent `count` buckets of each kind is kept. A kept point whose lock ends
 * within the extension window (lock_days/2, at least 1 hour, at most 7 days) is
 * EXTENDed to now + lock_days (never earlier than its current date). Points not kept
 * are RETAINED while locked, else EXPIREd. Partial points are kept for
 * BACKUP_GFS_PARTIAL_GRACE, then treated like expired points. lock_days = 0 means no
 * locks to extend. Pure; cannot fail for n == 0. Returns 0, CM_EINVAL (NULL) or
 * CM_ENOMEM. Same as backup_gfs_decide_margin() with margin_s = 0. */
CM_NODISCARD int backup_gfs_decide(const struct backup_gfs_point *pts, size_t n,
                                   const struct backup_gfs_counts *counts, time_t now,
                                   uint32_t lock_days, struct backup_gfs_decision *out);
/* The extension window in seconds: a kept point whose lock ends before now + window is
 * extended. lock_days/2 clamped to [1 hour, 7 days]; margin_s instead when it is longer
 * (the executor passes backup_maint_margin(), so that a lock is renewed at least one
 * maintenance pass before it could lapse). margin_s <= 0 means none. Pure; cannot fail. */
int64_t backup_gfs_extend_window(uint32_t lock_days, int64_t margin_s);
/* backup_gfs_decide() with the window of backup_gfs_extend_window(lock_days, margin_s),
 * and an EXTENDed point gets now + max(lock_days, margin_s): with a lock shorter than
 * the margin, now + lock_days could lapse before the next pass. Still never earlier
 * than the point's current date. Pure. Returns 0, CM_EINVAL or CM_ENOMEM. */
CM_NODISCARD int backup_gfs_decide_margin(const struct backup_gfs_point *pts, size_t n,
                                          const struct backup_gfs_counts *counts, time_t now,
                                          uint32_t lock_days, int64_t margin_s,
                                          struct backup_gfs_decision *out);
const char *backup_gfs_action_name(enum backup_gfs_action a);

/* ---- schedule (backup_sched.c) ---- */

struct policy_cron;

/* The capture due at `now`: the newest scheduled minute at or before now when it is
 * later than last_run (the newest restore point's time, 0 for none); else -1. So after
 * downtime a missed capture runs once, not once per missed slot. Pure. */
time_t backup_sched_due(const struct policy_cron *c, time_t last_run, time_t now);

/* The executor's maintenance pass (GFS prune and lock extension of every restore point
 * in every BackupPolicy location) runs every interval seconds, first at startup. */
#define BACKUP_MAINT_INTERVAL_DEFAULT (6 * 3600)
#define BACKUP_MAINT_INTERVAL_MAX (7 * 86400)
#define BACKUP_MAINT_RETRY_S 600 /* after a failed pass: retry this soon (or interval) */

/* The extension margin for interval: 2 * interval + 1 day, so a lock whose end comes
 * within it is extended although one pass fails or runs late, with a day to spare
 * (Kopia's rule: extend strictly more often than the remaining retention). interval
 * is capped at BACKUP_MAINT_INTERVAL_MAX. Pure; cannot fail. */
int64_t backup_maint_margin(uint64_t interval_s);
/* When the next pass is due. last_start is when the previous pass started (0: none
 * yet, e.g. at startup or on becoming leader: due at once, returns 0); after a
 * successful pass last_start + interval, after a failed one last_start +
 * min(interval, BACKUP_MAINT_RETRY_S). interval 0 means the default. Pure. */
time_t backup_maint_next(time_t last_start, bool last_ok, uint64_t interval_s);
/* True when a pass is due at now: now >= backup_maint_next(), or the clock went back
 * before last_start (a stepped clock must not postpone maintenance). Pure. */
bool backup_maint_due(time_t last_start, bool last_ok, uint64_t interval_s, time_t now);

/* ---- metrics (backup_metrics.c) ---- */

#define BACKUP_METRICS_MAX_APPS 4096

struct backup_metrics;

/* Creates the registry. Thread-safe after creation. Returns 0 or CM_ENOMEM. */
CM_NODISCARD int backup_metrics_create(struct backup_metrics **out);
void backup_metrics_destroy(struct backup_metrics *m);
/* Records one capture of ns under policy. Apps beyond BACKUP_METRICS_MAX_APPS are
 * counted in an overflow counter only. Thread-safe; cannot fail. */
void backup_metrics_capture(struct backup_metrics *m, const char *ns, const char *policy, bool ok,
                            uint64_t bytes, double seconds, time_t when);
/* Sets ns's last success time from the bucket (at executor start) without counting a
 * capture; an older time never replaces a newer one. Thread-safe; cannot fail. */
void backup_metrics_seen(struct backup_metrics *m, const char *ns, const char *policy,
                         time_t last_success);
/* Counts one prune decision per action and extends/deletes done. Thread-safe. */
void backup_metrics_prune(struct backup_metrics *m, enum backup_gfs_action a, unsigned count);
struct backup_prune_report;
/* Adds a prune run's outcome: its decisions per action, the locks it extended, the
 * points it deleted and those retained by their lock. r may be NULL (no-op).
 * Thread-safe; cannot fail. */
void backup_metrics_prune_report(struct backup_metrics *m, const struct backup_prune_report *r);
/* Counts one maintenance pass (a failure is one whose location could not be listed or
 * that hit any per-point or per-namespace error); ok sets the last-success time to
 * when. left_alone: namespaces the pass could not judge (their policy is not loaded),
 * kept as a gauge. Thread-safe; cannot fail. */
void backup_metrics_maintenance(struct backup_metrics *m, bool ok, time_t when, size_t left_alone);
void backup_metrics_set_leader(struct backup_metrics *m, bool is_leader);
void backup_metrics_set_running(struct backup_metrics *m, int running);
/* Appends the Prometheus text exposition (format 0.0.4). Thread-safe. Returns 0 or
 * the cm_buf error. */
CM_NODISCARD int backup_metrics_format(struct backup_metrics *m, struct cm_buf *out);

/* ---- what backup, the executor, restore and the audit share: policies, the cluster,
 * a BackupPolicy's S3 client, credentials and key (backup_store.c) ---- */

struct kube_client;
struct s3_client;
struct s3_credentials;
struct policy_backup;
struct policy_set;

/* Loads every policy file under paths (files or directories, cm_fs_load_tree) into
 * one set: the policies of the backup CLI, the executor, restore and the audit. n == 0
 * gives an empty set. Returns 0, the loader's codes or CM_ENOMEM, with err naming
 * "file:line:col"; *out untouched on failure. */
CM_NODISCARD int backup_policies_load(const char *const *paths, size_t n, struct policy_set **out,
                                      struct cm_err *err);

/* The backup_policy_lookup_fn of the executor, maintenance and `backup prune`: ctx is
 * a const struct policy_set *, and the result its BackupPolicy named name, or NULL when
 * it has none of that name (prune then leaves the namespace alone). Cannot fail. */
const struct policy_backup *backup_policy_lookup(const char *name, void *ctx);

/* Opens the cluster (kube_config_load with kubeconfig and context, each may be NULL,
 * then a client) into *out, and sets *secret_ns (may be NULL) to secret_ns_override
 * when not NULL, else the context's namespace (borrowed from the client: valid until
 * kube_client_destroy). The one way the CLI and the live audit reach the cluster whose
 * Secrets they read. Returns 0 or the kube codes with err; outputs untouched on
 * failure. */
CM_NODISCARD int backup_kube_open(const char *kubeconfig, const char *context,
                                  const char *secret_ns_override, struct kube_client **out,
                                  const char **secret_ns, struct cm_err *err);

/* Fills creds for policy p: from the Secret p->location.credentials_secret in
 * namespace secret_ns (data keys aws_access_key_id/aws_secret_access_key or
 * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, optional aws_session_token) when the policy
 * names one and kube is not NULL, else from the environment, then the AWS shared
 * credentials file ($AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile
 * $AWS_PROFILE or "default"). Returns 0, CM_ENOENT
 * (Secret or keys missing; err names them), CM_EAUTH, CM_ENOMEM, or kube's codes. */
CM_NODISCARD int backup_creds_resolve(struct kube_client *kube, const char *secret_ns,
                                      const struct policy_backup *p, struct s3_credentials *creds,
                                      struct cm_err *err);

/* Where restore points live; a value type. Strings borrowed. */
struct backup_location {
    const char *endpoint; /* "" or NULL: AWS for region */
    const char *region;   /* "" or NULL: us-east-1 */
    const char *bucket;
    const char *prefix; /* "" or NULL: none */
    bool path_style;
};

/* The location of policy p, with endpoint_override (may be NULL) replacing its
 * endpoint. Cannot fail. */
void backup_location_of(const struct policy_backup *p, const char *endpoint_override,
                        struct backup_location *out);
/* True when a and b are the same place to visit once: equal endpoint, bucket and
 * prefix (NULL and "" alike; region and path style do not count). Cannot fail. */
bool backup_location_same(const struct backup_location *a, const struct backup_location *b);
/* Creates an S3 client for loc with creds. Returns 0 or s3_client_create's codes. */
CM_NODISCARD int backup_s3_open(const struct backup_location *loc,
                                const struct s3_credentials *creds, struct s3_client **out,
                                struct cm_err *err);

/* The S3 client of BackupPolicy bp, as the backup CLI, the executor (captures and
 * maintenance), restore and the audit all open it: bp's location with
 * endpoint_override (when not NULL or "") replacing its endpoint and turning on
 * path-style addressing (backup_location_of); credentials as backup_creds_resolve():
 * the Secret bp names (location.credentialsSecret, in namespace secret_ns, read through
 * kc), else the environment. kc may be NULL (environment only). Returns 0 or the s3/kube
 * codes with err, which names the BackupPolicy; *out untouched on failure. */
CM_NODISCARD int backup_store_open(const struct policy_backup *bp, struct kube_client *kc,
                                   const char *secret_ns, const char *endpoint_override,
                                   struct s3_client **out, struct cm_err *err);

/* Reads the encryption key of BackupPolicy bp from the Secret its encryption.keySecret
 * names: in secret_ns first (where the executor reads it), then in app_ns (may be
 * NULL) when that differs. A capture (executor, backup run) passes app_ns NULL: it
 * never takes its key from the namespace it captures; verify, restore and the audit
 * pass the point's namespace. Returns 0, CM_ENOENT (bp names no Secret, kc is NULL, or
 * the Secret is in neither namespace), CM_EINVAL (a bad key) or the kube client's codes; *out is
 * wiped by the caller with backup_key_wipe(). */
CM_NODISCARD int backup_key_lookup(struct kube_client *kc, const struct policy_backup *bp,
                                   const char *secret_ns, const char *app_ns,
                                   struct backup_key *out, struct cm_err *err);

/* ---- capture (backup_capture.c) ---- */

typedef void (*backup_sleep_fn)(uint64_t ms, void *ctx);

struct backup_capture_opts {
    const struct policy_backup *policy; /* required */
    const char *namespace_;             /* required: the app */
    struct kube_client *kube;           /* required; used from the calling thread only */
    struct s3_client *s3;               /* required: the policy's bucket */
    const char *prefix;                 /* the policy's location prefix ("" none) */
    const struct backup_key *key;       /* NULL: no client-side encryption */
    const char *tool_version;           /* recorded in the manifest */
    time_t now;                         /* capture time; 0 = the wall clock */
    uint64_t snapshot_timeout_ms;       /* readyToUse deadline; 0 = 10 minutes */
    uint64_t snapshot_poll_ms;          /* 0 = 1000 */
    backup_sleep_fn sleep;              /* NULL = nanosleep (tests record instead) */
    void *sleep_ctx;
};

struct backup_capture_result {
    char id[BACKUP_ID_LEN + 1];
    char manifest_key[BACKUP_KEY_MAX + 1];
    size_t resources;
    size_t snapshots;
    size_t skipped;         /* resource types RBAC forbade (named in the manifest) */
    uint64_t archive_bytes; /* stored bytes of the archive */
    double seconds;
};

/* Captures one app into a new restore point: preflight (Object Lock policies), every
 * namespaced resource but what the cluster recreates, the Namespace, bound PVs, their
 * StorageClasses, the CRDs of captured custom resources (a type the executor is
 * forbidden to list, 403, is skipped, logged and named in the manifest's "skipped";
 * 401 and every other error fail the capture); a VolumeSnapshot per PVC
 * awaited until readyToUse; the archive streamed through multipart upload with lock
 * headers; manifest.json written last. Memory is bounded by one part, one object and
 * the manifest. On failure no manifest is written (the point stays partial), the
 * multipart upload is aborted and the snapshots it created are deleted (best effort).
 * Returns 0; CM_ECONFIG (preflight: bucket and missing setting named); CM_EIO
 * ("snapshot of PVC x failed: <reason>"); CM_ETIMEDOUT (snapshot deadline); kube/s3
 * codes. Not thread-safe per kube/s3 client. out may be NULL. */
CM_NODISCARD int backup_capture_run(const struct backup_capture_opts *o,
                                    struct backup_capture_result *out, struct cm_err *err);

/* ---- catalog: listing the bucket (backup_catalog.c) ---- */

/* One stored object version of a restore point. */
struct backup_rp_object {
    char *key;
    char *version_id; /* "" when unversioned */
    uint64_t size;
    bool is_delete_marker;
};

/* One restore point as the bucket shows it. */
struct backup_rp_info {
    char namespace_[64];
    char id[BACKUP_ID_LEN + 1];
    time_t created; /* from the id */
    bool complete;  /* a manifest.json version exists */
    uint64_t bytes; /* sum of object versions (delete markers excluded) */
    /* From the manifest when loaded (backup_catalog_list with details): */
    bool has_details;
    char policy[254];
    char lock_mode[16];  /* "NONE", "GOVERNANCE", "COMPLIANCE"; "" unknown */
    time_t retain_until; /* manifest's date (extensions may have moved it later) */
    size_t n_resources;
    size_t n_snapshots;
    size_t n_skipped; /* resource types RBAC forbade during the capture */
    char key_id[32];
    char problem[CM_ERR_MSG_MAX]; /* why the manifest could not be read, else "" */
    struct backup_rp_object *objects;
    size_t n_objects;
};

struct backup_catalog;

/* Lists restore points under prefix (NULL/""), for namespace ns (NULL = all), from
 * ListObjectVersions. details: also GET and parse each complete point's manifest (a
 * bad manifest is recorded in problem, not fatal). Sorted by namespace, then id.
 * Returns 0, CM_ENOMEM, CM_ETOOBIG (over BACKUP_CATALOG_MAX points) or s3 codes. */
#define BACKUP_CATALOG_MAX 100000
CM_NODISCARD int backup_catalog_list(struct s3_client *s3, const char *prefix, const char *ns,
                                     bool details, struct backup_catalog **out, struct cm_err *err);
size_t backup_catalog_count(const struct backup_catalog *c);
/* Borrowed until destroy. */
const struct backup_rp_info *backup_catalog_get(const struct backup_catalog *c, size_t i);
/* By namespace and id; NULL when absent. */
const struct backup_rp_info *backup_catalog_find(const struct backup_catalog *c, const char *ns,
                                                 const char *id);
void backup_catalog_destroy(struct backup_catalog *c);
/* Appends the catalog as a JSON array (for `backup list -o json`). */
CM_NODISCARD int backup_catalog_format_json(const struct backup_catalog *c, struct cm_buf *out);

/* ---- reading a restore point (backup_read.c): the one reader of verify, restore and
 * the audit ---- */

struct backup_rp;

/* Opens restore point ns/id under prefix: lists the point's object versions, GETs the
 * OLDEST version of manifest.json (lockwarden writes it once; a later version can only
 * come from someone else) at most BACKUP_MANIFEST_MAX bytes and parses it strictly;
 * its id and namespace must match the key (else CM_EINTEGRITY). Archive reads are
 * pinned to the version id the manifest records. Returns 0; CM_ENOENT "restore point
 * ns/id is partial (no manifest.json)" or absent; CM_EPARSE/CM_EUNSUPPORTED (bad
 * manifest); CM_EINTEGRITY; s3 codes. */
CM_NODISCARD int backup_rp_open(struct s3_client *s3, const char *prefix, const char *ns,
                                const char *id, struct backup_rp **out, struct cm_err *err);
/* Borrowed until destroy. */
const struct backup_manifest *backup_rp_manifest(const struct backup_rp *rp);
/* The version id of manifest.json that was read ("" when unversioned), and how many
 * later versions of manifest.json and the archive exist (foreign writes). */
const char *backup_rp_manifest_version(const struct backup_rp *rp);
size_t backup_rp_foreign_versions(const struct backup_rp *rp);
/* The lock of the pinned versions as the server reported it on their GETs: the weaker
 * mode of manifest.json and the archive, the earlier retain-until (0 without a lock),
 * legal hold only when both are held. Complete after backup_rp_foreach_resource
 * returned 0; before that, manifest.json's alone. Cannot fail. */
void backup_rp_lock(const struct backup_rp *rp, enum policy_lock_mode *mode, time_t *retain_until,
                    bool *legal_hold);
/* Moves the manifest to the caller (backup_manifest_destroy); rp then only accepts
 * destroy. NULL when rp is NULL or the manifest was taken already. */
struct backup_manifest *backup_rp_manifest_take(struct backup_rp *rp);
void backup_rp_destroy(struct backup_rp *rp);

/* Called once per resource, in archive order, only after that entry's SHA-256 and
 * size matched the manifest. json is borrowed for the call (not NUL-terminated). */
typedef int (*backup_rp_resource_fn)(const struct backup_mf_resource *r, const char *json,
                                     size_t len, void *ctx, struct cm_err *err);

/* Streams the archive (bounded memory), decrypting with key (required when the archive
 * is encrypted: its id must equal the manifest's keyId, else CM_EINVAL before anything
 * is read), and calls fn per verified resource (fn may be NULL to only verify). Strict:
 * an entry the manifest lacks, an entry seen twice, a manifest resource missing from
 * the archive, an entry's size or SHA-256, the stored bytes' size or SHA-256 all fail.
 * Because the whole-archive digest is only known at the end, fn may already have run
 * for earlier entries when CM_EINTEGRITY is returned: a caller that must act only on
 * a wholly verified point collects in fn and acts after 0 (backup_restore_point_read).
 * Returns 0, CM_EINTEGRITY (what differs, named; also a missing archive object),
 * CM_EPARSE (corrupt archive), CM_ETOOBIG, CM_EINVAL (key), fn's code or s3 codes. */
CM_NODISCARD int backup_rp_foreach_resource(struct backup_rp *rp, const struct backup_key *key,
                                            backup_rp_resource_fn fn, void *ctx,
                                            struct cm_err *err);

/* ---- verify (backup_verify.c) ---- */

struct backup_verify_object {
    char key[BACKUP_KEY_MAX + 1];
    char version_id[257];
    uint64_t size;
    char lock_mode[16];  /* from the server (HEAD) */
    time_t retain_until; /* from the server */
    bool lock_ok;        /* mode and date at least what the manifest promises */
};

struct backup_verify_report {
    char namespace_[64];
    char id[BACKUP_ID_LEN + 1];
    size_t resources_checked; /* entries whose SHA-256 matched */
    size_t resources_total;
    bool resources_skipped;                 /* encrypted archive and no key given */
    bool archive_ok;                        /* stored size and SHA-256 match */
    struct backup_verify_object objects[2]; /* the archive and manifest.json */
    size_t n_objects;
    size_t foreign_versions; /* later versions of manifest.json or the archive: never
                                written by lockwarden, ignored by reads (pinned) */
};

/* Reads every object of ns/id back: the manifest, the archive (each entry's SHA-256,
 * then the archive's size and SHA-256) and each object's retention mode and date from
 * the server. key may be NULL: an encrypted archive is then checked as stored bytes
 * only (resources_skipped). Returns 0 when everything matches; CM_ENOENT (partial or
 * absent: no manifest.json), CM_EINTEGRITY (a digest, size, missing resource, missing
 * archive object or lock differs: err says which), or the codes of
 * backup_rp_foreach_resource. report may be NULL. */
CM_NODISCARD int backup_verify_run(struct s3_client *s3, const char *prefix, const char *ns,
                                   const char *id, const struct backup_key *key,
                                   struct backup_verify_report *report, struct cm_err *err);

/* ---- prune (backup_prune.c) ---- */

struct backup_prune_item {
    char namespace_[64];
    char id[BACKUP_ID_LEN + 1];
    bool complete;
    struct backup_gfs_decision decision;
    time_t retain_until;        /* the earliest date of its object versions (0: none) */
    bool done;                  /* the action was carried out (deleted / extended) */
    bool retained_by_lock;      /* a delete hit Object Lock (AccessDenied): kept */
    char error[CM_ERR_MSG_MAX]; /* a failure on this point, else "" */
};

struct backup_prune_report {
    struct backup_prune_item *items;
    size_t n_items;
    size_t counts[4]; /* per enum backup_gfs_action */
    size_t deleted;
    size_t extended;
    size_t errors;           /* failed points, plus namespaces that could not be judged */
    size_t retained_by_lock; /* RETAINED decisions plus deletes refused by the lock */
    size_t left_alone;       /* namespaces whose newest manifest names a policy that
                                is not loaded: nothing deleted or extended */
};

/* Maps a namespace's policy name (from its newest manifest) to the policy that judges
 * it. Return NULL to leave that namespace alone. */
typedef const struct policy_backup *(*backup_policy_lookup_fn)(const char *name, void *ctx);

/* Called with begin = true before prune touches namespace ns, and with begin = false
 * when it is done with it (only after a begin that returned true). Returning false
 * from begin stops the run before ns (backup_prune_run then returns CM_ECANCELED).
 * The executor uses it to serialise a namespace between its maintenance pass and a
 * capture's prune, and to stop a pass on shutdown or lost leadership. */
typedef bool (*backup_prune_ns_fn)(const char *ns, bool begin, void *ctx);

struct backup_prune_opts {
    struct s3_client *s3;
    const char *prefix;
    const char *namespace_;         /* NULL: every namespace in the bucket */
    backup_policy_lookup_fn lookup; /* required */
    void *lookup_ctx;
    time_t now;                 /* 0: wall clock */
    bool dry_run;               /* decide and report, change nothing */
    int64_t extend_margin_s;    /* 0: GFS window only; see backup_gfs_decide_margin */
    backup_prune_ns_fn ns_hook; /* NULL: none */
    void *ns_hook_ctx;
};

/* GFS prune: per namespace, the policy named by its newest complete restore point
 * decides (namespaces without one, or whose policy lookup returns NULL, are left
 * alone; the latter are counted in left_alone). EXPIRE deletes every object version of the point,
 * manifest first, so that an interrupted prune leaves a partial point rather than a
 * broken complete one; AccessDenied on a locked version counts as "retained", never
 * as an error. EXTEND puts a later retain-until on every version (never shortens) and
 * writes a locks/<time>.json record. A namespace whose locks cannot be read is logged
 * and counted in errors, and the run goes on with the next one. Returns 0 (per-point
 * and per-namespace failures are in the report), CM_ECANCELED (ns_hook said stop; the
 * report holds what was done), CM_ENOMEM or s3 listing codes (report empty). Free the
 * report with backup_prune_report_cleanup. */
CM_NODISCARD int backup_prune_run(const struct backup_prune_opts *o,
                                  struct backup_prune_report *report, struct cm_err *err);
void backup_prune_report_cleanup(struct backup_prune_report *r);

/* ---- maintenance (backup_maint.c) ---- */

/* One maintenance pass over every location the loaded BackupPolicies name. */
struct backup_maint_opts {
    const struct policy_set *policies; /* required: the locations, and counts by name */
    struct kube_client *kube;          /* credentials Secrets; NULL: the environment */
    const char *secret_namespace;      /* where those Secrets live */
    const char *endpoint_override;     /* NULL: each policy's endpoint */
    time_t now;                        /* 0: the wall clock */
    uint64_t interval_s;               /* sets the margin (backup_maint_margin); 0 default */
    struct backup_metrics *metrics;    /* NULL: none; else each prune report is added */
    backup_prune_ns_fn ns_hook;        /* passed to every prune (NULL: none) */
    void *ns_hook_ctx;
};

struct backup_maint_result {
    size_t locations;        /* distinct (endpoint, bucket, prefix) visited */
    size_t locations_failed; /* could not be opened or listed */
    size_t namespaces;       /* namespaces judged or left alone */
    size_t extended;
    size_t deleted;
    size_t retained_by_lock;
    size_t left_alone; /* namespaces whose policy is not loaded: untouched */
    size_t errors;     /* per-point and per-namespace failures */
};

/* Runs GFS prune with lock extension on every distinct location (endpoint after the
 * override, bucket, prefix) of o->policies, for every namespace found there: the
 * bucket is the source of truth, so apps whose workloads were deleted or unbound stay
 * maintained. Each namespace is judged by the policy named in its newest manifest;
 * when that policy is not loaded it is left alone (nothing deleted or extended,
 * logged). Kept points whose lock ends within backup_maint_margin(o->interval_s) are
 * extended. A location that fails does not stop the others. *out (may be NULL) is
 * filled in every case. Returns 0 when everything succeeded; CM_EIO when a location,
 * namespace or point failed (err names the first); CM_ECANCELED when ns_hook stopped
 * it; CM_EINVAL (no policies). Not thread-safe per kube client. */
CM_NODISCARD int backup_maint_run(const struct backup_maint_opts *o,
                                  struct backup_maint_result *out, struct cm_err *err);

/* ---- executor (backup_executor.c) ---- */

struct backup_executor_opts {
    const struct policy_set *policies;  /* required; borrowed for the run */
    const struct kube_config *kube_cfg; /* required; each worker makes its own client */
    const char *endpoint_override;      /* NULL: each policy's endpoint */
    const char *secret_namespace;       /* where credentials/key Secrets live */
    const char *tool_version;
    unsigned max_concurrent;         /* captures at once; 0 = 2 */
    uint64_t tick_ms;                /* scheduling period; 0 = 15000 */
    bool leader_elect;               /* take the Lease before scheduling */
    const char *lease_namespace;     /* Lease location; NULL = secret_namespace */
    const char *lease_name;          /* NULL = "lockwarden-executor" */
    const char *identity;            /* holder identity; NULL = hostname-pid */
    unsigned lease_seconds;          /* 0 = 15 */
    const char *metrics_addr;        /* "127.0.0.1:9464"; NULL/"" = no HTTP server */
    bool once;                       /* one scheduling pass, wait for its captures, one
                                        maintenance pass, exit */
    uint64_t snapshot_timeout_ms;    /* passed to captures (0 = default) */
    uint64_t maintenance_interval_s; /* 0 = BACKUP_MAINT_INTERVAL_DEFAULT */
    bool maintenance_only;           /* no captures: maintenance passes only */
};

/* Runs the executor until SIGINT/SIGTERM (blocked in all threads and awaited by the
 * scheduling loop) or, with once, after one pass. While leader it also runs a
 * maintenance pass (backup_maint_run) on its own thread at startup, on becoming
 * leader and every maintenance_interval_s; losing leadership or a signal stops a pass
 * between namespaces. Returns 0, CM_EIO when the maintenance pass of a once run
 * failed, or CM_ECONFIG / CM_EIO for startup failures (bad metrics address, port in
 * use). Must be called from the main thread before other threads exist. */
CM_NODISCARD int backup_executor_run(const struct backup_executor_opts *o, struct cm_err *err);

/* Leader election on a coordination.k8s.io/v1 Lease: creates it when absent, renews
 * it when held by identity, takes it over when its renewTime + leaseDurationSeconds is
 * before now. 409 Conflict (another replica won) means "not leader". Sets *is_leader.
 * Returns 0 or kube codes (the caller then assumes it is not the leader). */
CM_NODISCARD int backup_lease_try(struct kube_client *kube, const char *ns, const char *name,
                                  const char *identity, unsigned lease_seconds, time_t now,
                                  bool *is_leader, struct cm_err *err);

/* Namespaces whose Deployments/StatefulSets carry POLICY_BINDING_ANNOTATION, with the
 * policy each binds to (sorted by namespace; the first policy name in sorted order
 * when a namespace's workloads disagree, with a warn log). */
struct backup_app {
    char namespace_[64];
    char policy[254];
};
CM_NODISCARD int backup_apps_discover(struct kube_client *kube, struct backup_app **apps, size_t *n,
                                      struct cm_err *err);

/* ==== restore and compliance audit (restore_*.c, audit_*.c) ========================== */
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
    const char *ns;              /* the PVC's namespace at capture */
    const char *pvc;             /* the PVC's name */
    const char *snapshot;        /* VolumeSnapshot name at capture (may be NULL) */
    const char *content;         /* VolumeSnapshotContent name (may be NULL) */
    const char *snapshot_handle; /* CSI snapshot handle (may be NULL) */
    const char *driver;          /* CSI driver (may be NULL) */
    const char *snapshot_class;  /* VolumeSnapshotClass (may be NULL) */
    const char *restore_size;    /* "1Gi" (may be NULL) */
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
void backup_restore_snapshot_name(const char *point_id, const char *ns, const char *pvc, char *buf,
                                  size_t len);

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

#define BACKUP_RESTORE_MAX_IDS 100000 /* restore points listed for one namespace */

/* Lists the restore point ids of namespace ns under prefix (the "<prefix>/<ns>/"
 * directory), complete or not, sorted oldest first (ids sort by time), through
 * backup_catalog_list (object versions: a delete marker does not hide a point). *ids
 * is a new array of *n ids (cm_free; NULL when *n is 0). Returns 0, CM_ETOOBIG (more
 * than BACKUP_RESTORE_MAX_IDS), CM_EINVAL (bad namespace), CM_ENOMEM or the s3 codes. */
CM_NODISCARD int backup_restore_list_ids(struct s3_client *s3, const char *prefix, const char *ns,
                                         char (**ids)[BACKUP_ID_LEN + 1], size_t *n,
                                         struct cm_err *err);

/* A restore point read back and verified. Read-only for users. */
struct backup_restore_point {
    struct backup_manifest *mf;      /* the parsed manifest (owned) */
    enum policy_lock_mode lock_mode; /* the weakest lock of manifest and archive, as the
                                        bucket reports it now */
    time_t retain_until;             /* the earliest retain-until of the two (0 = none) */
    bool legal_hold;                 /* both objects under legal hold */
    size_t foreign_versions;         /* later versions of manifest.json or the archive that
                                        lockwarden did not write: ignored (reads are pinned) */
    cJSON **objects;                 /* keep_objects: parsed entries in manifest order */
    size_t n_objects;
};

/* Reads <prefix>/<ns>/<id>/ through the shared reader (backup_rp_open and
 * backup_rp_foreach_resource): the OLDEST version of manifest.json (strictly parsed;
 * its id and namespace must match), then the archive version the manifest names,
 * decrypted with key when the manifest names one, checking every entry's size and
 * SHA-256 (no entry missing, extra or repeated) and the archive's size and SHA-256.
 * Later versions of either key are foreign writes: never read, counted in
 * foreign_versions. The lock is the pinned versions' as the server reports it. With
 * keep_objects the entries are kept as parsed JSON, and only handed out when the whole
 * point verified (at most BACKUP_MAX_RESOURCES entries of BACKUP_MAX_ENTRY bytes).
 * Returns 0; CM_ENOENT "partial or absent" when no manifest.json exists;
 * CM_EINTEGRITY when anything disagrees (err says what: the restore point is corrupt
 * or has been tampered with; also a corrupt manifest or archive); CM_EUNSUPPORTED
 * (another format); CM_EINVAL when an encrypted point gets no key or the wrong one;
 * CM_ETOOBIG, CM_ENOMEM, or the s3 codes. *out untouched on failure. */
CM_NODISCARD int backup_restore_point_read(struct s3_client *s3, const char *prefix, const char *ns,
                                           const char *id, const struct backup_key *key,
                                           bool keep_objects, struct backup_restore_point **out,
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
    char ns[64]; /* target namespace, "" when cluster-scoped */
    char name[BACKUP_RESTORE_NAME_MAX + 1];
    enum backup_restore_status status;
    char detail[512]; /* why skipped or failed, or "" */
};

struct backup_restore_result;

CM_NODISCARD int backup_restore_result_create(struct backup_restore_result **out);
void backup_restore_result_destroy(struct backup_restore_result *r);
/* Appends an outcome; strings are copied (cut to the field sizes). detail may be NULL.
 * Returns 0, CM_ETOOBIG (more than BACKUP_RESTORE_MAX_ITEMS) or CM_ENOMEM. */
CM_NODISCARD int backup_restore_result_add(struct backup_restore_result *r, const char *api_version,
                                           const char *kind, const char *ns, const char *name,
                                           enum backup_restore_status status, const char *detail);
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
    bool dry_run;         /* read-only: report what would be created/updated/skipped */
    bool update_existing; /* --existing update: PUT over existing objects (else skip) */
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
CM_NODISCARD int backup_restore_apply(struct kube_client *kc, const struct backup_restore_point *rp,
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
    BACKUP_AUDIT_VERIFY_FAILED, /* checksum mismatch, missing object, unreadable */
};

/* Issue bits an app can carry; the class is derived from them. */
#define BACKUP_AUDIT_ISSUE_UNBOUND (1u << 0)         /* no BackupPolicy binding */
#define BACKUP_AUDIT_ISSUE_UNKNOWN_POLICY (1u << 1)  /* binding names no loaded policy */
#define BACKUP_AUDIT_ISSUE_GUARDRAIL (1u << 2)       /* fails a guardrail rule */
#define BACKUP_AUDIT_ISSUE_NO_POINT (1u << 3)        /* no restore point */
#define BACKUP_AUDIT_ISSUE_INCOMPLETE (1u << 4)      /* latest point has no manifest */
#define BACKUP_AUDIT_ISSUE_VERIFY (1u << 5)          /* latest point does not verify */
#define BACKUP_AUDIT_ISSUE_STALE (1u << 6)           /* older than the RPO boundary */
#define BACKUP_AUDIT_ISSUE_NO_LOCK (1u << 7)         /* not locked where required */
#define BACKUP_AUDIT_ISSUE_LOCK_EXPIRED (1u << 8)    /* retain-until is in the past */
#define BACKUP_AUDIT_ISSUE_LOCK_WEAK (1u << 9)       /* GOVERNANCE where COMPLIANCE asked */
#define BACKUP_AUDIT_ISSUE_POLICY_NO_LOCK (1u << 10) /* immutable label, policy unlocked */
#define BACKUP_AUDIT_ISSUE_NO_SCHEDULE (1u << 11)    /* schedule never fired: RPO unknown */
#define BACKUP_AUDIT_ISSUE_COUNT_ 12

/* "unbound", "unknown-policy", ... Cannot fail; "?" for an unknown bit. */
const char *backup_audit_issue_name(unsigned bit);

/* What is known about one app. All pointers are borrowed for the call; NULL strings
 * mean "not known / not applicable". */
struct backup_audit_facts {
    const char *kind; /* "Deployment" | "StatefulSet"; required */
    const char *ns;   /* required */
    const char *name; /* required */
    enum backup_audit_guardrail guardrail;
    const char *guardrail_detail;        /* failing policy/rule and message */
    const char *policy;                  /* bound BackupPolicy name; NULL = unbound */
    bool policy_missing;                 /* policy is named but not loaded */
    const char *schedule;                /* the policy's schedule as written */
    const struct policy_cron *cron;      /* parsed schedule; NULL = none */
    enum policy_lock_mode lock_required; /* NONE = immutability not required */
    bool policy_lacks_lock;              /* the app asks immutable, the policy has no lock */
    const char *point;                   /* latest restore point id; NULL = none */
    time_t point_time;                   /* when it was taken; <= 0 unknown (no age, no RPO) */
    bool point_complete;                 /* its manifest exists */
    enum backup_audit_verify verify;
    const char *verify_detail;
    enum policy_lock_mode lock_mode; /* read back from the bucket; NONE = no lock */
    time_t retain_until;             /* 0 = none */
    bool legal_hold;
};

/* The verdict for one app. Value type. */
struct backup_audit_verdict {
    enum backup_audit_class cls;
    unsigned issues;     /* BACKUP_AUDIT_ISSUE_* bits */
    time_t rpo_boundary; /* the oldest acceptable point time; 0 = not applicable */
    long long age_s;     /* now - point_time, >= 0; -1 without a point */
    bool lock_required;
};

/* Classifies an app at time now. The rules (see the README, "Compliance audit"):
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
    char point[BACKUP_RESTORE_NAME_MAX + 1]; /* "" = none */
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
                                         const struct backup_audit_facts *f, struct cm_err *err);
/* Removes the apps of namespace ns (kube-system and the like). Cannot fail. */
void backup_audit_report_exclude(struct backup_audit_report *r, const char *ns);
/* Sorts the apps by namespace, name, kind (deterministic output). Cannot fail. */
void backup_audit_report_sort(struct backup_audit_report *r);
size_t backup_audit_report_count(const struct backup_audit_report *r);
const struct backup_audit_app *backup_audit_report_get(const struct backup_audit_report *r,
                                                       size_t i);
time_t backup_audit_report_now(const struct backup_audit_report *r);
/* Apps per class. */
size_t backup_audit_report_tally(const struct backup_audit_report *r, enum backup_audit_class c);
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
    const char *verify_detail;       /* may be NULL */
    enum policy_lock_mode lock_mode; /* the weakest lock found on its objects */
    time_t retain_until;             /* the earliest retain-until of its objects */
    bool legal_hold;
};

/* How an app is bound. Value type. */
struct backup_audit_binding {
    const struct policy_backup *backup;     /* the loaded policy, or NULL */
    char name[BACKUP_RESTORE_NAME_MAX + 1]; /* the policy the app names/binds ("" none) */
    bool missing;                           /* name set but no such policy loaded */
    bool lacks_lock;                        /* immutable: enabled, the policy has no lock */
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
                                           const struct backup_audit_point *pt, struct cm_err *err);

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

/* Where and how the live audit looks. Strings borrowed; NULL = the default. */
struct backup_audit_live_opts {
    const char *kubeconfig; /* as backup_kube_open (NULL: in-cluster or ~/.kube) */
    const char *context;
    const char *endpoint_override; /* as backup_store_open */
    const char *secret_ns;         /* credentials/key Secrets (NULL: context's namespace) */
    const struct policy_set *ps;   /* guardrails and BackupPolicies (may be NULL) */
    time_t now;                    /* the classification clock */
};

/* The live audit: lists every namespace, Deployment and StatefulSet through the
 * cluster, binds and evaluates each app against o->ps, and for each bound app reads
 * the newest complete restore point of its namespace from its BackupPolicy's bucket
 * (credentials as backup_store_open, Secrets in o->secret_ns; an encrypted point
 * gets its key from the policy's encryptionKeySecret in o->secret_ns, else in the
 * app's namespace), verifying it end to end and reading its lock back. Partial points
 * are skipped when a complete one exists. A bucket that cannot be read makes the app's
 * point "does not verify" (named in verify_detail), never a pass. Returns 0 with *out,
 * or the kube codes when the cluster itself cannot be listed. */
CM_NODISCARD int backup_audit_live(const struct backup_audit_live_opts *o,
                                   struct backup_audit_report **out, struct cm_err *err);

/* Internal to audit_render.c and audit_html.c (and their tests); not for other modules. */
/* "-" for age < 0, else "45s", "12m", "3h05m", "2d04h" into buf (>= 24). */
const char *backup_audit_age_format(long long age_s, char *buf, size_t len);
CM_NODISCARD int backup_audit_render_html(const struct backup_audit_report *r, struct cm_buf *out);

#endif /* BACKUP_BACKUP_H */
