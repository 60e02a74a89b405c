/* SPDX-License-Identifier: Apache-2.0 */
/* kube_fake_types.c - the resource types the fake kube-apiserver serves (built-ins
 * plus CRDs found in its store) and the discovery documents built from them. */
#include "kube_fake_int.h"

#include "common/cm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const pod_subs[] = {"pods/log", "pods/exec", "pods/status", NULL};
static const char *const deploy_subs[] = {"deployments/scale", "deployments/status", NULL};
static const char *const sts_subs[] = {"statefulsets/scale", "statefulsets/status", NULL};
static const char *const ns_subs[] = {"namespaces/finalize", "namespaces/status", NULL};
static const char *const snap_subs[] = {"volumesnapshots/status", NULL};

struct builtin {
    const char *group;
    const char *version;
    const char *plural;
    const char *singular;
    const char *kind;
    bool namespaced;
    const char *const *subs;
};

static const struct builtin builtins[] = {
    {"", "v1", "namespaces", "namespace", "Namespace", false, ns_subs},
    {"", "v1", "pods", "pod", "Pod", true, pod_subs},
    {"", "v1", "services", "service", "Service", true, NULL},
    {"", "v1", "configmaps", "configmap", "ConfigMap", true, NULL},
    {"", "v1", "secrets", "secret", "Secret", true, NULL},
    {"", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, NULL},
    {"", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true,
     NULL},
    {"", "v1", "persistentvolumes", "persistentvolume", "PersistentVolume", false, NULL},
    {"", "v1", "events", "event", "Event", true, NULL},
    {"", "v1", "endpoints", "endpoints", "Endpoints", true, NULL},
    {"apps", "v1", "deployments", "deployment", "Deployment", true, deploy_subs},
    {"apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, sts_subs},
    {"apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, NULL},
    {"apps", "v1", "daemonsets", "daemonset", "DaemonSet", true, NULL},
    {"batch", "v1", "jobs", "job", "Job", true, NULL},
    {"batch", "v1", "cronjobs", "cronjob", "CronJob", true, NULL},
    {"discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", true, NULL},
    {"coordination.k8s.io", "v1", "leases", "lease", "Lease", true, NULL},
    {"storage.k8s.io", "v1", "storageclasses", "storageclass", "StorageClass", false, NULL},
    {"snapshot.storage.k8s.io", "v1", "volumesnapshots", "volumesnapshot", "VolumeSnapshot", true,
     snap_subs},
    {"snapshot.storage.k8s.io", "v1", "volumesnapshotcontents", "volumesnapshotcontent",
     "VolumeSnapshotContent", false, NULL},
    {"snapshot.storage.k8s.io", "v1", "volumesnapshotclasses", "volumesnapshotclass",
     "VolumeSnapshotClass", false, NULL},
    {"apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition",
     "CustomResourceDefinition", false, NULL},
    {"rbac.authorization.k8s.io", "v1", "roles", "role", "Role", true, NULL},
    {"rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", true, NULL},
    {"rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", false, NULL},
    {"rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding",
     "ClusterRoleBinding", false, NULL},
    {"networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", true, NULL},
    {"networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", true, NULL},
    {"admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
     "validatingwebhookconfiguration", "ValidatingWebhookConfiguration", false, NULL},
    {"admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
     "mutatingwebhookconfiguration", "MutatingWebhookConfiguration", false, NULL},
};

static void from_builtin(const struct builtin *b, struct fk_type *t)
{
    memset(t, 0, sizeof(*t));
    (void)snprintf(t->group, sizeof(t->group), "%s", b->group);
    (void)snprintf(t->version, sizeof(t->version), "%s", b->version);
    (void)snprintf(t->versions[0], sizeof(t->versions[0]), "%s", b->version);
    t->nversions = 1;
    (void)snprintf(t->plural, sizeof(t->plural), "%s", b->plural);
    (void)snprintf(t->singular, sizeof(t->singular), "%s", b->singular);
    (void)snprintf(t->kind, sizeof(t->kind), "%s", b->kind);
    t->namespaced = b->namespaced;
    t->builtin = true;
    t->subresources = b->subs;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A type from a CustomResourceDefinition object; false when it is incomplete. */
static bool from_crd(const cJSON *crd, struct fk_type *t)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(crd, "spec");
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(spec, "names");
    const cJSON *versions = cJSON_GetObjectItemCaseSensitive(spec, "versions");
    const char *group = jstr(spec, "group");
    const char *plural = jstr(names, "plural");
    const char *kind = jstr(names, "kind");
    const char *singular = jstr(names, "singular");
    const char *scope = jstr(spec, "scope");
    const cJSON *v;

    if (group == NULL || plural == NULL || kind == NULL || !cJSON_IsArray(versions))
        return false;
    memset(t, 0, sizeof(*t));
    (void)snprintf(t->group, sizeof(t->group), "%s", group);
    (void)snprintf(t->plural, sizeof(t->plural), "%s", plural);
    (void)snprintf(t->kind, sizeof(t->kind), "%s", kind);
    (void)snprintf(t->singular, sizeof(t->singular), "%s", singular ? singular : "");
    t->namespaced = scope == NULL || strcmp(scope, "Cluster") != 0;
    cJSON_ArrayForEach(v, versions)
    {
        const char *name = jstr(v, "name");
        const cJSON *served = cJSON_GetObjectItemCaseSensitive(v, "served");

        if (name == NULL || cJSON_IsFalse(served) || t->nversions >= CM_ARRAY_LEN(t->versions))
            continue;
        (void)snprintf(t->versions[t->nversions++], sizeof(t->versions[0]), "%s", name);
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "storage")) || t->version[0] == 0)
            (void)snprintf(t->version, sizeof(t->version), "%s", name);
    }
    return t->nversions > 0;
}

