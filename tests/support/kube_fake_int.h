/* SPDX-License-Identifier: Apache-2.0 */
/* kube_fake_int.h - internals of the fake kube-apiserver shared by fake_kube.c (HTTP,
 * auth, faults, log), kube_fake_types.c (resource types and discovery documents) and
 * kube_fake_store.c (objects, selectors, patches, lists, VolumeSnapshots).
 *
 * The fake allocates with malloc (never cm_malloc), so allocation-fault tests in the
 * test thread do not hit it; its cJSON trees go through cJSON's hooks. All store
 * functions expect the caller to hold fake_kube.mu. */
#ifndef TESTS_SUPPORT_KUBE_FAKE_INT_H
#define TESTS_SUPPORT_KUBE_FAKE_INT_H

#include "fake_kube.h"

#include "common/cm.h"

#include <pthread.h>
#include <stdint.h>

#define FK_NAME 256
#define FK_MAX_RULES 64
#define FK_MAX_BODY (16u << 20) /* request bodies and seed files */

/* A resource type the fake serves. */
struct fk_type {
    char group[FK_NAME];
    char version[64];     /* the preferred (storage) version */
    char versions[4][64]; /* served versions (CRDs may serve several) */
    size_t nversions;
    char plural[FK_NAME];
    char singular[FK_NAME];
    char kind[FK_NAME];
    bool namespaced;
    bool builtin;
    const char *const *subresources; /* NULL-terminated names listed in discovery */
};

struct fk_obj {
    char group[FK_NAME];
    char plural[FK_NAME];
    char ns[FK_NAME];
    char name[FK_NAME];
    cJSON *obj;
    /* The object as a list item (compact JSON, without apiVersion/kind for built-in
     * types), serialised once and reused by every list until the object changes, as
     * the real apiserver's watch cache keeps serialised objects. malloc'd; NULL = not
     * cached. Whoever changes obj calls fk_obj_changed(). */
    char *item_json;
    size_t item_len;
    /* VolumeSnapshots: GETs left before ready; -1 = not pending. */
    long snap_gets_left;
};

struct fk_fail {
    char key[FK_NAME];
    char message[512];
};

struct fk_rule {
    char *method;
    char *path;
    char *query;
    enum fake_kube_fault fault;
    unsigned count;
    bool unlimited;
    unsigned retry_after_s;
};

struct fake_kube {
    pthread_mutex_t mu;
    struct MHD_Daemon *daemon;
    unsigned port;
    char url[64];
    bool tls;
    char *cert_pem;
    char *key_pem;
    char *ca_pem;
    char *client_cert_pem;
    char *client_key_pem;
    char *client_ca_pem;
    char *token;
    bool require_client_cert;
    /* store */
    struct fk_obj *objs;
    size_t nobjs;
    size_t capobjs;
    uint64_t rv;
    uint64_t compacted_rv;
    uint64_t uid_seq;
    unsigned snap_ready_after;
    struct fk_fail *fails;
    size_t nfails;
    /* faults, log, counters */
    struct fk_rule rules[FK_MAX_RULES];
    size_t nrules;
    struct fake_kube_request *log;
    size_t nlog;
    size_t caplog;
    size_t verb_counts[8];
};

/* ---- helpers (kube_fake_api.c) ---- */

/* malloc'd copy, NULL for NULL or on OOM. */
char *fk_xstrdup(const char *s);
/* Index of a Kubernetes verb in fake_kube.verb_counts, or -1. */
int fk_verb_index(const char *verb);
/* Frees every fault rule (mutex held). */
void fk_free_rules(struct fake_kube *s);

/* ---- types (kube_fake_types.c) ---- */

/* Finds a type by group and plural (version NULL = any served version, else it must
 * be served). Built-ins first, then CRDs in the store. Returns false when none. */
bool fk_type_find(const struct fake_kube *s, const char *group, const char *version,
                  const char *plural, struct fk_type *out);
/* By group and kind or plural. */
bool fk_type_find_kind(const struct fake_kube *s, const char *group, const char *kind_or_plural,
                       struct fk_type *out);
/* Discovery documents; NULL when the group/version is unknown. Caller frees. */
cJSON *fk_disc_api(const struct fake_kube *s);
cJSON *fk_disc_apis(const struct fake_kube *s);
cJSON *fk_disc_group(const struct fake_kube *s, const char *group);
cJSON *fk_disc_resources(const struct fake_kube *s, const char *group, const char *version);
cJSON *fk_disc_version(void);

/* ---- store (kube_fake_store.c) ---- */

struct fk_result;

/* A metav1.Status failure body. */
cJSON *fk_status(int code, const char *reason, const char *message);
/* Fills r with status code and a Status body (reason, formatted message). */
void fk_set_error(struct fk_result *r, int code, const char *reason, const char *fmt, ...)
    CM_PRINTF(4, 5);
/* "deployments.apps" or "pods". */
void fk_qualified(const struct fk_type *t, char *buf, size_t len);

/* The result of one store operation: HTTP status and body (owned by the caller). */
struct fk_result {
    int status;
    cJSON *body;
    unsigned retry_after_s;
    /* Instead of body: a response already serialised (malloc'd; sent and freed by the
     * HTTP layer). Lists use it so that a page is a concatenation of cached items. */
    char *text;
    size_t text_len;
};

struct fk_list_q {
    const char *label_selector;
    const char *field_selector;
    const char *limit;
    const char *cont;
};

void fk_store_list(struct fake_kube *s, const struct fk_type *t, const char *ns,
                   const struct fk_list_q *q, struct fk_result *r);
void fk_store_get(struct fake_kube *s, const struct fk_type *t, const char *ns, const char *name,
                  struct fk_result *r);
void fk_store_create(struct fake_kube *s, const struct fk_type *t, const char *ns, const char *body,
                     size_t len, struct fk_result *r);
void fk_store_update(struct fake_kube *s, const struct fk_type *t, const char *ns, const char *name,
                     const char *body, size_t len, bool status_only, struct fk_result *r);
void fk_store_patch(struct fake_kube *s, const struct fk_type *t, const char *ns, const char *name,
                    const char *ctype, const char *body, size_t len, bool status_only,
                    struct fk_result *r);
void fk_store_delete(struct fake_kube *s, const struct fk_type *t, const char *ns, const char *name,
                     struct fk_result *r);
/* Adds or replaces a seed object (copied). Returns 0 or -1 with a reason on stderr. */
int fk_store_add(struct fake_kube *s, const cJSON *obj);
struct fk_obj *fk_store_find(struct fake_kube *s, const char *group, const char *plural,
                             const char *ns, const char *name);
void fk_store_remove(struct fake_kube *s, struct fk_obj *o);
/* Drops o's cached list-item JSON: call after any change to o->obj. */
void fk_obj_changed(struct fk_obj *o);
void fk_store_free(struct fake_kube *s);

/* ---- patches (kube_fake_patch.c) ---- */

/* RFC 7386: merges patch into target (consumed); returns the result or NULL (OOM). */
cJSON *fk_merge_patch(cJSON *target, const cJSON *patch);
/* RFC 6902: applies ops to doc in place. Returns 0, or -1 with msg (doc then partly
 * changed: apply to a copy). */
int fk_json_patch(cJSON *doc, const cJSON *ops, char *msg, size_t len);

/* Label selector matching (exposed for unit tests): returns 1 match, 0 no match, -1
 * parse error (msg filled). labels may be NULL. */
int fk_label_match(const char *selector, const cJSON *labels, char *msg, size_t msglen);

#endif /* TESTS_SUPPORT_KUBE_FAKE_INT_H */
