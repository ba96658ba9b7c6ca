/* runtime/sched.h: the executor as the rest of ringfold sees it (internal).
 *
 * One worker thread per CPU of the topology, pinned, each running fibers from its own run
 * queue; work for a worker arrives from other threads through its inbox. A fiber never
 * migrates: it resumes on the worker that started it (errno and thread-locals are cached
 * by compilers across calls).
 *
 * Contexts: "any" = fiber, plain thread or fork/join task; "fiber" = only on a fiber.
 */
#ifndef RF_RUNTIME_SCHED_H
#define RF_RUNTIME_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "ringfold/base.h"
#include "ringfold/runtime.h"
#include "runtime/ctx.h"

struct rf_fiber;
typedef void (*rf_fiber_fn)(void *arg);

#define RF_WORKER_ANY (-1)

/* Start the runtime with defaults if it is not running yet. Returns 0 or the error of
 * rf_init. Cheap once started (one acquire load). Any context. */
int rf_runtime_ensure(void);

/* Register fn to run at the start of rf_shutdown(), before the workers stop: the place
 * for work that must finish first (agents drain their accepted actions). Hooks run on
 * the thread calling rf_shutdown, last registered first, while fibers can still be
 * spawned and parked; a hook must return once its work is done. Registering the same fn
 * again is a no-op; hooks stay registered across restarts.
 * Returns 0, -EINVAL (NULL fn), -ENOMEM (more than 32 hooks). Never blocks. Any. */
int rf_runtime_on_shutdown(void (*fn)(void));

/* Register fn to add a family's counters to rf_stats_get()'s snapshot (fork/join
 * steals, STM retries, ...); called after the executor's counters are filled. Same
 * rules and returns as rf_runtime_on_shutdown. */
int rf_runtime_on_stats(void (*fn)(rf_stats *out));

/* The configuration and topology the runtime started with (starts it if needed; NULL
 * only if it cannot start). Read-only once started. Any. */
const rf_config *rf_runtime_config(void);
/* The configuration the running runtime uses; while it is not running, the one the
 * environment gives (rf_config_default, read once; NULL if the environment is
 * malformed). Never starts the runtime: for families that need a knob, not workers.
 * Any context; one atomic load once the environment was read. */
const rf_config *rf_runtime_config_peek(void);
const struct rf_topology *rf_runtime_topology(void);

/* Start fn(arg) as a new fiber on `worker` (0..rf_sched_workers()-1), or RF_WORKER_ANY:
 * the calling worker when called from a fiber, otherwise round-robin over the workers.
 * The new fiber's ctx.bindings is `bindings` (see rf_bindings_capture; ownership of the
 * reference passes to the fiber, which releases it when fn returns; on an error return
 * it stays with the caller).
 * Returns 0, -ENOMEM (no stack), RF_ESHUTDOWN (runtime stopping). Never blocks. Any. */
int rf_fiber_spawn(rf_fiber_fn fn, void *arg, int worker, void *bindings);

/* The running fiber, or NULL on a plain thread. Any. */
struct rf_fiber *rf_fiber_self(void);

/* Index of the worker the caller runs on, or -1 on a plain thread. Any. */
int rf_sched_worker_self(void);

/* Number of executor workers (starts the runtime if needed). Any. */
int rf_sched_workers(void);

/* Let other ready fibers of this worker run, then continue. Fiber (no-op elsewhere). */
void rf_fiber_yield(void);

/* Park the running fiber. The scheduler, after switching away from it, calls
 * commit(arg); if commit returns false the fiber is made ready again at once (the event
 * it waited for already happened); a NULL commit parks unconditionally. Otherwise it
 * stays parked until rf_fiber_resume(). If deadline_ns != RF_NO_DEADLINE, at the
 * deadline the worker calls on_timeout(arg) on its own thread (NULL counts as returning
 * true); if that returns true the fiber is resumed, so on_timeout must return true only
 * when nobody else will resume it (the CAS of runtime/wait.h decides). A resume before
 * the deadline disarms the timer. commit and on_timeout run on the worker's scheduler
 * context: they must not block or park. A parked fiber is woken exactly once: by its
 * resume or by its timeout. Cost: two context switches plus commit. Fiber only (aborts
 * elsewhere). */
void rf_fiber_park(bool (*commit)(void *arg), bool (*on_timeout)(void *arg), void *arg,
                   uint64_t deadline_ns);

/* Make a parked fiber ready on its own worker. Exactly one resume per park. On the
 * fiber's own worker: a push on the local run queue; from elsewhere: a CAS on the
 * worker's inbox, plus a wake-up syscall only if that worker sleeps. After rf_shutdown
 * the fibers it abandoned must not be resumed. Never blocks. Any. */
void rf_fiber_resume(struct rf_fiber *f);

#endif
