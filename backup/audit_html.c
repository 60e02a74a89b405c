/* SPDX-License-Identifier: Apache-2.0 */
/* audit_html.c - renders a compliance audit report as one self-contained HTML file:
 * inline CSS, an inline SVG donut of the four classes, a per-app table. No scripts and
 * no external resources (a Content-Security-Policy of default-src 'none' says so to the
 * browser as well). */
#include "backup/backup.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Colours per class, in enum order; distinct in hue and in lightness so the chart also
 * reads in greyscale print-outs. */
static const char *const class_colour[BACKUP_AUDIT_CLASS_COUNT_] = {
    "#2e7d32", /* protected: green */
    "#c62828", /* unprotected: red */
    "#6a1b9a", /* not-immutable: purple */
    "#f9a825", /* stale: amber */
};

static const char *const class_title[BACKUP_AUDIT_CLASS_COUNT_] = {"Protected", "Unprotected",
                                                                   "Not immutable", "Stale"};

/* Legend order: worst first, protected last. */
static const enum backup_audit_class legend_order[BACKUP_AUDIT_CLASS_COUNT_] = {
    BACKUP_AUDIT_UNPROTECTED, BACKUP_AUDIT_NOT_IMMUTABLE, BACKUP_AUDIT_STALE,
    BACKUP_AUDIT_PROTECTED};

/* Appends s with &, <, >, ", ' as entities (control bytes become U+FFFD). */
static int html_escape(struct cm_buf *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    int rc = 0;

    for (; *p != '\0' && rc == 0; p++) {
        switch (*p) {
        case '&':
            rc = cm_buf_adds(out, "&amp;");
            break;
        case '<':
            rc = cm_buf_adds(out, "&lt;");
            break;
        case '>':
            rc = cm_buf_adds(out, "&gt;");
            break;
        case '"':
            rc = cm_buf_adds(out, "&quot;");
            break;
        case '\'':
            rc = cm_buf_adds(out, "&#39;");
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                rc = cm_buf_adds(out, "&#xFFFD;");
            else
                rc = cm_buf_addc(out, (char)*p);
            break;
        }
    }
    return rc;
}

static const char css[] =
    "<style>\n"
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "color:#1f2328;margin:0;background:#f6f8fa}\n"
    "main{max-width:1180px;margin:0 auto;padding:24px}\n"
    "h1{font-size:22px;margin:0 0 4px}\n"
    ".sub{color:#57606a;margin:0 0 18px}\n"
    ".verdict{display:inline-block;padding:3px 10px;border-radius:12px;font-weight:600;"
    "color:#fff;margin-left:8px;font-size:13px;vertical-align:middle}\n"
    ".ok{background:#2e7d32}.bad{background:#c62828}\n"
    ".panel{display:flex;gap:28px;align-items:center;background:#fff;border:1px solid #d0d7de;"
    "border-radius:8px;padding:18px 24px;margin-bottom:18px}\n"
    ".legend{list-style:none;margin:0;padding:0;min-width:260px}\n"
    ".legend li{display:flex;align-items:center;gap:10px;padding:4px 0;font-size:15px}\n"
    ".sw{width:14px;height:14px;border-radius:3px;display:inline-block}\n"
    ".legend b{margin-left:auto;font-size:18px}\n"
    ".legend small{color:#57606a;width:44px;text-align:right}\n"
    ".defs{font-size:12.5px;color:#57606a;max-width:520px}\n"
    ".defs dt{font-weight:600;color:#1f2328}.defs dd{margin:0 0 6px}\n"
    "table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d0d7de;"
    "font-size:12.5px}\n"
    "th,td{padding:6px 8px;border-bottom:1px solid #eaeef2;text-align:left;"
    "vertical-align:top}\n"
    "th{background:#f0f3f6;font-weight:600;position:sticky;top:0}\n"
    "td.name{font-weight:600;overflow-wrap:anywhere;min-width:130px;max-width:220px}\n"
    "td.when{white-space:nowrap}\n"
    ".pill{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;"
    "font-weight:600;white-space:nowrap}\n"
    ".pill.c-stale{color:#1f2328}\n"
    ".tag{display:inline-block;background:#eaeef2;color:#3d444d;border-radius:4px;"
    "padding:0 5px;margin:1px 0;font-size:11.5px;white-space:nowrap}\n"
    "td small{white-space:nowrap;color:#57606a}\n"
    ".issues{color:#57606a}.mono{font-family:ui-monospace,'DejaVu Sans Mono',monospace;"
    "font-size:11.5px}\n"
    "tr.cls-unprotected{background:#fff5f5}tr.cls-not-immutable{background:#faf5ff}"
    "tr.cls-stale{background:#fffbea}\n"
    "footer{color:#57606a;font-size:12px;margin-top:14px}\n"
    "</style>\n";

