/* SPDX-License-Identifier: Apache-2.0 */
/* kube_discovery.c - API discovery: /api, /api/v1, /apis and each group's preferred
 * version, into a flat table of resource types (no hard-coded list). */
#include "kube_int.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    uint32_t bit;
} verb_names[] = {
    {"get", KUBE_VERB_GET},       {"list", KUBE_VERB_LIST},
    {"watch", KUBE_VERB_WATCH},   {"create", KUBE_VERB_CREATE},
    {"update", KUBE_VERB_UPDATE}, {"patch", KUBE_VERB_PATCH},
    {"delete", KUBE_VERB_DELETE}, {"deletecollection", KUBE_VERB_DELETECOLLECTION},
};

static bool fits(const char *s, size_t cap)
{
    return s != NULL && s[0] != '\0' && strlen(s) < cap;
}

static bool has_kind(const struct kube_discovery *d, const char *group, const char *plural)
{
    size_t i;

    for (i = 0; i < d->n; i++) {
        if (strcmp(d->res[i].group, group) == 0 && strcmp(d->res[i].plural, plural) == 0)
            return true;
    }
    return false;
}

int kube_discovery_add_list(struct kube_discovery *d, const char *group, const char *version,
                            const cJSON *body, struct cm_err *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(body, "resources");
    const cJSON *it;

    if (!cJSON_IsObject(body) || !cJSON_IsArray(arr))
        return cm_err_set(err, CM_EPROTO,
                          "kube: discovery of %s%s%s is not an "
                          "APIResourceList",
                          group, group[0] ? "/" : "", version);
    if (!fits(version, sizeof(d->res[0].version)) || strlen(group) >= sizeof(d->res[0].group))
        return cm_err_set(err, CM_EPROTO, "kube: discovery: group or version name too long");
    cJSON_ArrayForEach(it, arr)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(it, "kind");
        const cJSON *ns = cJSON_GetObjectItemCaseSensitive(it, "namespaced");
        const cJSON *verbs = cJSON_GetObjectItemCaseSensitive(it, "verbs");
        const cJSON *v;
        struct kube_resource *r;

        if (!cJSON_IsObject(it) || !cJSON_IsString(name) || !cJSON_IsString(kind))
            return cm_err_set(err, CM_EPROTO,
                              "kube: discovery of %s%s%s: a resource without "
                              "name or kind",
                              group, group[0] ? "/" : "", version);
        if (strchr(name->valuestring, '/') != NULL)
            continue; /* a subresource such as pods/log */
        if (!fits(name->valuestring, KUBE_MAX_NAME) || !fits(kind->valuestring, KUBE_MAX_NAME))
            return cm_err_set(err, CM_EPROTO,
                              "kube: discovery of %s%s%s: bad resource name "
                              "or kind",
                              group, group[0] ? "/" : "", version);
        if (has_kind(d, group, name->valuestring))
            continue;
        if (d->n == d->cap) {
            size_t ncap = d->cap ? d->cap * 2 : 64;
            struct kube_resource *nr;

            if (d->n >= KUBE_MAX_RESOURCES)
                return cm_err_set(err, CM_ETOOBIG,
                                  "kube: discovery found more than %d "
                                  "resource types",
                                  KUBE_MAX_RESOURCES);
            if (ncap > KUBE_MAX_RESOURCES)
                ncap = KUBE_MAX_RESOURCES;
            nr = cm_realloc(d->res, ncap * sizeof(*nr));
            if (nr == NULL)
                return cm_err_set(err, CM_ENOMEM, "kube: out of memory");
            d->res = nr;
            d->cap = ncap;
        }
        r = &d->res[d->n];
        memset(r, 0, sizeof(*r));
        (void)snprintf(r->group, sizeof(r->group), "%s", group);
        (void)snprintf(r->version, sizeof(r->version), "%s", version);
        if (group[0] != '\0')
            (void)snprintf(r->api_version, sizeof(r->api_version), "%s/%s", group, version);
        else
            (void)snprintf(r->api_version, sizeof(r->api_version), "%s", version);
        (void)snprintf(r->kind, sizeof(r->kind), "%s", kind->valuestring);
        (void)snprintf(r->plural, sizeof(r->plural), "%s", name->valuestring);
        r->namespaced = cJSON_IsTrue(ns);
        cJSON_ArrayForEach(v, verbs)
        {
            size_t k;

            if (!cJSON_IsString(v))
                continue;
            for (k = 0; k < CM_ARRAY_LEN(verb_names); k++) {
                if (strcmp(v->valuestring, verb_names[k].name) == 0)
                    r->verbs |= verb_names[k].bit;
            }
        }
        d->n++;
    }
    return 0;
}

