/* runtime/stm/stm.h: the shared state of the STM (internal to runtime/stm).
 *
 * The design is Clojure's LockingTransaction with its locks replaced by words:
 *
 *  - A global clock of commit points: a word holding the point P (bits 1..) and a
 *    DIRTY bit, set once a commit took point P + 1. An attempt that needs a snapshot (its
 *    first read of a ref it has not claimed, or an ensure) takes its read point from
 *    it: rp = P if the clock is clean (a load); else it raises the clock with a
 *    fetch_add of 1 (2P+1 -> 2P+2: P+1, clean) and rp = P + 1. It sees, for every ref,
 *    the newest version whose point is <= rp. An attempt that only claims (alter,
 *    ref-set, commute: it reads what it owns, newest by definition) takes no read
 *    point. A commit takes cp = P + 1 and marks the clock dirty if it is not (the first
 *    commit after a raise writes it; later ones only read it). So the clock's cache
 *    line moves between cores only when readers and writers alternate: neither a
 *    stream of writers nor a stream of readers writes it (TL2's GV4/GV5 family).
 *    Why that is a snapshot: every cp >= the points of the refs it overwrites (P only
 *    grows), and cp > the committer's own rp. A committer has claimed all its refs
 *    (seq_cst CASes) and then entered INSTALLING (a seq_cst CAS or store) before it
 *    reads the clock. A reader whose rp >= cp read or raised the clock after that read
 *    in the clock's modification order, hence after the claims and the INSTALLING in
 *    the single order of seq_cst operations; after reading a ref's versions it loads the
 *    ref's owner word and, if it names an attempt, that attempt's state (both seq_cst):
 *    it finds the committer's claim INSTALLING (it waits, and reads again), or the
 *    committer stopped (COMMITTED, or a later attempt of its slot: published after the
 *    installs), or a later word (0 or
 *    a later claim, whose writer read the committer's release of the claim, made after
 *    its installs): with the latter two the reader synchronized with the installs, and
 *    its second load of the ref's sequence word sees them, so it reads again (ref.c,
 *    versions_read). A claim the reader sees RUNNING or COMMITTING has not read the
 *    clock yet (INSTALLING comes first): its cp will be > rp. So a commit needs no
 *    fence of its own. Real time: a
 *    commit that completed left the clock dirty at its P, so a reader that starts later
 *    raises it (rp = P + 1 = cp) or finds it raised past it. Two commits may share a
 *    point: then they held their claims at the same time, so their write sets are
 *    disjoint, and every reader sees both or neither. A later writer of the same ref
 *    takes a point >= the earlier one's, and readers take the newest version of a ref
 *    among equal points.
 *  - Per ref, its newest version (cur, cur_point) and a ring of older versions, 0 up to
 *    max_history of them: like Clojure's TVal chain, it grows by one at a commit after a
 *    reader found no version old enough (a fault), or while below min_history. While it
 *    is empty, a commit writes only the ref's first cache line. The ring starts with room
 *    for the history limits given at creation, in the ref's own allocation; when the
 *    limits are raised later (rf_ref_set_max_history), a commit that must grow a full ring
 *    moves it to a bigger one, allocated before the commit's point of no return. Old rings
 *    stay allocated until the ref is freed (a reader may still hold one), so readers need
 *    no protection for them; each is at least twice the previous one, so they waste at
 *    most the size of the newest. Versions are guarded by
 *    `lock`, a sequence word written only by the ref's owner while it installs:
 *      bit 0 (REF_I) an install is in progress: readers wait for it to clear;
 *      bits 1.. a version, bumped by every install. A reader retries when the word
 *            changed across its read.
 *  - With a release function, the ref owns the distinct values among its kept versions;
 *    one that drops out (and is not kept by another version) is retired (reclaim.h):
 *    in-transaction readers hold a read section from their first look at such a ref to
 *    the end of rf_dosync.
 *  - Per ref an `owner` word: the claim of the transaction attempt that may write it
 *    (Clojure's tinfo, which Clojure guards with the ref's write lock; here the claim
 *    itself is the lock). Alter and ref-set claim in the body; commute claims at
 *    commit. A claim is alive while that attempt's slot state is live (RUNNING,
 *    COMMITTING or INSTALLING) with the same serial; a dead claim is simply overwritten. Only the
 *    live owner installs, so installs of one ref never overlap. A commit clears its
 *    claims (owner = 0) after installing; claims of attempts that stopped stay, dead.
 *  - Per ref an `ensurers` count (Clojure's read lock held by ensure).
 *  - Per transaction (not per attempt) a slot, from a type-stable table that is never
 *    freed, so that any thread may read any slot's state through a stale owner word.
 *
 * Waiting and deadlock: a body that meets a live claim either kills it (the older
 * transaction, after the grace period: "barging") or stops its own attempt, waits at
 * most STM_LOCK_WAIT_NS for the holder to stop, and retries; a stopped attempt holds
 * nothing, so these waits form no cycle. An attempt that holds no claim and no ensure
 * yet first polls the claim for up to STM_CLAIM_SPINS pauses without stopping: it holds
 * nothing either, and a short holder is usually gone by then. At commit, a transaction
 * that claimed no ref in its body (its claims are all commute claims, taken in
 * ref-address order) may wait for a claim past RUNNING (COMMITTING or INSTALLING), which finishes
 * without waiting on anyone else; a transaction that claimed a ref in its body retries instead, so
 * waits at commit cannot close a cycle either. Every such wait is bounded.
 *
 * Pairings (Dekker style; each side writes its own word, then reads the other's, so at
 * least one side sees the other):
 *   claimer (body or commit)  CAS owner     ; load ensurers       (seq_cst)
 *   ensurer                   add ensurers  ; load owner          (seq_cst)
 *   slot waiter add nwaiters  ; load state  / stopper store state ; load nwaiters
 *     (seq_cst, or asymmetric once membarrier is registered: slot.c)
 * Publication: an owner installs, then stores COMMITTED (release); whoever sees the
 * claim dead through that state also sees the install.
 */
