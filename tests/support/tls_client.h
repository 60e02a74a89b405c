/* SPDX-License-Identifier: Apache-2.0 */
/* tls_client.h - an HTTPS client for integration tests (libcurl): verifies the server
 * against a given CA, keeps its connection alive between requests like the API
 * server does, and reports the status and body of each answer.
 *
 * Design note
 * - One struct tls_client per thread (a libcurl easy handle is not shared).
 * - tls_peer_serial() opens its own TLS connection with OpenSSL to read the serving
 *   certificate's serial number (certificate rotation tests). */
#ifndef TESTS_SUPPORT_TLS_CLIENT_H
#define TESTS_SUPPORT_TLS_CLIENT_H

#include "common/cm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tls_client;

struct tls_response {
    long status;        /* HTTP status, 0 when the request failed */
    struct cm_buf body; /* capped at 8 MiB */
    char content_type[128];
    char error[256]; /* libcurl's reason when status is 0 */
    long connects;   /* new connections this request needed (0 = reused) */
};

void tls_response_init(struct tls_response *r);
void tls_response_cleanup(struct tls_response *r);

/* ca_file: PEM CA to trust (hostname checked too). timeout_ms per request. Returns 0
 * or CM_ENOMEM. */
CM_NODISCARD int tls_client_create(const char *ca_file, long timeout_ms, struct tls_client **out);
void tls_client_destroy(struct tls_client *c);

/* Sends method url with body[0..len) (body may be NULL) and the extra headers (NULL or
 * a NULL-terminated list of "Name: value"). Fills r (initialised by the caller).
 * Returns 0 when an HTTP answer came back (any status), CM_ECONN otherwise (r->error
 * says why). */
CM_NODISCARD int tls_client_request(struct tls_client *c, const char *method, const char *url,
                                    const void *body, size_t len, const char *const *headers,
                                    struct tls_response *r);

/* POSTs an AdmissionReview like the API server: Content-Type application/json,
 * Accept-Encoding gzip, User-Agent kube-apiserver-admission. */
CM_NODISCARD int tls_client_post_review(struct tls_client *c, const char *url, const void *body,
                                        size_t len, struct tls_response *r);

/* Each request on a new connection (a full TLS handshake), or keep-alive (default). */
void tls_client_set_fresh(struct tls_client *c, bool fresh);

/* A raw TLS connection for tests that misbehave on purpose (slow bodies, idle
 * connections, half-sent requests). */
struct tls_raw;

/* Connects to 127.0.0.1:port and completes a verified handshake. Sets SIGPIPE to
 * ignored for the process (a write to a closed connection then fails with EPIPE). Returns 0,
 * CM_ECONN (TCP) or CM_ETLS (handshake refused or closed). */
CM_NODISCARD int tls_raw_connect(uint16_t port, const char *ca_file, struct tls_raw **out);
/* Sends all of p[0..n). Returns 0 or CM_ECONN. */
CM_NODISCARD int tls_raw_send(struct tls_raw *r, const void *p, size_t n);
/* Reads until the peer closes (returns 0) or timeout_ms pass without it
 * (CM_ETIMEDOUT); what arrived is appended to out (may be NULL). */
CM_NODISCARD int tls_raw_read_until_closed(struct tls_raw *r, int timeout_ms, struct cm_buf *out);
void tls_raw_close(struct tls_raw *r);

/* Serial number (upper-case hex) of the certificate served at 127.0.0.1:port,
 * verified against ca_file. Returns 0, CM_ECONN or CM_ETLS. */
CM_NODISCARD int tls_peer_serial(uint16_t port, const char *ca_file, char *out, size_t cap);

/* The negotiated ALPN protocol and TLS version ("TLSv1.3") of a fresh connection.
 * max_version: 0 for the newest, or an OpenSSL version constant (TLS1_2_VERSION,
 * TLS1_1_VERSION) to offer at most that. CM_ETLS when the handshake fails. */
CM_NODISCARD int tls_peer_info(uint16_t port, const char *ca_file, int max_version,
                               const char *alpn_offer, char *alpn, size_t alpn_cap, char *version,
                               size_t version_cap);

#endif /* TESTS_SUPPORT_TLS_CLIENT_H */
