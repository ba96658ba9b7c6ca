/* runtime/coll/pvec.c: persistent vectors (ringfold/pvec.h): versions, and the
 * persistent forms of conj, assoc, pop, nth and subvec. Shared state: versions and nodes,
 * under coll.h's contract: nothing here writes to a version or node another thread can
 * see, except reference counts. */
#include <stdlib.h>
#include <string.h>

#include "runtime/coll/pvec_impl.h"

rf_pvec *pv_alloc(void)
{
	rf_pvec *v = cmem_alloc(sizeof(*v));
	if (!v)
		return NULL;
	atomic_init(&v->h.rc, 1);
	v->h.kind = COLL_PVEC;
	return v;
}

static void pv_free(rf_pvec *v)
{
	vnode_tail_drop(v->tail, v->shift, v->ops);
	pv_dealloc(v);
}

void rf_pvec_retain(rf_pvec *v)
{
	if (v)
		rc_retain(&v->h.rc);
}

void rf_pvec_release(rf_pvec *v)
{
	if (v && rc_drop(&v->h.rc))
		pv_free(v);
}

int rf_pvec_new(const rf_coll_ops *ops, rf_pvec **out)
{
	if (!out || !coll_ops_ok(ops))
		return -EINVAL;
	rf_pvec *v = pv_alloc();
	if (!v)
		return -ENOMEM;
	v->tlen = 0;
	v->shift = VBITS;
	v->pcnt = v->start = v->end = 0;
	v->root = NULL;
	v->tail = NULL;
	v->ops = ops;
	*out = v;
	return 0;
}

size_t rf_pvec_count(const rf_pvec *v)
{
	return v ? v->end - v->start : 0;
}

static rf_val pv_get(const rf_pvec *v, size_t p)
{
	size_t toff = v->pcnt - v->tlen;
	if (p >= toff)
		return v->tail->x[p - toff];
	return pv_leaf(v->root, v->shift, p)->x[p & VMASK];
}

int rf_pvec_nth(const rf_pvec *v, size_t i, rf_val *out)
{
	if (!v || !out)
		return -EINVAL;
	if (i >= v->end - v->start)
		return -ERANGE;
	*out = pv_get(v, v->start + i);
	return 0;
}

int rf_pvec_peek(const rf_pvec *v, rf_val *out)
{
	if (!v || !out)
		return -EINVAL;
	if (v->end == v->start)
		return -ERANGE;
	*out = pv_get(v, v->end - 1);
	return 0;
}

/* n (from pv_alloc) made a version like v (window, shift, ops) with the tail t of tlen
 * elements: the caller's reference to t moves in. */
static rf_pvec *pv_set(rf_pvec *n, const rf_pvec *v, vnode *t, uint32_t tlen)
{
	n->tlen = tlen;
	n->shift = v->shift;
	n->pcnt = v->pcnt;
	n->start = v->start;
	n->end = v->end;
	n->root = t ? t->root : NULL;
	n->tail = t;
	n->ops = v->ops;
	return n;
}

/* A new tail leaf with the first len elements of xs (a reference to each but slot
 * `skip`'s, -1: none), fill len, and room for `want` (4, 8, 16 or 32 slots; a vector with
 * a trie takes 32 at once, a short one grows, so that a run of conj copies a tail only
 * when it outgrows its leaf). It holds no root yet. NULL: out of memory. */
static vnode *tail_copy(const rf_val *xs, uint32_t len, uint32_t want, int skip,
                        const rf_coll_ops *ops)
{
	uint32_t cap = 4;
	while (cap < want)
		cap *= 2;
	vnode *t = vnode_tail_alloc(cap);
	if (!t)
		return NULL;
	if (len)
		memcpy(t->x, xs, (size_t)len * sizeof(rf_val));
	if (ops_own_vals(ops))
		for (uint32_t j = 0; j < len; j++)
			if ((int)j != skip)
				ops->retain(xs[j], ops->ctx);
	vnode_set_fill(t, len);
	return t;
}

/* Room for a tail of v that must hold `want` elements. */
static uint32_t tail_want(const rf_pvec *v, uint32_t want)
{
	return v->pcnt > v->tlen ? VW : want;
}

