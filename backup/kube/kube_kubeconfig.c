/* SPDX-License-Identifier: Apache-2.0 */
/* kube_kubeconfig.c - reads one or several kubeconfigs (YAML or JSON, via
 * policy_docs_parse) into a struct kube_config: merges the files of $KUBECONFIG as
 * kubectl does, picks the context, its cluster and user, and loads the TLS material
 * and credentials they name. */
#include "kube_int.h"

#include "policy/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* One parsed kubeconfig file: what its entries need for messages and relative paths. */
struct kc_parse {
    char *name;     /* the kubeconfig's name for messages */
    char *base_dir; /* relative paths start here; NULL = cwd */
    struct policy_docs *docs;
    const cJSON *root; /* a mapping, or NULL for an empty file; borrowed from docs */
};

/* The files of one load in precedence order. kubectl's merge rules are applied by the
 * lookups (kc_current_context, kc_find) instead of building a merged tree: the first
 * file to set current-context wins, and the first file to define a cluster, user or
 * context name wins that name entirely (later definitions are ignored, not merged). */
struct kc_set {
    struct kc_parse file[KUBE_MAX_KUBECONFIG_FILES];
    size_t n;
};

static const char *str_field(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The first definition of name in list (clusters, users, contexts) across the files:
 * returns the index of the defining file and sets *body to its inner mapping (NULL when
 * that entry has none), or returns -1 when no file defines name. */
static int kc_find(const struct kc_set *set, const char *list, const char *name, const char *inner,
                   const cJSON **body)
{
    size_t i;

    *body = NULL;
    for (i = 0; i < set->n; i++) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(set->file[i].root, list);
        const cJSON *it;

        if (!cJSON_IsArray(arr))
            continue;
        cJSON_ArrayForEach(it, arr)
        {
            const char *n = str_field(it, "name");

            if (n != NULL && strcmp(n, name) == 0) {
                const cJSON *b = cJSON_GetObjectItemCaseSensitive(it, inner);

                *body = cJSON_IsObject(b) ? b : NULL;
                return (int)i;
            }
        }
    }
    return -1;
}

