/* SPDX-License-Identifier: Apache-2.0 */
/* test_backup_rgw.c - `lockwarden backup` end to end against a real radosgw with an
 * Object Lock bucket (tests/run.sh starts tests/support/rgw.sh) and the fake
 * kube-apiserver: capture an app with Deployments, StatefulSets, Services, ConfigMaps,
 * Secrets, PVCs and a custom resource; verify; the server refusing a DELETE of a
 * locked version; prune keeping locked points, deleting unlocked ones and extending
 * locks; a bucket without Object Lock refused; API 429/500 retried; a snapshot
 * failure and a capture killed mid-way leaving no complete-looking restore point;
 * credentials from a Secret; client-side encryption. */
#include "backup/backup.h"
#include "backup/s3/s3.h"
#include "tests/support/backup_env.h"
#include "tests/support/fake_kube.h"
#include "tests/support/kube_testutil.h"
#include "tests/support/proc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct env {
    struct bte_env b;
    char *out; /* output of the last lw() */
    int code;  /* its exit code */
};

/* Writes the BackupPolicy "testpolicy" for e->b.bucket. lock: "" (none) or a mode. */
static void write_policy(struct env *e, const char *lock, unsigned days, const char *retention,
                         const char *extra)
{
    char yaml[2048];
    char lockpart[128] = "";

    if (lock[0] != '\0')
        (void)snprintf(lockpart, sizeof(lockpart), "  objectLock:\n    mode: %s\n    days: %u\n",
                       lock, days);
    (void)snprintf(yaml, sizeof(yaml),
                   "apiVersion: lockwarden.io/v1alpha1\n"
                   "kind: BackupPolicy\n"
                   "metadata:\n  name: testpolicy\n"
                   "spec:\n"
                   "  schedule: \"@hourly\"\n"
                   "  retention:\n%s"
                   "%s"
                   "  location:\n"
                   "    endpoint: \"%s\"\n"
                   "    region: us-east-1\n"
                   "    bucket: %s\n"
                   "    prefix: itest\n"
                   "    pathStyle: true\n"
                   "%s",
                   retention, lockpart, e->b.endpoint, e->b.bucket, extra ? extra : "");
    assert_int_equal(
        kube_test_write(e->b.dir, "policy.yaml", yaml, e->b.policy, sizeof(e->b.policy)), 0);
}

/* Runs the binary with up to 12 arguments after "backup"/"executor"; keeps its output. */
static int lw(struct env *e, const char *const *args)
{
    char *argv[24];
    size_t n = 0, i;
    int code = -1;
    size_t len = 0;
    struct cm_err err;

    argv[n++] = (char *)e->b.lw;
    for (i = 0; args[i] != NULL && n < 22; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    (void)unlink(e->b.log);
    assert_int_equal(proc_run(argv, e->b.log, 120000, &code), 0);
    cm_free(e->out);
    e->out = NULL;
    if (cm_fs_read_file(e->b.log, 16u << 20, &e->out, &len, &err) != 0)
        e->out = cm_strdup("");
    e->code = code;
    return code;
}

static void expect_out(struct env *e, const char *needle)
{
    if (strstr(e->out, needle) == NULL)
        fail_msg("output lacks \"%s\":\n%s", needle, e->out);
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));

    if (e == NULL)
        return -1;
    /* A missing server is a failure, not a skip: these tests are the proof. */
    if (bte_env_setup(&e->b, "lw-bk-a", "lw.log", 2) != 0) {
        free(e);
        return -1;
    }
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;

    bte_env_teardown(&e->b);
    cm_free(e->out);
    free(e);
    return 0;
}

static void make_bucket(struct env *e, bool lock)
{
    struct cm_err err;

    if (s3_client_create_bucket(e->b.s3, lock, &err) != 0)
        fail_msg("create bucket %s: %s", e->b.bucket, err.msg);
}

/* "restore point shop/<id> complete: ..." -> id */
static void id_from_run(struct env *e, char *id)
{
    const char *p = strstr(e->out, "restore point shop/");

    if (p == NULL)
        fail_msg("no restore point in output:\n%s", e->out);
    memcpy(id, p + 19, BACKUP_ID_LEN);
    id[BACKUP_ID_LEN] = '\0';
    assert_int_equal(backup_rp_id_parse(id, BACKUP_ID_LEN, NULL), 0);
}

