/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_executor.c - `lockwarden executor`: runs every BackupPolicy on its schedule for
 * the workloads bound to it, maintains every restore point in the policies' buckets,
 * serves /metrics and, with several replicas, leads through a Lease. */
#include "backup/backup.h"
#include "backup/kube/kube.h"
#include "backup/s3/s3.h"
#include "cli/cli.h"
#include "cli/cli_opts.h"
#include "common/cm.h"
#include "policy/policy.h"

#include <stdio.h>
#include <string.h>

static void ex_usage(FILE *f)
{
    fprintf(f,
            "usage: lockwarden executor -p POLICIES [--kubeconfig FILE] [--context NAME]\n"
            "                           [--metrics-addr HOST:PORT] [--max-concurrent N]\n"
            "                           [--tick SECONDS] [--leader-elect] [--lease-namespace NS]\n"
            "                           [--lease-name NAME] [--identity ID] [--once]\n"
            "                           [--maintenance-interval SECONDS] [--maintenance-only]\n\n"
            "Captures every namespace whose Deployments/StatefulSets carry\n"
            "lockwarden.io/backup-policy on that BackupPolicy's cron schedule; a capture\n"
            "missed while the executor was down runs once at start. Prunes each app after a\n"
            "capture, and every restore point in every policy's bucket in a maintenance pass\n"
            "(at start, then every interval): GFS counts, locks honoured and extended before\n"
            "they could lapse, also for apps no workload is bound to any more.\n\n"
            "  -p, --policies PATH      BackupPolicy file or directory (repeatable)\n"
            "      --kubeconfig FILE, --context NAME   the cluster (default: in-cluster)\n"
            "      --metrics-addr A     serve /metrics and /healthz on A (default\n"
            "                           0.0.0.0:9464; \"\" = off)\n"
            "      --max-concurrent N   captures at once (default 2, max 64)\n"
            "      --tick SECONDS       scheduling period (default 15)\n"
            "      --leader-elect       take the coordination.k8s.io Lease first (use with\n"
            "                           more than one replica)\n"
            "      --lease-namespace NS, --lease-name NAME (default lockwarden-executor),\n"
            "      --identity ID        (default hostname-pid)\n"
            "      --secret-namespace NS   credentials/key Secrets (default: the context's or\n"
            "                           service account's namespace)\n"
            "      --s3-endpoint URL    override the policies' endpoint\n"
            "      --snapshot-timeout S seconds to wait for readyToUse (default 600)\n"
            "      --maintenance-interval S   seconds between maintenance passes (default\n"
            "                           21600; 60..604800); locks ending within 2 x S + 1 day\n"
            "                           are extended\n"
            "      --maintenance-only   no captures: maintenance passes only\n"
            "      --once               one scheduling pass, wait for its captures, one\n"
            "                           maintenance pass, exit (1 when that pass failed)\n\n"
            "Stops on SIGINT/SIGTERM after the running captures finish.\n");
}

static int parse_u(const char *o, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (cm_parse_u64(v, strlen(v), out) != 0 || *out < lo || *out > hi) {
        fprintf(stderr, "lockwarden executor: %s %s: want %llu..%llu\n", o, v,
                (unsigned long long)lo, (unsigned long long)hi);
        return 2;
    }
    return 0;
}

int cmd_executor(int argc, char **argv)
{
    struct cli_common c; /* -p, --kubeconfig, --context, --secret-namespace, --s3-endpoint */
    struct backup_executor_opts o;
    struct policy_set *ps = NULL;
    struct kube_config *cfg = NULL;
    struct cm_err err;
    uint64_t v;
    int taken;
    int i;
    int rc;

    memset(&c, 0, sizeof(c));
    memset(&o, 0, sizeof(o));
    memset(&err, 0, sizeof(err));
    o.metrics_addr = "0.0.0.0:9464";
    o.tool_version = LW_VERSION;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            ex_usage(stdout);
            return 0;
        }
        if (strcmp(a, "--once") == 0) {
            o.once = true;
            continue;
        }
        if (strcmp(a, "--leader-elect") == 0) {
            o.leader_elect = true;
            continue;
        }
        if (strcmp(a, "--maintenance-only") == 0) {
            o.maintenance_only = true;
            continue;
        }
        if (val == NULL) {
            fprintf(stderr, "lockwarden executor: %s needs a value (or is unknown)\n", a);
            return 2;
        }
        i++;
        taken = cli_common_opt("executor", a, val, &c);
        if (taken == 2)
            return 2;
        if (taken == 1)
            continue;
        if (strcmp(a, "--metrics-addr") == 0) {
            o.metrics_addr = val;
        } else if (strcmp(a, "--max-concurrent") == 0) {
            if (parse_u(a, val, 1, 64, &v) != 0)
                return 2;
            o.max_concurrent = (unsigned)v;
        } else if (strcmp(a, "--tick") == 0) {
            if (parse_u(a, val, 1, 3600, &v) != 0)
                return 2;
            o.tick_ms = v * 1000;
        } else if (strcmp(a, "--maintenance-interval") == 0) {
            if (parse_u(a, val, 60, BACKUP_MAINT_INTERVAL_MAX, &v) != 0)
                return 2;
            o.maintenance_interval_s = v;
        } else if (strcmp(a, "--snapshot-timeout") == 0) {
            if (parse_u(a, val, 1, 86400, &v) != 0)
                return 2;
            o.snapshot_timeout_ms = v * 1000;
        } else if (strcmp(a, "--lease-namespace") == 0) {
            o.lease_namespace = val;
        } else if (strcmp(a, "--lease-name") == 0) {
            o.lease_name = val;
        } else if (strcmp(a, "--identity") == 0) {
            o.identity = val;
        } else {
            fprintf(stderr, "lockwarden executor: unknown option %s\n", a);
            return 2;
        }
    }
    if (c.n_policies == 0) {
        fprintf(stderr, "lockwarden executor: -p POLICIES is required\n");
        return 2;
    }
    o.secret_namespace = c.secret_ns;
    o.endpoint_override = c.s3_endpoint;
    rc = backup_policies_load(c.policies, c.n_policies, &ps, &err);
    if (rc != 0) {
        fprintf(stderr, "lockwarden executor: %s\n", err.msg);
        return 2;
    }
    if (policy_set_backup_count(ps) == 0) {
        fprintf(stderr, "lockwarden executor: the policies hold no BackupPolicy\n");
        policy_set_destroy(ps);
        return 2;
    }
    rc = kube_config_load(c.kubeconfig, c.context, &cfg, &err);
    if (rc == 0 && s3_global_init(&err) != 0)
        rc = CM_EIO;
    if (rc == 0) {
        o.policies = ps;
        o.kube_cfg = cfg;
        if (o.secret_namespace == NULL)
            o.secret_namespace = kube_config_namespace(cfg);
        rc = backup_executor_run(&o, &err);
        s3_global_cleanup();
    }
    if (rc != 0)
        cm_log(CM_LOG_ERROR, "executor", "cannot run", CM_LS("err", err.msg));
    kube_config_destroy(cfg);
    policy_set_destroy(ps);
    return rc == 0 ? 0 : (rc == CM_ECONFIG ? 2 : 1);
}
