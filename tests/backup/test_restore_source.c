/* SPDX-License-Identifier: Apache-2.0 */
/* test_restore_source.c - reading a restore point back (through the shared reader): a
 * complete point verifies and yields its objects and the weakest lock; every kind of
 * damage is refused with CM_EINTEGRITY naming what differs (an entry's digest, an
 * extra, missing or repeated entry, the archive's digest, a truncated or missing
 * archive, a manifest for another point); a later manifest.json or archive version
 * (a foreign write) is ignored and counted; a partial point is CM_ENOENT; encrypted
 * points need the right key; listing ids ignores what is not an id. An in-memory,
 * versioned S3 transport serves the bucket. */
#include "backup/backup.h"
#include "backup/s3/s3.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define ID "20261122T093000Z-1a2b3c4d"
#define T0 ((time_t)1795339800) /* the id's time */

/* ---- an in-memory bucket behind the s3 transport vtable ---- */

#define MEM_MAX 16

struct mem_obj {
    char key[256];
    char version[16]; /* every PUT makes a new version, as in a versioned bucket */
    unsigned char *data;
    size_t len;
    char headers[256]; /* "Name: value\n" lines */
};

struct mem_bucket {
    struct mem_obj o[MEM_MAX];
    size_t n;
    size_t truncate; /* > 0: GET bodies stop after this many bytes (reset) */
};

static void mem_put(struct mem_bucket *b, const char *key, const void *p, size_t n,
                    const char *headers)
{
    struct mem_obj *o = &b->o[b->n++];

    assert_true(b->n <= MEM_MAX);
    snprintf(o->key, sizeof(o->key), "%s", key);
    snprintf(o->version, sizeof(o->version), "v%zu", b->n);
    o->data = malloc(n + 1);
    assert_non_null(o->data);
    memcpy(o->data, p, n);
    o->len = n;
    snprintf(o->headers, sizeof(o->headers), "%s", headers != NULL ? headers : "");
}

static void mem_clear(struct mem_bucket *b)
{
    size_t i;

    for (i = 0; i < b->n; i++)
        free(b->o[i].data);
    memset(b, 0, sizeof(*b));
}

/* The version asked for, else the latest (the last PUT) of key. */
static struct mem_obj *mem_get(struct mem_bucket *b, const char *key, const char *version)
{
    size_t i;

    for (i = b->n; i > 0; i--) {
        struct mem_obj *o = &b->o[i - 1];

        if (strcmp(o->key, key) == 0 && (version[0] == '\0' || strcmp(o->version, version) == 0))
            return o;
    }
    return NULL;
}

/* The value of query parameter name ("" when absent). */
static void query_param(const char *query, const char *name, char *out, size_t len)
{
    size_t nl = strlen(name);
    const char *p = query;

    out[0] = '\0';
    while (p != NULL && *p != '\0') {
        if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
            snprintf(out, len, "%.*s", (int)strcspn(p + nl + 1, "&"), p + nl + 1);
            return;
        }
        p = strchr(p, '&');
        p = p != NULL ? p + 1 : NULL;
    }
}

static int send_headers(const struct s3_http_response *resp, const char *h)
{
    while (*h != '\0') {
        const char *nl = strchr(h, '\n');
        const char *colon = strchr(h, ':');
        int rc;

        if (nl == NULL || colon == NULL || colon > nl)
            return 0;
        rc =
            resp->on_header(h, (size_t)(colon - h), colon + 2, (size_t)(nl - colon - 2), resp->ctx);
        if (rc != 0)
            return rc;
        h = nl + 1;
    }
    return 0;
}

/* Decodes %XX in place. */
static void unescape(char *s)
{
    char *w = s;

    for (; *s != '\0'; s++) {
        if (s[0] == '%' && s[1] != '\0' && s[2] != '\0') {
            char hex[3] = {s[1], s[2], '\0'};

            *w++ = (char)strtol(hex, NULL, 16);
            s += 2;
        } else {
            *w++ = *s;
        }
    }
    *w = '\0';
}

