/* runtime/atom/atom.c: atom life cycle, deref, swap, reset and compare_and_set.
 *
 * Shared state and its rules: see atom_impl.h. Two paths per operation:
 *  - plain: `mode` says the atom owns no values and never had a validator or watches.
 *    Nothing but mode and the value is touched; no read section. A validator or watch
 *    installed concurrently may be missed by an operation already under way, exactly as
 *    Clojure reads its validator and watch fields once per operation.
 *  - full: a read section is open for the whole operation, which keeps alive (a) the
 *    validator and watch snapshots it loaded and (b) for an owning atom, the old value
 *    the swap function and the watches look at. With the old value pinned, its address
 *    cannot be freed and reused while we compare against it, so the CAS has no ABA.
 * Ownership of values in an owning atom (see ringfold/atom.h): every value installed is
 * the atom's; the one replaced is retired with a record reserved before the change, so
 * the change never happens unless its retirement is assured.
 */
#include <stdlib.h>

#include "runtime/atom/atom_impl.h"
#include "runtime/base/lockrank.h"
#include "runtime/base/reclaim.h"

static int init(rf_atom *atom, rf_val v, rf_release_fn release, rf_val ctx)
{
	atom_impl *a = atom_impl_of(atom);
	atomic_init(&a->value, v);
	a->release = release;
	a->release_ctx = ctx;
	atomic_init(&a->validator, NULL);
	atomic_init(&a->watches, NULL);
	atomic_init(&a->mode, ATOM_LIVE | (release ? ATOM_OWNING : 0));
	return 0;
}

int rf_atom_init(rf_atom *atom, rf_val v)
{
	return atom ? init(atom, v, NULL, RF_NIL) : -EINVAL;
}

int rf_atom_init_owning(rf_atom *atom, rf_val v, rf_release_fn release, rf_val ctx)
{
	return atom && release ? init(atom, v, release, ctx) : -EINVAL;
}

int rf_atom_new_owning(rf_val v, rf_release_fn release, rf_val ctx, rf_atom **out)
{
	if (!out || !release)
		return -EINVAL;
	rf_atom *atom = aligned_alloc(_Alignof(rf_atom), sizeof(rf_atom));
	if (!atom)
		return -ENOMEM;
	*out = atom;
	return init(atom, v, release, ctx);
}

int rf_atom_new(rf_val v, rf_atom **out)
{
	if (!out)
		return -EINVAL;
	rf_atom *atom = aligned_alloc(_Alignof(rf_atom), sizeof(rf_atom));
	if (!atom)
		return -ENOMEM;
	*out = atom;
	return init(atom, v, NULL, RF_NIL);
}

int rf_atom_destroy(rf_atom *atom)
{
	int rc = atom_check(atom);
	if (rc)
		return rc;
	atom_impl *a = atom_impl_of(atom);
	atomic_store_explicit(&a->mode, 0, memory_order_relaxed);
	atom_meta_destroy(a);
	rf_val last = atomic_load_explicit(&a->value, memory_order_relaxed);
	if (a->release && last != RF_NIL)
		reclaim_retire_now_or_wait(last, a->release, a->release_ctx);
	return 0;
}

void rf_atom_free(rf_atom *atom)
{
	if (atom_check(atom))
		return;
	rf_atom_destroy(atom);
	free(atom);
}

int rf_atom_deref(rf_atom *atom, rf_val *out)
{
	int rc = atom_check(atom);
	if (rc || !out)
		return rc ? rc : -EINVAL;
	/* seq_cst load: pairs with the installing RMW, publishing what its writer did. */
	*out = atomic_load_explicit(&atom_impl_of(atom)->value, memory_order_seq_cst);
	return 0;
}

/* The mode of a live atom with nothing but the value to look after: the plain path. */
static bool plain(atom_impl *a)
{
	return atomic_load_explicit(&a->mode, memory_order_relaxed) == ATOM_LIVE;
}

