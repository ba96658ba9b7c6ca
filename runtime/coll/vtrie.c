/* runtime/coll/vtrie.c: the vector trie's nodes and path operations (pvec_impl.h),
 * shared by persistent vectors and transients. Shared state: nodes, under coll.h's
 * contract; this file is where nodes are copied, counted and freed. */
#include <stdlib.h>
#include <string.h>

#include "runtime/coll/pvec_impl.h"

static void vnode_init(vnode *n, uint64_t edit)
{
	atomic_init(&n->rcf, 1 + VW * VN_FILL1);
	atomic_init(&n->lent, 0);
	n->own = -1;
	n->cap = VW;
	n->edit = edit;
	atomic_init(&n->lender, NULL);
}

vnode *vnode_alloc(uint64_t edit)
{
	vnode *n = cmem_alloc(sizeof(*n));
	if (!n)
		return NULL;
	vnode_init(n, edit);
	memset(n->kid, 0, sizeof(n->kid));
	return n;
}

vnode *vnode_leaf_of(const rf_val *xs, const rf_coll_ops *ops)
{
	vnode *n = cmem_alloc(sizeof(*n));
	if (!n)
		return NULL;
	vnode_init(n, 0);
	memcpy(n->x, xs, sizeof(n->x));
	if (ops_own_vals(ops))
		for (int j = 0; j < VW; j++)
			ops->retain(xs[j], ops->ctx);
	return n;
}

/* Bytes of a tail leaf's block: its marks, its own words, its vnode. */
static size_t tail_block_size(uint32_t cap)
{
	return cap * sizeof(coll_hdr) + sizeof(vtail_ext) + vnode_size(cap);
}

vnode *vnode_tail_alloc(uint32_t cap, size_t toff, uint32_t shift, const rf_coll_ops *ops)
{
	coll_hdr *b = cmem_alloc(tail_block_size(cap));
	if (!b)
		return NULL;
	for (uint32_t k = cap; k > 0; k--) { /* b[cap - k] is the mark of tlen k */
		atomic_init(&b[cap - k].rc, k);
		b[cap - k].kind = COLL_PVEC_MARK;
	}
	vtail_ext *e = (vtail_ext *)(b + cap);
	*e = (vtail_ext){.toff = toff, .ops = ops, .shift = shift};
	vnode *n = (vnode *)(e + 1);
	vnode_init(n, 0);
	atomic_init(&n->rcf, 1); /* fill 0 */
	n->cap = (uint8_t)cap;
	n->root = NULL;
	return n;
}

void vnode_tail_dealloc(vnode *t)
{
	cmem_free(vtail_mark(t, t->cap), tail_block_size(t->cap));
}

/* Release the elements of a leaf whose last reference was just dropped: its first fill
 * slots. Relaxed: every claim of a slot came before its claimer's reference was dropped,
 * on this same word (a trie leaf's fill never changes). */
static void leaf_release(const vnode *n, const rf_coll_ops *ops)
{
	uint32_t fill = vnode_fill_of(atomic_load_explicit(&n->rcf, memory_order_relaxed));
	if (ops && ops->release)
		for (uint32_t j = 0; j < fill; j++)
			ops->release(n->x[j], ops->ctx);
}

void vnode_tail_free(vnode *t)
{
	const vtail_ext *e = vtail_ext_of(t);
	leaf_release(t, e->ops);
	vnode_drop(t->root, e->shift, e->ops);
	vnode_tail_dealloc(t);
}

/* Recursion depth is bounded by the trie's height (at most 13 levels), twice over through
 * lenders. */
void vnode_drop(vnode *n, uint32_t level, const rf_coll_ops *ops)
{
	if (!n || !vnode_unref(n))
		return;
	/* relaxed: written before the reference we just took the last of was dropped */
	vnode *l = atomic_load_explicit(&n->lender, memory_order_relaxed);
	if (l) { /* every reference of n but slot own is l's */
		if (n->own >= 0 && level == 0)
			val_release(ops, n->x[n->own]);
		else if (n->own >= 0)
			vnode_drop(n->kid[n->own], level - VBITS, ops);
		/* release: n is done with l's references; pairs with lend()'s acquire */
		atomic_store_explicit(&l->lent, 0, memory_order_release);
		vnode_drop(l, level, ops);
		vnode_free(n);
		return;
	}
	if (level == 0)
		leaf_release(n, ops);
	else
		for (int j = 0; j < VW; j++)
			vnode_drop(n->kid[j], level - VBITS, ops); /* NULL: no-op */
	vnode_free(n);
}

/* n hands its references but slot `skip` to its persistent copy c, unless n lends
 * already or has borrowed before (hamt.h, "Lending"). */
