/* SPDX-License-Identifier: Apache-2.0 */
/* kube_ops.c - typed calls on top of kube_request: get, create, update, patch, delete
 * and paged lists (limit/continue, one restart on an expired continue token). */
#include "kube_int.h"

#include <stdio.h>
#include <string.h>

static int ref_path(const struct kube_ref *ref, bool want_name, char *buf, size_t len,
                    struct cm_err *err)
{
    bool has_name = ref->name != NULL && ref->name[0] != '\0';
    int rc;

    if (has_name != want_name)
        return cm_err_set(err, CM_EINVAL, "kube: %s",
                          want_name ? "an object name is required" : "a collection has no name");
    rc = kube_ref_path(ref, NULL, buf, len);
    if (rc != 0)
        return cm_err_set(err, rc,
                          "kube: bad reference (apiVersion \"%.60s\", resource "
                          "\"%.60s\", namespace \"%.60s\", name \"%.60s\")",
                          ref->api_version ? ref->api_version : "",
                          ref->resource ? ref->resource : "",
                          ref->namespace_ ? ref->namespace_ : "", ref->name ? ref->name : "");
    return 0;
}

int kube_get(struct kube_client *c, const struct kube_ref *ref, cJSON **out, struct cm_err *err)
{
    char path[KUBE_MAX_PATH];
    cJSON *j = NULL;
    int rc;

    rc = ref_path(ref, true, path, sizeof(path), err);
    if (rc != 0)
        return rc;
    rc = kube_request(c, "GET", path, NULL, 0, NULL, NULL, &j, err);
    if (rc != 0)
        return rc;
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return cm_err_set(err, CM_EPROTO, "kube: get %s: the response is not an object", path);
    }
    *out = j;
    return 0;
}

int kube_get_raw(struct kube_client *c, const struct kube_ref *ref, struct cm_buf *body,
                 struct kube_jt *t, struct cm_err *err)
{
    struct kube_jt_error je;
    char path[KUBE_MAX_PATH];
    int rc;

    cm_buf_init(body, 0);
    rc = ref_path(ref, true, path, sizeof(path), err);
    if (rc == 0)
        rc = kube_request_raw(c, "GET", path, NULL, body, err);
    if (rc != 0)
        return rc;
    rc = kube_jt_parse(t, body->ptr != NULL ? body->ptr : "", body->len, KUBE_MAX_JSON_DEPTH, &je);
    if (rc != 0) {
        rc = body->len == 0 ? cm_err_set(err, CM_EPROTO, "kube: empty response body")
                            : kube_json_error(rc, &je, body->len, err);
        cm_err_prefix(err, "get %s", path);
        return rc;
    }
    if (t->n[0].type != KUBE_JT_OBJECT)
        return cm_err_set(err, CM_EPROTO, "kube: get %s: the response is not an object", path);
    return 0;
}

static int send_object(struct kube_client *c, const char *method, const char *path,
                       const char *body, size_t len, const char *ctype, cJSON **out,
                       struct cm_err *err)
{
    cJSON *j = NULL;
    int rc;

    rc = kube_request(c, method, path, body, len, ctype, NULL, out ? &j : NULL, err);
    if (rc != 0)
        return rc;
    if (out != NULL) {
        if (!cJSON_IsObject(j)) {
            cJSON_Delete(j);
            return cm_err_set(err, CM_EPROTO, "kube: %s %s: the response is not an object", method,
                              path);
        }
        *out = j;
    }
    return 0;
}

static int send_tree(struct kube_client *c, const char *method, const struct kube_ref *ref,
                     bool want_name, const cJSON *obj, cJSON **out, struct cm_err *err)
{
    char path[KUBE_MAX_PATH];
    char *body;
    int rc;

    rc = ref_path(ref, want_name, path, sizeof(path), err);
    if (rc != 0)
        return rc;
    if (!cJSON_IsObject(obj))
        return cm_err_set(err, CM_EINVAL, "kube: %s %s: the body is not an object", method, path);
    body = cJSON_PrintUnformatted(obj);
    if (body == NULL)
        return cm_err_set(err, CM_ENOMEM, "kube: out of memory");
    rc = send_object(c, method, path, body, strlen(body), "application/json", out, err);
    cJSON_free(body);
    return rc;
}

