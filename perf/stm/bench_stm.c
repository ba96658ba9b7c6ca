/* perf/stm/bench_stm.c: the STM family's benchmarks.
 *
 *   stm_bank_2t       two threads transfer random amounts between random accounts (of
 *                     ACCOUNTS); ns per transfer = wall time / transfers of both.
 *                     Peers: one global pthread mutex; GCC transactional memory.
 *                     The mutex row is bimodal: in its fast mode one thread runs
 *                     its transfers back to back while the other sleeps in the futex
 *                     (the lock changes hands tens to thousands of times in a run,
 *                     not 10^5: docs/ref.md), a single-threaded run with hot caches.
 *   stm_bank_1t       the same on one thread: the uncontended cost of a transaction,
 *                     to tell it from the cost of moving cache lines between cores.
 *   stm_audit_vs_writers  contention management: one thread runs transactions that
 *                     alter all ACCOUNTS refs (an audit) while two threads transfer;
 *                     ns per audit, attempts per audit and the writers' transfers
 *                     (stderr). Peer: the audit under the global mutex.
 *   stm_donations_9t  the tutorial: nine threads each record a $10 donation
 *                     (total + 10, count + 1) in one transaction. Peers: the same.
 *                     ringfold-commute: the same with commute instead of alter.
 *   var_binding       (binding [*v* i] @*v*): bind, read, restore, on one thread.
 *                     Peers: save, set, read and restore a thread-local, in the loop
 *                     (thread_local) and in a function around a body called through a
 *                     pointer (thread_local_call), as a program that cannot inline
 *                     rf_var_binding calls it. One thread, so timed by its CPU clock
 *                     (on a loaded machine the wall clock counts the time the thread
 *                     waited for a CPU), the three rows' repetitions alternated. The
 *                     machine has two states, each lasting seconds: alone on its core,
 *                     ringfold and thread_local_call both take 9 cycles (2.44 ns here),
 *                     the chain from one binding's restore of the thread-local word to
 *                     the next one's load of it; with the core's other hardware thread
 *                     busy (on the host), every row slows by the number of stores and
 *                     instructions it has, and ringfold has more (a 48-byte frame, the
 *                     checks, a deref that returns through *out): measured 3.6-4.3 ns
 *                     against 2.8-3.0 (thread_local 1.4 -> 2.1).
 * Each run also prints the STM's retries per commit to stderr (contention measure), and,
 * before and after stm_bank_2t and stm_donations_9t, the time a written cache line takes
 * to reach the other CPU (one way): on a VM the host may run the two vCPUs on cores that
 * share a cache or on cores that do not, and every two-thread row that moves cache lines
 * moves with it (here about 25-30 ns or about 150 ns; the mutex peers park their loser
 * and move few lines).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "ringfold.h"
#include "runtime/stm/tx.h"
#ifdef RF_HAVE_GNU_TM
#include "tm_peer.h"
#endif

#define ACCOUNTS 100

typedef struct run {
	int threads;
	uint64_t ops_per_thread;
	void (*work)(struct run *r, int self, uint64_t n);
	pthread_barrier_t start;
	_Atomic uint64_t t0; /* the first start among the threads (relaxed: read after joins) */
} run;

struct worker_arg {
	run *r;
	int self;
};

static void *worker(void *p)
{
	struct worker_arg *a = p;
	pthread_barrier_wait(&a->r->start);
	/* every thread's start counts: a thread that is not scheduled at once must not move
	 * the clock past the work the others did meanwhile */
	uint64_t now = bench_now_ns(), t0 = atomic_load_explicit(&a->r->t0, memory_order_relaxed);
	while (now < t0 && !atomic_compare_exchange_weak_explicit(
	                       &a->r->t0, &t0, now, memory_order_relaxed, memory_order_relaxed))
		;
	a->r->work(a->r, a->self, a->r->ops_per_thread);
	return NULL;
}