static int reply(const struct s3_http_response *resp, long status, const char *headers,
                 const void *body, size_t n)
{
    char h[512];
    int rc;

    snprintf(h, sizeof(h), "Content-Length: %zu\n%s", n, headers);
    rc = resp->on_status(status, resp->ctx);
    if (rc == 0)
        rc = send_headers(resp, h);
    if (rc == 0 && n > 0)
        rc = resp->on_body(body, n, resp->ctx);
    return rc;
}

static int mem_list(struct mem_bucket *b, const char *query, const struct s3_http_response *resp)
{
    char prefix[256] = "";
    char xml[4096];
    const char *p = strstr(query, "prefix=");
    size_t used;
    size_t i;

    if (p != NULL) {
        snprintf(prefix, sizeof(prefix), "%.*s", (int)strcspn(p + 7, "&"), p + 7);
        unescape(prefix);
    }
    used = (size_t)snprintf(xml, sizeof(xml),
                            "<?xml version=\"1.0\"?><ListBucketResult><Name>b-test</Name>"
                            "<Prefix>%s</Prefix><KeyCount>0</KeyCount><IsTruncated>false"
                            "</IsTruncated>",
                            prefix);
    for (i = 0; i < b->n; i++) {
        const char *k = b->o[i].key;
        const char *slash;
        size_t j;
        bool dup = false;

        if (strncmp(k, prefix, strlen(prefix)) != 0)
            continue;
        slash = strchr(k + strlen(prefix), '/');
        if (slash == NULL)
            continue;
        for (j = 0; j < i; j++) /* one CommonPrefix per directory */
            dup = dup || (strncmp(b->o[j].key, k, (size_t)(slash - k + 1)) == 0);
        if (!dup)
            used += (size_t)snprintf(xml + used, sizeof(xml) - used,
                                     "<CommonPrefixes><Prefix>%.*s</Prefix></CommonPrefixes>",
                                     (int)(slash - k + 1), k);
    }
    snprintf(xml + used, sizeof(xml) - used, "</ListBucketResult>");
    return reply(resp, 200, "Content-Type: application/xml\n", xml, strlen(xml));
}

/* ListObjectVersions: newest first, as S3 lists the versions of one key. */
static int mem_list_versions(struct mem_bucket *b, const char *query,
                             const struct s3_http_response *resp)
{
    char prefix[256];
    char xml[8192];
    size_t used;
    size_t i;

    query_param(query, "prefix", prefix, sizeof(prefix));
    unescape(prefix);
    used = (size_t)snprintf(xml, sizeof(xml),
                            "<?xml version=\"1.0\"?><ListVersionsResult><Name>b-test</Name>"
                            "<Prefix>%s</Prefix><IsTruncated>false</IsTruncated>",
                            prefix);
    for (i = b->n; i > 0; i--) {
        const struct mem_obj *o = &b->o[i - 1];

        if (strncmp(o->key, prefix, strlen(prefix)) != 0)
            continue;
        used += (size_t)snprintf(xml + used, sizeof(xml) - used,
                                 "<Version><Key>%s</Key><VersionId>%s</VersionId>"
                                 "<IsLatest>%s</IsLatest><Size>%zu</Size></Version>",
                                 o->key, o->version, mem_get(b, o->key, "") == o ? "true" : "false",
                                 o->len);
        assert_true(used < sizeof(xml));
    }
    snprintf(xml + used, sizeof(xml) - used, "</ListVersionsResult>");
    return reply(resp, 200, "Content-Type: application/xml\n", xml, strlen(xml));
}

