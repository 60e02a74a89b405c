/* SPDX-License-Identifier: Apache-2.0 */
/* cm.h - the common layer: error codes, allocation, bounded buffers, number parsing,
 * JSON-lines logging, time, base64 and file helpers shared by every module.
 *
 * Design note
 * - Errors: fallible functions return 0 or a negative CM_E* code and may fill a
 *   caller-provided struct cm_err with a human sentence (what and where).
 * - Memory: every module allocates through cm_malloc() and friends so that tests can
 *   inject allocation failures (cm_alloc_fault_set) and check the CM_ENOMEM paths.
 * - Buffers: struct cm_buf is a value type with a hard size cap fixed at init.
 * - Logging: one JSON object per line, written with one write(2); thread-safe.
 * No function here keeps global mutable state except the log settings and the
 * allocation fault injector, both set before threads start. */
#ifndef COMMON_CM_H
#define COMMON_CM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* ---- attributes ---- */
#define CM_NODISCARD __attribute__((warn_unused_result))
#define CM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define CM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* CM_UNITTEST marks a static helper that test builds make visible (curl UNITTEST). */
#ifdef CM_TESTING
#define CM_UNITTEST
#else
#define CM_UNITTEST static
#endif

/* Defensive "cannot happen" branches (SQLite ALWAYS/NEVER): true in release builds
 * behave as the plain condition; debug builds assert. */
#ifdef NDEBUG
#define CM_ALWAYS(x) (x)
#define CM_NEVER(x) (x)
#else
#include <assert.h>
#define CM_ALWAYS(x) ((x) ? 1 : (assert(0), 0))
#define CM_NEVER(x) ((x) ? (assert(0), 1) : 0)
#endif

/* ---- errors ---- */

/* X(name, value, message): the one table of error codes. */
#define CM_ERRNO_MAP(X)                                                                            \
    X(CM_ENOMEM, -1, "out of memory")                                                              \
    X(CM_EINVAL, -2, "invalid argument")                                                           \
    X(CM_EPARSE, -3, "parse error")                                                                \
    X(CM_ETOOBIG, -4, "limit exceeded")                                                            \
    X(CM_EIO, -5, "input/output error")                                                            \
    X(CM_ENOENT, -6, "not found")                                                                  \
    X(CM_EEXIST, -7, "already exists")                                                             \
    X(CM_ETIMEDOUT, -8, "timed out")                                                               \
    X(CM_EPROTO, -9, "protocol error")                                                             \
    X(CM_EHTTP, -10, "unexpected HTTP status")                                                     \
    X(CM_EAUTH, -11, "access denied")                                                              \
    X(CM_ELOCKED, -12, "retained by object lock")                                                  \
    X(CM_ECONFIG, -13, "invalid configuration")                                                    \
    X(CM_ECONN, -14, "connection failed")                                                          \
    X(CM_ETLS, -15, "TLS or certificate error")                                                    \
    X(CM_EINTEGRITY, -16, "integrity check failed")                                                \
    X(CM_ECANCELED, -17, "canceled")                                                               \
    X(CM_EAGAIN, -18, "temporarily unavailable")                                                   \
    X(CM_EUNSUPPORTED, -19, "not supported")

enum cm_errno {
    CM_OK = 0,
#define CM_ERR_ENUM_(name, val, msg) name = (val),
    CM_ERRNO_MAP(CM_ERR_ENUM_)
#undef CM_ERR_ENUM_
};

#define CM_ERR_MSG_MAX 256

/* Error detail filled by fallible functions; callers may pass NULL instead. */
struct cm_err {
    int code;
    char msg[CM_ERR_MSG_MAX];
};

/* The message for a code ("out of memory"); "unknown error" for others. Cannot fail. */
const char *cm_strerror(int code);
/* The symbolic name of a code ("CM_ENOMEM"). Cannot fail. */
const char *cm_errname(int code);

/* Sets err (when not NULL) to code and the formatted message, truncated to fit.
 * Returns code, so that `return cm_err_set(err, CM_EINVAL, "...")` reads well. */
int cm_err_set(struct cm_err *err, int code, const char *fmt, ...) CM_PRINTF(3, 4);
/* Prepends "prefix: " to err->msg (keeps the code). No-op when err is NULL. */
void cm_err_prefix(struct cm_err *err, const char *fmt, ...) CM_PRINTF(2, 3);
/* Clears err to code 0 and an empty message. No-op when err is NULL. */
void cm_err_clear(struct cm_err *err);
/* errno -> CM code (ENOMEM -> CM_ENOMEM, ENOENT -> CM_ENOENT, else CM_EIO). */
int cm_err_from_errno(int e);
/* Thread-safe strerror (strerror_r) into buf; returns buf. */
const char *cm_errno_str(int e, char *buf, size_t len);

