/* SPDX-License-Identifier: Apache-2.0 */
/* backup_read.c - opening a restore point from the bucket and streaming its verified
 * resources: the one reader of verify, restore and the audit (pinned to the versions
 * lockwarden wrote; every digest checked). */
#include "backup/backup.h"
#include "backup/s3/s3.h"

#include <stdio.h>
#include <string.h>

struct backup_rp {
    struct s3_client *s3;
    char prefix[BACKUP_KEY_MAX / 2 + 1];
    struct backup_manifest *m;
    char manifest_version[S3_MAX_VERSION_ID + 1];
    size_t foreign;
    struct s3_object_info minfo; /* the pinned manifest.json version, from its GET */
    struct s3_object_info ainfo; /* the pinned archive version, once streamed */
    bool has_ainfo;
};

/* What the point's version listing tells: the oldest manifest version and how many
 * versions the manifest and each archive name have. */
struct versions {
    const char *mkey;
    size_t dirlen; /* keys are the point's directory + a name */
    char oldest[S3_MAX_VERSION_ID + 1];
    size_t n_manifest;
    size_t n_archive[BACKUP_ARCHIVE_KINDS];
};

static int on_version(const struct s3_list_entry *e, void *ctx)
{
    struct versions *v = ctx;

    if (e->is_prefix || e->is_delete_marker)
        return 0;
    if (strcmp(e->key, v->mkey) == 0) {
        /* newest first: the last one seen is the oldest */
        (void)snprintf(v->oldest, sizeof(v->oldest), "%s", e->version_id ? e->version_id : "");
        v->n_manifest++;
    } else if (strlen(e->key) > v->dirlen) {
        int i = backup_archive_kind_find(e->key + v->dirlen);

        if (i >= 0)
            v->n_archive[i]++;
    }
    return 0;
}

int backup_rp_open(struct s3_client *s3, const char *prefix, const char *ns, const char *id,
                   struct backup_rp **out, struct cm_err *err)
{
    struct backup_rp *rp = NULL;
    struct versions v;
    struct s3_list_opts lo;
    char dir[BACKUP_KEY_MAX + 1];
    char key[BACKUP_KEY_MAX + 1];
    char *buf = NULL;
    size_t len = 0;
    int rc;

    if (s3 == NULL || out == NULL)
        return cm_err_set(err, CM_EINVAL, "restore point: no S3 client");
    if (prefix != NULL && strlen(prefix) > BACKUP_KEY_MAX / 2)
        return cm_err_set(err, CM_EINVAL, "prefix too long");
    rc = backup_rp_key(prefix, ns, id, NULL, dir, sizeof(dir), err);
    if (rc == 0)
        rc = backup_rp_key(prefix, ns, id, BACKUP_MANIFEST_NAME, key, sizeof(key), err);
    if (rc != 0)
        return rc;
    memset(&v, 0, sizeof(v));
    v.mkey = key;
    v.dirlen = strlen(dir);
    memset(&lo, 0, sizeof(lo));
    lo.prefix = dir;
    rc = s3_client_list_versions(s3, &lo, on_version, &v, NULL, err);
    if (rc != 0)
        return rc;
    if (v.n_manifest == 0)
        return cm_err_set(err, CM_ENOENT,
                          "restore point %s/%s is partial or absent (no %s in bucket %s)", ns, id,
                          BACKUP_MANIFEST_NAME, s3_client_bucket(s3));
    rp = cm_calloc(1, sizeof(*rp));
    if (rp == NULL)
        return cm_err_set(err, CM_ENOMEM, "restore point: out of memory");
    rc = s3_client_get_object_mem(s3, key, v.oldest[0] ? v.oldest : NULL, BACKUP_MANIFEST_MAX, &buf,
                                  &len, &rp->minfo, err);
    if (rc == CM_ENOENT)
        rc = cm_err_set(err, CM_ENOENT,
                        "restore point %s/%s is partial or absent (no %s in bucket %s)", ns, id,
                        BACKUP_MANIFEST_NAME, s3_client_bucket(s3));
    if (rc != 0)
        goto cleanup;
    rp->s3 = s3;
    memcpy(rp->prefix, prefix ? prefix : "", prefix ? strlen(prefix) + 1 : 1);
    memcpy(rp->manifest_version, v.oldest, sizeof(rp->manifest_version));
    rc = backup_manifest_parse(buf, len, &rp->m, err);
    if (rc != 0) {
        cm_err_prefix(err, "%s", key);
        goto cleanup;
    }
    if (strcmp(rp->m->id, id) != 0 || strcmp(rp->m->namespace_, ns) != 0) {
        rc = cm_err_set(err, CM_EINTEGRITY, "%s names restore point %s/%s", key, rp->m->namespace_,
                        rp->m->id);
        goto cleanup;
    }
    {
        int ai = backup_archive_kind_find(rp->m->archive_key);
        size_t na = ai >= 0 ? v.n_archive[ai] : 0;

        rp->foreign = (v.n_manifest - 1) + (na > 1 ? na - 1 : 0);
        if (rp->foreign > 0)
            cm_log(CM_LOG_WARN, "backup",
                   "restore point has versions lockwarden did not write; "
                   "reading the original ones",
                   CM_LS("ns", ns), CM_LS("id", id),
                   CM_LI("foreign_versions", (long long)rp->foreign));
    }
    *out = rp;
    rp = NULL;
cleanup:
    cm_free(buf);
    backup_rp_destroy(rp);
    return rc;
}

