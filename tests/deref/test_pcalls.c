/* pcalls / pvalues: results in task order whatever order the tasks finish in; the tasks
 * run at the same time; a failing task's code, the others' results; bad input. From a
 * plain thread and from a fiber. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "check.h"
#include "ringfold/future.h"
#include "ringfold/io.h"
#include "ringfold/promise.h"

enum { N = 40 };

/* arg squared, after a sleep that makes later tasks finish first */
static int square_late(rf_val arg, rf_val *out)
{
	RF_CHECK_EQ(rf_sleep_ms((N - arg) % 7), 0);
	*out = arg * arg;
	return 0;
}

static int in_order(void)
{
	rf_task t[N];
	rf_val r[N];
	int codes[N];
	for (int i = 0; i < N; i++)
		t[i] = (rf_task){square_late, i};
	int rc = rf_pcalls(t, N, r, codes);
	if (rc)
		return rc;
	for (int i = 0; i < N; i++)
		if (r[i] != (rf_val)i * i || codes[i] != 0)
			return -1;
	return 0;
}

/* Each task waits until all have started: only a parallel run finishes. */
enum { PAR = 8 };
static _Atomic int arrived;
static rf_promise *all_here;

static int meet(rf_val arg, rf_val *out)
{
	if (atomic_fetch_add(&arrived, 1) == PAR - 1)
		RF_CHECK_EQ(rf_promise_deliver(all_here, 1), 0);
	rf_val v;
	int rc = rf_promise_deref_timeout(all_here, 10000, &v);
	*out = arg;
	return rc;
}

static int in_parallel(void)
{
	atomic_store(&arrived, 0);
	RF_CHECK_EQ(rf_promise_new(&all_here), 0);
	rf_task t[PAR];
	rf_val r[PAR];
	for (int i = 0; i < PAR; i++)
		t[i] = (rf_task){meet, 100 + i};
	int rc = rf_pcalls(t, PAR, r, NULL);
	rf_promise_free(all_here);
	for (int i = 0; rc == 0 && i < PAR; i++)
		if (r[i] != 100 + i)
			rc = -1;
	return rc;
}

static int fail_with(rf_val arg, rf_val *out)
{
	return (int)arg;
}

static int ident(rf_val arg, rf_val *out)
{
	*out = arg;
	return 0;
}

static void order_and_parallelism(void **state)
{
	assert_int_equal(in_order(), 0);
	assert_int_equal(in_parallel(), 0);
}

static int on_fiber(rf_val arg, rf_val *out)
{
	int rc = in_order();
	return rc ? rc : in_parallel();
}

static void from_a_fiber(void **state)
{
	rf_future *f;
	rf_val v;
	assert_int_equal(rf_future_call(on_fiber, 0, &f), 0);
	assert_int_equal(rf_future_deref(f, &v), 0);
	rf_future_free(f);
}

/* (pcalls ok ok fail ok fail): the first failure in order is the result; every other
 * task's value and each code are there. */
static void failures(void **state)
{
	rf_task t[5] = {{ident, 1}, {ident, 2}, {fail_with, -77}, {ident, 4}, {fail_with, -88}};
	rf_val r[5] = {-1, -1, -1, -1, -1};
	int codes[5] = {9, 9, 9, 9, 9};
	assert_int_equal(rf_pcalls(t, 5, r, codes), -77);
	assert_int_equal(r[0], 1);
	assert_int_equal(r[1], 2);
	assert_int_equal(r[2], -1); /* left alone */
	assert_int_equal(r[3], 4);
	assert_int_equal(r[4], -1);
	int want[5] = {0, 0, -77, 0, -88};
	for (int i = 0; i < 5; i++)
		assert_int_equal(codes[i], want[i]);
	assert_int_equal(rf_pcalls(t + 3, 2, r, NULL), -88);
}

static void bad_input(void **state)
{
	rf_task t[2] = {{ident, 1}, {NULL, 2}};
	rf_val r[2];
	assert_int_equal(rf_pcalls(NULL, 1, r, NULL), -EINVAL);
	assert_int_equal(rf_pcalls(t, 1, NULL, NULL), -EINVAL);
	assert_int_equal(rf_pcalls(t, 2, r, NULL), -EINVAL); /* nothing run */
	assert_int_equal(rf_pcalls(NULL, 0, NULL, NULL), 0);
	assert_int_equal(rf_pcalls(t, SIZE_MAX, r, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(order_and_parallelism),
	    cmocka_unit_test(from_a_fiber),
	    cmocka_unit_test(failures),
	    cmocka_unit_test(bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