/* Run work on r->threads threads, started together; returns the wall time in ns. */
static uint64_t run_threads(run *r, uint64_t ops)
{
	pthread_t t[16];
	struct worker_arg args[16];
	r->ops_per_thread = ops / (uint64_t)r->threads;
	atomic_store_explicit(&r->t0, UINT64_MAX, memory_order_relaxed);
	pthread_barrier_init(&r->start, NULL, (unsigned)r->threads);
	for (int i = 0; i < r->threads; i++) {
		args[i] = (struct worker_arg){r, i};
		pthread_create(&t[i], NULL, worker, &args[i]);
	}
	for (int i = 0; i < r->threads; i++)
		pthread_join(t[i], NULL);
	uint64_t ns = bench_now_ns() - atomic_load_explicit(&r->t0, memory_order_relaxed);
	pthread_barrier_destroy(&r->start);
	return ns;
}

static inline uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ---- the line transfer between two CPUs ---- */

#define PING_ROUNDS 2000
#define PING_BATCHES 20

/* The ball: odd when the prober has thrown it, even when the echo has thrown it back. */
static _Alignas(64) _Atomic uint64_t ball;

static void *echo(void *arg)
{
	bench_pin_self((int)(intptr_t)arg);
	/* acquire/release: each side's load of the ball pairs with the other's store */
	for (uint64_t n = 1; n <= 2 * PING_ROUNDS * PING_BATCHES; n += 2) {
		while (atomic_load_explicit(&ball, memory_order_acquire) != n)
			;
		atomic_store_explicit(&ball, n + 1, memory_order_release);
	}
	return NULL;
}

/* One-way ns for a cache line written on the first CPU we may run on to be read on the
 * second: the best of PING_BATCHES batches of PING_ROUNDS round trips. Prints it with
 * `when` to stderr; nothing if this process may run on fewer than two CPUs. */
static void report_line_transfer(const char *bench, const char *when)
{
	cpu_set_t mine;
	int cpus[2], found = 0;
	if (sched_getaffinity(0, sizeof(mine), &mine))
		return;
	for (int c = 0; c < CPU_SETSIZE && found < 2; c++)
		if (CPU_ISSET(c, &mine))
			cpus[found++] = c;
	if (found < 2)
		return;
	pthread_t t;
	atomic_store_explicit(&ball, 0, memory_order_relaxed);
	if (pthread_create(&t, NULL, echo, (void *)(intptr_t)cpus[1]))
		return;
	bench_pin_self(cpus[0]);
	uint64_t best = UINT64_MAX, n = 0;
	for (int b = 0; b < PING_BATCHES; b++) {
		uint64_t t0 = bench_now_ns();
		for (int i = 0; i < PING_ROUNDS; i++, n += 2) {
			atomic_store_explicit(&ball, n + 1, memory_order_release);
			while (atomic_load_explicit(&ball, memory_order_acquire) != n + 2)
				;
		}
		uint64_t ns = bench_now_ns() - t0;
		best = ns < best ? ns : best;
	}
	pthread_join(t, NULL);
	pthread_setaffinity_np(pthread_self(), sizeof(mine), &mine);
	fprintf(stderr, "%s: a cache line takes %.0f ns from CPU %d to CPU %d (%s)\n", bench,
	        (double)best / (2.0 * PING_ROUNDS), cpus[0], cpus[1], when);
}

/* ---- stm_bank_2t ---- */

static rf_ref *refs[ACCOUNTS];
static long plain[ACCOUNTS];
static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;

static int transfer(rf_val arg, rf_val *out)
{
	int from = (int)(arg & 0xffff), to = (int)((arg >> 16) & 0xffff);
	rf_val x = arg >> 32;
	int rc = rf_ref_alter(refs[from], rf_add, -x, NULL);
	return rc ? rc : rf_ref_alter(refs[to], rf_add, x, NULL);
}

#define PICK                                                                                       \
	int from = (int)(xorshift(&seed) % ACCOUNTS);                                              \
	int to = (int)((from + 1 + xorshift(&seed) % (ACCOUNTS - 1)) % ACCOUNTS);                  \
	long x = (long)(xorshift(&seed) & 63)

