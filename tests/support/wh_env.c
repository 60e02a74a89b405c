/* SPDX-License-Identifier: Apache-2.0 */
/* wh_env.c - start and stop a real webhook for integration tests. */
#include "tests/support/wh_env.h"
#include "tests/support/tls_client.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void wht_top_path(const char *rel, char *out, size_t cap)
{
    const char *top = getenv("LW_TOP");

    (void)snprintf(out, cap, "%s/%s", top != NULL && top[0] != '\0' ? top : ".", rel);
}

int wht_fixture(const char *name, char **buf, size_t *len)
{
    char rel[512];
    char path[1024];

    (void)snprintf(rel, sizeof(rel), "tests/fixtures/admissionreview/%s", name);
    wht_top_path(rel, path, sizeof(path));
    return cm_fs_read_file(path, 8u << 20, buf, len, NULL);
}

static void bin_path(char *out, size_t cap)
{
    const char *bin = getenv("LW_BIN");

    if (bin != NULL && bin[0] != '\0')
        (void)snprintf(out, cap, "%s", bin);
    else
        wht_top_path("build/lockwarden", out, cap);
}

int wht_env_certs(const struct wht_env *e, const char *const *extra, int *exit_code)
{
    char *argv[32];
    char log[400];
    size_t n = 0;
    size_t i;

    argv[n++] = (char *)e->bin;
    argv[n++] = "certs";
    argv[n++] = "--service";
    argv[n++] = "lockwarden";
    argv[n++] = "--namespace";
    argv[n++] = "lockwarden-system";
    argv[n++] = "--out";
    argv[n++] = (char *)e->certs;
    argv[n++] = "--dns";
    argv[n++] = "localhost";
    argv[n++] = "--ip";
    argv[n++] = "127.0.0.1";
    for (i = 0; extra != NULL && extra[i] != NULL && n + 1 < CM_ARRAY_LEN(argv); i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    (void)snprintf(log, sizeof(log), "%s/certs.log", e->dir);
    return proc_run(argv, log, 30000, exit_code);
}

static int copy_dir(const char *src, const char *dst)
{
    DIR *d = opendir(src);
    struct dirent *de;
    int rc = 0;

    if (d == NULL)
        return CM_ENOENT;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        char from[1536];
        char to[1536];
        char *buf = NULL;
        size_t len = 0;

        if (de->d_name[0] == '.')
            continue;
        (void)snprintf(from, sizeof(from), "%s/%s", src, de->d_name);
        (void)snprintf(to, sizeof(to), "%s/%s", dst, de->d_name);
        rc = cm_fs_read_file(from, 8u << 20, &buf, &len, NULL);
        if (rc == 0)
            rc = cm_fs_write_atomic(to, buf, len, 0644, NULL);
        cm_free(buf);
    }
    closedir(d);
    return rc;
}

int wht_env_setup(struct wht_env *e, const char *policy_src)
{
    const char *tmp = getenv("TMPDIR");
    char src[1024];
    int code = -1;
    int rc;

    memset(e, 0, sizeof(*e));
    bin_path(e->bin, sizeof(e->bin));
    (void)snprintf(e->dir, sizeof(e->dir), "%s/lw-wh-XXXXXX",
                   tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(e->dir) == NULL)
        return CM_EIO;
    (void)snprintf(e->certs, sizeof(e->certs), "%s/certs", e->dir);
    (void)snprintf(e->ca, sizeof(e->ca), "%s/ca.crt", e->certs);
    (void)snprintf(e->cert, sizeof(e->cert), "%s/tls.crt", e->certs);
    (void)snprintf(e->key, sizeof(e->key), "%s/tls.key", e->certs);
    (void)snprintf(e->policies, sizeof(e->policies), "%s/policies", e->dir);
    (void)snprintf(e->log, sizeof(e->log), "%s/webhook.log", e->dir);
    if (mkdir(e->policies, 0700) != 0)
        return CM_EIO;
    rc = wht_env_certs(e, NULL, &code);
    if (rc != 0)
        return rc;
    if (code != 0)
        return CM_EIO;
    wht_top_path(policy_src != NULL ? policy_src : "tests/fixtures/admissionreview/policies", src,
                 sizeof(src));
    return copy_dir(src, e->policies);
}

void wht_env_url(const struct wht_env *e, const char *path, char *out, size_t cap)
{
    (void)snprintf(out, cap, "https://localhost:%u%s", (unsigned)e->port, path);
}