struct seen {
    int deploy, sts, svc_web, svc_db, cm, root_ca, secret, pvc, pv, sc, crd, widget, pod, debug_pod,
        rs, event, ns;
    bool svc_has_ip, deploy_has_status, deploy_has_uid, pv_claim_uid;
};

static int on_res(const struct backup_mf_resource *r, const char *json, size_t len, void *ctx,
                  struct cm_err *err)
{
    struct seen *s = ctx;
    char *j = cm_strndup(json, len);

    (void)err;
    assert_non_null(j);
    if (strcmp(r->kind, "Deployment") == 0) {
        s->deploy++;
        s->deploy_has_status = strstr(j, "\"status\"") != NULL;
        s->deploy_has_uid = strstr(j, "\"uid\"") != NULL;
    } else if (strcmp(r->kind, "StatefulSet") == 0) {
        s->sts++;
    } else if (strcmp(r->kind, "Service") == 0 && strcmp(r->name, "web") == 0) {
        s->svc_web++;
        s->svc_has_ip = strstr(j, "10.96.0.10") != NULL;
    } else if (strcmp(r->kind, "Service") == 0) {
        s->svc_db++;
        assert_non_null(strstr(j, "\"clusterIP\":\"None\""));
    } else if (strcmp(r->kind, "ConfigMap") == 0 && strcmp(r->name, "web-config") == 0) {
        s->cm++;
    } else if (strcmp(r->kind, "ConfigMap") == 0) {
        s->root_ca++;
    } else if (strcmp(r->kind, "Secret") == 0) {
        s->secret++;
        assert_non_null(strstr(j, "czNjcjN0"));
    } else if (strcmp(r->kind, "PersistentVolumeClaim") == 0) {
        s->pvc++;
    } else if (strcmp(r->kind, "PersistentVolume") == 0) {
        s->pv++;
        assert_string_equal(r->name, "pv-data-db-0");
        assert_string_equal(r->namespace_, "");
        s->pv_claim_uid = strstr(j, "u-pvc") != NULL;
    } else if (strcmp(r->kind, "StorageClass") == 0) {
        s->sc++;
        assert_string_equal(r->name, "standard");
    } else if (strcmp(r->kind, "CustomResourceDefinition") == 0) {
        s->crd++;
        assert_string_equal(r->name, "widgets.example.com");
    } else if (strcmp(r->kind, "Widget") == 0) {
        s->widget++;
    } else if (strcmp(r->kind, "Pod") == 0 && strcmp(r->name, "debug") == 0) {
        s->debug_pod++;
    } else if (strcmp(r->kind, "Pod") == 0) {
        s->pod++;
    } else if (strcmp(r->kind, "ReplicaSet") == 0) {
        s->rs++;
    } else if (strcmp(r->kind, "Event") == 0 || strcmp(r->kind, "Endpoints") == 0 ||
               strcmp(r->kind, "Lease") == 0) {
        s->event++;
    } else if (strcmp(r->kind, "Namespace") == 0) {
        s->ns++;
    }
    cm_free(j);
    return 0;
}

