/* SPDX-License-Identifier: Apache-2.0 */
/* backup_queue.c - the bounded producer/consumer queue of backup_queue.h: a ring of
 * message pointers allocated once, one mutex and two condition variables. */
#include "backup/backup_queue.h"

#include <pthread.h>
#include <stdbool.h>

struct backup_queue {
    pthread_mutex_t mu;
    pthread_cond_t not_full;
    pthread_cond_t not_empty;
    backup_queue_free_fn free_fn;
    void **msgs;
    size_t *sizes;
    size_t max_msgs;
    size_t max_bytes;
    size_t head; /* index of the oldest message */
    size_t count;
    size_t bytes;
    bool is_closed;
    bool is_canceled;
};

int backup_queue_create(size_t max_msgs, size_t max_bytes, backup_queue_free_fn free_fn,
                        struct backup_queue **out)
{
    struct backup_queue *q;

    if (max_msgs == 0 || max_bytes == 0 || out == NULL)
        return CM_EINVAL;
    q = cm_calloc(1, sizeof(*q));
    if (q == NULL)
        return CM_ENOMEM;
    q->msgs = cm_calloc(max_msgs, sizeof(*q->msgs));
    q->sizes = cm_calloc(max_msgs, sizeof(*q->sizes));
    if (q->msgs == NULL || q->sizes == NULL) {
        cm_free(q->msgs);
        cm_free(q->sizes);
        cm_free(q);
        return CM_ENOMEM;
    }
    if (pthread_mutex_init(&q->mu, NULL) != 0) {
        cm_free(q->msgs);
        cm_free(q->sizes);
        cm_free(q);
        return CM_ENOMEM;
    }
    if (pthread_cond_init(&q->not_full, NULL) != 0) {
        pthread_mutex_destroy(&q->mu);
        cm_free(q->msgs);
        cm_free(q->sizes);
        cm_free(q);
        return CM_ENOMEM;
    }
    if (pthread_cond_init(&q->not_empty, NULL) != 0) {
        pthread_cond_destroy(&q->not_full);
        pthread_mutex_destroy(&q->mu);
        cm_free(q->msgs);
        cm_free(q->sizes);
        cm_free(q);
        return CM_ENOMEM;
    }
    q->free_fn = free_fn;
    q->max_msgs = max_msgs;
    q->max_bytes = max_bytes;
    *out = q;
    return 0;
}

/* Frees every queued message; mutex held. */
static void drain_locked(struct backup_queue *q)
{
    while (q->count > 0) {
        void *m = q->msgs[q->head];

        q->msgs[q->head] = NULL;
        q->head = (q->head + 1) % q->max_msgs;
        q->count--;
        if (q->free_fn != NULL)
            q->free_fn(m);
    }
    q->bytes = 0;
}

void backup_queue_destroy(struct backup_queue *q)
{
    if (q == NULL)
        return;
    drain_locked(q); /* no other thread by contract */
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    pthread_mutex_destroy(&q->mu);
    cm_free(q->msgs);
    cm_free(q->sizes);
    cm_free(q);
}

int backup_queue_push(struct backup_queue *q, void *msg, size_t bytes)
{
    int rc = 0;

    if (msg == NULL)
        return CM_EINVAL;
    pthread_mutex_lock(&q->mu);
    /* Full: no slot, or the bytes would pass the bound (an empty queue always takes
     * one message, whatever its size). */
    while (!q->is_canceled && !q->is_closed &&
           (q->count == q->max_msgs || (q->count > 0 && bytes > q->max_bytes - q->bytes)))
        pthread_cond_wait(&q->not_full, &q->mu);
    if (q->is_canceled) {
        rc = CM_ECANCELED;
    } else if (q->is_closed) {
        rc = CM_EINVAL;
    } else {
        size_t tail = (q->head + q->count) % q->max_msgs;

        q->msgs[tail] = msg;
        q->sizes[tail] = bytes;
        q->count++;
        /* Saturates for the one oversized message an empty queue accepts. */
        q->bytes = bytes > q->max_bytes - q->bytes ? q->max_bytes : q->bytes + bytes;
        pthread_cond_signal(&q->not_empty);
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int backup_queue_pop(struct backup_queue *q, void **out)
{
    int rc = 0;

    *out = NULL;
    pthread_mutex_lock(&q->mu);
    while (!q->is_canceled && !q->is_closed && q->count == 0)
        pthread_cond_wait(&q->not_empty, &q->mu);
    if (q->is_canceled) {
        rc = CM_ECANCELED;
    } else if (q->count == 0) {
        rc = CM_ENOENT; /* closed and drained */
    } else {
        size_t sz = q->sizes[q->head];

        *out = q->msgs[q->head];
        q->msgs[q->head] = NULL;
        q->head = (q->head + 1) % q->max_msgs;
        q->count--;
        q->bytes = q->count == 0 || sz > q->bytes ? 0 : q->bytes - sz;
        pthread_cond_signal(&q->not_full);
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

void backup_queue_close(struct backup_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->is_closed = true;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->mu);
}

void backup_queue_cancel(struct backup_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->is_canceled = true;
    drain_locked(q);
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->mu);
}
