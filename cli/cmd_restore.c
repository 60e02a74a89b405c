/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_restore.c - `lockwarden restore`: verifies a restore point end to end, then
 * recreates its objects (in place, or cloned into other namespaces) and reports every
 * object's outcome. */
#include "backup/backup.h"
#include "backup/kube/kube.h"
#include "backup/s3/s3.h"
#include "cli/cli.h"
#include "cli/cli_opts.h"
#include "common/cm.h"
#include "policy/policy.h"

#include <stdio.h>
#include <string.h>

static void restore_usage(FILE *f)
{
    fprintf(
        f, "usage: lockwarden restore [POLICY/]NAMESPACE/ID [--namespace-map OLD=NEW]...\n"
           "                          [--dry-run] [--existing skip|update] [-p POLICIES]...\n"
           "                          [--kubeconfig FILE] [--context NAME]\n"
           "                          [--encryption-key FILE] [--secret-namespace NS]\n"
           "                          [--s3-endpoint URL] [-o text|json]\n\n"
           "Verifies every checksum of the restore point first (a corrupt or tampered point is\n"
           "refused and nothing is created), then recreates its objects in dependency order:\n"
           "CRDs, Namespaces, ServiceAccounts, RBAC, Secrets, ConfigMaps, PVCs (from their\n"
           "VolumeSnapshots as dataSource), Services, workloads, custom resources. Fields the\n"
           "cluster assigns (Service clusterIPs and nodePorts, nodeName, PVC volumeName, uids)\n"
           "are dropped. Restoring into another namespace is a clone. Only the versions the\n"
           "capture wrote are read: later versions of manifest.json or the archive (anyone with\n"
           "write access can add them; Object Lock protects versions, not keys) are ignored\n"
           "with a warning.\n\n"
           "  [POLICY/]NAMESPACE/ID    the restore point (POLICY: the BackupPolicy whose bucket\n"
           "                           holds it; without it every loaded policy is tried)\n"
           "  --namespace-map OLD=NEW  restore namespace OLD as NEW (repeatable)\n"
           "  --dry-run                change nothing; report what would happen\n"
           "  --existing skip|update   objects that already exist: leave them (default) or\n"
           "                           replace them with the restore point's version\n"
           "  -p, --policies PATH      policy file or directory with the BackupPolicies\n"
           "  --kubeconfig, --context  the cluster (default: in-cluster or ~/.kube/config)\n"
           "  --encryption-key FILE    the archive key of an encrypted restore point (default:\n"
           "                           the policy's encryption.keySecret; alias --key-file)\n"
           "  --secret-namespace NS    where the credentials and key Secrets live (default: the\n"
           "                           context's namespace; the key is also looked up in the\n"
           "                           restore point's namespace)\n"
           "  --s3-endpoint URL        use this S3 endpoint instead of the policies' (path-style)\n"
           "  -o, --output text|json   the per-object report format\n\n"
           "S3 credentials: the BackupPolicy's credentialsSecret, else AWS_ACCESS_KEY_ID and\n"
           "AWS_SECRET_ACCESS_KEY, else the AWS shared credentials file.\n"
           "exit status: 0 every object created, updated or skipped; 1 the point was refused or\n"
           "an object failed; 2 usage or input errors.\n");
}

struct restore_args {
    struct cli_common c; /* -p, --kubeconfig, --context, --secret-namespace, --s3-endpoint */
    struct backup_restore_nsmap nsmap;
    const char *point;
    const char *key_file;
    bool dry_run;
    bool update;
    bool json;
    /* the point, split */
    char policy[BACKUP_RESTORE_NAME_MAX + 1];
    char ns[64];
    char id[BACKUP_ID_LEN + 1];
};

