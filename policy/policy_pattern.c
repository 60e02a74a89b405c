/* SPDX-License-Identifier: Apache-2.0 */
/* policy_pattern.c - compiles a Kyverno validate `pattern` (cJSON) into a node tree:
 * anchors parsed, keys put in Kyverno's evaluation order, string patterns and wildcard
 * metadata keys compiled, so that evaluation never parses policy text. */
#include "policy/policy_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pc {
    const cJSON **bad;
    struct cm_err *err;
};

static int pc_fail(struct pc *c, const cJSON *node, int code, const char *fmt, ...) CM_PRINTF(4, 5);

static int pc_fail(struct pc *c, const cJSON *node, int code, const char *fmt, ...)
{
    char msg[CM_ERR_MSG_MAX];
    va_list ap;

    if (c->bad != NULL) {
        *c->bad = node;
    }
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return cm_err_set(c->err, code, "%s", msg);
}

static int pc_oom(struct pc *c, const cJSON *node)
{
    return pc_fail(c, node, CM_ENOMEM, "pattern: out of memory");
}

/* Kyverno's anchor syntax ^([+<=X^])?\((.+)\)$ ; sets the inner key. '+' is reported as
 * POL_ANCHOR_NONE with *is_add set. */
static enum pol_anchor parse_anchor(const char *k, size_t n, const char **key, size_t *key_len,
                                    bool *is_add)
{
    enum pol_anchor a = POL_ANCHOR_COND;
    size_t off = 0;

    *is_add = false;
    *key = k;
    *key_len = n;
    if (n >= 1) {
        switch (k[0]) {
        case '<':
            a = POL_ANCHOR_GLOBAL;
            off = 1;
            break;
        case '=':
            a = POL_ANCHOR_EQUAL;
            off = 1;
            break;
        case 'X':
            a = POL_ANCHOR_NEG;
            off = 1;
            break;
        case '^':
            a = POL_ANCHOR_EXIST;
            off = 1;
            break;
        case '+':
            off = 1;
            break;
        default:
            break;
        }
    }
    if (n < off + 3 || k[off] != '(' || k[n - 1] != ')') {
        return POL_ANCHOR_NONE;
    }
    *key = k + off + 1;
    *key_len = n - off - 2;
    if (k[0] == '+') {
        *is_add = true;
        return POL_ANCHOR_NONE;
    }
    return a;
}

static bool has_wildcard(const char *s, size_t n)
{
    return memchr(s, '*', n) != NULL || memchr(s, '?', n) != NULL;
}

/* validate/utils.go hasNestedAnchors: any anchor key anywhere below. */
static bool has_nested_anchors(const struct pol_pnode *n)
{
    size_t i;

    if (n->kind == POL_PN_MAP) {
        for (i = 0; i < n->n_ents; i++) {
            if (n->ents[i].anchor != POL_ANCHOR_NONE || has_nested_anchors(n->ents[i].val)) {
                return true;
            }
        }
    } else if (n->kind == POL_PN_ARRAY) {
        for (i = 0; i < n->n_elems; i++) {
            if (has_nested_anchors(n->elems[i])) {
                return true;
            }
        }
    }
    return false;
}

static void node_destroy(struct pol_pnode *n)
{
    size_t i;

    if (n == NULL) {
        return;
    }
    for (i = 0; n->ents != NULL && i < n->n_ents; i++) {
        cm_free(n->ents[i].key);
        pol_wildcard_destroy(n->ents[i].key_wc);
        node_destroy(n->ents[i].val);
    }
    cm_free(n->ents);
    for (i = 0; n->elems != NULL && i < n->n_elems; i++) {
        node_destroy(n->elems[i]);
    }
    cm_free(n->elems);
    pol_strpat_destroy(n->sp);
    cm_free(n);
}

/* The raw key each entry was written with, kept only while sorting. */
struct raw_ent {
    struct pol_pentry e;
    const char *raw;
    bool front; /* global anchor or nested anchors: goes first among plain keys */
};

static int raw_cmp(const void *a, const void *b)
{
    const struct raw_ent *x = a;
    const struct raw_ent *y = b;

    return strcmp(x->raw, y->raw);
}

static bool is_anchor_phase(enum pol_anchor a)
{
    return a == POL_ANCHOR_COND || a == POL_ANCHOR_EXIST || a == POL_ANCHOR_EQUAL ||
           a == POL_ANCHOR_NEG;
}

/* Kyverno's order (validate.go validateMap): condition, existence, equality and negation
 * anchors sorted by key; then the other keys sorted, those with nested anchors and global
 * anchors pushed to the front (so in reverse order), the rest appended in order. */
