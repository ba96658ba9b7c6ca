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

/* rf_deref(ref, &out): Clojure's deref / @ for every reference type. Returns 0 and the
 * value in *out, or the error the reference holds (a failed future's code, ...).
 * Blocks only for delay, promise and future (parks a fiber, futex-waits a thread). */
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

/* rf_deref_timeout(ref, timeout_ms, &out): (deref ref timeout-ms) for the blocking
 * references (delay, promise, future, deferred). Returns 0 and the value, the error the
 * reference holds, or -ETIMEDOUT (*out untouched); timeout_ms < 0 is -EINVAL; 0 polls. */
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

/* rf_deref_default(ref, timeout_ms, dflt, &out): Clojure's (deref ref timeout-ms dflt).
 * As rf_deref_timeout, but on a timeout *out = dflt, and it still returns -ETIMEDOUT so
 * the caller can tell a timeout from a value equal to dflt. `out` is evaluated twice. */
#define rf_deref_default(ref, timeout_ms, dflt, out)                                               \
	rf_timeout_default(rf_deref_timeout(ref, timeout_ms, out), dflt, out)

/* The tail of rf_deref_default: on -ETIMEDOUT store dflt in *out (out may be NULL). */
static inline int rf_timeout_default(int rc, rf_val dflt, rf_val *out)
{
	if (rc == -ETIMEDOUT && out)
		*out = dflt;
	return rc;
}

#endif
