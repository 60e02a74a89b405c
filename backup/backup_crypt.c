/* SPDX-License-Identifier: Apache-2.0 */
/* backup_crypt.c - client-side encryption: key parsing and the AES-256-GCM frame
 * format of resources.tar.gz.enc (docs/restore-point-format.md). */
#include "backup/backup_int.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static void key_set_id(struct backup_key *k)
{
    char hex[65];

    backup_sha256_hex(k->k, sizeof(k->k), hex);
    memcpy(k->id, "sha256:", 7);
    memcpy(k->id + 7, hex, 16);
    k->id[23] = '\0';
}

int backup_key_parse(const void *buf, size_t n, struct backup_key *out, struct cm_err *err)
{
    const unsigned char *p = buf;
    struct backup_key k;
    unsigned char *dec = NULL;
    size_t dlen = 0;
    size_t i;

    if (p == NULL || out == NULL)
        return cm_err_set(err, CM_EINVAL, "encryption key: no input");
    memset(&k, 0, sizeof(k));
    if (n == 32) {
        memcpy(k.k, p, 32);
        goto done;
    }
    while (n > 0 && is_space(p[0])) {
        p++;
        n--;
    }
    while (n > 0 && is_space(p[n - 1]))
        n--;
    if (n == 64) {
        bool ok = true;

        for (i = 0; i < 32 && ok; i++) {
            int hi = cm_hexval(p[2 * i]);
            int lo = cm_hexval(p[2 * i + 1]);

            ok = hi >= 0 && lo >= 0;
            k.k[i] = (unsigned char)(hi * 16 + lo);
        }
        if (ok)
            goto done;
    }
    if (n == 32) {
        memcpy(k.k, p, 32);
        goto done;
    }
    if (n >= 43 && n <= 46 && cm_base64_decode((const char *)p, n, &dec, &dlen) == 0 &&
        dlen == 32) {
        memcpy(k.k, dec, 32);
        cm_free_secure(dec, dlen);
        goto done;
    }
    if (dec != NULL)
        cm_free_secure(dec, dlen);
    cm_memzero_secure(&k, sizeof(k));
    return cm_err_set(err, CM_EINVAL,
                      "encryption key: want 32 raw bytes, 64 hex digits or base64 of 32 bytes");
done:
    key_set_id(&k);
    *out = k;
    cm_memzero_secure(&k, sizeof(k));
    return 0;
}

int backup_key_load_file(const char *path, struct backup_key *out, struct cm_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = cm_fs_read_file(path, 4096, &buf, &len, err);

    if (rc != 0)
        return rc == CM_ETOOBIG ? cm_err_set(err, CM_EINVAL, "%s: not a key file", path) : rc;
    rc = backup_key_parse(buf, len, out, err);
    if (rc != 0)
        cm_err_prefix(err, "%s", path);
    cm_free_secure(buf, len);
    return rc;
}

void backup_key_wipe(struct backup_key *k)
{
    if (k != NULL)
        cm_memzero_secure(k, sizeof(*k));
}

/* ---- frames ---- */

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void put_be64(unsigned char *p, uint64_t v)
{
    int i;

    for (i = 7; i >= 0; i--) {
        p[i] = (unsigned char)v;
        v >>= 8;
    }
}

/* nonce = prefix || BE64(i); aad = header || BE64(i) || final */
static void frame_params(const unsigned char *hdr, uint64_t idx, bool final,
                         unsigned char nonce[12], unsigned char aad[BK_ENC_HDR + 9])
{
    memcpy(nonce, hdr + 8, 4);
    put_be64(nonce + 4, idx);
    memcpy(aad, hdr, BK_ENC_HDR);
    put_be64(aad + BK_ENC_HDR, idx);
    aad[BK_ENC_HDR + 8] = final ? 1 : 0;
}

struct bk_enc {
    EVP_CIPHER_CTX *ctx;
    unsigned char key[32];
    unsigned char hdr[BK_ENC_HDR];
    bool hdr_sent;
    uint64_t idx;
    backup_sink_fn sink;
    void *sink_ctx;
    size_t fill;
    unsigned char pt[BACKUP_ENC_FRAME];
    unsigned char ct[4 + BACKUP_ENC_FRAME + BK_ENC_TAG];
};

int bk_enc_create(const struct backup_key *key, backup_sink_fn sink, void *ctx, struct bk_enc **out,
                  struct cm_err *err)
{
    struct bk_enc *e = cm_calloc(1, sizeof(*e));

