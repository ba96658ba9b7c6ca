/* runtime/deref/deferred.c: the one-shot cell (see deferred.h for the contract).
 *
 * Completion claims waiters under the cell's lock (wait.h's rule: once a waiter is
 * claimed it cannot time out, so its stack stays valid until rf_waiter_complete), then
 * completes them and runs the listeners after dropping the lock (waitlist.h).
 */
#include <stdlib.h>

#include "runtime/deref/deferred.h"

void rf_deferred_init_cell(struct rf_deferred *d, void (*release)(struct rf_deferred *d))
{
	atomic_init(&d->state, RF_CELL_PENDING);
	atomic_init(&d->refs, 1);
	rf_spin_init(&d->lock);
	d->code = 0;
	d->value = RF_NIL;
	d->waiters.head = NULL;
	d->listeners = NULL;
	d->release = release;
}

bool rf_deferred_complete(struct rf_deferred *d, int code, rf_val value)
{
	return rf_deferred_complete_mark(d, code, value, NULL);
}

bool rf_deferred_complete_mark(struct rf_deferred *d, int code, rf_val value, _Atomic bool *mark)
{
	rf_spin_lock(&d->lock);
	if (atomic_load_explicit(&d->state, memory_order_relaxed) == RF_CELL_DONE) {
		rf_spin_unlock(&d->lock);
		return false;
	}
	if (mark) /* published by the release store of DONE below */
		atomic_store_explicit(mark, true, memory_order_relaxed);
	d->code = code;
	d->value = value;
	/* Pairs with the acquire in rf_deferred_poll and with the waiters' re-check. */
	atomic_store_explicit(&d->state, RF_CELL_DONE, memory_order_release);
	rf_waiter *claimed = rf_waitlist_claim_all(&d->waiters);
	rf_listener *ls = d->listeners;
	d->listeners = NULL;
	rf_spin_unlock(&d->lock);

	rf_waitlist_complete_chain(claimed, code, value);
	/* Listeners were pushed LIFO: reverse to run them in the order they were added. */
	rf_listener *fifo = NULL;
	while (ls) {
		rf_listener *next = ls->next;
		ls->next = fifo;
		fifo = ls;
		ls = next;
	}
	while (fifo) {
		rf_listener *next = fifo->next; /* fn may free the node */
		fifo->fn(fifo, code, value);
		fifo = next;
	}
	return true;
}

int rf_deferred_wait(struct rf_deferred *d, uint64_t deadline_ns, int *code, rf_val *value)
{
	if (rf_deferred_poll(d, code, value))
		return 0;
	rf_waiter w;
	rf_waiter_init(&w);
	rf_spin_lock(&d->lock);
	if (atomic_load_explicit(&d->state, memory_order_relaxed) == RF_CELL_DONE) {
		*code = d->code;
		*value = d->value;
		rf_spin_unlock(&d->lock);
		return 0;
	}
	if (rf_waitlist_sleep(&d->waiters, &d->lock, &w, deadline_ns) < 0)
		return -ETIMEDOUT;
	*code = w.result;
	*value = w.value;
	return 0;
}

int rf_deferred_deref_ms(struct rf_deferred *d, int64_t timeout_ms, rf_val timeout_val, rf_val *out)
{
	if (!d || !out || timeout_ms < 0)
		return -EINVAL;
	rf_val v;
	int code;
	if (rf_deferred_poll(d, &code, &v)) {
		*out = v;
		return code;
	}
	if (timeout_ms == 0) {
		*out = timeout_val;
		return 0;
	}
	if (rf_deferred_wait(d, rf_deadline_after_ms(timeout_ms), &code, &v) == -ETIMEDOUT) {
		*out = timeout_val;
		return 0;
	}
	*out = v;
	return code;
}

void rf_deferred_listen(struct rf_deferred *d, rf_listener *l)
{
	rf_spin_lock(&d->lock);
	if (atomic_load_explicit(&d->state, memory_order_relaxed) != RF_CELL_DONE) {
		l->next = d->listeners;
		d->listeners = l;
		rf_spin_unlock(&d->lock);
		return;
	}
	int code = d->code; /* realized: both fixed for good */
	rf_val value = d->value;
	rf_spin_unlock(&d->lock);
	l->fn(l, code, value);
}

void rf_deferred_unref(struct rf_deferred *d)
{
	if (atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) != 1)
		return;
	/* Nobody else holds it, so nobody can deliver: tell the listeners instead of
	 * leaving them queued forever. No waiter can be here (a waiter holds a handle). */
	rf_deferred_complete(d, RF_EABANDONED, RF_NIL);
	if (d->release)
		d->release(d);
}
