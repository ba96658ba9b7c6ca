/* perf/harness.c: see harness.h. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *only;

void bench_init(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			only = argv[++i];
		} else {
			fprintf(stderr, "usage: %s [--only NAME]\n", argv[0]);
			exit(2);
		}
	}
}

bool bench_wanted(const char *bench)
{
	return !only || !strcmp(only, bench);
}

uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bench_report(const char *bench, const char *impl, double ns_per_op, uint64_t ops)
{
	printf("%s,%s,%.3f,%llu\n", bench, impl, ns_per_op, (unsigned long long)ops);
	fflush(stdout);
}

int bench_reps(void)
{
	const char *env = getenv("RF_BENCH_REPS");
	int reps = env ? atoi(env) : 5;
	return reps < 1 ? 1 : reps;
}

void bench_run(const char *bench, const char *impl, uint64_t ops,
               uint64_t (*fn)(uint64_t ops, void *arg), void *arg)
{
	int reps = bench_reps();
	uint64_t best = UINT64_MAX;
	for (int r = 0; r < reps; r++) {
		uint64_t ns = fn(ops, arg);
		if (ns < best)
			best = ns;
	}
	bench_report(bench, impl, (double)best / (double)ops, ops);
}
