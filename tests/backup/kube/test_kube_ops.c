/* SPDX-License-Identifier: Apache-2.0 */
/* test_kube_ops.c - unit tests of the typed calls through the scripted fault
 * transport: paths from refs, list paging and the 410 restart, item completion,
 * selectors in the query, create/update/patch/delete requests, discovery parsing
 * (subresources skipped, failing groups skipped, auth errors fatal) and OOM loops. */
#include "backup/kube/kube.h"
#include "policy/policy.h"
#include "tests/support/kube_fault.h"
#include "tests/support/kube_testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fx {
    struct kube_fault *fl;
    struct kube_config *cfg;
    struct kube_client *c;
    struct kube_test_sleeps sleeps;
    /* list callbacks */
    char names[16][64];
    size_t n;
    unsigned restarts;
    unsigned pages;
    int stop_at;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct cm_err err;

    if (f == NULL || kube_fault_create(&f->fl) != 0 ||
        kube_config_create("https://kube.test", &f->cfg, &err) != 0)
        return -1;
    kube_fault_attach(f->fl, f->cfg);
    kube_config_set_sleep(f->cfg, kube_test_sleep_record, &f->sleeps);
    kube_config_set_retry(f->cfg, 3, 100, 1000, 0);
    if (kube_client_create(f->cfg, &f->c, &err) != 0)
        return -1;
    f->stop_at = -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    kube_client_destroy(f->c);
    kube_config_destroy(f->cfg);
    kube_fault_destroy(f->fl);
    free(f);
    return 0;
}

