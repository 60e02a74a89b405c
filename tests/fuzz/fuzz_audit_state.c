/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_audit_state.c - libFuzzer target for backup_audit_state_load and the audit
 * renderers.
 *
 * Why hostile: `lockwarden audit --input` reads a recorded cluster state that anyone
 * who could edit the file (or the cluster objects it was dumped from) controls: names,
 * labels, restore-point facts, times. A crash or hang there would let a tenant break
 * the compliance report, and a string that escapes its format would let it forge rows
 * in CSV or HTML.
 * What it bounds: input is capped at 64 KiB; the state is loaded without policies and
 * with a fixed clock, then rendered in every format into a 4 MiB buffer, and the HTML
 * must never contain "<script" (every string from the input is escaped). */
#include "backup/backup.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_INPUT 65536u

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct backup_audit_report *r = NULL;
    enum backup_audit_format f;
    struct cm_err err;

    if (size > FUZZ_MAX_INPUT)
        return 0;
    policy_json_hooks_install();
    if (backup_audit_state_load("fuzz", (const char *)data, size, NULL,
                                cm_time_from_utc(2026, 11, 22, 10, 30, 0), &r, &err) != 0)
        return 0;
    for (f = BACKUP_AUDIT_TEXT; f <= BACKUP_AUDIT_HTML; f++) {
        struct cm_buf b;

        cm_buf_init(&b, 4u << 20);
        if (backup_audit_render(r, f, &b) == 0 && f == BACKUP_AUDIT_HTML &&
            strstr(b.ptr, "<script") != NULL)
            abort(); /* an app string escaped the HTML escaping */
        cm_buf_free(&b);
    }
    backup_audit_report_destroy(r);
    return 0;
}
