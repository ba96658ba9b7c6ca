/* runtime/stm/ref.c: the ref object: its version ring, validator and watches.
 *
 * Contract (see stm.h for the words):
 *  - ring[], head and count change only in stm_ref_install, by the ref's live owner
 *    with REF_I set; readers read them with relaxed loads between two loads of `lock` (a
 *    sequence lock: writer sets REF_I, release fence, writes, then a release store that
 *    clears REF_I and bumps the version; reader loads `lock` acquire, reads, acquire
 *    fence, loads `lock` again and retries on any change).
 *  - `cur` is the newest value, stored (release) after the ring; read (acquire) by
 *    rf_ref_deref outside transactions.
 *  - `faults` counts readers that found no version old enough; the next install grows
 *    the ring by one (up to max_history) and resets it, as Clojure's Ref.faults.
 *  - the validator (fn, ctx) is set and read as a pair under `wlock`; has_validator lets
 *    commits of refs without one skip the lock.
 *  - `watches` is an immutable, refcounted array; add/remove replace it and notify pins
 *    it, all under `wlock` (a spin lock held for a few instructions, never during a
 *    call), so a watch may add or remove watches, even of the ref it runs for.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/stm/stm.h"

#define DEFAULT_MAX_HISTORY 10
#define LIMIT_MAX_HISTORY 1000000

struct stm_watches {
	_Atomic uint32_t refs;
	uint32_t n;
	struct {
		rf_val key;
		rf_ref_watch_fn fn;
		rf_val ctx;
	} w[];
};

int rf_ref_new(rf_val init, rf_ref **out)
{
	return rf_ref_new_opts(init, NULL, out);
}

int rf_ref_new_opts(rf_val init, const rf_ref_opts *opts, rf_ref **out)
{
	rf_ref_opts o = opts ? *opts : (rf_ref_opts){0};
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!o.max_history)
		o.max_history = DEFAULT_MAX_HISTORY;
	if (o.min_history > o.max_history || o.max_history > LIMIT_MAX_HISTORY)
		return -EINVAL;
	if (o.validator) {
		int rc = o.validator(init, o.validator_ctx);
		if (rc <= 0)
			return rc < 0 ? rc : RF_EVALIDATOR;
	}
	rf_ref *r = aligned_alloc(64, (sizeof(*r) + o.max_history * sizeof(stm_version) + 63) &
	                                  ~(size_t)63);
	if (!r)
		return -ENOMEM;
	atomic_init(&r->lock, 0);
	atomic_init(&r->owner, 0);
	atomic_init(&r->ensurers, 0);
	atomic_init(&r->faults, 0);
	atomic_init(&r->head, 0);
	atomic_init(&r->count, 1);
	atomic_init(&r->cur, init);
	r->cap = o.max_history;
	r->min_history = o.min_history;
	atomic_init(&r->has_validator, o.validator != NULL);
	r->validator = o.validator;
	r->validator_ctx = o.validator_ctx;
	atomic_init(&r->watches, NULL);
	rf_spin_init(&r->wlock);
	for (uint32_t i = 0; i < r->cap; i++) {
		atomic_init(&r->ring[i].val, RF_NIL);
		atomic_init(&r->ring[i].point, 0);
	}
	atomic_init(&r->ring[0].val, init);
	*out = r;
	return 0;
}

void rf_ref_free(rf_ref *ref)
{
	if (!ref)
		return;
	free(atomic_load_explicit(&ref->watches, memory_order_relaxed));
	free(ref);
}

/* One consistent look at the ring: the newest version with point <= rp (found), and
 * the newest point. */
static bool ring_read(rf_ref *r, uint64_t rp, rf_val *val, uint64_t *newest)
{
	for (unsigned spins = 0;; spins++) {
		uint64_t s1 = atomic_load_explicit(&r->lock, memory_order_acquire);
		if (s1 & REF_I) {
			stm_relax(spins);
			continue;
		}
		uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
		uint32_t count = atomic_load_explicit(&r->count, memory_order_relaxed);
		bool found = false;
		rf_val v = RF_NIL;
		uint64_t top = 0;
		if (head < r->cap && count <= r->cap) { /* else torn: the check below retries */
			top = atomic_load_explicit(&r->ring[head].point, memory_order_relaxed);
			for (uint32_t i = 0, k = head; i < count; i++, k = k ? k - 1 : r->cap - 1) {
				if (atomic_load_explicit(&r->ring[k].point, memory_order_relaxed) <=
				    rp) {
					v = atomic_load_explicit(&r->ring[k].val,
					                         memory_order_relaxed);
					found = true;
					break;
				}
			}
		}
		atomic_thread_fence(memory_order_acquire); /* pairs with install's release fence */
		uint64_t s2 = atomic_load_explicit(&r->lock, memory_order_relaxed);
		if (s1 != s2)
			continue;
		*val = v;
		*newest = top;
		return found;
	}
}

bool stm_ref_read(rf_ref *r, uint64_t rp, rf_val *out)
{
	uint64_t newest;
	return ring_read(r, rp, out, &newest);
}

uint64_t stm_ref_newest_point(rf_ref *r)
{
	rf_val v;
	uint64_t newest;
	ring_read(r, 0, &v, &newest);
	return newest;
}

