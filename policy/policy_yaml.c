/* SPDX-License-Identifier: Apache-2.0 */
/* policy_yaml.c - YAML/JSON streams to cJSON documents with line/column positions,
 * built from libyaml's event API with caps on depth, node count (alias bombs) and
 * document count. */
#include "policy.h"
#include "policy_load_int.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ---- the builder ---- */

struct frame {
    cJSON *node;     /* object or array under construction */
    char *key;       /* pending mapping key (owned), NULL when expecting a key */
    char *anchor;    /* this collection's anchor (owned) */
    size_t start;    /* node counter when the collection started */
    int height;      /* deepest level seen below, relative */
    size_t key_line; /* position of the pending key */
    size_t key_col;
    size_t count;    /* entries so far */
    cJSON *merges;   /* values of a "<<" merge key (owned until the mapping ends) */
    bool merge_next; /* the next value belongs to "<<" */
    size_t merge_line;
    size_t merge_col;
};

struct builder {
    const char *name;
    struct policy_docs *docs;
    struct frame stack[POLICY_MAX_DEPTH + 1];
    int depth;
    size_t nodes;
    size_t ndocs;
    cJSON *root; /* the current document's completed root */
    struct pol_anchor_tab anchors;
    struct cm_err *err;
};

static int b_fail(struct builder *b, int code, const yaml_mark_t *m, const char *what)
{
    return cm_err_set(b->err, code, "%s:%zu:%zu: %s", b->name, m->line + 1, m->column + 1, what);
}

static bool is_digits(const char *s, size_t n, const char *set)
{
    size_t i;

    if (n == 0)
        return false;
    for (i = 0; i < n; i++) {
        if (strchr(set, s[i]) == NULL || s[i] == '\0')
            return false;
    }
    return true;
}

/* YAML 1.2 core schema float/int syntax: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_core_number(const char *s, size_t n)
{
    size_t i = 0;
    size_t d = 0;

    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        i++;
        d++;
    }
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
            d++;
        }
    }
    if (d == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t e = 0;

        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
            e++;
        }
        if (e == 0)
            return false;
    }
    return i == n;
}

static bool str_in(const char *s, size_t n, const char *const *set)
{
    size_t i;

    for (i = 0; set[i] != NULL; i++) {
        if (strlen(set[i]) == n && memcmp(set[i], s, n) == 0)
            return true;
    }
    return false;
}

static const char *const yaml_nulls[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const yaml_trues[] = {"true", "True", "TRUE", NULL};
static const char *const yaml_falses[] = {"false", "False", "FALSE", NULL};

/* Resolves a scalar to a cJSON value: quoted and block scalars are strings, plain ones
 * follow the YAML 1.2 core schema; explicit !!str/!!int/!!float/!!bool/!!null tags win. */
static int scalar_node(struct builder *b, const yaml_event_t *ev, cJSON **out)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    cJSON *node = NULL;

    if (memchr(s, '\0', n) != NULL)
        return b_fail(b, CM_EPARSE, &ev->start_mark, "NUL character in a scalar");
    if (tag != NULL) {
        if (strcmp(tag, YAML_STR_TAG) == 0 || strcmp(tag, "!") == 0) {
            plain = false;
        } else if (strcmp(tag, YAML_NULL_TAG) == 0 || strcmp(tag, YAML_BOOL_TAG) == 0 ||
                   strcmp(tag, YAML_INT_TAG) == 0 || strcmp(tag, YAML_FLOAT_TAG) == 0) {
            plain = true;
        } else {
            return b_fail(b, CM_EPARSE, &ev->start_mark, "unsupported YAML tag");
        }
    }
    if (!plain) {
        node = cJSON_CreateString(s);
    } else if (str_in(s, n, yaml_nulls)) {
        node = cJSON_CreateNull();
    } else if (str_in(s, n, yaml_trues)) {
        node = cJSON_CreateTrue();
    } else if (str_in(s, n, yaml_falses)) {
        node = cJSON_CreateFalse();
    } else if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o') &&
               is_digits(s + 2, n - 2, s[1] == 'x' ? "0123456789abcdefABCDEF" : "01234567")) {
        uint64_t v = 0;
        size_t i;
        unsigned base = s[1] == 'x' ? 16 : 8;

        if (n - 2 > 13)
            return b_fail(b, CM_EPARSE, &ev->start_mark, "integer out of range");
        for (i = 2; i < n; i++) {
            unsigned c = (unsigned char)s[i];
            unsigned dv = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

            v = v * base + dv;
        }
        node = cJSON_CreateNumber((double)v);
    } else if (is_core_number(s, n)) {
        double v;

        if (cm_parse_double(s, n, &v) != 0)
            return b_fail(b, CM_EPARSE, &ev->start_mark, "number out of range");
        node = cJSON_CreateNumber(v);
    } else {
        node = cJSON_CreateString(s);
    }
    if (node == NULL)
        return cm_err_set(b->err, CM_ENOMEM, "%s: out of memory", b->name);
    *out = node;
    return 0;
}

