/* runtime/deref/executor.c: ExecutorService, a fixed pool of OS threads and a FIFO.
 *
 * Contract. The queue of accepted futures not yet started is an intrusive MPSC list
 * (Vyukov's) linked through rf_future.next, with a stub node:
 *   tail        the last node pushed, or'ed with CLOSED once shutdown began. Submitters
 *               push without the lock: a CAS on tail (which a closed queue refuses, so a
 *               task is accepted iff its CAS got in before CLOSED), then a release store
 *               linking the node before theirs to theirs. Between the two the queue is
 *               not empty but cannot be popped past that node: a worker that finds it so
 *               backs off (spin_step) and looks again.
 *   head        the oldest node not yet popped, or the stub; only under `lock`.
 * Under `lock` (a leaf: no other lock is taken under it, nothing blocks or runs a task
 * under it): head, popping (workers and shutdown_now are the consumers), idle,
 * awaiters, live, and every write of searching, sleepers and phase.
 *   idle        workers sleeping for a task (never time out)
 *   sleepers    workers on idle or woken from it and not yet back under the lock;
 *               read by submitters after their push
 *   searching   workers that will take the lock and look at the queue before they
 *               sleep: one polling it, and those claimed off `idle` (their waiter's
 *               value says so) not yet back; read by submitters after their push
 *   awaiters    callers of await_termination (may time out)
 *   live        workers not yet exited
 *   phase       RUNNING -> SHUTDOWN -> TERMINATED, each step once; stored with release
 *               so is_shutdown/is_terminated can acquire-load it without the lock.
 * The queue is empty iff head is the stub and tail (without CLOSED) is the stub.
 * A task is pushed once and popped by exactly one worker, or taken back by shutdown_now.
 * Wake-ups: whoever leaves a task in the queue (a submitter pushing it, a worker popping
 * the one before it) claims an idle worker only if some sleep and none is searching;
 * that worker pops a task and passes the wake on the same way. A worker that finds the
 * queue empty polls tail for IDLE_POLL_NS before it sleeps, if no other is searching.
 * So a burst of submits finds the workers busy or one searching and takes no lock at
 * all. No wake is lost (a Dekker pair, all four accesses seq_cst): a submitter pushes,
 * then reads sleepers and searching; a worker about to sleep counts itself in sleepers,
 * then reads tail; one of the two sees the other. A searching worker decrements
 * searching, then reads tail; a submitter that saw it searching pushed before that.
 * Running workers look at the queue when their task returns.
 * Shutdown sets CLOSED (under the lock); a worker exits only when the queue is empty
 * and closed, so nothing can be pushed any more; the last one to exit sets TERMINATED
 * and wakes the awaiters. So every accepted task runs (or is handed back by
 * shutdown_now) before termination.
 * Lifetime: a submit still reads the executor after its tasks are in the queue, where
 * they may run and end, so it does that inside a reclaim read section, and
 * rf_executor_free retires the memory (runtime/base/reclaim.h) rather than freeing it.
 */
#include <pthread.h>
#include <stdalign.h>
#include <stdlib.h>

#include "ringfold/executor.h"
#include "runtime/base/assert.h"
#include "runtime/base/ctx.h"
#include "runtime/base/reclaim.h"
#include "runtime/base/waitlist.h"
#include "runtime/deref/future.h"
#include "runtime/sched/sched.h"
#include "runtime/var/convey.h"

enum { RUNNING = 0, SHUTDOWN = 1, TERMINATED = 2 };

#define CLOSED ((uintptr_t)1) /* tail's low bit: nodes are at least 8-byte aligned */

