/* runtime/sched/wait.h: the one waiting mechanism under every blocking operation (internal).
 *
 * The waiter itself and its claim live in base (runtime/base/waiter.h); waiting and
 * completing need the scheduler and live here.
 *
 * A blocking operation (deref, take, put, lock, await, join, sleep) puts an waiter on
 * its own wait list, under its own lock, and waits on it; whoever satisfies the operation
 * takes the waiter off the list and wakes it. On a fiber the wait parks the fiber and its
 * core runs others; on a plain thread it is a futex wait. Both take an absolute deadline
 * (CLOCK_MONOTONIC ns, DEADLINE_NONE for none).
 *
 * The waiter lives on the waiting side's stack. Its state word carries the whole protocol:
 *
 *   stage  PENDING --claim--> CLAIMED --complete--> DONE
 *          PENDING --timeout--> TIMEDOUT
 *          PENDING --shutdown--> CANCELLED  (fibers only, never a firm waiter)
 *   flag   PARKED: the waiting side is asleep (fiber switched out / thread in futex).
 *
 * Shutdown: rf_shutdown cancels the waits of parked fibers instead of freeing their
 * stacks under them: the CANCELLED stage is a timeout that returns RF_ESHUTDOWN, so the
 * waiting side unlinks itself exactly as after a timeout and the fiber unwinds. A
 * waiter marked firm (w->firm) is one whose completion is certain (in-flight io, a
 * pool job): shutdown lets it complete instead.
 *
 * Rules that make the deliberate races safe:
 *  1. Exactly one side ends the wait: waiter_claim() and the timeout both CAS from
 *     PENDING; whoever loses backs off (a claimer moves on to the next waiter, the
 *     timeout waits on for the completion that is now certain).
 *  2. A claimer reads what it needs from the waiter BEFORE completing: once DONE is
 *     published the waiting side may return and its stack be reused. waiter_complete()
 *     itself reads w->fiber before its release exchange for the same reason.
 *  3. If the PARKED flag was set at completion, the waiting side cannot run again until
 *     the completer resumes it, so resuming the fiber is safe; a futex wake on a stale
 *     address after a spurious thread wake-up is harmless.
 *  4. Between claim and complete the claimer may write w->value / w->result and the
 *     operation's own fields (which channel op of an alts won, ...); the release in
 *     complete pairs with the acquire in waiter_wait(), which publishes them.
 *  5. A claimer must complete promptly: no blocking between claim and complete.
 *
 * Typical use (a wait list guarded by the structure's lock):
 *
 *     waiter w;
 *     waiter_init(&w);
 *     lock(s); list_add(&s->waiters, &w); unlock(s);
 *     int rc = waiter_wait(&w, deadline);        // 0 or -ETIMEDOUT
 *     if (rc == -ETIMEDOUT) { lock(s); if (on_list(&w)) list_del(&w); unlock(s); }
 *
 *   and the satisfying side, with s locked:
 *
 *     while ((w = list_pop(&s->waiters)))
 *         if (waiter_claim(w)) { w->value = v; waiter_complete(w); break; }
 *
 *   (complete may also run after unlocking; the claim is what must be under the lock.)
 *
 * The waiter removes itself from any list on timeout; a claimer removes it on claim.
 * Contexts: every function may be called from a fiber, a plain thread, a fork/join task.
 */
#ifndef RF_SCHED_WAIT_H
#define RF_SCHED_WAIT_H

#include "runtime/base/spin.h"
#include "runtime/base/time.h"
#include "runtime/base/waiter.h"
#include "runtime/base/waitlist.h"

/* Prepare a waiter for the calling fiber or thread. Cheap: no syscall. */
void waiter_init(waiter *w);

/* Wait until completed or until deadline (absolute CLOCK_MONOTONIC ns).
 * Returns 0 when completed (w->value/w->result valid), -ETIMEDOUT when the deadline
 * passed first, RF_ESHUTDOWN when rf_shutdown cancelled the wait of a fiber (at once if
 * it was already cancelling); after a non-zero return no claimer can succeed. Parks a
 * fiber; futex-waits a thread. Blocks. */
int waiter_wait(waiter *w, uint64_t deadline_ns);

/* Complete a claimed waiter and wake its owner. Never blocks (a futex wake syscall or a
 * push onto the owning core's inbox). */
void waiter_complete(waiter *w);

/* Sleep the calling fiber (parked, core runs others) or thread until deadline.
 * Returns 0, or RF_ESHUTDOWN when rf_shutdown cut a fiber's sleep short. */
int sched_sleep_until(uint64_t deadline_ns);

/* Lock not held, w already on l (listed under lock): wait until claimed and completed
 * or the deadline; if the wait ends otherwise take w off l if it is still there. Returns
 * 0, -ETIMEDOUT or RF_ESHUTDOWN (waiter_wait), with the lock not held. */
static inline int waitlist_wait(waitlist *l, spinlock *lock, waiter *w, uint64_t deadline_ns)
{
	int rc = waiter_wait(w, deadline_ns);
	if (rc == 0)
		return 0;
	spin_lock(lock);
	if (waitlist_has(l, w))
		waitlist_unlink(l, w);
	spin_unlock(lock);
	return rc;
}

/* Lock held: list w, drop the lock, and waitlist_wait. */
static inline int waitlist_sleep(waitlist *l, spinlock *lock, waiter *w, uint64_t deadline_ns)
{
	waitlist_add(l, w);
	spin_unlock(lock);
	return waitlist_wait(l, lock, w, deadline_ns);
}

/* Lock not needed: complete a claimed chain (waitlist_claim_all) with (result, value). */
static inline void waitlist_complete_chain(waiter *chain, int result, rf_val value)
{
	while (chain) {
		waiter *next = chain->link[0]; /* read before complete frees its stack */
		chain->result = result;
		chain->value = value;
		waiter_complete(chain);
		chain = next;
	}
}

#endif
