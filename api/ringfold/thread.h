/* ringfold/thread.h: plain OS threads.
 *
 * (doto (Thread. f) .start): rf_thread_start runs fn(arg, &out) on a new OS thread of
 * its own (not an executor worker; it may block as it likes). Unlike a Java thread, the
 * return value is not lost: the optional future holds it. As in Java, a thread cannot
 * be stopped from outside: have it watch a promise (see api/examples/thread.c) and
 * deliver the promise to ask it to stop. Dynamic bindings are not conveyed, as in
 * Clojure's raw Thread.
 */
#ifndef RINGFOLD_THREAD_H
#define RINGFOLD_THREAD_H

#include "ringfold/base.h"
#include "ringfold/future.h"

#ifdef __cplusplus
extern "C" {
#endif

/* (doto (Thread. f) .start): run fn(arg, &out) on a new detached OS thread.
 * Returns: 0; *out (out may be NULL) is a future of fn's outcome: rf_future_deref is the
 *          join, rf_future_free frees it.
 * Errors:  -EINVAL (NULL fn), -ENOMEM, -EAGAIN (no thread could be made).
 * Blocks:  never.
 * Context: any.
 * Cost:    an allocation and a thread creation. */
RF_API int rf_thread_start(rf_body_fn fn, rf_val arg, rf_future **out);

#ifdef __cplusplus
}
#endif
#endif
