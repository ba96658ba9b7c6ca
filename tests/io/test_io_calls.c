/* ringfold/io.h: every call on pipes, socketpairs, TCP loopback and files, with errors
 * and timeouts, once on a plain thread and once on a fiber (the backend the process
 * chose: io_uring, or epoll under the @epoll run and the no-uring runs).
 *
 * Each case is a function returning 0, or the line of the first failed check, so that
 * it can run on a fiber (where cmocka's longjmp must not be used) and be asserted from
 * the test thread.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "io/io_case.h"

#include "ringfold.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/wait.h"

#define MS 1000000ull

/* ---- helpers ---- */

static int tcp_listener(struct sockaddr_in *addr, int flags)
{
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
	*addr =
	    (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(*addr);
	if (l < 0 || bind(l, (struct sockaddr *)addr, len) || listen(l, 64) ||
	    getsockname(l, (struct sockaddr *)addr, &len))
		return -1;
	return l;
}

/* A thread that writes `n` bytes of `c` into fd (what a peer outside the executor does). */
struct feeder {
	int fd;
	int n;
	char c;
	pthread_t t;
};

static void *feed(void *p)
{
	struct feeder *f = p;
	for (int i = 0; i < f->n; i++)
		if (write(f->fd, &f->c, 1) != 1)
			break;
	return NULL;
}

/* ---- cases ---- */

static int pipe_rw(void)
{
	int p[2];
	RF_CHECK(pipe2(p, O_CLOEXEC) == 0);
	RF_CHECK(rf_io_write(p[1], "hello", 5) == 5);
	char b[16] = {0};
	RF_CHECK(rf_io_read(p[0], b, sizeof(b)) == 5 && !memcmp(b, "hello", 5));
	struct iovec out[2] = {{"ab", 2}, {"cde", 3}};
	RF_CHECK(rf_io_writev(p[1], out, 2) == 5);
	char x[2], y[8];
	struct iovec in[2] = {{x, 2}, {y, 8}};
	RF_CHECK(rf_io_readv(p[0], in, 2) == 5 && !memcmp(x, "ab", 2) && !memcmp(y, "cde", 3));
	RF_CHECK(rf_io_writev_timeout(p[1], out, 1, 1000) == 2);
	RF_CHECK(rf_io_readv_timeout(p[0], in, 1, 1000) == 2);
	RF_CHECK(rf_io_pollfd(p[1], POLLOUT) & POLLOUT);
	RF_CHECK(rf_io_close(p[1]) == 0);
	RF_CHECK(rf_io_read(p[0], b, sizeof(b)) == 0); /* end of file */
	RF_CHECK(rf_io_pollfd_timeout(p[0], POLLIN, 1000) & (POLLIN | POLLHUP));
	RF_CHECK(rf_io_close(p[0]) == 0);
	return 0;
}

static int pipe_timeouts(void)
{
	int p[2];
	char b[8];
	RF_CHECK(pipe2(p, O_CLOEXEC) == 0);
	uint64_t t0 = time_now_ns();
	RF_CHECK(rf_io_read_timeout(p[0], b, 1, 50) == -ETIMEDOUT);
	RF_CHECK(time_now_ns() - t0 >= 50 * MS);
	RF_CHECK(rf_io_read_timeout(p[0], b, 1, 0) == -ETIMEDOUT);
	RF_CHECK(rf_io_read_timeout(p[0], b, 1, -1) == -EINVAL);
	RF_CHECK(rf_io_pollfd_timeout(p[0], POLLIN, 20) == -ETIMEDOUT);
	RF_CHECK(rf_io_pollfd_timeout(p[0], POLLIN, 0) == -ETIMEDOUT);
	RF_CHECK(rf_io_pollfd_timeout(p[0], POLLIN, -5) == -EINVAL);
	/* Fill the pipe, then a write must time out having written nothing. */
	RF_CHECK(fcntl(p[1], F_SETPIPE_SZ, 4096) >= 4096);
	static char big[1 << 16];
	ssize_t n;
	while ((n = rf_io_write_timeout(p[1], big, sizeof(big), 0)) > 0)
		;
	RF_CHECK(n == -ETIMEDOUT);
	RF_CHECK(rf_io_write_timeout(p[1], big, 1, 30) == -ETIMEDOUT);
	/* The data is intact: drain it and the pipe works again. */
	while (rf_io_read_timeout(p[0], big, sizeof(big), 0) > 0)
		;
	RF_CHECK(rf_io_write_timeout(p[1], "z", 1, 1000) == 1);
	RF_CHECK(rf_io_read_timeout(p[0], b, 8, 1000) == 1 && b[0] == 'z');
	close(p[0]);
	close(p[1]);
	return 0;
}

static int pipe_errors(void)
{
	int p[2];
	char b[4];
	RF_CHECK(pipe2(p, O_CLOEXEC) == 0);
	RF_CHECK(rf_io_close(p[0]) == 0);
	RF_CHECK(rf_io_write(p[1], "x", 1) == -EPIPE); /* SIGPIPE is ignored by main() */
	RF_CHECK(rf_io_close(p[1]) == 0);
	RF_CHECK(rf_io_close(p[1]) == -EBADF);
	RF_CHECK(rf_io_read(p[0], b, 1) == -EBADF);
	RF_CHECK(rf_io_write(p[1], b, 1) == -EBADF);
	RF_CHECK(rf_io_read_timeout(p[0], b, 1, 100) == -EBADF);
	RF_CHECK(rf_io_pollfd_timeout(p[0], POLLIN, 100) == -EBADF);
	RF_CHECK(rf_io_readv(p[0], NULL, -1) == -EINVAL);
	RF_CHECK(rf_io_recv(-1, b, 1, 0) == -EBADF);
	RF_CHECK(rf_io_fsync(-1) == -EBADF);
	/* recv on a pipe is not a socket. */
	RF_CHECK(pipe2(p, O_CLOEXEC) == 0);
	RF_CHECK(rf_io_write(p[1], "x", 1) == 1);
	RF_CHECK(rf_io_recv(p[0], b, 1, 0) == -ENOTSOCK);
	close(p[0]);
	close(p[1]);
	return 0;
}

/* A pty: a file without RWF_NOWAIT (as pipes are before Linux 6.x), so the epoll and
 * thread paths wait for readiness and then make the plain call. */
static int pty_calls(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	RF_CHECK(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0);
	int s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
	RF_CHECK(s >= 0);
	struct termios t;
	RF_CHECK(tcgetattr(s, &t) == 0);
	cfmakeraw(&t);
	RF_CHECK(tcsetattr(s, TCSANOW, &t) == 0);
	char b[16];
	RF_CHECK(rf_io_read_timeout(m, b, sizeof(b), 30) == -ETIMEDOUT);
	RF_CHECK(rf_io_read_timeout(m, b, sizeof(b), 0) == -ETIMEDOUT);
	RF_CHECK(rf_io_write_timeout(s, "tty", 3, 1000) == 3);
	RF_CHECK(rf_io_read_timeout(m, b, sizeof(b), 5000) == 3 && !memcmp(b, "tty", 3));
	RF_CHECK(rf_io_write(m, "in", 2) == 2);
	RF_CHECK(rf_io_pollfd_timeout(s, POLLIN, 5000) & POLLIN);
	RF_CHECK(rf_io_read(s, b, sizeof(b)) == 2 && !memcmp(b, "in", 2));
	close(s);
	close(m);
	return 0;
}

/* O_NONBLOCK descriptors still wait; a writer thread supplies the data. */
static int nonblocking_fd_waits(void)
{
	int p[2];
	RF_CHECK(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0);
	struct feeder f = {.fd = p[1], .n = 3, .c = 'q'};
	RF_CHECK(pthread_create(&f.t, NULL, feed, &f) == 0);
	char b;
	for (int i = 0; i < 3; i++)
		RF_CHECK(rf_io_read(p[0], &b, 1) == 1 && b == 'q');
	pthread_join(f.t, NULL);
	RF_CHECK(rf_io_read_timeout(p[0], &b, 1, 0) == -ETIMEDOUT);
	close(p[0]);
	close(p[1]);
	return 0;
}

static int socketpair_calls(void)
{
	int s[2];
	char b[16];
	RF_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s) == 0);
	RF_CHECK(rf_io_recv(s[0], b, 1, MSG_DONTWAIT) == -EAGAIN);
	RF_CHECK(rf_io_recv_timeout(s[0], b, 1, 0, 30) == -ETIMEDOUT);
	RF_CHECK(rf_io_send(s[1], "ping", 4, 0) == 4);
	RF_CHECK(rf_io_pollfd(s[0], POLLIN) & POLLIN);
	RF_CHECK(rf_io_recv(s[0], b, sizeof(b), MSG_PEEK) == 4);
	RF_CHECK(rf_io_recv(s[0], b, sizeof(b), 0) == 4 && !memcmp(b, "ping", 4));
	RF_CHECK(rf_io_send_timeout(s[0], "pong", 4, 0, 1000) == 4);
	RF_CHECK(rf_io_read(s[1], b, sizeof(b)) == 4 && !memcmp(b, "pong", 4));
	RF_CHECK(rf_io_write(s[1], "r", 1) == 1);
	RF_CHECK(rf_io_recv_timeout(s[0], b, 1, 0, 1000) == 1 && b[0] == 'r');
	RF_CHECK(rf_io_close(s[1]) == 0);
	RF_CHECK(rf_io_recv(s[0], b, 1, 0) == 0);        /* orderly close */
	RF_CHECK(rf_io_send(s[0], "x", 1, 0) == -EPIPE); /* no SIGPIPE: MSG_NOSIGNAL */
	RF_CHECK(rf_io_close(s[0]) == 0);
	return 0;
}

