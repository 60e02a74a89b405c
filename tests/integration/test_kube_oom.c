/* SPDX-License-Identifier: Apache-2.0 */
/* test_kube_oom.c - allocation-failure loop through the real libcurl transport over
 * TLS against the fake apiserver: every failing cm_malloc in the client, the
 * transport and the response path gives CM_ENOMEM, never a retry, crash or leak.
 * cJSON's hooks are deliberately NOT routed through cm_malloc in this binary, so the
 * fake's own (cJSON) allocations on its thread never consume the armed fault; the
 * client's cJSON paths have their OOM loops in the unit tests. */
#include "backup/kube/kube.h"
#include "tests/support/fake_kube.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

static void test_oom_loop_tls(void **state)
{
    struct fake_kube_opts o;
    struct fake_kube *srv = NULL;
    struct kube_config *cfg = NULL;
    struct cm_err err;
    long n;

    (void)state;
    memset(&o, 0, sizeof(o));
    o.tls = true;
    o.token = "tok";
    o.seed_json = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm\","
                  "\"namespace\":\"a\"},\"data\":{\"k\":\"v\"}}";
    assert_int_equal(fake_kube_start(&o, &srv), 0);
    assert_int_equal(kube_config_create(fake_kube_url(srv), &cfg, &err), 0);
    assert_int_equal(kube_config_set_token(cfg, "tok"), 0);
    assert_int_equal(
        kube_config_set_ca_pem(cfg, fake_kube_ca_pem(srv), strlen(fake_kube_ca_pem(srv))), 0);
    kube_config_set_retry(cfg, 1, 1, 1, 0);
    for (n = 1;; n++) {
        struct kube_client *c = NULL;
        struct kube_ref r = {"v1", "configmaps", "a", "cm"};
        cJSON *out = NULL;
        int rc;

        cm_alloc_fault_set(n);
        rc = kube_client_create(cfg, &c, &err);
        if (rc == 0)
            rc = kube_get(c, &r, &out, &err);
        if (!cm_alloc_fault_fired()) {
            cm_alloc_fault_set(0);
            assert_int_equal(rc, 0);
            assert_string_equal(
                cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(out, "data"), "k")
                    ->valuestring,
                "v");
            cJSON_Delete(out);
            kube_client_destroy(c);
            break;
        }
        cm_alloc_fault_set(0);
        if (rc != CM_ENOMEM)
            fail_msg("n=%ld: rc %d (%s)", n, rc, err.msg);
        assert_null(out);
        kube_client_destroy(c);
        assert_true(n < 10000);
    }
    kube_config_destroy(cfg);
    fake_kube_stop(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oom_loop_tls),
    };

    cm_log_set_level(CM_LOG_OFF);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
