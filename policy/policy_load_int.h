/* SPDX-License-Identifier: Apache-2.0 */
/* policy_load_int.h - the compiled form of policies inside policy/ (loader, matcher,
 * preconditions, evaluation, binding). Never include from outside policy/.
 *
 * Design note
 * - A struct policy_set owns arrays of struct pol_policy (Kyverno ClusterPolicy/Policy)
 *   and struct policy_backup. Every string, wildcard, pattern and selector below is owned
 *   by the policy or backup that holds it and freed with it.
 * - Everything an evaluation needs is compiled at load (wildcards, kinds, selectors,
 *   variable paths), so that policy_set_eval() never parses policy text and allocates
 *   only to grow a report or to build a failure message.
 * - Helpers that report errors take a struct pol_ctx naming the file and document, so
 *   that messages read "file:line:col: policy X rule Y: reason". */
#ifndef POLICY_POLICY_LOAD_INT_H
#define POLICY_POLICY_LOAD_INT_H

#include "policy.h"
#include "policy_int.h"

/* ---- parsed documents (policy_docs.c) ---- */

/* node -> 1-based line/column, open addressing keyed by the node's address. */
struct pol_pos_slot {
    const void *key;
    uint32_t line;
    uint32_t col;
};

struct pol_pos_map {
    struct pol_pos_slot *slots;
    size_t cap; /* power of two or 0 */
    size_t used;
};

/* The documents of one buffer: owned roots, the view policy_docs_get() serves, and where
 * each node (and each mapping entry's key) starts. */
struct policy_docs {
    cJSON **roots; /* owned document roots */
    size_t nroots;
    size_t roots_cap;
    const cJSON **items; /* the view policy_docs_get() serves; NULL = roots */
    size_t nitems;
    struct pol_pos_map pos;
    struct pol_pos_map keypos; /* mapping entries: where their key starts */
};

/* YAML anchors of the document being built: name -> completed node. */
struct pol_yanchor {
    char *name;
    cJSON *node;  /* borrowed from the document tree */
    size_t nodes; /* nodes in the subtree, charged again on every alias */
    int height;   /* collection levels in the subtree (a scalar is 0) */
};

struct pol_anchor_tab {
    struct pol_yanchor *v;
    size_t n, cap;
    size_t *idx; /* hash -> index + 1, 0 = empty */
    size_t icap;
};

/* Records key's position (0-based line/column in, 1-based stored). CM_ENOMEM on failure. */
int pol_pos_map_put(struct pol_pos_map *m, const void *key, size_t line, size_t col);
const struct pol_pos_slot *pol_pos_map_get(const struct pol_pos_map *m, const void *key);
struct pol_yanchor *pol_anchor_find(const struct pol_anchor_tab *t, const char *name);
/* Records (or redefines, as YAML allows) an anchor. CM_ENOMEM on failure. */
int pol_anchor_put(struct pol_anchor_tab *t, const char *name, cJSON *node, size_t nodes,
                   int height);
void pol_anchor_tab_clear(struct pol_anchor_tab *t);

/* Where the key of mapping entry node starts (1-based); false when unknown. */
bool pol_docs_key_pos(const struct policy_docs *d, const cJSON *node, int *line, int *col);
/* Replaces the view that policy_docs_get() serves (List items expanded); takes items. */
int pol_docs_set_items(struct policy_docs *d, const cJSON **items, size_t n);

/* Where a loader error happened: file name, documents (for positions), object names. */
struct pol_ctx {
    const char *file;
    const struct policy_docs *docs;
    const cJSON *doc; /* the document (fallback position) */
    char where[200];  /* "policy X rule Y" or "backuppolicy X" */
    struct cm_err *err;
};

/* Sets err to "file:line:col: where: reason" at node (or its document). Returns code. */
int pol_ctx_fail(const struct pol_ctx *c, int code, const cJSON *node, const char *fmt, ...)
    CM_PRINTF(4, 5);

/* The same, placed at node's key ("unknown field", "not supported"). */
int pol_ctx_fail_key(const struct pol_ctx *c, int code, const cJSON *node, const char *fmt, ...)
    CM_PRINTF(4, 5);

/* Small typed getters that fail with a position: NULL/absent is allowed when !required. */
int pol_get_string(const struct pol_ctx *c, const cJSON *obj, const char *key, bool required,
                   const char **out);
int pol_get_object(const struct pol_ctx *c, const cJSON *obj, const char *key, bool required,
                   const cJSON **out);
int pol_get_array(const struct pol_ctx *c, const cJSON *obj, const char *key, bool required,
                  const cJSON **out);
/* Fails when obj holds a key not in allowed (NULL-terminated). */
int pol_check_keys(const struct pol_ctx *c, const cJSON *obj, const char *const *allowed);

