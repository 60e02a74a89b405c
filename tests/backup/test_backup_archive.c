/* SPDX-License-Identifier: Apache-2.0 */
/* test_backup_archive.c - the streaming tar+gzip(+AES-256-GCM) writer and push reader:
 * round trips in every chunking, long pax paths, tampering, truncation, wrong keys,
 * limits, keys and OOM; archives of many gzip members (member boundaries, bytes after
 * the last member, truncation inside one, old one-member archives, system gzip/tar). */
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

/* Incompressible bytes (xorshift; seed != 0), so that outputs span several frames,
 * chunks and gzip members. */
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

/* ---- multi-member archives (one gzip member per 1 MiB of tar) ---- */

#define MIB ((size_t)1 << 20)
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

/* Inflates p[0..n) with zlib one gzip member at a time, independently of the reader:
 * appends the tar to tar (may be NULL) and the offset where each member starts to
 * starts (the first max). Returns the number of members, or -1 when the bytes are not
 * a series of whole gzip members. */
static int inflate_members(const void *p, size_t n, struct cm_buf *tar, size_t *starts, int max)
{
    const unsigned char *in = p;
    unsigned char *out = malloc(65536);
    z_stream zs;
    size_t off = 0;
    int members = 0;

    assert_non_null(out);
    memset(&zs, 0, sizeof(zs));
    assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
    while (off < n) {
        int zrc;

        if (members < max)
            starts[members] = off;
        assert_int_equal(inflateReset(&zs), Z_OK);
        zs.next_in = (unsigned char *)(uintptr_t)(in + off);
        zs.avail_in = (uInt)(n - off);
        do {
            zs.next_out = out;
            zs.avail_out = 65536;
            zrc = inflate(&zs, Z_NO_FLUSH);
            if (tar != NULL && cm_buf_add(tar, out, 65536 - zs.avail_out) != 0)
                zrc = Z_MEM_ERROR;
        } while (zrc == Z_OK);
        if (zrc != Z_STREAM_END) {
            members = -1;
            break;
        }
        off = n - zs.avail_in;
        members++;
    }
    (void)inflateEnd(&zs);
    free(out);
    return members;
}

/* Walks a tar stream: ustar headers with valid checksums, then at least two zero
 * blocks and only zeros. Returns the number of regular files, or -1. */
static int tar_count(const struct cm_buf *tar)
{
    const unsigned char *p = (const unsigned char *)tar->ptr;
    size_t off = 0;
    int files = 0;

    if (tar->len % 512 != 0)
        return -1;
    while (off + 512 <= tar->len) {
        const unsigned char *h = p + off;
        char field[13];
        unsigned sum = 0;
        unsigned long long size;
        size_t i;

        for (i = 0; i < 512 && h[i] == 0; i++)
            ;
        if (i == 512) {
            for (i = off; i < tar->len; i++) {
                if (p[i] != 0)
                    return -1;
            }
            return tar->len - off >= 1024 ? files : -1;
        }
        if (memcmp(h + 257, "ustar", 5) != 0)
            return -1;
        for (i = 0; i < 512; i++)
            sum += (i >= 148 && i < 156) ? ' ' : h[i];
        memcpy(field, h + 148, 8);
        field[8] = '\0';
        if (strtoul(field, NULL, 8) != sum)
            return -1;
        memcpy(field, h + 124, 12);
        field[12] = '\0';
        size = strtoull(field, NULL, 8);
        if (h[156] == '0')
            files++;
        off += 512 + (size_t)((size + 511) / 512 * 512);
    }
    return -1;
}

