/* SPDX-License-Identifier: Apache-2.0 */
/* audit_render.c - renders a compliance audit report as text, JSON or CSV (RFC 4180);
 * HTML lives in audit_html.c. */
#include "backup/backup.h"

#include <stdio.h>
#include <string.h>

#define TEXT_COLS 12

const char *backup_audit_age_format(long long age_s, char *buf, size_t len)
{
    if (age_s < 0)
        snprintf(buf, len, "-");
    else if (age_s < 60)
        snprintf(buf, len, "%llds", age_s);
    else if (age_s < 3600)
        snprintf(buf, len, "%lldm", age_s / 60);
    else if (age_s < 86400)
        snprintf(buf, len, "%lldh%02lldm", age_s / 3600, (age_s % 3600) / 60);
    else
        snprintf(buf, len, "%lldd%02lldh", age_s / 86400, (age_s % 86400) / 3600);
    return buf;
}

/* Appends the names of the issue bits joined by sep ("" when none). */
static int issues_format(unsigned issues, const char *sep, struct cm_buf *out)
{
    unsigned i;
    bool first = true;
    int rc;

    for (i = 0; i < BACKUP_AUDIT_ISSUE_COUNT_; i++) {
        if (!(issues & (1u << i)))
            continue;
        if (!first) {
            rc = cm_buf_adds(out, sep);
            if (rc != 0)
                return rc;
        }
        rc = cm_buf_adds(out, backup_audit_issue_name(1u << i));
        if (rc != 0)
            return rc;
        first = false;
    }
    /* Keep ptr non-NULL so callers can always read the result as a string. */
    return out->ptr == NULL ? cm_buf_add(out, "", 0) : 0;
}

static const char *guardrail_name(enum backup_audit_guardrail g)
{
    switch (g) {
    case BACKUP_AUDIT_GR_PASS:
        return "pass";
    case BACKUP_AUDIT_GR_FAIL:
        return "fail";
    default:
        return "none";
    }
}

static const char *verify_name(enum backup_audit_verify v)
{
    switch (v) {
    case BACKUP_AUDIT_VERIFY_OK:
        return "yes";
    case BACKUP_AUDIT_VERIFY_FAILED:
        return "no";
    default:
        return "-";
    }
}

/* ---- text ---- */

/* Terminal-safe copy: C0/C1 control characters and DEL become '?', so a hostile name
 * cannot move the cursor or retitle the terminal. */
static void text_clean(char *dst, size_t len, const char *s)
{
    size_t i = 0;
    const unsigned char *p = (const unsigned char *)s;

    while (*p != '\0' && i + 1 < len) {
        if (*p < 0x20 || *p == 0x7f) {
            dst[i++] = '?';
            p++;
        } else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            dst[i++] = '?';
            p += 2;
        } else {
            dst[i++] = (char)*p++;
        }
    }
    dst[i] = '\0';
}

struct text_row {
    char col[TEXT_COLS][BACKUP_RESTORE_NAME_MAX + 1];
};

static void text_row_fill(const struct backup_audit_app *a, struct text_row *row,
                          struct cm_buf *tmp)
{
    char t[32];

    text_clean(row->col[0], sizeof(row->col[0]), backup_audit_class_name(a->v.cls));
    text_clean(row->col[1], sizeof(row->col[1]), a->ns);
    text_clean(row->col[2], sizeof(row->col[2]), a->kind);
    text_clean(row->col[3], sizeof(row->col[3]), a->name);
    text_clean(row->col[4], sizeof(row->col[4]), a->policy[0] ? a->policy : "-");
    text_clean(row->col[5], sizeof(row->col[5]), guardrail_name(a->guardrail));
    text_clean(row->col[6], sizeof(row->col[6]),
               a->point[0] && a->point_time > 0 ? cm_time_format(a->point_time, t, sizeof(t))
                                                : "-");
    backup_audit_age_format(a->v.age_s, row->col[7], sizeof(row->col[7]));
    text_clean(row->col[8], sizeof(row->col[8]),
               a->point[0] ? backup_audit_lock_name(a->lock_mode) : "-");
    text_clean(row->col[9], sizeof(row->col[9]),
               a->retain_until > 0 ? cm_time_format(a->retain_until, t, sizeof(t)) : "-");
    text_clean(row->col[10], sizeof(row->col[10]), verify_name(a->verify));
    cm_buf_reset(tmp);
    if (issues_format(a->v.issues, ",", tmp) == 0)
        text_clean(row->col[11], sizeof(row->col[11]), tmp->ptr[0] ? tmp->ptr : "-");
    else
        text_clean(row->col[11], sizeof(row->col[11]), "?");
}

