/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_kube_jt.c - libFuzzer target for JSON by byte span (kube_jt.c): the strict
 * parser a capture runs on every list page, lookups and unescaping, the capture's
 * strip rules, and the emitter that stores objects as the server wrote them.
 *
 * Why the input is hostile: list pages come from the network (an apiserver, a proxy,
 * an aggregated API); the stored text is what a restore later trusts. What it checks
 * beyond "no crash": the validator alone and the tape agree; what the tape accepts,
 * cJSON accepts too (kube_json_parse depends on it); an untouched root is emitted
 * byte for byte; after any set of drops (picked by the first input byte) and after
 * the strip rules, the emitted text parses again. Input is capped at 256 KiB. */
#include "backup/backup.h"
#include "backup/kube/kube_jt.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void must(bool ok)
{
    if (!ok)
        abort();
}

/* The emitted node i parses again (and, with no drops and no head, is the source). */
static void reparse(const struct kube_jt *t, uint32_t i, const char *head)
{
    struct cm_buf b;
    struct kube_jt u;

    cm_buf_init(&b, 1u << 20);
    if (kube_jt_emit(t, i, head, &b) != 0) {
        cm_buf_free(&b);
        return; /* memory only */
    }
    kube_jt_init(&u);
    must(kube_jt_parse(&u, b.ptr, b.len, 64, NULL) == 0);
    if (head == NULL && (t->n[i].flags & KUBE_JT_F_DIRTY) == 0)
        must(b.len == t->n[i].end - t->n[i].start &&
             memcmp(b.ptr, t->s + t->n[i].start, b.len) == 0);
    kube_jt_free(&u);
    cm_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    const char *s = (const char *)data + 1;
    const char *stripped[BACKUP_STRIP_MAX];
    struct kube_jt t;
    struct kube_jt_error e;
    size_t len, n = 0;
    unsigned k;
    uint32_t i;
    char buf[256];
    int rc;

    if (size < 1 || size > (256u << 10))
        return 0;
    k = data[0] % 7 + 2;
    len = size - 1;
    kube_jt_init(&t);
    rc = kube_jt_parse(&t, s, len, 64, &e);
    must(kube_jt_parse(NULL, s, len, 64, &e) == rc || rc == CM_ENOMEM);
    if (rc != 0) {
        kube_jt_free(&t);
        return 0;
    }
    {
        cJSON *j = cJSON_ParseWithLength(s, len);

        must(j != NULL);
        cJSON_Delete(j);
    }
    reparse(&t, 0, NULL);
    for (i = 0; i < t.count; i++) {
        if (t.n[i].type == KUBE_JT_STRING) {
            rc = kube_jt_str(&t, i, buf, sizeof(buf));
            must(rc == 0 || rc == CM_ETOOBIG || rc == CM_EPARSE);
        }
        (void)kube_jt_get(&t, i, "metadata");
    }
    if (t.n[0].type == KUBE_JT_OBJECT) {
        (void)backup_strip_skip("", "pods", &t, 0);
        (void)backup_strip_skip("", "configmaps", &t, 0);
        (void)backup_strip_skip("snapshot.storage.k8s.io", "volumesnapshots", &t, 0);
        backup_strip_object(&t, 0, "", data[0] & 1 ? "Service" : "PersistentVolume", stripped, &n);
        backup_strip_object(&t, 0, "", "PersistentVolumeClaim", stripped, &n);
        reparse(&t, 0, "\"kind\":\"X\"");
    }
    for (i = 1; i < t.count; i++) {
        if (i % k == 0)
            kube_jt_drop(&t, i);
    }
    reparse(&t, 0, NULL);
    kube_jt_free(&t);
    return 0;
}
