/* ringfold/future.h: future (issue 3).
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
 *   @f, (deref f ms t)     rf_future_deref, rf_future_deref_timeout (rf_deref works);
 *                          a body's exception (ExecutionException) = its negative code;
 *                          a cancelled future (CancellationException) = -ECANCELED
 *   (future-cancel f)      rf_future_cancel: true while pending, false once done
 *   (future-cancelled? f)  rf_future_cancelled
 *   (future-done? f)       rf_future_done (true once finished, failed or cancelled)
 *   (realized? f)          rf_future_realized (same as done, as in Clojure)
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

/* Start fn(arg, &out) as a fiber (starts the runtime if needed). 0; -EINVAL (fn or out
 * NULL); -ENOMEM; RF_ESHUTDOWN (runtime stopping).
 * Never blocks. Cost: one allocation and a fiber spawn. */
RF_API int rf_future_call(rf_body_fn fn, rf_val arg, rf_future **out);

/* (future ...) placed by opts (ringfold/runtime.h, as rf_go_with); NULL opts is
 * rf_future_call.
 * Returns: 0; *out the future.
 * Errors:  -EINVAL (NULL fn or out, opts out of range), -ENOMEM, RF_ESHUTDOWN.
 * Blocks:  never. Context: any. Cost: rf_future_call's. */
RF_API int rf_future_call_with(const rf_spawn_opts *opts, rf_body_fn fn, rf_val arg,
                               rf_future **out);

/* Drop the handle (NULL: no-op). A running body runs on; nothing is cancelled. Nobody
 * may be in deref. Never blocks. */
RF_API void rf_future_free(rf_future *f);

/* @f: 0 and the value, the body's negative code, -ECANCELED, -EINVAL (NULL). Blocks
 * until done (parks a fiber, futex-waits a thread). Done: one acquire load. */
RF_API int rf_future_deref(rf_future *future, rf_val *out);
/* (deref f ms timeout-val): after timeout_ms not done, 0 with *out = timeout_val; 0
 * polls; < 0: -EINVAL. */
RF_API int rf_future_deref_timeout(rf_future *future, int64_t timeout_ms, rf_val timeout_val,
                                   rf_val *out);

/* (future-cancel f): true if this call cancelled it (it was pending), false if it was
 * already done or cancelled, or NULL. Wakes derefs with -ECANCELED. Never blocks. */
RF_API bool rf_future_cancel(rf_future *f);
/* (future-cancelled? f), (future-done? f), (realized? f): one acquire load each; NULL:
 * false. */
RF_API bool rf_future_cancelled(rf_future *f);
RF_API bool rf_future_done(rf_future *f);
RF_API bool rf_future_realized(rf_future *f);

/* The future seen as a deferred (the same object; valid while the handle is). */
RF_API rf_deferred *rf_future_deferred(rf_future *f);

#ifdef __cplusplus
}
#endif
#endif
