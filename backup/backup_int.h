/* SPDX-License-Identifier: Apache-2.0 */
/* backup_int.h - declarations shared inside backup/ only (the executor's own files):
 * the AES-256-GCM frame layer used by the archive writer and reader, and the checks
 * the manifest writer and reader share. Never include from outside backup/. */
#ifndef BACKUP_BACKUP_INT_H
#define BACKUP_BACKUP_INT_H

#include "backup/backup.h"

#define BK_ENC_MAGIC "LWENC001"
#define BK_ENC_HDR 12 /* magic + 4-byte nonce prefix */
#define BK_ENC_TAG 16
#define BK_ENC_FINAL 0x80000000u

/* Encrypting frame writer: buffers up to BACKUP_ENC_FRAME plaintext bytes and pushes
 * the header and sealed frames to sink. Not thread-safe. */
struct bk_enc;
CM_NODISCARD int bk_enc_create(const struct backup_key *key, backup_sink_fn sink, void *ctx,
                               struct bk_enc **out, struct cm_err *err);
CM_NODISCARD int bk_enc_write(struct bk_enc *e, const void *p, size_t n, struct cm_err *err);
/* Seals the last frame (flagged final). */
CM_NODISCARD int bk_enc_finish(struct bk_enc *e, struct cm_err *err);
void bk_enc_destroy(struct bk_enc *e);

/* Decrypting frame reader: push stored bytes; authenticated plaintext goes to sink. */
struct bk_dec;
CM_NODISCARD int bk_dec_create(const struct backup_key *key, backup_sink_fn sink, void *ctx,
                               struct bk_dec **out, struct cm_err *err);
/* Returns 0, CM_EPARSE (bad header/length/trailing bytes), CM_EINTEGRITY (tag) or the
 * sink's code. */
CM_NODISCARD int bk_dec_feed(struct bk_dec *d, const void *p, size_t n, struct cm_err *err);
/* CM_EPARSE when the final frame has not been seen. */
CM_NODISCARD int bk_dec_finish(struct bk_dec *d, struct cm_err *err);
void bk_dec_destroy(struct bk_dec *d);

/* ---- manifest helpers shared by the writer and the reader ---- */

#define BK_MF_MAX_STRIPPED 64 /* stripped field names per resource */
#define BK_JSON_MAX_DEPTH 32  /* nesting the manifest reader accepts */

/* s[0..n) are lowercase hex digits and s[n] ends the string. */
bool bk_hex_ok(const char *s, size_t n);
/* An archive path: relative, 1..255 bytes, no empty/"."/".." segment, printable ASCII
 * without backslashes. */
bool bk_path_ok(const char *p);
/* The same for p[0..n), not NUL-terminated (archive headers). */
bool bk_path_ok_n(const char *p, size_t n);
/* RFC 8259 syntax of s[0..n) with nesting at most BK_JSON_MAX_DEPTH; never allocates.
 * cJSON returns NULL for bad syntax and for a failed allocation alike: checking first
 * tells the two apart. */
bool bk_json_valid(const char *s, size_t n);
/* Well-formed UTF-8 (no overlongs, surrogates, or code points past U+10FFFF). */
bool bk_utf8_ok(const char *s);

#endif /* BACKUP_BACKUP_INT_H */
