/* SPDX-License-Identifier: Apache-2.0 */
/* test_backup_rp.c - restore-point ids, namespaces and S3 key layout. */
#include "backup/backup.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static void test_id_format_parse(void **state)
{
    const unsigned char rnd[4] = {0x1a, 0x2b, 0x3c, 0x4d};
    char id[BACKUP_ID_LEN + 1];
    time_t t = cm_time_from_utc(2026, 11, 22, 9, 30, 5);
    time_t back = 0;

    (void)state;
    assert_int_equal(backup_rp_id_format(t, rnd, id, sizeof(id)), 0);
    assert_string_equal(id, "20261122T093005Z-1a2b3c4d");
    assert_int_equal(backup_rp_id_parse(id, strlen(id), &back), 0);
    assert_int_equal((long long)back, (long long)t);
    /* buffer exactly BACKUP_ID_LEN + 1 works, one less fails */
    assert_int_equal(backup_rp_id_format(t, rnd, id, BACKUP_ID_LEN), CM_EINVAL);
    assert_int_equal(backup_rp_id_format(-1, rnd, id, sizeof(id)), CM_EINVAL);
}

static void test_id_new_unique(void **state)
{
    char a[BACKUP_ID_LEN + 1], b[BACKUP_ID_LEN + 1];

    (void)state;
    assert_int_equal(backup_rp_id_new(1000000000, a, sizeof(a)), 0);
    assert_int_equal(backup_rp_id_new(1000000000, b, sizeof(b)), 0);
    assert_memory_equal(a, b, 17);
    /* 32 random bits: two equal ids in a row would be a broken RNG */
    assert_string_not_equal(a, b);
}

static void test_id_parse_rejects(void **state)
{
    static const char *bad[] = {
        "",
        "20261122T093005Z-1a2b3c4",   /* short */
        "20261122T093005Z-1a2b3c4d0", /* long */
        "20261122T093005Z-1A2B3C4D",  /* upper hex */
        "20261122X093005Z-1a2b3c4d",
        "20261122T093005Z_1a2b3c4d",
        "20261322T093005Z-1a2b3c4d", /* month 13 */
        "20260230T093005Z-1a2b3c4d", /* Feb 30 */
        "20250229T093005Z-1a2b3c4d", /* not a leap year */
        "20261122T243005Z-1a2b3c4d",
        "20261122T096005Z-1a2b3c4d",
        "19691231T235959Z-1a2b3c4d",
        "2026112xT093005Z-1a2b3c4d",
    };
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(bad); i++)
        assert_int_equal(backup_rp_id_parse(bad[i], strlen(bad[i]), NULL), CM_EPARSE);
    assert_int_equal(backup_rp_id_parse("20240229T000000Z-00000000", 25, NULL), 0);
    assert_int_equal(backup_rp_id_parse(NULL, 0, NULL), CM_EPARSE);
}

static void test_ns_valid(void **state)
{
    char n63[64], n64[65];

    (void)state;
    memset(n63, 'a', 63);
    n63[63] = '\0';
    memset(n64, 'a', 64);
    n64[64] = '\0';
    assert_true(backup_ns_valid("shop", 4));
    assert_true(backup_ns_valid("a-b-1", 5));
    assert_true(backup_ns_valid(n63, 63));
    assert_false(backup_ns_valid(n64, 64));
    assert_false(backup_ns_valid("", 0));
    assert_false(backup_ns_valid("-a", 2));
    assert_false(backup_ns_valid("a-", 2));
    assert_false(backup_ns_valid("A", 1));
    assert_false(backup_ns_valid("a/b", 3));
    assert_false(backup_ns_valid("a.b", 3));
}

static void test_keys(void **state)
{
    char k[BACKUP_KEY_MAX + 1];
    struct cm_err err;
    const char *id = "20261122T093005Z-1a2b3c4d";

    (void)state;
    assert_int_equal(backup_rp_key("backups/prod", "shop", id, "manifest.json", k, sizeof(k), &err),
                     0);
    assert_string_equal(k, "backups/prod/shop/20261122T093005Z-1a2b3c4d/manifest.json");
    assert_int_equal(backup_rp_key("", "shop", id, NULL, k, sizeof(k), &err), 0);
    assert_string_equal(k, "shop/20261122T093005Z-1a2b3c4d/");
    assert_int_equal(
        backup_rp_key(NULL, "shop", id, "locks/20261122T093005Z.json", k, sizeof(k), &err), 0);
    assert_string_equal(k, "shop/20261122T093005Z-1a2b3c4d/locks/20261122T093005Z.json");
    assert_int_equal(backup_rp_key("p", "Shop", id, NULL, k, sizeof(k), &err), CM_EINVAL);
    assert_non_null(strstr(err.msg, "namespace"));
    assert_int_equal(backup_rp_key("p", "shop", "bogus", NULL, k, sizeof(k), &err), CM_EINVAL);
    assert_int_equal(backup_rp_key("p", "shop", id, "../x", k, sizeof(k), &err), CM_EINVAL);
    assert_int_equal(backup_rp_key("p", "shop", id, "/x", k, sizeof(k), &err), CM_EINVAL);
    assert_int_equal(backup_rp_key("p", "shop", id, "a b", k, sizeof(k), &err), CM_EINVAL);
    /* exact fit vs one byte short */
    assert_int_equal(backup_rp_key("p", "shop", id, "m", k, 35, &err), 0);
    assert_string_equal(k, "p/shop/20261122T093005Z-1a2b3c4d/m");
    assert_int_equal(backup_rp_key("p", "shop", id, "m", k, 35 - 1, &err), CM_ETOOBIG);
}

static void test_sha256_hex(void **state)
{
    char hex[65];

    (void)state;
    backup_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    backup_sha256_hex(NULL, 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_archive_kinds(void **state)
{
    int i;

    (void)state;
    for (i = 0; i < BACKUP_ARCHIVE_KINDS; i++)
        assert_int_equal(backup_archive_kind_find(backup_archive_kinds[i].name), i);
    i = backup_archive_kind_find("resources.tar.zst.enc");
    assert_true(i >= 0);
    assert_true(backup_archive_kinds[i].encrypted);
    assert_string_equal(backup_archive_kinds[i].format, "tar+zstd");
    i = backup_archive_kind_find("resources.tar.gz");
    assert_false(backup_archive_kinds[i].encrypted);
    assert_string_equal(backup_archive_kinds[i].format, "tar+gzip");
    assert_int_equal(backup_archive_kind_find("resources.tar"), -1);
    assert_int_equal(backup_archive_kind_find(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_format_parse),
        cmocka_unit_test(test_id_new_unique),
        cmocka_unit_test(test_id_parse_rejects),
        cmocka_unit_test(test_ns_valid),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_sha256_hex),
        cmocka_unit_test(test_archive_kinds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