int kube_create(struct kube_client *c, const struct kube_ref *ref, const cJSON *obj, cJSON **out,
                struct cm_err *err)
{
    return send_tree(c, "POST", ref, false, obj, out, err);
}

int kube_update(struct kube_client *c, const struct kube_ref *ref, const cJSON *obj, cJSON **out,
                struct cm_err *err)
{
    return send_tree(c, "PUT", ref, true, obj, out, err);
}

int kube_patch(struct kube_client *c, const struct kube_ref *ref, enum kube_patch_type type,
               const char *patch, size_t len, cJSON **out, struct cm_err *err)
{
    char path[KUBE_MAX_PATH];
    const char *ctype;
    int rc;

    switch (type) {
    case KUBE_PATCH_MERGE:
        ctype = "application/merge-patch+json";
        break;
    case KUBE_PATCH_STRATEGIC:
        ctype = "application/strategic-merge-patch+json";
        break;
    case KUBE_PATCH_JSON:
        ctype = "application/json-patch+json";
        break;
    default:
        return cm_err_set(err, CM_EINVAL, "kube: unknown patch type %d", (int)type);
    }
    if (patch == NULL || len == 0)
        return cm_err_set(err, CM_EINVAL, "kube: empty patch");
    rc = ref_path(ref, true, path, sizeof(path), err);
    if (rc != 0)
        return rc;
    return send_object(c, "PATCH", path, patch, len, ctype, out, err);
}

int kube_delete(struct kube_client *c, const struct kube_ref *ref, const char *propagation,
                struct cm_err *err)
{
    char path[KUBE_MAX_PATH];
    char body[128];
    int n;
    int rc;

    rc = ref_path(ref, true, path, sizeof(path), err);
    if (rc != 0)
        return rc;
    if (propagation == NULL || propagation[0] == '\0')
        return kube_request(c, "DELETE", path, NULL, 0, NULL, NULL, NULL, err);
    if (strcmp(propagation, "Foreground") != 0 && strcmp(propagation, "Background") != 0 &&
        strcmp(propagation, "Orphan") != 0)
        return cm_err_set(err, CM_EINVAL,
                          "kube: propagation must be Foreground, Background or "
                          "Orphan");
    n = snprintf(body, sizeof(body),
                 "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"propagationPolicy\":"
                 "\"%s\"}",
                 propagation);
    if (n < 0 || (size_t)n >= sizeof(body))
        return cm_err_set(err, CM_EINVAL, "kube: bad propagation");
    return kube_request(c, "DELETE", path, body, (size_t)n, "application/json", NULL, NULL, err);
}

/* ---- lists ---- */

/* The item kind a list kind implies ("DeploymentList" -> "Deployment") into kind
 * (KUBE_MAX_NAME bytes); "" when list_kind is NULL or does not end in "List". */
static void item_kind(const char *list_kind, char kind[KUBE_MAX_NAME])
{
    size_t kl = list_kind != NULL ? strlen(list_kind) : 0;

    kind[0] = '\0';
    if (kl > 4 && kl < KUBE_MAX_NAME && strcmp(list_kind + kl - 4, "List") == 0) {
        memcpy(kind, list_kind, kl - 4);
        kind[kl - 4] = '\0';
    }
}

int kube_list_complete_items(cJSON *list, struct cm_err *err)
{
    cJSON *items = cJSON_GetObjectItemCaseSensitive(list, "items");
    const cJSON *lkind = cJSON_GetObjectItemCaseSensitive(list, "kind");
    const cJSON *lav = cJSON_GetObjectItemCaseSensitive(list, "apiVersion");
    char kind[KUBE_MAX_NAME];
    cJSON *it;

    if (!cJSON_IsObject(list))
        return cm_err_set(err, CM_EPROTO, "kube: a list response is not an object");
    if (cJSON_IsNull(items) || items == NULL) {
        /* An empty list may come as "items": null; normalise to []. */
        cJSON *arr = cJSON_CreateArray();

        if (arr == NULL)
            return cm_err_set(err, CM_ENOMEM, "kube: out of memory");
        if (items != NULL)
            cJSON_DeleteItemFromObjectCaseSensitive(list, "items");
        if (!cJSON_AddItemToObject(list, "items", arr)) {
            cJSON_Delete(arr);
            return cm_err_set(err, CM_ENOMEM, "kube: out of memory");
        }
        return 0;
    }
    if (!cJSON_IsArray(items))
        return cm_err_set(err, CM_EPROTO, "kube: a list response has no items array");
    item_kind(cJSON_IsString(lkind) ? lkind->valuestring : NULL, kind);
    cJSON_ArrayForEach(it, items)
    {
        if (!cJSON_IsObject(it))
            return cm_err_set(err, CM_EPROTO, "kube: a list item is not an object");
        if (cJSON_GetObjectItemCaseSensitive(it, "apiVersion") == NULL && cJSON_IsString(lav) &&
            cJSON_AddStringToObject(it, "apiVersion", lav->valuestring) == NULL)
            return cm_err_set(err, CM_ENOMEM, "kube: out of memory");
        if (cJSON_GetObjectItemCaseSensitive(it, "kind") == NULL && kind[0] != '\0' &&
            cJSON_AddStringToObject(it, "kind", kind) == NULL)
            return cm_err_set(err, CM_ENOMEM, "kube: out of memory");
    }
    return 0;
}

