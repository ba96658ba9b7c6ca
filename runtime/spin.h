/* runtime/spin.h: the CPU pause and the short spin lock every family shares (internal).
 *
 * rf_cpu_relax() is one pause (x86) or yield (aarch64) instruction: the body of every
 * busy-wait, so the sibling hyperthread and the memory system get the core's resources.
 *
 * rf_spin is a test-and-test-and-set lock for critical sections of a few dozen
 * instructions that never block, park, allocate or call user code: waiting in the kernel
 * (a mutex's futex) would cost more than it saves, and unlocking is one release store
 * instead of a read-modify-write. Against lock-holder preemption on a busy machine, a
 * waiter that has spun RF_SPIN_PAUSES times gives its CPU away with sched_yield (never a
 * fiber yield: the holder may be a fiber of the same worker that is not running, and the
 * caller may hold other locks that a fiber switch must not carry).
 * Orders: the acquire exchange pairs with the release store of the previous unlock, so
 * every write of a critical section is seen by the next holder.
 */
#ifndef RF_RUNTIME_SPIN_H
#define RF_RUNTIME_SPIN_H

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#define RF_SPIN_PAUSES 64

static inline void rf_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/* Step `spins` of a busy-wait for another thread: pause, and past RF_SPIN_PAUSES steps
 * give the CPU away. */
static inline void rf_spin_step(unsigned spins)
{
	if (spins < RF_SPIN_PAUSES)
		rf_cpu_relax();
	else
		sched_yield();
}

typedef struct rf_spin {
	_Atomic uint32_t held;
} rf_spin;

static inline void rf_spin_init(rf_spin *l)
{
	atomic_init(&l->held, 0);
}

static inline void rf_spin_lock(rf_spin *l)
{
	for (unsigned spins = 0;; spins++) {
		if (!atomic_exchange_explicit(&l->held, 1, memory_order_acquire))
			return;
		while (atomic_load_explicit(&l->held, memory_order_relaxed))
			rf_spin_step(++spins);
	}
}

static inline void rf_spin_unlock(rf_spin *l)
{
	atomic_store_explicit(&l->held, 0, memory_order_release);
}

#endif