static void test_capture_verify_delete_prune(void **state)
{
    struct env *e = *state;
    char id[BACKUP_ID_LEN + 1];
    char key[BACKUP_KEY_MAX + 1];
    struct backup_rp *rp = NULL;
    struct seen s;
    struct s3_object_info info;
    struct cm_err err;
    const struct backup_manifest *m;

    make_bucket(e, true);
    write_policy(e, "COMPLIANCE", 1, "    hourly: 0\n", NULL);
    {
        const char *a[] = {"backup",    "run",          "--namespace",   "shop", "-p",
                           e->b.policy, "--kubeconfig", e->b.kubeconfig, NULL};

        if (lw(e, a) != 0)
            fail_msg("backup run failed:\n%s", e->out);
    }
    id_from_run(e, id);
    expect_out(e, "1 snapshots");
    /* The snapshot object was created in the cluster with our labels. */
    assert_int_equal(
        fake_kube_count_objects(e->b.kube, "snapshot.storage.k8s.io/v1", "volumesnapshots", "shop"),
        1);
    /* Contents, through the reader restore uses. */
    assert_int_equal(backup_rp_open(e->b.s3, "itest", "shop", id, &rp, &err), 0);
    m = backup_rp_manifest(rp);
    assert_string_equal(m->policy, "testpolicy");
    assert_string_equal(m->lock_mode, "COMPLIANCE");
    assert_int_equal(m->n_snapshots, 1);
    assert_string_equal(m->snapshots[0].pvc, "data-db-0");
    assert_string_equal(m->snapshots[0].restore_size, "1Gi");
    assert_true(strncmp(m->snapshots[0].volume_snapshot_content, "snapcontent-", 12) == 0);
    assert_string_equal(m->snapshots[0].storage_class, "standard");
    memset(&s, 0, sizeof(s));
    assert_int_equal(backup_rp_foreach_resource(rp, NULL, on_res, &s, &err), 0);
    backup_rp_destroy(rp);
    assert_int_equal(s.deploy, 1);
    assert_int_equal(s.sts, 1);
    assert_int_equal(s.svc_web, 1);
    assert_int_equal(s.svc_db, 1);
    assert_int_equal(s.cm, 1);
    assert_int_equal(s.secret, 1);
    assert_int_equal(s.pvc, 1);
    assert_int_equal(s.pv, 1);
    assert_int_equal(s.sc, 1);
    assert_int_equal(s.crd, 1);
    assert_int_equal(s.widget, 1);
    assert_int_equal(s.debug_pod, 1); /* a bare Pod is the app's */
    assert_int_equal(s.ns, 1);
    assert_int_equal(s.pod, 0); /* controller-owned: recreated */
    assert_int_equal(s.rs, 0);
    assert_int_equal(s.root_ca, 0);
    assert_int_equal(s.event, 0);
    assert_false(s.svc_has_ip);
    assert_false(s.deploy_has_status);
    assert_false(s.deploy_has_uid);
    assert_false(s.pv_claim_uid);
    /* verify: every object read back, digests and server-side locks */
    {
        const char *a[] = {"backup", "verify", "shop/", NULL, "-p", e->b.policy, NULL};
        char target[64];

        (void)snprintf(target, sizeof(target), "shop/%s", id);
        a[2] = target;
        a[3] = "-p";
        a[4] = e->b.policy;
        a[5] = NULL;
        if (lw(e, a) != 0)
            fail_msg("verify failed:\n%s", e->out);
        expect_out(e, "SHA-256 match");
        expect_out(e, "lock COMPLIANCE until");
    }
    /* list -o json needs only the bucket */
    {
        const char *a[] = {"backup", "list",          "--bucket",    e->b.bucket, "--prefix",
                           "itest",  "--s3-endpoint", e->b.endpoint, "-o",        "json",
                           NULL};

        assert_int_equal(lw(e, a), 0);
        expect_out(e, "\"status\":\"complete\"");
        expect_out(e, id);
        expect_out(e, "\"lockMode\":\"COMPLIANCE\"");
    }
    /* the server refuses to delete a locked version */
    assert_int_equal(
        backup_rp_key("itest", "shop", id, BACKUP_ARCHIVE_NAME, key, sizeof(key), &err), 0);
    memset(&info, 0, sizeof(info));
    assert_int_equal(s3_client_head_object(e->b.s3, key, NULL, &info, &err), 0);
    assert_int_equal(info.lock_mode, S3_LOCK_COMPLIANCE);
    assert_int_equal(s3_client_delete_object(e->b.s3, key, info.version_id, false, &err),
                     CM_ELOCKED);
    /* prune with zero counts: the point is past the counts but locked, so retained */
    {
        const char *a[] = {"backup",       "prune",         "-p", e->b.policy,
                           "--kubeconfig", e->b.kubeconfig, NULL};

        if (lw(e, a) != 0)
            fail_msg("prune failed:\n%s", e->out);
        expect_out(e, "retained");
        expect_out(e, "0 deleted, 0 errors");
    }
    assert_int_equal(s3_client_head_object(e->b.s3, key, NULL, &info, &err), 0);
    /* A later version written over the archive (possible even under Object Lock: it
     * adds a version) is ignored: reads are pinned to the version the manifest names,
     * and verify reports the foreign write. */
    {
        const char *a[] = {"backup", "verify", NULL, "-p", NULL, NULL};
        char target[64];
        struct s3_put_opts po;

        memset(&po, 0, sizeof(po));
        po.lock_mode = S3_LOCK_GOVERNANCE;
        po.retain_until = (time_t)(cm_time_now_ms() / 1000) + 3600;
        assert_int_equal(s3_client_put_object(e->b.s3, key, "junk", 4, &po, NULL, &err), 0);
        (void)snprintf(target, sizeof(target), "shop/%s", id);
        a[2] = target;
        a[4] = e->b.policy;
        if (lw(e, a) != 0)
            fail_msg("verify of a pinned point failed:\n%s", e->out);
        expect_out(e, "1 later version(s)");
        expect_out(e, "SHA-256 match");
    }
    /* a second manifest.json version (e.g. pointing elsewhere) is not trusted either */
    {
        const char *a[] = {"backup", "verify", NULL, "-p", NULL, NULL};
        char target[64];
        char mkey[BACKUP_KEY_MAX + 1];

        assert_int_equal(
            backup_rp_key("itest", "shop", id, BACKUP_MANIFEST_NAME, mkey, sizeof(mkey), &err), 0);
        assert_int_equal(s3_client_put_object(e->b.s3, mkey, "{}", 2, NULL, NULL, &err), 0);
        (void)snprintf(target, sizeof(target), "shop/%s", id);
        a[2] = target;
        a[4] = e->b.policy;
        if (lw(e, a) != 0)
            fail_msg("verify with a foreign manifest version failed:\n%s", e->out);
        expect_out(e, "2 later version(s)");
    }
}

