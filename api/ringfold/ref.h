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
 *                                        &(rf_ref_opts){.release = f}, &r)
 *   (ref 0 :validator f :min-history 2 :max-history 20)
 *                                    rf_ref_new_opts(0, &(rf_ref_opts){f, 0, 2, 20}, &r)
 *   (ref-min-history r) (ref-max-history r)  the opts given
 *   @r / (deref r)                   rf_ref_deref(r, &v)       (or rf_deref(r, &v))
 *   (dosync body)                    rf_dosync(body, arg, &out)
 *   (alter r f x)                    rf_ref_alter(r, f, x, &new)
 *   (ref-set r v)                    rf_ref_set(r, v)
 *   (commute r f x)                  rf_ref_commute(r, f, x, &new)
 *   (ensure r)                       rf_ref_ensure(r, &v)
 *   (io! ...)                        if ((rc = rf_io_guard())) return rc; ...
 *   (set-validator! r f)             rf_ref_set_validator(r, f, ctx)
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
 * Retries. A transaction runs again from the start when it conflicts with another one
 * (Clojure's RetryEx). Inside a body, any ref operation may return RF_ETXRETRY: the body
 * must return at once with that code (return any negative code you get, the usual C
 * way); rf_dosync then runs it again. A body that ignores it cannot commit anyway. After
 * the retry limit (rf_config.stm_retry_limit, RF_STM_RETRY_LIMIT, default 10,000 as in
 * Clojure; while the runtime is not running, the environment's) rf_dosync returns
 * RF_ERETRYLIMIT. So a body must be free of side effects (guard I/O with rf_io_guard);
 * agent sends made in it are held and go out once, after the commit. Transactions never
 * start the runtime: refs need no executor workers.
 *
 * Contention: an older transaction wins against a younger one: after running 10 ms it
 * may kill ("barge") a younger one that holds a ref it needs; otherwise the younger
 * waits up to 100 ms for the holder to finish and retries; retries back off. Neither
 * livelock nor starvation: the oldest transaction eventually kills every rival.
 *
 * Contexts: every function may be called from a plain thread, a fiber, an agent action
 * or a fork/join task. The running transaction belongs to the fiber (or thread) that
 * called rf_dosync. Only ref operations inside a body (and so rf_dosync) ever wait: at
 * most 100 ms per attempt, parking a fiber or futex-waiting a thread, for a conflicting
 * transaction to finish. Outside a transaction nothing here blocks.
 *
 * Values are words: integers, or pointers to immutable data. A ref made without a
 * release function leaves pointer values to the caller, who keeps them alive for as long
 * as the ref or any reader may use them.
 *
 * Pointer values and release (rf_ref_opts.release). A ref made with a release function
 * owns the objects its values point to, as an owning atom does (atom.h):
 *  - It takes init, and at commit the value each write of a committed transaction left:
 *    rf_ref_set's val, alter's and commute's function results. Write only values new to
 *    the ref (fresh objects) or the value the write replaces; one object may belong to one
 *    ref only.
 *  - A committed value is released once no version keeps it (the newest value and up to
 *    max_history older ones are kept) and every read section open at that moment has
 *    ended: released through release(value, ctx), on the reclaim thread, as atom.h says.
 *    rf_ref_free releases every value still kept.
 *  - A value a transaction made and did not commit is released when its attempt ends:
 *    the attempt retried or failed, a later write in it replaced the value, or commute
 *    ran its function again at commit. Never twice: identity is the 64-bit word, and a
 *    value equal to the one it replaces is not taken again. RF_NIL is never released.
 *    rf_ref_set on an error return has not taken val: the caller still owns it.
 *  - Inside rf_dosync every value read from such a ref stays valid until rf_dosync
 *    returns (the transaction holds a read section, and through the watches). Outside a
 *    transaction, wrap rf_ref_deref and the use of its value in rf_reclaim_read_begin()
 *    / rf_reclaim_read_end() (atom.h).
 * Refs without a release function pay nothing for this.
 */
#ifndef RINGFOLD_REF_H
#define RINGFOLD_REF_H

#include "ringfold/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_ref rf_ref;

/* A validator, the same shape as the atom family's: returns 1 if value is a valid state,
 * 0 if not (the commit is refused with RF_EVALIDATOR: Clojure's IllegalStateException
 * "Invalid reference state"), or a negative code of its own (refused, and that code
 * returned: Clojure's validator that throws). Called at commit, while the transaction
 * holds its refs: it must be quick, pure, and must not start a transaction. */
typedef int (*rf_ref_validator)(rf_val value, rf_val ctx);

/* A watch: called after a commit that changed the ref, once per commit, outside every
 * lock and outside the transaction, on the committing context:
 * watch(key, ref, old, new, ctx). */
typedef void (*rf_ref_watch_fn)(rf_val key, rf_ref *ref, rf_val old_val, rf_val new_val,
                                rf_val ctx);

typedef struct rf_ref_opts {
	rf_ref_validator validator; /* NULL: none */
	rf_val validator_ctx;       /* its ctx argument */
	unsigned min_history;       /* older versions always kept (Clojure default 0) */
	unsigned max_history;       /* most older versions kept (Clojure default 10); 0 = 10 */
	rf_release_fn release;      /* NULL: values are words the ref does not own */
	rf_val release_ctx;         /* its ctx argument */
} rf_ref_opts;

/* (ref init): a new ref. Returns 0, -EINVAL (out NULL), -ENOMEM. Never blocks.
 * Cost: one allocation. */
RF_API int rf_ref_new(rf_val init, rf_ref **out);

/* (ref init :validator v :min-history a :max-history b). Returns 0, -EINVAL (out NULL,
 * min_history > max_history, max_history > 1,000,000), -ENOMEM, or the validator's code
 * when it rejects init (RF_EVALIDATOR for a plain rejection). opts may be NULL. */
RF_API int rf_ref_new_opts(rf_val init, const rf_ref_opts *opts, rf_ref **out);

/* Free a ref. No transaction may use it any more, and none may be running that did.
 * With a release function, every value it still keeps is released (after a grace
 * period; may wait for one if memory is exhausted: not inside a read section then). */
RF_API void rf_ref_free(rf_ref *ref);

/* @ref. Outside a transaction: the newest committed value. Inside: the transaction's
 * own value if it set/altered/commuted the ref, else the value as of its snapshot.
 * Returns 0; -EINVAL (NULL); RF_ETXRETRY inside a transaction that must retry (no old
 * enough version was kept: the ref grows its history for the next attempt). Never
 * blocks. Cost: outside, one load; inside, a lookup in the write set and a few loads. */
RF_API int rf_ref_deref(rf_ref *ref, rf_val *out);

/* (dosync (body arg)): run body(arg, &v) in a transaction and commit it; *out = v.
 * Inside another transaction it joins that one: runs body at once and returns what it
 * returns (Clojure's nested dosync). Returns 0; the body's own negative code (nothing
 * committed, every ref as before); RF_EVALIDATOR or a validator's code; the code of a
 * failing commute function run again at commit; RF_ERETRYLIMIT; -EINVAL (body NULL);
 * -ENOMEM; -EAGAIN (over a million transactions running at once). out may be NULL.
 * Blocks only as described above. After the commit, the watches of the changed refs run,
 * then held agent sends go out, both on the calling context. */
RF_API int rf_dosync(rf_body_fn body, rf_val arg, rf_val *out);

/* (alter ref fn arg): in-transaction value = fn(in-transaction value, arg); *out (may be
 * NULL) = the new value. Claims the ref for this transaction until it ends. Returns 0,
 * RF_ENOTX (outside a transaction), RF_ECOMMUTESET (ref commuted earlier in this
 * transaction), RF_ETXRETRY, -EINVAL (NULL ref or fn), or fn's own negative code (the
 * ref unchanged). Never blocks but for a bounded wait before RF_ETXRETRY. */
RF_API int rf_ref_alter(rf_ref *ref, rf_update_fn fn, rf_val arg, rf_val *out);

/* (ref-set ref val). Returns as rf_ref_alter. */
RF_API int rf_ref_set(rf_ref *ref, rf_val val);

/* (commute ref fn arg): in-transaction value = fn(that value, arg), and at commit fn
 * runs again on the newest committed value (so fn must be commutative). Commuters of one
 * ref do not conflict with each other. *out (may be NULL) = the in-transaction value.
 * Returns 0, RF_ENOTX, RF_ETXRETRY, -EINVAL, or fn's code. Never blocks. */
RF_API int rf_ref_commute(rf_ref *ref, rf_update_fn fn, rf_val arg, rf_val *out);

/* (ensure ref): protects the ref from changes by other transactions until this one
 * ends (prevents write skew) and returns its in-transaction value in *out (may be
 * NULL). Returns 0, RF_ENOTX, RF_ETXRETRY, -EINVAL. Never blocks but for a bounded
 * wait before RF_ETXRETRY. */
RF_API int rf_ref_ensure(rf_ref *ref, rf_val *out);

/* (io!): 0 outside a transaction, RF_EIOINTX inside one. Cost: one TLS load. */
RF_API int rf_io_guard(void);

/* Whether the calling fiber/thread runs a transaction
 * (clojure.lang.LockingTransaction/isRunning). */
RF_API bool rf_in_transaction(void);

/* (set-validator! ref fn): fn NULL removes it. The current value is checked first:
 * returns 0, -EINVAL (NULL ref), or RF_EVALIDATOR / fn's code (validator not installed).
 * Takes the ref's short lock; not from a validator of the same ref. */
RF_API int rf_ref_set_validator(rf_ref *ref, rf_ref_validator fn, rf_val ctx);

/* (add-watch ref key fn): replaces a watch with the same key. Returns 0, -EINVAL,
 * -ENOMEM. (remove-watch ref key): returns 0 (also when there was none), -EINVAL. Both
 * take the ref's short lock (never held during a call), so a watch may add or remove
 * watches. */
RF_API int rf_ref_add_watch(rf_ref *ref, rf_val key, rf_ref_watch_fn fn, rf_val ctx);
RF_API int rf_ref_remove_watch(rf_ref *ref, rf_val key);

/* (ref-history-count ref): older versions currently kept, besides the newest (0 for a
 * new ref, as Clojure); -EINVAL for NULL. */
RF_API int rf_ref_history_count(rf_ref *ref);

#ifdef __cplusplus
}
#endif
#endif
