/* runtime/sched/runtime.c: starting, stopping and observing the executor.
 *
 * State machine (rt_state; transitions under rt_lock, release stores, acquire loads):
 *   STOPPED --rf_init--> RUNNING --rf_shutdown--> DRAINING --hooks done--> STOPPING
 *   STOPPING --workers joined--> STOPPED (and rf_init may start it again)
 * While DRAINING the workers still run, so shutdown hooks (agents draining their
 * accepted actions) may spawn and park fibers; from STOPPING on, spawns fail with
 * RF_ESHUTDOWN. rf_runtime_ensure's fast path is one acquire load; it pairs with the
 * release store of RUNNING, which publishes rf_rt_config, rf_rt_topo and rf_workers.
 *
 * Workers are allocated once per index (on the node of their first CPU) and kept across
 * restarts: a thread racing rf_shutdown with a push onto a worker then finds a closed
 * inbox instead of freed memory. Lock order: rt_lock, then hooks_lock.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/sched/fiber.h"

#ifdef RF_ASAN
#include <sanitizer/lsan_interface.h>
#endif

enum { RT_STOPPED, RT_RUNNING, RT_DRAINING, RT_STOPPING };

#define RF_MAX_HOOKS 32

static pthread_mutex_t rt_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int rt_state;
rf_config rf_rt_config;
static rf_topology rf_rt_topo;
static char rt_topology_text[1024];
rf_worker *rf_workers[RF_MAX_CPUS];
int rf_nworkers;

static pthread_mutex_t hooks_lock = PTHREAD_MUTEX_INITIALIZER;
static void (*shutdown_hooks[RF_MAX_HOOKS])(void);
static int nshutdown_hooks;
static void (*stats_hooks[RF_MAX_HOOKS])(rf_stats *);
static int nstats_hooks;

static int add_hook(void **list, int *n, void *fn)
{
	if (!fn)
		return -EINVAL;
	int rc = 0;
	pthread_mutex_lock(&hooks_lock);
	for (int i = 0; i < *n; i++)
		if (list[i] == fn)
			goto out;
	if (*n == RF_MAX_HOOKS)
		rc = -ENOMEM;
	else
		list[(*n)++] = fn;
out:
	pthread_mutex_unlock(&hooks_lock);
	return rc;
}

int rf_runtime_on_shutdown(void (*fn)(void))
{
	return add_hook((void **)shutdown_hooks, &nshutdown_hooks, (void *)fn);
}

int rf_runtime_on_stats(void (*fn)(rf_stats *))
{
	return add_hook((void **)stats_hooks, &nstats_hooks, (void *)fn);
}

static int check_config(const rf_config *cfg)
{
	if (cfg->workers_per_node < 0 || cfg->stack_size < 16384 || cfg->stack_size > (1UL << 30) ||
	    cfg->io_backend < RF_IO_AUTO || cfg->io_backend > RF_IO_EPOLL)
		return -EINVAL;
	if (cfg->topology && strlen(cfg->topology) >= sizeof(rt_topology_text))
		return -EINVAL;
	return 0;
}

static rf_worker *worker_obtain(int index, int os_node)
{
	if (!rf_workers[index]) {
		rf_worker *w = rf_node_alloc(sizeof(rf_worker), os_node);
		if (!w)
			return NULL;
		memset(w, 0, sizeof(*w));
#ifdef RF_ASAN
		/* mapped, so LeakSanitizer would not look inside: its pools and fiber list
		 * hold the allocator's fiber structs (workers live as long as the process) */
		__lsan_register_root_region(w, sizeof(*w));
#endif
		pthread_mutex_init(&w->spare_lock, NULL);
		rf_workers[index] = w;
	}
	rf_worker *w = rf_workers[index];
	w->index = index;
	w->os_node = os_node;
	atomic_store_explicit(&w->st_run, 0, memory_order_relaxed);
	atomic_store_explicit(&w->st_spawned, 0, memory_order_relaxed);
	atomic_store_explicit(&w->st_parks, 0, memory_order_relaxed);
	atomic_store_explicit(&w->st_wakeups, 0, memory_order_relaxed);
	atomic_store_explicit(&w->st_io, 0, memory_order_relaxed);
	atomic_store_explicit(&w->st_stalls, 0, memory_order_relaxed);
	return w;
}

static void stop_workers(int n)
{
	for (int i = 0; i < n; i++)
		rf_worker_stop(rf_workers[i]);
}

/* Under rt_lock, state STOPPED: start every worker. */
static int start(void)
{
	const rf_topology *t = &rf_rt_topo;
	int n = 0, rc = 0;
	/* Binding memory to a node only means something on a real multi-node machine; a
	 * simulated topology's node ids are not the kernel's. Elsewhere -1 skips the mbind
	 * syscall each new stack would otherwise pay. */
	bool bind = t->nnodes > 1 && !t->simulated;
	for (int node = 0; node < t->nnodes && !rc; node++) {
		const rf_node *nd = &t->nodes[node];
		int k = rf_rt_config.workers_per_node ? rf_rt_config.workers_per_node : nd->ncpus;
		for (int j = 0; j < k && n < RF_MAX_CPUS; j++) {
			rf_worker *w = worker_obtain(n, bind ? nd->os_node : -1);
			if (!w) {
				rc = -ENOMEM;
				break;
			}
			w->cpu = t->cpus[nd->first_cpu_idx + j % nd->ncpus];
			w->node = node;
			n++;
		}
	}
	rf_nworkers = n;
	for (int i = 0; i < n && !rc; i++) {
		if ((rc = rf_worker_start(rf_workers[i]))) {
			stop_workers(i);
			return rc;
		}
	}
	if (!rc && (rc = rf_stall_start(rf_rt_config.stall_ms)))
		stop_workers(n);
	return rc;
}

