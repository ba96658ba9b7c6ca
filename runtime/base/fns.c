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
