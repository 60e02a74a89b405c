/* SPDX-License-Identifier: Apache-2.0 */
/* kube_fake_store.c - the fake kube-apiserver's object store: create/get/update/
 * merge-patch/delete with resourceVersions, paged lists with opaque continue tokens,
 * field selectors and the VolumeSnapshot readiness simulation. Callers hold s->mu. */
#include "kube_fake_int.h"

#include "common/cm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

cJSON *fk_status(int code, const char *reason, const char *message)
{
    cJSON *j = cJSON_CreateObject();

    cJSON_AddStringToObject(j, "kind", "Status");
    cJSON_AddStringToObject(j, "apiVersion", "v1");
    cJSON_AddObjectToObject(j, "metadata");
    cJSON_AddStringToObject(j, "status", "Failure");
    cJSON_AddStringToObject(j, "message", message);
    cJSON_AddStringToObject(j, "reason", reason);
    cJSON_AddNumberToObject(j, "code", code);
    return j;
}

void fk_qualified(const struct fk_type *t, char *buf, size_t len)
{
    if (t->group[0] != '\0')
        (void)snprintf(buf, len, "%s.%s", t->plural, t->group);
    else
        (void)snprintf(buf, len, "%s", t->plural);
}

void fk_set_error(struct fk_result *r, int code, const char *reason, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->status = code;
    r->body = fk_status(code, reason, msg);
}

static void not_found(struct fk_result *r, const struct fk_type *t, const char *name)
{
    char q[2 * FK_NAME];

    fk_qualified(t, q, sizeof(q));
    fk_set_error(r, 404, "NotFound", "%s \"%s\" not found", q, name);
}

static void now_rfc3339(char *buf, size_t len)
{
    (void)cm_time_format(time(NULL), buf, len);
}

static void set_str(cJSON *o, const char *k, const char *v)
{
    cJSON *n = cJSON_CreateString(v);

    if (n == NULL)
        return;
    if (cJSON_GetObjectItemCaseSensitive(o, k) != NULL)
        cJSON_ReplaceItemInObjectCaseSensitive(o, k, n);
    else
        cJSON_AddItemToObject(o, k, n);
}

static void set_num(cJSON *o, const char *k, double v)
{
    cJSON *n = cJSON_CreateNumber(v);

    if (n == NULL)
        return;
    if (cJSON_GetObjectItemCaseSensitive(o, k) != NULL)
        cJSON_ReplaceItemInObjectCaseSensitive(o, k, n);
    else
        cJSON_AddItemToObject(o, k, n);
}

static cJSON *ensure_obj(cJSON *o, const char *k)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    if (cJSON_IsObject(v))
        return v;
    if (v != NULL)
        cJSON_DeleteItemFromObjectCaseSensitive(o, k);
    return cJSON_AddObjectToObject(o, k);
}

static void new_uid(struct fake_kube *s, char *buf, size_t len)
{
    s->uid_seq++;
    (void)snprintf(buf, len, "%08x-%04x-4%03x-8%03x-%012llx", s->port, (unsigned)(s->rv & 0xffff),
                   (unsigned)(s->uid_seq & 0xfff), (unsigned)((s->uid_seq >> 12) & 0xfff),
                   (unsigned long long)s->uid_seq);
}

static void set_rv(struct fake_kube *s, cJSON *meta)
{
    char rv[32];

    s->rv++;
    (void)snprintf(rv, sizeof(rv), "%llu", (unsigned long long)s->rv);
    set_str(meta, "resourceVersion", rv);
}

struct fk_obj *fk_store_find(struct fake_kube *s, const char *group, const char *plural,
                             const char *ns, const char *name)
{
    size_t i;

    for (i = 0; i < s->nobjs; i++) {
        struct fk_obj *o = &s->objs[i];

        if (strcmp(o->name, name) == 0 && strcmp(o->ns, ns ? ns : "") == 0 &&
            strcmp(o->plural, plural) == 0 && strcmp(o->group, group) == 0)
            return o;
    }
    return NULL;
}

void fk_obj_changed(struct fk_obj *o)
{
    free(o->item_json);
    o->item_json = NULL;
    o->item_len = 0;
}

void fk_store_remove(struct fake_kube *s, struct fk_obj *o)
{
    size_t i = (size_t)(o - s->objs);

    fk_obj_changed(o);
    cJSON_Delete(o->obj);
    memmove(&s->objs[i], &s->objs[i + 1], (s->nobjs - i - 1) * sizeof(*o));
    s->nobjs--;
}

