/* STM under concurrency: invariants that must hold at every observation.
 *  - bank: transfers among 10 accounts from 2 to 16 threads, and from 16 fibers; an
 *    observer transaction sums all accounts continuously and the total is exact every
 *    time;
 *  - readers of two refs that every commit changes together see them equal, and never
 *    older than a commit that completed before they began, while commits install (both
 *    commit paths);
 *  - write skew happens without ensure and is prevented with it;
 *  - a commute counter is exact under contention;
 *  - a long read-only transaction commits while a writer commits under it;
 *  - an older transaction kills (barges) a younger one that holds what it needs.
 * Assertions are made on the main thread; workers count failures.
 */
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "ringfold.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/wait.h"
#include "runtime/stm/tx.h"

#define ACCOUNTS 10
#define START 1000

static rf_ref *acct[ACCOUNTS];
static _Atomic int failures;
static _Atomic int writers_left;
static _Atomic long observations;

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* (dosync (alter from - x) (alter to + x)), arg packs from, to, x */
static int transfer(rf_val arg, rf_val *out)
{
	int from = (int)(arg & 0xff), to = (int)((arg >> 8) & 0xff);
	rf_val x = arg >> 16;
	int rc;
	if ((rc = rf_ref_alter(acct[from], rf_add, -x, NULL)) ||
	    (rc = rf_ref_alter(acct[to], rf_add, x, NULL)))
		return rc;
	return 0;
}

static int sum_all(rf_val arg, rf_val *out)
{
	rf_val total = 0, v;
	for (int i = 0; i < ACCOUNTS; i++) {
		int rc = rf_ref_deref(acct[i], &v);
		if (rc)
			return rc;
		total += v;
	}
	*out = total;
	return 0;
}

static void do_transfers(uint64_t seed, int n)
{
	for (int i = 0; i < n; i++) {
		int from = (int)(xorshift(&seed) % ACCOUNTS);
		int to = (int)((from + 1 + xorshift(&seed) % (ACCOUNTS - 1)) % ACCOUNTS);
		rf_val x = (rf_val)(xorshift(&seed) % 100);
		if (rf_dosync(transfer, from | to << 8 | x << 16, NULL))
			atomic_fetch_add(&failures, 1);
	}
}

static pthread_barrier_t start_gate; /* writers start after the first observation */

static void *observer(void *arg)
{
	for (bool first = true; first || atomic_load(&writers_left) > 0; first = false) {
		rf_val total;
		if (rf_dosync(sum_all, 0, &total) || total != ACCOUNTS * START)
			atomic_fetch_add(&failures, 1);
		atomic_fetch_add(&observations, 1);
		if (first)
			pthread_barrier_wait(&start_gate);
	}
	return NULL;
}

static int per_writer;

static void *writer(void *arg)
{
	pthread_barrier_wait(&start_gate);
	do_transfers((uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15u + 1, per_writer);
	atomic_fetch_sub(&writers_left, 1);
	return NULL;
}

static void bank_setup(int writers, int transfers)
{
	for (int i = 0; i < ACCOUNTS; i++)
		assert_int_equal(rf_ref_new(START, &acct[i]), 0);
	atomic_store(&failures, 0);
	atomic_store(&observations, 0);
	atomic_store(&writers_left, writers);
	per_writer = transfers;
}

static void bank_check(void)
{
	rf_val total;
	assert_int_equal(atomic_load(&failures), 0);
	assert_true(atomic_load(&observations) > 0);
	assert_int_equal(sum_all(0, &total), 0); /* outside: newest values, all committed */
	assert_int_equal(total, ACCOUNTS * START);
	for (int i = 0; i < ACCOUNTS; i++)
		rf_ref_free(acct[i]);
}

static void bank_threads(int n)
{
	bank_setup(n, 24000 / n);
	pthread_t obs, t[16];
	pthread_barrier_init(&start_gate, NULL, (unsigned)n + 1);
	assert_int_equal(pthread_create(&obs, NULL, observer, NULL), 0);
	for (int i = 0; i < n; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, (void *)(uintptr_t)(i + 1)),
		                 0);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	pthread_join(obs, NULL);
	pthread_barrier_destroy(&start_gate);
	bank_check();
}

