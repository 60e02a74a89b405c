/* SPDX-License-Identifier: Apache-2.0 */
/* policy_manifest.c - manifests (what kubectl apply takes) to the Kubernetes objects they
 * hold, List items expanded, each checked to be an object before anything evaluates it. */
#include "policy_load_int.h"

#include <string.h>

static int check_string_map(const struct pol_ctx *c, const cJSON *meta, const char *key)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(meta, key);
    const cJSON *it;

    if (m == NULL || cJSON_IsNull(m))
        return 0;
    if (!cJSON_IsObject(m))
        return pol_ctx_fail(c, CM_ECONFIG, m, "metadata.%s must be a mapping", key);
    cJSON_ArrayForEach(it, m)
    {
        if (!cJSON_IsString(it))
            return pol_ctx_fail(c, CM_ECONFIG, it, "metadata.%s.%.80s must be a string", key,
                                it->string);
    }
    return 0;
}

static int check_object(const struct pol_ctx *c, const cJSON *o)
{
    const cJSON *meta;
    const char *s;
    const char *gen;
    int rc;

    if (!cJSON_IsObject(o))
        return pol_ctx_fail(c, CM_ECONFIG, o, "a Kubernetes object must be a mapping");
    rc = pol_get_string(c, o, "apiVersion", true, &s);
    if (rc == 0)
        rc = pol_get_string(c, o, "kind", true, &s);
    if (rc == 0 && s[0] == '\0')
        rc = pol_ctx_fail(c, CM_ECONFIG, o, "kind is empty");
    if (rc == 0)
        rc = pol_get_object(c, o, "metadata", true, &meta);
    if (rc == 0)
        rc = pol_get_string(c, meta, "name", false, &s);
    if (rc == 0)
        rc = pol_get_string(c, meta, "generateName", false, &gen);
    if (rc == 0 && (s == NULL || s[0] == '\0') && (gen == NULL || gen[0] == '\0'))
        rc = pol_ctx_fail(c, CM_ECONFIG, meta, "metadata.name is required");
    if (rc == 0)
        rc = pol_get_string(c, meta, "namespace", false, &s);
    if (rc == 0)
        rc = check_string_map(c, meta, "labels");
    if (rc == 0)
        rc = check_string_map(c, meta, "annotations");
    return rc;
}

int policy_manifest_parse(const char *name, const char *buf, size_t len, struct policy_docs **out,
                          struct cm_err *err)
{
    struct policy_docs *d = NULL;
    const cJSON **items = NULL;
    struct pol_ctx c;
    size_t n = 0;
    size_t cap = 0;
    size_t i;
    int rc;

    if (name == NULL)
        name = "<input>";
    rc = policy_docs_parse(name, buf, len, &d, err);
    if (rc != 0)
        return rc;
    memset(&c, 0, sizeof(c));
    c.file = name;
    c.docs = d;
    c.err = err;
    for (i = 0; i < policy_docs_count(d); i++) {
        const cJSON *doc = policy_docs_get(d, i);
        const char *kind = pol_json_str(doc, "kind");
        const cJSON *list = NULL;
        const cJSON *it;
        size_t need;

        c.doc = doc;
        if (kind != NULL && strcmp(kind, "List") == 0) {
            list = cJSON_GetObjectItemCaseSensitive(doc, "items");
            if (!cJSON_IsArray(list)) {
                rc = pol_ctx_fail(&c, CM_ECONFIG, doc, "a List needs items");
                goto fail;
            }
        }
        need = n + (list != NULL ? (size_t)cJSON_GetArraySize(list) : 1);
        if (need > cap) {
            size_t ncap = cap ? cap : 8;
            const cJSON **nv;

            while (ncap < need)
                ncap *= 2;
            nv = cm_realloc(items, ncap * sizeof(*nv));
            if (nv == NULL) {
                rc = cm_err_set(err, CM_ENOMEM, "%s: out of memory", name);
                goto fail;
            }
            items = nv;
            cap = ncap;
        }
        if (list == NULL) {
            rc = check_object(&c, doc);
            if (rc != 0)
                goto fail;
            items[n++] = doc;
            continue;
        }
        cJSON_ArrayForEach(it, list)
        {
            c.doc = it;
            rc = check_object(&c, it);
            if (rc != 0)
                goto fail;
            items[n++] = it;
        }
    }
    if (items == NULL) {
        /* An empty view still replaces the document list. */
        items = cm_malloc(sizeof(*items));
        if (items == NULL) {
            rc = cm_err_set(err, CM_ENOMEM, "%s: out of memory", name);
            goto fail;
        }
    }
    (void)pol_docs_set_items(d, items, n);
    *out = d;
    return 0;
fail:
    cm_free(items);
    policy_docs_destroy(d);
    return rc;
}
