/* SPDX-License-Identifier: Apache-2.0 */
/* kube_fake_patch.c - patches for the fake kube-apiserver: RFC 7386 merge patches
 * (also used for strategic merge patches, without list merge keys) and RFC 6902 JSON
 * patches (add, remove, replace, move, copy, test with RFC 6901 pointers). */
#include "kube_fake_int.h"

#include "common/cm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cJSON *fk_merge_patch(cJSON *target, const cJSON *patch)
{
    const cJSON *it;

    if (!cJSON_IsObject(patch)) {
        cJSON_Delete(target);
        return cJSON_Duplicate(patch, 1);
    }
    if (!cJSON_IsObject(target)) {
        cJSON_Delete(target);
        target = cJSON_CreateObject();
        if (target == NULL)
            return NULL;
    }
    cJSON_ArrayForEach(it, patch)
    {
        if (cJSON_IsNull(it)) {
            cJSON_DeleteItemFromObjectCaseSensitive(target, it->string);
        } else {
            cJSON *cur = cJSON_DetachItemFromObjectCaseSensitive(target, it->string);
            cJSON *merged = fk_merge_patch(cur, it);

            if (merged != NULL)
                cJSON_AddItemToObject(target, it->string, merged);
        }
    }
    return target;
}

/* Splits an RFC 6901 pointer into its parent and unescaped last token. Returns the
 * parent container (object or array) in doc, or NULL. */
static cJSON *resolve_parent(cJSON *doc, const char *ptr, char *last, size_t cap)
{
    cJSON *cur = doc;
    const char *p = ptr;

    if (p[0] != '/')
        return NULL;
    for (;;) {
        const char *seg = p + 1;
        const char *end = strchr(seg, '/');
        size_t n = 0;
        const char *q;

        for (q = seg; q < (end ? end : seg + strlen(seg)); q++) {
            char ch = *q;

            if (ch == '~') {
                if (q[1] != '0' && q[1] != '1')
                    return NULL;
                ch = q[1] == '0' ? '~' : '/';
                q++;
            }
            if (n + 1 >= cap)
                return NULL;
            last[n++] = ch;
        }
        last[n] = '\0';
        if (end == NULL)
            return cur;
        /* Descend into last. */
        if (cJSON_IsObject(cur)) {
            cur = cJSON_GetObjectItemCaseSensitive(cur, last);
        } else if (cJSON_IsArray(cur)) {
            uint64_t idx;

            if (cm_parse_u64(last, strlen(last), &idx) != 0 ||
                idx >= (uint64_t)cJSON_GetArraySize(cur))
                return NULL;
            cur = cJSON_GetArrayItem(cur, (int)idx);
        } else {
            return NULL;
        }
        if (cur == NULL)
            return NULL;
        p = end;
    }
}

/* The array index of tok in arr: [0, size) or, with allow_end, size for "-"/size. */
static int array_index(const cJSON *arr, const char *tok, bool allow_end)
{
    int size = cJSON_GetArraySize(arr);
    uint64_t idx;

    if (allow_end && strcmp(tok, "-") == 0)
        return size;
    if (cm_parse_u64(tok, strlen(tok), &idx) != 0 || (tok[0] == '0' && tok[1] != '\0'))
        return -1;
    if (idx > (uint64_t)size || (!allow_end && idx == (uint64_t)size))
        return -1;
    return (int)idx;
}

static cJSON *get_at(cJSON *doc, const char *ptr)
{
    char last[1024];
    cJSON *parent;

    if (ptr[0] == '\0')
        return doc;
    parent = resolve_parent(doc, ptr, last, sizeof(last));
    if (cJSON_IsObject(parent))
        return cJSON_GetObjectItemCaseSensitive(parent, last);
    if (cJSON_IsArray(parent)) {
        int i = array_index(parent, last, false);

        return i < 0 ? NULL : cJSON_GetArrayItem(parent, i);
    }
    return NULL;
}

/* Detaches the value at ptr; NULL when absent. */
static cJSON *detach_at(cJSON *doc, const char *ptr)
{
    char last[1024];
    cJSON *parent = resolve_parent(doc, ptr, last, sizeof(last));

    if (cJSON_IsObject(parent))
        return cJSON_DetachItemFromObjectCaseSensitive(parent, last);
    if (cJSON_IsArray(parent)) {
        int i = array_index(parent, last, false);

        return i < 0 ? NULL : cJSON_DetachItemFromArray(parent, i);
    }
    return NULL;
}

