/* rf_shutdown with fibers parked on every kind of wait: each wait ends with
 * RF_ESHUTDOWN, the fiber returns, and what it waited on is left clean (the next put,
 * take, deliver, unlock, close or timer on it touches no freed stack: ASan checks);
 * every future accepted before the shutdown is realized; a restart works. Both
 * backends (the @epoll run). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "executor/fiber_check.h"
#include "ringfold/chan.h"
#include "ringfold/deferred.h"
#include "ringfold/fj.h"
#include "ringfold/future.h"
#include "ringfold/io.h"
#include "ringfold/lock.h"
#include "ringfold/promise.h"
#include "ringfold/runtime.h"

enum { PER_KIND = 40 };

/* What every parked body shares: the objects it waits on and a count of bodies that got
 * as far as their wait. */
static struct {
	rf_chan *take_ch, *put_ch, *alt_a, *alt_b, *tmo_short;
	rf_promise *promise;
	rf_deferred *deferred;
	rf_lock *lock;
	rf_future *inner;
	int pipe_r, pipe_w;
	_Atomic int entered;
} g;

static int wait_take(rf_val arg, rf_val *out)
{
	atomic_fetch_add(&g.entered, 1);
	return rf_chan_take(g.take_ch, out);
}

static int wait_put(rf_val arg, rf_val *out)
{
	atomic_fetch_add(&g.entered, 1);
	return rf_chan_put(g.put_ch, arg);
}

static int wait_alts(rf_val arg, rf_val *out)
{
	rf_alt ops[2] = {{g.alt_a, false, 0}, {g.alt_b, true, arg}};
	int which;
	atomic_fetch_add(&g.entered, 1);
	return rf_alts(ops, 2, 0, &which, out);
}

static int wait_promise(rf_val arg, rf_val *out)
{
	atomic_fetch_add(&g.entered, 1);
	return rf_promise_deref(g.promise, out);
}

static int wait_deferred(rf_val arg, rf_val *out)
{
	atomic_fetch_add(&g.entered, 1);
	return rf_deferred_deref(g.deferred, out);
}

static int wait_lock(rf_val arg, rf_val *out)
{
	atomic_fetch_add(&g.entered, 1);
	int rc = rf_lock_lock(g.lock);
	if (rc == 0)
		rf_lock_unlock(g.lock);
	return rc == 0 ? -EBUSY : rc; /* the test thread holds it: 0 is wrong */
}

static int wait_future(rf_val arg, rf_val *out)
{
	atomic_fetch_add(&g.entered, 1);
	return rf_future_deref(g.inner, out);
}

static int wait_timeout_chan(rf_val arg, rf_val *out)
{
	rf_chan *t;
	RF_CHECK(rf_chan_timeout(3600000, &t) == 0);
	atomic_fetch_add(&g.entered, 1);
	int rc = rf_chan_take(t, out);
	rf_chan_release(t);
	return rc;
}

/* A timeout channel that closes after the shutdown, with nobody waiting any more. */
static int wait_short_timeout(rf_val arg, rf_val *out)
{
	atomic_fetch_add(&g.entered, 1);
	return rf_chan_take(g.tmo_short, out);
}

static int wait_io(rf_val arg, rf_val *out)
{
	char c;
	atomic_fetch_add(&g.entered, 1);
	ssize_t n = rf_io_read(g.pipe_r, &c, 1);
	return n < 0 ? (int)n : -EBUSY; /* nothing is written: a byte is wrong */
}

static int wait_sleep(rf_val arg, rf_val *out)
{
	atomic_fetch_add(&g.entered, 1);
	return rf_sleep_ms(3600000);
}

static int inner_body(rf_val arg, rf_val *out)
{
	rf_val v;
	return rf_chan_take(g.take_ch, &v);
}

static rf_body_fn kinds[] = {wait_take,          wait_put,  wait_alts,   wait_promise,
                             wait_deferred,      wait_lock, wait_future, wait_timeout_chan,
                             wait_short_timeout, wait_io,   wait_sleep};
static const char *kind_names[] = {"chan take",          "chan put", "alts",   "promise",
                                   "deferred",           "lock",     "future", "timeout chan",
                                   "short timeout chan", "io read",  "sleep"};
enum { NKINDS = sizeof(kinds) / sizeof(kinds[0]) };

