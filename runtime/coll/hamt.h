/* runtime/coll/hamt.h: the hash map's trie (internal), shared by persistent maps (phm.c)
 * and transients (thm.c). Shared state: nodes, under coll.h's contract (immutable once
 * published, in place only under the owning transient's token, counted references).
 *
 * A bitmap node at level `shift` (0, 5, ..., 60) sorts keys by bits shift..shift+4 of
 * their hash: a key whose position is set in `datamap` is stored inline, as the pair
 * slot[2i], slot[2i+1] (i = entries before it); a position set in `nodemap` leads to a
 * child, stored as the pair slot[2d + 2j] (the pointer; d entries, j children before it)
 * and slot[2d + 2j + 1], a copy of the child's bitmaps (h_maps: datamap | nodemap << 32;
 * 0 for a collision node). With the bitmaps in hand a lookup goes straight to the slot
 * it needs in the child, one dependent load per level instead of two (the child's header,
 * then its slot). The copy is written whenever the child pointer is, and again when a
 * transient changes an owned child in place. A collision node holds cn pairs of keys
 * whose whole hashes equal `hash`. Children below the root always hold at least two
 * entries: an operation that leaves a child with one pulls that entry up (CHAMP's
 * canonical form). The root may be anything, or NULL for the empty map.
 *
 * Lending. A persistent copy C of a node N (edit 0: C is never changed once returned)
 * holds every reference N holds but at most one word (the slot the operation replaces),
 * or two after a push-down (the key and value moved into a new child, which takes
 * references of its own).
 * Rather than counting each shared key, value and child once more (a locked increment on
 * each child's header, then a locked decrement when N goes: most of an assoc's cost), N
 * may hand its references to C: N->link = C (set once, by CAS, the only write to a
 * published node besides counts), N->own = the word whose reference N keeps (own2: the
 * second such word of a push-down, else -1), C->lent = 1, and C counts one reference
 * held by N. N's slots still point to the same objects, now kept alive by C. When N
 * goes, it drops its own words and its reference to C and clears C->lent (release; a
 * copier's acquire load pairs with it). Chains stay one link long: a node that lends
 * (lent == 1) does not borrow, and only a fresh copy lends, so an old version keeps at
 * most one newer copy of each of its path nodes alive. A transient's copies never lend
 * (it changes them in place), nor do collision nodes (own is a byte: a bitmap node has at
 * most 64 words, a collision node any number), nor a node with nothing to hand over (no
 * child but the replaced one, keys and values not counted: the copy takes nothing).
 */
#ifndef RF_COLL_HAMT_H
#define RF_COLL_HAMT_H

#include "ringfold/phm.h"
#include "runtime/coll/cmem.h"
#include "runtime/coll/coll.h"

enum { H_BITMAP = 1, H_COLL = 2 };
#define HBITS 5
#define HMASK 31u
#define HDEPTH 13 /* levels of bitmap nodes: shifts 0, 5, ..., 60 */

typedef struct hnode {
	_Atomic uint32_t rc;
	uint8_t kind;
	_Atomic uint8_t lent; /* 1: a borrower holds this node (see "Lending" above) */
	int8_t own;           /* with a lender: the word still referenced here, or -1 */
	int8_t own2;          /* with a lender: a second such word, or -1 */
	union {
		struct {
			uint32_t datamap, nodemap;
		};
		uint64_t hash; /* H_COLL */
	};
	/* 0; 2t + 1 (odd) for a node made by the transient with token t; or the node's
	 * lender (even: nodes are 16-byte aligned), set once, by CAS, over 0 or a dead
	 * token (a live transient's nodes are reachable from it alone, so never lend) */
	_Atomic uint64_t link;
	uint32_t cap; /* slots allocated */
	uint32_t cn;  /* H_COLL: pairs */
	rf_val slot[];
} hnode;
/* Two nodes' headers to a 64-byte line, and pairs never cross a line. */
_Static_assert(sizeof(hnode) == 32, "hnode header");

