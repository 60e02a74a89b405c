/* SPDX-License-Identifier: Apache-2.0 */
/* backup_strip.c - what a capture takes (the cluster recreates the rest) and the
 * runtime fields it removes so that stored objects are ready to create again. */
#include "backup/backup.h"

#include <stdio.h>
#include <string.h>

static bool eq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

bool backup_strip_skip_type(const char *group, const char *resource)
{
    static const struct {
        const char *group;
        const char *resource;
    } skip[] = {
        {"", "events"},
        {"events.k8s.io", "events"},
        {"", "endpoints"},
        {"discovery.k8s.io", "endpointslices"},
        {"coordination.k8s.io", "leases"},
    };
    size_t i;

    if (group == NULL || resource == NULL)
        return true;
    if (eq(group, "metrics.k8s.io"))
        return true;
    for (i = 0; i < CM_ARRAY_LEN(skip); i++) {
        if (eq(group, skip[i].group) && eq(resource, skip[i].resource))
            return true;
    }
    return false;
}

static bool controlled(const cJSON *obj)
{
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const cJSON *refs = cJSON_GetObjectItemCaseSensitive(md, "ownerReferences");
    const cJSON *r;

    cJSON_ArrayForEach(r, refs)
    {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "controller")))
            return true;
    }
    return false;
}

static const char *str_at(const cJSON *obj, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, a);

    if (b != NULL)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool backup_strip_skip(const char *group, const char *resource, const cJSON *obj)
{
    const cJSON *labels;

    if (backup_strip_skip_type(group, resource))
        return true;
    if (obj == NULL)
        return false;
    if ((eq(group, "") && eq(resource, "pods")) ||
        (eq(group, "apps") && eq(resource, "replicasets")) ||
        (eq(group, "apps") && eq(resource, "controllerrevisions")) ||
        (eq(group, "batch") && eq(resource, "jobs")))
        return controlled(obj);
    if (eq(group, "") && eq(resource, "configmaps"))
        return eq(str_at(obj, "metadata", "name"), "kube-root-ca.crt");
    if (eq(group, "") && eq(resource, "secrets"))
        return eq(str_at(obj, "type", NULL), "kubernetes.io/service-account-token");
    if (eq(group, "snapshot.storage.k8s.io") && eq(resource, "volumesnapshots")) {
        labels = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "metadata"),
                                                  "labels");
        return cJSON_GetObjectItemCaseSensitive(labels, BACKUP_LABEL_RP) != NULL;
    }
    return false;
}

static void drop(cJSON *parent, const char *key, const char *name, const char **stripped, size_t *n)
{
    cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(parent, key);

    if (v == NULL)
        return;
    cJSON_Delete(v);
    if (*n < BACKUP_STRIP_MAX)
        stripped[(*n)++] = name;
}

void backup_strip_object(cJSON *obj, const char *group, const char *kind, const char **stripped,
                         size_t *n)
{
    static const struct {
        const char *key;
        const char *name;
    } meta[] = {
        {"uid", "metadata.uid"},
        {"resourceVersion", "metadata.resourceVersion"},
        {"generation", "metadata.generation"},
        {"creationTimestamp", "metadata.creationTimestamp"},
        {"managedFields", "metadata.managedFields"},
        {"selfLink", "metadata.selfLink"},
        {"deletionTimestamp", "metadata.deletionTimestamp"},
        {"deletionGracePeriodSeconds", "metadata.deletionGracePeriodSeconds"},
        {"ownerReferences", "metadata.ownerReferences"},
    };
    cJSON *md;
    cJSON *spec;
    size_t i;

    *n = 0;
    if (!cJSON_IsObject(obj))
        return;
    md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    if (cJSON_IsObject(md)) {
        for (i = 0; i < CM_ARRAY_LEN(meta); i++)
            drop(md, meta[i].key, meta[i].name, stripped, n);
    }
    drop(obj, "status", "status", stripped, n);
    spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
    if (group == NULL || kind == NULL || !cJSON_IsObject(spec))
        return;
    if (eq(group, "") && eq(kind, "Service")) {
        const char *ip = str_at(spec, "clusterIP", NULL);
        cJSON *ports = cJSON_GetObjectItemCaseSensitive(spec, "ports");
        cJSON *p;
        bool had_node_port = false;

        if (!eq(ip, "None")) {
            drop(spec, "clusterIP", "spec.clusterIP", stripped, n);
            drop(spec, "clusterIPs", "spec.clusterIPs", stripped, n);
        }
        cJSON_ArrayForEach(p, ports)
        {
            cJSON *np = cJSON_DetachItemFromObjectCaseSensitive(p, "nodePort");

            if (np != NULL) {
                cJSON_Delete(np);
                had_node_port = true;
            }
        }
        if (had_node_port && *n < BACKUP_STRIP_MAX)
            stripped[(*n)++] = "spec.ports[].nodePort";
        drop(spec, "healthCheckNodePort", "spec.healthCheckNodePort", stripped, n);
    } else if (eq(group, "") && eq(kind, "PersistentVolumeClaim") && cJSON_IsObject(md)) {
        cJSON *ann = cJSON_GetObjectItemCaseSensitive(md, "annotations");

        if (cJSON_IsObject(ann)) {
            drop(ann, "pv.kubernetes.io/bind-completed",
                 "metadata.annotations.pv.kubernetes.io/bind-completed", stripped, n);
            drop(ann, "pv.kubernetes.io/bound-by-controller",
                 "metadata.annotations.pv.kubernetes.io/bound-by-controller", stripped, n);
            drop(ann, "volume.kubernetes.io/selected-node",
                 "metadata.annotations.volume.kubernetes.io/selected-node", stripped, n);
        }
    } else if (eq(group, "") && eq(kind, "PersistentVolume")) {
        cJSON *ref = cJSON_GetObjectItemCaseSensitive(spec, "claimRef");

        if (cJSON_IsObject(ref)) {
            drop(ref, "uid", "spec.claimRef.uid", stripped, n);
            drop(ref, "resourceVersion", "spec.claimRef.resourceVersion", stripped, n);
        }
    }
}

static bool seg_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    size_t i;

    if (n == 0 || n > max || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c <= 0x20 || c >= 0x7f || c == '/' || c == '\\')
            return false;
    }
    return true;
}

int backup_strip_path(bool cluster, const char *group, const char *version, const char *resource,
                      const char *name, char *buf, size_t len)
{
    char natural[1100];
    int n;

    if (group == NULL || (group[0] != '\0' && !seg_ok(group, 253)) || !seg_ok(version, 63) ||
        !seg_ok(resource, 253) || !seg_ok(name, 253) || buf == NULL)
        return CM_EINVAL;
    n = snprintf(natural, sizeof(natural), "%s/%s/%s/%s/%s.json", cluster ? "cluster" : "resources",
                 group[0] ? group : "core", version, resource, name);
    if (n < 0 || (size_t)n >= sizeof(natural))
        return CM_ETOOBIG;
    if (n > 255) {
        /* Too long for the archive: a stable digest of the natural path instead; the
         * manifest still maps it to apiVersion, kind and name. */
        char hex[65];

        backup_sha256_hex(natural, (size_t)n, hex);
        n = snprintf(buf, len, "%s/_/%.32s.json", cluster ? "cluster" : "resources", hex);
    } else {
        n = snprintf(buf, len, "%s", natural);
    }
    if (n < 0 || (size_t)n >= len)
        return CM_ETOOBIG;
    return 0;
}
