/* runtime/agent/send.c: send and send-off, held sends, and the shutdown accounting.
 *
 * Where a send goes (Clojure's Agent.dispatchAction): inside a transaction it is deferred
 * to the commit; inside an action (not its error handler) it is held on the action's
 * list; otherwise it is enqueued at once. A deferred or held send is counted in its
 * agent's holds until it is enqueued or dropped, so a freed agent outlives it.
 *
 * Which executor: send-via names one; send and send-off take the one set by
 * rf_agent_set_send_executor / _send_off_executor (g_send, g_send_off: any thread stores,
 * senders load, both relaxed: the executor is the user's object, published by whatever
 * made it reachable to the setter); NULL is the fiber executor.
 *
 * Shutdown accounting. g_work counts accepted work not yet finished: each accepted send
 * until it is enqueued or dropped, and each running drain until it retires. A send whose
 * enqueue starts a drain hands its unit to the drain instead of paying it back. Accepting
 * is a Dekker handshake with agent_drain_all: the sender adds to g_work and then reads
 * g_shutdown, the drainer sets g_shutdown and then reads g_work, all seq_cst, so either the
 * send sees the flag and is refused or the drainer sees its unit and waits for it.
 * g_work can rise from 0 afterwards only through await (its marker may start a drain),
 * never through a send or a restart, so once agent_drain_all saw it at 0 every accepted
 * action has run.
 *
 * The drainer's wait follows runtime/sched/wait.h: it lists its waiter in g_drain_waiter under
 * g_lock and then checks g_work; whoever brings g_work to 0 with the flag set completes
 * the listed waiter under g_lock.
 */
#include <stdlib.h>

#include "runtime/agent/agent_internal.h"
#include "runtime/base/ctx.h"
#include "runtime/base/lockrank.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/wait.h"
#include "runtime/stm/tx.h"
#include "runtime/var/convey.h"

static _Atomic uint64_t g_work;
static _Atomic int g_shutdown;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t g_drain_serial = PTHREAD_MUTEX_INITIALIZER; /* one drainer at a time */
static waiter *g_drain_waiter;                                     /* under g_lock */
static rf_executor *_Atomic g_send, *_Atomic g_send_off;

bool agent_shutting_down(void)
{
	return atomic_load_explicit(&g_shutdown, memory_order_seq_cst);
}

bool agent_work_accept(void)
{
	atomic_fetch_add_explicit(&g_work, 1, memory_order_seq_cst);
	if (!agent_shutting_down())
		return true;
	agent_work_done();
	return false;
}

void agent_work_drain_start(void)
{
	atomic_fetch_add_explicit(&g_work, 1, memory_order_seq_cst);
}

static void drain_wake(void)
{
	mutex_lock_ranked(&g_lock, LOCKRANK_AGENT_GLOBAL);
	waiter *w = g_drain_waiter;
	if (w && atomic_load_explicit(&g_work, memory_order_seq_cst) == 0 && waiter_claim(w)) {
		g_drain_waiter = NULL;
		waiter_complete(w);
	}
	mutex_unlock_ranked(&g_lock, LOCKRANK_AGENT_GLOBAL);
}

void agent_work_done(void)
{
	if (atomic_fetch_sub_explicit(&g_work, 1, memory_order_seq_cst) == 1 &&
	    agent_shutting_down())
		drain_wake();
}

void agent_node_drop(struct agent_node *n)
{
	rf_agent *a = n->agent;
	bool held = n->held;
	var_bindings_release(n->bindings);
	agent_node_free(n);
	/* Destroy before paying the unit back: shutdown waits for the final release too. */
	if (held)
		agent_after(a,
		            atomic_fetch_sub_explicit(&a->state, AGENT_HOLD, memory_order_acq_rel) -
		                AGENT_HOLD);
	agent_work_done();
}

void agent_dispatch(struct agent_node *n)
{
	rf_agent *a = n->agent;              /* n may be run and freed as soon as it is enqueued */
	struct rf_executor *place = n->exec; /* read before n is published */
	if (agent_enqueue(a, n))
		agent_schedule(a, place); /* the send's unit of work passes to the drain */
	else
		agent_work_done();
}

/* An accepted send outside a transaction: held if an action (not its error handler) runs
 * on this fiber, else enqueued. */
