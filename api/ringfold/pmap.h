/* ringfold/pmap.h: Clojure's pmap: an order-preserving parallel map.
 *
 *   Clojure                          ringfold
 *   (vec (pmap f xs)) into an array  rf_pmap(xs, n, f, arg, out): out[i] = f(xs[i], arg)
 *   (pmap f xs), consumed lazily     rf_pmap_stream_new(xs, n, f, arg, ahead, &s);
 *                                    rf_pmap_stream_next(s, &y) ... RF_EEND at the end
 *   an exception thrown by f         f's negative return (see each function)
 *
 * f has the base.h update shape f(x, arg, &out); arg is bound once (a closure in C).
 * f runs on the fork/join pool of the caller's NUMA node; dynamic bindings of the caller
 * are conveyed to it.
 */
#ifndef RINGFOLD_PMAP_H
#define RINGFOLD_PMAP_H

#include "ringfold/base.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RF_PMAP_DEFAULT_CHUNK 8

/* (vec (pmap f in)): out[i] = f(in[i], arg) for i < n, in parallel; chunks of at least
 * RF_PMAP_DEFAULT_CHUNK elements are split off lazily when workers are hungry. in and out
 * may be the same array.
 * Returns: 0; out[0..n) holds the results.
 * Errors:  -EINVAL (NULL f; NULL in or out with n > 0), the negative code of the leftmost
 *          failing chunk that ran (the rest of out is then unspecified), the pools' start
 *          error, RF_ESHUTDOWN (rf_shutdown cancelled a fiber's wait).
 * Blocks:  until done: a fiber parks, a thread futex-waits, holding no worker; inside a
 *          pool task it works in that pool.
 * Context: any.
 * Cost:    one call of f per element, a fork per 32 to 64 chunks when nobody steals. */
RF_API int rf_pmap(const rf_val *in, size_t n, rf_update_fn f, rf_val arg, rf_val *out);

/* rf_pmap with chunks of at least `chunk` elements.
 * Returns: 0; out[0..n) holds the results.
 * Errors:  -EINVAL (chunk == 0, or as rf_pmap), f's code, the pools' start error.
 * Blocks:  as rf_pmap.
 * Context: any.
 * Cost:    as rf_pmap. */
RF_API int rf_pmap_n(const rf_val *in, size_t n, size_t chunk, rf_update_fn f, rf_val arg,
                     rf_val *out);

typedef struct rf_pmap_stream rf_pmap_stream;

/* (pmap f in) consumed lazily: at most `ahead` results computed ahead of the consumer (0:
 * Clojure's 2 + number of CPUs, here 2 + fork/join workers). in must stay valid until
 * the stream is freed.
 * Returns: 0 and *out, the stream (free it with rf_pmap_stream_free).
 * Errors:  -EINVAL (NULL f or out; NULL in with n > 0; n too large for any array),
 *          -ENOMEM, -EDEADLK (called from a
 *          pool task, whose worker must not wait on its own pool: use rf_pmap there), the
 *          pools' start error.
 * Blocks:  never.
 * Context: fiber or plain thread; not a pool task.
 * Cost:    an allocation and `ahead` task submissions. */
RF_API int rf_pmap_stream_new(const rf_val *in, size_t n, rf_update_fn f, rf_val arg, size_t ahead,
                              rf_pmap_stream **out);

/* The next result, in order.
 * Returns: 0 and *out = f(in[i], arg); RF_EEND after the last element (the seq ends).
 * Errors:  -EINVAL (NULL s or out), f's negative code for that element (the stream moves
 *          past it), RF_ESHUTDOWN (the runtime stopped while waiting).
 * Blocks:  until that result is ready: a fiber parks, a thread waits.
 * Context: fiber or plain thread; one consumer at a time.
 * Cost:    a few ns when ready, plus starting the element `ahead` places further. */
RF_API int rf_pmap_stream_next(rf_pmap_stream *s, rf_val *out);

/* rf_pmap_stream_next with a bound on the wait.
 * Returns: as rf_pmap_stream_next.
 * Errors:  as rf_pmap_stream_next; -EINVAL also for timeout_ms < 0; -ETIMEDOUT when not
 *          ready within timeout_ms (the element stays next; 0 polls).
 * Blocks:  up to timeout_ms.
 * Context: as rf_pmap_stream_next.
 * Cost:    as rf_pmap_stream_next. */
RF_API int rf_pmap_stream_next_timeout(rf_pmap_stream *s, int64_t timeout_ms, rf_val *out);

/* Free the stream after the results still being computed are done (no work is
 * abandoned half-way).
 * Returns: nothing.
 * Errors:  none; NULL is a no-op.
 * Blocks:  until the elements in flight finish.
 * Context: fiber or plain thread; not a pool task.
 * Cost:    a wait per element in flight, then a free. */
RF_API void rf_pmap_stream_free(rf_pmap_stream *s);

#ifdef __cplusplus
}
#endif
#endif
