/* tests/atom/test_lock.c: locks: reentrancy, owner checks, timeouts, mutual exclusion
 * under stress, fairness between hammering threads, and parking of fibers. */
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"

#include "ringfold.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/wait.h"

static rf_lock lk;

static void test_reentrant(void **state)
{
	assert_int_equal(rf_lock_init(&lk), 0);
	assert_false(rf_lock_held(&lk));
	assert_int_equal(rf_lock_unlock(&lk), RF_ENOTOWNER);
	for (int i = 0; i < 3; i++)
		assert_int_equal(rf_lock_lock(&lk), 0);
	assert_true(rf_lock_held(&lk));
	assert_int_equal(rf_lock_destroy(&lk), -EBUSY);
	for (int i = 0; i < 3; i++)
		assert_int_equal(rf_lock_unlock(&lk), 0);
	assert_false(rf_lock_held(&lk));
	assert_int_equal(rf_lock_unlock(&lk), RF_ENOTOWNER);
	assert_int_equal(rf_lock_lock_timeout(&lk, 0), 0);
	assert_int_equal(rf_lock_unlock(&lk), 0);
	assert_int_equal(rf_lock_lock_timeout(&lk, -1), -EINVAL);
	assert_int_equal(rf_lock_destroy(&lk), 0);
	assert_int_equal(rf_lock_lock(&lk), -EBADF);
	assert_int_equal(rf_lock_lock(NULL), -EINVAL);
	assert_int_equal(rf_lock_unlock(NULL), -EINVAL);
	assert_int_equal(rf_locking(NULL, NULL, 0, NULL), -EINVAL);
	rf_lock *heap;
	assert_int_equal(rf_lock_new(&heap), 0);
	assert_int_equal(rf_lock_lock(heap), 0);
	assert_int_equal(rf_lock_destroy(heap), -EBUSY); /* held: nothing done */
	assert_int_equal(rf_lock_unlock(heap), 0);
	rf_lock_free(heap);
	rf_lock_free(NULL);
}

/* The exported functions (names in parentheses: no inline fast path) and the inline
 * forms of the header act on one lock alike, whichever takes it and whichever frees it. */
static void test_call_forms(void **state)
{
	assert_int_equal(rf_lock_init(&lk), 0);
	assert_int_equal((rf_lock_lock)(&lk), 0);
	assert_true(rf_lock_held(&lk));
	assert_int_equal(rf_lock_lock(&lk), 0); /* reentry: the inline form calls */
	assert_int_equal(rf_lock_unlock(&lk), 0);
	assert_true(rf_lock_held(&lk));
	assert_int_equal(rf_lock_unlock(&lk), 0);
	assert_false(rf_lock_held(&lk));
	assert_int_equal((rf_lock_unlock)(&lk), RF_ENOTOWNER);
	assert_int_equal(rf_lock_lock(&lk), 0);
	assert_int_equal((rf_lock_unlock)(&lk), 0);
	assert_int_equal(rf_lock_unlock(&lk), RF_ENOTOWNER);
	assert_int_equal(rf_lock_destroy(&lk), 0);
	assert_int_equal(rf_lock_lock(&lk), -EBADF);
	assert_int_equal((rf_lock_lock)(&lk), -EBADF);
	assert_int_equal(rf_lock_unlock(&lk), -EBADF);
	assert_int_equal((rf_lock_unlock)(NULL), -EINVAL);
}

/* Another thread can neither unlock our lock nor take it; it gets it once we let go. */
static sem_t step;

static void *intruder(void *arg)
{
	RF_CHECK_EQ(rf_lock_unlock(&lk), RF_ENOTOWNER);
	RF_CHECK(!(rf_lock_held(&lk)));
	RF_CHECK_EQ(rf_lock_lock_timeout(&lk, 0), -ETIMEDOUT);
	RF_CHECK_EQ(rf_lock_lock_timeout(&lk, 30), -ETIMEDOUT);
	sem_post(&step);
	RF_CHECK_EQ(rf_lock_lock_timeout(&lk, 10000), 0); /* after the owner unlocks */
	RF_CHECK(rf_lock_held(&lk));
	RF_CHECK_EQ(rf_lock_unlock(&lk), 0);
	return NULL;
}

