/* SPDX-License-Identifier: Apache-2.0 */
/* policy_loader.c - collects policy documents file by file (all or nothing per file),
 * cross-checks them and builds the immutable struct policy_set. */
#include "policy_load_int.h"

#include <stdlib.h>
#include <string.h>

#define NAMES_LIST_MAX 400 /* bytes of BackupPolicy names quoted in messages */

struct policy_loader {
    struct pol_policy *pols;
    size_t npols;
    size_t pols_cap;
    size_t nrules;
    struct policy_backup *backups;
    size_t nbackups;
    size_t backups_cap;
};

int policy_loader_create(struct policy_loader **out, struct cm_err *err)
{
    struct policy_loader *l = cm_calloc(1, sizeof(*l));

    if (l == NULL)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    *out = l;
    return 0;
}

void policy_loader_destroy(struct policy_loader *l)
{
    size_t i;

    if (l == NULL)
        return;
    for (i = 0; i < l->npols; i++)
        pol_policy_free(&l->pols[i]);
    cm_free(l->pols);
    for (i = 0; i < l->nbackups; i++)
        pol_backup_free(&l->backups[i]);
    cm_free(l->backups);
    cm_free(l);
}

/* What one buffer compiles to before it is committed to the loader. */
struct batch {
    struct pol_policy *pols;
    size_t npols;
    size_t nrules;
    struct policy_backup *backups;
    size_t nbackups;
};

static void batch_free(struct batch *b)
{
    size_t i;

    for (i = 0; i < b->npols; i++)
        pol_policy_free(&b->pols[i]);
    cm_free(b->pols);
    for (i = 0; i < b->nbackups; i++)
        pol_backup_free(&b->backups[i]);
    cm_free(b->backups);
}

static int add_doc(struct pol_ctx *c, const cJSON *doc, struct batch *b, size_t rules_before)
{
    const char *api;
    const char *kind;
    int rc;

    c->doc = doc;
    c->where[0] = '\0';
    if (!cJSON_IsObject(doc))
        return pol_ctx_fail(c, CM_ECONFIG, doc, "a document must be a mapping");
    rc = pol_get_string(c, doc, "apiVersion", true, &api);
    if (rc == 0)
        rc = pol_get_string(c, doc, "kind", true, &kind);
    if (rc != 0)
        return rc;
    if ((strcmp(kind, "ClusterPolicy") == 0 || strcmp(kind, "Policy") == 0) &&
        (strcmp(api, "kyverno.io/v1") == 0 || strcmp(api, "kyverno.io/v2beta1") == 0)) {
        const cJSON *rules = pol_json_path(doc, (const char *const[]){"spec", "rules"}, 2);

        if (cJSON_IsArray(rules) &&
            rules_before + b->nrules + (size_t)cJSON_GetArraySize(rules) > POLICY_MAX_RULES)
            return pol_ctx_fail(c, CM_ETOOBIG, rules, "more than %d rules in the set",
                                POLICY_MAX_RULES);
        rc = pol_policy_compile(c, doc, kind[0] == 'P', &b->pols[b->npols]);
        if (rc != 0)
            return rc;
        b->nrules += b->pols[b->npols].nrules;
        b->npols++;
        return 0;
    }
    if (strcmp(kind, "BackupPolicy") == 0 && strcmp(api, "lockwarden.io/v1alpha1") == 0) {
        rc = pol_backup_compile(c, doc, &b->backups[b->nbackups]);
        if (rc != 0)
            return rc;
        b->nbackups++;
        return 0;
    }
    return pol_ctx_fail(c, CM_ECONFIG, doc,
                        "%.60s %.60s is not a policy (expected kyverno.io/v1 ClusterPolicy or "
                        "Policy, or lockwarden.io/v1alpha1 BackupPolicy)",
                        api, kind);
}

static size_t count_docs(const struct policy_docs *d)
{
    size_t i;
    size_t n = 0;

    for (i = 0; i < policy_docs_count(d); i++) {
        const cJSON *doc = policy_docs_get(d, i);
        const char *kind = pol_json_str(doc, "kind");
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(doc, "items");

        if (kind != NULL && strcmp(kind, "List") == 0 && cJSON_IsArray(items))
            n += (size_t)cJSON_GetArraySize(items);
        else
            n++;
    }
    return n;
}

static int reserve(void **v, size_t *cap, size_t need, size_t size)
{
    void *nv;
    size_t ncap;

    if (need <= *cap)
        return 0;
    ncap = *cap ? *cap : 8;
    while (ncap < need)
        ncap *= 2;
    nv = cm_realloc(*v, ncap * size);
    if (nv == NULL)
        return CM_ENOMEM;
    *v = nv;
    *cap = ncap;
    return 0;
}

int policy_loader_add(struct policy_loader *l, const char *name, const char *buf, size_t len,
                      struct cm_err *err)
{
    struct policy_docs *d = NULL;
    struct batch b;
    struct pol_ctx c;
    size_t n;
    size_t i;
    int rc;

