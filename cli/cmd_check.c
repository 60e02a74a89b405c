/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_check.c - `lockwarden check`: evaluates manifests against policies offline, with the
 * webhook's own code path (policy_set_eval), and prints Kyverno-worded results. */
#include "cli/cli.h"
#include "backup/backup.h"
#include "common/cm.h"
#include "policy/policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CHECK_MAX_PATHS 256
#define CHECK_OUT_MAX (64u << 20)

struct check_opts {
    const char *policies[CHECK_MAX_PATHS];
    size_t npolicies;
    const char *manifests[CHECK_MAX_PATHS];
    size_t nmanifests;
    bool json;
    enum policy_op op;
    cJSON *ns_labels; /* namespace -> {label: value} */
};

struct check_counts {
    size_t pass, fail, warn, skip, error;
    bool blocked;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: lockwarden check -p POLICY_FILE_OR_DIR [-p ...] [-o text|json]\n"
               "                        [--namespace-labels NS=KEY=VALUE[,KEY=VALUE]]...\n"
               "                        [--operation CREATE|UPDATE] MANIFEST... | -\n"
               "\n"
               "Evaluates every resource in the manifests (YAML or JSON, multi-document, List\n"
               "items expanded) against every policy, as the admission webhook would, offline.\n"
               "\n"
               "options:\n"
               "  -p, --policy PATH         a policy file, or a directory read recursively for\n"
               "                            *.yaml, *.yml and *.json (repeatable, at least one):\n"
               "                            kyverno.io/v1 ClusterPolicy/Policy and\n"
               "                            lockwarden.io/v1alpha1 BackupPolicy documents;\n"
               "                            --policies is the same, as in the other commands\n"
               "  -o, --output FORMAT       text (default): one line per failing rule, Audit\n"
               "                            failures as warnings, then a summary line;\n"
               "                            json: {\"results\":[...],\"summary\":{...}}\n"
               "  --namespace-labels NS=KEY=VALUE[,KEY=VALUE]\n"
               "                            the labels of namespace NS, for namespaceSelector and\n"
               "                            override selectors (repeatable). Namespace objects in\n"
               "                            the manifests give their labels too (this flag wins);\n"
               "                            other namespaces match no namespaceSelector\n"
               "  --operation OP            the admission operation to evaluate: CREATE (default)\n"
               "                            or UPDATE\n"
               "  -h, --help                this help\n"
               "\n"
               "MANIFEST is a file, or - for standard input. Resources without a namespace are\n"
               "evaluated in \"default\" (cluster-scoped kinds in none).\n"
               "\n"
               "exit status: 0 no Enforce rule failed (Audit failures are warnings), 1 an Enforce\n"
               "rule failed or errored, 2 usage errors or unreadable or invalid policies or\n"
               "manifests.\n");
}

static int usage_error(const char *fmt, ...) CM_PRINTF(1, 2);
static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "lockwarden check: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'lockwarden check --help'.\n");
    return 2;
}

