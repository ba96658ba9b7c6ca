/* runtime/deref/waitlist.h: a list of rf_waiters guarded by its owner's spin lock
 * (internal; the deref family's wait lists all use it).
 *
 * Invariant: a waiter is on the list iff w->op == the list. Every function but
 * rf_waitlist_complete_chain is called with the owner's lock held. A waiter whose wait
 * timed out takes the lock and unlinks itself only if still listed; claimers clear op
 * as they take waiters off, so a timed-out waiter never touches a list it left, and a
 * claimer never reads a waiter it did not claim once it has dropped the lock (wait.h
 * rules 1 and 2).
 */
#ifndef RF_DEREF_WAITLIST_H
#define RF_DEREF_WAITLIST_H

#include "runtime/spin.h"
#include "runtime/wait.h"

typedef struct rf_waitlist {
	rf_waiter *head; /* doubly linked through link[0] (prev) and link[1] (next) */
} rf_waitlist;

static inline void rf_waitlist_unlink(rf_waitlist *l, rf_waiter *w)
{
	rf_waiter *prev = w->link[0], *next = w->link[1];
	if (prev)
		prev->link[1] = next;
	else
		l->head = next;
	if (next)
		next->link[0] = prev;
	w->op = NULL;
}

/* Lock held: list w, drop the lock, wait until claimed and completed or the deadline;
 * returns 0 or -ETIMEDOUT, with the lock not held. */
static inline int rf_waitlist_sleep(rf_waitlist *l, rf_spin *lock, rf_waiter *w,
                                    uint64_t deadline_ns)
{
	w->op = l;
	w->link[0] = NULL;
	w->link[1] = l->head;
	if (l->head)
		l->head->link[0] = w;
	l->head = w;
	rf_spin_unlock(lock);
	if (rf_waiter_wait(w, deadline_ns) == 0)
		return 0;
	rf_spin_lock(lock);
	if (w->op == l)
		rf_waitlist_unlink(l, w);
	rf_spin_unlock(lock);
	return -ETIMEDOUT;
}

/* Lock held: take waiters off until one is claimed; returns it (to be completed, after
 * the unlock if the caller likes) or NULL if none could be. */
static inline rf_waiter *rf_waitlist_claim_one(rf_waitlist *l)
{
	while (l->head) {
		rf_waiter *w = l->head;
		rf_waitlist_unlink(l, w);
		if (rf_waiter_claim(w))
			return w;
	}
	return NULL;
}

/* Lock held: empty the list, claiming every waiter that can be; returns the claimed
 * ones chained through link[0] (oldest listed last). */
static inline rf_waiter *rf_waitlist_claim_all(rf_waitlist *l)
{
	rf_waiter *chain = NULL;
	for (rf_waiter *w; (w = rf_waitlist_claim_one(l));) {
		w->link[0] = chain;
		chain = w;
	}
	return chain;
}

/* Lock not needed: complete a claimed chain with (result, value). */
static inline void rf_waitlist_complete_chain(rf_waiter *chain, int result, rf_val value)
{
	while (chain) {
		rf_waiter *next = chain->link[0]; /* read before complete frees its stack */
		chain->result = result;
		chain->value = value;
		rf_waiter_complete(chain);
		chain = next;
	}
}

#endif
