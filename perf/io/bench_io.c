/* perf/io: pipe_pingpong: one byte bounced between two parties over two pipes.
 *   ringfold: two fibers on one executor worker, rf_io_read/rf_io_write (the worker's
 *             io_uring, or epoll under RF_IO_BACKEND=epoll); one op = one round trip.
 *   pthread:  two threads doing blocking read/write.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "ringfold.h"
#include "runtime/sched.h"
#include "runtime/wait.h"

struct pp {
	int ping[2], pong[2];
	uint64_t ops;
	_Atomic int left; /* parties still running */
	rf_waiter done;   /* completed by the last party (ringfold) */
};

static void pp_open(struct pp *p, uint64_t ops)
{
	if (pipe(p->ping) || pipe(p->pong))
		abort();
	p->ops = ops;
	atomic_init(&p->left, 2);
}

static void pp_close(struct pp *p)
{
	close(p->ping[0]);
	close(p->ping[1]);
	close(p->pong[0]);
	close(p->pong[1]);
}

static void pinger_fiber(void *arg)
{
	struct pp *p = arg;
	char c = 'x';
	for (uint64_t i = 0; i < p->ops; i++)
		if (rf_io_write(p->ping[1], &c, 1) != 1 || rf_io_read(p->pong[0], &c, 1) != 1)
			abort();
	if (atomic_fetch_sub_explicit(&p->left, 1, memory_order_acq_rel) == 1 &&
	    rf_waiter_claim(&p->done))
		rf_waiter_complete(&p->done);
}

static void ponger_fiber(void *arg)
{
	struct pp *p = arg;
	char c;
	for (uint64_t i = 0; i < p->ops; i++)
		if (rf_io_read(p->ping[0], &c, 1) != 1 || rf_io_write(p->pong[1], &c, 1) != 1)
			abort();
	if (atomic_fetch_sub_explicit(&p->left, 1, memory_order_acq_rel) == 1 &&
	    rf_waiter_claim(&p->done))
		rf_waiter_complete(&p->done);
}

static uint64_t run_ringfold(uint64_t ops, void *unused)
{
	struct pp p;
	pp_open(&p, ops);
	rf_waiter_init(&p.done);
	uint64_t t0 = bench_now_ns();
	if (rf_fiber_spawn(ponger_fiber, &p, 0, NULL) || rf_fiber_spawn(pinger_fiber, &p, 0, NULL))
		abort();
	rf_waiter_wait(&p.done, RF_NO_DEADLINE);
	uint64_t el = bench_now_ns() - t0;
	pp_close(&p);
	return el;
}

static void *pinger_thread(void *arg)
{
	struct pp *p = arg;
	char c = 'x';
	for (uint64_t i = 0; i < p->ops; i++)
		if (write(p->ping[1], &c, 1) != 1 || read(p->pong[0], &c, 1) != 1)
			abort();
	return NULL;
}

static void *ponger_thread(void *arg)
{
	struct pp *p = arg;
	char c;
	for (uint64_t i = 0; i < p->ops; i++)
		if (read(p->ping[0], &c, 1) != 1 || write(p->pong[1], &c, 1) != 1)
			abort();
	return NULL;
}

static uint64_t run_pthread(uint64_t ops, void *unused)
{
	struct pp p;
	pp_open(&p, ops);
	pthread_t a, b;
	uint64_t t0 = bench_now_ns();
	if (pthread_create(&b, NULL, ponger_thread, &p) ||
	    pthread_create(&a, NULL, pinger_thread, &p))
		abort();
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	uint64_t el = bench_now_ns() - t0;
	pp_close(&p);
	return el;
}

/* Whether this build has the executor (fibers) yet. */
static bool have_fibers(void)
{
	return rf_sched_workers() > 0;
}

int main(int argc, char **argv)
{
	bench_init(argc, argv);
	if (bench_wanted("pipe_pingpong")) {
		if (have_fibers())
			bench_run("pipe_pingpong", "ringfold", 100000, run_ringfold, NULL);
		else
			fprintf(stderr, "bench_io: no executor in this build; ringfold skipped\n");
		bench_run("pipe_pingpong", "pthread", 100000, run_pthread, NULL);
	}
	rf_shutdown();
	return 0;
}
