/* fork() with the runtime running: the child gets a fresh runtime on first use (its
 * futures run, channels time out, rf_shutdown returns), the parent keeps working. Also
 * a fork from a fiber (the child goes on as a plain thread) and a fork while fibers are
 * parked in the parent. Both backends (the @epoll run). Not under sanitizers (see main). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "executor/fiber_check.h"
#include "reap.h"
#include "ringfold/chan.h"
#include "ringfold/future.h"
#include "ringfold/io.h"
#include "ringfold/promise.h"
#include "ringfold/runtime.h"

/* In a child: exit 10 + line's low bits on a failed check, so the parent names it. */
#define ccheck(x)                                                                                  \
	do {                                                                                       \
		if (!(x)) {                                                                        \
			fprintf(stderr, "child %s:%d: %s\n", __FILE__, __LINE__, #x);              \
			_exit(10);                                                                 \
		}                                                                                  \
	} while (0)

static int twice(rf_val arg, rf_val *out)
{
	*out = 2 * arg;
	return 0;
}

/* What a child does: a future, a timeout channel, a go process, and a shutdown. */
static void child_body(void)
{
	rf_future *f;
	rf_val v;
	ccheck(rf_future_call(twice, 21, &f) == 0);
	ccheck(rf_future_deref(f, &v) == 0 && v == 42);
	rf_future_free(f);
	rf_chan *t;
	ccheck(rf_chan_timeout(10, &t) == 0);
	ccheck(rf_chan_take(t, &v) == RF_ECLOSED);
	rf_chan_release(t);
	rf_stats *st;
	ccheck(rf_stats_new(&st) == 0 && rf_stats_get(st) == 0);
	ccheck(st->workers > 0);
	rf_stats_free(st);
	rf_shutdown();
	ccheck(rf_future_call(twice, 1, &f) == 0); /* and again after a shutdown */
	ccheck(rf_future_deref(f, &v) == 0 && v == 2);
	rf_future_free(f);
	rf_shutdown();
	_exit(0);
}

static void parent_works(void)
{
	rf_future *f;
	rf_val v;
	assert_int_equal(rf_future_call(twice, 5, &f), 0);
	assert_int_equal(rf_future_deref(f, &v), 0);
	assert_int_equal(v, 10);
	rf_future_free(f);
}

static void fork_from_thread(void **state)
{
	parent_works(); /* the runtime runs */
	for (int i = 0; i < 3; i++) {
		fflush(NULL);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			child_body();
		assert_int_equal(rf_test_reap(pid, WAIT_MS), 0);
		parent_works();
	}
	rf_shutdown();
}

static int fork_in_fiber(rf_val arg, rf_val *out)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		child_body(); /* on this fiber's stack, now a plain thread */
	*out = pid;
	return pid < 0 ? -errno : 0;
}

static void fork_from_fiber(void **state)
{
	rf_future *f;
	rf_val pid;
	assert_int_equal(rf_future_call(fork_in_fiber, 0, &f), 0);
	assert_int_equal(rf_future_deref(f, &pid), 0);
	rf_future_free(f);
	assert_int_equal(rf_test_reap((pid_t)pid, WAIT_MS), 0);
	parent_works();
	rf_shutdown();
}

static int deref_promise(rf_val arg, rf_val *out)
{
	return rf_promise_deref(rf_to_ptr(arg), out);
}

/* Fibers parked in the parent are the parent's: the child forgets them, the parent's
 * are woken as usual. */
static void fork_with_parked_fibers(void **state)
{
	enum { N = 100 };
	rf_promise *p;
	assert_int_equal(rf_promise_new(&p), 0);
	rf_future *fs[N];
	for (int i = 0; i < N; i++)
		assert_int_equal(rf_future_call(deref_promise, rf_from_ptr(p), &fs[i]), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child_body();
	assert_int_equal(rf_test_reap(pid, WAIT_MS), 0);
	assert_int_equal(rf_promise_deliver(p, 9), 0);
	for (int i = 0; i < N; i++) {
		rf_val v;
		assert_int_equal(rf_future_deref(fs[i], &v), 0);
		assert_int_equal(v, 9);
		rf_future_free(fs[i]);
	}
	rf_promise_free(p);
	rf_shutdown();
}

int main(void)
{
#if defined(RF_TSAN) || defined(RF_ASAN)
	/* TSan kills a child that starts threads after forking a threaded process; ASan's
	 * allocator (compiler-rt 14) takes no lock around fork, so a child can block for
	 * good on an allocator lock a parent thread held at the fork. Release builds run
	 * these tests on both backends. */
	print_message("fork tests skipped under sanitizers\n");
	return 0;
#endif
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fork_from_thread),
	    cmocka_unit_test(fork_from_fiber),
	    cmocka_unit_test(fork_with_parked_fibers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