static int build_list_path(const char *base, const struct kube_list_opts *opts, const char *cont,
                           struct cm_buf *b)
{
    unsigned limit = (opts && opts->limit) ? opts->limit : KUBE_DEFAULT_LIMIT;
    int rc;

    cm_buf_reset(b);
    rc = cm_buf_addf(b, "%s?limit=%u", base, limit);
    if (rc == 0 && opts != NULL && opts->label_selector != NULL &&
        opts->label_selector[0] != '\0') {
        rc = cm_buf_adds(b, "&labelSelector=");
        if (rc == 0)
            rc = kube_buf_add_escaped(b, opts->label_selector);
    }
    if (rc == 0 && opts != NULL && opts->field_selector != NULL &&
        opts->field_selector[0] != '\0') {
        rc = cm_buf_adds(b, "&fieldSelector=");
        if (rc == 0)
            rc = kube_buf_add_escaped(b, opts->field_selector);
    }
    if (rc == 0 && cont != NULL && cont[0] != '\0') {
        rc = cm_buf_adds(b, "&continue=");
        if (rc == 0)
            rc = kube_buf_add_escaped(b, cont);
    }
    return rc;
}

/* The members a raw list item lacks and its list implies (as kube_list_complete_items
 * adds them to trees) into head; empty when it lacks none. */
static int raw_head(const struct kube_jt *t, uint32_t item, uint32_t lav, const char *kind,
                    struct cm_buf *head)
{
    int rc = 0;

    cm_buf_reset(head);
    if (lav != 0 && kube_jt_get(t, item, "apiVersion") == 0) {
        rc = cm_buf_adds(head, "\"apiVersion\":");
        if (rc == 0)
            rc = cm_buf_add(head, t->s + t->n[lav].start, t->n[lav].end - t->n[lav].start);
    }
    if (rc == 0 && kind[0] != '\0' && kube_jt_get(t, item, "kind") == 0) {
        if (head->len > 0)
            rc = cm_buf_addc(head, ',');
        if (rc == 0)
            rc = cm_buf_adds(head, "\"kind\":");
        if (rc == 0)
            rc = cm_buf_add_json_str(head, kind, strlen(kind));
    }
    return rc;
}

/* One page of kube_list_raw: validates body into t, hands out its items, and reads
 * metadata.resourceVersion and metadata.continue (*cont: NULL at the end). */
static int raw_page(const char *base, const struct cm_buf *body, struct kube_jt *t,
                    kube_raw_item_fn fn, void *ctx, struct kube_list_info *li, char **cont,
                    struct cm_err *err)
{
    struct kube_jt_error je;
    struct cm_buf head;
    char kind[KUBE_MAX_NAME];
    char tok[KUBE_MAX_PATH / 2 + 1];
    uint32_t items, it, meta, v, lav;
    int rc;

