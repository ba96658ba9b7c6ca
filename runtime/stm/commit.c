/* runtime/stm/commit.c: rf_dosync, its attempts and the commit of each (Clojure's
 * LockingTransaction.run). One file, so that the commit inlines into the attempt loop.
 *
 * The commit's sequence (the words are described in stm.h):
 *  1. state RUNNING -> COMMITTING (CAS: a barger may have killed us; then retry), or
 *     straight to INSTALLING when steps 2-4 have nothing to do (the common case: refs set
 *     in the body, no validator, no release function). From here no one can kill this
 *     attempt, so its claims hold. An attempt that wrote nothing goes RUNNING ->
 *     COMMITTED instead and is done.
 *  2. Commuted refs this attempt did not set are claimed now, in ref-address order. A
 *     live claim of a RUNNING younger attempt is barged; a claim past RUNNING is waited
 *     for only by a transaction that claimed no ref in its body (stm.h: no cycle), else
 *     we retry. With the claim, ensures by others are visible (stm.h pairing): they mean
 *     retry. Then the commute functions run again on the newest values, in order.
 *  3. Validators on every value to be written; a rejection aborts (no retry).
 *  4. A retirement record per written ref with a release function (the one step left
 *     that can fail). Then state -> INSTALLING (a seq_cst store).
 *  5. cp = P + 1 from the clock, which is written only to mark it dirty: the claims and
 *     INSTALLING come before this load in the seq_cst order, which is what lets readers
 *     whose read point covers cp find the installs (stm.h), so no fence is needed. A
 *     bigger ring for a history that must grow out of a full one (if none can be had, it
 *     grows later: nothing fails). Per written ref: set REF_I (we own it: a plain store),
 *     release fence, install (a value that drops out is retired), clear REF_I with a
 *     version bump (release, pairs with readers' acquire), clear the claim (owner = 0,
 *     release).
 *  6. state -> COMMITTED (release: after the installs, so whoever sees the claim dead
 *     also sees the values; then the stopper's half of the latch, slot.c), wake waiters.
 * On failure at 2, 3 or 4 nothing was written; the caller's tx_stop kills every claim.
 */
#include <stdlib.h>

#include "runtime/base/ctx.h"
#include "runtime/base/probe.h"
#include "runtime/sched/sched.h"
#include "runtime/stm/txn.h"

/* The clock word (stm.h): the point P in bits 1.., and CLOCK_DIRTY once a commit took
 * point P + 1. It starts at P = 1, so that a read point is never 0 ("not taken"). */
#define CLOCK_DIRTY UINT64_C(1)

static struct {
	_Alignas(64) _Atomic uint64_t clock;
	char pad[64 - sizeof(uint64_t)];
} stm_time = {.clock = 2};

uint64_t stm_clock_read_point(void)
{
	/* seq_cst, both: ordered after the clock load of every commit it covers (stm.h) */
	uint64_t c = atomic_load_explicit(&stm_time.clock, memory_order_seq_cst);
	if (!(c & CLOCK_DIRTY))
		return c >> 1; /* no commit past P: nothing to raise */
	c = atomic_fetch_add_explicit(&stm_time.clock, 1, memory_order_seq_cst) + 1;
	return c >> 1; /* 2P+1 -> 2P+2: P+1 and clean; or a raced reader's P+1, dirty */
}

/* The commit point of a commit that is INSTALLING (after its seq_cst CAS or store of that
 * state): P + 1, marking the clock dirty unless it is already. */
static uint64_t clock_commit_point(void)
{
	uint64_t c = atomic_load_explicit(&stm_time.clock, memory_order_seq_cst);
	if (!(c & CLOCK_DIRTY))
		c = atomic_fetch_or_explicit(&stm_time.clock, CLOCK_DIRTY, memory_order_seq_cst);
	return (c >> 1) + 1;
}

