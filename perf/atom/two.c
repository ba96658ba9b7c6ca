/* perf/atom/two.c: see two.h. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "harness.h"
#include "perf/atom/two.h"

struct two {
	void (*body)(int id, uint64_t ops, void *arg);
	uint64_t ops;
	void *arg;
	pthread_barrier_t start;
	_Atomic int running; /* threads past the barrier */
	int id;
};

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
	both_running(t);
	t->body(id, t->ops, t->arg);
	return NULL;
}

uint64_t two_threads(void (*body)(int id, uint64_t ops, void *arg), uint64_t ops, void *arg)
{
	struct two t = {.body = body, .ops = ops, .arg = arg, .id = 1};
	pthread_t other;
	pthread_barrier_init(&t.start, NULL, 2);
	pthread_create(&other, NULL, run, &t);
	pthread_barrier_wait(&t.start);
	both_running(&t);
	uint64_t t0 = bench_now_ns();
	body(0, ops, arg);
	pthread_join(other, NULL);
	uint64_t ns = bench_now_ns() - t0;
	pthread_barrier_destroy(&t.start);
	return ns;
}
