/* runtime/agent/await.c: await and await-for.
 *
 * Like Clojure, await queues a marker behind everything already queued on each agent and
 * waits until every marker has been reached: each agent runs its actions in order, so
 * then every action sent before has run. An agent with nothing queued has nothing
 * running either, so it needs no marker: a fast path that also makes await-for with 0 ms
 * answer truthfully on idle agents. Sends held in a running action or a transaction are
 * not dispatched yet, and Clojure's await does not wait for them either. An agent already
 * failed is refused, as Clojure's await (a send) is; one that fails later holds the marker
 * until a restart.
 *
 * The group outlives a timed-out waiter: markers still queued (held by a failed agent,
 * say) count it down later. It is reference-counted (one reference per marker plus the
 * waiter's). Its waiter follows runtime/sched/wait.h: listed in g->waiter under g->lock before
 * the markers go out; the last marker claims and completes it under g->lock; a waiter that
 * times out unlists itself under g->lock.
 */
#include <stdlib.h>

#include "runtime/agent/agent_internal.h"
#include "runtime/base/ctx.h"
#include "runtime/base/lockrank.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/wait.h"
#include "runtime/stm/tx.h"

struct agent_await_group {
	_Atomic size_t remaining; /* markers not reached yet */
	_Atomic size_t refs;
	_Atomic int result; /* -ECANCELED once a marker was discarded */
	pthread_mutex_t lock;
	waiter *waiter; /* under lock */
};

static void group_put(struct agent_await_group *g)
{
	/* acq_rel: the last dropper sees every other holder done with the group. */
	if (atomic_fetch_sub_explicit(&g->refs, 1, memory_order_acq_rel) == 1) {
		pthread_mutex_destroy(&g->lock);
		free(g);
	}
}

void agent_await_mark_done(struct agent_await_group *g, int result)
{
	if (result < 0)
		atomic_store_explicit(&g->result, result, memory_order_relaxed);
	/* acq_rel: the last marker's acquire sees every other marker's result store. */
	if (atomic_fetch_sub_explicit(&g->remaining, 1, memory_order_acq_rel) == 1) {
		mutex_lock_ranked(&g->lock, LOCKRANK_AGENT_AWAIT);
		waiter *w = g->waiter;
		if (w && waiter_claim(w)) {
			w->result = atomic_load_explicit(&g->result, memory_order_relaxed);
			g->waiter = NULL;
			waiter_complete(w);
		}
		mutex_unlock_ranked(&g->lock, LOCKRANK_AGENT_AWAIT);
	}
	group_put(g);
}

static bool in_action_or_tx(void)
{
	if (ctx_self()->agent_action)
		return true;
	if (stm_tx_running())
		return true;
	return false;
}

static int await_until(rf_agent *const *agents, size_t n, uint64_t deadline)
{
	if (n > 0 && !agents)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!agents[i])
			return -EINVAL;
	if (in_action_or_tx())
		return RF_EAWAITINACTION;
	/* Acquire: pairs with the last drain's retiring release (its actions' effects). An
	 * agent seen idle needs no marker; when all are, nothing is allocated. */
	size_t idle = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t s = atomic_load_explicit(&agents[i]->state, memory_order_acquire);
		if (s & AGENT_FAILED)
			return RF_EAGENTFAILED;
		idle += agent_idle(s);
	}
	if (idle == n)
		return 0;
	struct agent_node **marks = calloc(n ? n : 1, sizeof(*marks));
	struct agent_await_group *g = malloc(sizeof(*g));
	size_t busy = 0;
	bool ok = g && marks;
	for (size_t i = 0; ok && i < n; i++) {
		if (agent_idle(atomic_load_explicit(&agents[i]->state, memory_order_acquire)))
			continue;
		ok = (marks[i] = agent_node_alloc(agents[i])) != NULL;
		busy++;
	}
	if (!ok || busy == 0) {
		for (size_t i = 0; marks && i < n; i++)
			if (marks[i])
				agent_node_free(marks[i]);
		free(marks);
		free(g);
		return ok ? 0 : -ENOMEM;
	}
	atomic_init(&g->remaining, busy);
	atomic_init(&g->refs, busy + 1);
	atomic_init(&g->result, 0);
	pthread_mutex_init(&g->lock, NULL);
	waiter w;
	waiter_init(&w);
	g->waiter = &w; /* not shared yet: the markers publish it */

	for (size_t i = 0; i < n; i++) {
		struct agent_node *m = marks[i];
		if (!m)
			continue;
		m->agent = agents[i];
		m->fn = NULL;
		m->exec = NULL;
		m->held = false;
		m->group = g;
		if (agent_enqueue(agents[i], m)) {
			agent_work_drain_start();
			agent_schedule(agents[i], NULL);
		}
	}
	free(marks);

	fiber_wait_on(WAIT_AGENT, NULL);
	int rc = waiter_wait(&w, deadline);
	if (rc == 0) {
		rc = w.result;
	} else {
		mutex_lock_ranked(&g->lock, LOCKRANK_AGENT_AWAIT);
		if (g->waiter == &w)
			g->waiter = NULL;
		mutex_unlock_ranked(&g->lock, LOCKRANK_AGENT_AWAIT);
	}
	group_put(g);
	return rc;
}

int rf_agent_await(rf_agent *const *agents, size_t n)
{
	return await_until(agents, n, DEADLINE_NONE);
}

int rf_agent_await_for(rf_agent *const *agents, size_t n, int64_t timeout_ms)
{
	if (timeout_ms < 0)
		return -EINVAL;
	return await_until(agents, n, time_deadline_after_ms(timeout_ms));
}
