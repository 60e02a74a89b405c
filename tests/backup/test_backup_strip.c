/* SPDX-License-Identifier: Apache-2.0 */
/* test_backup_strip.c - capture selection (what the cluster recreates), runtime-field
 * stripping and archive paths. */
#include "backup/backup.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static cJSON *J(const char *s)
{
    cJSON *j = cJSON_Parse(s);

    assert_non_null(j);
    return j;
}

static bool listed(const char **s, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(s[i], name) == 0)
            return true;
    }
    return false;
}

static void test_skip_types(void **state)
{
    (void)state;
    assert_true(backup_strip_skip_type("", "events"));
    assert_true(backup_strip_skip_type("events.k8s.io", "events"));
    assert_true(backup_strip_skip_type("", "endpoints"));
    assert_true(backup_strip_skip_type("discovery.k8s.io", "endpointslices"));
    assert_true(backup_strip_skip_type("coordination.k8s.io", "leases"));
    assert_true(backup_strip_skip_type("metrics.k8s.io", "pods"));
    assert_false(backup_strip_skip_type("", "configmaps"));
    assert_false(backup_strip_skip_type("apps", "deployments"));
    assert_false(backup_strip_skip_type("example.com", "events")); /* a CRD named events */
    assert_true(backup_strip_skip_type(NULL, "x"));
}

static void test_skip_objects(void **state)
{
    cJSON *owned = J("{\"metadata\":{\"name\":\"p\",\"ownerReferences\":[{\"kind\":\"ReplicaSet\","
                     "\"controller\":true}]}}");
    cJSON *free_pod = J("{\"metadata\":{\"name\":\"p\",\"ownerReferences\":[{\"kind\":\"X\"}]}}");
    cJSON *root_ca = J("{\"metadata\":{\"name\":\"kube-root-ca.crt\"}}");
    cJSON *cm = J("{\"metadata\":{\"name\":\"app-config\"}}");
    cJSON *sat =
        J("{\"metadata\":{\"name\":\"t\"},\"type\":\"kubernetes.io/service-account-token\"}");
    cJSON *opaque = J("{\"metadata\":{\"name\":\"t\"},\"type\":\"Opaque\"}");
    cJSON *ours =
        J("{\"metadata\":{\"name\":\"s\",\"labels\":{\"lockwarden.io/restore-point\":\"x\"}}}");
    cJSON *theirs = J("{\"metadata\":{\"name\":\"s\",\"labels\":{\"a\":\"b\"}}}");

    (void)state;
    assert_true(backup_strip_skip("", "pods", owned));
    assert_false(backup_strip_skip("", "pods", free_pod));
    assert_true(backup_strip_skip("apps", "replicasets", owned));
    assert_true(backup_strip_skip("apps", "controllerrevisions", owned));
    assert_true(backup_strip_skip("batch", "jobs", owned));
    assert_false(backup_strip_skip("batch", "jobs", free_pod));
    assert_false(backup_strip_skip("apps", "deployments", owned)); /* owned Deployments stay */
    assert_true(backup_strip_skip("", "configmaps", root_ca));
    assert_false(backup_strip_skip("", "configmaps", cm));
    assert_true(backup_strip_skip("", "secrets", sat));
    assert_false(backup_strip_skip("", "secrets", opaque));
    assert_true(backup_strip_skip("snapshot.storage.k8s.io", "volumesnapshots", ours));
    assert_false(backup_strip_skip("snapshot.storage.k8s.io", "volumesnapshots", theirs));
    assert_true(backup_strip_skip("", "events", NULL));
    assert_false(backup_strip_skip("", "pods", NULL));
    cJSON_Delete(owned);
    cJSON_Delete(free_pod);
    cJSON_Delete(root_ca);
    cJSON_Delete(cm);
    cJSON_Delete(sat);
    cJSON_Delete(opaque);
    cJSON_Delete(ours);
    cJSON_Delete(theirs);
}

static void test_strip_generic(void **state)
{
    cJSON *o =
        J("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
          "\"namespace\":\"shop\",\"uid\":\"u\",\"resourceVersion\":\"9\",\"generation\":3,"
          "\"creationTimestamp\":\"2026-01-01T00:00:00Z\",\"managedFields\":[{}],"
          "\"labels\":{\"a\":\"b\"},\"annotations\":{\"x\":\"y\"}},\"spec\":{\"replicas\":2},"
          "\"status\":{\"readyReplicas\":2}}");
    const char *s[BACKUP_STRIP_MAX];
    size_t n = 99;
    char *out;

    (void)state;
    backup_strip_object(o, "apps", "Deployment", s, &n);
    assert_int_equal(n, 6);
    assert_true(listed(s, n, "metadata.uid"));
    assert_true(listed(s, n, "metadata.resourceVersion"));
    assert_true(listed(s, n, "metadata.generation"));
    assert_true(listed(s, n, "metadata.creationTimestamp"));
    assert_true(listed(s, n, "metadata.managedFields"));
    assert_true(listed(s, n, "status"));
    out = cJSON_PrintUnformatted(o);
    assert_string_equal(out, "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{"
                             "\"name\":\"web\",\"namespace\":\"shop\",\"labels\":{\"a\":\"b\"},"
                             "\"annotations\":{\"x\":\"y\"}},\"spec\":{\"replicas\":2}}");
    cJSON_free(out);
    /* idempotent */
    backup_strip_object(o, "apps", "Deployment", s, &n);
    assert_int_equal(n, 0);
    cJSON_Delete(o);
    /* not an object: nothing, no crash */
    o = J("[1]");
    backup_strip_object(o, "", "X", s, &n);
    assert_int_equal(n, 0);
    cJSON_Delete(o);
}

