/* SPDX-License-Identifier: Apache-2.0 */
/* kube_testca.h - a throwaway test CA made with OpenSSL's API at run time: one CA, a
 * server certificate for 127.0.0.1/localhost and a client certificate, all PEM in
 * memory. For tests only: keys are fresh per call and never written anywhere unless
 * a test does so itself.
 *
 * Thread-safety: create/destroy are thread-safe (no shared state); a created object
 * is immutable. */
#ifndef TESTS_SUPPORT_KUBE_TESTCA_H
#define TESTS_SUPPORT_KUBE_TESTCA_H

#include <stddef.h>

struct kube_testca {
    char *ca_cert_pem;     /* CA certificate (CN=lockwarden-test-ca), CA:TRUE */
    char *ca_key_pem;      /* CA private key (PKCS#8 PEM) */
    char *server_cert_pem; /* CN=127.0.0.1, SAN IP:127.0.0.1, DNS:localhost, serverAuth */
    char *server_key_pem;
    char *client_cert_pem; /* CN=<client_cn>, O=<client_org> (user and group), clientAuth */
    char *client_key_pem;
};

/* Makes a fresh CA (EC P-256 keys, valid from one hour ago for one day) and signs a
 * server and a client certificate with it. client_cn/client_org may be NULL
 * ("lockwarden-test" / "system:masters"). Returns 0, or -1 on any OpenSSL or
 * allocation failure (nothing is leaked). Free with kube_testca_destroy. */
int kube_testca_create(const char *client_cn, const char *client_org, struct kube_testca **out);
/* NULL-safe. Wipes the private keys. */
void kube_testca_destroy(struct kube_testca *ca);

#endif /* TESTS_SUPPORT_KUBE_TESTCA_H */
