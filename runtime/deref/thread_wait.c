/* runtime/deref/thread_wait.c: how long a plain thread spins on its listed deref waiter
 * before waiter_wait puts it to sleep (fibers park at once: their worker runs others).
 *
 * Two threads handing results to each other (a ping-pong over promises) run in one of
 * three regimes, and a policy that only spins a fixed few microseconds and otherwise
 * sleeps gets stuck in the slow ones:
 *  - on two CPUs, both spinning: a hand-off is a cache-line transfer (fast);
 *  - on two CPUs, both sleeping on the futex: every hand-off waits for the other CPU to
 *    come out of idle, tens of microseconds on a VM. A spin shorter than that never
 *    succeeds, so neither side ever finds out that spinning would pay again;
 *  - on one CPU (the scheduler puts them together when the other CPU is busy):
 *    spinning only delays the completer until its time slice comes.
 * So a thread measures how long its waits take (an average, `lat_ns`) and:
 *  - if its last wait was completed from its own CPU (a completer that finds the thread
 *    asleep writes its CPU into the deref's waiter), does not spin at all: the futex it then sleeps
 * on is the cheapest hand-off on one CPU (a sched_yield hand-off was measured slower as soon as
 * other threads share the CPU, since a thread that never sleeps loses the wake-up preference a
 * sleeper gets);
 *  - otherwise spins for a few times its usual wait, at least SPIN_MIN_NS and at most
 *    SPIN_MAX_NS, which covers the other side's wake-up from idle, so one spinning side
 *    brings a sleeping pair back to spinning; when waits take longer than SPIN_MAX_NS
 *    (a loaded machine: the completer is not running) it does not spin, but probes with
 *    the whole budget every PROBE_EVERY waits.
 * The spin reads only the waiter's state word (on the waiting thread's stack): once the
 * waiter is listed, the cell may be completed and freed at any time. A wait that is not
 * over then goes to waiter_wait (runtime/sched/wait.h, which may spin briefly again).
 *
 * The common case, a spin that ends within its first 64 pauses, reads no clock and asks
 * for no CPU number.
 *
 * State: thread-locals of the waiting thread only.
 */
#include <sched.h>

#include "runtime/base/spin.h"
#include "runtime/base/time.h"
#include "runtime/base/waiter.h"
#include "runtime/deref/deferred.h"

#define SPIN_MIN_NS 8000u
#define SPIN_MAX_NS 100000u
#define PROBE_EVERY 64u

static _Thread_local struct {
	bool colocated;    /* the last wait was completed from this CPU */
	uint32_t skipped;  /* waits without a spin since the last probe */
	uint64_t lat_ns;   /* moving average of wait times (1/8 weight to the newest) */
	uint64_t start_ns; /* when the current wait began */
} tw;

static bool over(waiter *w)
{
	/* Relaxed: waiter_wait's acquire, which follows, reads the result. CLAIMED: the
	 * completion is under way. */
	uint32_t st = atomic_load_explicit(&w->state, memory_order_relaxed) & WAITER_STAGE;
	return st != WAITER_PENDING && st != WAITER_CLAIMED;
}

/* Note a wait that took `took` ns. */
static void record(uint64_t took)
{
	if (took > 2 * SPIN_MAX_NS) /* one long wait says "slow", not how slow */
		took = 2 * SPIN_MAX_NS;
	tw.lat_ns = tw.lat_ns - tw.lat_ns / 8 + took / 8;
}

bool deferred_thread_spin(waiter *w, uint64_t deadline_ns)
{
	tw.start_ns = 0; /* read the clock only once the wait is not over at once */
	if (tw.colocated) {
		tw.start_ns = time_now_ns();
		return false;
	}
	uint64_t budget = 4 * tw.lat_ns;
	if (budget < SPIN_MIN_NS)
		budget = SPIN_MIN_NS;
	if (tw.lat_ns > SPIN_MAX_NS) {
		tw.start_ns = time_now_ns();
		if (++tw.skipped < PROBE_EVERY)
			return false;
		tw.skipped = 0;
		budget = SPIN_MAX_NS;
	} else if (budget > SPIN_MAX_NS) {
		budget = SPIN_MAX_NS;
	}
	uint64_t end = 0;
	for (;;) {
		for (int i = 0; i < 64; i++) {
			if (over(w)) {
				/* The completer ran meanwhile, so not on this CPU. */
				record(tw.start_ns ? time_now_ns() - tw.start_ns : 0);
				tw.colocated = false;
				return true;
			}
			cpu_relax();
		}
		uint64_t now = time_now_ns();
		if (!tw.start_ns)
			tw.start_ns = now; /* a few us late: the first 64 pauses */
		if (!end)
			end =
			    tw.start_ns + budget < deadline_ns ? tw.start_ns + budget : deadline_ns;
		if (now >= end)
			return false;
	}
}

void deferred_thread_waited(int done_cpu)
{
	record(time_now_ns() - tw.start_ns);
	tw.colocated = done_cpu >= 0 && done_cpu == sched_getcpu();
}
