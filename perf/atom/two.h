/* perf/atom/two.h: run a loop on two threads at once and time it (bench_atom helpers). */
#ifndef RF_PERF_ATOM_TWO_H
#define RF_PERF_ATOM_TWO_H

#include <stdint.h>

/* Run body(id, ops, arg) on two threads (id 0 and 1) started together; returns the wall
 * time from the common start to the later finish, in ns. */
uint64_t two_threads(void (*body)(int id, uint64_t ops, void *arg), uint64_t ops, void *arg);

/* How long the two threads of the last two_threads call were runnable but kept off the CPU
 * by the OS (waiting on a run queue, /proc/thread-self/schedstat), summed, in ns; 0 if the
 * kernel does not say. A thread the lock puts to sleep is not runnable: this is the
 * scheduler's share of the run, not the lock's. */
uint64_t two_threads_runq_ns(void);

/* The same for thread id (0 or 1) alone. */
uint64_t two_threads_runq_of(int id);

/* Read-section cost of liburcu's flavours used directly (one TU each: their headers
 * cannot share one). Each runs ops begin/load/end sections; returns ns. */
uint64_t read_urcu_bp(uint64_t ops, void *arg);
uint64_t read_urcu_memb(uint64_t ops, void *arg);
uint64_t read_urcu_qsbr(uint64_t ops, void *arg);
uint64_t read_urcu_mb(uint64_t ops, void *arg);

#endif