/* kubectl: the first file with a non-empty current-context wins. NULL when none. */
static const char *kc_current_context(const struct kc_set *set)
{
    size_t i;

    for (i = 0; i < set->n; i++) {
        const char *cur = str_field(set->file[i].root, "current-context");

        if (cur != NULL && cur[0] != '\0')
            return cur;
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

/* Looks name up in list; reports a missing entry (under label) or an entry without its
 * inner mapping (under the defining file's name). Returns the file index or -1. */
static int kc_lookup(const struct kc_set *set, const char *label, const char *list,
                     const char *what, const char *name, const char *ctx_name, const cJSON **body,
                     struct cm_err *err)
{
    int i = kc_find(set, list, name, what, body);

    if (i < 0) {
        if (ctx_name != NULL)
            (void)cm_err_set(err, CM_ECONFIG,
                             "%s: %s \"%.200s\" (named by context \"%.200s\") not found", label,
                             what, name, ctx_name);
        else
            (void)cm_err_set(err, CM_ECONFIG, "%s: %s \"%.200s\" not found", label, what, name);
        return -1;
    }
    if (*body == NULL) {
        (void)cm_err_set(err, CM_ECONFIG, "%s: %s \"%.200s\" has no %s mapping", set->file[i].name,
                         what, name, what);
        return -1;
    }
    return i;
}

static int kc_build(const struct kc_set *set, const char *label, const char *context,
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
    int ci;
    int cli;
    int ui = -1;
    int rc;

    if (ctx_name == NULL || ctx_name[0] == '\0') {
        ctx_name = kc_current_context(set);
        if (ctx_name == NULL)
            return cm_err_set(err, CM_ECONFIG,
                              "%s: no current-context is set and no context was given "
                              "(--context)",
                              label);
    }
    ci = kc_lookup(set, label, "contexts", "context", ctx_name, NULL, &ctx, err);
    if (ci < 0)
        return CM_ECONFIG;
    cluster_name = str_field(ctx, "cluster");
    if (cluster_name == NULL || cluster_name[0] == '\0')
        return cm_err_set(err, CM_ECONFIG, "%s: context \"%.200s\" names no cluster",
                          set->file[ci].name, ctx_name);
    cli = kc_lookup(set, label, "clusters", "cluster", cluster_name, ctx_name, &cl, err);
    if (cli < 0)
        return CM_ECONFIG;
    user_name = str_field(ctx, "user");
    if (user_name != NULL && user_name[0] != '\0') {
        ui = kc_lookup(set, label, "users", "user", user_name, ctx_name, &u, err);
        if (ui < 0)
            return CM_ECONFIG;
    }
    /* Each entry's relative paths resolve against the directory of the file that
     * defined it (client-go's LocationOfOrigin). */
    rc = parse_cluster(&set->file[cli], cluster_name, cl, &c, err);
    if (rc != 0)
        return rc;
    if (u != NULL) {
        rc = parse_user(&set->file[ui], user_name, u, c, err);
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
    rc = cm_err_set(err, CM_ENOMEM, "%s: out of memory", label);
cleanup:
    kube_config_destroy(c);
    return rc;
}

static void kc_set_cleanup(struct kc_set *set)
{
    size_t i;

    for (i = 0; i < set->n; i++) {
        policy_docs_destroy(set->file[i].docs);
        cm_free(set->file[i].name);
        cm_free(set->file[i].base_dir);
    }
    set->n = 0;
}

/* Parses one kubeconfig and appends it to set (the one parsing path for every load).
 * An empty file (no document) is an empty kubeconfig, as in client-go. On failure set
 * is unchanged. */
static int kc_set_add(struct kc_set *set, const char *name, const char *buf, size_t len,
                      const char *base_dir, struct cm_err *err)
{
    struct kc_parse p = {NULL, NULL, NULL, NULL};
    int rc;

    if (set->n >= KUBE_MAX_KUBECONFIG_FILES)
        return cm_err_set(err, CM_ETOOBIG, "%s: more than %u kubeconfig files", name,
                          KUBE_MAX_KUBECONFIG_FILES);
    if (len > KUBE_MAX_KUBECONFIG)
        return cm_err_set(err, CM_ETOOBIG, "%s: larger than %u bytes", name, KUBE_MAX_KUBECONFIG);
    rc = policy_docs_parse(name, buf, len, &p.docs, err);
    if (rc != 0)
        return rc;
    if (policy_docs_count(p.docs) > 1) {
        rc = cm_err_set(err, CM_ECONFIG, "%s: expected one YAML document, found %zu", name,
                        policy_docs_count(p.docs));
        goto cleanup;
    }
    if (policy_docs_count(p.docs) == 1) {
        p.root = policy_docs_get(p.docs, 0);
        if (!cJSON_IsObject(p.root)) {
            rc = cm_err_set(err, CM_ECONFIG, "%s: not a kubeconfig (top level is not a mapping)",
                            name);
            goto cleanup;
        }
    }
    p.name = cm_strdup(name);
    p.base_dir = base_dir != NULL && base_dir[0] != '\0' ? cm_strdup(base_dir) : NULL;
    if (p.name == NULL || (base_dir != NULL && base_dir[0] != '\0' && p.base_dir == NULL)) {
        rc = cm_err_set(err, CM_ENOMEM, "%s: out of memory", name);
        goto cleanup;
    }
    set->file[set->n++] = p;
    return 0;
cleanup:
    policy_docs_destroy(p.docs);
    cm_free(p.name);
    cm_free(p.base_dir);
    return rc;
}

int kube_config_merge_kubeconfigs(const char *label, const struct kube_kubeconfig_src *src,
                                  size_t n, const char *context, struct kube_config **out,
                                  struct cm_err *err)
{
    struct kc_set set;
    size_t i;
    int rc = 0;

    set.n = 0;
    if (n > KUBE_MAX_KUBECONFIG_FILES)
        return cm_err_set(err, CM_ETOOBIG, "%s: more than %u kubeconfig files", label,
                          KUBE_MAX_KUBECONFIG_FILES);
    for (i = 0; i < n && rc == 0; i++)
        rc = kc_set_add(&set, src[i].name, src[i].buf, src[i].len, src[i].base_dir, err);
    if (rc == 0)
        rc = kc_build(&set, label, context, out, err);
    kc_set_cleanup(&set);
    return rc;
}

int kube_config_parse_kubeconfig(const char *name, const char *buf, size_t len,
                                 const char *base_dir, const char *context,
                                 struct kube_config **out, struct cm_err *err)
{
    struct kube_kubeconfig_src src = {name ? name : "kubeconfig", buf, len, base_dir};

    return kube_config_merge_kubeconfigs(src.name, &src, 1, context, out, err);
}

int kube_kubeconfig_list_parse(const char *value, struct kube_kubeconfig_list *l,
                               struct cm_err *err)
{
    size_t len = strnlen(value, KUBE_MAX_KUBECONFIG_LIST + 1);
    char *s;
    int rc = 0;

    memset(l, 0, sizeof(*l));
    if (len > KUBE_MAX_KUBECONFIG_LIST)
        return cm_err_set(err, CM_ETOOBIG, "KUBECONFIG is longer than %u bytes",
                          KUBE_MAX_KUBECONFIG_LIST);
    l->buf_ = cm_strndup(value, len);
    if (l->buf_ == NULL)
        return cm_err_set(err, CM_ENOMEM, "KUBECONFIG: out of memory");
    s = l->buf_;
    for (;;) {
        char *e = strchr(s, ':');
        size_t j;

        if (e != NULL)
            *e = '\0';
        if (strlen(s) >= KUBE_MAX_KUBECONFIG_PATH) {
            rc = cm_err_set(err, CM_ECONFIG,
                            "KUBECONFIG: entry \"%.60s...\" is longer than %u bytes", s,
                            KUBE_MAX_KUBECONFIG_PATH - 1);
            break;
        }
        /* Empty entries are ignored and a repeated file is read once (client-go). */
        for (j = 0; s[0] != '\0' && j < l->n; j++) {
            if (strcmp(l->path[j], s) == 0)
                break;
        }
        if (s[0] != '\0' && j == l->n) {
            if (l->n == KUBE_MAX_KUBECONFIG_FILES) {
                rc = cm_err_set(err, CM_ETOOBIG,
                                "KUBECONFIG lists more than %u files (the %u-th is \"%.100s\")",
                                KUBE_MAX_KUBECONFIG_FILES, KUBE_MAX_KUBECONFIG_FILES + 1, s);
                break;
            }
            l->path[l->n++] = s;
        }
        if (e == NULL)
            break;
        s = e + 1;
    }
    if (rc != 0)
        kube_kubeconfig_list_cleanup(l);
    return rc;
}

void kube_kubeconfig_list_cleanup(struct kube_kubeconfig_list *l)
{
    cm_free(l->buf_);
    memset(l, 0, sizeof(*l));
}

/* Reads path and adds it to set; relative paths inside resolve against its directory.
 * When optional ($KUBECONFIG entries), a file that does not exist is skipped, as
 * kubectl does; any other read error is reported. */
static int kc_set_add_file(struct kc_set *set, const char *path, bool optional, struct cm_err *err)
{
    char dir[KUBE_MAX_KUBECONFIG_PATH];
    const char *slash;
    char *buf = NULL;
    size_t len = 0;
    int rc;

    /* An entry "-" is a file of that name (kubectl), not standard input. */
    rc = cm_fs_read_file(optional && strcmp(path, "-") == 0 ? "./-" : path, KUBE_MAX_KUBECONFIG,
                         &buf, &len, err);
    if (rc == CM_ENOENT && optional)
        return 0;
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
    rc = kc_set_add(set, path, buf, len, dir, err);
    cm_free_secure(buf, len);
    return rc;
}

/* Fills set from $KUBECONFIG (every existing file, in order) and label with the name
 * for messages about the merged result. */
static int kc_set_load_env(struct kc_set *set, const char *env, char *label, size_t label_len,
                           struct cm_err *err)
{
    struct kube_kubeconfig_list l;
    size_t i;
    int rc;

    rc = kube_kubeconfig_list_parse(env, &l, err);
    if (rc != 0)
        return rc;
    for (i = 0; i < l.n && rc == 0; i++)
        rc = kc_set_add_file(set, l.path[i], true, err);
    if (rc == 0 && set->n == 0)
        rc = cm_err_set(err, CM_ENOENT, "KUBECONFIG=%.200s: no readable file", env);
    if (rc == 0 && set->n == 1)
        (void)snprintf(label, label_len, "%s", set->file[0].name);
    else
        (void)snprintf(label, label_len, "KUBECONFIG=%.200s", env);
    kube_kubeconfig_list_cleanup(&l);
    return rc;
}

int kube_config_from_kubeconfig(const char *path, const char *context, struct kube_config **out,
                                struct cm_err *err)
{
    const char *env = getenv("KUBECONFIG");
    struct kc_set set;
    char home_path[KUBE_MAX_KUBECONFIG_PATH];
    char label[256];
    int rc;

    set.n = 0;
    if (path != NULL && path[0] != '\0') {
        /* An explicit file (--kubeconfig) is used alone: no merging (kubectl). */
        rc = kc_set_add_file(&set, path, false, err);
    } else if (env != NULL && env[0] != '\0') {
        rc = kc_set_load_env(&set, env, label, sizeof(label), err);
        path = label;
    } else {
        const char *home = getenv("HOME");
        int n;

        if (home == NULL || home[0] == '\0')
            return cm_err_set(err, CM_ENOENT,
                              "no kubeconfig: --kubeconfig, KUBECONFIG and HOME are all unset");
        n = snprintf(home_path, sizeof(home_path), "%s/.kube/config", home);
        if (n < 0 || (size_t)n >= sizeof(home_path))
            return cm_err_set(err, CM_ECONFIG, "HOME too long");
        path = home_path;
        rc = kc_set_add_file(&set, path, false, err);
    }
    if (rc == 0)
        rc = kc_build(&set, path, context, out, err);
    kc_set_cleanup(&set);
    return rc;
}
