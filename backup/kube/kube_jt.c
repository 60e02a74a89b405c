/* SPDX-License-Identifier: Apache-2.0 */
/* kube_jt.c - JSON by byte span (see kube_jt.h): the strict validating parser that
 * records the tape, lookups that unescape only when a key or string has escapes, and
 * the emitter that copies untouched subtrees verbatim. */
#include "backup/kube/kube_jt.h"

#include <string.h>

struct jp {
    struct kube_jt *t; /* NULL: validate only */
    const char *s;
    size_t n;
    size_t i;
    unsigned depth;
    unsigned max_depth;
    uint32_t nodes;
    bool too_deep;
    bool too_many;
    bool oom;
};

void kube_jt_init(struct kube_jt *t)
{
    memset(t, 0, sizeof(*t));
}

void kube_jt_free(struct kube_jt *t)
{
    if (t == NULL)
        return;
    cm_free(t->n);
    kube_jt_init(t);
}

/* A new node (its fields filled by the caller), or UINT32_MAX when the tape is full
 * or memory ran out. Validation counts nodes without storing them. */
static uint32_t node_new(struct jp *p, uint8_t type, uint32_t parent)
{
    struct kube_jt *t = p->t;
    struct kube_jt_node *nd;

    if (p->nodes >= KUBE_JT_MAX_NODES) {
        p->too_many = true;
        return UINT32_MAX;
    }
    if (t == NULL)
        return p->nodes++;
    if (t->count == t->cap_) {
        uint32_t nc = t->cap_ ? t->cap_ * 2 : 1024;
        void *nn;

        if (nc > KUBE_JT_MAX_NODES)
            nc = KUBE_JT_MAX_NODES;
        nn = cm_realloc(t->n, (size_t)nc * sizeof(*t->n));
        if (nn == NULL) {
            p->oom = true;
            return UINT32_MAX;
        }
        t->n = nn;
        t->cap_ = nc;
    }
    nd = &t->n[t->count];
    memset(nd, 0, sizeof(*nd));
    nd->type = type;
    nd->parent = parent;
    nd->start = (uint32_t)p->i;
    p->nodes++;
    return t->count++;
}

