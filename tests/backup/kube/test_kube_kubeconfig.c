/* SPDX-License-Identifier: Apache-2.0 */
/* test_kube_kubeconfig.c - unit tests of kubeconfig and in-cluster configuration:
 * data vs file material, token / tokenFile (rotation) / client cert / basic auth,
 * context selection, every missing-entry error, plugins refused, relative paths,
 * $KUBECONFIG (kubectl's merge of several files), size limits and the OOM loops.
 * Credentials are checked by what the client sends through the fault transport. */
#include "backup/kube/kube.h"
#include "policy/policy.h"
#include "tests/support/kube_fault.h"
#include "tests/support/kube_testca.h"
#include "tests/support/kube_testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fx {
    char dir[512];
    struct kube_testca *ca;
    char *ca_b64;
    char *cert_b64;
    char *key_b64;
};

static char *b64(const char *s)
{
    char *e = cm_base64_encode(s, strlen(s), NULL);

    assert_non_null(e);
    return e;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    if (f == NULL || kube_test_mkdtemp(f->dir, sizeof(f->dir)) != 0 ||
        kube_testca_create(NULL, NULL, &f->ca) != 0)
        return -1;
    f->ca_b64 = b64(f->ca->ca_cert_pem);
    f->cert_b64 = b64(f->ca->client_cert_pem);
    f->key_b64 = b64(f->ca->client_key_pem);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    (void)unsetenv("KUBECONFIG");
    kube_test_rmtree(f->dir);
    kube_testca_destroy(f->ca);
    cm_free(f->ca_b64);
    cm_free(f->cert_b64);
    cm_free(f->key_b64);
    free(f);
    return 0;
}

/* Parses text as a kubeconfig with base dir f->dir. */
static int parse(struct fx *f, const char *text, const char *context, struct kube_config **out,
                 struct cm_err *err)
{
    return kube_config_parse_kubeconfig("test.kubeconfig", text, strlen(text), f->dir, context, out,
                                        err);
}

/* Sends one GET through a fault transport; returns the Authorization header sent
 * (copied into buf). */
static void auth_sent(struct kube_config *cfg, char *buf, size_t len)
{
    struct kube_fault *fl;
    struct kube_client *c = NULL;
    struct cm_err err;
    cJSON *out = NULL;

    assert_int_equal(kube_fault_create(&fl), 0);
    assert_int_equal(kube_fault_push(fl, 200, -1, "{\"kind\":\"APIVersions\"}"), 0);
    kube_fault_attach(fl, cfg);
    assert_int_equal(kube_client_create(cfg, &c, &err), 0);
    assert_int_equal(kube_request(c, "GET", "/api", NULL, 0, NULL, NULL, &out, &err), 0);
    cJSON_Delete(out);
    (void)snprintf(buf, len, "%s", kube_fault_auth(fl, 0));
    kube_client_destroy(c);
    kube_fault_destroy(fl);
}

static const char *two_contexts =
    "apiVersion: v1\n"
    "kind: Config\n"
    "current-context: prod\n"
    "clusters:\n"
    "- name: prod-cluster\n"
    "  cluster:\n"
    "    server: https://10.1.2.3:6443/\n"
    "- name: dev-cluster\n"
    "  cluster:\n"
    "    server: http://127.0.0.1:8080\n"
    "    insecure-skip-tls-verify: true\n"
    "users:\n"
    "- name: alice\n"
    "  user:\n"
    "    token: alice-token\n"
    "- name: bob\n"
    "  user:\n"
    "    username: bob\n"
    "    password: s3cret\n"
    "contexts:\n"
    "- name: prod\n"
    "  context: {cluster: prod-cluster, user: alice, namespace: payments}\n"
    "- name: dev\n"
    "  context: {cluster: dev-cluster, user: bob}\n";

static void test_current_context_token(void **state)
{
    struct fx *f = *state;
    struct kube_config *cfg = NULL;
    struct cm_err err;
    char auth[256];

    assert_int_equal(parse(f, two_contexts, NULL, &cfg, &err), 0);
    assert_string_equal(kube_config_server(cfg), "https://10.1.2.3:6443");
    assert_string_equal(kube_config_namespace(cfg), "payments");
    assert_string_equal(kube_config_context(cfg), "prod");
    assert_false(kube_config_is_in_cluster(cfg));
    auth_sent(cfg, auth, sizeof(auth));
    assert_string_equal(auth, "Bearer alice-token");
    kube_config_destroy(cfg);
}

