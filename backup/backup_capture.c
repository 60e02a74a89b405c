/* SPDX-License-Identifier: Apache-2.0 */
/* backup_capture.c - one capture: an app's namespace into a new restore point
 * (snapshots first, then resources streamed into the archive, then cluster-scoped
 * dependencies, the archive closed, then waiting for the snapshots, and manifest.json
 * last). Three threads at most: this one reads the cluster and serialises objects, the
 * archive worker (backup_pipe.h) compresses and uploads, and the bucket preflight runs
 * beside the reads until something with a side effect needs its verdict. */
#include "backup/backup.h"
#include "backup/backup_pipe.h"
#include "backup/kube/kube.h"
#include "backup/s3/s3.h"
#include "policy/policy.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define CAP_MAX_PVCS BACKUP_MAX_SNAPSHOTS
#define CAP_MAX_GROUPS 512

struct cap_pvc {
    char name[KUBE_MAX_NAME];
    char volume_name[KUBE_MAX_NAME];
    char storage_class[KUBE_MAX_NAME];
    char snapshot[KUBE_MAX_NAME];
    bool created;
};

struct cap {
    const struct backup_capture_opts *o;
    struct cm_err *err;
    struct backup_manifest *m;
    struct backup_archive_writer *w;
    struct backup_pipe *pipe; /* feeds w from a worker thread while objects are listed */
    struct s3_upload *up;
    struct cap_pvc *pvcs;
    size_t n_pvcs;
    size_t cap_pvcs;
    /* custom resource types seen, as "plural.group" */
    char (*crd)[KUBE_MAX_NAME * 2];
    size_t n_crd;
    bool restarted; /* a list restarted: skip paths already archived */
    const struct kube_resource *cur;
    /* The bucket's Object Lock preflight runs on its own thread while the capture reads
     * the cluster (read-only); whatever has a side effect (a VolumeSnapshot, the first
     * byte handed to the upload) waits for its verdict first: preflight_wait(). */
    pthread_mutex_t pf_mu;
    pthread_t pf_thread;
    bool pf_running;
    int pf_rc;
    struct cm_err pf_err;
};

static void do_sleep(const struct backup_capture_opts *o, uint64_t ms)
{
    struct timespec ts;

    if (o->sleep != NULL) {
        o->sleep(ms, o->sleep_ctx);
        return;
    }
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void *preflight_main(void *arg)
{
    struct cap *c = arg;

    c->pf_rc = s3_client_preflight_lock(c->o->s3, &c->pf_err);
    if (c->pf_rc != 0)
        cm_err_prefix(&c->pf_err, "BackupPolicy %s asks for Object Lock, refusing",
                      c->o->policy->name);
    return NULL;
}

/* Starts the preflight when the policy asks for Object Lock (inline when no thread
 * can be started). */
static void preflight_start(struct cap *c)
{
    if (c->o->policy->lock_mode == POLICY_LOCK_NONE)
        return;
    if (pthread_create(&c->pf_thread, NULL, preflight_main, c) == 0)
        c->pf_running = true;
    else
        (void)preflight_main(c);
}

/* The preflight's verdict, waiting for it if it still runs. Called from the capture
 * thread and from the archive worker (through the sink); the first caller joins. */
static int preflight_wait(struct cap *c, struct cm_err *err)
{
    int rc;

    pthread_mutex_lock(&c->pf_mu);
    if (c->pf_running) {
        (void)pthread_join(c->pf_thread, NULL);
        c->pf_running = false;
    }
    rc = c->pf_rc;
    if (rc != 0 && err != NULL)
        *err = c->pf_err;
    pthread_mutex_unlock(&c->pf_mu);
    return rc;
}

/* Runs on the archive worker. Nothing reaches the bucket before the preflight passed,
 * and the S3 client is the preflight thread's until then; bytes that only fill the
 * upload's part buffer need neither, so deflate never waits for the preflight unless
 * a part would be sent. */
static int upload_sink(void *ctx, const void *p, size_t n, struct cm_err *err)
{
    struct cap *c = ctx;

    if (n > s3_upload_room(c->up)) {
        int rc = preflight_wait(c, err);

        if (rc != 0)
            return rc;
    }
    return s3_upload_write(c->up, p, n, err);
}

static const char *meta_str(const cJSON *obj, const char *k)
{
    const cJSON *v =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "metadata"), k);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *spec_str(const cJSON *obj, const char *k)
{
    const cJSON *v =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "spec"), k);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void copy_name(char *dst, size_t len, const char *src)
{
    (void)snprintf(dst, len, "%s", src != NULL ? src : "");
}

