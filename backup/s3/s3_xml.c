/* SPDX-License-Identifier: Apache-2.0 */
/* s3_xml.c - a small bounded XML reader for S3 response bodies (no DTDs, no external
 * entities, capped size, depth and element count). */
#include "backup/s3/s3_int.h"

#include <assert.h>
#include <string.h>

struct s3_xml {
    char *buf; /* private copy; text is decoded in place */
    size_t len;
    struct s3_xml_node *nodes; /* nodes[0] unused so that index 0 means "none" */
    uint32_t n;
    uint32_t cap;
};

struct xml_parser {
    struct s3_xml *x;
    size_t pos;
    uint32_t stack[S3_MAX_XML_DEPTH + 1];
    unsigned depth;
    bool root_done;
    struct cm_err *err;
};

static int perr(struct xml_parser *p, const char *why)
{
    return cm_err_set(p->err, CM_EPARSE, "XML: %s at offset %zu", why, p->pos);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_name_char(char c)
{
    return !(is_space(c) || c == '/' || c == '>' || c == '<' || c == '=' || c == '"' || c == '\'' ||
             c == '&' || c == '\0');
}

static bool starts(const struct xml_parser *p, const char *s)
{
    size_t n = strlen(s);

    return p->x->len - p->pos >= n && memcmp(p->x->buf + p->pos, s, n) == 0;
}

/* Finds s at or after p->pos; returns its offset or SIZE_MAX. */
static size_t find(const struct xml_parser *p, const char *s)
{
    size_t n = strlen(s);
    size_t i;

    if (p->x->len < n)
        return SIZE_MAX;
    for (i = p->pos; i + n <= p->x->len; i++) {
        if (p->x->buf[i] == s[0] && memcmp(p->x->buf + i, s, n) == 0)
            return i;
    }
    return SIZE_MAX;
}

static int new_node(struct xml_parser *p, const char *name, size_t name_len, uint32_t *out)
{
    struct s3_xml *x = p->x;
    uint32_t idx;
    const char *colon;

    if (x->n >= S3_XML_MAX_NODES)
        return cm_err_set(p->err, CM_ETOOBIG, "XML: more than %u elements", S3_XML_MAX_NODES);
    if (x->n == x->cap) {
        uint32_t cap = x->cap ? x->cap * 2 : 32;
        struct s3_xml_node *nn;

        if (cap > S3_XML_MAX_NODES)
            cap = S3_XML_MAX_NODES;
        nn = cm_realloc(x->nodes, (size_t)cap * sizeof(*nn));
        if (nn == NULL)
            return cm_err_set(p->err, CM_ENOMEM, "XML: out of memory");
        x->nodes = nn;
        x->cap = cap;
    }
    idx = x->n++;
    memset(&x->nodes[idx], 0, sizeof(x->nodes[idx]));
    colon = memchr(name, ':', name_len);
    if (colon != NULL) {
        name_len -= (size_t)(colon + 1 - name);
        name = colon + 1;
    }
    x->nodes[idx].name = name;
    x->nodes[idx].name_len = name_len;
    if (p->depth > 0) {
        struct s3_xml_node *parent = &x->nodes[p->stack[p->depth - 1]];

        if (parent->last_child_ == 0)
            parent->first_child = idx;
        else
            x->nodes[parent->last_child_].next_sibling = idx;
        parent->last_child_ = idx;
    }
    *out = idx;
    return 0;
}

/* Decodes one entity at buf[*r] ('&'), writing at buf[*w]. The output of an entity is
 * never longer than the entity itself (&#x10FFFF; is 10 bytes for 4), so in-place
 * decoding never overtakes the reader. */
static int decode_entity(struct xml_parser *p, size_t *r, size_t *w, size_t end)
{
    char *b = p->x->buf;
    size_t semi;
    size_t n;
    const char *e = b + *r + 1;

    for (semi = *r + 1; semi < end && semi - *r <= 12 && b[semi] != ';'; semi++)
        ;
    if (semi >= end || b[semi] != ';') {
        p->pos = *r;
        return perr(p, "unterminated entity");
    }
    n = semi - *r - 1;
    if (n == 3 && memcmp(e, "amp", 3) == 0)
        b[(*w)++] = '&';
    else if (n == 2 && memcmp(e, "lt", 2) == 0)
        b[(*w)++] = '<';
    else if (n == 2 && memcmp(e, "gt", 2) == 0)
        b[(*w)++] = '>';
    else if (n == 4 && memcmp(e, "quot", 4) == 0)
        b[(*w)++] = '"';
    else if (n == 4 && memcmp(e, "apos", 4) == 0)
        b[(*w)++] = '\'';
    else if (n >= 2 && e[0] == '#') {
        uint32_t cp = 0;
        size_t i = 1;
        bool hex = e[1] == 'x';

        if (hex)
            i = 2;
        if (i >= n) {
            p->pos = *r;
            return perr(p, "empty character reference");
        }
        for (; i < n; i++) {
            char c = e[i];
            uint32_t d;

            if (c >= '0' && c <= '9')
                d = (uint32_t)(c - '0');
            else if (hex && c >= 'a' && c <= 'f')
                d = (uint32_t)(c - 'a' + 10);
            else if (hex && c >= 'A' && c <= 'F')
                d = (uint32_t)(c - 'A' + 10);
            else {
                p->pos = *r;
                return perr(p, "bad character reference");
            }
            cp = cp * (hex ? 16u : 10u) + d;
            if (cp > 0x10FFFF) {
                p->pos = *r;
                return perr(p, "character reference out of range");
            }
        }
        if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) {
            p->pos = *r;
            return perr(p, "invalid character reference");
        }
        *w += cm_utf8_put(b + *w, cp);
    } else {
        p->pos = *r;
        return perr(p, "unknown entity (DTD entities are not supported)");
    }
    *r = semi + 1;
    return 0;
}

