/* perf/atom/bench_atom.c: atoms, volatiles, locks and read sections beside the peers a C
 * programmer would use instead (raw C11 atomics, a pthread mutex, liburcu flavours, a
 * hand-written epoch scheme). One CSV line per (benchmark, implementation).
 *
 *   atom_swap_1t        one thread: (swap! a inc) / atomic_fetch_add / mutex counter
 *   atom_swap_2t        the same, two threads on one atom (ns per op over both)
 *   atom_false_sharing  two threads each bumping their own atom: rf_atom (one line each)
 *                       vs raw counters 8 bytes apart (one line for both), 64 and 128 apart
 *   lock_2t             two threads taking a lock around a counter: rf_lock vs
 *                       pthread_mutex; rows *_fairness give the smaller thread's share of
 *                       the acquisitions relative to an equal share (1.0 = equal), in
 *                       the worst run the OS did not disturb
 *   volatile_flag       ping-pong through two flags between two threads (ns per round
 *                       trip): rf_volatile vs C11 release/acquire vs C11 seq_cst
 *   reclaim_read        one read section around one load: ringfold's inline
 *                       rf_reclaim_enter/exit (and as calls, and around rf_atom_deref)
 *                       vs the bp, memb, qsbr and mb flavours of liburcu inlined around
 *                       the same load, and a hand-written epoch scheme
 *   reclaim_retire      reset of an atom owning heap values, releases included, vs
 *                       malloc/exchange/free with no protection for readers
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "perf/atom/two.h"
#include "ringfold.h"

#define OPS 4000000u

static int add_generic(rf_val old, rf_val arg, rf_val *out)
{
	*out = old + arg;
	return 0;
}

/* Everything two threads touch, each on its own line. */
static rf_atom atom;
static _Alignas(128) _Atomic int64_t raw;
static _Alignas(128) pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static _Alignas(128) int64_t mutex_counter;
static _Alignas(128) rf_lock lock;

static void swap_ringfold(int id, uint64_t ops, void *arg)
{
	for (uint64_t i = 0; i < ops; i++)
		rf_atom_swap(&atom, rf_inc, 0, NULL);
}

static void swap_generic(int id, uint64_t ops, void *arg)
{
	for (uint64_t i = 0; i < ops; i++)
		rf_atom_swap(&atom, add_generic, 1, NULL);
}

static void swap_raw(int id, uint64_t ops, void *arg)
{
	for (uint64_t i = 0; i < ops; i++)
		atomic_fetch_add_explicit(&raw, 1, memory_order_seq_cst);
}

static void swap_mutex(int id, uint64_t ops, void *arg)
{
	for (uint64_t i = 0; i < ops; i++) {
		pthread_mutex_lock(&mutex);
		mutex_counter++;
		pthread_mutex_unlock(&mutex);
	}
}

typedef void (*loop_fn)(int id, uint64_t ops, void *arg);

static uint64_t one(uint64_t ops, void *arg)
{
	rf_atom_init(&atom, 0);
	uint64_t t0 = bench_now_ns();
	((loop_fn)arg)(0, ops, NULL);
	return bench_now_ns() - t0;
}

static uint64_t two(uint64_t ops, void *arg)
{
	rf_atom_init(&atom, 0);
	return two_threads((loop_fn)arg, ops / 2, NULL);
}

static void bench_swap(void)
{
	struct {
		const char *impl;
		loop_fn fn;
	} impls[] = {{"ringfold", swap_ringfold},
	             {"ringfold_generic_fn", swap_generic},
	             {"c11_atomic_fetch_add", swap_raw},
	             {"pthread_mutex", swap_mutex}};
	for (size_t i = 0; i < sizeof(impls) / sizeof(impls[0]); i++)
		if (bench_wanted("atom_swap_1t"))
			bench_run("atom_swap_1t", impls[i].impl, OPS, one, (void *)impls[i].fn);
	for (size_t i = 0; i < sizeof(impls) / sizeof(impls[0]); i++)
		if (bench_wanted("atom_swap_2t"))
			bench_run("atom_swap_2t", impls[i].impl, OPS, two, (void *)impls[i].fn);
}

/* False sharing: thread id bumps counter id; the layouts differ in the distance. */
static rf_atom pair[2];
static _Alignas(4096) unsigned char slab[512];
static size_t spacing;

static void own_atom(int id, uint64_t ops, void *arg)
{
	for (uint64_t i = 0; i < ops; i++)
		rf_atom_swap(&pair[id], rf_inc, 0, NULL);
}

