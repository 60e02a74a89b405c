/* SPDX-License-Identifier: Apache-2.0 */
/* wh_jsonpatch.c - RFC 6902 add/remove/replace/test over cJSON for tests. */
#include "tests/support/wh_jsonpatch.h"

#include <string.h>

#define MAX_TOKENS 64
#define MAX_TOKEN 512

/* Splits "/a/b~1c" into unescaped tokens. */
static int parse_pointer(const char *p, char tokens[][MAX_TOKEN], size_t *n)
{
    *n = 0;
    if (*p == '\0')
        return 0;
    if (*p != '/')
        return CM_EPARSE;
    while (*p == '/') {
        size_t len = 0;

        p++;
        if (*n == MAX_TOKENS)
            return CM_EPARSE;
        while (*p != '\0' && *p != '/') {
            char c = *p;

            if (c == '~') {
                if (p[1] == '0')
                    c = '~';
                else if (p[1] == '1')
                    c = '/';
                else
                    return CM_EPARSE;
                p++;
            }
            if (len + 1 >= MAX_TOKEN)
                return CM_EPARSE;
            tokens[*n][len++] = c;
            p++;
        }
        tokens[*n][len] = '\0';
        (*n)++;
    }
    return 0;
}

static bool parse_index(const char *t, int *out)
{
    uint64_t v;

    if (cm_parse_u64(t, strlen(t), &v) != 0 || v > 1000000 || (t[0] == '0' && t[1] != '\0'))
        return false;
    *out = (int)v;
    return true;
}

static cJSON *child(cJSON *node, const char *tok)
{
    int i;

    if (cJSON_IsObject(node))
        return cJSON_GetObjectItemCaseSensitive(node, tok);
    if (cJSON_IsArray(node) && parse_index(tok, &i))
        return cJSON_GetArrayItem(node, i);
    return NULL;
}

/* The parent of the pointer's last token. */
static cJSON *resolve_parent(cJSON *doc, char tokens[][MAX_TOKEN], size_t n)
{
    cJSON *cur = doc;
    size_t i;

    for (i = 0; cur != NULL && i + 1 < n; i++)
        cur = child(cur, tokens[i]);
    return cur;
}

static int op_add(cJSON *parent, const char *last, cJSON *value)
{
    int i;

    if (cJSON_IsObject(parent)) {
        if (cJSON_GetObjectItemCaseSensitive(parent, last) != NULL)
            return cJSON_ReplaceItemInObjectCaseSensitive(parent, last, value) ? 0 : CM_ENOMEM;
        return cJSON_AddItemToObject(parent, last, value) ? 0 : CM_ENOMEM;
    }
    if (cJSON_IsArray(parent)) {
        if (strcmp(last, "-") == 0)
            return cJSON_AddItemToArray(parent, value) ? 0 : CM_ENOMEM;
        if (!parse_index(last, &i) || i > cJSON_GetArraySize(parent))
            return CM_ENOENT;
        if (i == cJSON_GetArraySize(parent))
            return cJSON_AddItemToArray(parent, value) ? 0 : CM_ENOMEM;
        return cJSON_InsertItemInArray(parent, i, value) ? 0 : CM_ENOMEM;
    }
    return CM_ENOENT;
}

static int apply_one(cJSON *doc, const cJSON *op, size_t idx, struct cm_err *err)
{
    char tokens[MAX_TOKENS][MAX_TOKEN];
    const cJSON *jop = cJSON_GetObjectItemCaseSensitive(op, "op");
    const cJSON *jpath = cJSON_GetObjectItemCaseSensitive(op, "path");
    const cJSON *jvalue = cJSON_GetObjectItemCaseSensitive(op, "value");
    cJSON *parent;
    cJSON *target;
    cJSON *copy;
    size_t n;
    int rc;

    if (!cJSON_IsString(jop) || !cJSON_IsString(jpath))
        return cm_err_set(err, CM_EPARSE, "operation %zu: op and path must be strings", idx);
    if (parse_pointer(jpath->valuestring, tokens, &n) != 0)
        return cm_err_set(err, CM_EPARSE, "operation %zu: bad pointer \"%s\"", idx,
                          jpath->valuestring);
    if (n == 0)
        return cm_err_set(err, CM_EINVAL, "operation %zu: the whole document", idx);
    parent = resolve_parent(doc, tokens, n);
    if (parent == NULL)
        return cm_err_set(err, CM_ENOENT, "operation %zu (%s %s): parent does not exist", idx,
                          jop->valuestring, jpath->valuestring);
    target = child(parent, tokens[n - 1]);
    if (strcmp(jop->valuestring, "add") == 0 || strcmp(jop->valuestring, "replace") == 0) {
        if (jvalue == NULL)
            return cm_err_set(err, CM_EPARSE, "operation %zu: no value", idx);
        if (strcmp(jop->valuestring, "replace") == 0 && target == NULL)
            return cm_err_set(err, CM_ENOENT, "operation %zu: replace of a missing %s", idx,
                              jpath->valuestring);
        copy = cJSON_Duplicate(jvalue, 1);
        if (copy == NULL)
            return cm_err_set(err, CM_ENOMEM, "out of memory");
        rc = op_add(parent, tokens[n - 1], copy);
        if (rc != 0) {
            cJSON_Delete(copy);
            return cm_err_set(err, rc, "operation %zu: cannot add at %s", idx, jpath->valuestring);
        }
        return 0;
    }
    if (strcmp(jop->valuestring, "remove") == 0) {
        if (target == NULL)
            return cm_err_set(err, CM_ENOENT, "operation %zu: remove of a missing %s", idx,
                              jpath->valuestring);
        cJSON_Delete(cJSON_DetachItemViaPointer(parent, target));
        return 0;
    }
    if (strcmp(jop->valuestring, "test") == 0) {
        if (target == NULL || jvalue == NULL || !cJSON_Compare(target, jvalue, 1))
            return cm_err_set(err, CM_EINVAL, "operation %zu: test failed at %s", idx,
                              jpath->valuestring);
        return 0;
    }
    return cm_err_set(err, CM_EINVAL, "operation %zu: unsupported op \"%s\"", idx,
                      jop->valuestring);
}

int wht_jsonpatch_apply(cJSON *doc, const char *patch, size_t len, struct cm_err *err)
{
    cJSON *ops = cJSON_ParseWithLength(patch, len);
    const cJSON *op;
    size_t i = 0;
    int rc = 0;

    if (!cJSON_IsArray(ops)) {
        cJSON_Delete(ops);
        return cm_err_set(err, CM_EPARSE, "patch is not a JSON array");
    }
    cJSON_ArrayForEach(op, ops)
    {
        rc = apply_one(doc, op, i++, err);
        if (rc != 0)
            break;
    }
    cJSON_Delete(ops);
    return rc;
}
