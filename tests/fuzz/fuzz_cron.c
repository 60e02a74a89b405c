/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_cron.c - libFuzzer target for BackupPolicy schedules: policy_cron_parse, then
 * next/prev from fixed times, checking that they agree.
 *
 * Why hostile: schedules come from BackupPolicy documents anyone with write access to the
 * policy repository can edit, and the executor computes due times from them on every
 * tick. Parsing must reject garbage with an error, and next/prev must terminate (8-year
 * horizon) for any schedule. Input is capped at 512 bytes (schedules are short). */
#include "policy/policy.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static const time_t starts[] = {0, 951782400 /* 2000-02-29 */, 1795000000, 4102444800};
    char s[513];
    struct policy_cron c;
    struct cm_err err;
    size_t i;

    if (size > 512)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (policy_cron_parse(s, &c, &err) != 0)
        return 0;
    for (i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        time_t n = policy_cron_next(&c, starts[i]);

        if (n != -1) {
            if (n <= starts[i] || n % 60 != 0 || policy_cron_prev(&c, n) != n)
                __builtin_trap();
        }
        (void)policy_cron_prev(&c, starts[i]);
    }
    return 0;
}
