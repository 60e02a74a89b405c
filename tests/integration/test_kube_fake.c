/* SPDX-License-Identifier: Apache-2.0 */
/* test_kube_fake.c - the fake kube-apiserver itself (others' tests rely on it), driven
 * over plain HTTP through the kube_ client: wire format of lists and discovery,
 * selectors, generateName, status subresource, namespace deletion, seeds from a
 * fixture file, every fault kind, the request log and counters, and the
 * VolumeSnapshot readiness and failure simulation. */
#include "backup/kube/kube.h"
#include "policy/policy.h"
#include "tests/support/fake_kube.h"
#include "tests/support/kube_testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fx {
    struct fake_kube *srv;
    struct kube_config *cfg;
    struct kube_client *c;
    struct kube_test_sleeps sleeps;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct fake_kube_opts o;
    struct cm_err err;

    if (f == NULL)
        return -1;
    memset(&o, 0, sizeof(o));
    o.seed_file = "tests/fixtures/kube/seed-basic.json";
    o.snapshot_ready_after_gets = 2;
    if (fake_kube_start(&o, &f->srv) != 0 ||
        kube_config_create(fake_kube_url(f->srv), &f->cfg, &err) != 0)
        return -1;
    kube_config_set_sleep(f->cfg, kube_test_sleep_record, &f->sleeps);
    kube_config_set_retry(f->cfg, 2, 10, 100, 0);
    if (kube_client_create(f->cfg, &f->c, &err) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    kube_client_destroy(f->c);
    kube_config_destroy(f->cfg);
    fake_kube_stop(f->srv);
    free(f);
    return 0;
}

static cJSON *get_raw(struct fx *f, const char *path, int want_rc)
{
    struct cm_err err;
    cJSON *out = NULL;
    int rc = kube_request(f->c, "GET", path, NULL, 0, NULL, NULL, &out, &err);

    if (rc != want_rc)
        fail_msg("GET %s: rc %d (%s)", path, rc, err.msg);
    return out;
}

static const char *str_at(const cJSON *j, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, a);

    if (b != NULL)
        x = cJSON_GetObjectItemCaseSensitive(x, b);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

/* Items of built-in lists carry no apiVersion/kind (as the apiserver sends them);
 * custom resources do. The seed came from the fixture file. */
static void test_wire_format(void **state)
{
    struct fx *f = *state;
    cJSON *l = get_raw(f, "/apis/apps/v1/namespaces/shop/deployments", 0);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(l, "items");
    const cJSON *it = cJSON_GetArrayItem(items, 0);

    assert_string_equal(str_at(l, "kind", NULL), "DeploymentList");
    assert_string_equal(str_at(l, "apiVersion", NULL), "apps/v1");
    assert_non_null(str_at(l, "metadata", "resourceVersion"));
    assert_int_equal(cJSON_GetArraySize(items), 2);
    assert_null(cJSON_GetObjectItemCaseSensitive(it, "kind"));
    assert_null(cJSON_GetObjectItemCaseSensitive(it, "apiVersion"));
    assert_string_equal(str_at(it, "metadata", "name"), "api");
    assert_non_null(str_at(it, "metadata", "uid"));
    cJSON_Delete(l);

    l = get_raw(f, "/apis/stable.example.com/v1/namespaces/shop/crontabs", 0);
    it = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(l, "items"), 0);
    assert_string_equal(str_at(it, "kind", NULL), "CronTab");
    cJSON_Delete(l);

    l = get_raw(f, "/apis", 0);
    assert_string_equal(str_at(l, "kind", NULL), "APIGroupList");
    cJSON_Delete(l);
    l = get_raw(f, "/apis/stable.example.com", 0);
    assert_string_equal(str_at(l, "preferredVersion", "version"), "v1");
    cJSON_Delete(l);
    l = get_raw(f, "/apis/apps/v1", 0);
    assert_string_equal(str_at(l, "groupVersion", NULL), "apps/v1");
    cJSON_Delete(l);
    (void)get_raw(f, "/apis/nope.example.com/v1", CM_ENOENT);
    (void)get_raw(f, "/apis/apps/v1/namespaces/shop/widgets", CM_ENOENT);
    (void)get_raw(f, "/api/v1/namespaces/shop/namespaces/x", CM_ENOENT);
    (void)get_raw(f, "/healthz", CM_ENOENT);
    assert_int_equal(fake_kube_count_objects(f->srv, "apps/v1", "Deployment", NULL), 3);
    assert_int_equal(fake_kube_count_objects(f->srv, "apps/v1", "deployments", "shop"), 2);
}

