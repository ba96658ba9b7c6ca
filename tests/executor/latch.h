/* tests/executor/latch.h: count-down latch on the waiter protocol, for joining fibers
 * in tests and benchmarks. The waiting side (fiber or thread) owns the waiter. */
#ifndef RF_TEST_LATCH_H
#define RF_TEST_LATCH_H

#include <stdatomic.h>

#include "runtime/sched/wait.h"

typedef struct latch {
	_Atomic long count;
	waiter w;
} latch;

static inline void latch_init(latch *l, long n)
{
	atomic_init(&l->count, n);
	waiter_init(&l->w);
}

static inline void latch_down(latch *l)
{
	/* acq_rel: the last one sees every earlier count-down's writes and publishes them */
	if (atomic_fetch_sub_explicit(&l->count, 1, memory_order_acq_rel) == 1 &&
	    waiter_claim(&l->w))
		waiter_complete(&l->w);
}

/* 0 once the count reached zero, -ETIMEDOUT after ms. */
static inline int latch_wait(latch *l, int64_t ms)
{
	return waiter_wait(&l->w, time_deadline_after_ms(ms));
}

#endif

/* One-poster, one-waiter binary semaphore: post() before wait() is remembered. */
typedef struct handoff {
	_Atomic uintptr_t slot; /* 0 empty, 1 posted, else the waiter * of the waiter */
} handoff;

static inline void handoff_post(handoff *h)
{
	uintptr_t s = 0;
	/* release: the waiter's acquire (or the waiter protocol) publishes what came before */
	if (atomic_compare_exchange_strong_explicit(&h->slot, &s, 1, memory_order_acq_rel,
	                                            memory_order_acquire))
		return;
	waiter *w = (waiter *)atomic_exchange_explicit(&h->slot, 0, memory_order_acquire);
	if (waiter_claim(w))
		waiter_complete(w);
}

static inline int handoff_wait(handoff *h, int64_t ms)
{
	waiter w;
	waiter_init(&w);
	uintptr_t s = 0;
	if (!atomic_compare_exchange_strong_explicit(&h->slot, &s, (uintptr_t)&w,
	                                             memory_order_acq_rel, memory_order_acquire)) {
		atomic_store_explicit(&h->slot, 0, memory_order_relaxed); /* s == 1: consume */
		return 0;
	}
	return waiter_wait(&w, ms < 0 ? DEADLINE_NONE : time_deadline_after_ms(ms));
}
