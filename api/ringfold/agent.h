/* ringfold/agent.h: agents (Clojure's agent, send, send-off, await, agent-error, ...).
 *
 * An agent holds one value. Actions sent to it run one at a time, in the order the agent
 * received them, on the executor (never in the sender's thread): each run computes the
 * agent's next value from the current one, `fn(old, arg, &out)` (the update-function shape
 * of base.h, so Clojure's (send a + 10) is rf_agent_send(a, rf_add, 10)). Different agents
 * run in parallel; one agent never does.
 *
 * Every action runs on an executor fiber, so an action that sleeps, does ringfold I/O or
 * derefs parks instead of holding an OS thread (docs/agent.md: where actions run), unless
 * it was sent through an executor.h pool (send-via), whose OS threads run it.
 *
 * Clojure mapping (a code where Clojure throws; docs/agent.md has the full table):
 *   (agent v :validator f :error-handler h :error-mode m)   rf_agent_new(v, &opts, &a)
 *   (send a f x) / (send-off a f x)          rf_agent_send / rf_agent_send_off
 *   (send-via ex a f x)                      rf_agent_send_via(a, ex, f, x)
 *   (set-agent-send-executor! ex), (set-agent-send-off-executor! ex)
 *                                            rf_agent_set_send_executor / _send_off_executor
 *     "Agent is failed, needs restart"       RF_EAGENTFAILED
 *     RejectedExecutionException after shutdown-agents   RF_ESHUTDOWN
 *   @a, (deref a)                            rf_deref(a, &v) / rf_agent_deref
 *   (release-pending-sends)                  rf_agent_release_pending_sends()
 *   (await a b ...) / (await-for ms a b ...) rf_agent_await(as, n) / rf_agent_await_for(as, n, ms)
 *     "Can't await in agent action" / "Can't await in transaction"   RF_EAWAITINACTION
 *     await on a failed agent                RF_EAGENTFAILED
 *     await-for returning false              -ETIMEDOUT
 *   the agent becoming garbage               rf_agent_free (after its pending actions)
 *   (agent-error a)                          rf_agent_error (0 where Clojure gives nil)
 *   (restart-agent a v :clear-actions b)     rf_agent_restart(a, v, b)
 *     "Agent does not need a restart"        RF_EAGENTOK
 *     validator rejects v                    RF_EVALIDATOR
 *   (set-error-handler! a h), (error-handler a)   rf_agent_set_error_handler / _get_
 *   (set-error-mode! a m), (error-mode a)    rf_agent_set_error_mode / rf_agent_get_error_mode
 *   (set-validator! a f), (get-validator a)  rf_agent_set_validator / rf_agent_get_validator
 *   (add-watch a k f), (remove-watch a k)    rf_agent_add_watch / rf_agent_remove_watch
 *   *agent*                                  rf_agent_self()
 *   (shutdown-agents)                        rf_agent_shutdown()
 *
 * Semantics follow Clojure 1.11 (docs/agent.md has the details): an action's negative
 * code, a validator's rejection or a watch's negative code is an agent error; in
 * RF_AGENT_FAIL mode the agent fails (rf_agent_error gives the code, sends are refused
 * with RF_EAGENTFAILED, queued actions wait for rf_agent_restart), in RF_AGENT_CONTINUE
 * the agent goes on; the error handler runs in both. A watch's code comes after the
 * change: the new value stays, and the error is reported the way Clojure reports a
 * watch's exception thrown inside an action (agent-error, the error handler). Sends made
 * inside an action are held until it ends (rf_agent_release_pending_sends lets them go
 * earlier) and dropped if it fails; sends inside a transaction go out after the commit.
 * Dynamic bindings of the sender are conveyed into the action.
 *
 * An agent made with a release function (opts.release) owns its values: it takes the
 * initial value, each action's result and each restart's value, and releases a value
 * once it is replaced by a committed action (after the watches ran) or a restart, and the
 * last one when the agent ends. A result the agent does not keep (an action that fails
 * after producing it, a validator's rejection) is released at once unless it is the old
 * value; RF_NIL is never released. The action gets the old value borrowed and hands its
 * result over, so (send a conj x) is rf_agent_send(a, rf_pvec_conj_op, x). A reader that
 * uses a value while actions may replace it wraps deref and use in a read section
 * (rf_reclaim_read_begin / _end, atom.h).
 */
