/* ringfold/ref.h: refs and software transactional memory (Clojure's ref, dosync, alter,
 * ref-set, commute, ensure, io!).
 *
 * A ref holds one value (rf_val). Refs change only inside a transaction, run by
 * rf_dosync(), which gives the body a consistent snapshot of every ref (snapshot
 * isolation, multi-version) and makes all its changes visible at once at commit, or
 * none of them. Semantics follow Clojure 1.11's LockingTransaction:
 *
 *   Clojure                          ringfold
 *   (ref 0)                          rf_ref_new(0, &r)
 *   a ref that owns its pointers     rf_ref_new_opts(rf_from_ptr(p),
 *                                        &(rf_ref_opts){.size = sizeof(rf_ref_opts),
 *                                        .release = f}, &r)
 *   (ref 0 :validator f :min-history 2 :max-history 20)
 *                                    rf_ref_new_opts(0, &(rf_ref_opts){sizeof(rf_ref_opts),
 *                                        f, 0, 2, 20}, &r)
 *   (ref-min-history r) (ref-max-history r)  rf_ref_min_history(r), rf_ref_max_history(r)
 *   (ref-min-history r n), (ref-max-history r n)  rf_ref_set_min_history(r, n), _max_
 *   @r / (deref r)                   rf_ref_deref(r, &v)       (or rf_deref(r, &v))
 *   (dosync body), (sync nil body)   rf_dosync(body, arg, &out)
 *   (alter r f x)                    rf_ref_alter(r, f, x, &new)
 *   (ref-set r v)                    rf_ref_set(r, v)
 *   (commute r f x)                  rf_ref_commute(r, f, x, &new)
 *   (ensure r)                       rf_ref_ensure(r, &v)
 *   (io! ...)                        if ((rc = rf_io_guard())) return rc; ...
 *   (set-validator! r f) (get-validator r)  rf_ref_set_validator(r, f, ctx), _get_validator
 *   (add-watch r k f) (remove-watch r k)  rf_ref_add_watch / rf_ref_remove_watch
 *   (ref-history-count r)            rf_ref_history_count(r)
 *
 * Errors (Clojure's exception -> code):
 *   IllegalStateException "No transaction running"          RF_ENOTX
 *   "Transaction failed after reaching retry limit"         RF_ERETRYLIMIT
 *   IllegalStateException "Can't set after commute"         RF_ECOMMUTESET
 *   IllegalStateException "I/O in transaction"              RF_EIOINTX
 *   IllegalStateException "Invalid reference state"         RF_EVALIDATOR
 *   the internal RetryEx                                     RF_ETXRETRY
 *
 * Watches. A watch's negative code is returned by rf_dosync after the commit (the
 * changes stay made), as Clojure's watch exception reaches the dosync caller.
 *
 * Design notes (retries, contention, owning refs and release): docs/ref.md. In short:
 * a body must return at once any negative code a ref operation gives (RF_ETXRETRY makes
 * rf_dosync run it again), must be free of side effects (guard I/O with rf_io_guard), and
 * a ref made with a release function owns its pointer values as an owning atom does.
 * Contexts: any (plain thread, fiber, agent action, fork/join task); only ref operations
 * inside a transaction wait, at most 100 ms per attempt, for a conflicting transaction.
 */
#ifndef RINGFOLD_REF_H
#define RINGFOLD_REF_H

#include "ringfold/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_ref rf_ref;

/* Validators and watches have the shapes of base.h (rf_validator_fn, rf_watch_fn; a
 * watch's `ref` is the rf_ref *). A validator runs at commit, while the transaction holds
 * its refs: it must be quick, pure, and must not start a transaction. A watch runs after
 * the commit, outside every lock and outside the transaction, on the committing context. */

typedef struct rf_ref_opts {
	size_t size;               /* sizeof(rf_ref_opts); fields past it are defaults */
	rf_validator_fn validator; /* NULL: none */
	rf_val validator_ctx;      /* its ctx argument */
	unsigned min_history;      /* older versions always kept (Clojure default 0) */
	unsigned max_history;      /* most older versions kept (Clojure default 10); 0 = 10 */
	rf_release_fn release;     /* NULL: values are words the ref does not own */
	rf_val release_ctx;        /* its ctx argument */
} rf_ref_opts;

/* (ref init): a new ref holding init.
 * Returns: 0 and *out.
 * Errors:  -EINVAL (out NULL), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    one allocation. */
