/* SPDX-License-Identifier: Apache-2.0 */
/* fake_kube.c - the fake kube-apiserver's HTTP side: libmicrohttpd on 127.0.0.1,
 * TLS and client-certificate checks, bearer tokens, routing of API paths, fault
 * injection, the request log and the public fake_kube_* API. */
#include "fake_kube.h"

#include "common/cm.h"
#include "kube_fake_int.h"
#include "kube_testca.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Per-request state, freed in the completed callback. */
struct fk_req {
    char *body;
    size_t len;
    size_t cap;
    bool too_big;
};

/* ---- query reconstruction (MHD hands out decoded arguments) ---- */

struct q_ctx {
    char *buf;
    size_t cap;
    size_t len;
};

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct q_ctx *q = cls;
    int n;

    (void)kind;
    n = snprintf(q->buf + q->len, q->cap - q->len, "%s%s%s%s", q->len ? "&" : "", key,
                 value ? "=" : "", value ? value : "");
    if (n > 0 && (size_t)n < q->cap - q->len)
        q->len += (size_t)n;
    return MHD_YES;
}

/* ---- responses ---- */

/* Sends body (serialised here) or, when text is not NULL, text as it is; frees both. */
static enum MHD_Result send_result(struct MHD_Connection *conn, int status, cJSON *body, char *text,
                                   size_t text_len, unsigned retry_after_s)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    if (text != NULL) {
        cJSON_Delete(body);
        /* malloc'd by the store; libmicrohttpd frees it with free(). */
        resp = MHD_create_response_from_buffer(text_len, text, MHD_RESPMEM_MUST_FREE);
        if (resp == NULL)
            free(text);
    } else {
        char *t = body ? cJSON_PrintUnformatted(body) : NULL;

        cJSON_Delete(body);
        resp = MHD_create_response_from_buffer(t ? strlen(t) : 0, t ? t : (char *)"",
                                               MHD_RESPMEM_MUST_COPY);
        cJSON_free(t);
    }
    if (resp == NULL)
        return MHD_NO;
    (void)MHD_add_response_header(resp, "Content-Type", "application/json");
    (void)MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
    if (retry_after_s > 0) {
        char ra[16];

        (void)snprintf(ra, sizeof(ra), "%u", retry_after_s);
        (void)MHD_add_response_header(resp, "Retry-After", ra);
    }
    ret = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *conn, int status, cJSON *body,
                                 unsigned retry_after_s)
{
    return send_result(conn, status, body, NULL, 0, retry_after_s);
}

static enum MHD_Result send_raw(struct MHD_Connection *conn, int status, const char *ctype,
                                const char *text)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), (char *)text, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    if (resp == NULL)
        return MHD_NO;
    (void)MHD_add_response_header(resp, "Content-Type", ctype);
    ret = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- auth ---- */

static bool client_cert_ok(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    gnutls_session_t sess;
    unsigned int status = 0;
    unsigned int n = 0;

    if (ci == NULL || ci->tls_session == NULL)
        return false;
    sess = (gnutls_session_t)ci->tls_session;
    if (gnutls_certificate_get_peers(sess, &n) == NULL || n == 0)
        return false;
    if (gnutls_certificate_verify_peers2(sess, &status) != GNUTLS_E_SUCCESS)
        return false;
    return status == 0;
}

/* ---- logging and faults (mutex held) ---- */

static void log_req(struct fake_kube *s, const char *method, const char *path, const char *query,
                    const char *ua, const char *verb, int status, bool had_token, bool had_cert)
{
    struct fake_kube_request *e;
    int vi = fk_verb_index(verb);

    if (vi >= 0)
        s->verb_counts[vi]++;
    if (s->nlog == s->caplog) {
        size_t ncap = s->caplog ? s->caplog * 2 : 64;
        struct fake_kube_request *n;

        if (s->nlog >= FAKE_KUBE_LOG_MAX)
            return;
        n = realloc(s->log, ncap * sizeof(*n));
        if (n == NULL)
            return;
        s->log = n;
        s->caplog = ncap;
    }
    e = &s->log[s->nlog++];
    memset(e, 0, sizeof(*e));
    (void)snprintf(e->method, sizeof(e->method), "%s", method);
    (void)snprintf(e->path, sizeof(e->path), "%s", path);
    (void)snprintf(e->query, sizeof(e->query), "%s", query);
    (void)snprintf(e->user_agent, sizeof(e->user_agent), "%s", ua ? ua : "");
    (void)snprintf(e->verb, sizeof(e->verb), "%s", verb);
    e->status = status;
    e->had_token = had_token;
    e->had_client_cert = had_cert;
}

