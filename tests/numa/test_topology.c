/* Topology: RF_TOPOLOGY parsing (good and bad), detection against the affinity mask. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "numa/topology.h"
#include "ringfold/base.h"

static cpu_set_t mask_of(int ncpus)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	for (int i = 0; i < ncpus; i++)
		CPU_SET(i, &set);
	return set;
}

static void parse_two_nodes(void **state)
{
	cpu_set_t allowed = mask_of(8);
	topology t;
	char err[128];
	assert_int_equal(topo_parse("0:0-3,1:4-7", &allowed, &t, err, sizeof(err)), 0);
	assert_int_equal(t.nnodes, 2);
	assert_int_equal(t.ncpus, 8);
	assert_int_equal(t.nodes[1].first_cpu_idx, 4);
	assert_int_equal(t.nodes[1].ncpus, 4);
	assert_int_equal(t.cpus[5], 5);
	assert_int_equal(topo_node_of_cpu(&t, 6), 1);
	assert_int_equal(topo_node_of_cpu(&t, 2), 0);
	assert_int_equal(topo_node_of_cpu(&t, 9), -1);
	assert_int_equal(t.simulated, 1);
}

static void parse_single_cpus_and_joins(void **state)
{
	cpu_set_t allowed = mask_of(8);
	topology t;
	char err[128];
	assert_int_equal(topo_parse("0:0,1:1", &allowed, &t, err, sizeof(err)), 0);
	assert_int_equal(t.nnodes, 2);
	assert_int_equal(t.ncpus, 2);
	assert_int_equal(topo_parse("0:0-1+6,1:2+7", &allowed, &t, err, sizeof(err)), 0);
	assert_int_equal(t.nodes[0].ncpus, 3);
	assert_int_equal(t.cpus[2], 6);
	assert_int_equal(t.nodes[1].ncpus, 2);
}

static void parse_rejects_bad_text(void **state)
{
	static const char *bad[] = {
	    "",        "0",       "0:",      ":0",   "1:0",         "0:0,0:1", "0:0,2:1",
	    "0:3-1",   "0:0,1:0", "0:0;1:1", "0:a",  "0:0,",        "0:0-",    "0:0+",
	    "0:99999", "x",       "0:0 ",    "-1:0", "0:0,1:1,2:9",
	};
	cpu_set_t allowed = mask_of(8);
	topology t;
	char err[128];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		int rc = topo_parse(bad[i], &allowed, &t, err, sizeof(err));
		if (rc != RF_ETOPOLOGY)
			fail_msg("'%s' accepted", bad[i]);
		assert_true(strlen(err) > 0);
	}
}

static void parse_rejects_cpu_outside_mask(void **state)
{
	cpu_set_t allowed = mask_of(2);
	topology t;
	char err[128];
	assert_int_equal(topo_parse("0:0,1:2", &allowed, &t, err, sizeof(err)), RF_ETOPOLOGY);
	assert_non_null(strstr(err, "outside the affinity mask"));
}

static void detect_honours_affinity(void **state)
{
	cpu_set_t allowed;
	topology t;
	char err[128];
	assert_int_equal(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
	assert_int_equal(topo_detect(NULL, &t, err, sizeof(err)), 0);
	assert_int_equal(t.ncpus, CPU_COUNT(&allowed));
	for (int i = 0; i < t.ncpus; i++)
		assert_true(CPU_ISSET(t.cpus[i], &allowed));
	assert_true(t.nnodes >= 1);
	assert_int_equal(t.simulated, 0);
	/* Inside numa-vm (tests/run) the machine really has two nodes. */
	const char *expect = getenv("RF_EXPECT_NODES");
	if (expect)
		assert_int_equal(t.nnodes, atoi(expect));
}

static void pin_moves_the_thread(void **state)
{
	topology t;
	char err[128];
	assert_int_equal(topo_detect(NULL, &t, err, sizeof(err)), 0);
	int cpu = t.cpus[t.ncpus - 1];
	assert_int_equal(topo_pin_self(cpu), 0);
	assert_int_equal(sched_getcpu(), cpu);
	cpu_set_t all;
	CPU_ZERO(&all);
	for (int i = 0; i < t.ncpus; i++)
		CPU_SET(t.cpus[i], &all);
	assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);
}

static void node_alloc_gives_usable_memory(void **state)
{
	size_t size = 3 * 4096 + 17;
	char *p = topo_node_alloc(size, 0);
	assert_non_null(p);
	topo_first_touch(p, size);
	memset(p, 0x5a, size);
	assert_int_equal(p[size - 1], 0x5a);
	topo_node_free(p, size);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parse_two_nodes),
	    cmocka_unit_test(parse_single_cpus_and_joins),
	    cmocka_unit_test(parse_rejects_bad_text),
	    cmocka_unit_test(parse_rejects_cpu_outside_mask),
	    cmocka_unit_test(detect_honours_affinity),
	    cmocka_unit_test(pin_moves_the_thread),
	    cmocka_unit_test(node_alloc_gives_usable_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