static void test_bucket_without_lock_refused(void **state)
{
    struct env *e = *state;
    const char *a[] = {"backup", "run",          "--namespace", "shop", "-p",
                       NULL,     "--kubeconfig", NULL,          NULL};

    make_bucket(e, false);
    write_policy(e, "GOVERNANCE", 1, "    daily: 1\n", NULL);
    a[5] = e->b.policy;
    a[7] = e->b.kubeconfig;
    assert_int_equal(lw(e, a), 1);
    expect_out(e, e->b.bucket);
    if (strstr(e->out, "versioning is not enabled") == NULL &&
        strstr(e->out, "Object Lock is not enabled") == NULL)
        fail_msg("no missing setting named:\n%s", e->out);
    /* nothing was written */
    assert_int_equal(
        fake_kube_count_objects(e->b.kube, "snapshot.storage.k8s.io/v1", "volumesnapshots", "shop"),
        0);
}

static void test_api_faults_retried(void **state)
{
    struct env *e = *state;
    struct fake_kube_rule r429 = {"GET", "/configmaps", NULL, FAKE_KUBE_FAULT_429, 2, 1};
    struct fake_kube_rule r500 = {"GET", "/apis/apps/v1", NULL, FAKE_KUBE_FAULT_500, 1, 0};
    struct fake_kube_rule r503 = {"POST", "/volumesnapshots", NULL, FAKE_KUBE_FAULT_503, 1, 0};
    const char *a[] = {"backup",       "run", "--namespace", "shop",       "-p", NULL,
                       "--kubeconfig", NULL,  "--policy",    "testpolicy", NULL};
    size_t i, n429 = 0, n500 = 0;

    make_bucket(e, true);
    write_policy(e, "GOVERNANCE", 1, "    daily: 1\n", NULL);
    assert_int_equal(fake_kube_inject(e->b.kube, &r429), 0);
    assert_int_equal(fake_kube_inject(e->b.kube, &r500), 0);
    assert_int_equal(fake_kube_inject(e->b.kube, &r503), 0);
    fake_kube_requests_clear(e->b.kube);
    a[5] = e->b.policy;
    a[7] = e->b.kubeconfig;
    if (lw(e, a) != 0)
        fail_msg("backup run with API faults failed:\n%s", e->out);
    for (i = 0; i < fake_kube_request_count(e->b.kube); i++) {
        struct fake_kube_request rq;

        assert_int_equal(fake_kube_request_get(e->b.kube, i, &rq), 0);
        n429 += rq.status == 429;
        n500 += rq.status == 500 || rq.status == 503;
    }
    assert_int_equal(n429, 2);
    assert_int_equal(n500, 2);
    assert_int_equal(
        fake_kube_count_objects(e->b.kube, "snapshot.storage.k8s.io/v1", "volumesnapshots", "shop"),
        1);
}

