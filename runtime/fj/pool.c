/* runtime/fj/pool.c: the per-node pools, their workers, stealing and parking.
 *
 * Contract.
 *  - fj_g is written under fj_g.lock by fj_ensure/fj_shutdown only; `started` is
 *    release-stored after every pool and worker is set up and acquire-loaded by users.
 *    Lock order: the runtime's lock (rf_shutdown runs our hook under it), fj_g.lock, the
 *    runtime's hooks lock; fj_ensure asks for the topology before taking fj_g.lock.
 *  - A worker looks for work in this order: the hinted victim (leapfrogging: the thief
 *    of the task it is joining), its own pool's deques, its pool's inject queue (only
 *    when idle, never while joining), then other pools' deques (fj_steal = local), or
 *    random victims anywhere (fj_steal = random); never other pools with fj_steal = none.
 *  - Parking. A parker reads wake_seq, counts itself in idle (seq_cst), looks once more
 *    for work it may take (not in another pool's deques while that pool keeps its work
 *    local), then futex-waits on wake_seq. A waker bumps wake_seq (release) and
 *    futex-wakes. Submissions to the inject queue pair seq_cst with the parker's seq_cst
 *    increment, so one of the two always sees the other: no lost wake-up for external
 *    work. Forks check fj_idle_total relaxed, without a store-load fence (it would cost
 *    every fork a locked instruction): a parker may miss a fork published at the same
 *    instant. Deliberate: the forked task is never lost (its owner runs it at join), only
 *    parallelism, and only until the owner's next fork or the next chunk boundary, where
 *    fj_announce repeats the check.
 *  - Submitting vs freeing. fj_submit counts itself in `submitting` (seq_cst), then reads
 *    `started` (seq_cst); fj_shutdown clears `started` (seq_cst) after the workers stop,
 *    then waits for `submitting` to drain (acquire, paired with each call's release
 *    decrement) before it frees the pools: a submitter either sees the runtime stopped
 *    and uses no pool, or is waited for, so no thread locks a destroyed inject_lock.
 *  - A worker waiting in fj_help_until for a task a thief runs sets FJ_WAITER in the
 *    task's done word before parking; fj_done_complete's exchange reads it and wakes
 *    every pool (the RMWs on one word are totally ordered, so the flag is seen or the
 *    wait sees DONE; the word may be gone after the exchange, so nothing else is read).
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "numa/topology.h"
#include "runtime/base/lockrank.h"
#include "runtime/base/probe.h"
#include "runtime/base/spin.h"
#include "runtime/base/time.h"
#include "runtime/fj/worker.h"
#include "runtime/sched/sched.h"
#include "runtime/var/convey.h"

#define FJ_SPIN_ROUNDS 256
#define FJ_STACK (8u << 20)

_Thread_local fj_worker *fj_self __attribute__((tls_model("initial-exec")));
_Alignas(64) _Atomic uint32_t fj_idle_total;

static struct {
	pthread_mutex_t lock;
	_Atomic int started;
	_Atomic int stopping;
	_Atomic int submitting; /* fj_submit calls between their check of started and return */
	rf_steal_policy policy;
	int npools, nworkers;
	fj_pool *pools[TOPO_MAX_NODES];
	fj_worker *workers[TOPO_MAX_CPUS];
} fj_g = {.lock = PTHREAD_MUTEX_INITIALIZER};

static long futex(_Atomic uint32_t *addr, int op, uint32_t val)
{
	return syscall(SYS_futex, (uint32_t *)addr, op, val, NULL, NULL, 0);
}

static uint32_t rnd(fj_worker *w)
{
	uint64_t x = w->rng; /* xorshift64 */
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	w->rng = x;
	return (uint32_t)(x >> 32);
}

static void add(_Atomic uint64_t *c, uint64_t n)
{
	/* Owner-only counter: a relaxed load+store, no locked instruction. */
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
	                      memory_order_relaxed);
}

static void count(_Atomic uint64_t *c)
{
	add(c, 1);
}

static void pool_wake(fj_pool *p, int all)
{
	atomic_fetch_add_explicit(&p->wake_seq, 1, memory_order_release);
	futex(&p->wake_seq, FUTEX_WAKE_PRIVATE, all ? INT_MAX : 1);
}