static void bank_ringfold(run *r, int self, uint64_t n)
{
	uint64_t seed = 0x9E3779B97F4A7C15u * (uint64_t)(self + 1);
	for (uint64_t i = 0; i < n; i++) {
		PICK;
		if (rf_dosync(transfer, from | (rf_val)to << 16 | (rf_val)x << 32, NULL))
			abort();
	}
}

static void bank_mutex(run *r, int self, uint64_t n)
{
	uint64_t seed = 0x9E3779B97F4A7C15u * (uint64_t)(self + 1);
	for (uint64_t i = 0; i < n; i++) {
		PICK;
		pthread_mutex_lock(&global_lock);
		plain[from] -= x;
		plain[to] += x;
		pthread_mutex_unlock(&global_lock);
	}
}

#ifdef RF_HAVE_GNU_TM
static void bank_tm(run *r, int self, uint64_t n)
{
	uint64_t seed = 0x9E3779B97F4A7C15u * (uint64_t)(self + 1);
	for (uint64_t i = 0; i < n; i++) {
		PICK;
		tm_transfer(plain, from, to, x);
	}
}
#endif

static uint64_t timed(uint64_t ops, void *arg)
{
	return run_threads(arg, ops);
}

static void check_bank(void)
{
	rf_val v, sum = 0;
	long psum = 0;
	for (int i = 0; i < ACCOUNTS; i++) {
		rf_ref_deref(refs[i], &v);
		sum += v;
		psum += plain[i];
	}
	if (sum != ACCOUNTS * 1000 || psum != 0) {
		fprintf(stderr, "bank total wrong: %lld %ld\n", (long long)sum, psum);
		exit(1);
	}
}

static void report_contention(const char *bench, uint64_t c0, uint64_t r0)
{
	uint64_t c1, r1;
	stm_stats(&c1, &r1);
	fprintf(stderr, "%s: %.4f retries per commit (%llu commits)\n", bench,
	        (double)(r1 - r0) / (double)(c1 - c0 ? c1 - c0 : 1), (unsigned long long)(c1 - c0));
}

static void bench_bank(void)
{
	const uint64_t ops = 2000000;
	uint64_t c0, r0;
	for (int i = 0; i < ACCOUNTS; i++)
		rf_ref_new(1000, &refs[i]);
	stm_stats(&c0, &r0);
	report_line_transfer("stm_bank_2t", "before");
	bench_run("stm_bank_2t", "ringfold", ops, timed,
	          &(run){.threads = 2, .work = bank_ringfold});
	report_contention("stm_bank_2t", c0, r0);
	bench_run("stm_bank_1t", "ringfold", ops, timed,
	          &(run){.threads = 1, .work = bank_ringfold});
	bench_run("stm_bank_2t", "pthread_mutex", ops, timed,
	          &(run){.threads = 2, .work = bank_mutex});
#ifdef RF_HAVE_GNU_TM
	bench_run("stm_bank_2t", "gcc_tm", ops, timed, &(run){.threads = 2, .work = bank_tm});
#endif
	report_line_transfer("stm_bank_2t", "after");
	check_bank();
	for (int i = 0; i < ACCOUNTS; i++)
		rf_ref_free(refs[i]);
}

/* ---- stm_audit_vs_writers ---- */

static _Atomic bool writers_stop;
static _Atomic uint64_t writer_ops;
static _Atomic uint64_t audit_attempts;

static int audit_body(rf_val arg, rf_val *out)
{
	rf_val sum = 0, v;
	atomic_fetch_add_explicit(&audit_attempts, 1, memory_order_relaxed);
	for (int i = 0; i < ACCOUNTS; i++) { /* claims every account, as an audit would */
		int rc = rf_ref_alter(refs[i], rf_add, 0, &v);
		if (rc)
			return rc;
		sum += v;
	}
	*out = sum;
	return 0;
}

