/* SPDX-License-Identifier: Apache-2.0 */
/* policy_wildcard.c - Kyverno's wildcard.Match ('*' any run, '?' one rune, all else
 * literal), compiled once into a fast path or a PCRE2 program with a linear fallback. */
#include "policy/policy_int.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdalign.h>
#include <string.h>

/* Backtracking budget for one PCRE2 match; past it the linear matcher answers. */
#define POL_WILDCARD_MATCH_LIMIT 100000u
/* Bytes of stack that one PCRE2 call may use for its context and match data. */
#define POL_WILDCARD_ARENA 1024u

enum wc_kind {
    WC_LITERAL = 0, /* no wildcard: byte equality */
    WC_ANY,         /* only '*': everything matches */
    WC_AFFIX,       /* prefix, one run of '?'/'*', suffix: compare ends, count runes */
    WC_GENERAL,     /* anything else: PCRE2 JIT, else the linear matcher */
};

struct pol_wildcard {
    enum wc_kind kind;
    char *pat; /* NUL-terminated copy of the pattern */
    size_t len;
    size_t pre_len;   /* WC_AFFIX: literal prefix bytes */
    size_t suf_len;   /* WC_AFFIX: literal suffix bytes */
    size_t min_runes; /* WC_AFFIX: number of '?' in the run */
    bool has_star;    /* WC_AFFIX: the run holds a '*' (at least min_runes, else exactly) */
    pcre2_code *re;   /* WC_GENERAL with JIT; NULL = linear matcher */
    pcre2_match_context *mctx;
};

size_t pol_utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned c = s[0];
    size_t w;
    uint32_t v;
    size_t i;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        w = 2;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        w = 3;
        v = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        w = 4;
        v = c & 0x07;
    } else {
        *cp = 0xFFFD;
        return 1;
    }
    if (n < w) {
        *cp = 0xFFFD;
        return 1;
    }
    for (i = 1; i < w; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    /* Overlong forms, surrogates and values past U+10FFFF are invalid. */
    if ((w == 3 && v < 0x800) || (w == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
        (v >= 0xD800 && v <= 0xDFFF)) {
        *cp = 0xFFFD;
        return 1;
    }
    *cp = v;
    return w;
}

bool pol_utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        uint32_t cp;
        size_t w = pol_utf8_next(s + i, n - i, &cp);

        if (w == 1 && s[i] >= 0x80) {
            return false;
        }
        i += w;
    }
    return true;
}

static size_t utf8_count(const unsigned char *s, size_t n, size_t stop_after)
{
    size_t i = 0;
    size_t count = 0;

    while (i < n && count <= stop_after) {
        uint32_t cp;

        i += pol_utf8_next(s + i, n - i, &cp);
        count++;
    }
    return count;
}

/* The linear matcher: two cursors and the position of the last '*' (Kyverno's
 * recursive matcher gives the same answers; this one never backtracks past the
 * last star, so it runs in O(len(p) * len(s)) at worst). */
static bool match_linear(const unsigned char *p, size_t pn, const unsigned char *s, size_t sn)
{
    size_t pi = 0;
    size_t si = 0;
    size_t star_p = (size_t)-1;
    size_t star_s = 0;

    if (pn == 0) {
        return sn == 0;
    }
    while (si < sn) {
        if (pi < pn && p[pi] == '*') {
            star_p = pi++;
            star_s = si;
            continue;
        }
        if (pi < pn) {
            uint32_t pc;
            uint32_t sc;
            size_t pw = pol_utf8_next(p + pi, pn - pi, &pc);
            size_t sw = pol_utf8_next(s + si, sn - si, &sc);

            if (p[pi] == '?' || pc == sc) {
                pi += pw;
                si += sw;
                continue;
            }
        }
        if (star_p == (size_t)-1) {
            return false;
        }
        /* Let the last star swallow one more rune and retry from just after it. */
        {
            uint32_t sc;

            star_s += pol_utf8_next(s + star_s, sn - star_s, &sc);
        }
        pi = star_p + 1;
        si = star_s;
    }
    while (pi < pn && p[pi] == '*') {
        pi++;
    }
    return pi == pn;
}

bool pol_wildcard_match_raw(const char *pat, size_t pn, const char *s, size_t n)
{
    return match_linear((const unsigned char *)pat, pn, (const unsigned char *)s, n);
}

/* ---- PCRE2 memory: a bump arena on the caller's stack, so matching never mallocs ---- */

struct wc_arena {
    alignas(max_align_t) unsigned char buf[POL_WILDCARD_ARENA];
    size_t used;
};

static void *arena_malloc(size_t n, void *ctx)
{
    struct wc_arena *a = ctx;
    size_t al = alignof(max_align_t);
    size_t start = (a->used + al - 1) / al * al;

    if (start > sizeof(a->buf) || n > sizeof(a->buf) - start) {
        return NULL;
    }
    a->used = start + n;
    return a->buf + start;
}

