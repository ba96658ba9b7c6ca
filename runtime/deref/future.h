/* runtime/deref/future.h: the future object and how a runner drives it (internal).
 *
 * Fibers (rf_future_call), plain threads (rf_thread_start) and the executor service
 * all run futures through future_alloc + future_run, so cancel, deref and the
 * callbacks behave the same whatever ran the body. Agents and other families may use
 * these to hand out a future of work they run themselves.
 *
 * Contract: a future is a cell (deferred.h) plus the body. It starts with two
 * references: the caller's handle and the runner's; future_run drops the runner's
 * (so does future_drop_unrun for a task that will never run). `cancelled` is set
 * relaxed by the cancel that wins before it realizes the cell; the cell's release/acquire
 * publishes it. `next` belongs to whoever queues the future (the executor service's
 * queue links through it). fn, arg and bindings are set before the future is shared and read only
 * by the runner.
 */
#ifndef RF_DEREF_FUTURE_H
#define RF_DEREF_FUTURE_H

#include "ringfold/future.h"
#include "runtime/deref/deferred.h"
#include "runtime/var/convey.h"

struct rf_future {
	struct rf_deferred d;
	rf_body_fn fn;
	rf_val arg;
	void *bindings; /* captured frame (a reference), or NULL; the runner releases it */
	_Atomic bool cancelled;
	_Atomic(struct rf_future *) next;
};

/* A pending future of fn(arg) holding the caller's and the runner's references. The
 * caller decides whether to capture bindings (var_bindings_capture) or pass NULL.
 * 0 or -ENOMEM (bindings untouched then). */
int future_alloc(rf_body_fn fn, rf_val arg, void *bindings, struct rf_future **out);

/* Free a future from future_alloc that was never shared (nobody else holds a reference):
 * the error paths of its creator. Bindings are the caller's to release. */
void future_discard(struct rf_future *f);

/* Run the body on the calling context (unless already cancelled), realize the future
 * with its outcome, release its bindings and the runner's reference. When `install` is
 * true the bindings are installed around the body (a fiber spawned with them has them
 * already). May not touch f afterwards. */
void future_run(struct rf_future *f, bool install);

/* A runner gives up a future it will never run: realize it with `code`, release the
 * bindings and the runner's reference. */
void future_drop_unrun(struct rf_future *f, int code);

#endif
