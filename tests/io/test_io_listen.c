/* rf_io_listener: connections taken one at a time, more of them than the listener holds
 * (its request stops at the bound and is armed again); errors on bad input; close wakes
 * a fiber (and a plain thread) waiting to take; closing the socket under an armed request
 * ends it; a cancel token and the spanning deadline end a wait; several fibers take from
 * one listener and every connection reaches exactly one; a taker that sees a close from another
 * thread may free the listener while that close is still returning. Each on a plain thread, on a
 * fiber, and on a fiber with the optional io_uring features off (one-shot accept), on io_uring
 * (default) and epoll (@epoll). */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "io/io_net.h"

static int take_all(void)
{
	struct sockaddr_in a;
	int lfd = net_listen(64, &a);
	rf_io_listener *l;
	RF_CHECK(rf_io_listener_new(lfd, SOCK_CLOEXEC, 4, &l) == 0);
	enum { N = 12 }; /* three times the bound */
	int cl[N];
	for (int i = 0; i < N; i++) {
		cl[i] = net_connect(&a);
		unsigned char b = (unsigned char)i;
		RF_CHECK(rf_io_send(cl[i], &b, 1, 0) == 1);
	}
	bool seen[N] = {false};
	for (int i = 0; i < N; i++) {
		int c = rf_io_listener_accept_timeout(l, WAIT_MS);
		RF_CHECK(c >= 0);
		RF_CHECK((fcntl(c, F_GETFD) & FD_CLOEXEC) != 0); /* the listener's flags */
		unsigned char b;
		RF_CHECK(rf_io_recv_timeout(c, &b, 1, 0, WAIT_MS) == 1);
		RF_CHECK(b < N && !seen[b]);
		seen[b] = true;
		RF_CHECK(rf_io_close(c) == 0);
	}
	RF_CHECK(rf_io_listener_accept_timeout(l, 20) == -ETIMEDOUT);
	RF_CHECK(rf_io_listener_accept_timeout(l, 0) == -ETIMEDOUT);
	/* One more after the waits: the request armed by them (or a new one) brings it. */
	int late = net_connect(&a);
	int c = rf_io_listener_accept_timeout(l, WAIT_MS);
	RF_CHECK(c >= 0);
	RF_CHECK(rf_io_close(c) == 0 && rf_io_close(late) == 0);
	rf_io_listener_free(l);
	for (int i = 0; i < N; i++)
		RF_CHECK(rf_io_close(cl[i]) == 0);
	RF_CHECK(rf_io_close(lfd) == 0);
	return 0;
}

static int bad_input(void)
{
	struct sockaddr_in a;
	int lfd = net_listen(4, &a);
	rf_io_listener *l;
	RF_CHECK(rf_io_listener_new(lfd, 0, 4, NULL) == -EINVAL);
	RF_CHECK(rf_io_listener_new(lfd, 1, 4, &l) == -EINVAL);
	RF_CHECK(rf_io_listener_new(lfd, 0, 0, &l) == -EINVAL);
	RF_CHECK(rf_io_listener_new(lfd, 0, 65537, &l) == -EINVAL);
	RF_CHECK(rf_io_listener_new(-1, 0, 4, &l) == -EBADF);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	RF_CHECK(rf_io_listener_new(s, 0, 4, &l) == -EINVAL); /* not listening */
	int p[2];
	RF_CHECK(pipe(p) == 0);
	RF_CHECK(rf_io_listener_new(p[0], 0, 4, &l) == -ENOTSOCK);
	RF_CHECK(rf_io_listener_accept(NULL) == -EINVAL);
	RF_CHECK(rf_io_listener_close(NULL) == -EINVAL);
	rf_io_listener_free(NULL);
	RF_CHECK(rf_io_listener_new(lfd, SOCK_NONBLOCK | SOCK_CLOEXEC, 4, &l) == 0);
	RF_CHECK(fcntl(lfd, F_GETFL) & O_NONBLOCK);
	RF_CHECK(rf_io_listener_accept_timeout(l, -1) == -EINVAL);
	RF_CHECK(rf_io_deadline_set(30) == 0);
	RF_CHECK(rf_io_listener_accept(l) == -ETIMEDOUT); /* the spanning deadline */
	rf_io_deadline_clear();
	int cl = net_connect(&a);
	int c = rf_io_listener_accept(l);
	RF_CHECK(c >= 0 && (fcntl(c, F_GETFL) & O_NONBLOCK));
	RF_CHECK(rf_io_listener_close(l) == 0);
	RF_CHECK(rf_io_listener_close(l) == 0);
	RF_CHECK(rf_io_listener_accept(l) == -EBADF);
	rf_io_listener_free(l);
	RF_CHECK(rf_io_close(c) == 0 && rf_io_close(cl) == 0 && rf_io_close(s) == 0);
	RF_CHECK(rf_io_close(p[0]) == 0 && rf_io_close(p[1]) == 0 && rf_io_close(lfd) == 0);
	/* The socket closed under an armed request: the next take says so. */
	lfd = net_listen(4, &a);
	RF_CHECK(rf_io_listener_new(lfd, SOCK_CLOEXEC, 4, &l) == 0);
	RF_CHECK(rf_io_listener_accept_timeout(l, 10) == -ETIMEDOUT); /* armed, if a ring */
	RF_CHECK(rf_io_close(lfd) == 0);
	RF_CHECK_EQ(rf_io_listener_accept_timeout(l, WAIT_MS), -EBADF);
	rf_io_listener_free(l);
	return 0;
}