static void own_raw(int id, uint64_t ops, void *arg)
{
	_Atomic int64_t *c = (_Atomic int64_t *)(void *)(slab + (size_t)id * spacing);
	for (uint64_t i = 0; i < ops; i++)
		atomic_fetch_add_explicit(c, 1, memory_order_seq_cst);
}

static uint64_t false_sharing(uint64_t ops, void *arg)
{
	rf_atom_init(&pair[0], 0);
	rf_atom_init(&pair[1], 0);
	return two_threads((loop_fn)arg, ops / 2, NULL);
}

static void bench_false_sharing(void)
{
	if (!bench_wanted("atom_false_sharing"))
		return;
	bench_run("atom_false_sharing", "ringfold", OPS, false_sharing, (void *)own_atom);
	size_t d[] = {8, 64, 128};
	const char *names[] = {"c11_unpadded_8B", "c11_padded_64B", "c11_padded_128B"};
	for (int i = 0; i < 3; i++) {
		spacing = d[i];
		bench_run("atom_false_sharing", names[i], OPS, false_sharing, (void *)own_raw);
	}
}

/* lock_2t: both threads take the lock until the shared count reaches ops; each counts its
 * own acquisitions for the fairness figure. Under the lock, beside the count (one line),
 * `handovers` counts acquisitions by the other thread than the last one: how often the
 * lock really changed hands, which a figure of fairness needs to mean anything.
 * While the OS keeps one thread off the CPU the other works alone, whatever the lock (no
 * lock knows that a thread stopped between an unlock and its next lock wants it): such a
 * run's shares measure the scheduler. So the fairness row is the worst share of the runs
 * in which the two threads together waited on a run queue for at most RUNQ_MAX of the
 * run's time (a stretch alone that long moves the share by about as much); only if no run
 * was that undisturbed, of all runs. */
#define RUNQ_MAX 0.01
static uint64_t took[2];
static uint64_t lock_target;
static struct {
	_Alignas(128) int64_t counter;
	int last;
	uint64_t handovers;
} lk, mx;

static void lock_ringfold(int id, uint64_t ops, void *arg)
{
	uint64_t mine = 0;
	for (;;) {
		rf_lock_lock(&lock);
		bool done = lk.counter >= (int64_t)lock_target;
		if (!done) {
			lk.counter++, mine++;
			if (lk.last != id)
				lk.last = id, lk.handovers++;
		}
		rf_lock_unlock(&lock);
		if (done)
			break;
	}
	took[id] = mine;
}

static void lock_mutex(int id, uint64_t ops, void *arg)
{
	uint64_t mine = 0;
	for (;;) {
		pthread_mutex_lock(&mutex);
		bool done = mx.counter >= (int64_t)lock_target;
		if (!done) {
			mx.counter++, mine++;
			if (mx.last != id)
				mx.last = id, mx.handovers++;
		}
		pthread_mutex_unlock(&mutex);
		if (done)
			break;
	}
	took[id] = mine;
}

/* Over the runs of one implementation: the worst share of the undisturbed runs and of all,
 * how many were undisturbed, hand-overs; and in the worst run of all, the share of its
 * time each thread waited on a run queue (the one with the smaller share first): when
 * the smaller share goes with the longer wait, the scheduler rather than the lock is
 * the likelier cause. */
static double worst_quiet, worst_all, worst_runq[2];
static int quiet_runs;
static uint64_t handovers;

static uint64_t lock_run(uint64_t ops, void *arg)
{
	rf_lock_init(&lock);
	lk.counter = mx.counter = 0;
	lk.last = mx.last = -1;
	lk.handovers = mx.handovers = 0;
	lock_target = ops;
	uint64_t ns = two_threads((loop_fn)arg, 0, NULL);
	int small = took[1] < took[0];
	double share = 2.0 * (double)took[small] / (double)ops;
	if (share < worst_all) {
		worst_all = share;
		worst_runq[0] = (double)two_threads_runq_of(small) / (double)ns;
		worst_runq[1] = (double)two_threads_runq_of(!small) / (double)ns;
	}
	if ((double)two_threads_runq_ns() <= RUNQ_MAX * (double)ns) {
		quiet_runs++;
		if (share < worst_quiet)
			worst_quiet = share;
	}
	handovers += lk.handovers + mx.handovers;
	return ns;
}

