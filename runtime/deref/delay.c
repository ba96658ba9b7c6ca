/* runtime/deref/delay.c: delay, a cell plus a body run by its first derefer.
 *
 * Contract: `started` goes 0 -> 1 once (CAS); the winner alone writes `runner` and runs
 * the body, then realizes the cell. `runner` is read by losers only to compare with
 * their own context: a context can only ever see itself there if it wrote it, so a
 * relaxed load is enough (any other value, stale or not, means "not me").
 * Everything else is the cell's (deferred.h).
 */
#include <stdalign.h>
#include <stdlib.h>

#include "ringfold/delay.h"
#include "runtime/base/ctx.h"
#include "runtime/deref/deferred.h"

struct rf_delay {
	struct rf_deferred d;
	rf_body_fn fn;
	rf_val arg;
	_Atomic uint32_t started;
	_Atomic(exec_ctx *) runner;
};

_Static_assert(sizeof(struct rf_delay) <= sizeof(rf_delay_mem), "rf_delay_mem too small");
_Static_assert(alignof(struct rf_delay) <= alignof(rf_delay_mem), "rf_delay_mem alignment");

static void free_delay(struct rf_deferred *d)
{
	free(d);
}

static void setup(rf_delay *dl, rf_body_fn fn, rf_val arg, void (*release)(struct rf_deferred *))
{
	deferred_init_cell(&dl->d, release);
	dl->fn = fn;
	dl->arg = arg;
	atomic_init(&dl->started, 0);
	atomic_init(&dl->runner, NULL);
}

int rf_delay_new(rf_body_fn fn, rf_val arg, rf_delay **out)
{
	if (!fn || !out)
		return -EINVAL;
	rf_delay *dl = malloc(sizeof(*dl));
	if (!dl)
		return -ENOMEM;
	setup(dl, fn, arg, free_delay);
	*out = dl;
	return 0;
}

void rf_delay_free(rf_delay *delay)
{
	if (delay)
		deferred_unref(&delay->d);
}

int rf_delay_init(rf_delay_mem *mem, rf_body_fn fn, rf_val arg, rf_delay **out)
{
	if (!mem || !fn || !out)
		return -EINVAL;
	rf_delay *dl = (rf_delay *)mem;
	setup(dl, fn, arg, NULL);
	*out = dl;
	return 0;
}

int rf_delay_destroy(rf_delay *delay)
{
	if (!delay)
		return -EINVAL;
	spin_lock(&delay->d.lock);
	bool busy = delay->d.waiters.head != NULL;
	spin_unlock(&delay->d.lock);
	/* A run in progress would realize the cell after we return. */
	if (busy || (atomic_load_explicit(&delay->started, memory_order_acquire) &&
	             !rf_delay_realized(delay)))
		return -EBUSY;
	deferred_unref(&delay->d);
	return 0;
}

/* Run the body if nobody has: true if this call ran it (the cell is realized). */
static bool run_once(rf_delay *dl)
{
	uint32_t expect = 0;
	/* acq_rel: the winner is alone; losers need nothing from the winner here. */
	if (!atomic_compare_exchange_strong_explicit(&dl->started, &expect, 1, memory_order_acq_rel,
	                                             memory_order_relaxed))
		return false;
	atomic_store_explicit(&dl->runner, ctx_self(), memory_order_relaxed);
	rf_val v = RF_NIL;
	int rc = dl->fn(dl->arg, &v);
	atomic_store_explicit(&dl->runner, NULL, memory_order_relaxed);
	deferred_complete(&dl->d, rc < 0 ? rc : 0, rc < 0 ? RF_NIL : v);
	return true;
}

static bool inside_own_body(rf_delay *dl)
{
	return atomic_load_explicit(&dl->runner, memory_order_relaxed) == ctx_self();
}

int rf_delay_deref(rf_delay *delay, rf_val *out)
{
	if (!delay || !out)
		return -EINVAL;
	int code;
	if (deferred_poll(&delay->d, &code, out))
		return code;
	if (!run_once(delay) && inside_own_body(delay))
		return RF_ERECURSIVE;
	int rc = deferred_wait(&delay->d, DEADLINE_NONE, &code, out);
	return rc < 0 ? rc : code;
}

int rf_delay_deref_timeout(rf_delay *delay, int64_t timeout_ms, rf_val *out)
{
	if (!delay || !out || timeout_ms < 0)
		return -EINVAL;
	int code;
	if (deferred_poll(&delay->d, &code, out))
		return code;
	if (timeout_ms > 0 && !run_once(delay) && inside_own_body(delay))
		return RF_ERECURSIVE;
	return deferred_deref_ms(&delay->d, timeout_ms, out);
}

bool rf_delay_realized(rf_delay *delay)
{
	return delay && rf_deferred_realized(&delay->d);
}
