/* SPDX-License-Identifier: Apache-2.0 */
/* test_executor.c - `lockwarden executor` against radosgw and the fake apiserver: a
 * bound app with no restore point is captured once (the missed slot), a second pass
 * finds nothing due, /metrics reports the last success per app, SIGTERM stops it
 * cleanly, and two replicas with --leader-elect never both capture. */
#include "backup/backup.h"
#include "backup/s3/s3.h"
#include "tests/support/fake_kube.h"
#include "tests/support/kube_testutil.h"
#include "tests/support/proc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct env {
    const char *endpoint;
    const char *lw;
    struct s3_credentials creds;
    struct fake_kube *kube;
    char dir[512];
    char kubeconfig[600];
    char policy[600];
    char log[600];
    char bucket[64];
    struct s3_client *s3;
};

static unsigned g_seq;

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    const char *ak = getenv("S3_ACCESS_KEY");
    const char *sk = getenv("S3_SECRET_KEY");
    struct fake_kube_opts ko;
    struct s3_config cfg;
    char seed[600];
    char yaml[1500];
    struct cm_err err;

    if (e == NULL)
        return -1;
    e->endpoint = getenv("S3_ENDPOINT");
    e->lw = getenv("LW_BIN");
    if (e->endpoint == NULL || ak == NULL || sk == NULL || e->lw == NULL) {
        fprintf(stderr, "S3_ENDPOINT/S3_ACCESS_KEY/S3_SECRET_KEY/LW_BIN not set: run through "
                        "tests/run.sh\n");
        free(e);
        return -1;
    }
    setenv("AWS_ACCESS_KEY_ID", ak, 1);
    setenv("AWS_SECRET_ACCESS_KEY", sk, 1);
    if (s3_credentials_set(&e->creds, ak, sk, NULL, &err) != 0 ||
        kube_test_mkdtemp(e->dir, sizeof(e->dir)) != 0)
        return -1;
    (void)snprintf(seed, sizeof(seed), "%s/tests/fixtures/backup/app-shop.json",
                   getenv("LW_TOP") ? getenv("LW_TOP") : ".");
    memset(&ko, 0, sizeof(ko));
    ko.seed_file = seed;
    ko.snapshot_ready_after_gets = 1;
    if (fake_kube_start(&ko, &e->kube) != 0)
        return -1;
    (void)snprintf(e->kubeconfig, sizeof(e->kubeconfig), "%s/kubeconfig", e->dir);
    (void)snprintf(e->log, sizeof(e->log), "%s/executor.log", e->dir);
    if (fake_kube_write_kubeconfig(e->kube, e->kubeconfig, NULL, false) != 0)
        return -1;
    (void)snprintf(e->bucket, sizeof(e->bucket), "lw-ex-%ld-%lld-%u", (long)getpid(),
                   (long long)(cm_time_now_ms() % 100000000), ++g_seq);
    (void)snprintf(yaml, sizeof(yaml),
                   "apiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\n"
                   "metadata:\n  name: testpolicy\nspec:\n  schedule: \"0 0 1 1 *\"\n"
                   "  retention:\n    hourly: 5\n  objectLock:\n    mode: GOVERNANCE\n"
                   "    days: 1\n  location:\n    endpoint: \"%s\"\n    region: us-east-1\n"
                   "    bucket: %s\n    prefix: ex\n    pathStyle: true\n",
                   e->endpoint, e->bucket);
    if (kube_test_write(e->dir, "policy.yaml", yaml, e->policy, sizeof(e->policy)) != 0)
        return -1;
    memset(&cfg, 0, sizeof(cfg));
    cfg.endpoint = e->endpoint;
    cfg.region = "us-east-1";
    cfg.bucket = e->bucket;
    cfg.path_style = true;
    cfg.creds = &e->creds;
    if (s3_client_create(&cfg, &e->s3, &err) != 0 ||
        s3_client_create_bucket(e->s3, true, &err) != 0) {
        fprintf(stderr, "bucket: %s\n", err.msg);
        return -1;
    }
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;

    s3_client_destroy(e->s3);
    fake_kube_stop(e->kube);
    s3_credentials_cleanup(&e->creds);
    kube_test_rmtree(e->dir);
    free(e);
    return 0;
}

