/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_backup.c - `lockwarden backup run|list|verify|prune`: captures, the bucket's
 * catalog, read-back verification and GFS pruning from the command line. */
#include "backup/backup.h"
#include "backup/kube/kube.h"
#include "backup/s3/s3.h"
#include "cli/cli.h"
#include "cli/cli_opts.h"
#include "common/cm.h"
#include "policy/policy.h"

#include <stdio.h>
#include <string.h>

#define BK_MAX_LOCATIONS 64

struct bk_args {
    const char *sub;
    struct cli_common c; /* -p, --kubeconfig, --context, --secret-namespace, --s3-endpoint */
    const char *ns;
    const char *policy;
    const char *output;
    const char *bucket;
    const char *region;
    const char *prefix;
    bool path_style;
    const char *key_file;
    const char *target; /* verify: NS/ID or ID */
    uint64_t snapshot_timeout_ms;
    time_t now;
    bool dry_run;
};

static void bk_usage(FILE *f)
{
    fprintf(f, "usage: lockwarden backup run --namespace NS [--policy NAME] [options]\n"
               "       lockwarden backup list [--namespace NS] [-o text|json] [options]\n"
               "       lockwarden backup verify NS/ID | --namespace NS ID [options]\n"
               "       lockwarden backup prune [--namespace NS] [--dry-run] [options]\n\n"
               "Captures an app (one namespace) into an S3 Object Lock restore point, lists the\n"
               "restore points in the bucket, reads one back and checks every SHA-256 and lock,\n"
               "or applies each BackupPolicy's GFS retention.\n\n"
               "  -p, --policies PATH        BackupPolicy file or directory (repeatable)\n"
               "      --kubeconfig FILE, --context NAME   the cluster (default: in-cluster or\n"
               "                             ~/.kube/config)\n"
               "  -n, --namespace NS         the app\n"
               "      --policy NAME          the BackupPolicy (run: default = the one the\n"
               "                             namespace's workloads are bound to)\n"
               "  -o, --output text|json     list format\n"
               "      --bucket B [--region R] [--prefix P] [--s3-endpoint URL] [--path-style]\n"
               "                             read a bucket without policies (list, verify)\n"
               "      --s3-endpoint URL      override the policies' endpoint\n"
               "      --encryption-key FILE  AES-256 key (32 bytes raw, hex or base64)\n"
               "      --secret-namespace NS  where credentials/key Secrets live (default: the\n"
               "                             context's namespace)\n"
               "      --snapshot-timeout S   seconds to wait for readyToUse (default 600)\n"
               "      --dry-run              prune: decide and print, change nothing\n"
               "      --now TIME             prune: judge at TIME (RFC 3339)\n\n"
               "S3 credentials come from the policy's credentials Secret, else from\n"
               "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), else from\n"
               "the AWS shared credentials file ($AWS_SHARED_CREDENTIALS_FILE, $AWS_PROFILE).\n"
               "exit status: 0 success, 1 the operation failed, 2 usage or input errors.\n");
}

