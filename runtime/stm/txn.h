/* runtime/stm/txn.h: a transaction's private state (internal to runtime/stm).
 *
 * An stm_tx lives on the stack of the outermost rf_dosync and is reachable only through
 * ctx_self()->tx of the fiber or thread running it: every field is private to that
 * context. Other transactions see only its slot (stm.h). The sets are reset at each
 * attempt; their heap parts (past the inline storage) are kept until the end.
 */
#ifndef RF_STM_TXN_H
#define RF_STM_TXN_H

#include <time.h>

#include "runtime/stm/stm.h"

enum {
	E_SET = 1,     /* ref-set or alter: val is the value to commit (Clojure's sets) */
	E_COMMUTE = 2, /* commuted: fns in the commute list run again at commit */
	E_ENSURED = 4, /* this transaction counts in ref->ensurers */
	E_RELEASE = 8, /* the ref has a release function: track the values made for it */
	E_OWNED = 16,  /* val is a value this attempt made: the ref's at commit, else released */
};

typedef struct tx_entry {
	rf_ref *ref;
	rf_val val;           /* in-transaction value (E_SET or E_COMMUTE) */
	rf_val base;          /* the committed value the first write replaced (never owned) */
	rf_val old;           /* at commit: the value replaced, for watches */
	reclaim_thread *node; /* at commit (E_RELEASE): retires the value the install drops */
	uint32_t flags;
} tx_entry;

typedef struct tx_commute {
	uint32_t entry;
	rf_update_fn fn;
	rf_val arg;
} tx_commute;

/* A value this attempt made and then replaced: released when the attempt ends. */
typedef struct tx_discard {
	uint32_t entry;
	rf_val val;
} tx_discard;

typedef struct tx_deferred {
	void (*fn)(void *arg);
	void *arg;
	void (*drop)(void *arg);
} tx_deferred;

#define TX_INLINE 8     /* entries and order kept inline */
#define TX_INLINE_AUX 4 /* commutes, held sends and discards kept inline */

typedef struct stm_tx {
	stm_slot *slot;
	uint64_t word;       /* owner word of this attempt */
	uint64_t read_point; /* snapshot of this attempt; 0 until it needs one */
	uint64_t start_ns;   /* coarse monotonic time of the first attempt: the age */
	uint64_t rand;       /* back-off jitter (seeded at the second retry) */
	bool doomed;         /* this attempt must retry */
	uint32_t seen;       /* E_RELEASE | E_ENSURED if any entry of this attempt had it;
	                      * E_SET once it claimed a ref in its body */
	bool reading;        /* a reclaim read section is open (refs with release) */
	bool heap;           /* some array below moved to the heap (tx_free_heap) */
	bool watched;        /* set by the commit: a written ref had watches at install */

	tx_entry *e; /* refs touched: e[0..n) */
	uint32_t n, cap;
	uint32_t *index; /* open addressing over e, entry+1, once n > TX_INLINE */
	uint32_t icap;
	tx_commute *c; /* commute calls in order; c, d, x and order: unset while their cap is 0 */
	uint32_t nc, ccap;
	tx_deferred *d; /* held agent sends */
	uint32_t nd, dcap;
	tx_discard *x; /* values made and replaced, distinct, none an entry's val */
	uint32_t nx, xcap;
	tx_entry **order; /* commit: written entries in ref-address order */
	uint32_t ocap;

	tx_entry e_inline[TX_INLINE];
	tx_commute c_inline[TX_INLINE_AUX];
	tx_deferred d_inline[TX_INLINE_AUX];
	tx_discard x_inline[TX_INLINE_AUX];
	tx_entry *o_inline[TX_INLINE];
} stm_tx;

