/* SPDX-License-Identifier: Apache-2.0 */
/* wh_snapshot.c - refcounted policy snapshots and loading a policy set from disk. */
#include "webhook/wh_int.h"

#include <string.h>

uint64_t wh_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ull;
    }
    return h;
}

int wh_holder_init(struct wh_holder *h)
{
    h->cur = NULL;
    return pthread_mutex_init(&h->mu, NULL) == 0 ? 0 : CM_ENOMEM;
}

void wh_holder_cleanup(struct wh_holder *h)
{
    wh_snapshot_release(h->cur);
    h->cur = NULL;
    pthread_mutex_destroy(&h->mu);
}

struct wh_snapshot *wh_snapshot_acquire(struct wh_holder *h)
{
    struct wh_snapshot *s;

    /* Read and increment under the lock: a lock-free load-then-increment could race
     * with the swap's final release. */
    pthread_mutex_lock(&h->mu);
    s = h->cur;
    if (s != NULL)
        atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&h->mu);
    return s;
}

void wh_snapshot_release(struct wh_snapshot *s)
{
    if (s == NULL)
        return;
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1) {
        policy_set_destroy(s->set);
        cm_free(s);
    }
}

int wh_holder_swap(struct wh_holder *h, struct policy_set *set, uint64_t digest)
{
    struct wh_snapshot *s = cm_malloc(sizeof(*s));
    struct wh_snapshot *old;

    if (s == NULL) {
        policy_set_destroy(set);
        return CM_ENOMEM;
    }
    s->set = set;
    atomic_init(&s->refs, 1);
    s->digest = digest;
    pthread_mutex_lock(&h->mu);
    old = h->cur;
    s->generation = old != NULL ? old->generation + 1 : 1;
    h->cur = s;
    pthread_mutex_unlock(&h->mu);
    wh_snapshot_release(old);
    return 0;
}

struct load_ctx {
    struct policy_loader *loader; /* NULL: digest only */
    uint64_t digest;
};

static int load_file(const char *path, const char *buf, size_t len, void *ctx, struct cm_err *err)
{
    struct load_ctx *lc = ctx;

    lc->digest = wh_fnv1a(lc->digest, path, strlen(path) + 1);
    lc->digest = wh_fnv1a(lc->digest, &len, sizeof(len));
    lc->digest = wh_fnv1a(lc->digest, buf, len);
    if (lc->loader == NULL)
        return 0;
    return policy_loader_add_file(path, buf, len, lc->loader, err);
}

static int walk(char (*paths)[WH_PATH_MAX], size_t n, struct load_ctx *lc, struct cm_err *err)
{
    const char *ptrs[WH_MAX_POLICY_PATHS];
    size_t i;

    if (n > WH_MAX_POLICY_PATHS)
        return cm_err_set(err, CM_EINVAL, "too many policy paths");
    for (i = 0; i < n; i++)
        ptrs[i] = paths[i];
    return cm_fs_load_tree(ptrs, n, POLICY_MAX_FILE_BYTES, load_file, lc, err);
}

int wh_policies_digest(char (*paths)[WH_PATH_MAX], size_t n, uint64_t *digest, struct cm_err *err)
{
    struct load_ctx lc = {NULL, WH_FNV_INIT};
    int rc = walk(paths, n, &lc, err);

    if (rc == 0)
        *digest = lc.digest;
    return rc;
}

int wh_policies_load(char (*paths)[WH_PATH_MAX], size_t n, struct policy_set **out,
                     uint64_t *digest, struct cm_err *err)
{
    struct load_ctx lc = {NULL, WH_FNV_INIT};
    int rc = policy_loader_create(&lc.loader, err);

    if (rc != 0)
        return rc;
    rc = walk(paths, n, &lc, err);
    if (rc != 0) {
        policy_loader_destroy(lc.loader);
        return rc;
    }
    /* finish destroys the loader whether or not it succeeds. */
    rc = policy_loader_finish(lc.loader, out, err);
    if (rc == 0)
        *digest = lc.digest;
    return rc;
}