static void bank_2_threads(void **state)
{
	bank_threads(2);
}
static void bank_4_threads(void **state)
{
	bank_threads(4);
}
static void bank_16_threads(void **state)
{
	bank_threads(16);
}

/* Fibers: the same, with writers and the observer on the executor. */
static waiter fibers_done;
static _Atomic int fibers_left;

static void fiber_end(void)
{
	if (atomic_fetch_sub(&fibers_left, 1) == 1 && waiter_claim(&fibers_done))
		waiter_complete(&fibers_done);
}

static void writer_fiber(void *arg)
{
	do_transfers((uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15u + 1, per_writer);
	atomic_fetch_sub(&writers_left, 1);
	fiber_end();
}

static void observer_fiber(void *arg)
{
	for (bool first = true; first || atomic_load(&writers_left) > 0; first = false) {
		rf_val total;
		if (rf_dosync(sum_all, 0, &total) || total != ACCOUNTS * START)
			atomic_fetch_add(&failures, 1);
		atomic_fetch_add(&observations, 1);
		fiber_yield();
	}
	fiber_end();
}

static void bank_fibers(void **state)
{
	const int n = 16;
	bank_setup(n, 1500);
	waiter_init(&fibers_done);
	atomic_store(&fibers_left, n + 1);
	assert_int_equal(fiber_spawn(observer_fiber, NULL, SCHED_WORKER_ANY, NULL), 0);
	for (int i = 0; i < n; i++)
		assert_int_equal(
		    fiber_spawn(writer_fiber, (void *)(uintptr_t)(i + 1), SCHED_WORKER_ANY, NULL),
		    0);
	assert_int_equal(waiter_wait(&fibers_done, time_deadline_after_ms(60000)), 0);
	bank_check();
}

/* ---- snapshots during installs: readers of a pair of refs that every commit
 * increments together (alter in either order, or commute: both commit paths) always
 * see them equal, and never older than a commit that completed before they began ---- */

#define PAIR_WRITES 6000

static rf_ref *pair[2];
static _Atomic long pair_done;      /* commits whose rf_dosync returned */
static _Atomic int readers_started; /* readers past their first observation */

static int pair_alter(rf_val first, rf_val *out)
{
	int rc = rf_ref_alter(pair[first], rf_inc, 0, NULL);
	return rc ? rc : rf_ref_alter(pair[1 - first], rf_inc, 0, NULL);
}

static int pair_commute(rf_val arg, rf_val *out)
{
	int rc = rf_ref_commute(pair[0], rf_inc, 0, NULL);
	return rc ? rc : rf_ref_commute(pair[1], rf_inc, 0, NULL);
}

static void *pair_writer(void *arg)
{
	int kind = (int)(uintptr_t)arg;
	/* on a loaded machine the writers could finish before a reader ever ran */
	while (atomic_load(&readers_started) < 2)
		sched_yield();
	for (int i = 0; i < PAIR_WRITES; i++) {
		int rc = kind == 2 ? rf_dosync(pair_commute, 0, NULL)
		                   : rf_dosync(pair_alter, (rf_val)kind, NULL);
		if (rc)
			atomic_fetch_add(&failures, 1);
		atomic_fetch_add(&pair_done, 1);
	}
	atomic_fetch_sub(&writers_left, 1);
	return NULL;
}

/* Reads pair[first] then the other; *out = the first value, or -1 if they differ. */
static int pair_read(rf_val first, rf_val *out)
{
	rf_val a, b;
	int rc = rf_ref_deref(pair[first], &a);
	if (rc || (rc = rf_ref_deref(pair[1 - first], &b)))
		return rc;
	*out = a == b ? a : -1;
	return 0;
}

static void *pair_reader(void *arg)
{
	rf_val first = (rf_val)(uintptr_t)arg;
	for (bool started = false; atomic_load(&writers_left) > 0; started = true) {
		long done = atomic_load(&pair_done);
		rf_val seen;
		if (rf_dosync(pair_read, first, &seen) || seen < done)
			atomic_fetch_add(&failures, 1); /* torn (-1), stale, or lost */
		atomic_fetch_add(&observations, 1);
		if (!started)
			atomic_fetch_add(&readers_started, 1);
	}
	return NULL;
}

static void snapshots_during_installs(void **state)
{
	pthread_t w[3], r[2];
	atomic_store(&failures, 0);
	atomic_store(&observations, 0);
	atomic_store(&pair_done, 0);
	atomic_store(&readers_started, 0);
	atomic_store(&writers_left, 3);
	for (int i = 0; i < 2; i++)
		assert_int_equal(rf_ref_new(0, &pair[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&r[i], NULL, pair_reader, (void *)(uintptr_t)i), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&w[i], NULL, pair_writer, (void *)(uintptr_t)i), 0);
	for (int i = 0; i < 3; i++)
		pthread_join(w[i], NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(r[i], NULL);
	assert_int_equal(atomic_load(&failures), 0);
	assert_true(atomic_load(&observations) > 0);
	for (int i = 0; i < 2; i++) {
		rf_val v;
		assert_int_equal(rf_ref_deref(pair[i], &v), 0);
		assert_int_equal(v, 3 * PAIR_WRITES); /* no lost commit */
		rf_ref_free(pair[i]);
	}
}

/* ---- write skew: two doctors on call, each may go off call if the other is on ---- */

static rf_ref *doc[2];
static pthread_barrier_t both_read;
static _Thread_local int skew_attempts;

static int go_off_call(rf_val arg, rf_val *out)
{
	int me = (int)(arg & 1), other = 1 - me;
	bool use_ensure = arg & 2;
	rf_val on;
	int rc = use_ensure ? rf_ref_ensure(doc[other], &on) : rf_ref_deref(doc[other], &on);
	if (rc)
		return rc;
	if (++skew_attempts == 1)
		pthread_barrier_wait(&both_read); /* both have read before either writes */
	return on ? rf_ref_set(doc[me], 0) : 0;
}

static void *doctor(void *arg)
{
	skew_attempts = 0;
	if (rf_dosync(go_off_call, (rf_val)(uintptr_t)arg, NULL))
		atomic_fetch_add(&failures, 1);
	return NULL;
}

static int on_call(void)
{
	rf_val a, b;
	assert_int_equal(rf_ref_deref(doc[0], &a), 0);
	assert_int_equal(rf_ref_deref(doc[1], &b), 0);
	return (int)(a + b);
}

static void skew_round(bool use_ensure, int *left_on_call)
{
	pthread_t t[2];
	atomic_store(&failures, 0);
	assert_int_equal(rf_ref_new(1, &doc[0]), 0);
	assert_int_equal(rf_ref_new(1, &doc[1]), 0);
	pthread_barrier_init(&both_read, NULL, 2);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, doctor, (void *)(uintptr_t)(i | (use_ensure ? 2 : 0)));
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&both_read);
	assert_int_equal(atomic_load(&failures), 0);
	*left_on_call = on_call();
	rf_ref_free(doc[0]);
	rf_ref_free(doc[1]);
}

