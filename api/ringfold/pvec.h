/* ringfold/pvec.h: persistent vectors (Clojure's PersistentVector) and their transients.
 *
 *   Clojure                          ringfold
 *   []  /  (vector)                  rf_pvec_new(NULL, &v)
 *   (vec xs)                         rf_pvec_from(xs, n, NULL, &v)
 *   (conj v x)                       rf_pvec_conj(v, x, &v2)
 *   (assoc v i x)                    rf_pvec_assoc(v, i, x, &v2)    (i == count appends)
 *   (nth v i)  /  (v i)              rf_pvec_nth(v, i, &x)
 *   (peek v)  /  (pop v)             rf_pvec_peek(v, &x)  /  rf_pvec_pop(v, &v2)
 *   (count v)                        rf_pvec_count(v)
 *   (subvec v start end)             rf_pvec_subvec(v, start, end, &v2)
 *   (reduce f init v), (r/fold ...)  rf_r_reduce / rf_fold over rf_r_pvec(v)
 *   (seq v) / iteration              rf_pvec_chunk(v, i, &run, &len)  (32 at a time)
 *   (transient v)                    rf_pvec_transient(v, &t)
 *   (conj! t x) (assoc! t i x) (pop! t)  rf_tvec_conj / rf_tvec_assoc / rf_tvec_pop
 *   (persistent! t)                  rf_tvec_persistent(t, &v)
 *   IndexOutOfBoundsException        -ERANGE
 *   "Can't pop empty vector"         -ERANGE
 *   NullPointerException             -EINVAL (a NULL vector or out)
 *
 * A vector is an immutable version (coll.h): every function leaves its input as it was
 * and returns a new version through `out`, holding one reference the caller gives back
 * with rf_pvec_release (or rf_coll_release). Elements are borrowed words unless the
 * vector was made with ops that own them (coll.h). Elements read (nth, peek, chunk) are
 * borrowed from the version: valid while it is held.
 *
 * Layout. A 32-way trie of 32-element leaves plus a tail leaf of up to 32 elements, as
 * Clojure's; versions made by conj from one another share their tail leaf, each seeing
 * its own length of it, so conj copies nothing (Clojure's copies the tail). Sharing is
 * counted: a node copied by a persistent
 * change usually takes over the references of the node it copies (one atomic
 * compare-and-swap on that node, which keeps a reference to the copy), and otherwise
 * takes a reference on each of the up to 32 children or elements it shares. Each
 * function's Cost says what it copies.
 *
 * Transients: a transient owns the nodes it made (Clojure's edit token) and changes them
 * in place: conj! writes into the tail; no reference counting on the nodes it owns.
 * A transient is one owner's (not thread-safe: one thread or fiber at a time, as
 * Clojure's); rf_tvec_persistent freezes it in O(1) and consumes it.
 *
 * Versions may be read and derived from by any number of threads at once.
 */
#ifndef RINGFOLD_PVEC_H
#define RINGFOLD_PVEC_H

#include "ringfold/base.h"
#include "ringfold/coll.h"
#include "ringfold/fold.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_pvec rf_pvec;
typedef struct rf_tvec rf_tvec;

/* Every function below never blocks and may be called from any context (fiber, plain
 * thread, fork/join task, transaction, agent action). A NULL vector, transient or out-pointer is
 * -EINVAL; an index outside the vector is -ERANGE (Clojure's IndexOutOfBoundsException), distinct
 * from -EINVAL so a caller can tell a bad index from a bad call. */

/* []: an empty vector.
 * Returns: 0; *out holds one reference.
 * Errors:  -EINVAL (out NULL; ops too small or owning by halves), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    one allocation. */
RF_API int rf_pvec_new(const rf_coll_ops *ops, rf_pvec **out);

/* (vec xs): the n elements of xs in order.
 * Returns: 0; *out holds one reference.
 * Errors:  -EINVAL (out NULL, xs NULL with n > 0, ops too small or owning by
 *          halves), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    through a transient: about a conj! per element. */
RF_API int rf_pvec_from(const rf_val *xs, size_t n, const rf_coll_ops *ops, rf_pvec **out);

/* One more / one fewer reference to v; the last release frees v and every node no other
 * version shares, releasing their elements (with owning ops).
 * Returns: nothing; NULL is a no-op.
 * Errors:  none. Precondition: the caller holds a reference to v.
 * Blocks:  never.
 * Context: any.
 * Cost:    one atomic add (a free walks the nodes it frees). */
