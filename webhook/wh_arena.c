/* SPDX-License-Identifier: Apache-2.0 */
/* wh_arena.c - the per-request arena: bump allocation from an inline chunk and then
 * from heap chunks, plus cleanups for third-party objects, all freed at once when
 * libmicrohttpd reports the request completed. */
#include "webhook/wh_int.h"

#include <string.h>

struct wh_arena_chunk {
    struct wh_arena_chunk *next;
    size_t size;
    size_t used;
    _Alignas(16) unsigned char data[];
};

void wh_arena_init(struct wh_arena *a, size_t limit)
{
    a->used_ = 0;
    a->limit_ = limit;
    a->total_ = 0;
    a->chunks_ = NULL;
    a->cleanups_ = NULL;
}

static size_t align16(size_t n)
{
    return (n + 15u) & ~(size_t)15u;
}

void *wh_arena_alloc(struct wh_arena *a, size_t n)
{
    struct wh_arena_chunk *c;
    size_t need = align16(n == 0 ? 1 : n);
    size_t size;

    if (need < n || a->total_ + need > a->limit_ || a->total_ + need < a->total_)
        return NULL;
    if (a->chunks_ == NULL && a->used_ + need <= sizeof(a->inline_)) {
        void *p = a->inline_ + a->used_;

        a->used_ += need;
        a->total_ += need;
        return p;
    }
    c = a->chunks_;
    if (c == NULL || c->used + need > c->size) {
        size = need > 32768 ? need : 32768;
        c = cm_malloc(sizeof(*c) + size);
        if (c == NULL)
            return NULL;
        c->size = size;
        c->used = 0;
        c->next = a->chunks_;
        a->chunks_ = c;
    }
    a->total_ += need;
    c->used += need;
    return c->data + c->used - need;
}

int wh_arena_add_cleanup(struct wh_arena *a, wh_cleanup_fn fn, void *p)
{
    struct wh_arena_cleanup *cl = wh_arena_alloc(a, sizeof(*cl));

    if (cl == NULL) {
        fn(p);
        return CM_ENOMEM;
    }
    cl->fn = fn;
    cl->p = p;
    cl->next = a->cleanups_;
    a->cleanups_ = cl;
    return 0;
}

void wh_arena_cleanup(struct wh_arena *a)
{
    struct wh_arena_cleanup *cl = a->cleanups_;
    struct wh_arena_chunk *c = a->chunks_;

    while (cl != NULL) {
        struct wh_arena_cleanup *next = cl->next;

        cl->fn(cl->p);
        cl = next;
    }
    while (c != NULL) {
        struct wh_arena_chunk *next = c->next;

        cm_free(c);
        c = next;
    }
    a->cleanups_ = NULL;
    a->chunks_ = NULL;
    a->used_ = 0;
    a->total_ = 0;
}
