/* ringfold/lock.h: locks (Clojure's (locking x ...), i.e. a JVM monitor's enter/exit).
 *
 * A lock is owned by an execution context: the running fiber, or the calling thread
 * outside fibers (two fibers on one thread are two owners; a fiber never migrates, so
 * "the fiber holds it" is well defined). Like a JVM monitor it is
 *   - reentrant: the owner may lock it again; it is free after as many unlocks;
 *   - owner-checked: unlock by anyone else is RF_ENOTOWNER (IllegalMonitorStateException)
 *     and changes nothing;
 *   - fiber-friendly: a fiber that must wait parks (its core runs other fibers); a thread
 *     futex-waits. A fiber spins briefly first; a thread spins for its turn between
 *     running threads (at most 0.2 ms; less when the owner makes no progress).
 * No waiter starves: past RF_LOCK_STARVE_MS of waiting the lock hands off in FIFO
 * order. rf_locking(lock, body, arg, &out) is the scoped form: the lock is released on
 * every path out of body (no macro hides control flow). docs/lock.md has the design.
 *
 *   Clojure / Java                   ringfold
 *   (locking x (body))               rf_locking(&l, body, arg, &out)
 *   (monitor-enter x) (monitor-exit x)  rf_lock_lock(&l), rf_lock_unlock(&l)
 *   (.tryLock l ms)                  rf_lock_lock_timeout(&l, ms): 0 / -ETIMEDOUT
 *   (Thread/holdsLock x)             rf_lock_held(&l)
 *   IllegalMonitorStateException     RF_ENOTOWNER
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

/* Make an unlocked lock in the caller's memory (_init) or on the heap (_new).
 * Returns: 0 (_new: and *out).
 * Errors:  -EINVAL (NULL), -ENOMEM (_new).
 * Blocks:  never.
 * Context: any.
 * Cost:    a few stores (+ one allocation). */
RF_API int rf_lock_init(rf_lock *lock);
RF_API int rf_lock_new(rf_lock **out);

/* Undo rf_lock_init.
 * Returns: 0.
 * Errors:  -EBUSY (held or waited for; nothing done), -EINVAL (NULL), -EBADF (destroyed).
 * Blocks:  never.
 * Context: any.
 * Cost:    one load. */
RF_API int rf_lock_destroy(rf_lock *lock);

/* Destroy and free a lock made by rf_lock_new.
 * Returns: nothing; NULL is a no-op.
 * Errors:  none. Precondition: not held or waited for; a busy lock is left alone (not
 *          freed) and one line on stderr says so.
 * Blocks:  never.
 * Context: any.
 * Cost:    one load and one free. */
RF_API void rf_lock_free(rf_lock *lock);

/* (monitor-enter lock): take the lock, waiting as long as it takes.
 * Returns: 0.
 * Errors:  -EOVERFLOW (reentered 2^32-1 times), -EINVAL (NULL), -EBADF (destroyed).
 * Blocks:  parks a fiber, futex-waits a thread, after a bounded spin.
 * Context: any (a fork/join task that waits here blocks its pool worker).
 * Cost:    free: one CAS; already the caller's: a load and an increment. */
RF_API int rf_lock_lock(rf_lock *lock);

/* rf_lock_lock with a limit (Java's tryLock(timeout); 0 polls).
 * Returns: 0.
 * Errors:  -ETIMEDOUT (not taken), -EINVAL (NULL, timeout_ms < 0), -EOVERFLOW, -EBADF.
 * Blocks:  up to timeout_ms.
 * Context: any.
 * Cost:    as rf_lock_lock. */
RF_API int rf_lock_lock_timeout(rf_lock *lock, int64_t timeout_ms);

/* (monitor-exit lock): undo one rf_lock_lock.
 * Returns: 0.
 * Errors:  RF_ENOTOWNER (the caller does not hold it; nothing changes), -EINVAL, -EBADF.
 * Blocks:  never (may wake a waiter).
 * Context: any.
 * Cost:    uncontended: one CAS. */
RF_API int rf_lock_unlock(rf_lock *lock);

/* Whether the caller (this fiber, or this thread outside fibers) holds the lock (Java's
 * Thread.holdsLock).
 * Returns: true or false (false for NULL or a destroyed lock).
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    two loads. */
RF_API bool rf_lock_held(rf_lock *lock);

/* (locking lock (body arg)): lock, *out = RF_NIL, rc = body(arg, out), unlock, return rc.
 * Returns: body's result (its own code carried unchanged, as `locking` rethrows after
 *          releasing the monitor).
 * Errors:  rf_lock_lock's errors (body not run), -EINVAL (NULL body or out).
 * Blocks:  as rf_lock_lock, plus body.
 * Context: any (never longjmp out of body).
 * Cost:    a lock, the call, an unlock. */
RF_API int rf_locking(rf_lock *lock, rf_body_fn body, rf_val arg, rf_val *out);

#ifdef __cplusplus
}
#endif
#endif
