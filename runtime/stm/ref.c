/* runtime/stm/ref.c: the ref object: its version ring, validator and watches.
 *
 * Contract (see stm.h for the words):
 *  - cur, cur_point, the ring (pointer and versions), ring_cap, head and hist change only
 *    in the installs (stm_ref_install_newest, _history), by the ref's
 *    live owner with REF_I set (a bigger ring is filled before its pointer is stored with
 *    release; readers load the pointer with acquire, so a ring they see is whole); readers
 *    read them with relaxed loads between two loads
 *    of `lock` (a sequence lock: writer sets REF_I, release fence, writes, then a release
 *    store that clears REF_I and bumps the version; reader loads `lock` (acquire), reads,
 *    acquire fence, checks the owner word (the clock pairing, stm.h), loads `lock` again
 *    and retries on any change).
 *  - `cur` is also stored (release) after the ring and read (acquire) by rf_ref_deref
 *    outside transactions, which needs no sequence word: one word, always whole.
 *  - `faults` counts readers that found no version old enough; the next install grows
 *    the history by one (up to max_history) and resets it, as Clojure's Ref.faults.
 *  - min_history and max_history are set by anyone at any time (relaxed stores; a commit
 *    uses the values it reads). As in Clojure, lowering them never drops kept versions:
 *    the history only stops growing, and keeps its length as it moves.
 *  - With a release function: the ref owns each distinct value among cur and the ring.
 *    The owner retires a value when an install drops it and no kept version holds it
 *    (kept() compares words); rf_ref_free releases every distinct kept value.
 *  - the validator (fn, ctx) is set and read as a pair under `wlock`; has_validator lets
 *    commits of refs without one skip the lock, and stm_validators_used (set once any
 *    ref has one, never cleared) lets commits skip looking.
 *  - `keeps` (never cleared) is set with a release function or once min_history is raised
 *    above 0: until then a commit knows from the ref's first line that it keeps nothing.
 *  - `watches` is an immutable, refcounted array; add/remove replace it and notify pins
 *    it, all under `wlock` (a spin lock held for a few instructions, never during a
 *    call), so a watch may add or remove watches, even of the ref it runs for.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/base/lockrank.h"
#include "runtime/base/opts.h"
#include "runtime/stm/stm.h"

#define DEFAULT_MAX_HISTORY 10
#define LIMIT_MAX_HISTORY 1000000

int rf_ref_new(rf_val init, rf_ref **out)
{
	return rf_ref_new_opts(init, NULL, out);
}

int rf_ref_new_opts(rf_val init, const rf_ref_opts *opts, rf_ref **out)
{
	rf_ref_opts o;
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (opts_copy(&o, sizeof(o), opts) < 0)
		return -EINVAL;
	if (!o.max_history)
		o.max_history = DEFAULT_MAX_HISTORY;
	if (o.min_history > o.max_history || o.max_history > LIMIT_MAX_HISTORY)
		return -EINVAL;
	if (o.validator) {
		int rc = o.validator(init, o.validator_ctx);
		if (rc <= 0)
			return rc < 0 ? rc : RF_EVALIDATOR;
	}
	size_t size = sizeof(rf_ref) + sizeof(stm_ring) + o.max_history * sizeof(stm_version);
	rf_ref *r = aligned_alloc(64, (size + 63) & ~(size_t)63);
	if (!r)
		return -ENOMEM;
	stm_ring *ring = (stm_ring *)(void *)(r + 1); /* sizeof(rf_ref) is a multiple of 64 */
	ring->cap = o.max_history;
	ring->prev = NULL;
	for (uint32_t i = 0; i < ring->cap; i++) {
		atomic_init(&ring->v[i].val, RF_NIL);
		atomic_init(&ring->v[i].point, 0);
	}
	atomic_init(&r->lock, 0);
	atomic_init(&r->owner, 0);
	atomic_init(&r->cur, init);
	atomic_init(&r->cur_point, 0);
	atomic_init(&r->ensurers, 0);
	atomic_init(&r->faults, 0);
	atomic_init(&r->head, 0);
	atomic_init(&r->hist, 0);
	atomic_init(&r->watches, NULL);
	if (o.validator)
		atomic_store_explicit(&stm_validators_used, true, memory_order_relaxed);
	atomic_init(&r->has_validator, o.validator != NULL);
	atomic_init(&r->keeps, o.release || o.min_history);
	atomic_init(&r->ring, ring);
	r->ring_cap = ring->cap;
	atomic_init(&r->max_history, o.max_history);
	atomic_init(&r->min_history, o.min_history);
	r->release = o.release;
	r->release_ctx = o.release_ctx;
	spin_init(&r->wlock, LOCKRANK_STM_REF);
	r->validator = o.validator;
	r->validator_ctx = o.validator_ctx;
	*out = r;
	return 0;
}