bool tx_barge(stm_tx *tx, uint64_t word, uint64_t st)
{
	if (stm_coarse_ns() - tx->start_ns < STM_BARGE_WAIT_NS)
		return false;
	stm_slot *s = stm_slot_of(word);
	/* acquire pairs with the age store of its transaction's first attempt; a newer
	 * transaction's age can only be seen after its old state, so the CAS below fails */
	uint64_t age = atomic_load_explicit(&s->age, memory_order_acquire);
	bool older = tx->start_ns < age || (tx->start_ns == age && tx->slot->idx < s->idx);
	if (!older)
		return false;
	uint64_t killed = (st & ~(uint64_t)TX_STATUS_MASK) | TX_KILLED;
	if (!atomic_compare_exchange_strong_explicit(&s->state, &st, killed, memory_order_seq_cst,
	                                             memory_order_relaxed))
		return false;
	PROBE(tx_barge, tx, word);
	stm_slot_wake(s);
	return true;
}

static int by_address(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)(*(tx_entry *const *)a)->ref;
	uintptr_t y = (uintptr_t)(*(tx_entry *const *)b)->ref;
	return (x > y) - (x < y);
}

/* Step 2's entries (commuted, not set) in address order into tx->order; returns their
 * number or -ENOMEM. */
static int collect_commutes(stm_tx *tx)
{
	if (!tx->ocap) {
		tx->order = tx->o_inline;
		tx->ocap = TX_INLINE;
	}
	if (tx->n > tx->ocap) {
		tx_entry **o = tx->order == tx->o_inline ? malloc(tx->n * sizeof(*o))
		                                         : realloc(tx->order, tx->n * sizeof(*o));
		if (!o)
			return -ENOMEM;
		tx->order = o;
		tx->ocap = tx->n;
		tx->heap = true;
	}
	int nc = 0;
	for (uint32_t i = 0; i < tx->n; i++)
		if ((tx->e[i].flags & (E_SET | E_COMMUTE)) == E_COMMUTE)
			tx->order[nc++] = &tx->e[i];
	if (nc == 2 && tx->order[0]->ref > tx->order[1]->ref) { /* the common case, no qsort */
		tx_entry *first = tx->order[0];
		tx->order[0] = tx->order[1];
		tx->order[1] = first;
	} else if (nc > 2) {
		qsort(tx->order, (size_t)nc, sizeof(*tx->order), by_address);
	}
	return nc;
}

/* Step 2: claim a commuted ref this attempt did not set. 0 or RF_ETXRETRY. */
static int claim_commuted(stm_tx *tx, rf_ref *r, bool may_wait)
{
	uint64_t deadline = 0;
	for (;;) {
		uint64_t o = atomic_load_explicit(&r->owner, memory_order_acquire), st;
		if (o && stm_word_live(o, &st)) {
			if ((st & TX_STATUS_MASK) == TX_RUNNING) {
				if (!tx_barge(tx, o, st))
					return RF_ETXRETRY;
				continue;
			}
			/* past RUNNING: it finishes without waiting for us (stm.h); wait on its
			 * latch (a short spin, then parked: its holder may be preempted) */
			if (!may_wait)
				return RF_ETXRETRY;
			if (!deadline)
				deadline = time_now_ns() + STM_LOCK_WAIT_NS;
			else if (time_now_ns() > deadline)
				return RF_ETXRETRY;
			stm_slot_await(o, deadline);
			continue;
		}
		if (atomic_compare_exchange_strong_explicit(
		        &r->owner, &o, tx->word, memory_order_seq_cst, memory_order_relaxed))
			return 0;
	}
}

/* Step 2 for one commuted ref this attempt did not set. 0 or RF_ETXRETRY. */
static int prepare_commute(stm_tx *tx, tx_entry *e, bool may_wait)
{
	rf_ref *r = e->ref;
	bool was_ensured = e->flags & E_ENSURED;
	if (was_ensured) {
		atomic_fetch_sub_explicit(&r->ensurers, 1, memory_order_seq_cst);
		e->flags &= ~(uint32_t)E_ENSURED;
	}
	int rc = claim_commuted(tx, r, may_wait);
	if (rc)
		return rc;
	if (atomic_load_explicit(&r->ensurers, memory_order_seq_cst))
		return RF_ETXRETRY;
	/* We own the ref: no install can run, the newest version is stable. An ensure took
	 * a read point. */
	if (was_ensured &&
	    atomic_load_explicit(&r->cur_point, memory_order_relaxed) > tx->read_point)
		return RF_ETXRETRY;
	if ((e->flags & E_OWNED) && (rc = tx_reserve_discard(tx, e)))
		return rc;
	/* the body's value is recomputed below from the newest one: a replaced value */
	tx_replace(tx, e, atomic_load_explicit(&r->cur, memory_order_acquire));
	e->base = e->val;
	e->flags &= ~(uint32_t)E_OWNED;
	return 0;
}

