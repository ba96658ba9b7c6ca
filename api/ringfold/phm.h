/* ringfold/phm.h: persistent hash maps (Clojure's PersistentHashMap, a hash array mapped
 * trie) and their transients.
 *
 *   Clojure                          ringfold
 *   {}  /  (hash-map)                rf_phm_new(NULL, &m)   (integer keys; coll.h for others)
 *   (assoc m k v)                    rf_phm_assoc(m, k, v, &m2)
 *   (dissoc m k)                     rf_phm_dissoc(m, k, &m2)
 *   (get m k not-found)              rf_phm_get(m, k, not_found, &v)
 *   (contains? m k)                  rf_phm_contains(m, k)
 *   (count m)                        rf_phm_count(m)
 *   (update m k (fnil f 0) x)        rf_phm_update(m, k, f, x, &m2)   (absent: f(RF_NIL, x))
 *   (merge a b)                      rf_phm_merge(a, b, &m2)          (b's values win)
 *   (seq m) / (reduce-kv f init m)   rf_phm_iter_init + rf_coll_iter_next
 *   (transient m) (assoc! t k v) (dissoc! t k) (persistent! t)
 *                                    rf_phm_transient / rf_thm_assoc / rf_thm_dissoc /
 *                                    rf_thm_persistent
 *   NullPointerException             -EINVAL (a NULL map or out)
 *
 * A map is an immutable version (coll.h): every function leaves its input as it was;
 * those that "change" it return a new version through `out`, holding one reference (when
 * nothing changes, as dissoc of an absent key, *out is a new version over the input's
 * nodes where Clojure returns the same map: an owning reference takes a result equal to
 * the value it holds as that same reference, atom.h). Keys are hashed and compared
 * through the map's ops (coll.h); values read are borrowed from the version: valid while
 * it is held.
 *
 * Layout. A trie over the key's 64-bit hash, 5 bits per level, of bitmap-indexed nodes
 * that keep entries and child pointers in two packed arrays (a data bitmap and a node
 * bitmap: the CHAMP variant of Clojure's BitmapIndexedNode), and collision nodes for keys
 * whose whole 64-bit hashes are equal (a list, as Clojure's HashCollisionNode). There is
 * no ArrayNode: with the bitmaps split, a full node costs one popcount more per level
 * than Clojure's ArrayNode would, and one node kind fewer to copy and count.
 *
 * Transients change the nodes they own in place; one owner at a time, as pvec.h's.
 * Versions may be read and derived from by any number of threads at once.
 */
#ifndef RINGFOLD_PHM_H
#define RINGFOLD_PHM_H

#include "ringfold/base.h"
#include "ringfold/coll.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_phm rf_phm;
typedef struct rf_thm rf_thm;

/* Every function below never blocks and may be called from any context (fiber, plain
 * thread, fork/join task, transaction, agent action). A NULL map, transient, function or
 * out-pointer is -EINVAL. Costs count levels of the trie: about log32(count), 4 to 5 at a million
 * random keys; a level is one node. */

/* {}: an empty map; ops NULL for integer keys and borrowed values (coll.h).
 * Returns: 0; *out holds one reference.
 * Errors:  -EINVAL (out NULL, ops too small or owning by halves), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    one allocation. */
RF_API int rf_phm_new(const rf_coll_ops *ops, rf_phm **out);

/* One more / one fewer reference to m; the last release frees m and every node no
 * other version shares, releasing their keys and values (with owning ops).
 * Returns: nothing; NULL is a no-op.
 * Errors:  none. Precondition: the caller holds a reference to m.
 * Blocks:  never.
 * Context: any.
 * Cost:    one atomic add (a free walks the nodes it frees). */
RF_API void rf_phm_retain(rf_phm *m);
RF_API void rf_phm_release(rf_phm *m);

/* (count m).
 * Returns: the count; 0 for NULL.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    O(1). */
RF_API size_t rf_phm_count(const rf_phm *m);

/* (get m k not-found): *out = k's value (borrowed from m), or not_found.
 * Returns: 0.
 * Errors:  -EINVAL (NULL m or out).
 * Blocks:  never.
 * Context: any.
 * Cost:    a hash; per level a popcount and one load (a child's bitmaps are kept beside
 *          the pointer to it); one key comparison (a collision node: one per key). */
RF_API int rf_phm_get(const rf_phm *m, rf_val key, rf_val not_found, rf_val *out);

/* (contains? m k).
 * Returns: whether m has k; false for NULL.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    as get. */
RF_API bool rf_phm_contains(const rf_phm *m, rf_val key);

/* (assoc m k v): m with k mapped to v.
 * Returns: 0; *out a new version holding one reference, never m itself
 *          (when v already is k's value: one over m's nodes).
 * Errors:  -EINVAL (NULL m or out), -ENOMEM (nothing made).
 * Blocks:  never.
 * Context: any.
 * Cost:    copies the path to k (a node per level of at most 64 words, each copy taking
 *          over the copied node's references with one compare-and-swap, else a
 *          reference on each child and entry it shares). */
RF_API int rf_phm_assoc(const rf_phm *m, rf_val key, rf_val val, rf_phm **out);

/* (dissoc m k): m without k.
 * Returns: 0; *out a new version holding one reference, never m itself
 *          (when k is absent: one over m's nodes).
 * Errors:  -EINVAL (NULL m or out), -ENOMEM (nothing made).
 * Blocks:  never.
 * Context: any.
 * Cost:    copies the path to k, as assoc; a node left with one entry pulls the entry
 *          up (the trie stays canonical). */
