/* SPDX-License-Identifier: Apache-2.0 */
/* test_kube_client.c - the kube_ client against the fake kube-apiserver over real
 * TLS on 127.0.0.1: CA verification, bearer tokens, mutual TLS, in-cluster config,
 * discovery with a CRD, paging, retries on 429/500/reset, 403 text, expired continue
 * tokens, create/update/patch/delete semantics and a 2,000-object list. */
#include "backup/kube/kube.h"
#include "policy/policy.h"
#include "tests/support/backup_env.h"
#include "tests/support/fake_kube.h"
#include "tests/support/kube_testca.h"
#include "tests/support/kube_testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fx {
    struct fake_kube *srv;
    char dir[512];
    char kubeconfig[700];
    struct kube_config *cfg;
    struct kube_client *c;
    struct kube_test_sleeps sleeps;
    size_t items;
    char seen[2100][8];
    bool expire_after_first_page;
    unsigned pages;
};

static int start(void **state, bool client_cert_required)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct fake_kube_opts o;

    if (f == NULL)
        return -1;
    memset(&o, 0, sizeof(o));
    o.tls = true;
    o.token = "good-token";
    o.require_client_cert = client_cert_required;
    if (fake_kube_start(&o, &f->srv) != 0 || kube_test_mkdtemp(f->dir, sizeof(f->dir)) != 0)
        return -1;
    (void)snprintf(f->kubeconfig, sizeof(f->kubeconfig), "%s/kubeconfig", f->dir);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return start(state, false);
}

static int setup_mtls(void **state)
{
    return start(state, true);
}

static int teardown(void **state)
{
    struct fx *f = *state;

    kube_client_destroy(f->c);
    kube_config_destroy(f->cfg);
    fake_kube_stop(f->srv);
    kube_test_rmtree(f->dir);
    free(f);
    return 0;
}

/* Loads the kubeconfig written for the fake and makes a client with a recording
 * sleep. */
static void connect_with(struct fx *f, const char *token, bool cert)
{
    struct cm_err err;

    kube_client_destroy(f->c);
    kube_config_destroy(f->cfg);
    f->c = NULL;
    f->cfg = NULL;
    assert_int_equal(fake_kube_write_kubeconfig(f->srv, f->kubeconfig, token, cert), 0);
    if (kube_config_from_kubeconfig(f->kubeconfig, NULL, &f->cfg, &err) != 0)
        fail_msg("kubeconfig: %s", err.msg);
    kube_config_set_sleep(f->cfg, kube_test_sleep_record, &f->sleeps);
    if (kube_client_create(f->cfg, &f->c, &err) != 0)
        fail_msg("client: %s", err.msg);
}

static void add(struct fx *f, const char *json)
{
    assert_true(fake_kube_add_object_json(f->srv, json) > 0);
}

static void test_tls_and_ca(void **state)
{
    struct fx *f = *state;
    struct kube_testca *other = NULL;
    struct kube_client *c = NULL;
    struct cm_err err;
    cJSON *out = NULL;
    long st = 0;

    connect_with(f, "good-token", false);
    assert_int_equal(kube_request(f->c, "GET", "/version", NULL, 0, NULL, &st, &out, &err), 0);
    assert_int_equal(st, 200);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(out, "major")->valuestring, "1");
    cJSON_Delete(out);

    /* A CA that did not sign the server's certificate: CM_ETLS, no retries. */
    assert_int_equal(kube_testca_create(NULL, NULL, &other), 0);
    assert_int_equal(kube_config_set_ca_pem(f->cfg, other->ca_cert_pem, strlen(other->ca_cert_pem)),
                     0);
    assert_int_equal(kube_client_create(f->cfg, &c, &err), 0);
    assert_int_equal(kube_request(c, "GET", "/version", NULL, 0, NULL, &st, &out, &err), CM_ETLS);
    assert_non_null(strstr(err.msg, "TLS error talking to https://127.0.0.1:"));
    assert_int_equal(f->sleeps.n, 0);
    kube_client_destroy(c);
    kube_testca_destroy(other);
    /* insecure-skip-tls-verify gets through with the same wrong CA. */
    kube_config_set_insecure(f->cfg, true);
    assert_int_equal(kube_client_create(f->cfg, &c, &err), 0);
    assert_int_equal(kube_request(c, "GET", "/version", NULL, 0, NULL, &st, &out, &err), 0);
    cJSON_Delete(out);
    kube_client_destroy(c);
}

