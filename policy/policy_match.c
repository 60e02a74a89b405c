/* SPDX-License-Identifier: Apache-2.0 */
/* policy_match.c - Kyverno match/exclude: the resources shorthand and any/all lists of
 * resource filters (kinds, names, namespaces, operations, selector, namespaceSelector,
 * annotations), compiled once and evaluated without allocating. */
#include "policy_load_int.h"

#include <string.h>

#define OPS_ALL 0xfu
#define OPS_DEFAULT ((1u << POLICY_OP_CREATE) | (1u << POLICY_OP_UPDATE))

static void filter_free(struct pol_filter *f)
{
    size_t i;

    for (i = 0; i < f->nkinds; i++) {
        pol_wildcard_destroy(f->kinds[i].group);
        pol_wildcard_destroy(f->kinds[i].version);
        pol_wildcard_destroy(f->kinds[i].kind);
    }
    cm_free(f->kinds);
    pol_wlist_free(&f->names);
    pol_wlist_free(&f->namespaces);
    pol_selector_destroy(f->selector);
    pol_selector_destroy(f->ns_selector);
    pol_sel_labels_free(f->annotations, f->nannotations);
    memset(f, 0, sizeof(*f));
}

void pol_match_free(struct pol_match *m)
{
    size_t i;

    for (i = 0; i < m->n; i++)
        filter_free(&m->filters[i]);
    cm_free(m->filters);
    memset(m, 0, sizeof(*m));
}

static int wc(const struct pol_ctx *c, const cJSON *node, const char *s, size_t n,
              struct pol_wildcard **out)
{
    struct cm_err e;
    int rc;

    *out = NULL;
    if (n == 1 && s[0] == '*')
        return 0; /* NULL = any */
    rc = pol_wildcard_compile(s, n, out, &e);
    if (rc == CM_ENOMEM)
        return cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
    if (rc != 0)
        return pol_ctx_fail(c, CM_ECONFIG, node, "kinds: %s", e.msg);
    return 0;
}

/* "Kind", "version/Kind" or "group/version/Kind", each part a wildcard. */
static int compile_kind(const struct pol_ctx *c, const cJSON *node, struct pol_kind *k)
{
    const char *s;
    const char *parts[3];
    size_t lens[3];
    size_t np = 0;
    const char *p;
    int rc;

    if (!cJSON_IsString(node) || node->valuestring[0] == '\0')
        return pol_ctx_fail(c, CM_ECONFIG, node, "kinds entries must be non-empty strings");
    s = node->valuestring;
    p = s;
    for (;;) {
        const char *slash = strchr(p, '/');

        if (np == 3)
            return pol_ctx_fail(c, CM_ECONFIG, node,
                                "kind \"%.80s\" has too many parts (use Kind, version/Kind or "
                                "group/version/Kind)",
                                s);
        parts[np] = p;
        lens[np] = slash != NULL ? (size_t)(slash - p) : strlen(p);
        if (lens[np] == 0)
            return pol_ctx_fail(c, CM_ECONFIG, node, "kind \"%.80s\" has an empty part", s);
        np++;
        if (slash == NULL)
            break;
        p = slash + 1;
    }
    if (np == 2 && parts[0][0] >= 'A' && parts[0][0] <= 'Z')
        return pol_ctx_fail(c, CM_ECONFIG, node, "kind \"%.80s\": subresources are not supported",
                            s);
    memset(k, 0, sizeof(*k));
    rc = wc(c, node, parts[np - 1], lens[np - 1], &k->kind);
    if (rc == 0 && np >= 2)
        rc = wc(c, node, parts[np - 2], lens[np - 2], &k->version);
    if (rc == 0 && np == 3)
        rc = wc(c, node, parts[0], lens[0], &k->group);
    return rc;
}

static int compile_ops(const struct pol_ctx *c, const cJSON *ops, unsigned *out)
{
    static const char *const names[] = {"CREATE", "UPDATE", "DELETE", "CONNECT"};
    const cJSON *it;

    if (!cJSON_IsArray(ops))
        return pol_ctx_fail(c, CM_ECONFIG, ops, "operations must be a list");
    *out = 0;
    cJSON_ArrayForEach(it, ops)
    {
        size_t i;
        bool found = false;

        for (i = 0; i < CM_ARRAY_LEN(names) && cJSON_IsString(it); i++) {
            if (strcmp(it->valuestring, names[i]) == 0) {
                *out |= 1u << i;
                found = true;
            }
        }
        if (!found)
            return pol_ctx_fail(c, CM_ECONFIG, it,
                                "operations entries must be CREATE, UPDATE, DELETE or CONNECT");
    }
    return 0;
}

static int compile_resources(const struct pol_ctx *c, const cJSON *res, bool is_exclude,
                             struct pol_filter *f)
{
    static const char *const keys[] = {
        "kinds",       "names", "name", "namespaces", "operations", "selector", "namespaceSelector",
        "annotations", NULL};
    const cJSON *kinds;
    const cJSON *it;
    const cJSON *v;
    int rc;

