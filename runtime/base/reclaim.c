/* runtime/base/reclaim.c: read sections, grace periods and the retirement of replaced
 * values (see runtime/base/reclaim.h and ringfold/reclaim.h).
 *
 * Readers. Each thread has a record (rf_reclaim_self, thread-local): `nest` and
 * `flags` are the thread's; `epoch` is 0 outside a section, else the value of the global
 * epoch (rf_reclaim_epoch, starts at 1, only grows) the thread read when its outermost
 * section began. The thread writes it with release stores; the scan reads it with
 * acquire. A record is in `readers` (under readers_lock) from the thread's first section
 * until the thread exits (a pthread key destructor unlinks it, before the thread's TLS
 * goes away), so the scan, which holds readers_lock, never reads a dead record.
 *
 * Grace period (synchronize): target = ++epoch; membarrier(PRIVATE_EXPEDITED); then wait
 * until no record holds an epoch in [1, target). Why that suffices, for a value v
 * unpublished before synchronize began and a reader R:
 *  - R read an epoch below target and stored it before the membarrier took effect on
 *    R's CPU: the scan sees the store and waits for R's exit store (release: R's uses
 *    of v happen before it, and the scan's acquire load pairs with it).
 *  - R stored its epoch after that point: membarrier orders R's later loads after our
 *    unpublication of v, so R cannot load v. (A reader that registers meanwhile takes readers_lock
 *    after the scan released it: the same holds.)
 *  - R read the incremented epoch (its store may escape the scan): its acquire load
 *    pairs with the increment, so R sees v unpublished, and cannot load it.
 * Without membarrier (old kernels, some sandboxes) each outermost section ends its enter
 * with a full fence (RF_RECLAIM_FENCE) and synchronize fences after the increment.
 *
 * Retirement is batched per thread: a thread collects its retired values in a batch of
 * BATCH entries and hands the full batch to the reclaimer thread, which waits for one
 * grace period per round and releases everything it took.
 *
 * No retirement waits for a grace period: retirers are often inside a read section of
 * their own (an owning atom's swap, an STM transaction), or hold what a reader waits on
 * (an STM commit retires while INSTALLING, with REF_I set). So reclaim_node_alloc, the
 * step that may fail, first makes sure the reclaimer thread runs (retrying its start
 * while it cannot be created: NULL then, and the caller reports -ENOMEM); a record thus
 * promises a reclaimer, and a full batch is always pushed. Likewise rf_reclaim_barrier
 * waits for its grace periods holding no lock that a reader may take (all_lock is taken
 * by a thread's first reclaim_node_alloc, which may come from inside a section). A
 * teardown's reclaim_retire_now_or_wait that gets no record waits for a grace period
 * only outside a section; inside one it leaves the value in `reserve`. A fork's child
 * has no reclaimer, whatever the parent had, and no other thread, whose records (one
 * inside a section would stall every grace period) go: fork_child, registered before the
 * first section, says so, and the child's next reservation starts a reclaimer.
 *
 * Shared state and its rules:
 *   struct reclaim_thread (one per thread that ever retired, found through a TLS pointer):
 *     lock      a spinlock, taken by the owning thread around every change of cur/spare
 *               (uncontended: one xchg) and by rf_reclaim_barrier to drain cur. Held
 *               for a few stores, never across a call to user code.
 *     cur       the filling batch (entries [0, n) complete), or NULL.
 *     spare     an empty batch kept ready so that a retire never allocates, or NULL.
 *     reserved  owner only: records promised by reclaim_node_alloc and not yet used
 *               (nested swaps may hold several). Invariant, whenever the owner is not
 *               inside retire: free slots of cur + BATCH * (spare != NULL) >= reserved.
 *     prev/next in `all`, under all_lock.
 *     drained   under all_lock: the last barrier (barrier_gen) that drained cur.
 *   all / all_lock  every live reclaim_thread, for the barrier; also serializes starts of
 *               the reclaimer (reclaimer_running: written under it, release; read
 *               acquire). Never held while waiting for a grace period or running a release
 *               function. barrier_lock: one barrier at a time (barrier_gen, under all_lock,
 *               tells which threads it has drained). Lock order: barrier_lock
 *               (RECLAIM_BARRIER), all_lock (RECLAIM), readers_lock (RECLAIM_READERS), a
 *               thread's spinlock.
 *   reserve     values retired without a record inside a section; under its spin word.
 *               Taken (moved out) by whoever next waits for a grace period, before it.
 *   queue       submitted batches, a lock-free stack (push: CAS, release; the reclaimer
 *               takes the whole stack with an acquire exchange), so a retire under a
 *               spin lock never takes a mutex. queue_seq is the reclaimer's futex word,
 *               bumped by every push; queue_sleeping says it may be asleep on it (both
 *               seq_cst: a push either sees it asleep and wakes it, or is seen by its last
 *               look at the stack). A barrier pushes a marker batch and waits for it:
 *               every batch pushed before it is in the same round or an earlier one, and
 *               markers are completed after the round's releases (done_seq, futex).
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "runtime/base/assert.h"
#include "runtime/base/ctx.h"
#include "runtime/base/lockrank.h"
#include "runtime/base/reclaim.h"

/* initial-exec: the calls below reach it at a fixed offset, as ctx.c does its context */
__thread rf_reclaim_reader rf_reclaim_self __attribute__((tls_model("initial-exec")));
uint64_t rf_reclaim_epoch = 1;

