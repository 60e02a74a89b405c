/* SPDX-License-Identifier: Apache-2.0 */
/* test_pattern.c - unit tests of the validate pattern engine (policy_pattern*.c): every
 * anchor, array form, typed scalar, structure mismatch, wildcard metadata key, failure
 * path and message, written down case by case as tables; limits, OOM and no-allocation
 * on the pass path. JSON below uses ' for " to stay readable. */
#include "policy/policy_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASS POL_PAT_PASS
#define FAIL POL_PAT_FAIL
#define SKIP POL_PAT_SKIP
#define ERROR POL_PAT_ERROR

struct pat_case {
    const char *name;
    const char *pattern;
    const char *resource;
    enum pol_pat_status status;
    const char *path; /* expected path; NULL = not checked */
    const char *msg;  /* expected message; NULL = not checked; "~x" = contains x */
};

/* The product's own guardrail. */
#define GUARD                                                                                      \
    "{'metadata':{'labels':{'=(purpose)':'production','dataprotection':'k10-?*',"                  \
    "'immutable':'enabled'}}}"

static const struct pat_case pat_cases[] = {
    /* ---- the guardrail against labelled, unlabelled and partly labelled objects ---- */
    {"guard: all labels", GUARD,
     "{'kind':'Deployment','metadata':{'name':'web','labels':{'purpose':'production',"
     "'dataprotection':'k10-gold','immutable':'enabled'}}}",
     PASS, "", ""},
    {"guard: no purpose label is fine (equality anchor)", GUARD,
     "{'metadata':{'labels':{'dataprotection':'k10-gold','immutable':'enabled'}}}", PASS, "", ""},
    {"guard: no labels at all", GUARD, "{'metadata':{'name':'web'}}", FAIL, "/metadata/labels/",
     "pattern and resource have different structures. Path: /metadata/labels/. Expected "
     "map[string]interface {}, found <nil>"},
    {"guard: dataprotection missing", GUARD,
     "{'metadata':{'labels':{'app':'web','immutable':'enabled'}}}", FAIL,
     "/metadata/labels/dataprotection/",
     "resource value '<nil>' does not match 'k10-?*' at path /metadata/labels/dataprotection/"},
    {"guard: dataprotection without k10- prefix", GUARD,
     "{'metadata':{'labels':{'dataprotection':'gold','immutable':'enabled'}}}", FAIL,
     "/metadata/labels/dataprotection/",
     "resource value 'gold' does not match 'k10-?*' at path /metadata/labels/dataprotection/"},
    {"guard: dataprotection k10- with nothing after", GUARD,
     "{'metadata':{'labels':{'dataprotection':'k10-','immutable':'enabled'}}}", FAIL,
     "/metadata/labels/dataprotection/", NULL},
    {"guard: immutable missing", GUARD, "{'metadata':{'labels':{'dataprotection':'k10-gold'}}}",
     FAIL, "/metadata/labels/immutable/",
     "resource value '<nil>' does not match 'enabled' at path /metadata/labels/immutable/"},
    {"guard: immutable wrong value", GUARD,
     "{'metadata':{'labels':{'dataprotection':'k10-gold','immutable':'true'}}}", FAIL,
     "/metadata/labels/immutable/", NULL},
    {"guard: immutable as a bool is not the string", GUARD,
     "{'metadata':{'labels':{'dataprotection':'k10-gold','immutable':true}}}", FAIL,
     "/metadata/labels/immutable/", NULL},
    {"guard: purpose present but not production", GUARD,
     "{'metadata':{'labels':{'purpose':'staging','dataprotection':'k10-gold',"
     "'immutable':'enabled'}}}",
     FAIL, "/metadata/labels/purpose/",
     "resource value 'staging' does not match 'production' at path /metadata/labels/purpose/"},
    {"guard: both missing reports the first key in order", GUARD,
     "{'metadata':{'labels':{'app':'web'}}}", FAIL, "/metadata/labels/dataprotection/", NULL},
    {"guard: anchors are checked before plain keys", GUARD,
     "{'metadata':{'labels':{'purpose':'dev'}}}", FAIL, "/metadata/labels/purpose/", NULL},
    {"guard: no metadata", GUARD, "{'kind':'Deployment'}", FAIL, "/metadata/",
     "pattern and resource have different structures. Path: /metadata/. Expected "
     "map[string]interface {}, found <nil>"},
    {"guard: labels is a list", GUARD, "{'metadata':{'labels':['a']}}", FAIL, "/metadata/labels/",
     "~found []interface {}"},
    {"guard: resource is not a map", GUARD, "['x']", FAIL, "/",
     "pattern and resource have different structures. Path: /. Expected map[string]interface "
     "{}, found []interface {}"},

    /* ---- conditional anchor (key): the value is part of the if ---- */
    {"cond: mismatch skips", "{'metadata':{'labels':{'(app)':'web','tier':'gold'}}}",
     "{'metadata':{'labels':{'app':'db'}}}", SKIP, "",
     "conditional anchor mismatch: resource value 'db' does not match 'web' at path "
     "/metadata/labels/app/"},
    {"cond: match then checks siblings", "{'metadata':{'labels':{'(app)':'web','tier':'gold'}}}",
     "{'metadata':{'labels':{'app':'web','tier':'gold'}}}", PASS, "", ""},
    {"cond: match then sibling fails", "{'metadata':{'labels':{'(app)':'web','tier':'gold'}}}",
     "{'metadata':{'labels':{'app':'web','tier':'iron'}}}", FAIL, "/metadata/labels/tier/", NULL},
    {"cond: key absent skips", "{'metadata':{'labels':{'(app)':'web','tier':'gold'}}}",
     "{'metadata':{'labels':{'tier':'iron'}}}", SKIP, "",
     "conditional anchor mismatch: conditional anchor key doesn't exist in the resource"},
    {"cond: nested child failing is part of the if",
     "{'spec':{'(securityContext)':{'runAsNonRoot':true},'hostPID':false}}",
     "{'spec':{'securityContext':{'runAsNonRoot':false},'hostPID':true}}", SKIP, "", NULL},
    {"cond: nested child passing, sibling fails",
     "{'spec':{'(securityContext)':{'runAsNonRoot':true},'hostPID':false}}",
     "{'spec':{'securityContext':{'runAsNonRoot':true},'hostPID':true}}", FAIL, "/spec/hostPID/",
     NULL},
    {"cond: value null in resource is present", "{'spec':{'(x)':null,'y':'a'}}",
     "{'spec':{'x':null,'y':'b'}}", FAIL, "/spec/y/", NULL},
    {"cond: wrapping a negation makes it a skip", "{'(spec)':{'X(debug)':'null'},'kind':'Pod'}",
     "{'spec':{'debug':1},'kind':'Job'}", SKIP, "", "~conditional anchor mismatch: negation"},

    /* ---- equality anchor =(key): the value is part of the then ---- */
    {"equal: present and wrong fails", "{'spec':{'=(securityContext)':{'runAsNonRoot':true}}}",
     "{'spec':{'securityContext':{'runAsNonRoot':false}}}", FAIL,
     "/spec/securityContext/runAsNonRoot/",
     "resource value 'false' does not match 'true' at path /spec/securityContext/runAsNonRoot/"},
    {"equal: absent passes", "{'spec':{'=(securityContext)':{'runAsNonRoot':true}}}", "{'spec':{}}",
     PASS, "", ""},
    {"equal: present, child missing fails", "{'spec':{'=(securityContext)':{'runAsNonRoot':true}}}",
     "{'spec':{'securityContext':{}}}", FAIL, "/spec/securityContext/runAsNonRoot/", NULL},
    {"equal: present and right", "{'spec':{'=(hostNetwork)':false}}",
     "{'spec':{'hostNetwork':false}}", PASS, "", ""},

    /* ---- negation anchor X(key) ---- */
    {"neg: present fails", "{'metadata':{'labels':{'X(debug)':'null'}}}",
     "{'metadata':{'labels':{'debug':'1'}}}", FAIL, "/metadata/labels/debug/",
     "negation anchor matched in resource: /metadata/labels/debug/ is not allowed"},
    {"neg: absent passes", "{'metadata':{'labels':{'X(debug)':'null'}}}",
     "{'metadata':{'labels':{'app':'x'}}}", PASS, "", ""},
    {"neg: present with a null value still fails", "{'spec':{'X(hostPath)':null}}",
     "{'spec':{'hostPath':null}}", FAIL, "/spec/hostPath/", NULL},
    {"neg: the value is ignored", "{'spec':{'X(hostPath)':'anything'}}",
     "{'spec':{'hostPath':{'path':'/'}}}", FAIL, "/spec/hostPath/", NULL},

    /* ---- global anchor <(key) ---- */
    {"global: mismatch skips the rule", "{'spec':{'<(tier)':'batch','replicas':'<5'}}",
     "{'spec':{'tier':'web','replicas':10}}", SKIP, "", "~global anchor mismatch: "},
    {"global: match, sibling fails", "{'spec':{'<(tier)':'batch','replicas':'<5'}}",
     "{'spec':{'tier':'batch','replicas':10}}", FAIL, "/spec/replicas/",
     "resource value '10' does not match '<5' at path /spec/replicas/"},
    {"global: absent continues", "{'spec':{'<(tier)':'batch','replicas':'<5'}}",
     "{'spec':{'replicas':3}}", PASS, "", ""},
    {"global: nested deeper skips the whole rule",
     "{'spec':{'template':{'metadata':{'labels':{'<(team)':'ops'}}},'replicas':'<2'}}",
     "{'spec':{'template':{'metadata':{'labels':{'team':'dev'}}},'replicas':5}}", SKIP, "", NULL},

    /* ---- existence anchor ^(key) ---- */
    {"exist: one element matches", "{'spec':{'^(containers)':[{'name':'sidecar'}]}}",
     "{'spec':{'containers':[{'name':'app'},{'name':'sidecar'}]}}", PASS, "", ""},
    {"exist: none matches", "{'spec':{'^(containers)':[{'name':'sidecar'}]}}",
     "{'spec':{'containers':[{'name':'app'}]}}", FAIL, "/spec/containers/",
     "existence anchor validation failed at path /spec/containers/"},
    {"exist: absent passes", "{'spec':{'^(containers)':[{'name':'sidecar'}]}}", "{'spec':{}}", PASS,
     "", ""},
    {"exist: empty list fails", "{'spec':{'^(containers)':[{'name':'sidecar'}]}}",
     "{'spec':{'containers':[]}}", FAIL, "/spec/containers/", NULL},
    {"exist: not a list", "{'spec':{'^(containers)':[{'name':'sidecar'}]}}",
     "{'spec':{'containers':'x'}}", FAIL, "/spec/containers/",
     "invalid resource type string: Existence ^ () anchor can be used only on list/array type "
     "resource"},
    {"exist: every pattern item must be found", "{'spec':{'^(c)':[{'name':'a'},{'name':'b'}]}}",
     "{'spec':{'c':[{'name':'a'}]}}", FAIL, "/spec/c/", NULL},
    {"exist: every pattern item found", "{'spec':{'^(c)':[{'name':'a'},{'name':'b'}]}}",
     "{'spec':{'c':[{'name':'b'},{'name':'a'}]}}", PASS, "", ""},

    /* ---- plain key '*', '?*', null and '' ---- */
    {"star: empty string is present", "{'metadata':{'labels':{'app':'*'}}}",
     "{'metadata':{'labels':{'app':''}}}", PASS, "", ""},
    {"star: missing key", "{'metadata':{'labels':{'app':'*'}}}", "{'metadata':{'labels':{}}}", FAIL,
     "/metadata/labels/", "/metadata/labels//app not found"},
    {"star: null value", "{'metadata':{'labels':{'app':'*'}}}",
     "{'metadata':{'labels':{'app':null}}}", FAIL, "/metadata/labels/", NULL},
    {"star: any type", "{'spec':{'replicas':'*'}}", "{'spec':{'replicas':0}}", PASS, "", ""},
    {"qstar: empty fails", "{'metadata':{'labels':{'app':'?*'}}}",
     "{'metadata':{'labels':{'app':''}}}", FAIL, "/metadata/labels/app/", NULL},
    {"qstar: non-empty passes", "{'metadata':{'labels':{'app':'?*'}}}",
     "{'metadata':{'labels':{'app':'x'}}}", PASS, "", ""},
    {"null: absent", "{'spec':{'hostNetwork':null}}", "{'spec':{}}", PASS, "", ""},
    {"null: false", "{'spec':{'hostNetwork':null}}", "{'spec':{'hostNetwork':false}}", PASS, "",
     ""},
    {"null: zero", "{'spec':{'n':null}}", "{'spec':{'n':0}}", PASS, "", ""},
    {"null: empty string", "{'spec':{'n':null}}", "{'spec':{'n':''}}", PASS, "", ""},
    {"null: true fails", "{'spec':{'hostNetwork':null}}", "{'spec':{'hostNetwork':true}}", FAIL,
     "/spec/hostNetwork/",
     "resource value 'true' does not match '<nil>' at path "
     "/spec/hostNetwork/"},
    {"null: a map fails", "{'spec':{'n':null}}", "{'spec':{'n':{}}}", FAIL, "/spec/n/",
     "resource value 'map[]' does not match '<nil>' at path /spec/n/"},
    {"empty string: empty passes", "{'spec':{'x':''}}", "{'spec':{'x':''}}", PASS, "", ""},
    {"empty string: missing fails (Kyverno's code, not its docs)", "{'spec':{'x':''}}",
     "{'spec':{}}", FAIL, "/spec/x/", NULL},

    /* ---- typed scalars ---- */
    {"bool: needs a bool", "{'spec':{'b':true}}", "{'spec':{'b':'true'}}", FAIL, "/spec/b/", NULL},
    {"bool: equal", "{'spec':{'b':false}}", "{'spec':{'b':false}}", PASS, "", ""},
    {"int: int", "{'spec':{'replicas':3}}", "{'spec':{'replicas':3}}", PASS, "", ""},
    {"int: integral float", "{'spec':{'replicas':3}}", "{'spec':{'replicas':3.0}}", PASS, "", ""},
    {"int: fractional float", "{'spec':{'replicas':3}}", "{'spec':{'replicas':3.5}}", FAIL,
     "/spec/replicas/", "resource value '3.5' does not match '3' at path /spec/replicas/"},
    {"int: numeric string", "{'spec':{'replicas':3}}", "{'spec':{'replicas':'3'}}", PASS, "", ""},
    {"int: non-numeric string", "{'spec':{'replicas':3}}", "{'spec':{'replicas':'three'}}", FAIL,
     "/spec/replicas/", NULL},
    {"int: missing", "{'spec':{'replicas':3}}", "{'spec':{}}", FAIL, "/spec/replicas/",
     "resource value '<nil>' does not match '3' at path /spec/replicas/"},
    {"int: bool", "{'spec':{'replicas':1}}", "{'spec':{'replicas':true}}", FAIL, "/spec/replicas/",
     NULL},
    {"float: equal", "{'spec':{'f':2.5}}", "{'spec':{'f':2.5}}", PASS, "", ""},
    {"float: string", "{'spec':{'f':2.5}}", "{'spec':{'f':'2.5'}}", PASS, "", ""},
    {"float: int never equals a fractional pattern", "{'spec':{'f':2.5}}", "{'spec':{'f':2}}", FAIL,
     "/spec/f/", NULL},
    {"float message uses Go %v", "{'spec':{'f':2.5}}", "{'spec':{'f':1.5e-5}}", FAIL, "/spec/f/",
     "resource value '1.5e-05' does not match '2.5' at path /spec/f/"},

    /* ---- operators inside patterns ---- */
    {"op: quantity limit", "{'spec':{'memory':'<=1Gi'}}", "{'spec':{'memory':'512Mi'}}", PASS, "",
     ""},
    {"op: quantity limit exceeded", "{'spec':{'memory':'<=1Gi'}}", "{'spec':{'memory':'2Gi'}}",
     FAIL, "/spec/memory/", "resource value '2Gi' does not match '<=1Gi' at path /spec/memory/"},
    {"op: missing value is 0 in the numeric path", "{'spec':{'replicas':'<5'}}", "{'spec':{}}",
     PASS, "", ""},
    {"op: missing value vs >", "{'spec':{'replicas':'>1'}}", "{'spec':{}}", FAIL, "/spec/replicas/",
     NULL},
    {"op: duration", "{'spec':{'ttl':'>=1h'}}", "{'spec':{'ttl':'90m'}}", PASS, "", ""},
    {"op: or of wildcards", "{'spec':{'img':'nginx:* | redis:*'}}", "{'spec':{'img':'redis:7'}}",
     PASS, "", ""},
    {"op: range", "{'spec':{'replicas':'1-3'}}", "{'spec':{'replicas':4}}", FAIL, "/spec/replicas/",
     NULL},

    /* ---- scalar pattern vs list resource: every element ---- */
    {"scalar vs list: all match", "{'spec':{'args':'--*'}}", "{'spec':{'args':['--a','--b']}}",
     PASS, "", ""},
    {"scalar vs list: one does not", "{'spec':{'args':'--*'}}", "{'spec':{'args':['--a','b']}}",
     FAIL, "/spec/args/", "resource value '[--a b]' does not match '--*' at path /spec/args/"},
    {"scalar vs empty list", "{'spec':{'args':'--*'}}", "{'spec':{'args':[]}}", PASS, "", ""},

    /* ---- list patterns ---- */
    {"list of maps: every element", "{'spec':{'containers':[{'image':'registry.io/*'}]}}",
     "{'spec':{'containers':[{'image':'registry.io/a'},{'image':'docker.io/b'}]}}", FAIL,
     "/spec/containers/1/image/",
     "resource value 'docker.io/b' does not match 'registry.io/*' at path "
     "/spec/containers/1/image/"},
    {"list of maps: all pass", "{'spec':{'containers':[{'image':'registry.io/*'}]}}",
     "{'spec':{'containers':[{'image':'registry.io/a'},{'image':'registry.io/b'}]}}", PASS, "", ""},
    {"list of maps: element not a map", "{'spec':{'containers':[{'image':'x'}]}}",
     "{'spec':{'containers':['x']}}", FAIL, "/spec/containers/0/",
     "~Expected map[string]interface {}, found string"},
    {"list of maps: conditional skips elements",
     "{'spec':{'containers':[{'(name)':'nginx','image':'nginx:1.*'}]}}",
     "{'spec':{'containers':[{'name':'app','image':'app:2'},{'name':'nginx','image':'nginx:1.25'}]}"
     "}",
     PASS, "", ""},
    {"list of maps: conditional element then fails",
     "{'spec':{'containers':[{'(name)':'nginx','image':'nginx:1.*'}]}}",
     "{'spec':{'containers':[{'name':'app','image':'app:2'},{'name':'nginx','image':'nginx:2'}]}}",
     FAIL, "/spec/containers/1/image/", NULL},
    {"list of maps: all elements skipped -> skip",
     "{'spec':{'containers':[{'(name)':'nginx','image':'nginx:1.*'}]}}",
     "{'spec':{'containers':[{'name':'a'},{'name':'b'}]}}", SKIP, "",
     "~conditional anchor mismatch: "},
    {"list of maps: empty resource list passes",
     "{'spec':{'containers':[{'(name)':'nginx','image':'nginx:1.*'}]}}",
     "{'spec':{'containers':[]}}", PASS, "", ""},
    {"list pattern vs map", "{'spec':{'containers':[{'name':'a'}]}}",
     "{'spec':{'containers':{'name':'a'}}}", FAIL, "/spec/containers/",
     "validation rule failed at path /spec/containers/, resource does not satisfy the expected "
     "overlay pattern"},
    {"list pattern vs missing", "{'spec':{'containers':[{'name':'a'}]}}", "{'spec':{}}", FAIL,
     "/spec/containers/", NULL},
    {"list of scalars: every element", "{'spec':{'ports':[80]}}", "{'spec':{'ports':[80,80]}}",
     PASS, "", ""},
    {"list of scalars: one differs", "{'spec':{'ports':[80]}}", "{'spec':{'ports':[80,443]}}", FAIL,
     "/spec/ports/", "resource value '[80 443]' does not match '80' at path /spec/ports/"},
    {"list of lists: element-wise", "{'m':[['a'],['b']]}", "{'m':[['a'],['b'],['c']]}", PASS, "",
     ""},
    {"list of lists: element mismatch", "{'m':[['a'],['b']]}", "{'m':[['a'],['x']]}", FAIL, "/m/1/",
     "resource value '[x]' does not match 'b' at path /m/1/"},
    {"list of lists: length mismatch is an error", "{'m':[['a'],['b']]}", "{'m':[['a']]}", ERROR,
     "",
     "validate Array failed, array length mismatch, resource Array len is 1 and pattern Array "
     "len is 2"},
    {"nested list paths",
     "{'spec':{'template':{'spec':{'containers':[{'ports':[{'hostPort':null}]}]}}}}",
     "{'spec':{'template':{'spec':{'containers':[{'ports':[{'hostPort':0}]},{'ports':[{},{'"
     "hostPort':8080}]}]}}}}",
     FAIL, "/spec/template/spec/containers/1/ports/1/hostPort/", NULL},

    /* ---- wildcard keys in metadata labels/annotations (ExpandInMetadata) ---- */
    {"meta wildcard: negation matches an expanded key",
     "{'metadata':{'labels':{'X(fluxcd.io/*)':'*?'}}}",
     "{'metadata':{'labels':{'app':'x','fluxcd.io/sync':'1'}}}", FAIL,
     "/metadata/labels/fluxcd.io/sync/",
     "negation anchor matched in resource: /metadata/labels/fluxcd.io/sync/ is not allowed"},
    {"meta wildcard: negation without a match passes",
     "{'metadata':{'labels':{'X(fluxcd.io/*)':'*?'}}}", "{'metadata':{'labels':{'app':'x'}}}", PASS,
     "", ""},
    {"meta wildcard: plain key takes the matching resource key",
     "{'metadata':{'annotations':{'team.io/*':'?*'}}}",
     "{'metadata':{'annotations':{'team.io/owner':''}}}", FAIL,
     "/metadata/annotations/team.io/owner/", NULL},
    {"meta wildcard: plain key matched and valid",
     "{'metadata':{'annotations':{'team.io/*':'?*'}}}",
     "{'metadata':{'annotations':{'team.io/owner':'ops'}}}", PASS, "", ""},
    {"meta wildcard: no resource key matches", "{'metadata':{'labels':{'team-*':'?*'}}}",
     "{'metadata':{'labels':{'app':'x'}}}", FAIL, "/metadata/labels/team-*/", NULL},
    {"meta wildcard: pod template metadata too",
     "{'spec':{'template':{'metadata':{'labels':{'X(debug-*)':'null'}}}}}",
     "{'spec':{'template':{'metadata':{'labels':{'debug-on':'1'}}}}}", FAIL,
     "/spec/template/metadata/labels/debug-on/", NULL},
    {"wildcard keys elsewhere are literal", "{'spec':{'X(a*)':'null'}}", "{'spec':{'ab':1}}", PASS,
     "", ""},

    /* ---- ordering: nested-anchor keys come first among plain keys ---- */
    {"order: key with nested anchors is evaluated first",
     "{'spec':{'a':'x','b':{'(c)':'y','d':'z'}}}", "{'spec':{'a':'wrong','b':{'c':'n'}}}", SKIP, "",
     NULL},
    {"order: plain keys sorted", "{'spec':{'b':'1','a':'1'}}", "{'spec':{'a':'2','b':'2'}}", FAIL,
     "/spec/a/", NULL},

    {"list of lists: every inner element skipped -> skip", "{'m':[[{'(a)':'x','b':'y'}]]}",
     "{'m':[[{'a':'z'},{'a':'w'}]]}", SKIP, "", "~; conditional anchor mismatch"},
    {"messages print maps like Go (sorted keys)", "{'spec':{'x':'a'}}",
     "{'spec':{'x':{'b':2,'a':[1,'s',true],'c':null,'d':{}}}}", FAIL, "/spec/x/",
     "resource value 'map[a:[1 s true] b:2 c:<nil> d:map[]]' does not match 'a' at path /spec/x/"},

    /* ---- top-level scalars and lists ---- */
    {"root scalar pattern", "'x'", "'x'", PASS, "", ""},
    {"root scalar mismatch", "'x'", "'y'", FAIL, "/",
     "resource value 'y' does not match 'x' at path /"},
    {"duplicate resource keys: the last wins (Go)", "{'a':'ok'}", "{'a':'ok','a':'bad'}", FAIL,
     "/a/", NULL},
};

