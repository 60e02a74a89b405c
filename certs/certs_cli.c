/* SPDX-License-Identifier: Apache-2.0 */
/* certs_cli.c - the options of `lockwarden certs`, their checks, and its main. */
#include "certs/certs.h"
#include "backup/kube/kube.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[] =
    "usage: lockwarden certs --service NAME --namespace NS --out DIR [options]\n"
    "\n"
    "Creates a CA and a serving certificate for the webhook Service and writes\n"
    "DIR/ca.crt, DIR/ca.key, DIR/tls.crt and DIR/tls.key (keys mode 0600). Prints the\n"
    "base64 caBundle for the Validating/MutatingWebhookConfiguration on stdout.\n"
    "\n"
    "  --service NAME        the webhook Service name\n"
    "  --namespace NS        its namespace\n"
    "  --out DIR             where to write (created when missing)\n"
    "  --days N              serving certificate validity (default 365)\n"
    "  --ca-days N           CA validity (default 3650)\n"
    "  --dns NAME            an extra DNS name (repeatable)\n"
    "  --ip ADDR             an extra IP address (repeatable)\n"
    "  --force               replace existing files with a new CA and certificate\n"
    "  --renew-within DAYS   when tls.crt exists: renew it only if it expires within\n"
    "                        DAYS, keeping the CA while it is valid long enough\n"
    "\n"
    "In a cluster (the renewal CronJob; in-cluster credentials, or --kubeconfig):\n"
    "  --secret NS/NAME      read the certificates from this TLS Secret first (when it\n"
    "                        exists) and write them back after (keys tls.crt, tls.key,\n"
    "                        ca.crt, ca.key)\n"
    "  --patch-webhook validating:NAME | mutating:NAME  (repeatable)\n"
    "                        set caBundle on every webhook of that configuration\n"
    "  --kubeconfig FILE     talk to the cluster of this kubeconfig instead\n";

void certs_opts_init(struct certs_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->days = 365;
    o->ca_days = 3650;
    o->renew_within = -1;
    o->now = time(NULL);
}

static int parse_days(const char *v, unsigned max, unsigned *out, const char *flag,
                      struct cm_err *err)
{
    uint64_t n;

    if (cm_parse_u64(v, strlen(v), &n) != 0 || n > max)
        return cm_err_set(err, CM_EINVAL, "%s: '%s' is not a number of days in 0..%u", flag, v,
                          max);
    *out = (unsigned)n;
    return 0;
}

int certs_opts_parse(struct certs_opts *o, int argc, char **argv, struct cm_err *err)
{
    int a;

    cm_err_clear(err);
    for (a = 1; a < argc; a++) {
        const char *f = argv[a];
        const char *v;
        unsigned n;

        if (strcmp(f, "--help") == 0 || strcmp(f, "-h") == 0)
            return CM_ECANCELED;
        if (strcmp(f, "--force") == 0) {
            o->force = true;
            continue;
        }
        if (a + 1 >= argc)
            return cm_err_set(err, CM_EINVAL,
                              strncmp(f, "--", 2) == 0 ? "option '%s' needs a value"
                                                       : "unexpected argument '%s'",
                              f);
        v = argv[++a];
        if (strcmp(f, "--service") == 0) {
            o->service = v;
        } else if (strcmp(f, "--namespace") == 0) {
            o->ns = v;
        } else if (strcmp(f, "--out") == 0) {
            o->out_dir = v;
        } else if (strcmp(f, "--days") == 0) {
            if (parse_days(v, 36500, &o->days, f, err) != 0)
                return CM_EINVAL;
        } else if (strcmp(f, "--ca-days") == 0) {
            if (parse_days(v, 36500, &o->ca_days, f, err) != 0)
                return CM_EINVAL;
        } else if (strcmp(f, "--renew-within") == 0) {
            if (parse_days(v, 36500, &n, f, err) != 0)
                return CM_EINVAL;
            o->renew_within = (int)n;
        } else if (strcmp(f, "--secret") == 0) {
            o->secret = v;
        } else if (strcmp(f, "--kubeconfig") == 0) {
            o->kubeconfig = v;
        } else if (strcmp(f, "--patch-webhook") == 0) {
            if (o->n_patch_webhook >= CERTS_MAX_WEBHOOKS)
                return cm_err_set(err, CM_EINVAL, "--patch-webhook: more than %d",
                                  CERTS_MAX_WEBHOOKS);
            o->patch_webhook[o->n_patch_webhook++] = v;
        } else if (strcmp(f, "--dns") == 0) {
            if (o->n_dns >= CERTS_MAX_NAMES)
                return cm_err_set(err, CM_EINVAL, "--dns: more than %d names", CERTS_MAX_NAMES);
            o->dns[o->n_dns++] = v;
        } else if (strcmp(f, "--ip") == 0) {
            if (o->n_ip >= CERTS_MAX_NAMES)
                return cm_err_set(err, CM_EINVAL, "--ip: more than %d addresses", CERTS_MAX_NAMES);
            o->ip[o->n_ip++] = v;
        } else {
            return cm_err_set(err, CM_EINVAL, "unknown option '%s' (see --help)", f);
        }
    }
    return 0;
}

/* RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 bytes. */
static bool is_label(const char *s, size_t n, bool lower_only)
{
    size_t i;

    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                  (!lower_only && c >= 'A' && c <= 'Z');

        if (!ok)
            return false;
    }
    return true;
}

static bool is_dns_name(const char *s)
{
    size_t n = strlen(s);
    const char *p = s;

    if (n == 0 || n > CERTS_MAX_NAME_LEN)
        return false;
    if (n > 2 && s[0] == '*' && s[1] == '.')
        p += 2;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot != NULL ? (size_t)(dot - p) : strlen(p);

        if (!is_label(p, len, false))
            return false;
        if (dot == NULL)
            return true;
        p = dot + 1;
    }
}

int certs_opts_check(const struct certs_opts *o, struct cm_err *err)
{
    unsigned char addr[16];
    size_t i;

    if (o->service == NULL || o->ns == NULL || o->out_dir == NULL)
        return cm_err_set(err, CM_EINVAL, "--service, --namespace and --out are required");
    if (!is_label(o->service, strlen(o->service), true))
        return cm_err_set(err, CM_EINVAL, "--service: '%s' is not a DNS-1123 label", o->service);
    if (!is_label(o->ns, strlen(o->ns), true))
        return cm_err_set(err, CM_EINVAL, "--namespace: '%s' is not a DNS-1123 label", o->ns);
    if (o->out_dir[0] == '\0')
        return cm_err_set(err, CM_EINVAL, "--out: empty");
    if (o->days == 0)
        return cm_err_set(err, CM_EINVAL, "--days: must be at least 1");
    if (o->ca_days < o->days)
        return cm_err_set(err, CM_EINVAL, "--ca-days (%u) must be at least --days (%u)", o->ca_days,
                          o->days);
    for (i = 0; i < o->n_dns; i++) {
        if (!is_dns_name(o->dns[i]))
            return cm_err_set(err, CM_EINVAL, "--dns: '%s' is not a DNS name", o->dns[i]);
    }
    for (i = 0; i < o->n_ip; i++) {
        if (inet_pton(AF_INET, o->ip[i], addr) != 1 && inet_pton(AF_INET6, o->ip[i], addr) != 1)
            return cm_err_set(err, CM_EINVAL, "--ip: '%s' is not an IP address", o->ip[i]);
    }
    if (o->secret != NULL) {
        const char *slash = strchr(o->secret, '/');

        if (slash == NULL || !is_label(o->secret, (size_t)(slash - o->secret), true) ||
            !is_dns_name(slash + 1))
            return cm_err_set(err, CM_EINVAL, "--secret: '%s' is not NAMESPACE/NAME", o->secret);
    }
    for (i = 0; i < o->n_patch_webhook; i++) {
        const char *p = o->patch_webhook[i];
        const char *name = strncmp(p, "validating:", 11) == 0 ? p + 11
                           : strncmp(p, "mutating:", 9) == 0  ? p + 9
                                                              : NULL;

        if (name == NULL || !is_dns_name(name))
            return cm_err_set(err, CM_EINVAL,
                              "--patch-webhook: '%s' is not validating:NAME or mutating:NAME", p);
    }
    return 0;
}

