/* runtime/coll/thm.c: transient hash maps (ringfold/phm.h: transient, assoc!, dissoc!,
 * persistent!). One owner's: no field is shared. It holds one reference to its root;
 * nodes carrying its token are reachable from it alone and change in place (coll.h). */
#include <stdlib.h>

#include "runtime/coll/hamt.h"

int rf_phm_transient(const rf_phm *m, rf_thm **out)
{
	if (!m || !out)
		return -EINVAL;
	rf_thm *t = malloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->edit = coll_edit_token();
	t->cnt = m->cnt;
	t->root = m->root;
	t->ops = m->ops;
	if (t->root)
		rc_retain(&t->root->rc);
	*out = t;
	return 0;
}

void rf_thm_free(rf_thm *t)
{
	if (!t)
		return;
	hnode_drop(t->root, t->ops);
	free(t);
}

size_t rf_thm_count(const rf_thm *t)
{
	return t ? t->cnt : 0;
}

int rf_thm_get(const rf_thm *t, rf_val key, rf_val not_found, rf_val *out)
{
	if (!t || !out)
		return -EINVAL;
	const rf_val *v = hamt_find(t->root, h_hash(t->ops, key), key, t->ops);
	*out = v ? *v : not_found;
	return 0;
}

/* The root becomes r: the transient's reference to the old one goes unless r is it. */
static void set_root(rf_thm *t, hnode *r)
{
	if (r != t->root)
		hnode_drop(t->root, t->ops);
	t->root = r;
}

int rf_thm_assoc(rf_thm *t, rf_val key, rf_val val)
{
	if (!t)
		return -EINVAL;
	hnode *r;
	int delta;
	bool changed;
	int rc = hamt_assoc(t->root, h_hash(t->ops, key), key, val, t->edit, t->ops, &r, &delta,
	                    &changed);
	if (rc < 0)
		return rc;
	set_root(t, r);
	t->cnt += (size_t)(ptrdiff_t)delta;
	return 0;
}

int rf_thm_dissoc(rf_thm *t, rf_val key)
{
	if (!t)
		return -EINVAL;
	hnode *r;
	bool changed;
	int rc = hamt_dissoc(t->root, 0, h_hash(t->ops, key), key, t->edit, t->ops, &r, &changed);
	if (rc < 0)
		return rc;
	if (changed) {
		set_root(t, r);
		t->cnt--;
	}
	return 0;
}

int rf_thm_persistent(rf_thm *t, rf_phm **out)
{
	if (!t || !out)
		return -EINVAL;
	rf_phm *m = cmem_alloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	atomic_init(&m->h.rc, 1);
	m->h.kind = COLL_PHM;
	m->pad_ = 0;
	m->cnt = t->cnt;
	m->root = t->root; /* the transient's reference moves in */
	m->ops = t->ops;
	free(t); /* its token dies with it: the nodes it owned are frozen */
	*out = m;
	return 0;
}