static void *bank_writer(void *arg)
{
	bool ringfold = arg != NULL;
	uint64_t seed = (uintptr_t)&seed, n = 0;
	while (!atomic_load_explicit(&writers_stop, memory_order_relaxed)) {
		PICK;
		if (ringfold) {
			if (rf_dosync(transfer, from | (rf_val)to << 16 | (rf_val)x << 32, NULL))
				abort();
		} else {
			pthread_mutex_lock(&global_lock);
			plain[from] -= x;
			plain[to] += x;
			pthread_mutex_unlock(&global_lock);
		}
		n++;
	}
	atomic_fetch_add_explicit(&writer_ops, n, memory_order_relaxed);
	return NULL;
}

/* ops audits, one after another, while two writers transfer; ns per audit. */
static uint64_t audits(uint64_t ops, void *arg)
{
	bool ringfold = arg != NULL;
	pthread_t w[2];
	atomic_store(&writers_stop, false);
	for (int i = 0; i < 2; i++)
		pthread_create(&w[i], NULL, bank_writer, arg);
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < ops; i++) {
		rf_val sum = 0;
		if (ringfold) {
			if (rf_dosync(audit_body, 0, &sum) || sum != ACCOUNTS * 1000)
				abort();
		} else {
			pthread_mutex_lock(&global_lock);
			for (int a = 0; a < ACCOUNTS; a++)
				sum += plain[a];
			pthread_mutex_unlock(&global_lock);
			if (sum != 0)
				abort();
		}
	}
	uint64_t ns = bench_now_ns() - t0;
	atomic_store(&writers_stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(w[i], NULL);
	return ns;
}

/* Contention management, measured: a transaction that claims all ACCOUNTS refs against
 * two threads of short transfers. Without older-wins it could retry forever; the
 * figures are its latency, its attempts, and what the writers still got done. */
static void bench_audit(void)
{
	const uint64_t ops = 2000;
	for (int i = 0; i < ACCOUNTS; i++)
		rf_ref_new(1000, &refs[i]);
	atomic_store(&audit_attempts, 0);
	atomic_store(&writer_ops, 0);
	bench_run("stm_audit_vs_writers", "ringfold", ops, audits, refs);
	fprintf(stderr, "stm_audit_vs_writers: %.2f attempts per audit, %llu transfers alongside\n",
	        (double)atomic_load(&audit_attempts) / (double)ops / (double)bench_reps(),
	        (unsigned long long)atomic_load(&writer_ops));
	atomic_store(&writer_ops, 0);
	bench_run("stm_audit_vs_writers", "pthread_mutex", ops, audits, NULL);
	fprintf(stderr, "stm_audit_vs_writers mutex: %llu transfers alongside\n",
	        (unsigned long long)atomic_load(&writer_ops));
	check_bank();
	for (int i = 0; i < ACCOUNTS; i++)
		rf_ref_free(refs[i]);
}

/* ---- stm_donations_9t ---- */

static rf_ref *total_donations, *count_donations;
static long total_plain, count_plain;

static int donate(rf_val arg, rf_val *out)
{
	int rc = rf_ref_alter(total_donations, rf_add, 10, NULL);
	return rc ? rc : rf_ref_alter(count_donations, rf_inc, 0, NULL);
}

static int donate_commute(rf_val arg, rf_val *out)
{
	int rc = rf_ref_commute(total_donations, rf_add, 10, NULL);
	return rc ? rc : rf_ref_commute(count_donations, rf_inc, 0, NULL);
}

static void donations_ringfold(run *r, int self, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (rf_dosync(donate, 0, NULL))
			abort();
}

static void donations_commute(run *r, int self, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (rf_dosync(donate_commute, 0, NULL))
			abort();
}

static void donations_mutex(run *r, int self, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		pthread_mutex_lock(&global_lock);
		total_plain += 10;
		count_plain += 1;
		pthread_mutex_unlock(&global_lock);
	}
}

#ifdef RF_HAVE_GNU_TM
static void donations_tm(run *r, int self, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		tm_donate(&total_plain, &count_plain);
}
#endif

