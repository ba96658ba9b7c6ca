/* runtime/coll/cmem.c: the per-thread block cache behind collection nodes and versions
 * (cmem.h). Shared state: none but the flush key (made once): each thread's cache is its
 * own; blocks reach other threads only as malloc's, through free(). A thread's cache is
 * emptied into free() when the thread exits (the key's destructor). */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "runtime/coll/cmem.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CM_BYPASS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CM_BYPASS 1
#endif
#endif

enum {
	CM_GRAIN = 16,
	CM_CLASSES = 40, /* blocks up to 640 bytes: every map node, vector node and version */
	CM_KEEP = 8,     /* blocks kept per class: at most 8 * 640 * 40 = 200 KB a thread */
};

#ifndef CM_BYPASS
typedef struct cm_cache {
	void *head[CM_CLASSES]; /* free blocks, linked through their first word */
	uint8_t n[CM_CLASSES];
	bool hooked; /* the flush at thread exit is registered */
} cm_cache;

static _Thread_local cm_cache cache __attribute__((tls_model("initial-exec"))); /* no TLS call */
static pthread_key_t flush_key;
static bool key_ok;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void flush(void *arg)
{
	cm_cache *c = arg;
	c->hooked = false; /* a later destructor that frees here registers again */
	for (int i = 0; i < CM_CLASSES; i++)
		while (c->head[i]) {
			void *p = c->head[i];
			c->head[i] = *(void **)p;
			free(p);
		}
	for (int i = 0; i < CM_CLASSES; i++)
		c->n[i] = 0;
}

static void make_key(void)
{
	key_ok = pthread_key_create(&flush_key, flush) == 0;
}

/* Whether this thread may keep blocks: only once their flush at exit is registered. */
static bool hooked(void)
{
	if (!cache.hooked) {
		pthread_once(&key_once, make_key);
		cache.hooked = key_ok && pthread_setspecific(flush_key, &cache) == 0;
	}
	return cache.hooked;
}
#endif

void *cmem_alloc(size_t size)
{
	size_t c = size ? (size - 1) / CM_GRAIN : 0;
	if (c >= CM_CLASSES)
		return malloc(size);
#ifndef CM_BYPASS
	void *p = cache.head[c];
	if (p) {
		cache.head[c] = *(void **)p;
		cache.n[c]--;
		return p;
	}
#endif
	return malloc((c + 1) * CM_GRAIN); /* the whole class: any size in it may reuse it */
}

#ifndef CM_BYPASS
/* Out of line, so that the common path of cmem_free saves no registers. */
__attribute__((noinline)) static void free_slow(void *p, size_t c)
{
	if (c < CM_CLASSES && cache.n[c] < CM_KEEP && hooked()) {
		*(void **)p = cache.head[c];
		cache.head[c] = p;
		cache.n[c]++;
		return;
	}
	free(p);
}
#endif

void cmem_free(void *p, size_t size)
{
#ifndef CM_BYPASS
	size_t c = size ? (size - 1) / CM_GRAIN : 0;
	if (p && c < CM_CLASSES && cache.n[c] < CM_KEEP && cache.hooked) {
		*(void **)p = cache.head[c];
		cache.head[c] = p;
		cache.n[c]++;
		return;
	}
	if (p)
		free_slow(p, c);
#else
	(void)size;
	free(p);
#endif
}
