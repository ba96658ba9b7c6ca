/* perf/io: pipe_pingpong: one byte bounced between two parties over two pipes.
 *   ringfold: two fibers on one executor worker, rf_io_read/rf_io_write (the worker's
 *             io_uring, or epoll under RF_IO_BACKEND=epoll); one op = one round trip.
 *   pthread:  two threads doing blocking read/write.
 * wake_ring: two threads, each owning an io_poller as an executor worker does, pass a turn
 * back and forth, each sleeping in io_poll until the other wakes it; one op = one
 * round trip (two wake-ups). Impls: `eventfd` (io_wake writes the target's eventfd)
 * and `msg_ring` (it posts a CQE into the target ring): the measurement behind the
 * backend's default (io/backend.h, io_set_msg_ring).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "io/backend.h"
#include "ringfold.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/wait.h"

struct pp {
	int ping[2], pong[2];
	uint64_t ops;
	_Atomic int left; /* parties still running */
	waiter done;      /* completed by the last party (ringfold) */
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
	    waiter_claim(&p->done))
		waiter_complete(&p->done);
}

static void ponger_fiber(void *arg)
{
	struct pp *p = arg;
	char c;
	for (uint64_t i = 0; i < p->ops; i++)
		if (rf_io_read(p->ping[0], &c, 1) != 1 || rf_io_write(p->pong[1], &c, 1) != 1)
			abort();
	if (atomic_fetch_sub_explicit(&p->left, 1, memory_order_acq_rel) == 1 &&
	    waiter_claim(&p->done))
		waiter_complete(&p->done);
}

static uint64_t run_ringfold(uint64_t ops, void *unused)
{
	struct pp p;
	pp_open(&p, ops);
	waiter_init(&p.done);
	uint64_t t0 = bench_now_ns();
	if (fiber_spawn(ponger_fiber, &p, 0, NULL) || fiber_spawn(pinger_fiber, &p, 0, NULL))
		abort();
	waiter_wait(&p.done, DEADLINE_NONE);
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

struct wr {
	io_poller *io[2];
	_Atomic int turn;
	uint64_t ops;
	pthread_barrier_t start, stop;
	uint64_t elapsed;
};

struct wr_side {
	struct wr *w;
	int me;
};

static void wr_wait_turn(struct wr *w, int me)
{
	/* acquire: pairs with the other side's release store of the turn. A wake-up sent
	 * between this check and the poll stays pending, so the poll returns. */
	while (atomic_load_explicit(&w->turn, memory_order_acquire) != me)
		io_poll(w->io[me], DEADLINE_NONE);
}

static void *wr_thread(void *p)
{
	struct wr_side *s = p;
	struct wr *w = s->w;
	int me = s->me;
	if (io_create(&w->io[me], me))
		abort();
	pthread_barrier_wait(&w->start);
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < w->ops; i++) {
		wr_wait_turn(w, me);
		atomic_store_explicit(&w->turn, !me, memory_order_release);
		io_wake(w->io[!me]);
	}
	if (me == 0) {
		wr_wait_turn(w, me);
		w->elapsed = bench_now_ns() - t0;
	}
	pthread_barrier_wait(&w->stop); /* no wake-up reaches a destroyed io_poller */
	io_destroy(w->io[me]);
	return NULL;
}

static uint64_t run_wake_ring(uint64_t ops, void *msg_ring)
{
	io_set_msg_ring(msg_ring != NULL);
	struct wr w = {.ops = ops};
	struct wr_side side[2] = {{&w, 0}, {&w, 1}};
	pthread_barrier_init(&w.start, NULL, 2);
	pthread_barrier_init(&w.stop, NULL, 2);
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, wr_thread, &side[i]))
			abort();
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&w.start);
	pthread_barrier_destroy(&w.stop);
	io_set_msg_ring(false);
	return w.elapsed;
}

int main(int argc, char **argv)
{
	bench_init(argc, argv);
	if (bench_wanted("pipe_pingpong")) {
		bench_run("pipe_pingpong", "ringfold", 100000, run_ringfold, NULL);
		bench_run("pipe_pingpong", "pthread", 100000, run_pthread, NULL);
	}
	if (bench_wanted("wake_ring")) {
		if (io_choose(RF_IO_AUTO) == RF_IO_URING) {
			bench_run("wake_ring", "eventfd", 50000, run_wake_ring, NULL);
			bench_run("wake_ring", "msg_ring", 50000, run_wake_ring, "on");
		} else {
			fprintf(stderr, "bench_io: no io_uring here; wake_ring skipped\n");
		}
	}
	rf_shutdown();
	return 0;
}
