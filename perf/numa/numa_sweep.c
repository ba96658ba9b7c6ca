/* perf/numa/numa_sweep: where fold work runs against where its pages live.
 *
 * For every steal policy x placement x chunk size x fork/join workers per node, on the
 * machine it runs on (the host, or a numa-vm guest): start the runtime, make an array of
 * N int64 (partitioned: rf_fold_numa_alloc, each node's part first-touched on the node;
 * plain: malloc'd and filled by the main thread, the usual C program), fold it REPS
 * times recording which node reduced each element, and print one CSV row:
 *   nodes,wpn,policy,placement,chunk,ms,steals_local,steals_remote,steals_failed,
 *   local_pct,pages
 * local_pct: elements reduced on the node their page lives on (move_pages), percent;
 * pages: pages per node, "n0/n1/...". ms is the median fold.
 *   numa_sweep [--n N] [--reps R] [--wpn LIST] [--chunks LIST] [--policies LIST]
 */
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "numa/topology.h"
#include "ringfold.h"
#include "runtime/sched/sched.h"

static int8_t *ran_on;
static int *os_node_of; /* runtime node -> OS node */

static int record(rf_val acc, rf_val x, rf_val *out)
{
	ran_on[x] = (int8_t)rf_fj_current_node();
	*out = acc + x;
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* OS node of each element's page; counts pages per OS node into per_node. */
static int *page_nodes(int64_t *a, size_t n, int *per_node, int max_nodes)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t per = (size_t)page / sizeof(int64_t);
	size_t np = (n + per - 1) / per;
	void **pages = malloc(np * sizeof(void *));
	int *status = malloc(np * sizeof(int));
	for (size_t i = 0; i < np; i++)
		pages[i] = (char *)a + i * (size_t)page;
	if (move_pages(0, np, pages, NULL, status, 0) < 0)
		for (size_t i = 0; i < np; i++)
			status[i] = -1;
	int errors = 0, first_err = 0;
	for (size_t i = 0; i < np; i++) {
		if (status[i] >= 0 && status[i] < max_nodes)
			per_node[status[i]]++;
		else if (!errors++)
			first_err = status[i];
	}
	if (errors)
		fprintf(stderr, "numa_sweep: move_pages: %d of %zu pages unknown (status %d)\n",
		        errors, np, first_err);
	free(pages);
	return status; /* per page */
}

static const char *policy_name[] = {"local", "random", "none"};

static void run_one(int wpn, rf_steal_policy policy, int partitioned, size_t chunk, size_t n,
                    int reps)
{
	rf_config cfg;
	if (rf_config_default(&cfg) < 0)
		exit(2);
	cfg.fj_workers_per_node = wpn;
	cfg.fj_steal = policy;
	cfg.stall_ms = 0;
	if (rf_init(&cfg) < 0) {
		fprintf(stderr, "numa_sweep: rf_init failed\n");
		exit(2);
	}
	int nodes = rf_fj_nodes();
	const topology *t = sched_topology();
	os_node_of = calloc((size_t)nodes, sizeof(int));
	for (int k = 0; k < nodes; k++)
		os_node_of[k] = t->nodes[k].os_node;
	rf_numa_layout l;
	int64_t *a = NULL;
	if (partitioned ? rf_fold_numa_alloc(n, sizeof(int64_t), &l, (void **)&a) < 0
	                : !(a = malloc(n * sizeof(int64_t))))
		exit(2);
	for (size_t i = 0; i < n; i++) /* partitioned: each part's pages are already placed */
		a[i] = (int64_t)i;
	ran_on = malloc(n);
	rf_reducible c = partitioned ? rf_r_numa(rf_r_int64(a, n), &l) : rf_r_int64(a, n);
	rf_stats *before, *after;
	if (rf_stats_new(&before) || rf_stats_new(&after))
		exit(2);
	rf_val r;
	(void)rf_fold_n(c, chunk, rf_add, 0, record, &r); /* warm: pools started */
	rf_stats_get(before);
	double *ms = malloc((size_t)reps * sizeof(double));
	for (int k = 0; k < reps; k++) {
		double t0 = now_ms();
		if (rf_fold_n(c, chunk, rf_add, 0, record, &r) < 0 ||
		    r != (rf_val)(n * (n - 1) / 2)) {
			fprintf(stderr, "numa_sweep: wrong fold result\n");
			exit(3);
		}
		ms[k] = now_ms() - t0;
	}
	rf_stats_get(after);
	rf_stats_sub(after, before);
	int per_node[64] = {0};
	int *where = page_nodes(a, n, per_node, 64);
	size_t per = (size_t)sysconf(_SC_PAGESIZE) / sizeof(int64_t), local = 0;
	for (size_t i = 0; i < n; i++) /* the last run's placement of work */
		local += ran_on[i] >= 0 && where[i / per] == os_node_of[ran_on[i]];
	qsort(ms, (size_t)reps, sizeof(double), cmp_double);
	printf("%d,%d,%s,%s,%zu,%.3f,%llu,%llu,%llu,%.1f,", nodes, wpn, policy_name[policy],
	       partitioned ? "partitioned" : "plain", chunk, ms[reps / 2],
	       (unsigned long long)after->total_fj.steals_local,
	       (unsigned long long)after->total_fj.steals_remote,
	       (unsigned long long)after->total_fj.steals_failed,
	       100.0 * (double)local / (double)n);
	for (int k = 0; k < nodes; k++)
		printf("%s%d", k ? "/" : "", per_node[os_node_of[k]]);
	printf("\n");
	fflush(stdout);
	free(where);
	free(ms);
	rf_stats_free(before);
	rf_stats_free(after);
	free(ran_on);
	if (partitioned)
		rf_fold_numa_free(a, n, sizeof(int64_t));
	else
		free(a);
	free(os_node_of);
	rf_shutdown();
}

static int parse_list(const char *s, long *out, int max)
{
	int k = 0;
	char *copy = strdup(s), *save = NULL;
	for (char *p = strtok_r(copy, ",", &save); p && k < max; p = strtok_r(NULL, ",", &save))
		out[k++] = strtol(p, NULL, 10);
	free(copy);
	return k;
}

int main(int argc, char **argv)
{
	size_t n = 1 << 21;
	int reps = 3;
	long wpn[8] = {0}, chunks[8] = {512, 8192, 131072};
	int nwpn = 1, nchunks = 3;
	const char *policies = "local,random,none";
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--n"))
			n = strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--reps"))
			reps = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--wpn"))
			nwpn = parse_list(argv[i + 1], wpn, 8);
		else if (!strcmp(argv[i], "--chunks"))
			nchunks = parse_list(argv[i + 1], chunks, 8);
		else if (!strcmp(argv[i], "--policies"))
			policies = argv[i + 1];
		else {
			fprintf(stderr,
			        "usage: %s [--n N] [--reps R] [--wpn LIST] [--chunks LIST] "
			        "[--policies LIST]\n",
			        argv[0]);
			return 2;
		}
	}
	if (reps < 1 || n < 1024)
		return 2;
	printf("nodes,wpn,policy,placement,chunk,ms,steals_local,steals_remote,steals_failed,"
	       "local_pct,pages\n");
	for (int p = 0; p < 3; p++) {
		if (!strstr(policies, policy_name[p]))
			continue;
		for (int w = 0; w < nwpn; w++)
			for (int part = 1; part >= 0; part--)
				for (int c = 0; c < nchunks; c++)
					run_one((int)wpn[w], (rf_steal_policy)p, part,
					        (size_t)chunks[c], n, reps);
	}
	return 0;
}
