/* SPDX-License-Identifier: Apache-2.0 */
/* policy_int.h - declarations shared inside policy/ only: compiled wildcards, values
 * (durations, quantities, numbers) and validate patterns. Never include from outside.
 *
 * Design note
 * - policy_wildcard.c: Kyverno's wildcard.Match: '*' any run (also '/'), '?' one
 *   character (a UTF-8 rune; an invalid byte is one rune, as in Go), everything else
 *   literal, no escapes. Compiled once: literal, '*', and prefix + one run of '?'/'*' +
 *   suffix ("k10-?*") fast paths; the general case on PCRE2 JIT with a match limit and
 *   per-call match data in a stack arena, and a linear two-pointer matcher whenever
 *   PCRE2 cannot answer (no JIT, limit hit, invalid UTF-8 subject).
 * - policy_value.c: Go durations and Kubernetes quantities, parsed and compared exactly.
 * - policy_operator.c: string patterns ('|', '&', '!', '>', '<', '>=', '<=', ranges),
 *   tried as durations, then quantities, then wildcard strings (= and ! only).
 * - policy_pattern.c compiles a validate `pattern` into a node tree (anchors parsed,
 *   keys in Kyverno's order, metadata wildcard keys marked); policy_pattern_eval.c walks
 *   it beside a cJSON resource; policy_pattern_fmt.c writes Go-style %v/%T text for
 *   messages. Evaluation never allocates: it decides first without formatting, and only
 *   a non-pass outcome is walked again to write the path and message.
 * - Ownership: every compiled object owns copies of its strings; the source cJSON may be
 *   freed after compile. Compiled objects are immutable and thread-safe to share. */
#ifndef POLICY_POLICY_INT_H
#define POLICY_POLICY_INT_H

#include "policy.h"

/* ---- wildcards ---- */

struct pol_wildcard;

/* Compiles s[0..n). Returns 0, CM_ETOOBIG (n > POLICY_MAX_STRING), CM_EPARSE (invalid
 * UTF-8) or CM_ENOMEM. */
CM_NODISCARD int pol_wildcard_compile(const char *s, size_t n, struct pol_wildcard **out,
                                      struct cm_err *err);
/* True when the whole of s[0..n) matches. Thread-safe; never allocates. */
bool pol_wildcard_match(const struct pol_wildcard *w, const char *s, size_t n);
/* True when the pattern has no '*' or '?' (a plain literal). */
bool pol_wildcard_is_literal(const struct pol_wildcard *w);
void pol_wildcard_destroy(struct pol_wildcard *w);
/* One-shot match without compiling (for rarely used paths and tests). */
bool pol_wildcard_match_raw(const char *pat, size_t pn, const char *s, size_t n);
/* Decodes one rune the way Go's range over a string does: a valid UTF-8 sequence, or one
 * invalid byte as U+FFFD (width 1). n > 0. Returns the width in bytes. */
size_t pol_utf8_next(const unsigned char *s, size_t n, uint32_t *cp);
/* True when s[0..n) is valid UTF-8 (no overlongs, surrogates or values past U+10FFFF). */
bool pol_utf8_valid(const unsigned char *s, size_t n);

/* ---- values ---- */

enum pol_value_kind { POL_VAL_DURATION = 1, POL_VAL_QUANTITY, POL_VAL_NUMBER };

/* A parsed comparable scalar (value type). Durations in nanoseconds; quantities and numbers as
 * a scaled decimal compared exactly where it matters ("1Gi" == "1024Mi"). v is the
 * approximate value for display; comparisons use the exact private fields:
 * - POL_VAL_DURATION: ns_ (Go's int64 nanoseconds, exactly as time.ParseDuration).
 * - POL_VAL_QUANTITY: neg_, whole_ + nano_/1e9, as resource.ParseQuantity keeps it: rounded
 *   up (away from zero) to 1n and capped at 2^63-1 in magnitude.
 * POL_VAL_NUMBER is reserved (plain numbers parse as quantities, as in Kyverno). */
