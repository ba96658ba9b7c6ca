/* runtime/sched/sched.h: the executor as the rest of ringfold sees it (internal).
 *
 * One worker thread per CPU of the topology, pinned, each running fibers from its own run
 * queue; work for a worker arrives from other threads through its inbox. A started fiber
 * never migrates: it resumes on the worker that started it (errno and thread-locals are
 * cached by compilers across calls); one not yet started may be handed to an idle worker
 * of its node (runtime/sched/place.c).
 *
 * Contexts: "any" = fiber, plain thread or fork/join task; "fiber" = only on a fiber.
 */
#ifndef RF_SCHED_SCHED_H
#define RF_SCHED_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringfold/base.h"
#include "ringfold/runtime.h"
#include "runtime/base/ctx.h"
#include "runtime/sched/poller.h"

struct sched_fiber;
typedef void (*sched_fiber_fn)(void *arg);

#define SCHED_WORKER_ANY (-1)

/* Start the runtime with defaults if it is not running yet. Returns 0 or the error of
 * rf_init. Cheap once started (one acquire load). Any context. */
int sched_ensure(void);

/* The composition root's rf_init: start the workers with cfg (NULL: rf_config_default)
 * on the backend `poller` implements. Returns 0, RF_ESTARTED, or the first error (bad
 * config, topology, backend, a worker that could not start). Plain thread. */
int sched_start(const rf_config *cfg, const sched_poller_ops *poller);

/* The composition root's rf_shutdown_timeout: run the shutdown hooks, let fibers
 * finish for up to timeout_ms (0: not at all), cancel the waits of those still parked
 * (they return RF_ESHUTDOWN), and join the workers once every fiber has returned.
 * Returns 0 if none had to be cancelled, -ETIMEDOUT if some were, -EPERM on a worker
 * (nothing done). Plain thread. */
int sched_stop(int64_t timeout_ms);

/* True while the runtime runs (its workers may be read). Never starts it. Any. */
bool sched_running(void);

/* Fill the executor's part of rf_stats (nodes, workers, per-worker counters) while the
 * runtime runs, growing out's arrays as needed. Returns 0 or -ENOMEM. Any (stats.c). */
int sched_stats(rf_stats *out);

/* Run every family's stats hook on out. Returns 0 or the first hook's error. Any. */
int sched_stats_hooks(rf_stats *out);

/* Make room in out for `workers` executor workers, `fj` fork/join workers and `nodes`
 * nodes (keeping what the arrays hold). Returns 0 or -ENOMEM. */
int sched_stats_reserve(rf_stats *out, int workers, int fj, int nodes);

/* Register fn to run at the start of rf_shutdown(), before the workers stop: the place
 * for work that must finish first (agents drain their accepted actions). Hooks run on
 * the thread calling rf_shutdown, last registered first, while fibers can still be
 * spawned and parked; a hook must return once its work is done. Registering the same fn
 * again is a no-op; hooks stay registered across restarts.
 * Returns 0, -EINVAL (NULL fn), -ENOMEM (more than 32 hooks). Never blocks. Any. */
int sched_on_shutdown(void (*fn)(void));

/* Register fn to add a family's counters to rf_stats_get()'s snapshot (fork/join
 * steals, ...); called after the executor's counters are filled, whether the runtime
 * runs or not; fn returns 0 or -ENOMEM (sched_stats_reserve). Same rules and returns as
 * sched_on_shutdown. */
int sched_on_stats(int (*fn)(rf_stats *out));

/* Register fn to run in the child of a fork(), on its only thread, before the runtime
 * forgets its workers: a family that keeps threads of its own forgets them there (and
 * initializes anew the locks they may have held), so that its next use in the child
 * starts afresh. Hooks must only reset memory and close descriptors: no thread, no
 * lock that another thread could hold. Last registered runs first. Same rules and
 * returns as sched_on_shutdown. */
int sched_on_fork_child(void (*fn)(void));

/* The configuration and topology the runtime started with (starts it if needed; NULL
 * only if it cannot start). Read-only once started. Any. */
const rf_config *sched_config(void);
/* The configuration the running runtime uses; while it is not running, the one the
 * environment gives (rf_config_default, read once; NULL if the environment is
 * malformed). Never starts the runtime: for families that need a knob, not workers.
 * Any context; one atomic load once the environment was read. */
const rf_config *sched_config_peek(void);

/* config.c: copy a caller's rf_config honouring its size (fields past it: the defaults),
 * and check one before the runtime starts. Both return 0, or RF_ECONFIG after one line on
 * stderr naming the field, its value and what is expected. */
int config_from_caller(const rf_config *cfg, rf_config *out);
int config_check(const rf_config *c, size_t topology_max);
const struct topology *sched_topology(void);

/* Start fn(arg) as a new fiber on `worker` (0..sched_workers()-1; it stays there), or
 * SCHED_WORKER_ANY: from a fiber, the calling worker or a less loaded one of its node
 * (runtime/sched/place.c), otherwise round-robin over the workers; an unstarted fiber
 * placed so may later be handed to an idle worker of its node. The new fiber's ctx.bindings and
 * ctx.conveyed are `conveyed` (a captured binding frame, runtime/var/convey.h; the fiber owns that
 * reference and its ctx_end hook drops it; on an error return it stays with the caller). Returns 0,
 * -ENOMEM (no stack), RF_ESHUTDOWN (runtime stopping). Never blocks. Any. */
