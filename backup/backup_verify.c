/* SPDX-License-Identifier: Apache-2.0 */
/* backup_verify.c - `backup verify`: every object read back, every SHA-256 checked,
 * and each object's retention mode and date read from the server. */
#include "backup/backup.h"
#include "backup/s3/s3.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

struct hash_ctx {
    EVP_MD_CTX *md;
    uint64_t bytes;
};

static int hash_body(const void *p, size_t n, void *ctx)
{
    struct hash_ctx *h = ctx;

    h->bytes += n;
    return EVP_DigestUpdate(h->md, p, n) == 1 ? 0 : CM_EIO;
}

/* An encrypted archive without its key: the stored bytes' size and SHA-256 only,
 * streamed (bounded memory). */
static int check_stored_only(struct s3_client *s3, const char *akey,
                             const struct backup_manifest *m, struct cm_err *err)
{
    struct hash_ctx h;
    unsigned char md[32];
    unsigned int mdl = 0;
    char hex[65];
    static const char xd[] = "0123456789abcdef";
    int i;
    int rc;

    h.bytes = 0;
    h.md = EVP_MD_CTX_new();
    if (h.md == NULL || EVP_DigestInit_ex(h.md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(h.md);
        return cm_err_set(err, CM_ENOMEM, "verify: SHA-256 initialisation failed");
    }
    rc = s3_client_get_object(s3, akey, m->archive_version[0] ? m->archive_version : NULL, NULL,
                              hash_body, &h, NULL, err);
    if (rc == CM_ENOENT) /* as backup_rp_foreach_resource: damage, not a partial point */
        rc = cm_err_set(err, CM_EINTEGRITY, "%s is missing (the manifest names it)", akey);
    if (rc == 0 && (EVP_DigestFinal_ex(h.md, md, &mdl) != 1 || mdl != 32))
        rc = cm_err_set(err, CM_EIO, "verify: SHA-256 failed");
    EVP_MD_CTX_free(h.md);
    if (rc != 0)
        return rc;
    for (i = 0; i < 32; i++) {
        hex[2 * i] = xd[md[i] >> 4];
        hex[2 * i + 1] = xd[md[i] & 15];
    }
    hex[64] = '\0';
    if (h.bytes != m->archive_size || strcmp(hex, m->archive_sha256) != 0)
        return cm_err_set(err, CM_EINTEGRITY,
                          "%s: stored %llu bytes with SHA-256 %s, manifest says %llu bytes %s",
                          akey, (unsigned long long)h.bytes, hex,
                          (unsigned long long)m->archive_size, m->archive_sha256);
    return 0;
}

static int check_lock(struct s3_client *s3, const char *key, const char *version,
                      const struct backup_manifest *m, struct backup_verify_object *o,
                      struct cm_err *err)
{
    struct s3_object_info info;
    int rc;

    memset(&info, 0, sizeof(info));
    rc = s3_client_head_object(s3, key, version != NULL && version[0] ? version : NULL, &info, err);
    if (rc != 0)
        return rc;
    (void)snprintf(o->key, sizeof(o->key), "%s", key);
    (void)snprintf(o->version_id, sizeof(o->version_id), "%s", info.version_id);
    o->size = info.size;
    (void)snprintf(o->lock_mode, sizeof(o->lock_mode), "%s", s3_lock_mode_name(info.lock_mode));
    o->retain_until = info.retain_until;
    if (strcmp(m->lock_mode, "NONE") == 0) {
        o->lock_ok = true;
        return 0;
    }
    o->lock_ok = strcmp(o->lock_mode, m->lock_mode) == 0 && info.retain_until >= m->retain_until;
    if (!o->lock_ok) {
        char want[32], got[32];

        cm_time_format(m->retain_until, want, sizeof(want));
        cm_time_format(info.retain_until, got, sizeof(got));
        return cm_err_set(err, CM_EINTEGRITY,
                          "%s: lock %s until %s on the server, manifest promises %s until %s", key,
                          o->lock_mode, info.retain_until ? got : "(none)", m->lock_mode, want);
    }
    return 0;
}

int backup_verify_run(struct s3_client *s3, const char *prefix, const char *ns, const char *id,
                      const struct backup_key *key, struct backup_verify_report *report,
                      struct cm_err *err)
{
    struct backup_verify_report local;
    struct backup_verify_report *rep = report != NULL ? report : &local;
    struct backup_rp *rp = NULL;
    const struct backup_manifest *m;
    char akey[BACKUP_KEY_MAX + 1];
    char mkey[BACKUP_KEY_MAX + 1];
    size_t checked = 0;
    int rc;

    memset(rep, 0, sizeof(*rep));
    (void)snprintf(rep->namespace_, sizeof(rep->namespace_), "%s", ns ? ns : "");
    (void)snprintf(rep->id, sizeof(rep->id), "%s", id ? id : "");
    rc = backup_rp_open(s3, prefix, ns, id, &rp, err);
    if (rc != 0)
        return rc;
    m = backup_rp_manifest(rp);
    rep->resources_total = m->n_resources;
    rc = backup_rp_key(prefix, ns, id, m->archive_key, akey, sizeof(akey), err);
    if (rc == 0)
        rc = backup_rp_key(prefix, ns, id, BACKUP_MANIFEST_NAME, mkey, sizeof(mkey), err);
    if (rc != 0)
        goto cleanup;
    if (m->key_id[0] != '\0' && key == NULL) {
        rep->resources_skipped = true;
        rc = check_stored_only(s3, akey, m, err);
    } else {
        rc = backup_rp_foreach_resource(rp, key, NULL, NULL, err);
        if (rc == 0)
            checked = m->n_resources;
    }
    if (rc != 0)
        goto cleanup;
    rep->resources_checked = checked;
    rep->archive_ok = true;
    rep->foreign_versions = backup_rp_foreign_versions(rp);
    rc = check_lock(s3, akey, m->archive_version, m, &rep->objects[0], err);
    rep->n_objects = 1;
    if (rc == 0) {
        rc = check_lock(s3, mkey, backup_rp_manifest_version(rp), m, &rep->objects[1], err);
        rep->n_objects = 2;
    }
cleanup:
    backup_rp_destroy(rp);
    return rc;
}
