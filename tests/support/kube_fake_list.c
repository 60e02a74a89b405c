/* SPDX-License-Identifier: Apache-2.0 */
/* kube_fake_list.c - lists in the fake kube-apiserver: selection by namespace, label
 * and field selectors, stable (namespace, name) order, limit/continue paging with
 * opaque tokens that expire on simulated compaction. Callers hold s->mu. */
#include "kube_fake_int.h"

#include "common/cm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- lists ---- */

struct key_ref {
    struct fk_obj *o;
};

static int cmp_obj(const void *a, const void *b)
{
    const struct fk_obj *x = ((const struct key_ref *)a)->o;
    const struct fk_obj *y = ((const struct key_ref *)b)->o;
    int c = strcmp(x->ns, y->ns);

    return c != 0 ? c : strcmp(x->name, y->name);
}

static int cmp_key(const struct fk_obj *o, const char *ns, const char *name)
{
    int c = strcmp(o->ns, ns);

    return c != 0 ? c : strcmp(o->name, name);
}

static void hex_encode(const char *in, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;

    for (; *in != '\0' && n + 3 <= cap; in++) {
        out[n++] = hex[(unsigned char)*in >> 4];
        out[n++] = hex[(unsigned char)*in & 15];
    }
    out[n] = '\0';
}

static bool hex_decode(const char *in, char *out, size_t cap)
{
    size_t n = strlen(in);
    size_t i;

    if (n % 2 != 0 || n / 2 >= cap)
        return false;
    for (i = 0; i < n; i += 2) {
        int v = 0;
        int k;

        for (k = 0; k < 2; k++) {
            char ch = in[i + (size_t)k];

            v <<= 4;
            if (ch >= '0' && ch <= '9')
                v |= ch - '0';
            else if (ch >= 'a' && ch <= 'f')
                v |= ch - 'a' + 10;
            else
                return false;
        }
        if (v == 0)
            return false;
        out[i / 2] = (char)v;
    }
    out[n / 2] = '\0';
    return true;
}

/* Field selector check: 1 match, 0 no, -1 error (msg). */
static int field_match(const char *sel, const struct fk_obj *o, char *msg, size_t ml)
{
    char buf[1024];
    char *p = buf;
    int n = snprintf(buf, sizeof(buf), "%s", sel);

    if (n < 0 || (size_t)n >= sizeof(buf)) {
        (void)snprintf(msg, ml, "field selector too long");
        return -1;
    }
    while (*p != '\0') {
        char *c = strchr(p, ',');
        char *op;
        const char *val;
        const char *have;
        bool ne = false;

        if (c != NULL)
            *c = '\0';
        op = strstr(p, "!=");
        if (op != NULL) {
            ne = true;
            *op = '\0';
            val = op + 2;
        } else if ((op = strstr(p, "==")) != NULL) {
            *op = '\0';
            val = op + 2;
        } else if ((op = strchr(p, '=')) != NULL) {
            *op = '\0';
            val = op + 1;
        } else {
            (void)snprintf(msg, ml, "invalid selector: '%.200s'; can't understand '%.200s'", sel,
                           p);
            return -1;
        }
        if (strcmp(p, "metadata.name") == 0) {
            have = o->name;
        } else if (strcmp(p, "metadata.namespace") == 0) {
            have = o->ns;
        } else {
            (void)snprintf(msg, ml, "field label not supported: %.200s", p);
            return -1;
        }
        if ((strcmp(have, val) == 0) == ne)
            return 0;
        if (c == NULL)
            break;
        p = c + 1;
    }
    return 1;
}

/* The object as a list item, serialised once (see fk_obj.item_json). */
static bool list_item_json(const struct fk_type *t, struct fk_obj *o)
{
    cJSON *c;
    char *text;

    if (o->item_json != NULL)
        return true;
    c = cJSON_Duplicate(o->obj, 1);
    if (c == NULL)
        return false;
    if (t->builtin) {
        /* The real apiserver leaves these out of typed lists' items. */
        cJSON_DeleteItemFromObjectCaseSensitive(c, "apiVersion");
        cJSON_DeleteItemFromObjectCaseSensitive(c, "kind");
    }
    text = cJSON_PrintUnformatted(c);
    cJSON_Delete(c);
    if (text == NULL)
        return false;
    o->item_len = strlen(text);
    o->item_json = malloc(o->item_len + 1);
    if (o->item_json != NULL)
        memcpy(o->item_json, text, o->item_len + 1);
    cJSON_free(text);
    return o->item_json != NULL;
}

/* Appends to a malloc'd buffer; false on OOM (the buffer is then freed). */
static bool text_add(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t ncap = (*len + n + 1) * 2;
        char *nb = realloc(*buf, ncap);

        if (nb == NULL) {
            free(*buf);
            *buf = NULL;
            return false;
        }
        *buf = nb;
        *cap = ncap;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    (*buf)[*len] = '\0';
    return true;
}

