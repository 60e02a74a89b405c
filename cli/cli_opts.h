/* SPDX-License-Identifier: Apache-2.0 */
/* cli_opts.h - what the cluster and bucket subcommands (backup, restore, audit,
 * executor) share: the -p/--kubeconfig/--context/--secret-namespace/--s3-endpoint
 * options. They open the cluster these name with backup_kube_open(). Single-threaded
 * (argv parsing, before any work starts). */
#ifndef CLI_CLI_OPTS_H
#define CLI_CLI_OPTS_H

#include "common/cm.h"

#include <stddef.h>

#define CLI_MAX_POLICY_PATHS 64

/* The shared options. Strings are borrowed from argv. Zero it before parsing. */
struct cli_common {
    const char *policies[CLI_MAX_POLICY_PATHS]; /* -p, --policies (repeatable) */
    size_t n_policies;
    const char *kubeconfig;  /* --kubeconfig FILE (NULL: in-cluster or ~/.kube/config) */
    const char *context;     /* --context NAME */
    const char *secret_ns;   /* --secret-namespace NS (NULL: the context's namespace) */
    const char *s3_endpoint; /* --s3-endpoint URL (NULL: each policy's) */
};

/* Takes option o with its value v (not NULL) when o is one of the shared options.
 * cmd names the subcommand in messages ("restore", "backup list"). Returns 1 when o
 * was taken, 0 when o is not a shared option (the caller goes on), or 2 after printing
 * a usage error to stderr (more than CLI_MAX_POLICY_PATHS -p paths). */
CM_NODISCARD int cli_common_opt(const char *cmd, const char *o, const char *v,
                                struct cli_common *c);

#endif /* CLI_CLI_OPTS_H */