RF_API int rf_ref_new(rf_val init, rf_ref **out);

/* (ref init :validator v :min-history a :max-history b), and refs that own their values.
 * Returns: 0 and *out (opts may be NULL: rf_ref_new).
 * Errors:  -EINVAL (out NULL, opts->size unset, min_history > max_history, max_history
 *          over 1,000,000), -ENOMEM, RF_EVALIDATOR or the validator's code (init rejected).
 * Blocks:  never.
 * Context: any.
 * Cost:    one allocation. */
RF_API int rf_ref_new_opts(rf_val init, const rf_ref_opts *opts, rf_ref **out);

/* Free a ref and, with a release function, every value it still keeps.
 * Returns: nothing; NULL is a no-op.
 * Errors:  none. Precondition: no transaction uses the ref any more, or runs having used it.
 * Blocks:  only when memory or threads are exhausted (waits for a grace period; never
 *          inside a read section: there the values wait for a later one).
 * Context: any.
 * Cost:    one free, plus the releases. */
RF_API void rf_ref_free(rf_ref *ref);

/* @ref: the newest committed value, or inside a transaction the transaction's own value
 * (if it wrote the ref) or the value as of its snapshot.
 * Returns: 0 and *out.
 * Errors:  -EINVAL (NULL ref or out), RF_ETXRETRY (inside a transaction that must retry:
 *          no old enough version was kept; the history grows for the next attempt).
 * Blocks:  never.
 * Context: any; generic form rf_deref (ringfold.h).
 * Cost:    outside a transaction one load; inside, a write-set lookup and a few loads. */
RF_API int rf_ref_deref(rf_ref *ref, rf_val *out);

/* (dosync (body arg)): run body(arg, &v) in a transaction and commit it; *out = v.
 * Inside another transaction it joins that one (Clojure's nested dosync).
 * Returns: 0, or after a commit the first negative code of a watch of a changed ref (the
 *          changes stay made). After the commit the watches run, then held agent sends
 *          go out, both on the calling context. out may be NULL.
 * Errors:  body's own negative code (nothing committed), RF_EVALIDATOR or a validator's
 *          code, a commute function's code at commit, RF_ERETRYLIMIT, -EINVAL (body NULL),
 *          -ENOMEM, -EAGAIN (over a million transactions at once).
 * Blocks:  only inside ref operations: at most 100 ms per attempt for a conflicting
 *          transaction (parks a fiber, futex-waits a thread).
 * Context: any. Never starts the runtime.
 * Cost:    the body, plus a lock per written ref at commit. */
RF_API int rf_dosync(rf_body_fn body, rf_val arg, rf_val *out);

/* (alter ref fn arg): in-transaction value = fn(in-transaction value, arg).
 * Returns: 0 and *out (may be NULL) = the new value; claims the ref until the
 *          transaction ends.
 * Errors:  RF_ENOTX (outside a transaction), RF_ECOMMUTESET (commuted earlier in this
 *          transaction), RF_ETXRETRY, -EINVAL (NULL ref or fn), fn's code (ref unchanged).
 * Blocks:  a bounded wait before RF_ETXRETRY.
 * Context: inside rf_dosync.
 * Cost:    fn, plus a write-set entry. */
RF_API int rf_ref_alter(rf_ref *ref, rf_update_fn fn, rf_val arg, rf_val *out);

/* (ref-set ref val).
 * Returns: 0.
 * Errors:  as rf_ref_alter; on an error an owning ref has not taken val.
 * Blocks:  a bounded wait before RF_ETXRETRY.
 * Context: inside rf_dosync.
 * Cost:    a write-set entry. */
RF_API int rf_ref_set(rf_ref *ref, rf_val val);

/* (commute ref fn arg): in-transaction value = fn(that value, arg); at commit fn runs
 * again on the newest committed value, so it must be commutative.
 * Returns: 0 and *out (may be NULL) = the in-transaction value.
 * Errors:  RF_ENOTX, RF_ETXRETRY, -EINVAL, fn's code.
 * Blocks:  never (commuters of one ref do not conflict).
 * Context: inside rf_dosync.
 * Cost:    fn twice. */
RF_API int rf_ref_commute(rf_ref *ref, rf_update_fn fn, rf_val arg, rf_val *out);

