/* runtime/atom/atom_impl.h: the inside of an rf_atom (internal to runtime/atom).
 *
 * One cache line (RF_ATOM_SIZE). Fields and who may touch them:
 *   value      any thread; every access atomic, seq_cst like the JVM's AtomicReference
 *              (free on x86: loads stay plain moves, every RMW is locked anyway).
 *   magic      written by init and destroy only (no concurrent use allowed then); read by
 *              every operation to turn use of a destroyed atom into -EBADF.
 *   release, release_ctx   set by init, read-only afterwards.
 *   validator, watches     immutable heap snapshots, replaced by compare-and-swap of the
 *              pointer (copy-on-write); a replaced snapshot is retired through the
 *              reclamation module, so a thread may use a snapshot it loaded only inside a
 *              read section (rf_reclaim_read_begin/end). The acquire load that finds a
 *              snapshot pairs with the release half of the CAS that installed it, which
 *              publishes its contents.
 * No locks: every operation is lock-free.
 */
#ifndef RF_RUNTIME_ATOM_IMPL_H
#define RF_RUNTIME_ATOM_IMPL_H

#include <stdatomic.h>
#include <stddef.h>

#include "ringfold/atom.h"

#define RF_ATOM_MAGIC 0x41544f4du /* "ATOM" */

struct rf_atom_validator {
	rf_validator_fn fn;
	rf_val ctx;
};

struct rf_atom_watch {
	rf_val key;
	rf_watch_fn fn;
	rf_val ctx;
};

struct rf_atom_watches {
	size_t n; /* >= 1: an empty list is a NULL pointer */
	struct rf_atom_watch w[];
};

typedef struct rf_atom_impl {
	_Atomic rf_val value;
	uint32_t magic;
	rf_release_fn release;
	rf_val release_ctx;
	_Atomic(struct rf_atom_validator *) validator;
	_Atomic(struct rf_atom_watches *) watches;
} rf_atom_impl;

_Static_assert(sizeof(rf_atom_impl) <= sizeof(rf_atom), "rf_atom storage too small");
_Static_assert(_Alignof(rf_atom_impl) <= _Alignof(rf_atom), "rf_atom storage misaligned");

static inline rf_atom_impl *rf_atom_impl_of(rf_atom *atom)
{
	return (rf_atom_impl *)(void *)atom;
}

/* 0 if atom may be used, -EINVAL (NULL) or -EBADF (destroyed). */
static inline int rf_atom_check(rf_atom *atom)
{
	if (!atom)
		return -EINVAL;
	return rf_atom_impl_of(atom)->magic == RF_ATOM_MAGIC ? 0 : -EBADF;
}

/* Run the validator snapshot v on x: 0 valid, RF_EVALIDATOR or v's own negative code.
 * v NULL: valid. */
int rf_atom_validate(const struct rf_atom_validator *v, rf_val x);

/* Call every watch of the snapshot ws (may be NULL) with (old, new). Inside a read
 * section (the caller's). */
void rf_atom_notify(rf_atom *atom, const struct rf_atom_watches *ws, rf_val old_val,
                    rf_val new_val);

/* Free the validator and watch snapshots at destroy (no concurrent use). */
void rf_atom_meta_destroy(rf_atom_impl *a);

/* release function for snapshots: free(rf_to_ptr(value)). */
void rf_atom_free_snapshot(rf_val value, rf_val ctx);

#endif