static struct fk_rule *match_rule(struct fake_kube *s, const char *method, const char *path,
                                  const char *query)
{
    size_t i;

    for (i = 0; i < s->nrules; i++) {
        struct fk_rule *r = &s->rules[i];

        if (!r->unlimited && r->count == 0)
            continue;
        if (r->method != NULL && strcmp(r->method, method) != 0)
            continue;
        if (r->path != NULL && strstr(path, r->path) == NULL)
            continue;
        if (r->query != NULL && strstr(query, r->query) == NULL)
            continue;
        if (!r->unlimited)
            r->count--;
        return r;
    }
    return NULL;
}

/* ---- routing ---- */

/* What a request path names. */
struct route {
    bool discovery;
    char group[FK_NAME];
    char version[64];
    char ns[FK_NAME];
    char plural[FK_NAME];
    char name[FK_NAME];
    char sub[FK_NAME];
    int kind; /* 0 none, 1 /version, 2 /api, 3 /apis, 4 /apis/g, 5 resource list */
};

static bool parse_route(const char *url, struct route *rt)
{
    char buf[1024];
    char *seg[12];
    size_t n = 0;
    size_t i = 0;
    char *p;
    int len = snprintf(buf, sizeof(buf), "%s", url);

    memset(rt, 0, sizeof(*rt));
    if (len < 0 || (size_t)len >= sizeof(buf))
        return false;
    p = buf;
    while (*p == '/')
        p++;
    while (*p != '\0' && n < CM_ARRAY_LEN(seg)) {
        char *e = strchr(p, '/');

        seg[n++] = p;
        if (e == NULL)
            break;
        *e = '\0';
        p = e + 1;
        if (*p == '\0')
            break;
    }
    if (n == 1 && strcmp(seg[0], "version") == 0) {
        rt->discovery = true;
        rt->kind = 1;
        return true;
    }
    if (n >= 1 && strcmp(seg[0], "api") == 0) {
        if (n == 1) {
            rt->discovery = true;
            rt->kind = 2;
            return true;
        }
        (void)snprintf(rt->version, sizeof(rt->version), "%s", seg[1]);
        i = 2;
    } else if (n >= 1 && strcmp(seg[0], "apis") == 0) {
        if (n == 1) {
            rt->discovery = true;
            rt->kind = 3;
            return true;
        }
        (void)snprintf(rt->group, sizeof(rt->group), "%s", seg[1]);
        if (n == 2) {
            rt->discovery = true;
            rt->kind = 4;
            return true;
        }
        (void)snprintf(rt->version, sizeof(rt->version), "%s", seg[2]);
        i = 3;
    } else {
        return false;
    }
    if (i == n) {
        rt->discovery = true;
        rt->kind = 5;
        return true;
    }
    if (strcmp(seg[i], "namespaces") == 0 && n - i >= 3) {
        (void)snprintf(rt->ns, sizeof(rt->ns), "%s", seg[i + 1]);
        i += 2;
    }
    if (n - i > 3)
        return false;
    (void)snprintf(rt->plural, sizeof(rt->plural), "%s", seg[i]);
    if (n - i >= 2)
        (void)snprintf(rt->name, sizeof(rt->name), "%s", seg[i + 1]);
    if (n - i >= 3)
        (void)snprintf(rt->sub, sizeof(rt->sub), "%s", seg[i + 2]);
    return true;
}

static const char *route_verb(const char *method, const struct route *rt)
{
    bool item = rt->name[0] != '\0';

    if (rt->discovery)
        return "discovery";
    if (strcmp(method, "GET") == 0)
        return item ? "get" : "list";
    if (strcmp(method, "POST") == 0)
        return "create";
    if (strcmp(method, "PUT") == 0)
        return "update";
    if (strcmp(method, "PATCH") == 0)
        return "patch";
    if (strcmp(method, "DELETE") == 0)
        return item ? "delete" : "deletecollection";
    return "";
}

