/* SPDX-License-Identifier: Apache-2.0 */
/* policy_eval.c - evaluates an admitted object against a policy set into a reusable
 * report (no allocation on the pass path), and formats Kyverno's denial text. */
#include "policy_load_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A message holds the rule message (<= POLICY_MAX_STRING) and the failing paths. */
#define REPORT_MSG_MAX (2 * POLICY_MAX_STRING)
#define REPORT_PATH_MAX 512

static const char binding_policy[] = "lockwarden-backup-binding";
static const char rule_exists[] = "backup-policy-exists";
static const char rule_lock[] = "immutable-requires-object-lock";
static const char no_text[] = "";

/* Why a message starts with a note on unknown namespace labels (policy_set_eval). */
enum ns_note { NOTE_NONE = 0, NOTE_SELECT, NOTE_ACTION };

struct slot {
    struct cm_buf msg;
    char path[REPORT_PATH_MAX];
    enum ns_note note; /* set per evaluation of the slot's rule */
};

struct policy_report {
    struct policy_rule_result *v;
    struct slot *slots;
    size_t n;
    size_t cap;
};

int policy_report_create(struct policy_report **out)
{
    struct policy_report *r = cm_calloc(1, sizeof(*r));

    if (r == NULL)
        return CM_ENOMEM;
    *out = r;
    return 0;
}

void policy_report_destroy(struct policy_report *r)
{
    size_t i;

    if (r == NULL)
        return;
    for (i = 0; i < r->cap; i++)
        cm_buf_free(&r->slots[i].msg);
    cm_free(r->slots);
    cm_free(r->v);
    cm_free(r);
}

size_t policy_report_count(const struct policy_report *r)
{
    return r != NULL ? r->n : 0;
}

const struct policy_rule_result *policy_report_get(const struct policy_report *r, size_t i)
{
    if (r == NULL || i >= r->n)
        return NULL;
    return &r->v[i];
}

bool policy_report_blocked(const struct policy_report *r)
{
    size_t i;

    for (i = 0; r != NULL && i < r->n; i++) {
        if (r->v[i].action == POLICY_ENFORCE &&
            (r->v[i].result == POLICY_FAIL || r->v[i].result == POLICY_ERROR))
            return true;
    }
    return false;
}

/* The next result slot; grows the arrays only the first time a report gets this big. */
static struct policy_rule_result *report_push(struct policy_report *r, const char *policy,
                                              const char *rule, enum policy_action action)
{
    struct policy_rule_result *res;

    if (r->n == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 8;
        struct policy_rule_result *nv = cm_realloc(r->v, ncap * sizeof(*nv));
        struct slot *ns;
        size_t i;

        if (nv == NULL)
            return NULL;
        r->v = nv;
        ns = cm_realloc(r->slots, ncap * sizeof(*ns));
        if (ns == NULL)
            return NULL;
        r->slots = ns;
        for (i = r->cap; i < ncap; i++)
            cm_buf_init(&ns[i].msg, REPORT_MSG_MAX);
        r->cap = ncap;
        /* Paths live inside the slots, which may have moved (messages are on the heap);
         * compare pointers only: the old slots are gone. */
        for (i = 0; i < r->n; i++) {
            if (r->v[i].path != no_text)
                r->v[i].path = r->slots[i].path;
        }
    }
    res = &r->v[r->n];
    res->policy = policy;
    res->rule = rule;
    res->result = POLICY_PASS;
    res->action = action;
    res->message = no_text;
    res->path = no_text;
    r->slots[r->n].note = NOTE_NONE;
    r->n++;
    return res;
}

/* Sets the failing slot's message (already in the slot buffer) and path. */
static void slot_finish(struct policy_report *r, struct policy_rule_result *res,
                        enum policy_result result, const char *path)
{
    struct slot *s = &r->slots[res - r->v];

    res->result = result;
    res->message = s->msg.ptr != NULL ? s->msg.ptr : no_text;
    if (path != NULL && path[0] != '\0') {
        (void)snprintf(s->path, sizeof(s->path), "%s", path);
        res->path = s->path;
    }
}

/* "validation error: <message>." or "validation error:" (no trailing space). */
static int msg_prefix(const struct pol_rule *rule, const struct pol_res *rr, struct cm_buf *b)
{
    int rc = cm_buf_adds(b, "validation error:");

    if (rc == 0 && rule->message != NULL && rule->message[0] != '\0') {
        size_t before;

        rc = cm_buf_addc(b, ' ');
        before = b->len;
        if (rc == 0)
            rc = pol_template_expand(rule->message, rule->msg_vars, rule->nmsg_vars, rr, b);
        if (rc == 0 && b->len > before && b->ptr[b->len - 1] != '.')
            rc = cm_buf_addc(b, '.');
    }
    return rc;
}