static int tcp_loopback(void)
{
	struct sockaddr_in a;
	char b[64];
	int l = tcp_listener(&a, 0);
	RF_CHECK(l >= 0);
	RF_CHECK(rf_io_accept_timeout(l, NULL, NULL, 0, 30) == -ETIMEDOUT);
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	RF_CHECK(rf_io_connect(c, (struct sockaddr *)&a, sizeof(a)) == 0);
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	int s = rf_io_accept(l, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
	RF_CHECK(s >= 0 && plen == sizeof(peer) && peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	RF_CHECK(rf_io_send(c, "GET", 3, 0) == 3);
	RF_CHECK(rf_io_recv(s, b, 3, MSG_WAITALL) == 3 && !memcmp(b, "GET", 3));
	RF_CHECK(rf_io_send(s, "OK", 2, 0) == 2);
	RF_CHECK(rf_io_recv(c, b, sizeof(b), 0) == 2 && !memcmp(b, "OK", 2));

	/* Peer reset: SO_LINGER 0 makes close send RST. */
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	RF_CHECK(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == 0);
	RF_CHECK(rf_io_close(s) == 0);
	RF_CHECK(rf_io_pollfd_timeout(c, POLLIN, 5000) > 0);
	RF_CHECK(rf_io_recv(c, b, sizeof(b), 0) == -ECONNRESET);
	ssize_t r = rf_io_send(c, "x", 1, 0);
	RF_CHECK(r == -EPIPE || r == -ECONNRESET);
	RF_CHECK(rf_io_close(c) == 0);

	/* Non-blocking listener and client: accept and connect still wait. */
	int l2 = tcp_listener(&a, SOCK_NONBLOCK);
	RF_CHECK(l2 >= 0);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	RF_CHECK(rf_io_connect_timeout(c, (struct sockaddr *)&a, sizeof(a), 5000) == 0);
	s = rf_io_accept_timeout(l2, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC, 5000);
	RF_CHECK(s >= 0);
	RF_CHECK(rf_io_write(c, "abc", 3) == 3);
	RF_CHECK(rf_io_read(s, b, sizeof(b)) == 3);
	close(s);
	close(c);
	close(l2);

	/* Nobody listening: refused. */
	RF_CHECK(rf_io_close(l) == 0);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	RF_CHECK(rf_io_connect(c, (struct sockaddr *)&a, sizeof(a)) == -ECONNREFUSED);
	close(c);
	RF_CHECK(rf_io_accept(l, NULL, NULL, 0) == -EBADF);
	return 0;
}

static int files(void)
{
	char path[] = "/tmp/rf_io_test_XXXXXX";
	int fd = mkstemp(path);
	RF_CHECK(fd >= 0);
	unlink(path);
	char b[32] = {0};
	RF_CHECK(rf_io_write(fd, "0123456789", 10) == 10);
	RF_CHECK(rf_io_pwrite(fd, "AB", 2, 4) == 2);
	RF_CHECK(rf_io_pread(fd, b, 10, 0) == 10 && !memcmp(b, "0123AB6789", 10));
	RF_CHECK(rf_io_pread(fd, b, 10, 100) == 0); /* past the end */
	RF_CHECK(rf_io_read(fd, b, 10) == 0);       /* file position is at the end */
	RF_CHECK(lseek(fd, 2, SEEK_SET) == 2);
	RF_CHECK(rf_io_read(fd, b, 3) == 3 && !memcmp(b, "23A", 3));
	RF_CHECK(rf_io_read_timeout(fd, b, 2, 1000) == 2 && !memcmp(b, "B6", 2));
	struct iovec v[2] = {{"xy", 2}, {"z", 1}};
	RF_CHECK(rf_io_writev(fd, v, 2) == 3);
	RF_CHECK(rf_io_pread(fd, b, 12, 0) == 10 && !memcmp(b, "0123AB6xyz", 10));
	RF_CHECK(rf_io_fsync(fd) == 0);
	RF_CHECK(rf_io_pollfd_timeout(fd, POLLIN, 1000) & POLLIN);
	RF_CHECK(rf_io_pread(fd, b, 1, -1) == -EINVAL);
	RF_CHECK(rf_io_pwrite(fd, b, 1, -1) == -EINVAL);
	RF_CHECK(rf_io_close(fd) == 0);
	RF_CHECK(rf_io_pread(fd, b, 1, 0) == -EBADF);
	RF_CHECK(rf_io_pwrite(fd, b, 1, 0) == -EBADF);
	RF_CHECK(rf_io_fsync(fd) == -EBADF);
	/* Writing to a read-only file. */
	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	RF_CHECK(fd >= 0);
	RF_CHECK(rf_io_write(fd, "x", 1) == -EBADF);
	RF_CHECK(rf_io_read(fd, b, sizeof(b)) > 0);
	close(fd);
	return 0;
}

static int sleeping(void)
{
	uint64_t t0 = time_now_ns();
	RF_CHECK(rf_sleep_ms(20) == 0);
	RF_CHECK(time_now_ns() - t0 >= 20 * MS);
	RF_CHECK(rf_sleep_ms(0) == 0);
	RF_CHECK(rf_sleep_ms(-1) == -EINVAL);
	return 0;
}

static int square_body(rf_val arg, rf_val *out)
{
	usleep(1000); /* a call that really blocks its thread */
	*out = arg * arg;
	return arg < 0 ? -ERANGE : 0;
}

static int blocking_calls(void)
{
	rf_val out = 7;
	RF_CHECK(rf_blocking(square_body, 12, &out) == 0 && out == 144);
	RF_CHECK(rf_blocking(square_body, -3, &out) == -ERANGE && out == 9);
	RF_CHECK(rf_blocking(square_body, 2, NULL) == 0);
	RF_CHECK(rf_blocking(NULL, 2, &out) == -EINVAL);
	return 0;
}

/* Many fibers wait on one pipe at once (several waiters on one fd in epoll's fd table,
 * one SQE each under io_uring); a thread feeds them one byte each, and each gets one.
 * Half of them also set a timeout that will not expire. */
enum { MANY = 64 };

struct many {
	int fd;
	_Atomic int got;
	_Atomic int bad;
	waiter done;
};

static void many_reader(void *p)
{
	struct many *m = p;
	static _Atomic int nth;
	char c;
	ssize_t n = atomic_fetch_add_explicit(&nth, 1, memory_order_relaxed) % 2
	                ? rf_io_read(m->fd, &c, 1)
	                : rf_io_read_timeout(m->fd, &c, 1, 20000);
	if (n != 1 || c != 'm')
		atomic_fetch_add_explicit(&m->bad, 1, memory_order_relaxed);
	/* acq_rel: the last reader sees every other reader's result. */
	if (atomic_fetch_add_explicit(&m->got, 1, memory_order_acq_rel) == MANY - 1 &&
	    waiter_claim(&m->done))
		waiter_complete(&m->done);
}

static void test_many_fibers_one_fd(void **s)
{
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	struct many m = {.fd = p[0]};
	waiter_init(&m.done);
	for (int i = 0; i < MANY; i++) {
		assert_int_equal(fiber_spawn(many_reader, &m, i % 2 ? SCHED_WORKER_ANY : 0, NULL),
		                 0);
	}
	struct feeder f = {.fd = p[1], .n = MANY, .c = 'm'};
	feed(&f);
	assert_int_equal(waiter_wait(&m.done, time_deadline_after_ms(20000)), 0);
	assert_int_equal(atomic_load(&m.bad), 0);
	assert_int_equal(rf_io_read_timeout(p[0], &f.c, 1, 0), -ETIMEDOUT); /* all consumed */
	close(p[0]);
	close(p[1]);
}

/* A fiber closes an fd another fiber of the same worker is reading: the reader gets
 * -EBADF whichever of them runs first (closed while waiting, or before it started). */
struct closing {
	int fd;
	_Atomic ssize_t res;
	_Atomic int close_rc;
	_Atomic int left;
	waiter done;
};

static void closing_end(struct closing *c)
{
	if (atomic_fetch_sub_explicit(&c->left, 1, memory_order_acq_rel) == 1 &&
	    waiter_claim(&c->done))
		waiter_complete(&c->done);
}

static void closing_reader(void *p)
{
	struct closing *c = p;
	char b;
	atomic_store_explicit(&c->res, rf_io_read(c->fd, &b, 1), memory_order_relaxed);
	closing_end(c);
}

static void closing_closer(void *p)
{
	struct closing *c = p;
	fiber_yield();
	atomic_store_explicit(&c->close_rc, rf_io_close(c->fd), memory_order_relaxed);
	closing_end(c);
}

static void test_close_wakes_reader(void **s)
{
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	struct closing c = {.fd = p[0]};
	atomic_init(&c.left, 2);
	waiter_init(&c.done);
	assert_int_equal(fiber_spawn(closing_reader, &c, 0, NULL), 0);
	assert_int_equal(fiber_spawn(closing_closer, &c, 0, NULL), 0);
	assert_int_equal(waiter_wait(&c.done, time_deadline_after_ms(20000)), 0);
	assert_int_equal(atomic_load(&c.res), -EBADF);
	assert_int_equal(atomic_load(&c.close_rc), 0);
	close(p[1]);
}

/* A TCP echo service on fibers: one acceptor, one echo fiber per connection, CLIENTS
 * client fibers spread over the workers, each sending ROUNDS messages and checking
 * every echo. Every byte comes back exactly once, on whichever backend was chosen. */
enum { CLIENTS = 32, ROUNDS = 50 };

struct echo {
	int listener;
	struct sockaddr_in addr;
	_Atomic int bad;
	_Atomic int left; /* clients still running */
	waiter done;
};

static void echo_conn(void *p)
{
	int fd = (int)(intptr_t)p;
	char b[64];
	ssize_t n;
	while ((n = rf_io_recv(fd, b, sizeof(b), 0)) > 0)
		for (ssize_t off = 0; off < n;) {
			ssize_t w = rf_io_send(fd, b + off, (size_t)(n - off), 0);
			if (w <= 0)
				break;
			off += w;
		}
	rf_io_close(fd);
}

static void echo_acceptor(void *p)
{
	struct echo *e = p;
	for (int i = 0; i < CLIENTS; i++) {
		int fd = rf_io_accept(e->listener, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0 ||
		    fiber_spawn(echo_conn, (void *)(intptr_t)fd, SCHED_WORKER_ANY, NULL)) {
			atomic_fetch_add_explicit(&e->bad, 1, memory_order_relaxed);
			return;
		}
	}
}

static void echo_client(void *p)
{
	struct echo *e = p;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = fd >= 0 && rf_io_connect(fd, (struct sockaddr *)&e->addr, sizeof(e->addr)) == 0;
	for (int i = 0; ok && i < ROUNDS; i++) {
		char msg[16], got[16];
		int len = snprintf(msg, sizeof(msg), "%d:%d", fd, i); /* < 16 chars */
		ok = rf_io_send(fd, msg, (size_t)len, 0) == len &&
		     rf_io_recv_timeout(fd, got, (size_t)len, MSG_WAITALL, 20000) == len &&
		     !memcmp(msg, got, (size_t)len);
	}
	if (!ok)
		atomic_fetch_add_explicit(&e->bad, 1, memory_order_relaxed);
	if (fd >= 0)
		rf_io_close(fd);
	if (atomic_fetch_sub_explicit(&e->left, 1, memory_order_acq_rel) == 1 &&
	    waiter_claim(&e->done))
		waiter_complete(&e->done);
}

static void test_tcp_echo_fibers(void **s)
{
	struct echo e = {0};
	e.listener = tcp_listener(&e.addr, 0);
	assert_true(e.listener >= 0);
	atomic_init(&e.left, CLIENTS);
	waiter_init(&e.done);
	assert_int_equal(fiber_spawn(echo_acceptor, &e, 0, NULL), 0);
	for (int i = 0; i < CLIENTS; i++)
		assert_int_equal(fiber_spawn(echo_client, &e, SCHED_WORKER_ANY, NULL), 0);
	assert_int_equal(waiter_wait(&e.done, time_deadline_after_ms(20000)), 0);
	assert_int_equal(atomic_load(&e.bad), 0);
	close(e.listener);
}

/* rf_blocking runs on an elastic pool: 64 fibers each blocking a thread for 500 ms
 * finish together: the bound, 10 s, is far from both the 32 s they would take one
 * after another and the 0.5 s they take at best. */
enum { BLOCKERS = 64 };

static int nap_body(rf_val arg, rf_val *out)
{
	struct timespec ts = {0, 500000000};
	nanosleep(&ts, NULL);
	*out = arg + 1;
	return 0;
}

struct blockers {
	_Atomic int bad;
	_Atomic int left;
	waiter done;
};

static void blocker(void *p)
{
	struct blockers *b = p;
	rf_val out;
	if (rf_blocking(nap_body, 41, &out) != 0 || out != 42)
		atomic_fetch_add_explicit(&b->bad, 1, memory_order_relaxed);
	if (atomic_fetch_sub_explicit(&b->left, 1, memory_order_acq_rel) == 1 &&
	    waiter_claim(&b->done))
		waiter_complete(&b->done);
}

static void test_blocking_pool_is_elastic(void **s)
{
	struct blockers b = {0};
	atomic_init(&b.left, BLOCKERS);
	waiter_init(&b.done);
	uint64_t t0 = time_now_ns();
	for (int i = 0; i < BLOCKERS; i++)
		assert_int_equal(fiber_spawn(blocker, &b, SCHED_WORKER_ANY, NULL), 0);
	assert_int_equal(waiter_wait(&b.done, time_deadline_after_ms(20000)), 0);
	assert_int_equal(atomic_load(&b.bad), 0);
	assert_true(time_now_ns() - t0 < 10000 * MS);
}

#define CASE(name)                                                                                 \
	static void test_##name(void **s)                                                          \
	{                                                                                          \
		run_case(name);                                                                    \
	}
CASE(pipe_rw)
CASE(pipe_timeouts)
CASE(pipe_errors)
CASE(nonblocking_fd_waits)
CASE(pty_calls)
CASE(socketpair_calls)
CASE(tcp_loopback)
CASE(files)
CASE(sleeping)
CASE(blocking_calls)

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pipe_rw),
	    cmocka_unit_test(test_pipe_timeouts),
	    cmocka_unit_test(test_pipe_errors),
	    cmocka_unit_test(test_nonblocking_fd_waits),
	    cmocka_unit_test(test_socketpair_calls),
	    cmocka_unit_test(test_pty_calls),
	    cmocka_unit_test(test_tcp_loopback),
	    cmocka_unit_test(test_files),
	    cmocka_unit_test(test_sleeping),
	    cmocka_unit_test(test_blocking_calls),
	    cmocka_unit_test(test_many_fibers_one_fd),
	    cmocka_unit_test(test_close_wakes_reader),
	    cmocka_unit_test(test_tcp_echo_fibers),
	    cmocka_unit_test(test_blocking_pool_is_elastic),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rf_shutdown();
	return rc;
}
