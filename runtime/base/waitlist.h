/* runtime/base/waitlist.h: a list of waiters guarded by its owner's spin lock
 * (internal). Waiting on it and completing what was claimed need the scheduler:
 * waitlist_sleep and waitlist_complete_chain in runtime/sched/wait.h.
 *
 * Invariant: a waiter is on the list iff w->op == the list. Every function here is called with the
 * owner's lock held. A waiter whose wait timed out takes the lock and unlinks itself only if still
 * listed; claimers clear op as they take waiters off, so a timed-out waiter never touches a list it
 * left, and a claimer never reads a waiter it did not claim once it has dropped the lock (wait.h
 * rules 1 and 2).
 */
#ifndef RF_BASE_WAITLIST_H
#define RF_BASE_WAITLIST_H

#include <stdbool.h>

#include "runtime/base/spin.h"
#include "runtime/base/waiter.h"

typedef struct waitlist {
	waiter *head, *tail; /* FIFO, doubly linked through link[0] (prev) and link[1] (next) */
} waitlist;

static inline void waitlist_init(waitlist *l)
{
	l->head = l->tail = NULL;
}

static inline void waitlist_unlink(waitlist *l, waiter *w)
{
	waiter *prev = w->link[0], *next = w->link[1];
	if (prev)
		prev->link[1] = next;
	else
		l->head = next;
	if (next)
		next->link[0] = prev;
	else
		l->tail = prev;
	w->op = NULL;
}

/* Lock held: put w at the tail of the list (claimed last). */
static inline void waitlist_add(waitlist *l, waiter *w)
{
	w->op = l;
	w->link[1] = NULL;
	w->link[0] = l->tail;
	if (l->tail)
		l->tail->link[1] = w;
	else
		l->head = w;
	l->tail = w;
}

/* Lock held: put w at the head of the list (claimed first: a waiter that keeps its turn). */
static inline void waitlist_add_front(waitlist *l, waiter *w)
{
	w->op = l;
	w->link[0] = NULL;
	w->link[1] = l->head;
	if (l->head)
		l->head->link[0] = w;
	else
		l->tail = w;
	l->head = w;
}

/* Lock held: whether w is on l (it was not claimed off it nor unlinked since). */
static inline bool waitlist_has(const waitlist *l, const waiter *w)
{
	return w->op == l;
}

/* Lock held: take waiters off until one is claimed; returns it (to be completed, after
 * the unlock if the caller likes) or NULL if none could be. */
static inline waiter *waitlist_claim_one(waitlist *l)
{
	while (l->head) {
		waiter *w = l->head;
		waitlist_unlink(l, w);
		if (waiter_claim(w))
			return w;
	}
	return NULL;
}

/* Lock held: empty the list, claiming every waiter that can be; returns the claimed
 * ones chained through link[0] (first listed last). */
static inline waiter *waitlist_claim_all(waitlist *l)
{
	waiter *chain = NULL;
	for (waiter *w; (w = waitlist_claim_one(l));) {
		w->link[0] = chain;
		chain = w;
	}
	return chain;
}

#endif
