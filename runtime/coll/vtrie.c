/* runtime/coll/vtrie.c: the vector trie's nodes and path operations (pvec_impl.h),
 * shared by persistent vectors and transients. Shared state: nodes, under coll.h's
 * contract; this file is where nodes are copied, counted and freed. */
#include <stdlib.h>
#include <string.h>

#include "runtime/coll/pvec_impl.h"

vnode *vnode_alloc(uint64_t edit)
{
	vnode *n = cmem_alloc(sizeof(*n));
	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	atomic_init(&n->rc, 1);
	n->edit = edit;
	return n;
}

/* Drop one reference; the last one frees n and drops what it holds. Recursion depth is
 * bounded by the trie's height (at most 13 levels). */
void vnode_drop(vnode *n, uint32_t level, const rf_coll_ops *ops)
{
	if (!n || !rc_drop(&n->rc))
		return;
	if (level == 0) {
		if (ops && ops->release)
			for (int j = 0; j < VW; j++)
				ops->release(n->x[j], ops->ctx);
	} else {
		for (int j = 0; j < VW; j++)
			vnode_drop(n->kid[j], level - VBITS, ops); /* NULL: no-op */
	}
	vnode_free(n);
}

vnode *vnode_editable(vnode *n, uint32_t level, uint64_t edit, int skip, const rf_coll_ops *ops)
{
	if (!n)
		return vnode_alloc(edit);
	if (coll_owned(n->edit, edit))
		return n;
	vnode *c = cmem_alloc(sizeof(*c));
	if (!c)
		return NULL;
	atomic_init(&c->rc, 1);
	c->pad_ = 0;
	c->edit = edit;
	memcpy(c->x, n->x, sizeof(c->x));
	if (level == 0) {
		if (ops_own_vals(ops))
			for (int j = 0; j < VW; j++)
				if (j != skip)
					ops->retain(n->x[j], ops->ctx);
	} else {
		for (int j = 0; j < VW; j++)
			if (j != skip && n->kid[j])
				rc_retain(&n->kid[j]->rc);
		if (skip >= 0)
			c->kid[skip] = NULL;
	}
	return c;
}

/* Put child k into slot s of c, which replaces n: in place (c == n) the reference to the
 * old child goes; in a copy the slot was left unset. */
static void set_kid(vnode *c, const vnode *n, int s, vnode *k, uint32_t level,
                    const rf_coll_ops *ops)
{
	if (c == n && c->kid[s] != k)
		vnode_drop(c->kid[s], level - VBITS, ops);
	c->kid[s] = k;
}

int vtrie_assoc(vnode *n, uint32_t level, size_t i, rf_val x, uint64_t edit, const rf_coll_ops *ops,
                vnode **out)
{
	int s = (int)((i >> level) & VMASK);
	vnode *c = vnode_editable(n, level, edit, s, ops);
	if (!c)
		return -ENOMEM;
	if (level == 0) {
		val_retain(ops, x);
		if (c == n)
			val_release(ops, n->x[s]);
		c->x[s] = x;
		*out = c;
		return 0;
	}
	vnode *k;
	int rc = vtrie_assoc(n->kid[s], level - VBITS, i, x, edit, ops, &k);
	if (rc < 0) {
		if (c != n)
			vnode_drop(c, level, ops); /* slot s is NULL: the rest goes back */
		return rc;
	}
	set_kid(c, n, s, k, level, ops);
	*out = c;
	return 0;
}

/* A chain of single-child nodes from `level` down to leaf. */
static vnode *new_path(uint32_t level, vnode *leaf, uint64_t edit)
{
	if (level == 0)
		return leaf;
	vnode *n = vnode_alloc(edit);
	if (!n)
		return NULL;
	if (!(n->kid[0] = new_path(level - VBITS, leaf, edit))) {
		vnode_free(n);
		return NULL;
	}
	return n;
}

int vtrie_push(vnode *n, uint32_t level, size_t pcnt, vnode *leaf, uint64_t edit,
               const rf_coll_ops *ops, vnode **out)
{
	int s = (int)(((pcnt - 1) >> level) & VMASK);
	vnode *c = vnode_editable(n, level, edit, s, ops);
	if (!c)
		return -ENOMEM;
	vnode *k;
	if (level == VBITS) {
		k = leaf;
	} else if (n && n->kid[s]) {
		int rc = vtrie_push(n->kid[s], level - VBITS, pcnt, leaf, edit, ops, &k);
		if (rc < 0) {
			if (c != n)
				vnode_drop(c, level, ops);
			return rc;
		}
	} else if (!(k = new_path(level - VBITS, leaf, edit))) {
		if (c != n)
			vnode_drop(c, level, ops);
		return -ENOMEM;
	}
	if (n)
		set_kid(c, n, s, k, level, ops);
	else
		c->kid[s] = k;
	*out = c;
	return 0;
}

int vtrie_push_root(vnode **root, uint32_t *shift, size_t pcnt, vnode *leaf, uint64_t edit,
                    const rf_coll_ops *ops)
{
	size_t leaves_before = (pcnt - VW) >> VBITS;
	if (*root && *shift < 60 && leaves_before == ((size_t)1 << *shift)) {
		/* full at this height: a new root over the old one and a path to the leaf */
		vnode *r = vnode_alloc(edit);
		if (!r)
			return -ENOMEM;
		vnode *p = new_path(*shift, leaf, edit);
		if (!p) {
			vnode_free(r);
			return -ENOMEM;
		}
		r->kid[0] = *root;
		rc_retain(&(*root)->rc); /* the caller keeps its own reference, as on a copy */
		r->kid[1] = p;
		*root = r;
		*shift += VBITS;
		return 0;
	}
	vnode *r;
	int rc = vtrie_push(*root, *shift, pcnt, leaf, edit, ops, &r);
	if (rc < 0)
		return rc;
	*root = r;
	return 0;
}

int vtrie_pop(vnode *n, uint32_t level, size_t pcnt, uint64_t edit, const rf_coll_ops *ops,
              vnode **out)
{
	int s = (int)(((pcnt - 1) >> level) & VMASK);
	vnode *k = NULL;
	if (level > VBITS) {
		int rc = vtrie_pop(n->kid[s], level - VBITS, pcnt, edit, ops, &k);
		if (rc < 0)
			return rc;
		if (!k && s == 0) {
			*out = NULL; /* n goes: the caller drops it if in place, else unlinks it */
			return 0;
		}
	} else if (s == 0) {
		*out = NULL;
		return 0;
	}
	vnode *c = vnode_editable(n, level, edit, s, ops);
	if (!c) {
		if (k && k != n->kid[s])
			vnode_drop(k, level - VBITS, ops);
		return -ENOMEM;
	}
	set_kid(c, n, s, k, level, ops);
	*out = c;
	return 0;
}
