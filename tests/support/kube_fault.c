/* SPDX-License-Identifier: Apache-2.0 */
/* kube_fault.c - the scripted fault transport for kube_ client unit tests. */
#include "kube_fault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kf_step {
    int rc;
    long status;
    long retry_after_s;
    char *body;
};

struct kf_rec {
    char *method;
    char *url;
    char *body;
    char *ctype;
    char *auth;
};

struct kube_fault {
    struct kf_step *steps;
    size_t nsteps;
    size_t next;
    struct kf_rec *recs;
    size_t nrecs;
    long def_status;
    char *def_body;
    unsigned opens;
    unsigned closes;
};

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);

    if (d != NULL) {
        if (n > 0)
            memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static char *dups(const char *s)
{
    return dupn(s ? s : "", s ? strlen(s) : 0);
}

int kube_fault_create(struct kube_fault **out)
{
    *out = calloc(1, sizeof(**out));
    return *out ? 0 : -1;
}

void kube_fault_destroy(struct kube_fault *f)
{
    size_t i;

    if (f == NULL)
        return;
    for (i = 0; i < f->nsteps; i++)
        free(f->steps[i].body);
    for (i = 0; i < f->nrecs; i++) {
        free(f->recs[i].method);
        free(f->recs[i].url);
        free(f->recs[i].body);
        free(f->recs[i].ctype);
        free(f->recs[i].auth);
    }
    free(f->steps);
    free(f->recs);
    free(f->def_body);
    free(f);
}

static int push(struct kube_fault *f, int rc, long status, long ra, const char *body)
{
    struct kf_step *n = realloc(f->steps, (f->nsteps + 1) * sizeof(*n));

    if (n == NULL)
        return -1;
    f->steps = n;
    n[f->nsteps].rc = rc;
    n[f->nsteps].status = status;
    n[f->nsteps].retry_after_s = ra;
    n[f->nsteps].body = body ? dups(body) : NULL;
    if (body != NULL && n[f->nsteps].body == NULL)
        return -1;
    f->nsteps++;
    return 0;
}

int kube_fault_push(struct kube_fault *f, long status, long retry_after_s, const char *body)
{
    return push(f, 0, status, retry_after_s, body);
}

int kube_fault_push_error(struct kube_fault *f, int rc, const char *msg)
{
    return push(f, rc, 0, -1, msg ? msg : "injected transport error");
}

int kube_fault_set_default(struct kube_fault *f, long status, const char *body)
{
    free(f->def_body);
    f->def_body = body ? dups(body) : NULL;
    f->def_status = body ? status : 0;
    return (body != NULL && f->def_body == NULL) ? -1 : 0;
}

static int kf_open(const struct kube_config *cfg, void **tctx, struct cm_err *err)
{
    struct kube_fault *f = kube_config_transport_ctx(cfg);

    (void)err;
    f->opens++;
    *tctx = f;
    return 0;
}

static void kf_close(void *tctx)
{
    struct kube_fault *f = tctx;

    f->closes++;
}

static int kf_send(void *tctx, const struct kube_http_req *req, struct kube_http_resp *resp,
                   struct cm_err *err)
{
    struct kube_fault *f = tctx;
    struct kf_rec *nr = realloc(f->recs, (f->nrecs + 1) * sizeof(*nr));
    const struct kf_step *st;
    struct kf_rec *r;
    long status;
    long ra = -1;
    const char *body;

    if (nr == NULL)
        return cm_err_set(err, CM_ENOMEM, "fault transport: out of memory");
    f->recs = nr;
    r = &f->recs[f->nrecs++];
    r->method = dups(req->method);
    r->url = dups(req->url);
    r->body = req->body ? dupn(req->body, req->body_len) : dups("");
    r->ctype = dups(req->content_type);
    r->auth = dups(req->authorization);
    if (f->next < f->nsteps) {
        st = &f->steps[f->next++];
        if (st->rc != 0)
            return cm_err_set(err, st->rc, "fault transport: %s", st->body ? st->body : "");
        status = st->status;
        ra = st->retry_after_s;
        body = st->body;
    } else if (f->def_body != NULL) {
        status = f->def_status;
        body = f->def_body;
    } else {
        return cm_err_set(err, CM_EPROTO, "fault transport: script exhausted at %s %s", req->method,
                          req->url);
    }
    resp->status = status;
    resp->retry_after_s = ra;
    if (body != NULL && body[0] != '\0') {
        int rc = cm_buf_add(&resp->body, body, strlen(body));

        if (rc != 0)
            return cm_err_set(err, rc, "fault transport: response body: %s", cm_strerror(rc));
    }
    return 0;
}

static const struct kube_transport_ops kf_ops = {
    .name = "fault",
    .open = kf_open,
    .send = kf_send,
    .close = kf_close,
};

void kube_fault_attach(struct kube_fault *f, struct kube_config *cfg)
{
    kube_config_set_transport(cfg, &kf_ops, f);
}

size_t kube_fault_count(const struct kube_fault *f)
{
    return f->nrecs;
}

#define KF_GET(field)                                                                              \
    const char *kube_fault_##field(const struct kube_fault *f, size_t i)                           \
    {                                                                                              \
        return i < f->nrecs ? f->recs[i].field : NULL;                                             \
    }
KF_GET(method)
KF_GET(url)
KF_GET(body)
KF_GET(ctype)
KF_GET(auth)
#undef KF_GET

size_t kube_fault_pending(const struct kube_fault *f)
{
    return f->nsteps - f->next;
}

unsigned kube_fault_opens(const struct kube_fault *f)
{
    return f->opens;
}

unsigned kube_fault_closes(const struct kube_fault *f)
{
    return f->closes;
}
