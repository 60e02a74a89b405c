/* SPDX-License-Identifier: Apache-2.0 */
/* test_backup_archive.c - the streaming tar+zstd(+AES-256-GCM) writer: round trips
 * through the reader in every chunking, the writer's one zstd frame as the zstd library
 * and the system tools see it, the empty archive, encrypted archives (wrong keys,
 * damage, truncation), writer limits, a refusing sink, a reader callback that stops,
 * and OOM. The reader's format handling is in test_backup_archive_read.c. */
#include "backup/backup.h"
#include "tests/support/archive_testutil.h"
#include "tests/support/kube_testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include <cmocka.h>

#define WLOG_WRITER 19 /* the writer's zstd window (AR_ZSTD_WLOG) */

/* Walks a tar stream: ustar headers with valid checksums, then at least two zero
 * blocks and only zeros. With is_big, file i must have at_gen_entry(i)'s name and size.
 * Returns the number of regular files, or -1. */
static int tar_count(const struct cm_buf *tar, bool is_big)
{
    const unsigned char *p = (const unsigned char *)tar->ptr;
    unsigned char *buf = malloc(AT_GEN_MAX);
    size_t off = 0;
    int files = 0;

    assert_non_null(buf);
    while (tar->len % 512 == 0 && off + 512 <= tar->len) {
        const unsigned char *h = p + off;
        char field[13], want[80];
        unsigned sum = 0;
        unsigned long long size;
        size_t i;

        for (i = 0; i < 512 && h[i] == 0; i++)
            ;
        if (i == 512) {
            for (i = off; i < tar->len && p[i] == 0; i++)
                ;
            free(buf);
            return i == tar->len && tar->len - off >= 1024 ? files : -1;
        }
        if (memcmp(h + 257, "ustar", 5) != 0)
            break;
        for (i = 0; i < 512; i++)
            sum += (i >= 148 && i < 156) ? ' ' : h[i];
        memcpy(field, h + 148, 8);
        field[8] = '\0';
        if (strtoul(field, NULL, 8) != sum)
            break;
        memcpy(field, h + 124, 12);
        field[12] = '\0';
        size = strtoull(field, NULL, 8);
        if (h[156] == '0' && is_big &&
            (files >= AT_BIG_N || at_gen_entry(files, buf, want) != size ||
             strncmp((const char *)h, want, 100) != 0))
            break;
        if (h[156] == '0')
            files++;
        off += 512 + (size_t)((size + 511) / 512 * 512);
    }
    free(buf);
    return -1;
}

static void test_roundtrip_chunkings(void **state)
{
    static const size_t chunks[] = {1, 3, 7, 511, 512, 513, 4096, 65537, 1 << 24};
    struct at_sink s = {0};
    unsigned char *big;
    struct at_got g;
    struct cm_err err;
    size_t i;

    (void)state;
    at_write_sample(&s, NULL, &big);
    assert_memory_equal(s.b.ptr, at_zstd_magic, 4);
    for (i = 0; i < CM_ARRAY_LEN(chunks); i++) {
        assert_int_equal(at_read_all(&s, NULL, chunks[i], &g, &err), 0);
        at_check_sample(&g, big);
    }
    free(big);
    cm_buf_free(&s.b);
}