static int split_point(struct restore_args *a)
{
    const char *s = a->point;
    const char *p1 = strchr(s, '/');
    const char *p2 = p1 != NULL ? strchr(p1 + 1, '/') : NULL;
    const char *ns;
    const char *id;
    size_t nl;
    time_t t;

    if (p1 == NULL || (p2 != NULL && strchr(p2 + 1, '/') != NULL)) {
        fprintf(stderr, "lockwarden restore: %s: want [POLICY/]NAMESPACE/ID\n", s);
        return 2;
    }
    if (p2 != NULL) {
        if ((size_t)(p1 - s) >= sizeof(a->policy) || p1 == s) {
            fprintf(stderr, "lockwarden restore: %s: bad policy name\n", s);
            return 2;
        }
        memcpy(a->policy, s, (size_t)(p1 - s));
        a->policy[p1 - s] = '\0';
        ns = p1 + 1;
        nl = (size_t)(p2 - ns);
        id = p2 + 1;
    } else {
        ns = s;
        nl = (size_t)(p1 - s);
        id = p1 + 1;
    }
    if (!backup_ns_valid(ns, nl)) {
        fprintf(stderr, "lockwarden restore: %s: \"%.*s\" is not a namespace name\n", s,
                (int)(nl < 80 ? nl : 80), ns);
        return 2;
    }
    if (backup_rp_id_parse(id, strlen(id), &t) != 0) {
        fprintf(stderr,
                "lockwarden restore: %s: \"%.40s\" is not a restore point id "
                "(YYYYMMDDTHHMMSSZ-xxxxxxxx)\n",
                s, id);
        return 2;
    }
    memcpy(a->ns, ns, nl);
    a->ns[nl] = '\0';
    snprintf(a->id, sizeof(a->id), "%s", id);
    return 0;
}

/* Returns 0, 1 for --help, or 2 on a usage error (printed). */
static int parse_args(int argc, char **argv, struct restore_args *a)
{
    struct cm_err err;
    int taken;
    int i;

    memset(a, 0, sizeof(*a));
    backup_restore_nsmap_init(&a->nsmap);
    for (i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
            restore_usage(stdout);
            return 1;
        }
        if (strcmp(o, "--dry-run") == 0) {
            a->dry_run = true;
            continue;
        }
        if (o[0] != '-') {
            if (a->point != NULL) {
                fprintf(stderr, "lockwarden restore: one restore point only (%s, %s)\n", a->point,
                        o);
                return 2;
            }
            a->point = o;
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "lockwarden restore: %s needs a value (or is unknown)\n", o);
            return 2;
        }
        taken = cli_common_opt("restore", o, v, &a->c);
        if (taken == 2)
            return 2;
        if (taken == 1) {
            i++;
            continue;
        }
        if (strcmp(o, "--namespace-map") == 0) {
            if (backup_restore_nsmap_add(&a->nsmap, v, &err) != 0) {
                fprintf(stderr, "lockwarden restore: %s\n", err.msg);
                return 2;
            }
        } else if (strcmp(o, "--existing") == 0) {
            if (strcmp(v, "skip") != 0 && strcmp(v, "update") != 0) {
                fprintf(stderr, "lockwarden restore: --existing %s: want skip or update\n", v);
                return 2;
            }
            a->update = strcmp(v, "update") == 0;
        } else if (strcmp(o, "-o") == 0 || strcmp(o, "--output") == 0) {
            if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0) {
                fprintf(stderr, "lockwarden restore: -o %s: want text or json\n", v);
                return 2;
            }
            a->json = strcmp(v, "json") == 0;
        } else if (strcmp(o, "--encryption-key") == 0 || strcmp(o, "--key-file") == 0) {
            a->key_file = v;
        } else {
            fprintf(stderr, "lockwarden restore: unknown option %s\n", o);
            return 2;
        }
        i++;
    }
    if (a->point == NULL) {
        fprintf(stderr, "lockwarden restore: which restore point? (see --help)\n");
        return 2;
    }
    return split_point(a);
}

static bool same_location(const struct policy_backup *x, const struct policy_backup *y)
{
    return strcmp(x->location.endpoint, y->location.endpoint) == 0 &&
           strcmp(x->location.bucket, y->location.bucket) == 0 &&
           strcmp(x->location.prefix, y->location.prefix) == 0;
}

/* Finds the BackupPolicy whose bucket holds the point and opens its client. Returns
 * 0, 1 (not found / unreachable, printed) or 2 (usage, printed). */
static int locate(const struct restore_args *a, const struct policy_set *ps, struct kube_client *kc,
                  const char *secret_ns, const struct policy_backup **bp_out,
                  struct s3_client **s3_out)
{
    const struct policy_backup *found = NULL;
    struct s3_client *found_s3 = NULL;
    struct cm_err err;
    size_t i;

