/* SPDX-License-Identifier: Apache-2.0 */
/* backup_prune.c - `backup prune`: GFS decisions applied to the bucket. Deletes only
 * unlocked points past the counts, treats a lock refusal as "retained", and extends
 * locks of points kept longer than their lock (never shortening one). */
#include "backup/backup.h"
#include "backup/s3/s3.h"
#include "policy/policy.h"

#include <stdio.h>
#include <string.h>

static bool is_manifest_key(const char *key)
{
    size_t kl = strlen(key);
    size_t n = strlen(BACKUP_MANIFEST_NAME);

    return kl > n && key[kl - n - 1] == '/' && strcmp(key + kl - n, BACKUP_MANIFEST_NAME) == 0;
}

/* The earliest retain-until over the point's object versions, and the mode seen. */
static int point_lock(struct s3_client *s3, const struct backup_rp_info *p, time_t *until,
                      enum s3_lock_mode *mode, struct cm_err *err)
{
    size_t i;
    bool any = false;

    *until = 0;
    *mode = S3_LOCK_NONE;
    for (i = 0; i < p->n_objects; i++) {
        const struct backup_rp_object *o = &p->objects[i];
        struct s3_object_info info;
        int rc;

        if (o->is_delete_marker)
            continue;
        rc = s3_client_head_object(s3, o->key, o->version_id[0] ? o->version_id : NULL, &info, err);
        if (rc == CM_ENOENT)
            continue;
        if (rc != 0)
            return rc;
        if (info.lock_mode != S3_LOCK_NONE)
            *mode = info.lock_mode;
        if (!any || info.retain_until < *until)
            *until = info.retain_until;
        any = true;
    }
    return 0;
}

static void item_error(struct backup_prune_item *it, const struct cm_err *e)
{
    (void)snprintf(it->error, sizeof(it->error), "%s", e->msg);
}

static int delete_point(struct s3_client *s3, const struct backup_rp_info *p,
                        struct backup_prune_item *it)
{
    struct cm_err e;
    int pass;
    size_t i;

    /* Pass 0: manifest versions; pass 1: the rest. A refused manifest stops here, so a
     * complete point never loses its archive. */
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < p->n_objects; i++) {
            const struct backup_rp_object *o = &p->objects[i];
            int rc;

            if (is_manifest_key(o->key) != (pass == 0))
                continue;
            rc = s3_client_delete_object(s3, o->key, o->version_id[0] ? o->version_id : NULL, false,
                                         &e);
            if (rc == CM_ELOCKED) {
                it->retained_by_lock = true;
                cm_log(CM_LOG_INFO, "backup", "retained by object lock", CM_LS("ns", p->namespace_),
                       CM_LS("id", p->id), CM_LS("key", o->key));
                if (pass == 0)
                    return 0;
                continue;
            }
            if (rc != 0) {
                item_error(it, &e);
                return rc;
            }
        }
    }
    it->done = !it->retained_by_lock;
    return 0;
}

static int extend_point(struct s3_client *s3, const char *prefix, const struct backup_rp_info *p,
                        enum s3_lock_mode mode, time_t until, time_t now,
                        struct backup_prune_item *it)
{
    struct s3_put_opts po;
    struct cm_err e;
    char ts[32], stamp[20], leaf[64], key[BACKUP_KEY_MAX + 1], u[32], n[32];
    char body[512];
    size_t i;
    int len;
    int rc;

    for (i = 0; i < p->n_objects; i++) {
        const struct backup_rp_object *o = &p->objects[i];

        if (o->is_delete_marker)
            continue;
        rc = s3_client_put_retention(s3, o->key, o->version_id[0] ? o->version_id : NULL, mode,
                                     until, false, &e);
        if (rc != 0) {
            item_error(it, &e);
            return rc;
        }
    }
    /* The record of the change is a new key, never a rewrite. */
    cm_time_format(now, ts, sizeof(ts));
    (void)snprintf(stamp, sizeof(stamp), "%.4s%.2s%.2sT%.2s%.2s%.2sZ", ts, ts + 5, ts + 8, ts + 11,
                   ts + 14, ts + 17);
    (void)snprintf(leaf, sizeof(leaf), "locks/%s.json", stamp);
    rc = backup_rp_key(prefix, p->namespace_, p->id, leaf, key, sizeof(key), &e);
    if (rc != 0) {
        item_error(it, &e);
        return rc;
    }
    len = snprintf(body, sizeof(body),
                   "{\"id\":\"%s\",\"namespace\":\"%s\",\"mode\":\"%s\",\"retainUntil\":\"%s\","
                   "\"extendedAt\":\"%s\"}\n",
                   p->id, p->namespace_, s3_lock_mode_name(mode),
                   cm_time_format(until, u, sizeof(u)), cm_time_format(now, n, sizeof(n)));
    memset(&po, 0, sizeof(po));
    po.lock_mode = mode;
    po.retain_until = until;
    po.content_type = "application/json";
    rc = s3_client_put_object(s3, key, body, (size_t)len, &po, NULL, &e);
    if (rc != 0) {
        item_error(it, &e);
        return rc;
    }
    it->done = true;
    return 0;
}

