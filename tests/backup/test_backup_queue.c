/* SPDX-License-Identifier: Apache-2.0 */
/* test_backup_queue.c - the bounded producer/consumer queue: order, bounds, close,
 * cancel, ownership of queued messages, out-of-memory, and a threaded run. */
#include "backup/backup_queue.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static _Atomic int freed;

static void count_free(void *m)
{
    freed++;
    free(m);
}

static int *num(int v)
{
    int *p = malloc(sizeof(*p));

    assert_non_null(p);
    *p = v;
    return p;
}

static int pop_num(struct backup_queue *q)
{
    void *m = NULL;
    int v;

    assert_int_equal(backup_queue_pop(q, &m), 0);
    assert_non_null(m);
    v = *(int *)m;
    free(m);
    return v;
}

static void test_create_bounds(void **state)
{
    struct backup_queue *q = NULL;

    (void)state;
    assert_int_equal(backup_queue_create(0, 1, NULL, &q), CM_EINVAL);
    assert_int_equal(backup_queue_create(1, 0, NULL, &q), CM_EINVAL);
    assert_null(q);
    assert_int_equal(backup_queue_create(1, 1, NULL, &q), 0);
    assert_non_null(q);
    backup_queue_destroy(q);
    backup_queue_destroy(NULL);
}

static void test_fifo_and_close(void **state)
{
    struct backup_queue *q = NULL;
    int *late = num(9);
    void *m = &m;
    int i;

    (void)state;
    freed = 0;
    assert_int_equal(backup_queue_create(3, 100, count_free, &q), 0);
    for (i = 0; i < 3; i++)
        assert_int_equal(backup_queue_push(q, num(i), 10), 0);
    assert_int_equal(pop_num(q), 0);
    assert_int_equal(backup_queue_push(q, num(3), 10), 0); /* the ring wraps */
    backup_queue_close(q);
    backup_queue_close(q); /* idempotent */
    /* closed: a push is refused and the message stays ours */
    assert_int_equal(backup_queue_push(q, late, 1), CM_EINVAL);
    free(late);
    assert_int_equal(backup_queue_push(q, NULL, 1), CM_EINVAL);
    /* closed, but what is queued is still delivered, in order */
    assert_int_equal(pop_num(q), 1);
    assert_int_equal(pop_num(q), 2);
    assert_int_equal(pop_num(q), 3);
    assert_int_equal(backup_queue_pop(q, &m), CM_ENOENT);
    assert_null(m);
    backup_queue_destroy(q);
    assert_int_equal(freed, 0);
}

static void test_destroy_frees_queued(void **state)
{
    struct backup_queue *q = NULL;

    (void)state;
    freed = 0;
    assert_int_equal(backup_queue_create(4, 100, count_free, &q), 0);
    assert_int_equal(backup_queue_push(q, num(1), 1), 0);
    assert_int_equal(backup_queue_push(q, num(2), 1), 0);
    backup_queue_destroy(q);
    assert_int_equal(freed, 2);
}

static void test_cancel(void **state)
{
    struct backup_queue *q = NULL;
    int *mine = num(7);
    void *m = NULL;

    (void)state;
    freed = 0;
    assert_int_equal(backup_queue_create(4, 100, count_free, &q), 0);
    assert_int_equal(backup_queue_push(q, num(1), 1), 0);
    assert_int_equal(backup_queue_push(q, num(2), 1), 0);
    backup_queue_cancel(q);
    assert_int_equal(freed, 2); /* queued messages are freed at once */
    assert_int_equal(backup_queue_push(q, mine, 1), CM_ECANCELED);
    free(mine); /* still the caller's */
    assert_int_equal(backup_queue_pop(q, &m), CM_ECANCELED);
    assert_null(m);
    backup_queue_cancel(q); /* idempotent */
    backup_queue_destroy(q);
    assert_int_equal(freed, 2);
}

