/* SPDX-License-Identifier: Apache-2.0 */
/* test_backup_archive.c - the streaming tar+gzip(+AES-256-GCM) writer and push reader:
 * round trips in every chunking, long pax paths, tampering, truncation, wrong keys,
 * limits, keys and OOM. */
#include "backup/backup.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

struct sink {
    struct cm_buf b;
    int fail_at; /* fail the n-th call (1-based), 0 = never */
    int calls;
};

static int mem_sink(void *ctx, const void *p, size_t n, struct cm_err *err)
{
    struct sink *s = ctx;

    if (++s->calls == s->fail_at)
        return cm_err_set(err, CM_EIO, "sink refused");
    return cm_buf_add(&s->b, p, n);
}

/* Incompressible bytes (xorshift), so that outputs span several frames and chunks. */
static void fill_random(unsigned char *p, size_t n)
{
    uint32_t x = 2463534242u;
    size_t i;

    for (i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)x;
    }
}

struct got {
    int n;
    char paths[8][300];
    char sha[8][65];
    size_t sizes[8];
};

static int on_entry(void *ctx, const char *path, const void *data, size_t n, struct cm_err *err)
{
    struct got *g = ctx;

    (void)err;
    if (g->n < 8) {
        (void)snprintf(g->paths[g->n], sizeof(g->paths[0]), "%s", path);
        backup_sha256_hex(data, n, g->sha[g->n]);
        g->sizes[g->n] = n;
    }
    g->n++;
    return 0;
}

static struct backup_key test_key(void)
{
    struct backup_key k;
    struct cm_err err;

    assert_int_equal(
        backup_key_parse("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 64, &k,
                         &err),
        0);
    return k;
}

/* Writes three entries (one with a 150-byte path, one empty, one 200 KB) and returns
 * the stored bytes in s. */
static void write_sample(struct sink *s, const struct backup_key *key, unsigned char **big)
{
    struct backup_archive_writer *w = NULL;
    struct cm_err err;
    char longpath[160];

    *big = malloc(200000);
    assert_non_null(*big);
    fill_random(*big, 200000);
    memset(longpath, 'a', sizeof(longpath));
    memcpy(longpath, "resources/", 10);
    memcpy(longpath + 145, ".json", 6);
    cm_buf_init(&s->b, 1 << 24);
    assert_int_equal(backup_archive_writer_create(mem_sink, s, key, 1700000000, &w, &err), 0);
    assert_int_equal(
        backup_archive_writer_add(w, "resources/core/v1/configmaps/a.json", "{\"a\":1}", 7, &err),
        0);
    assert_int_equal(backup_archive_writer_add(w, longpath, "", 0, &err), 0);
    assert_int_equal(backup_archive_writer_add(w, "cluster/core/v1/persistentvolumes/b.json", *big,
                                               200000, &err),
                     0);
    assert_string_equal(backup_archive_writer_sha256(w), ""); /* not finished yet */
    assert_int_equal(backup_archive_writer_finish(w, &err), 0);
    assert_int_equal(backup_archive_writer_bytes(w), s->b.len);
    {
        char hex[65];

        backup_sha256_hex(s->b.ptr, s->b.len, hex);
        assert_string_equal(backup_archive_writer_sha256(w), hex);
    }
    assert_int_equal(backup_archive_writer_add(w, "x", "", 0, &err), CM_EINVAL);
    backup_archive_writer_destroy(w);
}

static int read_all(const struct sink *s, const struct backup_key *key, size_t chunk, struct got *g,
                    struct cm_err *err)
{
    struct backup_archive_reader *r = NULL;
    size_t off;
    int rc = backup_archive_reader_create(key, on_entry, g, &r, err);

    memset(g, 0, sizeof(*g));
    for (off = 0; rc == 0 && off < s->b.len; off += chunk) {
        size_t n = s->b.len - off < chunk ? s->b.len - off : chunk;

        rc = backup_archive_reader_feed(r, s->b.ptr + off, n, err);
    }
    if (rc == 0)
        rc = backup_archive_reader_finish(r, err);
    if (rc == 0)
        assert_int_equal(backup_archive_reader_bytes(r), s->b.len);
    backup_archive_reader_destroy(r);
    return rc;
}