static void bench_lock(void)
{
	if (!bench_wanted("lock_2t"))
		return;
	const char *impl[] = {"ringfold", "pthread_mutex"};
	const char *fair[] = {"ringfold_fairness", "pthread_mutex_fairness"};
	loop_fn fn[] = {lock_ringfold, lock_mutex};
	for (int i = 0; i < 2; i++) {
		worst_quiet = worst_all = 1.0;
		worst_runq[0] = worst_runq[1] = 0;
		quiet_runs = 0;
		handovers = 0;
		bench_run("lock_2t", impl[i], OPS, lock_run, (void *)fn[i]);
		bench_report_value("lock_2t", fair[i], quiet_runs ? worst_quiet : worst_all,
		                   "share", OPS);
		uint64_t h = handovers / (uint64_t)bench_reps();
		fprintf(
		    stderr,
		    "lock_2t %s: %llu hand-overs per run (one per %.0f acquisitions); %d of %d "
		    "runs left alone by the OS (on a run queue <= %.0f%% of the time); smaller "
		    "share of an equal split: worst of those %.3f, of all %.3f (in that run the "
		    "thread with the smaller share waited for a CPU %.0f%% of the time, the "
		    "other %.0f%%)\n",
		    impl[i], (unsigned long long)h, (double)OPS / (double)(h ? h : 1), quiet_runs,
		    bench_reps(), 100 * RUNQ_MAX, quiet_runs ? worst_quiet : NAN, worst_all,
		    100 * worst_runq[0], 100 * worst_runq[1]);
	}
}

/* volatile_flag: thread 0 raises ping to i, thread 1 answers pong = i. */
static rf_volatile vping, vpong;
static _Alignas(128) _Atomic int64_t ping;
static _Alignas(128) _Atomic int64_t pong;

static void flag_volatile(int id, uint64_t ops, void *arg)
{
	rf_val seen;
	for (int64_t i = 1; i <= (int64_t)ops; i++) {
		if (id == 0) {
			rf_volatile_reset(&vping, i);
			do
				rf_volatile_deref(&vpong, &seen);
			while (seen != i);
		} else {
			do
				rf_volatile_deref(&vping, &seen);
			while (seen != i);
			rf_volatile_reset(&vpong, i);
		}
	}
}

static void flag_c11(int id, uint64_t ops, void *arg)
{
	memory_order st = arg ? memory_order_seq_cst : memory_order_release;
	memory_order ld = arg ? memory_order_seq_cst : memory_order_acquire;
	for (int64_t i = 1; i <= (int64_t)ops; i++) {
		if (id == 0) {
			atomic_store_explicit(&ping, i, st);
			while (atomic_load_explicit(&pong, ld) != i)
				;
		} else {
			while (atomic_load_explicit(&ping, ld) != i)
				;
			atomic_store_explicit(&pong, i, st);
		}
	}
}

struct flag_arg {
	loop_fn fn;
	void *arg;
};

static uint64_t flag_run(uint64_t ops, void *arg)
{
	struct flag_arg *f = arg;
	rf_volatile_init(&vping, 0);
	rf_volatile_init(&vpong, 0);
	atomic_store(&ping, 0);
	atomic_store(&pong, 0);
	return two_threads(f->fn, ops, f->arg);
}

static void bench_flag(void)
{
	if (!bench_wanted("volatile_flag"))
		return;
	enum { ROUNDS = 50000 };
	struct flag_arg v = {flag_volatile, NULL}, ra = {flag_c11, NULL}, sc = {flag_c11, &v};
	bench_run("volatile_flag", "ringfold", ROUNDS, flag_run, &v);
	bench_run("volatile_flag", "c11_release_acquire", ROUNDS, flag_run, &ra);
	bench_run("volatile_flag", "c11_seq_cst", ROUNDS, flag_run, &sc);
}

/* reclaim_read: the cost a reader pays to use a pointer value safely. */
static _Atomic long cell;

/* The section the peers pay, around the same load: inline (rf_reclaim_enter/exit), or
 * the calls (arg non-NULL). */
static uint64_t read_ringfold(uint64_t ops, void *arg)
{
	long sum = 0;
	uint64_t t0 = bench_now_ns();
	if (arg) {
		for (uint64_t i = 0; i < ops; i++) {
			rf_reclaim_read_begin();
			sum += atomic_load_explicit(&cell, memory_order_acquire);
			rf_reclaim_read_end();
		}
	} else {
		for (uint64_t i = 0; i < ops; i++) {
			rf_reclaim_enter();
			sum += atomic_load_explicit(&cell, memory_order_acquire);
			rf_reclaim_exit();
		}
	}
	uint64_t ns = bench_now_ns() - t0;
	atomic_store_explicit(&cell, sum, memory_order_relaxed);
	return ns;
}

