/* SPDX-License-Identifier: Apache-2.0 */
/* test_audit_render.c - unit tests of the audit renderers: every class in every format,
 * escaping of hostile strings (JSON, RFC 4180 CSV, HTML, terminal), caps and OOM. */
#include "backup/backup.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#define NOW ((time_t)1795343400) /* 2026-11-22T10:30:00Z */
#define H 3600

static const char hostile[] = "<script>alert(\"x\")</script>, 'q'\r\n=cmd|\x1b[2J";

struct fx {
    struct policy_cron hourly;
    struct backup_audit_report *r;
};

static void add(struct fx *fx, const char *ns, const char *name, enum backup_audit_class want)
{
    struct backup_audit_facts f;
    struct cm_err err;

    memset(&f, 0, sizeof(f));
    f.kind = "Deployment";
    f.ns = ns;
    f.name = name;
    f.guardrail = BACKUP_AUDIT_GR_PASS;
    f.policy = "gold";
    f.schedule = "0 * * * *";
    f.cron = &fx->hourly;
    f.lock_required = POLICY_LOCK_COMPLIANCE;
    f.point = "20261122T100000Z-0a0b0c0d";
    f.point_time = NOW - 30 * 60;
    f.point_complete = true;
    f.verify = BACKUP_AUDIT_VERIFY_OK;
    f.lock_mode = POLICY_LOCK_COMPLIANCE;
    f.retain_until = NOW + 30 * 86400;
    switch (want) {
    case BACKUP_AUDIT_UNPROTECTED:
        f.policy = NULL;
        f.point = NULL;
        f.guardrail = BACKUP_AUDIT_GR_FAIL;
        f.guardrail_detail = hostile;
        break;
    case BACKUP_AUDIT_STALE:
        f.kind = "StatefulSet";
        f.point_time = NOW - 26 * H;
        break;
    case BACKUP_AUDIT_NOT_IMMUTABLE:
        f.lock_mode = POLICY_LOCK_NONE;
        f.retain_until = 0;
        break;
    default:
        break;
    }
    assert_int_equal(backup_audit_report_add(fx->r, &f, &err), 0);
    assert_int_equal(backup_audit_report_get(fx->r, backup_audit_report_count(fx->r) - 1)->v.cls,
                     want);
}

static int setup(void **state)
{
    static struct fx fx;
    struct cm_err err;

    memset(&fx, 0, sizeof(fx));
    assert_int_equal(policy_cron_parse("0 * * * *", &fx.hourly, &err), 0);
    assert_int_equal(backup_audit_report_create(NOW, &fx.r), 0);
    add(&fx, "shop", "web", BACKUP_AUDIT_PROTECTED);
    add(&fx, "shop", "db", BACKUP_AUDIT_STALE);
    add(&fx, "legacy", "evil,\"name\"", BACKUP_AUDIT_UNPROTECTED);
    add(&fx, "batch", "cache", BACKUP_AUDIT_NOT_IMMUTABLE);
    backup_audit_report_sort(fx.r);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;

    backup_audit_report_destroy(fx->r);
    return 0;
}

static char *render(struct fx *fx, enum backup_audit_format f)
{
    struct cm_buf b;

    cm_buf_init(&b, 1 << 20);
    assert_int_equal(backup_audit_render(fx->r, f, &b), 0);
    return cm_buf_take(&b, NULL);
}

static void test_text(void **state)
{
    struct fx *fx = *state;
    char *s = render(fx, BACKUP_AUDIT_TEXT);

    assert_non_null(strstr(s, "lockwarden audit at 2026-11-22T10:30:00Z: 4 apps: 1 protected, "
                              "1 unprotected, 1 stale, 1 not-immutable: NOT COMPLIANT\n"));
    assert_non_null(strstr(s, "CLASS"));
    assert_non_null(strstr(s, "protected      shop"));
    assert_non_null(strstr(s, "stale          shop"));
    assert_non_null(strstr(s, "not-immutable  batch"));
    assert_non_null(strstr(s, "unprotected    legacy"));
    assert_non_null(strstr(s, "unbound,guardrail-failed,no-restore-point"));
    assert_non_null(strstr(s, "1d02h"));
    assert_null(strchr(s, '\x1b'));
    cm_free(s);
}