const struct backup_manifest *backup_rp_manifest(const struct backup_rp *rp)
{
    return rp != NULL ? rp->m : NULL;
}

const char *backup_rp_manifest_version(const struct backup_rp *rp)
{
    return rp != NULL ? rp->manifest_version : "";
}

size_t backup_rp_foreign_versions(const struct backup_rp *rp)
{
    return rp != NULL ? rp->foreign : 0;
}

static enum policy_lock_mode lock_of(enum s3_lock_mode m)
{
    return m == S3_LOCK_COMPLIANCE   ? POLICY_LOCK_COMPLIANCE
           : m == S3_LOCK_GOVERNANCE ? POLICY_LOCK_GOVERNANCE
                                     : POLICY_LOCK_NONE;
}

/* A restore point is only as immutable as its least protected object. */
void backup_rp_lock(const struct backup_rp *rp, enum policy_lock_mode *mode, time_t *retain_until,
                    bool *legal_hold)
{
    const struct s3_object_info *a;
    const struct s3_object_info *b;
    enum policy_lock_mode ma;
    enum policy_lock_mode mb;

    if (CM_NEVER(rp == NULL)) {
        *mode = POLICY_LOCK_NONE;
        *retain_until = 0;
        *legal_hold = false;
        return;
    }
    a = &rp->minfo;
    b = rp->has_ainfo ? &rp->ainfo : &rp->minfo;
    ma = lock_of(a->lock_mode);
    mb = lock_of(b->lock_mode);
    *mode = ma < mb ? ma : mb;
    if (*mode == POLICY_LOCK_NONE)
        *retain_until = 0;
    else
        *retain_until = a->retain_until < b->retain_until ? a->retain_until : b->retain_until;
    *legal_hold = a->legal_hold && b->legal_hold;
}

struct backup_manifest *backup_rp_manifest_take(struct backup_rp *rp)
{
    struct backup_manifest *m;

    if (rp == NULL)
        return NULL;
    m = rp->m;
    rp->m = NULL;
    return m;
}

void backup_rp_destroy(struct backup_rp *rp)
{
    if (rp == NULL)
        return;
    backup_manifest_destroy(rp->m);
    cm_free(rp);
}

struct each {
    struct backup_rp *rp;
    backup_rp_resource_fn fn;
    void *ctx;
    size_t next; /* the manifest index expected next (archive order) */
    unsigned char *seen;
    size_t seen_count;
    struct backup_archive_reader *r;
    struct cm_err *err;
};

static int on_entry(void *ctx, const char *path, const void *data, size_t n, struct cm_err *err)
{
    struct each *e = ctx;
    const struct backup_manifest *m = e->rp->m;
    const struct backup_mf_resource *res = NULL;
    size_t idx;
    char hex[65];

    if (e->next < m->n_resources && strcmp(m->resources[e->next].path, path) == 0) {
        res = &m->resources[e->next];
    } else {
        res = backup_manifest_find(m, path);
    }
    if (res == NULL)
        return cm_err_set(err, CM_EINTEGRITY, "archive entry %.200s is not in the manifest", path);
    idx = (size_t)(res - m->resources);
    if (e->seen[idx])
        return cm_err_set(err, CM_EINTEGRITY, "archive entry %.200s appears twice", path);
    backup_sha256_hex(data, n, hex);
    if (res->size != n || strcmp(hex, res->sha256) != 0)
        return cm_err_set(err, CM_EINTEGRITY,
                          "%s %s%s%s: checksum mismatch (archive entry %.120s: %zu bytes SHA-256 "
                          "%.16s..., manifest: %llu bytes %.16s...)",
                          res->kind, res->namespace_, res->namespace_[0] ? "/" : "", res->name,
                          path, n, hex, (unsigned long long)res->size, res->sha256);
    e->seen[idx] = 1;
    e->seen_count++;
    e->next = idx + 1;
    return e->fn != NULL ? e->fn(res, data, n, e->ctx, err) : 0;
}