/* A swap function's result that will not be installed: released at once in an owning
 * atom, since nobody else has seen it (unless it is the old value itself). */
static void discard(atom_impl *a, rf_val candidate, rf_val old)
{
	if (a->release && candidate != old && candidate != RF_NIL)
		a->release(candidate, a->release_ctx);
}

/* A plain atom and one of the ready-made adders: the same atomic step the CAS loop
 * would take, in one locked instruction. False if fn is not one of them. */
static inline bool swap_add(atom_impl *a, rf_update_fn fn, rf_val arg, rf_val *old_out,
                            rf_val *new_out)
{
	rf_val d;
	if (fn == rf_inc)
		d = 1;
	else if (fn == rf_add)
		d = arg;
	else if (fn == rf_dec)
		d = -1;
	else
		return false;
	rf_val old = atomic_fetch_add_explicit(&a->value, d, memory_order_seq_cst);
	if (old_out)
		*old_out = old;
	if (new_out)
		*new_out = (rf_val)((uint64_t)old + (uint64_t)d);
	return true;
}

/* A plain atom and any function: read, call, CAS, retry. */
static int swap_plain(atom_impl *a, rf_update_fn fn, rf_val arg, rf_val *old_out, rf_val *new_out)
{
	rf_val nv, old = atomic_load_explicit(&a->value, memory_order_seq_cst);
	do {
		nv = RF_NIL;
		USER_CALL();
		int rc = fn(old, arg, &nv);
		if (rc < 0)
			return rc;
		/* Failure reloads old (seq_cst), success publishes nv: both pair with the
		 * other writers' RMWs and readers' loads. */
	} while (!atomic_compare_exchange_weak_explicit(&a->value, &old, nv, memory_order_seq_cst,
	                                                memory_order_seq_cst));
	if (old_out)
		*old_out = old;
	if (new_out)
		*new_out = nv;
	return 0;
}

static int swap_full(atom_impl *a, rf_atom *atom, rf_update_fn fn, rf_val arg, rf_val *old_out,
                     rf_val *new_out)
{
	int rc = 0;
	reclaim_thread *node = NULL;
	rf_reclaim_read_begin();
	/* Acquire: pairs with the release half of the CAS that installed the snapshot. */
	const struct atom_validator *val =
	    atomic_load_explicit(&a->validator, memory_order_acquire);
	const watch_set *ws = atomic_load_explicit(&a->watches, memory_order_acquire);
	if (a->release && !(node = reclaim_node_alloc())) {
		rc = -ENOMEM;
		goto out;
	}
	rf_val old = atomic_load_explicit(&a->value, memory_order_seq_cst), nv;
	for (;;) {
		nv = RF_NIL;
		USER_CALL();
		if ((rc = fn(old, arg, &nv)) < 0)
			goto out;
		if ((rc = atom_validate(val, nv)) < 0) {
			discard(a, nv, old);
			goto out;
		}
		rf_val seen = old;
		if (atomic_compare_exchange_strong_explicit(
		        &a->value, &old, nv, memory_order_seq_cst, memory_order_seq_cst))
			break;
		discard(a, nv, seen);
	}
	if (a->release && nv != old && old != RF_NIL) {
		reclaim_retire(node, old, a->release, a->release_ctx);
		node = NULL;
	}
	rc = watch_set_notify(ws, atom, old, nv);
	if (old_out)
		*old_out = old;
	if (new_out)
		*new_out = nv;
out:
	reclaim_node_free(node);
	rf_reclaim_read_end();
	return rc;
}

/* Everything but the fetch-and-add fast path; kept out of line so that the fast path
 * stays a leaf without a stack frame. */
static __attribute__((noinline)) int swap_slow(rf_atom *atom, rf_update_fn fn, rf_val arg,
                                               rf_val *old_out, rf_val *new_out)
{
	int rc = atom_check(atom);
	if (rc || !fn)
		return rc ? rc : -EINVAL;
	atom_impl *a = atom_impl_of(atom);
	if (plain(a))
		return swap_plain(a, fn, arg, old_out, new_out);
	return swap_full(a, atom, fn, arg, old_out, new_out);
}

