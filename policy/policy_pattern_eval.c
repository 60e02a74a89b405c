/* SPDX-License-Identifier: Apache-2.0 */
/* policy_pattern_eval.c - walks a compiled pattern beside a cJSON resource the way
 * Kyverno's validate.MatchPattern does (anchors, arrays, structure checks, paths). */
#include "policy/policy_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Error kinds, as Kyverno tells them apart (anchor/error.go, validate.go). */
enum ev_err {
    EV_OK = 0,
    EV_PLAIN,  /* a pattern error: the rule fails at the path */
    EV_COND,   /* conditional anchor mismatch: not applicable */
    EV_GLOBAL, /* global anchor mismatch: not applicable */
    EV_NEG,    /* negation anchor matched: the rule fails */
    EV_SKIP,   /* every array element was skipped */
    EV_NOPATH, /* an error without a path (array length mismatch): a rule error */
};

/* One step of the current path, on the C stack: a map key or a list index. */
struct frame {
    const struct frame *up;
    const char *key; /* NULL: index */
    size_t key_len;
    size_t index;
};

/* The walk state. Messages are written only when want_msg: the first walk decides the
 * outcome without formatting anything; a non-pass outcome is walked again to explain. */
struct ev {
    bool want_msg;
    struct pol_pat_result *res;
};

static bool is_skip(int e)
{
    return e == EV_COND || e == EV_GLOBAL || e == EV_SKIP;
}

static void path_add(struct pol_wbuf *w, const struct frame *f)
{
    char num[24];
    int n;

    if (f == NULL) {
        pol_wbuf_add(w, "/", 1);
        return;
    }
    path_add(w, f->up);
    if (f->key != NULL) {
        pol_wbuf_add(w, f->key, f->key_len);
    } else {
        n = snprintf(num, sizeof(num), "%zu", f->index);
        if (n > 0) {
            pol_wbuf_add(w, num, (size_t)n);
        }
    }
    pol_wbuf_add(w, "/", 1);
}

/* Sets res->path to the path of f. */
static void set_path(struct ev *e, const struct frame *f)
{
    struct pol_wbuf w;

    pol_wbuf_init(&w, e->res->path, sizeof(e->res->path));
    path_add(&w, f);
}

/* Prepends prefix to res->msg, cutting the tail if needed. */
static void msg_prefix(struct ev *e, const char *prefix)
{
    char tmp[sizeof(e->res->msg)];
    struct pol_wbuf w;

    memcpy(tmp, e->res->msg, sizeof(tmp));
    tmp[sizeof(tmp) - 1] = '\0';
    pol_wbuf_init(&w, e->res->msg, sizeof(e->res->msg));
    pol_wbuf_adds(&w, prefix);
    pol_wbuf_adds(&w, tmp);
}

/* Sets res->msg to the concatenation of the NULL-terminated string arguments. */
static void msg_cat(struct ev *e, ...)
{
    struct pol_wbuf w;
    const char *s;
    va_list ap;

    pol_wbuf_init(&w, e->res->msg, sizeof(e->res->msg));
    va_start(ap, e);
    while ((s = va_arg(ap, const char *)) != NULL) {
        pol_wbuf_adds(&w, s);
    }
    va_end(ap);
}

static bool is_nil(const cJSON *v)
{
    return v == NULL || cJSON_IsNull(v);
}

/* The value of key in obj, the last one when a key repeats (Go's JSON decoding keeps
 * the last). *present is false when the key is absent. */
static const cJSON *lookup(const cJSON *obj, const char *key, size_t key_len, bool *present)
{
    const cJSON *c;
    const cJSON *found = NULL;

    for (c = obj->child; c != NULL; c = c->next) {
        if (c->string != NULL && c->string[0] == key[0] && strcmp(c->string, key) == 0) {
            found = c;
        }
    }
    (void)key_len;
    *present = found != NULL;
    return found;
}

/* Resolves an entry's key in obj: a wildcard metadata key takes the first resource key
 * it matches (ExpandInMetadata), else the key as written. */
