/* SPDX-License-Identifier: Apache-2.0 */
/* kube_kubeconfig.c - reads a kubeconfig (YAML or JSON, via policy_docs_parse) into a
 * struct kube_config: picks the context, its cluster and user, and loads the TLS
 * material and credentials they name. */
#include "kube_int.h"

#include "policy/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Everything one parse needs for messages and relative paths. */
struct kc_parse {
    const char *name;     /* the kubeconfig's name for messages */
    const char *base_dir; /* relative paths start here; NULL = cwd */
    struct policy_docs *docs;
};

static const char *str_field(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The entry of list (clusters, users, contexts) named name, or NULL. */
static const cJSON *find_named(const cJSON *root, const char *list, const char *name,
                               const char *inner)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, list);
    const cJSON *it;

    if (!cJSON_IsArray(arr))
        return NULL;
    cJSON_ArrayForEach(it, arr)
    {
        const char *n = str_field(it, "name");

        if (n != NULL && strcmp(n, name) == 0) {
            const cJSON *body = cJSON_GetObjectItemCaseSensitive(it, inner);

            return cJSON_IsObject(body) ? body : NULL;
        }
    }
    return NULL;
}

/* Resolves file against the kubeconfig's directory and insists on a regular file:
 * "-" (standard input for cm_fs_read_file), FIFOs and devices could block or never
 * end. */
static int resolve_path(const struct kc_parse *p, const char *file, char *buf, size_t len,
                        struct cm_err *err)
{
    struct stat st;
    int n;

    if (file[0] == '/')
        n = snprintf(buf, len, "%s", file);
    else if (p->base_dir == NULL || p->base_dir[0] == '\0')
        n = snprintf(buf, len, "./%s", file);
    else
        n = snprintf(buf, len, "%s/%s", p->base_dir, file);
    if (n < 0 || (size_t)n >= len)
        return cm_err_set(err, CM_ECONFIG, "%s: path \"%.100s\" too long", p->name, file);
    if (stat(buf, &st) == 0 && !S_ISREG(st.st_mode))
        return cm_err_set(err, CM_ECONFIG, "%s: %.200s is not a regular file", p->name, buf);
    return 0;
}

/* Loads PEM (or token) bytes from `<key>-data` (base64) or `<key>` (a file path).
 * Leaves *out NULL when neither is present. */
static int load_material(const struct kc_parse *p, const cJSON *obj, const char *what,
                         const char *key, const char *data_key, char **out, size_t *out_len,
                         struct cm_err *err)
{
    const char *data = data_key ? str_field(obj, data_key) : NULL;
    const char *file = str_field(obj, key);
    char path[4096];
    unsigned char *dec = NULL;
    size_t dec_len = 0;
    int rc;

    *out = NULL;
    *out_len = 0;
    if (data != NULL && data[0] != '\0') {
        rc = cm_base64_decode(data, strlen(data), &dec, &dec_len);
        if (rc == CM_ENOMEM)
            return cm_err_set(err, rc, "%s: out of memory", p->name);
        if (rc != 0)
            return cm_err_set(err, CM_ECONFIG, "%s: %s: %s is not valid base64", p->name, what,
                              data_key);
        if (dec_len == 0) {
            cm_free(dec);
            return cm_err_set(err, CM_ECONFIG, "%s: %s: %s is empty", p->name, what, data_key);
        }
        *out = (char *)dec;
        *out_len = dec_len;
        return 0;
    }
    if (file != NULL && file[0] != '\0') {
        rc = resolve_path(p, file, path, sizeof(path), err);
        if (rc != 0)
            return rc;
        rc = cm_fs_read_file(path, KUBE_MAX_PEM_FILE, out, out_len, err);
        if (rc == CM_ENOMEM)
            return rc;
        if (rc != 0) {
            cm_err_prefix(err, "%s: %s: %s", p->name, what, key);
            if (err != NULL)
                err->code = CM_ECONFIG;
            return CM_ECONFIG;
        }
        return 0;
    }
    return 0;
}

