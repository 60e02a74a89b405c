/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_s3_response.c - libFuzzer target for the S3 client's handling of whole HTTP
 * responses: status, header lines (ETag, version id, Content-Length, Content-Range,
 * Retry-After, Last-Modified, lock headers, x-amz-meta-*) and bodies, through the real
 * request engine on the recording/fault transport.
 *
 * Why hostile: the endpoint (or anything between us and it) chooses every status, header
 * and body byte; the client must turn them into codes and bounded structs without
 * crashing, over-reading, leaking or looping, whatever the operation.
 * What it bounds: input capped at 64 KiB. Byte 0 picks the operation (HEAD, GET, GET
 * range, versioning, lock config, retention, legal hold, list, list versions, PUT,
 * multipart close, delete), bytes 1-2 the status; the rest is "Name: value" lines, an
 * empty line, then the body. Each request is answered with that same response (one
 * attempt, no sleeping), so paging and multipart sequences see it repeatedly. */
#include "backup/s3/s3.h"
#include "tests/support/s3_fault.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_INPUT (64u << 10)
#define FUZZ_MAX_REPLIES 8

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static int sink(const void *p, size_t n, void *ctx)
{
    size_t *total = ctx;

    (void)p;
    *total += n;
    return *total > (1u << 20) ? CM_ETOOBIG : 0;
}

static int list_cb(const struct s3_list_entry *e, void *ctx)
{
    unsigned *n = ctx;

    if (e->key == NULL)
        __builtin_trap();
    return ++*n > 1000 ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct s3_fault *f = NULL;
    struct s3_credentials creds;
    struct s3_config cfg;
    struct s3_client *c = NULL;
    struct s3_object_info info;
    struct s3_fault_reply r;
    struct cm_err err;
    char *text = NULL;
    char *sep;
    size_t total = 0;
    unsigned n = 0;
    int i;
    int rc = 0;

    if (size < 3 || size > FUZZ_MAX_INPUT)
        return 0;
    text = malloc(size - 3 + 1);
    if (text == NULL || s3_fault_create(&f) != 0)
        goto out;
    memcpy(text, data + 3, size - 3);
    text[size - 3] = '\0'; /* the fault transport takes C strings: NULs end the body */
    memset(&r, 0, sizeof(r));
    r.status = 100 + (long)(((unsigned)data[1] << 8 | data[2]) % 500);
    sep = strstr(text, "\n\n");
    if (sep != NULL) {
        *sep = '\0';
        r.headers = text;
        r.body = sep + 2;
    } else {
        r.body = text;
    }
    for (i = 0; i < FUZZ_MAX_REPLIES; i++)
        if (s3_fault_push(f, &r) != 0)
            goto out;
    s3_fault_config(f, &creds, &cfg);
    cfg.max_attempts = 1;
    if (s3_client_create(&cfg, &c, &err) != 0)
        goto out;
    switch (data[0] % 12) {
    case 0:
        rc = s3_client_head_object(c, "k", "v", &info, &err);
        break;
    case 1:
        rc = s3_client_get_object(c, "k", NULL, NULL, sink, &total, &info, &err);
        break;
    case 2: {
        struct s3_range range = {5, 9};

        rc = s3_client_get_object(c, "k", NULL, &range, sink, &total, &info, &err);
        break;
    }
    case 3: {
        enum s3_versioning v;

        rc = s3_client_get_versioning(c, &v, &err);
        break;
    }
    case 4: {
        struct s3_lock_config lc;

        rc = s3_client_preflight_lock(c, &err);
        rc |= s3_client_get_lock_config(c, &lc, &err);
        break;
    }
    case 5: {
        enum s3_lock_mode m;
        time_t t;

        rc = s3_client_get_retention(c, "k", "v", &m, &t, &err);
        break;
    }
    case 6: {
        bool on;

        rc = s3_client_get_legal_hold(c, "k", NULL, &on, &err);
        break;
    }
    case 7:
        rc = s3_client_list_objects(c, NULL, list_cb, &n, NULL, &err);
        break;
    case 8:
        rc = s3_client_list_versions(c, NULL, list_cb, &n, NULL, &err);
        break;
    case 9: {
        struct s3_put_result res;

        rc = s3_client_put_object(c, "k", "abc", 3, NULL, &res, &err);
        break;
    }
    case 10: {
        struct s3_upload *u = NULL;
        static unsigned char part[S3_MIN_PART_SIZE];
        struct s3_put_opts po = {.lock_mode = S3_LOCK_COMPLIANCE, .retain_until = 2000000000};

        rc = s3_upload_open(c, "k", &po, &u, &err);
        if (rc == 0) {
            rc = s3_upload_write(u, part, sizeof(part), &err);
            rc |= s3_upload_close(u, NULL, &err);
        }
        break;
    }
    default:
        rc = s3_client_delete_object(c, "k", "v", false, &err);
        break;
    }
out:
    (void)rc; /* any code is fine; crashes, hangs and leaks are not */
    s3_client_destroy(c);
    s3_fault_destroy(f);
    free(text);
    return 0;
}
