/* perf/deref: futures, promises, delays and the executor service against the peers a
 * C programmer would write instead (pthread per task, mutex+condvar hand-off,
 * pthread_once, a mutex+condvar queue pool). One CSV line per (benchmark, impl).
 *
 *   future_create_deref  100,000 futures started in batches of 256, each batch then
 *                        derefed; per future. ringfold: started and derefed by a fiber;
 *                        ringfold_from_thread: by a plain thread (every hand-off
 *                        crosses to a worker thread and back); pthread: pthread_create
 *                        + pthread_join per future.
 *   promise_pingpong     two sides hand a value back and forth through one-shot
 *                        promises; per round trip. ringfold (two threads),
 *                        ringfold_fibers (two fibers, one worker), mutex_condvar (the
 *                        same hand-off with one-shot mutex+condvar slots).
 *   delay_contended      two threads deref the same fresh delays in the same order; per
 *                        delay. Peer: pthread_once.
 *   executor_submit      submit N tiny tasks to a 2-thread pool and wait for all; per
 *                        task. Peer: a mutex+condvar queue pool of 2 threads. Both
 *                        sides allocate and free each task's completion state inside
 *                        the clock (futures; the peer's argument array and slots).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "ringfold.h"

static int ident(rf_val arg, rf_val *out)
{
	*out = arg;
	return 0;
}

/* future_create_deref */

static rf_future **futs;

/* Start futures in batches of 256 and deref each batch: the shape of a service that
 * fans work out and joins it (one fiber per future, stacks recycled between batches). */
static uint64_t future_batches(uint64_t ops)
{
	enum { BATCH = 256 };
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < ops; i += BATCH) {
		uint64_t n = ops - i < BATCH ? ops - i : BATCH;
		for (uint64_t j = 0; j < n; j++)
			if (rf_future_call(ident, (rf_val)(i + j), &futs[j]) < 0)
				abort();
		for (uint64_t j = 0; j < n; j++) {
			rf_val v;
			if (rf_future_deref(futs[j], &v) < 0 || v != (rf_val)(i + j))
				abort();
			rf_future_free(futs[j]);
		}
	}
	return bench_now_ns() - t0;
}

static int future_batches_body(rf_val ops, rf_val *out)
{
	*out = (rf_val)future_batches((uint64_t)ops);
	return 0;
}

static uint64_t future_rf(uint64_t ops, void *arg)
{
	rf_future *f;
	rf_val ns;
	if (rf_future_call(future_batches_body, (rf_val)ops, &f) < 0 || rf_deref(f, &ns) < 0)
		abort();
	rf_future_free(f);
	return (uint64_t)ns;
}

static uint64_t future_rf_from_thread(uint64_t ops, void *arg)
{
	return future_batches(ops);
}

static void *ident_thread(void *arg)
{
	return arg;
}

static uint64_t future_pthread(uint64_t ops, void *arg)
{
	enum { BATCH = 256 };
	pthread_t t[BATCH];
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < ops; i += BATCH) {
		uint64_t n = ops - i < BATCH ? ops - i : BATCH;
		for (uint64_t j = 0; j < n; j++)
			if (pthread_create(&t[j], NULL, ident_thread, (void *)(uintptr_t)(i + j)) !=
			    0)
				abort();
		for (uint64_t j = 0; j < n; j++) {
			void *v;
			pthread_join(t[j], &v);
			if ((uintptr_t)v != i + j)
				abort();
		}
	}
	return bench_now_ns() - t0;
}

/* promise_pingpong */

struct pingpong {
	rf_promise_mem *ping, *pong;
	uint64_t ops;
};

static int pong_side(rf_val arg, rf_val *out)
{
	struct pingpong *s = rf_to_ptr(arg);
	for (uint64_t i = 0; i < s->ops; i++) {
		rf_val v;
		rf_promise_deref((rf_promise *)&s->ping[i], &v);
		rf_promise_deliver((rf_promise *)&s->pong[i], v + 1);
	}
	return 0;
}

