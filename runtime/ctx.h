/* runtime/ctx.h: per-execution-context state (internal).
 *
 * Several fibers share one OS thread, so "the current transaction", "the current agent
 * action" and "the current dynamic bindings" cannot be thread-locals: they belong to the
 * execution context, which is the running fiber, or the thread itself outside fibers.
 * rf_ctx_self() returns the one that is running now.
 *
 * Ownership: every field is read and written only by the context it belongs to (no
 * atomics needed); each family owns its own field and nobody else touches it.
 * A new fiber starts with all fields zero except `bindings`, which the spawner may set
 * (conveyance, see rf_bindings_capture in runtime/conveyance.h).
 */
#ifndef RF_RUNTIME_CTX_H
#define RF_RUNTIME_CTX_H

typedef struct rf_ctx {
	void *tx;           /* STM: the running transaction, or NULL (runtime/stm) */
	void *agent_action; /* agents: the action being run, its held sends (runtime/agent) */
	void *bindings;     /* vars: the current binding frame, or NULL (runtime/var) */
	void *go;           /* channels: the running go process, or NULL (runtime/chan) */
	void *fj_task;      /* fork/join: the task being run, or NULL (runtime/fj) */
} rf_ctx;

/* The context running now: the current fiber's, or the calling thread's. Never NULL.
 * Cost: one TLS load and a branch. */
rf_ctx *rf_ctx_self(void);

/* Conveyance of dynamic bindings (Clojure's binding-conveyor-fn). Whoever starts work
 * on another context (future, executor task, agent action, go process, fold/pmap task)
 * captures the spawner's frame and installs it around the work:
 *
 *     void *frame = rf_bindings_capture();        // in the spawner; holds a reference
 *     ... later, in the worker:
 *     void *saved = rf_bindings_install(frame);   // ctx->bindings = frame
 *     run the work;
 *     rf_bindings_install(saved);
 *     rf_bindings_release(frame);                 // drop the capture's reference
 *
 * A raw thread (rf_thread) conveys nothing, as in Clojure. All three accept NULL. */
void *rf_bindings_capture(void);
void *rf_bindings_install(void *frame);
void rf_bindings_release(void *frame);

#endif