#ifndef RF_STM_STM_H
#define RF_STM_STM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ringfold/ref.h"
#include "runtime/base/assert.h"
#include "runtime/base/reclaim.h"
#include "runtime/base/spin.h"
#include "runtime/base/watches.h"
#include "runtime/sched/wait.h"

/* Slot state: serial << 3 | status. RUNNING, COMMITTING and INSTALLING are live (their
 * claims hold); only RUNNING can be killed. COMMITTING: running the commit's steps that
 * may take time (commute claims and functions, validators); INSTALLING: its claims are
 * final and it may have read the clock, so readers of its refs wait for it. */
enum {
	TX_RUNNING = 0,
	TX_COMMITTING = 1,
	TX_INSTALLING = 2,
	TX_RETRY = 3,
	TX_KILLED = 4,
	TX_COMMITTED = 5,
	TX_STATUS_MASK = 7,
};

/* Owner words: (serial mod 2^44) << 20 | (slot index + 1); 0 = never owned. */
#define STM_IDX_BITS 20
#define STM_MAX_SLOTS ((1u << STM_IDX_BITS) - 1)
#define STM_SERIAL_MASK ((UINT64_C(1) << (64 - STM_IDX_BITS)) - 1)

#define STM_LOCK_WAIT_NS (100 * 1000000ull) /* Clojure's LOCK_WAIT_MSECS */
#define STM_BARGE_WAIT_NS (10 * 1000000ull) /* Clojure's BARGE_WAIT_NANOS */
/* Polls for a rival to stop before parking: with a pause each (some 5 us in all), then
 * with a yield each. */
#define STM_SPIN_ROUNDS 128
/* Polls of a live claim by an attempt that holds nothing, before it stops (some 1 us:
 * many times a short transaction; a holder that takes longer was likely preempted). */
#define STM_CLAIM_SPINS 32
#define STM_YIELD_ROUNDS 16

/* One per running transaction. `state` and `age` are read by any thread; the rest is
 * the holder's, except the waiter list, guarded by `wlock`. */
typedef struct stm_slot {
	_Atomic uint64_t state;   /* written by the holder; CAS RUNNING->KILLED by a barger */
	_Atomic uint64_t age;     /* coarse start time (txn.h); release/acquire */
	_Atomic uint64_t commits; /* holder-written (load+store), summed by stm_stats */
	_Atomic uint64_t retries;
	_Atomic uint32_t nwaiters; /* waiters on the list; see the Dekker pairing above */
	spinlock wlock;
	uint32_t idx;     /* immutable */
	uint64_t serial;  /* holder only: serial of the current attempt */
	waitlist waiters; /* under wlock */
	struct stm_slot *next_free;
} __attribute__((aligned(64))) stm_slot;

typedef struct stm_version {
	_Atomic rf_val val;
	_Atomic uint64_t point;
} stm_version;

