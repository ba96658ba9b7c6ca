/* perf/atom/rcu_memb.c: read-section cost of liburcu's memb flavour (see two.h). */
#define _LGPL_SOURCE
#include <stdatomic.h>
#include <urcu/urcu-memb.h>

#include "harness.h"
#include "perf/atom/two.h"

uint64_t read_urcu_memb(uint64_t ops, void *arg)
{
	_Atomic long *cell = arg;
	long sum = 0;
	urcu_memb_register_thread();
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < ops; i++) {
		urcu_memb_read_lock();
		sum += atomic_load_explicit(cell, memory_order_acquire);
		urcu_memb_read_unlock();
	}
	uint64_t ns = bench_now_ns() - t0;
	urcu_memb_unregister_thread();
	atomic_store_explicit(cell, sum, memory_order_relaxed);
	return ns;
}