/* The i-th older version in ring g, 0 = the newest of them (i < hist). Under the
 * sequence word or owned. */
static stm_version *older(stm_ring *g, uint32_t head, uint32_t i)
{
	return &g->v[head >= i ? head - i : head + g->cap - i];
}

/* The ring, as its owner (or anyone while no install runs) sees it. */
static stm_ring *ring_of(rf_ref *r)
{
	return atomic_load_explicit(&r->ring, memory_order_relaxed);
}

/* Whether v is the value of a kept version (owner or no concurrent install only). */
static bool kept(rf_ref *r, rf_val v)
{
	if (atomic_load_explicit(&r->cur, memory_order_relaxed) == v)
		return true;
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t hist = atomic_load_explicit(&r->hist, memory_order_relaxed);
	for (uint32_t i = 0; i < hist; i++)
		if (atomic_load_explicit(&older(ring_of(r), head, i)->val, memory_order_relaxed) ==
		    v)
			return true;
	return false;
}

void rf_ref_free(rf_ref *ref)
{
	if (!ref)
		return;
	if (ref->release) {
		/* every distinct kept value once: clear each version as it is released */
		uint32_t head = atomic_load_explicit(&ref->head, memory_order_relaxed);
		for (uint32_t n = atomic_load_explicit(&ref->hist, memory_order_relaxed); n; n--) {
			rf_val v = atomic_load_explicit(&older(ring_of(ref), head, n - 1)->val,
			                                memory_order_relaxed);
			atomic_store_explicit(&ref->hist, n - 1, memory_order_relaxed);
			if (v != RF_NIL && !kept(ref, v))
				reclaim_retire_now_or_wait(v, ref->release, ref->release_ctx);
		}
		rf_val v = atomic_load_explicit(&ref->cur, memory_order_relaxed);
		if (v != RF_NIL)
			reclaim_retire_now_or_wait(v, ref->release, ref->release_ctx);
	}
	watch_set_put(atomic_load_explicit(&ref->watches, memory_order_relaxed));
	for (stm_ring *g = ring_of(ref), *prev; g->prev; g = prev) { /* the first is inline */
		prev = g->prev;
		free(g);
	}
	free(ref);
}

/* One consistent look at the versions: the newest one with point <= rp (found), and
 * the newest point. */
