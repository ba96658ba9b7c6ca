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
 *   HUNGRY    a contender whose turn is due asks for the lock (only while LOCKED): the
 *             next unlock gives it to the contenders (GIFT) instead of freeing it,
 *             unless STARVING.
 *   GIFT      the lock (LOCKED stays set) belongs to the first registered contender other
 *             than its giver that takes it; the giver is named by `owner` meanwhile.
 *   bits 8..15  SPINNERS, the count of registered spinners: threads (not fibers, not
 *             polls) that counted themselves on entering the slow path; they stay
 *             counted through their polls and their yield.
 *   bits 16..31  SEQ, the count of acquisitions (mod 2^16), changed by the CAS that takes
 *             the lock: a contender sees from it whether the owner keeps relocking.
 * Contenders: the registered spinners and the woken waiter. A contender leaves only in a
 * CAS that takes the lock (free, or a gift not its own) or finds no gift it may take.
 * Fields:
 *   owner     written only by the owner (to itself after taking the lock, to NULL or to
 *             giver_mark(itself) before releasing it); read by anyone, but a context only
 *             ever compares it with itself or its own mark, and it can read either only
 *             if it wrote it and nobody took the lock since: relaxed is enough, but for
 *             the mark, which free_for reads after an acquire load that saw the GIFT.
 *   depth     the owner's reentry count; owner only.
 *   passes    the owners' count of the unlocks that may still pass over contenders
 *             before one of them is owed the lock (from PASSES_MAX, reset whenever one
 *             of them gets it); owner only (the gift, hand-off and unlock that
 *             publish the lock publish it).
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
 * Fairness (eventual, as WebKit's WTF::Lock and Rust's parking_lot): newcomers barge (on
 * the fast path: a load and one CAS), and spin only while nobody is queued; a woken waiter
 * that loses goes back to the front of the queue with its original start time; once that
 * time is RF_LOCK_STARVE_MS old it sets STARVING, and an unlocker that finds the head that
 * old hands the lock to it directly. A waiter beaten LOSSES_MAX times counts as starving
 * as well: each loss cost the unlocker a wake, so a burst of barging ends after a few, not
 * after a millisecond of them.
 * Between running threads the lock alternates in turns. A thread that finds it taken
 * registers and polls the state word seldom, at doubling intervals (each poll takes the
 * line from the owner), and takes a free lock only if nobody took it since its last poll
 * (SEQ): an owner that keeps relocking keeps its turn, at the cost of an uncontended
 * lock. Once the owners have taken it TURN_ACQS times since the contender registered
 * (counted by SEQ: equal turns in acquisitions, whatever each thread's speed), or the
 * contender has waited TURN_NS (long critical sections), it asks (HUNGRY) and the
 * owner's next unlock gives it the lock (GIFT), so the one that just let go cannot take
 * it back. A change of hands costs a few transfers of the line, once per turn; without
 * turns, whoever holds the line wins most races and the line moves at every one lost.
 * A contender the OS took off the CPU cannot ask: after PASSES_MAX unlocks that passed
 * over contenders the next one gives them the lock anyway, and the giver waits until one
 * of them runs and takes it (it never takes its own gift back). So a thread that waits
 * in rf_lock_lock sees at most PASSES_MAX acquisitions by others from its registration
 * (or its wake) until it has the lock, plus one per wake when it parked.
 * Owner identity: the running context (ctx_self: the fiber's or the thread's), one TLS
 * load and no call. The word, depth, owner and passes begin the lock as rf_lock_head: the
 * inline rf_lock_lock and rf_lock_unlock of ringfold/lock.h take a free lock exactly as
 * acquire's fast path does, and free it as rf_lock_unlock's CAS that neither gives nor
 * hands it over (no flag set; a pass taken if contenders are counted, none if none is
 * left). A destroyed lock
 * keeps LOCKED set, so that they leave it to the calls, which refuse it.
 */
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "ringfold/lock.h"
#include "runtime/base/ctx.h"
#include "runtime/base/spin.h"
#include "runtime/sched/fiber.h"
#include "runtime/sched/wait.h"

enum { LOCKED = 1, WAITERS = 2, WOKEN = 4, STARVING = 8, HUNGRY = 16, GIFT = 32 };
#define SPINNER (1u << 8)     /* one registered spinner in the count, bits 8..15 */
#define SPINNERS (0xffu << 8) /* the count; when full, further spinners do not register */
#define SEQ (1u << 16)        /* bits 16..31 count acquisitions (mod 2^16): progress */
enum { WAKE_COMPETE = 1, WAKE_HANDOFF = 2 }; /* waiter.result */
#define LOCK_MAGIC 0x4c4f434bu               /* "LOCK" */
/* A fiber spins SPIN_MAX rounds of 2, 4, 8 ... pauses before it parks. */
#define SPIN_MAX 5
#define STARVE_NS ((uint64_t)RF_LOCK_STARVE_MS * 1000000u)
#define LOSSES_MAX 4 /* a woken waiter that lost this often is starving too */
/* A thread (not a fiber: its holder may be waiting for the same worker) registers and
 * waits for its turn (contend) before it parks. A turn: TURN_ACQS acquisitions by the
 * owners, or TURN_NS, then the contender asks; long enough that the transfers of the
 * line at each change of hands cost little, short enough that a contender need not park
 * to wait for it. Meanwhile it polls every POLL_MIN_NS, doubling up to POLL_MAX_NS (each
 * poll costs the owner a miss on the line: a few a turn; and less than STALL_NS, so that
 * a stall is seen). It stops after SPIN_NS, after STALL_NS without progress by the owner,
 * or GIFT_NS with its own gift untaken. */
#define TURN_ACQS 4096u
#define TURN_NS 100000u
#define SPIN_NS 200000u
#define STALL_NS 20000u
#define GIFT_NS 4000u
#define POLL_MIN_NS 100u
#define POLL_MAX_NS 8000u
/* Unlocks that may pass over registered contenders before one is owed the lock even if
 * none asked (a contender the OS took off the CPU cannot ask): about RF_LOCK_STARVE_MS of
 * a short critical section (as often as parking_lot's fair unlock). A turn forced on a
 * contender that is not running makes the giver wait until it runs again: more often,
 * those waits cost more than the fairness they buy. */
#define PASSES_MAX 65536u

struct lock_waiter {
	waiter w; /* on l->waiters while queued */
	uint64_t since;
	uint32_t losses; /* times woken and beaten to the lock */
};

typedef struct lock_impl {
	_Atomic uint32_t state;
	uint32_t depth;
	_Atomic(void *) owner;
	uint32_t passes; /* owner only: unlocks that may still pass over contenders */
	spinlock qlock;
	uint32_t magic;
	waitlist waiters; /* under qlock */
} lock_impl;

_Static_assert(sizeof(lock_impl) <= sizeof(rf_lock), "rf_lock storage too small");
_Static_assert(_Alignof(lock_impl) <= _Alignof(rf_lock), "rf_lock storage misaligned");
_Static_assert(offsetof(lock_impl, state) == offsetof(rf_lock_head, state) &&
                   offsetof(lock_impl, depth) == offsetof(rf_lock_head, depth) &&
                   offsetof(lock_impl, owner) == offsetof(rf_lock_head, owner) &&
                   offsetof(lock_impl, passes) == offsetof(rf_lock_head, passes),
               "lock_impl must begin as rf_lock_head");
_Static_assert(LOCKED == RF_LOCK_HELD && SEQ == RF_LOCK_ACQ && SPINNERS == RF_LOCK_CONTENDERS &&
                   ((WAITERS | WOKEN | STARVING | HUNGRY | GIFT) & ~RF_LOCK_FLAGS) == 0,
               "the state word as ringfold/lock.h has it");

static lock_impl *impl(rf_lock *lock)
{
	return (lock_impl *)(void *)lock;
}

/* Whether a waiter is queued (a newcomer then queues too, without spinning). */
static bool queued(lock_impl *l)
{
	return atomic_load_explicit(&l->state, memory_order_relaxed) & WAITERS;
}

static int check(rf_lock *lock)
{
	if (!lock)
		return -EINVAL;
	return impl(lock)->magic == LOCK_MAGIC ? 0 : -EBADF;
}

/* The running fiber's context, or this thread's outside fibers: the owner's identity,
 * rf_var_ctx.self, as the inline functions of ringfold/lock.h read it. */
static inline void *self_id(void)
{
	return ctx_self();
}

/* What the owner field holds while a gift of `me` is pending: equal to no identity (an
 * exec_ctx is aligned to a word, so the low bit of an identity is clear). */
static inline void *giver_mark(void *me)
{
	return (void *)((uintptr_t)me | 1);
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

/* The state word once state s is taken by a contender registered as reg (SPINNER, WOKEN
 * or 0): its registration given up, a request or gift consumed (its askers ask again),
 * one more acquisition counted. */
static inline uint32_t taken(uint32_t s, uint32_t reg)
{
	return (((s | LOCKED) & ~(HUNGRY | GIFT)) - reg) + SEQ;
}

/* Take the lock if free_for us (but a free lock only if free_ok), giving up our
 * registration reg in the same step. Acquire: pairs with the release of the unlock that
 * freed or gave it. */
static bool try_take(lock_impl *l, uint32_t reg, void *me, bool free_ok)
{
	uint32_t s = atomic_load_explicit(&l->state, memory_order_acquire);
	while (free_for(l, s, reg != 0, me) && (free_ok || (s & LOCKED)))
		if (atomic_compare_exchange_weak_explicit(
		        &l->state, &s, taken(s, reg), memory_order_acquire, memory_order_acquire))
			return true;
	return false;
}

/* A thread entering the slow path counts itself among the registered spinners, unless
 * their count is full: SPINNER, or 0. Even if the lock is free now: its owner may be
 * about to take it again (contend finds out). Relaxed: it orders nothing. */
static uint32_t enter(lock_impl *l)
{
	uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
	while ((s & SPINNERS) != SPINNERS)
		if (atomic_compare_exchange_weak_explicit(
		        &l->state, &s, s + SPINNER, memory_order_relaxed, memory_order_relaxed))
			return SPINNER;
	return 0;
}

/* A registered spinner stops spinning: it takes the lock if it is free_for it (true),
 * else leaves the count in one CAS, so that nothing is given to nobody; the last
 * contender out withdraws HUNGRY. Relaxed when leaving: it orders nothing. */
static bool leave(lock_impl *l, void *me)
{
	uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
	for (;;) {
		if (free_for(l, s, true, me)) {
			if (try_take(l, SPINNER, me, true))
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
	l->passes = PASSES_MAX;
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
	if (atomic_load_explicit(&impl(lock)->state, memory_order_acquire) & (SEQ - 1))
		return -EBUSY;
	/* An unlocker that found no waiter to wake (the last one had just timed out) frees
	 * the state under qlock; the lock may be taken, released and destroyed before that
	 * unlocker lets qlock go, its last access. */
	spin_wait_unlocked(&impl(lock)->qlock);
	impl(lock)->magic = 0;
	atomic_store_explicit(&impl(lock)->state, LOCKED, memory_order_relaxed);
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
			if (atomic_compare_exchange_weak_explicit(&l->state, &s, taken(s, mine),
			                                          memory_order_acquire,
			                                          memory_order_acquire)) {
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

/* A fiber spins a little before it parks: SPIN_MAX rounds of 2, 4, 8 ... pauses, each
 * followed by a try. Never a yield: its worker has no one to yield to that sched_yield
 * knows of. True once it has the lock. */
static bool spin_fiber(lock_impl *l, uint32_t reg, bool woken, void *me)
{
	for (int i = 0; i < SPIN_MAX && (woken || !queued(l)); i++) {
		for (int k = 2 << i; k > 0; k--)
			cpu_relax();
		if (try_take(l, reg, me, true))
			return true;
	}
	return false;
}

/* Pause until time_now_ns() reaches `until`. */
static void pause_until(uint64_t until)
{
	do
		for (int k = 0; k < 8; k++)
			cpu_relax();
	while (time_now_ns() < until);
}

/* A registered contender waits for its turn: true once it has the lock. It asks for the
 * lock once its turn is due (TURN_ACQS acquisitions since it registered, or TURN_NS of
 * waiting; a woken waiter's time counts from when it first queued) and until then polls
 * the state word seldom (each poll takes the line from the owner, whose turn should cost
 * no more than an uncontended run), taking a free lock only if nobody took it since the
 * last poll (SEQ; the CAS from that state checks it): an owner that keeps relocking keeps
 * its turn. A lock found free but taken since is looked at again soon: its owner may
 * have let go for good. It gives up after SPIN_NS or at the deadline; after STALL_NS
 * without an acquisition (the owner was preempted or its critical sections are long:
 * parking pays then); after GIFT_NS with its own gift untaken (the taker is off the
 * CPU); and, a newcomer, when a waiter queues. */
static bool contend(lock_impl *l, uint32_t reg, uint64_t since, uint64_t deadline, void *me)
{
	bool woken = reg == WOKEN;
	uint64_t now = time_now_ns(), end = now + SPIN_NS, seen = now, wait = POLL_MIN_NS;
	if (end > deadline)
		end = deadline;
	uint64_t due = (since ? since : now) + TURN_NS, gift = 0;
	uint32_t last = atomic_load_explicit(&l->state, memory_order_relaxed), first = last;
	bool soon = false; /* found free but retaken since: look again soon */
	for (;;) {
		uint64_t next = now + (now < due && !soon ? wait : POLL_MIN_NS);
		pause_until(now < due && next > due ? due : next);
		uint32_t s = atomic_load_explicit(&l->state, memory_order_acquire);
		now = time_now_ns();
		if ((uint16_t)((s >> 16) - (first >> 16)) >= TURN_ACQS) /* time bounds a wrap */
			due = now;
		bool moved = (s ^ last) >> 16;
		soon = !(s & LOCKED) && moved;
		if (!(s & LOCKED) && (!moved || now >= due)) {
			/* Acquire: as try_take. */
			if (atomic_compare_exchange_strong_explicit(&l->state, &s, taken(s, reg),
			                                            memory_order_acquire,
			                                            memory_order_relaxed))
				return true;
		} else if (free_for(l, s, true, me) && try_take(l, reg, me, false)) {
			return true;
		}
		if (!woken && (s & WAITERS))
			return false;
		if (now >= due)
			ask(l);
		wait = wait < POLL_MAX_NS / 2 ? wait * 2 : POLL_MAX_NS;
		if (!(s & GIFT) ||
		    atomic_load_explicit(&l->owner, memory_order_relaxed) != giver_mark(me))
			gift = 0;
		else if (!gift)
			gift = now;
		if (moved)
			seen = now;
		last = s;
		if (now - seen >= STALL_NS || (gift && now - gift >= GIFT_NS) || now >= end)
			return false;
	}
}

/* A thread (not a poll) waits for the lock before it parks: a newcomer registers, then
 * it waits for its turn and yields the CPU once, still registered (the owner may be
 * waiting for this CPU; but a newcomer that found a queue joins it at once). True once
 * it has the lock; else it is no longer a registered spinner (a woken waiter keeps
 * WOKEN until it queues again). */
static bool spin_thread(lock_impl *l, bool woken, uint64_t since, uint64_t deadline, void *me)
{
	uint32_t reg = woken ? WOKEN : enter(l);
	if (!reg)
		return false;
	bool took = contend(l, reg, since, deadline, me);
	if (!took && (woken || !queued(l))) {
		sched_yield();
		took = try_take(l, reg, me, true);
	}
	if (!took && reg == SPINNER)
		took = leave(l, me);
	return took;
}

/* The lock was taken when we looked: spin, then queue, until it is ours or the wait ends.
 * Out of line so that the fast path needs no stack frame. */
static __attribute__((noinline)) int acquire_slow(lock_impl *l, void *me, uint64_t deadline,
                                                  bool poll)
{
	struct lock_waiter lw = {.since = 0}; /* set when it first queues (wait_turn) */
	bool woken = false, fiber = me != (void *)&ctx_thread;
	for (;;) {
		/* A woken waiter (registered by WOKEN) always spins, a newcomer only while
		 * nobody is queued. A thread newcomer does not take a free lock at once: its
		 * owner may be about to take it again (contend decides); a fiber or a poll does. */
		int rc;
		uint32_t reg = woken ? WOKEN : 0;
		bool took = (fiber || poll || woken) && try_take(l, reg, me, true);
		if (!took && !poll && (woken || !queued(l)))
			took = fiber ? spin_fiber(l, reg, woken, me)
			             : spin_thread(l, woken, lw.since, deadline, me);
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
	l->passes = PASSES_MAX; /* a contender got the lock */
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
	 * thread that just let go keeps its cache line and its turn until one asks. */
	uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed);
	while (__builtin_expect(!(s & LOCKED), 1))
		if (__builtin_expect(atomic_compare_exchange_weak_explicit(
		                         &l->state, &s, (s | LOCKED) + SEQ, memory_order_acquire,
		                         memory_order_relaxed),
		                     1)) {
			atomic_store_explicit(&l->owner, me, memory_order_relaxed);
			l->depth = 1;
			return 0;
		}
	return acquire_slow(l, me, deadline, poll);
}

int(rf_lock_lock)(rf_lock *lock)
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
			l->passes = PASSES_MAX;
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

int(rf_lock_unlock)(rf_lock *lock)
{
	int rc = check(lock);
	if (rc)
		return rc;
	lock_impl *l = impl(lock);
	void *me = self_id();
	if (atomic_load_explicit(&l->owner, memory_order_relaxed) != me)
		return RF_ENOTOWNER;
	if (--l->depth)
		return 0;
	atomic_store_explicit(&l->owner, NULL, memory_order_relaxed);
	/* Release in every branch: pairs with the acquire of the next taker. */
	uint32_t s = atomic_load_explicit(&l->state, memory_order_relaxed), left = l->passes;
	for (;;) {
		uint32_t contenders = s & (SPINNERS | WOKEN);
		if (contenders && !(s & STARVING) && ((s & HUNGRY) || !left)) {
			/* a contender asked, or is owed a turn: give it the lock */
			l->passes = PASSES_MAX;
			atomic_store_explicit(&l->owner, giver_mark(me), memory_order_relaxed);
			if (atomic_compare_exchange_weak_explicit(
			        &l->state, &s, (s | GIFT) & ~HUNGRY, memory_order_release,
			        memory_order_relaxed))
				return 0;
			atomic_store_explicit(&l->owner, NULL, memory_order_relaxed);
			l->passes = left;
			continue;
		}
		if (!(s & WAITERS) || ((s & WOKEN) && !(s & STARVING))) {
			if (contenders)
				l->passes = left ? left - 1 : 0;
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
