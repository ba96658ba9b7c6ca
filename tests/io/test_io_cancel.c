/* rf_io_cancel: a token attached to fibers ends their pending I/O with -ECANCELED when
 * triggered from another fiber on another worker, from a fiber on the same worker, or
 * from a plain thread; later calls fail at once while close still works; a transfer that
 * completed first keeps its result; several fibers on one token all wake; detaching
 * restores normal calls; whoever sees a trigger's effect may free the token while the trigger
 * is still returning. On io_uring (default) and epoll (@epoll). */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "ringfold.h"

#define WAIT_MS 60000

struct victim {
	rf_io_cancel *tok;
	int fd;
	_Atomic int parked; /* about to wait */
	bool writer;
};

static int victim(rf_val arg, rf_val *out)
{
	struct victim *v = rf_to_ptr(arg);
	RF_CHECK(rf_io_cancel_attach(v->tok) == 0);
	static char big[1 << 16];
	atomic_store(&v->parked, 1);
	ssize_t n;
	if (v->writer) /* fill the socket until send has to wait */
		while ((n = rf_io_send(v->fd, big, sizeof(big), 0)) > 0)
			;
	else
		n = rf_io_recv(v->fd, big, 1, 0);
	*out = (rf_val)n;
	char c;
	RF_CHECK(rf_io_recv(v->fd, &c, 1, 0) == -ECANCELED); /* later calls: at once */
	RF_CHECK(rf_io_recv_timeout(v->fd, &c, 1, 0, 0) == -ECANCELED);
	RF_CHECK(rf_io_shutdown(v->fd, SHUT_WR) == 0); /* clean-up is never cancelled */
	RF_CHECK(rf_io_cancel_attach(NULL) == 0);
	RF_CHECK(rf_io_recv_timeout(v->fd, &c, 1, 0, 5) == -ETIMEDOUT); /* detached */
	return 0;
}

static rf_chan *start(struct victim *v, int worker)
{
	rf_spawn_opts o;
	rf_spawn_opts_default(&o);
	o.worker = worker;
	rf_chan *ch;
	assert_int_equal(rf_go_with(&o, victim, rf_from_ptr(v), &ch), 0);
	for (int k = 0; k < WAIT_MS && !atomic_load(&v->parked); k++)
		rf_sleep_ms(1);
	rf_sleep_ms(20); /* most likely parked by now; the outcome is the same if not */
	return ch;
}

static void finish(rf_chan *ch, ssize_t want)
{
	rf_val r;
	assert_int_equal(rf_chan_take_timeout(ch, WAIT_MS, &r), 0);
	assert_int_equal((ssize_t)r, want);
	rf_chan_release(ch);
}

/* trigger from a go process on `where` (-1: this plain thread) */
static int trigger_fn(rf_val arg, rf_val *out)
{
	return rf_io_cancel_trigger(rf_to_ptr(arg));
}

static void trigger_from(rf_io_cancel *tok, int where)
{
	if (where < 0) {
		assert_int_equal(rf_io_cancel_trigger(tok), 0);
		return;
	}
	rf_spawn_opts o;
	rf_spawn_opts_default(&o);
	o.worker = where;
	rf_chan *ch;
	assert_int_equal(rf_go_with(&o, trigger_fn, rf_from_ptr(tok), &ch), 0);
	rf_val r;
	assert_int_equal(rf_chan_take_timeout(ch, WAIT_MS, &r), 0);
	rf_chan_release(ch);
}

static void one_case(int victim_worker, int trigger_worker)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	struct victim v = {.fd = sv[0]};
	assert_int_equal(rf_io_cancel_new(&v.tok), 0);
	rf_chan *ch = start(&v, victim_worker);
	trigger_from(v.tok, trigger_worker);
	finish(ch, -ECANCELED);
	assert_int_equal(rf_io_close(sv[0]), 0);
	assert_int_equal(rf_io_close(sv[1]), 0);
	rf_io_cancel_free(v.tok);
}

static void test_from_another_worker(void **state)
{
	rf_stats *st = calloc(1, sizeof(*st));
	rf_stats_get(st);
	int other = st->workers > 1 ? 1 : 0;
	free(st);
	one_case(0, other);
}

static void test_from_the_same_worker(void **state)
{
	one_case(0, 0);
}

static void test_from_a_thread(void **state)
{
	one_case(0, -1);
}

static void test_completed_first_keeps_its_result(void **state)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(write(sv[1], "z", 1), 1);
	struct victim v = {.fd = sv[0]};
	assert_int_equal(rf_io_cancel_new(&v.tok), 0);
	rf_chan *ch = start(&v, 0); /* its recv finds the byte: 1 */
	trigger_from(v.tok, -1);    /* then its next calls fail */
	finish(ch, 1);
	assert_int_equal(rf_io_close(sv[0]), 0);
	assert_int_equal(rf_io_close(sv[1]), 0);
	rf_io_cancel_free(v.tok);
}

static void test_reader_and_writer(void **state)
{
	int a[2], b[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, b), 0);
	rf_io_cancel *tok;
	assert_int_equal(rf_io_cancel_new(&tok), 0);
	struct victim r = {.tok = tok, .fd = a[0]}, w = {.tok = tok, .fd = b[0], .writer = true};
	rf_chan *rc = start(&r, 0), *wc = start(&w, 0);
	trigger_from(tok, -1);
	finish(rc, -ECANCELED);
	finish(wc, -ECANCELED);
	assert_int_equal(rf_io_cancel_trigger(tok), 0); /* idempotent */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(rf_io_close(a[i]), 0);
		assert_int_equal(rf_io_close(b[i]), 0);
	}
	rf_io_cancel_free(tok);
}

static void *trigger_thread(void *tok)
{
	RF_CHECK(rf_io_cancel_trigger(tok) == 0);
	return NULL;
}

/* The test's thread sees the trigger through its own calls failing and frees the token at
 * once; only the token orders the trigger's last access before that free (TSan reports an
 * access it does not order, ASan one that lands after it). */
static void test_freed_once_seen(void **state)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	for (int r = 0; r < 50; r++) {
		rf_io_cancel *tok;
		assert_int_equal(rf_io_cancel_new(&tok), 0);
		assert_int_equal(rf_io_cancel_attach(tok), 0);
		pthread_t t;
		assert_int_equal(pthread_create(&t, NULL, trigger_thread, tok), 0);
		char c;
		ssize_t n;
		while ((n = rf_io_recv_timeout(sv[0], &c, 1, 0, 0)) == -ETIMEDOUT)
			sched_yield();
		assert_int_equal(n, -ECANCELED);
		assert_int_equal(rf_io_cancel_attach(NULL), 0);
		rf_io_cancel_free(tok);
		pthread_join(t, NULL);
	}
	assert_int_equal(rf_io_close(sv[0]), 0);
	assert_int_equal(rf_io_close(sv[1]), 0);
}

static void test_bad_arguments(void **state)
{
	assert_int_equal(rf_io_cancel_new(NULL), -EINVAL);
	assert_int_equal(rf_io_cancel_trigger(NULL), -EINVAL);
	rf_io_cancel_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_from_another_worker),
	    cmocka_unit_test(test_from_the_same_worker),
	    cmocka_unit_test(test_from_a_thread),
	    cmocka_unit_test(test_completed_first_keeps_its_result),
	    cmocka_unit_test(test_reader_and_writer),
	    cmocka_unit_test(test_freed_once_seen),
	    cmocka_unit_test(test_bad_arguments),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rf_shutdown();
	return rc;
}
