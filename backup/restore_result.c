/* SPDX-License-Identifier: Apache-2.0 */
/* restore_result.c - the per-resource outcome of a restore (created, updated, skipped,
 * failed, planned) and its text and JSON reports. */
#include "backup/backup.h"

#include <stdio.h>
#include <string.h>

struct backup_restore_result {
    struct backup_restore_item *items;
    size_t n;
    size_t cap;
};

const char *backup_restore_status_name(enum backup_restore_status s)
{
    static const char *const names[BACKUP_RESTORE_STATUS_COUNT_] = {"created", "updated", "skipped",
                                                                    "failed", "planned"};

    return (unsigned)s < BACKUP_RESTORE_STATUS_COUNT_ ? names[s] : "?";
}

int backup_restore_result_create(struct backup_restore_result **out)
{
    struct backup_restore_result *r = cm_calloc(1, sizeof(*r));

    if (r == NULL)
        return CM_ENOMEM;
    *out = r;
    return 0;
}

void backup_restore_result_destroy(struct backup_restore_result *r)
{
    if (r == NULL)
        return;
    cm_free(r->items);
    cm_free(r);
}

/* Copies s into dst[len], cut at a UTF-8 boundary. */
static void copy_cut(char *dst, size_t len, const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;

    if (n >= len) {
        n = len - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    if (n > 0)
        memcpy(dst, s, n);
    dst[n] = '\0';
}

int backup_restore_result_add(struct backup_restore_result *r, const char *api_version,
                              const char *kind, const char *ns, const char *name,
                              enum backup_restore_status status, const char *detail)
{
    struct backup_restore_item *it;

    if (r->n >= BACKUP_RESTORE_MAX_ITEMS)
        return CM_ETOOBIG;
    if (r->n == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 32;
        struct backup_restore_item *ni;

        if (ncap > BACKUP_RESTORE_MAX_ITEMS)
            ncap = BACKUP_RESTORE_MAX_ITEMS;
        ni = cm_realloc(r->items, ncap * sizeof(*ni));
        if (ni == NULL)
            return CM_ENOMEM;
        r->items = ni;
        r->cap = ncap;
    }
    it = &r->items[r->n];
    copy_cut(it->api_version, sizeof(it->api_version), api_version);
    copy_cut(it->kind, sizeof(it->kind), kind);
    copy_cut(it->ns, sizeof(it->ns), ns);
    copy_cut(it->name, sizeof(it->name), name);
    copy_cut(it->detail, sizeof(it->detail), detail);
    it->status = status;
    r->n++;
    return 0;
}

size_t backup_restore_result_count(const struct backup_restore_result *r)
{
    return r->n;
}

const struct backup_restore_item *backup_restore_result_get(const struct backup_restore_result *r,
                                                            size_t i)
{
    return i < r->n ? &r->items[i] : NULL;
}

size_t backup_restore_result_tally(const struct backup_restore_result *r,
                                   enum backup_restore_status s)
{
    size_t i;
    size_t n = 0;

    for (i = 0; i < r->n; i++) {
        if (r->items[i].status == s)
            n++;
    }
    return n;
}

/* Terminal-safe: control bytes become '?'. */
static int add_clean(struct cm_buf *out, const char *s)
{
    int rc = 0;

    for (; *s != '\0' && rc == 0; s++)
        rc = cm_buf_addc(out, ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s);
    return rc;
}

static int format_text(const struct backup_restore_result *r, const char *point_id, bool dry_run,
                       struct cm_buf *out)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < r->n && rc == 0; i++) {
        const struct backup_restore_item *it = &r->items[i];

        rc = cm_buf_addf(out, "%-8s ", backup_restore_status_name(it->status));
        if (rc == 0)
            rc = add_clean(out, it->kind);
        if (rc == 0)
            rc = cm_buf_addc(out, ' ');
        if (rc == 0 && it->ns[0] != '\0') {
            rc = add_clean(out, it->ns);
            if (rc == 0)
                rc = cm_buf_addc(out, '/');
        }
        if (rc == 0)
            rc = add_clean(out, it->name);
        if (rc == 0 && it->detail[0] != '\0') {
            rc = cm_buf_adds(out, ": ");
            if (rc == 0)
                rc = add_clean(out, it->detail);
        }
        if (rc == 0)
            rc = cm_buf_addc(out, '\n');
    }
    if (rc == 0) {
        rc = cm_buf_adds(out, dry_run ? "dry run of restore point " : "restore point ");
        if (rc == 0)
            rc = add_clean(out, point_id != NULL ? point_id : "?");
        if (rc == 0)
            rc = cm_buf_addf(out,
                             ": %zu resources: %zu created, %zu updated, %zu skipped, "
                             "%zu failed, %zu planned\n",
                             r->n, backup_restore_result_tally(r, BACKUP_RESTORE_CREATED),
                             backup_restore_result_tally(r, BACKUP_RESTORE_UPDATED),
                             backup_restore_result_tally(r, BACKUP_RESTORE_SKIPPED),
                             backup_restore_result_tally(r, BACKUP_RESTORE_FAILED),
                             backup_restore_result_tally(r, BACKUP_RESTORE_PLANNED));
    }
    return rc;
}

