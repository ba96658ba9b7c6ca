/* runtime/fj/deque.h: the work-stealing deque of one fork/join worker (internal).
 *
 * Chase-Lev, in the C11 form of Le, Pop, Cohen and Zappa Nardelli (PPoPP 2013), with the
 * owner's store-fence-load in take() written as a seq_cst exchange and seq_cst loads (one
 * locked instruction on x86, no mfence), the form TSan also understands.
 *
 * Synchronization table:
 *   field   written by              read by
 *   bottom  owner (push, take)      owner; thieves (steal)
 *   top_seen owner                  owner
 *   top     thieves and owner, CAS  owner; thieves
 *   array   owner (grow)            owner; thieves
 *   slots   owner (push, grow copy) owner; thieves after reading bottom
 *
 * Owner-only: dq_push, dq_take, dq_size_owner. Any thread: dq_steal, dq_looks_empty.
 * Pairings: push's release store of bottom publishes the slot (and the task it points to)
 * to a thief's seq_cst load of bottom; grow's release store of array pairs with the
 * acquire load in steal. take and steal race for the last element through the CAS on
 * top; the seq_cst order of take's exchange of bottom and steal's loads makes at least
 * one of them see the other (the Dekker argument of the paper).
 * Retired arrays are kept until the pool is destroyed: a slow thief may still read one.
 */
#ifndef RF_FJ_DEQUE_H
#define RF_FJ_DEQUE_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/base/assert.h"

struct fj_task;

typedef struct fj_array {
	int64_t mask;             /* capacity - 1; capacity a power of two */
	struct fj_array *retired; /* older array this one replaced (owner's list) */
	size_t bytes;             /* mapping size, for topo_node_free */
	_Atomic(struct fj_task *) slot[];
} fj_array;

typedef struct fj_deque {
	_Alignas(64) _Atomic int64_t top;    /* thieves' line */
	_Alignas(64) _Atomic int64_t bottom; /* owner's line */
	int64_t top_seen; /* owner only: a past value of top (top never decreases) */
	_Atomic(fj_array *) array;
	int os_node; /* where grown arrays are placed */
#ifdef RF_DEBUG_INVARIANTS
	_Atomic(uintptr_t) owner; /* the thread of the first owner-side call */
#endif
} fj_deque;

/* Debug builds: the owner side runs on one thread, the first that used it. */
static inline void dq_assert_owner(fj_deque *d)
{
#ifdef RF_DEBUG_INVARIANTS
	uintptr_t me = (uintptr_t)pthread_self(), was = 0;
	if (!atomic_compare_exchange_strong_explicit(&d->owner, &was, me, memory_order_relaxed,
	                                             memory_order_relaxed))
		RF_ASSERT(was == me);
#else
	(void)d;
#endif
}

#define FJ_STEAL_EMPTY ((struct fj_task *)0)
#define FJ_STEAL_ABORT ((struct fj_task *)1)

int dq_init(fj_deque *d, int os_node);
void dq_destroy(fj_deque *d);
int dq_grow(fj_deque *d, int64_t t, int64_t b); /* owner; 0 or -ENOMEM */

/* Owner: push t. Returns 0, or -ENOMEM when the deque cannot grow. */
static inline int dq_push(fj_deque *d, struct fj_task *t)
{
	dq_assert_owner(d);
	int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
	fj_array *a = atomic_load_explicit(&d->array, memory_order_relaxed);
	/* top_seen <= top, so this overestimates the size: the thieves' line is read only
	 * when the deque may be full. */
	if (b - d->top_seen > a->mask) {
		d->top_seen = atomic_load_explicit(&d->top, memory_order_acquire);
		if (b - d->top_seen > a->mask) {
			if (dq_grow(d, d->top_seen, b) < 0)
				return -ENOMEM;
			a = atomic_load_explicit(&d->array, memory_order_relaxed);
		}
	}
	atomic_store_explicit(&a->slot[b & a->mask], t, memory_order_relaxed);
	/* Release: a thief that sees bottom = b + 1 sees the slot and the task's fields. */
	atomic_store_explicit(&d->bottom, b + 1, memory_order_release);
	return 0;
}

/* Owner: take the most recently pushed task, or NULL. */
static inline struct fj_task *dq_take(fj_deque *d)
{
	dq_assert_owner(d);
	int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed) - 1;
	fj_array *a = atomic_load_explicit(&d->array, memory_order_relaxed);
	/* seq_cst exchange + seq_cst load: the store-load order the paper gets from a fence. */
	atomic_exchange_explicit(&d->bottom, b, memory_order_seq_cst);
	int64_t t = atomic_load_explicit(&d->top, memory_order_seq_cst);
	d->top_seen = t; /* an acquire read of top, as push's check needs */
	if (t > b) {     /* empty: undo */
		atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
		return NULL;
	}
	struct fj_task *x = atomic_load_explicit(&a->slot[b & a->mask], memory_order_relaxed);
	if (t == b) { /* last one: race the thieves for it */
		if (!atomic_compare_exchange_strong_explicit(
		        &d->top, &t, t + 1, memory_order_seq_cst, memory_order_relaxed))
			x = NULL;
		atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
	}
	return x;
}

/* Any thread: steal the oldest task. FJ_STEAL_EMPTY, FJ_STEAL_ABORT (lost a race), or
 * the task, now owned by the caller. A nonzero *veto (if given), read after bottom,
 * refuses the steal: the owner raises it before pushing the tasks it protects, so a thief
 * that sees such a task (bottom's acquire) sees the veto. */
static inline struct fj_task *dq_steal(fj_deque *d, _Atomic uint32_t *veto)
{
	int64_t t = atomic_load_explicit(&d->top, memory_order_seq_cst);
	int64_t b = atomic_load_explicit(&d->bottom, memory_order_seq_cst);
	if (t >= b || (veto && atomic_load_explicit(veto, memory_order_relaxed)))
		return FJ_STEAL_EMPTY;
	/* Acquire pairs with grow's release store: the copied slots are visible. */
	fj_array *a = atomic_load_explicit(&d->array, memory_order_acquire);
	struct fj_task *x = atomic_load_explicit(&a->slot[t & a->mask], memory_order_relaxed);
	if (!atomic_compare_exchange_strong_explicit(&d->top, &t, t + 1, memory_order_seq_cst,
	                                             memory_order_relaxed))
		return FJ_STEAL_ABORT;
	return x;
}

/* Any thread, a hint only: true when the deque held nothing at the moment of reading. */
static inline int dq_looks_empty(fj_deque *d)
{
	int64_t t = atomic_load_explicit(&d->top, memory_order_relaxed);
	return atomic_load_explicit(&d->bottom, memory_order_relaxed) <= t;
}

#endif
