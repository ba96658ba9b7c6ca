/* runtime/atom/lock.c: reentrant, starvation-free lock that parks fibers (ringfold/lock.h).
 *
 * State word (atomic, every change a CAS on the whole word):
 *   LOCKED    someone owns the lock (or it is being handed or given to a contender).
 *   WAITERS   the queue is not empty. Changed only under qlock, so it equals (waiters.head != NULL)
 *             whenever qlock is free.
 *   WOKEN     an unlocker woke a waiter to compete for the lock and that waiter has not
 *             yet taken it or gone back to sleep; unlockers wake nobody else meanwhile
 *             (one futex wake per hand-over at most, not one per unlock). It is that
 *             waiter's registration (below).
 *   STARVING  a waiter has waited >= RF_LOCK_STARVE_MS: unlock hands the lock directly to
 *             the queue's head (LOCKED never clears, so nobody barges) until the queue
 *             empties or a waiter is served in less than that.
 *   HUNGRY    a contender asks for the lock (only while LOCKED): the next unlock gives
 *             it to the contenders (GIFT) instead of freeing it, unless STARVING.
 *   GIFT      the lock (LOCKED stays set) belongs to the first registered contender other
 *             than its giver that takes it; the giver is named by `owner` meanwhile.
 *   bits 8..15  SPINNERS, the count of registered spinners: threads (not fibers, not
 *             polls) that counted themselves, in the CAS that first asked, after their
 *             short spin; they stay counted through their polls and their yield.
 * Contenders: the registered spinners and the woken waiter. A contender leaves only in a
 * CAS that takes the lock (free, or a gift not its own) or finds no gift it may take.
 * Fields:
 *   owner     written only by the owner (to itself after taking the lock, to NULL or to
 *             giver_mark(itself) before releasing it); read by anyone, but a context only
 *             ever compares it with itself or its own mark, and it can read either only
 *             if it wrote it and nobody took the lock since: relaxed is enough, but for
 *             the mark, which free_for reads after an acquire load that saw the GIFT.
 *   depth     the owner's reentry count; owner only.
 *   passes    the owner's count of unlocks that passed over contenders since a turn was
 *             last given (gift or hand-off); owner only (the gift, hand-off and unlock
 *             that publish the lock publish it).
 *   waiters   the FIFO of sleeping waiters (runtime/base/waitlist.h): qlock only.
 *   qlock     a spinlock around the queue; held for a few instructions, never across a
 *             wait, a wake or a user call. Lock order: qlock is innermost.
 * Why nothing is lost (no waiter sleeps while the lock is free and nobody will wake it):
 * a waiter enqueues itself only after a CAS under qlock that saw LOCKED set, and that CAS
 * sets WAITERS, so the owner's fast unlock (CAS LOCKED -> 0) fails and its slow path,
 * under qlock, sees the waiter. An unlocker that wakes nobody because WOKEN is set leaves
 * the lock free for the woken waiter, which either takes it or re-queues, clearing WOKEN,
 * in a CAS that again saw LOCKED set. A gift is never left to nobody: it is made only
 * while a contender is registered, the owner is never one, so every contender then
 * registered is not the giver, and none of them leaves without taking the gift.
 * Fairness (eventual, as WebKit's WTF::Lock and Rust's parking_lot): newcomers barge, and
 * spin only while nobody is queued; a woken waiter that loses goes back to the front of
 * the queue with its original start time; once that time is RF_LOCK_STARVE_MS old it sets
 * STARVING, and an unlocker that finds the head that old hands the lock to it directly. A
 * waiter beaten LOSSES_MAX times counts as starving as well: each loss cost the unlocker a
 * wake, so a burst of barging ends after a few, not after a millisecond of them.
 * Between running threads the lock alternates in short turns: a thread that has spun a
 * little asks (HUNGRY) and the owner's next unlock gives it the lock (GIFT), so the one
 * that just let go cannot take it back, and each turn lasts about one short spin.
 * Without that, whoever holds the cache line wins most races. A contender the OS took
 * off the CPU cannot ask again: after PASSES_MAX unlocks that passed over contenders the
 * next one gives them the lock anyway, and the giver waits until one of them runs and
 * takes it (it never takes its own gift back). So a thread that waits in rf_lock_lock
 * sees at most PASSES_MAX acquisitions by others from the end of its short spin (or its
 * wake) until it has the lock, plus one per wake when it parked.
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
#define SPINNER (1u << 8)     /* one registered spinner in the count, bits 8..15 */
#define SPINNERS (0xffu << 8) /* the count; when full, further spinners do not register */
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
/* Unlocks that may pass over registered contenders before one is owed the lock: about
 * RF_LOCK_STARVE_MS of a short critical section (as often as parking_lot's fair unlock).
 * A turn forced on a contender the OS took off the CPU makes the giver wait until it
 * runs again: more often, those waits cost more than the fairness they buy. */
#define PASSES_MAX 65536
#define OWN_GIFT_POLLS 64 /* a running taker takes a gift in far fewer polls (some 2 us) */