/* Strips node obj of t (marks only: the text stays) and adds the object to the
 * archive, through the pipe, and to the manifest. The stored JSON is the API server's
 * own text minus the stripped members (head, when given, adds the members a typed
 * list leaves out), copied once into a buffer that moves into the pipe. */
static int add_object(struct cap *c, const struct kube_resource *r, struct kube_jt *t, uint32_t obj,
                      const char *head)
{
    const char *stripped[BACKUP_STRIP_MAX];
    struct backup_mf_resource mr;
    struct cm_buf out;
    char path[300];
    char name[KUBE_MAX_NAME];
    char *json;
    size_t n = 0;
    int rc;

    memset(&mr, 0, sizeof(mr));
    rc =
        kube_jt_str(t, kube_jt_get(t, kube_jt_get(t, obj, "metadata"), "name"), name, sizeof(name));
    if (rc != 0)
        return cm_err_set(c->err, CM_EPROTO, "%s without a usable metadata.name", r->plural);
    rc = backup_strip_path(!r->namespaced, r->group, r->version, r->plural, name, path,
                           sizeof(path));
    if (rc != 0)
        return cm_err_set(c->err, rc, "%s %s: cannot form an archive path", r->plural, name);
    if (c->restarted && backup_manifest_find(c->m, path) != NULL)
        return 0;
    backup_strip_object(t, obj, r->group, r->kind, stripped, &n);
    cm_buf_init(&out, BACKUP_MAX_ENTRY);
    /* at most the served text and the head, the one allocation of the object */
    rc = cm_buf_reserve(&out, t->n[obj].end - t->n[obj].start + (head ? strlen(head) + 1 : 0));
    if (rc == 0)
        rc = kube_jt_emit(t, obj, head, &out);
    if (rc != 0) {
        cm_buf_free(&out);
        return cm_err_set(c->err, rc, "%s %s: %s", r->plural, name,
                          rc == CM_ETOOBIG ? "object larger than an archive entry may be"
                                           : "out of memory");
    }
    json = cm_buf_take(&out, &mr.size);
    if (json == NULL)
        return cm_err_set(c->err, CM_ENOMEM, "capture: out of memory");
    mr.api_version = (char *)r->api_version;
    mr.kind = (char *)r->kind;
    mr.resource = (char *)r->plural;
    mr.namespace_ = r->namespaced ? (char *)c->o->namespace_ : (char *)"";
    mr.name = name;
    mr.path = path;
    backup_sha256_hex(json, mr.size, mr.sha256);
    mr.stripped = (char **)stripped;
    mr.n_stripped = n;
    /* json belongs to the pipe from here on, also on failure. */
    rc = backup_pipe_add(c->pipe, path, json, mr.size, c->err);
    if (rc != 0)
        return rc;
    rc = backup_manifest_add_resource(c->m, &mr);
    if (rc != 0)
        rc = cm_err_set(c->err, rc, "capture: manifest: %s (%s %s)", cm_strerror(rc), r->plural,
                        name);
    return rc;
}

/* Custom resource candidates: any non-core group; the CRD GET later tells. */
static void note_group_type(struct cap *c, const struct kube_resource *r)
{
    char key[KUBE_MAX_NAME * 2];
    size_t i;

    if (r->group[0] == '\0' || c->n_crd >= CAP_MAX_GROUPS)
        return;
    (void)snprintf(key, sizeof(key), "%s.%s", r->plural, r->group);
    for (i = 0; i < c->n_crd; i++)
        if (strcmp(c->crd[i], key) == 0)
            return;
    memcpy(c->crd[c->n_crd++], key, strlen(key) + 1);
}

