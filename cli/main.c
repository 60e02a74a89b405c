/* SPDX-License-Identifier: Apache-2.0 */
/* main.c - the lockwarden binary: dispatches to the subcommands. */
#include "cli/cli.h"
#include "common/cm.h"
#include "policy/policy.h"

#include <stdio.h>
#include <string.h>

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"check", cmd_check, "evaluate manifests against guardrail policies, offline"},
    {"webhook", cmd_webhook, "serve admission (validate + auto-bind) over HTTPS"},
    {"certs", cmd_certs, "create or renew the webhook CA and serving certificate"},
    {"restore", cmd_restore, "restore or clone a restore point into the cluster"},
    {"audit", cmd_audit, "compliance audit of every Deployment and StatefulSet"},
    {"backup", cmd_backup, "capture, list, verify and prune restore points"},
    {"executor", cmd_executor, "run every BackupPolicy on its schedule (/metrics, Lease)"},
};

static void usage(FILE *f)
{
    size_t i;

    fprintf(f, "usage: lockwarden <command> [options]\n\n"
               "Guardrails, auto-binding and immutable backups for Kubernetes workloads.\n\n"
               "commands:\n");
    for (i = 0; i < CM_ARRAY_LEN(commands); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "  %-10s %s\n", "version", "print the version");
    fprintf(f, "\n'lockwarden <command> --help' describes each command's options.\n");
}

int main(int argc, char **argv)
{
    size_t i;

    policy_json_hooks_install();
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("lockwarden %s\n", LW_VERSION);
        return 0;
    }
    for (i = 0; i < CM_ARRAY_LEN(commands); i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "lockwarden: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
