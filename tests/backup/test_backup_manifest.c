/* SPDX-License-Identifier: Apache-2.0 */
/* test_backup_manifest.c - manifest.json writer and strict reader: round trip, every
 * rejection path, limits and the OOM loop. */
#include "backup/backup.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define ID "20261122T093000Z-1a2b3c4d"
#define HEX "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static void hooks(void)
{
    cJSON_Hooks h = {cm_malloc, cm_free};

    cJSON_InitHooks(&h);
}

static int build(struct backup_manifest **out)
{
    struct backup_manifest *m = NULL;
    const char *stripped[] = {"metadata.uid", "status"};
    struct backup_mf_resource r = {.api_version = "apps/v1",
                                   .kind = "Deployment",
                                   .resource = "deployments",
                                   .namespace_ = "shop",
                                   .name = "web",
                                   .path = "resources/apps/v1/deployments/web.json",
                                   .size = 42,
                                   .sha256 = HEX,
                                   .stripped = (char **)stripped,
                                   .n_stripped = 2};
    struct backup_mf_resource c = {.api_version = "v1",
                                   .kind = "PersistentVolume",
                                   .resource = "persistentvolumes",
                                   .namespace_ = "",
                                   .name = "pv-1",
                                   .path = "cluster/core/v1/persistentvolumes/pv-1.json",
                                   .size = 7,
                                   .sha256 = HEX};
    struct backup_mf_snapshot s = {.pvc = "data-db-0",
                                   .volume_snapshot = "lw-x-data-db-0",
                                   .volume_snapshot_class = "csi",
                                   .volume_snapshot_content = "sc-1",
                                   .restore_size = "1Gi",
                                   .storage_class = "standard",
                                   .volume_name = "pv-1"};
    int rc = backup_manifest_create(ID, "shop", "goldpolicy", &m);

    if (rc != 0)
        return rc;
    rc = backup_manifest_set_str(&m->tool_version, "0.1.0");
    if (rc == 0)
        rc = backup_manifest_add_resource(m, &r);
    if (rc == 0)
        rc = backup_manifest_add_resource(m, &c);
    if (rc == 0)
        rc = backup_manifest_add_snapshot(m, &s);
    if (rc != 0) {
        backup_manifest_destroy(m);
        return rc;
    }
    m->completed_at = m->created_at + 41;
    memcpy(m->lock_mode, "COMPLIANCE", 11);
    m->retain_until = m->created_at + 30 * 86400;
    m->archive_size = 12345;
    memcpy(m->archive_sha256, HEX, 65);
    *out = m;
    return 0;
}

static void test_roundtrip(void **state)
{
    struct backup_manifest *m = NULL;
    struct backup_manifest *p = NULL;
    struct cm_buf b;
    struct cm_err err;

    (void)state;
    cm_buf_init(&b, 1 << 20);
    assert_int_equal(build(&m), 0);
    assert_int_equal(backup_manifest_format(m, &b), 0);
    assert_non_null(strstr(b.ptr, "\"format\":\"lockwarden.io/restore-point/v1\""));
    assert_non_null(strstr(b.ptr, "\"retainUntil\":\"2026-12-22T09:30:00Z\""));
    assert_non_null(strstr(b.ptr, "\"encryption\":null"));
    assert_int_equal(backup_manifest_parse(b.ptr, b.len, &p, &err), 0);
    assert_string_equal(p->id, ID);
    assert_string_equal(p->namespace_, "shop");
    assert_string_equal(p->policy, "goldpolicy");
    assert_string_equal(p->tool_version, "0.1.0");
    assert_string_equal(p->lock_mode, "COMPLIANCE");
    assert_int_equal((long long)p->retain_until, (long long)m->retain_until);
    assert_int_equal((long long)p->completed_at, (long long)m->completed_at);
    assert_int_equal(p->archive_size, 12345);
    assert_int_equal(p->n_resources, 2);
    assert_string_equal(p->resources[0].path, "resources/apps/v1/deployments/web.json");
    assert_int_equal(p->resources[0].n_stripped, 2);
    assert_string_equal(p->resources[0].stripped[1], "status");
    assert_string_equal(p->resources[1].namespace_, "");
    assert_int_equal(p->n_snapshots, 1);
    assert_string_equal(p->snapshots[0].volume_snapshot_content, "sc-1");
    assert_ptr_equal(backup_manifest_find(p, "cluster/core/v1/persistentvolumes/pv-1.json"),
                     &p->resources[1]);
    assert_null(backup_manifest_find(p, "nope"));
    assert_string_equal(p->key_id, "");
    backup_manifest_destroy(p);
    backup_manifest_destroy(m);
    cm_buf_free(&b);
}

