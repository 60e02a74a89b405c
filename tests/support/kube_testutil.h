/* SPDX-License-Identifier: Apache-2.0 */
/* kube_testutil.h - small helpers for the kube_ tests: scratch directories, files,
 * a recording sleep and a cJSON check. Test-thread only. */
#ifndef TESTS_SUPPORT_KUBE_TESTUTIL_H
#define TESTS_SUPPORT_KUBE_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Makes a fresh directory "<$TMPDIR or $BUILD or build>/kube-test-XXXXXX" into buf.
 * Returns 0 or -1. */
int kube_test_mkdtemp(char *buf, size_t len);
/* Removes dir and the regular files and subdirectories in it (one level of nesting
 * is enough for these tests). NULL-safe. */
void kube_test_rmtree(const char *dir);
/* Writes data to dir/name (creating dir/sub for "sub/name"); path of the file into
 * out when out is not NULL. Returns 0 or -1. */
int kube_test_write(const char *dir, const char *name, const char *data, char *out, size_t outlen);

/* A sleep callback that records the delays instead of sleeping. */
struct kube_test_sleeps {
    uint64_t ms[64];
    size_t n;
    uint64_t total_ms;
};
void kube_test_sleep_record(uint64_t ms, void *ctx);

#endif /* TESTS_SUPPORT_KUBE_TESTUTIL_H */
