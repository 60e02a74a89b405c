/* SPDX-License-Identifier: Apache-2.0 */
/* audit_live.c - the live compliance audit: workloads and namespaces from the cluster,
 * restore points (verified end to end, lock read back) from each policy's bucket. */
#include "backup/backup.h"
#include "backup/kube/kube.h"
#include "backup/s3/s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIVE_MAX_PARTIAL_SKIP 16 /* partial points skipped looking for a complete one */

/* One S3 client per BackupPolicy, opened on first use. */
struct bucket {
    const struct policy_backup *bp;
    struct s3_client *s3;
    int rc;
    char msg[CM_ERR_MSG_MAX];
};

/* The point found for one (policy, namespace), kept while apps of the namespace go by
 * (lists come sorted by namespace). */
struct point_cache {
    const struct policy_backup *bp;
    char ns[64];
    bool has;
    struct backup_audit_point pt;
    char id[BACKUP_ID_LEN + 1];
    char detail[BACKUP_AUDIT_DETAIL_MAX];
};

struct live {
    struct kube_client *kc;
    const struct policy_set *ps;
    const char *secret_ns;
    const char *endpoint_override;
    struct bucket *buckets;
    size_t n_buckets;
    struct point_cache cache;
    cJSON *namespaces; /* array of Namespace objects */
    cJSON *workloads;  /* array of Deployments and StatefulSets */
};

static int collect_cb(const cJSON *item, void *ctx)
{
    cJSON *arr = ctx;
    cJSON *dup = cJSON_Duplicate(item, true);

    if (dup == NULL)
        return CM_ENOMEM;
    if (!cJSON_AddItemToArray(arr, dup)) {
        cJSON_Delete(dup);
        return CM_ENOMEM;
    }
    if (cJSON_GetArraySize(arr) > BACKUP_AUDIT_MAX_APPS)
        return CM_ETOOBIG;
    return 0;
}

static void restart_cb(void *ctx)
{
    cJSON *arr = ctx;

    while (cJSON_GetArraySize(arr) > 0)
        cJSON_DeleteItemFromArray(arr, 0);
}

static int list_into(struct kube_client *kc, const char *api, const char *plural, cJSON *arr,
                     struct cm_err *err)
{
    struct kube_ref ref = {api, plural, NULL, NULL};
    struct kube_list_opts o;
    int rc;

    memset(&o, 0, sizeof(o));
    o.on_restart = restart_cb;
    rc = kube_list(kc, &ref, &o, collect_cb, NULL, arr, NULL, err);
    if (rc == CM_ETOOBIG || rc == CM_ENOMEM)
        cm_err_set(err, rc, "listing %s: %s", plural,
                   rc == CM_ETOOBIG ? "more than the audit's limit" : "out of memory");
    return rc;
}

static struct bucket *bucket_for(struct live *l, const struct policy_backup *bp)
{
    size_t i;
    struct cm_err err;

    for (i = 0; i < l->n_buckets; i++) {
        if (l->buckets[i].bp == bp)
            break;
    }
    if (i == l->n_buckets)
        return NULL; /* every policy of the set has a slot (see backup_audit_live) */
    if (l->buckets[i].s3 == NULL && l->buckets[i].rc == 0) {
        cm_err_clear(&err);
        l->buckets[i].rc = backup_store_open(bp, l->kc, l->secret_ns, l->endpoint_override,
                                             &l->buckets[i].s3, &err);
        if (l->buckets[i].rc != 0)
            snprintf(l->buckets[i].msg, sizeof(l->buckets[i].msg), "%s", err.msg);
    }
    return &l->buckets[i];
}

static void point_failed(struct point_cache *c, const char *id, const char *msg)
{
    time_t t = 0;

    snprintf(c->id, sizeof(c->id), "%s", id != NULL ? id : "unknown");
    snprintf(c->detail, sizeof(c->detail), "%s", msg);
    if (id != NULL && backup_rp_id_parse(id, strlen(id), &t) != 0)
        t = 0;
    c->has = true;
    c->pt.id = c->id;
    c->pt.created = t;
    c->pt.complete = true;
    c->pt.verify = BACKUP_AUDIT_VERIFY_FAILED;
    c->pt.verify_detail = c->detail;
}

/* The lock of a point that failed verification (the report still says what the bucket
 * holds): its original manifest.json version's, through the shared reader when the
 * manifest can still be opened, else the latest version's HEAD. Returns 0 (unreadable:
 * left NONE). */