/* Copies s replacing ' by " (the tables keep JSON readable). */
static cJSON *parse_q(const char *s)
{
    size_t n = strlen(s);
    char *t = malloc(n + 1);
    cJSON *j;
    size_t i;

    assert_non_null(t);
    for (i = 0; i <= n; i++) {
        t[i] = s[i] == '\'' ? '"' : s[i];
    }
    j = cJSON_Parse(t);
    free(t);
    if (j == NULL) {
        fail_msg("bad test JSON: %s", s);
    }
    return j;
}

static const char *status_name(enum pol_pat_status s)
{
    static const char *names[] = {"PASS", "FAIL", "SKIP", "ERROR"};

    return (unsigned)s < 4 ? names[s] : "?";
}

static void run_case(const struct pat_case *c)
{
    cJSON *pj = parse_q(c->pattern);
    cJSON *rj = parse_q(c->resource);
    struct pol_pattern *p = NULL;
    struct pol_pat_result res;
    struct cm_err err;

    if (pol_pattern_compile(pj, &p, NULL, &err) != 0) {
        fail_msg("%s: compile: %s", c->name, err.msg);
    }
    assert_int_equal(pol_pattern_eval(p, rj, &res), 0);
    if (res.status != c->status) {
        fail_msg("%s: want %s got %s (path '%s' msg '%s')", c->name, status_name(c->status),
                 status_name(res.status), res.path, res.msg);
    }
    if (c->path != NULL && strcmp(res.path, c->path) != 0) {
        fail_msg("%s: want path '%s' got '%s' (msg '%s')", c->name, c->path, res.path, res.msg);
    }
    if (c->msg != NULL) {
        bool ok =
            c->msg[0] == '~' ? strstr(res.msg, c->msg + 1) != NULL : strcmp(res.msg, c->msg) == 0;

        if (!ok) {
            fail_msg("%s: want msg '%s' got '%s'", c->name, c->msg, res.msg);
        }
    }
    pol_pattern_destroy(p);
    cJSON_Delete(pj);
    cJSON_Delete(rj);
}

