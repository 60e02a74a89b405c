/* SPDX-License-Identifier: Apache-2.0 */
/* wh_load.h - concurrent AdmissionReview load for robustness tests (reload and
 * certificate rotation under load must fail no request). Each thread owns one TLS
 * client and posts the same review until told to stop, counting answers.
 *
 * Design note: a request counts as ok when it got HTTP 200 and an AdmissionReview
 * echoing the uid; anything else (connection error, TLS failure, other status)
 * counts as failed and the first failure's reason is kept. Bounded by max_requests
 * per thread so a test never runs away. */
#ifndef TESTS_SUPPORT_WH_LOAD_H
#define TESTS_SUPPORT_WH_LOAD_H

#include "common/cm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#define WHT_LOAD_MAX_THREADS 8

struct wht_load;

struct wht_load_arg {
    struct wht_load *l;
    bool fresh;
};

struct wht_load {
    struct wht_load_arg args[WHT_LOAD_MAX_THREADS];
    pthread_t threads[WHT_LOAD_MAX_THREADS];
    size_t n_threads;
    atomic_bool stop;
    atomic_ulong ok;
    atomic_ulong failed;
    atomic_ulong allowed;
    atomic_ulong denied;
    pthread_mutex_t mu;
    char first_error[256];
    char url[256];
    char ca[320];
    const char *body; /* borrowed; must outlive the load */
    size_t len;
    const char *uid;      /* the uid every answer must echo */
    size_t fresh_threads; /* the first N threads connect anew for every request */
    unsigned long max_requests;
};

/* Starts threads posting body to url (trusting ca). Returns 0 or CM_ENOMEM. */
CM_NODISCARD int wht_load_start(struct wht_load *l, size_t threads, size_t fresh_threads,
                                const char *url, const char *ca, const char *body, size_t len,
                                const char *uid);
/* Blocks until every thread has completed at least n more requests than when called,
 * or timeout_ms pass. Returns 0 or CM_ETIMEDOUT. */
CM_NODISCARD int wht_load_wait_progress(struct wht_load *l, unsigned long n, int timeout_ms);
/* Stops and joins the threads. */
void wht_load_stop(struct wht_load *l);

#endif /* TESTS_SUPPORT_WH_LOAD_H */