static void skip_ws(struct jp *p)
{
    while (p->i < p->n &&
           (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
        p->i++;
}

/* Whether any of the 8 bytes is '"', '\\' or below 0x20 (false positives only in
 * bytes after a true one, which the byte loop then sorts out). */
static bool special8(const char *s)
{
    const uint64_t ones = 0x0101010101010101ull;
    const uint64_t high = 0x8080808080808080ull;
    uint64_t v, q, b;

    memcpy(&v, s, 8);
    q = v ^ (ones * '"');
    b = v ^ (ones * '\\');
    return (((q - ones) & ~q) | ((b - ones) & ~b) | ((v - ones * 0x20) & ~v)) & high;
}

/* The value of the 4 hex digits at s (avail bytes there), or -1. */
static long hex4_at(const char *s, size_t avail)
{
    long x = 0;
    int k;

    if (avail < 4)
        return -1;
    for (k = 0; k < 4; k++) {
        int h = cm_hexval(s[k]);

        if (h < 0)
            return -1;
        x = x * 16 + h;
    }
    return x;
}

/* The 4 hex digits after "\u" at p->i (consumed), or -1. */
static long hex4(struct jp *p)
{
    long x = hex4_at(p->s + p->i, p->n - p->i);

    if (x >= 0)
        p->i += 4;
    return x;
}

/* A string at p->i (the opening quote); sets *esc when it holds an escape. */
static bool scan_string(struct jp *p, bool *esc)
{
    p->i++;
    for (;;) {
        unsigned char ch;

        while (p->n - p->i >= 8 && !special8(p->s + p->i))
            p->i += 8;
        if (p->i >= p->n)
            return false;
        ch = (unsigned char)p->s[p->i++];
        if (ch == '"')
            return true;
        if (ch < 0x20)
            return false;
        if (ch != '\\')
            continue;
        *esc = true;
        if (p->i >= p->n)
            return false;
        ch = (unsigned char)p->s[p->i++];
        if (ch == 'u') {
            long u = hex4(p);

            if (u < 0 || (u >= 0xDC00 && u <= 0xDFFF))
                return false; /* cJSON refuses a lone low surrogate */
            if (u >= 0xD800 && u <= 0xDBFF) {
                long lo;

                /* ... and wants the low half right after the high half. */
                if (p->n - p->i < 2 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u')
                    return false;
                p->i += 2;
                lo = hex4(p);
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return false;
            }
        } else if (ch == '\0' || strchr("\"\\/bfnrt", (int)ch) == NULL) {
            return false;
        }
    }
}

static bool digits(struct jp *p)
{
    size_t start = p->i;

    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
        p->i++;
    return p->i > start;
}

/* cJSON copies at most 63 characters of a number: longer ones are refused so that a
 * cJSON failure on text that passed here can only mean memory. */
static bool scan_number(struct jp *p)
{
    size_t start = p->i;

    if (p->s[p->i] == '-')
        p->i++;
    if (p->i < p->n && p->s[p->i] == '0')
        p->i++;
    else if (!digits(p))
        return false;
    if (p->i < p->n && p->s[p->i] == '.') {
        p->i++;
        if (!digits(p))
            return false;
    }
    if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        p->i++;
        if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
            p->i++;
        if (!digits(p))
            return false;
    }
    return p->i - start <= 63;
}

static bool literal(struct jp *p, const char *lit, size_t l)
{
    if (p->n - p->i < l || memcmp(p->s + p->i, lit, l) != 0)
        return false;
    p->i += l;
    return true;
}

static bool value(struct jp *p, uint32_t parent, uint32_t *out);

static bool container(struct jp *p, uint32_t self, char close)
{
    uint32_t prev = UINT32_MAX;

    if (++p->depth > p->max_depth) {
        p->too_deep = true;
        return false;
    }
    p->i++;
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == close) {
        p->i++;
        p->depth--;
        return true;
    }
    for (;;) {
        size_t key = 0, key_end = 0;
        bool kesc = false;
        uint32_t v;

        skip_ws(p);
        if (p->i >= p->n)
            return false;
        if (close == '}') {
            key = p->i;
            if (p->s[p->i] != '"' || !scan_string(p, &kesc))
                return false;
            key_end = p->i;
            skip_ws(p);
            if (p->i >= p->n || p->s[p->i] != ':')
                return false;
            p->i++;
            skip_ws(p);
        }
        if (!value(p, self, &v))
            return false;
        if (p->t != NULL) {
            struct kube_jt_node *nd = &p->t->n[v];

            nd->key = (uint32_t)key;
            nd->key_end = (uint32_t)key_end;
            if (kesc)
                nd->flags |= KUBE_JT_F_KEY_ESC;
            if (prev != UINT32_MAX)
                p->t->n[prev].next = v;
        }
        prev = v;
        skip_ws(p);
        if (p->i >= p->n)
            return false;
        if (p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->s[p->i] != close)
            return false;
        p->i++;
        break;
    }
    p->depth--;
    return true;
}

/* A value at p->i (whitespace already skipped); *out gets its node. */
static bool value(struct jp *p, uint32_t parent, uint32_t *out)
{
    uint8_t type;
    uint32_t self;
    bool ok, esc = false;

    if (p->i >= p->n)
        return false;
    switch (p->s[p->i]) {
    case '{':
        type = KUBE_JT_OBJECT;
        break;
    case '[':
        type = KUBE_JT_ARRAY;
        break;
    case '"':
        type = KUBE_JT_STRING;
        break;
    case 't':
        type = KUBE_JT_TRUE;
        break;
    case 'f':
        type = KUBE_JT_FALSE;
        break;
    case 'n':
        type = KUBE_JT_NULL;
        break;
    default:
        if (p->s[p->i] != '-' && (p->s[p->i] < '0' || p->s[p->i] > '9'))
            return false;
        type = KUBE_JT_NUMBER;
        break;
    }
    self = node_new(p, type, parent);
    if (self == UINT32_MAX)
        return false;
    switch (type) {
    case KUBE_JT_OBJECT:
        ok = container(p, self, '}');
        break;
    case KUBE_JT_ARRAY:
        ok = container(p, self, ']');
        break;
    case KUBE_JT_STRING:
        ok = scan_string(p, &esc);
        break;
    case KUBE_JT_TRUE:
        ok = literal(p, "true", 4);
        break;
    case KUBE_JT_FALSE:
        ok = literal(p, "false", 5);
        break;
    case KUBE_JT_NULL:
        ok = literal(p, "null", 4);
        break;
    default:
        ok = scan_number(p);
        break;
    }
    if (ok && p->t != NULL) {
        p->t->n[self].end = (uint32_t)p->i;
        if (esc)
            p->t->n[self].flags |= KUBE_JT_F_ESC;
    }
    *out = self;
    return ok;
}

int kube_jt_parse(struct kube_jt *t, const char *s, size_t len, unsigned max_depth,
                  struct kube_jt_error *e)
{
    struct jp p;
    uint32_t root = 0;
    bool ok, trailing = false;

    memset(&p, 0, sizeof(p));
    p.t = t;
    p.s = s;
    p.n = len;
    p.max_depth = max_depth;
    if (t != NULL) {
        t->count = 0;
        t->s = s;
        t->len = len;
    }
    if (e != NULL)
        memset(e, 0, sizeof(*e));
    if (len >= UINT32_MAX) {
        p.too_many = true;
        ok = false;
    } else {
        skip_ws(&p);
        ok = value(&p, 0, &root);
        skip_ws(&p);
        if (ok && p.i != len) {
            trailing = true;
            ok = false;
        }
    }
    if (ok)
        return 0;
    if (t != NULL)
        t->count = 0;
    if (p.oom)
        return CM_ENOMEM;
    if (e != NULL) {
        e->offset = p.i;
        e->too_deep = p.too_deep;
        e->too_many = p.too_many;
        e->trailing = trailing;
    }
    return CM_EPARSE;
}

uint32_t kube_jt_first(const struct kube_jt *t, uint32_t i)
{
    const struct kube_jt_node *nd;

    if (i + 1 >= t->count)
        return 0;
    nd = &t->n[i];
    if (nd->type != KUBE_JT_OBJECT && nd->type != KUBE_JT_ARRAY)
        return 0;
    return t->n[i + 1].parent == i ? i + 1 : 0;
}

/* Unescapes the validated string text s[0, n) (no quotes) into buf. Returns 0,
 * CM_ETOOBIG or CM_EPARSE (U+0000). */
static int unescape(const char *s, size_t n, char *buf, size_t cap)
{
    size_t i = 0, o = 0;

    while (i < n) {
        unsigned long cp;

        if (cap - o < 5) /* room for the longest UTF-8 sequence and the NUL */
            return CM_ETOOBIG;
        if (s[i] != '\\') {
            buf[o++] = s[i++];
            continue;
        }
        i++;
        switch (s[i++]) {
        case 'b':
            buf[o++] = '\b';
            break;
        case 'f':
            buf[o++] = '\f';
            break;
        case 'n':
            buf[o++] = '\n';
            break;
        case 'r':
            buf[o++] = '\r';
            break;
        case 't':
            buf[o++] = '\t';
            break;
        case 'u':
            cp = (unsigned long)hex4_at(s + i, 4);
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) +
                     ((unsigned long)hex4_at(s + i + 2, 4) - 0xDC00);
                i += 6;
            }
            if (cp == 0)
                return CM_EPARSE;
            o += cm_utf8_put(buf + o, (uint32_t)cp);
            break;
        default: /* '"', '\\', '/' */
            buf[o++] = s[i - 1];
            break;
        }
    }
    buf[o] = '\0';
    return 0;
}

