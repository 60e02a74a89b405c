/* SPDX-License-Identifier: Apache-2.0 */
/* test_cm.c - unit tests of common/: buffers and their caps, JSON escaping, number
 * and time parsing, base64, the allocation fault injector, log lines and file walks. */
#include "common/cm.h"
#include "tests/support/kube_testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_buf_cap_boundary(void **state)
{
    struct cm_buf b;

    (void)state;
    cm_buf_init(&b, 8);
    assert_int_equal(cm_buf_add(&b, "12345678", 8), 0); /* exactly the cap */
    assert_int_equal(b.len, 8);
    assert_string_equal(b.ptr, "12345678");
    assert_int_equal(cm_buf_addc(&b, 'x'), CM_ETOOBIG); /* cap + 1 */
    assert_null(b.ptr);                                 /* reset on failure */
    assert_int_equal(b.len, 0);
    assert_int_equal(cm_buf_addf(&b, "%d-%s", 42, "ab"), 0);
    assert_string_equal(b.ptr, "42-ab");
    cm_buf_free(&b);
}

static void test_buf_oom(void **state)
{
    struct cm_buf b;

    (void)state;
    cm_buf_init(&b, 1024);
    cm_alloc_fault_set(1);
    assert_int_equal(cm_buf_adds(&b, "hello"), CM_ENOMEM);
    assert_true(cm_alloc_fault_fired());
    assert_null(b.ptr);
    cm_alloc_fault_set(0);
    assert_int_equal(cm_buf_adds(&b, "hello"), 0);
    cm_buf_free(&b);
}

/* reserve: one allocation, then appends up to it never move the storage; over the
 * cap fails like add. recycle: the storage moves, the caps stay. */
static void test_buf_reserve_recycle(void **state)
{
    struct cm_buf a, b;
    char *p;
    int i;

    (void)state;
    cm_buf_init(&a, 1000);
    assert_int_equal(cm_buf_reserve(&a, 500), 0);
    p = a.ptr;
    assert_non_null(p);
    for (i = 0; i < 50; i++)
        assert_int_equal(cm_buf_add(&a, "0123456789", 10), 0);
    assert_ptr_equal(a.ptr, p);
    assert_int_equal(cm_buf_reserve(&a, 501), CM_ETOOBIG);
    assert_null(a.ptr);
    assert_int_equal(cm_buf_adds(&a, "abc"), 0);
    cm_buf_init(&b, 8);
    p = a.ptr;
    cm_buf_recycle(&b, &a);
    assert_ptr_equal(b.ptr, p);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.ptr, "");
    assert_null(a.ptr);
    assert_int_equal(a.len, 0);
    assert_int_equal(cm_buf_adds(&b, "12345678"), 0); /* b's own cap applies */
    assert_int_equal(cm_buf_addc(&b, 'x'), CM_ETOOBIG);
    cm_buf_recycle(&b, &a); /* an empty source: b ends empty */
    assert_null(b.ptr);
    cm_alloc_fault_set(1);
    assert_int_equal(cm_buf_reserve(&a, 10), CM_ENOMEM);
    cm_alloc_fault_set(0);
    cm_buf_free(&a);
    cm_buf_free(&b);
}

static void test_json_escape(void **state)
{
    struct cm_buf b;
    const char in[] = "a\"b\\c\n\x01\xc3\xa9\xff\xe2\x82";

    (void)state;
    cm_buf_init(&b, 1024);
    assert_int_equal(cm_buf_add_json_str(&b, in, sizeof(in) - 1), 0);
    /* valid UTF-8 (é) kept, invalid bytes and control bytes escaped */
    assert_string_equal(b.ptr, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\\u00ff\\u00e2\\u0082\"");
    cm_buf_free(&b);
}

static void test_parse_numbers(void **state)
{
    int64_t i;
    uint64_t u;
    double d;

    (void)state;
    assert_int_equal(cm_parse_i64("-42", 3, &i), 0);
    assert_int_equal(i, -42);
    assert_int_equal(cm_parse_i64("9223372036854775807", 19, &i), 0);
    assert_int_equal(cm_parse_i64("9223372036854775808", 19, &i), CM_ETOOBIG);
    assert_int_equal(cm_parse_i64("-9223372036854775808", 20, &i), 0);
    assert_true(i == INT64_MIN);
    assert_int_equal(cm_parse_u64("", 0, &u), CM_EPARSE);
    assert_int_equal(cm_parse_u64("12a", 3, &u), CM_EPARSE);
    assert_int_equal(cm_parse_u64(" 1", 2, &u), CM_EPARSE);
    assert_int_equal(cm_parse_double("1.5e3", 5, &d), 0);
    assert_true(d == 1500.0);
    assert_int_equal(cm_parse_double("inf", 3, &d), CM_EPARSE);
    assert_int_equal(cm_parse_double("0x10", 4, &d), CM_EPARSE);
}

