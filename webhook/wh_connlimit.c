/* SPDX-License-Identifier: Apache-2.0 */
/* wh_connlimit.c - connection limits shared by every libmicrohttpd daemon of the server
 * (all clients together, and per client address), so that they hold whatever the
 * accept mode: with one SO_REUSEPORT daemon per thread, libmicrohttpd's own limits
 * would only count each daemon's share. */
#include "webhook/wh_int.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

struct wh_connlimit_node {
    unsigned char key[17]; /* family tag + address bytes */
    unsigned count;
    struct wh_connlimit_node *next;
};

/* The address part of sa as a key; false for other families. */
static bool addr_key(const struct sockaddr *sa, unsigned char key[17])
{
    memset(key, 0, 17);
    if (sa == NULL)
        return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)sa;

        key[0] = 4;
        memcpy(key + 1, &a->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)sa;

        key[0] = 6;
        memcpy(key + 1, &a->sin6_addr, 16);
        return true;
    }
    return false;
}

static size_t bucket_of(const struct wh_connlimit *l, const unsigned char key[17])
{
    return (size_t)(wh_fnv1a(WH_FNV_INIT, key, 17) & (uint64_t)(l->n_buckets - 1));
}

int wh_connlimit_init(struct wh_connlimit *l, unsigned max_total, unsigned max_per_ip)
{
    size_t n = 64;

    memset(l, 0, sizeof(*l));
    while (n < max_total && n < (1u << 16))
        n <<= 1;
    l->buckets = cm_calloc(n, sizeof(*l->buckets));
    if (l->buckets == NULL)
        return CM_ENOMEM;
    if (pthread_mutex_init(&l->mu, NULL) != 0) {
        cm_free(l->buckets);
        l->buckets = NULL;
        return CM_ENOMEM;
    }
    l->n_buckets = n;
    l->max_total = max_total;
    l->max_per_ip = max_per_ip;
    return 0;
}

void wh_connlimit_cleanup(struct wh_connlimit *l)
{
    size_t i;

    if (l->buckets == NULL)
        return;
    for (i = 0; i < l->n_buckets; i++) {
        struct wh_connlimit_node *n = l->buckets[i];

        while (n != NULL) {
            struct wh_connlimit_node *next = n->next;

            cm_free(n);
            n = next;
        }
    }
    cm_free(l->buckets);
    l->buckets = NULL;
    pthread_mutex_destroy(&l->mu);
}

bool wh_connlimit_allows(struct wh_connlimit *l, const struct sockaddr *sa)
{
    unsigned char key[17];
    const struct wh_connlimit_node *n;
    bool ok;

    pthread_mutex_lock(&l->mu);
    ok = l->total < l->max_total;
    if (ok && addr_key(sa, key)) {
        for (n = l->buckets[bucket_of(l, key)]; n != NULL; n = n->next) {
            if (memcmp(n->key, key, sizeof(key)) == 0) {
                ok = n->count < l->max_per_ip;
                break;
            }
        }
    }
    pthread_mutex_unlock(&l->mu);
    return ok;
}

void wh_connlimit_add(struct wh_connlimit *l, const struct sockaddr *sa)
{
    unsigned char key[17];
    struct wh_connlimit_node *n;
    size_t b;

    pthread_mutex_lock(&l->mu);
    l->total++;
    if (addr_key(sa, key)) {
        b = bucket_of(l, key);
        for (n = l->buckets[b]; n != NULL; n = n->next) {
            if (memcmp(n->key, key, sizeof(key)) == 0)
                break;
        }
        if (n == NULL) {
            /* Out of memory: this address goes uncounted (the total still holds). */
            n = cm_calloc(1, sizeof(*n));
            if (n != NULL) {
                memcpy(n->key, key, sizeof(key));
                n->next = l->buckets[b];
                l->buckets[b] = n;
            }
        }
        if (n != NULL)
            n->count++;
    }
    pthread_mutex_unlock(&l->mu);
}

void wh_connlimit_remove(struct wh_connlimit *l, const struct sockaddr *sa)
{
    unsigned char key[17];
    struct wh_connlimit_node **pp;

    pthread_mutex_lock(&l->mu);
    if (CM_ALWAYS(l->total > 0))
        l->total--;
    if (addr_key(sa, key)) {
        for (pp = &l->buckets[bucket_of(l, key)]; *pp != NULL; pp = &(*pp)->next) {
            struct wh_connlimit_node *n = *pp;

            if (memcmp(n->key, key, sizeof(key)) != 0)
                continue;
            if (--n->count == 0) {
                *pp = n->next;
                cm_free(n);
            }
            break;
        }
    }
    pthread_mutex_unlock(&l->mu);
}
