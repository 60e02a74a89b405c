/* SPDX-License-Identifier: Apache-2.0 */
/* policy_util.c - loader helpers shared by the policy compilers: positioned errors,
 * typed getters, wildcard lists and Kubernetes label selectors. */
#include "policy_load_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int ctx_fail_v(const struct pol_ctx *c, int code, const cJSON *node, bool at_key,
                      const char *fmt, va_list ap) CM_PRINTF(5, 0);
static int ctx_fail_v(const struct pol_ctx *c, int code, const cJSON *node, bool at_key,
                      const char *fmt, va_list ap)
{
    char reason[CM_ERR_MSG_MAX];
    int line = 0;
    int col = 0;

    (void)vsnprintf(reason, sizeof(reason), fmt, ap);
    if (!(at_key && pol_docs_key_pos(c->docs, node, &line, &col)) &&
        !policy_docs_pos(c->docs, node, &line, &col))
        (void)policy_docs_pos(c->docs, c->doc, &line, &col);
    if (line > 0)
        return cm_err_set(c->err, code, "%s:%d:%d: %s%s%s", c->file, line, col, c->where,
                          c->where[0] != '\0' ? ": " : "", reason);
    return cm_err_set(c->err, code, "%s: %s%s%s", c->file, c->where,
                      c->where[0] != '\0' ? ": " : "", reason);
}

int pol_ctx_fail(const struct pol_ctx *c, int code, const cJSON *node, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = ctx_fail_v(c, code, node, false, fmt, ap);
    va_end(ap);
    return rc;
}

int pol_ctx_fail_key(const struct pol_ctx *c, int code, const cJSON *node, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = ctx_fail_v(c, code, node, true, fmt, ap);
    va_end(ap);
    return rc;
}

static const char *type_name(const cJSON *v)
{
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsBool(v))
        return "a boolean";
    if (cJSON_IsNull(v))
        return "null";
    if (cJSON_IsArray(v))
        return "a list";
    return "a mapping";
}

/* The member key of obj when it has the wanted JSON type: 0 with *out = NULL when it is
 * absent or null (an error if required), else an error naming the type found. */
static int get_typed(const struct pol_ctx *c, const cJSON *obj, const char *key, bool required,
                     cJSON_bool (*is_type)(const cJSON *), const char *type_word, const cJSON **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    *out = NULL;
    if (v == NULL || cJSON_IsNull(v)) {
        if (required)
            return pol_ctx_fail(c, CM_ECONFIG, obj, "%s is required", key);
        return 0;
    }
    if (!is_type(v))
        return pol_ctx_fail(c, CM_ECONFIG, v, "%s must be %s, not %s", key, type_word,
                            type_name(v));
    *out = v;
    return 0;
}

int pol_get_string(const struct pol_ctx *c, const cJSON *obj, const char *key, bool required,
                   const char **out)
{
    const cJSON *v = NULL;
    int rc = get_typed(c, obj, key, required, cJSON_IsString, "a string", &v);

    *out = NULL;
    if (rc != 0 || v == NULL)
        return rc;
    if (strlen(v->valuestring) > POLICY_MAX_STRING)
        return pol_ctx_fail(c, CM_ETOOBIG, v, "%s is longer than %d bytes", key, POLICY_MAX_STRING);
    *out = v->valuestring;
    return 0;
}

int pol_get_object(const struct pol_ctx *c, const cJSON *obj, const char *key, bool required,
                   const cJSON **out)
{
    return get_typed(c, obj, key, required, cJSON_IsObject, "a mapping", out);
}

int pol_get_array(const struct pol_ctx *c, const cJSON *obj, const char *key, bool required,
                  const cJSON **out)
{
    return get_typed(c, obj, key, required, cJSON_IsArray, "a list", out);
}

int pol_check_keys(const struct pol_ctx *c, const cJSON *obj, const char *const *allowed)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, obj)
    {
        size_t i;
        bool ok = false;

        for (i = 0; allowed[i] != NULL && !ok; i++)
            ok = strcmp(allowed[i], it->string) == 0;
        if (!ok)
            return pol_ctx_fail_key(c, CM_ECONFIG, it, "unknown field \"%.80s\"", it->string);
    }
    return 0;
}

