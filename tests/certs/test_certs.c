/* SPDX-License-Identifier: Apache-2.0 */
/* test_certs.c - unit tests of certs/: options, name checks, creation, the overwrite
 * rules, renewal that keeps the CA, and the certificate's SANs and usages. */
#include "certs/certs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAY 86400

struct fx {
    char dir[256];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    (void)snprintf(f->dir, sizeof(f->dir), "%s/lw-certs-XXXXXX",
                   getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    static const char *const files[] = {"ca.crt", "ca.key", "tls.crt", "tls.key"};
    char p[512];
    size_t i;

    for (i = 0; i < CM_ARRAY_LEN(files); i++) {
        (void)snprintf(p, sizeof(p), "%s/%s", f->dir, files[i]);
        (void)unlink(p);
    }
    (void)rmdir(f->dir);
    free(f);
    return 0;
}

static void opts(struct certs_opts *o, const char *dir, time_t now)
{
    certs_opts_init(o);
    o->service = "lockwarden";
    o->ns = "lockwarden-system";
    o->out_dir = dir;
    o->now = now;
}

static X509 *load(const char *dir, const char *file)
{
    char p[512];
    FILE *fp;
    X509 *x;

    (void)snprintf(p, sizeof(p), "%s/%s", dir, file);
    fp = fopen(p, "r");
    assert_non_null(fp);
    x = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    assert_non_null(x);
    return x;
}

static char *serial_hex(X509 *x)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *h = BN_bn2hex(bn);
    char *copy = strdup(h);

    OPENSSL_free(h);
    BN_free(bn);
    return copy;
}

static void test_create_files_and_modes(void **state)
{
    struct fx *f = *state;
    struct certs_opts o;
    struct certs_result r;
    struct cm_err err;
    struct stat st;
    char p[512];
    unsigned char *pem = NULL;
    size_t pem_len = 0;
    char *file = NULL;
    size_t file_len = 0;

    opts(&o, f->dir, time(NULL));
    assert_int_equal(certs_generate(&o, &r, &err), 0);
    assert_int_equal(r.action, CERTS_CREATED);
    assert_true(r.not_after > o.now + 364 * DAY && r.not_after <= o.now + 365 * DAY);
    assert_true(r.ca_not_after > o.now + 3649 * DAY);
    (void)snprintf(p, sizeof(p), "%s/tls.key", f->dir);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    (void)snprintf(p, sizeof(p), "%s/ca.key", f->dir);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* caBundle is the base64 of ca.crt exactly. */
    assert_int_equal(cm_base64_decode(r.ca_bundle, strlen(r.ca_bundle), &pem, &pem_len), 0);
    (void)snprintf(p, sizeof(p), "%s/ca.crt", f->dir);
    assert_int_equal(cm_fs_read_file(p, 1 << 20, &file, &file_len, &err), 0);
    assert_int_equal(pem_len, file_len);
    assert_memory_equal(pem, file, pem_len);
    cm_free(pem);
    cm_free(file);
    cm_free(r.ca_bundle);
}

static bool has_san(X509 *x, int type, const char *want)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    bool found = false;
    int i;

    for (i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);

        if (g->type != type)
            continue;
        if (type == GEN_DNS) {
            const char *s = (const char *)ASN1_STRING_get0_data(g->d.dNSName);

            found = found || strcmp(s, want) == 0;
        } else if (type == GEN_IPADD) {
            const unsigned char *b = ASN1_STRING_get0_data(g->d.iPAddress);
            char txt[64];

            if (ASN1_STRING_length(g->d.iPAddress) == 4) {
                (void)snprintf(txt, sizeof(txt), "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
                found = found || strcmp(txt, want) == 0;
            }
        }
    }
    GENERAL_NAMES_free(names);
    return found;
}

