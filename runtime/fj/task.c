/* runtime/fj/task.c: fork, join and invoke (ringfold/fj.h).
 *
 * A forked task lives in the forker's frame. Who touches it:
 *   - the forker writes fn/arg/frame/state before pushing (push's release publishes them);
 *   - exactly one runner: the forker itself (took it back from its deque) or one thief
 *     (won the CAS on top); a runner other than the joiner writes result/rc and then
 *     completes done (release), which the joiner acquires;
 *   - `thief` is a hint only (relaxed): where to leapfrog.
 *
 * Invokes from a worker of another pool (fj_remote) live in the caller's frame; the
 * caller's worker keeps running its own pool's work until done.
 * External invokes (from a plain thread or a fiber) go through the pool's inject queue as
 * a heap record shared by caller and worker (refs = 2). The caller's waiter sits on the
 * record's wait list (runtime/base/waitlist.h) under its spin lock, which orders the
 * worker's claim against a caller that timed out and unlinks itself (after that the
 * waiter's stack may be gone).
 */
#include <stdlib.h>

#include "ringfold/fj.h"

#include "runtime/base/lockrank.h"
#include "runtime/fj/worker.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/wait.h"
#include "runtime/var/convey.h"

_Static_assert(sizeof(fj_task) <= sizeof(rf_fj_task), "rf_fj_task too small");
_Static_assert(_Alignof(fj_task) <= _Alignof(rf_fj_task), "rf_fj_task misaligned");

int rf_fj_fork(rf_fj_task *ut, rf_body_fn fn, rf_val arg)
{
	fj_worker *w = fj_self;
	if (!w)
		return RF_ENOTINPOOL;
	if (!ut || !fn)
		return -EINVAL;
	fj_task *t = (fj_task *)ut;
	t->fn = fn;
	t->arg = arg;
	t->frame = var_bindings_current(); /* borrowed: the forker joins before its scope ends */
	atomic_store_explicit(&t->done.state, FJ_PENDING, memory_order_relaxed);
	atomic_store_explicit(&t->thief, -1, memory_order_relaxed);
	if (dq_push(&w->dq, t) < 0)
		return -ENOMEM;
	if (atomic_load_explicit(&fj_idle_total, memory_order_relaxed))
		fj_wake_some(w); /* see pool.c on the deliberate race */
	return 0;
}

static int join_slow(fj_worker *w, fj_task *t, fj_task *x, rf_val *out)
{
	for (; x; x = dq_take(&w->dq)) {
		if (x == t) {
			*out = RF_NIL;
			return t->fn(t->arg, out);
		}
		if (atomic_load_explicit(&t->done.state, memory_order_acquire) & FJ_DONE) {
			dq_push(&w->dq, x); /* not ours to run now; its slot is free, cannot fail */
			break;
		}
		fj_run_task(w, x); /* forked after t (joined out of order) or by an outer frame */
	}
	fj_help_until(w, &t->done, atomic_load_explicit(&t->thief, memory_order_relaxed));
	*out = t->result;
	return t->rc;
}

int rf_fj_join(rf_fj_task *ut, rf_val *out)
{
	fj_worker *w = fj_self;
	if (!w)
		return RF_ENOTINPOOL;
	if (!ut || !out)
		return -EINVAL;
	fj_task *t = (fj_task *)ut;
	/* Relaxed: only the joining worker sets FJ_JOINED (below), and only it reads it. */
	if (atomic_load_explicit(&t->done.state, memory_order_relaxed) & FJ_JOINED)
		return -EINVAL; /* joined already: its task ran once and is gone */
	fj_task *x = dq_take(&w->dq);
	int rc;
	if (x == t) {
		*out = RF_NIL;
		rc = t->fn(t->arg, out);
	} else {
		rc = join_slow(w, t, x, out);
	}
	/* Nobody else touches the word once the task is done (fj_done_complete's exchange
	 * was its last access) or was never stolen. */
	atomic_store_explicit(&t->done.state, FJ_DONE | FJ_JOINED, memory_order_relaxed);
	return rc;
}

static void remote_run(fj_job *j)
{
	fj_remote *r = (fj_remote *)j;
	r->result = RF_NIL;
	USER_CALL();
	r->rc = r->fn(r->arg, &r->result);
	var_bindings_release(r->job.frame);
	fj_done_complete(&r->done);
}

