/* SPDX-License-Identifier: Apache-2.0 */
/* kube_jt.h - JSON by byte span: one strict validating pass over a response body
 * records each value's span in a flat array (a "tape"), without copying, decoding or
 * allocating per value. A capture stores every object byte-for-byte as the API server
 * serialised it, minus the members it strips: numbers keep every digit (a tree of
 * doubles would round integers above 2^53), and nothing is parsed into a tree and
 * printed again.
 *
 * Design note
 * - Grammar: RFC 8259, strictly, plus what kube_json_parse() needs for cJSON to
 *   accept the same text: numbers of at most 63 characters, no lone surrogate
 *   escapes. Nesting is capped by the caller (KUBE_MAX_JSON_DEPTH for responses).
 * - Nodes are numbered in document order; the root is node 0. A container's first
 *   child, when it has one, is the next node; siblings chain through `next` (0 ends
 *   the chain: the root is never anyone's sibling). Object members carry their key's
 *   span, quotes included.
 * - Editing: kube_jt_drop() marks a member (or element) as removed and its ancestors
 *   as changed; kube_jt_emit() writes a node back, copying untouched subtrees
 *   verbatim and rewriting changed containers compactly. The source text is never
 *   modified.
 * - Memory: 28 bytes per value, in one array that a tape keeps across parses (a
 *   list's pages reuse it); at most KUBE_JT_MAX_NODES values per document.
 * Not thread-safe; the source text must outlive the tape's use. */
#ifndef BACKUP_KUBE_KUBE_JT_H
#define BACKUP_KUBE_KUBE_JT_H

#include "common/cm.h"

#define KUBE_JT_MAX_NODES (2u << 20)

enum kube_jt_type {
    KUBE_JT_OBJECT = 1,
    KUBE_JT_ARRAY,
    KUBE_JT_STRING,
    KUBE_JT_NUMBER,
    KUBE_JT_TRUE,
    KUBE_JT_FALSE,
    KUBE_JT_NULL
};

struct kube_jt_node {
    uint32_t start; /* the value is s[start, end) */
    uint32_t end;
    uint32_t key;     /* an object member: its key's opening quote; else 0 */
    uint32_t key_end; /* one past the key's closing quote */
    uint32_t parent;  /* the containing node (the root: 0) */
    uint32_t next;    /* next sibling; 0 for the last */
    uint8_t type;     /* enum kube_jt_type */
    uint8_t flags;    /* KUBE_JT_F_* */
};

#define KUBE_JT_F_ESC 1u     /* the string value holds a backslash escape */
#define KUBE_JT_F_KEY_ESC 2u /* the key holds a backslash escape */
#define KUBE_JT_F_DROP 4u    /* removed by kube_jt_drop() */
#define KUBE_JT_F_DIRTY 8u   /* a descendant was removed */

struct kube_jt {
    const char *s;
    size_t len;
    struct kube_jt_node *n;
    uint32_t count;
    uint32_t cap_;
};

/* Where and why a parse failed (for an error message). */
struct kube_jt_error {
    size_t offset;
    bool too_deep;
    bool too_many; /* more than KUBE_JT_MAX_NODES values */
    bool trailing; /* a whole value, then more than whitespace */
};

/* An empty tape. Cannot fail. */
void kube_jt_init(struct kube_jt *t);
void kube_jt_free(struct kube_jt *t);

/* Parses s[0, len) (need not be NUL-terminated; at most UINT32_MAX - 1 bytes): one
 * value and optional whitespace around it. t == NULL only validates. Returns 0,
 * CM_EPARSE (invalid JSON: e says where; also too deep or too many values) or
 * CM_ENOMEM; on failure the tape is empty. */
CM_NODISCARD int kube_jt_parse(struct kube_jt *t, const char *s, size_t len, unsigned max_depth,
                               struct kube_jt_error *e);

/* The first child of container i, or 0 when it has none (or i is not a container). */
uint32_t kube_jt_first(const struct kube_jt *t, uint32_t i);
/* The value of member key in object i, or 0 (absent, or i is not an object). Keys
 * are compared after unescaping; the first match wins. */
uint32_t kube_jt_get(const struct kube_jt *t, uint32_t i, const char *key);
/* Whether node i is an object member whose key (unescaped) is key. */
bool kube_jt_key_eq(const struct kube_jt *t, uint32_t i, const char *key);
/* Whether node i is a string equal (after unescaping) to lit. */
bool kube_jt_str_eq(const struct kube_jt *t, uint32_t i, const char *lit);
/* Node i's string, unescaped to UTF-8 and NUL-terminated, into buf[0, cap). Returns
 * 0, CM_EINVAL (i is not a string), CM_ETOOBIG (does not fit) or CM_EPARSE (it holds
 * U+0000, which cannot be a C string). */
CM_NODISCARD int kube_jt_str(const struct kube_jt *t, uint32_t i, char *buf, size_t cap);

/* Marks node i (a member or an element, never the root) as removed. */
void kube_jt_drop(struct kube_jt *t, uint32_t i);
/* Appends node i to out: verbatim when nothing in it was removed and head is NULL,
 * else rebuilt without the removed nodes and without whitespace in the rebuilt
 * containers. head (object i only; may be NULL) is text of members to put first,
 * e.g. "\"kind\":\"ConfigMap\"". Returns 0 or the cm_buf_add codes. */
CM_NODISCARD int kube_jt_emit(const struct kube_jt *t, uint32_t i, const char *head,
                              struct cm_buf *out);

#endif /* BACKUP_KUBE_KUBE_JT_H */
