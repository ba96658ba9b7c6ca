/* perf/atom/two.c: see two.h. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>

#include "harness.h"
#include "perf/atom/two.h"

struct two {
	void (*body)(int id, uint64_t ops, void *arg);
	uint64_t ops;
	void *arg;
	pthread_barrier_t start;
	_Atomic int running; /* threads past the barrier */
	int id;
	uint64_t runq[2]; /* each thread's time on a run queue during its body */
};

static uint64_t last_runq[2];

/* This thread's total time runnable but waiting for a CPU, in ns (0 if unknown). */
static uint64_t runq_ns(void)
{
	unsigned long long on_cpu = 0, waited = 0;
	FILE *f = fopen("/proc/thread-self/schedstat", "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &on_cpu, &waited) != 2)
		waited = 0;
	fclose(f);
	return waited;
}

uint64_t two_threads_runq_ns(void)
{
	return last_runq[0] + last_runq[1];
}

uint64_t two_threads_runq_of(int id)
{
	return last_runq[id];
}

/* Past the barrier, wait (spinning) until both threads run: the one woken from the
 * barrier would otherwise start late, by as long as the OS takes to give it a CPU
 * (milliseconds on a loaded machine), while the other works alone. A yield now and then,
 * in case both share one CPU under a policy that never preempts (SCHED_FIFO). */
static void both_running(struct two *t)
{
	atomic_fetch_add_explicit(&t->running, 1, memory_order_relaxed);
	for (unsigned k = 1; atomic_load_explicit(&t->running, memory_order_relaxed) < 2; k++)
		if (!(k % 4096))
			sched_yield();
}

static void *run(void *p)
{
	struct two *t = p;
	int id = t->id;
	pthread_barrier_wait(&t->start);
	uint64_t q = runq_ns();
	both_running(t);
	t->body(id, t->ops, t->arg);
	t->runq[id] = runq_ns() - q;
	return NULL;
}

uint64_t two_threads(void (*body)(int id, uint64_t ops, void *arg), uint64_t ops, void *arg)
{
	struct two t = {.body = body, .ops = ops, .arg = arg, .id = 1};
	pthread_t other;
	pthread_barrier_init(&t.start, NULL, 2);
	pthread_create(&other, NULL, run, &t);
	pthread_barrier_wait(&t.start);
	uint64_t q = runq_ns();
	both_running(&t);
	uint64_t t0 = bench_now_ns();
	body(0, ops, arg);
	pthread_join(other, NULL);
	uint64_t ns = bench_now_ns() - t0;
	t.runq[0] = runq_ns() - q;
	last_runq[0] = t.runq[0], last_runq[1] = t.runq[1];
	pthread_barrier_destroy(&t.start);
	return ns;
}