/* A taker waiting on a fiber (or a thread), ended from elsewhere. */
struct taker {
	rf_io_listener *l;
	rf_io_cancel *tok;
	_Atomic int started;
	int rc;
	waiter done;
};

static void taker_fiber(void *p)
{
	struct taker *t = p;
	if (t->tok)
		rf_io_cancel_attach(t->tok);
	atomic_store(&t->started, 1);
	t->rc = rf_io_listener_accept(t->l);
	if (t->tok)
		rf_io_cancel_attach(NULL);
	if (waiter_claim(&t->done))
		waiter_complete(&t->done);
}

static void *taker_thread(void *p)
{
	taker_fiber(p);
	return NULL;
}

/* The taker has started; then `settle` ms more (0: the close races its wait; 20: it
 * has most likely parked). Both orders must give the same outcome. */
static void wait_started(struct taker *t, int settle)
{
	for (int i = 0; i < WAIT_MS && !atomic_load(&t->started); i++)
		rf_sleep_ms(1);
	RF_CHECK(atomic_load(&t->started));
	rf_sleep_ms(settle);
}

static int close_wakes(void)
{
	struct sockaddr_in a;
	int lfd = net_listen(4, &a);
	for (int round = 0; round < 4; round++) {
		int on_thread = round & 1;
		struct taker t = {.rc = 1};
		waiter_init(&t.done);
		RF_CHECK(rf_io_listener_new(lfd, SOCK_CLOEXEC, 4, &t.l) == 0);
		pthread_t th;
		if (on_thread)
			RF_CHECK(pthread_create(&th, NULL, taker_thread, &t) == 0);
		else
			RF_CHECK(fiber_spawn(taker_fiber, &t, SCHED_WORKER_ANY, NULL) == 0);
		wait_started(&t, round < 2 ? 0 : 20);
		RF_CHECK(rf_io_listener_close(t.l) == 0);
		RF_CHECK(waiter_wait(&t.done, time_deadline_after_ms(WAIT_MS)) == 0);
		RF_CHECK_EQ(t.rc, -EBADF);
		if (on_thread)
			pthread_join(th, NULL);
		rf_io_listener_free(t.l);
	}
	RF_CHECK(rf_io_close(lfd) == 0);
	return 0;
}

static int token_ends(void)
{
	struct sockaddr_in a;
	int lfd = net_listen(4, &a);
	struct taker t = {.rc = 1};
	waiter_init(&t.done);
	RF_CHECK(rf_io_cancel_new(&t.tok) == 0);
	RF_CHECK(rf_io_listener_new(lfd, SOCK_CLOEXEC, 4, &t.l) == 0);
	RF_CHECK(fiber_spawn(taker_fiber, &t, SCHED_WORKER_ANY, NULL) == 0);
	wait_started(&t, 20);
	RF_CHECK(rf_io_cancel_trigger(t.tok) == 0);
	RF_CHECK(waiter_wait(&t.done, time_deadline_after_ms(WAIT_MS)) == 0);
	RF_CHECK_EQ(t.rc, -ECANCELED);
	/* The listener still works for others. */
	int cl = net_connect(&a);
	int c = rf_io_listener_accept_timeout(t.l, WAIT_MS);
	RF_CHECK(c >= 0);
	rf_io_listener_free(t.l);
	rf_io_cancel_free(t.tok);
	RF_CHECK(rf_io_close(c) == 0 && rf_io_close(cl) == 0 && rf_io_close(lfd) == 0);
	return 0;
}

/* Several fibers take from one listener until it is closed. */
enum { TAKERS = 4, CONNS = 40 };

struct crowd {
	rf_io_listener *l;
	_Atomic int got[CONNS];
	_Atomic int total;
	_Atomic int left;
	waiter done;
};

static void crowd_taker(void *p)
{
	struct crowd *c = p;
	int fd;
	while ((fd = rf_io_listener_accept(c->l)) >= 0) {
		unsigned char b;
		RF_CHECK(rf_io_recv_timeout(fd, &b, 1, 0, WAIT_MS) == 1 && b < CONNS);
		atomic_fetch_add(&c->got[b], 1);
		atomic_fetch_add(&c->total, 1);
		RF_CHECK(rf_io_close(fd) == 0);
	}
	RF_CHECK_EQ(fd, -EBADF);
	if (atomic_fetch_sub(&c->left, 1) == 1 && waiter_claim(&c->done))
		waiter_complete(&c->done);
}

