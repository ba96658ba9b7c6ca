/* runtime/base/waiter.h: the waiter every blocking operation waits on, and its claim
 * (internal). The protocol (stages, who may touch what when) is described in
 * runtime/sched/wait.h, which adds waiting and completing.
 *
 * Claim is acq_rel so that a claimer that reads operation fields set up before the
 * waiter was listed sees them; its CAS races only with the waiting side's timeout CAS
 * and with other claimers (exactly one wins).
 */
#ifndef RF_BASE_WAITER_H
#define RF_BASE_WAITER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ringfold/base.h"

struct sched_fiber;

enum {
	WAITER_PENDING = 0,
	WAITER_CLAIMED = 1,
	WAITER_DONE = 2,
	WAITER_TIMEDOUT = 3,
	WAITER_CANCELLED = 4, /* ended by rf_shutdown: the wait returns RF_ESHUTDOWN */
	WAITER_STAGE = 7,     /* mask of the stage bits */
	WAITER_PARKED = 8,    /* flag */
};

typedef struct waiter {
	_Atomic uint32_t state;
	struct sched_fiber *fiber; /* set by init: the waiting fiber, NULL on a plain thread */
	void *link[2];             /* free for the owning list (prev/next) */
	void *op;                  /* free for the operation (alts: which clause) */
	rf_val value;              /* written by the claimer, read after wait returns 0 */
	int result;                /* written by the claimer, read after wait returns 0 */
	int waker_cpu;             /* a plain thread's waiter: the completer's CPU, written by
	                            * waiter_complete (wait.c's spin policy) */
	bool firm; /* set by the owner before waiting: shutdown must not cancel this wait,
	            * whose completion is certain and may come after (an in-flight io
	            * request, a pool job, a drain) */
} waiter;

/* Claim a pending waiter: true if this caller now owns its completion, false if it
 * already timed out or was claimed by someone else. Never blocks. */
static inline bool waiter_claim(waiter *w)
{
	uint32_t s = atomic_load_explicit(&w->state, memory_order_relaxed);
	while ((s & WAITER_STAGE) == WAITER_PENDING) {
		uint32_t claimed = (s & WAITER_PARKED) | WAITER_CLAIMED;
		if (atomic_compare_exchange_weak_explicit(
		        &w->state, &s, claimed, memory_order_acq_rel, memory_order_relaxed))
			return true;
	}
	return false;
}

#endif
