/* rf_signal_chan and rf_stop_graceful. Signals sent to the process arrive as channel
 * values, exactly once each; bad arguments are -EINVAL. A graceful stop ends a waiting
 * accept loop (-EINVAL), lets connection fibers that watch rf_stopping() return on their
 * own (0), and cancels one that does not (-ETIMEDOUT; its recv gets RF_ESHUTDOWN).
 * SIGUSR1/SIGUSR2 are blocked in main before any thread starts, as a service would. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
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
#define STUBBORN_BOUND_MS 2000

static void test_signals_as_values(void **state)
{
	int sigs[] = {SIGUSR1, SIGUSR2};
	rf_chan *ch;
	assert_int_equal(rf_signal_chan(sigs, 2, 4, &ch), 0);
	rf_val v;
	for (int round = 0; round < 3; round++) {
		assert_int_equal(kill(getpid(), SIGUSR1), 0);
		assert_int_equal(rf_chan_take_timeout(ch, WAIT_MS, &v), 0);
		assert_int_equal(v, SIGUSR1);
		assert_int_equal(kill(getpid(), SIGUSR2), 0);
		assert_int_equal(rf_chan_take_timeout(ch, WAIT_MS, &v), 0);
		assert_int_equal(v, SIGUSR2);
	}
	assert_int_equal(rf_chan_take_timeout(ch, 20, &v), -ETIMEDOUT); /* nothing more */
	rf_chan_close(ch);
	rf_chan_release(ch);
}

static void test_signal_bad_arguments(void **state)
{
	int sigs[] = {SIGUSR1, SIGKILL}, bad[] = {0}, big[] = {100000};
	rf_chan *ch = NULL;
	assert_int_equal(rf_signal_chan(NULL, 1, 1, &ch), -EINVAL);
	assert_int_equal(rf_signal_chan(sigs, 0, 1, &ch), -EINVAL);
	assert_int_equal(rf_signal_chan(sigs, 1, 0, &ch), -EINVAL);
	assert_int_equal(rf_signal_chan(sigs, 1, 1, NULL), -EINVAL);
	assert_int_equal(rf_signal_chan(sigs, 2, 1, &ch), -EINVAL);
	assert_int_equal(rf_signal_chan(bad, 1, 1, &ch), -EINVAL);
	assert_int_equal(rf_signal_chan(big, 1, 1, &ch), -EINVAL);
	assert_null(ch);
}

/* ---- graceful stop ---- */

struct server {
	int lfd;
	_Atomic int accept_rc;
	_Atomic int finished, cancelled, accepted;
	bool stubborn; /* the first connection ignores rf_stopping */
};

struct conn {
	struct server *s;
	int fd;
	bool stubborn;
};

static int conn_main(rf_val arg, rf_val *out)
{
	struct conn *c = rf_to_ptr(arg);
	char b;
	for (;;) {
		ssize_t n = rf_io_recv_timeout(c->fd, &b, 1, 0, c->stubborn ? 600000 : 10);
		if (n == RF_ESHUTDOWN) {
			atomic_fetch_add(&c->s->cancelled, 1);
			break;
		}
		if (n == -ETIMEDOUT && !c->stubborn && rf_stopping()) {
			atomic_fetch_add(&c->s->finished, 1);
			break;
		}
		RF_CHECK(n == -ETIMEDOUT || n == 1);
	}
	rf_io_close(c->fd);
	free(c);
	return 0;
}

static int accept_loop(rf_val arg, rf_val *out)
{
	struct server *s = rf_to_ptr(arg);
	for (int i = 0;; i++) {
		int fd = rf_io_accept(s->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			atomic_store(&s->accept_rc, fd);
			return 0;
		}
		struct conn *c = malloc(sizeof(*c));
		*c = (struct conn){s, fd, s->stubborn && i == 0};
		RF_CHECK(rf_go(conn_main, rf_from_ptr(c), NULL) == 0);
		atomic_fetch_add(&s->accepted, 1);
	}
}

static int listen_any(struct sockaddr_in *a)
{
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	*a = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(*a);
	assert_int_equal(bind(l, (struct sockaddr *)a, len), 0);
	assert_int_equal(listen(l, 16), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)a, &len), 0);
	return l;
}

static void run_server(struct server *s, int64_t timeout_ms, int want_rc)
{
	struct sockaddr_in a;
	s->lfd = listen_any(&a);
	atomic_store(&s->accept_rc, 1);
	assert_int_equal(rf_go(accept_loop, rf_from_ptr(s), NULL), 0);
	int cl[3];
	for (int i = 0; i < 3; i++) {
		cl[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_int_equal(connect(cl[i], (struct sockaddr *)&a, sizeof(a)), 0);
	}
	for (int k = 0; k < WAIT_MS && atomic_load(&s->accepted) < 3; k++)
		rf_sleep_ms(1); /* bounded wait for the three accepts */
	assert_int_equal(atomic_load(&s->accepted), 3);
	assert_int_equal(rf_stop_graceful(&s->lfd, 1, timeout_ms), want_rc);
	assert_true(rf_stopping());
	assert_int_equal(atomic_load(&s->accept_rc), -EINVAL);
	for (int i = 0; i < 3; i++)
		close(cl[i]);
	close(s->lfd);
}

static void test_graceful_stop(void **state)
{
	struct server s = {0};
	run_server(&s, WAIT_MS, 0);
	assert_int_equal(atomic_load(&s.finished), 3);
	assert_int_equal(atomic_load(&s.cancelled), 0);
}

static void test_graceful_stop_times_out(void **state)
{
	struct server s = {.stubborn = true};
	/* The stubborn connection makes the whole bound elapse; it is generous so that the
	 * two others see rf_stopping (they poll every 10 ms) under sanitizers and load. */
	run_server(&s, STUBBORN_BOUND_MS, -ETIMEDOUT);
	assert_int_equal(atomic_load(&s.finished), 2);
	assert_int_equal(atomic_load(&s.cancelled), 1);
	assert_int_equal(rf_stop_graceful(NULL, 1, 0), -EINVAL);
	assert_int_equal(rf_stop_graceful(NULL, 0, -1), -EINVAL);
}

int main(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_signals_as_values),
	    cmocka_unit_test(test_signal_bad_arguments),
	    cmocka_unit_test(test_graceful_stop),
	    cmocka_unit_test(test_graceful_stop_times_out),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rf_shutdown();
	return rc;
}
