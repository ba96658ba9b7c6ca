/* perf/harness.h: the benchmark harness every perf/ binary uses.
 *
 * A benchmark binary runs several benchmarks, each with ringfold and its peers in the
 * same process, and prints one CSV line per (benchmark, implementation):
 *     bench,impl,ns_per_op,ops,min,max,reps,unit
 * The first four columns are the historical ones; tools that read only them keep working.
 * For bench_run rows, ns_per_op is the median of RF_BENCH_REPS runs (default 5) of wall
 * time / ops, min and max their spread, unit "ns". Rows of figures that are not times
 * (a fairness share, a count) carry their own unit, and perf/run computes no ratio on them.
 * Peers in other languages print the same columns (perf/peers.sh says how).
 * Arguments: --only NAME runs just that benchmark; --list prints the name of every
 * benchmark the binary runs (the names --only accepts), one a line, and runs none.
 */
#ifndef RF_PERF_HARNESS_H
#define RF_PERF_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

/* Parse argv (--only NAME, --list). */
void bench_init(int argc, char **argv);

/* Whether benchmark `bench` was asked for. Every benchmark a binary runs must be guarded
 * by it: under --list it prints the name (once) and answers false. */
bool bench_wanted(const char *bench);

/* CLOCK_MONOTONIC in ns. */
uint64_t bench_now_ns(void);

/* The calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID) in ns: for a one-thread row that
 * must not count the time the thread waited for a CPU on a loaded machine. */
uint64_t bench_thread_ns(void);

/* RF_BENCH_REPS (default 5, at least 1): how many times bench_run runs each figure. */
int bench_reps(void);

/* Run fn(ops, arg) RF_BENCH_REPS times; fn does its own set-up, times only the measured
 * part and returns its elapsed ns. Prints the CSV line: median, min and max per op. */
void bench_run(const char *bench, const char *impl, uint64_t ops,
               uint64_t (*fn)(uint64_t ops, void *arg), void *arg);

/* One implementation of a benchmark for bench_run_alternated. */
typedef struct bench_impl {
	const char *impl;
	uint64_t (*fn)(uint64_t ops, void *arg);
	void *arg;
} bench_impl;

/* bench_run for n implementations of one benchmark with their repetitions alternated:
 * each of RF_BENCH_REPS rounds runs every implementation once, starting one further along
 * each round, so a drift of the machine's speed (the host moving vCPUs, a neighbour's
 * load) reaches every row alike instead of the rows that happen to run during it. Before
 * each run it waits (up to 1 s) until no other thread of the process is runnable, so that
 * no implementation's spinning workers take CPU from the next one's. Prints
 * each implementation's line, in impls order, after the last round. */
void bench_run_alternated(const char *bench, const bench_impl *impls, int n, uint64_t ops);

/* Print a CSV line for a time measured once elsewhere (ns per op, reps 1). */
void bench_report(const char *bench, const char *impl, double ns_per_op, uint64_t ops);

/* Run the calling thread on `cpu` only (a hint: a CPU outside the set is ignored). */
void bench_pin_self(int cpu);

/* Print a CSV line for a figure that is not a time, in `unit` (e.g. "share"). */
void bench_report_value(const char *bench, const char *impl, double value, const char *unit,
                        uint64_t ops);

#endif
