/* SPDX-License-Identifier: Apache-2.0 */
/* test_restore_plan.c - unit tests of restore planning: dependency order, namespace
 * maps (limits both sides), dropped cluster-assigned fields, PVCs from snapshots,
 * derived objects, snapshot import objects, and the per-resource result report. */
#include "backup/backup.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

static cJSON *parse(const char *s)
{
    cJSON *j = cJSON_Parse(s);

    assert_non_null(j);
    return j;
}

static const cJSON *at(const cJSON *o, const char *path)
{
    char buf[256];
    char *p = buf;
    char *dot;

    snprintf(buf, sizeof(buf), "%s", path);
    while (o != NULL && (dot = strchr(p, '.')) != NULL) {
        *dot = '\0';
        o = cJSON_GetObjectItemCaseSensitive(o, p);
        p = dot + 1;
    }
    return o != NULL ? cJSON_GetObjectItemCaseSensitive(o, p) : NULL;
}

static const char *sat(const cJSON *o, const char *path)
{
    const cJSON *v = at(o, path);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void test_rank(void **state)
{
    (void)state;
    assert_int_equal(backup_restore_rank_of("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
                     BACKUP_RANK_CRD);
    assert_int_equal(backup_restore_rank_of("v1", "Namespace"), BACKUP_RANK_NAMESPACE);
    assert_int_equal(backup_restore_rank_of("v1", "ServiceAccount"), BACKUP_RANK_SERVICEACCOUNT);
    assert_int_equal(backup_restore_rank_of("v1", "Secret"), BACKUP_RANK_SECRET);
    assert_int_equal(backup_restore_rank_of("v1", "ConfigMap"), BACKUP_RANK_CONFIGMAP);
    assert_int_equal(backup_restore_rank_of("v1", "PersistentVolumeClaim"), BACKUP_RANK_PVC);
    assert_int_equal(backup_restore_rank_of("v1", "Service"), BACKUP_RANK_SERVICE);
    assert_int_equal(backup_restore_rank_of("apps/v1", "Deployment"), BACKUP_RANK_WORKLOAD);
    assert_int_equal(backup_restore_rank_of("batch/v1", "CronJob"), BACKUP_RANK_WORKLOAD);
    assert_int_equal(backup_restore_rank_of("networking.k8s.io/v1", "Ingress"), BACKUP_RANK_OTHER);
    assert_int_equal(backup_restore_rank_of("policy/v1", "PodDisruptionBudget"), BACKUP_RANK_OTHER);
    /* A custom group, even with a built-in kind name, is a custom resource. */
    assert_int_equal(backup_restore_rank_of("example.com/v1", "Deployment"), BACKUP_RANK_CUSTOM);
    assert_int_equal(backup_restore_rank_of("lockwarden.io/v1alpha1", "BackupPolicy"),
                     BACKUP_RANK_CUSTOM);
    assert_int_equal(backup_restore_rank_of(NULL, NULL), BACKUP_RANK_CUSTOM);
    assert_string_equal(backup_restore_rank_name(BACKUP_RANK_PVC), "pvc");
    assert_string_equal(backup_restore_rank_name(BACKUP_RANK_COUNT_), "?");
}

static void test_sort_dependency_order(void **state)
{
    const char *in[] = {
        "{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"w\"}}",
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d1\"}}",
        "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"s\"}}",
        "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"p\"}}",
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"}}",
        "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"x\"}}",
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"d2\"}}",
        "{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\",\"metadata\":{\"name\":\"sa\"}}",
        "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"ns\"}}",
        "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
        "\"metadata\":{\"name\":\"crd\"}}",
    };
    const char *want[] = {"crd", "ns", "sa", "x", "c", "p", "s", "d1", "d2", "w"};
    cJSON *objs[CM_ARRAY_LEN(in)];
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(in); i++)
        objs[i] = parse(in[i]);
    assert_int_equal(backup_restore_sort(objs, CM_ARRAY_LEN(objs)), 0);
    for (i = 0; i < CM_ARRAY_LEN(in); i++) {
        assert_string_equal(sat(objs[i], "metadata.name"), want[i]);
        cJSON_Delete(objs[i]);
    }
    assert_int_equal(backup_restore_sort(NULL, 0), 0);
}

static void test_sort_oom(void **state)
{
    cJSON *objs[2];

    (void)state;
    objs[0] = parse("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\"}");
    objs[1] = parse("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\"}");
    cm_alloc_fault_set(1);
    assert_int_equal(backup_restore_sort(objs, 2), CM_ENOMEM);
    cm_alloc_fault_set(2);
    assert_int_equal(backup_restore_sort(objs, 2), CM_ENOMEM);
    cm_alloc_fault_set(0);
    assert_string_equal(sat(objs[0], "kind"), "Deployment"); /* unchanged */
    assert_int_equal(backup_restore_sort(objs, 2), 0);
    assert_string_equal(sat(objs[0], "kind"), "Namespace");
    cJSON_Delete(objs[0]);
    cJSON_Delete(objs[1]);
}

static void test_nsmap(void **state)
{
    struct backup_restore_nsmap m;
    struct cm_err err;
    char spec[200];
    char big[80];
    int i;

    (void)state;
    backup_restore_nsmap_init(&m);
    assert_int_equal(backup_restore_nsmap_add(&m, "prod=test", &err), 0);
    assert_string_equal(backup_restore_nsmap_apply(&m, "prod"), "test");
    assert_string_equal(backup_restore_nsmap_apply(&m, "other"), "other");
    assert_null(backup_restore_nsmap_apply(&m, NULL));
    assert_int_equal(backup_restore_nsmap_add(&m, "prod=again", &err), CM_EINVAL);
    assert_non_null(strstr(err.msg, "mapped twice"));
    assert_int_equal(backup_restore_nsmap_add(&m, "noequals", &err), CM_EINVAL);
    assert_int_equal(backup_restore_nsmap_add(&m, "=x", &err), CM_EINVAL);
    assert_int_equal(backup_restore_nsmap_add(&m, "x=", &err), CM_EINVAL);
    assert_int_equal(backup_restore_nsmap_add(&m, "Prod=x", &err), CM_EINVAL);
    assert_int_equal(backup_restore_nsmap_add(&m, "-a=x", &err), CM_EINVAL);
    assert_int_equal(backup_restore_nsmap_add(&m, "a=b-", &err), CM_EINVAL);
    assert_int_equal(backup_restore_nsmap_add(&m, "a/b=c", &err), CM_EINVAL);
    assert_int_equal(backup_restore_nsmap_add(&m, NULL, &err), CM_EINVAL);
    /* Name length: 63 passes, 64 fails. */
    memset(big, 'a', 63);
    big[63] = '\0';
    snprintf(spec, sizeof(spec), "long=%s", big);
    assert_int_equal(backup_restore_nsmap_add(&m, spec, &err), 0);
    snprintf(spec, sizeof(spec), "long2=%sa", big);
    assert_int_equal(backup_restore_nsmap_add(&m, spec, &err), CM_EINVAL);
    assert_int_equal(m.n, 2);
    /* Count: BACKUP_RESTORE_MAX_NSMAP passes, one more fails. */
    for (i = 2; i < BACKUP_RESTORE_MAX_NSMAP; i++) {
        snprintf(spec, sizeof(spec), "n%d=m%d", i, i);
        assert_int_equal(backup_restore_nsmap_add(&m, spec, &err), 0);
    }
    assert_int_equal(backup_restore_nsmap_add(&m, "one=more", &err), CM_ETOOBIG);
    assert_int_equal(m.n, BACKUP_RESTORE_MAX_NSMAP);
}

static void test_sanitize_service(void **state)
{
    struct backup_restore_nsmap m;
    cJSON *svc =
        parse("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\","
              "\"namespace\":\"prod\",\"uid\":\"u\",\"resourceVersion\":\"9\","
              "\"creationTimestamp\":\"2026-01-01T00:00:00Z\",\"managedFields\":[],"
              "\"ownerReferences\":[{\"uid\":\"x\"}],\"labels\":{\"app\":\"web\"}},"
              "\"spec\":{\"type\":\"NodePort\",\"clusterIP\":\"10.0.0.7\","
              "\"clusterIPs\":[\"10.0.0.7\"],\"healthCheckNodePort\":31000,"
              "\"ports\":[{\"port\":80,\"nodePort\":30080}],\"selector\":{\"app\":\"web\"}},"
              "\"status\":{\"loadBalancer\":{}}}");
    cJSON *headless = parse("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":"
                            "\"db\",\"namespace\":\"other\"},\"spec\":{\"clusterIP\":\"None\","
                            "\"clusterIPs\":[\"None\"]}}");
    struct cm_err err;

    (void)state;
    backup_restore_nsmap_init(&m);
    assert_int_equal(backup_restore_nsmap_add(&m, "prod=test", &err), 0);
    assert_int_equal(backup_restore_sanitize(svc, &m, NULL, &err), 0);
    assert_string_equal(sat(svc, "metadata.namespace"), "test");
    assert_null(at(svc, "metadata.uid"));
    assert_null(at(svc, "metadata.resourceVersion"));
    assert_null(at(svc, "metadata.creationTimestamp"));
    assert_null(at(svc, "metadata.managedFields"));
    assert_null(at(svc, "metadata.ownerReferences"));
    assert_null(at(svc, "status"));
    assert_null(at(svc, "spec.clusterIP"));
    assert_null(at(svc, "spec.clusterIPs"));
    assert_null(at(svc, "spec.healthCheckNodePort"));
    assert_null(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(at(svc, "spec.ports"), 0), "nodePort"));
    assert_int_equal(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(at(svc, "spec.ports"), 0), "port")
            ->valueint,
        80);
    assert_string_equal(sat(svc, "spec.selector.app"), "web");
    assert_string_equal(sat(svc, "metadata.labels.app"), "web");
    assert_string_equal(sat(svc, "spec.type"), "NodePort");

    assert_int_equal(backup_restore_sanitize(headless, &m, NULL, &err), 0);
    assert_string_equal(sat(headless, "spec.clusterIP"), "None");      /* headless stays headless */
    assert_string_equal(sat(headless, "metadata.namespace"), "other"); /* unmapped */
    cJSON_Delete(svc);
    cJSON_Delete(headless);
}

