/* io/pool.c: the small elastic pool of OS threads for work that must block a thread
 * (rf_blocking, and regular-file or unpollable I/O under the epoll backend).
 *
 * Shared state, all under pool_lock: the FIFO of jobs (intrusive: each job lives on
 * the stack of the fiber that waits for it) and its length, the number of threads and
 * how many of them are idle. A job is taken off the queue by exactly one thread, run outside the
 * lock, and completed through its waiter (runtime/sched/wait.h), which resumes the parked fiber.
 * Nobody else claims that waiter and the fiber waits without deadline, so the claim
 * always wins.
 *
 * Elastic: a job that finds more queued jobs than idle threads starts a thread, up to
 * POOL_MAX (counting queued jobs, not just idle threads: an idle thread that has been
 * signalled still counts as idle until it runs, and must not absorb a burst); threads
 * idle for POOL_IDLE_S seconds exit. At the cap, jobs queue; no job is ever dropped: if no
 * thread exists and none can be started, the caller runs the job itself.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "io/io_impl.h"
#include "runtime/sched/sched.h"

#define POOL_MAX 64
#define POOL_IDLE_S 10

struct job {
	long (*fn)(void *arg);
	void *arg;
	long res;
	struct job *next;
	waiter w;
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cond; /* signalled when a job is queued */
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static struct job *q_head, *q_tail;
static int n_threads, n_idle, n_queued;

static void init_cond(void)
{
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&pool_cond, &a);
	pthread_condattr_destroy(&a);
}

/* Fork child: no pool thread exists, and the queued jobs belong to the parent's
 * fibers, which are not here either. */
static void pool_fork_child(void)
{
	pthread_mutex_init(&pool_lock, NULL);
	init_cond();
	q_head = q_tail = NULL;
	n_threads = n_idle = n_queued = 0;
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
	pthread_mutex_lock(&pool_lock);
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
				pthread_mutex_unlock(&pool_lock);
				return NULL;
			}
			sched_busy(1);
		}
		struct job *j = q_head;
		q_head = j->next;
		if (!q_head)
			q_tail = NULL;
		n_queued--;
		pthread_mutex_unlock(&pool_lock);
		j->res = j->fn(j->arg);
		if (waiter_claim(&j->w))
			waiter_complete(&j->w); /* j may be gone after this */
		pthread_mutex_lock(&pool_lock);
	}
}

long pool_run(long (*fn)(void *arg), void *arg)
{
	pthread_once(&pool_once, pool_init);
	struct job j = {.fn = fn, .arg = arg};
	waiter_init(&j.w);
	j.w.firm = true; /* a pool thread holds &j until fn returns */
	pthread_mutex_lock(&pool_lock);
	if (n_queued + 1 > n_idle && n_threads < POOL_MAX) {
		pthread_t t;
		pthread_attr_t a;
		pthread_attr_init(&a);
		pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &a, pool_thread, NULL) == 0)
			n_threads++;
		pthread_attr_destroy(&a);
		if (n_threads == 0) {
			pthread_mutex_unlock(&pool_lock);
			return fn(arg);
		}
	}
	if (q_tail)
		q_tail->next = &j;
	else
		q_head = &j;
	q_tail = &j;
	n_queued++;
	pthread_cond_signal(&pool_cond);
	pthread_mutex_unlock(&pool_lock);
	fiber_wait_on(WAIT_IO, NULL);
	waiter_wait(&j.w, DEADLINE_NONE);
	return j.res;
}