/* Claim slot tlen of tail t and a reference to it (pvec_impl.h): true when won. */
static bool tail_claim(vnode *t, uint32_t tlen)
{
	/* relaxed: the claim orders nothing (the slot's readers come later through the new
	 * version), and the reference is taken by a holder, as rc_retain's (coll.h) */
	uint64_t w = atomic_load_explicit(&t->rcf, memory_order_relaxed);
	while (vnode_fill_of(w) == tlen && tlen < t->cap)
		if (atomic_compare_exchange_weak_explicit(
		        &t->rcf, &w, w + VN_FILL1 + 1, memory_order_relaxed, memory_order_relaxed))
			return true;
	return false;
}

/* pv_conj's other cases, n (from pv_alloc) to fill: the tail is full (a copy of it
 * becomes a trie leaf and x starts a new tail), or its slot is taken (x goes into a copy). */
__attribute__((noinline)) static int conj_slow(const rf_pvec *v, rf_val x, rf_pvec *n,
                                               rf_pvec **out)
{
	vnode *t = v->tail;
	uint32_t tlen = v->tlen, shift = v->shift;
	if (tlen == VW) {
		/* the new tail holds the new root; allocated first: nothing may fail once the
		 * trie's nodes have lent (pvec_impl.h) */
		vnode *nt = vnode_tail_alloc(VW), *leaf = nt ? vnode_leaf_of(t->x, v->ops) : NULL;
		if (!leaf) {
			if (nt)
				vnode_free(nt);
			pv_dealloc(n);
			return -ENOMEM;
		}
		vnode *root = v->root;
		int rc = vtrie_push_root(&root, &shift, v->pcnt, leaf, 0, v->ops);
		if (rc < 0) {
			vnode_drop(leaf, 0, v->ops);
			vnode_free(nt);
			pv_dealloc(n);
			return rc;
		}
		nt->root = root; /* the new root's one reference */
		t = nt;
		tlen = 0;
	} else {
		/* a copy holding the same root */
		t = tail_copy(t ? t->x : NULL, tlen, tail_want(v, tlen + 1), -1, v->ops);
		if (!t) {
			pv_dealloc(n);
			return -ENOMEM;
		}
		t->root = vnode_ref(v->root);
	}
	vnode_set_fill(t, tlen + 1);
	val_retain(v->ops, x);
	t->x[tlen] = x;
	pv_set(n, v, t, tlen + 1);
	n->shift = shift;
	n->end = ++n->pcnt;
	*out = n;
	return 0;
}

/* Append x to the physical vector (v->end == v->pcnt). The common case: the new version
 * claims the next slot of v's tail and is v but for the count. */
static int pv_conj(const rf_pvec *v, rf_val x, rf_pvec **out)
{
	rf_pvec *n = pv_alloc();
	if (!n)
		return -ENOMEM;
	vnode *t = v->tail;
	uint32_t tlen = v->tlen;
	if (!t || !tail_claim(t, tlen)) /* a full tail has tlen == cap: no claim */
		return conj_slow(v, x, n, out);
	/* all but the header: v's count is other threads' to change meanwhile */
	memcpy(&n->tlen, &v->tlen, sizeof(*n) - offsetof(rf_pvec, tlen));
	t->x[tlen] = x;
	n->tlen = tlen + 1;
	n->pcnt = v->pcnt + 1;
	n->end = v->end + 1;
	*out = n;
	val_retain(v->ops, x); /* last, so that nothing but x and ops lives across it */
	return 0;
}

/* Physical element p (< pcnt) := x; window unchanged. */
static int pv_assoc(const rf_pvec *v, size_t p, rf_val x, rf_pvec **out)
{
	size_t toff = v->pcnt - v->tlen;
	int s = p >= toff ? (int)(p - toff) : -1;
	/* first: nothing may fail after a node lends */
	rf_pvec *n = pv_alloc();
	vnode *t = n ? tail_copy(v->tail->x, v->tlen, tail_want(v, v->tlen), s, v->ops) : NULL;
	if (!t) {
		if (n)
			pv_dealloc(n);
		return -ENOMEM;
	}
	if (s >= 0) {
		val_retain(v->ops, x);
		t->x[s] = x;
		t->root = vnode_ref(v->root);
	} else {
		int rc = vtrie_assoc(v->root, v->shift, p, x, 0, v->ops, &t->root);
		if (rc < 0) {
			vnode_tail_drop(t, v->shift, v->ops); /* root still NULL */
			pv_dealloc(n);
			return rc;
		}
	}
	*out = pv_set(n, v, t, v->tlen);
	return 0;
}

