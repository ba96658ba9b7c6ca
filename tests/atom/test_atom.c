/* tests/atom/test_atom.c: atom semantics (swap, reset, compare_and_set, the _vals forms,
 * validators, watches, errors) and exact counts under concurrent swaps by threads and
 * fibers. */
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "check.h"

#include "ringfold.h"
#include "runtime/sched/sched.h"

static int times10(rf_val old, rf_val arg, rf_val *out)
{
	*out = old * 10 + arg;
	return 0;
}

static int fails(rf_val old, rf_val arg, rf_val *out)
{
	return -ERANGE;
}

static void test_basics(void **state)
{
	rf_atom a;
	rf_val v, o;
	assert_int_equal(rf_atom_init(&a, 5), 0);
	assert_int_equal(rf_deref(&a, &v), 0);
	assert_int_equal(v, 5);
	/* (swap! a + 10) */
	assert_int_equal(rf_atom_swap(&a, rf_add, 10, &v), 0);
	assert_int_equal(v, 15);
	assert_int_equal(rf_atom_swap(&a, rf_inc, 0, &v), 0);
	assert_int_equal(v, 16);
	assert_int_equal(rf_atom_swap(&a, rf_dec, 0, NULL), 0);
	assert_int_equal(rf_atom_swap(&a, times10, 1, &v), 0);
	assert_int_equal(v, 151);
	/* swap-vals! returns [old new] */
	assert_int_equal(rf_atom_swap_vals(&a, rf_max, 200, &o, &v), 0);
	assert_int_equal(o, 151);
	assert_int_equal(v, 200);
	/* a failing fn changes nothing and its code comes back unchanged */
	assert_int_equal(rf_atom_swap(&a, fails, 0, &v), -ERANGE);
	assert_int_equal(rf_deref(&a, &v), 0);
	assert_int_equal(v, 200);
	/* reset! and reset-vals! */
	assert_int_equal(rf_atom_reset(&a, 7), 0);
	assert_int_equal(rf_atom_reset_vals(&a, 8, &o), 0);
	assert_int_equal(o, 7);
	/* compare-and-set! */
	assert_int_equal(rf_atom_compare_and_set(&a, 7, 9), 0);
	assert_int_equal(rf_atom_compare_and_set(&a, 8, 9), 1);
	assert_int_equal(rf_deref(&a, &v), 0);
	assert_int_equal(v, 9);
	assert_int_equal(rf_atom_compare_and_set(&a, 9, 9), 1);
	assert_int_equal(rf_atom_destroy(&a), 0);
	assert_int_equal(rf_atom_destroy(&a), -EBADF);
	assert_int_equal(rf_atom_destroy(NULL), -EINVAL);
	assert_int_equal(rf_deref(&a, &v), -EBADF);
	assert_int_equal(rf_atom_swap(&a, rf_inc, 0, NULL), -EBADF);
	assert_int_equal(rf_atom_reset(&a, 1), -EBADF);
}

static void test_errors(void **state)
{
	rf_atom *a;
	rf_val v;
	assert_int_equal(rf_atom_new(1, &a), 0);
	assert_int_equal(rf_deref((rf_atom *)NULL, &v), -EINVAL);
	assert_int_equal(rf_atom_deref(a, NULL), -EINVAL);
	assert_int_equal(rf_atom_swap(a, NULL, 0, NULL), -EINVAL);
	assert_int_equal(rf_atom_swap(NULL, rf_inc, 0, NULL), -EINVAL);
	assert_int_equal(rf_atom_reset(NULL, 1), -EINVAL);
	assert_int_equal(rf_atom_compare_and_set(NULL, 1, 2), -EINVAL);
	assert_int_equal(rf_atom_add_watch(a, 1, NULL, 0), -EINVAL);
	assert_int_equal(rf_atom_new(1, NULL), -EINVAL);
	assert_int_equal(rf_atom_init_owning(a, 1, NULL, 0), -EINVAL);
	assert_int_equal(rf_atom_init(NULL, 1), -EINVAL);
	rf_atom_free(a);
	rf_atom_free(NULL);
}

/* Validator: (set-validator! a pos?) */
static int positive(rf_val v, rf_val ctx)
{
	return v > 0;
}
static int picky(rf_val v, rf_val ctx)
{
	return v == ctx ? -EDOM : 1;
}