static void arena_free(void *p, void *ctx)
{
    (void)p;
    (void)ctx;
}

static void *heap_malloc(size_t n, void *ctx)
{
    (void)ctx;
    return cm_malloc(n);
}

static void heap_free(void *p, void *ctx)
{
    (void)ctx;
    cm_free(p);
}

/* Returns 1 match, 0 no match, -1 PCRE2 could not decide (limit, invalid UTF-8). */
static int match_pcre(const struct pol_wildcard *w, const char *s, size_t n)
{
    struct wc_arena arena;
    pcre2_general_context *g;
    pcre2_match_data *md;
    int rc;

    arena.used = 0;
    g = pcre2_general_context_create(arena_malloc, arena_free, &arena);
    if (g == NULL) {
        return -1;
    }
    md = pcre2_match_data_create(1, g);
    if (md == NULL) {
        pcre2_general_context_free(g);
        return -1;
    }
    rc = pcre2_match(w->re, (PCRE2_SPTR)s, n, 0, 0, md, w->mctx);
    pcre2_match_data_free(md);
    pcre2_general_context_free(g);
    if (rc >= 0) {
        return 1;
    }
    if (rc == PCRE2_ERROR_NOMATCH) {
        return 0;
    }
    return -1;
}

bool pol_wildcard_match(const struct pol_wildcard *w, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;

    switch (w->kind) {
    case WC_LITERAL:
        return n == w->len && (n == 0 || memcmp(s, w->pat, n) == 0);
    case WC_ANY:
        return true;
    case WC_AFFIX: {
        size_t mid;
        size_t runes;

        if (n < w->pre_len + w->suf_len) {
            return false;
        }
        if (memcmp(s, w->pat, w->pre_len) != 0 ||
            memcmp(s + n - w->suf_len, w->pat + w->len - w->suf_len, w->suf_len) != 0) {
            return false;
        }
        mid = n - w->pre_len - w->suf_len;
        if (w->has_star && mid >= w->min_runes * 4) {
            return true; /* enough bytes that even 4-byte runes reach the count */
        }
        runes = utf8_count(u + w->pre_len, mid, w->min_runes);
        return w->has_star ? runes >= w->min_runes : runes == w->min_runes;
    }
    case WC_GENERAL:
    default:
        if (w->re != NULL) {
            int rc = match_pcre(w, s, n);

            if (rc >= 0) {
                return rc == 1;
            }
        }
        return match_linear((const unsigned char *)w->pat, w->len, u, n);
    }
}

bool pol_wildcard_is_literal(const struct pol_wildcard *w)
{
    return w->kind == WC_LITERAL;
}

void pol_wildcard_destroy(struct pol_wildcard *w)
{
    if (w == NULL) {
        return;
    }
    pcre2_code_free(w->re);
    pcre2_match_context_free(w->mctx);
    cm_free(w->pat);
    cm_free(w);
}

/* Classifies the pattern: literal, all stars, or one wildcard run between literals. */
static void classify(struct pol_wildcard *w)
{
    const char *p = w->pat;
    size_t n = w->len;
    size_t first = n;
    size_t last = 0;
    size_t i;
    size_t stars = 0;
    size_t qs = 0;

    /* Go compares runes after decoding, so an invalid subject byte equals a literal
     * U+FFFD in the pattern; byte comparison would miss that, so such patterns take
     * the general path. */
    for (i = 0; i + 2 < n; i++) {
        if ((unsigned char)p[i] == 0xEF && (unsigned char)p[i + 1] == 0xBF &&
            (unsigned char)p[i + 2] == 0xBD) {
            w->kind = WC_GENERAL;
            return;
        }
    }
    for (i = 0; i < n; i++) {
        if (p[i] == '*' || p[i] == '?') {
            if (first == n) {
                first = i;
            }
            last = i;
        }
    }
    if (first == n) {
        w->kind = WC_LITERAL;
        return;
    }
    for (i = first; i <= last; i++) {
        if (p[i] == '*') {
            stars++;
        } else if (p[i] == '?') {
            qs++;
        } else {
            w->kind = WC_GENERAL; /* a literal between wildcards */
            return;
        }
    }
    if (stars == n) {
        w->kind = WC_ANY;
        return;
    }
    w->kind = WC_AFFIX;
    w->pre_len = first;
    w->suf_len = n - last - 1;
    w->min_runes = qs;
    w->has_star = stars > 0;
}

/* Builds the anchored PCRE2 source: '*' -> ".*", '?' -> ".", other ASCII
 * punctuation escaped, other bytes as they are (UTF mode). */
