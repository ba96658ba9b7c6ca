/* ringfold/reclaim.h: read sections, which keep the pointer values a reader loaded from
 * being released under it.
 *
 * A reference that owns its pointer values (an atom, ref, agent or channel made with an
 * rf_release_fn, a collection whose rf_coll_ops own elements) does not release a value
 * it gave up at once: it retires it, and releases it once every read section open at
 * that moment has ended. A reader that uses a value after loading it wraps both:
 *
 *     rf_reclaim_enter();
 *     rf_atom_deref(a, &v);
 *     use(rf_to_ptr(v));
 *     rf_reclaim_exit();
 *
 * rf_reclaim_enter/rf_reclaim_exit are inline (a few instructions on a thread-local
 * record); rf_reclaim_read_begin/rf_reclaim_read_end are the same as calls.
 *
 * Sections belong to the OS thread and nest; forms may be mixed. On a fiber, a section
 * may stay open while the fiber parks: a started fiber resumes on the thread that runs it,
 * and other fibers of that thread meanwhile run inside the section too (releases wait
 * longer, nothing breaks). A fiber must close every section it opened before it ends, and
 * rf_reclaim_barrier() must not be called while the calling thread is inside one (it
 * would wait for itself): builds with RF_DEBUG_INVARIANTS check the first, every build the
 * second. docs/reclaim.md has the design.
 */
#ifndef RINGFOLD_RECLAIM_H
#define RINGFOLD_RECLAIM_H

#include "ringfold/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A thread's reader record. Its fields belong to ringfold; it is public only so that
 * rf_reclaim_enter/exit can be inline. `epoch` is written by its thread only (with
 * release: the section's reads before it, and in the other direction see
 * runtime/base/reclaim.c) and read by the grace-period scan; the rest is the thread's. */
typedef struct rf_reclaim_reader {
	uint64_t epoch; /* 0 outside a section; else the grace-period epoch it began in */
	uint32_t nest;  /* open sections */
	uint32_t flags; /* RF_RECLAIM_REGISTERED, RF_RECLAIM_FENCE */
	void *link[2];  /* the reader registry */
	uint64_t spare[4];
} rf_reclaim_reader;

#define RF_RECLAIM_REGISTERED 1u
#define RF_RECLAIM_FENCE 2u /* the kernel cannot order sections for us (no membarrier) */

/* The calling thread's record and the current grace-period epoch (never 0): ringfold's,
 * read by the inline functions only. */
extern RF_API __thread rf_reclaim_reader rf_reclaim_self; /* __thread: C and C++ alike */
extern RF_API uint64_t rf_reclaim_epoch;

/* Register the calling thread's record (the first section of a thread).
 * Returns: nothing.
 * Errors:  none.
 * Blocks:  never (a process-wide lock, held only for a list insertion).
 * Context: any; called by rf_reclaim_enter, not by users.
 * Cost:    a lock and a list insertion, once per thread. */
RF_API void rf_reclaim_register(void);

/* rf_reclaim_enter as a call.
 * Returns: nothing.
 * Errors:  none. Precondition: matched by one end on the same thread.
 * Blocks:  never (a thread's first section registers it, under a process-wide lock).
 * Context: any.
 * Cost:    a call and rf_reclaim_enter's. */
RF_API void rf_reclaim_read_begin(void);

/* rf_reclaim_exit as a call.
 * Returns: nothing.
 * Errors:  none. Precondition: inside a section opened on this thread.
 * Blocks:  never.
 * Context: any.
 * Cost:    a call and rf_reclaim_exit's. */
RF_API void rf_reclaim_read_end(void);

/* Open a read section: no value retired from now on is released before it ends.
 * Returns: nothing.
 * Errors:  none. Precondition: matched by one rf_reclaim_exit on the same thread.
 * Blocks:  never (a thread's first section registers it, under a process-wide lock).
 * Context: any.
 * Cost:    a thread-local increment, and at the outermost section one load and one
 *          store, no fence; with RF_DEBUG_INVARIANTS defined, the checked call. */
static inline void rf_reclaim_enter(void)
{
#ifdef RF_DEBUG_INVARIANTS
	rf_reclaim_read_begin();
#else
	rf_reclaim_reader *r = &rf_reclaim_self;
	if (r->nest++)
		return;
	if (__builtin_expect(!(r->flags & RF_RECLAIM_REGISTERED), 0))
		rf_reclaim_register();
	/* Acquire pairs with the grace period's increment: a section that sees the new
	 * epoch also sees what was unpublished before it. Release orders the thread's
	 * earlier sections before this store, for the scan's acquire load. The kernel
	 * (membarrier) orders this store before the section's loads; without it, a fence. */
	__atomic_store_n(&r->epoch, __atomic_load_n(&rf_reclaim_epoch, __ATOMIC_ACQUIRE),
	                 __ATOMIC_RELEASE);
	if (__builtin_expect(r->flags & RF_RECLAIM_FENCE, 0))
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	else
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
#endif
}

/* Close the innermost read section.
 * Returns: nothing.
 * Errors:  none. Precondition: inside a section opened on this thread.
 * Blocks:  never.
 * Context: any.
 * Cost:    a thread-local decrement, and at the outermost section one store; with
 *          RF_DEBUG_INVARIANTS defined, the checked call. */
static inline void rf_reclaim_exit(void)
{
#ifdef RF_DEBUG_INVARIANTS
	rf_reclaim_read_end();
#else
	rf_reclaim_reader *r = &rf_reclaim_self;
	if (--r->nest)
		return;
	/* Release pairs with the grace-period scan's acquire load: every use of a value
	 * loaded in the section happens before the value's release. */
	__atomic_store_n(&r->epoch, 0, __ATOMIC_RELEASE);
#endif
}

/* Wait until every value retired before this call has been released.
 * Values that release functions retire meanwhile (e.g. an object that owns an atom) need
 * another call.
 * Returns: nothing.
 * Errors:  none. Called inside a read section of the calling thread, it prints one line
 *          and aborts (it would wait for itself).
 * Blocks:  the calling thread, for a grace period and the releases already queued (on a
 *          fiber it blocks the whole worker: call it from a plain thread, at shutdown or
 *          in tests).
 * Context: a plain thread; never inside a read section or a release function.
 * Cost:    grace periods (membarrier system calls) and the release calls, some of them
 *          run on the caller. */
RF_API void rf_reclaim_barrier(void);

#ifdef __cplusplus
}
#endif
#endif
