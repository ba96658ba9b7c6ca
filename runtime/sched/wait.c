/* runtime/sched/wait.c: waiting and completing (runtime/sched/wait.h) on fibers and threads.
 *
 * State transitions (stage | PARKED flag), each a single atomic operation:
 *   waiting side:  PENDING|CLAIMED -> same|PARKED      (commit to sleep)
 *                  PENDING(|PARKED) -> TIMEDOUT        (deadline passed)
 *   its worker:    PENDING(|PARKED) -> CANCELLED       (shutdown; fibers, not firm)
 *   claimer:       PENDING(|PARKED) -> CLAIMED(|PARKED)
 *   completer:     anything -> DONE (exchange); wakes the sleeper if PARKED was set.
 * Orders: the completer's exchange is a release that pairs with the acquire load of the
 * waiting side, publishing value/result; claim is acq_rel so that a claimer that reads
 * operation fields set up before the waiter was listed sees them.
 */
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "runtime/sched/fiber.h"

static uint32_t stage(uint32_t s)
{
	return s & WAITER_STAGE;
}

void waiter_init(waiter *w)
{
	atomic_init(&w->state, WAITER_PENDING);
	w->fiber = fiber_self();
	w->link[0] = w->link[1] = NULL;
	w->op = NULL;
	w->value = RF_NIL;
	w->result = 0;
	w->firm = false;
}

static long futex(_Atomic uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, (uint32_t *)addr, op, val, ts, NULL, FUTEX_BITSET_MATCH_ANY);
}

void waiter_complete(waiter *w)
{
	struct sched_fiber *fiber = w->fiber; /* read before DONE frees the waiter's stack */
	uint32_t old = atomic_exchange_explicit(&w->state, WAITER_DONE, memory_order_release);
	if (!(old & WAITER_PARKED))
		return;
	if (fiber)
		fiber_resume(fiber);
	else
		futex(&w->state, FUTEX_WAKE_PRIVATE, 1, NULL);
}

/* Waiting side, either kind: set PARKED if still waiting. False if already DONE. */
static bool commit_park(void *arg)
{
	waiter *w = arg;
	uint32_t s = atomic_load_explicit(&w->state, memory_order_relaxed);
	while (stage(s) == WAITER_PENDING || stage(s) == WAITER_CLAIMED) {
		if (s & WAITER_PARKED)
			return true;
		if (atomic_compare_exchange_weak_explicit(&w->state, &s, s | WAITER_PARKED,
		                                          memory_order_acq_rel,
		                                          memory_order_relaxed))
			return true;
	}
	return false;
}

/* Deadline passed: end the wait unless a claimer got there first. */
static bool try_timeout(void *arg)
{
	waiter *w = arg;
	uint32_t s = atomic_load_explicit(&w->state, memory_order_relaxed);
	while (stage(s) == WAITER_PENDING) {
		if (atomic_compare_exchange_weak_explicit(
		        &w->state, &s, WAITER_TIMEDOUT, memory_order_acq_rel, memory_order_relaxed))
			return true;
	}
	return false;
}

/* Shutdown: end the wait unless a claimer got there first (its completion is due). Run
 * by the fiber's own worker, on the fiber (waiter_wait) or while it is parked. */
static bool try_cancel(void *arg)
{
	waiter *w = arg;
	uint32_t s = atomic_load_explicit(&w->state, memory_order_relaxed);
	while (stage(s) == WAITER_PENDING) {
		if (atomic_compare_exchange_weak_explicit(&w->state, &s, WAITER_CANCELLED,
		                                          memory_order_acq_rel,
		                                          memory_order_relaxed))
			return true;
	}
	return false;
}

static int finished(waiter *w)
{
	uint32_t s = atomic_load_explicit(&w->state, memory_order_acquire);
	if (stage(s) == WAITER_DONE)
		return 0;
	if (stage(s) == WAITER_TIMEDOUT)
		return -ETIMEDOUT;
	if (stage(s) == WAITER_CANCELLED)
		return RF_ESHUTDOWN;
	return 1;
}