void fk_store_free(struct fake_kube *s)
{
    size_t i;

    for (i = 0; i < s->nobjs; i++) {
        fk_obj_changed(&s->objs[i]);
        cJSON_Delete(s->objs[i].obj);
    }
    free(s->objs);
    s->objs = NULL;
    s->nobjs = s->capobjs = 0;
}

/* Appends (takes obj). Returns the slot or NULL on OOM (obj freed). */
static struct fk_obj *store_put(struct fake_kube *s, const struct fk_type *t, const char *ns,
                                const char *name, cJSON *obj)
{
    struct fk_obj *o;

    if (s->nobjs == s->capobjs) {
        size_t ncap = s->capobjs ? s->capobjs * 2 : 64;
        struct fk_obj *n = realloc(s->objs, ncap * sizeof(*n));

        if (n == NULL) {
            cJSON_Delete(obj);
            return NULL;
        }
        s->objs = n;
        s->capobjs = ncap;
    }
    o = &s->objs[s->nobjs++];
    memset(o, 0, sizeof(*o));
    (void)snprintf(o->group, sizeof(o->group), "%s", t->group);
    (void)snprintf(o->plural, sizeof(o->plural), "%s", t->plural);
    (void)snprintf(o->ns, sizeof(o->ns), "%s", ns ? ns : "");
    (void)snprintf(o->name, sizeof(o->name), "%s", name);
    o->obj = obj;
    o->snap_gets_left = -1;
    return o;
}

static bool name_ok(const char *n)
{
    size_t len = strlen(n);

    return len > 0 && len <= 253 && strpbrk(n, "/%?# ") == NULL && strcmp(n, ".") != 0 &&
           strcmp(n, "..") != 0;
}

/* ---- VolumeSnapshots ---- */

static bool is_snapshot(const struct fk_obj *o)
{
    return strcmp(o->group, "snapshot.storage.k8s.io") == 0 &&
           strcmp(o->plural, "volumesnapshots") == 0;
}

static void snapshot_ready(struct fake_kube *s, struct fk_obj *o)
{
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(o->obj, "metadata");
    cJSON *status = ensure_obj(o->obj, "status");
    const char *uid = jstr(meta, "uid");
    const char *pvc = jstr(cJSON_GetObjectItemCaseSensitive(
                               cJSON_GetObjectItemCaseSensitive(o->obj, "spec"), "source"),
                           "persistentVolumeClaimName");
    const char *cls =
        jstr(cJSON_GetObjectItemCaseSensitive(o->obj, "spec"), "volumeSnapshotClassName");
    char content[FK_NAME + 16];
    char handle[FK_NAME + 16];
    char now[40];
    struct fk_type ct;
    cJSON *c;

    fk_obj_changed(o);
    (void)snprintf(content, sizeof(content), "snapcontent-%s", uid ? uid : o->name);
    (void)snprintf(handle, sizeof(handle), "snap-%s", uid ? uid : o->name);
    now_rfc3339(now, sizeof(now));
    cJSON_DeleteItemFromObjectCaseSensitive(status, "error");
    cJSON_DeleteItemFromObjectCaseSensitive(status, "readyToUse");
    cJSON_AddBoolToObject(status, "readyToUse", 1);
    set_str(status, "boundVolumeSnapshotContentName", content);
    set_str(status, "creationTime", now);
    set_str(status, "restoreSize", "1Gi");
    set_rv(s, meta);
    o->snap_gets_left = -1;

    if (!fk_type_find(s, "snapshot.storage.k8s.io", NULL, "volumesnapshotcontents", &ct) ||
        fk_store_find(s, ct.group, ct.plural, "", content) != NULL)
        return;
    c = cJSON_CreateObject();
    if (c == NULL)
        return;
    cJSON_AddStringToObject(c, "apiVersion", "snapshot.storage.k8s.io/v1");
    cJSON_AddStringToObject(c, "kind", "VolumeSnapshotContent");
    {
        cJSON *m = cJSON_AddObjectToObject(c, "metadata");
        char cuid[64];

        cJSON_AddStringToObject(m, "name", content);
        new_uid(s, cuid, sizeof(cuid));
        cJSON_AddStringToObject(m, "uid", cuid);
        cJSON_AddStringToObject(m, "creationTimestamp", now);
        set_rv(s, m);
    }
    {
        cJSON *spec = cJSON_AddObjectToObject(c, "spec");
        cJSON *src = cJSON_AddObjectToObject(spec, "source");
        cJSON *ref = cJSON_AddObjectToObject(spec, "volumeSnapshotRef");
        char vh[FK_NAME + 8];

        cJSON_AddStringToObject(spec, "deletionPolicy", "Delete");
        cJSON_AddStringToObject(spec, "driver", "fake.csi.lockwarden.io");
        if (cls != NULL)
            cJSON_AddStringToObject(spec, "volumeSnapshotClassName", cls);
        (void)snprintf(vh, sizeof(vh), "vol-%s", pvc ? pvc : "unknown");
        cJSON_AddStringToObject(src, "volumeHandle", vh);
        cJSON_AddStringToObject(ref, "kind", "VolumeSnapshot");
        cJSON_AddStringToObject(ref, "apiVersion", "snapshot.storage.k8s.io/v1");
        cJSON_AddStringToObject(ref, "name", o->name);
        cJSON_AddStringToObject(ref, "namespace", o->ns);
        if (uid != NULL)
            cJSON_AddStringToObject(ref, "uid", uid);
    }
    {
        cJSON *st = cJSON_AddObjectToObject(c, "status");

        cJSON_AddBoolToObject(st, "readyToUse", 1);
        cJSON_AddStringToObject(st, "snapshotHandle", handle);
        cJSON_AddNumberToObject(st, "restoreSize", 1073741824.0);
        cJSON_AddNumberToObject(st, "creationTime", (double)time(NULL) * 1e9);
    }
    /* o may move when the array grows: nothing uses it after this. */
    (void)store_put(s, &ct, "", content, c);
}

