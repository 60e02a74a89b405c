/* SPDX-License-Identifier: Apache-2.0 */
/* backup.h - the executor: captures bound applications (one namespace each) into
 * S3 Object Lock restore points, lists, verifies and prunes them, and schedules them.
 *
 * Design note
 * - Format: docs/restore-point-format.md is the contract. Keys are never overwritten;
 *   manifest.json is written last and its presence means "complete".
 * - Pipeline (bounded memory): resource JSON -> tar writer -> gzip (zlib) ->
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

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define BACKUP_FORMAT "lockwarden.io/restore-point/v1"
#define BACKUP_MANIFEST_MAX (64u << 20)       /* bytes of manifest.json */
#define BACKUP_MAX_RESOURCES 100000           /* resources in one restore point */
#define BACKUP_MAX_SNAPSHOTS 10000            /* snapshots in one restore point */
#define BACKUP_MAX_STRING 1024                /* any manifest string */
#define BACKUP_MAX_ENTRY (8u << 20)           /* one archive entry (one object's JSON) */
#define BACKUP_ID_LEN 25                      /* "YYYYMMDDTHHMMSSZ-xxxxxxxx" */
#define BACKUP_KEY_MAX 1024                   /* one S3 key */
#define BACKUP_ENC_FRAME 65536                /* plaintext bytes per GCM frame */
#define BACKUP_LABEL_RP "lockwarden.io/restore-point"
#define BACKUP_LABEL_PVC "lockwarden.io/pvc"
#define BACKUP_ARCHIVE_NAME "resources.tar.gz"
#define BACKUP_ARCHIVE_NAME_ENC "resources.tar.gz.enc"
#define BACKUP_MANIFEST_NAME "manifest.json"

/* ---- restore-point ids and keys (backup_rp.c) ---- */

/* Formats the id for capture time t and 4 random bytes into buf (>= BACKUP_ID_LEN + 1):
 * "20261122T093000Z-1a2b3c4d". Returns 0 or CM_EINVAL (buf too small, t < 0). */
CM_NODISCARD int backup_rp_id_format(time_t t, const unsigned char rnd[4], char *buf,
                                     size_t len);
/* The same with 4 bytes from the OpenSSL CSPRNG. Returns 0, CM_EINVAL or CM_EIO. */
CM_NODISCARD int backup_rp_id_new(time_t t, char *buf, size_t len);
/* Validates id[0..n) strictly and returns its time. Returns 0 or CM_EPARSE. */
CM_NODISCARD int backup_rp_id_parse(const char *id, size_t n, time_t *out);
/* Builds "<prefix>/<ns>/<id>/<leaf>" (no leading part when prefix is "" or NULL; leaf
 * may be NULL for the directory, which then ends with '/'). ns must be a DNS label
 * and id a valid id. Returns 0, CM_EINVAL (bad ns/id/leaf, with err) or CM_ETOOBIG. */
CM_NODISCARD int backup_rp_key(const char *prefix, const char *ns, const char *id,
                               const char *leaf, char *buf, size_t len, struct cm_err *err);
/* True when s is a Kubernetes namespace name (RFC 1123 label, 1..63). */
bool backup_ns_valid(const char *s, size_t n);

/* ---- manifest (backup_manifest.c) ---- */

/* One captured object. In a parsed manifest every string is owned by the manifest
 * and never NULL; stripped[] holds n_stripped strings. */
