/* SPDX-License-Identifier: Apache-2.0 */
/* test_backup_archive_read.c - the archive reader's format handling: truncated and
 * damaged zstd, bytes after the stream, concatenated frames (made by the zstd library),
 * the window limit, unknown formats, legacy gzip archives (one or many members, made
 * here with zlib) and tar-level checks. The writer and round trips are in
 * test_backup_archive.c. */
#include "backup/backup.h"
#include "tests/support/archive_testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include <cmocka.h>

#define WLOG_MAX 23 /* the largest window the reader accepts (AR_ZSTD_WLOG_MAX) */

/* The reader's messages for bytes after the last frame and for a cut stream. */
#define AFTER_ZSTD "archive: data after the zstd stream is not a zstd frame"
#define TRUNC_ZSTD "archive: truncated zstd stream"
#define WINDOW_ZSTD                                                                                \
    "archive: a zstd frame asks for a window above 8 MiB (lockwarden writes 512 KiB)"

/* Appends p[0..n) as one zstd frame made by the library (level 3, checksum on, window
 * 2^wlog or the level's when 0). The size is not pledged, so the header carries the
 * window. */
static void add_zstd_frame(struct cm_buf *b, const void *p, size_t n, int wlog)
{
    ZSTD_CCtx *c = ZSTD_createCCtx();
    size_t cap = ZSTD_compressBound(n) + 1024;
    unsigned char *out = malloc(cap);
    ZSTD_inBuffer in = {p, n, 0};
    ZSTD_outBuffer o = {out, cap, 0};
    size_t left;

    assert_non_null(c);
    assert_non_null(out);
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 3)));
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1)));
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, wlog)));
    assert_false(ZSTD_isError(ZSTD_compressStream2(c, &o, &in, ZSTD_e_continue)));
    do {
        left = ZSTD_compressStream2(c, &o, &in, ZSTD_e_end);
        assert_false(ZSTD_isError(left));
    } while (left != 0);
    assert_int_equal(cm_buf_add(b, out, o.pos), 0);
    ZSTD_freeCCtx(c);
    free(out);
}

/* A fresh plain reader fed p[0..n) in one piece, then finished when is_finish.
 * Returns the first failing code. */
static int feed_once(const void *p, size_t n, bool is_finish, struct cm_err *err)
{
    struct backup_archive_reader *r = NULL;
    struct at_got g = {0};
    int rc = backup_archive_reader_create(NULL, at_on_entry, &g, &r, err);

    if (rc == 0)
        rc = backup_archive_reader_feed(r, p, n, err);
    if (rc == 0 && is_finish)
        rc = backup_archive_reader_finish(r, err);
    backup_archive_reader_destroy(r);
    return rc;
}

/* The big archive's tar, as the zstd library decompresses the writer's output. */
static void big_tar(struct cm_buf *tar)
{
    struct at_sink s = {0};

    at_write_big(&s, NULL);
    cm_buf_init(tar, 1 << 26);
    assert_int_equal(at_zstd_inflate_all(s.b.ptr, s.b.len, tar), 0);
    cm_buf_free(&s.b);
}

/* Reads the tar with the edit bytes put at off (header checksum then fixed when
 * is_fix_sum), as one zstd frame; returns the reader's code. */
static int read_edited(const struct cm_buf *tar, size_t off, const void *edit, size_t n,
                       bool is_fix_sum, struct cm_err *err)
{
    struct at_sink s = {0};
    struct cm_buf t;
    unsigned char *h;
    struct at_got g;
    unsigned sum = 0;
    size_t i;
    int rc;

    cm_buf_init(&t, 1 << 24);
    assert_int_equal(cm_buf_add(&t, tar->ptr, tar->len), 0);
    memcpy(t.ptr + off, edit, n);
    h = (unsigned char *)t.ptr + off / 512 * 512;
    if (is_fix_sum) {
        memset(h + 148, ' ', 8);
        for (i = 0; i < 512; i++)
            sum += h[i];
        (void)snprintf((char *)h + 148, 8, "%06o", sum);
    }
    cm_buf_init(&s.b, 1 << 24);
    add_zstd_frame(&s.b, t.ptr, t.len, 0);
    rc = at_read_all(&s, NULL, 4093, &g, err);
    cm_buf_free(&s.b);
    cm_buf_free(&t);
    return rc;
}