static int on_item(struct kube_jt *t, uint32_t item, const char *head, void *ctx)
{
    struct cap *c = ctx;
    const struct kube_resource *r = c->cur;

    if (backup_strip_skip(r->group, r->plural, t, item))
        return 0;
    note_group_type(c, r);
    return add_object(c, r, t, item, head);
}

static void on_restart(void *ctx)
{
    struct cap *c = ctx;

    c->restarted = true;
}

static int on_pvc(const cJSON *item, void *ctx)
{
    struct cap *c = ctx;
    struct cap_pvc *p;
    const char *name = meta_str(item, "name");

    if (name == NULL)
        return 0;
    if (c->n_pvcs >= CAP_MAX_PVCS)
        return cm_err_set(c->err, CM_ETOOBIG, "more than %d PVCs", CAP_MAX_PVCS);
    if (c->n_pvcs == c->cap_pvcs) {
        size_t nc = c->cap_pvcs * 2;
        void *np = cm_realloc(c->pvcs, nc * sizeof(*c->pvcs));

        if (np == NULL)
            return cm_err_set(c->err, CM_ENOMEM, "capture: out of memory");
        c->pvcs = np;
        c->cap_pvcs = nc;
    }
    p = &c->pvcs[c->n_pvcs];
    memset(p, 0, sizeof(*p));
    copy_name(p->name, sizeof(p->name), name);
    copy_name(p->volume_name, sizeof(p->volume_name), spec_str(item, "volumeName"));
    copy_name(p->storage_class, sizeof(p->storage_class), spec_str(item, "storageClassName"));
    c->n_pvcs++;
    return 0;
}

/* "lw-<id lowercased>-<pvc>" cut to 253 and ending alphanumeric. */
static void snapshot_name(const char *id, const char *pvc, char *out, size_t len)
{
    char tmp[2 * KUBE_MAX_NAME + 8];
    size_t i, n;

    (void)snprintf(tmp, sizeof(tmp), "lw-%s-%s", id, pvc);
    n = strlen(tmp) < len - 1 ? strlen(tmp) : len - 1;
    memcpy(out, tmp, n);
    out[n] = '\0';
    for (i = 0; out[i] != '\0'; i++)
        if (out[i] >= 'A' && out[i] <= 'Z')
            out[i] = (char)(out[i] - 'A' + 'a');
    n = strlen(out);
    if (n > 253)
        n = 253;
    while (n > 0 &&
           !((out[n - 1] >= 'a' && out[n - 1] <= 'z') || (out[n - 1] >= '0' && out[n - 1] <= '9')))
        n--;
    out[n] = '\0';
}

/* A label value: at most 63 characters, alphanumeric at both ends. */
static void label_value(const char *s, char *out, size_t len)
{
    size_t n;

    (void)snprintf(out, len, "%.63s", s);
    n = strlen(out);
    while (n > 0 &&
           !((out[n - 1] >= 'a' && out[n - 1] <= 'z') || (out[n - 1] >= 'A' && out[n - 1] <= 'Z') ||
             (out[n - 1] >= '0' && out[n - 1] <= '9')))
        n--;
    out[n] = '\0';
}

