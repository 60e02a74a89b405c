/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_rp_manifest.c - libFuzzer target for the restore-point manifest reader.
 *
 * Why the input is hostile: manifest.json is read back from an S3 bucket, which anyone
 * holding the bucket's write credentials (or a compromised proxy) controls; list,
 * verify, prune and restore all parse it before trusting anything in it.
 * What it bounds: input is capped at 1 MiB here (the reader's own cap is 64 MiB);
 * the reader must return 0 or an error code, never crash, read out of bounds, leak, or
 * accept an unsafe archive path. Accepted manifests are re-formatted and re-parsed:
 * the writer's output must parse again to the same resource count (round trip). The
 * archive reader is fed the same bytes too (as a plain archive, first byte choosing
 * the chunk size), since verify feeds it bucket bytes as well. */
#include "backup/backup.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static int on_entry(void *ctx, const char *path, const void *p, size_t n, struct cm_err *err)
{
    (void)ctx;
    (void)p;
    (void)n;
    (void)err;
    /* the reader promised a safe relative path */
    if (path[0] == '/' || strstr(path, "..") != NULL)
        __builtin_trap();
    return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static int hooked;
    struct backup_manifest *m = NULL;
    struct backup_manifest *m2 = NULL;
    struct backup_archive_reader *r = NULL;
    struct cm_err err;
    struct cm_buf b;
    size_t i;
    size_t chunk;

    if (!hooked) {
        cJSON_Hooks h = {cm_malloc, cm_free};

        cJSON_InitHooks(&h);
        hooked = 1;
    }
    if (size > (1u << 20))
        return 0;
    if (backup_manifest_parse((const char *)data, size, &m, &err) == 0) {
        for (i = 0; i < m->n_resources; i++) {
            const char *p = m->resources[i].path;

            if (p[0] == '/' || strstr(p, "/../") != NULL || strncmp(p, "../", 3) == 0)
                __builtin_trap();
        }
        cm_buf_init(&b, BACKUP_MANIFEST_MAX);
        if (backup_manifest_format(m, &b) == 0) {
            if (backup_manifest_parse(b.ptr, b.len, &m2, &err) != 0 ||
                m2->n_resources != m->n_resources || m2->n_snapshots != m->n_snapshots ||
                m2->n_skipped != m->n_skipped)
                __builtin_trap();
            backup_manifest_destroy(m2);
        }
        cm_buf_free(&b);
        backup_manifest_destroy(m);
    }
    chunk = size > 0 ? (size_t)data[0] + 1 : 1;
    if (backup_archive_reader_create(NULL, on_entry, NULL, &r, &err) == 0) {
        for (i = 0; i < size; i += chunk) {
            size_t n = size - i < chunk ? size - i : chunk;

            if (backup_archive_reader_feed(r, data + i, n, &err) != 0)
                break;
        }
        backup_archive_reader_destroy(r);
    }
    return 0;
}
