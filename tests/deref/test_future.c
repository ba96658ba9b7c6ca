/* deref family: futures (on fibers, on raw threads, from the executor service),
 * cancel and its race with completion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ringfold.h"
#include "runtime/sched/wait.h"

#include "gated.h"

static int times_two(rf_val arg, rf_val *out)
{
	*out = arg * 2;
	return 0;
}

static int fails(rf_val arg, rf_val *out)
{
	return (int)arg;
}

static rf_future *fiber_future(rf_body_fn fn, rf_val arg)
{
	rf_future *f = NULL;
	assert_int_equal(rf_future_call(fn, arg, &f), 0);
	return f;
}

static void future_value_and_error_on_every_deref(void **state)
{
	rf_future *ok = fiber_future(times_two, 21);
	rf_future *bad = fiber_future(fails, -EPIPE);
	rf_val v;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(rf_deref(ok, &v), 0);
		assert_int_equal(v, 42);
		assert_int_equal(rf_deref(bad, &v), -EPIPE);
	}
	assert_true(rf_future_done(ok));
	assert_int_equal(rf_future_cancel(ok), 0);
	assert_false(rf_future_cancelled(ok));
	rf_future_free(ok);
	rf_future_free(bad);
}

static void future_bad_input(void **state)
{
	rf_future *f;
	rf_val v;
	assert_int_equal(rf_future_call(NULL, 0, &f), -EINVAL);
	assert_int_equal(rf_future_call(times_two, 0, NULL), -EINVAL);
	assert_int_equal(rf_future_deref(NULL, &v), -EINVAL);
	assert_int_equal(rf_future_cancel(NULL), -EINVAL);
	assert_false(rf_future_done(NULL));
	assert_int_equal(rf_thread_start(NULL, 0, &f), -EINVAL);
	rf_future_free(NULL);
}

/* A fiber body derefs another fiber's future: it parks, the core runs the other. */
static int deref_other(rf_val arg, rf_val *out)
{
	rf_future *inner;
	int rc = rf_future_call(times_two, arg, &inner);
	if (rc < 0)
		return rc;
	rc = rf_future_deref(inner, out);
	rf_future_free(inner);
	return rc;
}

static void future_body_derefs_future(void **state)
{
	rf_future *f = fiber_future(deref_other, 8);
	rf_val v;
	assert_int_equal(rf_deref_timeout(f, 10000, &v), 0);
	assert_int_equal(v, 16);
	rf_future_free(f);
}

static void thread_future(void **state)
{
	rf_future *f;
	rf_val v;
	assert_int_equal(rf_thread_start(times_two, 50, &f), 0);
	assert_int_equal(rf_deref(f, &v), 0);
	assert_int_equal(v, 100);
	rf_future_free(f);
	assert_int_equal(rf_thread_start(fails, -ENOENT, &f), 0);
	assert_int_equal(rf_deref(f, &v), -ENOENT);
	rf_future_free(f);
	assert_int_equal(rf_thread_start(times_two, 1, NULL), 0); /* fire and forget */
}

/* (future-cancel f) is true while pending and false after; deref then gives
 * -ECANCELED at once; the body's later result is dropped. */
static void cancel_pending(void **state)
{
	gated g = {0};
	rf_future *f;
	rf_val v;
	assert_int_equal(rf_promise_new(&g.gate), 0);
	assert_int_equal(rf_thread_start(wait_for_gate, rf_from_ptr(&g), &f), 0);
	assert_true(gated_wait(&g.started));
	assert_int_equal(rf_deref_default(f, 0, 5, &v), -ETIMEDOUT);
	assert_int_equal(v, 5);
	assert_false(rf_future_done(f));
	assert_int_equal(rf_future_cancel(f), 1);
	assert_int_equal(rf_future_cancel(f), 0);
	assert_true(rf_future_cancelled(f));
	assert_true(rf_future_done(f));
	assert_true(rf_future_realized(f));
	assert_int_equal(rf_deref(f, &v), -ECANCELED);
	assert_int_equal(rf_deref_default(f, 100, 5, &v), -ECANCELED);
	assert_int_equal(rf_promise_deliver(g.gate, 1), 0); /* the body ends; result dropped */
	assert_true(gated_wait(&g.returned));
	assert_int_equal(rf_deref(f, &v), -ECANCELED);
	rf_future_free(f);
	rf_promise_free(g.gate);
}

/* A body returning -ECANCELED itself is a failure, not a cancel. */
static void body_ecanceled_is_not_cancelled(void **state)
{
	rf_future *f;
	rf_val v;
	assert_int_equal(rf_thread_start(fails, -ECANCELED, &f), 0);
	assert_int_equal(rf_deref(f, &v), -ECANCELED);
	assert_false(rf_future_cancelled(f));
	assert_int_equal(rf_future_cancel(f), 0);
	rf_future_free(f);
}

/* Cancel races completion: exactly one wins, and everything agrees on which. The race
 * must happen: cancels come 0..spread after the submit, and rounds go on (bounded) until
 * both sides have won; a side that has not won after a batch of rounds gets a wider (or,
 * for the cancel, narrower) spread, since how long a task takes to start varies with
 * the build (TSan) and the machine's load. */
