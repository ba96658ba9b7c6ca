/* runtime/atom/lock.c: reentrant, starvation-free lock that parks fibers (ringfold/lock.h).
 *
 * State word (atomic, every change a CAS on the whole word):
 *   LOCKED    someone owns the lock (or it is being handed to a waiter).
 *   WAITERS   the queue is not empty. Changed only under qlock, so it equals (waiters.head != NULL)
 *             whenever qlock is free.
 *   WOKEN     an unlocker woke a waiter to compete for the lock and that waiter has not
 *             yet taken it or gone back to sleep; unlockers wake nobody else meanwhile
 *             (one futex wake per hand-over at most, not one per unlock).
 *   STARVING  a waiter has waited >= RF_LOCK_STARVE_MS: unlock hands the lock directly to
 *             the queue's head (LOCKED never clears, so nobody barges) until the queue
 *             empties or a waiter is served in less than that.
 *   HUNGRY    a spinning thread asks for the lock (only while LOCKED): the next unlock
 *             gives it to the spinners (GIFT) instead of freeing it, unless STARVING.
 *   GIFT      the lock (LOCKED stays set) belongs to the first hungry spinner that takes
 *             it, other than its giver while that one is still polling.
 *   bits 8..  with GIFT: a tag of the giver (a hash of its identity; a collision only
 *             delays who takes the gift).
 * Fields:
 *   owner     written only by the owner (to itself after taking the lock, to NULL before
 *             releasing it); read by anyone, but a context only ever compares it with
 *             itself, and it can read itself only if it wrote itself and has not yet
 *             released: relaxed is enough.
 *   depth     the owner's reentry count; owner only.
 *   waiters   the FIFO of sleeping waiters (runtime/base/waitlist.h): qlock only.
 *   qlock     a spinlock around the queue; held for a few instructions, never across a
 *             wait, a wake or a user call. Lock order: qlock is innermost.
 * Why nothing is lost (no waiter sleeps while the lock is free and nobody will wake it):
 * a waiter enqueues itself only after a CAS under qlock that saw LOCKED set, and that CAS
 * sets WAITERS, so the owner's fast unlock (CAS LOCKED -> 0) fails and its slow path,
 * under qlock, sees the waiter. An unlocker that wakes nobody because WOKEN is set leaves
 * the lock free for the woken waiter, which either takes it or re-queues, clearing WOKEN,
 * in a CAS that again saw LOCKED set. A gift is never left to nobody: it is made only while
 * HUNGRY is set, HUNGRY is set only by a spinner polling in hungry_spin and cleared when
 * the lock is freed, given or taken free; a spinner leaves hungry_spin only with the lock
 * or through stop_asking, which takes a pending gift or clears HUNGRY in one CAS (the
 * other askers set it again on their next poll).
 * Fairness (eventual, as WebKit's WTF::Lock and Rust's parking_lot): newcomers barge, and
 * spin only while nobody is queued; a woken waiter that loses goes back to the front of
 * the queue with its original start time; once that time is RF_LOCK_STARVE_MS old it sets
 * STARVING, and an unlocker that finds the head that old hands the lock to it directly. A
 * waiter beaten LOSSES_MAX times counts as starving as well: each loss cost the unlocker a
 * wake, so a burst of barging ends after a few, not after a millisecond of them.
 * Between running threads the lock alternates in short turns: a thread that has spun a
 * little asks (HUNGRY) and the owner's next unlock gives it the lock (GIFT), so the one
 * that just let go cannot take it straight back, and each turn lasts about one short
 * spin. Without that, whoever holds the cache line wins most races.
 * Owner identity: the running fiber or the address of a thread-local byte, read with two
 * TLS loads and no call.
 */
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "ringfold/lock.h"
#include "runtime/base/spin.h"
#include "runtime/sched/fiber.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/wait.h"