static void test_not_owner_and_timeout(void **state)
{
	pthread_t t;
	assert_int_equal(rf_lock_init(&lk), 0);
	sem_init(&step, 0, 0);
	assert_int_equal(rf_lock_lock(&lk), 0);
	assert_int_equal(pthread_create(&t, NULL, intruder, NULL), 0);
	sem_wait(&step);
	assert_true(rf_lock_held(&lk)); /* the failed unlock changed nothing */
	assert_int_equal(rf_lock_unlock(&lk), 0);
	pthread_join(t, NULL);
	assert_int_equal(rf_lock_destroy(&lk), 0);
	sem_destroy(&step);
}

/* rf_locking: the body's result comes back and the lock is free on every path. */
static int body_ok(rf_val arg, rf_val *out)
{
	RF_CHECK(rf_lock_held(&lk));
	*out = arg + 1;
	return 0;
}

static int body_fails(rf_val arg, rf_val *out)
{
	RF_CHECK(rf_lock_held(&lk));
	return -EPIPE;
}

static void test_locking(void **state)
{
	rf_val out;
	assert_int_equal(rf_lock_init(&lk), 0);
	assert_int_equal(rf_locking(&lk, body_ok, 41, &out), 0);
	assert_int_equal(out, 42);
	assert_false(rf_lock_held(&lk));
	assert_int_equal(rf_locking(&lk, body_fails, 0, NULL), -EPIPE);
	assert_false(rf_lock_held(&lk));
	assert_int_equal(rf_lock_destroy(&lk), 0);
}

/* Mutual exclusion: a plain (non-atomic) counter incremented under the lock, with a
 * reentrant inner lock, by several threads, some with timeouts: the count is exact. */
enum { THREADS = 4, ROUNDS = 20000 };
static long plain_counter;

static int bump(rf_val arg, rf_val *out)
{
	RF_CHECK_EQ(rf_lock_lock(&lk), 0); /* reentrant */
	plain_counter++;
	RF_CHECK_EQ(rf_lock_unlock(&lk), 0);
	return 0;
}

static void *hammer(void *arg)
{
	for (int i = 0; i < ROUNDS; i++) {
		if (i % 2)
			RF_CHECK_EQ(rf_locking(&lk, bump, 0, NULL), 0);
		else {
			while (rf_lock_lock_timeout(&lk, i % 4 ? 0 : 1) == -ETIMEDOUT)
				;
			plain_counter++;
			RF_CHECK_EQ(rf_lock_unlock(&lk), 0);
		}
	}
	return NULL;
}

static void test_exclusion(void **state)
{
	pthread_t t[THREADS];
	plain_counter = 0;
	assert_int_equal(rf_lock_init(&lk), 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, NULL), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(plain_counter, (long)THREADS * ROUNDS);
	assert_int_equal(rf_lock_destroy(&lk), 0);
}

/* Fairness: threads that do nothing but take and release the lock for a while. None may
 * starve: each gets at least FAIR_SHARE_MIN of an equal share of the acquisitions. On a
 * machine this oversubscribed (2 CPUs, several builds, sanitizers) the OS itself can keep
 * a thread off the CPU for much of a 300 ms window, so a run that misses the bound is
 * repeated, up to FAIR_TRIES runs; a lock that starves a waiter misses it every time. */
enum { FAIR_THREADS = 3, FAIR_TRIES = 3 };
#define FAIR_MS 300
#define FAIR_SHARE_MIN 0.10
static _Atomic int fair_stop;
static long fair_count[FAIR_THREADS];

static void *fair_worker(void *arg)
{
	long *n = arg;
	while (!atomic_load_explicit(&fair_stop, memory_order_relaxed)) {
		RF_CHECK_EQ(rf_lock_lock(&lk), 0);
		(*n)++;
		plain_counter++;
		RF_CHECK_EQ(rf_lock_unlock(&lk), 0);
	}
	return NULL;
}