/* Step 2: run a commute function again on the ref's newest value (or on what the
 * commutes before it made of it). 0, or the function's code, or -ENOMEM. */
static int rerun_commute(stm_tx *tx, const tx_commute *c)
{
	int rc = tx_reserve_discard(tx, &tx->e[c->entry]);
	if (rc)
		return rc;
	rf_val v = RF_NIL, old = tx->e[c->entry].val;
	if ((rc = c->fn(old, c->arg, &v)))
		return rc;
	if ((rc = tx_made(tx, &tx->e[c->entry], old, v, 0)))
		return rc;
	tx_replace(tx, &tx->e[c->entry], v);
	return 0;
}

/* A retirement record for the value the install of e may drop: 0 or -ENOMEM. */
static int reserve_node(tx_entry *e)
{
	if (!(e->flags & E_RELEASE) || e->node)
		return 0;
	e->node = reclaim_node_alloc();
	return e->node ? 0 : -ENOMEM;
}

static void free_nodes(stm_tx *tx)
{
	for (uint32_t i = 0; i < tx->n; i++) {
		if (tx->e[i].node) {
			reclaim_node_free(tx->e[i].node);
			tx->e[i].node = NULL;
		}
	}
}

static bool written(const tx_entry *e)
{
	return e->flags & (E_SET | E_COMMUTE);
}

/* Whether e is written and its ref has a validator (relaxed: a validator set concurrently
 * with a commit may or may not apply to it, stm_ref_validate). */
static bool validated(const tx_entry *e)
{
	return written(e) && atomic_load_explicit(&e->ref->has_validator, memory_order_relaxed);
}

static bool any_validator(stm_tx *tx)
{
	/* relaxed: stm.h */
	if (!atomic_load_explicit(&stm_validators_used, memory_order_relaxed))
		return false;
	for (tx_entry *e = tx->e, *end = tx->e + tx->n; e < end; e++)
		if (validated(e))
			return true;
	return false;
}

/* Steps 2-4. 0, or the code to end the attempt with (nothing was written). */
static int commit_prepare(stm_tx *tx)
{
	int rc = 0;
	if (tx->nc) {
		int nc = collect_commutes(tx);
		if (nc < 0)
			return nc;
		/* claims of the body are in body order: then no waiting here (stm.h) */
		bool may_wait = !(tx->seen & E_SET);
		for (int i = 0; i < nc && !rc; i++)
			rc = prepare_commute(tx, tx->order[i], may_wait);
		for (uint32_t i = 0; i < tx->nc && !rc; i++)
			if (!(tx->e[tx->c[i].entry].flags & E_SET))
				rc = rerun_commute(tx, &tx->c[i]);
	}
	for (uint32_t i = 0; i < tx->n && !rc; i++)
		if (validated(&tx->e[i]))
			rc = stm_ref_validate(tx->e[i].ref, tx->e[i].val);
	for (uint32_t i = 0; i < tx->n && !rc && (tx->seen & E_RELEASE); i++)
		if (written(&tx->e[i]))
			rc = reserve_node(&tx->e[i]);
	if (rc && (tx->seen & E_RELEASE))
		free_nodes(tx);
	return rc;
}

/* Commit the attempt: 0, RF_ETXRETRY, or an error (validator, commute fn). Called once,
 * from rf_dosync below, into which it is inlined. */