static void test_token_auth(void **state)
{
    struct fx *f = *state;
    struct kube_ref r = {"v1", "pods", "default", NULL};
    struct cm_err err;
    struct fake_kube_request rq;

    connect_with(f, "wrong-token", false);
    assert_int_equal(kube_list(f->c, &r, NULL, NULL, NULL, NULL, NULL, &err), CM_EAUTH);
    assert_non_null(strstr(err.msg, "unauthorized: cannot list pods in namespace default: "
                                    "Unauthorized"));
    assert_int_equal(f->sleeps.n, 0);
    assert_int_equal(fake_kube_request_get(f->srv, 0, &rq), 0);
    assert_int_equal(rq.status, 401);
    assert_true(rq.had_token);
    assert_string_equal(rq.user_agent, "lockwarden/0.1");

    connect_with(f, NULL, false);
    assert_int_equal(kube_list(f->c, &r, NULL, NULL, NULL, NULL, NULL, &err), CM_EAUTH);
    connect_with(f, "good-token", false);
    assert_int_equal(kube_list(f->c, &r, NULL, NULL, NULL, NULL, NULL, &err), 0);
}

static void test_mutual_tls(void **state)
{
    struct fx *f = *state;
    struct kube_ref r = {"v1", "namespaces", NULL, NULL};
    struct cm_err err;
    struct fake_kube_request rq;
    size_t n;

    connect_with(f, NULL, true);
    assert_int_equal(kube_list(f->c, &r, NULL, NULL, NULL, NULL, NULL, &err), 0);
    n = fake_kube_request_count(f->srv);
    assert_int_equal(fake_kube_request_get(f->srv, n - 1, &rq), 0);
    assert_true(rq.had_client_cert);
    assert_false(rq.had_token);
    assert_int_equal(rq.status, 200);
    /* Without the certificate (and no token): refused. */
    connect_with(f, NULL, false);
    assert_int_equal(kube_list(f->c, &r, NULL, NULL, NULL, NULL, NULL, &err), CM_EAUTH);
    assert_non_null(strstr(err.msg, "unauthorized: cannot list namespaces"));
}

static void test_in_cluster_config(void **state)
{
    struct fx *f = *state;
    struct kube_ref r = {"v1", "pods", NULL, NULL};
    char sa[600];
    char port[16];
    struct cm_err err;

    (void)snprintf(sa, sizeof(sa), "%s/sa", f->dir);
    assert_int_equal(kube_test_write(f->dir, "sa/token", "good-token\n", NULL, 0), 0);
    assert_int_equal(kube_test_write(f->dir, "sa/ca.crt", fake_kube_ca_pem(f->srv), NULL, 0), 0);
    assert_int_equal(kube_test_write(f->dir, "sa/namespace", "lockwarden", NULL, 0), 0);
    (void)snprintf(port, sizeof(port), "%u", fake_kube_port(f->srv));
    assert_int_equal(kube_config_in_cluster_at(sa, "127.0.0.1", port, &f->cfg, &err), 0);
    assert_string_equal(kube_config_namespace(f->cfg), "lockwarden");
    assert_int_equal(kube_client_create(f->cfg, &f->c, &err), 0);
    r.namespace_ = kube_config_namespace(f->cfg);
    assert_int_equal(kube_list(f->c, &r, NULL, NULL, NULL, NULL, NULL, &err), 0);
    assert_int_equal(
        fake_kube_request_match(f->srv, "GET", "/api/v1/namespaces/lockwarden/pods", NULL), 1);
}

static const char crd[] =
    "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
    "\"metadata\":{\"name\":\"crontabs.stable.example.com\"},\"spec\":{\"group\":"
    "\"stable.example.com\",\"scope\":\"Namespaced\",\"names\":{\"plural\":\"crontabs\","
    "\"singular\":\"crontab\",\"kind\":\"CronTab\"},\"versions\":[{\"name\":\"v1beta1\","
    "\"served\":true,\"storage\":false},{\"name\":\"v1\",\"served\":true,\"storage\":true}]}}";