/* RBAC that forbids Secrets: the capture completes without them, says so, and the
 * manifest names the skipped type. */
static void test_forbidden_type_recorded(void **state)
{
    struct env *e = *state;
    struct fake_kube_rule r = {"GET", "/secrets", NULL, FAKE_KUBE_FAULT_403, 0, 0};
    const char *a[] = {"backup",       "run", "--namespace", "shop",       "-p", NULL,
                       "--kubeconfig", NULL,  "--policy",    "testpolicy", NULL};
    char id[BACKUP_ID_LEN + 1];
    struct backup_rp *rp = NULL;
    struct cm_err err;
    struct seen s;

    make_bucket(e, true);
    write_policy(e, "GOVERNANCE", 1, "    daily: 1\n", NULL);
    assert_int_equal(fake_kube_inject(e->b.kube, &r), 0);
    a[5] = e->b.policy;
    a[7] = e->b.kubeconfig;
    if (lw(e, a) != 0)
        fail_msg("run failed:\n%s", e->out);
    expect_out(e, "1 resource type(s) were forbidden");
    id_from_run(e, id);
    assert_int_equal(backup_rp_open(e->b.s3, "itest", "shop", id, &rp, &err), 0);
    assert_int_equal(backup_rp_manifest(rp)->n_skipped, 1);
    assert_string_equal(backup_rp_manifest(rp)->skipped[0], "secrets");
    memset(&s, 0, sizeof(s));
    assert_int_equal(backup_rp_foreach_resource(rp, NULL, on_res, &s, &err), 0);
    assert_int_equal(s.secret, 0);
    assert_int_equal(s.deploy, 1);
    backup_rp_destroy(rp);
}

static void test_snapshot_failure_fails_clearly(void **state)
{
    struct env *e = *state;
    const char *a[] = {"backup",       "run", "--namespace", "shop",       "-p", NULL,
                       "--kubeconfig", NULL,  "--policy",    "testpolicy", NULL};
    const char *l[] = {"backup", "list", "-p", NULL, "-o", "json", NULL};

    make_bucket(e, true);
    write_policy(e, "GOVERNANCE", 1, "    daily: 1\n", NULL);
    assert_int_equal(fake_kube_snapshot_fail(e->b.kube, "data-db-0", "csi driver exploded"), 0);
    a[5] = e->b.policy;
    a[7] = e->b.kubeconfig;
    assert_int_equal(lw(e, a), 1);
    expect_out(e, "snapshot of PVC shop/data-db-0 failed: csi driver exploded");
    /* the failed capture's snapshot was cleaned up; its locked archive is a partial */
    assert_int_equal(
        fake_kube_count_objects(e->b.kube, "snapshot.storage.k8s.io/v1", "volumesnapshots", "shop"),
        0);
    l[3] = e->b.policy;
    assert_int_equal(lw(e, l), 0);
    expect_out(e, "\"status\":\"partial\"");
    assert_null(strstr(e->out, "\"status\":\"complete\""));
}

