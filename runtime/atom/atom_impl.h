/* runtime/atom/atom_impl.h: the inside of an rf_atom (internal to runtime/atom).
 *
 * One cache line (RF_ATOM_SIZE). The fast path reads `mode` and then does one RMW on
 * `value`; keeping the read-mostly fields on a second line (so the RMW would not follow
 * a read of the contended line) measured no faster on the development machine
 * (6.8-7.1 vs 6.6-7.8 ns/op, two threads, noise larger than any difference), so one line
 * it is. Fields and who may touch them:
 *   value      any thread; every access atomic, seq_cst like the JVM's AtomicReference
 *              (free on x86: loads stay plain moves, every RMW is locked anyway).
 *   mode       ATOM_LIVE plus sticky flags saying which slow features the atom has
 *              ever had: set by init, OR-ed by set_validator/add_watch (after installing
 *              the snapshot), zeroed by destroy. Relaxed everywhere: a flag only routes
 *              an operation to the full path, which loads the snapshots with acquire; an
 *              operation that misses a flag set concurrently is concurrent with the
 *              change, as in Clojure. Sticky, so no race can clear a needed flag.
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
#include "runtime/base/watches.h"

enum {
	ATOM_LIVE = 0x41544f00u, /* "ATO": the atom is initialised and not destroyed */
	ATOM_OWNING = 1,         /* has a release function */
	ATOM_VALIDATED = 2,      /* has (or had) a validator */
	ATOM_WATCHED = 4,        /* has (or had) watches */
	ATOM_FLAGS = 0xffu,
};

struct atom_validator {
	rf_validator_fn fn;
	rf_val ctx;
};

typedef struct atom_impl {
	_Atomic rf_val value;
	_Atomic uint32_t mode;
	rf_release_fn release;
	rf_val release_ctx;
	_Atomic(struct atom_validator *) validator;
	_Atomic(watch_set *) watches; /* runtime/base/watches.h; retired, not counted */
} atom_impl;

_Static_assert(sizeof(atom_impl) <= sizeof(rf_atom), "rf_atom storage too small");
_Static_assert(_Alignof(atom_impl) <= _Alignof(rf_atom), "rf_atom storage misaligned");

static inline atom_impl *atom_impl_of(rf_atom *atom)
{
	return (atom_impl *)(void *)atom;
}

/* 0 if atom may be used, -EINVAL (NULL) or -EBADF (destroyed). */
static inline int atom_check(rf_atom *atom)
{
	if (!atom)
		return -EINVAL;
	uint32_t mode = atomic_load_explicit(&atom_impl_of(atom)->mode, memory_order_relaxed);
	return (mode & ~(uint32_t)ATOM_FLAGS) == ATOM_LIVE ? 0 : -EBADF;
}

/* Run the validator snapshot v on x: 0 valid, RF_EVALIDATOR or v's own negative code.
 * v NULL: valid. */
int atom_validate(const struct atom_validator *v, rf_val x);

/* Call every watch of the snapshot ws (may be NULL) with (old, new). Inside a read
 * section (the caller's). */

/* Free the validator and watch snapshots at destroy (no concurrent use). */
void atom_meta_destroy(atom_impl *a);

/* release function for snapshots: free(rf_to_ptr(value)). */
void atom_free_snapshot(rf_val value, rf_val ctx);

#endif
