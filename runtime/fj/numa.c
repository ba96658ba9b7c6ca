/* runtime/fj/numa.c: node-partitioned inputs: allocation with first touch by each node's
 * workers, and folds that run each node's part on that node's pool.
 * No shared state: a fold's per-node records live in the root task's frame. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "numa/topology.h"
#include "ringfold/fj.h"
#include "runtime/fj/fj.h"
#include "runtime/fj/reducible.h"

/* The size of a transparent huge page (0 if the kernel does not say). */
static size_t huge_page_size(void)
{
	static _Atomic size_t cached = 1; /* 1: not read yet (relaxed: any reader's value is
	                                     the same) */
	size_t v = atomic_load_explicit(&cached, memory_order_relaxed);
	if (v != 1)
		return v;
	v = 0;
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "r");
	if (f) {
		unsigned long x;
		if (fscanf(f, "%lu", &x) == 1)
			v = x;
		fclose(f);
	}
	atomic_store_explicit(&cached, v, memory_order_relaxed);
	return v;
}

typedef struct touch {
	fj_range range;
	char *base;
	size_t elem_size;
} touch;

static int touch_leaf(fj_range *r, size_t lo, size_t hi, rf_val *acc)
{
	touch *t = (touch *)r;
	memset(t->base + lo * t->elem_size, 0, (hi - lo) * t->elem_size);
	return 0;
}

static int touch_combine(fj_range *r, rf_val a, rf_val b, rf_val *out)
{
	return 0;
}

typedef struct node_part {
	fj_range *range;
	size_t lo, hi;
} node_part;

/* On a worker of the part's node: reduce the part with other nodes kept from stealing. */
static int run_node_part(rf_val arg, rf_val *out)
{
	node_part *np = rf_to_ptr(arg);
	struct fj_worker *w = fj_self_worker();
	fj_keep_local(w, 1);
	int rc = fj_range_run(np->range, np->lo, np->hi, out);
	fj_keep_local(w, -1);
	return rc;
}

int rf_fold_numa_alloc(size_t n, size_t elem_size, rf_numa_layout *layout, void **out)
{
	if (!out || !layout || !n || !elem_size || n > SIZE_MAX / elem_size)
		return -EINVAL;
	*out = NULL;
	int nodes = rf_fj_nodes();
	if (nodes < 0)
		return nodes;
	if (nodes > RF_FOLD_MAX_NODES)
		return -EINVAL;
	size_t bytes = n * elem_size, page = (size_t)sysconf(_SC_PAGESIZE);
	char *p = topo_node_alloc(bytes, -1); /* no policy: first touch decides */
	if (!p)
		return -ENOMEM;
	size_t total = 0, cum = 0, fewest = SIZE_MAX;
	for (int k = 0; k < nodes; k++) {
		size_t wk = (size_t)rf_fj_workers(k);
		total += wk;
		fewest = wk < fewest ? wk : fewest;
	}
	/* A transparent huge page is placed whole by the first touch of any of its bytes:
	 * parts cut inside one would share it, and its node. Cut on huge-page boundaries (of
	 * the address) when the smallest part still gets one; else keep huge pages out. */
	size_t huge = huge_page_size(), unit = page;
	if (huge > page && (unsigned __int128)bytes * fewest / total >= huge)
		unit = huge;
	else if (huge > page)
		(void)madvise(p, bytes, MADV_NOHUGEPAGE);
	layout->nodes = nodes;
	for (int k = 0; k < nodes; k++) {
		/* Cut at a unit boundary proportional to the workers before node k. */
		uintptr_t at = (uintptr_t)p + (size_t)((unsigned __int128)bytes * cum / total);
		uintptr_t cut = at / unit * unit;
		size_t off = cut > (uintptr_t)p ? (size_t)(cut - (uintptr_t)p) : 0;
		layout->start[k] = k == 0 ? 0 : (off + elem_size - 1) / elem_size;
		cum += (size_t)rf_fj_workers(k);
	}
	layout->start[nodes] = n;
	size_t leaf = page / elem_size ? page / elem_size : 1;
	for (int k = 0; k < nodes; k++) {
		touch t = {.range = {.leaf = leaf, .leaf_fn = touch_leaf, .combine = touch_combine},
		           .base = p,
		           .elem_size = elem_size};
		atomic_init(&t.range.failed, 0);
		node_part part = {&t.range, layout->start[k], layout->start[k + 1]};
		rf_val ignored;
		rf_fj_invoke_on(k, run_node_part, rf_from_ptr(&part), &ignored);
	}
	*out = p;
	return 0;
}

void rf_fold_numa_free(void *p, size_t n, size_t elem_size)
{
	if (p && elem_size && n <= SIZE_MAX / elem_size)
		topo_node_free(p, n * elem_size);
}

/* On node 0's pool: start the other nodes' parts, fold node 0's, combine in order. */
static int numa_root(rf_val arg, rf_val *out)
{
	fold_ctx *cx = rf_to_ptr(arg);
	const rf_numa_layout *l = cx->c->layout;
	fj_remote remote[RF_FOLD_MAX_NODES];
	node_part parts[RF_FOLD_MAX_NODES];
	for (int k = 0; k < l->nodes; k++)
		parts[k] = (node_part){&cx->range, l->start[k], l->start[k + 1]};
	for (int k = 1; k < l->nodes; k++)
		fj_remote_start(&remote[k], k, run_node_part, rf_from_ptr(&parts[k]));
	rf_val acc = RF_NIL, v;
	int rc = run_node_part(rf_from_ptr(&parts[0]), &acc);
	for (int k = 1; k < l->nodes; k++) {
		int prc = fj_remote_wait(&remote[k], &v); /* wait for all: their frames are here */
		if (rc < 0)
			continue;
		if ((rc = prc) < 0)
			continue;
		rf_val next = RF_NIL;
		rc = cx->combinef(acc, v, &next);
		acc = next;
	}
	*out = acc;
	return rc;
}

int r_fold_numa(fold_ctx *cx, rf_val *out)
{
	const rf_numa_layout *l = cx->c->layout;
	int nodes = rf_fj_nodes();
	if (nodes < 0)
		return nodes;
	if (l->nodes != nodes || l->start[0] != 0 || l->start[l->nodes] != cx->c->n)
		return -EINVAL;
	for (int k = 0; k < l->nodes; k++)
		if (l->start[k] > l->start[k + 1])
			return -EINVAL;
	return rf_fj_invoke_on(0, numa_root, rf_from_ptr(cx), out);
}
