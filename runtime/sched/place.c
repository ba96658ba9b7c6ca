/* runtime/sched/place.c: where a new fiber runs, and how idle workers get a share of a
 * busy worker's backlog.
 *
 * Placement. A fiber spawned from a fiber without an explicit worker goes to the
 * spawner's worker unless a candidate peer of the same node carries at least
 * SPREAD_MARGIN fewer fibers; the candidate rotates over the node's other workers (one
 * peer read per spawn, whatever the node's size). Load is nlive + incoming: the fibers a
 * worker adopted and has not ended (running, ready or parked: connections count even
 * while they wait) plus those pushed to its inbox and not yet adopted. The margin keeps
 * small groups together (a spawn-and-join, a ping-pong pair, a parent and a few
 * children stay on one worker and talk without wake-ups), while a listener that starts a
 * fiber per connection, or a loop spawning a thousand tasks, spreads over the node.
 *
 * Sharing a backlog. A worker about to idle sets its bit in sched_hungry[node]. A busy
 * worker checks that word (one relaxed load) at every scheduling round; when a peer is
 * hungry and the busy worker's run queue has held at least two fibers for DONATE_AFTER_NS,
 * it claims the peer's bit (fetch_and: of several busy workers one donates) and pushes
 * half of its unstarted, unpinned fibers to the peer's inbox, which wakes it. The wait
 * keeps short bursts (a ping-pong's first two fibers) local. A fiber kept by its
 * spawner's worker may go to any hungry peer, even one carrying more parked fibers: it
 * is backlog the spawner's worker would run late. A fiber that was placed to even the
 * load (sent to a peer, round-robin from a plain thread, or donated before: `foreign`,
 * pushed through the inbox) goes only where it keeps the loads even (the donor carrying
 * at least two more): otherwise a burst of connections, spread by placement, would be
 * handed back to the listener's idle worker while the peer runs the first ones, and
 * stay there for their whole life, two to one. Only fibers that have not started move: a started fiber may hold errno or
 * a thread-local's address cached by the compiler across the call that parked it, and
 * would resume on another thread with the wrong ones, so parked fibers always resume
 * where they ran. The fiber's stack, from the donor's pool, goes to the new worker's
 * spare pool when it ends (same node).
 *
 * Ordering: every field here is a hint read relaxed. A stale load only makes a placement
 * or a donation less even; fibers move through inboxes, whose CAS and exchange publish
 * them (worker.c).
 */
#include "runtime/sched/fiber.h"

#define SPREAD_MARGIN 4
#define DONATE_AFTER_NS 20000u

_Atomic uint64_t sched_hungry[TOPO_MAX_NODES];

static int load_of(sched_worker *w)
{
	return atomic_load_explicit(&w->nlive, memory_order_relaxed) +
	       atomic_load_explicit(&w->incoming, memory_order_relaxed);
}

sched_worker *place_pick(sched_worker *self)
{
	int n = self->node_count;
	if (n < 2)
		return self;
	int mine = load_of(self);
	if (mine < SPREAD_MARGIN)
		return self; /* no peer can carry SPREAD_MARGIN fewer: skip reading one */
	unsigned r = self->place_next++ % (unsigned)(n - 1);
	int peer = self->node_first + (int)r;
	if (peer >= self->index)
		peer++; /* skip self */
	sched_worker *o = sched_worker_tab[peer];
	return mine >= load_of(o) + SPREAD_MARGIN ? o : self;
}

sched_worker *place_in_node(int node)
{
	sched_worker *first = NULL;
	for (int i = 0; i < sched_nworkers && !first; i++)
		if (sched_worker_tab[i]->node == node)
			first = sched_worker_tab[i];
	if (!first)
		return NULL;
	sched_worker *best = first;
	int best_load = load_of(first);
	for (int i = 1; i < first->node_count; i++) {
		sched_worker *w = sched_worker_tab[first->index + i];
		int l = load_of(w);
		if (l < best_load) {
			best = w;
			best_load = l;
		}
	}
	return best;
}

