/* runtime/coll/hnode.c: the hash map trie's nodes: allocation, copies, the last reference,
 * and lookup (hamt.h). Shared state: nodes, under coll.h's contract; the CPU's flags and
 * hamt_get_word, written only by this file's constructor (before main, or inside the
 * dlopen that loads the library, which orders it before any use) and read-only after. */
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "runtime/base/assert.h"
#include "runtime/coll/hamt.h"

hnode *hnode_alloc(uint8_t kind, uint32_t cap, uint64_t edit)
{
	hnode *n = cmem_node_alloc(sizeof(*n) + (size_t)cap * sizeof(rf_val));
	if (!n)
		return NULL;
	atomic_init(&n->rc, 1);
	atomic_init(&n->lent, 0);
	atomic_init(&n->link, edit ? 2 * edit + 1 : 0);
	n->own = -1;
	n->own2 = -1;
	n->kind = kind;
	n->cap = cap;
	n->cn = 0;
	n->hash = 0;
	return n;
}

static void drop(hnode *n, const rf_coll_ops *ops);

/* Drop every reference n holds, then free it (n lends nothing). */
static void drop_all(hnode *n, const rf_coll_ops *ops)
{
	uint32_t e = h_entries(n), used = h_used(n);
	if (ops && (ops->release || ops->key_release))
		for (uint32_t i = 0; i < 2 * e; i += 2) {
			key_release(ops, n->slot[i]);
			val_release(ops, n->slot[i + 1]);
		}
	for (uint32_t i = 2 * e; i < used; i += 2) /* depth bounded by the hash: 13 levels */
		drop((hnode *)(intptr_t)n->slot[i], ops);
	hnode_free(n);
}

/* Drop the reference n holds in word w (a key, a value or a child pointer). */
static void drop_word(const hnode *n, uint32_t w, const rf_coll_ops *ops)
{
	uint32_t e = h_entries(n);
	if (w >= 2 * e)
		drop((hnode *)(intptr_t)n->slot[w], ops);
	else if (w % 2)
		val_release(ops, n->slot[w]);
	else
		key_release(ops, n->slot[w]);
}

static void drop(hnode *n, const rf_coll_ops *ops)
{
	/* A loop down a chain of lent nodes whose own word is the child on their path (an
	 * old version's path after an assoc): that child is dropped last, as the next turn. */
	while (n && rc_drop(&n->rc)) {
		/* relaxed: written before the reference we just took the last of was dropped */
		hnode *l = h_lender(atomic_load_explicit(&n->link, memory_order_relaxed)),
		      *next = NULL;
		if (!l) {
			drop_all(n, ops);
			return;
		}
		/* every reference of n but its own words is l's */
		if (n->own >= 0 && (uint32_t)n->own >= 2 * h_entries(n))
			next = (hnode *)(intptr_t)n->slot[n->own];
		else if (n->own >= 0)
			drop_word(n, (uint32_t)n->own, ops);
		if (n->own2 >= 0)
			drop_word(n, (uint32_t)n->own2, ops);
		/* release: n is done with l's references; pairs with lend()'s acquire */
		atomic_store_explicit(&l->lent, 0, memory_order_release);
		drop(l, ops);
		hnode_free(n);
		n = next;
	}
}

void hnode_drop(hnode *n, const rf_coll_ops *ops)
{
	uint64_t mark = cmem_node_mark();
	drop(n, ops);
	cmem_node_settle(mark);
}

/* n hands its references but words skip, skip2 to c (hamt.h, "Lending"), unless n lends
 * already or has borrowed before. */