/* Sets up a just-created snapshot: failing, pending or ready. */
static void snapshot_created(struct fake_kube *s, struct fk_obj *o)
{
    const char *pvc = jstr(cJSON_GetObjectItemCaseSensitive(
                               cJSON_GetObjectItemCaseSensitive(o->obj, "spec"), "source"),
                           "persistentVolumeClaimName");
    cJSON *status = ensure_obj(o->obj, "status");
    size_t i;

    fk_obj_changed(o);
    for (i = 0; i < s->nfails; i++) {
        if (strcmp(s->fails[i].key, o->name) == 0 ||
            (pvc != NULL && strcmp(s->fails[i].key, pvc) == 0)) {
            cJSON *e;
            char now[40];

            now_rfc3339(now, sizeof(now));
            cJSON_AddBoolToObject(status, "readyToUse", 0);
            e = cJSON_AddObjectToObject(status, "error");
            cJSON_AddStringToObject(e, "message", s->fails[i].message);
            cJSON_AddStringToObject(e, "time", now);
            return;
        }
    }
    if (s->snap_ready_after == 0) {
        snapshot_ready(s, o);
        return;
    }
    cJSON_AddBoolToObject(status, "readyToUse", 0);
    o->snap_gets_left = (long)s->snap_ready_after;
}

/* ---- single objects ---- */

void fk_store_get(struct fake_kube *s, const struct fk_type *t, const char *ns, const char *name,
                  struct fk_result *r)
{
    struct fk_obj *o = fk_store_find(s, t->group, t->plural, ns, name);

    if (o == NULL) {
        not_found(r, t, name);
        return;
    }
    if (is_snapshot(o) && o->snap_gets_left > 0 && --o->snap_gets_left == 0) {
        size_t idx = (size_t)(o - s->objs);

        snapshot_ready(s, o);
        o = &s->objs[idx]; /* the array may have grown */
    }
    r->status = 200;
    r->body = cJSON_Duplicate(o->obj, 1);
}

static cJSON *parse_body(const char *body, size_t len, struct fk_result *r)
{
    cJSON *j = len > 0 ? cJSON_ParseWithLength(body, len) : NULL;

    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        fk_set_error(r, 400, "BadRequest",
                     "the body of the request was in an unknown format - accepted media types "
                     "include: application/json, application/yaml");
        return NULL;
    }
    return j;
}

