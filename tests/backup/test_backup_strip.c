/* SPDX-License-Identifier: Apache-2.0 */
/* test_backup_strip.c - capture selection (what the cluster recreates), runtime-field
 * stripping and archive paths. */
#include "backup/backup.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

/* Parses s (a literal: it outlives the tape) into t. */
static struct kube_jt *J(struct kube_jt *t, const char *s)
{
    kube_jt_init(t);
    assert_int_equal(kube_jt_parse(t, s, strlen(s), 64, NULL), 0);
    return t;
}

/* The root of t as a capture stores it (cm_free). */
static char *emit(const struct kube_jt *t, const char *head)
{
    struct cm_buf b;
    char *out;

    cm_buf_init(&b, 1u << 20);
    assert_int_equal(kube_jt_emit(t, 0, head, &b), 0);
    out = cm_buf_take(&b, NULL);
    assert_non_null(out);
    return out;
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
    struct kube_jt owned, free_pod, root_ca, cm, sat, opaque, ours, theirs, esc;

    (void)state;
    J(&owned, "{\"metadata\":{\"name\":\"p\",\"ownerReferences\":[{\"kind\":\"ReplicaSet\","
              "\"controller\":true}]}}");
    J(&free_pod, "{\"metadata\":{\"name\":\"p\",\"ownerReferences\":[{\"kind\":\"X\"},"
                 "{\"kind\":\"Y\",\"controller\":false}]}}");
    J(&root_ca, "{\"metadata\":{\"name\":\"kube-root-ca.crt\"}}");
    J(&cm, "{\"metadata\":{\"name\":\"app-config\"}}");
    J(&sat, "{\"metadata\":{\"name\":\"t\"},\"type\":\"kubernetes.io/service-account-token\"}");
    J(&opaque, "{\"metadata\":{\"name\":\"t\"},\"type\":\"Opaque\"}");
    J(&ours, "{\"metadata\":{\"name\":\"s\",\"labels\":{\"lockwarden.io/restore-point\":\"x\"}}}");
    J(&theirs, "{\"metadata\":{\"name\":\"s\",\"labels\":{\"a\":\"b\"}}}");
    /* escapes are read as the server meant them */
    J(&esc, "{\"metadata\":{\"name\":\"kube-root-ca\\u002ecrt\"}}");
    assert_true(backup_strip_skip("", "pods", &owned, 0));
    assert_false(backup_strip_skip("", "pods", &free_pod, 0));
    assert_true(backup_strip_skip("apps", "replicasets", &owned, 0));
    assert_true(backup_strip_skip("apps", "controllerrevisions", &owned, 0));
    assert_true(backup_strip_skip("batch", "jobs", &owned, 0));
    assert_false(backup_strip_skip("batch", "jobs", &free_pod, 0));
    assert_false(backup_strip_skip("apps", "deployments", &owned, 0)); /* owned Deployments stay */
    assert_true(backup_strip_skip("", "configmaps", &root_ca, 0));
    assert_true(backup_strip_skip("", "configmaps", &esc, 0));
    assert_false(backup_strip_skip("", "configmaps", &cm, 0));
    assert_true(backup_strip_skip("", "secrets", &sat, 0));
    assert_false(backup_strip_skip("", "secrets", &opaque, 0));
    assert_true(backup_strip_skip("snapshot.storage.k8s.io", "volumesnapshots", &ours, 0));
    assert_false(backup_strip_skip("snapshot.storage.k8s.io", "volumesnapshots", &theirs, 0));
    assert_true(backup_strip_skip("", "events", NULL, 0));
    assert_false(backup_strip_skip("", "pods", NULL, 0));
    kube_jt_free(&owned);
    kube_jt_free(&free_pod);
    kube_jt_free(&root_ca);
    kube_jt_free(&cm);
    kube_jt_free(&sat);
    kube_jt_free(&opaque);
    kube_jt_free(&ours);
    kube_jt_free(&theirs);
    kube_jt_free(&esc);
}

