/* SPDX-License-Identifier: Apache-2.0 */
/* bench_policy.c - policy evaluation throughput for the shipped policies/ on a realistic
 * Deployment (tests/fixtures/manifests/bench-deployment.json, about 5 KB of JSON):
 * evaluations per second on an already-parsed object, parse (cJSON, as the webhook does)
 * plus evaluation per second, the load time of a generated 1,000-rule set, and peak RSS.
 * Not a test: it prints figures (targets: >= 1,000,000 evals/s and >= 30,000 parse+evals/s
 * on one core). Run from the repository root (tests/bench/run.sh does).
 *   LW_BENCH_SECONDS=N sets the time per measurement (default 1). */
#include "common/cm.h"
#include "policy/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define FIXTURE "tests/fixtures/manifests/bench-deployment.json"

static double now_s(void)
{
    return (double)cm_time_mono_ns() / 1e9;
}

/* CPU time of this thread: on a shared machine the rate per CPU-second is what "one core"
 * means; wall-clock rates are printed beside it. */
static double cpu_s(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return now_s();
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int load_set(const char *path, struct policy_set **out)
{
    struct policy_loader *l = NULL;
    struct cm_err err;
    const char *paths[1] = {path};

    if (policy_loader_create(&l, &err) != 0)
        return -1;
    if (cm_fs_load_tree(paths, 1, POLICY_MAX_FILE_BYTES, policy_loader_add_file, l, &err) != 0) {
        fprintf(stderr, "bench_policy: %s\n", err.msg);
        policy_loader_destroy(l);
        return -1;
    }
    if (policy_loader_finish(l, out, &err) != 0) {
        fprintf(stderr, "bench_policy: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* Runs fn until `seconds` have passed, checking the clock every `batch` calls. */
static int bench_eval(const struct policy_set *s, const cJSON *obj, double seconds, double *rate,
                      double *wall_rate)
{
    struct policy_report *rep = NULL;
    struct policy_request req;
    struct cm_err err;
    double t0;
    double t;
    double c0;
    long n = 0;
    int i;

    if (policy_report_create(&rep) != 0)
        return -1;
    memset(&req, 0, sizeof(req));
    req.object = obj;
    req.operation = POLICY_OP_CREATE;
    t0 = now_s();
    c0 = cpu_s();
    do {
        for (i = 0; i < 10000; i++) {
            if (policy_set_eval(s, &req, rep, &err) != 0 || policy_report_blocked(rep)) {
                fprintf(stderr, "bench_policy: unexpected verdict\n");
                policy_report_destroy(rep);
                return -1;
            }
        }
        n += 10000;
        t = now_s();
    } while (t - t0 < seconds);
    *rate = (double)n / (cpu_s() - c0);
    *wall_rate = (double)n / (t - t0);
    policy_report_destroy(rep);
    return 0;
}

static int bench_parse_eval(const struct policy_set *s, const char *json, size_t len,
                            double seconds, double *rate, double *wall_rate)
{
    struct policy_report *rep = NULL;
    struct policy_request req;
    struct cm_err err;
    double t0;
    double t;
    double c0;
    long n = 0;
    int i;

    if (policy_report_create(&rep) != 0)
        return -1;
    memset(&req, 0, sizeof(req));
    req.operation = POLICY_OP_CREATE;
    t0 = now_s();
    c0 = cpu_s();
    do {
        for (i = 0; i < 1000; i++) {
            cJSON *obj = cJSON_ParseWithLength(json, len);
            int rc;

            req.object = obj;
            rc = obj != NULL ? policy_set_eval(s, &req, rep, &err) : -1;
            cJSON_Delete(obj);
            if (rc != 0) {
                policy_report_destroy(rep);
                return -1;
            }
        }
        n += 1000;
        t = now_s();
    } while (t - t0 < seconds);
    *rate = (double)n / (cpu_s() - c0);
    *wall_rate = (double)n / (t - t0);
    policy_report_destroy(rep);
    return 0;
}

/* A ClusterPolicy with 1,000 rules shaped like the guardrail, loaded from memory. */
static int bench_load_1000(double *ms, size_t *rules)
{
    struct cm_buf y;
    struct policy_loader *l = NULL;
    struct policy_set *s = NULL;
    struct cm_err err;
    double t0;
    int rc;
    int i;

    cm_buf_init(&y, 8u << 20);
    rc = cm_buf_adds(&y, "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\n"
                         "metadata: {name: big}\nspec:\n  validationFailureAction: Enforce\n"
                         "  rules:\n");
    for (i = 0; i < 1000 && rc == 0; i++)
        rc = cm_buf_addf(&y,
                         "  - name: rule-%d\n"
                         "    match: {any: [{resources: {kinds: [Deployment, StatefulSet], "
                         "namespaces: ['team-%d-*']}}]}\n"
                         "    exclude: {any: [{resources: {namespaces: [kube-system]}}]}\n"
                         "    validate:\n      message: rule %d needs labels\n"
                         "      pattern: {metadata: {labels: {=(purpose): production, "
                         "dataprotection: k10-?*, immutable: enabled, team: 'team-%d'}}}\n",
                         i, i, i, i);
    if (rc != 0)
        return -1;
    t0 = now_s();
    rc = policy_loader_create(&l, &err);
    if (rc == 0)
        rc = policy_loader_add(l, "big.yaml", y.ptr, y.len, &err);
    if (rc == 0) {
        rc = policy_loader_finish(l, &s, &err);
        l = NULL;
    }
    *ms = (now_s() - t0) * 1000.0;
    if (rc != 0)
        fprintf(stderr, "bench_policy: %s\n", err.msg);
    *rules = policy_set_rule_count(s);
    policy_loader_destroy(l);
    policy_set_destroy(s);
    cm_buf_free(&y);
    return rc;
}

int main(void)
{
    const char *sec_env = getenv("LW_BENCH_SECONDS");
    double seconds = 1.0;
    struct policy_set *s = NULL;
    struct rusage ru;
    struct cm_err err;
    char *json = NULL;
    size_t len = 0;
    cJSON *obj = NULL;
    double rate = 0;
    double wall = 0;
    double ms = 0;
    size_t rules = 0;
    int rc = 1;

    if (sec_env != NULL && cm_parse_double(sec_env, strlen(sec_env), &seconds) != 0)
        seconds = 1.0;
    policy_json_hooks_install();
    if (load_set("policies", &s) != 0)
        goto cleanup;
    if (cm_fs_read_file(FIXTURE, 1u << 20, &json, &len, &err) != 0) {
        fprintf(stderr, "bench_policy: %s\n", err.msg);
        goto cleanup;
    }
    obj = cJSON_ParseWithLength(json, len);
    if (obj == NULL)
        goto cleanup;
    printf("policy set: policies/ (%zu policies, %zu rules, %zu BackupPolicies); object: %zu "
           "bytes of JSON\n",
           policy_set_policy_count(s), policy_set_rule_count(s), policy_set_backup_count(s), len);
    if (bench_eval(s, obj, seconds, &rate, &wall) != 0)
        goto cleanup;
    printf("eval (parsed object):        %12.0f evaluations/s per CPU-second (target >= "
           "1000000); %.0f/s wall\n",
           rate, wall);
    if (bench_parse_eval(s, json, len, seconds, &rate, &wall) != 0)
        goto cleanup;
    printf("parse + eval (cJSON):        %12.0f evaluations/s per CPU-second (target >= 30000); "
           "%.0f/s wall\n",
           rate, wall);
    if (bench_load_1000(&ms, &rules) != 0)
        goto cleanup;
    printf("load a %zu-rule set:        %12.1f ms\n", rules, ms);
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        printf("peak RSS:                    %12.1f MB\n", (double)ru.ru_maxrss / 1024.0);
    rc = 0;
cleanup:
    cJSON_Delete(obj);
    cm_free(json);
    policy_set_destroy(s);
    return rc;
}