static size_t list_count(struct fx *f, const char *av, const char *res, const char *ns,
                         const char *ls, const char *fs, int want_rc)
{
    struct kube_ref r = {av, res, ns, NULL};
    struct kube_list_opts o = {ls, fs, 0, NULL};
    struct kube_list_info info;
    struct cm_err err;
    int rc = kube_list(f->c, &r, &o, NULL, NULL, NULL, &info, &err);

    if (rc != want_rc)
        fail_msg("list %s ls=%s fs=%s: rc %d (%s)", res, ls ? ls : "", fs ? fs : "", rc, err.msg);
    return rc == 0 ? info.items : 0;
}

static void test_selectors(void **state)
{
    struct fx *f = *state;

    assert_int_equal(list_count(f, "apps/v1", "deployments", NULL, "app=web", NULL, 0), 2);
    assert_int_equal(list_count(f, "apps/v1", "deployments", NULL, "app==web,tier=front", NULL, 0),
                     1);
    assert_int_equal(list_count(f, "apps/v1", "deployments", NULL, "app!=web", NULL, 0), 1);
    assert_int_equal(list_count(f, "apps/v1", "deployments", NULL, "app in (web, api)", NULL, 0),
                     3);
    assert_int_equal(list_count(f, "apps/v1", "deployments", NULL, "app notin (web)", NULL, 0), 1);
    assert_int_equal(list_count(f, "apps/v1", "deployments", NULL, "tier", NULL, 0), 1);
    assert_int_equal(list_count(f, "apps/v1", "deployments", NULL, "!tier", NULL, 0), 2);
    assert_int_equal(list_count(f, "apps/v1", "deployments", NULL, "app in (web", NULL, CM_EINVAL),
                     0);
    assert_int_equal(list_count(f, "apps/v1", "deployments", NULL, "a b", NULL, CM_EINVAL), 0);
    assert_int_equal(list_count(f, "apps/v1", "deployments", NULL, NULL, "metadata.name=api", 0),
                     1);
    assert_int_equal(
        list_count(f, "apps/v1", "deployments", NULL, NULL, "metadata.namespace!=shop", 0), 1);
    assert_int_equal(
        list_count(f, "apps/v1", "deployments", NULL, NULL, "spec.replicas=1", CM_EINVAL), 0);
}