static void test_zstd_damage(void **state)
{
    struct at_sink s = {0};
    unsigned char *big;
    struct backup_archive_reader *r = NULL;
    struct at_got g;
    struct cm_err err;
    size_t full, mid, i;

    (void)state;
    at_write_sample(&s, NULL, &big);
    full = s.b.len;
    /* truncated: in the frame header, in the middle, in and before the checksum */
    for (i = 0; i < 4; i++) {
        s.b.len = i == 0 ? 5 : i == 1 ? full / 2 : full - 1 - 3 * (i - 2);
        at_expect_err(at_read_all(&s, NULL, i == 2 ? 1 : 512, &g, &err), CM_EPARSE, &err,
                      TRUNC_ZSTD);
    }
    s.b.len = full;
    /* a byte in the middle (in a raw block of the random entry: tar cannot notice, the
     * entries before it come out, and zstd's content checksum must) and one of the
     * checksum itself */
    mid = full / 2;
    s.b.ptr[mid] ^= 0x55;
    at_expect_err(at_read_all(&s, NULL, 4093, &g, &err), CM_EPARSE, &err, "archive: zstd: ");
    assert_non_null(strstr(err.msg, "checksum"));
    assert_true(g.n >= 2);
    s.b.ptr[mid] ^= 0x55;
    s.b.ptr[full - 2] ^= 0x55;
    at_expect_err(at_read_all(&s, NULL, 4093, &g, &err), CM_EPARSE, &err, "checksum");
    s.b.ptr[full - 2] ^= 0x55;
    assert_int_equal(at_read_all(&s, NULL, 4093, &g, &err), 0);
    at_check_sample(&g, big);
    /* garbage after the frame: in the same feed, bytewise, and in a later feed */
    assert_int_equal(cm_buf_add(&s.b, "garbage!", 8), 0);
    at_expect_err(at_read_all(&s, NULL, 1 << 24, &g, &err), CM_EPARSE, &err, AFTER_ZSTD);
    at_expect_err(at_read_all(&s, NULL, 1, &g, &err), CM_EPARSE, &err, AFTER_ZSTD);
    assert_int_equal(backup_archive_reader_create(NULL, at_on_entry, &g, &r, &err), 0);
    assert_int_equal(backup_archive_reader_feed(r, s.b.ptr, full, &err), 0);
    at_expect_err(backup_archive_reader_feed(r, "garbage!", 8, &err), CM_EPARSE, &err, AFTER_ZSTD);
    assert_int_equal(backup_archive_reader_finish(r, &err), CM_EINVAL);
    backup_archive_reader_destroy(r);
    /* zeros are no frame either */
    s.b.len = full;
    assert_int_equal(cm_buf_add(&s.b, "\0\0\0\0\0\0\0\0", 8), 0);
    at_expect_err(at_read_all(&s, NULL, 4093, &g, &err), CM_EPARSE, &err, AFTER_ZSTD);
    /* a whole frame after the end: only zeros may follow the tar end; an empty one is
     * harmless */
    s.b.len = full;
    add_zstd_frame(&s.b, "x", 1, 0);
    at_expect_err(at_read_all(&s, NULL, 4093, &g, &err), CM_EPARSE, &err,
                  "data after the end of archive");
    s.b.len = full;
    add_zstd_frame(&s.b, "", 0, 0);
    assert_int_equal(at_read_all(&s, NULL, 3, &g, &err), 0);
    at_check_sample(&g, big);
    free(big);
    cm_buf_free(&s.b);
}

