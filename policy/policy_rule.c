/* SPDX-License-Identifier: Apache-2.0 */
/* policy_rule.c - compiles kyverno.io ClusterPolicy and Policy documents: actions and
 * overrides, and validate rules (match, exclude, preconditions, pattern/anyPattern). */
#include "policy_load_int.h"

#include <stdio.h>
#include <strings.h>
#include <string.h>

#define RULE_NAME_MAX 63

static void rule_free(struct pol_rule *r)
{
    size_t i;

    cm_free(r->name);
    pol_match_free(&r->match);
    pol_match_free(&r->exclude);
    pol_conds_free(&r->pre);
    cm_free(r->message);
    pol_vars_free(r->msg_vars, r->nmsg_vars);
    pol_pattern_destroy(r->pattern);
    for (i = 0; i < r->nany; i++)
        pol_pattern_destroy(r->any[i]);
    cm_free(r->any);
    memset(r, 0, sizeof(*r));
}

void pol_policy_free(struct pol_policy *p)
{
    size_t i;

    if (p == NULL)
        return;
    cm_free(p->name);
    cm_free(p->ns);
    for (i = 0; i < p->nov; i++) {
        pol_wlist_free(&p->ov[i].namespaces);
        pol_selector_destroy(p->ov[i].ns_selector);
    }
    cm_free(p->ov);
    for (i = 0; i < p->nrules; i++)
        rule_free(&p->rules[i]);
    cm_free(p->rules);
    memset(p, 0, sizeof(*p));
}

/* Enforce/Audit in any letter case (Kyverno accepts "enforce" and "audit" too). */
static int parse_action(const struct pol_ctx *c, const cJSON *v, const char *what,
                        enum policy_action *out)
{
    if (!cJSON_IsString(v))
        return pol_ctx_fail(c, CM_ECONFIG, v, "%s must be Enforce or Audit", what);
    if (strcasecmp(v->valuestring, "enforce") == 0)
        *out = POLICY_ENFORCE;
    else if (strcasecmp(v->valuestring, "audit") == 0)
        *out = POLICY_AUDIT;
    else
        return pol_ctx_fail(c, CM_ECONFIG, v, "%s must be Enforce or Audit, not \"%.40s\"", what,
                            v->valuestring);
    return 0;
}

static int compile_pattern(const struct pol_ctx *c, const cJSON *pat, struct pol_pattern **out)
{
    const cJSON *bad = NULL;
    struct cm_err e;
    int rc;

    cm_err_clear(&e);
    rc = pol_pattern_compile(pat, out, &bad, &e);
    if (rc == CM_ENOMEM)
        return cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
    if (rc != 0)
        return pol_ctx_fail(c, rc == CM_ETOOBIG ? CM_ETOOBIG : CM_ECONFIG, bad != NULL ? bad : pat,
                            "pattern: %s", e.msg);
    return 0;
}

static int compile_validate(const struct pol_ctx *c, const cJSON *val, struct pol_rule *r)
{
    static const char *const keys[] = {
        "message", "pattern", "anyPattern", "failureAction", "allowExistingViolations", NULL};
    static const char *const unsupported[] = {
        "deny", "foreach", "podSecurity", "cel", "manifests", "failureActionOverrides", NULL};
    const cJSON *pat;
    const cJSON *anyp;
    const cJSON *fa;
    const cJSON *it;
    const char *msg;
    size_t i;
    int rc;

    if (!cJSON_IsObject(val))
        return pol_ctx_fail(c, CM_ECONFIG, val, "validate must be a mapping");
    for (i = 0; unsupported[i] != NULL; i++) {
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(val, unsupported[i]);

        if (u != NULL)
            return pol_ctx_fail_key(c, CM_ECONFIG, u,
                                    "validate.%s is not supported (use pattern or anyPattern)",
                                    unsupported[i]);
    }
    rc = pol_check_keys(c, val, keys);
    if (rc == 0)
        rc = pol_get_string(c, val, "message", false, &msg);
    if (rc != 0)
        return rc;
    if (msg != NULL) {
        r->message = cm_strdup(msg);
        if (r->message == NULL)
            return cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
        rc = pol_template_compile(c, cJSON_GetObjectItem(val, "message"), r->message, &r->msg_vars,
                                  &r->nmsg_vars);
        if (rc != 0)
            return rc;
    }
    fa = cJSON_GetObjectItemCaseSensitive(val, "failureAction");
    r->action = -1;
    if (fa != NULL) {
        enum policy_action a;

        rc = parse_action(c, fa, "validate.failureAction", &a);
        if (rc != 0)
            return rc;
        r->action = (int)a;
    }
    pat = cJSON_GetObjectItemCaseSensitive(val, "pattern");
    anyp = cJSON_GetObjectItemCaseSensitive(val, "anyPattern");
    if (pat != NULL && anyp != NULL)
        return pol_ctx_fail(c, CM_ECONFIG, anyp, "use either pattern or anyPattern, not both");
    if (pat == NULL && anyp == NULL)
        return pol_ctx_fail(c, CM_ECONFIG, val, "validate needs pattern or anyPattern");
    if (pat != NULL)
        return compile_pattern(c, pat, &r->pattern);
    if (!cJSON_IsArray(anyp) || cJSON_GetArraySize(anyp) == 0)
        return pol_ctx_fail(c, CM_ECONFIG, anyp, "anyPattern must be a non-empty list");
    r->any = cm_calloc((size_t)cJSON_GetArraySize(anyp), sizeof(*r->any));
    if (r->any == NULL)
        return cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
    cJSON_ArrayForEach(it, anyp)
    {
        rc = compile_pattern(c, it, &r->any[r->nany]);
        if (rc != 0)
            return rc;
        r->nany++;
    }
    return 0;
}