static bool versions_read(rf_ref *r, uint64_t rp, rf_val *val, uint64_t *newest)
{
	for (unsigned spins = 0;; spins++) {
		uint64_t s1 = atomic_load_explicit(&r->lock, memory_order_acquire);
		if (s1 & REF_I) {
			stm_relax(spins);
			continue;
		}
		uint64_t top = atomic_load_explicit(&r->cur_point, memory_order_relaxed);
		bool found = top <= rp;
		rf_val v = found ? atomic_load_explicit(&r->cur, memory_order_relaxed) : RF_NIL;
		uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
		uint32_t hist = atomic_load_explicit(&r->hist, memory_order_relaxed);
		/* acquire: pairs with install's release store of a bigger ring (its cap and
		 * versions are whole) */
		stm_ring *g = atomic_load_explicit(&r->ring, memory_order_acquire);
		if (head >= g->cap || hist > g->cap)
			hist = 0; /* torn: the check below retries */
		for (uint32_t i = 0; !found && i < hist; i++) {
			stm_version *o = older(g, head, i);
			if (atomic_load_explicit(&o->point, memory_order_relaxed) <= rp) {
				v = atomic_load_explicit(&o->val, memory_order_relaxed);
				found = true;
			}
		}
		atomic_thread_fence(memory_order_acquire); /* pairs with install's release fence */
		/* The reader's half of the clock pairing (stm.h): an INSTALLING owner may have a
		 * point <= rp and not have started its install; any other word lets the load
		 * of `lock` below see every install that has one. seq_cst: after our clock
		 * operation in the single order (acquire for that load, too). */
		uint64_t o = atomic_load_explicit(&r->owner, memory_order_seq_cst);
		if (o && stm_word_installing(o)) {
			stm_relax(spins);
			continue;
		}
		if (s1 != atomic_load_explicit(&r->lock, memory_order_relaxed))
			continue;
		*val = v;
		*newest = top;
		return found;
	}
}

bool stm_ref_read(rf_ref *r, uint64_t rp, rf_val *out)
{
	uint64_t newest;
	return versions_read(r, rp, out, &newest);
}

uint64_t stm_ref_newest_point(rf_ref *r)
{
	rf_val v;
	uint64_t newest;
	versions_read(r, 0, &v, &newest);
	return newest;
}

/* Whether the next install of r (owned) grows its history. */
static bool wants_growth(rf_ref *r, uint32_t hist)
{
	uint32_t max = atomic_load_explicit(&r->max_history, memory_order_relaxed);
	uint32_t min = atomic_load_explicit(&r->min_history, memory_order_relaxed);
	return (atomic_load_explicit(&r->faults, memory_order_relaxed) > 0 && hist < max) ||
	       hist < min;
}

stm_ring *stm_ref_ring_grow(rf_ref *r)
{
	uint32_t hist = atomic_load_explicit(&r->hist, memory_order_relaxed);
	if (hist < r->ring_cap || !wants_growth(r, hist) || r->ring_cap >= LIMIT_MAX_HISTORY)
		return NULL;
	uint32_t cap = r->ring_cap ? 2 * r->ring_cap : 1;
	cap = cap < LIMIT_MAX_HISTORY ? cap : LIMIT_MAX_HISTORY;
	stm_ring *g = malloc(sizeof(stm_ring) + cap * sizeof(stm_version));
	if (!g)
		return NULL;
	g->cap = cap;
	g->prev = NULL;
	for (uint32_t i = 0; i < cap; i++) {
		atomic_init(&g->v[i].val, RF_NIL);
		atomic_init(&g->v[i].point, 0);
	}
	return g;
}

/* Move the hist older versions of r into the bigger ring g (owned, REF_I set); returns the
 * new head. */
static uint32_t move_ring(rf_ref *r, stm_ring *g, uint32_t head, uint32_t hist)
{
	stm_ring *old = ring_of(r);
	for (uint32_t i = 0; i < hist; i++) {
		stm_version *o = older(old, head, i);
		atomic_store_explicit(&g->v[hist - 1 - i].val,
		                      atomic_load_explicit(&o->val, memory_order_relaxed),
		                      memory_order_relaxed);
		atomic_store_explicit(&g->v[hist - 1 - i].point,
		                      atomic_load_explicit(&o->point, memory_order_relaxed),
		                      memory_order_relaxed);
	}
	g->prev = old;
	r->ring_cap = g->cap;
	/* release: a reader that sees g sees its versions and cap (versions_read) */
	atomic_store_explicit(&r->ring, g, memory_order_release);
	return hist ? hist - 1 : 0;
}