int fiber_spawn(sched_fiber_fn fn, void *arg, int worker, void *conveyed);

/* How fiber_spawn_at places a fiber and sizes its stack. */
typedef struct sched_spawn {
	int worker;        /* 0..n-1 (the fiber stays there), or SCHED_WORKER_ANY */
	int node;          /* with SCHED_WORKER_ANY: the least-loaded worker of this node; -1 */
	bool pinned;       /* never handed to another worker once placed */
	bool local;        /* from a fiber: the spawner's worker, pinned (elsewhere: as ANY) */
	size_t stack_size; /* 0: the configured size; else 16 KiB .. 1 GiB, a mapping of its own */
} sched_spawn;

/* fiber_spawn with a placement. Returns as fiber_spawn; -EINVAL also for a worker or
 * node out of range, a node without workers, a stack size out of range. Any. */
int fiber_spawn_at(sched_fiber_fn fn, void *arg, const sched_spawn *how, void *conveyed);

/* The placement the public options ask for (NULL: none). Reads only what opts->size
 * covers. Returns 0 or -EINVAL (size too small to hold the placement). Any. */
int sched_spawn_from(const rf_spawn_opts *opts, sched_spawn *out);

/* The running fiber, or NULL on a plain thread. Any. */
struct sched_fiber *fiber_self(void);

/* Index of the worker the caller runs on, or -1 on a plain thread. Any. */
int sched_worker_self(void);

/* Number of executor workers (starts the runtime if needed). Any. */
int sched_workers(void);

/* Let other ready fibers of this worker run, then continue. Fiber (no-op elsewhere). */
void fiber_yield(void);

/* Park the running fiber. The scheduler, after switching away from it, calls
 * commit(arg); if commit returns false the fiber is made ready again at once (the event
 * it waited for already happened); a NULL commit parks unconditionally. Otherwise it
 * stays parked until fiber_resume(). If deadline_ns != DEADLINE_NONE, at the
 * deadline the worker calls on_timeout(arg) on its own thread (NULL counts as returning
 * true); if that returns true the fiber is resumed, so on_timeout must return true only
 * when nobody else will resume it (the CAS of runtime/sched/wait.h decides). A resume before
 * the deadline disarms the timer. When rf_shutdown cancels the worker's fibers it calls
 * on_cancel(arg) the same way (same rule; NULL: the park is not cancellable and
 * whoever completes it resumes the fiber). commit, on_timeout and on_cancel run on the
 * worker's scheduler context: they must not block or park. A parked fiber is woken
 * exactly once: by its resume, its timeout or its cancel. Cost: two context switches
 * plus commit. Fiber only (aborts elsewhere). */
void fiber_park(bool (*commit)(void *arg), bool (*on_timeout)(void *arg),
                bool (*on_cancel)(void *arg), void *arg, uint64_t deadline_ns);

/* True on a fiber whose worker is unwinding its fibers for rf_shutdown: every
 * cancellable wait then returns RF_ESHUTDOWN at once. False elsewhere. Any. */
bool sched_cancelling(void);

/* What a fiber waits on, for rf_dump and the deadlock report. */
enum sched_wait_kind {
	WAIT_OTHER,    /* nothing said */
	WAIT_CHAN,     /* a channel put or take (obj: the channel) */
	WAIT_ALTS,     /* alts over several channels */
	WAIT_DEFERRED, /* a promise, future or delay (obj: it) */
	WAIT_LOCK,     /* a lock (obj: it) */
	WAIT_IO,       /* I/O (obj: the fd, as an integer) */
	WAIT_TIMER,    /* sleeping (obj: NULL) */
	WAIT_AGENT,    /* await or send-off back-pressure (obj: the agent or NULL) */
	WAIT_EXECUTOR, /* an executor's tasks */
	WAIT_FJ,       /* fork/join work it handed to the pools */
	WAIT_STM,      /* another transaction's commit */
	WAIT_KINDS
};

/* Say what the running fiber's next park waits on (rf_dump shows it; a wait on I/O
 * or a timer is never taken for a deadlock). No-op on a plain thread. Cost: a TLS load
 * and two stores. Any. */
void fiber_wait_on(int kind, const void *obj);

/* Name the function the running fiber runs for its user (a go block's body), shown by
 * rf_dump and stall reports instead of the family's trampoline. No-op off a fiber. */
void fiber_set_entry(const void *fn);

/* ringfold's own threads (pools, helpers, the timeout thread) tell the deadlock report
 * when they may still wake someone: +1 when the thread starts and after each idle wait,
 * -1 before each idle wait and when it ends. The calling thread's own untimed waits then
 * never count as a plain thread stuck in ringfold. Any (one relaxed RMW). */
void sched_busy(int delta);
/* Work queued for ringfold's own threads and not yet taken (+1 queued, -1 taken): the
 * deadlock report counts it as a thread about to be busy. Any (one relaxed RMW). */
void sched_work_queued(int delta);

/* Make a parked fiber ready on its own worker. Exactly one resume per park. From a fiber
 * of that worker: into its runnext slot, so it runs as soon as the caller switches out
 * (bounded: a queued fiber is not starved, runtime/sched/worker.c); from that worker's
 * scheduler (I/O, timers): a push on the local run queue; from elsewhere: a CAS on the
 * worker's inbox, plus a wake-up syscall only if that worker sleeps. After rf_shutdown
 * the fibers it abandoned must not be resumed. Never blocks. Any. */
void fiber_resume(struct sched_fiber *f);

#endif