static void route(struct agent_node *n)
{
	struct agent_action_ctx *act = ctx_self()->agent_action;
	if (act && act->holding) {
		if (!n->held)
			agent_hold(n);
		n->held_next = NULL;
		*act->held_end = n;
		act->held_end = &n->held_next;
	} else {
		agent_dispatch(n);
	}
}

/* After the commit the send goes where it would have gone outside the transaction: a
 * transaction inside an action hands it to the action's held sends (as Clojure does). */
static void tx_commit_send(void *arg)
{
	route(arg);
}
static void tx_drop_send(void *arg)
{
	agent_node_drop(arg);
}

static int send_action(rf_agent *a, rf_executor *ex, rf_update_fn fn, rf_val arg)
{
	if (!a || !fn)
		return -EINVAL;
	uint64_t s = atomic_load_explicit(&a->state, memory_order_acquire);
	if (s & AGENT_FAILED)
		return RF_EAGENTFAILED;
	if (agent_queued(s) >= AGENT_QUEUED_MAX || s / AGENT_HOLD >= AGENT_HOLDS_MAX)
		return -ENOMEM;
	if (!agent_work_accept())
		return RF_ESHUTDOWN;
	struct agent_node *n = agent_node_alloc(a);
	if (!n) {
		agent_work_done();
		return -ENOMEM;
	}
	n->agent = a;
	n->fn = fn;
	n->arg = arg;
	n->exec = ex;
	n->held = false;
	if (var_bindings_capture(&n->bindings) < 0) {
		agent_node_drop(n);
		return -ENOMEM;
	}
	if (stm_tx_running()) {
		int rc = stm_tx_defer(tx_commit_send, n, tx_drop_send);
		if (rc == 0) {
			agent_hold(n); /* before the commit, which runs later on this context */
			return 0;
		}
		if (rc != RF_ENOTX) {
			agent_node_drop(n);
			return rc;
		}
	}
	route(n);
	return 0;
}

int rf_agent_send(rf_agent *a, rf_update_fn fn, rf_val arg)
{
	return send_action(a, atomic_load_explicit(&g_send, memory_order_relaxed), fn, arg);
}

int rf_agent_send_off(rf_agent *a, rf_update_fn fn, rf_val arg)
{
	return send_action(a, atomic_load_explicit(&g_send_off, memory_order_relaxed), fn, arg);
}

int rf_agent_send_via(rf_agent *a, rf_executor *ex, rf_update_fn fn, rf_val arg)
{
	return ex ? send_action(a, ex, fn, arg) : -EINVAL;
}

void rf_agent_set_send_executor(rf_executor *ex)
{
	atomic_store_explicit(&g_send, ex, memory_order_relaxed);
}

void rf_agent_set_send_off_executor(rf_executor *ex)
{
	atomic_store_explicit(&g_send_off, ex, memory_order_relaxed);
}

int rf_agent_release_pending_sends(void)
{
	struct agent_action_ctx *act = ctx_self()->agent_action;
	if (!act || !act->holding)
		return 0;
	int n = 0;
	for (struct agent_node *h = act->held, *next; h; h = next, n++) {
		next = h->held_next; /* h is gone once dispatched */
		agent_dispatch(h);
	}
	act->held = NULL;
	act->held_end = &act->held;
	return n;
}

void rf_agent_shutdown(void)
{
	atomic_store_explicit(&g_shutdown, 1, memory_order_seq_cst);
}

int agent_drain_all(void)
{
	mutex_lock_ranked(&g_drain_serial, LOCKRANK_AGENT_DRAIN_SERIAL);
	rf_agent_shutdown();
	waiter w;
	waiter_init(&w);
	mutex_lock_ranked(&g_lock, LOCKRANK_AGENT_GLOBAL);
	g_drain_waiter = &w;
	mutex_unlock_ranked(&g_lock, LOCKRANK_AGENT_GLOBAL);
	if (atomic_load_explicit(&g_work, memory_order_seq_cst) == 0)
		drain_wake(); /* completes our own waiter unless a waker already did */
	waiter_wait(&w, DEADLINE_NONE);
	mutex_unlock_ranked(&g_drain_serial, LOCKRANK_AGENT_DRAIN_SERIAL);
	return 0;
}

static void agents_on_shutdown(void)
{
	agent_drain_all();
}

static void register_hook(void)
{
	sched_on_shutdown(agents_on_shutdown);
}

void agent_register_shutdown_hook(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, register_hook);
}

void agent_reopen_all(void)
{
	atomic_store_explicit(&g_shutdown, 0, memory_order_seq_cst);
}