struct backup_mf_resource {
    char *api_version;
    char *kind;
    char *resource;   /* plural, e.g. "deployments" */
    char *namespace_; /* "" for cluster-scoped */
    char *name;
    char *path;       /* archive path */
    uint64_t size;
    char sha256[65];  /* lowercase hex */
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
    char lock_mode[16];   /* "NONE", "GOVERNANCE" or "COMPLIANCE" */
    time_t retain_until;  /* 0 with NONE */
    char *archive_key;    /* BACKUP_ARCHIVE_NAME or BACKUP_ARCHIVE_NAME_ENC */
    uint64_t archive_size;
    char archive_sha256[65];
    char key_id[32];      /* "" without encryption, else "sha256:<16 hex>" */
    struct backup_mf_resource *resources;
    size_t n_resources;
    size_t resources_cap_;
    struct backup_mf_snapshot *snapshots;
    size_t n_snapshots;
    size_t snapshots_cap_;
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
CM_NODISCARD int backup_key_load_file(const char *path, struct backup_key *out,
                                      struct cm_err *err);
void backup_key_wipe(struct backup_key *k);

/* ---- streaming archive (backup_archive.c) ---- */

/* Receives output bytes in order. A non-zero return aborts the writer with that code. */
typedef int (*backup_sink_fn)(void *ctx, const void *p, size_t n, struct cm_err *err);

struct backup_archive_writer;

/* Creates a tar+gzip writer that pushes compressed (and, with key != NULL, AES-256-GCM
 * framed) bytes to sink. key is copied. mtime is written in every header. Memory is
 * bounded (zlib state + one frame) whatever is written. Returns 0, CM_ENOMEM or CM_EIO
 * (zlib/OpenSSL init). */
CM_NODISCARD int backup_archive_writer_create(backup_sink_fn sink, void *ctx,
                                              const struct backup_key *key, time_t mtime,
                                              struct backup_archive_writer **out,
                                              struct cm_err *err);
/* Adds one regular file. path: relative, no "..", at most 255 bytes; n <=
 * BACKUP_MAX_ENTRY. Returns 0, CM_EINVAL, CM_ETOOBIG, the sink's error, CM_EIO; after a
 * failure the writer only accepts destroy. */
CM_NODISCARD int backup_archive_writer_add(struct backup_archive_writer *w, const char *path,
                                           const void *data, size_t n, struct cm_err *err);
/* Ends the tar stream, the gzip member and the last GCM frame, and flushes. */
CM_NODISCARD int backup_archive_writer_finish(struct backup_archive_writer *w,
                                              struct cm_err *err);
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
 * != NULL), inflates and parses tar, calling fn per regular file. Also computes the
 * SHA-256 and size of the stored bytes. Returns 0, CM_ENOMEM, CM_EIO. */
CM_NODISCARD int backup_archive_reader_create(const struct backup_key *key, backup_entry_fn fn,
                                              void *ctx, struct backup_archive_reader **out,
                                              struct cm_err *err);
/* Feeds p[0..n). Returns 0, CM_EPARSE (bad tar/gzip/frame), CM_EINTEGRITY (GCM tag
 * failure or wrong key), CM_ETOOBIG (entry > BACKUP_MAX_ENTRY), CM_ENOMEM, or fn's code;
 * after a failure only destroy is allowed. */
CM_NODISCARD int backup_archive_reader_feed(struct backup_archive_reader *r, const void *p,
                                            size_t n, struct cm_err *err);
/* Checks that the stream ended cleanly (gzip trailer, tar end, final GCM frame).
 * Returns 0 or CM_EPARSE ("truncated archive"). */
CM_NODISCARD int backup_archive_reader_finish(struct backup_archive_reader *r,
                                              struct cm_err *err);
uint64_t backup_archive_reader_bytes(const struct backup_archive_reader *r);
const char *backup_archive_reader_sha256(const struct backup_archive_reader *r);
void backup_archive_reader_destroy(struct backup_archive_reader *r);
/* The signature that backup_sink_fn expects, feeding a reader (ctx = the reader). */
int backup_archive_reader_sink(void *ctx, const void *p, size_t n, struct cm_err *err);

/* ---- what to capture and how to strip it (backup_strip.c) ---- */

/* True when the cluster recreates this object and it must not be captured (see the
 * format document). group is "" for core. obj may be NULL (type-level decision).
 * Cannot fail; thread-safe. */
