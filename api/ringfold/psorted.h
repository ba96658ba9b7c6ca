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

/* A key order: negative if a sorts before b, 0 if they are the same key, positive after.
 * Must be a total order, pure, callable from any thread. */
typedef int (*rf_compare_fn)(rf_val a, rf_val b, rf_val ctx);

/* (sorted-map-by cmp): empty. cmp NULL: signed integer order.
 * Returns: 0; *out holds one reference.
 * Errors:  -EINVAL (out NULL, ops too small), -ENOMEM.
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
 * Returns: 0; *out a new version holding one reference (m itself, one more reference,
 *          when v already is k's value).
 * Errors:  -EINVAL (NULL m or out), -ENOMEM (nothing made).
 * Blocks:  never.
 * Context: any.
 * Cost:    a comparison and a node copy per level, plus rotations. */
RF_API int rf_psorted_assoc(const rf_psorted *m, rf_val key, rf_val val, rf_psorted **out);

/* (dissoc m k): m without k.
 * Returns: 0; *out a new version holding one reference (m itself, one more reference,
 *          when k is absent).
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

/* Iteration in key order. The iterator lives in the caller's memory and borrows m,
 * which must stay held. */
typedef struct rf_psorted_iter {
	uint64_t opaque_[168];
} rf_psorted_iter;

/* (seq m): start iterating m from its first key.
 * Returns: nothing; NULL m iterates nothing, NULL it is a no-op.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    a descent to the first key, O(log count). */
RF_API void rf_psorted_iter_init(const rf_psorted *m, rf_psorted_iter *it);

/* (subseq m >= k): start iterating m from the first key not before k.
 * Returns: nothing; NULL m iterates nothing, NULL it is a no-op.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    a descent, a comparison per level. */
RF_API void rf_psorted_iter_from(const rf_psorted *m, rf_val key, rf_psorted_iter *it);

/* The next entry in key order: *key and *val (either may be NULL), borrowed from m.
 * Returns: true when it stored another entry; false at the end (or NULL it).
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    O(1) amortized per entry. */
RF_API bool rf_psorted_iter_next(rf_psorted_iter *it, rf_val *key, rf_val *val);

#ifdef __cplusplus
}
#endif
#endif