static double fair_run(void)
{
	pthread_t t[FAIR_THREADS];
	plain_counter = 0;
	atomic_store(&fair_stop, 0);
	RF_CHECK_EQ(rf_lock_init(&lk), 0);
	for (int i = 0; i < FAIR_THREADS; i++) {
		fair_count[i] = 0;
		RF_CHECK_EQ(pthread_create(&t[i], NULL, fair_worker, &fair_count[i]), 0);
	}
	sched_sleep_until(time_deadline_after_ms(FAIR_MS));
	atomic_store(&fair_stop, 1);
	long total = 0, min = -1;
	for (int i = 0; i < FAIR_THREADS; i++) {
		pthread_join(t[i], NULL);
		total += fair_count[i];
		if (min < 0 || fair_count[i] < min)
			min = fair_count[i];
	}
	double share = (double)min * FAIR_THREADS / (double)total;
	fprintf(stderr, "fairness: %d threads, %ld acquisitions, smallest share %.2f of equal:",
	        FAIR_THREADS, total, share);
	for (int i = 0; i < FAIR_THREADS; i++)
		fprintf(stderr, " %ld", fair_count[i]);
	fprintf(stderr, "\n");
	RF_CHECK_EQ(plain_counter, total);
	RF_CHECK_EQ(rf_lock_destroy(&lk), 0);
	return share;
}

static void test_fairness(void **state)
{
	double best = 0;
	for (int i = 0; i < FAIR_TRIES && best < FAIR_SHARE_MIN; i++) {
		double share = fair_run();
		best = share > best ? share : best;
	}
	assert_true(best >= FAIR_SHARE_MIN);
}

/* No starvation under constant barging: a thread that holds the lock for BARGE_HOLD_US at a
 * time and takes it again the instant it lets go. Without hand-off a waiter finds the lock
 * free only by luck (thousands of barges in our runs); with it, after about RF_LOCK_STARVE_MS
 * (some 5 barges), plus what an oversubscribed machine adds to the victim's spinning: the
 * bound on barges per wait is counted, not timed, so a slow victim does not fail it. */
enum { VICTIM_ROUNDS = 10, BARGE_HOLD_US = 200, BARGES_MAX = 300 };
#define VICTIM_BOUND_MS 10000
static _Atomic long barges;

static void *barger(void *arg)
{
	while (!atomic_load_explicit(&fair_stop, memory_order_relaxed)) {
		RF_CHECK_EQ(rf_lock_lock(&lk), 0);
		uint64_t until = time_now_ns() + BARGE_HOLD_US * 1000u;
		while (time_now_ns() < until)
			;
		atomic_fetch_add(&barges, 1);
		RF_CHECK_EQ(rf_lock_unlock(&lk), 0);
	}
	return NULL;
}

static void test_no_starvation(void **state)
{
	pthread_t t;
	assert_int_equal(rf_lock_init(&lk), 0);
	atomic_store(&fair_stop, 0);
	atomic_store(&barges, 0);
	assert_int_equal(pthread_create(&t, NULL, barger, NULL), 0);
	while (atomic_load(&barges) == 0)
		sched_yield();
	long worst = 0;
	for (int i = 0; i < VICTIM_ROUNDS; i++) {
		long before = atomic_load(&barges);
		assert_int_equal(rf_lock_lock_timeout(&lk, VICTIM_BOUND_MS), 0);
		long during = atomic_load(&barges) - before;
		worst = during > worst ? during : worst;
		assert_true(rf_lock_held(&lk));
		assert_int_equal(rf_lock_unlock(&lk), 0);
		while (atomic_load(&barges) < before + during + 2) /* let it barge again */
			sched_yield();
	}
	fprintf(stderr, "no starvation: at most %ld barges during one of %d waits\n", worst,
	        VICTIM_ROUNDS);
	assert_true(worst <= BARGES_MAX);
	atomic_store(&fair_stop, 1);
	pthread_join(t, NULL);
	assert_int_equal(rf_lock_destroy(&lk), 0);
}