static void test_skipped_roundtrip(void **state)
{
    struct backup_manifest *m = NULL;
    struct backup_manifest *p = NULL;
    struct cm_buf b;
    struct cm_err err;

    (void)state;
    cm_buf_init(&b, 1 << 20);
    assert_int_equal(build(&m), 0);
    assert_int_equal(backup_manifest_add_skipped(m, "secrets"), 0);
    assert_int_equal(backup_manifest_add_skipped(m, "widgets.example.com"), 0);
    assert_int_equal(backup_manifest_add_skipped(m, ""), CM_EINVAL);
    assert_int_equal(backup_manifest_format(m, &b), 0);
    assert_non_null(strstr(b.ptr, "\"skipped\":[\"secrets\",\"widgets.example.com\"]"));
    assert_int_equal(backup_manifest_parse(b.ptr, b.len, &p, &err), 0);
    assert_int_equal(p->n_skipped, 2);
    assert_string_equal(p->skipped[1], "widgets.example.com");
    backup_manifest_destroy(p);
    backup_manifest_destroy(m);
    cm_buf_free(&b);
}

static void test_encrypted_roundtrip(void **state)
{
    struct backup_manifest *m = NULL;
    struct backup_manifest *p = NULL;
    struct cm_buf b;
    struct cm_err err;

    (void)state;
    cm_buf_init(&b, 1 << 20);
    assert_int_equal(build(&m), 0);
    memcpy(m->key_id, "sha256:0123456789abcdef", 24);
    assert_int_equal(backup_manifest_set_str(&m->archive_key, BACKUP_ARCHIVE_NAME_ENC), 0);
    memcpy(m->lock_mode, "NONE", 5);
    assert_int_equal(backup_manifest_format(m, &b), 0);
    assert_null(strstr(b.ptr, "retainUntil"));
    assert_int_equal(backup_manifest_parse(b.ptr, b.len, &p, &err), 0);
    assert_string_equal(p->key_id, "sha256:0123456789abcdef");
    assert_string_equal(p->archive_key, BACKUP_ARCHIVE_NAME_ENC);
    assert_int_equal((long long)p->retain_until, 0);
    backup_manifest_destroy(p);
    backup_manifest_destroy(m);
    cm_buf_free(&b);
}

/* Replaces the first occurrence of from with to in the formatted manifest and expects
 * parse to fail with code and a message containing what. */
