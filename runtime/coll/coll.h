/* runtime/coll/coll.h: what the persistent collections share (internal): the reference
 * count every version and node carries, edit tokens for transients, element ownership.
 *
 * Contract (shared state). Versions (rf_pvec, rf_phm) and nodes are immutable once a
 * version that reaches them has been returned to a caller; the only words any thread
 * writes in them afterwards are the reference count `rc` and, in hash map nodes, the
 * lending words (hamt.h). A node is written in place only
 * by the transient that owns it (its edit token equals the transient's, nonzero: a
 * vector node's `edit`, a hash map node's link word, which hamt.h spells out), and such
 * a node is reachable from that transient alone (rc == 1, no version points to it): a
 * transient never shares its owned nodes until persistent!, which retires its token.
 * Tokens come from a process-wide counter and are never reused, so a stale token in a
 * frozen node can never match a later transient (freed memory could be reused; a
 * counter cannot).
 *
 * Reference counts. Taking a reference (rc_retain) is a relaxed increment: the caller
 * already holds a reference, so the object cannot go away meanwhile, and the new holder
 * learns of the object through some other synchronization (an atom's release store, a
 * channel, a thread start) that orders everything before it. Dropping one (rc_drop) is
 * an acq_rel decrement: its release half makes this holder's reads of the object happen
 * before the decrement; the acquire half, taken by the holder whose decrement reaches
 * zero, pairs with the release half of every earlier decrement, so the freeing thread
 * sees all other holders done with the object before it frees it. (acq_rel on the RMW
 * rather than a separate acquire fence: TSan understands the former.) A holder that
 * reads a count of 1 (acquire) is the only one and frees without the decrement.
 *
 * Counts are 32-bit: at most 2^32 - 1 references to one node or version.
 */
#ifndef RF_COLL_COLL_H
#define RF_COLL_COLL_H

#include <stdatomic.h>

#include "ringfold/coll.h"

/* COLL_PVEC_MARK: a vector version that is a mark in its tail leaf (pvec_impl.h). */
enum {
	COLL_PVEC = 0x70766563,
	COLL_PVEC_MARK = 0x7076656d,
	COLL_PHM = 0x70686d00,
	COLL_PSORTED = 0x70736f72
};

/* First member of rf_pvec and rf_phm: rf_coll_release tells them apart by kind. A vector's
 * mark (kind COLL_PVEC_MARK) is a coll_hdr alone, whose rc word holds a length that never
 * changes, not a count: its references are its tail's (pvec_impl.h). */
typedef struct coll_hdr {
	_Atomic uint32_t rc;
	uint32_t kind;
} coll_hdr;

static inline void rc_retain(_Atomic uint32_t *rc)
{
	atomic_fetch_add_explicit(rc, 1, memory_order_relaxed); /* see the contract above */
}

/* True when this was the last reference: the caller frees the object. */
static inline bool rc_drop(_Atomic uint32_t *rc)
{
	/* A count of 1 is ours alone: nobody else holds a reference, so nobody can take or
	 * drop one meanwhile, and no write is needed. The acquire load pairs with the
	 * release half of the decrement that brought the count to 1, as the RMW's acquire
	 * would. Saves the locked RMW on every object dropped by its only holder (the old
	 * version after an update, the nodes only it held). */
	if (atomic_load_explicit(rc, memory_order_acquire) == 1)
		return true;
	/* release: our uses of the object before; acquire (for the last one): every other
	 * holder's uses, through their release decrements. */
	return atomic_fetch_sub_explicit(rc, 1, memory_order_acq_rel) == 1;
}

/* rf_coll_iter_next's halves: an iterator's first word is the kind of map it walks. */
bool phm_iter_next(rf_coll_iter *it, rf_val *key, rf_val *val);
bool psorted_iter_next(rf_coll_iter *it, rf_val *key, rf_val *val);

/* Owned by a live transient with token `edit` (0: a persistent operation owns nothing). */
static inline bool coll_owned(uint64_t node_edit, uint64_t edit)
{
	return edit != 0 && node_edit == edit;
}

/* murmur3's fmix64: every input bit reaches every output bit (rf_hash_int). */
static inline uint64_t coll_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/* A token no node carries yet (never 0). Any thread. */
uint64_t coll_edit_token(void);

/* ops NULL, or with a size that covers this version of the struct and retain and release
 * set in pairs (values, keys). */
bool coll_ops_ok(const rf_coll_ops *ops);

/* Element (value) ownership through the ops; NULL ops or NULL functions: borrowed. */
static inline void val_retain(const rf_coll_ops *ops, rf_val x)
{
	if (ops && ops->retain)
		ops->retain(x, ops->ctx);
}
static inline void val_release(const rf_coll_ops *ops, rf_val x)
{
	if (ops && ops->release)
		ops->release(x, ops->ctx);
}
static inline void key_retain(const rf_coll_ops *ops, rf_val k)
{
	if (ops && ops->key_retain)
		ops->key_retain(k, ops->ctx);
}
static inline void key_release(const rf_coll_ops *ops, rf_val k)
{
	if (ops && ops->key_release)
		ops->key_release(k, ops->ctx);
}
static inline bool ops_own_vals(const rf_coll_ops *ops)
{
	return ops && ops->retain;
}

#endif
