/* runtime/stm/slot.c: transaction slots, their liveness and their latch.
 *
 * Contract:
 *  - Slots live in chunks that are never freed (type-stable), so a stale owner word can
 *    always be decoded and its slot's state read. The chunk table is filled under
 *    table_lock; a chunk pointer is published with a release store and read with an
 *    acquire load (any owner word a reader holds was made after its chunk existed).
 *  - A free slot is either in one thread's cache (thread-local, one slot) or on the
 *    global free list (under table_lock). A slot belongs to one transaction between
 *    stm_slot_get and stm_slot_put; fibers of one thread never share a slot because
 *    taking the cached slot is not interrupted by a fiber switch. A thread's cache is
 *    keyed (emptied at its exit) by its first stm_slot_get_slow, which comes before
 *    its first stm_slot_put: a slot is put back on the thread that got it (a started
 *    fiber never migrates).
 *  - The latch: waiters for "this attempt stopped" sit on s->waiters under s->wlock (a
 *    spin lock held for a few instructions, never while blocking). The stopper stores the
 *    new state and then loads nwaiters; a waiter adds to nwaiters and then loads the
 *    state: one of them sees the other, so either the waiter sees the attempt dead and
 *    does not wait, or the stopper drains it. Every attempt stops, waiters are rare:
 *    so once membarrier(PRIVATE_EXPEDITED) is registered (stm_latch_asym), the stopper's
 *    store is only a release (stm_slot_stop) and the waiter runs membarrier between its
 *    add and its load, a full barrier on every CPU running a thread of the process:
 *    either that barrier came after the stopper's load of nwaiters on its CPU, and so
 *    after its store, which the waiter's load then sees; or before it, and the stopper's
 *    load sees the add (reclaim.c's grace periods rely on the same). Without membarrier
 *    both sides are seq_cst. A stopper that read the flag false stores seq_cst, which
 *    pairs with either kind of waiter. A waiter that finds the attempt stopped, times
 *    out or is cancelled leaves nwaiters high: that only costs the stopper a look under
 *    wlock, and the stopper resets it.
 */
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/base/lockrank.h"
#include "runtime/sched/sched.h"
#include "runtime/stm/stm.h"

#define CHUNK_BITS 10
#define CHUNK_SLOTS (1u << CHUNK_BITS)
#define NCHUNKS ((STM_MAX_SLOTS + CHUNK_SLOTS) / CHUNK_SLOTS)

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(stm_slot *) chunks[NCHUNKS];
static uint32_t nslots;      /* slots handed out so far; under table_lock */
static stm_slot *free_slots; /* under table_lock */

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t cache_key;
_Thread_local stm_slot *stm_slot_cached __attribute__((tls_model("initial-exec")));
static _Thread_local bool cache_keyed __attribute__((tls_model("initial-exec")));

_Alignas(64) _Atomic bool stm_latch_asym; /* set once, by latch_init, before the first stop */
static pthread_once_t latch_once = PTHREAD_ONCE_INIT;

static void latch_init(void)
{
	long cmds = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	bool asym = cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	            syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
	/* relaxed: every holder and every waiter reads it after its own pthread_once (a
	 * stopper that saw it late would only store seq_cst) */
	atomic_store_explicit(&stm_latch_asym, asym, memory_order_relaxed);
}

void stm_relax(unsigned spins)
{
	if (spins < SPIN_PAUSES)
		cpu_relax();
	else if (fiber_self())
		fiber_yield();
	else
		sched_yield();
}

static void put_global(stm_slot *s)
{
	mutex_lock_ranked(&table_lock, LOCKRANK_STM_TABLE);
	s->next_free = free_slots;
	free_slots = s;
	mutex_unlock_ranked(&table_lock, LOCKRANK_STM_TABLE);
}

/* Thread exit: the cached slot goes back to the global list. */
static void cache_exit(void *p)
{
	stm_slot **c = p;
	if (*c)
		put_global(*c);
	*c = NULL;
}

static void make_key(void)
{
	pthread_key_create(&cache_key, cache_exit);
}

stm_slot *stm_slot_at(uint32_t idx)
{
	stm_slot *c = atomic_load_explicit(&chunks[idx >> CHUNK_BITS], memory_order_acquire);
	return &c[idx & (CHUNK_SLOTS - 1)];
}

stm_slot *stm_slot_of(uint64_t word)
{
	return stm_slot_at((uint32_t)(word & STM_MAX_SLOTS) - 1);
}

static stm_slot *slot_new_locked(void)
{
	if (nslots >= STM_MAX_SLOTS)
		return NULL;
	uint32_t ci = nslots >> CHUNK_BITS;
	stm_slot *c = atomic_load_explicit(&chunks[ci], memory_order_relaxed);
	if (!c) {
		c = aligned_alloc(64, sizeof(stm_slot) * CHUNK_SLOTS);
		if (!c)
			return NULL;
		memset(c, 0, sizeof(stm_slot) * CHUNK_SLOTS);
		for (uint32_t i = 0; i < CHUNK_SLOTS; i++) {
			c[i].idx = (ci << CHUNK_BITS) + i;
			atomic_init(&c[i].state, TX_COMMITTED);
			spin_init(&c[i].wlock, LOCKRANK_STM_SLOT);
			waitlist_init(&c[i].waiters);
		}
		atomic_store_explicit(&chunks[ci], c, memory_order_release);
	}
	return &c[nslots++ & (CHUNK_SLOTS - 1)];
}

