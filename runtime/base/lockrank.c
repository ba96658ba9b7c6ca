/* runtime/base/lockrank.c: the checks of lockrank.h and assert.h (debug builds only).
 *
 * Each thread keeps the ranked locks it holds (held[], thread-local, so no sharing) and
 * how many of them are spin locks. Fibers switch on a thread only while holding none
 * (checked at every park and yield), so a thread's stack is also its running fiber's.
 */
#ifdef RF_DEBUG_INVARIANTS
#include <stdio.h>
#include <stdlib.h>

#include "runtime/base/lockrank.h"

#define HELD_MAX 64

static const char *const names[LOCKRANK_COUNT] = {[LOCKRANK_NONE] = "unranked",
#define LOCKRANK_NAME(name, ordered) [LOCKRANK_##name] = #name,
                                                  LOCKRANK_LIST(LOCKRANK_NAME)
#undef LOCKRANK_NAME
};

static const bool address_ordered[LOCKRANK_COUNT] = {
#define LOCKRANK_ORDERED(name, ordered) [LOCKRANK_##name] = ordered,
    LOCKRANK_LIST(LOCKRANK_ORDERED)
#undef LOCKRANK_ORDERED
};

static _Thread_local struct {
	int n, spins;
	struct {
		int rank;
		const void *addr;
		bool spin;
	} held[HELD_MAX];
} tls;

void rf_assert_failed(const char *file, int line, const char *what)
{
	fprintf(stderr, "ringfold: %s:%d: invariant violated: %s\n", file, line, what);
	fflush(stderr);
	abort();
}

static void fail(const char *fmt, const char *a, const char *b, const void *pa, const void *pb)
{
	fprintf(stderr, "ringfold: lock order: ");
	fprintf(stderr, fmt, a, pa, b, pb);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

void lockrank_acquire(int rank, const void *addr, bool spin)
{
	if (rank == LOCKRANK_NONE)
		return;
	for (int i = 0; i < tls.n; i++) {
		int r = tls.held[i].rank;
		const void *a = tls.held[i].addr;
		if (a == addr)
			fail("acquiring %s (%p) again while holding it (%s, %p)", names[rank],
			     names[r], addr, a);
		if (r < rank)
			continue;
		if (r == rank && address_ordered[rank] && (uintptr_t)a < (uintptr_t)addr)
			continue;
		fail("acquiring %s (%p) while holding %s (%p)", names[rank], names[r], addr, a);
	}
	if (tls.spins > 0 && !spin)
		fail("acquiring %s (%p), a sleeping lock, while holding spin lock %s (%p)",
		     names[rank], names[tls.held[tls.n - 1].rank], addr, tls.held[tls.n - 1].addr);
	if (tls.n == HELD_MAX)
		rf_assert_failed(__FILE__, __LINE__, "more than HELD_MAX locks held");
	tls.held[tls.n].rank = rank;
	tls.held[tls.n].addr = addr;
	tls.held[tls.n].spin = spin;
	tls.n++;
	tls.spins += spin;
}

void lockrank_release(int rank, const void *addr, bool spin)
{
	if (rank == LOCKRANK_NONE)
		return;
	for (int i = tls.n - 1; i >= 0; i--)
		if (tls.held[i].addr == addr) {
			for (int j = i; j + 1 < tls.n; j++)
				tls.held[j] = tls.held[j + 1];
			tls.n--;
			tls.spins -= spin;
			return;
		}
	fprintf(stderr, "ringfold: releasing %s (%p), which this thread does not hold\n",
	        names[rank], addr);
	abort();
}

void lockrank_no_spin(const char *what, const char *file, int line)
{
	if (tls.spins == 0)
		return;
	for (int i = tls.n - 1; i >= 0; i--)
		if (tls.held[i].spin) {
			fprintf(stderr, "ringfold: %s:%d: %s while holding spin lock %s (%p)\n",
			        file, line, what, names[tls.held[i].rank], tls.held[i].addr);
			break;
		}
	fflush(stderr);
	abort();
}

static _Thread_local bool alloc_failing;

void debug_alloc_fail_set(bool fail)
{
	alloc_failing = fail;
}

bool debug_alloc_fails(const char *what, const char *file, int line)
{
	lockrank_no_spin(what, file, line);
	return alloc_failing;
}

void lockrank_none_held(const char *what, const char *file, int line)
{
	if (tls.n == 0)
		return;
	fprintf(stderr, "ringfold: %s:%d: %s while holding %s (%p)\n", file, line, what,
	        names[tls.held[tls.n - 1].rank], tls.held[tls.n - 1].addr);
	fflush(stderr);
	abort();
}
#endif
