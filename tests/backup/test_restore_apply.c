/* SPDX-License-Identifier: Apache-2.0 */
/* test_restore_apply.c - applying a verified restore point to the fake kube-apiserver:
 * dependency order as the API server sees it (CRD first, its custom resources last,
 * after discovery is refreshed), controller-owned objects skipped, the clone's
 * snapshot import, a PVC whose snapshot is gone failed rather than created empty, a PVC
 * without a snapshot reported as empty, an unserved kind failed, dry run read-only,
 * --existing update, and a discovery failure that stops the run. */
#include "backup/backup.h"
#include "backup/kube/kube.h"
#include "tests/support/fake_kube.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#define ID "20261122T093000Z-1a2b3c4d"

static const char *const objects_json[] = {
    /* deliberately in reverse dependency order */
    "{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"blue\","
    "\"namespace\":\"shop\"},\"spec\":{\"size\":3}}",
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"web-1\","
    "\"namespace\":\"shop\",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":"
    "\"Deployment\",\"name\":\"web\",\"uid\":\"u\",\"controller\":true}]},\"spec\":{}}",
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
    "\"namespace\":\"shop\"},\"spec\":{\"replicas\":1}}",
    "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\",\"namespace\":"
    "\"shop\"},\"spec\":{\"clusterIP\":\"10.0.0.1\",\"ports\":[{\"port\":80}]}}",
    "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"data\","
    "\"namespace\":\"shop\"},\"spec\":{\"volumeName\":\"pv-1\",\"resources\":{\"requests\":{"
    "\"storage\":\"1Gi\"}}}}",
    "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":"
    "\"scratch\",\"namespace\":\"shop\"},\"spec\":{}}",
    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\",\"namespace\":"
    "\"shop\"},\"data\":{\"a\":\"b\"}}",
    "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\",\"namespace\":"
    "\"shop\"},\"data\":{\"k\":\"dg==\"}}",
    "{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\",\"metadata\":{\"name\":\"sa\","
    "\"namespace\":\"shop\"}}",
    "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"shop\"}}",
    "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
    "\"metadata\":{\"name\":\"widgets.example.com\"},\"spec\":{\"group\":\"example.com\","
    "\"scope\":\"Namespaced\",\"names\":{\"plural\":\"widgets\",\"singular\":\"widget\","
    "\"kind\":\"Widget\",\"listKind\":\"WidgetList\"},\"versions\":[{\"name\":\"v1\","
    "\"served\":true,\"storage\":true}]}}",
};

static const char content_json[] =
    "{\"apiVersion\":\"snapshot.storage.k8s.io/v1\",\"kind\":\"VolumeSnapshotContent\","
    "\"metadata\":{\"name\":\"snapcontent-1\"},\"spec\":{\"driver\":\"fake.csi\","
    "\"deletionPolicy\":\"Delete\",\"source\":{\"volumeHandle\":\"v\"},\"volumeSnapshotRef\":{"
    "\"name\":\"lw-snap\",\"namespace\":\"shop\"}},\"status\":{\"snapshotHandle\":\"h-1\","
    "\"readyToUse\":true}}";

struct fx {
    struct fake_kube *fk;
    struct kube_config *cfg;
    struct kube_client *kc;
    struct backup_restore_point *rp;
    struct backup_restore_result *res;
};

static void no_sleep(uint64_t ms, void *ctx)
{
    (void)ms;
    (void)ctx;
}