static int parse_cluster(const struct kc_parse *p, const char *cluster_name, const cJSON *cl,
                         struct kube_config **out, struct cm_err *err)
{
    struct kube_config *c = NULL;
    const char *server = str_field(cl, "server");
    const char *sni = str_field(cl, "tls-server-name");
    const cJSON *insecure = cJSON_GetObjectItemCaseSensitive(cl, "insecure-skip-tls-verify");
    char what[KUBE_MAX_NAME + 16];
    int rc;

    if (server == NULL || server[0] == '\0')
        return cm_err_set(err, CM_ECONFIG, "%s: cluster \"%s\" has no server", p->name,
                          cluster_name);
    rc = kube_config_create(server, &c, err);
    if (rc != 0) {
        if (rc == CM_ENOMEM)
            return rc;
        cm_err_prefix(err, "%s: cluster \"%s\"", p->name, cluster_name);
        if (err != NULL)
            err->code = CM_ECONFIG;
        return CM_ECONFIG;
    }
    (void)snprintf(what, sizeof(what), "cluster \"%s\"", cluster_name);
    rc = load_material(p, cl, what, "certificate-authority", "certificate-authority-data",
                       &c->ca_pem, &c->ca_len, err);
    if (rc != 0)
        goto cleanup;
    if (cJSON_IsTrue(insecure) ||
        (cJSON_IsString(insecure) && strcmp(insecure->valuestring, "true") == 0))
        c->insecure = true;
    if (sni != NULL && sni[0] != '\0') {
        if (strpbrk(sni, ":/[]@ ") != NULL) {
            rc = cm_err_set(err, CM_ECONFIG, "%s: cluster \"%s\": bad tls-server-name", p->name,
                            cluster_name);
            goto cleanup;
        }
        rc = kube_str_set(&c->tls_server_name, sni, strlen(sni), false);
        if (rc != 0)
            goto cleanup;
    }
    *out = c;
    return 0;
cleanup:
    kube_config_destroy(c);
    return rc;
}

static int parse_user(const struct kc_parse *p, const char *user_name, const cJSON *u,
                      struct kube_config *c, struct cm_err *err)
{
    const cJSON *exec = cJSON_GetObjectItemCaseSensitive(u, "exec");
    const cJSON *ap = cJSON_GetObjectItemCaseSensitive(u, "auth-provider");
    const char *token = str_field(u, "token");
    const char *token_file = str_field(u, "tokenFile");
    const char *user = str_field(u, "username");
    const char *pass = str_field(u, "password");
    char what[KUBE_MAX_NAME + 16];
    char path[4096];
    int rc;

