/* runtime/base/lockrank.h: every lock class of ringfold, in the one order they may be
 * taken (internal).
 *
 * Ranks grow inward: while holding a lock of rank r a context may only acquire locks of
 * rank > r. Ranks marked "address order" may also be taken several at a time at equal
 * rank, in increasing address order (alts locks all its channels that way). Spin locks
 * (runtime/base/spin.h) are the innermost ranks: nothing is acquired, allocated, waited
 * for or called back while one is held.
 *
 * With RF_DEBUG_INVARIANTS every ranked lock records its rank, and each thread keeps the
 * stack of ranked locks it holds: acquiring out of order aborts naming both locks;
 * allocating (malloc, calloc, realloc, aligned_alloc), calling user code or parking a
 * fiber while a spin lock is held aborts; parking a fiber while holding any ranked lock
 * aborts (another fiber of that worker could block the whole worker on it). Without it
 * everything here compiles to nothing.
 *
 * User code run under a sleeping lock (an alter-var-root function or validator under
 * VAR, an agent's validator under AGENT_RESTART, a transform under CHAN_XF, a release
 * function under RECLAIM_BARRIER in rf_reclaim_barrier) inherits that rank: it may take only
 * locks of later ranks and must not park.
 */
#ifndef RF_BASE_LOCKRANK_H
#define RF_BASE_LOCKRANK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "runtime/base/assert.h"

/* X(name, address_ordered), outermost first. */
#define LOCKRANK_LIST(X)                                                                           \
	/* sched: start and stop of the runtime; shutdown hooks run under it */                    \
	X(SCHED_LIFECYCLE, false)    /* sched/lifecycle.c rt_lock */                               \
	X(AGENT_DRAIN_SERIAL, false) /* agent/send.c: one shutdown drainer at a time */            \
	X(AGENT_GLOBAL, false)       /* agent/send.c: accepted-work accounting */                  \
	X(CHAN_TIMER_DRAIN, false)   /* chan/timer.c: shutdown waits for timeout fibers */         \
	X(CHAN_PUB, false)           /* chan/mult.c: a pub's topics (subscribing taps its mult) */ \
	X(CHAN_MULT, false)          /* chan/mult.c: a mult's taps */                              \
	X(CHAN_MIX, false)           /* chan/mix.c: a mix's inputs */                              \
	X(AGENT_RESTART, false)      /* agent: restart_lock */                                     \
	X(AGENT_WATCH, false)        /* agent: watch_lock */                                       \
	X(AGENT_AWAIT, false)        /* agent/await.c */                                           \
	X(VAR, false)                /* var/var.c: a var's root */                                 \
	X(STM_TABLE, false)          /* stm/slot.c: the slot table */                              \
	X(FJ_POOL, false)            /* fj/pool.c */                                               \
	X(FJ_INJECT, false)          /* fj: a worker's inject queue */                             \
	X(SCHED_HOOKS, false)        /* sched/lifecycle.c hooks_lock */                            \
	X(SCHED_START, false)        /* sched/worker.c start_lock */                               \
	X(SCHED_DUMP, false)         /* sched/dump.c dump_lock: one dump or deadlock check */      \
	X(SCHED_SPARE, false)        /* a worker's spare_lock */                                   \
	X(AGENT_NODES, false)        /* agent/node.c spare slabs */                                \
	X(IO_PROBE, false)           /* io/choose.c */                                             \
	X(IO_POOL, false)            /* io/pool.c */                                               \
	X(RECLAIM_BARRIER, false)    /* base/reclaim.c barrier_lock: one barrier at a time */      \
	X(RECLAIM, false)            /* base/reclaim.c all_lock */                                 \
	X(SCHED_REPORT, false)       /* sched/config.c report_lock: the last config error line */  \
	X(CHAN_XF, true)             /* a transformed channel's mutex (runs the transform) */      \
	X(RECLAIM_READERS, false)    /* base/reclaim.c readers_lock: the reader registry */        \
	X(CTX_HOOKS, false)          /* base/ctx.c: end-of-context hook registration (a leaf) */   \
	/* spin locks: leaves */                                                                   \
	X(CHAN, true)             /* a channel's spin lock */                                      \
	X(CHAN_TIMEOUT, false)    /* chan/timer.c: a stripe of the timeout table */                \
	X(ATOM_LOCK_QUEUE, false) /* atom/lock.c qlock */                                          \
	X(AGENT_FN, false)        /* agent: validator and handler pairs */                         \
	X(IO_CANCEL, false)       /* io/cancel.c: a cancel token's pending waits */                \
	X(IO_LISTEN, false)       /* io/calls_listen.c: a listener's queue and waiters */          \
	X(IO_READER, false)       /* io/calls_bufs.c: a reader's queue and waiter */               \
	X(IO_BUFS, false)         /* io/calls_bufs.c: a buffer pool share's free buffers */        \
	X(DEFERRED, false)        /* deref: a promise's, delay's or future's waiters */            \
	X(EXECUTOR, false)        /* deref/executor.c */                                           \
	X(STM_SLOT, false)        /* stm: a slot's latch */                                        \
	X(STM_REF, false)         /* stm: a ref's validator and watches */                         \
	X(FJ_INVOKE, false)       /* fj/task.c: an external invoke's caller */                     \
	X(SCHEDULE, false)        /* deref/schedule.c: a schedule's cancel state */

