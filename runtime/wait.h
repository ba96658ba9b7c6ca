/* runtime/wait.h: the one waiting mechanism under every blocking operation (internal).
 *
 * A blocking operation (deref, take, put, lock, await, join, sleep) puts an rf_waiter on
 * its own wait list, under its own lock, and waits on it; whoever satisfies the operation
 * takes the waiter off the list and wakes it. On a fiber the wait parks the fiber and its
 * core runs others; on a plain thread it is a futex wait. Both take an absolute deadline
 * (CLOCK_MONOTONIC ns, RF_NO_DEADLINE for none).
 *
 * The waiter lives on the waiting side's stack. Its state word carries the whole protocol:
 *
 *   stage  PENDING --claim--> CLAIMED --complete--> DONE
 *          PENDING --timeout--> TIMEDOUT
 *   flag   PARKED: the waiting side is asleep (fiber switched out / thread in futex).
 *
 * Rules that make the deliberate races safe:
 *  1. Exactly one side ends the wait: rf_waiter_claim() and the timeout both CAS from
 *     PENDING; whoever loses backs off (a claimer moves on to the next waiter, the
 *     timeout waits on for the completion that is now certain).
 *  2. A claimer reads what it needs from the waiter BEFORE completing: once DONE is
 *     published the waiting side may return and its stack be reused. rf_waiter_complete()
 *     itself reads w->fiber before its release exchange for the same reason.
 *  3. If the PARKED flag was set at completion, the waiting side cannot run again until
 *     the completer resumes it, so resuming the fiber is safe; a futex wake on a stale
 *     address after a spurious thread wake-up is harmless.
 *  4. Between claim and complete the claimer may write w->value / w->result and the
 *     operation's own fields (which channel op of an alts won, ...); the release in
 *     complete pairs with the acquire in rf_waiter_wait(), which publishes them.
 *  5. A claimer must complete promptly: no blocking between claim and complete.
 *
 * Typical use (a wait list guarded by the structure's lock):
 *
 *     rf_waiter w;
 *     rf_waiter_init(&w);
 *     lock(s); list_add(&s->waiters, &w); unlock(s);
 *     int rc = rf_waiter_wait(&w, deadline);        // 0 or -ETIMEDOUT
 *     if (rc == -ETIMEDOUT) { lock(s); if (on_list(&w)) list_del(&w); unlock(s); }
 *
 *   and the satisfying side, with s locked:
 *
 *     while ((w = list_pop(&s->waiters)))
 *         if (rf_waiter_claim(w)) { w->value = v; rf_waiter_complete(w); break; }
 *
 *   (complete may also run after unlocking; the claim is what must be under the lock.)
 *
 * The waiter removes itself from any list on timeout; a claimer removes it on claim.
 * Contexts: every function may be called from a fiber, a plain thread, a fork/join task.
 */
#ifndef RF_RUNTIME_WAIT_H
#define RF_RUNTIME_WAIT_H

#include <stdatomic.h>
#include <stdint.h>

#include "ringfold/base.h"

#define RF_NO_DEADLINE UINT64_MAX

struct rf_fiber;

enum {
	RF_WAIT_PENDING = 0,
	RF_WAIT_CLAIMED = 1,
	RF_WAIT_DONE = 2,
	RF_WAIT_TIMEDOUT = 3,
	RF_WAIT_STAGE = 3,  /* mask of the stage bits */
	RF_WAIT_PARKED = 4, /* flag */
};

typedef struct rf_waiter {
	_Atomic uint32_t state;
	struct rf_fiber *fiber; /* set by init: the waiting fiber, NULL on a plain thread */
	void *link[2];          /* free for the owning list (prev/next) */
	void *op;               /* free for the operation (alts: which clause) */
	rf_val value;           /* written by the claimer, read after wait returns 0 */
	int result;             /* written by the claimer, read after wait returns 0 */
} rf_waiter;

/* Prepare a waiter for the calling fiber or thread. Cheap: no syscall. */
void rf_waiter_init(rf_waiter *w);

/* Wait until completed or until deadline (absolute CLOCK_MONOTONIC ns).
 * Returns 0 when completed (w->value/w->result valid), -ETIMEDOUT when the deadline
 * passed first; after -ETIMEDOUT no claimer can succeed. Parks a fiber; futex-waits a
 * thread. Blocks. */
int rf_waiter_wait(rf_waiter *w, uint64_t deadline_ns);

/* Claim a pending waiter: true if this caller now owns its completion, false if it
 * already timed out or was claimed by someone else. Never blocks. */
bool rf_waiter_claim(rf_waiter *w);

/* Complete a claimed waiter and wake its owner. Never blocks (a futex wake syscall or a
 * push onto the owning core's inbox). */
void rf_waiter_complete(rf_waiter *w);

/* Current time, CLOCK_MONOTONIC, in ns. */
uint64_t rf_now_ns(void);

/* Absolute deadline ms from now (ms >= 0); saturates at RF_NO_DEADLINE. */
uint64_t rf_deadline_after_ms(int64_t ms);

/* Sleep the calling fiber (parked, core runs others) or thread until deadline. */
void rf_sleep_until(uint64_t deadline_ns);

#endif