/* ---- wildcard lists ---- */

struct pol_wlist {
    struct pol_wildcard **v;
    size_t n;
};

/* Compiles a JSON array of strings (or a single string when allow_scalar). */
int pol_wlist_compile(const struct pol_ctx *c, const cJSON *arr, const char *what,
                      struct pol_wlist *out);
bool pol_wlist_match(const struct pol_wlist *l, const char *s, size_t n);
void pol_wlist_free(struct pol_wlist *l);

/* ---- label selectors (matchLabels with wildcards, matchExpressions) ---- */

enum pol_sel_op { POL_SEL_IN = 0, POL_SEL_NOTIN, POL_SEL_EXISTS, POL_SEL_NOTEXISTS };

struct pol_sel_label {
    struct pol_wildcard *key;
    struct pol_wildcard *value;
    char *key_lit; /* owned copy of the key when literal (fast lookup), else NULL */
};

struct pol_sel_expr {
    char *key;
    enum pol_sel_op op;
    char **values;
    size_t nvalues;
};

struct pol_selector {
    struct pol_sel_label *labels;
    size_t nlabels;
    struct pol_sel_expr *exprs;
    size_t nexprs;
};

/* Compiles a LabelSelector object into *out (allocated). */
int pol_selector_compile(const struct pol_ctx *c, const cJSON *sel, struct pol_selector **out);
/* labels: a JSON object of string values, or NULL (no labels). */
bool pol_selector_match(const struct pol_selector *s, const cJSON *labels);
void pol_selector_destroy(struct pol_selector *s);
/* Matches the wildcard pairs (matchLabels semantics) against labels. */
bool pol_labels_match(const struct pol_sel_label *v, size_t n, const cJSON *labels);
void pol_sel_labels_free(struct pol_sel_label *v, size_t n);
/* Compiles an annotations map (wildcard keys and values). */
int pol_annotations_compile(const struct pol_ctx *c, const cJSON *m, struct pol_sel_label **out,
                            size_t *n);
/* Gets an integral number in [lo, hi]; absent gives def unless required. */
int pol_get_uint(const struct pol_ctx *c, const cJSON *obj, const char *key, bool required,
                 uint32_t lo, uint32_t hi, uint32_t def, uint32_t *out);
/* True for a DNS-1123 subdomain (Kubernetes object names). */
bool pol_is_dns_subdomain(const char *s);

/* ---- match / exclude ---- */

struct pol_kind {
    struct pol_wildcard *group;   /* NULL = any */
    struct pol_wildcard *version; /* NULL = any */
    struct pol_wildcard *kind;
};

struct pol_filter {
    struct pol_kind *kinds;
    size_t nkinds;
    struct pol_wlist names;
    struct pol_wlist namespaces;
    unsigned ops; /* bit (1u << enum policy_op) */
    struct pol_selector *selector;
    struct pol_selector *ns_selector;
    struct pol_sel_label *annotations;
    size_t nannotations;
};

struct pol_match {
    struct pol_filter *filters;
    size_t n;
    bool all; /* all: every filter must match; else any */
};

/* What evaluation knows about the resource, computed once per policy_set_eval(). */
struct pol_res {
    const cJSON *object;
    const cJSON *old_object;
    enum policy_op op;
    const char *kind;
    size_t kind_len;
    const char *group;
    size_t group_len;
    const char *version;
    size_t version_len;
    const char *name;
    size_t name_len;
    const char *ns;
    size_t ns_len;
    const cJSON *labels;
    const cJSON *annotations;
    const cJSON *ns_labels;
    /* The namespace has labels that the caller does not know yet (ns_labels is NULL):
     * a namespaceSelector is then undecided instead of not matching. */
    bool ns_labels_unknown;
};

/* Whether a match selects a resource: no, yes, or undecided (it depends on a
 * namespaceSelector and the namespace's labels are not known yet). */
enum pol_tri { POL_NO = 0, POL_YES, POL_MAYBE };

/* Compiles match or exclude (resources shorthand, any or all). */
int pol_match_compile(const struct pol_ctx *c, const cJSON *m, bool is_exclude,
                      struct pol_match *out);
/* Whether m selects r; an empty exclude (n == 0) selects nothing. POL_MAYBE only when
 * r->ns_labels_unknown and the answer turns on a namespaceSelector. */
enum pol_tri pol_match_eval(const struct pol_match *m, const struct pol_res *r);
void pol_match_free(struct pol_match *m);

/* ---- variables and preconditions ---- */

enum pol_root { POL_ROOT_OBJECT = 0, POL_ROOT_OLD_OBJECT, POL_ROOT_OPERATION, POL_ROOT_NAMESPACE };

struct pol_seg {
    char *key; /* NULL for an index */
    long index;
};

