/* SPDX-License-Identifier: Apache-2.0 */
/* wh_patch.c - the RFC 6902 JSON Patch that sets one annotation, correct when the
 * annotations map (or metadata) is absent and when the key holds '/' or '~'. */
#include "webhook/wh.h"

#include <string.h>

int wh_pointer_escape(const char *s, size_t n, struct cm_buf *out)
{
    size_t i;
    size_t start = 0;

    for (i = 0; i < n; i++) {
        const char *rep = NULL;

        if (s[i] == '~')
            rep = "~0";
        else if (s[i] == '/')
            rep = "~1";
        if (rep == NULL)
            continue;
        if (cm_buf_add(out, s + start, i - start) != 0 || cm_buf_add(out, rep, 2) != 0)
            return CM_ENOMEM;
        start = i + 1;
    }
    return cm_buf_add(out, s + start, n - start);
}

/* The JSON string of one annotation map {"key":"value"}. */
static int add_map(struct cm_buf *out, const char *key, const char *value)
{
    int rc = cm_buf_addc(out, '{');

    if (rc == 0)
        rc = cm_buf_add_json_str(out, key, strlen(key));
    if (rc == 0)
        rc = cm_buf_addc(out, ':');
    if (rc == 0)
        rc = cm_buf_add_json_str(out, value, strlen(value));
    if (rc == 0)
        rc = cm_buf_addc(out, '}');
    return rc;
}

int wh_patch_annotation(const cJSON *object, const char *key, const char *value, struct cm_buf *out,
                        bool *changed)
{
    const cJSON *meta;
    const cJSON *ann;
    const cJSON *cur;
    struct cm_buf path;
    int rc;

    *changed = false;
    if (!cJSON_IsObject(object))
        return CM_EINVAL;
    meta = cJSON_GetObjectItemCaseSensitive(object, "metadata");
    ann = cJSON_IsObject(meta) ? cJSON_GetObjectItemCaseSensitive(meta, "annotations") : NULL;
    cur = cJSON_IsObject(ann) ? cJSON_GetObjectItemCaseSensitive(ann, key) : NULL;
    if (cJSON_IsString(cur) && strcmp(cur->valuestring, value) == 0)
        return 0;

    if (!cJSON_IsObject(meta)) {
        /* add /metadata {"annotations": {...}}: "add" replaces a non-object too. */
        rc = cm_buf_adds(out, "[{\"op\":\"add\",\"path\":\"/metadata\",\"value\":{"
                              "\"annotations\":");
        if (rc == 0)
            rc = add_map(out, key, value);
        if (rc == 0)
            rc = cm_buf_adds(out, "}}]");
    } else if (!cJSON_IsObject(ann)) {
        /* Adding /metadata/annotations/<key> fails when the map is absent. */
        rc = cm_buf_adds(out, "[{\"op\":\"add\",\"path\":\"/metadata/annotations\",\"value\":");
        if (rc == 0)
            rc = add_map(out, key, value);
        if (rc == 0)
            rc = cm_buf_adds(out, "}]");
    } else {
        cm_buf_init(&path, 4096);
        rc = cm_buf_adds(&path, "/metadata/annotations/");
        if (rc == 0)
            rc = wh_pointer_escape(key, strlen(key), &path);
        if (rc == 0)
            rc = cm_buf_adds(out, cur != NULL ? "[{\"op\":\"replace\",\"path\":"
                                              : "[{\"op\":\"add\",\"path\":");
        if (rc == 0)
            rc = cm_buf_add_json_str(out, path.ptr, path.len);
        if (rc == 0)
            rc = cm_buf_adds(out, ",\"value\":");
        if (rc == 0)
            rc = cm_buf_add_json_str(out, value, strlen(value));
        if (rc == 0)
            rc = cm_buf_adds(out, "}]");
        cm_buf_free(&path);
    }
    if (rc != 0) {
        cm_buf_free(out);
        return rc;
    }
    *changed = true;
    return 0;
}
