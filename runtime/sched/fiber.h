/* runtime/sched/fiber.h: fibers and workers inside the executor (internal to sched/).
 *
 * Ownership (the synchronization table of the executor):
 *
 *   field                        written by                   read by
 *   sched_worker.inbox              any thread (push, CAS)       owner (take all, exchange)
 *   sched_worker.sleeping           owner; senders' exchange     senders (seq_cst)
 *   sched_worker.stop               rf_shutdown (seq_cst)        owner
 *   sched_worker.exited             owner, under start_lock      rf_shutdown, same lock
 *   sched_worker.closed, .wakers    owner / wakers (seq_cst)     both (see worker.c)
 *   sched_worker.running, .seq      owner (relaxed)              stall monitor, owner
 *   sched_worker.nlive              owner (relaxed store)        spawners placing (relaxed)
 *   sched_worker.incoming           spawners (+1), owner (-n)    spawners placing (relaxed)
 *   sched_hungry[node]              idle workers of the node     busy workers (place.c)
 *   sched_worker.st_* counters      owner (relaxed load+store)   rf_stats_get (relaxed)
 *   sched_worker.st_stalls, mon_*   stall monitor                rf_stats_get / monitor
 *   sched_worker.spare*             any thread, under spare_lock
 *   every other sched_worker field  owner worker only
 *   sched_fiber (all fields)        the fiber itself or its worker, except `next` while the
 *                                fiber sits in an inbox (the pusher wrote it before the
 *                                release CAS that publishes it)
 *
 * A fiber is a struct sched_fiber (from the allocator) and a stack mapping [guard][stack]
 * (stack.c). It is created on its worker's node. Until it first runs it may be handed to
 * another worker of that node (place.c: an idle worker's share of a backlog); once started
 * it runs only on its worker (errno and thread-locals cached across a park stay right)
 * and returns to that worker's pool. Its stack is first written when it first runs.
 */
#ifndef RF_SCHED_FIBER_H
#define RF_SCHED_FIBER_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "numa/topology.h"
#include "runtime/base/assert.h"
#include "runtime/sched/poller.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/switch.h"
#include "runtime/sched/wait.h"

enum fiber_state {
	FIBER_NEW,   /* spawned, not yet seen by its worker */
	FIBER_READY, /* in the run queue or an inbox */
	FIBER_RUNNING,
	FIBER_YIELDED, /* switched out by fiber_yield: back to the run queue */
	FIBER_PARKING, /* switched out by fiber_park: commit still to run */
	FIBER_PARKED,
	FIBER_DONE, /* fn returned: the stack goes back to the pool */
};

struct sched_worker;

typedef struct sched_fiber {
	mctx mctx;
	exec_ctx ctx;
	struct sched_worker *w;
	struct sched_fiber *next;                /* run queue, inbox or pool link */
	struct sched_fiber *all_prev, *all_next; /* the worker's list of live fibers */
	int state;
	sched_fiber_fn fn;
	void *arg;
	/* park request, read by the scheduler after the switch */
	bool (*commit)(void *);
	bool (*on_timeout)(void *);
	bool (*on_cancel)(void *);
	void *park_arg;
	/* timer: node of the worker's pairing heap (runtime/sched/timer.c) */
	uint64_t deadline;
	struct sched_fiber *t_child, *t_sibling, *t_prev;
	bool armed;
	bool foreign; /* spawned by another thread or worker, or handed over (place.c): its
	               * stack goes back to `spare`; unstarted, it was placed to even the load */
	bool started; /* mctx made: the fiber has run (its stack is touched only from then) */
	bool pinned;  /* placed explicitly: never handed to another worker */
	bool own_map; /* a stack of its own size: unmapped at the end, not pooled */
	/* parked since it last ran (stats: parked now); beside armed and started, which
	 * every switch reads too: one cache line of the fiber less per switch */
	bool was_parked;
	/* the mapping this fiber lives in */
	char *map; /* start of the mapping = start of the guard */
	size_t map_size;
	char *stack_lo; /* lowest usable stack byte (just above the guard) */
	size_t stack_size;
	void *asan_fake_stack;
	void *tsan_fiber;
	/* what rf_dump shows: set by the fiber itself (fiber_wait_on, fiber_park) */
	uint64_t id;       /* worker index << 40 | the worker's spawn count */
	const void *entry; /* fiber_set_entry, else fn */
	int next_kind;     /* fiber_wait_on, consumed by the next park */
	const void *next_obj;
	int wait_kind; /* of the current (or last) park */
	const void *wait_obj;
	uint32_t park_tick; /* sched_tick_ms when it parked */
} sched_fiber;

