/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_s3_credentials.c - libFuzzer target for the AWS shared credentials file parser.
 *
 * Why hostile: the file comes from a mounted volume, a user's home directory or a
 * Secret rendered into a file; whoever can write it decides the bytes (NULs, endless
 * lines, huge values, odd section headers). A crash or hang there would stop every
 * backup, and a parser that echoed values into errors would leak secrets into logs.
 * What it bounds: input capped at 64 KiB; the first byte picks the profile looked up;
 * on failure the error text must never contain the secret key value of a well-formed
 * line, and on success the result is released (wiped) again. */
#include "backup/s3/s3.h"

#include <string.h>

#define FUZZ_MAX_INPUT (64u << 10)

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static const char *const profiles[] = {NULL, "default", "backup", "profile x", ""};
    struct s3_credentials c = {0};
    struct cm_err err;
    int rc;

    if (size < 1 || size > FUZZ_MAX_INPUT)
        return 0;
    rc = s3_credentials_parse((const char *)data + 1, size - 1,
                              profiles[data[0] % (sizeof(profiles) / sizeof(profiles[0]))], &c,
                              &err);
    if (rc == 0) {
        if (c.access_key == NULL || c.secret_key == NULL)
            __builtin_trap();
        /* The error text of a later failure must not carry the secret. */
        if (strstr(err.msg, c.secret_key) != NULL && strlen(c.secret_key) > 8)
            __builtin_trap();
        s3_credentials_cleanup(&c);
    } else if (c.access_key != NULL) {
        __builtin_trap(); /* out untouched on failure */
    }
    return 0;
}
