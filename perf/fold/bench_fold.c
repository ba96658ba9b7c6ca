/* perf/fold/bench_fold.c: fold, fork/join and pmap beside their peers.
 *   fold_sum_1e8         sum of 1e8 int64 (ns per element): ringfold, ringfold-range
 *                        (rf_fold_range with an RF_FOLD_BODY leaf), serial, openmp, tbb,
 *                        rayon
 *   fold_map_filter_1e8  sum of 3x over the even x of 1e8 int64 (ns per element):
 *                        ringfold (rf_r_filter + rf_r_map, a call per element and stage),
 *                        ringfold-known (the same with ringfold's rf_even and rf_mul, which
 *                        the fold compiles into a call-free loop),
 *                        ringfold-block (one rf_r_block slice function), ringfold-range
 *                        (the user's inline even and times3 compiled into the leaf),
 *                        serial, openmp, tbb, rayon, and openmp-calls (OpenMP calling the
 *                        same even and times through pointers: the floor of any per-element
 *                        API)
 *   fj_fib30             fib(30) with a spawn at every call (ns per call): ringfold,
 *                        serial, tbb task_group, openmp tasks; the per-spawn overhead (ns
 *                        per call minus serial's) goes to stderr
 *   pmap_1us             1 us of work per element, 20000 elements (ns per element):
 *                        ringfold, a thread per chunk
 * Every implementation's answer is checked; a wrong one aborts the run.
 * The two fold benchmarks are memory-bound: every implementation reads the same array, with
 * the repetitions alternated (bench_run_alternated), rayon's too (its library linked in),
 * since a fold's speed there follows the pages under it and the host's moment: arrays of
 * one process differed by up to 25 %, and the host's bandwidth drifts between runs. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "peers.h"
#include "ringfold.h"

#define N_FOLD 100000000ull
#define FIB_N 30
#define FIB_CALLS 2692537ull /* calls made by fib(30) */
#define PMAP_N 20000
#define PMAP_CHUNK 1024

static int64_t *numbers;
static int64_t want_sum, want_mf;

static void check(const char *what, int64_t got, int64_t want)
{
	if (got != want) {
		fprintf(stderr, "bench_fold: %s gave %lld, expected %lld\n", what, (long long)got,
		        (long long)want);
		exit(1);
	}
}

static uint64_t sum_ringfold(uint64_t ops, void *arg)
{
	rf_val r = 0;
	uint64_t t0 = bench_now_ns();
	int rc = rf_fold(rf_r_int64(numbers, ops), rf_add, 0, rf_add, &r);
	uint64_t t = bench_now_ns() - t0;
	check("ringfold fold", rc ? rc : r, want_sum);
	return t;
}

static inline bool keep_all(int64_t x)
{
	return true;
}

static inline int64_t same(int64_t x)
{
	return x;
}

RF_FOLD_BODY(sum_body, int64_t, keep_all, same, rf_plus)

static uint64_t sum_range(uint64_t ops, void *arg)
{
	rf_val r = 0;
	uint64_t t0 = bench_now_ns();
	int rc = rf_fold_range(0, ops, 0, sum_body, rf_from_ptr(numbers), rf_add, 0, &r);
	uint64_t t = bench_now_ns() - t0;
	check("ringfold range fold", rc ? rc : r, want_sum);
	return t;
}

static uint64_t sum_serial(uint64_t ops, void *arg)
{
	uint64_t t0 = bench_now_ns();
	int64_t s = 0;
	for (size_t i = 0; i < ops; i++)
		s += numbers[i];
	uint64_t t = bench_now_ns() - t0;
	check("serial sum", s, want_sum);
	return t;
}

/* One repetition of a peer's whole-array call over the first ops numbers, checked. */
static uint64_t peer_row(int64_t (*run)(const int64_t *, size_t), uint64_t ops, const char *what,
                         int64_t want)
{
	uint64_t t0 = bench_now_ns();
	int64_t s = run(numbers, ops);
	uint64_t t = bench_now_ns() - t0;
	check(what, s, want);
	return t;
}

static uint64_t sum_omp(uint64_t ops, void *arg)
{
	return peer_row(omp_sum, ops, "openmp sum", want_sum);
}

