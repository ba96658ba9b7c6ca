/* runtime/sched/config.c: rf_config defaults and their RF_* environment overrides. */
#include <stdlib.h>
#include <string.h>

#include "ringfold/runtime.h"

static int env_uint(const char *name, unsigned long max, unsigned long *out)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return 0;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > max || s[0] == '-')
		return -EINVAL;
	*out = v;
	return 1;
}

int rf_config_default(rf_config *cfg)
{
	unsigned long v;
	int rc;
	if (!cfg)
		return -EINVAL;

	*cfg = (rf_config){
	    .topology = NULL,
	    .workers_per_node = 0,
	    .stack_size = 64 * 1024,
	    .io_backend = RF_IO_AUTO,
	    .stall_ms = 100,
	    .fj_workers_per_node = 0,
	    .fj_steal = RF_STEAL_LOCAL_FIRST,
	    .chan_pending_limit = 1024,
	    .stm_retry_limit = 10000,
	};
	const char *topo = getenv("RF_TOPOLOGY");
	if (topo && *topo)
		cfg->topology = topo;
	if ((rc = env_uint("RF_WORKERS_PER_NODE", 4096, &v)) < 0)
		return rc;
	if (rc)
		cfg->workers_per_node = (int)v;
	if ((rc = env_uint("RF_STACK_SIZE", 1UL << 30, &v)) < 0)
		return rc;
	if (rc)
		cfg->stack_size = v;
	if ((rc = env_uint("RF_STALL_MS", UINT32_MAX, &v)) < 0)
		return rc;
	if (rc)
		cfg->stall_ms = (uint32_t)v;
	if ((rc = env_uint("RF_FJ_WORKERS_PER_NODE", 4096, &v)) < 0)
		return rc;
	if (rc)
		cfg->fj_workers_per_node = (int)v;
	if ((rc = env_uint("RF_CHAN_PENDING_LIMIT", UINT32_MAX, &v)) < 0)
		return rc;
	if (rc)
		cfg->chan_pending_limit = (uint32_t)v;
	if ((rc = env_uint("RF_STM_RETRY_LIMIT", UINT32_MAX, &v)) < 0)
		return rc;
	if (rc)
		cfg->stm_retry_limit = (uint32_t)v;

	const char *io = getenv("RF_IO_BACKEND");
	if (io && *io) {
		if (!strcmp(io, "auto"))
			cfg->io_backend = RF_IO_AUTO;
		else if (!strcmp(io, "uring"))
			cfg->io_backend = RF_IO_URING;
		else if (!strcmp(io, "epoll"))
			cfg->io_backend = RF_IO_EPOLL;
		else
			return -EINVAL;
	}
	const char *steal = getenv("RF_FJ_STEAL");
	if (steal && *steal) {
		if (!strcmp(steal, "local"))
			cfg->fj_steal = RF_STEAL_LOCAL_FIRST;
		else if (!strcmp(steal, "random"))
			cfg->fj_steal = RF_STEAL_RANDOM;
		else if (!strcmp(steal, "none"))
			cfg->fj_steal = RF_STEAL_NONE;
		else
			return -EINVAL;
	}
	return 0;
}