static int create_snapshots(struct cap *c, struct kube_client *kube)
{
    struct kube_ref ref = {"snapshot.storage.k8s.io/v1", "volumesnapshots", c->o->namespace_, NULL};
    const char *cls = c->o->policy->volume_snapshot_class;
    size_t i;
    int rc = 0;

    for (i = 0; i < c->n_pvcs && rc == 0; i++) {
        struct cap_pvc *p = &c->pvcs[i];
        char lv[64];
        cJSON *o = cJSON_CreateObject();
        cJSON *md = cJSON_AddObjectToObject(o, "metadata");
        cJSON *labels = cJSON_AddObjectToObject(md, "labels");
        cJSON *spec = cJSON_AddObjectToObject(o, "spec");
        cJSON *src = cJSON_AddObjectToObject(spec, "source");
        bool ok;

        snapshot_name(c->m->id, p->name, p->snapshot, sizeof(p->snapshot));
        label_value(p->name, lv, sizeof(lv));
        ok = o != NULL && md != NULL && labels != NULL && spec != NULL && src != NULL &&
             cJSON_AddStringToObject(o, "apiVersion", "snapshot.storage.k8s.io/v1") &&
             cJSON_AddStringToObject(o, "kind", "VolumeSnapshot") &&
             cJSON_AddStringToObject(md, "name", p->snapshot) &&
             cJSON_AddStringToObject(md, "namespace", c->o->namespace_) &&
             cJSON_AddStringToObject(labels, BACKUP_LABEL_RP, c->m->id) &&
             cJSON_AddStringToObject(labels, BACKUP_LABEL_PVC, lv) &&
             cJSON_AddStringToObject(src, "persistentVolumeClaimName", p->name) &&
             (cls == NULL || cls[0] == '\0' ||
              cJSON_AddStringToObject(spec, "volumeSnapshotClassName", cls));
        if (!ok)
            rc = cm_err_set(c->err, CM_ENOMEM, "capture: out of memory");
        else
            rc = kube_create(kube, &ref, o, NULL, c->err);
        if (rc == 0)
            p->created = true;
        else if (rc != CM_ENOMEM)
            cm_err_prefix(c->err, "VolumeSnapshot for PVC %s/%s", c->o->namespace_, p->name);
        cJSON_Delete(o);
    }
    return rc;
}

static void delete_snapshots(struct cap *c, struct kube_client *kube)
{
    struct kube_ref ref = {"snapshot.storage.k8s.io/v1", "volumesnapshots", c->o->namespace_, NULL};
    struct cm_err e;
    size_t i;

    for (i = 0; i < c->n_pvcs; i++) {
        if (!c->pvcs[i].created)
            continue;
        ref.name = c->pvcs[i].snapshot;
        if (kube_delete(kube, &ref, NULL, &e) != 0 && e.code != CM_ENOENT)
            cm_log(CM_LOG_WARN, "backup", "could not delete the snapshot of a failed capture",
                   CM_LS("ns", c->o->namespace_), CM_LS("name", ref.name), CM_LS("err", e.msg));
    }
}

static int wait_snapshots(struct cap *c, struct kube_client *kube)
{
    struct kube_ref ref = {"snapshot.storage.k8s.io/v1", "volumesnapshots", c->o->namespace_, NULL};
    uint64_t timeout = c->o->snapshot_timeout_ms ? c->o->snapshot_timeout_ms : 600000;
    uint64_t poll = c->o->snapshot_poll_ms ? c->o->snapshot_poll_ms : 1000;
    uint64_t waited = 0;
    size_t i;
    int rc;

    for (i = 0; i < c->n_pvcs; i++) {
        struct cap_pvc *p = &c->pvcs[i];
        uint64_t start = cm_time_mono_ns();

        ref.name = p->snapshot;
        for (;;) {
            cJSON *vs = NULL;
            const cJSON *st;
            const cJSON *e;
            struct backup_mf_snapshot ms;

            rc = kube_get(kube, &ref, &vs, c->err);
            if (rc != 0) {
                cm_err_prefix(c->err, "snapshot of PVC %s", p->name);
                return rc;
            }
            st = cJSON_GetObjectItemCaseSensitive(vs, "status");
            e = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(st, "error"),
                                                 "message");
            if (cJSON_IsString(e)) {
                rc = cm_err_set(c->err, CM_EIO, "snapshot of PVC %s/%s failed: %s",
                                c->o->namespace_, p->name, e->valuestring);
                cJSON_Delete(vs);
                return rc;
            }
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "readyToUse"))) {
                const cJSON *content =
                    cJSON_GetObjectItemCaseSensitive(st, "boundVolumeSnapshotContentName");
                const cJSON *size = cJSON_GetObjectItemCaseSensitive(st, "restoreSize");

                memset(&ms, 0, sizeof(ms));
                ms.pvc = p->name;
                ms.volume_snapshot = p->snapshot;
                ms.volume_snapshot_class = (char *)(spec_str(vs, "volumeSnapshotClassName")
                                                        ? spec_str(vs, "volumeSnapshotClassName")
                                                        : c->o->policy->volume_snapshot_class);
                ms.volume_snapshot_content =
                    cJSON_IsString(content) ? content->valuestring : (char *)"";
                ms.restore_size = cJSON_IsString(size) ? size->valuestring : (char *)"";
                ms.storage_class = p->storage_class;
                ms.volume_name = p->volume_name;
                rc = backup_manifest_add_snapshot(c->m, &ms);
                cJSON_Delete(vs);
                if (rc != 0)
                    return cm_err_set(c->err, rc, "capture: manifest: %s", cm_strerror(rc));
                break;
            }
            cJSON_Delete(vs);
            /* Wall time when sleeping for real; the sum of requested sleeps when a
             * test injects the sleep. Either way the deadline is bounded. */
            if ((c->o->sleep == NULL && (cm_time_mono_ns() - start) / 1000000u >= timeout) ||
                (c->o->sleep != NULL && waited >= timeout))
                return cm_err_set(c->err, CM_ETIMEDOUT,
                                  "snapshot of PVC %s/%s not readyToUse after %llu ms",
                                  c->o->namespace_, p->name, (unsigned long long)timeout);
            do_sleep(c->o, poll);
            waited += poll;
        }
    }
    return 0;
}

