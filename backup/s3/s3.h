/* SPDX-License-Identifier: Apache-2.0 */
/* s3.h - the S3 client: SigV4 over libcurl, Object Lock aware uploads (every PUT and
 * every multipart part carries Content-MD5 and x-amz-content-sha256), bounded-memory
 * streaming multipart, versions, retention, listing and typed errors.
 *
 * Design note
 * - One struct s3_client talks to one bucket of one endpoint. It owns one libcurl easy
 *   handle (connections are reused) and copies of its configuration and credentials.
 *   A client is NOT thread-safe: use it from one thread at a time; create one client
 *   per worker thread. Distinct clients may be used in parallel (libcurl must have
 *   been globally initialised before threads start: s3_global_init()).
 * - Transport: every HTTP exchange goes through struct s3_transport (a small vtable,
 *   like curl's vtls). The default is libcurl; tests plug in a recording or
 *   fault-injecting transport (tests/support/s3_fault.h).
 * - Retries: HTTP 500/502/503/504 (incl. SlowDown), 429, connection failures and
 *   timeouts are retried up to cfg.max_attempts times with capped exponential backoff
 *   and jitter, honouring Retry-After (seconds or HTTP-date, capped at
 *   cfg.retry_max_ms). The sleep is a config callback so that tests assert the delays
 *   without sleeping. Request bodies are always in memory (a single PUT's buffer or one
 *   multipart part), so a retry re-sends them from the start. A GET interrupted after
 *   body bytes reached the caller resumes from the next byte with Range and If-Match
 *   on the first ETag (never re-delivering a byte), within the same attempt budget.
 * - Memory: every buffer is capped. XML responses: S3_MAX_XML_BYTES; error bodies:
 *   S3_MAX_ERROR_BODY; an upload holds at most one part (cfg.part_size) in memory,
 *   whatever the object's size.
 * - Errors: an S3 XML error body (Code, Message, RequestId) becomes the cm_err text,
 *   "PUT bucket/key: 403 AccessDenied: forbidden by object lock (request id ...)".
 *   Mapping: 404 NoSuchKey/NoSuchBucket/NoSuchVersion -> CM_ENOENT; 404
 *   ObjectLockConfigurationNotFoundError -> CM_ENOENT; 403 AccessDenied on a DELETE or
 *   retention change of a version -> CM_ELOCKED; other 401/403 -> CM_EAUTH; 400
 *   BadDigest -> CM_EINTEGRITY; 409 BucketAlreadyOwnedByYou/BucketAlreadyExists ->
 *   CM_EEXIST; retryable statuses once attempts are exhausted -> CM_EAGAIN; transport
 *   failures -> CM_ECONN, CM_ETIMEDOUT or CM_ETLS; malformed responses -> CM_EPROTO;
 *   other statuses -> CM_EHTTP.
 * - Secrets (secret key, session token) are wiped (cm_free_secure) when released and
 *   are never logged; logs (mod "s3") carry method, bucket, key, status, attempt.
 * - Times are seconds since the epoch (UTC); retain-until dates go on the wire as
 *   "YYYY-MM-DDTHH:MM:SSZ". */
#ifndef BACKUP_S3_S3_H
#define BACKUP_S3_S3_H

#include "common/cm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* ---- limits ---- */
#define S3_MAX_KEY 1024                        /* object key bytes (AWS limit) */
#define S3_MAX_VERSION_ID 256                  /* version id bytes we accept */
#define S3_MAX_ETAG 128                        /* ETag bytes incl. quotes */
#define S3_MAX_URL 4096                        /* one request URL */
#define S3_MAX_XML_BYTES (4u << 20)            /* one XML response body */
#define S3_MAX_XML_DEPTH 32                    /* XML element nesting */
#define S3_MAX_ERROR_BODY (64u << 10)          /* kept of an error body */
#define S3_MIN_PART_SIZE ((size_t)5 << 20)     /* every multipart part but the last */
#define S3_DEFAULT_PART_SIZE ((size_t)8 << 20) /* default cfg.part_size */
#define S3_MAX_PART_SIZE ((size_t)512 << 20)   /* memory bound of one upload */
#define S3_MAX_PARTS 10000                     /* parts in one multipart upload */
#define S3_MAX_META 16                         /* x-amz-meta-* entries */
#define S3_MAX_META_NAME 64                    /* bytes of a meta name (after x-amz-meta-) */
#define S3_MAX_META_VALUE 512                  /* bytes of a meta value */
#define S3_MAX_CREDENTIALS_FILE (1u << 20)     /* shared credentials file size */
#define S3_MAX_ATTEMPTS 20                     /* upper bound of cfg.max_attempts */

