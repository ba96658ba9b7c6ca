/* cslab (runtime/coll/cslab.h), the hash map nodes' slabs, used directly: blocks are
 * aligned, of their class's size and disjoint; given back they are handed out again; a
 * region whose blocks are all back is unmapped (but one kept mapped); blocks taken on one
 * thread and given back on another (ASan and TSan builds run this too: cslab has no
 * sanitizer bypass); a released map gives its regions back through cmem's node cache
 * (release builds: sanitizer builds take nodes from malloc). Checks on other threads
 * abort with file and line. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "ringfold.h"
#include "runtime/coll/cslab.h"
#include "runtime/coll/hamt.h"

#define REGION ((uintptr_t)2 << 20)

/* Whether any page of [p, p + len) is mapped. */
static bool mapped(uintptr_t p, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	for (size_t off = 0; off < len; off += (size_t)page)
		if (msync((void *)(p + off), (size_t)page, MS_ASYNC) == 0 || errno != ENOMEM)
			return true;
	return false;
}

/* Blocks of every class, each filled with its own byte and checked after all were
 * taken: none overlaps another. Blocks given back are handed out again. */
static void blocks_disjoint_and_reused(void **state)
{
	(void)state;
	enum { PER = 300 };
	static void *b[CSLAB_CLASSES][PER];
	for (unsigned c = 0; c < CSLAB_CLASSES; c++) {
		size_t size = (c + 1) * CSLAB_GRAIN;
		for (unsigned i = 0; i < PER; i += 10)
			assert_int_equal(cslab_take(c, &b[c][i], 10), 10);
		for (unsigned i = 0; i < PER; i++) {
			assert_int_equal((uintptr_t)b[c][i] % 16, 0);
			memset(b[c][i], (int)(c * PER + i) & 0xff, size);
		}
	}
	for (unsigned c = 0; c < CSLAB_CLASSES; c++)
		for (unsigned i = 0; i < PER; i++) {
			const unsigned char *p = b[c][i];
			for (size_t j = 0; j < (c + 1) * CSLAB_GRAIN; j++)
				assert_int_equal(p[j], (c * PER + i) & 0xff);
		}
	/* blocks given back are the next ones handed out (class 7's one slab, partly used) */
	cslab_give(b[7], 10);
	void *again[10];
	assert_int_equal(cslab_take(7, again, 10), 10);
	for (unsigned i = 0; i < 10; i++) {
		bool found = false;
		for (unsigned j = 0; j < 10; j++)
			found |= again[i] == b[7][j];
		assert_true(found);
	}
	memcpy(b[7], again, sizeof(again));
	for (unsigned c = 0; c < CSLAB_CLASSES; c++)
		cslab_give(b[c], PER);
}

/* Three regions' worth of the largest blocks, given back: at most one region stays
 * mapped. */
static void empty_regions_unmapped(void **state)
{
	(void)state;
	enum { N = 10000 }; /* 640-byte blocks: about 3,260 fill a region */
	void **b = malloc(N * sizeof(*b));
	assert_non_null(b);
	assert_int_equal(cslab_take(CSLAB_CLASSES - 1, b, N), N);
	uintptr_t regions[8];
	unsigned nr = 0;
	for (unsigned i = 0; i < N; i++) {
		uintptr_t r = (uintptr_t)b[i] & ~(REGION - 1);
		bool known = false;
		for (unsigned j = 0; j < nr; j++)
			known |= regions[j] == r;
		if (!known) {
			assert_true(nr < 8);
			regions[nr++] = r;
		}
	}
	assert_true(nr >= 3);
	cslab_give(b, N);
	unsigned still = 0;
	for (unsigned j = 0; j < nr; j++)
		still += mapped(regions[j], REGION);
	assert_true(still <= 1);
	free(b);
}

/* Threads take batches, fill them, trade them through one slot and give back what
 * another thread took, after checking it. */
#define THREADS 4
#define ROUNDS 3000
#define BATCH 8
typedef struct batch {
	unsigned c, owner;
	void *b[BATCH];
} batch;
static _Atomic(batch *) slot;
static _Atomic long traded; /* batches given back by a thread that did not take them */

