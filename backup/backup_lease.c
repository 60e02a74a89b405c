/* SPDX-License-Identifier: Apache-2.0 */
/* backup_lease.c - leader election for executor replicas on a coordination.k8s.io/v1
 * Lease (create when absent, renew when ours, take over when expired; a 409 means
 * another replica won the race), and discovery of bound apps. */
#include "backup/backup.h"
#include "backup/kube/kube.h"
#include "policy/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void micro_time(time_t t, char *buf, size_t len)
{
    char s[32];

    cm_time_format(t, s, sizeof(s));
    /* MicroTime: "2026-11-22T09:30:00.000000Z" */
    (void)snprintf(buf, len, "%.19s.000000Z", s);
}

static cJSON *lease_object(const char *ns, const char *name, const char *identity, unsigned secs,
                           time_t now, time_t acquired, long transitions)
{
    char renew[40], acq[40];
    cJSON *o = cJSON_CreateObject();
    cJSON *md = cJSON_AddObjectToObject(o, "metadata");
    cJSON *spec = cJSON_AddObjectToObject(o, "spec");

    micro_time(now, renew, sizeof(renew));
    micro_time(acquired, acq, sizeof(acq));
    if (o == NULL || md == NULL || spec == NULL ||
        !cJSON_AddStringToObject(o, "apiVersion", "coordination.k8s.io/v1") ||
        !cJSON_AddStringToObject(o, "kind", "Lease") ||
        !cJSON_AddStringToObject(md, "name", name) ||
        !cJSON_AddStringToObject(md, "namespace", ns) ||
        !cJSON_AddStringToObject(spec, "holderIdentity", identity) ||
        !cJSON_AddNumberToObject(spec, "leaseDurationSeconds", secs) ||
        !cJSON_AddStringToObject(spec, "acquireTime", acq) ||
        !cJSON_AddStringToObject(spec, "renewTime", renew) ||
        !cJSON_AddNumberToObject(spec, "leaseTransitions", (double)transitions)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

int backup_lease_try(struct kube_client *kube, const char *ns, const char *name,
                     const char *identity, unsigned lease_seconds, time_t now, bool *is_leader,
                     struct cm_err *err)
{
    struct kube_ref ref = {"coordination.k8s.io/v1", "leases", ns, NULL};
    cJSON *cur = NULL;
    cJSON *want = NULL;
    const cJSON *spec;
    const cJSON *holder;
    const cJSON *renew;
    const cJSON *dur;
    const cJSON *acq;
    const cJSON *tr;
    const char *rv;
    time_t renewed = 0;
    time_t acquired = now;
    long transitions = 0;
    int rc;

    *is_leader = false;
    if (lease_seconds == 0)
        lease_seconds = 15;
    ref.name = name;
    rc = kube_get(kube, &ref, &cur, err);
    if (rc == CM_ENOENT) {
        want = lease_object(ns, name, identity, lease_seconds, now, now, 0);
        if (want == NULL)
            return cm_err_set(err, CM_ENOMEM, "lease: out of memory");
        ref.name = NULL;
        rc = kube_create(kube, &ref, want, NULL, err);
        cJSON_Delete(want);
        if (rc == CM_EEXIST)
            return 0; /* another replica created it first */
        *is_leader = rc == 0;
        return rc;
    }
    if (rc != 0)
        return rc;
    spec = cJSON_GetObjectItemCaseSensitive(cur, "spec");
    holder = cJSON_GetObjectItemCaseSensitive(spec, "holderIdentity");
    renew = cJSON_GetObjectItemCaseSensitive(spec, "renewTime");
    dur = cJSON_GetObjectItemCaseSensitive(spec, "leaseDurationSeconds");
    acq = cJSON_GetObjectItemCaseSensitive(spec, "acquireTime");
    tr = cJSON_GetObjectItemCaseSensitive(spec, "leaseTransitions");
    rv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cur, "metadata"), "resourceVersion"));
    if (cJSON_IsString(renew) &&
        cm_time_parse(renew->valuestring, strlen(renew->valuestring), &renewed) != 0)
        renewed = 0;
    if (cJSON_IsNumber(tr))
        transitions = (long)tr->valuedouble;
    if (cJSON_IsString(holder) && strcmp(holder->valuestring, identity) == 0) {
        if (cJSON_IsString(acq) &&
            cm_time_parse(acq->valuestring, strlen(acq->valuestring), &acquired) != 0)
            acquired = now;
    } else {
        long d = cJSON_IsNumber(dur) ? (long)dur->valuedouble : (long)lease_seconds;
        bool held = cJSON_IsString(holder) && holder->valuestring[0] != '\0';

        if (held && renewed + d > now) {
            cJSON_Delete(cur);
            return 0; /* someone else leads and is alive */
        }
        transitions++;
    }
    want = lease_object(ns, name, identity, lease_seconds, now, acquired, transitions);
    if (want == NULL ||
        (rv != NULL && !cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(want, "metadata"),
                                                "resourceVersion", rv))) {
        cJSON_Delete(want);
        cJSON_Delete(cur);
        return cm_err_set(err, CM_ENOMEM, "lease: out of memory");
    }
    rc = kube_update(kube, &ref, want, NULL, err);
    cJSON_Delete(want);
    cJSON_Delete(cur);
    if (rc == CM_EAGAIN)
        return 0; /* 409 Conflict: another replica renewed or took it first */
    *is_leader = rc == 0;
    return rc;
}

