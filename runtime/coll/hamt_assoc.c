/* runtime/coll/hamt_assoc.c: assoc in the hash map trie (hamt.h), for persistent maps
 * (edit 0: every node on the path is copied) and transients (owned nodes change in
 * place). Shared state: nodes, under coll.h's contract. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/coll/hamt.h"

/* Room for `need` words: exact for persistent nodes; transients get spare room so that
 * the next inserts happen in place. A bitmap node never needs more than 64. */
static uint32_t room(uint8_t kind, uint32_t need, uint64_t edit)
{
	if (!edit)
		return need;
	uint32_t cap = need < 4 ? 4 : need * 2;
	return kind == H_BITMAP && cap > 64 ? 64 : cap;
}

/* A node at level shift holding two entries (references taken here). */
static hnode *h_pair(uint32_t shift, uint64_t h1, rf_val k1, rf_val v1, uint64_t h2, rf_val k2,
                     rf_val v2, uint64_t edit, const rf_coll_ops *ops)
{
	hnode *n;
	if (h1 == h2) {
		if (!(n = hnode_alloc(H_COLL, room(H_COLL, 4, edit), edit)))
			return NULL;
		n->hash = h1;
		n->cn = 2;
	} else {
		uint32_t b1 = h_bit(h1, shift), b2 = h_bit(h2, shift);
		if (b1 == b2) {
			hnode *sub = h_pair(shift + HBITS, h1, k1, v1, h2, k2, v2, edit, ops);
			if (!sub)
				return NULL;
			if (!(n = hnode_alloc(H_BITMAP, room(H_BITMAP, 2, edit), edit))) {
				hnode_drop(sub, ops);
				return NULL;
			}
			n->datamap = 0;
			n->nodemap = b1;
			h_setkid(n, 0, sub);
			return n;
		}
		if (!(n = hnode_alloc(H_BITMAP, room(H_BITMAP, 4, edit), edit)))
			return NULL;
		n->datamap = b1 | b2;
		n->nodemap = 0;
		if (b2 < b1) {
			rf_val tk = k1, tv = v1;
			k1 = k2, v1 = v2, k2 = tk, v2 = tv;
		}
	}
	n->slot[0] = k1;
	n->slot[1] = v1;
	n->slot[2] = k2;
	n->slot[3] = v2;
	key_retain(ops, k1);
	val_retain(ops, v1);
	key_retain(ops, k2);
	val_retain(ops, v2);
	return n;
}

/* n (a node to copy from, or n itself when owned) with its value slot s set to v. */
static int set_value(hnode *n, uint32_t s, rf_val v, uint64_t edit, const rf_coll_ops *ops,
                     hnode **out)
{
	hnode *c = n;
	if (!h_owned(n, edit))
		c = hnode_copy(n, room(n->kind, h_used(n), edit), edit, (int)s, ops);
	if (!c)
		return -ENOMEM;
	val_retain(ops, v);
	if (c == n)
		val_release(ops, n->slot[s]);
	c->slot[s] = v;
	*out = c;
	return 0;
}

/* n with the pair (k, v) inserted at word w (k, v referenced here): in place when owned
 * with room, else a new node. The caller fixes the maps / count. */
static int insert_pair(hnode *n, uint32_t w, rf_val k, rf_val v, uint64_t edit,
                       const rf_coll_ops *ops, hnode **out)
{
	uint32_t used = h_used(n);
	hnode *c = n;
	if (!h_owned(n, edit) || n->cap < used + 2) {
		if (!(c = hnode_copy(n, room(n->kind, used + 2, edit), edit, -1, ops)))
			return -ENOMEM;
	}
	memmove(&c->slot[w + 2], &c->slot[w], (size_t)(used - w) * sizeof(rf_val));
	c->slot[w] = k;
	c->slot[w + 1] = v;
	key_retain(ops, k);
	val_retain(ops, v);
	*out = c;
	return 0;
}

static int assoc_rec(hnode *n, uint32_t shift, uint64_t h, rf_val k, rf_val v, uint64_t edit,
                     const rf_coll_ops *ops, hnode **out, int *delta, bool *changed);