static void cancel_races_completion(void **state)
{
	rf_executor *ex;
	enum { N = 2000 };
	assert_int_equal(rf_executor_new(2, &ex), 0);
	int cancelled = 0, completed = 0, i = 0;
	uint64_t spread = 50000; /* ns */
	for (; i < N || ((cancelled == 0 || completed == 0) && i < 20 * N); i++) {
		rf_future *f;
		rf_val v;
		if (i % N == N - 1 && completed == 0 && spread < 4000000u)
			spread *= 4;
		if (i % N == N - 1 && cancelled == 0 && spread > 1000)
			spread /= 4;
		assert_int_equal(rf_executor_submit(ex, times_two, i, &f), 0);
		for (uint64_t until = time_now_ns() + (uint64_t)(i % 50) * spread / 50;
		     time_now_ns() < until;)
			;
		bool won = rf_future_cancel(f) == 1;
		int rc = rf_deref(f, &v);
		if (won) {
			assert_int_equal(rc, -ECANCELED);
			assert_true(rf_future_cancelled(f));
			cancelled++;
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(v, 2 * i);
			assert_false(rf_future_cancelled(f));
			completed++;
		}
		assert_true(rf_future_done(f));
		rf_future_free(f);
	}
	assert_int_equal(cancelled + completed, i);
	assert_true(cancelled > 0);
	assert_true(completed > 0);
	rf_executor_free(ex);
}

/* A pending fiber future is cancelled; its body, parked on a promise, ends later and
 * its result is dropped. */
static void cancel_pending_fiber(void **state)
{
	gated g = {0};
	rf_val v;
	assert_int_equal(rf_promise_new(&g.gate), 0);
	rf_future *f = fiber_future(wait_for_gate, rf_from_ptr(&g));
	assert_true(gated_wait(&g.started));
	assert_int_equal(rf_future_cancel(f), 1);
	assert_int_equal(rf_deref(f, &v), -ECANCELED);
	assert_int_equal(rf_promise_deliver(g.gate, 1), 0);
	assert_true(gated_wait(&g.returned));
	assert_true(rf_future_cancelled(f));
	rf_future_free(f);
	rf_promise_free(g.gate);
}

/* A fiber submits to the executor service and derefs the task's future: it parks while
 * a pool thread runs the task. */
static int submit_from_fiber(rf_val arg, rf_val *out)
{
	rf_future *task;
	int rc = rf_executor_submit(rf_to_ptr(arg), times_two, 30, &task);
	if (rc < 0)
		return rc;
	rc = rf_future_deref(task, out);
	rf_future_free(task);
	return rc;
}

static void executor_task_from_fiber(void **state)
{
	rf_executor *ex;
	rf_val v;
	assert_int_equal(rf_executor_new(1, &ex), 0);
	rf_future *f = fiber_future(submit_from_fiber, rf_from_ptr(ex));
	assert_int_equal(rf_deref_timeout(f, 10000, &v), 0);
	assert_int_equal(v, 60);
	rf_future_free(f);
	rf_executor_free(ex);
}

/* Dynamic bindings: a future and an executor task see the binding in force where they
 * were started (binding-conveyor-fn); a raw thread sees the root, as in Clojure. */
static rf_var *dyn;

static int read_dyn(rf_val arg, rf_val *out)
{
	return rf_var_deref(dyn, out);
}

static int start_all_in_binding(rf_val ex_arg, rf_val *out)
{
	rf_future *fib, *task, *raw;
	rf_val a = -1, b = -1, c = -1;
	if (rf_future_call(read_dyn, 0, &fib) == 0 && rf_future_deref(fib, &a) == 0)
		rf_future_free(fib);
	if (rf_executor_submit(rf_to_ptr(ex_arg), read_dyn, 0, &task) == 0 &&
	    rf_future_deref(task, &b) == 0)
		rf_future_free(task);
	if (rf_thread_start(read_dyn, 0, &raw) == 0 && rf_future_deref(raw, &c) == 0)
		rf_future_free(raw);
	*out = a * 100 + b * 10 + c;
	return 0;
}

static void bindings_conveyed(void **state)
{
	rf_executor *ex;
	rf_val v;
	assert_int_equal(rf_var_new_dynamic(1, &dyn), 0);
	assert_int_equal(rf_executor_new(1, &ex), 0);
	assert_int_equal(rf_var_binding(dyn, 2, start_all_in_binding, rf_from_ptr(ex), &v), 0);
	assert_int_equal(v, 2 * 100 + 2 * 10 + 1);
	rf_executor_free(ex);
	rf_var_free(dyn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(future_bad_input),
	    cmocka_unit_test(thread_future),
	    cmocka_unit_test(cancel_pending),
	    cmocka_unit_test(body_ecanceled_is_not_cancelled),
	    cmocka_unit_test(cancel_races_completion),
	    cmocka_unit_test(future_value_and_error_on_every_deref),
	    cmocka_unit_test(future_body_derefs_future),
	    cmocka_unit_test(cancel_pending_fiber),
	    cmocka_unit_test(executor_task_from_fiber),
	    cmocka_unit_test(bindings_conveyed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
