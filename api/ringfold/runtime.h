/* ringfold/runtime.h: starting, configuring, observing and stopping the runtime.
 *
 * The runtime starts itself on first use with defaults read from the environment.
 * rf_init() before first use sets the knobs instead; rf_shutdown() stops it.
 *
 * fork(): the child of a process whose runtime runs gets a fresh runtime on its first
 * use: a pthread_atfork child handler forgets the workers, the fork/join pool and every
 * helper thread (none exists in the child) and the fibers of the parent; the parent is
 * not affected. A fork from a fiber leaves the child running on that fiber's stack as a
 * plain thread, with the affinity the runtime was started with. Like any fork of a
 * threaded process, an object another thread had locked at that instant (a channel, a
 * lock) may stay locked in the child, and executor services (rf_executor_new) made
 * before the fork have no threads there: the child uses only what it makes itself.
 *
 * Knobs (config field, environment variable, default):
 *   topology        RF_TOPOLOGY        libnuma nodes ∩ sched_getaffinity mask
 *                   "0:0-3,1:4-7" = node 0 has CPUs 0-3, node 1 CPUs 4-7; malformed or naming a
 *                   CPU outside the affinity mask: rf_init fails with RF_ETOPOLOGY.
 *   workers_per_node RF_WORKERS_PER_NODE 0 = one executor worker per CPU of the node
 *   stack_size      RF_STACK_SIZE      65536 bytes per fiber stack (rounded up to pages;
 *                                      16384 .. 1073741824, digits only)
 *   io_backend      RF_IO_BACKEND      auto | uring | epoll
 *   stall_ms        RF_STALL_MS        100: a fiber running this long (CPU time) without
 *                                      parking is reported once on stderr and counted in
 *                                      stats; 0 turns the detector off
 *   fj_workers_per_node RF_FJ_WORKERS_PER_NODE 0 = one fork/join worker per CPU of the node
 *   fj_steal        RF_FJ_STEAL        local (in-node first) | random | none (never cross nodes)
 *   chan_pending_limit RF_CHAN_PENDING_LIMIT 1024 pending puts or takes per channel (0: 1024)
 *   stm_retry_limit RF_STM_RETRY_LIMIT 10000 retries before RF_ERETRYLIMIT (0: 10000)
 *
 * Environment only:
 *   RF_STATS_DUMP   path: rf_shutdown and the end of the process write rf_stats as JSON
 *                   there (rf_stats_write_json), replacing what the file held
 *
 * Configuration errors. A malformed RF_* variable or an rf_config field out of range
 * makes the call that starts the runtime print one line on stderr naming the variable or
 * field, its value and what is expected, and return RF_ECONFIG; so does every later call
 * that would start it (rf_init, and first uses: rf_future_call, rf_go, rf_agent_send,
 * rf_fj_invoke, rf_fold, rf_pmap, rf_executor_submit, ...), without repeating the line.
 * RF_TOPOLOGY keeps its own code, RF_ETOPOLOGY.
 */
#ifndef RINGFOLD_RUNTIME_H
#define RINGFOLD_RUNTIME_H

#include "ringfold/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum rf_io_backend {
	RF_IO_AUTO = 0,
	RF_IO_URING = 1,
	RF_IO_EPOLL = 2,
} rf_io_backend;

typedef enum rf_steal_policy {
	RF_STEAL_LOCAL_FIRST = 0,
	RF_STEAL_RANDOM = 1,
	RF_STEAL_NONE = 2,
} rf_steal_policy;

typedef struct rf_config {
	size_t size; /* sizeof(rf_config), set by rf_config_default; fields past it: defaults */
	const char *topology;
	int workers_per_node;
	size_t stack_size;
	rf_io_backend io_backend;
	uint32_t stall_ms;
	int fj_workers_per_node;
	rf_steal_policy fj_steal;
	uint32_t chan_pending_limit;
	uint32_t stm_retry_limit;
} rf_config;