    if (e == NULL)
        return cm_err_set(err, CM_ENOMEM, "encryption: out of memory");
    e->ctx = EVP_CIPHER_CTX_new();
    if (e->ctx == NULL || RAND_bytes(e->hdr + 8, 4) != 1) {
        bk_enc_destroy(e);
        return cm_err_set(err, CM_EIO, "encryption: OpenSSL initialisation failed");
    }
    memcpy(e->hdr, BK_ENC_MAGIC, 8);
    memcpy(e->key, key->k, 32);
    e->sink = sink;
    e->sink_ctx = ctx;
    *out = e;
    return 0;
}

static int seal(struct bk_enc *e, bool final, struct cm_err *err)
{
    unsigned char nonce[12];
    unsigned char aad[BK_ENC_HDR + 9];
    int outl = 0;
    int fl = 0;
    int rc;

    if (!e->hdr_sent) {
        rc = e->sink(e->sink_ctx, e->hdr, BK_ENC_HDR, err);
        if (rc != 0)
            return rc;
        e->hdr_sent = true;
    }
    frame_params(e->hdr, e->idx, final, nonce, aad);
    put_be32(e->ct, (uint32_t)e->fill | (final ? BK_ENC_FINAL : 0));
    if (EVP_EncryptInit_ex(e->ctx, EVP_aes_256_gcm(), NULL, e->key, nonce) != 1 ||
        EVP_EncryptUpdate(e->ctx, NULL, &outl, aad, (int)sizeof(aad)) != 1 ||
        (e->fill > 0 && EVP_EncryptUpdate(e->ctx, e->ct + 4, &outl, e->pt, (int)e->fill) != 1) ||
        EVP_EncryptFinal_ex(e->ctx, e->ct + 4 + e->fill, &fl) != 1 ||
        EVP_CIPHER_CTX_ctrl(e->ctx, EVP_CTRL_GCM_GET_TAG, BK_ENC_TAG, e->ct + 4 + e->fill) != 1)
        return cm_err_set(err, CM_EIO, "encryption: AES-256-GCM failed");
    rc = e->sink(e->sink_ctx, e->ct, 4 + e->fill + BK_ENC_TAG, err);
    e->idx++;
    e->fill = 0;
    return rc;
}

int bk_enc_write(struct bk_enc *e, const void *p, size_t n, struct cm_err *err)
{
    const unsigned char *s = p;
    int rc;

    while (n > 0) {
        size_t take;

        /* A full frame is sealed only when more bytes follow: the last frame must
         * carry the final flag, and we cannot know it is last until finish. */
        if (e->fill == BACKUP_ENC_FRAME) {
            rc = seal(e, false, err);
            if (rc != 0)
                return rc;
        }
        take = BACKUP_ENC_FRAME - e->fill;
        if (take > n)
            take = n;
        memcpy(e->pt + e->fill, s, take);
        e->fill += take;
        s += take;
        n -= take;
    }
    return 0;
}

int bk_enc_finish(struct bk_enc *e, struct cm_err *err)
{
    return seal(e, true, err);
}

void bk_enc_destroy(struct bk_enc *e)
{
    if (e == NULL)
        return;
    EVP_CIPHER_CTX_free(e->ctx);
    OPENSSL_cleanse(e, sizeof(*e));
    cm_free(e);
}

struct bk_dec {
    EVP_CIPHER_CTX *ctx;
    unsigned char key[32];
    unsigned char hdr[BK_ENC_HDR];
    size_t hdr_fill;
    uint64_t idx;
    bool done;
    uint32_t want; /* ciphertext+tag bytes of the current frame, after the length */
    bool final;
    unsigned char len4[4];
    size_t len_fill;
    size_t fill;
    backup_sink_fn sink;
    void *sink_ctx;
    unsigned char ct[BACKUP_ENC_FRAME + BK_ENC_TAG];
    unsigned char pt[BACKUP_ENC_FRAME];
};

int bk_dec_create(const struct backup_key *key, backup_sink_fn sink, void *ctx, struct bk_dec **out,
                  struct cm_err *err)
{
    struct bk_dec *d = cm_calloc(1, sizeof(*d));

