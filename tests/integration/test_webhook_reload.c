/* SPDX-License-Identifier: Apache-2.0 */
/* test_webhook_reload.c - hot policy reload on the real binary under concurrent load:
 * a new file (inotify), a ConfigMap-style ..data symlink swap (inotify, periodic check
 * off), an invalid set that keeps the last good one serving (logged, in /metrics),
 * SIGHUP; zero failed requests throughout. */
#include "tests/support/tls_client.h"
#include "tests/support/wh_env.h"
#include "tests/support/wh_load.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OK_UID "ce50cb09-e435-4d7d-b406-54e8b00319a5"

/* Denies the captured web-ok Deployment (it has no team label). */
static const char require_team[] = "apiVersion: kyverno.io/v1\n"
                                   "kind: ClusterPolicy\n"
                                   "metadata:\n"
                                   "  name: require-team\n"
                                   "spec:\n"
                                   "  validationFailureAction: Enforce\n"
                                   "  rules:\n"
                                   "    - name: team-label\n"
                                   "      match:\n"
                                   "        any:\n"
                                   "          - resources:\n"
                                   "              kinds: [Deployment]\n"
                                   "      validate:\n"
                                   "        message: \"set a team label\"\n"
                                   "        pattern:\n"
                                   "          metadata:\n"
                                   "            labels:\n"
                                   "              team: \"?*\"\n";

static int setup(void **state)
{
    *state = wht_client_env_new("validate-deployment-create-web-ok.json", false);
    return *state != NULL ? 0 : -1;
}

static void start(struct wht_client_env *f, const char *const *extra)
{
    if (wht_env_start_or_dump(&f->env, extra) != 0)
        fail_msg("webhook did not start");
}

/* 1 when the web-ok review is allowed now, 0 when denied. */
static int verdict(struct wht_client_env *f)
{
    char url[256];

    wht_env_url(&f->env, "/validate?timeout=5s", url, sizeof(url));
    assert_int_equal(tls_client_post_review(f->client, url, f->body, f->len, &f->resp), 0);
    assert_int_equal(f->resp.status, 200);
    return strstr(f->resp.body.ptr, "\"allowed\":true") != NULL;
}

/* Polls (deadline 10 s) until the verdict is want. */
static void wait_verdict(struct wht_client_env *f, int want)
{
    int i;

    for (i = 0; i < 1000; i++) {
        if (verdict(f) == want)
            return;
        proc_nap_ms(10);
    }
    fail_msg("verdict did not become %d", want);
}

static const char *metrics(struct wht_client_env *f)
{
    char url[256];

    wht_env_url(&f->env, "/metrics", url, sizeof(url));
    assert_int_equal(tls_client_request(f->client, "GET", url, NULL, 0, NULL, &f->resp), 0);
    assert_int_equal(f->resp.status, 200);
    return f->resp.body.ptr;
}

static void start_load(struct wht_client_env *f, struct wht_load *l)
{
    char url[256];

    wht_env_url(&f->env, "/validate?timeout=5s", url, sizeof(url));
    assert_int_equal(wht_load_start(l, 3, 1, url, f->env.ca, f->body, f->len, OK_UID), 0);
    assert_int_equal(wht_load_wait_progress(l, 20, 10000), 0);
}

static void stop_load(struct wht_load *l)
{
    wht_load_stop(l);
    if (atomic_load(&l->failed) != 0)
        fail_msg("%lu requests failed under reload; first: %s", atomic_load(&l->failed),
                 l->first_error);
    assert_true(atomic_load(&l->ok) > 0);
}

static void test_reload_new_file_invalid_set_and_sighup_under_load(void **state)
{
    struct wht_client_env *f = *state;
    /* The periodic check is off (10 min): inotify must notice the changes. */
    const char *const extra[] = {"--reload-interval", "600000", NULL};
    struct wht_load load;
    char path[512];

    start(f, extra);
    start_load(f, &load);
    assert_int_equal(verdict(f), 1);

    /* A new policy file denies web-ok from now on. */
    assert_int_equal(wht_env_write_policy(&f->env, "require-team.yaml", require_team), 0);
    wait_verdict(f, 0);
    assert_int_equal(wht_load_wait_progress(&load, 20, 10000), 0);
    assert_non_null(strstr(metrics(f), "lockwarden_webhook_policy_reloads_total 1\n"));
    assert_non_null(strstr(f->resp.body.ptr, "lockwarden_webhook_policy_generation 2\n"));

    /* An invalid set: logged, counted, and the last good set keeps serving. */
    assert_int_equal(wht_env_write_policy(&f->env, "broken.yaml", "kind: [unclosed\n"), 0);
    assert_int_equal(proc_wait_log(&f->env.proc, "policy reload failed", 10000, NULL, 0), 0);
    assert_non_null(strstr(metrics(f), "lockwarden_webhook_policy_reload_failures_total 1\n"));
    assert_non_null(strstr(f->resp.body.ptr, "lockwarden_webhook_policy_generation 2\n"));
    assert_int_equal(verdict(f), 0);
    assert_int_equal(wht_load_wait_progress(&load, 20, 10000), 0);

    /* Repair it and drop require-team; SIGHUP forces the reload at once. */
    (void)snprintf(path, sizeof(path), "%s/broken.yaml", f->env.policies);
    assert_int_equal(unlink(path), 0);
    (void)snprintf(path, sizeof(path), "%s/require-team.yaml", f->env.policies);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(proc_signal(&f->env.proc, SIGHUP), 0);
    wait_verdict(f, 1);
    assert_int_equal(proc_wait_log(&f->env.proc, "SIGHUP: reloading policies", 5000, NULL, 0), 0);
    assert_int_equal(wht_load_wait_progress(&load, 20, 10000), 0);
    stop_load(&load);
    /* The load saw both verdicts: in-flight requests finished on their own set. */
    assert_true(atomic_load(&load.denied) > 0);
    assert_true(atomic_load(&load.allowed) > 0);
}

