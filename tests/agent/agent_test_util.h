/* tests/agent/agent_test_util.h: helpers shared by the agent tests. */
#ifndef RF_TESTS_AGENT_UTIL_H
#define RF_TESTS_AGENT_UTIL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "ringfold/agent.h"
#include "runtime/sched/wait.h"

/* Wait (up to 10 s) until cond(arg) holds; false if it never did. Polls every 1 ms: for
 * states that have no waitable event (an agent's failure), never as a timing guess. */
static inline bool wait_until(bool (*cond)(void *), void *arg)
{
	uint64_t deadline = time_now_ns() + 10ull * 1000000000u;
	while (!cond(arg)) {
		if (time_now_ns() > deadline)
			return false;
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	return true;
}

static inline bool agent_failed(void *a)
{
	return rf_agent_error(a) != 0;
}

/* A gate an action can wait behind: actions sent after the gated one queue up. */
static _Atomic int gate_open;
static _Atomic int gate_entered;

static inline int gated_identity(rf_val old, rf_val arg, rf_val *out)
{
	atomic_fetch_add_explicit(&gate_entered, 1, memory_order_relaxed);
	while (!atomic_load_explicit(&gate_open, memory_order_acquire)) {
		struct timespec ts = {0, 200000};
		nanosleep(&ts, NULL);
	}
	*out = old + arg;
	return 0;
}

static inline void gate_reset(void)
{
	atomic_store_explicit(&gate_open, 0, memory_order_relaxed);
	atomic_store_explicit(&gate_entered, 0, memory_order_relaxed);
}

static inline void gate_release(void)
{
	atomic_store_explicit(&gate_open, 1, memory_order_release);
}

#endif
