/* SPDX-License-Identifier: Apache-2.0 */
/* policy_cond.c - the {{ request.* }} variables lockwarden understands, and Kyverno
 * preconditions (any/all of key/operator/value) over them; compiled once, evaluated
 * without allocating. */
#include "policy_load_int.h"

#include <stdio.h>
#include <string.h>

#define VAR_MAX_SEGS 64
#define EXPAND_MAX 4096

static const char var_help[] = "supported variables are request.object.<path>, "
                               "request.oldObject.<path>, request.operation and "
                               "request.namespace, optionally || 'default'";

void pol_vars_free(struct pol_var *v, size_t n)
{
    size_t i;
    size_t j;

    for (i = 0; i < n; i++) {
        for (j = 0; j < v[i].nsegs; j++)
            cm_free(v[i].segs[j].key);
        cm_free(v[i].segs);
        cJSON_Delete(v[i].deflt);
    }
    cm_free(v);
}

static bool is_ident_start(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

static bool is_ident(char ch)
{
    return is_ident_start(ch) || (ch >= '0' && ch <= '9');
}

static int add_seg(struct pol_var *v, const char *key, size_t n, long index)
{
    struct pol_seg *ns;

    if (v->nsegs == VAR_MAX_SEGS)
        return CM_ETOOBIG;
    ns = cm_realloc(v->segs, (v->nsegs + 1) * sizeof(*ns));
    if (ns == NULL)
        return CM_ENOMEM;
    v->segs = ns;
    ns[v->nsegs].key = NULL;
    ns[v->nsegs].index = index;
    if (key != NULL) {
        ns[v->nsegs].key = cm_strndup(key, n);
        if (ns[v->nsegs].key == NULL)
            return CM_ENOMEM;
    }
    v->nsegs++;
    return 0;
}

/* Parses a JMESPath subset: request.object.a."b.c".d[0] || 'default'. Returns 0,
 * CM_EPARSE (unsupported), CM_ETOOBIG or CM_ENOMEM. */
static int parse_var(const char *s, size_t n, struct pol_var *v)
{
    size_t i = 0;
    size_t end = n;
    size_t k;
    int rc;

    /* a top-level "||" outside quotes starts the default */
    for (k = 0; k + 1 < n; k++) {
        if (s[k] == '"' || s[k] == '\'' || s[k] == '`') {
            char q = s[k];

            for (k++; k < n && s[k] != q; k++)
                ;
            continue;
        }
        if (s[k] == '|' && s[k + 1] == '|') {
            size_t a = k + 2;
            size_t b = n;

            end = k;
            while (a < b && s[a] == ' ')
                a++;
            while (b > a && s[b - 1] == ' ')
                b--;
            if (b - a >= 2 && s[a] == '\'' && s[b - 1] == '\'') {
                char *lit = cm_strndup(s + a + 1, b - a - 2);

                if (lit == NULL)
                    return CM_ENOMEM;
                v->deflt = cJSON_CreateString(lit);
                cm_free(lit);
            } else if (b - a >= 2 && s[a] == '`' && s[b - 1] == '`') {
                v->deflt = cJSON_ParseWithLength(s + a + 1, b - a - 2);
                if (v->deflt == NULL)
                    return CM_EPARSE;
            } else {
                return CM_EPARSE;
            }
            if (v->deflt == NULL)
                return CM_ENOMEM;
            break;
        }
    }
    while (end > 0 && s[end - 1] == ' ')
        end--;
    if (end >= 8 && memcmp(s, "request.", 8) == 0)
        i = 8;
    else
        return CM_EPARSE;
    if (end - i == 9 && memcmp(s + i, "operation", 9) == 0) {
        v->root = POL_ROOT_OPERATION;
        return 0;
    }
    if (end - i == 9 && memcmp(s + i, "namespace", 9) == 0) {
        v->root = POL_ROOT_NAMESPACE;
        return 0;
    }
    if (end - i >= 6 && memcmp(s + i, "object", 6) == 0 && (end - i == 6 || s[i + 6] == '.')) {
        v->root = POL_ROOT_OBJECT;
        i += 6;
    } else if (end - i >= 9 && memcmp(s + i, "oldObject", 9) == 0 &&
               (end - i == 9 || s[i + 9] == '.')) {
        v->root = POL_ROOT_OLD_OBJECT;
        i += 9;
    } else {
        return CM_EPARSE;
    }
    while (i < end) {
        if (s[i] == '.') {
            size_t a;

            i++;
            if (i < end && s[i] == '"') {
                a = ++i;
                while (i < end && s[i] != '"')
                    i++;
                if (i == end || i == a)
                    return CM_EPARSE;
                rc = add_seg(v, s + a, i - a, 0);
                i++;
            } else {
                a = i;
                if (i == end || !is_ident_start(s[i]))
                    return CM_EPARSE;
                while (i < end && is_ident(s[i]))
                    i++;
                rc = add_seg(v, s + a, i - a, 0);
            }
            if (rc != 0)
                return rc;
        } else if (s[i] == '[') {
            uint64_t idx;
            size_t a = ++i;

            while (i < end && s[i] >= '0' && s[i] <= '9')
                i++;
            if (i == end || s[i] != ']' || i == a || cm_parse_u64(s + a, i - a, &idx) != 0 ||
                idx > 1000000)
                return CM_EPARSE;
            i++;
            rc = add_seg(v, NULL, 0, (long)idx);
            if (rc != 0)
                return rc;
        } else {
            return CM_EPARSE;
        }
    }
    return 0;
}

int pol_template_compile(const struct pol_ctx *c, const cJSON *node, const char *text,
                         struct pol_var **vars, size_t *nvars)
{
    struct pol_var *v = NULL;
    size_t n = 0;
    const char *p = text;
    int rc = 0;

    *vars = NULL;
    *nvars = 0;
    for (;;) {
        const char *open = strstr(p, "{{");
        const char *close;
        struct pol_var *nv;
        size_t a;
        size_t b;

        if (open == NULL)
            break;
        close = strstr(open + 2, "}}");
        if (close == NULL) {
            rc = pol_ctx_fail(c, CM_ECONFIG, node, "unterminated {{ in \"%.80s\"", text);
            goto fail;
        }
        nv = cm_realloc(v, (n + 1) * sizeof(*v));
        if (nv == NULL) {
            rc = cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
            goto fail;
        }
        v = nv;
        memset(&v[n], 0, sizeof(v[n]));
        v[n].start = (size_t)(open - text);
        v[n].end = (size_t)(close + 2 - text);
        n++;
        a = (size_t)(open + 2 - text);
        b = (size_t)(close - text);
        while (a < b && text[a] == ' ')
            a++;
        while (b > a && text[b - 1] == ' ')
            b--;
        rc = parse_var(text + a, b - a, &v[n - 1]);
        if (rc == CM_ENOMEM) {
            rc = cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
            goto fail;
        }
        if (rc != 0) {
            rc = pol_ctx_fail(c, CM_ECONFIG, node, "unsupported variable \"{{%.*s}}\": %s",
                              (int)(b - a > 80 ? 80 : b - a), text + a, var_help);
            goto fail;
        }
        p = close + 2;
    }
    *vars = v;
    *nvars = n;
    return 0;
fail:
    pol_vars_free(v, n);
    return rc;
}

static void pol_operand_free(struct pol_operand *o)
{
    cJSON_Delete(o->literal);
    cm_free(o->text);
    pol_vars_free(o->vars, o->nvars);
    memset(o, 0, sizeof(*o));
}

static int pol_operand_compile(const struct pol_ctx *c, const cJSON *v, struct pol_operand *out)
{
    int rc;

    memset(out, 0, sizeof(*out));
    if (cJSON_IsString(v) && strstr(v->valuestring, "{{") != NULL) {
        size_t len = strlen(v->valuestring);

        if (len > POLICY_MAX_STRING)
            return pol_ctx_fail(c, CM_ETOOBIG, v, "longer than %d bytes", POLICY_MAX_STRING);
        out->text = cm_strdup(v->valuestring);
        if (out->text == NULL)
            return cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
        rc = pol_template_compile(c, v, out->text, &out->vars, &out->nvars);
        if (rc != 0) {
            pol_operand_free(out);
            return rc;
        }
        out->whole = out->nvars == 1 && out->vars[0].start == 0 && out->vars[0].end == len;
        return 0;
    }
    out->literal = v != NULL ? cJSON_Duplicate(v, true) : cJSON_CreateNull();
    if (out->literal == NULL)
        return cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
    return 0;
}

/* ---- evaluation ---- */

/* A value during evaluation: a JSON node, or a string that is not in any tree. */
struct cval {
    const cJSON *j;
    const char *s;
    size_t n;
};

static const char *const op_names[] = {"CREATE", "UPDATE", "DELETE", "CONNECT"};

static struct cval var_value(const struct pol_var *v, const struct pol_res *r)
{
    struct cval out = {NULL, NULL, 0};
    const cJSON *j;
    size_t i;

    switch (v->root) {
    case POL_ROOT_OPERATION:
        out.s = op_names[r->op & 3];
        out.n = strlen(out.s);
        return out;
    case POL_ROOT_NAMESPACE:
        out.s = r->ns;
        out.n = r->ns_len;
        return out;
    case POL_ROOT_OBJECT:
        j = r->object;
        break;
    default:
        j = r->old_object;
        break;
    }
    for (i = 0; i < v->nsegs && j != NULL; i++) {
        if (v->segs[i].key != NULL)
            j = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, v->segs[i].key) : NULL;
        else
            j = cJSON_IsArray(j) ? cJSON_GetArrayItem(j, (int)v->segs[i].index) : NULL;
    }
    if ((j == NULL || cJSON_IsNull(j)) && v->deflt != NULL)
        j = v->deflt;
    out.j = j;
    return out;
}

