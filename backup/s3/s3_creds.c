/* SPDX-License-Identifier: Apache-2.0 */
/* s3_creds.c - S3 credentials from explicit values, the environment or an AWS shared
 * credentials file (INI); secrets are wiped when released and never logged. */
#include "backup/s3/s3_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CREDS_MAX_VALUE 4096 /* session tokens run to ~1-2 KiB */

static void free_secret(char *s)
{
    if (s != NULL)
        cm_free_secure(s, strlen(s));
}

void s3_credentials_cleanup(struct s3_credentials *c)
{
    if (c == NULL)
        return;
    free_secret(c->access_key);
    free_secret(c->secret_key);
    free_secret(c->session_token);
    c->access_key = NULL;
    c->secret_key = NULL;
    c->session_token = NULL;
}

/* Values go into HTTP headers: printable ASCII only, no spaces around. */
static bool value_ok(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > CREDS_MAX_VALUE)
        return false;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c <= 0x20 || c >= 0x7f)
            return false;
    }
    return true;
}

/* Like s3_credentials_set but from (ptr, len) pairs (token may have len 0). */
static int creds_setn(struct s3_credentials *out, const char *ak, size_t akl, const char *sk,
                      size_t skl, const char *tok, size_t tokl, struct cm_err *err)
{
    struct s3_credentials c = {0};

    if (!value_ok(ak, akl))
        return cm_err_set(err, CM_EINVAL, "credentials: access key is empty or malformed");
    if (!value_ok(sk, skl))
        return cm_err_set(err, CM_EINVAL, "credentials: secret key is empty or malformed");
    if (tokl > 0 && !value_ok(tok, tokl))
        return cm_err_set(err, CM_EINVAL, "credentials: session token is malformed");
    c.access_key = cm_strndup(ak, akl);
    c.secret_key = cm_strndup(sk, skl);
    if (tokl > 0)
        c.session_token = cm_strndup(tok, tokl);
    if (c.access_key == NULL || c.secret_key == NULL || (tokl > 0 && c.session_token == NULL)) {
        s3_credentials_cleanup(&c);
        return cm_err_set(err, CM_ENOMEM, "credentials: out of memory");
    }
    s3_credentials_cleanup(out);
    *out = c;
    return 0;
}

int s3_credentials_set(struct s3_credentials *out, const char *access_key, const char *secret_key,
                       const char *token, struct cm_err *err)
{
    if (out == NULL || access_key == NULL || secret_key == NULL)
        return cm_err_set(err, CM_EINVAL, "credentials: access key and secret are required");
    return creds_setn(out, access_key, strlen(access_key), secret_key, strlen(secret_key),
                      token != NULL ? token : "", token != NULL ? strlen(token) : 0, err);
}

int s3_credentials_from_env(struct s3_credentials *out, struct cm_err *err)
{
    const char *ak = getenv("AWS_ACCESS_KEY_ID");
    const char *sk = getenv("AWS_SECRET_ACCESS_KEY");
    const char *tok = getenv("AWS_SESSION_TOKEN");

    if (ak == NULL || ak[0] == '\0' || sk == NULL || sk[0] == '\0')
        return cm_err_set(err, CM_ENOENT,
                          "credentials: AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is not set");
    return s3_credentials_set(out, ak, sk, (tok != NULL && tok[0] != '\0') ? tok : NULL, err);
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_blank((*s)[0])) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_blank((*s)[*n - 1]))
        (*n)--;
}

static bool span_is(const char *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);

    return n == l && strncasecmp(s, lit, l) == 0;
}

struct span {
    const char *p;
    size_t n;
    bool set;
};

int s3_credentials_parse(const char *buf, size_t len, const char *profile,
                         struct s3_credentials *out, struct cm_err *err)
{
    const char *want = profile != NULL ? profile : "default";
    size_t want_len = strlen(want);
    struct span ak = {0};
    struct span sk = {0};
    struct span tok = {0};
    bool in_section = false;
    bool found = false;
    size_t pos = 0;
    unsigned line = 0;

    if (len > S3_MAX_CREDENTIALS_FILE)
        return cm_err_set(err, CM_ETOOBIG, "credentials file: larger than %u bytes",
                          S3_MAX_CREDENTIALS_FILE);
    if (buf == NULL && len > 0)
        return cm_err_set(err, CM_EINVAL, "credentials file: no buffer");
    while (pos < len) {
        const char *s = buf + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - s) : len - pos;
        const char *eq;

