/* rf_io_bufpool and rf_io_reader: a stream arrives whole and in order even when the
 * receiver holds more buffers than the pool has (the kernel's ring runs dry: -ENOBUFS,
 * heap buffers); idle readers hold no buffer, so a pool of two serves the two connections
 * that get data among many idle ones; buffers go back from another thread; the end of
 * the stream, a closed descriptor, timeouts, the spanning deadline, a cancel token and
 * bad input give their codes. Each on a plain thread, on a fiber, and on a fiber with the
 * optional io_uring features off, on io_uring (default) and epoll (@epoll). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "io/io_net.h"

enum { BYTES = 5000, BUF = 64, COUNT = 4, HOLD = 10 };

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 31 + 7);
}

static int stream(void)
{
	rf_io_bufpool *p;
	RF_CHECK(rf_io_bufpool_new(BUF, COUNT, &p) == 0);
	for (int tcp = 0; tcp < 2; tcp++) {
		int sv[2];
		if (tcp)
			net_pair(sv);
		else
			RF_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
		static unsigned char data[BYTES];
		for (size_t i = 0; i < BYTES; i++)
			data[i] = pattern(i);
		rf_io_reader *r;
		RF_CHECK(rf_io_reader_new(sv[0], p, &r) == 0);
		/* Half before the reader's first call, half after a call armed it. */
		RF_CHECK(rf_io_send(sv[1], data, BYTES / 2, 0) == BYTES / 2);
		rf_io_buf b;
		ssize_t n = rf_io_reader_recv_timeout(r, WAIT_MS, &b);
		RF_CHECK(n > 0 && b.data && b.len == (size_t)n);
		for (ssize_t k = 0; k < n; k++)
			RF_CHECK(((unsigned char *)b.data)[k] == pattern((size_t)k));
		RF_CHECK(rf_io_buf_return(&b) == 0);
		RF_CHECK(b.data == NULL && rf_io_buf_return(&b) == -EINVAL);
		RF_CHECK(rf_io_send(sv[1], data + BYTES / 2, BYTES - BYTES / 2, 0) ==
		         BYTES - BYTES / 2);
		/* Hold more buffers at a time than the pool has. */
		rf_io_buf held[HOLD];
		int nheld = 0;
		size_t got = (size_t)n;
		while (got < BYTES) {
			n = rf_io_reader_recv_timeout(r, WAIT_MS, &held[nheld]);
			RF_CHECK(n > 0 && (size_t)n == held[nheld].len && held[nheld].len <= BUF);
			for (ssize_t k = 0; k < n; k++)
				RF_CHECK(((unsigned char *)held[nheld].data)[k] ==
				         pattern(got + (size_t)k));
			got += (size_t)n;
			if (++nheld == HOLD)
				while (nheld)
					RF_CHECK(rf_io_buf_return(&held[--nheld]) == 0);
		}
		RF_CHECK(got == BYTES);
		while (nheld)
			RF_CHECK(rf_io_buf_return(&held[--nheld]) == 0);
		RF_CHECK(rf_io_reader_recv_timeout(r, 20, &b) == -ETIMEDOUT);
		RF_CHECK(rf_io_shutdown(sv[1], SHUT_WR) == 0);
		RF_CHECK(rf_io_reader_recv_timeout(r, WAIT_MS, &b) == 0); /* the end */
		RF_CHECK(rf_io_reader_recv_timeout(r, WAIT_MS, &b) == 0); /* and again */
		rf_io_reader_free(r);
		RF_CHECK(rf_io_close(sv[0]) == 0 && rf_io_close(sv[1]) == 0);
	}
	rf_io_bufpool_free(p);
	return 0;
}

