/* runtime/agent/agent_internal.h: the agent's shared state and the pieces of the agent
 * family that call each other (internal).
 *
 * Contract of struct rf_agent (the synchronization table):
 *
 *   field       written by                         read by
 *   tail        senders (exchange, acq_rel)        senders
 *   stub,head   the consumer                       the consumer
 *   state       senders (+UNIT), consumer (-n, |FAILED), restart (&~FAILED): all atomic
 *   value       the consumer, restart (release)    anyone (acquire)
 *   error       the consumer before it sets FAILED, restart before it clears FAILED
 *   validator, handler (fn, ctx pairs)  setters under fn_lock   consumer under fn_lock,
 *               after a relaxed NULL check of the fn
 *   mode        setter (relaxed)                   consumer, getter
 *   watches     add/remove under watch_lock        consumer takes a reference under it
 *
 * The queue is Vyukov's intrusive MPSC list: a sender exchanges `tail` and then links the
 * previous node to its own; the consumer follows `next` from `head`. A sender then adds
 * UNIT to `state`. state = queued * UNIT | FAILED, where queued counts nodes a sender has
 * announced and the consumer has not yet retired.
 *
 * "The consumer" is whoever owns the agent's queue now, and there is at most one:
 *  - a sender whose add found state == 0 (nothing queued, not failed) becomes the one to
 *    schedule a drain, which is the consumer until it retires its last node (state back
 *    to 0) or fails (sets FAILED in the same CAS that retires its batch);
 *  - while FAILED is set no drain exists; rf_agent_restart (under restart_lock) is the
 *    consumer while it discards held nodes, and when it clears FAILED with nodes still
 *    queued it schedules a new drain, which takes over.
 * So the transitions 0 -> UNIT and FAILED|n -> n (restart) are the only two that create a
 * drain, and each is won by exactly one atomic operation.
 *
 * A node counted in `state` may not be linked yet (its sender was preempted between the
 * exchange and the link); the consumer then waits for the link, which is bounded by that
 * sender's next instructions.
 *
 * Lock order: restart_lock, then watch_lock, then fn_lock; none is held while user code
 * runs or while anything blocks.
 */
#ifndef RF_RUNTIME_AGENT_INTERNAL_H
#define RF_RUNTIME_AGENT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "io/pool.h"
#include "ringfold/agent.h"
#include "runtime/base/spin.h"
#include "runtime/base/watches.h"

enum {
	AGENT_FAILED = 1,
	AGENT_UNIT = 2, /* one queued node in agent->state */
};

struct agent_await_group;

/* One queued action or await marker. Owned by the sender until the exchange publishes it,
 * then by the consumer, which frees it one pop later (it becomes the queue's head). */
struct agent_node {
	struct agent_node *_Atomic next;
	struct agent_node *held_next; /* while held in an action (owned by its fiber) */
	struct agent_slab *slab;      /* node.c */
	rf_agent *agent; /* target: needed while the node is held in an action or a tx */
	rf_update_fn fn; /* NULL: an await marker */
	rf_val arg;
	union {
		void *bindings;                  /* action: the sender's captured frame */
		struct agent_await_group *group; /* await marker */
	};
};

struct rf_agent {
	/* senders' line */
	struct agent_node *_Atomic tail;
	_Atomic uint64_t state;
	/* consumer's line */
	_Alignas(64) struct agent_node *head;
	struct agent_node stub;
	_Atomic rf_val value;
	_Atomic int error;
	spinlock fn_lock; /* guards the two pairs below */
	_Atomic(rf_validator_fn) validator;
	rf_val validator_ctx;
	_Atomic(rf_agent_error_fn) handler;
	rf_val handler_ctx;
	_Atomic int mode;
	pthread_mutex_t restart_lock;
	pool_job drain_job; /* drain.c: a drain handed to the blocking pool */
	pthread_mutex_t watch_lock;
	/* Swapped under watch_lock; loaded without it only to see that it is NULL. */
	watch_set *_Atomic watches; /* runtime/base/watches.h */
};

/* The running action, in ctx_self()->agent_action (owned by the drain's fiber). */
struct agent_action_ctx {
	rf_agent *agent;
	bool holding;                        /* false while the error handler runs */
	struct agent_node *held, **held_end; /* sends held until the action ends */
};

/* node.c: node memory. alloc: NULL when out of memory. Any context. */
struct agent_node *agent_node_alloc(void);
void agent_node_free(struct agent_node *n);

/* queue.c: the MPSC queue and the scheduling word. */
void agent_queue_init(rf_agent *a);
/* Link a node in and announce it; true if the caller must schedule a drain. Any. */
bool agent_enqueue(rf_agent *a, struct agent_node *n);
/* Next node (waits for a preempted sender's link). Consumer only, with a node counted. */
struct agent_node *agent_dequeue(rf_agent *a);

/* drain.c: start a drain of `a` on the executor (or the blocking pool, io/pool.h). Called by
 * whoever won a drain-creating transition. Never blocks, never fails. */
void agent_schedule(rf_agent *a);
/* Run the drain (the body of the drain fiber or pool job). */
void agent_drain_run(rf_agent *a);

/* send.c: global accounting of accepted work, for shutdown. */
/* Accept one send: false after shutdown. On true the caller owes one agent_work_done(). */
bool agent_work_accept(void);
/* One accepted send enqueued or dropped, or one drain retired. Any. */
void agent_work_done(void);
/* A drain starts (counted until it retires). */
void agent_work_drain_start(void);
bool agent_shutting_down(void);
/* Enqueue an accepted node and schedule if needed; pays the node's agent_work_done. */
void agent_dispatch(struct agent_node *n);
/* Drop an accepted node that will never run (its action failed, its tx aborted). */
void agent_node_drop(struct agent_node *n);

/* await.c: an await marker ran (result 0) or was discarded (-ECANCELED). */
void agent_await_mark_done(struct agent_await_group *g, int result);

/* agent.c: run the validator on v (0, RF_EVALIDATOR or its code); call the error
 * handler, if any, with err. */
int agent_validate(rf_agent *a, rf_val v);
void agent_handle_error(rf_agent *a, int err);

/* watch.c: call the watches after a successful action; 0 or the first watch's negative
 * code (every watch runs). Consumer only. */
int agent_watches_notify(rf_agent *a, rf_val old_value, rf_val new_value);
void agent_watches_destroy(rf_agent *a);

/* Register agent_drain_all with sched_on_shutdown (once; rf_agent_new calls it). */
void agent_register_shutdown_hook(void);

/* rf_shutdown()'s hook (registered by the first rf_agent_new): stop accepting sends (as
 * rf_agent_shutdown) and wait until every accepted action has run. A failed agent's held actions
 * stay held (they can run only after a restart, which shutdown refuses). Returns 0. Plain thread
 * only. */
int agent_drain_all(void);

/* For rf_init() when the runtime starts again after rf_shutdown(): accept sends again. */
void agent_reopen_all(void);

#endif