/* Whether the OS took a thread off the CPU: its involuntary context switches (RUSAGE_THREAD)
 * less its own calls to sched_yield, which count as involuntary too when another thread
 * runs (the lock yields while it spins). It grew unless the OS left the thread alone. */
static _Thread_local long yields;

/* Takes the place of libc's in this binary, the lock's calls included. */
int sched_yield(void)
{
	yields++;
	return (int)syscall(SYS_sched_yield);
}

static long preemptions(void)
{
	struct rusage ru;
	RF_CHECK_EQ(getrusage(RUSAGE_THREAD, &ru), 0);
	return ru.ru_nivcsw - yields;
}

/* Turns between running threads: a thread that waits for the lock while another holds it
 * for TURN_HOLD_US at a time and takes it again at once gets it when its turn is due:
 * once the holder has taken it TURN_ACQS times or it has waited TURN_NS (lock.c: 4096,
 * 100 us) it asks, and the holder's next unlock gives it the lock, so the holder unlocks
 * at most TURN_SERVED times during the wait. Until then a contender leaves the holder its
 * turn (it never races the holder's relock); without turns it would wait until it parked
 * and was woken. That bound is one of time, so it is judged only on the waits during which
 * the OS took neither thread off the CPU (preemptions() not grown from before the wait to
 * just after it; the holder publishes its own after each unlock, and the test waits for two
 * more unlocks before reading it): on a loaded machine the others say nothing of the
 * lock. Waits go on until TURN_WAITS such waits or for TURN_BUDGET_MS (each one found costs
 * some 30 ms with two busy loops and a load of 16 on two CPUs: most waits are disturbed,
 * and a disturbed one waits for the holder's next slice); at least one must be found and at
 * least three quarters of those found must be served in time (a hypervisor can stop a CPU
 * unseen). */
enum { TURN_HOLD_US = 3, TURN_WAITS = 40, TURN_SERVED = 100 / TURN_HOLD_US + 2 };
#define TURN_BUDGET_MS 20000
static _Atomic long holder_preempted;

static void *turn_holder(void *arg)
{
	while (!atomic_load_explicit(&fair_stop, memory_order_relaxed)) {
		RF_CHECK_EQ(rf_lock_lock(&lk), 0);
		uint64_t until = time_now_ns() + TURN_HOLD_US * 1000u;
		while (time_now_ns() < until)
			;
		atomic_fetch_add(&barges, 1);
		RF_CHECK_EQ(rf_lock_unlock(&lk), 0);
		atomic_store(&holder_preempted, preemptions());
	}
	return NULL;
}

/* Wait until the holder has unlocked twice more: it runs, and what it published covers
 * everything before this call. */
static void holder_moves_on(void)
{
	long start = atomic_load(&barges);
	while (atomic_load(&barges) < start + 2)
		sched_yield();
}

static void test_turns(void **state)
{
	pthread_t t;
	assert_int_equal(rf_lock_init(&lk), 0);
	atomic_store(&fair_stop, 0);
	atomic_store(&barges, 0);
	assert_int_equal(pthread_create(&t, NULL, turn_holder, NULL), 0);
	int counted = 0, served = 0, tries;
	uint64_t deadline = time_deadline_after_ms(TURN_BUDGET_MS);
	holder_moves_on();
	for (tries = 0; counted < TURN_WAITS && time_now_ns() < deadline; tries++) {
		long h0 = atomic_load(&holder_preempted), v0 = preemptions();
		long before = atomic_load(&barges);
		assert_int_equal(rf_lock_lock(&lk), 0);
		long unlocks = atomic_load(&barges) - before;
		assert_int_equal(rf_lock_unlock(&lk), 0);
		bool undisturbed = preemptions() <= v0;
		holder_moves_on();
		if (undisturbed && atomic_load(&holder_preempted) <= h0) {
			counted++;
			served += unlocks <= TURN_SERVED;
		}
	}
	fprintf(stderr,
	        "turns: %d of %d undisturbed waits served within %d of the holder's unlocks "
	        "(%d waits)\n",
	        served, counted, TURN_SERVED, tries);
	atomic_store(&fair_stop, 1); /* before asserting: the holder must not outlive the test */
	pthread_join(t, NULL);
	assert_true(counted >= 1 && served * 4 >= counted * 3);
	assert_int_equal(rf_lock_destroy(&lk), 0);
}

