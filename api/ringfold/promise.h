/* ringfold/promise.h: promise.
 *
 * A promise is a box delivered once, usually from another thread or fiber; deref waits
 * for it. It is a deferred (rf_promise_deferred), so callbacks and combinators apply.
 *
 * Clojure mapping:
 *   (promise)              rf_promise_new, or rf_promise_init in the caller's memory
 *   (deliver p v)          rf_promise_deliver: 0; a second deliver changes nothing and
 *                          returns RF_EDELIVERED (Clojure returns nil)
 *   @p, (deref p ms)       rf_promise_deref, rf_promise_deref_timeout (rf_deref works)
 *   (deref p ms t)         rf_deref_default(p, ms, t, &v): -ETIMEDOUT with *v = t
 *   (realized? p)          rf_promise_realized
 * Contexts: every function may be called from a fiber, a plain thread, a pool task.
 *
 * Lifetime: a deliver touches the promise no more once the value can be seen. Whoever
 * sees it (a deref, rf_promise_realized, a callback) may free or destroy the promise
 * while rf_promise_deliver is still returning, so the deliverer may borrow the owner's
 * handle (test_promise_delay.c's seen_value_frees checks it under TSan).
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

/* (promise): a new undelivered promise.
 * Returns: 0 and *out.
 * Errors:  -EINVAL (out NULL), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    one allocation. */
RF_API int rf_promise_new(rf_promise **out);

/* Free the handle of rf_promise_new; callbacks still pending hear RF_EABANDONED. A
 * deliverer needs no handle of its own: once a deref has returned the value, the promise
 * may be freed while the deliverer is still inside rf_promise_deliver (the free waits for
 * the deliverer's last access, a few instructions away).
 * Returns: nothing; NULL is a no-op.
 * Errors:  none. Precondition: nobody waits in deref.
 * Blocks:  never.
 * Context: any.
 * Cost:    one free. */
RF_API void rf_promise_free(rf_promise *p);

/* A promise in the caller's memory; *out is its handle (inside mem).
 * Returns: 0 and *out.
 * Errors:  -EINVAL (mem or out NULL).
 * Blocks:  never.
 * Context: any.
 * Cost:    a few stores. */
RF_API int rf_promise_init(rf_promise_mem *mem, rf_promise **out);

/* Undo rf_promise_init; like rf_promise_free, also while a deliverer is still returning.
 * Returns: 0.
 * Errors:  -EBUSY (someone waits in deref; nothing changes), -EINVAL (NULL).
 * Blocks:  never.
 * Context: any.
 * Cost:    a short lock. */
RF_API int rf_promise_destroy(rf_promise *p);

/* (deliver p v): wake every deref and run the callbacks on the caller.
 * Returns: 0.
 * Errors:  RF_EDELIVERED (already delivered; nothing changes: Clojure's nil), -EINVAL.
 * Blocks:  never.
 * Context: any.
 * Cost:    one short lock when nobody waits. */
RF_API int rf_promise_deliver(rf_promise *p, rf_val value);

/* @p: wait for the value.
 * Returns: 0 and *out.
 * Errors:  -EINVAL (NULL promise or out).
 *          RF_ESHUTDOWN (a fiber's wait cut short by rf_shutdown).
 * Blocks:  until delivered (parks a fiber, futex-waits a thread).
 * Context: any; generic form rf_deref (ringfold.h).
 * Cost:    delivered: one acquire load. */
RF_API int rf_promise_deref(rf_promise *promise, rf_val *out);

/* (deref p timeout-ms): rf_promise_deref with a limit.
 * Returns: 0 and *out.
 * Errors:  -ETIMEDOUT (*out untouched; 0 polls), -EINVAL (NULL, timeout_ms < 0).
 * Blocks:  up to timeout_ms.
 * Context: any; generic form rf_deref_timeout, with a default rf_deref_default.
 * Cost:    as rf_promise_deref. */
RF_API int rf_promise_deref_timeout(rf_promise *promise, int64_t timeout_ms, rf_val *out);

/* (realized? p): true once delivered.
 * Returns: true or false (false for NULL).
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    one acquire load. */
RF_API bool rf_promise_realized(rf_promise *p);

/* The promise seen as a deferred: the same object, borrowed (valid while the handle is;
 * never released).
 * Returns: the deferred, NULL for NULL.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    none. */
RF_API rf_deferred *rf_promise_deferred(rf_promise *p);

#ifdef __cplusplus
}
#endif
#endif
