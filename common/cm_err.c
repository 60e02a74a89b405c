/* SPDX-License-Identifier: Apache-2.0 */
/* cm_err.c - the error-code table and the struct cm_err helpers. */
#include "cm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *cm_strerror(int code)
{
    switch (code) {
    case CM_OK:
        return "success";
#define CM_ERR_MSG_(name, val, msg)                                                                \
    case name:                                                                                     \
        return msg;
        CM_ERRNO_MAP(CM_ERR_MSG_)
#undef CM_ERR_MSG_
    default:
        return "unknown error";
    }
}

const char *cm_errname(int code)
{
    switch (code) {
    case CM_OK:
        return "CM_OK";
#define CM_ERR_NAME_(name, val, msg)                                                               \
    case name:                                                                                     \
        return #name;
        CM_ERRNO_MAP(CM_ERR_NAME_)
#undef CM_ERR_NAME_
    default:
        return "CM_EUNKNOWN";
    }
}

int cm_err_set(struct cm_err *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return code;
    err->code = code;
    va_start(ap, fmt);
    (void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

void cm_err_prefix(struct cm_err *err, const char *fmt, ...)
{
    char prefix[CM_ERR_MSG_MAX];
    char old[CM_ERR_MSG_MAX];
    va_list ap;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof(old));
    if (snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old) >= (int)sizeof(err->msg))
        memcpy(err->msg + sizeof(err->msg) - 4, "...", 4); /* mark the cut */
}

void cm_err_clear(struct cm_err *err)
{
    if (err == NULL)
        return;
    err->code = 0;
    err->msg[0] = '\0';
}

int cm_err_from_errno(int e)
{
    switch (e) {
    case ENOMEM:
        return CM_ENOMEM;
    case ENOENT:
    case ENOTDIR:
        return CM_ENOENT;
    case EEXIST:
        return CM_EEXIST;
    case EACCES:
    case EPERM:
        return CM_EAUTH;
    case ETIMEDOUT:
        return CM_ETIMEDOUT;
    case ECONNREFUSED:
    case ECONNRESET:
        return CM_ECONN;
    case EAGAIN:
        return CM_EAGAIN;
    default:
        return CM_EIO;
    }
}

const char *cm_errno_str(int e, char *buf, size_t len)
{
    /* The XSI strerror_r: _POSIX_C_SOURCE=200809L without _GNU_SOURCE selects it. */
    if (strerror_r(e, buf, len) != 0)
        (void)snprintf(buf, len, "errno %d", e);
    return buf;
}