static void test_strip_generic(void **state)
{
    struct kube_jt o, again;
    const char *s[BACKUP_STRIP_MAX];
    size_t n = 99;
    char *out;

    (void)state;
    J(&o, "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
          "\"namespace\":\"shop\",\"uid\":\"u\",\"resourceVersion\":\"9\",\"generation\":3,"
          "\"creationTimestamp\":\"2026-01-01T00:00:00Z\",\"managedFields\":[{}],"
          "\"labels\":{\"a\":\"b\"},\"annotations\":{\"x\":\"y\"}},\"spec\":{\"replicas\":2},"
          "\"status\":{\"readyReplicas\":2}}");
    backup_strip_object(&o, 0, "apps", "Deployment", s, &n);
    assert_int_equal(n, 6);
    assert_true(listed(s, n, "metadata.uid"));
    assert_true(listed(s, n, "metadata.resourceVersion"));
    assert_true(listed(s, n, "metadata.generation"));
    assert_true(listed(s, n, "metadata.creationTimestamp"));
    assert_true(listed(s, n, "metadata.managedFields"));
    assert_true(listed(s, n, "status"));
    out = emit(&o, NULL);
    assert_string_equal(out, "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{"
                             "\"name\":\"web\",\"namespace\":\"shop\",\"labels\":{\"a\":\"b\"},"
                             "\"annotations\":{\"x\":\"y\"}},\"spec\":{\"replicas\":2}}");
    /* a second pass on the same tape finds nothing new; the stored text is final */
    backup_strip_object(&o, 0, "apps", "Deployment", s, &n);
    assert_int_equal(n, 0);
    J(&again, out);
    backup_strip_object(&again, 0, "apps", "Deployment", s, &n);
    assert_int_equal(n, 0);
    kube_jt_free(&again);
    cm_free(out);
    kube_jt_free(&o);
    /* not an object: nothing, no crash */
    J(&o, "[1]");
    backup_strip_object(&o, 0, "", "X", s, &n);
    assert_int_equal(n, 0);
    kube_jt_free(&o);
}

/* The stored text is the server's: numbers keep every digit (a double would round
 * 9007199254740993), strings keep their escapes, untouched values keep their bytes
 * (whitespace inside them included; rebuilt containers are compact), and repeated or
 * escaped runtime keys are all removed. */
static void test_strip_keeps_the_servers_text(void **state)
{
    struct kube_jt o;
    const char *s[BACKUP_STRIP_MAX];
    size_t n;
    char *out;

    (void)state;
    J(&o, "{\"metadata\":{\"name\":\"big\",\"uid\":\"a\",\"\\u0075id\":\"b\",\"uid\":\"c\"},"
          "\"spec\": {\"n\": 9007199254740993, \"f\": 1.50e+3, \"s\": \"\\u003chtml\\u003e\\/\"},"
          "\"status\":{}}");
    backup_strip_object(&o, 0, "example.com", "Big", s, &n);
    assert_int_equal(n, 2);
    assert_true(listed(s, n, "metadata.uid"));
    assert_true(listed(s, n, "status"));
    out = emit(&o, NULL);
    assert_string_equal(out, "{\"metadata\":{\"name\":\"big\"},\"spec\":{\"n\": "
                             "9007199254740993, \"f\": 1.50e+3, \"s\": "
                             "\"\\u003chtml\\u003e\\/\"}}");
    cm_free(out);
    /* head: the members a typed list leaves out go first */
    out = emit(&o, "\"apiVersion\":\"v1\",\"kind\":\"Big\"");
    assert_string_equal(out, "{\"apiVersion\":\"v1\",\"kind\":\"Big\",\"metadata\":{\"name\":"
                             "\"big\"},\"spec\":{\"n\": 9007199254740993, \"f\": 1.50e+3, \"s\": "
                             "\"\\u003chtml\\u003e\\/\"}}");
    cm_free(out);
    kube_jt_free(&o);
}

