/* runtime/base/spin.h: the CPU pause and the short spin lock every family shares (internal).
 *
 * cpu_relax() is one pause (x86) or yield (aarch64) instruction: the body of every
 * busy-wait, so the sibling hyperthread and the memory system get the core's resources.
 *
 * spinlock is a test-and-test-and-set lock for critical sections of a few dozen
 * instructions that never block, park, allocate or call user code: waiting in the kernel
 * (a mutex's futex) would cost more than it saves, and unlocking is one release store
 * instead of a read-modify-write. Against lock-holder preemption on a busy machine, a
 * waiter that has spun SPIN_PAUSES times gives its CPU away with sched_yield, and after
 * SPIN_YIELDS yields sleeps in short naps (spin_step; never a fiber yield: the holder may
 * be a fiber of the same worker that is not running, and the caller may hold other locks
 * that a fiber switch must not carry).
 * Orders: the acquire exchange pairs with the release store of the previous unlock, so
 * every write of a critical section is seen by the next holder.
 *
 * Every spin lock has a rank (runtime/base/lockrank.h), given at spin_init; debug builds
 * (RF_DEBUG_INVARIANTS) check the order and that nothing allocates, calls user code or
 * parks while one is held.
 */
#ifndef RF_RUNTIME_SPIN_H
#define RF_RUNTIME_SPIN_H

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "runtime/base/lockrank.h"

#define SPIN_PAUSES 64
#define SPIN_YIELDS 64

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/* Step `spins` of a busy-wait for another thread: pause; past SPIN_PAUSES steps give
 * the CPU away; past SPIN_YIELDS more, sleep (50 us, doubling up to 1 ms). The holder
 * has then been preempted for a while: on an oversubscribed machine a waiter that only
 * yields keeps competing with it for CPU time (sched_yield returns at once when nothing
 * else is runnable here), burning milliseconds of CPU per wait; sleeping hands the CPU
 * over and bounds what the wait costs. Never a fiber switch (see spinlock below). */
static inline void spin_step(unsigned spins)
{
	if (spins < SPIN_PAUSES) {
		cpu_relax();
	} else if (spins < SPIN_PAUSES + SPIN_YIELDS) {
		sched_yield();
	} else {
		unsigned k = spins - SPIN_PAUSES - SPIN_YIELDS;
		struct timespec ts = {0, 50000L << (k < 4 ? k : 4)}; /* 50 .. 800 us */
		nanosleep(&ts, NULL);
	}
}

typedef struct spinlock {
	_Atomic uint32_t held;
#ifdef RF_DEBUG_INVARIANTS
	int rank;
#endif
} spinlock;

#ifdef RF_DEBUG_INVARIANTS
#define SPIN_RANK(l) ((l)->rank)
#else
#define SPIN_RANK(l) LOCKRANK_NONE
#endif

static inline void spin_init(spinlock *l, enum lockrank rank)
{
	atomic_init(&l->held, 0);
#ifdef RF_DEBUG_INVARIANTS
	l->rank = rank;
#endif
}

static inline void spin_lock(spinlock *l)
{
	lockrank_acquire(SPIN_RANK(l), l, true);
	for (unsigned spins = 0;; spins++) {
		if (!atomic_exchange_explicit(&l->held, 1, memory_order_acquire))
			return;
		while (atomic_load_explicit(&l->held, memory_order_relaxed))
			spin_step(++spins);
	}
}

/* The release store is the last access to *l: the next holder may free it (chan_final). */
static inline void spin_unlock(spinlock *l)
{
	int rank = SPIN_RANK(l);
	atomic_store_explicit(&l->held, 0, memory_order_release);
	lockrank_release(rank, l, true);
}

/* Wait until nobody holds *l, reading only. For the last owner of an object whose
 * other users may still be inside their final critical section after they made its
 * outcome visible without the lock (a lock-free reader saw it and dropped the last
 * reference): their unlock is their last access, so once *l is free the object can go.
 * Acquire pairs with that unlock's release. Only for a lock nobody can take any more. */
static inline void spin_wait_unlocked(spinlock *l)
{
	for (unsigned spins = 0; atomic_load_explicit(&l->held, memory_order_acquire);)
		spin_step(++spins);
}

#endif