static int bad_input(void)
{
	rf_io_bufpool *p;
	rf_io_reader *r;
	rf_io_buf b = {0};
	RF_CHECK(rf_io_bufpool_new(0, 4, &p) == -EINVAL);
	RF_CHECK(rf_io_bufpool_new(64, 0, &p) == -EINVAL);
	RF_CHECK(rf_io_bufpool_new(64, 32769, &p) == -EINVAL);
	RF_CHECK(rf_io_bufpool_new((1u << 24) + 1, 4, &p) == -EINVAL);
	RF_CHECK(rf_io_bufpool_new(64, 4, NULL) == -EINVAL);
	RF_CHECK(rf_io_bufpool_new(64, 4, &p) == 0);
	RF_CHECK(rf_io_reader_new(-1, p, &r) == -EINVAL);
	RF_CHECK(rf_io_reader_new(0, NULL, &r) == -EINVAL);
	RF_CHECK(rf_io_reader_new(0, p, NULL) == -EINVAL);
	RF_CHECK(rf_io_buf_return(NULL) == -EINVAL);
	RF_CHECK(rf_io_buf_return(&b) == -EINVAL);
	rf_io_bufpool_free(NULL);
	rf_io_reader_free(NULL);
	int sv[2];
	RF_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	RF_CHECK(rf_io_reader_new(sv[0], p, &r) == 0);
	RF_CHECK(rf_io_reader_recv(NULL, &b) == -EINVAL);
	RF_CHECK(rf_io_reader_recv(r, NULL) == -EINVAL);
	RF_CHECK(rf_io_reader_recv_timeout(r, -1, &b) == -EINVAL);
	RF_CHECK(rf_io_reader_recv_timeout(r, 0, &b) == -ETIMEDOUT);
	RF_CHECK(rf_io_reader_recv_timeout(r, 20, &b) == -ETIMEDOUT);
	RF_CHECK(rf_io_deadline_set(30) == 0);
	RF_CHECK(rf_io_reader_recv(r, &b) == -ETIMEDOUT);
	rf_io_deadline_clear();
	RF_CHECK(rf_io_send(sv[1], "abc", 3, 0) == 3);
	RF_CHECK(rf_io_reader_recv(r, &b) == 3 && !memcmp(b.data, "abc", 3));
	RF_CHECK(rf_io_buf_return(&b) == 0);
	/* A pool freed while a reader uses it lives on until the reader goes. */
	rf_io_bufpool_free(p);
	RF_CHECK(rf_io_send(sv[1], "de", 2, 0) == 2);
	RF_CHECK(rf_io_reader_recv(r, &b) == 2 && !memcmp(b.data, "de", 2));
	RF_CHECK(rf_io_buf_return(&b) == 0);
	/* Its descriptor closed: the next call says so. */
	RF_CHECK(rf_io_reader_recv_timeout(r, 10, &b) == -ETIMEDOUT); /* armed, if a ring */
	RF_CHECK(rf_io_close(sv[0]) == 0);
	RF_CHECK(rf_io_reader_recv_timeout(r, WAIT_MS, &b) == -EBADF);
	rf_io_reader_free(r);
	RF_CHECK(rf_io_close(sv[1]) == 0);
	return 0;
}

/* Many armed idle readers and a pool of two: the two that get data get pool buffers. */
enum { IDLE = 8 };

static int idle_hold_none(void)
{
	rf_io_bufpool *p;
	RF_CHECK(rf_io_bufpool_new(32, 2, &p) == 0);
	int sv[IDLE][2];
	rf_io_reader *r[IDLE];
	rf_io_buf b[2];
	for (int i = 0; i < IDLE; i++) {
		RF_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv[i]) == 0);
		RF_CHECK(rf_io_reader_new(sv[i][0], p, &r[i]) == 0);
		RF_CHECK(rf_io_reader_recv_timeout(r[i], 1, &b[0]) == -ETIMEDOUT);
	}
	for (int k = 0; k < 2; k++)
		RF_CHECK(rf_io_send(sv[IDLE - 1 - k][1], "x", 1, 0) == 1);
	for (int k = 0; k < 2; k++) {
		RF_CHECK(rf_io_reader_recv_timeout(r[IDLE - 1 - k], WAIT_MS, &b[k]) == 1);
		RF_CHECK(b[k].share_ != NULL); /* one of the pool's, not a heap buffer */
	}
	for (int k = 0; k < 2; k++)
		RF_CHECK(rf_io_buf_return(&b[k]) == 0);
	for (int i = 0; i < IDLE; i++) {
		rf_io_reader_free(r[i]);
		RF_CHECK(rf_io_close(sv[i][0]) == 0 && rf_io_close(sv[i][1]) == 0);
	}
	rf_io_bufpool_free(p);
	return 0;
}

