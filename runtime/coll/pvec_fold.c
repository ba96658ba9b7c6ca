/* runtime/coll/pvec_fold.c: a vector as a fold source (rf_r_pvec): its leaves are the runs
 * of fold.h's rf_r_runs, read in place by the fold's leaf loops. No shared state: the
 * version is immutable and held by the caller for the whole fold. */
#include "runtime/coll/pvec_impl.h"

static size_t pvec_run(rf_val src, size_t i, const rf_val **run)
{
	size_t len = 0;
	rf_pvec_chunk(rf_to_ptr(src), i, run, &len);
	return len;
}

rf_reducible rf_r_pvec(const rf_pvec *v)
{
	return rf_r_runs(pvec_run, rf_from_ptr(v), rf_pvec_count(v));
}