static void check_sample(const struct got *g, const unsigned char *big)
{
    char hex[65];

    assert_int_equal(g->n, 3);
    assert_string_equal(g->paths[0], "resources/core/v1/configmaps/a.json");
    assert_int_equal(strlen(g->paths[1]), 150);
    assert_int_equal(g->sizes[1], 0);
    backup_sha256_hex(big, 200000, hex);
    assert_string_equal(g->sha[2], hex);
}

static void test_roundtrip_chunkings(void **state)
{
    static const size_t chunks[] = {1, 7, 511, 512, 513, 4096, 65536, 1 << 24};
    struct sink s = {0};
    unsigned char *big;
    struct got g;
    struct cm_err err;
    size_t i;

    (void)state;
    write_sample(&s, NULL, &big);
    assert_int_equal((unsigned char)s.b.ptr[0], 0x1f); /* gzip magic */
    assert_int_equal((unsigned char)s.b.ptr[1], 0x8b);
    for (i = 0; i < CM_ARRAY_LEN(chunks); i++) {
        assert_int_equal(read_all(&s, NULL, chunks[i], &g, &err), 0);
        check_sample(&g, big);
    }
    free(big);
    cm_buf_free(&s.b);
}

static void test_tar_is_standard(void **state)
{
    /* The archive must open with the system's tar (the format document promises it). */
    struct sink s = {0};
    unsigned char *big;
    char dir[] = "build-tmp-tarXXXXXX";
    char path[256], cmd[600];
    FILE *f;

    (void)state;
    write_sample(&s, NULL, &big);
    if (system("command -v tar >/dev/null 2>&1") != 0) {
        free(big);
        cm_buf_free(&s.b);
        skip();
    }
    assert_non_null(mkdtemp(dir));
    (void)snprintf(path, sizeof(path), "%s/a.tar.gz", dir);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(s.b.ptr, 1, s.b.len, f), s.b.len);
    fclose(f);
    (void)snprintf(
        cmd, sizeof(cmd),
        "cd %s && tar xzf a.tar.gz && test \"$(cat resources/core/v1/configmaps/a.json)\" "
        "= '{\"a\":1}' && test $(wc -c < cluster/core/v1/persistentvolumes/b.json) -eq "
        "200000 && ls resources | grep -q '^aaaa' ",
        dir);
    assert_int_equal(system(cmd), 0);
    (void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    free(big);
    cm_buf_free(&s.b);
}

static void test_encrypted(void **state)
{
    struct backup_key k = test_key();
    struct backup_key other;
    struct sink s = {0};
    unsigned char *big;
    struct got g;
    struct cm_err err;

    (void)state;
    write_sample(&s, &k, &big);
    assert_memory_equal(s.b.ptr, "LWENC001", 8);
    assert_int_equal(read_all(&s, &k, 1, &g, &err), 0);
    check_sample(&g, big);
    assert_int_equal(read_all(&s, &k, 70000, &g, &err), 0);
    check_sample(&g, big);
    /* wrong key */
    memset(&other, 0, sizeof(other));
    other.k[0] = 1;
    assert_int_equal(read_all(&s, &other, 4096, &g, &err), CM_EINTEGRITY);
    assert_non_null(strstr(err.msg, "authentication"));
    /* plain reader on encrypted bytes */
    assert_int_equal(read_all(&s, NULL, 4096, &g, &err), CM_EPARSE);
    /* flipped ciphertext byte */
    s.b.ptr[100] ^= 1;
    assert_int_equal(read_all(&s, &k, 4096, &g, &err), CM_EINTEGRITY);
    s.b.ptr[100] ^= 1;
    /* flipping the final flag of the last frame is detected */
    {
        struct sink t = {0};
        size_t off = 12;

        cm_buf_init(&t.b, 1 << 24);
        assert_int_equal(cm_buf_add(&t.b, s.b.ptr, s.b.len), 0);
        /* walk frames to the last one */
        for (;;) {
            unsigned char *p = (unsigned char *)t.b.ptr + off;
            uint32_t v =
                ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];

            if (v & 0x80000000u) {
                p[0] &= 0x7f;
                break;
            }
            off += 4 + v + 16;
        }
        assert_int_equal(read_all(&t, &k, 4096, &g, &err), CM_EINTEGRITY);
        cm_buf_free(&t.b);
    }
    /* truncation at a frame boundary and mid-frame */
    {
        struct sink t = {0};

        t.b = s.b;
        t.b.len = 12 + 4 + 65536 + 16; /* exactly one full, non-final frame */
        assert_true(t.b.len < s.b.len);
        assert_int_equal(read_all(&t, &k, 4096, &g, &err), CM_EPARSE);
        assert_non_null(strstr(err.msg, "truncated"));
        t.b.len = s.b.len - 1;
        assert_int_equal(read_all(&t, &k, 4096, &g, &err), CM_EPARSE);
    }
    /* trailing byte after the final frame */
    assert_int_equal(cm_buf_addc(&s.b, 0), 0);
    assert_int_equal(read_all(&s, &k, 4096, &g, &err), CM_EPARSE);
    free(big);
    cm_buf_free(&s.b);
    backup_key_wipe(&k);
}

