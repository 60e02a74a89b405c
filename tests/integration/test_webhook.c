/* SPDX-License-Identifier: Apache-2.0 */
/* test_webhook.c - the real `lockwarden webhook` over TLS (the client verifies the
 * CA) with the AdmissionReviews captured from a kube-apiserver: denied, allowed,
 * warned and patched as expected, patches that apply, every bad input's status code,
 * health, metrics, the decision log, TLS version and ALPN, keep-alive. */
#include "tests/support/tls_client.h"
#include "tests/support/wh_env.h"
#include "tests/support/wh_jsonpatch.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANNOTATION "lockwarden.io/backup-policy"

static int setup(void **state)
{
    *state = wht_client_env_new(NULL, true);
    return *state != NULL ? 0 : -1;
}

/* POSTs body to path (with the API server's ?timeout=5s) and parses the answer. */
static cJSON *post(struct wht_client_env *f, const char *path, const char *body, size_t len)
{
    char url[256];
    char with_query[200];
    cJSON *j;

    (void)snprintf(with_query, sizeof(with_query), "%s?timeout=5s", path);
    wht_env_url(&f->env, with_query, url, sizeof(url));
    assert_int_equal(tls_client_post_review(f->client, url, body, len, &f->resp), 0);
    assert_int_equal(f->resp.status, 200);
    assert_non_null(strstr(f->resp.content_type, "application/json"));
    j = cJSON_ParseWithLength(f->resp.body.ptr, f->resp.body.len);
    assert_non_null(j);
    return j;
}

static cJSON *post_fixture(struct wht_client_env *f, const char *path, const char *fixture)
{
    char *buf = NULL;
    size_t len = 0;
    cJSON *j;

    assert_int_equal(wht_fixture(fixture, &buf, &len), 0);
    j = post(f, path, buf, len);
    cm_free(buf);
    return j;
}

static cJSON *post_json(struct wht_client_env *f, const char *path, const cJSON *review)
{
    char *s = cJSON_PrintUnformatted(review);
    cJSON *j;

    assert_non_null(s);
    j = post(f, path, s, strlen(s));
    cJSON_free(s);
    return j;
}

static cJSON *load_fixture(const char *fixture)
{
    char *buf = NULL;
    size_t len = 0;
    cJSON *j;

    assert_int_equal(wht_fixture(fixture, &buf, &len), 0);
    j = cJSON_ParseWithLength(buf, len);
    cm_free(buf);
    assert_non_null(j);
    return j;
}

static const cJSON *resp_of(const cJSON *review)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(review, "response");

    assert_true(cJSON_IsObject(r));
    return r;
}

static const char *str_at(const cJSON *o, const char *k)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);

    return cJSON_IsString(it) ? it->valuestring : NULL;
}

static bool allowed(const cJSON *review)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(resp_of(review), "allowed");

    assert_true(cJSON_IsBool(a));
    return cJSON_IsTrue(a);
}

static void assert_uid_echoed(const cJSON *review, const char *fixture_uid)
{
    assert_string_equal(str_at(review, "apiVersion"), "admission.k8s.io/v1");
    assert_string_equal(str_at(review, "kind"), "AdmissionReview");
    assert_string_equal(str_at(resp_of(review), "uid"), fixture_uid);
}

static cJSON *request_of(cJSON *review)
{
    return cJSON_GetObjectItemCaseSensitive(review, "request");
}

static cJSON *object_of(cJSON *review)
{
    return cJSON_GetObjectItemCaseSensitive(request_of(review), "object");
}

static void set_label(cJSON *review, const char *key, const char *value)
{
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(object_of(review), "metadata");
    cJSON *labels = cJSON_GetObjectItemCaseSensitive(meta, "labels");

    cJSON_DeleteItemFromObjectCaseSensitive(labels, key);
    if (value != NULL)
        assert_non_null(cJSON_AddStringToObject(labels, key, value));
}

