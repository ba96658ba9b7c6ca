/* numa/place.c: pinning threads and placing memory on nodes. No shared state. */
#include <numa.h>
#include <numaif.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "numa/topology.h"

int topo_pin_self(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static size_t page_round(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	return (size + page - 1) & ~(page - 1);
}

void *topo_node_alloc(size_t size, int os_node)
{
	size = page_round(size);
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (os_node >= 0 && numa_available() >= 0) {
		unsigned long mask[16] = {0};
		if (os_node < (int)(sizeof(mask) * 8)) {
			mask[os_node / (8 * sizeof(long))] = 1UL << (os_node % (8 * sizeof(long)));
			/* Preferred, not bound: a full node falls back rather than failing. */
			mbind(p, size, MPOL_PREFERRED, mask, sizeof(mask) * 8, 0);
		}
	}
	return p;
}

void topo_node_free(void *p, size_t size)
{
	if (p)
		munmap(p, page_round(size));
}

void topo_first_touch(void *p, size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	volatile char *c = p;
	for (size_t off = 0; off < size; off += page)
		c[off] = c[off];
}