static void order_entries(struct raw_ent *raw, size_t n, struct pol_pentry *out)
{
    size_t k = 0;
    size_t i;
    size_t n_front = 0;
    size_t f;
    size_t b;

    qsort(raw, n, sizeof(*raw), raw_cmp);
    for (i = 0; i < n; i++) {
        if (is_anchor_phase(raw[i].e.anchor)) {
            out[k++] = raw[i].e;
        }
    }
    for (i = 0; i < n; i++) {
        if (!is_anchor_phase(raw[i].e.anchor) && raw[i].front) {
            n_front++;
        }
    }
    f = k + n_front;
    b = k + n_front;
    for (i = 0; i < n; i++) {
        if (is_anchor_phase(raw[i].e.anchor)) {
            continue;
        }
        if (raw[i].front) {
            out[--f] = raw[i].e; /* PushFront: the last pushed ends up first */
        } else {
            out[b++] = raw[i].e;
        }
    }
}

static int compile_node(struct pc *c, const cJSON *pat, int depth, struct pol_pnode **out);

static int compile_map(struct pc *c, const cJSON *pat, int depth, struct pol_pnode *n)
{
    struct raw_ent *raw = NULL;
    size_t cnt = 0;
    size_t i = 0;
    const cJSON *ch;
    int rc = 0;

    for (ch = pat->child; ch != NULL; ch = ch->next) {
        cnt++;
    }
    if (cnt == 0) {
        return 0;
    }
    raw = cm_calloc(cnt, sizeof(*raw));
    n->ents = cm_calloc(cnt, sizeof(*n->ents));
    if (raw == NULL || n->ents == NULL) {
        rc = pc_oom(c, pat);
        goto cleanup;
    }
    for (ch = pat->child; ch != NULL; ch = ch->next, i++) {
        const char *k = ch->string != NULL ? ch->string : "";
        size_t klen = strlen(k);
        const char *key;
        size_t key_len;
        bool is_add;
        struct raw_ent *r = &raw[i];

        if (klen > POLICY_MAX_STRING) {
            rc = pc_fail(c, ch, CM_ETOOBIG, "pattern key longer than the limit of %u bytes",
                         (unsigned)POLICY_MAX_STRING);
            goto cleanup;
        }
        r->raw = k;
        r->e.anchor = parse_anchor(k, klen, &key, &key_len, &is_add);
        if (is_add) {
            rc = pc_fail(c, ch, CM_ECONFIG,
                         "anchor \"%s\": +(key) (add if not present) is for mutate rules; "
                         "validate patterns cannot use it",
                         k);
            goto cleanup;
        }
        r->e.key = cm_malloc(key_len + 1);
        if (r->e.key == NULL) {
            rc = pc_oom(c, ch);
            goto cleanup;
        }
        memcpy(r->e.key, key, key_len);
        r->e.key[key_len] = '\0';
        r->e.key_len = key_len;
        if (r->e.anchor == POL_ANCHOR_EXIST) {
            const cJSON *el;

            if (!cJSON_IsArray(ch) || ch->child == NULL) {
                rc = pc_fail(c, ch, CM_ECONFIG,
                             "existence anchor \"%s\" needs a non-empty list of maps", k);
                goto cleanup;
            }
            for (el = ch->child; el != NULL; el = el->next) {
                if (!cJSON_IsObject(el)) {
                    rc = pc_fail(c, el, CM_ECONFIG,
                                 "existence anchor \"%s\": every list item must be a map", k);
                    goto cleanup;
                }
            }
        }
        rc = compile_node(c, ch, depth, &r->e.val);
        if (rc != 0) {
            goto cleanup;
        }
        r->front = r->e.anchor == POL_ANCHOR_GLOBAL || has_nested_anchors(r->e.val);
    }
    order_entries(raw, cnt, n->ents);
    n->n_ents = cnt;
    cm_free(raw);
    return 0;

cleanup:
    for (i = 0; raw != NULL && i < cnt; i++) {
        cm_free(raw[i].e.key);
        node_destroy(raw[i].e.val);
    }
    cm_free(raw);
    cm_free(n->ents);
    n->ents = NULL;
    return rc;
}

static struct pol_pentry *find_entry(struct pol_pnode *n, const char *key)
{
    size_t i;

    if (n == NULL || n->kind != POL_PN_MAP) {
        return NULL;
    }
    for (i = 0; i < n->n_ents; i++) {
        if (strcmp(n->ents[i].key, key) == 0 && n->ents[i].val->kind == POL_PN_MAP) {
            return &n->ents[i];
        }
    }
    return NULL;
}

/* wildcards.ExpandInMetadata: in a map holding "metadata", the wildcard keys of
 * metadata.labels and metadata.annotations are matched against the resource's keys. */
