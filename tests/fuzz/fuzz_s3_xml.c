/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_s3_xml.c - libFuzzer target for the S3 XML reader and every S3 response parser
 * (error bodies, versioning, Object Lock configuration, retention, legal hold,
 * multipart results, ListObjectsV2 / ListObjectVersions pages) and timestamps.
 *
 * Why hostile: every byte comes from the network: a misconfigured or malicious S3
 * endpoint, a proxy in front of it, or a truncated connection decides what the backup
 * executor parses, so a crash, hang or over-read would let whoever controls the endpoint
 * stop backups or corrupt the prune/verify decisions.
 * What it bounds: input capped at 256 KiB; the first byte picks the parser, the rest is
 * the body; the raw tree walk checks every node's name/text lies inside the parser's
 * own copy (no dangling pointers), and list callbacks check their strings. */
#include "backup/s3/s3_int.h"

#include <string.h>

#define FUZZ_MAX_INPUT (256u << 10)

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static unsigned walk(const struct s3_xml *x, const struct s3_xml_node *n, unsigned depth)
{
    const struct s3_xml_node *c;
    unsigned count = 1;
    volatile char sink = 0;

    if (depth > S3_MAX_XML_DEPTH + 1)
        __builtin_trap();
    if (n->name_len > 0)
        sink ^= n->name[n->name_len - 1];
    if (n->text_len > 0)
        sink ^= n->text[n->text_len - 1];
    (void)sink;
    for (c = s3_xml_child(x, n, NULL); c != NULL; c = s3_xml_next(x, c, NULL))
        count += walk(x, c, depth + 1);
    return count;
}

static int list_cb(const struct s3_list_entry *e, void *ctx)
{
    unsigned *n = ctx;

    if (e->key == NULL || strlen(e->key) > S3_MAX_KEY)
        __builtin_trap();
    if (e->version_id != NULL && strlen(e->version_id) > S3_MAX_VERSION_ID)
        __builtin_trap();
    (*n)++;
    return *n > 100000 ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    const char *body = (const char *)data + 1;
    size_t len;
    struct cm_err err;
    int rc = 0;

    if (size < 1 || size > FUZZ_MAX_INPUT)
        return 0;
    len = size - 1;
    switch (data[0] % 11) {
    case 0: {
        struct s3_xml *x = NULL;

        if (s3_xml_parse(body, len, &x, &err) == 0) {
            (void)walk(x, s3_xml_root(x), 1);
            s3_xml_destroy(x);
        }
        break;
    }
    case 1: {
        struct s3_error_info ei;

        s3_error_parse(body, len, &ei);
        if (strlen(ei.code) >= sizeof(ei.code) || strlen(ei.message) >= sizeof(ei.message))
            __builtin_trap();
        break;
    }
    case 2: {
        enum s3_versioning v;

        rc = s3_parse_versioning(body, len, &v, &err);
        break;
    }
    case 3: {
        struct s3_lock_config lc;

        rc = s3_parse_lock_config(body, len, &lc, &err);
        break;
    }
    case 4: {
        enum s3_lock_mode m;
        time_t t;

        rc = s3_parse_retention(body, len, &m, &t, &err);
        break;
    }
    case 5: {
        bool on;

        rc = s3_parse_legal_hold(body, len, &on, &err);
        break;
    }
    case 6: {
        char id[1025];

        rc = s3_parse_upload_id(body, len, id, sizeof(id), &err);
        break;
    }
    case 7: {
        char etag[S3_MAX_ETAG + 1];

        rc = s3_parse_complete(body, len, etag, sizeof(etag), &err);
        break;
    }
    case 8:
    case 9: {
        struct s3_list_page page;
        unsigned n = 0;

        rc = s3_parse_list_page(body, len, data[0] % 11 == 9, list_cb, &n, &page, &err);
        break;
    }
    default: {
        time_t t;

        rc = s3_time_parse(body, len < 64 ? len : 64, &t);
        break;
    }
    }
    (void)rc; /* any outcome is fine; crashes, hangs and leaks are not */
    return 0;
}
