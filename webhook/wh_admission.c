/* SPDX-License-Identifier: Apache-2.0 */
/* wh_admission.c - one AdmissionReview in, the response out: parse, judge with the
 * policy set (validate) or decide the binding (mutate), and answer in the version
 * asked. No I/O, so that the server and the fuzz target run the same code. */
#include "webhook/wh.h"
#include "webhook/wh_int.h"

#include <stdio.h>
#include <string.h>

static const char *const decision_names[WH_DEC_COUNT_] = {
    "allowed", "denied", "warned", "patched", "invalid", "error",
};

const char *wh_decision_name(enum wh_decision d)
{
    return (unsigned)d < WH_DEC_COUNT_ ? decision_names[d] : "unknown";
}

const char *wh_endpoint_name(enum wh_endpoint e)
{
    return e == WH_EP_VALIDATE ? "validate" : e == WH_EP_MUTATE ? "mutate" : "unknown";
}

void wh_verdict_init(struct wh_verdict *v)
{
    memset(v, 0, sizeof(*v));
    v->http_status = 500;
    v->decision = WH_DEC_ERROR;
    cm_buf_init(&v->rules, WH_VERDICT_RULES_MAX);
}

void wh_verdict_cleanup(struct wh_verdict *v)
{
    if (v == NULL)
        return;
    cm_buf_free(&v->rules);
}

/* Copies a JSON string member (or "") into dst, truncated to fit. */
static void copy_member(char *dst, size_t cap, const cJSON *obj, const char *name)
{
    const cJSON *it = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;

    dst[0] = '\0';
    if (cJSON_IsString(it))
        (void)snprintf(dst, cap, "%s", it->valuestring);
}