stm_slot *stm_slot_get_slow(void)
{
	/* a thread's first transaction comes here: decide the latch before it stops one */
	pthread_once(&latch_once, latch_init);
	/* and key the cache, which stm_slot_put fills from now on */
	if (!cache_keyed) {
		pthread_once(&key_once, make_key);
		pthread_setspecific(cache_key, &stm_slot_cached);
		cache_keyed = true;
	}
	mutex_lock_ranked(&table_lock, LOCKRANK_STM_TABLE);
	stm_slot *s = free_slots;
	if (s)
		free_slots = s->next_free;
	else
		s = slot_new_locked();
	mutex_unlock_ranked(&table_lock, LOCKRANK_STM_TABLE);
	return s;
}

void stm_slot_put_global(stm_slot *s)
{
	put_global(s);
}

bool stm_word_live(uint64_t word, uint64_t *state)
{
	stm_slot *s = stm_slot_of(word);
	uint64_t st = atomic_load_explicit(&s->state, memory_order_seq_cst);
	*state = st;
	if (((st >> 3) & STM_SERIAL_MASK) != word >> STM_IDX_BITS)
		return false;
	return (st & TX_STATUS_MASK) <= TX_INSTALLING;
}

bool stm_word_installing(uint64_t word)
{
	/* seq_cst: after the reader's clock operation and its load of the owner word (stm.h) */
	uint64_t st = atomic_load_explicit(&stm_slot_of(word)->state, memory_order_seq_cst);
	return ((st >> 3) & STM_SERIAL_MASK) == word >> STM_IDX_BITS &&
	       (st & TX_STATUS_MASK) == TX_INSTALLING;
}

void stm_slot_wake_all(stm_slot *s)
{
	spin_lock(&s->wlock);
	waiter *chain = waitlist_claim_all(&s->waiters);
	atomic_store_explicit(&s->nwaiters, 0, memory_order_relaxed);
	spin_unlock(&s->wlock);
	waitlist_complete_chain(chain, 0, RF_NIL);
}

void stm_slot_await(uint64_t word, uint64_t deadline_ns)
{
	stm_slot *s = stm_slot_of(word);
	uint64_t st;
	/* Transactions are short: the holder usually stops within a few hundred ns, far
	 * sooner than a park and wake-up (a futex round trip of microseconds, and the
	 * holder's wake call) would take. A holder that takes longer was most likely
	 * interrupted or preempted: yield the CPU a few times (perhaps to it) before parking. */
	for (unsigned i = 0; stm_word_live(word, &st); i++) {
		if (i == STM_SPIN_ROUNDS + STM_YIELD_ROUNDS)
			break;
		if (i < STM_SPIN_ROUNDS)
			cpu_relax();
		else
			stm_relax(SPIN_PAUSES); /* a yield of the fiber or the thread */
	}
	if (!stm_word_live(word, &st))
		return;
	if (!deadline_ns)
		deadline_ns = time_now_ns() + STM_LOCK_WAIT_NS;
	waiter w;
	waiter_init(&w);
	pthread_once(&latch_once, latch_init);
	spin_lock(&s->wlock);
	atomic_fetch_add_explicit(&s->nwaiters, 1, memory_order_seq_cst);
	if (atomic_load_explicit(&stm_latch_asym, memory_order_relaxed)) {
		/* the waiter's half of the asymmetric pairing (above); not under the spin lock:
		 * a stopper that drains the list meanwhile stored its state before, so the
		 * check below sees it (wlock orders them) */
		spin_unlock(&s->wlock);
		if (syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0)) {
			/* no barrier (a process that lost its registration): the stop may not
			 * be seen by a sleeper, so poll for it instead, yielding */
			while (stm_word_live(word, &st) && time_now_ns() < deadline_ns)
				stm_relax(SPIN_PAUSES);
			return;
		}
		spin_lock(&s->wlock);
	}
	if (!stm_word_live(word, &st)) {
		spin_unlock(&s->wlock);
		return;
	}
	fiber_wait_on(WAIT_STM, s);
	(void)waitlist_sleep(&s->waiters, &s->wlock, &w, deadline_ns);
}

void stm_stats(uint64_t *commits, uint64_t *retries)
{
	uint64_t c = 0, r = 0;
	mutex_lock_ranked(&table_lock, LOCKRANK_STM_TABLE);
	uint32_t n = nslots;
	mutex_unlock_ranked(&table_lock, LOCKRANK_STM_TABLE);
	for (uint32_t i = 0; i < n; i++) {
		stm_slot *s = stm_slot_at(i);
		c += atomic_load_explicit(&s->commits, memory_order_relaxed);
		r += atomic_load_explicit(&s->retries, memory_order_relaxed);
	}
	*commits = c;
	*retries = r;
}
