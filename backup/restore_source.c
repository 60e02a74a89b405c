/* SPDX-License-Identifier: Apache-2.0 */
/* restore_source.c - reads a restore point back from its bucket and verifies it end
 * to end (manifest, archive digest, every entry's digest) before anything trusts it;
 * also the S3 client for a BackupPolicy's location and "latest point" lookup. */
#include "backup/backup.h"
#include "backup/kube/kube.h"
#include "backup/s3/s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- client ---- */

int backup_restore_s3_open(const struct policy_backup *bp, struct kube_client *kc,
                           const char *secret_ns, const char *endpoint_override,
                           struct s3_client **out, struct cm_err *err)
{
    struct s3_credentials creds = {0};
    struct backup_location loc;
    int rc;

    rc = backup_creds_resolve(kc, secret_ns, bp, &creds, err);
    if (rc != 0) {
        cm_err_prefix(err, "BackupPolicy %s: S3 credentials", bp->name);
        goto cleanup;
    }
    backup_location_of(bp, endpoint_override, &loc);
    rc = backup_s3_open(&loc, &creds, out, err);
    if (rc != 0)
        cm_err_prefix(err, "BackupPolicy %s", bp->name);
cleanup:
    s3_credentials_cleanup(&creds);
    return rc;
}

/* ---- listing restore points ---- */

struct list_ctx {
    size_t skip; /* bytes of "<prefix>/<ns>/" */
    char (*ids)[BACKUP_ID_LEN + 1];
    size_t n;
    size_t cap;
};

static int list_cb(const struct s3_list_entry *e, void *ctx)
{
    struct list_ctx *l = ctx;
    const char *id;
    size_t n;
    time_t t;

    if (!e->is_prefix || strlen(e->key) <= l->skip)
        return 0;
    id = e->key + l->skip;
    n = strlen(id);
    if (n > 0 && id[n - 1] == '/')
        n--;
    /* Only well-formed ids count; anything else in the directory is not ours. */
    if (n != BACKUP_ID_LEN || backup_rp_id_parse(id, n, &t) != 0)
        return 0;
    if (l->n == BACKUP_RESTORE_MAX_IDS)
        return CM_ETOOBIG;
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 64;
        char(*nids)[BACKUP_ID_LEN + 1] = cm_realloc(l->ids, ncap * sizeof(*nids));

        if (nids == NULL)
            return CM_ENOMEM;
        l->ids = nids;
        l->cap = ncap;
    }
    memcpy(l->ids[l->n], id, n);
    l->ids[l->n][n] = '\0';
    l->n++;
    return 0;
}

static int id_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

int backup_restore_list_ids(struct s3_client *s3, const char *prefix, const char *ns,
                            char (**ids)[BACKUP_ID_LEN + 1], size_t *n, struct cm_err *err)
{
    char dir[BACKUP_KEY_MAX];
    struct list_ctx l;
    struct s3_list_opts o;
    int len;
    int rc;

    if (ns == NULL || !backup_ns_valid(ns, strlen(ns)))
        return cm_err_set(err, CM_EINVAL, "restore points: bad namespace \"%.64s\"",
                          ns != NULL ? ns : "");
    len = snprintf(dir, sizeof(dir), "%s%s%s/", prefix != NULL ? prefix : "",
                   prefix != NULL && prefix[0] != '\0' ? "/" : "", ns);
    if (len < 0 || (size_t)len >= sizeof(dir))
        return cm_err_set(err, CM_ETOOBIG, "restore points: prefix too long");
    memset(&l, 0, sizeof(l));
    l.skip = (size_t)len;
    memset(&o, 0, sizeof(o));
    o.prefix = dir;
    o.delimiter = "/";
    rc = s3_client_list_objects(s3, &o, list_cb, &l, NULL, err);
    if (rc == CM_ETOOBIG || rc == CM_ENOMEM)
        cm_err_set(err, rc, "restore points of %s: %s", ns,
                   rc == CM_ETOOBIG ? "too many" : "out of memory");
    if (rc != 0) {
        cm_free(l.ids);
        return rc;
    }
    if (l.n > 1)
        qsort(l.ids, l.n, sizeof(*l.ids), id_cmp);
    *ids = l.ids;
    *n = l.n;
    return 0;
}

/* ---- reading and verifying ---- */

struct path_ix {
    const char *path;
    size_t i;
};

static int path_cmp(const void *a, const void *b)
{
    return strcmp(((const struct path_ix *)a)->path, ((const struct path_ix *)b)->path);
}

struct read_ctx {
    const struct backup_manifest *mf;
    struct path_ix *ix; /* manifest paths, sorted */
    bool *seen;
    cJSON **objects; /* NULL unless keep_objects */
    struct backup_archive_reader *reader;
    struct cm_err feed_err; /* why the reader refused the bytes */
};

