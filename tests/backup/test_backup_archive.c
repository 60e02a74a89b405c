/* SPDX-License-Identifier: Apache-2.0 */
/* test_backup_archive.c - the streaming tar+zstd(+AES-256-GCM) writer and push reader:
 * round trips in every chunking, the writer's one zstd frame as the zstd library and the
 * system tools see it, concatenated frames, bytes after the stream, truncation, damage,
 * the reader's window limit, legacy gzip archives (one or many members, made here with
 * zlib), tar-level checks, wrong keys, limits, keys and OOM. */
#include "backup/backup.h"
#include "tests/support/kube_testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cmocka.h>

#define MIB ((size_t)1 << 20)
#define WLOG_WRITER 19 /* the writer's zstd window (AR_ZSTD_WLOG) */
#define WLOG_MAX 23    /* the largest window the reader accepts (AR_ZSTD_WLOG_MAX) */

/* The reader's messages for bytes after the last frame and for a cut stream. */
#define AFTER_ZSTD "archive: data after the zstd stream is not a zstd frame"
#define TRUNC_ZSTD "archive: truncated zstd stream"
#define WINDOW_ZSTD                                                                                \
    "archive: a zstd frame asks for a window above 8 MiB (lockwarden writes 512 KiB)"

static const unsigned char zstd_magic[4] = {0x28, 0xb5, 0x2f, 0xfd};

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

/* Incompressible bytes (xorshift; seed != 0): zstd stores them in raw blocks. */
static void fill_random_seed(unsigned char *p, size_t n, uint32_t seed)
{
    uint32_t x = seed;
    size_t i;

    for (i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)x;
    }
}

