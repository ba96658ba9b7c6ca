/* runtime/sched/worker.c: one executor worker: its thread, inbox, run queue and loop.
 *
 * Inbox: a Treiber stack of fibers (intrusive through f->next). Any thread pushes with
 * a seq_cst CAS (its release half publishes the fiber's fields to the owner, its
 * seq_cst half orders the push before the pusher's load of `sleeping`); the owner takes
 * the whole stack with one acquire exchange (pairs with the pushers' CAS) and reverses
 * it to keep arrival order. No ABA: the owner never pops single items. A stopped worker
 * leaves RF_INBOX_CLOSED there, and pushes fail.
 *
 * Sleeping (the contract of io/backend.h): the owner stores sleeping = 1 (seq_cst),
 * loads the inbox (seq_cst) and sleeps in rf_io_poll only if it is empty; a pusher CASes
 * the inbox (seq_cst) and then loads sleeping (seq_cst), calling rf_io_wake only if it
 * is 1. In the single total order of those four operations either the owner's load
 * follows the push (it sees the work) or the pusher's load follows the store (it wakes
 * the owner): no wake-up is lost, and a running worker costs a pusher no syscall. A
 * pusher that sees 1 exchanges it for 0 (seq_cst) and wakes only if it got the 1: of a
 * burst of pushers at one sleeping worker one makes the syscall. The others' pushes
 * precede their exchange, which follows the winner's; the owner, woken, drains the
 * inbox, and before it sleeps again stores 1 and loads the inbox: by the same total
 * order argument it either sees those pushes or a later pusher sees its 1.
 *
 * Waking and teardown: the io a waker calls rf_io_wake on must outlive the call, yet a
 * pusher may be preempted between reading `sleeping` and waking. A waker increments
 * `wakers` and then loads `closed`; the exiting owner stores `closed` and then waits for
 * `wakers` to drop to zero before destroying io (all four seq_cst: either the waker sees
 * closed and skips a wake nobody needs any more, or the owner sees it and waits). The
 * waker's release decrement pairs with the owner's acquire load.
 *
 * Run queue: a FIFO linked through f->next, owner only.
 */
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "runtime/sched/fiber.h"
#include "runtime/spin.h"

#ifdef RF_TSAN
void *__tsan_get_current_fiber(void);
#endif

#define RF_POLL_EVERY 256            /* fibers run between two non-blocking I/O polls */
#define RF_TRIM_WINDOW_NS 500000000u /* stacks unused this long are unmapped */
#define RF_TRIM_PERIOD_NS 10000000u  /* idle: trim batches this far apart */
#define RF_IDLE_SPIN_NS 20000u       /* idle: watch the inbox this long before sleeping */

void rf_rq_push(rf_worker *w, rf_fiber *f)
{
	f->next = NULL;
	if (w->rq_tail)
		w->rq_tail->next = f;
	else
		w->rq_head = f;
	w->rq_tail = f;
}

rf_fiber *rf_rq_pop(rf_worker *w)
{
	rf_fiber *f = w->rq_head;
	if (f && !(w->rq_head = f->next))
		w->rq_tail = NULL;
	return f;
}

static void wake(rf_worker *w)
{
	atomic_fetch_add_explicit(&w->wakers, 1, memory_order_seq_cst);
	if (!atomic_load_explicit(&w->closed, memory_order_seq_cst))
		rf_io_wake(w->io);
	atomic_fetch_sub_explicit(&w->wakers, 1, memory_order_release);
}

bool rf_inbox_push(rf_worker *w, rf_fiber *f)
{
	rf_fiber *head = atomic_load_explicit(&w->inbox, memory_order_relaxed);
	do {
		if (head == RF_INBOX_CLOSED)
			return false;
		f->next = head;
	} while (!atomic_compare_exchange_weak_explicit(&w->inbox, &head, f, memory_order_seq_cst,
	                                                memory_order_relaxed));
	/* The load keeps a running worker's line shared; the exchange lets one pusher of a
	 * burst wake a sleeping worker, the others see 0 and skip the syscall. */
	if (atomic_load_explicit(&w->sleeping, memory_order_seq_cst) &&
	    atomic_exchange_explicit(&w->sleeping, 0, memory_order_seq_cst))
		wake(w);
	return true;
}