/* Whether the quoted text q[0, n) (quotes included) means lit. */
static bool text_eq(const char *q, size_t n, bool esc, const char *lit)
{
    char tmp[512];
    size_t l = strlen(lit);

    if (!esc)
        return n == l + 2 && memcmp(q + 1, lit, l) == 0;
    if (unescape(q + 1, n - 2, tmp, sizeof(tmp)) != 0)
        return false;
    return strcmp(tmp, lit) == 0;
}

bool kube_jt_key_eq(const struct kube_jt *t, uint32_t i, const char *key)
{
    const struct kube_jt_node *nd;

    if (i == 0 || i >= t->count || t->n[i].key == 0)
        return false;
    nd = &t->n[i];
    return text_eq(t->s + nd->key, nd->key_end - nd->key, (nd->flags & KUBE_JT_F_KEY_ESC) != 0,
                   key);
}

uint32_t kube_jt_get(const struct kube_jt *t, uint32_t i, const char *key)
{
    uint32_t c;

    if (i >= t->count || t->n[i].type != KUBE_JT_OBJECT)
        return 0;
    for (c = kube_jt_first(t, i); c != 0; c = t->n[c].next) {
        if (kube_jt_key_eq(t, c, key))
            return c;
    }
    return 0;
}

bool kube_jt_str_eq(const struct kube_jt *t, uint32_t i, const char *lit)
{
    const struct kube_jt_node *nd;

    if (i >= t->count || t->n[i].type != KUBE_JT_STRING)
        return false;
    nd = &t->n[i];
    return text_eq(t->s + nd->start, nd->end - nd->start, (nd->flags & KUBE_JT_F_ESC) != 0, lit);
}

