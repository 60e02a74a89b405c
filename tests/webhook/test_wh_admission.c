/* SPDX-License-Identifier: Apache-2.0 */
/* test_wh_admission.c - one AdmissionReview in, the response out, against the
 * fixtures' policies: decisions and verdict fields for every captured request, the
 * uid limit on both sides, every 400, no policies (500), and the OOM loop. */
#include "webhook/wh.h"
#include "tests/support/wh_env.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fx {
    struct policy_set *set;
    struct policy_report *report;
    struct cm_buf resp;
    struct wh_verdict v;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct policy_loader *l = NULL;
    struct cm_err err;
    char dir[1024];
    const char *paths[1];

    assert_non_null(f);
    policy_json_hooks_install();
    wht_top_path("tests/fixtures/admissionreview/policies", dir, sizeof(dir));
    paths[0] = dir;
    assert_int_equal(policy_loader_create(&l, &err), 0);
    if (cm_fs_load_tree(paths, 1, POLICY_MAX_FILE_BYTES, policy_loader_add_file, l, &err) != 0)
        fail_msg("policies: %s", err.msg);
    assert_int_equal(policy_loader_finish(l, &f->set, &err), 0);
    assert_int_equal(policy_report_create(&f->report), 0);
    cm_buf_init(&f->resp, WH_MAX_RESPONSE);
    wh_verdict_init(&f->v);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    wh_verdict_cleanup(&f->v);
    cm_buf_free(&f->resp);
    policy_report_destroy(f->report);
    policy_set_destroy(f->set);
    free(f);
    return 0;
}

static int handle(struct fx *f, enum wh_endpoint ep, const char *body, size_t len)
{
    wh_verdict_cleanup(&f->v);
    wh_verdict_init(&f->v);
    return wh_admission_handle(f->set, ep, body, len, f->report, &f->resp, &f->v);
}

static void handle_fixture(struct fx *f, enum wh_endpoint ep, const char *name)
{
    char *buf = NULL;
    size_t len = 0;

    assert_int_equal(wht_fixture(name, &buf, &len), 0);
    assert_int_equal(handle(f, ep, buf, len), 0);
    cm_free(buf);
}

static void test_captured_requests(void **state)
{
    struct fx *f = *state;

    handle_fixture(f, WH_EP_VALIDATE, "validate-deployment-create-web-bad.json");
    assert_int_equal(f->v.http_status, 200);
    assert_int_equal(f->v.decision, WH_DEC_DENIED);
    assert_string_equal(f->v.uid, "df140e37-1e3a-4e08-b05f-1bdc0c51b647");
    assert_string_equal(f->v.operation, "CREATE");
    assert_string_equal(f->v.kind, "Deployment");
    assert_string_equal(f->v.ns, "default");
    assert_string_equal(f->v.name, "web-bad");
    assert_string_equal(f->v.user, "rig-admin");
    assert_false(f->v.dry_run);
    assert_non_null(
        strstr(f->v.rules.ptr, "\"require-dataprotection/check-dataprotection-label\""));
    assert_int_equal(f->v.n_denied, 1);
    assert_string_equal(f->v.denied_policy[0], "require-dataprotection");
    assert_non_null(strstr(f->resp.ptr, "\"allowed\":false,\"status\":{\"code\":403,"
                                        "\"reason\":\"Forbidden\""));

    handle_fixture(f, WH_EP_VALIDATE, "validate-deployment-create-web-bad-dryrun.json");
    assert_int_equal(f->v.decision, WH_DEC_DENIED);
    assert_true(f->v.dry_run);

    handle_fixture(f, WH_EP_VALIDATE, "validate-deployment-create-web-ok.json");
    assert_int_equal(f->v.decision, WH_DEC_WARNED);
    assert_int_equal(f->v.n_denied, 0);

    handle_fixture(f, WH_EP_VALIDATE, "validate-deployment-delete-web-ok.json");
    assert_int_equal(f->v.decision, WH_DEC_ALLOWED);
    assert_string_equal(f->v.operation, "DELETE");

    handle_fixture(f, WH_EP_MUTATE, "mutate-deployment-create-web-ok.json");
    assert_int_equal(f->v.decision, WH_DEC_PATCHED);
    assert_string_equal(f->v.bound, "gdpr-eu");
    assert_non_null(strstr(f->resp.ptr, "\"patchType\":\"JSONPatch\""));

    handle_fixture(f, WH_EP_MUTATE, "mutate-deployment-create-web-bad.json");
    assert_int_equal(f->v.decision, WH_DEC_ALLOWED);
    assert_string_equal(f->v.bound, "");
}

static void expect_400(struct fx *f, const char *body, const char *needle)
{
    assert_int_equal(handle(f, WH_EP_VALIDATE, body, strlen(body)), 0);
    assert_int_equal(f->v.http_status, 400);
    assert_int_equal(f->v.decision, WH_DEC_INVALID);
    if (strstr(f->resp.ptr, needle) == NULL)
        fail_msg("\"%s\" does not say \"%s\"", f->resp.ptr, needle);
    assert_string_equal(f->v.reason, f->resp.ptr[0] != '\0' ? f->v.reason : "");
}

