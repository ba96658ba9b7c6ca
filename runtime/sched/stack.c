/* runtime/sched/stack.c: fiber memory: one mapping per fiber, guard page, pooled.
 *
 * Layout of a mapping: [guard (RF_GUARD_PAGES pages)][stack ...][struct rf_fiber]: the
 * fiber's struct sits at the very top, in the page the stack starts in, so a fresh
 * fiber costs one page fault, not two. The stack grows down towards the guard; touching
 * the guard faults and guard.c names the overflow. The usable stack is stack_size
 * rounded up to pages, less the struct (a few hundred bytes).
 *
 * Guard. MADV_GUARD_INSTALL (Linux 6.13+) marks the guard pages in the page tables
 * without splitting the mapping, so each fiber costs one VMA. Older kernels get
 * mprotect(PROT_NONE), which splits the mapping in two VMAs: with the default
 * vm.max_map_count of 65,530 that caps live fibers near 32,000 (raise the sysctl or use
 * a 6.13+ kernel for more). The choice is made once, by the first stack allocated.
 *
 * Pools. Each worker keeps dead fibers for reuse: `pool` (owner only, no atomics) and,
 * beyond RF_POOL_LOCAL of them, `spare` (under spare_lock) which other threads spawning
 * onto this worker draw from, so a foreign spawn rarely pays an mmap. Beyond
 * RF_POOL_SPARE more, mappings are unmapped. Memory is allocated preferring the worker's
 * node (rf_node_alloc) and its pages are first touched by the fiber on that worker.
 */
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "numa/topology.h"
#include "runtime/sched/fiber.h"

#ifdef RF_ASAN
#include <sanitizer/asan_interface.h>
#endif

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

#define RF_GUARD_PAGES 4
#define RF_POOL_LOCAL 1024
#define RF_POOL_SPARE 1024

/* 0 = undecided, 1 = MADV_GUARD_INSTALL works, 2 = mprotect. Relaxed: every value a
 * racing reader can see leads to a working guard. */
static _Atomic int guard_mode;

static size_t page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }

size_t rf_stack_guard_size(void) { return RF_GUARD_PAGES * page_size(); }

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

static rf_fiber *map_fiber(rf_worker *w)
{
	size_t page = page_size();
	size_t guard = rf_stack_guard_size();
	size_t stack = (rf_rt_config.stack_size + page - 1) & ~(page - 1);
	size_t size = guard + stack;
	char *map = rf_node_alloc(size, w->os_node);
	if (!map)
		return NULL;
	if (install_guard(map, guard)) {
		rf_node_free(map, size);
		return NULL;
	}
	rf_fiber *f = (rf_fiber *)(map + size - ((sizeof(rf_fiber) + 63) & ~(size_t)63));
	f->map = map;
	f->map_size = size;
	f->stack_lo = map + guard;
	f->stack_size = (size_t)((char *)f - f->stack_lo);
	return f;
}

static void unmap_fiber(rf_fiber *f) { rf_node_free(f->map, f->map_size); }

rf_fiber *rf_stack_get(rf_worker *w)
{
	rf_fiber *f = NULL;
	if (rf_tls_worker == w && w->pool) {
		f = w->pool;
		w->pool = f->next;
		w->npool--;
	} else {
		pthread_mutex_lock(&w->spare_lock);
		if ((f = w->spare)) {
			w->spare = f->next;
			w->nspare--;
		}
		pthread_mutex_unlock(&w->spare_lock);
	}
	if (!f && !(f = map_fiber(w)))
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

static void forget_frames(rf_fiber *f)
{
#ifdef RF_ASAN
	/* frames left poisoned by a fiber that never returned, or by the last one */
	__asan_unpoison_memory_region(f->stack_lo, f->stack_size);
#else
	(void)f;
#endif
}

void rf_stack_put_spare(rf_worker *w, rf_fiber *f)
{
	forget_frames(f);
	pthread_mutex_lock(&w->spare_lock);
	if (w->nspare < RF_POOL_SPARE) {
		f->next = w->spare;
		w->spare = f;
		w->nspare++;
		f = NULL;
	}
	pthread_mutex_unlock(&w->spare_lock);
	if (f)
		unmap_fiber(f);
}

void rf_stack_put(rf_worker *w, rf_fiber *f)
{
	if (w->npool < RF_POOL_LOCAL) {
		forget_frames(f);
		f->next = w->pool;
		w->pool = f;
		w->npool++;
		return;
	}
	rf_stack_put_spare(w, f);
}

void rf_stack_drain(rf_worker *w)
{
	while (w->pool) {
		rf_fiber *f = w->pool;
		w->pool = f->next;
		unmap_fiber(f);
	}
	w->npool = 0;
	pthread_mutex_lock(&w->spare_lock);
	rf_fiber *s = w->spare;
	w->spare = NULL;
	w->nspare = 0;
	pthread_mutex_unlock(&w->spare_lock);
	while (s) {
		rf_fiber *f = s;
		s = f->next;
		unmap_fiber(f);
	}
}
