/* runtime/coll/hamt_dissoc.c: dissoc in the hash map trie (hamt.h), persistent (edit 0)
 * or in a transient's owned nodes. Keeps the canonical form: a child left with one entry
 * is pulled up into its parent. Shared state: nodes, under coll.h's contract. */
#include <stdlib.h>
#include <string.h>

#include "runtime/coll/hamt.h"

/* n without the pair at word w (and its references): in place when owned, else a copy
 * sharing the rest. The caller fixes the maps / count. */
static int remove_pair(hnode *n, uint32_t w, uint64_t edit, const rf_coll_ops *ops, hnode **out)
{
	uint32_t used = h_used(n), e = h_entries(n);
	hnode *c = n;
	if (h_owned(n, edit)) {
		key_release(ops, n->slot[w]);
		val_release(ops, n->slot[w + 1]);
	} else {
		if (!(c = hnode_alloc(n->kind, used - 2, edit)))
			return -ENOMEM;
		c->cn = n->cn;
		c->hash = n->hash;
		memcpy(c->slot, n->slot, (size_t)w * sizeof(rf_val));
		memcpy(c->slot + w, n->slot + w + 2, (size_t)(used - w - 2) * sizeof(rf_val));
		for (uint32_t i = 0; ops && i < 2 * (e - 1); i += 2) {
			key_retain(ops, c->slot[i]);
			val_retain(ops, c->slot[i + 1]);
		}
		for (uint32_t i = 2 * (e - 1); i < used - 2; i += 2)
			rc_retain(&((hnode *)(intptr_t)c->slot[i])->rc);
		*out = c;
		return 0;
	}
	memmove(&c->slot[w], &c->slot[w + 2], (size_t)(used - w - 2) * sizeof(rf_val));
	*out = c;
	return 0;
}

/* n with child j replaced by the one entry of `single` at bit: a new node (this happens
 * once per emptied subtree, so no in-place form). Same size: a pair for a child. */
static int pull_up(hnode *n, uint32_t bit, uint32_t j, const hnode *single, uint64_t edit,
                   const rf_coll_ops *ops, hnode **out)
{
	uint32_t used = h_used(n), d = h_entries(n), i = h_index(n->datamap, bit);
	uint32_t kids = h_children(n);
	hnode *c = hnode_alloc(H_BITMAP, used, edit);
	if (!c)
		return -ENOMEM;
	c->datamap = n->datamap | bit;
	c->nodemap = n->nodemap & ~bit;
	rf_val *s = c->slot;
	memcpy(s, n->slot, (size_t)(2 * i) * sizeof(rf_val));
	s[2 * i] = single->slot[0];
	s[2 * i + 1] = single->slot[1];
	memcpy(s + 2 * i + 2, n->slot + 2 * i, (size_t)(2 * (d - i)) * sizeof(rf_val));
	s += 2 * (d + 1);
	memcpy(s, n->slot + 2 * d, (size_t)(2 * j) * sizeof(rf_val));
	memcpy(s + 2 * j, n->slot + 2 * d + 2 * j + 2,
	       (size_t)(2 * (kids - j - 1)) * sizeof(rf_val));
	for (uint32_t w = 0; ops && w < 2 * (d + 1); w += 2) {
		key_retain(ops, c->slot[w]);
		val_retain(ops, c->slot[w + 1]);
	}
	for (uint32_t x = 0; x + 1 < kids; x++)
		rc_retain(&((hnode *)(intptr_t)s[2 * x])->rc);
	*out = c;
	return 0;
}

static int coll_dissoc(hnode *n, uint64_t h, rf_val k, uint64_t edit, const rf_coll_ops *ops,
                       hnode **out, bool *changed)
{
	if (h == n->hash)
		for (uint32_t i = 0; i < n->cn; i++)
			if (h_eq(ops, n->slot[2 * i], k)) {
				*changed = true;
				if (n->cn == 1) {
					*out = NULL;
					return 0;
				}
				int rc = remove_pair(n, 2 * i, edit, ops, out);
				if (rc == 0)
					(*out)->cn--;
				return rc;
			}
	*out = n;
	return 0;
}

int hamt_dissoc(hnode *n, uint32_t shift, uint64_t h, rf_val k, uint64_t edit,
                const rf_coll_ops *ops, hnode **out, bool *changed)
{
	*changed = false;
	*out = n;
	if (!n)
		return 0;
	if (n->kind == H_COLL)
		return coll_dissoc(n, h, k, edit, ops, out, changed);
	uint32_t bit = h_bit(h, shift);
	if (n->datamap & bit) {
		uint32_t i = h_index(n->datamap, bit);
		if (!h_eq(ops, n->slot[2 * i], k))
			return 0;
		*changed = true;
		if (h_used(n) == 2) {
			*out = NULL;
			return 0;
		}
		int rc = remove_pair(n, 2 * i, edit, ops, out);
		if (rc == 0)
			(*out)->datamap &= ~bit;
		return rc;
	}
	if (!(n->nodemap & bit))
		return 0;
	uint32_t j = h_index(n->nodemap, bit), w = h_kidw(n, j);
	hnode *kid = (hnode *)(intptr_t)n->slot[w], *nk, *c = n;
	/* n's copy is allocated before going down: nothing fails after a copy lends */
	if (!h_owned(n, edit) && !(c = hnode_alloc(H_BITMAP, h_used(n), edit)))
		return -ENOMEM;
	int rc = hamt_dissoc(kid, shift + HBITS, h, k, edit, ops, &nk, changed);
	if (rc < 0 || !*changed || nk == kid || h_single(nk) || !nk) {
		if (c != n)
			hnode_free(c); /* nothing in it yet */
		if (rc < 0 || !*changed)
			return rc;
	}
	if (h_single(nk)) {
		/* the child is down to one entry: it moves up into this node */
		if ((rc = pull_up(n, bit, j, nk, edit, ops, out)) < 0) {
			if (nk != kid)
				hnode_drop(nk, ops);
			return rc;
		}
		if (nk != kid)
			hnode_drop(nk, ops);
		return 0;
	}
	if (!nk) { /* cannot happen in canonical form (children hold two or more); kept total */
		uint32_t used = h_used(n);
		if (used == 2) {
			*out = NULL;
			return 0;
		}
		hnode *r = hnode_alloc(H_BITMAP, used - 2, edit);
		if (!r)
			return -ENOMEM;
		r->datamap = n->datamap;
		r->nodemap = n->nodemap & ~bit;
		memcpy(r->slot, n->slot, (size_t)w * sizeof(rf_val));
		memcpy(r->slot + w, n->slot + w + 2, (size_t)(used - w - 2) * sizeof(rf_val));
		uint32_t e = h_entries(r);
		for (uint32_t i = 0; ops && i < 2 * e; i += 2) {
			key_retain(ops, r->slot[i]);
			val_retain(ops, r->slot[i + 1]);
		}
		for (uint32_t i = 2 * e; i < used - 2; i += 2)
			rc_retain(&((hnode *)(intptr_t)r->slot[i])->rc);
		*out = r;
		return 0;
	}
	if (nk == kid) { /* changed in place (so n is owned too): its bitmaps changed */
		n->slot[w + 1] = (rf_val)h_maps(nk);
		*out = n;
		return 0;
	}
	if (c == n)
		hnode_drop(kid, ops);
	else
		hnode_fill(c, n, edit, (int)w, ops);
	h_setkid(c, w, nk);
	*out = c;
	return 0;
}
