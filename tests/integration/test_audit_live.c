/* SPDX-License-Identifier: Apache-2.0 */
/* test_audit_live.c - `lockwarden audit` against a live cluster (the fake
 * kube-apiserver) and real restore points in radosgw: apps captured by the executor
 * now (protected), five hours ago under an hourly schedule (stale), under a policy
 * without Object Lock although the app asks for immutability (not-immutable), with a
 * tampered archive (original version removed, a flipped one on top), in a bucket that does not
 * exist, never captured, or not bound at all (unprotected); a foreign manifest.json version over a
 * good point is ignored (pinned reads) and named. Every output format is checked, and the exit code
 * is 1, or 0 for a cluster whose only app is protected. Needs S3_ENDPOINT/AWS_*
 * (tests/support/rgw.sh) and LW_BIN. */
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

struct env {
    struct fake_kube *fk;
    struct fake_kube *fk_ok; /* a second cluster: only the protected app */
    struct policy_set *ps;
    struct s3_client *s3;
    char dir[256];
    char kubeconfig[300];
    char kubeconfig_ok[300];
    char policy_file[300];
    char bucket[64];
    char out[1 << 16];
    char errout[1 << 14];
};

static int run(struct env *e, const char *const *args)
{
    char *argv[32];
    struct proc_output o = {e->out, sizeof(e->out), e->errout, sizeof(e->errout), -1};
    size_t i;

    argv[0] = (char *)getenv("LW_BIN") != NULL ? getenv("LW_BIN") : "build/lockwarden";
    for (i = 0; args[i] != NULL && i < 30; i++)
        argv[i + 1] = (char *)args[i];
    argv[i + 1] = NULL;
    if (proc_run2(argv, e->dir, 120000, &o) != 0)
        return -1;
    if (getenv("LW_TEST_VERBOSE") != NULL)
        fprintf(stderr, "--- audit: exit %d\n%s%s", o.exit_code, e->out, e->errout);
    return o.exit_code;
}

static void no_sleep(uint64_t ms, void *ctx)
{
    (void)ms;
    (void)ctx;
}

static const char *app_json(const char *ns, const char *kind, const char *name, const char *labels,
                            const char *annotations, char *buf, size_t len)
{
    snprintf(buf, len,
             "[{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\"}},"
             "{\"apiVersion\":\"apps/v1\",\"kind\":\"%s\",\"metadata\":{\"name\":\"%s\","
             "\"namespace\":\"%s\",\"labels\":{%s},\"annotations\":{%s}},\"spec\":{\"replicas\":1,"
             "\"selector\":{\"matchLabels\":{\"app\":\"%s\"}},\"template\":{\"metadata\":{"
             "\"labels\":{\"app\":\"%s\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
             "\"image\":\"nginx\"}]}}}},"
             "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\","
             "\"namespace\":\"%s\"},\"data\":{\"k\":\"v\"}}]",
             ns, kind, name, ns, labels, annotations, name, name, ns);
    return buf;
}

#define GOLD "\"dataprotection\":\"k10-goldpolicy\",\"immutable\":\"enabled\""
#define BIND(p) "\"lockwarden.io/backup-policy\":\"" p "\""

static int capture(struct env *e, const char *policy, const char *ns, time_t now, char *id_out)
{
    struct kube_config *cfg = NULL;
    struct kube_client *kc = NULL;
    struct backup_capture_opts co;
    struct backup_capture_result cr;
    const struct policy_backup *bp = policy_set_backup_find(e->ps, policy, strlen(policy));
    struct cm_err err;
    int rc;

    if (bp == NULL || kube_config_create(fake_kube_url(e->fk), &cfg, &err) != 0 ||
        kube_client_create(cfg, &kc, &err) != 0)
        return -1;
    memset(&co, 0, sizeof(co));
    co.policy = bp;
    co.namespace_ = ns;
    co.kube = kc;
    co.s3 = e->s3;
    co.prefix = bp->location.prefix;
    co.tool_version = "test";
    co.now = now;
    co.sleep = no_sleep;
    rc = backup_capture_run(&co, &cr, &err);
    if (rc != 0)
        fprintf(stderr, "capture %s: %s\n", ns, err.msg);
    else if (id_out != NULL)
        memcpy(id_out, cr.id, BACKUP_ID_LEN + 1);
    kube_client_destroy(kc);
    kube_config_destroy(cfg);
    return rc;
}