static void test_discovery_with_crd(void **state)
{
    struct fx *f = *state;
    struct kube_discovery *d = NULL;
    const struct kube_resource *r;
    struct cm_err err;
    size_t i;
    size_t namespaced_listable = 0;

    connect_with(f, "good-token", false);
    add(f, crd);
    add(f, "{\"apiVersion\":\"stable.example.com/v1\",\"kind\":\"CronTab\",\"metadata\":"
           "{\"name\":\"nightly\",\"namespace\":\"prod\"},\"spec\":{\"cronSpec\":\"0 0 * * *\"}}");
    assert_int_equal(kube_discover(f->c, &d, &err), 0);
    assert_int_equal(kube_discovery_failed_groups(d), 0);
    r = kube_discovery_find(d, "stable.example.com", "CronTab");
    assert_non_null(r);
    assert_string_equal(r->version, "v1"); /* the storage version is preferred */
    assert_string_equal(r->plural, "crontabs");
    assert_true(r->namespaced);
    assert_true((r->verbs & KUBE_VERB_LIST) != 0);
    for (i = 0; i < kube_discovery_count(d); i++) {
        const struct kube_resource *x = kube_discovery_get(d, i);

        assert_null(strchr(x->plural, '/'));
        if (x->namespaced && (x->verbs & KUBE_VERB_LIST))
            namespaced_listable++;
    }
    assert_true(namespaced_listable >= 20);
    assert_non_null(kube_discovery_find(d, "", "persistentvolumeclaims"));
    assert_non_null(kube_discovery_find(d, "apps", "StatefulSet"));
    assert_non_null(kube_discovery_find(d, "snapshot.storage.k8s.io", "VolumeSnapshot"));
    assert_false(kube_discovery_find(d, "", "namespaces")->namespaced);
    /* The custom resource lists through its discovered ref. */
    {
        struct kube_ref ref;
        struct kube_list_info info;

        kube_resource_ref(r, "prod", NULL, &ref);
        assert_int_equal(kube_list(f->c, &ref, NULL, NULL, NULL, NULL, &info, &err), 0);
        assert_int_equal(info.items, 1);
    }
    kube_discovery_destroy(d);
}

static int count_item(const cJSON *item, void *ctx)
{
    struct fx *f = ctx;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(item, "metadata"), "name");

    assert_string_equal(cJSON_GetObjectItemCaseSensitive(item, "kind")->valuestring, "ConfigMap");
    if (f->items < CM_ARRAY_LEN(f->seen))
        (void)snprintf(f->seen[f->items], sizeof(f->seen[0]), "%s", name->valuestring);
    f->items++;
    return 0;
}

static int page_cb(const cJSON *list, void *ctx)
{
    struct fx *f = ctx;

    (void)list;
    f->pages++;
    if (f->expire_after_first_page && f->pages == 1)
        fake_kube_expire_continue_tokens(f->srv);
    return 0;
}

static void restart_cb(void *ctx)
{
    struct fx *f = ctx;

    f->items = 0;
}

static void add_configmaps(struct fx *f, const char *ns, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    size_t i;

    for (i = 0; i < n; i++) {
        char json[256];

        (void)snprintf(json, sizeof(json),
                       "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                       "\"cm-%04zu\",\"namespace\":\"%s\",\"labels\":{\"app\":\"%s\"}},"
                       "\"data\":{\"k\":\"v\"}}",
                       i, ns, i % 2 ? "odd" : "even");
        cJSON_AddItemToArray(arr, cJSON_Parse(json));
    }
    assert_int_equal(fake_kube_add_object(f->srv, arr), (int)n);
    cJSON_Delete(arr);
}

