/* SPDX-License-Identifier: Apache-2.0 */
/* kube_config.c - the client configuration: bare and in-cluster configs, copies,
 * setters and getters. Kubeconfig files are parsed in kube_kubeconfig.c. */
#include "kube_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KUBE_DEFAULT_UA "lockwarden/0.1"

void kube_secret_free(char *s)
{
    if (s != NULL)
        cm_free_secure(s, strlen(s));
}

int kube_str_set(char **slot, const char *s, size_t n, bool secret)
{
    char *copy = NULL;

    if (s != NULL) {
        copy = cm_strndup(s, n);
        if (copy == NULL)
            return CM_ENOMEM;
    }
    if (secret)
        kube_secret_free(*slot);
    else
        cm_free(*slot);
    *slot = copy;
    return 0;
}

static int check_server(const char *server, struct cm_err *err)
{
    size_t n;

    if (server == NULL || server[0] == '\0')
        return cm_err_set(err, CM_EINVAL, "kube: empty server URL");
    if (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0)
        return cm_err_set(err, CM_EINVAL, "kube: server URL \"%.200s\" is not http(s)://", server);
    n = strlen(server);
    if (n > 1024)
        return cm_err_set(err, CM_EINVAL, "kube: server URL longer than 1024 bytes");
    if (strpbrk(server, "?# \t\r\n") != NULL)
        return cm_err_set(err, CM_EINVAL,
                          "kube: server URL \"%.200s\" has a query, fragment or space", server);
    return 0;
}

int kube_config_create(const char *server, struct kube_config **out, struct cm_err *err)
{
    struct kube_config *c;
    size_t n;
    int rc;

    rc = check_server(server, err);
    if (rc != 0)
        return rc;
    c = cm_calloc(1, sizeof(*c));
    if (c == NULL)
        return cm_err_set(err, CM_ENOMEM, "kube: out of memory");
    n = strlen(server);
    while (n > 0 && server[n - 1] == '/')
        n--;
    c->server = cm_strndup(server, n);
    c->context = cm_strdup("");
    c->user_agent = cm_strdup(KUBE_DEFAULT_UA);
    if (c->server == NULL || c->context == NULL || c->user_agent == NULL) {
        kube_config_destroy(c);
        return cm_err_set(err, CM_ENOMEM, "kube: out of memory");
    }
    c->max_attempts = 5;
    c->base_ms = 200;
    c->max_delay_ms = 30000;
    c->deadline_ms = 120000;
    c->connect_ms = 10000;
    c->request_ms = 300000;
    c->max_body = KUBE_MAX_BODY;
    c->ops = NULL;
    *out = c;
    return 0;
}

void kube_config_destroy(struct kube_config *c)
{
    if (c == NULL)
        return;
    cm_free(c->server);
    cm_free(c->context);
    cm_free(c->namespace_);
    cm_free(c->ca_pem);
    cm_free(c->cert_pem);
    if (c->key_pem != NULL)
        cm_free_secure(c->key_pem, c->key_len);
    kube_secret_free(c->token);
    cm_free(c->token_file);
    cm_free(c->username);
    kube_secret_free(c->password);
    cm_free(c->tls_server_name);
    cm_free(c->user_agent);
    cm_free_secure(c, sizeof(*c));
}

static int dup_mem(char **dst, const char *src, size_t n)
{
    *dst = NULL;
    if (src == NULL)
        return 0;
    *dst = cm_malloc(n + 1);
    if (*dst == NULL)
        return CM_ENOMEM;
    memcpy(*dst, src, n);
    (*dst)[n] = '\0';
    return 0;
}

int kube_config_dup(const struct kube_config *c, struct kube_config **out)
{
    struct kube_config *d;
    int rc = 0;

    d = cm_calloc(1, sizeof(*d));
    if (d == NULL)
        return CM_ENOMEM;
    *d = *c;
    /* Every pointer is replaced below; clear first so a failure frees only copies. */
    d->server = d->context = d->namespace_ = d->ca_pem = d->cert_pem = d->key_pem = NULL;
    d->token = d->token_file = d->username = d->password = NULL;
    d->tls_server_name = d->user_agent = NULL;
    rc |= dup_mem(&d->server, c->server, c->server ? strlen(c->server) : 0);
    rc |= dup_mem(&d->context, c->context, c->context ? strlen(c->context) : 0);
    rc |= dup_mem(&d->namespace_, c->namespace_, c->namespace_ ? strlen(c->namespace_) : 0);
    rc |= dup_mem(&d->ca_pem, c->ca_pem, c->ca_len);
    rc |= dup_mem(&d->cert_pem, c->cert_pem, c->cert_len);
    rc |= dup_mem(&d->key_pem, c->key_pem, c->key_len);
    rc |= dup_mem(&d->token, c->token, c->token ? strlen(c->token) : 0);
    rc |= dup_mem(&d->token_file, c->token_file, c->token_file ? strlen(c->token_file) : 0);
    rc |= dup_mem(&d->username, c->username, c->username ? strlen(c->username) : 0);
    rc |= dup_mem(&d->password, c->password, c->password ? strlen(c->password) : 0);
    rc |= dup_mem(&d->tls_server_name, c->tls_server_name,
                  c->tls_server_name ? strlen(c->tls_server_name) : 0);
    rc |= dup_mem(&d->user_agent, c->user_agent, c->user_agent ? strlen(c->user_agent) : 0);
    if (rc != 0) {
        kube_config_destroy(d);
        return CM_ENOMEM;
    }
    *out = d;
    return 0;
}