RF_API void rf_pvec_retain(rf_pvec *v);
RF_API void rf_pvec_release(rf_pvec *v);

/* (count v).
 * Returns: the count; 0 for NULL, as (count nil).
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    O(1). */
RF_API size_t rf_pvec_count(const rf_pvec *v);

/* (nth v i): *out = element i, borrowed from v.
 * Returns: 0.
 * Errors:  -EINVAL (NULL v or out), -ERANGE (i >= count).
 * Blocks:  never.
 * Context: any.
 * Cost:    one load for the last 32 elements; else a load per level: 2 up to 1,056
 *          elements, 3 up to 32,800, 4 up to 1,048,608. */
RF_API int rf_pvec_nth(const rf_pvec *v, size_t i, rf_val *out);

/* (peek v): the last element.
 * Returns: 0.
 * Errors:  -EINVAL (NULL v or out), -ERANGE (v empty).
 * Blocks:  never.
 * Context: any.
 * Cost:    one load. */
RF_API int rf_pvec_peek(const rf_pvec *v, rf_val *out);

/* (conj v x): v with x at the end.
 * Returns: 0; *out is a new version holding one reference; v is unchanged.
 * Errors:  -EINVAL (NULL v or out), -ENOMEM (nothing made).
 * Blocks:  never.
 * Context: any.
 * Cost:    no allocation: a compare-and-swap on the shared tail (which claims the
 *          slot and takes the new version's one reference) and the new element written
 *          into it; if v's tail was extended already (by a conj on v or a later version
 *          of it, or v was popped), a copy of the tail. Every 32nd conj copies the full
 *          tail into a new leaf in the trie, copies the path to it (a 288-byte node per
 *          level, taking over the copied node's references, else a reference per shared
 *          child) and starts a new tail. */
RF_API int rf_pvec_conj(const rf_pvec *v, rf_val x, rf_pvec **out);

/* (assoc v i x), 0 <= i <= count (i == count appends, as Clojure's).
 * Returns: 0; *out a new version; v unchanged.
 * Errors:  -EINVAL (NULL v or out), -ERANGE (i > count), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    copies the path to i (a node per level, as conj's) and the tail; in the
 *          tail, the tail only. */
RF_API int rf_pvec_assoc(const rf_pvec *v, size_t i, rf_val x, rf_pvec **out);

/* (pop v): v without its last element.
 * Returns: 0; *out a new version; v unchanged.
 * Errors:  -EINVAL (NULL v or out), -ERANGE (v empty: "Can't pop empty vector"),
 *          -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    one allocation and a reference to the shared tail; every 32nd pop also the
 *          path to the last leaf, of which a copy becomes the tail. */
RF_API int rf_pvec_pop(const rf_pvec *v, rf_pvec **out);

/* conj as an update function (base.h's shape), for references that own their vectors:
 * (swap! a conj x) is rf_atom_swap(a, rf_pvec_conj_op, x, NULL), (alter r conj x) is
 * rf_ref_alter(r, rf_pvec_conj_op, x, NULL). *out is a new version; v is left to the
 * reference, which releases it through rf_coll_release when no reader can see it.
 * Returns: 0; *out is RF_NIL on an error.
 * Errors:  -EINVAL (v is RF_NIL), -ENOMEM. Precondition: v holds an rf_pvec * (or is
 *          RF_NIL) and out is not NULL (a reference always passes one).
 * Blocks:  never.
 * Context: any.
 * Cost:    as rf_pvec_conj. */
RF_API int rf_pvec_conj_op(rf_val v, rf_val x, rf_val *out);

/* (subvec v start end): elements [start, end) as a vector sharing v's nodes (and keeping
 * all of them alive, as Clojure's does). conj on it writes at its end.
 * Returns: 0; *out a new version.
 * Errors:  -EINVAL (NULL v or out), -ERANGE (start > end, end > count), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    O(1): one allocation. */
RF_API int rf_pvec_subvec(const rf_pvec *v, size_t start, size_t end, rf_pvec **out);

