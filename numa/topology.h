/* numa/topology.h: which CPUs ringfold uses, grouped by NUMA node (internal).
 *
 * The topology is libnuma's nodes intersected with the process's affinity mask
 * (sched_getaffinity, so taskset, cgroup cpusets and numactl are honoured), or the
 * RF_TOPOLOGY override. Nodes with no usable CPU are dropped; node ids are renumbered
 * densely 0..nnodes-1 in topology (os_node keeps the kernel's id for memory policy).
 * Built once at runtime start; read-only afterwards, so any thread may read it freely.
 */
#ifndef RF_NUMA_TOPOLOGY_H
#define RF_NUMA_TOPOLOGY_H

#include <sched.h>
#include <stddef.h>

#define TOPO_MAX_NODES 64
#define TOPO_MAX_CPUS 1024

typedef struct topo_node {
	int os_node; /* kernel node id (for mbind / numa_alloc_onnode) */
	int ncpus;
	int first_cpu_idx; /* index into topology.cpus of this node's first CPU */
} topo_node;

typedef struct topology {
	int nnodes;
	int ncpus;
	topo_node nodes[TOPO_MAX_NODES];
	int cpus[TOPO_MAX_CPUS];     /* OS CPU ids, grouped by node, ascending within a node */
	int cpu_node[TOPO_MAX_CPUS]; /* dense node index of cpus[i] */
	int simulated;               /* 1 when it came from RF_TOPOLOGY */
} topology;

/* Parse an RF_TOPOLOGY string ("0:0,1:1", "0:0-3,1:4-7"; node ids must be 0..n-1 each
 * once, CPU lists are comma-free ranges joined by '+', e.g. "0:0-1+4,1:2-3") against
 * the allowed mask. Returns 0, or RF_ETOPOLOGY with a one-line reason in err (size
 * errlen) for malformed text, repeated CPUs or CPUs outside `allowed`. */
int topo_parse(const char *text, const cpu_set_t *allowed, topology *out, char *err, size_t errlen);

/* Detect: RF_TOPOLOGY-style override `text` if non-NULL, otherwise libnuma ∩ affinity.
 * Returns 0, RF_ETOPOLOGY (reason in err), or -errno when libnuma could not read the
 * nodes (out of descriptors or memory: reason in err). */
int topo_detect(const char *text, topology *out, char *err, size_t errlen);

/* Dense node of OS CPU `cpu` in topo, or -1 if ringfold does not use that CPU. */
int topo_node_of_cpu(const topology *topo, int cpu);

/* Pin the calling thread to OS CPU `cpu`. Returns 0 or -errno. */
int topo_pin_self(int cpu);

/* Memory on a node: size bytes (page-rounded), bound to os_node when NUMA is available,
 * plain mmap otherwise. NULL on failure. Free with topo_node_free(p, size). */
void *topo_node_alloc(size_t size, int os_node);
void topo_node_free(void *p, size_t size);

/* First-touch helper: touch [p, p+size) from the calling thread so its pages land on
 * the caller's node under the default policy. */
void topo_first_touch(void *p, size_t size);

#endif
