/* runtime/sched/runtime.c: runtime start-up and shutdown.
 * PLACEHOLDER until the executor lands: topology and config only, no workers, no fibers
 * (every caller is a plain thread). The executor work replaces this file. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numa/topology.h"
#include "runtime/sched.h"

static pthread_mutex_t rt_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int rt_started; /* release-stored after cfg/topo are set; acquire-loaded */
static rf_config rt_cfg;
static rf_topology rt_topo;
static _Thread_local rf_ctx thread_ctx;

rf_ctx *rf_ctx_self(void) { return &thread_ctx; }

int rf_init(const rf_config *cfg)
{
	char err[256];
	int rc = 0;
	pthread_mutex_lock(&rt_lock);
	if (atomic_load_explicit(&rt_started, memory_order_relaxed)) {
		rc = RF_ESTARTED;
		goto out;
	}
	if (cfg)
		rt_cfg = *cfg;
	else if ((rc = rf_config_default(&rt_cfg)) < 0)
		goto out;
	if ((rc = rf_topology_detect(rt_cfg.topology, &rt_topo, err, sizeof(err))) < 0) {
		fprintf(stderr, "ringfold: %s\n", err);
		goto out;
	}
	atomic_store_explicit(&rt_started, 1, memory_order_release);
out:
	pthread_mutex_unlock(&rt_lock);
	return rc;
}

int rf_runtime_ensure(void)
{
	if (atomic_load_explicit(&rt_started, memory_order_acquire))
		return 0;
	int rc = rf_init(NULL);
	return rc == RF_ESTARTED ? 0 : rc;
}

void rf_shutdown(void)
{
	pthread_mutex_lock(&rt_lock);
	atomic_store_explicit(&rt_started, 0, memory_order_relaxed);
	pthread_mutex_unlock(&rt_lock);
}

const rf_config *rf_runtime_config(void) { return rf_runtime_ensure() ? NULL : &rt_cfg; }
const struct rf_topology *rf_runtime_topology(void)
{
	return rf_runtime_ensure() ? NULL : &rt_topo;
}

void rf_stats_get(rf_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (rf_runtime_ensure())
		return;
	out->nodes = rt_topo.nnodes;
}

struct rf_fiber *rf_fiber_self(void) { return NULL; }
int rf_sched_worker_self(void) { return -1; }
int rf_sched_workers(void) { return 0; }
void rf_fiber_yield(void) {}
int rf_fiber_spawn(rf_fiber_fn fn, void *arg, int worker, void *bindings) { return -ENOSYS; }
void rf_fiber_park(bool (*commit)(void *), bool (*on_timeout)(void *), void *arg, uint64_t d)
{
	abort(); /* unreachable: no fibers yet */
}
void rf_fiber_resume(struct rf_fiber *f) { abort(); }
