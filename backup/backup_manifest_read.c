/* SPDX-License-Identifier: Apache-2.0 */
/* backup_manifest_read.c - the strict reader of manifest.json, untrusted bucket data:
 * syntax and UTF-8 checked first, then every member's type, limits, safe unique paths
 * and hex digests (docs/restore-point-format.md). */
#include "backup/backup_int.h"

#include <stdio.h>
#include <string.h>

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
        return cm_err_set(err, CM_ETOOBIG, "manifest: %s: \"%s\" is longer than %d bytes", where, k,
                          BACKUP_MAX_STRING);
    if (!bk_utf8_ok(v->valuestring))
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
    if (strlen(s) != 64 || !bk_hex_ok(s, 64))
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
    if (!bk_path_ok(r.path))
        return cm_err_set(err, CM_EPARSE, "manifest: %s: unsafe path", where);
    if (r.size > BACKUP_MAX_ENTRY)
        return cm_err_set(err, CM_ETOOBIG, "manifest: %s: size over %u bytes", where,
                          (unsigned)BACKUP_MAX_ENTRY);
    if (r.namespace_[0] != '\0' && strcmp(r.namespace_, m->namespace_) != 0)
        return cm_err_set(err, CM_EPARSE, "manifest: %s: namespace \"%s\" is not the app's", where,
                          r.namespace_);
    st = cJSON_GetObjectItemCaseSensitive(it, "stripped");
    if (st != NULL && !cJSON_IsArray(st))
        return cm_err_set(err, CM_EPARSE, "manifest: %s: \"stripped\" must be an array", where);
    cJSON_ArrayForEach(e, st)
    {
        if (!cJSON_IsString(e) || strlen(e->valuestring) > BACKUP_MAX_STRING ||
            !bk_utf8_ok(e->valuestring))
            return cm_err_set(err, CM_EPARSE, "manifest: %s: \"stripped\" holds a non-string",
                              where);
        if (n >= CM_ARRAY_LEN(strs) || n >= BK_MF_MAX_STRIPPED)
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
    const struct backup_archive_kind *ak;
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
        return cm_err_set(err, CM_EPARSE,
                          "manifest: objectLock.mode \"%.32s\" is not "
                          "NONE, GOVERNANCE or COMPLIANCE",
                          s);
    memcpy(m->lock_mode, s, strlen(s) + 1);
    if (strcmp(s, "NONE") != 0) {
        rc = get_time(lock, "retainUntil", "objectLock", &m->retain_until, err);
        if (rc != 0)
            return rc;
    }
    rc = get_str(ar, "key", false, "archive", &s, err);
    if (rc != 0)
        return rc;
    if (backup_archive_kind_find(s) < 0)
        return cm_err_set(err, CM_EPARSE, "manifest: archive.key \"%.64s\" is not %s or %s", s,
                          BACKUP_ARCHIVE_NAME, BACKUP_ARCHIVE_NAME_ENC);
    ak = &backup_archive_kinds[backup_archive_kind_find(s)];
    if (backup_manifest_set_str(&m->archive_key, s) != 0)
        return cm_err_set(err, CM_ENOMEM, "manifest: out of memory");
    rc = get_str(ar, "format", false, "archive", &s, err);
    if (rc != 0)
        return rc;
    if (strcmp(s, BACKUP_ARCHIVE_FORMAT) != 0 && strcmp(s, BACKUP_ARCHIVE_FORMAT_GZ) != 0)
        return cm_err_set(err, CM_EUNSUPPORTED, "manifest: archive.format \"%.32s\" unsupported",
                          s);
    if (strcmp(s, ak->format) != 0)
        return cm_err_set(err, CM_EPARSE, "manifest: archive.format %s with archive.key %s", s,
                          ak->name);
    rc = get_u53(ar, "size", "archive", &m->archive_size, err);
    if (rc == 0)
        rc = get_sha(ar, "archive", m->archive_sha256, err);
    if (rc == 0)
        rc = get_str(ar, "versionId", true, "archive", &s, err);
    if (rc != 0)
        return rc;
    if (strlen(s) >= sizeof(m->archive_version) || strchr(s, '/') != NULL)
        return cm_err_set(err, CM_EPARSE, "manifest: archive.versionId is not a version id");
    memcpy(m->archive_version, s, strlen(s) + 1);
    enc = cJSON_GetObjectItemCaseSensitive(ar, "encryption");
    if (enc == NULL || cJSON_IsNull(enc)) {
        if (ak->encrypted)
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
    if (strlen(s) != 23 || strncmp(s, "sha256:", 7) != 0 || !bk_hex_ok(s + 7, 16))
        return cm_err_set(err, CM_EPARSE, "manifest: keyId must be sha256:<16 hex>");
    memcpy(m->key_id, s, 24);
    if (!ak->encrypted)
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
    if (!bk_json_valid(buf, len)) {
        rc = cm_err_set(err, CM_EPARSE, "manifest: invalid JSON (or nested deeper than %d)",
                        BK_JSON_MAX_DEPTH);
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
    /* "skipped" is optional (absent in manifests before it existed). */
    arr = cJSON_GetObjectItemCaseSensitive(root, "skipped");
    if (arr != NULL && !cJSON_IsArray(arr)) {
        rc = cm_err_set(err, CM_EPARSE, "manifest: \"skipped\" must be an array");
        goto cleanup;
    }
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsString(it) || strlen(it->valuestring) > BACKUP_MAX_STRING ||
            !bk_utf8_ok(it->valuestring) || it->valuestring[0] == '\0') {
            rc = cm_err_set(err, CM_EPARSE, "manifest: \"skipped\" holds a bad entry");
            goto cleanup;
        }
        rc = backup_manifest_add_skipped(m, it->valuestring);
        if (rc != 0) {
            rc = cm_err_set(err, rc, "manifest: skipped: %s", cm_strerror(rc));
            goto cleanup;
        }
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
