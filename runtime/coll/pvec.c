/* runtime/coll/pvec.c: persistent vectors (ringfold/pvec.h): versions, and the
 * persistent forms of conj, assoc, pop, nth and subvec. Shared state: versions and nodes,
 * under coll.h's contract: nothing here writes to a version or node another thread can
 * see, except reference counts. */
#include <stdlib.h>
#include <string.h>

#include "runtime/base/assert.h"
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

rf_pvec *pv_make(const pview *w, rf_pvec *n)
{
	if (w->tail && w->start == 0 && w->end == w->pcnt) {
		RF_ASSERT(w->tlen >= 1 && w->tlen <= w->tail->cap);
		if (n)
			pv_dealloc(n);
		return vtail_mark(w->tail, w->tlen);
	}
	RF_ASSERT(n);
	n->w = *w;
	return n;
}

void rf_pvec_retain(rf_pvec *v)
{
	if (v && pv_is_mark(v))
		vnode_ref(mark_tail(v, mark_tlen(v)));
	else if (v)
		rc_retain(&v->h.rc);
}

void rf_pvec_release(rf_pvec *v)
{
	if (!v)
		return;
	if (pv_is_mark(v)) {
		vnode_tail_drop(mark_tail(v, mark_tlen(v)));
	} else if (rc_drop(&v->h.rc)) {
		vnode_tail_drop(v->w.tail);
		pv_dealloc(v);
	}
}

int rf_pvec_new(const rf_coll_ops *ops, rf_pvec **out)
{
	if (!out || !coll_ops_ok(ops))
		return -EINVAL;
	rf_pvec *v = pv_alloc();
	if (!v)
		return -ENOMEM;
	v->w = (pview){.shift = VBITS, .ops = ops};
	*out = v;
	return 0;
}

size_t rf_pvec_count(const rf_pvec *v)
{
	if (!v)
		return 0;
	pview w = pv_view(v);
	return w.end - w.start;
}

static rf_val pv_get(const pview *w, size_t p)
{
	size_t toff = w->pcnt - w->tlen;
	if (p >= toff)
		return w->tail->x[p - toff];
	return pv_leaf(w->root, w->shift, p)->x[p & VMASK];
}

/* nth in what w shows; inlined for each kind of version, so that a mark's view (start 0,
 * end pcnt) folds into the bounds test. */
static inline __attribute__((always_inline)) int view_nth(const pview *w, size_t i, rf_val *out)
{
	if (i >= w->end - w->start)
		return -ERANGE;
	*out = pv_get(w, w->start + i);
	return 0;
}

int rf_pvec_nth(const rf_pvec *v, size_t i, rf_val *out)
{
	if (!v || !out)
		return -EINVAL;
	if (pv_is_mark(v)) {
		pview w = pv_view(v);
		return view_nth(&w, i, out);
	}
	return view_nth(&v->w, i, out);
}

int rf_pvec_peek(const rf_pvec *v, rf_val *out)
{
	if (!v || !out)
		return -EINVAL;
	pview w = pv_view(v);
	if (w.end == w.start)
		return -ERANGE;
	*out = pv_get(&w, w.end - 1);
	return 0;
}

/* A new tail leaf for versions like w's whose slot 0 is physical index toff, with the
 * first len elements of xs (a reference to each but slot `skip`'s, -1: none), fill len,
 * and room for `want` (4, 8, 16 or 32 slots; a vector with a trie takes 32 at once, a
 * short one grows, so that a run of conj copies a tail only when it outgrows its leaf).
 * It holds no root yet. NULL: out of memory. */
static vnode *tail_copy(const pview *w, size_t toff, const rf_val *xs, uint32_t len, uint32_t want,
                        int skip)
{
	uint32_t cap = 4;
	while (cap < want)
		cap *= 2;
	vnode *t = vnode_tail_alloc(cap, toff, w->shift, w->ops);
	if (!t)
		return NULL;
	if (len)
		memcpy(t->x, xs, (size_t)len * sizeof(rf_val));
	if (ops_own_vals(w->ops))
		for (uint32_t j = 0; j < len; j++)
			if ((int)j != skip)
				w->ops->retain(xs[j], w->ops->ctx);
	vnode_set_fill(t, len);
	return t;
}

