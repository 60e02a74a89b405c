/* SPDX-License-Identifier: Apache-2.0 */
/* backup_queue.h - a bounded blocking queue that hands messages from one producer
 * thread to one consumer thread (internal to backup/; not part of backup.h).
 *
 * Design note
 * - Messages own their payload (STYLE section 6, h2o multithread.h): a successful push
 *   moves the message into the queue, a successful pop moves it to the consumer.
 *   Whatever is still queued when the queue is canceled or destroyed is freed with the
 *   free function given at create, so no path leaks a message.
 * - Bounds: at most max_msgs messages and max_bytes bytes (the sizes the producer
 *   declares) are queued; a push blocks while either bound would be passed. A message
 *   larger than max_bytes is still accepted into an empty queue, so memory is bounded
 *   by max_bytes plus one message.
 * - Ending: the producer calls close() after its last push; pop() then drains what is
 *   queued and returns CM_ENOENT. Either side calls cancel() to give up: blocked and
 *   later push/pop calls return CM_ECANCELED at once and queued messages are freed.
 * - Threads: every call but create/destroy is thread-safe; destroy only after both
 *   sides stopped using the queue (threads joined). One mutex, two condition
 *   variables; no allocation after create, so push and pop cannot fail for memory. */
#ifndef BACKUP_BACKUP_QUEUE_H
#define BACKUP_BACKUP_QUEUE_H

#include "common/cm.h"

#include <stddef.h>

struct backup_queue;

/* Frees one message (the queue's cleanup of what was never popped). */
typedef void (*backup_queue_free_fn)(void *msg);

/* Creates a queue for at most max_msgs (>= 1) messages and max_bytes (>= 1) bytes.
 * free_fn may be NULL when messages need no freeing. Returns 0, CM_EINVAL (a zero
 * bound) or CM_ENOMEM; *out untouched on failure. */
CM_NODISCARD int backup_queue_create(size_t max_msgs, size_t max_bytes,
                                     backup_queue_free_fn free_fn, struct backup_queue **out);
/* Frees the queue and, with free_fn, every message still in it. NULL-safe. Call only
 * when no thread uses the queue any more. */
void backup_queue_destroy(struct backup_queue *q);

/* Appends msg (bytes: its size for the byte bound), blocking while the queue is full.
 * Returns 0 (msg now belongs to the queue), CM_ECANCELED (canceled; msg is still the
 * caller's) or CM_EINVAL (after close, or msg NULL; msg still the caller's). */
CM_NODISCARD int backup_queue_push(struct backup_queue *q, void *msg, size_t bytes);
/* Takes the oldest message into *out, blocking while the queue is empty and open.
 * Returns 0 (*out belongs to the caller), CM_ENOENT (closed and drained) or
 * CM_ECANCELED; *out is NULL on failure. */
CM_NODISCARD int backup_queue_pop(struct backup_queue *q, void **out);
/* The producer is done: pop drains the queue, then returns CM_ENOENT. Idempotent. */
void backup_queue_close(struct backup_queue *q);
/* Gives up: frees queued messages, wakes every waiter; from now on push and pop return
 * CM_ECANCELED. Idempotent; may be called from either side. */
void backup_queue_cancel(struct backup_queue *q);

#endif /* BACKUP_BACKUP_QUEUE_H */
