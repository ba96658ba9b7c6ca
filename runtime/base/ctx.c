/* runtime/base/ctx.c: which context runs, and the end-of-context hooks.
 *
 * current is thread-local and written only by its thread's scheduler (ctx_enter).
 * Hooks: a registration writes the slot, then publishes the new count with release;
 * ctx_end reads the count with acquire (pairs with it) and calls the slots below it.
 * A hook is registered before the first context that needs it is handed to a worker
 * (the registering thread is the spawner), so no end can miss it.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>

#include "runtime/base/ctx.h"

#define MAX_END_HOOKS 4

static _Thread_local exec_ctx *current __attribute__((tls_model("initial-exec")));
static _Thread_local exec_ctx thread_ctx;

static void (*_Atomic end_hooks[MAX_END_HOOKS])(exec_ctx *);
static _Atomic int nend_hooks;

exec_ctx *ctx_self(void)
{
	exec_ctx *c = current;
	return c ? c : &thread_ctx;
}

void ctx_enter(exec_ctx *c)
{
	current = c;
}

int ctx_on_end(void (*fn)(exec_ctx *c))
{
	int n = atomic_load_explicit(&nend_hooks, memory_order_acquire);
	for (int i = 0; i < n; i++)
		if (atomic_load_explicit(&end_hooks[i], memory_order_relaxed) == fn)
			return 0;
	for (;;) {
		if (n == MAX_END_HOOKS)
			return -ENOMEM;
		void (*none)(exec_ctx *) = NULL;
		/* claim slot n; a racing registration takes the next one */
		if (atomic_compare_exchange_strong_explicit(
		        &end_hooks[n], &none, fn, memory_order_relaxed, memory_order_relaxed)) {
			/* release: publishes the slot to ctx_end's acquire of the count */
			atomic_fetch_add_explicit(&nend_hooks, 1, memory_order_release);
			return 0;
		}
		if (none == fn)
			return 0;
		n++;
	}
}

void ctx_end(exec_ctx *c)
{
	int n = atomic_load_explicit(&nend_hooks, memory_order_acquire);
	for (int i = 0; i < n; i++) {
		void (*fn)(exec_ctx *) = atomic_load_explicit(&end_hooks[i], memory_order_relaxed);
		if (fn)
			fn(c);
	}
}