/* Direct fiber-to-fiber yields in a row before the scheduler loop runs again. */
#define DIRECT_MAX 64

/* Runs taken from the runnext slot in a row while a fiber waited in the run queue; the
 * next pick then sends runnext behind the queue (worker.c). */
#define RUNNEXT_MAX 16

/* sched_worker.stop: how far rf_shutdown has got with this worker. */
enum {
	STOP_NONE = 0,   /* running */
	STOP_FINISH = 1, /* exit once every fiber has returned; accept no new ones */
	STOP_CANCEL = 2, /* also cancel every wait of a parked fiber, so they return */
};

/* Treiber-stack inbox sentinel of a stopped worker: pushes fail. */
#define INBOX_CLOSED ((sched_fiber *)(uintptr_t)1)

typedef struct sched_worker {
	/* --- written by other threads --- */
	_Alignas(64) _Atomic(sched_fiber *) inbox;
	_Atomic int sleeping;
	_Atomic int stop;
	_Atomic int closed;         /* owner sets it when it is about to destroy the poller */
	_Atomic int wakers;         /* threads inside wake(): the poller must outlive them */
	pthread_mutex_t spare_lock; /* guards spare, nspare */
	sched_fiber *spare;         /* dead fibers any thread may reuse for this worker */
	int nspare;
	int spare_low;        /* low-water mark of nspare in this trim window (stack.c) */
	_Atomic int incoming; /* new fibers pushed to the inbox, not yet adopted (place.c) */
	/* --- owner only (monitor and stats read the atomics relaxed) --- */
	_Alignas(64) _Atomic(sched_fiber *) running;
	_Atomic uint64_t seq; /* odd while a fiber runs; +1 at every switch in or out */
	_Atomic int nlive;    /* fibers adopted and not yet ended (place.c) */
	sched_fiber *rq_head, *rq_tail;
	sched_fiber *runnext; /* woken by a fiber of this worker: runs before rq (worker.c) */
	unsigned runnext_run; /* runnext picks in a row while rq was not empty */
	sched_fiber *timers;  /* pairing heap root */
	sched_fiber *all;     /* live fibers (for abandonment at shutdown) */
	sched_fiber *pool;    /* dead fibers ready for reuse */
	int npool;
	int pool_low;     /* low-water mark of npool in this trim window (stack.c) */
	uint64_t trim_at; /* end of the trim window or next trim batch; 0: none (worker.c) */
	unsigned since_poll;
	unsigned direct; /* direct yields since the scheduler last ran a fiber */
	mctx sched_ctx;
	void *poller;         /* this worker's, from sched_poller->create */
	void *sched_stack_lo; /* ASan: bounds of the worker thread's own stack */
	size_t sched_stack_size;
	void *tsan_sched;
	void *altstack;
	size_t altstack_size;
	int index, cpu, node, os_node;
	int node_first, node_count; /* the workers of this node: tab[node_first ..+count) */
	uint64_t hungry_bit;    /* this worker's bit in sched_hungry[node]; 0: none (rank 64+) */
	unsigned place_next;    /* rotating candidate of place.c (owner) */
	uint64_t backlog_since; /* place.c: when a backlog met a hungry peer; 0: none */
	bool is_hungry;         /* place.c: this worker's bit is set (the owner's copy) */
	bool spin_off;          /* worker.c: the last idle spin failed */
	unsigned spin_skipped;  /* worker.c: idles slept at once since */
	pthread_t thread;
	int start_rc;
	bool exited;   /* the thread left its loop (every fiber returned) */
	int stop_seen; /* owner: the stop level it has acted on */
	_Atomic uint64_t st_run, st_spawned, st_parks, st_wakeups, st_io;
	uint64_t spawn_seq;           /* fiber ids */
	_Atomic uint64_t dump_served; /* last dump request answered (dump.c) */
	char *dump_text;              /* its answer: owner writes, requester reads */
	size_t dump_len;
	int chk_fibers, chk_stuck, chk_timers;
	_Atomic uint64_t st_resumed; /* parked fibers run again: parked now = parks - resumed */
	_Atomic uint64_t st_idle_ns; /* time in idle() with nothing to run */
	/* --- stall monitor only --- */
	_Alignas(64) _Atomic uint64_t st_stalls;
	uint64_t mon_seq, mon_since, mon_cpu;
	bool mon_reported;
} sched_worker;

