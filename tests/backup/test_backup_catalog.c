/* SPDX-License-Identifier: Apache-2.0 */
/* test_backup_catalog.c - the catalog (grouping a bucket's versions into restore
 * points, partial vs complete, foreign keys, manifest details) and prune's order of
 * deletion and lock handling, against scripted S3 answers (the fault transport). */
#include "backup/backup.h"
#include "backup/s3/s3.h"
#include "policy/policy.h"
#include "tests/support/backup_env.h"
#include "tests/support/s3_fault.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID1 "20261120T010000Z-00000001"
#define ID2 "20261121T010000Z-00000002"
#define ID3 "20261122T010000Z-00000003"
#define HEX "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static int setup(void **state)
{
    static const char yaml[] =
        "apiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\nmetadata:\n  name: zeropolicy\n"
        "spec:\n  schedule: \"@daily\"\n  retention:\n    daily: 0\n  objectLock:\n"
        "    mode: GOVERNANCE\n    days: 1\n  location:\n    region: us-east-1\n"
        "    bucket: b-test\n    prefix: p\n";
    struct bte_fault_env *e = bte_fault_env_new(yaml, sizeof(yaml) - 1);

    if (e == NULL)
        return -1;
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    bte_fault_env_free(*state);
    return 0;
}

static void push(struct bte_fault_env *e, long status, const char *headers, const char *body)
{
    assert_int_equal(bte_fault_push(e, status, headers, body), 0);
}

static void version(struct cm_buf *b, const char *key, const char *vid, bool marker, unsigned size)
{
    assert_int_equal(cm_buf_addf(b,
                                 "<%s><Key>%s</Key><VersionId>%s</VersionId><IsLatest>true"
                                 "</IsLatest><LastModified>2026-11-22T01:00:00.000Z</LastModified>"
                                 "%s<Size>%u</Size></%s>",
                                 marker ? "DeleteMarker" : "Version", key, vid,
                                 marker ? "" : "<ETag>\"e\"</ETag>", size,
                                 marker ? "DeleteMarker" : "Version"),
                     0);
}

static void push_listing(struct bte_fault_env *e)
{
    struct cm_buf b;

    cm_buf_init(&b, 1 << 20);
    assert_int_equal(cm_buf_adds(&b, "<?xml version=\"1.0\"?><ListVersionsResult><Name>b-test"
                                     "</Name><IsTruncated>false</IsTruncated>"),
                     0);
    version(&b, "p/Bad_NS/" ID1 "/manifest.json", "x0", false, 1);
    version(&b, "p/other/not-an-id/manifest.json", "x1", false, 1);
    version(&b, "p/shop/" ID1 "/manifest.json", "m1", false, 700);
    version(&b, "p/shop/" ID1 "/resources.tar.gz", "a1", false, 5000);
    version(&b, "p/shop/" ID2 "/resources.tar.gz", "a2", false, 4000);
    version(&b, "p/shop/" ID3 "/manifest.json", "d3", true, 0);
    version(&b, "p/shop/" ID3 "/resources.tar.gz", "a3", false, 3000);
    version(&b, "q/shop/" ID1 "/manifest.json", "x2", false, 1);
    assert_int_equal(cm_buf_adds(&b, "</ListVersionsResult>"), 0);
    push(e, 200, NULL, b.ptr);
    cm_buf_free(&b);
}

static char *manifest_json(const char *id, const char *policy)
{
    struct backup_manifest *m = NULL;
    struct cm_buf b;

    assert_int_equal(backup_manifest_create(id, "shop", policy, &m), 0);
    memcpy(m->archive_sha256, HEX, 65);
    memcpy(m->lock_mode, "GOVERNANCE", 11);
    m->retain_until = cm_time_from_utc(2026, 11, 21, 1, 0, 0);
    m->completed_at = m->created_at;
    cm_buf_init(&b, 1 << 20);
    assert_int_equal(backup_manifest_format(m, &b), 0);
    backup_manifest_destroy(m);
    return cm_buf_take(&b, NULL);
}

