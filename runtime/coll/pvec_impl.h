/* runtime/coll/pvec_impl.h: the layout of vectors and the trie operations that the
 * persistent forms (pvec.c) and transients (tvec.c) share (internal).
 *
 * Shared state: versions and nodes follow coll.h's contract (immutable once published;
 * in place only under the owning transient's token; counted references).
 *
 * A vector is the physical vector (pcnt elements: a trie of full 32-element leaves under
 * `root` at level `shift`, then the first `tlen` elements of the tail leaf `tail`) seen
 * through the window [start, end): a plain vector has start 0 and end pcnt, a subvec
 * anything inside. Levels count bits: leaves are level 0, their parents 5, the root
 * `shift` (>= 5). root NULL is the empty trie. Trie leaves are always full; a child slot
 * is NULL past the last child.
 *
 * Tails are shared. A tail leaf has `cap` slots (4, 8, 16 or 32) of which the first `fill`
 * are written, each holding a reference when the ops own values; versions that share it
 * read the first tlen <= fill. conj on a version whose tlen equals its tail's fill claims
 * slot tlen and takes the new version's reference to the leaf in one CAS of the word that
 * holds both the count and fill (fill tlen -> tlen + 1, count + 1), then writes the slot:
 * the new version shares the leaf and nothing is copied. The slot is its claimer's alone
 * (no version reads past its own tlen, and fill never goes down), and a version that reads
 * it comes later than the write, through whatever passed that version on (coll.h). A conj
 * that loses the claim, or finds the tail full or older than its fill, copies the tlen
 * elements into a new tail. A full 32-slot tail is copied into a new trie leaf.
 *
 * A tail leaf holds the reference to its versions' trie root (`root`, NULL for an empty
 * trie): every version that shares a tail has that root, so a version holds one reference,
 * to its tail (none when it is empty: tail and root NULL), and its `root` field is a
 * borrowed copy of the tail's. An operation that changes the trie makes a new tail. Tails
 * and trie nodes are apart: no tail is ever a trie node or the other way round. Trie
 * nodes and a transient's tail have cap and fill 32; a transient's tail holds no root.
 *
 * Lending: a persistent path copy takes the references of the node it copies, which
 * keeps the slot it replaces and a reference to the copy, exactly as hash map nodes do
 * (hamt.h, "Lending"). So that no operation fails after a node has lent, a path copy is
 * allocated before the operation goes down, and the version and tail before the trie
 * changes.
 */
#ifndef RF_COLL_PVEC_IMPL_H
#define RF_COLL_PVEC_IMPL_H

#include <stddef.h>

#include "ringfold/pvec.h"
#include "runtime/coll/cmem.h"
#include "runtime/coll/coll.h"

#define VW 32 /* width of a node */
#define VBITS 5
#define VMASK 31u

/* A node's count and fill word: the reference count in the low 32 bits (coll.h's rules),
 * the slots written (a tail leaf's claims, see above; else VW) in the 8 above them. */
#define VN_RC 0xffffffffull
#define VN_FILL1 (1ull << 32)

typedef struct vnode {
	_Atomic uint64_t rcf; /* count and fill (VN_RC, VN_FILL1) */
	_Atomic uint8_t lent; /* 1: a borrower holds this node (lending, as in hamt.h) */
	int8_t own;           /* with lender: the slot still referenced here, or -1 */
	uint8_t cap;          /* slots allocated: VW but in a short tail leaf */
	uint64_t edit;        /* token of the transient that owns it, or a stale one / 0 */
	union {
		/* a trie node: set once, the node holding this one's references */
		_Atomic(struct vnode *) lender;
		struct vnode *root; /* a tail leaf: its versions' trie root (a reference) */
	};
	union {
		struct vnode *kid[VW]; /* level > 0 */
		rf_val x[VW];          /* level 0 (a leaf); a short tail has cap of them */
	};
} vnode;

struct rf_pvec {
	coll_hdr h;
	uint32_t tlen;  /* elements of tail in this version */
	uint32_t shift; /* level of root */
	size_t pcnt;    /* physical count: trie + tail */
	size_t start, end;
	vnode *root; /* tail->root, borrowed */
	vnode *tail; /* a tail leaf (the version's one reference), or NULL when empty */
	const rf_coll_ops *ops;
};

struct rf_tvec {
	uint64_t edit; /* this transient's token */
	uint32_t shift;
	uint32_t tlen;
	size_t pcnt;
	vnode *root;
	vnode *tail; /* an owned leaf of VW slots, tlen used; becomes a trie leaf when full */
	const rf_coll_ops *ops;
};

/* A reference more to n (relaxed, as coll.h's rc_retain); NULL: none. */
static inline vnode *vnode_ref(vnode *n)
{
	if (n)
		atomic_fetch_add_explicit(&n->rcf, 1, memory_order_relaxed);
	return n;
}