        pos += n + (nl != NULL ? 1 : 0);
        line++;
        trim(&s, &n);
        if (n == 0 || s[0] == '#' || s[0] == ';')
            continue;
        if (memchr(s, '\0', n) != NULL)
            return cm_err_set(err, CM_EPARSE, "credentials file: line %u: NUL byte", line);
        if (s[0] == '[') {
            const char *name = s + 1;
            size_t nn;

            if (s[n - 1] != ']')
                return cm_err_set(err, CM_EPARSE,
                                  "credentials file: line %u: unterminated "
                                  "section header",
                                  line);
            nn = n - 2;
            trim(&name, &nn);
            if (nn > 8 && strncmp(name, "profile", 7) == 0 && is_blank(name[7])) {
                name += 8;
                nn -= 8;
                trim(&name, &nn);
            }
            in_section = nn == want_len && memcmp(name, want, nn) == 0;
            found = found || in_section;
            continue;
        }
        eq = memchr(s, '=', n);
        if (eq == NULL)
            return cm_err_set(err, CM_EPARSE,
                              "credentials file: line %u: expected "
                              "'key = value'",
                              line);
        if (in_section) {
            const char *k = s;
            size_t kn = (size_t)(eq - s);
            const char *v = eq + 1;
            size_t vn = n - kn - 1;
            struct span *dst = NULL;

            trim(&k, &kn);
            trim(&v, &vn);
            if (span_is(k, kn, "aws_access_key_id"))
                dst = &ak;
            else if (span_is(k, kn, "aws_secret_access_key"))
                dst = &sk;
            else if (span_is(k, kn, "aws_session_token"))
                dst = &tok;
            if (dst != NULL) {
                dst->p = v;
                dst->n = vn;
                dst->set = true;
            }
        }
    }
    if (!found)
        return cm_err_set(err, CM_ENOENT, "credentials file: no profile [%.64s]", want);
    if (!ak.set || !sk.set)
        return cm_err_set(err, CM_ENOENT, "credentials file: profile [%.64s] lacks %s", want,
                          !ak.set ? "aws_access_key_id" : "aws_secret_access_key");
    return creds_setn(out, ak.p, ak.n, sk.p, sk.n, tok.set ? tok.p : "", tok.set ? tok.n : 0, err);
}

int s3_credentials_load_file(const char *path, const char *profile, struct s3_credentials *out,
                             struct cm_err *err)
{
    char def[4096];
    char *buf = NULL;
    size_t len = 0;
    int rc;

    if (path == NULL)
        path = getenv("AWS_SHARED_CREDENTIALS_FILE");
    if (path == NULL || path[0] == '\0') {
        const char *home = getenv("HOME");
        int n;

        if (home == NULL || home[0] == '\0')
            return cm_err_set(err, CM_ENOENT, "credentials file: HOME is not set");
        n = snprintf(def, sizeof(def), "%s/.aws/credentials", home);
        if (n < 0 || (size_t)n >= sizeof(def))
            return cm_err_set(err, CM_ETOOBIG, "credentials file: HOME too long");
        path = def;
    }
    if (profile == NULL) {
        profile = getenv("AWS_PROFILE");
        if (profile != NULL && profile[0] == '\0')
            profile = NULL;
    }
    rc = cm_fs_read_file(path, S3_MAX_CREDENTIALS_FILE, &buf, &len, err);
    if (rc != 0)
        return rc;
    rc = s3_credentials_parse(buf, len, profile, out, err);
    if (rc != 0)
        cm_err_prefix(err, "%s", path);
    cm_free_secure(buf, len);
    return rc;
}

int s3_credentials_load_default(struct s3_credentials *out, struct cm_err *err)
{
    int rc = s3_credentials_from_env(out, err);

    if (rc != CM_ENOENT)
        return rc;
    rc = s3_credentials_load_file(NULL, NULL, out, err);
    if (rc == CM_ENOENT)
        return cm_err_set(err, CM_ENOENT,
                          "no S3 credentials: set AWS_ACCESS_KEY_ID and "
                          "AWS_SECRET_ACCESS_KEY or provide a shared credentials file");
    return rc;
}

int s3_region_from_env(char *out, size_t len)
{
    const char *r = getenv("AWS_REGION");
    int n;

    if (r == NULL || r[0] == '\0')
        r = getenv("AWS_DEFAULT_REGION");
    if (r == NULL || r[0] == '\0')
        return CM_ENOENT;
    n = snprintf(out, len, "%s", r);
    if (n < 0 || (size_t)n >= len)
        return CM_ETOOBIG;
    return 0;
}
