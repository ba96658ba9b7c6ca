/* perf/atom/rcu_bp.c: read-section cost of liburcu's bp flavour inlined here, without ringfold's
 * wrappers around it (see two.h). */
#define _LGPL_SOURCE
#include <stdatomic.h>
#include <urcu/urcu-bp.h>

#include "harness.h"
#include "perf/atom/two.h"

uint64_t read_urcu_bp(uint64_t ops, void *arg)
{
	_Atomic long *cell = arg;
	long sum = 0;

	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < ops; i++) {
		urcu_bp_read_lock();
		sum += atomic_load_explicit(cell, memory_order_acquire);
		urcu_bp_read_unlock();
	}
	uint64_t ns = bench_now_ns() - t0;

	atomic_store_explicit(cell, sum, memory_order_relaxed);
	return ns;
}