static void test_killed_capture_is_not_complete(void **state)
{
    struct env *e = *state;
    struct proc p;
    char *argv[12];
    char target[80];
    char *id;
    int64_t deadline;
    const char *l[] = {"backup", "list", "-p", NULL, "-o", "json", NULL};
    const char *v[] = {"backup", "verify", NULL, "-p", NULL, NULL};

    make_bucket(e, true);
    write_policy(e, "GOVERNANCE", 1, "    daily: 1\n", NULL);
    fake_kube_snapshot_ready_after(e->b.kube, 1000000); /* the snapshot never gets ready */
    argv[0] = (char *)e->b.lw;
    argv[1] = "backup";
    argv[2] = "run";
    argv[3] = "--namespace";
    argv[4] = "shop";
    argv[5] = e->b.policy;
    argv[6] = "--kubeconfig";
    argv[7] = e->b.kubeconfig;
    argv[8] = "--policy";
    argv[9] = "testpolicy";
    argv[10] = NULL;
    argv[5] = e->b.policy;
    {
        /* "-p" before the path */
        static char dash_p[] = "-p";
        char *tmp[12] = {argv[0],     argv[1], argv[2], argv[3], argv[4], dash_p,
                         e->b.policy, argv[6], argv[7], argv[8], argv[9], NULL};

        memcpy(argv, tmp, sizeof(tmp));
    }
    memset(&p, 0, sizeof(p));
    fake_kube_requests_clear(e->b.kube);
    assert_int_equal(proc_spawn(&p, argv, NULL, e->b.log), 0);
    /* Poll until the capture is waiting for the snapshot (it has read it twice). */
    deadline = cm_time_now_ms() + 60000;
    while (fake_kube_request_match(e->b.kube, "GET", "/volumesnapshots/lw-", NULL) < 2) {
        if (cm_time_now_ms() > deadline) {
            proc_kill(&p);
            fail_msg("capture never reached the snapshot wait");
        }
        proc_nap_ms(20);
    }
    assert_int_equal(proc_signal(&p, SIGKILL), 0);
    proc_kill(&p);
    l[3] = e->b.policy;
    assert_int_equal(lw(e, l), 0);
    expect_out(e, "\"status\":\"partial\"");
    assert_null(strstr(e->out, "\"status\":\"complete\""));
    id = strstr(e->out, "\"id\":\"");
    assert_non_null(id);
    (void)snprintf(target, sizeof(target), "shop/%.*s", BACKUP_ID_LEN, id + 6);
    v[2] = target;
    v[4] = e->b.policy;
    assert_int_equal(lw(e, v), 1);
    expect_out(e, "partial");
}

static void test_secret_credentials_and_encryption(void **state)
{
    struct env *e = *state;
    char secret[1024];
    char keyfile[600];
    char *ak64 = cm_base64_encode(e->b.creds.access_key, strlen(e->b.creds.access_key), NULL);
    char *sk64 = cm_base64_encode(e->b.creds.secret_key, strlen(e->b.creds.secret_key), NULL);
    char *saved_ak = cm_strdup(getenv("AWS_ACCESS_KEY_ID"));
    char *saved_sk = cm_strdup(getenv("AWS_SECRET_ACCESS_KEY"));
    char id[BACKUP_ID_LEN + 1];
    char target[64];
    const char *a[] = {"backup",       "run", "--namespace",        "shop",       "-p", NULL,
                       "--kubeconfig", NULL,  "--secret-namespace", "lockwarden", NULL};

    make_bucket(e, true);
    (void)snprintf(secret, sizeof(secret),
                   "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s3-creds\","
                   "\"namespace\":\"lockwarden\"},\"data\":{\"aws_access_key_id\":\"%s\","
                   "\"aws_secret_access_key\":\"%s\"}}",
                   ak64, sk64);
    assert_int_equal(fake_kube_add_object_json(e->b.kube, secret), 1);
    assert_int_equal(
        fake_kube_add_object_json(e->b.kube,
                                  "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{"
                                  "\"name\":\"backup-key\",\"namespace\":\"lockwarden\"},\"data\":{"
                                  "\"key\":\"MDAwMTAyMDMwNDA1MDYwNzA4MDkwYTBiMGMwZDBlMGYxMDExMTIx"
                                  "MzE0MTUxNjE3MTgxOTFhMWIxYzFkMWUxZg==\"}}"),
        1);
    write_policy(e, "GOVERNANCE", 1, "    daily: 1\n",
                 "    credentialsSecret: s3-creds\n  encryption:\n    keySecret: backup-key\n");
    a[5] = e->b.policy;
    a[7] = e->b.kubeconfig;
    /* No credentials in the environment: they must come from the Secret. */
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    (void)lw(e, a);
    setenv("AWS_ACCESS_KEY_ID", saved_ak, 1);
    setenv("AWS_SECRET_ACCESS_KEY", saved_sk, 1);
    if (e->code != 0)
        fail_msg("run with Secret credentials failed:\n%s", e->out);
    id_from_run(e, id);
    (void)snprintf(target, sizeof(target), "shop/%s", id);
    /* The stored archive is ciphertext; without the key only stored bytes are checked. */
    {
        const char *v[] = {"backup",   "verify", target,          "--bucket",    e->b.bucket,
                           "--prefix", "itest",  "--s3-endpoint", e->b.endpoint, NULL};

        assert_int_equal(lw(e, v), 0);
        expect_out(e, "not decrypted");
        expect_out(e, "resources.tar.zst.enc");
    }
    assert_int_equal(kube_test_write(e->b.dir, "key.hex",
                                     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d"
                                     "1e1f\n",
                                     keyfile, sizeof(keyfile)),
                     0);
    {
        const char *v[] = {"backup",      "verify",           target,  "--bucket",
                           e->b.bucket,   "--prefix",         "itest", "--s3-endpoint",
                           e->b.endpoint, "--encryption-key", keyfile, NULL};

        assert_int_equal(lw(e, v), 0);
        expect_out(e, "SHA-256 match");
    }
    {
        const char *l[] = {"backup", "list",          "--bucket",    e->b.bucket, "--prefix",
                           "itest",  "--s3-endpoint", e->b.endpoint, "-o",        "json",
                           NULL};

        assert_int_equal(lw(e, l), 0);
        expect_out(e, "\"keyId\":\"sha256:");
        /* the manifest holds the key id, never the key */
        assert_null(strstr(e->out, "000102030405"));
    }
    cm_free(ak64);
    cm_free(sk64);
    cm_free(saved_ak);
    cm_free(saved_sk);
}