void fj_wake_some(fj_worker *w)
{
	if (atomic_load_explicit(&w->pool->idle, memory_order_relaxed)) {
		pool_wake(w->pool, 0);
		return;
	}
	/* Other pools may not steal from a pool keeping its work local: woken, they would
	 * only look and park again, at every fork of a node-partitioned fold. */
	if (fj_g.policy == RF_STEAL_NONE ||
	    atomic_load_explicit(&w->pool->keep_local, memory_order_relaxed))
		return;
	for (int i = 0; i < fj_g.npools; i++)
		if (atomic_load_explicit(&fj_g.pools[i]->idle, memory_order_relaxed)) {
			pool_wake(fj_g.pools[i], 0);
			return;
		}
}

int fj_has_surplus(fj_worker *w)
{
	return !dq_looks_empty(&w->dq);
}

void fj_announce(fj_worker *w)
{
	if (atomic_load_explicit(&fj_idle_total, memory_order_relaxed) && fj_has_surplus(w))
		fj_wake_some(w);
}

void fj_done_complete(fj_done *d)
{
	/* Release publishes the task's result to the joiner's acquire load. After this
	 * exchange the done word may be gone (the joiner returned), so which pool the waiter
	 * sleeps on cannot be read from it: every pool is woken, on this rare path only. */
	uint32_t old = atomic_exchange_explicit(&d->state, FJ_DONE, memory_order_acq_rel);
	if (old & FJ_WAITER)
		for (int i = 0; i < fj_g.npools; i++)
			pool_wake(fj_g.pools[i], 1);
}

void fj_run_task(fj_worker *w, fj_task *t)
{
	void *saved = var_bindings_install(t->frame); /* the forking context's frame */
	t->result = RF_NIL;
	t->rc = t->fn(t->arg, &t->result);
	var_bindings_install(saved);
	count(&w->tasks_run);
	fj_done_complete(&t->done);
}

static fj_task *steal_from(fj_worker *w, fj_worker *v)
{
	for (int tries = 0; tries < 4; tries++) {
		fj_task *x = dq_steal(&v->dq, v->pool == w->pool ? NULL : &v->pool->keep_local);
		if (x == FJ_STEAL_EMPTY)
			return NULL;
		if (x != FJ_STEAL_ABORT) {
			atomic_store_explicit(&x->thief, w->index, memory_order_relaxed);
			if (v->pool == w->pool) {
				count(&w->steals_local);
				PROBE(fj_steal_local, w->index, v->index);
			} else {
				count(&w->steals_remote);
				PROBE(fj_steal_remote, w->index, v->index, w->node, v->node);
			}
			return x;
		}
	}
	return NULL;
}

void fj_keep_local(fj_worker *w, int delta)
{
	/* Relaxed: the owner's later pushes (release) carry it to thieves, see dq_steal. */
	atomic_fetch_add_explicit(&w->pool->keep_local, (uint32_t)delta, memory_order_relaxed);
}

/* A cheap pre-check; steal_from's veto is the one that counts. */
static int may_steal_from(fj_worker *w, fj_pool *p)
{
	return p == w->pool || !atomic_load_explicit(&p->keep_local, memory_order_relaxed);
}

static fj_task *steal_in_pool(fj_worker *w, fj_pool *p)
{
	if (!may_steal_from(w, p))
		return NULL;
	int n = p->nworkers;
	int start = (int)(rnd(w) % (uint32_t)n);
	for (int k = 0; k < n; k++) {
		fj_worker *v = fj_g.workers[p->first + (start + k) % n];
		fj_task *x;
		if (v != w && (x = steal_from(w, v)))
			return x;
	}
	return NULL;
}

static fj_job *take_job(fj_pool *p)
{
	if (!atomic_load_explicit(&p->injected, memory_order_relaxed))
		return NULL;
	mutex_lock_ranked(&p->inject_lock, LOCKRANK_FJ_INJECT);
	fj_job *j = p->head;
	if (j) {
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
		atomic_fetch_sub_explicit(&p->injected, 1, memory_order_relaxed);
		sched_work_queued(-1);
	}
	mutex_unlock_ranked(&p->inject_lock, LOCKRANK_FJ_INJECT);
	return j;
}

static void run_job(fj_worker *w, fj_job *j)
{
	void *saved = var_bindings_install(j->frame);
	j->run(j); /* may free j */
	var_bindings_install(saved);
	count(&w->tasks_run);
}

