/* runtime/sched/stall.c: reports fibers that run too long without parking.
 *
 * Each worker bumps its `seq` at every switch into and out of a fiber (odd while a fiber
 * runs): one relaxed store, no clock read on the switch path. A monitor thread samples
 * every worker each stall_ms / 2; a worker whose seq stayed odd and unchanged since an
 * earlier sample has been running the same fiber all along. The run counts as a stall
 * once the worker thread has used stall_ms of CPU time since that sample (its thread CPU
 * clock, read by the monitor): time the OS spent running other processes is not the
 * fiber's fault, and on a loaded machine wall time would report fibers that merely
 * waited for a CPU. Reported once per run on stderr, counted in st_stalls; seen within
 * about stall_ms / 2 of the fiber's CPU time reaching stall_ms. stall_ms = 0 disables
 * the monitor.
 *
 * Shared state: mon_* and st_stalls of every worker belong to the monitor thread; `run`
 * is guarded by lock (the monitor's stop request, signalled on cond).
 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "runtime/sched/fiber.h"
#include "runtime/base/probe.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond;
static bool run;
static pthread_t thread;
static uint64_t stall_ns;

static uint64_t thread_cpu_ns(sched_worker *w)
{
	clockid_t clk;
	struct timespec ts;
	if (pthread_getcpuclockid(w->thread, &clk) || clock_gettime(clk, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sample(sched_worker *w, uint64_t now)
{
	uint64_t seq = atomic_load_explicit(&w->seq, memory_order_relaxed);
	if (!(seq & 1) || seq != w->mon_seq) {
		w->mon_seq = seq;
		w->mon_since = now;
		w->mon_cpu = (seq & 1) ? thread_cpu_ns(w) : 0;
		w->mon_reported = false;
		return;
	}
	if (w->mon_reported || now - w->mon_since < stall_ns)
		return;
	uint64_t cpu = thread_cpu_ns(w) - w->mon_cpu;
	if (cpu < stall_ns)
		return;
	w->mon_reported = true;
	sched_count(&w->st_stalls, 1);
	PROBE(stall, w->index, atomic_load_explicit(&w->running, memory_order_relaxed), cpu);
	fprintf(stderr,
	        "ringfold: stall: fiber %p on worker %d (cpu %d) has run %llu ms of CPU time "
	        "(%llu ms wall) without parking (stall_ms %llu)\n",
	        (void *)atomic_load_explicit(&w->running, memory_order_relaxed), w->index, w->cpu,
	        (unsigned long long)(cpu / 1000000u),
	        (unsigned long long)((now - w->mon_since) / 1000000u),
	        (unsigned long long)(stall_ns / 1000000u));
}

static void *monitor(void *arg)
{
	pthread_setname_np(pthread_self(), "rf-stall");
	uint64_t period = stall_ns / 2;
	pthread_mutex_lock(&lock);
	while (run) {
		uint64_t until = time_now_ns() + period;
		struct timespec ts = {(time_t)(until / 1000000000u), (long)(until % 1000000000u)};
		pthread_cond_timedwait(&cond, &lock, &ts);
		if (!run)
			break;
		uint64_t now = time_now_ns();
		for (int i = 0; i < sched_nworkers; i++)
			sample(sched_worker_tab[i], now);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int stall_start(uint32_t stall_ms)
{
	if (!stall_ms)
		return 0;
	stall_ns = (uint64_t)stall_ms * 1000000u;
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&cond, &attr);
	pthread_condattr_destroy(&attr);
	for (int i = 0; i < sched_nworkers; i++) {
		sched_worker_tab[i]->mon_seq = 0;
		sched_worker_tab[i]->mon_reported = false;
	}
	run = true;
	int rc = -pthread_create(&thread, NULL, monitor, NULL);
	if (rc) {
		run = false;
		pthread_cond_destroy(&cond);
	}
	return rc;
}

void stall_stop(void)
{
	pthread_mutex_lock(&lock);
	bool was = run;
	run = false;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	if (!was)
		return;
	pthread_join(thread, NULL);
	pthread_cond_destroy(&cond);
}