static void test_big_roundtrip(void **state)
{
    /* The stored bytes are ONE zstd frame with a content checksum and a window the
     * reader accepts; the zstd library alone makes the tar of it, and the reader reads
     * it byte-exact in every chunking (bytewise splits every block and the checksum). */
    static const size_t chunks[] = {1, 3, 17, 511, 4093, 65537, 1048573, 1 << 26};
    struct at_sink s = {0};
    struct cm_buf tar;
    struct cm_err err;
    bool has_checksum = false;
    uint64_t window;
    size_t i;

    (void)state;
    at_write_big(&s, NULL);
    assert_true(s.b.len > 3 * AT_MIB);
    assert_memory_equal(s.b.ptr, at_zstd_magic, 4);
    assert_int_equal(ZSTD_findFrameCompressedSize(s.b.ptr, s.b.len), s.b.len);
    window = at_frame_window(s.b.ptr, s.b.len, &has_checksum);
    assert_true(window >= 1024 && window <= (uint64_t)1 << WLOG_WRITER);
    assert_true(has_checksum);
    cm_buf_init(&tar, 1 << 26);
    assert_int_equal(at_zstd_inflate_all(s.b.ptr, s.b.len, &tar), 0);
    assert_true(tar.len > 6 * AT_MIB);
    assert_int_equal(tar_count(&tar, true), AT_BIG_N);
    for (i = 0; i < CM_ARRAY_LEN(chunks); i++)
        assert_int_equal(at_read_big(&s, NULL, chunks[i], &err), 0);
    cm_buf_free(&tar);
    cm_buf_free(&s.b);
}

static void test_empty_archive(void **state)
{
    /* No entries: still one whole frame (the end-of-archive blocks). */
    struct backup_key k = at_test_key();
    struct backup_archive_writer *w = NULL;
    struct at_sink s = {0};
    struct at_sink e = {0};
    struct cm_buf tar;
    struct at_got g;
    struct cm_err err;

    (void)state;
    cm_buf_init(&s.b, 1 << 20);
    assert_int_equal(backup_archive_writer_create(at_mem_sink, &s, NULL, 0, &w, &err), 0);
    assert_int_equal(backup_archive_writer_finish(w, &err), 0);
    backup_archive_writer_destroy(w);
    assert_memory_equal(s.b.ptr, at_zstd_magic, 4);
    assert_int_equal(ZSTD_findFrameCompressedSize(s.b.ptr, s.b.len), s.b.len);
    cm_buf_init(&tar, 1 << 20);
    assert_int_equal(at_zstd_inflate_all(s.b.ptr, s.b.len, &tar), 0);
    assert_int_equal(tar.len, 1024);
    assert_int_equal(tar_count(&tar, false), 0);
    assert_int_equal(at_read_all(&s, NULL, 1, &g, &err), 0);
    assert_int_equal(g.n, 0);
    assert_int_equal(at_read_all(&s, NULL, 1 << 20, &g, &err), 0);
    assert_int_equal(g.n, 0);
    cm_buf_init(&e.b, 1 << 20);
    assert_int_equal(backup_archive_writer_create(at_mem_sink, &e, &k, 0, &w, &err), 0);
    assert_int_equal(backup_archive_writer_finish(w, &err), 0);
    backup_archive_writer_destroy(w);
    assert_int_equal(at_read_all(&e, &k, 3, &g, &err), 0);
    assert_int_equal(g.n, 0);
    cm_buf_free(&tar);
    cm_buf_free(&s.b);
    cm_buf_free(&e.b);
    backup_key_wipe(&k);
}

/* Runs the shell command "cd dir && <fmt...>" and returns its first output line in
 * line (300 bytes); the command must exit 0. */
static void first_line(char *line, const char *dir, const char *fmt, ...) CM_PRINTF(3, 4);
static void first_line(char *line, const char *dir, const char *fmt, ...)
{
    char cmd[1400];
    va_list ap;
    int n = snprintf(cmd, sizeof(cmd), "cd '%s' && ", dir);
    FILE *f;

    va_start(ap, fmt);
    assert_true(n > 0 && vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap) > 0);
    va_end(ap);
    f = popen(cmd, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, 300, f));
    assert_int_equal(pclose(f), 0);
}

static void write_file(const char *dir, const char *name, const struct cm_buf *b)
{
    char path[600];
    FILE *f;

    (void)snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b->ptr, 1, b->len, f), b->len);
    assert_int_equal(fclose(f), 0);
}