static void test_grouping(void **state)
{
    struct bte_fault_env *e = *state;
    struct backup_catalog *c = NULL;
    const struct backup_rp_info *p;
    struct cm_err err;
    struct cm_buf j;

    push_listing(e);
    assert_int_equal(backup_catalog_list(e->s3, "p", NULL, false, &c, &err), 0);
    assert_int_equal(backup_catalog_count(c), 3);
    p = backup_catalog_get(c, 0);
    assert_string_equal(p->id, ID1);
    assert_true(p->complete);
    assert_int_equal(p->bytes, 5700);
    assert_int_equal(p->n_objects, 2);
    assert_int_equal((long long)p->created, (long long)cm_time_from_utc(2026, 11, 20, 1, 0, 0));
    p = backup_catalog_get(c, 1);
    assert_string_equal(p->id, ID2);
    assert_false(p->complete);
    p = backup_catalog_get(c, 2);
    assert_false(p->complete); /* a delete marker hides nothing lockwarden wrote */
    assert_int_equal(p->n_objects, 2);
    assert_int_equal(p->bytes, 3000);
    assert_ptr_equal(backup_catalog_find(c, "shop", ID2), backup_catalog_get(c, 1));
    assert_null(backup_catalog_find(c, "shop", "x"));
    cm_buf_init(&j, 1 << 20);
    assert_int_equal(backup_catalog_format_json(c, &j), 0);
    assert_non_null(strstr(j.ptr, "\"id\":\"" ID2 "\",\"createdAt\":\"2026-11-21T01:00:00Z\","
                                  "\"status\":\"partial\""));
    cm_buf_free(&j);
    backup_catalog_destroy(c);
    /* the request asked for the prefix */
    assert_non_null(strstr(s3_fault_get(e->f, 0)->url, "prefix=p%2F"));
    assert_int_equal(backup_catalog_list(e->s3, "p", "Bad_NS", false, &c, &err), CM_EINVAL);
}

static void test_details(void **state)
{
    struct bte_fault_env *e = *state;
    struct backup_catalog *c = NULL;
    const struct backup_rp_info *p;
    struct cm_err err;
    char *mj = manifest_json(ID1, "zeropolicy");

    push_listing(e);
    push(e, 200, NULL, mj);
    assert_int_equal(backup_catalog_list(e->s3, "p", "shop", true, &c, &err), 0);
    p = backup_catalog_get(c, 0);
    assert_true(p->has_details);
    assert_string_equal(p->policy, "zeropolicy");
    assert_string_equal(p->lock_mode, "GOVERNANCE");
    assert_string_equal(p->problem, "");
    /* the manifest was read at the version the listing named */
    assert_non_null(strstr(s3_fault_get(e->f, 1)->url, "versionId=m1"));
    backup_catalog_destroy(c);
    cm_free(mj);
    /* a manifest naming another point is a problem, not a failure */
    mj = manifest_json(ID2, "zeropolicy");
    push_listing(e);
    push(e, 200, NULL, mj);
    assert_int_equal(backup_catalog_list(e->s3, "p", "shop", true, &c, &err), 0);
    assert_non_null(strstr(backup_catalog_get(c, 0)->problem, "not the key's restore point"));
    backup_catalog_destroy(c);
    cm_free(mj);
    /* unparsable manifest */
    push_listing(e);
    push(e, 200, NULL, "{\"format\":1}");
    assert_int_equal(backup_catalog_list(e->s3, "p", "shop", true, &c, &err), 0);
    assert_non_null(strstr(backup_catalog_get(c, 0)->problem, "format"));
    backup_catalog_destroy(c);
}

/* Only ID1 is complete; with zero counts and expired locks every point expires. The
 * manifest goes first; a refusal there keeps the archive. */
static void run_prune(struct bte_fault_env *e, bool refuse_manifest, struct backup_prune_report *r)
{
    struct backup_prune_opts o;
    struct cm_err err;
    char *mj = manifest_json(ID1, "zeropolicy");
    const char *unlocked = "x-amz-object-lock-mode: GOVERNANCE\n"
                           "x-amz-object-lock-retain-until-date: 2020-01-01T00:00:00Z\n"
                           "Content-Length: 10\n";

    push_listing(e);
    push(e, 200, NULL, mj);
    /* HEADs: ID1 manifest, ID1 archive, ID2 archive, ID3 archive */
    push(e, 200, unlocked, NULL);
    push(e, 200, unlocked, NULL);
    push(e, 200, unlocked, NULL);
    push(e, 200, unlocked, NULL);
    if (refuse_manifest)
        push(e, 403, NULL, "<Error><Code>AccessDenied</Code><Message>retained</Message></Error>");
    memset(&o, 0, sizeof(o));
    o.s3 = e->s3;
    o.prefix = "p";
    o.namespace_ = "shop";
    o.lookup = backup_policy_lookup;
    o.lookup_ctx = e->ps;
    o.now = cm_time_from_utc(2026, 11, 30, 0, 0, 0);
    assert_int_equal(backup_prune_run(&o, r, &err), 0);
    cm_free(mj);
}