static void wait_entered(int n)
{
	for (int i = 0; i < WAIT_MS && atomic_load(&g.entered) < n; i++) {
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	assert_int_equal(atomic_load(&g.entered), n);
}

static void every_kind_of_parked_wait(void **state)
{
	for (int round = 0; round < 2; round++) {
		memset(&g, 0, sizeof(g));
		assert_int_equal(rf_chan_new(&g.take_ch), 0);
		assert_int_equal(rf_chan_new(&g.put_ch), 0);
		assert_int_equal(rf_chan_new(&g.alt_a), 0);
		assert_int_equal(rf_chan_new(&g.alt_b), 0);
		assert_int_equal(rf_chan_timeout(100, &g.tmo_short), 0);
		assert_int_equal(rf_promise_new(&g.promise), 0);
		assert_int_equal(rf_deferred_new(&g.deferred), 0);
		assert_int_equal(rf_lock_new(&g.lock), 0);
		assert_int_equal(rf_lock_lock(g.lock), 0);
		int p[2];
		assert_int_equal(pipe(p), 0);
		g.pipe_r = p[0];
		g.pipe_w = p[1];
		assert_int_equal(rf_future_call(inner_body, 0, &g.inner), 0);

		rf_future *fs[NKINDS][PER_KIND];
		for (int k = 0; k < NKINDS; k++)
			for (int i = 0; i < PER_KIND; i++)
				assert_int_equal(rf_future_call(kinds[k], i + 1, &fs[k][i]), 0);
		wait_entered(NKINDS * PER_KIND);
		struct timespec ts = {0,
		                      20000000}; /* most are parked by now; the rest fail at once */
		nanosleep(&ts, NULL);

		rf_shutdown();

		for (int k = 0; k < NKINDS; k++) {
			for (int i = 0; i < PER_KIND; i++) {
				rf_val v;
				assert_true(rf_future_realized(fs[k][i]));
				int rc = rf_future_deref(fs[k][i], &v);
				/* timeout channels are closed by the shutdown, before the rest */
				int want =
				    kinds[k] == wait_timeout_chan || kinds[k] == wait_short_timeout
				        ? RF_ECLOSED
				        : RF_ESHUTDOWN;
				if (rc != want)
					print_error("%s #%d: %d\n", kind_names[k], i, rc);
				assert_int_equal(rc, want);
				rf_future_free(fs[k][i]);
			}
		}
		rf_val v;
		assert_int_equal(rf_future_deref(g.inner, &v), RF_ESHUTDOWN);
		rf_future_free(g.inner);

		/* What they waited on holds no stale waiter: each call here would read a freed
		 * stack if it did. The runtime is stopped; channels and promises still work. */
		assert_int_equal(rf_chan_offer(g.take_ch, 1), -EAGAIN); /* no taker left */
		assert_int_equal(rf_chan_poll(g.put_ch, &v), -EAGAIN);  /* no putter left */
		assert_int_equal(rf_chan_offer(g.alt_a, 1), -EAGAIN);
		assert_int_equal(rf_chan_poll(g.alt_b, &v), -EAGAIN);
		rf_chan_close(g.take_ch);
		rf_chan_close(g.put_ch);
		assert_int_equal(rf_promise_deliver(g.promise, 7), 0);
		assert_int_equal(rf_deferred_success(g.deferred, 8), 0);
		assert_int_equal(rf_lock_unlock(g.lock), 0);
		assert_int_equal(rf_lock_lock_timeout(g.lock, 0), 0);
		assert_int_equal(rf_lock_unlock(g.lock), 0);
		assert_int_equal(write(g.pipe_w, "x", 1), 1);
		/* the short timeout was closed by the shutdown: nobody to wake, nothing freed */
		assert_int_equal(rf_chan_take_timeout(g.tmo_short, WAIT_MS, &v), RF_ECLOSED);

		rf_chan_release(g.take_ch);
		rf_chan_release(g.put_ch);
		rf_chan_release(g.alt_a);
		rf_chan_release(g.alt_b);
		rf_chan_release(g.tmo_short);
		rf_promise_free(g.promise);
		rf_deferred_release(g.deferred);
		rf_lock_free(g.lock);
		close(g.pipe_r);
		close(g.pipe_w);
	}
}

static int quick_body(rf_val arg, rf_val *out)
{
	*out = arg * 2;
	return 0;
}

/* Accepted futures not yet started when rf_shutdown begins still run: every deref
 * returns its value. */
static void accepted_futures_all_realized(void **state)
{
	enum { N = 1000 };
	static rf_future *fs[N];
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < N; i++)
			assert_int_equal(rf_future_call(quick_body, i, &fs[i]), 0);
		rf_shutdown();
		for (int i = 0; i < N; i++) {
			rf_val v = -1;
			assert_true(rf_future_realized(fs[i]));
			assert_int_equal(rf_future_deref(fs[i], &v), 0);
			assert_int_equal(v, 2 * i);
			rf_future_free(fs[i]);
		}
	}
}

