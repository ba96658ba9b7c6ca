/* runtime/chan/timer.c: timeout channels on the executor's own timers.
 *
 * As core.async's timers.clj: deadlines are rounded up to TIMEOUT_RES_NS, and every
 * (timeout ms) whose deadline rounds to the same instant shares one channel, so a loop
 * that does (alts! [c (timeout 100)]) creates one channel per 10 ms, not one per turn.
 * A channel closes no earlier than asked and at most TIMEOUT_RES_NS later.
 *
 * Each distinct deadline (a "slot") is a small fiber spawned on the caller's worker (a
 * plain thread's go round-robin) that waits on the worker's timer heap until the rounded
 * deadline, then closes its channel: no thread, no global heap, no lock on the firing
 * path but its stripe's. The fiber owns one reference to the channel; each caller gets
 * its own.
 *
 * Shared state: the slot table, a hash of stripes keyed by the rounded deadline; a
 * stripe's chain and each slot's `armed`, under the stripe's spin lock (held for a lookup,
 * a link or an unlink: nothing allocates or closes under it). A slot is linked from its
 * making until its fiber fires, and is owned (freed) by that fiber; the spawner touches
 * it after fiber_spawn only if the spawn failed. `live` counts slot fibers (the shutdown
 * hook waits for zero under drain_lock, which the last fiber takes to signal).
 *
 * Fork: the child forgets every slot (timer_fork_child); a timeout channel made before
 * the fork never closes in the child.
 *
 * Shutdown: rf_shutdown runs timer_drain, which closes every pending timeout channel
 * at once (waking whoever waits on one) and waits until every slot fiber has ended, so
 * no fiber is abandoned holding a channel. Timeouts made while draining close at once.
 */
#include <pthread.h>
#include <stdlib.h>

#include "runtime/chan/chan_impl.h"
#include "runtime/sched/sched.h"

#define TIMEOUT_RES_NS 10000000u /* core.async's TIMEOUT_RESOLUTION_MS */
#define NSTRIPES 64

typedef struct slot {
	waiter w;          /* the fiber waits on it until the deadline; drain completes it early */
	uint64_t at;       /* rounded deadline, in TIMEOUT_RES_NS units: the key */
	rf_chan *ch;       /* the fiber's reference */
	struct slot *next; /* stripe chain */
	bool armed;        /* the fiber will wait on w (init done): drain may claim it */
} slot;

static struct stripe {
	spinlock lock;
	slot *head;
} stripes[NSTRIPES];

static _Atomic int live;
static _Atomic bool draining;
static pthread_mutex_t drain_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t drain_cond = PTHREAD_COND_INITIALIZER;
static pthread_once_t timer_once_ctl = PTHREAD_ONCE_INIT;

static struct stripe *stripe_of(uint64_t at)
{
	return &stripes[at % NSTRIPES];
}

