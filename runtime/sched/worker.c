/* runtime/sched/worker.c: one executor worker: its thread, inbox, run queue and loop.
 *
 * Inbox: a Treiber stack of fibers (intrusive through f->next). Any thread pushes with
 * a seq_cst CAS (its release half publishes the fiber's fields to the owner, its
 * seq_cst half orders the push before the pusher's load of `sleeping`); the owner takes
 * the whole stack with one acquire exchange (pairs with the pushers' CAS) and reverses
 * it to keep arrival order. No ABA: the owner never pops single items. A stopped worker
 * leaves INBOX_CLOSED there, and pushes fail.
 *
 * Sleeping (the contract of runtime/sched/poller.h): the owner stores sleeping = 1 (seq_cst),
 * loads the inbox (seq_cst) and sleeps in its poller only if it is empty; a pusher CASes
 * the inbox (seq_cst) and then loads sleeping (seq_cst), calling the poller's wake only if it
 * is 1. In the single total order of those four operations either the owner's load
 * follows the push (it sees the work) or the pusher's load follows the store (it wakes
 * the owner): no wake-up is lost, and a running worker costs a pusher no syscall. A
 * pusher that sees 1 exchanges it for 0 (seq_cst) and wakes only if it got the 1: of a
 * burst of pushers at one sleeping worker one makes the syscall. The others' pushes
 * precede their exchange, which follows the winner's; the owner, woken, drains the
 * inbox, and before it sleeps again stores 1 and loads the inbox: by the same total
 * order argument it either sees those pushes or a later pusher sees its 1.
 *
 * Waking and teardown: the poller a waker wakes must outlive the call, yet a
 * pusher may be preempted between reading `sleeping` and waking. A waker increments
 * `wakers` and then loads `closed`; the exiting owner stores `closed` and then waits for
 * `wakers` to drop to zero before destroying the poller (all four seq_cst: either the waker sees
 * closed and skips a wake nobody needs any more, or the owner sees it and waits). The
 * waker's release decrement pairs with the owner's acquire load.
 *
 * Run queue: a FIFO linked through f->next, owner only. Beside it the runnext slot (owner
 * only): a parked fiber that a fiber running on the same worker wakes (a channel hand-off,
 * a promise delivered, a lock passed on) goes there and runs as soon as the waker
 * switches out, while what it needs is still in this core's cache; the fiber it displaces
 * goes to the tail of the queue. Resumes from the scheduler's own context (I/O
 * completions, timers, shutdown) and from other threads go to the queue's tail. No
 * starvation: while the queue holds a fiber, at most RUNNEXT_MAX picks in a row come from
 * the slot; the next pick moves the slot's fiber behind the queue. Each fiber taken from
 * the queue restarts the count (it may wake another into the slot), so a fiber queued
 * behind n others runs within (n + 1) * (RUNNEXT_MAX + 1) picks however the others keep
 * waking each other; behind none, within RUNNEXT_MAX + 1.
 */
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "runtime/base/assert.h"
#include "runtime/base/lockrank.h"
#include "runtime/base/probe.h"
#include "runtime/base/spin.h"
#include "runtime/sched/fiber.h"

#ifdef RF_TSAN
void *__tsan_get_current_fiber(void);
#endif

#define POLL_EVERY 256            /* fibers run between two non-blocking I/O polls */
#define TRIM_WINDOW_NS 500000000u /* stacks unused this long are unmapped */
#define TRIM_PERIOD_NS 10000000u  /* idle: trim batches this far apart */
#define IDLE_SPIN_NS 10000u       /* idle: watch for work this long before sleeping */
#define IDLE_PROBE_EVERY 32       /* after a failed spin: idles that sleep at once */
#define IDLE_PROBE_NS 50000u      /* then one spin this long, to outlast a peer's wake-up */

static void wake(sched_worker *w)
{
	atomic_fetch_add_explicit(&w->wakers, 1, memory_order_seq_cst);
	if (!atomic_load_explicit(&w->closed, memory_order_seq_cst))
		sched_poller->wake(w->poller);
	atomic_fetch_sub_explicit(&w->wakers, 1, memory_order_release);
}

void worker_poke(sched_worker *w)
{
	if (atomic_exchange_explicit(&w->sleeping, 0, memory_order_seq_cst))
		wake(w);
}

