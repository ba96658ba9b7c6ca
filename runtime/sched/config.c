/* runtime/sched/config.c: rf_config defaults, their RF_* environment overrides, and the
 * check of a configuration before the runtime starts.
 *
 * Every malformed value is reported on stderr in one line naming the variable or field,
 * its value and what is expected, and answered with RF_ECONFIG. A program that retries
 * (every call that starts the runtime tries again) does not repeat the line: the last
 * line printed is remembered under report_lock.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringfold/runtime.h"
#include "runtime/sched/sched.h"

static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_report[256];

/* Print "ringfold: <what>" unless it was the last line printed; returns RF_ECONFIG. */
static int report(const char *what)
{
	pthread_mutex_lock(&report_lock);
	if (strcmp(what, last_report)) {
		snprintf(last_report, sizeof(last_report), "%s", what);
		fprintf(stderr, "ringfold: %s\n", what);
	}
	pthread_mutex_unlock(&report_lock);
	return RF_ECONFIG;
}

static int env_bad(const char *name, const char *value, const char *expected)
{
	char line[256];
	snprintf(line, sizeof(line), "%s=\"%.64s\" is malformed: expected %s", name, value,
	         expected);
	return report(line);
}

static int field_bad(const char *field, const char *value, const char *expected)
{
	char line[256];
	snprintf(line, sizeof(line), "rf_config.%s = %s is out of range: expected %s", field, value,
	         expected);
	return report(line);
}

/* An unsigned decimal environment value in [min, max]: 1 and *out when set, 0 when
 * unset or empty, RF_ECONFIG (reported) when malformed. */
static int env_uint(const char *name, unsigned long min, unsigned long max, const char *expected,
                    unsigned long *out)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return 0;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || s[0] == '-' || s[0] == '+' || s[0] == ' ' || v < min || v > max)
		return env_bad(name, s, expected);
	*out = v;
	return 1;
}

/* One of `names` (NULL-terminated): its index, -1 when unset; RF_ECONFIG when malformed. */
static int env_choice(const char *name, const char *const *names, const char *expected)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return -1;
	for (int i = 0; names[i]; i++)
		if (!strcmp(s, names[i]))
			return i;
	return env_bad(name, s, expected);
}

#define STACK_EXPECTED "a byte count from 16384 to 1073741824, digits only (no k/M suffix)"
#define COUNT_EXPECTED "a count from 0 to 4096 (0: one per CPU of the node)"

int rf_config_default(rf_config *cfg)
{
	unsigned long v;
	int rc;
	if (!cfg)
		return -EINVAL;

	if (!cfg)
		return -EINVAL;
	*cfg = (rf_config){
	    .size = sizeof(rf_config),
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
	if ((rc = env_uint("RF_WORKERS_PER_NODE", 0, 4096, COUNT_EXPECTED, &v)) < 0)
		return rc;
	if (rc)
		cfg->workers_per_node = (int)v;
	if ((rc = env_uint("RF_STACK_SIZE", 16384, 1UL << 30, STACK_EXPECTED, &v)) < 0)
		return rc;
	if (rc)
		cfg->stack_size = v;
	if ((rc = env_uint("RF_STALL_MS", 0, UINT32_MAX, "milliseconds from 0 (off) to 4294967295",
	                   &v)) < 0)
		return rc;
	if (rc)
		cfg->stall_ms = (uint32_t)v;
	if ((rc = env_uint("RF_FJ_WORKERS_PER_NODE", 0, 4096, COUNT_EXPECTED, &v)) < 0)
		return rc;
	if (rc)
		cfg->fj_workers_per_node = (int)v;
	if ((rc = env_uint("RF_CHAN_PENDING_LIMIT", 0, UINT32_MAX,
	                   "a count from 0 (the default, 1024) to 4294967295", &v)) < 0)
		return rc;
	if (rc)
		cfg->chan_pending_limit = (uint32_t)v;
	if ((rc = env_uint("RF_STM_RETRY_LIMIT", 0, UINT32_MAX,
	                   "a count from 0 (the default, 10000) to 4294967295", &v)) < 0)
		return rc;
	if (rc)
		cfg->stm_retry_limit = (uint32_t)v;

	static const char *const backends[] = {"auto", "uring", "epoll", NULL};
	if ((rc = env_choice("RF_IO_BACKEND", backends, "auto, uring or epoll")) < -1)
		return rc;
	if (rc >= 0)
		cfg->io_backend = (rf_io_backend)rc;
	static const char *const steals[] = {"local", "random", "none", NULL};
	if ((rc = env_choice("RF_FJ_STEAL", steals, "local, random or none")) < -1)
		return rc;
	if (rc >= 0)
		cfg->fj_steal = (rf_steal_policy)rc;
	return 0;
}

int config_check(const rf_config *c, size_t topology_max)
{
	char v[64];
	if (c->workers_per_node < 0 || c->workers_per_node > 4096) {
		snprintf(v, sizeof(v), "%d", c->workers_per_node);
		return field_bad("workers_per_node", v, COUNT_EXPECTED);
	}
	if (c->fj_workers_per_node < 0 || c->fj_workers_per_node > 4096) {
		snprintf(v, sizeof(v), "%d", c->fj_workers_per_node);
		return field_bad("fj_workers_per_node", v, COUNT_EXPECTED);
	}
	if (c->stack_size < 16384 || c->stack_size > (1UL << 30)) {
		snprintf(v, sizeof(v), "%zu", c->stack_size);
		return field_bad("stack_size", v, "16384 to 1073741824 bytes");
	}
	if (c->io_backend < RF_IO_AUTO || c->io_backend > RF_IO_EPOLL) {
		snprintf(v, sizeof(v), "%d", (int)c->io_backend);
		return field_bad("io_backend", v, "RF_IO_AUTO, RF_IO_URING or RF_IO_EPOLL");
	}
	if (c->fj_steal < RF_STEAL_LOCAL_FIRST || c->fj_steal > RF_STEAL_NONE) {
		snprintf(v, sizeof(v), "%d", (int)c->fj_steal);
		return field_bad("fj_steal", v,
		                 "RF_STEAL_LOCAL_FIRST, RF_STEAL_RANDOM or RF_STEAL_NONE");
	}
	if (c->topology && strlen(c->topology) >= topology_max) {
		snprintf(v, sizeof(v), "a string of %zu bytes", strlen(c->topology));
		char exp[64];
		snprintf(exp, sizeof(exp), "fewer than %zu bytes", topology_max);
		return field_bad("topology", v, exp);
	}
	return 0;
}

int config_from_caller(const rf_config *cfg, rf_config *out)
{
	if (cfg->size < sizeof(size_t) + sizeof(const char *)) {
		char v[32];
		snprintf(v, sizeof(v), "%zu", cfg->size);
		return field_bad("size", v, "sizeof(rf_config), as rf_config_default sets it");
	}
	if (cfg->size < sizeof(rf_config)) {
		/* Built against an older header: the fields it knows, defaults for the rest. */
		int rc = rf_config_default(out);
		if (rc < 0)
			return rc;
		memcpy(out, cfg, cfg->size);
	} else {
		memcpy(out, cfg, sizeof(rf_config));
	}
	out->size = sizeof(rf_config);
	return 0;
}