int kube_config_set_token(struct kube_config *c, const char *token)
{
    return kube_str_set(&c->token, token, token ? strlen(token) : 0, true);
}

int kube_config_set_ca_pem(struct kube_config *c, const char *pem, size_t len)
{
    int rc = kube_str_set(&c->ca_pem, pem, len, false);

    if (rc == 0)
        c->ca_len = pem ? len : 0;
    return rc;
}

int kube_config_set_client_cert(struct kube_config *c, const char *cert_pem, size_t cert_len,
                                const char *key_pem, size_t key_len)
{
    char *cert = NULL;
    char *key = NULL;

    if ((cert_pem == NULL) != (key_pem == NULL))
        return CM_EINVAL;
    if (cert_pem != NULL) {
        cert = cm_strndup(cert_pem, cert_len);
        key = cm_strndup(key_pem, key_len);
        if (cert == NULL || key == NULL) {
            cm_free(cert);
            if (key != NULL)
                cm_free_secure(key, key_len);
            return CM_ENOMEM;
        }
    }
    cm_free(c->cert_pem);
    if (c->key_pem != NULL)
        cm_free_secure(c->key_pem, c->key_len);
    c->cert_pem = cert;
    c->cert_len = cert ? cert_len : 0;
    c->key_pem = key;
    c->key_len = key ? key_len : 0;
    return 0;
}

int kube_config_set_namespace(struct kube_config *c, const char *ns)
{
    return kube_str_set(&c->namespace_, ns, ns ? strlen(ns) : 0, false);
}

int kube_config_set_user_agent(struct kube_config *c, const char *ua)
{
    if (ua == NULL)
        ua = KUBE_DEFAULT_UA;
    if (strpbrk(ua, "\r\n") != NULL)
        return CM_EINVAL;
    return kube_str_set(&c->user_agent, ua, strlen(ua), false);
}

void kube_config_set_insecure(struct kube_config *c, bool insecure_skip_verify)
{
    c->insecure = insecure_skip_verify;
}

void kube_config_set_retry(struct kube_config *c, unsigned max_attempts, uint64_t base_ms,
                           uint64_t max_delay_ms, uint64_t deadline_ms)
{
    c->max_attempts = max_attempts == 0 ? 1 : max_attempts;
    c->base_ms = base_ms;
    c->max_delay_ms = max_delay_ms;
    c->deadline_ms = deadline_ms;
}

void kube_config_set_timeouts(struct kube_config *c, uint64_t connect_ms, uint64_t request_ms)
{
    c->connect_ms = connect_ms;
    c->request_ms = request_ms;
}

void kube_config_set_sleep(struct kube_config *c, kube_sleep_fn fn, void *ctx)
{
    c->sleep_fn = fn;
    c->sleep_ctx = fn ? ctx : NULL;
}

void kube_config_set_max_body(struct kube_config *c, size_t max)
{
    c->max_body = max < 1024 ? 1024 : max;
}

void kube_config_set_transport(struct kube_config *c, const struct kube_transport_ops *ops,
                               void *user_ctx)
{
    c->ops = ops;
    c->transport_ctx = user_ctx;
}

void *kube_config_transport_ctx(const struct kube_config *c)
{
    return c->transport_ctx;
}

const char *kube_config_server(const struct kube_config *c)
{
    return c->server;
}

const char *kube_config_namespace(const struct kube_config *c)
{
    return (c->namespace_ != NULL && c->namespace_[0] != '\0') ? c->namespace_ : "default";
}

const char *kube_config_context(const struct kube_config *c)
{
    return c->context != NULL ? c->context : "";
}

bool kube_config_is_in_cluster(const struct kube_config *c)
{
    return c->in_cluster;
}

/* ---- in-cluster ---- */

