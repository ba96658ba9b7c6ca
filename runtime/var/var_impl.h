/* runtime/var/var_impl.h: the var itself, shared by the var family's files (internal).
 * The rules for each field are in runtime/var/var.c's contract. */
#ifndef RF_VAR_VAR_IMPL_H
#define RF_VAR_VAR_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "ringfold/var.h"
#include "runtime/base/watches.h"

enum { VAR_DYNAMIC = 1, VAR_BOUND = 2, VAR_VALIDATED = 4 };

struct rf_var {
	_Atomic rf_val root;
	_Atomic uint8_t flags; /* VAR_* */
	pthread_mutex_t lock;
	rf_validator_fn validator; /* under lock */
	rf_val validator_ctx;      /* under lock */
	watch_set *watches;        /* under lock; NULL when none */
};

#endif
