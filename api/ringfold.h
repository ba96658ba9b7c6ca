/* ringfold.h: the whole public API. #include <ringfold.h>, link with -lringfold
 * (pkg-config ringfold, or find_package(ringfold) and ringfold::ringfold). */
#ifndef RINGFOLD_H
#define RINGFOLD_H

#include "ringfold/base.h"
#include "ringfold/runtime.h"

#include "ringfold/deferred.h"
#include "ringfold/delay.h"
#include "ringfold/executor.h"
#include "ringfold/future.h"
#include "ringfold/promise.h"
#include "ringfold/schedule.h"
#include "ringfold/thread.h"

#include "ringfold/atom.h"
#include "ringfold/reclaim.h"
#include "ringfold/lock.h"
#include "ringfold/volatile.h"

#include "ringfold/ref.h"
#include "ringfold/var.h"

#include "ringfold/agent.h"

#include "ringfold/async.h"
#include "ringfold/chan.h"

#include "ringfold/io.h"

#include "ringfold/fj.h"
#include "ringfold/fold.h"
#include "ringfold/pmap.h"

#include "ringfold/coll.h"
#include "ringfold/phm.h"
#include "ringfold/psorted.h"
#include "ringfold/pvec.h"

/* @ref, (deref ref): the value of any reference, as rf_deref(ref, &out).
 * Chooses rf_<type>_deref by the type of ref (C11 _Generic; overloads in C++): delay,
 * promise, future, deferred, atom, volatile, ref, var, agent.
 * Returns: 0 and the value in *out.
 * Errors:  the chosen function's: -EINVAL (NULL ref or out), the error the reference
 *          holds (a failed delay's, future's or deferred's code, -ECANCELED, ...),
 *          RF_ESHUTDOWN (rf_shutdown cancelled a fiber's wait); see rf_<type>_deref.
 * Blocks:  only for delay, promise, future and deferred, until realized (parks a fiber,
 *          futex-waits a thread; a delay may run its body here).
 * Context: any.
 * Cost:    the chosen function's; the choice is made at compile time. */
/* clang-format off */
#ifndef __cplusplus
#define rf_deref(ref, out)                                                                  \
	_Generic((ref),                                                                          \
	    rf_delay *: rf_delay_deref,                                                          \
	    rf_promise *: rf_promise_deref,                                                      \
	    rf_future *: rf_future_deref,                                                        \
	    rf_deferred *: rf_deferred_deref,                                                    \
	    rf_atom *: rf_atom_deref,                                                            \
	    rf_volatile *: rf_volatile_deref,                                                    \
	    rf_ref *: rf_ref_deref,                                                              \
	    rf_var *: rf_var_deref,                                                              \
	    rf_agent *: rf_agent_deref)(ref, out)

/* (deref ref timeout-ms): the value of a blocking reference (delay, promise, future,
 * deferred), waiting at most timeout_ms, as rf_deref_timeout(ref, timeout_ms, &out).
 * Chooses rf_<type>_deref_timeout by the type of ref, as rf_deref.
 * Returns: 0 and the value in *out.
 * Errors:  -ETIMEDOUT (not realized in time; *out untouched; 0 polls), -EINVAL (NULL ref
 *          or out, timeout_ms < 0), the error the reference holds, RF_ESHUTDOWN
 *          (rf_shutdown cancelled a fiber's wait).
 * Blocks:  up to timeout_ms (parks a fiber, futex-waits a thread), plus a delay's body
 *          if this call runs it.
 * Context: any.
 * Cost:    the chosen function's. */
#define rf_deref_timeout(ref, timeout_ms, out)                                              \
	_Generic((ref),                                                                          \
	    rf_delay *: rf_delay_deref_timeout,                                                  \
	    rf_promise *: rf_promise_deref_timeout,                                              \
	    rf_future *: rf_future_deref_timeout,                                                \
	    rf_deferred *: rf_deferred_deref_timeout)(ref, timeout_ms, out)
#else
/* C++ has no _Generic: the same names as overloads. */
inline int rf_deref(rf_delay *r, rf_val *out) { return rf_delay_deref(r, out); }
inline int rf_deref(rf_promise *r, rf_val *out) { return rf_promise_deref(r, out); }
inline int rf_deref(rf_future *r, rf_val *out) { return rf_future_deref(r, out); }
inline int rf_deref(rf_deferred *r, rf_val *out) { return rf_deferred_deref(r, out); }
inline int rf_deref(rf_atom *r, rf_val *out) { return rf_atom_deref(r, out); }
inline int rf_deref(rf_volatile *r, rf_val *out) { return rf_volatile_deref(r, out); }
inline int rf_deref(rf_ref *r, rf_val *out) { return rf_ref_deref(r, out); }
inline int rf_deref(rf_var *r, rf_val *out) { return rf_var_deref(r, out); }
inline int rf_deref(rf_agent *r, rf_val *out) { return rf_agent_deref(r, out); }
inline int rf_deref_timeout(rf_delay *r, int64_t timeout_ms, rf_val *out)
{
	return rf_delay_deref_timeout(r, timeout_ms, out);
}
inline int rf_deref_timeout(rf_promise *r, int64_t timeout_ms, rf_val *out)
{
	return rf_promise_deref_timeout(r, timeout_ms, out);
}
inline int rf_deref_timeout(rf_future *r, int64_t timeout_ms, rf_val *out)
{
	return rf_future_deref_timeout(r, timeout_ms, out);
}
inline int rf_deref_timeout(rf_deferred *r, int64_t timeout_ms, rf_val *out)
{
	return rf_deferred_deref_timeout(r, timeout_ms, out);
}
#endif
/* clang-format on */

/* (deref ref timeout-ms dflt): rf_deref_default(ref, timeout_ms, dflt, &out).
 * rf_deref_timeout, then rf_timeout_default: on a timeout *out = dflt, and it still
 * returns -ETIMEDOUT so the caller can tell a timeout from a value equal to dflt. `out`
 * is evaluated twice.
 * Returns: 0 and the value in *out.
 * Errors:  -ETIMEDOUT (*out = dflt), as rf_deref_timeout otherwise (*out untouched).
 * Blocks:  as rf_deref_timeout.
 * Context: any.
 * Cost:    as rf_deref_timeout, plus a compare. */
#define rf_deref_default(ref, timeout_ms, dflt, out)                                               \
	rf_timeout_default(rf_deref_timeout(ref, timeout_ms, out), dflt, out)

/* The tail of rf_deref_default: on -ETIMEDOUT store dflt in *out.
 * Returns: rc, unchanged; *out = dflt when rc is -ETIMEDOUT and out is not NULL.
 * Errors:  none of its own.
 * Blocks:  never.
 * Context: any.
 * Cost:    a compare (and a store). */
static inline int rf_timeout_default(int rc, rf_val dflt, rf_val *out)
{
	if (rc == -ETIMEDOUT && out)
		*out = dflt;
	return rc;
}

#endif
