/* perf/harness.c: see harness.h. */
#include "harness.h"

#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const char *only;
static bool listing;

void bench_init(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			only = argv[++i];
		} else if (!strcmp(argv[i], "--list")) {
			listing = true;
		} else {
			fprintf(stderr, "usage: %s [--only NAME | --list]\n", argv[0]);
			exit(2);
		}
	}
}

/* Under --list: print a name the first time it is asked about (some binaries ask about a
 * name in a loop over implementations). */
static void list_name(const char *bench)
{
	static const char *seen[256];
	static int nseen;
	for (int i = 0; i < nseen; i++)
		if (!strcmp(seen[i], bench))
			return;
	/* a copy: callers may build the name in a buffer they reuse for the next one */
	if (nseen < (int)(sizeof(seen) / sizeof(seen[0])))
		seen[nseen++] = strdup(bench);
	printf("%s\n", bench);
}

bool bench_wanted(const char *bench)
{
	if (listing) {
		list_name(bench);
		return false;
	}
	return !only || !strcmp(only, bench);
}

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bench_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t bench_thread_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

static void print_row(const char *bench, const char *impl, double mid, uint64_t ops, double min,
                      double max, int reps, const char *unit)
{
	printf("%s,%s,%.3f,%llu,%.3f,%.3f,%d,%s\n", bench, impl, mid, (unsigned long long)ops, min,
	       max, reps, unit);
	fflush(stdout);
}

void bench_report(const char *bench, const char *impl, double ns_per_op, uint64_t ops)
{
	print_row(bench, impl, ns_per_op, ops, ns_per_op, ns_per_op, 1, "ns");
}

void bench_report_value(const char *bench, const char *impl, double value, const char *unit,
                        uint64_t ops)
{
	print_row(bench, impl, value, ops, value, value, 1, unit);
}

int bench_reps(void)
{
	const char *env = getenv("RF_BENCH_REPS");
	int reps = env ? atoi(env) : 5;
	return reps < 1 ? 1 : reps;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* The row of one implementation from its reps times (sorted here). */
static void report_times(const char *bench, const char *impl, uint64_t ops, uint64_t *ns, int reps)
{
	qsort(ns, (size_t)reps, sizeof(*ns), cmp_u64);
	double mid = reps % 2 ? (double)ns[reps / 2]
	                      : ((double)ns[reps / 2 - 1] + (double)ns[reps / 2]) / 2.0;
	double n = (double)ops;
	print_row(bench, impl, mid / n, ops, (double)ns[0] / n, (double)ns[reps - 1] / n, reps,
	          "ns");
}

/* Whether a thread of this process other than the caller is running or runnable ('R' in
 * /proc/self/task/<tid>/stat): a thread that spins is, even while the OS has it waiting
 * for a CPU, where the process's CPU time would not show it. */
static bool others_runnable(void)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return false;
	long self = (long)syscall(SYS_gettid);
	bool busy = false;
	struct dirent *e;
	while (!busy && (e = readdir(d))) {
		long tid = strtol(e->d_name, NULL, 10);
		if (tid <= 0 || tid == self)
			continue;
		char path[64], buf[256];
		snprintf(path, sizeof(path), "/proc/self/task/%ld/stat", tid);
		FILE *f = fopen(path, "r");
		if (!f)
			continue; /* the thread exited */
		size_t len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[len] = 0;
		const char *paren = strrchr(buf, ')'); /* the state follows the name */
		busy = paren && paren[1] == ' ' && paren[2] == 'R';
	}
	closedir(d);
	return busy;
}

/* Wait, 1 s at most, until no other thread of the process is running or runnable. A
 * pool's idle workers spin for a while after their work (libgomp's for tens of ms on this
 * machine), on the CPUs the next implementation's threads need. */
static void settle(void)
{
	const struct timespec step = {0, 1000000};
	for (int i = 0; i < 1000 && others_runnable(); i++)
		nanosleep(&step, NULL);
}

void bench_run_alternated(const char *bench, const bench_impl *impls, int n, uint64_t ops)
{
	int reps = bench_reps();
	uint64_t *ns = malloc((size_t)reps * (size_t)n * sizeof(*ns));
	if (!ns) {
		fprintf(stderr, "bench_run: out of memory\n");
		exit(1);
	}
	for (int r = 0; r < reps; r++)
		for (int k = 0; k < n; k++) {
			int i = (r + k) % n;
			if (n > 1)
				settle();
			ns[(size_t)i * (size_t)reps + (size_t)r] = impls[i].fn(ops, impls[i].arg);
		}
	for (int i = 0; i < n; i++)
		report_times(bench, impls[i].impl, ops, ns + (size_t)i * (size_t)reps, reps);
	free(ns);
}

void bench_run(const char *bench, const char *impl, uint64_t ops,
               uint64_t (*fn)(uint64_t ops, void *arg), void *arg)
{
	bench_impl one = {impl, fn, arg};
	bench_run_alternated(bench, &one, 1, ops);
}

void bench_pin_self(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}