/* Appends the text form of a value: strings as is, numbers as integers where integral,
 * null as nothing, collections as compact JSON. */
static int append_value(const struct cval *v, char *buf, size_t cap, size_t *len)
{
    char tmp[64];
    const char *s = NULL;
    size_t n = 0;

    if (v->j == NULL) {
        s = v->s;
        n = v->s != NULL ? v->n : 0;
    } else if (cJSON_IsString(v->j)) {
        s = v->j->valuestring;
        n = strlen(s);
    } else if (cJSON_IsNumber(v->j)) {
        double d = v->j->valuedouble;

        if (d == (double)(long long)d && d > -1e15 && d < 1e15)
            (void)snprintf(tmp, sizeof(tmp), "%lld", (long long)d);
        else
            (void)snprintf(tmp, sizeof(tmp), "%.17g", d);
        s = tmp;
        n = strlen(tmp);
    } else if (cJSON_IsTrue(v->j)) {
        s = "true";
        n = 4;
    } else if (cJSON_IsFalse(v->j)) {
        s = "false";
        n = 5;
    } else if (cJSON_IsNull(v->j)) {
        n = 0;
    } else {
        if (cap - *len < 2 || !cJSON_PrintPreallocated((cJSON *)(uintptr_t)v->j, buf + *len,
                                                       (int)(cap - *len), false))
            return CM_ETOOBIG;
        *len += strlen(buf + *len);
        return 0;
    }
    if (n >= cap - *len)
        return CM_ETOOBIG;
    if (n > 0)
        memcpy(buf + *len, s, n);
    *len += n;
    buf[*len] = '\0';
    return 0;
}