bool worker_inbox_push(sched_worker *w, sched_fiber *f)
{
	sched_fiber *head = atomic_load_explicit(&w->inbox, memory_order_relaxed);
	do {
		if (head == INBOX_CLOSED)
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
static void inbox_drain(sched_worker *w)
{
	if (!atomic_load_explicit(&w->inbox, memory_order_relaxed))
		return;
	sched_fiber *list = atomic_exchange_explicit(&w->inbox, NULL, memory_order_acquire);
	sched_fiber *rev = NULL;
	while (list) {
		sched_fiber *next = list->next;
		list->next = rev;
		rev = list;
		list = next;
	}
	while (rev) {
		sched_fiber *next = rev->next;
		if (rev->state == FIBER_NEW) {
			/* One at a time: a batch subtracted at the end counted every fiber of
			 * the batch twice meanwhile (nlive and incoming), and placement, reading
			 * the load, kept fibers on a spawner that carried more. */
			fiber_adopt(w, rev);
			atomic_fetch_sub_explicit(&w->incoming, 1, memory_order_relaxed);
		}
		rev->state = FIBER_READY;
		worker_rq_push(w, rev);
		rev = next;
	}
}

static void fire_timers(sched_worker *w)
{
	uint64_t now = time_now_ns();
	sched_fiber *f;
	while ((f = timer_pop_expired(w, now)))
		if (!f->on_timeout || f->on_timeout(f->park_arg)) {
			f->state = FIBER_READY;
			worker_rq_push(w, f);
		}
}

/* Shutdown: end the wait of every parked fiber that can be ended (on_cancel), and ask
 * the backend to end its in-flight requests, so that every fiber returns. A fiber whose
 * wait was claimed, or is firm, is resumed by its completion as usual. */
static void cancel_parked(sched_worker *w)
{
	for (sched_fiber *f = w->all; f; f = f->all_next) {
		if (f->state != FIBER_PARKED || !f->on_cancel || !f->on_cancel(f->park_arg))
			continue;
		if (f->armed)
			timer_remove(w, f);
		f->state = FIBER_READY;
		worker_rq_push(w, f);
	}
	if (sched_poller->cancel)
		sched_poller->cancel(w->poller);
}

/* Stopping and nothing left (no live fiber, none ready): close the inbox if it is empty,
 * so that later spawns fail instead of being lost. False if work arrived meanwhile. */
static bool try_close(sched_worker *w)
{
	RF_ASSERT(!w->runnext || w->all); /* a fiber in the slot is live */
	if (w->all || w->rq_head)
		return false;
	sched_fiber *empty = NULL;
	return atomic_compare_exchange_strong_explicit(&w->inbox, &empty, INBOX_CLOSED,
	                                               memory_order_acquire, memory_order_relaxed);
}

static void poll_io(sched_worker *w, uint64_t deadline)
{
	int n = sched_poller->poll(w->poller, deadline);
	if (n > 0)
		sched_count(&w->st_io, (uint64_t)n);
}

/* Before sleeping, watch the inbox, and the backend's completions where it can tell of
 * them without a syscall, for a short while: work that arrives in that window (the other
 * half of a ping-pong, a reply, a request's data) costs neither side a syscall. True if
 * some arrived. Bounded (IDLE_SPIN_NS) so an idle worker leaves its CPU to others; no
 * sched_yield in the loop: on a busy server every request would pay a few. */
static bool spin_once(sched_worker *w, uint64_t ns)
{
	uint64_t until = time_now_ns() + ns;
	do {
		for (int i = 0; i < 64; i++) {
			if (atomic_load_explicit(&w->inbox, memory_order_relaxed))
				return true;
			cpu_relax();
		}
		if (sched_poller->pending && sched_poller->pending(w->poller)) {
			poll_io(w, 0);
			if (worker_has_ready(w))
				return true;
		}
	} while (time_now_ns() < until);
	return false;
}

/* A spin that fails burned a CPU others needed: when the machine is loaded, or the
 * sender of the awaited work (a client, another process) shares this worker's CPU, spins
 * fail, and each one delays that very sender. After a failure the worker sleeps at once,
 * spinning again only every IDLE_PROBE_EVERY idles to find out whether it pays again; a
 * spin that succeeds keeps it on (the policy of plain threads' waits, wait.c). The probe
 * is longer than a spin: a peer worker that stopped spinning too answers only after its
 * own wake-up, and a probe shorter than that would keep both asleep at every exchange. */
static bool spin_for_work(sched_worker *w)
{
	if (w->spin_off && ++w->spin_skipped < IDLE_PROBE_EVERY)
		return false;
	w->spin_skipped = 0;
	w->spin_off = !spin_once(w, w->spin_off ? IDLE_PROBE_NS : IDLE_SPIN_NS);
	return !w->spin_off;
}

/* Stack pools are trimmed by windows (stack.c): a window opens when the worker idles
 * with more pooled stacks than it keeps, and TRIM_WINDOW_NS later whatever none of the
 * window's spawns needed is unmapped, a batch every TRIM_PERIOD_NS; then the next
 * window opens if surplus remains. Returns when the worker should wake next for this
 * (DEADLINE_NONE: nothing to trim). */
static uint64_t trim_time(sched_worker *w)
{
	uint64_t now = time_now_ns();
	if (w->trim_at && now >= w->trim_at) {
		if (stack_trim(w))
			return w->trim_at = now + TRIM_PERIOD_NS;
		w->trim_at = 0;
	}
	if (!w->trim_at) {
		if (!stack_mark(w))
			return DEADLINE_NONE;
		w->trim_at = now + TRIM_WINDOW_NS;
	}
	return w->trim_at;
}

/* Nothing ran: sleep in the backend until work, a wake-up or the next deadline. */
static void sleep_for_work(sched_worker *w)
{
	RF_ASSERT(!w->runnext); /* worker_pick takes the slot before the queue */
	/* Submit what the fibers just queued and reap what is ready, before spinning: a
	 * backend that queues requests (one that can tell of completions, io_uring)
	 * submits them only from poll. Only if there is any: an idle worker that enters
	 * the kernel for nothing pays a syscall at every hand-off between workers. A
	 * readiness backend has nothing queued: its events wait for the sleeping poll
	 * below, which returns at once if some are ready. */
	if (sched_poller->pending && sched_poller->pending(w->poller)) {
		poll_io(w, 0);
		if (worker_has_ready(w))
			return;
	}
	w->backlog_since = 0;
	place_hungry(w, true); /* a busy peer may hand over part of its backlog (place.c) */
	if (spin_for_work(w))
		return;
	uint64_t deadline = w->timers ? w->timers->deadline : DEADLINE_NONE;
	uint64_t trim_at = trim_time(w);
	if (trim_at != DEADLINE_NONE)
		deadline = trim_at < deadline ? trim_at : deadline;
	atomic_store_explicit(&w->sleeping, 1, memory_order_seq_cst);
	if (atomic_load_explicit(&w->inbox, memory_order_seq_cst) ||
	    atomic_load_explicit(&w->stop, memory_order_seq_cst) != w->stop_seen) {
		atomic_store_explicit(&w->sleeping, 0, memory_order_relaxed);
		return;
	}
	PROBE(worker_sleep, w->index, deadline);
	poll_io(w, deadline);
	atomic_store_explicit(&w->sleeping, 0, memory_order_relaxed);
	sched_count(&w->st_wakeups, 1);
	PROBE(worker_wake, w->index);
}

static void idle(sched_worker *w)
{
	uint64_t t0 = time_now_ns();
	sleep_for_work(w);
	sched_count(&w->st_idle_ns, time_now_ns() - t0);
}

/* Runs until stopped and every fiber it had has returned (see lifecycle.c). */
static void loop(sched_worker *w)
{
	for (;;) {
		int stop = atomic_load_explicit(&w->stop, memory_order_relaxed);
		if (stop != w->stop_seen) {
			w->stop_seen = stop;
			if (stop == STOP_CANCEL)
				cancel_parked(w);
		}
		if (stop && try_close(w))
			return;
		/* acquire: pairs with the requester's release increment (dump.c) */
		if (atomic_load_explicit(&sched_dump_seq, memory_order_acquire) !=
		    atomic_load_explicit(&w->dump_served, memory_order_relaxed))
			dump_serve(w);
		inbox_drain(w);
		if (w->timers)
			fire_timers(w);
		/* A backlog counts from a round that saw a hungry peer. */
		if (w->rq_head && w->rq_head->next && place_peer_hungry(w))
			place_donate(w);
		else
			w->backlog_since = 0;
		sched_fiber *f = worker_pick(w);
		if (!f) {
			w->since_poll = 0;
			idle(w);
			continue;
		}
		if (w->is_hungry)
			place_hungry(w, false);
		fiber_run(w, f);
		if (++w->since_poll >= POLL_EVERY) {
			w->since_poll = 0;
			poll_io(w, 0);
		}
	}
}

/* Owner, after the loop: the inbox is closed and every fiber returned. */
static void release_all(sched_worker *w)
{
	w->rq_head = w->rq_tail = w->runnext = NULL;
	w->timers = NULL;
	place_hungry(w, false);
	stack_drain(w);
}

static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t start_cond = PTHREAD_COND_INITIALIZER;

static void report_started(sched_worker *w, int rc)
{
	mutex_lock_ranked(&start_lock, LOCKRANK_SCHED_START);
	w->start_rc = rc;
	pthread_cond_broadcast(&start_cond);
	mutex_unlock_ranked(&start_lock, LOCKRANK_SCHED_START);
}

static void *worker_main(void *arg)
{
	sched_worker *w = arg;
	char name[16];
	snprintf(name, sizeof(name), "rf-worker-%d", w->index);
	pthread_setname_np(pthread_self(), name);
	int rc = topo_pin_self(w->cpu);
	if (!rc)
		rc = guard_thread_init(w);
	if (!rc && (rc = sched_poller->create(&w->poller, w->index)) < 0)
		guard_thread_fini(w);
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
	sched_tls_worker = w;
	report_started(w, 0);
	loop(w);
	release_all(w);
	sched_tls_worker = NULL;
	atomic_store_explicit(&w->closed, 1, memory_order_seq_cst);
	while (atomic_load_explicit(&w->wakers, memory_order_seq_cst))
		sched_yield();
	sched_poller->destroy(w->poller);
	w->poller = NULL;
	guard_thread_fini(w);
	mutex_lock_ranked(&start_lock, LOCKRANK_SCHED_START);
	w->exited = true;
	pthread_cond_broadcast(&start_cond);
	mutex_unlock_ranked(&start_lock, LOCKRANK_SCHED_START);
	return NULL;
}

int worker_start(sched_worker *w)
{
	atomic_store_explicit(&w->inbox, NULL, memory_order_relaxed);
	atomic_store_explicit(&w->sleeping, 0, memory_order_relaxed);
	atomic_store_explicit(&w->stop, 0, memory_order_relaxed);
	atomic_store_explicit(&w->closed, 0, memory_order_relaxed);
	atomic_store_explicit(&w->wakers, 0, memory_order_relaxed);
	atomic_store_explicit(&w->nlive, 0, memory_order_relaxed);
	atomic_store_explicit(&w->incoming, 0, memory_order_relaxed);
	w->backlog_since = 0;
	w->runnext = NULL;
	w->runnext_run = 0;
	w->is_hungry = false;
	w->trim_at = 0;
	w->spin_off = false;
	w->spin_skipped = 0;
	w->stop_seen = STOP_NONE;
	w->exited = false;
	w->start_rc = 1; /* 1 = still starting */
	int rc = -pthread_create(&w->thread, NULL, worker_main, w);
	if (rc)
		return rc;
	mutex_lock_ranked(&start_lock, LOCKRANK_SCHED_START);
	while (w->start_rc == 1)
		pthread_cond_wait(&start_cond, &start_lock);
	rc = w->start_rc;
	mutex_unlock_ranked(&start_lock, LOCKRANK_SCHED_START);
	if (rc)
		pthread_join(w->thread, NULL);
	return rc;
}

void worker_stop(sched_worker *w, int level)
{
	atomic_store_explicit(&w->stop, level, memory_order_seq_cst);
	wake(w);
}

bool worker_await(sched_worker *w, uint64_t deadline_ns)
{
	struct timespec ts = {(time_t)(deadline_ns / 1000000000u),
	                      (long)(deadline_ns % 1000000000u)};
	mutex_lock_ranked(&start_lock, LOCKRANK_SCHED_START);
	while (!w->exited &&
	       pthread_cond_clockwait(&start_cond, &start_lock, CLOCK_MONOTONIC, &ts) != ETIMEDOUT)
		;
	bool exited = w->exited;
	mutex_unlock_ranked(&start_lock, LOCKRANK_SCHED_START);
	return exited;
}

void worker_join(sched_worker *w)
{
	pthread_join(w->thread, NULL);
}

void worker_forget(sched_worker *w)
{
	bool self = w == sched_tls_worker;
	sched_fiber *keep = self ? atomic_load_explicit(&w->running, memory_order_relaxed) : NULL;
	/* The fork child's only thread owns every worker while it forgets them. */
	sched_worker *was = sched_tls_worker;
	sched_tls_worker = w;
	pthread_mutex_init(&w->spare_lock, NULL);
	sched_fiber *list = atomic_exchange_explicit(&w->inbox, NULL, memory_order_relaxed);
	for (sched_fiber *next; list && list != INBOX_CLOSED; list = next) {
		next = list->next;
		if (list->state == FIBER_NEW) /* never adopted: not on the live list */
			stack_put(w, list, false);
	}
	while (w->all) {
		sched_fiber *f = w->all;
		w->all = f->all_next;
		if (f != keep) /* the parent's fibers: their stacks are private copies here */
			stack_put(w, f, false);
	}
	w->rq_head = w->rq_tail = w->runnext = NULL;
	w->timers = NULL;
	atomic_store_explicit(&w->running, NULL, memory_order_relaxed);
	stack_drain(w);
	if (w->poller)
		sched_poller->destroy(w->poller); /* closes the child's copies of its fds */
	w->poller = NULL;
	if (self)
		guard_thread_fini(w);
	else
		guard_forget(w);
	atomic_store_explicit(&w->closed, 0, memory_order_relaxed);
	atomic_store_explicit(&w->wakers, 0, memory_order_relaxed);
	sched_tls_worker = was;
}

void worker_fork_child(void)
{
	pthread_mutex_init(&start_lock, NULL);
	pthread_cond_init(&start_cond, NULL);
}
