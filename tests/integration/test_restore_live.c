/* SPDX-License-Identifier: Apache-2.0 */
/* test_restore_live.c - `lockwarden restore` end to end: an app seeded into the fake
 * kube-apiserver (tests/fixtures/restore/app.json) is captured by the executor into a
 * real radosgw bucket with Object Lock, then the real binary restores it after loss,
 * clones it into another namespace, skips or updates what exists, plans a dry run,
 * reports a partial failure object by object, and ignores archive and manifest.json
 * versions that lockwarden did not write (it reads the pinned originals). The
 * restored objects must equal the seeded ones minus the fields the cluster assigns.
 * Needs S3_ENDPOINT/S3_REGION/AWS_* from tests/support/rgw.sh (tests/run.sh) and
 * LW_BIN. */
#include "backup/backup.h"
#include "backup/kube/kube.h"
#include "backup/s3/s3.h"
#include "tests/support/backup_env.h"
#include "tests/support/fake_kube.h"
#include "tests/support/proc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NS "shop"
#define TEST_KEY_HEX "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

struct env {
    struct fake_kube *fk;
    struct policy_set *ps;
    struct s3_client *s3;
    char dir[256];
    char kubeconfig[300];
    char policy_file[300];
    char bucket[64];
    char id[BACKUP_ID_LEN + 1];
    char vault_id[BACKUP_ID_LEN + 1];
    char key_file[300];
    cJSON *seed; /* the seeded objects as the API server returned them */
    char out[1 << 16];
    char errout[1 << 14];
};

static const char *bin(void)
{
    const char *b = getenv("LW_BIN");

    return b != NULL ? b : "build/lockwarden";
}

/* Runs the binary with args; captures stdout/stderr into e->out/e->errout. Returns the
 * exit status (or -1). */
static int run(struct env *e, const char *const *args)
{
    char *argv[32];
    struct proc_output o = {e->out, sizeof(e->out), e->errout, sizeof(e->errout), -1};
    size_t i;

    argv[0] = (char *)bin();
    for (i = 0; args[i] != NULL && i < 30; i++)
        argv[i + 1] = (char *)args[i];
    argv[i + 1] = NULL;
    if (proc_run2(argv, e->dir, 120000, &o) != 0)
        return -1;
    if (getenv("LW_TEST_VERBOSE") != NULL)
        fprintf(stderr, "--- %s %s: exit %d\n%s%s", argv[0], args[0], o.exit_code, e->out,
                e->errout);
    return o.exit_code;
}

/* ---- comparing objects: drop what the cluster assigns, independently of the code
 * under test ---- */

static void drop(cJSON *o, const char *k)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, k);
}