/* Without Object Lock: daily 1 keeps the newest of two same-day points and deletes
 * the other; with a lock, a kept monthly point near its lock's end is extended. */
static void test_prune_deletes_and_extends(void **state)
{
    struct env *e = *state;
    const char *a[] = {"backup",       "run", "--namespace", "shop",       "-p", NULL,
                       "--kubeconfig", NULL,  "--policy",    "testpolicy", NULL};
    const char *pr[] = {"backup", "prune", "-p", NULL, "--kubeconfig", NULL, NULL, NULL, NULL};
    struct backup_catalog *c = NULL;
    struct cm_err err;
    char first[BACKUP_ID_LEN + 1], second[BACKUP_ID_LEN + 1];
    char now_s[32];
    char key[BACKUP_KEY_MAX + 1];
    struct s3_object_info info;
    time_t before;
    size_t i, locks = 0;

    make_bucket(e, true);
    write_policy(e, "", 0, "    daily: 1\n", NULL);
    a[5] = e->b.policy;
    a[7] = e->b.kubeconfig;
    pr[3] = e->b.policy;
    pr[5] = e->b.kubeconfig;
    assert_int_equal(lw(e, a), 0);
    id_from_run(e, first);
    assert_int_equal(lw(e, a), 0);
    id_from_run(e, second);
    assert_int_equal(lw(e, pr), 0);
    expect_out(e, "1 deleted, 0 errors");
    assert_int_equal(backup_catalog_list(e->b.s3, "itest", "shop", false, &c, &err), 0);
    assert_int_equal(backup_catalog_count(c), 1);
    assert_string_equal(backup_catalog_get(c, 0)->id, strcmp(first, second) > 0 ? first : second);
    backup_catalog_destroy(c);

    /* Lock extension: COMPLIANCE 1 day, monthly 1. Judged 23 hours later the lock ends
     * within the window (12 h): it must move to judge time + 1 day. */
    write_policy(e, "COMPLIANCE", 1, "    monthly: 1\n", NULL);
    assert_int_equal(lw(e, a), 0);
    id_from_run(e, first);
    assert_int_equal(
        backup_rp_key("itest", "shop", first, BACKUP_ARCHIVE_NAME, key, sizeof(key), &err), 0);
    assert_int_equal(s3_client_head_object(e->b.s3, key, NULL, &info, &err), 0);
    before = info.retain_until;
    cm_time_format((time_t)(cm_time_now_ms() / 1000) + 23 * 3600, now_s, sizeof(now_s));
    pr[6] = "--now";
    pr[7] = now_s;
    assert_int_equal(lw(e, pr), 0);
    expect_out(e, "extend");
    assert_int_equal(s3_client_head_object(e->b.s3, key, NULL, &info, &err), 0);
    assert_true(info.retain_until > before + 20 * 3600);
    assert_int_equal(info.lock_mode, S3_LOCK_COMPLIANCE);
    /* the change is recorded as a new key, the manifest untouched */
    assert_int_equal(backup_catalog_list(e->b.s3, "itest", "shop", false, &c, &err), 0);
    for (i = 0; i < backup_catalog_count(c); i++) {
        const struct backup_rp_info *p = backup_catalog_get(c, i);
        size_t j;

        for (j = 0; j < p->n_objects; j++)
            locks += strstr(p->objects[j].key, "/locks/") != NULL;
    }
    backup_catalog_destroy(c);
    assert_int_equal(locks, 1);
}