struct rf_phm {
	coll_hdr h;
	uint32_t pad_;
	size_t cnt;
	hnode *root;
	const rf_coll_ops *ops;
};

struct rf_thm {
	uint64_t edit;
	size_t cnt;
	hnode *root;
	const rf_coll_ops *ops;
};

static inline uint64_t h_hash(const rf_coll_ops *ops, rf_val k)
{
	return ops && ops->hash ? ops->hash(k, ops->ctx) : coll_mix64((uint64_t)k);
}
static inline bool h_eq(const rf_coll_ops *ops, rf_val a, rf_val b)
{
	return ops && ops->eq ? ops->eq(a, b, ops->ctx) : a == b;
}
/* Made by the transient with token edit (0: a persistent operation owns nothing). Any
 * thread: relaxed, since a lend may replace a dead token meanwhile, and neither it nor the
 * lender matches a live transient's token. */
static inline bool h_owned(const hnode *n, uint64_t edit)
{
	return edit &&
	       atomic_load_explicit(&((hnode *)n)->link, memory_order_relaxed) == 2 * edit + 1;
}
/* The node that holds n's references, from its link word (NULL: none). */
static inline hnode *h_lender(uint64_t link)
{
	return link & 1 ? NULL : (hnode *)(uintptr_t)link;
}
/* Keys or values are counted: a copy of a pair takes references. */
static inline bool h_counts_entries(const rf_coll_ops *ops)
{
	return ops && (ops->retain || ops->key_retain);
}
static inline uint32_t h_bit(uint64_t h, uint32_t shift)
{
	return 1u << ((h >> shift) & HMASK);
}
#if !defined(__POPCNT__) && (defined(__x86_64__) || defined(__i386__))
/* The CPU has the popcnt instruction (set once, before main, by hnode.c). */
extern bool hamt_have_popcnt;
#endif

/* Set bits of x. A plain __builtin_popcount on the baseline x86-64 target is a call to
 * libgcc's table-driven __popcountdi2: here the popcnt instruction when the CPU has it
 * (a predictable branch on a flag), else a few inline ALU steps. The lookup loop has its
 * own popcnt build (hnode.c). */
static inline uint32_t h_popc(uint32_t x)
{
#if defined(__POPCNT__) || !(defined(__x86_64__) || defined(__i386__))
	return (uint32_t)__builtin_popcount(x);
#else
	if (hamt_have_popcnt) {
		uint32_t r;
		__asm__("popcnt %1, %0" : "=r"(r) : "rm"(x) : "cc");
		return r;
	}
	x = x - ((x >> 1) & 0x55555555u);
	x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
	x = (x + (x >> 4)) & 0x0f0f0f0fu;
	return (x * 0x01010101u) >> 24;
#endif
}
static inline uint32_t h_popc64(uint64_t x)
{
	return h_popc((uint32_t)x) + h_popc((uint32_t)(x >> 32));
}
static inline uint32_t h_index(uint32_t map, uint32_t bit)
{
	return h_popc(map & (bit - 1));
}
static inline uint32_t h_entries(const hnode *n)
{
	return n->kind == H_COLL ? n->cn : h_popc(n->datamap);
}
static inline uint32_t h_children(const hnode *n)
{
	return n->kind == H_COLL ? 0 : h_popc(n->nodemap);
}
/* Word of child j's pointer (its bitmaps follow). */
static inline uint32_t h_kidw(const hnode *n, uint32_t j)
{
	return 2 * h_entries(n) + 2 * j;
}
static inline hnode *h_kid(const hnode *n, uint32_t j)
{
	return (hnode *)(intptr_t)n->slot[h_kidw(n, j)];
}
/* The bitmaps a parent keeps beside its pointer to n. */
static inline uint64_t h_maps(const hnode *n)
{
	return n->kind == H_COLL ? 0 : (uint64_t)n->datamap | (uint64_t)n->nodemap << 32;
}
/* Child k into words w, w + 1 of n. */
static inline void h_setkid(hnode *n, uint32_t w, const hnode *k)
{
	n->slot[w] = rf_from_ptr(k);
	n->slot[w + 1] = (rf_val)h_maps(k);
}
/* Words in use. */
static inline uint32_t h_used(const hnode *n)
{
	return 2 * h_entries(n) + 2 * h_children(n);
}