static int build_regex(const struct pol_wildcard *w, struct cm_buf *re)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < w->len && rc == 0; i++) {
        unsigned char c = (unsigned char)w->pat[i];

        if (c == '*') {
            if (i > 0 && w->pat[i - 1] == '*') {
                continue;
            }
            rc = cm_buf_add(re, ".*", 2);
        } else if (c == '?') {
            rc = cm_buf_addc(re, '.');
        } else if (c < 0x80 &&
                   !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
            if (c == 0) {
                rc = cm_buf_add(re, "\\x{0}", 5);
            } else {
                char esc[2] = {'\\', (char)c};

                rc = cm_buf_add(re, esc, 2);
            }
        } else {
            rc = cm_buf_addc(re, (char)c);
        }
    }
    return rc;
}

/* Compiles the general case with JIT. A pattern PCRE2 or its JIT cannot take leaves
 * w->re NULL, which selects the linear matcher; only CM_ENOMEM is an error. */
static int compile_pcre(struct pol_wildcard *w, struct cm_err *err)
{
    struct cm_buf re;
    pcre2_general_context *g = NULL;
    pcre2_compile_context *cctx = NULL;
    pcre2_code *code = NULL;
    int errcode = 0;
    PCRE2_SIZE erroff = 0;
    int rc = 0;

    cm_buf_init(&re, POLICY_MAX_STRING * 6u + 16u);
    if (cm_buf_add(&re, "", 0) != 0 || build_regex(w, &re) != 0) {
        rc = cm_err_set(err, CM_ENOMEM, "wildcard: out of memory");
        goto cleanup;
    }
    g = pcre2_general_context_create(heap_malloc, heap_free, NULL);
    if (g == NULL) {
        rc = cm_err_set(err, CM_ENOMEM, "wildcard: out of memory");
        goto cleanup;
    }
    cctx = pcre2_compile_context_create(g);
    if (cctx == NULL) {
        rc = cm_err_set(err, CM_ENOMEM, "wildcard: out of memory");
        goto cleanup;
    }
    code = pcre2_compile((PCRE2_SPTR)(re.ptr != NULL ? re.ptr : ""), re.len,
                         PCRE2_UTF | PCRE2_DOTALL | PCRE2_ANCHORED | PCRE2_ENDANCHORED |
                             PCRE2_NO_AUTO_CAPTURE,
                         &errcode, &erroff, cctx);
    if (code == NULL) {
        if (errcode == PCRE2_ERROR_HEAPLIMIT || errcode == PCRE2_ERROR_NOMEMORY) {
            rc = cm_err_set(err, CM_ENOMEM, "wildcard: out of memory");
        }
        goto cleanup; /* anything else: the linear matcher takes the pattern */
    }
    if (pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) != 0) {
        /* No JIT here (or it ran out of memory): the interpreter would need heap
         * frames per match, so the linear matcher is used instead. */
        goto cleanup;
    }
    w->mctx = pcre2_match_context_create(g);
    if (w->mctx == NULL) {
        rc = cm_err_set(err, CM_ENOMEM, "wildcard: out of memory");
        goto cleanup;
    }
    (void)pcre2_set_match_limit(w->mctx, POL_WILDCARD_MATCH_LIMIT);
    w->re = code;
    code = NULL;

cleanup:
    pcre2_code_free(code);
    pcre2_compile_context_free(cctx);
    pcre2_general_context_free(g);
    cm_buf_free(&re);
    return rc;
}

int pol_wildcard_compile(const char *s, size_t n, struct pol_wildcard **out, struct cm_err *err)
{
    struct pol_wildcard *w = NULL;
    int rc;

    if (n > POLICY_MAX_STRING) {
        return cm_err_set(err, CM_ETOOBIG, "wildcard is %zu bytes, over the limit of %u", n,
                          (unsigned)POLICY_MAX_STRING);
    }
    if (!pol_utf8_valid((const unsigned char *)s, n)) {
        return cm_err_set(err, CM_EPARSE, "wildcard is not valid UTF-8");
    }
    w = cm_calloc(1, sizeof(*w));
    if (w == NULL) {
        return cm_err_set(err, CM_ENOMEM, "wildcard: out of memory");
    }
    w->pat = cm_malloc(n + 1);
    if (w->pat == NULL) {
        rc = cm_err_set(err, CM_ENOMEM, "wildcard: out of memory");
        goto fail;
    }
    if (n > 0) {
        memcpy(w->pat, s, n);
    }
    w->pat[n] = '\0';
    w->len = n;
    classify(w);
    if (w->kind == WC_GENERAL) {
        rc = compile_pcre(w, err);
        if (rc != 0) {
            goto fail;
        }
    }
    *out = w;
    return 0;

fail:
    pol_wildcard_destroy(w);
    return rc;
}
