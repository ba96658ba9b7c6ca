/* runtime/stm/tx.c: the operations of a transaction body (rf_dosync runs it: commit.c).
 *
 * The running transaction is ctx_self()->tx (per fiber, or per thread outside fibers)
 * and is touched only by that context. What other contexts see of it is its slot: the
 * state word (RUNNING/COMMITTING/RETRY/KILLED/COMMITTED with the attempt's serial) and
 * its age; and the words it wrote into refs (owner claims, ensure counts, sequence
 * words). The orderings between those words are stated in stm.h and commit.c.
 */
#include "runtime/stm/tx.h"
#include "runtime/base/ctx.h"
#include "runtime/base/lockrank.h"
#include "runtime/base/probe.h"
#include "runtime/stm/txn.h"

static stm_tx *current(void)
{
	return ctx_self()->tx;
}

bool stm_tx_running(void)
{
	return current() != NULL;
}

bool rf_in_transaction(void)
{
	return current() != NULL;
}

int rf_io_guard(void)
{
	return current() ? RF_EIOINTX : 0;
}

int stm_tx_defer(void (*fn)(void *arg), void *arg, void (*drop)(void *arg))
{
	stm_tx *tx = current();
	if (!tx)
		return RF_ENOTX;
	if (!fn)
		return -EINVAL;
	return tx_add_deferred(tx, fn, arg, drop);
}

int tx_retry(stm_tx *tx)
{
	tx->doomed = true;
	return RF_ETXRETRY;
}

bool tx_ok(stm_tx *tx)
{
	/* relaxed: a barger's KILLED may be seen late; the commit's CAS settles it */
	return !tx->doomed && (atomic_load_explicit(&tx->slot->state, memory_order_relaxed) &
	                       TX_STATUS_MASK) == TX_RUNNING;
}

void tx_stop(stm_tx *tx, unsigned status)
{
	stm_slot *s = tx->slot;
	stm_slot_stop(s, s->serial << 3 | status);
	tx_release_ensures(tx);
	tx->doomed = true;
}

/* Another live attempt stands in the way: stop this attempt (freeing what it holds),
 * wait for that one to stop, at most STM_LOCK_WAIT_NS, and retry (Clojure's
 * blockAndBail). */
static int bail(stm_tx *tx, uint64_t word)
{
	tx_stop(tx, TX_RETRY);
	stm_slot_await(word, 0); /* STM_LOCK_WAIT_NS once it parks */
	return RF_ETXRETRY;
}

/* Ensured by others: stop, wait for the ensures to go, bounded, and retry. Ensures end
 * with their transactions, which never wait on ours (ours is stopped). */
static int bail_ensured(stm_tx *tx, rf_ref *r)
{
	tx_stop(tx, TX_RETRY);
	uint64_t deadline = time_now_ns() + STM_LOCK_WAIT_NS;
	for (unsigned spins = 0;
	     atomic_load_explicit(&r->ensurers, memory_order_acquire) && time_now_ns() < deadline;
	     spins++)
		stm_relax(spins);
	return RF_ETXRETRY;
}

/* Before this attempt looks at a value of r: values of a ref with a release function
 * stay valid until rf_dosync returns (stm.h). */
static void guard(stm_tx *tx, rf_ref *r)
{
	if (r->release && !tx->reading) {
		rf_reclaim_read_begin();
		tx->reading = true;
	}
}

/* The attempt's read point, taken at its first need (stm.h). */
static uint64_t snapshot(stm_tx *tx)
{
	if (!tx->read_point)
		tx->read_point = stm_clock_read_point();
	return tx->read_point;
}

/* Read ref as this attempt sees it. */
static int tx_get(stm_tx *tx, rf_ref *r, tx_entry *e, rf_val *out)
{
	if (!tx_ok(tx))
		return tx_retry(tx);
	if (e && (e->flags & (E_SET | E_COMMUTE))) {
		*out = e->val;
		return 0;
	}
	guard(tx, r);
	if (stm_ref_read(r, snapshot(tx), out))
		return 0;
	atomic_fetch_add_explicit(&r->faults, 1, memory_order_relaxed); /* read at install */
	return tx_retry(tx);
}