static int head_lock(struct s3_client *s3, const char *prefix, const char *ns, const char *id,
                     struct point_cache *c)
{
    struct backup_rp *rp = NULL;
    struct s3_object_info info;
    char key[BACKUP_KEY_MAX];
    struct cm_err err;

    if (backup_rp_open(s3, prefix, ns, id, &rp, &err) == 0) {
        backup_rp_lock(rp, &c->pt.lock_mode, &c->pt.retain_until, &c->pt.legal_hold);
        backup_rp_destroy(rp);
        return 0;
    }
    if (backup_rp_key(prefix, ns, id, BACKUP_MANIFEST_NAME, key, sizeof(key), &err) != 0 ||
        s3_client_head_object(s3, key, NULL, &info, &err) != 0)
        return 0;
    c->pt.lock_mode = info.lock_mode == S3_LOCK_COMPLIANCE   ? POLICY_LOCK_COMPLIANCE
                      : info.lock_mode == S3_LOCK_GOVERNANCE ? POLICY_LOCK_GOVERNANCE
                                                             : POLICY_LOCK_NONE;
    c->pt.retain_until = c->pt.lock_mode != POLICY_LOCK_NONE ? info.retain_until : 0;
    c->pt.legal_hold = info.legal_hold;
    return 0;
}

/* Finds and verifies the newest complete point of (bp, ns) into l->cache. Returns 0 or
 * CM_ENOMEM; every other failure is recorded as the point's verify detail. */
static int find_point(struct live *l, const struct policy_backup *bp, const char *ns)
{
    struct point_cache *c = &l->cache;
    struct bucket *b = bucket_for(l, bp);
    char(*ids)[BACKUP_ID_LEN + 1] = NULL;
    struct backup_key key;
    bool have_key = false;
    const char *partial = NULL;
    struct cm_err err;
    size_t n = 0;
    size_t i;
    size_t tried = 0;
    int rc = 0;

    memset(c, 0, sizeof(*c));
    c->bp = bp;
    snprintf(c->ns, sizeof(c->ns), "%s", ns);
    cm_err_clear(&err);
    if (b == NULL || b->rc != 0) {
        point_failed(c, NULL, b != NULL ? b->msg : "no bucket");
        return 0;
    }
    rc = backup_restore_list_ids(b->s3, bp->location.prefix, ns, &ids, &n, &err);
    if (rc != 0) {
        point_failed(c, NULL, err.msg);
        return rc == CM_ENOMEM ? rc : 0;
    }
    for (i = n; i > 0 && tried < LIVE_MAX_PARTIAL_SKIP; i--) {
        struct backup_restore_point *p = NULL;
        const char *id = ids[i - 1];

        tried++;
        rc = backup_restore_point_read(b->s3, bp->location.prefix, ns, id, have_key ? &key : NULL,
                                       false, &p, &err);
        if (rc == CM_EINVAL && !have_key && bp->encryption_key_secret[0] != '\0') {
            rc = backup_key_lookup(l->kc, bp, l->secret_ns, ns, &key, &err);
            if (rc == 0) {
                have_key = true;
                rc = backup_restore_point_read(b->s3, bp->location.prefix, ns, id, &key, false, &p,
                                               &err);
            }
        }
        if (rc == CM_ENOENT) { /* partial: no manifest */
            if (partial == NULL)
                partial = id;
            continue;
        }
        if (rc != 0) {
            point_failed(c, id, err.msg);
            if (rc != CM_ENOMEM)
                rc = head_lock(b->s3, bp->location.prefix, ns, id, c);
            goto cleanup;
        }
        snprintf(c->id, sizeof(c->id), "%s", id);
        c->has = true;
        c->pt.id = c->id;
        c->pt.created = p->mf->created_at;
        c->pt.complete = true;
        c->pt.verify = BACKUP_AUDIT_VERIFY_OK;
        if (p->foreign_versions > 0) {
            /* Verified from the versions the capture wrote; someone with write access
             * added the later ones. Not a failure, but worth naming. */
            snprintf(c->detail, sizeof(c->detail),
                     "verified; %zu later version(s) of manifest.json or the archive were not "
                     "written by lockwarden and were ignored",
                     p->foreign_versions);
            c->pt.verify_detail = c->detail;
        }
        c->pt.lock_mode = p->lock_mode;
        c->pt.retain_until = p->retain_until;
        c->pt.legal_hold = p->legal_hold;
        backup_restore_point_destroy(p);
        rc = 0;
        goto cleanup;
    }
    if (partial != NULL) {
        point_failed(c, partial, "partial capture: no manifest (and no complete point)");
        c->pt.complete = false;
    }
    rc = 0;
cleanup:
    if (have_key)
        backup_key_wipe(&key);
    cm_free(ids);
    return rc;
}

