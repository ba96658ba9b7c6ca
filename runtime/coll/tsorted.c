/* runtime/coll/tsorted.c: transient sorted maps (ringfold/psorted.h: transient, assoc!,
 * dissoc!, get, count, persistent!). One owner's: no field is shared. The transient holds
 * one reference to its root; nodes carrying its token are reachable from it alone and
 * change in place (coll.h); the others are copied (and owned) before they change.
 *
 * assoc! makes the nodes on its path the transient's on the way down, inserts, and
 * rebalances in place on the way back up. A double rotation also changes the inner
 * grandchild, which may not be owned yet: its copy comes from `spare`, a reserve of one
 * node per level filled before anything changed, so an assoc! that fails has only copied
 * nodes (the map it holds is the same). dissoc! likewise: it owns the path to the key and
 * on to the entry that takes its place, then unlinks in place and rebalances on the way
 * up; there the heavy side is off the path, so a rotation may own its child and that
 * child's inner child: two spares per level, reserved first. */
#include <stdlib.h>

#include "runtime/coll/ptree.h"

int rf_psorted_transient(const rf_psorted *m, rf_tsorted **out)
{
	if (!m || !out)
		return -EINVAL;
	rf_tsorted *t = malloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->edit = coll_edit_token();
	t->root = m->root;
	t_retain(t->root);
	t->spare = NULL;
	t->nspare = 0;
	t->o = m->o;
	*out = t;
	return 0;
}

static void free_spares(rf_tsorted *t)
{
	while (t->spare) {
		tnode *n = t->spare;
		t->spare = n->l;
		free(n);
	}
	t->nspare = 0;
}

void rf_tsorted_free(rf_tsorted *t)
{
	if (!t)
		return;
	tnode_drop(t->root, t->o.ops);
	free_spares(t);
	free(t);
}

size_t rf_tsorted_count(const rf_tsorted *t)
{
	return t ? t_size(t->root) : 0;
}

int rf_tsorted_get(const rf_tsorted *t, rf_val key, rf_val not_found, rf_val *out)
{
	if (!t || !out)
		return -EINVAL;
	for (const tnode *n = t->root; n;) {
		int c = t_cmp(&t->o, key, n->k);
		if (c == 0) {
			*out = n->v;
			return 0;
		}
		n = c < 0 ? n->l : n->r;
	}
	*out = not_found;
	return 0;
}

/* *slot, not owned, becomes c (uninitialized): a copy owned by t, with references of its
 * own; the slot's reference to the old node goes. */
static void own_into(rf_tsorted *t, tnode **slot, tnode *c)
{
	tnode *o = *slot;
	const rf_coll_ops *ops = t->o.ops;
	atomic_init(&c->rc, 1);
	c->pad_ = 0;
	c->edit = t->edit;
	c->size = o->size;
	c->l = o->l;
	c->r = o->r;
	c->k = o->k;
	c->v = o->v;
	t_retain(c->l);
	t_retain(c->r);
	key_retain(ops, c->k);
	val_retain(ops, c->v);
	tnode_drop(o, ops); /* after the retains: o may have been the last holder */
	*slot = c;
}

static bool owned(const rf_tsorted *t, const tnode *n)
{
	return coll_owned(n->edit, t->edit);
}

/* *slot (not NULL) is t's, copied if it was not. */
static int own(rf_tsorted *t, tnode **slot)
{
	if (owned(t, *slot))
		return 0;
	tnode *c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	own_into(t, slot, c);
	return 0;
}

/* As own, from the reserve (never fails: filled before the change). */
static void own_spare(rf_tsorted *t, tnode **slot)
{
	if (owned(t, *slot))
		return;
	tnode *c = t->spare;
	t->spare = c->l;
	t->nspare--;
	own_into(t, slot, c);
}

static int reserve(rf_tsorted *t, size_t n)
{
	while (t->nspare < n) {
		tnode *c = malloc(sizeof(*c));
		if (!c)
			return -ENOMEM;
		c->l = t->spare;
		t->spare = c;
		t->nspare++;
	}
	return 0;
}

static void fix(tnode *n)
{
	n->size = 1 + t_size(n->l) + t_size(n->r);
}

/* *slot (owned, its size current) after one side gained or lost an entry: the rotations
 * of ptree.c's balance, done in place. After assoc! the heavy side's child is owned (it
 * is on the path, or a rotation below made it the root of that side from owned nodes);
 * after dissoc! it may not be, and is owned here. A double rotation also needs the inner
 * grandchild owned. Each owning takes a spare. */
static void rebalance(rf_tsorted *t, tnode **slot)
{
	tnode *n = *slot;
	size_t sl = t_size(n->l), sr = t_size(n->r);
	if (sl + sr <= 1)
		return;
	if (sr > DELTA * sl) {
		own_spare(t, &n->r);
		tnode *r = n->r;
		if (t_size(r->l) < RATIO * t_size(r->r)) { /* single */
			n->r = r->l;
			r->l = n;
			fix(n);
			fix(r);
			*slot = r;
			return;
		}
		own_spare(t, &r->l); /* double */
		tnode *rl = r->l;
		n->r = rl->l;
		r->l = rl->r;
		rl->l = n;
		rl->r = r;
		fix(n);
		fix(r);
		fix(rl);
		*slot = rl;
	} else if (sl > DELTA * sr) {
		own_spare(t, &n->l);
		tnode *l = n->l;
		if (t_size(l->r) < RATIO * t_size(l->l)) { /* single */
			n->l = l->r;
			l->r = n;
			fix(n);
			fix(l);
			*slot = l;
			return;
		}
		own_spare(t, &l->r); /* double */
		tnode *lr = l->r;
		n->l = lr->r;
		l->r = lr->l;
		lr->r = n;
		lr->l = l;
		fix(n);
		fix(l);
		fix(lr);
		*slot = lr;
	}
}