static void test_sans_usages_and_chain(void **state)
{
    struct fx *f = *state;
    struct certs_opts o;
    struct certs_result r;
    struct cm_err err;
    X509 *ca;
    X509 *leaf;
    X509_STORE *store;
    X509_STORE_CTX *ctx;

    opts(&o, f->dir, time(NULL));
    o.dns[o.n_dns++] = "localhost";
    o.ip[o.n_ip++] = "127.0.0.1";
    assert_int_equal(certs_generate(&o, &r, &err), 0);
    cm_free(r.ca_bundle);
    ca = load(f->dir, "ca.crt");
    leaf = load(f->dir, "tls.crt");
    assert_true(has_san(leaf, GEN_DNS, "lockwarden"));
    assert_true(has_san(leaf, GEN_DNS, "lockwarden.lockwarden-system"));
    assert_true(has_san(leaf, GEN_DNS, "lockwarden.lockwarden-system.svc"));
    assert_true(has_san(leaf, GEN_DNS, "lockwarden.lockwarden-system.svc.cluster.local"));
    assert_true(has_san(leaf, GEN_DNS, "localhost"));
    assert_true(has_san(leaf, GEN_IPADD, "127.0.0.1"));
    assert_false(has_san(leaf, GEN_DNS, "other"));
    assert_true((X509_get_extended_key_usage(leaf) & XKU_SSL_SERVER) != 0);
    assert_true((X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE) != 0);
    assert_int_equal(X509_check_ca(leaf), 0);
    assert_true(X509_check_ca(ca) != 0);
    assert_true((X509_get_key_usage(ca) & KU_KEY_CERT_SIGN) != 0);
    /* The leaf verifies against the CA for TLS server use and the host name. */
    store = X509_STORE_new();
    assert_int_equal(X509_STORE_add_cert(store, ca), 1);
    ctx = X509_STORE_CTX_new();
    assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, NULL), 1);
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
    assert_int_equal(X509_verify_cert(ctx), 1);
    assert_int_equal(X509_check_host(leaf, "lockwarden.lockwarden-system.svc", 0, 0, NULL), 1);
    assert_int_equal(X509_check_ip_asc(leaf, "127.0.0.1", 0), 1);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(ca);
    X509_free(leaf);
}

static void test_refuses_overwrite_without_force(void **state)
{
    struct fx *f = *state;
    struct certs_opts o;
    struct certs_result r;
    struct cm_err err;
    X509 *a;
    X509 *b;
    char *sa;
    char *sb;

    opts(&o, f->dir, time(NULL));
    assert_int_equal(certs_generate(&o, &r, &err), 0);
    cm_free(r.ca_bundle);
    a = load(f->dir, "tls.crt");
    assert_int_equal(certs_generate(&o, &r, &err), CM_EEXIST);
    assert_non_null(strstr(err.msg, "--force"));
    b = load(f->dir, "tls.crt");
    sa = serial_hex(a);
    sb = serial_hex(b);
    assert_string_equal(sa, sb);
    free(sb);
    X509_free(b);
    /* --force: new CA and new certificate. */
    o.force = true;
    assert_int_equal(certs_generate(&o, &r, &err), 0);
    assert_int_equal(r.action, CERTS_CREATED);
    cm_free(r.ca_bundle);
    b = load(f->dir, "tls.crt");
    sb = serial_hex(b);
    assert_string_not_equal(sa, sb);
    free(sa);
    free(sb);
    X509_free(a);
    X509_free(b);
}

static void test_renew_within_keeps_ca(void **state)
{
    struct fx *f = *state;
    struct certs_opts o;
    struct certs_result r1;
    struct certs_result r2;
    struct cm_err err;
    time_t now = time(NULL);

    opts(&o, f->dir, now);
    o.days = 30;
    assert_int_equal(certs_generate(&o, &r1, &err), 0);
    /* Not near expiry: nothing changes, same caBundle. */
    o.renew_within = 10;
    assert_int_equal(certs_generate(&o, &r2, &err), 0);
    assert_int_equal(r2.action, CERTS_UNCHANGED);
    assert_string_equal(r1.ca_bundle, r2.ca_bundle);
    assert_int_equal(r1.not_after, r2.not_after);
    cm_free(r2.ca_bundle);
    /* 25 days later it expires within 10 days: renewed, CA kept (caBundle equal). */
    o.now = now + 25 * DAY;
    assert_int_equal(certs_generate(&o, &r2, &err), 0);
    assert_int_equal(r2.action, CERTS_RENEWED);
    assert_string_equal(r1.ca_bundle, r2.ca_bundle);
    assert_true(r2.not_after > r1.not_after);
    cm_free(r2.ca_bundle);
    cm_free(r1.ca_bundle);
}

