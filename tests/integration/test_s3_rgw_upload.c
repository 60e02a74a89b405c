/* SPDX-License-Identifier: Apache-2.0 */
/* test_s3_rgw_upload.c - uploads through the S3 client to a real radosgw with Object
 * Lock (started by tests/run.sh via tests/support/rgw.sh, which exports S3_ENDPOINT and
 * the keys; the fixture is tests/support/rgw_env.h): multipart with locking afterwards,
 * digests hashed as the upload is written (radosgw checks both) and wrong ones refused,
 * 503 retries injected by a transport that wraps the libcurl one, and a
 * CompleteMultipartUpload whose answer is lost after radosgw carried it out. */
#include "backup/s3/s3.h"
#include "backup/s3/s3_int.h" /* the libcurl transport, to wrap it */
#include "tests/support/rgw_env.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sha_sink {
    EVP_MD_CTX *md;
    uint64_t n;
};

static int sha_write(const void *p, size_t n, void *ctx)
{
    struct sha_sink *s = ctx;

    s->n += n;
    return EVP_DigestUpdate(s->md, p, n) == 1 ? 0 : CM_EIO;
}

/* Asserts that version_id of key, read back through c, is n bytes with the SHA-256
 * sha256_hex. */
static void assert_reads_back(struct s3_client *c, const char *key, const char *version_id,
                              uint64_t n, const char *sha256_hex)
{
    struct sha_sink sink;
    unsigned char md[32];
    unsigned int mdlen = 0;
    char hex[65];
    struct cm_err err;

    sink.md = EVP_MD_CTX_new();
    sink.n = 0;
    assert_non_null(sink.md);
    assert_int_equal(EVP_DigestInit_ex(sink.md, EVP_sha256(), NULL), 1);
    assert_int_equal(s3_client_get_object(c, key, version_id, NULL, sha_write, &sink, NULL, &err),
                     0);
    assert_int_equal(EVP_DigestFinal_ex(sink.md, md, &mdlen), 1);
    EVP_MD_CTX_free(sink.md);
    s3_hex(md, 32, hex);
    assert_int_equal(sink.n, n);
    assert_string_equal(sha256_hex, hex);
}

static void test_multipart_locked(void **state)
{
    struct rgw_env *e = *state;
    const size_t total = (20u << 20) + 12345; /* 5 parts of 5 MiB */
    struct s3_client *c = rgw_client(e, e->bucket, true, NULL, S3_MIN_PART_SIZE);
    struct s3_upload *u = NULL;
    struct s3_put_opts po;
    struct s3_put_result r;
    unsigned char *chunk = malloc(70001);
    unsigned char md[32];
    unsigned int mdlen = 0;
    char hex[65];
    EVP_MD_CTX *ref = EVP_MD_CTX_new();
    enum s3_lock_mode mode;
    time_t until;
    time_t t0 = (time_t)(cm_time_now_ms() / 1000) + 600;
    size_t sent = 0;
    uint32_t x = 12345;
    struct cm_err err;
    size_t i;

    assert_non_null(chunk);
    assert_non_null(ref);
    assert_int_equal(EVP_DigestInit_ex(ref, EVP_sha256(), NULL), 1);
    memset(&po, 0, sizeof(po));
    po.lock_mode = S3_LOCK_COMPLIANCE;
    po.retain_until = t0;
    assert_int_equal(s3_upload_open(c, "prod/rp1/archive.tar.gz", &po, &u, &err), 0);
    while (sent < total) {
        size_t n = total - sent < 70001 ? total - sent : 70001; /* odd chunk size */

        for (i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            chunk[i] = (unsigned char)(x >> 16);
        }
        assert_int_equal(EVP_DigestUpdate(ref, chunk, n), 1);
        assert_int_equal(s3_upload_write(u, chunk, n, &err), 0);
        sent += n;
    }
    assert_int_equal(s3_upload_close(u, &r, &err), 0);
    assert_int_equal(EVP_DigestFinal_ex(ref, md, &mdlen), 1);
    s3_hex(md, 32, hex);
    assert_int_equal(r.parts, 5);
    assert_int_equal(r.size, total);
    assert_string_equal(r.sha256_hex, hex);
    assert_true(r.version_id[0] != '\0');
    assert_true(r.etag[0] != '\0'); /* from HEAD: radosgw leaves the Complete ETag empty */

    /* Read it back and compare digests. */
    assert_reads_back(c, "prod/rp1/archive.tar.gz", r.version_id, total, r.sha256_hex);

    /* The version is locked although radosgw ignored the multipart lock headers. */
    assert_int_equal(
        s3_client_get_retention(c, "prod/rp1/archive.tar.gz", r.version_id, &mode, &until, &err),
        0);
    assert_int_equal(mode, S3_LOCK_COMPLIANCE);
    assert_int_equal((long long)until, (long long)t0);
    assert_int_equal(
        s3_client_delete_object(c, "prod/rp1/archive.tar.gz", r.version_id, false, &err),
        CM_ELOCKED);
    EVP_MD_CTX_free(ref);
    free(chunk);
    s3_client_destroy(c);
}