static void test_pattern_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(pat_cases); i++) {
        run_case(&pat_cases[i]);
    }
}

struct bad_case {
    const char *pattern;
    int code;
    const char *msg;     /* contained in err.msg */
    const char *bad_key; /* the key of the node *bad points at, or NULL for the root */
};

static const struct bad_case bad_cases[] = {
    {"{'spec':{'+(x)':'y'}}", CM_ECONFIG, "mutate", "+(x)"},
    {"{'spec':{'list':[]}}", CM_ECONFIG, "pattern Array empty", "list"},
    {"{'spec':{'^(c)':{'name':'a'}}}", CM_ECONFIG, "existence anchor", "^(c)"},
    {"{'spec':{'^(c)':['a']}}", CM_ECONFIG, "must be a map", NULL},
    {"{'spec':{'^(c)':[]}}", CM_ECONFIG, "existence anchor", "^(c)"},
    {"{'metadata':{'labels':{'x':'a\\u00ff'}}}", 0, NULL, NULL}, /* valid UTF-8 is fine */
};

static void test_pattern_compile_errors(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(bad_cases); i++) {
        const struct bad_case *c = &bad_cases[i];
        cJSON *pj = parse_q(c->pattern);
        struct pol_pattern *p = NULL;
        const cJSON *bad = NULL;
        struct cm_err err;
        int rc = pol_pattern_compile(pj, &p, &bad, &err);

        if (rc != c->code) {
            fail_msg("%s: want %d got %d (%s)", c->pattern, c->code, rc, rc ? err.msg : "");
        }
        if (rc != 0) {
            assert_null(p);
            assert_int_equal(err.code, c->code);
            assert_non_null(strstr(err.msg, c->msg));
            assert_non_null(bad);
            if (c->bad_key != NULL) {
                assert_non_null(bad->string);
                assert_string_equal(bad->string, c->bad_key);
            }
        }
        pol_pattern_destroy(p);
        cJSON_Delete(pj);
    }
}