/* A turn is owed to a waiting thread even while the OS keeps it off the CPU. The holder
 * and the waiter share one CPU, so that while one runs the other does not, as on a loaded
 * machine: the holder takes the lock again and again, the waiter calls rf_lock_lock
 * between two of its slices. Once a thread waiting in rf_lock_lock has spun a little
 * (the holder cannot run meanwhile) the others may take the lock at most PASSES_MAX times
 * (lock.c: 65536) before it is given to the waiter, plus one per time the waiter parked
 * and was woken (at most LOSSES_MAX + 1). Counted, not timed:
 * the holder's count cannot move while the waiter runs. A wait is left out if the OS
 * preempted the waiter (it may have been between reading the count and entering the
 * lock; preemptions() above).
 * Without the owed turn the holder runs on for the rest of its slice (8 10^5
 * acquisitions in our runs; 0-1 with it: the waiter asked before it yielded). */
enum { OWED_WAITS = 40, OWED_TRIES = 400, OWED_BOUND = 65536 + 8 };
static _Atomic long held_count;

static void *owed_holder(void *arg)
{
	RF_CHECK_EQ(pthread_setaffinity_np(pthread_self(), sizeof(cpu_set_t), arg), 0);
	while (!atomic_load_explicit(&fair_stop, memory_order_relaxed)) {
		RF_CHECK_EQ(rf_lock_lock(&lk), 0);
		atomic_store_explicit(&held_count,
		                      atomic_load_explicit(&held_count, memory_order_relaxed) + 1,
		                      memory_order_relaxed);
		RF_CHECK_EQ(rf_lock_unlock(&lk), 0);
	}
	return NULL;
}

static void test_owed_turn(void **state)
{
	cpu_set_t all, one;
	assert_int_equal(pthread_getaffinity_np(pthread_self(), sizeof(all), &all), 0);
	CPU_ZERO(&one);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &all)) {
			CPU_SET(c, &one);
			break;
		}
	assert_int_equal(pthread_setaffinity_np(pthread_self(), sizeof(one), &one), 0);
	assert_int_equal(rf_lock_init(&lk), 0);
	atomic_store(&fair_stop, 0);
	atomic_store(&held_count, 0);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, owed_holder, &one), 0);
	int counted = 0, waited = 0, tries;
	long worst = 0;
	for (tries = 0; tries < OWED_TRIES && (counted < OWED_WAITS || waited == 0); tries++) {
		long last = atomic_load(&held_count);
		while (atomic_load(&held_count) < last + 2) /* the holder had the CPU */
			sched_yield();
		long v0 = preemptions(), before = atomic_load(&held_count);
		assert_int_equal(rf_lock_lock(&lk), 0);
		long passed = atomic_load(&held_count) - before;
		assert_int_equal(rf_lock_unlock(&lk), 0);
		if (preemptions() > v0)
			continue;
		counted++;
		waited += passed > 0;
		worst = passed > worst ? passed : worst;
	}
	fprintf(stderr,
	        "owed turn: at most %ld acquisitions by the holder during one of %d waits off "
	        "the CPU (%d with any; %d tries)\n",
	        worst, counted, waited, tries);
	atomic_store(&fair_stop, 1);
	pthread_join(t, NULL);
	assert_int_equal(pthread_setaffinity_np(pthread_self(), sizeof(all), &all), 0);
	assert_int_equal(rf_lock_destroy(&lk), 0);
	assert_true(counted > 0 && waited > 0);
	assert_true(worst <= OWED_BOUND);
}