static int tx_commit(stm_tx *tx)
{
	stm_slot *s = tx->slot;
	uint64_t running = s->serial << 3 | TX_RUNNING;
	if (!(tx->seen & E_SET) && !tx->nc) { /* read-only: nothing to lock or install */
		for (uint32_t i = 0; i < tx->n; i++)
			RF_ASSERT(!written(&tx->e[i]));
		tx->watched = false;
		if (!atomic_compare_exchange_strong_explicit(
		        &s->state, &running, s->serial << 3 | TX_COMMITTED, memory_order_seq_cst,
		        memory_order_relaxed))
			return RF_ETXRETRY;
		stm_slot_wake(s);
		return 0;
	}
	bool prepare = tx->nc || (tx->seen & E_RELEASE) || any_validator(tx);
	/* seq_cst: INSTALLING (when not prepare) before the clock load (stm.h) */
	if (!atomic_compare_exchange_strong_explicit(
	        &s->state, &running, s->serial << 3 | (prepare ? TX_COMMITTING : TX_INSTALLING),
	        memory_order_seq_cst, memory_order_relaxed))
		return RF_ETXRETRY;
	if (prepare) {
		int rc = commit_prepare(tx);
		if (rc)
			return rc;
		/* seq_cst: before the clock load (stm.h) */
		atomic_store_explicit(&s->state, s->serial << 3 | TX_INSTALLING,
		                      memory_order_seq_cst);
	}
	uint64_t cp = clock_commit_point();
	bool watched = false;
	/* the set is final: walk it through locals (the stores below may alias tx for the
	 * compiler) */
	for (tx_entry *e = tx->e, *const end = tx->e + tx->n; e < end; e++) {
		if (!written(e))
			continue;
		rf_ref *r = e->ref;
		/* only the live owner installs, so installs of one ref never overlap */
		RF_ASSERT(atomic_load_explicit(&r->owner, memory_order_relaxed) == tx->word);
		bool plain = stm_ref_install_plain(r);
		/* allocates, rarely: before REF_I, which readers wait on */
		stm_ring *bigger = plain ? NULL : stm_ref_ring_for_growth(r);
		uint64_t l = atomic_load_explicit(&r->lock, memory_order_relaxed);
		RF_ASSERT(!(l & REF_I));
		atomic_store_explicit(&r->lock, l | REF_I, memory_order_relaxed);
		/* REF_I before the versions (pairs with the readers' acquire fence) */
		atomic_thread_fence(memory_order_release);
		e->old = e->base; /* the newest value when we claimed it, still: we own it */
		if (plain)
			stm_ref_install_newest(r, e->val, cp);
		else if (stm_ref_install_history(r, e->val, cp, e->node, bigger))
			e->node = NULL;
		atomic_store_explicit(&r->lock, (l + REF_VERSION) & ~REF_I, memory_order_release);
		/* Give the claim up on a line we hold anyway, so that the next claimer need not
		 * read our slot's state (a second line from another core) to find it dead.
		 * Release: pairs with the claimers' acquire load / CAS of owner, which then see
		 * the install. */
		atomic_store_explicit(&r->owner, 0, memory_order_release);
		/* relaxed: a watch added concurrently may or may not see this commit; one added
		 * before (by this body too) is seen, and rf_dosync calls it */
		watched |= atomic_load_explicit(&r->watches, memory_order_relaxed) != NULL;
	}
	tx->watched = watched;
	if (tx->seen & E_RELEASE)
		free_nodes(tx);
	stm_slot_stop(s, s->serial << 3 | TX_COMMITTED);
	return 0;
}

#define DEFAULT_RETRY_LIMIT 10000

static uint32_t retry_limit(void)
{
	const rf_config *cfg = sched_config_peek(); /* transactions need no workers */
	return cfg && cfg->stm_retry_limit ? cfg->stm_retry_limit : DEFAULT_RETRY_LIMIT;
}

static void tx_begin(stm_tx *tx, bool first)
{
	stm_slot *s = tx->slot;
	s->serial++;
	tx->word = (s->serial & STM_SERIAL_MASK) << STM_IDX_BITS | (s->idx + 1);
	tx->read_point = 0;
	tx->doomed = false;
	if (first) {
		tx->start_ns = stm_coarse_ns();
		/* release: read by bargers (acquire) holding a word of this transaction */
		atomic_store_explicit(&s->age, tx->start_ns, memory_order_release);
	}
	/* release: whoever reads a claim of this attempt and then this state sees the age */
	atomic_store_explicit(&s->state, s->serial << 3 | TX_RUNNING, memory_order_release);
}

