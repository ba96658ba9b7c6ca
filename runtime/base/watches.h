/* runtime/base/watches.h: the watch set of atoms, refs, agents and vars (internal).
 *
 * A set is an immutable array of (key, fn, ctx), replaced whole by every add or remove
 * (copy on write), so whoever runs it needs no lock while the watches run and a watch may
 * edit the set it is called from (the edit applies from the next change, as Clojure's
 * notifyWatches iterates the map it read). An empty set is a NULL pointer.
 *
 * Lifetime is the family's: refs, agents and vars count references (`refs`, starting at
 * 1 for the reference's own pointer; watch_set_get before running one outside the lock
 * that guards the pointer, watch_set_put after); atoms retire a replaced set through the
 * reclamation read section and leave `refs` alone.
 */
#ifndef RF_BASE_WATCHES_H
#define RF_BASE_WATCHES_H

#include <stdatomic.h>
#include <stdint.h>

#include "ringfold/base.h"

typedef struct watch_set {
	_Atomic uint32_t refs;
	uint32_t n; /* >= 1 */
	struct watch {
		rf_val key;
		rf_watch_fn fn;
		rf_val ctx;
	} w[];
} watch_set;

/* cur (may be NULL) with key's watch replaced by (key, fn, ctx), or removed when fn is
 * NULL. Returns 0 and *out (NULL when the result is empty; refs = 1), 1 when nothing
 * changes (removing a key that is not there), or -ENOMEM. Allocates: never call it
 * under a spin lock. */
int watch_set_edit(const watch_set *cur, rf_val key, rf_watch_fn fn, rf_val ctx, watch_set **out);

/* Run every watch of w (may be NULL) for ref's change from old_val to new_val. Returns
 * the first negative code a watch returned, or 0; every watch runs. */
int watch_set_notify(const watch_set *w, void *ref, rf_val old_val, rf_val new_val);

/* Another reference to w (may be NULL); relaxed: the caller holds one already, or the
 * lock that guards the pointer it read w from. */
static inline watch_set *watch_set_get(watch_set *w)
{
	if (w)
		atomic_fetch_add_explicit(&w->refs, 1, memory_order_relaxed);
	return w;
}

/* Drop a reference to w (may be NULL); the last one frees it. */
void watch_set_put(watch_set *w);

#endif