static cJSON *forbidden_status(const struct route *rt, const char *verb)
{
    char msg[2048];
    char q[2 * FK_NAME + 4];
    char scope[FK_NAME + 40];

    if (rt->group[0] != '\0')
        (void)snprintf(q, sizeof(q), "%s.%s", rt->plural, rt->group);
    else
        (void)snprintf(q, sizeof(q), "%s", rt->plural);
    if (rt->ns[0] != '\0')
        (void)snprintf(scope, sizeof(scope), "in the namespace \"%s\"", rt->ns);
    else
        (void)snprintf(scope, sizeof(scope), "at the cluster scope");
    if (rt->name[0] != '\0')
        (void)snprintf(msg, sizeof(msg),
                       "%s \"%s\" is forbidden: User \"test\" cannot %s resource \"%s\" in API "
                       "group \"%s\" %s",
                       q, rt->name, verb, rt->plural, rt->group, scope);
    else
        (void)snprintf(msg, sizeof(msg),
                       "%s is forbidden: User \"test\" cannot %s resource \"%s\" in API group "
                       "\"%s\" %s",
                       q, verb, rt->plural, rt->group, scope);
    return fk_status(403, "Forbidden", msg);
}

/* Produces the fault's answer; returns MHD_NO for a reset. */
static enum MHD_Result send_fault(struct MHD_Connection *conn, const struct fk_rule *r,
                                  const struct route *rt, const char *verb, int *status)
{
    switch (r->fault) {
    case FAKE_KUBE_FAULT_429: {
        char msg[128];
        unsigned ra = r->retry_after_s ? r->retry_after_s : 1;
        cJSON *b;

        (void)snprintf(msg, sizeof(msg), "Too many requests, please try again later.");
        b = fk_status(429, "TooManyRequests", msg);
        cJSON_AddNumberToObject(cJSON_AddObjectToObject(b, "details"), "retryAfterSeconds", ra);
        *status = 429;
        return send_json(conn, 429, b, ra);
    }
    case FAKE_KUBE_FAULT_500:
        *status = 500;
        return send_json(conn, 500,
                         fk_status(500, "InternalError", "Internal error occurred: injected fault"),
                         0);
    case FAKE_KUBE_FAULT_502:
        *status = 502;
        return send_raw(conn, 502, "text/html",
                        "<html><body><h1>502 Bad Gateway</h1></body></html>\n");
    case FAKE_KUBE_FAULT_503:
        *status = 503;
        return send_json(conn, 503,
                         fk_status(503, "ServiceUnavailable",
                                   "the server is currently unable to handle the request"),
                         r->retry_after_s);
    case FAKE_KUBE_FAULT_504:
        *status = 504;
        return send_json(conn, 504,
                         fk_status(504, "Timeout",
                                   "the server was unable to return a response in the time "
                                   "allotted, but may still be processing the request"),
                         0);
    case FAKE_KUBE_FAULT_401:
        *status = 401;
        return send_json(conn, 401, fk_status(401, "Unauthorized", "Unauthorized"), 0);
    case FAKE_KUBE_FAULT_403:
        *status = 403;
        return send_json(conn, 403, forbidden_status(rt, verb), 0);
    case FAKE_KUBE_FAULT_410:
        *status = 410;
        return send_json(conn, 410,
                         fk_status(410, "Expired",
                                   "The provided continue parameter is too old to display a "
                                   "consistent list result. You can start a new list without "
                                   "the continue parameter."),
                         0);
    case FAKE_KUBE_FAULT_TRUNCATE:
        *status = 200;
        return send_raw(conn, 200, "application/json",
                        "{\"kind\":\"List\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVer"
                        "sion\":\"1\"},\"items\":[{\"metadata\":{\"name\":\"trunc");
    case FAKE_KUBE_FAULT_RESET:
    default:
        *status = 0;
        return MHD_NO;
    }
}