/* Randomized exponential back-off before attempt `attempt` (>= 1). Bounded: at most
 * ~1000 pauses, then also a yield of the fiber or thread. */
static void backoff(stm_tx *tx, uint32_t attempt)
{
	if (attempt < 2)
		return;
	if (attempt == 2) /* jitter differs between slots and between transactions */
		tx->rand = ((uint64_t)tx->slot->idx << 32) ^ tx->slot->serial ^
		           UINT64_C(0x2545F4914F6CDD1D);
	tx->rand ^= tx->rand << 13;
	tx->rand ^= tx->rand >> 7;
	tx->rand ^= tx->rand << 17;
	uint32_t shift = attempt < 10 ? attempt : 10;
	uint32_t n = (uint32_t)tx->rand & ((1u << shift) - 1);
	for (uint32_t i = 0; i < n; i++)
		stm_relax(0);
	if (attempt > 10)
		stm_relax(64);
}

static void count(_Atomic uint64_t *c, uint64_t n)
{
	/* holder-only counter: load+store, read relaxed by stm_stats */
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
	                      memory_order_relaxed);
}

int rf_dosync(rf_body_fn body, rf_val arg, rf_val *out)
{
	rf_val dummy;
	if (!out)
		out = &dummy;
	*out = RF_NIL;
	if (!body)
		return -EINVAL;
	exec_ctx *ctx = ctx_self();
	if (ctx->tx) /* nested dosync joins the running transaction */
		return body(arg, out);
	stm_slot *slot = stm_slot_get();
	if (!slot)
		return -EAGAIN;
	stm_tx tx;
	stm_tx_init(&tx, slot);
	ctx->tx = &tx;
	uint32_t limit = UINT32_MAX, attempt; /* read at the first retry */
	rf_val v = RF_NIL;
	int rc = RF_ETXRETRY, watch_rc = 0;
	for (attempt = 0; attempt < limit; attempt++) {
		backoff(&tx, attempt);
		tx_begin(&tx, attempt == 0);
		if (attempt)
			PROBE(tx_retry, &tx, attempt);
		else
			PROBE(tx_start, &tx);
		v = RF_NIL;
		rc = body(arg, &v);
		if (tx.doomed || rc == RF_ETXRETRY)
			rc = RF_ETXRETRY;
		else if (rc == 0)
			rc = tx_commit(&tx);
		if (rc != 0)
			tx_stop(&tx, TX_RETRY);
		else
			tx_release_ensures(&tx);
		tx_release_made(&tx, rc == 0);
		if (rc != RF_ETXRETRY)
			break;
		if (limit == UINT32_MAX)
			limit = retry_limit();
		stm_tx_reset(&tx);
	}
	ctx->tx = NULL;
	if (attempt)
		count(&slot->retries, attempt); /* attempts that ended in a retry */
	if (rc == 0) {
		count(&slot->commits, 1);
		PROBE(tx_commit, &tx, attempt);
		*out = v;
		for (uint32_t i = 0; tx.watched && i < tx.n; i++) {
			/* relaxed: a watch added concurrently may or may not see this commit */
			if (!(tx.e[i].flags & (E_SET | E_COMMUTE)) ||
			    !atomic_load_explicit(&tx.e[i].ref->watches, memory_order_relaxed))
				continue;
			int wrc = stm_ref_notify(tx.e[i].ref, tx.e[i].old, tx.e[i].val);
			if (wrc < 0 && !watch_rc)
				watch_rc = wrc;
		}
	}
	if (tx.reading) /* after the watches: they may use the replaced values */
		rf_reclaim_read_end();
	stm_tx_fini(&tx, rc == 0);
	stm_slot_put(slot);
	if (rc == 0)
		return watch_rc;
	return rc == RF_ETXRETRY ? RF_ERETRYLIMIT : rc;
}
