/* SPDX-License-Identifier: Apache-2.0 */
/* restore_plan.c - pure restore planning over cJSON: dependency order, namespace
 * rewrite, dropping what the cluster assigns, and PVCs recreated from VolumeSnapshots. */
#include "backup/backup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- ranks ---- */

static const char *group_of(const char *api_version, char *buf, size_t len)
{
    const char *slash;

    if (api_version == NULL)
        return "";
    slash = strchr(api_version, '/');
    if (slash == NULL)
        return ""; /* "v1": the core group */
    snprintf(buf, len, "%.*s", (int)(slash - api_version), api_version);
    return buf;
}

/* Built-in groups: no dot (apps, batch, policy, autoscaling) or *.k8s.io. Anything else
 * (lockwarden.io, cert-manager.io, ...) is served by a CRD. */
static bool group_is_builtin(const char *g)
{
    size_t n = strlen(g);

    if (strchr(g, '.') == NULL)
        return true;
    return n > 7 && strcmp(g + n - 7, ".k8s.io") == 0;
}

enum backup_restore_rank backup_restore_rank_of(const char *api_version, const char *kind)
{
    static const struct {
        const char *kind;
        enum backup_restore_rank rank;
    } tab[] = {
        {"CustomResourceDefinition", BACKUP_RANK_CRD},
        {"StorageClass", BACKUP_RANK_CRD},
        {"VolumeSnapshotClass", BACKUP_RANK_CRD},
        {"Namespace", BACKUP_RANK_NAMESPACE},
        {"ServiceAccount", BACKUP_RANK_SERVICEACCOUNT},
        {"ClusterRole", BACKUP_RANK_RBAC},
        {"ClusterRoleBinding", BACKUP_RANK_RBAC},
        {"Role", BACKUP_RANK_RBAC},
        {"RoleBinding", BACKUP_RANK_RBAC},
        {"Secret", BACKUP_RANK_SECRET},
        {"ConfigMap", BACKUP_RANK_CONFIGMAP},
        {"LimitRange", BACKUP_RANK_CONFIGMAP},
        {"ResourceQuota", BACKUP_RANK_CONFIGMAP},
        {"VolumeSnapshotContent", BACKUP_RANK_SNAPSHOT},
        {"VolumeSnapshot", BACKUP_RANK_SNAPSHOT},
        {"PersistentVolume", BACKUP_RANK_SNAPSHOT},
        {"PersistentVolumeClaim", BACKUP_RANK_PVC},
        {"Service", BACKUP_RANK_SERVICE},
        {"Deployment", BACKUP_RANK_WORKLOAD},
        {"StatefulSet", BACKUP_RANK_WORKLOAD},
        {"DaemonSet", BACKUP_RANK_WORKLOAD},
        {"ReplicaSet", BACKUP_RANK_WORKLOAD},
        {"Job", BACKUP_RANK_WORKLOAD},
        {"CronJob", BACKUP_RANK_WORKLOAD},
        {"Pod", BACKUP_RANK_WORKLOAD},
        {"ReplicationController", BACKUP_RANK_WORKLOAD},
    };
    char gb[256];
    const char *g = group_of(api_version, gb, sizeof(gb));
    size_t i;

    if (kind == NULL)
        return BACKUP_RANK_CUSTOM;
    if (!group_is_builtin(g))
        return BACKUP_RANK_CUSTOM;
    for (i = 0; i < CM_ARRAY_LEN(tab); i++) {
        if (strcmp(kind, tab[i].kind) == 0)
            return tab[i].rank;
    }
    return BACKUP_RANK_OTHER;
}

const char *backup_restore_rank_name(enum backup_restore_rank r)
{
    static const char *const names[BACKUP_RANK_COUNT_] = {
        "crd",      "namespace", "serviceaccount", "rbac",  "secret",   "configmap",
        "snapshot", "pvc",       "service",        "other", "workload", "custom"};

    return (unsigned)r < BACKUP_RANK_COUNT_ ? names[r] : "?";
}

