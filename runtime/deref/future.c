/* runtime/deref/future.c: futures on fibers, and the runner side shared by threads and
 * the executor service (contract in future.h).
 *
 * Cancel races completion through the cell: both try to realize it and exactly one wins
 * (under the cell's lock). A winning cancel sets `cancelled` in the same critical
 * section, so future-cancelled? is true only for a cancel that realized the future,
 * never for a body that returned -ECANCELED itself; a body that loses the race has its
 * result dropped.
 */
#include "runtime/deref/future.h"
#include "runtime/base/ctx.h"
#include "runtime/coll/cmem.h"
#include "runtime/sched/sched.h"
#include "runtime/var/convey.h"

/* The cell's memory: cmem's per-thread cache of fixed-size blocks, refilled from and
 * spilled to its slabs a batch at a time, so that a burst of submits (each future
 * outstanding until its deref) costs a pop each rather than a malloc. The block goes back
 * to the cache of whichever thread drops the last reference. */
void future_discard(struct rf_future *f)
{
	cmem_node_free(f, sizeof(*f));
}

static void free_future(struct rf_deferred *d)
{
	future_discard((struct rf_future *)d);
}

int future_alloc(rf_body_fn fn, rf_val arg, void *bindings, struct rf_future **out)
{
	struct rf_future *f = cmem_node_alloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	deferred_init_cell(&f->d, free_future);
	atomic_store_explicit(&f->d.refs, 2, memory_order_relaxed); /* handle + runner */
	f->fn = fn;
	f->arg = arg;
	f->bindings = bindings;
	atomic_init(&f->cancelled, false);
	atomic_init(&f->next, NULL);
	*out = f;
	return 0;
}

void future_run(struct rf_future *f, bool install)
{
	if (!rf_deferred_realized(&f->d)) { /* cancelled before it started: never run */
		void *saved = install ? var_bindings_install(f->bindings) : NULL;
		rf_val v = RF_NIL;
		int rc = f->fn(f->arg, &v);
		if (install)
			var_bindings_install(saved);
		deferred_complete(&f->d, rc < 0 ? rc : 0, rc < 0 ? RF_NIL : v);
	}
	if (install)
		var_bindings_release(f->bindings);
	deferred_unref(&f->d);
}

void future_drop_unrun(struct rf_future *f, int code)
{
	if (code == -ECANCELED)
		rf_future_cancel(f);
	else
		deferred_complete(&f->d, code, RF_NIL);
	var_bindings_release(f->bindings);
	deferred_unref(&f->d);
}

static void fiber_main(void *arg)
{
	future_run(arg, false);
}

int rf_future_call_with(const rf_spawn_opts *opts, rf_body_fn fn, rf_val arg, rf_future **out)
{
	sched_spawn how;
	if (!fn || !out || sched_spawn_from(opts, &how) < 0)
		return -EINVAL;
	int rc = sched_ensure();
	if (rc < 0)
		return rc;
	void *frame;
	struct rf_future *f;
	if ((rc = var_bindings_capture(&frame)) < 0 ||
	    (rc = future_alloc(fn, arg, frame, &f)) < 0) {
		var_bindings_release(frame);
		return rc;
	}
	/* The spawned fiber owns the frame's reference and releases it when it returns. */
	if ((rc = fiber_spawn_at(fiber_main, f, &how, frame)) < 0) {
		var_bindings_release(frame);
		future_discard(f);
		return rc;
	}
	*out = f;
	return 0;
}

int rf_future_call(rf_body_fn fn, rf_val arg, rf_future **out)
{
	return rf_future_call_with(NULL, fn, arg, out);
}

void rf_future_free(rf_future *f)
{
	if (f)
		deferred_unref(&f->d);
}

int rf_future_deref(rf_future *future, rf_val *out)
{
	return rf_deferred_deref(future ? &future->d : NULL, out);
}

int rf_future_deref_timeout(rf_future *future, int64_t timeout_ms, rf_val *out)
{
	return deferred_deref_ms(future ? &future->d : NULL, timeout_ms, out);
}

int rf_future_cancel(rf_future *f)
{
	if (!f)
		return -EINVAL;
	return deferred_complete_mark(&f->d, -ECANCELED, RF_NIL, &f->cancelled) ? 1 : 0;
}

bool rf_future_cancelled(rf_future *f)
{
	int code;
	rf_val v;
	/* The poll's acquire pairs with complete's release, which published `cancelled`. */
	return f && deferred_poll(&f->d, &code, &v) &&
	       atomic_load_explicit(&f->cancelled, memory_order_relaxed);
}

bool rf_future_done(rf_future *f)
{
	return f && rf_deferred_realized(&f->d);
}

bool rf_future_realized(rf_future *f)
{
	return rf_future_done(f);
}

rf_deferred *rf_future_deferred(rf_future *f)
{
	return f ? &f->d : NULL;
}