/* GETs one cluster-scoped object and archives it; absent objects are logged. */
static int add_cluster(struct cap *c, struct kube_client *kube, const struct kube_discovery *d,
                       const char *group, const char *plural, const char *name)
{
    const struct kube_resource *r = kube_discovery_find(d, group, plural);
    struct kube_ref ref;
    struct cm_buf body;
    struct kube_jt t;
    char path[300];
    int rc;

    if (r == NULL || name == NULL || name[0] == '\0')
        return 0;
    if (backup_strip_path(true, r->group, r->version, r->plural, name, path, sizeof(path)) == 0 &&
        backup_manifest_find(c->m, path) != NULL)
        return 0; /* already captured (two PVCs, one StorageClass) */
    kube_resource_ref(r, NULL, name, &ref);
    kube_jt_init(&t);
    rc = kube_get_raw(kube, &ref, &body, &t, c->err);
    if (rc == CM_ENOENT) {
        cm_log(CM_LOG_WARN, "backup", "a cluster-scoped dependency is absent",
               CM_LS("ns", c->o->namespace_), CM_LS("kind", r->kind), CM_LS("name", name));
        rc = 0;
    } else if (rc == 0) {
        rc = add_object(c, r, &t, 0, NULL);
    }
    kube_jt_free(&t);
    cm_buf_free(&body);
    return rc;
}

static int capture_cluster(struct cap *c, struct kube_client *kube, const struct kube_discovery *d)
{
    size_t i;
    int rc = add_cluster(c, kube, d, "", "namespaces", c->o->namespace_);

    for (i = 0; rc == 0 && i < c->n_pvcs; i++) {
        struct cap_pvc *p = &c->pvcs[i];

        if (p->volume_name[0] != '\0') {
            struct kube_ref ref = {"v1", "persistentvolumes", NULL, p->volume_name};
            cJSON *pv = NULL;

            rc = add_cluster(c, kube, d, "", "persistentvolumes", p->volume_name);
            if (rc == 0 && kube_get(kube, &ref, &pv, c->err) == 0) {
                const char *sc = spec_str(pv, "storageClassName");

                if (sc != NULL && p->storage_class[0] == '\0')
                    copy_name(p->storage_class, sizeof(p->storage_class), sc);
                if (sc != NULL)
                    rc = add_cluster(c, kube, d, "storage.k8s.io", "storageclasses", sc);
            }
            cJSON_Delete(pv);
        }
        if (rc == 0)
            rc = add_cluster(c, kube, d, "storage.k8s.io", "storageclasses", p->storage_class);
    }
    for (i = 0; rc == 0 && i < c->n_crd; i++)
        rc =
            add_cluster(c, kube, d, "apiextensions.k8s.io", "customresourcedefinitions", c->crd[i]);
    return rc;
}

