/* pmap: order, errors, the streaming form's bound and its timeouts. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "ringfold.h"

static int square_plus(rf_val x, rf_val k, rf_val *out)
{
	*out = x * x + k;
	return 0;
}

static void pmap_in_order(void **state)
{
	size_t sizes[] = {0, 1, 7, 1000, 100000};
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t n = sizes[s];
		rf_val *in = malloc((n + 1) * sizeof(rf_val)),
		       *out = malloc((n + 1) * sizeof(rf_val));
		for (size_t i = 0; i < n; i++)
			in[i] = (rf_val)i;
		assert_int_equal(rf_pmap(in, n, square_plus, 3, out), 0);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(out[i], (rf_val)(i * i + 3));
		assert_int_equal(rf_pmap_n(in, n, 1, square_plus, 0, in), 0); /* in place */
		for (size_t i = 0; i < n; i++)
			assert_int_equal(in[i], (rf_val)(i * i));
		free(in);
		free(out);
	}
}

static int fail_odd_100(rf_val x, rf_val k, rf_val *out)
{
	if (x == 101 || x == 5001)
		return -EIO;
	*out = x;
	return 0;
}

static void pmap_errors(void **state)
{
	rf_val in[10000], out[10000];
	for (int i = 0; i < 10000; i++)
		in[i] = i;
	assert_int_equal(rf_pmap(in, 10000, fail_odd_100, 0, out), -EIO);
	assert_int_equal(rf_pmap(NULL, 5, square_plus, 0, out), -EINVAL);
	assert_int_equal(rf_pmap(in, 5, NULL, 0, out), -EINVAL);
	assert_int_equal(rf_pmap_n(in, 5, 0, square_plus, 0, out), -EINVAL);
	assert_int_equal(rf_pmap(NULL, 0, square_plus, 0, NULL), 0);
}

static _Atomic int running, max_running, started;

static int tracked(rf_val x, rf_val k, rf_val *out)
{
	atomic_fetch_add(&started, 1);
	int now = atomic_fetch_add(&running, 1) + 1;
	int m = atomic_load(&max_running);
	while (now > m && !atomic_compare_exchange_weak(&max_running, &m, now))
		;
	struct timespec ts = {0, 200000};
	nanosleep(&ts, NULL);
	atomic_fetch_sub(&running, 1);
	*out = x + k;
	return x == 50 ? -EIO : 0;
}

static void stream_in_order_and_bounded(void **state)
{
	enum { N = 200, AHEAD = 4 };
	rf_val in[N];
	for (int i = 0; i < N; i++)
		in[i] = i;
	rf_pmap_stream *s;
	atomic_store(&started, 0);
	assert_int_equal(rf_pmap_stream_new(in, N, tracked, 1000, AHEAD, &s), 0);
	for (int i = 0; i < N; i++) {
		rf_val v = -1;
		int rc = rf_pmap_stream_next(s, &v);
		if (i == 50) {
			assert_int_equal(rc, -EIO);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(v, i + 1000);
		/* never more than AHEAD started beyond what the consumer took */
		assert_true(atomic_load(&started) <= i + 1 + AHEAD);
	}
	rf_val v;
	assert_int_equal(rf_pmap_stream_next(s, &v), RF_EEND);
	assert_int_equal(rf_pmap_stream_next(s, &v), RF_EEND);
	rf_pmap_stream_free(s);
	assert_true(atomic_load(&max_running) >= 1);
}

static int sleepy(rf_val ms, rf_val k, rf_val *out)
{
	struct timespec ts = {0, (long)ms * 1000000L};
	nanosleep(&ts, NULL);
	*out = ms;
	return 0;
}

static void stream_timeout_and_early_free(void **state)
{
	rf_val in[] = {300, 1, 1, 1, 1, 1};
	rf_pmap_stream *s;
	assert_int_equal(rf_pmap_stream_new(in, 6, sleepy, 0, 0, &s), 0);
	rf_val v = 0;
	assert_int_equal(rf_pmap_stream_next_timeout(s, 1, &v), -ETIMEDOUT);
	assert_int_equal(rf_pmap_stream_next_timeout(s, -1, &v), -EINVAL);
	assert_int_equal(rf_pmap_stream_next_timeout(s, 10000, &v), 0);
	assert_int_equal(v, 300);
	assert_int_equal(rf_pmap_stream_next(s, &v), 0);
	assert_int_equal(v, 1);
	rf_pmap_stream_free(s); /* elements still running are waited for */
	assert_int_equal(rf_pmap_stream_new(in, 0, sleepy, 0, 0, &s), 0);
	assert_int_equal(rf_pmap_stream_next(s, &v), RF_EEND);
	rf_pmap_stream_free(s);
	rf_pmap_stream_free(NULL);
	assert_int_equal(rf_pmap_stream_new(NULL, 3, sleepy, 0, 0, &s), -EINVAL);
	assert_int_equal(rf_pmap_stream_next(NULL, &v), -EINVAL);
}

static int stream_in_task(rf_val arg, rf_val *out)
{
	rf_pmap_stream *s;
	*out = rf_pmap_stream_new(NULL, 0, sleepy, 0, 0, &s);
	return 0;
}

static void stream_refused_in_pool_task(void **state)
{
	rf_val r;
	assert_int_equal(rf_fj_invoke(stream_in_task, 0, &r), 0);
	assert_int_equal(r, -EDEADLK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(pmap_in_order),
	    cmocka_unit_test(pmap_errors),
	    cmocka_unit_test(stream_in_order_and_bounded),
	    cmocka_unit_test(stream_timeout_and_early_free),
	    cmocka_unit_test(stream_refused_in_pool_task),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