static int setup(void **state)
{
    static struct env e;
    const char *endpoint = bte_s3_endpoint("test_audit_live");
    const char *region = getenv("S3_REGION") != NULL ? getenv("S3_REGION") : "us-east-1";
    struct cm_err err;
    char policy[4096];
    char buf[2048];
    char id[BACKUP_ID_LEN + 1];
    char shop_id[BACKUP_ID_LEN + 1];
    struct backup_rp *rp = NULL;
    char key[BACKUP_KEY_MAX];
    char *arch = NULL;
    size_t len = 0;
    time_t now = time(NULL);
    int n;

    memset(&e, 0, sizeof(e));
    if (endpoint == NULL)
        return -1;
    snprintf(e.dir, sizeof(e.dir), "%s/lw-audit-XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(e.dir) == NULL)
        return -1;
    if (fake_kube_start(NULL, &e.fk) != 0 || fake_kube_start(NULL, &e.fk_ok) != 0)
        return -1;
    snprintf(e.kubeconfig, sizeof(e.kubeconfig), "%s/kubeconfig", e.dir);
    snprintf(e.kubeconfig_ok, sizeof(e.kubeconfig_ok), "%s/kubeconfig-ok", e.dir);
    if (fake_kube_write_kubeconfig(e.fk, e.kubeconfig, NULL, false) != 0 ||
        fake_kube_write_kubeconfig(e.fk_ok, e.kubeconfig_ok, NULL, false) != 0)
        return -1;
    if (fake_kube_add_object_json(e.fk, app_json("shop", "Deployment", "web", GOLD,
                                                 BIND("goldpolicy"), buf, sizeof(buf))) < 0 ||
        fake_kube_add_object_json(e.fk_ok, app_json("shop", "Deployment", "web", GOLD,
                                                    BIND("goldpolicy"), buf, sizeof(buf))) < 0 ||
        fake_kube_add_object_json(e.fk, app_json("inventory", "StatefulSet", "db", GOLD,
                                                 BIND("goldpolicy"), buf, sizeof(buf))) < 0 ||
        fake_kube_add_object_json(e.fk, app_json("payments", "Deployment", "ledger",
                                                 "\"immutable\":\"enabled\"", BIND("nolockpolicy"),
                                                 buf, sizeof(buf))) < 0 ||
        fake_kube_add_object_json(e.fk, app_json("legacy", "Deployment", "old-app",
                                                 "\"app\":\"old\"", "", buf, sizeof(buf))) < 0 ||
        fake_kube_add_object_json(e.fk, app_json("tampered", "Deployment", "app", GOLD,
                                                 BIND("goldpolicy"), buf, sizeof(buf))) < 0 ||
        fake_kube_add_object_json(e.fk, app_json("lost", "Deployment", "app", GOLD,
                                                 BIND("lostpolicy"), buf, sizeof(buf))) < 0 ||
        fake_kube_add_object_json(e.fk, app_json("empty", "StatefulSet", "never", GOLD,
                                                 BIND("goldpolicy"), buf, sizeof(buf))) < 0)
        return -1;

    snprintf(e.bucket, sizeof(e.bucket), "lw-audit-%ld-%ld", (long)getpid(), (long)now);
    if (bte_locked_bucket(endpoint, region, e.bucket, &e.s3) != 0)
        return -1;
    n = bte_gold_policy(policy, sizeof(policy), endpoint, region, e.bucket);
    snprintf(policy + n, sizeof(policy) - (size_t)n,
             "---\napiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\nmetadata:\n"
             "  name: nolockpolicy\nspec:\n  schedule: \"@hourly\"\n  retention:\n    hourly: 24\n"
             "  location:\n    endpoint: %s\n    region: %s\n    bucket: %s\n"
             "    prefix: nolock\n    pathStyle: true\n---\n"
             "apiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\nmetadata:\n"
             "  name: lostpolicy\nspec:\n  schedule: \"@hourly\"\n  retention:\n    hourly: 24\n"
             "  objectLock:\n    mode: GOVERNANCE\n    days: 1\n  location:\n"
             "    endpoint: %s\n    region: %s\n    bucket: %s-missing\n    prefix: lost\n"
             "    pathStyle: true\n",
             endpoint, region, e.bucket, endpoint, region, e.bucket);
    if (bte_policy_file(e.dir, "policies.yaml", policy, e.policy_file, sizeof(e.policy_file),
                        &e.ps) != 0)
        return -1;
    if (capture(&e, "goldpolicy", "shop", 0, shop_id) != 0 ||
        capture(&e, "goldpolicy", "inventory", now - 5 * 3600, NULL) != 0 ||
        capture(&e, "nolockpolicy", "payments", 0, NULL) != 0 ||
        capture(&e, "goldpolicy", "tampered", 0, id) != 0)
        return -1;
    /* A new version of tampered's archive with one byte flipped. */
    if (backup_rp_key("gold", "tampered", id, BACKUP_ARCHIVE_NAME, key, sizeof(key), &err) != 0 ||
        s3_client_get_object_mem(e.s3, key, NULL, 64 << 20, &arch, &len, NULL, &err) != 0 ||
        len < 64)
        return -1;
    arch[len - 20] ^= 0x01;
    if (s3_client_put_object(e.s3, key, arch, len, NULL, NULL, &err) != 0) {
        cm_free(arch);
        return -1;
    }
    cm_free(arch);
    /* ... and the version the capture wrote removed (GOVERNANCE lets a privileged
     * caller do that): the reader is pinned to it, so the point no longer verifies. */
    if (backup_rp_open(e.s3, "gold", "tampered", id, &rp, &err) != 0 ||
        s3_client_delete_object(e.s3, key, backup_rp_manifest(rp)->archive_version, true, &err) !=
            0) {
        fprintf(stderr, "tampering: %s\n", err.msg);
        backup_rp_destroy(rp);
        return -1;
    }
    backup_rp_destroy(rp);
    /* A foreign manifest.json version over shop's point (Object Lock protects versions,
     * not keys): the audit reads the original one, so shop stays protected. */
    if (backup_rp_key("gold", "shop", shop_id, BACKUP_MANIFEST_NAME, key, sizeof(key), &err) != 0 ||
        s3_client_put_object(e.s3, key, "{}", 2, NULL, NULL, &err) != 0 ||
        s3_client_delete_object(e.s3, key, NULL, false, &err) != 0) /* + a delete marker */
        return -1;
    *state = &e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    char cmd[600];

    fake_kube_stop(e->fk);
    fake_kube_stop(e->fk_ok);
    s3_client_destroy(e->s3);
    policy_set_destroy(e->ps);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", e->dir);
    return 0;
}

static const cJSON *app(const cJSON *rep, const char *ns)
{
    const cJSON *a;

    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(rep, "apps"))
    {
        if (strcmp(cJSON_GetObjectItemCaseSensitive(a, "namespace")->valuestring, ns) == 0)
            return a;
    }
    fail_msg("no app in namespace %s", ns);
    return NULL;
}

