/* fork() while another thread holds cslab's lock (runtime/coll/cslab.h): a thread takes
 * and gives back batches of blocks without pause, so its lock is held through most forks,
 * while the main thread forks again and again. Each child takes and gives back blocks,
 * builds a hash map (its nodes come from the slabs in release builds), reads every key
 * back and releases it, and exits 0. A child still running after 30 s is deadlocked: it
 * is killed and the test fails. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "reap.h"
#include "ringfold.h"
#include "runtime/coll/cslab.h"

enum { FORKS = 200, BATCH = 64, KEYS = 2000, HUNG_MS = 30000 };

static atomic_bool stop;
static atomic_long churned; /* batches the churner took and gave back */

static void *churn(void *arg)
{
	(void)arg;
	void *b[BATCH];
	unsigned c = 0;
	/* relaxed: the flag carries no data; join orders the rest */
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		RF_CHECK(cslab_take(c, b, BATCH) == BATCH);
		cslab_give(b, BATCH);
		c = (c + 1) % CSLAB_CLASSES;
		atomic_fetch_add_explicit(&churned, 1, memory_order_relaxed);
	}
	return NULL;
}

/* The child's work: an exit code, 0 when every step gave what it should. */
static int child_work(void)
{
	void *b[BATCH];
	if (cslab_take(CSLAB_CLASSES - 1, b, BATCH) != BATCH)
		return 1;
	cslab_give(b, BATCH);
	rf_phm *m, *n;
	if (rf_phm_new(NULL, &m))
		return 2;
	for (int64_t i = 0; i < KEYS; i++) {
		if (rf_phm_assoc(m, i, i * 3, &n))
			return 3;
		rf_phm_release(m);
		m = n;
	}
	for (int64_t i = 0; i < KEYS; i++) {
		rf_val v;
		if (rf_phm_get(m, i, -1, &v) || v != i * 3)
			return 4;
	}
	rf_phm_release(m);
	return 0;
}

static void fork_while_another_thread_takes(void **state)
{
	(void)state;
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, churn, NULL), 0);
	int at = 0, code = rf_test_forks_during(&churned, FORKS, child_work, HUNG_MS, &at);
	if (code == -1)
		fail_msg("child %d of %d still running after %d ms: deadlocked", at, FORKS,
		         HUNG_MS);
	assert_int_equal(code, 0);
	atomic_store_explicit(&stop, true, memory_order_relaxed);
	assert_int_equal(pthread_join(th, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fork_while_another_thread_takes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