/* One sweep for work. Runs what it finds; returns whether it found any. */
static int find_and_run(fj_worker *w, int32_t hint, int take_jobs)
{
	fj_task *x = NULL;
	if (hint >= 0 && hint != w->index)
		x = steal_from(w, fj_g.workers[hint]);
	if (!x && fj_g.policy == RF_STEAL_RANDOM) {
		for (int k = 0; k < fj_g.nworkers && !x; k++) {
			fj_worker *v = fj_g.workers[rnd(w) % (uint32_t)fj_g.nworkers];
			if (v != w && may_steal_from(w, v->pool))
				x = steal_from(w, v);
		}
	}
	if (!x)
		x = steal_in_pool(w, w->pool);
	if (!x && take_jobs) {
		fj_job *j = take_job(w->pool);
		if (j) {
			run_job(w, j);
			return 1;
		}
	}
	if (!x && fj_g.policy == RF_STEAL_LOCAL_FIRST)
		for (int i = 1; i < fj_g.npools && !x; i++)
			x = steal_in_pool(w, fj_g.pools[(w->node + i) % fj_g.npools]);
	if (!x) {
		count(&w->steals_failed);
		PROBE(fj_steal_failed, w->index);
		return 0;
	}
	fj_run_task(w, x);
	return 1;
}

static int work_visible(fj_worker *w)
{
	if (atomic_load_explicit(&w->pool->injected, memory_order_seq_cst))
		return 1;
	for (int i = 0; i < fj_g.nworkers; i++) {
		fj_worker *v = fj_g.workers[i];
		if (v->pool != w->pool &&
		    (fj_g.policy == RF_STEAL_NONE || !may_steal_from(w, v->pool)))
			continue; /* not ours to take: sleep rather than look again */
		if (!dq_looks_empty(&v->dq))
			return 1;
	}
	return 0;
}

/* Park until woken. `until`: a done word that also ends the wait (join), or NULL (idle). */
static void park(fj_worker *w, fj_done *until)
{
	fj_pool *p = w->pool;
	uint32_t seq = atomic_load_explicit(&p->wake_seq, memory_order_acquire);
	/* seq was read before FJ_WAITER is set: a completer that sees the flag bumps
	 * wake_seq after it, so the futex wait below cannot sleep through that wake-up. */
	if (until &&
	    (atomic_fetch_or_explicit(&until->state, FJ_WAITER, memory_order_acq_rel) & FJ_DONE))
		return;
	atomic_fetch_add_explicit(&p->idle, 1, memory_order_seq_cst);
	atomic_fetch_add_explicit(&fj_idle_total, 1, memory_order_seq_cst);
	int go = atomic_load_explicit(&fj_g.stopping, memory_order_relaxed) ||
	         (until ? (atomic_load_explicit(&until->state, memory_order_acquire) & FJ_DONE) != 0
	                : work_visible(w));
	if (!go) {
		uint64_t t0 = time_now_ns();
		sched_busy(-1);
		futex(&p->wake_seq, FUTEX_WAIT_PRIVATE, seq);
		sched_busy(1);
		count(&w->wakeups);
		add(&w->idle_ns, time_now_ns() - t0);
	}
	atomic_fetch_sub_explicit(&fj_idle_total, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&p->idle, 1, memory_order_relaxed);
}

void fj_help_until(fj_worker *w, fj_done *d, int32_t hint)
{
	int spins = 0;
	while (!(atomic_load_explicit(&d->state, memory_order_acquire) & FJ_DONE)) {
		if (find_and_run(w, hint, 0)) {
			spins = 0;
			continue;
		}
		if (++spins < FJ_SPIN_ROUNDS) {
			cpu_relax();
			continue;
		}
		park(w, d);
		spins = 0;
	}
}

static void *worker_main(void *arg)
{
	fj_worker *w = arg;
	char name[16];
	snprintf(name, sizeof(name), "rf-fj-%d-%d", w->node, w->index - w->pool->first);
	pthread_setname_np(pthread_self(), name);
	sched_busy(1);
	fj_self = w;
	topo_pin_self(w->cpu);
	int spins = 0;
	for (;;) {
		if (find_and_run(w, -1, 1)) {
			spins = 0;
			continue;
		}
		/* Stop only when this worker finds nothing left: every job accepted before the
		 * stop (an invoke queued behind others, a task in a deque) still runs, so no
		 * caller waits on work that was dropped. */
		if (atomic_load_explicit(&fj_g.stopping, memory_order_acquire))
			break;
		if (++spins < FJ_SPIN_ROUNDS) {
			cpu_relax();
			continue;
		}
		park(w, NULL);
		spins = 0;
	}
	sched_busy(-1);
	return NULL;
}

