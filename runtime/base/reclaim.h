/* runtime/base/reclaim.h: safe reclamation of replaced pointer values (internal).
 *
 * A reference (atom, ref, agent, channel, collection) that holds pointers to immutable
 * objects may be given a release function. When such a reference replaces its value, the
 * old object may still be in use by a reader that loaded it a moment earlier, so it is
 * not released at once but retired: released later, once every read section that was
 * open at the moment of retirement has ended (a grace period).
 *
 * Read sections are ringfold/reclaim.h's: a thread-local record per thread, an epoch
 * stored at the outermost enter and cleared at the exit, no fence (grace periods use
 * membarrier(2)); runtime/base/reclaim.c has the algorithm and its proof. They nest,
 * never block, and belong to the OS thread: a fiber that parks inside one keeps its
 * thread's section open (delaying reclamation, never breaking it), because a started
 * fiber never migrates. Nothing that may block for long belongs inside one.
 *
 * Retiring is two steps so that the step which can fail comes first, before anything
 * has been changed:
 *
 *     reclaim_thread *node = reclaim_node_alloc();     // NULL: -ENOMEM, nothing changed
 *     ... replace the value (CAS); if it did not happen: reclaim_node_free(node) ...
 *     reclaim_retire(node, old, release, ctx);     // never fails, never blocks
 *
 * Retired values are collected per thread and handed to the reclaimer thread in batches
 * of 64; release functions run there (or on the thread in rf_reclaim_barrier), in no
 * given order. They must not block for long and must not call rf_reclaim_barrier(). At
 * most 63 values per thread wait for that thread's next batch, its exit or a barrier.
 *
 * Contexts: every function may be called from a fiber, a plain thread or a fork/join
 * task, except rf_reclaim_barrier (blocks the calling thread; never inside a read
 * section, never from a release function).
 */
#ifndef RF_RUNTIME_ATOM_RECLAIM_H
#define RF_RUNTIME_ATOM_RECLAIM_H

#include "ringfold/base.h"
#include "ringfold/reclaim.h"

typedef struct reclaim_thread reclaim_thread;

/* A retirement record, or NULL when memory is exhausted or the reclaimer thread cannot
 * be started (the caller reports -ENOMEM). Never waits for read sections; may take a
 * process-wide lock (the first call of a thread, or while the reclaimer is not running). */
reclaim_thread *reclaim_node_alloc(void);

/* Give back a record that was not used. Never blocks. */
void reclaim_node_free(reclaim_thread *node);

/* Release value with release(value, ctx) once every read section open now has ended.
 * Consumes node. Never fails, never blocks, never waits for read sections: it may be
 * called inside one, or while holding what a reader waits for (an STM install). */
void reclaim_retire(reclaim_thread *node, rf_val value, rf_release_fn release, rf_val ctx);

/* Retire without a record prepared in advance, for teardown paths that cannot fail: if
 * no record can be had (reclaim_node_alloc), waits for a grace period and releases inline
 * (blocks; the caller must hold nothing a reader waits for), unless the calling thread is
 * inside a read section (a parked fiber's counts): then the value waits in a reserve for
 * the next grace period anyone waits for (with no memory to grow the reserve past 64
 * values, it is never released, and a line on stderr says so). */
void reclaim_retire_now_or_wait(rf_val value, rf_release_fn release, rf_val ctx);

#endif
