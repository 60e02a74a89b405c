/* SPDX-License-Identifier: Apache-2.0 */
/* policy_backup.c - lockwarden.io/v1alpha1 BackupPolicy documents: strict validation with
 * positioned errors, and the default-binding selector. */
#include "policy_load_int.h"

#include <stdio.h>
#include <string.h>

#define BACKUP_MAX_LOCK_DAYS 36500 /* S3 caps retention at 100 years */
#define BACKUP_MAX_COUNT 100000

static void free_str(const char *s)
{
    cm_free((void *)(uintptr_t)s);
}

void pol_backup_free(struct policy_backup *b)
{
    struct pol_bsel *sel;

    if (b == NULL)
        return;
    free_str(b->name);
    free_str(b->schedule);
    free_str(b->location.endpoint);
    free_str(b->location.region);
    free_str(b->location.bucket);
    free_str(b->location.prefix);
    free_str(b->location.credentials_secret);
    free_str(b->volume_snapshot_class);
    free_str(b->encryption_key_secret);
    sel = (struct pol_bsel *)(uintptr_t)b->selector_;
    if (sel != NULL) {
        pol_wlist_free(&sel->namespaces);
        pol_selector_destroy(sel->labels);
        cJSON_free(sel->canon);
        cm_free(sel);
    }
    memset(b, 0, sizeof(*b));
}

/* Copies s (or "") into *out. */
static int dup_str(const struct pol_ctx *c, const char *s, size_t n, const char **out)
{
    char *d = cm_strndup(s != NULL ? s : "", s != NULL ? n : 0);

    if (d == NULL)
        return cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
    *out = d;
    return 0;
}

static int get_dup(const struct pol_ctx *c, const cJSON *obj, const char *key, bool required,
                   const char **out)
{
    const char *s;
    int rc = pol_get_string(c, obj, key, required, &s);

    if (rc != 0)
        return rc;
    return dup_str(c, s, s != NULL ? strlen(s) : 0, out);
}

/* S3 bucket names: 3-63 of [a-z0-9.-], starting and ending with a letter or digit. */
/* S3 bucket names: a DNS subdomain of 3 to 63 characters (the same character rules). */
static bool bucket_name_ok(const char *s)
{
    size_t n = strlen(s);

    return n >= 3 && n <= 63 && pol_is_dns_subdomain(s);
}

static int compile_location(const struct pol_ctx *c, const cJSON *loc, struct policy_backup *b)
{
    static const char *const keys[] = {
        "endpoint", "region", "bucket", "prefix", "pathStyle", "credentialsSecret", NULL};
    const cJSON *ps;
    const char *prefix;
    size_t plen;
    int rc;

    rc = pol_check_keys(c, loc, keys);
    if (rc == 0)
        rc = get_dup(c, loc, "endpoint", false, &b->location.endpoint);
    if (rc == 0)
        rc = get_dup(c, loc, "region", false, &b->location.region);
    if (rc == 0)
        rc = get_dup(c, loc, "bucket", true, &b->location.bucket);
    if (rc == 0)
        rc = get_dup(c, loc, "credentialsSecret", false, &b->location.credentials_secret);
    if (rc == 0)
        rc = pol_get_string(c, loc, "prefix", false, &prefix);
    if (rc != 0)
        return rc;
    if (b->location.endpoint[0] != '\0' && strncmp(b->location.endpoint, "https://", 8) != 0 &&
        strncmp(b->location.endpoint, "http://", 7) != 0)
        return pol_ctx_fail(c, CM_ECONFIG, cJSON_GetObjectItem(loc, "endpoint"),
                            "spec.location.endpoint must start with https:// or http://");
    if (!bucket_name_ok(b->location.bucket))
        return pol_ctx_fail(c, CM_ECONFIG, cJSON_GetObjectItem(loc, "bucket"),
                            "spec.location.bucket \"%.80s\" is not a valid S3 bucket name "
                            "(3-63 characters of a-z, 0-9, '.', '-')",
                            b->location.bucket);
    if (b->location.credentials_secret[0] != '\0' &&
        !pol_is_dns_subdomain(b->location.credentials_secret))
        return pol_ctx_fail(c, CM_ECONFIG, cJSON_GetObjectItem(loc, "credentialsSecret"),
                            "spec.location.credentialsSecret must be a Secret name");
    /* The key prefix is stored without leading or trailing slashes. */
    if (prefix == NULL)
        prefix = "";
    while (*prefix == '/')
        prefix++;
    plen = strlen(prefix);
    while (plen > 0 && prefix[plen - 1] == '/')
        plen--;
    rc = dup_str(c, prefix, plen, &b->location.prefix);
    if (rc != 0)
        return rc;
    ps = cJSON_GetObjectItemCaseSensitive(loc, "pathStyle");
    if (ps != NULL && !cJSON_IsBool(ps))
        return pol_ctx_fail(c, CM_ECONFIG, ps, "spec.location.pathStyle must be true or false");
    b->location.path_style = cJSON_IsTrue(ps);
    return 0;
}

