/* runtime/var/var_impl.h: the var itself, shared by the var family's files (internal).
 * The rules for each field are in runtime/var/var.c's contract. */
#ifndef RF_VAR_VAR_IMPL_H
#define RF_VAR_VAR_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
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

/* Set var's root to fn(root, arg), or to arg when fn is NULL, under its lock; validated
 * unless `trusted` (a restore of a value that was the root). Then the watches run.
 * Returns 0 with *old_out and *new_out (either may be NULL); fn's or the validator's
 * code (root unchanged); or, after the change, a watch's negative code (both set).
 * *changed (may be NULL): whether the root changed. */
int var_change_root(rf_var *var, rf_update_fn fn, rf_val arg, bool trusted, rf_val *old_out,
                    rf_val *new_out, bool *changed);

#endif
