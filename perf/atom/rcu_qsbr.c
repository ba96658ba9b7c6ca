/* perf/atom/rcu_qsbr.c: read-section cost of liburcu's qsbr flavour (see two.h). A library cannot
 * make its callers announce quiescent states, so each section is thread_online ... thread_offline
 * (a store and a full fence). */
#define _LGPL_SOURCE
#include <stdatomic.h>
#include <urcu/urcu-qsbr.h>

#include "harness.h"
#include "perf/atom/two.h"

uint64_t read_urcu_qsbr(uint64_t ops, void *arg)
{
	_Atomic long *cell = arg;
	long sum = 0;
	urcu_qsbr_register_thread();
	urcu_qsbr_thread_offline();
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < ops; i++) {
		urcu_qsbr_thread_online();
		sum += atomic_load_explicit(cell, memory_order_acquire);
		urcu_qsbr_thread_offline();
	}
	uint64_t ns = bench_now_ns() - t0;
	urcu_qsbr_thread_online();
	urcu_qsbr_unregister_thread();
	atomic_store_explicit(cell, sum, memory_order_relaxed);
	return ns;
}