static void test_validate_denies_unlabelled(void **state)
{
    struct wht_client_env *f = *state;
    cJSON *r = post_fixture(f, "/validate", "validate-deployment-create-web-bad.json");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(resp_of(r), "status");
    const char *msg;

    assert_uid_echoed(r, "df140e37-1e3a-4e08-b05f-1bdc0c51b647");
    assert_false(allowed(r));
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(st, "code")->valueint, 403);
    assert_string_equal(str_at(st, "reason"), "Forbidden");
    msg = str_at(st, "message");
    assert_non_null(msg);
    /* Kyverno's wording, naming the resource, the policy and the rule. */
    assert_non_null(strstr(msg, "resource Deployment/default/web-bad was blocked due to the "
                                "following policies"));
    assert_non_null(strstr(msg, "require-dataprotection:"));
    assert_non_null(strstr(msg, "check-dataprotection-label: 'validation error: "));
    assert_non_null(strstr(msg, "failed at path /metadata/labels/dataprotection/"));
    cJSON_Delete(r);
}

static void test_dry_run_is_judged_the_same(void **state)
{
    struct wht_client_env *f = *state;
    cJSON *a = post_fixture(f, "/validate", "validate-deployment-create-web-bad.json");
    cJSON *b = post_fixture(f, "/validate", "validate-deployment-create-web-bad-dryrun.json");
    const cJSON *sa = cJSON_GetObjectItemCaseSensitive(resp_of(a), "status");
    const cJSON *sb = cJSON_GetObjectItemCaseSensitive(resp_of(b), "status");

    assert_false(allowed(b));
    assert_string_equal(str_at(sa, "message"), str_at(sb, "message"));
    cJSON_Delete(a);
    cJSON_Delete(b);
}

static void test_validate_allows_labelled_with_audit_warning(void **state)
{
    struct wht_client_env *f = *state;
    cJSON *r = post_fixture(f, "/validate", "validate-deployment-create-web-ok.json");
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(resp_of(r), "warnings");

    assert_uid_echoed(r, "ce50cb09-e435-4d7d-b406-54e8b00319a5");
    assert_true(allowed(r));
    assert_null(cJSON_GetObjectItemCaseSensitive(resp_of(r), "status"));
    /* recommend-team-label is Audit: allowed, and kubectl prints the warning. */
    assert_true(cJSON_IsArray(w));
    assert_int_equal(cJSON_GetArraySize(w), 1);
    assert_non_null(strstr(cJSON_GetArrayItem(w, 0)->valuestring, "recommend-team-label"));
    assert_non_null(strstr(cJSON_GetArrayItem(w, 0)->valuestring, "check-team-label"));
    assert_null(strchr(cJSON_GetArrayItem(w, 0)->valuestring, '\n'));
    cJSON_Delete(r);
}

static void test_no_warning_when_compliant(void **state)
{
    struct wht_client_env *f = *state;
    cJSON *rv = load_fixture("validate-deployment-create-web-ok.json");
    cJSON *r;

    set_label(rv, "team", "payments");
    r = post_json(f, "/validate", rv);
    assert_true(allowed(r));
    assert_null(cJSON_GetObjectItemCaseSensitive(resp_of(r), "warnings"));
    cJSON_Delete(r);
    cJSON_Delete(rv);
}

static void test_statefulset_update_delete_allowed(void **state)
{
    struct wht_client_env *f = *state;
    cJSON *r = post_fixture(f, "/validate", "validate-statefulset-create-db.json");

    assert_true(allowed(r));
    cJSON_Delete(r);
    r = post_fixture(f, "/validate", "validate-deployment-update-web-ok.json");
    assert_true(allowed(r));
    cJSON_Delete(r);
    /* DELETE carries "object": null and is allowed. */
    r = post_fixture(f, "/validate", "validate-deployment-delete-web-ok.json");
    assert_uid_echoed(r, "15b18466-e668-4b5e-b78a-c9c29dd79edd");
    assert_true(allowed(r));
    assert_null(cJSON_GetObjectItemCaseSensitive(resp_of(r), "warnings"));
    cJSON_Delete(r);
}