#ifndef RINGFOLD_AGENT_H
#define RINGFOLD_AGENT_H

#include "ringfold/base.h"
#include "ringfold/executor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_agent rf_agent;

typedef enum rf_agent_error_mode {
	RF_AGENT_MODE_DEFAULT = 0, /* at creation: FAIL without an error handler, else CONTINUE */
	RF_AGENT_FAIL = 1,
	RF_AGENT_CONTINUE = 2,
} rf_agent_error_mode;

/* Validators and watches have the shapes of base.h (rf_validator_fn, rf_watch_fn; a
 * watch's `ref` is the rf_agent *). Both run on the agent's fiber: a validator must not
 * block; sends made in a watch are held with the action's; a watch may add or remove
 * watches (applies from the next action). */

/* Error handler: (fn [agent exception]); err is the action's, the validator's or a
 * watch's code. Called on the agent's fiber; its sends are not held; it may not await. */
typedef void (*rf_agent_error_fn)(rf_agent *agent, int err, rf_val ctx);

typedef struct rf_agent_opts {
	size_t size;                     /* sizeof(rf_agent_opts); fields past it are defaults */
	rf_validator_fn validator;       /* NULL: every value is valid */
	rf_val validator_ctx;            /* its ctx argument */
	rf_agent_error_fn error_handler; /* NULL: none */
	rf_val error_handler_ctx;        /* its ctx argument */
	rf_agent_error_mode error_mode;  /* RF_AGENT_MODE_DEFAULT: as Clojure chooses */
	rf_release_fn release;           /* NULL: values are words the agent does not own */
	rf_val release_ctx;              /* its ctx argument */
} rf_agent_opts;

/* (agent v :validator f :error-handler h :error-mode m): a new agent holding value.
 * Returns: 0 and *out (opts may be NULL: no validator, no handler, FAIL, not owning);
 *          with opts->release the agent owns value from now on.
 * Errors:  -EINVAL (out NULL, opts->size unset, bad mode), RF_EVALIDATOR or the
 *          validator's code (value rejected), -ENOMEM; on an error value stays the
 *          caller's.
 * Blocks:  never.
 * Context: any.
 * Cost:    one allocation. */
RF_API int rf_agent_new(rf_val value, const rf_agent_opts *opts, rf_agent **out);

/* Give up the agent: Clojure's agent becoming garbage. Work accepted before still runs
 * (queued actions, sends held in a running action or deferred by a transaction); the
 * agent ends when the last of it has run: then, with a release function, its final value
 * is released, and its memory is freed. A failed agent (FAIL mode) cannot be restarted
 * any more: the actions it holds, or holds after failing later, are discarded (an await
 * on them returns -ECANCELED), as an unreachable failed agent's queue is in Clojure.
 * Returns: nothing; NULL is a no-op.
 * Errors:  none.
 * Blocks:  never (the final release may wait for a grace period when memory or threads
 *          are exhausted, as rf_ref_free).
 * Context: any, also inside one of the agent's own actions or during rf_shutdown.
 *          Precondition: no use of the handle concurrently with or after this call (no
 *          send, await, restart, deref; a send already accepted is fine).
 * Cost:    an atomic OR; the rest is paid by whoever ends the agent. */
RF_API void rf_agent_free(rf_agent *agent);

/* (send a f x) / (send-off a f x): queue fn(old, arg, &new) on the agent. send is meant
 * for CPU work and send-off for actions that may block; both run on a fiber unless
 * rf_agent_set_send_executor / _send_off_executor chose an executor.
 * Returns: 0 at once; inside an action the send is held until the action ends, inside a
 *          transaction until it commits.
 * Errors:  -EINVAL (agent or fn NULL), RF_EAGENTFAILED, RF_ESHUTDOWN (after
 *          rf_agent_shutdown or while the runtime shuts down), -ENOMEM (also with 2^31
 *          actions queued or 2^28 held on the agent).
 * Blocks:  never.
 * Context: any.
 * Cost:    busy agent: a slab allocation, one exchange, three atomic adds (a held send:
 *          one more); idle agent: also the spawn of its drain fiber. */