/* The defaults, overridden by the RF_* environment variables.
 * Returns: 0 and *cfg (cfg->size = sizeof(rf_config)).
 * Errors:  RF_ECONFIG (an RF_* variable is malformed; one line on stderr names it),
 *          -EINVAL (cfg NULL).
 * Blocks:  never.
 * Context: any.
 * Cost:    a few getenv calls. */
RF_API int rf_config_default(rf_config *cfg);

/* Start the runtime with *cfg (NULL: rf_config_default); cfg->size says which fields the
 * caller knows, the others take their defaults. A worker whose io_uring cannot be set up
 * uses epoll instead (said on stderr), and an io_uring probe that failed for want of
 * memory or descriptors is tried again at the next start.
 * Returns: 0.
 * Errors:  RF_ESTARTED (already running), RF_ECONFIG (a malformed RF_* variable, a field
 *          out of range or cfg->size unset: one line on stderr names it), RF_ETOPOLOGY,
 *          RF_ENOURING (io_backend RF_IO_URING and no io_uring here), -ENOMEM, -EMFILE,
 *          -ENFILE, -EAGAIN (a resource ran out reading the topology, starting a worker's
 *          thread or poller; each failure is named once on stderr).
 * Blocks:  while the workers start (and while an rf_shutdown is in progress).
 * Context: a plain thread.
 * Cost:    a thread per worker. */
RF_API int rf_init(const rf_config *cfg);

/* Stop the runtime, the same as rf_shutdown_timeout(0): every accepted agent action runs,
 * then every parked fiber's wait (channel, alts, deref, lock, join, await, io, sleep)
 * and every wait started from then on returns RF_ESHUTDOWN, so fibers unwind. Futures
 * and go processes accepted but not started still run, so every accepted future is
 * realized. No fiber's stack is freed before the fiber returned. Afterwards the runtime
 * may start again (rf_init, or any first use).
 * Returns: nothing.
 * Errors:  none; a no-op when the runtime is not running; on a fiber or a pool task it
 *          prints a warning and does nothing.
 * Blocks:  until every fiber returned and the workers stopped: a fiber that neither waits
 *          nor returns keeps it waiting. Plain threads waiting on ringfold objects are
 *          not woken.
 * Context: plain thread.
 * Cost:    a wake and a join per worker, the fibers' unwinding. */
RF_API void rf_shutdown(void);

/* Print every fiber to fd: id (worker.n), state, what a parked fiber waits on (channel,
 * promise/future/delay, lock, I/O on fd, timer, ...) and for how long (to the monitor's
 * period, 100 ms at most), and its entry function (a name where dladdr finds one: link
 * programs with -rdynamic for their own functions).
 * Returns: 0.
 * Errors:  -EINVAL (negative fd), write's -errno.
 * Blocks:  the calling thread (or worker) until every worker answered, at most 1 s; a
 *          worker running a fiber that does not park is reported as not answering.
 * Context: any. Never starts the runtime. Cost: a walk over every fiber.
 * RF_DUMP_SIGNAL=SIGUSR2 (a name or a number) makes that signal dump to stderr. When a
 * plain thread waits in ringfold while every fiber is parked on something no timer, I/O
 * or other thread can complete, ringfold prints "all go processes are asleep" and the
 * dump once (RF_DEADLOCK_REPORT=0 turns that off). */
RF_API int rf_dump(int fd);

/* One worker's counters (cumulative since the runtime started, except `parked`).
 * Executor workers fill every field but the steals; fork/join workers fill fibers_run
 * (tasks run), wakeups, the steals and idle_ns. */
/* rf_shutdown, after letting fibers finish on their own for up to timeout_ms (waits
 * complete normally meanwhile; new spawns already fail with RF_ESHUTDOWN).
 * Returns: 0 when every fiber returned within the timeout; -ETIMEDOUT when some had to
 *   be cancelled as by rf_shutdown (the runtime is stopped either way).
 * Errors: -EINVAL (timeout_ms < 0); -EPERM on an executor worker (nothing done).
 * Blocks: up to timeout_ms, then as rf_shutdown. Context: plain thread.
 * Cost: one wake-up per worker; returns as soon as the last fiber has returned. */
