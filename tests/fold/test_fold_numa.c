/* NUMA: node-partitioned allocation and folding, where the work ran, steal counters and
 * the steal policy. Meaningful with two nodes: the @2node run (simulated) and the
 * numa-vm run (RF_EXPECT_NODES=2, real placement of pages). */
#include <numaif.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "numa/topology.h"
#include "ringfold.h"
#include "runtime/fj/fj.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/wait.h"

static int8_t *ran_on; /* element i: the node whose worker reduced it */

static int record(rf_val acc, rf_val x, rf_val *out)
{
	ran_on[x] = (int8_t)rf_fj_current_node();
	*out = acc + x;
	return 0;
}

static int expected_nodes(void)
{
	const char *e = getenv("RF_EXPECT_NODES");
	return e ? atoi(e) : 0;
}

static void nodes_as_expected(void **state)
{
	if (expected_nodes())
		assert_int_equal(rf_fj_nodes(), expected_nodes());
}

static void numa_alloc_and_fold(void **state)
{
	size_t n = 1 << 20;
	rf_numa_layout l;
	void *mem;
	assert_int_equal(rf_fold_numa_alloc(n, sizeof(int64_t), &l, &mem), 0);
	int64_t *a = mem;
	assert_non_null(a);
	int nodes = rf_fj_nodes();
	assert_int_equal(l.nodes, nodes);
	assert_int_equal(l.start[0], 0);
	assert_int_equal(l.start[nodes], n);
	for (int k = 0; k < nodes; k++)
		assert_true(l.start[k] < l.start[k + 1]);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(a[i], 0); /* zeroed */
	for (size_t i = 0; i < n; i++)
		a[i] = (int64_t)i;
	ran_on = malloc(n);
	memset(ran_on, -1, n);
	rf_val r;
	assert_int_equal(rf_fold(rf_r_numa(rf_r_int64(a, n), &l), rf_add, 0, record, &r), 0);
	assert_int_equal(r, (int64_t)n * (int64_t)(n - 1) / 2);
	for (int k = 0; k < nodes; k++)
		for (size_t i = l.start[k]; i < l.start[k + 1]; i++)
			if (ran_on[i] != k)
				fail_msg("element %zu of node %d's part ran on node %d", i, k,
				         ran_on[i]);
	/* the fast path too, and a layout that does not fit */
	assert_int_equal(rf_fold(rf_r_numa(rf_r_int64(a, n), &l), rf_add, 0, rf_add, &r), 0);
	assert_int_equal(r, (int64_t)n * (int64_t)(n - 1) / 2);
	assert_int_equal(rf_fold(rf_r_numa(rf_r_int64(a, n - 1), &l), rf_add, 0, rf_add, &r),
	                 -EINVAL);
	assert_int_equal(rf_fold(rf_r_numa(rf_r_int64(a, n), NULL), rf_add, 0, rf_add, &r),
	                 -EINVAL);

	if (expected_nodes() == 2) { /* a real two-node machine: pages where they belong */
		const topology *topo = sched_topology();
		long page = sysconf(_SC_PAGESIZE);
		for (int k = 0; k < nodes; k++) {
			size_t mid = (l.start[k] + l.start[k + 1]) / 2;
			char *p = (char *)&a[mid];
			p -= (uintptr_t)p % (uintptr_t)page;
			int where = -1;
			assert_int_equal(
			    get_mempolicy(&where, NULL, 0, p, MPOL_F_NODE | MPOL_F_ADDR), 0);
			assert_int_equal(where, topo->nodes[k].os_node);
		}
	}
	free(ran_on);
	rf_fold_numa_free(a, n, sizeof(int64_t));
	void *none = &l;
	assert_int_equal(rf_fold_numa_alloc(0, 8, &l, &none), -EINVAL);
	assert_int_equal(rf_fold_numa_alloc(8, 8, NULL, &none), -EINVAL);
	assert_int_equal(rf_fold_numa_alloc(8, 8, &l, NULL), -EINVAL);
}

static int slow_record(rf_val acc, rf_val x, rf_val *out)
{
	uint64_t until = time_now_ns() + 20000;
	while (time_now_ns() < until)
		;
	return record(acc, x, out);
}

static uint64_t remote_steals(void)
{
	rf_stats *st;
	assert_int_equal(rf_stats_new(&st), 0);
	assert_int_equal(rf_stats_get(st), 0);
	uint64_t sum = 0;
	for (int i = 0; i < st->fj_workers; i++)
		sum += st->fj[i].steals_remote;
	assert_int_equal(sum, st->total_fj.steals_remote);
	rf_stats_free(st);
	return sum;
}

/* A fold entered on node 0: with fj_steal = local, node 1's idle workers steal from it
 * (remote steals, elements run on node 1); with none, everything stays on node 0. */
static int fold_slowly(rf_val n, rf_val *out)
{
	return rf_fold_n(rf_r_range(0, n), 1, rf_add, 0, slow_record, out);
}

static void run_on_node0(size_t n, int *nodes_used)
{
	ran_on = malloc(n);
	memset(ran_on, -1, n);
	rf_val r;
	assert_int_equal(rf_fj_invoke_on(0, fold_slowly, (rf_val)n, &r), 0);
	assert_int_equal(r, (int64_t)n * (int64_t)(n - 1) / 2);
	for (size_t i = 0; i < n; i++) {
		assert_true(ran_on[i] >= 0);
		nodes_used[ran_on[i]] = 1;
	}
	free(ran_on);
}

static void steal_policy(void **state)
{
	if (rf_fj_nodes() < 2)
		skip();
	int used[TOPO_MAX_NODES] = {0};
	uint64_t before = remote_steals();
	for (int tries = 0; tries < 20 && !used[1]; tries++)
		run_on_node0(2000, used);
	assert_true(used[1]);
	assert_true(remote_steals() > before);

	/* restart the runtime with fj_steal = none */
	rf_config cfg;
	assert_int_equal(rf_config_default(&cfg), 0);
	cfg.fj_steal = RF_STEAL_NONE;
	rf_shutdown();
	assert_int_equal(rf_init(&cfg), 0);
	memset(used, 0, sizeof(used));
	run_on_node0(2000, used);
	assert_false(used[1]);
	assert_int_equal(remote_steals(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(nodes_as_expected),
	    cmocka_unit_test(numa_alloc_and_fold),
	    cmocka_unit_test(steal_policy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