/* The donut: one circle per class on a ring whose circumference is 100 units, so a
 * segment's dash length is its percentage. */
static int render_chart(const struct backup_audit_report *r, struct cm_buf *out)
{
    size_t total = backup_audit_report_count(r);
    double offset = 25.0; /* start at 12 o'clock */
    size_t i;
    int rc;

    rc = cm_buf_addf(out,
                     "<svg id=\"summary-chart\" role=\"img\" aria-labelledby=\"chart-title\" "
                     "width=\"220\" height=\"220\" viewBox=\"0 0 42 42\">\n"
                     "<title id=\"chart-title\">Apps by compliance class: %zu protected, "
                     "%zu unprotected, %zu not immutable, %zu stale</title>\n"
                     "<circle cx=\"21\" cy=\"21\" r=\"15.9155\" fill=\"#fff\" "
                     "stroke=\"#eaeef2\" stroke-width=\"6\"/>\n",
                     backup_audit_report_tally(r, BACKUP_AUDIT_PROTECTED),
                     backup_audit_report_tally(r, BACKUP_AUDIT_UNPROTECTED),
                     backup_audit_report_tally(r, BACKUP_AUDIT_NOT_IMMUTABLE),
                     backup_audit_report_tally(r, BACKUP_AUDIT_STALE));
    for (i = 0; i < BACKUP_AUDIT_CLASS_COUNT_ && rc == 0 && total > 0; i++) {
        enum backup_audit_class c = legend_order[i];
        size_t n = backup_audit_report_tally(r, c);
        double pct = 100.0 * (double)n / (double)total;

        if (n == 0)
            continue;
        rc = cm_buf_addf(out,
                         "<circle class=\"seg\" data-class=\"%s\" cx=\"21\" cy=\"21\" "
                         "r=\"15.9155\" fill=\"transparent\" stroke=\"%s\" stroke-width=\"6\" "
                         "stroke-dasharray=\"%.3f %.3f\" stroke-dashoffset=\"%.3f\">"
                         "<title>%s: %zu</title></circle>\n",
                         backup_audit_class_name(c), class_colour[c], pct, 100.0 - pct,
                         fmod(offset + 100.0, 100.0), class_title[c], n);
        offset -= pct;
    }
    if (rc == 0)
        rc = cm_buf_addf(out,
                         "<text x=\"21\" y=\"20.5\" text-anchor=\"middle\" font-size=\"7\" "
                         "font-weight=\"700\" fill=\"#1f2328\">%zu</text>\n"
                         "<text x=\"21\" y=\"26\" text-anchor=\"middle\" font-size=\"3\" "
                         "fill=\"#57606a\">apps audited</text>\n</svg>\n",
                         total);
    return rc;
}

static int render_legend(const struct backup_audit_report *r, struct cm_buf *out)
{
    size_t total = backup_audit_report_count(r);
    size_t i;
    int rc = cm_buf_adds(out, "<ul class=\"legend\">\n");

    for (i = 0; i < BACKUP_AUDIT_CLASS_COUNT_ && rc == 0; i++) {
        enum backup_audit_class c = legend_order[i];
        size_t n = backup_audit_report_tally(r, c);

        rc = cm_buf_addf(out,
                         "<li data-class=\"%s\"><span class=\"sw\" style=\"background:%s\">"
                         "</span>%s<small>%.0f%%</small><b class=\"count\">%zu</b></li>\n",
                         backup_audit_class_name(c), class_colour[c], class_title[c],
                         total ? 100.0 * (double)n / (double)total : 0.0, n);
    }
    if (rc == 0)
        rc = cm_buf_adds(out, "</ul>\n");
    return rc;
}

