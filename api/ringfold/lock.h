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
#include "ringfold/var.h"

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

/* Undo rf_lock_init. A lock may be destroyed as soon as it is free and nobody waits,
 * even while the unlock that freed it is still returning.
 * Returns: 0.
 * Errors:  -EBUSY (held or waited for; nothing done), -EINVAL (NULL), -EBADF (destroyed).
 * Blocks:  never (it waits out the last few instructions of such an unlock).
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
 * Cost:    free: inline, a thread-local load, a load and one CAS (a call otherwise, or
 *          where the inline form is not used: see rf_lock_lock_inline). */
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
 * Cost:    held once, nobody asleep, woken or owed a turn: inline, a thread-local load,
 *          four loads and one CAS (a call otherwise; see rf_lock_lock_inline). */
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

/* What the inline rf_lock_lock and rf_lock_unlock read and write (the ABI of docs/api.md,
 * fixed for 1.x): a lock begins with rf_lock_head. The owner is named by rf_var_ctx.self
 * (ringfold/var.h) of the context holding it. The rest of a lock is private. */
typedef struct rf_lock_head {
	uint32_t state;    /* atomic: RF_LOCK_HELD, _FLAGS, _CONTENDERS and _ACQ below */
	uint32_t depth;    /* reentry count; read and written by the owner only */
	const void *owner; /* atomic, relaxed: the owner's rf_var_ctx.self, or nobody's */
	uint32_t passes;   /* owner only: unlocks that may still pass over contenders */
} rf_lock_head;

/* The state word: bit 0 is set while the lock is held (or destroyed); bits 1..7 are
 * ringfold's flags, and an unlock that finds any set is the call's; bits 8..15 count
 * contenders, and an unlock that finds any takes one of `passes` (the call's when none
 * is left); bits 16..31 count acquisitions (mod 2^16), one more at every acquisition. */
#define RF_LOCK_HELD 1u
#define RF_LOCK_FLAGS 0xfeu
#define RF_LOCK_CONTENDERS 0xff00u
#define RF_LOCK_ACQ 0x10000u

/* rf_lock_lock and rf_lock_unlock inline, calling the exported functions for every case
 * their fast paths do not take: a held (or destroyed) lock, reentry, contenders to serve,
 * a thread that has not used ringfold yet. Lock: acquire CAS of a free state word (bit 0
 * clear) to bit 0 set and one more acquisition, then owner and depth 1. Unlock: an owner
 * at depth 1, finding no flag set and a pass left if contenders are counted, clears owner
 * and depth and takes the pass, then frees the word by a release CAS (pairs with the next
 * taker's acquire); if that fails, it restores the three and calls.
 * Callers get them as rf_lock_lock and rf_lock_unlock (macros below; the names in
 * parentheses, or RF_LOCK_NO_INLINE defined before this header, call the functions). */
static inline int rf_lock_lock_inline(rf_lock *lock)
{
	rf_lock_head *h = (rf_lock_head *)(void *)lock;
	const void *self = rf_var_ctx.self;
	if (__builtin_expect(lock != NULL && self != NULL, 1)) {
		uint32_t s = __atomic_load_n(&h->state, __ATOMIC_RELAXED);
		if (__builtin_expect(!(s & RF_LOCK_HELD), 1) &&
		    __builtin_expect(
		        __atomic_compare_exchange_n(&h->state, &s, (s | RF_LOCK_HELD) + RF_LOCK_ACQ,
		                                    1, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED),
		        1)) {
			__atomic_store_n(&h->owner, self, __ATOMIC_RELAXED);
			h->depth = 1;
			return 0;
		}
	}
	return (rf_lock_lock)(lock);
}

static inline int rf_lock_unlock_inline(rf_lock *lock)
{
	rf_lock_head *h = (rf_lock_head *)(void *)lock;
	const void *self = rf_var_ctx.self;
	if (__builtin_expect(lock != NULL && self != NULL, 1) &&
	    __builtin_expect(__atomic_load_n(&h->owner, __ATOMIC_RELAXED) == self, 1) &&
	    __builtin_expect(h->depth == 1, 1)) {
		uint32_t s = __atomic_load_n(&h->state, __ATOMIC_RELAXED), left = h->passes;
		uint32_t pass = (s & RF_LOCK_CONTENDERS) != 0;
		if (__builtin_expect(!(s & RF_LOCK_FLAGS) && left >= pass, 1)) {
			__atomic_store_n(&h->owner, (const void *)0, __ATOMIC_RELAXED);
			h->depth = 0;
			h->passes = left - pass;
			if (__builtin_expect(
			        __atomic_compare_exchange_n(&h->state, &s, s & ~RF_LOCK_HELD, 0,
			                                    __ATOMIC_RELEASE, __ATOMIC_RELAXED),
			        1))
				return 0;
			__atomic_store_n(&h->owner, self, __ATOMIC_RELAXED);
			h->depth = 1;
			h->passes = left;
		}
	}
	return (rf_lock_unlock)(lock);
}

#ifndef RF_LOCK_NO_INLINE
#define rf_lock_lock(lock) rf_lock_lock_inline(lock)
#define rf_lock_unlock(lock) rf_lock_unlock_inline(lock)
#endif

#ifdef __cplusplus
}
#endif
#endif
