/* runtime/sched/stack.c: fiber memory: a stack mapping per fiber, guard pages, pooled.
 *
 * A fiber is a struct sched_fiber from the allocator (64-byte aligned, so thousands share
 * a few pages) and a stack [guard (GUARD_PAGES pages)][stack (stack_size rounded up
 * to pages)]. The stack grows down towards the guard; touching the guard faults and
 * guard.c names the overflow. Stacks are mapped MAP_BATCH at a time, contiguous, in
 * one mmap (one syscall and one NUMA policy call for the lot); each is unmapped on its
 * own later. Nothing here writes to a stack: the fiber first does, on its worker
 * (fiber.c, start_once), so a burst of spawns from one thread does not pay every fresh
 * stack's first page fault on that thread (about 15 us each under some hypervisors).
 *
 * Guard. MADV_GUARD_INSTALL (Linux 6.13+) marks the guard pages in the page tables
 * without splitting the mapping, so a batch costs one VMA (one more per hole trimming
 * leaves). Older kernels get mprotect(PROT_NONE), which splits the mapping: two VMAs per
 * fiber, so with the default vm.max_map_count of 65,530 live fibers are capped near
 * 32,000 (raise the sysctl or use a 6.13+ kernel for more). The choice is made once, by
 * the first stack allocated.
 *
 * Pools. Each worker keeps dead fibers for reuse: `pool` (owner only, no atomics) for
 * the fibers it spawns itself, and `spare` (under spare_lock, at most POOL_SPARE) for
 * those other threads spawn onto it, so a burst of spawns, local or foreign, pays mmap
 * only beyond what an earlier burst left; the rest of a fresh batch goes to the pool
 * the caller drew from.
 *
 * Trimming by low-water mark. Only what a pool did not need for a whole window is
 * returned: stack_mark() starts a window (pool_low, spare_low := the pools' sizes),
 * every stack_get lowers the mark to the size it leaves, and at the end of the window
 * (TRIM_WINDOW_NS, worker.c, checked only when the worker is idle) stack_trim()
 * unmaps what stayed unused all along beyond POOL_KEEP, TRIM_BATCH at a time,
 * coming back every TRIM_PERIOD_NS while it stays idle. So stacks that bursts keep
 * reusing are never unmapped and faulted in again (munmap in a threaded process also
 * costs a TLB shoot-down on every CPU it runs on), while memory left over by a burst is
 * returned about a second later even if some fibers keep the worker busy meanwhile.
 * Stacks are allocated preferring the worker's node (topo_node_alloc) and their pages are
 * first touched by the fiber on that worker. A fiber asking for another stack size gets a
 * mapping of its own (stack_get_sized), unmapped when it ends instead of pooled.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "numa/topology.h"
#include "runtime/base/assert.h"
#include "runtime/sched/fiber.h"

#ifdef RF_ASAN
#include <sanitizer/asan_interface.h>
#endif

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

#define GUARD_PAGES 4
#define POOL_SPARE 8192
#define POOL_KEEP 256
#define TRIM_BATCH 64
#define MAP_BATCH 16 /* fibers mapped per mmap */

/* 0 = undecided, 1 = MADV_GUARD_INSTALL works, 2 = mprotect. Relaxed: every value a
 * racing reader can see leads to a working guard. */
static _Atomic int guard_mode;

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

size_t stack_guard_size(void)
{
	return GUARD_PAGES * page_size();
}

static int install_guard(char *p, size_t len)
{
	int mode = atomic_load_explicit(&guard_mode, memory_order_relaxed);
	if (mode != 2) {
		if (madvise(p, len, MADV_GUARD_INSTALL) == 0) {
			atomic_store_explicit(&guard_mode, 1, memory_order_relaxed);
			return 0;
		}
		if (errno != EINVAL)
			return -errno;
		atomic_store_explicit(&guard_mode, 2, memory_order_relaxed);
	}
	return mprotect(p, len, PROT_NONE) ? -errno : 0;
}

/* Map MAP_BATCH stacks in one go: one mmap (and one NUMA policy call) for the lot,
 * then each one's guard; each gets its struct from the allocator. Returns them linked
 * through `next`, or NULL on -ENOMEM. */
static sched_fiber *map_batch(sched_worker *w)
{
	size_t page = page_size();
	size_t guard = stack_guard_size();
	size_t stack = (sched_cfg.stack_size + page - 1) & ~(page - 1);
	size_t size = guard + stack;
	char *batch = topo_node_alloc(size * MAP_BATCH, w->os_node);
	if (!batch)
		return NULL;
	sched_fiber *list = NULL;
	for (int i = MAP_BATCH - 1; i >= 0; i--) {
		char *map = batch + (size_t)i * size;
		sched_fiber *f = aligned_alloc(64, (sizeof(sched_fiber) + 63) & ~(size_t)63);
		if (!f || install_guard(map, guard)) {
			/* the fibers made so far stay usable; the rest goes back */
			free(f);
			topo_node_free(batch, (size_t)(i + 1) * size);
			return list;
		}
		f->map = map;
		f->map_size = size;
		f->stack_lo = map + guard;
		f->stack_size = stack;
		f->next = list;
		list = f;
	}
	return list;
}

static void unmap_fiber(sched_fiber *f)
{
	topo_node_free(f->map, f->map_size);
	free(f);
}

/* A fresh batch: the first fiber for the caller, the others to the pool it would have
 * drawn from. */