enum { LOCKED = 1, WAITERS = 2, WOKEN = 4, STARVING = 8, HUNGRY = 16, GIFT = 32 };
#define TAG_SHIFT 8
#define TAGS (~0u << TAG_SHIFT)
enum { WAKE_COMPETE = 1, WAKE_HANDOFF = 2 }; /* waiter.result */
#define LOCK_MAGIC 0x4c4f434bu               /* "LOCK" */
/* Spinning before a sleep (parking_lot's SpinWait): SPIN_RELAX rounds of 2, 4, 8 ... pauses,
 * then a thread asks for the lock (below), then yields of the CPU (a thread) or more pauses
 * (a fiber: its worker has no one to yield to that sched_yield knows of) up to SPIN_MAX
 * rounds in all. One yield only: on a loaded machine each one hands the CPU to another
 * process for a whole slice while the other thread takes the lock alone. */
#define SPIN_RELAX 4
#define SPIN_MAX 5
#define STARVE_NS ((uint64_t)RF_LOCK_STARVE_MS * 1000000u)
#define LOSSES_MAX 4 /* a woken waiter that lost this often is starving too */
/* After SPIN_RELAX rounds a thread (not a fiber: its holder may be waiting for the same
 * worker) asks for the lock and polls for it up to HUNGRY_POLLS times (some 40 us here). */
#define HUNGRY_POLLS 1024

struct lock_waiter {
	waiter w; /* on l->waiters while queued */
	uint64_t since;
	uint32_t losses; /* times woken and beaten to the lock */
};

typedef struct lock_impl {
	_Atomic uint32_t state;
	spinlock qlock;
	_Atomic(void *) owner;
	uint32_t depth;
	uint32_t magic;
	waitlist waiters; /* under qlock */
} lock_impl;

_Static_assert(sizeof(lock_impl) <= sizeof(rf_lock), "rf_lock storage too small");
_Static_assert(_Alignof(lock_impl) <= _Alignof(rf_lock), "rf_lock storage misaligned");

/* The identity of a plain thread; initial-exec: one fs-relative address, no TLS call. */
static _Thread_local char thread_token __attribute__((tls_model("initial-exec")));

static lock_impl *impl(rf_lock *lock)
{
	return (lock_impl *)(void *)lock;
}

static int check(rf_lock *lock)
{
	if (!lock)
		return -EINVAL;
	return impl(lock)->magic == LOCK_MAGIC ? 0 : -EBADF;
}

/* The running fiber, or this thread outside fibers (fiber_self, inlined). */
static inline void *self_id(void)
{
	sched_worker *w = sched_tls_worker;
	sched_fiber *f = w ? atomic_load_explicit(&w->running, memory_order_relaxed) : NULL;
	return f ? (void *)f : (void *)&thread_token;
}

/* Round i of spinning (0-based) before trying again. */
static void spin_round(int i, bool fiber)
{
	if (i < SPIN_RELAX || fiber)
		for (int k = 2 << (i < SPIN_RELAX ? i : SPIN_RELAX); k > 0; k--)
			cpu_relax();
	else
		sched_yield();
}

/* Set then clear bits of the state word in one CAS. Returns the old value. */
static uint32_t update(lock_impl *l, uint32_t set, uint32_t clear, memory_order mo)
{
	uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(&l->state, &s, (s | set) & ~clear, mo,
	                                              memory_order_relaxed))
		;
	return s;
}

/* The giver's tag in the state word (bits TAG_SHIFT..). */
static uint32_t tag_of(void *me)
{
	uintptr_t a = (uintptr_t)me;
	return (uint32_t)((a >> 4) ^ (a >> 28)) << TAG_SHIFT;
}

/* Take a free lock (clearing `clear` in the same step), or, for a hungry spinner, a
 * lock given to spinners. Acquire: pairs with the release of the unlock that freed or
 * gave it. */
