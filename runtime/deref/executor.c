/* runtime/deref/executor.c: ExecutorService, a fixed pool of OS threads and a FIFO.
 *
 * Contract. Everything below is guarded by `lock` (a leaf: no other lock is taken
 * under it, nothing blocks or runs a task under it):
 *   queue/tail/queued  accepted futures not yet started, FIFO through rf_future.next;
 *                      `queued` is also read without the lock by a polling worker, as a
 *                      hint only (relaxed; it takes the lock before it pops)
 *   idle               workers sleeping for a task (never time out)
 *   searching          workers that will take the lock and look at the queue before
 *                      they sleep: one polling it, and those claimed off `idle` for
 *                      queued tasks (their waiter's value says so) not yet back
 *   awaiters           callers of await_termination (may time out)
 *   live               workers not yet exited
 *   phase              RUNNING -> SHUTDOWN -> TERMINATED, each step once; stored with
 *                      release under the lock so is_shutdown/is_terminated can
 *                      acquire-load it without the lock.
 * A task is queued and popped by exactly one worker, or taken back by shutdown_now.
 * Wake-ups: whoever leaves a task in the queue (a submitter queuing it, a worker popping
 * the one before it) claims an idle worker only if none is searching; that worker pops
 * a task and passes the wake on the same way. A worker that finds the queue empty polls
 * it for IDLE_POLL_NS before it sleeps, if no other is searching. So a burst of submits
 * finds a worker searching and pays no wake-up, not one per task. No wake is lost: a
 * task is queued under the lock, where either a worker is searching (it looks at the
 * queue under the lock before it sleeps), or an idle one is woken, or none is idle
 * (each running one looks at the queue when its task returns).
 * A worker exits only when the phase is past RUNNING and the queue is empty; the last
 * one to exit sets TERMINATED and wakes the awaiters. So every accepted task runs
 * (or is handed back by shutdown_now) before termination.
 */
#include <pthread.h>
#include <stdlib.h>

#include "ringfold/executor.h"
#include "runtime/base/ctx.h"
#include "runtime/base/waitlist.h"
#include "runtime/deref/future.h"
#include "runtime/sched/sched.h"
#include "runtime/var/convey.h"

enum { RUNNING = 0, SHUTDOWN = 1, TERMINATED = 2 };

struct rf_executor {
	spinlock lock;
	_Atomic uint32_t phase;
	struct rf_future *queue, *tail;
	_Atomic size_t queued;
	int searching;
	waitlist idle;
	waitlist awaiters;
	int live;
	int nthreads;
	pthread_t threads[];
};

static void set_phase(struct rf_executor *ex, uint32_t phase)
{
	/* Pairs with the acquire loads in rf_executor_is_shutdown/_is_terminated. */
	atomic_store_explicit(&ex->phase, phase, memory_order_release);
}

static uint32_t phase_of(struct rf_executor *ex)
{
	return atomic_load_explicit(&ex->phase, memory_order_relaxed); /* under the lock */
}

/* How long a worker that finds the queue empty polls it before it sleeps: a few
 * submits' worth, so that a burst keeps one worker awake, and well under the futex
 * wake-up it saves the submitter. */
#define IDLE_POLL_NS 2000u

/* Lock held: the queue's length (written under the lock, read as a hint by pollers). */
static void set_queued(struct rf_executor *ex, size_t n)
{
	atomic_store_explicit(&ex->queued, n, memory_order_relaxed);
}

static size_t queued_of(struct rf_executor *ex)
{
	return atomic_load_explicit(&ex->queued, memory_order_relaxed);
}

/* Lock held: an idle worker claimed to take the queued tasks, counted as searching, to
 * be completed after the unlock; or NULL: nothing queued, one searching, or none idle. */
static waiter *claim_waker(struct rf_executor *ex)
{
	if (!ex->queue || ex->searching)
		return NULL;
	waiter *w = waitlist_claim_one(&ex->idle);
	if (w) {
		ex->searching++;
		w->value = rf_from_ptr(ex); /* between claim and complete: wait.h rule 4 */
	}
	return w;
}

/* Lock not held: poll the queue until it holds a task or IDLE_POLL_NS pass. The caller
 * looks at it again under the lock either way (what the poll saw is a hint). */
static void poll_queue(struct rf_executor *ex)
{
	uint64_t end = time_now_ns() + IDLE_POLL_NS;
	do {
		for (int i = 0; i < 64; i++) {
			if (queued_of(ex))
				return;
			cpu_relax();
		}
	} while (time_now_ns() < end);
}