static int mark_metadata_keys(struct pc *c, struct pol_pnode *n)
{
    static const char *const tags[] = {"labels", "annotations"};
    struct pol_pentry *md = find_entry(n, "metadata");
    size_t t;
    size_t i;
    int rc;

    if (md == NULL) {
        return 0;
    }
    for (t = 0; t < CM_ARRAY_LEN(tags); t++) {
        struct pol_pentry *tag = find_entry(md->val, tags[t]);

        if (tag == NULL) {
            continue;
        }
        for (i = 0; i < tag->val->n_ents; i++) {
            struct pol_pentry *e = &tag->val->ents[i];

            if (e->key_wc != NULL || !has_wildcard(e->key, e->key_len)) {
                continue;
            }
            rc = pol_wildcard_compile(e->key, e->key_len, &e->key_wc, c->err);
            if (rc != 0) {
                return rc;
            }
        }
    }
    return 0;
}

static int compile_node(struct pc *c, const cJSON *pat, int depth, struct pol_pnode **out)
{
    struct pol_pnode *n = NULL;
    int rc = 0;

    n = cm_calloc(1, sizeof(*n));
    if (n == NULL) {
        return pc_oom(c, pat);
    }
    if (cJSON_IsObject(pat) || cJSON_IsArray(pat)) {
        if (depth + 1 > POLICY_MAX_DEPTH) {
            rc = pc_fail(c, pat, CM_ETOOBIG, "pattern nested deeper than the limit of %d",
                         POLICY_MAX_DEPTH);
            goto fail;
        }
    }
    if (cJSON_IsObject(pat)) {
        n->kind = POL_PN_MAP;
        rc = compile_map(c, pat, depth + 1, n);
        if (rc == 0) {
            rc = mark_metadata_keys(c, n);
            if (rc != 0 && c->bad != NULL) {
                *c->bad = pat;
            }
        }
    } else if (cJSON_IsArray(pat)) {
        const cJSON *el;
        size_t cnt = 0;

        n->kind = POL_PN_ARRAY;
        for (el = pat->child; el != NULL; el = el->next) {
            cnt++;
        }
        if (cnt == 0) {
            rc = pc_fail(c, pat, CM_ECONFIG, "pattern Array empty");
            goto fail;
        }
        n->elems = cm_calloc(cnt, sizeof(*n->elems));
        if (n->elems == NULL) {
            rc = pc_oom(c, pat);
            goto fail;
        }
        n->n_elems = cnt;
        cnt = 0;
        for (el = pat->child; el != NULL && rc == 0; el = el->next) {
            rc = compile_node(c, el, depth + 1, &n->elems[cnt++]);
        }
    } else if (cJSON_IsString(pat)) {
        const char *s = pat->valuestring != NULL ? pat->valuestring : "";
        size_t len = strlen(s);

        n->kind = POL_PN_STRING;
        n->is_star = len == 1 && s[0] == '*';
        rc = pol_strpat_compile(s, len, &n->sp, c->err);
        if (rc != 0 && c->bad != NULL) {
            *c->bad = pat;
        }
    } else if (cJSON_IsBool(pat)) {
        n->kind = POL_PN_BOOL;
        n->b = cJSON_IsTrue(pat);
    } else if (cJSON_IsNumber(pat)) {
        n->kind = POL_PN_NUMBER;
        n->d = pat->valuedouble;
        n->is_int = pol_json_int64(pat, &n->i);
        if (!isfinite(n->d)) {
            rc = pc_fail(c, pat, CM_ECONFIG, "pattern number is not finite");
        }
    } else if (cJSON_IsNull(pat)) {
        n->kind = POL_PN_NULL;
    } else {
        rc = pc_fail(c, pat, CM_ECONFIG, "pattern contains an unknown type");
    }
    if (rc == CM_EPARSE) {
        /* invalid UTF-8 in a string or wildcard key: a configuration error */
        rc = CM_ECONFIG;
        if (c->err != NULL) {
            c->err->code = CM_ECONFIG;
        }
    }
    if (rc != 0) {
        goto fail;
    }
    *out = n;
    return 0;

fail:
    node_destroy(n);
    return rc;
}

int pol_pattern_compile(const cJSON *pattern, struct pol_pattern **out, const cJSON **bad,
                        struct cm_err *err)
{
    struct pc c;
    struct pol_pattern *p;
    int rc;

    c.bad = bad;
    c.err = err;
    if (pattern == NULL) {
        return pc_fail(&c, NULL, CM_ECONFIG, "pattern is missing");
    }
    p = cm_calloc(1, sizeof(*p));
    if (p == NULL) {
        return pc_oom(&c, pattern);
    }
    rc = compile_node(&c, pattern, 0, &p->root);
    if (rc != 0) {
        if (rc == CM_ENOMEM) {
            (void)cm_err_set(err, CM_ENOMEM, "pattern: out of memory");
        }
        cm_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void pol_pattern_destroy(struct pol_pattern *p)
{
    if (p == NULL) {
        return;
    }
    node_destroy(p->root);
    cm_free(p);
}