int wht_env_start(struct wht_env *e, const char *const *extra)
{
    char *argv[48];
    char line[1024];
    char url[128];
    const char *p;
    struct tls_client *c = NULL;
    struct tls_response r;
    uint64_t port = 0;
    size_t n = 0;
    size_t i;
    int rc;
    int tries;

    argv[n++] = e->bin;
    argv[n++] = "webhook";
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    argv[n++] = "--tls-cert";
    argv[n++] = e->cert;
    argv[n++] = "--tls-key";
    argv[n++] = e->key;
    for (i = 0; extra != NULL && extra[i] != NULL; i++) {
        if (strcmp(extra[i], "--policies") == 0)
            break;
    }
    if (extra == NULL || extra[i] == NULL) {
        argv[n++] = "--policies";
        argv[n++] = e->policies;
    }
    argv[n++] = "--reload-interval";
    argv[n++] = "200";
    for (i = 0; extra != NULL && extra[i] != NULL && n + 1 < CM_ARRAY_LEN(argv); i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    rc = proc_spawn(&e->proc, argv, NULL, e->log);
    if (rc != 0)
        return rc;
    rc = proc_wait_log(&e->proc, "\"msg\":\"listening\"", 10000, line, sizeof(line));
    if (rc != 0)
        return rc;
    p = strstr(line, "\"port\":");
    if (p == NULL)
        return CM_EPROTO;
    p += 7;
    if (cm_parse_u64(p, strspn(p, "0123456789"), &port) != 0 || port == 0 || port > 65535)
        return CM_EPROTO;
    e->port = (uint16_t)port;
    rc = tls_client_create(e->ca, 2000, &c);
    if (rc != 0)
        return rc;
    tls_response_init(&r);
    wht_env_url(e, "/healthz", url, sizeof(url));
    rc = CM_ETIMEDOUT;
    for (tries = 0; tries < 500; tries++) {
        if (tls_client_request(c, "GET", url, NULL, 0, NULL, &r) == 0 && r.status == 200) {
            rc = 0;
            break;
        }
        proc_nap_ms(20);
    }
    tls_response_cleanup(&r);
    tls_client_destroy(c);
    return rc;
}

int wht_env_stop(struct wht_env *e, int timeout_ms, int *exit_code)
{
    int rc = proc_signal(&e->proc, SIGTERM);

    if (rc != 0)
        return rc;
    return proc_wait_exit(&e->proc, timeout_ms, exit_code);
}

void wht_env_teardown(struct wht_env *e)
{
    char *argv[] = {"/bin/rm", "-rf", e->dir, NULL};
    char log[64] = "/dev/null";
    int code;
    int rc;

    proc_kill(&e->proc);
    if (e->dir[0] != '\0' && strstr(e->dir, "lw-wh-") != NULL) {
        rc = proc_run(argv, log, 30000, &code);
        (void)rc; /* best effort: a leftover temporary directory is not a failure */
    }
}

int wht_env_finish(struct wht_env *e)
{
    int code = 0;
    int rc = 0;

    if (e->proc.pid > 0) {
        code = -1;
        rc = wht_env_stop(e, 15000, &code);
        if (rc == 0 && code != 0) {
            fprintf(stderr, "webhook exited %d on SIGTERM (log: %s)\n", code, e->log);
            rc = CM_EIO;
        }
    }
    wht_env_teardown(e);
    return rc;
}

int wht_env_fixture_setup(void **state)
{
    struct wht_env *e = calloc(1, sizeof(*e));
    int rc = e != NULL ? wht_env_setup(e, NULL) : CM_ENOMEM;

    if (rc != 0) {
        fprintf(stderr, "wht_env_setup: %s\n", cm_strerror(rc));
        if (e != NULL)
            wht_env_teardown(e);
        free(e); /* cmocka does not run the teardown after a failed setup */
        return -1;
    }
    *state = e;
    return 0;
}

int wht_env_fixture_teardown(void **state)
{
    struct wht_env *e = *state;
    int rc = wht_env_finish(e);

    free(e);
    return rc == 0 ? 0 : -1;
}

int wht_env_start_or_dump(struct wht_env *e, const char *const *extra)
{
    int rc = wht_env_start(e, extra);

    if (rc != 0) {
        fprintf(stderr, "webhook did not start (%s); its log:\n", cm_strerror(rc));
        wht_env_dump_log(e);
    }
    return rc;
}

struct wht_client_env *wht_client_env_new(const char *review, bool start)
{
    struct wht_client_env *c = calloc(1, sizeof(*c));
    int rc;

    if (c == NULL)
        return NULL;
    tls_response_init(&c->resp);
    rc = wht_env_setup(&c->env, NULL);
    if (rc == 0)
        rc = tls_client_create(c->env.ca, 10000, &c->client);
    if (rc == 0 && review != NULL)
        rc = wht_fixture(review, &c->body, &c->len);
    if (rc == 0 && start)
        rc = wht_env_start_or_dump(&c->env, NULL);
    if (rc != 0) {
        fprintf(stderr, "wht_client_env_new: %s\n", cm_strerror(rc));
        rc = wht_client_env_destroy(c); /* it did not start: nothing to check */
        (void)rc;
        return NULL;
    }
    return c;
}

int wht_client_env_destroy(struct wht_client_env *c)
{
    int rc;

    if (c == NULL)
        return 0;
    tls_client_destroy(c->client);
    tls_response_cleanup(&c->resp);
    cm_free(c->body);
    rc = wht_env_finish(&c->env);
    free(c);
    return rc;
}

int wht_client_env_fixture_teardown(void **state)
{
    return wht_client_env_destroy(*state) == 0 ? 0 : -1;
}

void wht_env_dump_log(const struct wht_env *e)
{
    char *buf = NULL;
    size_t len = 0;
    struct cm_err err;

    if (cm_fs_read_file(e->log, 16u << 20, &buf, &len, &err) != 0) {
        fprintf(stderr, "cannot read %s: %s\n", e->log, err.msg);
        return;
    }
    (void)fwrite(buf, 1, len, stderr);
    cm_free(buf);
}

int wht_env_write_policy(const struct wht_env *e, const char *name, const char *data)
{
    char path[512];

    (void)snprintf(path, sizeof(path), "%s/%s", e->policies, name);
    return cm_fs_write_atomic(path, data, strlen(data), 0644, NULL);
}
