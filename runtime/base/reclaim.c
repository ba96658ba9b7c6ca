/* runtime/base/reclaim.c: retirement of replaced values on liburcu-bp (see reclaim.h).
 *
 * Read sections and grace periods are liburcu-bp's. Retirement is batched per thread:
 * handing each value to call_rcu() on its own measured ~0.6-1 us per retire here (an
 * allocation, a queue hand-off and a cross-thread free each time), so a thread collects
 * its retired values in a batch of BATCH entries and hands over the whole batch with one
 * call_rcu() when it fills.
 *
 * Shared state and its rules:
 *   struct thread_batches (one per thread that ever retired, found through a TLS pointer):
 *     lock      a spinlock, taken by the owning thread around every change of cur/spare
 *               (uncontended: one xchg) and by rf_reclaim_barrier to drain cur. Held
 *               for a few stores, never across a call to user code or liburcu.
 *     cur       the filling batch (entries [0, n) complete), or NULL.
 *     spare     an empty batch kept ready so that a retire never allocates, or NULL.
 *     reserved  owner only: records promised by reclaim_node_alloc and not yet used
 *               (nested swaps may hold several). Invariant, whenever the owner is not
 *               inside retire: free slots of cur + BATCH * (spare != NULL) >= reserved.
 *     link      in `all`, under all_lock.
 *   all / all_lock  every live thread_batches, for the barrier; lock order: all_lock,
 *               then a thread's lock.
 * A submitted batch is owned by liburcu until its callback, which releases the entries
 * and frees it. A thread's batches are submitted when full, by the barrier (drained) and
 * at thread exit (pthread key destructor), so at most BATCH - 1 retired values wait per
 * thread for one of those.
 *
 * Ordering. The object's last use by a reader happens before the reader's read-unlock;
 * liburcu's grace period (membarrier + its reader-registry scan) guarantees that the
 * call_rcu callback starts after every read section open at call_rcu time has ended, and
 * a value is in a batch before the batch is submitted. ThreadSanitizer cannot see that
 * edge (liburcu is not instrumented and membarrier is a syscall), nor the hand-over of a
 * batch through liburcu's queue, so TSan builds add explicit edges: each read-unlock and
 * each submission is a release RMW on tsan_grace, each release an acquire load of it (all
 * writes to it are RMWs: one release sequence).
 */
#define _LGPL_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <urcu-bp.h>
#include <urcu/call-rcu.h>

#include "runtime/base/lockrank.h"
#include "runtime/base/reclaim.h"

enum { BATCH = 64 };

struct entry {
	rf_val value;
	rf_release_fn release;
	rf_val ctx;
};

struct batch {
	struct rcu_head head; /* first: the callback gets &head */
	unsigned n;
	struct entry e[BATCH];
};

struct reclaim_thread { /* the per-thread state; a reservation token is a pointer to it */
	_Atomic int lock;
	struct batch *cur, *spare;
	unsigned reserved;
	struct reclaim_thread *prev, *next;
};

static pthread_mutex_t all_lock = PTHREAD_MUTEX_INITIALIZER;
static struct reclaim_thread *all;
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static _Thread_local struct reclaim_thread *self;

#ifdef RF_TSAN
static _Atomic unsigned long tsan_grace;

/* liburcu synchronises its own records (rcu_barrier's completion, queue nodes) through
 * futexes and uatomic operations that TSan cannot see; suppress races reported inside
 * liburcu-bp itself. Its mutexes stay visible (they order the reuse of a dead thread's
 * reader record), and our own batches and values carry the explicit edges above. */
const char *__tsan_default_suppressions(void);
const char *__tsan_default_suppressions(void)
{
	return "race:liburcu-bp.so\n";
}
#endif

/* Release edge for TSan (see the header comment); nothing otherwise. */
static void tsan_publish(void)
{
#ifdef RF_TSAN
	atomic_fetch_add_explicit(&tsan_grace, 1, memory_order_release);
#endif
}

static void tsan_after_grace(void)
{
#ifdef RF_TSAN
	(void)atomic_load_explicit(&tsan_grace, memory_order_acquire);
#endif
}

void rf_reclaim_read_begin(void)
{
	urcu_bp_read_lock();
}

void rf_reclaim_read_end(void)
{
	tsan_publish(); /* the section's reads happen before any release after it */
	urcu_bp_read_unlock();
}

bool reclaim_read_ongoing(void)
{
	return urcu_bp_read_ongoing();
}

static void lock_thread(struct reclaim_thread *t)
{
	unsigned spins = 0;
	/* Acquire pairs with unlock_thread's release: cur/spare as the last holder left them. */
	while (atomic_exchange_explicit(&t->lock, 1, memory_order_acquire))
		if (++spins % 64 == 0)
			sched_yield(); /* only the barrier competes, rarely: let the holder run */
}

static void unlock_thread(struct reclaim_thread *t)
{
	atomic_store_explicit(&t->lock, 0, memory_order_release);
}

