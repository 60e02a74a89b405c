/* SPDX-License-Identifier: Apache-2.0 */
/* policy_bind.c - decides which BackupPolicy a Deployment or StatefulSet binds to: its
 * dataprotection label, else the first BackupPolicy whose selector picks it. */
#include "policy_load_int.h"

#include <stdio.h>
#include <string.h>

static bool workload(const struct pol_res *r)
{
    return (r->kind_len == 10 && memcmp(r->kind, "Deployment", 10) == 0) ||
           (r->kind_len == 11 && memcmp(r->kind, "StatefulSet", 11) == 0);
}

/* The two labels binding reads, found in one pass over the labels. */
static void find_labels(const cJSON *labels, const cJSON **dp, const cJSON **imm)
{
    const cJSON *it;

    *dp = NULL;
    *imm = NULL;
    for (it = labels != NULL ? labels->child : NULL; it != NULL; it = it->next) {
        if (it->string == NULL)
            continue;
        if (*dp == NULL && it->string[0] == 'd' &&
            strcmp(it->string, POLICY_DATAPROTECTION_LABEL) == 0)
            *dp = it;
        else if (*imm == NULL && it->string[0] == 'i' &&
                 strcmp(it->string, POLICY_IMMUTABLE_LABEL) == 0)
            *imm = it;
    }
}

void pol_bind(const struct policy_set *s, const struct pol_res *r, struct policy_binding *out,
              const cJSON **label_out, const cJSON **imm_out)
{
    const struct policy_backup *b = NULL;
    const cJSON *label = NULL;
    const cJSON *imm = NULL;
    const cJSON *ann;
    size_t i;

    out->status = POLICY_BIND_NONE;
    out->backup = NULL;
    out->by_label = false;
    out->annotation_ok = false;
    out->message[0] = '\0';
    if (label_out != NULL)
        *label_out = NULL;
    if (imm_out != NULL)
        *imm_out = NULL;
    if (s == NULL || s->nbackups == 0 || !workload(r))
        return;
    find_labels(r->labels, &label, &imm);
    if (label_out != NULL)
        *label_out = label;
    if (imm_out != NULL)
        *imm_out = imm;
    if (label != NULL) {
        const char *v = cJSON_IsString(label) ? label->valuestring : "";

        b = policy_set_backup_find(s, v, strlen(v));
        if (b == NULL) {
            out->status = POLICY_BIND_UNKNOWN;
            (void)snprintf(out->message, sizeof(out->message),
                           "label %s: \"%.100s\" names no BackupPolicy (known: %s); set it to "
                           "k10-<name> of an existing BackupPolicy, or create BackupPolicy "
                           "\"%.100s\".",
                           POLICY_DATAPROTECTION_LABEL, v, s->backup_names,
                           strncmp(v, "k10-", 4) == 0 ? v + 4 : v);
            return;
        }
        out->by_label = true;
    } else {
        for (i = 0; i < s->nbackups && b == NULL; i++) {
            if (pol_backup_selects(&s->backups[i], r))
                b = &s->backups[i];
        }
        if (b == NULL)
            return;
    }
    out->backup = b;
    out->status = POLICY_BIND_OK;
    ann = cJSON_GetObjectItemCaseSensitive(r->annotations, POLICY_BINDING_ANNOTATION);
    out->annotation_ok = cJSON_IsString(ann) && strcmp(ann->valuestring, b->name) == 0;
    if (cJSON_IsString(imm) && strcmp(imm->valuestring, "enabled") == 0 &&
        b->lock_mode == POLICY_LOCK_NONE) {
        out->status = POLICY_BIND_NO_LOCK;
        (void)snprintf(out->message, sizeof(out->message),
                       "label %s: enabled needs S3 Object Lock, but BackupPolicy \"%.100s\" has "
                       "no objectLock; bind a BackupPolicy with objectLock (label %s: "
                       "k10-<name>) or remove the %s label.",
                       POLICY_IMMUTABLE_LABEL, b->name, POLICY_DATAPROTECTION_LABEL,
                       POLICY_IMMUTABLE_LABEL);
    }
}

void policy_set_bind(const struct policy_set *s, const struct policy_request *req,
                     struct policy_binding *out)
{
    struct pol_res r;

    if (req == NULL || !pol_res_init(&r, req)) {
        memset(out, 0, sizeof(*out));
        return;
    }
    pol_bind(s, &r, out, NULL, NULL);
}
