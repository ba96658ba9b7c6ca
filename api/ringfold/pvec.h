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
 * Layout and costs (n = count). A 32-way trie of 32-element leaves plus a tail of up to
 * 32 elements stored in the version itself, as Clojure's. nth: one step per level,
 * ceil(log32 n) - 1 levels (3 below 2^20, 4 below 2^25), no step for the tail. conj:
 * one allocation copying the tail (avg. 16 words); every 32nd conj also moves the tail
 * into the trie (a leaf and the path to it). assoc: copies the path (a 272-byte node per
 * level) and the version. Sharing is counted: each node copied takes a reference on each
 * of the up to 32 children or elements it shares (an atomic increment each), and the old
 * path gives them back when the old version is released. subvec is O(1) and keeps the
 * whole underlying vector alive, as Clojure's does.
 *
 * Transients: a transient owns the nodes it made (Clojure's edit token) and changes them
 * in place: conj! writes into the tail; no reference counting on the nodes it owns.
 * A transient is one owner's (not thread-safe: one thread or fiber at a time, as
 * Clojure's); rf_tvec_persistent freezes it in O(1) and consumes it.
 *
 * Contexts: every function may be called from any thread, fiber or fork/join task and
 * none blocks. Versions may be read and derived from concurrently.
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

/* [] with the given element ops (NULL: borrowed words). Returns 0, -EINVAL (out NULL),
 * -ENOMEM. */
RF_API int rf_pvec_new(const rf_coll_ops *ops, rf_pvec **out);

/* (vec xs): the n elements of xs, in order (built through a transient). Returns 0,
 * -EINVAL (out NULL, or xs NULL with n > 0), -ENOMEM. */
RF_API int rf_pvec_from(const rf_val *xs, size_t n, const rf_coll_ops *ops, rf_pvec **out);

/* One more / one fewer reference. NULL: no-op. */
RF_API void rf_pvec_retain(rf_pvec *v);
RF_API void rf_pvec_release(rf_pvec *v);

/* (count v): 0 for NULL, as (count nil). O(1). */
RF_API size_t rf_pvec_count(const rf_pvec *v);

/* (nth v i): *out = element i. Returns 0, -EINVAL (v or out NULL), -ERANGE (i >= count). */
RF_API int rf_pvec_nth(const rf_pvec *v, size_t i, rf_val *out);

/* (peek v): the last element. Returns 0, -EINVAL, -ERANGE (empty). */
RF_API int rf_pvec_peek(const rf_pvec *v, rf_val *out);

/* (conj v x), (assoc v i x) with 0 <= i <= count, (pop v). New version in *out (one
 * reference to the caller); v is unchanged. Return 0, -EINVAL (v or out NULL), -ERANGE
 * (assoc: i > count; pop: v empty), -ENOMEM (v unchanged, *out untouched). */
RF_API int rf_pvec_conj(const rf_pvec *v, rf_val x, rf_pvec **out);
RF_API int rf_pvec_assoc(const rf_pvec *v, size_t i, rf_val x, rf_pvec **out);
RF_API int rf_pvec_pop(const rf_pvec *v, rf_pvec **out);

/* conj as an update function (base.h's shape), for references that own their vectors:
 * (swap! a conj x) is rf_atom_swap(a, rf_pvec_conj_op, x, NULL), (alter r conj x) is
 * rf_ref_alter(r, rf_pvec_conj_op, x, NULL). *out is a new version; v is left to the
 * reference, which releases it through rf_coll_release when no reader can see it. */
RF_API int rf_pvec_conj_op(rf_val v, rf_val x, rf_val *out);

/* (subvec v start end): elements [start, end) as a vector, in O(1), sharing v's nodes
 * (and keeping all of them alive). conj on it writes at its end, as Clojure's. Returns 0,
 * -EINVAL, -ERANGE (start > end or end > count). */
RF_API int rf_pvec_subvec(const rf_pvec *v, size_t start, size_t end, rf_pvec **out);

/* Iteration, a run at a time: *run points at elements i .. i + *len - 1 (contiguous, up
 * to 32, ending at a leaf's end), borrowed from v. Returns 0, -EINVAL, -ERANGE
 * (i >= count).
 *
 *     for (size_t i = 0; i < rf_pvec_count(v); i += len)
 *             rf_pvec_chunk(v, i, &run, &len), use(run, len);
 */
RF_API int rf_pvec_chunk(const rf_pvec *v, size_t i, const rf_val **run, size_t *len);

/* A reducible over v's elements in order (fold.h): rf_fold splits it into runs of leaves
 * and reads each leaf in place. v must stay held until the fold or reduce returns. A NULL
 * v folds as empty. */
RF_API rf_reducible rf_r_pvec(const rf_pvec *v);

/* (transient v): a transient with v's elements; v is unchanged. Returns 0, -EINVAL,
 * -ENOMEM. O(1) (a subvec view is copied: O(count)). */
RF_API int rf_pvec_transient(const rf_pvec *v, rf_tvec **out);

/* conj!, assoc! (0 <= i <= count), pop!, nth, count on a transient: as the persistent
 * forms, changing t in place. Return 0, -EINVAL (t NULL), -ERANGE, -ENOMEM (t unchanged). */
RF_API int rf_tvec_conj(rf_tvec *t, rf_val x);
RF_API int rf_tvec_assoc(rf_tvec *t, size_t i, rf_val x);
RF_API int rf_tvec_pop(rf_tvec *t);
RF_API int rf_tvec_nth(const rf_tvec *t, size_t i, rf_val *out);
RF_API size_t rf_tvec_count(const rf_tvec *t);

/* (persistent! t): the vector t holds, in *out; t is consumed (freed) on success. Returns
 * 0, -EINVAL, -ENOMEM (t still usable). rf_tvec_free drops a transient unused. */
RF_API int rf_tvec_persistent(rf_tvec *t, rf_pvec **out);
RF_API void rf_tvec_free(rf_tvec *t);

#ifdef __cplusplus
}
#endif
#endif