/* The uploader's digests, hashed as the bytes were written, are the ones radosgw
 * computes: a 2.5 MB locked single PUT in odd-sized writes lands and reads back equal.
 * And a request whose precomputed digest is wrong stores nothing: radosgw refuses it. */
static void test_upload_digests_verified(void **state)
{
    struct rgw_env *e = *state;
    const size_t total = 2500000;
    struct s3_upload *u = NULL;
    struct s3_put_opts po;
    struct s3_put_result r;
    struct s3_object_info info;
    struct s3_req req;
    struct s3_resp resp;
    unsigned char *data = malloc(total);
    unsigned char md[32];
    unsigned int mdlen = 0;
    char hex[65];
    char etag[40];
    char sha[65];
    char md5[25];
    uint32_t x = 777;
    size_t off;
    struct cm_err err;

    assert_non_null(data);
    for (off = 0; off < total; off++) {
        x = x * 1103515245u + 12345u;
        data[off] = (unsigned char)(x >> 16);
    }
    memset(&po, 0, sizeof(po));
    po.lock_mode = S3_LOCK_COMPLIANCE;
    po.retain_until = (time_t)(cm_time_now_ms() / 1000) + 300;
    assert_int_equal(s3_upload_open(e->c, "digest/single", &po, &u, &err), 0);
    for (off = 0; off < total;) {
        size_t n = total - off < 65537 ? total - off : 65537;

        assert_int_equal(s3_upload_write(u, data + off, n, &err), 0);
        off += n;
    }
    assert_int_equal(s3_upload_close(u, &r, &err), 0);
    assert_int_equal(r.parts, 0); /* below the default part size: one PUT */
    s3_sha256_hex(data, total, hex);
    assert_string_equal(r.sha256_hex, hex);
    /* A single PUT's ETag is the MD5 radosgw computed over what it received. */
    assert_int_equal(EVP_Digest(data, total, md, &mdlen, EVP_md5(), NULL), 1);
    etag[0] = '"';
    s3_hex(md, 16, etag + 1);
    (void)snprintf(etag + 33, sizeof(etag) - 33, "\"");
    assert_string_equal(r.etag, etag);
    assert_reads_back(e->c, "digest/single", r.version_id, total, r.sha256_hex);

    /* Wrong precomputed digests: refused as an integrity failure, nothing stored. */
    s3_sha256_hex(data, 1000, sha);
    s3_md5_base64(data + 1, 1000, md5); /* the MD5 of other bytes */
    memset(&req, 0, sizeof(req));
    req.method = "PUT";
    req.key = "digest/wrong-md5";
    req.body = data;
    req.body_len = 1000;
    req.body_sha256_hex = sha;
    req.body_md5_b64 = md5;
    assert_int_equal(s3_request(e->c, &req, &resp, &err), CM_EINTEGRITY);
    assert_non_null(strstr(err.msg, "BadDigest"));
    assert_int_equal(s3_client_head_object(e->c, "digest/wrong-md5", NULL, &info, &err), CM_ENOENT);
    s3_sha256_hex(data + 1, 1000, sha); /* the SHA-256 of other bytes, signed as given */
    s3_md5_base64(data, 1000, md5);
    req.key = "digest/wrong-sha";
    assert_int_equal(s3_request(e->c, &req, &resp, &err), CM_EINTEGRITY);
    assert_non_null(strstr(err.msg, "XAmzContentSHA256Mismatch"));
    assert_int_equal(s3_client_head_object(e->c, "digest/wrong-sha", NULL, &info, &err), CM_ENOENT);
    free(data);
}

