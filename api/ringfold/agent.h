/* ringfold/agent.h: agents (Clojure's agent, send, send-off, await, agent-error, ...).
 *
 * An agent holds one value. Actions sent to it run one at a time, in the order the agent
 * received them, on the executor (never in the sender's thread): each run computes the
 * agent's next value from the current one, `fn(old, arg, &out)` (the update-function shape
 * of base.h, so Clojure's (send a + 10) is rf_agent_send(a, rf_add, 10)). Different agents
 * run in parallel; one agent never does.
 *
 * Where actions run. An agent with queued actions is drained by one executor fiber at a
 * time; it runs a batch of actions, yields to the worker's other fibers and goes on while
 * more remain. Because every action runs on a fiber, an action that sleeps, does
 * ringfold I/O or derefs a future parks its fiber instead of holding an OS thread: 10,000
 * agents blocked in a 100 ms sleep cost 10,000 fiber stacks, not threads. `send` is
 * meant for quick CPU work and `send_off` for actions that may block, as in Clojure; both
 * run the same way, the distinction documents the action. Code that must block an OS
 * thread (a foreign blocking call) belongs in rf_blocking. If the executor cannot take a
 * drain (no fiber stack, runtime stopping), the agent is drained on a helper thread:
 * accepted actions are never lost.
 *
 * Clojure mapping (a code where Clojure throws):
 *   (agent v :validator f :error-handler h :error-mode m)   rf_agent_new(v, &opts, &a)
 *   (send a f x) / (send-off a f x)          rf_agent_send / rf_agent_send_off
 *     "Agent is failed, needs restart"       RF_EAGENTFAILED
 *     RejectedExecutionException after shutdown-agents   RF_ESHUTDOWN
 *   @a, (deref a)                            rf_deref(a, &v) / rf_agent_deref
 *   (await a b ...) / (await-for ms a b ...) rf_agent_await / rf_agent_await_for
 *     "Can't await in agent action" / "Can't await in transaction"   RF_EAWAITINACTION
 *     await-for returning false              -ETIMEDOUT
 *   (agent-error a)                          rf_agent_error (0 where Clojure gives nil)
 *   (restart-agent a v :clear-actions b)     rf_agent_restart(a, v, b)
 *     "Agent does not need a restart"        RF_EAGENTOK
 *     validator rejects v                    RF_EVALIDATOR
 *   (set-error-handler! a h), (set-error-mode! a m), (set-validator! a f)
 *   (error-handler a), (error-mode a)        rf_agent_set_* / rf_agent_error_mode
 *   (add-watch a k f), (remove-watch a k)    rf_agent_add_watch / rf_agent_remove_watch
 *   *agent*                                  rf_agent_self()
 *   (shutdown-agents)                        rf_agent_shutdown()
 *
 * Semantics, as Clojure 1.11:
 *  - An action that returns a negative code, or whose result the validator rejects
 *    (RF_EVALIDATOR), is an agent error. In error mode RF_AGENT_FAIL (the default
 *    without an error handler) the agent fails: rf_agent_error returns the code, deref
 *    returns the last good value, sends are refused with RF_EAGENTFAILED, and actions
 *    already queued are held until rf_agent_restart. In RF_AGENT_CONTINUE (the default
 *    with an error handler) the failed action is skipped and the agent goes on. The error
 *    handler, if any, is called in both modes, on the agent's fiber, before the agent
 *    fails; its own sends go out at once.
 *  - Sends made inside an action (to any agent, itself included) are held until the
 *    action finishes and go out then, in order, after the watches ran; if the action
 *    fails they are dropped. Sends made inside a transaction go out once, after it commits
 *    (none if it aborts; retries do not repeat them).
 *  - Watches are called on the agent's fiber after every successful action, with the
 *    old and new values (even if equal, as Clojure does).
 *  - Dynamic bindings of the sender are conveyed into the action.
 *  - Values are 64-bit words; ringfold never looks inside them. An agent holding
 *    pointers does not free replaced values: the action that replaces one owns it.
 */
#ifndef RINGFOLD_AGENT_H
#define RINGFOLD_AGENT_H

#include "ringfold/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_agent rf_agent;

typedef enum rf_agent_error_mode {
	RF_AGENT_MODE_DEFAULT = 0, /* at creation: FAIL without an error handler, else CONTINUE */
	RF_AGENT_FAIL = 1,
	RF_AGENT_CONTINUE = 2,
} rf_agent_error_mode;

/* Validator: true accepts the new value (Clojure: a validator returning false or
 * throwing rejects it). Must not block. Called on the agent's fiber. */
typedef bool (*rf_agent_validator_fn)(rf_val value);

/* Error handler: (fn [agent exception]). `err` is the action's code or RF_EVALIDATOR.
 * Called on the agent's fiber; may send (those sends are not held); may not await. */
typedef void (*rf_agent_error_fn)(rf_agent *agent, int err);

/* Watch: (fn [key ref old new]). Called on the agent's fiber after each successful
 * action; sends made here are held with the action's. May add or remove watches (that
 * applies from the next action). */
typedef void (*rf_agent_watch_fn)(void *key, rf_agent *agent, rf_val old_value, rf_val new_value);

typedef struct rf_agent_opts {
	rf_agent_validator_fn validator; /* NULL: every value is valid */
	rf_agent_error_fn error_handler; /* NULL: none */
	rf_agent_error_mode error_mode;  /* RF_AGENT_MODE_DEFAULT: as Clojure chooses */
} rf_agent_opts;