static void trim_space(char *s, size_t *len)
{
    size_t n = *len;

    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    s[n] = '\0';
    *len = n;
}

/* A file that cannot be read is a configuration problem unless memory ran out. */
static int as_config_error(int rc, struct cm_err *err)
{
    if (rc == CM_ENOMEM)
        return rc;
    if (err != NULL)
        err->code = CM_ECONFIG;
    return CM_ECONFIG;
}

int kube_config_in_cluster_at(const char *sa_dir, const char *host, const char *port,
                              struct kube_config **out, struct cm_err *err)
{
    struct kube_config *c = NULL;
    char url[1200];
    char path[1024];
    char *buf = NULL;
    size_t len = 0;
    int rc;
    int n;

    if (host == NULL || host[0] == '\0' || port == NULL || port[0] == '\0')
        return cm_err_set(err, CM_ECONFIG,
                          "in-cluster config: KUBERNETES_SERVICE_HOST and "
                          "KUBERNETES_SERVICE_PORT must both be set");
    if (strpbrk(host, "/?#@ []") != NULL || strspn(port, "0123456789") != strlen(port))
        return cm_err_set(err, CM_ECONFIG,
                          "in-cluster config: bad host \"%.100s\" or port "
                          "\"%.20s\"",
                          host, port);
    if (strchr(host, ':') != NULL)
        n = snprintf(url, sizeof(url), "https://[%s]:%s", host, port);
    else
        n = snprintf(url, sizeof(url), "https://%s:%s", host, port);
    if (n < 0 || (size_t)n >= sizeof(url))
        return cm_err_set(err, CM_ECONFIG, "in-cluster config: host too long");
    rc = kube_config_create(url, &c, err);
    if (rc != 0)
        return rc == CM_EINVAL ? cm_err_set(err, CM_ECONFIG, "in-cluster config: %s",
                                            err ? err->msg : "bad server")
                               : rc;
    c->in_cluster = true;

    n = snprintf(path, sizeof(path), "%s/token", sa_dir);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        rc = cm_err_set(err, CM_ECONFIG, "in-cluster config: directory path too long");
        goto cleanup;
    }
    /* Read once now so a missing token is a configuration error at startup; the
     * client re-reads it whenever it changes. */
    rc = cm_fs_read_file(path, KUBE_MAX_TOKEN_FILE, &buf, &len, err);
    if (rc != 0) {
        cm_err_prefix(err, "in-cluster config: service account token");
        rc = as_config_error(rc, err);
        goto cleanup;
    }
    cm_free_secure(buf, len);
    buf = NULL;
    rc = kube_str_set(&c->token_file, path, strlen(path), false);
    if (rc != 0)
        goto oom;

    n = snprintf(path, sizeof(path), "%s/ca.crt", sa_dir);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        rc = cm_err_set(err, CM_ECONFIG, "in-cluster config: directory path too long");
        goto cleanup;
    }
    rc = cm_fs_read_file(path, KUBE_MAX_PEM_FILE, &buf, &len, err);
    if (rc != 0) {
        cm_err_prefix(err, "in-cluster config: CA certificate");
        rc = as_config_error(rc, err);
        goto cleanup;
    }
    c->ca_pem = buf;
    c->ca_len = len;
    buf = NULL;

    n = snprintf(path, sizeof(path), "%s/namespace", sa_dir);
    if (n > 0 && (size_t)n < sizeof(path) && cm_fs_read_file(path, 1024, &buf, &len, NULL) == 0) {
        trim_space(buf, &len);
        if (len > 0) {
            c->namespace_ = buf;
            buf = NULL;
        }
    }
    cm_free(buf);
    *out = c;
    return 0;
oom:
    rc = cm_err_set(err, CM_ENOMEM, "in-cluster config: out of memory");
cleanup:
    cm_free(buf);
    kube_config_destroy(c);
    return rc;
}

int kube_config_in_cluster(struct kube_config **out, struct cm_err *err)
{
    return kube_config_in_cluster_at(KUBE_SA_DIR, getenv("KUBERNETES_SERVICE_HOST"),
                                     getenv("KUBERNETES_SERVICE_PORT"), out, err);
}

int kube_config_load(const char *kubeconfig, const char *context, struct kube_config **out,
                     struct cm_err *err)
{
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *env = getenv("KUBECONFIG");

    /* client-go's rule: in-cluster only when nothing names a kubeconfig. */
    if (kubeconfig == NULL && (env == NULL || env[0] == '\0') && host != NULL && host[0] != '\0' &&
        (context == NULL || context[0] == '\0'))
        return kube_config_in_cluster(out, err);
    return kube_config_from_kubeconfig(kubeconfig, context, out, err);
}