static int setup(void **state)
{
    static struct fx fx;
    struct backup_mf_snapshot snap = {.pvc = "data",
                                      .volume_snapshot = "lw-snap",
                                      .volume_snapshot_class = "",
                                      .volume_snapshot_content = "snapcontent-1",
                                      .restore_size = "1Gi",
                                      .storage_class = "",
                                      .volume_name = "pv-1"};
    size_t i;

    memset(&fx, 0, sizeof(fx));
    if (fake_kube_start(NULL, &fx.fk) != 0 ||
        kube_config_create(fake_kube_url(fx.fk), &fx.cfg, NULL) != 0)
        return -1;
    kube_config_set_retry(fx.cfg, 1, 1, 1, 0);
    kube_config_set_sleep(fx.cfg, no_sleep, NULL);
    if (kube_client_create(fx.cfg, &fx.kc, NULL) != 0 ||
        fake_kube_add_object_json(fx.fk, content_json) != 1)
        return -1;
    fx.rp = cm_calloc(1, sizeof(*fx.rp));
    if (fx.rp == NULL || backup_manifest_create(ID, "shop", "goldpolicy", &fx.rp->mf) != 0 ||
        backup_manifest_add_snapshot(fx.rp->mf, &snap) != 0)
        return -1;
    fx.rp->objects = cm_calloc(CM_ARRAY_LEN(objects_json), sizeof(cJSON *));
    if (fx.rp->objects == NULL)
        return -1;
    for (i = 0; i < CM_ARRAY_LEN(objects_json); i++) {
        fx.rp->objects[i] = cJSON_Parse(objects_json[i]);
        if (fx.rp->objects[i] == NULL)
            return -1;
        fx.rp->n_objects++;
    }
    if (backup_restore_result_create(&fx.res) != 0)
        return -1;
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;

    backup_restore_result_destroy(fx->res);
    backup_restore_point_destroy(fx->rp);
    kube_client_destroy(fx->kc);
    kube_config_destroy(fx->cfg);
    fake_kube_stop(fx->fk);
    return 0;
}

static const struct backup_restore_item *item(const struct fx *fx, const char *kind,
                                              const char *name)
{
    size_t i;

    for (i = 0; i < backup_restore_result_count(fx->res); i++) {
        const struct backup_restore_item *it = backup_restore_result_get(fx->res, i);

        if (strcmp(it->kind, kind) == 0 && strcmp(it->name, name) == 0)
            return it;
    }
    fail_msg("no result for %s %s", kind, name);
    return NULL;
}

/* Index in the request log of the first POST whose path ends with suffix. */
static size_t post_index(struct fake_kube *fk, const char *suffix)
{
    size_t i;
    size_t n = fake_kube_request_count(fk);
    size_t sl = strlen(suffix);

    for (i = 0; i < n; i++) {
        struct fake_kube_request r;
        size_t pl;

        assert_int_equal(fake_kube_request_get(fk, i, &r), 0);
        pl = strlen(r.path);
        if (strcmp(r.method, "POST") == 0 && pl >= sl && strcmp(r.path + pl - sl, suffix) == 0)
            return i;
    }
    fail_msg("no POST to ...%s", suffix);
    return 0;
}