struct lock_waiter {
	waiter w; /* on l->waiters while queued */
	uint64_t since;
	uint32_t losses; /* times woken and beaten to the lock */
};

typedef struct lock_impl {
	_Atomic uint32_t state;
	spinlock qlock;
	uint32_t passes; /* owner only: unlocks since the last turn given with contenders present */
	_Atomic(void *) owner;
	uint32_t depth;
	uint32_t magic;
	waitlist waiters; /* under qlock */
} lock_impl;

_Static_assert(sizeof(lock_impl) <= sizeof(rf_lock), "rf_lock storage too small");
_Static_assert(_Alignof(lock_impl) <= _Alignof(rf_lock), "rf_lock storage misaligned");

/* The identity of a plain thread; initial-exec: one fs-relative address, no TLS call.
 * Aligned so that the low bit of an identity is free for giver_mark. */
static _Thread_local _Alignas(8) char thread_token __attribute__((tls_model("initial-exec")));

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

/* What the owner field holds while a gift of `me` is pending: equal to no identity. */
static inline void *giver_mark(void *me)
{
	return (void *)((uintptr_t)me | 1);
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

/* May a contender see state s as free for it? The lock is free, or, for a registered
 * contender (reg), given to contenders by someone else. The owner field is read after
 * an acquire load of s that saw GIFT, so it holds that gift's giver mark or a later
 * value; a later value comes with a changed state word, which fails the CAS that
 * follows, unless it is a later gift, which is as good. */
static bool free_for(lock_impl *l, uint32_t s, bool reg, void *me)
{
	return !(s & LOCKED) ||
	       (reg && (s & GIFT) &&
	        atomic_load_explicit(&l->owner, memory_order_relaxed) != giver_mark(me));
}

/* Take the lock if free_for us, giving up our registration `reg` (SPINNER, WOKEN or 0)
 * in the same step. Acquire: pairs with the release of the unlock that freed or gave it. */
static bool try_take(lock_impl *l, uint32_t reg, void *me)
{
	uint32_t s = atomic_load_explicit(&l->state, memory_order_acquire);
	while (free_for(l, s, reg != 0, me)) {
		/* its askers ask again */
		uint32_t ns = ((s | LOCKED) & ~(HUNGRY | GIFT)) - reg;
		if (atomic_compare_exchange_weak_explicit(&l->state, &s, ns, memory_order_acquire,
		                                          memory_order_acquire))
			return true;
	}
	return false;
}

/* A thread done with its short spin: it takes the lock if free (true), else counts itself
 * among the registered spinners (*reg = SPINNER), unless their count is full, and asks
 * for the lock in the same CAS (no extra transfer of the line). Acquire: as try_take. */
static bool enter(lock_impl *l, uint32_t *reg)
{
	uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
	for (;;) {
		bool take = !(s & LOCKED);
		if (!take && (s & SPINNERS) == SPINNERS)
			return false;
		uint32_t ns =
		    take ? (s | LOCKED) & ~HUNGRY : (s + SPINNER) | (s & GIFT ? 0 : HUNGRY);
		if (atomic_compare_exchange_weak_explicit(&l->state, &s, ns, memory_order_acquire,
		                                          memory_order_relaxed)) {
			*reg = take ? 0 : SPINNER;
			return take;
		}
	}
}

/* A registered spinner stops spinning: it takes the lock if it is free_for it (true),
 * else leaves the count in one CAS, so that nothing is given to nobody; the last
 * contender out withdraws HUNGRY. Relaxed when leaving: it orders nothing. */
static bool leave(lock_impl *l, void *me)
{
	uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
	for (;;) {
		if (free_for(l, s, true, me)) {
			if (try_take(l, SPINNER, me))
				return true;
			s = atomic_load_explicit(&l->state, memory_order_relaxed);
			continue;
		}
		uint32_t ns = s - SPINNER;
		if (!(ns & (SPINNERS | WOKEN)))
			ns &= ~HUNGRY;
		if (atomic_compare_exchange_weak_explicit(&l->state, &s, ns, memory_order_relaxed,
		                                          memory_order_relaxed))
			return false;
	}
}

/* A registered spinner asks for the lock: HUNGRY makes the next unlock give it to
 * contenders instead of freeing it. Only while the lock is held and nothing was given
 * yet; relaxed: it orders nothing (the gift and its taking do). */
static void ask(lock_impl *l)
{
	uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
	while ((s & (LOCKED | HUNGRY | GIFT)) == LOCKED &&
	       !atomic_compare_exchange_weak_explicit(&l->state, &s, s | HUNGRY,
	                                              memory_order_relaxed, memory_order_relaxed))
		;
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
 * out (-ETIMEDOUT) or cancelled by shutdown (RF_ESHUTDOWN); or take the lock if it turns out
 * free_for us (1). woken: the caller is the waiter an unlocker woke (it holds WOKEN, its
 * registration, and goes back to the front of the queue). */
static int wait_turn(lock_impl *l, struct lock_waiter *lw, bool woken, uint64_t deadline, void *me)
{
	uint32_t mine = woken ? WOKEN : 0;
	if (!lw->since) /* read the clock only for a wait long enough to queue */
		lw->since = time_now_ns();
	spin_lock(&l->qlock);
	uint32_t s = atomic_load_explicit(&l->state, memory_order_acquire);
	for (;;) {
		if (free_for(l, s, woken, me)) {
			if (atomic_compare_exchange_weak_explicit(
			        &l->state, &s, ((s | LOCKED) & ~(HUNGRY | GIFT)) - mine,
			        memory_order_acquire, memory_order_acquire)) {
				spin_unlock(&l->qlock);
				return 1;
			}
			continue;
		}
		uint32_t ns = (s | WAITERS) - mine;
		if (!(ns & (SPINNERS | WOKEN)))
			ns &= ~HUNGRY;
		if (woken && (lw->losses >= LOSSES_MAX || time_now_ns() - lw->since >= STARVE_NS))
			ns |= STARVING;
		/* What matters is that it saw LOCKED (see the header); acquire only for free_for
		 * when it fails. */
		if (atomic_compare_exchange_weak_explicit(&l->state, &s, ns, memory_order_acquire,
		                                          memory_order_acquire))
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

/* A registered contender asks for the lock and polls for it: true once taken. Bounded;
 * a newcomer stops early when a waiter queues, and a giver when its gift stays untaken
 * for OWN_GIFT_POLLS polls: its taker is off the CPU, perhaps waiting for this one. */
static bool hungry_spin(lock_impl *l, uint32_t reg, bool woken, void *me)
{
	for (int k = 0, own = 0; k < HUNGRY_POLLS && own < OWN_GIFT_POLLS; k++) {
		ask(l); /* again if another spinner took the last gift */
		if (try_take(l, reg, me))
			return true;
		uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
		if (!woken && (s & WAITERS))
			break;
		own = (s & GIFT) && atomic_load_explicit(&l->owner, memory_order_relaxed) ==
		                        giver_mark(me)
		          ? own + 1
		          : 0;
		cpu_relax();
	}
	return false;
}

/* The lock was taken when we looked: spin, then queue, until it is ours or the wait ends.
 * Out of line so that the fast path needs no stack frame. */
static __attribute__((noinline)) int acquire_slow(lock_impl *l, void *me, uint64_t deadline,
                                                  bool poll)
{
	struct lock_waiter lw = {.since = 0}; /* set when it first queues (wait_turn) */
	bool woken = false, fiber = me != (void *)&thread_token;
	for (;;) {
		/* Our registration: WOKEN when woken, else a thread counts itself once it has
		 * spun a little (never a fiber, whose holder may be waiting for its worker, nor a
		 * poll). Not at once: that extra CAS would pull the line from the owner in each
		 * of its short turns. */
		uint32_t reg = woken ? WOKEN : 0;
		/* A newcomer spins only while nobody is queued; a woken waiter always. */
		int i = 0, rc;
		bool took;
		while (
		    !(took = try_take(l, reg, me)) && !poll && i < SPIN_MAX &&
		    (woken || !(atomic_load_explicit(&l->state, memory_order_relaxed) & WAITERS))) {
			if (i == SPIN_RELAX && !fiber) {
				if (!woken && (took = enter(l, &reg)))
					break;
				if (reg && (took = hungry_spin(l, reg, woken, me)))
					break;
			}
			spin_round(i++, fiber);
		}
		if (!took && reg == SPINNER)
			took = leave(l, me);
		if (took)
			break;
		if (poll) /* a woken waiter never polls: poll never sleeps */
			return -ETIMEDOUT;
		if ((rc = wait_turn(l, &lw, woken, deadline, me)) < 0)
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
	/* A free lock is taken here even with contenders registered (they do not own it): the
	 * thread that just let go keeps its cache line and its short turn until one asks. */
	uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
	if (__builtin_expect((s & LOCKED) || !atomic_compare_exchange_strong_explicit(
	                                         &l->state, &s, s | LOCKED, memory_order_acquire,
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
			l->passes = 0;
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
	void *me = self_id();
	atomic_store_explicit(&l->owner, NULL, memory_order_relaxed);
	/* Release in every branch: pairs with the acquire of the next taker. */
	uint32_t s = LOCKED, passes = l->passes;
	for (;;) {
		uint32_t contenders = s & (SPINNERS | WOKEN);
		if (contenders && !(s & STARVING) && ((s & HUNGRY) || passes >= PASSES_MAX)) {
			/* a contender asked, or is owed a turn: give it the lock */
			l->passes = 0;
			atomic_store_explicit(&l->owner, giver_mark(me), memory_order_relaxed);
			if (atomic_compare_exchange_weak_explicit(
			        &l->state, &s, (s | GIFT) & ~HUNGRY, memory_order_release,
			        memory_order_relaxed))
				return 0;
			atomic_store_explicit(&l->owner, NULL, memory_order_relaxed);
			continue;
		}
		if (!(s & WAITERS) || ((s & WOKEN) && !(s & STARVING))) {
			if (contenders)
				l->passes = passes + 1;
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