static const char defs[] =
    "<dl class=\"defs\">\n"
    "<dt>Protected</dt><dd>Bound to a BackupPolicy, passes the guardrails, latest restore "
    "point complete and verified, within the RPO, locked when immutability is "
    "required.</dd>\n"
    "<dt>Unprotected</dt><dd>No BackupPolicy binding (or an unknown one), a failing "
    "guardrail, no restore point, or one that is incomplete or fails "
    "verification.</dd>\n"
    "<dt>Not immutable</dt><dd>Immutability is required but the latest restore point has "
    "no Object Lock, an expired one, or GOVERNANCE where COMPLIANCE is asked.</dd>\n"
    "<dt>Stale</dt><dd>The latest restore point predates the scheduled run before the "
    "most recent one: a whole run was missed.</dd>\n"
    "</dl>\n";

static int td(struct cm_buf *out, const char *cls, const char *s)
{
    int rc =
        cm_buf_addf(out, "<td%s%s%s>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");

    if (rc == 0)
        rc = html_escape(out, s[0] ? s : "\xe2\x80\x94");
    if (rc == 0)
        rc = cm_buf_adds(out, "</td>");
    return rc;
}

/* "2026-11-22 10:00" (UTC) for table cells; the full RFC 3339 form goes in a title. */
static const char *short_time(time_t t, char *buf, size_t len)
{
    char full[32];

    cm_time_format(t, full, sizeof(full));
    snprintf(buf, len, "%.10s %.5s", full, full + 11);
    return buf;
}

static int render_row(const struct backup_audit_app *a, struct cm_buf *out, struct cm_buf *tmp)
{
    const char *cname = backup_audit_class_name(a->v.cls);
    char t[32];
    char age[32];
    int rc;

    rc = cm_buf_addf(out, "<tr class=\"app cls-%s\" data-class=\"%s\" data-app=\"", cname, cname);
    if (rc == 0)
        rc = html_escape(out, a->ns);
    if (rc == 0)
        rc = cm_buf_addc(out, '/');
    if (rc == 0)
        rc = html_escape(out, a->kind);
    if (rc == 0)
        rc = cm_buf_addc(out, '/');
    if (rc == 0)
        rc = html_escape(out, a->name);
    if (rc == 0)
        rc = cm_buf_addf(out,
                         "\"><td><span class=\"pill c-%s\" style=\"background:%s\">%s"
                         "</span></td>",
                         cname, class_colour[a->v.cls], class_title[a->v.cls]);
    if (rc == 0)
        rc = td(out, NULL, a->ns);
    if (rc == 0)
        rc = td(out, NULL, a->kind);
    if (rc == 0)
        rc = td(out, "name", a->name);
    if (rc == 0)
        rc = td(out, NULL, a->policy);
    if (rc == 0) {
        const char *g = a->guardrail == BACKUP_AUDIT_GR_FAIL   ? "fail"
                        : a->guardrail == BACKUP_AUDIT_GR_PASS ? "pass"
                                                               : "none";

        rc = cm_buf_addf(out, "<td title=\"");
        if (rc == 0)
            rc = html_escape(out, a->guardrail_detail);
        if (rc == 0)
            rc = cm_buf_addf(out, "\">%s</td>", g);
    }
    if (rc == 0)
        rc = td(out, "mono when",
                a->point[0] && a->point_time > 0 ? short_time(a->point_time, t, sizeof(t)) : "");
    if (rc == 0)
        rc = td(out, NULL,
                a->point[0] && a->v.age_s >= 0
                    ? backup_audit_age_format(a->v.age_s, age, sizeof(age))
                    : "");
    if (rc == 0) {
        if (!a->point[0])
            rc = td(out, NULL, "");
        else if (a->lock_mode == POLICY_LOCK_NONE)
            rc = td(out, "mono", "none");
        else
            rc = cm_buf_addf(out, "<td class=\"mono\">%s%s<br><small>until %s</small></td>",
                             backup_audit_lock_name(a->lock_mode), a->legal_hold ? " + hold" : "",
                             short_time(a->retain_until, t, sizeof(t)));
    }
    if (rc == 0)
        rc = td(out, NULL, !a->point[0] ? "" : a->verify == BACKUP_AUDIT_VERIFY_OK ? "yes" : "no");
    if (rc == 0) {
        unsigned b;

        (void)tmp;
        rc = cm_buf_adds(out, "<td class=\"issues\">");
        for (b = 0; b < BACKUP_AUDIT_ISSUE_COUNT_ && rc == 0; b++) {
            if (a->v.issues & (1u << b))
                rc = cm_buf_addf(out, "<span class=\"tag\">%s</span> ",
                                 backup_audit_issue_name(1u << b));
        }
        if (rc == 0 && a->v.issues == 0)
            rc = cm_buf_adds(out, "\xe2\x80\x94");
        if (rc == 0)
            rc = cm_buf_adds(out, "</td>");
    }
    if (rc == 0)
        rc = cm_buf_adds(out, "</tr>\n");
    return rc;
}