static void test_context_selection_basic_auth(void **state)
{
    struct fx *f = *state;
    struct kube_config *cfg = NULL;
    struct cm_err err;
    char auth[256];

    assert_int_equal(parse(f, two_contexts, "dev", &cfg, &err), 0);
    assert_string_equal(kube_config_server(cfg), "http://127.0.0.1:8080");
    assert_string_equal(kube_config_namespace(cfg), "default");
    assert_string_equal(kube_config_context(cfg), "dev");
    auth_sent(cfg, auth, sizeof(auth));
    assert_string_equal(auth, "Basic Ym9iOnMzY3JldA=="); /* bob:s3cret */
    kube_config_destroy(cfg);
}

static void test_missing_entries(void **state)
{
    struct fx *f = *state;
    struct kube_config *cfg = NULL;
    struct cm_err err;

    assert_int_equal(parse(f, two_contexts, "staging", &cfg, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "context \"staging\" not found"));
    assert_non_null(strstr(err.msg, "test.kubeconfig"));
    assert_null(cfg);

    assert_int_equal(parse(f,
                           "clusters: []\nusers: []\ncontexts:\n- name: a\n"
                           "  context: {cluster: c, user: u}\n",
                           NULL, &cfg, &err),
                     CM_ECONFIG);
    assert_non_null(strstr(err.msg, "no current-context"));

    assert_int_equal(parse(f,
                           "current-context: a\nclusters: []\nusers: []\ncontexts:\n- name: a\n"
                           "  context: {cluster: c, user: u}\n",
                           NULL, &cfg, &err),
                     CM_ECONFIG);
    assert_non_null(strstr(err.msg, "cluster \"c\" (named by context \"a\") not found"));

    assert_int_equal(parse(f,
                           "current-context: a\nclusters:\n- name: c\n  cluster: {server: "
                           "'https://x:1'}\nusers: []\ncontexts:\n- name: a\n"
                           "  context: {cluster: c, user: u}\n",
                           NULL, &cfg, &err),
                     CM_ECONFIG);
    assert_non_null(strstr(err.msg, "user \"u\" (named by context \"a\") not found"));

    assert_int_equal(parse(f,
                           "current-context: a\nclusters:\n- name: c\n  cluster: {}\n"
                           "contexts:\n- name: a\n  context: {cluster: c}\n",
                           NULL, &cfg, &err),
                     CM_ECONFIG);
    assert_non_null(strstr(err.msg, "cluster \"c\" has no server"));

    assert_int_equal(parse(f, "- just\n- a list\n", NULL, &cfg, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "not a kubeconfig"));

    assert_int_equal(parse(f, "current-context: [unclosed\n", NULL, &cfg, &err), CM_EPARSE);
    assert_null(cfg);
}

static void test_plugins_unsupported(void **state)
{
    struct fx *f = *state;
    struct kube_config *cfg = NULL;
    struct cm_err err;
    static const char base[] = "current-context: a\nclusters:\n- name: c\n  cluster: {server: "
                               "'https://x:1'}\ncontexts:\n- name: a\n"
                               "  context: {cluster: c, user: eks}\nusers:\n- name: eks\n"
                               "  user:\n";
    char text[1024];

    (void)snprintf(text, sizeof(text),
                   "%s    exec:\n      apiVersion: "
                   "client.authentication.k8s.io/v1beta1\n      command: aws\n      args: "
                   "[eks, get-token]\n",
                   base);
    assert_int_equal(parse(f, text, NULL, &cfg, &err), CM_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "user \"eks\""));
    assert_non_null(strstr(err.msg, "exec credential plugin"));
    assert_non_null(strstr(err.msg, "\"aws\""));
    assert_null(cfg);

    (void)snprintf(text, sizeof(text), "%s    auth-provider:\n      name: gcp\n", base);
    assert_int_equal(parse(f, text, NULL, &cfg, &err), CM_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "auth-provider plugin \"gcp\""));
}

/* Data fields and file fields give the same material; relative files resolve against
 * the kubeconfig's directory (checked by kube_client_create parsing the PEM). */
