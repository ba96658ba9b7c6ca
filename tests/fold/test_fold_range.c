/* tests/fold/test_fold_range.c: rf_fold_range and RF_FOLD_BODY against serial loops:
 * exact sums, index order kept (a non-commutative combine), every grain and range
 * shape, RF_FOLD_BODY's page-at-a-time loop over elements of 4, 8 and more than a page's
 * bytes, a keep whose truth is not 1, both of RF_FOLD_BODY's clones, errors from the body
 * and the combine, bad arguments, and a stalled part that keeps at most 64 leaves from
 * the thieves. */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "fold_fns.h"
#include "ringfold.h"

#define N 300000

static int64_t *xs;

static inline bool is_even(int64_t x)
{
	return (x & 1) == 0;
}

static inline int64_t times3(int64_t x)
{
	return 3 * x;
}

RF_FOLD_BODY(even_times3, int64_t, is_even, times3, rf_plus)
RF_FOLD_BODY(plain_sum, int64_t, rf_keep_all, rf_identity, rf_plus)

/* A keep whose true is any nonzero value, not just 1. */
static inline int64_t bit1(int64_t x)
{
	return x & 2;
}
RF_FOLD_BODY(bit1_sum, int64_t, bit1, rf_identity, rf_plus)

/* Elements of other sizes: 1024 to a page, and one bigger than a page. */
typedef struct big {
	int64_t v;
	char pad[RF_FOLD_PAGE + 8];
} big;
#define big_v(b) ((b).v)
RF_FOLD_BODY(sum32, int32_t, rf_keep_all, rf_identity, rf_plus)
RF_FOLD_BODY(sum_big, big, rf_keep_all, big_v, rf_plus)

/* The sequence of indexes [lo, hi), as the concatenation monoid sees it. */
static int index_seq(size_t lo, size_t hi, rf_val ctx, rf_val *acc)
{
	for (size_t i = lo; i < hi; i++)
		conj1(*acc, (rf_val)i, acc);
	return 0;
}

static int fail_at(size_t lo, size_t hi, rf_val at, rf_val *acc)
{
	if ((size_t)at >= lo && (size_t)at < hi)
		return -EDOM;
	*acc += (rf_val)(hi - lo);
	return 0;
}

static int failing_combine(rf_val a, rf_val b, rf_val *out)
{
	return -ENOTSUP;
}

static int setup(void **state)
{
	if (!(xs = malloc(N * sizeof(*xs))))
		return -1;
	for (size_t i = 0; i < N; i++)
		xs[i] = (int64_t)(i * 7919 % 100003) - 50000;
	return 0;
}

static int teardown(void **state)
{
	free(xs);
	rf_shutdown();
	return 0;
}

static void test_sums_match_serial(void **state)
{
	const size_t grains[] = {0, 1, 7, 512, 4096, N, 2 * N};
	const size_t ends[] = {0, 1, 2, 1537, 3073, 4095, 4096, 4097, 100001, N};
	for (size_t g = 0; g < sizeof(grains) / sizeof(*grains); g++)
		for (size_t e = 0; e < sizeof(ends) / sizeof(*ends); e++) {
			size_t lo = ends[e] / 3, hi = ends[e];
			int64_t want_mf = 0, want_sum = 0;
			for (size_t i = lo; i < hi; i++) {
				want_sum += xs[i];
				if (is_even(xs[i]))
					want_mf += 3 * xs[i];
			}
			rf_val got = -1;
			assert_int_equal(rf_fold_range(lo, hi, grains[g], even_times3,
			                               rf_from_ptr(xs), rf_add, 0, &got),
			                 0);
			assert_int_equal(got, want_mf);
			assert_int_equal(rf_fold_range(lo, hi, grains[g], plain_sum,
			                               rf_from_ptr(xs), rf_add, 0, &got),
			                 0);
			assert_int_equal(got, want_sum);
		}
}

static void test_element_sizes(void **state)
{
	enum { N32 = 3 * 1024 + 5, NBIG = 7 };
	static int32_t x32[N32];
	static big xbig[NBIG];
	int64_t want32 = 0, wantbig = 0;
	for (size_t i = 0; i < N32; i++)
		want32 += x32[i] = (int32_t)(i * 31 % 1001) - 500;
	for (size_t i = 0; i < NBIG; i++)
		wantbig += xbig[i].v = (int64_t)i * 1000003;
	const size_t grains[] = {0, 1, 5, 1024, 1025};
	for (size_t g = 0; g < sizeof(grains) / sizeof(*grains); g++) {
		rf_val got = -1;
		assert_int_equal(
		    rf_fold_range(0, N32, grains[g], sum32, rf_from_ptr(x32), rf_add, 0, &got), 0);
		assert_int_equal(got, want32);
		assert_int_equal(
		    rf_fold_range(0, NBIG, grains[g], sum_big, rf_from_ptr(xbig), rf_add, 0, &got),
		    0);
		assert_int_equal(got, wantbig);
	}
}

/* Each compiled loop of a body directly: every length up to 40 (the unrolled and vector
 * loops' steps and remainders), lengths on both sides of page multiples (512 int64),
 * from every offset within 32 bytes. */