#define DUP_LINEAR_MAX 16

static int dup_key_fail(struct builder *b, const char *key, size_t line, size_t col)
{
    return cm_err_set(b->err, CM_EPARSE, "%s:%zu:%zu: duplicate mapping key \"%.100s\"", b->name,
                      line + 1, col + 1, key);
}

static int cmp_item_keys(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a;
    const cJSON *y = *(const cJSON *const *)b;

    return strcmp(x->string, y->string);
}

/* Sorts the keys of a big mapping to find a duplicate. */
static int check_dup_keys(struct builder *b, const struct frame *f)
{
    const cJSON **v;
    const cJSON *it;
    size_t i = 0;
    int rc = 0;

    v = cm_malloc(f->count * sizeof(*v));
    if (v == NULL)
        return cm_err_set(b->err, CM_ENOMEM, "%s: out of memory", b->name);
    for (it = f->node->child; it != NULL && i < f->count; it = it->next)
        v[i++] = it;
    qsort(v, i, sizeof(*v), cmp_item_keys);
    for (i = 1; i < f->count; i++) {
        if (strcmp(v[i - 1]->string, v[i]->string) == 0) {
            const struct pol_pos_slot *ps = pol_pos_map_get(&b->docs->pos, v[i]);

            rc = dup_key_fail(b, v[i]->string, ps != NULL ? ps->line - 1 : 0,
                              ps != NULL ? ps->col - 1 : 0);
            break;
        }
    }
    cm_free(v);
    return rc;
}

/* Attaches a completed node to the open collection (or makes it the root). On failure
 * the node is freed. */
static int attach(struct builder *b, cJSON *node, const yaml_mark_t *m)
{
    struct frame *f;

    if (b->depth == 0) {
        b->root = node;
        return 0;
    }
    f = &b->stack[b->depth - 1];
    if (cJSON_IsArray(f->node)) {
        cJSON_AddItemToArray(f->node, node);
        return 0;
    }
    if (f->merge_next) {
        if (f->merges == NULL)
            f->merges = cJSON_CreateArray();
        if (f->merges == NULL || !cJSON_AddItemToArray(f->merges, node)) {
            cJSON_Delete(node);
            return cm_err_set(b->err, CM_ENOMEM, "%s: out of memory", b->name);
        }
        f->merge_next = false;
        return 0;
    }
    if (f->key == NULL) {
        cJSON_Delete(node);
        return b_fail(b, CM_EPARSE, m, "mapping keys must be scalars");
    }
    /* Small mappings are checked for duplicate keys here; big ones once, sorted, at
     * their end, so that a mapping with many keys costs O(n log n), not O(n^2). */
    if (f->count < DUP_LINEAR_MAX && cJSON_GetObjectItemCaseSensitive(f->node, f->key) != NULL) {
        cJSON_Delete(node);
        return dup_key_fail(b, f->key, f->key_line, f->key_col);
    }
    if (!cJSON_AddItemToObject(f->node, f->key, node)) {
        cJSON_Delete(node);
        return cm_err_set(b->err, CM_ENOMEM, "%s: out of memory", b->name);
    }
    if (pol_pos_map_put(&b->docs->keypos, node, f->key_line, f->key_col) != 0)
        return cm_err_set(b->err, CM_ENOMEM, "%s: out of memory", b->name); /* tree owns node */
    f->count++;
    cm_free(f->key);
    f->key = NULL;
    return 0;
}

