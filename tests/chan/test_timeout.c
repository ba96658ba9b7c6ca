/* tests/chan/test_timeout.c: timeout channels on the executor's timers: core.async's
 * 10 ms coalescing, never early, at most one resolution late (plus scheduling), from
 * fibers and plain threads, and closed (not abandoned) by rf_shutdown. */
#include "chan_test.h"
#include "runtime/base/time.h"

#define RES_NS 10000000u

/* Calls in one tight loop share channels: at most one per 10 ms bucket crossed. */
static void test_coalesced(void **state)
{
	enum { N = 1000 };
	static rf_chan *ts[N];
	uint64_t t0 = time_now_ns();
	for (int i = 0; i < N; i++)
		assert_int_equal(rf_chan_timeout(100, &ts[i]), 0);
	uint64_t t1 = time_now_ns();
	int distinct = 1;
	for (int i = 1; i < N; i++)
		distinct += ts[i] != ts[i - 1];
	/* one bucket per 10 ms the loop took, and one more for the boundary it may cross */
	assert_true(distinct <= (int)((t1 - t0) / RES_NS) + 2);
	rf_val v;
	for (int i = 0; i < N; i++) {
		assert_int_equal(take5(ts[i], &v), RF_ECLOSED);
		rf_chan_release(ts[i]);
	}
	/* Different deadlines, more than a resolution apart, never share. */
	rf_chan *a, *b;
	assert_int_equal(rf_chan_timeout(50, &a), 0);
	assert_int_equal(rf_chan_timeout(80, &b), 0);
	assert_ptr_not_equal(a, b);
	rf_chan_release(a);
	rf_chan_release(b);
}

/* Each closes no earlier than asked, and not much later: the resolution plus a generous
 * bound for a loaded machine. */
static void check_window(int64_t ms)
{
	rf_chan *t;
	rf_val v;
	uint64_t t0 = time_now_ns();
	RF_CHECK_EQ(rf_chan_timeout(ms, &t), 0);
	RF_CHECK_EQ(take5(t, &v), RF_ECLOSED);
	uint64_t took = time_now_ns() - t0;
	RF_CHECK(took >= (uint64_t)ms * 1000000u);
	RF_CHECK(took < (uint64_t)ms * 1000000u + RES_NS + 2000000000u);
	rf_chan_release(t);
}

static int go_window(rf_val arg, rf_val *out)
{
	check_window(arg);
	return 0;
}

static void test_window_fiber_and_thread(void **state)
{
	check_window(0);
	check_window(25);
	rf_chan *r;
	assert_int_equal(rf_go(go_window, 35, &r), 0);
	assert_int_equal(result_of(r), 0);
}

/* A timeout far in the future is closed by rf_shutdown: nothing waits on it forever, and
 * its fiber is not abandoned holding the channel (ASan would report the leak). */
static void test_shutdown_closes_pending(void **state)
{
	rf_chan *t;
	assert_int_equal(rf_chan_timeout(3600 * 1000, &t), 0);
	rf_val v;
	assert_int_equal(rf_chan_poll(t, &v), -EAGAIN);
	rf_shutdown();
	assert_true(rf_chan_closed(t));
	assert_int_equal(rf_chan_poll(t, &v), RF_ECLOSED);
	rf_chan_release(t);
	/* and timeouts work again once the runtime restarts */
	assert_int_equal(rf_chan_timeout(5, &t), 0);
	assert_int_equal(take5(t, &v), RF_ECLOSED);
	rf_chan_release(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_coalesced),
	    cmocka_unit_test(test_window_fiber_and_thread),
	    cmocka_unit_test(test_shutdown_closes_pending),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
