/* tests/base/test_lockrank.c: the debug build's invariant checks fire (RF_DEBUG_INVARIANTS,
 * the asan preset; release builds skip): a lock taken out of rank order, an allocation
 * or user code under a spin lock, a fiber parking with a lock held, an owner-only
 * function called off its worker. Each case runs in a forked child that must abort and
 * name what it broke; the in-order cases must not abort. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ringfold.h"
#include "runtime/base/spin.h"
#include "runtime/sched/fiber.h"
#include "runtime/sched/sched.h"

#ifdef RF_DEBUG_INVARIANTS
/* Run fn in a child with stderr captured; returns whether it aborted, and its stderr. */
static bool dies(void (*fn)(void), char *err, size_t n)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 2);
		fn();
		_exit(0);
	}
	close(p[1]);
	size_t got = 0;
	ssize_t r;
	while (got + 1 < n && (r = read(p[0], err + got, n - 1 - got)) > 0)
		got += (size_t)r;
	err[got] = 0;
	close(p[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;
}

static spinlock a, b;

static void inverted(void)
{
	spin_lock(&a); /* CHAN_TIMEOUT, inner to CHAN */
	spin_lock(&b); /* CHAN */
}

static void in_order(void)
{
	spin_lock(&b);
	spin_lock(&a);
	spin_unlock(&a);
	spin_unlock(&b);
}

static spinlock pair[2];

static void chans_by_address_down(void)
{
	spin_lock(&pair[1]);
	spin_lock(&pair[0]);
}

static void chans_by_address_up(void)
{
	spin_lock(&pair[0]);
	spin_lock(&pair[1]);
	spin_unlock(&pair[1]);
	spin_unlock(&pair[0]);
}

static void user_code_under_spin(void)
{
	spin_lock(&b);
	USER_CALL();
}

static void alloc_under_spin(void)
{
	spin_lock(&b);
	(void)debug_alloc_fails("malloc", __FILE__, __LINE__);
}

static int park_body(rf_val arg, rf_val *out)
{
	spin_lock(&b);
	fiber_yield();
	return 0;
}

static void park_holding(void)
{
	rf_val v;
	rf_chan *done;
	if (rf_go(park_body, 0, &done) == 0)
		rf_chan_take_timeout(done, 10000, &v);
}

static void timer_off_owner(void)
{
	static sched_worker w;
	static sched_fiber f;
	timer_insert(&w, &f); /* this thread is no worker, let alone w's */
}

static void setup_locks(void)
{
	spin_init(&a, LOCKRANK_CHAN_TIMEOUT);
	spin_init(&b, LOCKRANK_CHAN);
	spin_init(&pair[0], LOCKRANK_CHAN);
	spin_init(&pair[1], LOCKRANK_CHAN);
}
#endif

#define EXPECT_DEATH(fn, text)                                                                     \
	do {                                                                                       \
		char err[2048];                                                                    \
		assert_true(dies(fn, err, sizeof(err)));                                           \
		if (!strstr(err, text))                                                            \
			fail_msg("stderr lacks \"%s\": %s", text, err);                            \
	} while (0)

static void test_rank_order(void **state)
{
#ifndef RF_DEBUG_INVARIANTS
	skip();
#else
	setup_locks();
	EXPECT_DEATH(inverted, "acquiring CHAN");
	EXPECT_DEATH(inverted, "while holding CHAN_TIMEOUT");
	char err[2048];
	assert_false(dies(in_order, err, sizeof(err)));
	EXPECT_DEATH(chans_by_address_down, "acquiring CHAN");
	assert_false(dies(chans_by_address_up, err, sizeof(err)));
#endif
}

static void test_spin_contract(void **state)
{
#ifndef RF_DEBUG_INVARIANTS
	skip();
#else
	setup_locks();
	EXPECT_DEATH(user_code_under_spin, "user code while holding spin lock CHAN");
	EXPECT_DEATH(alloc_under_spin, "malloc while holding spin lock CHAN");
	EXPECT_DEATH(park_holding, "yielding a fiber while holding CHAN");
#endif
}

static void test_owner_only(void **state)
{
#ifndef RF_DEBUG_INVARIANTS
	skip();
#else
	EXPECT_DEATH(timer_off_owner, "sched_tls_worker == w");
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rank_order),
	    cmocka_unit_test(test_spin_contract),
	    cmocka_unit_test(test_owner_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