/* NS=k=v[,k=v...] into opts->ns_labels. */
static int add_ns_labels(struct check_opts *o, const char *arg)
{
    const char *eq = strchr(arg, '=');
    char ns[254];
    cJSON *labels;
    const char *p;

    if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(ns) || eq[1] == '\0')
        return usage_error("--namespace-labels wants NS=KEY=VALUE[,KEY=VALUE], not '%s'", arg);
    memcpy(ns, arg, (size_t)(eq - arg));
    ns[eq - arg] = '\0';
    labels = cJSON_GetObjectItemCaseSensitive(o->ns_labels, ns);
    if (labels == NULL) {
        labels = cJSON_AddObjectToObject(o->ns_labels, ns);
        if (labels == NULL)
            return usage_error("%s", "out of memory");
    }
    for (p = eq + 1; *p != '\0';) {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        const char *keq = memchr(p, '=', n);
        char *key;
        char *val;
        bool ok;

        if (keq == NULL || keq == p)
            return usage_error("--namespace-labels: '%s' needs KEY=VALUE pairs", arg);
        key = cm_strndup(p, (size_t)(keq - p));
        val = cm_strndup(keq + 1, n - (size_t)(keq - p) - 1);
        ok = key != NULL && val != NULL;
        if (ok) {
            cJSON_DeleteItemFromObjectCaseSensitive(labels, key);
            ok = cJSON_AddStringToObject(labels, key, val) != NULL;
        }
        cm_free(key);
        cm_free(val);
        if (!ok)
            return usage_error("%s", "out of memory");
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct check_opts *o)
{
    int i;
    bool only_files = false;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;

        if (only_files || a[0] != '-' || strcmp(a, "-") == 0) {
            if (o->nmanifests == CHECK_MAX_PATHS)
                return usage_error("too many manifests (at most %s)", "256");
            o->manifests[o->nmanifests++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_files = true;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(a, "-p") == 0 || strcmp(a, "--policy") == 0 || strcmp(a, "--policies") == 0 ||
            strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 ||
            strcmp(a, "--namespace-labels") == 0 || strcmp(a, "--operation") == 0) {
            if (i + 1 >= argc)
                return usage_error("option %s needs a value", a);
            val = argv[++i];
        } else if (strncmp(a, "--policy=", 9) == 0 || strncmp(a, "--policies=", 11) == 0 ||
                   strncmp(a, "--output=", 9) == 0 || strncmp(a, "--namespace-labels=", 19) == 0 ||
                   strncmp(a, "--operation=", 12) == 0) {
            val = strchr(a, '=') + 1;
        } else {
            return usage_error("unknown option '%s'", a);
        }
        if (a[1] == 'p' || strncmp(a, "--policy", 8) == 0 || strncmp(a, "--policies", 10) == 0) {
            if (o->npolicies == CHECK_MAX_PATHS)
                return usage_error("too many policy paths (at most %s)", "256");
            o->policies[o->npolicies++] = val;
        } else if (a[1] == 'o' || strncmp(a, "--output", 8) == 0) {
            if (strcmp(val, "json") == 0)
                o->json = true;
            else if (strcmp(val, "text") == 0)
                o->json = false;
            else
                return usage_error("-o wants text or json, not '%s'", val);
        } else if (strncmp(a, "--operation", 11) == 0) {
            if (strcmp(val, "CREATE") == 0)
                o->op = POLICY_OP_CREATE;
            else if (strcmp(val, "UPDATE") == 0)
                o->op = POLICY_OP_UPDATE;
            else
                return usage_error("--operation wants CREATE or UPDATE, not '%s'", val);
        } else if (add_ns_labels(o, val) != 0) {
            return 2;
        }
    }
    if (o->npolicies == 0)
        return usage_error("%s", "at least one -p POLICY_FILE_OR_DIR is required");
    if (o->nmanifests == 0)
        return usage_error("%s", "no manifests given (use - for standard input)");
    return 0;
}

/* Kinds that live outside namespaces (the common ones; others default to "default"). */
static bool cluster_scoped(const char *kind)
{
    static const char *const kinds[] = {"Namespace",
                                        "Node",
                                        "PersistentVolume",
                                        "ClusterRole",
                                        "ClusterRoleBinding",
                                        "CustomResourceDefinition",
                                        "StorageClass",
                                        "PriorityClass",
                                        "ValidatingWebhookConfiguration",
                                        "MutatingWebhookConfiguration",
                                        "ClusterPolicy",
                                        "VolumeSnapshotClass",
                                        "CSIDriver",
                                        "IngressClass",
                                        "APIService",
                                        "RuntimeClass",
                                        "VolumeSnapshotContent",
                                        "ClusterIssuer",
                                        NULL};
    size_t i;

    for (i = 0; kinds[i] != NULL; i++) {
        if (strcmp(kind, kinds[i]) == 0)
            return true;
    }
    return false;
}

static const char *result_name(enum policy_result r)
{
    static const char *const names[] = {"pass", "fail", "skip", "error"};

    return names[r];
}

static int json_result(struct cm_buf *out, bool first, const struct policy_rule_result *x,
                       const char *kind, const char *ns, const char *name)
{
    int rc = cm_buf_adds(out, first ? "\n" : ",\n");

    if (rc == 0)
        rc = cm_buf_adds(out, "{\"policy\":");
    if (rc == 0)
        rc = cm_buf_add_json_str(out, x->policy, strlen(x->policy));
    if (rc == 0)
        rc = cm_buf_adds(out, ",\"rule\":");
    if (rc == 0)
        rc = cm_buf_add_json_str(out, x->rule, strlen(x->rule));
    if (rc == 0)
        rc = cm_buf_adds(out, ",\"resource\":{\"kind\":");
    if (rc == 0)
        rc = cm_buf_add_json_str(out, kind, strlen(kind));
    if (rc == 0)
        rc = cm_buf_adds(out, ",\"namespace\":");
    if (rc == 0)
        rc = cm_buf_add_json_str(out, ns, strlen(ns));
    if (rc == 0)
        rc = cm_buf_adds(out, ",\"name\":");
    if (rc == 0)
        rc = cm_buf_add_json_str(out, name, strlen(name));
    if (rc == 0)
        rc = cm_buf_addf(out, "},\"result\":\"%s\",\"action\":\"%s\",\"message\":",
                         result_name(x->result), x->action == POLICY_ENFORCE ? "Enforce" : "Audit");
    if (rc == 0)
        rc = cm_buf_add_json_str(out, x->message, strlen(x->message));
    if (rc == 0)
        rc = cm_buf_addc(out, '}');
    return rc;
}

