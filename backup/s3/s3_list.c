/* SPDX-License-Identifier: Apache-2.0 */
/* s3_list.c - ListObjectsV2 and ListObjectVersions with paging, entry by entry. */
#include "backup/s3/s3_int.h"

#include <stdio.h>
#include <string.h>

struct list_state {
    struct s3_list_page page;
    char token[S3_MAX_TOKEN + 1];
    char key_marker[S3_MAX_KEY + 1];
    char version_marker[S3_MAX_VERSION_ID + 1];
};

static int list_run(struct s3_client *c, const struct s3_list_opts *opts, bool versions,
                    s3_list_fn fn, void *ctx, unsigned *pages, struct cm_err *err)
{
    struct list_state *st = NULL;
    char max_keys[16];
    unsigned n_pages = 0;
    int rc = 0;

    if (fn == NULL)
        return cm_err_set(err, CM_EINVAL, "s3: no list callback");
    if (opts != NULL && opts->max_keys > 1000)
        return cm_err_set(err, CM_EINVAL, "s3: max_keys above 1000");
    st = cm_calloc(1, sizeof(*st));
    if (st == NULL)
        return cm_err_set(err, CM_ENOMEM, "s3: out of memory");
    (void)snprintf(max_keys, sizeof(max_keys), "%u",
                   opts != NULL && opts->max_keys > 0 ? opts->max_keys : 1000u);
    for (;;) {
        struct s3_req r;
        struct s3_resp resp;

        memset(&r, 0, sizeof(r));
        r.method = "GET";
        if (versions)
            (void)s3_req_query(&r, "versions", "");
        else
            (void)s3_req_query(&r, "list-type", "2");
        if (opts != NULL && opts->prefix != NULL)
            (void)s3_req_query(&r, "prefix", opts->prefix);
        if (opts != NULL && opts->delimiter != NULL)
            (void)s3_req_query(&r, "delimiter", opts->delimiter);
        (void)s3_req_query(&r, "max-keys", max_keys);
        if (!versions && st->token[0] != '\0')
            (void)s3_req_query(&r, "continuation-token", st->token);
        if (versions && st->key_marker[0] != '\0') {
            (void)s3_req_query(&r, "key-marker", st->key_marker);
            if (st->version_marker[0] != '\0')
                (void)s3_req_query(&r, "version-id-marker", st->version_marker);
        }
        rc = s3_request(c, &r, &resp, err);
        if (rc != 0)
            break;
        n_pages++;
        rc = s3_parse_list_page(resp.body.ptr, resp.body.len, versions, fn, ctx, &st->page, err);
        cm_buf_free(&resp.body);
        if (rc > 0) {
            rc = 0; /* the callback asked to stop */
            break;
        }
        if (rc != 0) {
            if (rc == CM_EPARSE || rc == CM_EPROTO || rc == CM_ETOOBIG)
                cm_err_prefix(err, "list %s", s3_client_bucket(c));
            break;
        }
        if (!st->page.is_truncated)
            break;
        /* Paging must make progress: a missing or repeated marker would loop forever. */
        if (!versions) {
            if (st->page.next_token[0] == '\0' || strcmp(st->page.next_token, st->token) == 0) {
                rc = cm_err_set(err, CM_EPROTO,
                                "list %s: truncated page without a new "
                                "continuation token",
                                s3_client_bucket(c));
                break;
            }
            memcpy(st->token, st->page.next_token, sizeof(st->token));
        } else {
            if (st->page.next_key[0] == '\0' ||
                (strcmp(st->page.next_key, st->key_marker) == 0 &&
                 strcmp(st->page.next_version, st->version_marker) == 0)) {
                rc = cm_err_set(err, CM_EPROTO,
                                "list %s: truncated page without new "
                                "markers",
                                s3_client_bucket(c));
                break;
            }
            memcpy(st->key_marker, st->page.next_key, sizeof(st->key_marker));
            memcpy(st->version_marker, st->page.next_version, sizeof(st->version_marker));
        }
    }
    if (pages != NULL)
        *pages = n_pages;
    cm_free(st);
    return rc;
}

int s3_client_list_objects(struct s3_client *c, const struct s3_list_opts *opts, s3_list_fn fn,
                           void *ctx, unsigned *pages, struct cm_err *err)
{
    return list_run(c, opts, false, fn, ctx, pages, err);
}

int s3_client_list_versions(struct s3_client *c, const struct s3_list_opts *opts, s3_list_fn fn,
                            void *ctx, unsigned *pages, struct cm_err *err)
{
    return list_run(c, opts, true, fn, ctx, pages, err);
}