static void test_data_and_relative_files(void **state)
{
    struct fx *f = *state;
    struct kube_config *cfg = NULL;
    struct kube_client *c = NULL;
    struct cm_err err;
    char text[16384];
    char path[1024];

    (void)snprintf(text, sizeof(text),
                   "current-context: a\nclusters:\n- name: c\n  cluster:\n    server: "
                   "https://127.0.0.1:1\n    certificate-authority-data: %s\n"
                   "    tls-server-name: kubernetes.default.svc\n"
                   "users:\n- name: u\n  user:\n    client-certificate-data: %s\n"
                   "    client-key-data: %s\ncontexts:\n- name: a\n  context: {cluster: c, user: "
                   "u}\n",
                   f->ca_b64, f->cert_b64, f->key_b64);
    assert_int_equal(parse(f, text, NULL, &cfg, &err), 0);
    assert_int_equal(kube_client_create(cfg, &c, &err), 0);
    kube_client_destroy(c);
    kube_config_destroy(cfg);

    assert_int_equal(kube_test_write(f->dir, "pki/ca.crt", f->ca->ca_cert_pem, NULL, 0), 0);
    assert_int_equal(kube_test_write(f->dir, "pki/client.crt", f->ca->client_cert_pem, NULL, 0), 0);
    assert_int_equal(kube_test_write(f->dir, "pki/client.key", f->ca->client_key_pem, NULL, 0), 0);
    assert_int_equal(kube_test_write(f->dir, "config",
                                     "current-context: a\nclusters:\n- name: c\n  cluster:\n"
                                     "    server: https://127.0.0.1:1\n"
                                     "    certificate-authority: pki/ca.crt\n"
                                     "users:\n- name: u\n  user:\n"
                                     "    client-certificate: pki/client.crt\n"
                                     "    client-key: pki/client.key\n"
                                     "contexts:\n- name: a\n  context: {cluster: c, user: u}\n",
                                     path, sizeof(path)),
                     0);
    /* Loaded by path from another working directory: resolution uses the file's dir. */
    assert_int_equal(kube_config_from_kubeconfig(path, NULL, &cfg, &err), 0);
    assert_int_equal(kube_client_create(cfg, &c, &err), 0);
    kube_client_destroy(c);
    kube_config_destroy(cfg);

    /* The same names relative to the wrong directory fail, naming the entry. */
    assert_int_equal(kube_test_write(f->dir, "other",
                                     "current-context: a\nclusters:\n- name: c\n  cluster:\n"
                                     "    server: https://127.0.0.1:1\n"
                                     "    certificate-authority: missing/ca.crt\n"
                                     "contexts:\n- name: a\n  context: {cluster: c}\n",
                                     path, sizeof(path)),
                     0);
    assert_int_equal(kube_config_from_kubeconfig(path, NULL, &cfg, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "cluster \"c\": certificate-authority"));
}

static void test_bad_material(void **state)
{
    struct fx *f = *state;
    struct kube_config *cfg = NULL;
    struct kube_client *c = NULL;
    struct cm_err err;
    char text[16384];

    assert_int_equal(parse(f,
                           "current-context: a\nclusters:\n- name: c\n  cluster:\n    server: "
                           "https://x:1\n    certificate-authority-data: '!!notbase64!!'\n"
                           "contexts:\n- name: a\n  context: {cluster: c}\n",
                           NULL, &cfg, &err),
                     CM_ECONFIG);
    assert_non_null(strstr(err.msg, "certificate-authority-data is not valid base64"));

    (void)snprintf(text, sizeof(text),
                   "current-context: a\nclusters:\n- name: c\n  cluster: {server: "
                   "'https://x:1'}\nusers:\n- name: u\n  user:\n    client-certificate-data: %s\n"
                   "contexts:\n- name: a\n  context: {cluster: c, user: u}\n",
                   f->cert_b64);
    assert_int_equal(parse(f, text, NULL, &cfg, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "has a client certificate but no client key"));

    /* Valid base64 that is not PEM: the config loads, the client refuses it (CM_ETLS). */
    assert_int_equal(parse(f,
                           "current-context: a\nclusters:\n- name: c\n  cluster:\n    server: "
                           "https://x:1\n    certificate-authority-data: aGVsbG8=\n"
                           "contexts:\n- name: a\n  context: {cluster: c}\n",
                           NULL, &cfg, &err),
                     0);
    assert_int_equal(kube_client_create(cfg, &c, &err), CM_ETLS);
    assert_non_null(strstr(err.msg, "CA certificate is not a PEM certificate"));
    assert_null(c);
    kube_config_destroy(cfg);

    /* Only regular files: a device or FIFO could block or never end. */
    assert_int_equal(parse(f,
                           "current-context: a\nclusters:\n- name: c\n  cluster:\n    server: "
                           "https://x:1\n    certificate-authority: /dev/zero\n"
                           "contexts:\n- name: a\n  context: {cluster: c}\n",
                           NULL, &cfg, &err),
                     CM_ECONFIG);
    assert_non_null(strstr(err.msg, "/dev/zero is not a regular file"));
    assert_int_equal(parse(f,
                           "current-context: a\nclusters:\n- name: c\n  cluster: {server: "
                           "'ftp://x'}\ncontexts:\n- name: a\n  context: {cluster: c}\n",
                           NULL, &cfg, &err),
                     CM_ECONFIG);
    assert_non_null(strstr(err.msg, "not http(s)://"));

    assert_int_equal(parse(f,
                           "current-context: a\nclusters:\n- name: c\n  cluster: {server: "
                           "'https://x:1'}\nusers:\n- name: u\n  user: {token: t, username: "
                           "v}\ncontexts:\n- name: a\n  context: {cluster: c, user: u}\n",
                           NULL, &cfg, &err),
                     CM_ECONFIG);
    assert_non_null(strstr(err.msg, "both a token and a username"));
}

