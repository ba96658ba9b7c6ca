/* fold: equal to the serial result for every source, transform and chunk size, including
 * empty and one-element inputs and a non-commutative combine; nesting; errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fold_fns.h"
#include "ringfold.h"

static int times(rf_val x, rf_val k, rf_val *out)
{
	*out = x * k;
	return 0;
}

/* x -> x copies of x (mapcat) */
static int repeat_self(rf_val x, rf_val arg, rf_emit *e)
{
	for (rf_val i = 0; i < x % 4; i++) {
		int rc = rf_emit_val(e, x);
		if (rc)
			return rc;
	}
	return 0;
}

static int64_t *iota(size_t n)
{
	int64_t *a = malloc((n ? n : 1) * sizeof(*a));
	for (size_t i = 0; i < n; i++)
		a[i] = (int64_t)(i * 7 % 1000) - 300;
	return a;
}

static const size_t sizes[] = {0, 1, 2, 511, 512, 513, 4096, 100000};
static const size_t chunks[] = {1, 3, 64, 512, 5000};

/* Serial reference for each pipeline. */
enum pipe {
	P_NONE,
	P_MAP,
	P_FILTER,
	P_REMOVE,
	P_MAPCAT,
	P_MAP_FILTER,
	P_TAKE_WHILE,
	P_BLOCK,
	P_BLOCK_MAPCAT,
	P_NPIPES
};

/* map 5x over the evens, as one slice function */
static int evens_times(rf_val *xs, size_t n, rf_val k, size_t *kept)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (xs[i] % 2 == 0)
			xs[m++] = xs[i] * k;
	*kept = m;
	return 0;
}

static rf_reducible build(rf_reducible c, int p)
{
	switch (p) {
	case P_MAP:
		return rf_r_map(c, times, 3);
	case P_FILTER:
		return rf_r_filter(c, even, 0);
	case P_REMOVE:
		return rf_r_remove(c, even, 0);
	case P_MAPCAT:
		return rf_r_mapcat(c, repeat_self, 0);
	case P_MAP_FILTER:
		return rf_r_map(rf_r_filter(c, even, 0), times, 5);
	case P_TAKE_WHILE:
		return rf_r_take_while(c, below, 600);
	case P_BLOCK:
		return rf_r_block(c, evens_times, 5);
	case P_BLOCK_MAPCAT: /* per-element path: a slice of one */
		return rf_r_mapcat(rf_r_block(c, evens_times, 5), repeat_self, 0);
	}
	return c;
}

static rf_val serial(const int64_t *a, size_t n, int p, rf_update_fn f, rf_val init)
{
	rf_val acc = init;
	for (size_t i = 0; i < n; i++) {
		rf_val x = a[i];
		switch (p) {
		case P_MAP:
			f(acc, x * 3, &acc);
			break;
		case P_FILTER:
			if (!(x & 1))
				f(acc, x, &acc);
			break;
		case P_REMOVE:
			if (x & 1)
				f(acc, x, &acc);
			break;
		case P_MAPCAT:
			for (rf_val k = 0; k < x % 4; k++)
				f(acc, x, &acc);
			break;
		case P_MAP_FILTER:
		case P_BLOCK:
			if (!(x & 1))
				f(acc, x * 5, &acc);
			break;
		case P_BLOCK_MAPCAT:
			if (!(x & 1))
				for (rf_val k = 0; k < (x * 5) % 4; k++)
					f(acc, x * 5, &acc);
			break;
		case P_TAKE_WHILE:
			if (x >= 600)
				return acc;
			f(acc, x, &acc);
			break;
		default:
			f(acc, x, &acc);
		}
	}
	return acc;
}

