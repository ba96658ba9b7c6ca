/* runtime/deref/schedule.c: rf_schedule_after / rf_schedule_every (ringfold/schedule.h).
 *
 * A schedule is a fiber that parks on a waiter with the next run's deadline (the
 * worker's timer heap), runs fn, and loops. Its end realizes `done` (a deferred cell)
 * with the outcome, which rf_schedule_join waits on.
 *
 * Shared state: `lock` guards `sleeping` (the fiber's waiter while it is parked, else
 * NULL), `cancelled` and `last` (set by the fiber when no run follows the current one). Cancel sets
 * `cancelled` and claims the parked waiter, if any, under the lock, and completes it after: the
 * fiber wakes with 0 (cancelled) instead of -ETIMEDOUT (time to run). The fiber reads `cancelled`
 * under the lock before each run, so no run starts after a cancel returned. `runs` is written by
 * the fiber only (relaxed; a count for observers). References: `done.refs` counts the handle and
 * the fiber; the last one frees the schedule.
 */
#include <stdlib.h>

#include "ringfold/schedule.h"
#include "runtime/base/spin.h"
#include "runtime/deref/deferred.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/wait.h"
#include "runtime/var/convey.h"

struct rf_schedule {
	struct rf_deferred done;
	rf_body_fn fn;
	rf_val arg;
	uint64_t first;  /* absolute ns of the first run */
	uint64_t period; /* ns; 0: one run */
	rf_schedule_kind kind;
	spinlock lock;
	waiter *sleeping; /* lock */
	bool cancelled;   /* lock */
	bool last;        /* lock: the fiber makes no run after the current one */
	_Atomic uint64_t runs;
};

static void free_schedule(struct rf_deferred *d)
{
	free(d);
}

/* Fiber: sleep until `deadline` unless cancelled. 0: time to run; -ECANCELED; or the
 * shutdown's RF_ESHUTDOWN. */
static int sleep_until(struct rf_schedule *s, uint64_t deadline)
{
	waiter w;
	waiter_init(&w);
	spin_lock(&s->lock);
	if (s->cancelled) {
		spin_unlock(&s->lock);
		return -ECANCELED;
	}
	s->sleeping = &w;
	spin_unlock(&s->lock);
	int rc = waiter_wait(&w, deadline);
	spin_lock(&s->lock);
	if (s->sleeping == &w)
		s->sleeping = NULL;
	/* A cancel that came after the deadline still stops this run. */
	bool cancelled = s->cancelled;
	spin_unlock(&s->lock);
	if (rc == 0 || cancelled)
		return -ECANCELED;
	return rc == -ETIMEDOUT ? 0 : rc;
}

static void schedule_fiber(void *arg)
{
	struct rf_schedule *s = arg;
	uint64_t next = s->first;
	int outcome = 0;
	for (;;) {
		if ((outcome = sleep_until(s, next)) < 0)
			break;
		if (!s->period) {
			spin_lock(&s->lock);
			s->last = true;
			spin_unlock(&s->lock);
		}
		atomic_store_explicit(&s->runs,
		                      atomic_load_explicit(&s->runs, memory_order_relaxed) + 1,
		                      memory_order_relaxed);
		rf_val out = RF_NIL;
		int rc = s->fn(s->arg, &out);
		if (rc < 0) {
			spin_lock(&s->lock);
			s->last = true;
			spin_unlock(&s->lock);
			outcome = rc;
			break;
		}
		if (!s->period)
			break;
		next = s->kind == RF_SCHEDULE_FIXED_RATE ? next + s->period
		                                         : time_now_ns() + s->period;
	}
	deferred_complete(&s->done, outcome, RF_NIL);
	deferred_unref(&s->done);
}

static int start(int64_t initial_ms, uint64_t period_ns, rf_schedule_kind kind, rf_body_fn fn,
                 rf_val arg, rf_schedule **out)
{
	int rc = sched_ensure();
	if (rc < 0)
		return rc;
	struct rf_schedule *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	deferred_init_cell(&s->done, free_schedule);
	atomic_store_explicit(&s->done.refs, 2, memory_order_relaxed); /* handle + fiber */
	s->fn = fn;
	s->arg = arg;
	s->first = time_deadline_after_ms(initial_ms);
	s->period = period_ns;
	s->kind = kind;
	spin_init(&s->lock, LOCKRANK_SCHEDULE);
	void *frame;
	if ((rc = var_bindings_capture(&frame)) < 0) {
		free(s);
		return rc;
	}
	/* The handle is out before the first run, which may want it (to cancel itself);
	 * the spawn's hand-off to the worker publishes it. */
	*out = s;
	/* The fiber owns the frame's reference; its end releases it (ctx_end). */
	if ((rc = fiber_spawn(schedule_fiber, s, SCHED_WORKER_ANY, frame)) < 0) {
		var_bindings_release(frame);
		free(s);
		*out = NULL;
		return rc;
	}
	return 0;
}

int rf_schedule_after(int64_t delay_ms, rf_body_fn fn, rf_val arg, rf_schedule **out)
{
	if (!fn || !out || delay_ms < 0)
		return -EINVAL;
	return start(delay_ms, 0, RF_SCHEDULE_FIXED_RATE, fn, arg, out);
}

int rf_schedule_every(int64_t initial_ms, int64_t period_ms, rf_schedule_kind kind, rf_body_fn fn,
                      rf_val arg, rf_schedule **out)
{
	if (!fn || !out || initial_ms < 0 || period_ms <= 0 || period_ms > INT64_MAX / 1000000 ||
	    (kind != RF_SCHEDULE_FIXED_RATE && kind != RF_SCHEDULE_FIXED_DELAY))
		return -EINVAL;
	return start(initial_ms, (uint64_t)period_ms * 1000000u, kind, fn, arg, out);
}

int rf_schedule_cancel(rf_schedule *s)
{
	if (!s)
		return -EINVAL;
	int code;
	rf_val v;
	spin_lock(&s->lock);
	/* Decided before the wake-up below lets the fiber end (a shutdown may have ended
	 * it already). */
	bool live = !s->cancelled && !s->last && !deferred_poll(&s->done, &code, &v);
	s->cancelled = true;
	waiter *w = s->sleeping;
	s->sleeping = NULL;
	bool claimed = w && waiter_claim(w);
	spin_unlock(&s->lock);
	if (claimed)
		waiter_complete(w);
	return live;
}

int rf_schedule_join(rf_schedule *s, int64_t timeout_ms)
{
	if (!s || timeout_ms < 0)
		return -EINVAL;
	int code;
	rf_val v;
	int rc = deferred_wait(&s->done, time_deadline_after_ms(timeout_ms), &code, &v);
	return rc < 0 ? rc : code;
}

int rf_schedule_runs(rf_schedule *s, uint64_t *out)
{
	if (!s || !out)
		return -EINVAL;
	*out = atomic_load_explicit(&s->runs, memory_order_relaxed);
	return 0;
}

void rf_schedule_free(rf_schedule *s)
{
	if (s)
		deferred_unref(&s->done);
}