/* A transport that answers 503 SlowDown for chosen calls (by number) and hands every
 * other call to the real libcurl transport: retries proven against radosgw itself. Calls
 * in lose_mask reach radosgw, which carries them out, but their answer is dropped and
 * the call fails as a reset connection would: a lost response. status[] keeps the
 * status radosgw answered to each call. */
struct flaky {
    void *curl;
    unsigned calls;
    unsigned fail_mask; /* bit n set: call n+1 gets a 503 */
    unsigned lose_mask; /* bit n set: call n+1's answer is lost */
    long status[32];
    /* When set: before call intrude_at + 1, another writer stores a small object at
     * intrude_key through this client (its own connection). */
    struct s3_client *intruder;
    unsigned intrude_at;
    const char *intrude_key;
    int intrude_rc;
    struct s3_put_result intruded;
};

/* Passes a response on to inner (NULL: drops it), noting its status. */
struct tap {
    const struct s3_http_response *inner;
    long status;
};

static int tap_status(long status, void *ctx)
{
    struct tap *t = ctx;

    t->status = status;
    return t->inner != NULL ? t->inner->on_status(status, t->inner->ctx) : 0;
}

static int tap_header(const char *n, size_t nl, const char *v, size_t vl, void *ctx)
{
    struct tap *t = ctx;

    return t->inner != NULL ? t->inner->on_header(n, nl, v, vl, t->inner->ctx) : 0;
}

static int tap_body(const void *p, size_t n, void *ctx)
{
    struct tap *t = ctx;

    return t->inner != NULL ? t->inner->on_body(p, n, t->inner->ctx) : 0;
}

static int flaky_perform(void *ctx, const struct s3_http_request *req,
                         const struct s3_http_response *resp, struct cm_err *err)
{
    static const char body[] = "<Error><Code>SlowDown</Code><Message>injected</Message></Error>";
    struct flaky *f = ctx;
    unsigned n = f->calls++;
    bool lose = n < 32 && (f->lose_mask & (1u << n)) != 0;
    struct tap t = {lose ? NULL : resp, 0};
    struct s3_http_response tr = {tap_header, tap_status, tap_body, &t};
    int rc;

    if (f->intruder != NULL && n == f->intrude_at) {
        struct cm_err ie;

        f->intrude_rc = s3_client_put_object(f->intruder, f->intrude_key, "intruder", 8, NULL,
                                             &f->intruded, &ie);
    }
    if (n < 32 && (f->fail_mask & (1u << n)) != 0) {
        rc = resp->on_status(503, resp->ctx);
        if (rc == 0)
            rc = resp->on_header("Retry-After", 11, "0", 1, resp->ctx);
        if (rc == 0)
            rc = resp->on_body(body, sizeof(body) - 1, resp->ctx);
        return rc;
    }
    rc = s3_curl_transport.perform(f->curl, req, &tr, err);
    if (n < 32)
        f->status[n] = t.status;
    if (lose && rc == 0)
        rc = cm_err_set(err, CM_ECONN, "injected: the answer (HTTP %ld) was lost", t.status);
    return rc;
}

static void flaky_destroy(void *ctx)
{
    struct flaky *f = ctx;

    s3_curl_transport.destroy(f->curl);
    f->curl = NULL;
}

static const struct s3_transport flaky_transport = {flaky_perform, flaky_destroy};

/* A path-style client for e's bucket, part size S3_MIN_PART_SIZE, on the flaky transport
 * fl (its libcurl transport made here; the client destroys it), counting its backoff
 * sleeps in sl. Fails the test when it cannot be made. */
static struct s3_client *flaky_client(struct rgw_env *e, struct flaky *fl, struct rgw_sleeps *sl)
{
    struct s3_curl_opts co = {NULL, 5000, 30000};
    struct s3_config cfg;
    struct s3_client *c = NULL;
    struct cm_err err;

