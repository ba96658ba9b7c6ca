/* runtime/agent/watch.c: add-watch, remove-watch and calling the watches.
 *
 * The watches form an immutable, reference-counted set (agent_watch_set). add and remove
 * build a new set and swap it in under watch_lock; the consumer takes a reference to the
 * current set under watch_lock and calls the watches after unlocking, so a watch may add
 * or remove watches (its change applies from the next action, as in Clojure, whose
 * notifyWatches iterates the map it read). The agent's own reference is dropped when a set
 * is replaced; the last reference frees it.
 */
#include <stdlib.h>

#include "runtime/agent/agent_internal.h"
#include "runtime/base/lockrank.h"

static void set_put(struct agent_watch_set *set)
{
	/* acq_rel: the last dropper's acquire sees every other holder's reads done. */
	if (set && atomic_fetch_sub_explicit(&set->refs, 1, memory_order_acq_rel) == 1)
		free(set);
}

static struct agent_watch_set *set_new(size_t n)
{
	struct agent_watch_set *set = malloc(sizeof(*set) + n * sizeof(set->w[0]));
	if (set) {
		atomic_init(&set->refs, 1);
		set->n = n;
	}
	return set;
}

/* Replace the agent's set; watch_lock held. Release: publishes the new set's contents to
 * the consumer's NULL check (the consumer reads the entries after the lock anyway). */
static void set_swap(rf_agent *a, struct agent_watch_set *set)
{
	struct agent_watch_set *old =
	    atomic_exchange_explicit(&a->watches, set, memory_order_release);
	set_put(old);
}

int rf_agent_add_watch(rf_agent *a, rf_val key, rf_watch_fn fn, rf_val ctx)
{
	if (!a || !fn)
		return -EINVAL;
	mutex_lock_ranked(&a->watch_lock, LOCKRANK_AGENT_WATCH);
	struct agent_watch_set *cur = atomic_load_explicit(&a->watches, memory_order_relaxed);
	size_t n = cur ? cur->n : 0, at = n;
	for (size_t i = 0; i < n; i++)
		if (cur->w[i].key == key)
			at = i;
	struct agent_watch_set *set = set_new(at == n ? n + 1 : n);
	if (!set) {
		mutex_unlock_ranked(&a->watch_lock, LOCKRANK_AGENT_WATCH);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		set->w[i] = cur->w[i];
	set->w[at].key = key;
	set->w[at].fn = fn;
	set->w[at].ctx = ctx;
	set_swap(a, set);
	mutex_unlock_ranked(&a->watch_lock, LOCKRANK_AGENT_WATCH);
	return 0;
}

int rf_agent_remove_watch(rf_agent *a, rf_val key)
{
	if (!a)
		return -EINVAL;
	mutex_lock_ranked(&a->watch_lock, LOCKRANK_AGENT_WATCH);
	struct agent_watch_set *cur = atomic_load_explicit(&a->watches, memory_order_relaxed);
	size_t n = cur ? cur->n : 0, at = n;
	for (size_t i = 0; i < n; i++)
		if (cur->w[i].key == key)
			at = i;
	if (at == n) { /* no such watch: nothing to do (Clojure's remove-watch) */
		mutex_unlock_ranked(&a->watch_lock, LOCKRANK_AGENT_WATCH);
		return 0;
	}
	int rc = 0;
	struct agent_watch_set *set = NULL;
	if (n > 1 && !(set = set_new(n - 1)))
		rc = -ENOMEM;
	if (rc == 0) {
		for (size_t i = 0, j = 0; i < n; i++)
			if (i != at)
				set->w[j++] = cur->w[i];
		set_swap(a, set);
	}
	mutex_unlock_ranked(&a->watch_lock, LOCKRANK_AGENT_WATCH);
	return rc;
}

int agent_watches_notify(rf_agent *a, rf_val old_value, rf_val new_value)
{
	/* Relaxed: a watch added concurrently with this action may or may not see it, as in
	 * Clojure; the lock below orders the set's contents. */
	if (!atomic_load_explicit(&a->watches, memory_order_relaxed))
		return 0;
	mutex_lock_ranked(&a->watch_lock, LOCKRANK_AGENT_WATCH);
	struct agent_watch_set *set = atomic_load_explicit(&a->watches, memory_order_relaxed);
	if (set)
		atomic_fetch_add_explicit(&set->refs, 1, memory_order_relaxed);
	mutex_unlock_ranked(&a->watch_lock, LOCKRANK_AGENT_WATCH);
	if (!set)
		return 0;
	int first = 0;
	for (size_t i = 0; i < set->n; i++) {
		int rc = set->w[i].fn(set->w[i].key, a, old_value, new_value, set->w[i].ctx);
		if (rc < 0 && !first)
			first = rc;
	}
	set_put(set);
	return first;
}

void agent_watches_destroy(rf_agent *a)
{
	set_put(atomic_load_explicit(&a->watches, memory_order_relaxed));
}
