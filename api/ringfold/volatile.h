/* ringfold/volatile.h: atom family (issue 4): volatile. */
#ifndef RINGFOLD_VOLATILE_H
#define RINGFOLD_VOLATILE_H

#include "ringfold/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_volatile rf_volatile;

/* Generic deref (see ringfold.h). */
RF_API int rf_volatile_deref(rf_volatile *volatile, rf_val *out);

#ifdef __cplusplus
}
#endif
#endif
