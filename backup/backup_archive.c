/* SPDX-License-Identifier: Apache-2.0 */
/* backup_archive.c - the streaming restore-point archive: tar (ustar + pax path
 * records) compressed with zstd, optionally AES-256-GCM framed, with SHA-256 and size of
 * the stored bytes. The writer streams one zstd level 1 frame (content checksum on,
 * window 2^AR_ZSTD_WLOG). The reader tells zstd from gzip by the first bytes: archives
 * written before the switch to zstd (gzip, any series of members, RFC 1952 2.2) still
 * read. Memory is bounded: the writer holds zstd's context (about 1.5 MiB at level 1
 * with this window); the reader one zstd (window at most 2^AR_ZSTD_WLOG_MAX) or zlib
 * state, one output chunk and one entry (BACKUP_MAX_ENTRY); both one GCM frame. */
#include "backup/backup_int.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#define AR_CHUNK 65536
#define AR_PAX_MAX 4096 /* a pax header we accept when reading */
/* zstd: the writer's window (2^AR_ZSTD_WLOG, level 1's own for large inputs, stated
 * so the reader's limit below is a promise), and the largest window a reader accepts,
 * so that a hostile frame cannot ask for gigabytes. */
#define AR_ZSTD_WLOG 19
#define AR_ZSTD_WLOG_MAX 23

/* ---- shared: hashing the stored bytes ---- */

struct ar_hash {
    EVP_MD_CTX *md;
    uint64_t bytes;
    char hex[65];
};

static int hash_init(struct ar_hash *h)
{
    h->md = EVP_MD_CTX_new();
    if (h->md == NULL || EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1)
        return CM_EIO;
    return 0;
}

static void hash_update(struct ar_hash *h, const void *p, size_t n)
{
    (void)EVP_DigestUpdate(h->md, p, n);
    h->bytes += n;
}

static void hash_final(struct ar_hash *h)
{
    unsigned char md[32];
    unsigned int l = 0;
    static const char xd[] = "0123456789abcdef";
    int i;

    if (h->md == NULL || EVP_DigestFinal_ex(h->md, md, &l) != 1 || l != 32)
        return;
    for (i = 0; i < 32; i++) {
        h->hex[2 * i] = xd[md[i] >> 4];
        h->hex[2 * i + 1] = xd[md[i] & 15];
    }
    h->hex[64] = '\0';
}

/* ---- writer ---- */

struct backup_archive_writer {
    backup_sink_fn sink;
    void *sink_ctx;
    struct bk_enc *enc;
    ZSTD_CCtx *zc;
    bool failed;
    bool finished;
    time_t mtime;
    struct ar_hash hash;
    unsigned char out[AR_CHUNK];
};

/* The stored bytes: hashed, counted, passed on. */
static int stored_sink(void *ctx, const void *p, size_t n, struct cm_err *err)
{
    struct backup_archive_writer *w = ctx;

    hash_update(&w->hash, p, n);
    return w->sink(w->sink_ctx, p, n, err);
}

static int emit(struct backup_archive_writer *w, const void *p, size_t n, struct cm_err *err)
{
    if (w->enc != NULL)
        return bk_enc_write(w->enc, p, n, err);
    return stored_sink(w, p, n, err);
}

/* Feeds tar bytes to zstd (mode ZSTD_e_end: and ends the frame), passing on whatever
 * compressed bytes come out. */
static int zstd_put(struct backup_archive_writer *w, const void *p, size_t n,
                    ZSTD_EndDirective mode, struct cm_err *err)
{
    ZSTD_inBuffer in = {p, n, 0};
    size_t left;

    do {
        ZSTD_outBuffer out = {w->out, sizeof(w->out), 0};
        int rc;

        left = ZSTD_compressStream2(w->zc, &out, &in, mode);
        if (ZSTD_isError(left))
            return cm_err_set(
                err, ZSTD_getErrorCode(left) == ZSTD_error_memory_allocation ? CM_ENOMEM : CM_EIO,
                "archive: zstd: %s", ZSTD_getErrorName(left));
        if (out.pos > 0) {
            rc = emit(w, w->out, out.pos, err);
            if (rc != 0)
                return rc;
        }
    } while (in.pos < in.size || (mode == ZSTD_e_end && left != 0));
    return 0;
}