static void unlink_slot(struct stripe *st, slot *s)
{
	for (slot **p = &st->head; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
}

/* The slot's time has come (or it never got a fiber): no later timeout joins it, its
 * channel closes, its reference goes. */
static void slot_end(struct stripe *st, slot *s)
{
	spin_lock(&st->lock);
	unlink_slot(st, s);
	spin_unlock(&st->lock);
	rf_chan_close(s->ch);
	rf_chan_release(s->ch);
	free(s);
}

static void slot_fiber(void *arg)
{
	slot *s = arg;
	struct stripe *st = stripe_of(s->at);
	waiter_init(&s->w);
	spin_lock(&st->lock);
	/* Relaxed: drain sets the flag before it walks the stripes under their locks. A
	 * fiber that finds it set is not armed: it frees the slot without waiting, so a
	 * drain still walking must not claim the waiter. */
	bool wait = !atomic_load_explicit(&draining, memory_order_relaxed);
	s->armed = wait;
	spin_unlock(&st->lock);
	if (wait)
		waiter_wait(&s->w, s->at * TIMEOUT_RES_NS);
	slot_end(st, s);
	/* seq_cst, as drain's store of draining and load of live: either this load sees
	 * draining or drain's load sees the decrement (no lost signal). */
	if (atomic_fetch_sub_explicit(&live, 1, memory_order_seq_cst) == 1 &&
	    atomic_load_explicit(&draining, memory_order_seq_cst)) {
		mutex_lock_ranked(&drain_lock, LOCKRANK_CHAN_TIMER_DRAIN);
		pthread_cond_broadcast(&drain_cond);
		mutex_unlock_ranked(&drain_lock, LOCKRANK_CHAN_TIMER_DRAIN);
	}
}

/* Shutdown hook: close every pending timeout now and wait for the slot fibers to end. */
static void timer_drain(void)
{
	atomic_store_explicit(&draining, true, memory_order_seq_cst);
	for (int i = 0; i < NSTRIPES; i++) {
		struct stripe *st = &stripes[i];
		spin_lock(&st->lock);
		waiter *chain = NULL;
		for (slot *s = st->head; s; s = s->next)
			if (s->armed && waiter_claim(&s->w)) {
				s->w.link[0] = chain;
				chain = &s->w;
			}
		spin_unlock(&st->lock);
		/* The fibers stay blocked until completed, so their slots outlive this. */
		waitlist_complete_chain(chain, 0, RF_NIL);
	}
	mutex_lock_ranked(&drain_lock, LOCKRANK_CHAN_TIMER_DRAIN);
	while (atomic_load_explicit(&live, memory_order_seq_cst) > 0)
		pthread_cond_wait(&drain_cond, &drain_lock);
	mutex_unlock_ranked(&drain_lock, LOCKRANK_CHAN_TIMER_DRAIN);
	atomic_store_explicit(&draining, false, memory_order_seq_cst);
}

/* Fork child: the slot fibers were the parent's and are gone. Forget their slots (the
 * channels stay, unclosed, for whoever holds them), so that a timeout made in the child
 * never joins a slot nobody will fire. */
static void timer_fork_child(void)
{
	for (int i = 0; i < NSTRIPES; i++) {
		spin_init(&stripes[i].lock, LOCKRANK_CHAN_TIMEOUT);
		for (slot *s = stripes[i].head, *next; s; s = next) {
			next = s->next;
			rf_chan_release(s->ch);
			free(s);
		}
		stripes[i].head = NULL;
	}
	atomic_store_explicit(&live, 0, memory_order_relaxed);
	atomic_store_explicit(&draining, false, memory_order_relaxed);
	pthread_mutex_init(&drain_lock, NULL);
	pthread_cond_init(&drain_cond, NULL);
}

static void timer_once(void)
{
	for (int i = 0; i < NSTRIPES; i++)
		spin_init(&stripes[i].lock, LOCKRANK_CHAN_TIMEOUT);
	(void)sched_on_shutdown(timer_drain);
	(void)sched_on_fork_child(timer_fork_child);
}

/* Under st->lock: the slot for deadline unit `at`, or NULL. */
static slot *slot_find(struct stripe *st, uint64_t at)
{
	for (slot *s = st->head; s; s = s->next)
		if (s->at == at)
			return s;
	return NULL;
}

/* A new slot for deadline unit `at`, published before its fiber starts; or the one
 * another caller published meanwhile. */
static int slot_make(uint64_t at, rf_chan **out)
{
	slot *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	int rc = rf_chan_new(&s->ch);
	if (rc < 0) {
		free(s);
		return rc;
	}
	s->at = at;
	struct stripe *st = stripe_of(at);
	spin_lock(&st->lock);
	slot *other = slot_find(st, at);
	if (other) {
		*out = rf_chan_retain(other->ch);
		spin_unlock(&st->lock);
		rf_chan_release(s->ch);
		free(s);
		return 0;
	}
	s->next = st->head;
	st->head = s;
	*out = rf_chan_retain(s->ch);
	spin_unlock(&st->lock);
	atomic_fetch_add_explicit(&live, 1, memory_order_relaxed);
	rc = fiber_spawn(slot_fiber, s, SCHED_WORKER_ANY, NULL);
	if (rc == 0)
		return 0;
	/* No fiber (runtime stopping, no stack): whoever shared the slot sees it closed. */
	atomic_fetch_sub_explicit(&live, 1, memory_order_relaxed);
	slot_end(st, s);
	rf_chan_release(*out);
	*out = NULL;
	return rc;
}

int rf_chan_timeout(int64_t ms, rf_chan **out)
{
	if (ms < 0 || !out)
		return -EINVAL;
	int rc = sched_ensure();
	if (rc < 0)
		return rc;
	pthread_once(&timer_once_ctl, timer_once);
	uint64_t at = (time_deadline_after_ms(ms) + TIMEOUT_RES_NS - 1) / TIMEOUT_RES_NS;
	struct stripe *st = stripe_of(at);
	spin_lock(&st->lock);
	slot *s = slot_find(st, at);
	if (s)
		*out = rf_chan_retain(s->ch);
	spin_unlock(&st->lock);
	return s ? 0 : slot_make(at, out);
}