static int ping_side(rf_val arg, rf_val *out)
{
	struct pingpong *s = rf_to_ptr(arg);
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < s->ops; i++) {
		rf_val v;
		rf_promise_deliver((rf_promise *)&s->ping[i], (rf_val)i);
		rf_promise_deref((rf_promise *)&s->pong[i], &v);
		if (v != (rf_val)i + 1)
			abort();
	}
	*out = (rf_val)(bench_now_ns() - t0);
	return 0;
}

static struct pingpong *pingpong_setup(uint64_t ops)
{
	struct pingpong *s = malloc(sizeof(*s));
	s->ping = malloc(ops * sizeof(rf_promise_mem));
	s->pong = malloc(ops * sizeof(rf_promise_mem));
	s->ops = ops;
	for (uint64_t i = 0; i < ops; i++) {
		rf_promise *p;
		rf_promise_init(&s->ping[i], &p);
		rf_promise_init(&s->pong[i], &p);
	}
	return s;
}

static void pingpong_teardown(struct pingpong *s)
{
	for (uint64_t i = 0; i < s->ops; i++) {
		rf_promise_destroy((rf_promise *)&s->ping[i]);
		rf_promise_destroy((rf_promise *)&s->pong[i]);
	}
	free(s->ping);
	free(s->pong);
	free(s);
}

static uint64_t pingpong_rf_threads(uint64_t ops, void *arg)
{
	struct pingpong *s = pingpong_setup(ops);
	rf_future *other, *me;
	rf_val ns;
	rf_thread_start(pong_side, rf_from_ptr(s), &other);
	rf_thread_start(ping_side, rf_from_ptr(s), &me);
	rf_deref(me, &ns);
	rf_deref(other, &(rf_val){0});
	rf_future_free(me);
	rf_future_free(other);
	pingpong_teardown(s);
	return (uint64_t)ns;
}

/* Both fibers on one worker: a future started from a fiber stays on its worker. */
static int fibers_pair(rf_val arg, rf_val *out)
{
	rf_future *other;
	if (rf_future_call(pong_side, arg, &other) < 0)
		abort();
	ping_side(arg, out);
	rf_deref(other, &(rf_val){0});
	rf_future_free(other);
	return 0;
}

static uint64_t pingpong_rf_fibers(uint64_t ops, void *arg)
{
	struct pingpong *s = pingpong_setup(ops);
	rf_future *pair;
	rf_val ns;
	if (rf_future_call(fibers_pair, rf_from_ptr(s), &pair) < 0)
		abort();
	rf_deref(pair, &ns);
	rf_future_free(pair);
	pingpong_teardown(s);
	return (uint64_t)ns;
}

struct slot {
	pthread_mutex_t m;
	pthread_cond_t c;
	int full;
	rf_val v;
};

static void slot_put(struct slot *s, rf_val v)
{
	pthread_mutex_lock(&s->m);
	s->v = v;
	s->full = 1;
	pthread_cond_signal(&s->c);
	pthread_mutex_unlock(&s->m);
}

static rf_val slot_take(struct slot *s)
{
	pthread_mutex_lock(&s->m);
	while (!s->full)
		pthread_cond_wait(&s->c, &s->m);
	rf_val v = s->v;
	pthread_mutex_unlock(&s->m);
	return v;
}

struct cv_pingpong {
	struct slot *ping, *pong;
	uint64_t ops;
};

static void *cv_pong(void *arg)
{
	struct cv_pingpong *s = arg;
	for (uint64_t i = 0; i < s->ops; i++)
		slot_put(&s->pong[i], slot_take(&s->ping[i]) + 1);
	return NULL;
}