static int grow_items(struct backup_prune_report *r, size_t add)
{
    void *p = cm_realloc(r->items, (r->n_items + add) * sizeof(*r->items));

    if (p == NULL)
        return CM_ENOMEM;
    r->items = p;
    return 0;
}

static enum s3_lock_mode mode_of(const struct policy_backup *p)
{
    return p->lock_mode == POLICY_LOCK_COMPLIANCE   ? S3_LOCK_COMPLIANCE
           : p->lock_mode == POLICY_LOCK_GOVERNANCE ? S3_LOCK_GOVERNANCE
                                                    : S3_LOCK_NONE;
}

/* One namespace: points [first, first + n) of the catalog. */
static int prune_namespace(const struct backup_prune_opts *o, const struct backup_catalog *cat,
                           size_t first, size_t n, time_t now, struct backup_prune_report *r,
                           struct cm_err *err)
{
    const struct backup_rp_info *newest = NULL;
    const struct policy_backup *pol;
    struct backup_gfs_point *pts = NULL;
    struct backup_gfs_decision *dec = NULL;
    enum s3_lock_mode *modes = NULL;
    struct backup_gfs_counts counts;
    size_t i;
    int rc = 0;

    for (i = 0; i < n; i++) {
        const struct backup_rp_info *p = backup_catalog_get(cat, first + i);

        if (p->complete && p->has_details && p->problem[0] == '\0')
            newest = p;
    }
    if (newest == NULL) {
        cm_log(CM_LOG_WARN, "backup", "prune: no complete restore point names a policy; left alone",
               CM_LS("ns", backup_catalog_get(cat, first)->namespace_));
        return 0;
    }
    pol = o->lookup(newest->policy, o->lookup_ctx);
    if (pol == NULL) {
        /* Never delete on missing configuration: without the counts nothing is known to
         * be past them. Locks are not extended either; the log says so. */
        cm_log(CM_LOG_WARN, "backup",
               "prune: policy not loaded; namespace left alone (nothing deleted, no lock "
               "extended)",
               CM_LS("ns", newest->namespace_), CM_LS("policy", newest->policy));
        r->left_alone++;
        return 0;
    }
    pts = cm_calloc(n, sizeof(*pts));
    dec = cm_calloc(n, sizeof(*dec));
    modes = cm_calloc(n, sizeof(*modes));
    if (pts == NULL || dec == NULL || modes == NULL || grow_items(r, n) != 0) {
        rc = cm_err_set(err, CM_ENOMEM, "prune: out of memory");
        goto cleanup;
    }
    for (i = 0; i < n; i++) {
        const struct backup_rp_info *p = backup_catalog_get(cat, first + i);

        pts[i].created = p->created;
        pts[i].complete = p->complete && p->problem[0] == '\0';
        rc = point_lock(o->s3, p, &pts[i].retain_until, &modes[i], err);
        if (rc != 0)
            goto cleanup;
    }
    counts.hourly = pol->retention.hourly;
    counts.daily = pol->retention.daily;
    counts.weekly = pol->retention.weekly;
    counts.monthly = pol->retention.monthly;
    counts.yearly = pol->retention.yearly;
    rc = backup_gfs_decide_margin(pts, n, &counts, now,
                                  pol->lock_mode != POLICY_LOCK_NONE ? pol->lock_days : 0,
                                  o->extend_margin_s, dec);
    if (rc != 0) {
        rc = cm_err_set(err, rc, "prune: %s", cm_strerror(rc));
        goto cleanup;
    }
    for (i = 0; i < n; i++) {
        const struct backup_rp_info *p = backup_catalog_get(cat, first + i);
        struct backup_prune_item *it = &r->items[r->n_items++];

        memset(it, 0, sizeof(*it));
        memcpy(it->namespace_, p->namespace_, sizeof(it->namespace_));
        memcpy(it->id, p->id, sizeof(it->id));
        it->complete = pts[i].complete;
        it->decision = dec[i];
        it->retain_until = pts[i].retain_until;
        r->counts[dec[i].action]++;
        if (dec[i].action == BACKUP_GFS_RETAINED)
            r->retained_by_lock++;
        if (o->dry_run)
            continue;
        if (dec[i].action == BACKUP_GFS_EXPIRE) {
            if (delete_point(o->s3, p, it) != 0)
                r->errors++;
            else if (it->done)
                r->deleted++;
            if (it->retained_by_lock)
                r->retained_by_lock++;
        } else if (dec[i].action == BACKUP_GFS_EXTEND) {
            enum s3_lock_mode m = modes[i] != S3_LOCK_NONE ? modes[i] : mode_of(pol);

            if (extend_point(o->s3, o->prefix, p, m, dec[i].new_retain_until, now, it) != 0)
                r->errors++;
            else
                r->extended++;
        }
        cm_log(CM_LOG_INFO, "backup", "prune decision", CM_LS("ns", it->namespace_),
               CM_LS("id", it->id), CM_LS("decision", backup_gfs_action_name(dec[i].action)),
               CM_LB("done", it->done), CM_LB("retained_by_lock", it->retained_by_lock),
               CM_LS("err", it->error[0] ? it->error : NULL));
    }
cleanup:
    cm_free(pts);
    cm_free(dec);
    cm_free(modes);
    return rc;
}