static void test_create_update_semantics(void **state)
{
    struct fx *f = *state;
    struct kube_ref r = {"v1", "configmaps", "shop", NULL};
    struct cm_err err;
    cJSON *obj = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
                             "{\"generateName\":\"restore-\"},\"data\":{\"a\":\"1\"}}");
    cJSON *out = NULL;
    const char *name;
    char saved[64];

    assert_int_equal(kube_create(f->c, &r, obj, &out, &err), 0);
    name = str_at(out, "metadata", "name");
    assert_non_null(name);
    assert_int_equal(strncmp(name, "restore-", 8), 0);
    assert_int_equal(strlen(name), 13);
    assert_string_equal(str_at(out, "metadata", "namespace"), "shop");
    assert_non_null(str_at(out, "metadata", "creationTimestamp"));
    (void)snprintf(saved, sizeof(saved), "%s", name);
    cJSON_Delete(out);
    out = NULL;

    /* Mismatched kind and namespace are 400s. */
    cJSON_ReplaceItemInObjectCaseSensitive(obj, "kind", cJSON_CreateString("Secret"));
    assert_int_equal(kube_create(f->c, &r, obj, NULL, &err), CM_EINVAL);
    assert_non_null(strstr(err.msg, "does not match the expected kind"));
    cJSON_ReplaceItemInObjectCaseSensitive(obj, "kind", cJSON_CreateString("ConfigMap"));
    cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "namespace",
                            "elsewhere");
    assert_int_equal(kube_create(f->c, &r, obj, NULL, &err), CM_EINVAL);
    cJSON_Delete(obj);
    obj = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{}}");
    assert_int_equal(kube_create(f->c, &r, obj, NULL, &err), CM_EINVAL);
    assert_non_null(strstr(err.msg, "name or generateName is required"));
    cJSON_Delete(obj);

    /* PUT on a missing object is 404; the URL name wins over a different body name. */
    r.name = "absent";
    obj = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                      "\"absent\"}}");
    assert_int_equal(kube_update(f->c, &r, obj, NULL, &err), CM_ENOENT);
    r.name = saved;
    assert_int_equal(kube_update(f->c, &r, obj, NULL, &err), CM_EINVAL);
    cJSON_Delete(obj);

    /* The status subresource changes only the status. */
    {
        struct cm_err e2;
        char path[256];
        static const char body[] = "{\"metadata\":{\"labels\":{\"x\":\"y\"}},\"status\":"
                                   "{\"phase\":\"Done\"}}";

        (void)snprintf(path, sizeof(path), "/api/v1/namespaces/shop/configmaps/%s/status", saved);
        assert_int_equal(kube_request(f->c, "PATCH", path, body, strlen(body),
                                      "application/merge-patch+json", NULL, &out, &e2),
                         0);
        assert_string_equal(str_at(out, "status", "phase"), "Done");
        assert_null(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(out, "metadata"), "labels"));
        cJSON_Delete(out);
        out = NULL;
        assert_int_equal(kube_request(f->c, "PATCH", path, "{}", 2, "text/plain", NULL, NULL, &e2),
                         CM_EHTTP);
        assert_non_null(strstr(e2.msg, "415"));
    }
}

/* Lists serve each object's serialised item from a cache: every change must show in
 * the next list (replace, patch, in-place snapshot status, re-seed, delete). */
static const char *listed_label(struct fx *f, const char *path, const char *name)
{
    static char out[64];
    cJSON *l = get_raw(f, path, 0);
    const cJSON *it;

    out[0] = '\0';
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(l, "items"))
    {
        const cJSON *md = cJSON_GetObjectItemCaseSensitive(it, "metadata");
        const char *v = str_at(md, "labels", "v");

        if (strcmp(cJSON_GetObjectItemCaseSensitive(md, "name")->valuestring, name) == 0)
            (void)snprintf(out, sizeof(out), "%s", v ? v : "(none)");
    }
    cJSON_Delete(l);
    return out;
}

