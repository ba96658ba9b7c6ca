/* perf/atom/two.c: see two.h. */
#include <pthread.h>
#include <stdatomic.h>

#include "harness.h"
#include "perf/atom/two.h"

struct two {
	void (*body)(int id, uint64_t ops, void *arg);
	uint64_t ops;
	void *arg;
	pthread_barrier_t start;
	int id;
};

static void *run(void *p)
{
	struct two *t = p;
	int id = t->id;
	pthread_barrier_wait(&t->start);
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
	uint64_t t0 = bench_now_ns();
	body(0, ops, arg);
	pthread_join(other, NULL);
	uint64_t ns = bench_now_ns() - t0;
	pthread_barrier_destroy(&t.start);
	return ns;
}
