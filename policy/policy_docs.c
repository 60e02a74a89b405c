/* SPDX-License-Identifier: Apache-2.0 */
/* policy_docs.c - the parsed-documents object (roots, the objects view, positions) and
 * the two tables the YAML builder needs: node -> position and anchor name -> node. */
#include "policy.h"
#include "policy_load_int.h"

#include <string.h>

/* ---- pointer -> position map (open addressing) ---- */

static size_t ptr_hash(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;

    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}

static int pos_map_grow(struct pol_pos_map *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 256;
    struct pol_pos_slot *ns = cm_calloc(ncap, sizeof(*ns));
    size_t i;

    if (ns == NULL)
        return CM_ENOMEM;
    for (i = 0; i < m->cap; i++) {
        size_t j;

        if (m->slots[i].key == NULL)
            continue;
        j = ptr_hash(m->slots[i].key) & (ncap - 1);
        while (ns[j].key != NULL)
            j = (j + 1) & (ncap - 1);
        ns[j] = m->slots[i];
    }
    cm_free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return 0;
}

int pol_pos_map_put(struct pol_pos_map *m, const void *key, size_t line, size_t col)
{
    size_t j;

    if ((m->used + 1) * 2 > m->cap && pos_map_grow(m) != 0)
        return CM_ENOMEM;
    j = ptr_hash(key) & (m->cap - 1);
    while (m->slots[j].key != NULL && m->slots[j].key != key)
        j = (j + 1) & (m->cap - 1);
    if (m->slots[j].key == NULL)
        m->used++;
    m->slots[j].key = key;
    m->slots[j].line = (uint32_t)(line + 1);
    m->slots[j].col = (uint32_t)(col + 1);
    return 0;
}

const struct pol_pos_slot *pol_pos_map_get(const struct pol_pos_map *m, const void *key)
{
    size_t j;

    if (m->cap == 0 || key == NULL)
        return NULL;
    j = ptr_hash(key) & (m->cap - 1);
    while (m->slots[j].key != NULL) {
        if (m->slots[j].key == key)
            return &m->slots[j];
        j = (j + 1) & (m->cap - 1);
    }
    return NULL;
}

/* ---- documents ---- */

void policy_json_hooks_install(void)
{
    cJSON_Hooks h = {cm_malloc, cm_free};

    cJSON_InitHooks(&h);
}

size_t policy_docs_count(const struct policy_docs *d)
{
    if (d == NULL)
        return 0;
    return d->items != NULL ? d->nitems : d->nroots;
}

const cJSON *policy_docs_get(const struct policy_docs *d, size_t i)
{
    if (d == NULL || i >= policy_docs_count(d))
        return NULL;
    return d->items != NULL ? d->items[i] : d->roots[i];
}

bool policy_docs_pos(const struct policy_docs *d, const cJSON *node, int *line, int *col)
{
    const struct pol_pos_slot *s;

    if (d == NULL)
        return false;
    s = pol_pos_map_get(&d->pos, node);
    if (s == NULL)
        return false;
    if (line != NULL)
        *line = (int)s->line;
    if (col != NULL)
        *col = (int)s->col;
    return true;
}

void policy_docs_destroy(struct policy_docs *d)
{
    size_t i;

    if (d == NULL)
        return;
    for (i = 0; i < d->nroots; i++)
        cJSON_Delete(d->roots[i]);
    cm_free(d->roots);
    cm_free(d->items);
    cm_free(d->pos.slots);
    cm_free(d->keypos.slots);
    cm_free(d);
}

bool pol_docs_key_pos(const struct policy_docs *d, const cJSON *node, int *line, int *col)
{
    const struct pol_pos_slot *s;

    if (d == NULL)
        return false;
    s = pol_pos_map_get(&d->keypos, node);
    if (s == NULL)
        return false;
    *line = (int)s->line;
    *col = (int)s->col;
    return true;
}

int pol_docs_set_items(struct policy_docs *d, const cJSON **items, size_t n)
{
    cm_free(d->items);
    d->items = items;
    d->nitems = n;
    return 0;
}

/* ---- anchors: name -> completed node ---- */

static size_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    while (*s != '\0') {
        h ^= (unsigned char)*s++;
        h *= 1099511628211ULL;
    }
    return (size_t)h;
}

void pol_anchor_tab_clear(struct pol_anchor_tab *t)
{
    size_t i;

    for (i = 0; i < t->n; i++)
        cm_free(t->v[i].name);
    cm_free(t->v);
    cm_free(t->idx);
    memset(t, 0, sizeof(*t));
}

struct pol_yanchor *pol_anchor_find(const struct pol_anchor_tab *t, const char *name)
{
    size_t j;

    if (t->icap == 0)
        return NULL;
    j = str_hash(name) & (t->icap - 1);
    while (t->idx[j] != 0) {
        struct pol_yanchor *a = &t->v[t->idx[j] - 1];

        if (strcmp(a->name, name) == 0)
            return a;
        j = (j + 1) & (t->icap - 1);
    }
    return NULL;
}

static int anchor_reindex(struct pol_anchor_tab *t, size_t icap)
{
    size_t *ni = cm_calloc(icap, sizeof(*ni));
    size_t i;

    if (ni == NULL)
        return CM_ENOMEM;
    for (i = 0; i < t->n; i++) {
        size_t j = str_hash(t->v[i].name) & (icap - 1);

        while (ni[j] != 0)
            j = (j + 1) & (icap - 1);
        ni[j] = i + 1;
    }
    cm_free(t->idx);
    t->idx = ni;
    t->icap = icap;
    return 0;
}

/* Records (or redefines, as YAML allows) an anchor. */
int pol_anchor_put(struct pol_anchor_tab *t, const char *name, cJSON *node, size_t nodes,
                   int height)
{
    struct pol_yanchor *a = pol_anchor_find(t, name);
    char *copy;

    if (a != NULL) {
        a->node = node;
        a->nodes = nodes;
        a->height = height;
        return 0;
    }
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 16;
        struct pol_yanchor *nv = cm_realloc(t->v, ncap * sizeof(*nv));

        if (nv == NULL)
            return CM_ENOMEM;
        t->v = nv;
        t->cap = ncap;
    }
    if ((t->n + 1) * 2 > t->icap && anchor_reindex(t, t->icap ? t->icap * 2 : 32) != 0)
        return CM_ENOMEM;
    copy = cm_strdup(name);
    if (copy == NULL)
        return CM_ENOMEM;
    t->v[t->n].name = copy;
    t->v[t->n].node = node;
    t->v[t->n].nodes = nodes;
    t->v[t->n].height = height;
    t->n++;
    /* Insert into the index (room was made above): rebuilding it per anchor would make a
     * stream of many anchors quadratic. */
    {
        size_t j = str_hash(copy) & (t->icap - 1);

        while (t->idx[j] != 0)
            j = (j + 1) & (t->icap - 1);
        t->idx[j] = t->n;
    }
    return 0;
}