/* Text run buf[start..end) of the current element: decode in place and attach. */
static int text_run(struct xml_parser *p, size_t start, size_t end, bool cdata)
{
    struct s3_xml *x = p->x;
    struct s3_xml_node *cur;
    size_t r = start;
    size_t w;
    bool blank = true;
    size_t i;
    int rc;

    for (i = start; i < end; i++) {
        if (!is_space(x->buf[i])) {
            blank = false;
            break;
        }
    }
    if (p->depth == 0) {
        if (!blank || cdata) {
            p->pos = start;
            return perr(p, "text outside the document element");
        }
        return 0;
    }
    cur = &x->nodes[p->stack[p->depth - 1]];
    if (cur->first_child != 0) /* mixed content after a child: S3 never sends it */
        return 0;
    /* Continue where the previous run of this element ended (runs are separated by
     * markup that is longer than nothing, so w <= r always holds). */
    if (cur->text == NULL)
        w = start;
    else
        w = (size_t)(cur->text - x->buf) + cur->text_len;
    if (cur->text == NULL)
        cur->text = x->buf + start;
    while (r < end) {
        char c = x->buf[r];

        if (!cdata && c == '&') {
            rc = decode_entity(p, &r, &w, end);
            if (rc != 0)
                return rc;
            continue;
        }
        x->buf[w++] = c;
        r++;
    }
    cur->text_len = w - (size_t)(cur->text - x->buf);
    return 0;
}

static void skip_space(struct xml_parser *p)
{
    while (p->pos < p->x->len && is_space(p->x->buf[p->pos]))
        p->pos++;
}

static int parse_attrs(struct xml_parser *p)
{
    const char *b = p->x->buf;

    for (;;) {
        size_t n0;
        char q;

        skip_space(p);
        if (p->pos >= p->x->len)
            return perr(p, "unterminated tag");
        if (b[p->pos] == '>' || b[p->pos] == '/')
            return 0;
        n0 = p->pos;
        while (p->pos < p->x->len && is_name_char(b[p->pos]))
            p->pos++;
        if (p->pos == n0)
            return perr(p, "bad attribute name");
        skip_space(p);
        if (p->pos >= p->x->len || b[p->pos] != '=')
            return perr(p, "attribute without '='");
        p->pos++;
        skip_space(p);
        if (p->pos >= p->x->len || (b[p->pos] != '"' && b[p->pos] != '\''))
            return perr(p, "unquoted attribute value");
        q = b[p->pos++];
        while (p->pos < p->x->len && b[p->pos] != q) {
            if (b[p->pos] == '<')
                return perr(p, "'<' in attribute value");
            p->pos++;
        }
        if (p->pos >= p->x->len)
            return perr(p, "unterminated attribute value");
        p->pos++;
    }
}

