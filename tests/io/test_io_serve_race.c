/* Races of listeners and readers, each looped until both outcomes have been seen:
 *  - a connection arriving as the listener is closed: the waiting taker gets it, or
 *    -EBADF and then the connection was closed by the listener (its peer sees the end)
 *    or is still in the kernel's backlog: never lost in between;
 *  - data arriving as the receiving fiber's cancel token fires: the fiber gets the byte,
 *    or -ECANCELED and the byte is still there for the next call: never lost.
 * On io_uring (default) and epoll (@epoll); bounded in time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "io/io_net.h"

#define RACE_NS (20ull * 1000000000ull)

struct side {
	rf_io_listener *l;
	rf_io_reader *r;
	rf_io_cancel *tok;
	_Atomic int started;
	long rc;
	rf_io_buf b;
	waiter done;
};

static void taker(void *p)
{
	struct side *s = p;
	atomic_store(&s->started, 1);
	s->rc = rf_io_listener_accept(s->l);
	if (waiter_claim(&s->done))
		waiter_complete(&s->done);
}

static void receiver(void *p)
{
	struct side *s = p;
	rf_io_cancel_attach(s->tok);
	atomic_store(&s->started, 1);
	s->rc = rf_io_reader_recv(s->r, &s->b);
	rf_io_cancel_attach(NULL);
	if (waiter_claim(&s->done))
		waiter_complete(&s->done);
}

static void start(struct side *s, void (*fn)(void *), int round)
{
	waiter_init(&s->done);
	atomic_store(&s->started, 0);
	RF_CHECK(fiber_spawn(fn, s, SCHED_WORKER_ANY, NULL) == 0);
	while (!atomic_load(&s->started))
		sched_yield();
	for (volatile int k = 0; k < (round % 64) * 200; k++)
		; /* a varying head start */
}

static void listener_vs_close(void **st)
{
	struct sockaddr_in a;
	int lfd = net_listen(64, &a);
	bool got = false, closed = false;
	uint64_t end = time_now_ns() + RACE_NS;
	for (int round = 0; !(got && closed); round++) {
		RF_CHECK(time_now_ns() < end);
		struct side s = {.rc = 1};
		RF_CHECK(rf_io_listener_new(lfd, SOCK_CLOEXEC, 4, &s.l) == 0);
		start(&s, taker, round);
		int cl = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		RF_CHECK(connect(cl, (struct sockaddr *)&a, sizeof(a)) == 0);
		for (volatile int k = 0; k < (round % 7) * 500; k++)
			;
		RF_CHECK(rf_io_listener_close(s.l) == 0);
		RF_CHECK(waiter_wait(&s.done, time_deadline_after_ms(WAIT_MS)) == 0);
		if (s.rc >= 0) {
			got = true;
			RF_CHECK(rf_io_close((int)s.rc) == 0);
		} else {
			RF_CHECK_EQ(s.rc, -EBADF);
			closed = true;
			int rest = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (rest >= 0) {
				RF_CHECK(rf_io_close(rest) == 0); /* still in the backlog */
			} else {
				char x;
				ssize_t n = rf_io_recv_timeout(cl, &x, 1, 0, WAIT_MS);
				RF_CHECK(n == 0 || n == -ECONNRESET); /* closed by the listener */
			}
		}
		rf_io_listener_free(s.l);
		RF_CHECK(rf_io_close(cl) == 0);
	}
	RF_CHECK(rf_io_close(lfd) == 0);
}

static void reader_vs_cancel(void **st)
{
	rf_io_bufpool *p;
	RF_CHECK(rf_io_bufpool_new(16, 4, &p) == 0);
	int sv[2];
	RF_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	bool got = false, cancelled = false;
	uint64_t end = time_now_ns() + RACE_NS;
	struct side s = {0};
	RF_CHECK(rf_io_reader_new(sv[0], p, &s.r) == 0);
	for (int round = 0; !(got && cancelled); round++) {
		RF_CHECK(time_now_ns() < end);
		RF_CHECK(rf_io_cancel_new(&s.tok) == 0);
		s.rc = 1;
		start(&s, receiver, round);
		char c = (char)('a' + round % 26);
		RF_CHECK(rf_io_send(sv[1], &c, 1, 0) == 1);
		for (volatile int k = 0; k < (round % 7) * 300; k++)
			;
		RF_CHECK(rf_io_cancel_trigger(s.tok) == 0);
		RF_CHECK(waiter_wait(&s.done, time_deadline_after_ms(WAIT_MS)) == 0);
		if (s.rc == 1) {
			got = true;
		} else {
			RF_CHECK_EQ(s.rc, -ECANCELED);
			cancelled = true;
			RF_CHECK(rf_io_reader_recv_timeout(s.r, WAIT_MS, &s.b) == 1);
		}
		RF_CHECK(((char *)s.b.data)[0] == c); /* the byte, whichever call took it */
		RF_CHECK(rf_io_buf_return(&s.b) == 0);
		rf_io_cancel_free(s.tok);
	}
	rf_io_reader_free(s.r);
	RF_CHECK(rf_io_close(sv[0]) == 0 && rf_io_close(sv[1]) == 0);
	rf_io_bufpool_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(listener_vs_close),
	    cmocka_unit_test(reader_vs_cancel),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rf_shutdown();
	return rc;
}