/* Checks apiVersion/kind of a body against the type. */
static bool check_kind(const struct fk_type *t, const cJSON *obj, struct fk_result *r)
{
    const char *kind = jstr(obj, "kind");
    const char *av = jstr(obj, "apiVersion");
    char want[FK_NAME + 80];

    if (t->group[0] != '\0')
        (void)snprintf(want, sizeof(want), "%s/", t->group);
    else
        want[0] = '\0';
    if (kind != NULL && strcmp(kind, t->kind) != 0) {
        fk_set_error(r, 400, "BadRequest",
                     "the kind in the data (%s) does not match the expected "
                     "kind (%s)",
                     kind, t->kind);
        return false;
    }
    if (av != NULL && ((want[0] != '\0' && strncmp(av, want, strlen(want)) != 0) ||
                       (want[0] == '\0' && strchr(av, '/') != NULL))) {
        fk_set_error(r, 400, "BadRequest",
                     "the API version in the data (%s) does not match the "
                     "expected API version (%s%s)",
                     av, want, t->version);
        return false;
    }
    return true;
}

void fk_store_create(struct fake_kube *s, const struct fk_type *t, const char *ns, const char *body,
                     size_t len, struct fk_result *r)
{
    cJSON *obj = parse_body(body, len, r);
    cJSON *meta;
    const char *name;
    const char *bns;
    char gen[FK_NAME];
    char uid[64];
    char now[40];
    char av[FK_NAME + 80];
    char q[2 * FK_NAME];
    struct fk_obj *o;

    if (obj == NULL)
        return;
    if (!check_kind(t, obj, r))
        goto fail;
    meta = ensure_obj(obj, "metadata");
    name = jstr(meta, "name");
    if ((name == NULL || name[0] == '\0') && jstr(meta, "generateName") != NULL) {
        static const char abc[] = "bcdfghjklmnpqrstvwxz2456789";
        unsigned long x = (unsigned long)(s->uid_seq * 2654435761u + s->rv);
        size_t k;
        size_t gl;

        (void)snprintf(gen, sizeof(gen) - 6, "%s", jstr(meta, "generateName"));
        gl = strlen(gen);
        for (k = 0; k < 5; k++, x /= 27)
            gen[gl + k] = abc[x % 27];
        gen[gl + 5] = '\0';
        s->uid_seq++;
        set_str(meta, "name", gen);
        name = jstr(meta, "name");
    }
    fk_qualified(t, q, sizeof(q));
    if (name == NULL || !name_ok(name)) {
        fk_set_error(r, 422, "Invalid",
                     "%s \"%s\" is invalid: metadata.name: Required value: "
                     "name or generateName is required",
                     q, name ? name : "");
        goto fail;
    }
    bns = jstr(meta, "namespace");
    if (t->namespaced) {
        if (bns != NULL && bns[0] != '\0' && strcmp(bns, ns) != 0) {
            fk_set_error(r, 400, "BadRequest",
                         "the namespace of the provided object does not "
                         "match the namespace sent on the request");
            goto fail;
        }
        set_str(meta, "namespace", ns);
    } else {
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "namespace");
        ns = "";
    }
    if (fk_store_find(s, t->group, t->plural, ns, name) != NULL) {
        fk_set_error(r, 409, "AlreadyExists", "%s \"%s\" already exists", q, name);
        goto fail;
    }
    if (t->group[0] != '\0')
        (void)snprintf(av, sizeof(av), "%s/%s", t->group, t->version);
    else
        (void)snprintf(av, sizeof(av), "%s", t->version);
    set_str(obj, "apiVersion", av);
    set_str(obj, "kind", t->kind);
    new_uid(s, uid, sizeof(uid));
    set_str(meta, "uid", uid);
    now_rfc3339(now, sizeof(now));
    set_str(meta, "creationTimestamp", now);
    set_num(meta, "generation", 1);
    set_rv(s, meta);
    o = store_put(s, t, ns, jstr(meta, "name"), obj);
    if (o == NULL) {
        fk_set_error(r, 500, "InternalError", "out of memory");
        return;
    }
    if (is_snapshot(o)) {
        size_t idx = (size_t)(o - s->objs);

        snapshot_created(s, o);
        o = &s->objs[idx];
    }
    r->status = 201;
    r->body = cJSON_Duplicate(o->obj, 1);
    return;
fail:
    cJSON_Delete(obj);
}

