/* SPDX-License-Identifier: Apache-2.0 */
/* tls_client.c - libcurl HTTPS client and OpenSSL peer probes for integration tests. */
#include "tests/support/tls_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <sys/time.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct tls_client {
    CURL *h;
    char ca[512];
    long timeout_ms;
    bool fresh;
};

void tls_client_set_fresh(struct tls_client *c, bool fresh)
{
    c->fresh = fresh;
}

void tls_response_init(struct tls_response *r)
{
    memset(r, 0, sizeof(*r));
    cm_buf_init(&r->body, 8u << 20);
}

void tls_response_cleanup(struct tls_response *r)
{
    cm_buf_free(&r->body);
}

int tls_client_create(const char *ca_file, long timeout_ms, struct tls_client **out)
{
    struct tls_client *c = cm_calloc(1, sizeof(*c));

    if (c == NULL)
        return CM_ENOMEM;
    c->h = curl_easy_init();
    if (c->h == NULL) {
        cm_free(c);
        return CM_ENOMEM;
    }
    (void)snprintf(c->ca, sizeof(c->ca), "%s", ca_file);
    c->timeout_ms = timeout_ms;
    *out = c;
    return 0;
}

void tls_client_destroy(struct tls_client *c)
{
    if (c == NULL)
        return;
    curl_easy_cleanup(c->h);
    cm_free(c);
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct tls_response *r = ctx;

    if (cm_buf_add(&r->body, p, size * n) != 0)
        return 0;
    return size * n;
}

