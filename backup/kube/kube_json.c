/* SPDX-License-Identifier: Apache-2.0 */
/* kube_json.c - parsing API responses: the strict validator of kube_jt.c (RFC 8259,
 * depth cap) runs first, so that when cJSON then fails on a valid document the cause
 * can only be memory (CM_ENOMEM, not a misleading CM_EPROTO); and Status objects. */
#include "kube_int.h"

#include <stdio.h>
#include <string.h>

/* Validates buf (into tape t, or only checking when t is NULL), then has cJSON parse
 * it. */
static int parse_tree(struct kube_jt *t, const char *buf, size_t len, cJSON **out,
                      struct cm_err *err)
{
    struct kube_jt_error e;
    const char *end = NULL;
    cJSON *j;
    int rc;

    if (len == 0)
        return cm_err_set(err, CM_EPROTO, "kube: empty response body where JSON was expected");
    rc = kube_jt_parse(t, buf, len, KUBE_MAX_JSON_DEPTH, &e);
    if (rc != 0)
        return kube_json_error(rc, &e, len, err);
    j = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (j == NULL) /* the text is valid JSON, so cJSON ran out of memory */
        return cm_err_set(err, CM_ENOMEM, "kube: out of memory parsing a response");
    *out = j;
    return 0;
}

int kube_json_parse(const char *buf, size_t len, cJSON **out, struct cm_err *err)
{
    return parse_tree(NULL, buf, len, out, err);
}

/* Whether the number text s[0, n) is an integer a double cannot hold exactly (more
 * than 15 digits: 2^53 has 16; a 16-digit one below it is kept too, harmlessly). */
static bool long_integer(const char *s, size_t n)
{
    size_t i = s[0] == '-' ? 1 : 0;
    size_t digits = 0;

    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        digits++;
    }
    return digits > 15;
}

/* Walks node i of t and item (the same value, parsed by cJSON) together, replacing long
 * integers with raw items of their text. */
static int keep_exact(const struct kube_jt *t, uint32_t i, cJSON *parent, cJSON *item)
{
    const struct kube_jt_node *nd = &t->n[i];
    uint32_t c;
    cJSON *ci;

    if (nd->type == KUBE_JT_NUMBER) {
        char text[64];
        size_t n = nd->end - nd->start;
        cJSON *raw;

        if (parent == NULL || n >= sizeof(text) || !long_integer(t->s + nd->start, n))
            return 0;
        memcpy(text, t->s + nd->start, n);
        text[n] = '\0';
        raw = cJSON_CreateRaw(text);
        if (raw == NULL)
            return CM_ENOMEM;
        /* the member's key moves over with its flag; the replaced item is freed */
        raw->string = item->string;
        raw->type |= item->type & cJSON_StringIsConst;
        item->string = NULL;
        return cJSON_ReplaceItemViaPointer(parent, item, raw) ? 0 : CM_ENOMEM;
    }
    if (nd->type != KUBE_JT_OBJECT && nd->type != KUBE_JT_ARRAY)
        return 0;
    for (c = kube_jt_first(t, i), ci = item->child; c != 0 && ci != NULL; c = t->n[c].next) {
        cJSON *next = ci->next; /* ci may be replaced */
        int rc = keep_exact(t, c, item, ci);

        if (rc != 0)
            return rc;
        ci = next;
    }
    return 0;
}

int kube_json_parse_exact(const char *buf, size_t len, cJSON **out, struct cm_err *err)
{
    struct kube_jt t;
    cJSON *j = NULL;
    int rc;

    /* one pass records the tape the walk needs and validates */
    kube_jt_init(&t);
    rc = parse_tree(&t, buf, len, &j, err);
    if (rc == 0 && keep_exact(&t, 0, NULL, j) != 0) {
        cJSON_Delete(j);
        rc = cm_err_set(err, CM_ENOMEM, "kube: out of memory parsing a response");
    }
    kube_jt_free(&t);
    if (rc == 0)
        *out = j;
    return rc;
}

int kube_json_error(int rc, const struct kube_jt_error *e, size_t len, struct cm_err *err)
{
    if (rc == CM_ENOMEM)
        return cm_err_set(err, CM_ENOMEM, "kube: out of memory parsing a response");
    if (e->too_deep)
        return cm_err_set(err, CM_EPROTO, "kube: response JSON nested deeper than %d",
                          KUBE_MAX_JSON_DEPTH);
    if (e->too_many)
        return cm_err_set(err, CM_EPROTO, "kube: response JSON holds more than %u values",
                          (unsigned)KUBE_JT_MAX_NODES);
    if (e->trailing)
        return cm_err_set(err, CM_EPROTO,
                          "kube: trailing bytes after the JSON response (at byte %zu)", e->offset);
    return cm_err_set(err, CM_EPROTO, "kube: response is not valid JSON (at byte %zu of %zu)",
                      e->offset, len);
}

static void copy_field(char *dst, size_t cap, const char *src)
{
    size_t n = 0;

    if (src != NULL) {
        for (; src[n] != '\0' && n + 1 < cap; n++)
            dst[n] = (src[n] == '\n' || src[n] == '\r') ? ' ' : src[n];
    }
    dst[n] = '\0';
}

bool kube_status_parse(const cJSON *body, struct kube_status *st)
{
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(body, "kind");
    const cJSON *v;

    memset(st, 0, sizeof(*st));
    if (!cJSON_IsObject(body) || !cJSON_IsString(kind) || strcmp(kind->valuestring, "Status"))
        return false;
    v = cJSON_GetObjectItemCaseSensitive(body, "reason");
    copy_field(st->reason, sizeof(st->reason), cJSON_IsString(v) ? v->valuestring : NULL);
    v = cJSON_GetObjectItemCaseSensitive(body, "message");
    copy_field(st->message, sizeof(st->message), cJSON_IsString(v) ? v->valuestring : NULL);
    v = cJSON_GetObjectItemCaseSensitive(body, "code");
    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1000)
        st->code = (long)v->valuedouble;
    return true;
}