/* ---- process-wide ---- */

/* Initialises libcurl (curl_global_init). Call once from main before threads start.
 * Returns 0 or CM_EIO. s3_global_cleanup() undoes it at exit. */
CM_NODISCARD int s3_global_init(struct cm_err *err);
void s3_global_cleanup(void);

/* ---- credentials ---- */

/* Access key, secret key and optional session token. A value type the caller
 * allocates; init with {0}. Owned strings (cm_malloc); release with
 * s3_credentials_cleanup(), which wipes the secret and token. */
struct s3_credentials {
    char *access_key;
    char *secret_key;
    char *session_token; /* NULL when none */
};

/* Copies explicit values (e.g. from the Secret a BackupPolicy names) into out.
 * token may be NULL or "". Returns 0, CM_EINVAL (empty key or secret, or a value
 * with control characters) or CM_ENOMEM; out is untouched on failure. */
CM_NODISCARD int s3_credentials_set(struct s3_credentials *out, const char *access_key,
                                    const char *secret_key, const char *token, struct cm_err *err);

/* Reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. Returns 0,
 * CM_ENOENT (either key variable unset or empty), CM_EINVAL or CM_ENOMEM.
 * Not thread-safe against setenv (getenv). out untouched on failure. */
CM_NODISCARD int s3_credentials_from_env(struct s3_credentials *out, struct cm_err *err);

/* Parses an AWS shared credentials file (INI) held in buf[0..len) (not NUL-terminated)
 * and takes aws_access_key_id, aws_secret_access_key and aws_session_token from
 * section [profile] (NULL means "default"; "[profile NAME]" headers are accepted too).
 * '#' and ';' start comment lines; keys and values are trimmed; later duplicates win.
 * Returns 0, CM_ENOENT (no such profile, or a key missing in it), CM_EPARSE (a line
 * that is neither section, key = value, comment nor blank; err says the line number),
 * CM_ETOOBIG (len > S3_MAX_CREDENTIALS_FILE) or CM_ENOMEM. out untouched on failure.
 * Never copies secret material into err. Pure; thread-safe. */
CM_NODISCARD int s3_credentials_parse(const char *buf, size_t len, const char *profile,
                                      struct s3_credentials *out, struct cm_err *err);

/* Loads path (NULL: $AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials) with
 * profile (NULL: $AWS_PROFILE, else "default"), then s3_credentials_parse(). Errors as
 * above plus CM_EIO; CM_ENOENT when the file does not exist. The buffer that held the
 * file is wiped before it is freed. */
CM_NODISCARD int s3_credentials_load_file(const char *path, const char *profile,
                                          struct s3_credentials *out, struct cm_err *err);

/* The default chain: the environment, then the shared credentials file (NULL, NULL).
 * Returns CM_ENOENT naming both places when neither has credentials. */
CM_NODISCARD int s3_credentials_load_default(struct s3_credentials *out, struct cm_err *err);

/* Wipes and frees the strings and zeroes the struct. NULL-safe; cannot fail. */
void s3_credentials_cleanup(struct s3_credentials *c);

/* Copies $AWS_REGION, else $AWS_DEFAULT_REGION, into out. Returns 0, CM_ENOENT (both
 * unset or empty) or CM_ETOOBIG (does not fit in len). */
CM_NODISCARD int s3_region_from_env(char *out, size_t len);

/* ---- transport (vtable; tests plug their own) ---- */

/* One header or query parameter. Strings borrowed, NUL-terminated. */
struct s3_kv {
    const char *name;
    const char *value;
};