static void write_file(const char *dir, const char *name, const char *data)
{
    char path[700];

    (void)snprintf(path, sizeof(path), "%s/%s", dir, name);
    assert_int_equal(cm_fs_write_atomic(path, data, strlen(data), 0644, NULL), 0);
}

static void copy_fixture_policy(const char *dir, const char *name)
{
    char rel[256];
    char src[700];
    char *buf = NULL;
    size_t len = 0;

    (void)snprintf(rel, sizeof(rel), "tests/fixtures/admissionreview/policies/%s", name);
    wht_top_path(rel, src, sizeof(src));
    assert_int_equal(cm_fs_read_file(src, 1 << 20, &buf, &len, NULL), 0);
    write_file(dir, name, buf);
    cm_free(buf);
}

static void test_configmap_data_symlink_swap(void **state)
{
    struct wht_client_env *f = *state;
    static const char *const files[] = {"backup-gdpr-eu.yaml", "backup-pii.yaml",
                                        "require-dataprotection.yaml"};
    const char *extra[] = {"--reload-interval", "600000", "--policies", NULL, NULL};
    char cm[400];
    char v1[450];
    char v2[450];
    char link[500];
    char tmp[500];
    char target[500];
    struct wht_load load;
    size_t i;

    /* The layout kubelet makes for a ConfigMap volume:
     *   cm/..2026_v1/<files>   cm/..data -> ..2026_v1   cm/<file> -> ..data/<file> */
    (void)snprintf(cm, sizeof(cm), "%s/cm", f->env.dir);
    (void)snprintf(v1, sizeof(v1), "%s/..2026_v1", cm);
    (void)snprintf(v2, sizeof(v2), "%s/..2026_v2", cm);
    assert_int_equal(mkdir(cm, 0700), 0);
    assert_int_equal(mkdir(v1, 0700), 0);
    assert_int_equal(mkdir(v2, 0700), 0);
    for (i = 0; i < CM_ARRAY_LEN(files); i++) {
        copy_fixture_policy(v1, files[i]);
        copy_fixture_policy(v2, files[i]);
        (void)snprintf(link, sizeof(link), "%s/%s", cm, files[i]);
        (void)snprintf(target, sizeof(target), "..data/%s", files[i]);
        assert_int_equal(symlink(target, link), 0);
    }
    write_file(v2, "require-team.yaml", require_team);
    (void)snprintf(link, sizeof(link), "%s/..data", cm);
    assert_int_equal(symlink("..2026_v1", link), 0);
    /* Only the ConfigMap: the env's own policy directory is replaced by --policies. */
    extra[3] = cm;
    start(f, extra);
    start_load(f, &load);
    assert_int_equal(verdict(f), 1);

    /* The swap: a new ..data link renamed over the old one, then the new key's link. */
    (void)snprintf(tmp, sizeof(tmp), "%s/..data_tmp", cm);
    assert_int_equal(symlink("..2026_v2", tmp), 0);
    assert_int_equal(rename(tmp, link), 0);
    (void)snprintf(link, sizeof(link), "%s/require-team.yaml", cm);
    assert_int_equal(symlink("..data/require-team.yaml", link), 0);
    wait_verdict(f, 0);
    assert_int_equal(wht_load_wait_progress(&load, 20, 10000), 0);
    stop_load(&load);
    assert_non_null(strstr(metrics(f), "lockwarden_webhook_policy_reload_failures_total 0\n"));
}

static void test_bad_policies_at_start_exit_nonzero(void **state)
{
    struct wht_client_env *f = *state;
    int code = -1;

    assert_int_equal(wht_env_write_policy(&f->env, "broken.yaml", "kind: [unclosed\n"), 0);
    assert_int_equal(wht_env_start(&f->env, NULL), CM_ECANCELED);
    assert_int_equal(proc_wait_exit(&f->env.proc, 5000, &code), 0);
    assert_int_equal(code, 2);
    /* One JSON line naming the file. */
    assert_int_equal(proc_wait_log(&f->env.proc, "broken.yaml", 1000, NULL, 0), 0);
    assert_int_equal(proc_wait_log(&f->env.proc, "\"level\":\"error\"", 1000, NULL, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        WHT_CLIENT_TEST(test_reload_new_file_invalid_set_and_sighup_under_load, setup),
        WHT_CLIENT_TEST(test_configmap_data_symlink_swap, setup),
        WHT_CLIENT_TEST(test_bad_policies_at_start_exit_nonzero, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