void fk_store_list(struct fake_kube *s, const struct fk_type *t, const char *ns,
                   const struct fk_list_q *q, struct fk_result *r)
{
    struct key_ref *sel = NULL;
    size_t nsel = 0;
    size_t i;
    size_t start = 0;
    uint64_t limit = 0;
    uint64_t list_rv = s->rv;
    char msg[512];
    char after_ns[FK_NAME] = "";
    char after_name[FK_NAME] = "";
    bool have_after = false;
    cJSON *j = NULL;
    cJSON *meta;
    char *env;
    char *text = NULL;
    size_t tlen = 0;
    size_t tcap = 0;
    size_t end;
    bool ok;
    char av[FK_NAME + 80];
    char kind[FK_NAME + 8];
    char rvs[32];

    if (q->limit != NULL && q->limit[0] != '\0' &&
        (cm_parse_u64(q->limit, strlen(q->limit), &limit) != 0)) {
        fk_set_error(r, 400, "BadRequest", "invalid limit: %.100s", q->limit);
        return;
    }
    if (q->cont != NULL && q->cont[0] != '\0') {
        char dec[3 * FK_NAME];
        char *c1;
        char *c2;
        uint64_t trv;

        if (!hex_decode(q->cont, dec, sizeof(dec)) || (c1 = strchr(dec, '\x1f')) == NULL ||
            (c2 = strchr(c1 + 1, '\x1f')) == NULL) {
            fk_set_error(r, 400, "BadRequest", "continue key is not valid: illegal base64 data");
            return;
        }
        *c1 = '\0';
        *c2 = '\0';
        if (cm_parse_u64(dec, strlen(dec), &trv) != 0) {
            fk_set_error(r, 400, "BadRequest", "continue key is not valid: bad resource version");
            return;
        }
        if (trv <= s->compacted_rv) {
            fk_set_error(r, 410, "Expired",
                         "The provided continue parameter is too old to display a consistent "
                         "list result. You can start a new list without the continue parameter, "
                         "or use the continue token in this response to retrieve the remainder "
                         "of the results. Continuing with the provided token results in an "
                         "inconsistent list - objects that were created, modified, or deleted "
                         "between the time the first chunk was returned and now may show up in "
                         "the list.");
            return;
        }
        list_rv = trv;
        (void)snprintf(after_ns, sizeof(after_ns), "%s", c1 + 1);
        (void)snprintf(after_name, sizeof(after_name), "%s", c2 + 1);
        have_after = true;
    }
    sel = malloc((s->nobjs + 1) * sizeof(*sel));
    if (sel == NULL) {
        fk_set_error(r, 500, "InternalError", "out of memory");
        return;
    }
    for (i = 0; i < s->nobjs; i++) {
        struct fk_obj *o = &s->objs[i];
        int m;

        if (strcmp(o->plural, t->plural) != 0 || strcmp(o->group, t->group) != 0)
            continue;
        if (ns != NULL && ns[0] != '\0' && strcmp(o->ns, ns) != 0)
            continue;
        if (q->label_selector != NULL && q->label_selector[0] != '\0') {
            const cJSON *labels = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(o->obj, "metadata"), "labels");

            m = fk_label_match(q->label_selector, labels, msg, sizeof(msg));
            if (m < 0) {
                free(sel);
                fk_set_error(r, 400, "BadRequest", "%s", msg);
                return;
            }
            if (m == 0)
                continue;
        }
        if (q->field_selector != NULL && q->field_selector[0] != '\0') {
            m = field_match(q->field_selector, o, msg, sizeof(msg));
            if (m < 0) {
                free(sel);
                fk_set_error(r, 400, "BadRequest", "%s", msg);
                return;
            }
            if (m == 0)
                continue;
        }
        sel[nsel++].o = o;
    }
    qsort(sel, nsel, sizeof(*sel), cmp_obj);
    if (have_after) {
        while (start < nsel && cmp_key(sel[start].o, after_ns, after_name) <= 0)
            start++;
    }
    end = start;
    while (end < nsel && (limit == 0 || end - start < limit))
        end++;
    /* The envelope through cJSON (escaping), the items from the per-object cache: a
     * page costs a concatenation, not a serialisation of every object. */
    j = cJSON_CreateObject();
    if (t->group[0] != '\0')
        (void)snprintf(av, sizeof(av), "%s/%s", t->group, t->version);
    else
        (void)snprintf(av, sizeof(av), "%s", t->version);
    (void)snprintf(kind, sizeof(kind), "%sList", t->kind);
    cJSON_AddStringToObject(j, "kind", kind);
    cJSON_AddStringToObject(j, "apiVersion", av);
    meta = cJSON_AddObjectToObject(j, "metadata");
    (void)snprintf(rvs, sizeof(rvs), "%llu", (unsigned long long)list_rv);
    cJSON_AddStringToObject(meta, "resourceVersion", rvs);
    if (end < nsel) {
        char raw[3 * FK_NAME + 40];
        char tok[6 * FK_NAME + 80];
        const struct fk_obj *last = sel[end - 1].o;

        (void)snprintf(raw, sizeof(raw), "%llu\x1f%s\x1f%s", (unsigned long long)list_rv, last->ns,
                       last->name);
        hex_encode(raw, tok, sizeof(tok));
        cJSON_AddStringToObject(meta, "continue", tok);
        cJSON_AddNumberToObject(meta, "remainingItemCount", (double)(nsel - end));
    }
    env = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    ok = env != NULL && strlen(env) > 1 && text_add(&text, &tlen, &tcap, env, strlen(env) - 1) &&
         text_add(&text, &tlen, &tcap, ",\"items\":[", 10);
    cJSON_free(env);
    for (i = start; ok && i < end; i++) {
        struct fk_obj *o = sel[i].o;

        ok = list_item_json(t, o) && (i == start || text_add(&text, &tlen, &tcap, ",", 1)) &&
             text_add(&text, &tlen, &tcap, o->item_json, o->item_len);
    }
    ok = ok && text_add(&text, &tlen, &tcap, "]}", 2);
    free(sel);
    if (!ok) {
        free(text);
        fk_set_error(r, 500, "InternalError", "out of memory");
        return;
    }
    r->status = 200;
    r->text = text;
    r->text_len = tlen;
}
