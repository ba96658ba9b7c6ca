/* runtime/sched/fiber.h: fibers and workers inside the executor (internal to sched/).
 *
 * Ownership (the synchronization table of the executor):
 *
 *   field                        written by                   read by
 *   rf_worker.inbox              any thread (push, CAS)       owner (take all, exchange)
 *   rf_worker.sleeping           owner; senders' exchange     senders (seq_cst)
 *   rf_worker.stop               rf_shutdown (seq_cst)        owner
 *   rf_worker.closed, .wakers    owner / wakers (seq_cst)     both (see worker.c)
 *   rf_worker.running, .seq      owner (relaxed)              stall monitor, owner
 *   rf_worker.st_* counters      owner (relaxed load+store)   rf_stats_get (relaxed)
 *   rf_worker.st_stalls, mon_*   stall monitor                rf_stats_get / monitor
 *   rf_worker.spare*             any thread, under spare_lock
 *   every other rf_worker field  owner worker only
 *   rf_fiber (all fields)        the fiber itself or its worker, except `next` while the
 *                                fiber sits in an inbox (the pusher wrote it before the
 *                                release CAS that publishes it)
 *
 * A fiber is a struct rf_fiber (from the allocator) and a stack mapping [guard][stack]
 * (stack.c). It is created on its worker's node, runs only on that worker and returns to
 * that worker's pool. Its stack is first written when it first runs, on its worker.
 */
#ifndef RF_SCHED_FIBER_H
#define RF_SCHED_FIBER_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "io/backend.h"
#include "numa/topology.h"
#include "runtime/sched.h"
#include "runtime/sched/switch.h"
#include "runtime/wait.h"

enum rf_fiber_state {
	RF_FIBER_NEW,   /* spawned, not yet seen by its worker */
	RF_FIBER_READY, /* in the run queue or an inbox */
	RF_FIBER_RUNNING,
	RF_FIBER_YIELDED, /* switched out by rf_fiber_yield: back to the run queue */
	RF_FIBER_PARKING, /* switched out by rf_fiber_park: commit still to run */
	RF_FIBER_PARKED,
	RF_FIBER_DONE, /* fn returned: the stack goes back to the pool */
};

struct rf_worker;

typedef struct rf_fiber {
	rf_mctx mctx;
	rf_ctx ctx;
	struct rf_worker *w;
	struct rf_fiber *next;                /* run queue, inbox or pool link */
	struct rf_fiber *all_prev, *all_next; /* the worker's list of live fibers */
	int state;
	rf_fiber_fn fn;
	void *arg;
	void *bindings; /* the spawn's reference, released when fn returns */
	/* park request, read by the scheduler after the switch */
	bool (*commit)(void *);
	bool (*on_timeout)(void *);
	void *park_arg;
	/* timer: node of the worker's pairing heap (runtime/sched/timer.c) */
	uint64_t deadline;
	struct rf_fiber *t_child, *t_sibling, *t_prev;
	bool armed;
	bool foreign; /* spawned by another thread: its stack goes back to `spare` */
	bool started; /* mctx made: the fiber has run (its stack is touched only from then) */
	/* the mapping this fiber lives in */
	char *map; /* start of the mapping = start of the guard */
	size_t map_size;
	char *stack_lo; /* lowest usable stack byte (just above the guard) */
	size_t stack_size;
	void *asan_fake_stack;
	void *tsan_fiber;
} rf_fiber;

/* Direct fiber-to-fiber yields in a row before the scheduler loop runs again. */
#define RF_DIRECT_MAX 64

/* Treiber-stack inbox sentinel of a stopped worker: pushes fail. */
#define RF_INBOX_CLOSED ((rf_fiber *)(uintptr_t)1)

