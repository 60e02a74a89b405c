/* SPDX-License-Identifier: Apache-2.0 */
/* s3_fault.c - the recording, fault-injecting S3 transport used by the s3 unit tests. */
#include "tests/support/s3_fault.h"

#include "backup/s3/s3_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct fault_item {
    struct s3_fault_reply r;
    struct fault_item *next;
};

struct s3_fault {
    struct fault_item *head;
    struct fault_item *tail;
    struct s3_fault_rec *recs;
    size_t n_recs;
    uint64_t sleeps[S3_FAULT_MAX_SLEEPS];
    size_t n_sleeps;
    uint64_t mp_bytes;
    uint64_t stored;
    unsigned versions;
};

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

int s3_fault_create(struct s3_fault **out)
{
    struct s3_fault *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return CM_ENOMEM;
    f->recs = calloc(S3_FAULT_MAX_RECORDS, sizeof(*f->recs));
    if (f->recs == NULL) {
        free(f);
        return CM_ENOMEM;
    }
    *out = f;
    return 0;
}

void s3_fault_destroy(struct s3_fault *f)
{
    size_t i;
    size_t j;

    if (f == NULL)
        return;
    while (f->head != NULL) {
        struct fault_item *it = f->head;

        f->head = it->next;
        free((char *)it->r.headers);
        free((char *)it->r.body);
        free(it);
    }
    for (i = 0; i < f->n_recs; i++) {
        for (j = 0; j < f->recs[i].n_headers; j++)
            free(f->recs[i].headers[j]);
        free(f->recs[i].headers);
        free(f->recs[i].url);
        free(f->recs[i].body_head);
    }
    free(f->recs);
    free(f);
}

int s3_fault_push(struct s3_fault *f, const struct s3_fault_reply *r)
{
    struct fault_item *it = calloc(1, sizeof(*it));

    if (it == NULL)
        return CM_ENOMEM;
    it->r = *r;
    it->r.headers = dup_or_null(r->headers);
    it->r.body = dup_or_null(r->body);
    if (f->tail != NULL)
        f->tail->next = it;
    else
        f->head = it;
    f->tail = it;
    return 0;
}

void s3_fault_sleep(uint64_t ms, void *ctx)
{
    struct s3_fault *f = ctx;

    if (f->n_sleeps < S3_FAULT_MAX_SLEEPS)
        f->sleeps[f->n_sleeps++] = ms;
}

size_t s3_fault_count(const struct s3_fault *f)
{
    return f->n_recs;
}

const struct s3_fault_rec *s3_fault_get(const struct s3_fault *f, size_t i)
{
    return i < f->n_recs ? &f->recs[i] : NULL;
}

const char *s3_fault_header(const struct s3_fault_rec *rec, const char *name)
{
    size_t l = strlen(name);
    size_t i;

    for (i = 0; i < rec->n_headers; i++) {
        const char *h = rec->headers[i];

        if (strncasecmp(h, name, l) == 0 && h[l] == ':')
            return h + l + 2;
    }
    return NULL;
}

size_t s3_fault_sleeps(const struct s3_fault *f)
{
    return f->n_sleeps;
}

uint64_t s3_fault_sleep_ms(const struct s3_fault *f, size_t i)
{
    return i < f->n_sleeps ? f->sleeps[i] : 0;
}

uint64_t s3_fault_stored_size(const struct s3_fault *f)
{
    return f->stored;
}

static void record(struct s3_fault *f, const struct s3_http_request *req)
{
    struct s3_fault_rec *rec;
    size_t i;
    size_t hl;

    if (f->n_recs >= S3_FAULT_MAX_RECORDS)
        return;
    rec = &f->recs[f->n_recs++];
    (void)snprintf(rec->method, sizeof(rec->method), "%s", req->method);
    rec->url = strdup(req->url);
    rec->headers = calloc(req->n_headers + 1, sizeof(char *));
    for (i = 0; rec->headers != NULL && i < req->n_headers; i++) {
        size_t n = strlen(req->headers[i].name) + strlen(req->headers[i].value) + 3;

        rec->headers[i] = malloc(n);
        if (rec->headers[i] != NULL)
            (void)snprintf(rec->headers[i], n, "%s: %s", req->headers[i].name,
                           req->headers[i].value);
        rec->n_headers = i + 1;
    }
    rec->body_len = req->body_len;
    s3_md5_base64(req->body, req->body_len, rec->body_md5_b64);
    s3_sha256_hex(req->body, req->body_len, rec->body_sha256_hex);
    hl = req->body_len < 4096 ? req->body_len : 4096;
    rec->body_head = malloc(hl + 1);
    if (rec->body_head != NULL) {
        if (hl > 0)
            memcpy(rec->body_head, req->body, hl);
        rec->body_head[hl] = '\0';
    }
}

/* Delivers "Name: value\n" lines through on_header. */
static int send_headers(const struct s3_http_response *resp, const char *lines)
{
    const char *p = lines;

    while (p != NULL && *p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
        const char *colon = memchr(p, ':', len);

        if (colon != NULL) {
            const char *v = colon + 1;
            size_t vl = len - (size_t)(v - p);
            int rc;

            while (vl > 0 && *v == ' ') {
                v++;
                vl--;
            }
            rc = resp->on_header(p, (size_t)(colon - p), v, vl, resp->ctx);
            if (rc != 0)
                return rc;
        }
        p = nl != NULL ? nl + 1 : NULL;
    }
    return 0;
}