static bool lend(const vnode *n, vnode *c, int skip)
{
	vnode *nn = (vnode *)n, *none = NULL;
	/* acquire: pairs with the release that cleared it, when n's borrower went */
	if (atomic_load_explicit(&nn->lent, memory_order_acquire) ||
	    atomic_load_explicit(&nn->lender, memory_order_relaxed))
		return false;
	/* relaxed: n's last dropper reads lender and own after taking the last reference,
	 * which orders it after our use of n */
	if (!atomic_compare_exchange_strong_explicit(&nn->lender, &none, c, memory_order_relaxed,
	                                             memory_order_relaxed))
		return false;
	nn->own = (int8_t)skip;
	/* c is not published yet */
	atomic_store_explicit(&c->rcf, 2 + VW * VN_FILL1, memory_order_relaxed);
	atomic_store_explicit(&c->lent, 1, memory_order_relaxed);
	return true;
}

/* c (fresh from cmem, nothing in it) becomes the copy vnode_editable describes. */
static vnode *vnode_fill(vnode *c, const vnode *n, uint32_t level, uint64_t edit, int skip,
                         const rf_coll_ops *ops)
{
	vnode_init(c, edit);
	memcpy(c->x, n->x, sizeof(c->x));
	if (!(!edit && lend(n, c, skip))) {
		if (level == 0) {
			if (ops_own_vals(ops))
				for (int j = 0; j < VW; j++)
					if (j != skip)
						ops->retain(n->x[j], ops->ctx);
		} else {
			for (int j = 0; j < VW; j++)
				if (j != skip)
					vnode_ref(n->kid[j]);
		}
	}
	if (skip >= 0 && level > 0)
		c->kid[skip] = NULL;
	return c;
}

vnode *vnode_editable(vnode *n, uint32_t level, uint64_t edit, int skip, const rf_coll_ops *ops)
{
	if (!n)
		return vnode_alloc(edit);
	if (coll_owned(n->edit, edit))
		return n;
	vnode *c = cmem_alloc(sizeof(*c));
	return c ? vnode_fill(c, n, level, edit, skip, ops) : NULL;
}

/* n itself if owned, else memory for its copy, filled (vnode_fill) once the operation
 * below has succeeded. */
static vnode *editable_later(vnode *n, uint64_t edit)
{
	if (coll_owned(n->edit, edit))
		return n;
	vnode *c = cmem_alloc(sizeof(vnode));
	if (c)
		c->cap = VW; /* vnode_free's size, should the operation fail before the fill */
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
	if (level == 0) {
		vnode *c = vnode_editable(n, level, edit, s, ops);
		if (!c)
			return -ENOMEM;
		val_retain(ops, x);
		if (c == n)
			val_release(ops, n->x[s]);
		c->x[s] = x;
		*out = c;
		return 0;
	}
	vnode *c = editable_later(n, edit), *k;
	if (!c)
		return -ENOMEM;
	int rc = vtrie_assoc(n->kid[s], level - VBITS, i, x, edit, ops, &k);
	if (rc < 0) {
		if (c != n)
			vnode_free(c);
		return rc;
	}
	if (c != n)
		vnode_fill(c, n, level, edit, s, ops);
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
	vnode *c = n ? editable_later(n, edit) : vnode_alloc(edit);
	if (!c)
		return -ENOMEM;
	vnode *k;
	if (level == VBITS) {
		k = leaf;
	} else if (n && n->kid[s]) {
		int rc = vtrie_push(n->kid[s], level - VBITS, pcnt, leaf, edit, ops, &k);
		if (rc < 0) {
			if (c != n)
				vnode_free(c); /* fresh: nothing in it */
			return rc;
		}
	} else if (!(k = new_path(level - VBITS, leaf, edit))) {
		if (c != n)
			vnode_free(c);
		return -ENOMEM;
	}
	if (!n) {
		c->kid[s] = k;
	} else {
		if (c != n)
			vnode_fill(c, n, level, edit, s, ops);
		set_kid(c, n, s, k, level, ops);
	}
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
		vnode_ref(*root); /* the caller keeps its own reference, as on a copy */
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
	if (s == 0 && level == VBITS) {
		*out = NULL; /* n goes: the caller drops it if in place, else unlinks it */
		return 0;
	}
	vnode *c = editable_later(n, edit), *k = NULL;
	if (!c)
		return -ENOMEM;
	if (level > VBITS) {
		int rc = vtrie_pop(n->kid[s], level - VBITS, pcnt, edit, ops, &k);
		if (rc < 0 || (!k && s == 0)) {
			if (c != n)
				vnode_free(c);
			*out = NULL; /* on success: n goes, as above */
			return rc;
		}
	}
	if (c != n)
		vnode_fill(c, n, level, edit, s, ops);
	set_kid(c, n, s, k, level, ops);
	*out = c;
	return 0;
}
