/* SPDX-License-Identifier: Apache-2.0 */
/* backup_store.c - what the backup CLI, the executor, restore and the audit share to
 * reach a BackupPolicy's restore points: the policies, the cluster its Secrets are read
 * from, the S3 client with its credentials (a Secret or the environment) and the
 * client-side encryption key from a Secret. */
#include "backup/backup.h"
#include "backup/kube/kube.h"
#include "backup/s3/s3.h"
#include "policy/policy.h"

#include <string.h>

/* Decodes data[k] of a Secret into a new NUL-terminated buffer (cm_free_secure). */
static int secret_value(const cJSON *secret, const char *k, char **out, size_t *len)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(secret, "data");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, k);
    unsigned char *dec = NULL;
    size_t n = 0;
    int rc;

    if (!cJSON_IsString(v))
        return CM_ENOENT;
    rc = cm_base64_decode(v->valuestring, strlen(v->valuestring), &dec, &n);
    if (rc != 0)
        return rc;
    *out = (char *)dec;
    *len = n;
    return 0;
}

static int get_secret(struct kube_client *kube, const char *ns, const char *name, cJSON **out,
                      struct cm_err *err)
{
    struct kube_ref ref = {"v1", "secrets", ns, name};
    int rc = kube_get(kube, &ref, out, err);

    if (rc == CM_ENOENT)
        return cm_err_set(err, CM_ENOENT, "Secret %s/%s not found", ns, name);
    return rc;
}

int backup_policies_load(const char *const *paths, size_t n, struct policy_set **out,
                         struct cm_err *err)
{
    struct policy_loader *l = NULL;
    int rc;

    rc = policy_loader_create(&l, err);
    if (rc != 0)
        return rc;
    if (n > 0) {
        rc = cm_fs_load_tree(paths, n, POLICY_MAX_FILE_BYTES, policy_loader_add_file, l, err);
        if (rc != 0) {
            policy_loader_destroy(l);
            return rc;
        }
    }
    /* finish destroys the loader whatever happens */
    return policy_loader_finish(l, out, err);
}

const struct policy_backup *backup_policy_lookup(const char *name, void *ctx)
{
    return policy_set_backup_find(ctx, name, strlen(name));
}

int backup_kube_open(const char *kubeconfig, const char *context, const char *secret_ns_override,
                     struct kube_client **out, const char **secret_ns, struct cm_err *err)
{
    struct kube_config *cfg = NULL;
    struct kube_client *kc = NULL;
    int rc = kube_config_load(kubeconfig, context, &cfg, err);

    if (rc == 0)
        rc = kube_client_create(cfg, &kc, err); /* the client keeps its own copy */
    kube_config_destroy(cfg);
    if (rc != 0)
        return rc;
    if (secret_ns != NULL)
        *secret_ns = secret_ns_override != NULL ? secret_ns_override
                                                : kube_config_namespace(kube_client_config(kc));
    *out = kc;
    return 0;
}

int backup_creds_resolve(struct kube_client *kube, const char *secret_ns,
                         const struct policy_backup *p, struct s3_credentials *creds,
                         struct cm_err *err)
{
    static const char *const ak_keys[] = {"aws_access_key_id", "AWS_ACCESS_KEY_ID"};
    static const char *const sk_keys[] = {"aws_secret_access_key", "AWS_SECRET_ACCESS_KEY"};
    static const char *const tk_keys[] = {"aws_session_token", "AWS_SESSION_TOKEN"};
    cJSON *secret = NULL;
    char *ak = NULL, *sk = NULL, *tk = NULL;
    size_t akn = 0, skn = 0, tkn = 0;
    size_t i;
    int rc;

    if (p == NULL || creds == NULL)
        return cm_err_set(err, CM_EINVAL, "credentials: no policy");
    if (p->location.credentials_secret == NULL || p->location.credentials_secret[0] == '\0' ||
        kube == NULL) {
        /* The environment, then the AWS shared credentials file. */
        rc = s3_credentials_load_default(creds, err);
        if (rc == CM_ENOENT)
            cm_err_prefix(err, "BackupPolicy %s names no credentials Secret", p->name);
        return rc;
    }
    rc = get_secret(kube, secret_ns, p->location.credentials_secret, &secret, err);
    if (rc != 0)
        goto cleanup;
    for (i = 0; i < 2 && ak == NULL; i++)
        if (secret_value(secret, ak_keys[i], &ak, &akn) != 0)
            ak = NULL;
    for (i = 0; i < 2 && sk == NULL; i++)
        if (secret_value(secret, sk_keys[i], &sk, &skn) != 0)
            sk = NULL;
    for (i = 0; i < 2 && tk == NULL; i++)
        if (secret_value(secret, tk_keys[i], &tk, &tkn) != 0)
            tk = NULL;
    if (ak == NULL || sk == NULL) {
        rc = cm_err_set(err, CM_ENOENT,
                        "Secret %s/%s: needs data keys aws_access_key_id and "
                        "aws_secret_access_key (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)",
                        secret_ns, p->location.credentials_secret);
        goto cleanup;
    }
    rc = s3_credentials_set(creds, ak, sk, tk, err);
cleanup:
    if (ak != NULL)
        cm_free_secure(ak, akn);
    if (sk != NULL)
        cm_free_secure(sk, skn);
    if (tk != NULL)
        cm_free_secure(tk, tkn);
    cJSON_Delete(secret); /* a Secret tree: its strings are freed, not wiped (cJSON) */
    return rc;
}