RF_API int rf_shutdown_timeout(int64_t timeout_ms);

/* Stop a server gracefully: accept no more connections, let the fibers serving the open
 * ones finish within timeout_ms, then stop as rf_shutdown. Each listening socket given is
 * shut for reading, so its accepts, waiting ones included, fail with -EINVAL (an accept
 * loop ends); rf_stopping() turns true, for connection loops to finish the request they
 * serve and return; then rf_shutdown_timeout(timeout_ms).
 * Returns: 0 when every fiber returned within the timeout; -ETIMEDOUT when the rest had
 *          their waits cancelled (RF_ESHUTDOWN) as by rf_shutdown. Stopped either way.
 * Errors:  -EINVAL (NULL listeners with n > 0, timeout_ms < 0); -EPERM on an executor
 *          worker (nothing done).
 * Blocks:  up to timeout_ms, then as rf_shutdown.
 * Context: plain thread (a signal loop in main: see rf_signal_chan).
 * Cost:    a shutdown(2) per listener, then rf_shutdown_timeout's. */
RF_API int rf_stop_graceful(const int *listeners, size_t n, int64_t timeout_ms);

/* Whether rf_stop_graceful has begun (until the runtime starts again).
 * Returns: true or false.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    one relaxed load. */
RF_API bool rf_stopping(void);

/* Where a go process or future runs and how big its stack is (rf_go_with,
 * rf_future_call_with). Without options (rf_go, rf_future_call) a process started from a
 * fiber goes to the spawner's worker unless another worker of its node carries a few
 * fewer fibers (so a listener's connections spread over the node while a parent and its
 * few children stay together), one started from a plain thread goes round-robin over all
 * workers, and a worker that runs out of work takes half of a busy peer's processes that
 * have not started yet. A process that has started never moves (errno and thread-locals
 * stay those of its worker). */
typedef struct rf_spawn_opts {
	size_t size;       /* sizeof(rf_spawn_opts) (rf_spawn_opts_default sets it) */
	int worker;        /* -1, or 0..workers-1: runs on that worker, never moved */
	int node;          /* -1, or a node index: its least-loaded worker */
	bool stay_local;   /* from a fiber: the spawner's worker, never moved */
	size_t stack_size; /* 0: the runtime's stack_size; else 16 KiB .. 1 GiB */
} rf_spawn_opts;

/* Fill *opts with no placement and the runtime's stack size.
 * Returns: 0.
 * Errors:  -EINVAL (NULL opts).
 * Blocks:  never.
 * Context: any.
 * Cost:    a few stores. */
RF_API int rf_spawn_opts_default(rf_spawn_opts *opts);

/* The index of the executor worker the caller runs on.
 * Returns: 0..workers-1, or -1 on a plain thread or fork/join task.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    one thread-local load. */
RF_API int rf_worker_self(void);

typedef struct rf_worker_stats {
	int cpu;             /* CPU the worker is pinned to (-1 in a node total) */
	int node;            /* its NUMA node */
	uint64_t fibers_run; /* fibers resumed (fork/join: tasks run) */
	uint64_t fibers_spawned;
	uint64_t parks;   /* fibers parked */
	uint64_t parked;  /* fibers parked now (a gauge, not a counter) */
	uint64_t wakeups; /* times the worker was woken from sleep */
	uint64_t idle_ns; /* time spent asleep waiting for work */
	uint64_t io_completions;
	uint64_t stalls;        /* fibers reported by the stall detector */
	uint64_t steals_local;  /* fork/join steals within the node */
	uint64_t steals_remote; /* fork/join steals from another node */
	uint64_t steals_failed; /* fork/join sweeps over the victims that found nothing */
	uint64_t reserved[4];   /* zero; room for counters to come */
} rf_worker_stats;