static cJSON *obj_at(cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *str_at(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void normalize(cJSON *o, const char *ns)
{
    cJSON *meta = obj_at(o, "metadata");
    cJSON *spec = obj_at(o, "spec");
    const char *kind = str_at(o, "kind");
    cJSON *ann = obj_at(meta, "annotations");
    cJSON *p;

    drop(meta, "uid");
    drop(meta, "resourceVersion");
    drop(meta, "creationTimestamp");
    drop(meta, "generation");
    drop(meta, "managedFields");
    drop(meta, "ownerReferences");
    drop(o, "status");
    if (ns != NULL && obj_at(meta, "namespace") != NULL)
        cJSON_ReplaceItemInObjectCaseSensitive(meta, "namespace", cJSON_CreateString(ns));
    if (strcmp(kind, "Service") == 0) {
        const char *ip = str_at(spec, "clusterIP");

        if (ip == NULL || strcmp(ip, "None") != 0) {
            drop(spec, "clusterIP");
            drop(spec, "clusterIPs");
        }
        drop(spec, "healthCheckNodePort");
        cJSON_ArrayForEach(p, obj_at(spec, "ports")) drop(p, "nodePort");
    } else if (strcmp(kind, "PersistentVolumeClaim") == 0) {
        drop(spec, "volumeName");
        drop(spec, "dataSource");
        drop(spec, "dataSourceRef");
        drop(ann, "pv.kubernetes.io/bind-completed");
        drop(ann, "pv.kubernetes.io/bound-by-controller");
        drop(ann, "volume.kubernetes.io/selected-node");
    } else if (strcmp(kind, "RoleBinding") == 0 && ns != NULL) {
        cJSON_ArrayForEach(p, obj_at(o, "subjects"))
        {
            if (str_at(p, "namespace") != NULL)
                cJSON_ReplaceItemInObjectCaseSensitive(p, "namespace", cJSON_CreateString(ns));
        }
    }
}

/* Every namespaced object of the seed (except what controllers recreate) must exist in
 * ns and equal the seeded one, normalised. Returns the number compared. */
static size_t compare_app(struct env *e, const char *ns)
{
    const cJSON *it;
    size_t n = 0;

    cJSON_ArrayForEach(it, e->seed)
    {
        const char *kind = str_at(it, "kind");
        const char *name = str_at(obj_at((cJSON *)it, "metadata"), "name");
        cJSON *want;
        cJSON *got;

        if (str_at(obj_at((cJSON *)it, "metadata"), "namespace") == NULL)
            continue; /* cluster-scoped: CRD, StorageClass, PV, Namespace */
        if (strcmp(kind, "Pod") == 0 || strcmp(kind, "ReplicaSet") == 0)
            continue; /* owned by controllers: not restored */
        got = fake_kube_get_object(e->fk, str_at(it, "apiVersion"), kind, ns, name);
        if (got == NULL)
            fail_msg("%s %s/%s was not restored", kind, ns, name);
        want = cJSON_Duplicate(it, true);
        normalize(want, ns);
        normalize(got, ns);
        if (!cJSON_Compare(want, got, true)) {
            char *a = cJSON_PrintUnformatted(want);
            char *b = cJSON_PrintUnformatted(got);

            fail_msg("%s %s/%s differs:\nwant %s\ngot  %s", kind, ns, name, a, b);
        }
        cJSON_Delete(want);
        cJSON_Delete(got);
        n++;
    }
    return n;
}

static size_t count_ns(struct env *e, const char *ns)
{
    static const char *const types[][2] = {{"v1", "configmaps"},
                                           {"v1", "secrets"},
                                           {"v1", "services"},
                                           {"v1", "serviceaccounts"},
                                           {"v1", "persistentvolumeclaims"},
                                           {"apps/v1", "deployments"},
                                           {"apps/v1", "statefulsets"},
                                           {"example.com/v1", "widgets"}};
    size_t i;
    size_t n = 0;

    for (i = 0; i < CM_ARRAY_LEN(types); i++)
        n += fake_kube_count_objects(e->fk, types[i][0], types[i][1], ns);
    return n;
}

static void delete_app(struct env *e, const char *ns)
{
    struct kube_config *cfg = NULL;
    struct kube_client *kc = NULL;
    struct kube_ref ref = {"v1", "namespaces", NULL, ns};

    assert_int_equal(kube_config_create(fake_kube_url(e->fk), &cfg, NULL), 0);
    assert_int_equal(kube_client_create(cfg, &kc, NULL), 0);
    assert_int_equal(kube_delete(kc, &ref, NULL, NULL), 0);
    kube_client_destroy(kc);
    kube_config_destroy(cfg);
    assert_int_equal(count_ns(e, ns), 0);
}

/* ---- setup: fake cluster, bucket, policy, capture ---- */

static int write_file(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return -1;
    fputs(s, f);
    return fclose(f);
}

static void no_sleep(uint64_t ms, void *ctx)
{
    (void)ms;
    (void)ctx;
}

static int setup(void **state)
{
    static struct env e;
    const char *endpoint = bte_s3_endpoint("test_restore_live");
    const char *region = getenv("S3_REGION");
    struct fake_kube_opts fo;
    struct cm_err err;
    struct kube_config *cfg = NULL;
    struct kube_client *kc = NULL;
    struct backup_capture_opts co;
    struct backup_capture_result cr;
    const struct policy_backup *bp;
    char policy[2048];
    char *seed_text = NULL;
    size_t seed_len = 0;
    const cJSON *it;

    memset(&e, 0, sizeof(e));
    if (endpoint == NULL)
        return -1;
    snprintf(e.dir, sizeof(e.dir), "%s/lw-restore-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(e.dir) == NULL)
        return -1;
    memset(&fo, 0, sizeof(fo));
    fo.seed_file = "tests/fixtures/restore/app.json";
    if (fake_kube_start(&fo, &e.fk) != 0)
        return -1;
    snprintf(e.kubeconfig, sizeof(e.kubeconfig), "%s/kubeconfig", e.dir);
    if (fake_kube_write_kubeconfig(e.fk, e.kubeconfig, NULL, false) != 0)
        return -1;
    /* The seed as the API server holds it. */
    if (cm_fs_read_file(fo.seed_file, 1 << 20, &seed_text, &seed_len, &err) != 0)
        return -1;
    {
        cJSON *list = cJSON_Parse(seed_text);

        e.seed = cJSON_CreateArray();
        cJSON_ArrayForEach(it, obj_at(list, "items"))
        {
            const cJSON *meta = obj_at((cJSON *)it, "metadata");
            cJSON *got = fake_kube_get_object(e.fk, str_at(it, "apiVersion"), str_at(it, "kind"),
                                              str_at(meta, "namespace"), str_at(meta, "name"));

            if (got == NULL)
                return -1;
            cJSON_AddItemToArray(e.seed, got);
        }
        cJSON_Delete(list);
        cm_free(seed_text);
    }

    /* A fresh Object Lock bucket and a policy pointing at it. */
    snprintf(e.bucket, sizeof(e.bucket), "lw-restore-%ld-%ld", (long)getpid(), (long)time(NULL));
    if (bte_locked_bucket(endpoint, region, e.bucket, &e.s3) != 0)
        return -1;
    (void)bte_gold_policy(policy, sizeof(policy), endpoint, region != NULL ? region : "us-east-1",
                          e.bucket);
    {
        size_t used = strlen(policy);

        snprintf(policy + used, sizeof(policy) - used,
                 "---\napiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\nmetadata:\n"
                 "  name: vaultpolicy\nspec:\n  schedule: \"@daily\"\n  retention:\n"
                 "    daily: 7\n  encryption:\n    keySecret: lw-key\n  location:\n"
                 "    endpoint: %s\n    region: %s\n    bucket: %s\n    prefix: vault\n"
                 "    pathStyle: true\n",
                 endpoint, region != NULL ? region : "us-east-1", e.bucket);
    }
    if (bte_policy_file(e.dir, "policy.yaml", policy, e.policy_file, sizeof(e.policy_file),
                        &e.ps) != 0)
        return -1;
    bp = policy_set_backup_find(e.ps, "goldpolicy", 10);

    /* Capture the app with the executor. */
    if (kube_config_create(fake_kube_url(e.fk), &cfg, &err) != 0 ||
        kube_client_create(cfg, &kc, &err) != 0)
        return -1;
    memset(&co, 0, sizeof(co));
    co.policy = bp;
    co.namespace_ = NS;
    co.kube = kc;
    co.s3 = e.s3;
    co.prefix = bp->location.prefix;
    co.tool_version = "test";
    co.sleep = no_sleep;
    if (backup_capture_run(&co, &cr, &err) != 0) {
        fprintf(stderr, "capture: %s\n", err.msg);
        return -1;
    }
    snprintf(e.id, sizeof(e.id), "%s", cr.id);
    {
        struct backup_key key;
        char b64[200];
        char secret[512];
        char *enc = cm_base64_encode(TEST_KEY_HEX, strlen(TEST_KEY_HEX), NULL);

        if (enc == NULL || backup_key_parse(TEST_KEY_HEX, strlen(TEST_KEY_HEX), &key, &err) != 0)
            return -1;
        snprintf(b64, sizeof(b64), "%s", enc);
        cm_free(enc);
        /* The key Secret where `backup` and `restore` look: the context's namespace. */
        snprintf(secret, sizeof(secret),
                 "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"lw-key\","
                 "\"namespace\":\"default\"},\"data\":{\"key\":\"%s\"}}",
                 b64);
        if (fake_kube_add_object_json(e.fk, secret) != 1 ||
            fake_kube_add_object_json(
                e.fk, "[{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":"
                      "\"vault\"}},{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{"
                      "\"name\":\"sealed\",\"namespace\":\"vault\"},\"data\":{\"x\":\"1\"}}]") != 2)
            return -1;
        co.policy = policy_set_backup_find(e.ps, "vaultpolicy", 11);
        co.namespace_ = "vault";
        co.prefix = co.policy->location.prefix;
        co.key = &key;
        if (backup_capture_run(&co, &cr, &err) != 0) {
            fprintf(stderr, "capture vault: %s\n", err.msg);
            return -1;
        }
        backup_key_wipe(&key);
        snprintf(e.vault_id, sizeof(e.vault_id), "%s", cr.id);
        snprintf(e.key_file, sizeof(e.key_file), "%s/key.hex", e.dir);
        if (write_file(e.key_file, TEST_KEY_HEX) != 0)
            return -1;
    }
    kube_client_destroy(kc);
    kube_config_destroy(cfg);
    *state = &e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    char cmd[600];

    fake_kube_stop(e->fk);
    s3_client_destroy(e->s3); /* the locked bucket goes with radosgw's state dir */
    policy_set_destroy(e->ps);
    cJSON_Delete(e->seed);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", e->dir);
    return 0;
}

static void point_arg(struct env *e, char *buf, size_t len, bool with_policy)
{
    snprintf(buf, len, "%s%s/%s", with_policy ? "goldpolicy/" : "", NS, e->id);
}

static cJSON *report_item(cJSON *rep, const char *kind, const char *ns, const char *name)
{
    cJSON *it;

    cJSON_ArrayForEach(it, obj_at(rep, "items"))
    {
        if (strcmp(str_at(it, "kind"), kind) == 0 && strcmp(str_at(it, "namespace"), ns) == 0 &&
            strcmp(str_at(it, "name"), name) == 0)
            return it;
    }
    return NULL;
}

static int s3_test_sink(void *ctx, const void *p, size_t n, struct cm_err *err)
{
    (void)err;
    return cm_buf_add(ctx, p, n);
}

/* ---- tests (run in order: each leaves the cluster as the next expects) ---- */

static void test_restore_after_loss(void **state)
{
    struct env *e = *state;
    char pt[128];
    cJSON *rep;
    const char *args[] = {"restore", pt,     "-p", e->policy_file, "--kubeconfig", e->kubeconfig,
                          "-o",      "json", NULL};

    point_arg(e, pt, sizeof(pt), true);
    delete_app(e, NS);
    assert_int_equal(run(e, args), 0);
    rep = cJSON_Parse(e->out);
    assert_non_null(rep);
    assert_int_equal(obj_at(obj_at(rep, "summary"), "failed")->valueint, 0);
    assert_string_equal(str_at(report_item(rep, "Deployment", NS, "web"), "status"), "created");
    assert_string_equal(str_at(report_item(rep, "Widget", NS, "blue"), "status"), "created");
    /* Same namespace: the captured VolumeSnapshot itself is the PVC's data source. */
    {
        cJSON *pvc = fake_kube_get_object(e->fk, "v1", "PersistentVolumeClaim", NS, "data");
        cJSON *ds = obj_at(obj_at(pvc, "spec"), "dataSource");

        assert_non_null(ds);
        assert_string_equal(str_at(ds, "kind"), "VolumeSnapshot");
        assert_string_equal(str_at(ds, "apiGroup"), "snapshot.storage.k8s.io");
        {
            cJSON *vs = fake_kube_get_object(e->fk, "snapshot.storage.k8s.io/v1", "VolumeSnapshot",
                                             NS, str_at(ds, "name"));

            assert_non_null(vs);
            cJSON_Delete(vs);
        }
        assert_null(obj_at(obj_at(pvc, "spec"), "volumeName"));
        cJSON_Delete(pvc);
    }
    {
        cJSON *svc = fake_kube_get_object(e->fk, "v1", "Service", NS, "web");

        assert_null(obj_at(obj_at(svc, "spec"), "clusterIP"));
        cJSON_Delete(svc);
    }
    assert_true(compare_app(e, NS) >= 10);
    cJSON_Delete(rep);
}

static void test_restore_again_skips_then_updates(void **state)
{
    struct env *e = *state;
    char pt[128];
    cJSON *rep;
    const char *skip[] = {"restore", pt,     "-p", e->policy_file, "--kubeconfig", e->kubeconfig,
                          "-o",      "json", NULL};
    const char *upd[] = {"restore",     pt,           "-p",     e->policy_file, "--kubeconfig",
                         e->kubeconfig, "--existing", "update", "-o",           "json",
                         NULL};
    cJSON *cm;

    point_arg(e, pt, sizeof(pt), true);
    assert_int_equal(run(e, skip), 0);
    rep = cJSON_Parse(e->out);
    assert_non_null(rep);
    assert_int_equal(obj_at(obj_at(rep, "summary"), "created")->valueint, 0);
    assert_string_equal(str_at(report_item(rep, "ConfigMap", NS, "web-config"), "status"),
                        "skipped");
    assert_string_equal(str_at(report_item(rep, "ConfigMap", NS, "web-config"), "detail"),
                        "already exists");
    cJSON_Delete(rep);

    /* Someone changes the ConfigMap; update puts the captured version back. */
    assert_int_equal(fake_kube_add_object_json(
                         e->fk, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{"
                                "\"name\":\"web-config\",\"namespace\":\"shop\"},\"data\":{"
                                "\"greeting\":\"tampered\"}}"),
                     1);
    assert_int_equal(run(e, upd), 0);
    rep = cJSON_Parse(e->out);
    assert_non_null(rep);
    assert_string_equal(str_at(report_item(rep, "ConfigMap", NS, "web-config"), "status"),
                        "updated");
    cJSON_Delete(rep);
    cm = fake_kube_get_object(e->fk, "v1", "ConfigMap", NS, "web-config");
    assert_string_equal(str_at(obj_at(cm, "data"), "greeting"), "hello");
    cJSON_Delete(cm);
}

static void test_clone_into_new_namespace(void **state)
{
    struct env *e = *state;
    char pt[128];
    cJSON *rep;
    cJSON *pvc;
    cJSON *vs;
    cJSON *vsc;
    const char *ds;
    const char *args[] = {"restore",
                          pt,
                          "--namespace-map",
                          "shop=shop-test",
                          "-p",
                          e->policy_file,
                          "--kubeconfig",
                          e->kubeconfig,
                          "-o",
                          "json",
                          NULL};

    point_arg(e, pt, sizeof(pt), false); /* found by searching the loaded policies */
    assert_int_equal(run(e, args), 0);
    rep = cJSON_Parse(e->out);
    assert_non_null(rep);
    assert_int_equal(obj_at(obj_at(rep, "summary"), "failed")->valueint, 0);
    assert_non_null(report_item(rep, "Namespace", "", "shop-test"));
    assert_true(compare_app(e, "shop-test") >= 10);
    /* The original is untouched. */
    assert_true(compare_app(e, NS) >= 10);
    /* The clone's PVC restores from an imported snapshot in its own namespace. */
    pvc = fake_kube_get_object(e->fk, "v1", "PersistentVolumeClaim", "shop-test", "data");
    ds = str_at(obj_at(obj_at(pvc, "spec"), "dataSource"), "name");
    assert_non_null(ds);
    assert_true(strncmp(ds, "lw-r-", 5) == 0);
    vs = fake_kube_get_object(e->fk, "snapshot.storage.k8s.io/v1", "VolumeSnapshot", "shop-test",
                              ds);
    assert_non_null(vs);
    {
        const char *cn = str_at(obj_at(obj_at(vs, "spec"), "source"), "volumeSnapshotContentName");

        assert_non_null(cn);
        assert_true(strncmp(cn, "lw-r-shop-test-", 15) == 0); /* one content per clone */
        vsc = fake_kube_get_object(e->fk, "snapshot.storage.k8s.io/v1", "VolumeSnapshotContent",
                                   NULL, cn);
    }
    assert_non_null(vsc);
    assert_string_equal(str_at(obj_at(obj_at(vsc, "spec"), "volumeSnapshotRef"), "namespace"),
                        "shop-test");
    assert_string_equal(str_at(obj_at(obj_at(vsc, "spec"), "volumeSnapshotRef"), "name"), ds);
    assert_string_equal(str_at(obj_at(vsc, "spec"), "deletionPolicy"), "Retain");
    assert_non_null(str_at(obj_at(obj_at(vsc, "spec"), "source"), "snapshotHandle"));
    /* RoleBinding subjects follow the namespace. */
    {
        cJSON *rb = fake_kube_get_object(e->fk, "rbac.authorization.k8s.io/v1", "RoleBinding",
                                         "shop-test", "web-view");

        assert_string_equal(str_at(cJSON_GetArrayItem(obj_at(rb, "subjects"), 0), "namespace"),
                            "shop-test");
        cJSON_Delete(rb);
    }
    cJSON_Delete(pvc);
    cJSON_Delete(vs);
    cJSON_Delete(vsc);
    cJSON_Delete(rep);
}

static void test_dry_run_changes_nothing(void **state)
{
    struct env *e = *state;
    char pt[128];
    const char *args[] = {"restore",     pt,   "--namespace-map", "shop=shop-dry",
                          "--dry-run",   "-p", e->policy_file,    "--kubeconfig",
                          e->kubeconfig, NULL};
    size_t creates;

    point_arg(e, pt, sizeof(pt), true);
    fake_kube_requests_clear(e->fk);
    assert_int_equal(run(e, args), 0);
    creates = fake_kube_verb_count(e->fk, "create") + fake_kube_verb_count(e->fk, "update") +
              fake_kube_verb_count(e->fk, "patch") + fake_kube_verb_count(e->fk, "delete");
    assert_int_equal(creates, 0);
    assert_int_equal(count_ns(e, "shop-dry"), 0);
    assert_non_null(strstr(e->out, "planned  Deployment shop-dry/web: would create"));
    assert_non_null(strstr(e->out, "planned  VolumeSnapshotContent lw-r-shop-dry-"));
    assert_non_null(strstr(e->out, "dry run of restore point goldpolicy/shop/"));
}

static void test_partial_failure_reported_per_object(void **state)
{
    struct env *e = *state;
    char pt[128];
    cJSON *rep;
    cJSON *it;
    struct fake_kube_rule rule;
    size_t failed = 0;
    const char *args[] = {"restore",
                          pt,
                          "--namespace-map",
                          "shop=shop-fail",
                          "-p",
                          e->policy_file,
                          "--kubeconfig",
                          e->kubeconfig,
                          "-o",
                          "json",
                          NULL};

    point_arg(e, pt, sizeof(pt), true);
    memset(&rule, 0, sizeof(rule));
    rule.method = "POST";
    rule.path = "/namespaces/shop-fail/configmaps";
    rule.fault = FAKE_KUBE_FAULT_403;
    rule.count = 0;
    assert_int_equal(fake_kube_inject(e->fk, &rule), 0);
    assert_int_equal(run(e, args), 1);
    fake_kube_clear_faults(e->fk);
    rep = cJSON_Parse(e->out);
    assert_non_null(rep);
    it = report_item(rep, "ConfigMap", "shop-fail", "web-config");
    assert_non_null(it);
    assert_string_equal(str_at(it, "status"), "failed");
    assert_non_null(strstr(str_at(it, "detail"), "forbidden"));
    cJSON_ArrayForEach(it, obj_at(rep, "items"))
    {
        if (strcmp(str_at(it, "status"), "failed") == 0)
            failed++;
    }
    assert_int_equal(failed, 1);
    assert_int_equal(obj_at(obj_at(rep, "summary"), "failed")->valueint, 1);
    /* Everything else went in. */
    assert_string_equal(str_at(report_item(rep, "Deployment", "shop-fail", "web"), "status"),
                        "created");
    it = fake_kube_get_object(e->fk, "apps/v1", "Deployment", "shop-fail", "web");
    assert_non_null(it);
    cJSON_Delete(it);
    assert_null(fake_kube_get_object(e->fk, "v1", "ConfigMap", "shop-fail", "web-config"));
    cJSON_Delete(rep);
}

/* A new version of the archive with one byte flipped: Object Lock keeps the original
 * version, and restore reads the version the manifest pins, so the point still
 * restores (from the original bytes) and the foreign version is named. */
static void test_foreign_archive_version_ignored(void **state)
{
    struct env *e = *state;
    char pt[128];
    char key[BACKUP_KEY_MAX];
    char *arch = NULL;
    size_t len = 0;
    struct cm_err err;
    const char *args[] = {"restore",
                          pt,
                          "--namespace-map",
                          "shop=shop-tamper",
                          "-p",
                          e->policy_file,
                          "--kubeconfig",
                          e->kubeconfig,
                          NULL};

    point_arg(e, pt, sizeof(pt), true);
    assert_int_equal(backup_rp_key("gold", NS, e->id, BACKUP_ARCHIVE_NAME, key, sizeof(key), &err),
                     0);
    assert_int_equal(s3_client_get_object_mem(e->s3, key, NULL, 64 << 20, &arch, &len, NULL, &err),
                     0);
    assert_true(len > 100);
    arch[len / 2] ^= 0x5a;
    assert_int_equal(s3_client_put_object(e->s3, key, arch, len, NULL, NULL, &err), 0);
    cm_free(arch);
    assert_int_equal(run(e, args), 0);
    assert_non_null(strstr(e->errout, "later version(s)"));
    assert_true(compare_app(e, "shop-tamper") >= 10);
}

/* The attack the pinned reader exists for: someone with the bucket's write credentials
 * PUTs their own archive (an extra ConfigMap) and a well-formed manifest.json naming
 * it over the point's keys. Restore reads the OLDEST manifest.json version (the one
 * the capture wrote), so the attacker's objects never reach the cluster. */
static void test_foreign_manifest_version_ignored(void **state)
{
    struct env *e = *state;
    char pt[128];
    char akey[BACKUP_KEY_MAX];
    char mkey[BACKUP_KEY_MAX];
    struct backup_archive_writer *w = NULL;
    struct backup_manifest *m = NULL;
    struct backup_mf_resource r;
    struct s3_put_result put;
    struct cm_buf arch;
    struct cm_buf mf;
    struct cm_err err;
    cJSON *cm;
    static const char evil[] = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
                               "{\"name\":\"evil\",\"namespace\":\"shop\"},"
                               "\"data\":{\"x\":\"attacker\"}}";
    const char *args[] = {"restore",
                          pt,
                          "--namespace-map",
                          "shop=shop-foreign",
                          "-p",
                          e->policy_file,
                          "--kubeconfig",
                          e->kubeconfig,
                          NULL};

    point_arg(e, pt, sizeof(pt), true);
    assert_int_equal(
        backup_rp_key("gold", NS, e->id, BACKUP_ARCHIVE_NAME, akey, sizeof(akey), &err), 0);
    assert_int_equal(
        backup_rp_key("gold", NS, e->id, BACKUP_MANIFEST_NAME, mkey, sizeof(mkey), &err), 0);
    cm_buf_init(&arch, 1 << 20);
    cm_buf_init(&mf, 1 << 20);
    assert_int_equal(backup_archive_writer_create(s3_test_sink, &arch, NULL, time(NULL), &w, &err),
                     0);
    assert_int_equal(backup_archive_writer_add(w, "resources/core/v1/configmaps/evil.json", evil,
                                               strlen(evil), &err),
                     0);
    assert_int_equal(backup_archive_writer_finish(w, &err), 0);
    assert_int_equal(s3_client_put_object(e->s3, akey, arch.ptr, arch.len, NULL, &put, &err), 0);
    assert_int_equal(backup_manifest_create(e->id, NS, "goldpolicy", &m), 0);
    memset(&r, 0, sizeof(r));
    r.api_version = (char *)"v1";
    r.kind = (char *)"ConfigMap";
    r.resource = (char *)"configmaps";
    r.namespace_ = (char *)NS;
    r.name = (char *)"evil";
    r.path = (char *)"resources/core/v1/configmaps/evil.json";
    r.size = strlen(evil);
    backup_sha256_hex(evil, strlen(evil), r.sha256);
    assert_int_equal(backup_manifest_add_resource(m, &r), 0);
    m->completed_at = m->created_at + 1;
    memcpy(m->lock_mode, "NONE", 5);
    m->archive_size = backup_archive_writer_bytes(w);
    memcpy(m->archive_sha256, backup_archive_writer_sha256(w), 65);
    snprintf(m->archive_version, sizeof(m->archive_version), "%s", put.version_id);
    assert_int_equal(backup_manifest_format(m, &mf), 0);
    assert_int_equal(s3_client_put_object(e->s3, mkey, mf.ptr, mf.len, NULL, NULL, &err), 0);
    /* ... and a delete marker on top: not a version, so it hides nothing either. */
    assert_int_equal(s3_client_delete_object(e->s3, mkey, NULL, false, &err), 0);
    backup_archive_writer_destroy(w);
    backup_manifest_destroy(m);
    cm_buf_free(&arch);
    cm_buf_free(&mf);

    assert_int_equal(run(e, args), 0);
    assert_non_null(strstr(e->errout, "later version(s)"));
    cm = fake_kube_get_object(e->fk, "v1", "ConfigMap", "shop-foreign", "evil");
    assert_null(cm);
    cJSON_Delete(cm);
    assert_true(compare_app(e, "shop-foreign") >= 10);
}

static void test_encrypted_point(void **state)
{
    struct env *e = *state;
    char pt[128];
    const char *by_secret[] = {"restore",
                               pt,
                               "--namespace-map",
                               "vault=vault-a",
                               "-p",
                               e->policy_file,
                               "--kubeconfig",
                               e->kubeconfig,
                               NULL};
    const char *no_key[] = {"restore",
                            pt,
                            "--namespace-map",
                            "vault=vault-b",
                            "-p",
                            e->policy_file,
                            "--kubeconfig",
                            e->kubeconfig,
                            NULL};
    const char *by_file[] = {"restore",
                             pt,
                             "--namespace-map",
                             "vault=vault-c",
                             "-p",
                             e->policy_file,
                             "--kubeconfig",
                             e->kubeconfig,
                             "--encryption-key",
                             e->key_file,
                             NULL};
    cJSON *cm;

    snprintf(pt, sizeof(pt), "vaultpolicy/vault/%s", e->vault_id);
    /* The key comes from the policy's encryption.keySecret. */
    assert_int_equal(run(e, by_secret), 0);
    cm = fake_kube_get_object(e->fk, "v1", "ConfigMap", "vault-a", "sealed");
    assert_non_null(cm);
    assert_string_equal(str_at(obj_at(cm, "data"), "x"), "1");
    cJSON_Delete(cm);
    /* Without the Secret there is no key: refused, nothing created. */
    assert_int_equal(fake_kube_delete_object(e->fk, "v1", "secrets", "default", "lw-key"), 0);
    assert_int_equal(run(e, no_key), 1);
    assert_non_null(strstr(e->errout, "refusing restore point vault/"));
    assert_non_null(strstr(e->errout, "is encrypted"));
    assert_non_null(strstr(e->errout, "key Secret lw-key"));
    assert_int_equal(count_ns(e, "vault-b"), 0);
    /* A key file works without the Secret. */
    assert_int_equal(run(e, by_file), 0);
    cm = fake_kube_get_object(e->fk, "v1", "ConfigMap", "vault-c", "sealed");
    assert_non_null(cm);
    cJSON_Delete(cm);
}

static void test_bad_arguments(void **state)
{
    struct env *e = *state;
    const char *a1[] = {"restore", "shop", NULL};
    const char *a2[] = {"restore", "shop/not-an-id", NULL};
    const char *a3[] = {"restore", "shop/20261122T093000Z-1a2b3c4d", "--existing", "merge", NULL};
    const char *a4[] = {"restore", "shop/20261122T093000Z-1a2b3c4d", "--namespace-map", "a=B",
                        NULL};
    const char *a5[] = {"restore",
                        "shop/20261122T093000Z-1a2b3c4d",
                        "-p",
                        e->policy_file,
                        "--kubeconfig",
                        e->kubeconfig,
                        NULL};

    assert_int_equal(run(e, a1), 2);
    assert_int_equal(run(e, a2), 2);
    assert_non_null(strstr(e->errout, "not a restore point id"));
    assert_int_equal(run(e, a3), 2);
    assert_int_equal(run(e, a4), 2);
    assert_int_equal(run(e, a5), 1); /* well-formed but absent */
    assert_non_null(strstr(e->errout, "not found"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restore_after_loss),
        cmocka_unit_test(test_restore_again_skips_then_updates),
        cmocka_unit_test(test_clone_into_new_namespace),
        cmocka_unit_test(test_dry_run_changes_nothing),
        cmocka_unit_test(test_partial_failure_reported_per_object),
        cmocka_unit_test(test_foreign_archive_version_ignored),
        cmocka_unit_test(test_foreign_manifest_version_ignored),
        cmocka_unit_test(test_encrypted_point),
        cmocka_unit_test(test_bad_arguments),
    };

    policy_json_hooks_install();
    return cmocka_run_group_tests(tests, setup, teardown);
}