/* Room for older versions. Immutable once published, except v[] (under the sequence
 * word). */
typedef struct stm_ring {
	uint32_t cap;
	struct stm_ring *prev; /* the ring it replaced, freed with the ref (NULL: the first) */
	stm_version v[];
} stm_ring;

/* The first cache line is all a commit writes while the ref keeps no history (the
 * default until a reader faults): owner claim, sequence word and newest version. */
struct rf_ref {
	_Atomic uint64_t lock;        /* REF_I | version; written by the owner only */
	_Atomic uint64_t owner;       /* claim word */
	_Atomic rf_val cur;           /* newest committed value */
	_Atomic uint64_t cur_point;   /* its commit point; under the sequence word */
	_Atomic uint32_t ensurers;    /* transactions holding ensure on this ref */
	_Atomic uint32_t faults;      /* reads that found no old enough version since growth */
	_Atomic uint32_t head;        /* ring index of the newest older version */
	_Atomic uint32_t hist;        /* older versions kept, 0..max_history */
	_Atomic(watch_set *) watches; /* copy-on-write, replaced and pinned under wlock */
	_Atomic bool has_validator;   /* validator != NULL; lets commits skip wlock */
	_Atomic bool keeps; /* release, or min_history set above 0 once (sticky): lets commits
	                     * skip the second line (relaxed) */

	/* Read by commits and readers; written rarely (set by the setters, or by an owner
	 * that grows the ring). */
	_Alignas(64) _Atomic(stm_ring *) ring; /* older versions; replaced by the owner under
	                                        * REF_I (release, readers acquire) */
	uint32_t ring_cap;                     /* ring->cap; the owner's copy, under REF_I */
	_Atomic uint32_t max_history;          /* relaxed: a commit uses the value it reads */
	_Atomic uint32_t min_history;
	rf_release_fn release; /* NULL: values are not owned; immutable */
	rf_val release_ctx;
	spinlock wlock;            /* guards the validator and `watches` (ref.c) */
	rf_validator_fn validator; /* under wlock */
	rf_val validator_ctx;      /* under wlock */
};

#define REF_I UINT64_C(1)
#define REF_VERSION UINT64_C(2)

/* ---- slots (slot.c) ---- */

/* The calling thread's cached free slot, or NULL (slot.c). */
extern _Thread_local stm_slot *stm_slot_cached __attribute__((tls_model("initial-exec")));
stm_slot *stm_slot_get_slow(void);
void stm_slot_put_global(stm_slot *s);
/* A slot for a new transaction (from the calling thread's cache when it has one).
 * Returns NULL on -ENOMEM or when STM_MAX_SLOTS transactions run at once. Any context. */
static inline stm_slot *stm_slot_get(void)
{
	stm_slot *s = stm_slot_cached;
	if (!s)
		return stm_slot_get_slow();
	stm_slot_cached = NULL;
	return s;
}
/* Give the slot back after the transaction ended (state no longer live), on the thread
 * that got it. */
static inline void stm_slot_put(stm_slot *s)
{
	RF_ASSERT((atomic_load_explicit(&s->state, memory_order_relaxed) & TX_STATUS_MASK) >=
	          TX_RETRY);
	if (stm_slot_cached)
		stm_slot_put_global(s);
	else
		stm_slot_cached = s;
}
/* The slot with index idx / the slot an owner word names (word != 0). */
stm_slot *stm_slot_at(uint32_t idx);
stm_slot *stm_slot_of(uint64_t word);
/* Whether the attempt named by `word` is live (RUNNING, COMMITTING or INSTALLING); *state
 * gets the state. */
bool stm_word_live(uint64_t word, uint64_t *state);
/* Whether the attempt named by `word` (!= 0) is INSTALLING (seq_cst load: the readers'
 * half of the clock pairing above). */
bool stm_word_installing(uint64_t word);
/* Wake everyone waiting for the holder's attempt to stop (call after the state left
 * the live ones, through a seq_cst store, a CAS or stm_slot_stop). Never blocks. */
void stm_slot_wake_all(stm_slot *s);
static inline void stm_slot_wake(stm_slot *s)
{
	/* the stopper's load of the latch pairing (slot.c) */
	if (atomic_load_explicit(&s->nwaiters, memory_order_seq_cst))
		stm_slot_wake_all(s);
}
/* Whether the waiters' side of the latch runs membarrier (slot.c); set once. */
extern _Atomic bool stm_latch_asym;
/* The holder ends its attempt: state (not a live one) is published after
 * everything the holder wrote before (release), then waiters are woken. Without a
 * locked instruction once waiters use membarrier (slot.c). Never blocks. */
