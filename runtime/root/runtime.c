/* runtime/root/runtime.c: the composition root. rf_init starts the executor on the io
 * backend's poller; rf_shutdown stops it; rf_stats_get gathers the executor's, the
 * backend's and every family's counters. Families start the runtime on first use
 * through sched_ensure, which comes back here by rf_init.
 */
#include <string.h>

#include "io/backend.h"
#include "runtime/sched/sched.h"

int rf_init(const rf_config *cfg)
{
	return sched_start(cfg, &io_poller_ops);
}

void rf_shutdown(void)
{
	(void)sched_stop(0);
}

int rf_shutdown_timeout(int64_t timeout_ms)
{
	return timeout_ms < 0 ? -EINVAL : sched_stop(timeout_ms);
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
