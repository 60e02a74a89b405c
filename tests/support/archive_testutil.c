/* SPDX-License-Identifier: Apache-2.0 */
/* archive_testutil.c - the sample and big archives, a memory sink and the zstd and zlib
 * libraries on their own, for the backup_archive and backup_crypt unit tests. */
#include "tests/support/archive_testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include <cmocka.h>

const unsigned char at_zstd_magic[4] = {0x28, 0xb5, 0x2f, 0xfd};

int at_mem_sink(void *ctx, const void *p, size_t n, struct cm_err *err)
{
    struct at_sink *s = ctx;

    if (++s->calls == s->fail_at)
        return cm_err_set(err, CM_EIO, "sink refused");
    return cm_buf_add(&s->b, p, n);
}

void at_fill_random_seed(unsigned char *p, size_t n, uint32_t seed)
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
    at_fill_random_seed(p, n, 2463534242u);
}

int at_on_entry(void *ctx, const char *path, const void *data, size_t n, struct cm_err *err)
{
    struct at_got *g = ctx;

    (void)err;
    if (g->n < 8) {
        (void)snprintf(g->paths[g->n], sizeof(g->paths[0]), "%s", path);
        backup_sha256_hex(data, n, g->sha[g->n]);
        g->sizes[g->n] = n;
    }
    g->n++;
    return 0;
}

struct backup_key at_test_key(void)
{
    struct backup_key k;
    struct cm_err err;

    assert_int_equal(
        backup_key_parse("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 64, &k,
                         &err),
        0);
    return k;
}

void at_long_path(char out[151])
{
    memset(out, 'a', 150);
    memcpy(out, "resources/", 10);
    memcpy(out + 145, ".json", 6);
}

void at_write_sample(struct at_sink *s, const struct backup_key *key, unsigned char **big)
{
    struct backup_archive_writer *w = NULL;
    struct cm_err err;
    char longpath[151];
    char hex[65];

    *big = malloc(200000);
    assert_non_null(*big);
    fill_random(*big, 200000);
    at_long_path(longpath);
    cm_buf_init(&s->b, 1 << 24);
    assert_int_equal(backup_archive_writer_create(at_mem_sink, s, key, 1700000000, &w, &err), 0);
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

int at_read_all(const struct at_sink *s, const struct backup_key *key, size_t chunk,
                struct at_got *g, struct cm_err *err)
{
    struct backup_archive_reader *r = NULL;
    size_t off;
    int rc = backup_archive_reader_create(key, at_on_entry, g, &r, err);

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

void at_check_sample(const struct at_got *g, const unsigned char *big)
{
    char hex[65];
    char longpath[151];

    at_long_path(longpath);
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

void at_expect_err(int rc, int want, const struct cm_err *err, const char *msg)
{
    assert_int_equal(rc, want);
    if (strstr(err->msg, msg) == NULL)
        fail_msg("\"%s\" does not contain \"%s\"", err->msg, msg);
}

int at_zstd_inflate_all(const void *p, size_t n, struct cm_buf *out)
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

uint64_t at_frame_window(const void *p, size_t n, bool *has_checksum)
{
    const unsigned char *s = p;
    uint64_t base;

    if (n < 6 || memcmp(s, at_zstd_magic, 4) != 0 || (s[4] & 0x2b) != 0)
        return 0; /* single segment, dictionary id or reserved bit */
    *has_checksum = (s[4] & 4) != 0;
    base = (uint64_t)1 << (10 + (s[5] >> 3));
    return base + base / 8 * (s[5] & 7);
}

void at_sample_tar(struct at_sink *s, struct cm_buf *tar, unsigned char **big)
{
    at_write_sample(s, NULL, big);
    cm_buf_init(tar, 1 << 24);
    assert_int_equal(at_zstd_inflate_all(s->b.ptr, s->b.len, tar), 0);
}

void at_add_zlib_member(struct cm_buf *b, const void *p, size_t n, int level)
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

size_t at_gen_entry(int i, unsigned char *buf, char path[80])
{
    if (i % 1000 == 7) {
        size_t n = 1200000 + (size_t)i;

        at_fill_random_seed(buf, n, 0x9e3779b9u * (uint32_t)(i + 1));
        (void)snprintf(path, 80, "cluster/core/v1/persistentvolumes/pv-%05d.json", i);
        return n;
    }
    (void)snprintf(path, 80, "resources/core/v1/configmaps/cm-%05d.json", i);
    return (size_t)snprintf((char *)buf, AT_GEN_MAX,
                            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                            "\"cm-%05d\"},\"data\":{\"k\":\"%u\"}}",
                            i, (unsigned)i * 2654435761u);
}

void at_write_big(struct at_sink *s, const struct backup_key *key)
{
    struct backup_archive_writer *w = NULL;
    struct cm_err err;
    unsigned char *buf = malloc(AT_GEN_MAX);
    char path[80];
    int i;

    assert_non_null(buf);
    cm_buf_init(&s->b, 1 << 26);
    assert_int_equal(backup_archive_writer_create(at_mem_sink, s, key, 1700000000, &w, &err), 0);
    for (i = 0; i < AT_BIG_N; i++) {
        size_t n = at_gen_entry(i, buf, path);

        assert_int_equal(backup_archive_writer_add(w, path, buf, n, &err), 0);
    }
    assert_int_equal(backup_archive_writer_finish(w, &err), 0);
    assert_int_equal(backup_archive_writer_bytes(w), s->b.len);
    backup_archive_writer_destroy(w);
    free(buf);
}

struct big_check {
    int n;
    int bad; /* entries whose path or bytes differ from at_gen_entry */
    unsigned char *buf;
};

static int check_entry(void *ctx, const char *path, const void *data, size_t n, struct cm_err *err)
{
    struct big_check *c = ctx;
    char want[80];
    size_t wn;

    (void)err;
    if (c->n >= AT_BIG_N) {
        c->bad++;
        return 0;
    }
    wn = at_gen_entry(c->n, c->buf, want);
    if (strcmp(path, want) != 0 || wn != n || memcmp(data, c->buf, n) != 0)
        c->bad++;
    c->n++;
    return 0;
}

int at_read_big(const struct at_sink *s, const struct backup_key *key, size_t chunk,
                struct cm_err *err)
{
    struct backup_archive_reader *r = NULL;
    struct big_check c = {0};
    size_t off;
    int rc;

    c.buf = malloc(AT_GEN_MAX);
    assert_non_null(c.buf);
    rc = backup_archive_reader_create(key, check_entry, &c, &r, err);
    for (off = 0; rc == 0 && off < s->b.len; off += chunk) {
        size_t n = s->b.len - off < chunk ? s->b.len - off : chunk;

        rc = backup_archive_reader_feed(r, s->b.ptr + off, n, err);
    }
    if (rc == 0)
        rc = backup_archive_reader_finish(r, err);
    if (rc == 0) {
        assert_int_equal(c.n, AT_BIG_N);
        assert_int_equal(c.bad, 0);
        assert_int_equal(backup_archive_reader_bytes(r), s->b.len);
    }
    backup_archive_reader_destroy(r);
    free(c.buf);
    return rc;
}