static size_t count_deletes(struct bte_fault_env *e, const char *needle)
{
    size_t i, n = 0;

    for (i = 0; i < s3_fault_count(e->f); i++) {
        const struct s3_fault_rec *rec = s3_fault_get(e->f, i);

        n += strcmp(rec->method, "DELETE") == 0 && strstr(rec->url, needle) != NULL;
    }
    return n;
}

static void test_prune_refused_manifest_keeps_archive(void **state)
{
    struct bte_fault_env *e = *state;
    struct backup_prune_report r;
    size_t i, first_delete = SIZE_MAX;

    run_prune(e, true, &r);
    assert_int_equal(r.n_items, 3);
    assert_string_equal(r.items[0].id, ID1);
    assert_int_equal(r.items[0].decision.action, BACKUP_GFS_EXPIRE);
    assert_true(r.items[0].retained_by_lock);
    assert_false(r.items[0].done);
    assert_int_equal(r.errors, 0);
    /* ID1: the manifest delete was refused, so its archive was never touched */
    assert_int_equal(count_deletes(e, ID1 "/resources.tar.gz"), 0);
    for (i = 0; i < s3_fault_count(e->f); i++)
        if (strcmp(s3_fault_get(e->f, i)->method, "DELETE") == 0 && first_delete == SIZE_MAX)
            first_delete = i;
    assert_non_null(strstr(s3_fault_get(e->f, first_delete)->url, ID1 "/manifest.json"));
    /* partial points past the grace are deleted */
    assert_int_equal(r.deleted, 2);
    assert_int_equal(count_deletes(e, ID2 "/resources.tar.gz"), 1);
    assert_int_equal(count_deletes(e, ID3 "/manifest.json"), 1); /* the marker too */
    backup_prune_report_cleanup(&r);
}

static void test_prune_deletes_manifest_first(void **state)
{
    struct bte_fault_env *e = *state;
    struct backup_prune_report r;
    size_t i, m = SIZE_MAX, a = SIZE_MAX;

    run_prune(e, false, &r);
    assert_int_equal(r.deleted, 3);
    assert_true(r.items[0].done);
    for (i = 0; i < s3_fault_count(e->f); i++) {
        const struct s3_fault_rec *rec = s3_fault_get(e->f, i);

        if (strcmp(rec->method, "DELETE") != 0)
            continue;
        if (strstr(rec->url, ID1 "/manifest.json") && strstr(rec->url, "versionId=m1"))
            m = i;
        if (strstr(rec->url, ID1 "/resources.tar.gz") && strstr(rec->url, "versionId=a1"))
            a = i;
    }
    assert_true(m != SIZE_MAX && a != SIZE_MAX && m < a);
    backup_prune_report_cleanup(&r);
}

static void test_prune_unknown_policy_left_alone(void **state)
{
    struct bte_fault_env *e = *state;
    struct backup_prune_opts o;
    struct backup_prune_report r;
    struct cm_err err;
    char *mj = manifest_json(ID1, "nosuchpolicy");

    push_listing(e);
    push(e, 200, NULL, mj);
    memset(&o, 0, sizeof(o));
    o.s3 = e->s3;
    o.prefix = "p";
    o.lookup = backup_policy_lookup;
    o.lookup_ctx = e->ps;
    assert_int_equal(backup_prune_run(&o, &r, &err), 0);
    assert_int_equal(r.n_items, 0);
    assert_int_equal(count_deletes(e, ""), 0);
    backup_prune_report_cleanup(&r);
    cm_free(mj);
}

static void test_catalog_oom(void **state)
{
    struct bte_fault_env *e = *state;
    struct backup_catalog *c = NULL;
    struct cm_err err;
    long n;
    int rc;

    for (n = 1;; n++) {
        push_listing(e);
        cm_alloc_fault_set(n);
        rc = backup_catalog_list(e->s3, "p", NULL, false, &c, &err);
        if (!cm_alloc_fault_fired()) {
            cm_alloc_fault_set(0);
            assert_int_equal(rc, 0);
            break;
        }
        cm_alloc_fault_set(0);
        assert_int_equal(rc, CM_ENOMEM);
        assert_null(c);
    }
    assert_int_equal(backup_catalog_count(c), 3);
    backup_catalog_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_grouping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_details, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_refused_manifest_keeps_archive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_deletes_manifest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_unknown_policy_left_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catalog_oom, setup, teardown),
    };

    policy_json_hooks_install();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
