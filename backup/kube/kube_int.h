/* SPDX-License-Identifier: Apache-2.0 */
/* kube_int.h - declarations shared inside backup/kube/ only: the config's fields, the
 * request path parser used for error messages, and the discovery document parsers
 * (exposed here for the fuzz target). Never include from outside backup/kube/ and
 * its tests. */
#ifndef BACKUP_KUBE_KUBE_INT_H
#define BACKUP_KUBE_KUBE_INT_H

#include "kube.h"

#include <sys/types.h>

/* Referenced files in a kubeconfig (certificates, keys, CA): at most 1 MiB each. */
#define KUBE_MAX_PEM_FILE (1u << 20)
/* A token file: at most 64 KiB. */
#define KUBE_MAX_TOKEN_FILE (64u << 10)

/* A path in $KUBECONFIG or a kubeconfig's directory: shorter than 4096 bytes. */
#define KUBE_MAX_KUBECONFIG_PATH 4096
/* The whole $KUBECONFIG value: at most 64 KiB. */
#define KUBE_MAX_KUBECONFIG_LIST (64u << 10)

/* The files of a $KUBECONFIG value (kube_kubeconfig.c): split at ':', empty entries
 * dropped, a repeated name kept once (first place), in order. path[] points into buf_. */
struct kube_kubeconfig_list {
    char *buf_;
    const char *path[KUBE_MAX_KUBECONFIG_FILES];
    size_t n;
};
/* Splits value (NUL-terminated, as getenv gives it) into l. Returns 0, CM_ETOOBIG (value
 * over KUBE_MAX_KUBECONFIG_LIST bytes, more than KUBE_MAX_KUBECONFIG_FILES distinct
 * files), CM_ECONFIG (an entry of KUBE_MAX_KUBECONFIG_PATH bytes or more) or
 * CM_ENOMEM; err names the problem. On failure l is empty. Free with
 * kube_kubeconfig_list_cleanup() (safe on an empty list). Touches no file; fuzzed. */
CM_NODISCARD int kube_kubeconfig_list_parse(const char *value, struct kube_kubeconfig_list *l,
                                            struct cm_err *err);
void kube_kubeconfig_list_cleanup(struct kube_kubeconfig_list *l);

/* One kubeconfig held in memory, for kube_config_merge_kubeconfigs(). */
struct kube_kubeconfig_src {
    const char *name;     /* for messages ("name:line:col: ..." for YAML errors) */
    const char *buf;      /* buf[0..len), not NUL-terminated */
    size_t len;           /* at most KUBE_MAX_KUBECONFIG */
    const char *base_dir; /* this file's relative paths resolve here; NULL = cwd */
};
/* Parses n kubeconfigs (in precedence order, at most KUBE_MAX_KUBECONFIG_FILES) and
 * merges them as kubectl does for $KUBECONFIG: the first non-empty current-context
 * wins; the first file defining a cluster, user or context name wins it whole. label
 * names the merged result in messages about it (context not found, ...); errors inside
 * one file or entry name that file. Errors and *out as kube_config_from_kubeconfig().
 * kube_config_parse_kubeconfig() is this with n = 1; the file loader shares its parser. */
CM_NODISCARD int kube_config_merge_kubeconfigs(const char *label,
                                               const struct kube_kubeconfig_src *src, size_t n,
                                               const char *context, struct kube_config **out,
                                               struct cm_err *err);

/* The error for a response body that kube_jt_parse() refused with rc and e (len its
 * size): CM_ENOMEM, or CM_EPROTO saying where and why. Returns the code. */
int kube_json_error(int rc, const struct kube_jt_error *e, size_t len, struct cm_err *err);

struct kube_config {
    char *server;     /* scheme://host[:port][/prefix], no trailing '/' */
    char *context;    /* "" when none */
    char *namespace_; /* NULL = "default" */
    char *ca_pem;     /* NULL = system trust store */
    size_t ca_len;
    char *cert_pem;
    size_t cert_len;
    char *key_pem; /* secret */
    size_t key_len;
    char *token;      /* secret */
    char *token_file; /* re-read by the client when it changes */
    char *username;
    char *password; /* secret */
    char *tls_server_name;
    char *user_agent;
    bool insecure;
    bool in_cluster;
    unsigned max_attempts;
    uint64_t base_ms;
    uint64_t max_delay_ms;
    uint64_t deadline_ms;
    uint64_t connect_ms;
    uint64_t request_ms;
    kube_sleep_fn sleep_fn;
    void *sleep_ctx;
    size_t max_body;
    const struct kube_transport_ops *ops;
    void *transport_ctx;
};

/* Frees and wipes a secret string (NULL-safe). */
void kube_secret_free(char *s);
/* Replaces *slot with a copy of s[0..n) (NUL-terminated); s NULL clears. Wipes the old
 * value when secret. Returns 0 or CM_ENOMEM (slot unchanged). */
CM_NODISCARD int kube_str_set(char **slot, const char *s, size_t n, bool secret);

/* What an API path names, for messages ("cannot list secrets in namespace prod").
 * Pieces point into buf. */
struct kube_path_info {
    char buf[KUBE_MAX_PATH];
    const char *group;    /* "" core */
    const char *resource; /* "" for discovery paths */
    const char *ns;       /* "" when none */
    const char *name;     /* "" when none */
    const char *sub;      /* "" when none */
    bool discovery;
};
void kube_path_info_parse(const char *path, struct kube_path_info *pi);
/* "cannot list secrets in namespace prod" into buf. */
void kube_path_describe(const char *method, const struct kube_path_info *pi, char *buf, size_t len);

/* Percent-encodes s for a query value or path segment and appends it to b. */
CM_NODISCARD int kube_buf_add_escaped(struct cm_buf *b, const char *s);

/* Discovery document parsers (fuzzed). */
struct kube_discovery {
    struct kube_resource *res;
    size_t n;
    size_t cap;
    size_t failed_groups;
};
/* Adds the resources of an APIResourceList (body) for group and version; subresources
 * are skipped and so are kinds already present for the group. Returns 0, CM_EPROTO
 * (not an APIResourceList), CM_ETOOBIG (over KUBE_MAX_RESOURCES) or CM_ENOMEM. */
CM_NODISCARD int kube_discovery_add_list(struct kube_discovery *d, const char *group,
                                         const char *version, const cJSON *body,
                                         struct cm_err *err);
/* Fills groups[i] with "group/version" of the preferred version of each group of an
 * APIGroupList, calling fn for each. Returns 0, CM_EPROTO, or fn's non-zero value. */
typedef int (*kube_group_fn)(const char *group, const char *version, void *ctx);
CM_NODISCARD int kube_discovery_each_group(const cJSON *group_list, kube_group_fn fn, void *ctx,
                                           struct cm_err *err);
/* The preferred core version from an APIVersions body ("v1"). CM_EPROTO otherwise. */
CM_NODISCARD int kube_discovery_core_version(const cJSON *versions, char *buf, size_t len,
                                             struct cm_err *err);

/* Completes a list's items (apiVersion/kind from the list) in place. Returns 0,
 * CM_EPROTO (no items array, items not objects) or CM_ENOMEM. */
CM_NODISCARD int kube_list_complete_items(cJSON *list, struct cm_err *err);

#endif /* BACKUP_KUBE_KUBE_INT_H */