/* The note that starts the message of a rule whose outcome turns on namespace labels
 * the caller does not know yet. */
static int add_note(struct cm_buf *b, enum ns_note note, const struct pol_res *r)
{
    /* No apostrophes: the denial text quotes messages YAML-style, doubling them. */
    static const char select_why[] = "the namespaceSelector of this rule cannot be evaluated, "
                                     "and the resource does not pass the rule";
    static const char action_why[] =
        "validationFailureActionOverrides cannot be evaluated and Enforce applies";

    if (note == NOTE_NONE)
        return 0;
    return cm_buf_addf(b, "the labels of namespace \"%.*s\" are not known yet, so %s: ",
                       (int)(r->ns_len > 253 ? 253 : r->ns_len), r->ns,
                       note == NOTE_SELECT ? select_why : action_why);
}

/* After a failure message was built: out of memory fails the evaluation; a message over
 * the cap (a huge anyPattern) is replaced by a short one rather than left empty. */
static int msg_done(struct policy_report *rep, struct policy_rule_result *res,
                    const struct pol_rule *rule, const struct pol_res *r, int rc)
{
    struct slot *s = &rep->slots[res - rep->v];

    if (rc != CM_ETOOBIG)
        return rc;
    cm_buf_reset(&s->msg);
    rc = add_note(&s->msg, s->note, r);
    if (rc == 0)
        rc = cm_buf_addf(&s->msg, "validation error: rule %s failed (message longer than %d bytes)",
                         rule->name, REPORT_MSG_MAX);
    res->message = rc == 0 ? s->msg.ptr : no_text;
    return rc == CM_ENOMEM ? rc : 0;
}

/* The rule's validationFailureAction. An override whose namespaceSelector cannot be
 * evaluated (labels not known yet) may or may not apply: then the strictest action
 * that could apply is returned and *undecided says that it was a guess. */
static enum policy_action rule_action(const struct pol_policy *p, const struct pol_rule *rule,
                                      const struct pol_res *r, bool *undecided)
{
    enum policy_action act = p->action;
    bool maybe[2] = {false, false};
    size_t i;

    *undecided = false;
    if (rule->action >= 0)
        return (enum policy_action)rule->action;
    for (i = 0; i < p->nov; i++) {
        const struct pol_override *o = &p->ov[i];

        if (o->namespaces.n > 0 && !pol_wlist_match(&o->namespaces, r->ns, r->ns_len))
            continue;
        if (o->ns_selector != NULL && r->ns_labels == NULL && r->ns_labels_unknown) {
            maybe[o->action] = true;
            continue;
        }
        if (o->ns_selector != NULL &&
            (r->ns_labels == NULL || !pol_selector_match(o->ns_selector, r->ns_labels)))
            continue;
        act = o->action;
        break;
    }
    *undecided = maybe[act == POLICY_ENFORCE ? POLICY_AUDIT : POLICY_ENFORCE];
    return maybe[POLICY_ENFORCE] ? POLICY_ENFORCE : act;
}

/* Preconditions and the validation of a rule that applies, into res (its slot's message
 * may already hold the note). */