static void test_clone_order_and_outcomes(void **state)
{
    struct fx *fx = *state;
    struct backup_restore_nsmap m;
    struct backup_restore_opts o;
    struct cm_err err;
    const char *order[] = {
        "/customresourcedefinitions",       "/namespaces",
        "/namespaces/copy/serviceaccounts", "/namespaces/copy/secrets",
        "/namespaces/copy/configmaps",      "/volumesnapshotcontents",
        "/namespaces/copy/volumesnapshots", "/namespaces/copy/persistentvolumeclaims",
        "/namespaces/copy/services",        "/namespaces/copy/deployments",
        "/namespaces/copy/widgets"};
    size_t i;
    cJSON *pvc;

    backup_restore_nsmap_init(&m);
    assert_int_equal(backup_restore_nsmap_add(&m, "shop=copy", &err), 0);
    memset(&o, 0, sizeof(o));
    o.nsmap = &m;
    assert_int_equal(backup_restore_apply(fx->kc, fx->rp, &o, fx->res, &err), 0);
    for (i = 1; i < CM_ARRAY_LEN(order); i++) {
        if (post_index(fx->fk, order[i - 1]) >= post_index(fx->fk, order[i]))
            fail_msg("%s was created after %s", order[i - 1], order[i]);
    }
    assert_int_equal(item(fx, "ReplicaSet", "web-1")->status, BACKUP_RESTORE_SKIPPED);
    assert_string_equal(item(fx, "ReplicaSet", "web-1")->detail, "recreated by its controller");
    assert_int_equal(item(fx, "Widget", "blue")->status, BACKUP_RESTORE_CREATED);
    assert_string_equal(item(fx, "Widget", "blue")->ns, "copy");
    assert_int_equal(item(fx, "Namespace", "copy")->status, BACKUP_RESTORE_CREATED);
    assert_int_equal(item(fx, "PersistentVolumeClaim", "data")->status, BACKUP_RESTORE_CREATED);
    assert_int_equal(item(fx, "PersistentVolumeClaim", "scratch")->status, BACKUP_RESTORE_CREATED);
    assert_non_null(strstr(item(fx, "PersistentVolumeClaim", "scratch")->detail, "created empty"));
    assert_int_equal(backup_restore_result_tally(fx->res, BACKUP_RESTORE_FAILED), 0);
    pvc = fake_kube_get_object(fx->fk, "v1", "PersistentVolumeClaim", "copy", "data");
    assert_non_null(pvc);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(
                            cJSON_GetObjectItemCaseSensitive(
                                cJSON_GetObjectItemCaseSensitive(pvc, "spec"), "dataSource"),
                            "name")
                            ->valuestring,
                        "lw-r-"
                        "20261122t093000z-1a2b3c4d-data");
    cJSON_Delete(pvc);
    /* The source namespace was not touched. */
    assert_int_equal(fake_kube_count_objects(fx->fk, "apps/v1", "deployments", "shop"), 0);
}

static void test_snapshot_gone_fails_the_claim(void **state)
{
    struct fx *fx = *state;
    struct backup_restore_nsmap m;
    struct backup_restore_opts o;
    struct cm_err err;
    const struct backup_restore_item *it;

    assert_int_equal(fake_kube_delete_object(fx->fk, "snapshot.storage.k8s.io/v1",
                                             "volumesnapshotcontents", NULL, "snapcontent-1"),
                     0);
    backup_restore_nsmap_init(&m);
    assert_int_equal(backup_restore_nsmap_add(&m, "shop=other", &err), 0);
    memset(&o, 0, sizeof(o));
    o.nsmap = &m;
    assert_int_equal(backup_restore_apply(fx->kc, fx->rp, &o, fx->res, &err), 0);
    it = item(fx, "PersistentVolumeClaim", "data");
    assert_int_equal(it->status, BACKUP_RESTORE_FAILED);
    assert_non_null(strstr(it->detail, "not restored without its data"));
    assert_non_null(strstr(it->detail, "snapcontent-1"));
    assert_null(fake_kube_get_object(fx->fk, "v1", "PersistentVolumeClaim", "other", "data"));
    /* Everything else still went in. */
    assert_int_equal(item(fx, "Deployment", "web")->status, BACKUP_RESTORE_CREATED);
    assert_int_equal(backup_restore_result_tally(fx->res, BACKUP_RESTORE_FAILED), 1);
}

static void test_unserved_kind_fails(void **state)
{
    struct fx *fx = *state;
    struct backup_restore_opts o;
    struct cm_err err;
    cJSON *gadget = cJSON_Parse("{\"apiVersion\":\"nosuch.io/v1\",\"kind\":\"Gadget\","
                                "\"metadata\":{\"name\":\"g\",\"namespace\":\"shop\"}}");
    cJSON **objs = cm_realloc(fx->rp->objects, (fx->rp->n_objects + 1) * sizeof(*objs));

    assert_non_null(objs);
    fx->rp->objects = objs;
    fx->rp->objects[fx->rp->n_objects++] = gadget;
    memset(&o, 0, sizeof(o));
    assert_int_equal(backup_restore_apply(fx->kc, fx->rp, &o, fx->res, &err), 0);
    assert_int_equal(item(fx, "Gadget", "g")->status, BACKUP_RESTORE_FAILED);
    assert_non_null(strstr(item(fx, "Gadget", "g")->detail, "does not serve nosuch.io/v1 Gadget"));
    /* In place: the captured VolumeSnapshot is gone from this fake, so it was imported. */
    assert_int_equal(item(fx, "PersistentVolumeClaim", "data")->status, BACKUP_RESTORE_CREATED);
}

