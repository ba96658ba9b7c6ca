/* runtime/coll/ptree.c: assoc and dissoc on the sorted map's weight-balanced tree
 * (ptree.h): path copies rebalanced with single and double rotations (Adams; the
 * parameters of Haskell's Data.Map: delta 3, ratio 2). Shared state: nodes, under
 * coll.h's contract; see ptree.h for which arguments are consumed. */
#include <stdlib.h>

#include "runtime/coll/ptree.h"

void tnode_drop(tnode *t, const rf_coll_ops *ops)
{
	if (!t || !rc_drop(&t->rc))
		return;
	key_release(ops, t->k);
	val_release(ops, t->v);
	tnode_drop(t->l, ops); /* depth: the tree's height, under TMAX_HEIGHT */
	tnode_drop(t->r, ops);
	free(t);
}

/* A node over l and r (consumed); k and v get references of their own. NULL: -ENOMEM,
 * l and r dropped. */
static tnode *t_node(rf_val k, rf_val v, tnode *l, tnode *r, const rf_coll_ops *ops)
{
	tnode *t = malloc(sizeof(*t));
	if (!t) {
		tnode_drop(l, ops);
		tnode_drop(r, ops);
		return NULL;
	}
	atomic_init(&t->rc, 1);
	t->pad_ = 0;
	t->edit = 0;
	t->size = 1 + t_size(l) + t_size(r);
	t->l = l;
	t->r = r;
	t->k = k;
	t->v = v;
	key_retain(ops, k);
	val_retain(ops, v);
	return t;
}

/* (k, v) over l and r where the right side grew too heavy: r (consumed) is taken apart
 * and its pieces rebuilt around k. */
static tnode *rotate_l(rf_val k, rf_val v, tnode *l, tnode *r, const rf_coll_ops *ops)
{
	tnode *rl = r->l, *rr = r->r, *a, *b, *c;
	if (t_size(rl) < RATIO * t_size(rr)) { /* single */
		t_retain(rl);
		t_retain(rr);
		if (!(a = t_node(k, v, l, rl, ops))) {
			tnode_drop(rr, ops);
			tnode_drop(r, ops);
			return NULL;
		}
		c = t_node(r->k, r->v, a, rr, ops); /* r still alive: its k and v too */
		tnode_drop(r, ops);
		return c;
	}
	t_retain(rl->l); /* double */
	t_retain(rl->r);
	t_retain(rr);
	if (!(a = t_node(k, v, l, rl->l, ops))) {
		tnode_drop(rl->r, ops);
		tnode_drop(rr, ops);
		tnode_drop(r, ops);
		return NULL;
	}
	if (!(b = t_node(r->k, r->v, rl->r, rr, ops))) {
		tnode_drop(a, ops);
		tnode_drop(r, ops);
		return NULL;
	}
	c = t_node(rl->k, rl->v, a, b, ops);
	tnode_drop(r, ops);
	return c;
}

static tnode *rotate_r(rf_val k, rf_val v, tnode *l, tnode *r, const rf_coll_ops *ops)
{
	tnode *ll = l->l, *lr = l->r, *a, *b, *c;
	if (t_size(lr) < RATIO * t_size(ll)) { /* single */
		t_retain(ll);
		t_retain(lr);
		if (!(a = t_node(k, v, lr, r, ops))) {
			tnode_drop(ll, ops);
			tnode_drop(l, ops);
			return NULL;
		}
		c = t_node(l->k, l->v, ll, a, ops);
		tnode_drop(l, ops);
		return c;
	}
	t_retain(ll); /* double */
	t_retain(lr->l);
	t_retain(lr->r);
	if (!(a = t_node(k, v, lr->r, r, ops))) {
		tnode_drop(ll, ops);
		tnode_drop(lr->l, ops);
		tnode_drop(l, ops);
		return NULL;
	}
	if (!(b = t_node(l->k, l->v, ll, lr->l, ops))) {
		tnode_drop(a, ops);
		tnode_drop(l, ops);
		return NULL;
	}
	c = t_node(lr->k, lr->v, b, a, ops);
	tnode_drop(l, ops);
	return c;
}