static int parse_args(int argc, char **argv, struct bk_args *a)
{
    char cmd[32];
    int taken;
    int i;

    memset(a, 0, sizeof(*a));
    if (argc < 2) {
        bk_usage(stderr);
        return 2;
    }
    a->sub = argv[1];
    if (strcmp(a->sub, "-h") == 0 || strcmp(a->sub, "--help") == 0 || strcmp(a->sub, "help") == 0) {
        bk_usage(stdout);
        return 1;
    }
    if (strcmp(a->sub, "run") != 0 && strcmp(a->sub, "list") != 0 &&
        strcmp(a->sub, "verify") != 0 && strcmp(a->sub, "prune") != 0) {
        fprintf(stderr, "lockwarden backup: unknown subcommand '%s'\n", a->sub);
        bk_usage(stderr);
        return 2;
    }
    (void)snprintf(cmd, sizeof(cmd), "backup %s", a->sub);
    for (i = 2; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool used = true;

        if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
            bk_usage(stdout);
            return 1;
        }
        if (strcmp(o, "--dry-run") == 0) {
            a->dry_run = true;
            continue;
        }
        if (strcmp(o, "--path-style") == 0) {
            a->path_style = true;
            continue;
        }
        if (o[0] != '-') {
            if (a->target != NULL || strcmp(a->sub, "verify") != 0) {
                fprintf(stderr, "lockwarden backup %s: unexpected argument '%s'\n", a->sub, o);
                return 2;
            }
            a->target = o;
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "lockwarden backup %s: %s needs a value (or is unknown)\n", a->sub, o);
            return 2;
        }
        taken = cli_common_opt(cmd, o, v, &a->c);
        if (taken == 2)
            return 2;
        if (taken == 1) {
            i++;
            continue;
        }
        if (strcmp(o, "-n") == 0 || strcmp(o, "--namespace") == 0) {
            a->ns = v;
        } else if (strcmp(o, "--policy") == 0) {
            a->policy = v;
        } else if (strcmp(o, "-o") == 0 || strcmp(o, "--output") == 0) {
            if (strcmp(v, "json") != 0 && strcmp(v, "text") != 0) {
                fprintf(stderr, "lockwarden backup: -o %s: want text or json\n", v);
                return 2;
            }
            a->output = v;
        } else if (strcmp(o, "--bucket") == 0) {
            a->bucket = v;
        } else if (strcmp(o, "--region") == 0) {
            a->region = v;
        } else if (strcmp(o, "--prefix") == 0) {
            a->prefix = v;
        } else if (strcmp(o, "--encryption-key") == 0) {
            a->key_file = v;
        } else if (strcmp(o, "--snapshot-timeout") == 0) {
            uint64_t s;

            if (cm_parse_u64(v, strlen(v), &s) != 0 || s == 0 || s > 86400) {
                fprintf(stderr, "lockwarden backup: --snapshot-timeout %s: want 1..86400\n", v);
                return 2;
            }
            a->snapshot_timeout_ms = s * 1000;
        } else if (strcmp(o, "--now") == 0) {
            if (cm_time_parse(v, strlen(v), &a->now) != 0) {
                fprintf(stderr, "lockwarden backup: --now %s: not an RFC 3339 time\n", v);
                return 2;
            }
        } else {
            used = false;
        }
        if (!used) {
            fprintf(stderr, "lockwarden backup %s: unknown option %s\n", a->sub, o);
            return 2;
        }
        i++;
    }
    if (a->ns != NULL && !backup_ns_valid(a->ns, strlen(a->ns))) {
        fprintf(stderr, "lockwarden backup: --namespace %s is not a namespace name\n", a->ns);
        return 2;
    }
    if (strcmp(a->sub, "run") == 0 && a->ns == NULL) {
        fprintf(stderr, "lockwarden backup run: --namespace is required\n");
        return 2;
    }
    if ((strcmp(a->sub, "run") == 0 || strcmp(a->sub, "prune") == 0) && a->c.n_policies == 0) {
        fprintf(stderr, "lockwarden backup %s: -p POLICIES is required\n", a->sub);
        return 2;
    }
    if ((strcmp(a->sub, "list") == 0 || strcmp(a->sub, "verify") == 0) && a->c.n_policies == 0 &&
        a->bucket == NULL) {
        fprintf(stderr, "lockwarden backup %s: give -p POLICIES or --bucket\n", a->sub);
        return 2;
    }
    if (strcmp(a->sub, "verify") == 0 && a->target == NULL) {
        fprintf(stderr, "lockwarden backup verify: which restore point? (NS/ID)\n");
        return 2;
    }
    return 0;
}

/* One bucket to read: from --bucket or from each distinct policy location. */
struct bk_loc {
    struct backup_location loc;
    const struct policy_backup *pol; /* NULL for --bucket */
};

static size_t locations(const struct bk_args *a, const struct policy_set *ps, struct bk_loc *out)
{
    size_t n = 0;
    size_t i, j;

    if (a->bucket != NULL) {
        memset(&out[0], 0, sizeof(out[0]));
        out[0].loc.bucket = a->bucket;
        out[0].loc.region = a->region;
        out[0].loc.prefix = a->prefix;
        out[0].loc.endpoint = a->c.s3_endpoint;
        out[0].loc.path_style = a->path_style || a->c.s3_endpoint != NULL;
        return 1;
    }
    for (i = 0; ps != NULL && i < policy_set_backup_count(ps) && n < BK_MAX_LOCATIONS; i++) {
        const struct policy_backup *p = policy_set_backup_get(ps, i);
        struct backup_location l;

        if (a->policy != NULL && policy_set_backup_find(ps, a->policy, strlen(a->policy)) != p)
            continue;
        backup_location_of(p, a->c.s3_endpoint, &l);
        for (j = 0; j < n; j++) {
            if (backup_location_same(&out[j].loc, &l))
                break;
        }
        if (j == n) {
            out[n].loc = l;
            out[n].pol = p;
            n++;
        }
    }
    return n;
}