    *cont = NULL;
    if (body->len == 0)
        return cm_err_set(err, CM_EPROTO, "kube: list %s: empty response", base);
    rc = kube_jt_parse(t, body->ptr, body->len, KUBE_MAX_JSON_DEPTH, &je);
    if (rc != 0) {
        rc = kube_json_error(rc, &je, body->len, err);
        cm_err_prefix(err, "list %s", base);
        return rc;
    }
    if (t->n[0].type != KUBE_JT_OBJECT)
        return cm_err_set(err, CM_EPROTO, "kube: list %s: a list response is not an object", base);
    items = kube_jt_get(t, 0, "items");
    if (items != 0 && t->n[items].type != KUBE_JT_ARRAY && t->n[items].type != KUBE_JT_NULL)
        return cm_err_set(err, CM_EPROTO, "kube: list %s: a list response has no items array",
                          base);
    lav = kube_jt_get(t, 0, "apiVersion");
    if (lav != 0 && t->n[lav].type != KUBE_JT_STRING)
        lav = 0;
    if (kube_jt_str(t, kube_jt_get(t, 0, "kind"), tok, sizeof(tok)) != 0)
        tok[0] = '\0';
    item_kind(tok, kind);
    li->pages++;
    cm_buf_init(&head, 4096);
    for (it = items ? kube_jt_first(t, items) : 0; it != 0; it = t->n[it].next) {
        if (t->n[it].type != KUBE_JT_OBJECT) {
            cm_buf_free(&head);
            return cm_err_set(err, CM_EPROTO, "kube: list %s: a list item is not an object", base);
        }
        rc = raw_head(t, it, lav, kind, &head);
        if (rc != 0) {
            cm_buf_free(&head);
            return cm_err_set(err, CM_ENOMEM, "kube: out of memory");
        }
        li->items++;
        rc = fn(t, it, head.len > 0 ? head.ptr : NULL, ctx);
        if (rc != 0) {
            cm_buf_free(&head);
            return rc;
        }
    }
    cm_buf_free(&head);
    meta = kube_jt_get(t, 0, "metadata");
    if (kube_jt_str(t, kube_jt_get(t, meta, "resourceVersion"), tok, sizeof(tok)) == 0)
        (void)snprintf(li->resource_version, sizeof(li->resource_version), "%.63s", tok);
    v = kube_jt_get(t, meta, "continue");
    if (v == 0 || t->n[v].type != KUBE_JT_STRING)
        return 0;
    rc = kube_jt_str(t, v, tok, sizeof(tok));
    if (rc == CM_ETOOBIG)
        return cm_err_set(err, CM_EPROTO, "kube: list %s: continue token too long", base);
    if (rc != 0 || tok[0] == '\0')
        return 0;
    *cont = cm_strdup(tok);
    return *cont != NULL ? 0 : cm_err_set(err, CM_ENOMEM, "kube: out of memory");
}

/* Lists with item_fn (lent items), take_fn (items moved to the callback) or raw_fn
 * (items as spans of the page's text). */