    memset(f, 0, sizeof(*f));
    f->ops = is_exclude ? OPS_ALL : OPS_DEFAULT;
    if (!cJSON_IsObject(res))
        return pol_ctx_fail(c, CM_ECONFIG, res, "resources must be a mapping");
    rc = pol_check_keys(c, res, keys);
    if (rc == 0)
        rc = pol_get_array(c, res, "kinds", !is_exclude, &kinds);
    if (rc != 0)
        return rc;
    if (!is_exclude && cJSON_GetArraySize(kinds) == 0)
        return pol_ctx_fail(c, CM_ECONFIG, kinds, "match resources need at least one kind");
    if (kinds != NULL && cJSON_GetArraySize(kinds) > 0) {
        f->kinds = cm_calloc((size_t)cJSON_GetArraySize(kinds), sizeof(*f->kinds));
        if (f->kinds == NULL)
            return cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
        cJSON_ArrayForEach(it, kinds)
        {
            rc = compile_kind(c, it, &f->kinds[f->nkinds]);
            f->nkinds++;
            if (rc != 0)
                return rc;
        }
    }
    v = cJSON_GetObjectItemCaseSensitive(res, "name");
    if (v != NULL && cJSON_GetObjectItemCaseSensitive(res, "names") != NULL)
        return pol_ctx_fail(c, CM_ECONFIG, v, "use either name or names, not both");
    if (v != NULL) {
        /* The deprecated singular form: one wildcard. */
        cJSON *one = cJSON_CreateArray();
        cJSON *ref = cJSON_CreateStringReference(cJSON_IsString(v) ? v->valuestring : "");

        if (one == NULL || ref == NULL || !cJSON_AddItemToArray(one, ref)) {
            cJSON_Delete(one);
            cJSON_Delete(ref);
            return cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
        }
        if (!cJSON_IsString(v))
            rc = pol_ctx_fail(c, CM_ECONFIG, v, "name must be a string");
        else
            rc = pol_wlist_compile(c, one, "name", &f->names);
        cJSON_Delete(one);
    } else {
        rc = pol_wlist_compile(c, cJSON_GetObjectItemCaseSensitive(res, "names"), "names",
                               &f->names);
    }
    if (rc == 0)
        rc = pol_wlist_compile(c, cJSON_GetObjectItemCaseSensitive(res, "namespaces"), "namespaces",
                               &f->namespaces);
    if (rc != 0)
        return rc;
    v = cJSON_GetObjectItemCaseSensitive(res, "operations");
    if (v != NULL && (rc = compile_ops(c, v, &f->ops)) != 0)
        return rc;
    v = cJSON_GetObjectItemCaseSensitive(res, "selector");
    if (v != NULL && (rc = pol_selector_compile(c, v, &f->selector)) != 0)
        return rc;
    v = cJSON_GetObjectItemCaseSensitive(res, "namespaceSelector");
    if (v != NULL && (rc = pol_selector_compile(c, v, &f->ns_selector)) != 0)
        return rc;
    v = cJSON_GetObjectItemCaseSensitive(res, "annotations");
    if (v != NULL && (rc = pol_annotations_compile(c, v, &f->annotations, &f->nannotations)) != 0)
        return rc;
    return 0;
}

/* One element of any/all: {resources: {...}}. */
static int compile_element(const struct pol_ctx *c, const cJSON *el, bool is_exclude,
                           struct pol_filter *f)
{
    static const char *const unsupported[] = {"subjects", "roles", "clusterRoles", NULL};
    const cJSON *res;
    size_t i;

    memset(f, 0, sizeof(*f));
    if (!cJSON_IsObject(el))
        return pol_ctx_fail(c, CM_ECONFIG, el, "any/all entries must be mappings");
    for (i = 0; unsupported[i] != NULL; i++) {
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(el, unsupported[i]);

        if (u != NULL)
            return pol_ctx_fail_key(
                c, CM_ECONFIG, u, "%s filters are not supported (only resources)", unsupported[i]);
    }
    res = cJSON_GetObjectItemCaseSensitive(el, "resources");
    if (res == NULL)
        return pol_ctx_fail(c, CM_ECONFIG, el, "filter needs resources");
    {
        static const char *const keys[] = {"resources", NULL};
        int rc = pol_check_keys(c, el, keys);

        if (rc != 0)
            return rc;
    }
    return compile_resources(c, res, is_exclude, f);
}

int pol_match_compile(const struct pol_ctx *c, const cJSON *m, bool is_exclude,
                      struct pol_match *out)
{
    const cJSON *res;
    const cJSON *any;
    const cJSON *all;
    const cJSON *list;
    const cJSON *it;
    const char *what = is_exclude ? "exclude" : "match";
    int rc;