static void test_empty_encrypted(void **state)
{
    struct backup_key k = test_key();
    struct backup_archive_writer *w = NULL;
    struct sink s = {0};
    struct got g;
    struct cm_err err;

    (void)state;
    cm_buf_init(&s.b, 1 << 20);
    assert_int_equal(backup_archive_writer_create(mem_sink, &s, &k, 0, &w, &err), 0);
    assert_int_equal(backup_archive_writer_finish(w, &err), 0);
    backup_archive_writer_destroy(w);
    assert_int_equal(read_all(&s, &k, 3, &g, &err), 0);
    assert_int_equal(g.n, 0);
    cm_buf_free(&s.b);
}

static void test_plain_corruption(void **state)
{
    struct sink s = {0};
    unsigned char *big;
    struct got g;
    struct cm_err err;
    size_t full;

    (void)state;
    write_sample(&s, NULL, &big);
    full = s.b.len;
    s.b.len = full - 4; /* cut the gzip trailer */
    assert_int_equal(read_all(&s, NULL, 512, &g, &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "truncated"));
    s.b.len = full;
    s.b.ptr[full - 5] ^= 0x55; /* CRC mismatch */
    assert_int_equal(read_all(&s, NULL, 512, &g, &err), CM_EPARSE);
    s.b.ptr[full - 5] ^= 0x55;
    assert_int_equal(cm_buf_addc(&s.b, 'x'), 0); /* trailing garbage */
    assert_int_equal(read_all(&s, NULL, 512, &g, &err), CM_EPARSE);
    free(big);
    cm_buf_free(&s.b);
}

static void test_writer_limits(void **state)
{
    struct backup_archive_writer *w = NULL;
    struct sink s = {0};
    struct cm_err err;
    char p255[256], p256[257];
    unsigned char *big = calloc(1, BACKUP_MAX_ENTRY + 1u);

    (void)state;
    assert_non_null(big);
    cm_buf_init(&s.b, 1 << 26);
    memset(p255, 'b', 255);
    p255[255] = '\0';
    memset(p256, 'b', 256);
    p256[256] = '\0';
    assert_int_equal(backup_archive_writer_create(mem_sink, &s, NULL, 0, &w, &err), 0);
    assert_int_equal(backup_archive_writer_add(w, "../x", "", 0, &err), CM_EINVAL);
    assert_int_equal(backup_archive_writer_add(w, "/x", "", 0, &err), CM_EINVAL);
    assert_int_equal(backup_archive_writer_add(w, "a//b", "", 0, &err), CM_EINVAL);
    assert_int_equal(backup_archive_writer_add(w, "a/./b", "", 0, &err), CM_EINVAL);
    assert_int_equal(backup_archive_writer_add(w, p256, "", 0, &err), CM_EINVAL);
    assert_int_equal(backup_archive_writer_add(w, p255, "", 0, &err), 0);
    assert_int_equal(backup_archive_writer_add(w, "big", big, BACKUP_MAX_ENTRY + 1u, &err),
                     CM_ETOOBIG);
    assert_int_equal(backup_archive_writer_add(w, "max", big, BACKUP_MAX_ENTRY, &err), 0);
    assert_int_equal(backup_archive_writer_finish(w, &err), 0);
    backup_archive_writer_destroy(w);
    free(big);
    cm_buf_free(&s.b);
}

