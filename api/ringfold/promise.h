/* ringfold/promise.h: deref family (issue 3): promise. */
#ifndef RINGFOLD_PROMISE_H
#define RINGFOLD_PROMISE_H

#include "ringfold/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_promise rf_promise;

/* Generic deref (see ringfold.h). */
RF_API int rf_promise_deref(rf_promise *promise, rf_val *out);
RF_API int rf_promise_deref_timeout(rf_promise *promise, int64_t timeout_ms, rf_val timeout_val, rf_val *out);

#ifdef __cplusplus
}
#endif
#endif
