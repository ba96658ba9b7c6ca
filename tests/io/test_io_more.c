/* ringfold/io.h: recvmsg/sendmsg, shutdown, splice and the deadline that spans calls,
 * each on a plain thread and on a fiber (io_uring, or epoll under @epoll), with their
 * errors. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ringfold.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/wait.h"

#define MS 1000000ull
#define T(c)                                                                                       \
	do {                                                                                       \
		if (!(c))                                                                          \
			return __LINE__;                                                           \
	} while (0)

static int msg_calls(void)
{
	int sv[2];
	T(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) == 0);
	struct iovec out[2] = {{"ab", 2}, {"cde", 3}};
	struct msghdr m = {.msg_iov = out, .msg_iovlen = 2};
	T(rf_io_sendmsg(sv[1], &m, 0) == 5);
	char a[2], b[10];
	struct iovec in[2] = {{a, sizeof(a)}, {b, sizeof(b)}};
	struct msghdr r = {.msg_iov = in, .msg_iovlen = 2};
	T(rf_io_recvmsg(sv[0], &r, 0) == 5);
	T(!memcmp(a, "ab", 2) && !memcmp(b, "cde", 3));
	T(rf_io_recvmsg_timeout(sv[0], &r, 0, 20) == -ETIMEDOUT);
	T(rf_io_recvmsg(sv[0], &r, MSG_DONTWAIT) == -EAGAIN);
	T(rf_io_recvmsg(sv[0], NULL, 0) == -EINVAL);
	T(rf_io_sendmsg_timeout(sv[1], NULL, 0, 10) == -EINVAL);
	T(rf_io_recvmsg_timeout(sv[0], &r, 0, -1) == -EINVAL);
	T(rf_io_close(sv[0]) == 0 && rf_io_close(sv[1]) == 0);
	return 0;
}

static int shutdown_calls(void)
{
	int sv[2], p[2];
	char c;
	T(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	T(rf_io_shutdown(sv[0], SHUT_WR) == 0);
	T(rf_io_recv_timeout(sv[1], &c, 1, 0, 20000) == 0); /* the peer sees the end */
	T(rf_io_send(sv[1], "x", 1, 0) == 1);               /* the other direction lives */
	T(rf_io_recv(sv[0], &c, 1, 0) == 1 && c == 'x');
	T(rf_io_shutdown(sv[0], 7) == -EINVAL);
	T(pipe(p) == 0);
	T(rf_io_shutdown(p[0], SHUT_RD) == -ENOTSOCK);
	T(rf_io_close(p[0]) == 0 && rf_io_close(p[1]) == 0);
	T(rf_io_close(sv[0]) == 0 && rf_io_close(sv[1]) == 0);
	return 0;
}

enum { FILE_BYTES = 100000 };

/* A file to a socket through a pipe, as a server sends a file; the peer checks it. */
static int splice_calls(void)
{
	char path[] = "/tmp/rf_splice_XXXXXX";
	int f = mkstemp(path);
	T(f >= 0);
	unlink(path);
	static char data[FILE_BYTES], got[FILE_BYTES];
	for (int i = 0; i < FILE_BYTES; i++)
		data[i] = (char)(i * 7);
	T(write(f, data, FILE_BYTES) == FILE_BYTES);
	int p[2], sv[2];
	T(pipe(p) == 0);
	T(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	int bufsz = 1 << 20;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	int64_t off = 0;
	size_t received = 0;
	while (off < FILE_BYTES) {
		ssize_t n = rf_io_splice(f, off, p[1], -1, FILE_BYTES - (size_t)off, SPLICE_F_MOVE);
		T(n > 0);
		off += n;
		for (ssize_t left = n; left > 0;) {
			ssize_t m = rf_io_splice(p[0], -1, sv[0], -1, (size_t)left, SPLICE_F_MOVE);
			T(m > 0);
			left -= m;
			while (received < (size_t)off - (size_t)left) {
				ssize_t k = rf_io_recv_timeout(sv[1], got + received,
				                               FILE_BYTES - received, 0, 20000);
				T(k > 0);
				received += (size_t)k;
			}
		}
	}
	T(received == FILE_BYTES && !memcmp(data, got, FILE_BYTES));
	T(rf_io_splice(f, FILE_BYTES, p[1], -1, 10, 0) == 0); /* end of the file */
	T(rf_io_splice(f, -2, p[1], -1, 10, 0) == -EINVAL);
	T(rf_io_splice(f, 0, p[1], -1, 10, SPLICE_F_NONBLOCK) == -EINVAL);
	T(rf_io_splice(p[0], 5, sv[0], -1, 10, 0) == -ESPIPE); /* a pipe has no offset */
	close(f);
	T(rf_io_close(p[0]) == 0 && rf_io_close(p[1]) == 0);
	T(rf_io_close(sv[0]) == 0 && rf_io_close(sv[1]) == 0);
	return 0;
}

static int deadline_spans_calls(void)
{
	int sv[2];
	char c;
	T(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	T(rf_io_deadline_set(-1) == -EINVAL);
	T(rf_io_deadline_set(40) == 0);
	uint64_t t0 = time_now_ns();
	T(rf_io_recv(sv[0], &c, 1, 0) == -ETIMEDOUT); /* untimed call, bounded by the deadline */
	T(time_now_ns() - t0 >= 40 * MS);
	T(rf_io_recv_timeout(sv[0], &c, 1, 0, 60000) == -ETIMEDOUT); /* past: one try */
	T(rf_io_send(sv[1], "y", 1, 0) == 1);                        /* room: one try succeeds */
	T(rf_io_recv(sv[0], &c, 1, 0) == 1 && c == 'y');             /* data: one try succeeds */
	rf_io_deadline_clear();
	T(rf_io_recv_timeout(sv[0], &c, 1, 0, 20) == -ETIMEDOUT); /* its own timeout again */
	T(rf_io_deadline_set(60000) == 0); /* a later deadline than the call's own */
	T(rf_io_recv_timeout(sv[0], &c, 1, 0, 20) == -ETIMEDOUT);
	rf_io_deadline_clear();
	T(rf_io_close(sv[0]) == 0 && rf_io_close(sv[1]) == 0);
	return 0;
}

struct run {
	int (*fn)(void);
	int line;
	waiter done;
};

static void fiber_main(void *p)
{
	struct run *r = p;
	r->line = r->fn();
	if (waiter_claim(&r->done))
		waiter_complete(&r->done);
}

static void run_case(int (*fn)(void))
{
	assert_int_equal(fn(), 0);
	struct run r = {.fn = fn};
	waiter_init(&r.done);
	assert_int_equal(fiber_spawn(fiber_main, &r, SCHED_WORKER_ANY, NULL), 0);
	assert_int_equal(waiter_wait(&r.done, time_deadline_after_ms(60000)), 0);
	assert_int_equal(r.line, 0);
}

static void test_msg(void **s)
{
	run_case(msg_calls);
}
static void test_shutdown(void **s)
{
	run_case(shutdown_calls);
}
static void test_splice(void **s)
{
	run_case(splice_calls);
}
static void test_deadline(void **s)
{
	run_case(deadline_spans_calls);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_msg),
	    cmocka_unit_test(test_shutdown),
	    cmocka_unit_test(test_splice),
	    cmocka_unit_test(test_deadline),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rf_shutdown();
	return rc;
}
