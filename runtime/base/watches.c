/* runtime/base/watches.c: building, running and dropping watch sets (watches.h). */
#include <stdlib.h>

#include "runtime/base/lockrank.h"
#include "runtime/base/watches.h"

int watch_set_edit(const watch_set *cur, rf_val key, rf_watch_fn fn, rf_val ctx, watch_set **out)
{
	uint32_t n = cur ? cur->n : 0, at = n;
	for (uint32_t i = 0; i < n; i++)
		if (cur->w[i].key == key)
			at = i;
	if (!fn && at == n) /* removing a key that is not there: Clojure does nothing */
		return 1;
	uint32_t m = fn ? (at == n ? n + 1 : n) : n - 1;
	watch_set *w = NULL;
	if (m) {
		if (!(w = malloc(sizeof(*w) + m * sizeof(w->w[0]))))
			return -ENOMEM;
		atomic_init(&w->refs, 1);
		w->n = 0;
		for (uint32_t i = 0; i < n; i++)
			if (i != at)
				w->w[w->n++] = cur->w[i];
		if (fn)
			w->w[w->n++] = (struct watch){key, fn, ctx};
	}
	*out = w;
	return 0;
}

int watch_set_notify(const watch_set *w, void *ref, rf_val old_val, rf_val new_val)
{
	int first = 0;
	for (uint32_t i = 0; w && i < w->n; i++) {
		USER_CALL();
		int rc = w->w[i].fn(w->w[i].key, ref, old_val, new_val, w->w[i].ctx);
		if (rc < 0 && first == 0)
			first = rc;
	}
	return first;
}

void watch_set_put(watch_set *w)
{
	/* acq_rel: the last dropper's free comes after every other holder's reads */
	if (w && atomic_fetch_sub_explicit(&w->refs, 1, memory_order_acq_rel) == 1)
		free(w);
}