/* ---- namespace map ---- */

void backup_restore_nsmap_init(struct backup_restore_nsmap *m)
{
    memset(m, 0, sizeof(*m));
}

int backup_restore_nsmap_add(struct backup_restore_nsmap *m, const char *spec, struct cm_err *err)
{
    const char *eq = spec != NULL ? strchr(spec, '=') : NULL;
    size_t i;
    size_t nf;
    size_t nt;

    if (eq == NULL)
        return cm_err_set(err, CM_EINVAL, "--namespace-map: want OLD=NEW, got \"%.64s\"",
                          spec != NULL ? spec : "");
    nf = (size_t)(eq - spec);
    nt = strlen(eq + 1);
    if (!backup_ns_valid(spec, nf) || !backup_ns_valid(eq + 1, nt))
        return cm_err_set(err, CM_EINVAL,
                          "--namespace-map \"%.140s\": both sides must be namespace names "
                          "(lowercase letters, digits, '-', at most 63)",
                          spec);
    for (i = 0; i < m->n; i++) {
        if (strlen(m->pairs[i].from) == nf && memcmp(m->pairs[i].from, spec, nf) == 0)
            return cm_err_set(err, CM_EINVAL, "--namespace-map: %.*s is mapped twice", (int)nf,
                              spec);
    }
    if (m->n >= BACKUP_RESTORE_MAX_NSMAP)
        return cm_err_set(err, CM_ETOOBIG, "--namespace-map: more than %d mappings",
                          BACKUP_RESTORE_MAX_NSMAP);
    memcpy(m->pairs[m->n].from, spec, nf);
    m->pairs[m->n].from[nf] = '\0';
    memcpy(m->pairs[m->n].to, eq + 1, nt + 1);
    m->n++;
    return 0;
}

const char *backup_restore_nsmap_apply(const struct backup_restore_nsmap *m, const char *ns)
{
    size_t i;

    if (m == NULL || ns == NULL)
        return ns;
    for (i = 0; i < m->n; i++) {
        if (strcmp(m->pairs[i].from, ns) == 0)
            return m->pairs[i].to;
    }
    return ns;
}

/* ---- sanitising ---- */

static const char *str_of(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Replaces (or adds) the string member k of o. Returns 0 or CM_ENOMEM. */
static int set_str(cJSON *o, const char *k, const char *v)
{
    cJSON *s = cJSON_CreateString(v);

    if (s == NULL)
        return CM_ENOMEM;
    if (cJSON_GetObjectItemCaseSensitive(o, k) != NULL) {
        if (!cJSON_ReplaceItemInObjectCaseSensitive(o, k, s)) {
            cJSON_Delete(s);
            return CM_ENOMEM;
        }
        return 0;
    }
    if (!cJSON_AddItemToObject(o, k, s)) {
        cJSON_Delete(s);
        return CM_ENOMEM;
    }
    return 0;
}

static void drop_service_fields(cJSON *spec)
{
    const char *ip = str_of(spec, "clusterIP");
    cJSON *ports = cJSON_GetObjectItemCaseSensitive(spec, "ports");
    cJSON *p;

    /* A headless Service ("None") keeps clusterIP: it is what makes it headless. */
    if (ip == NULL || strcmp(ip, "None") != 0) {
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "clusterIP");
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "clusterIPs");
    }
    cJSON_DeleteItemFromObjectCaseSensitive(spec, "healthCheckNodePort");
    cJSON_ArrayForEach(p, ports)
    {
        if (cJSON_IsObject(p))
            cJSON_DeleteItemFromObjectCaseSensitive(p, "nodePort");
    }
}