static int crowd(void)
{
	struct sockaddr_in a;
	int lfd = net_listen(64, &a);
	struct crowd *c = calloc(1, sizeof(*c));
	waiter_init(&c->done);
	atomic_store(&c->left, TAKERS);
	RF_CHECK(rf_io_listener_new(lfd, SOCK_CLOEXEC, 8, &c->l) == 0);
	for (int i = 0; i < TAKERS; i++)
		RF_CHECK(fiber_spawn(crowd_taker, c, SCHED_WORKER_ANY, NULL) == 0);
	int cl[CONNS];
	for (int i = 0; i < CONNS; i++) {
		cl[i] = net_connect(&a);
		unsigned char b = (unsigned char)i;
		RF_CHECK(rf_io_send(cl[i], &b, 1, 0) == 1);
	}
	for (int i = 0; i < WAIT_MS && atomic_load(&c->total) < CONNS; i++)
		rf_sleep_ms(1);
	RF_CHECK_EQ(atomic_load(&c->total), CONNS);
	for (int i = 0; i < CONNS; i++)
		RF_CHECK_EQ(atomic_load(&c->got[i]), 1);
	RF_CHECK(rf_io_listener_close(c->l) == 0);
	RF_CHECK(waiter_wait(&c->done, time_deadline_after_ms(WAIT_MS)) == 0);
	rf_io_listener_free(c->l);
	for (int i = 0; i < CONNS; i++)
		RF_CHECK(rf_io_close(cl[i]) == 0);
	RF_CHECK(rf_io_close(lfd) == 0);
	free(c);
	return 0;
}

static void *close_thread(void *l)
{
	RF_CHECK(rf_io_listener_close(l) == 0);
	return NULL;
}

/* Another thread closes the listener; the taker sees it (-EBADF, found at a call's start
 * or woken in a wait) and frees the listener at once. Only the listener orders the close's
 * last access before that free (TSan reports an access it does not order, ASan one that
 * lands after it). */
static int freed_once_seen(void)
{
	struct sockaddr_in a;
	int lfd = net_listen(4, &a);
	for (int r = 0; r < 50; r++) {
		rf_io_listener *l;
		RF_CHECK(rf_io_listener_new(lfd, SOCK_CLOEXEC, 4, &l) == 0);
		pthread_t t;
		RF_CHECK(pthread_create(&t, NULL, close_thread, l) == 0);
		int c;
		while ((c = rf_io_listener_accept_timeout(l, 1)) == -ETIMEDOUT)
			;
		RF_CHECK_EQ(c, -EBADF);
		rf_io_listener_free(l);
		pthread_join(t, NULL);
	}
	RF_CHECK(rf_io_close(lfd) == 0);
	return 0;
}

/* A connection accepted but never taken is closed with the listener (its peer sees the
 * end), or, not accepted yet, is still in the kernel's backlog: never lost in between. */
static int close_drops_queued(void)
{
	struct sockaddr_in a;
	int lfd = net_listen(16, &a);
	rf_io_listener *l;
	RF_CHECK(rf_io_listener_new(lfd, SOCK_CLOEXEC, 8, &l) == 0);
	int cl[2] = {net_connect(&a), net_connect(&a)};
	for (int i = 0; i < 2; i++) {
		unsigned char b = (unsigned char)i;
		RF_CHECK(rf_io_send(cl[i], &b, 1, 0) == 1);
	}
	int c = rf_io_listener_accept_timeout(l, WAIT_MS); /* arms; the other may be queued */
	RF_CHECK(c >= 0);
	unsigned char b;
	RF_CHECK(rf_io_recv_timeout(c, &b, 1, 0, WAIT_MS) == 1 && b < 2);
	rf_io_listener_free(l);
	int rest = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (rest >= 0) {
		unsigned char o;
		RF_CHECK(rf_io_recv_timeout(rest, &o, 1, 0, WAIT_MS) == 1 && o == 1 - b);
		RF_CHECK(rf_io_close(rest) == 0);
	} else {
		RF_CHECK(errno == EAGAIN);
		char x;
		ssize_t n = rf_io_recv_timeout(cl[1 - b], &x, 1, 0, WAIT_MS);
		RF_CHECK(n == 0 || n == -ECONNRESET);
	}
	RF_CHECK(rf_io_close(c) == 0);
	RF_CHECK(rf_io_close(cl[0]) == 0 && rf_io_close(cl[1]) == 0 && rf_io_close(lfd) == 0);
	return 0;
}

static void test_take_all(void **s)
{
	run_case_all(take_all);
}
static void test_bad_input(void **s)
{
	run_case_all(bad_input);
}
static void test_close_wakes(void **s)
{
	run_case_all(close_wakes);
}
static void test_token(void **s)
{
	run_case_all(token_ends);
}
static void test_crowd(void **s)
{
	run_case_all(crowd);
}
static void test_freed_once_seen(void **s)
{
	run_case_all(freed_once_seen);
}
static void test_close_drops(void **s)
{
	run_case_all(close_drops_queued);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_take_all),        cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_close_wakes),     cmocka_unit_test(test_token),
	    cmocka_unit_test(test_crowd),           cmocka_unit_test(test_close_drops),
	    cmocka_unit_test(test_freed_once_seen),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rf_shutdown();
	return rc;
}
