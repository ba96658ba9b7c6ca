/* deref family: future cells come from per-thread caches (runtime/deref/future.c), and
 * are freed by whichever thread drops the last reference. Cells freed on executor
 * threads and on rf_thread_start threads go to those threads' caches, which are given
 * back when the threads exit; a cell is handed out again with a fresh outcome. fork()
 * while another thread makes and frees futures leaves the child able to make its own. A
 * child still running after 30 s is deadlocked: it is killed and the test fails. The
 * fork test is skipped in sanitizer builds: there the cells are malloc's, and the
 * sanitizers' allocators may be locked by another thread across fork(), which leaves the
 * child's first malloc waiting for good. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reap.h"
#include "ringfold.h"

enum { ROUNDS = 20, N = 1000, THREADS = 64, FORKS = 100, CHILD_N = 1000, HUNG_MS = 30000 };

static _Atomic long ran;

static int plus_one(rf_val arg, rf_val *out)
{
	atomic_fetch_add_explicit(&ran, 1, memory_order_relaxed);
	*out = arg + 1;
	return 0;
}

/* Outstanding futures, freed on this thread, and fire-and-forget ones, freed on the
 * workers; every round reuses the cells the last one freed. */
static void cells_reused_across_threads(void **state)
{
	(void)state;
	static rf_future *fs[N];
	rf_executor *ex;
	assert_int_equal(rf_executor_new(2, &ex), 0);
	atomic_store_explicit(&ran, 0, memory_order_relaxed);
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < N; i++) {
			assert_int_equal(rf_executor_submit(ex, plus_one, r * N + i, &fs[i]), 0);
			assert_int_equal(rf_executor_submit(ex, plus_one, i, NULL), 0);
		}
		for (int i = 0; i < N; i++) {
			rf_val v;
			assert_int_equal(rf_deref(fs[i], &v), 0);
			assert_int_equal(v, r * N + i + 1);
			assert_false(rf_future_cancelled(fs[i]));
			rf_future_free(fs[i]);
		}
	}
	rf_executor_shutdown(ex);
	assert_int_equal(rf_executor_await_termination(ex, 60000), 0);
	/* termination follows every accepted task's run */
	assert_int_equal(atomic_load_explicit(&ran, memory_order_relaxed), 2L * ROUNDS * N);
	rf_executor_free(ex);
}

static _Atomic int left;
static rf_promise *all_done;

/* The last of THREADS bodies delivers all_done. */
static int count_down(rf_val arg, rf_val *out)
{
	*out = arg;
	if (atomic_fetch_sub_explicit(&left, 1, memory_order_acq_rel) == 1)
		rf_promise_deliver(all_done, 1);
	return 0;
}

/* Threads whose futures nobody holds: each thread drops the last reference and frees
 * the cell into its own cache just before it exits. */
static void cells_freed_by_exiting_threads(void **state)
{
	(void)state;
	for (int r = 0; r < 3; r++) {
		atomic_store_explicit(&left, THREADS, memory_order_relaxed);
		assert_int_equal(rf_promise_new(&all_done), 0);
		for (int i = 0; i < THREADS; i++)
			assert_int_equal(rf_thread_start(count_down, i, NULL), 0);
		rf_val v;
		assert_int_equal(rf_deref(all_done, &v), 0);
		assert_int_equal(v, 1);
		rf_promise_free(all_done);
	}
}

static atomic_bool stop;
static atomic_long made; /* futures the churner made and freed */

static void *churn(void *arg)
{
	rf_executor *ex = arg;
	rf_future *fs[64];
	/* relaxed: the flag carries no data; join orders the rest */
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		for (int i = 0; i < 64; i++)
			if (rf_executor_submit(ex, plus_one, i, &fs[i]) < 0)
				abort();
		for (int i = 0; i < 64; i++) {
			rf_val v;
			if (rf_deref(fs[i], &v) < 0 || v != i + 1)
				abort();
			rf_future_free(fs[i]);
		}
		atomic_fetch_add_explicit(&made, 64, memory_order_relaxed);
	}
	return NULL;
}

/* The child's work: an exit code, 0 when every future gave what it should. */
static int child_work(void)
{
	static rf_future *fs[CHILD_N];
	rf_executor *ex;
	if (rf_executor_new(2, &ex) < 0)
		return 1;
	for (int i = 0; i < CHILD_N; i++)
		if (rf_executor_submit(ex, plus_one, i, &fs[i]) < 0)
			return 2;
	for (int i = 0; i < CHILD_N; i++) {
		rf_val v;
		if (rf_deref(fs[i], &v) < 0 || v != i + 1)
			return 3;
		rf_future_free(fs[i]);
	}
	rf_executor_free(ex);
	return 0;
}

static void fork_while_another_thread_makes_futures(void **state)
{
	(void)state;
#if defined(RF_ASAN) || defined(RF_TSAN)
	skip();
#endif
	rf_executor *ex;
	pthread_t th;
	assert_int_equal(rf_executor_new(2, &ex), 0);
	assert_int_equal(pthread_create(&th, NULL, churn, ex), 0);
	int at = 0, code = rf_test_forks_during(&made, FORKS, child_work, HUNG_MS, &at);
	if (code == -1)
		fail_msg("child %d of %d still running after %d ms: deadlocked", at, FORKS,
		         HUNG_MS);
	assert_int_equal(code, 0);
	atomic_store_explicit(&stop, true, memory_order_relaxed);
	assert_int_equal(pthread_join(th, NULL), 0);
	rf_executor_free(ex);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cells_reused_across_threads),
	    cmocka_unit_test(cells_freed_by_exiting_threads),
	    cmocka_unit_test(fork_while_another_thread_makes_futures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