static int render_text(const struct backup_audit_report *r, struct cm_buf *out)
{
    static const char *const heads[TEXT_COLS] = {"CLASS",  "NAMESPACE",    "KIND",       "NAME",
                                                 "POLICY", "GUARDRAIL",    "LAST POINT", "AGE",
                                                 "LOCK",   "RETAIN UNTIL", "VERIFIED",   "ISSUES"};
    size_t width[TEXT_COLS];
    size_t i;
    size_t c;
    size_t n = backup_audit_report_count(r);
    struct text_row *row = NULL;
    struct cm_buf tmp;
    char t[32];
    int rc;

    cm_buf_init(&tmp, 4096);
    row = cm_malloc(sizeof(*row));
    if (row == NULL) {
        rc = CM_ENOMEM;
        goto cleanup;
    }
    rc = cm_buf_addf(out,
                     "lockwarden audit at %s: %zu apps: %zu protected, %zu unprotected, "
                     "%zu stale, %zu not-immutable: %s\n",
                     cm_time_format(backup_audit_report_now(r), t, sizeof(t)), n,
                     backup_audit_report_tally(r, BACKUP_AUDIT_PROTECTED),
                     backup_audit_report_tally(r, BACKUP_AUDIT_UNPROTECTED),
                     backup_audit_report_tally(r, BACKUP_AUDIT_STALE),
                     backup_audit_report_tally(r, BACKUP_AUDIT_NOT_IMMUTABLE),
                     backup_audit_report_compliant(r) ? "COMPLIANT" : "NOT COMPLIANT");
    if (rc != 0 || n == 0)
        goto cleanup;
    for (c = 0; c < TEXT_COLS; c++)
        width[c] = strlen(heads[c]);
    for (i = 0; i < n; i++) {
        text_row_fill(backup_audit_report_get(r, i), row, &tmp);
        for (c = 0; c < TEXT_COLS; c++) {
            size_t w = strlen(row->col[c]);

            if (w > width[c])
                width[c] = w;
        }
    }
    for (c = 0; c < TEXT_COLS && rc == 0; c++)
        rc = cm_buf_addf(out, "%-*s%s", c + 1 < TEXT_COLS ? (int)width[c] : 0, heads[c],
                         c + 1 < TEXT_COLS ? "  " : "\n");
    for (i = 0; i < n && rc == 0; i++) {
        const struct backup_audit_app *a = backup_audit_report_get(r, i);

        text_row_fill(a, row, &tmp);
        for (c = 0; c < TEXT_COLS && rc == 0; c++)
            rc = cm_buf_addf(out, "%-*s%s", c + 1 < TEXT_COLS ? (int)width[c] : 0, row->col[c],
                             c + 1 < TEXT_COLS ? "  " : "\n");
    }
cleanup:
    cm_free(row);
    cm_buf_free(&tmp);
    if (rc != 0)
        cm_buf_free(out);
    return rc;
}

/* ---- JSON ---- */

static int json_kv_str(struct cm_buf *out, const char *k, const char *v, bool comma)
{
    int rc = cm_buf_addf(out, "%s\"%s\":", comma ? "," : "", k);

    if (rc == 0 && v == NULL)
        rc = cm_buf_adds(out, "null");
    else if (rc == 0)
        rc = cm_buf_add_json_str(out, v, strlen(v));
    return rc;
}

static int json_kv_time(struct cm_buf *out, const char *k, time_t t)
{
    char b[32];

    return json_kv_str(out, k, t > 0 ? cm_time_format(t, b, sizeof(b)) : NULL, true);
}