static int compile_lock(const struct pol_ctx *c, const cJSON *lock, struct policy_backup *b)
{
    static const char *const keys[] = {"mode", "days", NULL};
    const char *mode;
    int rc;

    rc = pol_check_keys(c, lock, keys);
    if (rc == 0)
        rc = pol_get_string(c, lock, "mode", true, &mode);
    if (rc != 0)
        return rc;
    if (strcmp(mode, "COMPLIANCE") == 0)
        b->lock_mode = POLICY_LOCK_COMPLIANCE;
    else if (strcmp(mode, "GOVERNANCE") == 0)
        b->lock_mode = POLICY_LOCK_GOVERNANCE;
    else
        return pol_ctx_fail(c, CM_ECONFIG, cJSON_GetObjectItem(lock, "mode"),
                            "spec.objectLock.mode must be COMPLIANCE or GOVERNANCE, not "
                            "\"%.40s\"",
                            mode);
    return pol_get_uint(c, lock, "days", true, 1, BACKUP_MAX_LOCK_DAYS, 0, &b->lock_days);
}

static int compile_selector(const struct pol_ctx *c, const cJSON *sel, struct policy_backup *b)
{
    static const char *const keys[] = {"namespaces", "matchLabels", "matchExpressions", NULL};
    struct pol_bsel *bs;
    cJSON *labels = NULL;
    int rc;

    rc = pol_check_keys(c, sel, keys);
    if (rc != 0)
        return rc;
    bs = cm_calloc(1, sizeof(*bs));
    if (bs == NULL)
        return cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
    b->selector_ = bs;
    bs->canon = cJSON_PrintUnformatted(sel);
    if (bs->canon == NULL)
        return cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
    rc = pol_wlist_compile(c, cJSON_GetObjectItemCaseSensitive(sel, "namespaces"),
                           "spec.selector.namespaces", &bs->namespaces);
    if (rc != 0)
        return rc;
    if (cJSON_GetObjectItem(sel, "matchLabels") == NULL &&
        cJSON_GetObjectItem(sel, "matchExpressions") == NULL) {
        if (bs->namespaces.n == 0)
            return pol_ctx_fail(c, CM_ECONFIG, sel,
                                "spec.selector needs namespaces, matchLabels or "
                                "matchExpressions");
        return 0;
    }
    /* A LabelSelector view of the same mapping, without "namespaces". */
    labels = cJSON_Duplicate(sel, true);
    if (labels == NULL)
        return cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
    cJSON_DeleteItemFromObjectCaseSensitive(labels, "namespaces");
    {
        /* positions: errors inside point at the original selector */
        struct pol_ctx c2 = *c;

        c2.doc = sel;
        rc = pol_selector_compile(&c2, labels, &bs->labels);
    }
    cJSON_Delete(labels);
    return rc;
}