static void test_delete_of_unlabelled_and_subresource_allowed(void **state)
{
    struct wht_client_env *f = *state;
    cJSON *rv = load_fixture("validate-deployment-create-web-bad.json");
    cJSON *r;

    /* A status or scale update of a non-compliant object is allowed. */
    assert_non_null(cJSON_AddStringToObject(request_of(rv), "subResource", "scale"));
    r = post_json(f, "/validate", rv);
    assert_true(allowed(r));
    cJSON_Delete(r);
    cJSON_Delete(rv);
    rv = load_fixture("validate-deployment-create-web-bad.json");
    cJSON_ReplaceItemInObjectCaseSensitive(request_of(rv), "operation",
                                           cJSON_CreateString("CONNECT"));
    r = post_json(f, "/validate", rv);
    assert_true(allowed(r));
    cJSON_Delete(r);
    cJSON_Delete(rv);
}

static void test_v1beta1_answered_in_v1beta1(void **state)
{
    struct wht_client_env *f = *state;
    cJSON *rv = load_fixture("validate-deployment-create-web-bad.json");
    cJSON *r;

    cJSON_ReplaceItemInObjectCaseSensitive(rv, "apiVersion",
                                           cJSON_CreateString("admission.k8s.io/v1beta1"));
    r = post_json(f, "/validate", rv);
    assert_string_equal(str_at(r, "apiVersion"), "admission.k8s.io/v1beta1");
    assert_false(allowed(r));
    cJSON_Delete(r);
    cJSON_Delete(rv);
}

static void test_unknown_backup_policy_denied(void **state)
{
    struct wht_client_env *f = *state;
    cJSON *rv = load_fixture("validate-deployment-create-web-ok.json");
    const char *msg;
    cJSON *r;

    set_label(rv, "dataprotection", "k10-nosuchpolicy");
    r = post_json(f, "/validate", rv);
    assert_false(allowed(r));
    msg = str_at(cJSON_GetObjectItemCaseSensitive(resp_of(r), "status"), "message");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "lockwarden-backup-binding"));
    assert_non_null(strstr(msg, "backup-policy-exists"));
    assert_non_null(strstr(msg, "nosuchpolicy"));
    cJSON_Delete(r);
    cJSON_Delete(rv);
}

static void test_immutable_without_object_lock_denied(void **state)
{
    struct wht_client_env *f = *state;
    cJSON *rv = load_fixture("validate-deployment-create-web-ok.json");
    const char *msg;
    cJSON *r;

    set_label(rv, "dataprotection", "scratch");
    set_label(rv, "immutable", "enabled");
    r = post_json(f, "/validate", rv);
    assert_false(allowed(r));
    msg = str_at(cJSON_GetObjectItemCaseSensitive(resp_of(r), "status"), "message");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "immutable-requires-object-lock"));
    assert_non_null(strstr(msg, "scratch"));
    cJSON_Delete(r);
    cJSON_Delete(rv);
    /* The same label on a policy with Object Lock is fine. */
    rv = load_fixture("validate-deployment-create-web-ok.json");
    set_label(rv, "immutable", "enabled");
    r = post_json(f, "/validate", rv);
    assert_true(allowed(r));
    cJSON_Delete(r);
    cJSON_Delete(rv);
}

/* Decodes the patch of a mutate answer (NULL when there is none). */
static char *patch_of(const cJSON *review, size_t *len)
{
    const char *type = str_at(resp_of(review), "patchType");
    const char *b64 = str_at(resp_of(review), "patch");
    unsigned char *raw = NULL;

    if (b64 == NULL) {
        assert_null(type);
        return NULL;
    }
    assert_string_equal(type, "JSONPatch");
    assert_int_equal(cm_base64_decode(b64, strlen(b64), &raw, len), 0);
    return (char *)raw;
}

/* Applies the answer's patch to a copy of the request's object and checks that the
 * result is the object plus exactly the expected annotation. */
static void assert_patch_binds(cJSON *review_req, const cJSON *answer, const char *want)
{
    cJSON *obj = cJSON_Duplicate(object_of(review_req), 1);
    cJSON *expected = cJSON_Duplicate(object_of(review_req), 1);
    cJSON *meta;
    cJSON *ann;
    struct cm_err err;
    size_t len = 0;
    char *patch = patch_of(answer, &len);

    assert_non_null(patch);
    assert_true(allowed(answer));
    assert_int_equal(wht_jsonpatch_apply(obj, patch, len, &err), 0);
    meta = cJSON_GetObjectItemCaseSensitive(expected, "metadata");
    if (meta == NULL)
        meta = cJSON_AddObjectToObject(expected, "metadata");
    ann = cJSON_GetObjectItemCaseSensitive(meta, "annotations");
    if (ann == NULL)
        ann = cJSON_AddObjectToObject(meta, "annotations");
    cJSON_DeleteItemFromObjectCaseSensitive(ann, ANNOTATION);
    assert_non_null(cJSON_AddStringToObject(ann, ANNOTATION, want));
    assert_true(cJSON_Compare(obj, expected, 1));
    cm_free(patch);
    cJSON_Delete(obj);
    cJSON_Delete(expected);
}

