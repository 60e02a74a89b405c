/* SPDX-License-Identifier: Apache-2.0 */
/* backup_pipe.c - the worker thread that adds queued entries to the archive writer
 * (see backup_pipe.h). */
#include "backup/backup_pipe.h"

#include "backup/backup_queue.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#define PIPE_PATH_MAX 300

struct pipe_msg {
    char *json; /* cm_malloc-allocated */
    size_t len;
    char path[PIPE_PATH_MAX];
};

struct backup_pipe {
    struct backup_archive_writer *w;
    struct backup_queue *q;
    pthread_t thread;
    bool is_joined;
    /* Written by the worker, read by the capture thread only after the join. */
    int wrc;
    struct cm_err werr;
};

static void msg_free(void *p)
{
    struct pipe_msg *m = p;

    if (m == NULL)
        return;
    cm_free(m->json);
    cm_free(m);
}

static void *worker(void *arg)
{
    struct backup_pipe *p = arg;

    for (;;) {
        void *v = NULL;
        struct pipe_msg *m;
        int rc = backup_queue_pop(p->q, &v);

        if (rc != 0)
            break; /* CM_ENOENT: all done; CM_ECANCELED: the capture gave up */
        m = v;
        rc = backup_archive_writer_add(p->w, m->path, m->json, m->len, &p->werr);
        msg_free(m);
        if (rc != 0) {
            p->wrc = rc;
            backup_queue_cancel(p->q);
            break;
        }
    }
    return NULL;
}

int backup_pipe_start(struct backup_archive_writer *w, struct backup_pipe **out, struct cm_err *err)
{
    struct backup_pipe *p;
    int rc;

    p = cm_calloc(1, sizeof(*p));
    if (p == NULL)
        return cm_err_set(err, CM_ENOMEM, "capture: out of memory");
    p->w = w;
    rc = backup_queue_create(BACKUP_PIPE_MAX_MSGS, BACKUP_PIPE_MAX_BYTES, msg_free, &p->q);
    if (rc != 0) {
        cm_free(p);
        return cm_err_set(err, rc, "capture: out of memory");
    }
    if (pthread_create(&p->thread, NULL, worker, p) != 0) {
        backup_queue_destroy(p->q);
        cm_free(p);
        return cm_err_set(err, CM_EIO, "capture: cannot start the archive thread");
    }
    *out = p;
    return 0;
}

static void join(struct backup_pipe *p)
{
    if (!p->is_joined) {
        (void)pthread_join(p->thread, NULL);
        p->is_joined = true;
    }
}

/* The worker's error, once it has stopped. */
static int worker_error(struct backup_pipe *p, struct cm_err *err)
{
    join(p);
    if (p->wrc == 0)
        return 0;
    if (err != NULL)
        *err = p->werr;
    return p->wrc;
}

int backup_pipe_add(struct backup_pipe *p, const char *path, char *json, size_t len,
                    struct cm_err *err)
{
    struct pipe_msg *m;
    size_t plen = strlen(path);
    int rc;

    if (plen >= PIPE_PATH_MAX) {
        cm_free(json);
        return cm_err_set(err, CM_EINVAL, "archive: entry path too long");
    }
    m = cm_malloc(sizeof(*m));
    if (m == NULL) {
        cm_free(json);
        return cm_err_set(err, CM_ENOMEM, "capture: out of memory");
    }
    m->json = json;
    m->len = len;
    memcpy(m->path, path, plen + 1);
    rc = backup_queue_push(p->q, m, len);
    if (rc == 0)
        return 0;
    msg_free(m);
    /* Canceled: the worker failed and says why. */
    rc = worker_error(p, err);
    return rc != 0 ? rc : cm_err_set(err, CM_ECANCELED, "capture: archive thread stopped");
}

int backup_pipe_finish(struct backup_pipe *p, struct cm_err *err)
{
    int rc;

    backup_queue_close(p->q);
    rc = worker_error(p, err);
    backup_queue_destroy(p->q);
    cm_free(p);
    return rc;
}

void backup_pipe_abort(struct backup_pipe *p)
{
    if (p == NULL)
        return;
    backup_queue_cancel(p->q);
    join(p);
    backup_queue_destroy(p->q);
    cm_free(p);
}
