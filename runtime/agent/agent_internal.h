/* runtime/agent/agent_internal.h: the agent's shared state and the pieces of the agent
 * family that call each other (internal).
 *
 * Contract of struct rf_agent (the synchronization table):
 *
 *   field       written by                         read by
 *   tail        senders (exchange, acq_rel)        senders
 *   stub,head   the consumer                       the consumer
 *   state       senders, holders, the consumer, restart, free: every write an atomic RMW
 *   value       the consumer, restart (release)    anyone (acquire)
 *   error       the consumer before it sets FAILED, restart before it clears FAILED
 *   place, discard   the consumer (read by the drain it schedules, after the state RMW
 *               that made it the consumer)
 *   release, release_ctx   rf_agent_new only       the consumer, the destroyer
 *   validator, handler (fn, ctx pairs)  setters under fn_lock   consumer under fn_lock,
 *               after a relaxed NULL check of the fn
 *   mode        setter (relaxed)                   consumer, getter
 *   watches     add/remove under watch_lock        consumer takes a reference under it
 *
 * The queue is Vyukov's intrusive MPSC list: a sender exchanges `tail` and then links the
 * previous node to its own; the consumer follows `next` from `head`. A sender then adds
 * UNIT to `state`.
 *
 * state = holds * HOLD | queued * UNIT | FREED | FAILED, one word so that every decision
 * below is the result of one atomic operation:
 *  - queued counts nodes a sender has announced and the consumer has not yet retired;
 *  - holds counts accepted sends not in the queue yet: held in a running action or
 *    deferred by a transaction. Enqueueing one moves it from holds to queued in the same
 *    add (UNIT - HOLD); dropping one subtracts HOLD;
 *  - FAILED: the agent failed and holds its queue for a restart;
 *  - FREED: rf_agent_free was called; nobody may send to it or use it any more, but the
 *    work accepted before still runs (Clojure's agent lives while actions refer to it).
 *
 * "The consumer" is whoever owns the agent's queue now, and there is at most one:
 *  - a sender whose add found queued == 0 and FAILED clear becomes the one to schedule a
 *    drain, which is the consumer until it retires its last node (queued back to 0) or
 *    fails (sets FAILED in the same CAS that retires its batch);
 *  - a drain that meets an action for another executor (send-via) retires what it ran,
 *    keeps that node counted and schedules a drain there, which takes over;
 *  - while FAILED is set no drain exists; rf_agent_restart (under restart_lock) or
 *    rf_agent_free (which nothing may race) is the consumer while it discards held
 *    nodes, and when it clears FAILED with nodes still queued it schedules a new drain,
 *    which takes over.
 *
 * The drain protocol of free. The agent is destroyed (final value released, memory
 * freed) by whoever makes the atomic operation that leaves state == FREED exactly:
 * nothing queued, nothing held, not failed, freed. That is rf_agent_free itself on an
 * idle agent; else the drain that retires the last node, or the holder whose dropped
 * send was the last accepted one. Nobody adds to holds or queued once FREED is set
 * (except by moving a hold into the queue), so that state is final, reached once, and
 * the one who reaches it is the last to touch the agent. An agent that fails after
 * rf_agent_free (FAIL mode) cannot be restarted by anyone: its drain sets `discard`
 * instead of FAILED and discards the rest (await markers end with -ECANCELED), as
 * Clojure drops an unreachable failed agent with its queue; rf_agent_free of an agent
 * already failed discards its held actions the same way.
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

#define AGENT_FAILED ((uint64_t)1)
#define AGENT_FREED ((uint64_t)2)
#define AGENT_UNIT ((uint64_t)4)                             /* one queued node */
#define AGENT_QUEUED_MASK (((uint64_t)1 << 34) - AGENT_UNIT) /* 32 bits of queued */
#define AGENT_HOLD ((uint64_t)1 << 34)                       /* one held send (30 bits) */
/* Sends are refused (-ENOMEM) past these, far from the fields' limits. */
#define AGENT_QUEUED_MAX ((uint64_t)1 << 31)
#define AGENT_HOLDS_MAX ((uint64_t)1 << 28)

