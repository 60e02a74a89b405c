/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_kubeconfig.c - libFuzzer target for kube_config_parse_kubeconfig().
 *
 * Why the input is hostile: a kubeconfig comes from the user's disk or a mounted
 * Secret and is parsed before any trust is established; its YAML goes through
 * policy_docs_parse and its fields pick contexts, clusters and users, decode base64
 * certificate data and name files. What it bounds: input is capped at 256 KiB (the
 * production cap is KUBE_MAX_KUBECONFIG); the first byte selects the context name
 * (none, or one of a few plausible names) so context lookups and their errors are
 * reached. File references are resolved against a directory that does not exist;
 * production refuses non-regular files, and inputs mentioning /proc, /sys or /dev are
 * skipped because some regular-looking files there block on read (reading the host's
 * files is not what this target fuzzes). Everything is freed. */
#include "backup/kube/kube.h"
#include "policy/policy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static const char *const contexts[] = {NULL, "a", "prod", "dev", ""};
    struct kube_config *cfg = NULL;
    struct cm_err err;
    const char *ctx;
    char *buf;

    if (size < 1 || size > (256u << 10))
        return 0;
    ctx = contexts[data[0] % (sizeof(contexts) / sizeof(contexts[0]))];
    buf = malloc(size);
    if (buf == NULL)
        return 0;
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    /* Skip inputs that could name blocking host files (see the header comment). */
    if (strstr(buf, "/proc") == NULL && strstr(buf, "/sys") == NULL &&
        strstr(buf, "/dev") == NULL) {
        policy_json_hooks_install();
        if (kube_config_parse_kubeconfig("fuzz.kubeconfig", buf, size - 1, "nonexistent-fuzz-dir",
                                         ctx, &cfg, &err) == 0) {
            (void)kube_config_server(cfg);
            (void)kube_config_namespace(cfg);
            kube_config_destroy(cfg);
        }
    }
    free(buf);
    return 0;
}