static void test_renew_replaces_short_ca(void **state)
{
    struct fx *f = *state;
    struct certs_opts o;
    struct certs_result r1;
    struct certs_result r2;
    struct cm_err err;
    time_t now = time(NULL);

    opts(&o, f->dir, now);
    o.days = 30;
    o.ca_days = 40;
    assert_int_equal(certs_generate(&o, &r1, &err), 0);
    /* At day 25 a new 30-day certificate would outlive the 40-day CA: new CA. */
    o.now = now + 25 * DAY;
    o.renew_within = 10;
    assert_int_equal(certs_generate(&o, &r2, &err), 0);
    assert_int_equal(r2.action, CERTS_RENEWED_NEW_CA);
    assert_string_not_equal(r1.ca_bundle, r2.ca_bundle);
    cm_free(r2.ca_bundle);
    cm_free(r1.ca_bundle);
}

static void test_mismatched_ca_key_is_an_error(void **state)
{
    struct fx *f = *state;
    struct certs_opts o;
    struct certs_result r;
    struct cm_err err;
    char a[512];
    char b[512];
    char *buf = NULL;
    size_t len = 0;

    opts(&o, f->dir, time(NULL));
    assert_int_equal(certs_generate(&o, &r, &err), 0);
    cm_free(r.ca_bundle);
    /* Put the serving key where the CA key belongs. */
    (void)snprintf(a, sizeof(a), "%s/tls.key", f->dir);
    (void)snprintf(b, sizeof(b), "%s/ca.key", f->dir);
    assert_int_equal(cm_fs_read_file(a, 1 << 20, &buf, &len, &err), 0);
    assert_int_equal(cm_fs_write_atomic(b, buf, len, 0600, &err), 0);
    cm_free(buf);
    o.renew_within = 100000;
    assert_int_equal(certs_generate(&o, &r, &err), CM_ETLS);
    assert_non_null(strstr(err.msg, "does not match"));
}

static void test_garbage_cert_is_an_error(void **state)
{
    struct fx *f = *state;
    struct certs_opts o;
    struct certs_result r;
    struct cm_err err;
    char p[512];

    (void)snprintf(p, sizeof(p), "%s/tls.crt", f->dir);
    assert_int_equal(cm_fs_write_atomic(p, "not a certificate\n", 18, 0644, &err), 0);
    opts(&o, f->dir, time(NULL));
    o.renew_within = 5;
    assert_int_equal(certs_generate(&o, &r, &err), CM_ETLS);
    assert_non_null(strstr(err.msg, "tls.crt"));
    assert_int_equal(certs_file_not_after(p, &r.not_after, &err), CM_ETLS);
    (void)snprintf(p, sizeof(p), "%s/none.crt", f->dir);
    assert_int_equal(certs_file_not_after(p, &r.not_after, &err), CM_ENOENT);
}

static void test_opts_parse_and_check(void **state)
{
    struct certs_opts o;
    struct cm_err err;
    char *ok[] = {"certs",
                  "--service",
                  "wh",
                  "--namespace",
                  "ns",
                  "--out",
                  "d",
                  "--days",
                  "7",
                  "--dns",
                  "a.example",
                  "--ip",
                  "::1",
                  "--ip",
                  "10.0.0.1",
                  "--force",
                  "--renew-within",
                  "3"};
    char *unknown[] = {"certs", "--bogus", "x"};
    char *noval[] = {"certs", "--service"};
    char *baddays[] = {"certs", "--days", "x"};
    char *help[] = {"certs", "--help"};

    (void)state;
    certs_opts_init(&o);
    assert_int_equal(certs_opts_parse(&o, (int)CM_ARRAY_LEN(ok), ok, &err), 0);
    assert_string_equal(o.service, "wh");
    assert_int_equal(o.days, 7);
    assert_int_equal(o.n_ip, 2);
    assert_int_equal(o.n_dns, 1);
    assert_true(o.force);
    assert_int_equal(o.renew_within, 3);
    assert_int_equal(certs_opts_check(&o, &err), 0);
    o.service = "Bad_Name";
    assert_int_equal(certs_opts_check(&o, &err), CM_EINVAL);
    o.service = "wh";
    o.dns[0] = "bad name,DNS:evil";
    assert_int_equal(certs_opts_check(&o, &err), CM_EINVAL);
    o.dns[0] = "*.ok.example";
    assert_int_equal(certs_opts_check(&o, &err), 0);
    o.ip[0] = "300.1.1.1";
    assert_int_equal(certs_opts_check(&o, &err), CM_EINVAL);
    o.ip[0] = "::1";
    o.ca_days = 3;
    assert_int_equal(certs_opts_check(&o, &err), CM_EINVAL);
    o.ca_days = 3650;
    o.ns = NULL;
    assert_int_equal(certs_opts_check(&o, &err), CM_EINVAL);
    certs_opts_init(&o);
    assert_int_equal(certs_opts_parse(&o, 3, unknown, &err), CM_EINVAL);
    assert_int_equal(certs_opts_parse(&o, 2, noval, &err), CM_EINVAL);
    assert_int_equal(certs_opts_parse(&o, 3, baddays, &err), CM_EINVAL);
    assert_int_equal(certs_opts_parse(&o, 2, help, &err), CM_ECANCELED);
}