/* tokenFile: read at load, re-read by the client whenever it changes (rotation);
 * token wins over tokenFile. */
static void test_token_file_rotation(void **state)
{
    struct fx *f = *state;
    struct kube_config *cfg = NULL;
    struct kube_client *c = NULL;
    struct kube_fault *fl;
    struct cm_err err;
    cJSON *out = NULL;
    char path[1024];

    assert_int_equal(kube_test_write(f->dir, "sa-token", "first-token\n", NULL, 0), 0);
    assert_int_equal(parse(f,
                           "current-context: a\nclusters:\n- name: c\n  cluster: {server: "
                           "'https://x:1'}\nusers:\n- name: u\n  user: {tokenFile: sa-token}\n"
                           "contexts:\n- name: a\n  context: {cluster: c, user: u}\n",
                           NULL, &cfg, &err),
                     0);
    assert_int_equal(kube_fault_create(&fl), 0);
    assert_int_equal(kube_fault_set_default(fl, 200, "{}"), 0);
    kube_fault_attach(fl, cfg);
    assert_int_equal(kube_client_create(cfg, &c, &err), 0);
    assert_int_equal(kube_request(c, "GET", "/api", NULL, 0, NULL, NULL, &out, &err), 0);
    cJSON_Delete(out);
    assert_string_equal(kube_fault_auth(fl, 0), "Bearer first-token");
    assert_int_equal(kube_test_write(f->dir, "sa-token", "rotated-token-2\n", path, sizeof(path)),
                     0);
    assert_int_equal(kube_request(c, "GET", "/api", NULL, 0, NULL, NULL, &out, &err), 0);
    cJSON_Delete(out);
    assert_string_equal(kube_fault_auth(fl, 1), "Bearer rotated-token-2");
    /* A vanished file keeps the last good token (kubelet swaps files atomically). */
    assert_int_equal(remove(path), 0);
    assert_int_equal(kube_request(c, "GET", "/api", NULL, 0, NULL, NULL, &out, &err), 0);
    cJSON_Delete(out);
    assert_string_equal(kube_fault_auth(fl, 2), "Bearer rotated-token-2");
    kube_client_destroy(c);
    kube_fault_destroy(fl);
    kube_config_destroy(cfg);

    assert_int_equal(parse(f,
                           "current-context: a\nclusters:\n- name: c\n  cluster: {server: "
                           "'https://x:1'}\nusers:\n- name: u\n  user: {tokenFile: nope}\n"
                           "contexts:\n- name: a\n  context: {cluster: c, user: u}\n",
                           NULL, &cfg, &err),
                     CM_ECONFIG);
    assert_non_null(strstr(err.msg, "tokenFile"));
}

static void test_json_kubeconfig(void **state)
{
    struct fx *f = *state;
    struct kube_config *cfg = NULL;
    struct cm_err err;

    assert_int_equal(parse(f,
                           "{\"current-context\":\"j\",\"clusters\":[{\"name\":\"c\",\"cluster\":"
                           "{\"server\":\"https://json.example:443\"}}],\"contexts\":[{\"name\":"
                           "\"j\",\"context\":{\"cluster\":\"c\"}}]}",
                           NULL, &cfg, &err),
                     0);
    assert_string_equal(kube_config_server(cfg), "https://json.example:443");
    kube_config_destroy(cfg);
}