    if (exec != NULL && !cJSON_IsNull(exec)) {
        const char *cmd = cJSON_IsObject(exec) ? str_field(exec, "command") : NULL;

        return cm_err_set(err, CM_EUNSUPPORTED,
                          "%s: user \"%s\" uses an exec credential plugin (command \"%.100s\"), "
                          "which lockwarden does not support; use a token, tokenFile or client "
                          "certificate",
                          p->name, user_name, cmd ? cmd : "?");
    }
    if (ap != NULL && !cJSON_IsNull(ap)) {
        const char *apn = cJSON_IsObject(ap) ? str_field(ap, "name") : NULL;

        return cm_err_set(err, CM_EUNSUPPORTED,
                          "%s: user \"%s\" uses the auth-provider plugin \"%.100s\", which "
                          "lockwarden does not support; use a token, tokenFile or client "
                          "certificate",
                          p->name, user_name, apn ? apn : "?");
    }
    (void)snprintf(what, sizeof(what), "user \"%s\"", user_name);
    rc = load_material(p, u, what, "client-certificate", "client-certificate-data", &c->cert_pem,
                       &c->cert_len, err);
    if (rc != 0)
        return rc;
    rc = load_material(p, u, what, "client-key", "client-key-data", &c->key_pem, &c->key_len, err);
    if (rc != 0)
        return rc;
    if ((c->cert_pem == NULL) != (c->key_pem == NULL))
        return cm_err_set(err, CM_ECONFIG, "%s: user \"%s\" has a client %s but no client %s",
                          p->name, user_name, c->cert_pem ? "certificate" : "key",
                          c->cert_pem ? "key" : "certificate");
    if ((token != NULL && token[0] != '\0') || (token_file != NULL && token_file[0] != '\0')) {
        if (user != NULL && user[0] != '\0')
            return cm_err_set(err, CM_ECONFIG,
                              "%s: user \"%s\" sets both a token and a username; choose one",
                              p->name, user_name);
    }
    /* The kubeconfig rule: token takes precedence over tokenFile. */
    if (token != NULL && token[0] != '\0') {
        rc = kube_str_set(&c->token, token, strlen(token), true);
        if (rc != 0)
            return cm_err_set(err, rc, "%s: out of memory", p->name);
    } else if (token_file != NULL && token_file[0] != '\0') {
        char *buf = NULL;
        size_t len = 0;

        rc = resolve_path(p, token_file, path, sizeof(path), err);
        if (rc != 0)
            return rc;
        rc = cm_fs_read_file(path, KUBE_MAX_TOKEN_FILE, &buf, &len, err);
        if (rc == CM_ENOMEM)
            return rc;
        if (rc != 0) {
            cm_err_prefix(err, "%s: user \"%s\": tokenFile", p->name, user_name);
            if (err != NULL)
                err->code = CM_ECONFIG;
            return CM_ECONFIG;
        }
        cm_free_secure(buf, len);
        rc = kube_str_set(&c->token_file, path, strlen(path), false);
        if (rc != 0)
            return cm_err_set(err, rc, "%s: out of memory", p->name);
    }
    if (user != NULL && user[0] != '\0') {
        if (strchr(user, ':') != NULL)
            return cm_err_set(err, CM_ECONFIG, "%s: user \"%s\": username contains ':'", p->name,
                              user_name);
        rc = kube_str_set(&c->username, user, strlen(user), false);
        if (rc == 0)
            rc = kube_str_set(&c->password, pass ? pass : "", pass ? strlen(pass) : 0, true);
        if (rc != 0)
            return cm_err_set(err, rc, "%s: out of memory", p->name);
    }
    return 0;
}

static int kc_build(const struct kc_parse *p, const cJSON *root, const char *context,
                    struct kube_config **out, struct cm_err *err)
{
    struct kube_config *c = NULL;
    const cJSON *ctx;
    const cJSON *cl;
    const cJSON *u = NULL;
    const char *ctx_name = context;
    const char *cluster_name;
    const char *user_name;
    const char *ns;
    int rc;

    if (!cJSON_IsObject(root))
        return cm_err_set(err, CM_ECONFIG, "%s: not a kubeconfig (top level is not a mapping)",
                          p->name);
    if (ctx_name == NULL || ctx_name[0] == '\0') {
        ctx_name = str_field(root, "current-context");
        if (ctx_name == NULL || ctx_name[0] == '\0')
            return cm_err_set(err, CM_ECONFIG,
                              "%s: no current-context is set and no context was given "
                              "(--context)",
                              p->name);
    }
    ctx = find_named(root, "contexts", ctx_name, "context");
    if (ctx == NULL)
        return cm_err_set(err, CM_ECONFIG, "%s: context \"%.200s\" not found", p->name, ctx_name);
    cluster_name = str_field(ctx, "cluster");
    if (cluster_name == NULL || cluster_name[0] == '\0')
        return cm_err_set(err, CM_ECONFIG, "%s: context \"%.200s\" names no cluster", p->name,
                          ctx_name);
    cl = find_named(root, "clusters", cluster_name, "cluster");
    if (cl == NULL)
        return cm_err_set(err, CM_ECONFIG,
                          "%s: cluster \"%.200s\" (named by context \"%.200s\") not found", p->name,
                          cluster_name, ctx_name);
    user_name = str_field(ctx, "user");
    if (user_name != NULL && user_name[0] != '\0') {
        u = find_named(root, "users", user_name, "user");
        if (u == NULL)
            return cm_err_set(err, CM_ECONFIG,
                              "%s: user \"%.200s\" (named by context \"%.200s\") not found",
                              p->name, user_name, ctx_name);
    }
    rc = parse_cluster(p, cluster_name, cl, &c, err);
    if (rc != 0)
        return rc;
    if (u != NULL) {
        rc = parse_user(p, user_name, u, c, err);
        if (rc != 0)
            goto cleanup;
    }
    rc = kube_str_set(&c->context, ctx_name, strlen(ctx_name), false);
    if (rc != 0)
        goto oom;
    ns = str_field(ctx, "namespace");
    if (ns != NULL && ns[0] != '\0') {
        rc = kube_str_set(&c->namespace_, ns, strlen(ns), false);
        if (rc != 0)
            goto oom;
    }
    *out = c;
    return 0;
oom:
    rc = cm_err_set(err, CM_ENOMEM, "%s: out of memory", p->name);
cleanup:
    kube_config_destroy(c);
    return rc;
}