bool hnode_lend(const hnode *n, hnode *c, int skip, int skip2)
{
	hnode *nn = (hnode *)n;
	if (n->kind != H_BITMAP)
		return false;
	RF_ASSERT(skip < 64 && skip2 < 64);
	/* acquire: pairs with the release that cleared it, when n's borrower went */
	if (atomic_load_explicit(&nn->lent, memory_order_acquire))
		return false;
	uint64_t link = atomic_load_explicit(&nn->link, memory_order_relaxed);
	if (h_lender(link))
		return false;
	/* relaxed: n's last dropper reads link and own after taking the last reference,
	 * which orders it after our use of n */
	if (!atomic_compare_exchange_strong_explicit(&nn->link, &link, (uint64_t)(uintptr_t)c,
	                                             memory_order_relaxed, memory_order_relaxed))
		return false; /* another copy of n won */
	nn->own = (int8_t)skip;
	nn->own2 = (int8_t)skip2;
	atomic_store_explicit(&c->rc, 2, memory_order_relaxed); /* c is not published yet */
	atomic_store_explicit(&c->lent, 1, memory_order_relaxed);
	return true;
}

hnode *hnode_copy(const hnode *n, uint32_t cap, uint64_t edit, int skip, const rf_coll_ops *ops)
{
	hnode *c = hnode_alloc(n->kind, cap, edit);
	return c ? hnode_fill(c, n, edit, skip, ops) : NULL;
}

hnode *hnode_fill(hnode *c, const hnode *n, uint64_t edit, int skip, const rf_coll_ops *ops)
{
	c->kind = n->kind;
	c->cn = n->cn;
	c->hash = n->hash;
	memcpy(c->slot, n->slot, (size_t)h_used(n) * sizeof(rf_val));
	hnode_share(c, n, edit, skip, ops);
	return c;
}

void hnode_share(hnode *c, const hnode *n, uint64_t edit, int skip, const rf_coll_ops *ops)
{
	uint32_t used = h_used(n), e = h_entries(n);
	/* nothing to take (no child but skip's, keys and values not counted): a lend would
	 * cost two locked operations (its CAS, then a decrement when n goes) for nothing */
	uint32_t kid_words = used - 2 * e - (skip >= (int)(2 * e) ? 2 : 0);
	if (!kid_words && !h_counts_entries(ops))
		return;
	if (!edit && hnode_lend(n, c, skip, -1))
		return;
	for (uint32_t i = 0; ops && i < 2 * e; i += 2) {
		if ((int)i != skip)
			key_retain(ops, n->slot[i]);
		if ((int)i + 1 != skip)
			val_retain(ops, n->slot[i + 1]);
	}
	for (uint32_t i = 2 * e; i < used; i += 2)
		if ((int)i != skip)
			rc_retain(&((hnode *)(intptr_t)n->slot[i])->rc);
}

/* The lookup loop, instantiated per key kind (word: ==, no call; ops: ops->eq) and per
 * instruction set (hw: popcnt and bmi2's bzhi), so that the common case runs without
 * indirect or library calls. Collision nodes are rare: their scan is out of line, which
 * keeps the loop short and free of saved registers.
 *
 * A level is one test of the 64-bit maps word (datamap | nodemap << 32, hamt.h) at the
 * key's position p and one rank: the set bits of maps below bit p are the entries before
 * the key's, and below bit p + 32 they are every entry plus the children before its
 * child, which is the pair index of that child. One bzhi and one popcnt either way. */
static inline __attribute__((always_inline)) uint32_t rank64(uint64_t maps, uint32_t p, bool hw)
{
	uint64_t x = maps & ((1ull << p) - 1); /* p < 64; bzhi when hw */
	return hw ? (uint32_t)__builtin_popcountll(x)
	          : h_popc((uint32_t)x) + h_popc((uint32_t)(x >> 32));
}

static inline __attribute__((always_inline)) bool find_eq(const rf_coll_ops *ops, rf_val a,
                                                          rf_val b, bool word)
{
	return word ? a == b : ops->eq(a, b, ops->ctx);
}

__attribute__((noinline)) static const rf_val *find_coll(const hnode *n, uint64_t h, rf_val k,
                                                         const rf_coll_ops *ops)
{
	if (n->kind != H_COLL || n->hash != h)
		return NULL;
	for (uint32_t i = 0; i < n->cn; i++)
		if (h_eq(ops, n->slot[2 * i], k))
			return &n->slot[2 * i + 1];
	return NULL;
}