/* Serves a resolved, authorised request (mutex held). */
static void serve(struct fake_kube *s, struct MHD_Connection *conn, const char *method,
                  const struct route *rt, const char *body, size_t len, struct fk_result *r)
{
    struct fk_type t;
    struct fk_list_q q;
    const char *ctype;
    bool status_only;

    if (rt->discovery) {
        if (strcmp(method, "GET") != 0) {
            r->status = 405;
            r->body = fk_status(405, "MethodNotAllowed",
                                "the server does not allow this "
                                "method on the requested resource");
            return;
        }
        switch (rt->kind) {
        case 1:
            r->body = fk_disc_version();
            break;
        case 2:
            r->body = fk_disc_api(s);
            break;
        case 3:
            r->body = fk_disc_apis(s);
            break;
        case 4:
            r->body = fk_disc_group(s, rt->group);
            break;
        default:
            r->body = fk_disc_resources(s, rt->group, rt->version);
            break;
        }
        r->status = r->body ? 200 : 404;
        if (r->body == NULL)
            r->body = fk_status(404, "NotFound",
                                "the server could not find the requested "
                                "resource");
        return;
    }
    if (!fk_type_find(s, rt->group, rt->version, rt->plural, &t) ||
        (rt->ns[0] != '\0' && !t.namespaced) ||
        (rt->sub[0] != '\0' && strcmp(rt->sub, "status") != 0)) {
        r->status = 404;
        r->body = fk_status(404, "NotFound", "the server could not find the requested resource");
        return;
    }
    (void)snprintf(t.version, sizeof(t.version), "%s", rt->version);
    status_only = rt->sub[0] != '\0';
    if (rt->name[0] == '\0') {
        if (strcmp(method, "GET") == 0) {
            q.label_selector =
                MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "labelSelector");
            q.field_selector =
                MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "fieldSelector");
            q.limit = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "limit");
            q.cont = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "continue");
            fk_store_list(s, &t, rt->ns, &q, r);
            return;
        }
        if (strcmp(method, "POST") == 0) {
            if (t.namespaced && rt->ns[0] == '\0') {
                r->status = 404;
                r->body = fk_status(404, "NotFound",
                                    "the server could not find the requested "
                                    "resource");
                return;
            }
            fk_store_create(s, &t, rt->ns, body, len, r);
            return;
        }
    } else {
        if (t.namespaced && rt->ns[0] == '\0') {
            r->status = 404;
            r->body = fk_status(404, "NotFound",
                                "the server could not find the requested "
                                "resource");
            return;
        }
        if (strcmp(method, "GET") == 0) {
            fk_store_get(s, &t, rt->ns, rt->name, r);
            return;
        }
        if (strcmp(method, "PUT") == 0) {
            fk_store_update(s, &t, rt->ns, rt->name, body, len, status_only, r);
            return;
        }
        if (strcmp(method, "PATCH") == 0) {
            ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
            fk_store_patch(s, &t, rt->ns, rt->name, ctype, body, len, status_only, r);
            return;
        }
        if (strcmp(method, "DELETE") == 0 && !status_only) {
            fk_store_delete(s, &t, rt->ns, rt->name, r);
            return;
        }
    }
    r->status = 405;
    r->body = fk_status(405, "MethodNotAllowed",
                        "the server does not allow this method on the "
                        "requested resource");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
    struct fake_kube *s = cls;
    struct fk_req *rq = *con_cls;
    struct fk_result res = {0, NULL, 0, NULL, 0};
    struct route rt;
    char query[2048] = "";
    struct q_ctx qc = {query, sizeof(query), 0};
    const char *auth;
    const char *ua;
    const char *verb;
    struct fk_rule *rule;
    bool had_token = false;
    bool had_cert = false;
    bool authorized;
    enum MHD_Result ret;
    int status = 0;

    (void)version;
    if (rq == NULL) {
        rq = calloc(1, sizeof(*rq));
        if (rq == NULL)
            return MHD_NO;
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!rq->too_big && rq->len + *upload_data_size <= FK_MAX_BODY) {
            if (rq->len + *upload_data_size + 1 > rq->cap) {
                size_t ncap = (rq->len + *upload_data_size + 1) * 2;
                char *nb = realloc(rq->body, ncap);

                if (nb == NULL)
                    return MHD_NO;
                rq->body = nb;
                rq->cap = ncap;
            }
            memcpy(rq->body + rq->len, upload_data, *upload_data_size);
            rq->len += *upload_data_size;
            rq->body[rq->len] = '\0';
        } else {
            rq->too_big = true;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    (void)MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &qc);
    auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    ua = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "User-Agent");
    if (!parse_route(url, &rt)) {
        memset(&rt, 0, sizeof(rt));
        rt.discovery = true;
        rt.kind = -1;
    }
    verb = route_verb(method, &rt);

    pthread_mutex_lock(&s->mu);
    had_token = auth != NULL && strncmp(auth, "Bearer ", 7) == 0;
    if (s->tls)
        had_cert = client_cert_ok(conn);
    authorized = true;
    if (s->token != NULL || s->require_client_cert) {
        authorized = (s->token != NULL && had_token && strcmp(auth + 7, s->token) == 0) ||
                     (s->require_client_cert && had_cert);
    }
    rule = match_rule(s, method, url, query);
    if (rule != NULL) {
        ret = send_fault(conn, rule, &rt, verb, &status);
        log_req(s, method, url, query, ua, verb, status, had_token, had_cert);
        pthread_mutex_unlock(&s->mu);
        return ret;
    }
    if (!authorized) {
        res.status = 401;
        res.body = fk_status(401, "Unauthorized", "Unauthorized");
    } else if (rq->too_big) {
        res.status = 413;
        res.body = fk_status(413, "RequestEntityTooLarge", "request entity too large");
    } else if (rt.kind == -1) {
        res.status = 404;
        res.body = fk_status(404, "NotFound",
                             "the server could not find the requested "
                             "resource");
    } else {
        serve(s, conn, method, &rt, rq->body ? rq->body : "", rq->len, &res);
    }
    log_req(s, method, url, query, ua, verb, res.status, had_token, had_cert);
    pthread_mutex_unlock(&s->mu);
    return send_result(conn, res.status, res.body, res.text, res.text_len, res.retry_after_s);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct fk_req *rq = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (rq != NULL) {
        free(rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

/* ---- public API ---- */

static void fk_free(struct fake_kube *s)
{
    fk_store_free(s);
    fk_free_rules(s);
    free(s->log);
    free(s->fails);
    free(s->cert_pem);
    if (s->key_pem != NULL)
        cm_memzero_secure(s->key_pem, strlen(s->key_pem));
    free(s->key_pem);
    free(s->ca_pem);
    free(s->client_cert_pem);
    if (s->client_key_pem != NULL)
        cm_memzero_secure(s->client_key_pem, strlen(s->client_key_pem));
    free(s->client_key_pem);
    free(s->client_ca_pem);
    free(s->token);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int fake_kube_start(const struct fake_kube_opts *opts, struct fake_kube **out)
{
    struct fake_kube_opts none;
    struct fake_kube *s;
    struct kube_testca *ca = NULL;
    struct sockaddr_in sa;
    const union MHD_DaemonInfo *di;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;

    if (opts == NULL) {
        memset(&none, 0, sizeof(none));
        opts = &none;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -1;
    pthread_mutex_init(&s->mu, NULL);
    s->tls = opts->tls;
    s->require_client_cert = opts->require_client_cert && opts->tls;
    s->token = fk_xstrdup(opts->token);
    s->snap_ready_after = opts->snapshot_ready_after_gets;
    s->rv = 1000;
    if (opts->tls) {
        if (opts->cert_pem != NULL && opts->key_pem != NULL) {
            s->cert_pem = fk_xstrdup(opts->cert_pem);
            s->key_pem = fk_xstrdup(opts->key_pem);
            s->ca_pem = fk_xstrdup(opts->ca_pem);
        } else {
            if (kube_testca_create("test", "system:masters", &ca) != 0) {
                fprintf(stderr, "fake_kube: cannot generate the test CA\n");
                fk_free(s);
                return -1;
            }
            s->cert_pem = fk_xstrdup(ca->server_cert_pem);
            s->key_pem = fk_xstrdup(ca->server_key_pem);
            s->ca_pem = fk_xstrdup(ca->ca_cert_pem);
            s->client_cert_pem = fk_xstrdup(ca->client_cert_pem);
            s->client_key_pem = fk_xstrdup(ca->client_key_pem);
            kube_testca_destroy(ca);
        }
        s->client_ca_pem = fk_xstrdup(opts->client_ca_pem ? opts->client_ca_pem : s->ca_pem);
        if (s->cert_pem == NULL || s->key_pem == NULL) {
            fk_free(s);
            return -1;
        }
        flags |= MHD_USE_TLS;
    }
    if (opts->seed_json != NULL && fake_kube_add_object_json(s, opts->seed_json) < 0) {
        fk_free(s);
        return -1;
    }
    if (opts->seed_file != NULL && fake_kube_load_file(s, opts->seed_file) < 0) {
        fk_free(s);
        return -1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = 0;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (opts->tls && s->client_ca_pem != NULL)
        s->daemon = MHD_start_daemon(
            flags, 0, NULL, NULL, handler, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
            MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_HTTPS_MEM_CERT, s->cert_pem,
            MHD_OPTION_HTTPS_MEM_KEY, s->key_pem, MHD_OPTION_HTTPS_MEM_TRUST, s->client_ca_pem,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    else if (opts->tls)
        s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handler, s, MHD_OPTION_SOCK_ADDR,
                                     (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, completed,
                                     s, MHD_OPTION_HTTPS_MEM_CERT, s->cert_pem,
                                     MHD_OPTION_HTTPS_MEM_KEY, s->key_pem,
                                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    else
        s->daemon =
            MHD_start_daemon(flags, 0, NULL, NULL, handler, s, MHD_OPTION_SOCK_ADDR,
                             (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
                             MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (s->daemon == NULL) {
        fprintf(stderr, "fake_kube: MHD_start_daemon failed\n");
        fk_free(s);
        return -1;
    }
    di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (di == NULL || di->port == 0) {
        MHD_stop_daemon(s->daemon);
        fk_free(s);
        return -1;
    }
    s->port = di->port;
    (void)snprintf(s->url, sizeof(s->url), "%s://127.0.0.1:%u", s->tls ? "https" : "http", s->port);
    *out = s;
    return 0;
}

void fake_kube_stop(struct fake_kube *srv)
{
    if (srv == NULL)
        return;
    if (srv->daemon != NULL)
        MHD_stop_daemon(srv->daemon);
    fk_free(srv);
}

const char *fake_kube_url(const struct fake_kube *srv)
{
    return srv->url;
}

unsigned fake_kube_port(const struct fake_kube *srv)
{
    return srv->port;
}

const char *fake_kube_ca_pem(const struct fake_kube *srv)
{
    return srv->ca_pem;
}

const char *fake_kube_client_cert_pem(const struct fake_kube *srv)
{
    return srv->client_cert_pem;
}

const char *fake_kube_client_key_pem(const struct fake_kube *srv)
{
    return srv->client_key_pem;
}

static void b64(FILE *f, const char *s)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    size_t i;

    for (i = 0; i + 2 < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];

        fputc(tbl[v >> 18], f);
        fputc(tbl[(v >> 12) & 63], f);
        fputc(tbl[(v >> 6) & 63], f);
        fputc(tbl[v & 63], f);
    }
    if (n - i == 1) {
        unsigned v = (unsigned)p[i] << 16;

        fprintf(f, "%c%c==", tbl[v >> 18], tbl[(v >> 12) & 63]);
    } else if (n - i == 2) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;

        fprintf(f, "%c%c%c=", tbl[v >> 18], tbl[(v >> 12) & 63], tbl[(v >> 6) & 63]);
    }
}

int fake_kube_write_kubeconfig(const struct fake_kube *srv, const char *path, const char *token,
                               bool client_cert)
{
    FILE *f = fopen(path, "w");
    int rc;

    if (f == NULL)
        return -1;
    fprintf(f,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n"
            "    server: %s\n",
            srv->url);
    if (srv->ca_pem != NULL) {
        fputs("    certificate-authority-data: ", f);
        b64(f, srv->ca_pem);
        fputc('\n', f);
    }
    fputs("users:\n- name: fake-user\n  user:\n", f);
    if (token != NULL)
        fprintf(f, "    token: \"%s\"\n", token);
    if (client_cert && srv->client_cert_pem != NULL) {
        fputs("    client-certificate-data: ", f);
        b64(f, srv->client_cert_pem);
        fputs("\n    client-key-data: ", f);
        b64(f, srv->client_key_pem);
        fputc('\n', f);
    }
    if (token == NULL && !(client_cert && srv->client_cert_pem != NULL))
        fputs("    {}\n", f);
    fputs("contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake-user\n"
          "    namespace: default\ncurrent-context: fake\n",
          f);
    rc = ferror(f) ? -1 : 0;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}