static uint64_t sum_tbb(uint64_t ops, void *arg)
{
	return peer_row(tbb_sum, ops, "tbb sum", want_sum);
}

#ifdef RF_BENCH_RAYON
static uint64_t sum_rayon(uint64_t ops, void *arg)
{
	return peer_row(rayon_sum, ops, "rayon sum", want_sum);
}
#endif

static int even(rf_val x, rf_val arg, rf_val *out)
{
	*out = x % 2 == 0;
	return 0;
}

static int times(rf_val x, rf_val k, rf_val *out)
{
	*out = x * k;
	return 0;
}

static uint64_t mf_ringfold(uint64_t ops, void *arg)
{
	rf_val r = 0;
	uint64_t t0 = bench_now_ns();
	int rc = rf_fold(rf_r_map(rf_r_filter(rf_r_int64(numbers, ops), even, 0), times, 3), rf_add,
	                 0, rf_add, &r);
	uint64_t t = bench_now_ns() - t0;
	check("ringfold map/filter", rc ? rc : r, want_mf);
	return t;
}

/* The same pipeline written with ringfold's own rf_even and rf_mul: the fold recognizes
 * them and runs a call-free loop. */
static uint64_t mf_known(uint64_t ops, void *arg)
{
	rf_val r = 0;
	uint64_t t0 = bench_now_ns();
	int rc = rf_fold(rf_r_map(rf_r_filter(rf_r_int64(numbers, ops), rf_even, 0), rf_mul, 3),
	                 rf_add, 0, rf_add, &r);
	uint64_t t = bench_now_ns() - t0;
	check("ringfold known map/filter", rc ? rc : r, want_mf);
	return t;
}

static int evens_times(rf_val *xs, size_t n, rf_val k, size_t *kept)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (xs[i] % 2 == 0)
			xs[m++] = xs[i] * k;
	*kept = m;
	return 0;
}

static uint64_t mf_block(uint64_t ops, void *arg)
{
	rf_val r = 0;
	uint64_t t0 = bench_now_ns();
	int rc =
	    rf_fold(rf_r_block(rf_r_int64(numbers, ops), evens_times, 3), rf_add, 0, rf_add, &r);
	uint64_t t = bench_now_ns() - t0;
	check("ringfold block map/filter", rc ? rc : r, want_mf);
	return t;
}

static inline bool is_even(int64_t x)
{
	return x % 2 == 0;
}

static inline int64_t times3(int64_t x)
{
	return 3 * x;
}

RF_FOLD_BODY(even_times3_body, int64_t, is_even, times3, rf_plus)

static uint64_t mf_range(uint64_t ops, void *arg)
{
	rf_val r = 0;
	uint64_t t0 = bench_now_ns();
	int rc = rf_fold_range(0, ops, 0, even_times3_body, rf_from_ptr(numbers), rf_add, 0, &r);
	uint64_t t = bench_now_ns() - t0;
	check("ringfold range map/filter", rc ? rc : r, want_mf);
	return t;
}

static uint64_t mf_serial(uint64_t ops, void *arg)
{
	uint64_t t0 = bench_now_ns();
	int64_t s = 0;
	for (size_t i = 0; i < ops; i++)
		if (numbers[i] % 2 == 0)
			s += 3 * numbers[i];
	uint64_t t = bench_now_ns() - t0;
	check("serial map/filter", s, want_mf);
	return t;
}

static uint64_t mf_omp(uint64_t ops, void *arg)
{
	return peer_row(omp_map_filter, ops, "openmp map/filter", want_mf);
}

/* Through a volatile pointer: the peer's compiler must not see which functions it calls. */
static int (*volatile even_p)(rf_val, rf_val, rf_val *) = even;
static int (*volatile times_p)(rf_val, rf_val, rf_val *) = times;

static uint64_t mf_omp_calls(uint64_t ops, void *arg)
{
	uint64_t t0 = bench_now_ns();
	int64_t s = omp_map_filter_calls(numbers, ops, even_p, times_p);
	uint64_t t = bench_now_ns() - t0;
	check("openmp map/filter through calls", s, want_mf);
	return t;
}

