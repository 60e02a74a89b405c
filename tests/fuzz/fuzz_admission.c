/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_admission.c - libFuzzer target for AdmissionReview handling.
 *
 * Why the input is hostile: the webhook's request body comes from the network. The
 * API server is trusted, but anything that reaches the port can post bytes, and a
 * crash or hang in the handler would fail every admission in the cluster
 * (failurePolicy: Fail). This drives wh_admission_handle(), the exact function the
 * server calls, against a real policy set (Enforce + Audit rules, BackupPolicies with
 * and without Object Lock, a selector default), so that parsing, judging, denial
 * formatting, warnings and patch building all see the input.
 *
 * Input: byte 0 chooses the endpoint (even: /validate, odd: /mutate); the rest is
 * the body. Bounded: bodies past 256 KiB are skipped (the server caps at 3 MiB;
 * larger inputs only slow the fuzzer), the response buffer is capped at
 * WH_MAX_RESPONSE, and everything is freed on every run. */
#include "webhook/wh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_BODY (256u * 1024u)

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const char policies[] =
    "apiVersion: kyverno.io/v1\n"
    "kind: ClusterPolicy\n"
    "metadata: {name: require-dataprotection}\n"
    "spec:\n"
    "  validationFailureAction: Enforce\n"
    "  rules:\n"
    "    - name: check-label\n"
    "      match: {any: [{resources: {kinds: [Deployment, StatefulSet]}}]}\n"
    "      validate:\n"
    "        message: name a BackupPolicy\n"
    "        pattern: {metadata: {labels: {dataprotection: \"?*\"}}}\n"
    "---\n"
    "apiVersion: kyverno.io/v1\n"
    "kind: ClusterPolicy\n"
    "metadata: {name: recommend-team}\n"
    "spec:\n"
    "  validationFailureAction: Audit\n"
    "  rules:\n"
    "    - name: team\n"
    "      match: {any: [{resources: {kinds: [\"*\"]}}]}\n"
    "      validate:\n"
    "        pattern: {metadata: {labels: {team: \"?*\"}}}\n"
    "---\n"
    "apiVersion: lockwarden.io/v1alpha1\n"
    "kind: BackupPolicy\n"
    "metadata: {name: gdpr-eu}\n"
    "spec:\n"
    "  schedule: \"0 2 * * *\"\n"
    "  objectLock: {mode: COMPLIANCE, days: 30}\n"
    "  location: {bucket: lockwarden-gdpr}\n"
    "---\n"
    "apiVersion: lockwarden.io/v1alpha1\n"
    "kind: BackupPolicy\n"
    "metadata: {name: scratch}\n"
    "spec:\n"
    "  schedule: \"@daily\"\n"
    "  location: {bucket: lockwarden-scratch}\n"
    "---\n"
    "apiVersion: lockwarden.io/v1alpha1\n"
    "kind: BackupPolicy\n"
    "metadata: {name: team-default}\n"
    "spec:\n"
    "  schedule: \"@daily\"\n"
    "  objectLock: {mode: GOVERNANCE, days: 7}\n"
    "  location: {bucket: lockwarden-teams}\n"
    "  selector: {namespaces: [\"team-*\"]}\n";

/* Loaded once per process: a fuzzer runs millions of inputs against one set, as the
 * server does between reloads. Read-only after loading. */
static struct policy_set *fuzz_set(void)
{
    static struct policy_set *set;
    struct policy_loader *l = NULL;
    struct cm_err err;

    if (set != NULL)
        return set;
    policy_json_hooks_install();
    if (policy_loader_create(&l, &err) != 0 ||
        policy_loader_add(l, "fuzz-policies.yaml", policies, sizeof(policies) - 1, &err) != 0 ||
        policy_loader_finish(l, &set, &err) != 0) {
        fprintf(stderr, "fuzz_admission: policies do not load: %s\n", err.msg);
        abort();
    }
    return set;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct policy_report *report = NULL;
    struct wh_verdict v;
    struct cm_buf resp;
    enum wh_endpoint ep;
    int rc;

    if (size < 1 || size - 1 > FUZZ_MAX_BODY)
        return 0;
    ep = (data[0] & 1) != 0 ? WH_EP_MUTATE : WH_EP_VALIDATE;
    if (policy_report_create(&report) != 0)
        return 0;
    wh_verdict_init(&v);
    cm_buf_init(&resp, WH_MAX_RESPONSE);
    rc = wh_admission_handle(fuzz_set(), ep, (const char *)data + 1, size - 1, report, &resp, &v);
    /* Invariants the server relies on. */
    if (rc == 0 && v.http_status == 200 && (resp.ptr == NULL || resp.ptr[0] != '{'))
        abort();
    if (rc == 0 && v.http_status != 200 && v.http_status != 400 && v.http_status != 500)
        abort();
    cm_buf_free(&resp);
    wh_verdict_cleanup(&v);
    policy_report_destroy(report);
    return 0;
}