static void test_strip_service(void **state)
{
    struct kube_jt svc, headless;
    const char *s[BACKUP_STRIP_MAX];
    size_t n;
    char *out;

    (void)state;
    J(&svc, "{\"kind\":\"Service\",\"metadata\":{\"name\":\"s\"},\"spec\":{\"clusterIP\":"
            "\"10.0.0.1\",\"clusterIPs\":[\"10.0.0.1\"],\"healthCheckNodePort\":30001,"
            "\"ports\":[{\"port\":80,\"nodePort\":30080},{\"port\":81}]}}");
    J(&headless, "{\"kind\":\"Service\",\"metadata\":{\"name\":\"h\"},\"spec\":{\"clusterIP\":"
                 "\"None\",\"clusterIPs\":[\"None\"]}}");
    backup_strip_object(&svc, 0, "", "Service", s, &n);
    assert_true(listed(s, n, "spec.clusterIP"));
    assert_true(listed(s, n, "spec.clusterIPs"));
    assert_true(listed(s, n, "spec.ports[].nodePort"));
    assert_true(listed(s, n, "spec.healthCheckNodePort"));
    out = emit(&svc, NULL);
    assert_string_equal(out, "{\"kind\":\"Service\",\"metadata\":{\"name\":\"s\"},\"spec\":{"
                             "\"ports\":[{\"port\":80},{\"port\":81}]}}");
    cm_free(out);
    backup_strip_object(&headless, 0, "", "Service", s, &n);
    assert_int_equal(n, 0);
    out = emit(&headless, NULL);
    assert_string_equal(out, "{\"kind\":\"Service\",\"metadata\":{\"name\":\"h\"},\"spec\":{"
                             "\"clusterIP\":\"None\",\"clusterIPs\":[\"None\"]}}");
    cm_free(out);
    kube_jt_free(&svc);
    kube_jt_free(&headless);
}

static void test_strip_pv_pvc(void **state)
{
    struct kube_jt pvc, pv;
    const char *s[BACKUP_STRIP_MAX];
    size_t n;
    char *out;

    (void)state;
    J(&pvc, "{\"metadata\":{\"name\":\"d\",\"annotations\":{\"pv.kubernetes.io/bind-completed\":"
            "\"yes\",\"keep\":\"1\",\"volume.kubernetes.io/selected-node\":\"n1\"}},"
            "\"spec\":{\"volumeName\":\"pv-1\"}}");
    J(&pv, "{\"metadata\":{\"name\":\"pv-1\"},\"spec\":{\"claimRef\":{\"name\":\"d\","
           "\"namespace\":\"shop\",\"uid\":\"u\",\"resourceVersion\":\"5\"}}}");
    backup_strip_object(&pvc, 0, "", "PersistentVolumeClaim", s, &n);
    assert_int_equal(n, 2);
    out = emit(&pvc, NULL);
    assert_string_equal(out, "{\"metadata\":{\"name\":\"d\",\"annotations\":{\"keep\":\"1\"}},"
                             "\"spec\":{\"volumeName\":\"pv-1\"}}");
    cm_free(out);
    backup_strip_object(&pv, 0, "", "PersistentVolume", s, &n);
    assert_true(listed(s, n, "spec.claimRef.uid"));
    assert_true(listed(s, n, "spec.claimRef.resourceVersion"));
    out = emit(&pv, NULL);
    assert_string_equal(out, "{\"metadata\":{\"name\":\"pv-1\"},\"spec\":{\"claimRef\":{\"name\":"
                             "\"d\",\"namespace\":\"shop\"}}}");
    cm_free(out);
    kube_jt_free(&pvc);
    kube_jt_free(&pv);
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
        cmocka_unit_test(test_strip_generic), cmocka_unit_test(test_strip_keeps_the_servers_text),
        cmocka_unit_test(test_strip_service), cmocka_unit_test(test_strip_pv_pvc),
        cmocka_unit_test(test_paths),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