static void test_text_clean_controls(void **state)
{
    struct fx *fx = *state;
    struct backup_audit_report *r = NULL;
    struct backup_audit_facts f;
    struct cm_buf b;

    (void)fx;
    memset(&f, 0, sizeof(f));
    f.kind = "Deployment";
    f.ns = "x";
    f.name = "a\x1b]0;pwn\x07\xc2\x9b"
             "b";
    assert_int_equal(backup_audit_report_create(NOW, &r), 0);
    assert_int_equal(backup_audit_report_add(r, &f, NULL), 0);
    cm_buf_init(&b, 1 << 16);
    assert_int_equal(backup_audit_render(r, BACKUP_AUDIT_TEXT, &b), 0);
    assert_non_null(strstr(b.ptr, "a?]0;pwn??b"));
    cm_buf_free(&b);
    backup_audit_report_destroy(r);
}

static const cJSON *app_by_name(const cJSON *apps, const char *name)
{
    const cJSON *a;

    cJSON_ArrayForEach(a, apps)
    {
        if (strcmp(cJSON_GetObjectItemCaseSensitive(a, "name")->valuestring, name) == 0)
            return a;
    }
    fail_msg("app %s not in JSON", name);
    return NULL;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static void test_json(void **state)
{
    struct fx *fx = *state;
    char *s = render(fx, BACKUP_AUDIT_JSON);
    cJSON *j = cJSON_Parse(s);
    const cJSON *sum;
    const cJSON *apps;
    const cJSON *a;
    const cJSON *p;

    assert_non_null(j);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "compliant")));
    assert_string_equal(jstr(j, "generatedAt"), "2026-11-22T10:30:00Z");
    sum = cJSON_GetObjectItemCaseSensitive(j, "summary");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(sum, "total")->valueint, 4);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(sum, "protected")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(sum, "unprotected")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(sum, "stale")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(sum, "notImmutable")->valueint, 1);
    apps = cJSON_GetObjectItemCaseSensitive(j, "apps");
    assert_int_equal(cJSON_GetArraySize(apps), 4);
    assert_string_equal(jstr(app_by_name(apps, "web"), "class"), "protected");
    a = app_by_name(apps, "db");
    assert_string_equal(jstr(a, "class"), "stale");
    assert_string_equal(jstr(a, "kind"), "StatefulSet");
    assert_string_equal(jstr(a, "rpoBoundary"), "2026-11-22T09:00:00Z");
    assert_string_equal(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a, "issues"), 0)->valuestring, "stale");
    p = cJSON_GetObjectItemCaseSensitive(a, "latestRestorePoint");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(p, "ageSeconds")->valueint, 26 * H);
    assert_string_equal(jstr(p, "lockMode"), "COMPLIANCE");
    assert_string_equal(jstr(p, "retainUntil"), "2026-12-22T10:30:00Z");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "verified")));
    a = app_by_name(apps, "evil,\"name\"");
    assert_string_equal(jstr(a, "class"), "unprotected");
    assert_string_equal(jstr(a, "guardrailDetail"), hostile);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(a, "backupPolicy")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(a, "latestRestorePoint")));
    a = app_by_name(apps, "cache");
    assert_string_equal(jstr(a, "class"), "not-immutable");
    assert_string_equal(jstr(a, "lockRequired"), "COMPLIANCE");
    p = cJSON_GetObjectItemCaseSensitive(a, "latestRestorePoint");
    assert_string_equal(jstr(p, "lockMode"), "NONE");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(p, "retainUntil")));
    cJSON_Delete(j);
    cm_free(s);
}

/* A strict RFC 4180 reader for the test: returns the fields of each record. */
struct csv_rec {
    char f[24][600];
    size_t n;
};

static size_t csv_parse(const char *s, struct csv_rec *recs, size_t max)
{
    size_t nrec = 0;

    while (*s != '\0' && nrec < max) {
        struct csv_rec *r = &recs[nrec++];

        r->n = 0;
        for (;;) {
            size_t k = 0;
            char *out = r->f[r->n++];

            if (*s == '"') {
                s++;
                for (;;) {
                    assert_true(*s != '\0');
                    if (s[0] == '"' && s[1] == '"') {
                        out[k++] = '"';
                        s += 2;
                    } else if (s[0] == '"') {
                        s++;
                        break;
                    } else {
                        out[k++] = *s++;
                    }
                }
            } else {
                while (*s != ',' && *s != '\r' && *s != '\0') {
                    assert_true(*s != '"' && *s != '\n'); /* bare quotes/LF are not RFC 4180 */
                    out[k++] = *s++;
                }
            }
            out[k] = '\0';
            if (*s == ',') {
                s++;
                continue;
            }
            assert_true(s[0] == '\r' && s[1] == '\n');
            s += 2;
            break;
        }
    }
    return nrec;
}