RF_API int rf_phm_dissoc(const rf_phm *m, rf_val key, rf_phm **out);

/* (update m k f x): assoc k to f(old, x, &new), where old is k's value or RF_NIL if k is
 * absent (Clojure's (fnil f 0) for integer values).
 * Returns: 0; *out a new version.
 * Errors:  f's own negative code (nothing made), -EINVAL (NULL m, f or out), -ENOMEM.
 * Blocks:  never (unless f does).
 * Context: any.
 * Cost:    a get, f, an assoc. */
RF_API int rf_phm_update(const rf_phm *m, rf_val key, rf_update_fn f, rf_val arg, rf_phm **out);

/* (swap! a update k (fnil inc 0)) as an update function (base.h's shape), for references
 * that own their maps (through rf_coll_release): rf_atom_swap(a, rf_phm_inc_op, k, NULL).
 * *out is a new version; m is left to the reference.
 * Returns: 0; *out is RF_NIL on an error.
 * Errors:  -EINVAL (m is RF_NIL), -ENOMEM. Precondition: m holds an rf_phm * (or is
 *          RF_NIL) and out is not NULL (a reference always passes one).
 * Blocks:  never.
 * Context: any.
 * Cost:    as rf_phm_update. */
RF_API int rf_phm_inc_op(rf_val m, rf_val key, rf_val *out);

/* (swap! a dissoc k) as an update function, for references that own their maps:
 * rf_atom_swap(a, rf_phm_dissoc_op, k, NULL). *out is a new version; m is left to the
 * reference.
 * Returns: 0; *out is RF_NIL on an error.
 * Errors:  -EINVAL (m is RF_NIL), -ENOMEM. Precondition: m holds an rf_phm * (or is
 *          RF_NIL) and out is not NULL.
 * Blocks:  never.
 * Context: any.
 * Cost:    as rf_phm_dissoc. */
RF_API int rf_phm_dissoc_op(rf_val m, rf_val key, rf_val *out);

/* (merge a b): a with every entry of b, b's value winning.
 * Returns: 0; *out a new version, never a or b itself (when one is empty:
 *          one over the other's nodes).
 * Errors:  -EINVAL (NULL a, b or out; a and b made with different ops), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    count(b) assoc! into a transient of a. */
RF_API int rf_phm_merge(const rf_phm *a, const rf_phm *b, rf_phm **out);

/* (seq m): start iterating m with the caller's iterator it (coll.h), in hash order
 * (unspecified, the same for a version every time).
 * Returns: nothing; NULL m iterates nothing, NULL it is a no-op.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    O(1). */
RF_API void rf_phm_iter_init(const rf_phm *m, rf_coll_iter *it);

/* (transient m): a transient holding m's entries; m unchanged.
 * Returns: 0; *out belongs to the caller (one owner at a time).
 * Errors:  -EINVAL (NULL m or out), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    O(1). */
RF_API int rf_phm_transient(const rf_phm *m, rf_thm **out);

/* (assoc! t k v): map k to v in t, in place.
 * Returns: 0.
 * Errors:  -EINVAL (NULL t), -ENOMEM (t unchanged).
 * Blocks:  never.
 * Context: any, by t's one owner at a time.
 * Cost:    the path to k is copied only where t does not own it yet; owned nodes take
 *          inserts in place (they are made with spare room). */
RF_API int rf_thm_assoc(rf_thm *t, rf_val key, rf_val val);

/* (dissoc! t k): remove k from t, in place (an absent k changes nothing).
 * Returns: 0.
 * Errors:  -EINVAL (NULL t), -ENOMEM (t unchanged).
 * Blocks:  never.
 * Context: any, by t's one owner at a time.
 * Cost:    as assoc!. */
RF_API int rf_thm_dissoc(rf_thm *t, rf_val key);

/* (get t k not-found): *out = k's value (borrowed from t, valid until t changes), or
 * not_found.
 * Returns: 0.
 * Errors:  -EINVAL (NULL t or out).
 * Blocks:  never.
 * Context: any, by t's one owner at a time.
 * Cost:    as rf_phm_get. */
RF_API int rf_thm_get(const rf_thm *t, rf_val key, rf_val not_found, rf_val *out);

/* (count t).
 * Returns: the count; 0 for NULL.
 * Errors:  none.
 * Blocks:  never.
 * Context: any, by t's one owner at a time.
 * Cost:    O(1). */
RF_API size_t rf_thm_count(const rf_thm *t);

/* (persistent! t): the map t holds; t is consumed (freed) on success and the nodes it
 * owned are frozen.
 * Returns: 0; *out holds one reference.
 * Errors:  -EINVAL (NULL t or out), -ENOMEM (t still usable).
 * Blocks:  never.
 * Context: any, by t's one owner at a time.
 * Cost:    one allocation. */
RF_API int rf_thm_persistent(rf_thm *t, rf_phm **out);

/* Drop a transient without making a map, releasing the keys and values it holds (with
 * owning ops) and the nodes it owns or shares.
 * Returns: nothing; NULL is a no-op.
 * Errors:  none. Precondition: t is not used afterwards.
 * Blocks:  never.
 * Context: any, by t's one owner at a time.
 * Cost:    a free per node t owns, a reference drop per node it shares. */
RF_API void rf_thm_free(rf_thm *t);

#ifdef __cplusplus
}
#endif
#endif
