/* tests/executor/test_surface.c: rf_yield lets the worker's other fibers run, and
 * rf_blocking conveys the caller's dynamic bindings to the pool thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>

#include <cmocka.h>

#include "executor/latch.h"
#include "ringfold.h"
#include "runtime/sched/sched.h"

static _Atomic int flag;

/* Spins until the other fiber of its worker sets the flag: without a yield that parks
 * and requeues it, the other fiber never runs (no preemption) and the latch times out. */
static void spinner(void *arg)
{
	while (!atomic_load_explicit(&flag, memory_order_acquire))
		rf_yield();
	latch_down(arg);
}

static void setter(void *arg)
{
	atomic_store_explicit(&flag, 1, memory_order_release);
	latch_down(arg);
}

static void yield_runs_the_other_fibers(void **state)
{
	latch l;
	latch_init(&l, 2);
	atomic_store(&flag, 0);
	assert_true(sched_workers() >= 1);
	assert_int_equal(fiber_spawn(spinner, &l, 0, NULL), 0); /* both on worker 0 */
	assert_int_equal(fiber_spawn(setter, &l, 0, NULL), 0);
	assert_int_equal(latch_wait(&l, 10000), 0);
	rf_yield(); /* a plain thread: sched_yield, returns */
}

static rf_var *V;

static int read_v(rf_val arg, rf_val *out)
{
	return rf_var_deref(V, out);
}

static int bound_then_blocking(rf_val arg, rf_val *out)
{
	return rf_blocking(read_v, 0, out);
}

/* On a fiber (a future's body) inside a binding, the blocking function sees the binding. */
static int future_body(rf_val arg, rf_val *out)
{
	return rf_var_binding(V, arg, bound_then_blocking, 0, out);
}

static void blocking_conveys_bindings(void **state)
{
	assert_int_equal(rf_var_new_dynamic(1, &V), 0);
	rf_future *f;
	rf_val v = 0;
	assert_int_equal(rf_future_call(future_body, 42, &f), 0);
	assert_int_equal(rf_future_deref(f, &v), 0);
	assert_int_equal(v, 42);
	rf_future_free(f);
	/* On a plain thread it runs right there, with the thread's bindings. */
	assert_int_equal(rf_var_binding(V, 7, bound_then_blocking, 0, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(rf_blocking(read_v, 0, &v), 0);
	assert_int_equal(v, 1); /* the root outside any binding */
	rf_var_free(V);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(yield_runs_the_other_fibers),
	    cmocka_unit_test(blocking_conveys_bindings),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rf_shutdown();
	return rc;
}