static void bench_donations(void)
{
	const uint64_t ops = 900000;
	uint64_t c0, r0;
	rf_ref_new(0, &total_donations);
	rf_ref_new(0, &count_donations);
	stm_stats(&c0, &r0);
	report_line_transfer("stm_donations_9t", "before");
	bench_run("stm_donations_9t", "ringfold", ops, timed,
	          &(run){.threads = 9, .work = donations_ringfold});
	report_contention("stm_donations_9t", c0, r0);
	stm_stats(&c0, &r0);
	bench_run("stm_donations_9t", "ringfold_commute", ops, timed,
	          &(run){.threads = 9, .work = donations_commute});
	report_contention("stm_donations_9t commute", c0, r0);
	bench_run("stm_donations_9t", "pthread_mutex", ops, timed,
	          &(run){.threads = 9, .work = donations_mutex});
#ifdef RF_HAVE_GNU_TM
	bench_run("stm_donations_9t", "gcc_tm", ops, timed,
	          &(run){.threads = 9, .work = donations_tm});
#endif
	report_line_transfer("stm_donations_9t", "after");
	rf_val t, c;
	rf_ref_deref(total_donations, &t);
	rf_ref_deref(count_donations, &c);
	if (t != 10 * c || total_plain != 10 * count_plain) {
		fprintf(stderr, "donations inconsistent\n");
		exit(1);
	}
	rf_ref_free(total_donations);
	rf_ref_free(count_donations);
}

/* ---- var_binding ---- */

static rf_var *dyn;
static _Thread_local long tls_var;
static volatile long sink;

/* A call, as the peers' body is (read_tls): the inline rf_var_binding would otherwise let
 * the compiler inline it, and the read with it, into the loop. */
__attribute__((noinline)) static int read_dyn(rf_val arg, rf_val *out)
{
	return rf_var_deref(dyn, out);
}

static uint64_t binding_ringfold(uint64_t ops, void *arg)
{
	uint64_t t0 = bench_thread_ns();
	for (uint64_t i = 0; i < ops; i++) {
		rf_val v;
		if (rf_var_binding(dyn, (rf_val)i, read_dyn, 0, &v))
			abort();
		sink = v;
	}
	return bench_thread_ns() - t0;
}

__attribute__((noinline)) static long read_tls(void)
{
	return tls_var;
}

static uint64_t binding_tls(uint64_t ops, void *arg)
{
	uint64_t t0 = bench_thread_ns();
	for (uint64_t i = 0; i < ops; i++) {
		long saved = tls_var;
		tls_var = (long)i;
		sink = read_tls();
		tls_var = saved;
	}
	return bench_thread_ns() - t0;
}

/* The thread-local binding as a function around a body, called through a pointer the
 * compiler cannot see through: the saved value then makes a round trip through memory
 * from one binding to the next (the restore, then the next save's load), which the loop
 * above does without, its compiler knowing the value the restore left. */
__attribute__((noinline)) static long tls_binding(long val, long (*body)(void))
{
	long saved = tls_var;
	tls_var = val;
	long r = body();
	tls_var = saved;
	return r;
}

static long (*volatile tls_binding_call)(long, long (*)(void)) = tls_binding;

static uint64_t binding_tls_call(uint64_t ops, void *arg)
{
	uint64_t t0 = bench_thread_ns();
	for (uint64_t i = 0; i < ops; i++)
		sink = tls_binding_call((long)i, read_tls);
	return bench_thread_ns() - t0;
}

static void bench_binding(void)
{
	static const bench_impl impls[] = {
	    {"ringfold", binding_ringfold, NULL},
	    {"thread_local", binding_tls, NULL},
	    {"thread_local_call", binding_tls_call, NULL},
	};
	rf_var_new_dynamic(0, &dyn);
	bench_run_alternated("var_binding", impls, sizeof(impls) / sizeof(impls[0]), 2000000);
	rf_var_free(dyn);
}

int main(int argc, char **argv)
{
	bench_init(argc, argv);
	if (bench_wanted("stm_bank_2t"))
		bench_bank();
	if (bench_wanted("stm_audit_vs_writers"))
		bench_audit();
	if (bench_wanted("stm_donations_9t"))
		bench_donations();
	if (bench_wanted("var_binding"))
		bench_binding();
	return 0;
}