static void test_list_paging(void **state)
{
    struct fx *f = *state;
    struct kube_ref r = {"v1", "configmaps", "prod", NULL};
    struct kube_list_opts o = {NULL, NULL, 2, NULL};
    struct kube_list_info info;
    struct cm_err err;

    connect_with(f, "good-token", false);
    add_configmaps(f, "prod", 5);
    add_configmaps(f, "other", 3);
    fake_kube_requests_clear(f->srv);
    assert_int_equal(kube_list(f->c, &r, &o, count_item, page_cb, f, &info, &err), 0);
    assert_int_equal(f->items, 5);
    assert_int_equal(info.pages, 3);
    assert_int_equal(
        fake_kube_request_match(f->srv, "GET", "/api/v1/namespaces/prod/configmaps", "limit=2"), 3);
    assert_int_equal(fake_kube_request_match(f->srv, "GET", "/configmaps", "continue="), 2);
    assert_string_equal(f->seen[0], "cm-0000");
    assert_string_equal(f->seen[4], "cm-0004");
    assert_int_equal(fake_kube_verb_count(f->srv, "list"), 3);

    /* All namespaces, with a label selector. */
    f->items = 0;
    r.namespace_ = NULL;
    o.label_selector = "app in (odd)";
    assert_int_equal(kube_list(f->c, &r, &o, count_item, NULL, f, &info, &err), 0);
    assert_int_equal(f->items, 3); /* prod cm-1, cm-3; other cm-1 */
}

static void test_retry_429_retry_after(void **state)
{
    struct fx *f = *state;
    struct kube_ref r = {"v1", "configmaps", "prod", NULL};
    struct fake_kube_rule rule = {"GET", "/configmaps", NULL, FAKE_KUBE_FAULT_429, 1, 2};
    struct fake_kube_request rq;
    struct cm_err err;

    connect_with(f, "good-token", false);
    add_configmaps(f, "prod", 1);
    fake_kube_requests_clear(f->srv);
    assert_int_equal(fake_kube_inject(f->srv, &rule), 0);
    assert_int_equal(kube_list(f->c, &r, NULL, count_item, NULL, f, NULL, &err), 0);
    assert_int_equal(f->items, 1);
    assert_int_equal(f->sleeps.n, 1);
    assert_int_equal(f->sleeps.ms[0], 2000);
    assert_int_equal(fake_kube_request_count(f->srv), 2);
    assert_int_equal(fake_kube_request_get(f->srv, 0, &rq), 0);
    assert_int_equal(rq.status, 429);
    assert_int_equal(fake_kube_request_get(f->srv, 1, &rq), 0);
    assert_int_equal(rq.status, 200);
    assert_string_equal(rq.path, "/api/v1/namespaces/prod/configmaps");
}

static void test_retry_500_and_reset(void **state)
{
    struct fx *f = *state;
    struct kube_ref r = {"v1", "configmaps", "prod", "cm-0000"};
    struct fake_kube_rule r500 = {"GET", "/configmaps/cm-0000", NULL, FAKE_KUBE_FAULT_500, 2, 0};
    /* Two resets: libcurl itself retries once when a reused connection turns out dead,
     * so the second reset is the one the client's own retry has to handle. */
    struct fake_kube_rule reset = {"GET", "/configmaps/cm-0000", NULL, FAKE_KUBE_FAULT_RESET, 2, 0};
    struct fake_kube_rule r503 = {NULL, "/configmaps/cm-0000", NULL, FAKE_KUBE_FAULT_503, 0, 0};
    struct cm_err err;
    cJSON *out = NULL;

    connect_with(f, "good-token", false);
    kube_config_set_retry(f->cfg, 4, 100, 1000, 0);
    kube_client_destroy(f->c);
    assert_int_equal(kube_client_create(f->cfg, &f->c, &err), 0);
    add_configmaps(f, "prod", 1);
    fake_kube_requests_clear(f->srv);
    assert_int_equal(fake_kube_inject(f->srv, &r500), 0);
    assert_int_equal(kube_get(f->c, &r, &out, &err), 0);
    cJSON_Delete(out);
    assert_int_equal(f->sleeps.n, 2);
    assert_int_equal(fake_kube_request_match(f->srv, "GET", "/configmaps/cm-0000", NULL), 3);

    assert_int_equal(fake_kube_inject(f->srv, &reset), 0);
    assert_int_equal(kube_get(f->c, &r, &out, &err), 0);
    cJSON_Delete(out);
    /* 3 when libcurl absorbed the first reset on the reused connection, 4 if not. */
    assert_in_range(f->sleeps.n, 3, 4);

    /* A permanent 503: attempts run out with a clear message. */
    assert_int_equal(fake_kube_inject(f->srv, &r503), 0);
    assert_int_equal(kube_get(f->c, &r, &out, &err), CM_EAGAIN);
    assert_non_null(strstr(err.msg, "HTTP 503 after 4 attempts"));
    assert_non_null(strstr(err.msg, "the server is currently unable to handle the request"));
    fake_kube_clear_faults(f->srv);
}