static void test_multi_member_roundtrip(void **state)
{
    static const size_t chunks[] = {3, 17, 511, 4093, 65537, 1048573, 1 << 26};
    struct sink s = {0};
    struct cm_buf tar;
    struct cm_err err;
    size_t starts[16];
    size_t i;
    int members;

    (void)state;
    write_big(&s, NULL);
    cm_buf_init(&tar, 1 << 26);
    members = inflate_members(s.b.ptr, s.b.len, &tar, starts, 16);
    /* one member per started MiB of tar */
    assert_true(tar.len > 6 * MIB);
    assert_int_equal(members, (int)((tar.len + MIB - 1) / MIB));
    assert_int_equal(tar_count(&tar), BIG_N);
    for (i = 1; i < (size_t)members && i < CM_ARRAY_LEN(starts); i++) {
        assert_int_equal((unsigned char)s.b.ptr[starts[i]], 0x1f);
        assert_int_equal((unsigned char)s.b.ptr[starts[i] + 1], 0x8b);
    }
    for (i = 0; i < CM_ARRAY_LEN(chunks); i++)
        assert_int_equal(read_big(&s, NULL, chunks[i], &err), 0);
    cm_buf_free(&tar);
    cm_buf_free(&s.b);
}

static void test_multi_member_bytewise(void **state)
{
    /* Every member boundary is split at every byte. */
    struct sink s = {0};
    struct cm_err err;

    (void)state;
    write_big(&s, NULL);
    assert_int_equal(read_big(&s, NULL, 1, &err), 0);
    cm_buf_free(&s.b);
}

/* Writes one entry "b" of n random bytes; returns the number of gzip members after
 * checking that the archive reads back. */
static int one_entry_members(size_t n)
{
    struct backup_archive_writer *w = NULL;
    struct sink s = {0};
    struct got g;
    struct cm_err err;
    unsigned char *data = malloc(n);
    char hex[65];
    size_t starts[1];
    int members;

    assert_non_null(data);
    fill_random(data, n);
    cm_buf_init(&s.b, 1 << 24);
    assert_int_equal(backup_archive_writer_create(mem_sink, &s, NULL, 0, &w, &err), 0);
    assert_int_equal(backup_archive_writer_add(w, "b", data, n, &err), 0);
    assert_int_equal(backup_archive_writer_finish(w, &err), 0);
    backup_archive_writer_destroy(w);
    assert_int_equal(read_all(&s, NULL, 4093, &g, &err), 0);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.sizes[0], n);
    backup_sha256_hex(data, n, hex);
    assert_string_equal(g.sha[0], hex);
    members = inflate_members(s.b.ptr, s.b.len, NULL, starts, 0);
    free(data);
    cm_buf_free(&s.b);
    return members;
}

static void test_member_boundaries(void **state)
{
    struct backup_archive_writer *w = NULL;
    struct sink s = {0};
    struct got g;
    struct cm_err err;
    size_t starts[1];

    (void)state;
    /* tar = 512 (header) + data padded to 512 + 1024 (end): exactly one block, one
     * block and one tar block more, exactly two blocks */
    assert_int_equal(one_entry_members(MIB - 1536), 1);
    assert_int_equal(one_entry_members(MIB - 1535), 2);
    assert_int_equal(one_entry_members(2 * MIB - 1536), 2);
    assert_int_equal(one_entry_members(2 * MIB - 1535), 3);
    /* no entries: the end-of-archive blocks still make one member */
    cm_buf_init(&s.b, 1 << 20);
    assert_int_equal(backup_archive_writer_create(mem_sink, &s, NULL, 0, &w, &err), 0);
    assert_int_equal(backup_archive_writer_finish(w, &err), 0);
    backup_archive_writer_destroy(w);
    assert_int_equal(inflate_members(s.b.ptr, s.b.len, NULL, starts, 0), 1);
    assert_int_equal(read_all(&s, NULL, 1, &g, &err), 0);
    assert_int_equal(g.n, 0);
    cm_buf_free(&s.b);
}

/* Appends a gzip member of p[0..n) made by zlib. */
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