static void test_kubeconfig_env(void **state)
{
    struct fx *f = *state;
    struct kube_config *cfg = NULL;
    struct cm_err err;
    char p[1024];
    char env[2100];

    assert_int_equal(kube_test_write(f->dir, "second", two_contexts, p, sizeof(p)), 0);
    (void)snprintf(env, sizeof(env), "%s/absent:%s", f->dir, p);
    assert_int_equal(setenv("KUBECONFIG", env, 1), 0);
    assert_int_equal(kube_config_from_kubeconfig(NULL, "dev", &cfg, &err), 0);
    assert_string_equal(kube_config_context(cfg), "dev");
    kube_config_destroy(cfg);
    /* kube_config_load with a KUBECONFIG set never goes in-cluster. */
    assert_int_equal(setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1), 0);
    assert_int_equal(kube_config_load(NULL, NULL, &cfg, &err), 0);
    assert_false(kube_config_is_in_cluster(cfg));
    kube_config_destroy(cfg);

    (void)snprintf(env, sizeof(env), "%s/absent", f->dir);
    assert_int_equal(setenv("KUBECONFIG", env, 1), 0);
    assert_int_equal(kube_config_from_kubeconfig(NULL, NULL, &cfg, &err), CM_ENOENT);
    assert_non_null(strstr(err.msg, "no readable file"));
    /* Without KUBECONFIG but with the service host: in-cluster, which fails here because
     * there is no service account mount, and says so. */
    assert_int_equal(unsetenv("KUBECONFIG"), 0);
    if (access(KUBE_SA_DIR "/token", R_OK) == 0) {
        /* Running inside a pod: the real mount is used. */
        assert_int_equal(kube_config_load(NULL, NULL, &cfg, &err), 0);
        assert_true(kube_config_is_in_cluster(cfg));
        kube_config_destroy(cfg);
    } else {
        assert_int_equal(kube_config_load(NULL, NULL, &cfg, &err), CM_ECONFIG);
        assert_non_null(strstr(err.msg, "in-cluster config"));
    }
    assert_int_equal(unsetenv("KUBERNETES_SERVICE_HOST"), 0);
}

static void test_in_cluster(void **state)
{
    struct fx *f = *state;
    struct kube_config *cfg = NULL;
    struct cm_err err;
    char sa[700];
    char auth[256];

    (void)snprintf(sa, sizeof(sa), "%s/sa", f->dir);
    assert_int_equal(kube_config_in_cluster_at(sa, "10.96.0.1", "443", &cfg, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "service account token"));
    assert_int_equal(kube_test_write(f->dir, "sa/token", "pod-token\n", NULL, 0), 0);
    assert_int_equal(kube_config_in_cluster_at(sa, "10.96.0.1", "443", &cfg, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "CA certificate"));
    assert_int_equal(kube_test_write(f->dir, "sa/ca.crt", f->ca->ca_cert_pem, NULL, 0), 0);
    assert_int_equal(kube_test_write(f->dir, "sa/namespace", "lockwarden\n", NULL, 0), 0);
    assert_int_equal(kube_config_in_cluster_at(sa, "10.96.0.1", "443", &cfg, &err), 0);
    assert_string_equal(kube_config_server(cfg), "https://10.96.0.1:443");
    assert_string_equal(kube_config_namespace(cfg), "lockwarden");
    assert_true(kube_config_is_in_cluster(cfg));
    auth_sent(cfg, auth, sizeof(auth));
    assert_string_equal(auth, "Bearer pod-token");
    kube_config_destroy(cfg);

    assert_int_equal(kube_config_in_cluster_at(sa, "fd00::1", "6443", &cfg, &err), 0);
    assert_string_equal(kube_config_server(cfg), "https://[fd00::1]:6443");
    kube_config_destroy(cfg);

    assert_int_equal(kube_config_in_cluster_at(sa, NULL, "443", &cfg, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "KUBERNETES_SERVICE_HOST"));
    assert_int_equal(kube_config_in_cluster_at(sa, "10.0.0.1", "44x", &cfg, &err), CM_ECONFIG);
}

/* Sets $KUBECONFIG to the given names under f->dir, joined with ':' ("" stays an
 * empty entry). */
static void set_kubeconfig(struct fx *f, const char *const *names, size_t n)
{
    char env[8192];
    size_t used = 0;
    size_t i;

    env[0] = '\0';
    for (i = 0; i < n; i++) {
        int w = snprintf(env + used, sizeof(env) - used, "%s%s%s%s", i ? ":" : "",
                         names[i][0] ? f->dir : "", names[i][0] ? "/" : "", names[i]);

        assert_true(w >= 0 && (size_t)w < sizeof(env) - used);
        used += (size_t)w;
    }
    assert_int_equal(setenv("KUBECONFIG", env, 1), 0);
}

/* Cluster "shared" (CA relative to one/), context ctx2 (two/) naming user u3 (three/,
 * tokenFile relative to three/); two/ redefines "shared" and holds decoy files. */
