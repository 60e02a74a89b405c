/* SPDX-License-Identifier: Apache-2.0 */
/* s3_testutil.c - the fixture of the s3 client unit tests. */
#include "tests/support/s3_testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdlib.h>

int s3t_setup(void **state)
{
    struct s3t_fx *x = calloc(1, sizeof(*x));
    struct cm_err err;

    if (x == NULL || s3_fault_create(&x->f) != 0)
        return -1;
    s3_fault_config(x->f, &x->creds, &x->cfg);
    if (s3_client_create(&x->cfg, &x->c, &err) != 0)
        return -1;
    *state = x;
    return 0;
}

int s3t_setup_data(void **state)
{
    struct s3t_fx *x;
    uint32_t r = 7;
    size_t i;

    if (s3t_setup(state) != 0)
        return -1;
    x = *state;
    x->len = S3T_DATA_LEN;
    x->data = malloc(x->len);
    if (x->data == NULL)
        return -1;
    for (i = 0; i < x->len; i++) {
        r = r * 1664525u + 1013904223u;
        x->data[i] = (unsigned char)(r >> 24);
    }
    return 0;
}

int s3t_teardown(void **state)
{
    struct s3t_fx *x = *state;

    s3_client_destroy(x->c);
    s3_fault_destroy(x->f);
    free(x->data);
    free(x);
    return 0;
}

void s3t_push(struct s3_fault *f, int trc, long status, const char *headers, const char *body,
              size_t trunc)
{
    struct s3_fault_reply r = {trc, status, headers, body, trunc};

    assert_int_equal(s3_fault_push(f, &r), 0);
}

void s3t_push_auto(struct s3_fault *f, int n)
{
    while (n-- > 0)
        s3t_push(f, 0, 0, NULL, NULL, 0);
}

void s3t_assert_digests(const struct s3_fault_rec *r)
{
    const char *md5 = s3_fault_header(r, "Content-MD5");
    const char *sha = s3_fault_header(r, "x-amz-content-sha256");

    assert_non_null(md5);
    assert_string_equal(md5, r->body_md5_b64);
    assert_non_null(sha);
    assert_string_equal(sha, r->body_sha256_hex);
}