static int tar_put(struct backup_archive_writer *w, const void *p, size_t n, struct cm_err *err)
{
    return n == 0 ? 0 : zstd_put(w, p, n, ZSTD_e_continue, err);
}

int backup_archive_writer_create(backup_sink_fn sink, void *ctx, const struct backup_key *key,
                                 time_t mtime, struct backup_archive_writer **out,
                                 struct cm_err *err)
{
    struct backup_archive_writer *w = NULL;
    int rc;

    if (sink == NULL || out == NULL)
        return cm_err_set(err, CM_EINVAL, "archive: no sink");
    w = cm_calloc(1, sizeof(*w));
    if (w == NULL)
        return cm_err_set(err, CM_ENOMEM, "archive: out of memory");
    w->sink = sink;
    w->sink_ctx = ctx;
    w->mtime = mtime < 0 ? 0 : mtime;
    if (hash_init(&w->hash) != 0) {
        rc = cm_err_set(err, CM_EIO, "archive: SHA-256 initialisation failed");
        goto fail;
    }
    if (key != NULL) {
        rc = bk_enc_create(key, stored_sink, w, &w->enc, err);
        if (rc != 0)
            goto fail;
    }
    /* Level 1: compression was the largest CPU cost of a capture (bench_capture: zlib
     * level 1 took 55 ms per 10 MB of JSON, libdeflate 27 ms, zstd 17 ms, and zstd's
     * output is a fifth smaller). Single-threaded: the archive worker is already the
     * second busy thread beside the capture thread, and zstd's own worker thread only
     * added a tail (its last job compresses after the last byte came in). zstd
     * allocates with malloc (see z_alloc), so a NULL context is the one failure of
     * its own the out-of-memory tests cannot make. */
    w->zc = ZSTD_createCCtx();
    if (w->zc == NULL) {
        rc = cm_err_set(err, CM_ENOMEM, "archive: out of memory");
        goto fail;
    }
    if (ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_compressionLevel, 1)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_windowLog, AR_ZSTD_WLOG)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_checksumFlag, 1))) {
        rc = cm_err_set(err, CM_EIO, "archive: zstd initialisation failed");
        goto fail;
    }
    *out = w;
    return 0;
fail:
    backup_archive_writer_destroy(w);
    return rc;
}

static void octal(char *dst, size_t width, uint64_t v)
{
    /* width-1 digits and a NUL, as ustar wants. */
    size_t i;

    dst[width - 1] = '\0';
    for (i = width - 1; i > 0; i--) {
        dst[i - 1] = (char)('0' + (v & 7));
        v >>= 3;
    }
}

static void tar_header(unsigned char h[512], const char *name, size_t name_len, uint64_t size,
                       char type, time_t mtime)
{
    unsigned sum = 0;
    size_t i;

    memset(h, 0, 512);
    memcpy(h, name, name_len > 100 ? 100 : name_len);
    octal((char *)h + 100, 8, 0644);
    octal((char *)h + 108, 8, 0);
    octal((char *)h + 116, 8, 0);
    octal((char *)h + 124, 12, size);
    octal((char *)h + 136, 12, (uint64_t)mtime);
    memset(h + 148, ' ', 8);
    h[156] = (unsigned char)type;
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    for (i = 0; i < 512; i++)
        sum += h[i];
    octal((char *)h + 148, 7, sum);
    h[155] = ' ';
}

static int pad512(struct backup_archive_writer *w, uint64_t size, struct cm_err *err)
{
    static const unsigned char zero[512];
    size_t r = (size_t)(size % 512);

    return r == 0 ? 0 : tar_put(w, zero, 512 - r, err);
}

