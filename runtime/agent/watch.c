/* runtime/agent/watch.c: add-watch, remove-watch and calling the watches.
 *
 * The watches are a reference-counted watch set (runtime/base/watches.h). add and remove
 * build a new set and swap it in under watch_lock; the consumer takes a reference to the
 * current set under watch_lock and calls the watches after unlocking, so a watch may add
 * or remove watches (its change applies from the next action, as in Clojure, whose
 * notifyWatches iterates the map it read). The agent's own reference is dropped when a set
 * is replaced; the last reference frees it.
 */
#include "runtime/agent/agent_internal.h"
#include "runtime/base/lockrank.h"

/* Replace the set by a copy without `key`, plus (key, fn, ctx) when fn is set. Release
 * on the swap: publishes the new set's contents to the consumer's NULL check (the
 * consumer reads the entries after the lock anyway). */
static int watches_edit(rf_agent *a, rf_val key, rf_watch_fn fn, rf_val ctx)
{
	mutex_lock_ranked(&a->watch_lock, LOCKRANK_AGENT_WATCH);
	watch_set *old = atomic_load_explicit(&a->watches, memory_order_relaxed), *w;
	int rc = watch_set_edit(old, key, fn, ctx, &w);
	if (rc == 0)
		atomic_store_explicit(&a->watches, w, memory_order_release);
	mutex_unlock_ranked(&a->watch_lock, LOCKRANK_AGENT_WATCH);
	if (rc != 0)
		return rc < 0 ? rc
		              : 0; /* 1: no such watch, nothing to do (Clojure's remove-watch) */
	watch_set_put(old);
	return 0;
}

int rf_agent_add_watch(rf_agent *a, rf_val key, rf_watch_fn fn, rf_val ctx)
{
	return a && fn ? watches_edit(a, key, fn, ctx) : -EINVAL;
}

int rf_agent_remove_watch(rf_agent *a, rf_val key)
{
	return a ? watches_edit(a, key, NULL, RF_NIL) : -EINVAL;
}

int agent_watches_notify(rf_agent *a, rf_val old_value, rf_val new_value)
{
	/* Relaxed: a watch added concurrently with this action may or may not see it, as in
	 * Clojure; the lock below orders the set's contents. */
	if (!atomic_load_explicit(&a->watches, memory_order_relaxed))
		return 0;
	mutex_lock_ranked(&a->watch_lock, LOCKRANK_AGENT_WATCH);
	watch_set *w = watch_set_get(atomic_load_explicit(&a->watches, memory_order_relaxed));
	mutex_unlock_ranked(&a->watch_lock, LOCKRANK_AGENT_WATCH);
	int rc = watch_set_notify(w, a, old_value, new_value);
	watch_set_put(w);
	return rc;
}

void agent_watches_destroy(rf_agent *a)
{
	watch_set_put(atomic_load_explicit(&a->watches, memory_order_relaxed));
}