/* ---- allocation ---- */

/* malloc/calloc/realloc/free that the fault injector can make fail.
 * Thread-safe. cm_free(NULL) is a no-op. */
void *cm_malloc(size_t n);
void *cm_calloc(size_t nmemb, size_t size);
void *cm_realloc(void *p, size_t n);
void cm_free(void *p);
char *cm_strdup(const char *s);
char *cm_strndup(const char *s, size_t n);
/* Frees after wiping n bytes with a write the compiler cannot elide (for secrets). */
void cm_free_secure(void *p, size_t n);
void cm_memzero_secure(void *p, size_t n);

/* Test hook: make the n-th allocation from now fail (n >= 1); 0 turns it off.
 * Call from tests only, before threads start. */
void cm_alloc_fault_set(long n);
/* True once the armed fault has fired since the last cm_alloc_fault_set(). */
bool cm_alloc_fault_fired(void);

/* ---- bounded buffer ---- */

/* A growable byte buffer with a hard cap (curl dynbuf). Value type: fields are
 * read-only for users. ptr is always NUL-terminated when non-NULL. */
struct cm_buf {
    char *ptr;
    size_t len;
    size_t cap_;
    size_t max_;
};

/* Initialises an empty buffer that may hold at most max bytes. Cannot fail. */
void cm_buf_init(struct cm_buf *b, size_t max);
/* Frees the storage and leaves an empty buffer with the same cap. NULL-safe. */
void cm_buf_free(struct cm_buf *b);
/* Empties the buffer but keeps its storage. */
void cm_buf_reset(struct cm_buf *b);
/* Appends. On failure (CM_ENOMEM, CM_ETOOBIG) the buffer is freed and reset
 * (curl dynbuf contract), so a half-written buffer is never used. */
CM_NODISCARD int cm_buf_add(struct cm_buf *b, const void *p, size_t n);
CM_NODISCARD int cm_buf_adds(struct cm_buf *b, const char *s);
CM_NODISCARD int cm_buf_addc(struct cm_buf *b, char c);
CM_NODISCARD int cm_buf_addf(struct cm_buf *b, const char *fmt, ...) CM_PRINTF(2, 3);
CM_NODISCARD int cm_buf_vaddf(struct cm_buf *b, const char *fmt, va_list ap) CM_PRINTF(2, 0);
/* Appends s[0..n) as a quoted JSON string; control bytes and invalid UTF-8 become
 * \u00XX escapes. */
CM_NODISCARD int cm_buf_add_json_str(struct cm_buf *b, const char *s, size_t n);
/* Makes room for n more bytes (one allocation instead of a growth series when the
 * size is known). Returns 0, or CM_ETOOBIG/CM_ENOMEM with the buffer freed (as add). */
CM_NODISCARD int cm_buf_reserve(struct cm_buf *b, size_t n);
/* Empties dst and gives it src's storage to reuse (dst keeps its own cap); src is
 * left empty. Saves the allocation and page faults of a large buffer filled again. */
void cm_buf_recycle(struct cm_buf *dst, struct cm_buf *src);
/* Moves the storage to the caller (free with cm_free) and resets the buffer.
 * Returns an empty allocated string for an empty buffer, NULL on CM_ENOMEM. */
char *cm_buf_take(struct cm_buf *b, size_t *len);

/* ---- numbers ---- */

/* Parse s[0..n) as a whole decimal number (optional sign for signed). No spaces,
 * no trailing bytes. Returns 0, CM_EPARSE or CM_ETOOBIG (out of range). */
CM_NODISCARD int cm_parse_i64(const char *s, size_t n, int64_t *out);
CM_NODISCARD int cm_parse_u64(const char *s, size_t n, uint64_t *out);
/* Parse a finite double (strtod syntax, C locale); returns 0 or CM_EPARSE. */
CM_NODISCARD int cm_parse_double(const char *s, size_t n, double *out);
/* The value of one hexadecimal digit: 0-9, a-f and A-F give 0..15; any other value
 * of c (a char, negative for bytes >= 0x80, or an unsigned char) gives -1. */
int cm_hexval(int c);
/* Writes the UTF-8 encoding of code point cp (at most 0x10FFFF, not a surrogate) at w,
 * which has room for 4 bytes; returns the bytes written (1-4). */
size_t cm_utf8_put(char *w, uint32_t cp);

/* ---- time ---- */