static int on_body(const void *p, size_t n, void *ctx)
{
    struct each *e = ctx;

    return backup_archive_reader_feed(e->r, p, n, e->err);
}

int backup_rp_foreach_resource(struct backup_rp *rp, const struct backup_key *key,
                               backup_rp_resource_fn fn, void *ctx, struct cm_err *err)
{
    struct each e;
    char akey[BACKUP_KEY_MAX + 1];
    const struct backup_manifest *m;
    const struct backup_key *use_key = NULL;
    struct cm_err inner;
    size_t i;
    int rc;

    if (rp == NULL)
        return cm_err_set(err, CM_EINVAL, "restore point: not open");
    m = rp->m;
    if (m->key_id[0] != '\0') {
        if (key == NULL)
            return cm_err_set(err, CM_EINVAL,
                              "restore point %s/%s is encrypted with key %s: "
                              "give that key",
                              m->namespace_, m->id, m->key_id);
        if (strcmp(key->id, m->key_id) != 0)
            return cm_err_set(err, CM_EINVAL,
                              "restore point %s/%s is encrypted with key %s, "
                              "not %s",
                              m->namespace_, m->id, m->key_id, key->id);
        use_key = key;
    }
    memset(&e, 0, sizeof(e));
    memset(&inner, 0, sizeof(inner));
    e.rp = rp;
    e.fn = fn;
    e.ctx = ctx;
    e.err = &inner; /* the reader's own detail, kept apart from the S3 client's text */
    e.seen = cm_calloc(m->n_resources ? m->n_resources : 1, 1);
    if (e.seen == NULL)
        return cm_err_set(err, CM_ENOMEM, "restore point: out of memory");
    rc = backup_rp_key(rp->prefix, m->namespace_, m->id, m->archive_key, akey, sizeof(akey), err);
    if (rc == 0)
        rc = backup_archive_reader_create(use_key, on_entry, &e, &e.r, err);
    if (rc == 0) {
        rc = s3_client_get_object(rp->s3, akey, m->archive_version[0] ? m->archive_version : NULL,
                                  NULL, on_body, &e, &rp->ainfo, err);
        if (rc != 0 && inner.code != 0 && err != NULL) {
            *err = inner;
            cm_err_prefix(err, "%s", akey);
        } else if (rc == CM_ENOENT) {
            /* The manifest exists, so the point is complete: a missing archive is damage,
             * not a partial capture. */
            rc = cm_err_set(err, CM_EINTEGRITY, "%s is missing (the manifest names it)", akey);
        }
        rp->has_ainfo = rc == 0;
    }
    if (rc == 0)
        rc = backup_archive_reader_finish(e.r, err);
    if (rc != 0)
        goto cleanup;
    if (e.seen_count != m->n_resources) {
        for (i = 0; i < m->n_resources && e.seen[i]; i++)
            ;
        i = i < m->n_resources ? i : 0;
        rc = cm_err_set(err, CM_EINTEGRITY, "%s %s%s%s: missing from the archive %s",
                        m->resources[i].kind, m->resources[i].namespace_,
                        m->resources[i].namespace_[0] ? "/" : "", m->resources[i].name, akey);
        goto cleanup;
    }
    if (backup_archive_reader_bytes(e.r) != m->archive_size ||
        strcmp(backup_archive_reader_sha256(e.r), m->archive_sha256) != 0) {
        rc = cm_err_set(err, CM_EINTEGRITY,
                        "%s: stored %llu bytes with SHA-256 %s, manifest says %llu bytes %s", akey,
                        (unsigned long long)backup_archive_reader_bytes(e.r),
                        backup_archive_reader_sha256(e.r), (unsigned long long)m->archive_size,
                        m->archive_sha256);
        goto cleanup;
    }
cleanup:
    backup_archive_reader_destroy(e.r);
    cm_free(e.seen);
    return rc;
}
