/* SPDX-License-Identifier: Apache-2.0 */
/* test_s3_sigv4.c - the SigV4 signer against AWS's published examples (the S3 API
 * reference's GET Object / PUT Object / GET lifecycle / GET bucket examples and the
 * SigV4 test suite's get-vanilla cases), so correctness is proven independently of any
 * server; plus the digest and URI-encoding helpers and the signer's limits. */
#include "backup/s3/s3_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define S3_AK "AKIAIOSFODNN7EXAMPLE"
#define S3_SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

static void s3_example(struct s3_sigv4_input *in)
{
    memset(in, 0, sizeof(*in));
    in->amz_date = "20130524T000000Z";
    in->region = "us-east-1";
    in->service = "s3";
    in->access_key = S3_AK;
    in->secret_key = S3_SK;
    in->payload_sha256_hex = EMPTY_SHA;
}

static void test_aws_s3_get_object(void **state)
{
    struct s3_kv h[] = {{"Host", "examplebucket.s3.amazonaws.com"},
                        {"Range", "bytes=0-9"},
                        {"x-amz-content-sha256", EMPTY_SHA},
                        {"x-amz-date", "20130524T000000Z"}};
    struct s3_sigv4_input in;
    char out[512];
    char canon[1024];
    struct cm_err err;

    (void)state;
    s3_example(&in);
    in.method = "GET";
    in.path = "/test.txt";
    in.headers = h;
    in.n_headers = 4;
    assert_int_equal(s3_sigv4_sign(&in, out, sizeof(out), canon, sizeof(canon), &err), 0);
    assert_string_equal(out, "AWS4-HMAC-SHA256 Credential=" S3_AK "/20130524/us-east-1/s3/"
                             "aws4_request,SignedHeaders=host;range;x-amz-content-sha256;"
                             "x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170"
                             "aba48dd91039c6036bdb41");
    assert_string_equal(canon, "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\n"
                               "range:bytes=0-9\nx-amz-content-sha256:" EMPTY_SHA "\n"
                               "x-amz-date:20130524T000000Z\n\n"
                               "host;range;x-amz-content-sha256;x-amz-date\n" EMPTY_SHA);
}

