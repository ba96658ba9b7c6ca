/* ringfold/lock.h: locks (Clojure's (locking x ...), i.e. a JVM monitor's enter/exit).
 *
 * A lock is owned by an execution context: the running fiber, or the calling thread
 * outside fibers (two fibers on one thread are two owners; a fiber never migrates, so
 * "the fiber holds it" is well defined). Like a JVM monitor it is
 *   - reentrant: the owner may lock it again; it is free after as many unlocks;
 *   - owner-checked: unlock by anyone else is RF_ENOTOWNER (IllegalMonitorStateException)
 *     and changes nothing;
 *   - fiber-friendly: a fiber that must wait parks (its core runs other fibers); a thread
 *     futex-waits. It spins briefly first, since most waits are short.
 * Fairness: no waiter starves (the tutorial's roommate who never gets the bathroom).
 * While waits are short the lock is "barging" (a running thread may take a free lock
 * ahead of a sleeper that was just woken: fast, like pthread_mutex). Once the first
 * waiter has waited RF_LOCK_STARVE_MS it switches to strict FIFO hand-off: unlock passes
 * ownership straight to the longest waiter and nobody barges until the queue empties or
 * a waiter got it quickly. So a waiter's wait is bounded by the critical sections of the
 * waiters ahead of it plus about RF_LOCK_STARVE_MS each. perf/atom's lock_2t benchmark
 * prints the share of acquisitions each of two hammering threads gets.
 *
 * Scoped form: rf_locking(lock, body, arg, &out) runs body between lock and unlock.
 * C has no destructors and the style of this library hides no control flow in macros
 * (a `RF_LOCKING(l) { ... }` for-loop macro would leave the lock held on `return`,
 * `break` or `goto` out of the block without any warning); a function that calls the
 * body cannot leave the lock held on any path out of the body, because every path out
 * of a C function returns to rf_locking, which unlocks. The one exception is longjmp out
 * of body, which is forbidden (as it is across any library call that holds resources).
 *
 * Storage: 48 bytes, in the caller's memory (rf_lock_init) or on the heap (rf_lock_new).
 * Not padded to a cache line: a lock usually shares its line with the data it guards.
 *
 * Errors shared by every function: -EINVAL for a NULL lock, -EBADF for a destroyed one.
 * Contexts: any (fiber, plain thread, fork/join task, agent action, transaction body:
 * as in Clojure, a transaction that retries runs its `locking` again); lock and
 * rf_locking may block. A fork/join task that blocks here blocks its pool worker.
 */
#ifndef RINGFOLD_LOCK_H
#define RINGFOLD_LOCK_H

#include "ringfold/base.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RF_LOCK_SIZE 48
#define RF_LOCK_STARVE_MS 1

typedef struct rf_lock {
	RF_ALIGNAS(8) unsigned char opaque_[RF_LOCK_SIZE];
} rf_lock;

/* Make an unlocked lock (Clojure: any Object). Returns 0, -EINVAL, -ENOMEM (_new).
 * Never blocks. */
RF_API int rf_lock_init(rf_lock *lock);
RF_API int rf_lock_new(rf_lock **out);

/* Destroy: returns 0, or -EBUSY (held or waited for; nothing done). rf_lock_free frees
 * rf_lock_new's storage after a successful destroy. NULL: -EINVAL. */
RF_API int rf_lock_destroy(rf_lock *lock);
RF_API int rf_lock_free(rf_lock *lock);

/* (monitor-enter lock): take the lock, waiting as long as it takes. Returns 0, -EOVERFLOW
 * (reentered 2^32-1 times), or the shared errors. Blocks. Cost when free: one CAS; when
 * already the caller's: a load and an increment. */
RF_API int rf_lock_lock(rf_lock *lock);

/* rf_lock_lock with a timeout in ms (0 polls, like tryLock). Returns 0, -ETIMEDOUT
 * (not taken), -EINVAL for ms < 0, -EOVERFLOW or the shared errors. Blocks up to ms. */
RF_API int rf_lock_lock_timeout(rf_lock *lock, int64_t ms);

/* (monitor-exit lock): undo one rf_lock_lock. Returns 0, RF_ENOTOWNER (the caller does
 * not hold it: IllegalMonitorStateException) or the shared errors. Never blocks (may
 * wake a waiter: a futex wake or a fiber resume). Cost uncontended: one CAS. */
RF_API int rf_lock_unlock(rf_lock *lock);

/* Whether the caller (this fiber, or this thread outside fibers) holds the lock
 * (Java's Thread.holdsLock). NULL or destroyed: false. Never blocks. */
RF_API bool rf_lock_held(rf_lock *lock);

/* (locking lock (body arg)): lock, *out = RF_NIL, rc = body(arg, out), unlock, return rc
 * (body's own code carried unchanged, like the exception `locking` rethrows after
 * releasing the monitor). The lock is released on every path out of body. Returns
 * body's result, or lock's error (body not run), or -EINVAL for a NULL body. Blocks. */
RF_API int rf_locking(rf_lock *lock, rf_body_fn body, rf_val arg, rf_val *out);

#ifdef __cplusplus
}
#endif
#endif