static uint64_t mf_tbb(uint64_t ops, void *arg)
{
	return peer_row(tbb_map_filter, ops, "tbb map/filter", want_mf);
}

#ifdef RF_BENCH_RAYON
static uint64_t mf_rayon(uint64_t ops, void *arg)
{
	return peer_row(rayon_map_filter, ops, "rayon map/filter", want_mf);
}
#endif

static int fib(rf_val n, rf_val *out)
{
	if (n < 2) {
		*out = n;
		return 0;
	}
	rf_fj_task t;
	rf_val a, b;
	rf_fj_fork(&t, fib, n - 1);
	fib(n - 2, &b);
	rf_fj_join(&t, &a);
	*out = a + b;
	return 0;
}

static int64_t fib_serial(int64_t n)
{
	return n < 2 ? n : fib_serial(n - 1) + fib_serial(n - 2);
}
static int64_t (*volatile fib_serial_p)(int64_t) = fib_serial; /* keep it a real recursion */

static uint64_t fib_ringfold(uint64_t ops, void *arg)
{
	rf_val r = 0;
	uint64_t t0 = bench_now_ns();
	int rc = rf_fj_invoke(fib, FIB_N, &r);
	uint64_t t = bench_now_ns() - t0;
	check("ringfold fib", rc ? rc : r, 832040);
	return t;
}

static uint64_t fib_ser(uint64_t ops, void *arg)
{
	uint64_t t0 = bench_now_ns();
	int64_t r = fib_serial_p(FIB_N);
	uint64_t t = bench_now_ns() - t0;
	check("serial fib", r, 832040);
	return t;
}

static uint64_t fib_tbb(uint64_t ops, void *arg)
{
	uint64_t t0 = bench_now_ns();
	int64_t r = tbb_fib(FIB_N);
	uint64_t t = bench_now_ns() - t0;
	check("tbb fib", r, 832040);
	return t;
}

static uint64_t fib_omp(uint64_t ops, void *arg)
{
	uint64_t t0 = bench_now_ns();
	int64_t r = omp_fib(FIB_N);
	uint64_t t = bench_now_ns() - t0;
	check("openmp fib", r, 832040);
	return t;
}

/* Keeps the best run of each fib implementation for the overhead line on stderr. */
static uint64_t fib_best;
static double fib_ns[4];

typedef uint64_t (*bench_fn)(uint64_t ops, void *arg);

static uint64_t timed_fib(uint64_t ops, void *arg)
{
	uint64_t t = (*(bench_fn *)arg)(ops, NULL);
	fib_best = t < fib_best ? t : fib_best;
	return t;
}

static void work_1us(void)
{
	uint64_t until = bench_now_ns() + 1000;
	while (bench_now_ns() < until)
		;
}

static int slow_inc(rf_val x, rf_val arg, rf_val *out)
{
	work_1us();
	*out = x + 1;
	return 0;
}

static rf_val pm_in[PMAP_N], pm_out[PMAP_N];

static void check_pmap(const char *what)
{
	for (int i = 0; i < PMAP_N; i++)
		check(what, pm_out[i], i + 1);
	memset(pm_out, 0, sizeof(pm_out));
}

static uint64_t pmap_ringfold(uint64_t ops, void *arg)
{
	uint64_t t0 = bench_now_ns();
	int rc = rf_pmap(pm_in, PMAP_N, slow_inc, 0, pm_out);
	uint64_t t = bench_now_ns() - t0;
	check("ringfold pmap rc", rc, 0);
	check_pmap("ringfold pmap");
	return t;
}

static void *chunk_thread(void *arg)
{
	size_t lo = (size_t)arg, hi = lo + PMAP_CHUNK < PMAP_N ? lo + PMAP_CHUNK : PMAP_N;
	for (size_t i = lo; i < hi; i++)
		slow_inc(pm_in[i], 0, &pm_out[i]);
	return NULL;
}

