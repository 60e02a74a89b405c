/* SPDX-License-Identifier: Apache-2.0 */
/* restore_apply.c - applies a verified restore point to a cluster in dependency order
 * and reports every object as created, updated, skipped, failed or planned. */
#include "backup/backup.h"
#include "backup/kube/kube.h"

#include <stdio.h>
#include <string.h>

struct apply {
    struct kube_client *kc;
    struct kube_discovery *disc;
    const struct backup_restore_point *rp;
    const struct backup_restore_opts *o;
    struct backup_restore_result *res;
    const char *src_ns;
    const char *dst_ns;
    bool crd_created; /* discovery must be refreshed before custom resources */
    cJSON **objs;     /* the plan (for a dry run's CRD lookups) */
    size_t n_objs;
    /* Per manifest snapshot: the dataSource name its PVC gets, or why it has none. */
    char (*snap_name)[BACKUP_RESTORE_NAME_MAX + 1];
    char (*snap_fail)[448];
};

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *meta_str(const cJSON *o, const char *k)
{
    return jstr(cJSON_GetObjectItemCaseSensitive(o, "metadata"), k);
}

static const char *nz(const char *s)
{
    return s != NULL ? s : "";
}

static int report(struct apply *a, const cJSON *obj, enum backup_restore_status st,
                  const char *detail)
{
    const char *ns = meta_str(obj, "namespace");
    int rc = backup_restore_result_add(a->res, jstr(obj, "apiVersion"), jstr(obj, "kind"), ns,
                                       meta_str(obj, "name"), st, detail);

    cm_log(st == BACKUP_RESTORE_FAILED ? CM_LOG_WARN : CM_LOG_DEBUG, "restore", "restore item",
           CM_LS("kind", jstr(obj, "kind")), CM_LS("ns", ns), CM_LS("name", meta_str(obj, "name")),
           CM_LS("op", backup_restore_status_name(st)), CM_LS("err", detail));
    return rc;
}

/* The resource type serving obj; refreshes discovery once after CRDs were created. */
static const struct kube_resource *resource_of(struct apply *a, const cJSON *obj,
                                               struct cm_err *err)
{
    const char *api = jstr(obj, "apiVersion");
    const char *kind = jstr(obj, "kind");
    const struct kube_resource *r = kube_discovery_find_kind(a->disc, api, kind);

    if (r == NULL && a->crd_created) {
        struct kube_discovery *d = NULL;

        a->crd_created = false;
        if (kube_discover(a->kc, &d, err) == 0) {
            kube_discovery_destroy(a->disc);
            a->disc = d;
            r = kube_discovery_find_kind(a->disc, api, kind);
        }
    }
    if (r == NULL)
        cm_err_set(err, CM_ENOENT, "the cluster does not serve %s %s", nz(api), nz(kind));
    return r;
}

/* True when the plan holds the CustomResourceDefinition that defines obj's kind (a dry
 * run does not create it, so discovery cannot know the kind yet). */
static bool crd_planned(const struct apply *a, const cJSON *obj)
{
    const char *api = nz(jstr(obj, "apiVersion"));
    const char *kind = nz(jstr(obj, "kind"));
    const char *slash = strchr(api, '/');
    size_t gl = slash != NULL ? (size_t)(slash - api) : 0;
    size_t i;

    for (i = 0; i < a->n_objs && gl > 0; i++) {
        const cJSON *spec = cJSON_GetObjectItemCaseSensitive(a->objs[i], "spec");
        const char *group = nz(jstr(spec, "group"));
        const char *ckind = nz(jstr(cJSON_GetObjectItemCaseSensitive(spec, "names"), "kind"));

        if (strcmp(nz(jstr(a->objs[i], "kind")), "CustomResourceDefinition") == 0 &&
            strlen(group) == gl && strncmp(group, api, gl) == 0 && strcmp(ckind, kind) == 0)
            return true;
    }
    return false;
}