static int eval_checks(struct policy_report *rep, struct policy_rule_result *res,
                       const struct pol_rule *rule, const struct pol_res *r)
{
    struct slot *s = &rep->slots[res - rep->v];
    struct pol_pat_result pr;
    bool pre = true;
    size_t i;
    int rc;

    if (rule->pre.present) {
        rc = pol_conds_eval(&rule->pre, r, &pre);
        if (rc == CM_ENOMEM)
            return rc;
        if (rc != 0) {
            int why = rc;

            rc = msg_prefix(rule, r, &s->msg);
            if (rc == 0)
                rc = cm_buf_addf(&s->msg, " rule %s execution error: preconditions: %s", rule->name,
                                 cm_strerror(why));
            slot_finish(rep, res, POLICY_ERROR, NULL);
            return msg_done(rep, res, rule, r, rc);
        }
        if (!pre) {
            res->result = POLICY_SKIP;
            return 0;
        }
    }
    if (rule->pattern != NULL) {
        pr.status = POL_PAT_PASS;
        rc = pol_pattern_eval(rule->pattern, r->object, &pr);
        if (rc != 0)
            return rc;
        switch (pr.status) {
        case POL_PAT_PASS:
            return 0;
        case POL_PAT_SKIP:
            res->result = POLICY_SKIP;
            return 0;
        case POL_PAT_FAIL:
            rc = msg_prefix(rule, r, &s->msg);
            if (rc == 0)
                rc = cm_buf_addf(&s->msg, " rule %s failed at path %s", rule->name, pr.path);
            slot_finish(rep, res, POLICY_FAIL, pr.path);
            return msg_done(rep, res, rule, r, rc);
        default:
            rc = msg_prefix(rule, r, &s->msg);
            if (rc == 0)
                rc = cm_buf_addf(&s->msg, " rule %s execution error: %s", rule->name, pr.msg);
            slot_finish(rep, res, POLICY_ERROR, pr.path);
            return msg_done(rep, res, rule, r, rc);
        }
    }
    /* anyPattern: pass when one passes; skip when all skip; else fail naming each. */
    {
        bool all_skip = true;

        for (i = 0; i < rule->nany; i++) {
            pr.status = POL_PAT_PASS;
            rc = pol_pattern_eval(rule->any[i], r->object, &pr);
            if (rc != 0)
                return rc;
            if (pr.status == POL_PAT_PASS)
                return 0;
            if (pr.status != POL_PAT_SKIP)
                all_skip = false;
        }
        if (all_skip) {
            res->result = POLICY_SKIP;
            return 0;
        }
        rc = msg_prefix(rule, r, &s->msg);
        for (i = 0; i < rule->nany && rc == 0; i++) {
            rc = pol_pattern_eval(rule->any[i], r->object, &pr);
            if (rc == 0 && pr.status == POL_PAT_FAIL)
                rc =
                    cm_buf_addf(&s->msg, " rule %s[%zu] failed at path %s", rule->name, i, pr.path);
            else if (rc == 0 && pr.status == POL_PAT_ERROR)
                rc = cm_buf_addf(&s->msg, " rule %s[%zu] execution error: %s", rule->name, i,
                                 pr.msg);
        }
        slot_finish(rep, res, POLICY_FAIL, NULL);
        return msg_done(rep, res, rule, r, rc);
    }
}

/* A rule whose selection or action turns on namespace labels the caller does not know
 * yet is judged as if it applied: passing is harmless either way (and not reported when
 * the selection was undecided); not passing becomes an error of the rule (undecided
 * selection) or a failure under the strictest action (undecided override), with a note
 * that says why. So unknown labels never let a request pass silently. */
static int eval_rule(struct policy_report *rep, const struct pol_policy *p,
                     const struct pol_rule *rule, const struct pol_res *r)
{
    struct policy_rule_result *res;
    enum pol_tri sel = pol_match_eval(&rule->match, r);
    enum policy_action action;
    bool action_undecided;
    struct slot *s;
    int rc;

    if (sel == POL_NO)
        return 0;
    if (rule->exclude.n > 0) {
        enum pol_tri ex = pol_match_eval(&rule->exclude, r);

        if (ex == POL_YES)
            return 0;
        if (ex == POL_MAYBE)
            sel = POL_MAYBE;
    }
    action = rule_action(p, rule, r, &action_undecided);
    res = report_push(rep, p->name, rule->name, action);
    if (res == NULL)
        return CM_ENOMEM;
    s = &rep->slots[res - rep->v];
    cm_buf_reset(&s->msg);
    s->note = sel == POL_MAYBE ? NOTE_SELECT : action_undecided ? NOTE_ACTION : NOTE_NONE;
    rc = add_note(&s->msg, s->note, r);
    if (rc != 0)
        return rc;
    rc = eval_checks(rep, res, rule, r);
    if (rc != 0 || sel != POL_MAYBE)
        return rc;
    if (res->result == POLICY_PASS || res->result == POLICY_SKIP)
        rep->n--; /* res is the last result */
    else
        res->result = POLICY_ERROR;
    return 0;
}

/* ---- resource facts ---- */

static const char *str_of(const cJSON *v, size_t *len)
{
    const char *s = cJSON_IsString(v) ? v->valuestring : "";

    *len = strlen(s);
    return s;
}

/* One pass over the object's top level and one over its metadata: this runs on every
 * evaluation, and separate lookups would rescan the same keys. */