/* Buffers returned by another thread while the receiver goes on. */
struct returner {
	rf_io_buf b[COUNT];
	int n;
};

static void *return_all(void *p)
{
	struct returner *t = p;
	for (int i = 0; i < t->n; i++)
		RF_CHECK(rf_io_buf_return(&t->b[i]) == 0);
	return NULL;
}

static int return_elsewhere(void)
{
	rf_io_bufpool *p;
	RF_CHECK(rf_io_bufpool_new(8, COUNT, &p) == 0);
	int sv[2];
	RF_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
	rf_io_reader *r;
	RF_CHECK(rf_io_reader_new(sv[0], p, &r) == 0);
	for (int round = 0; round < 5; round++) {
		struct returner t = {.n = COUNT};
		for (int i = 0; i < COUNT; i++) {
			char m[2] = {(char)('a' + round), (char)('0' + i)};
			RF_CHECK(rf_io_send(sv[1], m, 2, 0) == 2);
			RF_CHECK(rf_io_reader_recv_timeout(r, WAIT_MS, &t.b[i]) == 2);
			RF_CHECK(!memcmp(t.b[i].data, m, 2)); /* one message per buffer */
		}
		pthread_t th;
		RF_CHECK(pthread_create(&th, NULL, return_all, &t) == 0);
		pthread_join(th, NULL);
	}
	rf_io_reader_free(r);
	RF_CHECK(rf_io_close(sv[0]) == 0 && rf_io_close(sv[1]) == 0);
	rf_io_bufpool_free(p);
	return 0;
}

/* A receiver waiting on a fiber, ended by a cancel token from here. */
struct waiting {
	rf_io_reader *r;
	rf_io_cancel *tok;
	_Atomic int started;
	ssize_t rc;
	waiter done;
};

static void waiting_fiber(void *p)
{
	struct waiting *w = p;
	rf_io_cancel_attach(w->tok);
	atomic_store(&w->started, 1);
	rf_io_buf b;
	w->rc = rf_io_reader_recv(w->r, &b);
	rf_io_cancel_attach(NULL);
	if (waiter_claim(&w->done))
		waiter_complete(&w->done);
}

static int token_ends(void)
{
	rf_io_bufpool *p;
	RF_CHECK(rf_io_bufpool_new(64, COUNT, &p) == 0);
	int sv[2];
	RF_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	struct waiting w = {.rc = 1};
	waiter_init(&w.done);
	RF_CHECK(rf_io_cancel_new(&w.tok) == 0);
	RF_CHECK(rf_io_reader_new(sv[0], p, &w.r) == 0);
	RF_CHECK(fiber_spawn(waiting_fiber, &w, SCHED_WORKER_ANY, NULL) == 0);
	for (int i = 0; i < WAIT_MS && !atomic_load(&w.started); i++)
		rf_sleep_ms(1);
	rf_sleep_ms(20); /* most likely parked; the outcome is the same either way */
	RF_CHECK(rf_io_cancel_trigger(w.tok) == 0);
	RF_CHECK(waiter_wait(&w.done, time_deadline_after_ms(WAIT_MS)) == 0);
	RF_CHECK_EQ(w.rc, -ECANCELED);
	/* The reader goes on for the next caller, the data intact. */
	RF_CHECK(rf_io_send(sv[1], "ok", 2, 0) == 2);
	rf_io_buf b;
	RF_CHECK_EQ(rf_io_reader_recv_timeout(w.r, WAIT_MS, &b), 2);
	RF_CHECK(!memcmp(b.data, "ok", 2));
	RF_CHECK(rf_io_buf_return(&b) == 0);
	rf_io_reader_free(w.r);
	rf_io_cancel_free(w.tok);
	RF_CHECK(rf_io_close(sv[0]) == 0 && rf_io_close(sv[1]) == 0);
	rf_io_bufpool_free(p);
	return 0;
}

