/* ringfold/fj.h: fork/join, in the shape of Java's RecursiveTask / ForkJoinPool.
 *
 * There is one pool per NUMA node, one worker thread per CPU of the node, pinned
 * (RF_FJ_WORKERS_PER_NODE overrides the count). Pools start on first use.
 *
 *   tutorial (Clojure / Java)                ringfold
 *   (.invoke pool task)                      rf_fj_invoke(fn, arg, &out)
 *   (.fork f2)                               rf_fj_fork(&t, fn, arg)
 *   (.compute f1)                            fn(arg, &out)   (a plain call)
 *   (.join f2)                               rf_fj_join(&t, &out)
 *   an exception thrown by compute           fn's negative return, handed back by join
 *                                            or invoke unchanged
 *
 * A task body has the base shape int fn(rf_val arg, rf_val *out). Tasks live in the
 * forking frame's memory (an rf_fj_task on its stack): no allocation per fork. Every
 * forked task must be joined before its storage goes out of scope.
 *
 * Join never blocks its worker while there is work: it takes the task back and runs it
 * inline when nobody stole it (the common case, a few ns), and otherwise runs other
 * tasks, first from the thief's deque (leapfrogging), until the stolen one is done.
 * Idle workers spin briefly, then sleep on a futex. Steals prefer the worker's own node;
 * crossing nodes follows RF_FJ_STEAL (local, random, none); rf_stats_get reports local
 * and remote steals per worker.
 *
 * Dynamic bindings are conveyed: a forked task runs with the forking context's binding
 * frame, an invoked one with the invoker's (Clojure's binding conveyance).
 */
#ifndef RINGFOLD_FJ_H
#define RINGFOLD_FJ_H

#include "ringfold/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Storage for one forked task; contents private. */
typedef struct rf_fj_task {
	uint64_t opaque[8];
} rf_fj_task;

/* (.invoke pool task): run fn(arg, out) on the pool of the caller's NUMA node and wait.
 * Returns: fn's return value; *out its result.
 * Errors:  -EINVAL (NULL fn or out), the pools' start error (-ENOMEM, -EAGAIN,
 *          RF_ETOPOLOGY), -ENOMEM, RF_ESHUTDOWN (rf_shutdown cancelled a fiber's wait).
 * Blocks:  until fn returns: a fiber parks, a plain thread futex-waits, neither holding a
 *          pool worker. Inside a pool task fn runs inline (it may fork).
 * Context: any.
 * Cost:    one call inside a task; otherwise an allocation, a queue push and a wake-up. */
RF_API int rf_fj_invoke(rf_body_fn fn, rf_val arg, rf_val *out);

/* rf_fj_invoke on node's pool.
 * Returns: fn's return value; *out its result.
 * Errors:  -EINVAL (NULL fn or out, node < 0 or node >= rf_fj_nodes()), the pools' start
 *          error, -ENOMEM, RF_ESHUTDOWN (rf_shutdown cancelled a fiber's wait).
 * Blocks:  as rf_fj_invoke; from a task of another node's pool the caller's worker runs
 *          its own pool's work until fn is done.
 * Context: any.
 * Cost:    as rf_fj_invoke. */
RF_API int rf_fj_invoke_on(int node, rf_body_fn fn, rf_val arg, rf_val *out);

/* rf_fj_invoke with a bound on the wait.
 * Returns: fn's return value; *out its result.
 * Errors:  -EINVAL (NULL fn or out, timeout_ms < 0), -ETIMEDOUT (fn not finished within
 *          timeout_ms; 0 polls), the pools' start error, -ENOMEM, RF_ESHUTDOWN. After
 *          -ETIMEDOUT fn still runs to completion and its result is dropped: fn and
 *          what arg points to must stay valid until then.
 * Blocks:  up to timeout_ms, as rf_fj_invoke; inside a pool task fn runs inline.
 * Context: any.
 * Cost:    as rf_fj_invoke. */
RF_API int rf_fj_invoke_timeout(rf_body_fn fn, rf_val arg, int64_t timeout_ms, rf_val *out);

/* (.fork task): make fn(arg) available to other workers; *t is initialized here and must
 * be joined with rf_fj_join before t goes out of scope.
 * Returns: 0.
 * Errors:  RF_ENOTINPOOL (caller not in a pool task: use rf_fj_invoke), -EINVAL (NULL t
 *          or fn), -ENOMEM (the deque could not grow; t is not forked: do not join it).
 * Blocks:  never.
 * Context: pool task.
 * Cost:    a deque push, a few ns. */
RF_API int rf_fj_fork(rf_fj_task *t, rf_body_fn fn, rf_val arg);

/* (.join task): wait for a task forked by the same task.
 * Returns: fn's return value; *out its result.
 * Errors:  RF_ENOTINPOOL (caller not in a pool task), -EINVAL (NULL t or out, a task
 *          joined already).
 * Blocks:  never while work exists: runs the task inline when nobody stole it, else runs
 *          other tasks (the thief's first); parks only when nothing can be stolen.
 * Context: pool task.
 * Cost:    a few ns when the task was not stolen. */
RF_API int rf_fj_join(rf_fj_task *t, rf_val *out);

/* The number of pools (one per NUMA node); starts the pools.
 * Returns: the count (>= 1).
 * Errors:  the pools' start error (-ENOMEM, -EAGAIN, RF_ETOPOLOGY).
 * Blocks:  never after start.
 * Context: any.
 * Cost:    an atomic load once started. */
RF_API int rf_fj_nodes(void);

/* The number of workers in node's pool; starts the pools.
 * Returns: the count (>= 1).
 * Errors:  -EINVAL (node < 0 or node >= rf_fj_nodes()), the pools' start error.
 * Blocks:  never after start.
 * Context: any.
 * Cost:    an atomic load once started. */
RF_API int rf_fj_workers(int node);

/* The node of the pool running the caller.
 * Returns: the node, or -1 outside pool tasks.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    a thread-local load. */
RF_API int rf_fj_current_node(void);

#ifdef __cplusplus
}
#endif
#endif
