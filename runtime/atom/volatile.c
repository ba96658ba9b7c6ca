/* runtime/atom/volatile.c: volatiles (see ringfold/volatile.h).
 *
 * Shared state: one _Atomic rf_val. Writers store with release and readers load with
 * acquire, pairing with each other; vswap's read-then-store is deliberately not one
 * atomic step (Clojure's vswap! is not either): the header lists the usage patterns under
 * which that is safe.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "ringfold/volatile.h"

_Static_assert(sizeof(_Atomic rf_val) == sizeof(rf_volatile), "rf_volatile storage size");
_Static_assert(_Alignof(_Atomic rf_val) <= _Alignof(rf_volatile), "rf_volatile alignment");

static _Atomic rf_val *cell(rf_volatile *v)
{
	return (_Atomic rf_val *)(void *)v;
}

int rf_volatile_init(rf_volatile *v, rf_val init)
{
	if (!v)
		return -EINVAL;
	atomic_init(cell(v), init);
	return 0;
}

int rf_volatile_new(rf_val init, rf_volatile **out)
{
	if (!out)
		return -EINVAL;
	rf_volatile *v = malloc(sizeof(*v));
	if (!v)
		return -ENOMEM;
	*out = v;
	return rf_volatile_init(v, init);
}

int rf_volatile_destroy(rf_volatile *v)
{
	return v ? 0 : -EINVAL;
}

void rf_volatile_free(rf_volatile *v)
{
	free(v);
}

int rf_volatile_deref(rf_volatile *v, rf_val *out)
{
	if (!v || !out)
		return -EINVAL;
	*out = atomic_load_explicit(cell(v), memory_order_acquire); /* pairs with reset/swap */
	return 0;
}

int rf_volatile_reset(rf_volatile *v, rf_val value)
{
	if (!v)
		return -EINVAL;
	atomic_store_explicit(cell(v), value, memory_order_release); /* pairs with deref */
	return 0;
}

int rf_volatile_swap(rf_volatile *v, rf_update_fn fn, rf_val arg, rf_val *new_out)
{
	if (!v || !fn)
		return -EINVAL;
	/* Acquire: this thread sees what the last writer published, if it was another. */
	rf_val nv = RF_NIL, old = atomic_load_explicit(cell(v), memory_order_acquire);
	int rc = fn(old, arg, &nv);
	if (rc < 0)
		return rc;
	atomic_store_explicit(cell(v), nv, memory_order_release); /* pairs with deref */
	if (new_out)
		*new_out = nv;
	return 0;
}