/* list, verify and prune work without a cluster (credentials from the environment);
 * one is only needed for the policies' Secrets. */
static void kube_optional(const struct bk_args *a, struct kube_client **kube,
                          const char **secret_ns)
{
    struct cm_err e;

    if (backup_kube_open(a->c.kubeconfig, a->c.context, a->c.secret_ns, kube, secret_ns, &e) != 0)
        cm_log(CM_LOG_DEBUG, "backup", "no cluster: policy Secrets cannot be read",
               CM_LS("err", e.msg));
}

static int open_s3(const struct bk_args *a, struct kube_client *kube, const char *secret_ns,
                   const struct bk_loc *l, struct s3_client **out, struct cm_err *err)
{
    struct s3_credentials creds = {0};
    int rc;

    if (l->pol != NULL) /* the same client restore and the audit open for a policy */
        return backup_store_open(l->pol, kube, secret_ns, a->c.s3_endpoint, out, err);
    rc = s3_credentials_from_env(&creds, err);
    if (rc == 0)
        rc = backup_s3_open(&l->loc, &creds, out, err);
    s3_credentials_cleanup(&creds);
    return rc;
}

static int get_key(const struct bk_args *a, struct kube_client *kube, const char *secret_ns,
                   const struct policy_backup *p, struct backup_key *key, bool *have,
                   struct cm_err *err)
{
    *have = false;
    if (a->key_file != NULL) {
        int rc = backup_key_load_file(a->key_file, key, err);

        *have = rc == 0;
        return rc;
    }
    if (p != NULL && p->encryption_key_secret[0] != '\0') {
        int rc;

        if (kube == NULL)
            return cm_err_set(err, CM_ECONFIG,
                              "BackupPolicy %s encrypts with Secret %s: give "
                              "--encryption-key or a cluster",
                              p->name, p->encryption_key_secret);
        /* The executor's Secret namespace only: a capture never takes its key from the
         * namespace it captures. */
        rc = backup_key_lookup(kube, p, secret_ns, NULL, key, err);
        *have = rc == 0;
        return rc;
    }
    return 0;
}

static int do_run(const struct bk_args *a, struct policy_set *ps, struct cm_err *err)
{
    struct kube_client *kube = NULL;
    struct s3_client *s3 = NULL;
    struct backup_app *apps = NULL;
    const struct policy_backup *p = NULL;
    const char *secret_ns = a->c.secret_ns;
    struct backup_capture_opts co;
    struct backup_capture_result res;
    struct backup_key key;
    struct bk_loc l;
    bool have_key = false;
    size_t n = 0, i;
    int rc;

    memset(&key, 0, sizeof(key));
    rc = backup_kube_open(a->c.kubeconfig, a->c.context, a->c.secret_ns, &kube, &secret_ns, err);
    if (rc != 0)
        goto cleanup;
    if (a->policy != NULL) {
        p = policy_set_backup_find(ps, a->policy, strlen(a->policy));
        if (p == NULL) {
            rc = cm_err_set(err, CM_ECONFIG, "no BackupPolicy named %s in the policies", a->policy);
            goto cleanup;
        }
    } else {
        rc = backup_apps_discover(kube, &apps, &n, err);
        if (rc != 0)
            goto cleanup;
        for (i = 0; i < n && p == NULL; i++) {
            if (strcmp(apps[i].namespace_, a->ns) == 0) {
                p = policy_set_backup_find(ps, apps[i].policy, strlen(apps[i].policy));
                if (p == NULL) {
                    rc = cm_err_set(err, CM_ECONFIG,
                                    "namespace %s is bound to BackupPolicy %s, which is not in "
                                    "the policies",
                                    a->ns, apps[i].policy);
                    goto cleanup;
                }
            }
        }
        if (p == NULL) {
            rc = cm_err_set(err, CM_ECONFIG,
                            "no workload in namespace %s carries %s; use "
                            "--policy",
                            a->ns, POLICY_BINDING_ANNOTATION);
            goto cleanup;
        }
    }
    memset(&l, 0, sizeof(l));
    backup_location_of(p, a->c.s3_endpoint, &l.loc);
    l.pol = p;
    rc = open_s3(a, kube, secret_ns, &l, &s3, err);
    if (rc == 0)
        rc = get_key(a, kube, secret_ns, p, &key, &have_key, err);
    if (rc != 0)
        goto cleanup;
    memset(&co, 0, sizeof(co));
    co.policy = p;
    co.namespace_ = a->ns;
    co.kube = kube;
    co.s3 = s3;
    co.prefix = l.loc.prefix;
    co.key = have_key ? &key : NULL;
    co.tool_version = LW_VERSION;
    co.snapshot_timeout_ms = a->snapshot_timeout_ms;
    rc = backup_capture_run(&co, &res, err);
    if (rc == 0 && res.skipped > 0)
        printf("warning: %zu resource type(s) were forbidden by RBAC and not captured; they "
               "are named in the manifest's \"skipped\" and in the log\n",
               res.skipped);
    if (rc == 0)
        printf("restore point %s/%s complete: %zu resources, %zu snapshots, %llu bytes, "
               "s3://%s/%s (%.1fs)\n",
               a->ns, res.id, res.resources, res.snapshots, (unsigned long long)res.archive_bytes,
               l.loc.bucket, res.manifest_key, res.seconds);
cleanup:
    backup_key_wipe(&key);
    cm_free(apps);
    s3_client_destroy(s3);
    kube_client_destroy(kube);
    return rc;
}