/* Several connections, one receiving fiber each, a sender thread per connection and a
 * pool far smaller than the data in flight: every stream arrives whole and in order. */
enum { CONN = 6, STREAM = 64 * 1024 };

struct conn {
	int sv[2];
	rf_io_reader *r;
	waiter done;
};

static void *send_stream(void *p)
{
	struct conn *c = p;
	static _Thread_local unsigned char chunk[4096];
	for (size_t off = 0; off < STREAM;) {
		size_t n = STREAM - off < sizeof(chunk) ? STREAM - off : sizeof(chunk);
		for (size_t k = 0; k < n; k++)
			chunk[k] = pattern(off + k);
		ssize_t w = rf_io_send(c->sv[1], chunk, n, 0);
		RF_CHECK(w > 0);
		off += (size_t)w; /* a short send: the rest goes from there */
	}
	return NULL;
}

static void recv_stream(void *p)
{
	struct conn *c = p;
	size_t got = 0;
	rf_io_buf held[2];
	int nheld = 0;
	while (got < STREAM) {
		ssize_t n = rf_io_reader_recv_timeout(c->r, WAIT_MS, &held[nheld]);
		RF_CHECK(n > 0);
		for (ssize_t k = 0; k < n; k++)
			RF_CHECK(((unsigned char *)held[nheld].data)[k] ==
			         pattern(got + (size_t)k));
		got += (size_t)n;
		if (++nheld == 2)
			while (nheld)
				RF_CHECK(rf_io_buf_return(&held[--nheld]) == 0);
	}
	while (nheld)
		RF_CHECK(rf_io_buf_return(&held[--nheld]) == 0);
	if (waiter_claim(&c->done))
		waiter_complete(&c->done);
}

static int many(void)
{
	rf_io_bufpool *p;
	RF_CHECK(rf_io_bufpool_new(512, 8, &p) == 0);
	struct conn *c = calloc(CONN, sizeof(*c));
	pthread_t th[CONN];
	for (int i = 0; i < CONN; i++) {
		net_pair(c[i].sv);
		RF_CHECK(rf_io_reader_new(c[i].sv[0], p, &c[i].r) == 0);
		waiter_init(&c[i].done);
		RF_CHECK(fiber_spawn(recv_stream, &c[i], SCHED_WORKER_ANY, NULL) == 0);
		RF_CHECK(pthread_create(&th[i], NULL, send_stream, &c[i]) == 0);
	}
	for (int i = 0; i < CONN; i++) {
		RF_CHECK(waiter_wait(&c[i].done, time_deadline_after_ms(WAIT_MS)) == 0);
		pthread_join(th[i], NULL);
		rf_io_reader_free(c[i].r);
		RF_CHECK(rf_io_close(c[i].sv[0]) == 0 && rf_io_close(c[i].sv[1]) == 0);
	}
	free(c);
	rf_io_bufpool_free(p);
	return 0;
}

static void test_stream(void **s)
{
	run_case_all(stream);
}
static void test_bad_input(void **s)
{
	run_case_all(bad_input);
}
static void test_idle(void **s)
{
	run_case_all(idle_hold_none);
}
static void test_return_elsewhere(void **s)
{
	run_case_all(return_elsewhere);
}
static void test_token(void **s)
{
	run_case_all(token_ends);
}
static void test_many(void **s)
{
	run_case_all(many);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stream), cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_idle),   cmocka_unit_test(test_return_elsewhere),
	    cmocka_unit_test(test_token),  cmocka_unit_test(test_many),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rf_shutdown();
	return rc;
}