static int mem_perform(void *ctx, const struct s3_http_request *req,
                       const struct s3_http_response *resp, struct cm_err *err)
{
    static const char nokey[] = "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code>"
                                "<Message>missing</Message></Error>";
    struct mem_bucket *b = ctx;
    const char *path = strstr(req->url, "/b-test");
    char key[512];
    char version[64];
    char *q;
    struct mem_obj *o;

    assert_non_null(path);
    path += strlen("/b-test");
    snprintf(key, sizeof(key), "%s", *path == '/' ? path + 1 : path);
    q = strchr(key, '?');
    if (q != NULL)
        *q++ = '\0';
    unescape(key);
    if (strcmp(req->method, "GET") == 0 && key[0] == '\0' && q != NULL &&
        (strncmp(q, "versions", 8) == 0 || strstr(q, "&versions") != NULL))
        return mem_list_versions(b, q, resp);
    if (strcmp(req->method, "GET") == 0 && key[0] == '\0')
        return mem_list(b, q != NULL ? q : "", resp);
    query_param(q != NULL ? q : "", "versionId", version, sizeof(version));
    o = mem_get(b, key, version);
    if (o == NULL)
        return reply(resp, 404, "Content-Type: application/xml\n", nokey, strlen(nokey));
    if (strcmp(req->method, "HEAD") == 0)
        return reply(resp, 200, o->headers, NULL, 0);
    if (b->truncate > 0 && b->truncate < o->len) {
        char h[512];
        int rc;

        snprintf(h, sizeof(h), "Content-Length: %zu\n%s", o->len, o->headers);
        rc = resp->on_status(200, resp->ctx);
        if (rc == 0)
            rc = send_headers(resp, h);
        if (rc == 0)
            rc = resp->on_body(o->data, b->truncate, resp->ctx);
        return rc != 0 ? rc : cm_err_set(err, CM_EPROTO, "mem: connection reset");
    }
    return reply(resp, 200, o->headers, o->data, o->len);
}

static void mem_destroy(void *ctx)
{
    (void)ctx;
}

static const struct s3_transport mem_transport = {.perform = mem_perform, .destroy = mem_destroy};

static void no_sleep(uint64_t ms, void *ctx)
{
    (void)ms;
    (void)ctx;
}

/* ---- building restore points ---- */

#define F_ENTRY_DIGEST (1u << 0) /* the manifest's digest of one entry is wrong */
#define F_EXTRA_ENTRY (1u << 1)  /* the archive has an entry the manifest lacks */
#define F_MISSING (1u << 2)      /* the manifest lists an entry the archive lacks */
#define F_ARCHIVE_SHA (1u << 3)  /* the manifest's archive digest is wrong */
#define F_OTHER_ID (1u << 4)     /* the manifest names another point */
#define F_NO_ARCHIVE (1u << 5)   /* the archive object is missing */
#define F_DUP_ENTRY (1u << 6)    /* the archive holds one entry twice */
#define F_LEGACY_GZIP (1u << 7)  /* written before zstd: resources.tar.gz, gzip */

/* The zstd archive in arch, recompressed as gzip (two members, as the libdeflate
 * writer of earlier versions left them), replacing arch's contents. */
static void to_gzip(struct cm_buf *arch)
{
    static unsigned char tar[1 << 20];
    static unsigned char gz[1 << 20];
    ZSTD_DCtx *d = ZSTD_createDCtx();
    ZSTD_inBuffer in = {arch->ptr, arch->len, 0};
    ZSTD_outBuffer out = {tar, sizeof(tar), 0};
    size_t half, off = 0;
    int k;

    assert_non_null(d);
    assert_int_equal(ZSTD_decompressStream(d, &out, &in), 0);
    ZSTD_freeDCtx(d);
    half = out.pos / 2;
    for (k = 0; k < 2; k++) {
        z_stream zs;

        memset(&zs, 0, sizeof(zs));
        assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
        zs.next_in = tar + (k ? half : 0);
        zs.avail_in = (uInt)(k ? out.pos - half : half);
        zs.next_out = gz + off;
        zs.avail_out = (uInt)(sizeof(gz) - off);
        assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
        off = sizeof(gz) - zs.avail_out;
        (void)deflateEnd(&zs);
    }
    cm_buf_reset(arch);
    assert_int_equal(cm_buf_add(arch, gz, off), 0);
}

