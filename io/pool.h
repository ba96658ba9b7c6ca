/* io/pool.h: the one elastic pool of OS threads, for work that must block a thread
 * (internal): rf_blocking, regular-file or unpollable I/O under the epoll backend, and
 * agent drains the executor could not take.
 *
 * Elastic: a submission that finds more queued jobs than idle threads starts a thread, up
 * to POOL_MAX; a thread idle for POOL_IDLE_NS exits. No job is ever dropped: at the cap
 * jobs queue, and if no thread exists and none can be started the submitter is told to
 * run the job itself.
 */
#ifndef RF_IO_POOL_H
#define RF_IO_POOL_H

#include <stdbool.h>

typedef struct pool_job {
	void (*run)(struct pool_job *j); /* on a pool thread; may free j */
	struct pool_job *next;           /* the pool's queue; the pool's, while queued */
	bool survives_fork; /* still queued in a fork child (else dropped with the parent's
	                     * fibers that wait for it) */
} pool_job;

/* Queue j for a pool thread. j stays valid until j->run starts. Returns 0, or -EAGAIN:
 * no pool thread exists and none could be started (j was not queued: run it yourself).
 * Never waits for the job. Any context. */
int pool_submit(pool_job *j);

/* Run fn(arg) on the pool and park the calling fiber until it returns; returns what fn
 * returned. Fiber only (a thread calls fn itself). Never loses the job: if the pool has
 * no thread and cannot start one, fn runs right here (blocking the worker rather than
 * failing). */
long pool_run(long (*fn)(void *arg), void *arg);

#endif
