/* runtime/sched/lifecycle.c: starting, stopping and observing the executor.
 *
 * The public entry points (rf_init, rf_shutdown) are the composition
 * root's (runtime/root/runtime.c), which hands this file the io backend's poller. A
 * family's first call starts the runtime through sched_ensure, which calls rf_init: the
 * one call from a lower layer up, made through the public API.
 *
 * State machine (rt_state; transitions under rt_lock, release stores, acquire loads):
 *   STOPPED --sched_start--> RUNNING --sched_stop--> DRAINING --hooks done--> STOPPING
 *   STOPPING --workers joined--> STOPPED (and rf_init may start it again)
 * While DRAINING the workers still run, so shutdown hooks (agents draining their
 * accepted actions) may spawn and park fibers; from STOPPING on, spawns fail with
 * RF_ESHUTDOWN.
 *
 * Stopping never frees a fiber that has not returned: a parked fiber's stack holds
 * waiters linked into channels, promises, locks and io rings, and freeing it under them
 * is a use after free for whoever completes them next. Instead every fiber is run to its
 * end. STOPPING first gives the workers STOP_FINISH (they leave their loop once every
 * fiber they have returned and their inbox is empty, which they then close) and waits up
 * to the caller's timeout; then STOP_CANCEL: each worker cancels the wait of every
 * parked fiber (it returns RF_ESHUTDOWN, after unlinking itself as after a timeout), and
 * every later wait on that worker returns RF_ESHUTDOWN at once, so user code unwinds
 * and fibers never started still run (a future's body runs; its deref returns). Firm
 * waits (in-flight io, which the backend cancels; pool jobs) complete normally. The
 * cost: a fiber that neither waits nor returns keeps rf_shutdown waiting.
 *
 * sched_ensure's fast path is one acquire load; it pairs with the
 * release store of RUNNING, which publishes sched_cfg, sched_topo, sched_poller and
 * sched_worker_tab.
 *
 * Workers are allocated once per index (on the node of their first CPU) and kept across
 * restarts: a thread racing rf_shutdown with a push onto a worker then finds a closed
 * inbox instead of freed memory. Lock order: rt_lock, then hooks_lock.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/base/lockrank.h"
#include "runtime/sched/fiber.h"

#ifdef RF_ASAN
#include <sanitizer/lsan_interface.h>
#endif

enum { RT_STOPPED, RT_RUNNING, RT_DRAINING, RT_STOPPING };

#define MAX_HOOKS 32

static pthread_mutex_t rt_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int rt_state;
rf_config sched_cfg;
const sched_poller_ops *sched_poller;
static topology sched_topo;
static char rt_topology_text[1024];
sched_worker *sched_worker_tab[TOPO_MAX_CPUS];
int sched_nworkers;

static pthread_mutex_t hooks_lock = PTHREAD_MUTEX_INITIALIZER;
static void (*shutdown_hooks[MAX_HOOKS])(void);
static int nshutdown_hooks;
static int (*stats_hooks[MAX_HOOKS])(rf_stats *);
static int nstats_hooks;
static void (*fork_hooks[MAX_HOOKS])(void);
static int nfork_hooks;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static cpu_set_t start_affinity; /* of the thread that started the runtime (rt_lock) */
static bool have_start_affinity;

/* In the child of a fork(): only the forking thread exists. Every worker, monitor and
 * family thread is gone, so whatever the runtime was doing is forgotten and the next
 * use starts a fresh runtime; the parent is not touched. A fork from a fiber leaves the
 * child on that fiber's stack as a plain thread. Locks another thread held at the fork
 * are initialized anew. */
static void fork_child(void)
{
	pthread_mutex_init(&rt_lock, NULL);
	pthread_mutex_init(&hooks_lock, NULL);
	for (int i = nfork_hooks; i--;) /* families above first, as at shutdown */
		fork_hooks[i]();
	if (atomic_load_explicit(&rt_state, memory_order_relaxed) != RT_STOPPED) {
		stall_forget();
		for (int i = 0; i < sched_nworkers; i++)
			worker_forget(sched_worker_tab[i]);
		atomic_store_explicit(&rt_state, RT_STOPPED, memory_order_relaxed);
	}
	worker_fork_child();
	/* a child forked on a worker would otherwise stay pinned to that worker's CPU */
	if (sched_tls_worker && have_start_affinity)
		sched_setaffinity(0, sizeof(start_affinity), &start_affinity);
	sched_tls_worker = NULL;
}

static void install_atfork(void)
{
	pthread_atfork(NULL, NULL, fork_child);
}

static int add_hook(void **list, int *n, void *fn)
{
	if (!fn)
		return -EINVAL;
	int rc = 0;
	mutex_lock_ranked(&hooks_lock, LOCKRANK_SCHED_HOOKS);
	for (int i = 0; i < *n; i++)
		if (list[i] == fn)
			goto out;
	if (*n == MAX_HOOKS)
		rc = -ENOMEM;
	else
		list[(*n)++] = fn;
out:
	mutex_unlock_ranked(&hooks_lock, LOCKRANK_SCHED_HOOKS);
	return rc;
}

