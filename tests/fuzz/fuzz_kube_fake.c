/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_kube_fake.c - libFuzzer target for the fake kube-apiserver's own parsers:
 * label selectors (fk_label_match), RFC 6902 JSON patches (fk_json_patch) and RFC
 * 7386 merge patches (fk_merge_patch).
 *
 * Why the input is hostile: the fake parses whatever the client under test sends it
 * (selectors and patch bodies built by code that may be wrong); a crash in the fake
 * would show up as a confusing failure in someone else's test. What it bounds: input
 * is capped at 64 KiB; the first byte selects the parser; for patches the input is
 * split at the first NUL into a target document and a patch. Everything is freed. */
#include "tests/support/kube_fake_int.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char *buf;
    char msg[512];
    size_t n;

    if (size < 1 || size > (64u << 10))
        return 0;
    n = size - 1;
    buf = malloc(n + 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data + 1, n);
    buf[n] = '\0';
    if (data[0] % 2 == 0) {
        cJSON *labels = cJSON_Parse("{\"app\":\"web\",\"tier\":\"front\",\"a.b/c\":\"\"}");

        (void)fk_label_match(buf, labels, msg, sizeof(msg));
        (void)fk_label_match(buf, NULL, msg, sizeof(msg));
        cJSON_Delete(labels);
    } else {
        size_t tl = strlen(buf);
        cJSON *doc = cJSON_ParseWithLength(buf, tl);
        cJSON *patch = tl < n ? cJSON_ParseWithLength(buf + tl + 1, n - tl - 1) : NULL;

        if (doc != NULL && patch != NULL) {
            cJSON *copy = cJSON_Duplicate(doc, 1);

            if (copy != NULL)
                (void)fk_json_patch(copy, patch, msg, sizeof(msg));
            cJSON_Delete(copy);
            cJSON_Delete(fk_merge_patch(cJSON_Duplicate(doc, 1), patch));
        }
        cJSON_Delete(doc);
        cJSON_Delete(patch);
    }
    free(buf);
    return 0;
}