/* Creates (or updates, or plans) one object. Returns 0 with *st set, or CM_ENOMEM. */
static int apply_one(struct apply *a, cJSON *obj, enum backup_restore_status *st, char *detail,
                     size_t dlen)
{
    const struct kube_resource *r;
    struct kube_ref ref;
    struct cm_err err;
    cJSON *cur = NULL;
    const char *name = meta_str(obj, "name");
    int attempt;
    int rc;

    cm_err_clear(&err);
    detail[0] = '\0';
    *st = BACKUP_RESTORE_FAILED;
    r = resource_of(a, obj, &err);
    if (r == NULL && a->o->dry_run && crd_planned(a, obj)) {
        *st = BACKUP_RESTORE_PLANNED;
        snprintf(detail, dlen, "would create (after its CustomResourceDefinition)");
        return 0;
    }
    if (r == NULL) {
        snprintf(detail, dlen, "%s", err.msg);
        return 0;
    }
    kube_resource_ref(r, r->namespaced ? meta_str(obj, "namespace") : NULL, NULL, &ref);
    if (a->o->dry_run) {
        ref.name = name;
        rc = kube_get(a->kc, &ref, &cur, &err);
        cJSON_Delete(cur);
        if (rc == 0) {
            *st = a->o->update_existing ? BACKUP_RESTORE_PLANNED : BACKUP_RESTORE_SKIPPED;
            snprintf(detail, dlen, "%s",
                     a->o->update_existing ? "exists: would update" : "already exists");
        } else if (rc == CM_ENOENT) {
            *st = BACKUP_RESTORE_PLANNED;
            snprintf(detail, dlen, "would create");
        } else {
            snprintf(detail, dlen, "%s", err.msg);
        }
        return rc == CM_ENOMEM ? rc : 0;
    }
    rc = kube_create(a->kc, &ref, obj, NULL, &err);
    if (rc == 0) {
        *st = BACKUP_RESTORE_CREATED;
        if (strcmp(r->kind, "CustomResourceDefinition") == 0)
            a->crd_created = true;
        return 0;
    }
    if (rc != CM_EEXIST) {
        snprintf(detail, dlen, "%s", err.msg);
        return rc == CM_ENOMEM ? rc : 0;
    }
    if (!a->o->update_existing) {
        *st = BACKUP_RESTORE_SKIPPED;
        snprintf(detail, dlen, "already exists");
        return 0;
    }
    /* --existing update: PUT with the live resourceVersion; a concurrent writer
     * (409 Conflict) gets one more read-modify-write before we report it. */
    ref.name = name;
    for (attempt = 0; attempt < 2; attempt++) {
        const char *rv;
        cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
        cJSON *v;

        rc = kube_get(a->kc, &ref, &cur, &err);
        if (rc != 0)
            break;
        rv = meta_str(cur, "resourceVersion");
        v = cJSON_CreateString(nz(rv));
        cJSON_Delete(cur);
        cur = NULL;
        if (v == NULL)
            return CM_ENOMEM;
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "resourceVersion");
        if (!cJSON_AddItemToObject(meta, "resourceVersion", v)) {
            cJSON_Delete(v);
            return CM_ENOMEM;
        }
        rc = kube_update(a->kc, &ref, obj, NULL, &err);
        if (rc != CM_EAGAIN)
            break;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "metadata"),
                                            "resourceVersion");
    if (rc == 0) {
        *st = BACKUP_RESTORE_UPDATED;
        return 0;
    }
    snprintf(detail, dlen, "exists; update failed: %s", err.msg);
    return rc == CM_ENOMEM ? rc : 0;
}

static int apply_and_report(struct apply *a, cJSON *obj, enum backup_restore_status *st)
{
    char detail[512];
    enum backup_restore_status s;
    int rc = apply_one(a, obj, &s, detail, sizeof(detail));

    if (rc != 0)
        return rc;
    if (st != NULL)
        *st = s;
    return report(a, obj, s, detail);
}

/* ---- the target namespace ---- */

static int ensure_namespace(struct apply *a, cJSON **objs, size_t n)
{
    cJSON *ns = NULL;
    size_t i;
    int rc;

    for (i = 0; i < n; i++) {
        /* Objects are not rewritten yet: compare the Namespace's mapped name. */
        if (objs[i] != NULL && strcmp(nz(jstr(objs[i], "kind")), "Namespace") == 0 &&
            strcmp(nz(backup_restore_nsmap_apply(a->o->nsmap, meta_str(objs[i], "name"))),
                   a->dst_ns) == 0)
            return 0; /* restored in order with the rest */
    }
    ns = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{}}");
    if (ns == NULL || cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(ns, "metadata"),
                                              "name", a->dst_ns) == NULL) {
        cJSON_Delete(ns);
        return CM_ENOMEM;
    }
    rc = apply_and_report(a, ns, NULL);
    cJSON_Delete(ns);
    return rc;
}

/* ---- snapshots ---- */