static int parse_start_tag(struct xml_parser *p)
{
    const char *b = p->x->buf;
    size_t n0;
    uint32_t idx;
    int rc;

    p->pos++; /* '<' */
    n0 = p->pos;
    while (p->pos < p->x->len && is_name_char(b[p->pos]))
        p->pos++;
    if (p->pos == n0)
        return perr(p, "bad element name");
    if (p->depth == 0 && p->root_done)
        return perr(p, "more than one document element");
    if (p->depth >= S3_MAX_XML_DEPTH)
        return cm_err_set(p->err, CM_ETOOBIG, "XML: nesting deeper than %d at offset %zu",
                          S3_MAX_XML_DEPTH, p->pos);
    rc = new_node(p, b + n0, p->pos - n0, &idx);
    if (rc != 0)
        return rc;
    rc = parse_attrs(p);
    if (rc != 0)
        return rc;
    if (b[p->pos] == '/') {
        p->pos++;
        if (p->pos >= p->x->len || b[p->pos] != '>')
            return perr(p, "expected '>' after '/'");
        p->pos++;
        if (p->depth == 0)
            p->root_done = true;
        return 0;
    }
    p->pos++; /* '>' */
    p->stack[p->depth++] = idx;
    return 0;
}

static int parse_end_tag(struct xml_parser *p)
{
    const char *b = p->x->buf;
    size_t n0;
    const struct s3_xml_node *open;
    const char *name;
    size_t name_len;
    const char *colon;

    p->pos += 2; /* "</" */
    n0 = p->pos;
    while (p->pos < p->x->len && is_name_char(b[p->pos]))
        p->pos++;
    name = b + n0;
    name_len = p->pos - n0;
    skip_space(p);
    if (p->pos >= p->x->len || b[p->pos] != '>')
        return perr(p, "bad end tag");
    if (p->depth == 0)
        return perr(p, "end tag without start tag");
    colon = memchr(name, ':', name_len);
    if (colon != NULL) {
        name_len -= (size_t)(colon + 1 - name);
        name = colon + 1;
    }
    open = &p->x->nodes[p->stack[p->depth - 1]];
    if (open->name_len != name_len || memcmp(open->name, name, name_len) != 0)
        return perr(p, "mismatched end tag");
    p->pos++;
    p->depth--;
    if (p->depth == 0)
        p->root_done = true;
    return 0;
}

static int parse_markup(struct xml_parser *p)
{
    size_t end;

    if (starts(p, "<!--")) {
        p->pos += 4;
        end = find(p, "-->");
        if (end == SIZE_MAX)
            return perr(p, "unterminated comment");
        p->pos = end + 3;
        return 0;
    }
    if (starts(p, "<![CDATA[")) {
        size_t start = p->pos + 9;
        int rc;

        p->pos = start;
        end = find(p, "]]>");
        if (end == SIZE_MAX)
            return perr(p, "unterminated CDATA section");
        rc = text_run(p, start, end, true);
        if (rc != 0)
            return rc;
        p->pos = end + 3;
        return 0;
    }
    if (starts(p, "<!"))
        return perr(p, "DTDs and declarations are not allowed");
    if (starts(p, "<?")) {
        p->pos += 2;
        end = find(p, "?>");
        if (end == SIZE_MAX)
            return perr(p, "unterminated processing instruction");
        p->pos = end + 2;
        return 0;
    }
    if (starts(p, "</"))
        return parse_end_tag(p);
    return parse_start_tag(p);
}