/* Common tail of PUT and PATCH: checks and stores next as the new version of o. */
static void replace_obj(struct fake_kube *s, const struct fk_type *t, struct fk_obj *o, cJSON *next,
                        bool status_only, struct fk_result *r)
{
    cJSON *old = o->obj;
    cJSON *ometa = cJSON_GetObjectItemCaseSensitive(old, "metadata");
    cJSON *nmeta;
    const char *nrv;
    const char *orv = jstr(ometa, "resourceVersion");
    char q[2 * FK_NAME];
    const cJSON *gen;

    fk_qualified(t, q, sizeof(q));
    if (!check_kind(t, next, r)) {
        cJSON_Delete(next);
        return;
    }
    nmeta = ensure_obj(next, "metadata");
    if (jstr(nmeta, "name") != NULL && strcmp(jstr(nmeta, "name"), o->name) != 0) {
        fk_set_error(r, 400, "BadRequest",
                     "the name of the object (%s) does not match the name "
                     "on the URL (%s)",
                     jstr(nmeta, "name"), o->name);
        cJSON_Delete(next);
        return;
    }
    nrv = jstr(nmeta, "resourceVersion");
    if (nrv != NULL && nrv[0] != '\0' && orv != NULL && strcmp(nrv, orv) != 0) {
        fk_set_error(r, 409, "Conflict",
                     "Operation cannot be fulfilled on %s \"%s\": the object "
                     "has been modified; please apply your changes to the latest version and try "
                     "again",
                     q, o->name);
        cJSON_Delete(next);
        return;
    }
    if (status_only) {
        /* Only the status changes; everything else stays as stored. */
        cJSON *st = cJSON_DetachItemFromObjectCaseSensitive(next, "status");
        cJSON *copy = cJSON_Duplicate(old, 1);

        cJSON_Delete(next);
        next = copy;
        if (next == NULL) {
            cJSON_Delete(st);
            fk_set_error(r, 500, "InternalError", "out of memory");
            return;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(next, "status");
        if (st != NULL)
            cJSON_AddItemToObject(next, "status", st);
        nmeta = cJSON_GetObjectItemCaseSensitive(next, "metadata");
    } else {
        /* Identity fields are the server's. */
        set_str(next, "apiVersion", jstr(old, "apiVersion") ? jstr(old, "apiVersion") : "v1");
        set_str(next, "kind", t->kind);
        set_str(nmeta, "name", o->name);
        if (t->namespaced)
            set_str(nmeta, "namespace", o->ns);
        if (jstr(ometa, "uid") != NULL)
            set_str(nmeta, "uid", jstr(ometa, "uid"));
        if (jstr(ometa, "creationTimestamp") != NULL)
            set_str(nmeta, "creationTimestamp", jstr(ometa, "creationTimestamp"));
        gen = cJSON_GetObjectItemCaseSensitive(ometa, "generation");
        if (cJSON_IsNumber(gen)) {
            bool spec_changed = !cJSON_Compare(cJSON_GetObjectItemCaseSensitive(old, "spec"),
                                               cJSON_GetObjectItemCaseSensitive(next, "spec"), 1);

            set_num(nmeta, "generation", gen->valuedouble + (spec_changed ? 1 : 0));
        }
    }
    set_rv(s, nmeta);
    cJSON_Delete(old);
    fk_obj_changed(o);
    o->obj = next;
    r->status = 200;
    r->body = cJSON_Duplicate(next, 1);
}

void fk_store_update(struct fake_kube *s, const struct fk_type *t, const char *ns, const char *name,
                     const char *body, size_t len, bool status_only, struct fk_result *r)
{
    struct fk_obj *o = fk_store_find(s, t->group, t->plural, ns, name);
    cJSON *next;

    if (o == NULL) {
        not_found(r, t, name);
        return;
    }
    next = parse_body(body, len, r);
    if (next == NULL)
        return;
    replace_obj(s, t, o, next, status_only, r);
}

void fk_store_patch(struct fake_kube *s, const struct fk_type *t, const char *ns, const char *name,
                    const char *ctype, const char *body, size_t len, bool status_only,
                    struct fk_result *r)
{
    struct fk_obj *o = fk_store_find(s, t->group, t->plural, ns, name);
    bool json_patch = ctype != NULL && strncmp(ctype, "application/json-patch+json", 27) == 0;
    cJSON *patch;
    cJSON *next;
    char msg[512];

    if (!json_patch &&
        (ctype == NULL || (strncmp(ctype, "application/merge-patch+json", 28) != 0 &&
                           strncmp(ctype, "application/strategic-merge-patch+json", 38) != 0))) {
        fk_set_error(r, 415, "UnsupportedMediaType",
                     "the body of the request was in an unknown format - accepted media types "
                     "include: application/json-patch+json, application/merge-patch+json, "
                     "application/strategic-merge-patch+json");
        return;
    }
    if (o == NULL) {
        not_found(r, t, name);
        return;
    }
    patch = len > 0 ? cJSON_ParseWithLength(body, len) : NULL;
    if (patch == NULL || (json_patch ? !cJSON_IsArray(patch) : !cJSON_IsObject(patch))) {
        cJSON_Delete(patch);
        fk_set_error(r, 400, "BadRequest", "the body of the request was in an unknown format");
        return;
    }
    if (json_patch) {
        next = cJSON_Duplicate(o->obj, 1);
        if (next != NULL && fk_json_patch(next, patch, msg, sizeof(msg)) != 0) {
            cJSON_Delete(next);
            cJSON_Delete(patch);
            fk_set_error(r, 422, "Invalid", "%s", msg);
            return;
        }
    } else {
        next = fk_merge_patch(cJSON_Duplicate(o->obj, 1), patch);
    }
    cJSON_Delete(patch);
    if (next == NULL) {
        fk_set_error(r, 500, "InternalError", "out of memory");
        return;
    }
    replace_obj(s, t, o, next, status_only, r);
}

void fk_store_delete(struct fake_kube *s, const struct fk_type *t, const char *ns, const char *name,
                     struct fk_result *r)
{
    struct fk_obj *o = fk_store_find(s, t->group, t->plural, ns, name);
    bool is_ns = t->group[0] == '\0' && strcmp(t->plural, "namespaces") == 0;
    size_t i;

    if (o == NULL) {
        not_found(r, t, name);
        return;
    }
    r->status = 200;
    r->body = cJSON_Duplicate(o->obj, 1);
    fk_store_remove(s, o);
    s->rv++;
    if (is_ns) {
        /* The real namespace controller deletes the contents asynchronously; the fake
         * does it at once. */
        for (i = s->nobjs; i > 0; i--) {
            if (strcmp(s->objs[i - 1].ns, name) == 0)
                fk_store_remove(s, &s->objs[i - 1]);
        }
    }
}

int fk_store_add(struct fake_kube *s, const cJSON *obj)
{
    const char *av = jstr(obj, "apiVersion");
    const char *kind = jstr(obj, "kind");
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const char *name = jstr(meta, "name");
    const char *ns = jstr(meta, "namespace");
    char group[FK_NAME];
    const char *slash;
    struct fk_type t;
    struct fk_obj *old;
    cJSON *copy;
    cJSON *cmeta;
    char buf[64];

    if (av == NULL || kind == NULL || name == NULL || !name_ok(name)) {
        fprintf(stderr, "fake_kube: object without apiVersion, kind or a valid metadata.name\n");
        return -1;
    }
    slash = strchr(av, '/');
    (void)snprintf(group, sizeof(group), "%.*s", slash ? (int)(slash - av) : 0, av);
    if (!fk_type_find_kind(s, group, kind, &t) || strcmp(t.kind, kind) != 0) {
        fprintf(stderr, "fake_kube: unknown type %s %s (add its CRD first)\n", av, kind);
        return -1;
    }
    if (!t.namespaced)
        ns = "";
    else if (ns == NULL || ns[0] == '\0')
        ns = "default";
    copy = cJSON_Duplicate(obj, 1);
    if (copy == NULL)
        return -1;
    cmeta = cJSON_GetObjectItemCaseSensitive(copy, "metadata");
    if (t.namespaced)
        set_str(cmeta, "namespace", ns);
    if (jstr(cmeta, "uid") == NULL) {
        new_uid(s, buf, sizeof(buf));
        set_str(cmeta, "uid", buf);
    }
    if (jstr(cmeta, "creationTimestamp") == NULL) {
        now_rfc3339(buf, sizeof(buf));
        set_str(cmeta, "creationTimestamp", buf);
    }
    set_rv(s, cmeta);
    old = fk_store_find(s, t.group, t.plural, ns, name);
    if (old != NULL) {
        cJSON_Delete(old->obj);
        fk_obj_changed(old);
        old->obj = copy;
        return 0;
    }
    return store_put(s, &t, ns, name, copy) != NULL ? 0 : -1;
}
