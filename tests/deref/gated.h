/* tests/deref/gated.h: a future body that blocks on a promise it borrows.
 *
 * The test frees the promise only once the body says it returned, and cancels the future
 * only once the body says it started (a future cancelled before its body starts never
 * runs it, and would never say it returned).
 */
#ifndef RF_TESTS_DEREF_GATED_H
#define RF_TESTS_DEREF_GATED_H

#include <sched.h>
#include <stdatomic.h>

#include "ringfold.h"
#include "runtime/base/time.h"

typedef struct gated {
	rf_promise *gate;
	_Atomic int started, returned;
} gated;

/* The body: arg is a gated; returns what derefing gate gives. */
static inline int wait_for_gate(rf_val arg, rf_val *out)
{
	gated *g = rf_to_ptr(arg);
	atomic_store_explicit(&g->started, 1, memory_order_relaxed);
	int rc = rf_promise_deref(g->gate, out);
	/* Release: pairs with gated_wait's acquire; the deref was the body's last use of gate. */
	atomic_store_explicit(&g->returned, 1, memory_order_release);
	return rc;
}

/* Wait until *flag (g->started or g->returned) is set; false after 60 s. */
static inline bool gated_wait(_Atomic int *flag)
{
	uint64_t until = time_now_ns() + 60000000000ull;
	while (!atomic_load_explicit(flag, memory_order_acquire))
		if (time_now_ns() > until)
			return false;
		else
			sched_yield();
	return true;
}

#endif
