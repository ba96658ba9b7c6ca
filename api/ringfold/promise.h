/* ringfold/promise.h: promise (issue 3).
 *
 * A promise is a box delivered once, usually from another thread or fiber; deref waits
 * for it. It is a deferred (rf_promise_deferred), so callbacks and combinators apply.
 *
 * Clojure mapping:
 *   (promise)              rf_promise_new, or rf_promise_init in the caller's memory
 *   (deliver p v)          rf_promise_deliver: 0; a second deliver changes nothing and
 *                          returns RF_EDELIVERED (Clojure returns nil)
 *   @p, (deref p ms t)     rf_promise_deref, rf_promise_deref_timeout (rf_deref works)
 *   (realized? p)          rf_promise_realized
 * Contexts: every function may be called from a fiber, a plain thread, a pool task.
 */
#ifndef RINGFOLD_PROMISE_H
#define RINGFOLD_PROMISE_H

#include "ringfold/base.h"
#include "ringfold/deferred.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_promise rf_promise;

/* Storage for a promise in the caller's memory (rf_promise_init). */
typedef struct rf_promise_mem {
	uint64_t opaque[8];
} rf_promise_mem;

/* New undelivered promise: 0, -EINVAL (out NULL), -ENOMEM. Never blocks. */
RF_API int rf_promise_new(rf_promise **out);
/* Drop the handle (NULL: no-op). Callbacks still pending hear RF_EABANDONED if this was
 * the last handle. Nobody may be waiting in deref. Never blocks. */
RF_API void rf_promise_free(rf_promise *p);

/* Promise in caller's memory; returns the handle (NULL if mem is NULL). Never fails. */
RF_API rf_promise *rf_promise_init(rf_promise_mem *mem);
/* Undo rf_promise_init: 0, or -EBUSY (someone still waits in deref; nothing changes),
 * -EINVAL (NULL). */
RF_API int rf_promise_destroy(rf_promise *p);

/* (deliver p v): 0, or RF_EDELIVERED when already delivered (nothing changes), -EINVAL
 * on NULL. Wakes every deref (fibers resumed, threads futex-woken) and runs callbacks
 * on the caller. Never blocks. Cost with nobody waiting: one short lock. */
RF_API int rf_promise_deliver(rf_promise *p, rf_val value);

/* @p: 0 and the value. Blocks until delivered (parks a fiber, futex-waits a thread).
 * -EINVAL on NULL; RF_EABANDONED never (the caller's handle keeps it alive).
 * Delivered: one acquire load. */
RF_API int rf_promise_deref(rf_promise *promise, rf_val *out);
/* (deref p ms timeout-val): after timeout_ms without delivery, 0 and *out = timeout_val;
 * 0 polls; timeout_ms < 0: -EINVAL. */
RF_API int rf_promise_deref_timeout(rf_promise *promise, int64_t timeout_ms, rf_val timeout_val,
                                    rf_val *out);

/* (realized? p): true once delivered. NULL: false. One acquire load. */
RF_API bool rf_promise_realized(rf_promise *p);

/* The promise seen as a deferred (the same object; valid while the handle is). */
RF_API rf_deferred *rf_promise_deferred(rf_promise *p);

#ifdef __cplusplus
}
#endif
#endif
