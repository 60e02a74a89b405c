/* SPDX-License-Identifier: Apache-2.0 */
/* test_wh_arena.c - the per-request arena: inline first, then heap chunks, alignment,
 * the limit on both sides, cleanups in reverse order, OOM. */
#include "webhook/wh_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

static int order[8];
static int n_order;

static void note(void *p)
{
    order[n_order++] = *(int *)p;
}

static void test_inline_then_heap_and_alignment(void **state)
{
    struct wh_arena *a = malloc(sizeof(*a));
    unsigned char *p;
    unsigned char *q;
    unsigned char *big;

    (void)state;
    assert_non_null(a);
    wh_arena_init(a, 1u << 20);
    p = wh_arena_alloc(a, 3);
    q = wh_arena_alloc(a, 5);
    assert_non_null(p);
    assert_non_null(q);
    assert_true(p >= a->inline_ && p < a->inline_ + sizeof(a->inline_));
    assert_int_equal((uintptr_t)q % 16, 0);
    assert_int_equal(q - p, 16);
    /* Past the inline chunk: a heap chunk, still usable and aligned. */
    big = wh_arena_alloc(a, WH_ARENA_INLINE);
    assert_non_null(big);
    assert_true(big < a->inline_ || big >= a->inline_ + sizeof(a->inline_));
    assert_int_equal((uintptr_t)big % 16, 0);
    memset(big, 0xab, WH_ARENA_INLINE);
    assert_non_null(wh_arena_alloc(a, 0));
    wh_arena_cleanup(a);
    free(a);
}

static void test_limit_both_sides(void **state)
{
    struct wh_arena *a = malloc(sizeof(*a));

    (void)state;
    assert_non_null(a);
    wh_arena_init(a, 4096);
    assert_non_null(wh_arena_alloc(a, 4096)); /* exactly the limit */
    assert_null(wh_arena_alloc(a, 1));        /* one more byte */
    wh_arena_cleanup(a);
    wh_arena_init(a, 4096);
    assert_null(wh_arena_alloc(a, 4097));
    assert_null(wh_arena_alloc(a, SIZE_MAX)); /* no overflow */
    wh_arena_cleanup(a);
    free(a);
}

static void test_cleanups_run_last_first(void **state)
{
    struct wh_arena *a = malloc(sizeof(*a));
    int one = 1;
    int two = 2;
    int three = 3;

    (void)state;
    assert_non_null(a);
    n_order = 0;
    wh_arena_init(a, 1u << 20);
    assert_int_equal(wh_arena_add_cleanup(a, note, &one), 0);
    assert_int_equal(wh_arena_add_cleanup(a, note, &two), 0);
    assert_non_null(wh_arena_alloc(a, 40000)); /* cleanups survive a heap chunk */
    assert_int_equal(wh_arena_add_cleanup(a, note, &three), 0);
    wh_arena_cleanup(a);
    assert_int_equal(n_order, 3);
    assert_int_equal(order[0], 3);
    assert_int_equal(order[2], 1);
    free(a);
}

static void test_oom(void **state)
{
    struct wh_arena *a = malloc(sizeof(*a));
    int one = 1;

    (void)state;
    assert_non_null(a);
    n_order = 0;
    wh_arena_init(a, 1u << 24);
    assert_non_null(wh_arena_alloc(a, WH_ARENA_INLINE)); /* fill the inline chunk */
    cm_alloc_fault_set(1);
    assert_null(wh_arena_alloc(a, 100)); /* needs a chunk: fails */
    assert_true(cm_alloc_fault_fired());
    cm_alloc_fault_set(1);
    /* A cleanup that cannot be registered runs at once: nothing leaks. */
    assert_int_equal(wh_arena_add_cleanup(a, note, &one), CM_ENOMEM);
    cm_alloc_fault_set(0);
    assert_int_equal(n_order, 1);
    wh_arena_cleanup(a);
    assert_int_equal(n_order, 1);
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inline_then_heap_and_alignment),
        cmocka_unit_test(test_limit_both_sides),
        cmocka_unit_test(test_cleanups_run_last_first),
        cmocka_unit_test(test_oom),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