static void test_pattern_invalid_utf8(void **state)
{
    cJSON *pj = cJSON_CreateObject();
    struct pol_pattern *p = NULL;
    const cJSON *bad = NULL;
    struct cm_err err;

    (void)state;
    assert_non_null(cJSON_AddStringToObject(pj, "x", "a\xff"));
    assert_int_equal(pol_pattern_compile(pj, &p, &bad, &err), CM_ECONFIG);
    assert_ptr_equal(bad, cJSON_GetObjectItem(pj, "x"));
    assert_non_null(strstr(err.msg, "UTF-8"));
    cJSON_Delete(pj);
    assert_int_equal(pol_pattern_compile(NULL, &p, &bad, &err), CM_ECONFIG);
}

/* Nested maps {"a":{"a":...}} n deep with a scalar at the bottom. */
static cJSON *nest(int n, const char *leaf)
{
    cJSON *v = cJSON_CreateString(leaf);
    int i;

    for (i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();

        cJSON_AddItemToObject(o, "a", v);
        v = o;
    }
    return v;
}

static void test_pattern_depth_limit(void **state)
{
    cJSON *pj = nest(POLICY_MAX_DEPTH, "x");
    cJSON *rj = nest(POLICY_MAX_DEPTH, "x");
    struct pol_pattern *p = NULL;
    struct pol_pat_result res;
    struct cm_err err;
    const cJSON *bad = NULL;

    (void)state;
    /* exactly the limit compiles and evaluates */
    assert_int_equal(pol_pattern_compile(pj, &p, NULL, &err), 0);
    assert_int_equal(pol_pattern_eval(p, rj, &res), 0);
    assert_int_equal(res.status, PASS);
    pol_pattern_destroy(p);
    p = NULL;
    cJSON_Delete(pj);
    /* limit + 1 is refused */
    pj = nest(POLICY_MAX_DEPTH + 1, "x");
    assert_int_equal(pol_pattern_compile(pj, &p, &bad, &err), CM_ETOOBIG);
    assert_null(p);
    assert_non_null(bad);
    assert_non_null(strstr(err.msg, "deeper"));
    cJSON_Delete(pj);
    /* a resource deeper than any limit is fine: only the pattern's depth is walked */
    pj = nest(2, "x");
    cJSON_Delete(rj);
    rj = nest(5000, "x");
    assert_int_equal(pol_pattern_compile(pj, &p, NULL, &err), 0);
    assert_int_equal(pol_pattern_eval(p, rj, &res), 0);
    assert_int_equal(res.status, FAIL); /* {"a":{"a":"x"}} vs a deep map: a map, not "x" */
    assert_non_null(strstr(res.msg, "..."));
    pol_pattern_destroy(p);
    cJSON_Delete(pj);
    cJSON_Delete(rj);
}