static void write_three(struct fx *f)
{
    assert_int_equal(kube_test_write(f->dir, "one/config",
                                     "clusters:\n- name: shared\n  cluster: {server: "
                                     "'https://127.0.0.1:1', certificate-authority: ca.crt}\n",
                                     NULL, 0),
                     0);
    assert_int_equal(kube_test_write(f->dir, "one/ca.crt", f->ca->ca_cert_pem, NULL, 0), 0);
    assert_int_equal(kube_test_write(f->dir, "two/config",
                                     "current-context: ctx2\nclusters:\n- name: shared\n"
                                     "  cluster: {server: 'https://second.invalid:2'}\n"
                                     "contexts:\n- name: ctx2\n"
                                     "  context: {cluster: shared, user: u3, namespace: ns2}\n",
                                     NULL, 0),
                     0);
    assert_int_equal(kube_test_write(f->dir, "two/token", "wrong-token\n", NULL, 0), 0);
    assert_int_equal(kube_test_write(f->dir, "three/config",
                                     "current-context: ctx3\nusers:\n- name: u3\n"
                                     "  user: {tokenFile: token}\ncontexts:\n- name: ctx3\n"
                                     "  context: {cluster: shared}\n",
                                     NULL, 0),
                     0);
    assert_int_equal(kube_test_write(f->dir, "three/token", "third-token\n", NULL, 0), 0);
}

/* kubectl's merge: current-context from the first file that sets it; a context in
 * file 2 using a user from file 3 and a cluster from file 1, each file's relative
 * paths against its own directory; missing files, empty entries and repeats skipped. */
static void test_merge_three_files(void **state)
{
    static const char *const names[] = {"",           "one/config",   "absent/config", "",
                                        "two/config", "three/config", "one/config"};
    struct fx *f = *state;
    struct kube_config *cfg = NULL;
    struct kube_client *c = NULL;
    struct cm_err err;
    char auth[256];

    write_three(f);
    set_kubeconfig(f, names, CM_ARRAY_LEN(names));
    assert_int_equal(kube_config_from_kubeconfig(NULL, NULL, &cfg, &err), 0);
    assert_string_equal(kube_config_context(cfg), "ctx2");
    assert_string_equal(kube_config_namespace(cfg), "ns2");
    /* The first definition of "shared" (file 1), not file 2's. */
    assert_string_equal(kube_config_server(cfg), "https://127.0.0.1:1");
    /* one/ca.crt was loaded: the client accepts it as a PEM CA. */
    assert_int_equal(kube_client_create(cfg, &c, &err), 0);
    kube_client_destroy(c);
    auth_sent(cfg, auth, sizeof(auth));
    assert_string_equal(auth, "Bearer third-token");
    kube_config_destroy(cfg);

    /* --context picks a context of file 3; its cluster still comes from file 1. */
    assert_int_equal(kube_config_from_kubeconfig(NULL, "ctx3", &cfg, &err), 0);
    assert_string_equal(kube_config_context(cfg), "ctx3");
    assert_string_equal(kube_config_server(cfg), "https://127.0.0.1:1");
    assert_string_equal(kube_config_namespace(cfg), "default");
    kube_config_destroy(cfg);
}

static const char *file_a = "current-context: a\nclusters:\n- name: c\n"
                            "  cluster: {server: 'https://first.example:1'}\n"
                            "users:\n- name: u\n  user: {username: bob, password: pw}\n"
                            "contexts:\n- name: a\n  context: {cluster: c, user: u}\n";
static const char *file_b = "current-context: b\nclusters:\n- name: c\n  cluster: {server: "
                            "'https://second.example:2', certificate-authority-data: '!!bad!!'}\n"
                            "- name: only-b\n  cluster: {server: 'https://b.example:3'}\n"
                            "users:\n- name: u\n  user: {token: from-b}\n"
                            "contexts:\n- name: a\n  context: {cluster: only-b}\n"
                            "- name: b\n  context: {cluster: only-b, user: u}\n";

/* Two files defining the same names: the first file's entries win whole (a field merge
 * would meet file b's bad CA data or its token next to a username). */
static void test_merge_first_wins(void **state)
{
    static const char *const ab[] = {"a", "b"};
    static const char *const ba[] = {"b", "a"};
    struct fx *f = *state;
    struct kube_config *cfg = NULL;
    struct cm_err err;
    char auth[256];

    assert_int_equal(kube_test_write(f->dir, "a", file_a, NULL, 0), 0);
    assert_int_equal(kube_test_write(f->dir, "b", file_b, NULL, 0), 0);
    set_kubeconfig(f, ab, 2);
    assert_int_equal(kube_config_from_kubeconfig(NULL, NULL, &cfg, &err), 0);
    assert_string_equal(kube_config_context(cfg), "a");
    assert_string_equal(kube_config_server(cfg), "https://first.example:1");
    auth_sent(cfg, auth, sizeof(auth));
    assert_string_equal(auth, "Basic Ym9iOnB3"); /* bob:pw */
    kube_config_destroy(cfg);
    assert_int_equal(kube_config_from_kubeconfig(NULL, "b", &cfg, &err), 0);
    assert_string_equal(kube_config_server(cfg), "https://b.example:3");
    auth_sent(cfg, auth, sizeof(auth));
    assert_string_equal(auth, "Basic Ym9iOnB3"); /* user u of file a, not b's token */
    kube_config_destroy(cfg);

    /* The other order: b's current-context, context, cluster and user. */
    set_kubeconfig(f, ba, 2);
    assert_int_equal(kube_config_from_kubeconfig(NULL, NULL, &cfg, &err), 0);
    assert_string_equal(kube_config_context(cfg), "b");
    auth_sent(cfg, auth, sizeof(auth));
    assert_string_equal(auth, "Bearer from-b");
    kube_config_destroy(cfg);
    assert_int_equal(kube_config_from_kubeconfig(NULL, "a", &cfg, &err), 0);
    assert_string_equal(kube_config_server(cfg), "https://b.example:3");
    kube_config_destroy(cfg);
}