typedef struct rf_worker {
	/* --- written by other threads --- */
	_Alignas(64) _Atomic(rf_fiber *) inbox;
	_Atomic int sleeping;
	_Atomic int stop;
	_Atomic int closed;         /* owner sets it when it is about to destroy io */
	_Atomic int wakers;         /* threads inside wake(): io must outlive them */
	pthread_mutex_t spare_lock; /* guards spare, nspare */
	rf_fiber *spare;            /* dead fibers any thread may reuse for this worker */
	int nspare;
	int spare_low; /* low-water mark of nspare in this trim window (stack.c) */
	/* --- owner only (monitor and stats read the atomics relaxed) --- */
	_Alignas(64) _Atomic(rf_fiber *) running;
	_Atomic uint64_t seq; /* odd while a fiber runs; +1 at every switch in or out */
	rf_fiber *rq_head, *rq_tail;
	rf_fiber *timers; /* pairing heap root */
	rf_fiber *all;    /* live fibers (for abandonment at shutdown) */
	rf_fiber *pool;   /* dead fibers ready for reuse */
	int npool;
	int pool_low;     /* low-water mark of npool in this trim window (stack.c) */
	uint64_t trim_at; /* end of the trim window or next trim batch; 0: none (worker.c) */
	unsigned since_poll;
	unsigned direct; /* direct yields since the scheduler last ran a fiber */
	rf_mctx sched_ctx;
	rf_io *io;
	void *sched_stack_lo; /* ASan: bounds of the worker thread's own stack */
	size_t sched_stack_size;
	void *tsan_sched;
	void *altstack;
	size_t altstack_size;
	int index, cpu, node, os_node;
	pthread_t thread;
	int start_rc;
	_Atomic uint64_t st_run, st_spawned, st_parks, st_wakeups, st_io;
	/* --- stall monitor only --- */
	_Alignas(64) _Atomic uint64_t st_stalls;
	uint64_t mon_seq, mon_since, mon_cpu;
	bool mon_reported;
} rf_worker;

/* The worker the calling thread runs, or NULL on a plain thread. */
extern _Thread_local rf_worker *rf_tls_worker __attribute__((tls_model("initial-exec")));

/* runtime.c: the configuration and the workers (stable while the runtime runs). */
extern rf_config rf_rt_config;
extern rf_worker *rf_workers[RF_MAX_CPUS];
extern int rf_nworkers;

/* worker.c */
int rf_worker_start(rf_worker *w);             /* starts the thread; waits until it is ready */
void rf_worker_stop(rf_worker *w);             /* asks it to stop and joins it */
bool rf_inbox_push(rf_worker *w, rf_fiber *f); /* false if the worker stopped */
void rf_rq_push(rf_worker *w, rf_fiber *f);    /* owner only */
rf_fiber *rf_rq_pop(rf_worker *w);             /* owner only */

/* fiber.c */
void rf_fiber_run(rf_worker *w, rf_fiber *f);     /* owner: switch in, handle how it left */
void rf_fiber_discard(rf_worker *w, rf_fiber *f); /* owner: abandon (shutdown) */
void rf_fiber_adopt(rf_worker *w, rf_fiber *f);   /* owner: first sight of a new fiber */

/* stack.c: fibers' memory, pooled per worker */
rf_fiber *rf_stack_get(rf_worker *w);                       /* any thread; NULL on -ENOMEM */
void rf_stack_put(rf_worker *w, rf_fiber *f, bool foreign); /* owner */
void rf_stack_put_spare(rf_worker *w, rf_fiber *f);         /* any thread */
bool rf_stack_mark(rf_worker *w);  /* owner: start a trim window; true if pools hold surplus */
bool rf_stack_trim(rf_worker *w);  /* owner, idle: unmap some unused surplus; true if more */
void rf_stack_drain(rf_worker *w); /* owner, at stop: unmap every pooled fiber */
size_t rf_stack_guard_size(void);

/* timer.c: the owner's pairing heap of parked fibers' deadlines */
void rf_timer_insert(rf_worker *w, rf_fiber *f);
void rf_timer_remove(rf_worker *w, rf_fiber *f);
rf_fiber *rf_timer_pop_expired(rf_worker *w, uint64_t now);

/* guard.c: stack overflow reporting */
int rf_guard_install_handler(void);     /* once per process */
int rf_guard_thread_init(rf_worker *w); /* worker thread: its alternate signal stack */
void rf_guard_thread_fini(rf_worker *w);

/* stall.c: the stall monitor thread */
int rf_stall_start(uint32_t stall_ms);
void rf_stall_stop(void);

/* Owner-only counter increment (single writer: a relaxed load and store suffice). */
static inline void rf_count(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
	                      memory_order_relaxed);
}

#endif