const char *pol_json_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const cJSON *pol_json_path(const cJSON *obj, const char *const *keys, size_t n)
{
    size_t i;

    for (i = 0; i < n && obj != NULL; i++)
        obj = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, keys[i]) : NULL;
    return obj;
}

/* ---- wildcard lists ---- */

static int compile_wildcard(const struct pol_ctx *c, const cJSON *node, const char *what,
                            struct pol_wildcard **out)
{
    struct cm_err e;
    int rc;

    if (!cJSON_IsString(node))
        return pol_ctx_fail(c, CM_ECONFIG, node, "%s entries must be strings, not %s", what,
                            type_name(node));
    rc = pol_wildcard_compile(node->valuestring, strlen(node->valuestring), out, &e);
    if (rc == CM_ENOMEM)
        return cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
    if (rc != 0)
        return pol_ctx_fail(c, rc == CM_ETOOBIG ? CM_ETOOBIG : CM_ECONFIG, node, "%s: %s", what,
                            e.msg);
    return 0;
}

int pol_wlist_compile(const struct pol_ctx *c, const cJSON *arr, const char *what,
                      struct pol_wlist *out)
{
    const cJSON *it;
    size_t n;
    int rc;

    memset(out, 0, sizeof(*out));
    if (arr == NULL || cJSON_IsNull(arr))
        return 0;
    if (!cJSON_IsArray(arr))
        return pol_ctx_fail(c, CM_ECONFIG, arr, "%s must be a list, not %s", what, type_name(arr));
    n = (size_t)cJSON_GetArraySize(arr);
    if (n == 0)
        return 0;
    out->v = cm_calloc(n, sizeof(*out->v));
    if (out->v == NULL)
        return cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
    cJSON_ArrayForEach(it, arr)
    {
        rc = compile_wildcard(c, it, what, &out->v[out->n]);
        if (rc != 0) {
            pol_wlist_free(out);
            return rc;
        }
        out->n++;
    }
    return 0;
}

bool pol_wlist_match(const struct pol_wlist *l, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        if (pol_wildcard_match(l->v[i], s, n))
            return true;
    }
    return false;
}

void pol_wlist_free(struct pol_wlist *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        pol_wildcard_destroy(l->v[i]);
    cm_free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* ---- label selectors ---- */

void pol_sel_labels_free(struct pol_sel_label *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        pol_wildcard_destroy(v[i].key);
        pol_wildcard_destroy(v[i].value);
        cm_free(v[i].key_lit);
    }
    cm_free(v);
}

void pol_selector_destroy(struct pol_selector *s)
{
    size_t i;
    size_t j;

    if (s == NULL)
        return;
    pol_sel_labels_free(s->labels, s->nlabels);
    for (i = 0; i < s->nexprs; i++) {
        cm_free(s->exprs[i].key);
        for (j = 0; j < s->exprs[i].nvalues; j++)
            cm_free(s->exprs[i].values[j]);
        cm_free(s->exprs[i].values);
    }
    cm_free(s->exprs);
    cm_free(s);
}

/* Compiles a map of wildcard key -> wildcard value (matchLabels, annotations). */
static int compile_label_map(const struct pol_ctx *c, const cJSON *m, const char *what,
                             struct pol_sel_label **out, size_t *nout)
{
    const cJSON *it;
    struct pol_sel_label *v;
    size_t n = 0;
    int rc;

    *out = NULL;
    *nout = 0;
    if (!cJSON_IsObject(m))
        return pol_ctx_fail(c, CM_ECONFIG, m, "%s must be a mapping", what);
    if (cJSON_GetArraySize(m) == 0)
        return 0;
    v = cm_calloc((size_t)cJSON_GetArraySize(m), sizeof(*v));
    if (v == NULL)
        return cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
    cJSON_ArrayForEach(it, m)
    {
        struct cm_err e;

        if (!cJSON_IsString(it)) {
            rc = pol_ctx_fail(c, CM_ECONFIG, it, "%s value of \"%.80s\" must be a string", what,
                              it->string);
            goto fail;
        }
        rc = pol_wildcard_compile(it->string, strlen(it->string), &v[n].key, &e);
        if (rc == 0)
            rc = pol_wildcard_compile(it->valuestring, strlen(it->valuestring), &v[n].value, &e);
        if (rc != 0) {
            n++;
            if (rc == CM_ENOMEM)
                rc = cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
            else
                rc = pol_ctx_fail(c, CM_ECONFIG, it, "%s: %s", what, e.msg);
            goto fail;
        }
        n++;
        if (pol_wildcard_is_literal(v[n - 1].key)) {
            v[n - 1].key_lit = cm_strdup(it->string);
            if (v[n - 1].key_lit == NULL) {
                rc = cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
                goto fail;
            }
        }
    }
    *out = v;
    *nout = n;
    return 0;
fail:
    pol_sel_labels_free(v, n);
    return rc;
}