int backup_archive_writer_add(struct backup_archive_writer *w, const char *path, const void *data,
                              size_t n, struct cm_err *err)
{
    unsigned char h[512];
    size_t plen;
    int rc;

    if (w == NULL || path == NULL || (data == NULL && n > 0))
        return cm_err_set(err, CM_EINVAL, "archive: bad arguments");
    if (w->failed || w->finished)
        return cm_err_set(err, CM_EINVAL, "archive: writer already failed or finished");
    plen = strlen(path);
    if (!bk_path_ok_n(path, plen))
        return cm_err_set(err, CM_EINVAL, "archive: unsafe entry path \"%.80s\"", path);
    if (n > BACKUP_MAX_ENTRY)
        return cm_err_set(err, CM_ETOOBIG, "archive: entry %.80s is %zu bytes (max %u)", path, n,
                          (unsigned)BACKUP_MAX_ENTRY);
    if (plen > 100) {
        /* pax record "<len> path=<p>\n" where len counts its own digits. */
        char rec[300];
        size_t body = plen + 7; /* " path=" + "\n" */
        size_t total = body + 1;
        int rl;

        while (total != body + (size_t)snprintf(NULL, 0, "%zu", total))
            total = body + (size_t)snprintf(NULL, 0, "%zu", total);
        rl = snprintf(rec, sizeof(rec), "%zu path=%s\n", total, path);
        if (rl < 0 || (size_t)rl != total) {
            w->failed = true;
            return cm_err_set(err, CM_EINVAL, "archive: pax header");
        }
        tar_header(h, "././@PaxHeader", 14, total, 'x', w->mtime);
        rc = tar_put(w, h, 512, err);
        if (rc == 0)
            rc = tar_put(w, rec, total, err);
        if (rc == 0)
            rc = pad512(w, total, err);
        if (rc != 0) {
            w->failed = true;
            return rc;
        }
    }
    tar_header(h, path, plen, n, '0', w->mtime);
    rc = tar_put(w, h, 512, err);
    if (rc == 0 && n > 0)
        rc = tar_put(w, data, n, err);
    if (rc == 0)
        rc = pad512(w, n, err);
    if (rc != 0)
        w->failed = true;
    return rc;
}

int backup_archive_writer_finish(struct backup_archive_writer *w, struct cm_err *err)
{
    static const unsigned char zero[1024];
    int rc;

    if (w == NULL || w->failed || w->finished)
        return cm_err_set(err, CM_EINVAL, "archive: writer already failed or finished");
    /* The end-of-archive blocks, then the end of the zstd frame (its checksum). */
    rc = zstd_put(w, zero, sizeof(zero), ZSTD_e_end, err);
    if (rc == 0 && w->enc != NULL)
        rc = bk_enc_finish(w->enc, err);
    if (rc != 0) {
        w->failed = true;
        return rc;
    }
    hash_final(&w->hash);
    w->finished = true;
    return 0;
}

uint64_t backup_archive_writer_bytes(const struct backup_archive_writer *w)
{
    return w != NULL ? w->hash.bytes : 0;
}

const char *backup_archive_writer_sha256(const struct backup_archive_writer *w)
{
    return w != NULL && w->finished ? w->hash.hex : "";
}

void backup_archive_writer_destroy(struct backup_archive_writer *w)
{
    if (w == NULL)
        return;
    ZSTD_freeCCtx(w->zc);
    bk_enc_destroy(w->enc);
    EVP_MD_CTX_free(w->hash.md);
    cm_free(w);
}

/* ---- reader ---- */

enum ar_state { AR_HEADER = 0, AR_PAX, AR_DATA, AR_PAD, AR_END };

