/* SPDX-License-Identifier: Apache-2.0 */
/* wh_config.c - settings of `lockwarden webhook` from LW_* environment variables and
 * flags (flags win), kept apart from the serving code. */
#include "webhook/wh.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] =
    "usage: lockwarden webhook --tls-cert FILE --tls-key FILE --policies DIR [options]\n"
    "\n"
    "Serves Kubernetes admission (POST /validate, POST /mutate) over HTTPS.\n"
    "\n"
    "  --listen ADDR:PORT        address to listen on (LW_LISTEN; default 0.0.0.0:8443;\n"
    "                            [::]:8443 for IPv6; port 0 picks a free port)\n"
    "  --tls-cert FILE           serving certificate, PEM (LW_TLS_CERT)\n"
    "  --tls-key FILE            its private key, PEM (LW_TLS_KEY)\n"
    "  --policies DIR            policies directory or file; repeatable (LW_POLICIES,\n"
    "                            comma-separated)\n"
    "  --threads N               worker threads, 1-64 (LW_THREADS; default 2)\n"
    "  --log-level LEVEL         debug|info|warn|error (LW_LOG_LEVEL; default info)\n"
    "  --accept-mode MODE        reuseport (one SO_REUSEPORT socket and daemon per\n"
    "                            thread; the default) or pool (libmicrohttpd's thread\n"
    "                            pool on one socket)\n"
    "  --max-connections N       all clients together (default 1024)\n"
    "  --max-connections-per-ip N  one client address (default 256)\n"
    "  --idle-timeout SECONDS    close idle connections (default 30)\n"
    "  --request-timeout MS      a request body must arrive within this (default 10000)\n"
    "  --reload-interval MS      periodic change check besides inotify (default 2000)\n"
    "  --shutdown-grace MS       SIGTERM: time for in-flight requests (default 10000)\n"
    "  --namespace-labels-from-cluster\n"
    "                            list Namespaces from the API server so that\n"
    "                            namespaceSelector matches at admission\n"
    "                            (LW_NAMESPACE_LABELS=cluster). /readyz answers 503\n"
    "                            until the first list succeeds; until a namespace is\n"
    "                            listed, a namespaceSelector rule it does not pass is\n"
    "                            an error of its policy (Enforce denies, Audit warns)\n"
    "  --kubeconfig FILE         for that list (LW_KUBECONFIG; default: in-cluster in a\n"
    "                            pod, else $KUBECONFIG or ~/.kube/config)\n"
    "  --context NAME            kubeconfig context (default: current-context)\n"
    "  --namespace-refresh SECONDS  list Namespaces this often, 1-86400\n"
    "                            (LW_NAMESPACE_REFRESH; default 30)\n"
    "\n"
    "Signals: SIGHUP reloads policies now; SIGTERM/SIGINT stop gracefully.\n";

const char *wh_config_usage(void)
{
    return usage_text;
}

void wh_config_init(struct wh_config *c)
{
    memset(c, 0, sizeof(*c));
    (void)snprintf(c->listen_host, sizeof(c->listen_host), "0.0.0.0");
    c->listen_port = 8443;
    c->threads = 2;
    c->log_level = CM_LOG_INFO;
    c->accept_mode = WH_ACCEPT_REUSEPORT;
    c->max_connections = 1024;
    c->max_per_ip = 256;
    c->idle_timeout_s = 30;
    c->request_timeout_ms = 10000;
    c->reload_interval_ms = 2000;
    c->shutdown_grace_ms = 10000;
    c->ns_refresh_s = 30;
}

/* Copies s into dst[cap]; fails rather than truncating a path. */
static int copy_str(char *dst, size_t cap, const char *s, size_t n, const char *what,
                    struct cm_err *err)
{
    if (n == 0)
        return cm_err_set(err, CM_EINVAL, "%s: empty value", what);
    if (n >= cap)
        return cm_err_set(err, CM_EINVAL, "%s: value longer than %zu bytes", what, cap - 1);
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

/* "HOST:PORT", "[V6]:PORT" or ":PORT". */
static int parse_listen(struct wh_config *c, const char *v, const char *what, struct cm_err *err)
{
    const char *colon = strrchr(v, ':');
    const char *host = v;
    size_t host_len;
    uint64_t port;

    if (colon == NULL || colon[1] == '\0')
        return cm_err_set(err, CM_EINVAL, "%s: '%s' is not ADDR:PORT", what, v);
    host_len = (size_t)(colon - v);
    if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']') {
        host++;
        host_len -= 2;
    }
    if (cm_parse_u64(colon + 1, strlen(colon + 1), &port) != 0 || port > 65535)
        return cm_err_set(err, CM_EINVAL, "%s: bad port in '%s'", what, v);
    if (host_len == 0) {
        (void)snprintf(c->listen_host, sizeof(c->listen_host), "0.0.0.0");
    } else if (copy_str(c->listen_host, sizeof(c->listen_host), host, host_len, what, err) != 0) {
        return CM_EINVAL;
    }
    c->listen_port = (uint16_t)port;
    return 0;
}