static const struct csv_rec *csv_find(const struct csv_rec *recs, size_t n, const char *name)
{
    size_t i;

    for (i = 1; i < n; i++) {
        if (strcmp(recs[i].f[2], name) == 0)
            return &recs[i];
    }
    fail_msg("no CSV row for %s", name);
    return NULL;
}

static void test_csv(void **state)
{
    struct fx *fx = *state;
    char *s = render(fx, BACKUP_AUDIT_CSV);
    struct csv_rec *recs = calloc(8, sizeof(*recs));
    size_t n = csv_parse(s, recs, 8);
    const struct csv_rec *r;

    assert_int_equal(n, 5);
    assert_int_equal(recs[0].n, 20);
    assert_string_equal(recs[0].f[0], "namespace");
    assert_string_equal(recs[0].f[3], "class");
    assert_string_equal(csv_find(recs, n, "web")->f[3], "protected");
    r = csv_find(recs, n, "db");
    assert_string_equal(r->f[3], "stale");
    assert_string_equal(r->f[13], "93600");
    assert_string_equal(csv_find(recs, n, "cache")->f[3], "not-immutable");
    assert_string_equal(csv_find(recs, n, "cache")->f[17], "NONE");
    r = csv_find(recs, n, "evil,\"name\"");
    assert_int_equal(r->n, 20);
    assert_string_equal(r->f[3], "unprotected");
    assert_string_equal(r->f[4], "unbound;guardrail-failed;no-restore-point");
    assert_string_equal(r->f[6], hostile); /* round-trips: quotes doubled, CRLF kept */
    free(recs);
    cm_free(s);
}

static void test_csv_formula_defused(void **state)
{
    struct backup_audit_report *r = NULL;
    struct backup_audit_facts f;
    struct cm_buf b;

    (void)state;
    memset(&f, 0, sizeof(f));
    f.kind = "Deployment";
    f.ns = "x";
    f.name = "=HYPERLINK(\"http://evil\")";
    f.guardrail_detail = "+1";
    assert_int_equal(backup_audit_report_create(NOW, &r), 0);
    assert_int_equal(backup_audit_report_add(r, &f, NULL), 0);
    cm_buf_init(&b, 1 << 16);
    assert_int_equal(backup_audit_render(r, BACKUP_AUDIT_CSV, &b), 0);
    assert_non_null(strstr(b.ptr, ",\"'=HYPERLINK(\"\"http://evil\"\")\","));
    assert_non_null(strstr(b.ptr, ",\"'+1\","));
    cm_buf_free(&b);
    backup_audit_report_destroy(r);
}

static size_t count(const char *s, const char *needle)
{
    size_t n = 0;

    while ((s = strstr(s, needle)) != NULL) {
        n++;
        s += strlen(needle);
    }
    return n;
}

