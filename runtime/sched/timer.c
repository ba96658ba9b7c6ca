/* runtime/sched/timer.c: each worker's deadlines, a pairing heap of parked fibers.
 *
 * Owner worker only: no atomics, no locks. Intrusive (the nodes are the fibers, see
 * t_child / t_sibling / t_prev in fiber.h) so arming a timer never allocates and cannot
 * fail. Insert O(1), remove-min and remove O(log n) amortized.
 * Invariants: a root has t_prev == t_sibling == NULL; for any other node t_prev is its
 * parent when it is the leftmost child, else its left sibling; every child's deadline is
 * >= its parent's; f->armed <=> f is in the heap.
 */
#include <stddef.h>

#include "runtime/base/assert.h"
#include "runtime/sched/fiber.h"

/* Two roots become one. */
static sched_fiber *meld(sched_fiber *a, sched_fiber *b)
{
	if (b->deadline < a->deadline) {
		sched_fiber *t = a;
		a = b;
		b = t;
	}
	b->t_prev = a;
	b->t_sibling = a->t_child;
	if (a->t_child)
		a->t_child->t_prev = b;
	a->t_child = b;
	return a;
}

/* Two-pass pairing of a sibling list into one root. */
static sched_fiber *merge_pairs(sched_fiber *a)
{
	sched_fiber *pairs = NULL; /* melded pairs, last first, linked by t_sibling */
	while (a) {
		sched_fiber *b = a->t_sibling;
		sched_fiber *next = b ? b->t_sibling : NULL;
		a->t_sibling = a->t_prev = NULL;
		if (b) {
			b->t_sibling = b->t_prev = NULL;
			a = meld(a, b);
		}
		a->t_sibling = pairs;
		pairs = a;
		a = next;
	}
	if (!pairs)
		return NULL;
	sched_fiber *root = pairs;
	pairs = pairs->t_sibling;
	root->t_sibling = NULL;
	while (pairs) {
		sched_fiber *next = pairs->t_sibling;
		pairs->t_sibling = NULL;
		root = meld(root, pairs);
		pairs = next;
	}
	return root;
}

void timer_insert(sched_worker *w, sched_fiber *f)
{
	RF_ASSERT(sched_tls_worker == w); /* owner only */
	f->t_child = f->t_sibling = f->t_prev = NULL;
	f->armed = true;
	w->timers = w->timers ? meld(w->timers, f) : f;
}

void timer_remove(sched_worker *w, sched_fiber *f)
{
	RF_ASSERT(sched_tls_worker == w); /* owner only */
	RF_ASSERT(f->armed);
	f->armed = false;
	if (f == w->timers) {
		w->timers = merge_pairs(f->t_child);
		return;
	}
	if (f->t_prev->t_child == f)
		f->t_prev->t_child = f->t_sibling;
	else
		f->t_prev->t_sibling = f->t_sibling;
	if (f->t_sibling)
		f->t_sibling->t_prev = f->t_prev;
	f->t_sibling = f->t_prev = NULL;
	sched_fiber *sub = merge_pairs(f->t_child);
	if (sub)
		w->timers = meld(w->timers, sub);
}

sched_fiber *timer_pop_expired(sched_worker *w, uint64_t now)
{
	RF_ASSERT(sched_tls_worker == w); /* owner only */
	sched_fiber *f = w->timers;
	if (!f || f->deadline > now)
		return NULL;
	timer_remove(w, f);
	return f;
}
