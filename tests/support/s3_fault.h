/* SPDX-License-Identifier: Apache-2.0 */
/* s3_fault.h - a recording, fault-injecting S3 transport for unit tests: it answers
 * from a script (status, headers, body, truncation, connection failures) or, when the
 * script is empty, like a minimal well-behaved S3 server; it records every request
 * (method, URL, headers, body digests) and the backoff sleeps the client asked for.
 * Not thread-safe; one per test. */
#ifndef TESTS_SUPPORT_S3_FAULT_H
#define TESTS_SUPPORT_S3_FAULT_H

#include "backup/s3/s3.h"

#include <stddef.h>
#include <stdint.h>

#define S3_FAULT_MAX_RECORDS 4096
#define S3_FAULT_MAX_SLEEPS 64

/* One scripted reply. transport_rc != 0 fails the exchange with that code (CM_ECONN,
 * CM_ETIMEDOUT, ...) before any response. Otherwise status/headers/body are delivered;
 * headers is "Name: value\n" lines (may be NULL); body may be NULL. truncate_at < the
 * body length delivers only that many body bytes and then fails with CM_EPROTO (a
 * connection reset mid-body). status 0 (and transport_rc 0) answers like the auto
 * server, so a script can let some requests through. All strings are copied by
 * s3_fault_push. The fault object itself uses plain malloc, never cm_malloc, so the
 * client's OOM loops only ever fail the client's own allocations. */
struct s3_fault_reply {
    int transport_rc;
    long status;
    const char *headers;
    const char *body;
    size_t truncate_at; /* 0: no truncation */
};

/* What the client sent. */
struct s3_fault_rec {
    char method[8];
    char *url;
    char **headers; /* "name: value" as sent */
    size_t n_headers;
    size_t body_len;
    char body_md5_b64[25];
    char body_sha256_hex[65];
    char *body_head; /* first bytes of the body (up to 4096), NUL-terminated */
};

struct s3_fault;

int s3_fault_create(struct s3_fault **out);
void s3_fault_destroy(struct s3_fault *f);
/* Queues a reply (FIFO). Returns 0 or CM_ENOMEM. */
int s3_fault_push(struct s3_fault *f, const struct s3_fault_reply *r);
/* The transport to put in struct s3_config (ctx = f; destroy is a no-op: the test
 * keeps ownership of f and destroys it after the client). */
extern const struct s3_transport s3_fault_transport;
/* A s3_sleep_fn that records the delay instead of sleeping (ctx = f). */
void s3_fault_sleep(uint64_t ms, void *ctx);

size_t s3_fault_count(const struct s3_fault *f);
const struct s3_fault_rec *s3_fault_get(const struct s3_fault *f, size_t i);
/* The value of header name (case-insensitive) in rec, or NULL. */
const char *s3_fault_header(const struct s3_fault_rec *rec, const char *name);
size_t s3_fault_sleeps(const struct s3_fault *f);
uint64_t s3_fault_sleep_ms(const struct s3_fault *f, size_t i);
/* Bytes of the object the auto server last stored (for its HEAD answers). */
uint64_t s3_fault_stored_size(const struct s3_fault *f);

/* Credentials + config for a client on the fault transport (path style, bucket "b-test",
 * part size S3_MIN_PART_SIZE, 4 attempts, recorded sleeps, fixed jitter seed). cfg
 * keeps pointers to creds and f. */
void s3_fault_config(struct s3_fault *f, struct s3_credentials *creds, struct s3_config *cfg);

#endif /* TESTS_SUPPORT_S3_FAULT_H */