static void test_pattern_string_limit(void **state)
{
    char *s = malloc(POLICY_MAX_STRING + 2);
    cJSON *pj;
    struct pol_pattern *p = NULL;
    struct cm_err err;

    (void)state;
    assert_non_null(s);
    memset(s, 'a', POLICY_MAX_STRING + 1);
    s[POLICY_MAX_STRING] = '\0';
    pj = cJSON_CreateObject();
    cJSON_AddStringToObject(pj, "k", s);
    assert_int_equal(pol_pattern_compile(pj, &p, NULL, &err), 0);
    pol_pattern_destroy(p);
    p = NULL;
    cJSON_Delete(pj);
    s[POLICY_MAX_STRING] = 'a';
    s[POLICY_MAX_STRING + 1] = '\0';
    pj = cJSON_CreateObject();
    cJSON_AddStringToObject(pj, "k", s);
    assert_int_equal(pol_pattern_compile(pj, &p, NULL, &err), CM_ETOOBIG);
    assert_null(p);
    cJSON_Delete(pj);
    /* the same for keys */
    pj = cJSON_CreateObject();
    cJSON_AddStringToObject(pj, s, "v");
    assert_int_equal(pol_pattern_compile(pj, &p, NULL, &err), CM_ETOOBIG);
    cJSON_Delete(pj);
    s[POLICY_MAX_STRING] = '\0';
    pj = cJSON_CreateObject();
    cJSON_AddStringToObject(pj, s, "v");
    assert_int_equal(pol_pattern_compile(pj, &p, NULL, &err), 0);
    pol_pattern_destroy(p);
    cJSON_Delete(pj);
    free(s);
}

