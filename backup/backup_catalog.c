/* SPDX-License-Identifier: Apache-2.0 */
/* backup_catalog.c - the bucket as the source of truth: restore points listed from
 * ListObjectVersions, grouped by <prefix>/<namespace>/<id>/, with manifest details. */
#include "backup/backup.h"
#include "backup/s3/s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct backup_catalog {
    struct backup_rp_info *pts;
    size_t n;
    size_t cap;
};

struct list_ctx {
    struct backup_catalog *c;
    const char *prefix; /* with the trailing '/' or "" */
    size_t prefix_len;
    struct cm_err *err;
    size_t skipped;
};

static void info_free(struct backup_rp_info *p)
{
    size_t i;

    for (i = 0; i < p->n_objects; i++) {
        cm_free(p->objects[i].key);
        cm_free(p->objects[i].version_id);
    }
    cm_free(p->objects);
}

void backup_catalog_destroy(struct backup_catalog *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < c->n; i++)
        info_free(&c->pts[i]);
    cm_free(c->pts);
    cm_free(c);
}

static int add_object(struct backup_rp_info *p, const struct s3_list_entry *e)
{
    struct backup_rp_object *o;
    void *np;

    if ((p->n_objects & (p->n_objects - 1)) == 0) { /* 0, 1, 2, 4, ...: grow */
        size_t nc = p->n_objects ? p->n_objects * 2 : 4;

        if (nc > 100000)
            return CM_ETOOBIG;
        np = cm_realloc(p->objects, nc * sizeof(*p->objects));
        if (np == NULL)
            return CM_ENOMEM;
        p->objects = np;
    }
    o = &p->objects[p->n_objects];
    memset(o, 0, sizeof(*o));
    o->key = cm_strdup(e->key);
    o->version_id = cm_strdup(e->version_id ? e->version_id : "");
    if (o->key == NULL || o->version_id == NULL) {
        cm_free(o->key);
        cm_free(o->version_id);
        return CM_ENOMEM;
    }
    o->size = e->size;
    o->is_delete_marker = e->is_delete_marker;
    p->n_objects++;
    if (!e->is_delete_marker)
        p->bytes += e->size;
    return 0;
}

static int on_entry(const struct s3_list_entry *e, void *ctx)
{
    struct list_ctx *l = ctx;
    struct backup_catalog *c = l->c;
    struct backup_rp_info *p;
    const char *rest;
    const char *slash1;
    const char *slash2;
    size_t nsl;
    time_t t;
    int rc;

    if (e->is_prefix || strncmp(e->key, l->prefix, l->prefix_len) != 0)
        return 0;
    rest = e->key + l->prefix_len;
    slash1 = strchr(rest, '/');
    if (slash1 == NULL)
        goto foreign;
    slash2 = strchr(slash1 + 1, '/');
    nsl = (size_t)(slash1 - rest);
    if (slash2 == NULL || !backup_ns_valid(rest, nsl) || slash2[1] == '\0' ||
        backup_rp_id_parse(slash1 + 1, (size_t)(slash2 - slash1 - 1), &t) != 0)
        goto foreign;
    p = c->n > 0 ? &c->pts[c->n - 1] : NULL;
    if (p == NULL || strncmp(p->namespace_, rest, nsl) != 0 || p->namespace_[nsl] != '\0' ||
        memcmp(p->id, slash1 + 1, BACKUP_ID_LEN) != 0) {
        if (c->n >= BACKUP_CATALOG_MAX)
            return cm_err_set(l->err, CM_ETOOBIG, "bucket holds more than %d restore points",
                              BACKUP_CATALOG_MAX);
        if (c->n == c->cap) {
            size_t nc = c->cap ? c->cap * 2 : 16;
            void *np = cm_realloc(c->pts, nc * sizeof(*c->pts));

            if (np == NULL)
                return cm_err_set(l->err, CM_ENOMEM, "catalog: out of memory");
            c->pts = np;
            c->cap = nc;
        }
        p = &c->pts[c->n++];
        memset(p, 0, sizeof(*p));
        memcpy(p->namespace_, rest, nsl);
        memcpy(p->id, slash1 + 1, BACKUP_ID_LEN);
        p->created = t;
    }
    if (strcmp(slash2 + 1, BACKUP_MANIFEST_NAME) == 0 && !e->is_delete_marker)
        p->complete = true;
    rc = add_object(p, e);
    if (rc != 0)
        return cm_err_set(l->err, rc, "catalog: %s", cm_strerror(rc));
    return 0;
foreign:
    l->skipped++;
    return 0;
}