struct backup_archive_reader {
    backup_entry_fn fn;
    void *fn_ctx;
    struct bk_dec *dec;
    enum { AR_SNIFF = 0, AR_GZIP, AR_ZSTD } comp; /* from the first bytes */
    unsigned char magic[4];
    size_t magic_fill;
    ZSTD_DCtx *zd;
    bool zd_end; /* the input so far ends exactly at the end of a zstd frame */
    z_stream zs;
    gz_header gzh; /* done == 1: the current member's header was read whole */
    bool zs_init;
    bool z_end;      /* the input so far ends exactly at the end of a member */
    bool has_member; /* a member was read to its end */
    bool failed;
    struct ar_hash hash;
    enum ar_state st;
    unsigned char hdr[512];
    size_t hdr_fill;
    int zero_blocks;
    uint64_t remain; /* data or pad bytes left in this state */
    uint64_t size;
    char pax_path[256];
    bool has_pax_path;
    struct cm_buf data;
    unsigned char out[AR_CHUNK];
};

static int unpack_feed(void *ctx, const void *p, size_t n, struct cm_err *err);

/* zlib allocates through cm_malloc, so the out-of-memory tests reach it too. (zstd's
 * allocator hooks are in its static-linking-only API, which a shared library does not
 * promise to keep: zstd allocates with malloc, and its allocation failures still
 * arrive as CM_ENOMEM through ZSTD_error_memory_allocation.) */
static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return cm_calloc(items, size);
}

static void z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    cm_free(p);
}

int backup_archive_reader_create(const struct backup_key *key, backup_entry_fn fn, void *ctx,
                                 struct backup_archive_reader **out, struct cm_err *err)
{
    struct backup_archive_reader *r;
    int rc;

    if (fn == NULL || out == NULL)
        return cm_err_set(err, CM_EINVAL, "archive: no entry callback");
    r = cm_calloc(1, sizeof(*r));
    if (r == NULL)
        return cm_err_set(err, CM_ENOMEM, "archive: out of memory");
    r->fn = fn;
    r->fn_ctx = ctx;
    cm_buf_init(&r->data, BACKUP_MAX_ENTRY);
    if (hash_init(&r->hash) != 0) {
        rc = cm_err_set(err, CM_EIO, "archive: SHA-256 initialisation failed");
        goto fail;
    }
    if (key != NULL) {
        /* Decrypted bytes go to the decompressor, the plain archive's entry point. */
        rc = bk_dec_create(key, unpack_feed, r, &r->dec, err);
        if (rc != 0)
            goto fail;
    }
    *out = r;
    return 0;
fail:
    backup_archive_reader_destroy(r);
    return rc;
}

static uint64_t parse_octal(const unsigned char *p, size_t n, bool *ok)
{
    uint64_t v = 0;
    size_t i = 0;

    while (i < n && p[i] == ' ')
        i++;
    if (i == n || p[i] < '0' || p[i] > '7') {
        *ok = false;
        return 0;
    }
    for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) {
        if (v > (UINT64_MAX >> 3)) {
            *ok = false;
            return 0;
        }
        v = (v << 3) | (uint64_t)(p[i] - '0');
    }
    for (; i < n; i++) {
        if (p[i] != '\0' && p[i] != ' ') {
            *ok = false;
            return 0;
        }
    }
    return v;
}

