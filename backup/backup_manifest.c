/* SPDX-License-Identifier: Apache-2.0 */
/* backup_manifest.c - manifest.json: building a manifest and writing it
 * (docs/restore-point-format.md); the reader is backup_manifest_read.c. */
#include "backup/backup_int.h"

#include <stdio.h>
#include <string.h>

static void resource_free(struct backup_mf_resource *r)
{
    size_t i;

    cm_free(r->api_version);
    cm_free(r->kind);
    cm_free(r->resource);
    cm_free(r->namespace_);
    cm_free(r->name);
    cm_free(r->path);
    for (i = 0; i < r->n_stripped; i++)
        cm_free(r->stripped[i]);
    cm_free(r->stripped);
    memset(r, 0, sizeof(*r));
}

static void snapshot_free(struct backup_mf_snapshot *s)
{
    cm_free(s->pvc);
    cm_free(s->volume_snapshot);
    cm_free(s->volume_snapshot_class);
    cm_free(s->volume_snapshot_content);
    cm_free(s->restore_size);
    cm_free(s->storage_class);
    cm_free(s->volume_name);
    memset(s, 0, sizeof(*s));
}

void backup_manifest_destroy(struct backup_manifest *m)
{
    size_t i;

    if (m == NULL)
        return;
    for (i = 0; i < m->n_resources; i++)
        resource_free(&m->resources[i]);
    for (i = 0; i < m->n_snapshots; i++)
        snapshot_free(&m->snapshots[i]);
    for (i = 0; i < m->n_skipped; i++)
        cm_free(m->skipped[i]);
    cm_free(m->skipped);
    cm_free(m->resources);
    cm_free(m->snapshots);
    cm_free(m->namespace_);
    cm_free(m->policy);
    cm_free(m->tool_name);
    cm_free(m->tool_version);
    cm_free(m->archive_key);
    cm_free(m);
}

int backup_manifest_set_str(char **field, const char *value)
{
    char *d;

    if (field == NULL || value == NULL)
        return CM_EINVAL;
    d = cm_strdup(value);
    if (d == NULL)
        return CM_ENOMEM;
    cm_free(*field);
    *field = d;
    return 0;
}

int backup_manifest_create(const char *id, const char *ns, const char *policy,
                           struct backup_manifest **out)
{
    struct backup_manifest *m = NULL;

    if (id == NULL || ns == NULL || policy == NULL || out == NULL ||
        backup_rp_id_parse(id, strlen(id), NULL) != 0 || !backup_ns_valid(ns, strlen(ns)))
        return CM_EINVAL;
    m = cm_calloc(1, sizeof(*m));
    if (m == NULL)
        return CM_ENOMEM;
    memcpy(m->id, id, BACKUP_ID_LEN + 1);
    if (backup_rp_id_parse(id, strlen(id), &m->created_at) != 0)
        m->created_at = 0;
    memcpy(m->lock_mode, "NONE", 5);
    if (backup_manifest_set_str(&m->namespace_, ns) != 0 ||
        backup_manifest_set_str(&m->policy, policy) != 0 ||
        backup_manifest_set_str(&m->tool_name, "lockwarden") != 0 ||
        backup_manifest_set_str(&m->tool_version, "") != 0 ||
        backup_manifest_set_str(&m->archive_key, BACKUP_ARCHIVE_NAME) != 0) {
        backup_manifest_destroy(m);
        return CM_ENOMEM;
    }
    *out = m;
    return 0;
}

static bool str_ok(const char *s)
{
    return s != NULL && strlen(s) <= BACKUP_MAX_STRING;
}

bool bk_hex_ok(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    }
    return s[n] == '\0';
}

static bool hex64_ok(const char *s)
{
    return bk_hex_ok(s, 64);
}

bool bk_path_ok_n(const char *p, size_t n)
{
    size_t i;
    size_t seg = 0;

    if (n == 0 || n > 255 || p[0] == '/')
        return false;
    for (i = 0; i <= n; i++) {
        if (i == n || p[i] == '/') {
            size_t l = i - seg;

            if (l == 0 || (l == 1 && p[seg] == '.') ||
                (l == 2 && p[seg] == '.' && p[seg + 1] == '.'))
                return false;
            seg = i + 1;
        } else if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e || p[i] == '\\') {
            return false;
        }
    }
    return true;
}

