/* rf_schedule_after / rf_schedule_every: exact run counts, never early, fixed rate
 * against fixed delay, cancel before a run and between runs (from a thread and from fn
 * itself), fn's error ends it, bindings conveyed, bad arguments. Every wait is on an
 * event (join, a counted latch) with a generous bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "check.h"
#include "ringfold.h"
#include "runtime/base/time.h"

#define WAIT_MS 60000
#define MS 1000000ull

struct rec {
	int stop_at; /* fn returns stop_code at this run (0: never) */
	int stop_code;
	int cancel_at;               /* fn cancels its own schedule at this run (0: never) */
	_Atomic(rf_schedule *) self; /* for cancel_at: published once the schedule is made */
	int64_t busy_ms;             /* each run sleeps this long */
	_Atomic int n;
	uint64_t start[16], end[16];
	rf_var *var;
	rf_val seen;
};

static int body(rf_val arg, rf_val *out)
{
	struct rec *r = rf_to_ptr(arg);
	int i = atomic_load(&r->n);
	RF_CHECK(i < 16);
	r->start[i] = time_now_ns();
	if (r->var)
		RF_CHECK(rf_var_deref(r->var, &r->seen) == 0);
	if (r->busy_ms)
		rf_sleep_ms(r->busy_ms);
	r->end[i] = time_now_ns();
	atomic_store(&r->n, i + 1);
	if (r->cancel_at == i + 1) {
		rf_schedule *me;
		while (!(me = atomic_load_explicit(&r->self, memory_order_acquire)))
			rf_sleep_ms(1); /* the creator has not stored it yet */
		RF_CHECK(rf_schedule_cancel(me) == 1);
	}
	if (r->stop_at == i + 1)
		return r->stop_code;
	return 0;
}

static void test_after_runs_once(void **state)
{
	struct rec r = {0};
	rf_schedule *s;
	uint64_t t0 = time_now_ns();
	assert_int_equal(rf_schedule_after(30, body, rf_from_ptr(&r), &s), 0);
	assert_int_equal(rf_schedule_join(s, WAIT_MS), 0);
	assert_int_equal(atomic_load(&r.n), 1);
	assert_true(r.start[0] >= t0 + 30 * MS); /* never early */
	uint64_t runs;
	assert_int_equal(rf_schedule_runs(s, &runs), 0);
	assert_int_equal(runs, 1);
	assert_int_equal(rf_schedule_cancel(s), 0); /* ended already */
	rf_schedule_free(s);
}

static void test_fixed_rate_never_early(void **state)
{
	struct rec r = {.stop_at = 5, .stop_code = -ENOTRECOVERABLE, .busy_ms = 5};
	rf_schedule *s;
	uint64_t t0 = time_now_ns();
	assert_int_equal(
	    rf_schedule_every(10, 20, RF_SCHEDULE_FIXED_RATE, body, rf_from_ptr(&r), &s), 0);
	assert_int_equal(rf_schedule_join(s, WAIT_MS), -ENOTRECOVERABLE);
	assert_int_equal(atomic_load(&r.n), 5); /* fn's error: no sixth run */
	for (int k = 0; k < 5; k++)
		assert_true(r.start[k] >= t0 + (10 + 20 * (uint64_t)k) * MS);
	rf_schedule_free(s);
}

static void test_fixed_delay_counts_from_the_end(void **state)
{
	struct rec r = {.stop_at = 4, .stop_code = -EDOM, .busy_ms = 15};
	rf_schedule *s;
	assert_int_equal(
	    rf_schedule_every(0, 10, RF_SCHEDULE_FIXED_DELAY, body, rf_from_ptr(&r), &s), 0);
	assert_int_equal(rf_schedule_join(s, WAIT_MS), -EDOM);
	assert_int_equal(atomic_load(&r.n), 4);
	for (int k = 1; k < 4; k++)
		assert_true(r.start[k] >= r.end[k - 1] + 10 * MS);
	rf_schedule_free(s);
}

static void test_cancel_before_first_run(void **state)
{
	struct rec r = {0};
	rf_schedule *s;
	assert_int_equal(rf_schedule_after(60000, body, rf_from_ptr(&r), &s), 0);
	assert_int_equal(rf_schedule_join(s, 0), -ETIMEDOUT);
	assert_int_equal(rf_schedule_cancel(s), 1);
	assert_int_equal(rf_schedule_cancel(s), 0);
	assert_int_equal(rf_schedule_join(s, WAIT_MS), -ECANCELED);
	assert_int_equal(atomic_load(&r.n), 0);
	rf_schedule_free(s);
}

