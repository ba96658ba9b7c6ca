/* runtime/root/stats.c: rf_stats snapshots: made, filled, subtracted, written as JSON,
 * and dumped to RF_STATS_DUMP at rf_shutdown and at exit.
 *
 * A snapshot belongs to its caller (one thread at a time); it owns its arrays, which
 * sched_stats_reserve grows when the runtime has more workers than they hold.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/backend.h"
#include "runtime/base/time.h"
#include "runtime/root/root.h"
#include "runtime/sched/sched.h"
#include "runtime/stm/tx.h"

int rf_stats_new(rf_stats **out)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	rf_stats *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->size = sizeof(*st);
	long n = sysconf(_SC_NPROCESSORS_CONF);
	int cpus = n > 0 && n < (1 << 20) ? (int)n : 1;
	if (sched_stats_reserve(st, cpus, cpus, 1)) {
		rf_stats_free(st);
		return -ENOMEM;
	}
	*out = st;
	return 0;
}

void rf_stats_free(rf_stats *st)
{
	if (!st)
		return;
	free(st->executor);
	free(st->fj);
	free(st->node);
	free(st);
}

static void add_worker(rf_worker_stats *sum, const rf_worker_stats *w)
{
	sum->fibers_run += w->fibers_run;
	sum->fibers_spawned += w->fibers_spawned;
	sum->parks += w->parks;
	sum->parked += w->parked;
	sum->wakeups += w->wakeups;
	sum->idle_ns += w->idle_ns;
	sum->io_completions += w->io_completions;
	sum->stalls += w->stalls;
	sum->steals_local += w->steals_local;
	sum->steals_remote += w->steals_remote;
	sum->steals_failed += w->steals_failed;
}

static void sub_worker(rf_worker_stats *st, const rf_worker_stats *base)
{
	st->fibers_run -= base->fibers_run;
	st->fibers_spawned -= base->fibers_spawned;
	st->parks -= base->parks;
	st->wakeups -= base->wakeups;
	st->idle_ns -= base->idle_ns;
	st->io_completions -= base->io_completions;
	st->stalls -= base->stalls;
	st->steals_local -= base->steals_local;
	st->steals_remote -= base->steals_remote;
	st->steals_failed -= base->steals_failed;
}

static void totals(rf_stats *st)
{
	const rf_worker_stats zero = {.cpu = -1};
	st->total_executor = st->total_fj = zero;
	for (int k = 0; k < st->nodes; k++)
		st->node[k] = (rf_node_stats){.node = k, .executor = zero, .fj = zero};
	for (int i = 0; i < st->workers; i++) {
		const rf_worker_stats *w = &st->executor[i];
		add_worker(&st->total_executor, w);
		if (w->node >= 0 && w->node < st->nodes) {
			st->node[w->node].workers++;
			st->node[w->node].executor.node = w->node;
			add_worker(&st->node[w->node].executor, w);
		}
	}
	for (int i = 0; i < st->fj_workers; i++) {
		const rf_worker_stats *w = &st->fj[i];
		add_worker(&st->total_fj, w);
		if (w->node >= 0 && w->node < st->nodes) {
			st->node[w->node].fj_workers++;
			st->node[w->node].fj.node = w->node;
			add_worker(&st->node[w->node].fj, w);
		}
	}
}

int rf_stats_get(rf_stats *st)
{
	if (!st || st->size != sizeof(*st))
		return -EINVAL;
	st->running = sched_running();
	st->io_backend = RF_IO_AUTO;
	st->taken_ns = time_now_ns();
	st->nodes = st->workers = st->fj_workers = 0;
	int rc;
	if (st->running) {
		st->io_backend = io_kind();
		if ((rc = sched_stats(st)) < 0)
			return rc;
	}
	if ((rc = sched_stats_hooks(st)) < 0)
		return rc;
	/* fork/join workers may sit on nodes past the last executor worker's */
	int nodes = st->nodes;
	for (int i = 0; i < st->fj_workers; i++)
		if (st->fj[i].node + 1 > nodes)
			nodes = st->fj[i].node + 1;
	if ((rc = sched_stats_reserve(st, 0, 0, nodes)) < 0)
		return rc;
	st->nodes = nodes;
	stm_stats(&st->stm_commits, &st->stm_retries);
	totals(st);
	return 0;
}

int rf_stats_sub(rf_stats *st, const rf_stats *base)
{
	if (!st || !base || st->size != sizeof(*st) || base->size != sizeof(*base) ||
	    st->workers != base->workers || st->fj_workers != base->fj_workers ||
	    st->nodes != base->nodes)
		return -EINVAL;
	for (int i = 0; i < st->workers; i++)
		sub_worker(&st->executor[i], &base->executor[i]);
	for (int i = 0; i < st->fj_workers; i++)
		sub_worker(&st->fj[i], &base->fj[i]);
	st->stm_commits -= base->stm_commits;
	st->stm_retries -= base->stm_retries;
	st->taken_ns -= base->taken_ns;
	totals(st);
	return 0;
}

/* --- JSON ---------------------------------------------------------------------------- */