/* Iteration, a run at a time: *run points at elements i .. i + *len - 1, contiguous (up
 * to 32, ending where a leaf ends), borrowed from v.
 *
 *     for (size_t i = 0; i < rf_pvec_count(v); i += len)
 *             rf_pvec_chunk(v, i, &run, &len), use(run, len);
 *
 * Returns: 0.
 * Errors:  -EINVAL (NULL v, run or len), -ERANGE (i >= count).
 * Blocks:  never.
 * Context: any.
 * Cost:    as nth, once per run. */
RF_API int rf_pvec_chunk(const rf_pvec *v, size_t i, const rf_val **run, size_t *len);

/* A reducible over v's elements in order (fold.h): (r/fold f v) is
 * rf_fold(rf_r_pvec(v), f, init, f, &out); (reduce f init v) is rf_r_reduce. Each leaf
 * is read in place by the fold's loops. v must stay held until the fold returns; NULL
 * folds as empty.
 * Returns: the reducible, by value.
 * Errors:  none (the fold reports its own).
 * Blocks:  never.
 * Context: any.
 * Cost:    fold's own, plus a trie walk per 32 elements. */
RF_API rf_reducible rf_r_pvec(const rf_pvec *v);

/* (transient v): a transient holding v's elements; v unchanged.
 * Returns: 0; *out belongs to the caller (one owner at a time).
 * Errors:  -EINVAL (NULL v or out), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    O(1) (a subvec view is copied: O(count)). */
RF_API int rf_pvec_transient(const rf_pvec *v, rf_tvec **out);

/* (conj! t x): add x at the end of t, in place.
 * Returns: 0.
 * Errors:  -EINVAL (NULL t), -ENOMEM (t unchanged).
 * Blocks:  never.
 * Context: any, by t's one owner at a time.
 * Cost:    a store; every 32nd, the path to the new leaf, copied only where t does not
 *          own it yet. */
RF_API int rf_tvec_conj(rf_tvec *t, rf_val x);

/* (assoc! t i x), 0 <= i <= count (i == count appends), in place.
 * Returns: 0.
 * Errors:  -EINVAL (NULL t), -ERANGE (i > count), -ENOMEM (t unchanged).
 * Blocks:  never.
 * Context: any, by t's one owner at a time.
 * Cost:    the path to i, copied only where t does not own it yet. */
RF_API int rf_tvec_assoc(rf_tvec *t, size_t i, rf_val x);

/* (pop! t): drop t's last element, in place.
 * Returns: 0.
 * Errors:  -EINVAL (NULL t), -ERANGE (t empty), -ENOMEM (t unchanged).
 * Blocks:  never.
 * Context: any, by t's one owner at a time.
 * Cost:    a store; every 32nd, the path to the last leaf, likewise. */
RF_API int rf_tvec_pop(rf_tvec *t);

/* (nth t i): *out = element i, borrowed from t (valid until t changes).
 * Returns: 0.
 * Errors:  -EINVAL (NULL t or out), -ERANGE (i >= count).
 * Blocks:  never.
 * Context: any, by t's one owner at a time.
 * Cost:    as rf_pvec_nth. */
RF_API int rf_tvec_nth(const rf_tvec *t, size_t i, rf_val *out);

/* (count t).
 * Returns: the count; 0 for NULL.
 * Errors:  none.
 * Blocks:  never.
 * Context: any, by t's one owner at a time.
 * Cost:    O(1). */
RF_API size_t rf_tvec_count(const rf_tvec *t);

/* (persistent! t): the vector t holds; t is consumed (freed) on success, and the nodes
 * it owned are frozen.
 * Returns: 0; *out holds one reference.
 * Errors:  -EINVAL (NULL t or out), -ENOMEM (t still usable).
 * Blocks:  never.
 * Context: any.
 * Cost:    one allocation: the transient's tail is copied into the version's tail leaf. */
RF_API int rf_tvec_persistent(rf_tvec *t, rf_pvec **out);

/* Drop a transient without making a vector, releasing the elements it holds (with
 * owning ops) and the nodes it owns or shares.
 * Returns: nothing; NULL is a no-op.
 * Errors:  none. Precondition: t is not used afterwards.
 * Blocks:  never.
 * Context: any, by t's owner.
 * Cost:    a free per node t owns, a reference drop per node it shares. */
RF_API void rf_tvec_free(rf_tvec *t);

#ifdef __cplusplus
}
#endif
#endif