int backup_prune_run(const struct backup_prune_opts *o, struct backup_prune_report *r,
                     struct cm_err *err)
{
    struct backup_catalog *cat = NULL;
    time_t now;
    size_t i, start;
    int rc;

    if (o == NULL || r == NULL || o->s3 == NULL || o->lookup == NULL)
        return cm_err_set(err, CM_EINVAL, "prune: missing S3 client or policy lookup");
    memset(r, 0, sizeof(*r));
    now = o->now != 0 ? o->now : (time_t)(cm_time_now_ms() / 1000);
    rc = backup_catalog_list(o->s3, o->prefix, o->namespace_, true, &cat, err);
    if (rc != 0)
        return rc;
    for (start = 0, i = 1; rc == 0 && start < backup_catalog_count(cat); i++) {
        const char *ns;
        struct cm_err nerr;

        if (i < backup_catalog_count(cat) &&
            strcmp(backup_catalog_get(cat, i)->namespace_,
                   backup_catalog_get(cat, start)->namespace_) == 0)
            continue;
        ns = backup_catalog_get(cat, start)->namespace_;
        if (o->ns_hook != NULL && !o->ns_hook(ns, true, o->ns_hook_ctx)) {
            rc = cm_err_set(err, CM_ECANCELED, "prune: stopped before namespace %s", ns);
            break;
        }
        memset(&nerr, 0, sizeof(nerr));
        rc = prune_namespace(o, cat, start, i - start, now, r, &nerr);
        if (o->ns_hook != NULL)
            (void)o->ns_hook(ns, false, o->ns_hook_ctx);
        if (rc != 0 && rc != CM_ENOMEM) {
            /* One namespace's unreadable locks must not stop the others' maintenance. */
            cm_log(CM_LOG_ERROR, "backup", "prune: namespace skipped", CM_LS("ns", ns),
                   CM_LS("err", nerr.msg));
            r->errors++;
            rc = 0;
        } else if (rc != 0) {
            (void)cm_err_set(err, rc, "%s", nerr.msg);
        }
        start = i;
    }
    backup_catalog_destroy(cat);
    if (rc != 0 && rc != CM_ECANCELED)
        backup_prune_report_cleanup(r);
    return rc;
}

void backup_prune_report_cleanup(struct backup_prune_report *r)
{
    if (r == NULL)
        return;
    cm_free(r->items);
    memset(r, 0, sizeof(*r));
}