static void write_skew_without_ensure(void **state)
{
	for (int round = 0; round < 5; round++) {
		int n;
		skew_round(false, &n);
		assert_int_equal(n, 0); /* snapshot isolation allows it: both went off call */
	}
}

static void write_skew_prevented_by_ensure(void **state)
{
	for (int round = 0; round < 5; round++) {
		int n;
		skew_round(true, &n);
		assert_int_equal(n, 1); /* exactly one stays on call */
	}
}

/* ---- commute ---- */

static rf_ref *counter;

static int bump(rf_val arg, rf_val *out)
{
	return rf_ref_commute(counter, rf_inc, 0, out);
}

static void *bumper(void *arg)
{
	for (int i = 0; i < 5000; i++)
		if (rf_dosync(bump, 0, NULL))
			atomic_fetch_add(&failures, 1);
	return NULL;
}

static void commute_counter_exact(void **state)
{
	pthread_t t[4];
	atomic_store(&failures, 0);
	assert_int_equal(rf_ref_new(0, &counter), 0);
	uint64_t c0, r0, c1, r1;
	stm_stats(&c0, &r0);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, bumper, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	stm_stats(&c1, &r1);
	assert_int_equal(atomic_load(&failures), 0);
	rf_val v;
	assert_int_equal(rf_ref_deref(counter, &v), 0);
	assert_int_equal(v, 20000);
	assert_true(c1 - c0 >= 20000);
	print_message("commute: %llu retries for 20000 commits\n", (unsigned long long)(r1 - r0));
	rf_ref_free(counter);
}

