/* SPDX-License-Identifier: Apache-2.0 */
/* s3_int.h - declarations shared inside backup/s3 (never included from other modules;
 * the s3 unit tests and fuzz targets include it to reach the pure parsers). */
#ifndef BACKUP_S3_S3_INT_H
#define BACKUP_S3_S3_INT_H

#include "backup/s3/s3.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- bounded XML reader (s3_xml.c) ----
 * Reads one S3 response document into a flat node table. Supports elements,
 * attributes (skipped), text, CDATA, comments, processing instructions and the
 * entities &amp; &lt; &gt; &quot; &apos; &#N; &#xH;. Rejects DTDs (<!DOCTYPE), unknown
 * entities, mismatched tags and trailing content. Limits: S3_MAX_XML_BYTES input,
 * S3_MAX_XML_DEPTH nesting, S3_XML_MAX_NODES elements. Pure; thread-safe. */
#define S3_XML_MAX_NODES 200000u

struct s3_xml_node {
    const char *name; /* local name (namespace prefix removed), not NUL-terminated */
    size_t name_len;
    const char *text; /* decoded text before the first child; not NUL-terminated */
    size_t text_len;
    uint32_t first_child; /* node indices; 0 = none */
    uint32_t next_sibling;
    uint32_t last_child_;
};

struct s3_xml;

/* Parses buf[0..len). Returns 0, CM_EPARSE (err says the byte offset and why),
 * CM_ETOOBIG or CM_ENOMEM. *out untouched on failure. */
CM_NODISCARD int s3_xml_parse(const char *buf, size_t len, struct s3_xml **out, struct cm_err *err);
void s3_xml_destroy(struct s3_xml *x);
/* The document element. Cannot fail. */
const struct s3_xml_node *s3_xml_root(const struct s3_xml *x);
/* First child of n named name (local name; NULL: any), or NULL. */
const struct s3_xml_node *s3_xml_child(const struct s3_xml *x, const struct s3_xml_node *n,
                                       const char *name);
/* Next sibling of n named name (NULL: any), or NULL. */
const struct s3_xml_node *s3_xml_next(const struct s3_xml *x, const struct s3_xml_node *n,
                                      const char *name);
/* True when n's local name is name. */
bool s3_xml_is(const struct s3_xml_node *n, const char *name);
/* Copies n's text (NULL n: "") into out (NUL-terminated). Returns 0 or CM_ETOOBIG. */
CM_NODISCARD int s3_xml_text_copy(const struct s3_xml_node *n, char *out, size_t cap);
/* The text of child name of n into out; CM_ENOENT when there is no such child. */
CM_NODISCARD int s3_xml_child_text(const struct s3_xml *x, const struct s3_xml_node *n,
                                   const char *name, char *out, size_t cap);
/* True when n's text equals s exactly. */
bool s3_xml_text_is(const struct s3_xml_node *n, const char *s);

/* ---- S3 error bodies and response parsers (s3_parse.c; pure, fuzzed) ---- */

struct s3_error_info {
    char code[64];
    char message[160];
    char request_id[64];
    bool is_oom; /* memory ran out while parsing: the fields say nothing */
};

/* Best effort: fills what an <Error> body carries; an unparsable body leaves the
 * fields empty (never fails). When the parser could not allocate, is_oom is set: the
 * caller must not read the missing code as "no code" (a NoSuchUpload is not a plain
 * 404). */
void s3_error_parse(const char *body, size_t len, struct s3_error_info *out);

/* GetBucketVersioning: <VersioningConfiguration><Status>. */
CM_NODISCARD int s3_parse_versioning(const char *body, size_t len, enum s3_versioning *out,
                                     struct cm_err *err);
/* GetObjectLockConfiguration. */
CM_NODISCARD int s3_parse_lock_config(const char *body, size_t len, struct s3_lock_config *out,
                                      struct cm_err *err);
/* GetObjectRetention: <Retention><Mode><RetainUntilDate>. */
CM_NODISCARD int s3_parse_retention(const char *body, size_t len, enum s3_lock_mode *mode,
                                    time_t *until, struct cm_err *err);
