/* ringfold/psorted.h: persistent sorted maps (Clojure's PersistentTreeMap, sorted-map).
 *
 *   Clojure                          ringfold
 *   (sorted-map)                     rf_psorted_new(NULL, 0, NULL, &m)   (integer keys, <)
 *   (sorted-map-by cmp)              rf_psorted_new(cmp, ctx, ops, &m)
 *   (assoc m k v), (dissoc m k)      rf_psorted_assoc(m, k, v, &m2), rf_psorted_dissoc(m, k, &m2)
 *   (get m k nf), (contains? m k)    rf_psorted_get(m, k, nf, &v), rf_psorted_contains(m, k)
 *   (count m)                        rf_psorted_count(m)
 *   (nth (seq m) i)                  rf_psorted_nth(m, i, &k, &v)        (O(log n))
 *   (seq m), (subseq m >= k)         rf_psorted_iter_init(m, &it) / rf_psorted_iter_from(m, k, &it)
 *   (transient m), assoc!, dissoc!   rf_psorted_transient / rf_tsorted_assoc / rf_tsorted_dissoc /
 *   persistent!                      rf_tsorted_persistent
 *   IndexOutOfBoundsException        -ERANGE
 *   NullPointerException             -EINVAL
 *
 * A sorted map is an immutable version like the other collections (coll.h: references,
 * element ownership through rf_coll_ops, rf_coll_release in atoms and refs). Keys are
 * ordered by cmp(a, b, ctx) (negative, zero, positive; NULL: signed integer order); the
 * ops' hash and eq are not used.
 *
 * Layout: a weight-balanced binary tree (Adams' trees, as Haskell's Data.Map: delta 3,
 * ratio 2), each node knowing its subtree's size, so nth is a descent. Height at most
 * about 2.4 log2(count). Changes copy the path (a node per level, each taking references
 * on its two children) and rebalance with rotations of the copies.
 *
 * Transients build a map in batches (as Clojure's transients, which its sorted maps do
 * not have): a transient belongs to one owner at a time, the nodes it makes or copies
 * are its own and change in place (an insert costs comparisons and rotations, no copy),
 * and persistent! freezes them into a version. The version the transient started from
 * never changes.
 *
 * Every function never blocks and may be called from any context. A NULL map or
 * out-pointer is -EINVAL (a NULL cmp is the integer order).
 */
#ifndef RINGFOLD_PSORTED_H
#define RINGFOLD_PSORTED_H

#include "ringfold/base.h"
#include "ringfold/coll.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_psorted rf_psorted;
typedef struct rf_tsorted rf_tsorted;

/* A key order: negative if a sorts before b, 0 if they are the same key, positive after.
 * Must be a total order, pure, callable from any thread. */
typedef int (*rf_compare_fn)(rf_val a, rf_val b, rf_val ctx);

/* (sorted-map-by cmp): empty. cmp NULL: signed integer order.
 * Returns: 0; *out holds one reference.
 * Errors:  -EINVAL (out NULL, ops too small or owning by halves), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    one allocation. */
RF_API int rf_psorted_new(rf_compare_fn cmp, rf_val ctx, const rf_coll_ops *ops, rf_psorted **out);

/* One more / one fewer reference to m; the last release frees m and every node no
 * other version shares, releasing their keys and values (with owning ops).
 * Returns: nothing; NULL is a no-op.
 * Errors:  none. Precondition: the caller holds a reference to m.
 * Blocks:  never.
 * Context: any.
 * Cost:    one atomic add (a free walks the nodes it frees). */
RF_API void rf_psorted_retain(rf_psorted *m);
RF_API void rf_psorted_release(rf_psorted *m);

/* (count m).
 * Returns: the count; 0 for NULL.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    O(1). */
RF_API size_t rf_psorted_count(const rf_psorted *m);

/* (get m k not-found): *out = k's value (borrowed from m) or not_found.
 * Returns: 0.
 * Errors:  -EINVAL (NULL m or out).
 * Blocks:  never.
 * Context: any.
 * Cost:    a comparison per level. */
RF_API int rf_psorted_get(const rf_psorted *m, rf_val key, rf_val not_found, rf_val *out);

/* (contains? m k).
 * Returns: whether m has k; false for NULL.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    as get. */
RF_API bool rf_psorted_contains(const rf_psorted *m, rf_val key);

/* (assoc m k v): m with k mapped to v.
 * Returns: 0; *out a new version holding one reference, never m itself
 *          (when v already is k's value: one over m's nodes).
 * Errors:  -EINVAL (NULL m or out), -ENOMEM (nothing made).
 * Blocks:  never.
 * Context: any.
 * Cost:    a comparison and a node copy per level, plus rotations. */