static void test_system_tools(void **state)
{
    /* The system's zstd and tar open the archive (the format document promises it):
     * zstd -t checks the frame's checksum, tar lists every entry, pax paths included. */
    struct at_sink s = {0};
    struct at_sink small = {0};
    unsigned char *sample;
    char dir[512], line[300];
    char path[80], longpath[151];
    char hex[65];
    unsigned char *buf;
    size_t n;

    (void)state;
    if (system("command -v zstd >/dev/null 2>&1 && command -v tar >/dev/null 2>&1 && "
               "command -v sha256sum >/dev/null 2>&1 && "
               "tar --zstd -cf /dev/null -T /dev/null >/dev/null 2>&1") != 0) {
        print_message("skip: zstd, tar with --zstd, or sha256sum not installed\n");
        skip();
    }
    buf = malloc(AT_GEN_MAX);
    assert_non_null(buf);
    at_write_big(&s, NULL);
    at_write_sample(&small, NULL, &sample);
    assert_int_equal(kube_test_mkdtemp(dir, sizeof(dir)), 0);
    write_file(dir, "a.tar.zst", &s.b);
    write_file(dir, "s.tar.zst", &small.b);
    first_line(line, dir, "zstd -q -t a.tar.zst && zstd -q -dc a.tar.zst | tar -tf - | wc -l");
    assert_int_equal(strtol(line, NULL, 10), AT_BIG_N);
    /* the last large entry comes out byte-exact */
    n = at_gen_entry(2007, buf, path);
    backup_sha256_hex(buf, n, hex);
    first_line(line, dir, "tar --zstd -xOf a.tar.zst '%s' | sha256sum", path);
    assert_memory_equal(line, hex, 64);
    /* the sample: a small entry's bytes, and the 150-byte path from its pax record */
    first_line(line, dir, "tar --zstd -xOf s.tar.zst resources/core/v1/configmaps/a.json");
    assert_string_equal(line, "{\"a\":1}");
    first_line(line, dir, "tar --zstd -tf s.tar.zst | sed -n 2p");
    at_long_path(longpath);
    assert_memory_equal(line, longpath, 150);
    assert_string_equal(line + 150, "\n");
    kube_test_rmtree(dir);
    free(buf);
    free(sample);
    cm_buf_free(&s.b);
    cm_buf_free(&small.b);
}

static void test_encrypted(void **state)
{
    struct backup_key k = at_test_key();
    struct backup_key other;
    struct at_sink s = {0};
    unsigned char *big;
    struct at_got g;
    struct cm_err err;

    (void)state;
    at_write_sample(&s, &k, &big);
    assert_memory_equal(s.b.ptr, "LWENC001", 8);
    assert_int_equal(at_read_all(&s, &k, 1, &g, &err), 0);
    at_check_sample(&g, big);
    assert_int_equal(at_read_all(&s, &k, 70000, &g, &err), 0);
    at_check_sample(&g, big);
    /* wrong key */
    memset(&other, 0, sizeof(other));
    other.k[0] = 1;
    at_expect_err(at_read_all(&s, &other, 4096, &g, &err), CM_EINTEGRITY, &err, "authentication");
    /* plain reader on encrypted bytes */
    at_expect_err(at_read_all(&s, NULL, 4096, &g, &err), CM_EPARSE, &err, "neither zstd nor gzip");
    /* flipped ciphertext byte */
    s.b.ptr[100] ^= 1;
    assert_int_equal(at_read_all(&s, &k, 4096, &g, &err), CM_EINTEGRITY);
    s.b.ptr[100] ^= 1;
    /* flipping the final flag of the last frame is detected */
    {
        struct at_sink t = {0};
        size_t off = 12;

        cm_buf_init(&t.b, 1 << 24);
        assert_int_equal(cm_buf_add(&t.b, s.b.ptr, s.b.len), 0);
        for (;;) { /* walk the frames to the last one */
            unsigned char *p = (unsigned char *)t.b.ptr + off;
            uint32_t v =
                ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];

            if (v & 0x80000000u) {
                p[0] &= 0x7f;
                break;
            }
            off += 4 + v + 16;
        }
        assert_int_equal(at_read_all(&t, &k, 4096, &g, &err), CM_EINTEGRITY);
        cm_buf_free(&t.b);
    }
    /* truncation at a frame boundary and mid-frame */
    {
        struct at_sink t = {0};

        t.b = s.b;
        t.b.len = 12 + 4 + BACKUP_ENC_FRAME + 16; /* exactly one full, non-final frame */
        assert_true(t.b.len < s.b.len);
        at_expect_err(at_read_all(&t, &k, 4096, &g, &err), CM_EPARSE, &err, "truncated");
        t.b.len = s.b.len - 1;
        assert_int_equal(at_read_all(&t, &k, 4096, &g, &err), CM_EPARSE);
    }
    /* trailing byte after the final frame */
    assert_int_equal(cm_buf_addc(&s.b, 0), 0);
    assert_int_equal(at_read_all(&s, &k, 4096, &g, &err), CM_EPARSE);
    free(big);
    cm_buf_free(&s.b);
    backup_key_wipe(&k);
}