/* ---- readers ---- */

static pthread_mutex_t readers_lock = PTHREAD_MUTEX_INITIALIZER;
static rf_reclaim_reader *readers; /* link[0] prev, link[1] next; under readers_lock */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static pthread_key_t reader_key;
static bool use_membarrier; /* written once under init_once */
static bool atfork_set;     /* written once under init_once: fork_child will run */

static void reader_exit(void *arg);
static void fork_child(void);

/* Before the first section or grace period: fork_child must forget the records of
 * threads that may be inside a section at a fork even if nothing was ever retired. */
static void init(void)
{
	atfork_set = pthread_atfork(NULL, NULL, fork_child) == 0;
	pthread_key_create(&reader_key, reader_exit);
	long cmds = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	use_membarrier =
	    cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	    syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

void rf_reclaim_register(void)
{
	rf_reclaim_reader *r = &rf_reclaim_self;
	pthread_once(&init_once, init);
	/* Never fails: without the key (its only error is running out of keys, at the
	 * first registration) the record stays registered after its thread exits, and the
	 * scan would read freed TLS; a library cannot carry on from that. */
	if (pthread_setspecific(reader_key, r)) {
		fputs("ringfold: no thread-specific key left for read sections\n", stderr);
		abort();
	}
	mutex_lock_ranked(&readers_lock, LOCKRANK_RECLAIM_READERS);
	r->flags = RF_RECLAIM_REGISTERED | (use_membarrier ? 0 : RF_RECLAIM_FENCE);
	r->link[0] = NULL;
	r->link[1] = readers;
	if (readers)
		readers->link[0] = r;
	readers = r;
	mutex_unlock_ranked(&readers_lock, LOCKRANK_RECLAIM_READERS);
}

/* Thread exit: forget the record. A thread that exits inside a section has no use left
 * for what it read (a broken precondition, checked in debug builds). */
static void reader_exit(void *arg)
{
	rf_reclaim_reader *r = arg;
	RF_ASSERT(r->nest == 0 && "a thread exited inside a read section");
	mutex_lock_ranked(&readers_lock, LOCKRANK_RECLAIM_READERS);
	rf_reclaim_reader *prev = r->link[0], *next = r->link[1];
	if (prev)
		prev->link[1] = next;
	else
		readers = next;
	if (next)
		next->link[0] = prev;
	r->flags = 0; /* a later destructor that reads registers again */
	r->nest = 0;
	__atomic_store_n(&r->epoch, 0, __ATOMIC_RELAXED);
	mutex_unlock_ranked(&readers_lock, LOCKRANK_RECLAIM_READERS);
}

/* The inline forms' bodies (ringfold/reclaim.h), for the calls. */
static inline void section_enter(void)
{
	rf_reclaim_reader *r = &rf_reclaim_self;
	if (r->nest++)
		return;
	if (!(r->flags & RF_RECLAIM_REGISTERED))
		rf_reclaim_register();
	__atomic_store_n(&r->epoch, __atomic_load_n(&rf_reclaim_epoch, __ATOMIC_ACQUIRE),
	                 __ATOMIC_RELEASE);
	if (r->flags & RF_RECLAIM_FENCE)
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	else
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static inline void section_exit(void)
{
	rf_reclaim_reader *r = &rf_reclaim_self;
	if (--r->nest)
		return;
	__atomic_store_n(&r->epoch, 0, __ATOMIC_RELEASE);
}

#ifdef RF_DEBUG_INVARIANTS
/* Sections per context: a fiber must close what it opened before it ends. */
static void section_ctx_end(exec_ctx *c)
{
	RF_ASSERT(c->reclaim_nest == 0 && "a fiber ended inside a read section");
}
#endif

void rf_reclaim_read_begin(void)
{
#ifdef RF_DEBUG_INVARIANTS
	static _Atomic bool hooked; /* relaxed: ctx_on_end is idempotent */
	if (!atomic_load_explicit(&hooked, memory_order_relaxed)) {
		RF_ASSERT(ctx_on_end(section_ctx_end) == 0);
		atomic_store_explicit(&hooked, true, memory_order_relaxed);
	}
	ctx_self()->reclaim_nest++;
#endif
	section_enter();
}

void rf_reclaim_read_end(void)
{
#ifdef RF_DEBUG_INVARIANTS
	RF_ASSERT(rf_reclaim_self.nest > 0 && "a read section ended that was not open");
	RF_ASSERT(ctx_self()->reclaim_nest-- > 0 && "a fiber closed a section it did not open");
#endif
	section_exit();
}

static void backoff(unsigned round)
{
	if (round < 64) {
		sched_yield();
		return;
	}
	/* a reader inside a long section (a parked fiber): poll gently, at most 1 ms */
	long ns = round < 74 ? 1000L << (round - 64) : 1000000L;
	nanosleep(&(struct timespec){.tv_nsec = ns}, NULL);
}

/* Wait until every section open now has ended (the comment at the top). Never inside a
 * section of the calling thread. */
static void synchronize(void)
{
	pthread_once(&init_once, init);
	uint64_t target = __atomic_add_fetch(&rf_reclaim_epoch, 1, __ATOMIC_SEQ_CST);
	if (!use_membarrier) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST); /* readers fence (RF_RECLAIM_FENCE) */
	} else if (syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) {
		/* registered at init; readers do not fence: nothing else would be safe */
		fputs("ringfold: membarrier failed after registration\n", stderr);
		abort();
	}
	for (unsigned round = 0;; round++) {
		bool busy = false;
		mutex_lock_ranked(&readers_lock, LOCKRANK_RECLAIM_READERS);
		for (rf_reclaim_reader *r = readers; r && !busy; r = r->link[1]) {
			uint64_t e = __atomic_load_n(&r->epoch, __ATOMIC_ACQUIRE); /* pairs: exit */
			busy = e != 0 && e < target;
		}
		mutex_unlock_ranked(&readers_lock, LOCKRANK_RECLAIM_READERS);
		if (!busy)
			return;
		backoff(round);
	}
}

