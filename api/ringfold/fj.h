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

/* Run fn(arg, out) on the fork/join pool of the caller's NUMA node (the node of the
 * CPU it runs on) and wait for it: ForkJoinPool.invoke.
 * Returns fn's return value (*out its result), -EINVAL for a NULL fn or out, or the
 * pools' start error (-ENOMEM, -EAGAIN, RF_ETOPOLOGY).
 * Blocks: a fiber parks and a plain thread futex-waits, neither holding a pool worker.
 * Called from inside a pool task it runs fn inline (nested parallelism: fn may fork).
 * Cost when it does not wait: one call (inside a task); otherwise an allocation, a
 * queue push and a wake-up, about 5-20 us end to end. */
RF_API int rf_fj_invoke(rf_body_fn fn, rf_val arg, rf_val *out);

/* As rf_fj_invoke, on node's pool (0 <= node < rf_fj_nodes(), else -EINVAL). From a
 * task of another node's pool the caller's worker keeps running its own pool's work
 * until fn is done. */
RF_API int rf_fj_invoke_on(int node, rf_body_fn fn, rf_val arg, rf_val *out);

/* As rf_fj_invoke with a bound: -ETIMEDOUT if fn has not finished within timeout_ms
 * (0 polls; negative: -EINVAL). On timeout fn still runs to completion and its result is
 * dropped, so fn and whatever arg points to must stay valid until then. Inside a pool
 * task it runs inline like rf_fj_invoke (a worker never waits idle). */
RF_API int rf_fj_invoke_timeout(rf_body_fn fn, rf_val arg, int64_t timeout_ms, rf_val *out);

/* Fork: make fn(arg) available to other workers and return at once (RecursiveTask.fork).
 * *t is initialized here; the caller must rf_fj_join it before t goes out of scope.
 * Returns 0; RF_ENOTINPOOL when the caller is not running in a pool task (use
 * rf_fj_invoke to enter one); -ENOMEM when the deque could not grow (t is then not
 * forked: do not join it). Never blocks. Pool task only. Cost: a few ns. */
RF_API int rf_fj_fork(rf_fj_task *t, rf_body_fn fn, rf_val arg);

/* Join a task forked by the same task: fn's return value, its result in *out.
 * RF_ENOTINPOOL outside a pool task; -EINVAL for NULL t or out, or a task joined
 * already (a second join of one fork).
 * Never blocks its worker while work exists (see above); waits (parked) only when the
 * task is running elsewhere and nothing can be stolen. Pool task only.
 * Cost: a few ns when the task was not stolen (it runs inline). */
RF_API int rf_fj_join(rf_fj_task *t, rf_val *out);

/* Number of pools (NUMA nodes) and of workers in node's pool; starts the pools.
 * Negative: the start error. Any context, never blocks after start. */
RF_API int rf_fj_nodes(void);
RF_API int rf_fj_workers(int node);

/* Node of the pool running the caller, or -1 outside pool tasks. Any context. */
RF_API int rf_fj_current_node(void);

#ifdef __cplusplus
}
#endif
#endif
