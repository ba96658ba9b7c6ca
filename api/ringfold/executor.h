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

/* A task as Java's Callable: fn(arg, &out). */
typedef struct rf_task {
	rf_body_fn fn;
	rf_val arg;
} rf_task;

/* Pool of `threads` (1..4096) OS threads. 0; -EINVAL; -ENOMEM; -EAGAIN (threads). */
RF_API int rf_executor_new(int threads, rf_executor **out);

/* Shut down, wait for every accepted task to finish, join the threads, free. NULL: no-op.
 * Blocks. Not from one of the pool's tasks. */
RF_API void rf_executor_free(rf_executor *ex);

/* Queue fn(arg) and give its future (out may be NULL: fire and forget). 0; -EINVAL;
 * -ENOMEM; RF_ESHUTDOWN after shutdown. Never blocks. Cost: one allocation, one short
 * lock, a futex wake if a thread sleeps. */
RF_API int rf_executor_submit(rf_executor *ex, rf_body_fn fn, rf_val arg, rf_future **out);

/* Submit all n tasks, wait until every one is done, give their futures in futures[0..n)
 * (each to be freed by the caller). 0; -EINVAL; -ENOMEM or RF_ESHUTDOWN (then no task
 * was accepted and futures[] is untouched). Blocks. */
RF_API int rf_executor_invoke_all(rf_executor *ex, const rf_task *tasks, size_t n,
                                  rf_future **futures);

/* Stop accepting tasks; accepted ones still run. Idempotent. Never blocks. */
RF_API void rf_executor_shutdown(rf_executor *ex);

/* Shut down and take back the tasks not yet started: *out (malloc'd, caller frees; NULL
 * when none) holds *n of them in submission order; their futures are realized with
 * -ECANCELED. 0; -EINVAL; -ENOMEM (then nothing was taken back, as after shutdown).
 * Never blocks. */
RF_API int rf_executor_shutdown_now(rf_executor *ex, rf_task **out, size_t *n);

/* Wait until shut down and every accepted task finished: 0, or -ETIMEDOUT after
 * timeout_ms (0 polls; < 0: -EINVAL). Blocks (parks a fiber, futex-waits a thread). */
RF_API int rf_executor_await_termination(rf_executor *ex, int64_t timeout_ms);

RF_API bool rf_executor_is_shutdown(rf_executor *ex);
RF_API bool rf_executor_is_terminated(rf_executor *ex);

#ifdef __cplusplus
}
#endif
#endif