struct pol_value {
    enum pol_value_kind kind;
    long double v;
    int64_t ns_;
    bool neg_;
    uint64_t whole_;
    uint32_t nano_;
};

/* Parses s as a Go duration ("90s", "1h30m", "-1.5h", "1h2m3.5s", "500us", "1µs"; a bare
 * number only when it is "0"). False on syntax errors, unknown units and int64 overflow.
 * Pure and thread-safe; never allocates. */
bool pol_value_parse_duration(const char *s, size_t n, struct pol_value *out);
/* Parses s as a Kubernetes quantity ("2", "500m", "1Gi", "1e3", "1.5", "+1", ".5"):
 * decimal SI suffixes n u m k M G T P E, binary Ki..Ei, or an integer exponent e/E.
 * False on anything else (spaces, empty, "1Kb"). Never allocates. */
bool pol_value_parse_quantity(const char *s, size_t n, struct pol_value *out);
/* Compares two values of the same kind exactly: -1, 0 or 1. Values of different kinds
 * compare by kind (callers only compare equal kinds). Cannot fail. */
int pol_value_cmp(const struct pol_value *a, const struct pol_value *b);
/* Compares a and b the way Kyverno does for operators: both durations, else both
 * quantities. Sets *cmp to -1, 0 or 1 and returns true; false when not comparable. */
bool pol_value_compare_strings(const char *a, size_t an, const char *b, size_t bn, int *cmp);

/* ---- string patterns with operators (policy_operator.c) ---- */

/* A compiled Kyverno string pattern: alternatives split on '|', each a conjunction split
 * on '&' of conditions: `!x`, `>x`, `<x`, `>=x`, `<=x`, ranges `a-b` and `a!-b`, else
 * equality; operands are wildcards (for = and !), durations and quantities, all parsed
 * here once. Immutable after compile; shared read-only by any number of threads. */
struct pol_strpat;

/* Compiles s[0..n). Returns 0, CM_ETOOBIG (n > POLICY_MAX_STRING), CM_EPARSE (invalid
 * UTF-8) or CM_ENOMEM; *out untouched on failure. */
CM_NODISCARD int pol_strpat_compile(const char *s, size_t n, struct pol_strpat **out,
                                    struct cm_err *err);
/* Kyverno's validateStringPatterns(value, pattern): value is a resource value (NULL for
 * a missing key, which Kyverno treats as nil). Thread-safe; never allocates. */
bool pol_strpat_match(const struct pol_strpat *p, const cJSON *value);
/* The pattern as written. */
const char *pol_strpat_text(const struct pol_strpat *p, size_t *len);
void pol_strpat_destroy(struct pol_strpat *p);

/* Go's strconv.FormatFloat(v, 'E', -1, 64) ("2E+00", "1.5E-07") into buf (>= 32 bytes).
 * Returns the length. Cannot fail. */
size_t pol_format_float_E(double v, char *buf, size_t cap);
/* True when a cJSON number holds an integer Kyverno would see as int64 (integral and in
 * range); sets *out. */
bool pol_json_int64(const cJSON *v, int64_t *out);

/* ---- validate patterns ---- */

struct pol_pattern;

enum pol_pat_status { POL_PAT_PASS = 0, POL_PAT_FAIL, POL_PAT_SKIP, POL_PAT_ERROR };

struct pol_pat_result {
    enum pol_pat_status status;
    char path[512]; /* Kyverno's path with trailing '/', e.g. "/metadata/labels/x/" */
    char msg[512];  /* reason for FAIL/ERROR/SKIP, Kyverno's wording where it has one */
};

/* Compiles a validate pattern (any JSON value; normally an object). On failure *bad
 * (when not NULL) points at the offending node inside pattern, so that the loader can
 * report its line and column. Returns 0, CM_ECONFIG, CM_ETOOBIG or CM_ENOMEM. */
