/* ringfold/deferred.h: deferreds, the essence of Manifold.
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
 *   @d, (deref d ms)        rf_deferred_deref, rf_deferred_deref_timeout (rf_deref works)
 *   (deref d ms t)          rf_deref_default(d, ms, t, &v)   (ringfold.h)
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
 * Lifetime: a deferred is reference counted. rf_deferred_new and every combinator give
 * the caller one reference, dropped with rf_deferred_release (which never cancels
 * anything; a combinator keeps what it needs alive); rf_deferred_retain adds one. The
 * deferred view of a promise or future (rf_promise_deferred, rf_future_deferred) is
 * borrowed: valid while the promise's or future's handle is, never released. Handles are
 * thread-safe: any context may use them.
 */
#ifndef RINGFOLD_DEFERRED_H
#define RINGFOLD_DEFERRED_H

#include "ringfold/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_deferred rf_deferred;

/* Outcome callback: code 0 and the value on success, or the negative error code; ctx is
 * the word given to rf_deferred_on_realized. */
typedef void (*rf_realized_fn)(int code, rf_val value, rf_val ctx);

/* Error handler for rf_deferred_catch: gets the error code, returns 0 and a replacement
 * value in *out, or a (possibly different) negative code. */
typedef int (*rf_catch_fn)(int code, rf_val arg, rf_val *out);

/* (d/deferred): a new pending deferred.
 * Returns: 0 and *out (the caller's reference).
 * Errors:  -EINVAL (out NULL), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    one allocation. */
RF_API int rf_deferred_new(rf_deferred **out);

/* Add a reference (to hand the deferred to another owner).
 * Returns: d (NULL for NULL).
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    one atomic add. */
RF_API rf_deferred *rf_deferred_retain(rf_deferred *d);

/* Drop a reference; the last one of a pending deferred realizes it with RF_EABANDONED
 * (so its callbacks still hear once) and frees it.
 * Returns: nothing; NULL is a no-op.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    one atomic add (the last: the callbacks, one free). */
RF_API void rf_deferred_release(rf_deferred *d);

/* (d/success! d v) / (d/error! d code): realize d, wake its waiters and run its
 * callbacks on the caller.
 * Returns: 0.
 * Errors:  RF_EDELIVERED (already realized; nothing changes: Manifold's false), -EINVAL
 *          (NULL, or code >= 0).
 * Blocks:  never.
 * Context: any.
 * Cost:    one short lock when nobody listens. */
RF_API int rf_deferred_success(rf_deferred *d, rf_val value);
RF_API int rf_deferred_error(rf_deferred *d, int code);

/* @d: wait until d is realized.
 * Returns: 0 and *out = the value.
 * Errors:  the code d was realized with, -EINVAL (NULL d or out).
 *          RF_ESHUTDOWN (a fiber's wait cut short by rf_shutdown).
 * Blocks:  until realized (parks a fiber, futex-waits a thread).
 * Context: any; generic form rf_deref (ringfold.h).
 * Cost:    realized: one acquire load. */
RF_API int rf_deferred_deref(rf_deferred *d, rf_val *out);

/* (deref d timeout-ms): rf_deferred_deref with a limit.
 * Returns: 0 and *out = the value.
 * Errors:  -ETIMEDOUT (not realized in time; *out untouched; 0 polls), the code d was
 *          realized with, -EINVAL (NULL, timeout_ms < 0).
 * Blocks:  up to timeout_ms.
 * Context: any; generic form rf_deref_timeout, with a default rf_deref_default.
 * Cost:    as rf_deferred_deref. */
RF_API int rf_deferred_deref_timeout(rf_deferred *d, int64_t timeout_ms, rf_val *out);

/* (d/realized? d): true once realized (value or error).
 * Returns: true or false (false for NULL).
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    one acquire load. */
RF_API bool rf_deferred_realized(rf_deferred *d);

/* (d/on-realized d f g): call fn(code, value, ctx) exactly once when d is realized (now,
 * on the caller, if it already is).
 * Returns: 0.
 * Errors:  -EINVAL (NULL d or fn), -ENOMEM.
 * Blocks:  never.
 * Context: any; fn runs on the realizing context.
 * Cost:    one allocation. */
RF_API int rf_deferred_on_realized(rf_deferred *d, rf_realized_fn fn, rf_val ctx);

/* (d/chain d f): a new deferred realized with fn(value, arg, &out) once d succeeds (fn's
 * negative return becomes its error), or with d's error unchanged.
 * Returns: 0 and *out (the caller's reference).
 * Errors:  -EINVAL (NULL d, fn or out), -ENOMEM.
 * Blocks:  never.
 * Context: any; fn runs on the realizing context.
 * Cost:    two allocations. */
RF_API int rf_deferred_chain(rf_deferred *d, rf_update_fn fn, rf_val arg, rf_deferred **out);

/* (d/catch d f): a new deferred realized with d's value unchanged, or with
 * fn(code, arg, &out) if d fails.
 * Returns: 0 and *out (the caller's reference).
 * Errors:  -EINVAL (NULL d, fn or out), -ENOMEM.
 * Blocks:  never.
 * Context: any; fn runs on the realizing context.
 * Cost:    two allocations. */
RF_API int rf_deferred_catch(rf_deferred *d, rf_catch_fn fn, rf_val arg, rf_deferred **out);

/* (d/zip a b ...): a new deferred realized once all n inputs succeed, with value
 * rf_from_ptr(values) and values[i] = input i's value (written just before, never after:
 * the caller may free values once the zip is realized); or with the first input's error
 * (values untouched). n == 0 realizes at once.
 * Returns: 0 and *out (the caller's reference).
 * Errors:  -EINVAL (NULL ds, values or out with n > 0, a NULL input), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    n + 1 allocations. */
RF_API int rf_deferred_zip(rf_deferred *const *ds, size_t n, rf_val *values, rf_deferred **out);

/* (d/alt a b ...): a new deferred realized with the outcome of whichever of the n inputs
 * is realized first.
 * Returns: 0 and *out (the caller's reference).
 * Errors:  -EINVAL (n == 0, NULLs), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    n + 1 allocations. */
RF_API int rf_deferred_any(rf_deferred *const *ds, size_t n, rf_deferred **out);

#ifdef __cplusplus
}
#endif
#endif