/* What the client hands to a transport. All pointers are borrowed for the call. */
struct s3_http_request {
    const char *method;          /* "GET", "PUT", "POST", "DELETE", "HEAD" */
    const char *url;             /* absolute, already encoded */
    const struct s3_kv *headers; /* n_headers entries incl. Authorization, Host */
    size_t n_headers;
    const unsigned char *body; /* NULL when body_len is 0 */
    size_t body_len;
};

/* Response sinks the client provides. Each callback returns 0 to continue or a
 * negative CM_E* code to abort the exchange (the transport then returns that code). */
struct s3_http_response {
    /* One header line split into name and value (trimmed, not NUL-terminated). */
    int (*on_header)(const char *name, size_t name_len, const char *value, size_t value_len,
                     void *ctx);
    /* Called with the status before the first on_body (and before headers end). */
    int (*on_status)(long status, void *ctx);
    int (*on_body)(const void *p, size_t n, void *ctx);
    void *ctx;
};

/* A transport performs one HTTP exchange. perform() returns 0 when a complete response
 * was received, whatever its status; CM_ECONN (refused, reset, DNS), CM_ETIMEDOUT,
 * CM_ETLS or CM_EPROTO (truncated/malformed response) for transport failures (err
 * says what); or a code returned by a response callback. Called from the client's
 * thread only. destroy(NULL ctx) must be safe. */
struct s3_transport {
    int (*perform)(void *ctx, const struct s3_http_request *req,
                   const struct s3_http_response *resp, struct cm_err *err);
    void (*destroy)(void *ctx);
};

/* Backoff sleep: waits ms milliseconds. The default uses nanosleep. */
typedef void (*s3_sleep_fn)(uint64_t ms, void *ctx);

/* ---- client ---- */

/* Configuration; a value type the caller fills (zero = default) and keeps only for the
 * duration of s3_client_create(), which copies everything it needs. */
struct s3_config {
    const char
        *endpoint; /* "http(s)://host[:port]" (no path); NULL: https://s3.<region>.amazonaws.com */
    const char *region;                 /* NULL: "us-east-1" */
    const char *bucket;                 /* required; 3-63 chars of [a-z0-9.-], starts/ends alnum */
    bool path_style;                    /* true: endpoint/bucket/key; false: bucket.host/key */
    const char *ca_file;                /* PEM bundle for https endpoints; NULL: system store */
    const struct s3_credentials *creds; /* required; copied */
    size_t part_size;                   /* multipart part size; 0: S3_DEFAULT_PART_SIZE */
    unsigned max_attempts;              /* per request incl. the first; 0: 5; max S3_MAX_ATTEMPTS */
    uint64_t retry_base_ms;             /* first backoff; 0: 200 */
    uint64_t retry_max_ms;              /* cap of one backoff and of Retry-After; 0: 20000 */
    long connect_timeout_ms;            /* 0: 10000 */
    long stall_timeout_ms;              /* abort when no byte moves this long; 0: 60000 */
    s3_sleep_fn sleep;                  /* NULL: nanosleep */
    void *sleep_ctx;
    uint64_t jitter_seed; /* 0: seeded from the clock */
    /* NULL: libcurl. Otherwise the client calls transport->perform(transport_ctx, ...)
     * and calls transport->destroy(transport_ctx) from s3_client_destroy (ownership of
     * transport_ctx moves to the client on success only). */
    const struct s3_transport *transport;
    void *transport_ctx;
};

struct s3_client;

/* Validates cfg and creates a client. Returns 0, CM_EINVAL (bad bucket name, endpoint,
 * part size or attempts; err names the field), CM_ENOMEM or CM_EIO (libcurl). No
 * network I/O. On failure *out is untouched and cfg->transport_ctx still belongs to
 * the caller. */
CM_NODISCARD int s3_client_create(const struct s3_config *cfg, struct s3_client **out,
                                  struct cm_err *err);
/* Frees the client, its libcurl handle, and wipes its credentials. NULL-safe. */
void s3_client_destroy(struct s3_client *c);
/* The bucket name (borrowed, lives as long as c). Cannot fail. */
const char *s3_client_bucket(const struct s3_client *c);