/* What a user of an owning atom writes: the inline section around rf_atom_deref. */
static uint64_t read_ringfold_atom(uint64_t ops, void *arg)
{
	rf_val v;
	long sum = 0;
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < ops; i++) {
		rf_reclaim_enter();
		rf_atom_deref(&atom, &v);
		sum += v;
		rf_reclaim_exit();
	}
	uint64_t ns = bench_now_ns() - t0;
	atomic_store_explicit(&cell, sum, memory_order_relaxed);
	return ns;
}

/* The textbook epoch scheme's read side: announce the epoch, full fence, read, clear. */
static _Atomic uint64_t global_epoch = 2;
static _Thread_local _Alignas(64) _Atomic uint64_t local_epoch;

static uint64_t read_epoch(uint64_t ops, void *arg)
{
	long sum = 0;
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < ops; i++) {
		atomic_store_explicit(&local_epoch,
		                      atomic_load_explicit(&global_epoch, memory_order_relaxed) | 1,
		                      memory_order_relaxed);
		atomic_thread_fence(memory_order_seq_cst); /* announce before reading */
		sum += atomic_load_explicit(&cell, memory_order_acquire);
		atomic_store_explicit(&local_epoch, 0, memory_order_release);
	}
	uint64_t ns = bench_now_ns() - t0;
	atomic_store_explicit(&cell, sum, memory_order_relaxed);
	return ns;
}

/* reclaim_retire: replacing a heap value of an owning atom, release included (the
 * barrier at the end waits for the last releases), against malloc + immediate free, the
 * floor an unsafe program would pay. */
static void free_value(rf_val v, rf_val ctx)
{
	free(rf_to_ptr(v));
}

static uint64_t retire_ringfold(uint64_t ops, void *arg)
{
	rf_atom owning;
	/* calloc: GCC 12 at -Og warns of a malloc'd block passed on as a const pointer */
	rf_atom_init_owning(&owning, rf_from_ptr(calloc(1, 32)), free_value, 0);
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < ops; i++)
		rf_atom_reset(&owning, rf_from_ptr(malloc(32)));
	rf_reclaim_barrier();
	uint64_t ns = bench_now_ns() - t0;
	rf_atom_destroy(&owning);
	rf_reclaim_barrier();
	return ns;
}

static uint64_t retire_unsafe(uint64_t ops, void *arg)
{
	_Atomic(void *) slot = malloc(32);
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < ops; i++)
		free(atomic_exchange_explicit(&slot, malloc(32), memory_order_seq_cst));
	uint64_t ns = bench_now_ns() - t0;
	free(atomic_load_explicit(&slot, memory_order_relaxed));
	return ns;
}

static void bench_reclaim(void)
{
	if (bench_wanted("reclaim_retire")) {
		bench_run("reclaim_retire", "ringfold", OPS / 4, retire_ringfold, NULL);
		bench_run("reclaim_retire", "malloc_exchange_free_unsafe", OPS / 4, retire_unsafe,
		          NULL);
	}
	if (!bench_wanted("reclaim_read"))
		return;
	rf_atom_init(&atom, 1);
	bench_run("reclaim_read", "ringfold", OPS, read_ringfold, NULL);
	bench_run("reclaim_read", "ringfold_calls", OPS, read_ringfold, &cell);
	bench_run("reclaim_read", "ringfold_atom_deref", OPS, read_ringfold_atom, NULL);
	bench_run("reclaim_read", "urcu_bp_inline", OPS, read_urcu_bp, &cell);
	bench_run("reclaim_read", "urcu_memb", OPS, read_urcu_memb, &cell);
	bench_run("reclaim_read", "urcu_qsbr_online_offline", OPS, read_urcu_qsbr, &cell);
	bench_run("reclaim_read", "urcu_mb", OPS, read_urcu_mb, &cell);
	bench_run("reclaim_read", "epoch_handwritten", OPS, read_epoch, NULL);
}

int main(int argc, char **argv)
{
	bench_init(argc, argv);
	bench_swap();
	bench_false_sharing();
	bench_lock();
	bench_flag();
	bench_reclaim();
	return 0;
}
