/* SPDX-License-Identifier: Apache-2.0 */
/* backup_env.c - the backup/executor/restore/audit integration environment. */
#include "tests/support/backup_env.h"

#include "backup/backup.h"
#include "policy/policy.h"
#include "tests/support/kube_testutil.h"
#include "tests/support/s3_fault.h"
#include "tests/support/proc.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static unsigned g_seq;

const char *bte_s3_endpoint(const char *name)
{
    const char *endpoint = getenv("S3_ENDPOINT");

    if (endpoint == NULL || endpoint[0] == '\0') {
        fprintf(stderr,
                "%s: S3_ENDPOINT is not set (tests/run.sh starts radosgw; by hand: eval "
                "\"$(RGW_PORT=17580 tests/support/rgw.sh start)\")\n",
                name);
        return NULL;
    }
    return endpoint;
}

int bte_locked_bucket(const char *endpoint, const char *region, const char *bucket,
                      struct s3_client **out)
{
    struct s3_credentials creds;
    struct s3_config sc;
    struct cm_err err;
    int rc;

    *out = NULL;
    memset(&creds, 0, sizeof(creds));
    if (s3_credentials_from_env(&creds, &err) != 0) {
        fprintf(stderr, "credentials: %s\n", err.msg);
        return -1;
    }
    memset(&sc, 0, sizeof(sc));
    sc.endpoint = endpoint;
    sc.region = region;
    sc.bucket = bucket;
    sc.path_style = true;
    sc.creds = &creds;
    rc = s3_client_create(&sc, out, &err);
    if (rc == 0)
        rc = s3_client_create_bucket(*out, true, &err);
    s3_credentials_cleanup(&creds);
    if (rc != 0) {
        fprintf(stderr, "bucket: %s\n", err.msg);
        s3_client_destroy(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

int bte_gold_policy(char *out, size_t cap, const char *endpoint, const char *region,
                    const char *bucket)
{
    return snprintf(out, cap,
                    "apiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\nmetadata:\n"
                    "  name: goldpolicy\nspec:\n  schedule: \"@hourly\"\n  retention:\n"
                    "    hourly: 24\n  objectLock:\n    mode: GOVERNANCE\n    days: 1\n"
                    "  location:\n    endpoint: %s\n    region: %s\n    bucket: %s\n"
                    "    prefix: gold\n    pathStyle: true\n",
                    endpoint, region, bucket);
}

int bte_policy_file(const char *dir, const char *name, const char *yaml, char *path, size_t cap,
                    struct policy_set **ps)
{
    const char *paths[1];
    struct cm_err err;

    if (kube_test_write(dir, name, yaml, path, cap) != 0) {
        fprintf(stderr, "cannot write %s/%s\n", dir, name);
        return -1;
    }
    paths[0] = path;
    if (backup_policies_load(paths, 1, ps, &err) != 0) {
        fprintf(stderr, "policies: %s\n", err.msg);
        return -1;
    }
    return 0;
}

int bte_group_setup(void **state)
{
    static cJSON_Hooks h = {cm_malloc, cm_free};

    (void)state;
    cJSON_InitHooks(&h);
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int bte_group_teardown(void **state)
{
    (void)state;
    curl_global_cleanup();
    return 0;
}

void bte_bucket_name(char *out, size_t cap, const char *prefix)
{
    (void)snprintf(out, cap, "%s-%ld-%lld-%u", prefix, (long)getpid(),
                   (long long)(cm_time_now_ms() % 100000000), ++g_seq);
}

int bte_s3_client(const struct bte_env *e, const char *bucket, struct s3_client **out,
                  struct cm_err *err)
{
    struct s3_config cfg;

    memset(&cfg, 0, sizeof(cfg));
    cfg.endpoint = e->endpoint;
    cfg.region = "us-east-1";
    cfg.bucket = bucket;
    cfg.path_style = true;
    cfg.creds = &e->creds;
    return s3_client_create(&cfg, out, err);
}

int bte_env_setup(struct bte_env *e, const char *bucket_prefix, const char *log_name,
                  int snapshot_ready_after_gets)
{
    const char *ak = getenv("S3_ACCESS_KEY");
    const char *sk = getenv("S3_SECRET_KEY");
    const char *top = getenv("LW_TOP");
    struct fake_kube_opts ko;
    char seed[600];
    struct cm_err err;

    memset(e, 0, sizeof(*e));
    e->endpoint = getenv("S3_ENDPOINT");
    e->lw = getenv("LW_BIN");
    if (e->endpoint == NULL || ak == NULL || sk == NULL || e->lw == NULL) {
        fprintf(stderr, "S3_ENDPOINT/S3_ACCESS_KEY/S3_SECRET_KEY/LW_BIN not set: run through "
                        "tests/run.sh\n");
        return -1;
    }
    setenv("AWS_ACCESS_KEY_ID", ak, 1);
    setenv("AWS_SECRET_ACCESS_KEY", sk, 1);
    if (s3_credentials_set(&e->creds, ak, sk, NULL, &err) != 0 ||
        kube_test_mkdtemp(e->dir, sizeof(e->dir)) != 0)
        goto fail;
    (void)snprintf(seed, sizeof(seed), "%s/tests/fixtures/backup/app-shop.json",
                   top != NULL ? top : ".");
    memset(&ko, 0, sizeof(ko));
    ko.seed_file = seed;
    ko.snapshot_ready_after_gets = snapshot_ready_after_gets;
    if (fake_kube_start(&ko, &e->kube) != 0)
        goto fail;
    (void)snprintf(e->kubeconfig, sizeof(e->kubeconfig), "%s/kubeconfig", e->dir);
    (void)snprintf(e->log, sizeof(e->log), "%s/%s", e->dir, log_name);
    if (fake_kube_write_kubeconfig(e->kube, e->kubeconfig, NULL, false) != 0)
        goto fail;
    bte_bucket_name(e->bucket, sizeof(e->bucket), bucket_prefix);
    if (bte_s3_client(e, e->bucket, &e->s3, &err) != 0) {
        fprintf(stderr, "s3 client: %s\n", err.msg);
        goto fail;
    }
    return 0;
fail:
    bte_env_teardown(e);
    return -1;
}

void bte_env_teardown(struct bte_env *e)
{
    s3_client_destroy(e->s3);
    e->s3 = NULL;
    fake_kube_stop(e->kube);
    e->kube = NULL;
    s3_credentials_cleanup(&e->creds);
    if (e->dir[0] != '\0')
        kube_test_rmtree(e->dir);
    e->dir[0] = '\0';
}

struct bte_env *bte_env_new(const char *bucket_prefix, const char *log_name,
                            int snapshot_ready_after_gets, bte_policy_fn *policy)
{
    struct bte_env *e = calloc(1, sizeof(*e));
    char yaml[4096];
    struct cm_err err;

    if (e == NULL || bte_env_setup(e, bucket_prefix, log_name, snapshot_ready_after_gets) != 0) {
        free(e);
        return NULL;
    }
    policy(e, yaml, sizeof(yaml));
    if (kube_test_write(e->dir, "policy.yaml", yaml, e->policy, sizeof(e->policy)) != 0) {
        fprintf(stderr, "cannot write %s/policy.yaml\n", e->dir);
        bte_env_free(e);
        return NULL;
    }
    if (s3_client_create_bucket(e->s3, true, &err) != 0) {
        fprintf(stderr, "bucket: %s\n", err.msg);
        bte_env_free(e);
        return NULL;
    }
    return e;
}

void bte_env_free(struct bte_env *e)
{
    if (e == NULL)
        return;
    bte_env_teardown(e);
    free(e);
}

/* A 127.0.0.1 TCP socket bound to an ephemeral port (listening when listen_too);
 * the port into *port. Returns the fd or -1. */
static int loopback_socket(bool listen_too, int *port)
{
    struct sockaddr_in sa;
    socklen_t l = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || (listen_too && listen(fd, 8) != 0) ||
        getsockname(fd, (struct sockaddr *)&sa, &l) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

int bte_free_port(void)
{
    int port = -1;
    int fd = loopback_socket(false, &port);

    if (fd < 0)
        return -1;
    close(fd);
    return port;
}

int bte_silent_listener(char *url, size_t cap)
{
    int port = -1;
    int fd = loopback_socket(true, &port);

    if (fd >= 0)
        (void)snprintf(url, cap, "http://127.0.0.1:%u", (unsigned)port);
    return fd;
}

static size_t collect(char *p, size_t sz, size_t n, void *ctx)
{
    struct cm_buf *b = ctx;

    return cm_buf_add(b, p, sz * n) == 0 ? sz * n : 0;
}

int bte_http_get(const char *url, struct cm_buf *b)
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

void bte_executor_argv(const struct bte_env *e, const char *metrics_addr, const char *const *extra,
                       char *argv[BTE_ARGV_MAX])
{
    const char *head[] = {e->lw,         "executor",       "-p",        e->policy, "--kubeconfig",
                          e->kubeconfig, "--metrics-addr", metrics_addr};
    size_t n, i;

    for (n = 0; n < sizeof(head) / sizeof(head[0]); n++)
        argv[n] = (char *)head[n];
    for (i = 0; extra != NULL && extra[i] != NULL && n < BTE_ARGV_MAX - 1; i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
}

int bte_metrics_addr(char *addr, size_t acap, char *url, size_t ucap)
{
    int port = bte_free_port();

    if (port <= 0)
        return -1;
    (void)snprintf(addr, acap, "127.0.0.1:%d", port);
    (void)snprintf(url, ucap, "http://%s/metrics", addr);
    return 0;
}

/* True when b holds every string of want. */
static bool has_all(const struct cm_buf *b, const char *const *want)
{
    size_t i;

    if (b->ptr == NULL)
        return false;
    for (i = 0; want[i] != NULL; i++)
        if (strstr(b->ptr, want[i]) == NULL)
            return false;
    return true;
}

int bte_wait_body(const char *url, const char *const *want, int timeout_ms, struct cm_buf *b)
{
    int64_t deadline = cm_time_now_ms() + timeout_ms;

    while (cm_time_now_ms() < deadline) {
        if (bte_http_get(url, b) == 0 && has_all(b, want))
            return 0;
        proc_nap_ms(100);
    }
    return CM_ETIMEDOUT;
}

int bte_spawn_wait_body(struct proc *p, char *const argv[], const char *log, const char *url,
                        const char *const *want, int timeout_ms, struct cm_buf *b)
{
    int rc = proc_spawn(p, argv, NULL, log);

    if (rc != 0)
        return rc;
    rc = bte_wait_body(url, want, timeout_ms, b);
    if (rc != 0)
        proc_kill(p);
    return rc;
}

struct bte_fault_env *bte_fault_env_new(const char *yaml, size_t len)
{
    struct bte_fault_env *e = calloc(1, sizeof(*e));
    struct s3_config cfg;
    struct cm_err err;

    if (e == NULL || s3_fault_create(&e->f) != 0) {
        fprintf(stderr, "bte_fault_env_new: out of memory\n");
        free(e);
        return NULL;
    }
    s3_fault_config(e->f, &e->creds, &cfg);
    if (s3_client_create(&cfg, &e->s3, &err) != 0) {
        fprintf(stderr, "bte_fault_env_new: s3 client: %s\n", err.msg);
        goto fail;
    }
    if (policy_set_load("policy.yaml", yaml, len, &e->ps, &err) != 0) {
        fprintf(stderr, "bte_fault_env_new: policy: %s\n", err.msg);
        goto fail;
    }
    return e;
fail:
    bte_fault_env_free(e);
    return NULL;
}

void bte_fault_env_free(struct bte_fault_env *e)
{
    if (e == NULL)
        return;
    s3_client_destroy(e->s3);
    s3_fault_destroy(e->f);
    policy_set_destroy(e->ps);
    free(e);
}

int bte_fault_push(struct bte_fault_env *e, long status, const char *headers, const char *body)
{
    struct s3_fault_reply r = {0, status, headers, body, 0};

    return s3_fault_push(e->f, &r);
}