void backup_location_of(const struct policy_backup *p, const char *endpoint_override,
                        struct backup_location *out)
{
    memset(out, 0, sizeof(*out));
    out->endpoint = endpoint_override != NULL && endpoint_override[0] != '\0'
                        ? endpoint_override
                        : p->location.endpoint;
    out->region = p->location.region;
    out->bucket = p->location.bucket;
    out->prefix = p->location.prefix;
    out->path_style =
        p->location.path_style || (endpoint_override != NULL && endpoint_override[0] != '\0');
}

static const char *nz(const char *s)
{
    return s != NULL ? s : "";
}

bool backup_location_same(const struct backup_location *a, const struct backup_location *b)
{
    return strcmp(nz(a->bucket), nz(b->bucket)) == 0 && strcmp(nz(a->prefix), nz(b->prefix)) == 0 &&
           strcmp(nz(a->endpoint), nz(b->endpoint)) == 0;
}

int backup_s3_open(const struct backup_location *loc, const struct s3_credentials *creds,
                   struct s3_client **out, struct cm_err *err)
{
    struct s3_config cfg;

    memset(&cfg, 0, sizeof(cfg));
    cfg.endpoint = loc->endpoint != NULL && loc->endpoint[0] != '\0' ? loc->endpoint : NULL;
    cfg.region = loc->region != NULL && loc->region[0] != '\0' ? loc->region : NULL;
    cfg.bucket = loc->bucket;
    cfg.path_style = loc->path_style;
    cfg.creds = creds;
    return s3_client_create(&cfg, out, err);
}

/* Reads the encryption key from the Secret `name` in namespace ns (data key "key", in
 * any of backup_key_parse's encodings after base64). Returns 0, CM_ENOENT, CM_EINVAL
 * or kube's codes. */
static int key_from_secret(struct kube_client *kube, const char *ns, const char *name,
                           struct backup_key *out, struct cm_err *err)
{
    cJSON *secret = NULL;
    char *v = NULL;
    size_t n = 0;
    int rc = get_secret(kube, ns, name, &secret, err);

    if (rc != 0)
        return rc;
    rc = secret_value(secret, "key", &v, &n);
    if (rc == CM_ENOENT || rc == CM_EPARSE)
        rc = cm_err_set(err, CM_EINVAL, "Secret %s/%s: data key \"key\" missing or not base64", ns,
                        name);
    else if (rc == 0) {
        rc = backup_key_parse(v, n, out, err);
        if (rc != 0)
            cm_err_prefix(err, "Secret %s/%s", ns, name);
    }
    if (v != NULL)
        cm_free_secure(v, n);
    cJSON_Delete(secret);
    return rc;
}

int backup_store_open(const struct policy_backup *bp, struct kube_client *kc, const char *secret_ns,
                      const char *endpoint_override, struct s3_client **out, struct cm_err *err)
{
    struct s3_credentials creds = {0};
    struct backup_location loc;
    int rc;

    rc = backup_creds_resolve(kc, secret_ns, bp, &creds, err);
    if (rc != 0) {
        cm_err_prefix(err, "BackupPolicy %s: S3 credentials", bp->name);
        goto cleanup;
    }
    backup_location_of(bp, endpoint_override, &loc);
    rc = backup_s3_open(&loc, &creds, out, err);
    if (rc != 0)
        cm_err_prefix(err, "BackupPolicy %s", bp->name);
cleanup:
    s3_credentials_cleanup(&creds);
    return rc;
}

int backup_key_lookup(struct kube_client *kc, const struct policy_backup *bp, const char *secret_ns,
                      const char *app_ns, struct backup_key *out, struct cm_err *err)
{
    int rc;

    if (bp == NULL || bp->encryption_key_secret[0] == '\0')
        return cm_err_set(err, CM_ENOENT, "BackupPolicy %s names no encryption key Secret",
                          bp != NULL ? bp->name : "?");
    if (kc == NULL)
        return cm_err_set(err, CM_ENOENT,
                          "BackupPolicy %s encrypts with Secret %s: no cluster to read it from",
                          bp->name, bp->encryption_key_secret);
    /* Where the executor reads it (the Secret namespace), else the app's namespace. */
    rc = key_from_secret(kc, secret_ns, bp->encryption_key_secret, out, err);
    if (rc == CM_ENOENT && app_ns != NULL && secret_ns != NULL && strcmp(secret_ns, app_ns) != 0)
        rc = key_from_secret(kc, app_ns, bp->encryption_key_secret, out, err);
    return rc;
}