/* Claim r for this attempt (Clojure's LockingTransaction.lock); *newest = its newest
 * committed value, which this attempt's snapshot also sees (else it retries). */
static inline __attribute__((always_inline)) int claim(stm_tx *tx, tx_entry *e, rf_val *newest)
{
	rf_ref *r = e->ref;
	if (e->flags & E_ENSURED) { /* our own ensure gives way to our write */
		atomic_fetch_sub_explicit(&r->ensurers, 1, memory_order_seq_cst);
		e->flags &= ~(uint32_t)E_ENSURED;
	}
	/* o: the claim last seen. 0 at first, since commits clear theirs: then the CAS is the
	 * first touch of the line, which comes from the core that wrote it last once, to
	 * be written, rather than shared for a load and then owned for the CAS. A failed
	 * CAS loads the claim (acquire, as the load it replaces: a claim seen dead or
	 * cleared comes with its owner's installs). */
	uint64_t o = 0, st = 0;
	for (unsigned spins = 0;;) {
		if (!o || (o != tx->word && !stm_word_live(o, &st))) {
			if (atomic_compare_exchange_strong_explicit(&r->owner, &o, tx->word,
			                                            memory_order_seq_cst,
			                                            memory_order_acquire))
				break;
			continue;
		}
		if (o == tx->word)
			break;
		/* An attempt that holds no claim and no ensure blocks no one: it may wait for a
		 * short holder here rather than stop and start over (stm.h). It polls with
		 * loads: a CAS would take the line from the holder. */
		if (!(tx->seen & (E_SET | E_ENSURED)) && spins++ < STM_CLAIM_SPINS) {
			cpu_relax();
			o = atomic_load_explicit(&r->owner, memory_order_acquire);
			continue;
		}
		if ((st & TX_STATUS_MASK) == TX_RUNNING && tx_barge(tx, o, st))
			continue;
		return bail(tx, o);
	}
	if (atomic_load_explicit(&r->ensurers, memory_order_seq_cst)) {
		uint64_t mine = tx->word;
		atomic_compare_exchange_strong_explicit(&r->owner, &mine, 0, memory_order_release,
		                                        memory_order_relaxed);
		return bail_ensured(tx, r);
	}
	/* Owned: no install can run, and the last one is visible (its owner's COMMITTED
	 * state was seen by stm_word_live), so the newest version reads directly. Without a
	 * snapshot yet, the newest is what this attempt sees (stm.h). */
	if (tx->read_point &&
	    atomic_load_explicit(&r->cur_point, memory_order_relaxed) > tx->read_point)
		return tx_retry(tx); /* committed after our snapshot: doomed */
	guard(tx, r);
	*newest = atomic_load_explicit(&r->cur, memory_order_acquire); /* pairs: install */
	return 0;
}

/* Clojure's doSet: claim the ref (once per attempt) and give its value to write.
 * *cur = the in-transaction value before this write. Inlined: it is most of an alter. */
static inline __attribute__((always_inline)) int tx_write(stm_tx *tx, rf_ref *r, tx_entry **ep,
                                                          rf_val *cur)
{
	tx_entry *e = tx_find(tx, r);
	if (e && (e->flags & E_COMMUTE))
		return RF_ECOMMUTESET;
	if (!tx_ok(tx))
		return tx_retry(tx);
	*ep = e;
	if (e && (e->flags & E_SET)) {
		*cur = e->val;
		return 0;
	}
	if (!e && !(*ep = e = tx_add(tx, r)))
		return -ENOMEM;
	int rc = claim(tx, e, cur);
	if (rc)
		return rc;
	tx->seen |= E_SET;       /* a claim taken in the body: this attempt writes */
	e->base = e->val = *cur; /* the first write: tx_replace starts from here */
	return 0;
}

int rf_ref_deref(rf_ref *ref, rf_val *out)
{
	if (!ref || !out)
		return -EINVAL;
	stm_tx *tx = current();
	if (!tx) {
		*out = atomic_load_explicit(&ref->cur, memory_order_acquire); /* pairs: install */
		return 0;
	}
	return tx_get(tx, ref, tx_find(tx, ref), out);
}

