/* SPDX-License-Identifier: Apache-2.0 */
/* certs_cluster.c - the in-cluster side of `lockwarden certs` for the chart's renewal
 * CronJob: read and write the TLS Secret, and set caBundle on every webhook of a
 * Validating/MutatingWebhookConfiguration, through the Kubernetes client. */
#include "certs/certs.h"
#include "backup/kube/kube.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* The Secret's keys and the files they mirror: the standard kubernetes.io/tls pair,
 * the CA certificate, and the CA key (kept so that a renewal can sign with the same CA
 * and leave caBundle unchanged). */
static const struct {
    const char *key;
    unsigned mode;
} secret_files[] = {{"tls.crt", 0644}, {"tls.key", 0600}, {"ca.crt", 0644}, {"ca.key", 0600}};

#define UPDATE_ATTEMPTS 5

static bool is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static struct kube_ref secret_ref(const char *ns, const char *name)
{
    struct kube_ref r = {"v1", "secrets", ns, name};

    return r;
}

int certs_secret_pull(struct kube_client *c, const char *ns, const char *name, const char *dir,
                      bool *found, struct cm_err *err)
{
    struct kube_ref ref = secret_ref(ns, name);
    cJSON *secret = NULL;
    const cJSON *data;
    size_t i;
    int rc;

    *found = false;
    rc = kube_get(c, &ref, &secret, err);
    if (rc == CM_ENOENT) {
        cm_err_clear(err);
        return 0;
    }
    if (rc != 0)
        return rc;
    data = cJSON_GetObjectItemCaseSensitive(secret, "data");
    if (mkdir(dir, 0700) != 0 && !is_dir(dir)) {
        rc = cm_err_set(err, CM_EIO, "cannot create %s", dir);
        goto cleanup;
    }
    for (i = 0; i < CM_ARRAY_LEN(secret_files); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, secret_files[i].key);
        unsigned char *raw = NULL;
        size_t len = 0;
        char path[4096];

        if (!cJSON_IsString(v))
            continue; /* a Secret without ca.key: the renewal makes a new CA */
        if (cm_base64_decode(v->valuestring, strlen(v->valuestring), &raw, &len) != 0) {
            rc = cm_err_set(err, CM_EPROTO, "secret %s/%s: %s is not base64", ns, name,
                            secret_files[i].key);
            goto cleanup;
        }
        (void)snprintf(path, sizeof(path), "%s/%s", dir, secret_files[i].key);
        rc = cm_fs_write_atomic(path, raw, len, secret_files[i].mode, err);
        cm_free_secure(raw, len);
        if (rc != 0)
            goto cleanup;
    }
    *found = true;
cleanup:
    cJSON_Delete(secret);
    return rc;
}

/* {"tls.crt": base64, ...} from the files in dir. */
static int data_from_files(const char *dir, cJSON **out, struct cm_err *err)
{
    cJSON *data = cJSON_CreateObject();
    size_t i;
    int rc = 0;

    if (data == NULL)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    for (i = 0; rc == 0 && i < CM_ARRAY_LEN(secret_files); i++) {
        char path[4096];
        char *buf = NULL;
        size_t len = 0;
        char *b64;

        (void)snprintf(path, sizeof(path), "%s/%s", dir, secret_files[i].key);
        rc = cm_fs_read_file(path, CERTS_MAX_FILE, &buf, &len, err);
        if (rc != 0)
            break;
        b64 = cm_base64_encode(buf, len, NULL);
        cm_free_secure(buf, len);
        if (b64 == NULL || cJSON_AddStringToObject(data, secret_files[i].key, b64) == NULL)
            rc = cm_err_set(err, CM_ENOMEM, "out of memory");
        if (b64 != NULL)
            cm_free_secure(b64, strlen(b64));
    }
    if (rc != 0) {
        cJSON_Delete(data);
        return rc;
    }
    *out = data;
    return 0;
}