static inline __attribute__((always_inline)) const rf_val *
find_body(const hnode *n, uint64_t h, rf_val k, const rf_coll_ops *ops, bool word, bool hw)
{
	uint64_t maps = h_maps(n); /* the root's own header; below, the copy in the parent */
	for (uint32_t shift = 0;; shift += HBITS) {
		/* a collision node: bitmap nodes hold something */
		if (__builtin_expect(maps == 0, 0))
			return find_coll(n, h, k, ops);
		uint32_t p = (uint32_t)(h >> shift) & HMASK;
		if (maps >> p & 1) {
			const rf_val *e = &n->slot[2 * rank64(maps, p, hw)];
			return find_eq(ops, e[0], k, word) ? &e[1] : NULL;
		}
		if (!(maps >> (p + 32) & 1))
			return NULL;
		const rf_val *c = &n->slot[2 * rank64(maps, p + 32, hw)];
		maps = (uint64_t)c[1];
		n = (const hnode *)(intptr_t)c[0];
	}
}

/* The rest of a get of word key k from node n on (maps: its bitmaps; h: the hash bits
 * still to use): find_body's loop storing the value. */
static inline __attribute__((always_inline)) int
get_word_walk(const hnode *n, uint64_t maps, uint64_t h, rf_val k, rf_val nf, rf_val *out, bool hw)
{
	for (;; h >>= HBITS) {
		uint32_t p = (uint32_t)h & HMASK;
		if (maps >> p & 1) {
			const rf_val *e = &n->slot[2 * rank64(maps, p, hw)];
			*out = e[0] == k ? e[1] : nf;
			return 0;
		}
		if (!(maps >> (p + 32) & 1)) {
			*out = nf;
			return 0;
		}
		const rf_val *c = &n->slot[2 * rank64(maps, p + 32, hw)];
		maps = (uint64_t)c[1];
		n = (const hnode *)(intptr_t)c[0];
	}
}

/* A whole get of a word key under the default hash, in one leaf function. coll_mix64 is
 * a bijection, so distinct word keys never share a whole hash and such a map has no
 * collision node: the root's maps are its bitmaps. */
static inline __attribute__((always_inline)) int get_word_body(const hnode *n, rf_val k, rf_val nf,
                                                               rf_val *out, bool hw)
{
	if (!n) {
		*out = nf;
		return 0;
	}
	uint64_t maps = (uint64_t)n->datamap | (uint64_t)n->nodemap << 32;
	return get_word_walk(n, maps, coll_mix64((uint64_t)k), k, nf, out, hw);
}

__attribute__((noinline)) static const rf_val *find_word(const hnode *n, uint64_t h, rf_val k)
{
	return find_body(n, h, k, NULL, true, false);
}

__attribute__((noinline)) static const rf_val *find_ops(const hnode *n, uint64_t h, rf_val k,
                                                        const rf_coll_ops *ops)
{
	return find_body(n, h, k, ops, false, false);
}

__attribute__((noinline)) static int get_word(const hnode *n, rf_val k, rf_val nf, rf_val *out)
{
	return get_word_body(n, k, nf, out, false);
}

/* The portable build until the CPU is known (hnode.c's constructor, before main; a
 * constructor of another library that gets from a map before it runs gets this one). */
int (*hamt_get_word)(const hnode *n, rf_val k, rf_val nf, rf_val *out) = get_word;

#if defined(__x86_64__) || defined(__i386__)
#define FIND_HW 1
#if defined(__x86_64__)
#define GET_PDEP 1 /* _pdep_u64 */
#endif
#if !defined(__POPCNT__)
bool hamt_have_popcnt;
#endif
static bool find_hw; /* popcnt and bzhi: set once, before main */
static int get_word_hw(const hnode *n, rf_val k, rf_val nf, rf_val *out);
#ifdef GET_PDEP
static int get_word_pdep(const hnode *n, rf_val k, rf_val nf, rf_val *out);
#endif

