/* runtime/agent/node.c: allocation of queue nodes.
 *
 * Nodes are allocated by senders and freed by drains on other threads, the pattern that
 * makes a general-purpose allocator move memory between threads on every send. Here each
 * thread (each executor worker, for fibers: they never migrate) carves nodes out of its
 * own slabs with a bump pointer, no atomics; a slab counts the nodes still to be freed and
 * the last free returns it. A thread keeps SLABS_PER_THREAD slabs open and takes an
 * agent's nodes from the one the agent's address picks, so a thread that sends to a few
 * agents in turn lays each agent's nodes out one after the other: the drain, which reads
 * them on another core, then reads consecutive lines, which the hardware prefetches.
 * Slabs are never reused in place: a slab lives until its last node is freed, so one node
 * held for long (by a failed agent) pins its 64-node slab, and a thread holds up to
 * SLABS_PER_THREAD slabs partly used.
 *
 *   slab field   written by                               read by
 *   used         the owning thread only                   the owning thread
 *   live         owner (init), any freeing thread (RMW)   any freeing thread
 *
 * live starts at NODES_PER_SLAB + 1: one per node, paid back by its free, and one for the
 * owning thread, paid back when it moves to a new slab in that slot (the old one is full)
 * or exits (then with the nodes it never handed out).
 * Whoever brings live to 0 frees the slab: acq_rel, so that thread sees every other
 * thread's last use of its nodes.
 *
 * Freed slabs go to a shared spare list (under spare_lock, at most SPARE_MAX of them)
 * before they go back to malloc: a slab is usually freed by a drain on an executor worker
 * and needed again by a sender on another thread, and glibc would keep it in the freeing
 * thread's arena while the sender's arena grows page by page. The lock is taken once per
 * 64 sends.
 *
 * A drain frees the nodes it ran through struct agent_frees: the nodes of one sender come
 * from one slab in a row, so one subtraction from `live` pays back the run (a line the
 * drains of all agents fed from that slab write).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "runtime/agent/agent_internal.h"
#include "runtime/base/lockrank.h"

enum { NODES_PER_SLAB = 64, SPARE_MAX = 4096, SLAB_SLOT_BITS = 4 };
enum { SLABS_PER_THREAD = 1 << SLAB_SLOT_BITS };

struct agent_slab {
	_Alignas(64) _Atomic uint32_t live; /* freeing threads' line */
	_Alignas(64) uint32_t used;         /* the owner's line */
	struct agent_slab *spare_next;      /* on the spare list */
	struct agent_node nodes[NODES_PER_SLAB];
};
_Static_assert(sizeof(struct agent_node) == 64, "a node is one cache line");

static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static struct agent_slab *spare; /* under spare_lock */
static size_t nspare;            /* under spare_lock */

static void slab_release(struct agent_slab *s)
{
	mutex_lock_ranked(&spare_lock, LOCKRANK_AGENT_NODES);
	bool keep = nspare < SPARE_MAX;
	if (keep) {
		s->spare_next = spare;
		spare = s;
		nspare++;
	}
	mutex_unlock_ranked(&spare_lock, LOCKRANK_AGENT_NODES);
	if (!keep)
		free(s);
}

static struct agent_slab *slab_obtain(void)
{
	mutex_lock_ranked(&spare_lock, LOCKRANK_AGENT_NODES);
	struct agent_slab *s = spare;
	if (s) {
		spare = s->spare_next;
		nspare--;
	}
	mutex_unlock_ranked(&spare_lock, LOCKRANK_AGENT_NODES);
	return s ? s : aligned_alloc(64, sizeof(*s));
}

/* A thread's open slabs, one per slot; an agent's nodes come from the slot its address
 * picks. */
struct thread_slabs {
	struct agent_slab *open[SLABS_PER_THREAD];
};
static _Thread_local struct thread_slabs tl_slabs;
static pthread_key_t slab_key;
static pthread_once_t slab_once = PTHREAD_ONCE_INIT;

static void slab_put(struct agent_slab *s, uint32_t n)
{
	if (atomic_fetch_sub_explicit(&s->live, n, memory_order_acq_rel) == n)
		slab_release(s);
}

/* Thread exit: pay back the nodes the thread's slabs never handed out. */
static void slabs_abandon(void *p)
{
	struct thread_slabs *t = p;
	for (int i = 0; i < SLABS_PER_THREAD; i++)
		if (t->open[i])
			slab_put(t->open[i], NODES_PER_SLAB - t->open[i]->used + 1);
}

static void slab_key_create(void)
{
	pthread_key_create(&slab_key, slabs_abandon);
}

static unsigned slot_of(const rf_agent *a)
{
	/* Fibonacci hashing of the agent's cache-line number: the top bits of the product. */
	uint64_t line = (uintptr_t)a / 64;
	return (unsigned)((line * 0x9E3779B97F4A7C15u) >> (64 - SLAB_SLOT_BITS));
}

struct agent_node *agent_node_alloc(const rf_agent *a)
{
	struct agent_slab **slot = &tl_slabs.open[slot_of(a)];
	struct agent_slab *s = *slot;
	if (!s || s->used == NODES_PER_SLAB) {
		pthread_once(&slab_once, slab_key_create);
		struct agent_slab *full = s;
		s = slab_obtain();
		if (!s)
			return NULL;
		if (full)
			slab_put(full, 1);
		atomic_init(&s->live, NODES_PER_SLAB + 1);
		s->used = 0;
		*slot = s;
		pthread_setspecific(slab_key, &tl_slabs);
	}
	struct agent_node *n = &s->nodes[s->used++];
	n->slab = s;
	/* The next node's line was last read by a drain on another core: fetch it now, so
	 * the next send does not wait for it (a read prefetch on x86-64 without prfchw). */
	if (s->used < NODES_PER_SLAB)
		__builtin_prefetch(&s->nodes[s->used], 1);
	return n;
}

void agent_node_free(struct agent_node *n)
{
	slab_put(n->slab, 1);
}

void agent_frees_add(struct agent_frees *f, struct agent_node *n)
{
	if (n->slab != f->slab) {
		agent_frees_flush(f);
		f->slab = n->slab;
	}
	f->n++;
}

void agent_frees_flush(struct agent_frees *f)
{
	if (f->n)
		slab_put(f->slab, f->n);
	f->n = 0;
}