int kube_discovery_each_group(const cJSON *group_list, kube_group_fn fn, void *ctx,
                              struct cm_err *err)
{
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(group_list, "groups");
    const cJSON *g;

    if (!cJSON_IsObject(group_list) || !cJSON_IsArray(groups))
        return cm_err_set(err, CM_EPROTO, "kube: /apis is not an APIGroupList");
    cJSON_ArrayForEach(g, groups)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(g, "name");
        const cJSON *pref = cJSON_GetObjectItemCaseSensitive(g, "preferredVersion");
        const cJSON *ver = cJSON_GetObjectItemCaseSensitive(pref, "version");
        int rc;

        if (!cJSON_IsString(name) || !fits(name->valuestring, KUBE_MAX_NAME) ||
            strchr(name->valuestring, '/') != NULL)
            return cm_err_set(err, CM_EPROTO, "kube: /apis: a group without a valid name");
        if (!cJSON_IsString(ver)) {
            /* No preferredVersion: the first listed version (the server's order is its
             * priority order). */
            const cJSON *vs = cJSON_GetObjectItemCaseSensitive(g, "versions");

            ver = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(vs, 0), "version");
        }
        if (!cJSON_IsString(ver) || !fits(ver->valuestring, 64) ||
            strpbrk(ver->valuestring, "/?#% ") != NULL)
            return cm_err_set(err, CM_EPROTO, "kube: /apis: group %.100s has no valid version",
                              name->valuestring);
        rc = fn(name->valuestring, ver->valuestring, ctx);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int kube_discovery_core_version(const cJSON *versions, char *buf, size_t len, struct cm_err *err)
{
    const cJSON *vs = cJSON_GetObjectItemCaseSensitive(versions, "versions");
    const cJSON *v = cJSON_GetArrayItem(vs, 0);

    if (!cJSON_IsObject(versions) || !cJSON_IsArray(vs) || !cJSON_IsString(v) ||
        !fits(v->valuestring, len) || strpbrk(v->valuestring, "/?#% ") != NULL)
        return cm_err_set(err, CM_EPROTO, "kube: /api is not an APIVersions document");
    (void)snprintf(buf, len, "%s", v->valuestring);
    return 0;
}

struct disc_run {
    struct kube_client *c;
    struct kube_discovery *d;
    struct cm_err *err;
};

static int load_group(const char *group, const char *version, void *ctx)
{
    struct disc_run *run = ctx;
    char path[KUBE_MAX_PATH];
    struct cm_err gerr;
    cJSON *body = NULL;
    int rc;

    (void)snprintf(path, sizeof(path), "/apis/%s/%s", group, version);
    rc = kube_request(run->c, "GET", path, NULL, 0, NULL, NULL, &body, &gerr);
    if (rc == 0)
        rc = kube_discovery_add_list(run->d, group, version, body, &gerr);
    cJSON_Delete(body);
    if (rc == 0)
        return 0;
    if (rc == CM_ENOMEM || rc == CM_EAUTH || rc == CM_ETLS || rc == CM_ETOOBIG) {
        if (run->err != NULL)
            *run->err = gerr;
        return rc;
    }
    /* An aggregated API that is down (metrics.k8s.io answering 503) must not hide
     * the rest of the cluster: skip the group, say so. */
    run->d->failed_groups++;
    cm_log(CM_LOG_WARN, "kube", "discovery skipped a group that failed to load",
           CM_LS("group", group), CM_LS("version", version), CM_LS("err", gerr.msg));
    return 0;
}