/* ---- retirement ---- */

enum { BATCH = 64 };

struct entry {
	rf_val value;
	rf_release_fn release;
	rf_val ctx;
};

struct batch {
	struct batch *next; /* in the queue */
	_Atomic int *done;  /* a barrier's marker (n == 0): set when its round is over */
	unsigned n;
	struct entry e[BATCH];
};

struct reclaim_thread { /* the per-thread state; a reservation token is a pointer to it */
	_Atomic int lock;
	struct batch *cur, *spare;
	unsigned reserved;
	uint64_t drained;
	struct reclaim_thread *prev, *next;
};

static pthread_mutex_t all_lock = PTHREAD_MUTEX_INITIALIZER;
static struct reclaim_thread *all;
static pthread_mutex_t barrier_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t barrier_gen; /* under all_lock */
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static _Thread_local struct reclaim_thread *self;

static _Atomic(struct batch *) queue;
static _Atomic uint32_t queue_seq, queue_sleeping, done_seq;
/* Once true, stays true. Read by every reclaim_node_alloc: a line of its own, away from
 * the words every push writes. */
static _Alignas(64) _Atomic bool reclaimer_running;

/* Values reclaim_retire_now_or_wait could give no record while its thread was inside a
 * section (where a grace period would wait for itself), until whoever next waits for one
 * takes them: the reclaimer's next round, a barrier, or such a retirement outside a
 * section. Under `lock`, a spin word. */