static const char *const entries[][4] = {
    {"resources/core/v1/configmaps/cfg.json", "v1", "ConfigMap",
     "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\","
     "\"namespace\":\"shop\",\"generation\":9007199254740993},\"data\":{\"a\":\"b\"}}"},
    {"resources/apps/v1/deployments/web.json", "apps/v1", "Deployment",
     "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
     "\"namespace\":\"shop\"},\"spec\":{\"replicas\":2}}"},
};

static int mem_sink(void *ctx, const void *p, size_t n, struct cm_err *err)
{
    (void)err;
    return cm_buf_add(ctx, p, n);
}

/* Adds core/v1 object ns "shop" kind/name with JSON json to m's resources. */
static void add_core_resource(struct backup_manifest *m, const char *kind, const char *resource,
                              const char *name, const char *json)
{
    struct backup_mf_resource r;
    char path[256];

    snprintf(path, sizeof(path), "resources/core/v1/%s/%s.json", resource, name);
    memset(&r, 0, sizeof(r));
    r.api_version = (char *)"v1";
    r.kind = (char *)kind;
    r.resource = (char *)resource;
    r.namespace_ = (char *)"shop";
    r.name = (char *)name;
    r.path = path;
    r.size = strlen(json);
    backup_sha256_hex(json, strlen(json), r.sha256);
    assert_int_equal(backup_manifest_add_resource(m, &r), 0);
}

struct fx {
    struct mem_bucket bucket;
    struct s3_client *s3;
    struct backup_key key;
};

static void put_point(struct fx *fx, unsigned flags, const struct backup_key *key)
{
    struct backup_archive_writer *w = NULL;
    struct backup_manifest *m = NULL;
    struct cm_buf arch;
    struct cm_buf mf;
    struct cm_err err;
    char akey[BACKUP_KEY_MAX];
    char mkey[BACKUP_KEY_MAX];
    size_t i;

    cm_buf_init(&arch, 1 << 20);
    cm_buf_init(&mf, 1 << 20);
    assert_int_equal(backup_archive_writer_create(mem_sink, &arch, key, T0, &w, &err), 0);
    assert_int_equal(backup_manifest_create((flags & F_OTHER_ID) ? "20261122T093000Z-ffffffff" : ID,
                                            "shop", "goldpolicy", &m),
                     0);
    for (i = 0; i < CM_ARRAY_LEN(entries); i++) {
        const char *json = entries[i][3];
        struct backup_mf_resource r;
        char name[64];

        memset(&r, 0, sizeof(r));
        snprintf(name, sizeof(name), "%s", i == 0 ? "cfg" : "web");
        r.api_version = (char *)entries[i][1];
        r.kind = (char *)entries[i][2];
        r.resource = (char *)(i == 0 ? "configmaps" : "deployments");
        r.namespace_ = (char *)"shop";
        r.name = name;
        r.path = (char *)entries[i][0];
        r.size = strlen(json);
        backup_sha256_hex(json, strlen(json), r.sha256);
        if (i == 1 && (flags & F_ENTRY_DIGEST))
            r.sha256[0] = r.sha256[0] == '0' ? '1' : '0';
        assert_int_equal(backup_manifest_add_resource(m, &r), 0);
        assert_int_equal(backup_archive_writer_add(w, entries[i][0], json, strlen(json), &err), 0);
        if (i == 1 && (flags & F_DUP_ENTRY))
            assert_int_equal(backup_archive_writer_add(w, entries[i][0], json, strlen(json), &err),
                             0);
    }
    if (flags & F_EXTRA_ENTRY)
        assert_int_equal(
            backup_archive_writer_add(w, "resources/core/v1/secrets/x.json", "{}", 2, &err), 0);
    if (flags & F_MISSING)
        add_core_resource(m, "Secret", "secrets", "gone", "{}");
    assert_int_equal(backup_archive_writer_finish(w, &err), 0);
    m->completed_at = m->created_at + 5;
    memcpy(m->lock_mode, "COMPLIANCE", 11);
    m->retain_until = T0 + 30 * 86400;
    m->archive_size = backup_archive_writer_bytes(w);
    memcpy(m->archive_sha256, backup_archive_writer_sha256(w), 65);
    if (flags & F_LEGACY_GZIP) {
        to_gzip(&arch);
        m->archive_size = arch.len;
        backup_sha256_hex(arch.ptr, arch.len, m->archive_sha256);
        assert_int_equal(backup_manifest_set_str(&m->archive_key, BACKUP_ARCHIVE_NAME_GZ), 0);
    }
    if (flags & F_ARCHIVE_SHA)
        m->archive_sha256[5] = m->archive_sha256[5] == 'a' ? 'b' : 'a';
    if (key != NULL) {
        memcpy(m->key_id, key->id, sizeof(m->key_id));
        assert_int_equal(backup_manifest_set_str(&m->archive_key, BACKUP_ARCHIVE_NAME_ENC), 0);
    }
    assert_int_equal(backup_manifest_format(m, &mf), 0);
    assert_int_equal(
        backup_rp_key("gold", "shop", ID, BACKUP_MANIFEST_NAME, mkey, sizeof(mkey), &err), 0);
    assert_int_equal(backup_rp_key("gold", "shop", ID, m->archive_key, akey, sizeof(akey), &err),
                     0);
    mem_put(&fx->bucket, mkey, mf.ptr, mf.len,
            "x-amz-object-lock-mode: COMPLIANCE\n"
            "x-amz-object-lock-retain-until-date: 2026-12-22T09:30:00Z\n"
            "x-amz-object-lock-legal-hold: ON\n");
    if (!(flags & F_NO_ARCHIVE))
        mem_put(&fx->bucket, akey, arch.ptr, arch.len,
                "x-amz-object-lock-mode: GOVERNANCE\n"
                "x-amz-object-lock-retain-until-date: 2026-12-20T09:30:00Z\n");
    backup_archive_writer_destroy(w);
    backup_manifest_destroy(m);
    cm_buf_free(&arch);
    cm_buf_free(&mf);
}