/* Long paths are cut to the buffer, never overflowed. */
static void test_pattern_long_path(void **state)
{
    char key[300];
    cJSON *pj = cJSON_CreateObject();
    cJSON *rj = cJSON_CreateObject();
    cJSON *pin = cJSON_CreateObject();
    cJSON *rin = cJSON_CreateObject();
    struct pol_pattern *p = NULL;
    struct pol_pat_result res;

    (void)state;
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    cJSON_AddStringToObject(pin, key, "x");
    cJSON_AddStringToObject(rin, key, "y");
    cJSON_AddItemToObject(pj, key, pin);
    cJSON_AddItemToObject(rj, key, rin);
    assert_int_equal(pol_pattern_compile(pj, &p, NULL, NULL), 0);
    assert_int_equal(pol_pattern_eval(p, rj, &res), 0);
    assert_int_equal(res.status, FAIL);
    assert_int_equal(strlen(res.path), sizeof(res.path) - 1);
    assert_true(strlen(res.msg) < sizeof(res.msg));
    pol_pattern_destroy(p);
    cJSON_Delete(pj);
    cJSON_Delete(rj);
}

/* OOM loop: fail allocation N for N = 1, 2, ... until compile succeeds. */
static void test_pattern_oom(void **state)
{
    static const char *pats[] = {
        GUARD,
        "{'metadata':{'labels':{'X(fluxcd.io/*)':'*?'},'annotations':{'a*b?c':'1-10|>=1Gi'}},"
        "'spec':{'^(containers)':[{'name':'a'}],'(x)':null,'<(y)':[true,1,2.5],'z':[{'a':'b'}]}}",
    };
    size_t i;

    (void)state;
    for (i = 0; i < CM_ARRAY_LEN(pats); i++) {
        cJSON *pj = parse_q(pats[i]);
        long n;
        bool done = false;

        for (n = 1; n < 10000 && !done; n++) {
            struct pol_pattern *p = NULL;
            struct cm_err err;
            int rc;

            cm_alloc_fault_set(n);
            rc = pol_pattern_compile(pj, &p, NULL, &err);
            cm_alloc_fault_set(0);
            if (rc == 0) {
                pol_pattern_destroy(p);
                done = true;
            } else {
                assert_int_equal(rc, CM_ENOMEM);
                assert_int_equal(err.code, CM_ENOMEM);
                assert_null(p);
            }
        }
        assert_true(done);
        cJSON_Delete(pj);
    }
}