static void check_batch(const batch *t)
{
	for (unsigned i = 0; i < BATCH; i++) {
		const unsigned char *p = t->b[i];
		for (size_t j = 0; j < (t->c + 1) * CSLAB_GRAIN; j++)
			RF_CHECK(p[j] == (unsigned char)(t->owner + i));
	}
}

static void *trader(void *arg)
{
	unsigned me = (unsigned)(uintptr_t)arg;
	for (unsigned r = 0; r < ROUNDS; r++) {
		batch *t = malloc(sizeof(*t));
		RF_CHECK(t);
		t->c = (me * 7 + r) % CSLAB_CLASSES;
		t->owner = me;
		RF_CHECK(cslab_take(t->c, t->b, BATCH) == BATCH);
		for (unsigned i = 0; i < BATCH; i++)
			memset(t->b[i], (int)(me + i) & 0xff, (t->c + 1) * CSLAB_GRAIN);
		/* acq_rel: our writes to t go with it; we see the writes of its taker */
		batch *o = atomic_exchange_explicit(&slot, t, memory_order_acq_rel);
		if (!o)
			continue;
		check_batch(o);
		if (o->owner != me)
			atomic_fetch_add_explicit(&traded, 1, memory_order_relaxed);
		cslab_give(o->b, BATCH);
		free(o);
	}
	return NULL;
}

static void blocks_given_back_by_other_threads(void **state)
{
	(void)state;
	pthread_t th[THREADS];
	for (unsigned i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, trader, (void *)(uintptr_t)i), 0);
	for (unsigned i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	batch *o = atomic_exchange_explicit(&slot, NULL, memory_order_acquire);
	assert_non_null(o);
	check_batch(o);
	cslab_give(o->b, BATCH);
	free(o);
	assert_true(atomic_load_explicit(&traded, memory_order_relaxed) > 0);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NODES_FROM_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define NODES_FROM_MALLOC 1
#endif
#endif

#ifndef NODES_FROM_MALLOC
/* The regions under n into r (distinct, at most 64). */
static void regions_of(const hnode *n, uintptr_t *r, unsigned *nr)
{
	uintptr_t base = (uintptr_t)n & ~(REGION - 1);
	bool known = false;
	for (unsigned j = 0; j < *nr; j++)
		known |= r[j] == base;
	if (!known) {
		assert_true(*nr < 64);
		r[(*nr)++] = base;
	}
	for (uint32_t j = 0; j < h_children(n); j++)
		regions_of(h_kid(n, j), r, nr);
}
#endif

/* A map of 300,000 keys, built persistently and through a transient, then released:
 * the drop gives the thread's cached nodes back, so at most the spare region stays. */
static void released_map_gives_regions_back(void **state)
{
	(void)state;
#ifdef NODES_FROM_MALLOC
	skip();
#else
	rf_phm *m, *n;
	rf_thm *t;
	assert_int_equal(rf_phm_new(NULL, &m), 0);
	for (int64_t i = 0; i < 100000; i++) {
		assert_int_equal(rf_phm_assoc(m, i, i, &n), 0);
		rf_phm_release(m);
		m = n;
	}
	assert_int_equal(rf_phm_transient(m, &t), 0);
	rf_phm_release(m);
	for (int64_t i = 100000; i < 300000; i++)
		assert_int_equal(rf_thm_assoc(t, i, i), 0);
	assert_int_equal(rf_thm_persistent(t, &m), 0);
	uintptr_t r[64];
	unsigned nr = 0;
	regions_of(m->root, r, &nr);
	assert_true(nr >= 3);
	rf_phm_release(m);
	unsigned still = 0;
	for (unsigned j = 0; j < nr; j++)
		still += mapped(r[j], REGION);
	assert_true(still <= 1);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(blocks_disjoint_and_reused),
	    cmocka_unit_test(empty_regions_unmapped),
	    cmocka_unit_test(blocks_given_back_by_other_threads),
	    cmocka_unit_test(released_map_gives_regions_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
