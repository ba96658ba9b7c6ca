/* ringfold/delay.h: delay.
 *
 * A delay runs its body zero times if never dereferenced and exactly once however many
 * threads and fibers deref it at once; the first deref runs it on its own context, the
 * others wait (fibers park, threads futex-wait). A body that fails stores its code and
 * every later deref returns that code without running the body again (Clojure 1.11
 * caches the exception the same way).
 *
 * Clojure mapping:
 *   (delay body)           rf_delay_new(fn, arg), or rf_delay_init in the caller's memory
 *   @d / (force d)         rf_delay_deref (rf_deref works)
 *   (realized? d)          rf_delay_realized
 *   deref of a delay inside its own body (Clojure: StackOverflowError / deadlock):
 *                          RF_ERECURSIVE
 *   (deref d ms t) has no Clojure counterpart for a delay; rf_delay_deref_timeout and
 *   rf_deref_default are a ringfold extension (Clojure's Delay is not a blocking
 * deref): the timeout bounds only waiting for a body another context is running; a deref
 * that finds the body unstarted runs it to the end itself.
 * Contexts: any (fiber, plain thread, pool task); the body runs on the first derefer.
 */
#ifndef RINGFOLD_DELAY_H
#define RINGFOLD_DELAY_H

#include "ringfold/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_delay rf_delay;

/* Storage for a delay in the caller's memory (rf_delay_init). */
typedef struct rf_delay_mem {
	uint64_t opaque[12];
} rf_delay_mem;

/* (delay (fn arg)): a new delay; nothing runs yet.
 * Returns: 0 and *out.
 * Errors:  -EINVAL (fn or out NULL), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    one allocation. */
RF_API int rf_delay_new(rf_body_fn fn, rf_val arg, rf_delay **out);

/* Free a delay made by rf_delay_new.
 * Returns: nothing; NULL is a no-op.
 * Errors:  none. Precondition: nobody is in deref, except the deref that ran the body,
 *          which touches the delay no more once the value can be seen.
 * Blocks:  never.
 * Context: any.
 * Cost:    one free. */
RF_API void rf_delay_free(rf_delay *delay);

/* A delay in the caller's memory; *out is its handle (inside mem).
 * Returns: 0 and *out.
 * Errors:  -EINVAL (mem, fn or out NULL).
 * Blocks:  never.
 * Context: any.
 * Cost:    a few stores. */
RF_API int rf_delay_init(rf_delay_mem *mem, rf_body_fn fn, rf_val arg, rf_delay **out);

/* Undo rf_delay_init.
 * Returns: 0.
 * Errors:  -EBUSY (someone is in deref, or the body runs; nothing changes), -EINVAL (NULL).
 * Blocks:  never.
 * Context: any.
 * Cost:    a short lock. */
RF_API int rf_delay_destroy(rf_delay *delay);

/* @d / (force d): run the body if nobody has, else wait for its outcome.
 * Returns: 0 and *out = the body's value (the same on every deref).
 * Errors:  the body's negative code (the same on every deref), RF_ERECURSIVE (from inside
 *          its own body), -EINVAL (NULL delay or out).
 *          RF_ESHUTDOWN (a fiber's wait cut short by rf_shutdown).
 * Blocks:  runs the body, or waits for another context's run (parks a fiber,
 *          futex-waits a thread).
 * Context: any; generic form rf_deref (ringfold.h).
 * Cost:    realized: one acquire load. */
RF_API int rf_delay_deref(rf_delay *delay, rf_val *out);

/* rf_delay_deref whose wait for another context's run ends after timeout_ms; a deref that
 * finds the body unstarted runs it to the end itself (except with 0, which only polls).
 * Returns: 0 and *out = the body's value.
 * Errors:  -ETIMEDOUT (*out untouched), as rf_delay_deref, -EINVAL (timeout_ms < 0).
 * Blocks:  up to timeout_ms, plus the body if this call runs it.
 * Context: any; generic form rf_deref_timeout, with a default rf_deref_default.
 * Cost:    as rf_delay_deref. */
RF_API int rf_delay_deref_timeout(rf_delay *delay, int64_t timeout_ms, rf_val *out);

/* (realized? d): true once the body finished (value or error).
 * Returns: true or false (false for NULL).
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    one acquire load. */
RF_API bool rf_delay_realized(rf_delay *delay);

#ifdef __cplusplus
}
#endif
#endif