static void test_multi_member_garbage(void **state)
{
    struct sink s = {0};
    struct backup_archive_reader *r = NULL;
    struct cm_err err;
    size_t starts[16];
    size_t full;
    int members;

    (void)state;
    write_big(&s, NULL);
    full = s.b.len;
    members = inflate_members(s.b.ptr, s.b.len, NULL, starts, 16);
    assert_true(members > 2);
    /* garbage after the last member, in the same feed or in a later one */
    assert_int_equal(cm_buf_add(&s.b, "garbage!", 8), 0);
    assert_int_equal(read_big(&s, NULL, 1 << 26, &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "data after the gzip stream"));
    assert_int_equal(read_big(&s, NULL, 3, &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "data after the gzip stream"));
    assert_int_equal(backup_archive_reader_create(NULL, on_entry, &(struct got){0}, &r, &err), 0);
    assert_int_equal(backup_archive_reader_feed(r, s.b.ptr, full, &err), 0);
    assert_int_equal(backup_archive_reader_feed(r, "garbage!", 8, &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "data after the gzip stream"));
    backup_archive_reader_destroy(r);
    /* zeros (which gzip -d only warns about) and a lone byte are no member either */
    s.b.len = full;
    assert_int_equal(cm_buf_add(&s.b, "\0\0\0\0", 4), 0);
    assert_int_equal(read_big(&s, NULL, 4093, &err), CM_EPARSE);
    s.b.len = full;
    assert_int_equal(cm_buf_addc(&s.b, 0x1f), 0);
    assert_int_equal(read_big(&s, NULL, 4093, &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "truncated gzip stream"));
    /* a whole member after the end: only zeros may follow the tar end */
    s.b.len = full;
    add_zlib_member(&s.b, "x", 1, 6);
    assert_int_equal(read_big(&s, NULL, 4093, &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "data after the end of archive"));
    s.b.len = full;
    add_zlib_member(&s.b, "", 0, 6);
    assert_int_equal(read_big(&s, NULL, 4093, &err), 0);
    /* truncated inside the second member (in its header and in its data), and exactly
     * after the first, where gzip is whole but tar is not */
    s.b.len = starts[1] + 5;
    assert_int_equal(read_big(&s, NULL, 4093, &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "truncated gzip stream"));
    s.b.len = starts[1] + 1000;
    assert_int_equal(read_big(&s, NULL, 1, &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "truncated gzip stream"));
    s.b.len = starts[2] - 1;
    assert_int_equal(read_big(&s, NULL, 4093, &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "truncated gzip stream"));
    s.b.len = starts[1];
    assert_int_equal(read_big(&s, NULL, 4093, &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "truncated tar stream"));
    /* a damaged second member is caught: its magic, and a byte of its CRC-32 */
    s.b.len = full;
    s.b.ptr[starts[1]] ^= 0x55;
    assert_int_equal(read_big(&s, NULL, 4093, &err), CM_EPARSE);
    s.b.ptr[starts[1]] ^= 0x55;
    s.b.ptr[starts[2] - 5] ^= 0x55;
    assert_int_equal(read_big(&s, NULL, 4093, &err), CM_EPARSE);
    assert_non_null(strstr(err.msg, "gzip"));
    s.b.ptr[starts[2] - 5] ^= 0x55;
    assert_int_equal(read_big(&s, NULL, 4093, &err), 0);
    cm_buf_free(&s.b);
}

static void test_single_member_still_reads(void **state)
{
    /* Archives written before libdeflate are one zlib member (deflateInit2 with 15 + 16,
     * level 1 then; any level inflates the same). */
    static const size_t chunks[] = {1, 4093, 1 << 26};
    struct sink s = {0};
    struct sink old = {0};
    struct cm_buf tar;
    struct cm_err err;
    size_t starts[1];
    size_t i;

    (void)state;
    write_big(&s, NULL);
    cm_buf_init(&tar, 1 << 26);
    assert_true(inflate_members(s.b.ptr, s.b.len, &tar, starts, 0) > 1);
    cm_buf_init(&old.b, 1 << 26);
    add_zlib_member(&old.b, tar.ptr, tar.len, 1);
    assert_int_equal(inflate_members(old.b.ptr, old.b.len, NULL, starts, 0), 1);
    for (i = 0; i < CM_ARRAY_LEN(chunks); i++)
        assert_int_equal(read_big(&old, NULL, chunks[i], &err), 0);
    cm_buf_free(&tar);
    cm_buf_free(&old.b);
    cm_buf_free(&s.b);
}