static void test_mutate_binds_by_label(void **state)
{
    struct wht_client_env *f = *state;
    cJSON *rv = load_fixture("mutate-deployment-create-web-ok.json");
    cJSON *r = post_json(f, "/mutate", rv);

    assert_uid_echoed(r, "9508dabf-d5cf-470f-9da9-6b7f23889e58");
    assert_patch_binds(rv, r, "gdpr-eu");
    cJSON_Delete(r);
    cJSON_Delete(rv);
}

static void test_mutate_k10_prefix_names_the_same_policy(void **state)
{
    struct wht_client_env *f = *state;
    cJSON *rv = load_fixture("mutate-deployment-create-web-ok.json");
    cJSON *r;

    set_label(rv, "dataprotection", "k10-gdpr-eu");
    r = post_json(f, "/mutate", rv);
    assert_patch_binds(rv, r, "gdpr-eu");
    cJSON_Delete(r);
    cJSON_Delete(rv);
}

static void test_mutate_without_annotations_map(void **state)
{
    struct wht_client_env *f = *state;
    cJSON *rv = load_fixture("mutate-deployment-create-web-ok.json");
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(object_of(rv), "metadata");
    size_t len = 0;
    char *patch;
    cJSON *r;

    cJSON_DeleteItemFromObjectCaseSensitive(meta, "annotations");
    r = post_json(f, "/mutate", rv);
    patch = patch_of(r, &len);
    assert_non_null(patch);
    /* The whole map is added: adding /metadata/annotations/<key> would fail. */
    assert_non_null(strstr(patch, "\"path\":\"/metadata/annotations\""));
    cm_free(patch);
    assert_patch_binds(rv, r, "gdpr-eu");
    cJSON_Delete(r);
    cJSON_Delete(rv);
}

static void test_mutate_replaces_a_wrong_binding(void **state)
{
    struct wht_client_env *f = *state;
    cJSON *rv = load_fixture("mutate-deployment-create-web-ok.json");
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(object_of(rv), "metadata");
    cJSON *ann = cJSON_GetObjectItemCaseSensitive(meta, "annotations");
    size_t len = 0;
    char *patch;
    cJSON *r;

    assert_non_null(cJSON_AddStringToObject(ann, ANNOTATION, "pii"));
    r = post_json(f, "/mutate", rv);
    patch = patch_of(r, &len);
    assert_non_null(patch);
    /* '/' in the key is escaped as ~1 (RFC 6901). */
    assert_non_null(strstr(patch, "/metadata/annotations/lockwarden.io~1backup-policy"));
    cm_free(patch);
    assert_patch_binds(rv, r, "gdpr-eu");
    cJSON_Delete(r);
    cJSON_Delete(rv);
}

static void test_mutate_correct_binding_gives_no_patch(void **state)
{
    struct wht_client_env *f = *state;
    cJSON *rv = load_fixture("mutate-deployment-create-web-ok.json");
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(object_of(rv), "metadata");
    cJSON *ann = cJSON_GetObjectItemCaseSensitive(meta, "annotations");
    size_t len = 0;
    cJSON *r;

    assert_non_null(cJSON_AddStringToObject(ann, ANNOTATION, "gdpr-eu"));
    r = post_json(f, "/mutate", rv);
    assert_true(allowed(r));
    assert_null(patch_of(r, &len));
    cJSON_Delete(r);
    cJSON_Delete(rv);
}