static struct {
	_Atomic int lock;
	unsigned n;
	struct batch *full; /* earlier values, in batches linked by next */
	struct entry e[BATCH];
} reserve;

/* A spin word held for a few stores (a thread's lock, reserve.lock). */
static void spin_word_lock(_Atomic int *w)
{
	unsigned spins = 0;
	/* Acquire pairs with spin_word_unlock's release: the data as the last holder left it. */
	while (atomic_exchange_explicit(w, 1, memory_order_acquire))
		if (++spins % 64 == 0)
			sched_yield(); /* contention is rare (a barrier): let the holder run */
}

static void spin_word_unlock(_Atomic int *w)
{
	atomic_store_explicit(w, 0, memory_order_release);
}

static struct batch *batch_new(void);
static void release_batch(struct batch *b);

/* Keep a value that reclaim_retire_now_or_wait could give no record inside a section;
 * false if the reserve is full and no batch can be allocated to empty it into. */
static bool reserve_put(rf_val value, rf_release_fn release, rf_val ctx)
{
	struct batch *b = NULL;
	for (;;) {
		spin_word_lock(&reserve.lock);
		if (reserve.n == BATCH && b) { /* the values so far move out into b */
			memcpy(b->e, reserve.e, sizeof(reserve.e));
			b->n = BATCH;
			b->next = reserve.full;
			reserve.full = b;
			reserve.n = 0;
			b = NULL;
		}
		bool room = reserve.n < BATCH;
		if (room)
			reserve.e[reserve.n++] = (struct entry){value, release, ctx};
		spin_word_unlock(&reserve.lock);
		if (room) {
			free(b);
			return true;
		}
		if (!(b = batch_new())) /* no allocation under the spin word */
			return false;
	}
}

/* Move the reserve's values out, for the grace period their taker waits for: the newest
 * into b (empty), the rest as the returned list of batches (release_list). */
static struct batch *reserve_take(struct batch *b)
{
	spin_word_lock(&reserve.lock);
	memcpy(b->e, reserve.e, reserve.n * sizeof(b->e[0]));
	b->n = reserve.n;
	reserve.n = 0;
	struct batch *full = reserve.full;
	reserve.full = NULL;
	spin_word_unlock(&reserve.lock);
	return full;
}

static void release_list(struct batch *l)
{
	for (struct batch *next; l; l = next) {
		next = l->next;
		release_batch(l);
		free(l);
	}
}

static long futex(_Atomic uint32_t *word, int op, uint32_t val)
{
	return syscall(SYS_futex, word, op | FUTEX_PRIVATE_FLAG, val, NULL, NULL, 0);
}

static void release_batch(struct batch *b)
{
	for (unsigned i = 0; i < b->n; i++)
		b->e[i].release(b->e[i].value, b->e[i].ctx);
}

/* The reclaimer thread: take every submitted batch, wait for a grace period, release. */
static void *reclaimer(void *arg)
{
	for (;;) {
		uint32_t seq = atomic_load_explicit(&queue_seq, memory_order_seq_cst);
		/* Acquire pairs with the pushes' release: the batches' entries. */
		struct batch *list = atomic_exchange_explicit(&queue, NULL, memory_order_acquire);
		if (!list) {
			atomic_store_explicit(&queue_sleeping, 1, memory_order_seq_cst);
			if (!atomic_load_explicit(&queue, memory_order_seq_cst))
				futex(&queue_seq, FUTEX_WAIT, seq);
			atomic_store_explicit(&queue_sleeping, 0, memory_order_relaxed);
			continue;
		}
		struct batch held; /* taken before the grace period: released after it */
		struct batch *more = reserve_take(&held);
		synchronize();
		release_batch(&held);
		release_list(more);
		struct batch *markers = NULL;
		for (struct batch *b = list, *next; b; b = next) {
			next = b->next;
			if (b->done) {
				b->next = markers;
				markers = b;
				continue;
			}
			release_batch(b);
			free(b);
		}
		if (!markers)
			continue;
		for (struct batch *b = markers, *next; b; b = next) {
			next = b->next; /* the marker may be gone once done is set */
			atomic_store_explicit(b->done, 1,
			                      memory_order_release); /* pairs: barrier */
		}
		atomic_fetch_add_explicit(&done_seq, 1, memory_order_seq_cst);
		futex(&done_seq, FUTEX_WAKE, INT_MAX);
	}
	return NULL;
}

