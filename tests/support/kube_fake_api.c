/* SPDX-License-Identifier: Apache-2.0 */
/* kube_fake_api.c - the fake kube-apiserver's test-facing API: seeding and reading the
 * store, fault rules, the request log and verb counters (all under the server mutex). */
#include "fake_kube.h"

#include "common/cm.h"
#include "kube_fake_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const verb_names[8] = {"get",   "list",   "create",           "update",
                                          "patch", "delete", "deletecollection", "discovery"};

char *fk_xstrdup(const char *s)
{
    char *d;
    size_t n;

    if (s == NULL)
        return NULL;
    n = strlen(s);
    d = malloc(n + 1);
    if (d != NULL)
        memcpy(d, s, n + 1);
    return d;
}

int fk_verb_index(const char *verb)
{
    size_t i;

    for (i = 0; i < CM_ARRAY_LEN(verb_names); i++) {
        if (strcmp(verb_names[i], verb) == 0)
            return (int)i;
    }
    return -1;
}

void fk_free_rules(struct fake_kube *s)
{
    size_t i;

    for (i = 0; i < s->nrules; i++) {
        free(s->rules[i].method);
        free(s->rules[i].path);
        free(s->rules[i].query);
    }
    s->nrules = 0;
}

static int add_json_locked(struct fake_kube *s, const cJSON *j)
{
    const cJSON *items = NULL;
    const cJSON *it;
    int n = 0;

    if (cJSON_IsArray(j))
        items = j;
    else if (cJSON_IsObject(j) && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "items")))
        items = cJSON_GetObjectItemCaseSensitive(j, "items");
    if (items == NULL)
        return fk_store_add(s, j) == 0 ? 1 : -1;
    /* CRDs first, so that custom resources in the same batch find their type. */
    cJSON_ArrayForEach(it, items)
    {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(it, "kind");

        if (cJSON_IsString(k) && strcmp(k->valuestring, "CustomResourceDefinition") == 0) {
            if (fk_store_add(s, it) != 0)
                return -1;
            n++;
        }
    }
    cJSON_ArrayForEach(it, items)
    {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(it, "kind");

        if (cJSON_IsString(k) && strcmp(k->valuestring, "CustomResourceDefinition") == 0)
            continue;
        if (fk_store_add(s, it) != 0)
            return -1;
        n++;
    }
    return n;
}

int fake_kube_add_object(struct fake_kube *srv, const cJSON *obj)
{
    int n;

    pthread_mutex_lock(&srv->mu);
    n = add_json_locked(srv, obj);
    pthread_mutex_unlock(&srv->mu);
    return n;
}

int fake_kube_add_object_json(struct fake_kube *srv, const char *json)
{
    cJSON *j = cJSON_Parse(json);
    int n;

    if (j == NULL) {
        fprintf(stderr, "fake_kube: seed is not valid JSON\n");
        return -1;
    }
    n = fake_kube_add_object(srv, j);
    cJSON_Delete(j);
    return n;
}

