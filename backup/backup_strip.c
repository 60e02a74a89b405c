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

static bool controlled(const struct kube_jt *t, uint32_t obj)
{
    uint32_t refs = kube_jt_get(t, kube_jt_get(t, obj, "metadata"), "ownerReferences");
    uint32_t r;

    if (refs == 0 || t->n[refs].type != KUBE_JT_ARRAY)
        return false;
    for (r = kube_jt_first(t, refs); r != 0; r = t->n[r].next) {
        uint32_t c = kube_jt_get(t, r, "controller");

        if (c != 0 && t->n[c].type == KUBE_JT_TRUE)
            return true;
    }
    return false;
}

bool backup_strip_skip(const char *group, const char *resource, const struct kube_jt *t,
                       uint32_t obj)
{
    uint32_t md;

    if (backup_strip_skip_type(group, resource))
        return true;
    if (t == NULL || obj >= t->count)
        return false;
    md = kube_jt_get(t, obj, "metadata");
    if ((eq(group, "") && eq(resource, "pods")) ||
        (eq(group, "apps") && eq(resource, "replicasets")) ||
        (eq(group, "apps") && eq(resource, "controllerrevisions")) ||
        (eq(group, "batch") && eq(resource, "jobs")))
        return controlled(t, obj);
    if (eq(group, "") && eq(resource, "configmaps"))
        return kube_jt_str_eq(t, kube_jt_get(t, md, "name"), "kube-root-ca.crt");
    if (eq(group, "") && eq(resource, "secrets"))
        return kube_jt_str_eq(t, kube_jt_get(t, obj, "type"),
                              "kubernetes.io/service-account-token");
    if (eq(group, "snapshot.storage.k8s.io") && eq(resource, "volumesnapshots"))
        return kube_jt_get(t, kube_jt_get(t, md, "labels"), BACKUP_LABEL_RP) != 0;
    return false;
}

/* Removes member key of object parent (every occurrence: the text is stored as
 * served, so a repeated key must not survive) and returns whether there was one.
 * parent is a node the caller found (0 is the root, not "absent", here). */
static bool drop_key(struct kube_jt *t, uint32_t parent, const char *key)
{
    uint32_t c;
    bool any = false;

    if (t->n[parent].type != KUBE_JT_OBJECT)
        return false;
    for (c = kube_jt_first(t, parent); c != 0; c = t->n[c].next) {
        if ((t->n[c].flags & KUBE_JT_F_DROP) == 0 && kube_jt_key_eq(t, c, key)) {
            kube_jt_drop(t, c);
            any = true;
        }
    }
    return any;
}

/* drop_key() that records name. */
static void drop(struct kube_jt *t, uint32_t parent, const char *key, const char *name,
                 const char **stripped, size_t *n)
{
    if (drop_key(t, parent, key) && *n < BACKUP_STRIP_MAX)
        stripped[(*n)++] = name;
}

void backup_strip_object(struct kube_jt *t, uint32_t obj, const char *group, const char *kind,
                         const char **stripped, size_t *n)
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
    uint32_t md, spec;
    size_t i;

    *n = 0;
    if (t == NULL || obj >= t->count || t->n[obj].type != KUBE_JT_OBJECT)
        return;
    md = kube_jt_get(t, obj, "metadata");
    if (md != 0 && t->n[md].type == KUBE_JT_OBJECT) {
        for (i = 0; i < CM_ARRAY_LEN(meta); i++)
            drop(t, md, meta[i].key, meta[i].name, stripped, n);
    }
    drop(t, obj, "status", "status", stripped, n);
    spec = kube_jt_get(t, obj, "spec");
    if (group == NULL || kind == NULL || spec == 0 || t->n[spec].type != KUBE_JT_OBJECT)
        return;
    if (eq(group, "") && eq(kind, "Service")) {
        uint32_t ports = kube_jt_get(t, spec, "ports");
        uint32_t p;
        bool had_node_port = false;

        if (!kube_jt_str_eq(t, kube_jt_get(t, spec, "clusterIP"), "None")) {
            drop(t, spec, "clusterIP", "spec.clusterIP", stripped, n);
            drop(t, spec, "clusterIPs", "spec.clusterIPs", stripped, n);
        }
        for (p = ports != 0 ? kube_jt_first(t, ports) : 0; p != 0; p = t->n[p].next)
            had_node_port |= drop_key(t, p, "nodePort");
        if (had_node_port && *n < BACKUP_STRIP_MAX)
            stripped[(*n)++] = "spec.ports[].nodePort";
        drop(t, spec, "healthCheckNodePort", "spec.healthCheckNodePort", stripped, n);
    } else if (eq(group, "") && eq(kind, "PersistentVolumeClaim") && md != 0) {
        uint32_t ann = kube_jt_get(t, md, "annotations");

        if (ann != 0 && t->n[ann].type == KUBE_JT_OBJECT) {
            drop(t, ann, "pv.kubernetes.io/bind-completed",
                 "metadata.annotations.pv.kubernetes.io/bind-completed", stripped, n);
            drop(t, ann, "pv.kubernetes.io/bound-by-controller",
                 "metadata.annotations.pv.kubernetes.io/bound-by-controller", stripped, n);
            drop(t, ann, "volume.kubernetes.io/selected-node",
                 "metadata.annotations.volume.kubernetes.io/selected-node", stripped, n);
        }
    } else if (eq(group, "") && eq(kind, "PersistentVolume")) {
        uint32_t ref = kube_jt_get(t, spec, "claimRef");

        if (ref != 0 && t->n[ref].type == KUBE_JT_OBJECT) {
            drop(t, ref, "uid", "spec.claimRef.uid", stripped, n);
            drop(t, ref, "resourceVersion", "spec.claimRef.resourceVersion", stripped, n);
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