static int cmp_info(const void *a, const void *b)
{
    const struct backup_rp_info *x = a;
    const struct backup_rp_info *y = b;
    int r = strcmp(x->namespace_, y->namespace_);

    return r != 0 ? r : strcmp(x->id, y->id);
}

/* The oldest non-marker version of the manifest (listing order: newest first). The
 * manifest is written once; a later version is someone else's and is not trusted. */
static const char *manifest_version(const struct backup_rp_info *p)
{
    const char *v = NULL;
    size_t i;
    size_t n = strlen(BACKUP_MANIFEST_NAME);

    for (i = 0; i < p->n_objects; i++) {
        const struct backup_rp_object *o = &p->objects[i];
        size_t kl = strlen(o->key);

        if (!o->is_delete_marker && kl > n && strcmp(o->key + kl - n, BACKUP_MANIFEST_NAME) == 0 &&
            o->key[kl - n - 1] == '/')
            v = o->version_id;
    }
    return v;
}

static int load_details(struct s3_client *s3, const char *prefix, struct backup_rp_info *p)
{
    char key[BACKUP_KEY_MAX + 1];
    char *buf = NULL;
    size_t len = 0;
    struct backup_manifest *m = NULL;
    struct cm_err e;
    const char *ver = manifest_version(p);
    int rc;

    p->has_details = true;
    rc = backup_rp_key(prefix, p->namespace_, p->id, BACKUP_MANIFEST_NAME, key, sizeof(key), &e);
    if (rc == 0)
        rc = s3_client_get_object_mem(s3, key, ver != NULL && ver[0] ? ver : NULL,
                                      BACKUP_MANIFEST_MAX, &buf, &len, NULL, &e);
    if (rc == CM_ENOMEM)
        return rc;
    if (rc == 0)
        rc = backup_manifest_parse(buf, len, &m, &e);
    cm_free(buf);
    if (rc == CM_ENOMEM) {
        return rc;
    } else if (rc != 0) {
        (void)snprintf(p->problem, sizeof(p->problem), "%s", e.msg);
        return 0;
    }
    if (strcmp(m->id, p->id) != 0 || strcmp(m->namespace_, p->namespace_) != 0) {
        (void)snprintf(p->problem, sizeof(p->problem),
                       "manifest names %s/%s, not the key's restore point", m->namespace_, m->id);
    } else {
        (void)snprintf(p->policy, sizeof(p->policy), "%s", m->policy);
        memcpy(p->lock_mode, m->lock_mode, sizeof(p->lock_mode));
        p->retain_until = m->retain_until;
        p->n_resources = m->n_resources;
        p->n_snapshots = m->n_snapshots;
        p->n_skipped = m->n_skipped;
        memcpy(p->key_id, m->key_id, sizeof(p->key_id));
    }
    backup_manifest_destroy(m);
    return 0;
}

int backup_catalog_list(struct s3_client *s3, const char *prefix, const char *ns, bool details,
                        struct backup_catalog **out, struct cm_err *err)
{
    struct backup_catalog *c = NULL;
    struct s3_list_opts lo;
    struct list_ctx l;
    char pfx[BACKUP_KEY_MAX + 1];
    char lpfx[BACKUP_KEY_MAX + 80];
    bool hp = prefix != NULL && prefix[0] != '\0';
    size_t i;
    int rc;

    if (s3 == NULL || out == NULL)
        return cm_err_set(err, CM_EINVAL, "catalog: no S3 client");
    if (ns != NULL && !backup_ns_valid(ns, strlen(ns)))
        return cm_err_set(err, CM_EINVAL, "invalid namespace \"%s\"", ns);
    if (hp && strlen(prefix) > BACKUP_KEY_MAX / 2)
        return cm_err_set(err, CM_EINVAL, "prefix longer than %d bytes", BACKUP_KEY_MAX / 2);
    (void)snprintf(pfx, sizeof(pfx), "%s%s", hp ? prefix : "", hp ? "/" : "");
    (void)snprintf(lpfx, sizeof(lpfx), "%s%s%s", pfx, ns ? ns : "", ns ? "/" : "");
    c = cm_calloc(1, sizeof(*c));
    if (c == NULL)
        return cm_err_set(err, CM_ENOMEM, "catalog: out of memory");
    memset(&l, 0, sizeof(l));
    l.c = c;
    l.prefix = pfx;
    l.prefix_len = strlen(pfx);
    l.err = err;
    memset(&lo, 0, sizeof(lo));
    lo.prefix = lpfx[0] ? lpfx : NULL;
    rc = s3_client_list_versions(s3, &lo, on_entry, &l, NULL, err);
    if (rc != 0)
        goto fail;
    if (c->n > 1)
        qsort(c->pts, c->n, sizeof(*c->pts), cmp_info);
    for (i = 0; details && i < c->n; i++) {
        if (!c->pts[i].complete)
            continue;
        rc = load_details(s3, prefix, &c->pts[i]);
        if (rc != 0) {
            rc = cm_err_set(err, rc, "catalog: %s", cm_strerror(rc));
            goto fail;
        }
    }
    *out = c;
    return 0;
fail:
    backup_catalog_destroy(c);
    return rc;
}