static void test_merge_errors(void **state)
{
    static const char *const parse_err[] = {"a", "bad"};
    static const char *const none[] = {"", "x", "y", ""};
    static const char *const with_dir[] = {"a", "sub"};
    static const char *const with_empty[] = {"empty", "a"};
    struct fx *f = *state;
    struct kube_config *cfg = NULL;
    struct cm_err err;
    const char *names[KUBE_MAX_KUBECONFIG_FILES + 1];
    char absent[KUBE_MAX_KUBECONFIG_FILES + 1][16];
    char pbad[1024];
    char line[1100];
    char *big;
    size_t i;

    assert_int_equal(kube_test_write(f->dir, "a", file_a, NULL, 0), 0);
    /* A YAML error in file 2 names file 2, the line and the column. */
    assert_int_equal(kube_test_write(f->dir, "bad", "clusters: []\nusers: []\nclusters: []\n", pbad,
                                     sizeof(pbad)),
                     0);
    set_kubeconfig(f, parse_err, 2);
    assert_int_equal(kube_config_from_kubeconfig(NULL, NULL, &cfg, &err), CM_EPARSE);
    (void)snprintf(line, sizeof(line), "%s:3:1: duplicate mapping key", pbad);
    assert_non_null(strstr(err.msg, line));
    assert_null(cfg);

    /* Lookups over the merged files name $KUBECONFIG. */
    assert_int_equal(kube_test_write(f->dir, "sub/empty", "", NULL, 0), 0);
    assert_int_equal(kube_test_write(f->dir, "empty", "", NULL, 0), 0);
    set_kubeconfig(f, with_empty, 2);
    assert_int_equal(kube_config_from_kubeconfig(NULL, "nope", &cfg, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "KUBECONFIG="));
    assert_non_null(strstr(err.msg, "context \"nope\" not found"));
    /* An empty file is an empty kubeconfig. */
    assert_int_equal(kube_config_from_kubeconfig(NULL, NULL, &cfg, &err), 0);
    kube_config_destroy(cfg);
    cfg = NULL;

    /* A directory is not skipped like a missing file: it is an error naming it. */
    set_kubeconfig(f, with_dir, 2);
    assert_int_not_equal(kube_config_from_kubeconfig(NULL, NULL, &cfg, &err), 0);
    assert_non_null(strstr(err.msg, "/sub"));

    /* Nothing exists (empty entries only count for nothing): today's error. */
    set_kubeconfig(f, none, CM_ARRAY_LEN(none));
    assert_int_equal(kube_config_from_kubeconfig(NULL, NULL, &cfg, &err), CM_ENOENT);
    assert_non_null(strstr(err.msg, "no readable file"));
    assert_int_equal(setenv("KUBECONFIG", "::", 1), 0);
    assert_int_equal(kube_config_from_kubeconfig(NULL, NULL, &cfg, &err), CM_ENOENT);

    /* KUBE_MAX_KUBECONFIG_FILES distinct entries load; one more is CM_ETOOBIG. */
    for (i = 0; i < KUBE_MAX_KUBECONFIG_FILES; i++) {
        (void)snprintf(absent[i], sizeof(absent[i]), "absent%zu", i);
        names[i] = absent[i];
    }
    names[KUBE_MAX_KUBECONFIG_FILES - 1] = "a";
    set_kubeconfig(f, names, KUBE_MAX_KUBECONFIG_FILES);
    assert_int_equal(kube_config_from_kubeconfig(NULL, NULL, &cfg, &err), 0);
    kube_config_destroy(cfg);
    cfg = NULL;
    names[KUBE_MAX_KUBECONFIG_FILES] = "a";
    names[KUBE_MAX_KUBECONFIG_FILES - 1] = "absent-last";
    set_kubeconfig(f, names, KUBE_MAX_KUBECONFIG_FILES + 1);
    assert_int_equal(kube_config_from_kubeconfig(NULL, NULL, &cfg, &err), CM_ETOOBIG);
    assert_non_null(strstr(err.msg, "more than 16 files"));
    assert_null(cfg);
    /* Repeats count once. */
    for (i = 0; i <= KUBE_MAX_KUBECONFIG_FILES; i++)
        names[i] = "a";
    set_kubeconfig(f, names, KUBE_MAX_KUBECONFIG_FILES + 1);
    assert_int_equal(kube_config_from_kubeconfig(NULL, NULL, &cfg, &err), 0);
    kube_config_destroy(cfg);
    cfg = NULL;

    /* An entry too long for a path. */
    big = malloc(5000);
    assert_non_null(big);
    memset(big, 'x', 4999);
    big[4999] = '\0';
    assert_int_equal(setenv("KUBECONFIG", big, 1), 0);
    free(big);
    assert_int_equal(kube_config_from_kubeconfig(NULL, NULL, &cfg, &err), CM_ECONFIG);
    assert_non_null(strstr(err.msg, "longer than 4095 bytes"));
}