/* ---- bucket ---- */

enum s3_versioning { S3_VERSIONING_NONE = 0, S3_VERSIONING_ENABLED, S3_VERSIONING_SUSPENDED };

enum s3_lock_mode { S3_LOCK_NONE = 0, S3_LOCK_GOVERNANCE, S3_LOCK_COMPLIANCE };

/* "GOVERNANCE", "COMPLIANCE" or "NONE". Cannot fail. */
const char *s3_lock_mode_name(enum s3_lock_mode m);
/* Parses "GOVERNANCE"/"COMPLIANCE" (any case). Returns 0 or CM_EINVAL. */
CM_NODISCARD int s3_lock_mode_parse(const char *s, size_t n, enum s3_lock_mode *out);

/* A bucket's Object Lock configuration. default_mode NONE means no default rule. */
struct s3_lock_config {
    bool enabled;
    enum s3_lock_mode default_mode;
    unsigned default_days;  /* 0 unless set */
    unsigned default_years; /* 0 unless set (never both) */
};

/* Creates the bucket, with Object Lock (x-amz-bucket-object-lock-enabled: true, which
 * also enables versioning) when object_lock. Sends a LocationConstraint only for
 * regions other than us-east-1. Returns 0, CM_EEXIST (BucketAlreadyExists /
 * BucketAlreadyOwnedByYou), CM_EAUTH or the transport/HTTP codes above. Beware: for a
 * bucket the caller already owns, radosgw (and AWS in us-east-1) answer 200 without
 * changing it, so 0 does not prove Object Lock: run s3_client_preflight_lock(). */
CM_NODISCARD int s3_client_create_bucket(struct s3_client *c, bool object_lock, struct cm_err *err);
/* HEAD bucket: 0 when it exists and is reachable; CM_ENOENT, CM_EAUTH, ... */
CM_NODISCARD int s3_client_head_bucket(struct s3_client *c, struct cm_err *err);
/* Deletes the (empty) bucket. For test cleanup. */
CM_NODISCARD int s3_client_delete_bucket(struct s3_client *c, struct cm_err *err);
/* GET ?versioning. *out untouched on failure. */
CM_NODISCARD int s3_client_get_versioning(struct s3_client *c, enum s3_versioning *out,
                                          struct cm_err *err);
/* PUT ?versioning Enabled (true) or Suspended (false). */
CM_NODISCARD int s3_client_put_versioning(struct s3_client *c, bool enabled, struct cm_err *err);
/* GET ?object-lock. CM_ENOENT ("bucket X: Object Lock is not enabled") when the bucket
 * has no lock configuration. *out untouched on failure. */
CM_NODISCARD int s3_client_get_lock_config(struct s3_client *c, struct s3_lock_config *out,
                                           struct cm_err *err);
/* PUT ?object-lock (ObjectLockEnabled=Enabled plus the default rule when
 * default_mode != NONE; exactly one of days/years must then be > 0, else CM_EINVAL). */
CM_NODISCARD int s3_client_put_lock_config(struct s3_client *c, const struct s3_lock_config *cfg,
                                           struct cm_err *err);

/* The executor's preflight for a policy that asks for Object Lock: checks that the
 * bucket has versioning Enabled and an Object Lock configuration that is enabled.
 * Returns 0; CM_ECONFIG with "bucket X: versioning is not enabled" or "bucket X:
 * Object Lock is not enabled"; CM_ECONFIG "bucket X: does not exist" for a missing
 * bucket; other codes (CM_EAUTH, CM_ECONN, ...) when the bucket cannot be asked. */
CM_NODISCARD int s3_client_preflight_lock(struct s3_client *c, struct cm_err *err);

/* ---- objects ---- */

/* One user metadata entry (x-amz-meta-<name>). name is lowercase ASCII token chars. */
struct s3_meta {
    char name[S3_MAX_META_NAME + 1];
    char value[S3_MAX_META_VALUE + 1];
};