/* Fibers on one worker: one holds the lock across yields, the other must park (not spin
 * its core away) until the first lets go; owner identity is per fiber. */
static sem_t fibers_done;
static _Atomic int order;

static void holder(void *arg)
{
	RF_CHECK_EQ(rf_lock_lock(&lk), 0);
	atomic_store(&order, 1);
	for (int i = 0; i < 50; i++)
		fiber_yield();
	atomic_store(&order, 2);
	RF_CHECK_EQ(rf_lock_unlock(&lk), 0);
	sem_post(&fibers_done);
}

static void waiting_fiber(void *arg)
{
	while (atomic_load(&order) == 0)
		fiber_yield();
	RF_CHECK_EQ(rf_lock_unlock(&lk), RF_ENOTOWNER); /* same thread, other fiber */
	RF_CHECK_EQ(rf_lock_lock(&lk), 0);
	RF_CHECK_EQ(atomic_load(&order), 2);
	RF_CHECK_EQ(rf_lock_unlock(&lk), 0);
	sem_post(&fibers_done);
}

static void test_fibers(void **state)
{
	assert_int_equal(rf_lock_init(&lk), 0);
	sem_init(&fibers_done, 0, 0);
	atomic_store(&order, 0);
	assert_int_equal(fiber_spawn(holder, NULL, 0, NULL), 0);
	assert_int_equal(fiber_spawn(waiting_fiber, NULL, 0, NULL), 0);
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 30;
	for (int i = 0; i < 2; i++)
		assert_int_equal(sem_timedwait(&fibers_done, &deadline), 0);
	assert_int_equal(rf_lock_destroy(&lk), 0);
	sem_destroy(&fibers_done);
}

/* Many fibers on every worker, plus a thread, hammer one lock; some yield while holding
 * it, so others on the same worker must park (a spinning waiter would never let the
 * holder run). The plain counter is exact. */
enum { XFIBERS = 12, XROUNDS = 2000 };

static int bump_and_yield(rf_val arg, rf_val *out)
{
	long before = plain_counter;
	if (arg % 16 == 0)
		fiber_yield();
	plain_counter = before + 1; /* lost updates would show if exclusion failed */
	return 0;
}

static void fiber_hammer(void *arg)
{
	for (int i = 0; i < XROUNDS; i++)
		RF_CHECK_EQ(rf_locking(&lk, bump_and_yield, i, NULL), 0);
	sem_post(&fibers_done);
}

static void *thread_hammer(void *arg)
{
	for (int i = 0; i < XROUNDS; i++)
		RF_CHECK_EQ(rf_locking(&lk, bump_and_yield, 1, NULL), 0);
	return NULL;
}

static void test_fiber_exclusion(void **state)
{
	assert_int_equal(rf_lock_init(&lk), 0);
	sem_init(&fibers_done, 0, 0);
	plain_counter = 0;
	for (int i = 0; i < XFIBERS; i++)
		assert_int_equal(fiber_spawn(fiber_hammer, NULL, SCHED_WORKER_ANY, NULL), 0);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, thread_hammer, NULL), 0);
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 60;
	for (int i = 0; i < XFIBERS; i++)
		assert_int_equal(sem_timedwait(&fibers_done, &deadline), 0);
	pthread_join(t, NULL);
	assert_int_equal(plain_counter, (long)(XFIBERS + 1) * XROUNDS);
	assert_int_equal(rf_lock_destroy(&lk), 0);
	sem_destroy(&fibers_done);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reentrant),       cmocka_unit_test(test_not_owner_and_timeout),
	    cmocka_unit_test(test_locking),         cmocka_unit_test(test_exclusion),
	    cmocka_unit_test(test_fairness),        cmocka_unit_test(test_fibers),
	    cmocka_unit_test(test_fiber_exclusion), cmocka_unit_test(test_no_starvation),
	    cmocka_unit_test(test_turns),           cmocka_unit_test(test_owed_turn),
	    cmocka_unit_test(test_call_forms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
