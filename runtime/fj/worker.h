/* runtime/fj/worker.h: pool and worker layout, shared by runtime/fj's files only.
 *
 * Ownership (see pool.c for the protocol):
 *   fj_worker.dq          owner pushes/takes, thieves steal (deque.h's table)
 *   fj_worker.pool, index, cpu, node, os_node: set before the thread starts, then
 *                         read-only
 *   fj_worker counters    written by the owner only (relaxed), read by fj_stats
 *   fj_worker.rng         owner only
 *   fj_pool.wake_seq      futex word: bumped by wakers (release), read by parkers
 *   fj_pool.idle          parked workers of the pool: parkers increment/decrement
 *   fj_pool.keep_local    node-partitioned fold parts running on the pool (their workers
 *                         increment/decrement); while nonzero other nodes do not steal
 *                         from it (a hint: a steal already under way may still land),
 *                         its forks wake none of theirs, and their parkers ignore it
 *   fj_pool inject list   under inject_lock; `injected` mirrors its length for lock-free
 *                         peeks
 * Lock order: inject_lock is a leaf (nothing else is taken while it is held).
 */
#ifndef RF_FJ_WORKER_H
#define RF_FJ_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "runtime/fj/deque.h"
#include "runtime/fj/fj.h"

typedef struct fj_worker {
	fj_deque dq;
	_Alignas(64) struct fj_pool *pool;
	int index; /* in fj_g.workers */
	int cpu, node, os_node;
	uint64_t rng;
	_Atomic uint64_t steals_local, steals_remote, steals_failed, wakeups, tasks_run, idle_ns;
	pthread_t thread;
} fj_worker;

typedef struct fj_pool {
	int node, os_node;
	int first, nworkers; /* its workers are fj_g.workers[first .. first+nworkers) */
	_Alignas(64) _Atomic uint32_t wake_seq;
	_Atomic uint32_t idle;
	_Atomic uint32_t keep_local; /* node-partitioned fold parts running: no remote thieves */
	_Alignas(64) pthread_mutex_t inject_lock;
	fj_job *head, *tail;
	bool closed; /* under inject_lock: the pool stops; fj_submit refuses new jobs */
	_Atomic size_t injected;
} fj_pool;

/* The worker running on this thread; initial-exec TLS so that fork and join pay one
 * %fs-relative load. */
extern _Thread_local fj_worker *fj_self __attribute__((tls_model("initial-exec")));

/* Any worker may read how many workers are parked anywhere: fork's wake-up test. */
extern _Atomic uint32_t fj_idle_total;

/* Wake one parked worker that could steal from w (its own pool first). */
void fj_wake_some(fj_worker *w);

/* Run a task taken from a deque other than by the inline join path: installs its binding
 * frame, stores result and rc, completes its done word. */
void fj_run_task(fj_worker *w, fj_task *t);

#endif
