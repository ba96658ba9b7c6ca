/* runtime/agent/node.c: allocation of queue nodes.
 *
 * Nodes are allocated by senders and freed by drains on other threads, the pattern that
 * makes a general-purpose allocator move memory between threads on every send. Here each
 * thread (each executor worker, for fibers: they never migrate) carves nodes out of its
 * own slab with a bump pointer, no atomics; a slab counts the nodes still to be freed and
 * the last free returns it. Slabs are never reused in place: a slab lives until its last
 * node is freed, so one node held for long (by a failed agent) pins its 64-node slab.
 *
 *   slab field   written by                               read by
 *   used         the owning thread only                   the owning thread
 *   live         owner (init), any freeing thread (RMW)   any freeing thread
 *
 * live starts at NODES_PER_SLAB + 1: one per node, paid back by its free, and one for the
 * owning thread, paid back when it moves to a new slab (the old one is full) or exits
 * (then with the nodes it never handed out).
 * Whoever brings live to 0 frees the slab: acq_rel, so that thread sees every other
 * thread's last use of its nodes.
 *
 * Freed slabs go to a shared spare list (under spare_lock, at most SPARE_MAX of them)
 * before they go back to malloc: a slab is usually freed by a drain on an executor worker
 * and needed again by a sender on another thread, and glibc would keep it in the freeing
 * thread's arena while the sender's arena grows page by page. The lock is taken once per
 * 64 sends.
 */
#include <pthread.h>
#include <stdlib.h>

#include "runtime/agent/agent_internal.h"
#include "runtime/base/lockrank.h"

enum { NODES_PER_SLAB = 64, SPARE_MAX = 4096 };

struct agent_slab {
	_Alignas(64) _Atomic uint32_t live; /* freeing threads' line */
	_Alignas(64) uint32_t used;         /* the owner's line, with the first nodes */
	struct agent_slab *spare_next;      /* on the spare list */
	struct agent_node nodes[NODES_PER_SLAB];
};

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

static _Thread_local struct agent_slab *tl_slab;
static pthread_key_t slab_key;
static pthread_once_t slab_once = PTHREAD_ONCE_INIT;

static void slab_put(struct agent_slab *s, uint32_t n)
{
	if (atomic_fetch_sub_explicit(&s->live, n, memory_order_acq_rel) == n)
		slab_release(s);
}

/* Thread exit: pay back the nodes the thread's slab never handed out. */
static void slab_abandon(void *p)
{
	struct agent_slab *s = p;
	slab_put(s, NODES_PER_SLAB - s->used + 1);
}

static void slab_key_create(void)
{
	pthread_key_create(&slab_key, slab_abandon);
}

struct agent_node *agent_node_alloc(void)
{
	struct agent_slab *s = tl_slab;
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
		tl_slab = s;
		pthread_setspecific(slab_key, s);
	}
	struct agent_node *n = &s->nodes[s->used++];
	n->slab = s;
	return n;
}

void agent_node_free(struct agent_node *n)
{
	slab_put(n->slab, 1);
}
