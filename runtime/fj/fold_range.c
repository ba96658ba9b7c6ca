/* runtime/fj/fold_range.c: rf_fold_range, the fold whose leaf is the caller's own loop.
 *
 * The user's body reduces a whole leaf [lo, hi) per call, so the only indirect calls are
 * one per leaf and one per combine; the lazy splitting is the range engine's (range.h).
 * Nothing here is shared beyond the fj_range the engine already describes.
 */
#include "ringfold/fold.h"
#include "runtime/fj/range.h"

typedef struct range_fold {
	fj_range range; /* first: the engine hands it back */
	rf_range_fn body;
	rf_val ctx;
	rf_update_fn combinef;
} range_fold;

static int body_leaf(fj_range *r, size_t lo, size_t hi, rf_val *acc)
{
	const range_fold *f = (const range_fold *)r;
	return f->body(lo, hi, f->ctx, acc);
}

static int body_combine(fj_range *r, rf_val left, rf_val right, rf_val *out)
{
	*out = RF_NIL;
	return ((const range_fold *)r)->combinef(left, right, out);
}

int rf_fold_range(size_t lo, size_t hi, size_t grain, rf_range_fn body, rf_val ctx,
                  rf_update_fn combinef, rf_val init, rf_val *out)
{
	if (!body || !combinef || !out || lo > hi)
		return -EINVAL;
	if (grain == 0)
		grain = RF_FOLD_RANGE_GRAIN;
	if (hi - lo <= grain) {
		rf_val acc = init;
		int rc = body(lo, hi, ctx, &acc);
		if (rc == 0)
			*out = acc;
		return rc;
	}
	range_fold f = {
	    .range = {.leaf = grain, .init = init, .leaf_fn = body_leaf, .combine = body_combine},
	    .body = body,
	    .ctx = ctx,
	    .combinef = combinef};
	atomic_init(&f.range.failed, 0);
	return fj_range_invoke(&f.range, -1, lo, hi, out);
}