/* A plain thread spins before it sleeps: most completions between threads come within a
 * few microseconds, and a futex sleep and wake costs more than that. The budget adapts per
 * thread: a spin that ends in completion keeps it at SPIN_MAX_NS, one that fails spends it:
 * a loaded machine makes spins fail (the completer is not running, or needs the CPU we spin
 * on), so the thread then sleeps at once and only probes again, with the whole budget,
 * every SPIN_PROBE_EVERY waits. The whole budget: a peer that sleeps answers only after its
 * futex wake, and a probe must outlast that to find out that spinning pays again. */
#define SPIN_MAX_NS 8000u
#define SPIN_PROBE_EVERY 64u
static _Thread_local uint32_t spin_budget_ns = SPIN_MAX_NS;
static _Thread_local uint32_t spin_skipped;

/* True if the wait ended while spinning (a claimed waiter is about to: keep spinning). */
static bool thread_spin(waiter *w, uint64_t deadline_ns)
{
	uint32_t budget = spin_budget_ns;
	if (!budget) {
		if (++spin_skipped < SPIN_PROBE_EVERY)
			return false;
		spin_skipped = 0;
		budget = SPIN_MAX_NS;
	}
	uint64_t now = time_now_ns(), end = now + budget;
	if (end > deadline_ns)
		end = deadline_ns;
	for (;;) {
		for (int i = 0; i < 64; i++) {
			/* Relaxed: the caller's finished() is the acquire that reads the result. */
			uint32_t st = stage(atomic_load_explicit(&w->state, memory_order_relaxed));
			if (st != WAITER_PENDING && st != WAITER_CLAIMED) {
				spin_budget_ns = SPIN_MAX_NS;
				return true;
			}
			cpu_relax();
		}
		if (time_now_ns() >= end)
			break;
	}
	spin_budget_ns = 0;
	return false;
}

static void thread_wait(waiter *w, uint64_t deadline_ns)
{
	if (thread_spin(w, deadline_ns))
		return;
	struct timespec ts, *tsp = NULL;
	if (deadline_ns != DEADLINE_NONE) {
		ts.tv_sec = (time_t)(deadline_ns / 1000000000u);
		ts.tv_nsec = (long)(deadline_ns % 1000000000u);
		tsp = &ts;
	}
	if (deadline_ns == DEADLINE_NONE)
		dump_thread_blocked(1);
	while (finished(w) > 0) {
		if (!commit_park(w))
			continue;
		uint32_t s = atomic_load_explicit(&w->state, memory_order_relaxed);
		if (!(s & WAITER_PARKED))
			continue;
		/* Absolute CLOCK_MONOTONIC timeout: FUTEX_WAIT_BITSET without CLOCK_REALTIME. */
		long rc = futex(&w->state, FUTEX_WAIT_BITSET_PRIVATE, s, tsp);
		if (rc < 0 && errno == ETIMEDOUT)
			try_timeout(w);
	}
	if (deadline_ns == DEADLINE_NONE)
		dump_thread_blocked(-1);
}

int waiter_wait(waiter *w, uint64_t deadline_ns)
{
	int rc;
	while ((rc = finished(w)) > 0) {
		if (deadline_ns != DEADLINE_NONE && time_now_ns() >= deadline_ns && try_timeout(w))
			return -ETIMEDOUT;
		if (!w->fiber) {
			thread_wait(w, deadline_ns);
			continue;
		}
		/* A fiber that waits again while its worker unwinds is not parked at all. */
		if (!w->firm && sched_cancelling() && try_cancel(w))
			return RF_ESHUTDOWN;
		fiber_park(commit_park, try_timeout, w->firm ? NULL : try_cancel, w, deadline_ns);
	}
	return rc;
}

static bool always(void *arg)
{
	return true;
}

int sched_sleep_until(uint64_t deadline_ns)
{
	if (fiber_self()) {
		fiber_wait_on(WAIT_TIMER, NULL);
		while (time_now_ns() < deadline_ns) {
			if (sched_cancelling())
				return RF_ESHUTDOWN;
			/* parked alone: only the timer or the shutdown resumes it */
			fiber_park(always, always, always, NULL, deadline_ns);
		}
		return 0;
	}
	struct timespec ts = {(time_t)(deadline_ns / 1000000000u),
	                      (long)(deadline_ns % 1000000000u)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
	return 0;
}
