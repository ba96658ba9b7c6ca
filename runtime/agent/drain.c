/* runtime/agent/drain.c: running an agent's actions, one at a time, in order.
 *
 * A drain is the agent's consumer (see agent_internal.h): it exists from the transition
 * that created it until it retires its last node or fails. It runs on an executor fiber
 * (or as a task of the executor its actions name), so an action may park (sleep, ringfold
 * I/O, deref); it takes the nodes counted in `state`, runs them, retires them with one
 * release add, and goes on while more are counted, yielding to the worker's other fibers
 * after every AGENT_BATCH actions. One fiber per busy period, not per action: a burst of
 * sends costs one spawn.
 *
 * The drain touches the agent for the last time in the atomic operation that retires its
 * last node or sets FAILED; after it the agent may be restarted, drained by another fiber
 * or destroyed, unless that operation left state exactly FREED: then this drain is the
 * one that destroys it (agent_internal.h).
 *
 * Each action carries the executor it was sent through (send-via); a drain runs on one
 * `place` and, when the next action wants another, hands the agent over: it retires what
 * it ran, leaves that action counted (so it stays the consumer) and schedules the next
 * drain there, as Clojure's agent submits each action to its own executor.
 *
 * An owning agent (a release function) owns its value: an action's result, once
 * committed and after the watches ran, replaces the old value, which is retired (readers
 * may hold it in a read section); a result that is not committed (validator, no memory
 * for the retirement) is released at once, nobody having seen it.
 */
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>

#include "ringfold/executor.h"
#include "runtime/agent/agent_internal.h"
#include "runtime/base/ctx.h"
#include "runtime/base/lockrank.h"
#include "runtime/base/probe.h"
#include "runtime/base/reclaim.h"
#include "runtime/base/spin.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/wait.h"
#include "runtime/var/convey.h"

enum { AGENT_BATCH = 128 };

/* How long a drain that ran out of work waits for more before it retires (ns). A drain
 * that retires costs the next send a new drain: on a fiber a spawn and often a worker
 * wake-up (a syscall); on a pool thread a condition-variable hand-off. Senders that send
 * in streams are spared that by this grace period, during which the drain still owns the
 * agent (state != 0) and gives its CPU away between checks. On fibers it is kept short:
 * when thousands of agents finish at once (10,000 send-offs waking from one sleep), every
 * microsecond of lingering is paid thousands of times on the same workers. */
#define AGENT_LINGER_FIBER_NS 2000u
#define AGENT_LINGER_THREAD_NS 200000u

/* Wait a little for nodes beyond the `queued` this drain knows of; returns how many are
 * counted now (still `queued` if none came). It watches the link after the last node it
 * took, which only the next sender writes, and reads the count only once that is set:
 * polling the count would pull its line away from the senders, whose every send writes it. */
static uint64_t linger(rf_agent *a, uint64_t queued)
{
	bool fiber = fiber_self() != NULL;
	uint64_t deadline = 0;
	for (unsigned spins = 1;; spins++) {
		/* Relaxed: hints. Only counted nodes are taken (the count is what the retire
		 * subtracts from), and agent_peek's acquire on the link publishes a node. */
		if (atomic_load_explicit(&a->head->next, memory_order_relaxed)) {
			uint64_t s = atomic_load_explicit(&a->state, memory_order_relaxed);
			if (agent_queued(s) > queued)
				return agent_queued(s);
		}
		cpu_relax();
		if (spins % 32)
			continue;
		if (!deadline)
			deadline = time_now_ns() +
			           (fiber ? AGENT_LINGER_FIBER_NS : AGENT_LINGER_THREAD_NS);
		else if (time_now_ns() >= deadline)
			return queued;
		if (fiber)
			fiber_yield();
		else
			sched_yield();
	}
}

/* Release the sends an action held: in order, after the action (and its watches). */
static void release_held(struct agent_node *n, bool ok)
{
	while (n) {
		struct agent_node *next = n->held_next; /* n is gone once dispatched */
		if (ok)
			agent_dispatch(n);
		else
			agent_node_drop(n);
		n = next;
	}
}

/* A result the agent will not keep: released at once, unless it is the old value. */
static void discard_value(rf_agent *a, rf_val v, rf_val old)
{
	if (a->release && v != old && v != RF_NIL)
		a->release(v, a->release_ctx);
}

/* Run one action on the agent (Clojure's Action.doRun). Returns 0, or the error that
 * fails the agent (only in FAIL mode). */
