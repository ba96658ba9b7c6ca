/* perf/fold/peers.h: the peers bench_fold runs in its own process (OpenMP in peers_omp.c,
 * oneTBB in peers_tbb.cpp, rayon in rayon/src/lib.rs when built with it). Each returns its
 * result so the caller checks it against ringfold's. */
#ifndef RF_PERF_FOLD_PEERS_H
#define RF_PERF_FOLD_PEERS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

int64_t omp_sum(const int64_t *a, size_t n);
int64_t omp_map_filter(const int64_t *a, size_t n); /* sum of 3x over even x */
/* The same through calls of pred and f (rf_update_fn's shape), which the compiler cannot
 * inline: the floor of a per-element reducer API. */
int64_t omp_map_filter_calls(const int64_t *a, size_t n,
                             int (*pred)(int64_t x, int64_t arg, int64_t *out),
                             int (*f)(int64_t x, int64_t arg, int64_t *out));
int64_t omp_fib(int64_t n); /* a task at every call */

int64_t tbb_sum(const int64_t *a, size_t n);
int64_t tbb_map_filter(const int64_t *a, size_t n);
int64_t tbb_fib(int64_t n); /* task_group at every call */

#ifdef RF_BENCH_RAYON
int64_t rayon_sum(const int64_t *a, size_t n);        /* v.par_iter().sum() */
int64_t rayon_map_filter(const int64_t *a, size_t n); /* filter even, map 3x, sum */
#endif

#ifdef __cplusplus
}
#endif
#endif
