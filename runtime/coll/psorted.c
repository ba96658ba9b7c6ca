/* runtime/coll/psorted.c: persistent sorted map versions (ringfold/psorted.h): new, get,
 * assoc, dissoc, nth and iteration. Shared state: versions and nodes under coll.h's
 * contract; a version is written only before it is returned. */
#include <stdlib.h>
#include <string.h>

#include "runtime/coll/ptree.h"

static rf_psorted *ps_alloc(tnode *root, const torder *o)
{
	rf_psorted *m = malloc(sizeof(*m));
	if (!m)
		return NULL;
	atomic_init(&m->h.rc, 1);
	m->h.kind = COLL_PSORTED;
	m->pad_ = 0;
	m->root = root;
	m->o = *o;
	return m;
}

int rf_psorted_new(rf_compare_fn cmp, rf_val ctx, const rf_coll_ops *ops, rf_psorted **out)
{
	if (!out || !coll_ops_ok(ops))
		return -EINVAL;
	torder o = {cmp, ctx, ops};
	return (*out = ps_alloc(NULL, &o)) ? 0 : -ENOMEM;
}

void rf_psorted_retain(rf_psorted *m)
{
	if (m)
		rc_retain(&m->h.rc);
}

void rf_psorted_release(rf_psorted *m)
{
	if (m && rc_drop(&m->h.rc)) {
		tnode_drop(m->root, m->o.ops);
		free(m);
	}
}

size_t rf_psorted_count(const rf_psorted *m)
{
	return m ? t_size(m->root) : 0;
}

static const tnode *find(const rf_psorted *m, rf_val key)
{
	const tnode *t = m->root;
	while (t) {
		int c = t_cmp(&m->o, key, t->k);
		if (c == 0)
			return t;
		t = c < 0 ? t->l : t->r;
	}
	return NULL;
}

int rf_psorted_get(const rf_psorted *m, rf_val key, rf_val not_found, rf_val *out)
{
	if (!m || !out)
		return -EINVAL;
	const tnode *t = find(m, key);
	*out = t ? t->v : not_found;
	return 0;
}

bool rf_psorted_contains(const rf_psorted *m, rf_val key)
{
	return m && find(m, key);
}

/* A new version over root r (its reference moves in), or over m's root when nothing
 * changed: never m itself, since owning references take a result equal to the value they
 * hold as that same reference (atom.h). */
static int ps_result(const rf_psorted *m, tnode *r, bool changed, rf_psorted **out)
{
	if (!changed)
		t_retain(r = m->root);
	rf_psorted *n = ps_alloc(r, &m->o);
	if (!n) {
		tnode_drop(r, m->o.ops);
		return -ENOMEM;
	}
	*out = n;
	return 0;
}

int rf_psorted_assoc(const rf_psorted *m, rf_val key, rf_val val, rf_psorted **out)
{
	if (!m || !out)
		return -EINVAL;
	tnode *r;
	int delta;
	bool changed;
	int rc = ptree_assoc(m->root, key, val, &m->o, &r, &delta, &changed);
	return rc < 0 ? rc : ps_result(m, r, changed, out);
}

int rf_psorted_dissoc(const rf_psorted *m, rf_val key, rf_psorted **out)
{
	if (!m || !out)
		return -EINVAL;
	tnode *r;
	bool changed;
	int rc = ptree_dissoc(m->root, key, &m->o, &r, &changed);
	return rc < 0 ? rc : ps_result(m, r, changed, out);
}

int rf_psorted_nth(const rf_psorted *m, size_t i, rf_val *key, rf_val *val)
{
	if (!m)
		return -EINVAL;
	const tnode *t = m->root;
	while (t) {
		size_t sl = t_size(t->l);
		if (i < sl) {
			t = t->l;
		} else if (i == sl) {
			if (key)
				*key = t->k;
			if (val)
				*val = t->v;
			return 0;
		} else {
			i -= sl + 1;
			t = t->r;
		}
	}
	return -ERANGE;
}

/* The iterator: the path of nodes still to visit, the next one on top. */
typedef struct t_iter {
	uint32_t kind; /* COLL_PSORTED (coll.h) */
	int depth;
	const tnode *stack[TMAX_HEIGHT];
} t_iter;

_Static_assert(sizeof(t_iter) <= sizeof(rf_coll_iter), "rf_coll_iter too small");

static void push_left(t_iter *s, const tnode *t)
{
	for (; t && s->depth < TMAX_HEIGHT; t = t->l)
		s->stack[s->depth++] = t;
}

void rf_psorted_iter_init(const rf_psorted *m, rf_coll_iter *it)
{
	if (!it)
		return;
	t_iter *s = (t_iter *)(void *)it;
	s->kind = COLL_PSORTED;
	s->depth = 0;
	if (m)
		push_left(s, m->root);
}

void rf_psorted_iter_from(const rf_psorted *m, rf_val key, rf_coll_iter *it)
{
	if (!it)
		return;
	t_iter *s = (t_iter *)(void *)it;
	s->kind = COLL_PSORTED;
	s->depth = 0;
	for (const tnode *t = m ? m->root : NULL; t && s->depth < TMAX_HEIGHT;) {
		if (t_cmp(&m->o, key, t->k) <=
		    0) { /* t is at or after key: visit it, after its left */
			s->stack[s->depth++] = t;
			t = t->l;
		} else {
			t = t->r;
		}
	}
}

bool psorted_iter_next(rf_coll_iter *it, rf_val *key, rf_val *val)
{
	t_iter *s = (t_iter *)(void *)it;
	if (s->depth == 0)
		return false;
	const tnode *t = s->stack[--s->depth];
	if (key)
		*key = t->k;
	if (val)
		*val = t->v;
	push_left(s, t->r);
	return true;
}
