/* runtime/base/reclaim.h: safe reclamation of replaced pointer values (internal).
 *
 * A reference (atom, and later ref, agent, var) that holds pointers to immutable objects
 * may be given a release function. When such a reference replaces its value, the old
 * object may still be in use by a reader that loaded it a moment earlier, so it is not
 * released at once but retired: released later, once every read section that was open
 * at the moment of retirement has ended (a grace period).
 *
 * Built on liburcu's "bulletproof" flavour (urcu-bp): read sections are a thread-local
 * counter store with no fence (the grace-period side uses membarrier(2) to order them),
 * threads register themselves on first use and unregister at exit, which is what a
 * library whose callers are arbitrary threads needs. perf/atom's reclaim_read benchmark
 * measures it against the memb, qsbr and mb flavours and a hand-written epoch scheme;
 * README.md (atom section) has the figures and the reasons for the choice.
 *
 * Read sections (public as rf_reclaim_read_begin/end in ringfold/atom.h) nest, cost a
 * few ns and never block. They are per OS thread: a fiber that parks inside one keeps its
 * thread's section open (delaying reclamation, never breaking it), because fibers never
 * migrate. Nothing that may block for long belongs inside one.
 *
 * Retiring is two steps so that the step which can fail comes first, before anything
 * has been changed:
 *
 *     reclaim_thread *node = reclaim_node_alloc();     // NULL: -ENOMEM, nothing changed
 *     ... replace the value (CAS); if it did not happen: reclaim_node_free(node) ...
 *     reclaim_retire(node, old, release, ctx);     // never fails, never blocks
 *
 * Retired values are collected per thread and handed to liburcu's call_rcu in batches of
 * 64; release functions run on liburcu's call_rcu worker thread (or on the thread in
 * rf_reclaim_barrier), in no given order. They must not block for long and must not call
 * rf_reclaim_barrier(). At most 63 values per thread wait for that thread's next batch,
 * its exit or a barrier.
 *
 * Contexts: every function may be called from a fiber, a plain thread or a fork/join
 * task, except rf_reclaim_barrier (blocks the calling thread; never inside a read
 * section, never from a release function).
 */
#ifndef RF_RUNTIME_ATOM_RECLAIM_H
#define RF_RUNTIME_ATOM_RECLAIM_H

#include "ringfold/atom.h"

typedef struct reclaim_thread reclaim_thread;

/* Open / close a read section (also public in ringfold/atom.h). Nest. Never block. */
void rf_reclaim_read_begin(void);
void rf_reclaim_read_end(void);

/* Whether the calling thread is inside a read section. Cost: one TLS load. */
bool reclaim_read_ongoing(void);

/* A retirement record, or NULL when memory is exhausted. Never blocks. */
reclaim_thread *reclaim_node_alloc(void);

/* Give back a record that was not used. Never blocks. */
void reclaim_node_free(reclaim_thread *node);

/* Release value with release(value, ctx) once every read section open now has ended.
 * Consumes node. Never fails, never blocks. */
void reclaim_retire(reclaim_thread *node, rf_val value, rf_release_fn release, rf_val ctx);

/* Retire without a record prepared in advance, for teardown paths that cannot fail: if
 * no record can be allocated, waits for a grace period and releases inline (blocks; must
 * not be inside a read section then). */
void reclaim_retire_now_or_wait(rf_val value, rf_release_fn release, rf_val ctx);

/* Wait until everything retired before the call has been released (also public). */
void rf_reclaim_barrier(void);

#endif