static void test_mutate_selector_default_for_namespace(void **state)
{
    struct wht_client_env *f = *state;
    cJSON *rv = load_fixture("mutate-deployment-create-web-bad.json");
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(object_of(rv), "metadata");
    size_t len = 0;
    cJSON *r;

    /* No dataprotection label in namespace "default": nothing to bind. */
    r = post_json(f, "/mutate", rv);
    assert_true(allowed(r));
    assert_null(patch_of(r, &len));
    cJSON_Delete(r);
    /* In team-a, the team-default BackupPolicy's selector makes it the default. */
    cJSON_ReplaceItemInObjectCaseSensitive(request_of(rv), "namespace",
                                           cJSON_CreateString("team-a"));
    cJSON_ReplaceItemInObjectCaseSensitive(meta, "namespace", cJSON_CreateString("team-a"));
    r = post_json(f, "/mutate", rv);
    assert_patch_binds(rv, r, "team-default");
    cJSON_Delete(r);
    cJSON_Delete(rv);
}

static void test_mutate_delete_and_other_kinds_untouched(void **state)
{
    struct wht_client_env *f = *state;
    cJSON *rv = load_fixture("validate-deployment-delete-web-ok.json");
    size_t len = 0;
    cJSON *r = post_json(f, "/mutate", rv);

    assert_true(allowed(r));
    assert_null(patch_of(r, &len));
    cJSON_Delete(r);
    cJSON_Delete(rv);
    rv = load_fixture("mutate-deployment-create-web-ok.json");
    cJSON_ReplaceItemInObjectCaseSensitive(object_of(rv), "kind", cJSON_CreateString("ConfigMap"));
    cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(request_of(rv), "kind"),
                                           "kind", cJSON_CreateString("ConfigMap"));
    r = post_json(f, "/mutate", rv);
    assert_true(allowed(r));
    assert_null(patch_of(r, &len));
    cJSON_Delete(r);
    cJSON_Delete(rv);
}

/* Sends raw bytes and returns the status. */
static long raw(struct wht_client_env *f, const char *method, const char *path, const char *body,
                size_t len)
{
    char url[256];

    wht_env_url(&f->env, path, url, sizeof(url));
    assert_int_equal(tls_client_request(f->client, method, url, body, len, NULL, &f->resp), 0);
    return f->resp.status;
}

static void test_bad_inputs_get_their_status(void **state)
{
    struct wht_client_env *f = *state;
    static const char no_request[] =
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}";
    static const char no_uid[] = "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":"
                                 "\"AdmissionReview\",\"request\":{\"operation\":\"CREATE\"}}";
    static const char wrong_version[] =
        "{\"apiVersion\":\"admission.k8s.io/v2\",\"kind\":\"AdmissionReview\",\"request\":{}}";
    static const char no_object[] =
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":"
        "{\"uid\":\"u1\",\"operation\":\"CREATE\",\"object\":null}}";

    assert_int_equal(raw(f, "POST", "/validate", "not json", 8), 400);
    assert_non_null(strstr(f->resp.body.ptr, "not valid JSON"));
    assert_int_equal(raw(f, "POST", "/validate", "", 0), 400);
    assert_int_equal(raw(f, "POST", "/validate", "[1,2]", 5), 400);
    assert_int_equal(raw(f, "POST", "/mutate", no_request, sizeof(no_request) - 1), 400);
    assert_non_null(strstr(f->resp.body.ptr, "no request"));
    assert_int_equal(raw(f, "POST", "/validate", no_uid, sizeof(no_uid) - 1), 400);
    assert_non_null(strstr(f->resp.body.ptr, "uid"));
    assert_int_equal(raw(f, "POST", "/validate", wrong_version, sizeof(wrong_version) - 1), 400);
    assert_int_equal(raw(f, "POST", "/validate", no_object, sizeof(no_object) - 1), 400);
    assert_int_equal(raw(f, "POST", "/validate", "{\"a\":1} x", 9), 400);
    assert_int_equal(raw(f, "POST", "/nope", "{}", 2), 404);
    assert_int_equal(raw(f, "GET", "/", NULL, 0), 404);
    assert_int_equal(raw(f, "GET", "/validate", NULL, 0), 405);
    assert_int_equal(raw(f, "PUT", "/mutate", "{}", 2), 405);
    assert_int_equal(raw(f, "POST", "/healthz", "{}", 2), 405);
    /* The server still answers real requests after all that. */
    cJSON_Delete(post_fixture(f, "/validate", "validate-deployment-create-web-ok.json"));
}

