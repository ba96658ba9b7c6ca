/* runtime/root/runtime.c: the composition root. rf_init starts the executor on the io
 * backend's poller; rf_shutdown stops it; rf_stats_get gathers the executor's, the
 * backend's and every family's counters. Families start the runtime on first use
 * through sched_ensure, which comes back here by rf_init.
 */
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>

#include "io/backend.h"
#include "runtime/sched/sched.h"

/* Set by rf_stop_graceful until the runtime starts again (relaxed: a hint fibers poll;
 * the stop itself is ordered by sched_stop). */
static _Atomic bool stopping;

int rf_init(const rf_config *cfg)
{
	int rc = sched_start(cfg, &io_poller_ops);
	if (rc == 0)
		atomic_store_explicit(&stopping, false, memory_order_relaxed);
	return rc;
}

void rf_shutdown(void)
{
	(void)sched_stop(0);
}

int rf_shutdown_timeout(int64_t timeout_ms)
{
	return timeout_ms < 0 ? -EINVAL : sched_stop(timeout_ms);
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
	return sched_stop(timeout_ms);
}

bool rf_stopping(void)
{
	return atomic_load_explicit(&stopping, memory_order_relaxed);
}

void rf_stats_get(rf_stats *out)
{
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	if (sched_ensure())
		return;
	out->io_backend = io_kind();
	sched_stats(out);
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