static void test_list_cache_follows_changes(void **state)
{
    struct fx *f = *state;
    struct kube_ref r = {"v1", "configmaps", "cache", "c1"};
    static const char list[] = "/api/v1/namespaces/cache/configmaps?limit=10";
    static const char patch[] = "{\"metadata\":{\"labels\":{\"v\":\"2\"}}}";
    struct cm_err err;
    cJSON *obj;

    assert_int_equal(fake_kube_add_object_json(f->srv, "{\"apiVersion\":\"v1\",\"kind\":"
                                                       "\"ConfigMap\",\"metadata\":{\"name\":"
                                                       "\"c1\",\"namespace\":\"cache\","
                                                       "\"labels\":{\"v\":\"1\"}}}"),
                     1);
    assert_string_equal(listed_label(f, list, "c1"), "1");
    assert_string_equal(listed_label(f, list, "c1"), "1"); /* served from the cache */
    assert_int_equal(kube_patch(f->c, &r, KUBE_PATCH_MERGE, patch, strlen(patch), NULL, &err), 0);
    assert_string_equal(listed_label(f, list, "c1"), "2");
    obj = fake_kube_get_object(f->srv, "v1", "configmaps", "cache", "c1");
    assert_non_null(obj);
    cJSON_ReplaceItemInObjectCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "metadata"),
                                         "labels"),
        "v", cJSON_CreateString("3"));
    assert_int_equal(kube_update(f->c, &r, obj, NULL, &err), 0);
    cJSON_Delete(obj);
    assert_string_equal(listed_label(f, list, "c1"), "3");
    assert_int_equal(fake_kube_add_object_json(f->srv, "{\"apiVersion\":\"v1\",\"kind\":"
                                                       "\"ConfigMap\",\"metadata\":{\"name\":"
                                                       "\"c1\",\"namespace\":\"cache\","
                                                       "\"labels\":{\"v\":\"4\"}}}"),
                     1);
    assert_string_equal(listed_label(f, list, "c1"), "4");
    assert_int_equal(kube_delete(f->c, &r, NULL, &err), 0);
    assert_string_equal(listed_label(f, list, "c1"), "");
    /* a snapshot's status changes in place on its K-th GET */
    {
        struct kube_ref vs = {"snapshot.storage.k8s.io/v1", "volumesnapshots", "cache", NULL};
        static const char vsl[] =
            "/apis/snapshot.storage.k8s.io/v1/namespaces/cache/volumesnapshots?limit=5";
        cJSON *l;
        cJSON *s = cJSON_Parse("{\"apiVersion\":\"snapshot.storage.k8s.io/v1\",\"kind\":"
                               "\"VolumeSnapshot\",\"metadata\":{\"name\":\"s1\"},\"spec\":"
                               "{\"source\":{\"persistentVolumeClaimName\":\"p\"}}}");

        assert_int_equal(kube_create(f->c, &vs, s, NULL, &err), 0);
        cJSON_Delete(s);
        l = get_raw(f, vsl, 0);
        assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(
                cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(l, "items"), 0), "status"),
            "readyToUse")));
        cJSON_Delete(l);
        vs.name = "s1";
        for (int i = 0; i < 2; i++) {
            assert_int_equal(kube_get(f->c, &vs, &s, &err), 0);
            cJSON_Delete(s);
        }
        l = get_raw(f, vsl, 0);
        assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(
                cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(l, "items"), 0), "status"),
            "readyToUse")));
        cJSON_Delete(l);
    }
}

/* RFC 6902 JSON patches: every operation, and failures as 422 Invalid. */
static void test_json_patch(void **state)
{
    struct fx *f = *state;
    struct kube_ref r = {"v1", "configmaps", "shop", "settings"};
    struct cm_err err;
    cJSON *out = NULL;
    const cJSON *data;
    static const char ops[] =
        "[{\"op\":\"test\",\"path\":\"/data/mode\",\"value\":\"prod\"},"
        "{\"op\":\"add\",\"path\":\"/metadata/labels\",\"value\":{\"a/b\":\"1\"}},"
        "{\"op\":\"add\",\"path\":\"/metadata/labels/c~1d\",\"value\":\"2\"},"
        "{\"op\":\"replace\",\"path\":\"/data/mode\",\"value\":\"dr\"},"
        "{\"op\":\"copy\",\"from\":\"/data/mode\",\"path\":\"/data/copy\"},"
        "{\"op\":\"move\",\"from\":\"/data/copy\",\"path\":\"/data/moved\"},"
        "{\"op\":\"add\",\"path\":\"/list\",\"value\":[1,3]},"
        "{\"op\":\"add\",\"path\":\"/list/1\",\"value\":2},"
        "{\"op\":\"add\",\"path\":\"/list/-\",\"value\":4},"
        "{\"op\":\"remove\",\"path\":\"/list/0\"}]";

    if (kube_patch(f->c, &r, KUBE_PATCH_JSON, ops, strlen(ops), &out, &err) != 0)
        fail_msg("json patch: %s", err.msg);
    data = cJSON_GetObjectItemCaseSensitive(out, "data");
    assert_string_equal(str_at(data, "mode", NULL), "dr");
    assert_string_equal(str_at(data, "moved", NULL), "dr");
    assert_null(cJSON_GetObjectItemCaseSensitive(data, "copy"));
    assert_string_equal(str_at(cJSON_GetObjectItemCaseSensitive(out, "metadata"), "labels", "a/b"),
                        "1");
    assert_string_equal(str_at(cJSON_GetObjectItemCaseSensitive(out, "metadata"), "labels", "c/d"),
                        "2");
    {
        char *l = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(out, "list"));

        assert_string_equal(l, "[2,3,4]");
        cJSON_free(l);
    }
    cJSON_Delete(out);
    assert_int_equal(kube_patch(f->c, &r, KUBE_PATCH_JSON,
                                "[{\"op\":\"test\",\"path\":\"/data/mode\",\"value\":\"x\"}]", 47,
                                NULL, &err),
                     CM_EINVAL);
    assert_non_null(strstr(err.msg, "testing value /data/mode failed"));
    assert_int_equal(kube_patch(f->c, &r, KUBE_PATCH_JSON,
                                "[{\"op\":\"remove\",\"path\":\"/nope/x\"}]", 34, NULL, &err),
                     CM_EINVAL);
    assert_non_null(strstr(err.msg, "does not apply"));
    assert_int_equal(kube_patch(f->c, &r, KUBE_PATCH_JSON, "{}", 2, NULL, &err), CM_EINVAL);
    /* A failed patch changes nothing. */
    out = fake_kube_get_object(f->srv, "v1", "ConfigMap", "shop", "settings");
    assert_string_equal(str_at(out, "data", "mode"), "dr");
    cJSON_Delete(out);
}