int sched_on_shutdown(void (*fn)(void))
{
	return add_hook((void **)shutdown_hooks, &nshutdown_hooks, (void *)fn);
}

int sched_on_stats(int (*fn)(rf_stats *))
{
	return add_hook((void **)stats_hooks, &nstats_hooks, (void *)fn);
}

int sched_on_fork_child(void (*fn)(void))
{
	pthread_once(&atfork_once, install_atfork);
	return add_hook((void **)fork_hooks, &nfork_hooks, (void *)fn);
}

static sched_worker *worker_obtain(int index, int os_node)
{
	if (!sched_worker_tab[index]) {
		sched_worker *w = topo_node_alloc(sizeof(sched_worker), os_node);
		if (!w)
			return NULL;
		memset(w, 0, sizeof(*w));
#ifdef RF_ASAN
		/* mapped, so LeakSanitizer would not look inside: its pools and fiber list
		 * hold the allocator's fiber structs (workers live as long as the process) */
		__lsan_register_root_region(w, sizeof(*w));
#endif
		pthread_mutex_init(&w->spare_lock, NULL);
		sched_worker_tab[index] = w;
	}
	sched_worker *w = sched_worker_tab[index];
	w->index = index;
	w->os_node = os_node;
	atomic_store_explicit(&w->st_run, 0, memory_order_relaxed);
	atomic_store_explicit(&w->st_spawned, 0, memory_order_relaxed);
	atomic_store_explicit(&w->st_parks, 0, memory_order_relaxed);
	atomic_store_explicit(&w->st_wakeups, 0, memory_order_relaxed);
	atomic_store_explicit(&w->st_io, 0, memory_order_relaxed);
	atomic_store_explicit(&w->st_stalls, 0, memory_order_relaxed);
	atomic_store_explicit(&w->st_resumed, 0, memory_order_relaxed);
	atomic_store_explicit(&w->st_idle_ns, 0, memory_order_relaxed);
	return w;
}

/* Stop workers 0..n-1: let their fibers finish until deadline_ns, then cancel what is
 * still parked; join them. 0, or -ETIMEDOUT if some had to be cancelled. */
static int stop_workers(int n, uint64_t deadline_ns)
{
	int rc = 0;
	for (int i = 0; i < n; i++)
		worker_stop(sched_worker_tab[i], STOP_FINISH);
	for (int i = 0; i < n; i++)
		if (!worker_await(sched_worker_tab[i], deadline_ns))
			rc = -ETIMEDOUT;
	for (int i = 0; i < n; i++)
		worker_stop(sched_worker_tab[i], STOP_CANCEL);
	for (int i = 0; i < n; i++)
		worker_join(sched_worker_tab[i]);
	return rc;
}

/* Under rt_lock, state STOPPED: start every worker. */
static int start(void)
{
	const topology *t = &sched_topo;
	int n = 0, rc = 0;
	/* Binding memory to a node only means something on a real multi-node machine; a
	 * simulated topology's node ids are not the kernel's. Elsewhere -1 skips the mbind
	 * syscall each new stack would otherwise pay. */
	bool bind = t->nnodes > 1 && !t->simulated;
	for (int node = 0; node < t->nnodes && !rc; node++) {
		const topo_node *nd = &t->nodes[node];
		int k = sched_cfg.workers_per_node ? sched_cfg.workers_per_node : nd->ncpus;
		for (int j = 0; j < k && n < TOPO_MAX_CPUS; j++) {
			sched_worker *w = worker_obtain(n, bind ? nd->os_node : -1);
			if (!w) {
				rc = -ENOMEM;
				break;
			}
			w->cpu = t->cpus[nd->first_cpu_idx + j % nd->ncpus];
			w->node = node;
			n++;
		}
	}
	sched_nworkers = n;
	for (int i = 0; i < n; i++) {
		sched_worker *w = sched_worker_tab[i];
		int first = i;
		while (first > 0 && sched_worker_tab[first - 1]->node == w->node)
			first--;
		int last = i;
		while (last + 1 < n && sched_worker_tab[last + 1]->node == w->node)
			last++;
		w->node_first = first;
		w->node_count = last - first + 1;
		w->hungry_bit = i - first < 64 ? 1ull << (i - first) : 0;
	}
	for (int i = 0; i < n && !rc; i++) {
		if ((rc = worker_start(sched_worker_tab[i]))) {
			stop_workers(i, 0);
			return rc;
		}
	}
	if (!rc && (rc = stall_start(sched_cfg.stall_ms)))
		stop_workers(n, 0);
	return rc;
}

