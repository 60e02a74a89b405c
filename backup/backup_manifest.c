/* SPDX-License-Identifier: Apache-2.0 */
/* backup_manifest.c - manifest.json: building, writing and the strict reader of
 * untrusted bucket data (docs/restore-point-format.md). */
#include "backup/backup.h"

#include <stdio.h>
#include <string.h>

#define MF_MAX_STRIPPED 64

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

/* n lowercase hex digits followed by the end of the string. */
static bool hex_n_ok(const char *s, size_t n)
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
    return hex_n_ok(s, 64);
}

/* An archive path is relative, has no empty/"."/".." segment and only printable ASCII. */
static bool path_ok(const char *p)
{
    size_t n = p ? strlen(p) : 0;
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
        !path_ok(r->path) || !hex64_ok(r->sha256) || r->n_stripped > MF_MAX_STRIPPED)
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
    int rc;
    bool locked;

    if (m == NULL || b == NULL || m->namespace_ == NULL || !hex64_ok(m->archive_sha256))
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
        rc = add_kv(b, "format", "tar+gzip", true);
    if (rc == 0)
        rc = cm_buf_addf(b, "\"size\":%llu,", (unsigned long long)m->archive_size);
    if (rc == 0)
        rc = add_kv(b, "sha256", m->archive_sha256, true);
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
        rc = cm_buf_adds(b, "]}\n");
    return rc;
}

/* ---- strict reader ---- */

/* A non-allocating JSON syntax check (RFC 8259, nesting at most MF_MAX_DEPTH). cJSON
 * returns NULL both for bad syntax and for a failed allocation; running this first
 * tells the two apart, so that OOM is reported as CM_ENOMEM and never as "bad data". */
#define MF_MAX_DEPTH 32

static size_t js_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

static bool js_lit(const char *s, size_t n, size_t *i, const char *lit)
{
    size_t l = strlen(lit);

    if (n - *i < l || memcmp(s + *i, lit, l) != 0)
        return false;
    *i += l;
    return true;
}

static bool js_string(const char *s, size_t n, size_t *i)
{
    size_t j = *i + 1;

    while (j < n) {
        unsigned char c = (unsigned char)s[j];

        if (c == '"') {
            *i = j + 1;
            return true;
        }
        if (c < 0x20)
            return false;
        if (c == '\\') {
            if (j + 1 >= n)
                return false;
            c = (unsigned char)s[j + 1];
            if (c == 'u') {
                size_t k;

                if (j + 6 > n)
                    return false;
                for (k = j + 2; k < j + 6; k++) {
                    char h = s[k];

                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
                          (h >= 'A' && h <= 'F')))
                        return false;
                }
                j += 6;
                continue;
            }
            if (strchr("\"\\/bfnrt", c) == NULL || c == '\0')
                return false;
            j += 2;
            continue;
        }
        j++;
    }
    return false;
}

static bool js_number(const char *s, size_t n, size_t *i)
{
    size_t j = *i;
    size_t d;

    if (j < n && s[j] == '-')
        j++;
    if (j < n && s[j] == '0') {
        j++;
    } else {
        for (d = j; j < n && s[j] >= '0' && s[j] <= '9'; j++)
            ;
        if (j == d)
            return false;
    }
    if (j < n && s[j] == '.') {
        for (d = ++j; j < n && s[j] >= '0' && s[j] <= '9'; j++)
            ;
        if (j == d)
            return false;
    }
    if (j < n && (s[j] == 'e' || s[j] == 'E')) {
        j++;
        if (j < n && (s[j] == '+' || s[j] == '-'))
            j++;
        for (d = j; j < n && s[j] >= '0' && s[j] <= '9'; j++)
            ;
        if (j == d)
            return false;
    }
    *i = j;
    return true;
}