static void test_forbidden_text(void **state)
{
    struct fx *f = *state;
    struct kube_ref r = {"v1", "secrets", "prod", NULL};
    struct fake_kube_rule rule = {"GET", "/secrets", NULL, FAKE_KUBE_FAULT_403, 1, 0};
    struct cm_err err;

    connect_with(f, "good-token", false);
    assert_int_equal(fake_kube_inject(f->srv, &rule), 0);
    assert_int_equal(kube_list(f->c, &r, NULL, NULL, NULL, NULL, NULL, &err), CM_EAUTH);
    assert_string_equal(err.msg,
                        "forbidden: cannot list secrets in namespace prod: secrets is forbidden: "
                        "User \"test\" cannot list resource \"secrets\" in API group \"\" in the "
                        "namespace \"prod\"");
    assert_int_equal(f->sleeps.n, 0);
}

static void test_expired_continue(void **state)
{
    struct fx *f = *state;
    struct kube_ref r = {"v1", "configmaps", "prod", NULL};
    struct kube_list_opts o = {NULL, NULL, 2, restart_cb};
    struct kube_list_info info;
    struct cm_err err;

    connect_with(f, "good-token", false);
    add_configmaps(f, "prod", 5);
    fake_kube_requests_clear(f->srv);
    f->expire_after_first_page = true;
    assert_int_equal(kube_list(f->c, &r, &o, count_item, page_cb, f, &info, &err), 0);
    assert_int_equal(info.restarts, 1);
    assert_int_equal(f->items, 5);
    assert_int_equal(info.items, 5);
    /* first page, 410, then a fresh list of three pages */
    assert_int_equal(fake_kube_request_count(f->srv), 5);
    {
        struct fake_kube_request rq;

        assert_int_equal(fake_kube_request_get(f->srv, 1, &rq), 0);
        assert_int_equal(rq.status, 410);
        assert_int_equal(fake_kube_request_get(f->srv, 2, &rq), 0);
        assert_null(strstr(rq.query, "continue="));
    }
}