static int on_header(struct backup_archive_reader *r, struct cm_err *err)
{
    unsigned sum = 0;
    size_t i;
    bool ok = true;
    uint64_t want;
    char type;

    for (i = 0; i < 512 && r->hdr[i] == 0; i++)
        ;
    if (i == 512) {
        if (++r->zero_blocks == 2)
            r->st = AR_END;
        return 0;
    }
    if (r->zero_blocks != 0)
        return cm_err_set(err, CM_EPARSE, "archive: tar header after a zero block");
    for (i = 0; i < 512; i++)
        sum += (i >= 148 && i < 156) ? ' ' : r->hdr[i];
    want = parse_octal(r->hdr + 148, 8, &ok);
    if (!ok || want != sum)
        return cm_err_set(err, CM_EPARSE, "archive: bad tar header checksum");
    if (memcmp(r->hdr + 257, "ustar", 5) != 0)
        return cm_err_set(err, CM_EPARSE, "archive: not a ustar header");
    r->size = parse_octal(r->hdr + 124, 12, &ok);
    if (!ok)
        return cm_err_set(err, CM_EPARSE, "archive: bad tar size field");
    type = (char)r->hdr[156];
    if (type == 'x') {
        if (r->size > AR_PAX_MAX || r->has_pax_path)
            return cm_err_set(err, CM_EPARSE, "archive: unexpected pax header");
        r->st = AR_PAX;
    } else if (type == '0' || type == '\0') {
        if (r->size > BACKUP_MAX_ENTRY)
            return cm_err_set(err, CM_ETOOBIG, "archive: entry of %llu bytes (max %u)",
                              (unsigned long long)r->size, (unsigned)BACKUP_MAX_ENTRY);
        r->st = AR_DATA;
    } else {
        return cm_err_set(err, CM_EPARSE, "archive: unsupported tar entry type '%c'",
                          type >= 0x20 && type < 0x7f ? type : '?');
    }
    r->remain = r->size;
    cm_buf_reset(&r->data);
    return 0;
}

static int on_pax(struct backup_archive_reader *r, struct cm_err *err)
{
    /* Records "<len> key=value\n"; only path is used. */
    const char *p = r->data.ptr ? r->data.ptr : "";
    size_t n = r->data.len;
    size_t off = 0;

    while (off < n) {
        uint64_t len = 0;
        size_t i = off;
        const char *kv;
        size_t kvn;

        while (i < n && p[i] >= '0' && p[i] <= '9' && i - off < 6)
            len = len * 10 + (uint64_t)(p[i++] - '0');
        if (i == off || i >= n || p[i] != ' ' || len < 5 || off + len > n ||
            p[off + len - 1] != '\n')
            return cm_err_set(err, CM_EPARSE, "archive: bad pax record");
        kv = p + i + 1;
        kvn = off + len - 1 - (i + 1);
        if (kvn > 5 && memcmp(kv, "path=", 5) == 0) {
            if (kvn - 5 >= sizeof(r->pax_path) || !bk_path_ok_n(kv + 5, kvn - 5))
                return cm_err_set(err, CM_EPARSE, "archive: unsafe pax path");
            memcpy(r->pax_path, kv + 5, kvn - 5);
            r->pax_path[kvn - 5] = '\0';
            r->has_pax_path = true;
        }
        off += (size_t)len;
    }
    return 0;
}

static int on_entry(struct backup_archive_reader *r, struct cm_err *err)
{
    char name[256];
    size_t n;
    int rc;

    if (r->has_pax_path) {
        memcpy(name, r->pax_path, strlen(r->pax_path) + 1);
        r->has_pax_path = false;
    } else {
        /* ustar: prefix (155) + "/" + name (100). */
        const char *nm = (const char *)r->hdr;
        const char *pf = (const char *)r->hdr + 345;
        size_t nl = strnlen(nm, 100);
        size_t pl = strnlen(pf, 155);

        if (pl > 0)
            (void)snprintf(name, sizeof(name), "%.*s/%.*s", (int)pl, pf, (int)nl, nm);
        else
            (void)snprintf(name, sizeof(name), "%.*s", (int)nl, nm);
    }
    n = strlen(name);
    if (!bk_path_ok_n(name, n))
        return cm_err_set(err, CM_EPARSE, "archive: unsafe entry path");
    rc = r->fn(r->fn_ctx, name, r->data.ptr ? r->data.ptr : "", r->data.len, err);
    cm_buf_reset(&r->data);
    return rc;
}

/* Tar bytes (after inflate). */
static int tar_feed(struct backup_archive_reader *r, const unsigned char *s, size_t n,
                    struct cm_err *err)
{
    int rc;