static void test_validator(void **state)
{
	rf_atom a;
	rf_val v, fnctx;
	rf_validator_fn fn;
	assert_int_equal(rf_atom_init(&a, 0), 0);
	/* setting a validator checks the current value first: 0 is not positive */
	assert_int_equal(rf_atom_set_validator(&a, positive, 0), RF_EVALIDATOR);
	assert_int_equal(rf_atom_get_validator(&a, &fn, NULL), 0);
	assert_null(fn);
	assert_int_equal(rf_atom_reset(&a, 3), 0);
	assert_int_equal(rf_atom_set_validator(&a, positive, 0), 0);
	assert_int_equal(rf_atom_get_validator(&a, &fn, &fnctx), 0);
	assert_ptr_equal(fn, positive);
	/* rejections leave the value alone and return the distinct error */
	assert_int_equal(rf_atom_swap(&a, rf_add, -10, &v), RF_EVALIDATOR);
	assert_int_equal(rf_atom_reset(&a, -1), RF_EVALIDATOR);
	assert_int_equal(rf_atom_compare_and_set(&a, 3, 0), RF_EVALIDATOR);
	assert_int_equal(rf_deref(&a, &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(rf_atom_swap(&a, rf_add, 1, &v), 0);
	assert_int_equal(v, 4);
	/* a validator's own code (Clojure: the exception it throws) comes back unchanged */
	assert_int_equal(rf_atom_set_validator(&a, picky, 5), 0);
	assert_int_equal(rf_atom_swap(&a, rf_inc, 0, &v), -EDOM);
	assert_int_equal(rf_atom_swap(&a, rf_add, 2, &v), 0);
	assert_int_equal(v, 6);
	/* removing it */
	assert_int_equal(rf_atom_set_validator(&a, NULL, 0), 0);
	assert_int_equal(rf_atom_reset(&a, -5), 0);
	assert_int_equal(rf_atom_destroy(&a), 0);
}

struct seen {
	int calls;
	rf_val key, old_val, new_val;
	rf_atom *atom;
};

static int watch(rf_val key, void *atom, rf_val old_val, rf_val new_val, rf_val ctx)
{
	struct seen *s = rf_to_ptr(ctx);
	s->calls++;
	s->key = key;
	s->atom = atom;
	s->old_val = old_val;
	s->new_val = new_val;
	return 0;
}

static int failing_watch(rf_val key, void *atom, rf_val old_val, rf_val new_val, rf_val ctx)
{
	return (int)ctx;
}

static void test_watches(void **state)
{
	rf_atom a;
	struct seen s1 = {0}, s2 = {0};
	assert_int_equal(rf_atom_init(&a, 1), 0);
	assert_int_equal(rf_atom_add_watch(&a, 100, watch, rf_from_ptr(&s1)), 0);
	assert_int_equal(rf_atom_add_watch(&a, 200, watch, rf_from_ptr(&s2)), 0);
	assert_int_equal(rf_atom_swap(&a, rf_add, 4, NULL), 0);
	assert_int_equal(s1.calls, 1);
	assert_int_equal(s1.key, 100);
	assert_ptr_equal(s1.atom, &a);
	assert_int_equal(s1.old_val, 1);
	assert_int_equal(s1.new_val, 5);
	assert_int_equal(s2.calls, 1);
	assert_int_equal(s2.key, 200);
	/* reset and a successful compare_and_set notify; a failed one does not */
	assert_int_equal(rf_atom_reset(&a, 9), 0);
	assert_int_equal(s1.old_val, 5);
	assert_int_equal(s1.new_val, 9);
	assert_int_equal(rf_atom_compare_and_set(&a, 1, 2), 0);
	assert_int_equal(s1.calls, 2);
	assert_int_equal(rf_atom_compare_and_set(&a, 9, 2), 1);
	assert_int_equal(s1.calls, 3);
	/* same key: replaced, not added */
	struct seen s3 = {0};
	assert_int_equal(rf_atom_add_watch(&a, 100, watch, rf_from_ptr(&s3)), 0);
	assert_int_equal(rf_atom_swap(&a, rf_inc, 0, NULL), 0);
	assert_int_equal(s1.calls, 3);
	assert_int_equal(s3.calls, 1);
	assert_int_equal(s2.calls, 4);
	/* removed: no more calls; removing an absent key is fine */
	assert_int_equal(rf_atom_remove_watch(&a, 200), 0);
	assert_int_equal(rf_atom_remove_watch(&a, 12345), 0);
	assert_int_equal(rf_atom_swap(&a, rf_inc, 0, NULL), 0);
	assert_int_equal(s2.calls, 4);
	assert_int_equal(s3.calls, 2);
	/* a rejected change notifies nobody */
	assert_int_equal(rf_atom_set_validator(&a, positive, 0), 0);
	assert_int_equal(rf_atom_reset(&a, -1), RF_EVALIDATOR);
	assert_int_equal(s3.calls, 2);
	/* a watch's code comes back after the change, and the other watches still run */
	assert_int_equal(rf_atom_add_watch(&a, 300, failing_watch, -EDOM), 0);
	rf_val now, seen;
	assert_int_equal(rf_atom_swap(&a, rf_add, 10, &now), -EDOM);
	assert_int_equal(rf_atom_deref(&a, &seen), 0);
	assert_int_equal(seen, now);
	assert_int_equal(s3.calls, 3);
	assert_int_equal(rf_atom_reset(&a, 1), -EDOM);
	assert_int_equal(rf_atom_compare_and_set(&a, 1, 2), -EDOM);
	assert_int_equal(rf_atom_deref(&a, &seen), 0);
	assert_int_equal(seen, 2);
	assert_int_equal(s3.calls, 5);
	assert_int_equal(rf_atom_remove_watch(&a, 100), 0);
	assert_int_equal(rf_atom_destroy(&a), 0);
}

/* N threads swap concurrently while others add and remove watches: the count is exact. */
enum { THREADS = 4, SWAPS = 50000 };
static rf_atom counter;
static _Atomic long watch_calls;

static int add_slowly(rf_val old, rf_val arg, rf_val *out)
{
	*out = old + arg; /* a generic function: the CAS-retry path, not fetch-and-add */
	return 0;
}

static int count_watch(rf_val key, void *atom, rf_val old_val, rf_val new_val, rf_val ctx)
{
	RF_CHECK(new_val == old_val + 1 || new_val == old_val + 2);
	atomic_fetch_add_explicit(&watch_calls, 1, memory_order_relaxed);
	return 0;
}

static void *swapper(void *arg)
{
	for (int i = 0; i < SWAPS; i++) {
		RF_CHECK_EQ(rf_atom_swap(&counter, rf_inc, 0, NULL), 0);
		RF_CHECK_EQ(rf_atom_swap(&counter, add_slowly, 2, NULL), 0);
	}
	return NULL;
}

static void *watcher(void *arg)
{
	for (int i = 0; i < 2000; i++) {
		RF_CHECK_EQ(rf_atom_add_watch(&counter, (rf_val)(intptr_t)arg, count_watch, 0), 0);
		RF_CHECK_EQ(rf_atom_remove_watch(&counter, (rf_val)(intptr_t)arg), 0);
	}
	return NULL;
}

static void test_concurrent_threads(void **state)
{
	pthread_t t[THREADS + 2];
	assert_int_equal(rf_atom_init(&counter, 0), 0);
	for (intptr_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, swapper, NULL), 0);
	for (intptr_t i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[THREADS + i], NULL, watcher, (void *)i), 0);
	for (int i = 0; i < THREADS + 2; i++)
		pthread_join(t[i], NULL);
	rf_val v;
	assert_int_equal(rf_deref(&counter, &v), 0);
	assert_int_equal(v, (rf_val)THREADS * SWAPS * 3);
	rf_atom_destroy(&counter);
	rf_reclaim_barrier(); /* the retired watch lists: freed before the leak check */
}