static void test_aws_s3_put_object(void **state)
{
    /* Header order and case are scrambled on purpose: the signer sorts and lowercases. */
    struct s3_kv h[] = {{"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                        {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                        {"X-Amz-Date", "20130524T000000Z"},
                        {"Host", "examplebucket.s3.amazonaws.com"},
                        {"x-amz-content-sha256",
                         "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"}};
    struct s3_sigv4_input in;
    char out[512];
    char canon[1024];
    char sha[65];
    struct cm_err err;

    (void)state;
    s3_sha256_hex("Welcome to Amazon S3.", 21, sha);
    assert_string_equal(sha, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    s3_example(&in);
    in.method = "PUT";
    in.path = "/test$file.text";
    in.headers = h;
    in.n_headers = 5;
    in.payload_sha256_hex = sha;
    assert_int_equal(s3_sigv4_sign(&in, out, sizeof(out), canon, sizeof(canon), &err), 0);
    assert_non_null(strstr(canon, "PUT\n/test%24file.text\n\n"));
    assert_string_equal(out, "AWS4-HMAC-SHA256 Credential=" S3_AK "/20130524/us-east-1/s3/"
                             "aws4_request,SignedHeaders=date;host;x-amz-content-sha256;"
                             "x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b7"
                             "8f14c238d841ea1380cd77a1b5971af0ece108bd");
}

static void test_aws_s3_get_lifecycle_and_list(void **state)
{
    struct s3_kv h[] = {{"Host", "examplebucket.s3.amazonaws.com"},
                        {"x-amz-date", "20130524T000000Z"},
                        {"x-amz-content-sha256", EMPTY_SHA}};
    struct s3_kv lifecycle[] = {{"lifecycle", ""}};
    struct s3_kv list[] = {{"prefix", "J"}, {"max-keys", "2"}}; /* unsorted on purpose */
    struct s3_sigv4_input in;
    char out[512];
    struct cm_err err;

    (void)state;
    s3_example(&in);
    in.method = "GET";
    in.path = "/";
    in.headers = h;
    in.n_headers = 3;
    in.query = lifecycle;
    in.n_query = 1;
    assert_int_equal(s3_sigv4_sign(&in, out, sizeof(out), NULL, 0, &err), 0);
    assert_non_null(
        strstr(out, "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"));
    in.query = list;
    in.n_query = 2;
    assert_int_equal(s3_sigv4_sign(&in, out, sizeof(out), NULL, 0, &err), 0);
    assert_non_null(
        strstr(out, "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"));
}

static void test_aws_suite_get_vanilla(void **state)
{
    struct s3_kv h[] = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
    struct s3_kv q[] = {{"Param2", "value2"}, {"Param1", "value1"}};
    struct s3_sigv4_input in;
    char out[512];
    struct cm_err err;

    (void)state;
    memset(&in, 0, sizeof(in));
    in.method = "GET";
    in.path = "/";
    in.headers = h;
    in.n_headers = 2;
    in.payload_sha256_hex = EMPTY_SHA;
    in.amz_date = "20150830T123600Z";
    in.region = "us-east-1";
    in.service = "service";
    in.access_key = "AKIDEXAMPLE";
    in.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    assert_int_equal(s3_sigv4_sign(&in, out, sizeof(out), NULL, 0, &err), 0);
    assert_string_equal(out, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
                             "service/aws4_request,SignedHeaders=host;x-amz-date,Signature="
                             "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    /* get-vanilla-query-order-key-case */
    in.query = q;
    in.n_query = 2;
    assert_int_equal(s3_sigv4_sign(&in, out, sizeof(out), NULL, 0, &err), 0);
    assert_non_null(
        strstr(out, "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"));
}

static void test_header_value_folding(void **state)
{
    struct s3_kv h[] = {{"Host", "h"}, {"X-Test", "  a   b \t c  "}};
    struct s3_sigv4_input in;
    char out[512];
    char canon[512];
    struct cm_err err;

    (void)state;
    s3_example(&in);
    in.method = "GET";
    in.path = "/k";
    in.headers = h;
    in.n_headers = 2;
    assert_int_equal(s3_sigv4_sign(&in, out, sizeof(out), canon, sizeof(canon), &err), 0);
    assert_non_null(strstr(canon, "\nx-test:a b c\n"));
}

static void test_sign_errors_and_limits(void **state)
{
    struct s3_kv h[65];
    char names[65][16];
    struct s3_kv dup[] = {{"Host", "a"}, {"host", "b"}};
    struct s3_sigv4_input in;
    char out[512];
    struct cm_err err;
    int i;

    (void)state;
    for (i = 0; i < 65; i++) {
        (void)snprintf(names[i], sizeof(names[i]), "x-h-%02d", i);
        h[i].name = names[i];
        h[i].value = "v";
    }
    s3_example(&in);
    in.method = "GET";
    in.path = "/";
    in.headers = h;
    in.n_headers = 64; /* the limit passes */
    /* 64 signed header names do not fit in a 512-byte Authorization buffer. */
    assert_int_equal(s3_sigv4_sign(&in, out, sizeof(out), NULL, 0, &err), CM_ETOOBIG);
    {
        char big[4096];

        assert_int_equal(s3_sigv4_sign(&in, big, sizeof(big), NULL, 0, &err), 0);
        in.n_headers = 65; /* limit + 1 */
        assert_int_equal(s3_sigv4_sign(&in, big, sizeof(big), NULL, 0, &err), CM_ETOOBIG);
    }
    in.headers = dup;
    in.n_headers = 2;
    assert_int_equal(s3_sigv4_sign(&in, out, sizeof(out), NULL, 0, &err), CM_EINVAL);
    assert_non_null(strstr(err.msg, "duplicate header host"));
    in.n_headers = 1;
    in.amz_date = "2013-05-24";
    assert_int_equal(s3_sigv4_sign(&in, out, sizeof(out), NULL, 0, &err), CM_EINVAL);
    in.amz_date = "20130524T000000Z";
    in.secret_key = NULL;
    assert_int_equal(s3_sigv4_sign(&in, out, sizeof(out), NULL, 0, &err), CM_EINVAL);
    in.secret_key = S3_SK;
    assert_int_equal(s3_sigv4_sign(&in, out, 10, NULL, 0, &err), CM_ETOOBIG);
    assert_string_equal(out, "");
    assert_int_equal(s3_sigv4_sign(NULL, out, sizeof(out), NULL, 0, &err), CM_EINVAL);
}

static void test_sign_oom(void **state)
{
    struct s3_kv h[] = {{"Host", "h"}, {"x-amz-date", "20130524T000000Z"}};
    struct s3_kv q[] = {{"a", "1"}, {"b", ""}};
    struct s3_sigv4_input in;
    char out[512];
    char ref[512];
    struct cm_err err;
    long n;
    int rc;

    (void)state;
    s3_example(&in);
    in.method = "GET";
    in.path = "/k";
    in.headers = h;
    in.n_headers = 2;
    in.query = q;
    in.n_query = 2;
    assert_int_equal(s3_sigv4_sign(&in, ref, sizeof(ref), NULL, 0, &err), 0);
    for (n = 1;; n++) {
        cm_alloc_fault_set(n);
        rc = s3_sigv4_sign(&in, out, sizeof(out), NULL, 0, &err);
        cm_alloc_fault_set(0);
        if (rc == 0)
            break;
        assert_int_equal(rc, CM_ENOMEM);
    }
    assert_true(n > 1);
    assert_string_equal(out, ref);
}

static void test_digests_and_encoding(void **state)
{
    char md5[25];
    char sha[65];
    struct cm_buf b;
    char date[17];

    (void)state;
    s3_md5_base64("", 0, md5);
    assert_string_equal(md5, "1B2M2Y8AsgTpgAmY7PhCfg==");
    s3_md5_base64("hello", 5, md5);
    assert_string_equal(md5, "XUFAKrxLKna5cZ2REBfFkg==");
    s3_sha256_hex(NULL, 0, sha);
    assert_string_equal(sha, EMPTY_SHA);
    cm_buf_init(&b, 64);
    assert_int_equal(s3_uri_encode(&b, "a b/c~-._$\xc3\xbc", 12, true), 0);
    assert_string_equal(b.ptr, "a%20b/c~-._%24%C3%BC");
    cm_buf_reset(&b);
    assert_int_equal(s3_uri_encode(&b, "a/b=c&d", 7, false), 0);
    assert_string_equal(b.ptr, "a%2Fb%3Dc%26d");
    cm_buf_free(&b);
    cm_buf_init(&b, 5); /* cap: "%2F" + "ab" fits, one more does not */
    assert_int_equal(s3_uri_encode(&b, "/ab", 3, false), 0);
    assert_int_equal(s3_uri_encode(&b, "c", 1, false), CM_ETOOBIG);
    cm_buf_free(&b);
    s3_amz_date(1369353600, date);
    assert_string_equal(date, "20130524T000000Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aws_s3_get_object),
        cmocka_unit_test(test_aws_s3_put_object),
        cmocka_unit_test(test_aws_s3_get_lifecycle_and_list),
        cmocka_unit_test(test_aws_suite_get_vanilla),
        cmocka_unit_test(test_header_value_folding),
        cmocka_unit_test(test_sign_errors_and_limits),
        cmocka_unit_test(test_sign_oom),
        cmocka_unit_test(test_digests_and_encoding),
    };

    return cmocka_run_group_tests_name("s3_sigv4", tests, NULL, NULL);
}