static int setup(void **state)
{
    static struct fx fx;
    static struct s3_credentials creds;
    struct s3_config cfg;
    static const char hexkey[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    memset(&fx, 0, sizeof(fx));
    memset(&cfg, 0, sizeof(cfg));
    creds.access_key = (char *)"AKIDEXAMPLE";
    creds.secret_key = (char *)"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    cfg.endpoint = "http://127.0.0.1:9";
    cfg.bucket = "b-test";
    cfg.path_style = true;
    cfg.creds = &creds;
    cfg.max_attempts = 1;
    cfg.sleep = no_sleep;
    cfg.jitter_seed = 1;
    cfg.transport = &mem_transport;
    cfg.transport_ctx = &fx.bucket;
    if (s3_client_create(&cfg, &fx.s3, NULL) != 0)
        return -1;
    if (backup_key_parse(hexkey, strlen(hexkey), &fx.key, NULL) != 0)
        return -1;
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;

    s3_client_destroy(fx->s3);
    mem_clear(&fx->bucket);
    return 0;
}

static int read_point(struct fx *fx, const struct backup_key *key, bool keep,
                      struct backup_restore_point **p, struct cm_err *err)
{
    cm_err_clear(err);
    return backup_restore_point_read(fx->s3, "gold", "shop", ID, key, keep, p, err);
}

static void test_complete_point(void **state)
{
    struct fx *fx = *state;
    struct backup_restore_point *p = NULL;
    struct cm_err err;

    put_point(fx, 0, NULL);
    assert_int_equal(read_point(fx, NULL, true, &p, &err), 0);
    assert_int_equal(p->n_objects, 2);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(p->objects[1], "kind")->valuestring,
                        "Deployment");
    /* an integer beyond 2^53 prints back with every digit, as the restore sends it */
    {
        char *txt = cJSON_PrintUnformatted(p->objects[0]);

        assert_non_null(strstr(txt, "\"generation\":9007199254740993}"));
        cJSON_free(txt);
    }
    assert_string_equal(p->mf->id, ID);
    /* The weaker lock of the two objects, the earlier date; hold only if both. */
    assert_int_equal(p->lock_mode, POLICY_LOCK_GOVERNANCE);
    assert_int_equal(p->retain_until, cm_time_from_utc(2026, 12, 20, 9, 30, 0));
    assert_false(p->legal_hold);
    backup_restore_point_destroy(p);
    p = NULL;
    /* Verify only: no objects kept. */
    assert_int_equal(read_point(fx, NULL, false, &p, &err), 0);
    assert_int_equal(p->n_objects, 0);
    assert_null(p->objects);
    backup_restore_point_destroy(p);
    backup_restore_point_destroy(NULL);
}