static void print_text(const struct backup_catalog *c, const char *bucket)
{
    size_t i;

    if (backup_catalog_count(c) == 0) {
        printf("no restore points in bucket %s\n", bucket);
        return;
    }
    printf("%-20s %-25s %-20s %-8s %-16s %-10s %-20s %9s %12s\n", "NAMESPACE", "ID", "CREATED",
           "STATUS", "POLICY", "LOCK", "RETAIN-UNTIL", "RESOURCES", "BYTES");
    for (i = 0; i < backup_catalog_count(c); i++) {
        const struct backup_rp_info *p = backup_catalog_get(c, i);
        char created[32], until[32];
        const char *status = !p->complete ? "partial" : p->problem[0] ? "invalid" : "complete";

        cm_time_format(p->created, created, sizeof(created));
        cm_time_format(p->retain_until, until, sizeof(until));
        printf("%-20s %-25s %-20s %-8s %-16s %-10s %-20s %9zu %12llu\n", p->namespace_, p->id,
               created, status, p->has_details ? p->policy : "-",
               p->has_details && p->lock_mode[0] ? p->lock_mode : "-",
               p->has_details && strcmp(p->lock_mode, "NONE") != 0 && p->retain_until ? until : "-",
               p->n_resources, (unsigned long long)p->bytes);
        if (p->problem[0] != '\0')
            printf("  problem: %s\n", p->problem);
    }
}

static int do_list(const struct bk_args *a, struct policy_set *ps, struct cm_err *err)
{
    struct bk_loc locs[BK_MAX_LOCATIONS];
    struct kube_client *kube = NULL;
    const char *secret_ns = a->c.secret_ns;
    size_t n = locations(a, ps, locs);
    size_t i;
    int rc = 0;
    bool json = a->output != NULL && strcmp(a->output, "json") == 0;

    if (n == 0)
        return cm_err_set(err, CM_ECONFIG, "the policies name no bucket");
    if (a->bucket == NULL)
        kube_optional(a, &kube, &secret_ns);
    if (json && n > 1)
        printf("[");
    for (i = 0; i < n && rc == 0; i++) {
        struct s3_client *s3 = NULL;
        struct backup_catalog *c = NULL;

        rc = open_s3(a, kube, secret_ns, &locs[i], &s3, err);
        if (rc == 0)
            rc = backup_catalog_list(s3, locs[i].loc.prefix, a->ns, true, &c, err);
        if (rc == 0 && json) {
            struct cm_buf b;

            cm_buf_init(&b, 256u << 20);
            rc = backup_catalog_format_json(c, &b);
            if (rc == 0)
                fputs(b.ptr, stdout);
            if (rc != 0)
                rc = cm_err_set(err, rc, "list: %s", cm_strerror(rc));
            if (n > 1 && i + 1 < n)
                printf(",");
            cm_buf_free(&b);
        } else if (rc == 0) {
            if (n > 1)
                printf("bucket %s%s%s:\n", locs[i].loc.bucket, locs[i].loc.prefix ? "/" : "",
                       locs[i].loc.prefix ? locs[i].loc.prefix : "");
            print_text(c, locs[i].loc.bucket);
        }
        backup_catalog_destroy(c);
        s3_client_destroy(s3);
    }
    if (json && n > 1)
        printf("]\n");
    kube_client_destroy(kube);
    return rc;
}