bool pol_res_init(struct pol_res *r, const struct policy_request *req)
{
    const cJSON *o = req->object;
    const cJSON *meta = NULL;
    const cJSON *kind = NULL;
    const cJSON *api = NULL;
    const cJSON *name = NULL;
    const cJSON *ns = NULL;
    const cJSON *it;
    const char *apis;
    const char *slash;
    size_t api_len;

    memset(r, 0, sizeof(*r));
    if (!cJSON_IsObject(o))
        return false;
    for (it = o->child; it != NULL; it = it->next) {
        const char *k = it->string;

        if (k == NULL)
            continue;
        if (k[0] == 'k' && strcmp(k, "kind") == 0)
            kind = it;
        else if (k[0] == 'a' && strcmp(k, "apiVersion") == 0)
            api = it;
        else if (k[0] == 'm' && strcmp(k, "metadata") == 0)
            meta = it;
    }
    r->object = o;
    r->old_object = req->old_object;
    r->op = req->operation;
    r->ns_labels = cJSON_IsObject(req->namespace_labels) ? req->namespace_labels : NULL;
    r->ns_labels_unknown = r->ns_labels == NULL && req->namespace_labels_unknown;
    r->kind = str_of(kind, &r->kind_len);
    if (r->kind_len == 0)
        return false;
    apis = str_of(api, &api_len);
    slash = memchr(apis, '/', api_len);
    if (slash != NULL) {
        r->group = apis;
        r->group_len = (size_t)(slash - apis);
        r->version = slash + 1;
        r->version_len = api_len - r->group_len - 1;
    } else {
        r->group = "";
        r->version = apis;
        r->version_len = api_len;
    }
    for (it = cJSON_IsObject(meta) ? meta->child : NULL; it != NULL; it = it->next) {
        const char *k = it->string;

        if (k == NULL)
            continue;
        switch (k[0]) {
        case 'n':
            if (strcmp(k, "name") == 0)
                name = it;
            else if (strcmp(k, "namespace") == 0)
                ns = it;
            break;
        case 'l':
            if (strcmp(k, "labels") == 0 && cJSON_IsObject(it))
                r->labels = it;
            break;
        case 'a':
            if (strcmp(k, "annotations") == 0 && cJSON_IsObject(it))
                r->annotations = it;
            break;
        default:
            break;
        }
    }
    r->name = str_of(name, &r->name_len);
    if (req->namespace_ != NULL) {
        r->ns = req->namespace_;
        r->ns_len = strlen(r->ns);
    } else {
        r->ns = str_of(ns, &r->ns_len);
    }
    return true;
}

static bool is_workload(const struct pol_res *r)
{
    return (r->kind_len == 10 && memcmp(r->kind, "Deployment", 10) == 0) ||
           (r->kind_len == 11 && memcmp(r->kind, "StatefulSet", 11) == 0);
}

/* The built-in rules, decided by the same code as policy_set_bind(). */
static int eval_binding(const struct policy_set *s, const struct pol_res *r,
                        struct policy_report *rep)
{
    struct policy_binding b;
    struct policy_rule_result *res;
    struct slot *sl;
    const cJSON *label;
    const cJSON *imm;
    bool wants_lock;
    int rc = 0;

    pol_bind(s, r, &b, &label, &imm);
    res = report_push(rep, binding_policy, rule_exists, POLICY_ENFORCE);
    if (res == NULL)
        return CM_ENOMEM;
    if (label == NULL) {
        res->result = POLICY_SKIP;
    } else if (b.status == POLICY_BIND_UNKNOWN) {
        sl = &rep->slots[res - rep->v];
        cm_buf_reset(&sl->msg);
        rc = cm_buf_addf(&sl->msg, "validation error: %s rule %s failed at path %s", b.message,
                         rule_exists, "/metadata/labels/" POLICY_DATAPROTECTION_LABEL "/");
        slot_finish(rep, res, POLICY_FAIL, "/metadata/labels/" POLICY_DATAPROTECTION_LABEL "/");
        if (rc == CM_ENOMEM)
            return rc;
    }
    res = report_push(rep, binding_policy, rule_lock, POLICY_ENFORCE);
    if (res == NULL)
        return CM_ENOMEM;
    wants_lock = cJSON_IsString(imm) && strcmp(imm->valuestring, "enabled") == 0;
    if (!wants_lock || (b.status != POLICY_BIND_OK && b.status != POLICY_BIND_NO_LOCK)) {
        res->result = POLICY_SKIP;
    } else if (b.status == POLICY_BIND_NO_LOCK) {
        sl = &rep->slots[res - rep->v];
        cm_buf_reset(&sl->msg);
        rc = cm_buf_addf(&sl->msg, "validation error: %s rule %s failed at path %s", b.message,
                         rule_lock, "/metadata/labels/" POLICY_IMMUTABLE_LABEL "/");
        slot_finish(rep, res, POLICY_FAIL, "/metadata/labels/" POLICY_IMMUTABLE_LABEL "/");
        if (rc == CM_ENOMEM)
            return rc;
    }
    return 0;
}