static const char *cls(const cJSON *rep, const char *ns)
{
    return cJSON_GetObjectItemCaseSensitive(app(rep, ns), "class")->valuestring;
}

static bool has_issue(const cJSON *rep, const char *ns, const char *issue)
{
    const cJSON *i;

    cJSON_ArrayForEach(i, cJSON_GetObjectItemCaseSensitive(app(rep, ns), "issues"))
    {
        if (strcmp(i->valuestring, issue) == 0)
            return true;
    }
    return false;
}

static void test_json_classes(void **state)
{
    struct env *e = *state;
    const char *args[] = {"audit",       "-p", e->policy_file, "--kubeconfig",
                          e->kubeconfig, "-o", "json",         NULL};
    cJSON *rep;
    const cJSON *pt;

    assert_int_equal(run(e, args), 1);
    rep = cJSON_Parse(e->out);
    assert_non_null(rep);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(rep, "apps")), 7);
    assert_string_equal(cls(rep, "shop"), "protected");
    pt = cJSON_GetObjectItemCaseSensitive(app(rep, "shop"), "latestRestorePoint");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pt, "verified")));
    /* The lock as read back from radosgw. */
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(pt, "lockMode")->valuestring,
                        "GOVERNANCE");
    assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(pt, "retainUntil")));
    assert_string_equal(cls(rep, "inventory"), "stale");
    assert_string_equal(cls(rep, "payments"), "not-immutable");
    assert_true(has_issue(rep, "payments", "policy-has-no-lock"));
    assert_true(has_issue(rep, "payments", "not-locked"));
    assert_string_equal(cls(rep, "legacy"), "unprotected");
    assert_true(has_issue(rep, "legacy", "unbound"));
    assert_string_equal(cls(rep, "tampered"), "unprotected");
    assert_true(has_issue(rep, "tampered", "verify-failed"));
    assert_string_equal(cls(rep, "lost"), "unprotected");
    assert_true(has_issue(rep, "lost", "verify-failed"));
    assert_false(has_issue(rep, "lost", "stale")); /* no time known: no RPO verdict */
    pt = cJSON_GetObjectItemCaseSensitive(app(rep, "lost"), "latestRestorePoint");
    assert_non_null(
        strstr(cJSON_GetObjectItemCaseSensitive(pt, "verifyDetail")->valuestring, "NoSuchBucket"));
    /* A tampered point: what differs is named, and its lock is still read back. */
    pt = cJSON_GetObjectItemCaseSensitive(app(rep, "tampered"), "latestRestorePoint");
    assert_non_null(strstr(cJSON_GetObjectItemCaseSensitive(pt, "verifyDetail")->valuestring,
                           "resources.tar.zst is missing"));
    /* shop's foreign manifest.json version was ignored, and named. */
    pt = cJSON_GetObjectItemCaseSensitive(app(rep, "shop"), "latestRestorePoint");
    assert_non_null(strstr(cJSON_GetObjectItemCaseSensitive(pt, "verifyDetail")->valuestring,
                           "1 later version"));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(pt, "lockMode")->valuestring,
                        "GOVERNANCE");
    assert_string_equal(cls(rep, "empty"), "unprotected");
    assert_true(has_issue(rep, "empty", "no-restore-point"));
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(
                         cJSON_GetObjectItemCaseSensitive(rep, "summary"), "unprotected")
                         ->valueint,
                     4);
    cJSON_Delete(rep);
}