/* Options of a PUT / upload. Zero means: no lock, no legal hold, no metadata. */
struct s3_put_opts {
    enum s3_lock_mode lock_mode; /* NONE: no lock headers */
    time_t retain_until;         /* required (> now) when lock_mode != NONE */
    bool legal_hold;             /* x-amz-object-lock-legal-hold: ON */
    const char *content_type;    /* NULL: application/octet-stream */
    const struct s3_meta *meta;  /* n_meta entries, borrowed; n_meta <= S3_MAX_META */
    size_t n_meta;
};

/* What a completed PUT / upload produced. */
struct s3_put_result {
    char etag[S3_MAX_ETAG + 1];             /* as the server sent it (quotes kept) */
    char version_id[S3_MAX_VERSION_ID + 1]; /* "" when the bucket is not versioned */
    char sha256_hex[65];                    /* SHA-256 of the whole object's bytes */
    uint64_t size;
    unsigned parts; /* 0 for a single PUT */
};

/* State of one object version (HEAD / GET). */
struct s3_object_info {
    uint64_t size;
    char etag[S3_MAX_ETAG + 1];
    char version_id[S3_MAX_VERSION_ID + 1];
    char content_type[128];
    time_t last_modified;        /* 0 when absent */
    enum s3_lock_mode lock_mode; /* NONE when not locked */
    time_t retain_until;         /* 0 when not locked */
    bool legal_hold;
    struct s3_meta meta[S3_MAX_META]; /* names lowercased; further entries dropped */
    size_t n_meta;
};

/* PUT from memory (len may be 0), Content-MD5 and x-amz-content-sha256 always, lock
 * headers per opts. key: 1..S3_MAX_KEY bytes, no NUL. opts may be NULL. out may be
 * NULL. Returns 0 or the codes in the design note (400 InvalidRequest when the bucket
 * has no Object Lock and a lock was asked -> CM_EHTTP naming it). */
CM_NODISCARD int s3_client_put_object(struct s3_client *c, const char *key, const void *data,
                                      size_t len, const struct s3_put_opts *opts,
                                      struct s3_put_result *out, struct cm_err *err);

/* ---- streaming upload: open / write / close ---- */

/* A streaming upload holds one part buffer (cfg.part_size). Until part_size bytes
 * have been written nothing is sent; an object that ends within one part is stored
 * with a single PUT. Beyond that it becomes a multipart upload: CreateMultipartUpload
 * (with the lock headers, which AWS honours), UploadPart with Content-MD5 for every
 * part, CompleteMultipartUpload, then PutObjectRetention (and legal hold) on the
 * resulting version because radosgw 16.2 ignores lock headers on
 * CreateMultipartUpload, then HEAD for the ETag (radosgw leaves it empty). Any failure
 * aborts the multipart upload (best effort) before returning. A completion whose answer
 * was lost (a retry then gets NoSuchUpload, radosgw's 500 "already in progress", or a 200
 * without a version id) is settled by finding the version whose ETag is the multipart
 * ETag of the parts sent and whose size is the bytes written; when none is, close fails
 * (CM_ENOENT "...NoSuchUpload after a retried CompleteMultipartUpload and no object with
 * the expected ETag E and size N..."). Not thread-safe; at most S3_MAX_PARTS parts
 * (part_size * S3_MAX_PARTS bytes). */
struct s3_upload;

/* Starts an upload of key. opts is copied (meta too). Returns 0, CM_EINVAL (bad key,
 * lock without a retain-until date, too much metadata) or CM_ENOMEM. No I/O yet. */
CM_NODISCARD int s3_upload_open(struct s3_client *c, const char *key,
                                const struct s3_put_opts *opts, struct s3_upload **out,
                                struct cm_err *err);
/* Appends bytes; sends a part whenever the buffer is full. On failure the upload is
 * aborted on the server and every later call returns the same code; the caller still
 * calls s3_upload_abort() (or close) to free it. */
CM_NODISCARD int s3_upload_write(struct s3_upload *u, const void *p, size_t n, struct cm_err *err);
/* How many bytes s3_upload_write() takes now without any request to the server and
 * without touching the client: writes of fewer bytes only fill the part buffer (so a
 * caller may write them while another thread still uses the client). 0 after a
 * failure. Cannot fail; same thread rules as s3_upload_write. */