/* Set up the private state of a transaction holding `slot`. */
static inline void stm_tx_init(stm_tx *tx, stm_slot *slot)
{
	/* Field by field: a memset of the header compiles to `rep stos`, which costs ~8 ns
	 * on AMD cores at this size (a tenth of a transfer). word, read_point, start_ns and
	 * doomed are set by each attempt's begin. The arrays other than e start with no
	 * room: their first use points them at their inline storage (txset.c), so a
	 * transaction that uses none sets no pointer. */
	tx->slot = slot;
	tx->reading = false;
	tx->heap = false;
	tx->seen = 0;
	tx->e = tx->e_inline;
	tx->n = 0;
	tx->cap = TX_INLINE;
	tx->index = NULL;
	tx->icap = 0;
	tx->nc = 0;
	tx->ccap = 0;
	tx->nd = 0;
	tx->dcap = 0;
	tx->nx = 0;
	tx->xcap = 0;
	tx->ocap = 0;
}
/* Run the held sends (committed) or drop them. */
void tx_run_deferred(stm_tx *tx, bool committed);
void tx_free_heap(stm_tx *tx);
/* The transaction ended: run or drop its held sends, free what it allocated. */
static inline void stm_tx_fini(stm_tx *tx, bool committed)
{
	if (tx->nd)
		tx_run_deferred(tx, committed);
	if (tx->heap)
		tx_free_heap(tx);
}
/* Clear the sets for the next attempt; drop the held sends. */
void stm_tx_reset(stm_tx *tx);
/* Entry of ref in this attempt, or NULL. */
tx_entry *tx_find_hashed(stm_tx *tx, rf_ref *ref);
static inline tx_entry *tx_find(stm_tx *tx, rf_ref *ref)
{
	if (tx->n > TX_INLINE)
		return tx_find_hashed(tx, ref);
	for (uint32_t i = 0; i < tx->n; i++)
		if (tx->e[i].ref == ref)
			return &tx->e[i];
	return NULL;
}
/* New entry for ref (not yet present); NULL on -ENOMEM. */
tx_entry *tx_add_indexed(stm_tx *tx, rf_ref *ref);
static inline tx_entry *tx_add(stm_tx *tx, rf_ref *ref)
{
	if (tx->n >= TX_INLINE) /* past the linear search: grow, index */
		return tx_add_indexed(tx, ref);
	RF_ASSERT(!tx_find(tx, ref));
	tx_entry *e = &tx->e[tx->n++];
	/* val and base are set by the first write, old by the commit: none is
	 * read before (node is read by the commit's clean-up) */
	e->ref = ref;
	e->flags = ref->release ? E_RELEASE : 0;
	e->node = NULL;
	tx->seen |= e->flags;
	return e;
}
/* Append to the commute list / the held sends. 0 or -ENOMEM. */
int tx_add_commute(stm_tx *tx, uint32_t entry, rf_update_fn fn, rf_val arg);
int tx_add_deferred(stm_tx *tx, void (*fn)(void *), void *arg, void (*drop)(void *));
/* Room for one more discarded value, called before making a value for e that may replace
 * another (only values of refs with a release function are tracked): 0 or -ENOMEM. */
int tx_grow_discard(stm_tx *tx);
static inline int tx_reserve_discard(stm_tx *tx, const tx_entry *e)
{
	return !(e->flags & E_RELEASE) || tx->nx < tx->xcap ? 0 : tx_grow_discard(tx);
}
/* A function made nv from old for entry e (as it is after the function ran), and the
 * caller's next step returned rc. The function may have written other refs, using the
 * room reserved before it ran: reserve again. If that or rc failed, release nv (no one
 * else saw it) and return the error; else 0, and tx_replace may follow. */
int tx_made_owned(stm_tx *tx, const tx_entry *e, rf_val old, rf_val nv, int rc);
static inline int tx_made(stm_tx *tx, const tx_entry *e, rf_val old, rf_val nv, int rc)
{
	/* only values of refs with a release function are tracked */
	return e->flags & E_RELEASE ? tx_made_owned(tx, e, old, nv, rc) : rc;
}
/* Make nv the in-transaction value of e (E_SET or E_COMMUTE already meant: e->val holds
 * the current one, e->base the first), tracking ownership for E_RELEASE refs. Needs the
 * room reserved above. */
void tx_replace_owned(stm_tx *tx, tx_entry *e, rf_val nv);
static inline void tx_replace(stm_tx *tx, tx_entry *e, rf_val nv)
{
	if (!(e->flags & E_RELEASE) || nv == e->val)
		e->val = nv;
	else
		tx_replace_owned(tx, e, nv);
}
/* The attempt ended: release the values it made and did not commit. */
void tx_release_made_all(stm_tx *tx, bool committed);
static inline void tx_release_made(stm_tx *tx, bool committed)
{
	if (tx->seen & E_RELEASE) /* only values of such refs are tracked */
		tx_release_made_all(tx, committed);
}
/* Mark the attempt doomed; returns RF_ETXRETRY. */
int tx_retry(stm_tx *tx);
/* Whether the attempt may go on (not doomed, not killed). */
bool tx_ok(stm_tx *tx);
/* End the attempt early: state -> status (RETRY), ensures released, waiters woken. */
void tx_stop(stm_tx *tx, unsigned status);
/* Release every ensure this attempt holds. */
void tx_release_ensures_all(stm_tx *tx);
static inline void tx_release_ensures(stm_tx *tx)
{
	if (tx->seen & E_ENSURED)
		tx_release_ensures_all(tx);
}
/* Try to kill the younger attempt `word` (state st, RUNNING) if this transaction is
 * older and has run past the grace period. True if it is now dead. */
bool tx_barge(stm_tx *tx, uint64_t word, uint64_t st);
/* A new read point (stm.h: the readers' increment of the clock), and a coarse
 * monotonic time in ns (CLOCK_MONOTONIC_COARSE: a few ns to read, one tick of
 * resolution, 4 ms here). Transactions are as old as their first attempt's coarse time;
 * those started in one tick are ordered by slot index: a total order fixed for a
 * transaction's life, which is all starvation freedom needs, for the price of a load
 * (a cycle-counter read cost ~25 ns in this VM). */
uint64_t stm_clock_read_point(void);
static inline uint64_t stm_coarse_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