/* The worker the calling thread runs, or NULL on a plain thread. */
extern _Thread_local sched_worker *sched_tls_worker __attribute__((tls_model("initial-exec")));

/* The run queue and the runnext slot (the rules are worker.c's): inline, as every switch
 * goes through them. Owner only. */
static inline void worker_rq_push(sched_worker *w, sched_fiber *f)
{
	RF_ASSERT(sched_tls_worker == w);
	f->next = NULL;
	if (w->rq_tail)
		w->rq_tail->next = f;
	else
		w->rq_head = f;
	w->rq_tail = f;
}

static inline sched_fiber *worker_rq_pop(sched_worker *w)
{
	RF_ASSERT(sched_tls_worker == w);
	sched_fiber *f = w->rq_head;
	if (f && !(w->rq_head = f->next))
		w->rq_tail = NULL;
	return f;
}

static inline bool worker_has_ready(const sched_worker *w)
{
	return w->runnext || w->rq_head;
}

/* f, parked, was woken by the fiber running on w (its worker): it runs next. */
static inline void worker_runnext(sched_worker *w, sched_fiber *f)
{
	RF_ASSERT(sched_tls_worker == w && f->w == w); /* f never migrates */
	RF_ASSERT(atomic_load_explicit(&w->running, memory_order_relaxed) != NULL);
	RF_ASSERT(f != w->runnext);
	if (w->runnext)
		worker_rq_push(w, w->runnext);
	w->runnext = f;
}

/* The next fiber to run (taken off the slot or the queue), or NULL. */
static inline sched_fiber *worker_pick(sched_worker *w)
{
	RF_ASSERT(sched_tls_worker == w);
	sched_fiber *f = w->runnext;
	if (__builtin_expect(f != NULL, 0)) {
		w->runnext = NULL;
		if (!w->rq_head) {
			w->runnext_run = 0;
			return f;
		}
		if (w->runnext_run < RUNNEXT_MAX) {
			w->runnext_run++;
			return f;
		}
		worker_rq_push(w, f); /* its turn is over: the queue first */
	}
	w->runnext_run = 0;
	return worker_rq_pop(w);
}

/* lifecycle.c: the configuration, the backend's poller operations and the workers
 * (stable while the runtime runs). */
extern rf_config sched_cfg;
extern const sched_poller_ops *sched_poller;
extern sched_worker *sched_worker_tab[TOPO_MAX_CPUS];
extern int sched_nworkers;

/* worker.c */
int worker_start(sched_worker *w); /* starts the thread; waits until it is ready */
/* Raise w's stop level (STOP_FINISH, STOP_CANCEL) and wake it. Any thread. */
void worker_stop(sched_worker *w, int level);
/* Wait until w's thread has left its loop or the deadline passes; true if it left. */
bool worker_await(sched_worker *w, uint64_t deadline_ns);
void worker_join(sched_worker *w); /* after it left: reap the thread */
/* Fork child, single-threaded: w's thread does not exist here. Release what it owned
 * (its fibers' stacks, except the one the forking fiber runs on; its poller) so a new
 * runtime can start on w. */
