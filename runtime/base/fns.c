/* runtime/base/fns.c: the ready-made update functions of base.h. */
#include "ringfold/base.h"

int rf_add(rf_val old, rf_val arg, rf_val *out)
{
	*out = (rf_val)((uint64_t)old + (uint64_t)arg); /* wraps like Clojure's unchecked-add */
	return 0;
}

int rf_inc(rf_val old, rf_val arg, rf_val *out)
{
	return rf_add(old, 1, out);
}

int rf_dec(rf_val old, rf_val arg, rf_val *out)
{
	return rf_add(old, -1, out);
}

int rf_max(rf_val old, rf_val arg, rf_val *out)
{
	*out = old > arg ? old : arg;
	return 0;
}

int rf_min(rf_val old, rf_val arg, rf_val *out)
{
	*out = old < arg ? old : arg;
	return 0;
}

int rf_constantly(rf_val old, rf_val arg, rf_val *out)
{
	*out = arg;
	return 0;
}

int rf_mul(rf_val x, rf_val k, rf_val *out)
{
	*out = (rf_val)((uint64_t)x * (uint64_t)k); /* wraps like Clojure's unchecked-multiply */
	return 0;
}

int rf_even(rf_val x, rf_val arg, rf_val *out)
{
	*out = !(x & 1);
	return 0;
}

int rf_odd(rf_val x, rf_val arg, rf_val *out)
{
	*out = x & 1;
	return 0;
}