struct rf_executor {
	/* Written by every push: a line of its own. */
	alignas(64) _Atomic uintptr_t tail;
	/* Read by every push, written only when a worker goes to sleep or wakes. */
	alignas(64) _Atomic int sleepers;
	/* The workers' line. */
	alignas(64) spinlock lock;
	_Atomic int searching;
	_Atomic uint32_t phase;
	struct rf_future *head;
	waitlist idle;
	waitlist awaiters;
	int live;
	int nthreads;
	/* Only its next is used; a submitter that finds the queue empty links it. */
	alignas(64) struct rf_future stub;
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

static struct rf_future *node_of(uintptr_t tail)
{
	return (struct rf_future *)(tail & ~CLOSED);
}

/* How long a worker that finds the queue empty polls it before it sleeps: a few
 * submits' worth, so that a burst keeps one worker awake, and well under the futex
 * wake-up it saves the submitter. */
#define IDLE_POLL_NS 2000u

/* Any thread: append the chain first..last (linked through next, last->next NULL).
 * False, and nothing appended, if the queue is closed, unless `closed_too` (the stub). */
static bool push(struct rf_executor *ex, struct rf_future *first, struct rf_future *last,
                 bool closed_too)
{
	RF_ASSERT(((uintptr_t)last & CLOSED) == 0);
	uintptr_t t = atomic_load_explicit(&ex->tail, memory_order_relaxed);
	do {
		if ((t & CLOSED) && !closed_too)
			return false;
		/* seq_cst: the submitter's half of the Dekker pair with a sleeping worker (its
		 * load of sleepers comes after this in the single total order). */
	} while (
	    !atomic_compare_exchange_weak_explicit(&ex->tail, &t, (uintptr_t)last | (t & CLOSED),
	                                           memory_order_seq_cst, memory_order_relaxed));
	/* Release: publishes the chain's fields and links; pairs with pop's acquire loads. */
	atomic_store_explicit(&node_of(t)->next, first, memory_order_release);
	return true;
}

static struct rf_future *next_of(struct rf_future *f)
{
	return atomic_load_explicit(&f->next, memory_order_acquire); /* pairs with push */
}

/* Lock held: whether the queue is empty (tail read seq_cst: the workers' half of the
 * Dekker pairs, see the contract). */
static bool queue_empty(struct rf_executor *ex)
{
	return ex->head == &ex->stub &&
	       node_of(atomic_load_explicit(&ex->tail, memory_order_seq_cst)) == &ex->stub;
}

/* Lock held: take the oldest queued future; NULL if the queue is empty or a submitter
 * has yet to link the oldest node's successor (queue_empty tells them apart). */
static struct rf_future *pop(struct rf_executor *ex)
{
	struct rf_future *head = ex->head, *next;
	if (head == &ex->stub) {
		if (!(next = next_of(head)))
			return NULL;
		ex->head = head = next;
	}
	/* Both of head's lines at once, for writing (future_run realizes it): the miss on
	 * its first line then overlaps the one on next, instead of following it. */
	__builtin_prefetch(head, 1);
	__builtin_prefetch((char *)head + sizeof(*head) - 1, 1);
	next = next_of(head);
	if (!next) {
		/* head is the last node linked: only with the stub behind it can head leave. */
		if (node_of(atomic_load_explicit(&ex->tail, memory_order_acquire)) != head)
			return NULL; /* a submitter is linking a node after head */
		atomic_store_explicit(&ex->stub.next, NULL, memory_order_relaxed);
		push(ex, &ex->stub, &ex->stub, true);
		if (!(next = next_of(head)))
			return NULL; /* a submitter got in before the stub and is linking */
	}
	ex->head = next;
	return head;
}

/* Lock held: an idle worker claimed to take the queued tasks, counted as searching, to
 * be completed after the unlock; or NULL: nothing queued, one searching, or none idle. */
static waiter *claim_waker(struct rf_executor *ex)
{
	/* The idle list first: while every worker is busy, no look at tail (the line every
	 * push writes). */
	if (!ex->idle.head || atomic_load_explicit(&ex->searching, memory_order_relaxed) ||
	    queue_empty(ex))
		return NULL;
	waiter *w = waitlist_claim_one(&ex->idle);
	if (w) {
		atomic_fetch_add_explicit(&ex->searching, 1, memory_order_relaxed);
		w->value = rf_from_ptr(ex); /* between claim and complete: wait.h rule 4 */
	}
	return w;
}

/* Lock not held: poll tail until it changes (a push or CLOSED) or IDLE_POLL_NS pass.
 * The caller looks at the queue under the lock either way (what the poll saw is a hint). */
static void poll_queue(struct rf_executor *ex)
{
	uint64_t end = time_now_ns() + IDLE_POLL_NS;
	do {
		for (int i = 0; i < 64; i++) {
			if (atomic_load_explicit(&ex->tail, memory_order_relaxed) !=
			    (uintptr_t)&ex->stub)
				return;
			cpu_relax();
		}
	} while (time_now_ns() < end);
}

/* Lock held, the queue empty and closed: leave the pool; the last one out terminates it. */
static void worker_exit(struct rf_executor *ex)
{
	waiter *chain = NULL;
	if (--ex->live == 0) {
		set_phase(ex, TERMINATED);
		chain = waitlist_claim_all(&ex->awaiters);
	}
	spin_unlock(&ex->lock);
	waitlist_complete_chain(chain, 0, RF_NIL);
	sched_busy(-1);
}

static void *worker_main(void *arg)
{
	struct rf_executor *ex = arg;
	bool polled = false; /* the queue was polled since this worker last found a task */
	unsigned spins = 0;  /* steps waited for a submitter's link */
	sched_busy(1);
	spin_lock(&ex->lock);
	for (;;) {
		struct rf_future *f = pop(ex);
		if (f) {
			waiter *next = claim_waker(ex);
			spin_unlock(&ex->lock);
			if (next)
				waiter_complete(next);
			future_run(f, true);
			polled = false;
			spins = 0;
			spin_lock(&ex->lock);
		} else if (!queue_empty(ex)) {
			/* A submitter between its push and its link: it runs again soon, or
			 * spin_step gives it this CPU. */
			spin_unlock(&ex->lock);
			spin_step(++spins);
			spin_lock(&ex->lock);
		} else if (atomic_load_explicit(&ex->tail, memory_order_relaxed) & CLOSED) {
			worker_exit(ex);
			return NULL;
		} else if (!polled && !atomic_load_explicit(&ex->searching, memory_order_relaxed)) {
			atomic_fetch_add_explicit(&ex->searching, 1, memory_order_relaxed);
			spin_unlock(&ex->lock);
			poll_queue(ex);
			polled = true;
			spin_lock(&ex->lock);
			/* seq_cst, then queue_empty's seq_cst load of tail: see the contract. */
			atomic_fetch_sub_explicit(&ex->searching, 1, memory_order_seq_cst);
		} else {
			/* seq_cst, then queue_empty's seq_cst load of tail: see the contract. */
			atomic_fetch_add_explicit(&ex->sleepers, 1, memory_order_seq_cst);
			if (queue_empty(ex)) {
				waiter w;
				waiter_init(&w);
				sched_busy(-1);
				waitlist_sleep(&ex->idle, &ex->lock, &w, DEADLINE_NONE);
				sched_busy(1);
				polled = false;
				spin_lock(&ex->lock);
				if (w.value != RF_NIL) /* claimed by claim_waker, not by shutdown */
					atomic_fetch_sub_explicit(&ex->searching, 1,
					                          memory_order_seq_cst);
			}
			atomic_fetch_sub_explicit(&ex->sleepers, 1, memory_order_relaxed);
		}
	}
}

/* Link n prepared futures into the queue, in order, and wake a worker if one is needed;
 * false if the queue is closed. */
static bool push_and_wake(struct rf_executor *ex, struct rf_future **fs, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		atomic_store_explicit(&fs[i]->next, fs[i + 1], memory_order_relaxed);
	atomic_store_explicit(&fs[n - 1]->next, NULL, memory_order_relaxed);
	if (!push(ex, fs[0], fs[n - 1], false))
		return false;
	/* seq_cst: after the push's CAS in the total order (the Dekker pairs). */
	if (!atomic_load_explicit(&ex->sleepers, memory_order_seq_cst) ||
	    atomic_load_explicit(&ex->searching, memory_order_seq_cst))
		return true;
	spin_lock(&ex->lock);
	waiter *w = claim_waker(ex);
	spin_unlock(&ex->lock);
	if (w)
		waiter_complete(w);
	return true;
}

/* Accept n prepared futures at once, in order, or none: 0 or RF_ESHUTDOWN. */
static int accept(struct rf_executor *ex, struct rf_future **fs, size_t n)
{
	if (!n) /* relaxed: nothing to publish, and a closed queue stays closed */
		return atomic_load_explicit(&ex->tail, memory_order_relaxed) & CLOSED ? RF_ESHUTDOWN
		                                                                      : 0;
	/* Once pushed, the tasks may run and end, and whoever waited for them may free the
	 * executor while this call still reads it: a read section keeps its memory, which
	 * rf_executor_free retires, until the call is over. */
	rf_reclaim_enter();
	bool pushed = push_and_wake(ex, fs, n);
	rf_reclaim_exit();
	return pushed ? 0 : RF_ESHUTDOWN;
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
	size_t size = sizeof(struct rf_executor) + (size_t)threads * sizeof(pthread_t);
	struct rf_executor *ex = aligned_alloc(64, (size + 63) & ~(size_t)63);
	if (!ex)
		return -ENOMEM;
	atomic_init(&ex->tail, (uintptr_t)&ex->stub);
	atomic_init(&ex->sleepers, 0);
	spin_init(&ex->lock, LOCKRANK_EXECUTOR);
	atomic_init(&ex->searching, 0);
	atomic_init(&ex->phase, RUNNING);
	ex->head = &ex->stub;
	atomic_init(&ex->stub.next, NULL);
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

/* The executor's memory, once no submit that accepted work can still read it (accept). */
static void free_executor(rf_val ex, rf_val ctx)
{
	(void)ctx;
	free(rf_to_ptr(ex));
}

void rf_executor_free(rf_executor *ex)
{
	if (!ex)
		return;
	rf_executor_shutdown(ex);
	for (int i = 0; i < ex->nthreads; i++)
		pthread_join(ex->threads[i], NULL);
	reclaim_retire_now_or_wait(rf_from_ptr(ex), free_executor, RF_NIL);
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

/* Lock held: close the queue, leave RUNNING and wake the idle workers (they exit once
 * the queue is empty). Returns the claimed idle waiters, to be completed after the
 * unlock. */
static waiter *begin_shutdown(struct rf_executor *ex)
{
	/* Relaxed: tail's modification order alone decides which pushes got in; workers
	 * read CLOSED under the lock. */
	atomic_fetch_or_explicit(&ex->tail, CLOSED, memory_order_relaxed);
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

/* Lock held, the queue closed: how many tasks it holds, or -1 while a submitter whose
 * push got in before CLOSED has yet to link it (the count would miss it). */
static long count_queued(struct rf_executor *ex)
{
	struct rf_future *last = node_of(atomic_load_explicit(&ex->tail, memory_order_acquire));
	long n = 0;
	for (struct rf_future *f = ex->head;; f = next_of(f)) {
		if (!f)
			return -1;
		n += f != &ex->stub;
		if (f == last)
			return n;
	}
}

int rf_executor_shutdown_now(rf_executor *ex, rf_task **out, size_t *n)
{
	if (!ex || !out || !n)
		return -EINVAL;
	spin_lock(&ex->lock);
	waiter *chain = begin_shutdown(ex);
	long cap;
	for (unsigned spins = 0; (cap = count_queued(ex)) < 0;) {
		spin_unlock(&ex->lock);
		spin_step(++spins);
		spin_lock(&ex->lock);
	}
	spin_unlock(&ex->lock);
	waitlist_complete_chain(chain, 0, RF_NIL);

	/* Every task is linked and no more can come: cap only shrinks (workers pop). */
	rf_task *tasks = NULL;
	if (cap && !(tasks = malloc((size_t)cap * sizeof(*tasks))))
		return -ENOMEM;
	/* The popped futures are ours now: chained through next, relaxed. */
	struct rf_future *taken = NULL, *last = NULL;
	spin_lock(&ex->lock);
	for (struct rf_future *f; (f = pop(ex)); last = f) {
		if (last)
			atomic_store_explicit(&last->next, f, memory_order_relaxed);
		else
			taken = f;
	}
	RF_ASSERT(queue_empty(ex));
	spin_unlock(&ex->lock);
	if (last)
		atomic_store_explicit(&last->next, NULL, memory_order_relaxed);
	size_t count = 0;
	for (struct rf_future *f = taken, *next; f; f = next) {
		next = atomic_load_explicit(&f->next, memory_order_relaxed);
		tasks[count].fn = f->fn;
		tasks[count].arg = f->arg;
		count++;
		future_drop_unrun(f, -ECANCELED);
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