static void test_ref_path(void **state)
{
    char buf[256];
    struct kube_ref r = {"apps/v1", "deployments", "prod", "web"};

    (void)state;
    assert_int_equal(kube_ref_path(&r, NULL, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/apis/apps/v1/namespaces/prod/deployments/web");
    assert_int_equal(kube_ref_path(&r, "status", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/apis/apps/v1/namespaces/prod/deployments/web/status");
    r = (struct kube_ref){"v1", "namespaces", NULL, "prod"};
    assert_int_equal(kube_ref_path(&r, NULL, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/api/v1/namespaces/prod");
    r = (struct kube_ref){"v1", "pods", "", NULL};
    assert_int_equal(kube_ref_path(&r, NULL, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/api/v1/pods");
    /* RBAC names may hold ':' which is escaped. */
    r = (struct kube_ref){"rbac.authorization.k8s.io/v1", "clusterroles", NULL, "system:admin"};
    assert_int_equal(kube_ref_path(&r, NULL, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Aadmin");
    /* Exactly fitting, and one byte short. */
    r = (struct kube_ref){"v1", "pods", NULL, NULL};
    assert_int_equal(kube_ref_path(&r, NULL, buf, sizeof("/api/v1/pods")), 0);
    assert_int_equal(kube_ref_path(&r, NULL, buf, sizeof("/api/v1/pods") - 1), CM_ETOOBIG);
    /* Bad references. */
    r = (struct kube_ref){"v1", "pods", "a/b", "x"};
    assert_int_equal(kube_ref_path(&r, NULL, buf, sizeof(buf)), CM_EINVAL);
    r = (struct kube_ref){"v1", "pods", "a", ".."};
    assert_int_equal(kube_ref_path(&r, NULL, buf, sizeof(buf)), CM_EINVAL);
    r = (struct kube_ref){"apps/v1/x", "deployments", NULL, NULL};
    assert_int_equal(kube_ref_path(&r, NULL, buf, sizeof(buf)), CM_EINVAL);
    r = (struct kube_ref){NULL, "pods", NULL, NULL};
    assert_int_equal(kube_ref_path(&r, NULL, buf, sizeof(buf)), CM_EINVAL);
    r = (struct kube_ref){"v1", "pods", "a", NULL};
    assert_int_equal(kube_ref_path(&r, "status", buf, sizeof(buf)), CM_EINVAL);
}

static int on_item(const cJSON *item, void *ctx)
{
    struct fx *f = ctx;
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(item, "metadata");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(md, "name");

    assert_string_equal(cJSON_GetObjectItemCaseSensitive(item, "kind")->valuestring, "Deployment");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(item, "apiVersion")->valuestring,
                        "apps/v1");
    if (f->n < 16)
        (void)snprintf(f->names[f->n], sizeof(f->names[0]), "%s", name->valuestring);
    f->n++;
    return (f->stop_at >= 0 && (int)f->n == f->stop_at) ? 42 : 0;
}

static int on_page(const cJSON *list, void *ctx)
{
    struct fx *f = ctx;

    assert_true(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(list, "items")));
    f->pages++;
    return 0;
}

static void on_restart(void *ctx)
{
    struct fx *f = ctx;

    f->restarts++;
    f->n = 0;
}

#define PAGE(names, cont)                                                                          \
    "{\"kind\":\"DeploymentList\",\"apiVersion\":\"apps/v1\",\"metadata\":{"                       \
    "\"resourceVersion\":\"77\"" cont "},\"items\":[" names "]}"
#define ITEM(n) "{\"metadata\":{\"name\":\"" n "\"}}"

static void test_list_paging(void **state)
{
    struct fx *f = *state;
    struct kube_ref r = {"apps/v1", "deployments", "prod", NULL};
    struct kube_list_opts o = {"app in (web,api),tier!=db", "metadata.name!=x", 2, on_restart};
    struct kube_list_info info;
    struct cm_err err;

    kube_fault_push(f->fl, 200, -1, PAGE(ITEM("a") "," ITEM("b"), ",\"continue\":\"t/1+\""));
    kube_fault_push(f->fl, 200, -1, PAGE(ITEM("c") "," ITEM("d"), ",\"continue\":\"t2\""));
    kube_fault_push(f->fl, 200, -1, PAGE(ITEM("e"), ",\"continue\":\"\""));
    assert_int_equal(kube_list(f->c, &r, &o, on_item, on_page, f, &info, &err), 0);
    assert_int_equal(f->n, 5);
    assert_string_equal(f->names[0], "a");
    assert_string_equal(f->names[4], "e");
    assert_int_equal(f->pages, 3);
    assert_int_equal(info.items, 5);
    assert_int_equal(info.pages, 3);
    assert_int_equal(info.restarts, 0);
    assert_string_equal(info.resource_version, "77");
    assert_int_equal(kube_fault_count(f->fl), 3);
    assert_string_equal(kube_fault_url(f->fl, 0),
                        "https://kube.test/apis/apps/v1/namespaces/prod/deployments?limit=2"
                        "&labelSelector=app%20in%20%28web%2Capi%29%2Ctier%21%3Ddb"
                        "&fieldSelector=metadata.name%21%3Dx");
    assert_non_null(strstr(kube_fault_url(f->fl, 1), "&continue=t%2F1%2B"));
    assert_non_null(strstr(kube_fault_url(f->fl, 2), "&continue=t2"));
}

/* Takes the item: keeps the first one (to prove it outlives its page), frees the rest. */
static cJSON *kept;

static int take_item(cJSON *item, void *ctx)
{
    struct fx *f = ctx;
    int rc = on_item(item, ctx);

    /* the item is detached: no parent, no siblings */
    assert_null(item->next);
    assert_null(item->prev);
    if (kept == NULL)
        kept = item;
    else
        cJSON_Delete(item);
    (void)f;
    return rc;
}

static void test_list_take_items(void **state)
{
    struct fx *f = *state;
    struct kube_ref r = {"apps/v1", "deployments", "prod", NULL};
    struct kube_list_opts o = {NULL, NULL, 2, on_restart};
    struct kube_list_info info;
    struct cm_err err;

    kept = NULL;
    kube_fault_push(f->fl, 200, -1, PAGE(ITEM("a") "," ITEM("b"), ",\"continue\":\"t1\""));
    kube_fault_push(f->fl, 200, -1, PAGE(ITEM("c"), ""));
    assert_int_equal(kube_list_take(f->c, &r, &o, take_item, on_page, f, &info, &err), 0);
    assert_int_equal(f->n, 3);
    assert_string_equal(f->names[2], "c");
    assert_int_equal(f->pages, 2);
    assert_int_equal(info.items, 3);
    /* the first item is ours, alive after its page was freed */
    assert_non_null(kept);
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(kept, "metadata"), "name")
            ->valuestring,
        "a");
    cJSON_Delete(kept);
    kept = NULL;
    /* a non-zero return stops the list; the untaken items go with the page (ASan) */
    f->n = 0;
    f->stop_at = 1;
    kube_fault_push(f->fl, 200, -1, PAGE(ITEM("a") "," ITEM("b") "," ITEM("c"), ""));
    assert_int_equal(kube_list_take(f->c, &r, &o, take_item, NULL, f, &info, &err), 42);
    assert_int_equal(f->n, 1);
    cJSON_Delete(kept);
    kept = NULL;
    /* no take callback: refused before any request */
    assert_int_equal(kube_list_take(f->c, &r, &o, NULL, NULL, f, &info, &err), CM_EINVAL);
    assert_int_equal(kube_fault_count(f->fl), 3);
}

/* kube_list_raw: items as spans of their page, emitted with the members the list
 * implies; text kept as served; paging, restart, stop and bad shapes as kube_list. */
static char raw_out[8][256];

static int raw_item(struct kube_jt *t, uint32_t item, const char *head, void *ctx)
{
    struct fx *f = ctx;
    struct cm_buf b;

    cm_buf_init(&b, 255);
    assert_int_equal(kube_jt_emit(t, item, head, &b), 0);
    if (f->n < 8)
        (void)snprintf(raw_out[f->n], sizeof(raw_out[0]), "%s", b.ptr);
    cm_buf_free(&b);
    f->n++;
    return (f->stop_at >= 0 && (int)f->n == f->stop_at) ? 42 : 0;
}

static void test_list_raw(void **state)
{
    struct fx *f = *state;
    struct kube_ref r = {"apps/v1", "deployments", "prod", NULL};
    struct kube_list_opts o = {NULL, NULL, 2, on_restart};
    struct kube_list_info info;
    struct cm_err err;
    static const char expired[] = "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":"
                                  "\"Expired\",\"message\":\"too old\",\"code\":410}";

    kube_fault_push(f->fl, 200, -1,
                    PAGE(ITEM("a") ",{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"b\"},"
                                   "\"spec\":{\"n\": 9007199254740993}}",
                         ",\"continue\":\"t\\/1\""));
    kube_fault_push(f->fl, 200, -1,
                    "{\"kind\":\"DeploymentList\",\"apiVersion\":\"apps/v1\",\"metadata\":{},"
                    "\"items\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
                    "\"metadata\":{\"name\":\"c\"}}]}");
    assert_int_equal(kube_list_raw(f->c, &r, &o, raw_item, f, &info, &err), 0);
    assert_int_equal(f->n, 3);
    assert_int_equal(info.items, 3);
    assert_int_equal(info.pages, 2);
    assert_string_equal(info.resource_version, "77");
    /* typed list items get apiVersion and kind first; present members are not repeated */
    assert_string_equal(raw_out[0], "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
                                    "\"metadata\":{\"name\":\"a\"}}");
    assert_string_equal(raw_out[1], "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
                                    "\"metadata\":{\"name\":\"b\"},\"spec\":{\"n\": "
                                    "9007199254740993}}");
    assert_string_equal(raw_out[2], "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
                                    "\"metadata\":{\"name\":\"c\"}}");
    /* the continue token is unescaped, then escaped for the query */
    assert_non_null(strstr(kube_fault_url(f->fl, 1), "&continue=t%2F1"));
    /* 410 on a continue token: one restart, on_restart called */
    f->n = 0;
    kube_fault_push(f->fl, 200, -1, PAGE(ITEM("a"), ",\"continue\":\"old\""));
    kube_fault_push(f->fl, 410, -1, expired);
    kube_fault_push(f->fl, 200, -1, PAGE(ITEM("a"), ",\"continue\":\"new\""));
    kube_fault_push(f->fl, 200, -1, PAGE(ITEM("b"), ""));
    assert_int_equal(kube_list_raw(f->c, &r, &o, raw_item, f, &info, &err), 0);
    assert_int_equal(f->restarts, 1);
    assert_int_equal(info.restarts, 1);
    assert_int_equal(f->n, 2);
    /* a non-zero return stops the list */
    f->n = 0;
    f->stop_at = 1;
    kube_fault_push(f->fl, 200, -1, PAGE(ITEM("a") "," ITEM("b"), ""));
    assert_int_equal(kube_list_raw(f->c, &r, &o, raw_item, f, &info, &err), 42);
    assert_int_equal(f->n, 1);
    f->stop_at = -1;
    /* "items": null is an empty list */
    f->n = 0;
    kube_fault_push(f->fl, 200, -1, "{\"kind\":\"DeploymentList\",\"items\":null}");
    assert_int_equal(kube_list_raw(f->c, &r, &o, raw_item, f, &info, &err), 0);
    assert_int_equal(f->n, 0);
    /* bad shapes and bad JSON: CM_EPROTO naming the list */
    kube_fault_push(f->fl, 200, -1, "[1]");
    assert_int_equal(kube_list_raw(f->c, &r, &o, raw_item, f, &info, &err), CM_EPROTO);
    assert_non_null(strstr(err.msg, "not an object"));
    kube_fault_push(f->fl, 200, -1, "{\"items\":[1]}");
    assert_int_equal(kube_list_raw(f->c, &r, &o, raw_item, f, &info, &err), CM_EPROTO);
    assert_non_null(strstr(err.msg, "item is not an object"));
    kube_fault_push(f->fl, 200, -1, "{\"items\":{}}");
    assert_int_equal(kube_list_raw(f->c, &r, &o, raw_item, f, &info, &err), CM_EPROTO);
    assert_non_null(strstr(err.msg, "no items array"));
    kube_fault_push(f->fl, 200, -1, "{\"items\":[{}]} x");
    assert_int_equal(kube_list_raw(f->c, &r, &o, raw_item, f, &info, &err), CM_EPROTO);
    assert_non_null(strstr(err.msg, "trailing bytes"));
    assert_non_null(strstr(err.msg, "deployments"));
    kube_fault_push(f->fl, 200, -1, "");
    assert_int_equal(kube_list_raw(f->c, &r, &o, raw_item, f, &info, &err), CM_EPROTO);
    assert_int_equal(f->n, 0);
    assert_int_equal(kube_list_raw(f->c, &r, &o, NULL, f, &info, &err), CM_EINVAL);
}

/* kube_get_raw: the body as sent, validated into the tape; errors name the object. */
static void test_get_raw(void **state)
{
    struct fx *f = *state;
    struct kube_ref r = {"v1", "persistentvolumes", NULL, "pv-1"};
    struct cm_buf body;
    struct kube_jt t;
    struct cm_err err;
    static const char pv[] = "{\"kind\":\"PersistentVolume\",\"spec\": {\"n\": 9007199254740993}}";

    kube_jt_init(&t);
    kube_fault_push(f->fl, 200, -1, pv);
    assert_int_equal(kube_get_raw(f->c, &r, &body, &t, &err), 0);
    assert_int_equal(body.len, strlen(pv));
    assert_memory_equal(body.ptr, pv, body.len);
    assert_true(kube_jt_str_eq(&t, kube_jt_get(&t, 0, "kind"), "PersistentVolume"));
    assert_string_equal(kube_fault_url(f->fl, 0),
                        "https://kube.test/api/v1/persistentvolumes/pv-1");
    cm_buf_free(&body);
    kube_fault_push(f->fl, 200, -1, "[1]");
    assert_int_equal(kube_get_raw(f->c, &r, &body, &t, &err), CM_EPROTO);
    assert_non_null(strstr(err.msg, "not an object"));
    cm_buf_free(&body);
    kube_fault_push(f->fl, 200, -1, "{\"a\":");
    assert_int_equal(kube_get_raw(f->c, &r, &body, &t, &err), CM_EPROTO);
    assert_non_null(strstr(err.msg, "not valid JSON"));
    assert_non_null(strstr(err.msg, "persistentvolumes/pv-1"));
    cm_buf_free(&body);
    kube_fault_push(
        f->fl, 404, -1,
        "{\"kind\":\"Status\",\"reason\":\"NotFound\",\"message\":\"gone\",\"code\":404}");
    assert_int_equal(kube_get_raw(f->c, &r, &body, &t, &err), CM_ENOENT);
    cm_buf_free(&body);
    kube_jt_free(&t);
}

static void test_list_expired_restart(void **state)
{
    struct fx *f = *state;
    struct kube_ref r = {"apps/v1", "deployments", NULL, NULL};
    struct kube_list_opts o = {NULL, NULL, 2, on_restart};
    struct kube_list_info info;
    struct cm_err err;
    static const char expired[] = "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":"
                                  "\"Expired\",\"message\":\"too old\",\"code\":410}";

    kube_fault_push(f->fl, 200, -1, PAGE(ITEM("a") "," ITEM("b"), ",\"continue\":\"old\""));
    kube_fault_push(f->fl, 410, -1, expired);
    kube_fault_push(f->fl, 200, -1, PAGE(ITEM("a") "," ITEM("b"), ",\"continue\":\"new\""));
    kube_fault_push(f->fl, 200, -1, PAGE(ITEM("c"), ""));
    assert_int_equal(kube_list(f->c, &r, &o, on_item, NULL, f, &info, &err), 0);
    assert_int_equal(f->restarts, 1);
    assert_int_equal(info.restarts, 1);
    assert_int_equal(f->n, 3); /* reset by on_restart: no duplicates */
    assert_int_equal(info.items, 3);
    assert_null(strstr(kube_fault_url(f->fl, 2), "continue="));
    assert_int_equal(f->sleeps.n, 0); /* 410 is not a retry */

    /* Expiring twice gives up. */
    kube_fault_push(f->fl, 200, -1, PAGE(ITEM("a"), ",\"continue\":\"x\""));
    kube_fault_push(f->fl, 410, -1, expired);
    kube_fault_push(f->fl, 200, -1, PAGE(ITEM("a"), ",\"continue\":\"y\""));
    kube_fault_push(f->fl, 410, -1, expired);
    assert_int_equal(kube_list(f->c, &r, &o, on_item, NULL, f, &info, &err), CM_EAGAIN);
    assert_non_null(strstr(err.msg, "list of deployments expired twice"));

    /* A 410 on the first page (no token) is not restarted. */
    kube_fault_push(f->fl, 410, -1, expired);
    assert_int_equal(kube_list(f->c, &r, &o, on_item, NULL, f, &info, &err), CM_EAGAIN);
    assert_int_equal(kube_fault_pending(f->fl), 0);
}

static void test_list_stop_and_shapes(void **state)
{
    struct fx *f = *state;
    struct kube_ref r = {"apps/v1", "deployments", "a", NULL};
    struct cm_err err;

    f->stop_at = 2;
    kube_fault_push(f->fl, 200, -1, PAGE(ITEM("a") "," ITEM("b") "," ITEM("c"), ""));
    assert_int_equal(kube_list(f->c, &r, NULL, on_item, NULL, f, NULL, &err), 42);
    assert_non_null(strstr(kube_fault_url(f->fl, 0), "?limit=500"));
    f->stop_at = -1;

    /* items: null is an empty list; a missing items array or a non-object item is not. */
    kube_fault_push(f->fl, 200, -1,
                    "{\"kind\":\"DeploymentList\",\"apiVersion\":\"apps/v1\",\"items\":null}");
    f->n = 0;
    assert_int_equal(kube_list(f->c, &r, NULL, on_item, NULL, f, NULL, &err), 0);
    assert_int_equal(f->n, 0);
    kube_fault_push(f->fl, 200, -1, "{\"kind\":\"DeploymentList\",\"items\":{}}");
    assert_int_equal(kube_list(f->c, &r, NULL, on_item, NULL, f, NULL, &err), CM_EPROTO);
    kube_fault_push(f->fl, 200, -1, "{\"kind\":\"DeploymentList\",\"items\":[1]}");
    assert_int_equal(kube_list(f->c, &r, NULL, on_item, NULL, f, NULL, &err), CM_EPROTO);
    kube_fault_push(f->fl, 200, -1, "[]");
    assert_int_equal(kube_list(f->c, &r, NULL, on_item, NULL, f, NULL, &err), CM_EPROTO);
    r.name = "x";
    assert_int_equal(kube_list(f->c, &r, NULL, on_item, NULL, f, NULL, &err), CM_EINVAL);
}

static void test_typed_calls(void **state)
{
    struct fx *f = *state;
    struct kube_ref r = {"v1", "configmaps", "a", NULL};
    struct cm_err err;
    cJSON *obj = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
                             "{\"name\":\"cm\"}}");
    cJSON *out = NULL;

    kube_fault_push(f->fl, 201, -1, "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm\"}}");
    assert_int_equal(kube_create(f->c, &r, obj, &out, &err), 0);
    assert_string_equal(kube_fault_method(f->fl, 0), "POST");
    assert_string_equal(kube_fault_url(f->fl, 0), "https://kube.test/api/v1/namespaces/a/"
                                                  "configmaps");
    assert_non_null(strstr(kube_fault_body(f->fl, 0), "\"name\":\"cm\""));
    cJSON_Delete(out);
    out = NULL;

    kube_fault_push(f->fl, 409, -1,
                    "{\"kind\":\"Status\",\"reason\":\"AlreadyExists\",\"message\":"
                    "\"configmaps \\\"cm\\\" already exists\",\"code\":409}");
    assert_int_equal(kube_create(f->c, &r, obj, NULL, &err), CM_EEXIST);
    assert_non_null(strstr(err.msg, "configmaps \"cm\" already exists"));

    r.name = "cm";
    kube_fault_push(f->fl, 200, -1, "{\"kind\":\"ConfigMap\"}");
    assert_int_equal(kube_update(f->c, &r, obj, NULL, &err), 0);
    assert_string_equal(kube_fault_method(f->fl, 2), "PUT");
    assert_non_null(strstr(kube_fault_url(f->fl, 2), "/configmaps/cm"));

    kube_fault_push(f->fl, 200, -1, "{\"kind\":\"ConfigMap\"}");
    assert_int_equal(kube_patch(f->c, &r, KUBE_PATCH_MERGE, "{\"data\":{\"k\":\"v\"}}",
                                strlen("{\"data\":{\"k\":\"v\"}}"), &out, &err),
                     0);
    assert_string_equal(kube_fault_body(f->fl, 3), "{\"data\":{\"k\":\"v\"}}");
    assert_string_equal(kube_fault_ctype(f->fl, 3), "application/merge-patch+json");
    cJSON_Delete(out);
    out = NULL;
    kube_fault_push(f->fl, 200, -1, "{}");
    assert_int_equal(kube_patch(f->c, &r, KUBE_PATCH_STRATEGIC, "{}", 2, NULL, &err), 0);
    assert_string_equal(kube_fault_ctype(f->fl, 4), "application/strategic-merge-patch+json");
    kube_fault_push(f->fl, 200, -1, "{}");
    assert_int_equal(kube_patch(f->c, &r, KUBE_PATCH_JSON, "[]", 2, NULL, &err), 0);
    assert_string_equal(kube_fault_ctype(f->fl, 5), "application/json-patch+json");
    assert_int_equal(kube_patch(f->c, &r, KUBE_PATCH_MERGE, "", 0, NULL, &err), CM_EINVAL);

    kube_fault_push(f->fl, 200, -1, "{\"kind\":\"ConfigMap\"}");
    assert_int_equal(kube_delete(f->c, &r, "Foreground", &err), 0);
    assert_string_equal(kube_fault_method(f->fl, 6), "DELETE");
    assert_non_null(strstr(kube_fault_body(f->fl, 6), "\"propagationPolicy\":\"Foreground\""));
    assert_int_equal(kube_delete(f->c, &r, "Sideways", &err), CM_EINVAL);
    kube_fault_push(f->fl, 404, -1,
                    "{\"kind\":\"Status\",\"reason\":\"NotFound\",\"message\":\"gone\","
                    "\"code\":404}");
    assert_int_equal(kube_delete(f->c, &r, NULL, &err), CM_ENOENT);

    kube_fault_push(f->fl, 200, -1, "[1,2]");
    assert_int_equal(kube_get(f->c, &r, &out, &err), CM_EPROTO);
    assert_null(out);
    r.name = NULL;
    assert_int_equal(kube_get(f->c, &r, &out, &err), CM_EINVAL);
    assert_int_equal(kube_update(f->c, &r, obj, NULL, &err), CM_EINVAL);
    cJSON_Delete(obj);
}

static const char apis_doc[] =
    "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":["
    "{\"name\":\"apps\",\"versions\":[{\"groupVersion\":\"apps/v1\",\"version\":\"v1\"}],"
    "\"preferredVersion\":{\"groupVersion\":\"apps/v1\",\"version\":\"v1\"}},"
    "{\"name\":\"metrics.k8s.io\",\"versions\":[{\"groupVersion\":\"metrics.k8s.io/v1beta1\","
    "\"version\":\"v1beta1\"}],\"preferredVersion\":{\"groupVersion\":"
    "\"metrics.k8s.io/v1beta1\",\"version\":\"v1beta1\"}},"
    "{\"name\":\"stable.example.com\",\"versions\":[{\"groupVersion\":\"stable.example.com/v2\","
    "\"version\":\"v2\"},{\"groupVersion\":\"stable.example.com/v1\",\"version\":\"v1\"}]}]}";

static void push_discovery(struct kube_fault *fl, bool metrics_down)
{
    kube_fault_push(fl, 200, -1, "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"]}");
    kube_fault_push(fl, 200, -1,
                    "{\"kind\":\"APIResourceList\",\"groupVersion\":\"v1\",\"resources\":["
                    "{\"name\":\"pods\",\"namespaced\":true,\"kind\":\"Pod\",\"verbs\":"
                    "[\"create\",\"delete\",\"get\",\"list\",\"watch\"]},"
                    "{\"name\":\"pods/log\",\"namespaced\":true,\"kind\":\"Pod\",\"verbs\":"
                    "[\"get\"]},"
                    "{\"name\":\"namespaces\",\"namespaced\":false,\"kind\":\"Namespace\","
                    "\"verbs\":[\"get\",\"list\"]},"
                    "{\"name\":\"bindings\",\"namespaced\":true,\"kind\":\"Binding\","
                    "\"verbs\":[\"create\"]}]}");
    kube_fault_push(fl, 200, -1, apis_doc);
    kube_fault_push(fl, 200, -1,
                    "{\"kind\":\"APIResourceList\",\"groupVersion\":\"apps/v1\",\"resources\":["
                    "{\"name\":\"deployments\",\"namespaced\":true,\"kind\":\"Deployment\","
                    "\"verbs\":[\"list\",\"get\",\"patch\",\"update\",\"frobnicate\"]},"
                    "{\"name\":\"deployments/scale\",\"namespaced\":true,\"kind\":\"Scale\","
                    "\"verbs\":[\"get\"]}]}");
    if (metrics_down) {
        kube_fault_push(fl, 503, -1, NULL);
        kube_fault_push(fl, 503, -1, NULL);
        kube_fault_push(fl, 503, -1, NULL);
    } else {
        kube_fault_push(fl, 200, -1,
                        "{\"kind\":\"APIResourceList\",\"resources\":[{\"name\":\"pods\","
                        "\"namespaced\":true,\"kind\":\"PodMetrics\",\"verbs\":[\"get\","
                        "\"list\"]}]}");
    }
    kube_fault_push(fl, 200, -1,
                    "{\"kind\":\"APIResourceList\",\"groupVersion\":\"stable.example.com/v2\","
                    "\"resources\":[{\"name\":\"crontabs\",\"singularName\":\"crontab\","
                    "\"namespaced\":true,\"kind\":\"CronTab\",\"verbs\":[\"list\",\"get\"]}]}");
}

static void test_discovery(void **state)
{
    struct fx *f = *state;
    struct kube_discovery *d = NULL;
    const struct kube_resource *r;
    struct kube_ref ref;
    struct cm_err err;
    size_t i;

    push_discovery(f->fl, true);
    assert_int_equal(kube_discover(f->c, &d, &err), 0);
    assert_int_equal(kube_discovery_failed_groups(d), 1);
    assert_int_equal(kube_discovery_count(d), 5); /* pods namespaces bindings deploy crontabs */
    for (i = 0; i < kube_discovery_count(d); i++)
        assert_null(strchr(kube_discovery_get(d, i)->plural, '/'));
    r = kube_discovery_find(d, "", "pods");
    assert_non_null(r);
    assert_true(r->namespaced);
    assert_int_equal(r->verbs, KUBE_VERB_CREATE | KUBE_VERB_DELETE | KUBE_VERB_GET |
                                   KUBE_VERB_LIST | KUBE_VERB_WATCH);
    assert_string_equal(r->api_version, "v1");
    r = kube_discovery_find(d, "", "Namespace");
    assert_non_null(r);
    assert_false(r->namespaced);
    r = kube_discovery_find_kind(d, "apps/v1beta2", "Deployment");
    assert_non_null(r);
    assert_string_equal(r->api_version, "apps/v1");
    assert_string_equal(r->plural, "deployments");
    r = kube_discovery_find(d, "stable.example.com", "CronTab");
    assert_non_null(r);
    assert_string_equal(r->version, "v2"); /* first listed when no preferredVersion */
    kube_resource_ref(r, "ns1", NULL, &ref);
    assert_string_equal(ref.api_version, "stable.example.com/v2");
    assert_string_equal(ref.namespace_, "ns1");
    r = kube_discovery_find(d, "", "namespaces");
    kube_resource_ref(r, "ignored", "x", &ref);
    assert_null(ref.namespace_);
    assert_null(kube_discovery_find(d, "apps", "Scale"));
    assert_null(kube_discovery_get(d, 99));
    assert_string_equal(kube_fault_url(f->fl, 4), "https://kube.test/apis/metrics.k8s.io/"
                                                  "v1beta1");
    kube_discovery_destroy(d);
}

static void test_discovery_errors(void **state)
{
    struct fx *f = *state;
    struct kube_discovery *d = NULL;
    struct cm_err err;

    /* A 403 on a group is fatal (the caller cannot see what it may back up). */
    kube_fault_push(f->fl, 200, -1, "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"]}");
    kube_fault_push(f->fl, 200, -1, "{\"kind\":\"APIResourceList\",\"resources\":[]}");
    kube_fault_push(f->fl, 200, -1, apis_doc);
    kube_fault_push(f->fl, 403, -1, "{\"kind\":\"Status\",\"message\":\"no\",\"code\":403}");
    assert_int_equal(kube_discover(f->c, &d, &err), CM_EAUTH);
    assert_non_null(strstr(err.msg, "forbidden: cannot get discovery information for group "
                                    "apps"));
    assert_null(d);

    kube_fault_push(f->fl, 200, -1, "{\"kind\":\"APIVersions\",\"versions\":[]}");
    assert_int_equal(kube_discover(f->c, &d, &err), CM_EPROTO);
    kube_fault_push(f->fl, 200, -1, "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"]}");
    kube_fault_push(f->fl, 200, -1, "{\"kind\":\"APIResourceList\",\"resources\":[{\"name\":1}]}");
    assert_int_equal(kube_discover(f->c, &d, &err), CM_EPROTO);
    kube_fault_push(f->fl, 200, -1, "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"]}");
    kube_fault_push(f->fl, 200, -1, "{\"kind\":\"APIResourceList\",\"resources\":[]}");
    kube_fault_push(f->fl, 200, -1, "{\"groups\":[{\"name\":\"a/b\"}]}");
    assert_int_equal(kube_discover(f->c, &d, &err), CM_EPROTO);
    assert_int_equal(kube_fault_pending(f->fl), 0);
}

static void test_discovery_oom_loop(void **state)
{
    struct fx *f = *state;
    struct kube_discovery *d = NULL;
    struct cm_err err;
    long n;
    int rc;

    for (n = 1;; n++) {
        struct kube_fault *fl;
        struct kube_client *c = NULL;

        assert_int_equal(kube_fault_create(&fl), 0);
        push_discovery(fl, false);
        kube_fault_attach(fl, f->cfg);
        cm_alloc_fault_set(n);
        rc = kube_client_create(f->cfg, &c, &err);
        if (rc == 0)
            rc = kube_discover(c, &d, &err);
        if (!cm_alloc_fault_fired()) {
            cm_alloc_fault_set(0);
            assert_int_equal(rc, 0);
            assert_int_equal(kube_discovery_count(d), 6);
            kube_discovery_destroy(d);
            kube_client_destroy(c);
            kube_fault_destroy(fl);
            break;
        }
        cm_alloc_fault_set(0);
        if (rc != CM_ENOMEM)
            fail_msg("n=%ld rc=%d %s", n, rc, err.msg);
        assert_null(d);
        kube_client_destroy(c);
        kube_fault_destroy(fl);
        assert_true(n < 100000);
    }
}

static void test_list_oom_loop(void **state)
{
    struct fx *f = *state;
    struct kube_ref r = {"apps/v1", "deployments", "prod", NULL};
    struct kube_list_opts o = {"app=web", NULL, 2, NULL};
    struct cm_err err;
    long n;
    int rc;

    for (n = 1;; n++) {
        struct kube_fault *fl;
        struct kube_client *c = NULL;

        assert_int_equal(kube_fault_create(&fl), 0);
        kube_fault_push(fl, 200, -1, PAGE(ITEM("a") "," ITEM("b"), ",\"continue\":\"t\""));
        kube_fault_push(fl, 200, -1, PAGE(ITEM("c"), ""));
        kube_fault_attach(fl, f->cfg);
        f->n = 0;
        cm_alloc_fault_set(n);
        rc = kube_client_create(f->cfg, &c, &err);
        if (rc == 0)
            rc = kube_list(c, &r, &o, on_item, NULL, f, NULL, &err);
        if (!cm_alloc_fault_fired()) {
            cm_alloc_fault_set(0);
            assert_int_equal(rc, 0);
            assert_int_equal(f->n, 3);
            kube_client_destroy(c);
            kube_fault_destroy(fl);
            break;
        }
        cm_alloc_fault_set(0);
        if (rc != CM_ENOMEM)
            fail_msg("n=%ld rc=%d %s", n, rc, err.msg);
        kube_client_destroy(c);
        kube_fault_destroy(fl);
        assert_true(n < 100000);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ref_path),
        cmocka_unit_test_setup_teardown(test_list_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_take_items, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_raw, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_raw, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_expired_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_stop_and_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_typed_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_discovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_discovery_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_discovery_oom_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_oom_loop, setup, teardown),
    };

    policy_json_hooks_install();
    cm_log_set_level(CM_LOG_OFF);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