/* GetObjectLegalHold: <LegalHold><Status>ON|OFF. */
CM_NODISCARD int s3_parse_legal_hold(const char *body, size_t len, bool *on, struct cm_err *err);
/* InitiateMultipartUploadResult: <UploadId> into out. */
CM_NODISCARD int s3_parse_upload_id(const char *body, size_t len, char *out, size_t cap,
                                    struct cm_err *err);
/* CompleteMultipartUploadResult: 0 when the root is the result (etag may be ""), or the
 * mapped error when S3 answered 200 with an <Error> body. */
CM_NODISCARD int s3_parse_complete(const char *body, size_t len, char *etag, size_t cap,
                                   struct cm_err *err);

#define S3_MAX_TOKEN 2048 /* continuation token / markers */

/* One page of ListObjectsV2 (versions false) or ListObjectVersions (true). Calls fn per
 * entry in document order. next_* receive the paging state. Returns 0, a stop value
 * (> 0) from fn, fn's negative code, CM_EPARSE/CM_EPROTO for a malformed page. */
struct s3_list_page {
    bool is_truncated;
    char next_token[S3_MAX_TOKEN + 1];        /* NextContinuationToken (v2) */
    char next_key[S3_MAX_KEY + 1];            /* NextKeyMarker (versions) */
    char next_version[S3_MAX_VERSION_ID + 1]; /* NextVersionIdMarker (versions) */
    unsigned entries;
};
CM_NODISCARD int s3_parse_list_page(const char *body, size_t len, bool versions, s3_list_fn fn,
                                    void *ctx, struct s3_list_page *page, struct cm_err *err);

/* S3 / RFC 3339 / RFC 1123 ("Sun, 22 Nov 2026 09:30:00 GMT") timestamps. */
CM_NODISCARD int s3_time_parse(const char *s, size_t n, time_t *out);

/* ---- hashing and encoding helpers (s3_sigv4.c) ---- */

/* Hex SHA-256 (65 bytes with NUL) and base64 MD5 (25 bytes with NUL) of data. */
void s3_sha256_hex(const void *data, size_t n, char out[65]);
void s3_md5_base64(const void *data, size_t n, char out[25]);
/* Base64 of a binary MD5 digest (24 characters + NUL), as Content-MD5 wants it. */
void s3_md5_b64_encode(const unsigned char md[16], char out[25]);
/* Binary digest to lowercase hex. */
void s3_hex(const unsigned char *p, size_t n, char *out);
/* Appends s[0..n) URI-encoded per SigV4: unreserved A-Z a-z 0-9 - . _ ~ kept, '/' kept
 * when keep_slash, everything else %XX (uppercase). */
CM_NODISCARD int s3_uri_encode(struct cm_buf *b, const char *s, size_t n, bool keep_slash);
/* "YYYYMMDDTHHMMSSZ" for t. out >= 17 bytes. */
void s3_amz_date(time_t t, char out[17]);

/* ---- request engine (s3_client.c) ---- */

#define S3_REQ_MAX_QUERY 8
#define S3_REQ_MAX_HEADERS 32

/* How a 403 AccessDenied of this request is read. */
enum s3_deny_kind {
    S3_DENY_AUTH = 0, /* CM_EAUTH */
    S3_DENY_DELETE,   /* locked version delete: CM_ELOCKED "retained by object lock" */
    S3_DENY_RETENTION /* retention change refused: CM_ELOCKED "cannot be shortened" */
};

struct s3_req {
    const char *method;
    const char *key; /* NULL: bucket-level request */
    struct s3_kv query[S3_REQ_MAX_QUERY];
    size_t n_query;
    struct s3_kv headers[S3_REQ_MAX_HEADERS]; /* extra headers (content-type, lock...) */
    size_t n_headers;
    const unsigned char *body;
    size_t body_len;
    /* Optional digests of the body that the caller already computed (the uploader
     * hashes bytes as they arrive, so none of that work waits for the request).
     * body_sha256_hex: 64 lowercase hex digits + NUL, sent as x-amz-content-sha256 and
     * signed. body_md5_b64: base64 of the 16-byte MD5 (24 characters + NUL), sent as
     * Content-MD5 (only PUT and POST carry it; other methods ignore the field). NULL:
     * s3_request hashes body itself, as it does for every request that sets neither.
     * The caller vouches that they are the digests of exactly body[0..body_len) and
     * must keep them valid until s3_request returns; every retry resends the same
     * bytes with the same digests. A wrong digest cannot store wrong bytes: the server
     * computes its own over what it received and refuses the request (400 BadDigest
     * or XAmzContentSHA256Mismatch: CM_EINTEGRITY). */
    const char *body_sha256_hex;
    const char *body_md5_b64;
    enum s3_deny_kind deny;
    /* 2xx body goes to sink when set, else into resp->body (capped S3_MAX_XML_BYTES). */
    s3_write_fn sink;
    void *sink_ctx;
    /* When set, a 2xx response with another status is refused before any body byte
     * reaches the sink (a resumed GET must get 206, never the whole object again). */
    long expect_status;
    /* Optional: every response header of the final attempt. */
    int (*on_header)(const char *name, size_t nl, const char *value, size_t vl, void *ctx);
    void *header_ctx;
};

