/* ringfold/volatile.h: volatiles (Clojure's volatile!, vreset!, vswap!, deref).
 *
 * A volatile is one rf_val with no discipline beyond visibility: rf_volatile_reset is a
 * release store, rf_volatile_deref an acquire load, so a reader that sees a value also
 * sees everything the writer did before storing it, and never a stale cached copy. That
 * is all: no padding (8 bytes, put it where you like), no validator, no watches, no
 * release of replaced values.
 *
 * rf_volatile_swap is NOT atomic: it reads, calls the function and stores. Two threads
 * that vswap the same volatile at once can lose one of the updates. The tutorial's three
 * safe patterns are the only safe ones:
 *   1. One thread reads and writes it (state kept for later, e.g. inside a stateful
 *      transducer): any operation.
 *   2. n > 1 threads write, m >= 1 threads read: writers only ever rf_volatile_reset
 *      (never deref, never swap: swap reads); readers only deref. Example: the latest
 *      reading of ten humidity sensors (api/examples/humidity.c).
 *   3. One thread writes, m >= 1 threads read: the one writer may deref, reset and swap;
 *      readers only deref. Example: the day's highest humidity kept by one thread with
 *      rf_volatile_swap(v, rf_max, r), or a stop flag (api/examples/stop_flag.c).
 * Anything else (two threads swapping, or a writer that reads while others write): use an
 * atom.
 *
 * Errors: -EINVAL for a NULL volatile or out-pointer. Contexts: any (fiber, plain thread,
 * fork/join task); nothing here blocks. Cost: one load or store (plus the call to fn).
 */
#ifndef RINGFOLD_VOLATILE_H
#define RINGFOLD_VOLATILE_H

#include "ringfold/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Storage for a volatile in the caller's memory; its bytes are private. */
typedef struct rf_volatile {
	RF_ALIGNAS(8) unsigned char opaque_[8];
} rf_volatile;

/* (volatile! init): a volatile in the caller's memory (_init) or on the heap (_new).
 * Returns: 0 (_new: and *out).
 * Errors:  -EINVAL (NULL v or out), -ENOMEM (_new).
 * Blocks:  never.
 * Context: any.
 * Cost:    one store (+ one allocation). */
RF_API int rf_volatile_init(rf_volatile *v, rf_val init);
RF_API int rf_volatile_new(rf_val init, rf_volatile **out);

/* Undo rf_volatile_init (nothing to release; kept for the convention).
 * Returns: 0.
 * Errors:  -EINVAL (NULL).
 * Blocks:  never.
 * Context: any. Precondition: no concurrent use.
 * Cost:    none. */
RF_API int rf_volatile_destroy(rf_volatile *v);

/* Free a volatile made by rf_volatile_new.
 * Returns: nothing; NULL is a no-op.
 * Errors:  none.
 * Blocks:  never.
 * Context: any. Precondition: no concurrent use.
 * Cost:    one free. */
RF_API void rf_volatile_free(rf_volatile *v);

/* @v: the current value.
 * An acquire load, pairing with the release store of rf_volatile_reset / _swap.
 * Returns: 0 and *out.
 * Errors:  -EINVAL (NULL v or out).
 * Blocks:  never.
 * Context: any.
 * Cost:    one load. */
RF_API int rf_volatile_deref(rf_volatile *v, rf_val *out);

/* (vreset! v value): store value.
 * A release store (Clojure returns value; the caller has it already).
 * Returns: 0.
 * Errors:  -EINVAL (NULL v).
 * Blocks:  never.
 * Context: any (see the safe patterns above).
 * Cost:    one store. */
RF_API int rf_volatile_reset(rf_volatile *v, rf_val value);

/* (vswap! v fn arg): store fn(@v, arg).
 * An acquire load, the call and a release store: NOT atomic (see the safe patterns
 * above); fn runs once.
 * Returns: 0; *new_out (may be NULL) the value stored.
 * Errors:  -EINVAL (NULL v or fn), fn's code (nothing stored).
 * Blocks:  never.
 * Context: any, by the volatile's only writer (see the patterns above).
 * Cost:    one load, the call and one store. */
RF_API int rf_volatile_swap(rf_volatile *v, rf_update_fn fn, rf_val arg, rf_val *new_out);

#ifdef __cplusplus
}
#endif
#endif
