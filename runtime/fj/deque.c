/* runtime/fj/deque.c: growing and freeing the work-stealing deque's arrays (see deque.h). */
#include <errno.h>

#include "numa/topology.h"
#include "runtime/fj/deque.h"

#define DQ_INITIAL 1024

static fj_array *array_new(int64_t cap, int os_node)
{
	size_t bytes = sizeof(fj_array) + (size_t)cap * sizeof(_Atomic(struct fj_task *));
	fj_array *a = topo_node_alloc(bytes, os_node);
	if (!a)
		return NULL;
	a->mask = cap - 1;
	a->retired = NULL;
	a->bytes = bytes;
	return a; /* mmap'd: slots start zeroed, which atomic_init would write anyway */
}

int dq_init(fj_deque *d, int os_node)
{
	fj_array *a = array_new(DQ_INITIAL, os_node);
	if (!a)
		return -ENOMEM;
	atomic_init(&d->top, 0);
	atomic_init(&d->bottom, 0);
	d->top_seen = 0;
	atomic_init(&d->array, a);
	d->os_node = os_node;
#ifdef RF_DEBUG_INVARIANTS
	atomic_init(&d->owner, 0);
#endif
	return 0;
}

int dq_grow(fj_deque *d, int64_t t, int64_t b)
{
	fj_array *old = atomic_load_explicit(&d->array, memory_order_relaxed);
	fj_array *a = array_new((old->mask + 1) * 2, d->os_node);
	if (!a)
		return -ENOMEM;
	for (int64_t i = t; i < b; i++)
		atomic_store_explicit(
		    &a->slot[i & a->mask],
		    atomic_load_explicit(&old->slot[i & old->mask], memory_order_relaxed),
		    memory_order_relaxed);
	a->retired = old;
	/* Release: a thief that loads the new array sees the copied slots. */
	atomic_store_explicit(&d->array, a, memory_order_release);
	return 0;
}

void dq_destroy(fj_deque *d)
{
	fj_array *a = atomic_load_explicit(&d->array, memory_order_relaxed);
	while (a) {
		fj_array *next = a->retired;
		topo_node_free(a, a->bytes);
		a = next;
	}
	atomic_store_explicit(&d->array, NULL, memory_order_relaxed);
}