/* Inserts v before index i. Written out because the packaged cJSON's
 * cJSON_InsertItemInArray refuses to insert in the middle of an array. */
static bool insert_at(cJSON *arr, int i, cJSON *v)
{
    cJSON *tail = cJSON_CreateArray();

    if (tail == NULL)
        return false;
    while (cJSON_GetArraySize(arr) > i)
        cJSON_AddItemToArray(tail, cJSON_DetachItemFromArray(arr, i));
    cJSON_AddItemToArray(arr, v);
    while (cJSON_GetArraySize(tail) > 0)
        cJSON_AddItemToArray(arr, cJSON_DetachItemFromArray(tail, 0));
    cJSON_Delete(tail);
    return true;
}

/* Adds v (owned) at ptr; false (v freed) when the parent is missing. */
static bool add_at(cJSON *doc, const char *ptr, cJSON *v)
{
    char last[1024];
    cJSON *parent = resolve_parent(doc, ptr, last, sizeof(last));
    bool ok = false;

    if (v == NULL)
        return false;
    if (cJSON_IsObject(parent)) {
        if (cJSON_GetObjectItemCaseSensitive(parent, last) != NULL)
            ok = cJSON_ReplaceItemInObjectCaseSensitive(parent, last, v);
        else
            ok = cJSON_AddItemToObject(parent, last, v);
    } else if (cJSON_IsArray(parent)) {
        int i = array_index(parent, last, true);

        if (i >= 0 && i == cJSON_GetArraySize(parent))
            ok = cJSON_AddItemToArray(parent, v);
        else if (i >= 0)
            ok = insert_at(parent, i, v);
    }
    if (!ok)
        cJSON_Delete(v);
    return ok;
}

int fk_json_patch(cJSON *doc, const cJSON *ops, char *msg, size_t len)
{
    const cJSON *op;

    if (!cJSON_IsArray(ops)) {
        (void)snprintf(msg, len, "a JSON patch must be an array of operations");
        return -1;
    }
    cJSON_ArrayForEach(op, ops)
    {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(op, "op");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(op, "path");
        const cJSON *from = cJSON_GetObjectItemCaseSensitive(op, "from");
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(op, "value");
        const char *name;
        bool ok;

        if (!cJSON_IsString(o) || !cJSON_IsString(p)) {
            (void)snprintf(msg, len, "JSON patch operation without op or path");
            return -1;
        }
        name = o->valuestring;
        if (strcmp(name, "add") == 0 || strcmp(name, "replace") == 0) {
            if (value == NULL) {
                (void)snprintf(msg, len, "jsonpatch %s operation has no value", name);
                return -1;
            }
            if (strcmp(name, "replace") == 0 && get_at(doc, p->valuestring) == NULL)
                ok = false;
            else
                ok = add_at(doc, p->valuestring, cJSON_Duplicate(value, 1));
        } else if (strcmp(name, "remove") == 0) {
            cJSON *gone = detach_at(doc, p->valuestring);

            ok = gone != NULL;
            cJSON_Delete(gone);
        } else if (strcmp(name, "move") == 0 || strcmp(name, "copy") == 0) {
            cJSON *v;

            if (!cJSON_IsString(from)) {
                (void)snprintf(msg, len, "jsonpatch %s operation has no from", name);
                return -1;
            }
            v = strcmp(name, "move") == 0 ? detach_at(doc, from->valuestring)
                                          : cJSON_Duplicate(get_at(doc, from->valuestring), 1);
            ok = v != NULL && add_at(doc, p->valuestring, v);
        } else if (strcmp(name, "test") == 0) {
            const cJSON *have = get_at(doc, p->valuestring);

            ok = have != NULL && value != NULL && cJSON_Compare(have, value, 1);
            if (!ok) {
                (void)snprintf(msg, len, "testing value %.200s failed", p->valuestring);
                return -1;
            }
        } else {
            (void)snprintf(msg, len, "unknown JSON patch operation \"%.40s\"", name);
            return -1;
        }
        if (!ok) {
            (void)snprintf(msg, len,
                           "jsonpatch %s operation does not apply: doc is missing "
                           "path: \"%.200s\"",
                           name, p->valuestring);
            return -1;
        }
    }
    return 0;
}