size_t s3_upload_room(const struct s3_upload *u);
/* Finishes the object and frees u (always, also on failure). out may be NULL. */
CM_NODISCARD int s3_upload_close(struct s3_upload *u, struct s3_put_result *out,
                                 struct cm_err *err);
/* Abandons the upload (AbortMultipartUpload when one was started) and frees u.
 * NULL-safe; never fails (a failed abort is logged). */
void s3_upload_abort(struct s3_upload *u);

/* Source of bytes: fill buf[0..cap), set *got (0 means end of data). Return 0 or a
 * negative CM_E* code, which aborts the upload and is returned. */
typedef int (*s3_read_fn)(void *buf, size_t cap, size_t *got, void *ctx);

/* Convenience: open, read until *got == 0, close. Same contract as above. */
CM_NODISCARD int s3_client_put_stream(struct s3_client *c, const char *key, s3_read_fn read,
                                      void *ctx, const struct s3_put_opts *opts,
                                      struct s3_put_result *out, struct cm_err *err);

/* ---- reading ---- */

/* Sink of a GET body. Return 0 or a negative CM_E* code to stop (that code is
 * returned by the GET). */
typedef int (*s3_write_fn)(const void *p, size_t n, void *ctx);

/* Optional byte range [first, last] (inclusive), like HTTP Range. */
struct s3_range {
    uint64_t first;
    uint64_t last;
};

/* GET key (version_id NULL: the latest) streaming the body to write. range may be NULL.
 * info (may be NULL) gets the headers (size is the object's full size). An interrupted
 * transfer resumes (see the design note): write sees every byte exactly once, in order.
 * Returns 0, CM_ENOENT (NoSuchKey/NoSuchVersion), CM_EPROTO (body shorter than
 * Content-Length after all attempts, or a resume the server did not honour), CM_EHTTP
 * 412 (the object changed during a resumed download), a code from write, or the codes
 * above. Memory stays bounded: the body is never buffered. */
CM_NODISCARD int s3_client_get_object(struct s3_client *c, const char *key, const char *version_id,
                                      const struct s3_range *range, s3_write_fn write, void *ctx,
                                      struct s3_object_info *info, struct cm_err *err);

/* GET into a new buffer (cm_free) of at most max bytes: CM_ETOOBIG beyond. For small
 * objects such as manifests. *out and *out_len untouched on failure. */
CM_NODISCARD int s3_client_get_object_mem(struct s3_client *c, const char *key,
                                          const char *version_id, size_t max, char **out,
                                          size_t *out_len, struct s3_object_info *info,
                                          struct cm_err *err);

/* HEAD key (version_id may be NULL). CM_ENOENT when absent. *info untouched on failure. */
CM_NODISCARD int s3_client_head_object(struct s3_client *c, const char *key, const char *version_id,
                                       struct s3_object_info *info, struct cm_err *err);

/* ---- retention and legal hold ---- */

/* GET ?retention of a version (version_id may be NULL: latest). Returns 0; CM_ENOENT
 * when the version has no retention (NoSuchObjectLockConfiguration) or is absent. */
CM_NODISCARD int s3_client_get_retention(struct s3_client *c, const char *key,
                                         const char *version_id, enum s3_lock_mode *mode,
                                         time_t *retain_until, struct cm_err *err);
/* PUT ?retention (Content-MD5 sent). Extending works in both modes. The server refuses
 * to shorten a lock or change COMPLIANCE to GOVERNANCE: that 403 becomes CM_ELOCKED
 * "retention cannot be shortened or its mode changed". bypass_governance sends
 * x-amz-bypass-governance-retention: true (only when explicitly asked). */
CM_NODISCARD int s3_client_put_retention(struct s3_client *c, const char *key,
                                         const char *version_id, enum s3_lock_mode mode,
                                         time_t retain_until, bool bypass_governance,
                                         struct cm_err *err);
/* GET / PUT ?legal-hold of a version. get: CM_ENOENT when none was ever set. */
CM_NODISCARD int s3_client_get_legal_hold(struct s3_client *c, const char *key,
                                          const char *version_id, bool *on, struct cm_err *err);
