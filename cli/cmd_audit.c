/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_audit.c - `lockwarden audit`: the compliance audit of every Deployment and
 * StatefulSet (guardrails, binding, latest restore point, RPO, Object Lock, verify),
 * live against the cluster and its buckets, or offline from a recorded state file. */
#include "backup/backup.h"
#include "cli/cli.h"
#include "cli/cli_opts.h"
#include "common/cm.h"
#include "policy/policy.h"

#include <stdio.h>
#include <string.h>

#define AUDIT_MAX_EXCLUDE 64
#define AUDIT_OUT_MAX (512u << 20)

static void audit_usage(FILE *f)
{
    fprintf(f,
            "usage: lockwarden audit [-p POLICIES]... [-o text|json|csv|html] [--out FILE]\n"
            "                        [--kubeconfig FILE] [--context NAME] [--now TIME]\n"
            "                        [--s3-endpoint URL] [--secret-namespace NS]\n"
            "                        [--exclude-namespace NS]... [--input STATE]\n\n"
            "Audits every Deployment and StatefulSet: guardrail verdict, BackupPolicy binding,\n"
            "latest restore point and its age against the schedule (RPO), its Object Lock mode\n"
            "and retain-until date as read back from the bucket, and whether it verifies.\n\n"
            "  -p, --policies PATH   policy file or directory (repeatable)\n"
            "  -o, --output FORMAT   text (default), json, csv (RFC 4180) or html (one\n"
            "                        self-contained file with a chart)\n"
            "      --out FILE        write the report to FILE instead of standard output\n"
            "      --kubeconfig FILE, --context NAME   the cluster (default: in-cluster or\n"
            "                        ~/.kube/config)\n"
            "      --now TIME        judge ages at TIME (RFC 3339) instead of the clock\n"
            "      --s3-endpoint URL use this S3 endpoint instead of the policies' (path-style)\n"
            "      --secret-namespace NS  where the credentials and key Secrets live\n"
            "                        (default: the context's namespace)\n"
            "      --exclude-namespace NS  leave out the apps of NS (repeatable), e.g.\n"
            "                        kube-system\n"
            "      --input STATE     audit a recorded state file (JSON/YAML) instead of the\n"
            "                        live cluster; see the README, 'Compliance audit'\n\n"
            "exit status: 0 every app protected, 1 anything out of compliance (or the audit\n"
            "could not be completed), 2 usage or input errors.\n");
}

struct audit_args {
    struct cli_common c; /* -p, --kubeconfig, --context, --secret-namespace, --s3-endpoint */
    enum backup_audit_format format;
    const char *out;
    const char *input;
    const char *exclude[AUDIT_MAX_EXCLUDE];
    size_t n_exclude;
    time_t now;
};

/* Returns 0, 1 for --help, or 2 on a usage error (printed). */
static int parse_args(int argc, char **argv, struct audit_args *a)
{
    int taken;
    int i;

    memset(a, 0, sizeof(*a));
    for (i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
            audit_usage(stdout);
            return 1;
        }
        if (v == NULL) {
            fprintf(stderr, "lockwarden audit: %s needs a value (or is unknown)\n", o);
            return 2;
        }
        taken = cli_common_opt("audit", o, v, &a->c);
        if (taken == 2)
            return 2;
        if (taken == 1) {
            i++;
            continue;
        }
        if (strcmp(o, "-o") == 0 || strcmp(o, "--output") == 0) {
            if (backup_audit_format_parse(v, &a->format) != 0) {
                fprintf(stderr, "lockwarden audit: -o %s: want text, json, csv or html\n", v);
                return 2;
            }
        } else if (strcmp(o, "--out") == 0) {
            a->out = v;
        } else if (strcmp(o, "--input") == 0) {
            a->input = v;
        } else if (strcmp(o, "--exclude-namespace") == 0) {
            if (a->n_exclude == AUDIT_MAX_EXCLUDE) {
                fprintf(stderr, "lockwarden audit: more than %d --exclude-namespace\n",
                        AUDIT_MAX_EXCLUDE);
                return 2;
            }
            a->exclude[a->n_exclude++] = v;
        } else if (strcmp(o, "--now") == 0) {
            if (cm_time_parse(v, strlen(v), &a->now) != 0 || a->now <= 0) {
                fprintf(stderr, "lockwarden audit: --now %s: want an RFC 3339 time\n", v);
                return 2;
            }
        } else {
            fprintf(stderr, "lockwarden audit: unknown option %s\n", o);
            return 2;
        }
        i++;
    }
    return 0;
}