static int capture_namespace(struct cap *c, struct kube_client *kube,
                             const struct kube_discovery *d)
{
    size_t i;
    size_t n = kube_discovery_count(d);
    int rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        const struct kube_resource *r = kube_discovery_get(d, i);
        struct kube_list_opts lo;
        struct kube_ref ref;

        if (!r->namespaced || (r->verbs & KUBE_VERB_LIST) == 0 ||
            backup_strip_skip_type(r->group, r->plural))
            continue;
        memset(&lo, 0, sizeof(lo));
        lo.on_restart = on_restart;
        kube_resource_ref(r, c->o->namespace_, NULL, &ref);
        c->cur = r;
        c->restarted = false;
        rc = kube_list_raw(kube, &ref, &lo, on_item, c, NULL, c->err);
        if (rc == CM_EAUTH && c->err != NULL && strncmp(c->err->msg, "forbidden", 9) == 0) {
            /* RBAC that does not grant this type (e.g. a least-privilege chart without
             * Secrets or custom resources): skip it, loudly, and say so in the manifest.
             * 401 (bad credentials) is not skipped: it would skip everything. */
            char type[2 * KUBE_MAX_NAME + 2];

            (void)snprintf(type, sizeof(type), "%s%s%s", r->plural, r->group[0] ? "." : "",
                           r->group);
            cm_log(CM_LOG_WARN, "backup", "resource type forbidden: not captured",
                   CM_LS("ns", c->o->namespace_), CM_LS("resource", type),
                   CM_LS("err", c->err->msg));
            rc = backup_manifest_add_skipped(c->m, type);
            if (rc != 0)
                rc = cm_err_set(c->err, rc, "capture: manifest: %s", cm_strerror(rc));
            continue;
        }
        if (rc == CM_ENOENT || rc == CM_EUNSUPPORTED) {
            /* The type went away between discovery and list (a CRD deleted). */
            cm_log(CM_LOG_WARN, "backup", "resource type vanished during capture",
                   CM_LS("ns", c->o->namespace_), CM_LS("kind", r->kind));
            rc = 0;
        }
    }
    return rc;
}

static enum s3_lock_mode lock_of(const struct policy_backup *p)
{
    if (p->lock_mode == POLICY_LOCK_COMPLIANCE)
        return S3_LOCK_COMPLIANCE;
    if (p->lock_mode == POLICY_LOCK_GOVERNANCE)
        return S3_LOCK_GOVERNANCE;
    return S3_LOCK_NONE;
}

static int put_manifest(struct cap *c, const struct s3_put_opts *po, char *key, size_t keylen)
{
    struct cm_buf b;
    int rc;

    rc = backup_rp_key(c->o->prefix, c->o->namespace_, c->m->id, BACKUP_MANIFEST_NAME, key, keylen,
                       c->err);
    if (rc != 0)
        return rc;
    cm_buf_init(&b, BACKUP_MANIFEST_MAX);
    rc = backup_manifest_format(c->m, &b);
    if (rc != 0) {
        cm_buf_free(&b);
        return cm_err_set(c->err, rc, "manifest: %s", cm_strerror(rc));
    }
    rc = s3_client_put_object(c->o->s3, key, b.ptr, b.len, po, NULL, c->err);
    cm_buf_free(&b);
    return rc;
}

int backup_capture_run(const struct backup_capture_opts *o, struct backup_capture_result *out,
                       struct cm_err *err)
{
    struct cap c;
    struct kube_discovery *d = NULL;
    struct s3_put_opts po;
    struct s3_put_result pr;
    struct kube_list_opts lo;
    struct kube_ref pvc_ref = {"v1", "persistentvolumeclaims", NULL, NULL};
    char id[BACKUP_ID_LEN + 1];
    char key[BACKUP_KEY_MAX + 1];
    char mkey[BACKUP_KEY_MAX + 1];
    uint64_t t0 = cm_time_mono_ns();
    uint64_t t_setup = t0, t_objects = t0, t_close = t0, t_snap = t0;
    time_t now;
    int rc;

