/* runtime/fj/range.c: the lazy-splitting range reduction of range.h.
 * A part lives in the frame that forks it; `failed` is only ever raised (relaxed: a
 * hint to stop early; the codes themselves travel through join's acquire). */
#include "runtime/fj/range.h"
#include "ringfold/fj.h"
#include "runtime/fj/fj.h"

/* A part reduces at most this many leaves without offering the rest of its range to
 * thieves: longer, and it splits even while its worker has unstolen tasks (range.h). */
#define HELD_LEAVES 64

typedef struct part {
	fj_range *r;
	size_t lo, hi;
	rf_val acc;
} part;

static int fail(fj_range *r, int rc)
{
	atomic_store_explicit(&r->failed, 1, memory_order_relaxed);
	return rc;
}

static int run_part(rf_val arg, rf_val *out)
{
	part *p = rf_to_ptr(arg);
	fj_range *r = p->r;
	struct fj_worker *w = fj_self_worker();
	size_t lo = p->lo, hi = p->hi;
	rf_val acc = p->acc;
	int rc;
	while (hi - lo > r->leaf) {
		if (atomic_load_explicit(&r->failed, memory_order_relaxed))
			return 0; /* the failing part reports; this one's value is never used */
		if ((hi - lo) / r->leaf <= HELD_LEAVES && fj_has_surplus(w)) {
			fj_announce(w);
			if ((rc = r->leaf_fn(r, lo, lo + r->leaf, &acc)) < 0)
				return fail(r, rc);
			lo += r->leaf;
			continue;
		}
		size_t mid = lo + (hi - lo) / 2;
		part right = {r, mid, hi, r->init}, left = {r, lo, mid, acc};
		rf_fj_task t;
		if (rf_fj_fork(&t, run_part, rf_from_ptr(&right)) < 0)
			break; /* no memory to fork: finish this part serially */
		rf_val lv = RF_NIL, rv = RF_NIL;
		int lrc = run_part(rf_from_ptr(&left), &lv);
		int rrc = rf_fj_join(&t, &rv);
		if (lrc < 0)
			return lrc;
		if (rrc < 0)
			return rrc;
		if (atomic_load_explicit(&r->failed, memory_order_relaxed))
			return 0;
		if ((rc = r->combine(r, lv, rv, out)) < 0)
			return fail(r, rc);
		return 0;
	}
	if ((rc = r->leaf_fn(r, lo, hi, &acc)) < 0)
		return fail(r, rc);
	*out = acc;
	return 0;
}

int fj_range_run(fj_range *r, size_t lo, size_t hi, rf_val *out)
{
	part all = {r, lo, hi, r->init};
	return run_part(rf_from_ptr(&all), out);
}

int fj_range_invoke(fj_range *r, int node, size_t lo, size_t hi, rf_val *out)
{
	part all = {r, lo, hi, r->init};
	if (node < 0)
		return rf_fj_invoke(run_part, rf_from_ptr(&all), out);
	return rf_fj_invoke_on(node, run_part, rf_from_ptr(&all), out);
}