static void expect_refused(struct fx *fx, unsigned flags, int want, const char *what)
{
    struct backup_restore_point *p = NULL;
    struct cm_err err;
    int rc;

    mem_clear(&fx->bucket);
    put_point(fx, flags, NULL);
    rc = read_point(fx, NULL, true, &p, &err);
    if (rc != want || strstr(err.msg, what) == NULL)
        fail_msg("flags %#x: rc %d \"%s\", want %d with \"%s\"", flags, rc, err.msg, want, what);
    assert_null(p);
}

/* A restore point written before the switch to zstd (resources.tar.gz, "tar+gzip",
 * gzip members) reads and verifies like today's. */
static void test_legacy_gzip_point(void **state)
{
    struct fx *fx = *state;
    struct backup_restore_point *p = NULL;
    struct cm_err err;

    mem_clear(&fx->bucket);
    put_point(fx, F_LEGACY_GZIP, NULL);
    assert_int_equal(read_point(fx, NULL, true, &p, &err), 0);
    assert_int_equal(p->n_objects, 2);
    assert_string_equal(p->mf->archive_key, BACKUP_ARCHIVE_NAME_GZ);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(p->objects[1], "kind")->valuestring,
                        "Deployment");
    backup_restore_point_destroy(p);
    /* damage is still caught */
    expect_refused(fx, F_LEGACY_GZIP | F_ENTRY_DIGEST, CM_EINTEGRITY, "checksum mismatch");
}

static void test_damage_refused(void **state)
{
    struct fx *fx = *state;

    expect_refused(fx, F_ENTRY_DIGEST, CM_EINTEGRITY, "Deployment shop/web: checksum mismatch");
    expect_refused(fx, F_EXTRA_ENTRY, CM_EINTEGRITY,
                   "resources/core/v1/secrets/x.json is not in the manifest");
    expect_refused(fx, F_DUP_ENTRY, CM_EINTEGRITY, "appears twice");
    expect_refused(fx, F_MISSING, CM_EINTEGRITY, "Secret shop/gone: missing from the archive");
    expect_refused(fx, F_ARCHIVE_SHA, CM_EINTEGRITY, "manifest says ");
    expect_refused(fx, F_OTHER_ID, CM_EINTEGRITY, "names restore point shop/");
    expect_refused(fx, F_NO_ARCHIVE, CM_EINTEGRITY, "is missing");
}

/* Object Lock protects versions, not keys: anyone with write access can PUT a newer
 * manifest.json. Restore must read the version the capture wrote, not the latest. */