typedef struct jbuf {
	char *p;
	size_t cap, len; /* len counts what would have been written */
} jbuf;

__attribute__((format(printf, 2, 3))) static void put(jbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t room = b->len < b->cap ? b->cap - b->len : 0;
	int n = vsnprintf(room ? b->p + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n;
}

static void put_worker(jbuf *b, const rf_worker_stats *w)
{
	put(b,
	    "{\"cpu\":%d,\"node\":%d,\"fibers_run\":%llu,\"fibers_spawned\":%llu,"
	    "\"parks\":%llu,\"parked\":%llu,\"wakeups\":%llu,\"idle_ns\":%llu,"
	    "\"io_completions\":%llu,\"stalls\":%llu,\"steals_local\":%llu,"
	    "\"steals_remote\":%llu,\"steals_failed\":%llu}",
	    w->cpu, w->node, (unsigned long long)w->fibers_run,
	    (unsigned long long)w->fibers_spawned, (unsigned long long)w->parks,
	    (unsigned long long)w->parked, (unsigned long long)w->wakeups,
	    (unsigned long long)w->idle_ns, (unsigned long long)w->io_completions,
	    (unsigned long long)w->stalls, (unsigned long long)w->steals_local,
	    (unsigned long long)w->steals_remote, (unsigned long long)w->steals_failed);
}

static void put_workers(jbuf *b, const char *name, const rf_worker_stats *w, int n)
{
	put(b, ",\"%s\":[", name);
	for (int i = 0; i < n; i++) {
		put(b, i ? "," : "");
		put_worker(b, &w[i]);
	}
	put(b, "]");
}

static const char *backend_name(rf_io_backend k)
{
	return k == RF_IO_URING ? "uring" : k == RF_IO_EPOLL ? "epoll" : "none";
}

int rf_stats_json(const rf_stats *st, char *buf, size_t cap, size_t *len_out)
{
	if (!st || st->size != sizeof(*st) || (!buf && cap))
		return -EINVAL;
	jbuf b = {buf, cap, 0};
	put(&b,
	    "{\"running\":%s,\"io_backend\":\"%s\",\"taken_ns\":%llu,\"nodes\":%d,"
	    "\"workers\":%d,\"fj_workers\":%d,\"stm_commits\":%llu,\"stm_retries\":%llu,"
	    "\"total_executor\":",
	    st->running ? "true" : "false", backend_name(st->io_backend),
	    (unsigned long long)st->taken_ns, st->nodes, st->workers, st->fj_workers,
	    (unsigned long long)st->stm_commits, (unsigned long long)st->stm_retries);
	put_worker(&b, &st->total_executor);
	put(&b, ",\"total_fj\":");
	put_worker(&b, &st->total_fj);
	put(&b, ",\"node\":[");
	for (int k = 0; k < st->nodes; k++) {
		const rf_node_stats *nd = &st->node[k];
		put(&b,
		    "%s{\"node\":%d,\"workers\":%d,\"fj_workers\":%d,\"executor\":", k ? "," : "",
		    nd->node, nd->workers, nd->fj_workers);
		put_worker(&b, &nd->executor);
		put(&b, ",\"fj\":");
		put_worker(&b, &nd->fj);
		put(&b, "}");
	}
	put(&b, "]");
	put_workers(&b, "executor", st->executor, st->workers);
	put_workers(&b, "fj", st->fj, st->fj_workers);
	put(&b, "}");
	if (len_out)
		*len_out = b.len;
	return b.len < cap ? 0 : -ENOSPC;
}

int rf_stats_write_json(const rf_stats *st, int fd)
{
	if (!st || fd < 0)
		return -EINVAL;
	size_t len;
	int rc = rf_stats_json(st, NULL, 0, &len);
	if (rc != -ENOSPC)
		return rc;
	char *text = malloc(len + 2);
	if (!text)
		return -ENOMEM;
	rc = rf_stats_json(st, text, len + 1, &len);
	text[len++] = '\n';
	for (size_t off = 0; !rc && off < len;) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno != EINTR)
			rc = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	free(text);
	return rc;
}

/* --- RF_STATS_DUMP --------------------------------------------------------------------- */

void root_stats_dump(void)
{
	const char *path = getenv("RF_STATS_DUMP");
	if (!path || !*path)
		return;
	rf_stats *st;
	if (rf_stats_new(&st))
		return;
	int rc = rf_stats_get(st);
	int fd = rc ? -1 : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || (rc = rf_stats_write_json(st, fd)) < 0)
		fprintf(stderr, "ringfold: RF_STATS_DUMP=%s: %s\n", path,
		        strerror(fd < 0 ? errno : -rc));
	if (fd >= 0)
		close(fd);
	rf_stats_free(st);
}

static void dump_at_exit(void)
{
	if (sched_running())
		root_stats_dump();
}

static void register_dump(void)
{
	atexit(dump_at_exit);
}

void root_stats_dump_at_exit(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	const char *path = getenv("RF_STATS_DUMP");
	if (path && *path)
		pthread_once(&once, register_dump);
}