static void test_zstd_concatenated_frames(void **state)
{
    /* Frames made by the zstd library, split inside an entry and with an empty frame
     * between, read as one tar stream in every chunking. */
    static const size_t chunks[] = {1, 4093, 1 << 26};
    struct at_sink s = {0};
    struct cm_buf tar, back;
    struct cm_err err;
    size_t a, b, f1, f2, i;

    (void)state;
    big_tar(&tar);
    a = tar.len / 3 + 7;
    b = 2 * (tar.len / 3);
    cm_buf_init(&s.b, 1 << 26);
    add_zstd_frame(&s.b, tar.ptr, a, 0);
    f1 = s.b.len;
    add_zstd_frame(&s.b, "", 0, 0);
    add_zstd_frame(&s.b, tar.ptr + a, b - a, WLOG_MAX);
    f2 = s.b.len;
    add_zstd_frame(&s.b, tar.ptr + b, tar.len - b, 0);
    cm_buf_init(&back, 1 << 26);
    assert_int_equal(at_zstd_inflate_all(s.b.ptr, s.b.len, &back), 0);
    assert_int_equal(back.len, tar.len);
    assert_memory_equal(back.ptr, tar.ptr, tar.len);
    for (i = 0; i < CM_ARRAY_LEN(chunks); i++)
        assert_int_equal(at_read_big(&s, NULL, chunks[i], &err), 0);
    /* truncated exactly after a frame (zstd is whole, tar is not), inside one */
    s.b.len = f1;
    at_expect_err(at_read_big(&s, NULL, 4093, &err), CM_EPARSE, &err,
                  "archive: truncated tar stream");
    s.b.len = f2 - 1000;
    at_expect_err(at_read_big(&s, NULL, 4093, &err), CM_EPARSE, &err, TRUNC_ZSTD);
    /* garbage between two frames, whatever the chunking, even when it starts like a
     * frame's magic; a skippable frame (valid zstd, never written by lockwarden) too;
     * part of a magic at the end is a truncation */
    {
        static const struct {
            const char *bytes;
            size_t n;
            const char *msg;
        } tail[] = {
            {"garbage!", 8, AFTER_ZSTD},
            {"\x28garbage", 8, AFTER_ZSTD},
            {"\x28\xb5\x2f\xfe", 4, AFTER_ZSTD},
            {"\x50\x2a\x4d\x18\x00\x00\x00\x00", 8, AFTER_ZSTD},
            {"\x28\xb5", 2, TRUNC_ZSTD},
        };
        size_t t;

        for (t = 0; t < CM_ARRAY_LEN(tail); t++) {
            s.b.len = f1;
            assert_int_equal(cm_buf_add(&s.b, tail[t].bytes, tail[t].n), 0);
            if (strcmp(tail[t].msg, AFTER_ZSTD) == 0)
                add_zstd_frame(&s.b, tar.ptr + a, tar.len - a, 0);
            at_expect_err(at_read_big(&s, NULL, 4093, &err), CM_EPARSE, &err, tail[t].msg);
            at_expect_err(at_read_big(&s, NULL, 1, &err), CM_EPARSE, &err, tail[t].msg);
            at_expect_err(at_read_big(&s, NULL, 3, &err), CM_EPARSE, &err, tail[t].msg);
        }
    }
    cm_buf_free(&back);
    cm_buf_free(&tar);
    cm_buf_free(&s.b);
}

static void test_zstd_window_limit(void **state)
{
    /* A window of 2^WLOG_MAX reads; one step above is refused at the frame header
     * alone, before any block, so the reader never allocates it. */
    static const unsigned char huge[6] = {0x28, 0xb5, 0x2f, 0xfd, 0x04, 0xf8}; /* 2^41 */
    struct at_sink ok = {0};
    struct at_sink over = {0};
    struct at_sink s = {0};
    struct cm_buf tar;
    unsigned char *big;
    bool has_checksum = false;
    struct at_got g;
    struct cm_err err;

    (void)state;
    at_sample_tar(&s, &tar, &big);
    cm_buf_init(&ok.b, 1 << 24);
    add_zstd_frame(&ok.b, tar.ptr, tar.len, WLOG_MAX);
    assert_int_equal(at_frame_window(ok.b.ptr, ok.b.len, &has_checksum), (uint64_t)1 << WLOG_MAX);
    assert_int_equal(at_read_all(&ok, NULL, 4093, &g, &err), 0);
    at_check_sample(&g, big);
    assert_int_equal(feed_once(ok.b.ptr, 6, false, &err), 0);
    cm_buf_init(&over.b, 1 << 24);
    add_zstd_frame(&over.b, tar.ptr, tar.len, WLOG_MAX + 1);
    assert_int_equal(at_frame_window(over.b.ptr, over.b.len, &has_checksum),
                     (uint64_t)1 << (WLOG_MAX + 1));
    at_expect_err(at_read_all(&over, NULL, 4093, &g, &err), CM_EPARSE, &err, WINDOW_ZSTD);
    assert_int_equal(g.n, 0);
    assert_int_equal(feed_once(over.b.ptr, 6, false, &err), CM_EPARSE);
    /* 2^23 + 2^20 (mantissa 1): the smallest window above the limit */
    over.b.ptr[5] = (char)(((WLOG_MAX - 10) << 3) | 1);
    assert_int_equal(at_frame_window(over.b.ptr, over.b.len, &has_checksum),
                     ((uint64_t)1 << WLOG_MAX) + ((uint64_t)1 << (WLOG_MAX - 3)));
    at_expect_err(feed_once(over.b.ptr, 6, false, &err), CM_EPARSE, &err, WINDOW_ZSTD);
    /* a 2 TiB window is a parse error, not an allocation attempt */
    assert_int_equal(feed_once(huge, sizeof(huge), false, &err), CM_EPARSE);
    free(big);
    cm_buf_free(&tar);
    cm_buf_free(&ok.b);
    cm_buf_free(&over.b);
    cm_buf_free(&s.b);
}