static void test_foreign_manifest_version_ignored(void **state)
{
    struct fx *fx = *state;
    struct backup_restore_point *p = NULL;
    struct backup_manifest *m = NULL;
    struct cm_buf mf;
    struct cm_err err;
    char mkey[BACKUP_KEY_MAX];
    static const char evil[] = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
                               "{\"name\":\"evil\",\"namespace\":\"shop\"}}";

    put_point(fx, 0, NULL);
    /* The attacker's manifest: well formed, for this very point, naming one object of
     * its own and an archive digest of its choosing. */
    cm_buf_init(&mf, 1 << 20);
    assert_int_equal(backup_manifest_create(ID, "shop", "goldpolicy", &m), 0);
    add_core_resource(m, "ConfigMap", "configmaps", "evil", evil);
    m->completed_at = m->created_at + 5;
    memcpy(m->lock_mode, "NONE", 5);
    m->archive_size = 1;
    memset(m->archive_sha256, 'a', 64);
    assert_int_equal(backup_manifest_format(m, &mf), 0);
    assert_int_equal(
        backup_rp_key("gold", "shop", ID, BACKUP_MANIFEST_NAME, mkey, sizeof(mkey), &err), 0);
    mem_put(&fx->bucket, mkey, mf.ptr, mf.len, NULL);
    backup_manifest_destroy(m);
    cm_buf_free(&mf);

    assert_int_equal(read_point(fx, NULL, true, &p, &err), 0);
    assert_int_equal(p->foreign_versions, 1);
    assert_int_equal(p->mf->n_resources, 2);
    assert_string_equal(p->mf->resources[1].name, "web");
    assert_int_equal(p->n_objects, 2);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(p->objects[1], "kind")->valuestring,
                        "Deployment");
    /* The lock is the original version's, not the unlocked foreign one's. */
    assert_int_equal(p->lock_mode, POLICY_LOCK_GOVERNANCE);
    backup_restore_point_destroy(p);
}

/* The same for the archive: the manifest pins the version the capture wrote. */
static void test_foreign_archive_version_ignored(void **state)
{
    struct fx *fx = *state;
    struct backup_restore_point *p = NULL;
    struct backup_rp *rp = NULL;
    struct cm_err err;
    char akey[BACKUP_KEY_MAX];
    struct mem_obj *orig;

    put_point(fx, 0, NULL);
    assert_int_equal(
        backup_rp_key("gold", "shop", ID, BACKUP_ARCHIVE_NAME, akey, sizeof(akey), &err), 0);
    orig = mem_get(&fx->bucket, akey, "");
    assert_non_null(orig);
    /* Record the original version id in a new manifest as the capture does, then add a
     * damaged archive version on top. */
    {
        struct mem_obj *mo;
        struct backup_manifest *m = NULL;
        struct cm_buf mf;
        char mkey[BACKUP_KEY_MAX];
        unsigned char *bad;

        assert_int_equal(
            backup_rp_key("gold", "shop", ID, BACKUP_MANIFEST_NAME, mkey, sizeof(mkey), &err), 0);
        mo = mem_get(&fx->bucket, mkey, "");
        assert_int_equal(backup_manifest_parse((const char *)mo->data, mo->len, &m, &err), 0);
        snprintf(m->archive_version, sizeof(m->archive_version), "%s", orig->version);
        cm_buf_init(&mf, 1 << 20);
        assert_int_equal(backup_manifest_format(m, &mf), 0);
        free(mo->data);
        mo->data = malloc(mf.len);
        assert_non_null(mo->data);
        memcpy(mo->data, mf.ptr, mf.len);
        mo->len = mf.len;
        cm_buf_free(&mf);
        backup_manifest_destroy(m);
        orig = mem_get(&fx->bucket, akey, "");
        bad = malloc(orig->len);
        assert_non_null(bad);
        memcpy(bad, orig->data, orig->len);
        bad[orig->len / 2] ^= 0x5a;
        mem_put(&fx->bucket, akey, bad, orig->len, NULL);
        free(bad);
    }
    assert_int_equal(read_point(fx, NULL, true, &p, &err), 0);
    assert_int_equal(p->foreign_versions, 1);
    assert_int_equal(p->n_objects, 2);
    backup_restore_point_destroy(p);
    /* verify reads the same pinned versions and reports the foreign one. */
    assert_int_equal(backup_rp_open(fx->s3, "gold", "shop", ID, &rp, &err), 0);
    assert_int_equal(backup_rp_foreign_versions(rp), 1);
    assert_int_equal(backup_rp_foreach_resource(rp, NULL, NULL, NULL, &err), 0);
    backup_rp_destroy(rp);
}

