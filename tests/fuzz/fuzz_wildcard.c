/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_wildcard.c - libFuzzer target for pol_wildcard_compile/match.
 *
 * Why hostile: wildcards come from policy files (names, namespaces, kinds, label
 * values) and subjects from AdmissionReviews sent by any user allowed to create
 * objects; a matcher that backtracks exponentially or reads past a length would let
 * one object stall or crash the webhook.
 * What it bounds: input is capped at 4 KiB; the first byte chooses where the pattern
 * ends and the subject begins. Every compiled match is checked against the one-shot
 * linear matcher, so the PCRE2 and fast paths can never disagree with it. */
#include "policy/policy_int.h"

#include <stdlib.h>

#define FUZZ_MAX_INPUT 4096u

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct pol_wildcard *w = NULL;
    const char *pat;
    const char *subj;
    size_t pn;
    size_t sn;

    if (size < 1 || size > FUZZ_MAX_INPUT) {
        return 0;
    }
    pn = (size_t)data[0] % size;
    pat = (const char *)data + 1;
    if (pn > size - 1) {
        pn = size - 1;
    }
    subj = pat + pn;
    sn = size - 1 - pn;
    if (pol_wildcard_compile(pat, pn, &w, NULL) != 0) {
        return 0;
    }
    if (pol_wildcard_match(w, subj, sn) != pol_wildcard_match_raw(pat, pn, subj, sn)) {
        abort(); /* two matchers disagree: a bug either way */
    }
    (void)pol_wildcard_match(w, pat, pn);
    pol_wildcard_destroy(w);
    return 0;
}