static void test_name_limits(void **state)
{
    struct certs_opts o;
    struct cm_err err;
    char label[80];
    int i;

    (void)state;
    certs_opts_init(&o);
    o.ns = "ns";
    o.out_dir = "d";
    for (i = 0; i < 63; i++)
        label[i] = 'a';
    label[63] = '\0';
    o.service = label;
    assert_int_equal(certs_opts_check(&o, &err), 0); /* 63: the limit */
    label[63] = 'a';
    label[64] = '\0';
    assert_int_equal(certs_opts_check(&o, &err), CM_EINVAL); /* 64 */
}

static void test_cluster_options(void **state)
{
    struct certs_opts o;
    struct cm_err err;
    char *ok[] = {"certs",
                  "--service",
                  "wh",
                  "--namespace",
                  "ns",
                  "--out",
                  "d",
                  "--secret",
                  "lockwarden-system/lockwarden-tls",
                  "--patch-webhook",
                  "validating:lockwarden",
                  "--patch-webhook",
                  "mutating:lockwarden",
                  "--kubeconfig",
                  "/k"};
    char *nine[] = {"certs",      "--patch-webhook", "mutating:a", "--patch-webhook",
                    "mutating:a", "--patch-webhook", "mutating:a", "--patch-webhook",
                    "mutating:a", "--patch-webhook", "mutating:a", "--patch-webhook",
                    "mutating:a", "--patch-webhook", "mutating:a", "--patch-webhook",
                    "mutating:a", "--patch-webhook", "mutating:a"};

    (void)state;
    certs_opts_init(&o);
    assert_int_equal(certs_opts_parse(&o, (int)CM_ARRAY_LEN(ok), ok, &err), 0);
    assert_string_equal(o.secret, "lockwarden-system/lockwarden-tls");
    assert_int_equal(o.n_patch_webhook, 2);
    assert_string_equal(o.kubeconfig, "/k");
    assert_int_equal(certs_opts_check(&o, &err), 0);
    o.secret = "no-slash";
    assert_int_equal(certs_opts_check(&o, &err), CM_EINVAL);
    o.secret = "Bad_NS/x";
    assert_int_equal(certs_opts_check(&o, &err), CM_EINVAL);
    o.secret = "ns/";
    assert_int_equal(certs_opts_check(&o, &err), CM_EINVAL);
    o.secret = NULL;
    o.patch_webhook[0] = "sideways:x";
    assert_int_equal(certs_opts_check(&o, &err), CM_EINVAL);
    o.patch_webhook[0] = "validating:";
    assert_int_equal(certs_opts_check(&o, &err), CM_EINVAL);
    /* 8 entries is the limit; the 9th is refused. */
    certs_opts_init(&o);
    assert_int_equal(certs_opts_parse(&o, 17, nine, &err), 0);
    assert_int_equal(o.n_patch_webhook, 8);
    certs_opts_init(&o);
    assert_int_equal(certs_opts_parse(&o, 19, nine, &err), CM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_files_and_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sans_usages_and_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_overwrite_without_force, setup, teardown),
        cmocka_unit_test_setup_teardown(test_renew_within_keeps_ca, setup, teardown),
        cmocka_unit_test_setup_teardown(test_renew_replaces_short_ca, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mismatched_ca_key_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_cert_is_an_error, setup, teardown),
        cmocka_unit_test(test_opts_parse_and_check),
        cmocka_unit_test(test_name_limits),
        cmocka_unit_test(test_cluster_options),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