/* Sends body in small fragments, as a network would. */
static int send_body(const struct s3_http_response *resp, const char *body, size_t n)
{
    size_t off = 0;

    while (off < n) {
        size_t k = n - off < 1000 ? n - off : 1000;
        int rc = resp->on_body(body + off, k, resp->ctx);

        if (rc != 0)
            return rc;
        off += k;
    }
    return 0;
}

/* A minimal well-behaved S3 when nothing is scripted. */
static int auto_reply(struct s3_fault *f, const struct s3_http_request *req,
                      const struct s3_http_response *resp)
{
    char hdrs[512];
    const char *body = "";
    char md5hex[65];
    int rc;

    s3_sha256_hex(req->body, req->body_len, md5hex); /* an opaque ETag is enough */
    md5hex[32] = '\0';
    if (strcmp(req->method, "POST") == 0 && strstr(req->url, "uploads=") != NULL) {
        f->mp_bytes = 0;
        body = "<?xml version=\"1.0\"?><InitiateMultipartUploadResult><Bucket>b</Bucket>"
               "<Key>k</Key><UploadId>fault-upload-1</UploadId></InitiateMultipartUploadResult>";
        hdrs[0] = '\0';
    } else if (strcmp(req->method, "POST") == 0 && strstr(req->url, "uploadId=") != NULL) {
        f->stored = f->mp_bytes;
        f->versions++;
        body = "<CompleteMultipartUploadResult><Location>x</Location><Bucket>b</Bucket>"
               "<Key>k</Key><ETag></ETag></CompleteMultipartUploadResult>";
        (void)snprintf(hdrs, sizeof(hdrs), "x-amz-version-id: fv%u\n", f->versions);
    } else if (strcmp(req->method, "PUT") == 0 && strstr(req->url, "partNumber=") != NULL) {
        f->mp_bytes += req->body_len;
        (void)snprintf(hdrs, sizeof(hdrs), "ETag: \"%s\"\n", md5hex);
    } else if (strcmp(req->method, "PUT") == 0) {
        if (strchr(req->url, '?') == NULL) {
            f->stored = req->body_len;
            f->versions++;
        }
        (void)snprintf(hdrs, sizeof(hdrs), "ETag: \"%s\"\nx-amz-version-id: fv%u\n", md5hex,
                       f->versions);
    } else if (strcmp(req->method, "HEAD") == 0) {
        (void)snprintf(hdrs, sizeof(hdrs),
                       "Content-Length: %llu\nETag: \"head-etag\"\nx-amz-version-id: fv%u\n",
                       (unsigned long long)f->stored, f->versions);
    } else {
        hdrs[0] = '\0';
    }
    rc = resp->on_status(strcmp(req->method, "DELETE") == 0 ? 204 : 200, resp->ctx);
    if (rc == 0)
        rc = send_headers(resp, hdrs);
    if (rc == 0)
        rc = send_body(resp, body, strlen(body));
    return rc;
}

static int fault_perform(void *ctx, const struct s3_http_request *req,
                         const struct s3_http_response *resp, struct cm_err *err)
{
    struct s3_fault *f = ctx;
    struct fault_item *it = f->head;
    size_t blen;
    int rc;

    record(f, req);
    if (it == NULL)
        return auto_reply(f, req, resp);
    f->head = it->next;
    if (f->head == NULL)
        f->tail = NULL;
    if (it->r.transport_rc == 0 && it->r.status == 0) {
        rc = auto_reply(f, req, resp);
        goto done;
    }
    if (it->r.transport_rc != 0) {
        rc = cm_err_set(err, it->r.transport_rc, "fault: injected %s",
                        cm_errname(it->r.transport_rc));
        goto done;
    }
    rc = resp->on_status(it->r.status, resp->ctx);
    if (rc == 0)
        rc = send_headers(resp, it->r.headers);
    blen = it->r.body != NULL ? strlen(it->r.body) : 0;
    if (rc == 0 && it->r.truncate_at > 0 && it->r.truncate_at < blen) {
        rc = send_body(resp, it->r.body, it->r.truncate_at);
        if (rc == 0)
            rc = cm_err_set(err, CM_EPROTO, "fault: connection reset after %zu body bytes",
                            it->r.truncate_at);
        goto done;
    }
    if (rc == 0)
        rc = send_body(resp, it->r.body != NULL ? it->r.body : "", blen);
done:
    free((char *)it->r.headers);
    free((char *)it->r.body);
    free(it);
    return rc;
}

static void fault_destroy(void *ctx)
{
    (void)ctx; /* the test owns the fault object */
}

const struct s3_transport s3_fault_transport = {
    .perform = fault_perform,
    .destroy = fault_destroy,
};

void s3_fault_config(struct s3_fault *f, struct s3_credentials *creds, struct s3_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    creds->access_key = (char *)"AKIDEXAMPLE";
    creds->secret_key = (char *)"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    creds->session_token = NULL;
    cfg->endpoint = "http://127.0.0.1:9";
    cfg->bucket = "b-test";
    cfg->path_style = true;
    cfg->creds = creds;
    cfg->part_size = S3_MIN_PART_SIZE;
    cfg->max_attempts = 4;
    cfg->retry_base_ms = 100;
    cfg->retry_max_ms = 1000;
    cfg->sleep = s3_fault_sleep;
    cfg->sleep_ctx = f;
    cfg->jitter_seed = 42;
    cfg->transport = &s3_fault_transport;
    cfg->transport_ctx = f;
}
