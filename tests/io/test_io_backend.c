/* io/backend.h directly: each backend's wait and wake-up, on a test thread playing the
 * executor worker (create, poll and destroy on it; wake from another thread). */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "io/backend.h"
#include "io/io_impl.h"
#include "runtime/sched/wait.h"

#define SEC 1000000000ull

struct worker {
	rf_io_backend kind;
	io_poller *io;
	/* 0 starting, 1 created (or failed), 2 asked to stop, 3 out of its loop, 4 no more
	 * wake-ups will come (it may destroy its io_poller), 5 stopped */
	_Atomic int stage;
	_Atomic int create_rc;
	_Atomic int polls;
	_Atomic int completions; /* I/O completions io_poll reported */
};

static void *worker_main(void *p)
{
	struct worker *w = p;
	atomic_store_explicit(&w->create_rc, io_create(&w->io, 0), memory_order_relaxed);
	atomic_store_explicit(&w->stage, 1, memory_order_release);
	if (atomic_load_explicit(&w->create_rc, memory_order_relaxed) == 0) {
		/* Sleep without deadline: only a wake-up can end each poll. */
		while (atomic_load_explicit(&w->stage, memory_order_acquire) != 2) {
			int n = io_poll(w->io, DEADLINE_NONE);
			atomic_fetch_add_explicit(&w->completions, n, memory_order_relaxed);
			atomic_fetch_add_explicit(&w->polls, 1, memory_order_relaxed);
		}
		atomic_store_explicit(&w->stage, 3, memory_order_release);
		while (atomic_load_explicit(&w->stage, memory_order_acquire) != 4)
			sched_yield();
		io_destroy(w->io);
	}
	atomic_store_explicit(&w->stage, 5, memory_order_release);
	return NULL;
}

/* Wait (bounded) until *x reaches want. */
static bool wait_for(_Atomic int *x, int want)
{
	uint64_t end = time_now_ns() + 10 * SEC;
	while (atomic_load_explicit(x, memory_order_acquire) < want)
		if (time_now_ns() > end)
			return false;
	return true;
}

/* Choose `kind` for the process; false (test skipped) if io_uring cannot be had here. */
static bool choose(rf_io_backend kind)
{
	int rc = io_choose(kind);
	if (kind == RF_IO_URING && rc == RF_ENOURING)
		return false;
	assert_int_equal(rc, kind);
	assert_int_equal(io_kind(), kind);
	return true;
}

static void wake_from_other_thread(rf_io_backend kind)
{
	if (!choose(kind)) {
		skip();
		return;
	}
	struct worker w = {.kind = kind};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, worker_main, &w), 0);
	assert_true(wait_for(&w.stage, 1));
	assert_int_equal(atomic_load(&w.create_rc), 0);
	/* Repeated wake-ups each end a sleep (or coalesce); the worker keeps polling. */
	for (int i = 0; i < 100; i++) {
		int before = atomic_load_explicit(&w.polls, memory_order_relaxed);
		io_wake(w.io);
		uint64_t end = time_now_ns() + 10 * SEC;
		while (atomic_load_explicit(&w.polls, memory_order_relaxed) == before)
			assert_true(time_now_ns() < end);
	}
	atomic_store_explicit(&w.stage, 2, memory_order_release);
	io_wake(w.io);
	assert_true(wait_for(&w.stage, 3));
	atomic_store_explicit(&w.stage, 4, memory_order_release);
	assert_true(wait_for(&w.stage, 5));
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&w.completions), 0); /* wake-ups are not I/O completions */
}

static void uring_wake(void **s)
{
	wake_from_other_thread(RF_IO_URING);
}
static void epoll_wake(void **s)
{
	wake_from_other_thread(RF_IO_EPOLL);
}

/* On the owner thread: deadlines, zero deadline, a wake-up posted before the poll. */
static void deadlines(rf_io_backend kind)
{
	if (!choose(kind)) {
		skip();
		return;
	}
	io_poller *io;
	assert_int_equal(io_create(&io, 3), 0);
	uint64_t t0 = time_now_ns();
	assert_int_equal(io_poll(io, 0), 0);
	assert_true(time_now_ns() - t0 < 2 * SEC);

	t0 = time_now_ns();
	assert_int_equal(io_poll(io, t0 + 30000000), 0);
	uint64_t el = time_now_ns() - t0;
	assert_true(el >= 30000000 && el < 5 * SEC); /* never early */

	/* A wake-up before the poll makes it return at once, even without a deadline. */
	io_wake(io);
	t0 = time_now_ns();
	assert_int_equal(io_poll(io, t0 + 5 * SEC), 0); /* not an I/O completion */
	assert_true(time_now_ns() - t0 < 4 * SEC);
	io_destroy(io);
}

