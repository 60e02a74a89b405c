/* SPDX-License-Identifier: Apache-2.0 */
/* backup_maint.c - the executor's maintenance pass: GFS prune and lock extension of
 * every restore point in every location the BackupPolicies name, whether or not any
 * workload is still bound to its app (the bucket is the source of truth). */
#include "backup/backup.h"
#include "backup/s3/s3.h"
#include "policy/policy.h"

#include <stdio.h>
#include <string.h>

static const char *nz(const char *s)
{
    return s != NULL ? s : "";
}

/* True when an earlier policy of the set names the same location: it was visited. */
static bool seen_before(const struct backup_maint_opts *o, size_t i,
                        const struct backup_location *l)
{
    size_t j;

    for (j = 0; j < i; j++) {
        struct backup_location k;

        backup_location_of(policy_set_backup_get(o->policies, j), o->endpoint_override, &k);
        if (backup_location_same(&k, l))
            return true;
    }
    return false;
}

/* Prunes one location with policy p's credentials. Returns 0, CM_ECANCELED, CM_ENOMEM
 * or the failure that kept the location from being listed (res counts it). */
static int maint_location(const struct backup_maint_opts *o, const struct policy_backup *p,
                          const struct backup_location *loc, time_t now,
                          struct backup_maint_result *res, struct cm_err *err)
{
    struct s3_client *s3 = NULL;
    struct backup_prune_opts po;
    struct backup_prune_report r;
    int rc;

    memset(&r, 0, sizeof(r));
    /* loc is p's location after the override: the client opens the same one. */
    rc = backup_store_open(p, o->kube, o->secret_namespace, o->endpoint_override, &s3, err);
    if (rc == 0) {
        memset(&po, 0, sizeof(po));
        po.s3 = s3;
        po.prefix = loc->prefix;
        po.lookup = backup_policy_lookup;
        po.lookup_ctx = (void *)o->policies;
        po.now = now;
        po.extend_margin_s = backup_maint_margin(o->interval_s);
        po.ns_hook = o->ns_hook;
        po.ns_hook_ctx = o->ns_hook_ctx;
        rc = backup_prune_run(&po, &r, err);
    }
    /* A canceled run still reports what it did before it stopped. */
    if (rc == 0 || rc == CM_ECANCELED) {
        size_t i;
        size_t ns = 0;

        for (i = 0; i < r.n_items; i++)
            ns += i == 0 || strcmp(r.items[i].namespace_, r.items[i - 1].namespace_) != 0;
        res->namespaces += ns + r.left_alone;
        res->extended += r.extended;
        res->deleted += r.deleted;
        res->retained_by_lock += r.retained_by_lock;
        res->left_alone += r.left_alone;
        res->errors += r.errors;
        backup_metrics_prune_report(o->metrics, &r);
        cm_log(CM_LOG_INFO, "executor", "maintenance: location done", CM_LS("bucket", loc->bucket),
               CM_LS("prefix", nz(loc->prefix)), CM_LI("extended", (long long)r.extended),
               CM_LI("deleted", (long long)r.deleted),
               CM_LI("retained_by_lock", (long long)r.retained_by_lock),
               CM_LI("left_alone", (long long)r.left_alone), CM_LI("errors", (long long)r.errors),
               CM_LB("canceled", rc == CM_ECANCELED));
    } else {
        res->locations_failed++;
        cm_log(CM_LOG_ERROR, "executor", "maintenance: location failed",
               CM_LS("bucket", loc->bucket), CM_LS("prefix", nz(loc->prefix)),
               CM_LS("policy", p->name), CM_LS("err", err->msg));
    }
    backup_prune_report_cleanup(&r);
    s3_client_destroy(s3);
    return rc;
}

int backup_maint_run(const struct backup_maint_opts *o, struct backup_maint_result *out,
                     struct cm_err *err)
{
    struct backup_maint_result res;
    struct cm_err first;
    time_t now;
    size_t i;
    int rc = 0;

    memset(&res, 0, sizeof(res));
    memset(&first, 0, sizeof(first));
    if (o == NULL || o->policies == NULL) {
        if (out != NULL)
            *out = res;
        return cm_err_set(err, CM_EINVAL, "maintenance: no policies");
    }
    now = o->now != 0 ? o->now : (time_t)(cm_time_now_ms() / 1000);
    for (i = 0; i < policy_set_backup_count(o->policies); i++) {
        const struct policy_backup *p = policy_set_backup_get(o->policies, i);
        struct backup_location loc;
        struct cm_err e;
        int lrc;

        backup_location_of(p, o->endpoint_override, &loc);
        if (seen_before(o, i, &loc))
            continue;
        res.locations++;
        memset(&e, 0, sizeof(e));
        lrc = maint_location(o, p, &loc, now, &res, &e);
        if (lrc == CM_ECANCELED || lrc == CM_ENOMEM) {
            rc = cm_err_set(err, lrc, "maintenance: %s", e.msg);
            break;
        }
        if (lrc != 0 && first.code == 0)
            (void)cm_err_set(&first, lrc, "maintenance: bucket %s: %s", loc.bucket, e.msg);
    }
    if (rc == 0 && (res.locations_failed > 0 || res.errors > 0)) {
        if (first.code != 0)
            rc = cm_err_set(err, CM_EIO, "%s", first.msg);
        else
            rc = cm_err_set(err, CM_EIO,
                            "maintenance: %zu restore point(s) or namespace(s) failed (see log)",
                            res.errors);
    }
    if (out != NULL)
        *out = res;
    return rc;
}