/* A scalar in key position. */
static int take_key(struct builder *b, const char *s, const yaml_mark_t *m)
{
    struct frame *f = &b->stack[b->depth - 1];

    f->key = cm_strdup(s);
    if (f->key == NULL)
        return cm_err_set(b->err, CM_ENOMEM, "%s: out of memory", b->name);
    f->key_line = m->line;
    f->key_col = m->column;
    return 0;
}

static bool expecting_key(const struct builder *b)
{
    const struct frame *f;

    if (b->depth == 0)
        return false;
    f = &b->stack[b->depth - 1];
    return cJSON_IsObject(f->node) && f->key == NULL && !f->merge_next;
}

static void note_height(struct builder *b, int h)
{
    if (b->depth > 0 && b->stack[b->depth - 1].height < h)
        b->stack[b->depth - 1].height = h;
}

static int charge_nodes(struct builder *b, size_t n, const yaml_mark_t *m)
{
    if (n > POLICY_MAX_NODES || b->nodes > POLICY_MAX_NODES - n)
        return b_fail(b, CM_ETOOBIG, m,
                      "more than POLICY_MAX_NODES (1000000) nodes, counting alias expansions");
    b->nodes += n;
    return 0;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
    cJSON *node = NULL;
    int rc;

    rc = charge_nodes(b, 1, &ev->start_mark);
    if (rc != 0)
        return rc;
    if (expecting_key(b)) {
        if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
            strcmp((const char *)ev->data.scalar.value, "<<") == 0) {
            struct frame *f = &b->stack[b->depth - 1];

            if (f->merges != NULL)
                return b_fail(b, CM_EPARSE, &ev->start_mark, "duplicate merge key (<<)");
            f->merge_next = true;
            f->merge_line = ev->start_mark.line;
            f->merge_col = ev->start_mark.column;
            return 0;
        }
        if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length) != NULL)
            return b_fail(b, CM_EPARSE, &ev->start_mark, "NUL character in a key");
        return take_key(b, (const char *)ev->data.scalar.value, &ev->start_mark);
    }
    rc = scalar_node(b, ev, &node);
    if (rc != 0)
        return rc;
    if (pol_pos_map_put(&b->docs->pos, node, ev->start_mark.line, ev->start_mark.column) != 0) {
        cJSON_Delete(node);
        return cm_err_set(b->err, CM_ENOMEM, "%s: out of memory", b->name);
    }
    rc = attach(b, node, &ev->start_mark);
    if (rc != 0)
        return rc;
    if (ev->data.scalar.anchor != NULL) {
        rc = pol_anchor_put(&b->anchors, (const char *)ev->data.scalar.anchor, node, 1, 0);
        if (rc != 0)
            return cm_err_set(b->err, rc, "%s: out of memory", b->name);
    }
    return 0;
}

static int on_alias(struct builder *b, const yaml_event_t *ev)
{
    const struct pol_yanchor *a = pol_anchor_find(&b->anchors, (const char *)ev->data.alias.anchor);
    cJSON *copy;
    int rc;

    if (a == NULL)
        return b_fail(b, CM_EPARSE, &ev->start_mark, "undefined or recursive alias");
    if (expecting_key(b)) {
        if (!cJSON_IsString(a->node))
            return b_fail(b, CM_EPARSE, &ev->start_mark, "mapping keys must be strings");
        rc = charge_nodes(b, 1, &ev->start_mark);
        if (rc != 0)
            return rc;
        return take_key(b, a->node->valuestring, &ev->start_mark);
    }
    rc = charge_nodes(b, a->nodes, &ev->start_mark);
    if (rc != 0)
        return rc;
    if (b->depth + a->height > POLICY_MAX_DEPTH)
        return b_fail(b, CM_ETOOBIG, &ev->start_mark, "nesting deeper than POLICY_MAX_DEPTH");
    copy = cJSON_Duplicate(a->node, true);
    if (copy == NULL)
        return cm_err_set(b->err, CM_ENOMEM, "%s: out of memory", b->name);
    if (pol_pos_map_put(&b->docs->pos, copy, ev->start_mark.line, ev->start_mark.column) != 0) {
        cJSON_Delete(copy);
        return cm_err_set(b->err, CM_ENOMEM, "%s: out of memory", b->name);
    }
    rc = attach(b, copy, &ev->start_mark);
    if (rc != 0)
        return rc;
    note_height(b, a->height);
    return 0;
}