bool bk_path_ok(const char *p)
{
    return p != NULL && bk_path_ok_n(p, strlen(p));
}

static int grow(void **arr, size_t *cap, size_t n, size_t elem, size_t max)
{
    void *p;
    size_t nc;

    if (n < *cap)
        return 0;
    if (n >= max)
        return CM_ETOOBIG;
    nc = *cap ? *cap * 2 : 16;
    if (nc > max)
        nc = max;
    p = cm_realloc(*arr, nc * elem);
    if (p == NULL)
        return CM_ENOMEM;
    *arr = p;
    *cap = nc;
    return 0;
}

int backup_manifest_add_resource(struct backup_manifest *m, const struct backup_mf_resource *r)
{
    struct backup_mf_resource c;
    size_t i;
    int rc;

    if (m == NULL || r == NULL || !str_ok(r->api_version) || !str_ok(r->kind) ||
        !str_ok(r->resource) || !str_ok(r->namespace_) || !str_ok(r->name) ||
        !bk_path_ok(r->path) || !hex64_ok(r->sha256) || r->n_stripped > BK_MF_MAX_STRIPPED)
        return CM_EINVAL;
    rc = grow((void **)&m->resources, &m->resources_cap_, m->n_resources, sizeof(*m->resources),
              BACKUP_MAX_RESOURCES);
    if (rc != 0)
        return rc;
    memset(&c, 0, sizeof(c));
    c.size = r->size;
    memcpy(c.sha256, r->sha256, 65);
    c.api_version = cm_strdup(r->api_version);
    c.kind = cm_strdup(r->kind);
    c.resource = cm_strdup(r->resource);
    c.namespace_ = cm_strdup(r->namespace_);
    c.name = cm_strdup(r->name);
    c.path = cm_strdup(r->path);
    if (r->n_stripped > 0)
        c.stripped = cm_calloc(r->n_stripped, sizeof(char *));
    if (c.api_version == NULL || c.kind == NULL || c.resource == NULL || c.namespace_ == NULL ||
        c.name == NULL || c.path == NULL || (r->n_stripped > 0 && c.stripped == NULL))
        goto oom;
    for (i = 0; i < r->n_stripped; i++) {
        if (!str_ok(r->stripped[i])) {
            resource_free(&c);
            return CM_EINVAL;
        }
        c.stripped[i] = cm_strdup(r->stripped[i]);
        if (c.stripped[i] == NULL)
            goto oom;
        c.n_stripped = i + 1;
    }
    m->resources[m->n_resources++] = c;
    return 0;
oom:
    c.n_stripped = c.stripped ? r->n_stripped : 0;
    resource_free(&c);
    return CM_ENOMEM;
}

int backup_manifest_add_snapshot(struct backup_manifest *m, const struct backup_mf_snapshot *s)
{
    struct backup_mf_snapshot c;
    int rc;

    if (m == NULL || s == NULL || !str_ok(s->pvc) || !str_ok(s->volume_snapshot) ||
        !str_ok(s->volume_snapshot_class) || !str_ok(s->volume_snapshot_content) ||
        !str_ok(s->restore_size) || !str_ok(s->storage_class) || !str_ok(s->volume_name))
        return CM_EINVAL;
    rc = grow((void **)&m->snapshots, &m->snapshots_cap_, m->n_snapshots, sizeof(*m->snapshots),
              BACKUP_MAX_SNAPSHOTS);
    if (rc != 0)
        return rc;
    memset(&c, 0, sizeof(c));
    c.pvc = cm_strdup(s->pvc);
    c.volume_snapshot = cm_strdup(s->volume_snapshot);
    c.volume_snapshot_class = cm_strdup(s->volume_snapshot_class);
    c.volume_snapshot_content = cm_strdup(s->volume_snapshot_content);
    c.restore_size = cm_strdup(s->restore_size);
    c.storage_class = cm_strdup(s->storage_class);
    c.volume_name = cm_strdup(s->volume_name);
    if (c.pvc == NULL || c.volume_snapshot == NULL || c.volume_snapshot_class == NULL ||
        c.volume_snapshot_content == NULL || c.restore_size == NULL || c.storage_class == NULL ||
        c.volume_name == NULL) {
        snapshot_free(&c);
        return CM_ENOMEM;
    }
    m->snapshots[m->n_snapshots++] = c;
    return 0;
}