/* Shared by swap and swap_vals, inlined into both (an exported function calling another
 * exported one is a call the compiler may not inline under -fPIC). */
static inline int swap_any(rf_atom *atom, rf_update_fn fn, rf_val arg, rf_val *old_out,
                           rf_val *new_out)
{
	if (atom && plain(atom_impl_of(atom)) &&
	    swap_add(atom_impl_of(atom), fn, arg, old_out, new_out))
		return 0;
	return swap_slow(atom, fn, arg, old_out, new_out);
}

int rf_atom_swap_vals(rf_atom *atom, rf_update_fn fn, rf_val arg, rf_val *old_out, rf_val *new_out)
{
	return swap_any(atom, fn, arg, old_out, new_out);
}

int rf_atom_swap(rf_atom *atom, rf_update_fn fn, rf_val arg, rf_val *new_out)
{
	return swap_any(atom, fn, arg, NULL, new_out);
}

int rf_atom_reset_vals(rf_atom *atom, rf_val v, rf_val *old_out)
{
	int rc = atom_check(atom);
	if (rc)
		return rc;
	atom_impl *a = atom_impl_of(atom);
	rf_val old;
	if (plain(a)) {
		old = atomic_exchange_explicit(&a->value, v, memory_order_seq_cst);
		if (old_out)
			*old_out = old;
		return 0;
	}
	reclaim_thread *node = NULL;
	rf_reclaim_read_begin();
	const struct atom_validator *val =
	    atomic_load_explicit(&a->validator, memory_order_acquire);
	const watch_set *ws = atomic_load_explicit(&a->watches, memory_order_acquire);
	if ((rc = atom_validate(val, v)) < 0)
		goto out;
	if (a->release && !(node = reclaim_node_alloc())) {
		rc = -ENOMEM;
		goto out;
	}
	old = atomic_exchange_explicit(&a->value, v, memory_order_seq_cst);
	if (a->release && old != v && old != RF_NIL) {
		reclaim_retire(node, old, a->release, a->release_ctx);
		node = NULL;
	}
	rc = watch_set_notify(ws, atom, old, v);
	if (old_out)
		*old_out = old;
out:
	reclaim_node_free(node);
	rf_reclaim_read_end();
	return rc;
}

int rf_atom_reset(rf_atom *atom, rf_val v)
{
	return rf_atom_reset_vals(atom, v, NULL);
}

int rf_atom_compare_and_set(rf_atom *atom, rf_val old_val, rf_val new_val)
{
	int rc = atom_check(atom);
	if (rc)
		return rc;
	atom_impl *a = atom_impl_of(atom);
	if (plain(a))
		return atomic_compare_exchange_strong_explicit(
		    &a->value, &old_val, new_val, memory_order_seq_cst, memory_order_seq_cst);
	reclaim_thread *node = NULL;
	rf_reclaim_read_begin();
	const struct atom_validator *val =
	    atomic_load_explicit(&a->validator, memory_order_acquire);
	const watch_set *ws = atomic_load_explicit(&a->watches, memory_order_acquire);
	if ((rc = atom_validate(val, new_val)) < 0)
		goto out;
	if (a->release && !(node = reclaim_node_alloc())) {
		rc = -ENOMEM;
		goto out;
	}
	rf_val expect = old_val;
	if (!atomic_compare_exchange_strong_explicit(&a->value, &expect, new_val,
	                                             memory_order_seq_cst, memory_order_seq_cst))
		goto out; /* rc == 0: not set */
	if (a->release && old_val != new_val && old_val != RF_NIL) {
		reclaim_retire(node, old_val, a->release, a->release_ctx);
		node = NULL;
	}
	rc = watch_set_notify(ws, atom, old_val, new_val);
	if (rc == 0)
		rc = 1;
out:
	reclaim_node_free(node);
	rf_reclaim_read_end();
	return rc;
}