static int do_verify(const struct bk_args *a, struct policy_set *ps, struct cm_err *err)
{
    struct bk_loc locs[BK_MAX_LOCATIONS];
    struct kube_client *kube = NULL;
    const char *secret_ns = a->c.secret_ns;
    struct backup_verify_report rep;
    struct backup_key key;
    bool have_key = false;
    char ns[64];
    const char *id;
    const char *slash = strchr(a->target, '/');
    size_t n = locations(a, ps, locs);
    size_t i, j;
    int rc = CM_ENOENT;

    memset(&key, 0, sizeof(key));
    if (slash != NULL) {
        size_t l = (size_t)(slash - a->target);

        if (l >= sizeof(ns) || !backup_ns_valid(a->target, l))
            return cm_err_set(err, CM_EINVAL, "%s: not NS/ID", a->target);
        memcpy(ns, a->target, l);
        ns[l] = '\0';
        id = slash + 1;
    } else if (a->ns != NULL) {
        (void)snprintf(ns, sizeof(ns), "%s", a->ns);
        id = a->target;
    } else {
        return cm_err_set(err, CM_EINVAL, "%s: give NS/ID or --namespace", a->target);
    }
    if (backup_rp_id_parse(id, strlen(id), NULL) != 0)
        return cm_err_set(err, CM_EINVAL, "%s is not a restore point id", id);
    if (a->bucket == NULL)
        kube_optional(a, &kube, &secret_ns);
    rc = get_key(a, NULL, NULL, NULL, &key, &have_key, err);
    if (rc != 0)
        goto cleanup;
    rc = CM_ENOENT;
    for (i = 0; i < n && rc == CM_ENOENT; i++) {
        struct s3_client *s3 = NULL;

        if (!have_key && locs[i].pol != NULL && locs[i].pol->encryption_key_secret[0] != '\0' &&
            kube != NULL && backup_key_lookup(kube, locs[i].pol, secret_ns, ns, &key, err) == 0)
            have_key = true;
        rc = open_s3(a, kube, secret_ns, &locs[i], &s3, err);
        if (rc == 0)
            rc = backup_verify_run(s3, locs[i].loc.prefix, ns, id, have_key ? &key : NULL, &rep,
                                   err);
        if (rc == 0) {
            printf("verified %s/%s in bucket %s\n", ns, id, locs[i].loc.bucket);
            if (rep.resources_skipped)
                printf("  resources: not decrypted (encrypted archive; give --encryption-key "
                       "to check each resource)\n");
            else
                printf("  resources: %zu of %zu SHA-256 match\n", rep.resources_checked,
                       rep.resources_total);
            printf("  archive: size and SHA-256 match the manifest\n");
            if (rep.foreign_versions > 0)
                printf("  warning: %zu later version(s) of manifest.json or the archive exist; "
                       "lockwarden never writes them (someone else did); the original "
                       "versions were read\n",
                       rep.foreign_versions);
            for (j = 0; j < rep.n_objects; j++) {
                char until[32];

                cm_time_format(rep.objects[j].retain_until, until, sizeof(until));
                printf("  %s: %llu bytes, version %s, lock %s%s%s\n", rep.objects[j].key,
                       (unsigned long long)rep.objects[j].size,
                       rep.objects[j].version_id[0] ? rep.objects[j].version_id : "-",
                       rep.objects[j].lock_mode, rep.objects[j].retain_until ? " until " : "",
                       rep.objects[j].retain_until ? until : "");
            }
        }
        s3_client_destroy(s3);
    }
cleanup:
    backup_key_wipe(&key);
    kube_client_destroy(kube);
    return rc;
}

