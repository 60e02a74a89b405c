/* SPDX-License-Identifier: Apache-2.0 */
/* cli_opts.c - the options and cluster opening the backup, restore and audit
 * subcommands share (one parser, so one spelling and one limit for each). */
#include "cli/cli_opts.h"
#include "backup/kube/kube.h"
#include "common/cm.h"

#include <stdio.h>
#include <string.h>

int cli_common_opt(const char *cmd, const char *o, const char *v, struct cli_common *c)
{
    if (strcmp(o, "-p") == 0 || strcmp(o, "--policies") == 0) {
        if (c->n_policies == CLI_MAX_POLICY_PATHS) {
            fprintf(stderr, "lockwarden %s: more than %d -p paths\n", cmd, CLI_MAX_POLICY_PATHS);
            return 2;
        }
        c->policies[c->n_policies++] = v;
    } else if (strcmp(o, "--kubeconfig") == 0) {
        c->kubeconfig = v;
    } else if (strcmp(o, "--context") == 0) {
        c->context = v;
    } else if (strcmp(o, "--secret-namespace") == 0) {
        c->secret_ns = v;
    } else if (strcmp(o, "--s3-endpoint") == 0) {
        c->s3_endpoint = v;
    } else {
        return 0;
    }
    return 1;
}

int cli_kube_open(const struct cli_common *c, struct kube_client **out, const char **secret_ns,
                  struct cm_err *err)
{
    struct kube_config *cfg = NULL;
    struct kube_client *kc = NULL;
    int rc = kube_config_load(c->kubeconfig, c->context, &cfg, err);

    if (rc == 0)
        rc = kube_client_create(cfg, &kc, err); /* the client keeps its own copy */
    kube_config_destroy(cfg);
    if (rc != 0)
        return rc;
    *secret_ns =
        c->secret_ns != NULL ? c->secret_ns : kube_config_namespace(kube_client_config(kc));
    *out = kc;
    return 0;
}