static void test_cancel_from_fn(void **state)
{
	struct rec r = {.cancel_at = 3};
	rf_schedule *s;
	assert_int_equal(rf_schedule_every(0, 1, RF_SCHEDULE_FIXED_RATE, body, rf_from_ptr(&r), &s),
	                 0);
	atomic_store_explicit(&r.self, s, memory_order_release);
	assert_int_equal(rf_schedule_join(s, WAIT_MS), -ECANCELED);
	assert_int_equal(atomic_load(&r.n), 3); /* no run started after the cancel */
	rf_schedule_free(s);
}

static void test_cancel_between_runs(void **state)
{
	struct rec r = {0};
	rf_schedule *s;
	assert_int_equal(
	    rf_schedule_every(0, 5, RF_SCHEDULE_FIXED_DELAY, body, rf_from_ptr(&r), &s), 0);
	uint64_t runs = 0;
	uint64_t until = time_now_ns() + WAIT_MS * MS;
	while (runs < 3 && time_now_ns() < until) { /* polls a counter; bounded */
		rf_sleep_ms(1);
		rf_schedule_runs(s, &runs);
	}
	assert_true(runs >= 3);
	assert_int_equal(rf_schedule_cancel(s), 1);
	assert_int_equal(rf_schedule_join(s, WAIT_MS), -ECANCELED);
	uint64_t after;
	rf_schedule_runs(s, &after);
	assert_int_equal(after, (uint64_t)atomic_load(&r.n));
	assert_true(after <= runs + 1); /* at most the run already under way */
	rf_schedule_free(s);
}

static int in_binding(rf_val arg, rf_val *out)
{
	struct rec *r = rf_to_ptr(arg);
	rf_schedule *s;
	RF_CHECK(rf_schedule_after(0, body, arg, &s) == 0);
	RF_CHECK(rf_schedule_join(s, WAIT_MS) == 0);
	rf_schedule_free(s);
	(void)r;
	return 0;
}

static void test_bindings_conveyed(void **state)
{
	struct rec r = {0};
	assert_int_equal(rf_var_new_dynamic(1, &r.var), 0);
	rf_val v;
	assert_int_equal(rf_var_binding(r.var, 42, in_binding, rf_from_ptr(&r), &v), 0);
	assert_int_equal(r.seen, 42);
	rf_var_free(r.var);
}

static void test_bad_arguments(void **state)
{
	rf_schedule *s = NULL;
	struct rec r = {0};
	assert_int_equal(rf_schedule_after(-1, body, rf_from_ptr(&r), &s), -EINVAL);
	assert_int_equal(rf_schedule_after(1, NULL, 0, &s), -EINVAL);
	assert_int_equal(rf_schedule_after(1, body, 0, NULL), -EINVAL);
	assert_int_equal(rf_schedule_every(0, 0, RF_SCHEDULE_FIXED_RATE, body, 0, &s), -EINVAL);
	assert_int_equal(rf_schedule_every(-1, 5, RF_SCHEDULE_FIXED_RATE, body, 0, &s), -EINVAL);
	assert_int_equal(rf_schedule_every(0, 5, (rf_schedule_kind)7, body, 0, &s), -EINVAL);
	assert_null(s);
	assert_int_equal(rf_schedule_cancel(NULL), -EINVAL);
	assert_int_equal(rf_schedule_join(NULL, 0), -EINVAL);
	uint64_t n;
	assert_int_equal(rf_schedule_runs(NULL, &n), -EINVAL);
	rf_schedule_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_after_runs_once),
	    cmocka_unit_test(test_fixed_rate_never_early),
	    cmocka_unit_test(test_fixed_delay_counts_from_the_end),
	    cmocka_unit_test(test_cancel_before_first_run),
	    cmocka_unit_test(test_cancel_from_fn),
	    cmocka_unit_test(test_cancel_between_runs),
	    cmocka_unit_test(test_bindings_conveyed),
	    cmocka_unit_test(test_bad_arguments),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rf_shutdown();
	return rc;
}