int kube_discover(struct kube_client *c, struct kube_discovery **out, struct cm_err *err)
{
    struct kube_discovery *d;
    struct disc_run run;
    cJSON *body = NULL;
    char core[64];
    char path[128];
    int rc;

    d = cm_calloc(1, sizeof(*d));
    if (d == NULL)
        return cm_err_set(err, CM_ENOMEM, "kube: out of memory");
    rc = kube_request(c, "GET", "/api", NULL, 0, NULL, NULL, &body, err);
    if (rc == 0)
        rc = kube_discovery_core_version(body, core, sizeof(core), err);
    cJSON_Delete(body);
    body = NULL;
    if (rc != 0)
        goto fail;
    (void)snprintf(path, sizeof(path), "/api/%s", core);
    rc = kube_request(c, "GET", path, NULL, 0, NULL, NULL, &body, err);
    if (rc == 0)
        rc = kube_discovery_add_list(d, "", core, body, err);
    cJSON_Delete(body);
    body = NULL;
    if (rc != 0)
        goto fail;
    rc = kube_request(c, "GET", "/apis", NULL, 0, NULL, NULL, &body, err);
    if (rc != 0)
        goto fail;
    run.c = c;
    run.d = d;
    run.err = err;
    rc = kube_discovery_each_group(body, load_group, &run, err);
    cJSON_Delete(body);
    if (rc != 0)
        goto fail;
    *out = d;
    return 0;
fail:
    kube_discovery_destroy(d);
    return rc;
}

void kube_discovery_destroy(struct kube_discovery *d)
{
    if (d == NULL)
        return;
    cm_free(d->res);
    cm_free(d);
}

size_t kube_discovery_count(const struct kube_discovery *d)
{
    return d->n;
}

const struct kube_resource *kube_discovery_get(const struct kube_discovery *d, size_t i)
{
    return i < d->n ? &d->res[i] : NULL;
}

size_t kube_discovery_failed_groups(const struct kube_discovery *d)
{
    return d->failed_groups;
}

const struct kube_resource *kube_discovery_find(const struct kube_discovery *d, const char *group,
                                                const char *kind_or_plural)
{
    size_t i;

    if (group == NULL)
        group = "";
    for (i = 0; i < d->n; i++) {
        const struct kube_resource *r = &d->res[i];

        if (strcmp(r->group, group) == 0 &&
            (strcmp(r->kind, kind_or_plural) == 0 || strcmp(r->plural, kind_or_plural) == 0))
            return r;
    }
    return NULL;
}

const struct kube_resource *kube_discovery_find_kind(const struct kube_discovery *d,
                                                     const char *api_version, const char *kind)
{
    char group[KUBE_MAX_NAME];
    const char *slash;
    size_t i;

    if (api_version == NULL || kind == NULL)
        return NULL;
    slash = strchr(api_version, '/');
    if (slash == NULL) {
        group[0] = '\0';
    } else {
        size_t n = (size_t)(slash - api_version);

        if (n >= sizeof(group))
            return NULL;
        memcpy(group, api_version, n);
        group[n] = '\0';
    }
    for (i = 0; i < d->n; i++) {
        if (strcmp(d->res[i].group, group) == 0 && strcmp(d->res[i].kind, kind) == 0)
            return &d->res[i];
    }
    return NULL;
}

void kube_resource_ref(const struct kube_resource *r, const char *ns, const char *name,
                       struct kube_ref *out)
{
    out->api_version = r->api_version;
    out->resource = r->plural;
    out->namespace_ = r->namespaced ? ns : NULL;
    out->name = name;
}
