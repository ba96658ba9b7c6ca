/* runtime/root/runtime.c: the composition root. rf_init starts the executor on the io
 * backend's poller; rf_shutdown stops it (writing RF_STATS_DUMP first; stats.c gathers
 * the executor's, the backend's and every family's counters). Families start the
 * runtime on first use through sched_ensure, which comes back here by rf_init.
 */
#include <stdatomic.h>
#include <sys/socket.h>

#include "io/backend.h"
#include "runtime/root/root.h"
#include "runtime/sched/sched.h"

/* Set by rf_stop_graceful until the runtime starts again (relaxed: a hint fibers poll;
 * the stop itself is ordered by sched_stop). */
static _Atomic bool stopping;

int rf_init(const rf_config *cfg)
{
	int rc = sched_start(cfg, &io_poller_ops);
	if (rc == 0) {
		atomic_store_explicit(&stopping, false, memory_order_relaxed);
		root_stats_dump_at_exit();
	}
	return rc;
}

/* RF_STATS_DUMP before the workers stop, from where rf_shutdown does anything. */
static void dump_stats(void)
{
	if (sched_running() && sched_worker_self() < 0)
		root_stats_dump();
}

void rf_shutdown(void)
{
	dump_stats();
	(void)sched_stop(0);
}

int rf_shutdown_timeout(int64_t timeout_ms)
{
	if (timeout_ms < 0)
		return -EINVAL;
	dump_stats();
	return sched_stop(timeout_ms);
}

int rf_stop_graceful(const int *listeners, size_t n, int64_t timeout_ms)
{
	if ((n && !listeners) || timeout_ms < 0)
		return -EINVAL;
	if (sched_worker_self() >= 0)
		return -EPERM;
	atomic_store_explicit(&stopping, true, memory_order_relaxed);
	/* A listening socket shut for reading fails its accepts (-EINVAL), waiting ones
	 * included, on either backend. */
	for (size_t i = 0; i < n; i++)
		(void)shutdown(listeners[i], SHUT_RD);
	dump_stats();
	return sched_stop(timeout_ms);
}

bool rf_stopping(void)
{
	return atomic_load_explicit(&stopping, memory_order_relaxed);
}

int rf_spawn_opts_default(rf_spawn_opts *opts)
{
	if (!opts)
		return -EINVAL;
	*opts = (rf_spawn_opts){.size = sizeof(*opts), .worker = -1, .node = -1};
	return 0;
}

int rf_worker_self(void)
{
	return sched_worker_self();
}