    memset(&c, 0, sizeof(c));
    if (o == NULL || o->policy == NULL || o->namespace_ == NULL || o->kube == NULL || o->s3 == NULL)
        return cm_err_set(err, CM_EINVAL, "capture: missing policy, namespace or clients");
    if (!backup_ns_valid(o->namespace_, strlen(o->namespace_)))
        return cm_err_set(err, CM_EINVAL, "capture: invalid namespace \"%s\"", o->namespace_);
    c.o = o;
    c.err = err;
    now = o->now != 0 ? o->now : (time_t)(cm_time_now_ms() / 1000);
    if (backup_rp_id_new(now, id, sizeof(id)) != 0)
        return cm_err_set(err, CM_EIO, "capture: no randomness for the restore point id");
    rc = backup_manifest_create(id, o->namespace_, o->policy->name, &c.m);
    if (rc != 0)
        return cm_err_set(err, rc, "capture: %s", cm_strerror(rc));
    if (pthread_mutex_init(&c.pf_mu, NULL) != 0) {
        backup_manifest_destroy(c.m);
        return cm_err_set(err, CM_ENOMEM, "capture: out of memory");
    }
    /* From here on every exit goes through cleanup, which waits for the preflight. */
    preflight_start(&c);
    c.pvcs = cm_calloc(64, sizeof(*c.pvcs));
    c.cap_pvcs = 64;
    c.crd = cm_calloc(CAP_MAX_GROUPS, sizeof(*c.crd));
    if (c.pvcs == NULL || c.crd == NULL ||
        backup_manifest_set_str(&c.m->tool_version, o->tool_version ? o->tool_version : "") != 0) {
        rc = cm_err_set(err, CM_ENOMEM, "capture: out of memory");
        goto cleanup;
    }
    memset(&po, 0, sizeof(po));
    po.lock_mode = lock_of(o->policy);
    if (po.lock_mode != S3_LOCK_NONE) {
        po.retain_until = now + (time_t)o->policy->lock_days * 86400;
        memcpy(c.m->lock_mode, s3_lock_mode_name(po.lock_mode),
               strlen(s3_lock_mode_name(po.lock_mode)) + 1);
        c.m->retain_until = po.retain_until;
    }
    cm_log(CM_LOG_INFO, "backup", "capture started", CM_LS("ns", o->namespace_),
           CM_LS("policy", o->policy->name), CM_LS("id", id));
    /* 1. PVCs and their snapshots first, so volumes and objects are close in time. */
    memset(&lo, 0, sizeof(lo));
    pvc_ref.namespace_ = o->namespace_;
    rc = kube_list(o->kube, &pvc_ref, &lo, on_pvc, NULL, &c, NULL, err);
    if (rc == 0 && c.n_pvcs > 0)
        rc = preflight_wait(&c, err); /* refuse before creating anything */
    if (rc != 0)
        goto cleanup;
    rc = create_snapshots(&c, o->kube);
    if (rc != 0)
        goto cleanup;
    /* 2. Resources, streamed. */
    rc = kube_discover(o->kube, &d, err);
    if (rc != 0)
        goto cleanup;
    rc = backup_rp_key(o->prefix, o->namespace_, id,
                       o->key ? BACKUP_ARCHIVE_NAME_ENC : BACKUP_ARCHIVE_NAME, key, sizeof(key),
                       err);
    if (rc == 0)
        rc = backup_manifest_set_str(&c.m->archive_key,
                                     o->key ? BACKUP_ARCHIVE_NAME_ENC : BACKUP_ARCHIVE_NAME);
    if (rc == 0) {
        po.content_type = o->key ? "application/octet-stream" : "application/zstd";
        rc = s3_upload_open(o->s3, key, &po, &c.up, err);
    }
    if (rc == 0)
        rc = backup_archive_writer_create(upload_sink, &c, o->key, now, &c.w, err);
    if (rc == 0)
        rc = backup_pipe_start(c.w, &c.pipe, err);
    if (rc != 0)
        goto cleanup;
    t_setup = cm_time_mono_ns();
    rc = capture_namespace(&c, o->kube, d);
    if (rc == 0)
        rc = capture_cluster(&c, o->kube, d);
    if (rc == 0) {
        /* Joins the worker: the writer and the upload are this thread's again. */
        rc = backup_pipe_finish(c.pipe, err);
        c.pipe = NULL;
    }
    if (rc == 0)
        rc = backup_archive_writer_finish(c.w, err);
    if (rc == 0)
        rc = preflight_wait(&c, err); /* passed already: the sink saw bytes */
    if (rc != 0)
        goto cleanup;
    t_objects = cm_time_mono_ns();
    memset(&pr, 0, sizeof(pr));
    rc = s3_upload_close(c.up, &pr, err);
    c.up = NULL;
    if (rc != 0)
        goto cleanup;
    if (pr.size != backup_archive_writer_bytes(c.w) ||
        strcmp(pr.sha256_hex, backup_archive_writer_sha256(c.w)) != 0) {
        rc = cm_err_set(err, CM_EINTEGRITY, "archive %s: uploaded bytes differ from written", key);
        goto cleanup;
    }
    /* 3. Snapshots must be ready before the point can claim to be complete. Until the
     * manifest exists the (locked) archive is only a partial point. */
    t_close = cm_time_mono_ns();
    rc = wait_snapshots(&c, o->kube);
    if (rc != 0)
        goto cleanup;
    t_snap = cm_time_mono_ns();
    c.m->archive_size = pr.size;
    memcpy(c.m->archive_sha256, pr.sha256_hex, 65);
    memcpy(c.m->archive_version, pr.version_id, sizeof(c.m->archive_version));
    if (o->key != NULL)
        memcpy(c.m->key_id, o->key->id, sizeof(c.m->key_id));
    c.m->completed_at = (time_t)(cm_time_now_ms() / 1000);
    if (c.m->completed_at < now)
        c.m->completed_at = now;
    po.content_type = "application/json";
    /* 4. The manifest, last: from here on the point is complete. */
    rc = put_manifest(&c, &po, mkey, sizeof(mkey));
    if (rc != 0)
        goto cleanup;
    if (out != NULL) {
        memset(out, 0, sizeof(*out));
        memcpy(out->id, id, sizeof(id));
        memcpy(out->manifest_key, mkey, sizeof(out->manifest_key));
        out->resources = c.m->n_resources;
        out->snapshots = c.m->n_snapshots;
        out->skipped = c.m->n_skipped;
        out->archive_bytes = pr.size;
        out->seconds = (double)(cm_time_mono_ns() - t0) / 1e9;
    }
    cm_log(CM_LOG_INFO, "backup", "capture complete", CM_LS("ns", o->namespace_),
           CM_LS("policy", o->policy->name), CM_LS("id", id), CM_LI("resources", c.m->n_resources),
           CM_LI("snapshots", c.m->n_snapshots), CM_LI("bytes", pr.size),
           CM_LI("setup_ms", (t_setup - t0) / 1000000u),
           CM_LI("objects_ms", (t_objects - t_setup) / 1000000u),
           CM_LI("close_ms", (t_close - t_objects) / 1000000u),
           CM_LI("snapshots_ms", (t_snap - t_close) / 1000000u),
           CM_LI("duration_ms", (cm_time_mono_ns() - t0) / 1000000u));
cleanup:
    /* Stop the worker before anything it uses (writer, upload) goes away, and the
     * preflight before the S3 client is used here again. */
    backup_pipe_abort(c.pipe);
    c.pipe = NULL;
    (void)preflight_wait(&c, NULL);
    if (rc != 0) {
        s3_upload_abort(c.up);
        c.up = NULL;
        delete_snapshots(&c, o->kube);
        cm_log(CM_LOG_ERROR, "backup", "capture failed", CM_LS("ns", o->namespace_),
               CM_LS("policy", o->policy->name), CM_LS("id", id),
               CM_LS("err", err ? err->msg : ""));
    }
    backup_archive_writer_destroy(c.w);
    kube_discovery_destroy(d);
    backup_manifest_destroy(c.m);
    cm_free(c.pvcs);
    cm_free(c.crd);
    pthread_mutex_destroy(&c.pf_mu);
    return rc;
}