static void every_pipeline_and_chunk(void **state)
{
	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		size_t n = sizes[si];
		int64_t *a = iota(n);
		for (int p = 0; p < P_NPIPES; p++) {
			rf_val want_sum = serial(a, n, p, rf_add, 0);
			rf_val want_cat = serial(a, n, p, conj1, pack(0, 0));
			for (size_t ci = 0; ci < sizeof(chunks) / sizeof(chunks[0]); ci++) {
				rf_val got = 12345;
				rf_reducible c = build(rf_r_int64(a, n), p);
				assert_int_equal(rf_fold_n(c, chunks[ci], rf_add, 0, rf_add, &got),
				                 0);
				assert_int_equal(got, want_sum);
				assert_int_equal(
				    rf_fold_n(c, chunks[ci], concat, pack(0, 0), conj1, &got), 0);
				assert_int_equal(got, want_cat);
			}
			rf_val got;
			assert_int_equal(rf_r_reduce(build(rf_r_int64(a, n), p), rf_add, 0, &got),
			                 0);
			assert_int_equal(got, want_sum);
		}
		free(a);
	}
}

static void fast_paths_match(void **state)
{
	size_t n = 300001;
	int64_t *a = iota(n);
	double *d = malloc(n * sizeof(*d));
	int64_t mx = INT64_MIN, mn = INT64_MAX;
	double ds = 0;
	for (size_t i = 0; i < n; i++) {
		mx = a[i] > mx ? a[i] : mx;
		mn = a[i] < mn ? a[i] : mn;
		d[i] = 0.5 * (double)(i % 8); /* exact in binary: any order sums the same */
		ds += d[i];
	}
	rf_val r;
	assert_int_equal(rf_fold(rf_r_int64(a, n), rf_max, INT64_MIN, rf_max, &r), 0);
	assert_int_equal(r, mx);
	assert_int_equal(rf_fold(rf_r_int64(a, n), rf_min, INT64_MAX, rf_min, &r), 0);
	assert_int_equal(r, mn);
	assert_int_equal(rf_fold(rf_r_double(d, n), rf_dadd, rf_from_double(0), rf_dadd, &r), 0);
	assert_true(rf_to_double(r) == ds);
	/* the generic path over doubles (a map stage) gives the same */
	assert_int_equal(rf_fold(rf_r_map(rf_r_double(d, n), rf_constantly, rf_from_double(1.0)),
	                         rf_dadd, rf_from_double(0), rf_dadd, &r),
	                 0);
	assert_true(rf_to_double(r) == (double)n);
	free(a);
	free(d);
}

typedef struct point {
	int32_t x, y;
} point;

static int add_y(rf_val acc, rf_val p, rf_val *out)
{
	*out = acc + ((const point *)rf_to_ptr(p))->y;
	return 0;
}

static int squares(rf_val src, size_t lo, size_t hi, rf_emit *e)
{
	for (size_t i = lo; i < hi; i++) {
		int rc = rf_emit_val(e, (rf_val)(i * i) + src);
		if (rc)
			return rc;
	}
	return 0;
}

static void other_sources(void **state)
{
	size_t n = 20000;
	point *pts = malloc(n * sizeof(*pts));
	int64_t want = 0;
	for (size_t i = 0; i < n; i++) {
		pts[i] = (point){(int32_t)i, (int32_t)(i % 13)};
		want += (int64_t)(i % 13);
	}
	rf_val r;
	assert_int_equal(rf_fold(rf_r_elems(pts, n, sizeof(point)), rf_add, 0, add_y, &r), 0);
	assert_int_equal(r, want);
	assert_int_equal(rf_fold(rf_r_range(0, 1000000), rf_add, 0, rf_add, &r), 0);
	assert_int_equal(r, 499999500000LL);
	assert_int_equal(
	    rf_fold(rf_r_filter(rf_r_range(0, 1000000), even, 0), rf_add, 0, rf_add, &r), 0);
	assert_int_equal(r, 249999500000LL);
	assert_int_equal(rf_fold(rf_r_range(5, 5), rf_add, 7, rf_add, &r), 0);
	assert_int_equal(r, 7);
	int64_t sq = 0;
	for (size_t i = 0; i < n; i++)
		sq += (int64_t)(i * i) + 1;
	assert_int_equal(rf_fold(rf_r_source(squares, 1, n), rf_add, 0, rf_add, &r), 0);
	assert_int_equal(r, sq);
	free(pts);
}