static void test_sanitize_pvc_from_snapshot(void **state)
{
    cJSON *pvc =
        parse("{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{"
              "\"name\":\"data\",\"namespace\":\"prod\",\"annotations\":{"
              "\"pv.kubernetes.io/bind-completed\":\"yes\",\"keep\":\"me\","
              "\"volume.kubernetes.io/selected-node\":\"n1\"}},\"spec\":{\"volumeName\":"
              "\"pvc-123\",\"accessModes\":[\"ReadWriteOnce\"],\"resources\":{\"requests\":"
              "{\"storage\":\"1Gi\"}},\"dataSourceRef\":{\"kind\":\"X\",\"name\":\"y\"}}}");
    cJSON *plain = parse("{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{"
                         "\"name\":\"scratch\"},\"spec\":{\"volumeName\":\"pvc-9\"}}");
    struct cm_err err;

    (void)state;
    assert_int_equal(backup_restore_sanitize(pvc, NULL, "lw-snap", &err), 0);
    assert_null(at(pvc, "spec.volumeName"));
    assert_null(at(pvc, "spec.dataSourceRef"));
    assert_string_equal(sat(pvc, "spec.dataSource.kind"), "VolumeSnapshot");
    assert_string_equal(sat(pvc, "spec.dataSource.apiGroup"), "snapshot.storage.k8s.io");
    assert_string_equal(sat(pvc, "spec.dataSource.name"), "lw-snap");
    assert_null(cJSON_GetObjectItemCaseSensitive(at(pvc, "metadata.annotations"),
                                                 "pv.kubernetes.io/bind-completed"));
    assert_null(cJSON_GetObjectItemCaseSensitive(at(pvc, "metadata.annotations"),
                                                 "volume.kubernetes.io/selected-node"));
    assert_string_equal(sat(pvc, "metadata.annotations.keep"), "me");
    assert_string_equal(sat(pvc, "spec.resources.requests.storage"), "1Gi");
    assert_string_equal(sat(pvc, "metadata.namespace"), "prod");

    assert_int_equal(backup_restore_sanitize(plain, NULL, NULL, &err), 0);
    assert_null(at(plain, "spec.volumeName"));
    assert_null(at(plain, "spec.dataSource"));
    cJSON_Delete(pvc);
    cJSON_Delete(plain);
}