/* ---- a long reader and a writer committing under it ---- */

static sem_t go_write, written;
static rf_ref *ra, *rb;
static int reader_attempts;

static int set_both(rf_val arg, rf_val *out)
{
	int rc = rf_ref_set(ra, arg);
	return rc ? rc : rf_ref_set(rb, arg);
}

static void *paced_writer(void *arg)
{
	for (rf_val v = 1;; v++) {
		sem_wait(&go_write);
		if (!atomic_load(&writers_left))
			return NULL;
		for (int i = 0; i < 3; i++)
			if (rf_dosync(set_both, v * 10 + i, NULL))
				atomic_fetch_add(&failures, 1);
		sem_post(&written);
	}
}

static int long_read(rf_val arg, rf_val *out)
{
	rf_val a, b;
	int rc = rf_ref_deref(ra, &a);
	if (rc)
		return rc;
	reader_attempts++;
	sem_post(&go_write);
	sem_wait(&written); /* three commits happened after our snapshot */
	if ((rc = rf_ref_deref(rb, &b)))
		return rc;
	*out = a == b; /* one snapshot */
	return 0;
}

static void long_reader_commits(void **state)
{
	pthread_t t;
	atomic_store(&failures, 0);
	atomic_store(&writers_left, 1);
	sem_init(&go_write, 0, 0);
	sem_init(&written, 0, 0);
	assert_int_equal(rf_ref_new(0, &ra), 0);
	assert_int_equal(rf_ref_new(0, &rb), 0);
	pthread_create(&t, NULL, paced_writer, NULL);
	rf_val consistent;
	assert_int_equal(rf_dosync(long_read, 0, &consistent), 0);
	assert_int_equal(consistent, 1);
	assert_true(reader_attempts >= 2);          /* faulted first... */
	assert_true(rf_ref_history_count(rb) >= 3); /* ...and the history grew for it */
	atomic_store(&writers_left, 0);
	sem_post(&go_write);
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&failures), 0);
	rf_ref_free(ra);
	rf_ref_free(rb);
	sem_destroy(&go_write);
	sem_destroy(&written);
}

/* ---- the older transaction barges the younger ---- */

static sem_t old_started, young_claimed;
static _Atomic int old_committed;
static _Atomic int young_attempts_seen;

static int young_body(rf_val arg, rf_val *out)
{
	int attempt = atomic_fetch_add(&young_attempts_seen, 1) + 1;
	int rc = rf_ref_alter(ra, rf_inc, 0, NULL);
	if (rc)
		return rc;
	if (attempt > 1)
		return 0;
	sem_post(&young_claimed);
	/* hold the claim until killed (then deref says retry) or 10 s pass */
	uint64_t end = time_now_ns() + 10000000000ull;
	while (time_now_ns() < end) {
		rf_val v;
		if ((rc = rf_ref_deref(rb, &v)))
			return rc;
	}
	atomic_fetch_add(&failures, 1); /* never killed */
	return 0;
}

static _Atomic uint64_t old_start_tick;

