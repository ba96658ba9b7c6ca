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
	vnode_drop(v->root, v->shift, v->ops);
	vnode_drop(v->tail, 0, v->ops);
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

/* n, a reference more (NULL: none). */
static vnode *ref(vnode *n)
{
	if (n)
		rc_retain(&n->rc);
	return n;
}

/* n (from pv_alloc) made a version like v (window, shift, ops) with root r and a tail t of
 * tlen elements: the caller's references to r and t move in. */
static rf_pvec *pv_set(rf_pvec *n, const rf_pvec *v, vnode *r, vnode *t, uint32_t tlen)
{
	n->tlen = tlen;
	n->shift = v->shift;
	n->pcnt = v->pcnt;
	n->start = v->start;
	n->end = v->end;
	n->root = r;
	n->tail = t;
	n->ops = v->ops;
	return n;
}

/* A new tail leaf with v's tail elements (a reference to each but slot `skip`'s, -1: none)
 * and room for `want` (4, 8, 16 or 32 slots, so that a run of conj copies a tail only when
 * it outgrows its leaf); fill v->tlen. NULL: out of memory. */
static vnode *tail_copy(const rf_pvec *v, uint32_t want, int skip)
{
	uint32_t cap = 4;
	while (cap < want)
		cap *= 2;
	vnode *t = vnode_tail_alloc(cap);
	if (!t)
		return NULL;
	if (v->tlen)
		memcpy(t->x, v->tail->x, (size_t)v->tlen * sizeof(rf_val));
	if (ops_own_vals(v->ops))
		for (uint32_t j = 0; j < v->tlen; j++)
			if ((int)j != skip)
				v->ops->retain(v->tail->x[j], v->ops->ctx);
	/* relaxed: t is not published yet */
	atomic_store_explicit(&t->fill, (uint8_t)v->tlen, memory_order_relaxed);
	return t;
}

/* Append x to the physical vector (v->end == v->pcnt). */
static int pv_conj(const rf_pvec *v, rf_val x, rf_pvec **out)
{
	rf_pvec *n = pv_alloc();
	if (!n)
		return -ENOMEM;
	vnode *t = v->tail, *root = v->root;
	uint32_t tlen = v->tlen, shift = v->shift;
	if (tlen == VW) {
		/* the full tail becomes a trie leaf as it is; x starts a new tail, allocated
		 * first: nothing may fail once the trie's nodes have lent (pvec_impl.h) */
		vnode *nt = vnode_tail_alloc(4);
		if (!nt) {
			pv_dealloc(n);
			return -ENOMEM;
		}
		int rc = vtrie_push_root(&root, &shift, v->pcnt, ref(t), 0, v->ops);
		if (rc < 0) {
			vnode_drop(t, 0, v->ops);
			vnode_free(nt);
			pv_dealloc(n);
			return rc;
		}
		atomic_store_explicit(&nt->fill, 1, memory_order_relaxed); /* not published */
		t = nt;
		tlen = 0;
	} else {
		/* claim slot tlen of the shared tail, else copy it (pvec_impl.h). Relaxed: the
		 * claim orders nothing; the slot's readers come later through the new version. */
		uint8_t seen = (uint8_t)tlen;
		if (t && tlen < t->cap &&
		    atomic_compare_exchange_strong_explicit(&t->fill, &seen, (uint8_t)(tlen + 1),
		                                            memory_order_relaxed,
		                                            memory_order_relaxed)) {
			ref(t);
		} else if (!(t = tail_copy(v, tlen + 1, -1))) {
			pv_dealloc(n);
			return -ENOMEM;
		} else {
			atomic_store_explicit(&t->fill, (uint8_t)(tlen + 1), memory_order_relaxed);
		}
		ref(root);
	}
	val_retain(v->ops, x);
	t->x[tlen] = x;
	pv_set(n, v, root, t, tlen + 1);
	n->shift = shift;
	n->end = ++n->pcnt;
	*out = n;
	return 0;
}

/* Physical element p (< pcnt) := x; window unchanged. */
static int pv_assoc(const rf_pvec *v, size_t p, rf_val x, rf_pvec **out)
{
	size_t toff = v->pcnt - v->tlen;
	rf_pvec *n = pv_alloc(); /* first: nothing may fail after a node lends */
	if (!n)
		return -ENOMEM;
	if (p >= toff) {
		int s = (int)(p - toff);
		vnode *t = tail_copy(v, v->tlen, s);
		if (!t) {
			pv_dealloc(n);
			return -ENOMEM;
		}
		val_retain(v->ops, x);
		t->x[s] = x;
		*out = pv_set(n, v, ref(v->root), t, v->tlen);
		return 0;
	}
	vnode *root;
	int rc = vtrie_assoc(v->root, v->shift, p, x, 0, v->ops, &root);
	if (rc < 0) {
		pv_dealloc(n);
		return rc;
	}
	*out = pv_set(n, v, root, ref(v->tail), v->tlen);
	return 0;
}

/* Drop the last element of a whole physical vector (start 0, end pcnt > 1). */
static int pv_pop(const rf_pvec *v, rf_pvec **out)
{
	rf_pvec *n = pv_alloc(); /* first: nothing may fail after a node lends */
	if (!n)
		return -ENOMEM;
	if (v->tlen > 1) { /* the same tail, one element shorter */
		pv_set(n, v, ref(v->root), ref(v->tail), v->tlen - 1);
		n->pcnt--;
		n->end--;
		*out = n;
		return 0;
	}
	/* the tail empties: the trie's last leaf becomes the tail, shared */
	size_t toff = v->pcnt - 1;
	vnode *leaf = (vnode *)pv_leaf(v->root, v->shift, toff - 1), *root;
	int rc = vtrie_pop(v->root, v->shift, toff, 0, v->ops, &root);
	if (rc < 0) {
		pv_dealloc(n);
		return rc;
	}
	uint32_t shift = v->shift;
	if (root && shift > VBITS && !root->kid[1]) {
		vnode *only = ref(root->kid[0]);
		vnode_drop(root, shift, v->ops);
		root = only;
		shift -= VBITS;
	}
	pv_set(n, v, root, ref(leaf), VW);
	n->shift = shift;
	n->pcnt = n->end = toff;
	*out = n;
	return 0;
}

int rf_pvec_conj(const rf_pvec *v, rf_val x, rf_pvec **out)
{
	if (!v || !out)
		return -EINVAL;
	if (v->end == v->pcnt)
		return pv_conj(v, x, out);
	rf_pvec *n; /* a subvec ending early: write past its end, as Clojure's SubVector */
	int rc = pv_assoc(v, v->end, x, &n);
	if (rc < 0)
		return rc;
	n->end++;
	*out = n;
	return 0;
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
	pv_set(n, v, ref(v->root), ref(v->tail), v->tlen);
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
	pv_set(n, v, ref(v->root), ref(v->tail), v->tlen);
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
