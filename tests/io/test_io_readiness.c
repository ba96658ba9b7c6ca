/* ringfold/io.h: readiness bookkeeping. Under epoll a descriptor stays registered
 * (edge-triggered) and a worker remembers that its last attempt got EAGAIN or that a
 * short read drained a stream; these cases check that nothing is ever missed: a number
 * reused after close(2) behind ringfold's back, request/response with short reads,
 * full reads that leave data behind, datagrams (a short read does not drain them),
 * pollfd after the data was consumed. Each runs on a plain thread and on a fiber (the
 * backend the process chose: io_uring, or epoll under @epoll).
 */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/io_case.h"
#include "ringfold.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/wait.h"

struct later {
	int fd, ms, n;
	pthread_t t;
};

static void *write_later(void *p)
{
	struct later *l = p;
	struct timespec ts = {0, (long)l->ms * 1000000};
	nanosleep(&ts, NULL);
	char c[64] = {7};
	if (write(l->fd, c, (size_t)l->n) != l->n)
		abort();
	return NULL;
}

static int reused_number(void)
{
	int sv[2], nv[2];
	char buf[8];
	RF_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	RF_CHECK(rf_io_recv_timeout(sv[0], buf, 1, 0, 20) == -ETIMEDOUT); /* now registered */
	close(sv[0]); /* behind ringfold's back */
	close(sv[1]);
	RF_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, nv) == 0);
	struct later l = {.fd = nv[1], .ms = 30, .n = 1};
	pthread_create(&l.t, NULL, write_later, &l);
	uint64_t t0 = time_now_ns();
	RF_CHECK(rf_io_recv_timeout(nv[0], buf, 1, 0, 20000) == 1);
	RF_CHECK(time_now_ns() - t0 < 10000000000ull); /* late by at most the re-check period */
	pthread_join(l.t, NULL);
	RF_CHECK(rf_io_close(nv[0]) == 0 && rf_io_close(nv[1]) == 0);
	return 0;
}

/* the peer of request_response: sends request i, reads the echo, checks it */
static void *requester(void *p)
{
	int fd = *(int *)p;
	for (int i = 0; i < 200; i++) {
		char req[10], rep[10];
		memset(req, i, sizeof(req));
		if (write(fd, req, sizeof(req)) != 10)
			abort();
		size_t got = 0;
		while (got < 10) {
			ssize_t k = read(fd, rep + got, 10 - got);
			if (k <= 0)
				abort();
			got += (size_t)k;
		}
		if (memcmp(req, rep, 10))
			abort();
	}
	return NULL;
}

static int request_response(void)
{
	int sv[2];
	RF_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	pthread_t t;
	pthread_create(&t, NULL, requester, &sv[1]);
	for (int i = 0; i < 200; i++) {
		char buf[100];
		/* 10 of 100: a short read, after which the next one may park first */
		RF_CHECK(rf_io_recv_timeout(sv[0], buf, sizeof(buf), 0, 20000) == 10);
		RF_CHECK(buf[0] == (char)i && buf[9] == (char)i);
		RF_CHECK(rf_io_send(sv[0], buf, 10, 0) == 10);
	}
	pthread_join(t, NULL);
	RF_CHECK(rf_io_close(sv[0]) == 0 && rf_io_close(sv[1]) == 0);
	return 0;
}

static int full_reads(void)
{
	int sv[2];
	char buf[100];
	RF_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	RF_CHECK(rf_io_recv_timeout(sv[0], buf, 1, 0, 10) == -ETIMEDOUT); /* EAGAIN seen first */
	memset(buf, 1, sizeof(buf));
	RF_CHECK(write(sv[1], buf, 100) == 100);
	for (int i = 0; i < 10; i++)
		RF_CHECK(rf_io_recv_timeout(sv[0], buf, 10, 0, 20000) == 10);
	RF_CHECK(rf_io_recv_timeout(sv[0], buf, 10, 0, 30) == -ETIMEDOUT);
	RF_CHECK(rf_io_close(sv[0]) == 0 && rf_io_close(sv[1]) == 0);
	return 0;
}

