/* SPDX-License-Identifier: Apache-2.0 */
/* backup_pipe.h - the capture's archive pipeline (internal to backup/): the capture
 * thread lists, strips and serialises objects while a worker thread turns them into
 * the archive (tar framing, deflate, SHA-256 of the stored bytes, the upload sink and
 * its multipart parts), so compression and uploading overlap listing.
 *
 * Design note
 * - One producer (the capture thread) and one consumer (the worker), connected by a
 *   backup_queue of entry messages. Each message owns its path and JSON; the worker
 *   frees it once added, the queue frees what is never popped.
 * - While the pipe runs, the worker is the only user of the archive writer and, through
 *   its sink, of the S3 upload and client; the capture thread may use them again once
 *   backup_pipe_finish() or backup_pipe_abort() returned (the thread is joined).
 * - Memory: the queue holds at most BACKUP_PIPE_MAX_BYTES of JSON (plus one entry).
 * - Errors: the worker's first error cancels the queue; the capture thread's next
 *   backup_pipe_add() (or the finish) joins the worker and returns that error with
 *   its message. Not thread-safe: call from the capture thread only. */
#ifndef BACKUP_BACKUP_PIPE_H
#define BACKUP_BACKUP_PIPE_H

#include "backup/backup.h"

#define BACKUP_PIPE_MAX_MSGS 1024
#define BACKUP_PIPE_MAX_BYTES ((size_t)4 << 20)

struct backup_pipe;

/* Starts the worker for w (borrowed; must outlive the pipe). Returns 0, CM_ENOMEM or
 * CM_EIO (no thread); *out untouched on failure. */
CM_NODISCARD int backup_pipe_start(struct backup_archive_writer *w, struct backup_pipe **out,
                                   struct cm_err *err);
/* Queues one archive entry: path is copied (at most 299 bytes), json (len bytes,
 * cm_malloc-allocated) is taken, also on failure (freed with cm_free). Blocks while
 * the queue is full. Returns 0, CM_ENOMEM, CM_EINVAL (path too long), or the worker's
 * error (the archive writer's or the sink's code) with its message. */
CM_NODISCARD int backup_pipe_add(struct backup_pipe *p, const char *path, char *json, size_t len,
                                 struct cm_err *err);
/* No more entries: waits until the worker added every queued entry, joins it and frees
 * the pipe (p is gone whatever the result). Returns 0 or the worker's error. */
CM_NODISCARD int backup_pipe_finish(struct backup_pipe *p, struct cm_err *err);
/* Gives up: drops queued entries, joins the worker and frees the pipe. NULL-safe. */
void backup_pipe_abort(struct backup_pipe *p);

#endif /* BACKUP_BACKUP_PIPE_H */