    memset(&b, 0, sizeof(b));
    memset(&c, 0, sizeof(c));
    if (name == NULL)
        name = "<input>";
    rc = policy_docs_parse(name, buf, len, &d, err);
    if (rc != 0)
        return rc;
    c.file = name;
    c.docs = d;
    c.err = err;
    n = count_docs(d);
    if (n > 0) {
        b.pols = cm_calloc(n, sizeof(*b.pols));
        b.backups = cm_calloc(n, sizeof(*b.backups));
        if (b.pols == NULL || b.backups == NULL) {
            rc = cm_err_set(err, CM_ENOMEM, "%s: out of memory", name);
            goto cleanup;
        }
    }
    for (i = 0; i < policy_docs_count(d); i++) {
        const cJSON *doc = policy_docs_get(d, i);
        const char *kind = pol_json_str(doc, "kind");

        if (kind != NULL && strcmp(kind, "List") == 0) {
            const cJSON *items = cJSON_GetObjectItemCaseSensitive(doc, "items");
            const cJSON *it;

            c.doc = doc;
            if (!cJSON_IsArray(items)) {
                rc = pol_ctx_fail(&c, CM_ECONFIG, doc, "a List needs items");
                goto cleanup;
            }
            cJSON_ArrayForEach(it, items)
            {
                rc = add_doc(&c, it, &b, l->nrules);
                if (rc != 0)
                    goto cleanup;
            }
            continue;
        }
        rc = add_doc(&c, doc, &b, l->nrules);
        if (rc != 0)
            goto cleanup;
    }
    /* Commit: make room first so that nothing below can fail half-way. */
    if (reserve((void **)&l->pols, &l->pols_cap, l->npols + b.npols, sizeof(*l->pols)) != 0 ||
        reserve((void **)&l->backups, &l->backups_cap, l->nbackups + b.nbackups,
                sizeof(*l->backups)) != 0) {
        rc = cm_err_set(err, CM_ENOMEM, "%s: out of memory", name);
        goto cleanup;
    }
    if (b.npols > 0)
        memcpy(l->pols + l->npols, b.pols, b.npols * sizeof(*b.pols));
    if (b.nbackups > 0)
        memcpy(l->backups + l->nbackups, b.backups, b.nbackups * sizeof(*b.backups));
    l->npols += b.npols;
    l->nbackups += b.nbackups;
    l->nrules += b.nrules;
    b.npols = 0;
    b.nbackups = 0;
cleanup:
    batch_free(&b);
    policy_docs_destroy(d);
    return rc;
}

