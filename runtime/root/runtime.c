/* runtime/root/runtime.c: the composition root. rf_init starts the executor on the io
 * backend's poller; rf_shutdown stops it (writing RF_STATS_DUMP first; stats.c gathers
 * the executor's, the backend's and every family's counters). Families start the
 * runtime on first use through sched_ensure, which comes back here by rf_init.
 */
#include "io/backend.h"
#include "runtime/root/root.h"
#include "runtime/sched/sched.h"

int rf_init(const rf_config *cfg)
{
	int rc = sched_start(cfg, &io_poller_ops);
	if (!rc)
		root_stats_dump_at_exit();
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