static void test_namespace_delete_cascades(void **state)
{
    struct fx *f = *state;
    struct kube_ref r = {"v1", "namespaces", NULL, "shop"};
    struct cm_err err;

    assert_true(fake_kube_count_objects(f->srv, "apps/v1", "deployments", "shop") > 0);
    assert_int_equal(kube_delete(f->c, &r, NULL, &err), 0);
    assert_int_equal(fake_kube_count_objects(f->srv, "apps/v1", "deployments", "shop"), 0);
    assert_int_equal(fake_kube_count_objects(f->srv, "apps/v1", "deployments", NULL), 1);
    assert_null(fake_kube_get_object(f->srv, "v1", "Namespace", NULL, "shop"));
    assert_int_equal(fake_kube_delete_object(f->srv, "apps/v1", "Deployment", "ops", "tools"), 0);
    assert_int_equal(fake_kube_delete_object(f->srv, "apps/v1", "Deployment", "ops", "tools"), -1);
}

static void test_fault_kinds(void **state)
{
    static const struct {
        enum fake_kube_fault fault;
        int rc;
        const char *text;
    } cases[] = {
        {FAKE_KUBE_FAULT_401, CM_EAUTH, "unauthorized: cannot get"},
        {FAKE_KUBE_FAULT_403, CM_EAUTH, "User \"test\" cannot get resource \"configmaps\""},
        {FAKE_KUBE_FAULT_410, CM_EAGAIN, "expired:"},
        {FAKE_KUBE_FAULT_502, CM_EAGAIN, "HTTP 502 after 2 attempts: <html>"},
        {FAKE_KUBE_FAULT_504, CM_EAGAIN, "unable to return a response in the time allotted"},
        {FAKE_KUBE_FAULT_503, CM_EAGAIN, "currently unable to handle the request"},
        {FAKE_KUBE_FAULT_RESET, CM_ECONN, "gave up after 2 attempts"},
    };
    struct fx *f = *state;
    struct kube_ref r = {"v1", "configmaps", "shop", "settings"};
    struct cm_err err;
    cJSON *out = NULL;
    size_t i;

    for (i = 0; i < CM_ARRAY_LEN(cases); i++) {
        struct fake_kube_rule rule = {"GET", "/configmaps/settings", NULL, cases[i].fault, 3, 0};

        /* RESET needs one extra: libcurl silently retries a dead reused connection. */
        fake_kube_clear_faults(f->srv);
        assert_int_equal(fake_kube_inject(f->srv, &rule), 0);
        assert_int_equal(kube_get(f->c, &r, &out, &err), cases[i].rc);
        if (strstr(err.msg, cases[i].text) == NULL)
            fail_msg("fault %d: \"%s\" lacks \"%s\"", (int)cases[i].fault, err.msg, cases[i].text);
    }
    fake_kube_clear_faults(f->srv);
    /* Rules match method, path and query; count 0 = until cleared. */
    {
        struct fake_kube_rule post_only = {"POST", NULL, NULL, FAKE_KUBE_FAULT_500, 0, 0};
        struct fake_kube_rule by_query = {NULL, NULL, "labelSelector=", FAKE_KUBE_FAULT_403, 1, 0};

        assert_int_equal(fake_kube_inject(f->srv, &post_only), 0);
        assert_int_equal(fake_kube_inject(f->srv, &by_query), 0);
        assert_int_equal(kube_get(f->c, &r, &out, &err), 0);
        cJSON_Delete(out);
        assert_int_equal(list_count(f, "v1", "configmaps", "shop", "a=b", NULL, CM_EAUTH), 0);
        assert_int_equal(list_count(f, "v1", "configmaps", "shop", "a=b", NULL, 0), 0);
    }
    fake_kube_clear_faults(f->srv);
}

