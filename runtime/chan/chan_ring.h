/* runtime/chan/chan_ring.h: the lock-free buffer of a fixed channel without transformation
 * (internal).
 *
 * A bounded MPMC ring of stamped slots (Vyukov's, laid out as crossbeam-channel's array
 * flavour): a put or take that needs no waiter claims a position with one CAS on tail or
 * head and never takes the channel lock. Everything else (waiters, close, alts' atomic
 * choice, pending puts refilling the buffer) stays on the locked path of chan.c, which
 * first freezes the ring.
 *
 * Positions. head and tail count positions: index (low bits, < cap) and lap (the bits
 * above, in steps of one_lap, the power of two above cap). Slot i's stamp says what the
 * slot holds: stamp == p means free for a put at position p; p + 1, the value of
 * position p; a take at p frees it for the next lap (p + one_lap).
 *
 * Fast and frozen. CHAN_RING_SLOW (the top bit of head and of tail) set means frozen: fast
 * operations see it and go to the locked path instead. Only the lock holder freezes
 * (chan_ring_freeze, two fetch_or) and thaws (chan_ring_thaw, two stores), and ch->frozen mirrors
 * it under the lock. The channel is thawed only while no node is linked on either list and it is
 * open (chan_unlock thaws when that holds again and the ring is neither full nor empty). So:
 *  - a thawed ring has no waiter to serve: a fast put or take has nothing to do but the
 *    ring (no take to hand a value to, no pending put to refill the freed slot from);
 *  - while frozen, head and tail change only under the lock.
 *
 * The lost wake-up, and why the fetch_or is enough. A take that finds the ring empty
 * freezes it under the lock, then counts with the positions the fetch_or returned, and
 * links its node only if that count is 0. A fast put's CAS on tail and the freezing
 * fetch_or on tail are read-modify-writes of one word: one comes first in its
 * modification order. If the put's CAS came first, the fetch_or returns the advanced
 * tail and the take finds the value (waiting for the stamp if the put has not written it
 * yet); if the fetch_or came first, the put's CAS fails (it expected no CHAN_RING_SLOW), it
 * reloads tail, sees CHAN_RING_SLOW and takes the lock, where it finds the take's node. The
 * same argument on head serves a put that finds the ring full. A fast operation that saw
 * CHAN_RING_SLOW then takes the lock after the freezer released it (it read a value the
 * freezer wrote while holding the lock), so the lock publishes the nodes.
 *
 * In flight. A fast operation that won its CAS before the freeze may not have written or
 * freed its slot yet; the locked side waits for that slot's stamp (chan_ring_remove,
 * chan_ring_add), a few instructions unless the other thread was preempted in between (then
 * spin_step yields and naps, as for a preempted lock holder). A fiber never parks between
 * its CAS and its stamp store.
 *
 * The last access. A fast operation's last access to the channel is its stamp store. A
 * thaw lets fast operations see what the lock holder did before it unlocks (it still
 * writes tail, ch->frozen and the lock word), and a fast take of the value a locked put
 * just added is ordered only after that put's stamp store. So the last reference waits
 * for the lock to be free before it frees the channel (chan_final): the unlock is the
 * holder's last access, and its release orders it before the free.
 *
 * Orders: the stamp store is a release that pairs with the acquire load of the stamp by
 * whoever uses the slot next (fast or locked): it publishes the value to a taker, and
 * the taker's read of it to the next lap's putter. Positions are relaxed: a position
 * only names a slot, whose stamp is then checked, and a CAS on the position decides
 * who owns it.
 */
#ifndef RF_CHAN_RING_H
#define RF_CHAN_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ringfold/base.h"
#include "runtime/base/spin.h"

#define CHAN_RING_SLOW (UINT64_C(1) << 63)

typedef struct chan_slot {
	_Atomic uint64_t stamp;
	rf_val val; /* guarded by stamp */
} chan_slot;

/* head and tail each on a cache line of their own: takers and putters do not share one. */
typedef struct chan_ring {
	uint64_t cap, one_lap; /* set before sharing */
	_Alignas(64) _Atomic uint64_t head;
	_Alignas(64) _Atomic uint64_t tail;
	_Alignas(64) chan_slot slots[];
} chan_ring;

/* A ring of cap slots (1 <= cap < 2^40), thawed and empty; NULL when out of memory. Free
 * it with free(). */
chan_ring *chan_ring_new(uint64_t cap);

/* The position after p (p without CHAN_RING_SLOW). */
static inline uint64_t chan_ring_next(const chan_ring *r, uint64_t p)
{
	uint64_t lap = r->one_lap;
	return (p & (lap - 1)) + 1 < r->cap ? p + 1 : (p & ~(lap - 1)) + lap;
}

/* Any thread, no lock: put v if the ring is thawed and has a free slot. False: frozen,
 * full, or the take of that slot still reading it; the locked path decides then. */
