/* The call-free leaf loops (rf_add, rf_max, rf_min over int64, rf_dadd over double, and the
 * known pipelines of rf_even / rf_mul / rf_add) read their arrays a page at a time: every
 * length around the page (512 elements) and the call-free leaf (4096), from several start
 * offsets, including the empty array, must give exactly what a plain loop gives, through
 * a parallel fold and through a serial reduce. Extremes sit at the first, the last and a
 * page's last element, so that a lost or repeated element shows. On x86-64 every case runs
 * on both clones of the loops: the baseline's and AVX2's (when the CPU has it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fold_fns.h"
#include "ringfold.h"

#define MAX_N 20000
#define MAX_OFF 3

static int64_t data[MAX_N + MAX_OFF];
static double ddata[MAX_N + MAX_OFF];

static const size_t lengths[] = {0,    1,    2,    3,    5,    511,  512,  513,  1023,  1024, 1025,
                                 1536, 4095, 4096, 4097, 8191, 8192, 8193, 8705, 12345, MAX_N};

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t next(void)
{
	return xorshift64(&rng);
}

static void sums(const int64_t *a, size_t n)
{
	uint64_t sum = 0, even3 = 0, odd = 0, odd_count = 0;
	int64_t mx = INT64_MIN, mn = INT64_MAX;
	for (size_t i = 0; i < n; i++) {
		sum += (uint64_t)a[i];
		mx = a[i] > mx ? a[i] : mx;
		mn = a[i] < mn ? a[i] : mn;
		if (a[i] % 2 == 0)
			even3 += 3 * (uint64_t)a[i];
		else {
			odd += (uint64_t)a[i];
			odd_count++;
		}
	}
	rf_reducible c = rf_r_int64(a, n);
	rf_val r = 0;
	assert_int_equal(rf_fold(c, rf_add, 0, rf_add, &r), 0);
	assert_int_equal(r, (rf_val)sum);
	assert_int_equal(rf_r_reduce(c, rf_add, 7, &r), 0);
	assert_int_equal(r, (rf_val)(sum + 7));
	assert_int_equal(rf_fold(c, rf_max, INT64_MIN, rf_max, &r), 0);
	assert_int_equal(r, mx);
	assert_int_equal(rf_r_reduce(c, rf_max, INT64_MIN, &r), 0);
	assert_int_equal(r, mx);
	assert_int_equal(rf_fold(c, rf_min, INT64_MAX, rf_min, &r), 0);
	assert_int_equal(r, mn);
	assert_int_equal(rf_r_reduce(c, rf_min, INT64_MAX, &r), 0);
	assert_int_equal(r, mn);
	/* the known kernel: one parity (the benchmark's pipeline), the other, and all */
	rf_reducible evens3 = rf_r_map(rf_r_filter(c, rf_even, 0), rf_mul, 3);
	assert_int_equal(rf_fold(evens3, rf_add, 0, rf_add, &r), 0);
	assert_int_equal(r, (rf_val)even3);
	assert_int_equal(rf_r_reduce(evens3, rf_add, 0, &r), 0);
	assert_int_equal(r, (rf_val)even3);
	rf_reducible odds_plus1 = rf_r_map(rf_r_remove(c, rf_even, 0), rf_inc, 0);
	assert_int_equal(rf_fold(odds_plus1, rf_add, 0, rf_add, &r), 0);
	assert_int_equal(r, (rf_val)(odd + odd_count));
	assert_int_equal(rf_fold(rf_r_map(c, rf_dec, 0), rf_add, 0, rf_add, &r), 0);
	assert_int_equal(r, (rf_val)(sum - n));
}

static void int64_lengths_offsets(const void *unused)
{
	for (size_t off = 0; off <= MAX_OFF; off++)
		for (size_t k = 0; k < sizeof(lengths) / sizeof(lengths[0]); k++) {
			size_t n = lengths[k];
			int64_t *a = data + off;
			int64_t save_first = n ? a[0] : 0, save_last = n ? a[n - 1] : 0;
			sums(a, n);
			if (n < 2)
				continue;
			/* the extremes at the ends: both ends of the range are read */
			a[0] = INT64_MAX;
			a[n - 1] = INT64_MIN;
			sums(a, n);
			a[0] = INT64_MIN;
			a[n - 1] = INT64_MAX;
			sums(a, n);
			a[0] = save_first;
			a[n - 1] = save_last;
		}
}

static void int64_every_length_and_offset(void **state)
{
	each_clone(int64_lengths_offsets, NULL);
}

static void double_every_length(void **state)
{
	for (size_t off = 0; off <= MAX_OFF; off++)
		for (size_t k = 0; k < sizeof(lengths) / sizeof(lengths[0]); k++) {
			size_t n = lengths[k];
			const double *d = ddata + off;
			double want = 0;
			for (size_t i = 0; i < n; i++)
				want += d[i];
			rf_val r;
			assert_int_equal(
			    rf_fold(rf_r_double(d, n), rf_dadd, rf_from_double(0), rf_dadd, &r), 0);
			assert_true(rf_to_double(r) == want);
		}
}

static int setup(void **state)
{
	for (size_t i = 0; i < MAX_N + MAX_OFF; i++) {
		data[i] = i % 3 ? (int64_t)(next() % 2001) - 1000 : (int64_t)next();
		ddata[i] = 0.25 * (double)(next() % 64); /* exact: any order sums the same */
	}
	/* a page's last element and the next page's first are extremes too */
	data[511] = INT64_MAX - 1;
	data[512] = INT64_MIN + 1;
	data[4095] = INT64_MIN + 2;
	data[4096] = INT64_MAX - 2;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(int64_every_length_and_offset),
	    cmocka_unit_test(double_every_length),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