static int json_str(struct cm_buf *out, const char *k, const char *v, bool comma)
{
    int rc = cm_buf_addf(out, "%s\"%s\":", comma ? "," : "", k);

    if (rc == 0)
        rc = cm_buf_add_json_str(out, v, strlen(v));
    return rc;
}

static int format_json(const struct backup_restore_result *r, const char *point_id, bool dry_run,
                       struct cm_buf *out)
{
    size_t i;
    int rc = cm_buf_adds(out, "{");

    if (rc == 0)
        rc = json_str(out, "restorePoint", point_id != NULL ? point_id : "", false);
    if (rc == 0)
        rc = cm_buf_addf(out, ",\"dryRun\":%s,\"items\":[", dry_run ? "true" : "false");
    for (i = 0; i < r->n && rc == 0; i++) {
        const struct backup_restore_item *it = &r->items[i];

        rc = cm_buf_adds(out, i ? ",{" : "{");
        if (rc == 0)
            rc = json_str(out, "apiVersion", it->api_version, false);
        if (rc == 0)
            rc = json_str(out, "kind", it->kind, true);
        if (rc == 0)
            rc = json_str(out, "namespace", it->ns, true);
        if (rc == 0)
            rc = json_str(out, "name", it->name, true);
        if (rc == 0)
            rc = json_str(out, "status", backup_restore_status_name(it->status), true);
        if (rc == 0)
            rc = json_str(out, "detail", it->detail, true);
        if (rc == 0)
            rc = cm_buf_adds(out, "}");
    }
    if (rc == 0)
        rc = cm_buf_addf(out,
                         "],\"summary\":{\"total\":%zu,\"created\":%zu,\"updated\":%zu,"
                         "\"skipped\":%zu,\"failed\":%zu,\"planned\":%zu}}\n",
                         r->n, backup_restore_result_tally(r, BACKUP_RESTORE_CREATED),
                         backup_restore_result_tally(r, BACKUP_RESTORE_UPDATED),
                         backup_restore_result_tally(r, BACKUP_RESTORE_SKIPPED),
                         backup_restore_result_tally(r, BACKUP_RESTORE_FAILED),
                         backup_restore_result_tally(r, BACKUP_RESTORE_PLANNED));
    return rc;
}

int backup_restore_result_format(const struct backup_restore_result *r, const char *point_id,
                                 bool dry_run, bool json, struct cm_buf *out)
{
    int rc = json ? format_json(r, point_id, dry_run, out) : format_text(r, point_id, dry_run, out);

    if (rc != 0)
        cm_buf_free(out);
    return rc;
}