static void test_object_lifecycle(void **state)
{
    struct fx *f = *state;
    struct kube_ref r = {"coordination.k8s.io/v1", "leases", "lockwarden", NULL};
    struct cm_err err;
    cJSON *lease = cJSON_Parse("{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
                               "\"metadata\":{\"name\":\"executor\"},\"spec\":{\"holderIdentity\":"
                               "\"a\",\"leaseDurationSeconds\":15}}");
    cJSON *out = NULL;
    cJSON *got = NULL;
    char rv[32];

    connect_with(f, "good-token", false);
    assert_int_equal(kube_create(f->c, &r, lease, &out, &err), 0);
    assert_non_null(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(out, "metadata"), "uid"));
    (void)snprintf(rv, sizeof(rv), "%s",
                   cJSON_GetObjectItemCaseSensitive(
                       cJSON_GetObjectItemCaseSensitive(out, "metadata"), "resourceVersion")
                       ->valuestring);
    cJSON_Delete(out);
    out = NULL;
    assert_int_equal(kube_create(f->c, &r, lease, NULL, &err), CM_EEXIST);
    assert_non_null(strstr(err.msg, "already exists: cannot create leases.coordination.k8s.io "
                                    "in namespace lockwarden: leases.coordination.k8s.io "
                                    "\"executor\" already exists"));

    /* Optimistic concurrency: a stale resourceVersion conflicts, the current one wins. */
    r.name = "executor";
    cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(lease, "metadata"), "resourceVersion",
                            "1");
    assert_int_equal(kube_update(f->c, &r, lease, NULL, &err), CM_EAGAIN);
    assert_non_null(strstr(err.msg, "conflict: cannot update leases.coordination.k8s.io "
                                    "executor in namespace lockwarden: Operation cannot be "
                                    "fulfilled"));
    cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(lease, "metadata"),
                                           "resourceVersion", cJSON_CreateString(rv));
    cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(lease, "spec"),
                                           "holderIdentity", cJSON_CreateString("b"));
    assert_int_equal(kube_update(f->c, &r, lease, &out, &err), 0);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(
                         cJSON_GetObjectItemCaseSensitive(out, "metadata"), "generation")
                         ->valueint,
                     2);
    cJSON_Delete(out);
    out = NULL;
    /* The same update again is now stale. */
    assert_int_equal(kube_update(f->c, &r, lease, NULL, &err), CM_EAGAIN);

    {
        static const char patch[] = "{\"metadata\":{\"annotations\":{\"x\":\"y\"}},"
                                    "\"spec\":{\"leaseDurationSeconds\":null}}";

        assert_int_equal(kube_patch(f->c, &r, KUBE_PATCH_MERGE, patch, strlen(patch), NULL, &err),
                         0);
    }
    assert_int_equal(kube_get(f->c, &r, &got, &err), 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(
                            cJSON_GetObjectItemCaseSensitive(
                                cJSON_GetObjectItemCaseSensitive(got, "metadata"), "annotations"),
                            "x")
                            ->valuestring,
                        "y");
    assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(got, "spec"),
                                                 "leaseDurationSeconds"));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(
                            cJSON_GetObjectItemCaseSensitive(got, "spec"), "holderIdentity")
                            ->valuestring,
                        "b");
    cJSON_Delete(got);
    got = NULL;
    assert_int_equal(kube_delete(f->c, &r, "Background", &err), 0);
    assert_int_equal(kube_get(f->c, &r, &got, &err), CM_ENOENT);
    assert_non_null(strstr(err.msg, "leases.coordination.k8s.io \"executor\" not found"));
    assert_int_equal(kube_delete(f->c, &r, NULL, &err), CM_ENOENT);
    assert_int_equal(fake_kube_verb_count(f->srv, "create"), 2);
    assert_int_equal(fake_kube_verb_count(f->srv, "update"), 3);
    cJSON_Delete(lease);
}

static void test_big_list(void **state)
{
    struct fx *f = *state;
    struct kube_ref r = {"v1", "configmaps", NULL, NULL};
    struct kube_list_opts o = {NULL, NULL, 500, NULL};
    struct kube_list_info info;
    struct cm_err err;
    size_t i;

    connect_with(f, "good-token", false);
    add_configmaps(f, "big", 2000);
    fake_kube_requests_clear(f->srv);
    assert_int_equal(kube_list(f->c, &r, &o, count_item, NULL, f, &info, &err), 0);
    assert_int_equal(f->items, 2000);
    assert_int_equal(info.pages, 4);
    assert_int_equal(fake_kube_request_count(f->srv), 4);
    for (i = 0; i < 2000; i++) {
        char want[16];

        (void)snprintf(want, sizeof(want), "cm-%04zu", i);
        assert_string_equal(f->seen[i], want); /* each once, in order */
    }
}

static void test_truncated_body(void **state)
{
    struct fx *f = *state;
    struct kube_ref r = {"v1", "pods", "a", NULL};
    struct fake_kube_rule rule = {"GET", "/pods", NULL, FAKE_KUBE_FAULT_TRUNCATE, 1, 0};
    struct cm_err err;

    connect_with(f, "good-token", false);
    assert_int_equal(fake_kube_inject(f->srv, &rule), 0);
    assert_int_equal(kube_list(f->c, &r, NULL, NULL, NULL, NULL, NULL, &err), CM_EPROTO);
    assert_non_null(strstr(err.msg, "not valid JSON"));
}

/* tls-server-name: SNI and the certificate check use the given name while the
 * connection goes to the server's address (the certificate has DNS:localhost). */
