/* SPDX-License-Identifier: Apache-2.0 */
/* wh_reload.c - the change watcher: one thread that notices new policies and a
 * rotated certificate through inotify on their directories (a ConfigMap or Secret
 * mount swaps its ..data link), a periodic check as the fallback, and SIGHUP kicks. */
#define _GNU_SOURCE /* inotify_init1 flags, eventfd */
#include "webhook/wh_int.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

/* After an inotify event, wait this long for the writer to finish its batch (a
 * kubelet update renames several links; cm_fs_write_atomic writes key then cert). */
#define WH_DEBOUNCE_MS 100

struct wh_watcher {
    pthread_t thread;
    int ino_fd;
    int kick_fd;
    atomic_bool stop;
    atomic_bool forced;
    unsigned interval_ms;
    struct wh_watch_cb cb;
};

/* Watches dir itself (policy directories) or the directory holding a file. */
static void watch_path(int fd, const char *path)
{
    struct stat st;
    char dir[WH_PATH_MAX];
    const char *slash;
    const uint32_t mask = IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE |
                          IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (inotify_add_watch(fd, path, mask) < 0)
            cm_log(CM_LOG_WARN, "webhook", "inotify_add_watch failed; periodic check only",
                   CM_LS("path", path));
        return;
    }
    slash = strrchr(path, '/');
    if (slash == NULL) {
        (void)snprintf(dir, sizeof(dir), ".");
    } else if (slash == path) {
        (void)snprintf(dir, sizeof(dir), "/");
    } else {
        (void)snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    }
    if (inotify_add_watch(fd, dir, mask) < 0)
        cm_log(CM_LOG_WARN, "webhook", "inotify_add_watch failed; periodic check only",
               CM_LS("path", dir));
}

static void drain(int fd)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

    while (read(fd, buf, sizeof(buf)) > 0)
        ;
}

static int64_t mono_ms(void)
{
    return (int64_t)(cm_time_mono_ns() / 1000000u);
}

static void *watch_main(void *arg)
{
    struct wh_watcher *w = arg;
    int64_t next_tick = mono_ms() + w->interval_ms;
    int64_t pending_at = -1; /* when to act on inotify events, or -1 */

    while (!atomic_load(&w->stop)) {
        struct pollfd p[2];
        int64_t now = mono_ms();
        int64_t due = pending_at >= 0 && pending_at < next_tick ? pending_at : next_tick;
        int timeout = due > now ? (int)(due - now) : 0;
        int n;

        p[0].fd = w->kick_fd;
        p[0].events = POLLIN;
        p[1].fd = w->ino_fd;
        p[1].events = POLLIN;
        n = poll(p, w->ino_fd >= 0 ? 2 : 1, timeout);
        if (n < 0 && errno != EINTR)
            break;
        if (atomic_load(&w->stop))
            break;
        now = mono_ms();
        if (n > 0 && (p[0].revents & POLLIN) != 0) {
            uint64_t v;

            if (read(w->kick_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                break;
            if (atomic_exchange(&w->forced, false)) {
                bool again = w->cb.on_check(true, w->cb.ctx);

                next_tick = mono_ms() + w->interval_ms;
                pending_at = again ? mono_ms() + WH_DEBOUNCE_MS : -1;
                continue;
            }
        }
        if (n > 0 && w->ino_fd >= 0 && (p[1].revents & POLLIN) != 0) {
            drain(w->ino_fd);
            if (pending_at < 0)
                pending_at = now + WH_DEBOUNCE_MS;
        }
        if ((pending_at >= 0 && now >= pending_at) || now >= next_tick) {
            bool again = w->cb.on_check(false, w->cb.ctx);

            pending_at = again ? mono_ms() + WH_DEBOUNCE_MS : -1;
            next_tick = mono_ms() + w->interval_ms;
        }
    }
    return NULL;
}

int wh_watcher_start(char (*paths)[WH_PATH_MAX], size_t n, const char *cert, const char *key,
                     unsigned interval_ms, const struct wh_watch_cb *cb, struct wh_watcher **out,
                     struct cm_err *err)
{
    struct wh_watcher *w = cm_calloc(1, sizeof(*w));
    size_t i;
    int e;

    if (w == NULL)
        return cm_err_set(err, CM_ENOMEM, "out of memory");
    w->cb = *cb;
    w->interval_ms = interval_ms;
    atomic_init(&w->stop, false);
    atomic_init(&w->forced, false);
    w->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->kick_fd < 0) {
        cm_free(w);
        return cm_err_set(err, CM_EIO, "eventfd failed");
    }
    w->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->ino_fd < 0) {
        cm_log(CM_LOG_WARN, "webhook", "inotify unavailable; periodic check only");
    } else {
        for (i = 0; i < n; i++)
            watch_path(w->ino_fd, paths[i]);
        watch_path(w->ino_fd, cert);
        watch_path(w->ino_fd, key);
    }
    e = pthread_create(&w->thread, NULL, watch_main, w);
    if (e != 0) {
        if (w->ino_fd >= 0)
            close(w->ino_fd);
        close(w->kick_fd);
        cm_free(w);
        return cm_err_set(err, CM_ENOMEM, "cannot start the watcher thread");
    }
    *out = w;
    return 0;
}

void wh_watcher_kick(struct wh_watcher *w)
{
    uint64_t one = 1;

    atomic_store(&w->forced, true);
    if (write(w->kick_fd, &one, sizeof(one)) < 0)
        cm_log(CM_LOG_WARN, "webhook", "cannot wake the watcher");
}

void wh_watcher_stop(struct wh_watcher *w)
{
    uint64_t one = 1;

    if (w == NULL)
        return;
    atomic_store(&w->stop, true);
    if (write(w->kick_fd, &one, sizeof(one)) < 0)
        cm_log(CM_LOG_WARN, "webhook", "cannot wake the watcher");
    pthread_join(w->thread, NULL);
    if (w->ino_fd >= 0)
        close(w->ino_fd);
    close(w->kick_fd);
    cm_free(w);
}
