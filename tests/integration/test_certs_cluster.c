/* SPDX-License-Identifier: Apache-2.0 */
/* test_certs_cluster.c - `lockwarden certs --secret NS/NAME --patch-webhook ...` (the
 * chart's renewal CronJob) against the fake kube-apiserver over TLS: the first run
 * creates the TLS Secret and sets caBundle on every webhook; a run from an empty
 * directory reads the Secret back and changes nothing; a renewal writes a new
 * certificate into the Secret and keeps the CA, so caBundle stays; errors exit 1. */
#include "certs/certs.h"
#include "tests/support/fake_kube.h"
#include "tests/support/proc.h"
#include "tests/support/wh_env.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char hooks_json[] =
    "[{\"apiVersion\":\"admissionregistration.k8s.io/v1\",\"kind\":"
    "\"ValidatingWebhookConfiguration\",\"metadata\":{\"name\":\"lockwarden\"},\"webhooks\":["
    "{\"name\":\"validate.lockwarden.io\",\"clientConfig\":{\"service\":{\"name\":\"lockwarden\","
    "\"namespace\":\"lockwarden-system\",\"path\":\"/validate\"},\"caBundle\":\"b2xk\"},"
    "\"admissionReviewVersions\":[\"v1\"],\"sideEffects\":\"None\"},"
    "{\"name\":\"validate2.lockwarden.io\",\"clientConfig\":{\"service\":{\"name\":\"lockwarden\","
    "\"namespace\":\"lockwarden-system\",\"path\":\"/validate\"}},"
    "\"admissionReviewVersions\":[\"v1\"],\"sideEffects\":\"None\"}]},"
    "{\"apiVersion\":\"admissionregistration.k8s.io/v1\",\"kind\":"
    "\"MutatingWebhookConfiguration\",\"metadata\":{\"name\":\"lockwarden\"},\"webhooks\":["
    "{\"name\":\"mutate.lockwarden.io\",\"clientConfig\":{\"service\":{\"name\":\"lockwarden\","
    "\"namespace\":\"lockwarden-system\",\"path\":\"/mutate\"}},"
    "\"admissionReviewVersions\":[\"v1\"],\"sideEffects\":\"None\"}]}]";

struct fx {
    struct fake_kube *kube;
    char dir[256];
    char kubeconfig[300];
    char bin[512];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct fake_kube_opts opts;
    const char *tmp = getenv("TMPDIR");
    const char *bin = getenv("LW_BIN");

    assert_non_null(f);
    memset(&opts, 0, sizeof(opts));
    opts.tls = true;
    opts.token = "renewer-token";
    opts.seed_json = hooks_json;
    assert_int_equal(fake_kube_start(&opts, &f->kube), 0);
    (void)snprintf(f->dir, sizeof(f->dir), "%s/lw-certs-cluster-XXXXXX",
                   tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    (void)snprintf(f->kubeconfig, sizeof(f->kubeconfig), "%s/kubeconfig", f->dir);
    assert_int_equal(fake_kube_write_kubeconfig(f->kube, f->kubeconfig, "renewer-token", false), 0);
    if (bin != NULL && bin[0] != '\0')
        (void)snprintf(f->bin, sizeof(f->bin), "%s", bin);
    else
        wht_top_path("build/lockwarden", f->bin, sizeof(f->bin));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char *rm[] = {"/bin/rm", "-rf", f->dir, NULL};
    int code;
    int rc;

    fake_kube_stop(f->kube);
    rc = proc_run(rm, "/dev/null", 30000, &code);
    (void)rc;
    free(f);
    return 0;
}

/* Runs `lockwarden certs` with out dir sub and extra args; returns the exit code and
 * copies stdout's first line (the caBundle) into bundle. */
static int run_certs(struct fx *f, const char *sub, const char *const *extra, char *bundle,
                     size_t cap)
{
    char out[400];
    char log[400];
    char *argv[40];
    size_t n = 0;
    size_t i;
    int code = -1;
    char *text = NULL;
    size_t len = 0;

    (void)snprintf(out, sizeof(out), "%s/%s", f->dir, sub);
    (void)snprintf(log, sizeof(log), "%s/%s.log", f->dir, sub);
    (void)remove(log);
    argv[n++] = f->bin;
    argv[n++] = "certs";
    argv[n++] = "--service";
    argv[n++] = "lockwarden";
    argv[n++] = "--namespace";
    argv[n++] = "lockwarden-system";
    argv[n++] = "--out";
    argv[n++] = out;
    argv[n++] = "--kubeconfig";
    argv[n++] = f->kubeconfig;
    for (i = 0; extra[i] != NULL; i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    assert_int_equal(proc_run(argv, log, 60000, &code), 0);
    bundle[0] = '\0';
    /* stdout and stderr share the log: the caBundle is the line that starts with the
     * base64 of "-----BEGIN". */
    if (cm_fs_read_file(log, 1 << 20, &text, &len, NULL) == 0) {
        const char *p = text;

        while (p != NULL && *p != '\0') {
            const char *nl = strchr(p, '\n');
            size_t ln = nl != NULL ? (size_t)(nl - p) : strlen(p);

            if (ln > 4 && strncmp(p, "LS0t", 4) == 0)
                (void)snprintf(bundle, cap, "%.*s", (int)ln, p);
            p = nl != NULL ? nl + 1 : NULL;
        }
        cm_free(text);
    }
    return code;
}

static char *secret_value(struct fx *f, const char *key)
{
    cJSON *s =
        fake_kube_get_object(f->kube, "v1", "secrets", "lockwarden-system", "lockwarden-tls");
    const cJSON *v;
    char *copy = NULL;

    if (s == NULL)
        return NULL;
    v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s, "data"), key);
    if (cJSON_IsString(v))
        copy = strdup(v->valuestring);
    cJSON_Delete(s);
    return copy;
}