static int pvc_from_snapshot(cJSON *obj, cJSON *spec, const char *snapshot_name)
{
    static const char *const binding_annotations[] = {
        "pv.kubernetes.io/bind-completed", "pv.kubernetes.io/bound-by-controller",
        "volume.kubernetes.io/selected-node", "volume.beta.kubernetes.io/storage-provisioner",
        "volume.kubernetes.io/storage-provisioner"};
    cJSON *ann = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "metadata"),
                                                  "annotations");
    cJSON *ds = NULL;
    size_t i;

    for (i = 0; i < CM_ARRAY_LEN(binding_annotations); i++)
        cJSON_DeleteItemFromObjectCaseSensitive(ann, binding_annotations[i]);
    if (spec == NULL)
        return 0;
    /* The volume is provisioned anew (from the snapshot, or empty); the old PV's name
     * would bind the claim to a volume that is not there. */
    cJSON_DeleteItemFromObjectCaseSensitive(spec, "volumeName");
    if (snapshot_name == NULL)
        return 0;
    cJSON_DeleteItemFromObjectCaseSensitive(spec, "dataSource");
    cJSON_DeleteItemFromObjectCaseSensitive(spec, "dataSourceRef");
    ds = cJSON_CreateObject();
    if (ds == NULL || set_str(ds, "apiGroup", "snapshot.storage.k8s.io") != 0 ||
        set_str(ds, "kind", "VolumeSnapshot") != 0 || set_str(ds, "name", snapshot_name) != 0 ||
        !cJSON_AddItemToObject(spec, "dataSource", ds)) {
        cJSON_Delete(ds);
        return CM_ENOMEM;
    }
    return 0;
}

static int rewrite_subjects(cJSON *obj, const struct backup_restore_nsmap *m)
{
    cJSON *subjects = cJSON_GetObjectItemCaseSensitive(obj, "subjects");
    cJSON *s;

    cJSON_ArrayForEach(s, subjects)
    {
        const char *ns = str_of(s, "namespace");
        const char *to = backup_restore_nsmap_apply(m, ns);

        if (ns != NULL && to != ns && set_str(s, "namespace", to) != 0)
            return CM_ENOMEM;
    }
    return 0;
}

int backup_restore_sanitize(cJSON *obj, const struct backup_restore_nsmap *m,
                            const char *snapshot_name, struct cm_err *err)
{
    static const char *const meta_drop[] = {"uid",
                                            "resourceVersion",
                                            "generation",
                                            "creationTimestamp",
                                            "managedFields",
                                            "selfLink",
                                            "deletionTimestamp",
                                            "deletionGracePeriodSeconds",
                                            "ownerReferences"};
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const char *kind = str_of(obj, "kind");
    const char *api = str_of(obj, "apiVersion");
    const char *name = str_of(meta, "name");
    const char *ns;
    cJSON *spec;
    size_t i;
    bool core;

    if (!cJSON_IsObject(obj) || kind == NULL || api == NULL || !cJSON_IsObject(meta) ||
        name == NULL || name[0] == '\0')
        return cm_err_set(err, CM_EINVAL,
                          "restore: an object needs apiVersion, kind and metadata.name");
    core = strcmp(api, "v1") == 0;
    for (i = 0; i < CM_ARRAY_LEN(meta_drop); i++)
        cJSON_DeleteItemFromObjectCaseSensitive(meta, meta_drop[i]);
    cJSON_DeleteItemFromObjectCaseSensitive(obj, "status");
    spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
    if (!cJSON_IsObject(spec))
        spec = NULL;

    ns = str_of(meta, "namespace");
    if (ns != NULL && ns[0] != '\0') {
        const char *to = backup_restore_nsmap_apply(m, ns);

        if (to != ns && set_str(meta, "namespace", to) != 0)
            goto oom;
    }
    if (core && strcmp(kind, "Namespace") == 0) {
        const char *to = backup_restore_nsmap_apply(m, name);
        cJSON *labels = cJSON_GetObjectItemCaseSensitive(meta, "labels");

        if (to != name) {
            if (set_str(meta, "name", to) != 0)
                goto oom;
            if (str_of(labels, "kubernetes.io/metadata.name") != NULL &&
                set_str(labels, "kubernetes.io/metadata.name", to) != 0)
                goto oom;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(obj, "spec"); /* finalizers: set anew */
    } else if (core && strcmp(kind, "Service") == 0 && spec != NULL) {
        drop_service_fields(spec);
    } else if (core && strcmp(kind, "Pod") == 0 && spec != NULL) {
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "nodeName");
    } else if (core && strcmp(kind, "PersistentVolumeClaim") == 0) {
        if (pvc_from_snapshot(obj, spec, snapshot_name) != 0)
            goto oom;
    } else if (strcmp(api, "rbac.authorization.k8s.io/v1") == 0 &&
               (strcmp(kind, "RoleBinding") == 0 || strcmp(kind, "ClusterRoleBinding") == 0)) {
        if (rewrite_subjects(obj, m) != 0)
            goto oom;
    }
    return 0;
oom:
    return cm_err_set(err, CM_ENOMEM, "restore: out of memory rewriting %s %s", kind, name);
}