static void test_big_encrypted(void **state)
{
    struct backup_key k = at_test_key();
    struct at_sink plain = {0};
    struct at_sink s = {0};
    struct cm_err err;
    size_t frames;

    (void)state;
    at_write_big(&plain, NULL);
    at_write_big(&s, &k);
    assert_memory_equal(s.b.ptr, "LWENC001", 8);
    /* the same zstd stream inside: header, then BACKUP_ENC_FRAME-byte frames of it
     * (4-byte length, 16-byte tag each) */
    frames = (plain.b.len + BACKUP_ENC_FRAME - 1) / BACKUP_ENC_FRAME;
    assert_int_equal(s.b.len, 12 + plain.b.len + 20 * frames);
    assert_int_equal(at_read_big(&s, &k, 4093, &err), 0);
    assert_int_equal(at_read_big(&s, &k, BACKUP_ENC_FRAME + 7, &err), 0);
    assert_int_equal(at_read_big(&s, &k, 1 << 26, &err), 0);
    /* a truncated last frame is still caught */
    s.b.len -= 1;
    assert_int_equal(at_read_big(&s, &k, 4093, &err), CM_EPARSE);
    cm_buf_free(&plain.b);
    cm_buf_free(&s.b);
    backup_key_wipe(&k);
}

static void test_writer_limits(void **state)
{
    struct backup_archive_writer *w = NULL;
    struct at_sink s = {0};
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
    assert_int_equal(backup_archive_writer_create(at_mem_sink, &s, NULL, 0, &w, &err), 0);
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
    /* zstd hands out output only when a block (or a worker's job) is done: the sink
     * fails on its first call, in add once enough is written, or in finish. */
    struct backup_archive_writer *w = NULL;
    struct at_sink s = {0};
    struct cm_err err;
    unsigned char *big = malloc(AT_MIB);
    int i, rc = 0;

    (void)state;
    assert_non_null(big);
    cm_buf_init(&s.b, 1 << 26);
    s.fail_at = 1;
    assert_int_equal(backup_archive_writer_create(at_mem_sink, &s, NULL, 0, &w, &err), 0);
    for (i = 0; i < 32 && rc == 0; i++) {
        at_fill_random_seed(big, AT_MIB, (uint32_t)i + 1);
        rc = backup_archive_writer_add(w, "a", big, AT_MIB, &err);
    }
    at_expect_err(rc, CM_EIO, &err, "sink refused");
    assert_int_equal(backup_archive_writer_add(w, "b", "", 0, &err), CM_EINVAL);
    assert_int_equal(backup_archive_writer_finish(w, &err), CM_EINVAL);
    assert_string_equal(backup_archive_writer_sha256(w), "");
    backup_archive_writer_destroy(w);
    /* the sink's next call after a small entry fails in finish */
    cm_buf_reset(&s.b);
    s.calls = 0;
    s.fail_at = 0;
    assert_int_equal(backup_archive_writer_create(at_mem_sink, &s, NULL, 0, &w, &err), 0);
    assert_int_equal(backup_archive_writer_add(w, "a", "{}", 2, &err), 0);
    s.fail_at = s.calls + 1;
    at_expect_err(backup_archive_writer_finish(w, &err), CM_EIO, &err, "sink refused");
    assert_int_equal(backup_archive_writer_finish(w, &err), CM_EINVAL);
    assert_string_equal(backup_archive_writer_sha256(w), "");
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
    struct at_sink s = {0};
    unsigned char *big;
    struct backup_archive_reader *r = NULL;
    struct cm_err err;

    (void)state;
    at_write_sample(&s, NULL, &big);
    assert_int_equal(backup_archive_reader_create(NULL, stop_entry, NULL, &r, &err), 0);
    assert_int_equal(backup_archive_reader_feed(r, s.b.ptr, s.b.len, &err), CM_ECANCELED);
    assert_int_equal(backup_archive_reader_feed(r, s.b.ptr, 1, &err), CM_EINVAL);
    backup_archive_reader_destroy(r);
    free(big);
    cm_buf_free(&s.b);
}