static void test_unknown_format(void **state)
{
    static const char *const bad[] = {"PK\3\4rest", "resources/x", "LWENC001", "\x1f\x8a\0\0x",
                                      "\x28\xb5\x2f\xfcxx"};
    struct backup_archive_reader *r = NULL;
    struct at_got g;
    struct cm_err err;
    char want[64];
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(bad); i++) {
        at_expect_err(feed_once(bad[i], 5, false, &err), CM_EPARSE, &err,
                      "archive: neither zstd nor gzip");
        /* bytewise: refused at the fourth byte */
        assert_int_equal(backup_archive_reader_create(NULL, at_on_entry, &g, &r, &err), 0);
        assert_int_equal(backup_archive_reader_feed(r, bad[i], 3, &err), 0);
        at_expect_err(backup_archive_reader_feed(r, bad[i] + 3, 1, &err), CM_EPARSE, &err,
                      "archive: neither zstd nor gzip");
        backup_archive_reader_destroy(r);
    }
    /* fewer than four bytes, then finish; the magic alone is a truncated stream */
    for (i = 0; i < 4; i++) {
        assert_int_equal(feed_once(at_zstd_magic, i, true, &err), CM_EPARSE);
        (void)snprintf(want, sizeof(want), "archive: truncated: %zu bytes", i);
        assert_string_equal(err.msg, want);
    }
    at_expect_err(feed_once(at_zstd_magic, 4, true, &err), CM_EPARSE, &err, TRUNC_ZSTD);
    at_expect_err(feed_once("\x1f\x8b\x08\0", 4, true, &err), CM_EPARSE, &err,
                  "archive: truncated gzip stream");
}

static void test_gzip_legacy(void **state)
{
    /* Archives before libdeflate were one zlib member (deflateInit2 with 15 + 16); the
     * libdeflate writer made one member per started MiB of tar. Both read as one stream
     * in every chunking, and damage anywhere is caught. */
    static const size_t chunks[] = {1, 3, 4093, 1 << 26};
    struct at_sink one = {0};
    struct at_sink s = {0};
    struct backup_archive_reader *r = NULL;
    struct cm_buf tar;
    struct cm_err err;
    size_t starts[16];
    size_t full, off, i;
    int members = 0;

    (void)state;
    big_tar(&tar);
    cm_buf_init(&one.b, 1 << 26);
    at_add_zlib_member(&one.b, tar.ptr, tar.len, 1);
    cm_buf_init(&s.b, 1 << 26);
    for (off = 0; off < tar.len; off += AT_MIB) {
        assert_true(members < (int)CM_ARRAY_LEN(starts));
        starts[members++] = s.b.len;
        at_add_zlib_member(&s.b, tar.ptr + off, tar.len - off < AT_MIB ? tar.len - off : AT_MIB, 1);
    }
    assert_true(members > 2);
    full = s.b.len;
    for (i = 0; i < CM_ARRAY_LEN(chunks); i++) {
        assert_int_equal(at_read_big(&one, NULL, chunks[i], &err), 0);
        assert_int_equal(at_read_big(&s, NULL, chunks[i], &err), 0);
    }
    /* garbage after the last member, in the same feed or in a later one */
    assert_int_equal(cm_buf_add(&s.b, "garbage!", 8), 0);
    at_expect_err(at_read_big(&s, NULL, 1 << 26, &err), CM_EPARSE, &err,
                  "data after the gzip stream");
    at_expect_err(at_read_big(&s, NULL, 3, &err), CM_EPARSE, &err, "data after the gzip stream");
    assert_int_equal(backup_archive_reader_create(NULL, at_on_entry, &(struct at_got){0}, &r, &err),
                     0);
    assert_int_equal(backup_archive_reader_feed(r, s.b.ptr, full, &err), 0);
    at_expect_err(backup_archive_reader_feed(r, "garbage!", 8, &err), CM_EPARSE, &err,
                  "data after the gzip stream");
    backup_archive_reader_destroy(r);
    /* zeros (which gzip -d only warns about) are no member either */
    s.b.len = full;
    assert_int_equal(cm_buf_add(&s.b, "\0\0\0\0", 4), 0);
    assert_int_equal(at_read_big(&s, NULL, 4093, &err), CM_EPARSE);
    /* a whole member after the end: only zeros may follow the tar end */
    s.b.len = full;
    at_add_zlib_member(&s.b, "x", 1, 6);
    at_expect_err(at_read_big(&s, NULL, 4093, &err), CM_EPARSE, &err,
                  "data after the end of archive");
    s.b.len = full;
    at_add_zlib_member(&s.b, "", 0, 6);
    assert_int_equal(at_read_big(&s, NULL, 4093, &err), 0);
    /* truncated inside the second member (in its header and in its data), and exactly
     * after the first, where gzip is whole but tar is not */
    s.b.len = starts[1] + 5;
    at_expect_err(at_read_big(&s, NULL, 4093, &err), CM_EPARSE, &err, "truncated gzip stream");
    s.b.len = starts[1] + 1000;
    at_expect_err(at_read_big(&s, NULL, 1, &err), CM_EPARSE, &err, "truncated gzip stream");
    s.b.len = starts[2] - 1;
    at_expect_err(at_read_big(&s, NULL, 4093, &err), CM_EPARSE, &err, "truncated gzip stream");
    s.b.len = starts[1];
    at_expect_err(at_read_big(&s, NULL, 4093, &err), CM_EPARSE, &err, "truncated tar stream");
    /* a damaged byte of the second member's CRC-32 is caught */
    s.b.len = full;
    s.b.ptr[starts[2] - 5] ^= 0x55;
    at_expect_err(at_read_big(&s, NULL, 4093, &err), CM_EPARSE, &err, "gzip");
    s.b.ptr[starts[2] - 5] ^= 0x55;
    assert_int_equal(at_read_big(&s, NULL, 4093, &err), 0);
    cm_buf_free(&tar);
    cm_buf_free(&one.b);
    cm_buf_free(&s.b);
}

