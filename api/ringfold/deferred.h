/* ringfold/deferred.h: deferreds, the essence of Manifold (issue 3).
 *
 * A deferred is a one-shot box realized once, with a value (success) or an error code.
 * Promises and futures are deferreds too (rf_promise_deferred, rf_future_deferred), so
 * every combinator here works on them. Nothing in this header blocks a thread except
 * rf_deferred_deref and rf_deferred_deref_timeout.
 *
 * Manifold mapping:
 *   (d/deferred)            rf_deferred_new
 *   (d/success! d v)        rf_deferred_success   true/false -> 0 / RF_EDELIVERED
 *   (d/error! d e)          rf_deferred_error     error e is a negative code
 *   @d, (deref d ms t)      rf_deferred_deref, rf_deferred_deref_timeout (rf_deref works)
 *   (d/realized? d)         rf_deferred_realized
 *   (d/on-realized d f g)   rf_deferred_on_realized   one callback sees both outcomes
 *   (d/chain d f)           rf_deferred_chain      f runs on the value; errors pass through
 *   (d/catch d f)           rf_deferred_catch      f runs on the error; values pass through
 *   (d/zip a b ...)         rf_deferred_zip        all values, or the first error
 *   (d/alt a b ...)         rf_deferred_any        the first outcome, value or error
 *
 * Callbacks and combinator functions run exactly once, on the context that realizes the
 * input (or at once on the caller if it is already realized): keep them short and
 * non-blocking, as Manifold asks. A deferred whose last handle is freed while pending is
 * realized with RF_EABANDONED, so anything chained on it still hears exactly once.
 *
 * Lifetime: every rf_deferred_new / combinator result is a handle the caller frees with
 * rf_deferred_free once done with it (freeing never cancels anything; the combinator
 * keeps what it needs alive). Handles are thread-safe: any context may use them.
 */
#ifndef RINGFOLD_DEFERRED_H
#define RINGFOLD_DEFERRED_H

#include "ringfold/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_deferred rf_deferred;

/* Outcome callback: code 0 and the value on success, or the negative error code. */
typedef void (*rf_realized_fn)(void *arg, int code, rf_val value);

/* Error handler for rf_deferred_catch: gets the error code, returns 0 and a replacement
 * value in *out, or a (possibly different) negative code. */
typedef int (*rf_catch_fn)(int code, rf_val arg, rf_val *out);

/* New pending deferred. 0 or -EINVAL (out NULL), -ENOMEM. Never blocks. Any context. */
RF_API int rf_deferred_new(rf_deferred **out);

/* Drop the caller's handle (NULL: no-op). Never blocks. */
RF_API void rf_deferred_free(rf_deferred *d);

/* Realize with a value / an error (code < 0). 0, or RF_EDELIVERED if already realized
 * (nothing changes), -EINVAL (NULL, code >= 0). Wakes waiters and runs callbacks on the
 * caller before returning. Cost when nobody listens: one short lock. Any context. */
RF_API int rf_deferred_success(rf_deferred *d, rf_val value);
RF_API int rf_deferred_error(rf_deferred *d, int code);

/* @d: 0 and the value, or the error code it was realized with. Blocks until realized:
 * parks a fiber, futex-waits a thread. -EINVAL on NULL. Realized: one acquire load. */
RF_API int rf_deferred_deref(rf_deferred *d, rf_val *out);
/* (deref d ms timeout-val): as rf_deferred_deref, but after timeout_ms returns 0 with
 * *out = timeout_val; 0 polls; timeout_ms < 0 is -EINVAL. */
RF_API int rf_deferred_deref_timeout(rf_deferred *d, int64_t timeout_ms, rf_val timeout_val,
                                     rf_val *out);

/* realized?: true once realized (value or error). NULL: false. One acquire load. */
RF_API bool rf_deferred_realized(rf_deferred *d);

/* Call fn(arg, code, value) exactly once when d is realized (now, on the caller, if it
 * already is). 0, -EINVAL, -ENOMEM. Never blocks. */
RF_API int rf_deferred_on_realized(rf_deferred *d, rf_realized_fn fn, void *arg);

/* chain: a new deferred realized with fn(value, arg, &out) once d succeeds (fn's
 * negative return becomes its error), or with d's error unchanged. 0, -EINVAL, -ENOMEM. */
RF_API int rf_deferred_chain(rf_deferred *d, rf_update_fn fn, rf_val arg, rf_deferred **out);

/* catch: a new deferred realized with d's value unchanged, or with fn(code, arg, &out)
 * if d fails. 0, -EINVAL, -ENOMEM. */
RF_API int rf_deferred_catch(rf_deferred *d, rf_catch_fn fn, rf_val arg, rf_deferred **out);

/* zip: a new deferred realized once all n inputs succeed, with value rf_from_ptr(values)
 * and values[i] = input i's value (values written just before, never after, so the
 * caller may free them once the zip is realized); or with the first input's error
 * (values untouched). n == 0 realizes at once. 0, -EINVAL, -ENOMEM. */
RF_API int rf_deferred_zip(rf_deferred *const *ds, size_t n, rf_val *values, rf_deferred **out);

/* any (Manifold's alt): a new deferred realized with the outcome of whichever of the n
 * (>= 1) inputs is realized first. 0, -EINVAL (n == 0, NULLs), -ENOMEM. */
RF_API int rf_deferred_any(rf_deferred *const *ds, size_t n, rf_deferred **out);

#ifdef __cplusplus
}
#endif
#endif
