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
 *   (seq m) / (reduce-kv f init m)   rf_phm_iter_init + rf_phm_iter_next
 *   (transient m) (assoc! t k v) (dissoc! t k) (persistent! t)
 *                                    rf_phm_transient / rf_thm_assoc / rf_thm_dissoc /
 *                                    rf_thm_persistent
 *   NullPointerException             -EINVAL (a NULL map or out)
 *
 * A map is an immutable version (coll.h): every function leaves its input as it was;
 * those that "change" it return a new version through `out`, holding one reference (when
 * nothing changes, as dissoc of an absent key, *out is the input with a new reference,
 * as Clojure returns the same map). Keys are hashed and compared through the map's ops
 * (coll.h); values read are borrowed from the version: valid while it is held.
 *
 * Layout and costs (n = count). A trie over the key's 64-bit hash, 5 bits per level
 * (about log32 n levels: 4 at a million keys), of bitmap-indexed nodes that keep
 * entries and child pointers in two packed arrays (a data bitmap and a node bitmap, as
 * the CHAMP variant of Clojure's BitmapIndexedNode), and collision nodes for keys whose
 * whole 64-bit hashes are equal (a linear list, as Clojure's HashCollisionNode). get: one
 * popcount and one load per level, one key comparison. assoc/dissoc: copies the path
 * (one node per level, at most 64 words each) and takes a reference on each child or
 * entry the copies share (an atomic increment each); a dissoc that leaves a node with one
 * entry pulls it up into the parent, so the trie stays as shallow as its keys allow.
 *
 * Transients change the nodes they own in place (nodes get spare room for in-place
 * inserts); one owner at a time, as pvec.h's.
 *
 * Contexts: any thread, fiber or fork/join task; nothing blocks. Versions may be read and
 * derived from concurrently.
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

/* {} with the given ops (NULL: integer keys, borrowed values). Returns 0, -EINVAL (out
 * NULL), -ENOMEM. */
RF_API int rf_phm_new(const rf_coll_ops *ops, rf_phm **out);

/* One more / one fewer reference. NULL: no-op. */
RF_API void rf_phm_retain(rf_phm *m);
RF_API void rf_phm_release(rf_phm *m);

/* (count m): 0 for NULL. O(1). */
RF_API size_t rf_phm_count(const rf_phm *m);

/* (get m k not-found): *out = k's value, or not_found if m has no k. Returns 0, -EINVAL
 * (m or out NULL). */
RF_API int rf_phm_get(const rf_phm *m, rf_val key, rf_val not_found, rf_val *out);

/* (contains? m k). false for NULL. */
RF_API bool rf_phm_contains(const rf_phm *m, rf_val key);

/* (assoc m k v), (dissoc m k). Return 0, -EINVAL (m or out NULL), -ENOMEM (m unchanged,
 * *out untouched). */
RF_API int rf_phm_assoc(const rf_phm *m, rf_val key, rf_val val, rf_phm **out);
RF_API int rf_phm_dissoc(const rf_phm *m, rf_val key, rf_phm **out);

/* (update m k f x): assoc k to f(old, x, &new) where old is k's value or RF_NIL if absent
 * (Clojure's (fnil f 0) when values are integers). f's negative code is returned and
 * nothing is made. Returns 0, f's code, -EINVAL (m, f or out NULL), -ENOMEM. */
RF_API int rf_phm_update(const rf_phm *m, rf_val key, rf_update_fn f, rf_val arg, rf_phm **out);

/* Update functions (base.h's shape) for references that own their maps (through
 * rf_coll_release): *out is a new version, m is left to the reference.
 *   (swap! a update k (fnil inc 0))   rf_atom_swap(a, rf_phm_inc_op, k, NULL)
 *   (swap! a dissoc k)                rf_atom_swap(a, rf_phm_dissoc_op, k, NULL)
 * Returns: 0, -EINVAL (m does not hold a map), -ENOMEM. */
RF_API int rf_phm_inc_op(rf_val m, rf_val key, rf_val *out);
RF_API int rf_phm_dissoc_op(rf_val m, rf_val key, rf_val *out);

/* (merge a b): a with every entry of b, b's value winning. Returns 0, -EINVAL (NULL, or
 * a and b made with different ops), -ENOMEM. Cost: b's count assocs into a transient of
 * a (a itself, referenced again, when b is empty; b when a is). */
RF_API int rf_phm_merge(const rf_phm *a, const rf_phm *b, rf_phm **out);

/* Iteration in hash order (unspecified, stable for a version). The iterator lives in the
 * caller's memory and borrows m: m must be held while it is used.
 *
 *     rf_phm_iter it;
 *     rf_phm_iter_init(m, &it);
 *     while (rf_phm_iter_next(&it, &k, &v)) use(k, v);
 */
typedef struct rf_phm_iter {
	uint64_t opaque_[32];
} rf_phm_iter;
RF_API void rf_phm_iter_init(const rf_phm *m, rf_phm_iter *it); /* NULL m: empty */
RF_API bool rf_phm_iter_next(rf_phm_iter *it, rf_val *key, rf_val *val);

/* (transient m). Returns 0, -EINVAL, -ENOMEM. O(1). */
RF_API int rf_phm_transient(const rf_phm *m, rf_thm **out);

/* assoc!, dissoc!, get, count on a transient. Return 0, -EINVAL (t NULL), -ENOMEM (t
 * unchanged). */
RF_API int rf_thm_assoc(rf_thm *t, rf_val key, rf_val val);
RF_API int rf_thm_dissoc(rf_thm *t, rf_val key);
RF_API int rf_thm_get(const rf_thm *t, rf_val key, rf_val not_found, rf_val *out);
RF_API size_t rf_thm_count(const rf_thm *t);

/* (persistent! t): the map in *out; t is consumed. Returns 0, -EINVAL, -ENOMEM (t still
 * usable). rf_thm_free drops a transient unused. */
RF_API int rf_thm_persistent(rf_thm *t, rf_phm **out);
RF_API void rf_thm_free(rf_thm *t);

#ifdef __cplusplus
}
#endif
#endif