static void test_dry_run_then_update(void **state)
{
    struct fx *fx = *state;
    struct backup_restore_opts o;
    struct cm_err err;
    cJSON *cm;

    memset(&o, 0, sizeof(o));
    o.dry_run = true;
    fake_kube_requests_clear(fx->fk);
    assert_int_equal(backup_restore_apply(fx->kc, fx->rp, &o, fx->res, &err), 0);
    assert_int_equal(
        fake_kube_verb_count(fx->fk, "create") + fake_kube_verb_count(fx->fk, "update"), 0);
    assert_int_equal(item(fx, "ConfigMap", "cfg")->status, BACKUP_RESTORE_PLANNED);
    assert_string_equal(item(fx, "ConfigMap", "cfg")->detail, "would create");
    assert_int_equal(backup_restore_result_tally(fx->res, BACKUP_RESTORE_CREATED), 0);
    assert_int_equal(backup_restore_result_tally(fx->res, BACKUP_RESTORE_FAILED), 0);
    /* Its CRD is only planned, so discovery cannot know Widget yet: still planned. */
    assert_int_equal(item(fx, "Widget", "blue")->status, BACKUP_RESTORE_PLANNED);
    assert_non_null(strstr(item(fx, "Widget", "blue")->detail, "CustomResourceDefinition"));

    /* Real run, then a drifted object is put back with --existing update. */
    backup_restore_result_destroy(fx->res);
    assert_int_equal(backup_restore_result_create(&fx->res), 0);
    o.dry_run = false;
    assert_int_equal(backup_restore_apply(fx->kc, fx->rp, &o, fx->res, &err), 0);
    assert_int_equal(fake_kube_add_object_json(
                         fx->fk,
                         "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{"
                         "\"name\":\"cfg\",\"namespace\":\"shop\"},\"data\":{\"a\":\"x\"}}"),
                     1);
    backup_restore_result_destroy(fx->res);
    assert_int_equal(backup_restore_result_create(&fx->res), 0);
    o.update_existing = true;
    assert_int_equal(backup_restore_apply(fx->kc, fx->rp, &o, fx->res, &err), 0);
    assert_int_equal(item(fx, "ConfigMap", "cfg")->status, BACKUP_RESTORE_UPDATED);
    cm = fake_kube_get_object(fx->fk, "v1", "ConfigMap", "shop", "cfg");
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cm, "data"), "a")
            ->valuestring,
        "b");
    cJSON_Delete(cm);
    /* A dry run of an update plans it. */
    backup_restore_result_destroy(fx->res);
    assert_int_equal(backup_restore_result_create(&fx->res), 0);
    o.dry_run = true;
    assert_int_equal(backup_restore_apply(fx->kc, fx->rp, &o, fx->res, &err), 0);
    assert_string_equal(item(fx, "ConfigMap", "cfg")->detail, "exists: would update");
}

static void test_discovery_failure_stops(void **state)
{
    struct fx *fx = *state;
    struct backup_restore_opts o;
    struct fake_kube_rule rule;
    struct cm_err err;

    memset(&rule, 0, sizeof(rule));
    rule.method = "GET";
    rule.path = "/api";
    rule.fault = FAKE_KUBE_FAULT_403;
    assert_int_equal(fake_kube_inject(fx->fk, &rule), 0);
    memset(&o, 0, sizeof(o));
    assert_int_equal(backup_restore_apply(fx->kc, fx->rp, &o, fx->res, &err), CM_EAUTH);
    assert_int_equal(backup_restore_result_count(fx->res), 0);
    fake_kube_clear_faults(fx->fk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clone_order_and_outcomes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_gone_fails_the_claim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unserved_kind_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dry_run_then_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_discovery_failure_stops, setup, teardown),
    };

    policy_json_hooks_install();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