static void test_sanitize_namespace_pod_binding(void **state)
{
    struct backup_restore_nsmap m;
    struct cm_err err;
    cJSON *ns =
        parse("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"prod\","
              "\"labels\":{\"kubernetes.io/metadata.name\":\"prod\",\"team\":\"a\"}},"
              "\"spec\":{\"finalizers\":[\"kubernetes\"]},\"status\":{\"phase\":\"Active\"}}");
    cJSON *pod = parse("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
                       "\"namespace\":\"prod\"},\"spec\":{\"nodeName\":\"n1\",\"containers\":[]}}");
    cJSON *dep = parse("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":"
                       "\"d\",\"namespace\":\"prod\",\"generation\":4},\"spec\":{\"template\":{"
                       "\"spec\":{\"nodeName\":\"pinned\"}}}}");
    cJSON *rb =
        parse("{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"RoleBinding\","
              "\"metadata\":{\"name\":\"rb\",\"namespace\":\"prod\"},\"subjects\":[{\"kind\":"
              "\"ServiceAccount\",\"name\":\"app\",\"namespace\":\"prod\"},{\"kind\":"
              "\"ServiceAccount\",\"name\":\"mon\",\"namespace\":\"monitoring\"}]}");

    (void)state;
    backup_restore_nsmap_init(&m);
    assert_int_equal(backup_restore_nsmap_add(&m, "prod=staging", &err), 0);
    assert_int_equal(backup_restore_sanitize(ns, &m, NULL, &err), 0);
    assert_string_equal(sat(ns, "metadata.name"), "staging");
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(at(ns, "metadata.labels"), "kubernetes.io/metadata.name")
            ->valuestring,
        "staging");
    assert_string_equal(sat(ns, "metadata.labels.team"), "a");
    assert_null(at(ns, "spec"));
    assert_null(at(ns, "status"));

    assert_int_equal(backup_restore_sanitize(pod, &m, NULL, &err), 0);
    assert_null(at(pod, "spec.nodeName"));
    assert_string_equal(sat(pod, "metadata.namespace"), "staging");

    /* A template's nodeName is the user's choice, not the cluster's: kept. */
    assert_int_equal(backup_restore_sanitize(dep, &m, NULL, &err), 0);
    assert_string_equal(sat(dep, "spec.template.spec.nodeName"), "pinned");
    assert_null(at(dep, "metadata.generation"));

    assert_int_equal(backup_restore_sanitize(rb, &m, NULL, &err), 0);
    assert_string_equal(sat(cJSON_GetArrayItem(at(rb, "subjects"), 0), "namespace"), "staging");
    assert_string_equal(sat(cJSON_GetArrayItem(at(rb, "subjects"), 1), "namespace"), "monitoring");
    cJSON_Delete(ns);
    cJSON_Delete(pod);
    cJSON_Delete(dep);
    cJSON_Delete(rb);
}