static void test_oom(void **state)
{
    /* Allocation n fails, n = 1, 2, ... until the run succeeds; zstd and zlib allocate
     * with malloc, so only our own allocations (writer, reader, GCM layer, entry buffer,
     * the test's sink) fail, and each such run must end in CM_ENOMEM. */
    struct backup_key k = at_test_key();
    struct at_sink in[3];
    struct cm_buf tar;
    unsigned char *big;
    unsigned char *big2;
    char longpath[151];
    struct at_got g;
    struct cm_err err;
    long n;
    int rc, j;

    (void)state;
    memset(in, 0, sizeof(in));
    at_sample_tar(&in[0], &tar, &big);
    at_write_sample(&in[1], &k, &big2);
    cm_buf_init(&in[2].b, 1 << 24);
    at_add_zlib_member(&in[2].b, tar.ptr, tar.len, 1);
    at_long_path(longpath);
    for (j = 0; j < 3; j++) {
        for (n = 1;; n++) {
            assert_true(n < 10000);
            cm_alloc_fault_set(n);
            rc = at_read_all(&in[j], j == 1 ? &k : NULL, 65536, &g, &err);
            if (!cm_alloc_fault_fired()) {
                cm_alloc_fault_set(0);
                assert_int_equal(rc, 0);
                at_check_sample(&g, big);
                break;
            }
            cm_alloc_fault_set(0);
            assert_int_equal(rc, CM_ENOMEM);
            assert_int_equal(err.code, CM_ENOMEM);
        }
        assert_true(n > 1);
    }
    for (j = 0; j < 2; j++) {
        for (n = 1;; n++) {
            struct backup_archive_writer *w = NULL;
            struct at_sink t = {0};

            assert_true(n < 10000);
            cm_buf_init(&t.b, 1 << 24);
            cm_alloc_fault_set(n);
            rc = backup_archive_writer_create(at_mem_sink, &t, j == 1 ? &k : NULL, 0, &w, &err);
            if (rc == 0)
                rc = backup_archive_writer_add(w, "a", "b", 1, &err);
            if (rc == 0)
                rc = backup_archive_writer_add(w, longpath, big, 200000, &err);
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
            assert_int_equal(err.code, CM_ENOMEM);
        }
        assert_true(n > 1);
    }
    free(big);
    free(big2);
    cm_buf_free(&tar);
    for (j = 0; j < 3; j++)
        cm_buf_free(&in[j].b);
    backup_key_wipe(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_chunkings),
        cmocka_unit_test(test_big_roundtrip),
        cmocka_unit_test(test_empty_archive),
        cmocka_unit_test(test_system_tools),
        cmocka_unit_test(test_encrypted),
        cmocka_unit_test(test_big_encrypted),
        cmocka_unit_test(test_writer_limits),
        cmocka_unit_test(test_sink_failure),
        cmocka_unit_test(test_reader_callback_stops),
        cmocka_unit_test(test_oom),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
