/* SPDX-License-Identifier: Apache-2.0 */
/* test_s3_creds.c - credentials from explicit values, the environment and the AWS
 * shared credentials file (profiles, comments, limits, errors that never leak secrets). */
#include "backup/s3/s3.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define P(s) (s), strlen(s)

static const char *file_text = "# comment\r\n"
                               "; another\n"
                               "[default]\n"
                               "aws_access_key_id = AKDEFAULT\n"
                               "aws_secret_access_key=secret/default+1\n"
                               "\n"
                               "[profile backup]\r\n"
                               "  aws_access_key_id   =   AKBACKUP  \r\n"
                               "aws_secret_access_key = s1\n"
                               "aws_secret_access_key = s2\n"
                               "aws_session_token = tok-en\n"
                               "region = eu-west-1\n"
                               "[partial]\n"
                               "aws_access_key_id = AKP\n";

static void test_parse_profiles(void **state)
{
    struct s3_credentials c = {0};
    struct cm_err err;

    (void)state;
    assert_int_equal(s3_credentials_parse(P(file_text), NULL, &c, &err), 0);
    assert_string_equal(c.access_key, "AKDEFAULT");
    assert_string_equal(c.secret_key, "secret/default+1");
    assert_null(c.session_token);
    /* A second parse replaces (and wipes) the first values. */
    assert_int_equal(s3_credentials_parse(P(file_text), "backup", &c, &err), 0);
    assert_string_equal(c.access_key, "AKBACKUP");
    assert_string_equal(c.secret_key, "s2"); /* later duplicates win */
    assert_string_equal(c.session_token, "tok-en");
    s3_credentials_cleanup(&c);
    assert_null(c.access_key);
    s3_credentials_cleanup(&c); /* idempotent */
    s3_credentials_cleanup(NULL);
}

static void test_parse_errors(void **state)
{
    struct s3_credentials c = {0};
    struct cm_err err;

    (void)state;
    assert_int_equal(s3_credentials_parse(P(file_text), "nope", &c, &err), CM_ENOENT);
    assert_string_equal(err.msg, "credentials file: no profile [nope]");
    assert_int_equal(s3_credentials_parse(P(file_text), "partial", &c, &err), CM_ENOENT);
    assert_non_null(strstr(err.msg, "aws_secret_access_key"));
    assert_null(c.access_key); /* untouched on failure */
    assert_int_equal(
        s3_credentials_parse(P("[default]\naws_access_key_id = A\nsecret-without-eq\n"), NULL, &c,
                             &err),
        CM_EPARSE);
    assert_non_null(strstr(err.msg, "line 3"));
    assert_int_equal(s3_credentials_parse(P("[default\n"), NULL, &c, &err), CM_EPARSE);
    /* A malformed value is refused without echoing it. */
    assert_int_equal(s3_credentials_parse(P("[default]\naws_access_key_id = A\n"
                                            "aws_secret_access_key = sec ret\n"),
                                          NULL, &c, &err),
                     CM_EINVAL);
    assert_null(strstr(err.msg, "sec ret"));
    assert_int_equal(s3_credentials_parse(P("[default]\naws_access_key_id = A\n"
                                            "aws_secret_access_key =\n"),
                                          NULL, &c, &err),
                     CM_EINVAL);
    assert_int_equal(s3_credentials_parse("[default]\0x", 11, NULL, &c, &err), CM_EPARSE);
    assert_int_equal(s3_credentials_parse(P(""), NULL, &c, &err), CM_ENOENT);
}

static void test_parse_size_limit(void **state)
{
    size_t n = S3_MAX_CREDENTIALS_FILE;
    char *buf = malloc(n + 1);
    const char *head = "[default]\naws_access_key_id=A\naws_secret_access_key=B\n#";
    struct s3_credentials c = {0};
    struct cm_err err;

    (void)state;
    assert_non_null(buf);
    memset(buf, 'x', n + 1);
    memcpy(buf, head, strlen(head)); /* the rest is one long comment line */
    assert_int_equal(s3_credentials_parse(buf, n, NULL, &c, &err), 0);
    assert_string_equal(c.access_key, "A");
    s3_credentials_cleanup(&c);
    assert_int_equal(s3_credentials_parse(buf, n + 1, NULL, &c, &err), CM_ETOOBIG);
    free(buf);
}