static void fill_random(unsigned char *p, size_t n)
{
    fill_random_seed(p, n, 2463534242u);
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

/* The sample's 150-byte path (a pax record in the archive). */
static void long_path(char out[151])
{
    memset(out, 'a', 150);
    memcpy(out, "resources/", 10);
    memcpy(out + 145, ".json", 6);
}

/* Writes three entries (one with a 150-byte path, one empty, one 200 KB) and returns
 * the stored bytes in s. */
static void write_sample(struct sink *s, const struct backup_key *key, unsigned char **big)
{
    struct backup_archive_writer *w = NULL;
    struct cm_err err;
    char longpath[151];
    char hex[65];

    *big = malloc(200000);
    assert_non_null(*big);
    fill_random(*big, 200000);
    long_path(longpath);
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
    backup_sha256_hex(s->b.ptr, s->b.len, hex);
    assert_string_equal(backup_archive_writer_sha256(w), hex);
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
    char longpath[151];

    long_path(longpath);
    assert_int_equal(g->n, 3);
    assert_string_equal(g->paths[0], "resources/core/v1/configmaps/a.json");
    backup_sha256_hex("{\"a\":1}", 7, hex);
    assert_string_equal(g->sha[0], hex);
    assert_string_equal(g->paths[1], longpath);
    assert_int_equal(g->sizes[1], 0);
    assert_string_equal(g->paths[2], "cluster/core/v1/persistentvolumes/b.json");
    backup_sha256_hex(big, 200000, hex);
    assert_string_equal(g->sha[2], hex);
}

/* rc must be want, and err's message must contain msg. */
static void expect_err(int rc, int want, const struct cm_err *err, const char *msg)
{
    assert_int_equal(rc, want);
    if (strstr(err->msg, msg) == NULL)
        fail_msg("\"%s\" does not contain \"%s\"", err->msg, msg);
}

/* ---- the zstd and zlib libraries, independently of the reader ---- */

/* Decompresses p[0..n) with the zstd library alone (any number of frames), appending
 * to out. Returns 0, or -1 when the bytes are not a series of whole zstd frames. */
static int zstd_inflate_all(const void *p, size_t n, struct cm_buf *out)
{
    ZSTD_DCtx *d = ZSTD_createDCtx();
    ZSTD_inBuffer in = {p, n, 0};
    unsigned char *buf = malloc(65536);
    size_t zrc = 1;
    int rc = 0;

    assert_non_null(d);
    assert_non_null(buf);
    while (rc == 0 && (in.pos < in.size || zrc != 0)) {
        ZSTD_outBuffer o = {buf, 65536, 0};
        size_t before = in.pos;

        zrc = ZSTD_decompressStream(d, &o, &in);
        if (ZSTD_isError(zrc) || cm_buf_add(out, buf, o.pos) != 0 ||
            (in.pos == before && o.pos == 0))
            rc = -1; /* error, or no progress: truncated */
    }
    ZSTD_freeDCtx(d);
    free(buf);
    return rc;
}

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

/* The window a zstd frame header asks for (RFC 8878 3.1.1.1) and its checksum flag;
 * 0 when p is no frame header, or a single-segment one (window = content size). */
static uint64_t frame_window(const void *p, size_t n, bool *has_checksum)
{
    const unsigned char *s = p;
    uint64_t base;

    if (n < 6 || memcmp(s, zstd_magic, 4) != 0 || (s[4] & 0x2b) != 0)
        return 0; /* single segment, dictionary id or reserved bit */
    *has_checksum = (s[4] & 4) != 0;
    base = (uint64_t)1 << (10 + (s[5] >> 3));
    return base + base / 8 * (s[5] & 7);
}

/* A fresh plain reader fed p[0..n) in one piece, then finished when is_finish.
 * Returns the first failing code. */
static int feed_once(const void *p, size_t n, bool is_finish, struct cm_err *err)
{
    struct backup_archive_reader *r = NULL;
    struct got g = {0};
    int rc = backup_archive_reader_create(NULL, on_entry, &g, &r, err);

    if (rc == 0)
        rc = backup_archive_reader_feed(r, p, n, err);
    if (rc == 0 && is_finish)
        rc = backup_archive_reader_finish(r, err);
    backup_archive_reader_destroy(r);
    return rc;
}

/* The plain sample (write_sample) and its tar, as the zstd library decompresses it. */
static void sample_tar(struct sink *s, struct cm_buf *tar, unsigned char **big)
{
    write_sample(s, NULL, big);
    cm_buf_init(tar, 1 << 24);
    assert_int_equal(zstd_inflate_all(s->b.ptr, s->b.len, tar), 0);
}

/* Appends a gzip member of p[0..n) made by zlib (as archives before zstd were). */
static void add_zlib_member(struct cm_buf *b, const void *p, size_t n, int level)
{
    z_stream zs;
    unsigned char *out;
    uLong cap;

    memset(&zs, 0, sizeof(zs));
    assert_int_equal(deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    cap = deflateBound(&zs, (uLong)n);
    out = malloc(cap);
    assert_non_null(out);
    zs.next_in = (unsigned char *)(uintptr_t)p;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    assert_int_equal(cm_buf_add(b, out, cap - zs.avail_out), 0);
    (void)deflateEnd(&zs);
    free(out);
}

/* ---- the big archive: thousands of small JSON entries and three large random ones ---- */

#define BIG_N 3000
#define GEN_MAX 1300000

/* Entry i of the big archive: every 1000th (from 7) is 1.2 MB of random bytes, the
 * rest small ConfigMap-like JSON. Returns the size; data into buf (GEN_MAX bytes). */
static size_t gen_entry(int i, unsigned char *buf, char path[80])
{
    if (i % 1000 == 7) {
        size_t n = 1200000 + (size_t)i;

        fill_random_seed(buf, n, 0x9e3779b9u * (uint32_t)(i + 1));
        (void)snprintf(path, 80, "cluster/core/v1/persistentvolumes/pv-%05d.json", i);
        return n;
    }
    (void)snprintf(path, 80, "resources/core/v1/configmaps/cm-%05d.json", i);
    return (size_t)snprintf((char *)buf, GEN_MAX,
                            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                            "\"cm-%05d\"},\"data\":{\"k\":\"%u\"}}",
                            i, (unsigned)i * 2654435761u);
}

/* Writes the BIG_N entries (about 6.6 MiB of tar, 3.5 MiB of it incompressible). */
static void write_big(struct sink *s, const struct backup_key *key)
{
    struct backup_archive_writer *w = NULL;
    struct cm_err err;
    unsigned char *buf = malloc(GEN_MAX);
    char path[80];
    int i;

    assert_non_null(buf);
    cm_buf_init(&s->b, 1 << 26);
    assert_int_equal(backup_archive_writer_create(mem_sink, s, key, 1700000000, &w, &err), 0);
    for (i = 0; i < BIG_N; i++) {
        size_t n = gen_entry(i, buf, path);

        assert_int_equal(backup_archive_writer_add(w, path, buf, n, &err), 0);
    }
    assert_int_equal(backup_archive_writer_finish(w, &err), 0);
    assert_int_equal(backup_archive_writer_bytes(w), s->b.len);
    backup_archive_writer_destroy(w);
    free(buf);
}

/* The big archive's tar, as the zstd library decompresses the writer's output. */
static void big_tar(struct cm_buf *tar)
{
    struct sink s = {0};

    write_big(&s, NULL);
    cm_buf_init(tar, 1 << 26);
    assert_int_equal(zstd_inflate_all(s.b.ptr, s.b.len, tar), 0);
    cm_buf_free(&s.b);
}

struct big_check {
    int n;
    int bad; /* entries whose path or bytes differ from gen_entry */
    unsigned char *buf;
};

static int check_entry(void *ctx, const char *path, const void *data, size_t n, struct cm_err *err)
{
    struct big_check *c = ctx;
    char want[80];
    size_t wn;

    (void)err;
    if (c->n >= BIG_N) {
        c->bad++;
        return 0;
    }
    wn = gen_entry(c->n, c->buf, want);
    if (strcmp(path, want) != 0 || wn != n || memcmp(data, c->buf, n) != 0)
        c->bad++;
    c->n++;
    return 0;
}

/* Reads s in chunks of chunk bytes, checking every entry byte for byte against
 * gen_entry. Returns the reader's code. */
static int read_big(const struct sink *s, const struct backup_key *key, size_t chunk,
                    struct cm_err *err)
{
    struct backup_archive_reader *r = NULL;
    struct big_check c = {0};
    size_t off;
    int rc;

    c.buf = malloc(GEN_MAX);
    assert_non_null(c.buf);
    rc = backup_archive_reader_create(key, check_entry, &c, &r, err);
    for (off = 0; rc == 0 && off < s->b.len; off += chunk) {
        size_t n = s->b.len - off < chunk ? s->b.len - off : chunk;

        rc = backup_archive_reader_feed(r, s->b.ptr + off, n, err);
    }
    if (rc == 0)
        rc = backup_archive_reader_finish(r, err);
    if (rc == 0) {
        assert_int_equal(c.n, BIG_N);
        assert_int_equal(c.bad, 0);
        assert_int_equal(backup_archive_reader_bytes(r), s->b.len);
    }
    backup_archive_reader_destroy(r);
    free(c.buf);
    return rc;
}

/* Walks a tar stream: ustar headers with valid checksums, then at least two zero
 * blocks and only zeros. With is_big, file i must have gen_entry(i)'s name and size.
 * Returns the number of regular files, or -1. */
static int tar_count(const struct cm_buf *tar, bool is_big)
{
    const unsigned char *p = (const unsigned char *)tar->ptr;
    unsigned char *buf = malloc(GEN_MAX);
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
            (files >= BIG_N || gen_entry(files, buf, want) != size ||
             strncmp((const char *)h, want, 100) != 0))
            break;
        if (h[156] == '0')
            files++;
        off += 512 + (size_t)((size + 511) / 512 * 512);
    }
    free(buf);
    return -1;
}

