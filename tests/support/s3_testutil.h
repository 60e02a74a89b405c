/* SPDX-License-Identifier: Apache-2.0 */
/* s3_testutil.h - the fixture of the s3 client unit tests (tests/backup/s3/
 * test_s3_client.c, test_s3_request.c, test_s3_upload.c, test_s3_complete.c): a client on
 * the recording, fault-injecting transport of tests/support/s3_fault.h, optionally with
 * object bytes to upload, scripted replies in one call, an S3 error body, and the check
 * that a recorded request carries correct digests. Failures are cmocka assertions, so
 * call these only from a cmocka test. Not thread-safe; one per test. */
#ifndef TESTS_SUPPORT_S3_TESTUTIL_H
#define TESTS_SUPPORT_S3_TESTUTIL_H

#include "backup/s3/s3.h"
#include "tests/support/s3_fault.h"

#include <stddef.h>

/* An S3 error document with code, message and request id "tx-42" (string literals). */
#define S3T_ERRBODY(code, msg)                                                                     \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" code "</Code><Message>" msg          \
    "</Message><RequestId>tx-42</RequestId></Error>"

/* The bytes s3t_setup_data() makes: two full parts and a short third one. */
#define S3T_DATA_LEN (2 * S3_MIN_PART_SIZE + 12345)

/* The fault transport f, credentials and config from s3_fault_config(), a client c
 * made from cfg, and (s3t_setup_data only; otherwise NULL and 0) len pseudo-random
 * bytes at data. */
struct s3t_fx {
    struct s3_fault *f;
    struct s3_credentials creds;
    struct s3_config cfg;
    struct s3_client *c;
    unsigned char *data;
    size_t len;
};

/* cmocka setup: calloc's a struct s3t_fx into *state. Returns 0 or -1. */
int s3t_setup(void **state);
/* cmocka setup: s3t_setup() plus S3T_DATA_LEN pseudo-random bytes (a fixed sequence) at
 * data. Returns 0 or -1. */
int s3t_setup_data(void **state);
/* cmocka teardown: destroys the client, then the fault transport, and frees the data
 * and the fixture. Returns 0. */
int s3t_teardown(void **state);

/* Queues one scripted reply on f (see struct s3_fault_reply); asserts it was queued. */
void s3t_push(struct s3_fault *f, int trc, long status, const char *headers, const char *body,
              size_t trunc);
/* Queues n replies that let requests through to the auto server. */
void s3t_push_auto(struct s3_fault *f, int n);

/* Asserts a recorded request carries a correct Content-MD5 and x-amz-content-sha256. */
void s3t_assert_digests(const struct s3_fault_rec *r);

#endif /* TESTS_SUPPORT_S3_TESTUTIL_H */
