/* runtime/fj/range.h: lazily split parallel reduction over an index range (internal).
 *
 * fold and pmap describe their work as an fj_range: a leaf function that reduces
 * [lo, hi) into an accumulator and a combine function, associative, applied in index
 * order. fj_range_run splits lazily (lazy binary splitting), within a bound: a task forks
 * the right half of its range while its worker has no unstolen task or while the range is
 * longer than 64 leaves; otherwise it reduces one leaf (r->leaf elements) and looks again.
 * The bound caps what a stalled worker (preempted, or its vCPU descheduled by the host)
 * keeps from thieves at 64 leaves: without it a part kept up to half of what its worker
 * had left, and the others, done, waited for it. A run nobody steals from forks once per
 * 32 to 64 leaves; a run with idle thieves splits down to leaves where they are hungry.
 *
 * A negative return of a leaf or combine stops the run: `failed` (relaxed, a hint) makes
 * the other tasks of the run skip their remaining leaves; every fork is still joined. The
 * code returned is the one of the leftmost failing part among those that ran.
 */
#ifndef RF_FJ_RANGE_H
#define RF_FJ_RANGE_H

#include <stdatomic.h>
#include <stddef.h>

#include "ringfold/base.h"

typedef struct fj_range {
	size_t leaf; /* >= 1 */
	rf_val init; /* every part starts from it */
	int (*leaf_fn)(struct fj_range *r, size_t lo, size_t hi, rf_val *acc);
	int (*combine)(struct fj_range *r, rf_val left, rf_val right, rf_val *out);
	_Atomic int failed;
} fj_range;

/* Reduce [lo, hi) from r->init. 0 and *out, or the first failure. Pool task only. */
int fj_range_run(fj_range *r, size_t lo, size_t hi, rf_val *out);

/* The same from any context: inline inside a pool task, otherwise through rf_fj_invoke on
 * the caller's node (node < 0) or on node. */
int fj_range_invoke(fj_range *r, int node, size_t lo, size_t hi, rf_val *out);

#endif