    assert_int_equal(s3_curl_create(&co, &fl->curl, &err), 0);
    memset(&cfg, 0, sizeof(cfg));
    cfg.endpoint = e->endpoint;
    cfg.bucket = e->bucket;
    cfg.path_style = true;
    cfg.creds = &e->creds;
    cfg.part_size = S3_MIN_PART_SIZE;
    cfg.sleep = rgw_count_sleep;
    cfg.sleep_ctx = sl;
    cfg.transport = &flaky_transport;
    cfg.transport_ctx = fl;
    assert_int_equal(s3_client_create(&cfg, &c, &err), 0);
    return c;
}

static void test_503_retried_against_rgw(void **state)
{
    struct rgw_env *e = *state;
    struct flaky fl = {0};
    struct rgw_sleeps sl = {0};
    struct s3_client *c = flaky_client(e, &fl, &sl);
    struct s3_upload *u = NULL;
    struct s3_put_opts po;
    struct s3_put_result r;
    enum s3_lock_mode mode;
    time_t until;
    char *buf = NULL;
    size_t len = 0;
    unsigned char *data = malloc(S3_MIN_PART_SIZE + 100);
    struct cm_err err;

    assert_non_null(data);
    memset(data, 'r', S3_MIN_PART_SIZE + 100);

    /* Single PUT: the first attempt gets 503, the re-signed second one lands. */
    fl.fail_mask = 1u << 0;
    memset(&po, 0, sizeof(po));
    po.lock_mode = S3_LOCK_COMPLIANCE;
    po.retain_until = (time_t)(cm_time_now_ms() / 1000) + 300;
    assert_int_equal(s3_client_put_object(c, "retry/one", "payload", 7, &po, &r, &err), 0);
    assert_int_equal(sl.n, 1);
    assert_int_equal(
        s3_client_get_object_mem(c, "retry/one", r.version_id, 64, &buf, &len, NULL, &err), 0);
    assert_int_equal(len, 7);
    assert_memory_equal(buf, "payload", 7);
    cm_free(buf);

    /* Multipart: calls are create(1), part 1(2), part 2(3), ...; 503 on both parts'
     * first attempts; each part is re-sent from its buffer. */
    fl.calls = 0;
    fl.fail_mask = (1u << 1) | (1u << 3);
    sl.n = 0;
    assert_int_equal(s3_upload_open(c, "retry/multi", &po, &u, &err), 0);
    assert_int_equal(s3_upload_write(u, data, S3_MIN_PART_SIZE + 100, &err), 0);
    assert_int_equal(s3_upload_close(u, &r, &err), 0);
    assert_int_equal(sl.n, 2);
    assert_int_equal(r.parts, 2);
    assert_int_equal(r.size, S3_MIN_PART_SIZE + 100);
    assert_int_equal(s3_client_get_retention(c, "retry/multi", r.version_id, &mode, &until, &err),
                     0);
    assert_int_equal(mode, S3_LOCK_COMPLIANCE);

    /* Every attempt refused: CM_EAGAIN after the bounded attempts (default 5). */
    fl.calls = 0;
    fl.fail_mask = 0x1f;
    sl.n = 0;
    assert_int_equal(s3_client_head_bucket(c, &err), CM_EAGAIN);
    assert_non_null(strstr(err.msg, "503 SlowDown: injected"));
    assert_int_equal(fl.calls, 5);
    assert_int_equal(sl.n, 4);
    s3_client_destroy(c);
    free(data);
}

/* radosgw completes the upload but its answer is lost, and the completion is retried.
 * radosgw 16.2 never answers that retry NoSuchUpload (the AWS case, unit-tested on the
 * fault transport): it answers 200 itself, without a version id, when the key's object
 * has the ETag the parts make, and "500 InternalError: This multipart completion is
 * already in progress" on every attempt once another writer stored a newer version of
 * the key. Either way the client finds its version by its multipart ETag (radosgw's,
 * which this test also computes from the parts' MD5s) and locks that version, never the
 * newer one. */
