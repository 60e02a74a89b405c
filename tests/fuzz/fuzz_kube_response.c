/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_kube_response.c - libFuzzer target for Kubernetes API response parsing: the
 * JSON validator + cJSON (kube_json_parse, and kube_json_parse_exact whose output must
 * parse again), Status objects, discovery documents
 * (APIVersions, APIGroupList, APIResourceList), list pages (item completion) and the
 * whole client path (status mapping, list paging, discovery) through the scripted
 * fault transport.
 *
 * Why the input is hostile: every byte comes from the network, from an apiserver, a
 * proxy in front of it or an aggregated API the cluster admin installed; none of it is
 * trusted. What it bounds: input is capped at 1 MiB (64 KiB for the discovery walk,
 * which re-reads the body once per group); the first byte selects the parser, the
 * second the HTTP status for the client path. The scripted transport answers only
 * what was queued, so continue tokens in the body cannot loop. Everything is freed. */
#include "backup/kube/kube_int.h"
#include "policy/policy.h"
#include "tests/support/kube_fault.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* Results are not the point here; only that nothing crashes, leaks or hangs. */
static void ignore(int rc)
{
    (void)rc;
}

static int count_group(const char *group, const char *version, void *ctx)
{
    size_t *n = ctx;

    (void)group;
    (void)version;
    (*n)++;
    return 0;
}

static int count_item(const cJSON *item, void *ctx)
{
    size_t *n = ctx;

    (void)item;
    (*n)++;
    return 0;
}

static void no_sleep(uint64_t ms, void *ctx)
{
    (void)ms;
    (void)ctx;
}

static void client_path(int mode, long status, const char *body)
{
    struct kube_config *cfg = NULL;
    struct kube_client *c = NULL;
    struct kube_fault *fl = NULL;
    struct kube_discovery *d = NULL;
    struct kube_ref r = {"apps/v1", "deployments", "ns", NULL};
    struct cm_err err;
    size_t n = 0;

    if (kube_fault_create(&fl) != 0)
        return;
    if (kube_config_create("https://fuzz.invalid", &cfg, &err) != 0)
        goto out;
    kube_config_set_sleep(cfg, no_sleep, NULL);
    kube_config_set_retry(cfg, 2, 1, 1, 0);
    kube_fault_attach(fl, cfg);
    if (mode == 5) {
        (void)kube_fault_push(fl, status, -1, body);
        (void)kube_fault_push(fl, status, 1, body);
    } else {
        (void)kube_fault_set_default(fl, status, body);
    }
    if (kube_client_create(cfg, &c, &err) != 0)
        goto out;
    if (mode == 5)
        ignore(kube_list(c, &r, NULL, count_item, NULL, &n, NULL, &err));
    else if (kube_discover(c, &d, &err) == 0)
        kube_discovery_destroy(d);
out:
    kube_client_destroy(c);
    kube_config_destroy(cfg);
    kube_fault_destroy(fl);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static const long statuses[] = {200, 201, 400, 401, 403, 404, 409, 410, 422, 429, 500, 503};
    const char *body;
    size_t len;
    int mode;
    long status;
    cJSON *j = NULL;
    struct cm_err err;
    char *copy;

    if (size < 2 || size > (1u << 20))
        return 0;
    policy_json_hooks_install();
    mode = data[0] % 7;
    status = statuses[data[1] % (sizeof(statuses) / sizeof(statuses[0]))];
    body = (const char *)data + 2;
    len = size - 2;
    if (mode >= 5) {
        if (mode == 6 && len > (64u << 10))
            return 0;
        copy = malloc(len + 1);
        if (copy == NULL)
            return 0;
        memcpy(copy, body, len);
        copy[len] = '\0';
        client_path(mode, status, copy);
        free(copy);
        return 0;
    }
    if (kube_json_parse(body, len, &j, &err) != 0)
        return 0;
    {
        /* the exact variant accepts what the plain one does, and what it prints parses */
        cJSON *x = NULL;
        char *txt;

        if (kube_json_parse_exact(body, len, &x, &err) == 0) {
            txt = cJSON_PrintUnformatted(x);
            if (txt != NULL) {
                cJSON *y = NULL;

                if (kube_json_parse(txt, strlen(txt), &y, &err) != 0 && err.code != CM_ENOMEM)
                    abort();
                cJSON_Delete(y);
                cJSON_free(txt);
            }
            cJSON_Delete(x);
        } else if (err.code != CM_ENOMEM) {
            abort();
        }
    }
    switch (mode) {
    case 0: {
        struct kube_status st;

        (void)kube_status_parse(j, &st);
        break;
    }
    case 1: {
        struct kube_discovery d;

        memset(&d, 0, sizeof(d));
        ignore(kube_discovery_add_list(&d, "fuzz.example.com", "v1", j, &err));
        (void)kube_discovery_find(&d, "fuzz.example.com", "Pod");
        cm_free(d.res);
        break;
    }
    case 2: {
        size_t n = 0;

        ignore(kube_discovery_each_group(j, count_group, &n, &err));
        break;
    }
    case 3: {
        char v[64];

        ignore(kube_discovery_core_version(j, v, sizeof(v), &err));
        break;
    }
    default:
        ignore(kube_list_complete_items(j, &err));
        break;
    }
    cJSON_Delete(j);
    return 0;
}