static const cJSON *entry_lookup(const struct pol_pentry *en, const cJSON *obj, bool *present,
                                 const char **key, size_t *key_len)
{
    const cJSON *c;

    if (en->key_wc != NULL) {
        for (c = obj->child; c != NULL; c = c->next) {
            if (c->string != NULL && pol_wildcard_match(en->key_wc, c->string, strlen(c->string))) {
                *key = c->string;
                *key_len = strlen(c->string);
                *present = true;
                return c;
            }
        }
    }
    *key = en->key;
    *key_len = en->key_len;
    return lookup(obj, en->key, en->key_len, present);
}

/* pattern.Validate for scalar patterns. v is NULL for a missing key. */
static bool scalar_match(const struct pol_pnode *n, const cJSON *v)
{
    int64_t iv;
    double dv;

    switch (n->kind) {
    case POL_PN_STRING:
        return pol_strpat_match(n->sp, v);
    case POL_PN_BOOL:
        return v != NULL && cJSON_IsBool(v) && (cJSON_IsTrue(v) != 0) == n->b;
    case POL_PN_NULL:
        if (is_nil(v)) {
            return true;
        }
        if (cJSON_IsNumber(v)) {
            return v->valuedouble == 0.0;
        }
        if (cJSON_IsString(v)) {
            return v->valuestring == NULL || v->valuestring[0] == '\0';
        }
        if (cJSON_IsBool(v)) {
            return cJSON_IsFalse(v);
        }
        return false; /* maps and lists */
    case POL_PN_NUMBER:
        if (v == NULL) {
            return false;
        }
        if (n->is_int) {
            if (cJSON_IsNumber(v)) {
                return pol_json_int64(v, &iv) && iv == n->i;
            }
            if (cJSON_IsString(v) && v->valuestring != NULL) {
                return cm_parse_i64(v->valuestring, strlen(v->valuestring), &iv) == 0 && iv == n->i;
            }
            return false;
        }
        if (cJSON_IsNumber(v)) {
            /* an int64 value only equals an integral float pattern; a non-integral
             * pattern is never an int */
            return v->valuedouble == n->d;
        }
        if (cJSON_IsString(v) && v->valuestring != NULL) {
            return cm_parse_double(v->valuestring, strlen(v->valuestring), &dv) == 0 && dv == n->d;
        }
        return false;
    case POL_PN_MAP:
    case POL_PN_ARRAY:
    default:
        return false;
    }
}

static int eval_node(struct ev *e, const struct pol_pnode *n, const cJSON *v,
                     const struct frame *f);

/* "resource value '%v' does not match '%v' at path %s" */
static int fail_value(struct ev *e, const struct pol_pnode *n, const cJSON *v,
                      const struct frame *f)
{
    struct pol_wbuf w;

    if (e->want_msg) {
        set_path(e, f);
        pol_wbuf_init(&w, e->res->msg, sizeof(e->res->msg));
        pol_wbuf_adds(&w, "resource value '");
        pol_wbuf_go_value(&w, v);
        pol_wbuf_adds(&w, "' does not match '");
        pol_wbuf_go_pattern(&w, n);
        pol_wbuf_adds(&w, "' at path ");
        pol_wbuf_adds(&w, e->res->path);
    }
    return EV_PLAIN;
}

static int eval_scalar(struct ev *e, const struct pol_pnode *n, const cJSON *v,
                       const struct frame *f)
{
    const cJSON *c;

    if (v != NULL && cJSON_IsArray(v)) {
        for (c = v->child; c != NULL; c = c->next) {
            if (!scalar_match(n, c)) {
                return fail_value(e, n, v, f);
            }
        }
        return EV_OK;
    }
    if (!scalar_match(n, v)) {
        return fail_value(e, n, v, f);
    }
    return EV_OK;
}

/* Appends res->msg of a skipped element to acc ("err1; err2", multierr.Combine). */
static void acc_skip(struct ev *e, struct pol_wbuf *acc)
{
    if (!e->want_msg) {
        return;
    }
    if (acc->len > 0) {
        pol_wbuf_adds(acc, "; ");
    }
    pol_wbuf_adds(acc, e->res->msg);
}

static int all_skipped(struct ev *e, const struct frame *f, const char *acc)
{
    if (e->want_msg) {
        set_path(e, f);
        msg_cat(e, acc, (const char *)NULL);
    }
    return EV_SKIP;
}