static void test_clones_agree(void **state)
{
	typedef int (*body_fn)(size_t, size_t, rf_val, rf_val *);
	body_fn mf[] = {
		even_times3,
#if RF_FOLD_BODY_CLONES
		even_times3_rf_base,
		__builtin_cpu_supports("avx2") ? even_times3_rf_avx2 : NULL
#endif
	};
	body_fn b1[] = {
		bit1_sum,
#if RF_FOLD_BODY_CLONES
		bit1_sum_rf_base,
		__builtin_cpu_supports("avx2") ? bit1_sum_rf_avx2 : NULL
#endif
	};
	const size_t longer[] = {511, 512, 513, 1023, 1024, 1025, 1537};
	const size_t nlongers = sizeof(longer) / sizeof(*longer);
	for (size_t lo = 0; lo < 4; lo++)
		for (size_t t = 0; t < 41 + nlongers; t++) {
			size_t len = t < 41 ? t : longer[t - 41];
			int64_t want_mf = 5, want_b1 = 5;
			for (size_t i = lo; i < lo + len; i++) {
				want_mf += is_even(xs[i]) ? 3 * xs[i] : 0;
				want_b1 += bit1(xs[i]) ? xs[i] : 0;
			}
			for (size_t k = 0; k < sizeof(mf) / sizeof(*mf); k++) {
				if (!mf[k])
					continue;
				rf_val got = 5;
				assert_int_equal(mf[k](lo, lo + len, rf_from_ptr(xs), &got), 0);
				assert_int_equal(got, want_mf);
				got = 5;
				assert_int_equal(b1[k](lo, lo + len, rf_from_ptr(xs), &got), 0);
				assert_int_equal(got, want_b1);
			}
		}
}

static void test_index_order_kept(void **state)
{
	rf_val want = pack(0, 0), got;
	index_seq(5, N, 0, &want);
	for (size_t grain = 1; grain <= 100000; grain *= 10) {
		assert_int_equal(rf_fold_range(5, N, grain, index_seq, 0, concat, pack(0, 0), &got),
		                 0);
		assert_int_equal(got, want);
	}
}

static void test_errors_come_back(void **state)
{
	rf_val out = 77;
	for (size_t at = 0; at < N; at += N / 7)
		assert_int_equal(rf_fold_range(0, N, 64, fail_at, (rf_val)at, rf_add, 0, &out),
		                 -EDOM);
	assert_int_equal(rf_fold_range(0, N, 64, fail_at, -1, failing_combine, 0, &out), -ENOTSUP);
	/* a range within one grain runs on the caller: no combine, its own result */
	assert_int_equal(rf_fold_range(0, 64, 64, fail_at, -1, failing_combine, 0, &out), 0);
	assert_int_equal(out, 64);
}

/* The leaves a part reduces before it offers the rest of its range (runtime/fj/range.h). */
#define HELD 64
#define STALL_LEAVES 4096

static _Atomic size_t others_done;
static _Atomic int stall_gave_up;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Leaf 0 stalls its worker until the other workers have reduced every leaf but the HELD
 * of its part (30 s at most: then the thieves could not reach them, a failure). */
static int stall_first(size_t lo, size_t hi, rf_val ctx, rf_val *acc)
{
	if (lo == 0) {
		uint64_t deadline = now_ns() + 30000000000u;
		while (atomic_load_explicit(&others_done, memory_order_relaxed) <
		       STALL_LEAVES - HELD) {
			if (now_ns() > deadline) {
				atomic_store_explicit(&stall_gave_up, 1, memory_order_relaxed);
				break;
			}
			sched_yield();
		}
	} else {
		atomic_fetch_add_explicit(&others_done, hi - lo, memory_order_relaxed);
	}
	for (size_t i = lo; i < hi; i++)
		*acc += (rf_val)i;
	return 0;
}

static void test_stalled_part_is_stolen(void **state)
{
	int workers = 0;
	for (int k = 0; k < rf_fj_nodes(); k++)
		workers += rf_fj_workers(k);
	if (workers < 2)
		skip();
	rf_val out = 0;
	assert_int_equal(rf_fold_range(0, STALL_LEAVES, 1, stall_first, 0, rf_add, 0, &out), 0);
	assert_false(atomic_load(&stall_gave_up));
	assert_int_equal(out, (rf_val)STALL_LEAVES * (STALL_LEAVES - 1) / 2);
}

static void test_bad_arguments(void **state)
{
	rf_val out;
	assert_int_equal(rf_fold_range(0, 10, 0, NULL, 0, rf_add, 0, &out), -EINVAL);
	assert_int_equal(rf_fold_range(0, 10, 0, plain_sum, rf_from_ptr(xs), NULL, 0, &out),
	                 -EINVAL);
	assert_int_equal(rf_fold_range(0, 10, 0, plain_sum, rf_from_ptr(xs), rf_add, 0, NULL),
	                 -EINVAL);
	assert_int_equal(rf_fold_range(10, 9, 0, plain_sum, rf_from_ptr(xs), rf_add, 0, &out),
	                 -EINVAL);
	assert_int_equal(rf_fold_range(SIZE_MAX, SIZE_MAX, 0, plain_sum, 0, rf_add, 5, &out), 0);
	assert_int_equal(out, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sums_match_serial),      cmocka_unit_test(test_element_sizes),
	    cmocka_unit_test(test_clones_agree),           cmocka_unit_test(test_index_order_kept),
	    cmocka_unit_test(test_errors_come_back),       cmocka_unit_test(test_bad_arguments),
	    cmocka_unit_test(test_stalled_part_is_stolen),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