static void *worker_main(void *arg)
{
	struct rf_executor *ex = arg;
	bool polled = false; /* the queue was polled since this worker last found a task */
	sched_busy(1);
	spin_lock(&ex->lock);
	for (;;) {
		struct rf_future *f = ex->queue;
		if (f) {
			ex->queue = f->next;
			set_queued(ex, queued_of(ex) - 1);
			waiter *next = claim_waker(ex);
			spin_unlock(&ex->lock);
			if (next)
				waiter_complete(next);
			future_run(f, true);
			polled = false;
			spin_lock(&ex->lock);
		} else if (phase_of(ex) != RUNNING) {
			waiter *chain = NULL;
			if (--ex->live == 0) {
				set_phase(ex, TERMINATED);
				chain = waitlist_claim_all(&ex->awaiters);
			}
			spin_unlock(&ex->lock);
			waitlist_complete_chain(chain, 0, RF_NIL);
			sched_busy(-1);
			return NULL;
		} else if (!polled && !ex->searching) {
			ex->searching++;
			spin_unlock(&ex->lock);
			poll_queue(ex);
			polled = true;
			spin_lock(&ex->lock);
			ex->searching--;
		} else {
			waiter w;
			waiter_init(&w);
			sched_busy(-1);
			waitlist_sleep(&ex->idle, &ex->lock, &w, DEADLINE_NONE);
			sched_busy(1);
			polled = false;
			spin_lock(&ex->lock);
			if (w.value != RF_NIL) /* claimed by claim_waker, not by shutdown */
				ex->searching--;
		}
	}
}

/* Accept n prepared futures at once, or none: 0 or RF_ESHUTDOWN. */
static int accept(struct rf_executor *ex, struct rf_future **fs, size_t n)
{
	spin_lock(&ex->lock);
	if (phase_of(ex) != RUNNING) {
		spin_unlock(&ex->lock);
		return RF_ESHUTDOWN;
	}
	for (size_t i = 0; i < n; i++) {
		fs[i]->next = NULL;
		if (ex->queue)
			ex->tail->next = fs[i];
		else
			ex->queue = fs[i];
		ex->tail = fs[i];
	}
	set_queued(ex, queued_of(ex) + n);
	waiter *w = claim_waker(ex);
	spin_unlock(&ex->lock);
	if (w)
		waiter_complete(w);
	return 0;
}

/* n new futures with the caller's bindings, or none: 0 or -ENOMEM. */
static int prepare(const rf_task *tasks, size_t n, struct rf_future **fs)
{
	for (size_t i = 0; i < n; i++) {
		void *frame;
		if (var_bindings_capture(&frame) < 0 ||
		    future_alloc(tasks[i].fn, tasks[i].arg, frame, &fs[i]) < 0) {
			var_bindings_release(frame);
			while (i--) {
				var_bindings_release(fs[i]->bindings);
				future_discard(fs[i]);
			}
			return -ENOMEM;
		}
	}
	return 0;
}

static void unprepare(struct rf_future **fs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		var_bindings_release(fs[i]->bindings);
		future_discard(fs[i]);
	}
}

int rf_executor_new(int threads, rf_executor **out)
{
	if (threads < 1 || threads > 4096 || !out)
		return -EINVAL;
	struct rf_executor *ex = malloc(sizeof(*ex) + (size_t)threads * sizeof(pthread_t));
	if (!ex)
		return -ENOMEM;
	spin_init(&ex->lock, LOCKRANK_EXECUTOR);
	atomic_init(&ex->phase, RUNNING);
	ex->queue = ex->tail = NULL;
	atomic_init(&ex->queued, 0);
	ex->searching = 0;
	waitlist_init(&ex->idle);
	waitlist_init(&ex->awaiters);
	ex->live = threads;
	ex->nthreads = 0;
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&ex->threads[i], NULL, worker_main, ex) != 0) {
			spin_lock(&ex->lock);
			ex->live -= threads - i; /* the ones never started */
			spin_unlock(&ex->lock);
			rf_executor_free(ex);
			return -EAGAIN;
		}
		ex->nthreads++;
	}
	*out = ex;
	return 0;
}