/* A producer thread pushing `n` numbered messages of `bytes` each. */
struct producer {
    struct backup_queue *q;
    int n;
    size_t bytes;
    int rc; /* first failing push */
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    int i;

    p->rc = 0;
    for (i = 0; i < p->n; i++) {
        int *m = num(i);
        int rc = backup_queue_push(p->q, m, p->bytes);

        if (rc != 0) {
            free(m);
            p->rc = rc;
            return NULL;
        }
    }
    backup_queue_close(p->q);
    return NULL;
}

static void test_byte_bound(void **state)
{
    struct backup_queue *q = NULL;
    struct producer p;
    pthread_t t;

    (void)state;
    /* the limit passes without blocking: 4 + 6 bytes of a 10-byte queue */
    assert_int_equal(backup_queue_create(8, 10, count_free, &q), 0);
    assert_int_equal(backup_queue_push(q, num(0), 4), 0);
    assert_int_equal(backup_queue_push(q, num(1), 6), 0);
    assert_int_equal(pop_num(q), 0);
    assert_int_equal(pop_num(q), 1);
    /* an empty queue takes one message bigger than the bound */
    assert_int_equal(backup_queue_push(q, num(2), 1000), 0);
    assert_int_equal(pop_num(q), 2);
    /* limit + 1 waits for the consumer: 4 + 7 bytes; the producer's second push can
     * only complete after the first pop, and everything arrives in order */
    p.q = q;
    p.n = 2;
    p.bytes = 0;
    assert_int_equal(backup_queue_push(q, num(-1), 4), 0);
    p.bytes = 7;
    assert_int_equal(pthread_create(&t, NULL, produce, &p), 0);
    assert_int_equal(pop_num(q), -1);
    assert_int_equal(pop_num(q), 0);
    assert_int_equal(pop_num(q), 1);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(p.rc, 0);
    backup_queue_destroy(q);
}

static void test_cancel_wakes_blocked_producer(void **state)
{
    struct backup_queue *q = NULL;
    struct producer p;
    pthread_t t;

    (void)state;
    freed = 0;
    assert_int_equal(backup_queue_create(1, 100, count_free, &q), 0);
    p.q = q;
    p.n = 100; /* the second push blocks: one slot */
    p.bytes = 1;
    assert_int_equal(pthread_create(&t, NULL, produce, &p), 0);
    backup_queue_cancel(q);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(p.rc, CM_ECANCELED);
    backup_queue_destroy(q);
}

static void test_threaded_order(void **state)
{
    struct backup_queue *q = NULL;
    struct producer p;
    pthread_t t;
    void *m = NULL;
    int i;

    (void)state;
    assert_int_equal(backup_queue_create(7, 64, count_free, &q), 0);
    p.q = q;
    p.n = 20000;
    p.bytes = 5;
    assert_int_equal(pthread_create(&t, NULL, produce, &p), 0);
    for (i = 0; i < p.n; i++)
        assert_int_equal(pop_num(q), i);
    assert_int_equal(backup_queue_pop(q, &m), CM_ENOENT);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(p.rc, 0);
    backup_queue_destroy(q);
}

static void test_oom(void **state)
{
    long n;

    (void)state;
    for (n = 1;; n++) {
        struct backup_queue *q = NULL;
        int rc;

        cm_alloc_fault_set(n);
        rc = backup_queue_create(4, 4, NULL, &q);
        cm_alloc_fault_set(0);
        if (rc == 0) {
            backup_queue_destroy(q);
            break;
        }
        assert_int_equal(rc, CM_ENOMEM);
        assert_null(q);
        assert_true(n < 10);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_bounds),
        cmocka_unit_test(test_fifo_and_close),
        cmocka_unit_test(test_destroy_frees_queued),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_byte_bound),
        cmocka_unit_test(test_cancel_wakes_blocked_producer),
        cmocka_unit_test(test_threaded_order),
        cmocka_unit_test(test_oom),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
