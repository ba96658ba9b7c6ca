/* ringfold/delay.h: deref family (issue 3): delay. */
#ifndef RINGFOLD_DELAY_H
#define RINGFOLD_DELAY_H

#include "ringfold/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_delay rf_delay;

/* Generic deref (see ringfold.h). */
RF_API int rf_delay_deref(rf_delay *delay, rf_val *out);
RF_API int rf_delay_deref_timeout(rf_delay *delay, int64_t timeout_ms, rf_val timeout_val, rf_val *out);

#ifdef __cplusplus
}
#endif
#endif