int pol_backup_compile(struct pol_ctx *c, const cJSON *doc, struct policy_backup *out)
{
    static const char *const top[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};
    static const char *const spec_keys[] = {
        "schedule",   "retention", "objectLock", "location", "volumeSnapshotClass",
        "encryption", "selector",  NULL};
    static const char *const ret_keys[] = {"hourly", "daily", "weekly", "monthly", "yearly", NULL};
    struct policy_backup b;
    const cJSON *meta;
    const cJSON *spec;
    const cJSON *ret;
    const cJSON *lock;
    const cJSON *loc;
    const cJSON *enc;
    const cJSON *sel;
    const char *name;
    struct cm_err e;
    int rc;

    memset(&b, 0, sizeof(b));
    rc = pol_check_keys(c, doc, top);
    if (rc == 0)
        rc = pol_get_object(c, doc, "metadata", true, &meta);
    if (rc == 0)
        rc = pol_get_string(c, meta, "name", true, &name);
    if (rc != 0)
        return rc;
    if (!pol_is_dns_subdomain(name))
        return pol_ctx_fail(c, CM_ECONFIG, cJSON_GetObjectItem(meta, "name"),
                            "metadata.name \"%.80s\" is not a valid name (lowercase letters, "
                            "digits, '-' and '.')",
                            name);
    (void)snprintf(c->where, sizeof(c->where), "backuppolicy %.100s", name);
    rc = pol_get_object(c, doc, "spec", true, &spec);
    if (rc == 0)
        rc = pol_check_keys(c, spec, spec_keys);
    if (rc == 0)
        rc = dup_str(c, name, strlen(name), &b.name);
    if (rc == 0)
        rc = get_dup(c, spec, "schedule", true, &b.schedule);
    if (rc != 0)
        goto fail;
    if (policy_cron_parse(b.schedule, &b.cron, &e) != 0) {
        rc = pol_ctx_fail(c, CM_ECONFIG, cJSON_GetObjectItem(spec, "schedule"), "spec.schedule: %s",
                          e.msg);
        goto fail;
    }
    rc = pol_get_object(c, spec, "retention", false, &ret);
    if (rc == 0 && ret != NULL) {
        rc = pol_check_keys(c, ret, ret_keys);
        if (rc == 0)
            rc = pol_get_uint(c, ret, "hourly", false, 0, BACKUP_MAX_COUNT, 0, &b.retention.hourly);
        if (rc == 0)
            rc = pol_get_uint(c, ret, "daily", false, 0, BACKUP_MAX_COUNT, 0, &b.retention.daily);
        if (rc == 0)
            rc = pol_get_uint(c, ret, "weekly", false, 0, BACKUP_MAX_COUNT, 0, &b.retention.weekly);
        if (rc == 0)
            rc = pol_get_uint(c, ret, "monthly", false, 0, BACKUP_MAX_COUNT, 0,
                              &b.retention.monthly);
        if (rc == 0)
            rc = pol_get_uint(c, ret, "yearly", false, 0, BACKUP_MAX_COUNT, 0, &b.retention.yearly);
    }
    if (rc == 0)
        rc = pol_get_object(c, spec, "objectLock", false, &lock);
    if (rc == 0 && lock != NULL)
        rc = compile_lock(c, lock, &b);
    if (rc == 0)
        rc = pol_get_object(c, spec, "location", true, &loc);
    if (rc == 0)
        rc = compile_location(c, loc, &b);
    if (rc == 0)
        rc = get_dup(c, spec, "volumeSnapshotClass", false, &b.volume_snapshot_class);
    if (rc == 0)
        rc = pol_get_object(c, spec, "encryption", false, &enc);
    if (rc == 0 && enc != NULL) {
        static const char *const enc_keys[] = {"keySecret", NULL};

        rc = pol_check_keys(c, enc, enc_keys);
        if (rc == 0)
            rc = get_dup(c, enc, "keySecret", true, &b.encryption_key_secret);
        if (rc == 0 && !pol_is_dns_subdomain(b.encryption_key_secret))
            rc = pol_ctx_fail(c, CM_ECONFIG, cJSON_GetObjectItem(enc, "keySecret"),
                              "spec.encryption.keySecret must be a Secret name");
    } else if (rc == 0) {
        rc = dup_str(c, "", 0, &b.encryption_key_secret);
    }
    if (rc == 0)
        rc = pol_get_object(c, spec, "selector", false, &sel);
    if (rc == 0 && sel != NULL)
        rc = compile_selector(c, sel, &b);
    if (rc != 0)
        goto fail;
    *out = b;
    return 0;
fail:
    pol_backup_free(&b);
    return rc;
}

bool pol_backup_selects(const struct policy_backup *b, const struct pol_res *r)
{
    const struct pol_bsel *s = b->selector_;

    if (s == NULL)
        return false;
    if (s->namespaces.n > 0 && !pol_wlist_match(&s->namespaces, r->ns, r->ns_len))
        return false;
    if (s->labels != NULL && !pol_selector_match(s->labels, r->labels))
        return false;
    return true;
}
