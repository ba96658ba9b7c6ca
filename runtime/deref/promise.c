/* runtime/deref/promise.c: promise and the plain deferred, both a bare cell
 * (deferred.h holds the contract: every shared field is the cell's).
 */
#include <stdalign.h>
#include <stdlib.h>

#include "ringfold/promise.h"
#include "runtime/deref/deferred.h"

struct rf_promise {
	struct rf_deferred d;
};

_Static_assert(sizeof(struct rf_promise) <= sizeof(rf_promise_mem), "rf_promise_mem too small");
_Static_assert(alignof(struct rf_promise) <= alignof(rf_promise_mem), "rf_promise_mem alignment");

static void free_cell(struct rf_deferred *d)
{
	free(d);
}

/* The deferred API: a deferred is exactly a cell. */

int rf_deferred_new(rf_deferred **out)
{
	if (!out)
		return -EINVAL;
	struct rf_deferred *d = malloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	deferred_init_cell(d, free_cell);
	*out = d;
	return 0;
}

rf_deferred *rf_deferred_retain(rf_deferred *d)
{
	if (d)
		deferred_ref(d);
	return d;
}

void rf_deferred_release(rf_deferred *d)
{
	if (d)
		deferred_unref(d);
}

int rf_deferred_success(rf_deferred *d, rf_val value)
{
	if (!d)
		return -EINVAL;
	return deferred_complete(d, 0, value) ? 0 : RF_EDELIVERED;
}

int rf_deferred_error(rf_deferred *d, int code)
{
	if (!d || code >= 0)
		return -EINVAL;
	return deferred_complete(d, code, RF_NIL) ? 0 : RF_EDELIVERED;
}

int rf_deferred_deref(rf_deferred *d, rf_val *out)
{
	if (!d || !out)
		return -EINVAL;
	int code, rc = deferred_wait(d, DEADLINE_NONE, &code, out);
	return rc < 0 ? rc : code;
}

int rf_deferred_deref_timeout(rf_deferred *d, int64_t timeout_ms, rf_val *out)
{
	return deferred_deref_ms(d, timeout_ms, out);
}

bool rf_deferred_realized(rf_deferred *d)
{
	/* Pairs with the release store of DONE in deferred_complete. */
	return d && atomic_load_explicit(&d->state, memory_order_acquire) == CELL_DONE;
}

/* The promise API over the same cell. */

int rf_promise_new(rf_promise **out)
{
	if (!out)
		return -EINVAL;
	rf_promise *p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	deferred_init_cell(&p->d, free_cell);
	*out = p;
	return 0;
}

void rf_promise_free(rf_promise *p)
{
	if (p)
		deferred_unref(&p->d);
}

int rf_promise_init(rf_promise_mem *mem, rf_promise **out)
{
	if (!mem || !out)
		return -EINVAL;
	rf_promise *p = (rf_promise *)mem;
	deferred_init_cell(&p->d, NULL);
	*out = p;
	return 0;
}

int rf_promise_destroy(rf_promise *p)
{
	if (!p)
		return -EINVAL;
	spin_lock(&p->d.lock);
	bool busy = p->d.waiters.head != NULL;
	spin_unlock(&p->d.lock);
	if (busy)
		return -EBUSY;
	deferred_unref(&p->d);
	return 0;
}

int rf_promise_deliver(rf_promise *p, rf_val value)
{
	return p ? rf_deferred_success(&p->d, value) : -EINVAL;
}

int rf_promise_deref(rf_promise *promise, rf_val *out)
{
	return rf_deferred_deref(promise ? &promise->d : NULL, out);
}

int rf_promise_deref_timeout(rf_promise *promise, int64_t timeout_ms, rf_val *out)
{
	return deferred_deref_ms(promise ? &promise->d : NULL, timeout_ms, out);
}

bool rf_promise_realized(rf_promise *p)
{
	return p && rf_deferred_realized(&p->d);
}

rf_deferred *rf_promise_deferred(rf_promise *p)
{
	return p ? &p->d : NULL;
}