static void test_strip_service(void **state)
{
    cJSON *svc = J("{\"kind\":\"Service\",\"metadata\":{\"name\":\"s\"},\"spec\":{\"clusterIP\":"
                   "\"10.0.0.1\",\"clusterIPs\":[\"10.0.0.1\"],\"healthCheckNodePort\":30001,"
                   "\"ports\":[{\"port\":80,\"nodePort\":30080},{\"port\":81}]}}");
    cJSON *headless =
        J("{\"kind\":\"Service\",\"metadata\":{\"name\":\"h\"},\"spec\":{\"clusterIP\":"
          "\"None\",\"clusterIPs\":[\"None\"]}}");
    const char *s[BACKUP_STRIP_MAX];
    size_t n;
    char *out;

    (void)state;
    backup_strip_object(svc, "", "Service", s, &n);
    assert_true(listed(s, n, "spec.clusterIP"));
    assert_true(listed(s, n, "spec.clusterIPs"));
    assert_true(listed(s, n, "spec.ports[].nodePort"));
    assert_true(listed(s, n, "spec.healthCheckNodePort"));
    out = cJSON_PrintUnformatted(svc);
    assert_string_equal(out, "{\"kind\":\"Service\",\"metadata\":{\"name\":\"s\"},\"spec\":{"
                             "\"ports\":[{\"port\":80},{\"port\":81}]}}");
    cJSON_free(out);
    backup_strip_object(headless, "", "Service", s, &n);
    assert_int_equal(n, 0);
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(headless, "spec"), "clusterIP"));
    cJSON_Delete(svc);
    cJSON_Delete(headless);
}

static void test_strip_pv_pvc(void **state)
{
    cJSON *pvc =
        J("{\"metadata\":{\"name\":\"d\",\"annotations\":{\"pv.kubernetes.io/bind-completed\":"
          "\"yes\",\"keep\":\"1\",\"volume.kubernetes.io/selected-node\":\"n1\"}},"
          "\"spec\":{\"volumeName\":\"pv-1\"}}");
    cJSON *pv = J("{\"metadata\":{\"name\":\"pv-1\"},\"spec\":{\"claimRef\":{\"name\":\"d\","
                  "\"namespace\":\"shop\",\"uid\":\"u\",\"resourceVersion\":\"5\"}}}");
    const char *s[BACKUP_STRIP_MAX];
    size_t n;
    char *out;

    (void)state;
    backup_strip_object(pvc, "", "PersistentVolumeClaim", s, &n);
    assert_int_equal(n, 2);
    out = cJSON_PrintUnformatted(pvc);
    assert_string_equal(out, "{\"metadata\":{\"name\":\"d\",\"annotations\":{\"keep\":\"1\"}},"
                             "\"spec\":{\"volumeName\":\"pv-1\"}}");
    cJSON_free(out);
    backup_strip_object(pv, "", "PersistentVolume", s, &n);
    assert_true(listed(s, n, "spec.claimRef.uid"));
    assert_true(listed(s, n, "spec.claimRef.resourceVersion"));
    out = cJSON_PrintUnformatted(pv);
    assert_string_equal(out, "{\"metadata\":{\"name\":\"pv-1\"},\"spec\":{\"claimRef\":{\"name\":"
                             "\"d\",\"namespace\":\"shop\"}}}");
    cJSON_free(out);
    cJSON_Delete(pvc);
    cJSON_Delete(pv);
}

static void test_paths(void **state)
{
    char p[300];
    char longgroup[254];

    (void)state;
    assert_int_equal(backup_strip_path(false, "apps", "v1", "deployments", "web", p, sizeof(p)), 0);
    assert_string_equal(p, "resources/apps/v1/deployments/web.json");
    assert_int_equal(backup_strip_path(true, "", "v1", "persistentvolumes", "pv-1", p, sizeof(p)),
                     0);
    assert_string_equal(p, "cluster/core/v1/persistentvolumes/pv-1.json");
    assert_int_equal(backup_strip_path(true, "rbac.authorization.k8s.io", "v1", "clusterroles",
                                       "system:x", p, sizeof(p)),
                     0);
    assert_int_equal(backup_strip_path(false, "", "v1", "configmaps", "..", p, sizeof(p)),
                     CM_EINVAL);
    assert_int_equal(backup_strip_path(false, "", "v1", "configmaps", "a/b", p, sizeof(p)),
                     CM_EINVAL);
    assert_int_equal(backup_strip_path(false, "", "v1", "configmaps", "", p, sizeof(p)), CM_EINVAL);
    assert_int_equal(backup_strip_path(false, "", "v1", "configmaps", "x", p, 10), CM_ETOOBIG);
    /* a path over 255 bytes becomes a stable digest path */
    memset(longgroup, 'g', 253);
    longgroup[253] = '\0';
    assert_int_equal(backup_strip_path(false, longgroup, "v1", "things", "x", p, sizeof(p)), 0);
    assert_int_equal(strncmp(p, "resources/_/", 12), 0);
    assert_int_equal(strlen(p), 12 + 32 + 5);
    {
        char q[300];

        assert_int_equal(backup_strip_path(false, longgroup, "v1", "things", "x", q, sizeof(q)), 0);
        assert_string_equal(p, q);
        assert_int_equal(backup_strip_path(false, longgroup, "v1", "things", "y", q, sizeof(q)), 0);
        assert_string_not_equal(p, q);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skip_types),    cmocka_unit_test(test_skip_objects),
        cmocka_unit_test(test_strip_generic), cmocka_unit_test(test_strip_service),
        cmocka_unit_test(test_strip_pv_pvc),  cmocka_unit_test(test_paths),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