CM_NODISCARD int s3_client_put_legal_hold(struct s3_client *c, const char *key,
                                          const char *version_id, bool on, struct cm_err *err);

/* ---- delete ---- */

/* DELETE key (?versionId when version_id is not NULL). With a version id, a 403
 * AccessDenied means the version is retained by Object Lock (or a legal hold): returns
 * CM_ELOCKED "... retained by object lock", which the executor treats as "retained",
 * not as a failure. Without a version id S3 only adds a delete marker. The executor
 * never sets bypass_governance. A missing version returns 0 (S3 semantics). */
CM_NODISCARD int s3_client_delete_object(struct s3_client *c, const char *key,
                                         const char *version_id, bool bypass_governance,
                                         struct cm_err *err);

/* ---- listing ---- */

/* One listed object, version or common prefix; every pointer is borrowed for the
 * callback only (NUL-terminated). */
struct s3_list_entry {
    const char *key;        /* the prefix itself when is_prefix */
    const char *version_id; /* versions listing only, else NULL */
    const char *etag;       /* NULL for prefixes and delete markers */
    uint64_t size;
    time_t last_modified;
    bool is_prefix;        /* a CommonPrefixes entry (delimiter given) */
    bool is_latest;        /* versions listing */
    bool is_delete_marker; /* versions listing */
};

/* Called per entry; return 0 to continue, a positive value to stop early (the list
 * call returns 0), or a negative CM_E* code to stop with that error. */
typedef int (*s3_list_fn)(const struct s3_list_entry *e, void *ctx);

struct s3_list_opts {
    const char *prefix;    /* NULL: all */
    const char *delimiter; /* NULL: none */
    unsigned max_keys;     /* page size; 0: 1000 (server default) */
};

/* ListObjectsV2, following continuation tokens until the end (or the callback stops).
 * pages (may be NULL) gets the number of pages fetched. opts may be NULL. */
CM_NODISCARD int s3_client_list_objects(struct s3_client *c, const struct s3_list_opts *opts,
                                        s3_list_fn fn, void *ctx, unsigned *pages,
                                        struct cm_err *err);
/* ListObjectVersions (?versions) paging with key-marker / version-id-marker; entries
 * include delete markers. */
CM_NODISCARD int s3_client_list_versions(struct s3_client *c, const struct s3_list_opts *opts,
                                         s3_list_fn fn, void *ctx, unsigned *pages,
                                         struct cm_err *err);

/* ---- SigV4 (exposed so that it can be checked against AWS's published examples) ---- */

/* Inputs of one signature. Header names may be any case; values are trimmed and inner
 * runs of spaces folded. path is the raw (unencoded) absolute path; it is URI-encoded
 * per segment once (S3 rules: '/' kept, no normalisation). query holds raw names and
 * values (encoded and sorted by the signer). */
struct s3_sigv4_input {
    const char *method;
    const char *path;
    const struct s3_kv *query;
    size_t n_query;
    const struct s3_kv *headers; /* every header to sign, incl. host and x-amz-date */
    size_t n_headers;
    const char *payload_sha256_hex; /* hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" */
    const char *amz_date;           /* "YYYYMMDDTHHMMSSZ" */
    const char *region;
    const char *service; /* "s3" */
    const char *access_key;
    const char *secret_key;
};

/* Writes the Authorization header value ("AWS4-HMAC-SHA256 Credential=...,
 * SignedHeaders=..., Signature=...") into out. Returns 0, CM_EINVAL (missing input,
 * bad date), CM_ETOOBIG (out too small or more than 64 headers/query parameters) or
 * CM_ENOMEM. Thread-safe. canonical (may be NULL) receives the canonical request for
 * debugging, up to canonical_len bytes (truncated, NUL-terminated). */
CM_NODISCARD int s3_sigv4_sign(const struct s3_sigv4_input *in, char *out, size_t out_len,
                               char *canonical, size_t canonical_len, struct cm_err *err);

#endif /* BACKUP_S3_S3_H */
