/* runtime/atom/atom_meta.c: validators and watches of an atom.
 *
 * Both are immutable heap snapshots behind an atomic pointer (see atom_impl.h). A change
 * builds a new snapshot, installs it with a CAS (release: publishes its contents to the
 * acquire loads of atom.c) and retires the one it replaced through the reclamation
 * module, so a thread that loaded the old snapshot inside a read section may go on using
 * it. Concurrent add/remove of watches retry their CAS; none is lost.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/atom/atom_impl.h"
#include "runtime/base/lockrank.h"
#include "runtime/base/reclaim.h"

void atom_free_snapshot(rf_val value, rf_val ctx)
{
	free(rf_to_ptr(value));
}

int atom_validate(const struct atom_validator *v, rf_val x)
{
	if (!v)
		return 0;
	USER_CALL();
	int r = v->fn(x, v->ctx);
	return r > 0 ? 0 : r == 0 ? RF_EVALIDATOR : r;
}

void atom_meta_destroy(atom_impl *a)
{
	free(atomic_load_explicit(&a->validator, memory_order_relaxed));
	free(atomic_load_explicit(&a->watches, memory_order_relaxed));
	atomic_store_explicit(&a->validator, NULL, memory_order_relaxed);
	atomic_store_explicit(&a->watches, NULL, memory_order_relaxed);
}

/* Retire a replaced snapshot (may be NULL) with the prepared record. */
static void retire_snapshot(reclaim_thread *node, void *old)
{
	if (old)
		reclaim_retire(node, rf_from_ptr(old), atom_free_snapshot, RF_NIL);
	else
		reclaim_node_free(node);
}

int rf_atom_set_validator(rf_atom *atom, rf_validator_fn fn, rf_val ctx)
{
	int rc = atom_check(atom);
	if (rc)
		return rc;
	atom_impl *a = atom_impl_of(atom);
	struct atom_validator *nv = NULL;
	reclaim_thread *node = reclaim_node_alloc();
	if (!node)
		return -ENOMEM;
	if (fn) {
		if (!(nv = malloc(sizeof(*nv)))) {
			reclaim_node_free(node);
			return -ENOMEM;
		}
		nv->fn = fn;
		nv->ctx = ctx;
	}
	rf_reclaim_read_begin(); /* keeps an owning atom's current value alive for fn */
	if (nv &&
	    (rc = atom_validate(nv, atomic_load_explicit(&a->value, memory_order_seq_cst))) < 0) {
		rf_reclaim_read_end();
		free(nv);
		reclaim_node_free(node);
		return rc;
	}
	/* acq_rel: release publishes *nv; acquire pairs with the installer of the old one,
	 * whose snapshot we are about to retire. */
	struct atom_validator *old =
	    atomic_exchange_explicit(&a->validator, nv, memory_order_acq_rel);
	if (nv) /* after the install: see `mode` in atom_impl.h */
		atomic_fetch_or_explicit(&a->mode, ATOM_VALIDATED, memory_order_relaxed);
	rf_reclaim_read_end();
	retire_snapshot(node, old);
	return 0;
}

int rf_atom_get_validator(rf_atom *atom, rf_validator_fn *fn, rf_val *ctx)
{
	int rc = atom_check(atom);
	if (rc)
		return rc;
	atom_impl *a = atom_impl_of(atom);
	rf_reclaim_read_begin();
	const struct atom_validator *v = atomic_load_explicit(&a->validator, memory_order_acquire);
	if (fn)
		*fn = v ? v->fn : NULL;
	if (ctx)
		*ctx = v ? v->ctx : RF_NIL;
	rf_reclaim_read_end();
	return 0;
}

/* Install the set `cur` with `key` replaced (fn != NULL) or removed (fn == NULL). */
static int change_watch(rf_atom *atom, rf_val key, rf_watch_fn fn, rf_val ctx)
{
	int rc = atom_check(atom);
	if (rc)
		return rc;
	atom_impl *a = atom_impl_of(atom);
	reclaim_thread *node = reclaim_node_alloc();
	if (!node)
		return -ENOMEM;
	rf_reclaim_read_begin();
	watch_set *cur = atomic_load_explicit(&a->watches, memory_order_acquire), *nw;
	for (;;) {
		if ((rc = watch_set_edit(cur, key, fn, ctx, &nw)) != 0) {
			rf_reclaim_read_end();
			reclaim_node_free(node);
			return rc < 0 ? rc : 0; /* 1: removing a key that is not there */
		}
		/* Success: release publishes *nw, acquire pairs with cur's installer. Failure:
		 * acquire reloads cur for the next attempt. */
		if (atomic_compare_exchange_strong_explicit(
		        &a->watches, &cur, nw, memory_order_acq_rel, memory_order_acquire)) {
			if (nw) /* after the install: see `mode` in atom_impl.h */
				atomic_fetch_or_explicit(&a->mode, ATOM_WATCHED,
				                         memory_order_relaxed);
			break;
		}
		free(nw);
	}
	rf_reclaim_read_end();
	retire_snapshot(node, cur);
	return 0;
}

int rf_atom_add_watch(rf_atom *atom, rf_val key, rf_watch_fn fn, rf_val ctx)
{
	return fn ? change_watch(atom, key, fn, ctx) : -EINVAL;
}

int rf_atom_remove_watch(rf_atom *atom, rf_val key)
{
	return change_watch(atom, key, NULL, RF_NIL);
}