    if (d == NULL)
        return cm_err_set(err, CM_ENOMEM, "decryption: out of memory");
    d->ctx = EVP_CIPHER_CTX_new();
    if (d->ctx == NULL) {
        bk_dec_destroy(d);
        return cm_err_set(err, CM_EIO, "decryption: OpenSSL initialisation failed");
    }
    memcpy(d->key, key->k, 32);
    d->sink = sink;
    d->sink_ctx = ctx;
    *out = d;
    return 0;
}

static int open_frame(struct bk_dec *d, struct cm_err *err)
{
    unsigned char nonce[12];
    unsigned char aad[BK_ENC_HDR + 9];
    size_t ptlen = d->want - BK_ENC_TAG;
    int outl = 0;
    int fl = 0;

    frame_params(d->hdr, d->idx, d->final, nonce, aad);
    if (EVP_DecryptInit_ex(d->ctx, EVP_aes_256_gcm(), NULL, d->key, nonce) != 1 ||
        EVP_DecryptUpdate(d->ctx, NULL, &outl, aad, (int)sizeof(aad)) != 1 ||
        (ptlen > 0 && EVP_DecryptUpdate(d->ctx, d->pt, &outl, d->ct, (int)ptlen) != 1) ||
        EVP_CIPHER_CTX_ctrl(d->ctx, EVP_CTRL_GCM_SET_TAG, BK_ENC_TAG, d->ct + ptlen) != 1)
        return cm_err_set(err, CM_EIO, "decryption: AES-256-GCM failed");
    if (EVP_DecryptFinal_ex(d->ctx, d->pt + ptlen, &fl) != 1) {
        cm_memzero_secure(d->pt, ptlen);
        return cm_err_set(err, CM_EINTEGRITY,
                          "decryption: frame %llu failed authentication (wrong key or "
                          "tampered archive)",
                          (unsigned long long)d->idx);
    }
    d->idx++;
    if (d->final)
        d->done = true;
    return ptlen > 0 ? d->sink(d->sink_ctx, d->pt, ptlen, err) : 0;
}

int bk_dec_feed(struct bk_dec *d, const void *p, size_t n, struct cm_err *err)
{
    const unsigned char *s = p;
    int rc;

    while (n > 0) {
        size_t take;

        if (d->done)
            return cm_err_set(err, CM_EPARSE, "decryption: bytes after the final frame");
        if (d->hdr_fill < BK_ENC_HDR) {
            take = BK_ENC_HDR - d->hdr_fill;
            take = take > n ? n : take;
            memcpy(d->hdr + d->hdr_fill, s, take);
            d->hdr_fill += take;
            s += take;
            n -= take;
            if (d->hdr_fill == BK_ENC_HDR && memcmp(d->hdr, BK_ENC_MAGIC, 8) != 0)
                return cm_err_set(err, CM_EPARSE,
                                  "decryption: not a lockwarden encrypted "
                                  "archive (bad magic)");
            continue;
        }
        if (d->len_fill < 4) {
            d->len4[d->len_fill++] = *s++;
            n--;
            if (d->len_fill == 4) {
                uint32_t v = ((uint32_t)d->len4[0] << 24) | ((uint32_t)d->len4[1] << 16) |
                             ((uint32_t)d->len4[2] << 8) | d->len4[3];
                uint32_t l = v & ~BK_ENC_FINAL;

                d->final = (v & BK_ENC_FINAL) != 0;
                if (l > BACKUP_ENC_FRAME || (l == 0 && !d->final))
                    return cm_err_set(err, CM_EPARSE, "decryption: bad frame length %u", l);
                d->want = l + BK_ENC_TAG;
                d->fill = 0;
            }
            continue;
        }
        take = d->want - d->fill;
        take = take > n ? n : take;
        memcpy(d->ct + d->fill, s, take);
        d->fill += take;
        s += take;
        n -= take;
        if (d->fill == d->want) {
            rc = open_frame(d, err);
            if (rc != 0)
                return rc;
            d->len_fill = 0;
        }
    }
    return 0;
}

int bk_dec_finish(struct bk_dec *d, struct cm_err *err)
{
    if (!d->done)
        return cm_err_set(err, CM_EPARSE, "decryption: truncated archive (no final frame)");
    return 0;
}

void bk_dec_destroy(struct bk_dec *d)
{
    if (d == NULL)
        return;
    EVP_CIPHER_CTX_free(d->ctx);
    OPENSSL_cleanse(d, sizeof(*d));
    cm_free(d);
}
