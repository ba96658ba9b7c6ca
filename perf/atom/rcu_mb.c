/* perf/atom/rcu_mb.c: read-section cost of liburcu's mb flavour (see two.h). */
#define _LGPL_SOURCE
#include <stdatomic.h>
#include <urcu/urcu-mb.h>

#include "harness.h"
#include "perf/atom/two.h"

uint64_t read_urcu_mb(uint64_t ops, void *arg)
{
	_Atomic long *cell = arg;
	long sum = 0;
	urcu_mb_register_thread();
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < ops; i++) {
		urcu_mb_read_lock();
		sum += atomic_load_explicit(cell, memory_order_acquire);
		urcu_mb_read_unlock();
	}
	uint64_t ns = bench_now_ns() - t0;
	urcu_mb_unregister_thread();
	atomic_store_explicit(cell, sum, memory_order_relaxed);
	return ns;
}
