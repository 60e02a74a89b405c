/* SPDX-License-Identifier: Apache-2.0 */
/* policy_pattern_fmt.c - Go-style text of values (%v, %T) for pattern failure messages,
 * written into fixed buffers so that a failure report never allocates. */
#include "policy/policy_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How deep %v descends into a resource value before writing "..." (resources may be
 * nested beyond the pattern). */
#define FMT_MAX_DEPTH 8

void pol_wbuf_init(struct pol_wbuf *w, char *p, size_t cap)
{
    w->p = p;
    w->cap = cap;
    w->len = 0;
    if (cap > 0) {
        p[0] = '\0';
    }
}

void pol_wbuf_add(struct pol_wbuf *w, const char *s, size_t n)
{
    size_t room;

    if (w->cap == 0 || w->len + 1 >= w->cap) {
        return;
    }
    room = w->cap - 1 - w->len;
    if (n > room) {
        n = room;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
    w->p[w->len] = '\0';
}

void pol_wbuf_adds(struct pol_wbuf *w, const char *s)
{
    pol_wbuf_add(w, s, strlen(s));
}

static bool wbuf_full(const struct pol_wbuf *w)
{
    return w->cap == 0 || w->len + 1 >= w->cap;
}

/* Go's strconv.FormatFloat(v, 'g', -1, 64), which fmt's %v uses for float64. */
static void add_float_g(struct pol_wbuf *w, double v)
{
    char e[64];
    char out[400];
    int prec;
    int len = 0;
    const char *exp_s;
    long x;

    for (prec = 0; prec <= 17; prec++) {
        len = snprintf(e, sizeof(e), "%.*e", prec, v);
        if (len > 0 && (size_t)len < sizeof(e) && strtod(e, NULL) == v) {
            break;
        }
    }
    exp_s = strchr(e, 'e');
    if (exp_s == NULL) {
        pol_wbuf_adds(w, e);
        return;
    }
    x = strtol(exp_s + 1, NULL, 10);
    if (x < -4 || x >= 6) {
        pol_wbuf_adds(w, e); /* Go writes "1e+06" like C */
        return;
    }
    len = snprintf(out, sizeof(out), "%.*f", prec - (int)x > 0 ? prec - (int)x : 0, v);
    if (len > 0) {
        pol_wbuf_add(w, out, (size_t)len < sizeof(out) ? (size_t)len : sizeof(out) - 1);
    }
}

static void add_int(struct pol_wbuf *w, int64_t v)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%lld", (long long)v);

    if (n > 0) {
        pol_wbuf_add(w, buf, (size_t)n);
    }
}

static void add_number(struct pol_wbuf *w, const cJSON *v)
{
    int64_t i;

    if (pol_json_int64(v, &i)) {
        add_int(w, i);
    } else {
        add_float_g(w, v->valuedouble);
    }
}

static void go_value(struct pol_wbuf *w, const cJSON *v, int depth)
{
    const cJSON *c;

    if (wbuf_full(w)) {
        return;
    }
    if (v == NULL || cJSON_IsNull(v)) {
        pol_wbuf_adds(w, "<nil>");
    } else if (cJSON_IsString(v)) {
        pol_wbuf_adds(w, v->valuestring != NULL ? v->valuestring : "");
    } else if (cJSON_IsBool(v)) {
        pol_wbuf_adds(w, cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsNumber(v)) {
        add_number(w, v);
    } else if (depth >= FMT_MAX_DEPTH) {
        pol_wbuf_adds(w, "...");
    } else if (cJSON_IsArray(v)) {
        bool first = true;

        pol_wbuf_adds(w, "[");
        for (c = v->child; c != NULL && !wbuf_full(w); c = c->next) {
            if (!first) {
                pol_wbuf_adds(w, " ");
            }
            first = false;
            go_value(w, c, depth + 1);
        }
        pol_wbuf_adds(w, "]");
    } else if (cJSON_IsObject(v)) {
        /* Go prints map keys sorted; select the next key each round (no allocation). */
        const char *last = NULL;
        bool first = true;

        pol_wbuf_adds(w, "map[");
        while (!wbuf_full(w)) {
            const cJSON *next = NULL;

            for (c = v->child; c != NULL; c = c->next) {
                if (c->string == NULL || (last != NULL && strcmp(c->string, last) <= 0)) {
                    continue;
                }
                if (next == NULL || strcmp(c->string, next->string) < 0) {
                    next = c;
                }
            }
            if (next == NULL) {
                break;
            }
            if (!first) {
                pol_wbuf_adds(w, " ");
            }
            first = false;
            pol_wbuf_adds(w, next->string);
            pol_wbuf_adds(w, ":");
            go_value(w, next, depth + 1);
            last = next->string;
        }
        pol_wbuf_adds(w, "]");
    } else {
        pol_wbuf_adds(w, "<nil>");
    }
}

void pol_wbuf_go_value(struct pol_wbuf *w, const cJSON *v)
{
    go_value(w, v, 0);
}

void pol_wbuf_go_pattern(struct pol_wbuf *w, const struct pol_pnode *n)
{
    size_t len = 0;
    const char *t;

    switch (n->kind) {
    case POL_PN_STRING:
        t = pol_strpat_text(n->sp, &len);
        pol_wbuf_add(w, t, len);
        break;
    case POL_PN_BOOL:
        pol_wbuf_adds(w, n->b ? "true" : "false");
        break;
    case POL_PN_NUMBER:
        if (n->is_int) {
            add_int(w, n->i);
        } else {
            add_float_g(w, n->d);
        }
        break;
    case POL_PN_NULL:
        pol_wbuf_adds(w, "<nil>");
        break;
    case POL_PN_MAP:
        pol_wbuf_adds(w, "map[...]");
        break;
    case POL_PN_ARRAY:
    default:
        pol_wbuf_adds(w, "[...]");
        break;
    }
}

const char *pol_go_type(const cJSON *v)
{
    int64_t i;

    if (v == NULL || cJSON_IsNull(v)) {
        return "<nil>";
    }
    if (cJSON_IsObject(v)) {
        return "map[string]interface {}";
    }
    if (cJSON_IsArray(v)) {
        return "[]interface {}";
    }
    if (cJSON_IsString(v)) {
        return "string";
    }
    if (cJSON_IsBool(v)) {
        return "bool";
    }
    if (cJSON_IsNumber(v)) {
        return pol_json_int64(v, &i) ? "int64" : "float64";
    }
    return "<nil>";
}
