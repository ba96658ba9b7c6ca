/* tests/chan/chan_test.h: helpers shared by the channel tests. */
#ifndef RF_TESTS_CHAN_TEST_H
#define RF_TESTS_CHAN_TEST_H

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "check.h"

#include "ringfold.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/wait.h"

/* Run fn(arg) on a new plain thread. */
static inline pthread_t spawn_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, fn, arg), 0);
	return t;
}

/* Take with a generous bound: a test never hangs. */
static inline int take5(rf_chan *c, rf_val *v)
{
	return rf_chan_take_timeout(c, 5000, v);
}
static inline int put5(rf_chan *c, rf_val v)
{
	return rf_chan_put_timeout(c, v, 5000);
}

/* Take the single result of a go process (or any one-shot channel). */
static inline rf_val result_of(rf_chan *c)
{
	rf_val v = -1;
	assert_int_equal(take5(c, &v), 0);
	rf_chan_release(c);
	return v;
}

#endif