static inline uint64_t agent_queued(uint64_t state)
{
	return (state & AGENT_QUEUED_MASK) / AGENT_UNIT;
}

/* Nothing queued and not failed: the add that leaves such a state creates a drain. */
static inline bool agent_idle(uint64_t state)
{
	return (state & (AGENT_QUEUED_MASK | AGENT_FAILED)) == 0;
}

struct agent_await_group;

/* One queued action or await marker. Owned by the sender until the exchange publishes it,
 * then by the consumer, which frees it one pop later (it becomes the queue's head). One
 * cache line: the sender writes it and the drain on another core reads it, and nodes that
 * shared a line would be passed between the drains of different agents. */
struct agent_node {
	_Alignas(64) union {
		struct agent_node *_Atomic next; /* in the queue */
		struct agent_node *held_next;    /* before: held in an action (its fiber's) */
	};
	struct agent_slab *slab; /* node.c */
	rf_agent *agent;         /* target: needed while the node is held in an action or a tx */
	rf_update_fn fn;         /* NULL: an await marker */
	rf_val arg;
	struct rf_executor *exec; /* send-via's executor; NULL: the fiber executor */
	bool held;                /* counted in holds, not yet in the queue */
	union {
		void *bindings;                  /* action: the sender's captured frame */
		struct agent_await_group *group; /* await marker */
	};
};

struct rf_agent {
	/* senders' line: the consumer never reads tail, so a thread sending in a stream
	 * keeps this line while the consumer reads and retires on state's */
	struct agent_node *_Atomic tail;
	_Alignas(64) _Atomic uint64_t state;
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
	struct rf_executor *place; /* where the drain being scheduled runs (NULL: fibers) */
	bool discard;              /* freed and failed: discard what is left */
	rf_release_fn release;     /* NULL: values are words the agent does not own */
	rf_val release_ctx;
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

/* node.c: node memory for a node sent to `a`. alloc: NULL when out of memory. Any
 * context. */
struct agent_node *agent_node_alloc(const rf_agent *a);
void agent_node_free(struct agent_node *n);

/* Frees gathered by one consumer: consecutive nodes of one slab are paid back with one
 * atomic operation instead of one each. A caller-local object (zero-initialise it);
 * flush it before it goes out of scope. */
struct agent_frees {
	struct agent_slab *slab;
	uint32_t n;
};
void agent_frees_add(struct agent_frees *f, struct agent_node *n);
void agent_frees_flush(struct agent_frees *f);

/* queue.c: the MPSC queue and the scheduling word. */
void agent_queue_init(rf_agent *a);
/* Link a node in and announce it (a held node moves from holds to queued); true if the
 * caller must schedule a drain. Any context. */
bool agent_enqueue(rf_agent *a, struct agent_node *n);
/* Count an accepted node in its agent's holds (it is held in an action or deferred by a
 * transaction). Any context. */
void agent_hold(struct agent_node *n);
/* The next node, without taking it (waits for a preempted sender's link). Consumer
 * only, with a node counted. */
struct agent_node *agent_peek(rf_agent *a);
/* Take the next node (as agent_peek); the node it leaves behind goes to f. Consumer only,
 * with a node counted. */
struct agent_node *agent_dequeue(rf_agent *a, struct agent_frees *f);

/* drain.c: start a drain of `a` on `place` (an executor, or NULL: a fiber), falling back
 * to a fiber, the blocking pool (io/pool.h) or the caller. Called by whoever won a
 * drain-creating transition (or a drain handing over). Never blocks, never fails. */
void agent_schedule(rf_agent *a, struct rf_executor *place);
/* Run the drain (the body of the drain fiber, pool job or executor task). */
void agent_drain_run(rf_agent *a);

/* agent.c: a node that will never run, consumed by its consumer (restart's clear, a freed
 * agent's discard): an await marker ends with -ECANCELED, bindings are released. The node
 * memory stays with the queue. */
void agent_discard(struct agent_node *n);
/* After an atomic operation left `state` in a: destroy the agent if it was the one
 * that made it exactly FREED (agent_internal.h: the drain protocol of free). */
void agent_after(rf_agent *a, uint64_t state);

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