__attribute__((constructor)) static void find_cpu(void)
{
	__builtin_cpu_init(); /* constructors may run before libgcc's own */
#if !defined(__POPCNT__)
	hamt_have_popcnt = __builtin_cpu_supports("popcnt");
#endif
	find_hw = __builtin_cpu_supports("popcnt") && __builtin_cpu_supports("bmi2");
	if (find_hw)
		hamt_get_word = get_word_hw;
#ifdef GET_PDEP
	/* AMD before Zen 3 runs pdep as microcode, tens of cycles or more */
	if (find_hw && !__builtin_cpu_is("amdfam15h") && !__builtin_cpu_is("amdfam17h"))
		hamt_get_word = get_word_pdep;
#endif
}

__attribute__((target("popcnt,bmi2"), noinline)) static const rf_val *
find_word_hw(const hnode *n, uint64_t h, rf_val k)
{
	return find_body(n, h, k, NULL, true, true);
}

__attribute__((target("popcnt,bmi2"), noinline)) static const rf_val *
find_ops_hw(const hnode *n, uint64_t h, rf_val k, const rf_coll_ops *ops)
{
	return find_body(n, h, k, ops, false, true);
}

__attribute__((target("popcnt,bmi2"), noinline)) static int get_word_hw(const hnode *n, rf_val k,
                                                                        rf_val nf, rf_val *out)
{
	return get_word_body(n, k, nf, out, true);
}

#ifdef GET_PDEP
/* get_word_hw with fewer instructions per level, for CPUs whose pdep is one fast
 * instruction. A run of independent gets (a loop over keys) overlaps as many of them as
 * the core's window holds while each waits on its misses, so the time of such a run
 * follows the instructions per get.
 *
 * pdep spreads the hash's first eight 5-bit positions into the bytes of g, each with bit
 * 5 set: byte i is 32 + the key's position at level i, which is at once the index of its
 * child's bit in maps (bt takes the bit offset mod 64) and the count of low bits that
 * bzhi keeps for that child's rank, so that a level that goes on to a child is a bit
 * test, a bzhi, a popcount and the loads, then a shift of g by a byte (zero after eight
 * levels, where the ordinary walk takes over with the bits that are left). */
__attribute__((target("popcnt,bmi2"), noinline)) static int get_word_pdep(const hnode *n, rf_val k,
                                                                          rf_val nf, rf_val *out)
{
	if (!n) {
		*out = nf;
		return 0;
	}
	uint64_t h = coll_mix64((uint64_t)k);
	uint64_t maps = (uint64_t)n->datamap | (uint64_t)n->nodemap << 32;
	uint64_t g = _pdep_u64(h, 0x1f1f1f1f1f1f1f1full) | 0x2020202020202020ull;
	do {
		if (!(maps >> (g & 63) & 1)) { /* no child: an entry, or none */
			uint64_t p = g - 32;   /* the position in the low byte (it held 32 + it) */
			if (!(maps >> (p & 63) & 1)) {
				*out = nf;
				return 0;
			}
			size_t at = (size_t)__builtin_popcountll(_bzhi_u64(maps, (unsigned)p)) * 16;
			const rf_val *e = (const rf_val *)((const char *)n->slot + at);
			*out = e[0] == k ? e[1] : nf;
			return 0;
		}
		/* the pair's byte offset: bzhi reads only the low byte of g */
		size_t at = (size_t)__builtin_popcountll(_bzhi_u64(maps, (unsigned)g)) * 16;
		const rf_val *c = (const rf_val *)((const char *)n->slot + at);
		maps = (uint64_t)c[1];
		n = (const hnode *)(intptr_t)c[0];
	} while (g >>= 8);
	return get_word_walk(n, maps, h >> 8 * HBITS, k, nf, out, true);
}
#endif
#endif

const rf_val *hamt_find(const hnode *n, uint64_t h, rf_val k, const rf_coll_ops *ops)
{
	if (!n)
		return NULL;
	bool word = !ops || !ops->eq;
#ifdef FIND_HW
	if (find_hw)
		return word ? find_word_hw(n, h, k) : find_ops_hw(n, h, k, ops);
#endif
	return word ? find_word(n, h, k) : find_ops(n, h, k, ops);
}