static uint64_t coarse_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *young(void *arg)
{
	sem_wait(&old_started);
	/* Ages have the coarse clock's resolution: start one tick later than the old one. */
	while (coarse_now() <= atomic_load(&old_start_tick))
		sched_yield();
	/* a commit after the old one's snapshot: this transaction is strictly younger */
	if (rf_dosync(set_both, 5, NULL))
		atomic_fetch_add(&failures, 1);
	if (rf_dosync(young_body, 0, NULL))
		atomic_fetch_add(&failures, 1);
	return NULL;
}

static int old_body(rf_val arg, rf_val *out)
{
	static int attempt;
	if (++attempt == 1) {
		atomic_store(&old_start_tick, coarse_now());
		sem_post(&old_started);
		sem_wait(&young_claimed);
		sched_sleep_until(time_now_ns() + 30000000ull); /* past the 10 ms grace period */
	}
	return rf_ref_alter(ra, rf_add, 100, NULL);
}

static void older_transaction_barges(void **state)
{
	pthread_t t;
	atomic_store(&failures, 0);
	sem_init(&old_started, 0, 0);
	sem_init(&young_claimed, 0, 0);
	assert_int_equal(rf_ref_new(0, &ra), 0);
	assert_int_equal(rf_ref_new(0, &rb), 0);
	pthread_create(&t, NULL, young, NULL);
	uint64_t t0 = time_now_ns();
	assert_int_equal(rf_dosync(old_body, 0, NULL), 0);
	atomic_store(&old_committed, 1);
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&failures), 0);
	assert_true(time_now_ns() - t0 < 5000000000ull); /* did not wait out the young one */
	assert_true(atomic_load(&young_attempts_seen) >= 2);
	rf_val v;
	assert_int_equal(rf_ref_deref(ra, &v), 0);
	assert_int_equal(v, 106);
	rf_ref_free(ra);
	rf_ref_free(rb);
	sem_destroy(&old_started);
	sem_destroy(&young_claimed);
}

/* ---- no starvation: a long transaction over every account commits while short
 * transfers keep running on the same accounts (the older transaction wins) ---- */

static _Atomic int long_attempts;

static int audit_all(rf_val arg, rf_val *out)
{
	atomic_fetch_add(&long_attempts, 1);
	for (int i = 0; i < ACCOUNTS; i++) {
		int rc = rf_ref_alter(acct[i], rf_add, 0, NULL);
		if (rc)
			return rc;
	}
	uint64_t end = time_now_ns() + 2000000; /* 2 ms of work holding every account */
	while (time_now_ns() < end)
		;
	return sum_all(0, out);
}

static void *short_writer(void *arg)
{
	uint64_t seed = (uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15u + 7;
	while (atomic_load(&writers_left) > 0)
		do_transfers(seed++, 10);
	return NULL;
}

static void long_transaction_not_starved(void **state)
{
	bank_setup(1, 0);
	atomic_store(&long_attempts, 0);
	pthread_t t[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, short_writer, (void *)(uintptr_t)(i + 1));
	rf_val total;
	uint64_t t0 = time_now_ns();
	int rc = rf_dosync(audit_all, 0, &total);
	uint64_t ms = (time_now_ns() - t0) / 1000000;
	atomic_store(&writers_left, 0);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	print_message("long transaction: %d attempts, %llu ms\n", atomic_load(&long_attempts),
	              (unsigned long long)ms);
	assert_int_equal(rc, 0);
	assert_int_equal(total, ACCOUNTS * START);
	assert_int_equal(atomic_load(&failures), 0);
	atomic_store(&observations, 1);
	bank_check();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(bank_2_threads),
	    cmocka_unit_test(bank_4_threads),
	    cmocka_unit_test(bank_16_threads),
	    cmocka_unit_test(bank_fibers),
	    cmocka_unit_test(snapshots_during_installs),
	    cmocka_unit_test(write_skew_without_ensure),
	    cmocka_unit_test(write_skew_prevented_by_ensure),
	    cmocka_unit_test(commute_counter_exact),
	    cmocka_unit_test(long_reader_commits),
	    cmocka_unit_test(older_transaction_barges),
	    cmocka_unit_test(long_transaction_not_starved),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