/* KUBE_MAX_KUBECONFIG bytes load; one more is CM_ETOOBIG. */
static void test_size_limit(void **state)
{
    struct fx *f = *state;
    struct kube_config *cfg = NULL;
    struct cm_err err;
    static const char head[] = "current-context: a\nclusters:\n- name: c\n  cluster: {server: "
                               "'https://x:1'}\ncontexts:\n- name: a\n  context: {cluster: c}\n#";
    size_t n = KUBE_MAX_KUBECONFIG + 1;
    char *buf = malloc(n + 1);

    (void)f;
    assert_non_null(buf);
    memset(buf, 'x', n);
    memcpy(buf, head, sizeof(head) - 1);
    buf[n - 2] = '\n';
    buf[n - 1] = '\n';
    buf[n] = '\0';
    assert_int_equal(kube_config_parse_kubeconfig("big", buf, n - 1, NULL, NULL, &cfg, &err), 0);
    kube_config_destroy(cfg);
    cfg = NULL;
    assert_int_equal(kube_config_parse_kubeconfig("big", buf, n, NULL, NULL, &cfg, &err),
                     CM_ETOOBIG);
    assert_null(cfg);
    free(buf);
}

static void test_oom_loop(void **state)
{
    struct fx *f = *state;
    struct kube_config *cfg = NULL;
    struct cm_err err;
    char text[16384];
    long n;
    int rc;

    (void)snprintf(text, sizeof(text),
                   "current-context: a\nclusters:\n- name: c\n  cluster:\n    server: "
                   "https://127.0.0.1:1\n    certificate-authority-data: %s\n"
                   "users:\n- name: u\n  user:\n    client-certificate-data: %s\n"
                   "    client-key-data: %s\n    token: abc\ncontexts:\n- name: a\n  context: "
                   "{cluster: c, user: u, namespace: x}\n",
                   f->ca_b64, f->cert_b64, f->key_b64);
    for (n = 1;; n++) {
        cm_alloc_fault_set(n);
        rc = parse(f, text, NULL, &cfg, &err);
        if (!cm_alloc_fault_fired()) {
            cm_alloc_fault_set(0);
            assert_int_equal(rc, 0);
            break;
        }
        cm_alloc_fault_set(0);
        assert_int_equal(rc, CM_ENOMEM);
        assert_null(cfg);
        assert_true(n < 100000);
    }
    kube_config_destroy(cfg);
}

static void test_merge_oom_loop(void **state)
{
    static const char *const names[] = {"one/config", "absent", "two/config", "three/config"};
    struct fx *f = *state;
    struct kube_config *cfg = NULL;
    struct cm_err err;
    long n;
    int rc;

    write_three(f);
    set_kubeconfig(f, names, CM_ARRAY_LEN(names));
    for (n = 1;; n++) {
        cm_alloc_fault_set(n);
        rc = kube_config_from_kubeconfig(NULL, NULL, &cfg, &err);
        if (!cm_alloc_fault_fired()) {
            cm_alloc_fault_set(0);
            assert_int_equal(rc, 0);
            break;
        }
        cm_alloc_fault_set(0);
        assert_int_equal(rc, CM_ENOMEM);
        assert_null(cfg);
        assert_true(n < 100000);
    }
    assert_string_equal(kube_config_server(cfg), "https://127.0.0.1:1");
    kube_config_destroy(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_current_context_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_context_selection_basic_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plugins_unsupported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_and_relative_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_material, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_file_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_kubeconfig, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_cluster, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oom_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_three_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_first_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_oom_loop, setup, teardown),
    };

    policy_json_hooks_install();
    cm_log_set_level(CM_LOG_OFF);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
