/* numa/topology.c: detect or parse the topology; see topology.h for the contract. */
#include "numa/topology.h"

#include <ctype.h>
#include <errno.h>
#include <numa.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringfold/base.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return RF_ETOPOLOGY;
}

static int parse_uint(const char **p, int *out)
{
	if (!isdigit((unsigned char)**p))
		return -1;
	long v = 0;
	while (isdigit((unsigned char)**p)) {
		v = v * 10 + (**p - '0');
		if (v >= TOPO_MAX_CPUS)
			return -1;
		(*p)++;
	}
	*out = (int)v;
	return 0;
}

/* Append node `node` holding the CPUs of `set` (ascending) to topo. */
static void add_node(topology *topo, int os_node, const cpu_set_t *set)
{
	topo_node *n = &topo->nodes[topo->nnodes];
	n->os_node = os_node;
	n->first_cpu_idx = topo->ncpus;
	n->ncpus = 0;
	for (int cpu = 0; cpu < CPU_SETSIZE && topo->ncpus < TOPO_MAX_CPUS; cpu++) {
		if (!CPU_ISSET(cpu, set))
			continue;
		topo->cpus[topo->ncpus] = cpu;
		topo->cpu_node[topo->ncpus] = topo->nnodes;
		topo->ncpus++;
		n->ncpus++;
	}
	topo->nnodes++;
}

int topo_parse(const char *text, const cpu_set_t *allowed, topology *out, char *err, size_t errlen)
{
	static cpu_set_t sets[TOPO_MAX_NODES];
	cpu_set_t seen;
	int nnodes = 0;
	const char *p = text;

	if (!text || !*text)
		return fail(err, errlen, "RF_TOPOLOGY is empty");
	CPU_ZERO(&seen);
	memset(out, 0, sizeof(*out));
	for (;;) {
		int node;
		if (parse_uint(&p, &node) || *p != ':')
			return fail(err, errlen, "RF_TOPOLOGY '%s': expected NODE:CPUS at '%s'",
			            text, p);
		if (node != nnodes || nnodes == TOPO_MAX_NODES)
			return fail(err, errlen,
			            "RF_TOPOLOGY '%s': nodes must be numbered 0,1,2,... in order",
			            text);
		p++;
		CPU_ZERO(&sets[node]);
		for (;;) {
			int lo, hi;
			if (parse_uint(&p, &lo))
				return fail(err, errlen, "RF_TOPOLOGY '%s': expected a CPU at '%s'",
				            text, p);
			hi = lo;
			if (*p == '-') {
				p++;
				if (parse_uint(&p, &hi) || hi < lo)
					return fail(err, errlen, "RF_TOPOLOGY '%s': bad CPU range",
					            text);
			}
			for (int cpu = lo; cpu <= hi; cpu++) {
				if (!CPU_ISSET(cpu, allowed))
					return fail(
					    err, errlen,
					    "RF_TOPOLOGY '%s': CPU %d is outside the affinity mask",
					    text, cpu);
				if (CPU_ISSET(cpu, &seen))
					return fail(err, errlen,
					            "RF_TOPOLOGY '%s': CPU %d listed twice", text,
					            cpu);
				CPU_SET(cpu, &seen);
				CPU_SET(cpu, &sets[node]);
			}
			if (*p != '+')
				break;
			p++;
		}
		nnodes++;
		if (*p == '\0')
			break;
		if (*p != ',')
			return fail(err, errlen, "RF_TOPOLOGY '%s': unexpected '%c'", text, *p);
		p++;
	}
	for (int n = 0; n < nnodes; n++)
		add_node(out, n, &sets[n]);
	out->simulated = 1;
	return 0;
}

/* libnuma's view (one node when NUMA is unavailable), intersected with `allowed`. */
static int detect_numa(const cpu_set_t *allowed, topology *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	int read_err = 0; /* errno of the first node libnuma could not read */
	if (numa_available() < 0) {
		add_node(out, 0, allowed);
	} else {
		struct bitmask *cpus = numa_allocate_cpumask();
		int max_node = numa_max_node();
		for (int node = 0; node <= max_node && out->nnodes < TOPO_MAX_NODES; node++) {
			cpu_set_t set;
			CPU_ZERO(&set);
			errno = 0;
			if (numa_node_to_cpus(node, cpus) < 0) {
				if (!read_err && errno != ENOENT && errno != EINVAL)
					read_err = errno ? errno : EIO;
				continue;
			}
			for (unsigned cpu = 0; cpu < cpus->size && cpu < CPU_SETSIZE; cpu++)
				if (numa_bitmask_isbitset(cpus, cpu) && CPU_ISSET(cpu, allowed))
					CPU_SET(cpu, &set);
			if (CPU_COUNT(&set) > 0)
				add_node(out, node, &set);
		}
		numa_free_cpumask(cpus);
	}
	if (out->ncpus == 0 && read_err) {
		/* Not the machine's shape: a resource ran out (RLIMIT_NOFILE, memory). */
		fail(err, errlen, "libnuma could not read the nodes' CPUs from /sys (%s)",
		     strerror(read_err));
		return -read_err;
	}
	if (out->ncpus == 0)
		return fail(err, errlen, "no usable CPU in the affinity mask");
	return 0;
}

int topo_detect(const char *text, topology *out, char *err, size_t errlen)
{
	cpu_set_t allowed;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
		return fail(err, errlen, "sched_getaffinity failed");
	if (text)
		return topo_parse(text, &allowed, out, err, errlen);
	return detect_numa(&allowed, out, err, errlen);
}

int topo_node_of_cpu(const topology *topo, int cpu)
{
	for (int i = 0; i < topo->ncpus; i++)
		if (topo->cpus[i] == cpu)
			return topo->cpu_node[i];
	return -1;
}
