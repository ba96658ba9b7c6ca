/* ringfold/schedule.h: tasks run after a delay or periodically (Java's
 * ScheduledExecutorService, Clojure's at-at), on the executor's per-worker timers.
 *
 * A schedule is one fiber that sleeps in its worker's timer heap between runs (no timer
 * thread) and runs fn(arg, &out) on the executor with the dynamic bindings of the
 * caller that made the schedule, as a future does. Runs of one schedule never overlap.
 *
 *   fixed rate   run k starts at first + k * period, never earlier; a run that ends late
 *                makes the next ones start at once, back to back, until caught up
 *   fixed delay  each run starts period after the previous one ended
 *
 * A schedule ends when it is cancelled, when fn returns a negative code (the later runs
 * are not made, as in Java), after its one run (rf_schedule_after), or when the runtime
 * stops. rf_schedule_join waits for that end; rf_schedule_runs counts the runs made.
 */
#ifndef RINGFOLD_SCHEDULE_H
#define RINGFOLD_SCHEDULE_H

#include "ringfold/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_schedule rf_schedule;

typedef enum rf_schedule_kind {
	RF_SCHEDULE_FIXED_RATE = 0,
	RF_SCHEDULE_FIXED_DELAY = 1,
} rf_schedule_kind;

/* Run fn(arg, &out) once, delay_ms from now.
 * Returns: 0 and *out, the schedule (free it with rf_schedule_free).
 * Errors:  -EINVAL (NULL fn or out, delay_ms < 0), -ENOMEM, RF_ESHUTDOWN.
 * Blocks:  never (starts the runtime if needed).
 * Context: any.
 * Cost:    an allocation and a fiber spawn; the waiting fiber holds a stack. */
RF_API int rf_schedule_after(int64_t delay_ms, rf_body_fn fn, rf_val arg, rf_schedule **out);

/* Run fn(arg, &out) first initial_ms from now, then every period_ms as `kind` says.
 * Returns: 0 and *out, the schedule (free it with rf_schedule_free).
 * Errors:  -EINVAL (NULL fn or out, initial_ms < 0, period_ms <= 0, kind out of range),
 *          -ENOMEM, RF_ESHUTDOWN.
 * Blocks:  never (starts the runtime if needed).
 * Context: any.
 * Cost:    as rf_schedule_after; each run is a timer wake-up and a call. */
RF_API int rf_schedule_every(int64_t initial_ms, int64_t period_ms, rf_schedule_kind kind,
                             rf_body_fn fn, rf_val arg, rf_schedule **out);

/* Cancel: no run starts after this returns; a run under way finishes.
 * Returns: 1 if this call ended a schedule that had more runs to make, 0 if it had
 *          ended already (cancelled, finished, or fn failed).
 * Errors:  -EINVAL (NULL).
 * Blocks:  never.
 * Context: any, fn itself included.
 * Cost:    a short lock and, if the fiber sleeps, its wake-up. */
RF_API int rf_schedule_cancel(rf_schedule *s);

/* Wait until the schedule has ended and its fiber will run fn no more.
 * Returns: 0 when it made all its runs (rf_schedule_after's one); -ECANCELED when it
 *          was cancelled; fn's negative code when fn failed; RF_ESHUTDOWN when the
 *          runtime stopped it.
 * Errors:  -EINVAL (NULL, timeout_ms < 0), -ETIMEDOUT.
 * Blocks:  up to timeout_ms (parks a fiber, blocks a thread).
 * Context: any but fn itself (it would wait for its own end).
 * Cost:    one acquire load once ended. */
RF_API int rf_schedule_join(rf_schedule *s, int64_t timeout_ms);

/* The runs fn has started so far.
 * Returns: 0 and *out.
 * Errors:  -EINVAL (NULL s or out).
 * Blocks:  never. Context: any. Cost: one atomic load. */
RF_API int rf_schedule_runs(rf_schedule *s, uint64_t *out);

/* Drop the handle (NULL: no-op). The schedule runs on until it ends; cancel it first to
 * stop it.
 * Returns: nothing.
 * Errors:  none. Precondition: nobody is in rf_schedule_join.
 * Blocks:  never. Context: any. Cost: an atomic decrement. */
RF_API void rf_schedule_free(rf_schedule *s);

#ifdef __cplusplus
}
#endif
#endif