static bool try_take(lock_impl *l, uint32_t clear, int hungry)
{
	uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
	for (;;) {
		uint32_t ns;
		if (!(s & LOCKED))
			ns = (s | LOCKED) & ~(clear | HUNGRY); /* its askers ask again */
		else if (hungry && (s & GIFT) && (hungry > 1 || (s & TAGS) != tag_of(self_id())))
			ns = s & ~(clear | GIFT | TAGS);
		else
			return false;
		if (atomic_compare_exchange_weak_explicit(&l->state, &s, ns, memory_order_acquire,
		                                          memory_order_relaxed))
			return true;
	}
}

/* A spinner asks for the lock: HUNGRY makes the next unlock give it to spinners instead
 * of freeing it. Only while the lock is held and nothing was given yet; relaxed: it
 * orders nothing (the gift and its taking do). */
static void ask(lock_impl *l)
{
	uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
	while ((s & (LOCKED | HUNGRY | GIFT)) == LOCKED &&
	       !atomic_compare_exchange_weak_explicit(&l->state, &s, s | HUNGRY,
	                                              memory_order_relaxed, memory_order_relaxed))
		;
}

/* A hungry spinner stops spinning: it takes the lock if it was given meanwhile (true),
 * else withdraws HUNGRY, so that nothing is given to nobody. */
static bool stop_asking(lock_impl *l, uint32_t clear)
{
	uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
	for (;;) {
		if (!(s & LOCKED) || (s & GIFT))
			return try_take(l, clear, 2) || stop_asking(l, clear);
		if (!(s & HUNGRY))
			return false;
		if (atomic_compare_exchange_weak_explicit(
		        &l->state, &s, s & ~HUNGRY, memory_order_relaxed, memory_order_relaxed))
			return false;
	}
}

int rf_lock_init(rf_lock *lock)
{
	if (!lock)
		return -EINVAL;
	lock_impl *l = impl(lock);
	atomic_init(&l->state, 0);
	spin_init(&l->qlock, LOCKRANK_ATOM_LOCK_QUEUE);
	atomic_init(&l->owner, NULL);
	l->depth = 0;
	waitlist_init(&l->waiters);
	l->magic = LOCK_MAGIC;
	return 0;
}

int rf_lock_new(rf_lock **out)
{
	if (!out)
		return -EINVAL;
	rf_lock *lock = malloc(sizeof(*lock));
	if (!lock)
		return -ENOMEM;
	*out = lock;
	return rf_lock_init(lock);
}

int rf_lock_destroy(rf_lock *lock)
{
	int rc = check(lock);
	if (rc)
		return rc;
	if (atomic_load_explicit(&impl(lock)->state, memory_order_acquire))
		return -EBUSY;
	impl(lock)->magic = 0;
	return 0;
}

void rf_lock_free(rf_lock *lock)
{
	if (!lock)
		return;
	int rc = rf_lock_destroy(lock);
	if (rc == 0)
		free(lock);
	else /* a broken precondition: keep the memory of a lock someone may still use */
		fprintf(stderr, "ringfold: rf_lock_free: %s; lock not freed\n", rf_strerror(rc));
}

/* Sleep on the queue until handed the lock (returns 1), woken to compete (0) or timed
 * out (-ETIMEDOUT) or cancelled by shutdown (RF_ESHUTDOWN); or take the lock if it turns out free
 * (1). woken: the caller is the waiter an unlocker woke (it holds WOKEN and goes back to the front
 * of the queue). */