static int expand(const char *text, const struct pol_var *vars, size_t nvars,
                  const struct pol_res *r, char *buf, size_t cap, size_t *len)
{
    size_t pos = 0;
    size_t i;
    int rc;

    *len = 0;
    buf[0] = '\0';
    for (i = 0; i <= nvars; i++) {
        size_t stop = i < nvars ? vars[i].start : strlen(text);
        struct cval v;

        if (stop - pos >= cap - *len)
            return CM_ETOOBIG;
        memcpy(buf + *len, text + pos, stop - pos);
        *len += stop - pos;
        buf[*len] = '\0';
        if (i == nvars)
            break;
        v = var_value(&vars[i], r);
        rc = append_value(&v, buf, cap, len);
        if (rc != 0)
            return rc;
        pos = vars[i].end;
    }
    return 0;
}

int pol_template_expand(const char *text, const struct pol_var *vars, size_t nvars,
                        const struct pol_res *r, struct cm_buf *out)
{
    char buf[EXPAND_MAX];
    size_t len = 0;

    if (expand(text, vars, nvars, r, buf, sizeof(buf), &len) != 0) {
        /* A message too long to expand is kept as written rather than cut oddly. */
        return cm_buf_adds(out, text);
    }
    return cm_buf_add(out, buf, len);
}