static void test_bad_reviews(void **state)
{
    struct fx *f = *state;

    assert_int_equal(handle(f, WH_EP_VALIDATE, NULL, 0), 0);
    assert_int_equal(f->v.http_status, 400);
    expect_400(f, "nope", "not valid JSON");
    expect_400(f, "{\"a\":1}}", "after the JSON");
    expect_400(f, "\"str\"", "not a JSON object");
    expect_400(f, "{\"kind\":\"Pod\",\"apiVersion\":\"admission.k8s.io/v1\"}", "kind");
    expect_400(f, "{\"apiVersion\":\"v1\",\"kind\":\"AdmissionReview\"}", "apiVersion");
    expect_400(f, "{\"apiVersion\":\"admission.k8s.io/v1\",\"request\":[]}", "no request");
    expect_400(f, "{\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":7}}", "uid");
    expect_400(f, "{\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":\"u\"}}",
               "operation");
    expect_400(f,
               "{\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":\"u\","
               "\"operation\":\"PATCH\"}}",
               "operation");
    expect_400(f,
               "{\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":\"u\","
               "\"operation\":\"UPDATE\",\"object\":\"x\"}}",
               "request.object");
    /* Trailing whitespace after the document is fine. */
    {
        static const char ws[] = "{\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":"
                                 "\"u\",\"operation\":\"DELETE\",\"object\":null}} \n";

        assert_int_equal(handle(f, WH_EP_VALIDATE, ws, sizeof(ws) - 1), 0);
    }
    assert_int_equal(f->v.http_status, 200);
}

static void test_uid_limit_both_sides(void **state)
{
    struct fx *f = *state;
    char body[1024];
    char uid[WH_MAX_UID + 2];

    memset(uid, 'u', WH_MAX_UID);
    uid[WH_MAX_UID] = '\0';
    (void)snprintf(body, sizeof(body),
                   "{\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":\"%s\","
                   "\"operation\":\"DELETE\"}}",
                   uid);
    assert_int_equal(handle(f, WH_EP_VALIDATE, body, strlen(body)), 0);
    assert_int_equal(f->v.http_status, 200);
    assert_string_equal(f->v.uid, uid);
    uid[WH_MAX_UID] = 'u';
    uid[WH_MAX_UID + 1] = '\0';
    (void)snprintf(body, sizeof(body),
                   "{\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":\"%s\","
                   "\"operation\":\"DELETE\"}}",
                   uid);
    assert_int_equal(handle(f, WH_EP_VALIDATE, body, strlen(body)), 0);
    assert_int_equal(f->v.http_status, 400);
}

static void test_no_policies_is_500(void **state)
{
    struct fx *f = *state;
    char *buf = NULL;
    size_t len = 0;

    assert_int_equal(wht_fixture("validate-deployment-create-web-ok.json", &buf, &len), 0);
    wh_verdict_cleanup(&f->v);
    wh_verdict_init(&f->v);
    assert_int_equal(
        wh_admission_handle(NULL, WH_EP_VALIDATE, buf, len, f->report, &f->resp, &f->v), 0);
    assert_int_equal(f->v.http_status, 500);
    assert_int_equal(f->v.decision, WH_DEC_ERROR);
    cm_free(buf);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(wh_decision_name(WH_DEC_PATCHED), "patched");
    assert_string_equal(wh_decision_name((enum wh_decision)99), "unknown");
    assert_string_equal(wh_endpoint_name(WH_EP_MUTATE), "mutate");
}

/* Allocation n fails, for n = 1, 2, ... until a run sees no failure: every run must
 * end in the reference answer or a 4xx/5xx/CM_ENOMEM, and leak nothing (ASan). */
static void oom_loop(struct fx *f, enum wh_endpoint ep, const char *fixture)
{
    char *buf = NULL;
    size_t len = 0;
    char *ref;
    long n;

    handle_fixture(f, ep, fixture);
    ref = strdup(f->resp.ptr);
    assert_non_null(ref);
    assert_int_equal(wht_fixture(fixture, &buf, &len), 0);
    for (n = 1; n < 100000; n++) {
        int rc;

        wh_verdict_cleanup(&f->v);
        wh_verdict_init(&f->v);
        bool fired;

        cm_alloc_fault_set(n);
        rc = wh_admission_handle(f->set, ep, buf, len, f->report, &f->resp, &f->v);
        fired = cm_alloc_fault_fired();
        cm_alloc_fault_set(0);
        if (!fired) {
            assert_int_equal(rc, 0);
            assert_string_equal(f->resp.ptr, ref);
            break;
        }
        assert_true(rc == 0 || rc == CM_ENOMEM || rc == CM_ETOOBIG);
        if (rc == 0 && f->v.http_status == 200)
            assert_string_equal(f->resp.ptr, ref);
        else if (rc == 0)
            assert_true(f->v.http_status == 400 || f->v.http_status == 500);
    }
    assert_true(n > 1);
    free(ref);
    cm_free(buf);
}

static void test_oom_loop(void **state)
{
    struct fx *f = *state;

    oom_loop(f, WH_EP_VALIDATE, "validate-deployment-create-web-bad.json");
    oom_loop(f, WH_EP_VALIDATE, "validate-deployment-create-web-ok.json");
    oom_loop(f, WH_EP_MUTATE, "mutate-deployment-create-web-ok.json");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_captured_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_reviews, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uid_limit_both_sides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_policies_is_500, setup, teardown),
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_oom_loop, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