static int import_snapshot(struct apply *a, size_t i)
{
    const struct backup_mf_snapshot *s = &a->rp->mf->snapshots[i];
    struct backup_restore_snapref ref;
    struct kube_ref cref = {"snapshot.storage.k8s.io/v1", "volumesnapshotcontents", NULL,
                            s->volume_snapshot_content};
    struct cm_err err;
    cJSON *content = NULL;
    cJSON *vsc = NULL;
    cJSON *vs = NULL;
    enum backup_restore_status st1 = BACKUP_RESTORE_FAILED;
    enum backup_restore_status st2 = BACKUP_RESTORE_FAILED;
    char name[BACKUP_RESTORE_NAME_MAX + 1];
    char cname[BACKUP_RESTORE_NAME_MAX + 1];
    int rc;

    cm_err_clear(&err);
    backup_restore_snapshot_name(a->rp->mf->id, NULL, s->pvc, name, sizeof(name));
    backup_restore_snapshot_name(a->rp->mf->id, a->dst_ns, s->pvc, cname, sizeof(cname));
    rc = kube_get(a->kc, &cref, &content, &err);
    if (rc != 0) {
        snprintf(a->snap_fail[i], sizeof(a->snap_fail[i]),
                 "snapshot content %.80s of VolumeSnapshot %.63s/%.80s: %.150s",
                 s->volume_snapshot_content, a->src_ns, s->volume_snapshot, err.msg);
        return rc == CM_ENOMEM ? rc : 0;
    }
    memset(&ref, 0, sizeof(ref));
    ref.ns = a->src_ns;
    ref.pvc = s->pvc;
    ref.snapshot = s->volume_snapshot;
    ref.content = s->volume_snapshot_content;
    ref.driver = jstr(cJSON_GetObjectItemCaseSensitive(content, "spec"), "driver");
    ref.snapshot_handle =
        jstr(cJSON_GetObjectItemCaseSensitive(content, "status"), "snapshotHandle");
    ref.snapshot_class = s->volume_snapshot_class;
    ref.restore_size = s->restore_size;
    rc = backup_restore_snapshot_objects(&ref, a->dst_ns, name, cname, &vsc, &vs, &err);
    if (rc != 0) {
        snprintf(a->snap_fail[i], sizeof(a->snap_fail[i]), "%s", err.msg);
        goto cleanup;
    }
    rc = apply_and_report(a, vsc, &st1);
    if (rc == 0 && st1 != BACKUP_RESTORE_FAILED)
        rc = apply_and_report(a, vs, &st2);
    if (rc == 0 && st1 != BACKUP_RESTORE_FAILED && st2 != BACKUP_RESTORE_FAILED)
        snprintf(a->snap_name[i], sizeof(a->snap_name[i]), "%s", name);
    else if (rc == 0)
        snprintf(a->snap_fail[i], sizeof(a->snap_fail[i]),
                 "its VolumeSnapshot %.63s/%.253s could not be created", a->dst_ns, name);
cleanup:
    cJSON_Delete(content);
    cJSON_Delete(vsc);
    cJSON_Delete(vs);
    return rc == CM_ENOMEM ? rc : 0;
}

/* Decides each PVC's dataSource: the captured VolumeSnapshot itself when restoring in
 * place and it still exists, else an imported copy in the target namespace. */
static int prepare_snapshots(struct apply *a)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < a->rp->mf->n_snapshots && rc == 0; i++) {
        const struct backup_mf_snapshot *s = &a->rp->mf->snapshots[i];

        if (strcmp(a->src_ns, a->dst_ns) == 0) {
            struct kube_ref ref = {"snapshot.storage.k8s.io/v1", "volumesnapshots", a->src_ns,
                                   s->volume_snapshot};
            struct cm_err err;
            cJSON *vs = NULL;

            rc = kube_get(a->kc, &ref, &vs, &err);
            cJSON_Delete(vs);
            if (rc == 0) {
                snprintf(a->snap_name[i], sizeof(a->snap_name[i]), "%s", s->volume_snapshot);
                continue;
            }
            if (rc == CM_ENOMEM)
                return rc;
        }
        rc = import_snapshot(a, i);
    }
    return rc;
}

static ptrdiff_t snapshot_of(const struct apply *a, const char *pvc)
{
    size_t i;

    for (i = 0; pvc != NULL && i < a->rp->mf->n_snapshots; i++) {
        if (strcmp(a->rp->mf->snapshots[i].pvc, pvc) == 0)
            return (ptrdiff_t)i;
    }
    return -1;
}

/* A PV bound to a claim that is restored from its snapshot is not restored: the
 * claim gets a new volume. */
static bool pv_replaced(const struct apply *a, const cJSON *pv)
{
    const cJSON *claim =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(pv, "spec"), "claimRef");

    return strcmp(nz(jstr(pv, "kind")), "PersistentVolume") == 0 &&
           strcmp(nz(jstr(claim, "namespace")), a->src_ns) == 0 &&
           snapshot_of(a, jstr(claim, "name")) >= 0;
}

/* ---- the run ---- */