int backup_manifest_add_skipped(struct backup_manifest *m, const char *type)
{
    char *d;
    void *p;

    if (m == NULL || type == NULL || type[0] == '\0' || !str_ok(type))
        return CM_EINVAL;
    if (m->n_skipped >= BACKUP_MAX_SKIPPED)
        return CM_ETOOBIG;
    d = cm_strdup(type);
    p = cm_realloc(m->skipped, (m->n_skipped + 1) * sizeof(*m->skipped));
    if (d == NULL || p == NULL) {
        cm_free(d);
        if (p != NULL)
            m->skipped = p;
        return CM_ENOMEM;
    }
    m->skipped = p;
    m->skipped[m->n_skipped++] = d;
    return 0;
}

const struct backup_mf_resource *backup_manifest_find(const struct backup_manifest *m,
                                                      const char *path)
{
    size_t i;

    if (m == NULL || path == NULL)
        return NULL;
    for (i = 0; i < m->n_resources; i++) {
        if (strcmp(m->resources[i].path, path) == 0)
            return &m->resources[i];
    }
    return NULL;
}

/* ---- writer ---- */

static int add_kv(struct cm_buf *b, const char *k, const char *v, bool comma)
{
    int rc = cm_buf_add_json_str(b, k, strlen(k));

    if (rc == 0)
        rc = cm_buf_addc(b, ':');
    if (rc == 0)
        rc = cm_buf_add_json_str(b, v, strlen(v));
    if (rc == 0 && comma)
        rc = cm_buf_addc(b, ',');
    return rc;
}

static int format_resource(const struct backup_mf_resource *r, struct cm_buf *b)
{
    size_t i;
    int rc = cm_buf_addc(b, '{');

    if (rc == 0)
        rc = add_kv(b, "apiVersion", r->api_version, true);
    if (rc == 0)
        rc = add_kv(b, "kind", r->kind, true);
    if (rc == 0)
        rc = add_kv(b, "resource", r->resource, true);
    if (rc == 0)
        rc = add_kv(b, "namespace", r->namespace_, true);
    if (rc == 0)
        rc = add_kv(b, "name", r->name, true);
    if (rc == 0)
        rc = add_kv(b, "path", r->path, true);
    if (rc == 0)
        rc = cm_buf_addf(b, "\"size\":%llu,", (unsigned long long)r->size);
    if (rc == 0)
        rc = add_kv(b, "sha256", r->sha256, true);
    if (rc == 0)
        rc = cm_buf_adds(b, "\"stripped\":[");
    for (i = 0; rc == 0 && i < r->n_stripped; i++) {
        if (i > 0)
            rc = cm_buf_addc(b, ',');
        if (rc == 0)
            rc = cm_buf_add_json_str(b, r->stripped[i], strlen(r->stripped[i]));
    }
    if (rc == 0)
        rc = cm_buf_adds(b, "]}");
    return rc;
}

static int format_snapshot(const struct backup_mf_snapshot *s, struct cm_buf *b)
{
    int rc = cm_buf_addc(b, '{');

    if (rc == 0)
        rc = add_kv(b, "pvc", s->pvc, true);
    if (rc == 0)
        rc = add_kv(b, "volumeSnapshot", s->volume_snapshot, true);
    if (rc == 0)
        rc = add_kv(b, "volumeSnapshotClass", s->volume_snapshot_class, true);
    if (rc == 0)
        rc = add_kv(b, "volumeSnapshotContent", s->volume_snapshot_content, true);
    if (rc == 0)
        rc = add_kv(b, "restoreSize", s->restore_size, true);
    if (rc == 0)
        rc = add_kv(b, "storageClass", s->storage_class, true);
    if (rc == 0)
        rc = add_kv(b, "volumeName", s->volume_name, false);
    if (rc == 0)
        rc = cm_buf_addc(b, '}');
    return rc;
}

