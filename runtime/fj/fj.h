/* runtime/fj/fj.h: the fork/join pools as the rest of ringfold sees them (internal).
 *
 * One pool per node of the runtime topology; each has one worker thread per CPU of the
 * node (rf_config.fj_workers_per_node overrides), pinned. Workers are plain threads that
 * never run fibers, so "the current worker" is a thread-local (fj_self).
 *
 * A task (fj_task, in the forking frame's memory) goes onto its worker's deque; the
 * worker takes it back at join unless a thief stole it. External work (invoke from a
 * plain thread or a fiber, pmap streams) arrives as an fj_job on a pool's inject queue.
 *
 * Completion words (fj_done) carry DONE and a WAITER flag: a worker that waits for a
 * task it cannot help with sets WAITER and parks on its pool; the completer, seeing
 * WAITER in its exchange, wakes the pools.
 */
#ifndef RF_FJ_FJ_H
#define RF_FJ_FJ_H

#include <stdatomic.h>
#include <stdint.h>

#include "ringfold/base.h"
#include "ringfold/runtime.h"

struct fj_pool;
struct fj_worker;

enum { FJ_PENDING = 0, FJ_DONE = 1, FJ_WAITER = 2, FJ_JOINED = 4 /* a join returned */ };

typedef struct fj_done {
	_Atomic uint32_t state; /* FJ_PENDING / FJ_DONE, | FJ_WAITER */
} fj_done;

/* A forked task: the layout behind the public rf_fj_task. */
typedef struct fj_task {
	rf_body_fn fn;
	rf_val arg;
	rf_val result; /* written by whoever runs it, read after done (acquire) */
	void *frame;   /* binding frame of the forking context */
	int rc;
	_Atomic int32_t thief; /* worker index of the thief, -1 until stolen: leapfrog hint */
	fj_done done;
} fj_task;

/* External work on a pool's inject queue. run() is called on a worker with the job's
 * binding frame installed; the job owns its memory (run may free it) and its frame's
 * reference (run releases it when the job holds one). */
typedef struct fj_job {
	struct fj_job *next;
	void (*run)(struct fj_job *job);
	void *frame; /* binding frame to install around run */
} fj_job;

/* Start the pools if needed. 0 or -ENOMEM / -EAGAIN / the runtime's start error. Any. */
int fj_ensure(void);

/* The calling thread's worker, or NULL off the pools. */
struct fj_worker *fj_self_worker(void);

/* Number of pools (nodes) and workers of node's pool; fj_ensure first. */
int fj_pool_count(void);
int fj_pool_workers(int node);

/* The node whose pool a plain thread should use: the node of the CPU it runs on. */
int fj_home_node(void);

/* Queue job on node's pool and wake a worker. Returns 0, or RF_ESHUTDOWN when the pool
 * is stopping: the job was not queued and the caller runs it or fails (a job queued
 * before the stop always runs). Any context; never blocks. */
int fj_submit(int node, fj_job *job);

/* Mark a completion word DONE and wake a pool worker parked on it. Any. */
void fj_done_complete(fj_done *d);

/* Worker only: run other work (leapfrogging to the hinted thief first) until d is DONE;
 * parks on the pool when there is none. */
void fj_help_until(struct fj_worker *w, fj_done *d, int32_t thief_hint);

/* Worker only: if the worker has tasks others could steal and a worker is parked, wake
 * one. The chunk loops call it so a lost wake-up (see pool.c) costs one chunk at most. */
void fj_announce(struct fj_worker *w);

/* Worker only: true when the worker's deque holds tasks nobody stole yet. */
int fj_has_surplus(struct fj_worker *w);

/* Run fn(arg) on node's pool from a worker (of any pool) without waiting: start, then
 * fj_remote_wait, which helps the caller's own pool until the result is in. The record
 * lives in the caller's frame and must be waited for before the frame ends. */
typedef struct fj_remote {
	fj_job job;
	rf_body_fn fn;
	rf_val arg, result;
	int rc;
	fj_done done;
} fj_remote;

void fj_remote_start(fj_remote *r, int node, rf_body_fn fn, rf_val arg);
int fj_remote_wait(fj_remote *r, rf_val *out);

/* Worker only: while the count is raised, workers of other nodes do not steal from the
 * caller's pool (node-partitioned folds keep each node's part on its node). */
void fj_keep_local(struct fj_worker *w, int delta);

/* Fill out->fj_workers and out->fj[] (cpu, node, steals local/remote/failed, wakeups,
 * idle time, and in fibers_run the tasks run after a steal or from the inject queue),
 * growing out->fj as needed. Returns 0 or -ENOMEM. Starts nothing: zero workers when
 * the pools have not started. Any. Registered with sched_on_stats when
 * the pools start, so rf_stats_get includes it. */
int fj_stats(rf_stats *out);

/* Stop and join every worker, free the pools. Only with no fork/join work in flight.
 * Registered with sched_on_shutdown when the pools start. Plain thread. */
void fj_shutdown(void);

#endif