static void test_parse_oom(void **state)
{
    struct s3_credentials c = {0};
    struct cm_err err;
    long n;
    int rc;

    (void)state;
    for (n = 1;; n++) {
        cm_alloc_fault_set(n);
        rc = s3_credentials_parse(P(file_text), "backup", &c, &err);
        cm_alloc_fault_set(0);
        if (rc == 0)
            break;
        assert_int_equal(rc, CM_ENOMEM);
        assert_null(c.access_key);
    }
    assert_true(n > 1);
    s3_credentials_cleanup(&c);
}

static void test_set(void **state)
{
    struct s3_credentials c = {0};
    struct cm_err err;

    (void)state;
    assert_int_equal(s3_credentials_set(&c, "AK", "SK", "", &err), 0);
    assert_null(c.session_token);
    assert_int_equal(s3_credentials_set(&c, "AK", "SK", "T", &err), 0);
    assert_string_equal(c.session_token, "T");
    assert_int_equal(s3_credentials_set(&c, "", "SK", NULL, &err), CM_EINVAL);
    assert_int_equal(s3_credentials_set(&c, "AK", "S\nK", NULL, &err), CM_EINVAL);
    assert_int_equal(s3_credentials_set(&c, NULL, "SK", NULL, &err), CM_EINVAL);
    assert_string_equal(c.access_key, "AK"); /* unchanged after failures */
    s3_credentials_cleanup(&c);
}

static void test_env(void **state)
{
    struct s3_credentials c = {0};
    char region[32];
    struct cm_err err;

    (void)state;
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
    assert_int_equal(s3_credentials_from_env(&c, &err), CM_ENOENT);
    setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
    assert_int_equal(s3_credentials_from_env(&c, &err), CM_ENOENT);
    setenv("AWS_SECRET_ACCESS_KEY", "SKENV", 1);
    setenv("AWS_SESSION_TOKEN", "TOKENV", 1);
    assert_int_equal(s3_credentials_from_env(&c, &err), 0);
    assert_string_equal(c.access_key, "AKENV");
    assert_string_equal(c.session_token, "TOKENV");
    s3_credentials_cleanup(&c);
    assert_int_equal(s3_credentials_load_default(&c, &err), 0); /* env wins */
    assert_string_equal(c.secret_key, "SKENV");
    s3_credentials_cleanup(&c);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");

    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    assert_int_equal(s3_region_from_env(region, sizeof(region)), CM_ENOENT);
    setenv("AWS_DEFAULT_REGION", "eu-central-1", 1);
    assert_int_equal(s3_region_from_env(region, sizeof(region)), 0);
    assert_string_equal(region, "eu-central-1");
    setenv("AWS_REGION", "us-west-2", 1);
    assert_int_equal(s3_region_from_env(region, sizeof(region)), 0);
    assert_string_equal(region, "us-west-2");
    assert_int_equal(s3_region_from_env(region, 9), CM_ETOOBIG); /* "us-west-2" + NUL = 10 */
    assert_int_equal(s3_region_from_env(region, 10), 0);
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
}

static void test_load_file(void **state)
{
    const char *tmp = getenv("TMPDIR");
    char path[512];
    struct s3_credentials c = {0};
    struct cm_err err;
    FILE *f;
    int fd;

    (void)state;
    (void)snprintf(path, sizeof(path), "%s/lw-s3-creds-XXXXXX", tmp != NULL && tmp[0] ? tmp : ".");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(file_text, f);
    fclose(f);
    assert_int_equal(s3_credentials_load_file(path, "backup", &c, &err), 0);
    assert_string_equal(c.access_key, "AKBACKUP");
    s3_credentials_cleanup(&c);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    setenv("AWS_PROFILE", "backup", 1);
    assert_int_equal(s3_credentials_load_default(&c, &err), 0);
    assert_string_equal(c.access_key, "AKBACKUP");
    s3_credentials_cleanup(&c);
    unsetenv("AWS_PROFILE");
    assert_int_equal(s3_credentials_load_file(NULL, "nope", &c, &err), CM_ENOENT);
    assert_non_null(strstr(err.msg, path));
    unlink(path);
    assert_int_equal(s3_credentials_load_file(NULL, NULL, &c, &err), CM_ENOENT);
    assert_int_equal(s3_credentials_load_default(&c, &err), CM_ENOENT);
    assert_non_null(strstr(err.msg, "no S3 credentials"));
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_profiles),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_size_limit),
        cmocka_unit_test(test_parse_oom),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_load_file),
    };

    return cmocka_run_group_tests_name("s3_creds", tests, NULL, NULL);
}