static char *ca_bundle_of(struct fx *f, const char *kind, size_t i)
{
    cJSON *cfg =
        fake_kube_get_object(f->kube, "admissionregistration.k8s.io/v1", kind, NULL, "lockwarden");
    const cJSON *h;
    const cJSON *b;
    char *copy = NULL;

    assert_non_null(cfg);
    h = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cfg, "webhooks"), (int)i);
    b = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(h, "clientConfig"),
                                         "caBundle");
    if (cJSON_IsString(b))
        copy = strdup(b->valuestring);
    cJSON_Delete(cfg);
    return copy;
}

static void test_cronjob_flow(void **state)
{
    struct fx *f = *state;
    const char *const args[] = {"--secret",
                                "lockwarden-system/lockwarden-tls",
                                "--renew-within",
                                "30",
                                "--patch-webhook",
                                "validating:lockwarden",
                                "--patch-webhook",
                                "mutating:lockwarden",
                                NULL};
    const char *const renew[] = {"--secret",
                                 "lockwarden-system/lockwarden-tls",
                                 "--renew-within",
                                 "36500",
                                 "--patch-webhook",
                                 "validating:lockwarden",
                                 NULL};
    char b1[8192];
    char b2[8192];
    char b3[8192];
    char *crt1;
    char *crt2;
    char *crt3;
    char *v;
    cJSON *secret;

    /* First run: no Secret yet. It is created with all four keys; caBundle set on
     * every webhook of both configurations (also the one that had none). */
    assert_int_equal(run_certs(f, "run1", args, b1, sizeof(b1)), 0);
    assert_true(strlen(b1) > 100);
    secret = fake_kube_get_object(f->kube, "v1", "secrets", "lockwarden-system", "lockwarden-tls");
    assert_non_null(secret);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(secret, "type")->valuestring,
                        "kubernetes.io/tls");
    cJSON_Delete(secret);
    crt1 = secret_value(f, "tls.crt");
    assert_non_null(crt1);
    v = secret_value(f, "ca.key");
    assert_non_null(v);
    free(v);
    v = secret_value(f, "ca.crt");
    assert_string_equal(v, b1); /* caBundle = base64 of ca.crt = the Secret's value */
    free(v);
    v = ca_bundle_of(f, "validatingwebhookconfigurations", 0);
    assert_string_equal(v, b1);
    free(v);
    v = ca_bundle_of(f, "validatingwebhookconfigurations", 1);
    assert_string_equal(v, b1);
    free(v);
    v = ca_bundle_of(f, "mutatingwebhookconfigurations", 0);
    assert_string_equal(v, b1);
    free(v);

    /* A later run from an empty directory (a CronJob pod) reads the Secret back: not
     * near expiry, so nothing changes. */
    assert_int_equal(run_certs(f, "run2", args, b2, sizeof(b2)), 0);
    assert_string_equal(b1, b2);
    crt2 = secret_value(f, "tls.crt");
    assert_string_equal(crt1, crt2);

    /* Renewal: a new serving certificate in the Secret, the same CA and caBundle. */
    assert_int_equal(run_certs(f, "run3", renew, b3, sizeof(b3)), 0);
    assert_string_equal(b1, b3);
    crt3 = secret_value(f, "tls.crt");
    assert_string_not_equal(crt1, crt3);
    v = ca_bundle_of(f, "validatingwebhookconfigurations", 0);
    assert_string_equal(v, b1);
    free(v);
    free(crt1);
    free(crt2);
    free(crt3);
}

static void test_errors_exit_1_or_2(void **state)
{
    struct fx *f = *state;
    const char *const missing_hook[] = {"--patch-webhook", "validating:nope", NULL};
    const char *const bad_secret[] = {"--secret", "no-slash", NULL};
    const char *const bad_hook[] = {"--patch-webhook", "sideways:x", NULL};
    char b[8192];

    /* A configuration that does not exist: exit 1, and the message names it. */
    assert_int_equal(run_certs(f, "e1", missing_hook, b, sizeof(b)), 1);
    assert_int_equal(run_certs(f, "e2", bad_secret, b, sizeof(b)), 2);
    assert_int_equal(run_certs(f, "e3", bad_hook, b, sizeof(b)), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cronjob_flow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_exit_1_or_2, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