struct s3_resp {
    long status;
    struct cm_buf body; /* 2xx body when no sink; error bodies are kept separately */
    char etag[S3_MAX_ETAG + 1];
    char version_id[S3_MAX_VERSION_ID + 1];
    bool has_content_length;
    uint64_t content_length;
    uint64_t delivered; /* body bytes handed to the sink */
    char s3_code[64];   /* on failure: the S3 error code ("NoSuchKey"), if any */
    bool resumable;     /* on failure: a retryable transport failure after body bytes
                         * reached the sink (a GET may resume with Range) */
    /* The attempt that gave the final answer, success or failure (1 = the first).
     * Above 1, every earlier attempt ended without a usable answer (a connection or
     * timeout failure, a truncated response, or a retryable 429/5xx), so a
     * non-idempotent request may have taken effect before the answer seen here:
     * CompleteMultipartUpload reads it to tell a lost response from a missing upload. */
    unsigned attempts;
};

/* Adds a query parameter / header to r. Returns 0 or CM_ETOOBIG. The capacities are
 * sized for every request this module builds, so callers that add a fixed number of
 * entries may ignore the result; debug builds assert it. */
int s3_req_query(struct s3_req *r, const char *name, const char *value);
int s3_req_header(struct s3_req *r, const char *name, const char *value);

/* Performs r with signing, retries and error mapping. On 0 the status is 2xx and resp
 * holds the result (free resp->body with cm_buf_free; it is initialised here). On
 * failure err names "METHOD bucket/key" and the S3 error. */
CM_NODISCARD int s3_request(struct s3_client *c, const struct s3_req *r, struct s3_resp *resp,
                            struct cm_err *err);

/* Adds the lock/legal-hold/meta/content-type headers of opts to r; lock_date must
 * outlive r. Returns 0, CM_EINVAL or CM_ETOOBIG. */
CM_NODISCARD int s3_req_put_headers(struct s3_req *r, const struct s3_put_opts *opts,
                                    char lock_date[32], char (*meta_names)[S3_MAX_META_NAME + 12],
                                    struct cm_err *err);
/* s3_client_put_object with digests of data the caller already computed (either may be
 * NULL: computed here), under the contract of struct s3_req's body_sha256_hex and
 * body_md5_b64. out->sha256_hex is sha256_hex when it is given. Same results and
 * errors as s3_client_put_object. */
CM_NODISCARD int s3_client_put_object_hashed(struct s3_client *c, const char *key, const void *data,
                                             size_t len, const struct s3_put_opts *opts,
                                             const char *sha256_hex, const char *md5_b64,
                                             struct s3_put_result *out, struct cm_err *err);
/* Validates a key (1..S3_MAX_KEY bytes, no control characters). */
CM_NODISCARD int s3_key_check(const char *key, struct cm_err *err);
/* Validates put options (lock date present, meta names). */
CM_NODISCARD int s3_put_opts_check(const struct s3_put_opts *opts, struct cm_err *err);

size_t s3_client_part_size_(const struct s3_client *c);
/* Parts allowed in one multipart upload: S3_MAX_PARTS, or less when a test lowered it
 * with s3_client_max_parts_set_() (tests only: the limit's boundary cannot be reached
 * with 10,000 real parts in a unit test). */
unsigned s3_client_max_parts_(const struct s3_client *c);
void s3_client_max_parts_set_(struct s3_client *c, unsigned n);
/* cfg.max_attempts of the client. */
unsigned s3_client_attempts_(const struct s3_client *c);
/* Sleeps the backoff before retry number `retry` (1 = first), through cfg.sleep. */
void s3_client_backoff_(struct s3_client *c, unsigned retry);
const char *s3_client_region_(const struct s3_client *c);