static int text_result(struct cm_buf *out, const struct policy_rule_result *x, const char *kind,
                       const char *ns, const char *name)
{
    const char *tag;

    if (x->result != POLICY_FAIL && x->result != POLICY_ERROR)
        return 0;
    if (x->action == POLICY_AUDIT)
        tag = "WARN ";
    else
        tag = x->result == POLICY_FAIL ? "FAIL " : "ERROR";
    return cm_buf_addf(out, "%s %s/%s/%s: %s/%s: %s%s\n", tag, kind, ns, name, x->policy, x->rule,
                       x->message, x->action == POLICY_AUDIT ? " (Audit)" : "");
}

/* Evaluates every resource of one manifest file and appends to out. */
static int check_file(const struct check_opts *o, const struct policy_set *set,
                      struct policy_report *rep, const char *path, const struct policy_docs *d,
                      struct cm_buf *out, struct check_counts *cnt, bool *first)
{
    struct cm_err err;
    size_t i;
    size_t j;
    int rc = 0;

    for (i = 0; i < policy_docs_count(d) && rc == 0; i++) {
        const cJSON *obj = policy_docs_get(d, i);
        const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
        const char *kind = cJSON_GetObjectItemCaseSensitive(obj, "kind")->valuestring;
        const cJSON *nsv = cJSON_GetObjectItemCaseSensitive(meta, "namespace");
        const cJSON *namev = cJSON_GetObjectItemCaseSensitive(meta, "name");
        const char *name = cJSON_IsString(namev) ? namev->valuestring : "";
        const char *ns;
        struct policy_request req;

        if (cJSON_IsString(nsv) && nsv->valuestring[0] != '\0')
            ns = nsv->valuestring;
        else
            ns = cluster_scoped(kind) ? "" : "default";
        memset(&req, 0, sizeof(req));
        req.object = obj;
        req.operation = o->op;
        req.namespace_ = ns;
        req.namespace_labels = cJSON_GetObjectItemCaseSensitive(o->ns_labels, ns);
        if (policy_set_eval(set, &req, rep, &err) != 0) {
            fprintf(stderr, "lockwarden check: %s: %s\n", path, err.msg);
            rc = 2;
            break;
        }
        if (policy_report_blocked(rep))
            cnt->blocked = true;
        for (j = 0; j < policy_report_count(rep) && rc == 0; j++) {
            const struct policy_rule_result *x = policy_report_get(rep, j);

            switch (x->result) {
            case POLICY_PASS:
                cnt->pass++;
                break;
            case POLICY_FAIL:
                if (x->action == POLICY_AUDIT)
                    cnt->warn++;
                else
                    cnt->fail++;
                break;
            case POLICY_SKIP:
                cnt->skip++;
                break;
            default:
                cnt->error++;
                break;
            }
            rc = o->json ? json_result(out, *first, x, kind, ns, name)
                         : text_result(out, x, kind, ns, name);
            *first = false;
        }
        if (rc != 0) {
            fprintf(stderr, "lockwarden check: output: %s\n", cm_strerror(rc));
            rc = 2;
        }
    }
    return rc;
}

/* Reads and parses every manifest before anything is evaluated, so that a broken file
 * fails the run without partial output. */
static int read_manifests(const struct check_opts *o, struct policy_docs **docs)
{
    size_t i;

    for (i = 0; i < o->nmanifests; i++) {
        const char *name = strcmp(o->manifests[i], "-") == 0 ? "<stdin>" : o->manifests[i];
        struct cm_err err;
        char *buf = NULL;
        size_t len = 0;
        int rc;

        if (cm_fs_read_file(o->manifests[i], POLICY_MAX_FILE_BYTES, &buf, &len, &err) != 0) {
            fprintf(stderr, "lockwarden check: %s\n", err.msg);
            return 2;
        }
        rc = policy_manifest_parse(name, buf, len, &docs[i], &err);
        cm_free(buf);
        if (rc != 0) {
            fprintf(stderr, "lockwarden check: %s\n", err.msg);
            return 2;
        }
    }
    return 0;
}

/* Namespace objects among the manifests give their labels to namespaceSelector, unless
 * --namespace-labels named that namespace. */