static int wait_turn(lock_impl *l, struct lock_waiter *lw, bool woken, uint64_t deadline)
{
	uint32_t mine = woken ? WOKEN : 0;
	spin_lock(&l->qlock);
	uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
	for (;;) {
		if (!(s & LOCKED)) {
			if (atomic_compare_exchange_weak_explicit(
			        &l->state, &s, (s | LOCKED) & ~(mine | HUNGRY),
			        memory_order_acquire, memory_order_relaxed)) {
				spin_unlock(&l->qlock);
				return 1;
			}
			continue;
		}
		uint32_t ns = (s | WAITERS) & ~mine;
		if (woken && (lw->losses >= LOSSES_MAX || time_now_ns() - lw->since >= STARVE_NS))
			ns |= STARVING;
		/* Relaxed: under qlock; what matters is that it saw LOCKED (see the header). */
		if (atomic_compare_exchange_weak_explicit(&l->state, &s, ns, memory_order_relaxed,
		                                          memory_order_relaxed))
			break;
	}
	waiter_init(&lw->w);
	if (woken) /* keeps its turn: back to the front */
		waitlist_add_front(&l->waiters, &lw->w);
	else
		waitlist_add(&l->waiters, &lw->w);
	spin_unlock(&l->qlock);
	fiber_wait_on(WAIT_LOCK, l);
	int rc = waiter_wait(&lw->w, deadline);
	if (rc == 0)
		return lw->w.result == WAKE_HANDOFF ? 1 : 0;
	spin_lock(&l->qlock);
	if (waitlist_has(&l->waiters, &lw->w)) {
		waitlist_unlink(&l->waiters, &lw->w);
		if (!l->waiters.head)
			update(l, 0, WAITERS | STARVING, memory_order_relaxed);
	}
	spin_unlock(&l->qlock);
	return rc;
}

/* Ask for the lock and spin for it: true once taken. Bounded; withdraws the request. */
static bool hungry_spin(lock_impl *l, uint32_t clear, bool woken)
{
	for (int k = 0; k < HUNGRY_POLLS; k++) {
		ask(l); /* again if another spinner took the last gift */
		if (try_take(l, clear, true))
			return true;
		if (!woken && (atomic_load_explicit(&l->state, memory_order_relaxed) & WAITERS))
			break;
		cpu_relax();
	}
	return stop_asking(l, clear);
}

/* The lock was taken when we looked: spin, then queue, until it is ours or the wait ends.
 * Out of line so that the fast path needs no stack frame. */
static __attribute__((noinline)) int acquire_slow(lock_impl *l, void *me, uint64_t deadline,
                                                  bool poll)
{
	struct lock_waiter lw = {.since = poll ? 0 : time_now_ns()};
	bool woken = false, fiber = me != (void *)&thread_token;
	for (;;) {
		/* A newcomer spins only while nobody is queued; a woken waiter always. */
		int i = 0, rc;
		bool took;
		uint32_t clear = woken ? WOKEN : 0;
		while (
		    !(took = try_take(l, clear, false)) && !poll && i < SPIN_MAX &&
		    (woken || !(atomic_load_explicit(&l->state, memory_order_relaxed) & WAITERS))) {
			if (i == SPIN_RELAX && !fiber) {
				took = hungry_spin(l, clear, woken);
				if (took)
					break;
			}
			spin_round(i++, fiber);
		}
		if (took)
			break;
		if (poll) /* a woken waiter never polls: poll never sleeps */
			return -ETIMEDOUT;
		if ((rc = wait_turn(l, &lw, woken, deadline)) < 0)
			return rc;
		if (rc == 1)
			break;
		woken = true;
		lw.losses++;
	}
	atomic_store_explicit(&l->owner, me, memory_order_relaxed);
	l->depth = 1;
	return 0;
}

static inline int acquire(rf_lock *lock, uint64_t deadline, bool poll)
{
	int rc = check(lock);
	if (rc)
		return rc;
	lock_impl *l = impl(lock);
	void *me = self_id();
	if (atomic_load_explicit(&l->owner, memory_order_relaxed) == me) {
		if (l->depth == UINT32_MAX)
			return -EOVERFLOW;
		l->depth++;
		return 0;
	}
	uint32_t zero = 0;
	if (__builtin_expect(!atomic_compare_exchange_strong_explicit(&l->state, &zero, LOCKED,
	                                                              memory_order_acquire,
	                                                              memory_order_relaxed),
	                     0))
		return acquire_slow(l, me, deadline, poll);
	atomic_store_explicit(&l->owner, me, memory_order_relaxed);
	l->depth = 1;
	return 0;
}