static const char *str_member(const cJSON *obj, const char *name)
{
    const cJSON *it = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;

    return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* A 400: resp gets a plain sentence. */
static int invalid(struct wh_verdict *v, struct cm_buf *resp, int status, const char *why)
{
    v->http_status = status;
    v->decision = WH_DEC_INVALID;
    (void)snprintf(v->reason, sizeof(v->reason), "%s", why);
    cm_buf_reset(resp);
    if (cm_buf_adds(resp, why) != 0 || cm_buf_addc(resp, '\n') != 0)
        return CM_ENOMEM;
    return 0;
}

static int server_error(struct wh_verdict *v, struct cm_buf *resp, const char *why)
{
    v->http_status = 500;
    v->decision = WH_DEC_ERROR;
    (void)snprintf(v->reason, sizeof(v->reason), "%s", why);
    cm_buf_reset(resp);
    if (cm_buf_adds(resp, why) != 0 || cm_buf_addc(resp, '\n') != 0)
        return CM_ENOMEM;
    return 0;
}

/* Appends "policy/rule" to the verdict's JSON array (capped: later rules are
 * dropped rather than failing the request). */
static void verdict_add_rule(struct wh_verdict *v, const struct policy_rule_result *rr)
{
    struct cm_buf one;

    cm_buf_init(&one, 1024);
    if (cm_buf_adds(&one, rr->policy) == 0 && cm_buf_addc(&one, '/') == 0 &&
        cm_buf_adds(&one, rr->rule) == 0 && one.len + v->rules.len + 8 < WH_VERDICT_RULES_MAX) {
        if (cm_buf_addc(&v->rules, v->rules.len == 0 ? '[' : ',') != 0 ||
            cm_buf_add_json_str(&v->rules, one.ptr, one.len) != 0)
            cm_buf_reset(&v->rules);
    }
    cm_buf_free(&one);
    if (v->n_denied < CM_ARRAY_LEN(v->denied_policy) && rr->action == POLICY_ENFORCE) {
        v->denied_policy[v->n_denied] = rr->policy;
        v->denied_rule[v->n_denied] = rr->rule;
        v->n_denied++;
    }
}

/* The head of every 200 answer, up to and including "allowed":. */
static int response_head(struct cm_buf *resp, const char *api_version, const char *uid)
{
    int rc = cm_buf_adds(resp, "{\"apiVersion\":");

    if (rc == 0)
        rc = cm_buf_add_json_str(resp, api_version, strlen(api_version));
    if (rc == 0)
        rc = cm_buf_adds(resp, ",\"kind\":\"AdmissionReview\",\"response\":{\"uid\":");
    if (rc == 0)
        rc = cm_buf_add_json_str(resp, uid, strlen(uid));
    if (rc == 0)
        rc = cm_buf_adds(resp, ",\"allowed\":");
    return rc;
}

/* One warning line: newlines folded to spaces so kubectl prints one line each. */
static int add_warning(struct cm_buf *resp, const struct policy_rule_result *rr)
{
    struct cm_buf w;
    size_t i;
    int rc;

    cm_buf_init(&w, 4096);
    rc = cm_buf_addf(&w, "policy %s/%s: %s", rr->policy, rr->rule,
                     rr->message != NULL && rr->message[0] != '\0' ? rr->message
                                                                   : "validation failed");
    if (rc == CM_ETOOBIG) {
        /* Too long: keep the names, drop the message. */
        cm_buf_init(&w, 4096);
        rc = cm_buf_addf(&w, "policy %.200s/%.200s: validation failed", rr->policy, rr->rule);
    }
    if (rc == 0) {
        for (i = 0; i < w.len; i++) {
            if (w.ptr[i] == '\n' || w.ptr[i] == '\r' || w.ptr[i] == '\t')
                w.ptr[i] = ' ';
        }
        rc = cm_buf_add_json_str(resp, w.ptr, w.len);
    }
    cm_buf_free(&w);
    return rc;
}

static int judge_validate(const struct policy_set *set, const struct policy_request *req,
                          const char *api_version, const char *uid, struct policy_report *report,
                          struct cm_buf *resp, struct wh_verdict *v)
{
    struct cm_buf msg;
    size_t i;
    size_t n;
    size_t n_warn = 0;
    int rc;

    if (policy_set_eval(set, req, report, NULL) != 0)
        return server_error(v, resp, "out of memory while evaluating policies");
    n = policy_report_count(report);
    for (i = 0; i < n; i++) {
        const struct policy_rule_result *rr = policy_report_get(report, i);

        if (rr->result == POLICY_FAIL || rr->result == POLICY_ERROR) {
            verdict_add_rule(v, rr);
            if (rr->action == POLICY_AUDIT)
                n_warn++;
        }
    }
    if (v->rules.len > 0 && cm_buf_addc(&v->rules, ']') != 0)
        cm_buf_reset(&v->rules);

    rc = response_head(resp, api_version, uid);
    if (rc != 0)
        return rc;
    if (policy_report_blocked(report)) {
        cm_buf_init(&msg, WH_MAX_RESPONSE / 2);
        /* Kyverno starts its message with two newlines, so that kubectl prints the
         * policy list under "denied the request:". */
        rc = cm_buf_adds(&msg, "\n\n");
        if (rc == 0)
            rc = policy_report_format(report, false, v->kind, v->ns, v->name, &msg);
        if (rc == 0) {
            rc = cm_buf_adds(resp, "false,\"status\":{\"code\":403,\"reason\":\"Forbidden\","
                                   "\"message\":");
            if (rc == 0)
                rc = cm_buf_add_json_str(resp, msg.ptr, msg.len);
            if (rc == 0)
                rc = cm_buf_addc(resp, '}');
        }
        cm_buf_free(&msg);
        if (rc != 0)
            return rc;
        v->decision = WH_DEC_DENIED;
    } else {
        rc = cm_buf_adds(resp, "true");
        if (rc != 0)
            return rc;
        v->decision = n_warn > 0 ? WH_DEC_WARNED : WH_DEC_ALLOWED;
    }
    if (n_warn > 0) {
        bool first = true;

        rc = cm_buf_adds(resp, ",\"warnings\":[");
        for (i = 0; rc == 0 && i < n; i++) {
            const struct policy_rule_result *rr = policy_report_get(report, i);

            if ((rr->result != POLICY_FAIL && rr->result != POLICY_ERROR) ||
                rr->action != POLICY_AUDIT)
                continue;
            if (!first)
                rc = cm_buf_addc(resp, ',');
            if (rc == 0)
                rc = add_warning(resp, rr);
            first = false;
        }
        if (rc == 0)
            rc = cm_buf_addc(resp, ']');
        if (rc != 0)
            return rc;
    }
    return cm_buf_adds(resp, "}}");
}

static int judge_mutate(const struct policy_set *set, const struct policy_request *req,
                        const char *api_version, const char *uid, struct cm_buf *resp,
                        struct wh_verdict *v)
{
    struct policy_binding b;
    struct cm_buf patch;
    char *b64 = NULL;
    bool changed = false;
    int rc;

    policy_set_bind(set, req, &b);
    rc = response_head(resp, api_version, uid);
    if (rc != 0)
        return rc;
    v->decision = WH_DEC_ALLOWED;
    if (b.status != POLICY_BIND_OK || b.backup == NULL)
        return cm_buf_adds(resp, "true}}");
    (void)snprintf(v->bound, sizeof(v->bound), "%s", b.backup->name);
    if (b.annotation_ok)
        return cm_buf_adds(resp, "true}}");

    cm_buf_init(&patch, 64 * 1024);
    rc = wh_patch_annotation(req->object, POLICY_BINDING_ANNOTATION, b.backup->name, &patch,
                             &changed);
    if (rc == 0 && changed) {
        b64 = cm_base64_encode(patch.ptr, patch.len, NULL);
        if (b64 == NULL)
            rc = CM_ENOMEM;
    }
    if (rc == 0 && changed) {
        rc = cm_buf_adds(resp, "true,\"patchType\":\"JSONPatch\",\"patch\":\"");
        if (rc == 0)
            rc = cm_buf_adds(resp, b64);
        if (rc == 0)
            rc = cm_buf_adds(resp, "\"}}");
        v->decision = WH_DEC_PATCHED;
    } else if (rc == 0) {
        rc = cm_buf_adds(resp, "true}}");
    }
    cm_free(b64);
    cm_buf_free(&patch);
    return rc;
}

static bool parse_op(const char *s, enum policy_op *op)
{
    if (s == NULL)
        return false;
    if (strcmp(s, "CREATE") == 0)
        *op = POLICY_OP_CREATE;
    else if (strcmp(s, "UPDATE") == 0)
        *op = POLICY_OP_UPDATE;
    else if (strcmp(s, "DELETE") == 0)
        *op = POLICY_OP_DELETE;
    else if (strcmp(s, "CONNECT") == 0)
        *op = POLICY_OP_CONNECT;
    else
        return false;
    return true;
}

/* Answers allowed with nothing else (DELETE, CONNECT, subresources). */
static int allow_plain(struct cm_buf *resp, const char *api_version, const char *uid,
                       struct wh_verdict *v)
{
    int rc = response_head(resp, api_version, uid);

    if (rc == 0)
        rc = cm_buf_adds(resp, "true}}");
    v->decision = WH_DEC_ALLOWED;
    return rc;
}

/* Labels of a namespace known to have none: an empty set, which a namespaceSelector
 * such as `env NotIn [prod]` or `env DoesNotExist` selects (NULL would select nothing). */
static const cJSON no_labels = {.type = cJSON_Object};

/* The namespace labels the policies see: a Namespace's own, else its namespace's from
 * the map (a lookup in the immutable map: no allocation, no I/O). *ns_unknown: the
 * request has a namespace the map does not know (or there is no map). */
static const cJSON *ns_labels_for(const struct wh_nsmap *nsmap, const cJSON *object,
                                  const struct wh_verdict *v, bool *ns_unknown)
{
    const char *kind = str_member(object, "kind");
    const char *api_version = str_member(object, "apiVersion");
    const cJSON *labels;
    bool found = false;

    if (kind != NULL && strcmp(kind, "Namespace") == 0 && api_version != NULL &&
        strcmp(api_version, "v1") == 0) {
        labels = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(object, "metadata"), "labels");
        return cJSON_IsObject(labels) ? labels : &no_labels;
    }
    if (v->ns[0] == '\0')
        return NULL;
    labels = wh_nsmap_lookup(nsmap, v->ns, &found);
    if (!found) {
        *ns_unknown = true;
        return NULL;
    }
    return labels != NULL ? labels : &no_labels;
}