static int severity(enum backup_audit_class c)
{
    int i;

    for (i = 0; i < BACKUP_AUDIT_CLASS_COUNT_; i++) {
        if (legend_order[i] == c)
            return i;
    }
    return BACKUP_AUDIT_CLASS_COUNT_;
}

static int row_cmp(const void *pa, const void *pb)
{
    const struct backup_audit_app *a = *(const struct backup_audit_app *const *)pa;
    const struct backup_audit_app *b = *(const struct backup_audit_app *const *)pb;
    int c = severity(a->v.cls) - severity(b->v.cls);

    if (c == 0)
        c = strcmp(a->ns, b->ns);
    if (c == 0)
        c = strcmp(a->name, b->name);
    if (c == 0)
        c = strcmp(a->kind, b->kind);
    return c;
}

int backup_audit_render_html(const struct backup_audit_report *r, struct cm_buf *out)
{
    const struct backup_audit_app **rows = NULL;
    struct cm_buf tmp;
    size_t i;
    char t[32];
    bool ok = backup_audit_report_compliant(r);
    int rc;

    cm_buf_init(&tmp, 4096);
    rc = cm_buf_addf(out,
                     "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                     "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                     "'none'; style-src 'unsafe-inline'\">\n"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                     "<title>lockwarden compliance audit %s</title>\n%s</head>\n<body>\n<main>\n"
                     "<h1>lockwarden compliance audit<span id=\"verdict\" class=\"verdict %s\">"
                     "%s</span></h1>\n"
                     "<p class=\"sub\">Generated %s &middot; %zu Deployments and StatefulSets"
                     "</p>\n<section class=\"panel\">\n",
                     cm_time_format(backup_audit_report_now(r), t, sizeof(t)), css,
                     ok ? "ok" : "bad", ok ? "COMPLIANT" : "NOT COMPLIANT", t,
                     backup_audit_report_count(r));
    if (rc == 0)
        rc = render_chart(r, out);
    if (rc == 0)
        rc = render_legend(r, out);
    if (rc == 0)
        rc = cm_buf_adds(out, defs);
    if (rc == 0)
        rc = cm_buf_adds(out,
                         "</section>\n<table id=\"apps\">\n<thead><tr><th>Status</th>"
                         "<th>Namespace</th><th>Kind</th><th>Name</th><th>BackupPolicy</th>"
                         "<th>Guardrail</th><th>Latest restore point (UTC)</th><th>Age</th>"
                         "<th>Object Lock (UTC)</th><th>Verified</th><th>Issues</th></tr></thead>\n"
                         "<tbody>\n");
    if (rc == 0 && backup_audit_report_count(r) > 0) {
        rows = cm_malloc(backup_audit_report_count(r) * sizeof(*rows));
        if (rows == NULL)
            rc = CM_ENOMEM;
    }
    /* Worst first, so a reviewer reads the problems before the protected apps. */
    for (i = 0; i < backup_audit_report_count(r) && rc == 0; i++)
        rows[i] = backup_audit_report_get(r, i);
    if (rc == 0 && backup_audit_report_count(r) > 1)
        qsort(rows, backup_audit_report_count(r), sizeof(*rows), row_cmp);
    for (i = 0; i < backup_audit_report_count(r) && rc == 0; i++)
        rc = render_row(rows[i], out, &tmp);
    cm_free(rows);
    if (rc == 0)
        rc = cm_buf_addf(out,
                         "</tbody>\n</table>\n<footer>Lock mode and retain-until are read back "
                         "from the bucket; ages are measured at %s.</footer>\n"
                         "</main>\n</body>\n</html>\n",
                         t);
    cm_buf_free(&tmp);
    return rc;
}