void worker_forget(sched_worker *w);
void worker_fork_child(void); /* fork child: reset the start handshake's lock */
bool worker_inbox_push(sched_worker *w, sched_fiber *f); /* false if the worker stopped */
void worker_poke(sched_worker *w); /* any thread: wake it if it sleeps (dump requests) */

/* place.c: where new fibers go, and idle workers' share of a busy worker's backlog.
 * Bit (index - node_first) of sched_hungry[node] is set while that worker idles. */
extern _Atomic uint64_t sched_hungry[TOPO_MAX_NODES];
sched_worker *place_pick(sched_worker *self); /* a fiber spawning with no placement */
sched_worker *place_in_node(int node);        /* least-loaded worker of node */
void place_hungry(sched_worker *w, bool on);  /* owner: entering/leaving idle */
void place_donate(sched_worker *w);           /* owner: share a backlog if a peer idles */
static inline bool place_peer_hungry(sched_worker *w)
{
	return w->node_count > 1 &&
	       (atomic_load_explicit(&sched_hungry[w->node], memory_order_relaxed) &
	        ~w->hungry_bit);
}

/* fiber.c */
void fiber_run(sched_worker *w, sched_fiber *f);    /* owner: switch in, handle how it left */
void fiber_adopt(sched_worker *w, sched_fiber *f);  /* owner: first sight of a new fiber */
void fiber_link(sched_worker *w, sched_fiber *f);   /* owner: onto the live list (nlive) */
void fiber_unlink(sched_worker *w, sched_fiber *f); /* owner: off the live list (nlive) */

/* stack.c: fibers' memory, pooled per worker */
sched_fiber *stack_get(sched_worker *w);                       /* any thread; NULL on -ENOMEM */
sched_fiber *stack_get_sized(sched_worker *w, size_t size);    /* own mapping; NULL: -ENOMEM */
void stack_put(sched_worker *w, sched_fiber *f, bool foreign); /* owner */
void stack_put_spare(sched_worker *w, sched_fiber *f);         /* any thread */
bool stack_mark(sched_worker *w);  /* owner: start a trim window; true if pools hold surplus */
bool stack_trim(sched_worker *w);  /* owner, idle: unmap some unused surplus; true if more */
void stack_drain(sched_worker *w); /* owner, at stop: unmap every pooled fiber */
size_t stack_guard_size(void);

/* timer.c: the owner's pairing heap of parked fibers' deadlines */
void timer_insert(sched_worker *w, sched_fiber *f);
void timer_remove(sched_worker *w, sched_fiber *f);
sched_fiber *timer_pop_expired(sched_worker *w, uint64_t now);

/* guard.c: stack overflow reporting */
int guard_install_handler(void);        /* once per process */
int guard_thread_init(sched_worker *w); /* worker thread: its alternate signal stack */
void guard_thread_fini(sched_worker *w);
void guard_forget(sched_worker *w); /* fork child: unmap a vanished thread's altstack */

/* stall.c: the monitor thread (stalls, the coarse clock, deadlocks, dump requests) */
int stall_start(uint32_t stall_ms);
void stall_stop(void);
void stall_request_dump(void); /* async-signal-safe: the monitor dumps to stderr */
/* Milliseconds since the monitor started, advanced by it every period (0 when it does
 * not run): the clock of park times, read relaxed by every park. */
extern _Atomic uint32_t sched_tick_ms;

/* dump.c */
extern _Atomic uint64_t sched_dump_seq;     /* requests to the workers (see dump.c) */
void dump_serve(sched_worker *w);           /* owner: answer the latest request */
int dump_deadlock_check(void);              /* monitor: 1 when every fiber is stuck */
int dump_all(int fd, const char *title);    /* rf_dump's body */
void dump_thread_blocked(int delta);        /* wait.c: plain threads in an untimed wait */
void dump_stall_backtrace(sched_worker *w); /* monitor: the stalled worker prints one */
int dump_install_handlers(void);
void dump_forget(void);  /* fork child: no other thread holds or counts anything */
void stall_forget(void); /* fork child: the monitor thread is not there */

/* Owner-only counter increment (single writer: a relaxed load and store suffice). */
static inline void sched_count(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
	                      memory_order_relaxed);
}

#endif
