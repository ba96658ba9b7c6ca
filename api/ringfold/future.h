/* ringfold/future.h: deref family (issue 3): future. */
#ifndef RINGFOLD_FUTURE_H
#define RINGFOLD_FUTURE_H

#include "ringfold/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_future rf_future;

/* Generic deref (see ringfold.h). */
RF_API int rf_future_deref(rf_future *future, rf_val *out);
RF_API int rf_future_deref_timeout(rf_future *future, int64_t timeout_ms, rf_val timeout_val, rf_val *out);

#ifdef __cplusplus
}
#endif
#endif