/* Resolves an operand; string results of templates land in buf. */
static int operand_value(const struct pol_operand *o, const struct pol_res *r, char *buf,
                         size_t cap, struct cval *out)
{
    size_t len;
    int rc;

    out->j = NULL;
    out->s = NULL;
    out->n = 0;
    if (o->nvars == 0) {
        out->j = o->literal;
        return 0;
    }
    if (o->whole) {
        *out = var_value(&o->vars[0], r);
        return 0;
    }
    rc = expand(o->text, o->vars, o->nvars, r, buf, cap, &len);
    if (rc != 0)
        return rc;
    out->s = buf;
    out->n = len;
    return 0;
}

static bool is_null(const struct cval *v)
{
    return (v->j == NULL && v->s == NULL) || cJSON_IsNull(v->j);
}

static bool is_coll(const struct cval *v)
{
    return v->j != NULL && (cJSON_IsObject(v->j) || cJSON_IsArray(v->j));
}

/* The scalar as text (in tmp when it has to be formatted). */
static void scalar_text(const struct cval *v, char *tmp, size_t cap, const char **s, size_t *n)
{
    size_t len = 0;

    if (v->j == NULL) {
        *s = v->s != NULL ? v->s : "";
        *n = v->s != NULL ? v->n : 0;
        return;
    }
    if (cJSON_IsString(v->j)) {
        *s = v->j->valuestring;
        *n = strlen(*s);
        return;
    }
    tmp[0] = '\0';
    (void)append_value(v, tmp, cap, &len);
    *s = tmp;
    *n = len;
}

static bool has_wildcard(const char *s, size_t n)
{
    return memchr(s, '*', n) != NULL || memchr(s, '?', n) != NULL;
}

/* Kyverno's Equals: collections compare deeply, numbers numerically, strings with the
 * value's wildcards; a missing key equals only null or "". */
static bool cv_equals(const struct cval *key, const struct cval *val)
{
    char t1[64];
    char t2[64];
    const char *a;
    const char *b;
    size_t an;
    size_t bn;
    double x;
    double y;

    if (is_coll(key) || is_coll(val))
        return key->j != NULL && val->j != NULL && cJSON_Compare(key->j, val->j, true);
    if (is_null(key) || is_null(val)) {
        const struct cval *other = is_null(key) ? val : key;

        if (is_null(other))
            return true;
        scalar_text(other, t1, sizeof(t1), &a, &an);
        return an == 0;
    }
    if (cJSON_IsNumber(key->j) && cJSON_IsNumber(val->j))
        return key->j->valuedouble == val->j->valuedouble;
    scalar_text(key, t1, sizeof(t1), &a, &an);
    scalar_text(val, t2, sizeof(t2), &b, &bn);
    if (an == bn && memcmp(a, b, an) == 0)
        return true;
    if ((cJSON_IsNumber(key->j) || cJSON_IsNumber(val->j)) && cm_parse_double(a, an, &x) == 0 &&
        cm_parse_double(b, bn, &y) == 0)
        return x == y;
    if (has_wildcard(b, bn))
        return pol_wildcard_match_raw(b, bn, a, an);
    return false;
}

/* Orders key against val: numbers numerically, else durations, else quantities. */
static bool cv_compare(const struct cval *key, const struct cval *val, int *cmp)
{
    char t1[64];
    char t2[64];
    const char *a;
    const char *b;
    size_t an;
    size_t bn;

    if (is_coll(key) || is_coll(val) || is_null(key) || is_null(val))
        return false;
    if (cJSON_IsNumber(key->j) && cJSON_IsNumber(val->j)) {
        double x = key->j->valuedouble;
        double y = val->j->valuedouble;

        *cmp = x < y ? -1 : x > y ? 1 : 0;
        return true;
    }
    scalar_text(key, t1, sizeof(t1), &a, &an);
    scalar_text(val, t2, sizeof(t2), &b, &bn);
    return pol_value_compare_strings(a, an, b, bn, cmp);
}