static int entry_cb(void *ctx, const char *path, const void *data, size_t n, struct cm_err *err)
{
    struct read_ctx *c = ctx;
    struct path_ix key = {path, 0};
    const struct path_ix *hit;
    const struct backup_mf_resource *res;
    char hex[65];

    hit = bsearch(&key, c->ix, c->mf->n_resources, sizeof(*c->ix), path_cmp);
    if (hit == NULL)
        return cm_err_set(err, CM_EINTEGRITY, "archive entry %.200s is not in the manifest", path);
    if (c->seen[hit->i])
        return cm_err_set(err, CM_EINTEGRITY, "archive entry %.200s appears twice", path);
    c->seen[hit->i] = true;
    res = &c->mf->resources[hit->i];
    backup_sha256_hex(data, n, hex);
    if (n != res->size || strcmp(hex, res->sha256) != 0)
        return cm_err_set(err, CM_EINTEGRITY,
                          "%s %s%s%s: checksum mismatch (archive entry %.120s: %zu bytes sha256 "
                          "%.16s..., manifest: %llu bytes %.16s...)",
                          res->kind, res->namespace_, res->namespace_[0] ? "/" : "", res->name,
                          path, n, hex, (unsigned long long)res->size, res->sha256);
    if (c->objects != NULL) {
        int rc = kube_json_parse(data, n, &c->objects[hit->i], err);

        if (rc != 0) {
            cm_err_prefix(err, "archive entry %.200s", path);
            return rc == CM_ENOMEM ? rc : CM_EINTEGRITY;
        }
    }
    return 0;
}

static int archive_write(const void *p, size_t n, void *ctx)
{
    struct read_ctx *c = ctx;

    return backup_archive_reader_feed(c->reader, p, n, &c->feed_err);
}

static enum policy_lock_mode lock_of(enum s3_lock_mode m)
{
    return m == S3_LOCK_COMPLIANCE   ? POLICY_LOCK_COMPLIANCE
           : m == S3_LOCK_GOVERNANCE ? POLICY_LOCK_GOVERNANCE
                                     : POLICY_LOCK_NONE;
}

/* The weaker of the two lock states: a restore point is only as immutable as its
 * least protected object. */
static void merge_lock(struct backup_restore_point *p, const struct s3_object_info *a,
                       const struct s3_object_info *b)
{
    enum policy_lock_mode ma = lock_of(a->lock_mode);
    enum policy_lock_mode mb = lock_of(b->lock_mode);

    p->lock_mode = ma < mb ? ma : mb;
    if (p->lock_mode == POLICY_LOCK_NONE)
        p->retain_until = 0;
    else
        p->retain_until = a->retain_until < b->retain_until ? a->retain_until : b->retain_until;
    p->legal_hold = a->legal_hold && b->legal_hold;
}

void backup_restore_point_destroy(struct backup_restore_point *p)
{
    size_t i;

    if (p == NULL)
        return;
    for (i = 0; i < p->n_objects; i++)
        cJSON_Delete(p->objects[i]);
    cm_free(p->objects);
    backup_manifest_destroy(p->mf);
    cm_free(p);
}

static int verify_archive(struct s3_client *s3, const char *akey, struct read_ctx *c,
                          const struct backup_key *key, struct s3_object_info *info,
                          struct cm_err *err)
{
    const struct backup_manifest *mf = c->mf;
    size_t i;
    int rc;

    rc = backup_archive_reader_create(key, entry_cb, c, &c->reader, err);
    if (rc != 0)
        return rc;
    cm_err_clear(&c->feed_err);
    rc = s3_client_get_object(s3, akey, NULL, NULL, archive_write, c, info, err);
    if (rc != 0 && c->feed_err.code != 0) {
        /* The reader refused the bytes (bad gzip/tar/frame, digest mismatch). */
        rc = rc == CM_ENOMEM ? rc : CM_EINTEGRITY;
        return cm_err_set(err, rc, "archive %s: %s", akey, c->feed_err.msg);
    }
    if (rc == CM_ENOENT)
        return cm_err_set(err, CM_EINTEGRITY, "archive %s is missing", akey);
    if (rc != 0)
        return rc;
    rc = backup_archive_reader_finish(c->reader, err);
    if (rc != 0) {
        cm_err_prefix(err, "archive %s", akey);
        return rc == CM_ENOMEM ? rc : CM_EINTEGRITY;
    }
    if (backup_archive_reader_bytes(c->reader) != mf->archive_size ||
        strcmp(backup_archive_reader_sha256(c->reader), mf->archive_sha256) != 0)
        return cm_err_set(err, CM_EINTEGRITY,
                          "archive %s: %llu bytes sha256 %.16s..., the manifest says %llu "
                          "bytes %.16s...",
                          akey, (unsigned long long)backup_archive_reader_bytes(c->reader),
                          backup_archive_reader_sha256(c->reader),
                          (unsigned long long)mf->archive_size, mf->archive_sha256);
    for (i = 0; i < mf->n_resources; i++) {
        if (!c->seen[i])
            return cm_err_set(err, CM_EINTEGRITY, "%s %s%s%s: missing from the archive",
                              mf->resources[i].kind, mf->resources[i].namespace_,
                              mf->resources[i].namespace_[0] ? "/" : "", mf->resources[i].name);
    }
    return 0;
}

