/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_pattern.c - libFuzzer target for pol_pattern_compile + pol_pattern_eval.
 *
 * Why hostile: patterns come from policy files anyone with write access to the policy
 * directory or ConfigMap can change, and resources come from AdmissionReviews that any
 * user allowed to create a Deployment controls. Neither may crash, hang, leak or
 * overflow the fixed path/message buffers of the result.
 * What it bounds: input is capped at 64 KiB; the first byte chooses where the pattern
 * JSON ends and the resource JSON begins (each parsed with an explicit length). The
 * pattern is also evaluated against itself and against a null resource. */
#include "policy/policy_int.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_INPUT 65536u

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void check_result(const struct pol_pat_result *r)
{
    if ((unsigned)r->status > POL_PAT_ERROR || memchr(r->path, '\0', sizeof(r->path)) == NULL ||
        memchr(r->msg, '\0', sizeof(r->msg)) == NULL) {
        abort();
    }
    if (r->status == POL_PAT_PASS && (r->path[0] != '\0' || r->msg[0] != '\0')) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    cJSON_Hooks hooks = {cm_malloc, cm_free};
    cJSON *pat = NULL;
    cJSON *res = NULL;
    struct pol_pattern *p = NULL;
    struct pol_pat_result r;
    size_t split;

    if (size < 1 || size > FUZZ_MAX_INPUT) {
        return 0;
    }
    cJSON_InitHooks(&hooks);
    split = size > 1 ? (size_t)data[0] * (size - 1) / 255 : 0;
    pat = cJSON_ParseWithLength((const char *)data + 1, split);
    res = cJSON_ParseWithLength((const char *)data + 1 + split, size - 1 - split);
    if (pat == NULL) {
        goto cleanup;
    }
    if (pol_pattern_compile(pat, &p, NULL, NULL) != 0) {
        goto cleanup;
    }
    if (pol_pattern_eval(p, res, &r) != 0) {
        abort(); /* evaluation never allocates, so it cannot fail */
    }
    check_result(&r);
    if (pol_pattern_eval(p, pat, &r) != 0) {
        abort();
    }
    check_result(&r);
    if (pol_pattern_eval(p, NULL, &r) != 0) {
        abort();
    }
    check_result(&r);

cleanup:
    pol_pattern_destroy(p);
    cJSON_Delete(pat);
    cJSON_Delete(res);
    return 0;
}