static int go_loop(rf_val arg, rf_val *out)
{
	rf_chan *ch = rf_to_ptr(arg);
	rf_val v;
	int rc;
	while ((rc = rf_chan_take(ch, &v)) == 0)
		;
	*out = rc;
	return 0;
}

/* A go process looping on takes ends its loop with RF_ESHUTDOWN; its result channel
 * carries what it returned. */
static void go_process_unwinds(void **state)
{
	rf_chan *in, *res;
	assert_int_equal(rf_chan_new(&in), 0);
	assert_int_equal(rf_go(go_loop, rf_from_ptr(in), &res), 0);
	assert_int_equal(rf_chan_put(in, 1), 0);
	rf_shutdown();
	rf_val v;
	assert_int_equal(rf_chan_take_timeout(res, WAIT_MS, &v), 0);
	assert_int_equal(v, RF_ESHUTDOWN);
	rf_chan_release(res);
	rf_chan_release(in);
}

static int finish_soon(rf_val arg, rf_val *out)
{
	return rf_sleep_ms(20);
}

/* The graceful form lets parked fibers finish on their own. */
static void graceful_lets_fibers_finish(void **state)
{
	rf_future *fs[50];
	for (int i = 0; i < 50; i++)
		assert_int_equal(rf_future_call(finish_soon, 0, &fs[i]), 0);
	assert_int_equal(rf_shutdown_timeout(WAIT_MS), 0);
	for (int i = 0; i < 50; i++) {
		rf_val v;
		assert_int_equal(rf_future_deref(fs[i], &v), 0);
		rf_future_free(fs[i]);
	}
	/* spawns after the shutdown began are refused, not lost: here it is over, so the
	 * runtime starts again */
	assert_int_equal(rf_future_call(quick_body, 4, &fs[0]), 0);
	rf_val v;
	assert_int_equal(rf_future_deref(fs[0], &v), 0);
	assert_int_equal(v, 8);
	rf_future_free(fs[0]);
	rf_shutdown();
}

/* Invokes queued on the fork/join pools behind busy workers when rf_shutdown comes: the
 * pools run every job they accepted before their workers stop, and refuse (RF_ESHUTDOWN)
 * any that comes after; so each caller returns, and exactly the accepted ones ran. */
enum { INVOKERS = 6 };
static _Atomic int invoke_entered;

static int slow_double(rf_val arg, rf_val *out)
{
	atomic_fetch_add(&invoke_entered, 1);
	struct timespec ts = {0, 20000000}; /* keep the pool busy so later invokes queue */
	nanosleep(&ts, NULL);
	*out = 2 * arg;
	return 0;
}

static void *invoker(void *arg)
{
	rf_val v = -1;
	int rc = rf_fj_invoke(slow_double, (rf_val)(intptr_t)arg, &v);
	RF_CHECK(rc == 0 || rc == RF_ESHUTDOWN);
	RF_CHECK(rc != 0 || v == 2 * (rf_val)(intptr_t)arg);
	return (void *)(intptr_t)(rc == 0);
}

static void queued_invokes_run_before_the_pools_stop(void **state)
{
	atomic_store(&invoke_entered, 0);
	assert_true(rf_fj_nodes() > 0);
	pthread_t t[INVOKERS];
	for (intptr_t i = 0; i < INVOKERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, invoker, (void *)(i + 1)), 0);
	while (atomic_load(&invoke_entered) == 0) /* the pool is busy: the rest queue */
		sched_yield();
	rf_shutdown();
	int ran = 0;
	for (int i = 0; i < INVOKERS; i++) {
		void *ok;
		assert_int_equal(pthread_join(t[i], &ok), 0);
		ran += (int)(intptr_t)ok;
	}
	assert_true(ran >= 1);
	assert_int_equal(atomic_load(&invoke_entered), ran); /* accepted = ran, none lost */
	rf_shutdown();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_kind_of_parked_wait),
	    cmocka_unit_test(accepted_futures_all_realized),
	    cmocka_unit_test(go_process_unwinds),
	    cmocka_unit_test(graceful_lets_fibers_finish),
	    cmocka_unit_test(queued_invokes_run_before_the_pools_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