/* Element i of a value seen as a list (a scalar is a list of one). */
static size_t cv_count(const struct cval *v)
{
    if (v->j != NULL && cJSON_IsArray(v->j))
        return (size_t)cJSON_GetArraySize(v->j);
    return 1;
}

static struct cval cv_elem(const struct cval *v, const cJSON **cursor, size_t i)
{
    struct cval e = {NULL, NULL, 0};

    if (v->j != NULL && cJSON_IsArray(v->j)) {
        *cursor = i == 0 ? v->j->child : (*cursor)->next;
        e.j = *cursor;
        return e;
    }
    return *v;
}

static bool cv_in(const struct cval *k, const struct cval *set)
{
    const cJSON *cur = NULL;
    size_t n = cv_count(set);
    size_t i;

    for (i = 0; i < n; i++) {
        struct cval e = cv_elem(set, &cur, i);

        if (cv_equals(k, &e))
            return true;
    }
    return false;
}

/* any: some key element is (or, negated, is not) in set; else every one. */
static bool cv_set_op(const struct cval *key, const struct cval *set, bool any, bool negate)
{
    const cJSON *cur = NULL;
    size_t n = cv_count(key);
    size_t i;

    for (i = 0; i < n; i++) {
        struct cval e = cv_elem(key, &cur, i);
        bool in = cv_in(&e, set) != negate;

        if (any && in)
            return true;
        if (!any && !in)
            return false;
    }
    return !any;
}

static int cond_eval(const struct pol_cond *c, const struct pol_res *r, bool *out)
{
    char kb[EXPAND_MAX / 2];
    char vb[EXPAND_MAX / 2];
    struct cval k;
    struct cval v;
    int cmp = 0;
    int rc;

    rc = operand_value(&c->key, r, kb, sizeof(kb), &k);
    if (rc == 0)
        rc = operand_value(&c->value, r, vb, sizeof(vb), &v);
    if (rc != 0)
        return rc;
    switch (c->op) {
    case POL_OP_EQUALS:
        *out = cv_equals(&k, &v);
        break;
    case POL_OP_NOT_EQUALS:
        *out = !cv_equals(&k, &v);
        break;
    case POL_OP_IN:
        *out = cv_set_op(&k, &v, false, false);
        break;
    case POL_OP_NOT_IN:
        *out = !cv_set_op(&k, &v, false, false);
        break;
    case POL_OP_ANY_IN:
        *out = cv_set_op(&k, &v, true, false);
        break;
    case POL_OP_ALL_IN:
        *out = cv_set_op(&k, &v, false, false);
        break;
    case POL_OP_ANY_NOT_IN:
        *out = cv_set_op(&k, &v, true, true);
        break;
    case POL_OP_ALL_NOT_IN:
        *out = cv_set_op(&k, &v, false, true);
        break;
    case POL_OP_GT:
        *out = cv_compare(&k, &v, &cmp) && cmp > 0;
        break;
    case POL_OP_GE:
        *out = cv_compare(&k, &v, &cmp) && cmp >= 0;
        break;
    case POL_OP_LT:
        *out = cv_compare(&k, &v, &cmp) && cmp < 0;
        break;
    case POL_OP_LE:
        *out = cv_compare(&k, &v, &cmp) && cmp <= 0;
        break;
    }
    return 0;
}

int pol_conds_eval(const struct pol_conds *pc, const struct pol_res *r, bool *out)
{
    size_t i;
    bool ok;
    int rc;

    *out = true;
    for (i = 0; i < pc->nall; i++) {
        rc = cond_eval(&pc->all[i], r, &ok);
        if (rc != 0)
            return rc;
        if (!ok) {
            *out = false;
            return 0;
        }
    }
    if (pc->nany == 0)
        return 0;
    for (i = 0; i < pc->nany; i++) {
        rc = cond_eval(&pc->any[i], r, &ok);
        if (rc != 0)
            return rc;
        if (ok)
            return 0;
    }
    *out = false;
    return 0;
}

/* ---- compile ---- */

