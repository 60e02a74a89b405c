/* SPDX-License-Identifier: Apache-2.0 */
/* kube_transport_curl.c - the default transport: one libcurl easy handle per client
 * (keep-alive), TLS material from memory blobs, Retry-After read from the headers. */
#include "kube_int.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <string.h>
#include <strings.h>

struct curl_tx {
    CURL *h;
    char errbuf[CURL_ERROR_SIZE];
    char *connect_to_entry; /* "sni:port:host:port" when tls-server-name is set */
    struct curl_slist *connect_to;
    char *url_base;    /* server, or server with the host replaced by the SNI name */
    size_t server_len; /* the prefix of req->url that is the configured server */
    bool too_big;
    bool oom;
    struct kube_http_resp *resp; /* during send */
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct curl_tx *t = ud;
    size_t n = size * nmemb;
    int rc;

    rc = cm_buf_add(&t->resp->body, ptr, n);
    if (rc != 0) {
        t->too_big = rc == CM_ETOOBIG;
        t->oom = rc == CM_ENOMEM;
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    }
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct curl_tx *t = ud;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";

    if (n > sizeof(name) - 1 && strncasecmp(ptr, name, sizeof(name) - 1) == 0) {
        const char *v = ptr + sizeof(name) - 1;
        size_t vl = n - (sizeof(name) - 1);
        int64_t secs;

        while (vl > 0 && (*v == ' ' || *v == '\t')) {
            v++;
            vl--;
        }
        while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        /* Only delta-seconds; an HTTP-date falls back to the computed backoff. */
        if (cm_parse_i64(v, vl, &secs) == 0 && secs >= 0 && secs <= 86400)
            t->resp->retry_after_s = (long)secs;
    } else if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
        /* A new response (e.g. after 100-continue): forget earlier headers. */
        t->resp->retry_after_s = -1;
    }
    return n;
}

static void wipe_slist(struct curl_slist *l)
{
    struct curl_slist *it;

    for (it = l; it != NULL; it = it->next)
        OPENSSL_cleanse(it->data, strlen(it->data));
    curl_slist_free_all(l);
}

static void tx_close(void *tctx)
{
    struct curl_tx *t = tctx;

    if (t == NULL)
        return;
    if (t->h != NULL)
        curl_easy_cleanup(t->h);
    curl_slist_free_all(t->connect_to);
    cm_free(t->connect_to_entry);
    cm_free(t->url_base);
    cm_free(t);
}

/* With tls-server-name, the URL carries the SNI name (so curl sends it and checks the
 * certificate against it) and CONNECT_TO sends the connection to the real host. */
