/* tests/regress/test_chan_spinlock.c: channels never allocate nor run user code under a
 * spin lock, and running out of memory in a transformation is an error, not abort().
 *
 * Guards: a transformed channel's step ran under the channel's spin lock (on put, on the
 * refill of a take from waiting puts, at close, and inside alts holding the spin locks
 * of every channel of the alts); a callback put/take allocated its wait record under the
 * spin lock; the ring's growth called abort() on ENOMEM.
 *
 * The transformations here check, on every call, that no spin lock is held: in debug
 * builds (RF_DEBUG_INVARIANTS, the asan preset) a violation aborts with both places named,
 * and so does an allocation under a spin lock anywhere in the library. Every build checks
 * the results.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "check.h"
#include "ringfold.h"
#include "runtime/base/lockrank.h"

static atomic_int steps;

/* (mapcat (fn [v] [v v])) that also allocates, as user code may. */
static int twice(rf_xform *xf, rf_val v, rf_xform_sink *sink)
{
	LOCKRANK_NO_SPIN("a transformation's step");
	void *p = malloc(64); /* user code may allocate */
	RF_CHECK(p != NULL);
	free(p);
	atomic_fetch_add(&steps, 1);
	rf_xform_emit(sink, v);
	rf_xform_emit(sink, v);
	return 0;
}

static void last_at_close(rf_xform *xf, rf_xform_sink *sink)
{
	LOCKRANK_NO_SPIN("a transformation's flush");
	rf_xform_emit(sink, -1);
}

static rf_chan *doubling(size_t n)
{
	rf_xform xf = {.step = twice, .flush = last_at_close};
	rf_chan *c;
	assert_int_equal(rf_chan_new_xform(RF_BUF_FIXED, n, &xf, &c), 0);
	return c;
}

/* Put, take (with the refill from a waiting put), close with a flush. */
static void test_xform_put_take_close(void **state)
{
	rf_chan *c = doubling(2);
	rf_val v;
	assert_int_equal(rf_chan_put(c, 1), 0); /* emits 1 1: full */
	/* the next put waits: a callback put, whose record is allocated outside the lock */
	assert_int_equal(rf_chan_put_async(c, 2, NULL, 0), 0);
	assert_int_equal(rf_chan_take(c, &v), 0); /* 1, and the refill runs 2's step */
	assert_int_equal(v, 1);
	int64_t want[] = {1, 2, 2};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(rf_chan_poll(c, &v), 0);
		assert_int_equal(v, want[i]);
	}
	rf_chan_close(c); /* the flush emits -1 */
	assert_int_equal(rf_chan_take(c, &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(rf_chan_take(c, &v), RF_ECLOSED);
	assert_int_equal(atomic_load(&steps) >= 2, 1);
	rf_chan_release(c);
}

/* alts over a transformed channel and plain ones, in both directions, both orders of
 * priority: the xf clause runs with every other lock dropped. */
static void test_alts_mixed(void **state)
{
	rf_chan *x = doubling(4), *a, *b;
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, 1, &a), 0);
	assert_int_equal(rf_chan_new(&b), 0);
	for (int round = 0; round < 200; round++) {
		rf_alt puts[] = {{.ch = b, .put = true, .val = 5},
		                 {.ch = x, .put = true, .val = round}};
		int which;
		assert_int_equal(rf_alts(puts, 2, RF_ALT_PRIORITY, &which, NULL), 0);
		assert_int_equal(which, 1); /* b has no taker; x has room */
		rf_alt takes[] = {{.ch = a}, {.ch = x}};
		rf_val v;
		for (int k = 0; k < 2; k++) {
			assert_int_equal(rf_alts(takes, 2, 0, &which, &v), 0);
			assert_int_equal(which, 1);
			assert_int_equal(v, round);
		}
		assert_int_equal(rf_alts_timeout(takes, 2, 0, 0, &which, &v), -ETIMEDOUT);
	}
	rf_chan_release(x);
	rf_chan_release(a);
	rf_chan_release(b);
}

/* Callback puts and takes racing from two threads: whichever finds the other side waiting
 * completes at once, the other allocates its record outside the lock and retries. Every
 * value arrives exactly once. */
enum { RACE_N = 20000 };
static atomic_int seen[RACE_N];
static atomic_int delivered;

static void on_take(int rc, rf_val v, rf_val ctx)
{
	RF_CHECK_EQ(rc, 0);
	RF_CHECK(v >= 0 && v < RACE_N);
	RF_CHECK_EQ(atomic_fetch_add(&seen[v], 1), 0);
	atomic_fetch_add(&delivered, 1);
}

static void *async_putter(void *arg)
{
	for (int i = 0; i < RACE_N; i++) {
		int rc;
		while ((rc = rf_chan_put_async(arg, i, NULL, 0)) == RF_EPENDINGLIMIT)
			sched_yield(); /* ran ahead of the takes by the pending limit */
		RF_CHECK_EQ(rc, 0);
	}
	return NULL;
}

static void test_async_race(void **state)
{
	rf_chan *c;
	assert_int_equal(rf_chan_new(&c), 0);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, async_putter, c), 0);
	int rc;
	for (int i = 0; i < RACE_N; i++) {
		while ((rc = rf_chan_take_async(c, on_take, 0)) == RF_EPENDINGLIMIT)
			sched_yield(); /* ran ahead of the puts by the pending limit */
		assert_int_equal(rc, 0);
	}
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&delivered), RACE_N);
	rf_chan_release(c);
}

/* Out of memory while a transformation expands the ring: the put says -ENOMEM, the value
 * that did not fit is dropped, what fitted stays, and the channel goes on working. */
static void test_xform_enomem(void **state)
{
#ifndef RF_DEBUG_INVARIANTS
	skip(); /* allocation failures are injected by the debug build's allocator check */
#else
	rf_chan *c = doubling(1);
	debug_alloc_fail_set(true);
	int rc = rf_chan_put(c, 7); /* 7 fits, its copy needs a bigger ring */
	debug_alloc_fail_set(false);
	assert_int_equal(rc, -ENOMEM);
	rf_val v;
	assert_int_equal(rf_chan_poll(c, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(rf_chan_poll(c, &v), -EAGAIN);
	assert_int_equal(rf_chan_put(c, 8), 0); /* grows now */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(rf_chan_poll(c, &v), 0);
		assert_int_equal(v, 8);
	}
	rf_chan_release(c);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_xform_put_take_close),
	    cmocka_unit_test(test_alts_mixed),
	    cmocka_unit_test(test_async_race),
	    cmocka_unit_test(test_xform_enomem),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rf_shutdown();
	return rc;
}