static void test_tls_server_name(void **state)
{
    struct fx *f = *state;
    struct kube_client *c = NULL;
    struct cm_err err;
    char text[8192];
    char *ca64 = cm_base64_encode(fake_kube_ca_pem(f->srv), strlen(fake_kube_ca_pem(f->srv)), NULL);
    const char *names[] = {"localhost", "wrong.example"};
    size_t i;

    assert_non_null(ca64);
    for (i = 0; i < 2; i++) {
        cJSON *out = NULL;
        int rc;

        (void)snprintf(text, sizeof(text),
                       "current-context: a\nclusters:\n- name: c\n  cluster:\n    server: %s\n"
                       "    certificate-authority-data: %s\n    tls-server-name: %s\n"
                       "users:\n- name: u\n  user: {token: good-token}\n"
                       "contexts:\n- name: a\n  context: {cluster: c, user: u}\n",
                       fake_kube_url(f->srv), ca64, names[i]);
        kube_config_destroy(f->cfg);
        f->cfg = NULL;
        assert_int_equal(
            kube_config_parse_kubeconfig("k", text, strlen(text), NULL, NULL, &f->cfg, &err), 0);
        kube_config_set_sleep(f->cfg, kube_test_sleep_record, &f->sleeps);
        assert_int_equal(kube_client_create(f->cfg, &c, &err), 0);
        rc = kube_request(c, "GET", "/version", NULL, 0, NULL, NULL, &out, &err);
        if (i == 0) {
            assert_int_equal(rc, 0);
            cJSON_Delete(out);
        } else {
            assert_int_equal(rc, CM_ETLS);
            assert_non_null(strstr(err.msg, "TLS error"));
        }
        kube_client_destroy(c);
        c = NULL;
    }
    assert_int_equal(f->sleeps.n, 0);
    cm_free(ca64);
}

/* Nothing listening: refused connections are retried, then CM_ECONN. */
static void test_connection_refused(void **state)
{
    struct fx *f = *state;
    struct fake_kube *gone = NULL;
    char url[64];
    struct cm_err err;

    assert_int_equal(fake_kube_start(NULL, &gone), 0);
    (void)snprintf(url, sizeof(url), "%s", fake_kube_url(gone));
    fake_kube_stop(gone);
    assert_int_equal(kube_config_create(url, &f->cfg, &err), 0);
    kube_config_set_sleep(f->cfg, kube_test_sleep_record, &f->sleeps);
    kube_config_set_retry(f->cfg, 3, 50, 1000, 0);
    assert_int_equal(kube_client_create(f->cfg, &f->c, &err), 0);
    assert_int_equal(kube_request(f->c, "GET", "/version", NULL, 0, NULL, NULL, NULL, &err),
                     CM_ECONN);
    assert_non_null(strstr(err.msg, "gave up after 3 attempts"));
    assert_non_null(strstr(err.msg, url));
    assert_int_equal(f->sleeps.n, 2);
}

/* A peer that accepts but never answers: the transfer timeout ends each attempt
 * (CM_ETIMEDOUT), which is retried like any transient failure. The listener never
 * calls accept(); the kernel completes the handshakes from its backlog. */
static void test_slow_peer_timeout(void **state)
{
    struct fx *f = *state;
    char url[64];
    struct cm_err err;
    int fd = bte_silent_listener(url, sizeof(url));

    assert_true(fd >= 0);
    assert_int_equal(kube_config_create(url, &f->cfg, &err), 0);
    kube_config_set_sleep(f->cfg, kube_test_sleep_record, &f->sleeps);
    kube_config_set_retry(f->cfg, 2, 10, 100, 0);
    kube_config_set_timeouts(f->cfg, 1000, 300);
    assert_int_equal(kube_client_create(f->cfg, &f->c, &err), 0);
    assert_int_equal(kube_request(f->c, "GET", "/version", NULL, 0, NULL, NULL, NULL, &err),
                     CM_ETIMEDOUT);
    assert_non_null(strstr(err.msg, "gave up after 2 attempts"));
    assert_int_equal(f->sleeps.n, 1);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tls_and_ca, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutual_tls, setup_mtls, teardown),
        cmocka_unit_test_setup_teardown(test_in_cluster_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_discovery_with_crd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_429_retry_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_500_and_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forbidden_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_continue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_object_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_server_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_peer_timeout, setup, teardown),
    };

    policy_json_hooks_install();
    cm_log_set_level(CM_LOG_OFF);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