static int fail_at_777(rf_val x, rf_val arg, rf_val *out)
{
	if (x == 777)
		return -ERANGE;
	*out = x;
	return 0;
}

static int bad_combine(rf_val a, rf_val b, rf_val *out)
{
	return -EDOM;
}

static void errors_and_misuse(void **state)
{
	rf_val r;
	rf_reducible c = rf_r_range(0, 100000);
	assert_int_equal(rf_fold(rf_r_map(c, fail_at_777, 0), rf_add, 0, rf_add, &r), -ERANGE);
	assert_int_equal(rf_fold_n(rf_r_map(c, fail_at_777, 0), 1, rf_add, 0, rf_add, &r), -ERANGE);
	assert_int_equal(rf_r_reduce(rf_r_map(c, fail_at_777, 0), rf_add, 0, &r), -ERANGE);
	assert_int_equal(rf_fold(c, bad_combine, 0, rf_add, &r), -EDOM);
	assert_int_equal(rf_fold(c, NULL, 0, rf_add, &r), -EINVAL);
	assert_int_equal(rf_fold(c, rf_add, 0, NULL, &r), -EINVAL);
	assert_int_equal(rf_fold(c, rf_add, 0, rf_add, NULL), -EINVAL);
	assert_int_equal(rf_fold_n(c, 0, rf_add, 0, rf_add, &r), -EINVAL);
	assert_int_equal(rf_fold(rf_r_map(c, NULL, 0), rf_add, 0, rf_add, &r), -EINVAL);
	assert_int_equal(rf_fold(rf_r_source(NULL, 0, 5), rf_add, 0, rf_add, &r), -EINVAL);
	for (int i = 0; i <= RF_R_MAX_STAGES; i++)
		c = rf_r_map(c, times, 1);
	assert_int_equal(rf_fold(c, rf_add, 0, rf_add, &r), -E2BIG);
	assert_int_equal(rf_emit_val(NULL, 1), -EINVAL);
}

/* A fold inside a fold's reducing function: nested parallelism in the same pool. */
static int64_t *nested_data;
static int inner_sum(rf_val acc, rf_val x, rf_val *out)
{
	rf_val s;
	int rc = rf_fold(rf_r_int64(nested_data, 5000), rf_add, 0, rf_add, &s);
	*out = acc + s + x;
	return rc;
}

static void nested_fold(void **state)
{
	nested_data = iota(5000);
	rf_val inner = 0;
	for (int i = 0; i < 5000; i++)
		inner += nested_data[i];
	rf_val r;
	assert_int_equal(rf_fold_n(rf_r_range(0, 200), 4, rf_add, 0, inner_sum, &r), 0);
	assert_int_equal(r, 200 * inner + 199 * 200 / 2);
	free(nested_data);
}

/* Stress: many folds of a non-commutative combine at leaf 1, so splits and steals are
 * as frequent as they get; every result must be exact. */
static void stress_small_leaves(void **state)
{
	size_t n = 20000;
	int64_t *a = iota(n);
	rf_val want = serial(a, n, P_NONE, conj1, pack(0, 0));
	for (int rep = 0; rep < 30; rep++) {
		rf_val got;
		assert_int_equal(rf_fold_n(rf_r_int64(a, n), 1, concat, pack(0, 0), conj1, &got),
		                 0);
		assert_int_equal(got, want);
	}
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_pipeline_and_chunk),
	    cmocka_unit_test(fast_paths_match),
	    cmocka_unit_test(other_sources),
	    cmocka_unit_test(errors_and_misuse),
	    cmocka_unit_test(nested_fold),
	    cmocka_unit_test(stress_small_leaves),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
