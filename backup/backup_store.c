/* SPDX-License-Identifier: Apache-2.0 */
/* backup_store.c - where a BackupPolicy's restore points live: the cluster its Secrets
 * are read from, S3 client, credentials (a Secret or the environment) and the
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
        rc = s3_credentials_from_env(creds, err);
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

int backup_key_from_secret(struct kube_client *kube, const char *ns, const char *name,
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
