/* runtime/var/var_impl.h: the var itself, shared by the var family's files (internal).
 * The rules for each field are in runtime/var/var.c's contract. */
#ifndef RF_VAR_VAR_IMPL_H
#define RF_VAR_VAR_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringfold/var.h"
#include "runtime/base/watches.h"

/* Every flag there is: the inline rf_var_binding compares the whole byte with
 * RF_VAR_FLAGS_INLINE, VAR_DYNAMIC | VAR_BOUND (a new flag must keep that test right). */
enum { VAR_DYNAMIC = 1, VAR_BOUND = 2, VAR_VALIDATED = 4 };

struct rf_var {
	_Atomic rf_val root;   /* rf_var_head's: the inline functions read them (ringfold/var.h) */
	_Atomic uint8_t flags; /* VAR_* */
	pthread_mutex_t lock;
	rf_validator_fn validator; /* under lock */
	rf_val validator_ctx;      /* under lock */
	watch_set *watches;        /* under lock; NULL when none */
};

_Static_assert(offsetof(struct rf_var, root) == offsetof(rf_var_head, root) &&
                   offsetof(struct rf_var, flags) == offsetof(rf_var_head, flags) &&
                   sizeof(_Atomic rf_val) == sizeof(rf_val) &&
                   sizeof(_Atomic uint8_t) == sizeof(uint8_t) &&
                   (VAR_DYNAMIC | VAR_BOUND) == RF_VAR_FLAGS_INLINE,
               "a var begins as rf_var_head (the inline functions read it)");

/* The arguments common to the calls that bind or redefine n vars around a body: sets
 * *out (may be NULL) to RF_NIL, then returns -EINVAL unless body is set and, for n > 0,
 * vars and vals are given and no var is NULL; else 0. */
int var_check_many(size_t n, rf_var *const vars[], const rf_val vals[], rf_body_fn body,
                   rf_val *out);

/* rf_var_bindings, for the var family's own calls: hidden, so no call through the shared
 * library's PLT. */
int var_bindings_run(size_t n, rf_var *const vars[], const rf_val vals[], rf_body_fn body,
                     rf_val arg, rf_val *out);

/* Set var's root to fn(root, arg), or to arg when fn is NULL, under its lock; validated
 * unless `trusted` (a restore of a value that was the root). Then the watches run.
 * Returns 0 with *old_out and *new_out (either may be NULL); fn's or the validator's
 * code (root unchanged); or, after the change, a watch's negative code (both set).
 * *changed (may be NULL): whether the root changed. */
int var_change_root(rf_var *var, rf_update_fn fn, rf_val arg, bool trusted, rf_val *old_out,
                    rf_val *new_out, bool *changed);

#endif