/* In the child of a fork(): only the forking thread exists (as runtime/sched/lifecycle.c
 * says for the runtime). The reclaimer is gone: the next reservation starts another, which
 * also releases the batches queued before the fork (those the old one had taken are
 * never released). Other threads' records go: their sections ended with them, and what
 * they had retired and not submitted is never released. Locks are initialized anew. */
static void fork_child(void)
{
	pthread_mutex_init(&readers_lock, NULL);
	pthread_mutex_init(&all_lock, NULL);
	pthread_mutex_init(&barrier_lock, NULL);
	atomic_store_explicit(&reserve.lock, 0, memory_order_relaxed);
	atomic_store_explicit(&reclaimer_running, false, memory_order_relaxed);
	rf_reclaim_reader *r = &rf_reclaim_self;
	readers = r->flags & RF_RECLAIM_REGISTERED ? r : NULL;
	r->link[0] = r->link[1] = NULL;
	all = self;
	if (self) {
		self->prev = self->next = NULL;
		atomic_store_explicit(&self->lock, 0, memory_order_relaxed);
	}
}

/* Whether the reclaimer thread runs, starting it if not (again at every call while it
 * cannot be created). Takes all_lock: never under a lock of a later rank. */
static bool reclaimer_ensure(void)
{
	/* acquire: pairs with the release below (nothing rides on it but the flag) */
	if (atomic_load_explicit(&reclaimer_running, memory_order_acquire))
		return true;
	pthread_once(&init_once, init); /* the thread we start is not in a fork's child */
	mutex_lock_ranked(&all_lock, LOCKRANK_RECLAIM);
	bool running = atomic_load_explicit(&reclaimer_running, memory_order_relaxed);
	pthread_attr_t attr;
	if (!running && atfork_set && pthread_attr_init(&attr) == 0) {
		pthread_t t;
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		running = pthread_create(&t, &attr, reclaimer, NULL) == 0;
		pthread_attr_destroy(&attr);
		if (running) {
			pthread_setname_np(t, "rf-reclaim");
			atomic_store_explicit(&reclaimer_running, true, memory_order_release);
		}
	}
	mutex_unlock_ranked(&all_lock, LOCKRANK_RECLAIM);
	return running;
}

static void push(struct batch *b)
{
	struct batch *head = atomic_load_explicit(&queue, memory_order_relaxed);
	do
		b->next = head;
	while (!atomic_compare_exchange_weak_explicit(&queue, &head, b, memory_order_seq_cst,
	                                              memory_order_relaxed));
	atomic_fetch_add_explicit(&queue_seq, 1, memory_order_seq_cst);
	if (atomic_load_explicit(&queue_sleeping, memory_order_seq_cst))
		futex(&queue_seq, FUTEX_WAKE, 1);
}

/* Hand a full batch to the reclaimer, which runs: its entries were retired with records,
 * and a record is only had once the reclaimer runs (reclaim_node_alloc). Never waits. */
static void submit(struct batch *b)
{
	RF_ASSERT(atomic_load_explicit(&reclaimer_running, memory_order_relaxed));
	push(b);
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
	t->drained = barrier_gen; /* it retired nothing before a running barrier began */
	t->next = all;
	if (all)
		all->prev = t;
	all = t;
	mutex_unlock_ranked(&all_lock, LOCKRANK_RECLAIM);
	return self = t;
}

static void lock_thread(struct reclaim_thread *t)
{
	spin_word_lock(&t->lock);
}