int sched_start(const rf_config *cfg, const sched_poller_ops *poller)
{
	char err[256];
	int rc;
	rf_config asked;
	if (cfg && ((rc = config_from_caller(cfg, &asked)) < 0 ||
	            (rc = config_check(&asked, sizeof(rt_topology_text))) < 0))
		return rc; /* a bad knob is reported whether or not the runtime runs */
	if (sched_tls_worker)
		return RF_ESTARTED; /* a worker exists, so the runtime runs */
	pthread_once(&atfork_once, install_atfork);
	mutex_lock_ranked(&rt_lock, LOCKRANK_SCHED_LIFECYCLE);
	if (atomic_load_explicit(&rt_state, memory_order_relaxed) != RT_STOPPED) {
		rc = RF_ESTARTED;
		goto out;
	}
	rf_config c;
	if (cfg)
		c = asked; /* checked above */
	else if ((rc = rf_config_default(&c)) < 0 ||
	         (rc = config_check(&c, sizeof(rt_topology_text))) < 0)
		goto out;
	if (c.topology) {
		strcpy(rt_topology_text, c.topology);
		c.topology = rt_topology_text;
	}
	have_start_affinity = sched_getaffinity(0, sizeof(start_affinity), &start_affinity) == 0;
	if ((rc = topo_detect(c.topology, &sched_topo, err, sizeof(err))) < 0) {
		fprintf(stderr, "ringfold: %s\n", err);
		goto out;
	}
	if ((rc = poller->choose(c.io_backend)) < 0)
		goto out;
	c.io_backend = (rf_io_backend)rc;
	sched_cfg = c;
	sched_poller = poller;
	if ((rc = guard_install_handler()) < 0 || (rc = start()) < 0)
		goto out;
	atomic_store_explicit(&rt_state, RT_RUNNING, memory_order_release);
out:
	mutex_unlock_ranked(&rt_lock, LOCKRANK_SCHED_LIFECYCLE);
	return rc;
}

int sched_ensure(void)
{
	int s = atomic_load_explicit(&rt_state, memory_order_acquire);
	if (s == RT_RUNNING || s == RT_DRAINING)
		return 0;
	if (s == RT_STOPPING)
		return RF_ESHUTDOWN;
	int rc = rf_init(NULL);
	return rc == RF_ESTARTED ? 0 : rc;
}

int sched_stop(int64_t timeout_ms)
{
	if (sched_tls_worker) {
		fprintf(stderr, "ringfold: rf_shutdown called on an executor worker; ignored\n");
		return -EPERM;
	}
	uint64_t deadline = timeout_ms > 0 ? time_deadline_after_ms(timeout_ms) : 0;
	mutex_lock_ranked(&rt_lock, LOCKRANK_SCHED_LIFECYCLE);
	if (atomic_load_explicit(&rt_state, memory_order_relaxed) != RT_RUNNING) {
		mutex_unlock_ranked(&rt_lock, LOCKRANK_SCHED_LIFECYCLE);
		return 0;
	}
	atomic_store_explicit(&rt_state, RT_DRAINING, memory_order_release);
	mutex_lock_ranked(&hooks_lock, LOCKRANK_SCHED_HOOKS);
	int n = nshutdown_hooks;
	void (*hooks[MAX_HOOKS])(void);
	memcpy(hooks, shutdown_hooks, sizeof(hooks));
	mutex_unlock_ranked(&hooks_lock, LOCKRANK_SCHED_HOOKS);
	while (n--) /* the last registered runs first, as with atexit */
		hooks[n]();
	atomic_store_explicit(&rt_state, RT_STOPPING, memory_order_release);
	stall_stop();
	int rc = stop_workers(sched_nworkers, deadline);
	atomic_store_explicit(&rt_state, RT_STOPPED, memory_order_release);
	mutex_unlock_ranked(&rt_lock, LOCKRANK_SCHED_LIFECYCLE);
	return rc;
}

const rf_config *sched_config(void)
{
	return sched_ensure() ? NULL : &sched_cfg;
}

static rf_config env_config;
static int env_config_rc;

static void read_env_config(void)
{
	env_config_rc = rf_config_default(&env_config);
}

const rf_config *sched_config_peek(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	/* acquire: pairs with rf_init's release store of RUNNING, after sched_cfg */
	int s = atomic_load_explicit(&rt_state, memory_order_acquire);
	if (s == RT_RUNNING || s == RT_DRAINING)
		return &sched_cfg;
	pthread_once(&once, read_env_config);
	return env_config_rc < 0 ? NULL : &env_config;
}

const struct topology *sched_topology(void)
{
	return sched_ensure() ? NULL : &sched_topo;
}

int sched_workers(void)
{
	return sched_ensure() ? 0 : sched_nworkers;
}

bool sched_running(void)
{
	/* acquire: pairs with sched_start's release store of RUNNING (workers published) */
	int st = atomic_load_explicit(&rt_state, memory_order_acquire);
	return st == RT_RUNNING || st == RT_DRAINING;
}

int sched_stats_hooks(rf_stats *out)
{
	mutex_lock_ranked(&hooks_lock, LOCKRANK_SCHED_HOOKS);
	int nh = nstats_hooks;
	int (*hooks[MAX_HOOKS])(rf_stats *);
	memcpy(hooks, stats_hooks, sizeof(hooks));
	mutex_unlock_ranked(&hooks_lock, LOCKRANK_SCHED_HOOKS);
	int rc = 0;
	for (int i = 0; i < nh && !rc; i++)
		rc = hooks[i](out);
	return rc;
}
