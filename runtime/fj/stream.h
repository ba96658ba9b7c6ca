/* runtime/fj/stream.h: how the call-free leaf loops read their arrays (internal; no state).
 *
 * Those loops (leaf.c's fast leaves, leaf_known.c's kernel) run at memory speed: an element
 * costs less work than fetching its bytes from DRAM. The hardware prefetchers follow a
 * stream only within a 4 KiB page, so each page boundary restarts it: a TLB miss (a nested
 * page walk under a hypervisor) and demand misses until the prefetcher has learnt the new
 * page. r_stream() reads a page at a time and first prefetches the page RF_FOLD_AHEAD (4)
 * ahead, one line per page (rf_fold_prefetch, which RF_FOLD_BODY's loops use too), which
 * overlaps both with the reading of the current page. A prefetch never faults, so running
 * past the end of a leaf is harmless: at most four lines fetched for nothing, and usually
 * not even that, since a worker's next leaf starts where this one ends. The files holding
 * these loops are compiled with their loops aligned to 64 bytes (CMakeLists.txt here): a
 * loop that straddles a cache line runs at half speed in L2.
 */
#ifndef RF_FJ_STREAM_H
#define RF_FJ_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringfold/fold.h"

/* On x86-64 the call-free loops that gain from it (max, min, the known pipelines; not the
 * sum, see leaf.c) are compiled twice: for the baseline the library is built for (SSE2: two
 * 64-bit lanes, no 64-bit compare) and for AVX2 (four lanes, vpcmpgtq for rf_max and
 * rf_min). r_plan takes the AVX2 clone when r_avx2 says the CPU and the kernel support it. */
#if defined(__x86_64__) && !defined(__AVX2__)
#define R_AVX2_CLONES 1
#define R_AVX2 __attribute__((target("avx2")))
/* Set once before main by a constructor (leaf.c), read by r_plan on the thread that
 * starts a fold; a test clears it between its folds (no other thread folding) to run the
 * baseline clones. */
extern bool r_avx2;
#endif

#define R_PAGE RF_FOLD_PAGE
#define R_PAGE_ELEMS (R_PAGE / 8u) /* 8-byte elements */

/* block(p, k, st) over the m 8-byte elements at src: first up to three elements, up to a
 * 32-byte boundary (so that no 32-byte load of an AVX2 clone straddles two cache lines, each
 * such load costing two), then a page (R_PAGE_ELEMS) at a time, the last call taking what
 * is left; st is the loop's state (its accumulators). Inlined with its block, so that the
 * accumulators stay in registers across pages. */
static inline __attribute__((always_inline)) void
r_stream(const void *src, size_t m, void *st, void (*block)(const void *p, size_t k, void *st))
{
	const char *p = src;
	size_t head = ((uintptr_t)0 - (uintptr_t)p) % 32u / 8u;
	if (head && m > R_PAGE_ELEMS) {
		block(p, head, st);
		p += head * 8u;
		m -= head;
	}
	for (; m > R_PAGE_ELEMS; p += R_PAGE, m -= R_PAGE_ELEMS) {
		rf_fold_prefetch(p);
		block(p, R_PAGE_ELEMS, st);
	}
	block(p, m, st);
}

#endif