void place_hungry(sched_worker *w, bool on)
{
	if (w->node_count < 2 || !w->hungry_bit)
		return;
	w->is_hungry = on;
	_Atomic uint64_t *h = &sched_hungry[w->node];
	bool is = atomic_load_explicit(h, memory_order_relaxed) & w->hungry_bit;
	if (on && !is)
		atomic_fetch_or_explicit(h, w->hungry_bit, memory_order_relaxed);
	else if (!on && is)
		atomic_fetch_and_explicit(h, ~w->hungry_bit, memory_order_relaxed);
}

/* Claim one hungry peer's bit; NULL if another donor took them all first. */
static sched_worker *claim_peer(sched_worker *w)
{
	_Atomic uint64_t *h = &sched_hungry[w->node];
	uint64_t m = atomic_load_explicit(h, memory_order_relaxed) & ~w->hungry_bit;
	while (m) {
		uint64_t bit = m & -m;
		if (atomic_fetch_and_explicit(h, ~bit, memory_order_relaxed) & bit)
			return sched_worker_tab[w->node_first + __builtin_ctzll(bit)];
		m &= ~bit;
	}
	return NULL;
}

/* Owner: hand f (unstarted, adopted here) to `to`. False if to stopped. */
static bool hand_over(sched_worker *w, sched_worker *to, sched_fiber *f)
{
	fiber_unlink(w, f);
	sched_count(&w->st_spawned, (uint64_t)-1); /* the new worker counts it when it adopts it */
	f->w = to;
	f->state = FIBER_NEW;
	f->foreign = true;
	atomic_fetch_add_explicit(&to->incoming, 1, memory_order_relaxed);
	if (worker_inbox_push(to, f))
		return true;
	atomic_fetch_sub_explicit(&to->incoming, 1, memory_order_relaxed);
	f->w = w;
	f->state = FIBER_READY;
	fiber_adopt(w, f);
	return false;
}

void place_donate(sched_worker *w)
{
	if (!w->rq_head || !w->rq_head->next) {
		w->backlog_since = 0;
		return;
	}
	uint64_t now = time_now_ns();
	if (!w->backlog_since) {
		w->backlog_since = now;
		return;
	}
	if (now - w->backlog_since < DONATE_AFTER_NS)
		return;
	w->backlog_since = 0;
	int movable = 0;
	for (sched_fiber *f = w->rq_head; f; f = f->next)
		movable += !f->started && !f->pinned;
	if (!movable)
		return;
	sched_worker *to = claim_peer(w);
	if (!to)
		return;
	/* Every second movable fiber, so both keep a share of the queue's order; one placed
	 * here from elsewhere (foreign) only while the donor carries at least two more. */
	int mine = load_of(w), theirs = load_of(to);
	sched_fiber *keep = NULL, *tail = NULL, *next;
	int moved = 0, seen = 0;
	for (sched_fiber *f = w->rq_head; f; f = next) {
		next = f->next;
		f->next = NULL;
		if (!f->started && !f->pinned && (!f->foreign || mine - theirs >= 2) &&
		    (seen++ & 1) == 0 && moved < (movable + 1) / 2 && hand_over(w, to, f)) {
			moved++;
			mine--;
			theirs++;
			continue;
		}
		if (tail)
			tail->next = f;
		else
			keep = f;
		tail = f;
	}
	w->rq_head = keep;
	w->rq_tail = tail;
}

int sched_spawn_from(const rf_spawn_opts *o, sched_spawn *out)
{
	*out = (sched_spawn){.worker = SCHED_WORKER_ANY, .node = -1};
	if (!o)
		return 0;
	if (o->size < offsetof(rf_spawn_opts, stay_local) + sizeof(o->stay_local))
		return -EINVAL;
	out->worker = o->worker;
	out->node = o->node;
	out->local = o->stay_local;
	if (o->size >= offsetof(rf_spawn_opts, stack_size) + sizeof(o->stack_size))
		out->stack_size = o->stack_size;
	return 0;
}
