/* ringfold/ref.h: STM family (issue 5): refs and transactions. */
#ifndef RINGFOLD_REF_H
#define RINGFOLD_REF_H

#include "ringfold/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_ref rf_ref;

/* Generic deref (see ringfold.h). */
RF_API int rf_ref_deref(rf_ref *ref, rf_val *out);

#ifdef __cplusplus
}
#endif
#endif