int kube_config_parse_kubeconfig(const char *name, const char *buf, size_t len,
                                 const char *base_dir, const char *context,
                                 struct kube_config **out, struct cm_err *err)
{
    struct kc_parse p = {name ? name : "kubeconfig", base_dir, NULL};
    int rc;

    if (len > KUBE_MAX_KUBECONFIG)
        return cm_err_set(err, CM_ETOOBIG, "%s: larger than %u bytes", p.name, KUBE_MAX_KUBECONFIG);
    rc = policy_docs_parse(p.name, buf, len, &p.docs, err);
    if (rc != 0)
        return rc;
    if (policy_docs_count(p.docs) != 1) {
        rc = cm_err_set(err, CM_ECONFIG, "%s: expected one YAML document, found %zu", p.name,
                        policy_docs_count(p.docs));
        goto cleanup;
    }
    rc = kc_build(&p, policy_docs_get(p.docs, 0), context, out, err);
cleanup:
    policy_docs_destroy(p.docs);
    return rc;
}

/* $KUBECONFIG's first existing file, else $HOME/.kube/config. */
static int default_path(char *buf, size_t len, struct cm_err *err)
{
    const char *env = getenv("KUBECONFIG");
    const char *home;
    int n;

    if (env != NULL && env[0] != '\0') {
        const char *s = env;

        while (*s != '\0') {
            const char *e = strchr(s, ':');
            size_t n2 = e ? (size_t)(e - s) : strlen(s);

            if (n2 > 0 && n2 < len) {
                FILE *f;

                memcpy(buf, s, n2);
                buf[n2] = '\0';
                f = fopen(buf, "r");
                if (f != NULL) {
                    fclose(f);
                    return 0;
                }
            }
            if (e == NULL)
                break;
            s = e + 1;
        }
        return cm_err_set(err, CM_ENOENT, "KUBECONFIG=%.200s: no readable file", env);
    }
    home = getenv("HOME");
    if (home == NULL || home[0] == '\0')
        return cm_err_set(err, CM_ENOENT,
                          "no kubeconfig: --kubeconfig, KUBECONFIG and HOME are all unset");
    n = snprintf(buf, len, "%s/.kube/config", home);
    if (n < 0 || (size_t)n >= len)
        return cm_err_set(err, CM_ECONFIG, "HOME too long");
    return 0;
}

int kube_config_from_kubeconfig(const char *path, const char *context, struct kube_config **out,
                                struct cm_err *err)
{
    char chosen[4096];
    char dir[4096];
    char *buf = NULL;
    size_t len = 0;
    const char *slash;
    int rc;

    if (path == NULL || path[0] == '\0') {
        rc = default_path(chosen, sizeof(chosen), err);
        if (rc != 0)
            return rc;
        path = chosen;
    }
    rc = cm_fs_read_file(path, KUBE_MAX_KUBECONFIG, &buf, &len, err);
    if (rc != 0)
        return rc;
    slash = strrchr(path, '/');
    if (slash == NULL) {
        dir[0] = '\0';
    } else {
        size_t n = (size_t)(slash - path);

        if (n == 0)
            n = 1; /* "/config" lives in "/" */
        if (n >= sizeof(dir))
            n = sizeof(dir) - 1;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    rc = kube_config_parse_kubeconfig(path, buf, len, dir[0] ? dir : NULL, context, out, err);
    cm_free_secure(buf, len);
    return rc;
}