static bool serves(const struct fk_type *t, const char *version)
{
    size_t i;

    if (version == NULL)
        return true;
    for (i = 0; i < t->nversions; i++) {
        if (strcmp(t->versions[i], version) == 0)
            return true;
    }
    return false;
}

/* Calls fn for each type (built-ins, then CRDs in store order) until it returns true. */
static bool each_type(const struct fake_kube *s, bool (*fn)(const struct fk_type *, void *),
                      void *ctx)
{
    struct fk_type t;
    size_t i;

    for (i = 0; i < CM_ARRAY_LEN(builtins); i++) {
        from_builtin(&builtins[i], &t);
        if (fn(&t, ctx))
            return true;
    }
    for (i = 0; i < s->nobjs; i++) {
        if (strcmp(s->objs[i].plural, "customresourcedefinitions") != 0 ||
            strcmp(s->objs[i].group, "apiextensions.k8s.io") != 0)
            continue;
        if (from_crd(s->objs[i].obj, &t) && fn(&t, ctx))
            return true;
    }
    return false;
}

struct find_ctx {
    const char *group;
    const char *version;
    const char *name;
    bool by_kind;
    struct fk_type *out;
};

static bool find_cb(const struct fk_type *t, void *ctx)
{
    struct find_ctx *f = ctx;

    if (strcmp(t->group, f->group) != 0)
        return false;
    if (strcmp(t->plural, f->name) != 0 && !(f->by_kind && strcmp(t->kind, f->name) == 0))
        return false;
    if (!serves(t, f->version))
        return false;
    *f->out = *t;
    return true;
}

bool fk_type_find(const struct fake_kube *s, const char *group, const char *version,
                  const char *plural, struct fk_type *out)
{
    struct find_ctx f = {group, version, plural, false, out};

    return each_type(s, find_cb, &f);
}

bool fk_type_find_kind(const struct fake_kube *s, const char *group, const char *kind_or_plural,
                       struct fk_type *out)
{
    struct find_ctx f = {group, NULL, kind_or_plural, true, out};

    return each_type(s, find_cb, &f);
}

/* ---- discovery documents ---- */

cJSON *fk_disc_version(void)
{
    return cJSON_Parse("{\"major\":\"1\",\"minor\":\"30\",\"gitVersion\":\"v1.30.0-lockwarden-"
                       "fake\",\"gitCommit\":\"0000000000000000000000000000000000000000\","
                       "\"gitTreeState\":\"clean\",\"buildDate\":\"2026-01-01T00:00:00Z\","
                       "\"goVersion\":\"go1.22.0\",\"compiler\":\"gc\",\"platform\":"
                       "\"linux/amd64\"}");
}

cJSON *fk_disc_api(const struct fake_kube *s)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *vs = cJSON_AddArrayToObject(j, "versions");
    cJSON *cidrs = cJSON_AddArrayToObject(j, "serverAddressByClientCIDRs");
    cJSON *c = cJSON_CreateObject();
    char addr[64];

    (void)snprintf(addr, sizeof(addr), "127.0.0.1:%u", s->port);
    cJSON_AddStringToObject(j, "kind", "APIVersions");
    cJSON_AddItemToArray(vs, cJSON_CreateString("v1"));
    cJSON_AddStringToObject(c, "clientCIDR", "0.0.0.0/0");
    cJSON_AddStringToObject(c, "serverAddress", addr);
    cJSON_AddItemToArray(cidrs, c);
    return j;
}

static cJSON *group_json(const struct fk_type *t)
{
    cJSON *g = cJSON_CreateObject();
    cJSON *vs = cJSON_AddArrayToObject(g, "versions");
    cJSON *pref = cJSON_AddObjectToObject(g, "preferredVersion");
    char gv[FK_NAME + 80];
    size_t i;

    cJSON_AddStringToObject(g, "name", t->group);
    /* The preferred version first, as the apiserver orders by priority. */
    (void)snprintf(gv, sizeof(gv), "%s/%s", t->group, t->version);
    {
        cJSON *v = cJSON_CreateObject();

        cJSON_AddStringToObject(v, "groupVersion", gv);
        cJSON_AddStringToObject(v, "version", t->version);
        cJSON_AddItemToArray(vs, v);
    }
    for (i = 0; i < t->nversions; i++) {
        cJSON *v;

        if (strcmp(t->versions[i], t->version) == 0)
            continue;
        v = cJSON_CreateObject();
        (void)snprintf(gv, sizeof(gv), "%s/%s", t->group, t->versions[i]);
        cJSON_AddStringToObject(v, "groupVersion", gv);
        cJSON_AddStringToObject(v, "version", t->versions[i]);
        cJSON_AddItemToArray(vs, v);
    }
    (void)snprintf(gv, sizeof(gv), "%s/%s", t->group, t->version);
    cJSON_AddStringToObject(pref, "groupVersion", gv);
    cJSON_AddStringToObject(pref, "version", t->version);
    return g;
}