void fj_remote_start(fj_remote *r, int node, rf_body_fn fn, rf_val arg)
{
	*r = (fj_remote){.job.run = remote_run, .fn = fn, .arg = arg};
	atomic_init(&r->done.state, FJ_PENDING);
	/* No memory for the capture, or that pool is stopping: this pool worker runs it
	 * here, where the bindings are the forker's own. */
	if (var_bindings_capture(&r->job.frame) < 0 || fj_submit(node, &r->job) < 0)
		remote_run(&r->job);
}

int fj_remote_wait(fj_remote *r, rf_val *out)
{
	fj_help_until(fj_self, &r->done, -1);
	*out = r->result;
	return r->rc;
}

/* Invoke from a plain thread or a fiber. */
typedef struct ext_invoke {
	fj_job job;
	rf_body_fn fn;
	rf_val arg;
	spinlock lock;
	waitlist caller; /* the caller's waiter, under lock, until claimed or timed out */
	_Atomic int refs;
} ext_invoke;

static void ext_release(ext_invoke *r)
{
	/* acq_rel: the last holder sees every write of the other before freeing. */
	if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1)
		free(r);
}

static void ext_run(fj_job *j)
{
	ext_invoke *r = (ext_invoke *)j;
	rf_val v = RF_NIL;
	USER_CALL();
	int rc = r->fn(r->arg, &v);
	var_bindings_release(r->job.frame);
	spin_lock(&r->lock);
	waiter *w = waitlist_claim_one(&r->caller);
	spin_unlock(&r->lock);
	if (w) { /* claimed: the caller waits for this completion (wait.h rule 1) */
		w->value = v;
		w->result = rc;
		waiter_complete(w);
	}
	ext_release(r);
}

static int invoke(int node, rf_body_fn fn, rf_val arg, uint64_t deadline, rf_val *out)
{
	if (!fn || !out)
		return -EINVAL;
	int rc = fj_ensure();
	if (rc < 0)
		return rc;
	if (node >= fj_pool_count())
		return -EINVAL;
	fj_worker *self = fj_self;
	if (self && (node < 0 || node == self->node)) {
		*out = RF_NIL;
		return fn(arg, out);
	}
	if (node < 0)
		node = fj_home_node();
	if (self) {
		fj_remote r;
		fj_remote_start(&r, node, fn, arg);
		return fj_remote_wait(&r, out);
	}
	ext_invoke *r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	waiter w;
	waiter_init(&w);
	*r = (ext_invoke){.job.run = ext_run, .fn = fn, .arg = arg};
	if (var_bindings_capture(&r->job.frame) < 0) {
		free(r);
		return -ENOMEM;
	}
	spin_init(&r->lock, LOCKRANK_FJ_INVOKE);
	waitlist_init(&r->caller);
	waitlist_add(&r->caller, &w); /* before the record is shared: no lock needed */
	atomic_init(&r->refs, 2);
	if ((rc = fj_submit(node, &r->job)) < 0) { /* the pools are stopping */
		var_bindings_release(r->job.frame);
		free(r);
		return rc;
	}
	fiber_wait_on(WAIT_FJ, NULL);
	rc = waitlist_wait(&r->caller, &r->lock, &w, deadline);
	if (rc == 0) {
		*out = w.value;
		rc = w.result;
	}
	ext_release(r);
	return rc;
}

int rf_fj_invoke(rf_body_fn fn, rf_val arg, rf_val *out)
{
	return invoke(-1, fn, arg, DEADLINE_NONE, out);
}

int rf_fj_invoke_on(int node, rf_body_fn fn, rf_val arg, rf_val *out)
{
	if (node < 0)
		return -EINVAL;
	return invoke(node, fn, arg, DEADLINE_NONE, out);
}

int rf_fj_invoke_timeout(rf_body_fn fn, rf_val arg, int64_t timeout_ms, rf_val *out)
{
	if (timeout_ms < 0)
		return -EINVAL;
	return invoke(-1, fn, arg, time_deadline_after_ms(timeout_ms), out);
}

int rf_fj_nodes(void)
{
	int rc = fj_ensure();
	return rc < 0 ? rc : fj_pool_count();
}

int rf_fj_workers(int node)
{
	int rc = fj_ensure();
	if (rc < 0)
		return rc;
	return node < 0 || node >= fj_pool_count() ? -EINVAL : fj_pool_workers(node);
}

int rf_fj_current_node(void)
{
	return fj_self ? fj_self->node : -1;
}