static int coll_assoc(hnode *n, uint32_t shift, uint64_t h, rf_val k, rf_val v, uint64_t edit,
                      const rf_coll_ops *ops, hnode **out, int *delta, bool *changed)
{
	if (h != n->hash) {
		/* another hash reaches this collision node: put it under a bitmap node, as
		 * Clojure's HashCollisionNode does, and insert there */
		hnode *b = hnode_alloc(H_BITMAP, room(H_BITMAP, 2, edit), edit);
		if (!b)
			return -ENOMEM;
		b->datamap = 0;
		b->nodemap = h_bit(n->hash, shift);
		h_setkid(b, 0, n);
		rc_retain(&n->rc);
		int rc = assoc_rec(b, shift, h, k, v, edit, ops, out, delta, changed);
		if (rc < 0 || *out != b)
			hnode_drop(b, ops);
		return rc;
	}
	for (uint32_t i = 0; i < n->cn; i++)
		if (h_eq(ops, n->slot[2 * i], k)) {
			*delta = 0;
			if (n->slot[2 * i + 1] == v) {
				*changed = false;
				*out = n;
				return 0;
			}
			*changed = true;
			return set_value(n, 2 * i + 1, v, edit, ops, out);
		}
	int rc = insert_pair(n, 2 * n->cn, k, v, edit, ops, out);
	if (rc < 0)
		return rc;
	(*out)->cn++;
	*delta = 1;
	*changed = true;
	return 0;
}

/* Entry i of n (at word 2i) gives way to a child holding it and (k, v): a new node with
 * one pair fewer and one child (two words) more. */
static int push_down(hnode *n, uint32_t shift, uint32_t bit, uint32_t i, uint64_t h, rf_val k,
                     rf_val v, uint64_t edit, const rf_coll_ops *ops, hnode **out)
{
	rf_val ek = n->slot[2 * i], ev = n->slot[2 * i + 1];
	hnode *sub = h_pair(shift + HBITS, h_hash(ops, ek), ek, ev, h, k, v, edit, ops);
	if (!sub)
		return -ENOMEM;
	uint32_t used = h_used(n), d = h_entries(n), j = h_index(n->nodemap, bit);
	uint32_t kids = h_children(n);
	hnode *c = hnode_alloc(H_BITMAP, room(H_BITMAP, used, edit), edit);
	if (!c) {
		hnode_drop(sub, ops);
		return -ENOMEM;
	}
	c->datamap = n->datamap & ~bit;
	c->nodemap = n->nodemap | bit;
	/* pairs before i, pairs after i, children before j, sub, children from j */
	rf_val *dst = c->slot;
	memcpy(dst, n->slot, (size_t)(2 * i) * sizeof(rf_val));
	memcpy(dst + 2 * i, n->slot + 2 * i + 2, (size_t)(2 * (d - i - 1)) * sizeof(rf_val));
	dst += 2 * (d - 1);
	memcpy(dst, n->slot + 2 * d, (size_t)(2 * j) * sizeof(rf_val));
	h_setkid(c, 2 * (d - 1) + 2 * j, sub);
	memcpy(dst + 2 * j + 2, n->slot + 2 * d + 2 * j, (size_t)(2 * (kids - j)) * sizeof(rf_val));
	/* c's references: every pair and child it shares with n (sub's is its own; the
	 * moved pair's are sub's too, n keeps its own to them) */
	*out = c;
	if (!kids && !h_counts_entries(ops))
		return 0; /* nothing to take (hnode_share) */
	if (!edit && hnode_lend(n, c, (int)(2 * i), (int)(2 * i + 1)))
		return 0;
	for (uint32_t w = 0; ops && w < 2 * (d - 1); w += 2) {
		key_retain(ops, c->slot[w]);
		val_retain(ops, c->slot[w + 1]);
	}
	for (uint32_t x = 0; x <= kids; x++)
		if (x != j)
			rc_retain(&((hnode *)(intptr_t)dst[2 * x])->rc);
	return 0;
}

static int assoc_rec(hnode *n, uint32_t shift, uint64_t h, rf_val k, rf_val v, uint64_t edit,
                     const rf_coll_ops *ops, hnode **out, int *delta, bool *changed)
{
	*changed = true;
	*delta = 1;
	if (!n) {
		hnode *c = hnode_alloc(H_BITMAP, room(H_BITMAP, 2, edit), edit);
		if (!c)
			return -ENOMEM;
		c->datamap = h_bit(h, shift);
		c->nodemap = 0;
		c->slot[0] = k;
		c->slot[1] = v;
		key_retain(ops, k);
		val_retain(ops, v);
		*out = c;
		return 0;
	}
	if (n->kind == H_COLL)
		return coll_assoc(n, shift, h, k, v, edit, ops, out, delta, changed);
	uint32_t bit = h_bit(h, shift);
	if (n->datamap & bit) {
		uint32_t i = h_index(n->datamap, bit);
		if (!h_eq(ops, n->slot[2 * i], k))
			return push_down(n, shift, bit, i, h, k, v, edit, ops, out);
		*delta = 0;
		if (n->slot[2 * i + 1] == v) {
			*changed = false;
			*out = n;
			return 0;
		}
		return set_value(n, 2 * i + 1, v, edit, ops, out);
	}
	if (n->nodemap & bit) {
		uint32_t w = h_kidw(n, h_index(n->nodemap, bit));
		hnode *kid = (hnode *)(intptr_t)n->slot[w], *nk, *c = n;
		/* n's copy is allocated before going down: nothing fails after a copy lends */
		if (!h_owned(n, edit) &&
		    !(c = hnode_alloc(H_BITMAP, room(H_BITMAP, h_used(n), edit), edit)))
			return -ENOMEM;
		int rc = assoc_rec(kid, shift + HBITS, h, k, v, edit, ops, &nk, delta, changed);
		*out = n;
		if (rc < 0 || !*changed || nk == kid) {
			if (c != n)
				hnode_free(c);   /* nothing in it yet */
			if (rc == 0 && *changed) /* changed in place, so n is the transient's too */
				n->slot[w + 1] = (rf_val)h_maps(nk);
			return rc;
		}
		if (c == n)
			hnode_drop(kid, ops); /* n's own reference: the transient's */
		else
			hnode_fill(c, n, edit, (int)w, ops);
		h_setkid(c, w, nk);
		*out = c;
		return 0;
	}
	int rc = insert_pair(n, 2 * h_index(n->datamap, bit), k, v, edit, ops, out);
	if (rc < 0)
		return rc;
	(*out)->datamap |= bit;
	return 0;
}