hnode *hnode_alloc(uint8_t kind, uint32_t cap, uint64_t edit);
/* Free n's memory only (nothing it references). */
static inline void hnode_free(hnode *n)
{
	cmem_node_free(n, sizeof(*n) + (size_t)n->cap * sizeof(rf_val));
}
void hnode_drop(hnode *n, const rf_coll_ops *ops);
/* A copy of n owned by `edit` with cap >= h_used(n) slots, holding a reference to every
 * key, value and child of n but the one in slot `skip` (-1: none; a child's pointer
 * word), left for the caller to fill; n keeps its reference in skip. A persistent copy
 * (edit 0) may take n's references rather than new ones (n lends, see above). */
hnode *hnode_copy(const hnode *n, uint32_t cap, uint64_t edit, int skip, const rf_coll_ops *ops);
/* The same into c, fresh from hnode_alloc(any kind, cap >= h_used(n), edit); never fails.
 * Once a copy has lent, the operation must not fail (its input would be left changed):
 * a path copy is allocated before going down and filled on the way back. */
hnode *hnode_fill(hnode *c, const hnode *n, uint64_t edit, int skip, const rf_coll_ops *ops);
/* hnode_fill's second half: c, holding n's header and words already, takes n's references
 * (all but skip's), lending when it may. */
void hnode_share(hnode *c, const hnode *n, uint64_t edit, int skip, const rf_coll_ops *ops);
/* n hands its references but words skip and skip2 (-1: none) to c, a fresh persistent
 * node (edit 0) holding the rest of n's words, if n may lend (see above); false: c must
 * take references of its own. */
bool hnode_lend(const hnode *n, hnode *c, int skip, int skip2);

/* Lookup: the value slot of key k with hash h under n, or NULL. */
const rf_val *hamt_find(const hnode *n, uint64_t h, rf_val k, const rf_coll_ops *ops);
/* The same for maps of word keys under the default hash (no ops, or ops with neither hash
 * nor eq), hashing included: into *out the value of k under n (NULL: empty), or nf.
 * Returns 0 (rf_phm_get's result, so that it can tail-call this). The build for this CPU,
 * chosen once before main (one indirect jump rather than tests of flags on every get). */
extern __attribute__((visibility("hidden"))) /* reached PC-relative, not through the GOT */
int (*hamt_get_word)(const hnode *n, rf_val k, rf_val nf, rf_val *out);

/* assoc under the root n, dissoc under n at level shift (NULL: empty). Each returns 0 or -ENOMEM
 * (nothing changed) and in *out the node that takes n's place: n itself if changed in
 * place or not changed at all (*delta tells: +1 an entry added, 0 a value replaced, -1
 * removed; *changed false when nothing was done), a new node owned by `edit`, or NULL
 * (dissoc emptied it). n is never freed here: a caller that replaces its own reference
 * to n drops it. */
int hamt_assoc(hnode *n, uint64_t h, rf_val k, rf_val v, uint64_t edit, const rf_coll_ops *ops,
               hnode **out, int *delta, bool *changed);
int hamt_dissoc(hnode *n, uint32_t shift, uint64_t h, rf_val k, uint64_t edit,
                const rf_coll_ops *ops, hnode **out, bool *changed);

/* A node with one entry (bitmap with one pair and no child, or a collision node of one):
 * may be pulled up into its parent. */
static inline bool h_single(const hnode *n)
{
	if (!n)
		return false;
	if (n->kind == H_COLL)
		return n->cn == 1;
	return n->nodemap == 0 && (n->datamap & (n->datamap - 1)) == 0;
}

#endif
