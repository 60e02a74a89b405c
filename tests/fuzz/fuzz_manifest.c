/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_manifest.c - libFuzzer target for the manifest loader: bytes through
 * policy_manifest_parse, then every object evaluated against the shipped guardrail and a
 * BackupPolicy, as `lockwarden check` does.
 *
 * Why hostile: `check` runs in CI on manifests from pull requests, and the same evaluation
 * runs in the webhook on objects from any API client. Any bytes must give objects or an
 * error with a location: no crash, hang or unbounded allocation (alias bombs and deep
 * nesting are capped by POLICY_MAX_*). Input is capped at 64 KiB per run. */
#include "policy/policy.h"

#include <string.h>

#define FUZZ_MAX (64u << 10)

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const char policies[] =
    "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: prod-backup-enforce-policy}\n"
    "spec:\n  validationFailureAction: Enforce\n  rules:\n  - name: cd-prod-backup-policy\n"
    "    match: {any: [{resources: {kinds: [Deployment, StatefulSet]}}]}\n"
    "    preconditions: {all: [{key: '{{ request.object.metadata.labels.app || '''' }}', "
    "operator: NotEquals, value: skip-me}]}\n"
    "    validate:\n      message: need labels\n"
    "      pattern: {metadata: {labels: {=(purpose): production, dataprotection: k10-?*, "
    "immutable: enabled}}}\n"
    "---\n"
    "apiVersion: lockwarden.io/v1alpha1\nkind: BackupPolicy\nmetadata: {name: goldpolicy}\n"
    "spec: {schedule: '@hourly', objectLock: {mode: COMPLIANCE, days: 30}, "
    "location: {bucket: lockwarden-backups}, selector: {namespaces: ['prod-*']}}\n";

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct policy_loader *l = NULL;
    struct policy_set *s = NULL;
    struct policy_docs *d = NULL;
    struct policy_report *rep = NULL;
    struct cm_err err;
    size_t i;

    if (size > FUZZ_MAX)
        return 0;
    policy_json_hooks_install();
    if (policy_manifest_parse("fuzz.yaml", (const char *)data, size, &d, &err) != 0)
        return 0;
    if (policy_loader_create(&l, &err) != 0)
        goto cleanup;
    if (policy_loader_add(l, "p.yaml", policies, strlen(policies), &err) != 0) {
        policy_loader_destroy(l);
        __builtin_trap(); /* the fixed policy must load */
    }
    if (policy_loader_finish(l, &s, &err) != 0 || policy_report_create(&rep) != 0)
        goto cleanup;
    for (i = 0; i < policy_docs_count(d); i++) {
        struct policy_request req;
        struct policy_binding b;
        struct cm_buf out;

        memset(&req, 0, sizeof(req));
        req.object = policy_docs_get(d, i);
        req.operation = POLICY_OP_CREATE;
        if (policy_set_eval(s, &req, rep, &err) != 0)
            continue;
        policy_set_bind(s, &req, &b);
        cm_buf_init(&out, 1u << 20);
        if (policy_report_format(rep, false, "K", "ns", "n", &out) != 0)
            __builtin_trap(); /* 1 MiB holds any report of this policy */
        cm_buf_free(&out);
    }
cleanup:
    policy_report_destroy(rep);
    policy_set_destroy(s);
    policy_docs_destroy(d);
    return 0;
}