/* Every line of n (bitmaps maps: its used words) into the cache, for its copy. */
static inline void prefetch_node(const hnode *n, uint64_t maps)
{
	const char *p = (const char *)n, *end = (const char *)&n->slot[2 * h_popc64(maps)];
	for (; p < end; p += 64)
		__builtin_prefetch(p);
}

/* A persistent assoc (edit 0): the path's copies, one per bitmap node that leads on to a
 * child, are allocated on the way down; the node where the path ends (an entry, a free
 * position, a collision node, or none) changes through assoc_rec; then each copy takes
 * its source's references, bottom up, and the new node below it. Iterative, where
 * assoc_rec recurses, and the way down reads only the slot it follows in each node: a
 * child's bitmaps come with its pointer (hamt.h), so the child's header is only
 * prefetched (with the rest of its lines, which the copy reads): its miss overlaps the
 * rest of the way down rather than adding to it (reading it there was a third of an
 * assoc's time on a 1e6 map). The copies take their sources' words before the last node
 * is read, so that the copying overlaps that node's miss, which ends the chain of loads;
 * they take references only once nothing can fail any more (a copy may lend, hamt.h). */
static int assoc_path(hnode *root, uint64_t h, rf_val k, rf_val v, const rf_coll_ops *ops,
                      hnode **out, int *delta, bool *changed)
{
	hnode *src[HDEPTH], *cpy[HDEPTH];
	uint32_t word[HDEPTH], d = 0, shift = 0;
	hnode *n = root;
	uint64_t maps = n ? h_maps(n) : 0; /* 0: none, or a collision node */
	while (maps) {
		uint32_t p = (uint32_t)(h >> shift) & HMASK;
		if (!(maps >> (p + 32) & 1))
			break;
		uint32_t w = 2 * h_popc64(maps & ((1ull << (p + 32)) - 1));
		hnode *c = hnode_alloc(H_BITMAP, 2 * h_popc64(maps), 0);
		if (!c) {
			while (d--)
				hnode_free(cpy[d]); /* nothing in them yet */
			return -ENOMEM;
		}
		c->datamap = (uint32_t)maps;
		c->nodemap = (uint32_t)(maps >> 32);
		assert(d < HDEPTH); /* below shift 60 only collision nodes */
		src[d] = n, cpy[d] = c, word[d] = w, d++;
		maps = (uint64_t)n->slot[w + 1];
		n = (hnode *)(intptr_t)n->slot[w];
		prefetch_node(n, maps);
		shift += HBITS;
	}
	for (uint32_t i = 0; i < d; i++)
		memcpy(cpy[i]->slot, src[i]->slot, (size_t)cpy[i]->cap * sizeof(rf_val));
	hnode *nk;
	int rc = assoc_rec(n, shift, h, k, v, 0, ops, &nk, delta, changed);
	if (rc < 0 || !*changed) {
		while (d--)
			hnode_free(cpy[d]); /* no references taken yet */
		*out = root;
		return rc;
	}
	while (d--) {
		hnode_share(cpy[d], src[d], 0, (int)word[d], ops);
		h_setkid(cpy[d], word[d], nk);
		nk = cpy[d];
	}
	*out = nk;
	return 0;
}

int hamt_assoc(hnode *n, uint64_t h, rf_val k, rf_val v, uint64_t edit, const rf_coll_ops *ops,
               hnode **out, int *delta, bool *changed)
{
	if (!edit)
		return assoc_path(n, h, k, v, ops, out, delta, changed);
	return assoc_rec(n, 0, h, k, v, edit, ops, out, delta, changed);
}