static int parse_uint(const char *v, uint64_t min, uint64_t max, unsigned *out, const char *what,
                      struct cm_err *err)
{
    uint64_t n;

    if (cm_parse_u64(v, strlen(v), &n) != 0 || n < min || n > max)
        return cm_err_set(err, CM_EINVAL, "%s: '%s' is not a number in %llu..%llu", what, v,
                          (unsigned long long)min, (unsigned long long)max);
    *out = (unsigned)n;
    return 0;
}

static int add_policies(struct wh_config *c, const char *v, bool split, const char *what,
                        struct cm_err *err)
{
    const char *p = v;

    for (;;) {
        const char *end = split ? strchr(p, ',') : NULL;
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);

        if (n > 0) {
            if (c->n_policies >= WH_MAX_POLICY_PATHS)
                return cm_err_set(err, CM_EINVAL, "%s: more than %d policy paths", what,
                                  WH_MAX_POLICY_PATHS);
            if (copy_str(c->policies[c->n_policies], WH_PATH_MAX, p, n, what, err) != 0)
                return CM_EINVAL;
            c->n_policies++;
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    return 0;
}

/* One setting by its flag name (without "--"); from the environment or a flag. */
static int apply(struct wh_config *c, const char *key, const char *v, bool from_env,
                 const char *what, struct cm_err *err)
{
    if (strcmp(key, "listen") == 0)
        return parse_listen(c, v, what, err);
    if (strcmp(key, "tls-cert") == 0)
        return copy_str(c->tls_cert, sizeof(c->tls_cert), v, strlen(v), what, err);
    if (strcmp(key, "tls-key") == 0)
        return copy_str(c->tls_key, sizeof(c->tls_key), v, strlen(v), what, err);
    if (strcmp(key, "policies") == 0)
        return add_policies(c, v, from_env, what, err);
    if (strcmp(key, "threads") == 0)
        return parse_uint(v, 1, WH_MAX_THREADS, &c->threads, what, err);
    if (strcmp(key, "log-level") == 0) {
        if (cm_log_level_parse(v, &c->log_level) != 0)
            return cm_err_set(err, CM_EINVAL, "%s: '%s' is not debug|info|warn|error|off", what, v);
        return 0;
    }
    if (strcmp(key, "accept-mode") == 0) {
        if (strcmp(v, "pool") == 0)
            c->accept_mode = WH_ACCEPT_POOL;
        else if (strcmp(v, "reuseport") == 0)
            c->accept_mode = WH_ACCEPT_REUSEPORT;
        else
            return cm_err_set(err, CM_EINVAL, "%s: '%s' is not pool|reuseport", what, v);
        return 0;
    }
    if (strcmp(key, "max-connections") == 0)
        return parse_uint(v, 1, 1000000, &c->max_connections, what, err);
    if (strcmp(key, "max-connections-per-ip") == 0)
        return parse_uint(v, 1, 1000000, &c->max_per_ip, what, err);
    if (strcmp(key, "idle-timeout") == 0)
        return parse_uint(v, 1, 86400, &c->idle_timeout_s, what, err);
    if (strcmp(key, "request-timeout") == 0)
        return parse_uint(v, 1, 3600000, &c->request_timeout_ms, what, err);
    if (strcmp(key, "reload-interval") == 0)
        return parse_uint(v, 10, 3600000, &c->reload_interval_ms, what, err);
    if (strcmp(key, "shutdown-grace") == 0)
        return parse_uint(v, 0, 3600000, &c->shutdown_grace_ms, what, err);
    if (strcmp(key, "namespace-labels-from-cluster") == 0) {
        if (strcmp(v, "true") == 0)
            c->ns_labels_from_cluster = true;
        else if (strcmp(v, "false") == 0)
            c->ns_labels_from_cluster = false;
        else
            return cm_err_set(err, CM_EINVAL, "%s: '%s' is not true|false", what, v);
        return 0;
    }
    if (strcmp(key, "namespace-labels") == 0) {
        if (strcmp(v, "cluster") == 0)
            c->ns_labels_from_cluster = true;
        else if (strcmp(v, "off") == 0)
            c->ns_labels_from_cluster = false;
        else
            return cm_err_set(err, CM_EINVAL, "%s: '%s' is not cluster|off", what, v);
        return 0;
    }
    if (strcmp(key, "kubeconfig") == 0)
        return copy_str(c->kubeconfig, sizeof(c->kubeconfig), v, strlen(v), what, err);
    if (strcmp(key, "context") == 0)
        return copy_str(c->kube_context, sizeof(c->kube_context), v, strlen(v), what, err);
    if (strcmp(key, "namespace-refresh") == 0)
        return parse_uint(v, 1, 86400, &c->ns_refresh_s, what, err);
    return cm_err_set(err, CM_EINVAL, "unknown option '--%s' (see --help)", key);
}

static const struct {
    const char *env;
    const char *key;
} env_map[] = {
    {"LW_LISTEN", "listen"},
    {"LW_TLS_CERT", "tls-cert"},
    {"LW_TLS_KEY", "tls-key"},
    {"LW_POLICIES", "policies"},
    {"LW_THREADS", "threads"},
    {"LW_LOG_LEVEL", "log-level"},
    {"LW_NAMESPACE_LABELS", "namespace-labels"},
    {"LW_KUBECONFIG", "kubeconfig"},
    {"LW_NAMESPACE_REFRESH", "namespace-refresh"},
};

int wh_config_parse(struct wh_config *c, int argc, char **argv, wh_env_fn env, void *env_ctx,
                    struct cm_err *err)
{
    size_t i;
    int a;
    bool flag_policies = false;