/* The ring fd is registered where the kernel has it (io_uring_enter then takes the
 * registered index), and not when the feature is off; both rings work. */
static void uring_ring_fd(void **s)
{
	if (!choose(RF_IO_URING)) {
		skip();
		return;
	}
	for (int off = 0; off < 2; off++) {
		io_test_uring_off(off ? URF_RING_FD : 0);
		io_poller *io;
		assert_int_equal(io_create(&io, 3), 0);
		if (off || !uring_feature(URF_RING_FD))
			assert_int_equal(io->ring.enter_ring_fd, io->ring.ring_fd);
		else
			assert_int_not_equal(io->ring.enter_ring_fd, io->ring.ring_fd);
		io_wake(io);
		uint64_t t0 = time_now_ns();
		assert_int_equal(io_poll(io, t0 + 5 * SEC), 0); /* the wake-up ends it */
		assert_true(time_now_ns() - t0 < 4 * SEC);
		io_destroy(io);
	}
	io_test_uring_off(0);
}

static void uring_deadlines(void **s)
{
	deadlines(RF_IO_URING);
}
static void epoll_deadlines(void **s)
{
	deadlines(RF_IO_EPOLL);
}

/* Many rings, one per thread, as the executor makes them: each set up on its own
 * thread (SINGLE_ISSUER), alive at once. */
static void *make_and_keep(void *p)
{
	struct worker *w = p;
	return (void *)(intptr_t)io_create(&w->io, 0);
}

static void many_workers(rf_io_backend kind)
{
	if (!choose(kind)) {
		skip();
		return;
	}
	enum { N = 16 };
	struct worker w[N] = {0};
	pthread_t t[N];
	for (int i = 0; i < N; i++)
		assert_int_equal(pthread_create(&t[i], NULL, make_and_keep, &w[i]), 0);
	for (int i = 0; i < N; i++) {
		void *rc;
		pthread_join(t[i], &rc);
		assert_int_equal((intptr_t)rc, 0);
	}
	for (int i = 0; i < N; i++)
		io_destroy(w[i].io);
}

static void uring_many(void **s)
{
	many_workers(RF_IO_URING);
}
static void epoll_many(void **s)
{
	many_workers(RF_IO_EPOLL);
}

/* Ring-to-ring wake-ups, both ways: two owner threads pass a turn back and forth, each
 * sleeping in io_poll without deadline until the other wakes it. */
struct pingpong {
	io_poller *io[2];
	_Atomic int turn;
	pthread_barrier_t start, stop;
};

struct side {
	struct pingpong *p;
	int me;
};

static void *pingpong_side(void *arg)
{
	struct side *s = arg;
	struct pingpong *p = s->p;
	int me = s->me;
	intptr_t rc = io_create(&p->io[me], me);
	pthread_barrier_wait(&p->start);
	if (rc == 0 && p->io[!me]) {
		for (int i = 0; i < 1000; i++) {
			while (atomic_load_explicit(&p->turn, memory_order_acquire) != me)
				io_poll(p->io[me], DEADLINE_NONE);
			atomic_store_explicit(&p->turn, !me, memory_order_release);
			io_wake(p->io[!me]);
		}
	}
	pthread_barrier_wait(&p->stop); /* no wake-up reaches a destroyed io_poller */
	io_destroy(p->io[me]);
	return (void *)rc;
}

static void ring_to_ring(bool msg_ring)
{
	if (!choose(RF_IO_URING)) {
		skip();
		return;
	}
	io_set_msg_ring(msg_ring);
	struct pingpong p = {0};
	struct side sides[2] = {{&p, 0}, {&p, 1}};
	pthread_barrier_init(&p.start, NULL, 2);
	pthread_barrier_init(&p.stop, NULL, 2);
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, pingpong_side, &sides[i]), 0);
	for (int i = 0; i < 2; i++) {
		void *rc;
		pthread_join(t[i], &rc);
		assert_int_equal((intptr_t)rc, 0);
	}
	assert_int_equal(atomic_load(&p.turn), 0); /* 2000 passes of the turn */
	pthread_barrier_destroy(&p.start);
	pthread_barrier_destroy(&p.stop);
	io_set_msg_ring(false);
}

static void uring_eventfd_pingpong(void **s)
{
	ring_to_ring(false);
}
static void uring_msg_ring_pingpong(void **s)
{
	ring_to_ring(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(uring_wake),
	    cmocka_unit_test(epoll_wake),
	    cmocka_unit_test(uring_deadlines),
	    cmocka_unit_test(uring_ring_fd),
	    cmocka_unit_test(epoll_deadlines),
	    cmocka_unit_test(uring_many),
	    cmocka_unit_test(epoll_many),
	    cmocka_unit_test(uring_eventfd_pingpong),
	    cmocka_unit_test(uring_msg_ring_pingpong),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
