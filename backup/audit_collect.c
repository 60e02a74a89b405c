/* SPDX-License-Identifier: Apache-2.0 */
/* audit_collect.c - turns one workload object (plus its latest restore point) into
 * audit facts: guardrail verdict through the policy library, and its BackupPolicy
 * binding as the webhook recorded it or as the policies decide it. */
#include "backup/backup.h"

#include <stdio.h>
#include <string.h>

/* The policy library's built-in binding rules; reported as binding issues instead. */
#define BINDING_POLICY "lockwarden-backup-binding"

static const char *str_at(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void copy_name(char *dst, size_t len, const char *s)
{
    snprintf(dst, len, "%s", s != NULL ? s : "");
}

void backup_audit_bind(const struct policy_set *ps, const cJSON *obj, const cJSON *ns_labels,
                       struct backup_audit_binding *out)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const char *ann =
        str_at(cJSON_GetObjectItemCaseSensitive(meta, "annotations"), POLICY_BINDING_ANNOTATION);
    const char *immutable =
        str_at(cJSON_GetObjectItemCaseSensitive(meta, "labels"), POLICY_IMMUTABLE_LABEL);
    struct policy_binding b;
    struct policy_request req;

    memset(out, 0, sizeof(*out));
    if (ann != NULL && ann[0] != '\0') {
        copy_name(out->name, sizeof(out->name), ann);
        out->backup = ps != NULL ? policy_set_backup_find(ps, ann, strlen(ann)) : NULL;
        out->missing = out->backup == NULL;
        out->lacks_lock = out->backup != NULL && immutable != NULL &&
                          strcmp(immutable, "enabled") == 0 &&
                          out->backup->lock_mode == POLICY_LOCK_NONE;
        return;
    }
    if (ps == NULL)
        return;
    memset(&req, 0, sizeof(req));
    req.object = obj;
    req.operation = POLICY_OP_CREATE;
    req.namespace_labels = ns_labels;
    policy_set_bind(ps, &req, &b);
    switch (b.status) {
    case POLICY_BIND_OK:
    case POLICY_BIND_NO_LOCK:
        out->backup = b.backup;
        copy_name(out->name, sizeof(out->name), b.backup != NULL ? b.backup->name : "");
        out->lacks_lock = b.status == POLICY_BIND_NO_LOCK;
        break;
    case POLICY_BIND_UNKNOWN:
        copy_name(
            out->name, sizeof(out->name),
            str_at(cJSON_GetObjectItemCaseSensitive(meta, "labels"), POLICY_DATAPROTECTION_LABEL));
        if (out->name[0] == '\0')
            copy_name(out->name, sizeof(out->name), "?");
        out->missing = true;
        break;
    default:
        break;
    }
}

/* Fills *gr and detail from the guardrail rules that select obj. */
static int guardrail(const struct policy_set *ps, const cJSON *obj, const cJSON *ns_labels,
                     enum backup_audit_guardrail *gr, char *detail, size_t dlen, struct cm_err *err)
{
    struct policy_report *rep = NULL;
    struct policy_request req;
    size_t i;
    size_t used = 0;
    int rc;

    *gr = BACKUP_AUDIT_GR_NONE;
    detail[0] = '\0';
    if (ps == NULL)
        return 0;
    rc = policy_report_create(&rep);
    if (rc != 0)
        return cm_err_set(err, rc, "audit: out of memory");
    memset(&req, 0, sizeof(req));
    req.object = obj;
    req.operation = POLICY_OP_CREATE;
    req.namespace_labels = ns_labels;
    rc = policy_set_eval(ps, &req, rep, err);
    if (rc != 0)
        goto cleanup;
    for (i = 0; i < policy_report_count(rep); i++) {
        const struct policy_rule_result *res = policy_report_get(rep, i);
        int n;

        if (strcmp(res->policy, BINDING_POLICY) == 0)
            continue;
        if (*gr == BACKUP_AUDIT_GR_NONE)
            *gr = BACKUP_AUDIT_GR_PASS;
        if (res->result != POLICY_FAIL && res->result != POLICY_ERROR)
            continue;
        *gr = BACKUP_AUDIT_GR_FAIL;
        if (used + 1 >= dlen)
            continue;
        n = snprintf(detail + used, dlen - used, "%s%s/%s: %s", used ? "; " : "", res->policy,
                     res->rule, res->message);
        used = n < 0 ? used : ((size_t)n >= dlen - used ? dlen - 1 : used + (size_t)n);
    }
cleanup:
    policy_report_destroy(rep);
    return rc;
}

int backup_audit_add_workload(struct backup_audit_report *r, const struct policy_set *ps,
                              const cJSON *obj, const cJSON *ns_labels,
                              const struct backup_audit_point *pt, struct cm_err *err)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    struct backup_audit_facts f;
    struct backup_audit_binding b;
    char detail[BACKUP_AUDIT_DETAIL_MAX];
    int rc;

    memset(&f, 0, sizeof(f));
    f.kind = str_at(obj, "kind");
    f.ns = str_at(meta, "namespace");
    f.name = str_at(meta, "name");
    if (f.kind == NULL || f.ns == NULL || f.name == NULL || f.ns[0] == '\0')
        return cm_err_set(err, CM_EINVAL,
                          "audit: a workload needs kind, metadata.name and "
                          "metadata.namespace");
    rc = guardrail(ps, obj, ns_labels, &f.guardrail, detail, sizeof(detail), err);
    if (rc != 0)
        return rc;
    f.guardrail_detail = detail;
    backup_audit_bind(ps, obj, ns_labels, &b);
    if (b.name[0] != '\0') {
        f.policy = b.name;
        f.policy_missing = b.missing;
    }
    if (b.backup != NULL) {
        f.schedule = b.backup->schedule;
        f.cron = &b.backup->cron;
        f.lock_required = b.backup->lock_mode;
    }
    f.policy_lacks_lock = b.lacks_lock;
    if (pt != NULL && pt->id != NULL && pt->id[0] != '\0') {
        f.point = pt->id;
        f.point_time = pt->created;
        f.point_complete = pt->complete;
        f.verify = pt->verify;
        f.verify_detail = pt->verify_detail;
        f.lock_mode = pt->lock_mode;
        f.retain_until = pt->retain_until;
        f.legal_hold = pt->legal_hold;
    }
    return backup_audit_report_add(r, &f, err);
}