static size_t complete_points(struct env *e)
{
    struct backup_catalog *c = NULL;
    struct cm_err err;
    size_t i, n = 0;

    assert_int_equal(backup_catalog_list(e->s3, "ex", NULL, false, &c, &err), 0);
    for (i = 0; i < backup_catalog_count(c); i++)
        n += backup_catalog_get(c, i)->complete;
    backup_catalog_destroy(c);
    return n;
}

static void test_once_catches_up_then_idles(void **state)
{
    struct env *e = *state;
    char *argv[] = {(char *)e->lw,  "executor",    "--once",         "-p", e->policy,
                    "--kubeconfig", e->kubeconfig, "--metrics-addr", "",   NULL};
    int code = -1;

    assert_int_equal(proc_run(argv, e->log, 120000, &code), 0);
    assert_int_equal(code, 0);
    assert_int_equal(complete_points(e), 1);
    /* the newest point is newer than the last slot: nothing due */
    assert_int_equal(proc_run(argv, e->log, 120000, &code), 0);
    assert_int_equal(code, 0);
    assert_int_equal(complete_points(e), 1);
}

/* True when needle occurs in l[0..ll) (memmem is not POSIX). */
static bool line_has(const char *l, size_t ll, const char *needle)
{
    size_t n = strlen(needle);
    size_t i;

    for (i = 0; i + n <= ll; i++)
        if (memcmp(l + i, needle, n) == 0)
            return true;
    return false;
}

/* Two bound apps, --max-concurrent 1: --once captures both, one at a time. */
static void test_once_two_apps_capped(void **state)
{
    struct env *e = *state;
    char *argv[] = {(char *)e->lw,
                    "executor",
                    "--once",
                    "-p",
                    e->policy,
                    "--kubeconfig",
                    e->kubeconfig,
                    "--metrics-addr",
                    "",
                    "--max-concurrent",
                    "1",
                    NULL};
    int code = -1;
    size_t i;
    int running = 0, max_running = 0;
    char *log = NULL;
    size_t len = 0;
    struct cm_err err;
    const char *l;

    assert_int_equal(fake_kube_add_object_json(
                         e->kube,
                         "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{"
                         "\"name\":\"api\",\"namespace\":\"shop2\",\"annotations\":{"
                         "\"lockwarden.io/backup-policy\":\"testpolicy\"}},\"spec\":{}}"),
                     1);
    assert_int_equal(proc_run(argv, e->log, 120000, &code), 0);
    assert_int_equal(code, 0);
    assert_int_equal(complete_points(e), 2);
    /* started/completed lines never overlap: at most one capture at a time */
    assert_int_equal(cm_fs_read_file(e->log, 1 << 24, &log, &len, &err), 0);
    for (l = log, i = 0; l != NULL && *l != '\0'; i++) {
        const char *nl = strchr(l, '\n');
        size_t ll = nl ? (size_t)(nl - l) : strlen(l);

        if (line_has(l, ll, "\"capture started\""))
            running++;
        if (line_has(l, ll, "\"capture complete\"") || line_has(l, ll, "\"capture failed\""))
            running--;
        if (running > max_running)
            max_running = running;
        l = nl ? nl + 1 : NULL;
    }
    cm_free(log);
    assert_int_equal(max_running, 1);
}

static int free_port(void)
{
    struct sockaddr_in sa;
    socklen_t l = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &l), 0);
    port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

static size_t collect(char *p, size_t sz, size_t n, void *ctx)
{
    struct cm_buf *b = ctx;

    return cm_buf_add(b, p, sz * n) == 0 ? sz * n : 0;
}

static int get_metrics(const char *url, struct cm_buf *b)
{
    CURL *c = curl_easy_init();
    CURLcode rc;

    cm_buf_reset(b);
    if (c == NULL)
        return -1;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
    rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    return rc == CURLE_OK ? 0 : -1;
}