int fake_kube_load_file(struct fake_kube *srv, const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0;
    size_t cap = 0;
    int n;

    if (f == NULL) {
        fprintf(stderr, "fake_kube: cannot open %s\n", path);
        return -1;
    }
    for (;;) {
        size_t got;

        if (cap - len < 4096) {
            char *nb;

            cap = cap ? cap * 2 : 65536;
            if (cap > FK_MAX_BODY * 4u) {
                free(buf);
                fclose(f);
                return -1;
            }
            nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nb;
        }
        got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[len] = '\0';
    n = fake_kube_add_object_json(srv, buf);
    free(buf);
    return n;
}

static bool split_av(const char *api_version, char *group, size_t len)
{
    const char *slash;

    if (api_version == NULL)
        return false;
    slash = strchr(api_version, '/');
    (void)snprintf(group, len, "%.*s", slash ? (int)(slash - api_version) : 0, api_version);
    return true;
}

cJSON *fake_kube_get_object(struct fake_kube *srv, const char *api_version,
                            const char *kind_or_plural, const char *ns, const char *name)
{
    char group[FK_NAME];
    struct fk_type t;
    struct fk_obj *o;
    cJSON *c = NULL;

    if (!split_av(api_version, group, sizeof(group)) || name == NULL)
        return NULL;
    pthread_mutex_lock(&srv->mu);
    if (fk_type_find_kind(srv, group, kind_or_plural, &t)) {
        o = fk_store_find(srv, t.group, t.plural, t.namespaced ? (ns ? ns : "") : "", name);
        if (o != NULL)
            c = cJSON_Duplicate(o->obj, 1);
    }
    pthread_mutex_unlock(&srv->mu);
    return c;
}

size_t fake_kube_count_objects(struct fake_kube *srv, const char *api_version,
                               const char *kind_or_plural, const char *ns)
{
    char group[FK_NAME];
    struct fk_type t;
    size_t n = 0;
    size_t i;

    if (!split_av(api_version, group, sizeof(group)))
        return 0;
    pthread_mutex_lock(&srv->mu);
    if (fk_type_find_kind(srv, group, kind_or_plural, &t)) {
        for (i = 0; i < srv->nobjs; i++) {
            const struct fk_obj *o = &srv->objs[i];

            if (strcmp(o->group, t.group) == 0 && strcmp(o->plural, t.plural) == 0 &&
                (ns == NULL || strcmp(o->ns, ns) == 0))
                n++;
        }
    }
    pthread_mutex_unlock(&srv->mu);
    return n;
}

int fake_kube_delete_object(struct fake_kube *srv, const char *api_version,
                            const char *kind_or_plural, const char *ns, const char *name)
{
    char group[FK_NAME];
    struct fk_type t;
    struct fk_obj *o;
    int rc = -1;

    if (!split_av(api_version, group, sizeof(group)) || name == NULL)
        return -1;
    pthread_mutex_lock(&srv->mu);
    if (fk_type_find_kind(srv, group, kind_or_plural, &t)) {
        o = fk_store_find(srv, t.group, t.plural, t.namespaced ? (ns ? ns : "") : "", name);
        if (o != NULL) {
            fk_store_remove(srv, o);
            srv->rv++;
            rc = 0;
        }
    }
    pthread_mutex_unlock(&srv->mu);
    return rc;
}

void fake_kube_expire_continue_tokens(struct fake_kube *srv)
{
    pthread_mutex_lock(&srv->mu);
    srv->compacted_rv = srv->rv;
    srv->rv++;
    pthread_mutex_unlock(&srv->mu);
}

int fake_kube_snapshot_fail(struct fake_kube *srv, const char *name_or_pvc, const char *message)
{
    struct fk_fail *n;
    int rc = -1;

    if (name_or_pvc == NULL || message == NULL)
        return -1;
    pthread_mutex_lock(&srv->mu);
    n = realloc(srv->fails, (srv->nfails + 1) * sizeof(*n));
    if (n != NULL) {
        srv->fails = n;
        (void)snprintf(n[srv->nfails].key, sizeof(n->key), "%s", name_or_pvc);
        (void)snprintf(n[srv->nfails].message, sizeof(n->message), "%s", message);
        srv->nfails++;
        rc = 0;
    }
    pthread_mutex_unlock(&srv->mu);
    return rc;
}

void fake_kube_snapshot_ready_after(struct fake_kube *srv, unsigned gets)
{
    pthread_mutex_lock(&srv->mu);
    srv->snap_ready_after = gets;
    pthread_mutex_unlock(&srv->mu);
}

int fake_kube_inject(struct fake_kube *srv, const struct fake_kube_rule *rule)
{
    struct fk_rule *r;
    int rc = -1;

    pthread_mutex_lock(&srv->mu);
    if (srv->nrules < FK_MAX_RULES) {
        r = &srv->rules[srv->nrules];
        memset(r, 0, sizeof(*r));
        r->method = fk_xstrdup(rule->method);
        r->path = fk_xstrdup(rule->path);
        r->query = fk_xstrdup(rule->query);
        r->fault = rule->fault;
        r->count = rule->count;
        r->unlimited = rule->count == 0;
        r->retry_after_s = rule->retry_after_s;
        if ((rule->method == NULL || r->method != NULL) && (rule->path == NULL || r->path) &&
            (rule->query == NULL || r->query != NULL)) {
            srv->nrules++;
            rc = 0;
        } else {
            free(r->method);
            free(r->path);
            free(r->query);
        }
    }
    pthread_mutex_unlock(&srv->mu);
    return rc;
}

void fake_kube_clear_faults(struct fake_kube *srv)
{
    pthread_mutex_lock(&srv->mu);
    fk_free_rules(srv);
    pthread_mutex_unlock(&srv->mu);
}

size_t fake_kube_request_count(struct fake_kube *srv)
{
    size_t n;

    pthread_mutex_lock(&srv->mu);
    n = srv->nlog;
    pthread_mutex_unlock(&srv->mu);
    return n;
}

int fake_kube_request_get(struct fake_kube *srv, size_t i, struct fake_kube_request *out)
{
    int rc = -1;

    pthread_mutex_lock(&srv->mu);
    if (i < srv->nlog) {
        *out = srv->log[i];
        rc = 0;
    }
    pthread_mutex_unlock(&srv->mu);
    return rc;
}

size_t fake_kube_request_match(struct fake_kube *srv, const char *method, const char *path,
                               const char *query)
{
    size_t n = 0;
    size_t i;

    pthread_mutex_lock(&srv->mu);
    for (i = 0; i < srv->nlog; i++) {
        const struct fake_kube_request *e = &srv->log[i];

        if ((method == NULL || strcmp(e->method, method) == 0) &&
            (path == NULL || strstr(e->path, path) != NULL) &&
            (query == NULL || strstr(e->query, query) != NULL))
            n++;
    }
    pthread_mutex_unlock(&srv->mu);
    return n;
}

void fake_kube_requests_clear(struct fake_kube *srv)
{
    pthread_mutex_lock(&srv->mu);
    srv->nlog = 0;
    memset(srv->verb_counts, 0, sizeof(srv->verb_counts));
    pthread_mutex_unlock(&srv->mu);
}

size_t fake_kube_verb_count(struct fake_kube *srv, const char *verb)
{
    int vi = fk_verb_index(verb);
    size_t n = 0;

    if (vi < 0)
        return 0;
    pthread_mutex_lock(&srv->mu);
    n = srv->verb_counts[vi];
    pthread_mutex_unlock(&srv->mu);
    return n;
}
