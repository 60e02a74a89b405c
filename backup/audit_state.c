/* SPDX-License-Identifier: Apache-2.0 */
/* audit_state.c - offline audits: builds a report from a recorded cluster state file
 * (workloads, namespaces and restore-point facts). The file is untrusted input: every
 * member is type-checked and every count capped. */
#include "backup/backup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 384

struct point_ix {
    char key[KEY_MAX]; /* "<namespace>/<policy>" ("<namespace>/" = any policy) */
    time_t created;
    const char *id;
    struct backup_audit_point pt;
};

struct ns_ix {
    const char *name;
    const cJSON *labels;
};

static const cJSON *member(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static int point_cmp(const void *pa, const void *pb)
{
    const struct point_ix *a = pa;
    const struct point_ix *b = pb;
    int c = strcmp(a->key, b->key);

    if (c != 0)
        return c;
    if (a->created != b->created)
        return a->created > b->created ? -1 : 1; /* newest first */
    return -strcmp(a->id, b->id);
}

static int ns_cmp(const void *pa, const void *pb)
{
    return strcmp(((const struct ns_ix *)pa)->name, ((const struct ns_ix *)pb)->name);
}

static int parse_time(const cJSON *v, const char *what, size_t i, time_t *out, struct cm_err *err)
{
    if (!cJSON_IsString(v) || cm_time_parse(v->valuestring, strlen(v->valuestring), out) != 0)
        return cm_err_set(err, CM_EPARSE, "restorePoints[%zu].%s: want an RFC 3339 time", i, what);
    return 0;
}

static int parse_lock(const cJSON *lock, size_t i, struct backup_audit_point *pt,
                      struct cm_err *err)
{
    const cJSON *mode = member(lock, "mode");
    const cJSON *hold = member(lock, "legalHold");
    int rc;

    if (lock == NULL || cJSON_IsNull(lock))
        return 0;
    if (!cJSON_IsObject(lock) || !cJSON_IsString(mode))
        return cm_err_set(err, CM_EPARSE,
                          "restorePoints[%zu].objectLock: want {mode, "
                          "retainUntil}",
                          i);
    if (strcmp(mode->valuestring, "NONE") == 0)
        pt->lock_mode = POLICY_LOCK_NONE;
    else if (strcmp(mode->valuestring, "GOVERNANCE") == 0)
        pt->lock_mode = POLICY_LOCK_GOVERNANCE;
    else if (strcmp(mode->valuestring, "COMPLIANCE") == 0)
        pt->lock_mode = POLICY_LOCK_COMPLIANCE;
    else
        return cm_err_set(err, CM_EPARSE,
                          "restorePoints[%zu].objectLock.mode: want NONE, GOVERNANCE or "
                          "COMPLIANCE",
                          i);
    if (pt->lock_mode != POLICY_LOCK_NONE) {
        rc = parse_time(member(lock, "retainUntil"), "objectLock.retainUntil", i, &pt->retain_until,
                        err);
        if (rc != 0)
            return rc;
    }
    if (hold != NULL && !cJSON_IsBool(hold))
        return cm_err_set(err, CM_EPARSE,
                          "restorePoints[%zu].objectLock.legalHold: want a "
                          "boolean",
                          i);
    pt->legal_hold = cJSON_IsTrue(hold);
    return 0;
}

static int parse_point(const cJSON *p, size_t i, struct point_ix *ix, struct cm_err *err)
{
    const cJSON *ns = member(p, "namespace");
    const cJSON *pol = member(p, "policy");
    const cJSON *id = member(p, "id");
    const cJSON *complete = member(p, "complete");
    const cJSON *verified = member(p, "verified");
    const cJSON *vd = member(p, "verifyDetail");
    int n;
    int rc;

    memset(ix, 0, sizeof(*ix));
    if (!cJSON_IsObject(p))
        return cm_err_set(err, CM_EPARSE, "restorePoints[%zu]: want an object", i);
    if (!cJSON_IsString(ns) || ns->valuestring[0] == '\0' || strlen(ns->valuestring) > 63)
        return cm_err_set(err, CM_EPARSE, "restorePoints[%zu].namespace: want a namespace", i);
    if (pol != NULL && !cJSON_IsString(pol))
        return cm_err_set(err, CM_EPARSE, "restorePoints[%zu].policy: want a string", i);
    if (!cJSON_IsString(id) || id->valuestring[0] == '\0' ||
        strlen(id->valuestring) > BACKUP_RESTORE_NAME_MAX)
        return cm_err_set(err, CM_EPARSE, "restorePoints[%zu].id: want a restore point id", i);
    if ((complete != NULL && !cJSON_IsBool(complete)) || !cJSON_IsBool(verified))
        return cm_err_set(err, CM_EPARSE,
                          "restorePoints[%zu]: complete and verified must be booleans", i);
    if (vd != NULL && !cJSON_IsString(vd) && !cJSON_IsNull(vd))
        return cm_err_set(err, CM_EPARSE, "restorePoints[%zu].verifyDetail: want a string", i);
    rc = parse_time(member(p, "createdAt"), "createdAt", i, &ix->created, err);
    if (rc != 0)
        return rc;
    n = snprintf(ix->key, sizeof(ix->key), "%s/%s", ns->valuestring,
                 pol != NULL ? pol->valuestring : "");
    if (n < 0 || (size_t)n >= sizeof(ix->key))
        return cm_err_set(err, CM_EPARSE, "restorePoints[%zu].policy: too long", i);
    ix->id = id->valuestring;
    ix->pt.id = id->valuestring;
    ix->pt.created = ix->created;
    ix->pt.complete = complete == NULL || cJSON_IsTrue(complete);
    ix->pt.verify = cJSON_IsTrue(verified) ? BACKUP_AUDIT_VERIFY_OK : BACKUP_AUDIT_VERIFY_FAILED;
    ix->pt.verify_detail = cJSON_IsString(vd) ? vd->valuestring : NULL;
    return parse_lock(member(p, "objectLock"), i, &ix->pt, err);
}

static const struct point_ix *find_point(const struct point_ix *ix, size_t n, const char *key)
{
    size_t lo = 0;
    size_t hi = n;

    /* Lower bound: the first entry with this key is the newest. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(ix[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && strcmp(ix[lo].key, key) == 0 ? &ix[lo] : NULL;
}

static const cJSON *items_of(const cJSON *v)
{
    if (cJSON_IsArray(v))
        return v;
    if (cJSON_IsObject(v) && cJSON_IsArray(member(v, "items")))
        return member(v, "items");
    return NULL;
}

static bool is_app(const cJSON *o)
{
    const cJSON *k = member(o, "kind");
    const cJSON *a = member(o, "apiVersion");

    return cJSON_IsString(k) && cJSON_IsString(a) && strcmp(a->valuestring, "apps/v1") == 0 &&
           (strcmp(k->valuestring, "Deployment") == 0 ||
            strcmp(k->valuestring, "StatefulSet") == 0);
}

static int add_apps(struct backup_audit_report *r, const struct policy_set *ps,
                    const cJSON *workloads, const struct ns_ix *nsx, size_t nns,
                    const struct point_ix *px, size_t npx, struct cm_err *err)
{
    const cJSON *w;
    size_t i = 0;
    int rc = 0;

    cJSON_ArrayForEach(w, workloads)
    {
        const cJSON *meta = member(w, "metadata");
        const cJSON *ns = member(meta, "namespace");
        struct ns_ix key;
        const struct ns_ix *nsf = NULL;
        const struct point_ix *pf = NULL;
        struct backup_audit_binding b;
        char k[KEY_MAX];

        if (!cJSON_IsObject(w))
            return cm_err_set(err, CM_EPARSE, "workloads[%zu]: want an object", i);
        if (!is_app(w)) {
            i++;
            continue;
        }
        if (!cJSON_IsString(ns) || ns->valuestring[0] == '\0')
            return cm_err_set(err, CM_EPARSE, "workloads[%zu].metadata.namespace: missing", i);
        key.name = ns->valuestring;
        if (nns > 0)
            nsf = bsearch(&key, nsx, nns, sizeof(*nsx), ns_cmp);
        backup_audit_bind(ps, w, nsf != NULL ? nsf->labels : NULL, &b);
        if (b.name[0] != '\0') {
            snprintf(k, sizeof(k), "%s/%s", ns->valuestring, b.name);
            pf = find_point(px, npx, k);
        }
        snprintf(k, sizeof(k), "%s/", ns->valuestring);
        if (pf == NULL && b.name[0] != '\0')
            pf = find_point(px, npx, k);
        rc = backup_audit_add_workload(r, ps, w, nsf != NULL ? nsf->labels : NULL,
                                       pf != NULL ? &pf->pt : NULL, err);
        if (rc != 0) {
            cm_err_prefix(err, "workloads[%zu]", i);
            return rc;
        }
        i++;
    }
    return 0;
}

int backup_audit_state_load(const char *name, const char *buf, size_t len,
                            const struct policy_set *ps, time_t now,
                            struct backup_audit_report **out, struct cm_err *err)
{
    struct policy_docs *docs = NULL;
    struct backup_audit_report *r = NULL;
    struct point_ix *px = NULL;
    struct ns_ix *nsx = NULL;
    const cJSON *root;
    const cJSON *workloads;
    const cJSON *points;
    const cJSON *nss;
    const cJSON *v;
    size_t npx = 0;
    size_t nns = 0;
    int rc;

    rc = policy_docs_parse(name, buf, len, &docs, err);
    if (rc != 0)
        goto cleanup;
    root = policy_docs_count(docs) == 1 ? policy_docs_get(docs, 0) : NULL;
    if (!cJSON_IsObject(root)) {
        rc = cm_err_set(err, CM_EPARSE, "%s: want one document, an object with workloads", name);
        goto cleanup;
    }
    if (now <= 0) {
        v = member(root, "now");
        if (!cJSON_IsString(v) ||
            cm_time_parse(v->valuestring, strlen(v->valuestring), &now) != 0) {
            rc = cm_err_set(err, CM_EINVAL, "%s: no \"now\" (RFC 3339) and no --now", name);
            goto cleanup;
        }
    }
    workloads = items_of(member(root, "workloads"));
    if (workloads == NULL) {
        rc = cm_err_set(err, CM_EPARSE, "%s: workloads: want an array or a List", name);
        goto cleanup;
    }
    if ((size_t)cJSON_GetArraySize(workloads) > BACKUP_AUDIT_MAX_APPS) {
        rc = cm_err_set(err, CM_ETOOBIG, "%s: more than %d workloads", name, BACKUP_AUDIT_MAX_APPS);
        goto cleanup;
    }
    nss = member(root, "namespaces") != NULL ? items_of(member(root, "namespaces")) : NULL;
    if (member(root, "namespaces") != NULL && nss == NULL) {
        rc = cm_err_set(err, CM_EPARSE, "%s: namespaces: want an array or a List", name);
        goto cleanup;
    }
    points = member(root, "restorePoints");
    if (points != NULL && !cJSON_IsArray(points)) {
        rc = cm_err_set(err, CM_EPARSE, "%s: restorePoints: want an array", name);
        goto cleanup;
    }
    if (points != NULL && (size_t)cJSON_GetArraySize(points) > BACKUP_AUDIT_STATE_MAX_POINTS) {
        rc = cm_err_set(err, CM_ETOOBIG, "%s: more than %d restorePoints", name,
                        BACKUP_AUDIT_STATE_MAX_POINTS);
        goto cleanup;
    }
    if (nss != NULL && cJSON_GetArraySize(nss) > 0) {
        size_t cnt = (size_t)cJSON_GetArraySize(nss);

        if (cnt > BACKUP_AUDIT_MAX_APPS) {
            rc = cm_err_set(err, CM_ETOOBIG, "%s: too many namespaces", name);
            goto cleanup;
        }
        nsx = cm_calloc(cnt, sizeof(*nsx));
        if (nsx == NULL) {
            rc = cm_err_set(err, CM_ENOMEM, "%s: out of memory", name);
            goto cleanup;
        }
        cJSON_ArrayForEach(v, nss)
        {
            const cJSON *meta = member(v, "metadata");
            const cJSON *nm = member(meta, "name");

            if (!cJSON_IsString(nm)) {
                rc = cm_err_set(err, CM_EPARSE, "%s: namespaces[%zu]: no metadata.name", name, nns);
                goto cleanup;
            }
            nsx[nns].name = nm->valuestring;
            nsx[nns].labels = member(meta, "labels");
            nns++;
        }
        qsort(nsx, nns, sizeof(*nsx), ns_cmp);
    }
    if (points != NULL && cJSON_GetArraySize(points) > 0) {
        px = cm_calloc((size_t)cJSON_GetArraySize(points), sizeof(*px));
        if (px == NULL) {
            rc = cm_err_set(err, CM_ENOMEM, "%s: out of memory", name);
            goto cleanup;
        }
        cJSON_ArrayForEach(v, points)
        {
            rc = parse_point(v, npx, &px[npx], err);
            if (rc != 0) {
                cm_err_prefix(err, "%s", name);
                goto cleanup;
            }
            npx++;
        }
        qsort(px, npx, sizeof(*px), point_cmp);
    }
    rc = backup_audit_report_create(now, &r);
    if (rc != 0) {
        cm_err_set(err, rc, "%s: out of memory", name);
        goto cleanup;
    }
    rc = add_apps(r, ps, workloads, nsx, nns, px, npx, err);
    if (rc != 0) {
        cm_err_prefix(err, "%s", name);
        goto cleanup;
    }
    backup_audit_report_sort(r);
    *out = r;
    r = NULL;
cleanup:
    backup_audit_report_destroy(r);
    cm_free(px);
    cm_free(nsx);
    policy_docs_destroy(docs);
    return rc;
}