/* ---- the writer: zstd out, read back by the reader, the library and the tools ---- */

static void test_roundtrip_chunkings(void **state)
{
    static const size_t chunks[] = {1, 3, 7, 511, 512, 513, 4096, 65537, 1 << 24};
    struct sink s = {0};
    unsigned char *big;
    struct got g;
    struct cm_err err;
    size_t i;

    (void)state;
    write_sample(&s, NULL, &big);
    assert_memory_equal(s.b.ptr, zstd_magic, 4);
    for (i = 0; i < CM_ARRAY_LEN(chunks); i++) {
        assert_int_equal(read_all(&s, NULL, chunks[i], &g, &err), 0);
        check_sample(&g, big);
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
    struct sink s = {0};
    struct cm_buf tar;
    struct cm_err err;
    bool has_checksum = false;
    uint64_t window;
    size_t i;

    (void)state;
    write_big(&s, NULL);
    assert_true(s.b.len > 3 * MIB);
    assert_memory_equal(s.b.ptr, zstd_magic, 4);
    assert_int_equal(ZSTD_findFrameCompressedSize(s.b.ptr, s.b.len), s.b.len);
    window = frame_window(s.b.ptr, s.b.len, &has_checksum);
    assert_true(window >= 1024 && window <= (uint64_t)1 << WLOG_WRITER);
    assert_true(has_checksum);
    cm_buf_init(&tar, 1 << 26);
    assert_int_equal(zstd_inflate_all(s.b.ptr, s.b.len, &tar), 0);
    assert_true(tar.len > 6 * MIB);
    assert_int_equal(tar_count(&tar, true), BIG_N);
    for (i = 0; i < CM_ARRAY_LEN(chunks); i++)
        assert_int_equal(read_big(&s, NULL, chunks[i], &err), 0);
    cm_buf_free(&tar);
    cm_buf_free(&s.b);
}

static void test_empty_archive(void **state)
{
    /* No entries: still one whole frame (the end-of-archive blocks). */
    struct backup_key k = test_key();
    struct backup_archive_writer *w = NULL;
    struct sink s = {0};
    struct sink e = {0};
    struct cm_buf tar;
    struct got g;
    struct cm_err err;

    (void)state;
    cm_buf_init(&s.b, 1 << 20);
    assert_int_equal(backup_archive_writer_create(mem_sink, &s, NULL, 0, &w, &err), 0);
    assert_int_equal(backup_archive_writer_finish(w, &err), 0);
    backup_archive_writer_destroy(w);
    assert_memory_equal(s.b.ptr, zstd_magic, 4);
    assert_int_equal(ZSTD_findFrameCompressedSize(s.b.ptr, s.b.len), s.b.len);
    cm_buf_init(&tar, 1 << 20);
    assert_int_equal(zstd_inflate_all(s.b.ptr, s.b.len, &tar), 0);
    assert_int_equal(tar.len, 1024);
    assert_int_equal(tar_count(&tar, false), 0);
    assert_int_equal(read_all(&s, NULL, 1, &g, &err), 0);
    assert_int_equal(g.n, 0);
    assert_int_equal(read_all(&s, NULL, 1 << 20, &g, &err), 0);
    assert_int_equal(g.n, 0);
    cm_buf_init(&e.b, 1 << 20);
    assert_int_equal(backup_archive_writer_create(mem_sink, &e, &k, 0, &w, &err), 0);
    assert_int_equal(backup_archive_writer_finish(w, &err), 0);
    backup_archive_writer_destroy(w);
    assert_int_equal(read_all(&e, &k, 3, &g, &err), 0);
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
    struct sink s = {0};
    struct sink small = {0};
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
    buf = malloc(GEN_MAX);
    assert_non_null(buf);
    write_big(&s, NULL);
    write_sample(&small, NULL, &sample);
    assert_int_equal(kube_test_mkdtemp(dir, sizeof(dir)), 0);
    write_file(dir, "a.tar.zst", &s.b);
    write_file(dir, "s.tar.zst", &small.b);
    first_line(line, dir, "zstd -q -t a.tar.zst && zstd -q -dc a.tar.zst | tar -tf - | wc -l");
    assert_int_equal(strtol(line, NULL, 10), BIG_N);
    /* the last large entry comes out byte-exact */
    n = gen_entry(2007, buf, path);
    backup_sha256_hex(buf, n, hex);
    first_line(line, dir, "tar --zstd -xOf a.tar.zst '%s' | sha256sum", path);
    assert_memory_equal(line, hex, 64);
    /* the sample: a small entry's bytes, and the 150-byte path from its pax record */
    first_line(line, dir, "tar --zstd -xOf s.tar.zst resources/core/v1/configmaps/a.json");
    assert_string_equal(line, "{\"a\":1}");
    first_line(line, dir, "tar --zstd -tf s.tar.zst | sed -n 2p");
    long_path(longpath);
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
    expect_err(read_all(&s, &other, 4096, &g, &err), CM_EINTEGRITY, &err, "authentication");
    /* plain reader on encrypted bytes */
    expect_err(read_all(&s, NULL, 4096, &g, &err), CM_EPARSE, &err, "neither zstd nor gzip");
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
        assert_int_equal(read_all(&t, &k, 4096, &g, &err), CM_EINTEGRITY);
        cm_buf_free(&t.b);
    }
    /* truncation at a frame boundary and mid-frame */
    {
        struct sink t = {0};

        t.b = s.b;
        t.b.len = 12 + 4 + BACKUP_ENC_FRAME + 16; /* exactly one full, non-final frame */
        assert_true(t.b.len < s.b.len);
        expect_err(read_all(&t, &k, 4096, &g, &err), CM_EPARSE, &err, "truncated");
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

static void test_big_encrypted(void **state)
{
    struct backup_key k = test_key();
    struct sink plain = {0};
    struct sink s = {0};
    struct cm_err err;
    size_t frames;

    (void)state;
    write_big(&plain, NULL);
    write_big(&s, &k);
    assert_memory_equal(s.b.ptr, "LWENC001", 8);
    /* the same zstd stream inside: header, then BACKUP_ENC_FRAME-byte frames of it
     * (4-byte length, 16-byte tag each) */
    frames = (plain.b.len + BACKUP_ENC_FRAME - 1) / BACKUP_ENC_FRAME;
    assert_int_equal(s.b.len, 12 + plain.b.len + 20 * frames);
    assert_int_equal(read_big(&s, &k, 4093, &err), 0);
    assert_int_equal(read_big(&s, &k, BACKUP_ENC_FRAME + 7, &err), 0);
    assert_int_equal(read_big(&s, &k, 1 << 26, &err), 0);
    /* a truncated last frame is still caught */
    s.b.len -= 1;
    assert_int_equal(read_big(&s, &k, 4093, &err), CM_EPARSE);
    cm_buf_free(&plain.b);
    cm_buf_free(&s.b);
    backup_key_wipe(&k);
}

/* ---- the reader on zstd input ---- */

static void test_zstd_damage(void **state)
{
    struct sink s = {0};
    unsigned char *big;
    struct backup_archive_reader *r = NULL;
    struct got g;
    struct cm_err err;
    size_t full, mid, i;

    (void)state;
    write_sample(&s, NULL, &big);
    full = s.b.len;
    /* truncated: in the frame header, in the middle, in and before the checksum */
    for (i = 0; i < 4; i++) {
        s.b.len = i == 0 ? 5 : i == 1 ? full / 2 : full - 1 - 3 * (i - 2);
        expect_err(read_all(&s, NULL, i == 2 ? 1 : 512, &g, &err), CM_EPARSE, &err, TRUNC_ZSTD);
    }
    s.b.len = full;
    /* a byte in the middle (in a raw block of the random entry: tar cannot notice, the
     * entries before it come out, and zstd's content checksum must) and one of the
     * checksum itself */
    mid = full / 2;
    s.b.ptr[mid] ^= 0x55;
    expect_err(read_all(&s, NULL, 4093, &g, &err), CM_EPARSE, &err, "archive: zstd: ");
    assert_non_null(strstr(err.msg, "checksum"));
    assert_true(g.n >= 2);
    s.b.ptr[mid] ^= 0x55;
    s.b.ptr[full - 2] ^= 0x55;
    expect_err(read_all(&s, NULL, 4093, &g, &err), CM_EPARSE, &err, "checksum");
    s.b.ptr[full - 2] ^= 0x55;
    assert_int_equal(read_all(&s, NULL, 4093, &g, &err), 0);
    check_sample(&g, big);
    /* garbage after the frame: in the same feed, bytewise, and in a later feed */
    assert_int_equal(cm_buf_add(&s.b, "garbage!", 8), 0);
    expect_err(read_all(&s, NULL, 1 << 24, &g, &err), CM_EPARSE, &err, AFTER_ZSTD);
    expect_err(read_all(&s, NULL, 1, &g, &err), CM_EPARSE, &err, AFTER_ZSTD);
    assert_int_equal(backup_archive_reader_create(NULL, on_entry, &g, &r, &err), 0);
    assert_int_equal(backup_archive_reader_feed(r, s.b.ptr, full, &err), 0);
    expect_err(backup_archive_reader_feed(r, "garbage!", 8, &err), CM_EPARSE, &err, AFTER_ZSTD);
    assert_int_equal(backup_archive_reader_finish(r, &err), CM_EINVAL);
    backup_archive_reader_destroy(r);
    /* zeros are no frame either */
    s.b.len = full;
    assert_int_equal(cm_buf_add(&s.b, "\0\0\0\0\0\0\0\0", 8), 0);
    expect_err(read_all(&s, NULL, 4093, &g, &err), CM_EPARSE, &err, AFTER_ZSTD);
    /* a whole frame after the end: only zeros may follow the tar end; an empty one is
     * harmless */
    s.b.len = full;
    add_zstd_frame(&s.b, "x", 1, 0);
    expect_err(read_all(&s, NULL, 4093, &g, &err), CM_EPARSE, &err,
               "data after the end of archive");
    s.b.len = full;
    add_zstd_frame(&s.b, "", 0, 0);
    assert_int_equal(read_all(&s, NULL, 3, &g, &err), 0);
    check_sample(&g, big);
    free(big);
    cm_buf_free(&s.b);
}

static void test_zstd_concatenated_frames(void **state)
{
    /* Frames made by the zstd library, split inside an entry and with an empty frame
     * between, read as one tar stream in every chunking. */
    static const size_t chunks[] = {1, 4093, 1 << 26};
    struct sink s = {0};
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
    assert_int_equal(zstd_inflate_all(s.b.ptr, s.b.len, &back), 0);
    assert_int_equal(back.len, tar.len);
    assert_memory_equal(back.ptr, tar.ptr, tar.len);
    for (i = 0; i < CM_ARRAY_LEN(chunks); i++)
        assert_int_equal(read_big(&s, NULL, chunks[i], &err), 0);
    /* truncated exactly after a frame (zstd is whole, tar is not), inside one */
    s.b.len = f1;
    expect_err(read_big(&s, NULL, 4093, &err), CM_EPARSE, &err, "archive: truncated tar stream");
    s.b.len = f2 - 1000;
    expect_err(read_big(&s, NULL, 4093, &err), CM_EPARSE, &err, TRUNC_ZSTD);
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
            expect_err(read_big(&s, NULL, 4093, &err), CM_EPARSE, &err, tail[t].msg);
            expect_err(read_big(&s, NULL, 1, &err), CM_EPARSE, &err, tail[t].msg);
            expect_err(read_big(&s, NULL, 3, &err), CM_EPARSE, &err, tail[t].msg);
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
    struct sink ok = {0};
    struct sink over = {0};
    struct sink s = {0};
    struct cm_buf tar;
    unsigned char *big;
    bool has_checksum = false;
    struct got g;
    struct cm_err err;

    (void)state;
    sample_tar(&s, &tar, &big);
    cm_buf_init(&ok.b, 1 << 24);
    add_zstd_frame(&ok.b, tar.ptr, tar.len, WLOG_MAX);
    assert_int_equal(frame_window(ok.b.ptr, ok.b.len, &has_checksum), (uint64_t)1 << WLOG_MAX);
    assert_int_equal(read_all(&ok, NULL, 4093, &g, &err), 0);
    check_sample(&g, big);
    assert_int_equal(feed_once(ok.b.ptr, 6, false, &err), 0);
    cm_buf_init(&over.b, 1 << 24);
    add_zstd_frame(&over.b, tar.ptr, tar.len, WLOG_MAX + 1);
    assert_int_equal(frame_window(over.b.ptr, over.b.len, &has_checksum),
                     (uint64_t)1 << (WLOG_MAX + 1));
    expect_err(read_all(&over, NULL, 4093, &g, &err), CM_EPARSE, &err, WINDOW_ZSTD);
    assert_int_equal(g.n, 0);
    assert_int_equal(feed_once(over.b.ptr, 6, false, &err), CM_EPARSE);
    /* 2^23 + 2^20 (mantissa 1): the smallest window above the limit */
    over.b.ptr[5] = (char)(((WLOG_MAX - 10) << 3) | 1);
    assert_int_equal(frame_window(over.b.ptr, over.b.len, &has_checksum),
                     ((uint64_t)1 << WLOG_MAX) + ((uint64_t)1 << (WLOG_MAX - 3)));
    expect_err(feed_once(over.b.ptr, 6, false, &err), CM_EPARSE, &err, WINDOW_ZSTD);
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
    struct got g;
    struct cm_err err;
    char want[64];
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(bad); i++) {
        expect_err(feed_once(bad[i], 5, false, &err), CM_EPARSE, &err,
                   "archive: neither zstd nor gzip");
        /* bytewise: refused at the fourth byte */
        assert_int_equal(backup_archive_reader_create(NULL, on_entry, &g, &r, &err), 0);
        assert_int_equal(backup_archive_reader_feed(r, bad[i], 3, &err), 0);
        expect_err(backup_archive_reader_feed(r, bad[i] + 3, 1, &err), CM_EPARSE, &err,
                   "archive: neither zstd nor gzip");
        backup_archive_reader_destroy(r);
    }
    /* fewer than four bytes, then finish; the magic alone is a truncated stream */
    for (i = 0; i < 4; i++) {
        assert_int_equal(feed_once(zstd_magic, i, true, &err), CM_EPARSE);
        (void)snprintf(want, sizeof(want), "archive: truncated: %zu bytes", i);
        assert_string_equal(err.msg, want);
    }
    expect_err(feed_once(zstd_magic, 4, true, &err), CM_EPARSE, &err, TRUNC_ZSTD);
    expect_err(feed_once("\x1f\x8b\x08\0", 4, true, &err), CM_EPARSE, &err,
               "archive: truncated gzip stream");
}

/* ---- the reader on gzip input (archives written before zstd) ---- */

static void test_gzip_legacy(void **state)
{
    /* Archives before libdeflate were one zlib member (deflateInit2 with 15 + 16); the
     * libdeflate writer made one member per started MiB of tar. Both read as one stream
     * in every chunking, and damage anywhere is caught. */
    static const size_t chunks[] = {1, 3, 4093, 1 << 26};
    struct sink one = {0};
    struct sink s = {0};
    struct backup_archive_reader *r = NULL;
    struct cm_buf tar;
    struct cm_err err;
    size_t starts[16];
    size_t full, off, i;
    int members = 0;

    (void)state;
    big_tar(&tar);
    cm_buf_init(&one.b, 1 << 26);
    add_zlib_member(&one.b, tar.ptr, tar.len, 1);
    cm_buf_init(&s.b, 1 << 26);
    for (off = 0; off < tar.len; off += MIB) {
        assert_true(members < (int)CM_ARRAY_LEN(starts));
        starts[members++] = s.b.len;
        add_zlib_member(&s.b, tar.ptr + off, tar.len - off < MIB ? tar.len - off : MIB, 1);
    }
    assert_true(members > 2);
    full = s.b.len;
    for (i = 0; i < CM_ARRAY_LEN(chunks); i++) {
        assert_int_equal(read_big(&one, NULL, chunks[i], &err), 0);
        assert_int_equal(read_big(&s, NULL, chunks[i], &err), 0);
    }
    /* garbage after the last member, in the same feed or in a later one */
    assert_int_equal(cm_buf_add(&s.b, "garbage!", 8), 0);
    expect_err(read_big(&s, NULL, 1 << 26, &err), CM_EPARSE, &err, "data after the gzip stream");
    expect_err(read_big(&s, NULL, 3, &err), CM_EPARSE, &err, "data after the gzip stream");
    assert_int_equal(backup_archive_reader_create(NULL, on_entry, &(struct got){0}, &r, &err), 0);
    assert_int_equal(backup_archive_reader_feed(r, s.b.ptr, full, &err), 0);
    expect_err(backup_archive_reader_feed(r, "garbage!", 8, &err), CM_EPARSE, &err,
               "data after the gzip stream");
    backup_archive_reader_destroy(r);
    /* zeros (which gzip -d only warns about) are no member either */
    s.b.len = full;
    assert_int_equal(cm_buf_add(&s.b, "\0\0\0\0", 4), 0);
    assert_int_equal(read_big(&s, NULL, 4093, &err), CM_EPARSE);
    /* a whole member after the end: only zeros may follow the tar end */
    s.b.len = full;
    add_zlib_member(&s.b, "x", 1, 6);
    expect_err(read_big(&s, NULL, 4093, &err), CM_EPARSE, &err, "data after the end of archive");
    s.b.len = full;
    add_zlib_member(&s.b, "", 0, 6);
    assert_int_equal(read_big(&s, NULL, 4093, &err), 0);
    /* truncated inside the second member (in its header and in its data), and exactly
     * after the first, where gzip is whole but tar is not */
    s.b.len = starts[1] + 5;
    expect_err(read_big(&s, NULL, 4093, &err), CM_EPARSE, &err, "truncated gzip stream");
    s.b.len = starts[1] + 1000;
    expect_err(read_big(&s, NULL, 1, &err), CM_EPARSE, &err, "truncated gzip stream");
    s.b.len = starts[2] - 1;
    expect_err(read_big(&s, NULL, 4093, &err), CM_EPARSE, &err, "truncated gzip stream");
    s.b.len = starts[1];
    expect_err(read_big(&s, NULL, 4093, &err), CM_EPARSE, &err, "truncated tar stream");
    /* a damaged byte of the second member's CRC-32 is caught */
    s.b.len = full;
    s.b.ptr[starts[2] - 5] ^= 0x55;
    expect_err(read_big(&s, NULL, 4093, &err), CM_EPARSE, &err, "gzip");
    s.b.ptr[starts[2] - 5] ^= 0x55;
    assert_int_equal(read_big(&s, NULL, 4093, &err), 0);
    cm_buf_free(&tar);
    cm_buf_free(&one.b);
    cm_buf_free(&s.b);
}

/* ---- tar-level checks (the tar edited, then compressed by the zstd library) ---- */

/* Reads the tar with the edit bytes put at off (header checksum then fixed when
 * is_fix_sum), as one zstd frame; returns the reader's code. */
static int read_edited(const struct cm_buf *tar, size_t off, const void *edit, size_t n,
                       bool is_fix_sum, struct cm_err *err)
{
    struct sink s = {0};
    struct cm_buf t;
    unsigned char *h;
    struct got g;
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
    rc = read_all(&s, NULL, 4093, &g, err);
    cm_buf_free(&s.b);
    cm_buf_free(&t);
    return rc;
}

static void test_tar_checks(void **state)
{
    /* The sample's tar: a.json's header at 0 and data at 512, a pax header at 1024 and
     * its record at 1536, the long path's header at 2048, b.json's at 2560. */
    static const unsigned char zero[512];
    struct sink s = {0};
    struct cm_buf tar;
    unsigned char *big;
    struct cm_err err;
    size_t rec;

    (void)state;
    sample_tar(&s, &tar, &big);
    assert_int_equal(tar.ptr[1024 + 156], 'x');
    assert_int_equal(read_edited(&tar, 0, "r", 1, false, &err), 0);
    expect_err(read_edited(&tar, 0, "s", 1, false, &err), CM_EPARSE, &err,
               "archive: bad tar header checksum");
    assert_int_equal(read_edited(&tar, 0, "s", 1, true, &err), 0);
    expect_err(read_edited(&tar, 512 + 7, "x", 1, false, &err), CM_EPARSE, &err,
               "archive: non-zero tar padding");
    rec = (size_t)(strstr(tar.ptr + 1536, " path=") - tar.ptr) + 6;
    expect_err(read_edited(&tar, rec, "/", 1, false, &err), CM_EPARSE, &err,
               "archive: unsafe pax path");
    expect_err(read_edited(&tar, 0, "../", 3, true, &err), CM_EPARSE, &err,
               "archive: unsafe entry path");
    expect_err(read_edited(&tar, 156, "5", 1, true, &err), CM_EPARSE, &err,
               "archive: unsupported tar entry type '5'");
    /* BACKUP_MAX_ENTRY + 1 (the reader is fed the header only, not 8 MiB) */
    assert_int_equal(read_edited(&tar, 124, "00040000001", 11, true, &err), CM_ETOOBIG);
    expect_err(read_edited(&tar, 2560, zero, 512, false, &err), CM_EPARSE, &err,
               "archive: tar header after a zero block");
    tar.len -= 1024; /* no end-of-archive blocks */
    expect_err(read_edited(&tar, 0, "r", 1, false, &err), CM_EPARSE, &err,
               "archive: truncated tar stream");
    tar.len += 1024;
    assert_int_equal(cm_buf_add(&tar, big, 512), 0);
    expect_err(read_edited(&tar, 0, "r", 1, false, &err), CM_EPARSE, &err,
               "archive: data after the end of archive");
    free(big);
    cm_buf_free(&tar);
    cm_buf_free(&s.b);
}

/* ---- limits, failures, keys, OOM ---- */

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
    /* zstd hands out output only when a block (or a worker's job) is done: the sink
     * fails on its first call, in add once enough is written, or in finish. */
    struct backup_archive_writer *w = NULL;
    struct sink s = {0};
    struct cm_err err;
    unsigned char *big = malloc(MIB);
    int i, rc = 0;

    (void)state;
    assert_non_null(big);
    cm_buf_init(&s.b, 1 << 26);
    s.fail_at = 1;
    assert_int_equal(backup_archive_writer_create(mem_sink, &s, NULL, 0, &w, &err), 0);
    for (i = 0; i < 32 && rc == 0; i++) {
        fill_random_seed(big, MIB, (uint32_t)i + 1);
        rc = backup_archive_writer_add(w, "a", big, MIB, &err);
    }
    expect_err(rc, CM_EIO, &err, "sink refused");
    assert_int_equal(backup_archive_writer_add(w, "b", "", 0, &err), CM_EINVAL);
    assert_int_equal(backup_archive_writer_finish(w, &err), CM_EINVAL);
    assert_string_equal(backup_archive_writer_sha256(w), "");
    backup_archive_writer_destroy(w);
    /* the sink's next call after a small entry fails in finish */
    cm_buf_reset(&s.b);
    s.calls = 0;
    s.fail_at = 0;
    assert_int_equal(backup_archive_writer_create(mem_sink, &s, NULL, 0, &w, &err), 0);
    assert_int_equal(backup_archive_writer_add(w, "a", "{}", 2, &err), 0);
    s.fail_at = s.calls + 1;
    expect_err(backup_archive_writer_finish(w, &err), CM_EIO, &err, "sink refused");
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
    /* Allocation n fails, n = 1, 2, ... until the run succeeds; zstd and zlib allocate
     * with malloc, so only our own allocations (writer, reader, GCM layer, entry buffer,
     * the test's sink) fail, and each such run must end in CM_ENOMEM. */
    struct backup_key k = test_key();
    struct sink in[3];
    struct cm_buf tar;
    unsigned char *big;
    unsigned char *big2;
    char longpath[151];
    struct got g;
    struct cm_err err;
    long n;
    int rc, j;

    (void)state;
    memset(in, 0, sizeof(in));
    sample_tar(&in[0], &tar, &big);
    write_sample(&in[1], &k, &big2);
    cm_buf_init(&in[2].b, 1 << 24);
    add_zlib_member(&in[2].b, tar.ptr, tar.len, 1);
    long_path(longpath);
    for (j = 0; j < 3; j++) {
        for (n = 1;; n++) {
            assert_true(n < 10000);
            cm_alloc_fault_set(n);
            rc = read_all(&in[j], j == 1 ? &k : NULL, 65536, &g, &err);
            if (!cm_alloc_fault_fired()) {
                cm_alloc_fault_set(0);
                assert_int_equal(rc, 0);
                check_sample(&g, big);
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
            struct sink t = {0};

            assert_true(n < 10000);
            cm_buf_init(&t.b, 1 << 24);
            cm_alloc_fault_set(n);
            rc = backup_archive_writer_create(mem_sink, &t, j == 1 ? &k : NULL, 0, &w, &err);
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
        cmocka_unit_test(test_zstd_damage),
        cmocka_unit_test(test_zstd_concatenated_frames),
        cmocka_unit_test(test_zstd_window_limit),
        cmocka_unit_test(test_unknown_format),
        cmocka_unit_test(test_gzip_legacy),
        cmocka_unit_test(test_tar_checks),
        cmocka_unit_test(test_writer_limits),
        cmocka_unit_test(test_sink_failure),
        cmocka_unit_test(test_reader_callback_stops),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_oom),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
