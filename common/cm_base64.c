/* SPDX-License-Identifier: Apache-2.0 */
/* cm_base64.c - standard base64 (RFC 4648) encode and decode. */
#include "cm.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *cm_base64_encode(const void *src, size_t n, size_t *out_len)
{
    const unsigned char *s = src;
    size_t olen = (n + 2) / 3 * 4;
    char *out;
    char *o;
    size_t i;

    if (n > (SIZE_MAX - 3) / 4 * 3)
        return NULL;
    out = cm_malloc(olen + 1);
    if (out == NULL)
        return NULL;
    o = out;
    for (i = 0; i + 2 < n; i += 3) {
        *o++ = b64_alphabet[s[i] >> 2];
        *o++ = b64_alphabet[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
        *o++ = b64_alphabet[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
        *o++ = b64_alphabet[s[i + 2] & 63];
    }
    if (i < n) {
        *o++ = b64_alphabet[s[i] >> 2];
        if (i + 1 < n) {
            *o++ = b64_alphabet[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
            *o++ = b64_alphabet[(s[i + 1] & 15) << 2];
        } else {
            *o++ = b64_alphabet[(s[i] & 3) << 4];
            *o++ = '=';
        }
        *o++ = '=';
    }
    *o = '\0';
    if (out_len != NULL)
        *out_len = (size_t)(o - out);
    return out;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int cm_base64_decode(const char *src, size_t n, unsigned char **out, size_t *out_len)
{
    unsigned char *buf = cm_malloc(n / 4 * 3 + 4);
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    size_t pad = 0;
    size_t i;

    if (buf == NULL)
        return CM_ENOMEM;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        int v;

        if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        v = b64_value(c);
        if (v < 0 || pad > 0)
            goto bad;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (unsigned char)(acc >> bits);
        }
    }
    /* Leftover bits must be padding zeros and at most 2 '=' may follow. */
    if (pad > 2 || bits >= 6 || (acc & ((1u << bits) - 1)) != 0)
        goto bad;
    buf[o] = '\0';
    *out = buf;
    if (out_len != NULL)
        *out_len = o;
    return 0;
bad:
    cm_free(buf);
    return CM_EPARSE;
}
