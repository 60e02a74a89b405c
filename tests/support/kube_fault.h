/* SPDX-License-Identifier: Apache-2.0 */
/* kube_fault.h - a scripted, fault-injecting transport for the kube_ client (STYLE
 * section 10): each exchange pops the next scripted answer (an HTTP status with body
 * and Retry-After, or a transport error such as a reset, a timeout from a slow peer or
 * a TLS failure) and records what the client sent. Lets unit tests drive retries,
 * truncated JSON and OOM loops without any socket.
 *
 * Memory: the script and the record use malloc, never cm_malloc, so OOM loops count
 * only the client's allocations. Not thread-safe: one client, one test thread. */
#ifndef TESTS_SUPPORT_KUBE_FAULT_H
#define TESTS_SUPPORT_KUBE_FAULT_H

#include "backup/kube/kube.h"

#include <stdbool.h>
#include <stddef.h>

struct kube_fault;

/* Returns 0 or -1 (OOM). */
int kube_fault_create(struct kube_fault **out);
void kube_fault_destroy(struct kube_fault *f);
/* Makes clients created from cfg use f (f must outlive them). */
void kube_fault_attach(struct kube_fault *f, struct kube_config *cfg);

/* Queues one HTTP answer; body NULL = empty. retry_after_s -1 = no header. Returns 0/-1. */
int kube_fault_push(struct kube_fault *f, long status, long retry_after_s, const char *body);
/* Queues a transport failure: rc is CM_ECONN (reset/refused), CM_ETIMEDOUT (slow peer),
 * CM_ETLS, ...; msg goes into the error. Returns 0/-1. */
int kube_fault_push_error(struct kube_fault *f, int rc, const char *msg);
/* Answers every exchange past the end of the script with this (instead of an error
 * "script exhausted"). body copied; NULL clears. */
int kube_fault_set_default(struct kube_fault *f, long status, const char *body);

/* What the client sent, oldest first (i < count). Strings live until destroy. */
size_t kube_fault_count(const struct kube_fault *f);
const char *kube_fault_method(const struct kube_fault *f, size_t i);
const char *kube_fault_url(const struct kube_fault *f, size_t i);
const char *kube_fault_body(const struct kube_fault *f, size_t i);  /* "" when none */
const char *kube_fault_ctype(const struct kube_fault *f, size_t i); /* "" when none */
const char *kube_fault_auth(const struct kube_fault *f, size_t i);  /* "" when none */
/* Answers left in the script. */
size_t kube_fault_pending(const struct kube_fault *f);
/* How many times the transport was opened / closed (one per client). */
unsigned kube_fault_opens(const struct kube_fault *f);
unsigned kube_fault_closes(const struct kube_fault *f);

#endif /* TESTS_SUPPORT_KUBE_FAULT_H */