/* A node's totals: the sums of its workers' counters (cpu = -1). */
typedef struct rf_node_stats {
	int node;
	int workers;    /* executor workers on the node */
	int fj_workers; /* fork/join workers on the node */
	rf_worker_stats executor;
	rf_worker_stats fj;
} rf_node_stats;

/* A snapshot of the runtime's counters, made by rf_stats_new and filled by rf_stats_get.
 * The arrays are sized by the machine and owned by the snapshot; read any field, write
 * none (rf_stats_sub and rf_stats_get do). */
typedef struct rf_stats {
	size_t size;              /* sizeof(rf_stats) of the library that made it */
	int running;              /* 1 if the runtime ran when the snapshot was taken */
	rf_io_backend io_backend; /* the backend in use (RF_IO_AUTO while not running) */
	uint64_t taken_ns;        /* CLOCK_MONOTONIC time of the snapshot */
	int nodes;
	int workers;                    /* executor workers */
	int fj_workers;                 /* fork/join workers (0 until fork/join is first used) */
	rf_worker_stats *executor;      /* [workers] */
	rf_worker_stats *fj;            /* [fj_workers] */
	rf_node_stats *node;            /* [nodes] */
	rf_worker_stats total_executor; /* sums over every executor worker */
	rf_worker_stats total_fj;       /* sums over every fork/join worker */
	uint64_t stm_retries;
	uint64_t stm_commits;
	uint64_t reserved[8];
	/* private: capacities of the arrays */
	int cap_executor, cap_fj, cap_nodes;
} rf_stats;

/* Make an empty snapshot, its arrays sized for this machine's CPUs.
 * Returns: 0; *out is the snapshot (free it with rf_stats_free).
 * Errors:  -EINVAL (NULL out), -ENOMEM.
 * Blocks:  never. Context: any. Cost: a few allocations. */
RF_API int rf_stats_new(rf_stats **out);

/* Free a snapshot made by rf_stats_new.
 * Returns: nothing.
 * Errors:  none; NULL is a no-op.
 * Blocks:  never.
 * Context: any.
 * Cost:    a free. */
RF_API void rf_stats_free(rf_stats *st);

/* Fill st with the counters now. Never starts the runtime: while it is not running,
 * running is 0 and there are no workers (the STM totals are still read).
 * Returns: 0.
 * Errors:  -EINVAL (NULL st, or st not made by rf_stats_new), -ENOMEM (the arrays had to
 *          grow and could not).
 * Blocks:  never. Context: any (counters read relaxed; totals are not one instant).
 * Cost:    one pass over the workers. */
RF_API int rf_stats_get(rf_stats *st);

/* Turn st into the change since base (an earlier snapshot of the same run): every
 * counter becomes st - base; gauges (parked) and identities stay st's.
 * Returns: 0.
 * Errors:  -EINVAL (NULL argument, or a different number of workers or nodes: the
 *          runtime restarted between the two).
 * Blocks:  never. Context: any. Cost: one pass over the workers. */
RF_API int rf_stats_sub(rf_stats *st, const rf_stats *base);

/* Write st as one JSON object into buf (NUL-terminated).
 * Returns: 0; *len_out (may be NULL) is the length without the NUL.
 * Errors:  -EINVAL (NULL st, or NULL buf with cap > 0), -ENOSPC (cap too small:
 *          *len_out is the length needed).
 * Blocks:  never. Context: any. Cost: formatting, about 400 bytes per worker. */
RF_API int rf_stats_json(const rf_stats *st, char *buf, size_t cap, size_t *len_out);

/* Write st as one JSON object and a newline to fd.
 * Returns: 0.
 * Errors:  -EINVAL (NULL st, negative fd), -ENOMEM, or write's -errno.
 * Blocks:  in write(2). Context: any. Cost: formatting and one write(2). */
RF_API int rf_stats_write_json(const rf_stats *st, int fd);

#ifdef __cplusplus
}
#endif
#endif
