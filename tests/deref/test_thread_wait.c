/* Plain threads waiting on promises, in each regime a thread wait can meet:
 * both threads on one CPU, on two CPUs, and wherever the scheduler puts them; after a
 * long wait (which turns spinning off) and after many short ones. Every value handed
 * over is checked, every deadline honoured (a deref-timeout that nobody answers returns
 * -ETIMEDOUT no sooner than its timeout), and a delivery that lands while the waiter may
 * be spinning or asleep is seen either way. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "ringfold.h"

#define ROUNDS 20000

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

struct pp {
	rf_promise_mem *ping, *pong;
	int cpu_a, cpu_b; /* -1: unpinned */
};

/* Pin the caller to cpu (-1: leave it). False if the CPU is not ours to use. */
static bool pin(int cpu)
{
	if (cpu < 0)
		return true;
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	return sched_setaffinity(0, sizeof(s), &s) == 0;
}

static void *pong_side(void *arg)
{
	struct pp *p = arg;
	pin(p->cpu_b);
	for (int i = 0; i < ROUNDS; i++) {
		rf_val v = -1;
		RF_CHECK_EQ(rf_promise_deref((rf_promise *)&p->ping[i], &v), 0);
		RF_CHECK_EQ(v, i);
		RF_CHECK_EQ(rf_promise_deliver((rf_promise *)&p->pong[i], v * 3 + 1), 0);
	}
	return NULL;
}

static void pingpong(int cpu_a, int cpu_b)
{
	struct pp p = {calloc(ROUNDS, sizeof(rf_promise_mem)),
	               calloc(ROUNDS, sizeof(rf_promise_mem)), cpu_a, cpu_b};
	assert_non_null(p.ping);
	assert_non_null(p.pong);
	for (int i = 0; i < ROUNDS; i++) {
		rf_promise *q;
		assert_int_equal(rf_promise_init(&p.ping[i], &q), 0);
		assert_int_equal(rf_promise_init(&p.pong[i], &q), 0);
	}
	cpu_set_t mine;
	assert_int_equal(sched_getaffinity(0, sizeof(mine), &mine), 0);
	pin(cpu_a);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, pong_side, &p), 0);
	for (int i = 0; i < ROUNDS; i++) {
		rf_val v = -1;
		assert_int_equal(rf_promise_deliver((rf_promise *)&p.ping[i], i), 0);
		assert_int_equal(rf_promise_deref((rf_promise *)&p.pong[i], &v), 0);
		assert_int_equal(v, (rf_val)i * 3 + 1);
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(sched_setaffinity(0, sizeof(mine), &mine), 0);
	for (int i = 0; i < ROUNDS; i++) {
		assert_int_equal(rf_promise_destroy((rf_promise *)&p.ping[i]), 0);
		assert_int_equal(rf_promise_destroy((rf_promise *)&p.pong[i]), 0);
	}
	free(p.ping);
	free(p.pong);
}

static bool two_cpus(void)
{
	cpu_set_t s;
	return sched_getaffinity(0, sizeof(s), &s) == 0 && CPU_ISSET(0, &s) && CPU_ISSET(1, &s);
}

static void pingpong_one_cpu(void **state)
{
	pingpong(two_cpus() ? 1 : -1, two_cpus() ? 1 : -1);
}

static void pingpong_two_cpus(void **state)
{
	pingpong(two_cpus() ? 0 : -1, two_cpus() ? 1 : -1);
}

static void pingpong_unpinned(void **state)
{
	pingpong(-1, -1);
}

/* Delivers after a delay of its own. */
struct later {
	rf_promise *p;
	unsigned delay_us;
	rf_val v;
};

static void *deliver_later(void *arg)
{
	struct later *l = arg;
	usleep(l->delay_us);
	RF_CHECK_EQ(rf_promise_deliver(l->p, l->v), 0);
	return NULL;
}

static void wait_for_later(unsigned delay_us, rf_val v)
{
	rf_promise *p;
	assert_int_equal(rf_promise_new(&p), 0);
	struct later l = {p, delay_us, v};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, deliver_later, &l), 0);
	rf_val got = 0;
	assert_int_equal(rf_promise_deref(p, &got), 0);
	assert_int_equal(got, v);
	assert_int_equal(pthread_join(t, NULL), 0);
	rf_promise_free(p);
}

/* Deliveries 0 us to 300 ms after the wait began: inside the spin, past it, after a long
 * wait that turned spinning off, and after short waits that turned it back on. */
static void waits_of_every_length(void **state)
{
	static const unsigned delays_us[] = {0, 5, 50, 500, 300000, 0, 0, 20, 0, 2000};
	for (size_t k = 0; k < sizeof(delays_us) / sizeof(delays_us[0]); k++)
		wait_for_later(delays_us[k], (rf_val)k + 100);
	pingpong(-1, -1);
}

/* A deref-timeout nobody answers ends with -ETIMEDOUT and *out untouched, not before
 * the timeout, whether the thread was spinning (short waits before) or not. */
static void timeouts_are_honoured(void **state)
{
	for (int round = 0; round < 2; round++) {
		if (round == 1)
			pingpong(-1, -1); /* short waits: the next wait spins */
		rf_promise *p;
		assert_int_equal(rf_promise_new(&p), 0);
		for (int64_t ms = 0; ms <= 20; ms += 10) {
			rf_val v = 7;
			uint64_t t0 = now_ns();
			assert_int_equal(rf_promise_deref_timeout(p, ms, &v), -ETIMEDOUT);
			assert_int_equal(v, 7);
			assert_true(now_ns() - t0 >= (uint64_t)ms * 1000000u);
		}
		rf_promise_free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(pingpong_one_cpu),      cmocka_unit_test(pingpong_two_cpus),
	    cmocka_unit_test(pingpong_unpinned),     cmocka_unit_test(waits_of_every_length),
	    cmocka_unit_test(timeouts_are_honoured),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
