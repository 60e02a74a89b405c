/* SPDX-License-Identifier: Apache-2.0 */
/* test_wh_snapshot.c - refcounted policy snapshots: generations, a reader keeps its set
 * across a swap, concurrent readers and swaps (ASan catches a use after free), loading
 * from disk with a digest that follows the contents, and a bad file leaving nothing. */
#include "webhook/wh_int.h"
#include "tests/support/wh_env.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char doc[] = "apiVersion: lockwarden.io/v1alpha1\n"
                          "kind: BackupPolicy\n"
                          "metadata: {name: gold}\n"
                          "spec:\n"
                          "  schedule: \"@daily\"\n"
                          "  location: {bucket: lockwarden-gold}\n";

static struct policy_set *make_set(void)
{
    struct policy_loader *l = NULL;
    struct policy_set *s = NULL;
    struct cm_err err;

    assert_int_equal(policy_loader_create(&l, &err), 0);
    assert_int_equal(policy_loader_add(l, "gold.yaml", doc, sizeof(doc) - 1, &err), 0);
    assert_int_equal(policy_loader_finish(l, &s, &err), 0);
    return s;
}

static void test_generations_and_pinning(void **state)
{
    struct wh_holder h;
    struct wh_snapshot *a;
    struct wh_snapshot *b;

    (void)state;
    assert_int_equal(wh_holder_init(&h), 0);
    assert_null(wh_snapshot_acquire(&h));
    assert_int_equal(wh_holder_swap(&h, make_set(), 11), 0);
    a = wh_snapshot_acquire(&h);
    assert_non_null(a);
    assert_int_equal(a->generation, 1);
    assert_int_equal(a->digest, 11);
    assert_int_equal(wh_holder_swap(&h, make_set(), 22), 0);
    b = wh_snapshot_acquire(&h);
    assert_int_equal(b->generation, 2);
    /* The old snapshot still works for whoever holds it. */
    assert_non_null(policy_set_backup_find(a->set, "gold", 4));
    wh_snapshot_release(a);
    wh_snapshot_release(b);
    wh_snapshot_release(NULL);
    wh_holder_cleanup(&h);
}

struct race {
    struct wh_holder *h;
    atomic_bool stop;
    atomic_ulong reads;
};

static void *reader(void *p)
{
    struct race *r = p;

    /* At least one read each, however late the thread is scheduled. */
    do {
        struct wh_snapshot *s = wh_snapshot_acquire(r->h);

        assert_non_null(s);
        if (policy_set_backup_find(s->set, "gold", 4) == NULL)
            abort();
        wh_snapshot_release(s);
        atomic_fetch_add(&r->reads, 1);
    } while (!atomic_load(&r->stop));
    return NULL;
}

static void test_concurrent_readers_and_swaps(void **state)
{
    struct wh_holder h;
    struct race r;
    pthread_t t[4];
    uint64_t deadline;
    size_t i;
    struct wh_snapshot *s;

    (void)state;
    assert_int_equal(wh_holder_init(&h), 0);
    assert_int_equal(wh_holder_swap(&h, make_set(), 1), 0);
    r.h = &h;
    atomic_init(&r.stop, false);
    atomic_init(&r.reads, 0);
    for (i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, reader, &r), 0);
    /* Swap only once the readers are running, so that the two really overlap (poll with
     * a deadline: a loaded machine may start the threads late). */
    deadline = cm_time_mono_ns() + 10ull * 1000000000u;
    while (atomic_load(&r.reads) < 4 && cm_time_mono_ns() < deadline)
        sched_yield();
    assert_true(atomic_load(&r.reads) >= 4);
    for (i = 0; i < 300; i++)
        assert_int_equal(wh_holder_swap(&h, make_set(), i + 2), 0);
    atomic_store(&r.stop, true);
    for (i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_true(atomic_load(&r.reads) > 0);
    s = wh_snapshot_acquire(&h);
    assert_int_equal(s->generation, 301);
    wh_snapshot_release(s);
    wh_holder_cleanup(&h);
}

static void test_swap_oom_keeps_old(void **state)
{
    struct wh_holder h;
    struct policy_set *set = make_set();
    struct wh_snapshot *s;

    (void)state;
    assert_int_equal(wh_holder_init(&h), 0);
    assert_int_equal(wh_holder_swap(&h, make_set(), 5), 0);
    cm_alloc_fault_set(1);
    assert_int_equal(wh_holder_swap(&h, set, 6), CM_ENOMEM); /* set is destroyed */
    cm_alloc_fault_set(0);
    s = wh_snapshot_acquire(&h);
    assert_int_equal(s->digest, 5);
    wh_snapshot_release(s);
    wh_holder_cleanup(&h);
}

static void test_load_from_disk_and_digest(void **state)
{
    struct wht_env e;
    char paths[1][WH_PATH_MAX];
    struct policy_set *set = NULL;
    uint64_t d1 = 0;
    uint64_t d2 = 0;
    uint64_t d3 = 0;
    struct cm_err err;

    (void)state;
    assert_int_equal(wht_env_setup(&e, NULL), 0);
    (void)snprintf(paths[0], sizeof(paths[0]), "%s", e.policies);
    assert_int_equal(wh_policies_load(paths, 1, &set, &d1, &err), 0);
    assert_true(policy_set_backup_count(set) >= 3);
    policy_set_destroy(set);
    assert_int_equal(wh_policies_digest(paths, 1, &d2, &err), 0);
    assert_true(d1 == d2);
    assert_int_equal(wht_env_write_policy(&e, "extra.yaml", doc), 0);
    assert_int_equal(wh_policies_digest(paths, 1, &d3, &err), 0);
    assert_true(d3 != d2);
    /* A broken file: an error naming it, and no set. */
    assert_int_equal(wht_env_write_policy(&e, "zz-broken.yaml", "kind: [x\n"), 0);
    set = NULL;
    assert_int_not_equal(wh_policies_load(paths, 1, &set, &d1, &err), 0);
    assert_null(set);
    assert_non_null(strstr(err.msg, "zz-broken.yaml"));
    wht_env_teardown(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generations_and_pinning),
        cmocka_unit_test(test_concurrent_readers_and_swaps),
        cmocka_unit_test(test_swap_oom_keeps_old),
        cmocka_unit_test(test_load_from_disk_and_digest),
    };

    policy_json_hooks_install();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