static void test_metrics_and_sigterm(void **state)
{
    struct env *e = *state;
    char addr[64], url[96];
    struct proc p;
    struct cm_buf b;
    int64_t deadline;
    int code = -1;
    bool seen = false;

    (void)snprintf(addr, sizeof(addr), "127.0.0.1:%d", free_port());
    (void)snprintf(url, sizeof(url), "http://%s/metrics", addr);
    {
        char *argv[] = {(char *)e->lw, "executor",       "-p", e->policy, "--kubeconfig",
                        e->kubeconfig, "--metrics-addr", addr, "--tick",  "1",
                        NULL};

        memset(&p, 0, sizeof(p));
        assert_int_equal(proc_spawn(&p, argv, NULL, e->log), 0);
    }
    cm_buf_init(&b, 1 << 20);
    deadline = cm_time_now_ms() + 60000;
    while (cm_time_now_ms() < deadline && !seen) {
        if (get_metrics(url, &b) == 0 && b.ptr != NULL &&
            strstr(b.ptr, "lockwarden_backup_last_success_timestamp_seconds{namespace=\"shop\","
                          "policy=\"testpolicy\"}") != NULL)
            seen = true;
        else
            proc_nap_ms(100);
    }
    if (!seen) {
        proc_kill(&p);
        fail_msg("no success metric for shop; last body:\n%s", b.ptr ? b.ptr : "(none)");
    }
    assert_non_null(strstr(b.ptr, "lockwarden_backup_captures_total{namespace=\"shop\","
                                  "policy=\"testpolicy\",result=\"success\"} 1\n"));
    assert_non_null(strstr(b.ptr, "lockwarden_executor_leader 1\n"));
    assert_int_equal(proc_signal(&p, SIGTERM), 0);
    assert_int_equal(proc_wait_exit(&p, 30000, &code), 0);
    assert_int_equal(code, 0);
    assert_int_equal(complete_points(e), 1);
    cm_buf_free(&b);
}

static void test_two_replicas_one_leader(void **state)
{
    struct env *e = *state;
    struct proc a, b;
    char loga[700], logb[700];
    int64_t deadline;
    int code;
    char *argva[] = {(char *)e->lw,
                     "executor",
                     "-p",
                     e->policy,
                     "--kubeconfig",
                     e->kubeconfig,
                     "--metrics-addr",
                     "",
                     "--tick",
                     "1",
                     "--leader-elect",
                     "--lease-namespace",
                     "lockwarden",
                     "--identity",
                     "replica-a",
                     NULL};
    char *argvb[] = {(char *)e->lw,
                     "executor",
                     "-p",
                     e->policy,
                     "--kubeconfig",
                     e->kubeconfig,
                     "--metrics-addr",
                     "",
                     "--tick",
                     "1",
                     "--leader-elect",
                     "--lease-namespace",
                     "lockwarden",
                     "--identity",
                     "replica-b",
                     NULL};

    (void)snprintf(loga, sizeof(loga), "%s/a.log", e->dir);
    (void)snprintf(logb, sizeof(logb), "%s/b.log", e->dir);
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    assert_int_equal(proc_spawn(&a, argva, NULL, loga), 0);
    assert_int_equal(proc_spawn(&b, argvb, NULL, logb), 0);
    /* wait until one capture is complete and both replicas ran a few ticks */
    deadline = cm_time_now_ms() + 60000;
    while (complete_points(e) == 0 && cm_time_now_ms() < deadline)
        proc_nap_ms(200);
    assert_int_equal(proc_wait_log(&a, "\"msg\":\"started\"", 10000, NULL, 0), 0);
    assert_int_equal(proc_wait_log(&b, "\"msg\":\"started\"", 10000, NULL, 0), 0);
    while (fake_kube_request_match(e->kube, "GET", "/leases/lockwarden-executor", NULL) < 6 &&
           cm_time_now_ms() < deadline)
        proc_nap_ms(100);
    assert_int_equal(proc_signal(&a, SIGTERM), 0);
    assert_int_equal(proc_signal(&b, SIGTERM), 0);
    assert_int_equal(proc_wait_exit(&a, 30000, &code), 0);
    assert_int_equal(proc_wait_exit(&b, 30000, &code), 0);
    assert_int_equal(complete_points(e), 1);
    assert_int_equal(proc_log_count(&a, "became leader") + proc_log_count(&b, "became leader"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_once_catches_up_then_idles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_once_two_apps_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_and_sigterm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_replicas_one_leader, setup, teardown),
    };
    cJSON_Hooks h = {cm_malloc, cm_free};
    int rc;

    cJSON_InitHooks(&h);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
