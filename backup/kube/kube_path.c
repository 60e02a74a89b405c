/* SPDX-License-Identifier: Apache-2.0 */
/* kube_path.c - API paths: building them from a struct kube_ref, and reading them
 * back into verb + resource + namespace for error messages. */
#include "kube_int.h"

#include <stdio.h>
#include <string.h>

/* Splits buf in place on '/' into at most max segments. */
static size_t split(char *buf, char **seg, size_t max)
{
    size_t n = 0;
    char *p = buf;

    while (*p == '/')
        p++;
    while (*p != '\0' && n < max) {
        char *e = strchr(p, '/');

        seg[n++] = p;
        if (e == NULL)
            break;
        *e = '\0';
        p = e + 1;
    }
    return n;
}

void kube_path_info_parse(const char *path, struct kube_path_info *pi)
{
    char *seg[16];
    size_t n;
    size_t i = 0;
    char *q;

    memset(pi, 0, sizeof(*pi));
    pi->group = pi->resource = pi->ns = pi->name = pi->sub = "";
    (void)snprintf(pi->buf, sizeof(pi->buf), "%s", path ? path : "");
    q = strchr(pi->buf, '?');
    if (q != NULL)
        *q = '\0';
    n = split(pi->buf, seg, CM_ARRAY_LEN(seg));
    if (n >= 1 && strcmp(seg[0], "api") == 0) {
        if (n <= 2) {
            pi->discovery = true;
            return;
        }
        i = 2;
    } else if (n >= 1 && strcmp(seg[0], "apis") == 0) {
        if (n <= 3) {
            pi->discovery = true;
            if (n >= 2)
                pi->group = seg[1];
            return;
        }
        pi->group = seg[1];
        i = 3;
    } else {
        pi->discovery = true; /* /version, /healthz, ... */
        return;
    }
    if (strcmp(seg[i], "namespaces") == 0 && n - i >= 3) {
        pi->ns = seg[i + 1];
        i += 2;
    }
    pi->resource = seg[i];
    if (n - i >= 2)
        pi->name = seg[i + 1];
    if (n - i >= 3)
        pi->sub = seg[i + 2];
}

/* The Kubernetes verb of method on pi ("list", "get", "create", ...). */
static const char *kube_path_verb(const char *method, const struct kube_path_info *pi)
{
    bool item = pi->name[0] != '\0';

    if (strcmp(method, "GET") == 0)
        return item ? "get" : "list";
    if (strcmp(method, "POST") == 0)
        return "create";
    if (strcmp(method, "PUT") == 0)
        return "update";
    if (strcmp(method, "PATCH") == 0)
        return "patch";
    if (strcmp(method, "DELETE") == 0)
        return item ? "delete" : "deletecollection";
    return method;
}

void kube_path_describe(const char *method, const struct kube_path_info *pi, char *buf, size_t len)
{
    const char *verb = kube_path_verb(method, pi);
    char res[2 * KUBE_MAX_NAME + 64];
    char name[KUBE_MAX_NAME + 8] = "";
    char scope[KUBE_MAX_NAME + 32];

    if (pi->discovery) {
        (void)snprintf(buf, len, "cannot get discovery information%s%s",
                       pi->group[0] ? " for group " : "", pi->group);
        return;
    }
    if (pi->group[0] != '\0')
        (void)snprintf(res, sizeof(res), "%s.%s", pi->resource, pi->group);
    else
        (void)snprintf(res, sizeof(res), "%s", pi->resource);
    if (pi->sub[0] != '\0') {
        size_t l = strlen(res);

        (void)snprintf(res + l, sizeof(res) - l, "/%s", pi->sub);
    }
    if (pi->name[0] != '\0')
        (void)snprintf(name, sizeof(name), " %s", pi->name);
    if (pi->ns[0] != '\0')
        (void)snprintf(scope, sizeof(scope), " in namespace %s", pi->ns);
    else if (strcmp(verb, "list") == 0 || strcmp(verb, "deletecollection") == 0)
        (void)snprintf(scope, sizeof(scope), " in all namespaces (or cluster-scoped)");
    else
        scope[0] = '\0';
    (void)snprintf(buf, len, "cannot %s %s%s%s", verb, res, name, scope);
}

int kube_buf_add_escaped(struct cm_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        int rc;

        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            rc = cm_buf_addc(b, (char)ch);
        } else {
            char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};

            rc = cm_buf_add(b, e, 3);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* A path segment must be non-empty and free of '/', '?', '#', '%' and control bytes,
 * and not "." or "..". */
static bool segment_ok(const char *s)
{
    const unsigned char *p;

    if (s == NULL || s[0] == '\0' || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p < 0x21 || *p == 0x7f || *p == '/' || *p == '?' || *p == '#' || *p == '%')
            return false;
    }
    return true;
}

int kube_ref_path(const struct kube_ref *ref, const char *subresource, char *buf, size_t len)
{
    const char *av = ref->api_version;
    const char *slash;
    bool has_ns = ref->namespace_ != NULL && ref->namespace_[0] != '\0';
    bool has_name = ref->name != NULL && ref->name[0] != '\0';
    struct cm_buf b;
    int rc;

    if (av == NULL || av[0] == '\0' || !segment_ok(ref->resource))
        return CM_EINVAL;
    slash = strchr(av, '/');
    if (slash != NULL && (slash == av || slash[1] == '\0' || strchr(slash + 1, '/') != NULL))
        return CM_EINVAL;
    if (strpbrk(av, "?#% ") != NULL)
        return CM_EINVAL;
    if ((has_ns && !segment_ok(ref->namespace_)) || (has_name && !segment_ok(ref->name)))
        return CM_EINVAL;
    if (subresource != NULL && subresource[0] != '\0' && (!has_name || !segment_ok(subresource)))
        return CM_EINVAL;
    cm_buf_init(&b, len > 0 ? len - 1 : 0);
    rc = cm_buf_adds(&b, slash ? "/apis/" : "/api/");
    if (rc == 0)
        rc = cm_buf_adds(&b, av);
    if (rc == 0 && has_ns) {
        rc = cm_buf_adds(&b, "/namespaces/");
        if (rc == 0)
            rc = kube_buf_add_escaped(&b, ref->namespace_);
    }
    if (rc == 0)
        rc = cm_buf_addc(&b, '/');
    if (rc == 0)
        rc = kube_buf_add_escaped(&b, ref->resource);
    if (rc == 0 && has_name) {
        rc = cm_buf_addc(&b, '/');
        if (rc == 0)
            rc = kube_buf_add_escaped(&b, ref->name);
    }
    if (rc == 0 && subresource != NULL && subresource[0] != '\0') {
        rc = cm_buf_addc(&b, '/');
        if (rc == 0)
            rc = kube_buf_add_escaped(&b, subresource);
    }
    if (rc != 0) {
        cm_buf_free(&b);
        return rc == CM_ETOOBIG ? CM_ETOOBIG : rc;
    }
    memcpy(buf, b.ptr, b.len + 1);
    cm_buf_free(&b);
    return 0;
}
