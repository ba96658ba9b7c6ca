/* runtime/deref/deferred.h: the one-shot result cell under promise, future, delay,
 * thread, executor task and every deferred (internal).
 *
 * A cell is realized exactly once, with a code (0 or negative) and a value. Until then
 * derefs wait on it (runtime/sched/wait.h) and listeners queue on it; realizing wakes every
 * waiter and runs every listener exactly once. Other families (agents' await, ...) may
 * build on it: embed struct rf_deferred first in their object or use rf_deferred_new().
 *
 * Contract.
 *  - `state` goes PENDING -> DONE once, under `lock`, by deferred_complete(). code and
 *    value are written before the release store of DONE and never again; a reader that
 *    acquire-loads DONE (deferred_poll) reads them without the lock. A delay first moves
 *    it PENDING -> TAKEN (a CAS, without the lock) to claim its body; TAKEN is pending to
 *    everyone else: every test is for DONE.
 *  - `waiters` and `listeners` are guarded by `lock`; completion detaches both under it.
 *    (waitlist.h says how a waiter whose deadline passed leaves the list.)
 *  - `refs` counts owners: the user's handle, a running body, each combinator listening
 *    with a reference. The last deferred_unref() calls `release`. A cell released
 *    while still pending is first completed with RF_EABANDONED so its listeners run once.
 *  - Nothing blocks, allocates or calls user code under `lock`; listeners and waiter
 *    wake-ups run after it is dropped, on the completing context.
 * Lock order: a cell's lock is a leaf; no two cell locks are ever held together.
 */
#ifndef RF_DEREF_DEFERRED_H
#define RF_DEREF_DEFERRED_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ringfold/deferred.h"
#include "runtime/base/spin.h"
#include "runtime/base/waitlist.h"
#include "runtime/sched/wait.h"

enum { CELL_PENDING = 0, CELL_DONE = 1, CELL_TAKEN = 2 };

struct deferred_listener;
/* Called once with the cell's outcome, after the cell's lock is dropped. The listener
 * node belongs to the callee from then on (it may free it). */
typedef void (*deferred_listener_fn)(struct deferred_listener *self, int code, rf_val value);

typedef struct deferred_listener {
	struct deferred_listener *next; /* cell's list, guarded by its lock */
	deferred_listener_fn fn;
} deferred_listener;

struct rf_deferred {
	_Atomic uint32_t state; /* PENDING/DONE; DONE release-stored by complete */
	_Atomic uint32_t refs;
	spinlock lock;
	int code;                               /* written once before DONE */
	rf_val value;                           /* written once before DONE */
	waitlist waiters;                       /* derefs waiting; lock */
	deferred_listener *listeners;           /* LIFO; lock */
	void (*release)(struct rf_deferred *d); /* last unref: frees the object; may be NULL */
};

/* Initialize a cell with one reference; release (may be NULL) runs on the last unref. */
void deferred_init_cell(struct rf_deferred *d, void (*release)(struct rf_deferred *d));

/* Realize with (code, value) if still pending: true if this call did it, false if it
 * was already realized (nothing changes). Wakes all waiters and runs all listeners on
 * the caller's context before returning. Never blocks (besides running listeners). */
bool deferred_complete(struct rf_deferred *d, int code, rf_val value);

/* As deferred_complete, and if this call realizes the cell, also sets *mark (under
 * the lock, before DONE is published: whoever acquire-loads DONE sees it). */
bool deferred_complete_mark(struct rf_deferred *d, int code, rf_val value, _Atomic bool *mark);

/* Fast check: true and the outcome when realized. Lock-free (one acquire load). */
static inline bool deferred_poll(struct rf_deferred *d, int *code, rf_val *value)
{
	/* Pairs with the release store of DONE in deferred_complete. */
	if (atomic_load_explicit(&d->state, memory_order_acquire) != CELL_DONE)
		return false;
	*code = d->code;
	*value = d->value;
	return true;
}

/* Wait until realized or the deadline (absolute ns, DEADLINE_NONE): 0 with the outcome
 * in *code and *value, or -ETIMEDOUT, or RF_ESHUTDOWN (a fiber's wait cancelled by
 * rf_shutdown). Parks a fiber, futex-waits a thread. */
int deferred_wait(struct rf_deferred *d, uint64_t deadline_ns, int *code, rf_val *value);

/* The shared deref/deref-timeout shape over deferred_wait (argument checks, zero
 * polls, the timeout value substituted on timeout). */
int deferred_deref_ms(struct rf_deferred *d, int64_t timeout_ms, rf_val *out);

/* Add a listener: runs now, on the caller, if already realized; otherwise once, on the
 * realizing context. Never blocks. */
void deferred_listen(struct rf_deferred *d, deferred_listener *l);

static inline void deferred_ref(struct rf_deferred *d)
{
	atomic_fetch_add_explicit(&d->refs, 1, memory_order_relaxed);
}

/* Drop a reference; the last one realizes a pending cell with RF_EABANDONED, then calls
 * release. The acq_rel decrement makes every owner's writes visible to the releaser. */
void deferred_unref(struct rf_deferred *d);

#endif