static inline void stm_slot_stop(stm_slot *s, uint64_t state)
{
	RF_ASSERT((state & TX_STATUS_MASK) >= TX_RETRY && (state >> 3) == s->serial);
	/* relaxed: a stale false only takes the seq_cst store, which needs nothing */
	if (atomic_load_explicit(&stm_latch_asym, memory_order_relaxed)) {
		atomic_store_explicit(&s->state, state, memory_order_release);
		/* the store, then the load of nwaiters: ordered for the CPU by the
		 * waiter's membarrier, for the compiler by this */
		atomic_signal_fence(memory_order_seq_cst);
	} else {
		atomic_store_explicit(&s->state, state, memory_order_seq_cst);
	}
	stm_slot_wake(s);
}
/* Wait until the attempt named by `word` stops, or until the deadline (0: STM_LOCK_WAIT_NS
 * from when it parks; the spin before reads no clock). Blocks (parks a fiber,
 * futex-waits a thread). */
void stm_slot_await(uint64_t word, uint64_t deadline_ns);

/* ---- refs (ref.c) ---- */

/* Read the newest version with point <= rp. Returns false when none is kept (a fault;
 * the caller counts it). Waits (briefly) while an install is in progress or its owner is
 * INSTALLING: the reader's half of the clock pairing (above). */
bool stm_ref_read(rf_ref *r, uint64_t rp, rf_val *out);
/* Commit point of the newest version (a consistent read, as stm_ref_read). */
uint64_t stm_ref_newest_point(rf_ref *r);
/* A bigger ring for the next install of r, when that install will want to grow the
 * history and the ring is full; NULL if none is needed or none could be allocated (the
 * history then grows at a later commit). Caller owns r. Allocates; never blocks. */
stm_ring *stm_ref_ring_grow(rf_ref *r);
static inline stm_ring *stm_ref_ring_for_growth(rf_ref *r)
{
	/* relaxed: r is the caller's (see stm_ref_ring_grow) */
	return atomic_load_explicit(&r->hist, memory_order_relaxed) < r->ring_cap
	           ? NULL
	           : stm_ref_ring_grow(r);
}
/* Whether the next install of r changes its newest version only: no history kept or
 * wanted, no value owned. Caller owns r (relaxed: a fault counted after this look grows
 * the history at a later commit, as one counted after the install would). */
static inline bool stm_ref_install_plain(rf_ref *r)
{
	return !(atomic_load_explicit(&r->hist, memory_order_relaxed) |
	         atomic_load_explicit(&r->faults, memory_order_relaxed)) &&
	       (!atomic_load_explicit(&r->keeps, memory_order_relaxed) ||
	        (!r->release && !atomic_load_explicit(&r->min_history, memory_order_relaxed)));
}
/* Install val at commit point cp when stm_ref_install_plain(r). Caller owns the ref and
 * has set REF_I. */
static inline void stm_ref_install_newest(rf_ref *r, rf_val val, uint64_t cp)
{
	atomic_store_explicit(&r->cur_point, cp, memory_order_relaxed);
	atomic_store_explicit(&r->cur, val, memory_order_release); /* pairs with deref */
}
/* Install val at commit point cp otherwise. Caller owns the ref and has set REF_I. A
 * value that drops out of the kept versions is retired with `node` (refs with a release
 * function; may be NULL otherwise); returns whether node was used. `bigger` (may be
 * NULL) is a ring from stm_ref_ring_for_growth: install takes it (moving the versions
 * into it) or frees it. */
bool stm_ref_install_history(rf_ref *r, rf_val val, uint64_t cp, reclaim_thread *node,
                             stm_ring *bigger);
/* Set (relaxed, never cleared) before any ref first gets a validator: until then commits
 * look for none. A commit that happens after the set sees it, as it sees has_validator. */
extern _Atomic bool stm_validators_used;
/* Run the ref's validator on val: 0, RF_EVALIDATOR or the validator's code. */
int stm_ref_validate(rf_ref *r, rf_val val);
/* Call the ref's watches with (old, new). Outside any lock. Returns 0 or the first
 * watch's negative code (every watch still runs). */
int stm_ref_notify(rf_ref *r, rf_val old, rf_val new_val);

/* Back-off step `spins` of a short wait: pause, then yield the fiber or the thread. */
void stm_relax(unsigned spins);

#endif