static int compile_expr(const struct pol_ctx *c, const cJSON *e, struct pol_sel_expr *out)
{
    static const char *const keys[] = {"key", "operator", "values", NULL};
    const char *key;
    const char *op;
    const cJSON *values;
    const cJSON *it;
    int rc;

    if (!cJSON_IsObject(e))
        return pol_ctx_fail(c, CM_ECONFIG, e, "matchExpressions entries must be mappings");
    rc = pol_check_keys(c, e, keys);
    if (rc == 0)
        rc = pol_get_string(c, e, "key", true, &key);
    if (rc == 0)
        rc = pol_get_string(c, e, "operator", true, &op);
    if (rc == 0)
        rc = pol_get_array(c, e, "values", false, &values);
    if (rc != 0)
        return rc;
    if (strcmp(op, "In") == 0)
        out->op = POL_SEL_IN;
    else if (strcmp(op, "NotIn") == 0)
        out->op = POL_SEL_NOTIN;
    else if (strcmp(op, "Exists") == 0)
        out->op = POL_SEL_EXISTS;
    else if (strcmp(op, "DoesNotExist") == 0)
        out->op = POL_SEL_NOTEXISTS;
    else
        return pol_ctx_fail(c, CM_ECONFIG, cJSON_GetObjectItem(e, "operator"),
                            "matchExpressions operator \"%.40s\" is not In, NotIn, Exists or "
                            "DoesNotExist",
                            op);
    if ((out->op == POL_SEL_IN || out->op == POL_SEL_NOTIN) &&
        (values == NULL || cJSON_GetArraySize(values) == 0))
        return pol_ctx_fail(c, CM_ECONFIG, e, "matchExpressions %s needs values", op);
    if ((out->op == POL_SEL_EXISTS || out->op == POL_SEL_NOTEXISTS) && values != NULL &&
        cJSON_GetArraySize(values) > 0)
        return pol_ctx_fail(c, CM_ECONFIG, values, "matchExpressions %s takes no values", op);
    out->key = cm_strdup(key);
    if (out->key == NULL)
        return cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
    if (values == NULL || cJSON_GetArraySize(values) == 0)
        return 0;
    out->values = cm_calloc((size_t)cJSON_GetArraySize(values), sizeof(char *));
    if (out->values == NULL)
        return cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
    cJSON_ArrayForEach(it, values)
    {
        if (!cJSON_IsString(it))
            return pol_ctx_fail(c, CM_ECONFIG, it, "matchExpressions values must be strings");
        out->values[out->nvalues] = cm_strdup(it->valuestring);
        if (out->values[out->nvalues] == NULL)
            return cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
        out->nvalues++;
    }
    return 0;
}

int pol_selector_compile(const struct pol_ctx *c, const cJSON *sel, struct pol_selector **out)
{
    static const char *const keys[] = {"matchLabels", "matchExpressions", NULL};
    struct pol_selector *s;
    const cJSON *ml;
    const cJSON *me;
    const cJSON *it;
    int rc;

    *out = NULL;
    if (!cJSON_IsObject(sel))
        return pol_ctx_fail(c, CM_ECONFIG, sel, "selector must be a mapping");
    rc = pol_check_keys(c, sel, keys);
    if (rc == 0)
        rc = pol_get_object(c, sel, "matchLabels", false, &ml);
    if (rc == 0)
        rc = pol_get_array(c, sel, "matchExpressions", false, &me);
    if (rc != 0)
        return rc;
    s = cm_calloc(1, sizeof(*s));
    if (s == NULL)
        return cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
    if (ml != NULL) {
        rc = compile_label_map(c, ml, "matchLabels", &s->labels, &s->nlabels);
        if (rc != 0)
            goto fail;
    }
    if (me != NULL && cJSON_GetArraySize(me) > 0) {
        s->exprs = cm_calloc((size_t)cJSON_GetArraySize(me), sizeof(*s->exprs));
        if (s->exprs == NULL) {
            rc = cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
            goto fail;
        }
        cJSON_ArrayForEach(it, me)
        {
            rc = compile_expr(c, it, &s->exprs[s->nexprs++]);
            if (rc != 0)
                goto fail;
        }
    }
    *out = s;
    return 0;
fail:
    pol_selector_destroy(s);
    return rc;
}