/* ---- bound apps ---- */

struct apps_ctx {
    struct backup_app *apps;
    size_t n;
    size_t cap;
    int rc;
};

static int on_workload(const cJSON *item, void *ctx)
{
    struct apps_ctx *a = ctx;
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(item, "metadata");
    const char *ns = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(md, "namespace"));
    const char *pol = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(md, "annotations"), POLICY_BINDING_ANNOTATION));
    size_t i;

    if (ns == NULL || pol == NULL || pol[0] == '\0' || !backup_ns_valid(ns, strlen(ns)) ||
        strlen(pol) >= sizeof(a->apps[0].policy))
        return 0;
    for (i = 0; i < a->n; i++) {
        if (strcmp(a->apps[i].namespace_, ns) == 0) {
            if (strcmp(a->apps[i].policy, pol) != 0) {
                cm_log(CM_LOG_WARN, "backup", "workloads of one namespace bind different policies",
                       CM_LS("ns", ns), CM_LS("policy", a->apps[i].policy), CM_LS("other", pol));
                if (strcmp(pol, a->apps[i].policy) < 0)
                    memcpy(a->apps[i].policy, pol, strlen(pol) + 1);
            }
            return 0;
        }
    }
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 16;
        void *p;

        if (nc > 100000)
            return CM_ETOOBIG;
        p = cm_realloc(a->apps, nc * sizeof(*a->apps));
        if (p == NULL)
            return CM_ENOMEM;
        a->apps = p;
        a->cap = nc;
    }
    memset(&a->apps[a->n], 0, sizeof(a->apps[0]));
    memcpy(a->apps[a->n].namespace_, ns, strlen(ns) + 1);
    memcpy(a->apps[a->n].policy, pol, strlen(pol) + 1);
    a->n++;
    return 0;
}

static int cmp_app(const void *x, const void *y)
{
    return strcmp(((const struct backup_app *)x)->namespace_,
                  ((const struct backup_app *)y)->namespace_);
}

int backup_apps_discover(struct kube_client *kube, struct backup_app **apps, size_t *n,
                         struct cm_err *err)
{
    static const char *const kinds[] = {"deployments", "statefulsets"};
    struct apps_ctx a;
    size_t i;
    int rc = 0;

    memset(&a, 0, sizeof(a));
    for (i = 0; i < 2 && rc == 0; i++) {
        struct kube_ref ref = {"apps/v1", kinds[i], NULL, NULL};

        rc = kube_list(kube, &ref, NULL, on_workload, NULL, &a, NULL, err);
        if (rc == CM_ENOMEM || rc == CM_ETOOBIG)
            rc = cm_err_set(err, rc, "bound apps: %s", cm_strerror(rc));
    }
    if (rc != 0) {
        cm_free(a.apps);
        return rc;
    }
    if (a.n > 1)
        qsort(a.apps, a.n, sizeof(*a.apps), cmp_app);
    *apps = a.apps;
    *n = a.n;
    return 0;
}