static void test_multi_member_encrypted(void **state)
{
    struct backup_key k = test_key();
    struct sink plain = {0};
    struct sink s = {0};
    struct cm_err err;
    size_t starts[1];
    size_t frames;

    (void)state;
    write_big(&plain, NULL);
    assert_true(inflate_members(plain.b.ptr, plain.b.len, NULL, starts, 0) > 1);
    write_big(&s, &k);
    assert_memory_equal(s.b.ptr, "LWENC001", 8);
    /* the same multi-member gzip stream inside: header, then 65536-byte frames of it
     * (4-byte length, 16-byte tag each) */
    frames = (plain.b.len + 65535) / 65536;
    assert_int_equal(s.b.len, 12 + plain.b.len + 20 * frames);
    assert_int_equal(read_big(&s, &k, 4093, &err), 0);
    assert_int_equal(read_big(&s, &k, 65536 + 7, &err), 0);
    /* a truncated last frame is still caught */
    s.b.len -= 1;
    assert_int_equal(read_big(&s, &k, 4093, &err), CM_EPARSE);
    cm_buf_free(&plain.b);
    cm_buf_free(&s.b);
    backup_key_wipe(&k);
}

static void test_multi_member_system_tools(void **state)
{
    /* GNU gzip and tar read the member series as one stream. */
    struct sink s = {0};
    char dir[512], cmd[1400], line[128];
    char path[80];
    char hex[65];
    unsigned char *buf = malloc(GEN_MAX);
    size_t n;
    FILE *f;

    (void)state;
    assert_non_null(buf);
    if (system("command -v gzip >/dev/null 2>&1 && command -v tar >/dev/null 2>&1 && "
               "command -v sha256sum >/dev/null 2>&1") != 0) {
        free(buf);
        print_message("skip: gzip, tar or sha256sum not installed\n");
        skip();
    }
    write_big(&s, NULL);
    assert_int_equal(kube_test_mkdtemp(dir, sizeof(dir)), 0);
    (void)snprintf(cmd, sizeof(cmd), "%s/a.tar.gz", dir);
    f = fopen(cmd, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(s.b.ptr, 1, s.b.len, f), s.b.len);
    assert_int_equal(fclose(f), 0);
    /* gzip -t checks every member's CRC; tar lists every entry */
    (void)snprintf(cmd, sizeof(cmd),
                   "cd '%s' && gzip -t a.tar.gz && gzip -dc a.tar.gz > a.tar && "
                   "tar -tf a.tar | wc -l",
                   dir);
    f = popen(cmd, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
    assert_int_equal(pclose(f), 0);
    assert_int_equal(strtol(line, NULL, 10), BIG_N);
    /* the last large entry (it spans members) comes out byte-exact */
    n = gen_entry(2007, buf, path);
    backup_sha256_hex(buf, n, hex);
    (void)snprintf(cmd, sizeof(cmd), "cd '%s' && tar -xzOf a.tar.gz '%s' | sha256sum", dir, path);
    f = popen(cmd, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
    assert_int_equal(pclose(f), 0);
    assert_memory_equal(line, hex, 64);
    kube_test_rmtree(dir);
    free(buf);
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
        cmocka_unit_test(test_multi_member_roundtrip),
        cmocka_unit_test(test_multi_member_bytewise),
        cmocka_unit_test(test_member_boundaries),
        cmocka_unit_test(test_multi_member_garbage),
        cmocka_unit_test(test_single_member_still_reads),
        cmocka_unit_test(test_multi_member_encrypted),
        cmocka_unit_test(test_multi_member_system_tools),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
