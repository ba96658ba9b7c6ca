/* ringfold/delay.h: delay (issue 3).
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
 * rf_delay_deref_timeout is a ringfold extension (Clojure's Delay is not a blocking
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

/* New delay of fn(arg, &out); nothing runs yet. 0, -EINVAL (fn or out NULL), -ENOMEM. */
RF_API int rf_delay_new(rf_body_fn fn, rf_val arg, rf_delay **out);
/* Drop it (NULL: no-op). Nobody may be in deref. */
RF_API void rf_delay_free(rf_delay *delay);

/* Delay in caller's memory; returns the handle, NULL if mem or fn is NULL. */
RF_API rf_delay *rf_delay_init(rf_delay_mem *mem, rf_body_fn fn, rf_val arg);
/* 0, -EBUSY (someone is still in deref; nothing changes), -EINVAL. */
RF_API int rf_delay_destroy(rf_delay *delay);

/* @d: 0 and the body's value, or the body's negative code (the same on every deref),
 * RF_ERECURSIVE from inside its own body, -EINVAL on NULL. May run the body; may block
 * waiting for another context's run. Realized: one acquire load. */
RF_API int rf_delay_deref(rf_delay *delay, rf_val *out);
/* As rf_delay_deref, but a wait for another context's run ends after timeout_ms with 0
 * and *out = timeout_val. 0 polls (and then never runs the body); < 0: -EINVAL. */
RF_API int rf_delay_deref_timeout(rf_delay *delay, int64_t timeout_ms, rf_val timeout_val,
                                  rf_val *out);

/* (realized? d): true once the body finished (value or error). One acquire load. */
RF_API bool rf_delay_realized(rf_delay *delay);

#ifdef __cplusplus
}
#endif
#endif