void stm_ref_install(rf_ref *r, rf_val val, uint64_t cp)
{
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t count = atomic_load_explicit(&r->count, memory_order_relaxed);
	uint32_t faults = atomic_load_explicit(&r->faults, memory_order_relaxed);
	uint32_t next = head + 1 == r->cap ? 0 : head + 1;
	/* Grow when a reader faulted (up to max) or below min; else the oldest drops out. */
	if ((faults > 0 && count < r->cap) || count < r->min_history) {
		atomic_store_explicit(&r->count, count + 1, memory_order_relaxed);
		atomic_store_explicit(&r->faults, 0, memory_order_relaxed);
	}
	atomic_store_explicit(&r->ring[next].val, val, memory_order_relaxed);
	atomic_store_explicit(&r->ring[next].point, cp, memory_order_relaxed);
	atomic_store_explicit(&r->head, next, memory_order_relaxed);
	atomic_store_explicit(&r->cur, val, memory_order_release); /* pairs with deref */
}

int rf_ref_history_count(rf_ref *ref)
{
	if (!ref)
		return -EINVAL;
	for (;;) {
		uint64_t s1 = atomic_load_explicit(&ref->lock, memory_order_acquire);
		uint32_t n = atomic_load_explicit(&ref->count, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (!(s1 & REF_I) && s1 == atomic_load_explicit(&ref->lock, memory_order_relaxed))
			return (int)n;
	}
}

/* ---- watches ---- */

int rf_ref_set_validator(rf_ref *ref, rf_ref_validator fn, rf_val ctx)
{
	if (!ref)
		return -EINVAL;
	if (fn) {
		int rc = fn(atomic_load_explicit(&ref->cur, memory_order_acquire), ctx);
		if (rc <= 0)
			return rc < 0 ? rc : RF_EVALIDATOR;
	}
	rf_spin_lock(&ref->wlock);
	ref->validator = fn;
	ref->validator_ctx = ctx;
	atomic_store_explicit(&ref->has_validator, fn != NULL, memory_order_relaxed);
	rf_spin_unlock(&ref->wlock);
	return 0;
}

int stm_ref_validate(rf_ref *r, rf_val val)
{
	/* relaxed: a validator set concurrently with a commit may or may not apply to it,
	 * as in Clojure; one that applies is read whole under wlock */
	if (!atomic_load_explicit(&r->has_validator, memory_order_relaxed))
		return 0;
	rf_spin_lock(&r->wlock);
	rf_ref_validator fn = r->validator;
	rf_val ctx = r->validator_ctx;
	rf_spin_unlock(&r->wlock);
	int rc = fn ? fn(val, ctx) : 1;
	return rc > 0 ? 0 : rc < 0 ? rc : RF_EVALIDATOR;
}

static void watches_put(stm_watches *w)
{
	if (w && atomic_fetch_sub_explicit(&w->refs, 1, memory_order_acq_rel) == 1)
		free(w);
}

/* Replace the array by a copy without `key`, plus (key, fn) when fn is not NULL. */
static int watches_edit(rf_ref *ref, rf_val key, rf_ref_watch_fn fn, rf_val ctx)
{
	if (!ref)
		return -EINVAL;
	rf_spin_lock(&ref->wlock);
	stm_watches *old = atomic_load_explicit(&ref->watches, memory_order_relaxed);
	uint32_t n = old ? old->n : 0;
	stm_watches *w = malloc(sizeof(*w) + (n + 1) * sizeof(w->w[0]));
	if (!w) {
		rf_spin_unlock(&ref->wlock);
		return -ENOMEM;
	}
	atomic_init(&w->refs, 1);
	w->n = 0;
	for (uint32_t i = 0; i < n; i++)
		if (old->w[i].key != key)
			w->w[w->n++] = old->w[i];
	if (fn) {
		w->w[w->n].key = key;
		w->w[w->n].ctx = ctx;
		w->w[w->n++].fn = fn;
	}
	if (!w->n) {
		free(w);
		w = NULL;
	}
	atomic_store_explicit(&ref->watches, w, memory_order_release); /* pairs: notify */
	rf_spin_unlock(&ref->wlock);
	watches_put(old);
	return 0;
}

int rf_ref_add_watch(rf_ref *ref, rf_val key, rf_ref_watch_fn fn, rf_val ctx)
{
	return fn ? watches_edit(ref, key, fn, ctx) : -EINVAL;
}

int rf_ref_remove_watch(rf_ref *ref, rf_val key)
{
	return watches_edit(ref, key, NULL, RF_NIL);
}

void stm_ref_notify(rf_ref *r, rf_val old, rf_val new_val)
{
	if (!atomic_load_explicit(&r->watches, memory_order_relaxed))
		return;
	rf_spin_lock(&r->wlock);
	stm_watches *w = atomic_load_explicit(&r->watches, memory_order_acquire);
	if (w)
		atomic_fetch_add_explicit(&w->refs, 1, memory_order_relaxed);
	rf_spin_unlock(&r->wlock);
	if (!w)
		return;
	for (uint32_t i = 0; i < w->n; i++)
		w->w[i].fn(w->w[i].key, r, old, new_val, w->w[i].ctx);
	watches_put(w);
}