struct groups_ctx {
    cJSON *arr;
    char seen[128][FK_NAME];
    size_t nseen;
};

static bool groups_cb(const struct fk_type *t, void *ctx)
{
    struct groups_ctx *g = ctx;
    size_t i;

    if (t->group[0] == '\0')
        return false;
    for (i = 0; i < g->nseen; i++) {
        if (strcmp(g->seen[i], t->group) == 0)
            return false;
    }
    if (g->nseen < CM_ARRAY_LEN(g->seen))
        (void)snprintf(g->seen[g->nseen++], FK_NAME, "%s", t->group);
    cJSON_AddItemToArray(g->arr, group_json(t));
    return false;
}

cJSON *fk_disc_apis(const struct fake_kube *s)
{
    struct groups_ctx *g = calloc(1, sizeof(*g)); /* 32 KiB: not on the stack */
    cJSON *j = cJSON_CreateObject();

    if (g == NULL || j == NULL) {
        free(g);
        cJSON_Delete(j);
        return NULL;
    }
    cJSON_AddStringToObject(j, "kind", "APIGroupList");
    cJSON_AddStringToObject(j, "apiVersion", "v1");
    g->arr = cJSON_AddArrayToObject(j, "groups");
    (void)each_type(s, groups_cb, g);
    free(g);
    return j;
}

struct group_one {
    const char *group;
    cJSON *out;
};

static bool group_one_cb(const struct fk_type *t, void *ctx)
{
    struct group_one *g = ctx;

    if (strcmp(t->group, g->group) != 0)
        return false;
    g->out = group_json(t);
    return true;
}

cJSON *fk_disc_group(const struct fake_kube *s, const char *group)
{
    struct group_one g = {group, NULL};

    if (!each_type(s, group_one_cb, &g))
        return NULL;
    cJSON_AddStringToObject(g.out, "kind", "APIGroup");
    cJSON_AddStringToObject(g.out, "apiVersion", "v1");
    return g.out;
}

struct res_ctx {
    const char *group;
    const char *version;
    cJSON *arr;
    size_t n;
};

static bool res_cb(const struct fk_type *t, void *ctx)
{
    static const char *const verbs[] = {"create", "delete", "deletecollection", "get",
                                        "list",   "patch",  "update",           "watch"};
    struct res_ctx *r = ctx;
    cJSON *o;
    cJSON *v;
    size_t i;

    if (strcmp(t->group, r->group) != 0 || !serves(t, r->version))
        return false;
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", t->plural);
    cJSON_AddStringToObject(o, "singularName", t->singular);
    cJSON_AddBoolToObject(o, "namespaced", t->namespaced);
    cJSON_AddStringToObject(o, "kind", t->kind);
    v = cJSON_AddArrayToObject(o, "verbs");
    for (i = 0; i < CM_ARRAY_LEN(verbs); i++)
        cJSON_AddItemToArray(v, cJSON_CreateString(verbs[i]));
    cJSON_AddStringToObject(o, "storageVersionHash", "fAkEhAsH0000");
    cJSON_AddItemToArray(r->arr, o);
    r->n++;
    for (i = 0; t->subresources != NULL && t->subresources[i] != NULL; i++) {
        const char *sub = strchr(t->subresources[i], '/');

        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", t->subresources[i]);
        cJSON_AddStringToObject(o, "singularName", "");
        cJSON_AddBoolToObject(o, "namespaced", t->namespaced);
        cJSON_AddStringToObject(o, "kind", strcmp(sub, "/scale") == 0 ? "Scale" : t->kind);
        v = cJSON_AddArrayToObject(o, "verbs");
        cJSON_AddItemToArray(v, cJSON_CreateString("get"));
        cJSON_AddItemToArray(r->arr, o);
    }
    return false;
}

cJSON *fk_disc_resources(const struct fake_kube *s, const char *group, const char *version)
{
    struct res_ctx r = {group, version, NULL, 0};
    cJSON *j = cJSON_CreateObject();
    char gv[FK_NAME + 80];

    cJSON_AddStringToObject(j, "kind", "APIResourceList");
    cJSON_AddStringToObject(j, "apiVersion", "v1");
    if (group[0] != '\0')
        (void)snprintf(gv, sizeof(gv), "%s/%s", group, version);
    else
        (void)snprintf(gv, sizeof(gv), "%s", version);
    cJSON_AddStringToObject(j, "groupVersion", gv);
    r.arr = cJSON_AddArrayToObject(j, "resources");
    (void)each_type(s, res_cb, &r);
    if (r.n == 0) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}