static int do_prune(const struct bk_args *a, struct policy_set *ps, struct cm_err *err)
{
    struct bk_loc locs[BK_MAX_LOCATIONS];
    struct kube_client *kube = NULL;
    const char *secret_ns = a->c.secret_ns;
    size_t n = locations(a, ps, locs);
    size_t i, j;
    int rc = 0;
    size_t errors = 0;
    size_t locked = 0;

    kube_optional(a, &kube, &secret_ns);
    for (i = 0; i < n && rc == 0; i++) {
        struct s3_client *s3 = NULL;
        struct backup_prune_opts po;
        struct backup_prune_report r;

        memset(&r, 0, sizeof(r));
        rc = open_s3(a, kube, secret_ns, &locs[i], &s3, err);
        if (rc == 0) {
            memset(&po, 0, sizeof(po));
            po.s3 = s3;
            po.prefix = locs[i].loc.prefix;
            po.namespace_ = a->ns;
            po.lookup = backup_policy_lookup;
            po.lookup_ctx = ps;
            po.now = a->now;
            po.dry_run = a->dry_run;
            rc = backup_prune_run(&po, &r, err);
        }
        for (j = 0; rc == 0 && j < r.n_items; j++) {
            const struct backup_prune_item *it = &r.items[j];
            char until[32];
            const char *what = backup_gfs_action_name(it->decision.action);

            if (it->decision.action == BACKUP_GFS_EXPIRE && it->retained_by_lock) {
                what = "retained";
                locked++;
            }
            printf("%-20s %-25s %-8s %-9s", it->namespace_, it->id,
                   it->complete ? "complete" : "partial", what);
            if (it->decision.action == BACKUP_GFS_EXTEND)
                printf(" lock -> %s",
                       cm_time_format(it->decision.new_retain_until, until, sizeof(until)));
            else if (it->retain_until > 0)
                printf(" locked until %s", cm_time_format(it->retain_until, until, sizeof(until)));
            if (a->dry_run && (it->decision.action == BACKUP_GFS_EXPIRE ||
                               it->decision.action == BACKUP_GFS_EXTEND))
                printf(" (dry run)");
            if (it->error[0] != '\0')
                printf(" ERROR: %s", it->error);
            printf("\n");
        }
        if (rc == 0)
            printf("bucket %s: %zu kept, %zu extended, %zu retained by lock, %zu deleted, %zu "
                   "errors\n",
                   locs[i].loc.bucket, r.counts[BACKUP_GFS_KEEP], r.extended,
                   r.counts[BACKUP_GFS_RETAINED] + locked, r.deleted, r.errors);
        errors += r.errors;
        locked = 0;
        backup_prune_report_cleanup(&r);
        s3_client_destroy(s3);
    }
    kube_client_destroy(kube);
    if (rc == 0 && errors > 0)
        rc = cm_err_set(err, CM_EIO, "prune: %zu restore point(s) could not be pruned", errors);
    return rc;
}

int cmd_backup(int argc, char **argv)
{
    struct bk_args a;
    struct policy_set *ps = NULL;
    struct cm_err err;
    int rc = parse_args(argc, argv, &a);

    if (rc != 0)
        return rc == 1 ? 0 : rc;
    memset(&err, 0, sizeof(err));
    if (s3_global_init(&err) != 0) {
        fprintf(stderr, "lockwarden backup: %s\n", err.msg);
        return 1;
    }
    if (a.c.n_policies > 0) {
        rc = backup_policies_load(a.c.policies, a.c.n_policies, &ps, &err);
        if (rc != 0) {
            fprintf(stderr, "lockwarden backup: %s\n", err.msg);
            s3_global_cleanup();
            return 2;
        }
    }
    if (strcmp(a.sub, "run") == 0)
        rc = do_run(&a, ps, &err);
    else if (strcmp(a.sub, "list") == 0)
        rc = do_list(&a, ps, &err);
    else if (strcmp(a.sub, "verify") == 0)
        rc = do_verify(&a, ps, &err);
    else
        rc = do_prune(&a, ps, &err);
    if (rc != 0)
        fprintf(stderr, "lockwarden backup %s: %s\n", a.sub,
                err.msg[0] ? err.msg : cm_strerror(rc));
    policy_set_destroy(ps);
    s3_global_cleanup();
    return rc == 0 ? 0 : (rc == CM_EINVAL ? 2 : 1);
}