/* Fibers swapping concurrently (with threads at the same time). */
enum { FIBERS = 16, FIBER_SWAPS = 5000 };
static sem_t fibers_done;

static void fiber_swapper(void *arg)
{
	for (int i = 0; i < FIBER_SWAPS; i++) {
		rf_atom_swap(&counter, add_slowly, 1, NULL);
		if (i % 100 == 0)
			fiber_yield();
	}
	sem_post(&fibers_done);
}

static void test_concurrent_fibers(void **state)
{
	assert_int_equal(rf_atom_init(&counter, 0), 0);
	assert_int_equal(sem_init(&fibers_done, 0, 0), 0);
	for (int i = 0; i < FIBERS; i++)
		assert_int_equal(fiber_spawn(fiber_swapper, NULL, SCHED_WORKER_ANY, NULL), 0);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, swapper, NULL), 0);
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 30;
	for (int i = 0; i < FIBERS; i++)
		assert_int_equal(sem_timedwait(&fibers_done, &deadline), 0);
	pthread_join(t, NULL);
	rf_val v;
	assert_int_equal(rf_deref(&counter, &v), 0);
	assert_int_equal(v, (rf_val)FIBERS * FIBER_SWAPS + (rf_val)SWAPS * 3);
	rf_atom_destroy(&counter);
	sem_destroy(&fibers_done);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basics),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_validator),
	    cmocka_unit_test(test_watches),
	    cmocka_unit_test(test_concurrent_threads),
	    cmocka_unit_test(test_concurrent_fibers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