static int namespaces_from_manifests(struct check_opts *o, struct policy_docs *const *docs)
{
    size_t i;
    size_t j;

    for (i = 0; i < o->nmanifests; i++) {
        for (j = 0; j < policy_docs_count(docs[i]); j++) {
            const cJSON *obj = policy_docs_get(docs[i], j);
            const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
            const cJSON *labels = cJSON_GetObjectItemCaseSensitive(meta, "labels");
            cJSON *copy;

            if (strcmp(cJSON_GetObjectItemCaseSensitive(obj, "kind")->valuestring, "Namespace") !=
                    0 ||
                !cJSON_IsString(name) ||
                cJSON_GetObjectItemCaseSensitive(o->ns_labels, name->valuestring) != NULL)
                continue;
            copy = cJSON_IsObject(labels) ? cJSON_Duplicate(labels, true) : cJSON_CreateObject();
            if (copy == NULL || !cJSON_AddItemToObject(o->ns_labels, name->valuestring, copy)) {
                cJSON_Delete(copy);
                fprintf(stderr, "lockwarden check: out of memory\n");
                return 2;
            }
        }
    }
    return 0;
}

static int load_policies(const struct check_opts *o, struct policy_set **out)
{
    struct cm_err err;

    if (backup_policies_load(o->policies, o->npolicies, out, &err) != 0) {
        fprintf(stderr, "lockwarden check: %s\n", err.msg);
        return 2;
    }
    if (policy_set_policy_count(*out) == 0 && policy_set_backup_count(*out) == 0) {
        fprintf(stderr, "lockwarden check: no policies found in the -p paths\n");
        policy_set_destroy(*out);
        *out = NULL;
        return 2;
    }
    return 0;
}

static int write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, p, n);

        if (w <= 0)
            return CM_EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int cmd_check(int argc, char **argv)
{
    struct check_opts o;
    struct check_counts cnt;
    struct policy_set *set = NULL;
    struct policy_report *rep = NULL;
    struct policy_docs *docs[CHECK_MAX_PATHS] = {NULL};
    struct cm_buf out;
    bool first = true;
    size_t i;
    int rc;

    memset(&o, 0, sizeof(o));
    memset(&cnt, 0, sizeof(cnt));
    cm_buf_init(&out, CHECK_OUT_MAX);
    o.ns_labels = cJSON_CreateObject();
    if (o.ns_labels == NULL) {
        fprintf(stderr, "lockwarden check: out of memory\n");
        return 2;
    }
    rc = parse_args(argc, argv, &o);
    if (rc != 0) {
        rc = rc == 1 ? 0 : 2; /* 1: --help was printed */
        goto cleanup;
    }
    rc = load_policies(&o, &set);
    if (rc != 0)
        goto cleanup;
    if (policy_report_create(&rep) != 0) {
        fprintf(stderr, "lockwarden check: out of memory\n");
        rc = 2;
        goto cleanup;
    }
    rc = read_manifests(&o, docs);
    if (rc == 0)
        rc = namespaces_from_manifests(&o, docs);
    if (rc != 0)
        goto cleanup;
    if (o.json)
        rc = cm_buf_adds(&out, "{\"results\":[") != 0 ? 2 : 0;
    for (i = 0; i < o.nmanifests && rc == 0; i++)
        rc = check_file(&o, set, rep, strcmp(o.manifests[i], "-") == 0 ? "<stdin>" : o.manifests[i],
                        docs[i], &out, &cnt, &first);
    if (rc != 0)
        goto cleanup;
    if (o.json)
        rc = cm_buf_addf(
            &out, "%s],\"summary\":{\"pass\":%zu,\"fail\":%zu,\"skip\":%zu,\"error\":%zu}}\n",
            first ? "" : "\n", cnt.pass, cnt.fail + cnt.warn, cnt.skip, cnt.error);
    else
        rc = cm_buf_addf(&out, "pass: %zu, fail: %zu, warn: %zu, error: %zu, skip: %zu\n", cnt.pass,
                         cnt.fail, cnt.warn, cnt.error, cnt.skip);
    if (rc == 0)
        rc = write_all(out.ptr, out.len);
    if (rc != 0) {
        fprintf(stderr, "lockwarden check: output: %s\n", cm_strerror(rc));
        rc = 2;
        goto cleanup;
    }
    rc = cnt.blocked ? 1 : 0;
cleanup:
    for (i = 0; i < CHECK_MAX_PATHS; i++)
        policy_docs_destroy(docs[i]);
    cm_buf_free(&out);
    policy_report_destroy(rep);
    policy_set_destroy(set);
    cJSON_Delete(o.ns_labels);
    return rc;
}
