/* send-via and the send / send-off executors: an action runs as a task of the executor
 * it names; actions for different executors keep their order; a refused task still
 * runs (on a fiber); NULL restores the fiber default. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "agent_test_util.h"
#include "check.h"
#include "ringfold/agent.h"
#include "ringfold/executor.h"
#include "runtime/sched/sched.h"

static pthread_t pool_thread;

static int note_thread(rf_val arg, rf_val *out)
{
	pool_thread = pthread_self();
	return 0;
}

/* The one thread of a one-thread executor. */
static rf_executor *one_thread_executor(void)
{
	rf_executor *ex;
	rf_future *f;
	rf_val v;
	assert_int_equal(rf_executor_new(1, &ex), 0);
	assert_int_equal(rf_executor_submit(ex, note_thread, 0, &f), 0);
	assert_int_equal(rf_future_deref(f, &v), 0);
	rf_future_free(f);
	return ex;
}

/* value = old + 1; arg: 1 must run on the pool thread, 0 on a fiber */
static int where(rf_val old, rf_val on_pool, rf_val *out)
{
	bool pool = pthread_equal(pthread_self(), pool_thread);
	if (on_pool ? !pool : (pool || !fiber_self()))
		return -1;
	*out = old + 1;
	return 0;
}

static void send_via_runs_on_the_executor(void **state)
{
	rf_executor *ex = one_thread_executor();
	rf_agent *a;
	assert_int_equal(rf_agent_new(0, NULL, &a), 0);
	assert_int_equal(rf_agent_send_via(a, ex, where, 1), 0);
	assert_int_equal(rf_agent_send(a, where, 0), 0);
	assert_int_equal(rf_agent_send_via(a, ex, where, 1), 0);
	assert_int_equal(rf_agent_await(&a, 1), 0);
	assert_int_equal(rf_agent_error(a), 0);
	rf_val v;
	rf_agent_deref(a, &v);
	assert_int_equal(v, 3);

	rf_agent_set_send_executor(ex);
	assert_int_equal(rf_agent_send(a, where, 1), 0);
	assert_int_equal(rf_agent_send_off(a, where, 0), 0);
	rf_agent_set_send_executor(NULL);
	rf_agent_set_send_off_executor(ex);
	assert_int_equal(rf_agent_send_off(a, where, 1), 0);
	assert_int_equal(rf_agent_send(a, where, 0), 0);
	rf_agent_set_send_off_executor(NULL);
	assert_int_equal(rf_agent_await(&a, 1), 0);
	assert_int_equal(rf_agent_error(a), 0);
	rf_agent_deref(a, &v);
	assert_int_equal(v, 7);

	assert_int_equal(rf_agent_send_via(a, NULL, where, 1), -EINVAL);
	assert_int_equal(rf_agent_send_via(NULL, ex, where, 1), -EINVAL);
	assert_int_equal(rf_agent_send_via(a, ex, NULL, 1), -EINVAL);
	rf_agent_free(a);
	rf_executor_free(ex);
}

/* Three places in turn, from several threads: each sender's actions in its order, one
 * at a time, none lost. */
enum { SENDERS = 3, PER = 3000 };
static rf_executor *ex1, *ex2;
static int64_t last_seq[SENDERS];
static _Atomic int running;

static int in_order(rf_val old, rf_val arg, rf_val *out)
{
	RF_CHECK_EQ(atomic_fetch_add(&running, 1), 0);
	int sender = (int)(arg >> 32);
	int64_t seq = arg & 0xffffffff;
	RF_CHECK_EQ(seq, last_seq[sender] + 1);
	last_seq[sender] = seq;
	*out = old + 1;
	atomic_fetch_sub(&running, 1);
	return 0;
}

static rf_agent *shared;

static void *sender(void *p)
{
	intptr_t id = (intptr_t)p;
	for (int64_t i = 1; i <= PER; i++) {
		rf_val arg = ((rf_val)id << 32) | i;
		int rc = i % 3 == 0   ? rf_agent_send(shared, in_order, arg)
		         : i % 3 == 1 ? rf_agent_send_via(shared, ex1, in_order, arg)
		                      : rf_agent_send_via(shared, ex2, in_order, arg);
		RF_CHECK_EQ(rc, 0);
	}
	return NULL;
}

static void order_across_executors(void **state)
{
	assert_int_equal(rf_executor_new(2, &ex1), 0);
	assert_int_equal(rf_executor_new(1, &ex2), 0);
	assert_int_equal(rf_agent_new(0, NULL, &shared), 0);
	pthread_t t[SENDERS];
	for (intptr_t i = 0; i < SENDERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, sender, (void *)i), 0);
	for (int i = 0; i < SENDERS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(rf_agent_await(&shared, 1), 0);
	rf_val v;
	rf_agent_deref(shared, &v);
	assert_int_equal(v, SENDERS * PER);
	for (int i = 0; i < SENDERS; i++)
		assert_int_equal(last_seq[i], PER);
	rf_agent_free(shared);
	rf_executor_free(ex1);
	rf_executor_free(ex2);
}

/* An executor that refuses the task (shut down): the action runs anyway, on a fiber. */
static void refused_still_runs(void **state)
{
	rf_executor *ex = one_thread_executor();
	rf_executor_shutdown(ex);
	rf_agent *a;
	assert_int_equal(rf_agent_new(0, NULL, &a), 0);
	assert_int_equal(rf_agent_send_via(a, ex, where, 0), 0);
	assert_int_equal(rf_agent_await(&a, 1), 0);
	assert_int_equal(rf_agent_error(a), 0);
	rf_val v;
	rf_agent_deref(a, &v);
	assert_int_equal(v, 1);
	rf_agent_free(a);
	rf_executor_free(ex);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(send_via_runs_on_the_executor),
	    cmocka_unit_test(order_across_executors),
	    cmocka_unit_test(refused_still_runs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
