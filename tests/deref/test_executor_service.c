/* deref family: the executor service (submit, invoke-all, shutdown, shutdown-now,
 * await-termination) and that no accepted task is lost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "ringfold.h"

static _Atomic long ran;

static int count_task(rf_val arg, rf_val *out)
{
	atomic_fetch_add_explicit(&ran, 1, memory_order_relaxed);
	*out = arg + 1;
	return 0;
}

static int wait_for(rf_val arg, rf_val *out)
{
	return rf_promise_deref(rf_to_ptr(arg), out);
}

static void submit_and_deref(void **state)
{
	rf_executor *ex;
	rf_future *f;
	rf_val v;
	assert_int_equal(rf_executor_new(4, &ex), 0);
	assert_int_equal(rf_executor_submit(ex, count_task, 41, &f), 0);
	assert_int_equal(rf_deref(f, &v), 0);
	assert_int_equal(v, 42);
	rf_future_free(f);
	assert_false(rf_executor_is_shutdown(ex));
	rf_executor_free(ex);
}

static void bad_input(void **state)
{
	rf_executor *ex;
	rf_future *f;
	rf_task *back;
	size_t n;
	assert_int_equal(rf_executor_new(0, &ex), -EINVAL);
	assert_int_equal(rf_executor_new(1, NULL), -EINVAL);
	assert_int_equal(rf_executor_new(1, &ex), 0);
	assert_int_equal(rf_executor_submit(NULL, count_task, 0, &f), -EINVAL);
	assert_int_equal(rf_executor_submit(ex, NULL, 0, &f), -EINVAL);
	assert_int_equal(rf_executor_await_termination(ex, -1), -EINVAL);
	assert_int_equal(rf_executor_shutdown_now(ex, NULL, &n), -EINVAL);
	assert_int_equal(rf_executor_shutdown_now(NULL, &back, &n), -EINVAL);
	rf_executor_free(ex);
	rf_executor_free(NULL);
}

/* shutdown: every accepted task still runs; later submits are refused. */
static void shutdown_loses_nothing(void **state)
{
	enum { N = 5000 };
	rf_executor *ex;
	atomic_store(&ran, 0);
	assert_int_equal(rf_executor_new(3, &ex), 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(rf_executor_submit(ex, count_task, i, NULL), 0);
	rf_executor_shutdown(ex);
	rf_executor_shutdown(ex); /* idempotent */
	assert_true(rf_executor_is_shutdown(ex));
	rf_future *f;
	assert_int_equal(rf_executor_submit(ex, count_task, 0, &f), RF_ESHUTDOWN);
	assert_int_equal(rf_executor_await_termination(ex, 10000), 0);
	assert_true(rf_executor_is_terminated(ex));
	assert_int_equal(atomic_load(&ran), N);
	assert_int_equal(rf_executor_await_termination(ex, 0), 0);
	rf_executor_free(ex);
}

/* await-termination times out while a task still runs, then succeeds. */
static void await_termination_timeout(void **state)
{
	rf_executor *ex;
	rf_promise *gate;
	assert_int_equal(rf_promise_new(&gate), 0);
	assert_int_equal(rf_executor_new(1, &ex), 0);
	assert_int_equal(rf_executor_submit(ex, wait_for, rf_from_ptr(gate), NULL), 0);
	assert_int_equal(rf_executor_await_termination(ex, 0), -ETIMEDOUT);
	rf_executor_shutdown(ex);
	assert_int_equal(rf_executor_await_termination(ex, 30), -ETIMEDOUT);
	assert_false(rf_executor_is_terminated(ex));
	assert_int_equal(rf_promise_deliver(gate, 1), 0);
	assert_int_equal(rf_executor_await_termination(ex, 10000), 0);
	rf_executor_free(ex);
	rf_promise_free(gate);
}

/* shutdown-now hands back exactly the tasks not started, in order, cancelled; each
 * accepted task either ran or came back. */
struct gates {
	rf_promise *started, *go;
};

static int hold_thread(rf_val arg, rf_val *out)
{
	struct gates *g = rf_to_ptr(arg);
	rf_promise_deliver(g->started, 1);
	return rf_promise_deref(g->go, out);
}

static void shutdown_now_returns_unstarted(void **state)
{
	enum { N = 50 };
	rf_executor *ex;
	rf_promise *gate, *started;
	rf_future *blocker, *f[N];
	rf_val v;
	atomic_store(&ran, 0);
	assert_int_equal(rf_promise_new(&gate), 0);
	assert_int_equal(rf_promise_new(&started), 0);
	struct gates g = {started, gate};
	assert_int_equal(rf_executor_new(1, &ex), 0);
	assert_int_equal(rf_executor_submit(ex, hold_thread, rf_from_ptr(&g), &blocker), 0);
	assert_int_equal(rf_deref(started, &v), 0); /* the only thread is now held */
	for (int i = 0; i < N; i++)
		assert_int_equal(rf_executor_submit(ex, count_task, i, &f[i]), 0);
	rf_task *back;
	size_t n;
	assert_int_equal(rf_executor_shutdown_now(ex, &back, &n), 0);
	assert_int_equal(rf_promise_deliver(gate, 7), 0);
	assert_int_equal(rf_executor_await_termination(ex, 10000), 0);
	assert_int_equal(n, N);
	assert_int_equal(atomic_load(&ran), 0);
	assert_int_equal(rf_deref(blocker, &v), 0); /* the running task ran to its end */
	assert_int_equal(v, 7);
	for (size_t i = 0; i < n; i++) {
		assert_ptr_equal(back[i].fn, count_task);
		assert_int_equal(back[i].arg, (rf_val)(N - n + i));
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(rf_deref(f[i], &v), -ECANCELED);
		assert_true(rf_future_cancelled(f[i]));
		rf_future_free(f[i]);
	}
	free(back);
	rf_future_free(blocker);
	rf_executor_free(ex);
	rf_promise_free(gate);
	rf_promise_free(started);
}

struct submitter {
	rf_executor *ex;
	long accepted;
};

static void *submit_until_refused(void *arg)
{
	struct submitter *s = arg;
	for (;;) {
		int rc = rf_executor_submit(s->ex, count_task, 0, NULL);
		if (rc == RF_ESHUTDOWN)
			return NULL;
		if (rc != 0)
			abort();
		s->accepted++;
	}
}

/* Submitters race a shutdown (now: shutdown-now) of a pool that has run 1000 of their
 * tasks: every accepted task either ran or came back, however the submits land. */
static void race_shutdown(bool now)
{
	enum { SUBMITTERS = 3 };
	for (int round = 0; round < 5; round++) {
		rf_executor *ex;
		struct submitter s[SUBMITTERS];
		pthread_t t[SUBMITTERS];
		atomic_store(&ran, 0);
		assert_int_equal(rf_executor_new(2, &ex), 0);
		for (int i = 0; i < SUBMITTERS; i++) {
			s[i] = (struct submitter){ex, 0};
			assert_int_equal(pthread_create(&t[i], NULL, submit_until_refused, &s[i]),
			                 0);
		}
		while (atomic_load(&ran) < 1000)
			sched_yield();
		rf_task *back = NULL;
		size_t n = 0;
		if (now)
			assert_int_equal(rf_executor_shutdown_now(ex, &back, &n), 0);
		else
			rf_executor_shutdown(ex);
		long accepted = 0;
		for (int i = 0; i < SUBMITTERS; i++) {
			pthread_join(t[i], NULL);
			accepted += s[i].accepted;
		}
		assert_int_equal(rf_executor_await_termination(ex, 10000), 0);
		for (size_t i = 0; i < n; i++)
			assert_ptr_equal(back[i].fn, count_task);
		assert_int_equal(atomic_load(&ran) + (long)n, accepted);
		free(back);
		rf_executor_free(ex);
	}
}

static void shutdown_races_submitters(void **state)
{
	race_shutdown(false);
}

static void shutdown_now_races_submitters(void **state)
{
	race_shutdown(true);
}

/* With one thread the pool runs tasks in the order they were accepted, however
 * concurrent submitters' pushes interleave: each submitter's tasks in its own order,
 * and the tasks of one invoke_all back to back. The tasks run on that one thread only,
 * so the state below needs no synchronization; the test reads it after termination. */
enum { ORDER_SUBMITTERS = 3, ORDER_TASKS = 3000, ORDER_BATCH = 8 };

static long order_next[ORDER_SUBMITTERS]; /* each submitter's next sequence number */
static rf_val order_prev = -1;            /* the task that ran last */
static long order_broken;                 /* tasks that ran out of order */

static int record_order(rf_val arg, rf_val *out)
{
	long id = arg >> 32, seq = arg & 0xffffffff;
	if (seq != order_next[id]++)
		order_broken++;
	if (id == 0 && seq % ORDER_BATCH && order_prev != arg - 1)
		order_broken++; /* an invoke_all's task not right after its predecessor */
	order_prev = arg;
	*out = arg;
	return 0;
}

struct order_submitter {
	rf_executor *ex;
	long id;
};

/* Submitter 0 queues its tasks ORDER_BATCH at a time by invoke_all, the others one by
 * one by submit. */
static void *submit_in_order(void *arg)
{
	struct order_submitter *s = arg;
	for (long seq = 0; seq < ORDER_TASKS; seq += s->id ? 1 : ORDER_BATCH) {
		if (s->id) {
			if (rf_executor_submit(s->ex, record_order, (s->id << 32) | seq, NULL) != 0)
				abort();
			continue;
		}
		rf_task tasks[ORDER_BATCH];
		rf_future *f[ORDER_BATCH];
		for (long i = 0; i < ORDER_BATCH; i++)
			tasks[i] = (rf_task){record_order, seq + i};
		if (rf_executor_invoke_all(s->ex, tasks, ORDER_BATCH, f) != 0)
			abort();
		for (long i = 0; i < ORDER_BATCH; i++)
			rf_future_free(f[i]);
	}
	return NULL;
}

static void fifo_across_submitters(void **state)
{
	rf_executor *ex;
	struct order_submitter s[ORDER_SUBMITTERS];
	pthread_t t[ORDER_SUBMITTERS];
	assert_int_equal(rf_executor_new(1, &ex), 0);
	for (long i = 0; i < ORDER_SUBMITTERS; i++) {
		s[i] = (struct order_submitter){ex, i};
		assert_int_equal(pthread_create(&t[i], NULL, submit_in_order, &s[i]), 0);
	}
	for (int i = 0; i < ORDER_SUBMITTERS; i++)
		pthread_join(t[i], NULL);
	rf_executor_shutdown(ex);
	assert_int_equal(rf_executor_await_termination(ex, 10000), 0);
	for (int i = 0; i < ORDER_SUBMITTERS; i++)
		assert_int_equal(order_next[i], ORDER_TASKS);
	assert_int_equal(order_broken, 0);
	rf_executor_free(ex);
}

static void invoke_all(void **state)
{
	enum { N = 100 };
	rf_executor *ex;
	rf_task tasks[N];
	rf_future *f[N];
	for (int i = 0; i < N; i++)
		tasks[i] = (rf_task){count_task, i};
	assert_int_equal(rf_executor_new(4, &ex), 0);
	assert_int_equal(rf_executor_invoke_all(ex, tasks, N, f), 0);
	for (int i = 0; i < N; i++) {
		rf_val v;
		assert_true(rf_future_done(f[i]));
		assert_int_equal(rf_deref(f[i], &v), 0);
		assert_int_equal(v, i + 1);
		rf_future_free(f[i]);
	}
	rf_executor_shutdown(ex);
	assert_int_equal(rf_executor_invoke_all(ex, tasks, N, f), RF_ESHUTDOWN);
	rf_executor_free(ex);
}

/* Every thread of the pool runs at once when as many tasks are queued, however they
 * were submitted and whether the threads were idle: each task waits for all the others
 * to have started, so a wake-up that was not passed on would hang it (the 60 s
 * deadline is only a backstop for that failure). */
enum { MEET_THREADS = 4 };

struct meeting {
	_Atomic int arrived;
	rf_promise *all;
};

static int meet(rf_val arg, rf_val *out)
{
	struct meeting *m = rf_to_ptr(arg);
	if (atomic_fetch_add_explicit(&m->arrived, 1, memory_order_relaxed) + 1 == MEET_THREADS)
		rf_promise_deliver(m->all, 1);
	return rf_promise_deref_timeout(m->all, 60000, out);
}

static void all_threads_meet(void **state)
{
	rf_executor *ex;
	assert_int_equal(rf_executor_new(MEET_THREADS, &ex), 0);
	for (int round = 0; round < 200; round++) {
		struct meeting m = {0};
		assert_int_equal(rf_promise_new(&m.all), 0);
		rf_future *f[MEET_THREADS];
		if (round % 2) {
			rf_task tasks[MEET_THREADS];
			for (int i = 0; i < MEET_THREADS; i++)
				tasks[i] = (rf_task){meet, rf_from_ptr(&m)};
			assert_int_equal(rf_executor_invoke_all(ex, tasks, MEET_THREADS, f), 0);
		} else {
			for (int i = 0; i < MEET_THREADS; i++)
				assert_int_equal(
				    rf_executor_submit(ex, meet, rf_from_ptr(&m), &f[i]), 0);
		}
		for (int i = 0; i < MEET_THREADS; i++) {
			rf_val v;
			assert_int_equal(rf_deref(f[i], &v), 0);
			assert_int_equal(v, 1);
			rf_future_free(f[i]);
		}
		rf_promise_free(m.all);
	}
	rf_executor_free(ex);
}

/* A task that tells the promise in its argument that it ran. */
static int deliver_task(rf_val arg, rf_val *out)
{
	*out = 0;
	return rf_promise_deliver(rf_to_ptr(arg), 1);
}

struct lone_submit {
	rf_executor *ex;
	rf_promise *ran;
};

static void *submit_one(void *arg)
{
	struct lone_submit *s = arg;
	if (rf_executor_submit(s->ex, deliver_task, rf_from_ptr(s->ran), NULL) != 0)
		abort();
	return NULL;
}

/* Whoever waited for a task may free the executor as soon as it ran, while the thread
 * that submitted it is still inside rf_executor_submit (waking the worker). */
static void free_once_the_task_ran(void **state)
{
	for (int round = 0; round < 100; round++) {
		struct lone_submit s;
		pthread_t t;
		assert_int_equal(rf_executor_new(1, &s.ex), 0);
		assert_int_equal(rf_promise_new(&s.ran), 0);
		assert_int_equal(pthread_create(&t, NULL, submit_one, &s), 0);
		rf_val v;
		assert_int_equal(rf_promise_deref(s.ran, &v), 0);
		rf_executor_free(s.ex);
		pthread_join(t, NULL);
		rf_promise_free(s.ran);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(submit_and_deref),
	    cmocka_unit_test(bad_input),
	    cmocka_unit_test(shutdown_loses_nothing),
	    cmocka_unit_test(await_termination_timeout),
	    cmocka_unit_test(shutdown_now_returns_unstarted),
	    cmocka_unit_test(shutdown_races_submitters),
	    cmocka_unit_test(shutdown_now_races_submitters),
	    cmocka_unit_test(fifo_across_submitters),
	    cmocka_unit_test(invoke_all),
	    cmocka_unit_test(all_threads_meet),
	    cmocka_unit_test(free_once_the_task_ran),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