static uint64_t pmap_threads(uint64_t ops, void *arg)
{
	enum { NT = (PMAP_N + PMAP_CHUNK - 1) / PMAP_CHUNK };
	pthread_t th[NT];
	uint64_t t0 = bench_now_ns();
	for (size_t k = 0; k < NT; k++)
		pthread_create(&th[k], NULL, chunk_thread, (void *)(k * PMAP_CHUNK));
	for (size_t k = 0; k < NT; k++)
		pthread_join(th[k], NULL);
	uint64_t t = bench_now_ns() - t0;
	check_pmap("thread per chunk pmap");
	return t;
}

static int fill(rf_val i, rf_val arg, rf_val *out)
{
	numbers[i] = i;
	*out = 0;
	return 0;
}

int main(int argc, char **argv)
{
	bench_init(argc, argv);
	int want_fold = bench_wanted("fold_sum_1e8") || bench_wanted("fold_map_filter_1e8");
	if (want_fold) {
#ifndef RF_BENCH_RAYON
		fprintf(stderr, "bench_fold: built without the rayon peer (Debian's cargo or "
		                "librust-rayon-dev missing when configured): no rayon rows\n");
#endif
		numbers = malloc(N_FOLD * sizeof(int64_t));
		if (!numbers)
			return 1;
		rf_val ignored;
		/* first touch by the pool's workers, as the pools will read it */
		rf_fold(rf_r_map(rf_r_range(0, N_FOLD), fill, 0), rf_add, 0, rf_add, &ignored);
		for (size_t i = 0; i < N_FOLD; i++) {
			want_sum += numbers[i];
			want_mf += numbers[i] % 2 == 0 ? 3 * numbers[i] : 0;
		}
	}
	if (bench_wanted("fold_sum_1e8")) {
		const bench_impl sum[] = {
		    {"ringfold", sum_ringfold, NULL}, {"ringfold-range", sum_range, NULL},
		    {"serial", sum_serial, NULL},     {"openmp", sum_omp, NULL},
		    {"tbb", sum_tbb, NULL},
#ifdef RF_BENCH_RAYON
		    {"rayon", sum_rayon, NULL},
#endif
		};
		bench_run_alternated("fold_sum_1e8", sum, sizeof(sum) / sizeof(sum[0]), N_FOLD);
	}
	if (bench_wanted("fold_map_filter_1e8")) {
		const bench_impl mf[] = {
		    {"ringfold", mf_ringfold, NULL},
		    {"ringfold-block", mf_block, NULL},
		    {"ringfold-range", mf_range, NULL},
		    {"ringfold-known", mf_known, NULL},
		    {"serial", mf_serial, NULL},
		    {"openmp", mf_omp, NULL},
		    {"tbb", mf_tbb, NULL},
		    {"openmp-calls", mf_omp_calls, NULL},
#ifdef RF_BENCH_RAYON
		    {"rayon", mf_rayon, NULL},
#endif
		};
		bench_run_alternated("fold_map_filter_1e8", mf, sizeof(mf) / sizeof(mf[0]), N_FOLD);
	}
	free(numbers);
	if (bench_wanted("fj_fib30")) {
		const char *impl[] = {"ringfold", "serial", "tbb", "openmp"};
		bench_fn fn[] = {fib_ringfold, fib_ser, fib_tbb, fib_omp};
		for (int i = 0; i < 4; i++) {
			fib_best = UINT64_MAX;
			bench_run("fj_fib30", impl[i], FIB_CALLS, timed_fib, &fn[i]);
			fib_ns[i] = (double)fib_best / FIB_CALLS;
		}
		fprintf(stderr,
		        "fj_fib30 per-spawn overhead (ns per call beyond serial's %.2f): ringfold "
		        "%.2f, "
		        "tbb %.2f, openmp %.2f\n",
		        fib_ns[1], fib_ns[0] - fib_ns[1], fib_ns[2] - fib_ns[1],
		        fib_ns[3] - fib_ns[1]);
	}
	if (bench_wanted("pmap_1us")) {
		for (int i = 0; i < PMAP_N; i++)
			pm_in[i] = i;
		bench_run("pmap_1us", "ringfold", PMAP_N, pmap_ringfold, NULL);
		bench_run("pmap_1us", "thread-per-chunk", PMAP_N, pmap_threads, NULL);
	}
	return 0;
}
