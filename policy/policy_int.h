/* SPDX-License-Identifier: Apache-2.0 */
/* policy_int.h - declarations shared inside policy/ only: compiled wildcards, values
 * (durations, quantities, numbers) and validate patterns. Never include from outside.
 *
 * Design note
 * - policy_wildcard.c: Kyverno's wildcard.Match: '*' any run (also '/'), '?' one
 *   character (UTF-8 aware), everything else literal, no escapes. Compiled once:
 *   literal, prefix*, *suffix and '*' fast paths; the general case on PCRE2 (JIT where
 *   available) with a match limit, and a linear fallback so nothing backtracks forever.
 * - policy_value.c: Kyverno's value order: Go durations, then Kubernetes quantities,
 *   then numbers; strings compare only for = and !.
 * - policy_pattern.c: validate `pattern` trees with anchors and operators compiled
 *   into a node tree; evaluation walks it beside a cJSON resource and never allocates
 *   on the pass path. */
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

/* ---- values ---- */

enum pol_value_kind { POL_VAL_DURATION = 1, POL_VAL_QUANTITY, POL_VAL_NUMBER };

/* A parsed comparable scalar. Durations in nanoseconds; quantities and numbers as
 * a scaled decimal compared exactly where it matters ("1Gi" == "1024Mi"). */
struct pol_value {
    enum pol_value_kind kind;
    long double v;
};

/* Parses s as a Go duration ("90s", "1h30m", "-1.5h"; not a bare number except "0"). */
bool pol_value_parse_duration(const char *s, size_t n, struct pol_value *out);
/* Parses s as a Kubernetes quantity ("2", "500m", "1Gi", "1e3", "1.5"). */
bool pol_value_parse_quantity(const char *s, size_t n, struct pol_value *out);
/* Compares a and b the way Kyverno does for operators: both durations, else both
 * quantities. Sets *cmp to -1, 0 or 1 and returns true; false when not comparable. */
bool pol_value_compare_strings(const char *a, size_t an, const char *b, size_t bn, int *cmp);

/* ---- validate patterns ---- */

struct pol_pattern;

enum pol_pat_status { POL_PAT_PASS = 0, POL_PAT_FAIL, POL_PAT_SKIP, POL_PAT_ERROR };

struct pol_pat_result {
    enum pol_pat_status status;
    char path[512];  /* Kyverno's path with trailing '/', e.g. "/metadata/labels/x/" */
    char msg[512];   /* reason for FAIL/ERROR/SKIP, Kyverno's wording where it has one */
};

/* Compiles a validate pattern (any JSON value; normally an object). On failure *bad
 * (when not NULL) points at the offending node inside pattern, so that the loader can
 * report its line and column. Returns 0, CM_ECONFIG, CM_ETOOBIG or CM_ENOMEM. */
CM_NODISCARD int pol_pattern_compile(const cJSON *pattern, struct pol_pattern **out,
                                     const cJSON **bad, struct cm_err *err);
/* Evaluates a compiled pattern against resource (the whole object). Thread-safe.
 * Returns 0 with *res filled, or CM_ENOMEM. */
CM_NODISCARD int pol_pattern_eval(const struct pol_pattern *p, const cJSON *resource,
                                  struct pol_pat_result *res);
void pol_pattern_destroy(struct pol_pattern *p);

#endif /* POLICY_POLICY_INT_H */
