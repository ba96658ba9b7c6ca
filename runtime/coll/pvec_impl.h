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
 * to its tail (none when it is empty: tail and root NULL), and its `root` is a borrowed
 * copy of the tail's. An operation that changes the trie makes a new tail. Tails and trie
 * nodes are apart: no tail is ever a trie node or the other way round. Trie nodes and a
 * transient's tail have cap and fill 32; a transient's tail holds no root.
 *
 * Versions. A persistent tail leaf's block also holds what its versions share (vtail_ext:
 * the physical index of slot 0, shift, ops) and, before that, a mark per tlen: a
 * coll_hdr of kind COLL_PVEC_MARK whose rc word holds the tlen, written before the tail
 * is published and never after. A plain version (start 0, end pcnt) that conj, assoc or
 * persistent! makes is its tail's mark for its tlen, and holding it is holding a reference
 * to the tail: a conj is the claim above and no allocation, and its release is the tail's
 * decrement. Those marks are new: a claim takes a tlen no version had (fill only grows),
 * the others a new tail. A result is never the same pointer as a version that may be held
 * already, since owning references (atom.h, ref.h, agent.h) count a value by its word: a
 * result equal to a value they hold is taken as that same reference. So pop within the
 * tail (the older tlen's mark may be held) and subvec (of the whole: v itself) make a
 * block. The other versions (an empty vector, a subvec window, those) are blocks of kind
 * COLL_PVEC (struct rf_pvec) with a count of their own and their reference to the tail.
 * pv_view reads either as a pview.
 *
 * Lending: a persistent path copy takes the references of the node it copies, which
 * keeps the slot it replaces and a reference to the copy, exactly as hash map nodes do
 * (hamt.h, "Lending"). So that no operation fails after a node has lent, a path copy is
 * allocated before the operation goes down, and the version's block (a window's) and the
 * tail before the trie changes.
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

/* What a version shows: the physical vector and its window (see above). */
typedef struct pview {
	size_t pcnt; /* physical count: trie + tail */
	size_t start, end;
	uint32_t tlen;  /* elements of tail in this version */
	uint32_t shift; /* level of root */
	vnode *root;    /* tail->root, borrowed */
	vnode *tail;    /* a tail leaf (the version's one reference), or NULL when empty */
	const rf_coll_ops *ops;
} pview;

/* A version that needs its own block (kind COLL_PVEC): an empty vector or a window. */
struct rf_pvec {
	coll_hdr h;
	pview w;
};

/* A tail leaf's own words, just before its vnode, which all its versions share; before
 * them its marks: the mark of the version of tlen k (1 <= k <= cap) is the coll_hdr k
 * places before these words. */
typedef struct vtail_ext {
	size_t toff;            /* physical index of slot 0 */
	const rf_coll_ops *ops; /* of every version of the tail */
	uint32_t shift;         /* level of root */
	uint32_t pad;
} vtail_ext;

static inline vtail_ext *vtail_ext_of(const vnode *t)
{
	return (vtail_ext *)t - 1;
}

/* The mark of t's version of tlen k (1 <= k <= t->cap). */
static inline rf_pvec *vtail_mark(const vnode *t, uint32_t k)
{
	return (rf_pvec *)((coll_hdr *)vtail_ext_of(t) - k);
}

/* The tlen of the version a mark stands for (the word a block's count is in). */
static inline uint32_t mark_tlen(const rf_pvec *v)
{
	return atomic_load_explicit(&((const coll_hdr *)v)->rc, memory_order_relaxed);
}

/* The tail of the version of tlen k that mark v stands for. */
static inline vnode *mark_tail(const rf_pvec *v, uint32_t k)
{
	return (vnode *)((vtail_ext *)((const coll_hdr *)v + k) + 1);
}

static inline bool pv_is_mark(const rf_pvec *v)
{
	return ((const coll_hdr *)v)->kind == COLL_PVEC_MARK;
}

/* What version v shows. */
static inline pview pv_view(const rf_pvec *v)
{
	if (!pv_is_mark(v))
		return v->w;
	uint32_t k = mark_tlen(v);
	vnode *t = mark_tail(v, k);
	const vtail_ext *e = vtail_ext_of(t);
	return (pview){.pcnt = e->toff + k,
	               .start = 0,
	               .end = e->toff + k,
	               .tlen = k,
	               .shift = e->shift,
	               .root = t->root,
	               .tail = t,
	               .ops = e->ops};
}

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
/* A tail leaf of cap slots (4, 8, 16 or 32) with count 1, fill 0, root NULL and its
 * marks, owned by nobody, for versions whose slot 0 is physical index toff; shift and
 * ops as theirs. */
vnode *vnode_tail_alloc(uint32_t cap, size_t toff, uint32_t shift, const rf_coll_ops *ops);
/* Set a tail leaf's fill before it is published (relaxed: nobody else sees it yet). */
static inline void vnode_set_fill(vnode *t, uint32_t fill)
{
	uint64_t w = atomic_load_explicit(&t->rcf, memory_order_relaxed);
	atomic_store_explicit(&t->rcf, (w & VN_RC) | (uint64_t)fill * VN_FILL1,
	                      memory_order_relaxed);
}
/* Free a tail leaf's memory only (nothing it references). */
void vnode_tail_dealloc(vnode *t);
/* Free a tail leaf whose last reference was just dropped: its first fill elements, its
 * reference to root, its memory. */
void vnode_tail_free(vnode *t);
/* Drop one reference to a tail leaf (NULL: nothing); the last frees it. */
static inline void vnode_tail_drop(vnode *t)
{
	if (t && vnode_unref(t))
		vnode_tail_free(t);
}
/* Free n's memory only (nothing it references); n is no tail leaf. */
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

/* A block for a version, rc 1, kind COLL_PVEC, its view unset. */
rf_pvec *pv_alloc(void);
/* Free v's block only. */
static inline void pv_dealloc(rf_pvec *v)
{
	cmem_free(v, sizeof(*v));
}
/* The version that shows w, whose reference to w->tail moves in: the tail's mark when w
 * is the whole physical vector and it has a tail, else n (from pv_alloc; NULL only when w
 * is such) with w in it. n goes when not used. */
rf_pvec *pv_make(const pview *w, rf_pvec *n);

#endif