/* assoc! under *slot, at the given depth (1: the root); *added: an entry was added. */
static int tassoc(rf_tsorted *t, tnode **slot, rf_val k, rf_val v, size_t depth, bool *added)
{
	const rf_coll_ops *ops = t->o.ops;
	tnode *n = *slot;
	*added = false;
	if (!n) {
		/* the last allocations: a spare per level above, for their rotations */
		int rc = reserve(t, depth);
		if (rc < 0 || !(n = malloc(sizeof(*n))))
			return -ENOMEM;
		atomic_init(&n->rc, 1);
		n->pad_ = 0;
		n->edit = t->edit;
		n->size = 1;
		n->l = n->r = NULL;
		n->k = k;
		n->v = v;
		key_retain(ops, k);
		val_retain(ops, v);
		*slot = n;
		*added = true;
		return 0;
	}
	int c = t_cmp(&t->o, k, n->k);
	if (c == 0 && n->v == v)
		return 0;
	int rc = own(t, slot);
	if (rc < 0)
		return rc;
	n = *slot;
	if (c == 0) {
		val_retain(ops, v);
		val_release(ops, n->v);
		n->v = v;
		return 0;
	}
	if ((rc = tassoc(t, c < 0 ? &n->l : &n->r, k, v, depth + 1, added)) < 0 || !*added)
		return rc;
	n->size++;
	rebalance(t, slot);
	return 0;
}

int rf_tsorted_assoc(rf_tsorted *t, rf_val key, rf_val val)
{
	if (!t)
		return -EINVAL;
	bool added;
	return tassoc(t, &t->root, key, val, 1, &added);
}

/* Where the entry that replaces n (two children) comes from: the larger side, as
 * ptree.c's glue takes it (its largest key when left, its smallest when right). */
static bool from_left(const tnode *n)
{
	return t_size(n->l) > t_size(n->r);
}

/* Nodes on dissoc! k's path: from the root to k's node and on to its replacement; 0
 * when k is absent. */
static size_t dissoc_path(const rf_tsorted *t, rf_val k)
{
	size_t d = 0;
	for (const tnode *n = t->root; n; d++) {
		int c = t_cmp(&t->o, k, n->k);
		if (c == 0) {
			if (!n->l || !n->r)
				return d + 1;
			bool left = from_left(n);
			for (n = left ? n->l : n->r; n; n = left ? n->r : n->l)
				d++;
			return d + 1;
		}
		n = c < 0 ? n->l : n->r;
	}
	return 0;
}

/* Owns the nodes of dissoc_path(t, k) (k present). On failure some are owned copies:
 * the same entries. */
static int own_dissoc_path(rf_tsorted *t, rf_val k)
{
	tnode **slot = &t->root;
	int rc;
	for (;;) {
		if ((rc = own(t, slot)) < 0)
			return rc;
		int c = t_cmp(&t->o, k, (*slot)->k);
		if (c == 0)
			break;
		slot = c < 0 ? &(*slot)->l : &(*slot)->r;
	}
	tnode *n = *slot;
	if (!n->l || !n->r)
		return 0;
	bool left = from_left(n);
	for (slot = left ? &n->l : &n->r; *slot; slot = left ? &(*slot)->r : &(*slot)->l)
		if ((rc = own(t, slot)) < 0)
			return rc;
	return 0;
}

/* Unlinks the smallest (min) or largest entry under *slot (owned path) and hands its key
 * and value references to *k, *v. */
static void take_end(rf_tsorted *t, tnode **slot, bool min, rf_val *k, rf_val *v)
{
	tnode *n = *slot, **side = min ? &n->l : &n->r;
	if (!*side) {
		*k = n->k;
		*v = n->v;
		*slot = min ? n->r : n->l; /* n's reference to that child moves up */
		free(n);                   /* owned: this slot held its only reference */
		return;
	}
	take_end(t, side, min, k, v);
	n->size--;
	rebalance(t, slot);
}

/* Removes k (present, its dissoc_path owned) under *slot, in place. */
static void tdissoc(rf_tsorted *t, tnode **slot, rf_val k)
{
	const rf_coll_ops *ops = t->o.ops;
	tnode *n = *slot;
	int c = t_cmp(&t->o, k, n->k);
	if (c != 0) {
		tdissoc(t, c < 0 ? &n->l : &n->r, k);
		n->size--;
		rebalance(t, slot);
		return;
	}
	key_release(ops, n->k);
	val_release(ops, n->v);
	if (!n->l || !n->r) {
		*slot = n->l ? n->l : n->r;
		free(n);
		return;
	}
	bool left = from_left(n);
	take_end(t, left ? &n->l : &n->r, !left, &n->k, &n->v);
	n->size--;
	rebalance(t, slot);
}

int rf_tsorted_dissoc(rf_tsorted *t, rf_val key)
{
	if (!t)
		return -EINVAL;
	size_t d = dissoc_path(t, key);
	if (!d)
		return 0;
	int rc = reserve(t, 2 * d);
	if (rc == 0)
		rc = own_dissoc_path(t, key);
	if (rc < 0)
		return rc;
	tdissoc(t, &t->root, key);
	return 0;
}

int rf_tsorted_persistent(rf_tsorted *t, rf_psorted **out)
{
	if (!t || !out)
		return -EINVAL;
	rf_psorted *m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	atomic_init(&m->h.rc, 1);
	m->h.kind = COLL_PSORTED;
	m->pad_ = 0;
	m->root = t->root; /* the transient's reference moves in */
	m->o = t->o;
	free_spares(t);
	free(t); /* its token dies with it: the nodes it owned are frozen */
	*out = m;
	return 0;
}
