/* runtime/var/bound.c: snapshots of a context's bindings (get-thread-bindings),
 * with-bindings and bound functions (bound-fn*).
 *
 * A snapshot is a private array of (var, value) pairs, the innermost binding of each var
 * the context had when it was taken: values, not frames, as in Clojure, where bound-fn
 * captures (get-thread-bindings) and pushes fresh bindings when called, so a set! inside
 * the call changes the call's own binding and nothing of the context that captured.
 * Immutable once made; any number of contexts may use one at a time.
 */
#include <stdlib.h>

#include "runtime/base/ctx.h"
#include "runtime/var/binding.h"
#include "runtime/var/var_impl.h"

struct rf_bindings {
	size_t n;
	rf_var **vars;
	rf_val *vals;
};

struct rf_bound_fn {
	rf_bindings b;
	rf_body_fn fn;
	rf_val arg;
};

/* Fill b from the calling context's chain: each var once, innermost first. */
static int snapshot(rf_bindings *b)
{
	size_t n = 0;
	for (var_frame *f = var_top(); f; f = f->parent)
		n++;
	b->n = 0;
	b->vars = n ? malloc(n * sizeof(*b->vars)) : NULL;
	b->vals = n ? malloc(n * sizeof(*b->vals)) : NULL;
	if (n && (!b->vars || !b->vals)) {
		free(b->vars);
		free(b->vals);
		return -ENOMEM;
	}
	for (var_frame *f = var_top(); f; f = f->parent) {
		size_t i = 0;
		while (i < b->n && b->vars[i] != f->var)
			i++;
		if (i < b->n)
			continue; /* an outer binding of a var bound again inside */
		b->vars[b->n] = f->var;
		b->vals[b->n++] = atomic_load_explicit(&f->val, memory_order_relaxed);
	}
	return 0;
}

int rf_bindings_new(rf_bindings **out)
{
	if (!out)
		return -EINVAL;
	rf_bindings *b = malloc(sizeof(*b));
	int rc = b ? snapshot(b) : -ENOMEM;
	if (rc) {
		free(b);
		return rc;
	}
	*out = b;
	return 0;
}

void rf_bindings_free(rf_bindings *b)
{
	if (!b)
		return;
	free(b->vars);
	free(b->vals);
	free(b);
}

int rf_bindings_count(const rf_bindings *b, size_t *out)
{
	if (!b || !out)
		return -EINVAL;
	*out = b->n;
	return 0;
}

int rf_bindings_at(const rf_bindings *b, size_t i, rf_var **var, rf_val *val)
{
	if (!b || i >= b->n)
		return -EINVAL;
	if (var)
		*var = b->vars[i];
	if (val)
		*val = b->vals[i];
	return 0;
}

int rf_bindings_lookup(const rf_bindings *b, rf_var *var, rf_val *out)
{
	if (!b || !var || !out)
		return -EINVAL;
	for (size_t i = 0; i < b->n; i++)
		if (b->vars[i] == var) {
			*out = b->vals[i];
			return 0;
		}
	return -ENOENT;
}

int rf_var_with_bindings(const rf_bindings *b, rf_body_fn body, rf_val arg, rf_val *out)
{
	if (!b) {
		if (out)
			*out = RF_NIL;
		return -EINVAL;
	}
	return var_bindings_run(b->n, b->vars, b->vals, body, arg, out);
}

int rf_bound_fn_new(rf_body_fn fn, rf_val arg, rf_bound_fn **out)
{
	if (!fn || !out)
		return -EINVAL;
	rf_bound_fn *bf = malloc(sizeof(*bf));
	int rc = bf ? snapshot(&bf->b) : -ENOMEM;
	if (rc) {
		free(bf);
		return rc;
	}
	bf->fn = fn;
	bf->arg = arg;
	*out = bf;
	return 0;
}

int rf_bound_fn_call(rf_val bound, rf_val *out)
{
	rf_bound_fn *bf = rf_to_ptr(bound);
	if (!bf) {
		if (out)
			*out = RF_NIL;
		return -EINVAL;
	}
	return var_bindings_run(bf->b.n, bf->b.vars, bf->b.vals, bf->fn, bf->arg, out);
}

void rf_bound_fn_free(rf_bound_fn *bf)
{
	if (!bf)
		return;
	free(bf->b.vars);
	free(bf->b.vals);
	free(bf);
}
