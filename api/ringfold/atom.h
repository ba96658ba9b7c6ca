/* ringfold/atom.h: atom family (issue 4): atom. */
#ifndef RINGFOLD_ATOM_H
#define RINGFOLD_ATOM_H

#include "ringfold/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_atom rf_atom;

/* Generic deref (see ringfold.h). */
RF_API int rf_atom_deref(rf_atom *atom, rf_val *out);

#ifdef __cplusplus
}
#endif
#endif