/* (ensure ref): keep other transactions from changing ref until this one ends.
 * Returns: 0 and *out (may be NULL) = the in-transaction value.
 * Errors:  RF_ENOTX, RF_ETXRETRY, -EINVAL.
 * Blocks:  a bounded wait before RF_ETXRETRY.
 * Context: inside rf_dosync.
 * Cost:    a write-set entry and the ref's lock. */
RF_API int rf_ref_ensure(rf_ref *ref, rf_val *out);

/* (io!): whether I/O is allowed here.
 * Returns: 0 outside a transaction.
 * Errors:  RF_EIOINTX inside one.
 * Blocks:  never.
 * Context: any.
 * Cost:    one thread-local load. */
RF_API int rf_io_guard(void);

/* Whether the calling fiber or thread runs a transaction (LockingTransaction/isRunning).
 * Returns: true or false.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    one thread-local load. */
RF_API bool rf_in_transaction(void);

/* (set-validator! ref fn): fn NULL removes it; the current value is checked first.
 * Returns: 0.
 * Errors:  -EINVAL (NULL ref), RF_EVALIDATOR or fn's code (not installed).
 * Blocks:  never (the ref's short lock; not from a validator of the same ref).
 * Context: any.
 * Cost:    one call of fn. */
RF_API int rf_ref_set_validator(rf_ref *ref, rf_validator_fn fn, rf_val ctx);

/* (get-validator ref): *fn (NULL if none) and *ctx; either may be NULL.
 * Returns: 0.
 * Errors:  -EINVAL (NULL ref).
 * Blocks:  never.
 * Context: any.
 * Cost:    the ref's short lock. */
RF_API int rf_ref_get_validator(rf_ref *ref, rf_validator_fn *fn, rf_val *ctx);

/* (add-watch ref key fn): fn(key, ref, old, new, ctx) after every commit that changed
 * ref; replaces a watch with the same key.
 * Returns: 0.
 * Errors:  -EINVAL (NULL ref or fn), -ENOMEM.
 * Blocks:  never (the ref's short lock, never held during a call: a watch may add or
 *          remove watches).
 * Context: any.
 * Cost:    a copy of the watch list. */
RF_API int rf_ref_add_watch(rf_ref *ref, rf_val key, rf_watch_fn fn, rf_val ctx);

/* (remove-watch ref key).
 * Returns: 0, also when there was no such watch.
 * Errors:  -EINVAL (NULL ref), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    a copy of the watch list. */
RF_API int rf_ref_remove_watch(rf_ref *ref, rf_val key);

/* (ref-history-count ref): older versions kept besides the newest (0 for a new ref).
 * Returns: the count (>= 0).
 * Errors:  -EINVAL (NULL ref).
 * Blocks:  never.
 * Context: any.
 * Cost:    a few loads. */
RF_API int rf_ref_history_count(rf_ref *ref);

/* (ref-min-history ref n): keep at least n older versions from the next commits on.
 * Returns: 0. A minimum above the maximum wins (the history grows to n), as in Clojure.
 * Errors:  -EINVAL (NULL ref, n over 1,000,000).
 * Blocks:  never.
 * Context: any, also inside a transaction (takes effect at once, not at its commit).
 * Cost:    one store; a later commit may allocate a bigger ring for the versions. */
RF_API int rf_ref_set_min_history(rf_ref *ref, unsigned n);

/* (ref-max-history ref n): let the history grow up to n older versions (it grows when a
 * reader found no version old enough). Lowering it drops no kept version: the history
 * stops growing and keeps its length, as in Clojure.
 * Returns: 0.
 * Errors:  -EINVAL (NULL ref, n over 1,000,000).
 * Blocks:  never.
 * Context: any, also inside a transaction (takes effect at once).
 * Cost:    one store; a later commit may allocate a bigger ring for the versions. */
RF_API int rf_ref_set_max_history(rf_ref *ref, unsigned n);

/* (ref-min-history ref): the minimum history set at creation or last set.
 * Returns: the minimum (>= 0).
 * Errors:  -EINVAL (NULL ref).
 * Blocks:  never.
 * Context: any.
 * Cost:    one load. */
RF_API int rf_ref_min_history(rf_ref *ref);

/* (ref-max-history ref): the maximum history set at creation (10 by default) or last set.
 * Returns: the maximum (>= 0).
 * Errors:  -EINVAL (NULL ref).
 * Blocks:  never.
 * Context: any.
 * Cost:    one load. */
RF_API int rf_ref_max_history(rf_ref *ref);

#ifdef __cplusplus
}
#endif
#endif