static int submit_locked(fj_pool *p, fj_job *job)
{
	job->next = NULL;
	mutex_lock_ranked(&p->inject_lock, LOCKRANK_FJ_INJECT);
	if (p->closed) {
		mutex_unlock_ranked(&p->inject_lock, LOCKRANK_FJ_INJECT);
		return RF_ESHUTDOWN;
	}
	sched_work_queued(1);
	if (p->tail)
		p->tail->next = job;
	else
		p->head = job;
	p->tail = job;
	/* seq_cst, paired with park's seq_cst increment of idle: see the contract. */
	atomic_fetch_add_explicit(&p->injected, 1, memory_order_seq_cst);
	mutex_unlock_ranked(&p->inject_lock, LOCKRANK_FJ_INJECT);
	if (atomic_load_explicit(&p->idle, memory_order_seq_cst))
		pool_wake(p, 0);
	return 0;
}

int fj_submit(int node, fj_job *job)
{
	int rc = RF_ESHUTDOWN;
	atomic_fetch_add_explicit(&fj_g.submitting, 1, memory_order_seq_cst);
	if (atomic_load_explicit(&fj_g.started, memory_order_seq_cst))
		rc = submit_locked(fj_g.pools[node], job);
	atomic_fetch_sub_explicit(&fj_g.submitting, 1, memory_order_release);
	return rc;
}

static void free_pools(void)
{
	for (int i = 0; i < fj_g.nworkers; i++) {
		dq_destroy(&fj_g.workers[i]->dq);
		topo_node_free(fj_g.workers[i], sizeof(fj_worker));
		fj_g.workers[i] = NULL;
	}
	for (int i = 0; i < fj_g.npools; i++) {
		pthread_mutex_destroy(&fj_g.pools[i]->inject_lock);
		topo_node_free(fj_g.pools[i], sizeof(fj_pool));
		fj_g.pools[i] = NULL;
	}
	fj_g.nworkers = fj_g.npools = 0;
}

static void stop_workers(int started)
{
	/* Close the queues first: a job that got in is seen by a worker before it stops
	 * (both under inject_lock); one that comes later is refused, never stranded. */
	for (int i = 0; i < fj_g.npools; i++) {
		mutex_lock_ranked(&fj_g.pools[i]->inject_lock, LOCKRANK_FJ_INJECT);
		fj_g.pools[i]->closed = true;
		mutex_unlock_ranked(&fj_g.pools[i]->inject_lock, LOCKRANK_FJ_INJECT);
	}
	atomic_store_explicit(&fj_g.stopping, 1, memory_order_release);
	for (int i = 0; i < fj_g.npools; i++)
		pool_wake(fj_g.pools[i], 1);
	for (int i = 0; i < started; i++)
		pthread_join(fj_g.workers[i]->thread, NULL);
	atomic_store_explicit(&fj_g.stopping, 0, memory_order_relaxed);
}