    if (a->policy[0] != '\0') {
        found = policy_set_backup_find(ps, a->policy, strlen(a->policy));
        if (found == NULL) {
            fprintf(stderr, "lockwarden restore: no BackupPolicy %s in the -p policies\n",
                    a->policy);
            return 2;
        }
        if (backup_store_open(found, kc, secret_ns, a->c.s3_endpoint, &found_s3, &err) != 0) {
            fprintf(stderr, "lockwarden restore: %s\n", err.msg);
            return 1;
        }
        *bp_out = found;
        *s3_out = found_s3;
        return 0;
    }
    if (policy_set_backup_count(ps) == 0) {
        fprintf(stderr, "lockwarden restore: no BackupPolicy loaded (give -p)\n");
        return 2;
    }
    for (i = 0; i < policy_set_backup_count(ps); i++) {
        const struct policy_backup *bp = policy_set_backup_get(ps, i);
        struct s3_client *s3 = NULL;
        struct backup_rp *rp = NULL;
        int orc;

        if (found != NULL && same_location(found, bp))
            continue;
        cm_err_clear(&err);
        orc = backup_store_open(bp, kc, secret_ns, a->c.s3_endpoint, &s3, &err);
        /* The same reader as the restore itself (the original manifest.json version, so
         * a delete marker or a newer version does not hide the point). A point that is
         * there but damaged counts as found: reading it then says why it is refused. */
        if (orc == 0)
            orc = backup_rp_open(s3, bp->location.prefix, a->ns, a->id, &rp, &err);
        backup_rp_destroy(rp);
        if (orc != 0 && orc != CM_EINTEGRITY && orc != CM_EPARSE && orc != CM_EUNSUPPORTED) {
            if (orc != CM_ENOENT)
                cm_log(CM_LOG_WARN, "restore", "policy bucket not searched",
                       CM_LS("policy", bp->name), CM_LS("err", err.msg));
            s3_client_destroy(s3);
            continue;
        }
        if (found != NULL) {
            fprintf(stderr,
                    "lockwarden restore: %s is in the buckets of BackupPolicies %s and "
                    "%s: name one as POLICY/%s\n",
                    a->point, found->name, bp->name, a->point);
            s3_client_destroy(s3);
            s3_client_destroy(found_s3);
            return 2;
        }
        found = bp;
        found_s3 = s3;
    }
    if (found == NULL) {
        fprintf(stderr,
                "lockwarden restore: restore point %s/%s not found in the bucket of any "
                "loaded BackupPolicy (complete points have a %s)\n",
                a->ns, a->id, BACKUP_MANIFEST_NAME);
        return 1;
    }
    *bp_out = found;
    *s3_out = found_s3;
    return 0;
}

static int read_point(const struct restore_args *a, const struct policy_backup *bp,
                      struct s3_client *s3, struct kube_client *kc, const char *secret_ns,
                      struct backup_restore_point **out)
{
    struct backup_key key;
    bool have_key = false;
    struct cm_err err;
    int rc;

    cm_err_clear(&err);
    if (a->key_file != NULL) {
        rc = backup_key_load_file(a->key_file, &key, &err);
        if (rc != 0) {
            fprintf(stderr, "lockwarden restore: %s\n", err.msg);
            return 2;
        }
        have_key = true;
    }
    rc = backup_restore_point_read(s3, bp->location.prefix, a->ns, a->id, have_key ? &key : NULL,
                                   true, out, &err);
    if (rc == CM_EINVAL && !have_key && bp->encryption_key_secret[0] != '\0') {
        struct cm_err kerr;
        char first[CM_ERR_MSG_MAX];

        snprintf(first, sizeof(first), "%s", err.msg);
        cm_err_clear(&kerr);
        rc = backup_key_lookup(kc, bp, secret_ns, a->ns, &key, &kerr);
        if (rc == 0) {
            have_key = true;
            rc = backup_restore_point_read(s3, bp->location.prefix, a->ns, a->id, &key, true, out,
                                           &err);
        } else {
            cm_err_set(&err, rc,
                       "%.120s; the policy's key Secret %s (looked up in %s and %s): %.80s", first,
                       bp->encryption_key_secret, secret_ns, a->ns, kerr.msg);
        }
    }
    if (have_key)
        backup_key_wipe(&key);
    if (rc != 0) {
        fprintf(stderr, "lockwarden restore: refusing restore point %s/%s: %s\n", a->ns, a->id,
                err.msg);
        cm_log(CM_LOG_ERROR, "restore", "restore point refused", CM_LS("ns", a->ns),
               CM_LS("id", a->id), CM_LS("err", err.msg));
        return 1;
    }
    if ((*out)->foreign_versions > 0) {
        /* Object Lock protects versions, not keys: someone with write access added
         * these. The original versions verified and are the ones restored. */
        fprintf(stderr,
                "lockwarden restore: warning: restore point %s/%s has %zu later version(s) of "
                "its manifest or archive that lockwarden did not write; ignored, restoring the "
                "original (verified) versions\n",
                a->ns, a->id, (*out)->foreign_versions);
    }
    return 0;
}