int s3_xml_parse(const char *buf, size_t len, struct s3_xml **out, struct cm_err *err)
{
    struct s3_xml *x = NULL;
    struct xml_parser p;
    int rc;

    if (len > S3_MAX_XML_BYTES)
        return cm_err_set(err, CM_ETOOBIG, "XML: body of %zu bytes exceeds %u", len,
                          S3_MAX_XML_BYTES);
    x = cm_calloc(1, sizeof(*x));
    if (x == NULL)
        return cm_err_set(err, CM_ENOMEM, "XML: out of memory");
    x->buf = cm_malloc(len + 1);
    if (x->buf == NULL) {
        rc = cm_err_set(err, CM_ENOMEM, "XML: out of memory");
        goto cleanup;
    }
    if (len > 0)
        memcpy(x->buf, buf, len);
    x->buf[len] = '\0';
    x->len = len;
    memset(&p, 0, sizeof(p));
    p.x = x;
    p.err = err;
    rc = new_node(&p, "", 0, &(uint32_t){0}); /* index 0: the "none" sentinel */
    if (rc != 0)
        goto cleanup;
    while (p.pos < len) {
        size_t lt;

        if (x->buf[p.pos] == '<') {
            rc = parse_markup(&p);
            if (rc != 0)
                goto cleanup;
            continue;
        }
        lt = p.pos;
        while (lt < len && x->buf[lt] != '<')
            lt++;
        rc = text_run(&p, p.pos, lt, false);
        if (rc != 0)
            goto cleanup;
        p.pos = lt;
    }
    if (p.depth != 0) {
        rc = perr(&p, "unexpected end of document (unclosed element)");
        goto cleanup;
    }
    if (!p.root_done) {
        rc = perr(&p, "no document element");
        goto cleanup;
    }
    *out = x;
    return 0;
cleanup:
    s3_xml_destroy(x);
    return rc;
}

void s3_xml_destroy(struct s3_xml *x)
{
    if (x == NULL)
        return;
    cm_free(x->buf);
    cm_free(x->nodes);
    cm_free(x);
}

const struct s3_xml_node *s3_xml_root(const struct s3_xml *x)
{
    assert(x->n > 1);
    return &x->nodes[1];
}

bool s3_xml_is(const struct s3_xml_node *n, const char *name)
{
    size_t l = strlen(name);

    return n != NULL && n->name_len == l && memcmp(n->name, name, l) == 0;
}

static const struct s3_xml_node *scan(const struct s3_xml *x, uint32_t idx, const char *name)
{
    while (idx != 0) {
        const struct s3_xml_node *n = &x->nodes[idx];

        if (name == NULL || s3_xml_is(n, name))
            return n;
        idx = n->next_sibling;
    }
    return NULL;
}

const struct s3_xml_node *s3_xml_child(const struct s3_xml *x, const struct s3_xml_node *n,
                                       const char *name)
{
    if (n == NULL)
        return NULL;
    return scan(x, n->first_child, name);
}

const struct s3_xml_node *s3_xml_next(const struct s3_xml *x, const struct s3_xml_node *n,
                                      const char *name)
{
    if (n == NULL)
        return NULL;
    return scan(x, n->next_sibling, name);
}

int s3_xml_text_copy(const struct s3_xml_node *n, char *out, size_t cap)
{
    size_t l = n != NULL ? n->text_len : 0;

    if (cap == 0)
        return CM_ETOOBIG;
    if (l >= cap) {
        out[0] = '\0';
        return CM_ETOOBIG;
    }
    if (l > 0)
        memcpy(out, n->text, l);
    out[l] = '\0';
    return 0;
}

int s3_xml_child_text(const struct s3_xml *x, const struct s3_xml_node *n, const char *name,
                      char *out, size_t cap)
{
    const struct s3_xml_node *c = s3_xml_child(x, n, name);

    if (c == NULL) {
        if (cap > 0)
            out[0] = '\0';
        return CM_ENOENT;
    }
    return s3_xml_text_copy(c, out, cap);
}

bool s3_xml_text_is(const struct s3_xml_node *n, const char *s)
{
    size_t l = strlen(s);

    return n != NULL && n->text_len == l && (l == 0 || memcmp(n->text, s, l) == 0);
}