RF_API int rf_psorted_assoc(const rf_psorted *m, rf_val key, rf_val val, rf_psorted **out);

/* (dissoc m k): m without k.
 * Returns: 0; *out a new version holding one reference, never m itself
 *          (when k is absent: one over m's nodes).
 * Errors:  -EINVAL (NULL m or out), -ENOMEM (nothing made).
 * Blocks:  never.
 * Context: any.
 * Cost:    a comparison and a node copy per level, plus rotations. */
RF_API int rf_psorted_dissoc(const rf_psorted *m, rf_val key, rf_psorted **out);

/* (nth (seq m) i): the i-th entry in key order, *key and *val (either may be NULL),
 * borrowed from m.
 * Returns: 0.
 * Errors:  -EINVAL (NULL m), -ERANGE (i >= count).
 * Blocks:  never.
 * Context: any.
 * Cost:    a descent, O(log count). */
RF_API int rf_psorted_nth(const rf_psorted *m, size_t i, rf_val *key, rf_val *val);

/* (seq m): start iterating m with the caller's iterator it (coll.h), in key order from
 * its first key.
 * Returns: nothing; NULL m iterates nothing, NULL it is a no-op.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    a descent to the first key, O(log count). */
RF_API void rf_psorted_iter_init(const rf_psorted *m, rf_coll_iter *it);

/* (subseq m >= k): start iterating m from the first key not before k.
 * Returns: nothing; NULL m iterates nothing, NULL it is a no-op.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    a descent, a comparison per level. */
RF_API void rf_psorted_iter_from(const rf_psorted *m, rf_val key, rf_coll_iter *it);

/* (transient m): a transient holding m's entries; m unchanged.
 * Returns: 0; *out belongs to the caller (one owner at a time).
 * Errors:  -EINVAL (NULL m or out), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    O(1). */
RF_API int rf_psorted_transient(const rf_psorted *m, rf_tsorted **out);

/* (assoc! t k v): map k to v in t, in place.
 * Returns: 0.
 * Errors:  -EINVAL (NULL t), -ENOMEM (t holds the same entries as before).
 * Blocks:  never.
 * Context: any, by t's one owner at a time.
 * Cost:    a comparison per level; nodes on the path that t does not own yet are copied
 *          once, owned ones change in place (rotations included). */
RF_API int rf_tsorted_assoc(rf_tsorted *t, rf_val key, rf_val val);

/* (dissoc! t k): remove k from t (an absent k changes nothing).
 * Returns: 0.
 * Errors:  -EINVAL (NULL t), -ENOMEM (t unchanged).
 * Blocks:  never.
 * Context: any, by t's one owner at a time.
 * Cost:    a comparison per level; as rf_tsorted_assoc, nodes on the path that t does not
 *          own yet are copied once, owned ones change in place (rotations included). */
RF_API int rf_tsorted_dissoc(rf_tsorted *t, rf_val key);

/* (get t k not-found): *out = k's value (borrowed from t, valid until t changes), or
 * not_found.
 * Returns: 0.
 * Errors:  -EINVAL (NULL t or out).
 * Blocks:  never.
 * Context: any, by t's one owner at a time.
 * Cost:    as rf_psorted_get. */
RF_API int rf_tsorted_get(const rf_tsorted *t, rf_val key, rf_val not_found, rf_val *out);

/* (count t).
 * Returns: the count; 0 for NULL.
 * Errors:  none.
 * Blocks:  never.
 * Context: any, by t's one owner at a time.
 * Cost:    O(1). */
RF_API size_t rf_tsorted_count(const rf_tsorted *t);

/* (persistent! t): the map t holds; t is consumed (freed) on success and the nodes it
 * owned are frozen.
 * Returns: 0; *out holds one reference.
 * Errors:  -EINVAL (NULL t or out), -ENOMEM (t still usable).
 * Blocks:  never.
 * Context: any, by t's one owner at a time.
 * Cost:    one allocation, and a free per node t kept in reserve for rotations. */
RF_API int rf_tsorted_persistent(rf_tsorted *t, rf_psorted **out);

/* Drop a transient without making a map, releasing the keys and values it holds (with
 * owning ops) and the nodes it owns or shares.
 * Returns: nothing; NULL is a no-op.
 * Errors:  none. Precondition: t is not used afterwards.
 * Blocks:  never.
 * Context: any, by t's one owner at a time.
 * Cost:    a free per node t owns, a reference drop per node it shares. */
RF_API void rf_tsorted_free(rf_tsorted *t);

#ifdef __cplusplus
}
#endif
#endif