size_t backup_catalog_count(const struct backup_catalog *c)
{
    return c != NULL ? c->n : 0;
}

const struct backup_rp_info *backup_catalog_get(const struct backup_catalog *c, size_t i)
{
    return c != NULL && i < c->n ? &c->pts[i] : NULL;
}

const struct backup_rp_info *backup_catalog_find(const struct backup_catalog *c, const char *ns,
                                                 const char *id)
{
    size_t i;

    for (i = 0; c != NULL && ns != NULL && id != NULL && i < c->n; i++) {
        if (strcmp(c->pts[i].namespace_, ns) == 0 && strcmp(c->pts[i].id, id) == 0)
            return &c->pts[i];
    }
    return NULL;
}

static int kv(struct cm_buf *b, const char *k, const char *v)
{
    int rc = cm_buf_addf(b, "\"%s\":", k);

    return rc != 0 ? rc : cm_buf_add_json_str(b, v, strlen(v));
}

int backup_catalog_format_json(const struct backup_catalog *c, struct cm_buf *b)
{
    size_t i;
    int rc = cm_buf_addc(b, '[');

    for (i = 0; rc == 0 && c != NULL && i < c->n; i++) {
        const struct backup_rp_info *p = &c->pts[i];
        char created[32], until[32];

        cm_time_format(p->created, created, sizeof(created));
        cm_time_format(p->retain_until, until, sizeof(until));
        rc = cm_buf_adds(b, i ? ",{" : "{");
        if (rc == 0)
            rc = kv(b, "namespace", p->namespace_);
        if (rc == 0)
            rc = cm_buf_addc(b, ',');
        if (rc == 0)
            rc = kv(b, "id", p->id);
        if (rc == 0)
            rc = cm_buf_addc(b, ',');
        if (rc == 0)
            rc = kv(b, "createdAt", created);
        if (rc == 0)
            rc = cm_buf_addf(b, ",\"status\":\"%s\",\"bytes\":%llu,\"objects\":%zu",
                             !p->complete    ? "partial"
                             : p->problem[0] ? "invalid"
                                             : "complete",
                             (unsigned long long)p->bytes, p->n_objects);
        if (rc == 0 && p->has_details && p->problem[0] == '\0') {
            rc = cm_buf_addc(b, ',');
            if (rc == 0)
                rc = kv(b, "policy", p->policy);
            if (rc == 0)
                rc = cm_buf_addc(b, ',');
            if (rc == 0)
                rc = kv(b, "lockMode", p->lock_mode);
            if (rc == 0 && strcmp(p->lock_mode, "NONE") != 0) {
                rc = cm_buf_addc(b, ',');
                if (rc == 0)
                    rc = kv(b, "retainUntil", until);
            }
            if (rc == 0)
                rc = cm_buf_addf(b, ",\"resources\":%zu,\"snapshots\":%zu,\"skippedTypes\":%zu",
                                 p->n_resources, p->n_snapshots, p->n_skipped);
            if (rc == 0 && p->key_id[0] != '\0') {
                rc = cm_buf_addc(b, ',');
                if (rc == 0)
                    rc = kv(b, "keyId", p->key_id);
            }
        }
        if (rc == 0 && p->problem[0] != '\0') {
            rc = cm_buf_addc(b, ',');
            if (rc == 0)
                rc = kv(b, "problem", p->problem);
        }
        if (rc == 0)
            rc = cm_buf_addc(b, '}');
    }
    if (rc == 0)
        rc = cm_buf_adds(b, "]\n");
    return rc;
}
