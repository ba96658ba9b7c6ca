/* runtime/coll/tvec.c: transient vectors (ringfold/pvec.h: transient, conj!, assoc!, pop!,
 * persistent!). A transient is one owner's: no field of it is shared. The nodes it owns
 * (edit == t->edit) are reachable from it alone and are changed in place; the nodes it
 * shares with persistent versions are copied (and owned) on first change, as coll.h's
 * contract says. The transient holds one reference to its root and owns its tail leaf
 * outright (slots past tlen are garbage, so the tail is never dropped as a node). */
#include <stdlib.h>
#include <string.h>

#include "runtime/base/assert.h"
#include "runtime/coll/pvec_impl.h"

static void tail_free(rf_tvec *t)
{
	if (ops_own_vals(t->ops))
		for (uint32_t j = 0; j < t->tlen; j++)
			t->ops->release(t->tail->x[j], t->ops->ctx);
	vnode_free(t->tail);
}

void rf_tvec_free(rf_tvec *t)
{
	if (!t)
		return;
	vnode_drop(t->root, t->shift, t->ops);
	tail_free(t);
	free(t);
}

static rf_tvec *tv_alloc(const rf_coll_ops *ops)
{
	rf_tvec *t = malloc(sizeof(*t));
	if (!t)
		return NULL;
	t->edit = coll_edit_token();
	t->ops = ops;
	t->shift = VBITS;
	t->tlen = 0;
	t->pcnt = 0;
	t->root = NULL;
	if (!(t->tail = vnode_alloc(t->edit))) {
		free(t);
		return NULL;
	}
	return t;
}

int rf_pvec_transient(const rf_pvec *v, rf_tvec **out)
{
	if (!v || !out)
		return -EINVAL;
	pview w = pv_view(v);
	rf_tvec *t = tv_alloc(w.ops);
	if (!t)
		return -ENOMEM;
	if (w.start != 0 || w.end != w.pcnt) { /* a subvec view: copy its elements */
		const rf_val *run;
		size_t len;
		for (size_t i = 0; i < w.end - w.start; i += len) {
			rf_pvec_chunk(v, i, &run, &len);
			for (size_t j = 0; j < len; j++)
				if (rf_tvec_conj(t, run[j]) < 0) {
					rf_tvec_free(t);
					return -ENOMEM;
				}
		}
		*out = t;
		return 0;
	}
	t->shift = w.shift;
	t->pcnt = w.pcnt;
	t->tlen = w.tlen;
	t->root = vnode_ref(w.root);
	if (w.tlen)
		memcpy(t->tail->x, w.tail->x, (size_t)w.tlen * sizeof(rf_val));
	if (ops_own_vals(w.ops))
		for (uint32_t j = 0; j < w.tlen; j++)
			w.ops->retain(w.tail->x[j], w.ops->ctx);
	*out = t;
	return 0;
}

size_t rf_tvec_count(const rf_tvec *t)
{
	return t ? t->pcnt : 0;
}

int rf_tvec_nth(const rf_tvec *t, size_t i, rf_val *out)
{
	if (!t || !out)
		return -EINVAL;
	if (i >= t->pcnt)
		return -ERANGE;
	size_t toff = t->pcnt - t->tlen;
	*out = i >= toff ? t->tail->x[i - toff] : pv_leaf(t->root, t->shift, i)->x[i & VMASK];
	return 0;
}

/* The transient's root becomes r: its reference to the old one goes unless r is it. */
static void set_root(rf_tvec *t, vnode *r, uint32_t old_shift)
{
	if (r != t->root)
		vnode_drop(t->root, old_shift, t->ops);
	t->root = r;
}

int rf_tvec_conj(rf_tvec *t, rf_val x)
{
	if (!t)
		return -EINVAL;
	if (t->tlen == VW) { /* the full tail moves into the trie as it is: no copy */
		vnode *tail = vnode_alloc(t->edit);
		if (!tail)
			return -ENOMEM;
		vnode *root = t->root;
		uint32_t shift = t->shift;
		int rc = vtrie_push_root(&root, &shift, t->pcnt, t->tail, t->edit, t->ops);
		if (rc < 0) {
			vnode_free(tail);
			return rc;
		}
		set_root(t, root, t->shift);
		t->shift = shift;
		t->tail = tail;
		t->tlen = 0;
	}
	val_retain(t->ops, x);
	t->tail->x[t->tlen++] = x;
	t->pcnt++;
	return 0;
}