/* Iterative: a stack of container kinds ('{' or '['). */
static bool js_valid(const char *s, size_t n)
{
    char stack[MF_MAX_DEPTH];
    int depth = 0;
    size_t i = js_ws(s, n, 0);

    for (;;) {
        /* expect a value at i */
        if (i >= n)
            return false;
        if (s[i] == '{' || s[i] == '[') {
            if (depth == MF_MAX_DEPTH)
                return false;
            stack[depth++] = s[i++];
            i = js_ws(s, n, i);
            if (i < n && ((stack[depth - 1] == '{' && s[i] == '}') ||
                          (stack[depth - 1] == '[' && s[i] == ']'))) {
                i++;
                depth--;
                goto after_value;
            }
            if (stack[depth - 1] == '{')
                goto object_key;
            continue;
        }
        if (s[i] == '"') {
            if (!js_string(s, n, &i))
                return false;
        } else if (s[i] == 't') {
            if (!js_lit(s, n, &i, "true"))
                return false;
        } else if (s[i] == 'f') {
            if (!js_lit(s, n, &i, "false"))
                return false;
        } else if (s[i] == 'n') {
            if (!js_lit(s, n, &i, "null"))
                return false;
        } else if (!js_number(s, n, &i)) {
            return false;
        }
    after_value:
        i = js_ws(s, n, i);
        if (depth == 0)
            return i == n;
        if (i < n && s[i] == ',') {
            i = js_ws(s, n, i + 1);
            if (stack[depth - 1] == '{')
                goto object_key;
            continue;
        }
        if (i < n && ((stack[depth - 1] == '{' && s[i] == '}') ||
                      (stack[depth - 1] == '[' && s[i] == ']'))) {
            i++;
            depth--;
            goto after_value;
        }
        return false;
    object_key:
        if (i >= n || s[i] != '"' || !js_string(s, n, &i))
            return false;
        i = js_ws(s, n, i);
        if (i >= n || s[i] != ':')
            return false;
        i = js_ws(s, n, i + 1);
    }
}

/* Well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF). The
 * writer escapes malformed bytes, which would not read back as the same string. */