RF_API int rf_agent_send(rf_agent *agent, rf_update_fn fn, rf_val arg);
RF_API int rf_agent_send_off(rf_agent *agent, rf_update_fn fn, rf_val arg);

/* (send-via ex a f x): rf_agent_send whose action runs as a task of executor ex (an OS
 * thread of an executor.h pool, where blocking calls are fine). Actions run one at a
 * time and in order whatever executor each names. If ex refuses the task (shut down, no
 * memory) the action runs on a fiber instead: Clojure would lose it (its error handler
 * hears the RejectedExecutionException and the agent's queue stops).
 * Returns: 0 at once, as rf_agent_send.
 * Errors:  as rf_agent_send; -EINVAL also for ex NULL.
 * Blocks:  never.
 * Context: any. Precondition: ex outlives every action sent through it (await them
 *          before rf_executor_free).
 * Cost:    rf_agent_send's; an idle agent: an executor submission instead of a spawn. */
RF_API int rf_agent_send_via(rf_agent *agent, rf_executor *ex, rf_update_fn fn, rf_val arg);

/* (set-agent-send-executor! ex) / (set-agent-send-off-executor! ex): the executor that
 * later rf_agent_send / rf_agent_send_off calls name, as rf_agent_send_via would; NULL
 * restores the default (executor fibers). Sends made before keep the one they named.
 * Returns: nothing.
 * Errors:  none.
 * Blocks:  never.
 * Context: any. Precondition: ex outlives every action sent through it (set NULL and
 *          await them before rf_executor_free).
 * Cost:    one store. */
RF_API void rf_agent_set_send_executor(rf_executor *ex);
RF_API void rf_agent_set_send_off_executor(rf_executor *ex);

/* (release-pending-sends): let the sends the running action has made so far go out now
 * instead of when it ends.
 * Returns: how many were released (0 outside an action, as Clojure).
 * Errors:  none.
 * Blocks:  never.
 * Context: any; does something only inside an action (not its error handler). Sends made
 *          inside a transaction still wait for its commit.
 * Cost:    one enqueue per held send. */
RF_API int rf_agent_release_pending_sends(void);

/* @a: the agent's current value (the last good one if it failed).
 * Returns: 0 and *out.
 * Errors:  -EINVAL (NULL agent or out).
 * Blocks:  never.
 * Context: any; generic form rf_deref (ringfold.h).
 * Cost:    one load. */
RF_API int rf_agent_deref(rf_agent *agent, rf_val *out);

/* (await a b ...): wait until every action sent so far to each of the n agents has run
 * (an agent that fails meanwhile holds its actions: await waits for its restart).
 * Returns: 0.
 * Errors:  -EINVAL (agents NULL with n > 0, a NULL agent), RF_EAWAITINACTION (inside an
 *          action, its error handler or a transaction), RF_EAGENTFAILED (an agent has
 *          failed already; nothing awaited), -ECANCELED (a restart with clear_actions
 *          discarded the awaited actions; Clojure would block forever), -ENOMEM.
 * Blocks:  parks a fiber, futex-waits a thread.
 * Context: fiber or thread, also after rf_agent_shutdown.
 * Cost:    one marker action per agent. */
RF_API int rf_agent_await(rf_agent *const *agents, size_t n);

/* (await-for timeout-ms a b ...): rf_agent_await with a limit.
 * Returns: 0.
 * Errors:  as rf_agent_await; -ETIMEDOUT (await-for's false; 0 polls); -EINVAL also for
 *          timeout_ms < 0.
 * Blocks:  up to timeout_ms.
 * Context: as rf_agent_await.
 * Cost:    as rf_agent_await. */
RF_API int rf_agent_await_for(rf_agent *const *agents, size_t n, int64_t timeout_ms);