static void unlock_thread(struct reclaim_thread *t)
{
	spin_word_unlock(&t->lock);
}

static struct batch *batch_new(void)
{
	struct batch *b = malloc(sizeof(*b));
	if (b) {
		b->n = 0;
		b->done = NULL;
	}
	return b;
}

reclaim_thread *reclaim_node_alloc(void)
{
	struct reclaim_thread *t = reclaimer_ensure() ? thread_state() : NULL;
	if (!t)
		return NULL;
	lock_thread(t);
	unsigned room = (t->cur ? BATCH - t->cur->n : 0) + (t->spare ? BATCH : 0);
	if (room < t->reserved + 1) { /* at most one batch short: reservations nest shallowly */
		struct batch *b = NULL;
		unlock_thread(t); /* no allocation under the spinlock */
		if (room + BATCH >= t->reserved + 1)
			b = batch_new();
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
	if (rf_reclaim_self.nest) { /* a grace period would wait for this thread */
		if (!reserve_put(value, release, ctx))
			fputs("ringfold: no memory to retire a value inside a read section: it is "
			      "never released\n",
			      stderr);
		return;
	}
	struct batch held;
	struct batch *more = reserve_take(&held);
	synchronize();
	release(value, ctx);
	release_batch(&held);
	release_list(more);
}

void rf_reclaim_barrier(void)
{
	if (rf_reclaim_self.nest) {
		fputs("ringfold: rf_reclaim_barrier inside a read section would wait for itself\n",
		      stderr);
		abort();
	}
	/* Drain every thread's filling batch, one thread at a time: copy its entries out
	 * under its lock (no allocation, so this cannot fail), then, with all_lock dropped
	 * (a reader may take it), wait for a grace period and release them here. */
	struct batch drained = {.n = 0, .done = NULL};
	/* Register this thread first: a release function run below that retires on this
	 * thread must not need all_lock. */
	(void)thread_state();
	mutex_lock_ranked(&barrier_lock, LOCKRANK_RECLAIM_BARRIER);
	mutex_lock_ranked(&all_lock, LOCKRANK_RECLAIM);
	uint64_t gen = ++barrier_gen;
	for (;;) {
		for (struct reclaim_thread *t = all; t && !drained.n; t = t->next) {
			if (t->drained == gen)
				continue;
			t->drained = gen;
			lock_thread(t);
			if (t->cur) {
				drained.n = t->cur->n;
				memcpy(drained.e, t->cur->e, drained.n * sizeof(drained.e[0]));
				t->cur->n = 0;
			}
			unlock_thread(t);
		}
		if (!drained.n)
			break;
		mutex_unlock_ranked(&all_lock, LOCKRANK_RECLAIM);
		synchronize();
		release_batch(&drained);
		drained.n = 0;
		mutex_lock_ranked(&all_lock, LOCKRANK_RECLAIM);
	}
	mutex_unlock_ranked(&all_lock, LOCKRANK_RECLAIM);
	struct batch *more = reserve_take(&drained);
	if (drained.n || more) {
		synchronize();
		release_batch(&drained);
		release_list(more);
		drained.n = 0;
	}
	mutex_unlock_ranked(&barrier_lock, LOCKRANK_RECLAIM_BARRIER);
	/* And every batch submitted already: a marker behind them, done after its round.
	 * Without a reclaimer (a fork's child that cannot start one), release them here. */
	if (!reclaimer_ensure()) {
		/* acquire: pairs with the pushes' release */
		struct batch *list = atomic_exchange_explicit(&queue, NULL, memory_order_acquire);
		if (list)
			synchronize();
		for (struct batch *b = list, *next; b; b = next) {
			next = b->next;
			if (!b->done) { /* a marker of a barrier that did not survive the fork */
				release_batch(b);
				free(b);
			}
		}
		return;
	}
	_Atomic int done = 0;
	drained.n = 0;
	drained.done = &done;
	push(&drained);
	for (;;) {
		uint32_t seq = atomic_load_explicit(&done_seq, memory_order_seq_cst);
		if (atomic_load_explicit(&done, memory_order_acquire))
			break;
		futex(&done_seq, FUTEX_WAIT, seq);
	}
}
