/* runtime/agent/agent.c: creating, reading, configuring, restarting and freeing agents.
 *
 * The shared state and who owns which field: agent_internal.h. restart_lock serializes
 * restarts (Clojure's restart is synchronized); while FAILED is set no drain exists, so
 * the restarting thread may consume the held nodes (clear_actions) as the consumer.
 * rf_agent_free takes no lock: nothing may use the agent concurrently with it or after
 * it, and its one atomic OR decides whether it destroys the agent, consumes a failed
 * agent's queue, or leaves the destruction to the drain or holder that ends last.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/agent/agent_internal.h"
#include "runtime/base/ctx.h"
#include "runtime/base/lockrank.h"
#include "runtime/base/opts.h"
#include "runtime/base/reclaim.h"
#include "runtime/var/convey.h"

static bool valid_mode(int mode)
{
	return mode == RF_AGENT_FAIL || mode == RF_AGENT_CONTINUE;
}

static int check(rf_validator_fn fn, rf_val ctx, rf_val v)
{
	int rc = fn ? fn(v, ctx) : 1;
	return rc > 0 ? 0 : rc == 0 ? RF_EVALIDATOR : rc;
}

int agent_validate(rf_agent *a, rf_val v)
{
	/* Relaxed: a validator set concurrently may or may not apply (as in Clojure); the
	 * pair is read whole under fn_lock. */
	if (!atomic_load_explicit(&a->validator, memory_order_relaxed))
		return 0;
	spin_lock(&a->fn_lock);
	rf_validator_fn fn = atomic_load_explicit(&a->validator, memory_order_relaxed);
	rf_val ctx = a->validator_ctx;
	spin_unlock(&a->fn_lock);
	return check(fn, ctx, v);
}

void agent_handle_error(rf_agent *a, int err)
{
	if (!atomic_load_explicit(&a->handler, memory_order_relaxed))
		return;
	spin_lock(&a->fn_lock);
	rf_agent_error_fn fn = atomic_load_explicit(&a->handler, memory_order_relaxed);
	rf_val ctx = a->handler_ctx;
	spin_unlock(&a->fn_lock);
	if (fn)
		fn(a, err, ctx);
}

int rf_agent_new(rf_val value, const rf_agent_opts *opts, rf_agent **out)
{
	rf_agent_opts o;
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (opts_copy(&o, sizeof(o), opts) < 0)
		return -EINVAL;
	int mode = o.error_mode;
	if (mode == RF_AGENT_MODE_DEFAULT)
		mode = o.error_handler ? RF_AGENT_CONTINUE : RF_AGENT_FAIL;
	if (!valid_mode(mode))
		return -EINVAL;
	int rc = check(o.validator, o.validator_ctx, value);
	if (rc < 0)
		return rc;
	agent_register_shutdown_hook();
	size_t size = (sizeof(rf_agent) + 63) & ~(size_t)63;
	rf_agent *a = aligned_alloc(64, size);
	if (!a)
		return -ENOMEM;
	memset(a, 0, sizeof(*a));
	agent_queue_init(a);
	atomic_init(&a->value, value);
	atomic_init(&a->error, 0);
	spin_init(&a->fn_lock, LOCKRANK_AGENT_FN);
	atomic_init(&a->validator, o.validator);
	a->validator_ctx = o.validator_ctx;
	atomic_init(&a->handler, o.error_handler);
	a->handler_ctx = o.error_handler_ctx;
	atomic_init(&a->mode, mode);
	atomic_init(&a->watches, NULL);
	a->release = o.release;
	a->release_ctx = o.release_ctx;
	pthread_mutex_init(&a->restart_lock, NULL);
	pthread_mutex_init(&a->watch_lock, NULL);
	*out = a;
	return 0;
}

/* The end of the agent: its last queue node, watches, final value and memory. Called by
 * the one party that made state exactly FREED; nobody else touches the agent after. */
static void destroy(rf_agent *a)
{
	if (a->head != &a->stub)
		agent_node_free(a->head);
	agent_watches_destroy(a);
	/* Relaxed: the RMW that made state FREED acquired every writer's release of value. A
	 * reader that loaded it earlier may still be in a read section: retire, not release. */
	rf_val v = atomic_load_explicit(&a->value, memory_order_relaxed);
	if (a->release && v != RF_NIL)
		reclaim_retire_now_or_wait(v, a->release, a->release_ctx);
	pthread_mutex_destroy(&a->restart_lock);
	pthread_mutex_destroy(&a->watch_lock);
	free(a);
}

void agent_after(rf_agent *a, uint64_t state)
{
	if (state == AGENT_FREED)
		destroy(a);
}

void agent_discard(struct agent_node *n)
{
	if (!n->fn)
		agent_await_mark_done(n->group, -ECANCELED);
	else
		var_bindings_release(n->bindings);
}

/* Discard the `cleared` nodes a failure holds and clear FAILED, in one step with their
 * retirement: senders that add meanwhile either found FAILED (their node is counted here
 * and drained after) or find a live agent. acq_rel: pairs with the senders' adds and the
 * next drain. Consumer only (FAILED set). Returns the new state. */
static uint64_t unfail(rf_agent *a, uint64_t s, uint64_t cleared)
{
	struct agent_frees f = {0};
	for (uint64_t i = 0; i < cleared; i++)
		agent_discard(agent_dequeue(a, &f));
	agent_frees_flush(&f);
	uint64_t next;
	do
		next = (s - cleared * AGENT_UNIT) & ~AGENT_FAILED;
	while (!atomic_compare_exchange_weak_explicit(&a->state, &s, next, memory_order_acq_rel,
	                                              memory_order_acquire));
	return next;
}

