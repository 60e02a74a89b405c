/* SPDX-License-Identifier: Apache-2.0 */
/* certs.h - `lockwarden certs`: a CA and a webhook serving certificate on OpenSSL,
 * with the SANs the API server checks, written as ca.crt, ca.key, tls.crt, tls.key.
 *
 * Design note
 * - Keys are ECDSA P-256; signatures SHA-256. The CA (CA:TRUE, keyCertSign+cRLSign)
 *   lives certs_opts.ca_days (default 10 years); the serving certificate (CA:FALSE,
 *   digitalSignature, extendedKeyUsage serverAuth) lives certs_opts.days (default 1
 *   year) and names `svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local` plus
 *   every --dns and --ip.
 * - Overwrite rules: existing files are never replaced without --force (a fresh CA
 *   and certificate) or --renew-within DAYS (renew the serving certificate when it
 *   expires within DAYS; keep the CA while it stays valid past the new certificate,
 *   so the webhook configurations' caBundle does not change).
 * - Files are written atomically (temporary file + rename); keys with mode 0600.
 *   Key material is freed by OpenSSL (which wipes it) and our copies with
 *   cm_free_secure.
 * - The clock is a parameter (certs_opts.now) so that tests can move it. */
#ifndef CERTS_CERTS_H
#define CERTS_CERTS_H

#include "common/cm.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define CERTS_MAX_NAMES 32 /* extra --dns and --ip entries, each */
#define CERTS_MAX_NAME_LEN 253
#define CERTS_MAX_FILE (1u << 20)
#define CERTS_MAX_WEBHOOKS 8 /* --patch-webhook entries */

struct kube_client;

/* What `lockwarden certs` should do. Value type; the strings are borrowed. */
struct certs_opts {
    const char *service; /* DNS-1123 label */
    const char *ns;      /* DNS-1123 label */
    const char *out_dir;
    unsigned days;    /* serving certificate validity, 1..3650 */
    unsigned ca_days; /* CA validity, >= days */
    const char *dns[CERTS_MAX_NAMES];
    size_t n_dns;
    const char *ip[CERTS_MAX_NAMES];
    size_t n_ip;
    bool force;
    int renew_within; /* days; -1 when not given */
    time_t now;       /* the clock */
    /* In-cluster (the renewal CronJob): NULL / 0 when not asked. */
    const char *secret;                            /* "NS/NAME": pulled before, pushed after */
    const char *patch_webhook[CERTS_MAX_WEBHOOKS]; /* "validating:NAME" | "mutating:NAME" */
    size_t n_patch_webhook;
    const char *kubeconfig; /* NULL: in-cluster when running in a pod, else $KUBECONFIG */
};

enum certs_action {
    CERTS_CREATED = 0,    /* new CA and certificate */
    CERTS_RENEWED,        /* new certificate, existing CA kept */
    CERTS_RENEWED_NEW_CA, /* new certificate and a new CA (the old one was too short) */
    CERTS_UNCHANGED,      /* --renew-within: not near expiry, nothing written */
};

struct certs_result {
    enum certs_action action;
    char *ca_bundle;  /* base64 of ca.crt's PEM; the caller frees it (cm_free) */
    time_t not_after; /* of tls.crt */
    time_t ca_not_after;
};

/* Defaults: days 365, ca_days 3650, renew_within -1, now = time(NULL). Cannot fail. */
void certs_opts_init(struct certs_opts *o);

/* Parses argv[1..argc) of `lockwarden certs` into o (strings borrowed from argv).
 * Returns 0, CM_ECANCELED for --help, or CM_EINVAL with err naming the flag. */
CM_NODISCARD int certs_opts_parse(struct certs_opts *o, int argc, char **argv, struct cm_err *err);

/* Checks names and numbers: service and ns are DNS-1123 labels, --dns names are DNS
 * names (a leading "*." allowed), --ip are IPv4/IPv6 literals. Returns 0 or CM_EINVAL. */
CM_NODISCARD int certs_opts_check(const struct certs_opts *o, struct cm_err *err);

/* Creates, renews or keeps the files in o->out_dir (created with mode 0700 when
 * missing) per the rules above, and fills res (res->ca_bundle owned by the caller
 * on success; res untouched on failure). Returns 0, CM_EINVAL, CM_EEXIST (files exist,
 * neither --force nor --renew-within), CM_EIO (file I/O), CM_ETLS (an existing file
 * does not parse, or the CA key does not match the CA), CM_ENOMEM. Not thread-safe
 * (OpenSSL error queue per thread is fine; the files are not locked). */
CM_NODISCARD int certs_generate(const struct certs_opts *o, struct certs_result *res,
                                struct cm_err *err);

/* Reads the notAfter of the first certificate in a PEM file. Returns 0, CM_ENOENT,
 * CM_EIO or CM_ETLS. Thread-safe. */
CM_NODISCARD int certs_file_not_after(const char *path, time_t *out, struct cm_err *err);

/* ---- in-cluster (certs_cluster.c) ---- */

/* Reads Secret ns/name and writes its tls.crt, tls.key, ca.crt and ca.key (those
 * present) into dir, so that certs_generate() renews what the cluster holds. *found is
 * false when the Secret does not exist (nothing written). Returns 0, the kube_get
 * codes, CM_EPROTO (a value that is not base64) or CM_EIO. Not thread-safe. */
CM_NODISCARD int certs_secret_pull(struct kube_client *c, const char *ns, const char *name,
                                   const char *dir, bool *found, struct cm_err *err);

/* Creates Secret ns/name (type kubernetes.io/tls) or updates its four keys from the
 * files in dir, keeping other keys; re-reads and retries on a 409 conflict (5
 * attempts). *changed is false when it already held the same bytes. Returns 0, the
 * kube codes, CM_EAGAIN (still conflicting), CM_ENOENT/CM_EIO (files). */
CM_NODISCARD int certs_secret_push(struct kube_client *c, const char *ns, const char *name,
                                   const char *dir, bool *changed, struct cm_err *err);

/* Sets clientConfig.caBundle = ca_bundle on every webhook of the named
 * MutatingWebhookConfiguration (mutating) or ValidatingWebhookConfiguration; *changed
 * gets how many webhooks changed (0: already right, nothing written). Retries on
 * conflict as above. Returns 0, CM_ENOENT (no such configuration), the kube codes. */
CM_NODISCARD int certs_webhook_set_ca(struct kube_client *c, bool mutating, const char *name,
                                      const char *ca_bundle, size_t *changed, struct cm_err *err);

/* `lockwarden certs`: exit code 0 (files written or up to date; the caBundle printed
 * on stdout), 1 (refused or failed), 2 (usage). */
int certs_main(int argc, char **argv);

#endif /* CERTS_CERTS_H */
