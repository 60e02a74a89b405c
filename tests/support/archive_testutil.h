/* SPDX-License-Identifier: Apache-2.0 */
/* archive_testutil.h - shared helpers of the backup_archive and backup_crypt unit tests:
 * a memory sink that can refuse, the three-entry sample and the big archive (written,
 * read back and checked entry by entry), a fixed test key, and the zstd and zlib
 * libraries used on their own. Failures are cmocka assertions, so call these only from
 * a cmocka test. Not thread-safe. */
#ifndef TESTS_SUPPORT_ARCHIVE_TESTUTIL_H
#define TESTS_SUPPORT_ARCHIVE_TESTUTIL_H

#include "backup/backup.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AT_MIB ((size_t)1 << 20)

/* The big archive: AT_BIG_N entries, each at most AT_GEN_MAX bytes. */
#define AT_BIG_N 3000
#define AT_GEN_MAX 1300000

/* The first four bytes of every zstd frame. */
extern const unsigned char at_zstd_magic[4];

/* A backup_sink_fn into b (the caller inits and frees b). */
struct at_sink {
    struct cm_buf b;
    int fail_at; /* fail the n-th call (1-based), 0 = never */
    int calls;
};
int at_mem_sink(void *ctx, const void *p, size_t n, struct cm_err *err);

/* Incompressible bytes (xorshift; seed != 0): zstd stores them in raw blocks. */
void at_fill_random_seed(unsigned char *p, size_t n, uint32_t seed);

/* What an entry callback saw: the first 8 paths, SHA-256s and sizes, and the count. */
struct at_got {
    int n;
    char paths[8][300];
    char sha[8][65];
    size_t sizes[8];
};
int at_on_entry(void *ctx, const char *path, const void *data, size_t n, struct cm_err *err);

/* The key 00 01 .. 1f, parsed from hex. The caller wipes it. */
struct backup_key at_test_key(void);

/* The sample's 150-byte path (a pax record in the archive). */
void at_long_path(char out[151]);

/* Writes three entries (one with a 150-byte path, one empty, one 200 KB) and returns
 * the stored bytes in s (s->b is initialised here; the caller frees it) and the 200 KB
 * entry in *big (the caller frees it). key may be NULL (plain). */
void at_write_sample(struct at_sink *s, const struct backup_key *key, unsigned char **big);

/* Reads s->b through a fresh reader in chunks of chunk bytes into g. Returns the first
 * failing code (detail in err), or 0. */
int at_read_all(const struct at_sink *s, const struct backup_key *key, size_t chunk,
                struct at_got *g, struct cm_err *err);

/* g must be exactly the sample's entries, big its 200 KB one. */
void at_check_sample(const struct at_got *g, const unsigned char *big);

/* rc must be want, and err's message must contain msg. */
void at_expect_err(int rc, int want, const struct cm_err *err, const char *msg);

/* Decompresses p[0..n) with the zstd library alone (any number of frames), appending
 * to out. Returns 0, or -1 when the bytes are not a series of whole zstd frames. */
int at_zstd_inflate_all(const void *p, size_t n, struct cm_buf *out);

/* The window a zstd frame header asks for (RFC 8878 3.1.1.1) and its checksum flag;
 * 0 when p is no frame header, or a single-segment one (window = content size). */
uint64_t at_frame_window(const void *p, size_t n, bool *has_checksum);

/* The plain sample (at_write_sample) and its tar, as the zstd library decompresses it
 * (tar is initialised here; the caller frees s->b, tar and *big). */
void at_sample_tar(struct at_sink *s, struct cm_buf *tar, unsigned char **big);

/* Appends a gzip member of p[0..n) made by zlib (as archives before zstd were). */
void at_add_zlib_member(struct cm_buf *b, const void *p, size_t n, int level);

/* Entry i of the big archive: every 1000th (from 7) is 1.2 MB of random bytes, the
 * rest small ConfigMap-like JSON. Returns the size; data into buf (AT_GEN_MAX bytes). */
size_t at_gen_entry(int i, unsigned char *buf, char path[80]);

/* Writes the AT_BIG_N entries (about 6.6 MiB of tar, 3.5 MiB of it incompressible)
 * into s->b (initialised here; the caller frees it). key may be NULL (plain). */
void at_write_big(struct at_sink *s, const struct backup_key *key);

/* Reads s in chunks of chunk bytes, checking every entry byte for byte against
 * at_gen_entry. Returns the reader's code. */
int at_read_big(const struct at_sink *s, const struct backup_key *key, size_t chunk,
                struct cm_err *err);

#endif /* TESTS_SUPPORT_ARCHIVE_TESTUTIL_H */
