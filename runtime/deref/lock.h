/* runtime/deref/lock.h: the short spin lock guarding each deref-family object (internal).
 *
 * Held only around a few list operations and field stores: nobody blocks, parks, calls
 * user code or allocates while holding it. So a waiter for it spins briefly, then yields
 * the CPU (sched_yield) instead of sleeping; holders never sleep, so the yield loop ends.
 * Acquire (exchange, acquire) pairs with the release store of the previous unlock.
 */
#ifndef RF_DEREF_LOCK_H
#define RF_DEREF_LOCK_H

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

typedef struct rf_spin {
	_Atomic uint32_t held;
} rf_spin;

static inline void rf_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

static inline void rf_spin_init(rf_spin *l)
{
	atomic_init(&l->held, 0);
}

static inline void rf_spin_lock(rf_spin *l)
{
	for (unsigned spins = 0;; spins++) {
		if (!atomic_exchange_explicit(&l->held, 1, memory_order_acquire))
			return;
		while (atomic_load_explicit(&l->held, memory_order_relaxed)) {
			if (++spins > 64)
				sched_yield();
			else
				rf_cpu_relax();
		}
	}
}

static inline void rf_spin_unlock(rf_spin *l)
{
	atomic_store_explicit(&l->held, 0, memory_order_release);
}

#endif