int wh_admission_handle(const struct policy_set *set, enum wh_endpoint ep, const char *body,
                        size_t len, struct policy_report *report, struct cm_buf *resp,
                        struct wh_verdict *v)
{
    bool ns_unknown = false;

    return wh_admission_handle_ns(set, NULL, false, ep, body, len, report, resp, v, &ns_unknown);
}

int wh_admission_handle_ns(const struct policy_set *set, const struct wh_nsmap *nsmap,
                           bool ns_source, enum wh_endpoint ep, const char *body, size_t len,
                           struct policy_report *report, struct cm_buf *resp, struct wh_verdict *v,
                           bool *ns_unknown)
{
    cJSON *root = NULL;
    const cJSON *req_json;
    const cJSON *object;
    const cJSON *old_object;
    const cJSON *it;
    const char *end = NULL;
    const char *api_version;
    const char *uid;
    const char *sub;
    struct policy_request req;
    enum policy_op op;
    bool unknown = false;
    size_t rest;
    int rc;

    cm_buf_reset(resp);
    if (body == NULL || len == 0)
        return invalid(v, resp, 400, "empty body: expected an AdmissionReview (JSON)");
    root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (root == NULL) {
        char why[128];

        (void)snprintf(why, sizeof(why), "body is not valid JSON (at byte %zu)",
                       end != NULL && end >= body ? (size_t)(end - body) : (size_t)0);
        return invalid(v, resp, 400, why);
    }
    for (rest = (size_t)(end - body); rest < len; rest++) {
        char c = body[rest];

        if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
            rc = invalid(v, resp, 400, "body holds bytes after the JSON document");
            goto cleanup;
        }
    }
    if (!cJSON_IsObject(root)) {
        rc = invalid(v, resp, 400, "body is not a JSON object: expected an AdmissionReview");
        goto cleanup;
    }
    api_version = str_member(root, "apiVersion");
    it = cJSON_GetObjectItemCaseSensitive(root, "kind");
    if (it != NULL && (!cJSON_IsString(it) || strcmp(it->valuestring, "AdmissionReview") != 0)) {
        rc = invalid(v, resp, 400, "kind is not AdmissionReview");
        goto cleanup;
    }
    if (api_version == NULL || (strcmp(api_version, "admission.k8s.io/v1") != 0 &&
                                strcmp(api_version, "admission.k8s.io/v1beta1") != 0)) {
        rc = invalid(v, resp, 400,
                     "apiVersion must be admission.k8s.io/v1 or admission.k8s.io/v1beta1");
        goto cleanup;
    }
    req_json = cJSON_GetObjectItemCaseSensitive(root, "request");
    if (!cJSON_IsObject(req_json)) {
        rc = invalid(v, resp, 400, "AdmissionReview has no request object");
        goto cleanup;
    }
    uid = str_member(req_json, "uid");
    if (uid == NULL || uid[0] == '\0') {
        rc = invalid(v, resp, 400, "request.uid is missing or not a string");
        goto cleanup;
    }
    if (strlen(uid) > WH_MAX_UID) {
        rc = invalid(v, resp, 400, "request.uid is longer than 256 bytes");
        goto cleanup;
    }
    (void)snprintf(v->uid, sizeof(v->uid), "%s", uid);
    copy_member(v->operation, sizeof(v->operation), req_json, "operation");
    copy_member(v->kind, sizeof(v->kind), cJSON_GetObjectItemCaseSensitive(req_json, "kind"),
                "kind");
    copy_member(v->ns, sizeof(v->ns), req_json, "namespace");
    copy_member(v->name, sizeof(v->name), req_json, "name");
    copy_member(v->user, sizeof(v->user), cJSON_GetObjectItemCaseSensitive(req_json, "userInfo"),
                "username");
    it = cJSON_GetObjectItemCaseSensitive(req_json, "dryRun");
    v->dry_run = cJSON_IsTrue(it);
    if (!parse_op(str_member(req_json, "operation"), &op)) {
        rc = invalid(v, resp, 400, "request.operation must be CREATE, UPDATE, DELETE or CONNECT");
        goto cleanup;
    }
    if (set == NULL) {
        rc = server_error(v, resp, "no policies loaded");
        goto cleanup;
    }
    v->http_status = 200;
    sub = str_member(req_json, "subResource");
    if (op == POLICY_OP_DELETE || op == POLICY_OP_CONNECT || (sub != NULL && sub[0] != '\0')) {
        rc = allow_plain(resp, api_version, uid, v);
        goto cleanup;
    }
    object = cJSON_GetObjectItemCaseSensitive(req_json, "object");
    if (!cJSON_IsObject(object)) {
        rc = invalid(v, resp, 400, "request.object must be an object for CREATE and UPDATE");
        goto cleanup;
    }
    old_object = cJSON_GetObjectItemCaseSensitive(req_json, "oldObject");
    if (v->name[0] == '\0') {
        /* generateName objects have no name yet in the request. */
        copy_member(v->name, sizeof(v->name), cJSON_GetObjectItemCaseSensitive(object, "metadata"),
                    "name");
    }
    if (v->kind[0] == '\0')
        copy_member(v->kind, sizeof(v->kind), object, "kind");

    memset(&req, 0, sizeof(req));
    req.object = object;
    req.old_object = cJSON_IsObject(old_object) ? old_object : NULL;
    req.operation = op;
    req.namespace_ = v->ns[0] != '\0' ? v->ns : NULL;
    req.namespace_labels = ns_labels_for(nsmap, object, v, &unknown);
    if (unknown)
        *ns_unknown = true;
    /* With a source, a namespace it has not listed (yet) has labels nobody told us:
     * a namespaceSelector must not quietly fail to match them. */
    req.namespace_labels_unknown = ns_source && unknown;
    if (ep == WH_EP_MUTATE)
        rc = judge_mutate(set, &req, api_version, uid, resp, v);
    else
        rc = judge_validate(set, &req, api_version, uid, report, resp, v);

cleanup:
    cJSON_Delete(root);
    if (rc != 0) {
        v->http_status = 500;
        v->decision = WH_DEC_ERROR;
        cm_buf_reset(resp);
    }
    return rc;
}