static void test_html(void **state)
{
    struct fx *fx = *state;
    char *s = render(fx, BACKUP_AUDIT_HTML);

    assert_true(strncmp(s, "<!DOCTYPE html>", 15) == 0);
    assert_non_null(strstr(s, "<svg id=\"summary-chart\""));
    assert_non_null(strstr(s, "default-src 'none'"));
    /* One donut segment per non-empty class, one legend entry per class. */
    assert_int_equal(count(s, "<circle class=\"seg\""), 4);
    assert_int_equal(count(s, "<li data-class="), 4);
    assert_int_equal(count(s, "<tr class=\"app "), 4);
    assert_non_null(strstr(s, "data-class=\"stale\" data-app=\"shop/StatefulSet/db\""));
    assert_non_null(strstr(s, "data-class=\"protected\" data-app=\"shop/Deployment/web\""));
    assert_non_null(strstr(s, "data-class=\"not-immutable\" data-app=\"batch/Deployment/cache\""));
    assert_non_null(strstr(
        s, "data-class=\"unprotected\" data-app=\"legacy/Deployment/evil,&quot;name&quot;\""));
    assert_non_null(strstr(s, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;, &#39;q&#39;"));
    assert_non_null(strstr(s, "NOT COMPLIANT"));
    /* Nothing executable and nothing fetched. */
    assert_null(strstr(s, "<script"));
    assert_null(strstr(s, "http://"));
    assert_null(strstr(s, "https://"));
    assert_null(strstr(s, "url("));
    assert_null(strstr(s, "@import"));
    assert_null(strchr(s, '\x1b'));
    cm_free(s);
}

static void test_html_empty_and_compliant(void **state)
{
    struct backup_audit_report *r = NULL;
    struct cm_buf b;

    (void)state;
    assert_int_equal(backup_audit_report_create(NOW, &r), 0);
    cm_buf_init(&b, 1 << 16);
    assert_int_equal(backup_audit_render(r, BACKUP_AUDIT_HTML, &b), 0);
    assert_non_null(strstr(b.ptr, ">COMPLIANT<"));
    assert_int_equal(count(b.ptr, "<circle class=\"seg\""), 0);
    cm_buf_reset(&b);
    assert_int_equal(backup_audit_render(r, BACKUP_AUDIT_JSON, &b), 0);
    assert_non_null(strstr(b.ptr, "\"compliant\":true"));
    assert_non_null(strstr(b.ptr, "\"apps\":[]"));
    cm_buf_reset(&b);
    assert_int_equal(backup_audit_render(r, BACKUP_AUDIT_TEXT, &b), 0);
    assert_non_null(strstr(b.ptr, "0 apps"));
    cm_buf_free(&b);
    backup_audit_report_destroy(r);
}

static void test_cap_and_bad_format(void **state)
{
    struct fx *fx = *state;
    enum backup_audit_format f;

    for (f = BACKUP_AUDIT_TEXT; f <= BACKUP_AUDIT_HTML; f++) {
        struct cm_buf b;

        cm_buf_init(&b, 64);
        assert_int_equal(backup_audit_render(fx->r, f, &b), CM_ETOOBIG);
        assert_null(b.ptr);
        assert_int_equal(b.len, 0);
    }
    {
        struct cm_buf b;

        cm_buf_init(&b, 64);
        assert_int_equal(backup_audit_render(fx->r, (enum backup_audit_format)42, &b), CM_EINVAL);
    }
}

static void test_oom_every_format(void **state)
{
    struct fx *fx = *state;
    enum backup_audit_format f;

    for (f = BACKUP_AUDIT_TEXT; f <= BACKUP_AUDIT_HTML; f++) {
        long n;

        for (n = 1;; n++) {
            struct cm_buf b;
            int rc;

            cm_buf_init(&b, 1 << 20);
            cm_alloc_fault_set(n);
            rc = backup_audit_render(fx->r, f, &b);
            cm_alloc_fault_set(0);
            if (rc == 0) {
                cm_buf_free(&b);
                break;
            }
            assert_int_equal(rc, CM_ENOMEM);
            assert_null(b.ptr);
        }
    }
}

static void test_age_format(void **state)
{
    char b[32];

    (void)state;
    assert_string_equal(backup_audit_age_format(-1, b, sizeof(b)), "-");
    assert_string_equal(backup_audit_age_format(59, b, sizeof(b)), "59s");
    assert_string_equal(backup_audit_age_format(60, b, sizeof(b)), "1m");
    assert_string_equal(backup_audit_age_format(3599, b, sizeof(b)), "59m");
    assert_string_equal(backup_audit_age_format(3600 + 5 * 60, b, sizeof(b)), "1h05m");
    assert_string_equal(backup_audit_age_format(86400 * 2 + 3600 * 4, b, sizeof(b)), "2d04h");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_text, setup, teardown),
        cmocka_unit_test(test_text_clean_controls),
        cmocka_unit_test_setup_teardown(test_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv, setup, teardown),
        cmocka_unit_test(test_csv_formula_defused),
        cmocka_unit_test_setup_teardown(test_html, setup, teardown),
        cmocka_unit_test(test_html_empty_and_compliant),
        cmocka_unit_test_setup_teardown(test_cap_and_bad_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oom_every_format, setup, teardown),
        cmocka_unit_test(test_age_format),
    };

    policy_json_hooks_install();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