static int setup_sni(struct curl_tx *t, const struct kube_config *cfg, struct cm_err *err)
{
    CURLU *u = NULL;
    char *host = NULL;
    char *port = NULL;
    struct cm_buf b;
    int rc = CM_ENOMEM;

    cm_buf_init(&b, 4096);
    u = curl_url();
    if (u == NULL)
        goto cleanup;
    if (curl_url_set(u, CURLUPART_URL, cfg->server, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        rc = cm_err_set(err, CM_ECONFIG, "kube: cannot parse server URL %.200s", cfg->server);
        goto cleanup;
    }
    if (cm_buf_addf(&b, "%s:%s:%s:%s", cfg->tls_server_name, port, host, port) != 0)
        goto cleanup;
    t->connect_to_entry = cm_buf_take(&b, NULL);
    if (t->connect_to_entry == NULL)
        goto cleanup;
    t->connect_to = curl_slist_append(NULL, t->connect_to_entry);
    if (t->connect_to == NULL)
        goto cleanup;
    if (curl_url_set(u, CURLUPART_HOST, cfg->tls_server_name, 0) != CURLUE_OK) {
        rc = cm_err_set(err, CM_ECONFIG, "kube: bad tls-server-name");
        goto cleanup;
    }
    {
        char *url = NULL;
        size_t n;

        if (curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK)
            goto cleanup;
        n = strlen(url);
        while (n > 0 && url[n - 1] == '/')
            n--;
        t->url_base = cm_strndup(url, n);
        curl_free(url);
        if (t->url_base == NULL)
            goto cleanup;
    }
    rc = 0;
cleanup:
    if (rc == CM_ENOMEM)
        cm_err_set(err, rc, "kube: out of memory");
    cm_buf_free(&b);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

static int tx_open(const struct kube_config *cfg, void **tctx, struct cm_err *err)
{
    struct curl_tx *t;
    struct curl_blob blob;
    int rc;

    t = cm_calloc(1, sizeof(*t));
    if (t == NULL)
        return cm_err_set(err, CM_ENOMEM, "kube: out of memory");
    t->server_len = strlen(cfg->server);
    if (cfg->tls_server_name != NULL && cfg->tls_server_name[0] != '\0') {
        rc = setup_sni(t, cfg, err);
        if (rc != 0)
            goto fail;
    }
    t->h = curl_easy_init();
    if (t->h == NULL) {
        rc = cm_err_set(err, CM_ENOMEM, "kube: curl_easy_init failed");
        goto fail;
    }
    rc = CM_ETLS;
    if (curl_easy_setopt(t->h, CURLOPT_ERRORBUFFER, t->errbuf) != CURLE_OK ||
        curl_easy_setopt(t->h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(t->h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(t->h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        curl_easy_setopt(t->h, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->connect_ms) != CURLE_OK ||
        curl_easy_setopt(t->h, CURLOPT_TIMEOUT_MS, (long)cfg->request_ms) != CURLE_OK ||
        curl_easy_setopt(t->h, CURLOPT_LOW_SPEED_LIMIT, 1L) != CURLE_OK ||
        curl_easy_setopt(t->h, CURLOPT_LOW_SPEED_TIME, 60L) != CURLE_OK ||
        curl_easy_setopt(t->h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
        curl_easy_setopt(t->h, CURLOPT_WRITEDATA, t) != CURLE_OK ||
        curl_easy_setopt(t->h, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
        curl_easy_setopt(t->h, CURLOPT_HEADERDATA, t) != CURLE_OK) {
        rc = cm_err_set(err, CM_ENOMEM, "kube: curl option setup failed");
        goto fail;
    }
    /* gzip shrinks big lists several times; the body cap applies to the decoded bytes
     * (the write callback sees them), so a compression bomb stops at the cap. */
    (void)curl_easy_setopt(t->h, CURLOPT_ACCEPT_ENCODING, "");
    (void)curl_easy_setopt(t->h, CURLOPT_TCP_KEEPALIVE, 1L);
    if (t->connect_to != NULL)
        (void)curl_easy_setopt(t->h, CURLOPT_CONNECT_TO, t->connect_to);
    if (cfg->insecure) {
        (void)curl_easy_setopt(t->h, CURLOPT_SSL_VERIFYPEER, 0L);
        (void)curl_easy_setopt(t->h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    /* NOCOPY: the blobs point into the client's own config copy, which outlives this
     * handle (kube_client_destroy closes the transport first), so the private key
     * exists only where kube_config_destroy wipes it. */
    if (cfg->ca_pem != NULL) {
        blob.data = cfg->ca_pem;
        blob.len = cfg->ca_len;
        blob.flags = CURL_BLOB_NOCOPY;
        if (curl_easy_setopt(t->h, CURLOPT_CAINFO_BLOB, &blob) != CURLE_OK) {
            rc = cm_err_set(err, CM_ETLS, "kube: cannot use the CA certificate");
            goto fail;
        }
    }
    if (cfg->cert_pem != NULL && cfg->key_pem != NULL) {
        blob.data = cfg->cert_pem;
        blob.len = cfg->cert_len;
        blob.flags = CURL_BLOB_NOCOPY;
        if (curl_easy_setopt(t->h, CURLOPT_SSLCERT_BLOB, &blob) != CURLE_OK ||
            curl_easy_setopt(t->h, CURLOPT_SSLCERTTYPE, "PEM") != CURLE_OK) {
            rc = cm_err_set(err, CM_ETLS, "kube: cannot use the client certificate");
            goto fail;
        }
        blob.data = cfg->key_pem;
        blob.len = cfg->key_len;
        if (curl_easy_setopt(t->h, CURLOPT_SSLKEY_BLOB, &blob) != CURLE_OK ||
            curl_easy_setopt(t->h, CURLOPT_SSLKEYTYPE, "PEM") != CURLE_OK) {
            rc = cm_err_set(err, CM_ETLS, "kube: cannot use the client key");
            goto fail;
        }
    }
    *tctx = t;
    return 0;
fail:
    tx_close(t);
    return rc;
}

static int map_curl_error(CURLcode cc, const struct curl_tx *t, const char *url, struct cm_err *err)
{
    const char *detail = t->errbuf[0] ? t->errbuf : curl_easy_strerror(cc);
    int code;

    switch (cc) {
    case CURLE_OUT_OF_MEMORY:
        return cm_err_set(err, CM_ENOMEM, "kube: out of memory in libcurl");
    case CURLE_OPERATION_TIMEDOUT:
        code = CM_ETIMEDOUT;
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_USE_SSL_FAILED:
        code = CM_ETLS;
        break;
    case CURLE_WRITE_ERROR:
        if (t->oom)
            return cm_err_set(err, CM_ENOMEM, "kube: out of memory reading a response");
        if (t->too_big)
            return cm_err_set(err, CM_ETOOBIG,
                              "kube: response body from %.200s over the %zu "
                              "byte cap",
                              url, t->resp->body.max_);
        code = CM_ECONN;
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        code = CM_EINVAL;
        break;
    default:
        code = CM_ECONN;
        break;
    }
    if (code == CM_ETLS)
        return cm_err_set(err, code,
                          "TLS error talking to %.200s: %s (check the cluster's CA "
                          "certificate and server name)",
                          url, detail);
    return cm_err_set(err, code, "connection to %.200s failed: %s", url, detail);
}

static int tx_send(void *tctx, const struct kube_http_req *req, struct kube_http_resp *resp,
                   struct cm_err *err)
{
    struct curl_tx *t = tctx;
    struct curl_slist *hdrs = NULL;
    struct curl_slist *tmp;
    struct cm_buf line;
    char *url = NULL;
    const char *use_url = req->url;
    CURLcode cc;
    long status = 0;
    int rc = 0;

    cm_buf_init(&line, 16384);
    t->too_big = false;
    t->oom = false;
    t->errbuf[0] = '\0';
    t->resp = resp;
    resp->retry_after_s = -1;
    if (t->url_base != NULL && strlen(req->url) >= t->server_len) {
        if (cm_buf_adds(&line, t->url_base) != 0 ||
            cm_buf_adds(&line, req->url + t->server_len) != 0) {
            rc = cm_err_set(err, CM_ENOMEM, "kube: out of memory");
            goto cleanup;
        }
        url = cm_buf_take(&line, NULL);
        if (url == NULL) {
            rc = cm_err_set(err, CM_ENOMEM, "kube: out of memory");
            goto cleanup;
        }
        use_url = url;
    }
#define ADD_HDR(...)                                                                               \
    do {                                                                                           \
        cm_buf_reset(&line);                                                                       \
        if (cm_buf_addf(&line, __VA_ARGS__) != 0)                                                  \
            goto oom;                                                                              \
        tmp = curl_slist_append(hdrs, line.ptr);                                                   \
        if (tmp == NULL)                                                                           \
            goto oom;                                                                              \
        hdrs = tmp;                                                                                \
    } while (0)
    ADD_HDR("Accept: application/json");
    ADD_HDR("Expect:");
    if (req->body != NULL)
        ADD_HDR("Content-Type: %s", req->content_type ? req->content_type : "application/json");
    if (req->authorization != NULL)
        ADD_HDR("Authorization: %s", req->authorization);
#undef ADD_HDR
    if (curl_easy_setopt(t->h, CURLOPT_URL, use_url) != CURLE_OK ||
        curl_easy_setopt(t->h, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK ||
        curl_easy_setopt(t->h, CURLOPT_USERAGENT, req->user_agent) != CURLE_OK) {
        rc = cm_err_set(err, CM_ENOMEM, "kube: curl option setup failed");
        goto cleanup;
    }
    if (strcmp(req->method, "GET") == 0) {
        (void)curl_easy_setopt(t->h, CURLOPT_HTTPGET, 1L);
        (void)curl_easy_setopt(t->h, CURLOPT_CUSTOMREQUEST, NULL);
    } else {
        (void)curl_easy_setopt(t->h, CURLOPT_POST, 1L);
        (void)curl_easy_setopt(t->h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        (void)curl_easy_setopt(t->h, CURLOPT_POSTFIELDSIZE_LARGE,
                               (curl_off_t)(req->body ? req->body_len : 0));
        (void)curl_easy_setopt(t->h, CURLOPT_CUSTOMREQUEST, req->method);
    }
    cc = curl_easy_perform(t->h);
    if (cc != CURLE_OK) {
        rc = map_curl_error(cc, t, use_url, err);
        goto cleanup;
    }
    (void)curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &status);
    resp->status = status;
    goto cleanup;
oom:
    rc = cm_err_set(err, CM_ENOMEM, "kube: out of memory");
cleanup:
    /* The slist held the Authorization header: wipe it before it goes back to libc. */
    (void)curl_easy_setopt(t->h, CURLOPT_HTTPHEADER, NULL);
    wipe_slist(hdrs);
    if (line.ptr != NULL)
        OPENSSL_cleanse(line.ptr, line.len);
    cm_buf_free(&line);
    cm_free(url);
    t->resp = NULL;
    return rc;
}

static const struct kube_transport_ops curl_ops = {
    .name = "curl",
    .open = tx_open,
    .send = tx_send,
    .close = tx_close,
};

const struct kube_transport_ops *kube_transport_curl(void)
{
    return &curl_ops;
}