    while (n > 0) {
        size_t take;

        switch (r->st) {
        case AR_HEADER:
            take = 512 - r->hdr_fill;
            take = take > n ? n : take;
            memcpy(r->hdr + r->hdr_fill, s, take);
            r->hdr_fill += take;
            s += take;
            n -= take;
            if (r->hdr_fill == 512) {
                r->hdr_fill = 0;
                rc = on_header(r, err);
                if (rc != 0)
                    return rc;
                if ((r->st == AR_DATA || r->st == AR_PAX) && r->remain == 0)
                    goto entry_done;
            }
            break;
        case AR_PAX:
        case AR_DATA:
            take = r->remain > n ? n : (size_t)r->remain;
            if (cm_buf_add(&r->data, s, take) != 0)
                return cm_err_set(err, CM_ENOMEM, "archive: out of memory");
            s += take;
            n -= take;
            r->remain -= take;
            if (r->remain == 0)
                goto entry_done;
            break;
        case AR_PAD:
            take = r->remain > n ? n : (size_t)r->remain;
            for (size_t i = 0; i < take; i++) {
                if (s[i] != 0)
                    return cm_err_set(err, CM_EPARSE, "archive: non-zero tar padding");
            }
            s += take;
            n -= take;
            r->remain -= take;
            if (r->remain == 0)
                r->st = AR_HEADER;
            break;
        case AR_END:
            /* GNU tar pads the end to a record; accept zeros only. */
            for (size_t i = 0; i < n; i++) {
                if (s[i] != 0)
                    return cm_err_set(err, CM_EPARSE, "archive: data after the end of archive");
            }
            n = 0;
            break;
        }
        continue;
    entry_done:
        rc = r->st == AR_PAX ? on_pax(r, err) : on_entry(r, err);
        if (rc != 0)
            return rc;
        r->remain = (512 - r->size % 512) % 512;
        r->st = r->remain ? AR_PAD : AR_HEADER;
    }
    return 0;
}

/* Compressed bytes: a series of gzip members (RFC 1952 2.2), inflated as one stream. */
static int gz_feed(struct backup_archive_reader *r, const void *p, size_t n, struct cm_err *err)
{
    int rc;

    r->zs.next_in = (unsigned char *)(uintptr_t)p;
    r->zs.avail_in = (uInt)n;
    while (r->zs.avail_in > 0) {
        int zrc;

        if (r->z_end) {
            /* More bytes after a member: they must be the next member. inflateReset
             * forgets the header record, so it is set again. */
            if (inflateReset(&r->zs) != Z_OK || inflateGetHeader(&r->zs, &r->gzh) != Z_OK)
                return cm_err_set(err, CM_EIO, "archive: zlib reset failed");
            r->z_end = false;
        }
        r->zs.next_out = r->out;
        r->zs.avail_out = sizeof(r->out);
        zrc = inflate(&r->zs, Z_NO_FLUSH);
        if (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR) {
            if (zrc == Z_DATA_ERROR && r->has_member && r->gzh.done != 1)
                return cm_err_set(err, CM_EPARSE,
                                  "archive: data after the gzip stream is not a gzip member "
                                  "(%s)",
                                  r->zs.msg ? r->zs.msg : "bad header");
            return cm_err_set(err, zrc == Z_MEM_ERROR ? CM_ENOMEM : CM_EPARSE, "archive: gzip: %s",
                              r->zs.msg ? r->zs.msg : "corrupt data");
        }
        rc = tar_feed(r, r->out, sizeof(r->out) - r->zs.avail_out, err);
        if (rc != 0)
            return rc;
        if (zrc == Z_STREAM_END) {
            r->z_end = true;
            r->has_member = true;
        } else if (zrc == Z_BUF_ERROR && r->zs.avail_out != 0) {
            break;
        }
    }
    return 0;
}

static const unsigned char zstd_magic[4] = {0x28, 0xb5, 0x2f, 0xfd};