int rf_ref_alter(rf_ref *ref, rf_update_fn fn, rf_val arg, rf_val *out)
{
	if (!ref || !fn)
		return -EINVAL;
	stm_tx *tx = current();
	if (!tx)
		return RF_ENOTX;
	tx_entry *e;
	rf_val old, nv = RF_NIL;
	int rc = tx_write(tx, ref, &e, &old);
	if (rc || (rc = tx_reserve_discard(tx, e)))
		return rc;
	/* fn may touch other refs: the set may move (a byte offset: no division) */
	size_t at = (size_t)((char *)e - (char *)tx->e);
	USER_CALL();
	if ((rc = fn(old, arg, &nv)))
		return rc;
	e = (tx_entry *)(void *)((char *)tx->e + at);
	if ((rc = tx_made(tx, e, old, nv, 0)))
		return rc;
	tx_replace(tx, e, nv);
	e->flags |= E_SET;
	if (out)
		*out = nv;
	return 0;
}

int rf_ref_set(rf_ref *ref, rf_val val)
{
	if (!ref)
		return -EINVAL;
	stm_tx *tx = current();
	if (!tx)
		return RF_ENOTX;
	tx_entry *e;
	rf_val old;
	int rc = tx_write(tx, ref, &e, &old);
	if (rc || (rc = tx_reserve_discard(tx, e)))
		return rc;
	tx_replace(tx, e, val);
	e->flags |= E_SET;
	return 0;
}

int rf_ref_commute(rf_ref *ref, rf_update_fn fn, rf_val arg, rf_val *out)
{
	if (!ref || !fn)
		return -EINVAL;
	stm_tx *tx = current();
	if (!tx)
		return RF_ENOTX;
	if (!tx_ok(tx))
		return tx_retry(tx);
	tx_entry *e = tx_find(tx, ref);
	if (!e && !(e = tx_add(tx, ref)))
		return -ENOMEM;
	int rc = tx_reserve_discard(tx, e);
	if (rc)
		return rc;
	if (!(e->flags & (E_SET | E_COMMUTE))) {
		guard(tx, ref);
		/* acquire pairs with install's release store of cur: the newest value */
		e->base = e->val = atomic_load_explicit(&ref->cur, memory_order_acquire);
	}
	rf_val v = e->val, nv = RF_NIL;
	uint32_t i = (uint32_t)(e - tx->e); /* fn may touch other refs: the set may grow */
	USER_CALL();
	if ((rc = fn(v, arg, &nv)))
		return rc;
	e = &tx->e[i];
	if ((rc = tx_made(tx, e, v, nv, tx_add_commute(tx, i, fn, arg))))
		return rc;
	tx_replace(tx, e, nv);
	e->flags |= E_COMMUTE;
	if (out)
		*out = nv;
	return 0;
}

int rf_ref_ensure(rf_ref *ref, rf_val *out)
{
	rf_val tmp;
	if (!ref)
		return -EINVAL;
	if (!out)
		out = &tmp;
	stm_tx *tx = current();
	if (!tx)
		return RF_ENOTX;
	if (!tx_ok(tx))
		return tx_retry(tx);
	tx_entry *e = tx_find(tx, ref);
	if (e && (e->flags & (E_SET | E_ENSURED)))
		return tx_get(tx, ref, e, out);
	atomic_fetch_add_explicit(&ref->ensurers, 1, memory_order_seq_cst);
	uint64_t o = atomic_load_explicit(&ref->owner, memory_order_seq_cst), st;
	if (o && o != tx->word && stm_word_live(o, &st)) {
		atomic_fetch_sub_explicit(&ref->ensurers, 1, memory_order_release);
		return bail(tx, o);
	}
	if (stm_ref_newest_point(ref) > snapshot(tx) || (!e && !(e = tx_add(tx, ref)))) {
		atomic_fetch_sub_explicit(&ref->ensurers, 1, memory_order_release);
		return e ? tx_retry(tx) : -ENOMEM;
	}
	e->flags |= E_ENSURED;
	tx->seen |= E_ENSURED;
	return tx_get(tx, ref, e, out);
}