static int run_action(rf_agent *a, struct agent_node *n)
{
	exec_ctx *ctx = ctx_self();
	struct agent_action_ctx act = {.agent = a, .holding = true, .held = NULL};
	act.held_end = &act.held;
	void *saved_action = ctx->agent_action;
	ctx->agent_action = &act;
	void *saved_bindings = var_bindings_install(n->bindings);

	/* Relaxed: this drain is the only writer of value while it owns the agent, and it
	 * came to own it through an acquire on `state` after the last writer's release. */
	rf_val old = atomic_load_explicit(&a->value, memory_order_relaxed);
	rf_val next = RF_NIL;
	reclaim_thread *node = NULL;
	USER_CALL();
	PROBE(agent_action, a, n->fn);
	int rc = n->fn(old, n->arg, &next);
	if (rc >= 0 && (rc = agent_validate(a, next)) < 0)
		discard_value(a, next, old);
	else if (rc >= 0 && a->release && next != old && old != RF_NIL &&
	         !(node = reclaim_node_alloc())) {
		discard_value(a, next, old);
		rc = -ENOMEM;
	}
	if (rc >= 0) {
		rc = 0;
		/* Release: pairs with the acquire in rf_agent_deref. */
		atomic_store_explicit(&a->value, next, memory_order_release);
		/* A watch's code is an error of the action, after the change (Clojure's
		 * doRun catches a watch's exception like the action's own). */
		rc = agent_watches_notify(a, old, next);
		if (node)
			reclaim_retire(node, old, a->release, a->release_ctx);
	}
	act.holding = false;
	release_held(act.held, rc == 0);
	if (rc < 0) {
		PROBE(agent_error, a, rc);
		agent_handle_error(a, rc);
		if (atomic_load_explicit(&a->mode, memory_order_relaxed) == RF_AGENT_CONTINUE)
			rc = 0;
	}
	ctx->agent_action = saved_action;
	var_bindings_install(saved_bindings);
	var_bindings_release(n->bindings);
	return rc;
}

/* Retire `done` nodes; with err, also fail the agent, or on a freed agent (which nobody
 * can restart) switch to discarding. Returns the new state: the drain goes on while it
 * counts nodes and FAILED is clear. Release: publishes the actions' effects to the next
 * owner and to await's fast path; acquire: pairs with the senders' adds. */
static uint64_t retire(rf_agent *a, uint64_t done, int err)
{
	if (!err)
		return atomic_fetch_sub_explicit(&a->state, done * AGENT_UNIT,
		                                 memory_order_acq_rel) -
		       done * AGENT_UNIT;
	atomic_store_explicit(&a->error, err, memory_order_relaxed); /* published by the CAS */
	uint64_t old = atomic_load_explicit(&a->state, memory_order_relaxed), next;
	do {
		next = old - done * AGENT_UNIT;
		if (old & AGENT_FREED)
			a->discard = true; /* FREED is never cleared: every retry comes here */
		else
			next |= AGENT_FAILED;
	} while (!atomic_compare_exchange_weak_explicit(&a->state, &old, next, memory_order_acq_rel,
	                                                memory_order_relaxed));
	return next;
}

void agent_drain_run(rf_agent *a)
{
	struct rf_executor *place = a->place;
	uint64_t s = atomic_load_explicit(&a->state, memory_order_acquire);
	uint64_t queued = agent_queued(s);
	struct rf_executor *next_place = NULL;
	bool handoff = false;
	struct agent_frees frees = {0};
	while (queued && !(s & AGENT_FAILED) && !handoff) {
		uint64_t done = 0;
		int err = 0;
		struct agent_await_group *reached = NULL;
		/* A batch ends after AGENT_BATCH actions, at an error, at an action for another
		 * executor, at an await marker, which is counted down only after the retire (its
		 * waiter then finds the agent idle unless more was sent meanwhile), or when no
		 * more came while it lingered: a drain that keeps up with its senders takes their
		 * nodes as they come and retires them together, not one write of the count each. */
		while (done < AGENT_BATCH && !err && !reached) {
			if (done == queued && (queued = linger(a, queued)) == done)
				break;
			struct agent_node *n = agent_peek(a);
			if (n->fn && n->exec != place && !a->discard) {
				next_place = n->exec;
				handoff = true;
				break;
			}
			agent_dequeue(a, &frees);
			done++;
			if (a->discard)
				agent_discard(n);
			else if (!n->fn)
				reached = n->group; /* read now: the node dies with the next pop */
			else
				err = run_action(a, n);
		}
		agent_frees_flush(&frees);
		s = retire(a, done, err);
		queued = agent_queued(s);
		if (reached)
			agent_await_mark_done(reached, 0);
		if (queued && done == AGENT_BATCH)
			fiber_yield();
	}
	if (handoff) {
		agent_schedule(a, next_place); /* our unit of work passes to the next drain */
		return;
	}
	agent_after(a, s);
	agent_work_done();
}

static void drain_fiber(void *arg)
{
	agent_drain_run(arg);
}

static void drain_job(pool_job *j)
{
	agent_drain_run((rf_agent *)((char *)j - offsetof(rf_agent, drain_job)));
}

static int drain_task(rf_val arg, rf_val *out)
{
	agent_drain_run(rf_to_ptr(arg));
	return 0;
}

/* Accepted actions must run regardless: when the executor cannot take the drain (shut
 * down, no memory; no fiber stack, runtime stopping or not running) it goes to a fiber,
 * then to the blocking pool, and if that has no thread either the caller drains the agent
 * itself. `place` is recorded first, so a drain that ran elsewhere does not hand over
 * again for the same executor. The drain owns the agent's drain_job: at most one drain
 * exists. */
void agent_schedule(rf_agent *a, struct rf_executor *place)
{
	a->place = place;
	if (place && rf_executor_submit(place, drain_task, rf_from_ptr(a), NULL) == 0)
		return;
	if (fiber_spawn(drain_fiber, a, SCHED_WORKER_ANY, NULL) == 0)
		return;
	a->drain_job.run = drain_job;
	a->drain_job.survives_fork = true; /* accepted actions are never lost */
	if (pool_submit(&a->drain_job) < 0)
		agent_drain_run(a);
}