static int build(const topology *topo, const rf_config *cfg)
{
	fj_g.policy = cfg->fj_steal;
	for (int n = 0; n < topo->nnodes; n++) {
		const topo_node *node = &topo->nodes[n];
		int nw = cfg->fj_workers_per_node > 0 ? cfg->fj_workers_per_node : node->ncpus;
		if (fj_g.nworkers + nw > TOPO_MAX_CPUS)
			return -EINVAL;
		fj_pool *p = topo_node_alloc(sizeof(fj_pool), node->os_node);
		if (!p)
			return -ENOMEM;
		fj_g.pools[fj_g.npools++] = p;
		*p = (fj_pool){
		    .node = n, .os_node = node->os_node, .first = fj_g.nworkers, .nworkers = nw};
		pthread_mutex_init(&p->inject_lock, NULL);
		for (int i = 0; i < nw; i++) {
			fj_worker *w = topo_node_alloc(sizeof(fj_worker), node->os_node);
			if (!w)
				return -ENOMEM;
			*w = (fj_worker){.pool = p,
			                 .index = fj_g.nworkers,
			                 .node = n,
			                 .os_node = node->os_node,
			                 .cpu = topo->cpus[node->first_cpu_idx + i % node->ncpus],
			                 .rng =
			                     0x9e3779b97f4a7c15ull * (uint64_t)(fj_g.nworkers + 1)};
			fj_g.workers[fj_g.nworkers++] = w;
			if (dq_init(&w->dq, node->os_node) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static int start_threads(int *started)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int rc = 0;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, FJ_STACK);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* workers take no signals */
	for (*started = 0; *started < fj_g.nworkers; (*started)++) {
		fj_worker *w = fj_g.workers[*started];
		if ((rc = -pthread_create(&w->thread, &attr, worker_main, w)) < 0)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return rc;
}

/* Fork child: no fork/join thread exists; the pools' memory is released and the next
 * use builds them again. Tasks queued in the parent are the parent's. */
static void fj_fork_child(void)
{
	pthread_mutex_init(&fj_g.lock, NULL);
	if (atomic_load_explicit(&fj_g.started, memory_order_relaxed))
		free_pools();
	atomic_store_explicit(&fj_g.started, 0, memory_order_relaxed);
	atomic_store_explicit(&fj_g.stopping, 0, memory_order_relaxed);
	atomic_store_explicit(&fj_idle_total, 0, memory_order_relaxed);
	fj_self = NULL;
}

int fj_ensure(void)
{
	if (atomic_load_explicit(&fj_g.started, memory_order_acquire))
		return 0;
	const topology *topo = sched_topology();
	const rf_config *cfg = sched_config();
	if (!topo || !cfg)
		return sched_ensure() < 0 ? sched_ensure() : -EINVAL;
	int rc = 0, started = 0;
	mutex_lock_ranked(&fj_g.lock, LOCKRANK_FJ_POOL);
	if (atomic_load_explicit(&fj_g.started, memory_order_relaxed))
		goto out;
	if ((rc = build(topo, cfg)) == 0 && (rc = start_threads(&started)) == 0) {
		/* The runtime reports our counters and stops the pools before its workers. */
		sched_on_stats(fj_stats);
		sched_on_shutdown(fj_shutdown);
		sched_on_fork_child(fj_fork_child);
		atomic_store_explicit(&fj_g.started, 1, memory_order_release);
		goto out;
	}
	stop_workers(started);
	free_pools();
out:
	mutex_unlock_ranked(&fj_g.lock, LOCKRANK_FJ_POOL);
	return rc;
}

void fj_shutdown(void)
{
	mutex_lock_ranked(&fj_g.lock, LOCKRANK_FJ_POOL);
	if (atomic_load_explicit(&fj_g.started, memory_order_relaxed)) {
		stop_workers(fj_g.nworkers);
		atomic_store_explicit(&fj_g.started, 0, memory_order_seq_cst);
		while (atomic_load_explicit(&fj_g.submitting, memory_order_acquire))
			sched_yield(); /* a submitter between its check and its unlock: bounded */
		free_pools();
	}
	mutex_unlock_ranked(&fj_g.lock, LOCKRANK_FJ_POOL);
}

fj_worker *fj_self_worker(void)
{
	return fj_self;
}
int fj_pool_count(void)
{
	return fj_g.npools;
}
int fj_pool_workers(int node)
{
	return fj_g.pools[node]->nworkers;
}

int fj_home_node(void)
{
	int cpu = sched_getcpu();
	int node = cpu < 0 ? -1 : topo_node_of_cpu(sched_topology(), cpu);
	return node < 0 || node >= fj_g.npools ? 0 : node;
}

int fj_stats(rf_stats *out)
{
	mutex_lock_ranked(&fj_g.lock, LOCKRANK_FJ_POOL);
	int n = atomic_load_explicit(&fj_g.started, memory_order_relaxed) ? fj_g.nworkers : 0;
	if (sched_stats_reserve(out, 0, n, 0)) {
		mutex_unlock_ranked(&fj_g.lock, LOCKRANK_FJ_POOL);
		return -ENOMEM;
	}
	out->fj_workers = n;
	for (int i = 0; i < n; i++) {
		fj_worker *w = fj_g.workers[i];
		out->fj[i] = (rf_worker_stats){
		    .cpu = w->cpu,
		    .node = w->node,
		    .fibers_run = atomic_load_explicit(&w->tasks_run, memory_order_relaxed),
		    .wakeups = atomic_load_explicit(&w->wakeups, memory_order_relaxed),
		    .idle_ns = atomic_load_explicit(&w->idle_ns, memory_order_relaxed),
		    .steals_local = atomic_load_explicit(&w->steals_local, memory_order_relaxed),
		    .steals_remote = atomic_load_explicit(&w->steals_remote, memory_order_relaxed),
		    .steals_failed = atomic_load_explicit(&w->steals_failed, memory_order_relaxed),
		};
	}
	mutex_unlock_ranked(&fj_g.lock, LOCKRANK_FJ_POOL);
	return 0;
}
