/* SPDX-License-Identifier: Apache-2.0 */
/* test_backup_pipe.c - the capture's archive pipeline: entries queued on one thread
 * come out of the archive in order; a sink failure on the worker reaches the capture
 * thread with its code and message; abort drops queued entries without leaks. */
#include "backup/backup_pipe.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

struct sink {
    struct cm_buf out;
    size_t fail_after; /* 0 = never */
};

static int mem_sink(void *ctx, const void *p, size_t n, struct cm_err *err)
{
    struct sink *s = ctx;

    if (s->fail_after != 0 && s->out.len + n > s->fail_after)
        return cm_err_set(err, CM_EIO, "sink: the upload broke at %zu bytes", s->out.len);
    return cm_buf_add(&s->out, p, n) == 0 ? 0 : cm_err_set(err, CM_ENOMEM, "sink: oom");
}

struct seen {
    size_t n;
    bool ok;
};

static int on_entry(void *ctx, const char *path, const void *data, size_t len, struct cm_err *err)
{
    struct seen *s = ctx;
    char want_path[64];
    char want[64];

    (void)err;
    (void)snprintf(want_path, sizeof(want_path), "resources/core/v1/configmaps/cm-%zu.json", s->n);
    (void)snprintf(want, sizeof(want), "{\"n\":%zu}", s->n);
    if (strcmp(path, want_path) != 0 || len != strlen(want) || memcmp(data, want, len) != 0)
        s->ok = false;
    s->n++;
    return 0;
}

static char *json_of(size_t i)
{
    char tmp[64];
    char *s;

    (void)snprintf(tmp, sizeof(tmp), "{\"n\":%zu}", i);
    s = cm_strndup(tmp, strlen(tmp));
    assert_non_null(s);
    return s;
}