static int on_start(struct builder *b, const yaml_event_t *ev, bool is_map)
{
    const yaml_char_t *anchor =
        is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    struct frame *f;
    cJSON *node;
    int rc;

    if (expecting_key(b))
        return b_fail(b, CM_EPARSE, &ev->start_mark, "mapping keys must be scalars");
    if (b->depth + 1 > POLICY_MAX_DEPTH)
        return b_fail(b, CM_ETOOBIG, &ev->start_mark, "nesting deeper than POLICY_MAX_DEPTH");
    rc = charge_nodes(b, 1, &ev->start_mark);
    if (rc != 0)
        return rc;
    node = is_map ? cJSON_CreateObject() : cJSON_CreateArray();
    if (node == NULL)
        return cm_err_set(b->err, CM_ENOMEM, "%s: out of memory", b->name);
    if (pol_pos_map_put(&b->docs->pos, node, ev->start_mark.line, ev->start_mark.column) != 0) {
        cJSON_Delete(node);
        return cm_err_set(b->err, CM_ENOMEM, "%s: out of memory", b->name);
    }
    /* Attach first so that the tree owns the node from here on. */
    rc = attach(b, node, &ev->start_mark);
    if (rc != 0)
        return rc;
    f = &b->stack[b->depth++];
    memset(f, 0, sizeof(*f));
    f->node = node;
    f->start = b->nodes;
    if (anchor != NULL) {
        f->anchor = cm_strdup((const char *)anchor);
        if (f->anchor == NULL)
            return cm_err_set(b->err, CM_ENOMEM, "%s: out of memory", b->name);
    }
    return 0;
}

/* ---- merge keys (<<) ---- */

struct merge_cand {
    cJSON *item;
    cJSON *src;
    size_t ord;
};

static int cmp_cand(const void *a, const void *b)
{
    const struct merge_cand *x = a;
    const struct merge_cand *y = b;
    int c = strcmp(x->item->string, y->item->string);

    if (c != 0)
        return c;
    return x->ord < y->ord ? -1 : x->ord > y->ord;
}

static int cmp_key_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Moves the entries of the "<<" sources into f's mapping: explicit keys win, then earlier
 * sources. Sorted, so that merging big mappings stays O(n log n). The sources' other
 * entries are freed with f->merges by the caller. */