/* Evaluation never allocates: arm the fault injector and check it never fires, on the
 * pass path and on the failure path (messages go to fixed buffers). */
static void test_pattern_eval_no_alloc(void **state)
{
    cJSON *pj = parse_q(GUARD);
    cJSON *good = parse_q("{'metadata':{'labels':{'purpose':'production',"
                          "'dataprotection':'k10-gold','immutable':'enabled'}}}");
    cJSON *bad = parse_q("{'metadata':{'labels':{'dataprotection':'gold'}}}");
    struct pol_pattern *p = NULL;
    struct pol_pat_result res;

    (void)state;
    assert_int_equal(pol_pattern_compile(pj, &p, NULL, NULL), 0);
    cm_alloc_fault_set(1);
    assert_int_equal(pol_pattern_eval(p, good, &res), 0);
    assert_int_equal(res.status, PASS);
    assert_int_equal(pol_pattern_eval(p, bad, &res), 0);
    assert_int_equal(res.status, FAIL);
    assert_false(cm_alloc_fault_fired());
    cm_alloc_fault_set(0);
    pol_pattern_destroy(p);
    pol_pattern_destroy(NULL);
    cJSON_Delete(pj);
    cJSON_Delete(good);
    cJSON_Delete(bad);
}

struct thread_arg {
    const struct pol_pattern *p;
    const cJSON *good;
    const cJSON *bad;
    int failures;
};