void rf_executor_free(rf_executor *ex)
{
	if (!ex)
		return;
	rf_executor_shutdown(ex);
	for (int i = 0; i < ex->nthreads; i++)
		pthread_join(ex->threads[i], NULL);
	free(ex);
}

int rf_executor_submit(rf_executor *ex, rf_body_fn fn, rf_val arg, rf_future **out)
{
	if (!ex || !fn)
		return -EINVAL;
	rf_task task = {fn, arg};
	struct rf_future *f;
	int rc = prepare(&task, 1, &f);
	if (rc < 0)
		return rc;
	if (!out)
		deferred_unref(&f->d); /* fire and forget: only the runner's reference stays */
	if ((rc = accept(ex, &f, 1)) < 0) {
		if (out)
			unprepare(&f, 1);
		else
			future_drop_unrun(f, rc);
		return rc;
	}
	if (out)
		*out = f;
	return 0;
}

int rf_executor_invoke_all(rf_executor *ex, const rf_task *tasks, size_t n, rf_future **futures)
{
	if (!ex || (n && (!tasks || !futures)))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!tasks[i].fn)
			return -EINVAL;
	int rc = prepare(tasks, n, futures);
	if (rc < 0)
		return rc;
	if ((rc = accept(ex, futures, n)) < 0) {
		unprepare(futures, n);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		int code;
		rf_val v;
		if ((rc = deferred_wait(&futures[i]->d, DEADLINE_NONE, &code, &v)) < 0)
			return rc; /* a fiber's wait cancelled by rf_shutdown: the futures run on */
	}
	return 0;
}

/* Lock held: leave RUNNING and wake the idle workers (they exit once the queue is
 * empty). Returns the claimed idle waiters, to be completed after the unlock. */
static waiter *begin_shutdown(struct rf_executor *ex)
{
	if (phase_of(ex) == RUNNING)
		set_phase(ex, ex->live ? SHUTDOWN : TERMINATED);
	return waitlist_claim_all(&ex->idle);
}

void rf_executor_shutdown(rf_executor *ex)
{
	if (!ex)
		return;
	spin_lock(&ex->lock);
	waiter *chain = begin_shutdown(ex);
	spin_unlock(&ex->lock);
	waitlist_complete_chain(chain, 0, RF_NIL);
}

int rf_executor_shutdown_now(rf_executor *ex, rf_task **out, size_t *n)
{
	if (!ex || !out || !n)
		return -EINVAL;
	spin_lock(&ex->lock);
	waiter *chain = begin_shutdown(ex);
	size_t cap = queued_of(ex); /* only shrinks from now on: nothing more is accepted */
	spin_unlock(&ex->lock);
	waitlist_complete_chain(chain, 0, RF_NIL);

	rf_task *tasks = NULL;
	if (cap && !(tasks = malloc(cap * sizeof(*tasks))))
		return -ENOMEM;
	spin_lock(&ex->lock);
	struct rf_future *f = ex->queue;
	ex->queue = ex->tail = NULL;
	set_queued(ex, 0);
	spin_unlock(&ex->lock);
	size_t count = 0;
	while (f) {
		struct rf_future *next = f->next;
		tasks[count].fn = f->fn;
		tasks[count].arg = f->arg;
		count++;
		future_drop_unrun(f, -ECANCELED);
		f = next;
	}
	if (!count) {
		free(tasks);
		tasks = NULL;
	}
	*out = tasks;
	*n = count;
	return 0;
}

int rf_executor_await_termination(rf_executor *ex, int64_t timeout_ms)
{
	if (!ex || timeout_ms < 0)
		return -EINVAL;
	uint64_t deadline = time_deadline_after_ms(timeout_ms);
	spin_lock(&ex->lock);
	if (phase_of(ex) == TERMINATED) {
		spin_unlock(&ex->lock);
		return 0;
	}
	if (timeout_ms == 0) {
		spin_unlock(&ex->lock);
		return -ETIMEDOUT;
	}
	waiter w;
	waiter_init(&w);
	fiber_wait_on(WAIT_EXECUTOR, ex);
	return waitlist_sleep(&ex->awaiters, &ex->lock, &w, deadline);
}

bool rf_executor_is_shutdown(rf_executor *ex)
{
	return ex && atomic_load_explicit(&ex->phase, memory_order_acquire) != RUNNING;
}

bool rf_executor_is_terminated(rf_executor *ex)
{
	return ex && atomic_load_explicit(&ex->phase, memory_order_acquire) == TERMINATED;
}