int backup_restore_point_read(struct s3_client *s3, const char *prefix, const char *ns,
                              const char *id, const struct backup_key *key, bool keep_objects,
                              struct backup_restore_point **out, struct cm_err *err)
{
    struct backup_restore_point *p = NULL;
    struct read_ctx c;
    struct s3_object_info minfo;
    struct s3_object_info ainfo;
    char mkey[BACKUP_KEY_MAX];
    char akey[BACKUP_KEY_MAX];
    char *buf = NULL;
    size_t len = 0;
    size_t i;
    int rc;

    memset(&c, 0, sizeof(c));
    rc = backup_rp_key(prefix, ns, id, BACKUP_MANIFEST_NAME, mkey, sizeof(mkey), err);
    if (rc != 0)
        return rc;
    p = cm_calloc(1, sizeof(*p));
    if (p == NULL)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    rc = s3_client_get_object_mem(s3, mkey, NULL, BACKUP_MANIFEST_MAX, &buf, &len, &minfo, err);
    if (rc == CM_ENOENT) {
        rc = cm_err_set(err, CM_ENOENT, "restore point %s/%s is incomplete: no %s", ns, id,
                        BACKUP_MANIFEST_NAME);
        goto cleanup;
    }
    if (rc != 0)
        goto cleanup;
    rc = backup_manifest_parse(buf, len, &p->mf, err);
    if (rc != 0) {
        cm_err_prefix(err, "%s", mkey);
        if (rc == CM_EPARSE)
            rc = CM_EINTEGRITY;
        goto cleanup;
    }
    if (strcmp(p->mf->id, id) != 0 || strcmp(p->mf->namespace_, ns) != 0) {
        rc = cm_err_set(err, CM_EINTEGRITY, "%s: names restore point %s/%s", mkey,
                        p->mf->namespace_, p->mf->id);
        goto cleanup;
    }
    if (p->mf->key_id[0] != '\0' && key == NULL) {
        rc = cm_err_set(err, CM_EINVAL, "restore point %s/%s is encrypted (key %s): give its key",
                        ns, id, p->mf->key_id);
        goto cleanup;
    }
    if (p->mf->key_id[0] != '\0' && strcmp(p->mf->key_id, key->id) != 0) {
        rc = cm_err_set(err, CM_EINVAL, "restore point %s/%s is encrypted with key %s, not %s", ns,
                        id, p->mf->key_id, key->id);
        goto cleanup;
    }
    rc = backup_rp_key(prefix, ns, id, p->mf->archive_key, akey, sizeof(akey), err);
    if (rc != 0)
        goto cleanup;
    c.mf = p->mf;
    if (p->mf->n_resources > 0) {
        c.ix = cm_calloc(p->mf->n_resources, sizeof(*c.ix));
        c.seen = cm_calloc(p->mf->n_resources, sizeof(*c.seen));
        if (keep_objects)
            c.objects = cm_calloc(p->mf->n_resources, sizeof(*c.objects));
        if (c.ix == NULL || c.seen == NULL || (keep_objects && c.objects == NULL)) {
            rc = cm_err_set(err, CM_ENOMEM, "out of memory");
            goto cleanup;
        }
        for (i = 0; i < p->mf->n_resources; i++) {
            c.ix[i].path = p->mf->resources[i].path;
            c.ix[i].i = i;
        }
        qsort(c.ix, p->mf->n_resources, sizeof(*c.ix), path_cmp);
    }
    rc = verify_archive(s3, akey, &c, p->mf->key_id[0] != '\0' ? key : NULL, &ainfo, err);
    if (rc != 0)
        goto cleanup;
    merge_lock(p, &minfo, &ainfo);
    if (keep_objects) {
        p->objects = c.objects;
        p->n_objects = p->mf->n_resources;
        c.objects = NULL;
    }
    *out = p;
    p = NULL;
cleanup:
    if (c.objects != NULL) {
        for (i = 0; i < c.mf->n_resources; i++)
            cJSON_Delete(c.objects[i]);
        cm_free(c.objects);
    }
    backup_archive_reader_destroy(c.reader);
    cm_free(c.ix);
    cm_free(c.seen);
    cm_free(buf);
    backup_restore_point_destroy(p);
    return rc;
}