/* Wall clock in milliseconds since the epoch. */
int64_t cm_time_now_ms(void);
/* Monotonic clock in nanoseconds. */
uint64_t cm_time_mono_ns(void);
/* Formats t (seconds) as "2026-11-22T09:30:00Z" into buf (>= 21 bytes). */
const char *cm_time_format(time_t t, char *buf, size_t len);
/* Formats ms as "2026-11-22T09:30:00.123Z" into buf (>= 25 bytes). */
const char *cm_time_format_ms(int64_t ms, char *buf, size_t len);
/* Parses RFC 3339 ("2026-11-22T09:30:00Z", fractional seconds and +hh:mm offsets
 * allowed) into seconds since the epoch. Returns 0 or CM_EPARSE. */
CM_NODISCARD int cm_time_parse(const char *s, size_t n, time_t *out);
/* Days-from-civil (UTC) without the process time zone. */
time_t cm_time_from_utc(int year, int mon, int mday, int hour, int min, int sec);

/* ---- base64 ---- */

/* Encodes src into a new NUL-terminated string (cm_free). NULL on CM_ENOMEM. */
char *cm_base64_encode(const void *src, size_t n, size_t *out_len);
/* Decodes standard base64 (padding optional, whitespace ignored) into a new buffer
 * (cm_free), NUL-terminated for convenience. Returns 0, CM_EPARSE or CM_ENOMEM. */
CM_NODISCARD int cm_base64_decode(const char *src, size_t n, unsigned char **out, size_t *out_len);

/* ---- files ---- */

/* Reads a whole file (or standard input for "-") of at most max bytes into a new
 * NUL-terminated buffer (cm_free). Returns 0, CM_ENOENT, CM_EIO, CM_ETOOBIG or
 * CM_ENOMEM with err naming the path. */
CM_NODISCARD int cm_fs_read_file(const char *path, size_t max, char **out, size_t *out_len,
                                 struct cm_err *err);

/* Called once per file by cm_fs_load_tree with the file's path and contents (not
 * owned by the callee; valid during the call). A non-zero return stops the walk. */
typedef int (*cm_fs_file_fn)(const char *path, const char *buf, size_t len, void *ctx,
                             struct cm_err *err);

/* Walks each path: a file is read as is; a directory is read recursively in sorted
 * order, taking files ending in .yaml, .yml or .json and skipping names that start
 * with '.' (so a ConfigMap mount's ..data link is followed only through the visible
 * links). Each file is at most max_file bytes. Returns the first error. */
CM_NODISCARD int cm_fs_load_tree(const char *const *paths, size_t n, size_t max_file,
                                 cm_fs_file_fn fn, void *ctx, struct cm_err *err);

/* Writes data to path atomically (temporary file in the same directory, fsync,
 * rename) with the given mode. Returns 0 or CM_EIO with err. */
CM_NODISCARD int cm_fs_write_atomic(const char *path, const void *data, size_t n, unsigned mode,
                                    struct cm_err *err);

/* ---- logging ---- */

enum cm_log_level { CM_LOG_DEBUG = 0, CM_LOG_INFO, CM_LOG_WARN, CM_LOG_ERROR, CM_LOG_OFF };

/* Field type tags; use the CM_L* macros below, never these directly. */
enum cm_log_field { CM_LF_END_ = 0, CM_LF_STR_, CM_LF_INT_, CM_LF_DBL_, CM_LF_BOOL_, CM_LF_RAW_ };

#define CM_LS(k, v) CM_LF_STR_, (const char *)(k), (const char *)(v)
#define CM_LI(k, v) CM_LF_INT_, (const char *)(k), (long long)(v)
#define CM_LD(k, v) CM_LF_DBL_, (const char *)(k), (double)(v)
#define CM_LB(k, v) CM_LF_BOOL_, (const char *)(k), (int)(v)
/* A value that is already valid JSON (an array built with cm_buf_add_json_str). */
#define CM_LJ(k, v) CM_LF_RAW_, (const char *)(k), (const char *)(v)

/* cm_log(level, mod, msg, fields...): one JSON line {"ts","level","mod","msg",...}.
 * Strings are escaped; a NULL string value is written as null. Lines are capped at
 * CM_LOG_LINE_MAX and cut lines carry "truncated":true. Thread-safe. */
#define cm_log(...) cm_log_(__VA_ARGS__, CM_LF_END_)
#define CM_LOG_LINE_MAX 8192
void cm_log_(enum cm_log_level level, const char *mod, const char *msg, ...);
bool cm_log_enabled(enum cm_log_level level);
/* Settings; call before threads start. */
void cm_log_set_level(enum cm_log_level level);
void cm_log_set_fd(int fd);
/* Parses "debug|info|warn|error|off" (any case). Returns 0 or CM_EINVAL. */
CM_NODISCARD int cm_log_level_parse(const char *s, enum cm_log_level *out);

#endif /* COMMON_CM_H */
