/* SPDX-License-Identifier: Apache-2.0 */
/* cli_opts.c - the options the backup, restore, audit and executor subcommands share
 * (one parser, so one spelling and one limit for each). */
#include "cli/cli_opts.h"
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
