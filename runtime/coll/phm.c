/* runtime/coll/phm.c: persistent hash map versions (ringfold/phm.h): new, get, assoc,
 * dissoc, update, merge. Shared state: versions and nodes under coll.h's contract; a
 * version is written only before it is returned. */
#include <stdlib.h>

#include "runtime/coll/hamt.h"

static rf_phm *phm_alloc(size_t cnt, hnode *root, const rf_coll_ops *ops)
{
	rf_phm *m = cmem_alloc(sizeof(*m));
	if (!m)
		return NULL;
	atomic_init(&m->h.rc, 1);
	m->h.kind = COLL_PHM;
	m->pad_ = 0;
	m->cnt = cnt;
	m->root = root;
	m->ops = ops;
	return m;
}

int rf_phm_new(const rf_coll_ops *ops, rf_phm **out)
{
	if (!out || !coll_ops_ok(ops))
		return -EINVAL;
	return (*out = phm_alloc(0, NULL, ops)) ? 0 : -ENOMEM;
}

void rf_phm_retain(rf_phm *m)
{
	if (m)
		rc_retain(&m->h.rc);
}

void rf_phm_release(rf_phm *m)
{
	if (m && rc_drop(&m->h.rc)) {
		hnode_drop(m->root, m->ops);
		cmem_free(m, sizeof(*m));
	}
}

size_t rf_phm_count(const rf_phm *m)
{
	return m ? m->cnt : 0;
}

/* A get through the map's ops: out of line, so that the word-key path saves no registers
 * and ends in a tail call. */
__attribute__((noinline)) static int get_ops(const rf_phm *m, rf_val key, rf_val not_found,
                                             rf_val *out)
{
	const rf_val *v = hamt_find(m->root, h_hash(m->ops, key), key, m->ops);
	*out = v ? *v : not_found;
	return 0;
}

int rf_phm_get(const rf_phm *m, rf_val key, rf_val not_found, rf_val *out)
{
	if (!m || !out)
		return -EINVAL;
	if (!m->ops || (!m->ops->hash && !m->ops->eq)) /* word keys, the default hash */
		return hamt_get_word(m->root, key, not_found, out);
	return get_ops(m, key, not_found, out);
}

bool rf_phm_contains(const rf_phm *m, rf_val key)
{
	return m && hamt_find(m->root, h_hash(m->ops, key), key, m->ops);
}

/* The version n (allocated before the trie changed: nothing may fail after a node has
 * lent, hamt.h) for root r (its reference moves in), or for m's root when nothing
 * changed: never m itself, since owning references take a result equal to the value they
 * hold as that same reference (atom.h). */
static int phm_result(const rf_phm *m, rf_phm *n, hnode *r, bool changed, int delta, rf_phm **out)
{
	if (!changed) {
		r = m->root;
		if (r)
			rc_retain(&r->rc);
		delta = 0;
	}
	n->cnt = m->cnt + (size_t)(ptrdiff_t)delta;
	n->root = r;
	*out = n;
	return 0;
}

int rf_phm_assoc(const rf_phm *m, rf_val key, rf_val val, rf_phm **out)
{
	if (!m || !out)
		return -EINVAL;
	rf_phm *n = phm_alloc(0, NULL, m->ops);
	if (!n)
		return -ENOMEM;
	hnode *r;
	int delta;
	bool changed;
	int rc =
	    hamt_assoc(m->root, h_hash(m->ops, key), key, val, 0, m->ops, &r, &delta, &changed);
	if (rc < 0) {
		cmem_free(n, sizeof(*n));
		return rc;
	}
	return phm_result(m, n, r, changed, delta, out);
}

int rf_phm_dissoc(const rf_phm *m, rf_val key, rf_phm **out)
{
	if (!m || !out)
		return -EINVAL;
	rf_phm *n = phm_alloc(0, NULL, m->ops);
	if (!n)
		return -ENOMEM;
	hnode *r;
	bool changed;
	int rc = hamt_dissoc(m->root, 0, h_hash(m->ops, key), key, 0, m->ops, &r, &changed);
	if (rc < 0) {
		cmem_free(n, sizeof(*n));
		return rc;
	}
	return phm_result(m, n, r, changed, -1, out);
}

int rf_phm_update(const rf_phm *m, rf_val key, rf_update_fn f, rf_val arg, rf_phm **out)
{
	if (!m || !f || !out)
		return -EINVAL;
	uint64_t h = h_hash(m->ops, key);
	const rf_val *old = hamt_find(m->root, h, key, m->ops);
	rf_val v = RF_NIL;
	int rc = f(old ? *old : RF_NIL, arg, &v);
	if (rc < 0)
		return rc;
	rf_phm *n = phm_alloc(0, NULL, m->ops);
	if (!n)
		return -ENOMEM;
	hnode *r;
	int delta;
	bool changed;
	if ((rc = hamt_assoc(m->root, h, key, v, 0, m->ops, &r, &delta, &changed)) < 0) {
		cmem_free(n, sizeof(*n));
		return rc;
	}
	return phm_result(m, n, r, changed, delta, out);
}

int rf_phm_merge(const rf_phm *a, const rf_phm *b, rf_phm **out)
{
	if (!a || !b || !out || a->ops != b->ops)
		return -EINVAL;
	if (b->cnt == 0 || a->cnt == 0) { /* the other's root, in a version of its own */
		const rf_phm *same = b->cnt == 0 ? a : b;
		if (!(*out = phm_alloc(same->cnt, same->root, same->ops)))
			return -ENOMEM;
		if (same->root)
			rc_retain(&same->root->rc);
		return 0;
	}
	rf_thm *t;
	int rc = rf_phm_transient(a, &t);
	if (rc < 0)
		return rc;
	rf_coll_iter it;
	rf_val k, v;
	rf_phm_iter_init(b, &it);
	while (rf_coll_iter_next(&it, &k, &v))
		if ((rc = rf_thm_assoc(t, k, v)) < 0) {
			rf_thm_free(t);
			return rc;
		}
	if ((rc = rf_thm_persistent(t, out)) < 0)
		rf_thm_free(t);
	return rc;
}

int rf_phm_inc_op(rf_val m, rf_val key, rf_val *out)
{
	rf_phm *n = NULL;
	int rc = rf_phm_update(rf_to_ptr(m), key, rf_inc, 0, &n);
	*out = rf_from_ptr(n);
	return rc;
}

int rf_phm_dissoc_op(rf_val m, rf_val key, rf_val *out)
{
	rf_phm *n = NULL;
	int rc = rf_phm_dissoc(rf_to_ptr(m), key, &n);
	*out = rf_from_ptr(n);
	return rc;
}
