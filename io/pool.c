/* io/pool.c: the elastic pool of OS threads (the contract is in io/pool.h).
 *
 * Shared state, all under pool_lock: the FIFO of jobs (intrusive through job->next: a
 * job is its submitter's memory) and its length, the number of threads and how many of
 * them are idle. A job is taken off the queue by exactly one thread and run outside the
 * lock. pool_run's job lives on the waiting fiber's stack and is completed through its
 * waiter (runtime/sched/wait.h); nobody else claims that waiter and the fiber waits
 * without deadline, so the claim always wins.
 *
 * A new thread is started when queued jobs outnumber idle threads (counting queued jobs,
 * not just idle threads: an idle thread that has been signalled still counts as idle
 * until it runs, and must not absorb a burst), up to POOL_MAX.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "io/pool.h"
#include "runtime/base/lockrank.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/wait.h"

#define POOL_MAX 64
#define POOL_IDLE_S 10

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cond; /* signalled when a job is queued */
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static pool_job *q_head, *q_tail;
static int n_threads, n_idle, n_queued;

/* Append j to the FIFO; pool_lock held (or the fork child's only thread). */
static void q_push(pool_job *j)
{
	j->next = NULL;
	if (q_tail)
		q_tail->next = j;
	else
		q_head = j;
	q_tail = j;
	n_queued++;
}

static void init_cond(void)
{
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&pool_cond, &a);
	pthread_condattr_destroy(&a);
}

/* Fork child: no pool thread exists. Jobs that survive a fork (agent drains) stay queued
 * for the next thread the child starts; the others belong to the parent's fibers, which
 * are not here either. */
static void pool_fork_child(void)
{
	pthread_mutex_init(&pool_lock, NULL);
	init_cond();
	pool_job *list = q_head;
	q_head = q_tail = NULL;
	n_threads = n_idle = n_queued = 0;
	for (pool_job *next; list; list = next) {
		next = list->next;
		if (list->survives_fork)
			q_push(list);
	}
}

static void pool_init(void)
{
	init_cond();
	sched_on_fork_child(pool_fork_child);
}

static void *pool_thread(void *unused)
{
	static _Atomic unsigned serial; /* names only (relaxed) */
	char name[16];
	snprintf(name, sizeof(name), "rf-block-%u",
	         atomic_fetch_add_explicit(&serial, 1, memory_order_relaxed));
	pthread_setname_np(pthread_self(), name);
	sched_busy(1);
	mutex_lock_ranked(&pool_lock, LOCKRANK_IO_POOL);
	for (;;) {
		while (!q_head) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += POOL_IDLE_S;
			n_idle++;
			sched_busy(-1);
			int rc = pthread_cond_timedwait(&pool_cond, &pool_lock, &ts);
			n_idle--;
			if (rc == ETIMEDOUT && !q_head) {
				n_threads--;
				mutex_unlock_ranked(&pool_lock, LOCKRANK_IO_POOL);
				return NULL;
			}
			sched_busy(1);
		}
		pool_job *j = q_head;
		q_head = j->next;
		if (!q_head)
			q_tail = NULL;
		n_queued--;
		mutex_unlock_ranked(&pool_lock, LOCKRANK_IO_POOL);
		j->run(j); /* j may be gone after this */
		mutex_lock_ranked(&pool_lock, LOCKRANK_IO_POOL);
	}
}

/* Under pool_lock: start a thread if the queue (with one more job) outgrows the idle. */
static void maybe_grow(void)
{
	if (n_queued + 1 <= n_idle || n_threads >= POOL_MAX)
		return;
	pthread_t t;
	pthread_attr_t a;
	if (pthread_attr_init(&a))
		return;
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &a, pool_thread, NULL) == 0)
		n_threads++;
	pthread_attr_destroy(&a);
}

int pool_submit(pool_job *j)
{
	pthread_once(&pool_once, pool_init);
	mutex_lock_ranked(&pool_lock, LOCKRANK_IO_POOL);
	maybe_grow();
	if (n_threads == 0) {
		mutex_unlock_ranked(&pool_lock, LOCKRANK_IO_POOL);
		return -EAGAIN;
	}
	q_push(j);
	pthread_cond_signal(&pool_cond);
	mutex_unlock_ranked(&pool_lock, LOCKRANK_IO_POOL);
	return 0;
}

struct run_job {
	pool_job job;
	long (*fn)(void *arg);
	void *arg;
	long res;
	waiter w;
};

static void run_and_wake(pool_job *pj)
{
	struct run_job *j = (struct run_job *)pj;
	j->res = j->fn(j->arg);
	if (waiter_claim(&j->w))
		waiter_complete(&j->w); /* j may be gone after this */
}

long pool_run(long (*fn)(void *arg), void *arg)
{
	struct run_job j = {.job.run = run_and_wake, .fn = fn, .arg = arg};
	waiter_init(&j.w);
	j.w.firm = true; /* a pool thread holds &j until fn returns */
	if (pool_submit(&j.job) < 0)
		return fn(arg);
	fiber_wait_on(WAIT_IO, NULL);
	waiter_wait(&j.w, DEADLINE_NONE);
	return j.res;
}