int policy_set_eval(const struct policy_set *s, const struct policy_request *req,
                    struct policy_report *rep, struct cm_err *err)
{
    struct pol_res r;
    size_t i;
    size_t j;
    int rc = 0;

    rep->n = 0;
    if (s == NULL || req == NULL || !pol_res_init(&r, req))
        return 0;
    for (i = 0; i < s->npols && rc == 0; i++) {
        const struct pol_policy *p = &s->pols[i];

        /* A namespaced Policy applies only to its own namespace. */
        if (p->ns != NULL && strcmp(p->ns, r.ns) != 0)
            continue;
        for (j = 0; j < p->nrules && rc == 0; j++)
            rc = eval_rule(rep, p, &p->rules[j], &r);
    }
    if (rc == 0 && s->nbackups > 0 && is_workload(&r) &&
        (r.op == POLICY_OP_CREATE || r.op == POLICY_OP_UPDATE))
        rc = eval_binding(s, &r, rep);
    if (rc != 0) {
        rep->n = 0;
        return cm_err_set(err, rc, "policy evaluation: %s", cm_strerror(rc));
    }
    return 0;
}

/* ---- Kyverno's denial text ---- */

/* Appends s as a YAML single-quoted scalar ('' for a quote). */
static int add_squoted(struct cm_buf *out, const char *s)
{
    int rc = cm_buf_addc(out, '\'');

    for (; rc == 0 && *s != '\0'; s++) {
        if (*s == '\'')
            rc = cm_buf_adds(out, "''");
        else
            rc = cm_buf_addc(out, *s);
    }
    if (rc == 0)
        rc = cm_buf_addc(out, '\'');
    return rc;
}

static bool selected(const struct policy_rule_result *x, bool audit_only)
{
    if (x->result != POLICY_FAIL && x->result != POLICY_ERROR)
        return false;
    return audit_only ? x->action == POLICY_AUDIT : x->action == POLICY_ENFORCE;
}

static int cmp_results(const void *a, const void *b)
{
    const struct policy_rule_result *x = *(const struct policy_rule_result *const *)a;
    const struct policy_rule_result *y = *(const struct policy_rule_result *const *)b;
    int c = strcmp(x->policy, y->policy);

    return c != 0 ? c : strcmp(x->rule, y->rule);
}

int policy_report_format(const struct policy_report *r, bool audit_only, const char *kind,
                         const char *ns, const char *name, struct cm_buf *out)
{
    const struct policy_rule_result **v = NULL;
    size_t n = 0;
    size_t i;
    int rc;

    rc = cm_buf_addf(out, "resource %s/%s/%s was blocked due to the following policies\n\n",
                     kind != NULL ? kind : "", ns != NULL ? ns : "", name != NULL ? name : "");
    if (rc != 0 || r == NULL || r->n == 0)
        return rc;
    v = cm_malloc(r->n * sizeof(*v));
    if (v == NULL) {
        cm_buf_free(out);
        return CM_ENOMEM;
    }
    for (i = 0; i < r->n; i++) {
        if (selected(&r->v[i], audit_only))
            v[n++] = &r->v[i];
    }
    /* Kyverno prints a YAML map of policy -> rule -> message; yaml.v2 sorts map keys. */
    qsort(v, n, sizeof(*v), cmp_results);
    for (i = 0; rc == 0 && i < n; i++) {
        if (i == 0 || strcmp(v[i - 1]->policy, v[i]->policy) != 0)
            rc = cm_buf_addf(out, "%s:\n", v[i]->policy);
        if (rc == 0)
            rc = cm_buf_addf(out, "  %s: ", v[i]->rule);
        if (rc == 0)
            rc = add_squoted(out, v[i]->message);
        if (rc == 0)
            rc = cm_buf_addc(out, '\n');
    }
    cm_free(v);
    return rc;
}