CM_NODISCARD int pol_pattern_compile(const cJSON *pattern, struct pol_pattern **out,
                                     const cJSON **bad, struct cm_err *err);
/* Evaluates a compiled pattern against resource (the whole object; NULL reads as nil).
 * Thread-safe: p is only read, res belongs to the caller. Never allocates. res->status:
 * PASS (path and msg ""), FAIL (path = Kyverno's failing path, msg = its detail, e.g.
 * "resource value '<nil>' does not match 'k10-?*' at path /metadata/labels/x/"), SKIP
 * (a conditional or global anchor did not hold; path "", msg says why) or ERROR (an error
 * Kyverno reports without a path: "array length mismatch"). Paths and messages are cut
 * at 511 bytes. Returns 0 (CM_ENOMEM is reserved; it does not happen today). */
CM_NODISCARD int pol_pattern_eval(const struct pol_pattern *p, const cJSON *resource,
                                  struct pol_pat_result *res);
void pol_pattern_destroy(struct pol_pattern *p);

/* ---- pattern internals: shared by policy_pattern*.c only ---- */

enum pol_pnode_kind {
    POL_PN_MAP = 0,
    POL_PN_ARRAY,
    POL_PN_STRING,
    POL_PN_BOOL,
    POL_PN_NUMBER,
    POL_PN_NULL,
};

enum pol_anchor {
    POL_ANCHOR_NONE = 0, /* plain key */
    POL_ANCHOR_COND,     /* (key) */
    POL_ANCHOR_GLOBAL,   /* <(key) */
    POL_ANCHOR_EQUAL,    /* =(key) */
    POL_ANCHOR_NEG,      /* X(key) */
    POL_ANCHOR_EXIST,    /* ^(key) */
};

struct pol_pnode;

/* One key of a map pattern, in Kyverno's evaluation order. */
struct pol_pentry {
    enum pol_anchor anchor;
    char *key; /* without its anchor, NUL-terminated */
    size_t key_len;
    struct pol_wildcard *key_wc; /* metadata label/annotation key with '*'/'?': expanded
                                    against the resource's keys (ExpandInMetadata) */
    struct pol_pnode *val;
};

struct pol_pnode {
    enum pol_pnode_kind kind;
    bool b;      /* POL_PN_BOOL */
    bool is_int; /* POL_PN_NUMBER: an int64 pattern (else float64) */
    int64_t i;
    double d;
    struct pol_strpat *sp;   /* POL_PN_STRING */
    bool is_star;            /* the string is exactly "*" */
    struct pol_pentry *ents; /* POL_PN_MAP */
    size_t n_ents;
    struct pol_pnode **elems; /* POL_PN_ARRAY (never empty) */
    size_t n_elems;
};

struct pol_pattern {
    struct pol_pnode *root;
};

/* Bounded text writer for failure messages (never allocates; cuts at cap). */
struct pol_wbuf {
    char *p;
    size_t cap; /* including the NUL */
    size_t len;
};
void pol_wbuf_init(struct pol_wbuf *w, char *p, size_t cap);
void pol_wbuf_add(struct pol_wbuf *w, const char *s, size_t n);
void pol_wbuf_adds(struct pol_wbuf *w, const char *s);
/* Go's fmt %v of a resource value (NULL = nil): "<nil>", "[a b]", "map[k:v]", floats
 * as %g shortest. */
void pol_wbuf_go_value(struct pol_wbuf *w, const cJSON *v);
/* Go's %v of a pattern node as written. */
void pol_wbuf_go_pattern(struct pol_wbuf *w, const struct pol_pnode *n);
/* Go's %T of a resource value: "map[string]interface {}", "[]interface {}", "string",
 * "int64", "float64", "bool", "<nil>". */
const char *pol_go_type(const cJSON *v);

#endif /* POLICY_POLICY_INT_H */