bool backup_strip_skip(const char *group, const char *resource, const cJSON *obj);
/* True for a resource type skipped whatever the object (Events, Endpoints, ...). */
bool backup_strip_skip_type(const char *group, const char *resource);
#define BACKUP_STRIP_MAX 24
/* Removes runtime fields in place and reports the removed field names (static
 * strings) in stripped[0..*n) (at most BACKUP_STRIP_MAX). Cannot fail. */
void backup_strip_object(cJSON *obj, const char *group, const char *kind,
                         const char **stripped, size_t *n);
/* The archive path for an object: "resources/<group|core>/<version>/<plural>/<name>.json"
 * or "cluster/...". Returns 0, CM_EINVAL (unsafe name) or CM_ETOOBIG. */
CM_NODISCARD int backup_strip_path(bool cluster, const char *group, const char *version,
                                   const char *resource, const char *name, char *buf,
                                   size_t len);

/* ---- GFS retention (backup_gfs.c) ---- */

struct backup_gfs_counts {
    uint32_t hourly, daily, weekly, monthly, yearly;
};

/* One restore point as prune sees it. */
struct backup_gfs_point {
    time_t created;       /* the id's time */
    time_t retain_until;  /* the earliest lock date of its objects (0 = not locked) */
    bool complete;        /* has a manifest */
};

enum backup_gfs_action {
    BACKUP_GFS_KEEP = 0,  /* selected by a GFS rule (or too recent to judge) */
    BACKUP_GFS_EXTEND,    /* kept, and its lock must move to new_retain_until */
    BACKUP_GFS_RETAINED,  /* past the counts but still locked: wait, never delete */
    BACKUP_GFS_EXPIRE,    /* past the counts and unlocked: delete */
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
 * locks to extend. Pure; cannot fail for n == 0. Returns 0 or CM_EINVAL (NULL). */
CM_NODISCARD int backup_gfs_decide(const struct backup_gfs_point *pts, size_t n,
                                   const struct backup_gfs_counts *counts, time_t now,
                                   uint32_t lock_days, struct backup_gfs_decision *out);
const char *backup_gfs_action_name(enum backup_gfs_action a);

/* ---- schedule (backup_sched.c) ---- */

struct policy_cron;

/* The capture due at `now`: the newest scheduled minute at or before now when it is
 * later than last_run (the newest restore point's time, 0 for none); else -1. So after
 * downtime a missed capture runs once, not once per missed slot. Pure. */
time_t backup_sched_due(const struct policy_cron *c, time_t last_run, time_t now);

/* ---- metrics (backup_metrics.c) ---- */

#define BACKUP_METRICS_MAX_APPS 4096

struct backup_metrics;

/* Creates the registry. Thread-safe after creation. Returns 0 or CM_ENOMEM. */
CM_NODISCARD int backup_metrics_create(struct backup_metrics **out);
void backup_metrics_destroy(struct backup_metrics *m);
/* Records one capture of ns under policy. Apps beyond BACKUP_METRICS_MAX_APPS are
 * counted in an overflow counter only. Thread-safe; cannot fail. */
void backup_metrics_capture(struct backup_metrics *m, const char *ns, const char *policy,
                            bool ok, uint64_t bytes, double seconds, time_t when);
/* Counts one prune decision per action and extends/deletes done. Thread-safe. */
void backup_metrics_prune(struct backup_metrics *m, enum backup_gfs_action a, unsigned count);
void backup_metrics_set_leader(struct backup_metrics *m, bool is_leader);
void backup_metrics_set_running(struct backup_metrics *m, int running);
/* Appends the Prometheus text exposition (format 0.0.4). Thread-safe. Returns 0 or
 * the cm_buf error. */
CM_NODISCARD int backup_metrics_format(struct backup_metrics *m, struct cm_buf *out);

#endif /* BACKUP_BACKUP_H */