static int apply_merges(struct builder *b, struct frame *f)
{
    struct merge_cand *cand = NULL;
    const char **keys = NULL;
    const cJSON *src;
    cJSON *it;
    size_t ncand = 0;
    size_t nkeys = 0;
    size_t i;
    int rc = 0;

    /* Check shapes and count. */
    cJSON_ArrayForEach(src, f->merges)
    {
        const cJSON *e;

        if (cJSON_IsObject(src)) {
            ncand += (size_t)cJSON_GetArraySize(src);
            continue;
        }
        if (!cJSON_IsArray(src))
            goto bad;
        cJSON_ArrayForEach(e, src)
        {
            if (!cJSON_IsObject(e))
                goto bad;
            ncand += (size_t)cJSON_GetArraySize(e);
        }
    }
    if (ncand == 0)
        return 0;
    cand = cm_malloc(ncand * sizeof(*cand));
    keys = cm_malloc((f->count > 0 ? f->count : 1) * sizeof(*keys));
    if (cand == NULL || keys == NULL) {
        rc = cm_err_set(b->err, CM_ENOMEM, "%s: out of memory", b->name);
        goto cleanup;
    }
    for (it = f->node->child; it != NULL && nkeys < f->count; it = it->next)
        keys[nkeys++] = it->string;
    qsort(keys, nkeys, sizeof(*keys), cmp_key_str);
    ncand = 0;
    cJSON_ArrayForEach(src, f->merges)
    {
        const cJSON *e;

        if (cJSON_IsObject(src)) {
            cJSON_ArrayForEach(it, src)
            {
                cand[ncand].item = it;
                cand[ncand].src = (cJSON *)(uintptr_t)src;
                cand[ncand].ord = ncand;
                ncand++;
            }
            continue;
        }
        cJSON_ArrayForEach(e, src)
        {
            cJSON_ArrayForEach(it, e)
            {
                cand[ncand].item = it;
                cand[ncand].src = (cJSON *)(uintptr_t)e;
                cand[ncand].ord = ncand;
                ncand++;
            }
        }
    }
    qsort(cand, ncand, sizeof(*cand), cmp_cand);
    for (i = 0; i < ncand; i++) {
        const char *k = cand[i].item->string;

        if (i > 0 && strcmp(cand[i - 1].item->string, k) == 0)
            continue;
        if (bsearch(&k, keys, nkeys, sizeof(*keys), cmp_key_str) != NULL)
            continue;
        it = cJSON_DetachItemViaPointer(cand[i].src, cand[i].item);
        /* The entry keeps its key string; adding to the mapping's list keeps it too. */
        if (!cJSON_AddItemToArray(f->node, it)) {
            cJSON_Delete(it);
            rc = cm_err_set(b->err, CM_ENOMEM, "%s: out of memory", b->name);
            goto cleanup;
        }
    }
cleanup:
    cm_free(cand);
    cm_free(keys);
    return rc;
bad:
    return cm_err_set(b->err, CM_EPARSE,
                      "%s:%zu:%zu: a merge key (<<) takes a mapping or a list of mappings", b->name,
                      f->merge_line + 1, f->merge_col + 1);
}

static int on_end(struct builder *b)
{
    struct frame *f = &b->stack[b->depth - 1];
    int height = f->height + 1;
    int rc = 0;

    if (cJSON_IsObject(f->node) && f->count > DUP_LINEAR_MAX) {
        rc = check_dup_keys(b, f);
        if (rc != 0)
            return rc;
    }
    if (f->merges != NULL) {
        rc = apply_merges(b, f);
        cJSON_Delete(f->merges);
        f->merges = NULL;
        if (rc != 0)
            return rc;
    }
    if (f->anchor != NULL)
        rc = pol_anchor_put(&b->anchors, f->anchor, f->node, b->nodes - f->start + 1, height);
    cm_free(f->anchor);
    cm_free(f->key);
    f->anchor = NULL;
    f->key = NULL;
    b->depth--;
    note_height(b, height);
    if (rc != 0)
        return cm_err_set(b->err, rc, "%s: out of memory", b->name);
    return 0;
}

static int push_root(struct builder *b)
{
    struct policy_docs *d = b->docs;
    cJSON *root = b->root;

    b->root = NULL;
    if (root == NULL || cJSON_IsNull(root)) {
        cJSON_Delete(root); /* empty documents are dropped */
        return 0;
    }
    if (d->nroots == d->roots_cap) {
        size_t ncap = d->roots_cap ? d->roots_cap * 2 : 4;
        cJSON **nr = cm_realloc(d->roots, ncap * sizeof(*nr));

        if (nr == NULL) {
            cJSON_Delete(root);
            return cm_err_set(b->err, CM_ENOMEM, "%s: out of memory", b->name);
        }
        d->roots = nr;
        d->roots_cap = ncap;
    }
    d->roots[d->nroots++] = root;
    return 0;
}

static void builder_unwind(struct builder *b)
{
    while (b->depth > 0) {
        struct frame *f = &b->stack[--b->depth];

        cm_free(f->anchor);
        cm_free(f->key);
        cJSON_Delete(f->merges);
    }
    /* Collections are attached as they start, so the root owns all of them. */
    cJSON_Delete(b->root);
    b->root = NULL;
    pol_anchor_tab_clear(&b->anchors);
}

