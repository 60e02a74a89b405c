/* SPDX-License-Identifier: Apache-2.0 */
/* wh_load.c - concurrent AdmissionReview load for robustness tests. */
#include "tests/support/wh_load.h"
#include "tests/support/proc.h"
#include "tests/support/tls_client.h"

#include <stdio.h>
#include <string.h>

static void note_failure(struct wht_load *l, const char *why)
{
    atomic_fetch_add(&l->failed, 1);
    pthread_mutex_lock(&l->mu);
    if (l->first_error[0] == '\0')
        (void)snprintf(l->first_error, sizeof(l->first_error), "%.250s", why);
    pthread_mutex_unlock(&l->mu);
}

static void *worker(void *p)
{
    struct wht_load_arg *arg = p;
    struct wht_load *l = arg->l;
    bool fresh = arg->fresh;
    struct tls_client *c = NULL;
    struct tls_response r;
    char uid_field[300];
    unsigned long i;

    if (tls_client_create(l->ca, 10000, &c) != 0) {
        note_failure(l, "cannot create a client");
        return NULL;
    }
    tls_client_set_fresh(c, fresh);
    tls_response_init(&r);
    (void)snprintf(uid_field, sizeof(uid_field), "\"uid\":\"%s\"", l->uid);
    for (i = 0; i < l->max_requests && !atomic_load(&l->stop); i++) {
        if (tls_client_post_review(c, l->url, l->body, l->len, &r) != 0) {
            char why[300];

            (void)snprintf(why, sizeof(why), "request failed: %s", r.error);
            note_failure(l, why);
            continue;
        }
        if (r.status != 200 || r.body.ptr == NULL || strstr(r.body.ptr, uid_field) == NULL) {
            char why[300];

            (void)snprintf(why, sizeof(why), "HTTP %ld: %.200s", r.status,
                           r.body.ptr != NULL ? r.body.ptr : "");
            note_failure(l, why);
            continue;
        }
        atomic_fetch_add(&l->ok, 1);
        if (strstr(r.body.ptr, "\"allowed\":true") != NULL)
            atomic_fetch_add(&l->allowed, 1);
        else
            atomic_fetch_add(&l->denied, 1);
    }
    tls_response_cleanup(&r);
    tls_client_destroy(c);
    return NULL;
}

int wht_load_start(struct wht_load *l, size_t threads, size_t fresh_threads, const char *url,
                   const char *ca, const char *body, size_t len, const char *uid)
{
    size_t i;

    memset(l, 0, sizeof(*l));
    if (threads > WHT_LOAD_MAX_THREADS)
        threads = WHT_LOAD_MAX_THREADS;
    if (pthread_mutex_init(&l->mu, NULL) != 0)
        return CM_ENOMEM;
    (void)snprintf(l->url, sizeof(l->url), "%s", url);
    (void)snprintf(l->ca, sizeof(l->ca), "%s", ca);
    l->body = body;
    l->len = len;
    l->uid = uid;
    l->fresh_threads = fresh_threads;
    l->max_requests = 200000;
    atomic_init(&l->stop, false);
    for (i = 0; i < threads; i++) {
        l->args[i].l = l;
        l->args[i].fresh = i < fresh_threads;
        if (pthread_create(&l->threads[i], NULL, worker, &l->args[i]) != 0)
            break;
        l->n_threads++;
    }
    return l->n_threads == threads ? 0 : CM_ENOMEM;
}

int wht_load_wait_progress(struct wht_load *l, unsigned long n, int timeout_ms)
{
    unsigned long start = atomic_load(&l->ok) + atomic_load(&l->failed);
    uint64_t deadline = cm_time_mono_ns() + (uint64_t)timeout_ms * 1000000u;

    while (atomic_load(&l->ok) + atomic_load(&l->failed) < start + n) {
        if (cm_time_mono_ns() > deadline)
            return CM_ETIMEDOUT;
        proc_nap_ms(5);
    }
    return 0;
}

void wht_load_stop(struct wht_load *l)
{
    size_t i;

    atomic_store(&l->stop, true);
    for (i = 0; i < l->n_threads; i++)
        pthread_join(l->threads[i], NULL);
    pthread_mutex_destroy(&l->mu);
}
