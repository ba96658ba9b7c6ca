/* ringfold/var.h: STM family (issue 5): vars and dynamic binding. */
#ifndef RINGFOLD_VAR_H
#define RINGFOLD_VAR_H

#include "ringfold/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_var rf_var;

/* Generic deref (see ringfold.h). */
RF_API int rf_var_deref(rf_var *var, rf_val *out);

#ifdef __cplusplus
}
#endif
#endif