static int json_app(struct cm_buf *out, const struct backup_audit_app *a, struct cm_buf *tmp)
{
    unsigned i;
    bool first = true;
    int rc;

    rc = json_kv_str(out, "kind", a->kind, false);
    if (rc == 0)
        rc = json_kv_str(out, "namespace", a->ns, true);
    if (rc == 0)
        rc = json_kv_str(out, "name", a->name, true);
    if (rc == 0)
        rc = json_kv_str(out, "class", backup_audit_class_name(a->v.cls), true);
    if (rc == 0)
        rc = cm_buf_adds(out, ",\"issues\":[");
    for (i = 0; i < BACKUP_AUDIT_ISSUE_COUNT_ && rc == 0; i++) {
        if (!(a->v.issues & (1u << i)))
            continue;
        rc = cm_buf_addf(out, "%s\"%s\"", first ? "" : ",", backup_audit_issue_name(1u << i));
        first = false;
    }
    if (rc == 0)
        rc = cm_buf_adds(out, "]");
    if (rc == 0)
        rc = json_kv_str(out, "guardrail", guardrail_name(a->guardrail), true);
    if (rc == 0)
        rc = json_kv_str(out, "guardrailDetail",
                         a->guardrail_detail[0] ? a->guardrail_detail : NULL, true);
    if (rc == 0)
        rc = json_kv_str(out, "backupPolicy", a->policy[0] ? a->policy : NULL, true);
    if (rc == 0)
        rc = json_kv_str(out, "schedule", a->schedule[0] ? a->schedule : NULL, true);
    if (rc == 0)
        rc = json_kv_time(out, "rpoBoundary", a->v.rpo_boundary);
    if (rc == 0)
        rc =
            json_kv_str(out, "lockRequired",
                        a->v.lock_required ? backup_audit_lock_name(a->lock_required) : NULL, true);
    if (rc == 0 && a->point[0] == '\0')
        rc = cm_buf_adds(out, ",\"latestRestorePoint\":null");
    else if (rc == 0) {
        rc = cm_buf_adds(out, ",\"latestRestorePoint\":{");
        if (rc == 0)
            rc = json_kv_str(out, "id", a->point, false);
        if (rc == 0)
            rc = json_kv_time(out, "time", a->point_time);
        if (rc == 0 && a->v.age_s < 0)
            rc = cm_buf_adds(out, ",\"ageSeconds\":null");
        else if (rc == 0)
            rc = cm_buf_addf(out, ",\"ageSeconds\":%lld", a->v.age_s);
        if (rc == 0)
            rc = cm_buf_addf(out, ",\"complete\":%s,\"verified\":%s",
                             a->point_complete ? "true" : "false",
                             a->verify == BACKUP_AUDIT_VERIFY_OK ? "true" : "false");
        if (rc == 0)
            rc = json_kv_str(out, "verifyDetail", a->verify_detail[0] ? a->verify_detail : NULL,
                             true);
        if (rc == 0)
            rc = json_kv_str(out, "lockMode", backup_audit_lock_name(a->lock_mode), true);
        if (rc == 0)
            rc = json_kv_time(out, "retainUntil", a->retain_until);
        if (rc == 0)
            rc = cm_buf_addf(out, ",\"legalHold\":%s}", a->legal_hold ? "true" : "false");
    }
    (void)tmp;
    return rc;
}

static int render_json(const struct backup_audit_report *r, struct cm_buf *out)
{
    size_t i;
    size_t n = backup_audit_report_count(r);
    char t[32];
    int rc;

    rc = cm_buf_addf(out,
                     "{\"generatedAt\":\"%s\",\"compliant\":%s,\"summary\":{\"total\":%zu,"
                     "\"protected\":%zu,\"unprotected\":%zu,\"stale\":%zu,"
                     "\"notImmutable\":%zu},\"apps\":[",
                     cm_time_format(backup_audit_report_now(r), t, sizeof(t)),
                     backup_audit_report_compliant(r) ? "true" : "false", n,
                     backup_audit_report_tally(r, BACKUP_AUDIT_PROTECTED),
                     backup_audit_report_tally(r, BACKUP_AUDIT_UNPROTECTED),
                     backup_audit_report_tally(r, BACKUP_AUDIT_STALE),
                     backup_audit_report_tally(r, BACKUP_AUDIT_NOT_IMMUTABLE));
    for (i = 0; i < n && rc == 0; i++) {
        rc = cm_buf_adds(out, i ? ",{" : "{");
        if (rc == 0)
            rc = json_app(out, backup_audit_report_get(r, i), NULL);
        if (rc == 0)
            rc = cm_buf_adds(out, "}");
    }
    if (rc == 0)
        rc = cm_buf_adds(out, "]}\n");
    return rc;
}

/* ---- CSV (RFC 4180) ---- */

/* One field: quoted when it holds a comma, quote, CR or LF (quotes doubled). A text
 * cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a
 * leading apostrophe, the OWASP advice for CSV injection. */
static int csv_field(struct cm_buf *out, const char *s, bool text, bool last)
{
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    bool defuse = text && s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
    const char *p;
    int rc = 0;

    if (quote || defuse)
        rc = cm_buf_addc(out, '"');
    if (rc == 0 && defuse)
        rc = cm_buf_addc(out, '\'');
    for (p = s; *p != '\0' && rc == 0; p++) {
        if (*p == '"')
            rc = cm_buf_addc(out, '"');
        if (rc == 0)
            rc = cm_buf_addc(out, *p);
    }
    if (rc == 0 && (quote || defuse))
        rc = cm_buf_addc(out, '"');
    if (rc == 0)
        rc = cm_buf_adds(out, last ? "\r\n" : ",");
    return rc;
}

