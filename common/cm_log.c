/* SPDX-License-Identifier: Apache-2.0 */
/* cm_log.c - structured JSON-lines logging: one bounded line, one write(2). */
#include "cm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Set once at startup, before threads; read-only afterwards. */
static enum cm_log_level log_level = CM_LOG_INFO;
static int log_fd = 2;

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

void cm_log_set_level(enum cm_log_level level)
{
    log_level = level;
}

void cm_log_set_fd(int fd)
{
    log_fd = fd;
}

bool cm_log_enabled(enum cm_log_level level)
{
    return level >= log_level && log_level != CM_LOG_OFF;
}

int cm_log_level_parse(const char *s, enum cm_log_level *out)
{
    size_t i;

    for (i = 0; i < CM_ARRAY_LEN(level_names); i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (enum cm_log_level)i;
            return 0;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *out = CM_LOG_WARN;
        return 0;
    }
    return CM_EINVAL;
}

/* Appends to a fixed stack buffer; marks the line cut instead of failing. */
struct line {
    char buf[CM_LOG_LINE_MAX];
    size_t len;
    bool cut;
};

static void line_add(struct line *l, const char *p, size_t n)
{
    /* Keep room for `,"truncated":true}\n`. */
    size_t room = sizeof(l->buf) - 24 - l->len;

    if (l->cut)
        return;
    if (n > room) {
        l->cut = true;
        return;
    }
    memcpy(l->buf + l->len, p, n);
    l->len += n;
}

static void line_adds(struct line *l, const char *s)
{
    line_add(l, s, strlen(s));
}

static void line_add_json(struct line *l, const char *s)
{
    struct cm_buf b;

    if (s == NULL) {
        line_adds(l, "null");
        return;
    }
    cm_buf_init(&b, CM_LOG_LINE_MAX);
    if (cm_buf_add_json_str(&b, s, strlen(s)) != 0) {
        l->cut = true;
        return;
    }
    line_add(l, b.ptr, b.len);
    cm_buf_free(&b);
}

void cm_log_(enum cm_log_level level, const char *mod, const char *msg, ...)
{
    struct line l;
    char tmp[64];
    va_list ap;
    size_t good;
    int tag;
    int saved = errno;

    if (!cm_log_enabled(level))
        return;
    l.len = 0;
    l.cut = false;
    line_adds(&l, "{\"ts\":\"");
    line_adds(&l, cm_time_format_ms(cm_time_now_ms(), tmp, sizeof(tmp)));
    line_adds(&l, "\",\"level\":\"");
    line_adds(&l, level_names[level]);
    line_adds(&l, "\",\"mod\":");
    line_add_json(&l, mod);
    good = l.len;
    line_adds(&l, ",\"msg\":");
    line_add_json(&l, msg);
    if (l.cut) {
        l.len = good;
        l.cut = false;
        line_adds(&l, ",\"msg\":\"(message too long)\"");
    }
    good = l.len;
    va_start(ap, msg);
    while ((tag = va_arg(ap, int)) != CM_LF_END_) {
        const char *key = va_arg(ap, const char *);

        line_adds(&l, ",");
        line_add_json(&l, key);
        line_adds(&l, ":");
        switch (tag) {
        case CM_LF_STR_:
            line_add_json(&l, va_arg(ap, const char *));
            break;
        case CM_LF_INT_:
            (void)snprintf(tmp, sizeof(tmp), "%lld", va_arg(ap, long long));
            line_adds(&l, tmp);
            break;
        case CM_LF_DBL_:
            (void)snprintf(tmp, sizeof(tmp), "%.3f", va_arg(ap, double));
            line_adds(&l, tmp);
            break;
        case CM_LF_BOOL_:
            line_adds(&l, va_arg(ap, int) ? "true" : "false");
            break;
        case CM_LF_RAW_: {
            const char *raw = va_arg(ap, const char *);
            line_adds(&l, raw != NULL ? raw : "null");
            break;
        }
        default:
            l.cut = true;
            break;
        }
        if (l.cut)
            break;
        good = l.len;
    }
    va_end(ap);
    if (l.cut) {
        /* Drop the half-written field: back to the last complete one. */
        l.len = good;
        memcpy(l.buf + l.len, ",\"truncated\":true", 17);
        l.len += 17;
    }
    l.buf[l.len++] = '}';
    l.buf[l.len++] = '\n';
    (void)!write(log_fd, l.buf, l.len);
    errno = saved;
}