/* Owner: move everything in the inbox to the run queue, in arrival order. */
static void inbox_drain(rf_worker *w)
{
	if (!atomic_load_explicit(&w->inbox, memory_order_relaxed))
		return;
	rf_fiber *list = atomic_exchange_explicit(&w->inbox, NULL, memory_order_acquire);
	rf_fiber *rev = NULL;
	while (list) {
		rf_fiber *next = list->next;
		list->next = rev;
		rev = list;
		list = next;
	}
	while (rev) {
		rf_fiber *next = rev->next;
		if (rev->state == RF_FIBER_NEW)
			rf_fiber_adopt(w, rev);
		rev->state = RF_FIBER_READY;
		rf_rq_push(w, rev);
		rev = next;
	}
}

static void fire_timers(rf_worker *w)
{
	uint64_t now = rf_now_ns();
	rf_fiber *f;
	while ((f = rf_timer_pop_expired(w, now)))
		if (!f->on_timeout || f->on_timeout(f->park_arg))
			rf_rq_push(w, f);
}

static void io_poll(rf_worker *w, uint64_t deadline)
{
	int n = rf_io_poll(w->io, deadline);
	if (n > 0)
		rf_count(&w->st_io, (uint64_t)n);
}

/* Nothing to run: sleep in the backend until work, a wake-up or the next deadline. */
/* Before sleeping, watch the inbox for a short while: work that arrives in that window
 * (the other half of a ping-pong, a reply) costs neither side a syscall. True if some
 * arrived. Bounded (RF_IDLE_SPIN_NS) so an idle worker leaves its CPU to others, and
 * yielding between rounds: the thread that would send the work may be waiting for this
 * very CPU (a plain thread spawning a burst onto a machine with as many workers as
 * CPUs), and spinning in its way would cost it the whole window per item. */
static bool spin_for_work(rf_worker *w)
{
	uint64_t until = rf_now_ns() + RF_IDLE_SPIN_NS;
	do {
		for (int i = 0; i < 64; i++) {
			if (atomic_load_explicit(&w->inbox, memory_order_relaxed))
				return true;
			rf_cpu_relax();
		}
		sched_yield();
	} while (rf_now_ns() < until);
	return false;
}

/* Stack pools are trimmed by windows (stack.c): a window opens when the worker idles
 * with more pooled stacks than it keeps, and RF_TRIM_WINDOW_NS later whatever none of the
 * window's spawns needed is unmapped, a batch every RF_TRIM_PERIOD_NS; then the next
 * window opens if surplus remains. Returns when the worker should wake next for this
 * (RF_NO_DEADLINE: nothing to trim). */
static uint64_t trim_time(rf_worker *w)
{
	uint64_t now = rf_now_ns();
	if (w->trim_at && now >= w->trim_at) {
		if (rf_stack_trim(w))
			return w->trim_at = now + RF_TRIM_PERIOD_NS;
		w->trim_at = 0;
	}
	if (!w->trim_at) {
		if (!rf_stack_mark(w))
			return RF_NO_DEADLINE;
		w->trim_at = now + RF_TRIM_WINDOW_NS;
	}
	return w->trim_at;
}

static void idle(rf_worker *w)
{
	/* Submit what the fibers just queued and reap what is ready, before spinning: the
	 * backend submits requests only from rf_io_poll (io/backend.h). */
	io_poll(w, 0);
	if (w->rq_head || spin_for_work(w))
		return;
	uint64_t deadline = w->timers ? w->timers->deadline : RF_NO_DEADLINE;
	uint64_t trim_at = trim_time(w);
	if (trim_at != RF_NO_DEADLINE)
		deadline = trim_at < deadline ? trim_at : deadline;
	atomic_store_explicit(&w->sleeping, 1, memory_order_seq_cst);
	if (atomic_load_explicit(&w->inbox, memory_order_seq_cst) ||
	    atomic_load_explicit(&w->stop, memory_order_seq_cst)) {
		atomic_store_explicit(&w->sleeping, 0, memory_order_relaxed);
		return;
	}
	io_poll(w, deadline);
	atomic_store_explicit(&w->sleeping, 0, memory_order_relaxed);
	rf_count(&w->st_wakeups, 1);
}