enum lockrank {
	LOCKRANK_NONE = 0, /* unranked: not checked */
#define LOCKRANK_ENUM(name, ordered) LOCKRANK_##name,
	LOCKRANK_LIST(LOCKRANK_ENUM)
#undef LOCKRANK_ENUM
	    LOCKRANK_COUNT
};

#ifdef RF_DEBUG_INVARIANTS
/* Before acquiring lock `addr` of `rank`: abort if out of order. After: push it. */
void lockrank_acquire(int rank, const void *addr, bool spin);
/* After releasing: pop it (any position: locks may be released out of order). */
void lockrank_release(int rank, const void *addr, bool spin);
/* Abort unless no spin lock is held (before malloc, user code). */
void lockrank_no_spin(const char *what, const char *file, int line);
/* Abort unless no ranked lock at all is held (before a fiber parks or yields). */
void lockrank_none_held(const char *what, const char *file, int line);
/* The allocator's check (debug_alloc.h): lockrank_no_spin, then true if this thread
 * asked allocations to fail (debug_alloc_fail_set: tests of -ENOMEM paths). */
bool debug_alloc_fails(const char *what, const char *file, int line);
void debug_alloc_fail_set(bool fail);
#define LOCKRANK_NO_SPIN(what) lockrank_no_spin(what, __FILE__, __LINE__)
#define LOCKRANK_NONE_HELD(what) lockrank_none_held(what, __FILE__, __LINE__)
#else
static inline void lockrank_acquire(int rank, const void *addr, bool spin) {}
static inline void lockrank_release(int rank, const void *addr, bool spin) {}
#define LOCKRANK_NO_SPIN(what) ((void)0)
#define LOCKRANK_NONE_HELD(what) ((void)0)
#endif

/* A sleeping lock taken with its rank checked (debug builds), for mutexes that nest with
 * ranked locks. */
static inline void mutex_lock_ranked(pthread_mutex_t *m, enum lockrank rank)
{
	lockrank_acquire(rank, m, false);
	pthread_mutex_lock(m);
}

static inline void mutex_unlock_ranked(pthread_mutex_t *m, enum lockrank rank)
{
	pthread_mutex_unlock(m);
	lockrank_release(rank, m, false);
}

/* Before calling user code (a transformation, a swap function, a validator, a watch, a
 * body): no spin lock may be held. */
#define USER_CALL() LOCKRANK_NO_SPIN("user code")

#endif