/* Usage errors exit 2 with a clear message; nothing is touched. */
static void test_cli_usage_errors(void **state)
{
    struct env *e = *state;
    const char *no_p[] = {"backup", "run", "--namespace", "shop", NULL};
    const char *no_ns[] = {"backup", "run", "-p", "x", NULL};
    const char *bad_ns[] = {"backup",   "list", "--namespace", "Not_A_Namespace",
                            "--bucket", "b",    NULL};
    const char *bad_sub[] = {"backup", "restore-all", NULL};
    const char *bad_id[] = {"backup", "verify", "shop/yesterday", "--bucket", "b", NULL};
    const char *no_src[] = {"backup", "list", NULL};
    const char *bad_now[] = {"backup", "prune", "-p", "x", "--now", "tomorrow", NULL};

    assert_int_equal(lw(e, no_p), 2);
    expect_out(e, "-p POLICIES is required");
    assert_int_equal(lw(e, no_ns), 2);
    expect_out(e, "--namespace is required");
    assert_int_equal(lw(e, bad_ns), 2);
    expect_out(e, "not a namespace name");
    assert_int_equal(lw(e, bad_sub), 2);
    expect_out(e, "unknown subcommand 'restore-all'");
    assert_int_equal(lw(e, bad_id), 2);
    expect_out(e, "not a restore point id");
    assert_int_equal(lw(e, no_src), 2);
    expect_out(e, "give -p POLICIES or --bucket");
    assert_int_equal(lw(e, bad_now), 2);
    expect_out(e, "not an RFC 3339 time");
}

/* list (text) and prune --dry-run on a bucket with one unlocked point past the counts:
 * the dry run reports "expire (dry run)" and deletes nothing. */
static void test_list_text_and_dry_run(void **state)
{
    struct env *e = *state;
    const char *a[] = {"backup",       "run", "--namespace", "shop",       "-p", NULL,
                       "--kubeconfig", NULL,  "--policy",    "testpolicy", NULL};
    const char *l[] = {"backup", "list", "-p", NULL, NULL};
    const char *d[] = {"backup", "prune", "-p", NULL, "--dry-run", "--now", NULL, NULL};
    char id[BACKUP_ID_LEN + 1];
    char later[32];

    make_bucket(e, true);
    write_policy(e, "", 0, "    hourly: 0\n", NULL);
    a[5] = e->b.policy;
    a[7] = e->b.kubeconfig;
    assert_int_equal(lw(e, a), 0);
    id_from_run(e, id);
    l[3] = e->b.policy;
    assert_int_equal(lw(e, l), 0);
    expect_out(e, "NAMESPACE");
    expect_out(e, id);
    expect_out(e, "complete");
    expect_out(e, "testpolicy");
    cm_time_format((time_t)(cm_time_now_ms() / 1000) + 7200, later, sizeof(later));
    d[3] = e->b.policy;
    d[6] = later;
    assert_int_equal(lw(e, d), 0);
    expect_out(e, "expire");
    expect_out(e, "(dry run)");
    expect_out(e, "0 deleted");
    assert_int_equal(lw(e, l), 0);
    expect_out(e, id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_capture_verify_delete_prune, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bucket_without_lock_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_faults_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_failure_fails_clearly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forbidden_type_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_capture_is_not_complete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_credentials_and_encryption, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_deletes_and_extends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli_usage_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_text_and_dry_run, setup, teardown),
    };

    return cmocka_run_group_tests(tests, bte_group_setup, bte_group_teardown);
}