static void test_sink_failure(void **state)
{
    struct backup_archive_writer *w = NULL;
    struct sink s = {0};
    struct cm_err err;
    unsigned char *big = malloc(1 << 20);

    (void)state;
    assert_non_null(big);
    fill_random(big, 1u << 20);
    cm_buf_init(&s.b, 1 << 24);
    s.fail_at = 2;
    assert_int_equal(backup_archive_writer_create(mem_sink, &s, NULL, 0, &w, &err), 0);
    assert_int_equal(backup_archive_writer_add(w, "a", big, 1 << 20, &err), CM_EIO);
    assert_string_equal(err.msg, "sink refused");
    assert_int_equal(backup_archive_writer_finish(w, &err), CM_EINVAL);
    backup_archive_writer_destroy(w);
    free(big);
    cm_buf_free(&s.b);
}

static int stop_entry(void *ctx, const char *path, const void *data, size_t n, struct cm_err *err)
{
    (void)ctx;
    (void)path;
    (void)data;
    (void)n;
    return cm_err_set(err, CM_ECANCELED, "stop");
}

static void test_reader_callback_stops(void **state)
{
    struct sink s = {0};
    unsigned char *big;
    struct backup_archive_reader *r = NULL;
    struct cm_err err;

    (void)state;
    write_sample(&s, NULL, &big);
    assert_int_equal(backup_archive_reader_create(NULL, stop_entry, NULL, &r, &err), 0);
    assert_int_equal(backup_archive_reader_feed(r, s.b.ptr, s.b.len, &err), CM_ECANCELED);
    assert_int_equal(backup_archive_reader_feed(r, s.b.ptr, 1, &err), CM_EINVAL);
    backup_archive_reader_destroy(r);
    free(big);
    cm_buf_free(&s.b);
}

static void test_keys(void **state)
{
    struct backup_key k, k2, k3;
    struct cm_err err;
    unsigned char raw[32];
    char *b64;
    char path[] = "build-tmp-keyXXXXXX";
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
    {
        char hex[65];

        backup_sha256_hex(raw, 32, hex);
        assert_memory_equal(k.id + 7, hex, 16);
    }
    k2 = test_key();
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

static void test_oom(void **state)
{
    struct backup_key k = test_key();
    struct sink s = {0};
    unsigned char *big;
    struct got g;
    struct cm_err err;
    long n;
    int rc;

    (void)state;
    write_sample(&s, &k, &big);
    for (n = 1;; n++) {
        cm_alloc_fault_set(n);
        rc = read_all(&s, &k, 65536, &g, &err);
        if (!cm_alloc_fault_fired()) {
            cm_alloc_fault_set(0);
            assert_int_equal(rc, 0);
            break;
        }
        cm_alloc_fault_set(0);
        assert_int_equal(rc, CM_ENOMEM);
    }
    for (n = 1;; n++) {
        struct backup_archive_writer *w = NULL;
        struct sink t = {0};

        cm_buf_init(&t.b, 1 << 24);
        cm_alloc_fault_set(n);
        rc = backup_archive_writer_create(mem_sink, &t, &k, 0, &w, &err);
        if (rc == 0)
            rc = backup_archive_writer_add(w, "a", "b", 1, &err);
        if (rc == 0)
            rc = backup_archive_writer_finish(w, &err);
        backup_archive_writer_destroy(w);
        cm_buf_free(&t.b);
        if (!cm_alloc_fault_fired()) {
            cm_alloc_fault_set(0);
            assert_int_equal(rc, 0);
            break;
        }
        cm_alloc_fault_set(0);
        assert_int_equal(rc, CM_ENOMEM);
    }
    free(big);
    cm_buf_free(&s.b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_chunkings),
        cmocka_unit_test(test_tar_is_standard),
        cmocka_unit_test(test_encrypted),
        cmocka_unit_test(test_empty_encrypted),
        cmocka_unit_test(test_plain_corruption),
        cmocka_unit_test(test_writer_limits),
        cmocka_unit_test(test_sink_failure),
        cmocka_unit_test(test_reader_callback_stops),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_oom),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
