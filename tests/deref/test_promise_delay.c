/* deref family: promise and delay, deref with timeout, on threads and on fibers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>
#include <pthread.h>

#include "ringfold.h"
#include "runtime/sched/wait.h"

/* Start fn(arg) as a fiber future. */
static rf_future *fiber_future(rf_body_fn fn, rf_val arg)
{
	rf_future *f = NULL;
	assert_int_equal(rf_future_call(fn, arg, &f), 0);
	return f;
}

static void promise_deliver_once(void **state)
{
	rf_promise *p;
	rf_val v = -1;
	assert_int_equal(rf_promise_new(&p), 0);
	assert_false(rf_promise_realized(p));
	assert_int_equal(rf_deref_timeout(p, 0, &v), -ETIMEDOUT); /* zero polls */
	assert_int_equal(v, -1);                                  /* untouched */
	assert_int_equal(rf_deref_default(p, 0, 7, &v), -ETIMEDOUT);
	assert_int_equal(v, 7);
	assert_int_equal(rf_promise_deliver(p, 42), 0);
	assert_true(rf_promise_realized(p));
	assert_int_equal(rf_promise_deliver(p, 43), RF_EDELIVERED);
	assert_int_equal(rf_deref(p, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(rf_deref_default(p, 1000, 7, &v), 0);
	assert_int_equal(v, 42);
	/* A delivered value equal to the default is told from a timeout by the result. */
	rf_promise *q;
	assert_int_equal(rf_promise_new(&q), 0);
	assert_int_equal(rf_promise_deliver(q, 7), 0);
	v = 0;
	assert_int_equal(rf_deref_default(q, 0, 7, &v), 0);
	assert_int_equal(v, 7);
	rf_promise_free(q);
	rf_promise_free(p);
}

static void promise_bad_input(void **state)
{
	rf_promise *p;
	rf_val v;
	assert_int_equal(rf_promise_new(NULL), -EINVAL);
	assert_int_equal(rf_promise_deliver(NULL, 1), -EINVAL);
	assert_int_equal(rf_promise_deref(NULL, &v), -EINVAL);
	assert_int_equal(rf_promise_new(&p), 0);
	assert_int_equal(rf_deref_default(p, -1, 0, &v), -EINVAL);
	assert_int_equal(rf_promise_deref_timeout(NULL, 0, &v), -EINVAL);
	assert_int_equal(rf_promise_deref_timeout(p, 0, NULL), -EINVAL);
	assert_int_equal(rf_promise_deref(p, NULL), -EINVAL);
	assert_false(rf_promise_realized(NULL));
	rf_promise_free(p);
	rf_promise_free(NULL);
	assert_string_equal(rf_strerror(RF_EDELIVERED), "RF_EDELIVERED: promise already delivered");
}

static void promise_in_caller_memory(void **state)
{
	rf_promise_mem mem;
	rf_promise *p;
	rf_val v;
	assert_int_equal(rf_promise_init(&mem, &p), 0);
	assert_non_null(p);
	assert_int_equal(rf_promise_init(NULL, &p), -EINVAL);
	assert_int_equal(rf_promise_init(&mem, NULL), -EINVAL);
	assert_int_equal(rf_promise_deliver(p, 5), 0);
	assert_int_equal(rf_deref(p, &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(rf_promise_destroy(p), 0);
	assert_int_equal(rf_promise_destroy(NULL), -EINVAL);
}

/* The tutorial's (deref the-answer 4000 :cheeseburger), with a shorter clock: the
 * default comes back no earlier than the timeout and within a generous margin. */
static void deref_timeout_returns_default(void **state)
{
	rf_promise *p;
	rf_val v = 0;
	assert_int_equal(rf_promise_new(&p), 0);
	uint64_t t0 = time_now_ns();
	assert_int_equal(rf_deref_default(p, 50, 0xc4ee5e, &v), -ETIMEDOUT);
	uint64_t waited = time_now_ns() - t0;
	assert_int_equal(v, 0xc4ee5e);
	assert_true(waited >= 50000000u);
	assert_true(waited < 2000000000u);
	assert_false(rf_promise_realized(p));
	/* The timed-out waiter left the list: delivery afterwards wakes nobody stale. */
	assert_int_equal(rf_promise_deliver(p, 1), 0);
	rf_promise_free(p);
}

struct pp {
	rf_promise *p;
	rf_promise *started;
	_Atomic int woke;
};

static void *wait_promise(void *arg)
{
	struct pp *s = arg;
	rf_val v;
	if (rf_deref(s->p, &v) == 0 && v == 99)
		atomic_fetch_add_explicit(&s->woke, 1, memory_order_relaxed);
	return NULL;
}

static int wait_promise_body(rf_val arg, rf_val *out)
{
	wait_promise(rf_to_ptr(arg));
	return 0;
}

/* One delivery wakes every thread and fiber blocked on the promise. */
static void promise_wakes_threads_and_fibers(void **state)
{
	enum { THREADS = 8, FIBERS = 64 };
	struct pp s = {.woke = 0};
	pthread_t t[THREADS];
	rf_future *f[FIBERS];
	assert_int_equal(rf_promise_new(&s.p), 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, wait_promise, &s), 0);
	int fibers = 0;
	for (; fibers < FIBERS; fibers++) {
		assert_int_equal(rf_future_call(wait_promise_body, rf_from_ptr(&s), &f[fibers]), 0);
	}
	rf_val v;
	assert_int_equal(rf_deref_default(s.p, 20, -1, &v), -ETIMEDOUT);
	assert_int_equal(v, -1);
	assert_int_equal(rf_promise_deliver(s.p, 99), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < fibers; i++) {
		assert_int_equal(rf_deref_timeout(f[i], 10000, &v), 0);
		assert_int_equal(v, 0);
		rf_future_free(f[i]);
	}
	assert_int_equal(atomic_load(&s.woke), THREADS + fibers);
	rf_promise_free(s.p);
}

static _Atomic int runs;

static int slow_answer(rf_val arg, rf_val *out)
{
	atomic_fetch_add_explicit(&runs, 1, memory_order_relaxed);
	sched_sleep_until(time_deadline_after_ms(20)); /* let the others pile up behind it */
	*out = 100 * arg;
	return 0;
}

static void delay_never_runs_unless_derefed(void **state)
{
	rf_delay *d;
	atomic_store(&runs, 0);
	assert_int_equal(rf_delay_new(slow_answer, 45, &d), 0);
	assert_false(rf_delay_realized(d));
	rf_val v;
	assert_int_equal(rf_deref_default(d, 0, -1, &v), -ETIMEDOUT); /* polling never runs it */
	assert_int_equal(v, -1);
	rf_delay_free(d);
	assert_int_equal(atomic_load(&runs), 0);
	assert_int_equal(rf_delay_new(NULL, 0, &d), -EINVAL);
}

struct dd {
	rf_delay *d;
	_Atomic int ok;
};

static void *deref_delay(void *arg)
{
	struct dd *s = arg;
	rf_val v;
	if (rf_deref(s->d, &v) == 0 && v == 4500)
		atomic_fetch_add_explicit(&s->ok, 1, memory_order_relaxed);
	return NULL;
}

static int deref_delay_body(rf_val arg, rf_val *out)
{
	deref_delay(rf_to_ptr(arg));
	return 0;
}

/* 100 threads and 1,000 fibers deref one delay: it runs once and all of them see its
 * value. */
static void delay_runs_once_under_contention(void **state)
{
	enum { THREADS = 100, FIBERS = 1000 };
	struct dd s = {.ok = 0};
	pthread_t t[THREADS];
	static rf_future *f[FIBERS];
	atomic_store(&runs, 0);
	assert_int_equal(rf_delay_new(slow_answer, 45, &s.d), 0);
	int fibers = 0;
	for (; fibers < FIBERS; fibers++) {
		assert_int_equal(rf_future_call(deref_delay_body, rf_from_ptr(&s), &f[fibers]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, deref_delay, &s), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	rf_val v;
	for (int i = 0; i < fibers; i++) {
		assert_int_equal(rf_deref_timeout(f[i], 10000, &v), 0);
		assert_int_equal(v, 0);
		rf_future_free(f[i]);
	}
	assert_int_equal(atomic_load(&runs), 1);
	assert_int_equal(atomic_load(&s.ok), THREADS + fibers);
	assert_true(rf_delay_realized(s.d));
	rf_delay_free(s.d);
}

static int failing(rf_val arg, rf_val *out)
{
	atomic_fetch_add_explicit(&runs, 1, memory_order_relaxed);
	return (int)arg;
}

static void delay_failure_is_sticky(void **state)
{
	rf_delay_mem mem;
	atomic_store(&runs, 0);
	rf_delay *d;
	assert_int_equal(rf_delay_init(&mem, failing, -EIO, &d), 0);
	assert_int_equal(rf_delay_init(&mem, failing, -EIO, NULL), -EINVAL);
	assert_int_equal(rf_delay_init(&mem, NULL, 0, &d), -EINVAL);
	rf_val v = 3;
	for (int i = 0; i < 5; i++)
		assert_int_equal(rf_deref(d, &v), -EIO);
	assert_int_equal(rf_deref_default(d, 10, 0, &v), -EIO);
	assert_true(rf_delay_realized(d));
	assert_int_equal(atomic_load(&runs), 1);
	assert_int_equal(rf_delay_destroy(d), 0);
}

static rf_delay *self_delay;

static int recursive(rf_val arg, rf_val *out)
{
	rf_val v;
	int rc = rf_deref(self_delay, &v);
	*out = rc; /* report what the inner deref said */
	return 0;
}

static void delay_deref_inside_itself(void **state)
{
	assert_int_equal(rf_delay_new(recursive, 0, &self_delay), 0);
	rf_val v;
	assert_int_equal(rf_deref(self_delay, &v), 0);
	assert_int_equal(v, RF_ERECURSIVE);
	rf_delay_free(self_delay);
}

/* Fibers park on an undelivered promise with a timeout and resume with the default. */
static int fiber_deref_timeout(rf_val arg, rf_val *out)
{
	rf_promise *p = rf_to_ptr(arg);
	int rc = rf_deref_default(p, 30, 17, out);
	return rc == -ETIMEDOUT ? 0 : -EPROTO;
}

static void fiber_deref_timeout_parks(void **state)
{
	rf_promise *p;
	assert_int_equal(rf_promise_new(&p), 0);
	rf_future *f = fiber_future(fiber_deref_timeout, rf_from_ptr(p));
	rf_val v;
	assert_int_equal(rf_deref_timeout(f, 10000, &v), 0);
	assert_int_equal(v, 17);
	rf_future_free(f);
	rf_promise_free(p);
}

static int deliver_body(rf_val arg, rf_val *out)
{
	return rf_promise_deliver(rf_to_ptr(arg), 99);
}

/* The delivery comes from a fiber on a worker: threads and fibers waiting elsewhere wake. */
static void promise_delivered_by_fiber(void **state)
{
	enum { THREADS = 4, FIBERS = 16 };
	struct pp s = {.woke = 0};
	pthread_t t[THREADS];
	rf_future *f[FIBERS];
	rf_val v;
	assert_int_equal(rf_promise_new(&s.p), 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, wait_promise, &s), 0);
	for (int i = 0; i < FIBERS; i++)
		f[i] = fiber_future(wait_promise_body, rf_from_ptr(&s));
	rf_future *deliverer = fiber_future(deliver_body, rf_from_ptr(s.p));
	assert_int_equal(rf_deref_timeout(deliverer, 10000, &v), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < FIBERS; i++) {
		assert_int_equal(rf_deref_timeout(f[i], 10000, &v), 0);
		rf_future_free(f[i]);
	}
	assert_int_equal(atomic_load(&s.woke), THREADS + FIBERS);
	rf_future_free(deliverer);
	rf_promise_free(s.p);
}

/* A deliver touches the promise no more once a deref can see the value: the deliverer
 * borrows the test's handle, the test sees the value without the lock and frees the
 * promise while deliver may still be unlocking. The deliverer reports through a relaxed
 * flag on purpose: it gives TSan no happens-before edge, so only the promise's own
 * synchronization orders the deliverer's last access before the free (TSan reports any
 * that it does not, however the threads interleave). A delay's runner, likewise, once
 * another deref saw its value. */
struct borrowed {
	rf_promise *p;
	rf_delay *d;
	_Atomic int returned; /* relaxed: see above */
};

static void *deliver_borrowed(void *arg)
{
	struct borrowed *b = arg;
	assert_int_equal(rf_promise_deliver(b->p, 5), 0);
	atomic_store_explicit(&b->returned, 1, memory_order_relaxed);
	return NULL;
}

static int seven(rf_val arg, rf_val *out)
{
	*out = 7;
	return 0;
}

static void *force_borrowed(void *arg)
{
	struct borrowed *b = arg;
	rf_val v;
	assert_int_equal(rf_delay_deref(b->d, &v), 0);
	assert_int_equal(v, 7);
	atomic_store_explicit(&b->returned, 1, memory_order_relaxed);
	return NULL;
}

static void seen_value_frees(void **state)
{
	for (int r = 0; r < 50; r++) {
		struct borrowed b = {0};
		pthread_t t;
		assert_int_equal(rf_promise_new(&b.p), 0);
		assert_int_equal(pthread_create(&t, NULL, deliver_borrowed, &b), 0);
		while (!rf_promise_realized(b.p))
			sched_yield();
		rf_val v;
		assert_int_equal(rf_promise_deref_timeout(b.p, 0, &v), 0);
		assert_int_equal(v, 5);
		rf_promise_free(b.p);
		while (!atomic_load_explicit(&b.returned, memory_order_relaxed))
			sched_yield();
		pthread_join(t, NULL);

		b = (struct borrowed){0};
		assert_int_equal(rf_delay_new(seven, 0, &b.d), 0);
		assert_int_equal(pthread_create(&t, NULL, force_borrowed, &b), 0);
		while (!rf_delay_realized(b.d))
			sched_yield();
		rf_delay_free(b.d);
		while (!atomic_load_explicit(&b.returned, memory_order_relaxed))
			sched_yield();
		pthread_join(t, NULL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(promise_deliver_once),
	    cmocka_unit_test(promise_bad_input),
	    cmocka_unit_test(promise_in_caller_memory),
	    cmocka_unit_test(deref_timeout_returns_default),
	    cmocka_unit_test(promise_wakes_threads_and_fibers),
	    cmocka_unit_test(delay_never_runs_unless_derefed),
	    cmocka_unit_test(delay_runs_once_under_contention),
	    cmocka_unit_test(delay_failure_is_sticky),
	    cmocka_unit_test(delay_deref_inside_itself),
	    cmocka_unit_test(fiber_deref_timeout_parks),
	    cmocka_unit_test(promise_delivered_by_fiber),
	    cmocka_unit_test(seen_value_frees),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