static void test_body_limit_both_sides(void **state)
{
    struct wht_client_env *f = *state;
    const size_t cap = 3u << 20;
    char *fixture = NULL;
    size_t flen = 0;
    char *body = malloc(cap + 1);
    cJSON *r;

    assert_non_null(body);
    /* Exactly 3 MiB: a real review padded with trailing spaces is judged. */
    assert_int_equal(wht_fixture("validate-deployment-create-web-bad.json", &fixture, &flen), 0);
    memcpy(body, fixture, flen);
    memset(body + flen, ' ', cap + 1 - flen);
    r = post(f, "/validate", body, cap);
    assert_false(allowed(r));
    cJSON_Delete(r);
    /* One byte more: 413 (the body is read and dropped so the answer arrives). */
    assert_int_equal(raw(f, "POST", "/validate", body, cap + 1), 413);
    assert_non_null(strstr(f->resp.body.ptr, "3 MiB"));
    /* A client that waits for 100 Continue gets the 413 instead, at once. */
    {
        static const char *const expect[] = {"Expect: 100-continue", NULL};
        char url[256];

        wht_env_url(&f->env, "/validate", url, sizeof(url));
        assert_int_equal(
            tls_client_request(f->client, "POST", url, body, cap + 1, expect, &f->resp), 0);
        assert_int_equal(f->resp.status, 413);
    }
    cm_free(fixture);
    free(body);
    cJSON_Delete(post_fixture(f, "/validate", "validate-deployment-create-web-ok.json"));
}

