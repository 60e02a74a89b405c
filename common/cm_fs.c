/* SPDX-License-Identifier: Apache-2.0 */
/* cm_fs.c - bounded file reads, policy-directory walks and atomic writes. */
#include "cm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FS_MAX_DEPTH 8
#define FS_MAX_ENTRIES 10000

static int read_fd(int fd, const char *path, size_t max, char **out, size_t *out_len,
                   struct cm_err *err)
{
    struct cm_buf b;
    char chunk[65536];
    char ebuf[128];

    cm_buf_init(&b, max);
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        int rc;

        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = cm_err_from_errno(errno);
            cm_buf_free(&b);
            return cm_err_set(err, rc, "%s: read: %s", path,
                              cm_errno_str(errno, ebuf, sizeof(ebuf)));
        }
        if (n == 0)
            break;
        rc = cm_buf_add(&b, chunk, (size_t)n);
        if (rc == CM_ETOOBIG)
            return cm_err_set(err, rc, "%s: larger than the limit of %zu bytes", path, max);
        if (rc != 0)
            return cm_err_set(err, rc, "%s: %s", path, cm_strerror(rc));
    }
    *out = cm_buf_take(&b, out_len);
    if (*out == NULL)
        return cm_err_set(err, CM_ENOMEM, "%s: out of memory", path);
    return 0;
}

int cm_fs_read_file(const char *path, size_t max, char **out, size_t *out_len, struct cm_err *err)
{
    char ebuf[128];
    int fd;
    int rc;

    if (strcmp(path, "-") == 0)
        return read_fd(STDIN_FILENO, "<stdin>", max, out, out_len, err);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return cm_err_set(err, cm_err_from_errno(e), "%s: %s", path,
                          cm_errno_str(e, ebuf, sizeof(ebuf)));
    }
    rc = read_fd(fd, path, max, out, out_len, err);
    (void)close(fd);
    return rc;
}

static bool has_policy_suffix(const char *name)
{
    size_t n = strlen(name);

    return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
           (n > 5 && strcmp(name + n - 5, ".json") == 0);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(const char *path, int depth, size_t max_file, cm_fs_file_fn fn, void *ctx,
                struct cm_err *err);

static int walk_dir(const char *path, int depth, size_t max_file, cm_fs_file_fn fn, void *ctx,
                    struct cm_err *err)
{
    char **names = NULL;
    size_t count = 0;
    size_t cap = 0;
    char ebuf[128];
    struct dirent *de;
    DIR *d = NULL;
    int rc = 0;
    size_t i;

    if (depth > FS_MAX_DEPTH)
        return cm_err_set(err, CM_ETOOBIG, "%s: directories nested deeper than %d", path,
                          FS_MAX_DEPTH);
    d = opendir(path);
    if (d == NULL) {
        int e = errno;
        return cm_err_set(err, cm_err_from_errno(e), "%s: %s", path,
                          cm_errno_str(e, ebuf, sizeof(ebuf)));
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nn;

            if (ncap > FS_MAX_ENTRIES) {
                rc = cm_err_set(err, CM_ETOOBIG, "%s: more than %d entries", path, FS_MAX_ENTRIES);
                goto cleanup;
            }
            nn = cm_realloc(names, ncap * sizeof(*nn));
            if (nn == NULL) {
                rc = cm_err_set(err, CM_ENOMEM, "%s: out of memory", path);
                goto cleanup;
            }
            names = nn;
            cap = ncap;
        }
        names[count] = cm_strdup(de->d_name);
        if (names[count] == NULL) {
            rc = cm_err_set(err, CM_ENOMEM, "%s: out of memory", path);
            goto cleanup;
        }
        count++;
    }
    qsort(names, count, sizeof(*names), cmp_names);
    for (i = 0; i < count && rc == 0; i++) {
        size_t plen = strlen(path) + strlen(names[i]) + 2;
        char *child = cm_malloc(plen);
        struct stat st;

        if (child == NULL) {
            rc = cm_err_set(err, CM_ENOMEM, "%s: out of memory", path);
            break;
        }
        (void)snprintf(child, plen, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/",
                       names[i]);
        if (stat(child, &st) == 0 && S_ISDIR(st.st_mode))
            rc = walk(child, depth + 1, max_file, fn, ctx, err);
        else if (has_policy_suffix(names[i]))
            rc = walk(child, depth + 1, max_file, fn, ctx, err);
        cm_free(child);
    }
cleanup:
    for (i = 0; i < count; i++)
        cm_free(names[i]);
    cm_free(names);
    (void)closedir(d);
    return rc;
}

static int walk(const char *path, int depth, size_t max_file, cm_fs_file_fn fn, void *ctx,
                struct cm_err *err)
{
    struct stat st;
    char ebuf[128];
    char *buf = NULL;
    size_t len = 0;
    int rc;

    if (strcmp(path, "-") != 0) {
        if (stat(path, &st) != 0) {
            int e = errno;
            return cm_err_set(err, cm_err_from_errno(e), "%s: %s", path,
                              cm_errno_str(e, ebuf, sizeof(ebuf)));
        }
        if (S_ISDIR(st.st_mode))
            return walk_dir(path, depth, max_file, fn, ctx, err);
    }
    rc = cm_fs_read_file(path, max_file, &buf, &len, err);
    if (rc != 0)
        return rc;
    rc = fn(path, buf, len, ctx, err);
    cm_free(buf);
    return rc;
}

int cm_fs_load_tree(const char *const *paths, size_t n, size_t max_file, cm_fs_file_fn fn,
                    void *ctx, struct cm_err *err)
{
    size_t i;
    int rc;

    for (i = 0; i < n; i++) {
        rc = walk(paths[i], 0, max_file, fn, ctx, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int cm_fs_write_atomic(const char *path, const void *data, size_t n, unsigned mode,
                       struct cm_err *err)
{
    size_t plen = strlen(path) + 16;
    const char *p = data;
    char ebuf[128];
    char *tmp;
    int fd = -1;
    int rc = 0;
    int e;

    tmp = cm_malloc(plen);
    if (tmp == NULL)
        return cm_err_set(err, CM_ENOMEM, "%s: out of memory", path);
    (void)snprintf(tmp, plen, "%s.tmpXXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        e = errno;
        rc = cm_err_set(err, cm_err_from_errno(e), "%s: %s", path,
                        cm_errno_str(e, ebuf, sizeof(ebuf)));
        goto cleanup;
    }
    if (fchmod(fd, (mode_t)mode) != 0)
        goto io_error;
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            goto io_error;
        p += w;
        n -= (size_t)w;
    }
    if (fsync(fd) != 0)
        goto io_error;
    if (close(fd) != 0) {
        fd = -1;
        goto io_error;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto io_error;
    goto cleanup;
io_error:
    e = errno;
    rc = cm_err_set(err, cm_err_from_errno(e), "%s: %s", path, cm_errno_str(e, ebuf, sizeof(ebuf)));
    if (fd >= 0)
        (void)close(fd);
    (void)unlink(tmp);
cleanup:
    cm_free(tmp);
    return rc;
}
