/* perf/io: the io_uring features servers use, each beside the plain path in one run.
 *   send_zc_4k / _64k / _1m: a fiber on worker 0 sends chunks of that size over loopback
 *             TCP with untimed rf_io_send while a plain thread drains the other end;
 *             one op = one chunk. Impls: `copy` (plain send), `zc` (SEND_ZC, the call
 *             returning at the kernel's notification). Where zc wins sets io_set_zc_min.
 *   accept_rate: a plain thread opens connections in bursts of 32, then waits for the
 *             server's close of each; a fiber takes each and closes it; one op = one
 *             connection. Impls:
 *             `listener_multishot` (rf_io_listener, one multishot request),
 *             `listener_oneshot` (rf_io_listener with one request per connection, as on a
 *             kernel without multishot accept), `accept` (rf_io_accept).
 *   recv_pool: 64-byte echo over one loopback TCP connection (a plain thread sends and
 *             waits for the reply; a fiber receives and replies); one op = one round
 *             trip. Impls: `reader_bufring` (rf_io_reader: multishot recv into the
 *             worker's buffer ring), `recv` (rf_io_recv into the connection's own buffer).
 *   uring_files: on a private ring (no executor), one op = a 64-byte send SQE and a
 *             recv SQE over a loopback TCP connection, submitted and reaped together
 *             (one io_uring_enter). Impls: `plain`, `fixed_files` (both descriptors
 *             registered, IOSQE_FIXED_FILE), `ring_fd` (io_uring_register_ring_fd),
 *             `both`: what registered files and a registered ring fd save per request.
 * On io_uring (the default); under RF_IO_BACKEND=epoll every impl takes the plain path.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "io/backend.h"
#include "io/io_impl.h"
#include "ringfold.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/wait.h"

static int tcp_listen(struct sockaddr_in *a)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	*a = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(*a);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)a, len) || listen(fd, 512) ||
	    getsockname(fd, (struct sockaddr *)a, &len))
		abort();
	return fd;
}

static void tcp_pair(int sv[2])
{
	struct sockaddr_in a;
	int l = tcp_listen(&a);
	sv[1] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (connect(sv[1], (struct sockaddr *)&a, sizeof(a)))
		abort();
	sv[0] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (sv[0] < 0)
		abort();
	int one = 1;
	setsockopt(sv[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(sv[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	close(l);
}

struct job {
	uint64_t ops;
	size_t size;
	int fd;
	int impl;
	struct sockaddr_in addr;
	int lfd;
	waiter done;
};

static void finish(struct job *j)
{
	if (waiter_claim(&j->done))
		waiter_complete(&j->done);
}

/* Spawn fn on worker 0, run thread_fn on this thread, wait for both. */
static uint64_t run_pair(struct job *j, void (*fn)(void *), void *(*thread_fn)(void *))
{
	waiter_init(&j->done);
	uint64_t t0 = bench_now_ns();
	pthread_t th;
	if (pthread_create(&th, NULL, thread_fn, j) || fiber_spawn(fn, j, 0, NULL))
		abort();
	waiter_wait(&j->done, DEADLINE_NONE);
	pthread_join(th, NULL);
	return bench_now_ns() - t0;
}

/* ---- send_zc ---- */

static void zc_sender(void *p)
{
	struct job *j = p;
	char *buf = malloc(j->size);
	memset(buf, 'z', j->size);
	for (uint64_t i = 0; i < j->ops; i++)
		for (size_t off = 0; off < j->size;) {
			ssize_t n = rf_io_send(j->fd, buf + off, j->size - off, 0);
			if (n <= 0)
				abort();
			off += (size_t)n;
		}
	free(buf);
	finish(j);
}

static void *drain(void *p)
{
	struct job *j = p;
	static char sink[1 << 20];
	uint64_t want = j->ops * j->size;
	for (uint64_t got = 0; got < want;) {
		ssize_t n = recv(j->fd, sink, sizeof(sink), 0);
		if (n <= 0)
			abort();
		got += (uint64_t)n;
	}
	return NULL;
}

static int zc_peer_fd;