static void release_batch(struct batch *b)
{
	tsan_after_grace();
	for (unsigned i = 0; i < b->n; i++)
		b->e[i].release(b->e[i].value, b->e[i].ctx);
}

static void batch_cb(struct rcu_head *head)
{
	struct batch *b = (struct batch *)head;
	release_batch(b);
	free(b);
}

static void submit(struct batch *b)
{
	tsan_publish(); /* the entries travel through liburcu's uninstrumented queue */
	urcu_bp_call_rcu(&b->head, batch_cb);
}

/* Thread exit: hand over what is left, forget the thread. */
static void thread_exit(void *arg)
{
	struct reclaim_thread *t = arg;
	mutex_lock_ranked(&all_lock, LOCKRANK_RECLAIM);
	if (t->prev)
		t->prev->next = t->next;
	else
		all = t->next;
	if (t->next)
		t->next->prev = t->prev;
	mutex_unlock_ranked(&all_lock, LOCKRANK_RECLAIM);
	if (t->cur && t->cur->n)
		submit(t->cur);
	else
		free(t->cur);
	free(t->spare);
	free(t);
	self = NULL; /* a later destructor that retires starts afresh */
}

static void make_exit_key(void)
{
	pthread_key_create(&exit_key, thread_exit);
}

static struct reclaim_thread *thread_state(void)
{
	if (self)
		return self;
	struct reclaim_thread *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	pthread_once(&exit_once, make_exit_key);
	if (pthread_setspecific(exit_key, t)) {
		free(t);
		return NULL;
	}
	atomic_init(&t->lock, 0);
	mutex_lock_ranked(&all_lock, LOCKRANK_RECLAIM);
	t->next = all;
	if (all)
		all->prev = t;
	all = t;
	mutex_unlock_ranked(&all_lock, LOCKRANK_RECLAIM);
	return self = t;
}

reclaim_thread *reclaim_node_alloc(void)
{
	struct reclaim_thread *t = thread_state();
	if (!t)
		return NULL;
	lock_thread(t);
	unsigned room = (t->cur ? BATCH - t->cur->n : 0) + (t->spare ? BATCH : 0);
	if (room < t->reserved + 1) { /* at most one batch short: reservations nest shallowly */
		struct batch *b = NULL;
		unlock_thread(t); /* no allocation under the spinlock */
		if (room + BATCH >= t->reserved + 1 && (b = malloc(sizeof(*b))))
			b->n = 0;
		lock_thread(t);
		if (!b) {
			unlock_thread(t);
			return NULL;
		}
		if (!t->cur) {
			t->cur = b;
		} else if (!t->spare) {
			t->spare = b;
		} else { /* both present and still short: nested more than a batch deep */
			unlock_thread(t);
			free(b);
			return NULL;
		}
	}
	t->reserved++;
	unlock_thread(t);
	return t;
}

void reclaim_node_free(reclaim_thread *node)
{
	if (node)
		node->reserved--; /* owner only */
}

void reclaim_retire(reclaim_thread *t, rf_val value, rf_release_fn release, rf_val ctx)
{
	struct batch *full = NULL;
	lock_thread(t);
	t->reserved--;
	if (!t->cur || t->cur->n == BATCH) { /* the invariant promises a spare here */
		full = t->cur;
		t->cur = t->spare;
		t->spare = NULL;
	}
	t->cur->e[t->cur->n++] = (struct entry){value, release, ctx};
	if (t->cur->n == BATCH && t->spare) {
		full = t->cur;
		t->cur = t->spare;
		t->spare = NULL;
	}
	unlock_thread(t);
	if (full && full->n)
		submit(full);
	else
		free(full);
}

void reclaim_retire_now_or_wait(rf_val value, rf_release_fn release, rf_val ctx)
{
	reclaim_thread *node = reclaim_node_alloc();
	if (node) {
		reclaim_retire(node, value, release, ctx);
		return;
	}
	urcu_bp_synchronize_rcu();
	tsan_after_grace();
	release(value, ctx);
}

void rf_reclaim_barrier(void)
{
	/* Drain every thread's filling batch: copy its entries out under its lock (no
	 * allocation, so this cannot fail), wait for a grace period, release them here. */
	struct batch drained;
	/* Register this thread first: a release function run below that retires on this
	 * thread must not need all_lock, which we hold. */
	(void)thread_state();
	mutex_lock_ranked(&all_lock, LOCKRANK_RECLAIM);
	for (struct reclaim_thread *t = all; t; t = t->next) {
		lock_thread(t);
		drained.n = 0;
		if (t->cur) {
			drained = *t->cur;
			t->cur->n = 0;
		}
		unlock_thread(t);
		if (drained.n) {
			tsan_publish();
			urcu_bp_synchronize_rcu();
			release_batch(&drained);
		}
	}
	mutex_unlock_ranked(&all_lock, LOCKRANK_RECLAIM);
	urcu_bp_barrier(); /* and every batch already submitted */
}
