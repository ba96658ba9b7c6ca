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

#include "io/io_case.h"
#include "ringfold.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/wait.h"

#define MS 1000000ull

static int msg_calls(void)
{
	int sv[2];
	RF_CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) == 0);
	struct iovec out[2] = {{"ab", 2}, {"cde", 3}};
	struct msghdr m = {.msg_iov = out, .msg_iovlen = 2};
	RF_CHECK(rf_io_sendmsg(sv[1], &m, 0) == 5);
	char a[2], b[10];
	struct iovec in[2] = {{a, sizeof(a)}, {b, sizeof(b)}};
	struct msghdr r = {.msg_iov = in, .msg_iovlen = 2};
	RF_CHECK(rf_io_recvmsg(sv[0], &r, 0) == 5);
	RF_CHECK(!memcmp(a, "ab", 2) && !memcmp(b, "cde", 3));
	RF_CHECK(rf_io_recvmsg_timeout(sv[0], &r, 0, 20) == -ETIMEDOUT);
	RF_CHECK(rf_io_recvmsg(sv[0], &r, MSG_DONTWAIT) == -EAGAIN);
	RF_CHECK(rf_io_recvmsg(sv[0], NULL, 0) == -EINVAL);
	RF_CHECK(rf_io_sendmsg_timeout(sv[1], NULL, 0, 10) == -EINVAL);
	RF_CHECK(rf_io_recvmsg_timeout(sv[0], &r, 0, -1) == -EINVAL);
	RF_CHECK(rf_io_close(sv[0]) == 0 && rf_io_close(sv[1]) == 0);
	return 0;
}

static int shutdown_calls(void)
{
	int sv[2], p[2];
	char c;
	RF_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	RF_CHECK(rf_io_shutdown(sv[0], SHUT_WR) == 0);
	RF_CHECK(rf_io_recv_timeout(sv[1], &c, 1, 0, 20000) == 0); /* the peer sees the end */
	RF_CHECK(rf_io_send(sv[1], "x", 1, 0) == 1);               /* the other direction lives */
	RF_CHECK(rf_io_recv(sv[0], &c, 1, 0) == 1 && c == 'x');
	RF_CHECK(rf_io_shutdown(sv[0], 7) == -EINVAL);
	RF_CHECK(pipe(p) == 0);
	RF_CHECK(rf_io_shutdown(p[0], SHUT_RD) == -ENOTSOCK);
	RF_CHECK(rf_io_close(p[0]) == 0 && rf_io_close(p[1]) == 0);
	RF_CHECK(rf_io_close(sv[0]) == 0 && rf_io_close(sv[1]) == 0);
	return 0;
}

enum { FILE_BYTES = 100000 };

/* A file to a socket through a pipe, as a server sends a file; the peer checks it. */
static int splice_calls(void)
{
	char path[] = "/tmp/rf_splice_XXXXXX";
	int f = mkstemp(path);
	RF_CHECK(f >= 0);
	unlink(path);
	static char data[FILE_BYTES], got[FILE_BYTES];
	for (int i = 0; i < FILE_BYTES; i++)
		data[i] = (char)(i * 7);
	RF_CHECK(write(f, data, FILE_BYTES) == FILE_BYTES);
	int p[2], sv[2];
	RF_CHECK(pipe(p) == 0);
	RF_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	int bufsz = 1 << 20;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	int64_t off = 0;
	size_t received = 0;
	while (off < FILE_BYTES) {
		ssize_t n = rf_io_splice(f, off, p[1], -1, FILE_BYTES - (size_t)off, SPLICE_F_MOVE);
		RF_CHECK(n > 0);
		off += n;
		for (ssize_t left = n; left > 0;) {
			ssize_t m = rf_io_splice(p[0], -1, sv[0], -1, (size_t)left, SPLICE_F_MOVE);
			RF_CHECK(m > 0);
			left -= m;
			while (received < (size_t)off - (size_t)left) {
				ssize_t k = rf_io_recv_timeout(sv[1], got + received,
				                               FILE_BYTES - received, 0, 20000);
				RF_CHECK(k > 0);
				received += (size_t)k;
			}
		}
	}
	RF_CHECK(received == FILE_BYTES && !memcmp(data, got, FILE_BYTES));
	RF_CHECK(rf_io_splice(f, FILE_BYTES, p[1], -1, 10, 0) == 0); /* end of the file */
	RF_CHECK(rf_io_splice(f, -2, p[1], -1, 10, 0) == -EINVAL);
	RF_CHECK(rf_io_splice(f, 0, p[1], -1, 10, SPLICE_F_NONBLOCK) == -EINVAL);
	RF_CHECK(rf_io_splice(p[0], 5, sv[0], -1, 10, 0) == -ESPIPE); /* a pipe has no offset */
	close(f);
	RF_CHECK(rf_io_close(p[0]) == 0 && rf_io_close(p[1]) == 0);
	RF_CHECK(rf_io_close(sv[0]) == 0 && rf_io_close(sv[1]) == 0);
	return 0;
}

static int deadline_spans_calls(void)
{
	int sv[2];
	char c;
	RF_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	RF_CHECK(rf_io_deadline_set(-1) == -EINVAL);
	RF_CHECK(rf_io_deadline_set(40) == 0);
	uint64_t t0 = time_now_ns();
	RF_CHECK(rf_io_recv(sv[0], &c, 1, 0) ==
	         -ETIMEDOUT); /* untimed call, bounded by the deadline */
	RF_CHECK(time_now_ns() - t0 >= 40 * MS);
	RF_CHECK(rf_io_recv_timeout(sv[0], &c, 1, 0, 60000) == -ETIMEDOUT); /* past: one try */
	RF_CHECK(rf_io_send(sv[1], "y", 1, 0) == 1);            /* room: one try succeeds */
	RF_CHECK(rf_io_recv(sv[0], &c, 1, 0) == 1 && c == 'y'); /* data: one try succeeds */
	rf_io_deadline_clear();
	RF_CHECK(rf_io_recv_timeout(sv[0], &c, 1, 0, 20) == -ETIMEDOUT); /* its own timeout again */
	RF_CHECK(rf_io_deadline_set(60000) == 0); /* a later deadline than the call's own */
	RF_CHECK(rf_io_recv_timeout(sv[0], &c, 1, 0, 20) == -ETIMEDOUT);
	rf_io_deadline_clear();
	RF_CHECK(rf_io_close(sv[0]) == 0 && rf_io_close(sv[1]) == 0);
	return 0;
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