int rf_lock_lock(rf_lock *lock)
{
	return acquire(lock, DEADLINE_NONE, false);
}

int rf_lock_lock_timeout(rf_lock *lock, int64_t timeout_ms)
{
	if (timeout_ms < 0)
		return check(lock) ? check(lock) : -EINVAL;
	return acquire(lock, time_deadline_after_ms(timeout_ms), timeout_ms == 0);
}

/* Unlock with waiters queued and nobody woken: wake or hand over to the head. Out of
 * line so that the fast path needs no stack frame. */
static __attribute__((noinline)) void unlock_slow(lock_impl *l)
{
	spin_lock(&l->qlock);
	/* Waiters that timed out meanwhile are skipped: they find themselves unqueued. */
	waiter *w = waitlist_claim_one(&l->waiters);
	struct lock_waiter *lw = (struct lock_waiter *)w; /* w is its first member */
	if (!lw) {
		update(l, 0, LOCKED | WAITERS | STARVING | HUNGRY, memory_order_release);
	} else {
		uint32_t empty = l->waiters.head ? 0 : WAITERS | STARVING;
		uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
		bool fresh = time_now_ns() - lw->since < STARVE_NS;
		if ((s & STARVING) || !fresh || lw->losses >= LOSSES_MAX) {
			/* Hand-off: LOCKED stays; the waiter's wake (release in complete, acquire
			 * in its wait) publishes our critical section to it. */
			update(l, 0, empty | (fresh ? STARVING : 0), memory_order_relaxed);
			lw->w.result = WAKE_HANDOFF;
		} else {
			/* Release: pairs with the acquire of whoever takes the lock next. */
			update(l, WOKEN, LOCKED | HUNGRY | empty, memory_order_release);
			lw->w.result = WAKE_COMPETE;
		}
	}
	spin_unlock(&l->qlock);
	if (lw)
		waiter_complete(&lw->w);
}

int rf_lock_unlock(rf_lock *lock)
{
	int rc = check(lock);
	if (rc)
		return rc;
	lock_impl *l = impl(lock);
	if (atomic_load_explicit(&l->owner, memory_order_relaxed) != self_id())
		return RF_ENOTOWNER;
	if (--l->depth)
		return 0;
	atomic_store_explicit(&l->owner, NULL, memory_order_relaxed);
	/* Release in every branch: pairs with the acquire of the next taker. */
	uint32_t s = LOCKED;
	for (;;) {
		if ((s & (HUNGRY | STARVING)) == HUNGRY) { /* a spinner asked: give it */
			if (atomic_compare_exchange_weak_explicit(
			        &l->state, &s, (s | GIFT | tag_of(self_id())) & ~HUNGRY,
			        memory_order_release, memory_order_relaxed))
				return 0;
			continue;
		}
		if (s == LOCKED || !(s & WAITERS) || ((s & WOKEN) && !(s & STARVING))) {
			if (atomic_compare_exchange_weak_explicit(
			        &l->state, &s, s & ~(LOCKED | HUNGRY), memory_order_release,
			        memory_order_relaxed))
				return 0;
			continue;
		}
		unlock_slow(l);
		return 0;
	}
}

bool rf_lock_held(rf_lock *lock)
{
	return !check(lock) &&
	       atomic_load_explicit(&impl(lock)->owner, memory_order_relaxed) == self_id();
}

int rf_locking(rf_lock *lock, rf_body_fn body, rf_val arg, rf_val *out)
{
	if (!body)
		return check(lock) ? check(lock) : -EINVAL;
	rf_val scratch;
	if (!out)
		out = &scratch;
	int rc = rf_lock_lock(lock);
	if (rc)
		return rc;
	*out = RF_NIL;
	rc = body(arg, out);
	rf_lock_unlock(lock);
	return rc;
}