static int write_report(const struct audit_args *a, const struct cm_buf *b)
{
    struct cm_err err;

    if (a->out == NULL) {
        if (b->len > 0 && fwrite(b->ptr, 1, b->len, stdout) != b->len) {
            fprintf(stderr, "lockwarden audit: cannot write the report to standard output\n");
            return 1;
        }
        return fflush(stdout) == 0 ? 0 : 1;
    }
    if (cm_fs_write_atomic(a->out, b->ptr != NULL ? b->ptr : "", b->len, 0644, &err) != 0) {
        fprintf(stderr, "lockwarden audit: %s\n", err.msg);
        return 1;
    }
    return 0;
}

int cmd_audit(int argc, char **argv)
{
    struct audit_args a;
    struct policy_set *ps = NULL;
    struct backup_audit_report *r = NULL;
    struct cm_buf out;
    struct cm_err err;
    char *state = NULL;
    size_t state_len = 0;
    int code = 2;
    int rc;

    cm_buf_init(&out, AUDIT_OUT_MAX);
    cm_err_clear(&err);
    rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    rc = backup_policies_load(a.c.policies, a.c.n_policies, &ps, &err);
    if (rc != 0) {
        fprintf(stderr, "lockwarden audit: %s\n", err.msg);
        goto cleanup;
    }
    if (a.input != NULL) {
        rc = cm_fs_read_file(a.input, POLICY_MAX_FILE_BYTES, &state, &state_len, &err);
        if (rc == 0)
            rc = backup_audit_state_load(a.input, state, state_len, ps, a.now, &r, &err);
        if (rc != 0) {
            fprintf(stderr, "lockwarden audit: %s\n", err.msg);
            goto cleanup;
        }
    } else {
        struct backup_audit_live_opts lo;

        memset(&lo, 0, sizeof(lo));
        lo.kubeconfig = a.c.kubeconfig;
        lo.context = a.c.context;
        lo.endpoint_override = a.c.s3_endpoint;
        lo.secret_ns = a.c.secret_ns;
        lo.ps = ps;
        lo.now = a.now > 0 ? a.now : (time_t)(cm_time_now_ms() / 1000);
        rc = backup_audit_live(&lo, &r, &err);
        if (rc != 0) {
            fprintf(stderr, "lockwarden audit: %s\n", err.msg);
            code = 1;
            goto cleanup;
        }
    }
    for (size_t i = 0; i < a.n_exclude; i++)
        backup_audit_report_exclude(r, a.exclude[i]);
    rc = backup_audit_render(r, a.format, &out);
    if (rc != 0) {
        fprintf(stderr, "lockwarden audit: rendering the report: %s\n", cm_strerror(rc));
        code = 1;
        goto cleanup;
    }
    if (write_report(&a, &out) != 0) {
        code = 1;
        goto cleanup;
    }
    cm_log(CM_LOG_INFO, "audit", "audit done", CM_LI("apps", backup_audit_report_count(r)),
           CM_LI("protected", backup_audit_report_tally(r, BACKUP_AUDIT_PROTECTED)),
           CM_LI("unprotected", backup_audit_report_tally(r, BACKUP_AUDIT_UNPROTECTED)),
           CM_LI("stale", backup_audit_report_tally(r, BACKUP_AUDIT_STALE)),
           CM_LI("not_immutable", backup_audit_report_tally(r, BACKUP_AUDIT_NOT_IMMUTABLE)));
    code = backup_audit_report_compliant(r) ? 0 : 1;
cleanup:
    cm_buf_free(&out);
    cm_free(state);
    backup_audit_report_destroy(r);
    policy_set_destroy(ps);
    return code;
}