/* Moves input into r->magic until it holds 4 bytes; whether it does. */
static bool take_magic(struct backup_archive_reader *r, const unsigned char **s, size_t *n)
{
    size_t take = 4 - r->magic_fill < *n ? 4 - r->magic_fill : *n;

    memcpy(r->magic + r->magic_fill, *s, take);
    r->magic_fill += take;
    *s += take;
    *n -= take;
    return r->magic_fill == 4;
}

/* One ZSTD_decompressStream step over in, its output to tar. It stops at the end of a
 * frame (r->zd_end), so that the next bytes are checked before zstd sees them. */
static int zstd_step(struct backup_archive_reader *r, ZSTD_inBuffer *in, struct cm_err *err)
{
    ZSTD_outBuffer out = {r->out, sizeof(r->out), 0};
    size_t zrc = ZSTD_decompressStream(r->zd, &out, in);
    int rc;

    if (ZSTD_isError(zrc)) {
        ZSTD_ErrorCode code = ZSTD_getErrorCode(zrc);

        if (code == ZSTD_error_memory_allocation)
            return cm_err_set(err, CM_ENOMEM, "archive: out of memory");
        if (code == ZSTD_error_frameParameter_windowTooLarge)
            return cm_err_set(err, CM_EPARSE,
                              "archive: a zstd frame asks for a window above %u MiB (lockwarden "
                              "writes %u KiB)",
                              1u << (AR_ZSTD_WLOG_MAX - 20), 1u << (AR_ZSTD_WLOG - 10));
        return cm_err_set(err, CM_EPARSE, "archive: zstd: %s", ZSTD_getErrorName(zrc));
    }
    rc = tar_feed(r, r->out, out.pos, err);
    if (rc == 0)
        r->zd_end = zrc == 0 && out.pos < out.size;
    return rc;
}

/* Compressed bytes: zstd frames, one after the other. Between frames (and first) the
 * next four bytes must be a frame's magic, checked here whatever the chunking: zstd
 * alone would also take skippable frames, and its error for other bytes depends on how
 * they arrive. */
static int zstd_feed(struct backup_archive_reader *r, const void *p, size_t n, struct cm_err *err)
{
    const unsigned char *s = p;

    while (n > 0) {
        ZSTD_inBuffer in;
        int rc;

        if (r->zd_end) {
            if (!take_magic(r, &s, &n))
                return 0;
            if (memcmp(r->magic, zstd_magic, 4) != 0)
                return cm_err_set(err, CM_EPARSE,
                                  "archive: data after the zstd stream is not a zstd frame");
            r->magic_fill = 0;
            r->zd_end = false;
            in = (ZSTD_inBuffer){zstd_magic, 4, 0};
            while (in.pos < in.size) {
                rc = zstd_step(r, &in, err);
                if (rc != 0)
                    return rc;
            }
            continue;
        }
        in = (ZSTD_inBuffer){s, n, 0};
        rc = zstd_step(r, &in, err);
        if (rc != 0)
            return rc;
        s += in.pos;
        n -= in.pos;
    }
    return 0;
}

/* Compressed bytes, whichever the format: the first four bytes tell (zstd frames start
 * 28 b5 2f fd, gzip members 1f 8b). */