int rf_init(const rf_config *cfg)
{
	char err[256];
	int rc;
	if (rf_tls_worker)
		return RF_ESTARTED; /* a worker exists, so the runtime runs */
	pthread_mutex_lock(&rt_lock);
	if (atomic_load_explicit(&rt_state, memory_order_relaxed) != RT_STOPPED) {
		rc = RF_ESTARTED;
		goto out;
	}
	rf_config c;
	if (cfg)
		c = *cfg;
	else if ((rc = rf_config_default(&c)) < 0)
		goto out;
	if ((rc = check_config(&c)) < 0)
		goto out;
	if (c.topology) {
		strcpy(rt_topology_text, c.topology);
		c.topology = rt_topology_text;
	}
	if ((rc = rf_topology_detect(c.topology, &rf_rt_topo, err, sizeof(err))) < 0) {
		fprintf(stderr, "ringfold: %s\n", err);
		goto out;
	}
	if ((rc = rf_io_choose(c.io_backend)) < 0)
		goto out;
	c.io_backend = (rf_io_backend)rc;
	rf_rt_config = c;
	if ((rc = rf_guard_install_handler()) < 0 || (rc = start()) < 0)
		goto out;
	atomic_store_explicit(&rt_state, RT_RUNNING, memory_order_release);
out:
	pthread_mutex_unlock(&rt_lock);
	return rc;
}

int rf_runtime_ensure(void)
{
	int s = atomic_load_explicit(&rt_state, memory_order_acquire);
	if (s == RT_RUNNING || s == RT_DRAINING)
		return 0;
	if (s == RT_STOPPING)
		return RF_ESHUTDOWN;
	int rc = rf_init(NULL);
	return rc == RF_ESTARTED ? 0 : rc;
}

void rf_shutdown(void)
{
	if (rf_tls_worker) {
		fprintf(stderr, "ringfold: rf_shutdown called on an executor worker; ignored\n");
		return;
	}
	pthread_mutex_lock(&rt_lock);
	if (atomic_load_explicit(&rt_state, memory_order_relaxed) != RT_RUNNING) {
		pthread_mutex_unlock(&rt_lock);
		return;
	}
	atomic_store_explicit(&rt_state, RT_DRAINING, memory_order_release);
	pthread_mutex_lock(&hooks_lock);
	int n = nshutdown_hooks;
	void (*hooks[RF_MAX_HOOKS])(void);
	memcpy(hooks, shutdown_hooks, sizeof(hooks));
	pthread_mutex_unlock(&hooks_lock);
	while (n--) /* the last registered runs first, as with atexit */
		hooks[n]();
	atomic_store_explicit(&rt_state, RT_STOPPING, memory_order_release);
	rf_stall_stop();
	stop_workers(rf_nworkers);
	atomic_store_explicit(&rt_state, RT_STOPPED, memory_order_release);
	pthread_mutex_unlock(&rt_lock);
}

const rf_config *rf_runtime_config(void)
{
	return rf_runtime_ensure() ? NULL : &rf_rt_config;
}

static rf_config env_config;
static int env_config_rc;

static void read_env_config(void)
{
	env_config_rc = rf_config_default(&env_config);
}

const rf_config *rf_runtime_config_peek(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	/* acquire: pairs with rf_init's release store of RUNNING, after rf_rt_config */
	int s = atomic_load_explicit(&rt_state, memory_order_acquire);
	if (s == RT_RUNNING || s == RT_DRAINING)
		return &rf_rt_config;
	pthread_once(&once, read_env_config);
	return env_config_rc < 0 ? NULL : &env_config;
}

const struct rf_topology *rf_runtime_topology(void)
{
	return rf_runtime_ensure() ? NULL : &rf_rt_topo;
}

int rf_sched_workers(void)
{
	return rf_runtime_ensure() ? 0 : rf_nworkers;
}

static uint64_t get(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

void rf_stats_get(rf_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (rf_runtime_ensure())
		return;
	out->io_backend = rf_io_kind();
	out->nodes = rf_rt_topo.nnodes;
	out->workers = rf_nworkers;
	int n = rf_nworkers < 256 ? rf_nworkers : 256;
	for (int i = 0; i < n; i++) {
		rf_worker *w = rf_workers[i];
		rf_worker_stats *s = &out->executor[i];
		s->cpu = w->cpu;
		s->node = w->node;
		s->fibers_run = get(&w->st_run);
		s->fibers_spawned = get(&w->st_spawned);
		s->parks = get(&w->st_parks);
		s->wakeups = get(&w->st_wakeups);
		s->io_completions = get(&w->st_io);
		s->stalls = get(&w->st_stalls);
	}
	pthread_mutex_lock(&hooks_lock);
	int nh = nstats_hooks;
	void (*hooks[RF_MAX_HOOKS])(rf_stats *);
	memcpy(hooks, stats_hooks, sizeof(hooks));
	pthread_mutex_unlock(&hooks_lock);
	for (int i = 0; i < nh; i++)
		hooks[i](out);
}