static sched_fiber *map_fiber(sched_worker *w, bool owner)
{
	sched_fiber *f = map_batch(w);
	if (!f || !f->next)
		return f;
	sched_fiber *rest = f->next, *last = rest;
	int n = 1;
	for (; last->next; last = last->next)
		n++;
	if (owner) {
		last->next = w->pool;
		w->pool = rest;
		w->npool += n;
	} else {
		pthread_mutex_lock(&w->spare_lock);
		last->next = w->spare;
		w->spare = rest;
		w->nspare += n;
		pthread_mutex_unlock(&w->spare_lock);
	}
	return f;
}

sched_fiber *stack_get(sched_worker *w)
{
	sched_fiber *f = NULL;
	bool owner = sched_tls_worker == w;
	if (owner && w->pool) {
		f = w->pool;
		w->pool = f->next;
		w->npool--;
		if (w->npool < w->pool_low)
			w->pool_low = w->npool;
	} else {
		if (owner)
			w->pool_low = 0;
		pthread_mutex_lock(&w->spare_lock);
		if ((f = w->spare)) {
			w->spare = f->next;
			w->nspare--;
		}
		if (w->nspare < w->spare_low)
			w->spare_low = w->nspare;
		pthread_mutex_unlock(&w->spare_lock);
	}
	if (!f && !(f = map_fiber(w, owner)))
		return NULL;
	/* keep the mapping fields, reset the rest */
	char *map = f->map, *lo = f->stack_lo;
	size_t map_size = f->map_size, stack_size = f->stack_size;
	memset(f, 0, sizeof(*f));
	f->map = map;
	f->map_size = map_size;
	f->stack_lo = lo;
	f->stack_size = stack_size;
	f->w = w;
	return f;
}

static void forget_frames(sched_fiber *f)
{
#ifdef RF_ASAN
	/* frames left poisoned by a fiber that never returned, or by the last one */
	__asan_unpoison_memory_region(f->stack_lo, f->stack_size);
#else
	(void)f;
#endif
}

static bool spare_push(sched_worker *w, sched_fiber *f)
{
	bool ok = false;
	pthread_mutex_lock(&w->spare_lock);
	if (w->nspare < POOL_SPARE) {
		f->next = w->spare;
		w->spare = f;
		w->nspare++;
		ok = true;
	}
	pthread_mutex_unlock(&w->spare_lock);
	return ok;
}

sched_fiber *stack_get_sized(sched_worker *w, size_t size)
{
	size_t page = page_size();
	size_t guard = stack_guard_size();
	size_t stack = (size + page - 1) & ~(page - 1);
	char *map = topo_node_alloc(guard + stack, w->os_node);
	if (!map)
		return NULL;
	sched_fiber *f = aligned_alloc(64, (sizeof(sched_fiber) + 63) & ~(size_t)63);
	if (!f || install_guard(map, guard)) {
		free(f);
		topo_node_free(map, guard + stack);
		return NULL;
	}
	memset(f, 0, sizeof(*f));
	f->map = map;
	f->map_size = guard + stack;
	f->stack_lo = map + guard;
	f->stack_size = stack;
	f->own_map = true;
	f->w = w;
	return f;
}

void stack_put_spare(sched_worker *w, sched_fiber *f)
{
	forget_frames(f);
	if (f->own_map || !spare_push(w, f))
		unmap_fiber(f);
}

void stack_put(sched_worker *w, sched_fiber *f, bool foreign)
{
	RF_ASSERT(sched_tls_worker == w); /* owner only */
	forget_frames(f);
	if (f->own_map) {
		unmap_fiber(f);
		return;
	}
	if (foreign && spare_push(w, f))
		return;
	f->next = w->pool;
	w->pool = f;
	w->npool++;
}

bool stack_mark(sched_worker *w)
{
	RF_ASSERT(sched_tls_worker == w); /* owner only */
	w->pool_low = w->npool;
	pthread_mutex_lock(&w->spare_lock);
	w->spare_low = w->nspare;
	bool surplus = w->nspare > POOL_KEEP || w->npool > POOL_KEEP;
	pthread_mutex_unlock(&w->spare_lock);
	return surplus;
}

bool stack_trim(sched_worker *w)
{
	RF_ASSERT(sched_tls_worker == w); /* owner only */
	int n = 0;
	while (w->pool_low > POOL_KEEP && w->npool > POOL_KEEP && n < TRIM_BATCH) {
		sched_fiber *f = w->pool;
		w->pool = f->next;
		w->npool--;
		w->pool_low--;
		unmap_fiber(f);
		n++;
	}
	sched_fiber *list = NULL;
	pthread_mutex_lock(&w->spare_lock);
	while (w->spare_low > POOL_KEEP && w->nspare > POOL_KEEP && n < TRIM_BATCH) {
		sched_fiber *f = w->spare;
		w->spare = f->next;
		w->nspare--;
		w->spare_low--;
		f->next = list;
		list = f;
		n++;
	}
	bool more = (w->spare_low > POOL_KEEP && w->nspare > POOL_KEEP) ||
	            (w->pool_low > POOL_KEEP && w->npool > POOL_KEEP);
	pthread_mutex_unlock(&w->spare_lock);
	while (list) { /* unmapped outside the lock */
		sched_fiber *f = list;
		list = f->next;
		unmap_fiber(f);
	}
	return more;
}

void stack_drain(sched_worker *w)
{
	RF_ASSERT(sched_tls_worker == w); /* owner only */
	while (w->pool) {
		sched_fiber *f = w->pool;
		w->pool = f->next;
		unmap_fiber(f);
	}
	w->npool = 0;
	pthread_mutex_lock(&w->spare_lock);
	sched_fiber *s = w->spare;
	w->spare = NULL;
	w->nspare = 0;
	pthread_mutex_unlock(&w->spare_lock);
	while (s) {
		sched_fiber *f = s;
		s = f->next;
		unmap_fiber(f);
	}
}
