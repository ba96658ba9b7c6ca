/* runtime/deref/deferred.c: the one-shot cell (see deferred.h for the contract).
 *
 * Completion claims waiters under the cell's lock (wait.h's rule: once a waiter is
 * claimed it cannot time out, so its stack stays valid until waiter_complete), then
 * completes them and runs the listeners after dropping the lock (waitlist.h).
 */
#include <stdlib.h>

#include "runtime/base/lockrank.h"
#include "runtime/deref/deferred.h"
#include "runtime/sched/sched.h"

void deferred_init_cell(struct rf_deferred *d, void (*release)(struct rf_deferred *d))
{
	atomic_init(&d->state, CELL_PENDING);
	atomic_init(&d->refs, 1);
	spin_init(&d->lock, LOCKRANK_DEFERRED);
	d->code = 0;
	d->value = RF_NIL;
	waitlist_init(&d->waiters);
	d->listeners = NULL;
	d->release = release;
}

bool deferred_complete(struct rf_deferred *d, int code, rf_val value)
{
	return deferred_complete_mark(d, code, value, NULL);
}

bool deferred_complete_mark(struct rf_deferred *d, int code, rf_val value, _Atomic bool *mark)
{
	spin_lock(&d->lock);
	if (atomic_load_explicit(&d->state, memory_order_relaxed) == CELL_DONE) {
		spin_unlock(&d->lock);
		return false;
	}
	if (mark) /* published by the release store of DONE below */
		atomic_store_explicit(mark, true, memory_order_relaxed);
	d->code = code;
	d->value = value;
	/* Pairs with the acquire in deferred_poll and with the waiters' re-check. */
	atomic_store_explicit(&d->state, CELL_DONE, memory_order_release);
	waiter *claimed = waitlist_claim_all(&d->waiters);
	deferred_listener *ls = d->listeners;
	d->listeners = NULL;
	spin_unlock(&d->lock);

	waitlist_complete_chain(claimed, code, value);
	/* Listeners were pushed LIFO: reverse to run them in the order they were added. */
	deferred_listener *fifo = NULL;
	while (ls) {
		deferred_listener *next = ls->next;
		ls->next = fifo;
		fifo = ls;
		ls = next;
	}
	while (fifo) {
		deferred_listener *next = fifo->next; /* fn may free the node */
		USER_CALL();
		fifo->fn(fifo, code, value);
		fifo = next;
	}
	return true;
}

int deferred_wait(struct rf_deferred *d, uint64_t deadline_ns, int *code, rf_val *value)
{
	if (deferred_poll(d, code, value))
		return 0;
	waiter w;
	waiter_init(&w);
	spin_lock(&d->lock);
	if (atomic_load_explicit(&d->state, memory_order_relaxed) == CELL_DONE) {
		*code = d->code;
		*value = d->value;
		spin_unlock(&d->lock);
		return 0;
	}
	fiber_wait_on(WAIT_DEFERRED, d);
	int rc = waitlist_sleep(&d->waiters, &d->lock, &w, deadline_ns);
	if (rc < 0)
		return rc;
	*code = w.result;
	*value = w.value;
	return 0;
}

int deferred_deref_ms(struct rf_deferred *d, int64_t timeout_ms, rf_val *out)
{
	if (!d || !out || timeout_ms < 0)
		return -EINVAL;
	rf_val v;
	int code;
	if (deferred_poll(d, &code, &v)) {
		*out = v;
		return code;
	}
	if (timeout_ms == 0)
		return -ETIMEDOUT;
	int rc = deferred_wait(d, time_deadline_after_ms(timeout_ms), &code, &v);
	if (rc < 0)
		return rc; /* -ETIMEDOUT, or RF_ESHUTDOWN */
	*out = v;
	return code;
}

void deferred_listen(struct rf_deferred *d, deferred_listener *l)
{
	spin_lock(&d->lock);
	if (atomic_load_explicit(&d->state, memory_order_relaxed) != CELL_DONE) {
		l->next = d->listeners;
		d->listeners = l;
		spin_unlock(&d->lock);
		return;
	}
	int code = d->code; /* realized: both fixed for good */
	rf_val value = d->value;
	spin_unlock(&d->lock);
	USER_CALL();
	l->fn(l, code, value);
}

void deferred_unref(struct rf_deferred *d)
{
	if (atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) != 1)
		return;
	/* Nobody else holds it, so nobody can deliver: tell the listeners instead of
	 * leaving them queued forever. No waiter can be here (a waiter holds a handle).
	 * A realized cell has none left to tell, but its completer may not own a
	 * reference (a promise's deliverer) and may still be unlocking after a lock-free
	 * reader saw DONE: wait for that unlock, its last access to the cell. Relaxed: a
	 * stale PENDING would only take the lock and find DONE. */
	if (atomic_load_explicit(&d->state, memory_order_relaxed) != CELL_DONE)
		deferred_complete(d, RF_EABANDONED, RF_NIL);
	else
		spin_wait_unlocked(&d->lock);
	if (d->release)
		d->release(d);
}