/* Drop the last element of a whole physical vector (start 0, end pcnt > 1). */
static int pv_pop(const rf_pvec *v, rf_pvec **out)
{
	rf_pvec *n = pv_alloc(); /* first: nothing may fail after a node lends */
	if (!n)
		return -ENOMEM;
	if (v->tlen > 1) { /* the same tail and root, one element shorter */
		pv_set(n, v, vnode_ref(v->tail), v->tlen - 1);
		n->pcnt--;
		n->end--;
		*out = n;
		return 0;
	}
	/* the tail empties: a copy of the trie's last leaf becomes the tail */
	size_t toff = v->pcnt - 1;
	const vnode *leaf = pv_leaf(v->root, v->shift, toff - 1);
	vnode *t = tail_copy(leaf->x, VW, VW, -1, v->ops), *root;
	if (!t) {
		pv_dealloc(n);
		return -ENOMEM;
	}
	int rc = vtrie_pop(v->root, v->shift, toff, 0, v->ops, &root);
	if (rc < 0) {
		vnode_tail_drop(t, v->shift, v->ops); /* root still NULL */
		pv_dealloc(n);
		return rc;
	}
	uint32_t shift = v->shift;
	if (root && shift > VBITS && !root->kid[1]) {
		vnode *only = vnode_ref(root->kid[0]);
		vnode_drop(root, shift, v->ops);
		root = only;
		shift -= VBITS;
	}
	t->root = root;
	pv_set(n, v, t, VW);
	n->shift = shift;
	n->pcnt = n->end = toff;
	*out = n;
	return 0;
}

/* conj on a subvec ending early: write past its end, as Clojure's SubVector. */
__attribute__((noinline)) static int conj_view(const rf_pvec *v, rf_val x, rf_pvec **out)
{
	rf_pvec *n;
	int rc = pv_assoc(v, v->end, x, &n);
	if (rc < 0)
		return rc;
	n->end++;
	*out = n;
	return 0;
}

int rf_pvec_conj(const rf_pvec *v, rf_val x, rf_pvec **out)
{
	if (!v || !out)
		return -EINVAL;
	if (v->end != v->pcnt)
		return conj_view(v, x, out);
	return pv_conj(v, x, out);
}

int rf_pvec_assoc(const rf_pvec *v, size_t i, rf_val x, rf_pvec **out)
{
	if (!v || !out)
		return -EINVAL;
	size_t cnt = v->end - v->start;
	if (i > cnt)
		return -ERANGE;
	if (i == cnt)
		return rf_pvec_conj(v, x, out);
	return pv_assoc(v, v->start + i, x, out);
}

int rf_pvec_pop(const rf_pvec *v, rf_pvec **out)
{
	if (!v || !out)
		return -EINVAL;
	if (v->end == v->start)
		return -ERANGE;
	if (v->start == 0 && v->end == v->pcnt) {
		if (v->pcnt == 1)
			return rf_pvec_new(v->ops, out);
		return pv_pop(v, out);
	}
	rf_pvec *n = pv_alloc(); /* a view: narrow it */
	if (!n)
		return -ENOMEM;
	pv_set(n, v, vnode_ref(v->tail), v->tlen);
	n->end--;
	*out = n;
	return 0;
}

int rf_pvec_subvec(const rf_pvec *v, size_t start, size_t end, rf_pvec **out)
{
	if (!v || !out)
		return -EINVAL;
	if (start > end || end > v->end - v->start)
		return -ERANGE;
	rf_pvec *n = pv_alloc();
	if (!n)
		return -ENOMEM;
	pv_set(n, v, vnode_ref(v->tail), v->tlen);
	n->end = v->start + end;
	n->start = v->start + start;
	*out = n;
	return 0;
}

int rf_pvec_chunk(const rf_pvec *v, size_t i, const rf_val **run, size_t *len)
{
	if (!v || !run || !len)
		return -EINVAL;
	if (i >= v->end - v->start)
		return -ERANGE;
	size_t p = v->start + i, toff = v->pcnt - v->tlen, n;
	if (p >= toff) {
		*run = &v->tail->x[p - toff];
		n = v->tlen - (p - toff);
	} else {
		*run = &pv_leaf(v->root, v->shift, p)->x[p & VMASK];
		n = VW - (p & VMASK);
	}
	*len = n < v->end - p ? n : v->end - p;
	return 0;
}

int rf_pvec_conj_op(rf_val v, rf_val x, rf_val *out)
{
	rf_pvec *n = NULL;
	int rc = rf_pvec_conj(rf_to_ptr(v), x, &n);
	*out = rf_from_ptr(n);
	return rc;
}