bool backup_restore_is_derived(const cJSON *obj, const char **why)
{
    const char *kind = str_of(obj, "kind");
    const cJSON *owners = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "ownerReferences");
    const cJSON *o;
    const char *dummy;

    if (why == NULL)
        why = &dummy;
    if (kind != NULL && (strcmp(kind, "Event") == 0 || strcmp(kind, "Endpoints") == 0 ||
                         strcmp(kind, "EndpointSlice") == 0)) {
        *why = "recreated by the cluster";
        return true;
    }
    cJSON_ArrayForEach(o, owners)
    {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "controller"))) {
            *why = "recreated by its controller";
            return true;
        }
    }
    *why = "";
    return false;
}

void backup_restore_snapshot_name(const char *point_id, const char *ns, const char *pvc, char *buf,
                                  size_t len)
{
    char id[BACKUP_RESTORE_NAME_MAX + 1];
    size_t i;
    int n;

    /* Object names are lowercase: the id's 'T' and 'Z' fold down. */
    snprintf(id, sizeof(id), "%s", point_id != NULL ? point_id : "");
    for (i = 0; id[i] != '\0'; i++) {
        if (id[i] >= 'A' && id[i] <= 'Z')
            id[i] = (char)(id[i] - 'A' + 'a');
    }
    n = snprintf(buf, len, "lw-r-%s%s%s-%s", ns != NULL ? ns : "", ns != NULL ? "-" : "", id,
                 pvc != NULL ? pvc : "");
    if (n >= 0 && len > BACKUP_RESTORE_NAME_MAX && (size_t)n > BACKUP_RESTORE_NAME_MAX)
        buf[BACKUP_RESTORE_NAME_MAX] = '\0';
    /* A cut must not leave a trailing '-' (names end alphanumeric). */
    for (i = strlen(buf); i > 0 && buf[i - 1] == '-'; i--)
        buf[i - 1] = '\0';
}