static void test_tar_checks(void **state)
{
    /* The sample's tar: a.json's header at 0 and data at 512, a pax header at 1024 and
     * its record at 1536, the long path's header at 2048, b.json's at 2560. */
    static const unsigned char zero[512];
    struct at_sink s = {0};
    struct cm_buf tar;
    unsigned char *big;
    struct cm_err err;
    size_t rec;

    (void)state;
    at_sample_tar(&s, &tar, &big);
    assert_int_equal(tar.ptr[1024 + 156], 'x');
    assert_int_equal(read_edited(&tar, 0, "r", 1, false, &err), 0);
    at_expect_err(read_edited(&tar, 0, "s", 1, false, &err), CM_EPARSE, &err,
                  "archive: bad tar header checksum");
    assert_int_equal(read_edited(&tar, 0, "s", 1, true, &err), 0);
    at_expect_err(read_edited(&tar, 512 + 7, "x", 1, false, &err), CM_EPARSE, &err,
                  "archive: non-zero tar padding");
    rec = (size_t)(strstr(tar.ptr + 1536, " path=") - tar.ptr) + 6;
    at_expect_err(read_edited(&tar, rec, "/", 1, false, &err), CM_EPARSE, &err,
                  "archive: unsafe pax path");
    at_expect_err(read_edited(&tar, 0, "../", 3, true, &err), CM_EPARSE, &err,
                  "archive: unsafe entry path");
    at_expect_err(read_edited(&tar, 156, "5", 1, true, &err), CM_EPARSE, &err,
                  "archive: unsupported tar entry type '5'");
    /* BACKUP_MAX_ENTRY + 1 (the reader is fed the header only, not 8 MiB) */
    assert_int_equal(read_edited(&tar, 124, "00040000001", 11, true, &err), CM_ETOOBIG);
    at_expect_err(read_edited(&tar, 2560, zero, 512, false, &err), CM_EPARSE, &err,
                  "archive: tar header after a zero block");
    tar.len -= 1024; /* no end-of-archive blocks */
    at_expect_err(read_edited(&tar, 0, "r", 1, false, &err), CM_EPARSE, &err,
                  "archive: truncated tar stream");
    tar.len += 1024;
    assert_int_equal(cm_buf_add(&tar, big, 512), 0);
    at_expect_err(read_edited(&tar, 0, "r", 1, false, &err), CM_EPARSE, &err,
                  "archive: data after the end of archive");
    free(big);
    cm_buf_free(&tar);
    cm_buf_free(&s.b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zstd_damage),       cmocka_unit_test(test_zstd_concatenated_frames),
        cmocka_unit_test(test_zstd_window_limit), cmocka_unit_test(test_unknown_format),
        cmocka_unit_test(test_gzip_legacy),       cmocka_unit_test(test_tar_checks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
