/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_policy_load.c - libFuzzer target for the policy loader: YAML/JSON bytes through
 * policy_loader_add + finish, then one evaluation of a fixed Deployment.
 *
 * Why hostile: policy files come from ConfigMaps and repositories that many people can
 * write to; the webhook reloads them at runtime. The loader must turn any bytes into a
 * set or an error with a location: no crash, no hang, no unbounded allocation (alias
 * bombs, deep nesting, huge counts are capped by POLICY_MAX_*). Input is capped at 64 KiB
 * so that each run stays fast; the caps themselves are tested in tests/policy. */
#include "policy/policy.h"

#include <string.h>

#define FUZZ_MAX (64u << 10)

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const char deploy[] =
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
    "\"namespace\":\"prod\",\"labels\":{\"app\":\"web\",\"dataprotection\":\"k10-goldpolicy\","
    "\"immutable\":\"enabled\"}},\"spec\":{\"replicas\":3,\"template\":{\"spec\":"
    "{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}}}";

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct policy_loader *l = NULL;
    struct policy_set *s = NULL;
    struct policy_report *rep = NULL;
    struct policy_request req;
    struct policy_binding b;
    struct cm_err err;
    cJSON *obj = NULL;

    if (size > FUZZ_MAX)
        return 0;
    policy_json_hooks_install();
    if (policy_loader_create(&l, &err) != 0)
        return 0;
    if (policy_loader_add(l, "fuzz.yaml", (const char *)data, size, &err) != 0) {
        policy_loader_destroy(l);
        return 0;
    }
    if (policy_loader_finish(l, &s, &err) != 0)
        return 0;
    obj = cJSON_Parse(deploy);
    if (obj != NULL && policy_report_create(&rep) == 0) {
        memset(&req, 0, sizeof(req));
        req.object = obj;
        req.operation = POLICY_OP_CREATE;
        if (policy_set_eval(s, &req, rep, &err) == 0)
            policy_set_bind(s, &req, &b);
    }
    policy_report_destroy(rep);
    cJSON_Delete(obj);
    policy_set_destroy(s);
    return 0;
}