static void expect_bad(const char *from, const char *to, int code, const char *what)
{
    struct backup_manifest *m = NULL;
    struct backup_manifest *p = NULL;
    struct cm_buf b, t;
    struct cm_err err;
    char *at;

    cm_buf_init(&b, 1 << 20);
    cm_buf_init(&t, 1 << 20);
    assert_int_equal(build(&m), 0);
    assert_int_equal(backup_manifest_format(m, &b), 0);
    at = strstr(b.ptr, from);
    if (at == NULL)
        fail_msg("fixture text not found: %s", from);
    assert_int_equal(cm_buf_add(&t, b.ptr, (size_t)(at - b.ptr)), 0);
    assert_int_equal(cm_buf_adds(&t, to), 0);
    assert_int_equal(cm_buf_adds(&t, at + strlen(from)), 0);
    memset(&err, 0, sizeof(err));
    assert_int_equal(backup_manifest_parse(t.ptr, t.len, &p, &err), code);
    assert_null(p);
    if (strstr(err.msg, what) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", err.msg, what);
    backup_manifest_destroy(m);
    cm_buf_free(&b);
    cm_buf_free(&t);
}

static void test_rejects(void **state)
{
    (void)state;
    expect_bad("restore-point/v1", "restore-point/v2", CM_EUNSUPPORTED, "format");
    expect_bad("\"id\":\"" ID, "\"id\":\"x", CM_EPARSE, "invalid id");
    expect_bad("\"namespace\":\"shop\",\"policy\"", "\"namespace\":\"Shop\",\"policy\"", CM_EPARSE,
               "namespace");
    expect_bad("\"policy\":\"goldpolicy\"", "\"policy\":7", CM_EPARSE, "policy");
    expect_bad("\"createdAt\":\"2026", "\"createdAt\":\"x2026", CM_EPARSE, "createdAt");
    /* fuzz regression: a year before 1970 parsed but could not be written back */
    expect_bad("\"completedAt\":\"2026", "\"completedAt\":\"0226", CM_EPARSE, "completedAt");
    expect_bad("\"mode\":\"COMPLIANCE\"", "\"mode\":\"STRICT\"", CM_EPARSE, "objectLock.mode");
    expect_bad("\"retainUntil\"", "\"retainX\"", CM_EPARSE, "retainUntil");
    expect_bad("\"key\":\"resources.tar.zst\"", "\"key\":\"../../etc\"", CM_EPARSE, "archive.key");
    expect_bad("\"format\":\"tar+zstd\"", "\"format\":\"zip\"", CM_EUNSUPPORTED, "zip");
    /* the format goes with the name: a gzip format on a zstd archive is refused */
    expect_bad("\"format\":\"tar+zstd\"", "\"format\":\"tar+gzip\"", CM_EPARSE,
               "tar+gzip with archive.key resources.tar.zst");
    expect_bad("\"key\":\"resources.tar.zst\"", "\"key\":\"resources.tar.gz\"", CM_EPARSE,
               "tar+zstd with archive.key resources.tar.gz");
    expect_bad("\"size\":12345", "\"size\":-1", CM_EPARSE, "size");
    expect_bad("\"size\":12345", "\"size\":1.5", CM_EPARSE, "size");
    expect_bad("\"size\":12345", "\"size\":9007199254740992", CM_EPARSE, "size");
    expect_bad("\"sha256\":\"ba78", "\"sha256\":\"BA78", CM_EPARSE, "sha256");
    expect_bad("\"encryption\":null",
               "\"encryption\":{\"algorithm\":\"AES-256-GCM\","
               "\"keyId\":\"sha256:0123456789abcdef\"}",
               CM_EPARSE, "plain archive");
    /* fuzz regression: a keyId with non-hex (here non-ASCII) bytes no longer round-trips */
    expect_bad("\"key\":\"resources.tar.zst\"", "\"key\":\"resources.tar.zst.enc\"", CM_EPARSE,
               "encrypted archive without encryption");
    expect_bad("\"encryption\":null", "\"encryption\":{\"algorithm\":\"ROT13\"}", CM_EUNSUPPORTED,
               "ROT13");
    expect_bad("\"path\":\"resources/apps", "\"path\":\"/resources/apps", CM_EPARSE, "unsafe");
    expect_bad("\"path\":\"resources/apps", "\"path\":\"../apps", CM_EPARSE, "unsafe");
    expect_bad("\"path\":\"cluster/core/v1/persistentvolumes/pv-1.json\"",
               "\"path\":\"resources/apps/v1/deployments/web.json\"", CM_EPARSE, "duplicate");
    expect_bad("\"namespace\":\"\",", "\"namespace\":\"other\",", CM_EPARSE, "not the app");
    expect_bad("\"size\":42", "\"size\":8388609", CM_ETOOBIG, "size over");
    expect_bad("\"stripped\":[\"metadata.uid\"", "\"stripped\":[7", CM_EPARSE, "stripped");
    /* fuzz regressions: malformed UTF-8 is escaped by the writer and grew past the limit */
    expect_bad("\"stripped\":[\"metadata.uid\"", "\"stripped\":[\"metadata.\xff\"", CM_EPARSE,
               "stripped");
    expect_bad("\"policy\":\"goldpolicy\"", "\"policy\":\"gold\xc0\xafpolicy\"", CM_EPARSE,
               "UTF-8");
    expect_bad("\"policy\":\"goldpolicy\"", "\"policy\":\"gold\xed\xa0\x80\"", CM_EPARSE, "UTF-8");
    expect_bad("\"resources\":[", "\"resources\":7,\"x\":[", CM_EPARSE, "resources");
    expect_bad("\"snapshots\":[{", "\"snapshots\":[7,{", CM_EPARSE, "snapshots[0]");
    expect_bad("\"pvc\":\"data-db-0\"", "\"pvc\":\"\"", CM_EPARSE, "empty pvc");
    expect_bad("{\"format\"", "[{\"format\"", CM_EPARSE, "JSON");
    expect_bad("\"skipped\":[", "\"skipped\":[7", CM_EPARSE, "skipped");
}

static void test_key_id_must_be_hex(void **state)
{
    struct backup_manifest *m = NULL;
    struct backup_manifest *p = NULL;
    struct cm_buf b;
    struct cm_err err;
    char *at;

    (void)state;
    cm_buf_init(&b, 1 << 20);
    assert_int_equal(build(&m), 0);
    memcpy(m->key_id, "sha256:0123456789abcdef", 24);
    assert_int_equal(backup_manifest_set_str(&m->archive_key, BACKUP_ARCHIVE_NAME_ENC), 0);
    assert_int_equal(backup_manifest_format(m, &b), 0);
    assert_int_equal(backup_manifest_parse(b.ptr, b.len, &p, &err), 0);
    backup_manifest_destroy(p);
    p = NULL;
    /* the fuzzer's case: four non-hex characters inside the id (\u00cf as UTF-8) */
    at = strstr(b.ptr, "sha256:0123");
    assert_non_null(at);
    memcpy(at + 8, "\xc3\x8f", 2);
    assert_int_equal(backup_manifest_parse(b.ptr, b.len, &p, &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "keyId"));
    assert_null(p);
    backup_manifest_destroy(m);
    cm_buf_free(&b);
}

static void test_limits(void **state)
{
    struct backup_manifest *m = NULL;
    struct backup_manifest *p = NULL;
    struct backup_mf_resource r;
    struct cm_buf b;
    struct cm_err err;
    char name[BACKUP_MAX_STRING + 2];
    char path[64];

    (void)state;
    assert_int_equal(build(&m), 0);
    memset(&r, 0, sizeof(r));
    memset(name, 'n', sizeof(name));
    name[BACKUP_MAX_STRING] = '\0';
    r = m->resources[0];
    r.name = name;
    r.path = "resources/x.json";
    assert_int_equal(backup_manifest_add_resource(m, &r), 0); /* exactly at the limit */
    name[BACKUP_MAX_STRING] = 'n';
    name[BACKUP_MAX_STRING + 1] = '\0';
    r.path = "resources/y.json";
    assert_int_equal(backup_manifest_add_resource(m, &r), CM_EINVAL); /* limit + 1 */
    assert_int_equal(m->n_resources, 3);
    cm_buf_init(&b, BACKUP_MANIFEST_MAX);
    assert_int_equal(backup_manifest_format(m, &b), 0);
    assert_int_equal(backup_manifest_parse(b.ptr, b.len, &p, &err), 0);
    backup_manifest_destroy(p);
    assert_int_equal(backup_manifest_parse(b.ptr, BACKUP_MANIFEST_MAX + 1u, &p, &err), CM_ETOOBIG);
    cm_buf_free(&b);
    /* resources count cap: fill to BACKUP_MAX_RESOURCES, one more fails */
    r.name = "x";
    while (m->n_resources < BACKUP_MAX_RESOURCES) {
        (void)snprintf(path, sizeof(path), "resources/%zu.json", m->n_resources);
        r.path = path;
        assert_int_equal(backup_manifest_add_resource(m, &r), 0);
    }
    r.path = "resources/over.json";
    assert_int_equal(backup_manifest_add_resource(m, &r), CM_ETOOBIG);
    backup_manifest_destroy(m);
}

static void test_format_incomplete(void **state)
{
    struct backup_manifest *m = NULL;
    struct cm_buf b;

    (void)state;
    cm_buf_init(&b, 1 << 20);
    assert_int_equal(backup_manifest_create(ID, "shop", "p", &m), 0);
    assert_int_equal(backup_manifest_format(m, &b), CM_EINVAL); /* no archive digest */
    /* a digest, but an archive name no reader knows */
    memset(m->archive_sha256, 'a', 64);
    m->archive_sha256[64] = '\0';
    assert_int_equal(backup_manifest_set_str(&m->archive_key, "resources.zip"), 0);
    assert_int_equal(backup_manifest_format(m, &b), CM_EINVAL);
    assert_int_equal(backup_manifest_set_str(&m->archive_key, BACKUP_ARCHIVE_NAME_GZ_ENC), 0);
    assert_int_equal(backup_manifest_format(m, &b), 0);
    assert_non_null(strstr(b.ptr, "\"format\":\"tar+gzip\""));
    backup_manifest_destroy(m);
    assert_int_equal(backup_manifest_create("bad", "shop", "p", &m), CM_EINVAL);
    assert_int_equal(backup_manifest_create(ID, "-shop", "p", &m), CM_EINVAL);
    backup_manifest_destroy(NULL);
    cm_buf_free(&b);
}

static void test_oom(void **state)
{
    struct backup_manifest *m = NULL;
    struct backup_manifest *p = NULL;
    struct cm_buf b;
    struct cm_err err;
    long n;
    int rc;

    (void)state;
    cm_buf_init(&b, 1 << 20);
    assert_int_equal(build(&m), 0);
    assert_int_equal(backup_manifest_format(m, &b), 0);
    backup_manifest_destroy(m);
    for (n = 1;; n++) {
        cm_alloc_fault_set(n);
        rc = backup_manifest_parse(b.ptr, b.len, &p, &err);
        if (!cm_alloc_fault_fired()) {
            cm_alloc_fault_set(0);
            assert_int_equal(rc, 0);
            break;
        }
        cm_alloc_fault_set(0);
        assert_int_equal(rc, CM_ENOMEM);
        assert_null(p);
    }
    backup_manifest_destroy(p);
    for (n = 1;; n++) {
        m = NULL;
        cm_alloc_fault_set(n);
        rc = build(&m);
        if (!cm_alloc_fault_fired()) {
            cm_alloc_fault_set(0);
            assert_int_equal(rc, 0);
            break;
        }
        cm_alloc_fault_set(0);
        assert_int_equal(rc, CM_ENOMEM);
    }
    backup_manifest_destroy(m);
    cm_buf_free(&b);
}

static void test_fixtures(void **state)
{
    /* The checked-in examples in tests/fixtures/backup parse: today's (zstd) and one
     * written before the switch to zstd (gzip), which stays readable and formats back
     * with its own format. */
    static const struct {
        const char *file;
        const char *key;
        const char *format;
    } fx[] = {
        {"tests/fixtures/backup/manifest-v1.json", BACKUP_ARCHIVE_NAME, "\"tar+zstd\""},
        {"tests/fixtures/backup/manifest-v1-gzip.json", BACKUP_ARCHIVE_NAME_GZ, "\"tar+gzip\""},
    };
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(fx); i++) {
        char *buf = NULL;
        size_t len = 0;
        struct cm_err err;
        struct backup_manifest *p = NULL;
        struct cm_buf b;

        assert_int_equal(cm_fs_read_file(fx[i].file, 1 << 20, &buf, &len, &err), 0);
        assert_int_equal(backup_manifest_parse(buf, len, &p, &err), 0);
        assert_true(p->n_resources >= 1);
        assert_string_equal(p->archive_key, fx[i].key);
        cm_buf_init(&b, 1 << 20);
        assert_int_equal(backup_manifest_format(p, &b), 0);
        assert_non_null(strstr(b.ptr, fx[i].format));
        cm_buf_free(&b);
        backup_manifest_destroy(p);
        cm_free(buf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_skipped_roundtrip),
        cmocka_unit_test(test_encrypted_roundtrip),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_key_id_must_be_hex),
        cmocka_unit_test(test_format_incomplete),
        cmocka_unit_test(test_oom),
        cmocka_unit_test(test_fixtures),
    };

    hooks();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
