/* tests/chan/test_many.c: 100,000 live go processes (own binary: it takes seconds). */
#include "chan_test.h"

typedef struct gate_arg {
	rf_chan *gate, *done;
} gate_arg;

static int wait_gate(rf_val arg, rf_val *out)
{
	gate_arg *g = rf_to_ptr(arg);
	rf_val v;
	return rf_chan_put(g->done, rf_chan_take(g->gate, &v));
}

/* 100,000 go processes parked at once (fewer under the sanitizers, whose shadow memory
 * multiplies every stack; see below for
 * the simulated two-node run): each waits on a gate shared by 1,000 (under the pending limit),
 * and all report on one channel once the gates close. */
static void test_many_go(void **state)
{
#if defined(RF_ASAN) || defined(RF_TSAN)
	int N = 10000;
#else
	int N = 100000;
	/* Node-local stacks (topo_node_alloc) cost two VMAs per fiber on this kernel, and
	 * vm.max_map_count (65,530) then caps live fibers near 32,000: see
	 * runtime/sched/stack.c. The simulated two-node run stays under that. */
	if (getenv("RF_TOPOLOGY"))
		N = 30000;
#endif
	enum { PER_GATE = 1000 };
	gate_arg args[100000 / PER_GATE];
	rf_chan *done;
	assert_int_equal(rf_chan_new_buf(RF_BUF_FIXED, N, &done), 0);
	for (int g = 0; g < N / PER_GATE; g++) {
		args[g].done = done;
		assert_int_equal(rf_chan_new(&args[g].gate), 0);
	}
	for (int i = 0; i < N; i++)
		assert_int_equal(rf_go(wait_gate, rf_from_ptr(&args[i / PER_GATE]), NULL), 0);
	for (int g = 0; g < N / PER_GATE; g++)
		rf_chan_close(args[g].gate);
	for (int i = 0; i < N; i++) {
		rf_val rc;
		assert_int_equal(rf_chan_take_timeout(done, 30000, &rc), 0);
		assert_int_equal(rc, RF_ECLOSED);
	}
	for (int g = 0; g < N / PER_GATE; g++)
		rf_chan_release(args[g].gate);
	rf_chan_release(done);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_many_go),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