static int restore_object(struct apply *a, cJSON *obj)
{
    struct cm_err err;
    const char *kind = nz(jstr(obj, "kind"));
    const char *snap = NULL;
    char detail[512];
    enum backup_restore_status st;
    ptrdiff_t si = -1;
    int rc;

    cm_err_clear(&err);
    if (strcmp(kind, "PersistentVolumeClaim") == 0) {
        si = snapshot_of(a, meta_str(obj, "name"));
        if (si >= 0 && a->snap_name[si][0] == '\0') {
            snprintf(detail, sizeof(detail), "not restored without its data: %.400s",
                     a->snap_fail[si]);
            rc = backup_restore_sanitize(obj, a->o->nsmap, NULL, &err);
            if (rc == CM_ENOMEM)
                return rc;
            return report(a, obj, BACKUP_RESTORE_FAILED, detail);
        }
        if (si >= 0)
            snap = a->snap_name[si];
    }
    rc = backup_restore_sanitize(obj, a->o->nsmap, snap, &err);
    if (rc != 0) {
        if (rc == CM_ENOMEM)
            return rc;
        return report(a, obj, BACKUP_RESTORE_FAILED, err.msg);
    }
    rc = apply_one(a, obj, &st, detail, sizeof(detail));
    if (rc != 0)
        return rc;
    if (st == BACKUP_RESTORE_CREATED && strcmp(kind, "PersistentVolumeClaim") == 0 && si < 0)
        snprintf(detail, sizeof(detail),
                 "created empty: the restore point has no snapshot "
                 "of it");
    return report(a, obj, st, detail);
}

int backup_restore_apply(struct kube_client *kc, const struct backup_restore_point *rp,
                         const struct backup_restore_opts *o, struct backup_restore_result *res,
                         struct cm_err *err)
{
    struct apply a;
    cJSON **objs = NULL;
    size_t n = 0;
    size_t i;
    bool snaps_done = false;
    int rc;

    memset(&a, 0, sizeof(a));
    a.kc = kc;
    a.rp = rp;
    a.o = o;
    a.res = res;
    a.src_ns = rp->mf->namespace_;
    a.dst_ns = backup_restore_nsmap_apply(o->nsmap, a.src_ns);
    rc = kube_discover(kc, &a.disc, err);
    if (rc != 0)
        goto cleanup;
    if (rp->mf->n_snapshots > 0) {
        a.snap_name = cm_calloc(rp->mf->n_snapshots, sizeof(*a.snap_name));
        a.snap_fail = cm_calloc(rp->mf->n_snapshots, sizeof(*a.snap_fail));
        if (a.snap_name == NULL || a.snap_fail == NULL) {
            rc = cm_err_set(err, CM_ENOMEM, "out of memory");
            goto cleanup;
        }
    }
    if (rp->n_objects > 0) {
        objs = cm_calloc(rp->n_objects, sizeof(*objs));
        if (objs == NULL) {
            rc = cm_err_set(err, CM_ENOMEM, "out of memory");
            goto cleanup;
        }
    }
    for (i = 0; i < rp->n_objects; i++) {
        const char *why = NULL;

        if (backup_restore_is_derived(rp->objects[i], &why) || pv_replaced(&a, rp->objects[i])) {
            rc = report(&a, rp->objects[i], BACKUP_RESTORE_SKIPPED,
                        why != NULL && why[0] != '\0'
                            ? why
                            : "its claim gets a new volume from its VolumeSnapshot");
            if (rc != 0)
                goto oom;
            continue;
        }
        objs[n] = cJSON_Duplicate(rp->objects[i], true);
        if (objs[n] == NULL)
            goto oom;
        n++;
    }
    rc = backup_restore_sort(objs, n);
    if (rc != 0)
        goto oom;
    a.objs = objs;
    a.n_objs = n;
    rc = ensure_namespace(&a, objs, n);
    if (rc != 0)
        goto oom;
    for (i = 0; i < n; i++) {
        enum backup_restore_rank rank =
            backup_restore_rank_of(jstr(objs[i], "apiVersion"), jstr(objs[i], "kind"));

        if (!snaps_done && rank >= BACKUP_RANK_SNAPSHOT) {
            snaps_done = true;
            rc = prepare_snapshots(&a);
            if (rc != 0)
                goto oom;
        }
        rc = restore_object(&a, objs[i]);
        if (rc != 0)
            goto oom;
    }
    if (!snaps_done) {
        rc = prepare_snapshots(&a);
        if (rc != 0)
            goto oom;
    }
    rc = 0;
    goto cleanup;
oom:
    rc = rc != 0 ? rc : CM_ENOMEM;
    cm_err_set(err, rc, "restore: %s", cm_strerror(rc));
cleanup:
    for (i = 0; i < n; i++)
        cJSON_Delete(objs[i]);
    cm_free(objs);
    cm_free(a.snap_name);
    cm_free(a.snap_fail);
    kube_discovery_destroy(a.disc);
    return rc;
}
