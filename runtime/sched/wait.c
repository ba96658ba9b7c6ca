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
#include <sched.h>
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
 * few microseconds, and a futex sleep and wake costs more than that (tens of µs when the
 * sleeper's CPU has gone idle in a VM). Per thread, three signals decide:
 *  - partner_cpu, the CPU the thread's last completer ran on (waiter_complete records it
 *    in the waiter). A thread that is on that CPU now sleeps at once: its partner, when
 *    it is the completer again, cannot run there while it spins (two threads the kernel
 *    put on one CPU, where each spin burned the other's time slice), and a futex
 *    hand-off is the fastest one CPU allows.
 *  - spin_off: a spin that fails turns spinning off (the machine is loaded, the completer
 *    is preempted or slow), and the thread then sleeps at once and probes again only
 *    every SPIN_PROBE_EVERY waits, for SPIN_PROBE_NS: long enough to outlast a sleeping
 *    peer's wake-up, which answers only after it. A spin that succeeds turns it on.
 *  - a thread that completes another thread's waiter and finds it awake (not parked)
 *    turns its own spinning on (waiter_complete): that partner runs on some CPU now and
 *    is likely to answer fast; waiting for the two sides' probes to coincide would keep
 *    a pair of threads that both stopped spinning asleep at every exchange. */
#define SPIN_NS 8000u
#define SPIN_PROBE_NS 50000u
#define SPIN_PROBE_EVERY 64u
static _Thread_local bool spin_off;
static _Thread_local uint32_t spin_skipped;
static _Thread_local int partner_cpu = -1;

void waiter_complete(waiter *w)
{
	struct sched_fiber *fiber = w->fiber; /* read before DONE frees the waiter's stack */
	if (!fiber)
		w->waker_cpu = sched_getcpu(); /* published by the release exchange */
	uint32_t old = atomic_exchange_explicit(&w->state, WAITER_DONE, memory_order_release);
	if (!(old & WAITER_PARKED)) {
		if (!fiber)
			spin_off = false;
		return;
	}
	if (fiber)
		fiber_resume(fiber);
	else
		futex(&w->state, FUTEX_WAKE_PRIVATE, 1, NULL);
}

/* True if the wait ended while spinning (a claimed waiter is about to: keep spinning). */
static bool thread_spin(waiter *w, uint64_t deadline_ns)
{
	int cpu = sched_getcpu();
	if (cpu >= 0 && cpu == partner_cpu)
		return false;
	uint64_t ns = SPIN_NS;
	if (spin_off) {
		if (++spin_skipped < SPIN_PROBE_EVERY)
			return false;
		spin_skipped = 0;
		ns = SPIN_PROBE_NS;
	}
	uint64_t end = time_now_ns() + ns;
	if (end > deadline_ns)
		end = deadline_ns;
	for (;;) {
		for (int i = 0; i < 64; i++) {
			/* Relaxed: the caller's finished() is the acquire that reads the result. */
			uint32_t st = stage(atomic_load_explicit(&w->state, memory_order_relaxed));
			if (st != WAITER_PENDING && st != WAITER_CLAIMED) {
				spin_off = false;
				return true;
			}
			cpu_relax();
		}
		if (time_now_ns() >= end)
			break;
	}
	spin_off = true;
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
	if (rc == 0 && !w->fiber)
		partner_cpu = w->waker_cpu;
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
