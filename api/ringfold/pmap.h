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

/* out[i] = f(in[i], arg) for i < n, in parallel, chunks of at least `chunk` elements
 * (rf_pmap: RF_PMAP_DEFAULT_CHUNK) split off lazily when workers are hungry. in and out
 * may be the same array. Returns 0, or the negative code of the leftmost failing chunk
 * that ran (other elements of out are then unspecified), -EINVAL for NULL arguments
 * (in/out may be NULL when n == 0) or chunk == 0, or the pools' start error.
 * Blocks until done (a fiber parks, a thread futex-waits, holding no worker); inside a
 * pool task it works in that pool. Any context. */
RF_API int rf_pmap(const rf_val *in, size_t n, rf_update_fn f, rf_val arg, rf_val *out);
RF_API int rf_pmap_n(const rf_val *in, size_t n, size_t chunk, rf_update_fn f, rf_val arg,
                     rf_val *out);

/* The lazy form: at most `ahead` results computed ahead of the consumer (0: Clojure's
 * 2 + number of CPUs, here 2 + fork/join workers). in must stay valid until the stream
 * is freed. Returns 0; -EINVAL; -ENOMEM; -EDEADLK when called from a pool task (a pool
 * worker must not wait on its own pool's queue: use rf_pmap there). Any other context;
 * never blocks. */
typedef struct rf_pmap_stream rf_pmap_stream;
RF_API int rf_pmap_stream_new(const rf_val *in, size_t n, rf_update_fn f, rf_val arg, size_t ahead,
                              rf_pmap_stream **out);

/* The next result, in order: 0 and *out = f(in[i], arg); f's negative code for that
 * element (the stream moves past it); RF_EEND after the last element (Clojure: the seq
 * ends); -EINVAL for NULL. Blocks until that result is ready (fiber parks, thread waits).
 * _timeout: -ETIMEDOUT when not ready in timeout_ms (the element stays next; 0 polls;
 * negative: -EINVAL). One consumer at a time. Cost when ready: a few ns plus starting
 * the element `ahead` places further. */
RF_API int rf_pmap_stream_next(rf_pmap_stream *s, rf_val *out);
RF_API int rf_pmap_stream_next_timeout(rf_pmap_stream *s, int64_t timeout_ms, rf_val *out);

/* Free the stream; waits for results still being computed (no work is abandoned
 * half-way). NULL is a no-op. Blocks. */
RF_API void rf_pmap_stream_free(rf_pmap_stream *s);

#ifdef __cplusplus
}
#endif
#endif