static void *eval_thread(void *ctx)
{
    struct thread_arg *a = ctx;
    int i;

    for (i = 0; i < 2000; i++) {
        struct pol_pat_result res;

        if (pol_pattern_eval(a->p, a->good, &res) != 0 || res.status != PASS) {
            a->failures++;
        }
        if (pol_pattern_eval(a->p, a->bad, &res) != 0 || res.status != FAIL ||
            strcmp(res.path, "/metadata/labels/dataprotection/") != 0) {
            a->failures++;
        }
    }
    return NULL;
}

/* One compiled pattern shared by threads, each with its own result (run under
 * `make check SAN=thread` too). */
static void test_pattern_threads(void **state)
{
    cJSON *pj = parse_q("{'metadata':{'labels':{'dataprotection':'k10-?*','team':'a*b*c'}}}");
    cJSON *good = parse_q("{'metadata':{'labels':{'dataprotection':'k10-x','team':'aXbYc'}}}");
    cJSON *bad = parse_q("{'metadata':{'labels':{'dataprotection':'x','team':'abc'}}}");
    struct pol_pattern *p = NULL;
    struct thread_arg args[4];
    pthread_t th[4];
    size_t i;

    (void)state;
    assert_int_equal(pol_pattern_compile(pj, &p, NULL, NULL), 0);
    for (i = 0; i < CM_ARRAY_LEN(th); i++) {
        args[i].p = p;
        args[i].good = good;
        args[i].bad = bad;
        args[i].failures = 0;
        assert_int_equal(pthread_create(&th[i], NULL, eval_thread, &args[i]), 0);
    }
    for (i = 0; i < CM_ARRAY_LEN(th); i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(args[i].failures, 0);
    }
    pol_pattern_destroy(p);
    cJSON_Delete(pj);
    cJSON_Delete(good);
    cJSON_Delete(bad);
}

static void test_pattern_invalid_utf8_key(void **state)
{
    cJSON *pj = parse_q("{'metadata':{'labels':{}}}");
    cJSON *labels = cJSON_GetObjectItem(cJSON_GetObjectItem(pj, "metadata"), "labels");
    struct pol_pattern *p = NULL;
    struct cm_err err;

    (void)state;
    assert_non_null(cJSON_AddStringToObject(labels, "team-*\xff", "x"));
    assert_int_equal(pol_pattern_compile(pj, &p, NULL, &err), CM_ECONFIG);
    assert_int_equal(err.code, CM_ECONFIG);
    assert_null(p);
    cJSON_Delete(pj);
}

static int setup_hooks(void **state)
{
    cJSON_Hooks hooks = {cm_malloc, cm_free};

    (void)state;
    cJSON_InitHooks(&hooks);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pattern_table),
        cmocka_unit_test(test_pattern_compile_errors),
        cmocka_unit_test(test_pattern_invalid_utf8),
        cmocka_unit_test(test_pattern_depth_limit),
        cmocka_unit_test(test_pattern_string_limit),
        cmocka_unit_test(test_pattern_long_path),
        cmocka_unit_test(test_pattern_oom),
        cmocka_unit_test(test_pattern_eval_no_alloc),
        cmocka_unit_test(test_pattern_threads),
        cmocka_unit_test(test_pattern_invalid_utf8_key),
    };

    return cmocka_run_group_tests(tests, setup_hooks, NULL);
}