static void test_truncated_archive(void **state)
{
    struct fx *fx = *state;
    struct backup_restore_point *p = NULL;
    struct cm_err err;
    int rc;

    put_point(fx, 0, NULL);
    fx->bucket.truncate = 40;
    rc = read_point(fx, NULL, true, &p, &err);
    fx->bucket.truncate = 0;
    /* The manifest GET is cut too: whichever fails first, nothing is trusted. */
    assert_true(rc != 0);
    assert_null(p);
}

static void test_partial_point(void **state)
{
    struct fx *fx = *state;
    struct backup_restore_point *p = NULL;
    struct cm_err err;

    assert_int_equal(read_point(fx, NULL, true, &p, &err), CM_ENOENT);
    assert_non_null(strstr(err.msg, "is partial or absent"));
}

static void test_encrypted_point(void **state)
{
    struct fx *fx = *state;
    struct backup_restore_point *p = NULL;
    struct backup_key other;
    struct cm_err err;
    static const char otherhex[] =
        "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

    put_point(fx, 0, &fx->key);
    assert_int_equal(read_point(fx, NULL, true, &p, &err), CM_EINVAL);
    assert_non_null(strstr(err.msg, "is encrypted"));
    assert_int_equal(backup_key_parse(otherhex, strlen(otherhex), &other, NULL), 0);
    assert_int_equal(read_point(fx, &other, true, &p, &err), CM_EINVAL);
    assert_non_null(strstr(err.msg, "encrypted with key"));
    assert_int_equal(read_point(fx, &fx->key, true, &p, &err), 0);
    assert_int_equal(p->n_objects, 2);
    backup_restore_point_destroy(p);
}

static void test_list_ids(void **state)
{
    struct fx *fx = *state;
    char(*ids)[BACKUP_ID_LEN + 1] = NULL;
    size_t n = 0;
    struct cm_err err;

    mem_put(&fx->bucket, "gold/shop/20261122T100000Z-00000002/manifest.json", "{}", 2, NULL);
    mem_put(&fx->bucket, "gold/shop/20261121T100000Z-00000001/manifest.json", "{}", 2, NULL);
    mem_put(&fx->bucket, "gold/shop/not-an-id/x", "{}", 2, NULL);
    mem_put(&fx->bucket, "gold/other/20261123T100000Z-00000003/manifest.json", "{}", 2, NULL);
    assert_int_equal(backup_restore_list_ids(fx->s3, "gold", "shop", &ids, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(ids[0], "20261121T100000Z-00000001");
    assert_string_equal(ids[1], "20261122T100000Z-00000002");
    cm_free(ids);
    ids = NULL;
    assert_int_equal(backup_restore_list_ids(fx->s3, "gold", "empty", &ids, &n, &err), 0);
    assert_int_equal(n, 0);
    assert_null(ids);
    assert_int_equal(backup_restore_list_ids(fx->s3, "gold", "Bad_NS", &ids, &n, &err), CM_EINVAL);
}

static void test_read_oom(void **state)
{
    struct fx *fx = *state;
    long i;

    put_point(fx, 0, NULL);
    for (i = 1;; i++) {
        struct backup_restore_point *p = NULL;
        struct cm_err err;
        int rc;

        cm_alloc_fault_set(i);
        rc = read_point(fx, NULL, true, &p, &err);
        cm_alloc_fault_set(0);
        backup_restore_point_destroy(p);
        if (rc == 0)
            break;
        /* Every allocation failure, also inside the archive reader, is CM_ENOMEM. */
        if (rc != CM_ENOMEM)
            fail_msg("allocation %ld: rc %d (%s)", i, rc, err.msg);
    }
    assert_true(i > 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_complete_point, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damage_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy_gzip_point, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_manifest_version_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_archive_version_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_archive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_point, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encrypted_point, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_oom, setup, teardown),
    };

    policy_json_hooks_install();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
