/* SPDX-License-Identifier: Apache-2.0 */
/* wh_server_reload.c - what the watcher does when something may have changed: load the
 * policies or the certificate aside, swap them in when they load, keep the old ones and
 * say so when they do not. */
#include "webhook/wh_int.h"

static void check_policies(struct wh_server *s, bool forced)
{
    struct cm_err err;
    struct wh_snapshot *cur = wh_snapshot_acquire(&s->policies);
    uint64_t cur_digest = cur != NULL ? cur->digest : 0;
    struct policy_set *set = NULL;
    uint64_t digest = 0;
    int rc;

    wh_snapshot_release(cur);
    rc = wh_policies_digest(s->cfg.policies, s->cfg.n_policies, &digest, &err);
    if (rc == 0 && !forced && (digest == cur_digest || digest == s->failed_policy_digest))
        return;
    if (rc == 0)
        rc = wh_policies_load(s->cfg.policies, s->cfg.n_policies, &set, &digest, &err);
    if (rc == 0)
        rc = wh_holder_swap(&s->policies, set, digest);
    if (rc != 0) {
        if (!forced && digest != 0 && digest == s->failed_policy_digest)
            return;
        s->failed_policy_digest = digest;
        atomic_fetch_add_explicit(&s->metrics.reload_failures, 1, memory_order_relaxed);
        cm_log(CM_LOG_ERROR, "webhook", "policy reload failed; the last good set keeps serving",
               CM_LS("err", err.msg), CM_LB("forced", forced));
        return;
    }
    s->failed_policy_digest = 0;
    cur = wh_snapshot_acquire(&s->policies);
    if (cur != NULL)
        wh_server_warn_ns_selector(s, cur->set);
    atomic_fetch_add_explicit(&s->metrics.reloads, 1, memory_order_relaxed);
    atomic_store(&s->metrics.policy_generation, cur != NULL ? cur->generation : 0);
    cm_log(CM_LOG_INFO, "webhook", "policies reloaded",
           CM_LI("generation", cur != NULL ? (long long)cur->generation : 0),
           CM_LI("policies", cur != NULL ? (long long)policy_set_policy_count(cur->set) : 0),
           CM_LI("rules", cur != NULL ? (long long)policy_set_rule_count(cur->set) : 0),
           CM_LI("backup_policies", cur != NULL ? (long long)policy_set_backup_count(cur->set) : 0),
           CM_LB("forced", forced));
    wh_snapshot_release(cur);
}

/* Returns true when a failed load should be retried shortly: the certificate and the
 * key are two files, and a writer replaces them one after the other (and may be
 * descheduled in between), so a failure is reported only when the same files still
 * fail WH_CERT_SETTLE_MS later. The old certificate serves meanwhile. */
static bool check_cert(struct wh_server *s, bool forced)
{
    struct cm_err err;
    struct wh_cred *cur = wh_tls_acquire(&s->tls);
    uint64_t cur_digest = cur != NULL ? cur->digest : 0;
    struct wh_cred *c = NULL;
    uint64_t digest = 0;
    int rc;

    wh_cred_release(cur);
    rc = wh_cred_digest(s->cfg.tls_cert, s->cfg.tls_key, &digest, &err);
    if (rc == 0 && (digest == cur_digest || (!forced && digest == s->failed_cert_digest)))
        return false;
    if (rc == 0)
        rc = wh_cred_load(s->cfg.tls_cert, s->cfg.tls_key, &c, &err);
    if (rc != 0) {
        if (!forced && digest != 0 && digest == s->failed_cert_digest)
            return false;
        if (digest != s->suspect_cert_digest) {
            s->suspect_cert_digest = digest;
            s->suspect_since_ms = (int64_t)(cm_time_mono_ns() / 1000000u);
            return true; /* maybe half-written: look again before complaining */
        }
        if ((int64_t)(cm_time_mono_ns() / 1000000u) - s->suspect_since_ms < WH_CERT_SETTLE_MS)
            return true; /* a slow writer may still be between the two files */
        s->failed_cert_digest = digest;
        atomic_fetch_add_explicit(&s->metrics.cert_reload_failures, 1, memory_order_relaxed);
        cm_log(CM_LOG_WARN, "webhook",
               "certificate change not loaded; the previous certificate keeps serving",
               CM_LS("err", err.msg));
        return false;
    }
    s->failed_cert_digest = 0;
    s->suspect_cert_digest = 0;
    atomic_store(&s->metrics.cert_not_after, (long long)c->not_after);
    atomic_fetch_add_explicit(&s->metrics.cert_reloads, 1, memory_order_relaxed);
    {
        char na[32];

        cm_log(CM_LOG_INFO, "webhook", "serving certificate rotated",
               CM_LS("not_after", cm_time_format(c->not_after, na, sizeof(na))));
    }
    wh_tls_swap(&s->tls, c);
    return false;
}

bool wh_server_on_check(bool forced, void *ctx)
{
    struct wh_server *s = ctx;
    bool again = check_cert(s, forced);

    check_policies(s, forced);
    return again;
}

void wh_server_warn_ns_selector(const struct wh_server *s, const struct policy_set *set)
{
    if (s->cfg.ns_labels_from_cluster || !policy_set_uses_namespace_selector(set))
        return;
    cm_log(CM_LOG_WARN, "webhook",
           "policies use namespaceSelector but the webhook has no namespace labels: those "
           "rules and overrides match nothing at admission; enable "
           "--namespace-labels-from-cluster (LW_NAMESPACE_LABELS=cluster)");
}