/* Drop one reference to n; true when it was the last (coll.h's rc_drop on the count). */
static inline bool vnode_unref(vnode *n)
{
	/* acquire: pairs with the release half of the decrement that left the count 1 */
	if ((atomic_load_explicit(&n->rcf, memory_order_acquire) & VN_RC) == 1)
		return true;
	/* release: our uses before; acquire (the last one): every other holder's uses */
	return (atomic_fetch_sub_explicit(&n->rcf, 1, memory_order_acq_rel) & VN_RC) == 1;
}

/* The slots written in n (a tail's fill) as a count-and-fill word states them. */
static inline uint32_t vnode_fill_of(uint64_t rcf)
{
	return (uint32_t)(rcf >> 32) & 0xffu;
}

/* Index of the first tail element of a physical vector of pcnt elements. */
static inline size_t pv_tailoff(size_t pcnt)
{
	return pcnt < VW ? 0 : ((pcnt - 1) >> VBITS) << VBITS;
}

/* The leaf holding physical index i (< tailoff) of the trie under root at level shift. */
static inline const vnode *pv_leaf(const vnode *root, uint32_t shift, size_t i)
{
	const vnode *n = root;
	for (uint32_t l = shift; l > 0; l -= VBITS)
		n = n->kid[(i >> l) & VMASK];
	return n;
}

/* Bytes of a node or tail leaf of cap slots. */
static inline size_t vnode_size(uint32_t cap)
{
	return offsetof(vnode, x) + (size_t)cap * sizeof(rf_val);
}
vnode *vnode_alloc(uint64_t edit);
/* A trie leaf (owned by nobody) of the VW elements xs, a reference to each. */
vnode *vnode_leaf_of(const rf_val *xs, const rf_coll_ops *ops);
/* A tail leaf of cap slots (4, 8, 16 or 32) with count 1, fill 0 and root NULL, owned
 * by nobody. */
vnode *vnode_tail_alloc(uint32_t cap);
/* Set a tail leaf's fill before it is published (relaxed: nobody else sees it yet). */
static inline void vnode_set_fill(vnode *t, uint32_t fill)
{
	uint64_t w = atomic_load_explicit(&t->rcf, memory_order_relaxed);
	atomic_store_explicit(&t->rcf, (w & VN_RC) | (uint64_t)fill * VN_FILL1,
	                      memory_order_relaxed);
}
/* Free a tail leaf of versions at level shift whose last reference was just dropped: its
 * first fill elements, its reference to root, its memory. */
void vnode_tail_free(vnode *t, uint32_t shift, const rf_coll_ops *ops);
/* Drop one reference to a tail leaf (NULL: nothing); the last frees it. */
static inline void vnode_tail_drop(vnode *t, uint32_t shift, const rf_coll_ops *ops)
{
	if (t && vnode_unref(t))
		vnode_tail_free(t, shift, ops);
}
/* Free n's memory only (nothing it references). */
static inline void vnode_free(vnode *n)
{
	cmem_free(n, vnode_size(n->cap));
}
/* Drop one reference; the last frees n and drops what it holds (a leaf: its first fill
 * elements). */
void vnode_drop(vnode *n, uint32_t level, const rf_coll_ops *ops);

/* n itself if the transient `edit` owns it, else a copy owned by `edit` (0: by nobody)
 * that holds a reference to each child or element of n but slot `skip` (-1: none), which
 * is NULL / unset in the copy and must be filled by the caller (n keeps its reference
 * there; a persistent copy may take n's other references, n lending). NULL: -ENOMEM. */
vnode *vnode_editable(vnode *n, uint32_t level, uint64_t edit, int skip, const rf_coll_ops *ops);

/* Trie operations: each returns 0 or -ENOMEM (nothing changed), and the node that now
 * takes n's place in *out (n itself when changed in place). Nodes on the path are
 * copied unless `edit` owns them. */
int vtrie_assoc(vnode *n, uint32_t level, size_t i, rf_val x, uint64_t edit, const rf_coll_ops *ops,
                vnode **out);
/* Append the full leaf `leaf` (its reference moves in) as physical elements
 * [pcnt - 32, pcnt) where pcnt counts it; n may be NULL (empty). */
int vtrie_push(vnode *n, uint32_t level, size_t pcnt, vnode *leaf, uint64_t edit,
               const rf_coll_ops *ops, vnode **out);
/* Remove the last leaf, the one holding physical index pcnt - 1 where pcnt counts the
 * trie's elements; *out NULL when nothing is left under n. */
int vtrie_pop(vnode *n, uint32_t level, size_t pcnt, uint64_t edit, const rf_coll_ops *ops,
              vnode **out);

/* Grow the root by a level if a trie of pcnt - 32 elements cannot take one more leaf;
 * then push. Updates *root and *shift; the caller's reference to the old *root stays the
 * caller's (drop it if the new root differs and you held one). */
int vtrie_push_root(vnode **root, uint32_t *shift, size_t pcnt, vnode *leaf, uint64_t edit,
                    const rf_coll_ops *ops);

/* A version, rc 1, its other fields unset. */
rf_pvec *pv_alloc(void);
/* Free v's memory only. */
static inline void pv_dealloc(rf_pvec *v)
{
	cmem_free(v, sizeof(*v));
}

#endif