static void test_sanitize_rejects_bad_objects(void **state)
{
    const char *bad[] = {"[]",
                         "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\"}}",
                         "{\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"x\"}}",
                         "{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}",
                         "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"\"}}",
                         "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":7}}"};
    size_t i;
    struct cm_err err;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(bad); i++) {
        cJSON *o = parse(bad[i]);

        assert_int_equal(backup_restore_sanitize(o, NULL, NULL, &err), CM_EINVAL);
        cJSON_Delete(o);
    }
}

static void test_sanitize_oom(void **state)
{
    long n;

    (void)state;
    for (n = 1;; n++) {
        struct backup_restore_nsmap m;
        cJSON *o = parse("{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{"
                         "\"name\":\"d\",\"namespace\":\"prod\"},\"spec\":{}}");
        int rc;

        backup_restore_nsmap_init(&m);
        assert_int_equal(backup_restore_nsmap_add(&m, "prod=test", NULL), 0);
        cm_alloc_fault_set(n);
        rc = backup_restore_sanitize(o, &m, "snap", NULL);
        cm_alloc_fault_set(0);
        cJSON_Delete(o);
        if (rc == 0)
            break;
        assert_int_equal(rc, CM_ENOMEM);
    }
    assert_true(n > 1);
}

static void test_derived(void **state)
{
    cJSON *pod = parse("{\"kind\":\"Pod\",\"metadata\":{\"ownerReferences\":[{\"kind\":"
                       "\"ReplicaSet\",\"controller\":true}]}}");
    cJSON *bare = parse("{\"kind\":\"Pod\",\"metadata\":{\"ownerReferences\":[{\"kind\":\"X\"}]}}");
    cJSON *ev = parse("{\"kind\":\"Event\",\"metadata\":{}}");
    const char *why = NULL;

    (void)state;
    assert_true(backup_restore_is_derived(pod, &why));
    assert_string_equal(why, "recreated by its controller");
    assert_false(backup_restore_is_derived(bare, &why));
    assert_true(backup_restore_is_derived(ev, NULL));
    cJSON_Delete(pod);
    cJSON_Delete(bare);
    cJSON_Delete(ev);
}