static const struct {
    const char *name;
    enum pol_cond_op op;
} op_table[] = {
    {"Equals", POL_OP_EQUALS},
    {"NotEquals", POL_OP_NOT_EQUALS},
    {"In", POL_OP_IN},
    {"NotIn", POL_OP_NOT_IN},
    {"AnyIn", POL_OP_ANY_IN},
    {"AllIn", POL_OP_ALL_IN},
    {"AnyNotIn", POL_OP_ANY_NOT_IN},
    {"AllNotIn", POL_OP_ALL_NOT_IN},
    {"GreaterThan", POL_OP_GT},
    {"GreaterThanOrEquals", POL_OP_GE},
    {"LessThan", POL_OP_LT},
    {"LessThanOrEquals", POL_OP_LE},
};

static void conds_list_free(struct pol_cond *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        pol_operand_free(&v[i].key);
        pol_operand_free(&v[i].value);
    }
    cm_free(v);
}

void pol_conds_free(struct pol_conds *pc)
{
    conds_list_free(pc->all, pc->nall);
    conds_list_free(pc->any, pc->nany);
    memset(pc, 0, sizeof(*pc));
}

static int compile_cond(const struct pol_ctx *c, const cJSON *node, struct pol_cond *out)
{
    static const char *const keys[] = {"key", "operator", "value", "message", NULL};
    const char *op;
    size_t i;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(node))
        return pol_ctx_fail(c, CM_ECONFIG, node, "preconditions entries must be mappings");
    rc = pol_check_keys(c, node, keys);
    if (rc == 0)
        rc = pol_get_string(c, node, "operator", true, &op);
    if (rc != 0)
        return rc;
    for (i = 0; i < CM_ARRAY_LEN(op_table); i++) {
        if (strcmp(op, op_table[i].name) == 0)
            break;
    }
    if (i == CM_ARRAY_LEN(op_table))
        return pol_ctx_fail(c, CM_ECONFIG, cJSON_GetObjectItem(node, "operator"),
                            "unsupported operator \"%.40s\" (Equals, NotEquals, In, NotIn, "
                            "AnyIn, AllIn, AnyNotIn, AllNotIn, GreaterThan, "
                            "GreaterThanOrEquals, LessThan, LessThanOrEquals)",
                            op);
    out->op = op_table[i].op;
    if (cJSON_GetObjectItemCaseSensitive(node, "key") == NULL)
        return pol_ctx_fail(c, CM_ECONFIG, node, "key is required");
    rc = pol_operand_compile(c, cJSON_GetObjectItemCaseSensitive(node, "key"), &out->key);
    if (rc == 0)
        rc = pol_operand_compile(c, cJSON_GetObjectItemCaseSensitive(node, "value"), &out->value);
    return rc;
}

static int compile_list(const struct pol_ctx *c, const cJSON *list, struct pol_cond **out,
                        size_t *n)
{
    const cJSON *it;
    int rc;

    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(list))
        return pol_ctx_fail(c, CM_ECONFIG, list, "preconditions any/all must be lists");
    if (cJSON_GetArraySize(list) == 0)
        return 0;
    *out = cm_calloc((size_t)cJSON_GetArraySize(list), sizeof(**out));
    if (*out == NULL)
        return cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
    cJSON_ArrayForEach(it, list)
    {
        rc = compile_cond(c, it, &(*out)[*n]);
        (*n)++;
        if (rc != 0)
            return rc;
    }
    return 0;
}

int pol_conds_compile(const struct pol_ctx *c, const cJSON *pre, struct pol_conds *out)
{
    static const char *const keys[] = {"all", "any", NULL};
    const cJSON *v;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (pre == NULL || cJSON_IsNull(pre))
        return 0;
    out->present = true;
    if (cJSON_IsArray(pre)) {
        /* The old form: a plain list means all. */
        rc = compile_list(c, pre, &out->all, &out->nall);
    } else if (cJSON_IsObject(pre)) {
        rc = pol_check_keys(c, pre, keys);
        v = cJSON_GetObjectItemCaseSensitive(pre, "all");
        if (rc == 0 && v != NULL)
            rc = compile_list(c, v, &out->all, &out->nall);
        v = cJSON_GetObjectItemCaseSensitive(pre, "any");
        if (rc == 0 && v != NULL)
            rc = compile_list(c, v, &out->any, &out->nany);
    } else {
        rc = pol_ctx_fail(c, CM_ECONFIG, pre, "preconditions must be a mapping with all/any");
    }
    if (rc != 0)
        pol_conds_free(out);
    return rc;
}