static const cJSON *ns_labels(const struct live *l, const char *ns)
{
    const cJSON *n;

    cJSON_ArrayForEach(n, l->namespaces)
    {
        const cJSON *meta = cJSON_GetObjectItemCaseSensitive(n, "metadata");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(meta, "name");

        if (cJSON_IsString(name) && strcmp(name->valuestring, ns) == 0)
            return cJSON_GetObjectItemCaseSensitive(meta, "labels");
    }
    return NULL;
}

static int audit_all(struct live *l, struct backup_audit_report *r, struct cm_err *err)
{
    const cJSON *w;
    int rc;

    cJSON_ArrayForEach(w, l->workloads)
    {
        const cJSON *meta = cJSON_GetObjectItemCaseSensitive(w, "metadata");
        const cJSON *nsv = cJSON_GetObjectItemCaseSensitive(meta, "namespace");
        const char *ns = cJSON_IsString(nsv) ? nsv->valuestring : "";
        const cJSON *labels = ns_labels(l, ns);
        struct backup_audit_binding b;
        const struct backup_audit_point *pt = NULL;

        backup_audit_bind(l->ps, w, labels, &b);
        if (b.backup != NULL) {
            if (l->cache.bp != b.backup || strcmp(l->cache.ns, ns) != 0) {
                rc = find_point(l, b.backup, ns);
                if (rc != 0)
                    return cm_err_set(err, rc, "audit: out of memory");
            }
            if (l->cache.has)
                pt = &l->cache.pt;
        }
        rc = backup_audit_add_workload(r, l->ps, w, labels, pt, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int backup_audit_live(const struct backup_audit_live_opts *o, struct backup_audit_report **out,
                      struct cm_err *err)
{
    struct backup_audit_report *r = NULL;
    struct live l;
    size_t i;
    int rc;

    memset(&l, 0, sizeof(l));
    rc = backup_kube_open(o->kubeconfig, o->context, o->secret_ns, &l.kc, &l.secret_ns, err);
    if (rc != 0)
        goto cleanup;
    l.ps = o->ps;
    l.endpoint_override = o->endpoint_override;
    l.namespaces = cJSON_CreateArray();
    l.workloads = cJSON_CreateArray();
    if (o->ps != NULL && policy_set_backup_count(o->ps) > 0) {
        l.n_buckets = policy_set_backup_count(o->ps);
        l.buckets = cm_calloc(l.n_buckets, sizeof(*l.buckets));
    }
    if (l.namespaces == NULL || l.workloads == NULL || (l.n_buckets > 0 && l.buckets == NULL)) {
        rc = cm_err_set(err, CM_ENOMEM, "audit: out of memory");
        goto cleanup;
    }
    for (i = 0; i < l.n_buckets; i++)
        l.buckets[i].bp = policy_set_backup_get(o->ps, i);
    rc = list_into(l.kc, "v1", "namespaces", l.namespaces, err);
    if (rc == 0)
        rc = list_into(l.kc, "apps/v1", "deployments", l.workloads, err);
    if (rc == 0)
        rc = list_into(l.kc, "apps/v1", "statefulsets", l.workloads, err);
    if (rc != 0)
        goto cleanup;
    rc = backup_audit_report_create(o->now, &r);
    if (rc != 0) {
        cm_err_set(err, rc, "audit: out of memory");
        goto cleanup;
    }
    rc = audit_all(&l, r, err);
    if (rc != 0)
        goto cleanup;
    backup_audit_report_sort(r);
    *out = r;
    r = NULL;
cleanup:
    backup_audit_report_destroy(r);
    for (i = 0; i < l.n_buckets; i++)
        s3_client_destroy(l.buckets[i].s3);
    cm_free(l.buckets);
    cJSON_Delete(l.namespaces);
    cJSON_Delete(l.workloads);
    kube_client_destroy(l.kc);
    return rc;
}