int rf_tvec_assoc(rf_tvec *t, size_t i, rf_val x)
{
	if (!t)
		return -EINVAL;
	if (i > t->pcnt)
		return -ERANGE;
	if (i == t->pcnt)
		return rf_tvec_conj(t, x);
	size_t toff = t->pcnt - t->tlen;
	if (i >= toff) {
		val_retain(t->ops, x);
		val_release(t->ops, t->tail->x[i - toff]);
		t->tail->x[i - toff] = x;
		return 0;
	}
	vnode *r;
	int rc = vtrie_assoc(t->root, t->shift, i, x, t->edit, t->ops, &r);
	if (rc < 0)
		return rc;
	set_root(t, r, t->shift);
	return 0;
}

int rf_tvec_pop(rf_tvec *t)
{
	if (!t)
		return -EINVAL;
	if (t->pcnt == 0)
		return -ERANGE;
	if (t->tlen > 1 || t->pcnt == 1) {
		val_release(t->ops, t->tail->x[--t->tlen]);
		t->pcnt--;
		return 0;
	}
	/* the tail empties: a copy of the trie's last leaf becomes the tail */
	size_t toff = t->pcnt - 1;
	vnode *tail = vnode_alloc(t->edit);
	if (!tail)
		return -ENOMEM;
	memcpy(tail->x, pv_leaf(t->root, t->shift, toff - 1)->x, sizeof(tail->x));
	if (ops_own_vals(t->ops))
		for (int j = 0; j < VW; j++)
			t->ops->retain(tail->x[j], t->ops->ctx);
	vnode *r;
	int rc = vtrie_pop(t->root, t->shift, toff, t->edit, t->ops, &r);
	if (rc < 0) {
		vnode_drop(tail, 0, t->ops);
		return rc;
	}
	set_root(t, r, t->shift);
	if (r && t->shift > VBITS && !r->kid[1]) {
		vnode *only = r->kid[0];
		vnode_ref(only);
		vnode_drop(r, t->shift, t->ops);
		t->root = only;
		t->shift -= VBITS;
	}
	tail_free(t);
	t->tail = tail;
	t->tlen = VW;
	t->pcnt--;
	return 0;
}

int rf_tvec_persistent(rf_tvec *t, rf_pvec **out)
{
	if (!t || !out)
		return -EINVAL;
	/* the transient's references move into the version: the root into a tail leaf that
	 * takes the elements of its tail, or an empty version */
	pview w = {.pcnt = t->pcnt,
	           .end = t->pcnt,
	           .tlen = t->tlen,
	           .shift = t->shift,
	           .root = t->root,
	           .ops = t->ops};
	rf_pvec *n = NULL;
	if (t->tlen) {
		w.tail = vnode_tail_alloc(VW, t->pcnt - t->tlen, t->shift, t->ops);
		if (!w.tail)
			return -ENOMEM;
		memcpy(w.tail->x, t->tail->x, (size_t)t->tlen * sizeof(rf_val));
		vnode_set_fill(w.tail, t->tlen);
		w.tail->root = t->root;
	} else if (!(n = pv_alloc())) {
		return -ENOMEM;
	}
	RF_ASSERT(t->tlen || (!t->pcnt && !t->root));
	vnode_free(t->tail);
	free(t); /* its token dies with it: the nodes it owned are frozen */
	*out = pv_make(&w, n);
	return 0;
}

int rf_pvec_from(const rf_val *xs, size_t n, const rf_coll_ops *ops, rf_pvec **out)
{
	if (!out || (!xs && n) || !coll_ops_ok(ops))
		return -EINVAL;
	rf_tvec *t = tv_alloc(ops);
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (rf_tvec_conj(t, xs[i]) < 0) {
			rf_tvec_free(t);
			return -ENOMEM;
		}
	int rc = rf_tvec_persistent(t, out);
	if (rc < 0)
		rf_tvec_free(t);
	return rc;
}