static void test_snapshot_name(void **state)
{
    char buf[BACKUP_RESTORE_NAME_MAX + 1];
    char pvc[300];

    (void)state;
    backup_restore_snapshot_name("20261122T093000Z-1a2b3c4d", NULL, "data-db-0", buf, sizeof(buf));
    assert_string_equal(buf, "lw-r-20261122t093000z-1a2b3c4d-data-db-0");
    backup_restore_snapshot_name("20261122T093000Z-1a2b3c4d", "test", "data-db-0", buf,
                                 sizeof(buf));
    assert_string_equal(buf, "lw-r-test-20261122t093000z-1a2b3c4d-data-db-0");
    memset(pvc, 'p', 260);
    pvc[260] = '\0';
    pvc[220] = '-';
    backup_restore_snapshot_name("20261122T093000Z-1a2b3c4d", "ns", pvc, buf, sizeof(buf));
    assert_int_equal(strlen(buf), BACKUP_RESTORE_NAME_MAX);
    assert_true(buf[strlen(buf) - 1] != '-');
}

static void test_snapshot_objects(void **state)
{
    struct backup_restore_snapref ref = {.ns = "prod",
                                         .pvc = "data",
                                         .snapshot = "lw-x-data",
                                         .content = "snapcontent-1",
                                         .snapshot_handle = "csi-handle-1",
                                         .driver = "hostpath.csi.k8s.io",
                                         .snapshot_class = "csi-snap"};
    cJSON *c = NULL;
    cJSON *s = NULL;
    struct cm_err err;
    long n;

    (void)state;
    assert_int_equal(backup_restore_snapshot_objects(&ref, "test", "lw-r-x-data",
                                                     "lw-r-test-x-data", &c, &s, &err),
                     0);
    assert_string_equal(sat(c, "kind"), "VolumeSnapshotContent");
    assert_string_equal(sat(c, "spec.source.snapshotHandle"), "csi-handle-1");
    assert_string_equal(sat(c, "spec.driver"), "hostpath.csi.k8s.io");
    assert_string_equal(sat(c, "spec.deletionPolicy"), "Retain");
    assert_string_equal(sat(c, "spec.volumeSnapshotRef.namespace"), "test");
    assert_string_equal(sat(c, "metadata.name"), "lw-r-test-x-data");
    assert_string_equal(sat(c, "spec.volumeSnapshotRef.name"), "lw-r-x-data");
    assert_string_equal(sat(s, "kind"), "VolumeSnapshot");
    assert_string_equal(sat(s, "metadata.namespace"), "test");
    assert_string_equal(sat(s, "metadata.name"), "lw-r-x-data");
    assert_string_equal(sat(s, "spec.source.volumeSnapshotContentName"), "lw-r-test-x-data");
    assert_string_equal(sat(s, "spec.volumeSnapshotClassName"), "csi-snap");
    cJSON_Delete(c);
    cJSON_Delete(s);

    ref.snapshot_handle = NULL;
    c = s = NULL;
    assert_int_equal(backup_restore_snapshot_objects(&ref, "test", "n", "cn", &c, &s, &err),
                     CM_EINVAL);
    assert_null(c);
    assert_non_null(strstr(err.msg, "PVC data"));
    ref.snapshot_handle = "h";
    for (n = 1;; n++) {
        int rc;

        cm_alloc_fault_set(n);
        rc = backup_restore_snapshot_objects(&ref, "test", "n", "cn", &c, &s, NULL);
        cm_alloc_fault_set(0);
        if (rc == 0)
            break;
        assert_int_equal(rc, CM_ENOMEM);
        assert_null(c);
    }
    cJSON_Delete(c);
    cJSON_Delete(s);
}