static int eval_array(struct ev *e, const struct pol_pnode *n, const cJSON *arr,
                      const struct frame *f)
{
    const struct pol_pnode *first = n->elems[0];
    char accbuf[sizeof(e->res->msg)];
    struct pol_wbuf acc;
    size_t applied = 0;
    size_t skipped = 0;
    size_t i = 0;
    const cJSON *c;
    int r;

    pol_wbuf_init(&acc, accbuf, sizeof(accbuf));
    if (first->kind == POL_PN_MAP) {
        /* validateArrayOfMaps: the first map applies to every element */
        for (c = arr->child; c != NULL; c = c->next, i++) {
            struct frame fr = {f, NULL, 0, i};

            r = eval_node(e, first, c, &fr);
            if (r != EV_OK) {
                if (!is_skip(r)) {
                    return r;
                }
                skipped++;
                acc_skip(e, &acc);
                continue;
            }
            applied++;
        }
    } else if (first->kind != POL_PN_ARRAY) {
        /* a scalar first element: every resource element must match it */
        return eval_scalar(e, first, arr, f);
    } else {
        size_t len = (size_t)cJSON_GetArraySize(arr);

        if (len < n->n_elems) {
            if (e->want_msg) {
                e->res->path[0] = '\0';
                (void)snprintf(e->res->msg, sizeof(e->res->msg),
                               "validate Array failed, array length mismatch, resource Array "
                               "len is %zu and pattern Array len is %zu",
                               len, n->n_elems);
            }
            return EV_NOPATH;
        }
        for (c = arr->child; c != NULL && i < n->n_elems; c = c->next, i++) {
            struct frame fr = {f, NULL, 0, i};

            r = eval_node(e, n->elems[i], c, &fr);
            if (r != EV_OK) {
                if (!is_skip(r)) {
                    return r;
                }
                skipped++;
                acc_skip(e, &acc);
                continue;
            }
            applied++;
        }
    }
    if (applied == 0 && skipped > 0) {
        return all_skipped(e, f, accbuf);
    }
    return EV_OK;
}

/* ^(key): each pattern map must match at least one element of the resource list. */
static int eval_existence(struct ev *e, const struct pol_pnode *pat, const cJSON *v,
                          const struct frame *kf)
{
    size_t p;

    if (!cJSON_IsArray(v)) {
        if (e->want_msg) {
            set_path(e, kf);
            msg_cat(e, "invalid resource type ", pol_go_type(v),
                    ": Existence ^ () anchor can be used only on list/array type resource",
                    (const char *)NULL);
        }
        return EV_PLAIN;
    }
    for (p = 0; p < pat->n_elems; p++) {
        const cJSON *c;
        size_t i = 0;
        bool found = false;
        bool want = e->want_msg;

        e->want_msg = false; /* element failures are expected here; say nothing */
        for (c = v->child; c != NULL && !found; c = c->next, i++) {
            struct frame fr = {kf, NULL, 0, i};

            found = eval_node(e, pat->elems[p], c, &fr) == EV_OK;
        }
        e->want_msg = want;
        if (!found) {
            if (e->want_msg) {
                set_path(e, kf);
                msg_cat(e, "existence anchor validation failed at path ", e->res->path,
                        (const char *)NULL);
            }
            return EV_PLAIN;
        }
    }
    return EV_OK;
}