/* One compiled {{ request.<path> || 'default' }}. */
struct pol_var {
    enum pol_root root;
    struct pol_seg *segs;
    size_t nsegs;
    cJSON *deflt;      /* || default, or NULL */
    size_t start, end; /* span of "{{...}}" inside the template */
};

/* An operand: a literal JSON value, or a string with variables. */
struct pol_operand {
    cJSON *literal; /* owned; the value when nvars == 0 */
    char *text;     /* template text when nvars > 0 */
    struct pol_var *vars;
    size_t nvars;
    bool whole; /* the text is exactly one variable: its JSON value is used */
};

enum pol_cond_op {
    POL_OP_EQUALS = 0,
    POL_OP_NOT_EQUALS,
    POL_OP_IN,
    POL_OP_NOT_IN,
    POL_OP_ANY_IN,
    POL_OP_ALL_IN,
    POL_OP_ANY_NOT_IN,
    POL_OP_ALL_NOT_IN,
    POL_OP_GT,
    POL_OP_GE,
    POL_OP_LT,
    POL_OP_LE,
};

struct pol_cond {
    struct pol_operand key;
    struct pol_operand value;
    enum pol_cond_op op;
};

struct pol_conds {
    struct pol_cond *all;
    size_t nall;
    struct pol_cond *any;
    size_t nany;
    bool present;
};

/* Compiles the variables of a message template (text kept by the caller). */
int pol_template_compile(const struct pol_ctx *c, const cJSON *node, const char *text,
                         struct pol_var **vars, size_t *nvars);
void pol_vars_free(struct pol_var *v, size_t n);
/* Appends text with its variables substituted (values stringified). */
int pol_template_expand(const char *text, const struct pol_var *vars, size_t nvars,
                        const struct pol_res *r, struct cm_buf *out);

int pol_conds_compile(const struct pol_ctx *c, const cJSON *pre, struct pol_conds *out);
/* True when the preconditions hold (absent = true). Returns 0 or CM_ENOMEM. */
int pol_conds_eval(const struct pol_conds *pc, const struct pol_res *r, bool *out);
void pol_conds_free(struct pol_conds *pc);

/* ---- policies ---- */

struct pol_override {
    enum policy_action action;
    struct pol_wlist namespaces;
    struct pol_selector *ns_selector;
};

struct pol_rule {
    char *name;
    struct pol_match match;
    struct pol_match exclude;
    struct pol_conds pre;
    char *message; /* validate.message, or NULL */
    struct pol_var *msg_vars;
    size_t nmsg_vars;
    struct pol_pattern *pattern;
    struct pol_pattern **any;
    size_t nany;
    int action; /* -1: the policy's; else enum policy_action */
};

struct pol_policy {
    char *name; /* as reported: "name" or "ns/name" */
    char *ns;   /* Policy: its namespace; ClusterPolicy: NULL */
    enum policy_action action;
    struct pol_override *ov;
    size_t nov;
    struct pol_rule *rules;
    size_t nrules;
};

void pol_policy_free(struct pol_policy *p);
/* Compiles one ClusterPolicy/Policy document into *out. */
int pol_policy_compile(struct pol_ctx *c, const cJSON *doc, bool namespaced,
                       struct pol_policy *out);

/* ---- backup policies ---- */

struct pol_bsel {
    struct pol_wlist namespaces;
    struct pol_selector *labels;
    char *canon; /* the selector as compact JSON, to find identical selectors */
};

int pol_backup_compile(struct pol_ctx *c, const cJSON *doc, struct policy_backup *out);
void pol_backup_free(struct policy_backup *b);
/* True when b's selector makes it the default for r. */
bool pol_backup_selects(const struct policy_backup *b, const struct pol_res *r);

/* ---- the set ---- */

struct policy_set {
    struct pol_policy *pols;
    size_t npols;
    size_t nrules;
    struct policy_backup *backups;
    size_t nbackups;
    char *backup_names; /* "bronzepolicy, goldpolicy, ..." for messages */
};

/* policy_set_bind() on an already-initialised resource (eval uses it too); also returns
 * the dataprotection and immutable label nodes it found (NULL when absent) when asked. */
void pol_bind(const struct policy_set *s, const struct pol_res *r, struct policy_binding *out,
              const cJSON **label, const cJSON **imm);
/* Fills r from req. Returns false when the object is not a Kubernetes object. */
bool pol_res_init(struct pol_res *r, const struct policy_request *req);
/* Looks up a dotted path (no variables) in obj; NULL when absent. */
const cJSON *pol_json_path(const cJSON *obj, const char *const *keys, size_t n);
/* The string at obj[key], or NULL. */
const char *pol_json_str(const cJSON *obj, const char *key);

#endif /* POLICY_POLICY_LOAD_INT_H */
