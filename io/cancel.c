/* io/cancel.c: cancelling the I/O a fiber waits on from another fiber or thread
 * (rf_io_cancel of ringfold/io.h).
 *
 * A token (struct rf_io_cancel) is attached to execution contexts (exec_ctx.io_cancel).
 * While a fiber of such a context waits on the backend, a record on its stack sits in
 * the token's `pending` list: the waiter, the worker's poller, and how to end the wait.
 * Triggering sets `triggered` and ends every pending wait:
 *   epoll: the waiter is claimed and completed with -ECANCELED (the fiber, back on its
 *          worker, leaves the fd table itself);
 *   io_uring: the kernel holds the waiter's address until the CQE, so only the request's
 *          own ring may end it: an IORING_OP_ASYNC_CANCEL for its user_data is submitted on
 *          the owner worker (directly when the trigger runs there, else by a pinned fiber
 *          spawned there), and the request completes with -ECANCELED as usual.
 * A pinned canceller re-checks under the lock that the record is still pending before it
 * submits, on the owner thread, where the waiting fiber cannot run meanwhile: it never
 * cancels a later request at the same address.
 *
 * Lock: `lock` (rank IO_CANCEL, a leaf) guards `pending` and every record's `sent`;
 * `triggered` is also read without it (acquire; the release store under the lock pairs).
 * `refs`: the handle and each canceller fiber in flight, taken under the lock; the last
 * drop frees the token once its lock is free. A trigger's effect is seen (`triggered`, a
 * wait ended) before it unlocks, and whoever sees it may drop the last reference: the
 * trigger's unlock is its last access to a token it holds no reference to.
 */
#include <stdlib.h>

#include "io/io_impl.h"
#include "runtime/base/ctx.h"
#include "runtime/sched/sched.h"

struct rf_io_cancel {
	spinlock lock;
	_Atomic bool triggered;
	_Atomic int refs;
	struct io_cancel_rec *pending; /* lock */
};

int io_cancel_new(struct rf_io_cancel **out)
{
	struct rf_io_cancel *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	spin_init(&c->lock, LOCKRANK_IO_CANCEL);
	atomic_init(&c->refs, 1);
	*out = c;
	return 0;
}

void io_cancel_unref(struct rf_io_cancel *c)
{
	if (c && atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1) {
		spin_wait_unlocked(&c->lock); /* a trigger may still be unlocking */
		free(c);
	}
}

bool io_cancel_triggered(void)
{
	struct rf_io_cancel *c = ctx_self()->io_cancel;
	return c && atomic_load_explicit(&c->triggered, memory_order_acquire);
}

bool io_cancel_enter(struct io_cancel_rec *r, waiter *w, io_poller *io, bool uring)
{
	return io_cancel_enter_token(r, ctx_self()->io_cancel, w, io, uring,
	                             (uint64_t)(uintptr_t)w);
}

bool io_cancel_enter_token(struct io_cancel_rec *r, struct rf_io_cancel *c, waiter *w,
                           io_poller *io, bool uring, uint64_t ud)
{
	r->token = c;
	if (!c)
		return true;
	*r = (struct io_cancel_rec){.token = c, .w = w, .io = io, .ud = ud, .uring = uring};
	spin_lock(&c->lock);
	bool ok = !atomic_load_explicit(&c->triggered, memory_order_relaxed);
	if (ok) {
		r->next = c->pending;
		if (c->pending)
			c->pending->prev = r;
		c->pending = r;
	}
	spin_unlock(&c->lock);
	return ok;
}

void io_cancel_leave(struct io_cancel_rec *r)
{
	struct rf_io_cancel *c = r->token;
	if (!c)
		return;
	spin_lock(&c->lock);
	if (r->prev)
		r->prev->next = r->next;
	else
		c->pending = r->next;
	if (r->next)
		r->next->prev = r->prev;
	spin_unlock(&c->lock);
}

/* Lock held: submit the ring's cancellations of c's records owned by `io`. */
static void send_local(struct rf_io_cancel *c, io_poller *io)
{
	for (struct io_cancel_rec *r = c->pending; r; r = r->next)
		if (r->uring && !r->sent && r->io == io) {
			uring_cancel_addr(io, r->ud);
			r->sent = true;
		}
}

static void canceller(void *arg)
{
	struct rf_io_cancel *c = arg;
	spin_lock(&c->lock);
	send_local(c, io_self());
	spin_unlock(&c->lock);
	io_cancel_unref(c);
}

int io_cancel_trigger(struct rf_io_cancel *c)
{
	int owners[64], nowners = 0;
	io_poller *self = fiber_self() ? io_self() : NULL;
	spin_lock(&c->lock);
	atomic_store_explicit(&c->triggered, true, memory_order_release);
	for (struct io_cancel_rec *r = c->pending; r; r = r->next) {
		if (!r->uring) {
			if (waiter_claim(r->w)) {
				r->w->result = -ECANCELED;
				waiter_complete(r->w);
			}
		} else if (!r->sent && r->io != self) {
			bool seen = false;
			for (int i = 0; i < nowners; i++)
				seen |= owners[i] == r->io->worker;
			if (!seen && nowners < 64)
				owners[nowners++] = r->io->worker;
		}
	}
	if (self)
		send_local(c, self);
	/* Relaxed: the handle's reference, alive while a record is pending, covers this. */
	atomic_fetch_add_explicit(&c->refs, nowners, memory_order_relaxed);
	spin_unlock(&c->lock);
	int rc = 0;
	for (int i = 0; i < nowners; i++) {
		int e = fiber_spawn(canceller, c, owners[i], NULL);
		if (e < 0) {
			io_cancel_unref(c);
			rc = rc ? rc : e;
		}
	}
	return rc;
}