/* (agent-error a): the error that failed the agent.
 * Returns: the negative code, or 0 if it has not failed (Clojure's nil).
 * Errors:  -EINVAL (NULL).
 * Blocks:  never.
 * Context: any.
 * Cost:    two loads. */
RF_API int rf_agent_error(rf_agent *agent);

/* (restart-agent a v :clear-actions b): restart a failed agent with value; held actions
 * run after it unless clear_actions discards them. Watches are not called (as Clojure).
 * Returns: 0; an owning agent takes value and releases the one it replaces.
 * Errors:  -EINVAL (NULL), RF_EAGENTOK (not failed), RF_EVALIDATOR or the validator's
 *          code (the agent stays failed), RF_ESHUTDOWN (after rf_agent_shutdown),
 *          -ENOMEM (owning agent); on an error value stays the caller's.
 * Blocks:  never (a per-agent lock held briefly).
 * Context: any.
 * Cost:    a lock, a CAS, and the discarded actions. */
RF_API int rf_agent_restart(rf_agent *agent, rf_val value, bool clear_actions);

/* (set-error-handler! a h) and (error-handler a): take effect from the next action.
 * Returns: 0 (get: *handler, *ctx; either may be NULL).
 * Errors:  -EINVAL (NULL agent).
 * Blocks:  never.
 * Context: any.
 * Cost:    a short lock. */
RF_API int rf_agent_set_error_handler(rf_agent *agent, rf_agent_error_fn handler, rf_val ctx);
RF_API int rf_agent_get_error_handler(rf_agent *agent, rf_agent_error_fn *handler, rf_val *ctx);

/* (set-error-mode! a m): takes effect from the next action.
 * Returns: 0.
 * Errors:  -EINVAL (NULL agent, mode not FAIL or CONTINUE).
 * Blocks:  never.
 * Context: any.
 * Cost:    one store. */
RF_API int rf_agent_set_error_mode(rf_agent *agent, rf_agent_error_mode mode);

/* (error-mode a).
 * Returns: the mode; RF_AGENT_MODE_DEFAULT for a NULL agent.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    one load. */
RF_API rf_agent_error_mode rf_agent_get_error_mode(rf_agent *agent);

/* (set-validator! a f): fn NULL removes it; the current value must pass it first.
 * (get-validator a): *fn and *ctx (either may be NULL).
 * Returns: 0.
 * Errors:  -EINVAL (NULL agent), RF_EVALIDATOR or fn's code (not installed).
 * Blocks:  never.
 * Context: any.
 * Cost:    one call of fn and a short lock. */
RF_API int rf_agent_set_validator(rf_agent *agent, rf_validator_fn fn, rf_val ctx);
RF_API int rf_agent_get_validator(rf_agent *agent, rf_validator_fn *fn, rf_val *ctx);

/* (add-watch a key f): fn(key, agent, old, new, ctx) after every successful action, on
 * the agent's fiber (also when old == new, as Clojure); a key already present is replaced.
 * A watch's negative code is an error of the action (see above).
 * Returns: 0.
 * Errors:  -EINVAL (NULL agent or fn), -ENOMEM.
 * Blocks:  never (a per-agent lock held briefly).
 * Context: any.
 * Cost:    a copy of the watch list. */
RF_API int rf_agent_add_watch(rf_agent *agent, rf_val key, rf_watch_fn fn, rf_val ctx);

/* (remove-watch a key).
 * Returns: 0, also when there was no such watch.
 * Errors:  -EINVAL (NULL agent), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    a copy of the watch list. */
RF_API int rf_agent_remove_watch(rf_agent *agent, rf_val key);

/* *agent*: the agent whose action runs on this fiber.
 * Returns: the agent, or NULL outside an action.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    one thread-local load. */
RF_API rf_agent *rf_agent_self(void);

/* (shutdown-agents): from now on every send and restart returns RF_ESHUTDOWN; every
 * action accepted before still runs. rf_shutdown() does the same and then waits for
 * those actions; agents keep refusing sends afterwards, also after a restart of the
 * runtime. A failed agent's held actions stay held.
 * Returns: nothing, at once.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    one store. */
RF_API void rf_agent_shutdown(void);

#ifdef __cplusplus
}
#endif
#endif