static uint64_t pingpong_condvar(uint64_t ops, void *arg)
{
	struct cv_pingpong s = {calloc(ops, sizeof(struct slot)), calloc(ops, sizeof(struct slot)),
	                        ops};
	for (uint64_t i = 0; i < ops; i++) {
		pthread_mutex_init(&s.ping[i].m, NULL);
		pthread_cond_init(&s.ping[i].c, NULL);
		pthread_mutex_init(&s.pong[i].m, NULL);
		pthread_cond_init(&s.pong[i].c, NULL);
	}
	pthread_t t;
	pthread_create(&t, NULL, cv_pong, &s);
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < ops; i++) {
		slot_put(&s.ping[i], (rf_val)i);
		if (slot_take(&s.pong[i]) != (rf_val)i + 1)
			abort();
	}
	uint64_t ns = bench_now_ns() - t0;
	pthread_join(t, NULL);
	free(s.ping);
	free(s.pong);
	return ns;
}

/* delay_contended */

struct delays {
	rf_delay_mem *d;
	pthread_once_t *once;
	_Atomic rf_val *value;
	uint64_t ops;
	pthread_barrier_t go;
};

static void *deref_all(void *arg)
{
	struct delays *s = arg;
	pthread_barrier_wait(&s->go);
	for (uint64_t i = 0; i < s->ops; i++) {
		rf_val v;
		if (rf_delay_deref((rf_delay *)&s->d[i], &v) < 0 || v != 7)
			abort();
	}
	return NULL;
}

static uint64_t delay_rf(uint64_t ops, void *arg)
{
	struct delays s = {.d = malloc(ops * sizeof(rf_delay_mem)), .ops = ops};
	for (uint64_t i = 0; i < ops; i++) {
		rf_delay *d;
		rf_delay_init(&s.d[i], ident, 7, &d);
	}
	pthread_barrier_init(&s.go, NULL, 2);
	pthread_t t;
	pthread_create(&t, NULL, deref_all, &s);
	uint64_t t0 = bench_now_ns();
	deref_all(&s);
	pthread_join(t, NULL);
	uint64_t ns = bench_now_ns() - t0;
	for (uint64_t i = 0; i < ops; i++)
		rf_delay_destroy((rf_delay *)&s.d[i]);
	pthread_barrier_destroy(&s.go);
	free(s.d);
	return ns;
}

static _Thread_local struct delays *once_ctx;
static _Thread_local uint64_t once_idx;

static void once_body(void)
{
	atomic_store_explicit(&once_ctx->value[once_idx], 7, memory_order_relaxed);
}

static void *once_all(void *arg)
{
	struct delays *s = arg;
	once_ctx = s;
	pthread_barrier_wait(&s->go);
	for (uint64_t i = 0; i < s->ops; i++) {
		once_idx = i;
		pthread_once(&s->once[i], once_body);
		if (atomic_load_explicit(&s->value[i], memory_order_relaxed) != 7)
			abort();
	}
	return NULL;
}

static uint64_t delay_once(uint64_t ops, void *arg)
{
	struct delays s = {.once = malloc(ops * sizeof(pthread_once_t)),
	                   .value = calloc(ops, sizeof(rf_val)),
	                   .ops = ops};
	for (uint64_t i = 0; i < ops; i++)
		s.once[i] = (pthread_once_t)PTHREAD_ONCE_INIT;
	pthread_barrier_init(&s.go, NULL, 2);
	pthread_t t;
	pthread_create(&t, NULL, once_all, &s);
	uint64_t t0 = bench_now_ns();
	once_all(&s);
	pthread_join(t, NULL);
	uint64_t ns = bench_now_ns() - t0;
	pthread_barrier_destroy(&s.go);
	free(s.once);
	free((void *)s.value);
	return ns;
}

/* executor_submit */

static uint64_t executor_rf(uint64_t ops, void *arg)
{
	rf_executor *ex;
	rf_executor_new(2, &ex);
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < ops; i++)
		if (rf_executor_submit(ex, ident, (rf_val)i, &futs[i]) < 0)
			abort();
	for (uint64_t i = 0; i < ops; i++) {
		rf_val v;
		if (rf_future_deref(futs[i], &v) < 0 || v != (rf_val)i)
			abort();
		rf_future_free(futs[i]);
	}
	uint64_t ns = bench_now_ns() - t0;
	rf_executor_free(ex);
	return ns;
}