static void test_request_log(void **state)
{
    struct fx *f = *state;
    struct fake_kube_request rq;
    struct kube_ref r = {"v1", "configmaps", "shop", NULL};
    struct kube_list_opts o = {"app=x", NULL, 1, NULL};
    struct cm_err err;

    fake_kube_requests_clear(f->srv);
    assert_int_equal(kube_config_set_user_agent(f->cfg, "lockwarden-test/9"), 0);
    kube_client_destroy(f->c);
    assert_int_equal(kube_client_create(f->cfg, &f->c, &err), 0);
    assert_int_equal(kube_list(f->c, &r, &o, NULL, NULL, NULL, NULL, &err), 0);
    assert_int_equal(fake_kube_request_count(f->srv), 1);
    assert_int_equal(fake_kube_request_get(f->srv, 0, &rq), 0);
    assert_string_equal(rq.method, "GET");
    assert_string_equal(rq.path, "/api/v1/namespaces/shop/configmaps");
    assert_non_null(strstr(rq.query, "labelSelector=app=x"));
    assert_non_null(strstr(rq.query, "limit=1"));
    assert_string_equal(rq.user_agent, "lockwarden-test/9");
    assert_string_equal(rq.verb, "list");
    assert_int_equal(rq.status, 200);
    assert_int_equal(fake_kube_request_get(f->srv, 1, &rq), -1);
    cJSON_Delete(get_raw(f, "/version", 0));
    assert_int_equal(fake_kube_verb_count(f->srv, "discovery"), 1);
    assert_int_equal(fake_kube_verb_count(f->srv, "list"), 1);
    assert_int_equal(fake_kube_verb_count(f->srv, "nonsense"), 0);
}

static cJSON *snapshot_obj(const char *name, const char *pvc)
{
    char json[512];

    (void)snprintf(json, sizeof(json),
                   "{\"apiVersion\":\"snapshot.storage.k8s.io/v1\",\"kind\":\"VolumeSnapshot\","
                   "\"metadata\":{\"name\":\"%s\"},\"spec\":{\"volumeSnapshotClassName\":"
                   "\"csi-snap\",\"source\":{\"persistentVolumeClaimName\":\"%s\"}}}",
                   name, pvc);
    return cJSON_Parse(json);
}

static bool ready(const cJSON *snap)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(snap, "status"), "readyToUse"));
}