static void *drain_peer(void *p)
{
	struct job j = *(struct job *)p;
	j.fd = zc_peer_fd;
	return drain(&j);
}

static uint64_t run_send(uint64_t ops, void *arg)
{
	struct job *proto = arg;
	int sv[2];
	tcp_pair(sv);
	struct job j = *proto;
	j.ops = ops;
	j.fd = sv[1];
	zc_peer_fd = sv[0];
	io_set_zc_min(j.impl ? 0 : SIZE_MAX);
	uint64_t el = run_pair(&j, zc_sender, drain_peer);
	io_set_zc_min(SIZE_MAX);
	close(sv[0]);
	close(sv[1]);
	return el;
}

/* ---- accept_rate ---- */

enum { BURST = 32 };

static void *connector(void *p)
{
	struct job *j = p;
	int fds[BURST];
	for (uint64_t i = 0; i < j->ops; i += BURST) {
		int n = j->ops - i < BURST ? (int)(j->ops - i) : BURST;
		for (int k = 0; k < n; k++) {
			fds[k] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (fds[k] < 0 ||
			    connect(fds[k], (struct sockaddr *)&j->addr, sizeof(j->addr)))
				abort();
		}
		/* The server closes first: TIME_WAIT stays on its side, so the run does not
		 * eat the ephemeral ports. */
		for (int k = 0; k < n; k++) {
			char c;
			if (recv(fds[k], &c, 1, 0) != 0)
				abort();
			close(fds[k]);
		}
	}
	return NULL;
}

static void taker(void *p)
{
	struct job *j = p;
	rf_io_listener *l = NULL;
	if (j->impl < 2 && rf_io_listener_new(j->lfd, SOCK_CLOEXEC, 64, &l))
		abort();
	for (uint64_t i = 0; i < j->ops; i++) {
		int fd =
		    l ? rf_io_listener_accept(l) : rf_io_accept(j->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			abort();
		close(fd);
	}
	rf_io_listener_free(l);
	finish(j);
}

static uint64_t run_accept(uint64_t ops, void *arg)
{
	struct job j = *(struct job *)arg;
	j.ops = ops;
	j.lfd = tcp_listen(&j.addr);
	io_test_uring_off(j.impl == 1 ? URF_MS_ACCEPT : 0);
	uint64_t el = run_pair(&j, taker, connector);
	io_test_uring_off(0);
	close(j.lfd);
	return el;
}

/* ---- recv_pool ---- */

enum { MSG = 64 };

static void *client(void *p)
{
	struct job *j = p;
	char m[MSG];
	memset(m, 'm', MSG);
	for (uint64_t i = 0; i < j->ops; i++) {
		if (send(j->fd, m, MSG, 0) != MSG)
			abort();
		for (size_t got = 0; got < MSG;) {
			ssize_t n = recv(j->fd, m + got, MSG - got, 0);
			if (n <= 0)
				abort();
			got += (size_t)n;
		}
	}
	return NULL;
}

static int echo_fd;

static void echo(void *p)
{
	struct job *j = p;
	uint64_t bytes = j->ops * MSG;
	if (j->impl == 0) {
		rf_io_bufpool *pool;
		rf_io_reader *r;
		if (rf_io_bufpool_new(4096, 64, &pool) || rf_io_reader_new(echo_fd, pool, &r))
			abort();
		for (uint64_t got = 0; got < bytes;) {
			rf_io_buf b;
			ssize_t n = rf_io_reader_recv(r, &b);
			if (n <= 0 || rf_io_send(echo_fd, b.data, (size_t)n, 0) != n)
				abort();
			rf_io_buf_return(&b);
			got += (uint64_t)n;
		}
		rf_io_reader_free(r);
		rf_io_bufpool_free(pool);
	} else {
		char buf[4096];
		for (uint64_t got = 0; got < bytes;) {
			ssize_t n = rf_io_recv(echo_fd, buf, sizeof(buf), 0);
			if (n <= 0 || rf_io_send(echo_fd, buf, (size_t)n, 0) != n)
				abort();
			got += (uint64_t)n;
		}
	}
	finish(j);
}

static uint64_t run_recv(uint64_t ops, void *arg)
{
	struct job j = *(struct job *)arg;
	j.ops = ops;
	int sv[2];
	tcp_pair(sv);
	echo_fd = sv[0];
	j.fd = sv[1];
	uint64_t el = run_pair(&j, echo, client);
	close(sv[0]);
	close(sv[1]);
	return el;
}

/* ---- uring_files ---- */

static uint64_t run_files(uint64_t ops, void *arg)
{
	int impl = (int)(intptr_t)arg; /* bit 0: fixed files, bit 1: registered ring fd */
	struct io_uring ring;
	if (io_uring_queue_init(8, &ring, 0))
		abort();
	int sv[2];
	tcp_pair(sv);
	int fds[2] = {sv[0], sv[1]};
	if ((impl & 1) && io_uring_register_files(&ring, fds, 2))
		abort();
	if ((impl & 2) && io_uring_register_ring_fd(&ring) < 0)
		abort();
	char out[MSG], in[MSG];
	memset(out, 'f', MSG);
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < ops; i++) {
		struct io_uring_sqe *a = io_uring_get_sqe(&ring), *b;
		io_uring_prep_send(a, impl & 1 ? 1 : sv[1], out, MSG, 0);
		a->flags |= IOSQE_IO_LINK | (impl & 1 ? IOSQE_FIXED_FILE : 0);
		b = io_uring_get_sqe(&ring);
		io_uring_prep_recv(b, impl & 1 ? 0 : sv[0], in, MSG, MSG_WAITALL);
		b->flags |= impl & 1 ? IOSQE_FIXED_FILE : 0;
		if (io_uring_submit_and_wait(&ring, 2) < 0)
			abort();
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;
		io_uring_for_each_cqe(&ring, head, cqe)
		{
			if (cqe->res != MSG)
				abort();
			n++;
		}
		io_uring_cq_advance(&ring, n);
		if (n != 2) { /* the recv's CQE came later: wait for it */
			if (io_uring_wait_cqe(&ring, &cqe) || cqe->res != MSG)
				abort();
			io_uring_cqe_seen(&ring, cqe);
		}
	}
	uint64_t el = bench_now_ns() - t0;
	io_uring_queue_exit(&ring);
	close(sv[0]);
	close(sv[1]);
	return el;
}