bool stm_ref_install_history(rf_ref *r, rf_val val, uint64_t cp, reclaim_thread *node,
                             stm_ring *bigger)
{
	rf_val prev = atomic_load_explicit(&r->cur, memory_order_relaxed);
	uint64_t prev_point = atomic_load_explicit(&r->cur_point, memory_order_relaxed);
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t hist = atomic_load_explicit(&r->hist, memory_order_relaxed);
	/* Grow when a reader faulted (up to max) or below min, if there is room (a full ring
	 * grows only with a bigger one, reserved before the commit's point of no return);
	 * else the oldest drops out. */
	bool grow = wants_growth(r, hist);
	if (grow && hist == r->ring_cap) {
		if (bigger) {
			head = move_ring(r, bigger, head, hist);
			bigger = NULL;
		} else {
			grow = false; /* at a later commit */
		}
	}
	free(bigger);
	stm_ring *g = ring_of(r);
	rf_val dropped = prev;
	if (grow) {
		atomic_store_explicit(&r->faults, 0, memory_order_relaxed);
		atomic_store_explicit(&r->hist, ++hist, memory_order_relaxed);
	} else if (hist > 0) {
		dropped =
		    atomic_load_explicit(&older(g, head, hist - 1)->val, memory_order_relaxed);
	}
	if (hist > 0) { /* the previous newest becomes the newest older version */
		head = head + 1 == g->cap ? 0 : head + 1;
		atomic_store_explicit(&g->v[head].val, prev, memory_order_relaxed);
		atomic_store_explicit(&g->v[head].point, prev_point, memory_order_relaxed);
		atomic_store_explicit(&r->head, head, memory_order_relaxed);
	}
	atomic_store_explicit(&r->cur_point, cp, memory_order_relaxed);
	atomic_store_explicit(&r->cur, val, memory_order_release); /* pairs with deref */
	if (!r->release || grow || dropped == RF_NIL || kept(r, dropped))
		return false;
	reclaim_retire(node, dropped, r->release, r->release_ctx);
	return true;
}

