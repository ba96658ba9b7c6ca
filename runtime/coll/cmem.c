/* runtime/coll/cmem.c: the per-thread block caches behind collection nodes and versions
 * (cmem.h). Shared state: none but the flush key (made once): each thread's caches are its
 * own; blocks reach other threads only as malloc's, through free(), or as cslab's, through
 * cslab_give. A thread's caches are emptied when the thread exits (the key's destructor).
 * No lock, so nothing for fork() to leave held: a child keeps the forking thread's caches,
 * and cslab.c makes its own lock fork-safe. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "runtime/coll/cmem.h"
#include "runtime/coll/cslab.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CM_BYPASS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CM_BYPASS 1
#endif
#endif

enum {
	CM_GRAIN = CSLAB_GRAIN,
	CM_CLASSES = CSLAB_CLASSES, /* blocks up to 640 bytes: every node and version */
	CM_KEEP = 8,                /* malloc's blocks kept per class: at most 200 KB a thread */
	CM_NODE_KEEP = 16,          /* nodes kept per class: at most 400 KB a thread */
	CM_BATCH = 8,               /* nodes taken from or given to the slabs at a time */
	CM_BIG_DROP = 1024,         /* nodes freed by one drop that make it give its cache back */
};

/* Size 0 wraps past every class: malloc's and free's alone. */
static size_t class_of(size_t size)
{
	return (size - 1) / CM_GRAIN;
}

#ifndef CM_BYPASS
typedef struct cm_cache {
	void *head[CM_CLASSES]; /* free blocks, linked through their first word */
	uint8_t n[CM_CLASSES];
} cm_cache;

static _Thread_local struct {
	cm_cache blocks;     /* malloc's */
	cm_cache nodes;      /* cslab's */
	uint64_t node_frees; /* nodes this thread freed: tells a big drop (cmem_node_settle) */
	bool hooked;         /* the flush at thread exit is registered */
} tc __attribute__((tls_model("initial-exec"))); /* no TLS call */
static pthread_key_t flush_key;
static bool key_ok;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void *pop(cm_cache *c, size_t k)
{
	void *p = c->head[k];
	if (p) {
		c->head[k] = *(void **)p;
		c->n[k]--;
	}
	return p;
}

static void push(cm_cache *c, size_t k, void *p)
{
	*(void **)p = c->head[k];
	c->head[k] = p;
	c->n[k]++;
}

/* Every cached node back to the slabs. */
static void node_flush(void)
{
	for (size_t k = 0; k < CM_CLASSES; k++)
		while (tc.nodes.head[k]) {
			void *out[CM_NODE_KEEP];
			unsigned n = 0;
			while (n < CM_NODE_KEEP && (out[n] = pop(&tc.nodes, k)))
				n++;
			cslab_give(out, n);
		}
}

static void flush(void *arg)
{
	(void)arg;
	tc.hooked = false; /* a later destructor that frees here registers again */
	for (size_t k = 0; k < CM_CLASSES; k++) {
		void *p;
		while ((p = pop(&tc.blocks, k)))
			free(p);
	}
	node_flush();
}

static void make_key(void)
{
	key_ok = pthread_key_create(&flush_key, flush) == 0;
}

/* Whether this thread may keep blocks: only once their flush at exit is registered. */
static bool hooked(void)
{
	if (!tc.hooked) {
		pthread_once(&key_once, make_key);
		tc.hooked = key_ok && pthread_setspecific(flush_key, &tc) == 0;
	}
	return tc.hooked;
}
#endif

void *cmem_alloc(size_t size)
{
	size_t k = class_of(size);
	if (k >= CM_CLASSES)
		return malloc(size);
#ifndef CM_BYPASS
	void *p = pop(&tc.blocks, k);
	if (p)
		return p;
#endif
	return malloc((k + 1) * CM_GRAIN); /* the whole class: any size in it may reuse it */
}

#ifndef CM_BYPASS
/* Out of line, so that the common path of cmem_free saves no registers. */
__attribute__((noinline)) static void free_slow(void *p, size_t k)
{
	if (k < CM_CLASSES && tc.blocks.n[k] < CM_KEEP && hooked()) {
		push(&tc.blocks, k, p);
		return;
	}
	free(p);
}
#endif

void cmem_free(void *p, size_t size)
{
#ifndef CM_BYPASS
	size_t k = class_of(size);
	if (k < CM_CLASSES && tc.blocks.n[k] < CM_KEEP && tc.hooked && p) {
		push(&tc.blocks, k, p);
		return;
	}
	if (p)
		free_slow(p, k);
#else
	(void)size;
	free(p);
#endif
}

#ifndef CM_BYPASS
/* An empty node cache: a batch from the slabs, one for the caller and the rest kept. */
__attribute__((noinline)) static void *node_refill(size_t k)
{
	void *got[CM_BATCH];
	unsigned n = cslab_take((unsigned)k, got, hooked() ? CM_BATCH : 1);
	for (unsigned i = 1; i < n; i++)
		push(&tc.nodes, k, got[i]);
	return n ? got[0] : NULL;
}

/* A full node cache (or one not hooked yet): p and a batch of the cache to the slabs. */
__attribute__((noinline)) static void node_spill(void *p, size_t k)
{
	if (tc.nodes.n[k] < CM_NODE_KEEP && hooked()) {
		push(&tc.nodes, k, p);
		return;
	}
	void *out[CM_BATCH] = {p};
	unsigned n = 1;
	while (n < CM_BATCH && (out[n] = pop(&tc.nodes, k)))
		n++;
	cslab_give(out, n);
}
#endif

void *cmem_node_alloc(size_t size)
{
#ifndef CM_BYPASS
	size_t k = class_of(size);
	if (k < CM_CLASSES) {
		void *p = pop(&tc.nodes, k);
		return p ? p : node_refill(k);
	}
#endif
	return malloc(size);
}

void cmem_node_free(void *p, size_t size)
{
	if (!p)
		return;
#ifndef CM_BYPASS
	size_t k = class_of(size);
	tc.node_frees++;
	if (k < CM_CLASSES) {
		if (tc.nodes.n[k] < CM_NODE_KEEP && tc.hooked)
			push(&tc.nodes, k, p);
		else
			node_spill(p, k);
		return;
	}
#else
	(void)size;
#endif
	free(p);
}

uint64_t cmem_node_mark(void)
{
#ifndef CM_BYPASS
	return tc.node_frees;
#else
	return 0;
#endif
}

void cmem_node_settle(uint64_t mark)
{
#ifndef CM_BYPASS
	/* a big drop left its last blocks cached here, scattered over the slabs it emptied:
	 * given back, those slabs and regions can go */
	if (tc.node_frees - mark > CM_BIG_DROP)
		node_flush();
#else
	(void)mark;
#endif
}