void rf_agent_free(rf_agent *a)
{
	if (!a)
		return;
	uint64_t s =
	    atomic_fetch_or_explicit(&a->state, AGENT_FREED, memory_order_acq_rel) | AGENT_FREED;
	if (s & AGENT_FAILED) {
		/* Nobody can restart it any more: discard what it holds, as a freed drain
		 * discards what follows a failure. */
		a->discard = true;
		s = unfail(a, s, agent_queued(s));
		if (agent_queued(s)) {
			agent_work_drain_start();
			agent_schedule(a, NULL); /* discards what came meanwhile, then ends it */
			return;
		}
	}
	agent_after(a, s);
}

int rf_agent_deref(rf_agent *a, rf_val *out)
{
	if (!a || !out)
		return -EINVAL;
	/* Acquire: pairs with the release store of the action or restart that wrote it. */
	*out = atomic_load_explicit(&a->value, memory_order_acquire);
	return 0;
}

int rf_agent_error(rf_agent *a)
{
	if (!a)
		return -EINVAL;
	/* Acquire: pairs with the drain's CAS that set FAILED after storing error. */
	if (!(atomic_load_explicit(&a->state, memory_order_acquire) & AGENT_FAILED))
		return 0;
	return atomic_load_explicit(&a->error, memory_order_relaxed);
}

int rf_agent_restart(rf_agent *a, rf_val value, bool clear_actions)
{
	if (!a)
		return -EINVAL;
	int rc = 0;
	reclaim_thread *node = NULL;
	mutex_lock_ranked(&a->restart_lock, LOCKRANK_AGENT_RESTART);
	uint64_t s = atomic_load_explicit(&a->state, memory_order_acquire);
	if (!(s & AGENT_FAILED))
		rc = RF_EAGENTOK;
	else if ((rc = agent_validate(a, value)) < 0)
		;
	else if (a->release && !(node = reclaim_node_alloc()))
		rc = -ENOMEM;
	else if (!agent_work_accept())
		rc = RF_ESHUTDOWN;
	if (rc < 0) {
		if (node)
			reclaim_node_free(node);
		goto out;
	}
	/* Relaxed load: no drain exists while FAILED; release store: pairs with
	 * rf_agent_deref, and the next drain reads it after its acquire. */
	rf_val old = atomic_load_explicit(&a->value, memory_order_relaxed);
	atomic_store_explicit(&a->value, value, memory_order_release);
	if (node && old != value && old != RF_NIL)
		reclaim_retire(node, old, a->release, a->release_ctx);
	else if (node)
		reclaim_node_free(node);
	s = unfail(a, s, clear_actions ? agent_queued(s) : 0);
	if (agent_queued(s))
		agent_schedule(a, NULL); /* the restart's unit of work passes to the drain */
	else
		agent_work_done();
out:
	mutex_unlock_ranked(&a->restart_lock, LOCKRANK_AGENT_RESTART);
	return rc;
}

int rf_agent_set_error_handler(rf_agent *a, rf_agent_error_fn handler, rf_val ctx)
{
	if (!a)
		return -EINVAL;
	spin_lock(&a->fn_lock);
	atomic_store_explicit(&a->handler, handler, memory_order_relaxed);
	a->handler_ctx = ctx;
	spin_unlock(&a->fn_lock);
	return 0;
}

int rf_agent_get_error_handler(rf_agent *a, rf_agent_error_fn *handler, rf_val *ctx)
{
	if (!a)
		return -EINVAL;
	spin_lock(&a->fn_lock);
	if (handler)
		*handler = atomic_load_explicit(&a->handler, memory_order_relaxed);
	if (ctx)
		*ctx = a->handler_ctx;
	spin_unlock(&a->fn_lock);
	return 0;
}

int rf_agent_set_error_mode(rf_agent *a, rf_agent_error_mode mode)
{
	if (!a || !valid_mode((int)mode))
		return -EINVAL;
	atomic_store_explicit(&a->mode, (int)mode, memory_order_relaxed);
	return 0;
}

rf_agent_error_mode rf_agent_get_error_mode(rf_agent *a)
{
	if (!a)
		return RF_AGENT_MODE_DEFAULT;
	return (rf_agent_error_mode)atomic_load_explicit(&a->mode, memory_order_relaxed);
}

int rf_agent_set_validator(rf_agent *a, rf_validator_fn fn, rf_val ctx)
{
	if (!a)
		return -EINVAL;
	int rc = check(fn, ctx, atomic_load_explicit(&a->value, memory_order_acquire));
	if (rc < 0)
		return rc;
	spin_lock(&a->fn_lock);
	atomic_store_explicit(&a->validator, fn, memory_order_relaxed);
	a->validator_ctx = ctx;
	spin_unlock(&a->fn_lock);
	return 0;
}

int rf_agent_get_validator(rf_agent *a, rf_validator_fn *fn, rf_val *ctx)
{
	if (!a)
		return -EINVAL;
	spin_lock(&a->fn_lock);
	if (fn)
		*fn = atomic_load_explicit(&a->validator, memory_order_relaxed);
	if (ctx)
		*ctx = a->validator_ctx;
	spin_unlock(&a->fn_lock);
	return 0;
}

rf_agent *rf_agent_self(void)
{
	struct agent_action_ctx *act = ctx_self()->agent_action;
	return act ? act->agent : NULL;
}