int backup_restore_snapshot_objects(const struct backup_restore_snapref *ref, const char *ns,
                                    const char *name, const char *content_name, cJSON **content,
                                    cJSON **snap, struct cm_err *err)
{
    cJSON *c = NULL;
    cJSON *s = NULL;
    cJSON *meta;
    cJSON *spec;
    cJSON *src;
    cJSON *vref;
    cJSON *labels;
    int rc = CM_ENOMEM;

    if (ref->snapshot_handle == NULL || ref->snapshot_handle[0] == '\0' || ref->driver == NULL ||
        ref->driver[0] == '\0')
        return cm_err_set(err, CM_EINVAL, "PVC %s: its snapshot's CSI handle or driver is unknown",
                          ref->pvc != NULL ? ref->pvc : "?");
    c = cJSON_CreateObject();
    s = cJSON_CreateObject();
    if (c == NULL || s == NULL)
        goto cleanup;
    /* Pre-provisioned content: it imports the existing CSI snapshot and is Retain, so
     * deleting the clone never deletes the original snapshot's data. */
    if (set_str(c, "apiVersion", "snapshot.storage.k8s.io/v1") != 0 ||
        set_str(c, "kind", "VolumeSnapshotContent") != 0)
        goto cleanup;
    meta = cJSON_AddObjectToObject(c, "metadata");
    spec = cJSON_AddObjectToObject(c, "spec");
    if (meta == NULL || spec == NULL || set_str(meta, "name", content_name) != 0)
        goto cleanup;
    labels = cJSON_AddObjectToObject(meta, "labels");
    if (labels == NULL || set_str(labels, "lockwarden.io/restored-pvc", ref->pvc) != 0)
        goto cleanup;
    if (set_str(spec, "deletionPolicy", "Retain") != 0 || set_str(spec, "driver", ref->driver) != 0)
        goto cleanup;
    if (ref->snapshot_class != NULL && ref->snapshot_class[0] != '\0' &&
        set_str(spec, "volumeSnapshotClassName", ref->snapshot_class) != 0)
        goto cleanup;
    src = cJSON_AddObjectToObject(spec, "source");
    vref = cJSON_AddObjectToObject(spec, "volumeSnapshotRef");
    if (src == NULL || vref == NULL || set_str(src, "snapshotHandle", ref->snapshot_handle) != 0 ||
        set_str(vref, "name", name) != 0 || set_str(vref, "namespace", ns) != 0)
        goto cleanup;

    if (set_str(s, "apiVersion", "snapshot.storage.k8s.io/v1") != 0 ||
        set_str(s, "kind", "VolumeSnapshot") != 0)
        goto cleanup;
    meta = cJSON_AddObjectToObject(s, "metadata");
    spec = cJSON_AddObjectToObject(s, "spec");
    if (meta == NULL || spec == NULL || set_str(meta, "name", name) != 0 ||
        set_str(meta, "namespace", ns) != 0)
        goto cleanup;
    labels = cJSON_AddObjectToObject(meta, "labels");
    if (labels == NULL || set_str(labels, "lockwarden.io/restored-pvc", ref->pvc) != 0)
        goto cleanup;
    if (ref->snapshot_class != NULL && ref->snapshot_class[0] != '\0' &&
        set_str(spec, "volumeSnapshotClassName", ref->snapshot_class) != 0)
        goto cleanup;
    src = cJSON_AddObjectToObject(spec, "source");
    if (src == NULL || set_str(src, "volumeSnapshotContentName", content_name) != 0)
        goto cleanup;
    *content = c;
    *snap = s;
    return 0;
cleanup:
    cJSON_Delete(c);
    cJSON_Delete(s);
    return cm_err_set(err, rc, "restore: out of memory building snapshot objects");
}

/* ---- ordering ---- */

int backup_restore_sort(cJSON **objs, size_t n)
{
    size_t start[BACKUP_RANK_COUNT_ + 1] = {0};
    unsigned char *rank = NULL;
    cJSON **tmp = NULL;
    size_t i;

    if (n < 2)
        return 0;
    rank = cm_malloc(n);
    tmp = cm_malloc(n * sizeof(*tmp));
    if (rank == NULL || tmp == NULL) {
        cm_free(rank);
        cm_free(tmp);
        return CM_ENOMEM;
    }
    /* Counting sort on the rank: stable (capture order within a rank) and linear. */
    for (i = 0; i < n; i++) {
        rank[i] = (unsigned char)backup_restore_rank_of(str_of(objs[i], "apiVersion"),
                                                        str_of(objs[i], "kind"));
        start[rank[i] + 1]++;
    }
    for (i = 1; i <= BACKUP_RANK_COUNT_; i++)
        start[i] += start[i - 1];
    for (i = 0; i < n; i++)
        tmp[start[rank[i]]++] = objs[i];
    memcpy(objs, tmp, n * sizeof(*objs));
    cm_free(rank);
    cm_free(tmp);
    return 0;
}