static void test_text_csv_html(void **state)
{
    struct env *e = *state;
    char html[320];
    const char *text[] = {"audit", "-p", e->policy_file, "--kubeconfig", e->kubeconfig, NULL};
    const char *csv[] = {"audit",       "-p", e->policy_file, "--kubeconfig",
                         e->kubeconfig, "-o", "csv",          NULL};
    const char *htm[] = {"audit", "-p",   e->policy_file, "--kubeconfig", e->kubeconfig,
                         "-o",    "html", "--out",        html,           NULL};
    char *doc = NULL;
    size_t len = 0;

    assert_int_equal(run(e, text), 1);
    assert_non_null(strstr(e->out, "7 apps: 1 protected, 4 unprotected, 1 stale, "
                                   "1 not-immutable: NOT COMPLIANT"));
    assert_non_null(strstr(e->out, "stale          inventory"));
    assert_int_equal(run(e, csv), 1);
    assert_true(strncmp(e->out, "namespace,kind,name,class,", 26) == 0);
    assert_non_null(strstr(e->out, "\r\ninventory,StatefulSet,db,stale,stale,none,,goldpolicy,"
                                   "@hourly,"));
    assert_non_null(strstr(e->out, "\r\npayments,Deployment,ledger,not-immutable,"));
    snprintf(html, sizeof(html), "%s/audit.html", e->dir);
    assert_int_equal(run(e, htm), 1);
    assert_string_equal(e->out, ""); /* the report went to the file */
    assert_int_equal(cm_fs_read_file(html, 1 << 20, &doc, &len, NULL), 0);
    assert_non_null(strstr(doc, "<svg id=\"summary-chart\""));
    assert_non_null(
        strstr(doc, "data-class=\"not-immutable\" data-app=\"payments/Deployment/ledger\""));
    cm_free(doc);
}

static void test_compliant_cluster_exits_zero(void **state)
{
    struct env *e = *state;
    const char *args[] = {"audit", "-p", e->policy_file, "--kubeconfig", e->kubeconfig_ok, NULL};

    assert_int_equal(run(e, args), 0);
    assert_non_null(strstr(e->out, "1 apps: 1 protected, 0 unprotected, 0 stale, "
                                   "0 not-immutable: COMPLIANT"));
}

static void test_excluded_namespaces(void **state)
{
    struct env *e = *state;
    const char *args[] = {"audit",        "-p",
                          e->policy_file, "--kubeconfig",
                          e->kubeconfig,  "--exclude-namespace",
                          "inventory",    "--exclude-namespace",
                          "payments",     "--exclude-namespace",
                          "legacy",       "--exclude-namespace",
                          "tampered",     "--exclude-namespace",
                          "lost",         "--exclude-namespace",
                          "empty",        NULL};

    assert_int_equal(run(e, args), 0);
    assert_non_null(strstr(e->out, "1 apps: 1 protected"));
    args[16] = "shop"; /* keep "empty" (unprotected) in, leave shop out */
    assert_int_equal(run(e, args), 1);
}

static void test_unreachable_cluster_fails(void **state)
{
    struct env *e = *state;
    char kc[320];
    const char *args[] = {"audit", "-p", e->policy_file, "--kubeconfig", kc, NULL};
    const char *bad[] = {"audit", "-o", "pdf", NULL};
    FILE *f;

    snprintf(kc, sizeof(kc), "%s/kubeconfig-dead", e->dir);
    f = fopen(kc, "w");
    assert_non_null(f);
    /* Port 1 on loopback: nothing listens there. */
    fputs("apiVersion: v1\nkind: Config\nclusters:\n- name: x\n  cluster:\n"
          "    server: http://127.0.0.1:1\nusers:\n- name: u\n  user: {}\ncontexts:\n"
          "- name: x\n  context: {cluster: x, user: u}\ncurrent-context: x\n",
          f);
    fclose(f);
    assert_int_equal(run(e, args), 1);
    assert_non_null(strstr(e->errout, "lockwarden audit:"));
    assert_string_equal(e->out, "");
    assert_int_equal(run(e, bad), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_classes),
        cmocka_unit_test(test_text_csv_html),
        cmocka_unit_test(test_compliant_cluster_exits_zero),
        cmocka_unit_test(test_excluded_namespaces),
        cmocka_unit_test(test_unreachable_cluster_fails),
    };

    policy_json_hooks_install();
    return cmocka_run_group_tests(tests, setup, teardown);
}
