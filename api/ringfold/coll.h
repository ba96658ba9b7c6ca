/* ringfold/coll.h: what the persistent collections (pvec.h, phm.h, psorted.h) share: how
 * they hash, compare and own the values they hold, the release function that lets an
 * atom, a ref or a promise own a collection, and the maps' iterator.
 *
 * Collections are values. A collection (rf_pvec *, rf_phm *) is an immutable version:
 * every "change" (conj, assoc, dissoc, pop) returns a new version and leaves the old one
 * as it was. Versions share structure (nodes) and count references to it: a version lives
 * while anyone holds it (rf_coll_retain / rf_pvec_retain / rf_phm_retain: one count each)
 * and its memory returns when the last holder lets go (..._release). A function that
 * returns a version through `out` hands the caller one reference. Reading a version
 * (nth, get, count, iterate, fold) needs a reference held by someone for the whole read;
 * any number of threads may read and derive from one version at once, without locks.
 *
 * Putting a collection in a reference: store rf_from_ptr(v) and give the reference
 * rf_coll_release as its release function:
 *
 *     rf_atom_new_owning(rf_from_ptr(m), rf_coll_release, 0, &counters);
 *     rf_atom_swap(counters, my_assoc, key, NULL);  // my_assoc: rf_phm_assoc(old, ...)
 *
 * The atom then takes the reference held in init and in each swap result, and gives up
 * the replaced versions after its grace period (atom.h); a swap that loses its CAS
 * releases its unused result. Readers wrap deref and use in a read section (atom.h).
 *
 * Elements. A collection stores 64-bit rf_val elements (a map: keys and values). Given
 * no ops (NULL), elements are plain words: integers, or pointers the collection borrows
 * (the caller keeps what they point to alive for as long as any version may hold them).
 * With an rf_coll_ops whose retain/release are set, the collection owns its elements: it
 * calls retain(x, ctx) for each reference it keeps and release(x, ctx) when such a
 * reference goes: x is held while any version can reach it. A node copied by a
 * persistent change hands its references to the copy rather than taking new ones, so x
 * may be released later than the last version reaching it, while an older version that
 * shared that node is still held (at most one newer copy of each of its nodes is kept).
 * retain and release are set together or not at all (key_retain and key_release too):
 * versions share their elements, so one that releases must count each reference; ops
 * with only one of a pair are -EINVAL.
 * rf_coll_nested makes a vector or map of collections (values are rf_pvec * / rf_phm *,
 * held by reference).
 *
 * Keys of a map are hashed with ops->hash and compared with ops->eq; NULL: rf_hash_int
 * and word equality (integers, or pointers compared by identity). rf_coll_str hashes and
 * compares C strings (keys are const char *, borrowed). hash and eq must be pure and
 * agree (eq(a, b) implies hash(a) == hash(b)); they may be called from any thread.
 *
 * An ops struct is read by every version made from it: it must outlive them all (a
 * static const is the usual). Two collections meet (rf_phm_merge) only with the same ops.
 * Its size field comes first, as in every struct the caller fills (base.h): set it to
 * sizeof(rf_coll_ops) or start from rf_coll_ops_default(). This is the struct's first
 * version, so a smaller size is -EINVAL.
 */
#ifndef RINGFOLD_COLL_H
#define RINGFOLD_COLL_H

#include "ringfold/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_coll_ops {
	size_t size;                                /* sizeof(rf_coll_ops) (base.h) */
	uint64_t (*hash)(rf_val key, rf_val ctx);   /* NULL: rf_hash_int */
	bool (*eq)(rf_val a, rf_val b, rf_val ctx); /* NULL: a == b */
	void (*retain)(rf_val x, rf_val ctx);       /* values; NULL: borrowed */
	rf_release_fn release;                      /* values; NULL: borrowed */
	void (*key_retain)(rf_val key, rf_val ctx); /* map keys; NULL: borrowed */
	rf_release_fn key_release;
	rf_val ctx; /* the last argument of each */
} rf_coll_ops;

/* (hash n) of a long: the built-in hash of integer keys (a 64-bit mix of the word).
 * Returns: the hash; ctx is unused.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    a few multiplies. */
RF_API uint64_t rf_hash_int(rf_val key, rf_val ctx);

/* (hash s) of a string: the built-in hash of C-string keys (FNV-1a over the bytes of the
 * NUL-terminated string key points to, then mixed).
 * Returns: the hash; 0 for a NULL pointer; ctx is unused.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    one pass over the string. */
RF_API uint64_t rf_hash_str(rf_val key, rf_val ctx);

/* (= a b) of two strings: equality of the C strings a and b point to.
 * Returns: true when both are the same pointer (NULL included) or equal strings; false
 *          when one is NULL or they differ. ctx is unused.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    one strcmp. */
RF_API bool rf_eq_str(rf_val a, rf_val b, rf_val ctx);

/* String keys (borrowed), word values (borrowed). */
RF_API extern const rf_coll_ops rf_coll_str;
/* Integer keys; values that are collections, owned (rf_coll_retain / rf_coll_release). */
RF_API extern const rf_coll_ops rf_coll_nested;

/* An rf_coll_ops with size set and every function NULL (integer keys, borrowed values),
 * to fill in.
 * Returns: the struct, by value.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    none to speak of. */
RF_API rf_coll_ops rf_coll_ops_default(void);

/* One more / one fewer reference to the collection (rf_pvec *, rf_phm * or rf_psorted *) held in v.
 * Both have the shapes rf_coll_ops and rf_release_fn take, so a collection can own
 * collections (rf_coll_nested) and an atom, ref or channel can own one.
 * Returns: nothing. RF_NIL is a no-op.
 * Errors:  none. Precondition: v holds a live collection (release: one the caller holds a
 *          reference to).
 * Blocks:  never.
 * Context: any.
 * Cost:    one atomic add; the last release frees the version and every node no other
 *          version shares (and releases their elements). */
RF_API void rf_coll_retain(rf_val v, rf_val ctx);
RF_API void rf_coll_release(rf_val v, rf_val ctx);

/* Iterating a map (rf_phm *: rf_phm_iter_init, in hash order; rf_psorted *:
 * rf_psorted_iter_init or rf_psorted_iter_from, in key order). The iterator lives in the
 * caller's memory and borrows the map, which must stay held while it is used; the map's
 * init function starts it, rf_coll_iter_next steps it.
 *
 *     rf_coll_iter it;
 *     for (rf_phm_iter_init(m, &it); rf_coll_iter_next(&it, &k, &v);)
 *             use(k, v);
 */
typedef struct rf_coll_iter {
	uint64_t opaque_[168];
} rf_coll_iter;

/* The next entry of the iteration it holds: *key and *val (either may be NULL), borrowed
 * from the map.
 * Returns: true when it stored another entry; false at the end (or NULL it).
 * Errors:  none. Precondition: it was started by a map's init function.
 * Blocks:  never.
 * Context: any.
 * Cost:    O(1) amortized per entry. */
RF_API bool rf_coll_iter_next(rf_coll_iter *it, rf_val *key, rf_val *val);

#ifdef __cplusplus
}
#endif
#endif