static int datagrams(void)
{
	int sv[2];
	char buf[100];
	RF_CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) == 0);
	RF_CHECK(rf_io_recv_timeout(sv[0], buf, sizeof(buf), 0, 10) == -ETIMEDOUT);
	for (int i = 0; i < 3; i++)
		RF_CHECK(write(sv[1], "abcde", 5) == 5);
	for (int i = 0; i < 3; i++) /* each a short read that does not drain the socket */
		RF_CHECK(rf_io_recv_timeout(sv[0], buf, sizeof(buf), 0, 20000) == 5);
	RF_CHECK(rf_io_recv_timeout(sv[0], buf, sizeof(buf), 0, 30) == -ETIMEDOUT);
	RF_CHECK(rf_io_close(sv[0]) == 0 && rf_io_close(sv[1]) == 0);
	return 0;
}

static int poll_after_consumed(void)
{
	int sv[2];
	char buf[4];
	RF_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	RF_CHECK(rf_io_pollfd_timeout(sv[0], POLLIN, 10) == -ETIMEDOUT);
	RF_CHECK(write(sv[1], "x", 1) == 1);
	RF_CHECK(rf_io_pollfd_timeout(sv[0], POLLIN, 20000) & POLLIN);
	RF_CHECK(rf_io_recv(sv[0], buf, 4, 0) == 1); /* short: drained */
	RF_CHECK(rf_io_pollfd_timeout(sv[0], POLLIN, 30) == -ETIMEDOUT);
	struct later l = {.fd = sv[1], .ms = 20, .n = 1};
	pthread_create(&l.t, NULL, write_later, &l);
	RF_CHECK(rf_io_pollfd_timeout(sv[0], POLLIN, 20000) & POLLIN);
	pthread_join(l.t, NULL);
	RF_CHECK(rf_io_pollfd_timeout(sv[0], POLLOUT, 20000) & POLLOUT);
	RF_CHECK(rf_io_close(sv[0]) == 0 && rf_io_close(sv[1]) == 0);
	return 0;
}

/* A worker's knowledge of a number closed with rf_io_close on another thread: gone. */
static int fd_slot;

static int eagain_on_slot(void)
{
	char c;
	RF_CHECK(rf_io_recv_timeout(fd_slot, &c, 1, 0, 5) == -ETIMEDOUT); /* registered, unready */
	return 0;
}

static int data_is_there(void)
{
	char c;
	uint64_t t0 = time_now_ns();
	RF_CHECK(rf_io_recv_timeout(fd_slot, &c, 1, 0, 20000) == 1);
	RF_CHECK(time_now_ns() - t0 < 500000000ull); /* not the second a stale slot would cost */
	return 0;
}

/* ---- running a case on a thread and on a fiber ---- */

static void test_closed_elsewhere(void **s)
{
	int sv[2], nv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	fd_slot = sv[0];
	assert_int_equal(io_case_on_fiber(eagain_on_slot, 0), 0);
	assert_int_equal(rf_io_close(sv[0]), 0); /* on this thread, not worker 0 */
	assert_int_equal(rf_io_close(sv[1]), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, nv), 0);
	if (nv[0] != fd_slot && nv[1] != fd_slot)
		skip(); /* the number was not reused: nothing to check */
	fd_slot = nv[0] == fd_slot ? nv[0] : nv[1];
	int other = fd_slot == nv[0] ? nv[1] : nv[0];
	assert_int_equal(write(other, "d", 1), 1);
	assert_int_equal(io_case_on_fiber(data_is_there, 0), 0);
	close(nv[0]);
	close(nv[1]);
}

static void test_reused_number(void **s)
{
	run_case(reused_number);
}
static void test_request_response(void **s)
{
	run_case(request_response);
}
static void test_full_reads(void **s)
{
	run_case(full_reads);
}
static void test_datagrams(void **s)
{
	run_case(datagrams);
}
static void test_poll_after_consumed(void **s)
{
	run_case(poll_after_consumed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reused_number),       cmocka_unit_test(test_request_response),
	    cmocka_unit_test(test_full_reads),          cmocka_unit_test(test_datagrams),
	    cmocka_unit_test(test_poll_after_consumed), cmocka_unit_test(test_closed_elsewhere),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rf_shutdown();
	return rc;
}
