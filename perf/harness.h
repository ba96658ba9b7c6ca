/* perf/harness.h: the benchmark harness every perf/ binary uses.
 *
 * A benchmark binary runs several benchmarks, each with ringfold and its peers in the
 * same process, and prints one CSV line per (benchmark, implementation):
 *     bench,impl,ns_per_op,ops
 * ns_per_op is the best (lowest) of RF_BENCH_REPS runs (default 5) of wall time / ops.
 * Arguments: --only NAME runs just that benchmark. perf/run collects and tabulates.
 */
#ifndef RF_PERF_HARNESS_H
#define RF_PERF_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

/* Parse argv (--only NAME). */
void bench_init(int argc, char **argv);

/* Whether benchmark `bench` was asked for. */
bool bench_wanted(const char *bench);

/* CLOCK_MONOTONIC in ns. */
uint64_t bench_now_ns(void);

/* RF_BENCH_REPS (default 5, at least 1): how many times bench_run runs each figure. */
int bench_reps(void);

/* Run fn(ops, arg) RF_BENCH_REPS times; fn does its own set-up, times only the measured
 * part and returns its elapsed ns. Prints the CSV line with the best run. */
void bench_run(const char *bench, const char *impl, uint64_t ops,
               uint64_t (*fn)(uint64_t ops, void *arg), void *arg);

/* Print a CSV line for a figure measured elsewhere (a peer program, a single run). */
void bench_report(const char *bench, const char *impl, double ns_per_op, uint64_t ops);

#endif