static int eval_entry(struct ev *e, const struct pol_pentry *en, const cJSON *obj,
                      const struct frame *f)
{
    bool present = false;
    const char *key;
    size_t key_len;
    const cJSON *v = entry_lookup(en, obj, &present, &key, &key_len);
    struct frame kf = {f, key, key_len, 0};
    int r;

    switch (en->anchor) {
    case POL_ANCHOR_NONE:
        if (en->val->kind == POL_PN_STRING && en->val->is_star) {
            if (!is_nil(v)) {
                return EV_OK;
            }
            if (e->want_msg) {
                struct pol_wbuf w;

                set_path(e, f);
                pol_wbuf_init(&w, e->res->msg, sizeof(e->res->msg));
                pol_wbuf_adds(&w, e->res->path);
                pol_wbuf_adds(&w, "/");
                pol_wbuf_add(&w, key, key_len);
                pol_wbuf_adds(&w, " not found");
            }
            return EV_PLAIN;
        }
        return eval_node(e, en->val, v, &kf);
    case POL_ANCHOR_COND:
        if (!present) {
            if (e->want_msg) {
                set_path(e, &kf);
                msg_cat(e,
                        "conditional anchor mismatch: conditional anchor key doesn't exist "
                        "in the resource",
                        (const char *)NULL);
            }
            return EV_COND;
        }
        r = eval_node(e, en->val, v, &kf);
        if (r != EV_OK) {
            if (e->want_msg) {
                msg_prefix(e, "conditional anchor mismatch: ");
            }
            return EV_COND;
        }
        return EV_OK;
    case POL_ANCHOR_GLOBAL:
        if (!present) {
            return EV_OK;
        }
        r = eval_node(e, en->val, v, &kf);
        if (r != EV_OK) {
            if (e->want_msg) {
                msg_prefix(e, "global anchor mismatch: ");
            }
            return EV_GLOBAL;
        }
        return EV_OK;
    case POL_ANCHOR_EQUAL:
        return present ? eval_node(e, en->val, v, &kf) : EV_OK;
    case POL_ANCHOR_NEG:
        if (!present) {
            return EV_OK;
        }
        if (e->want_msg) {
            set_path(e, &kf);
            msg_cat(e, "negation anchor matched in resource: ", e->res->path, " is not allowed",
                    (const char *)NULL);
        }
        return EV_NEG;
    case POL_ANCHOR_EXIST:
    default:
        return present ? eval_existence(e, en->val, v, &kf) : EV_OK;
    }
}

static int eval_node(struct ev *e, const struct pol_pnode *n, const cJSON *v, const struct frame *f)
{
    size_t i;
    int r;

    switch (n->kind) {
    case POL_PN_MAP:
        if (v == NULL || !cJSON_IsObject(v)) {
            if (e->want_msg) {
                set_path(e, f);
                msg_cat(e, "pattern and resource have different structures. Path: ", e->res->path,
                        ". Expected map[string]interface {}, found ", pol_go_type(v),
                        (const char *)NULL);
            }
            return EV_PLAIN;
        }
        for (i = 0; i < n->n_ents; i++) {
            r = eval_entry(e, &n->ents[i], v, f);
            if (r != EV_OK) {
                return r;
            }
        }
        return EV_OK;
    case POL_PN_ARRAY:
        if (v == NULL || !cJSON_IsArray(v)) {
            if (e->want_msg) {
                set_path(e, f);
                msg_cat(e, "validation rule failed at path ", e->res->path,
                        ", resource does not satisfy the expected overlay pattern",
                        (const char *)NULL);
            }
            return EV_PLAIN;
        }
        return eval_array(e, n, v, f);
    default:
        return eval_scalar(e, n, v, f);
    }
}

int pol_pattern_eval(const struct pol_pattern *p, const cJSON *resource, struct pol_pat_result *res)
{
    struct ev e = {false, res};
    int r;

    res->status = POL_PAT_PASS;
    res->path[0] = '\0';
    res->msg[0] = '\0';
    r = eval_node(&e, p->root, resource, NULL);
    if (r == EV_OK) {
        return 0;
    }
    /* Walk again, this time writing the path and Kyverno's message. */
    e.want_msg = true;
    r = eval_node(&e, p->root, resource, NULL);
    switch (r) {
    case EV_OK: /* cannot happen: evaluation is deterministic */
        res->status = POL_PAT_PASS;
        res->path[0] = '\0';
        res->msg[0] = '\0';
        break;
    case EV_COND:
    case EV_GLOBAL:
    case EV_SKIP:
        res->status = POL_PAT_SKIP; /* the rule does not apply; Kyverno keeps no path */
        res->path[0] = '\0';
        break;
    case EV_NOPATH:
        res->status = POL_PAT_ERROR;
        res->path[0] = '\0';
        break;
    case EV_NEG:
    case EV_PLAIN:
    default:
        res->status = POL_PAT_FAIL;
        break;
    }
    return 0;
}
