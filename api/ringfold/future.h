/* ringfold/future.h: future.
 *
 * A future runs fn(arg, &out) as a fiber on the executor (so a body that does ringfold
 * I/O or derefs another future parks instead of holding a core) and keeps the outcome:
 * deref returns the value or the body's negative code, on every deref. Futures from
 * rf_thread_start and rf_executor_submit are the same type and follow the same rules.
 * Dynamic bindings of the caller are conveyed into the body (binding-conveyor-fn).
 * A future is a deferred (rf_future_deferred): callbacks and combinators apply.
 *
 * Clojure mapping:
 *   (future-call f) / (future ...)  rf_future_call
 *   @f, (deref f ms)       rf_future_deref, rf_future_deref_timeout (rf_deref works);
 *   (deref f ms t)         rf_deref_default(f, ms, t, &v): -ETIMEDOUT with *v = t;
 *                          a body's exception (ExecutionException) = its negative code;
 *                          a cancelled future (CancellationException) = -ECANCELED
 *   (future-cancel f)      rf_future_cancel: 1 while pending, 0 once done
 *   (future-cancelled? f)  rf_future_cancelled
 *   (future-done? f)       rf_future_done (true once finished, failed or cancelled)
 *   (realized? f)          rf_future_realized (same as done, as in Clojure)
 *   (pcalls f g h)         rf_pcalls(tasks, 3, results, codes): every task on a future,
 *                          results in order; a task's code where Clojure's seq throws
 *                          its ExecutionException at that element
 *   (pvalues e1 e2)        rf_pcalls with one task per expression
 * Cancel cannot stop a body already running (Clojure's interrupt is only a request); it
 * realizes the future with -ECANCELED at once and the body's later result is dropped, so
 * a body whose value owns memory should check for that itself. A body not yet started
 * never runs.
 * Contexts: any (fiber, plain thread, pool task).
 */
#ifndef RINGFOLD_FUTURE_H
#define RINGFOLD_FUTURE_H

#include "ringfold/base.h"
#include "ringfold/deferred.h"
#include "ringfold/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_future rf_future;

/* A task as Java's Callable: fn(arg, &out) (rf_pcalls, rf_executor_invoke_all). */
typedef struct rf_task {
	rf_body_fn fn;
	rf_val arg;
} rf_task;

/* (future-call f): run fn(arg, &out) as a fiber on the executor.
 * Returns: 0 and *out.
 * Errors:  -EINVAL (fn or out NULL), -ENOMEM, RF_ESHUTDOWN (runtime stopping), the
 *          runtime's start error (RF_ECONFIG, ...).
 * Blocks:  never (starts the runtime if needed).
 * Context: any.
 * Cost:    one allocation and a fiber spawn. */
RF_API int rf_future_call(rf_body_fn fn, rf_val arg, rf_future **out);

/* (future ...) placed by opts (ringfold/runtime.h, as rf_go_with); NULL opts is
 * rf_future_call.
 * Returns: 0; *out the future.
 * Errors:  -EINVAL (NULL fn or out, opts out of range), -ENOMEM, RF_ESHUTDOWN.
 * Blocks:  never.
 * Context: any.
 * Cost:    rf_future_call's. */
RF_API int rf_future_call_with(const rf_spawn_opts *opts, rf_body_fn fn, rf_val arg,
                               rf_future **out);

/* Free the handle; a running body runs on, nothing is cancelled.
 * Returns: nothing; NULL is a no-op.
 * Errors:  none. Precondition: nobody is in deref.
 * Blocks:  never.
 * Context: any.
 * Cost:    an atomic add (the last reference: one free). */
RF_API void rf_future_free(rf_future *f);

/* @f: wait for the outcome.
 * Returns: 0 and *out = the body's value.
 * Errors:  the body's negative code, -ECANCELED (cancelled), -EINVAL (NULL future or out).
 *          RF_ESHUTDOWN (a fiber's wait cut short by rf_shutdown).
 * Blocks:  until done (parks a fiber, futex-waits a thread).
 * Context: any; generic form rf_deref (ringfold.h).
 * Cost:    done: one acquire load. */
RF_API int rf_future_deref(rf_future *future, rf_val *out);

/* (deref f timeout-ms): rf_future_deref with a limit.
 * Returns: 0 and *out.
 * Errors:  -ETIMEDOUT (*out untouched; 0 polls), as rf_future_deref, -EINVAL
 *          (timeout_ms < 0).
 * Blocks:  up to timeout_ms.
 * Context: any; generic form rf_deref_timeout, with a default rf_deref_default.
 * Cost:    as rf_future_deref. */
RF_API int rf_future_deref_timeout(rf_future *future, int64_t timeout_ms, rf_val *out);

/* (future-cancel f): realize a pending future with -ECANCELED and wake its derefs.
 * Returns: 1 if this call cancelled it, 0 if it was already done or cancelled.
 * Errors:  -EINVAL (NULL).
 * Blocks:  never.
 * Context: any.
 * Cost:    one short lock. */
RF_API int rf_future_cancel(rf_future *f);

/* (future-cancelled? f), (future-done? f), (realized? f).
 * Returns: true or false (false for NULL).
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    one acquire load. */
RF_API bool rf_future_cancelled(rf_future *f);
RF_API bool rf_future_done(rf_future *f);
RF_API bool rf_future_realized(rf_future *f);

/* (pcalls f g ...) and (pvalues e1 e2 ...): run the n tasks in parallel, each on a
 * future, and wait for all of them; results in task order.
 * Returns: 0, results[i] the value of tasks[i] for every i; codes (may be NULL) all 0.
 * Errors:  -EINVAL (tasks or results NULL with n > 0, a NULL task fn; nothing run);
 *          otherwise the code of the first task, in order, that failed (its body's
 *          negative code) or could not be started (-ENOMEM, RF_ESHUTDOWN, ...), as
 *          Clojure's seq throws at that element: every task started still runs to the
 *          end, results[i] is set for each task that succeeded and left alone for the
 *          others, and codes[i] (when codes is not NULL) is each task's 0 or code.
 * Blocks:  until every started task is done (parks a fiber, futex-waits a thread).
 * Context: any.
 * Cost:    one allocation, n future spawns and derefs. */
RF_API int rf_pcalls(const rf_task *tasks, size_t n, rf_val *results, int *codes);

/* The future seen as a deferred: the same object, borrowed (valid while the handle is;
 * never released).
 * Returns: the deferred, NULL for NULL.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    none. */
RF_API rf_deferred *rf_future_deferred(rf_future *f);

#ifdef __cplusplus
}
#endif
#endif