/* One to four bytes at each boundary of the encoding. */
static void test_utf8_put(void **state)
{
    static const struct {
        uint32_t cp;
        const char *utf8;
    } v[] = {
        {0x41, "A"},
        {0x7F, "\x7f"},
        {0x80, "\xc2\x80"},
        {0xE9, "\xc3\xa9"},
        {0x7FF, "\xdf\xbf"},
        {0x800, "\xe0\xa0\x80"},
        {0x20AC, "\xe2\x82\xac"},
        {0xFFFF, "\xef\xbf\xbf"},
        {0x10000, "\xf0\x90\x80\x80"},
        {0x1F600, "\xf0\x9f\x98\x80"},
        {0x10FFFF, "\xf4\x8f\xbf\xbf"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(v); i++) {
        char w[5] = {0};

        assert_int_equal(cm_utf8_put(w, v[i].cp), strlen(v[i].utf8));
        assert_string_equal(w, v[i].utf8);
    }
}

static void test_hexval(void **state)
{
    int c;

    (void)state;
    assert_int_equal(cm_hexval('0'), 0);
    assert_int_equal(cm_hexval('9'), 9);
    assert_int_equal(cm_hexval('a'), 10);
    assert_int_equal(cm_hexval('f'), 15);
    assert_int_equal(cm_hexval('A'), 10);
    assert_int_equal(cm_hexval('F'), 15);
    /* the neighbours of each range */
    assert_int_equal(cm_hexval('0' - 1), -1);
    assert_int_equal(cm_hexval('9' + 1), -1);
    assert_int_equal(cm_hexval('a' - 1), -1);
    assert_int_equal(cm_hexval('g'), -1);
    assert_int_equal(cm_hexval('A' - 1), -1);
    assert_int_equal(cm_hexval('G'), -1);
    assert_int_equal(cm_hexval((char)0xe9), -1); /* negative as a signed char */
    assert_int_equal(cm_hexval(0xe9), -1);
    for (c = 1; c < 256; c++)
        assert_true((cm_hexval(c) >= 0) == (strchr("0123456789abcdefABCDEF", c) != NULL));
}

static void test_time(void **state)
{
    char buf[40];
    time_t t;

    (void)state;
    assert_int_equal(cm_time_parse("2026-11-22T09:30:00Z", 20, &t), 0);
    assert_string_equal(cm_time_format(t, buf, sizeof(buf)), "2026-11-22T09:30:00Z");
    assert_int_equal(cm_time_parse("2026-11-22T10:30:00.250+01:00", 29, &t), 0);
    assert_string_equal(cm_time_format(t, buf, sizeof(buf)), "2026-11-22T09:30:00Z");
    assert_int_equal(cm_time_parse("2026-13-22T09:30:00Z", 20, &t), CM_EPARSE);
    assert_int_equal(cm_time_parse("2026-11-22T09:30:00", 19, &t), CM_EPARSE);
    assert_int_equal(cm_time_parse("2026-11-22T09:30:00Zx", 21, &t), CM_EPARSE);
    assert_true(cm_time_from_utc(1970, 1, 1, 0, 0, 0) == 0);
    assert_true(cm_time_from_utc(2000, 3, 1, 0, 0, 0) == 951868800);
    assert_string_equal(cm_time_format_ms(1500, buf, sizeof(buf)), "1970-01-01T00:00:01.500Z");
}

static void test_base64(void **state)
{
    unsigned char *out;
    size_t n;
    char *e;

    (void)state;
    e = cm_base64_encode("foobar", 6, &n);
    assert_string_equal(e, "Zm9vYmFy");
    cm_free(e);
    e = cm_base64_encode("fo", 2, &n);
    assert_string_equal(e, "Zm8=");
    cm_free(e);
    assert_int_equal(cm_base64_decode("Zm8=", 4, &out, &n), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(out, "fo", 2);
    cm_free(out);
    assert_int_equal(cm_base64_decode("Zm9v\nYmFy", 9, &out, &n), 0);
    assert_int_equal(n, 6);
    cm_free(out);
    assert_int_equal(cm_base64_decode("Zm*=", 4, &out, &n), CM_EPARSE);
    assert_int_equal(cm_base64_decode("Zm=8", 4, &out, &n), CM_EPARSE);
}

static void test_err(void **state)
{
    struct cm_err err;

    (void)state;
    assert_int_equal(cm_err_set(&err, CM_EPARSE, "f.yaml:%d: bad", 3), CM_EPARSE);
    cm_err_prefix(&err, "policy %s", "p");
    assert_string_equal(err.msg, "policy p: f.yaml:3: bad");
    assert_string_equal(cm_errname(CM_ELOCKED), "CM_ELOCKED");
    assert_string_equal(cm_strerror(CM_ENOMEM), "out of memory");
    assert_string_equal(cm_strerror(-999), "unknown error");
    assert_int_equal(cm_err_set(NULL, CM_EIO, "x"), CM_EIO);
}

static void test_log_line(void **state)
{
    char dir[512];
    char path[600];
    char big[CM_LOG_LINE_MAX * 2];
    char *buf = NULL;
    size_t len = 0;
    int fd;

    (void)state;
    assert_int_equal(kube_test_mkdtemp(dir, sizeof(dir)), 0);
    (void)snprintf(path, sizeof(path), "%s/log", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    cm_log_set_fd(fd);
    cm_log_set_level(CM_LOG_INFO);
    cm_log(CM_LOG_DEBUG, "t", "hidden");
    cm_log(CM_LOG_INFO, "t", "hello \"x\"", CM_LS("uid", "u1"), CM_LI("n", 7), CM_LB("ok", 1),
           CM_LS("nul", NULL), CM_LJ("rules", "[\"a\"]"));
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    cm_log(CM_LOG_WARN, "t", "big", CM_LS("first", "kept"), CM_LS("huge", big));
    cm_log_set_fd(2);
    assert_int_equal(cm_fs_read_file(path, 1 << 20, &buf, &len, NULL), 0);
    assert_null(strstr(buf, "hidden"));
    assert_non_null(strstr(buf,
                           "\"level\":\"info\",\"mod\":\"t\",\"msg\":\"hello \\\"x\\\"\",\"uid\":"
                           "\"u1\",\"n\":7,\"ok\":true,\"nul\":null,\"rules\":[\"a\"]}\n"));
    assert_non_null(strstr(buf, "\"first\":\"kept\",\"truncated\":true}\n"));
    cm_free(buf);
    close(fd);
    kube_test_rmtree(dir);
}

static int count_file(const char *path, const char *buf, size_t len, void *ctx, struct cm_err *err)
{
    struct cm_buf *names = ctx;

    (void)buf;
    (void)len;
    (void)err;
    return cm_buf_addf(names, "%s|", strrchr(path, '/') + 1);
}

static void test_fs_tree(void **state)
{
    char dir[512];
    char p[600];
    struct cm_buf names;
    struct cm_err err;
    const char *paths[1];

    (void)state;
    assert_int_equal(kube_test_mkdtemp(dir, sizeof(dir)), 0);
    (void)snprintf(p, sizeof(p), "%s/b.yaml", dir);
    assert_int_equal(cm_fs_write_atomic(p, "x", 1, 0600, &err), 0);
    (void)snprintf(p, sizeof(p), "%s/a.json", dir);
    assert_int_equal(cm_fs_write_atomic(p, "{}", 2, 0600, &err), 0);
    (void)snprintf(p, sizeof(p), "%s/.hidden.yaml", dir);
    assert_int_equal(cm_fs_write_atomic(p, "x", 1, 0600, &err), 0);
    (void)snprintf(p, sizeof(p), "%s/notes.txt", dir);
    assert_int_equal(cm_fs_write_atomic(p, "x", 1, 0600, &err), 0);
    cm_buf_init(&names, 1024);
    paths[0] = dir;
    assert_int_equal(cm_fs_load_tree(paths, 1, 1024, count_file, &names, &err), 0);
    assert_string_equal(names.ptr, "a.json|b.yaml|");
    cm_buf_free(&names);
    /* a file over the cap is refused with its name */
    assert_int_equal(cm_fs_load_tree(paths, 1, 1, count_file, &names, &err), CM_ETOOBIG);
    assert_non_null(strstr(err.msg, "a.json"));
    cm_buf_free(&names);
    paths[0] = "/nonexistent-lw";
    assert_int_equal(cm_fs_load_tree(paths, 1, 1024, count_file, &names, &err), CM_ENOENT);
    kube_test_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_cap_boundary),
        cmocka_unit_test(test_buf_oom),
        cmocka_unit_test(test_buf_reserve_recycle),
        cmocka_unit_test(test_json_escape),
        cmocka_unit_test(test_parse_numbers),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_err),
        cmocka_unit_test(test_log_line),
        cmocka_unit_test(test_fs_tree),
        cmocka_unit_test(test_hexval),
        cmocka_unit_test(test_utf8_put),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