static int render_csv(const struct backup_audit_report *r, struct cm_buf *out)
{
    static const char *const heads[] = {"namespace",
                                        "kind",
                                        "name",
                                        "class",
                                        "issues",
                                        "guardrail",
                                        "guardrail_detail",
                                        "backup_policy",
                                        "schedule",
                                        "rpo_boundary",
                                        "lock_required",
                                        "restore_point",
                                        "point_time",
                                        "age_seconds",
                                        "complete",
                                        "verified",
                                        "verify_detail",
                                        "lock_mode",
                                        "retain_until",
                                        "legal_hold"};
    struct cm_buf issues;
    size_t i;
    size_t c;
    int rc = 0;

    cm_buf_init(&issues, 4096);
    for (c = 0; c < CM_ARRAY_LEN(heads) && rc == 0; c++)
        rc = csv_field(out, heads[c], false, c + 1 == CM_ARRAY_LEN(heads));
    for (i = 0; i < backup_audit_report_count(r) && rc == 0; i++) {
        const struct backup_audit_app *a = backup_audit_report_get(r, i);
        char t1[32];
        char t2[32];
        char t3[32];
        char age[32];

        cm_buf_reset(&issues);
        rc = issues_format(a->v.issues, ";", &issues);
        snprintf(age, sizeof(age), "%lld", a->v.age_s < 0 ? 0 : a->v.age_s);
        if (rc == 0)
            rc = csv_field(out, a->ns, true, false);
        if (rc == 0)
            rc = csv_field(out, a->kind, true, false);
        if (rc == 0)
            rc = csv_field(out, a->name, true, false);
        if (rc == 0)
            rc = csv_field(out, backup_audit_class_name(a->v.cls), false, false);
        if (rc == 0)
            rc = csv_field(out, issues.ptr, false, false);
        if (rc == 0)
            rc = csv_field(out, guardrail_name(a->guardrail), false, false);
        if (rc == 0)
            rc = csv_field(out, a->guardrail_detail, true, false);
        if (rc == 0)
            rc = csv_field(out, a->policy, true, false);
        if (rc == 0) /* from the operator's policies; "@hourly" must stay as written */
            rc = csv_field(out, a->schedule, false, false);
        if (rc == 0)
            rc = csv_field(out,
                           a->v.rpo_boundary > 0 ? cm_time_format(a->v.rpo_boundary, t1, 32) : "",
                           false, false);
        if (rc == 0)
            rc = csv_field(out, a->v.lock_required ? backup_audit_lock_name(a->lock_required) : "",
                           false, false);
        if (rc == 0)
            rc = csv_field(out, a->point, true, false);
        if (rc == 0)
            rc = csv_field(
                out, a->point[0] && a->point_time > 0 ? cm_time_format(a->point_time, t2, 32) : "",
                false, false);
        if (rc == 0)
            rc = csv_field(out, a->point[0] && a->v.age_s >= 0 ? age : "", false, false);
        if (rc == 0)
            rc = csv_field(out, a->point[0] ? (a->point_complete ? "true" : "false") : "", false,
                           false);
        if (rc == 0)
            rc = csv_field(
                out, a->point[0] ? (a->verify == BACKUP_AUDIT_VERIFY_OK ? "true" : "false") : "",
                false, false);
        if (rc == 0)
            rc = csv_field(out, a->verify_detail, true, false);
        if (rc == 0)
            rc = csv_field(out, a->point[0] ? backup_audit_lock_name(a->lock_mode) : "", false,
                           false);
        if (rc == 0)
            rc = csv_field(out, a->retain_until > 0 ? cm_time_format(a->retain_until, t3, 32) : "",
                           false, false);
        if (rc == 0)
            rc = csv_field(out, a->point[0] ? (a->legal_hold ? "true" : "false") : "", false, true);
    }
    cm_buf_free(&issues);
    return rc;
}

int backup_audit_render(const struct backup_audit_report *r, enum backup_audit_format f,
                        struct cm_buf *out)
{
    int rc;

    switch (f) {
    case BACKUP_AUDIT_TEXT:
        rc = render_text(r, out);
        break;
    case BACKUP_AUDIT_JSON:
        rc = render_json(r, out);
        break;
    case BACKUP_AUDIT_CSV:
        rc = render_csv(r, out);
        break;
    case BACKUP_AUDIT_HTML:
        rc = backup_audit_render_html(r, out);
        break;
    default:
        rc = CM_EINVAL;
        break;
    }
    if (rc != 0)
        cm_buf_free(out);
    return rc;
}
