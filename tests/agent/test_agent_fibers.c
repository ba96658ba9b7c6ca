/* Agents on the executor: 10,000 send-off actions blocked at once in a sleep park their
 * fibers and hold no OS threads; 4,000 blocked at once in pipe reads all complete. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent_test_util.h"
#include "ringfold/agent.h"
#include "ringfold/io.h"
#include "runtime/sched/sched.h"

enum { SLEEPERS = 10000 };

static _Atomic int entered;

static int sleep_100ms(rf_val old, rf_val arg, rf_val *out)
{
	if (!fiber_self())
		return -1; /* must run on a fiber */
	atomic_fetch_add(&entered, 1);
	sched_sleep_until(time_now_ns() + 100000000u);
	*out = old + 1;
	return 0;
}

static int os_threads(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int n = -1;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "Threads:", 8))
			n = atoi(line + 8);
	if (f)
		fclose(f);
	return n;
}

static bool all_entered(void *p)
{
	return atomic_load(&entered) == SLEEPERS;
}

static void ten_thousand_parked_sleepers(void **state)
{
	assert_true(sched_workers() > 0);
	rf_agent **agents = calloc(SLEEPERS, sizeof(*agents));
	assert_non_null(agents);
	for (int i = 0; i < SLEEPERS; i++)
		assert_int_equal(rf_agent_new(0, NULL, &agents[i]), 0);
	int threads_before = os_threads();
	for (int i = 0; i < SLEEPERS; i++)
		assert_int_equal(rf_agent_send_off(agents[i], sleep_100ms, 0), 0);
	assert_true(wait_until(all_entered, NULL));
	/* Every action has started; the ones still asleep hold fibers, not threads. */
	assert_true(os_threads() <= threads_before + 4);
	assert_int_equal(rf_agent_await_for(agents, SLEEPERS, 30000), 0);
	for (int i = 0; i < SLEEPERS; i++) {
		rf_val v;
		rf_agent_deref(agents[i], &v);
		assert_int_equal(v, 1);
		rf_agent_free(agents[i]);
	}
	free(agents);
}

/* 4,000 send-off agents blocked at once in a pipe read (8,000 descriptors: under the
 * test's descriptor limit), released by writes from this thread. */
enum { READERS = 4000 };
static int pipes[READERS][2];
static _Atomic int readers_in;

static int read_one(rf_val old, rf_val i, rf_val *out)
{
	char c;
	atomic_fetch_add(&readers_in, 1);
	ssize_t n = rf_io_read(pipes[i][0], &c, 1);
	if (n != 1)
		return n < 0 ? (int)n : -EIO;
	*out = old + c;
	return 0;
}

static bool all_readers_in(void *p)
{
	return atomic_load(&readers_in) == READERS;
}

static void four_thousand_blocked_pipe_reads(void **state)
{
	assert_true(sched_workers() > 0);
	rf_agent **agents = calloc(READERS, sizeof(*agents));
	assert_non_null(agents);
	for (int i = 0; i < READERS; i++) {
		assert_int_equal(pipe(pipes[i]), 0);
		assert_int_equal(rf_agent_new(i, NULL, &agents[i]), 0);
		assert_int_equal(rf_agent_send_off(agents[i], read_one, i), 0);
	}
	assert_true(wait_until(all_readers_in, NULL));
	assert_int_equal(rf_agent_await_for(agents, READERS, 0), -ETIMEDOUT);
	for (int i = 0; i < READERS; i++)
		assert_int_equal(write(pipes[i][1], "\x05", 1), 1);
	assert_int_equal(rf_agent_await_for(agents, READERS, 30000), 0);
	for (int i = 0; i < READERS; i++) {
		rf_val v;
		rf_agent_deref(agents[i], &v);
		assert_int_equal(v, i + 5);
		assert_int_equal(rf_agent_error(agents[i]), 0);
		rf_agent_free(agents[i]);
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
	free(agents);
}

/* An action awaiting from a fiber is refused like from a thread; await itself from a
 * fiber parks (exercised by the drains' own markers above). */
static int await_inside(rf_val old, rf_val arg, rf_val *out)
{
	rf_agent *self = rf_agent_self();
	*out = rf_agent_await(&self, 1);
	return 0;
}

static void await_inside_action_on_fiber(void **state)
{
	assert_true(sched_workers() > 0);
	rf_agent *a;
	assert_int_equal(rf_agent_new(0, NULL, &a), 0);
	assert_int_equal(rf_agent_send(a, await_inside, 0), 0);
	assert_int_equal(rf_agent_await(&a, 1), 0);
	rf_val v;
	rf_agent_deref(a, &v);
	assert_int_equal(v, RF_EAWAITINACTION);
	rf_agent_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ten_thousand_parked_sleepers),
	    cmocka_unit_test(four_thousand_blocked_pipe_reads),
	    cmocka_unit_test(await_inside_action_on_fiber),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