static void test_health_ready_and_metrics(void **state)
{
    struct wht_client_env *f = *state;
    char line[512];

    assert_int_equal(raw(f, "GET", "/healthz", NULL, 0), 200);
    assert_int_equal(raw(f, "GET", "/readyz", NULL, 0), 200);
    cJSON_Delete(post_fixture(f, "/validate", "validate-deployment-create-web-bad.json"));
    cJSON_Delete(post_fixture(f, "/validate", "validate-deployment-create-web-ok.json"));
    cJSON_Delete(post_fixture(f, "/mutate", "mutate-deployment-create-web-ok.json"));
    assert_int_equal(raw(f, "POST", "/validate", "x", 1), 400);
    assert_int_equal(raw(f, "GET", "/metrics", NULL, 0), 200);
    assert_non_null(strstr(f->resp.content_type, "text/plain"));
    assert_non_null(
        strstr(f->resp.body.ptr,
               "lockwarden_webhook_requests_total{endpoint=\"validate\",decision=\"denied\"} 1\n"));
    assert_non_null(
        strstr(f->resp.body.ptr,
               "lockwarden_webhook_requests_total{endpoint=\"validate\",decision=\"warned\"} 1\n"));
    assert_non_null(
        strstr(f->resp.body.ptr,
               "lockwarden_webhook_requests_total{endpoint=\"mutate\",decision=\"patched\"} 1\n"));
    assert_non_null(strstr(
        f->resp.body.ptr,
        "lockwarden_webhook_requests_total{endpoint=\"validate\",decision=\"invalid\"} 1\n"));
    assert_non_null(strstr(f->resp.body.ptr,
                           "lockwarden_webhook_denials_total{policy=\"require-dataprotection\","
                           "rule=\"check-dataprotection-label\"} 1\n"));
    assert_non_null(strstr(f->resp.body.ptr, "lockwarden_webhook_request_duration_seconds_bucket{"
                                             "endpoint=\"validate\",le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(f->resp.body.ptr, "lockwarden_webhook_policy_reloads_total 0\n"));
    assert_non_null(
        strstr(f->resp.body.ptr, "lockwarden_webhook_policy_reload_failures_total 0\n"));
    assert_non_null(strstr(f->resp.body.ptr, "lockwarden_webhook_certificate_not_after_seconds 1"));
    /* The decision log: one line per request, with uid and decision, no contents. */
    assert_int_equal(proc_wait_log(&f->env.proc, "\"uid\":\"df140e37-1e3a-4e08-b05f-1bdc0c51b647\"",
                                   5000, line, sizeof(line)),
                     0);
    assert_non_null(strstr(line, "\"decision\":\"denied\""));
    assert_non_null(strstr(line, "\"op\":\"CREATE\""));
    assert_non_null(strstr(line, "\"kind\":\"Deployment\""));
    assert_non_null(strstr(line, "\"ns\":\"default\""));
    assert_non_null(strstr(line, "\"name\":\"web-bad\""));
    assert_non_null(strstr(line, "\"user\":\"rig-admin\""));
    assert_non_null(strstr(line, "require-dataprotection/check-dataprotection-label"));
    assert_non_null(strstr(line, "\"latency_us\":"));
    assert_int_equal(proc_log_count(&f->env.proc, "nginx:1.25"), 0);
    assert_int_equal(proc_log_count(&f->env.proc, "last-applied-configuration"), 0);
}

static void test_tls_version_alpn_and_keepalive(void **state)
{
    struct wht_client_env *f = *state;
    char alpn[32];
    char version[32];
    char url[256];

    assert_int_equal(tls_peer_info(f->env.port, f->env.ca, 0, "h2,http/1.1", alpn, sizeof(alpn),
                                   version, sizeof(version)),
                     0);
    assert_string_equal(alpn, "http/1.1"); /* never h2: it speaks HTTP/1.1 only */
    assert_string_equal(version, "TLSv1.3");
    /* TLS 1.2 is accepted, TLS 1.1 refused. */
    assert_int_equal(tls_peer_info(f->env.port, f->env.ca, TLS1_2_VERSION, "http/1.1", alpn,
                                   sizeof(alpn), version, sizeof(version)),
                     0);
    assert_string_equal(version, "TLSv1.2");
    assert_int_equal(tls_peer_info(f->env.port, f->env.ca, TLS1_1_VERSION, NULL, alpn, sizeof(alpn),
                                   version, sizeof(version)),
                     CM_ETLS);
    /* The second request reuses the connection (the API server keeps it alive). */
    wht_env_url(&f->env, "/healthz", url, sizeof(url));
    assert_int_equal(tls_client_request(f->client, "GET", url, NULL, 0, NULL, &f->resp), 0);
    assert_int_equal(tls_client_request(f->client, "GET", url, NULL, 0, NULL, &f->resp), 0);
    assert_int_equal(f->resp.connects, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        WHT_CLIENT_TEST(test_validate_denies_unlabelled, setup),
        WHT_CLIENT_TEST(test_dry_run_is_judged_the_same, setup),
        WHT_CLIENT_TEST(test_validate_allows_labelled_with_audit_warning, setup),
        WHT_CLIENT_TEST(test_no_warning_when_compliant, setup),
        WHT_CLIENT_TEST(test_statefulset_update_delete_allowed, setup),
        WHT_CLIENT_TEST(test_delete_of_unlabelled_and_subresource_allowed, setup),
        WHT_CLIENT_TEST(test_v1beta1_answered_in_v1beta1, setup),
        WHT_CLIENT_TEST(test_unknown_backup_policy_denied, setup),
        WHT_CLIENT_TEST(test_immutable_without_object_lock_denied, setup),
        WHT_CLIENT_TEST(test_mutate_binds_by_label, setup),
        WHT_CLIENT_TEST(test_mutate_k10_prefix_names_the_same_policy, setup),
        WHT_CLIENT_TEST(test_mutate_without_annotations_map, setup),
        WHT_CLIENT_TEST(test_mutate_replaces_a_wrong_binding, setup),
        WHT_CLIENT_TEST(test_mutate_correct_binding_gives_no_patch, setup),
        WHT_CLIENT_TEST(test_mutate_selector_default_for_namespace, setup),
        WHT_CLIENT_TEST(test_mutate_delete_and_other_kinds_untouched, setup),
        WHT_CLIENT_TEST(test_bad_inputs_get_their_status, setup),
        WHT_CLIENT_TEST(test_body_limit_both_sides, setup),
        WHT_CLIENT_TEST(test_health_ready_and_metrics, setup),
        WHT_CLIENT_TEST(test_tls_version_alpn_and_keepalive, setup),
    };

    /* A fresh webhook (and CA) per test, so counts and logs start from zero. */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