/* The peer: a mutex+condvar FIFO feeding 2 threads; each task completes its own
 * mutex+condvar slot, the submitter waits on every slot (as it derefs every future). */
struct pool {
	pthread_mutex_t m;
	pthread_cond_t c;
	uint64_t head, tail, ops;
	rf_val *arg;
	struct slot *done;
	int stop;
};

static void *pool_thread(void *p)
{
	struct pool *pl = p;
	for (;;) {
		pthread_mutex_lock(&pl->m);
		while (pl->head == pl->tail && !pl->stop)
			pthread_cond_wait(&pl->c, &pl->m);
		if (pl->head == pl->tail) {
			pthread_mutex_unlock(&pl->m);
			return NULL;
		}
		uint64_t i = pl->head++;
		pthread_mutex_unlock(&pl->m);
		rf_val v;
		ident(pl->arg[i], &v);
		slot_put(&pl->done[i], v);
	}
}

/* As in the ringfold row, making and releasing each task's completion state is timed:
 * the queue's argument array and the slots are allocated and initialized, and freed,
 * inside the clock (rf_executor_submit allocates a future, rf_future_free frees it). */
static uint64_t executor_condvar(uint64_t ops, void *arg)
{
	struct pool pl = {.ops = ops};
	pthread_mutex_init(&pl.m, NULL);
	pthread_cond_init(&pl.c, NULL);
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, pool_thread, &pl);
	uint64_t t0 = bench_now_ns();
	rf_val *args = malloc(ops * sizeof(rf_val));
	struct slot *done = calloc(ops, sizeof(struct slot));
	if (!args || !done)
		abort();
	for (uint64_t i = 0; i < ops; i++) {
		pthread_mutex_init(&done[i].m, NULL);
		pthread_cond_init(&done[i].c, NULL);
	}
	pl.arg = args; /* the workers read them only for a task queued under pl.m below */
	pl.done = done;
	for (uint64_t i = 0; i < ops; i++) {
		pthread_mutex_lock(&pl.m);
		pl.arg[pl.tail++] = (rf_val)i;
		pthread_cond_signal(&pl.c);
		pthread_mutex_unlock(&pl.m);
	}
	for (uint64_t i = 0; i < ops; i++)
		if (slot_take(&done[i]) != (rf_val)i)
			abort();
	free(args);
	free(done);
	uint64_t ns = bench_now_ns() - t0;
	pthread_mutex_lock(&pl.m);
	pl.stop = 1;
	pthread_cond_broadcast(&pl.c);
	pthread_mutex_unlock(&pl.m);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	return ns;
}

int main(int argc, char **argv)
{
	bench_init(argc, argv);
	enum { FUTURES = 100000 };
	futs = malloc(FUTURES * sizeof(*futs));
	if (bench_wanted("future_create_deref")) {
		bench_run("future_create_deref", "ringfold", FUTURES, future_rf, NULL);
		bench_run("future_create_deref", "ringfold_from_thread", 20000,
		          future_rf_from_thread, NULL);
		bench_run("future_create_deref", "pthread", 20000, future_pthread, NULL);
	}
	if (bench_wanted("promise_pingpong")) {
		bench_run("promise_pingpong", "ringfold", 100000, pingpong_rf_threads, NULL);
		bench_run("promise_pingpong", "ringfold_fibers", 100000, pingpong_rf_fibers, NULL);
		bench_run("promise_pingpong", "mutex_condvar", 100000, pingpong_condvar, NULL);
	}
	if (bench_wanted("delay_contended")) {
		bench_run("delay_contended", "ringfold", 100000, delay_rf, NULL);
		bench_run("delay_contended", "pthread_once", 100000, delay_once, NULL);
	}
	if (bench_wanted("executor_submit")) {
		bench_run("executor_submit", "ringfold", FUTURES, executor_rf, NULL);
		bench_run("executor_submit", "mutex_condvar", FUTURES, executor_condvar, NULL);
	}
	free(futs);
	return 0;
}