int tls_client_request(struct tls_client *c, const char *method, const char *url, const void *body,
                       size_t len, const char *const *headers, struct tls_response *r)
{
    struct curl_slist *hl = NULL;
    struct curl_slist *tmp;
    char *ct = NULL;
    CURLcode cc;
    size_t i;

    cm_buf_reset(&r->body);
    r->status = 0;
    r->error[0] = '\0';
    r->content_type[0] = '\0';
    for (i = 0; headers != NULL && headers[i] != NULL; i++) {
        tmp = curl_slist_append(hl, headers[i]);
        if (tmp == NULL) {
            curl_slist_free_all(hl);
            return CM_ENOMEM;
        }
        hl = tmp;
    }
    /* No "Expect: 100-continue" unless asked: the API server does not send it. */
    for (i = 0; headers != NULL && headers[i] != NULL; i++) {
        if (strncmp(headers[i], "Expect:", 7) == 0)
            break;
    }
    if (headers == NULL || headers[i] == NULL) {
        tmp = curl_slist_append(hl, "Expect:");
        if (tmp != NULL)
            hl = tmp;
    }
    curl_easy_reset(c->h);
    curl_easy_setopt(c->h, CURLOPT_URL, url);
    curl_easy_setopt(c->h, CURLOPT_CAINFO, c->ca);
    curl_easy_setopt(c->h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c->h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->h, CURLOPT_WRITEDATA, r);
    if (c->fresh) {
        curl_easy_setopt(c->h, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(c->h, CURLOPT_FORBID_REUSE, 1L);
    }
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c->h, CURLOPT_NOBODY, 1L);
    if (body != NULL) {
        curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    cc = curl_easy_perform(c->h);
    curl_slist_free_all(hl);
    if (cc != CURLE_OK) {
        (void)snprintf(r->error, sizeof(r->error), "%s", curl_easy_strerror(cc));
        return CM_ECONN;
    }
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_getinfo(c->h, CURLINFO_NUM_CONNECTS, &r->connects);
    if (curl_easy_getinfo(c->h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != NULL)
        (void)snprintf(r->content_type, sizeof(r->content_type), "%s", ct);
    return 0;
}

int tls_client_post_review(struct tls_client *c, const char *url, const void *body, size_t len,
                           struct tls_response *r)
{
    static const char *const h[] = {"Content-Type: application/json",
                                    "Accept: application/json, */*", "Accept-Encoding: gzip",
                                    "User-Agent: kube-apiserver-admission", NULL};

    return tls_client_request(c, "POST", url, body, len, h, r);
}

/* A verified TLS connection to 127.0.0.1:port; the caller frees ssl, ctx and fd. */
static int connect_tls(uint16_t port, const char *ca_file, const char *alpn, int max_version,
                       SSL_CTX **pctx, SSL **pssl, int *pfd)
{
    struct sockaddr_in a;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = NULL;
    int fd = -1;

    if (ctx == NULL)
        return CM_ENOMEM;
    if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1)
        goto fail;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (max_version != 0) {
        /* Old versions need the lowest security level in OpenSSL 3. */
        SSL_CTX_set_security_level(ctx, 0);
        if (SSL_CTX_set_min_proto_version(ctx, 0) != 1 ||
            SSL_CTX_set_max_proto_version(ctx, max_version) != 1)
            goto fail;
    }
    if (alpn != NULL) {
        unsigned char wire[64];
        size_t n = strlen(alpn);

        if (n == 0 || n >= sizeof(wire))
            goto fail;
        /* A comma-separated list -> length-prefixed wire format. */
        {
            size_t i;
            size_t start = 0;
            size_t w = 0;

            for (i = 0; i <= n; i++) {
                if (i == n || alpn[i] == ',') {
                    wire[w++] = (unsigned char)(i - start);
                    memcpy(wire + w, alpn + start, i - start);
                    w += i - start;
                    start = i + 1;
                }
            }
            if (SSL_CTX_set_alpn_protos(ctx, wire, (unsigned)w) != 0)
                goto fail;
        }
    }
    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        goto fail;
    ssl = SSL_new(ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1)
        goto fail;
    SSL_set1_host(ssl, "127.0.0.1");
    if (SSL_connect(ssl) != 1 || SSL_get_verify_result(ssl) != X509_V_OK)
        goto fail;
    *pctx = ctx;
    *pssl = ssl;
    *pfd = fd;
    return 0;
fail:
    ERR_clear_error();
    SSL_free(ssl);
    if (fd >= 0)
        close(fd);
    SSL_CTX_free(ctx);
    return CM_ETLS;
}

int tls_peer_serial(uint16_t port, const char *ca_file, char *out, size_t cap)
{
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    X509 *x;
    BIGNUM *bn;
    char *hex;
    int fd = -1;
    int rc = connect_tls(port, ca_file, NULL, 0, &ctx, &ssl, &fd);

    if (rc != 0)
        return rc;
    x = SSL_get1_peer_certificate(ssl);
    rc = CM_ETLS;
    if (x != NULL) {
        bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
        hex = bn != NULL ? BN_bn2hex(bn) : NULL;
        if (hex != NULL) {
            (void)snprintf(out, cap, "%s", hex);
            rc = 0;
        }
        OPENSSL_free(hex);
        BN_free(bn);
        X509_free(x);
    }
    (void)SSL_shutdown(ssl);
    SSL_free(ssl);
    close(fd);
    SSL_CTX_free(ctx);
    return rc;
}

int tls_peer_info(uint16_t port, const char *ca_file, int max_version, const char *alpn_offer,
                  char *alpn, size_t alpn_cap, char *version, size_t version_cap)
{
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    const unsigned char *proto = NULL;
    unsigned proto_len = 0;
    int fd = -1;
    int rc = connect_tls(port, ca_file, alpn_offer, max_version, &ctx, &ssl, &fd);

    if (rc != 0)
        return rc;
    SSL_get0_alpn_selected(ssl, &proto, &proto_len);
    (void)snprintf(alpn, alpn_cap, "%.*s", (int)proto_len,
                   proto != NULL ? (const char *)proto : "");
    (void)snprintf(version, version_cap, "%s", SSL_get_version(ssl));
    (void)SSL_shutdown(ssl);
    SSL_free(ssl);
    close(fd);
    SSL_CTX_free(ctx);
    return 0;
}

struct tls_raw {
    SSL_CTX *ctx;
    SSL *ssl;
    int fd;
};

int tls_raw_connect(uint16_t port, const char *ca_file, struct tls_raw **out)
{
    struct tls_raw *r = cm_calloc(1, sizeof(*r));
    int rc;

    /* Writing to a connection the server closed must fail, not kill the test. */
    (void)signal(SIGPIPE, SIG_IGN);

    if (r == NULL)
        return CM_ENOMEM;
    rc = connect_tls(port, ca_file, "http/1.1", 0, &r->ctx, &r->ssl, &r->fd);
    if (rc != 0) {
        cm_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int tls_raw_send(struct tls_raw *r, const void *p, size_t n)
{
    const char *b = p;

    while (n > 0) {
        int w = SSL_write(r->ssl, b, n > 65536 ? 65536 : (int)n);

        if (w <= 0) {
            ERR_clear_error();
            return CM_ECONN;
        }
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

int tls_raw_read_until_closed(struct tls_raw *r, int timeout_ms, struct cm_buf *out)
{
    uint64_t deadline = cm_time_mono_ns() + (uint64_t)timeout_ms * 1000000u;
    struct timeval tv = {0, 50000};
    char buf[4096];

    (void)setsockopt(r->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    for (;;) {
        int n = SSL_read(r->ssl, buf, sizeof(buf));

        if (n > 0) {
            if (out != NULL && cm_buf_add(out, buf, (size_t)n) != 0)
                return CM_ENOMEM;
            continue;
        }
        {
            int e = SSL_get_error(r->ssl, n);

            ERR_clear_error();
            if (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SSL ||
                (e == SSL_ERROR_SYSCALL && n == 0))
                return 0;
            if (e == SSL_ERROR_SYSCALL && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                return 0; /* reset by the peer: closed */
        }
        if (cm_time_mono_ns() > deadline)
            return CM_ETIMEDOUT;
    }
}

void tls_raw_close(struct tls_raw *r)
{
    if (r == NULL)
        return;
    SSL_free(r->ssl);
    close(r->fd);
    SSL_CTX_free(r->ctx);
    cm_free(r);
}
