/* perf/executor/bench_preempt.c: what an operation documented as never waiting costs
 * when the runtime's threads are preempted.
 *
 * A plain thread times each of OPS calls of an operation while one fiber per worker
 * hammers the same object (so a preempted worker may hold its lock), first on a quiet
 * machine, then with HOGS_PER_CPU busy threads per CPU oversubscribing it. One benchmark
 * preempt_<op> per operation, whose rows' implementation column is
 * <ringfold|pthread>_<quiet|hogs>_<figure>:
 *   p999 / max   the 99.9th percentile / the worst call, ns (wall time: includes the
 *     timing thread's own preemption, which no code avoids)
 *   cpu_max      the most CPU time one call used, ns: what spinning on a preempted
 *     holder would show (a futex sleep uses none)
 *     atom_swap     rf_atom_swap(inc) on one atom
 *     chan_offer    rf_chan_offer + rf_chan_poll on one channel (buffer 64)
 *     promise       rf_promise_deliver of a new promise (its waiter list's lock)
 *   | pthread: the same shapes under one pthread mutex (a counter, a 64-slot ring, a
 *     flag), hammered by one thread per worker.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "ringfold/atom.h"
#include "ringfold/chan.h"
#include "ringfold/future.h"
#include "ringfold/promise.h"
#include "ringfold/runtime.h"

#define OPS 20000
#define HOGS_PER_CPU 4

static _Atomic bool stop;
static rf_atom *atom;
static rf_chan *chan;
static pthread_mutex_t pm = PTHREAD_MUTEX_INITIALIZER;
static long counter, ring_n;
static uint64_t lat[OPS], cpu[OPS];

static int inc(rf_val old, rf_val arg, rf_val *out)
{
	*out = old + arg;
	return 0;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void *hog(void *arg)
{
	volatile uint64_t x = 0;
	while (!atomic_load_explicit(&stop, memory_order_relaxed))
		x++;
	return NULL;
}

static int rf_hammer(rf_val arg, rf_val *out)
{
	rf_val v;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		rf_atom_swap(atom, inc, 1, NULL);
		if (rf_chan_offer(chan, 1) == 0)
			rf_chan_poll(chan, &v);
	}
	*out = 0;
	return 0;
}

static void *pthread_hammer(void *arg)
{
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		pthread_mutex_lock(&pm);
		counter++;
		if (ring_n < 64)
			ring_n++;
		if (ring_n > 0)
			ring_n--;
		pthread_mutex_unlock(&pm);
	}
	return NULL;
}

enum op { ATOM, CHAN, PROMISE };

static uint64_t one(bool rf, enum op op, uint64_t *cpu_ns)
{
	rf_val v;
	rf_promise *p = NULL;
	if (rf && op == PROMISE && rf_promise_new(&p))
		abort();
	uint64_t c0 = bench_thread_ns(), t0 = bench_now_ns();
	if (rf) {
		if (op == ATOM)
			rf_atom_swap(atom, inc, 1, NULL);
		else if (op == CHAN && rf_chan_offer(chan, 2) == 0)
			rf_chan_poll(chan, &v);
		else if (op == PROMISE)
			rf_promise_deliver(p, 1);
	} else {
		pthread_mutex_lock(&pm);
		if (op == ATOM)
			counter++;
		else if (op == CHAN && ring_n < 64)
			ring_n++, ring_n--;
		pthread_mutex_unlock(&pm);
	}
	uint64_t dt = bench_now_ns() - t0;
	*cpu_ns = bench_thread_ns() - c0;
	if (p)
		rf_promise_free(p);
	return dt;
}

static void measure(bool rf, bool hogs, enum op op, const char *opname)
{
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	int nh = hogs ? HOGS_PER_CPU * ncpu : 0;
	pthread_t *ht = calloc((size_t)nh + 64, sizeof(pthread_t));
	rf_future *fs[64];
	int nw = 0;
	atomic_store(&stop, false);
	rf_stats st;
	rf_stats_get(&st);
	nw = st.workers < 64 ? st.workers : 64;
	for (int i = 0; i < nw; i++) {
		if (rf && rf_future_call(rf_hammer, 0, &fs[i]))
			abort();
		if (!rf && pthread_create(&ht[nh + i], NULL, pthread_hammer, NULL))
			abort();
	}
	for (int i = 0; i < nh; i++)
		if (pthread_create(&ht[i], NULL, hog, NULL))
			abort();
	for (int i = 0; i < OPS; i++)
		lat[i] = one(rf, op, &cpu[i]);
	atomic_store(&stop, true);
	for (int i = 0; i < nh; i++)
		pthread_join(ht[i], NULL);
	for (int i = 0; i < nw; i++) {
		rf_val v;
		if (rf) {
			rf_future_deref(fs[i], &v);
			rf_future_free(fs[i]);
		} else {
			pthread_join(ht[nh + i], NULL);
		}
	}
	free(ht);
	qsort(lat, OPS, sizeof(lat[0]), cmp);
	qsort(cpu, OPS, sizeof(cpu[0]), cmp);
	/* one benchmark per operation; the implementation column says which tail figure */
	char bench[64], impl[64];
	const char *who = rf ? "ringfold" : "pthread", *load = hogs ? "hogs" : "quiet";
	snprintf(bench, sizeof(bench), "preempt_%s", opname);
	snprintf(impl, sizeof(impl), "%s_%s_p999", who, load);
	bench_report(bench, impl, (double)lat[OPS - OPS / 1000], OPS);
	snprintf(impl, sizeof(impl), "%s_%s_max", who, load);
	bench_report(bench, impl, (double)lat[OPS - 1], OPS);
	snprintf(impl, sizeof(impl), "%s_%s_cpu_max", who, load);
	bench_report(bench, impl, (double)cpu[OPS - 1], OPS);
}

int main(int argc, char **argv)
{
	bench_init(argc, argv);
	if (rf_atom_new(0, &atom) || rf_chan_new_buf(RF_BUF_FIXED, 64, &chan))
		return 1;
	static const char *names[] = {"atom_swap", "chan_offer", "promise"};
	for (int op = 0; op < 3; op++) {
		char want[64];
		snprintf(want, sizeof(want), "preempt_%s", names[op]);
		if (!bench_wanted(want))
			continue;
		for (int hogs = 0; hogs < 2; hogs++) {
			measure(true, hogs, (enum op)op, names[op]);
			measure(false, hogs, (enum op)op, names[op]);
		}
	}
	rf_chan_release(chan);
	rf_atom_free(atom);
	rf_shutdown();
	return 0;
}