int pol_annotations_compile(const struct pol_ctx *c, const cJSON *m, struct pol_sel_label **out,
                            size_t *n)
{
    return compile_label_map(c, m, "annotations", out, n);
}

bool pol_labels_match(const struct pol_sel_label *v, size_t n, const cJSON *labels)
{
    size_t i;

    for (i = 0; i < n; i++) {
        const cJSON *it;
        bool found = false;

        if (v[i].key_lit != NULL) {
            it = cJSON_GetObjectItemCaseSensitive(labels, v[i].key_lit);
            found = cJSON_IsString(it) &&
                    pol_wildcard_match(v[i].value, it->valuestring, strlen(it->valuestring));
        } else if (labels != NULL) {
            cJSON_ArrayForEach(it, labels)
            {
                if (cJSON_IsString(it) &&
                    pol_wildcard_match(v[i].key, it->string, strlen(it->string)) &&
                    pol_wildcard_match(v[i].value, it->valuestring, strlen(it->valuestring))) {
                    found = true;
                    break;
                }
            }
        }
        if (!found)
            return false;
    }
    return true;
}

bool pol_selector_match(const struct pol_selector *s, const cJSON *labels)
{
    size_t i;
    size_t j;

    if (!pol_labels_match(s->labels, s->nlabels, labels))
        return false;
    for (i = 0; i < s->nexprs; i++) {
        const struct pol_sel_expr *e = &s->exprs[i];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(labels, e->key);
        bool in = false;

        if (!cJSON_IsString(v))
            v = NULL;
        switch (e->op) {
        case POL_SEL_EXISTS:
            if (v == NULL)
                return false;
            break;
        case POL_SEL_NOTEXISTS:
            if (v != NULL)
                return false;
            break;
        case POL_SEL_IN:
        case POL_SEL_NOTIN:
            for (j = 0; v != NULL && j < e->nvalues && !in; j++)
                in = strcmp(e->values[j], v->valuestring) == 0;
            /* NotIn also holds when the label is absent (Kubernetes semantics). */
            if (in != (e->op == POL_SEL_IN))
                return false;
            break;
        }
    }
    return true;
}

int pol_get_uint(const struct pol_ctx *c, const cJSON *obj, const char *key, bool required,
                 uint32_t lo, uint32_t hi, uint32_t def, uint32_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (v == NULL || cJSON_IsNull(v)) {
        if (required)
            return pol_ctx_fail(c, CM_ECONFIG, obj, "%s is required", key);
        *out = def;
        return 0;
    }
    if (!cJSON_IsNumber(v))
        return pol_ctx_fail(c, CM_ECONFIG, v, "%s must be a whole number, not %s", key,
                            type_name(v));
    /* Range first: converting an out-of-range double to an integer is undefined. */
    if (!(v->valuedouble >= (double)lo && v->valuedouble <= (double)hi) ||
        v->valuedouble != (double)(int64_t)v->valuedouble)
        return pol_ctx_fail(c, CM_ECONFIG, v, "%s must be a whole number from %u to %u", key,
                            (unsigned)lo, (unsigned)hi);
    *out = (uint32_t)v->valuedouble;
    return 0;
}

bool pol_is_dns_subdomain(const char *s)
{
    size_t n = strlen(s);
    size_t i;

    if (n == 0 || n > 253)
        return false;
    for (i = 0; i < n; i++) {
        char ch = s[i];
        bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');

        if (!alnum && ch != '-' && ch != '.')
            return false;
        if (!alnum && (i == 0 || i == n - 1))
            return false;
    }
    return true;
}
