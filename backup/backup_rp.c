/* SPDX-License-Identifier: Apache-2.0 */
/* backup_rp.c - restore-point ids ("YYYYMMDDTHHMMSSZ-xxxxxxxx"), S3 key layout and the
 * archive names. */
#include "backup/backup.h"

#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

int backup_rp_id_format(time_t t, const unsigned char rnd[4], char *buf, size_t len)
{
    char ts[32];
    int n;

    if (buf == NULL || rnd == NULL || len < BACKUP_ID_LEN + 1 || t < 0)
        return CM_EINVAL;
    cm_time_format(t, ts, sizeof(ts)); /* 2026-11-22T09:30:00Z */
    if (strlen(ts) != 20)
        return CM_EINVAL; /* years past 9999 */
    n = snprintf(buf, len, "%.4s%.2s%.2sT%.2s%.2s%.2sZ-%02x%02x%02x%02x", ts, ts + 5, ts + 8,
                 ts + 11, ts + 14, ts + 17, rnd[0], rnd[1], rnd[2], rnd[3]);
    if (n != BACKUP_ID_LEN)
        return CM_EINVAL;
    return 0;
}

int backup_rp_id_new(time_t t, char *buf, size_t len)
{
    unsigned char rnd[4];

    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return CM_EIO;
    return backup_rp_id_format(t, rnd, buf, len);
}

static int digits(const char *s, size_t n, int *out)
{
    int v = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return CM_EPARSE;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int backup_rp_id_parse(const char *id, size_t n, time_t *out)
{
    int y, mo, d, h, mi, s;
    size_t i;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (id == NULL || n != BACKUP_ID_LEN || id[8] != 'T' || id[15] != 'Z' || id[16] != '-')
        return CM_EPARSE;
    if (digits(id, 4, &y) || digits(id + 4, 2, &mo) || digits(id + 6, 2, &d) ||
        digits(id + 9, 2, &h) || digits(id + 11, 2, &mi) || digits(id + 13, 2, &s))
        return CM_EPARSE;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || s > 59)
        return CM_EPARSE;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return CM_EPARSE;
    for (i = 17; i < BACKUP_ID_LEN; i++) {
        char c = id[i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return CM_EPARSE;
    }
    if (out != NULL)
        *out = cm_time_from_utc(y, mo, d, h, mi, s);
    return 0;
}

bool backup_ns_valid(const char *s, size_t n)
{
    size_t i;

    if (s == NULL || n == 0 || n > 63)
        return false;
    for (i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

        if (!alnum && !(c == '-' && i > 0 && i + 1 < n))
            return false;
    }
    return true;
}

static bool leaf_valid(const char *leaf)
{
    size_t i;
    size_t n = strlen(leaf);

    if (n == 0 || n > 200 || leaf[0] == '/' || leaf[n - 1] == '/')
        return false;
    if (strstr(leaf, "..") != NULL || strstr(leaf, "//") != NULL)
        return false;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)leaf[i];

        if (c < 0x21 || c > 0x7e)
            return false;
    }
    return true;
}

int backup_rp_key(const char *prefix, const char *ns, const char *id, const char *leaf, char *buf,
                  size_t len, struct cm_err *err)
{
    int n;
    bool has_prefix = prefix != NULL && prefix[0] != '\0';

    if (buf == NULL || ns == NULL || !backup_ns_valid(ns, strlen(ns)))
        return cm_err_set(err, CM_EINVAL, "invalid namespace \"%s\"", ns ? ns : "(null)");
    if (id == NULL || backup_rp_id_parse(id, strlen(id), NULL) != 0)
        return cm_err_set(err, CM_EINVAL, "invalid restore point id \"%s\"", id ? id : "(null)");
    if (leaf != NULL && !leaf_valid(leaf))
        return cm_err_set(err, CM_EINVAL, "invalid key leaf \"%s\"", leaf);
    n = snprintf(buf, len, "%s%s%s/%s/%s", has_prefix ? prefix : "", has_prefix ? "/" : "", ns, id,
                 leaf != NULL ? leaf : "");
    if (n < 0 || (size_t)n >= len || (size_t)n > BACKUP_KEY_MAX)
        return cm_err_set(err, CM_ETOOBIG, "S3 key for %s/%s is too long", ns, id);
    return 0;
}

void backup_sha256_hex(const void *p, size_t n, char hex[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    static const char xd[] = "0123456789abcdef";
    size_t i;

    SHA256(p != NULL ? p : (const void *)"", n, md);
    for (i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        hex[2 * i] = xd[md[i] >> 4];
        hex[2 * i + 1] = xd[md[i] & 15];
    }
    hex[64] = '\0';
}

const struct backup_archive_kind backup_archive_kinds[BACKUP_ARCHIVE_KINDS] = {
    {BACKUP_ARCHIVE_NAME, BACKUP_ARCHIVE_FORMAT, false},
    {BACKUP_ARCHIVE_NAME_ENC, BACKUP_ARCHIVE_FORMAT, true},
    {BACKUP_ARCHIVE_NAME_GZ, BACKUP_ARCHIVE_FORMAT_GZ, false},
    {BACKUP_ARCHIVE_NAME_GZ_ENC, BACKUP_ARCHIVE_FORMAT_GZ, true},
};

int backup_archive_kind_find(const char *name)
{
    int i;

    for (i = 0; name != NULL && i < BACKUP_ARCHIVE_KINDS; i++) {
        if (strcmp(name, backup_archive_kinds[i].name) == 0)
            return i;
    }
    return -1;
}