int kube_jt_str(const struct kube_jt *t, uint32_t i, char *buf, size_t cap)
{
    const struct kube_jt_node *nd;
    size_t n;

    if (i >= t->count || t->n[i].type != KUBE_JT_STRING || cap == 0)
        return CM_EINVAL;
    nd = &t->n[i];
    n = nd->end - nd->start - 2;
    if ((nd->flags & KUBE_JT_F_ESC) == 0) {
        if (n >= cap)
            return CM_ETOOBIG;
        memcpy(buf, t->s + nd->start + 1, n);
        buf[n] = '\0';
        return 0;
    }
    return unescape(t->s + nd->start + 1, n, buf, cap);
}

void kube_jt_drop(struct kube_jt *t, uint32_t i)
{
    if (i == 0 || i >= t->count)
        return;
    t->n[i].flags |= KUBE_JT_F_DROP;
    do {
        i = t->n[i].parent;
        t->n[i].flags |= KUBE_JT_F_DIRTY;
    } while (i != 0);
}

int kube_jt_emit(const struct kube_jt *t, uint32_t i, const char *head, struct cm_buf *out)
{
    const struct kube_jt_node *nd = &t->n[i];
    bool obj = nd->type == KUBE_JT_OBJECT;
    bool any = false;
    uint32_t c;
    int rc;

    if ((nd->flags & KUBE_JT_F_DIRTY) == 0 && (head == NULL || !obj))
        return cm_buf_add(out, t->s + nd->start, nd->end - nd->start);
    rc = cm_buf_addc(out, obj ? '{' : '[');
    if (rc == 0 && obj && head != NULL && head[0] != '\0') {
        rc = cm_buf_adds(out, head);
        any = true;
    }
    for (c = kube_jt_first(t, i); rc == 0 && c != 0; c = t->n[c].next) {
        const struct kube_jt_node *ch = &t->n[c];

        if (ch->flags & KUBE_JT_F_DROP)
            continue;
        if (any)
            rc = cm_buf_addc(out, ',');
        any = true;
        if (rc == 0 && obj) {
            rc = cm_buf_add(out, t->s + ch->key, ch->key_end - ch->key);
            if (rc == 0)
                rc = cm_buf_addc(out, ':');
        }
        if (rc == 0)
            rc = kube_jt_emit(t, c, NULL, out);
    }
    if (rc == 0)
        rc = cm_buf_addc(out, obj ? '}' : ']');
    return rc;
}