int main(int argc, char **argv)
{
	bench_init(argc, argv);
	static const struct {
		const char *name;
		size_t size;
		uint64_t ops;
	} sends[] = {
	    {"send_zc_4k", 4096, 8192},
	    {"send_zc_64k", 65536, 512},
	    {"send_zc_1m", 1 << 20, 32},
	};
	for (int i = 0; i < 3; i++) {
		if (!bench_wanted(sends[i].name))
			continue;
		struct job copy = {.size = sends[i].size, .impl = 0};
		struct job zc = {.size = sends[i].size, .impl = 1};
		bench_run(sends[i].name, "copy", sends[i].ops, run_send, &copy);
		bench_run(sends[i].name, "zc", sends[i].ops, run_send, &zc);
	}
	if (bench_wanted("accept_rate")) {
		static const char *impls[] = {"listener_multishot", "listener_oneshot", "accept"};
		for (int i = 0; i < 3; i++) {
			struct job j = {.impl = i};
			bench_run("accept_rate", impls[i], 2000, run_accept, &j);
		}
	}
	if (bench_wanted("recv_pool")) {
		struct job ring = {.impl = 0}, own = {.impl = 1};
		bench_run("recv_pool", "reader_bufring", 20000, run_recv, &ring);
		bench_run("recv_pool", "recv", 20000, run_recv, &own);
	}
	if (bench_wanted("uring_files") && io_kind() != RF_IO_EPOLL) {
		static const char *impls[] = {"plain", "fixed_files", "ring_fd", "both"};
		(void)run_files(20000, 0); /* a first run pays for a cold start: not reported */
		for (int i = 0; i < 4; i++)
			bench_run("uring_files", impls[i], 50000, run_files, (void *)(intptr_t)i);
	}
	rf_shutdown();
	return 0;
}