static int compile_rule(struct pol_ctx *c, const char *pname, const cJSON *node, struct pol_rule *r)
{
    static const char *const unsupported[] = {"mutate", "generate", "verifyImages", NULL};
    static const char *const keys[] = {
        "name",     "match",   "exclude",          "preconditions",
        "validate", "context", "celPreconditions", "skipBackgroundRequests",
        NULL};
    const cJSON *val;
    const char *name;
    size_t i;
    int rc;

    memset(r, 0, sizeof(*r));
    r->action = -1;
    if (!cJSON_IsObject(node))
        return pol_ctx_fail(c, CM_ECONFIG, node, "rules entries must be mappings");
    rc = pol_get_string(c, node, "name", true, &name);
    if (rc != 0)
        return rc;
    if (name[0] == '\0' || strlen(name) > RULE_NAME_MAX)
        return pol_ctx_fail(c, CM_ECONFIG, cJSON_GetObjectItem(node, "name"),
                            "rule names are 1 to %d characters", RULE_NAME_MAX);
    (void)snprintf(c->where, sizeof(c->where), "policy %.90s rule %.63s", pname, name);
    for (i = 0; unsupported[i] != NULL; i++) {
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(node, unsupported[i]);

        if (u != NULL)
            return pol_ctx_fail_key(c, CM_ECONFIG, u, "%s rules are not supported (only validate)",
                                    unsupported[i]);
    }
    rc = pol_check_keys(c, node, keys);
    if (rc != 0)
        return rc;
    if (cJSON_GetObjectItemCaseSensitive(node, "context") != NULL ||
        cJSON_GetObjectItemCaseSensitive(node, "celPreconditions") != NULL)
        return pol_ctx_fail(c, CM_ECONFIG, node, "context and celPreconditions are not supported");
    r->name = cm_strdup(name);
    if (r->name == NULL)
        return cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
    rc = pol_match_compile(c, cJSON_GetObjectItemCaseSensitive(node, "match"), false, &r->match);
    if (rc == 0)
        rc = pol_match_compile(c, cJSON_GetObjectItemCaseSensitive(node, "exclude"), true,
                               &r->exclude);
    if (rc == 0)
        rc = pol_conds_compile(c, cJSON_GetObjectItemCaseSensitive(node, "preconditions"), &r->pre);
    if (rc != 0)
        return rc;
    val = cJSON_GetObjectItemCaseSensitive(node, "validate");
    if (val == NULL)
        return pol_ctx_fail(c, CM_ECONFIG, node, "rule needs validate");
    return compile_validate(c, val, r);
}

static int compile_overrides(const struct pol_ctx *c, const cJSON *ovs, struct pol_policy *p)
{
    static const char *const keys[] = {"action", "namespaces", "namespaceSelector", NULL};
    const cJSON *it;
    int rc;

    if (!cJSON_IsArray(ovs))
        return pol_ctx_fail(c, CM_ECONFIG, ovs, "validationFailureActionOverrides must be a list");
    if (cJSON_GetArraySize(ovs) == 0)
        return 0;
    p->ov = cm_calloc((size_t)cJSON_GetArraySize(ovs), sizeof(*p->ov));
    if (p->ov == NULL)
        return cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
    cJSON_ArrayForEach(it, ovs)
    {
        struct pol_override *o = &p->ov[p->nov++];
        const cJSON *sel;

        if (!cJSON_IsObject(it))
            return pol_ctx_fail(c, CM_ECONFIG, it, "override entries must be mappings");
        rc = pol_check_keys(c, it, keys);
        if (rc == 0)
            rc = parse_action(c, cJSON_GetObjectItemCaseSensitive(it, "action"), "override action",
                              &o->action);
        if (rc == 0)
            rc = pol_wlist_compile(c, cJSON_GetObjectItemCaseSensitive(it, "namespaces"),
                                   "override namespaces", &o->namespaces);
        if (rc != 0)
            return rc;
        sel = cJSON_GetObjectItemCaseSensitive(it, "namespaceSelector");
        if (sel != NULL && (rc = pol_selector_compile(c, sel, &o->ns_selector)) != 0)
            return rc;
        if (o->namespaces.n == 0 && o->ns_selector == NULL)
            return pol_ctx_fail(c, CM_ECONFIG, it,
                                "override needs namespaces or namespaceSelector");
    }
    return 0;
}

