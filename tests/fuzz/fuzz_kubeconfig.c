/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_kubeconfig.c - libFuzzer target for kube_config_parse_kubeconfig(), the merge of
 * several kubeconfigs (kube_config_merge_kubeconfigs, what $KUBECONFIG loads go through)
 * and the $KUBECONFIG splitter (kube_kubeconfig_list_parse).
 *
 * Why the input is hostile: a kubeconfig comes from the user's disk or a mounted
 * Secret and is parsed before any trust is established; its YAML goes through
 * policy_docs_parse and its fields pick contexts, clusters and users, decode base64
 * certificate data and name files. $KUBECONFIG is whatever the environment holds. What
 * it bounds: input is capped at 256 KiB (the production cap is KUBE_MAX_KUBECONFIG);
 * the first byte selects the context name (none, or one of a few plausible names) so
 * context lookups and their errors are reached, and its top bit the merge: the rest is
 * then cut at NUL bytes into up to KUBE_MAX_KUBECONFIG_FILES + 1 files (one over the
 * cap), each with its own base directory, so first-definition-wins lookups across files
 * and per-file relative paths are reached. The text up to the first NUL is also split
 * as a $KUBECONFIG value (no file is opened) and the result checked. File references
 * are resolved against directories that do not exist; production refuses non-regular
 * files, and inputs mentioning /proc, /sys or /dev are skipped because some
 * regular-looking files there block on read (reading the host's files is not what this
 * target fuzzes). Everything is freed. */
#include "backup/kube/kube_int.h"
#include "policy/policy.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* True when s (NUL-terminated) could name a blocking host file. */
static bool names_host_files(const char *s)
{
    return strstr(s, "/proc") != NULL || strstr(s, "/sys") != NULL || strstr(s, "/dev") != NULL;
}

/* The splitter's promises: at most the cap, no empty entry, no ':', no repeat. */
static void check_list(const char *value)
{
    struct kube_kubeconfig_list l;
    struct cm_err err;
    size_t i;
    size_t j;

    if (kube_kubeconfig_list_parse(value, &l, &err) != 0) {
        if (l.n != 0 || l.buf_ != NULL)
            abort();
        return;
    }
    if (l.n > KUBE_MAX_KUBECONFIG_FILES)
        abort();
    for (i = 0; i < l.n; i++) {
        if (l.path[i][0] == '\0' || strchr(l.path[i], ':') != NULL ||
            strlen(l.path[i]) >= KUBE_MAX_KUBECONFIG_PATH)
            abort();
        for (j = 0; j < i; j++) {
            if (strcmp(l.path[i], l.path[j]) == 0)
                abort();
        }
    }
    kube_kubeconfig_list_cleanup(&l);
}

static void use(int rc, struct kube_config *cfg)
{
    if (rc == 0) {
        (void)kube_config_server(cfg);
        (void)kube_config_namespace(cfg);
        kube_config_destroy(cfg);
    }
}

/* Cuts buf[0..len) at NUL bytes into files and merges them. */
static void merge(char *buf, size_t len, const char *ctx)
{
    struct kube_kubeconfig_src src[KUBE_MAX_KUBECONFIG_FILES + 1];
    char names[KUBE_MAX_KUBECONFIG_FILES + 1][32];
    char dirs[KUBE_MAX_KUBECONFIG_FILES + 1][40];
    struct kube_config *cfg = NULL;
    struct cm_err err;
    size_t n = 0;
    size_t off = 0;
    int rc;

    while (n < CM_ARRAY_LEN(src)) {
        size_t piece = strlen(buf + off); /* buf[len] is NUL */

        if (names_host_files(buf + off))
            return;
        (void)snprintf(names[n], sizeof(names[n]), "fuzz-%zu.kubeconfig", n);
        (void)snprintf(dirs[n], sizeof(dirs[n]), "nonexistent-fuzz-dir/%zu", n);
        src[n].name = names[n];
        src[n].buf = buf + off;
        src[n].len = piece;
        src[n].base_dir = dirs[n];
        n++;
        off += piece + 1;
        if (off > len)
            break;
    }
    rc = kube_config_merge_kubeconfigs("fuzz-merge", src, n, ctx, &cfg, &err);
    use(rc, cfg);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static const char *const contexts[] = {NULL, "a", "prod", "dev", ""};
    struct kube_config *cfg = NULL;
    struct cm_err err;
    const char *ctx;
    char *buf;

    if (size < 1 || size > (256u << 10))
        return 0;
    ctx = contexts[(data[0] & 0x7f) % (sizeof(contexts) / sizeof(contexts[0]))];
    buf = malloc(size);
    if (buf == NULL)
        return 0;
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    policy_json_hooks_install();
    check_list(buf);
    if (data[0] & 0x80) {
        merge(buf, size - 1, ctx);
    } else if (!names_host_files(buf)) {
        /* Skip inputs that could name blocking host files (see the header comment); a
         * NUL in the text is refused by the YAML parser before any file is named. */
        int rc = kube_config_parse_kubeconfig("fuzz.kubeconfig", buf, size - 1,
                                              "nonexistent-fuzz-dir", ctx, &cfg, &err);

        use(rc, cfg);
    }
    free(buf);
    return 0;
}