static int on_event(struct builder *b, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++b->ndocs > POLICY_MAX_DOCS)
            return b_fail(b, CM_ETOOBIG, &ev->start_mark, "more than POLICY_MAX_DOCS documents");
        return 0;
    case YAML_DOCUMENT_END_EVENT:
        pol_anchor_tab_clear(&b->anchors);
        return push_root(b);
    case YAML_SCALAR_EVENT:
        return on_scalar(b, ev);
    case YAML_ALIAS_EVENT:
        return on_alias(b, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(b, ev, false);
    case YAML_MAPPING_START_EVENT:
        return on_start(b, ev, true);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return on_end(b);
    default:
        return 0;
    }
}

/* Line and column (0-based, columns in bytes) of byte offset off. */
static void offset_mark(const char *buf, size_t len, size_t off, yaml_mark_t *m)
{
    size_t i;

    memset(m, 0, sizeof(*m));
    for (i = 0; buf != NULL && i < off && i < len; i++) {
        if (buf[i] == '\n') {
            m->line++;
            m->column = 0;
        } else {
            m->column++;
        }
    }
}

int policy_docs_parse(const char *name, const char *buf, size_t len, struct policy_docs **out,
                      struct cm_err *err)
{
    struct builder b;
    yaml_parser_t parser;
    bool parser_ok = false;
    bool done = false;
    int rc = 0;

    memset(&b, 0, sizeof(b));
    b.name = name != NULL ? name : "<input>";
    b.err = err;
    if (buf == NULL && len > 0)
        return cm_err_set(err, CM_EINVAL, "%s: no buffer", b.name);
    if (len > POLICY_MAX_FILE_BYTES)
        return cm_err_set(err, CM_ETOOBIG, "%s: %zu bytes is over the %u-byte limit", b.name, len,
                          (unsigned)POLICY_MAX_FILE_BYTES);
    b.docs = cm_calloc(1, sizeof(*b.docs));
    if (b.docs == NULL)
        return cm_err_set(err, CM_ENOMEM, "%s: out of memory", b.name);
    if (!yaml_parser_initialize(&parser)) {
        rc = cm_err_set(err, CM_ENOMEM, "%s: out of memory", b.name);
        goto cleanup;
    }
    parser_ok = true;
    yaml_parser_set_input_string(&parser, (const unsigned char *)(buf != NULL ? buf : ""), len);
    while (!done) {
        yaml_event_t ev;

        if (!yaml_parser_parse(&parser, &ev)) {
            if (parser.error == YAML_MEMORY_ERROR) {
                rc = cm_err_set(err, CM_ENOMEM, "%s: out of memory", b.name);
            } else {
                yaml_mark_t rm;
                const yaml_mark_t *m = parser.context != NULL && parser.problem_mark.line == 0 &&
                                               parser.problem_mark.column == 0
                                           ? &parser.context_mark
                                           : &parser.problem_mark;

                if (parser.error == YAML_READER_ERROR) {
                    /* Reader errors (bad UTF-8, control bytes) carry a byte offset only. */
                    offset_mark(buf, len, parser.problem_offset, &rm);
                    m = &rm;
                }

                rc = cm_err_set(err, CM_EPARSE, "%s:%zu:%zu: YAML: %s%s%s", b.name, m->line + 1,
                                m->column + 1,
                                parser.problem != NULL ? parser.problem : "syntax error",
                                parser.context != NULL ? " " : "",
                                parser.context != NULL ? parser.context : "");
            }
            goto cleanup;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        rc = on_event(&b, &ev);
        yaml_event_delete(&ev);
        if (rc != 0)
            goto cleanup;
    }
    *out = b.docs;
    b.docs = NULL;
cleanup:
    builder_unwind(&b);
    if (parser_ok)
        yaml_parser_delete(&parser);
    policy_docs_destroy(b.docs);
    return rc;
}