static int add_n(struct backup_pipe *p, size_t n, struct cm_err *err)
{
    size_t i;

    for (i = 0; i < n; i++) {
        char path[64];
        char *j = json_of(i);
        int rc;

        (void)snprintf(path, sizeof(path), "resources/core/v1/configmaps/cm-%zu.json", i);
        rc = backup_pipe_add(p, path, j, strlen(j), err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void test_entries_in_order(void **state)
{
    struct sink s;
    struct backup_archive_writer *w = NULL;
    struct backup_archive_reader *r = NULL;
    struct backup_pipe *p = NULL;
    struct seen seen = {0, true};
    struct cm_err err;

    (void)state;
    memset(&s, 0, sizeof(s));
    cm_buf_init(&s.out, 64u << 20);
    assert_int_equal(backup_archive_writer_create(mem_sink, &s, NULL, 0, &w, &err), 0);
    assert_int_equal(backup_pipe_start(w, &p, &err), 0);
    assert_int_equal(add_n(p, 5000, &err), 0);
    assert_int_equal(backup_pipe_finish(p, &err), 0);
    /* the writer is this thread's again */
    assert_int_equal(backup_archive_writer_finish(w, &err), 0);
    assert_int_equal(backup_archive_writer_bytes(w), s.out.len);
    assert_int_equal(backup_archive_reader_create(NULL, on_entry, &seen, &r, &err), 0);
    assert_int_equal(backup_archive_reader_feed(r, s.out.ptr, s.out.len, &err), 0);
    assert_int_equal(backup_archive_reader_finish(r, &err), 0);
    assert_string_equal(backup_archive_reader_sha256(r), backup_archive_writer_sha256(w));
    assert_int_equal(seen.n, 5000);
    assert_true(seen.ok);
    backup_archive_reader_destroy(r);
    backup_archive_writer_destroy(w);
    cm_buf_free(&s.out);
}

static void test_worker_error_reaches_caller(void **state)
{
    struct sink s;
    struct backup_archive_writer *w = NULL;
    struct backup_pipe *p = NULL;
    struct cm_err err;
    int rc;

    (void)state;
    memset(&s, 0, sizeof(s));
    cm_buf_init(&s.out, 64u << 20);
    s.fail_after = 1; /* the first deflate output fails */
    assert_int_equal(backup_archive_writer_create(mem_sink, &s, NULL, 0, &w, &err), 0);
    assert_int_equal(backup_pipe_start(w, &p, &err), 0);
    memset(&err, 0, sizeof(err));
    /* enough entries that the worker's deflate emits output and fails on the way,
     * either in an add or at the finish */
    rc = add_n(p, 50000, &err);
    if (rc == 0)
        rc = backup_pipe_finish(p, &err);
    else
        backup_pipe_abort(p);
    assert_int_equal(rc, CM_EIO);
    assert_non_null(strstr(err.msg, "the upload broke"));
    backup_archive_writer_destroy(w);
    cm_buf_free(&s.out);
}

static void test_abort_drops_queued(void **state)
{
    struct sink s;
    struct backup_archive_writer *w = NULL;
    struct backup_pipe *p = NULL;
    struct cm_err err;

    (void)state;
    memset(&s, 0, sizeof(s));
    cm_buf_init(&s.out, 64u << 20);
    assert_int_equal(backup_archive_writer_create(mem_sink, &s, NULL, 0, &w, &err), 0);
    assert_int_equal(backup_pipe_start(w, &p, &err), 0);
    assert_int_equal(add_n(p, 300, &err), 0);
    backup_pipe_abort(p); /* ASan: whatever was still queued is freed */
    backup_pipe_abort(NULL);
    backup_archive_writer_destroy(w);
    cm_buf_free(&s.out);
}

static void test_path_limit(void **state)
{
    struct sink s;
    struct backup_archive_writer *w = NULL;
    struct backup_pipe *p = NULL;
    struct cm_err err;
    char path[301];

    (void)state;
    memset(&s, 0, sizeof(s));
    cm_buf_init(&s.out, 64u << 20);
    assert_int_equal(backup_archive_writer_create(mem_sink, &s, NULL, 0, &w, &err), 0);
    assert_int_equal(backup_pipe_start(w, &p, &err), 0);
    memset(path, 'a', sizeof(path));
    path[299] = '\0'; /* 299 bytes: the limit */
    assert_int_equal(backup_pipe_add(p, path, json_of(1), 7, &err), 0);
    path[299] = 'a';
    path[300] = '\0'; /* 300: refused here, json freed */
    assert_int_equal(backup_pipe_add(p, path, json_of(1), 7, &err), CM_EINVAL);
    /* the 299-byte path is still longer than an archive entry may be: the worker's
     * writer refuses it, and the finish says so */
    assert_int_equal(backup_pipe_finish(p, &err), CM_EINVAL);
    backup_archive_writer_destroy(w);
    cm_buf_free(&s.out);
}

static void test_oom(void **state)
{
    long n;

    (void)state;
    for (n = 1;; n++) {
        struct sink s;
        struct backup_archive_writer *w = NULL;
        struct backup_pipe *p = NULL;
        struct cm_err err;
        char *j = json_of(0);
        int rc;

        memset(&s, 0, sizeof(s));
        cm_buf_init(&s.out, 64u << 20);
        assert_int_equal(backup_archive_writer_create(mem_sink, &s, NULL, 0, &w, &err), 0);
        cm_alloc_fault_set(n);
        rc = backup_pipe_start(w, &p, &err);
        if (rc == 0) {
            rc = backup_pipe_add(p, "a.json", j, strlen(j), &err);
            if (rc == 0)
                rc = backup_pipe_finish(p, &err);
            else
                backup_pipe_abort(p);
        } else {
            cm_free(j);
        }
        cm_alloc_fault_set(0);
        backup_archive_writer_destroy(w);
        cm_buf_free(&s.out);
        if (rc == 0)
            break;
        assert_int_equal(rc, CM_ENOMEM);
        assert_true(n < 50);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entries_in_order),
        cmocka_unit_test(test_worker_error_reaches_caller),
        cmocka_unit_test(test_abort_drops_queued),
        cmocka_unit_test(test_path_limit),
        cmocka_unit_test(test_oom),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
