/* runtime/agent/queue.c: an agent's MPSC action queue and its scheduling word.
 *
 * The contract (who owns head, tail, state) is in agent_internal.h. Orders:
 *  - A sender's exchange on `tail` is acq_rel: the release publishes the node's fields to
 *    the sender that links after it; its link store on prev->next is a release that pairs
 *    with the consumer's acquire load of `next`, publishing fn/arg/bindings.
 *  - The sender's add to `state` is acq_rel: its release orders the exchange before the
 *    announcement (the consumer that counts the node will find it in the list, possibly
 *    after waiting for the link); its acquire pairs with the consumer's release when it
 *    retires nodes, so a sender that schedules a new drain sees the last drain's writes.
 *  - A hold's add is acq_rel too: every RMW of `state` is, so whoever makes the final
 *    FREED transition has seen every other party's last use of the agent.
 */
#include <sched.h>

#include "runtime/agent/agent_internal.h"
#include "runtime/base/spin.h"

void agent_queue_init(rf_agent *a)
{
	atomic_init(&a->stub.next, NULL);
	a->head = &a->stub;
	atomic_init(&a->tail, &a->stub);
	atomic_init(&a->state, 0);
}

bool agent_enqueue(rf_agent *a, struct agent_node *n)
{
	/* A held node moves from holds to queued in the same add (unsigned wrap-around). */
	uint64_t delta = n->held ? AGENT_UNIT - AGENT_HOLD : AGENT_UNIT;
	n->held = false;
	atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
	struct agent_node *prev = atomic_exchange_explicit(&a->tail, n, memory_order_acq_rel);
	atomic_store_explicit(&prev->next, n, memory_order_release);
	uint64_t old = atomic_fetch_add_explicit(&a->state, delta, memory_order_acq_rel);
	return agent_idle(old);
}

void agent_hold(struct agent_node *n)
{
	n->held = true;
	atomic_fetch_add_explicit(&n->agent->state, AGENT_HOLD, memory_order_acq_rel);
}

/* Wait for a link that a sender is about to store. The sender has already exchanged the
 * tail, so this ends within a few of its instructions unless its OS thread was preempted
 * (a fiber sender cannot be switched out between the two: fibers are cooperative). So
 * after a short spin give the CPU away with sched_yield, never with a fiber yield: the
 * caller may hold restart_lock, which another fiber of this worker could then wait for. */
static struct agent_node *wait_link(struct agent_node *head)
{
	struct agent_node *next;
	for (unsigned spins = 0;; spins++) {
		next = atomic_load_explicit(&head->next, memory_order_acquire);
		if (next)
			return next;
		spin_step(spins);
	}
}

struct agent_node *agent_peek(rf_agent *a)
{
	struct agent_node *next = atomic_load_explicit(&a->head->next, memory_order_acquire);
	return next ? next : wait_link(a->head);
}

struct agent_node *agent_dequeue(rf_agent *a, struct agent_frees *f)
{
	struct agent_node *head = a->head;
	struct agent_node *next = agent_peek(a);
	/* `next` becomes the new head: its payload is consumed now, its memory when the
	 * following node is. The old head's payload was consumed one pop ago. */
	a->head = next;
	if (head != &a->stub)
		agent_frees_add(f, head);
	/* The drain follows a chain of lines written on another core: start the miss on the
	 * node after this one while this one runs. Relaxed: a hint; agent_peek reads it again. */
	struct agent_node *after = atomic_load_explicit(&next->next, memory_order_relaxed);
	if (after)
		__builtin_prefetch(after);
	return next;
}
