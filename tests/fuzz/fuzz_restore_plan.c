/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_restore_plan.c - libFuzzer target for restore planning: --namespace-map
 * parsing, backup_restore_sanitize and backup_restore_sort on arbitrary objects.
 *
 * Why hostile: the objects come out of a restore point's archive (written by whoever
 * could write the bucket before the lock, or by the cluster's users through the
 * captured objects), and namespace maps come from the command line of automation.
 * Sanitising must never crash, leak or loop on odd shapes (strings where objects are
 * expected, huge arrays, missing members).
 * What it bounds: input is capped at 64 KiB. The first line is a namespace map
 * "OLD=NEW"; the rest is JSON: an array of objects (or one object) that is sanitised
 * object by object and then sorted. */
#include "backup/backup.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_INPUT 65536u
#define FUZZ_MAX_OBJS 4096u

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct backup_restore_nsmap m;
    const char *nl;
    char spec[160];
    cJSON *root;
    cJSON *objs[FUZZ_MAX_OBJS];
    cJSON *it;
    size_t n = 0;
    size_t sl;

    if (size > FUZZ_MAX_INPUT)
        return 0;
    policy_json_hooks_install();
    nl = memchr(data, '\n', size);
    sl = nl != NULL ? (size_t)(nl - (const char *)data) : 0;
    backup_restore_nsmap_init(&m);
    if (sl > 0 && sl < sizeof(spec)) {
        memcpy(spec, data, sl);
        spec[sl] = '\0';
        if (backup_restore_nsmap_add(&m, spec, NULL) != 0 && m.n != 0)
            abort(); /* a refused map must leave the map unchanged */
    }
    if (nl == NULL)
        return 0;
    root = cJSON_ParseWithLength(nl + 1, size - sl - 1);
    if (root == NULL)
        return 0;
    if (cJSON_IsObject(root)) {
        objs[n++] = root;
    } else {
        cJSON_ArrayForEach(it, root)
        {
            if (n < FUZZ_MAX_OBJS)
                objs[n++] = it;
        }
    }
    for (size_t i = 0; i < n; i++) {
        int rc = backup_restore_sanitize(objs[i], &m, (i & 1) ? "snap" : NULL, NULL);

        if (rc != 0 && rc != CM_EINVAL && rc != CM_ENOMEM)
            abort();
        (void)backup_restore_is_derived(objs[i], NULL);
    }
    if (backup_restore_sort(objs, n) != 0 && n > 1)
        return 0; /* CM_ENOMEM only; objs unchanged */
    cJSON_Delete(root);
    return 0;
}