/* A node for (k, v) over l and r (consumed), at most one entry out of balance. */
static tnode *balance(rf_val k, rf_val v, tnode *l, tnode *r, const rf_coll_ops *ops)
{
	size_t sl = t_size(l), sr = t_size(r);
	if (sl + sr > 1) {
		if (sr > DELTA * sl)
			return rotate_l(k, v, l, r, ops);
		if (sl > DELTA * sr)
			return rotate_r(k, v, l, r, ops);
	}
	return t_node(k, v, l, r, ops);
}

int ptree_assoc(const tnode *t, rf_val k, rf_val v, const torder *o, tnode **out, int *delta,
                bool *changed)
{
	*changed = true;
	if (!t) {
		*delta = 1;
		return (*out = t_node(k, v, NULL, NULL, o->ops)) ? 0 : -ENOMEM;
	}
	int c = t_cmp(o, k, t->k);
	if (c == 0) {
		*delta = 0;
		if (t->v == v) {
			*changed = false;
			*out = (tnode *)t;
			return 0;
		}
		t_retain(t->l);
		t_retain(t->r);
		return (*out = t_node(t->k, v, t->l, t->r, o->ops)) ? 0 : -ENOMEM;
	}
	tnode *n;
	int rc = ptree_assoc(c < 0 ? t->l : t->r, k, v, o, &n, delta, changed);
	if (rc < 0 || !*changed) {
		*out = (tnode *)t;
		return rc;
	}
	tnode *other = c < 0 ? t->r : t->l;
	t_retain(other);
	*out =
	    c < 0 ? balance(t->k, t->v, n, other, o->ops) : balance(t->k, t->v, other, n, o->ops);
	return *out ? 0 : -ENOMEM;
}

/* t (consumed) without its smallest (min) or largest entry, whose key and value come
 * back in *k, *v with a reference each for the caller. */
static int take_end(tnode *t, bool min, const rf_coll_ops *ops, rf_val *k, rf_val *v, tnode **rest)
{
	tnode *side = min ? t->l : t->r;
	if (!side) {
		*k = t->k;
		*v = t->v;
		key_retain(ops, *k);
		val_retain(ops, *v);
		*rest = min ? t->r : t->l;
		t_retain(*rest);
		tnode_drop(t, ops);
		return 0;
	}
	tnode *n;
	t_retain(side);
	int rc = take_end(side, min, ops, k, v, &n);
	if (rc < 0) {
		tnode_drop(t, ops);
		return rc;
	}
	tnode *other = min ? t->r : t->l;
	t_retain(other);
	*rest = min ? balance(t->k, t->v, n, other, ops) : balance(t->k, t->v, other, n, ops);
	tnode_drop(t, ops);
	if (!*rest) {
		key_release(ops, *k);
		val_release(ops, *v);
		return -ENOMEM;
	}
	return 0;
}

/* l and r (consumed) joined, every key of l before every key of r. */
static int glue(tnode *l, tnode *r, const rf_coll_ops *ops, tnode **out)
{
	if (!l || !r) {
		*out = l ? l : r;
		return 0;
	}
	bool from_left = t_size(l) > t_size(r);
	rf_val k, v;
	tnode *rest;
	int rc = take_end(from_left ? l : r, !from_left, ops, &k, &v, &rest);
	if (rc < 0) {
		tnode_drop(from_left ? r : l, ops);
		return rc;
	}
	*out = from_left ? balance(k, v, rest, r, ops) : balance(k, v, l, rest, ops);
	key_release(ops, k); /* the node took its own references */
	val_release(ops, v);
	return *out ? 0 : -ENOMEM;
}

int ptree_dissoc(const tnode *t, rf_val k, const torder *o, tnode **out, bool *changed)
{
	*changed = false;
	*out = (tnode *)t;
	if (!t)
		return 0;
	int c = t_cmp(o, k, t->k);
	if (c == 0) {
		*changed = true;
		t_retain(t->l);
		t_retain(t->r);
		return glue(t->l, t->r, o->ops, out);
	}
	tnode *n;
	int rc = ptree_dissoc(c < 0 ? t->l : t->r, k, o, &n, changed);
	if (rc < 0 || !*changed) {
		*out = (tnode *)t;
		return rc;
	}
	tnode *other = c < 0 ? t->r : t->l;
	t_retain(other);
	*out =
	    c < 0 ? balance(t->k, t->v, n, other, o->ops) : balance(t->k, t->v, other, n, o->ops);
	return *out ? 0 : -ENOMEM;
}
