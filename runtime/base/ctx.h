/* runtime/base/ctx.h: per-execution-context state (internal).
 *
 * Several fibers share one OS thread, so "the current transaction", "the current agent
 * action" and "the current dynamic bindings" cannot be thread-locals: they belong to the
 * execution context, which is the running fiber, or the thread itself outside fibers.
 * ctx_self() returns the one that is running now; the scheduler says which it is with
 * ctx_enter() at every switch.
 *
 * Ownership: every field is read and written only by the context it belongs to (no
 * atomics needed); each family owns its own field and nobody else touches it.
 * A new fiber starts with all fields zero except `bindings` and `conveyed`, which the
 * spawner may set (conveyance, runtime/var/convey.h). When a fiber ends, the scheduler
 * calls ctx_end(), which runs the cleanup hooks families registered (vars drop the
 * conveyed frame there).
 *
 * One field lives elsewhere while its context runs: the innermost binding frame is in the
 * per-thread rf_var_ctx.innermost (ringfold/var.h), where the inline rf_var_deref reads
 * it with one load; `bindings` keeps it while the context does not run. ctx_enter moves
 * it at every switch, so only the running context's code uses the word, and only code
 * of other contexts (a spawner, a discard) the field.
 */
#ifndef RF_BASE_CTX_H
#define RF_BASE_CTX_H

#include <stdint.h>

#include "ringfold/var.h"

typedef struct exec_ctx {
	void *tx;             /* STM: the running transaction, or NULL (runtime/stm) */
	void *agent_action;   /* agents: the action being run, its held sends (runtime/agent) */
	void *bindings;       /* vars: the innermost frame, while not running (runtime/var) */
	void *conveyed;       /* vars: the reference the context was started with, or NULL */
	void *go;             /* channels: the running go process, or NULL (runtime/chan) */
	void *fj_task;        /* fork/join: the task being run, or NULL (runtime/fj) */
	uint64_t io_deadline; /* io: calls end by then (CLOCK_MONOTONIC ns); 0: none (io/calls.c) */
	void *io_cancel;      /* io: the attached cancel token, or NULL (io/cancel.c) */
	int reclaim_nest;     /* base: read sections open (debug builds count them) */
} exec_ctx;

/* The running context is rf_var_ctx.self (ringfold/var.h), beside the innermost frame:
 * a fiber's, or the thread's own (ctx_thread); NULL only until the thread's first
 * ctx_self or ctx_enter. Written only by their thread. Initial-exec: a load at a fixed
 * offset from the thread pointer, which ctx_self inlines into every family's fast path
 * (and the inline rf_var_binding into the program, as a frame's binder). */
extern _Thread_local exec_ctx ctx_thread __attribute__((tls_model("initial-exec")));

/* The context running now: the current fiber's, or the calling thread's. Never NULL.
 * Cost: one TLS load and a branch never taken after the thread's first call. Any
 * context. */
static inline exec_ctx *ctx_self(void)
{
	exec_ctx *c = (exec_ctx *)(uintptr_t)rf_var_ctx.self;
	if (__builtin_expect(c != NULL, 1))
		return c;
	rf_var_ctx.self = &ctx_thread;
	return &ctx_thread;
}

/* Scheduler only: the calling thread now runs c (a fiber's context), or its own
 * context again when c is NULL. Parks the leaving context's innermost binding frame in
 * its `bindings` and puts c's in rf_var_ctx.innermost. */
void ctx_enter(exec_ctx *c);

/* Register fn to run on every context that ends (ctx_end). Registering the same fn again
 * is a no-op. Returns 0, or -ENOMEM past 4 hooks. Any context; never blocks. */
int ctx_on_end(void (*fn)(exec_ctx *c));

/* Scheduler only: c's fiber has finished or is being discarded; run the hooks. */
void ctx_end(exec_ctx *c);

#endif