int policy_loader_add_file(const char *path, const char *buf, size_t len, void *ctx,
                           struct cm_err *err)
{
    return policy_loader_add(ctx, path, buf, len, err);
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorts names and returns the first duplicate, or NULL. */
static const char *find_dup(const char **v, size_t n)
{
    size_t i;

    qsort(v, n, sizeof(*v), cmp_str_ptr);
    for (i = 1; i < n; i++) {
        if (strcmp(v[i - 1], v[i]) == 0)
            return v[i];
    }
    return NULL;
}

static int cross_check(const struct policy_loader *l, struct cm_err *err, char **names_out)
{
    size_t n = l->npols > l->nbackups ? l->npols : l->nbackups;
    const char **v;
    const char *dup;
    struct cm_buf names;
    size_t i;
    size_t k = 0;
    int rc = 0;

    *names_out = NULL;
    v = cm_malloc((n > 0 ? n : 1) * sizeof(*v));
    if (v == NULL)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    for (i = 0; i < l->npols; i++)
        v[i] = l->pols[i].name;
    dup = find_dup(v, l->npols);
    if (dup != NULL) {
        rc = cm_err_set(err, CM_ECONFIG, "policy %.100s is defined twice", dup);
        goto cleanup;
    }
    for (i = 0; i < l->nbackups; i++)
        v[i] = l->backups[i].name;
    dup = find_dup(v, l->nbackups);
    if (dup != NULL) {
        rc = cm_err_set(err, CM_ECONFIG, "backuppolicy %.100s is defined twice", dup);
        goto cleanup;
    }
    /* Names are sorted now: build the list quoted in binding messages. */
    cm_buf_init(&names, NAMES_LIST_MAX + 8);
    for (i = 0; i < l->nbackups && rc == 0; i++) {
        if (names.len + strlen(v[i]) + 2 > NAMES_LIST_MAX) {
            rc = cm_buf_adds(&names, ", ...");
            break;
        }
        rc = cm_buf_addf(&names, "%s%s", i > 0 ? ", " : "", v[i]);
    }
    if (rc == 0 && names.ptr == NULL)
        rc = cm_buf_adds(&names, "");
    if (rc == 0)
        *names_out = cm_buf_take(&names, NULL);
    cm_buf_free(&names);
    if (rc != 0 || *names_out == NULL) {
        rc = cm_err_set(err, CM_ENOMEM, "out of memory");
        goto cleanup;
    }
    /* Two BackupPolicies with the same selector would make the default ambiguous. */
    for (i = 0; i < l->nbackups; i++) {
        const struct pol_bsel *s = l->backups[i].selector_;

        if (s != NULL)
            v[k++] = s->canon;
    }
    dup = find_dup(v, k);
    if (dup != NULL) {
        const char *a = NULL;
        const char *b = NULL;

        for (i = 0; i < l->nbackups; i++) {
            const struct pol_bsel *s = l->backups[i].selector_;

            if (s != NULL && strcmp(s->canon, dup) == 0) {
                if (a == NULL)
                    a = l->backups[i].name;
                else if (b == NULL)
                    b = l->backups[i].name;
            }
        }
        rc = cm_err_set(err, CM_ECONFIG,
                        "backuppolicies %.100s and %.100s have the same selector; which one is "
                        "the default would be ambiguous",
                        a != NULL ? a : "?", b != NULL ? b : "?");
        cm_free(*names_out);
        *names_out = NULL;
    }
cleanup:
    cm_free(v);
    return rc;
}

int policy_loader_finish(struct policy_loader *l, struct policy_set **out, struct cm_err *err)
{
    struct policy_set *s = NULL;
    char *names = NULL;
    int rc;

    if (l == NULL)
        return cm_err_set(err, CM_EINVAL, "no loader");
    rc = cross_check(l, err, &names);
    if (rc != 0)
        goto cleanup;
    s = cm_calloc(1, sizeof(*s));
    if (s == NULL) {
        rc = cm_err_set(err, CM_ENOMEM, "out of memory");
        goto cleanup;
    }
    s->pols = l->pols;
    s->npols = l->npols;
    s->nrules = l->nrules;
    s->backups = l->backups;
    s->nbackups = l->nbackups;
    s->backup_names = names;
    names = NULL;
    l->pols = NULL;
    l->npols = 0;
    l->backups = NULL;
    l->nbackups = 0;
    *out = s;
cleanup:
    cm_free(names);
    policy_loader_destroy(l);
    return rc;
}

void policy_set_destroy(struct policy_set *s)
{
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; i < s->npols; i++)
        pol_policy_free(&s->pols[i]);
    cm_free(s->pols);
    for (i = 0; i < s->nbackups; i++)
        pol_backup_free(&s->backups[i]);
    cm_free(s->backups);
    cm_free(s->backup_names);
    cm_free(s);
}

size_t policy_set_policy_count(const struct policy_set *s)
{
    return s != NULL ? s->npols : 0;
}

size_t policy_set_rule_count(const struct policy_set *s)
{
    return s != NULL ? s->nrules : 0;
}

static bool match_uses_ns_selector(const struct pol_match *m)
{
    for (size_t i = 0; i < m->n; i++) {
        if (m->filters[i].ns_selector != NULL)
            return true;
    }
    return false;
}

bool policy_set_uses_namespace_selector(const struct policy_set *s)
{
    if (s == NULL)
        return false;
    for (size_t i = 0; i < s->npols; i++) {
        const struct pol_policy *p = &s->pols[i];
        for (size_t j = 0; j < p->nov; j++) {
            if (p->ov[j].ns_selector != NULL)
                return true;
        }
        for (size_t j = 0; j < p->nrules; j++) {
            if (match_uses_ns_selector(&p->rules[j].match) ||
                match_uses_ns_selector(&p->rules[j].exclude))
                return true;
        }
    }
    return false;
}

size_t policy_set_backup_count(const struct policy_set *s)
{
    return s != NULL ? s->nbackups : 0;
}

const struct policy_backup *policy_set_backup_get(const struct policy_set *s, size_t i)
{
    if (s == NULL || i >= s->nbackups)
        return NULL;
    return &s->backups[i];
}

const struct policy_backup *policy_set_backup_find(const struct policy_set *s, const char *name,
                                                   size_t len)
{
    size_t i;
    int pass;

    if (s == NULL || name == NULL)
        return NULL;
    /* The exact name first, then the label form "k10-<name>". */
    for (pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            if (len <= 4 || memcmp(name, "k10-", 4) != 0)
                break;
            name += 4;
            len -= 4;
        }
        for (i = 0; i < s->nbackups; i++) {
            const char *n = s->backups[i].name;

            if (strlen(n) == len && memcmp(n, name, len) == 0)
                return &s->backups[i];
        }
    }
    return NULL;
}

int policy_set_load(const char *name, const char *buf, size_t len, struct policy_set **out,
                    struct cm_err *err)
{
    struct policy_loader *l = NULL;
    int rc = policy_loader_create(&l, err);

    if (rc != 0)
        return rc;
    rc = policy_loader_add(l, name, buf, len, err);
    if (rc != 0) {
        policy_loader_destroy(l);
        return rc;
    }
    return policy_loader_finish(l, out, err); /* destroys the loader either way */
}