static void lost_complete_answer(struct rgw_env *e, bool intrude)
{
    const size_t len = S3_MIN_PART_SIZE + 100;
    const char *key = intrude ? "lost/intruded" : "lost/complete";
    struct flaky fl = {0};
    struct rgw_sleeps sl = {0};
    struct s3_client *c = flaky_client(e, &fl, &sl);
    struct s3_upload *u = NULL;
    struct s3_put_opts po;
    struct s3_put_result r;
    struct s3_object_info info;
    enum s3_lock_mode mode;
    time_t until;
    unsigned char *data = malloc(len);
    unsigned char md5s[32];
    unsigned char md[16];
    unsigned int mdlen = 0;
    char want[48];
    char *buf = NULL;
    size_t got = 0;
    uint32_t x = 99;
    struct cm_err err;
    size_t i;

    assert_non_null(data);
    for (i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (unsigned char)(x >> 16);
    }
    /* "<MD5 of the two parts' binary MD5s>-2", as S3 and radosgw make it. */
    assert_int_equal(EVP_Digest(data, S3_MIN_PART_SIZE, md5s, &mdlen, EVP_md5(), NULL), 1);
    assert_int_equal(EVP_Digest(data + S3_MIN_PART_SIZE, 100, md5s + 16, &mdlen, EVP_md5(), NULL),
                     1);
    assert_int_equal(EVP_Digest(md5s, 32, md, &mdlen, EVP_md5(), NULL), 1);
    want[0] = '"';
    for (i = 0; i < 16; i++)
        (void)snprintf(want + 1 + 2 * i, 3, "%02x", md[i]);
    (void)snprintf(want + 33, sizeof(want) - 33, "-2\"");

    /* Calls: create(0), part 1(1), part 2(2), complete(3, answer lost), complete(4). */
    fl.lose_mask = 1u << 3;
    if (intrude) {
        fl.intruder = e->c;
        fl.intrude_at = 4;
        fl.intrude_key = key;
    }
    memset(&po, 0, sizeof(po));
    po.lock_mode = S3_LOCK_COMPLIANCE;
    po.retain_until = (time_t)(cm_time_now_ms() / 1000) + 300;
    assert_int_equal(s3_upload_open(c, key, &po, &u, &err), 0);
    assert_int_equal(s3_upload_write(u, data, len, &err), 0);
    if (s3_upload_close(u, &r, &err) != 0)
        fail_msg("close after a lost CompleteMultipartUpload answer: %s", err.msg);
    assert_int_equal(fl.status[3], 200); /* radosgw completed it */
    assert_int_equal(r.parts, 2);
    assert_int_equal(r.size, len);
    assert_true(r.version_id[0] != '\0');
    assert_string_equal(r.etag, want);
    if (intrude) {
        assert_int_equal(fl.intrude_rc, 0);
        assert_int_equal(fl.status[4], 500); /* "already in progress", on every attempt */
        assert_int_equal(sl.n, 4);
        assert_string_not_equal(r.version_id, fl.intruded.version_id);
    } else {
        assert_int_equal(fl.status[4], 200); /* radosgw recognised its own completion */
        assert_int_equal(sl.n, 1);
    }
    /* That version is locked and holds our bytes. */
    assert_int_equal(s3_client_get_retention(c, key, r.version_id, &mode, &until, &err), 0);
    assert_int_equal(mode, S3_LOCK_COMPLIANCE);
    assert_int_equal(s3_client_get_object_mem(c, key, r.version_id, len, &buf, &got, &info, &err),
                     0);
    assert_int_equal(got, len);
    assert_memory_equal(buf, data, len);
    cm_free(buf);
    s3_client_destroy(c);
    free(data);
}

static void test_lost_complete_answer(void **state)
{
    lost_complete_answer(*state, false);
}

static void test_lost_complete_answer_key_rewritten(void **state)
{
    lost_complete_answer(*state, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_multipart_locked, rgw_env_setup, rgw_env_teardown),
        cmocka_unit_test_setup_teardown(test_upload_digests_verified, rgw_env_setup,
                                        rgw_env_teardown),
        cmocka_unit_test_setup_teardown(test_503_retried_against_rgw, rgw_env_setup,
                                        rgw_env_teardown),
        cmocka_unit_test_setup_teardown(test_lost_complete_answer, rgw_env_setup, rgw_env_teardown),
        cmocka_unit_test_setup_teardown(test_lost_complete_answer_key_rewritten, rgw_env_setup,
                                        rgw_env_teardown),
    };
    struct cm_err err;

    cm_log_set_level(CM_LOG_ERROR);
    if (s3_global_init(&err) != 0)
        return 1;
    int rc = cmocka_run_group_tests_name("s3_rgw_upload", tests, NULL, NULL);
    s3_global_cleanup();
    return rc;
}
