/* runtime/sched/stats.c: the executor's counters into rf_stats, and its arrays' growth.
 *
 * Counters are written by their worker alone (relaxed load+store, fiber.h) and read
 * here relaxed: each is a recent value, the set is not one instant. Workers are never
 * freed (lifecycle.c), so a reader racing rf_shutdown reads stale counters, not freed
 * memory. The arrays belong to the rf_stats being filled (one caller at a time).
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/sched/fiber.h"

static int grow(void **arr, int *cap, int want, size_t elem)
{
	if (want <= *cap)
		return 0;
	void *p = realloc(*arr, (size_t)want * elem);
	if (!p)
		return -ENOMEM;
	memset((char *)p + (size_t)*cap * elem, 0, (size_t)(want - *cap) * elem);
	*arr = p;
	*cap = want;
	return 0;
}

int sched_stats_reserve(rf_stats *out, int workers, int fj, int nodes)
{
	if (grow((void **)&out->executor, &out->cap_executor, workers, sizeof(rf_worker_stats)) ||
	    grow((void **)&out->fj, &out->cap_fj, fj, sizeof(rf_worker_stats)) ||
	    grow((void **)&out->node, &out->cap_nodes, nodes, sizeof(rf_node_stats)))
		return -ENOMEM;
	return 0;
}

static uint64_t get(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

int sched_stats(rf_stats *out)
{
	int n = sched_nworkers, nodes = 0;
	for (int i = 0; i < n; i++) /* workers fill every node, in order (lifecycle.c) */
		nodes = sched_worker_tab[i]->node + 1;
	if (sched_stats_reserve(out, n, 0, nodes))
		return -ENOMEM;
	out->nodes = nodes;
	out->workers = n;
	for (int i = 0; i < n; i++) {
		sched_worker *w = sched_worker_tab[i];
		uint64_t parks = get(&w->st_parks), resumed = get(&w->st_resumed);
		out->executor[i] = (rf_worker_stats){
		    .cpu = w->cpu,
		    .node = w->node,
		    .fibers_run = get(&w->st_run),
		    .fibers_spawned = get(&w->st_spawned),
		    .parks = parks,
		    .parked = parks > resumed ? parks - resumed : 0,
		    .wakeups = get(&w->st_wakeups),
		    .idle_ns = get(&w->st_idle_ns),
		    .io_completions = get(&w->st_io),
		    .stalls = get(&w->st_stalls),
		};
	}
	return 0;
}
