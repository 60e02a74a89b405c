/* SPDX-License-Identifier: Apache-2.0 */
/* test_wh_connlimit.c - the shared connection limits: per address and in all, both
 * sides of each, IPv4 and IPv6 kept apart, slots given back on close, OOM. */
#include "webhook/wh_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static struct sockaddr_in v4(const char *ip, uint16_t port)
{
    struct sockaddr_in a;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    return a;
}

#define SA(x) ((const struct sockaddr *)(const void *)&(x))

static void test_per_address_both_sides(void **state)
{
    struct wh_connlimit l;
    struct sockaddr_in a1 = v4("10.0.0.1", 1000);
    struct sockaddr_in a1b = v4("10.0.0.1", 2000); /* same address, other port */
    struct sockaddr_in a2 = v4("10.0.0.2", 1000);

    (void)state;
    assert_int_equal(wh_connlimit_init(&l, 100, 2), 0);
    assert_true(wh_connlimit_allows(&l, SA(a1)));
    wh_connlimit_add(&l, SA(a1));
    assert_true(wh_connlimit_allows(&l, SA(a1b)));
    wh_connlimit_add(&l, SA(a1b));
    assert_false(wh_connlimit_allows(&l, SA(a1))); /* 2 is the limit */
    assert_true(wh_connlimit_allows(&l, SA(a2)));  /* another client is not starved */
    wh_connlimit_remove(&l, SA(a1));
    assert_true(wh_connlimit_allows(&l, SA(a1)));
    wh_connlimit_remove(&l, SA(a1b));
    assert_int_equal(l.total, 0);
    wh_connlimit_cleanup(&l);
}

static void test_total_both_sides(void **state)
{
    struct wh_connlimit l;
    struct sockaddr_in a[4];
    size_t i;

    (void)state;
    assert_int_equal(wh_connlimit_init(&l, 3, 100), 0);
    a[0] = v4("10.0.0.1", 1);
    a[1] = v4("10.0.0.2", 1);
    a[2] = v4("10.0.0.3", 1);
    a[3] = v4("10.0.0.4", 1);
    for (i = 0; i < 3; i++) {
        assert_true(wh_connlimit_allows(&l, SA(a[i])));
        wh_connlimit_add(&l, SA(a[i]));
    }
    assert_false(wh_connlimit_allows(&l, SA(a[3])));
    wh_connlimit_remove(&l, SA(a[0]));
    assert_true(wh_connlimit_allows(&l, SA(a[3])));
    wh_connlimit_remove(&l, SA(a[1]));
    wh_connlimit_remove(&l, SA(a[2]));
    wh_connlimit_cleanup(&l);
}

static void test_ipv6_and_unknown_family(void **state)
{
    struct wh_connlimit l;
    struct sockaddr_in6 a6;
    struct sockaddr_in a4 = v4("0.0.0.1", 1);
    struct sockaddr un;

    (void)state;
    memset(&a6, 0, sizeof(a6));
    a6.sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, "::1", &a6.sin6_addr), 1);
    memset(&un, 0, sizeof(un));
    un.sa_family = AF_UNIX;
    assert_int_equal(wh_connlimit_init(&l, 100, 1), 0);
    wh_connlimit_add(&l, SA(a6));
    assert_false(wh_connlimit_allows(&l, SA(a6)));
    assert_true(wh_connlimit_allows(&l, SA(a4))); /* not confused with ::1 */
    assert_true(wh_connlimit_allows(&l, &un));    /* total only */
    assert_true(wh_connlimit_allows(&l, NULL));
    wh_connlimit_add(&l, NULL);
    wh_connlimit_remove(&l, NULL);
    wh_connlimit_remove(&l, SA(a6));
    assert_int_equal(l.total, 0);
    wh_connlimit_cleanup(&l);
}

static void test_oom(void **state)
{
    struct wh_connlimit l;
    struct sockaddr_in a = v4("10.0.0.9", 1);

    (void)state;
    cm_alloc_fault_set(1);
    assert_int_equal(wh_connlimit_init(&l, 10, 1), CM_ENOMEM);
    cm_alloc_fault_set(0);
    wh_connlimit_cleanup(&l); /* safe after a failed init */
    assert_int_equal(wh_connlimit_init(&l, 10, 1), 0);
    cm_alloc_fault_set(1);
    wh_connlimit_add(&l, SA(a)); /* uncounted by address, counted in the total */
    cm_alloc_fault_set(0);
    assert_int_equal(l.total, 1);
    assert_true(wh_connlimit_allows(&l, SA(a)));
    wh_connlimit_remove(&l, SA(a));
    assert_int_equal(l.total, 0);
    wh_connlimit_cleanup(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_per_address_both_sides),
        cmocka_unit_test(test_total_both_sides),
        cmocka_unit_test(test_ipv6_and_unknown_family),
        cmocka_unit_test(test_oom),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