int rf_ref_history_count(rf_ref *ref)
{
	if (!ref)
		return -EINVAL;
	for (;;) {
		uint64_t s1 = atomic_load_explicit(&ref->lock, memory_order_acquire);
		uint32_t n = atomic_load_explicit(&ref->hist, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (!(s1 & REF_I) && s1 == atomic_load_explicit(&ref->lock, memory_order_relaxed))
			return (int)n;
	}
}

static int set_limit(rf_ref *ref, _Atomic uint32_t *limit, unsigned n)
{
	if (!ref || n > LIMIT_MAX_HISTORY)
		return -EINVAL;
	atomic_store_explicit(limit, n, memory_order_relaxed);
	return 0;
}

int rf_ref_set_min_history(rf_ref *ref, unsigned n)
{
	int rc = set_limit(ref, ref ? &ref->min_history : NULL, n);
	if (!rc && n) /* relaxed, as min_history: a commit uses what it reads */
		atomic_store_explicit(&ref->keeps, true, memory_order_relaxed);
	return rc;
}

int rf_ref_set_max_history(rf_ref *ref, unsigned n)
{
	return set_limit(ref, ref ? &ref->max_history : NULL, n);
}

int rf_ref_min_history(rf_ref *ref)
{
	return ref ? (int)atomic_load_explicit(&ref->min_history, memory_order_relaxed) : -EINVAL;
}

int rf_ref_max_history(rf_ref *ref)
{
	return ref ? (int)atomic_load_explicit(&ref->max_history, memory_order_relaxed) : -EINVAL;
}

/* ---- watches ---- */

_Atomic bool stm_validators_used;

int rf_ref_set_validator(rf_ref *ref, rf_validator_fn fn, rf_val ctx)
{
	if (!ref)
		return -EINVAL;
	if (fn) {
		int rc = fn(atomic_load_explicit(&ref->cur, memory_order_acquire), ctx);
		if (rc <= 0)
			return rc < 0 ? rc : RF_EVALIDATOR;
	}
	if (fn)
		atomic_store_explicit(&stm_validators_used, true, memory_order_relaxed);
	spin_lock(&ref->wlock);
	ref->validator = fn;
	ref->validator_ctx = ctx;
	atomic_store_explicit(&ref->has_validator, fn != NULL, memory_order_relaxed);
	spin_unlock(&ref->wlock);
	return 0;
}

int rf_ref_get_validator(rf_ref *ref, rf_validator_fn *fn, rf_val *ctx)
{
	if (!ref)
		return -EINVAL;
	spin_lock(&ref->wlock);
	if (fn)
		*fn = ref->validator;
	if (ctx)
		*ctx = ref->validator_ctx;
	spin_unlock(&ref->wlock);
	return 0;
}

int stm_ref_validate(rf_ref *r, rf_val val)
{
	/* relaxed: a validator set concurrently with a commit may or may not apply to it,
	 * as in Clojure; one that applies is read whole under wlock */
	if (!atomic_load_explicit(&r->has_validator, memory_order_relaxed))
		return 0;
	spin_lock(&r->wlock);
	rf_validator_fn fn = r->validator;
	rf_val ctx = r->validator_ctx;
	spin_unlock(&r->wlock);
	USER_CALL();
	int rc = fn ? fn(val, ctx) : 1;
	return rc > 0 ? 0 : rc < 0 ? rc : RF_EVALIDATOR;
}

/* Replace the set by a copy without `key`, plus (key, fn) when fn is not NULL. The copy
 * is built with wlock dropped (nothing allocates under a spin lock) from the set seen
 * then, pinned by a reference; if another edit replaced it meanwhile, again. */
static int watches_edit(rf_ref *ref, rf_val key, rf_watch_fn fn, rf_val ctx)
{
	if (!ref)
		return -EINVAL;
	for (;;) {
		spin_lock(&ref->wlock);
		watch_set *seen =
		    watch_set_get(atomic_load_explicit(&ref->watches, memory_order_relaxed));
		spin_unlock(&ref->wlock);
		watch_set *w;
		int rc = watch_set_edit(seen, key, fn, ctx, &w);
		if (rc != 0) {
			watch_set_put(seen);
			return rc < 0 ? rc : 0; /* 1: removing a key that is not there */
		}
		spin_lock(&ref->wlock);
		bool same = atomic_load_explicit(&ref->watches, memory_order_relaxed) == seen;
		if (same) /* release pairs with notify's acquire: publishes *w */
			atomic_store_explicit(&ref->watches, w, memory_order_release);
		spin_unlock(&ref->wlock);
		if (same)
			watch_set_put(seen); /* the ref's own reference */
		else
			watch_set_put(w);
		watch_set_put(seen); /* the one taken above */
		if (same)
			return 0;
	}
}

int rf_ref_add_watch(rf_ref *ref, rf_val key, rf_watch_fn fn, rf_val ctx)
{
	return fn ? watches_edit(ref, key, fn, ctx) : -EINVAL;
}

int rf_ref_remove_watch(rf_ref *ref, rf_val key)
{
	return watches_edit(ref, key, NULL, RF_NIL);
}

int stm_ref_notify(rf_ref *r, rf_val old, rf_val new_val)
{
	if (!atomic_load_explicit(&r->watches, memory_order_relaxed))
		return 0;
	spin_lock(&r->wlock);
	watch_set *w = watch_set_get(atomic_load_explicit(&r->watches, memory_order_acquire));
	spin_unlock(&r->wlock);
	int rc = watch_set_notify(w, r, old, new_val);
	watch_set_put(w);
	return rc;
}