static bool utf8_ok(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;

    while (*s != 0) {
        unsigned c = *s;
        size_t n;
        unsigned cp;
        size_t i;

        if (c < 0x80) {
            s++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        for (i = 1; i <= n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        s += n + 1;
    }
    return true;
}

static int get_str(const cJSON *o, const char *k, bool optional, const char *where,
                   const char **out, struct cm_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    if (v == NULL || cJSON_IsNull(v)) {
        if (optional) {
            *out = "";
            return 0;
        }
        return cm_err_set(err, CM_EPARSE, "manifest: %s: missing \"%s\"", where, k);
    }
    if (!cJSON_IsString(v) || v->valuestring == NULL)
        return cm_err_set(err, CM_EPARSE, "manifest: %s: \"%s\" must be a string", where, k);
    if (strlen(v->valuestring) > BACKUP_MAX_STRING)
        return cm_err_set(err, CM_ETOOBIG, "manifest: %s: \"%s\" is longer than %d bytes", where,
                          k, BACKUP_MAX_STRING);
    if (!utf8_ok(v->valuestring))
        return cm_err_set(err, CM_EPARSE, "manifest: %s: \"%s\" is not valid UTF-8", where, k);
    *out = v->valuestring;
    return 0;
}

static int get_u53(const cJSON *o, const char *k, const char *where, uint64_t *out,
                   struct cm_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    if (!cJSON_IsNumber(v))
        return cm_err_set(err, CM_EPARSE, "manifest: %s: \"%s\" must be a number", where, k);
    if (!(v->valuedouble >= 0 && v->valuedouble < 9007199254740992.0) ||
        v->valuedouble != (double)(uint64_t)v->valuedouble)
        return cm_err_set(err, CM_EPARSE, "manifest: %s: \"%s\" must be a non-negative integer",
                          where, k);
    *out = (uint64_t)v->valuedouble;
    return 0;
}

static int get_time(const cJSON *o, const char *k, const char *where, time_t *out,
                    struct cm_err *err)
{
    const char *s;
    int rc = get_str(o, k, false, where, &s, err);

    if (rc != 0)
        return rc;
    /* 1970..9999: what the writer can format again (fuzz regression: year 0226). */
    if (cm_time_parse(s, strlen(s), out) != 0 || *out < 0 || *out > (time_t)253402300799)
        return cm_err_set(err, CM_EPARSE,
                          "manifest: %s: \"%s\" is not an RFC 3339 time in 1970..9999", where, k);
    return 0;
}

static int get_sha(const cJSON *o, const char *where, char dst[65], struct cm_err *err)
{
    const char *s;
    int rc = get_str(o, "sha256", false, where, &s, err);

    if (rc != 0)
        return rc;
    if (strlen(s) != 64 || !hex64_ok(s))
        return cm_err_set(err, CM_EPARSE, "manifest: %s: \"sha256\" must be 64 lowercase hex",
                          where);
    memcpy(dst, s, 65);
    return 0;
}

static int parse_resource(const cJSON *it, size_t idx, struct backup_manifest *m,
                          struct cm_err *err)
{
    struct backup_mf_resource r;
    const char *strs[BACKUP_STRIP_MAX * 2 + 16];
    const cJSON *st;
    const cJSON *e;
    char where[48];
    size_t n = 0;
    int rc;

    memset(&r, 0, sizeof(r));
    (void)snprintf(where, sizeof(where), "resources[%zu]", idx);
    if (!cJSON_IsObject(it))
        return cm_err_set(err, CM_EPARSE, "manifest: %s must be an object", where);
    rc = get_str(it, "apiVersion", false, where, (const char **)&r.api_version, err);
    if (rc == 0)
        rc = get_str(it, "kind", false, where, (const char **)&r.kind, err);
    if (rc == 0)
        rc = get_str(it, "resource", false, where, (const char **)&r.resource, err);
    if (rc == 0)
        rc = get_str(it, "namespace", false, where, (const char **)&r.namespace_, err);
    if (rc == 0)
        rc = get_str(it, "name", false, where, (const char **)&r.name, err);
    if (rc == 0)
        rc = get_str(it, "path", false, where, (const char **)&r.path, err);
    if (rc == 0)
        rc = get_u53(it, "size", where, &r.size, err);
    if (rc == 0)
        rc = get_sha(it, where, r.sha256, err);
    if (rc != 0)
        return rc;
    if (r.name[0] == '\0' || r.kind[0] == '\0' || r.api_version[0] == '\0')
        return cm_err_set(err, CM_EPARSE, "manifest: %s: empty name, kind or apiVersion", where);
    if (!path_ok(r.path))
        return cm_err_set(err, CM_EPARSE, "manifest: %s: unsafe path", where);
    if (r.size > BACKUP_MAX_ENTRY)
        return cm_err_set(err, CM_ETOOBIG, "manifest: %s: size over %u bytes", where,
                          (unsigned)BACKUP_MAX_ENTRY);
    if (r.namespace_[0] != '\0' && strcmp(r.namespace_, m->namespace_) != 0)
        return cm_err_set(err, CM_EPARSE, "manifest: %s: namespace \"%s\" is not the app's",
                          where, r.namespace_);
    st = cJSON_GetObjectItemCaseSensitive(it, "stripped");
    if (st != NULL && !cJSON_IsArray(st))
        return cm_err_set(err, CM_EPARSE, "manifest: %s: \"stripped\" must be an array", where);
    cJSON_ArrayForEach(e, st)
    {
        if (!cJSON_IsString(e) || strlen(e->valuestring) > BACKUP_MAX_STRING ||
            !utf8_ok(e->valuestring))
            return cm_err_set(err, CM_EPARSE, "manifest: %s: \"stripped\" holds a non-string",
                              where);
        if (n >= CM_ARRAY_LEN(strs) || n >= MF_MAX_STRIPPED)
            return cm_err_set(err, CM_ETOOBIG, "manifest: %s: too many stripped fields", where);
        strs[n++] = e->valuestring;
    }
    r.stripped = (char **)strs;
    r.n_stripped = n;
    rc = backup_manifest_add_resource(m, &r);
    if (rc == CM_ETOOBIG)
        return cm_err_set(err, rc, "manifest: more than %d resources", BACKUP_MAX_RESOURCES);
    if (rc != 0)
        return cm_err_set(err, rc, "manifest: %s: %s", where, cm_strerror(rc));
    return 0;
}

static int parse_snapshot(const cJSON *it, size_t idx, struct backup_manifest *m,
                          struct cm_err *err)
{
    struct backup_mf_snapshot s;
    char where[48];
    int rc;

    memset(&s, 0, sizeof(s));
    (void)snprintf(where, sizeof(where), "snapshots[%zu]", idx);
    if (!cJSON_IsObject(it))
        return cm_err_set(err, CM_EPARSE, "manifest: %s must be an object", where);
    rc = get_str(it, "pvc", false, where, (const char **)&s.pvc, err);
    if (rc == 0)
        rc = get_str(it, "volumeSnapshot", false, where, (const char **)&s.volume_snapshot, err);
    if (rc == 0)
        rc = get_str(it, "volumeSnapshotClass", false, where,
                     (const char **)&s.volume_snapshot_class, err);
    if (rc == 0)
        rc = get_str(it, "volumeSnapshotContent", false, where,
                     (const char **)&s.volume_snapshot_content, err);
    if (rc == 0)
        rc = get_str(it, "restoreSize", true, where, (const char **)&s.restore_size, err);
    if (rc == 0)
        rc = get_str(it, "storageClass", true, where, (const char **)&s.storage_class, err);
    if (rc == 0)
        rc = get_str(it, "volumeName", true, where, (const char **)&s.volume_name, err);
    if (rc != 0)
        return rc;
    if (s.pvc[0] == '\0' || s.volume_snapshot[0] == '\0')
        return cm_err_set(err, CM_EPARSE, "manifest: %s: empty pvc or volumeSnapshot", where);
    rc = backup_manifest_add_snapshot(m, &s);
    if (rc == CM_ETOOBIG)
        return cm_err_set(err, rc, "manifest: more than %d snapshots", BACKUP_MAX_SNAPSHOTS);
    if (rc != 0)
        return cm_err_set(err, rc, "manifest: %s: %s", where, cm_strerror(rc));
    return 0;
}

static int parse_header(const cJSON *root, struct backup_manifest *m, struct cm_err *err)
{
    const cJSON *tool = cJSON_GetObjectItemCaseSensitive(root, "tool");
    const cJSON *lock = cJSON_GetObjectItemCaseSensitive(root, "objectLock");
    const cJSON *ar = cJSON_GetObjectItemCaseSensitive(root, "archive");
    const cJSON *enc;
    const char *s;
    int rc;

    if (!cJSON_IsObject(tool) || !cJSON_IsObject(lock) || !cJSON_IsObject(ar))
        return cm_err_set(err, CM_EPARSE,
                          "manifest: \"tool\", \"objectLock\" and \"archive\" must be objects");
    rc = get_str(root, "policy", false, "manifest", &s, err);
    if (rc == 0)
        rc = backup_manifest_set_str(&m->policy, s) ? CM_ENOMEM : 0;
    if (rc == 0)
        rc = get_time(root, "createdAt", "manifest", &m->created_at, err);
    if (rc == 0)
        rc = get_time(root, "completedAt", "manifest", &m->completed_at, err);
    if (rc == 0)
        rc = get_str(tool, "name", false, "tool", &s, err);
    if (rc == 0)
        rc = backup_manifest_set_str(&m->tool_name, s) ? CM_ENOMEM : 0;
    if (rc == 0)
        rc = get_str(tool, "version", false, "tool", &s, err);
    if (rc == 0)
        rc = backup_manifest_set_str(&m->tool_version, s) ? CM_ENOMEM : 0;
    if (rc == 0)
        rc = get_str(lock, "mode", false, "objectLock", &s, err);
    if (rc != 0)
        return rc == CM_ENOMEM ? cm_err_set(err, rc, "manifest: out of memory") : rc;
    if (strcmp(s, "NONE") != 0 && strcmp(s, "GOVERNANCE") != 0 && strcmp(s, "COMPLIANCE") != 0)
        return cm_err_set(err, CM_EPARSE, "manifest: objectLock.mode \"%.32s\" is not "
                          "NONE, GOVERNANCE or COMPLIANCE", s);
    memcpy(m->lock_mode, s, strlen(s) + 1);
    if (strcmp(s, "NONE") != 0) {
        rc = get_time(lock, "retainUntil", "objectLock", &m->retain_until, err);
        if (rc != 0)
            return rc;
    }
    rc = get_str(ar, "key", false, "archive", &s, err);
    if (rc != 0)
        return rc;
    if (strcmp(s, BACKUP_ARCHIVE_NAME) != 0 && strcmp(s, BACKUP_ARCHIVE_NAME_ENC) != 0)
        return cm_err_set(err, CM_EPARSE, "manifest: archive.key \"%.64s\" is not %s or %s", s,
                          BACKUP_ARCHIVE_NAME, BACKUP_ARCHIVE_NAME_ENC);
    if (backup_manifest_set_str(&m->archive_key, s) != 0)
        return cm_err_set(err, CM_ENOMEM, "manifest: out of memory");
    rc = get_str(ar, "format", false, "archive", &s, err);
    if (rc != 0)
        return rc;
    if (strcmp(s, "tar+gzip") != 0)
        return cm_err_set(err, CM_EUNSUPPORTED, "manifest: archive.format \"%.32s\" unsupported",
                          s);
    rc = get_u53(ar, "size", "archive", &m->archive_size, err);
    if (rc == 0)
        rc = get_sha(ar, "archive", m->archive_sha256, err);
    if (rc != 0)
        return rc;
    enc = cJSON_GetObjectItemCaseSensitive(ar, "encryption");
    if (enc == NULL || cJSON_IsNull(enc)) {
        if (strcmp(m->archive_key, BACKUP_ARCHIVE_NAME) != 0)
            return cm_err_set(err, CM_EPARSE, "manifest: encrypted archive without encryption");
        return 0;
    }
    if (!cJSON_IsObject(enc))
        return cm_err_set(err, CM_EPARSE, "manifest: archive.encryption must be an object");
    rc = get_str(enc, "algorithm", false, "archive.encryption", &s, err);
    if (rc != 0)
        return rc;
    if (strcmp(s, "AES-256-GCM") != 0)
        return cm_err_set(err, CM_EUNSUPPORTED, "manifest: encryption \"%.32s\" unsupported", s);
    rc = get_str(enc, "keyId", false, "archive.encryption", &s, err);
    if (rc != 0)
        return rc;
    if (strlen(s) != 23 || strncmp(s, "sha256:", 7) != 0 || !hex_n_ok(s + 7, 16))
        return cm_err_set(err, CM_EPARSE, "manifest: keyId must be sha256:<16 hex>");
    memcpy(m->key_id, s, 24);
    if (strcmp(m->archive_key, BACKUP_ARCHIVE_NAME_ENC) != 0)
        return cm_err_set(err, CM_EPARSE, "manifest: encryption with a plain archive key");
    return 0;
}

static int check_unique_paths(const struct backup_manifest *m, struct cm_err *err)
{
    /* Hash set of path indexes: open addressing over a power-of-two table. */
    size_t cap = 16;
    size_t *tab;
    size_t i;
    int rc = 0;

    while (cap < m->n_resources * 2)
        cap *= 2;
    tab = cm_malloc(cap * sizeof(*tab));
    if (tab == NULL)
        return cm_err_set(err, CM_ENOMEM, "manifest: out of memory");
    for (i = 0; i < cap; i++)
        tab[i] = SIZE_MAX;
    for (i = 0; i < m->n_resources && rc == 0; i++) {
        const char *p = m->resources[i].path;
        uint64_t h = 1469598103934665603ull;
        size_t j;

        for (j = 0; p[j] != '\0'; j++)
            h = (h ^ (unsigned char)p[j]) * 1099511628211ull;
        for (j = (size_t)h & (cap - 1);; j = (j + 1) & (cap - 1)) {
            if (tab[j] == SIZE_MAX) {
                tab[j] = i;
                break;
            }
            if (strcmp(m->resources[tab[j]].path, p) == 0) {
                rc = cm_err_set(err, CM_EPARSE, "manifest: resources[%zu]: duplicate path", i);
                break;
            }
        }
    }
    cm_free(tab);
    return rc;
}

int backup_manifest_parse(const char *buf, size_t len, struct backup_manifest **out,
                          struct cm_err *err)
{
    cJSON *root = NULL;
    struct backup_manifest *m = NULL;
    const cJSON *it;
    const cJSON *arr;
    const char *fmt;
    const char *id;
    const char *ns;
    size_t i;
    int rc;

    if (buf == NULL || out == NULL)
        return cm_err_set(err, CM_EINVAL, "manifest: no input");
    if (len > BACKUP_MANIFEST_MAX)
        return cm_err_set(err, CM_ETOOBIG, "manifest: larger than %u bytes",
                          (unsigned)BACKUP_MANIFEST_MAX);
    if (!js_valid(buf, len)) {
        rc = cm_err_set(err, CM_EPARSE, "manifest: invalid JSON (or nested deeper than %d)",
                        MF_MAX_DEPTH);
        goto cleanup;
    }
    root = cJSON_ParseWithLengthOpts(buf, len, NULL, false);
    if (root == NULL) {
        /* The syntax is valid, so cJSON failed to allocate. */
        rc = cm_err_set(err, CM_ENOMEM, "manifest: out of memory");
        goto cleanup;
    }
    if (!cJSON_IsObject(root)) {
        rc = cm_err_set(err, CM_EPARSE, "manifest: not a JSON object");
        goto cleanup;
    }
    rc = get_str(root, "format", false, "manifest", &fmt, err);
    if (rc != 0)
        goto cleanup;
    if (strcmp(fmt, BACKUP_FORMAT) != 0) {
        rc = cm_err_set(err, CM_EUNSUPPORTED, "manifest: format \"%.64s\" is not %s", fmt,
                        BACKUP_FORMAT);
        goto cleanup;
    }
    rc = get_str(root, "id", false, "manifest", &id, err);
    if (rc == 0)
        rc = get_str(root, "namespace", false, "manifest", &ns, err);
    if (rc != 0)
        goto cleanup;
    if (backup_rp_id_parse(id, strlen(id), NULL) != 0 || !backup_ns_valid(ns, strlen(ns))) {
        rc = cm_err_set(err, CM_EPARSE, "manifest: invalid id or namespace");
        goto cleanup;
    }
    rc = backup_manifest_create(id, ns, "", &m);
    if (rc != 0) {
        rc = cm_err_set(err, rc, "manifest: out of memory");
        goto cleanup;
    }
    rc = parse_header(root, m, err);
    if (rc != 0)
        goto cleanup;
    arr = cJSON_GetObjectItemCaseSensitive(root, "resources");
    if (!cJSON_IsArray(arr)) {
        rc = cm_err_set(err, CM_EPARSE, "manifest: \"resources\" must be an array");
        goto cleanup;
    }
    i = 0;
    cJSON_ArrayForEach(it, arr)
    {
        rc = parse_resource(it, i++, m, err);
        if (rc != 0)
            goto cleanup;
    }
    arr = cJSON_GetObjectItemCaseSensitive(root, "snapshots");
    if (!cJSON_IsArray(arr)) {
        rc = cm_err_set(err, CM_EPARSE, "manifest: \"snapshots\" must be an array");
        goto cleanup;
    }
    i = 0;
    cJSON_ArrayForEach(it, arr)
    {
        rc = parse_snapshot(it, i++, m, err);
        if (rc != 0)
            goto cleanup;
    }
    rc = check_unique_paths(m, err);
    if (rc != 0)
        goto cleanup;
    *out = m;
    m = NULL;
cleanup:
    backup_manifest_destroy(m);
    cJSON_Delete(root);
    return rc;
}