/* ---- CompleteMultipartUpload (s3_complete.c) ---- */

/* The ETag AWS S3 and radosgw give a completed multipart upload: the hex MD5 of the
 * parts' binary MD5s, concatenated in part order, then "-" and the number of parts, in
 * quotes: "\"<32 hex digits>-<n>\"". etags[0..n) are the part ETags as UploadPart
 * returned them, each the hex MD5 of its part (quotes optional, hex in either case).
 * Returns 0; CM_EINVAL when n is 0 or above S3_MAX_PARTS, or when a part ETag is not 32
 * hex digits (with SSE-KMS or SSE-C the part ETags are not MD5s, and the object's ETag
 * cannot be predicted); CM_ENOMEM. out untouched on failure. Pure; thread-safe. */
CM_NODISCARD int s3_multipart_etag(const char (*etags)[S3_MAX_ETAG + 1], unsigned n,
                                   char out[S3_MAX_ETAG + 1], struct cm_err *err);

/* The upload s3_complete_multipart completes. Every pointer is borrowed for the call. */
struct s3_complete {
    const char *key;
    const char *upload_id;
    const char (*etags)[S3_MAX_ETAG + 1]; /* n_parts part ETags, in part order */
    unsigned n_parts;                     /* 1..S3_MAX_PARTS */
    uint64_t size;                        /* bytes of all parts together */
};

/* CompleteMultipartUpload of in (POST ?uploadId, retried by s3_request), version_id
 * receiving the new version ("" in a bucket without versioning).
 * A lost answer: the server may complete the upload and its answer never arrive (a
 * connection reset, or a 5xx sent after committing). Only when an earlier attempt of
 * this completion got no usable answer (s3_resp.attempts > 1) is the final answer
 * checked against what the server holds, and only in three cases:
 * - 404 NoSuchUpload (AWS; the upload is gone);
 * - a retryable 5xx on every attempt, CM_EAGAIN (radosgw 16.2 answers "500
 *   InternalError: This multipart completion is already in progress" to a retry once
 *   the key holds a newer object than the one completed);
 * - 200 without x-amz-version-id (radosgw 16.2 answers a retry 200 itself when the key's
 *   object has the upload's ETag, but without the version id).
 * The object is looked up by HEAD of the key and, when that version is not ours and the
 * bucket keeps versions, in the key's version listing, newest first. A version is ours
 * only when its ETag is s3_multipart_etag() of the parts and its size in->size. A first
 * attempt's answer is never second-guessed.
 * *gone (may be NULL) is set true when the server answered NoSuchUpload or the object
 * was found after a 5xx (nothing is left to abort), false otherwise.
 * Returns 0; CM_ENOENT for NoSuchUpload on a first attempt (the server's message), or
 * after a retry when no version matches ("KEY: NoSuchUpload after a retried
 * CompleteMultipartUpload and no object with the expected ETag E and size N (upload id
 * U)") or the part ETags are not MD5s; CM_EAGAIN, the request's own error, when every
 * attempt failed and no version matches; CM_EINTEGRITY when a retry answered 200 without
 * a version id and no version matches (with part ETags that are not MD5s that answer is
 * taken as it is, version_id ""); the codes of s3_request (also of the HEAD and the
 * listing, prefixed with what was being looked for); a 200 answer with an <Error> body
 * as s3_parse_complete maps it; CM_ENOMEM. version_id untouched on failure. Same thread
 * rules as the client. */
CM_NODISCARD int s3_complete_multipart(struct s3_client *c, const struct s3_complete *in,
                                       char version_id[S3_MAX_VERSION_ID + 1], bool *gone,
                                       struct cm_err *err);

/* ---- libcurl transport (s3_curl.c) ---- */

struct s3_curl_opts {
    const char *ca_file;
    long connect_timeout_ms;
    long stall_timeout_ms;
};
/* Creates the default transport context. Returns 0, CM_ENOMEM or CM_EIO. */
CM_NODISCARD int s3_curl_create(const struct s3_curl_opts *o, void **ctx, struct cm_err *err);
extern const struct s3_transport s3_curl_transport;

#endif /* BACKUP_S3_S3_INT_H */
