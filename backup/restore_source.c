/* SPDX-License-Identifier: Apache-2.0 */
/* restore_source.c - restore's and the audit's view of a bucket: the ids of a
 * namespace's points, and a whole restore point read through the shared reader
 * (backup_read.c) and collected only once all of it verifies. */
#include "backup/backup.h"
#include "backup/kube/kube.h"
#include "backup/s3/s3.h"

#include <string.h>

/* ---- listing restore points: through the executor's catalog ---- */

int backup_restore_list_ids(struct s3_client *s3, const char *prefix, const char *ns,
                            char (**ids)[BACKUP_ID_LEN + 1], size_t *n, struct cm_err *err)
{
    struct backup_catalog *c = NULL;
    char(*out)[BACKUP_ID_LEN + 1] = NULL;
    size_t count;
    size_t i;
    int rc;

    if (ns == NULL || !backup_ns_valid(ns, strlen(ns)))
        return cm_err_set(err, CM_EINVAL, "restore points: bad namespace \"%.64s\"",
                          ns != NULL ? ns : "");
    /* The catalog reads object versions, so a delete marker over manifest.json does
     * not hide a point, and it keeps only well-formed ids. */
    rc = backup_catalog_list(s3, prefix, ns, false, &c, err);
    if (rc != 0) {
        cm_err_prefix(err, "restore points of %s", ns);
        return rc;
    }
    count = backup_catalog_count(c);
    if (count > BACKUP_RESTORE_MAX_IDS) {
        backup_catalog_destroy(c);
        return cm_err_set(err, CM_ETOOBIG, "restore points of %s: too many", ns);
    }
    if (count > 0) {
        out = cm_calloc(count, sizeof(*out));
        if (out == NULL) {
            backup_catalog_destroy(c);
            return cm_err_set(err, CM_ENOMEM, "restore points of %s: out of memory", ns);
        }
    }
    /* Sorted by namespace, then id: one namespace here, so oldest first. */
    for (i = 0; i < count; i++)
        memcpy(out[i], backup_catalog_get(c, i)->id, BACKUP_ID_LEN + 1);
    backup_catalog_destroy(c);
    *ids = out;
    *n = count;
    return 0;
}

/* ---- reading and verifying: through the shared reader (backup_read.c) ---- */

struct keep_ctx {
    cJSON **objects; /* manifest order; NULL when only verifying */
    const struct backup_manifest *mf;
};

static int keep_cb(const struct backup_mf_resource *r, const char *json, size_t len, void *ctx,
                   struct cm_err *err)
{
    struct keep_ctx *k = ctx;
    size_t i = (size_t)(r - k->mf->resources);
    int rc;

    if (k->objects == NULL)
        return 0;
    /* The shared reader hands each manifest resource over at most once. */
    if (CM_NEVER(k->objects[i] != NULL))
        return cm_err_set(err, CM_EINTEGRITY, "archive entry %.200s appears twice", r->path);
    /* exact: an int64 above 2^53 is restored with every digit */
    rc = kube_json_parse_exact(json, len, &k->objects[i], err);
    if (rc != 0) {
        cm_err_prefix(err, "archive entry %.200s", r->path);
        return rc == CM_ENOMEM ? rc : CM_EINTEGRITY;
    }
    return 0;
}

void backup_restore_point_destroy(struct backup_restore_point *p)
{
    size_t i;

    if (p == NULL)
        return;
    for (i = 0; i < p->n_objects; i++)
        cJSON_Delete(p->objects[i]);
    cm_free(p->objects);
    backup_manifest_destroy(p->mf);
    cm_free(p);
}

int backup_restore_point_read(struct s3_client *s3, const char *prefix, const char *ns,
                              const char *id, const struct backup_key *key, bool keep_objects,
                              struct backup_restore_point **out, struct cm_err *err)
{
    struct backup_restore_point *p = NULL;
    struct backup_rp *rp = NULL;
    struct keep_ctx k;
    size_t i;
    int rc;

    memset(&k, 0, sizeof(k));
    rc = backup_rp_open(s3, prefix, ns, id, &rp, err);
    if (rc != 0)
        goto cleanup;
    k.mf = backup_rp_manifest(rp);
    p = cm_calloc(1, sizeof(*p));
    if (p != NULL && keep_objects && k.mf->n_resources > 0)
        k.objects = cm_calloc(k.mf->n_resources, sizeof(*k.objects));
    if (p == NULL || (keep_objects && k.mf->n_resources > 0 && k.objects == NULL)) {
        rc = cm_err_set(err, CM_ENOMEM, "out of memory");
        goto cleanup;
    }
    /* Everything is collected before anything is returned: a caller never sees an
     * object of a point whose archive digest, at the very end, turns out wrong. */
    rc = backup_rp_foreach_resource(rp, key, keep_cb, &k, err);
    if (rc != 0)
        goto cleanup;
    backup_rp_lock(rp, &p->lock_mode, &p->retain_until, &p->legal_hold);
    p->foreign_versions = backup_rp_foreign_versions(rp);
    if (keep_objects) {
        p->objects = k.objects;
        p->n_objects = k.mf->n_resources;
        k.objects = NULL;
    }
    p->mf = backup_rp_manifest_take(rp);
    *out = p;
    p = NULL;
cleanup:
    /* A corrupt manifest or archive is damage to the point, as the contract says. */
    if (rc == CM_EPARSE) {
        rc = CM_EINTEGRITY;
        if (err != NULL)
            err->code = rc;
    }
    if (k.objects != NULL) {
        for (i = 0; i < k.mf->n_resources; i++)
            cJSON_Delete(k.objects[i]);
        cm_free(k.objects);
    }
    backup_restore_point_destroy(p);
    backup_rp_destroy(rp);
    return rc;
}