    cm_err_clear(err);
    if (env != NULL) {
        for (i = 0; i < CM_ARRAY_LEN(env_map); i++) {
            const char *v = env(env_map[i].env, env_ctx);

            if (v != NULL && v[0] != '\0' &&
                apply(c, env_map[i].key, v, true, env_map[i].env, err) != 0)
                return CM_EINVAL;
        }
    }
    for (a = 1; a < argc; a++) {
        const char *arg = argv[a];
        const char *eq;
        char key[64];
        const char *val;
        size_t klen;

        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            return CM_ECANCELED;
        if (strncmp(arg, "--", 2) != 0)
            return cm_err_set(err, CM_EINVAL, "unexpected argument '%s' (see --help)", arg);
        arg += 2;
        eq = strchr(arg, '=');
        klen = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
        if (klen == 0 || klen >= sizeof(key))
            return cm_err_set(err, CM_EINVAL, "bad option '%s'", argv[a]);
        memcpy(key, arg, klen);
        key[klen] = '\0';
        if (eq != NULL) {
            val = eq + 1;
        } else if (strcmp(key, "namespace-labels-from-cluster") == 0) {
            val = "true"; /* a switch: takes no value */
        } else {
            if (a + 1 >= argc)
                return cm_err_set(err, CM_EINVAL, "option '--%s' needs a value", key);
            val = argv[++a];
        }
        if (strcmp(key, "policies") == 0 && !flag_policies) {
            /* Flags override the environment: the first --policies drops LW_POLICIES. */
            c->n_policies = 0;
            flag_policies = true;
        }
        {
            char what[80];

            (void)snprintf(what, sizeof(what), "--%s", key);
            if (apply(c, key, val, false, what, err) != 0)
                return CM_EINVAL;
        }
    }
    if (c->tls_cert[0] == '\0')
        return cm_err_set(err, CM_EINVAL, "missing --tls-cert (or LW_TLS_CERT)");
    if (c->tls_key[0] == '\0')
        return cm_err_set(err, CM_EINVAL, "missing --tls-key (or LW_TLS_KEY)");
    if (c->n_policies == 0)
        return cm_err_set(err, CM_EINVAL, "missing --policies (or LW_POLICIES)");
    return 0;
}
