/* runtime/base/ctx.c: which context runs, and the end-of-context hooks.
 *
 * rf_var_ctx is thread-local: `self` is written only by its thread's scheduler (ctx_enter)
 * and by the thread's first ctx_self; `innermost` by the running context (runtime/var,
 * the inline functions of ringfold/var.h) and by ctx_enter, which swaps it with the
 * `bindings` of the contexts it switches between.
 * Hooks: registrations are serialized by hooks_lock; each writes its slot, then
 * publishes the new count with release; ctx_end reads the count with acquire (pairs
 * with it) and calls the slots below it, which are never written again.
 * A hook is registered before the first context that needs it is handed to a worker
 * (the registering thread is the spawner), so no end can miss it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "runtime/base/ctx.h"
#include "runtime/base/lockrank.h"

#define MAX_END_HOOKS 4

_Thread_local exec_ctx ctx_thread __attribute__((tls_model("initial-exec")));
__thread rf_var_context rf_var_ctx __attribute__((tls_model("initial-exec")));

static pthread_mutex_t hooks_lock = PTHREAD_MUTEX_INITIALIZER;
static void (*end_hooks[MAX_END_HOOKS])(exec_ctx *);
static _Atomic int nend_hooks;

void ctx_enter(exec_ctx *c)
{
	ctx_self()->bindings = (void *)(uintptr_t)rf_var_ctx.innermost;
	c = c ? c : &ctx_thread;
	rf_var_ctx.self = c;
	rf_var_ctx.innermost = c->bindings;
}

int ctx_on_end(void (*fn)(exec_ctx *c))
{
	int rc = 0;
	mutex_lock_ranked(&hooks_lock, LOCKRANK_CTX_HOOKS);
	int n = atomic_load_explicit(&nend_hooks, memory_order_relaxed);
	for (int i = 0; i < n; i++)
		if (end_hooks[i] == fn)
			goto out;
	if (n == MAX_END_HOOKS) {
		rc = -ENOMEM;
		goto out;
	}
	end_hooks[n] = fn;
	atomic_store_explicit(&nend_hooks, n + 1, memory_order_release);
out:
	mutex_unlock_ranked(&hooks_lock, LOCKRANK_CTX_HOOKS);
	return rc;
}

void ctx_end(exec_ctx *c)
{
	int n = atomic_load_explicit(&nend_hooks, memory_order_acquire);
	for (int i = 0; i < n; i++)
		end_hooks[i](c);
}