int certs_secret_push(struct kube_client *c, const char *ns, const char *name, const char *dir,
                      bool *changed, struct cm_err *err)
{
    struct kube_ref ref = secret_ref(ns, name);
    struct kube_ref coll = secret_ref(ns, NULL);
    cJSON *data = NULL;
    int attempt;
    int rc;

    *changed = false;
    rc = data_from_files(dir, &data, err);
    if (rc != 0)
        return rc;
    for (attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
        cJSON *cur = NULL;
        cJSON *obj;
        cJSON *copy;

        rc = kube_get(c, &ref, &cur, err);
        if (rc == CM_ENOENT) {
            cm_err_clear(err);
            obj = cJSON_CreateObject();
            copy = cJSON_Duplicate(data, 1);
            if (obj == NULL || copy == NULL ||
                cJSON_AddStringToObject(obj, "apiVersion", "v1") == NULL ||
                cJSON_AddStringToObject(obj, "kind", "Secret") == NULL ||
                cJSON_AddStringToObject(obj, "type", "kubernetes.io/tls") == NULL) {
                cJSON_Delete(obj);
                cJSON_Delete(copy);
                rc = cm_err_set(err, CM_ENOMEM, "out of memory");
                break;
            }
            {
                cJSON *meta = cJSON_AddObjectToObject(obj, "metadata");

                if (meta == NULL || cJSON_AddStringToObject(meta, "name", name) == NULL ||
                    cJSON_AddStringToObject(meta, "namespace", ns) == NULL) {
                    cJSON_Delete(obj);
                    cJSON_Delete(copy);
                    rc = cm_err_set(err, CM_ENOMEM, "out of memory");
                    break;
                }
            }
            cJSON_AddItemToObject(obj, "data", copy);
            rc = kube_create(c, &coll, obj, NULL, err);
            cJSON_Delete(obj);
            if (rc == CM_EEXIST)
                continue; /* created meanwhile: update it */
            *changed = rc == 0;
            break;
        }
        if (rc != 0)
            break;
        if (cJSON_Compare(cJSON_GetObjectItemCaseSensitive(cur, "data"), data, 1)) {
            cJSON_Delete(cur);
            break; /* already up to date */
        }
        copy = cJSON_Duplicate(data, 1);
        if (copy == NULL) {
            cJSON_Delete(cur);
            rc = cm_err_set(err, CM_ENOMEM, "out of memory");
            break;
        }
        /* Other keys an operator added stay; ours are replaced. resourceVersion stays,
         * so a concurrent writer makes this a 409 (CM_EAGAIN) and we re-read. */
        {
            cJSON *d = cJSON_GetObjectItemCaseSensitive(cur, "data");
            cJSON *item;
            cJSON *next;

            if (!cJSON_IsObject(d)) {
                cJSON_DeleteItemFromObjectCaseSensitive(cur, "data");
                cJSON_AddItemToObject(cur, "data", copy);
            } else {
                for (item = copy->child; item != NULL; item = next) {
                    next = item->next;
                    cJSON_DeleteItemFromObjectCaseSensitive(d, item->string);
                    cJSON_AddItemToObject(d, item->string, cJSON_DetachItemViaPointer(copy, item));
                }
                cJSON_Delete(copy);
            }
        }
        rc = kube_update(c, &ref, cur, NULL, err);
        cJSON_Delete(cur);
        if (rc == CM_EAGAIN)
            continue;
        *changed = rc == 0;
        break;
    }
    if (attempt == UPDATE_ATTEMPTS)
        rc = cm_err_set(err, CM_EAGAIN, "secret %s/%s: still conflicting after %d attempts", ns,
                        name, UPDATE_ATTEMPTS);
    cJSON_Delete(data);
    return rc;
}

int certs_webhook_set_ca(struct kube_client *c, bool mutating, const char *name,
                         const char *ca_bundle, size_t *changed, struct cm_err *err)
{
    struct kube_ref ref = {
        "admissionregistration.k8s.io/v1",
        mutating ? "mutatingwebhookconfigurations" : "validatingwebhookconfigurations", NULL, name};
    int attempt;
    int rc = 0;

    *changed = 0;
    for (attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
        cJSON *cfg = NULL;
        cJSON *hooks;
        cJSON *h;
        size_t n = 0;

        rc = kube_get(c, &ref, &cfg, err);
        if (rc != 0)
            return rc;
        hooks = cJSON_GetObjectItemCaseSensitive(cfg, "webhooks");
        cJSON_ArrayForEach(h, hooks)
        {
            cJSON *cc = cJSON_GetObjectItemCaseSensitive(h, "clientConfig");
            const cJSON *cur = cJSON_GetObjectItemCaseSensitive(cc, "caBundle");

            if (!cJSON_IsObject(cc))
                continue;
            if (cJSON_IsString(cur) && strcmp(cur->valuestring, ca_bundle) == 0)
                continue;
            cJSON_DeleteItemFromObjectCaseSensitive(cc, "caBundle");
            if (cJSON_AddStringToObject(cc, "caBundle", ca_bundle) == NULL) {
                cJSON_Delete(cfg);
                return cm_err_set(err, CM_ENOMEM, "out of memory");
            }
            n++;
        }
        if (n == 0) {
            cJSON_Delete(cfg);
            return 0;
        }
        rc = kube_update(c, &ref, cfg, NULL, err);
        cJSON_Delete(cfg);
        if (rc == CM_EAGAIN)
            continue; /* changed meanwhile: re-read */
        if (rc == 0)
            *changed = n;
        return rc;
    }
    return cm_err_set(err, CM_EAGAIN, "%s %s: still conflicting after %d attempts", ref.resource,
                      name, UPDATE_ATTEMPTS);
}
