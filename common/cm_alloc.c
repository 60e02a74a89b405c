/* SPDX-License-Identifier: Apache-2.0 */
/* cm_alloc.c - allocation wrappers with a fault injector for out-of-memory tests. */
#include "cm.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Countdown to the injected failure: 0 = off. Relaxed is enough: tests arm it
 * before they start threads. */
static _Atomic long fault_countdown;
static _Atomic bool fault_fired;

void cm_alloc_fault_set(long n)
{
    atomic_store(&fault_countdown, n > 0 ? n : 0);
    atomic_store(&fault_fired, false);
}

bool cm_alloc_fault_fired(void)
{
    return atomic_load(&fault_fired);
}

static bool fault_now(void)
{
    long c = atomic_load_explicit(&fault_countdown, memory_order_relaxed);

    if (c == 0)
        return false;
    c = atomic_fetch_sub(&fault_countdown, 1);
    if (c == 1) {
        atomic_store(&fault_fired, true);
        return true;
    }
    if (c <= 0)
        atomic_store(&fault_countdown, 0);
    return false;
}

void *cm_malloc(size_t n)
{
    if (fault_now())
        return NULL;
    return malloc(n ? n : 1);
}

void *cm_calloc(size_t nmemb, size_t size)
{
    if (fault_now())
        return NULL;
    if (nmemb == 0 || size == 0)
        return calloc(1, 1);
    return calloc(nmemb, size);
}

void *cm_realloc(void *p, size_t n)
{
    if (fault_now())
        return NULL;
    return realloc(p, n ? n : 1);
}

void cm_free(void *p)
{
    free(p);
}

char *cm_strndup(const char *s, size_t n)
{
    char *d = cm_malloc(n + 1);

    if (d == NULL)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *cm_strdup(const char *s)
{
    return cm_strndup(s, strlen(s));
}

void cm_memzero_secure(void *p, size_t n)
{
    /* A volatile function pointer keeps the compiler from dropping the wipe. */
    static void *(*const volatile wipe)(void *, int, size_t) = memset;

    if (p != NULL && n > 0)
        (void)wipe(p, 0, n);
}

void cm_free_secure(void *p, size_t n)
{
    cm_memzero_secure(p, n);
    free(p);
}