static int unpack_feed(void *ctx, const void *p, size_t n, struct cm_err *err)
{
    struct backup_archive_reader *r = ctx;
    const unsigned char *s = p;

    if (n == 0)
        return 0;
    if (r->comp == AR_SNIFF) {
        int rc;

        if (!take_magic(r, &s, &n))
            return 0;
        if (memcmp(r->magic, zstd_magic, 4) == 0) {
            r->zd = ZSTD_createDCtx();
            if (r->zd == NULL)
                return cm_err_set(err, CM_ENOMEM, "archive: out of memory");
            if (ZSTD_isError(ZSTD_DCtx_setParameter(r->zd, ZSTD_d_windowLogMax, AR_ZSTD_WLOG_MAX)))
                return cm_err_set(err, CM_EIO, "archive: zstd initialisation failed");
            r->comp = AR_ZSTD;
            /* the magic again, through the between-frames check */
            r->zd_end = true;
            r->magic_fill = 0;
            rc = zstd_feed(r, zstd_magic, 4, err);
        } else if (r->magic[0] == 0x1f && r->magic[1] == 0x8b) {
            r->zs.zalloc = z_alloc;
            r->zs.zfree = z_free;
            if (inflateInit2(&r->zs, 15 + 16) != Z_OK)
                return cm_err_set(err, CM_ENOMEM, "archive: out of memory");
            r->zs_init = true;
            if (inflateGetHeader(&r->zs, &r->gzh) != Z_OK)
                return cm_err_set(err, CM_EIO, "archive: zlib initialisation failed");
            r->comp = AR_GZIP;
            rc = gz_feed(r, r->magic, 4, err);
        } else {
            return cm_err_set(err, CM_EPARSE,
                              "archive: neither zstd nor gzip (first bytes %02x %02x)", r->magic[0],
                              r->magic[1]);
        }
        if (rc != 0 || n == 0)
            return rc;
    }
    return r->comp == AR_ZSTD ? zstd_feed(r, s, n, err) : gz_feed(r, s, n, err);
}

int backup_archive_reader_feed(struct backup_archive_reader *r, const void *p, size_t n,
                               struct cm_err *err)
{
    const unsigned char *s = p;
    int rc = 0;

    if (r == NULL || (p == NULL && n > 0))
        return cm_err_set(err, CM_EINVAL, "archive: bad arguments");
    if (r->failed)
        return cm_err_set(err, CM_EINVAL, "archive: reader already failed");
    hash_update(&r->hash, p, n);
    while (n > 0 && rc == 0) {
        size_t take = n > (1u << 30) ? (1u << 30) : n;

        if (r->dec != NULL)
            rc = bk_dec_feed(r->dec, s, take, err);
        else
            rc = unpack_feed(r, s, take, err);
        s += take;
        n -= take;
    }
    if (rc != 0)
        r->failed = true;
    return rc;
}

int backup_archive_reader_finish(struct backup_archive_reader *r, struct cm_err *err)
{
    int rc;

    if (r == NULL || r->failed)
        return cm_err_set(err, CM_EINVAL, "archive: reader already failed");
    if (r->dec != NULL) {
        rc = bk_dec_finish(r->dec, err);
        if (rc != 0)
            return rc;
    }
    if (r->comp == AR_SNIFF)
        return cm_err_set(err, CM_EPARSE, "archive: truncated: %zu bytes", r->magic_fill);
    if (r->comp == AR_ZSTD && (!r->zd_end || r->magic_fill > 0))
        return cm_err_set(err, CM_EPARSE, "archive: truncated zstd stream");
    if (r->comp == AR_GZIP && !r->z_end)
        return cm_err_set(err, CM_EPARSE, "archive: truncated gzip stream");
    if (r->st != AR_END)
        return cm_err_set(err, CM_EPARSE, "archive: truncated tar stream");
    hash_final(&r->hash);
    return 0;
}

uint64_t backup_archive_reader_bytes(const struct backup_archive_reader *r)
{
    return r != NULL ? r->hash.bytes : 0;
}

const char *backup_archive_reader_sha256(const struct backup_archive_reader *r)
{
    return r != NULL ? r->hash.hex : "";
}

void backup_archive_reader_destroy(struct backup_archive_reader *r)
{
    if (r == NULL)
        return;
    if (r->zs_init)
        (void)inflateEnd(&r->zs);
    ZSTD_freeDCtx(r->zd);
    bk_dec_destroy(r->dec);
    EVP_MD_CTX_free(r->hash.md);
    cm_buf_free(&r->data);
    cm_free(r);
}