int pol_policy_compile(struct pol_ctx *c, const cJSON *doc, bool namespaced, struct pol_policy *out)
{
    static const char *const top_keys[] = {"apiVersion", "kind",   "metadata",
                                           "spec",       "status", NULL};
    static const char *const spec_keys[] = {"rules",
                                            "validationFailureAction",
                                            "validationFailureActionOverrides",
                                            "applyRules",
                                            "background",
                                            "admission",
                                            "failurePolicy",
                                            "webhookTimeoutSeconds",
                                            "schemaValidation",
                                            "mutateExistingOnPolicyUpdate",
                                            "generateExisting",
                                            "generateExistingOnPolicyUpdate",
                                            "useServerSideApply",
                                            "webhookConfiguration",
                                            "emitWarning",
                                            NULL};
    struct pol_policy p;
    const cJSON *meta;
    const cJSON *spec;
    const cJSON *rules;
    const cJSON *v;
    const cJSON *it;
    const char *name;
    const char *ns = NULL;
    char full[320];
    size_t i;
    int rc;

    memset(&p, 0, sizeof(p));
    rc = pol_get_object(c, doc, "metadata", true, &meta);
    if (rc == 0)
        rc = pol_get_string(c, meta, "name", true, &name);
    if (rc == 0 && namespaced)
        rc = pol_get_string(c, meta, "namespace", false, &ns);
    if (rc != 0)
        return rc;
    if (!pol_is_dns_subdomain(name))
        return pol_ctx_fail(c, CM_ECONFIG, cJSON_GetObjectItem(meta, "name"),
                            "metadata.name \"%.80s\" is not a valid name", name);
    if (namespaced && ns == NULL)
        ns = "default"; /* what kubectl would do */
    if (ns != NULL)
        (void)snprintf(full, sizeof(full), "%s/%s", ns, name);
    else
        (void)snprintf(full, sizeof(full), "%s", name);
    (void)snprintf(c->where, sizeof(c->where), "policy %.150s", full);
    rc = pol_check_keys(c, doc, top_keys);
    if (rc == 0)
        rc = pol_get_object(c, doc, "spec", true, &spec);
    /* Kyverno's other spec fields tune its own webhook and are ignored; anything else is
     * an error, so that a misspelt validationFailureAction cannot silently mean Audit. */
    if (rc == 0)
        rc = pol_check_keys(c, spec, spec_keys);
    if (rc == 0)
        rc = pol_get_array(c, spec, "rules", true, &rules);
    if (rc != 0)
        return rc;
    if (cJSON_GetArraySize(rules) == 0)
        return pol_ctx_fail(c, CM_ECONFIG, rules, "spec.rules is empty");
    v = cJSON_GetObjectItemCaseSensitive(spec, "applyRules");
    if (v != NULL && !(cJSON_IsString(v) && strcmp(v->valuestring, "All") == 0))
        return pol_ctx_fail(c, CM_ECONFIG, v, "applyRules: only All is supported");
    p.name = cm_strdup(full);
    p.ns = ns != NULL ? cm_strdup(ns) : NULL;
    if (p.name == NULL || (ns != NULL && p.ns == NULL)) {
        rc = cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
        goto fail;
    }
    p.action = POLICY_AUDIT;
    v = cJSON_GetObjectItemCaseSensitive(spec, "validationFailureAction");
    if (v != NULL && (rc = parse_action(c, v, "spec.validationFailureAction", &p.action)) != 0)
        goto fail;
    v = cJSON_GetObjectItemCaseSensitive(spec, "validationFailureActionOverrides");
    if (v != NULL) {
        if (namespaced) {
            rc = pol_ctx_fail(c, CM_ECONFIG, v,
                              "validationFailureActionOverrides is only for ClusterPolicy");
            goto fail;
        }
        rc = compile_overrides(c, v, &p);
        if (rc != 0)
            goto fail;
    }
    p.rules = cm_calloc((size_t)cJSON_GetArraySize(rules), sizeof(*p.rules));
    if (p.rules == NULL) {
        rc = cm_err_set(c->err, CM_ENOMEM, "%s: out of memory", c->file);
        goto fail;
    }
    cJSON_ArrayForEach(it, rules)
    {
        rc = compile_rule(c, full, it, &p.rules[p.nrules]);
        p.nrules++;
        if (rc != 0)
            goto fail;
        for (i = 0; i + 1 < p.nrules; i++) {
            if (strcmp(p.rules[i].name, p.rules[p.nrules - 1].name) == 0) {
                rc = pol_ctx_fail(c, CM_ECONFIG, it, "duplicate rule name");
                goto fail;
            }
        }
    }
    *out = p;
    return 0;
fail:
    pol_policy_free(&p);
    return rc;
}