static inline bool chan_ring_try_put(chan_ring *r, rf_val v)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	for (;;) {
		if (t & CHAN_RING_SLOW)
			return false;
		chan_slot *s = &r->slots[t & (r->one_lap - 1)];
		/* Acquire: pairs with the release that freed the slot (its last reader done). */
		if (atomic_load_explicit(&s->stamp, memory_order_acquire) == t) {
			if (atomic_compare_exchange_weak_explicit(
			        &r->tail, &t, chan_ring_next(r, t), memory_order_relaxed,
			        memory_order_relaxed)) {
				s->val = v;
				/* Release: pairs with the taker's acquire of the stamp. */
				atomic_store_explicit(&s->stamp, t + 1, memory_order_release);
				return true;
			}
			continue; /* t reloaded by the failed CAS */
		}
		uint64_t now = atomic_load_explicit(&r->tail, memory_order_relaxed);
		if (now == t)
			return false;
		t = now; /* another put moved on: retry at the new tail */
	}
}

/* Any thread, no lock: take a value into *out if the ring is thawed and holds one. False:
 * frozen, empty, or the put of that slot still writing it. */
static inline bool chan_ring_try_take(chan_ring *r, rf_val *out)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	for (;;) {
		if (h & CHAN_RING_SLOW)
			return false;
		chan_slot *s = &r->slots[h & (r->one_lap - 1)];
		/* Acquire: pairs with the putter's release; the value is then visible. */
		if (atomic_load_explicit(&s->stamp, memory_order_acquire) == h + 1) {
			if (atomic_compare_exchange_weak_explicit(
			        &r->head, &h, chan_ring_next(r, h), memory_order_relaxed,
			        memory_order_relaxed)) {
				*out = s->val;
				/* Release: pairs with the next lap's putter's acquire. */
				atomic_store_explicit(&s->stamp, h + r->one_lap,
				                      memory_order_release);
				return true;
			}
			continue;
		}
		uint64_t now = atomic_load_explicit(&r->head, memory_order_relaxed);
		if (now == h)
			return false;
		h = now;
	}
}

/* Lock holder: stop fast operations (see the file comment for why relaxed suffices). */
static inline void chan_ring_freeze(chan_ring *r)
{
	atomic_fetch_or_explicit(&r->head, CHAN_RING_SLOW, memory_order_relaxed);
	atomic_fetch_or_explicit(&r->tail, CHAN_RING_SLOW, memory_order_relaxed);
}

/* Lock holder, frozen: let fast operations in again. Relaxed: what the locked side did to
 * a slot is published by that slot's stamp, which a fast operation acquires. */
static inline void chan_ring_thaw(chan_ring *r)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	atomic_store_explicit(&r->head, h & ~CHAN_RING_SLOW, memory_order_relaxed);
	atomic_store_explicit(&r->tail, t & ~CHAN_RING_SLOW, memory_order_relaxed);
}

/* Frozen (or nobody else holds the channel): values between head and tail, those whose
 * put is still in flight included. */
static inline uint64_t chan_ring_count(const chan_ring *r)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed) & ~CHAN_RING_SLOW;
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed) & ~CHAN_RING_SLOW;
	uint64_t hi = h & (r->one_lap - 1), ti = t & (r->one_lap - 1);
	if (hi < ti)
		return ti - hi;
	if (hi > ti)
		return r->cap - hi + ti;
	return t == h ? 0 : r->cap;
}

/* Wait until slot s's stamp is `want` (a fast operation in flight finishing). */
static inline void chan_ring_await(chan_slot *s, uint64_t want)
{
	/* Acquire: pairs with that operation's release of the stamp. */
	for (unsigned spins = 0; atomic_load_explicit(&s->stamp, memory_order_acquire) != want;)
		spin_step(++spins);
}

/* Frozen (or nobody else holds the channel), chan_ring_count > 0: the oldest value. */
static inline rf_val chan_ring_remove(chan_ring *r)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed) & ~CHAN_RING_SLOW;
	chan_slot *s = &r->slots[h & (r->one_lap - 1)];
	chan_ring_await(s, h + 1);
	rf_val v = s->val;
	atomic_store_explicit(&s->stamp, h + r->one_lap, memory_order_release);
	atomic_store_explicit(&r->head, chan_ring_next(r, h) | CHAN_RING_SLOW,
	                      memory_order_relaxed);
	return v;
}

/* Frozen, chan_ring_count < cap: append v. */
static inline void chan_ring_add(chan_ring *r, rf_val v)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed) & ~CHAN_RING_SLOW;
	chan_slot *s = &r->slots[t & (r->one_lap - 1)];
	chan_ring_await(s, t);
	s->val = v;
	atomic_store_explicit(&s->stamp, t + 1, memory_order_release);
	atomic_store_explicit(&r->tail, chan_ring_next(r, t) | CHAN_RING_SLOW,
	                      memory_order_relaxed);
}

#endif
