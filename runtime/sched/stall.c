/* runtime/sched/stall.c: reports fibers that run too long without parking.
 *
 * Each worker bumps its `seq` at every switch into and out of a fiber (odd while a fiber
 * runs): one relaxed store, no clock read on the switch path. A monitor thread samples
 * every worker each stall_ms / 2; a worker whose seq is odd and unchanged since a sample
 * at least stall_ms ago has been running the same fiber that long. It is reported once
 * per run on stderr and counted in st_stalls. So a stall is seen between stall_ms and
 * 1.5 x stall_ms after it starts; stall_ms = 0 disables the monitor.
 *
 * Shared state: mon_* and st_stalls of every worker belong to the monitor thread; `run`
 * is guarded by lock (the monitor's stop request, signalled on cond).
 */
#include <stdio.h>
#include <time.h>

#include "runtime/sched/fiber.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond;
static bool run;
static pthread_t thread;
static uint64_t stall_ns;

static void sample(rf_worker *w, uint64_t now)
{
	uint64_t seq = atomic_load_explicit(&w->seq, memory_order_relaxed);
	if (!(seq & 1) || seq != w->mon_seq) {
		w->mon_seq = seq;
		w->mon_since = now;
		w->mon_reported = false;
		return;
	}
	if (w->mon_reported || now - w->mon_since < stall_ns)
		return;
	w->mon_reported = true;
	rf_count(&w->st_stalls, 1);
	fprintf(stderr,
	        "ringfold: stall: fiber %p on worker %d (cpu %d) has run %llu ms without "
	        "parking (stall_ms %llu)\n",
	        (void *)atomic_load_explicit(&w->running, memory_order_relaxed), w->index, w->cpu,
	        (unsigned long long)((now - w->mon_since) / 1000000u),
	        (unsigned long long)(stall_ns / 1000000u));
}

static void *monitor(void *arg)
{
	uint64_t period = stall_ns / 2;
	pthread_mutex_lock(&lock);
	while (run) {
		uint64_t until = rf_now_ns() + period;
		struct timespec ts = {(time_t)(until / 1000000000u), (long)(until % 1000000000u)};
		pthread_cond_timedwait(&cond, &lock, &ts);
		if (!run)
			break;
		uint64_t now = rf_now_ns();
		for (int i = 0; i < rf_nworkers; i++)
			sample(rf_workers[i], now);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int rf_stall_start(uint32_t stall_ms)
{
	if (!stall_ms)
		return 0;
	stall_ns = (uint64_t)stall_ms * 1000000u;
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&cond, &attr);
	pthread_condattr_destroy(&attr);
	for (int i = 0; i < rf_nworkers; i++) {
		rf_workers[i]->mon_seq = 0;
		rf_workers[i]->mon_reported = false;
	}
	run = true;
	int rc = -pthread_create(&thread, NULL, monitor, NULL);
	if (rc) {
		run = false;
		pthread_cond_destroy(&cond);
	}
	return rc;
}

void rf_stall_stop(void)
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