    memset(out, 0, sizeof(*out));
    if (m == NULL || cJSON_IsNull(m)) {
        if (is_exclude)
            return 0;
        return pol_ctx_fail(c, CM_ECONFIG, m, "match is required");
    }
    if (!cJSON_IsObject(m))
        return pol_ctx_fail(c, CM_ECONFIG, m, "%s must be a mapping", what);
    res = cJSON_GetObjectItemCaseSensitive(m, "resources");
    any = cJSON_GetObjectItemCaseSensitive(m, "any");
    all = cJSON_GetObjectItemCaseSensitive(m, "all");
    if ((res != NULL) + (any != NULL) + (all != NULL) > 1)
        return pol_ctx_fail(c, CM_ECONFIG, m, "%s takes one of resources, any or all", what);
    if (res != NULL) {
        /* The shorthand: one filter, with subjects/roles beside it still refused. */
        out->filters = cm_calloc(1, sizeof(*out->filters));
        if (out->filters == NULL)
            return cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
        out->n = 1;
        rc = compile_element(c, m, is_exclude, &out->filters[0]);
        if (rc != 0)
            pol_match_free(out);
        return rc;
    }
    list = any != NULL ? any : all;
    if (list == NULL) {
        if (is_exclude && cJSON_GetArraySize(m) == 0)
            return 0;
        if (m->child != NULL && strcmp(m->child->string, "resources") != 0) {
            struct pol_filter tmp;

            /* Reports subjects/roles as unsupported, or the unknown field. */
            rc = compile_element(c, m, is_exclude, &tmp);
            filter_free(&tmp);
            if (rc != 0)
                return rc;
        }
        return pol_ctx_fail(c, CM_ECONFIG, m, "%s needs resources, any or all", what);
    }
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0)
        return pol_ctx_fail(c, CM_ECONFIG, list, "%s.%s must be a non-empty list", what,
                            any != NULL ? "any" : "all");
    {
        static const char *const keys[] = {"any", "all", NULL};

        rc = pol_check_keys(c, m, keys);
        if (rc != 0)
            return rc;
    }
    out->all = all != NULL;
    out->filters = cm_calloc((size_t)cJSON_GetArraySize(list), sizeof(*out->filters));
    if (out->filters == NULL)
        return cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
    cJSON_ArrayForEach(it, list)
    {
        rc = compile_element(c, it, is_exclude, &out->filters[out->n]);
        out->n++;
        if (rc != 0) {
            pol_match_free(out);
            return rc;
        }
    }
    return 0;
}

static bool kind_match(const struct pol_kind *k, const struct pol_res *r)
{
    if (k->kind != NULL && !pol_wildcard_match(k->kind, r->kind, r->kind_len))
        return false;
    if (k->version != NULL && !pol_wildcard_match(k->version, r->version, r->version_len))
        return false;
    if (k->group != NULL && !pol_wildcard_match(k->group, r->group, r->group_len))
        return false;
    return true;
}

static enum pol_tri filter_match(const struct pol_filter *f, const struct pol_res *r)
{
    bool undecided = false;
    size_t i;

    if (!((f->ops >> r->op) & 1u))
        return POL_NO;
    if (f->nkinds > 0) {
        bool any = false;

        for (i = 0; i < f->nkinds && !any; i++)
            any = kind_match(&f->kinds[i], r);
        if (!any)
            return POL_NO;
    }
    if (f->names.n > 0 && !pol_wlist_match(&f->names, r->name, r->name_len))
        return POL_NO;
    if (f->namespaces.n > 0) {
        /* A Namespace object is matched by its own name (Kyverno does the same). */
        bool is_ns = r->kind_len == 9 && memcmp(r->kind, "Namespace", 9) == 0;

        if (!pol_wlist_match(&f->namespaces, is_ns ? r->name : r->ns,
                             is_ns ? r->name_len : r->ns_len))
            return POL_NO;
    }
    if (f->selector != NULL && !pol_selector_match(f->selector, r->labels))
        return POL_NO;
    /* Labels the caller does not know yet leave the selector undecided; otherwise
     * absent labels never satisfy a namespaceSelector. */
    if (f->ns_selector != NULL) {
        if (r->ns_labels != NULL) {
            if (!pol_selector_match(f->ns_selector, r->ns_labels))
                return POL_NO;
        } else if (r->ns_labels_unknown) {
            undecided = true;
        } else {
            return POL_NO;
        }
    }
    if (f->nannotations > 0 && !pol_labels_match(f->annotations, f->nannotations, r->annotations))
        return POL_NO;
    return undecided ? POL_MAYBE : POL_YES;
}

/* Three-valued any/all: a definite answer wins over an undecided filter when it can. */
enum pol_tri pol_match_eval(const struct pol_match *m, const struct pol_res *r)
{
    bool undecided = false;
    size_t i;

    if (m->n == 0)
        return POL_NO;
    for (i = 0; i < m->n; i++) {
        enum pol_tri t = filter_match(&m->filters[i], r);

        if (t == POL_MAYBE)
            undecided = true;
        else if (m->all && t == POL_NO)
            return POL_NO;
        else if (!m->all && t == POL_YES)
            return POL_YES;
    }
    if (undecided)
        return POL_MAYBE;
    return m->all ? POL_YES : POL_NO;
}
