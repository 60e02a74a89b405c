/* SPDX-License-Identifier: Apache-2.0 */
/* test_backup_crypt.c - the archive encryption key: parsing (raw, hex, base64, and
 * what is refused), its id, loading from a file and wiping. The AES-256-GCM framing is
 * tested through the archive in test_backup_archive.c. */
#include "backup/backup.h"
#include "tests/support/archive_testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static void test_keys(void **state)
{
    struct backup_key k, k2, k3;
    struct cm_err err;
    unsigned char raw[32];
    char *b64;
    char path[] = "build-tmp-keyXXXXXX";
    char hex[65];
    int fd;
    size_t i;

    (void)state;
    for (i = 0; i < 32; i++)
        raw[i] = (unsigned char)i;
    assert_int_equal(backup_key_parse(raw, 32, &k, &err), 0);
    assert_memory_equal(k.k, raw, 32);
    assert_int_equal(strlen(k.id), 23);
    assert_memory_equal(k.id, "sha256:", 7);
    /* the id is SHA-256(key)[:16 hex] */
    backup_sha256_hex(raw, 32, hex);
    assert_memory_equal(k.id + 7, hex, 16);
    k2 = at_test_key();
    assert_memory_equal(k2.k, raw, 32);
    b64 = cm_base64_encode(raw, 32, NULL);
    assert_non_null(b64);
    assert_int_equal(backup_key_parse(b64, strlen(b64), &k3, &err), 0);
    assert_memory_equal(k3.k, raw, 32);
    cm_free(b64);
    assert_int_equal(backup_key_parse("abcd", 4, &k3, &err), CM_EINVAL);
    assert_int_equal(backup_key_parse(raw, 31, &k3, &err), CM_EINVAL);
    assert_int_equal(
        backup_key_parse("zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 64,
                         &k3, &err),
        CM_EINVAL);
    /* file with a trailing newline */
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(
        write(fd, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", 65), 65);
    close(fd);
    assert_int_equal(backup_key_load_file(path, &k3, &err), 0);
    assert_memory_equal(k3.k, raw, 32);
    unlink(path);
    assert_int_equal(backup_key_load_file(path, &k3, &err), CM_ENOENT);
    backup_key_wipe(&k);
    for (i = 0; i < 32; i++)
        assert_int_equal(k.k[i], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