int backup_manifest_format(const struct backup_manifest *m, struct cm_buf *b)
{
    char created[32], completed[32], until[32];
    size_t i;
    int rc, kind;
    bool locked;

    if (m == NULL || b == NULL || m->namespace_ == NULL || !hex64_ok(m->archive_sha256))
        return CM_EINVAL;
    kind = backup_archive_kind_find(m->archive_key);
    if (kind < 0)
        return CM_EINVAL;
    locked = strcmp(m->lock_mode, "NONE") != 0;
    cm_time_format(m->created_at, created, sizeof(created));
    cm_time_format(m->completed_at, completed, sizeof(completed));
    cm_time_format(m->retain_until, until, sizeof(until));
    rc = cm_buf_addc(b, '{');
    if (rc == 0)
        rc = add_kv(b, "format", BACKUP_FORMAT, true);
    if (rc == 0)
        rc = add_kv(b, "id", m->id, true);
    if (rc == 0)
        rc = add_kv(b, "namespace", m->namespace_, true);
    if (rc == 0)
        rc = add_kv(b, "policy", m->policy, true);
    if (rc == 0)
        rc = add_kv(b, "createdAt", created, true);
    if (rc == 0)
        rc = add_kv(b, "completedAt", completed, true);
    if (rc == 0)
        rc = cm_buf_adds(b, "\"tool\":{");
    if (rc == 0)
        rc = add_kv(b, "name", m->tool_name, true);
    if (rc == 0)
        rc = add_kv(b, "version", m->tool_version, false);
    if (rc == 0)
        rc = cm_buf_adds(b, "},\"objectLock\":{");
    if (rc == 0)
        rc = add_kv(b, "mode", m->lock_mode, locked);
    if (rc == 0 && locked)
        rc = add_kv(b, "retainUntil", until, false);
    if (rc == 0)
        rc = cm_buf_adds(b, "},\"archive\":{");
    if (rc == 0)
        rc = add_kv(b, "key", m->archive_key, true);
    if (rc == 0)
        rc = add_kv(b, "format", backup_archive_kinds[kind].format, true);
    if (rc == 0)
        rc = cm_buf_addf(b, "\"size\":%llu,", (unsigned long long)m->archive_size);
    if (rc == 0)
        rc = add_kv(b, "sha256", m->archive_sha256, true);
    if (rc == 0)
        rc = add_kv(b, "versionId", m->archive_version, true);
    if (rc == 0 && m->key_id[0] == '\0')
        rc = cm_buf_adds(b, "\"encryption\":null},");
    else if (rc == 0) {
        rc = cm_buf_adds(b, "\"encryption\":{\"algorithm\":\"AES-256-GCM\",");
        if (rc == 0)
            rc = add_kv(b, "keyId", m->key_id, true);
        if (rc == 0)
            rc = cm_buf_addf(b, "\"frame\":%u}},", (unsigned)BACKUP_ENC_FRAME);
    }
    if (rc == 0)
        rc = cm_buf_adds(b, "\"resources\":[");
    for (i = 0; rc == 0 && i < m->n_resources; i++) {
        if (i > 0)
            rc = cm_buf_addc(b, ',');
        if (rc == 0)
            rc = format_resource(&m->resources[i], b);
    }
    if (rc == 0)
        rc = cm_buf_adds(b, "],\"snapshots\":[");
    for (i = 0; rc == 0 && i < m->n_snapshots; i++) {
        if (i > 0)
            rc = cm_buf_addc(b, ',');
        if (rc == 0)
            rc = format_snapshot(&m->snapshots[i], b);
    }
    if (rc == 0)
        rc = cm_buf_adds(b, "],\"skipped\":[");
    for (i = 0; rc == 0 && i < m->n_skipped; i++) {
        if (i > 0)
            rc = cm_buf_addc(b, ',');
        if (rc == 0)
            rc = cm_buf_add_json_str(b, m->skipped[i], strlen(m->skipped[i]));
    }
    if (rc == 0)
        rc = cm_buf_adds(b, "]}\n");
    return rc;
}
