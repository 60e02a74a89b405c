/* SPDX-License-Identifier: Apache-2.0 */
/* kube_testutil.c - scratch directories, files and a recording sleep for kube_ tests. */
#include "kube_testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int kube_test_mkdtemp(char *buf, size_t len)
{
    const char *base = getenv("TMPDIR");
    int n;

    if (base == NULL || base[0] == '\0') {
        base = getenv("BUILD");
        if (base == NULL || base[0] == '\0')
            base = "build";
        (void)mkdir(base, 0755);
    }
    n = snprintf(buf, len, "%s/kube-test-XXXXXX", base);
    if (n < 0 || (size_t)n >= len)
        return -1;
    return mkdtemp(buf) != NULL ? 0 : -1;
}

static void rm_dir(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        char p[4096];
        struct stat st;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        (void)snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && depth < 4)
            rm_dir(p, depth + 1);
        else
            (void)unlink(p);
    }
    closedir(d);
    (void)rmdir(dir);
}

void kube_test_rmtree(const char *dir)
{
    if (dir != NULL && dir[0] != '\0')
        rm_dir(dir, 0);
}

int kube_test_write(const char *dir, const char *name, const char *data, char *out, size_t outlen)
{
    char p[4096];
    const char *slash = strrchr(name, '/');
    FILE *f;
    size_t n = strlen(data);
    int rc = 0;

    if (slash != NULL) {
        (void)snprintf(p, sizeof(p), "%s/%.*s", dir, (int)(slash - name), name);
        (void)mkdir(p, 0755);
    }
    (void)snprintf(p, sizeof(p), "%s/%s", dir, name);
    f = fopen(p, "wb");
    if (f == NULL)
        return -1;
    if (fwrite(data, 1, n, f) != n)
        rc = -1;
    if (fclose(f) != 0)
        rc = -1;
    if (out != NULL)
        (void)snprintf(out, outlen, "%s", p);
    return rc;
}

void kube_test_sleep_record(uint64_t ms, void *ctx)
{
    struct kube_test_sleeps *s = ctx;

    if (s->n < sizeof(s->ms) / sizeof(s->ms[0]))
        s->ms[s->n] = ms;
    s->n++;
    s->total_ms += ms;
}