static void test_volume_snapshots(void **state)
{
    struct fx *f = *state;
    struct kube_ref r = {"snapshot.storage.k8s.io/v1", "volumesnapshots", "shop", NULL};
    struct cm_err err;
    cJSON *s = snapshot_obj("data-snap", "data-db-0");
    cJSON *out = NULL;
    const char *content;

    assert_int_equal(kube_create(f->c, &r, s, &out, &err), 0);
    assert_false(ready(out));
    cJSON_Delete(out);
    cJSON_Delete(s);
    r.name = "data-snap";
    assert_int_equal(kube_get(f->c, &r, &out, &err), 0); /* GET 1 of 2 */
    assert_false(ready(out));
    cJSON_Delete(out);
    assert_int_equal(kube_get(f->c, &r, &out, &err), 0); /* GET 2: ready */
    assert_true(ready(out));
    content = str_at(out, "status", "boundVolumeSnapshotContentName");
    assert_non_null(content);
    assert_int_equal(strncmp(content, "snapcontent-", 12), 0);
    assert_string_equal(str_at(out, "status", "restoreSize"), "1Gi");
    {
        cJSON *vsc = fake_kube_get_object(f->srv, "snapshot.storage.k8s.io/v1",
                                          "VolumeSnapshotContent", NULL, content);

        assert_non_null(vsc);
        assert_string_equal(str_at(vsc, "spec", "volumeSnapshotClassName"), "csi-snap");
        assert_int_equal(strncmp(str_at(vsc, "status", "snapshotHandle"), "snap-", 5), 0);
        cJSON_Delete(vsc);
    }
    cJSON_Delete(out);

    /* Failures by PVC name and by snapshot name; ready at creation when K = 0. */
    assert_int_equal(fake_kube_snapshot_fail(f->srv, "broken-pvc", "csi: volume busy"), 0);
    assert_int_equal(fake_kube_snapshot_fail(f->srv, "doomed", "quota exceeded"), 0);
    r.name = NULL;
    s = snapshot_obj("s2", "broken-pvc");
    assert_int_equal(kube_create(f->c, &r, s, &out, &err), 0);
    assert_false(ready(out));
    assert_string_equal(str_at(cJSON_GetObjectItemCaseSensitive(out, "status"), "error", "message"),
                        "csi: volume busy");
    cJSON_Delete(out);
    cJSON_Delete(s);
    s = snapshot_obj("doomed", "fine-pvc");
    assert_int_equal(kube_create(f->c, &r, s, &out, &err), 0);
    assert_string_equal(str_at(cJSON_GetObjectItemCaseSensitive(out, "status"), "error", "message"),
                        "quota exceeded");
    cJSON_Delete(out);
    cJSON_Delete(s);
    fake_kube_snapshot_ready_after(f->srv, 0);
    s = snapshot_obj("instant", "fine-pvc");
    assert_int_equal(kube_create(f->c, &r, s, &out, &err), 0);
    assert_true(ready(out));
    cJSON_Delete(out);
    cJSON_Delete(s);
}

static void test_seed_errors(void **state)
{
    struct fx *f = *state;

    assert_int_equal(fake_kube_add_object_json(f->srv, "{not json"), -1);
    assert_int_equal(fake_kube_add_object_json(f->srv, "{\"apiVersion\":\"example.com/v1\","
                                                       "\"kind\":\"Widget\",\"metadata\":"
                                                       "{\"name\":\"w\"}}"),
                     -1);
    assert_int_equal(fake_kube_add_object_json(f->srv, "{\"apiVersion\":\"v1\",\"kind\":"
                                                       "\"ConfigMap\",\"metadata\":{}}"),
                     -1);
    assert_int_equal(fake_kube_load_file(f->srv, "tests/fixtures/kube/absent.json"), -1);
    /* Replacing keeps one object. */
    assert_int_equal(fake_kube_add_object_json(f->srv, "[{\"apiVersion\":\"v1\",\"kind\":"
                                                       "\"ConfigMap\",\"metadata\":{\"name\":"
                                                       "\"settings\",\"namespace\":\"shop\"}}]"),
                     1);
    assert_int_equal(fake_kube_count_objects(f->srv, "v1", "ConfigMap", "shop"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wire_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_selectors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_update_semantics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_cache_follows_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_patch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_namespace_delete_cascades, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_kinds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_volume_snapshots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_errors, setup, teardown),
    };

    policy_json_hooks_install();
    cm_log_set_level(CM_LOG_OFF);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
