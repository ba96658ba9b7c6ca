/* runtime/coll/cslab.c: slabs of hash map nodes in huge-page regions (cslab.h).
 *
 * Contract (shared state). The class lists, the region list, `spare`, and every slab's and
 * region's header are read and written only under `lock`, a plain mutex: a leaf (nothing
 * is taken under it), never taken under a spin lock (like malloc), and a region is mapped
 * and unmapped while it is held. A block handed out is its holder's alone: this file
 * writes its first word (the free-list link) only after cslab_give, and the mutex orders
 * the giver's last use of the block before the next taker's first.
 *
 * fork(). The forking thread holds `lock` across the fork (a pthread_atfork prepare
 * handler takes it, installed on the first take), so the child's copy of the lists is
 * one no thread was changing; the child initializes `lock` anew, the parent unlocks it.
 * Blocks in the caches of threads the child does not have stay out for good there.
 *
 * Layout. A region is REGION bytes at a REGION-aligned address; its first HEAD bytes are
 * its header. Each of its SLABS slabs keeps its header at slab + HEAD (the region header's
 * room is left unused in the others), and blocks from slab + 2 * HEAD on, so a block finds
 * its slab and region by masking its address. A slab in use serves one class; it is on its
 * class's list while it has a block to hand out (a given-back one or one never handed out).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>

#include "runtime/base/lockrank.h"
#include "runtime/coll/cslab.h"

enum {
	SLAB = 64 << 10,
	REGION = 2 << 20,      /* one huge page */
	SLABS = REGION / SLAB, /* 32: a region's free slabs are a 32-bit mask */
	HEAD = 64,
};

typedef struct clink {
	struct clink *next, *prev;
} clink;

typedef struct region {
	clink l;           /* on `regions` while it has a free slab */
	uint32_t freemask; /* bit k: slab k is free */
} region;

typedef struct slab {
	clink l;       /* on its class's list while it has a block to hand out */
	void *free;    /* blocks given back, linked through their first word */
	uint32_t bump; /* offset of the first block never handed out */
	uint32_t live; /* blocks out */
	uint32_t size; /* its class's block size */
} slab;

_Static_assert(sizeof(region) <= HEAD && sizeof(slab) <= HEAD, "headers fit");
_Static_assert(SLABS == 32, "freemask");

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static clink *classes[CSLAB_CLASSES]; /* slabs with a block to hand out, by class */
static clink *regions;                /* regions with a free slab */
static region *spare;                 /* an empty region kept mapped, or NULL */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static slab *slab_of(const void *p)
{
	return (slab *)(((uintptr_t)p & ~(uintptr_t)(SLAB - 1)) + HEAD);
}

static region *region_of(const void *p)
{
	return (region *)((uintptr_t)p & ~(uintptr_t)(REGION - 1));
}

static bool has_block(const slab *s)
{
	return s->free || s->bump + s->size <= SLAB;
}

/* The lists of slabs and of regions: both headers start with a link. */
static void list_push(clink **head, clink *x)
{
	x->prev = NULL;
	x->next = *head;
	if (*head)
		(*head)->prev = x;
	*head = x;
}

static void list_unlink(clink **head, clink *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		*head = x->next;
	if (x->next)
		x->next->prev = x->prev;
}

/* A fresh region on `regions`, or NULL. Under lock. */
static region *region_map(void)
{
	/* twice the size, so that an aligned region lies inside; the rest is unmapped */
	char *m =
	    mmap(NULL, 2 * REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	char *base = (char *)(((uintptr_t)m + REGION - 1) & ~(uintptr_t)(REGION - 1));
	if (base > m)
		munmap(m, (size_t)(base - m));
	munmap(base + REGION, (size_t)(m + REGION - base));
	madvise(base, REGION, MADV_HUGEPAGE); /* a hint: without it, 4 KB pages still work */
	region *r = (region *)base;
	r->freemask = UINT32_MAX;
	list_push(&regions, &r->l);
	return r;
}

/* A slab of `size` blocks on class c's list, or NULL. Under lock. */
static slab *slab_new(unsigned c, uint32_t size)
{
	region *r = regions ? (region *)regions : region_map();
	if (!r)
		return NULL;
	if (r == spare)
		spare = NULL;
	unsigned k = (unsigned)__builtin_ctz(r->freemask);
	r->freemask &= ~(1u << k);
	if (!r->freemask)
		list_unlink(&regions, &r->l);
	slab *s = (slab *)((char *)r + (size_t)k * SLAB + HEAD);
	s->free = NULL;
	s->bump = 2 * HEAD;
	s->live = 0;
	s->size = size;
	list_push(&classes[c], &s->l);
	return s;
}

/* s, empty and off its class's list, back to its region. Under lock. */
static void slab_release(slab *s)
{
	region *r = region_of(s);
	if (!r->freemask)
		list_push(&regions, &r->l);
	r->freemask |= 1u << (((uintptr_t)s - (uintptr_t)r) / SLAB);
	if (r->freemask != UINT32_MAX)
		return;
	if (!spare) {
		spare = r;
		return;
	}
	list_unlink(&regions, &r->l);
	munmap(r, REGION);
}

static void fork_prepare(void)
{
	pthread_mutex_lock(&lock);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&lock);
}

static void fork_child(void)
{
	pthread_mutex_init(&lock, NULL);
}

/* Not under lock: a fork running the prepare handlers holds glibc's handler list. */
static void install_atfork(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

unsigned cslab_take(unsigned c, void **out, unsigned want)
{
	LOCKRANK_NO_SPIN("cslab_take");
	uint32_t size = (c + 1) * CSLAB_GRAIN;
	unsigned n = 0;
	pthread_once(&atfork_once, install_atfork);
	pthread_mutex_lock(&lock);
	while (n < want) {
		slab *s = (slab *)classes[c];
		if (!s && !(s = slab_new(c, size)))
			break;
		char *p = s->free;
		if (p) {
			s->free = *(void **)p;
		} else {
			p = (char *)s - HEAD + s->bump;
			s->bump += size;
		}
		s->live++;
		out[n++] = p;
		if (!has_block(s))
			list_unlink(&classes[c], &s->l);
	}
	pthread_mutex_unlock(&lock);
	return n;
}

void cslab_give(void *const *blocks, unsigned n)
{
	LOCKRANK_NO_SPIN("cslab_give");
	pthread_mutex_lock(&lock);
	for (unsigned i = 0; i < n; i++) {
		slab *s = slab_of(blocks[i]);
		unsigned c = s->size / CSLAB_GRAIN - 1;
		bool listed = has_block(s);
		*(void **)blocks[i] = s->free;
		s->free = blocks[i];
		if (--s->live == 0) {
			if (listed)
				list_unlink(&classes[c], &s->l);
			slab_release(s);
		} else if (!listed) {
			list_push(&classes[c], &s->l);
		}
	}
	pthread_mutex_unlock(&lock);
}