static const char *action_text(enum certs_action a)
{
    switch (a) {
    case CERTS_CREATED:
        return "created a new CA and serving certificate";
    case CERTS_RENEWED:
        return "renewed the serving certificate (CA kept, caBundle unchanged)";
    case CERTS_RENEWED_NEW_CA:
        return "renewed the serving certificate with a new CA (update the caBundle)";
    case CERTS_UNCHANGED:
        return "the serving certificate is not near expiry: nothing written";
    }
    return "done";
}

/* Pull the Secret, generate, push it back, set caBundle: the CronJob's whole job. */
static int run_in_cluster(const struct certs_opts *o, struct kube_client **kc, bool pull,
                          const struct certs_result *r, struct cm_err *err)
{
    char ns[CERTS_MAX_NAME_LEN + 1];
    const char *name = NULL;
    size_t i;
    int rc = 0;

    if (o->secret != NULL) {
        const char *slash = strchr(o->secret, '/');

        (void)snprintf(ns, sizeof(ns), "%.*s", (int)(slash - o->secret), o->secret);
        name = slash + 1;
    }
    if (*kc == NULL) {
        struct kube_config *cfg = NULL;

        rc = kube_config_load(o->kubeconfig, NULL, &cfg, err);
        if (rc == 0)
            rc = kube_client_create(cfg, kc, err);
        kube_config_destroy(cfg);
        if (rc != 0)
            return rc;
    }
    if (pull) {
        bool found = false;

        if (name == NULL)
            return 0;
        rc = certs_secret_pull(*kc, ns, name, o->out_dir, &found, err);
        if (rc == 0)
            fprintf(stderr, "lockwarden certs: secret %s/%s %s\n", ns, name,
                    found ? "read" : "not found: it will be created");
        return rc;
    }
    if (name != NULL) {
        bool changed = false;

        rc = certs_secret_push(*kc, ns, name, o->out_dir, &changed, err);
        if (rc != 0)
            return rc;
        fprintf(stderr, "lockwarden certs: secret %s/%s %s\n", ns, name,
                changed ? "written" : "already up to date");
    }
    for (i = 0; i < o->n_patch_webhook; i++) {
        const char *p = o->patch_webhook[i];
        bool mutating = strncmp(p, "mutating:", 9) == 0;
        const char *hook = strchr(p, ':') + 1;
        size_t n = 0;

        rc = certs_webhook_set_ca(*kc, mutating, hook, r->ca_bundle, &n, err);
        if (rc != 0)
            return rc;
        fprintf(stderr, "lockwarden certs: %s: caBundle %s\n", p,
                n > 0 ? "updated" : "already current");
    }
    return 0;
}

int certs_main(int argc, char **argv)
{
    struct certs_opts o;
    struct certs_result r;
    struct kube_client *kc = NULL;
    struct cm_err err;
    bool cluster;
    char na[32];
    char cna[32];
    int rc;

    certs_opts_init(&o);
    rc = certs_opts_parse(&o, argc, argv, &err);
    if (rc == CM_ECANCELED) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (rc == 0)
        rc = certs_opts_check(&o, &err);
    if (rc != 0) {
        fprintf(stderr, "lockwarden certs: %s\n\n%s", err.msg, usage_text);
        return 2;
    }
    cluster = o.secret != NULL || o.n_patch_webhook > 0;
    if (cluster && run_in_cluster(&o, &kc, true, NULL, &err) != 0) {
        fprintf(stderr, "lockwarden certs: %s\n", err.msg);
        kube_client_destroy(kc);
        return 1;
    }
    /* With a Secret, the Secret is the truth: renew what it holds. */
    rc = certs_generate(&o, &r, &err);
    if (rc != 0) {
        fprintf(stderr, "lockwarden certs: %s\n", err.msg);
        kube_client_destroy(kc);
        return 1;
    }
    fprintf(stderr, "lockwarden certs: %s in %s (tls.crt valid until %s, CA until %s)\n",
            action_text(r.action), o.out_dir, cm_time_format(r.not_after, na, sizeof(na)),
            cm_time_format(r.ca_not_after, cna, sizeof(cna)));
    if (cluster && run_in_cluster(&o, &kc, false, &r, &err) != 0) {
        fprintf(stderr, "lockwarden certs: %s\n", err.msg);
        kube_client_destroy(kc);
        cm_free(r.ca_bundle);
        return 1;
    }
    kube_client_destroy(kc);
    printf("%s\n", r.ca_bundle);
    cm_free(r.ca_bundle);
    return 0;
}