static int list_pages(struct kube_client *c, const struct kube_ref *ref,
                      const struct kube_list_opts *opts, kube_item_fn item_fn,
                      kube_item_take_fn take_fn, kube_raw_item_fn raw_fn, kube_page_fn page_fn,
                      void *ctx, struct kube_list_info *info, struct cm_err *err)
{
    char base[KUBE_MAX_PATH];
    struct kube_list_info li;
    struct cm_buf path;
    struct cm_buf body;
    struct kube_jt jt;
    char *cont = NULL;
    cJSON *page = NULL;
    long status = 0;
    int rc;

    memset(&li, 0, sizeof(li));
    rc = ref_path(ref, false, base, sizeof(base), err);
    if (rc != 0)
        return rc;
    cm_buf_init(&path, KUBE_MAX_PATH - 1);
    cm_buf_init(&body, 0);
    kube_jt_init(&jt);
    for (;;) {
        const cJSON *meta;
        const cJSON *v;
        cJSON *it;

        rc = build_list_path(base, opts, cont, &path);
        if (rc != 0) {
            rc = cm_err_set(err, rc == CM_ETOOBIG ? CM_EINVAL : rc,
                            "kube: list %s: selector or continue token too long", base);
            goto cleanup;
        }
        if (raw_fn != NULL)
            rc = kube_request_raw(c, "GET", path.ptr, &status, &body, err);
        else
            rc = kube_request(c, "GET", path.ptr, NULL, 0, NULL, &status, &page, err);
        if (rc == CM_EAGAIN && status == 410 && cont != NULL) {
            if (li.restarts > 0) {
                rc = cm_err_set(err, CM_EAGAIN,
                                "kube: list of %s expired twice (410 Gone: "
                                "continue token too old); giving up",
                                ref->resource);
                goto cleanup;
            }
            cm_log(CM_LOG_WARN, "kube", "list continue token expired; restarting the list",
                   CM_LS("resource", ref->resource), CM_LS("ns", ref->namespace_),
                   CM_LI("items_seen", li.items));
            li.restarts++;
            li.items = 0;
            li.pages = 0;
            cm_free(cont);
            cont = NULL;
            if (opts != NULL && opts->on_restart != NULL)
                opts->on_restart(ctx);
            continue;
        }
        if (rc != 0)
            goto cleanup;
        if (raw_fn != NULL) {
            cm_free(cont);
            rc = raw_page(base, &body, &jt, raw_fn, ctx, &li, &cont, err);
            if (rc != 0 || cont == NULL)
                goto cleanup;
            continue;
        }
        if (page == NULL) {
            rc = cm_err_set(err, CM_EPROTO, "kube: list %s: empty response", base);
            goto cleanup;
        }
        rc = kube_list_complete_items(page, err);
        if (rc != 0) {
            cm_err_prefix(err, "list %s", base);
            goto cleanup;
        }
        li.pages++;
        if (page_fn != NULL) {
            rc = page_fn(page, ctx);
            if (rc != 0)
                goto cleanup;
        }
        if (take_fn != NULL) {
            cJSON *items = cJSON_GetObjectItemCaseSensitive(page, "items");

            /* Detached one by one from the front, so a failure leaves the rest to
             * the page's cJSON_Delete. */
            for (it = items->child; it != NULL; it = items->child) {
                li.items++;
                rc = take_fn(cJSON_DetachItemViaPointer(items, it), ctx);
                if (rc != 0)
                    goto cleanup;
            }
        }
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(page, "items"))
        {
            li.items++;
            if (item_fn != NULL) {
                rc = item_fn(it, ctx);
                if (rc != 0)
                    goto cleanup;
            }
        }
        meta = cJSON_GetObjectItemCaseSensitive(page, "metadata");
        v = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
        if (cJSON_IsString(v))
            (void)snprintf(li.resource_version, sizeof(li.resource_version), "%s", v->valuestring);
        v = cJSON_GetObjectItemCaseSensitive(meta, "continue");
        cm_free(cont);
        cont = NULL;
        if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
            break;
        if (strlen(v->valuestring) > KUBE_MAX_PATH / 2) {
            rc = cm_err_set(err, CM_EPROTO, "kube: list %s: continue token too long", base);
            goto cleanup;
        }
        cont = cm_strdup(v->valuestring);
        if (cont == NULL) {
            rc = cm_err_set(err, CM_ENOMEM, "kube: out of memory");
            goto cleanup;
        }
        cJSON_Delete(page);
        page = NULL;
    }
    rc = 0;
cleanup:
    if (info != NULL)
        *info = li;
    kube_jt_free(&jt);
    cm_buf_free(&body);
    cJSON_Delete(page);
    cm_free(cont);
    cm_buf_free(&path);
    return rc;
}

int kube_list(struct kube_client *c, const struct kube_ref *ref, const struct kube_list_opts *opts,
              kube_item_fn item_fn, kube_page_fn page_fn, void *ctx, struct kube_list_info *info,
              struct cm_err *err)
{
    return list_pages(c, ref, opts, item_fn, NULL, NULL, page_fn, ctx, info, err);
}

int kube_list_take(struct kube_client *c, const struct kube_ref *ref,
                   const struct kube_list_opts *opts, kube_item_take_fn take_fn,
                   kube_page_fn page_fn, void *ctx, struct kube_list_info *info, struct cm_err *err)
{
    if (take_fn == NULL)
        return cm_err_set(err, CM_EINVAL, "kube: list: no take callback");
    return list_pages(c, ref, opts, NULL, take_fn, NULL, page_fn, ctx, info, err);
}

int kube_list_raw(struct kube_client *c, const struct kube_ref *ref,
                  const struct kube_list_opts *opts, kube_raw_item_fn fn, void *ctx,
                  struct kube_list_info *info, struct cm_err *err)
{
    if (fn == NULL)
        return cm_err_set(err, CM_EINVAL, "kube: list: no item callback");
    return list_pages(c, ref, opts, NULL, NULL, fn, NULL, ctx, info, err);
}