static void loop(rf_worker *w)
{
	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		inbox_drain(w);
		if (w->timers)
			fire_timers(w);
		rf_fiber *f = rf_rq_pop(w);
		if (!f) {
			w->since_poll = 0;
			idle(w);
			continue;
		}
		rf_fiber_run(w, f);
		if (++w->since_poll >= RF_POLL_EVERY) {
			w->since_poll = 0;
			io_poll(w, 0);
		}
	}
}

/* Owner, after the loop: close the inbox and abandon every fiber still alive. */
static void abandon_all(rf_worker *w)
{
	rf_fiber *list = atomic_exchange_explicit(&w->inbox, RF_INBOX_CLOSED, memory_order_acquire);
	while (list) {
		rf_fiber *next = list->next;
		if (list->state == RF_FIBER_NEW) /* never adopted: not on the live list */
			rf_fiber_discard(w, list);
		list = next;
	}
	while (w->all)
		rf_fiber_discard(w, w->all);
	w->rq_head = w->rq_tail = NULL;
	w->timers = NULL;
	rf_stack_drain(w);
}

static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t start_cond = PTHREAD_COND_INITIALIZER;

static void report_started(rf_worker *w, int rc)
{
	pthread_mutex_lock(&start_lock);
	w->start_rc = rc;
	pthread_cond_broadcast(&start_cond);
	pthread_mutex_unlock(&start_lock);
}

static void *worker_main(void *arg)
{
	rf_worker *w = arg;
	int rc = rf_pin_self_to_cpu(w->cpu);
	if (!rc)
		rc = rf_guard_thread_init(w);
	if (!rc && (rc = rf_io_create(&w->io, w->index)) < 0)
		rf_guard_thread_fini(w);
	if (rc) {
		report_started(w, rc);
		return NULL;
	}
#ifdef RF_TSAN
	w->tsan_sched = __tsan_get_current_fiber();
#endif
#ifdef RF_ASAN
	pthread_attr_t attr;
	pthread_getattr_np(pthread_self(), &attr);
	pthread_attr_getstack(&attr, &w->sched_stack_lo, &w->sched_stack_size);
	pthread_attr_destroy(&attr);
#endif
	rf_tls_worker = w;
	report_started(w, 0);
	loop(w);
	abandon_all(w);
	rf_tls_worker = NULL;
	atomic_store_explicit(&w->closed, 1, memory_order_seq_cst);
	while (atomic_load_explicit(&w->wakers, memory_order_seq_cst))
		sched_yield();
	rf_io_destroy(w->io);
	w->io = NULL;
	rf_guard_thread_fini(w);
	return NULL;
}

int rf_worker_start(rf_worker *w)
{
	atomic_store_explicit(&w->inbox, NULL, memory_order_relaxed);
	atomic_store_explicit(&w->sleeping, 0, memory_order_relaxed);
	atomic_store_explicit(&w->stop, 0, memory_order_relaxed);
	atomic_store_explicit(&w->closed, 0, memory_order_relaxed);
	atomic_store_explicit(&w->wakers, 0, memory_order_relaxed);
	w->trim_at = 0;
	w->start_rc = 1; /* 1 = still starting */
	int rc = -pthread_create(&w->thread, NULL, worker_main, w);
	if (rc)
		return rc;
	pthread_mutex_lock(&start_lock);
	while (w->start_rc == 1)
		pthread_cond_wait(&start_cond, &start_lock);
	rc = w->start_rc;
	pthread_mutex_unlock(&start_lock);
	if (rc)
		pthread_join(w->thread, NULL);
	return rc;
}

void rf_worker_stop(rf_worker *w)
{
	atomic_store_explicit(&w->stop, 1, memory_order_seq_cst);
	wake(w);
	pthread_join(w->thread, NULL);
}
