/* SPDX-License-Identifier: Apache-2.0 */
/* wh_tls.c - the serving certificate as a refcounted GnuTLS credential, swapped on
 * rotation and handed to each handshake by libmicrohttpd's retrieve callback. */
#include "webhook/wh_int.h"

#include <gnutls/x509.h>
#include <microhttpd.h>
#include <string.h>

#define WH_MAX_PEM (1u << 20)

int wh_tls_init(struct wh_tls *t)
{
    t->cur = NULL;
    return pthread_mutex_init(&t->mu, NULL) == 0 ? 0 : CM_ENOMEM;
}

void wh_tls_cleanup(struct wh_tls *t)
{
    wh_cred_release(t->cur);
    t->cur = NULL;
    pthread_mutex_destroy(&t->mu);
}

static void cred_free(struct wh_cred *c)
{
    unsigned i;

    for (i = 0; i < c->n_pcert; i++)
        gnutls_pcert_deinit(&c->pcert[i]);
    if (c->key != NULL)
        gnutls_privkey_deinit(c->key);
    cm_free(c);
}

void wh_cred_release(struct wh_cred *c)
{
    if (c == NULL)
        return;
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
        cred_free(c);
}

struct wh_cred *wh_tls_acquire(struct wh_tls *t)
{
    struct wh_cred *c;

    pthread_mutex_lock(&t->mu);
    c = t->cur;
    if (c != NULL)
        atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&t->mu);
    return c;
}

void wh_tls_swap(struct wh_tls *t, struct wh_cred *c)
{
    struct wh_cred *old;

    pthread_mutex_lock(&t->mu);
    old = t->cur;
    t->cur = c;
    pthread_mutex_unlock(&t->mu);
    wh_cred_release(old);
}

static int gtls_err(struct cm_err *err, int code, const char *what, int g)
{
    return cm_err_set(err, g == GNUTLS_E_MEMORY_ERROR ? CM_ENOMEM : code, "%s: %s", what,
                      gnutls_strerror(g));
}

/* The DER public keys of the leaf and of the private key are the same bytes. */
static int check_pair(struct wh_cred *c, const char *key_path, struct cm_err *err)
{
    gnutls_pubkey_t from_key = NULL;
    gnutls_datum_t a = {NULL, 0};
    gnutls_datum_t b = {NULL, 0};
    int rc = 0;
    int g;

    g = gnutls_pubkey_init(&from_key);
    if (g == 0)
        g = gnutls_pubkey_import_privkey(from_key, c->key, 0, 0);
    if (g == 0)
        g = gnutls_pubkey_export2(from_key, GNUTLS_X509_FMT_DER, &a);
    if (g == 0)
        g = gnutls_pubkey_export2(c->pcert[0].pubkey, GNUTLS_X509_FMT_DER, &b);
    if (g != 0)
        rc = gtls_err(err, CM_ETLS, key_path, g);
    else if (a.size != b.size || memcmp(a.data, b.data, a.size) != 0)
        rc = cm_err_set(err, CM_ETLS, "%s does not match the certificate", key_path);
    gnutls_free(a.data);
    gnutls_free(b.data);
    if (from_key != NULL)
        gnutls_pubkey_deinit(from_key);
    return rc;
}

static int leaf_not_after(struct wh_cred *c, struct cm_err *err)
{
    gnutls_x509_crt_t crt = NULL;
    int g = gnutls_x509_crt_init(&crt);

    if (g == 0)
        g = gnutls_x509_crt_import(crt, &c->pcert[0].cert, GNUTLS_X509_FMT_DER);
    if (g == 0) {
        c->not_after = gnutls_x509_crt_get_expiration_time(crt);
        if (c->not_after == (time_t)-1)
            g = GNUTLS_E_CERTIFICATE_ERROR;
    }
    if (crt != NULL)
        gnutls_x509_crt_deinit(crt);
    return g == 0 ? 0 : gtls_err(err, CM_ETLS, "certificate expiry", g);
}

int wh_cred_digest(const char *cert_path, const char *key_path, uint64_t *digest,
                   struct cm_err *err)
{
    char *cert = NULL;
    char *key = NULL;
    size_t cert_len = 0;
    size_t key_len = 0;
    int rc = cm_fs_read_file(cert_path, WH_MAX_PEM, &cert, &cert_len, err);

    if (rc == 0)
        rc = cm_fs_read_file(key_path, WH_MAX_PEM, &key, &key_len, err);
    if (rc == 0)
        *digest = wh_fnv1a(wh_fnv1a(WH_FNV_INIT, cert, cert_len), key, key_len);
    cm_free(cert);
    if (key != NULL)
        cm_free_secure(key, key_len);
    return rc;
}

int wh_cred_load(const char *cert_path, const char *key_path, struct wh_cred **out,
                 struct cm_err *err)
{
    char *cert = NULL;
    char *key = NULL;
    size_t cert_len = 0;
    size_t key_len = 0;
    struct wh_cred *c = NULL;
    gnutls_datum_t d;
    unsigned n = WH_MAX_CHAIN;
    int rc;
    int g;

    rc = cm_fs_read_file(cert_path, WH_MAX_PEM, &cert, &cert_len, err);
    if (rc == 0)
        rc = cm_fs_read_file(key_path, WH_MAX_PEM, &key, &key_len, err);
    if (rc != 0)
        goto cleanup;
    c = cm_calloc(1, sizeof(*c));
    if (c == NULL) {
        rc = cm_err_set(err, CM_ENOMEM, "out of memory");
        goto cleanup;
    }
    atomic_init(&c->refs, 1);
    d.data = (unsigned char *)cert;
    d.size = (unsigned)cert_len;
    g = gnutls_pcert_list_import_x509_raw(c->pcert, &n, &d, GNUTLS_X509_FMT_PEM, 0);
    if (g < 0 || n == 0) {
        rc = gtls_err(err, CM_ETLS, cert_path, g < 0 ? g : GNUTLS_E_BASE64_DECODING_ERROR);
        goto cleanup;
    }
    c->n_pcert = n;
    g = gnutls_privkey_init(&c->key);
    if (g == 0) {
        d.data = (unsigned char *)key;
        d.size = (unsigned)key_len;
        g = gnutls_privkey_import_x509_raw(c->key, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
    }
    if (g < 0) {
        rc = gtls_err(err, CM_ETLS, key_path, g);
        goto cleanup;
    }
    rc = check_pair(c, key_path, err);
    if (rc == 0)
        rc = leaf_not_after(c, err);
    if (rc != 0)
        goto cleanup;
    c->digest = wh_fnv1a(wh_fnv1a(WH_FNV_INIT, cert, cert_len), key, key_len);
    *out = c;
    c = NULL;
cleanup:
    if (c != NULL)
        cred_free(c);
    cm_free(cert);
    if (key != NULL)
        cm_free_secure(key, key_len);
    return rc;
}

int wh_tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                    gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *pkey)
{
    /* libmicrohttpd stores its connection as the session pointer; the connection's
     * socket context is the credential pinned when it was accepted. */
    struct MHD_Connection *conn = gnutls_session_get_ptr(session);
    const union MHD_ConnectionInfo *ci;
    struct wh_cred *c;

    (void)req_ca_dn;
    (void)nreqs;
    (void)pk_algos;
    (void)pk_algos_length;
    if (conn == NULL)
        return -1;
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    c = ci != NULL ? ci->socket_context : NULL;
    if (c == NULL)
        return -1;
    *pcert = c->pcert;
    *pcert_length = c->n_pcert;
    *pkey = c->key;
    return 0;
}