static void test_result_report(void **state)
{
    struct backup_restore_result *r = NULL;
    struct cm_buf b;
    cJSON *j;

    (void)state;
    assert_int_equal(backup_restore_result_create(&r), 0);
    assert_int_equal(
        backup_restore_result_add(r, "v1", "Namespace", "", "test", BACKUP_RESTORE_CREATED, NULL),
        0);
    assert_int_equal(backup_restore_result_add(r, "v1", "ConfigMap", "test", "cfg",
                                               BACKUP_RESTORE_SKIPPED, "already exists"),
                     0);
    assert_int_equal(backup_restore_result_add(r, "apps/v1", "Deployment", "test", "web\x1b",
                                               BACKUP_RESTORE_FAILED,
                                               "422 Invalid: \"spec\" bad\n"),
                     0);
    assert_int_equal(backup_restore_result_count(r), 3);
    assert_int_equal(backup_restore_result_tally(r, BACKUP_RESTORE_FAILED), 1);
    assert_string_equal(backup_restore_result_get(r, 1)->detail, "already exists");
    assert_null(backup_restore_result_get(r, 3));
    cm_buf_init(&b, 1 << 16);
    assert_int_equal(backup_restore_result_format(r, "20261122T093000Z-1a2b3c4d", false, false, &b),
                     0);
    assert_non_null(strstr(b.ptr, "created  Namespace test\n"));
    assert_non_null(strstr(b.ptr, "skipped  ConfigMap test/cfg: already exists\n"));
    assert_non_null(strstr(b.ptr, "failed   Deployment test/web?: 422 Invalid: \"spec\" bad?\n"));
    assert_non_null(strstr(b.ptr, "3 resources: 1 created, 0 updated, 1 skipped, 1 failed"));
    cm_buf_reset(&b);
    assert_int_equal(backup_restore_result_format(r, "id", true, true, &b), 0);
    j = cJSON_Parse(b.ptr);
    assert_non_null(j);
    assert_true(cJSON_IsTrue(at(j, "dryRun")));
    assert_int_equal(at(j, "summary.failed")->valueint, 1);
    assert_string_equal(sat(cJSON_GetArrayItem(at(j, "items"), 2), "name"), "web\x1b");
    assert_string_equal(sat(cJSON_GetArrayItem(at(j, "items"), 2), "status"), "failed");
    cJSON_Delete(j);
    cm_buf_free(&b);
    cm_buf_init(&b, 16);
    assert_int_equal(backup_restore_result_format(r, "id", false, false, &b), CM_ETOOBIG);
    assert_null(b.ptr);
    assert_string_equal(backup_restore_status_name(BACKUP_RESTORE_PLANNED), "planned");
    assert_string_equal(backup_restore_status_name(BACKUP_RESTORE_STATUS_COUNT_), "?");
    backup_restore_result_destroy(r);
    backup_restore_result_destroy(NULL);
}

static void test_result_oom(void **state)
{
    long n;

    (void)state;
    for (n = 1;; n++) {
        struct backup_restore_result *r = NULL;
        int rc;

        cm_alloc_fault_set(n);
        rc = backup_restore_result_create(&r);
        if (rc == 0)
            rc = backup_restore_result_add(r, "v1", "Secret", "a", "b", BACKUP_RESTORE_CREATED,
                                           NULL);
        cm_alloc_fault_set(0);
        backup_restore_result_destroy(r);
        if (rc == 0)
            break;
        assert_int_equal(rc, CM_ENOMEM);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rank),
        cmocka_unit_test(test_sort_dependency_order),
        cmocka_unit_test(test_sort_oom),
        cmocka_unit_test(test_nsmap),
        cmocka_unit_test(test_sanitize_service),
        cmocka_unit_test(test_sanitize_pvc_from_snapshot),
        cmocka_unit_test(test_sanitize_namespace_pod_binding),
        cmocka_unit_test(test_sanitize_rejects_bad_objects),
        cmocka_unit_test(test_sanitize_oom),
        cmocka_unit_test(test_derived),
        cmocka_unit_test(test_snapshot_name),
        cmocka_unit_test(test_snapshot_objects),
        cmocka_unit_test(test_result_report),
        cmocka_unit_test(test_result_oom),
    };

    policy_json_hooks_install();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