/* Room for a tail of w that must hold `want` elements. */
static uint32_t tail_want(const pview *w, uint32_t want)
{
	return w->pcnt > w->tlen ? VW : want;
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

/* conj at the physical vector's end when no slot could be claimed: the tail is full (a
 * copy of it becomes a trie leaf and x starts a new tail), or its slot is taken, or there
 * is none yet (x goes into a copy). n: the block of a window (pv_make), else NULL; it goes
 * on failure. */
static int conj_copy(const pview *w, rf_val x, rf_pvec *n, rf_pvec **out)
{
	pview r = *w;
	vnode *t = w->tail;
	if (w->tlen == VW) {
		/* the new tail holds the new root; allocated first: nothing may fail once the
		 * trie's nodes have lent (pvec_impl.h) */
		vnode *nt = vnode_tail_alloc(VW, w->pcnt, w->shift, w->ops);
		vnode *leaf = nt ? vnode_leaf_of(t->x, w->ops) : NULL;
		if (!leaf) {
			if (nt)
				vnode_tail_dealloc(nt);
			if (n)
				pv_dealloc(n);
			return -ENOMEM;
		}
		int rc = vtrie_push_root(&r.root, &r.shift, w->pcnt, leaf, 0, w->ops);
		if (rc < 0) {
			vnode_drop(leaf, 0, w->ops);
			vnode_tail_dealloc(nt);
			if (n)
				pv_dealloc(n);
			return rc;
		}
		nt->root = r.root; /* the new root's one reference */
		vtail_ext_of(nt)->shift = r.shift;
		t = nt;
		r.tlen = 0;
	} else {
		/* a copy holding the same root */
		t = tail_copy(w, w->pcnt - w->tlen, t ? t->x : NULL, w->tlen,
		              tail_want(w, w->tlen + 1), -1);
		if (!t) {
			if (n)
				pv_dealloc(n);
			return -ENOMEM;
		}
		t->root = vnode_ref(w->root);
	}
	vnode_set_fill(t, r.tlen + 1);
	val_retain(w->ops, x);
	t->x[r.tlen++] = x;
	r.tail = t;
	r.end = ++r.pcnt;
	*out = pv_make(&r, n);
	return 0;
}

/* Physical element p (< pcnt) := x, the window's end set to `end`. */
static int pv_assoc(const pview *w, size_t p, rf_val x, size_t end, rf_pvec **out)
{
	size_t toff = w->pcnt - w->tlen;
	int s = p >= toff ? (int)(p - toff) : -1;
	/* first: nothing may fail after a node lends */
	bool whole = w->start == 0 && end == w->pcnt;
	rf_pvec *n = whole ? NULL : pv_alloc();
	vnode *t =
	    whole || n ? tail_copy(w, toff, w->tail->x, w->tlen, tail_want(w, w->tlen), s) : NULL;
	if (!t) {
		if (n)
			pv_dealloc(n);
		return -ENOMEM;
	}
	if (s >= 0) {
		val_retain(w->ops, x);
		t->x[s] = x;
		t->root = vnode_ref(w->root);
	} else {
		int rc = vtrie_assoc(w->root, w->shift, p, x, 0, w->ops, &t->root);
		if (rc < 0) {
			vnode_tail_drop(t); /* root still NULL */
			if (n)
				pv_dealloc(n);
			return rc;
		}
	}
	pview r = *w;
	r.tail = t;
	r.root = t->root;
	r.end = end;
	*out = pv_make(&r, n);
	return 0;
}

/* Drop the last element of a whole physical vector (start 0, end pcnt > 1). */
static int pv_pop(const pview *w, rf_pvec **out)
{
	pview r = *w;
	r.pcnt = --r.end;
	if (w->tlen > 1) { /* the same tail and root, one element shorter, in a block */
		rf_pvec *n = pv_alloc();
		if (!n)
			return -ENOMEM;
		vnode_ref(w->tail);
		r.tlen--;
		n->w = r; /* not the mark: one may be held already (pvec_impl.h, "Versions") */
		*out = n;
		return 0;
	}
	/* the tail empties: a copy of the trie's last leaf becomes the tail */
	size_t toff = w->pcnt - 1;
	const vnode *leaf = pv_leaf(w->root, w->shift, toff - 1);
	vnode *t = tail_copy(w, toff - VW, leaf->x, VW, VW, -1); /* first, as above */
	if (!t)
		return -ENOMEM;
	int rc = vtrie_pop(w->root, w->shift, toff, 0, w->ops, &r.root);
	if (rc < 0) {
		vnode_tail_drop(t); /* root still NULL */
		return rc;
	}
	if (r.root && r.shift > VBITS && !r.root->kid[1]) {
		vnode *only = vnode_ref(r.root->kid[0]);
		vnode_drop(r.root, r.shift, w->ops);
		r.root = only;
		r.shift -= VBITS;
	}
	t->root = r.root;
	vtail_ext_of(t)->shift = r.shift;
	r.tail = t;
	r.tlen = VW;
	*out = pv_make(&r, NULL);
	return 0;
}

/* rf_pvec_conj's other cases than a claim on a mark's tail. */
__attribute__((noinline)) static int conj_other(const rf_pvec *v, rf_val x, rf_pvec **out)
{
	pview w = pv_view(v);
	if (w.end != w.pcnt) /* a subvec ending early: write past its end, as SubVector */
		return pv_assoc(&w, w.end, x, w.end + 1, out);
	/* a block that shows its vector to the end: a window stays one, its block first
	 * (pvec_impl.h); one from the start (a pop, a subvec of the whole) becomes the mark
	 * its claim makes */
	rf_pvec *n = NULL;
	if (w.start && !(n = pv_alloc()))
		return -ENOMEM;
	if (w.tail && tail_claim(w.tail, w.tlen)) {
		w.tail->x[w.tlen++] = x;
		w.end = ++w.pcnt;
		val_retain(w.ops, x);
		*out = pv_make(&w, n);
		return 0;
	}
	return conj_copy(&w, x, n, out);
}

int rf_pvec_conj(const rf_pvec *v, rf_val x, rf_pvec **out)
{
	if (!v || !out)
		return -EINVAL;
	if (!pv_is_mark(v))
		return conj_other(v, x, out);
	/* the common case: claim the next slot of v's tail, whose mark is the new version */
	uint32_t tlen = mark_tlen(v);
	vnode *t = mark_tail(v, tlen);
	if (!tail_claim(t, tlen)) /* a full tail has tlen == cap: no claim */
		return conj_other(v, x, out);
	t->x[tlen] = x;
	*out = vtail_mark(t, tlen + 1);
	val_retain(vtail_ext_of(t)->ops, x);
	return 0;
}

int rf_pvec_assoc(const rf_pvec *v, size_t i, rf_val x, rf_pvec **out)
{
	if (!v || !out)
		return -EINVAL;
	pview w = pv_view(v);
	size_t cnt = w.end - w.start;
	if (i > cnt)
		return -ERANGE;
	if (i == cnt)
		return rf_pvec_conj(v, x, out);
	return pv_assoc(&w, w.start + i, x, w.end, out);
}

int rf_pvec_pop(const rf_pvec *v, rf_pvec **out)
{
	if (!v || !out)
		return -EINVAL;
	pview w = pv_view(v);
	if (w.end == w.start)
		return -ERANGE;
	if (w.start == 0 && w.end == w.pcnt) {
		if (w.pcnt == 1)
			return rf_pvec_new(w.ops, out);
		return pv_pop(&w, out);
	}
	rf_pvec *n = pv_alloc(); /* a view: narrow it */
	if (!n)
		return -ENOMEM;
	vnode_ref(w.tail);
	w.end--;
	*out = pv_make(&w, n);
	return 0;
}

int rf_pvec_subvec(const rf_pvec *v, size_t start, size_t end, rf_pvec **out)
{
	if (!v || !out)
		return -EINVAL;
	pview w = pv_view(v);
	if (start > end || end > w.end - w.start)
		return -ERANGE;
	rf_pvec *n = pv_alloc(); /* also for the whole of v: not v (pvec_impl.h, "Versions") */
	if (!n)
		return -ENOMEM;
	vnode_ref(w.tail);
	w.end = w.start + end;
	w.start += start;
	n->w = w;
	*out = n;
	return 0;
}

int rf_pvec_chunk(const rf_pvec *v, size_t i, const rf_val **run, size_t *len)
{
	if (!v || !run || !len)
		return -EINVAL;
	pview w = pv_view(v);
	if (i >= w.end - w.start)
		return -ERANGE;
	size_t p = w.start + i, toff = w.pcnt - w.tlen, n;
	if (p >= toff) {
		*run = &w.tail->x[p - toff];
		n = w.tlen - (p - toff);
	} else {
		*run = &pv_leaf(w.root, w.shift, p)->x[p & VMASK];
		n = VW - (p & VMASK);
	}
	*len = n < w.end - p ? n : w.end - p;
	return 0;
}

int rf_pvec_conj_op(rf_val v, rf_val x, rf_val *out)
{
	rf_pvec *n = NULL;
	int rc = rf_pvec_conj(rf_to_ptr(v), x, &n);
	*out = rf_from_ptr(n);
	return rc;
}