int cmd_restore(int argc, char **argv)
{
    struct restore_args *a = NULL;
    struct policy_set *ps = NULL;
    struct kube_client *kc = NULL;
    struct s3_client *s3 = NULL;
    const struct policy_backup *bp = NULL;
    struct backup_restore_point *rp = NULL;
    struct backup_restore_result *res = NULL;
    struct backup_restore_opts opts;
    struct cm_buf out;
    struct cm_err err;
    char label[BACKUP_RESTORE_NAME_MAX + 80];
    const char *secret_ns;
    int code = 2;
    int rc;

    cm_buf_init(&out, 256u << 20);
    cm_err_clear(&err);
    a = cm_calloc(1, sizeof(*a));
    if (a == NULL) {
        fprintf(stderr, "lockwarden restore: out of memory\n");
        return 1;
    }
    rc = parse_args(argc, argv, a);
    if (rc != 0) {
        code = rc == 1 ? 0 : 2;
        goto cleanup;
    }
    if (backup_policies_load(a->c.policies, a->c.n_policies, &ps, &err) != 0) {
        fprintf(stderr, "lockwarden restore: %s\n", err.msg);
        goto cleanup;
    }
    code = 1;
    rc = backup_kube_open(a->c.kubeconfig, a->c.context, a->c.secret_ns, &kc, &secret_ns, &err);
    if (rc != 0) {
        fprintf(stderr, "lockwarden restore: %s\n", err.msg);
        goto cleanup;
    }
    code = locate(a, ps, kc, secret_ns, &bp, &s3);
    if (code != 0)
        goto cleanup;
    code = read_point(a, bp, s3, kc, secret_ns, &rp);
    if (code != 0)
        goto cleanup;
    for (size_t i = 0; i < a->nsmap.n; i++) {
        /* A map for another namespace only rewrites references (RoleBinding subjects);
         * say so, since it is more often a typo. */
        if (strcmp(a->nsmap.pairs[i].from, rp->mf->namespace_) != 0)
            fprintf(stderr,
                    "lockwarden restore: note: --namespace-map %s=%s: the restore point is of "
                    "namespace %s\n",
                    a->nsmap.pairs[i].from, a->nsmap.pairs[i].to, rp->mf->namespace_);
    }
    code = 1;
    if (backup_restore_result_create(&res) != 0) {
        fprintf(stderr, "lockwarden restore: out of memory\n");
        goto cleanup;
    }
    memset(&opts, 0, sizeof(opts));
    opts.nsmap = &a->nsmap;
    opts.dry_run = a->dry_run;
    opts.update_existing = a->update;
    rc = backup_restore_apply(kc, rp, &opts, res, &err);
    if (rc != 0)
        fprintf(stderr, "lockwarden restore: %s\n", err.msg);
    snprintf(label, sizeof(label), "%s/%s/%s", bp->name, a->ns, a->id);
    if (backup_restore_result_format(res, label, a->dry_run, a->json, &out) != 0) {
        fprintf(stderr, "lockwarden restore: the report does not fit in memory\n");
        goto cleanup;
    }
    fwrite(out.ptr, 1, out.len, stdout);
    fflush(stdout);
    cm_log(CM_LOG_INFO, "restore", "restore done", CM_LS("id", a->id), CM_LS("ns", a->ns),
           CM_LS("to", backup_restore_nsmap_apply(&a->nsmap, a->ns)), CM_LB("dry_run", a->dry_run),
           CM_LI("created", backup_restore_result_tally(res, BACKUP_RESTORE_CREATED)),
           CM_LI("updated", backup_restore_result_tally(res, BACKUP_RESTORE_UPDATED)),
           CM_LI("skipped", backup_restore_result_tally(res, BACKUP_RESTORE_SKIPPED)),
           CM_LI("failed", backup_restore_result_tally(res, BACKUP_RESTORE_FAILED)));
    code = rc == 0 && backup_restore_result_tally(res, BACKUP_RESTORE_FAILED) == 0 ? 0 : 1;
cleanup:
    cm_buf_free(&out);
    backup_restore_result_destroy(res);
    backup_restore_point_destroy(rp);
    s3_client_destroy(s3);
    kube_client_destroy(kc);
    policy_set_destroy(ps);
    cm_free(a);
    return code;
}
