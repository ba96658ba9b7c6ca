/* runtime/deref/delay.c: delay, a cell plus a body run by its first derefer.
 *
 * Contract: the first deref moves the cell's state PENDING -> TAKEN (CAS, deferred.h)
 * and alone runs the body, then realizes the cell. It writes its context to `runner`
 * first, which others read only to compare with their own context (a deref inside its
 * own body): a context can only ever see itself there if it wrote it, so a relaxed load
 * is enough (any other value, stale or NULL, means "not me").
 * A deref that finds the body taken watches the state word for a while before it
 * queues on the cell: it reads only the line the outcome is in, where a queued waiter
 * writes the cell's lock and list, which the runner's completion then takes back.
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
	_Atomic(exec_ctx *) runner; /* NULL until the body is taken */
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
	if (busy || atomic_load_explicit(&delay->d.state, memory_order_acquire) == CELL_TAKEN)
		return -EBUSY;
	deferred_unref(&delay->d);
	return 0;
}

/* Run the body if nobody has taken it: true if this call ran it, with the outcome it
 * realized the cell with in *code and *out. Realizing is the runner's last access: a
 * deref elsewhere that sees the value may free the delay at once. */
static bool run_once(rf_delay *dl, int *code, rf_val *out)
{
	uint32_t pending = CELL_PENDING;
	/* Relaxed: the CAS only decides who runs; fn and arg were published with the delay.
	 * Tried only on a pending cell: a failing CAS would take the line from the runner. */
	if (atomic_load_explicit(&dl->d.state, memory_order_relaxed) != CELL_PENDING ||
	    !atomic_compare_exchange_strong_explicit(&dl->d.state, &pending, CELL_TAKEN,
	                                             memory_order_relaxed, memory_order_relaxed))
		return false;
	atomic_store_explicit(&dl->runner, ctx_self(), memory_order_relaxed);
	rf_val v = RF_NIL;
	int rc = dl->fn(dl->arg, &v);
	*code = rc < 0 ? rc : 0;
	*out = rc < 0 ? RF_NIL : v;
	deferred_complete(&dl->d, *code, *out);
	return true;
}

static bool inside_own_body(rf_delay *dl)
{
	return atomic_load_explicit(&dl->runner, memory_order_relaxed) == ctx_self();
}

/* The body is taken: watch for the outcome for under SPIN_PAUSES pauses, reading only,
 * first after the time of a short body (WATCH_FIRST pauses) and then less often: a read
 * takes the line from the runner, whose completion writes it again. Contexts forcing the
 * same fresh delays in order otherwise fall into lockstep, the one behind polling each
 * delay as the one ahead completes it, three line transfers a delay; the wait lets the
 * one ahead move on, and the one behind finds the next delays realized.
 * True and the outcome if it came. */
#define WATCH_FIRST 16
static bool watch(rf_delay *dl, int *code, rf_val *out)
{
	for (unsigned n = WATCH_FIRST; n < SPIN_PAUSES; n *= 2) {
		for (unsigned i = 0; i < n; i++)
			cpu_relax();
		if (deferred_poll(&dl->d, code, out))
			return true;
	}
	return false;
}

int rf_delay_deref(rf_delay *delay, rf_val *out)
{
	if (!delay || !out)
		return -EINVAL;
	int code;
	if (deferred_poll(&delay->d, &code, out))
		return code;
	if (run_once(delay, &code, out) || watch(delay, &code, out))
		return code;
	if (inside_own_body(delay))
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
	if (timeout_ms > 0) {
		if (run_once(delay, &code, out))
			return code;
		if (inside_own_body(delay))
			return RF_ERECURSIVE;
	}
	return deferred_deref_ms(&delay->d, timeout_ms, out);
}

bool rf_delay_realized(rf_delay *delay)
{
	return delay && rf_deferred_realized(&delay->d);
}
