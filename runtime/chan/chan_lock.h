/* runtime/chan/chan_lock.h: the channel lock (internal).
 *
 * A test-and-test-and-set spinlock: critical sections are a few dozen instructions that
 * never block, park or call out (see chan_impl.h), so waiting in the kernel (a mutex's
 * futex) costs more than it saves; and unlocking is one release store instead of an
 * atomic read-modify-write. Against lock-holder preemption on a busy machine, a waiter
 * that has spun CHAN_SPINS times yields its CPU between tries.
 * Orders: the acquire exchange pairs with the release store of the previous holder, so
 * every write of a critical section is seen by the next one.
 */
#ifndef RF_CHAN_LOCK_H
#define RF_CHAN_LOCK_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

#define CHAN_SPINS 64

typedef struct chan_lock {
	_Atomic bool held;
} chan_lock;

static inline void chan_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static inline void chan_lock_init(chan_lock *l) { atomic_init(&l->held, false); }

static inline void chan_lock_acquire(chan_lock *l)
{
	for (unsigned spins = 0;; spins++) {
		if (!atomic_exchange_explicit(&l->held, true, memory_order_acquire))
			return;
		while (atomic_load_explicit(&l->held, memory_order_relaxed)) {
			if (++spins < CHAN_SPINS)
				chan_cpu_relax();
			else
				sched_yield();
		}
	}
}

static inline void chan_lock_release(chan_lock *l)
{
	atomic_store_explicit(&l->held, false, memory_order_release);
}

#endif