/* Create an agent holding `value`; opts may be NULL (no validator, no handler, FAIL).
 * Returns 0 and *out; -EINVAL (out NULL, bad mode); RF_EVALIDATOR (the validator rejects
 * `value`: Clojure's IllegalStateException); -ENOMEM. Never blocks. Any context. */
RF_API int rf_agent_new(rf_val value, const rf_agent_opts *opts, rf_agent **out);

/* Free an agent that has nothing left to do. Returns 0; -EINVAL (NULL); -EBUSY while
 * actions are queued, running or held by a failure (restart with clear_actions first), or
 * while its drain is still winding down: once rf_agent_await returns, an agent nobody
 * sends to any more is idle. The caller guarantees nobody sends to it any more. Never
 * blocks. Any context. */
RF_API int rf_agent_free(rf_agent *agent);

/* Queue fn(old, arg, &new) on the agent and return at once (Clojure's send / send-off).
 * Inside an action the send is held until the action ends; inside a transaction, until
 * it commits. Returns 0; -EINVAL (agent or fn NULL); RF_EAGENTFAILED (agent failed);
 * RF_ESHUTDOWN (after rf_agent_shutdown or while the runtime shuts down); -ENOMEM.
 * Never blocks. Any context. Cost when the agent is busy: a bump allocation from the
 * thread's node slab, one exchange and three atomic adds (two on one process-wide
 * counter, for shutdown); when it was idle, also the spawn of its drain fiber. */
RF_API int rf_agent_send(rf_agent *agent, rf_update_fn fn, rf_val arg);
RF_API int rf_agent_send_off(rf_agent *agent, rf_update_fn fn, rf_val arg);

/* The agent's current value (the last good one if it failed). Returns 0 and *out;
 * -EINVAL (NULL). Never blocks; one load. Any context. */
RF_API int rf_agent_deref(rf_agent *agent, rf_val *out);

/* Wait until every action sent so far (from this thread or fiber, and any other) to
 * each of the n agents has run (Clojure's await). A failed agent holds its actions, so
 * await waits for its restart. Returns 0; -EINVAL (agents NULL with n > 0, a NULL
 * agent); RF_EAWAITINACTION inside an action, its error handler or a transaction;
 * -ECANCELED if a restart with clear_actions discarded the actions being awaited (Clojure
 * would block forever); -ENOMEM. Blocks: parks a fiber, futex-waits a thread. Callable
 * from a fiber or a thread, also after rf_agent_shutdown. */
RF_API int rf_agent_await(rf_agent *const *agents, size_t n);

/* rf_agent_await with a limit of ms milliseconds (Clojure's await-for). Returns 0 as
 * rf_agent_await, -ETIMEDOUT where await-for returns false (ms == 0 polls), -EINVAL also
 * for ms < 0. */
RF_API int rf_agent_await_for(int64_t ms, rf_agent *const *agents, size_t n);

/* The error that failed the agent, or 0 if it has not failed (Clojure's nil).
 * -EINVAL for NULL. Never blocks. Any context. */
RF_API int rf_agent_error(rf_agent *agent);

/* Restart a failed agent with `value` (restart-agent). Held actions run after it unless
 * clear_actions, which discards them. Returns 0; -EINVAL (NULL); RF_EAGENTOK (not
 * failed); RF_EVALIDATOR (the validator rejects value; the agent stays failed);
 * RF_ESHUTDOWN (after rf_agent_shutdown). Never blocks (a per-agent lock held briefly).
 * Any context. Watches are not called (as in Clojure). */
RF_API int rf_agent_restart(rf_agent *agent, rf_val value, bool clear_actions);

/* set-error-handler! / set-error-mode! / error-mode. Take effect from the next action.
 * Return 0 or -EINVAL (NULL agent, mode not FAIL or CONTINUE). Never block. Any. */
RF_API int rf_agent_set_error_handler(rf_agent *agent, rf_agent_error_fn handler);
RF_API int rf_agent_set_error_mode(rf_agent *agent, rf_agent_error_mode mode);
RF_API rf_agent_error_mode rf_agent_get_error_mode(rf_agent *agent);

/* set-validator!: the current value must pass it, else RF_EVALIDATOR and nothing
 * changes. NULL removes the validator. Returns 0, -EINVAL, RF_EVALIDATOR. Never blocks. */
RF_API int rf_agent_set_validator(rf_agent *agent, rf_agent_validator_fn validator);

/* add-watch / remove-watch, by key (a key already present is replaced, as in Clojure).
 * Return 0; -EINVAL (NULL agent or fn); -ENOMEM; remove: -ENOENT for an unknown key.
 * Never block (a per-agent lock held briefly). Any context. */
RF_API int rf_agent_add_watch(rf_agent *agent, void *key, rf_agent_watch_fn fn);
RF_API int rf_agent_remove_watch(rf_agent *agent, void *key);

/* *agent*: the agent whose action is running on this fiber, or NULL. Any context. */
RF_API rf_agent *rf_agent_self(void);

/* shutdown-agents: from now on every send and restart returns RF_ESHUTDOWN; every
 * action accepted before (queued, held in an action or a transaction) still runs.
 * Returns at once, like Clojure. rf_shutdown() does the same and then waits for those
 * actions before the executor stops; agents keep refusing sends afterwards, also if the
 * runtime is started again. A failed agent's held actions stay held. Any context. */
RF_API void rf_agent_shutdown(void);

#ifdef __cplusplus
}
#endif
#endif
