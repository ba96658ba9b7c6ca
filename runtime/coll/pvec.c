/* runtime/coll/pvec.c: persistent vectors (ringfold/pvec.h): versions, and the
 * persistent forms of conj, assoc, pop, nth and subvec. Shared state: versions and nodes,
 * under coll.h's contract: nothing here writes to a version or node another thread can
 * see, except reference counts. */
#include <stdlib.h>
#include <string.h>

#include "runtime/coll/pvec_impl.h"

rf_pvec *pv_alloc(uint32_t tlen)
{
	/* Room for 4, 8, 16 or 32 tail elements: a run of conj allocates one size and frees
	 * the same size, which the cache (cmem.h) then serves (an exact size would alternate
	 * between neighbouring sizes). */
	uint32_t room = 4;
	while (room < tlen)
		room *= 2;
	rf_pvec *v = cmem_alloc(sizeof(*v) + (size_t)room * sizeof(rf_val));
	if (!v)
		return NULL;
	v->room = (uint16_t)room;
	atomic_init(&v->h.rc, 1);
	v->h.kind = COLL_PVEC;
	v->tlen = tlen;
	return v;
}

static void pv_free(rf_pvec *v)
{
	vnode_drop(v->root, v->shift, v->ops);
	if (ops_own_vals(v->ops))
		for (uint32_t j = 0; j < v->tlen; j++)
			v->ops->release(v->tail[j], v->ops->ctx);
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
	rf_pvec *v = pv_alloc(0);
	if (!v)
		return -ENOMEM;
	v->shift = VBITS;
	v->pcnt = v->start = v->end = 0;
	v->root = NULL;
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
		return v->tail[p - toff];
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

/* n (from pv_alloc(room)) made a new version like v with room for `room` tail elements, the first
 * tlen (<= v->tlen,
 * <= room) copied from v's, and a reference to each of them; tail slot `skip` is left
 * unset and unreferenced (-1: none). n->tlen = tlen. Its root is v's (a new reference)
 * or, if `root` is not v's, `root` (the caller's reference moves in). */
static rf_pvec *pv_fill(rf_pvec *n, const rf_pvec *v, uint32_t tlen, int skip, vnode *root)
{
	n->tlen = tlen;
	n->shift = v->shift;
	n->pcnt = v->pcnt;
	n->start = v->start;
	n->end = v->end;
	n->root = root;
	n->ops = v->ops;
	memcpy(n->tail, v->tail, (size_t)tlen * sizeof(rf_val));
	if (root && root == v->root)
		rc_retain(&root->rc);
	if (ops_own_vals(v->ops))
		for (uint32_t j = 0; j < tlen; j++)
			if ((int)j != skip)
				v->ops->retain(v->tail[j], v->ops->ctx);
	return n;
}

static rf_pvec *pv_clone(const rf_pvec *v, uint32_t room, uint32_t tlen, int skip, vnode *root)
{
	rf_pvec *n = pv_alloc(room);
	return n ? pv_fill(n, v, tlen, skip, root) : NULL;
}

/* Append x to the physical vector (v->end == v->pcnt). */
static int pv_conj(const rf_pvec *v, rf_val x, rf_pvec **out)
{
	rf_pvec *n;
	if (v->tlen < VW) {
		if (!(n = pv_clone(v, v->tlen + 1, v->tlen, -1, v->root)))
			return -ENOMEM;
	} else {
		/* the full tail becomes a trie leaf; x starts a new tail. The version is allocated
		 * first: nothing may fail once the trie's nodes have lent (pvec_impl.h). */
		if (!(n = pv_alloc(1)))
			return -ENOMEM;
		vnode *leaf = vnode_alloc(0);
		if (!leaf) {
			pv_dealloc(n);
			return -ENOMEM;
		}
		memcpy(leaf->x, v->tail, sizeof(leaf->x));
		if (ops_own_vals(v->ops))
			for (int j = 0; j < VW; j++)
				v->ops->retain(v->tail[j], v->ops->ctx);
		vnode *root = v->root;
		uint32_t shift = v->shift;
		int rc = vtrie_push_root(&root, &shift, v->pcnt, leaf, 0, v->ops);
		if (rc < 0) {
			vnode_drop(leaf, 0, v->ops);
			pv_dealloc(n);
			return rc;
		}
		n->tlen = 0;
		n->shift = shift;
		n->pcnt = v->pcnt;
		n->start = v->start;
		n->root = root;
		n->ops = v->ops;
	}
	val_retain(v->ops, x);
	n->tail[n->tlen++] = x;
	n->pcnt++;
	n->end = n->pcnt;
	*out = n;
	return 0;
}

/* Physical element p (< pcnt) := x; window unchanged. */
static int pv_assoc(const rf_pvec *v, size_t p, rf_val x, rf_pvec **out)
{
	size_t toff = v->pcnt - v->tlen;
	rf_pvec *n;
	if (p >= toff) {
		int s = (int)(p - toff);
		if (!(n = pv_clone(v, v->tlen, v->tlen, s, v->root)))
			return -ENOMEM;
		val_retain(v->ops, x);
		n->tail[s] = x;
		*out = n;
		return 0;
	}
	vnode *root;
	if (!(n = pv_alloc(v->tlen))) /* first: nothing may fail after a node lends */
		return -ENOMEM;
	int rc = vtrie_assoc(v->root, v->shift, p, x, 0, v->ops, &root);
	if (rc < 0) {
		pv_dealloc(n);
		return rc;
	}
	*out = pv_fill(n, v, v->tlen, -1, root);
	return 0;
}

/* Drop the last element of a whole physical vector (start 0, end pcnt > 1). */
static int pv_pop(const rf_pvec *v, rf_pvec **out)
{
	rf_pvec *n;
	if (v->tlen > 1) {
		if (!(n = pv_clone(v, v->tlen - 1, v->tlen - 1, -1, v->root)))
			return -ENOMEM;
		n->pcnt--;
		n->end--;
		*out = n;
		return 0;
	}
	/* the tail empties: the trie's last leaf becomes the tail */
	size_t toff = v->pcnt - 1;
	const vnode *leaf = pv_leaf(v->root, v->shift, toff - 1);
	vnode *root;
	if (!(n = pv_alloc(VW))) /* first: nothing may fail after a node lends */
		return -ENOMEM;
	int rc = vtrie_pop(v->root, v->shift, toff, 0, v->ops, &root);
	if (rc < 0) {
		pv_dealloc(n);
		return rc;
	}
	uint32_t shift = v->shift;
	if (root && shift > VBITS && !root->kid[1]) {
		vnode *only = root->kid[0];
		rc_retain(&only->rc);
		vnode_drop(root, shift, v->ops);
		root = only;
		shift -= VBITS;
	}
	n->tlen = VW;
	n->shift = shift;
	n->pcnt = n->end = toff;
	n->start = 0;
	n->root = root;
	n->ops = v->ops;
	memcpy(n->tail, leaf->x, sizeof(leaf->x));
	if (ops_own_vals(v->ops))
		for (int j = 0; j < VW; j++)
			v->ops->retain(n->tail[j], v->ops->ctx);
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
	rf_pvec *n = pv_clone(v, v->tlen, v->tlen, -1, v->root); /* a view: narrow it */
	if (!n)
		return -ENOMEM;
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
	rf_pvec *n = pv_clone(v, v->tlen, v->tlen, -1, v->root);
	if (!n)
		return -ENOMEM;
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
		*run = &v->tail[p - toff];
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
