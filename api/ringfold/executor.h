/* ringfold/executor.h: ExecutorService, a fixed pool of OS threads with a queue.
 *
 * For tasks that block an OS thread (legacy blocking calls) where a fiber would hold a
 * core. Tasks run in submission order (FIFO), at most `threads` at a time; each gets a
 * future. Dynamic bindings of the submitter are conveyed into the task.
 *
 * Java mapping:
 *   (Executors/newFixedThreadPool n)  rf_executor_new(n)
 *   (.submit s callable)        rf_executor_submit -> a future
 *   (.invokeAll s tasks)        rf_executor_invoke_all
 *   (.shutdown s)               rf_executor_shutdown: accepted tasks still run
 *   (.shutdownNow s)            rf_executor_shutdown_now: tasks not started are returned
 *                               and their futures cancelled (-ECANCELED); running tasks
 *                               cannot be interrupted and run to the end
 *   (.awaitTermination s t u)   rf_executor_await_termination: 0 / -ETIMEDOUT (false)
 *   (.isShutdown s), (.isTerminated s)  rf_executor_is_shutdown, _is_terminated
 *   submit after shutdown (RejectedExecutionException)  RF_ESHUTDOWN
 * Contexts: any, except rf_executor_free and the blocking calls from one of the pool's
 * own tasks (a task waiting for its own pool's termination never returns).
 */
#ifndef RINGFOLD_EXECUTOR_H
#define RINGFOLD_EXECUTOR_H

#include "ringfold/base.h"
#include "ringfold/future.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_executor rf_executor;

/* Tasks are rf_task (future.h): Java's Callable, fn(arg, &out). */

/* (Executors/newFixedThreadPool threads): a pool of `threads` OS threads.
 * Returns: 0 and *out (free it with rf_executor_free).
 * Errors:  -EINVAL (threads < 1 or > 4096, NULL out), -ENOMEM, -EAGAIN (a thread could
 *          not be made).
 * Blocks:  never.
 * Context: any.
 * Cost:    an allocation and `threads` thread creations. */
RF_API int rf_executor_new(int threads, rf_executor **out);

/* Shut down, wait for every accepted task to finish, join the threads, free. A caller
 * that waited for a task may free the pool at once, even while the submit that queued
 * the task has not returned on its own thread (the memory outlives that call).
 * Returns: nothing.
 * Errors:  none; NULL is a no-op.
 * Blocks:  until every accepted task finished.
 * Context: any but one of the pool's own tasks.
 * Cost:    the tasks still queued, a join per thread. */
RF_API void rf_executor_free(rf_executor *ex);

/* (.submit ex callable): queue fn(arg).
 * Returns: 0; *out (out may be NULL: fire and forget) is the task's future, freed by the
 *          caller with rf_future_free.
 * Errors:  -EINVAL (NULL ex or fn), -ENOMEM, RF_ESHUTDOWN (after shutdown).
 * Blocks:  never.
 * Context: any.
 * Cost:    one allocation, one CAS (no lock), a short lock and a futex wake only if a
 *          thread sleeps and none is looking for work. */
RF_API int rf_executor_submit(rf_executor *ex, rf_body_fn fn, rf_val arg, rf_future **out);

/* (.invokeAll ex tasks): submit tasks[0..n) and wait until every one is done.
 * Returns: 0; futures[0..n) are the tasks' futures, each freed by the caller.
 * Errors:  -EINVAL (NULL ex; NULL tasks or futures with n > 0; a NULL task fn), -ENOMEM
 *          or RF_ESHUTDOWN before acceptance (no task accepted, futures[] untouched);
 *          RF_ESHUTDOWN from a fiber whose wait rf_shutdown cancelled (futures[] filled,
 *          the tasks run on).
 * Blocks:  until the n tasks finished: a fiber parks, a thread futex-waits.
 * Context: any but one of the pool's own tasks.
 * Cost:    an allocation per task, one CAS for all of them, the tasks. */
RF_API int rf_executor_invoke_all(rf_executor *ex, const rf_task *tasks, size_t n,
                                  rf_future **futures);

/* (.shutdown ex): stop accepting tasks; accepted ones still run. Idempotent.
 * Returns: nothing.
 * Errors:  none; NULL is a no-op.
 * Blocks:  never.
 * Context: any.
 * Cost:    one short lock and a wake of the idle threads. */
RF_API void rf_executor_shutdown(rf_executor *ex);

/* (.shutdownNow ex): shut down and take back the tasks not yet started; their futures
 * are realized with -ECANCELED. Running tasks run to the end.
 * Returns: 0; *out (malloc'd, caller frees; NULL when none) holds *n tasks in submission
 *          order.
 * Errors:  -EINVAL (NULL ex, out or n), -ENOMEM (nothing taken back, as after
 *          rf_executor_shutdown).
 * Blocks:  never, but for a submit racing it that has yet to link its task (a few
 *          instructions, unless that thread is preempted there).
 * Context: any.
 * Cost:    one lock, an allocation, a future realization per task taken back. */
RF_API int rf_executor_shutdown_now(rf_executor *ex, rf_task **out, size_t *n);

/* (.awaitTermination ex t ms): wait until shut down and every accepted task finished.
 * Returns: 0.
 * Errors:  -EINVAL (NULL ex, timeout_ms < 0), -ETIMEDOUT (not terminated within
 *          timeout_ms; 0 polls), RF_ESHUTDOWN (a fiber's wait cancelled by rf_shutdown).
 * Blocks:  up to timeout_ms: a fiber parks, a thread futex-waits.
 * Context: any but one of the pool's own tasks.
 * Cost:    one short lock when terminated already. */
RF_API int rf_executor_await_termination(rf_executor *ex, int64_t timeout_ms);

/* (.isShutdown ex): whether shutdown has begun.
 * Returns: true or false (false for NULL ex).
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    an atomic load. */
RF_API bool rf_executor_is_shutdown(rf_executor *ex);

/* (.isTerminated ex): whether shut down and every accepted task finished.
 * Returns: true or false (false for NULL ex).
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    an atomic load. */
RF_API bool rf_executor_is_terminated(rf_executor *ex);

#ifdef __cplusplus
}
#endif
#endif
