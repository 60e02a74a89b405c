/* SPDX-License-Identifier: Apache-2.0 */
/* cm_buf.c - a growable byte buffer with a hard cap (after curl's dynbuf). */
#include "cm.h"

#include <stdio.h>
#include <string.h>

void cm_buf_init(struct cm_buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap_ = 0;
    b->max_ = max;
}

void cm_buf_free(struct cm_buf *b)
{
    if (b == NULL)
        return;
    cm_free(b->ptr);
    b->ptr = NULL;
    b->len = 0;
    b->cap_ = 0;
}

void cm_buf_reset(struct cm_buf *b)
{
    b->len = 0;
    if (b->ptr != NULL)
        b->ptr[0] = '\0';
}

/* Makes room for n more bytes plus the terminating NUL. */
static int buf_reserve(struct cm_buf *b, size_t n)
{
    size_t need;
    size_t cap;
    char *p;

    if (n > b->max_ || b->len > b->max_ - n) {
        cm_buf_free(b);
        return CM_ETOOBIG;
    }
    need = b->len + n + 1;
    if (need <= b->cap_)
        return 0;
    cap = b->cap_ ? b->cap_ : 64;
    while (cap < need)
        cap *= 2;
    if (cap > b->max_ + 1)
        cap = b->max_ + 1;
    p = cm_realloc(b->ptr, cap);
    if (p == NULL) {
        cm_buf_free(b);
        return CM_ENOMEM;
    }
    b->ptr = p;
    b->cap_ = cap;
    return 0;
}

void cm_buf_recycle(struct cm_buf *dst, struct cm_buf *src)
{
    cm_free(dst->ptr);
    dst->ptr = src->ptr;
    dst->cap_ = src->cap_;
    dst->len = 0;
    if (dst->ptr != NULL)
        dst->ptr[0] = '\0';
    src->ptr = NULL;
    src->len = 0;
    src->cap_ = 0;
}

int cm_buf_reserve(struct cm_buf *b, size_t n)
{
    return buf_reserve(b, n);
}

int cm_buf_add(struct cm_buf *b, const void *p, size_t n)
{
    int rc = buf_reserve(b, n);

    if (rc != 0)
        return rc;
    if (n > 0)
        memcpy(b->ptr + b->len, p, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return 0;
}

int cm_buf_adds(struct cm_buf *b, const char *s)
{
    return cm_buf_add(b, s, strlen(s));
}

int cm_buf_addc(struct cm_buf *b, char c)
{
    return cm_buf_add(b, &c, 1);
}

int cm_buf_vaddf(struct cm_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;
    int rc;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        cm_buf_free(b);
        return CM_EINVAL;
    }
    rc = buf_reserve(b, (size_t)n);
    if (rc != 0)
        return rc;
    (void)vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int cm_buf_addf(struct cm_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = cm_buf_vaddf(b, fmt, ap);
    va_end(ap);
    return rc;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when it is not valid. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t cp;
    size_t i;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        cp = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        cp = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

int cm_buf_add_json_str(struct cm_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    int rc;

    rc = cm_buf_addc(b, '"');
    while (rc == 0 && i < n) {
        size_t run = i;
        size_t sl;

        /* Copy the longest run that needs no escaping in one go. */
        while (run < n && p[run] >= 0x20 && p[run] != '"' && p[run] != '\\' && p[run] < 0x80)
            run++;
        if (run > i) {
            rc = cm_buf_add(b, p + i, run - i);
            i = run;
            continue;
        }
        switch (p[i]) {
        case '"':
            rc = cm_buf_add(b, "\\\"", 2);
            break;
        case '\\':
            rc = cm_buf_add(b, "\\\\", 2);
            break;
        case '\n':
            rc = cm_buf_add(b, "\\n", 2);
            break;
        case '\r':
            rc = cm_buf_add(b, "\\r", 2);
            break;
        case '\t':
            rc = cm_buf_add(b, "\\t", 2);
            break;
        default:
            sl = p[i] >= 0x80 ? utf8_seq_len(p + i, n - i) : 0;
            if (sl > 1) {
                rc = cm_buf_add(b, p + i, sl);
                i += sl;
                continue;
            }
            rc = cm_buf_addf(b, "\\u%04x", p[i]);
            break;
        }
        i++;
    }
    if (rc == 0)
        rc = cm_buf_addc(b, '"');
    return rc;
}

char *cm_buf_take(struct cm_buf *b, size_t *len)
{
    char *p = b->ptr;

    if (p == NULL)
        p = cm_strndup("", 0);
    if (len != NULL)
        *len = p != NULL ? b->len : 0;
    b->ptr = NULL;
    b->len = 0;
    b->cap_ = 0;
    return p;
}
