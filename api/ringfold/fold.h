/* ringfold/fold.h: Clojure's reducers (clojure.core.reducers): fold and its transforms.
 *
 *   Clojure                                  ringfold
 *   (r/fold + numbers)                       rf_fold(numbers, rf_add, 0, rf_add, &sum)
 *   (r/fold n combinef reducef coll)         rf_fold_n(coll, n, combinef, init, reducef, &out)
 *                                            where init is the value of (combinef)
 *   (r/fold + (r/filter even? numbers))      rf_fold(rf_r_filter(numbers, even, 0), rf_add, 0,
 *                                                    rf_add, &sum)
 *   (r/map f coll), (r/filter p coll), (r/remove p coll), (r/mapcat f coll),
 *   (r/take-while p coll)                    rf_r_map, rf_r_filter, rf_r_remove, rf_r_mapcat,
 *                                            rf_r_take_while (each with a bound argument)
 *   (reduce f init coll) over a reducible    rf_r_reduce(coll, f, init, &out)
 *   an exception thrown by f                 f's negative return, returned by the fold
 *
 * A reducible (rf_reducible, a value in the caller's memory, copied freely) is a source
 * (an array of int64, of double, of any element type, an integer range, or a user
 * splittable source) plus up to RF_R_MAX_STAGES transforms. Transforms create no
 * intermediate arrays: each element flows through the stages into the reducing function
 * in one pass. They compose like Clojure's: rf_r_map(rf_r_filter(c, p, 0), f, 0) filters
 * then maps.
 *
 * fold splits the index range into chunks of at least n elements (default 512, Clojure's
 * n), reduces each chunk with reducef starting from `init` (the value of Clojure's
 * (combinef) with no arguments) and combines chunk results with combinef in index order:
 * combinef must be associative, need not be commutative. Splitting is lazy: chunks are
 * split off only when another worker of the pool is hungry, so a fold nobody helps costs
 * little more than a loop. A reducible with take-while folds serially on the caller, as
 * Clojure's does (r/take-while is a reducer, not a folder). So does one of at most n
 * elements.
 *
 * Functions have the base.h update shape: reducef(acc, x, &out), combinef(left, right,
 * &out), map f(x, arg, &out), predicates p(x, arg, &out) with *out != 0 for true (nil
 * and false are 0). `arg` is the value bound when the transform was made: closures in C
 * (rf_r_map(c, rf_add, 10) is (r/map #(+ % 10) c)). Elements of a double array travel
 * as their bits (rf_from_double / rf_to_double); elements of rf_r_elems as pointers.
 * User functions run on pool workers concurrently, in no particular order across chunks.
 *
 * Speed: the folds of rf_add, rf_max, rf_min over untransformed int64 arrays and of
 * rf_dadd over double arrays run a tight loop per chunk (no call per element). One or
 * two map/filter/remove stages run as one fused loop per chunk, the array read in place:
 * an element costs the calls of the stages it reaches, plus reducef's unless reducef is
 * rf_add, and nothing else. Longer chains and rf_r_block stages take blocks of 256
 * elements through one stage at a time (a call per element and stage; rf_r_block one per
 * block). Pipelines with mapcat or take-while, and rf_r_source, walk the stage list for
 * each element. rf_fold_range with an RF_FOLD_BODY leaf compiles the caller's own map,
 * filter and reduce into one loop: no call per element at all. So does a pipeline built
 * only of ringfold's own integer functions (maps rf_add, rf_inc, rf_dec, rf_mul; filters
 * and removes rf_even, rf_odd) reduced with rf_add, over any source but rf_r_source:
 * (r/fold + (r/map #(* 3 %) (r/filter even? xs))) written with rf_even and rf_mul runs
 * one call-free loop. Loops that call no user function take chunks of at least 4096
 * elements whatever n is (an element costs too little to split finer); the int64 ones
 * prefetch the page four ahead of the one they read (the hardware prefetchers stop at page
 * boundaries), and on x86-64 all but the sum use AVX2 where the CPU has it.
 */
#ifndef RINGFOLD_FOLD_H
#define RINGFOLD_FOLD_H

#include <string.h>

#include "ringfold/base.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RF_R_MAX_STAGES 8
#define RF_FOLD_DEFAULT_N 512

typedef struct rf_reducible {
	uint64_t opaque[48];
} rf_reducible;

/* Where a transform or a source hands elements on (opaque). */
typedef struct rf_emit rf_emit;

/* Hand v to the rest of the pipeline (from an rf_mapcat_fn or rf_source_fn).
 * Returns: 0 to go on; 1 when take-while ended the reduction (return it at once).
 * Errors:  -EINVAL (NULL e), a user function's negative code (return it at once).
 * Blocks:  never.
 * Context: inside the mapcat or source function that was handed e.
 * Cost:    the calls of the stages v reaches. */
RF_API int rf_emit_val(rf_emit *e, rf_val v);

/* mapcat's function: call rf_emit_val(e, y) for each y that x maps to, in order, and
 * return 0, or the first nonzero rf_emit_val result, or an error of its own. */
typedef int (*rf_mapcat_fn)(rf_val x, rf_val arg, rf_emit *e);

/* A user splittable source of n elements: emit elements lo..hi-1 of src, in order,
 * through rf_emit_val, returning as rf_mapcat_fn does. Called concurrently on disjoint
 * ranges. */
typedef int (*rf_source_fn)(rf_val src, size_t lo, size_t hi, rf_emit *e);

/* Sources: the array is read in place and must outlive the folds over it. */

/* A reducible over the int64 array a[0..n).
 * Returns: the reducible.
 * Errors:  none here; a fold over it returns -EINVAL for NULL a with n > 0.
 * Blocks:  never.
 * Context: any.
 * Cost:    a copy of the reducible (384 bytes). */
RF_API rf_reducible rf_r_int64(const int64_t *a, size_t n);

/* A reducible over the double array a[0..n) (elements travel as their bits).
 * Returns: the reducible.
 * Errors:  none here; a fold over it returns -EINVAL for NULL a with n > 0.
 * Blocks:  never.
 * Context: any.
 * Cost:    a copy of the reducible (384 bytes). */
RF_API rf_reducible rf_r_double(const double *a, size_t n);

/* A reducible over n elements of elem_size bytes at base; element i is &base[i].
 * Returns: the reducible.
 * Errors:  none here; a fold over it returns -EINVAL for NULL base or elem_size 0 with
 *          n > 0.
 * Blocks:  never.
 * Context: any.
 * Cost:    a copy of the reducible (384 bytes). */
RF_API rf_reducible rf_r_elems(const void *base, size_t n, size_t elem_size);

/* (range start end): start, start + 1, ... end - 1; empty when end <= start. May span
 * the whole of int64_t (at most 2^64 - 1 elements).
 * Returns: the reducible.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    a copy of the reducible (384 bytes). */
RF_API rf_reducible rf_r_range(int64_t start, int64_t end);

/* A user splittable source of n elements (see rf_source_fn).
 * Returns: the reducible.
 * Errors:  none here; a fold over it returns -EINVAL for NULL fn.
 * Blocks:  never.
 * Context: any.
 * Cost:    a copy of the reducible (384 bytes). */
RF_API rf_reducible rf_r_source(rf_source_fn fn, rf_val src, size_t n);

/* A source stored in runs of contiguous 8-byte values (a persistent vector's leaves,
 * pvec.h's rf_r_pvec): fn(src, i, &run) points *run at element i and returns how many
 * elements from i on lie contiguously there (at least 1 for i < n). Folds read the runs
 * in place, as they read an int64 array (the fused loops, no call per element but the
 * user functions'). Called concurrently on disjoint ranges. */
typedef size_t (*rf_run_fn)(rf_val src, size_t i, const rf_val **run);

/* A reducible of n elements stored in runs (see rf_run_fn).
 * Returns: the reducible.
 * Errors:  none here; a fold over it returns -EINVAL for NULL fn.
 * Blocks:  never.
 * Context: any.
 * Cost:    a copy of the reducible (384 bytes). */
RF_API rf_reducible rf_r_runs(rf_run_fn fn, rf_val src, size_t n);

/* Transforms: they compose, none copies elements. */

/* (r/map f c): each element x becomes f(x, arg).
 * Returns: the reducible with the stage appended.
 * Errors:  none here; a fold over it returns -EINVAL for NULL f, -E2BIG past
 *          RF_R_MAX_STAGES stages.
 * Blocks:  never.
 * Context: any.
 * Cost:    a copy of the reducible (384 bytes). */
RF_API rf_reducible rf_r_map(rf_reducible c, rf_update_fn f, rf_val arg);

/* (r/filter pred c): keep the elements x with pred(x, arg) true.
 * Returns: the reducible with the stage appended.
 * Errors:  none here; a fold over it returns -EINVAL for NULL pred, -E2BIG past
 *          RF_R_MAX_STAGES stages.
 * Blocks:  never.
 * Context: any.
 * Cost:    a copy of the reducible (384 bytes). */
RF_API rf_reducible rf_r_filter(rf_reducible c, rf_update_fn pred, rf_val arg);

/* (r/remove pred c): drop the elements x with pred(x, arg) true.
 * Returns: the reducible with the stage appended.
 * Errors:  none here; a fold over it returns -EINVAL for NULL pred, -E2BIG past
 *          RF_R_MAX_STAGES stages.
 * Blocks:  never.
 * Context: any.
 * Cost:    a copy of the reducible (384 bytes). */
RF_API rf_reducible rf_r_remove(rf_reducible c, rf_update_fn pred, rf_val arg);

/* (r/mapcat f c): each element x becomes the values f emits for it, in order.
 * Returns: the reducible with the stage appended.
 * Errors:  none here; a fold over it returns -EINVAL for NULL f, -E2BIG past
 *          RF_R_MAX_STAGES stages.
 * Blocks:  never.
 * Context: any.
 * Cost:    a copy of the reducible (384 bytes). */
RF_API rf_reducible rf_r_mapcat(rf_reducible c, rf_mapcat_fn f, rf_val arg);

/* (r/take-while pred c): the elements before the first x with pred(x, arg) false. A fold
 * over it runs serially on the caller, as Clojure's does.
 * Returns: the reducible with the stage appended.
 * Errors:  none here; a fold over it returns -EINVAL for NULL pred, -E2BIG past
 *          RF_R_MAX_STAGES stages.
 * Blocks:  never.
 * Context: any.
 * Cost:    a copy of the reducible (384 bytes). */
RF_API rf_reducible rf_r_take_while(rf_reducible c, rf_update_fn pred, rf_val arg);

/* (r/fold combinef reducef c) with n = RF_FOLD_DEFAULT_N (512).
 * Returns: 0 and the result in *out.
 * Errors:  -EINVAL (NULL combinef, reducef or out; a bad source or NULL transform
 *          function), -E2BIG (too many stages), the first negative code of a user
 *          function, the pools' start error, RF_ESHUTDOWN (rf_shutdown cancelled a
 *          fiber's wait).
 * Blocks:  until done: a plain thread futex-waits, a fiber parks, neither holding a pool
 *          worker; inside a pool task (a fold in a fold) it works in that pool.
 * Context: any.
 * Cost:    beyond the reduction, a fork per 32 to 64 chunks when nobody steals, plus one
 *          wake-up round trip to the pool when called from outside it. */
RF_API int rf_fold(rf_reducible c, rf_update_fn combinef, rf_val init, rf_update_fn reducef,
                   rf_val *out);

/* (r/fold n combinef reducef c): rf_fold with chunks of at least n elements.
 * Returns: 0 and the result in *out.
 * Errors:  as rf_fold; -EINVAL also for n == 0.
 * Blocks:  as rf_fold.
 * Context: any.
 * Cost:    as rf_fold. */
RF_API int rf_fold_n(rf_reducible c, size_t n, rf_update_fn combinef, rf_val init,
                     rf_update_fn reducef, rf_val *out);

/* A stage over a slice (no Clojure counterpart; for speed): fn rewrites xs[0..n) in
 * place and sets *kept to how many of the rewritten elements, now at xs[0..*kept), go on;
 * it may map, filter, or both, in one loop the compiler can inline and vectorize, where
 * rf_r_map and rf_r_filter cost an indirect call per element. fn returns 0 or a negative
 * code. Slices are up to 256 elements, handed over in index order within a chunk; fn
 * must be pure (as every fold function), since neighbouring elements are processed before
 * later stages see the first. */
typedef int (*rf_block_fn)(rf_val *xs, size_t n, rf_val arg, size_t *kept);

/* A stage running fn over slices of up to 256 elements (see rf_block_fn).
 * Returns: the reducible with the stage appended.
 * Errors:  none here; a fold over it returns -EINVAL for NULL fn, -E2BIG past
 *          RF_R_MAX_STAGES stages.
 * Blocks:  never.
 * Context: any.
 * Cost:    a copy of the reducible (384 bytes). */
RF_API rf_reducible rf_r_block(rf_reducible c, rf_block_fn fn, rf_val arg);

/* A range body (oneTBB's parallel_reduce body): reduce elements [lo, hi) of the
 * caller's data into *acc, which holds the accumulator so far (init for a fresh part).
 * The loop is the caller's own code, so the compiler inlines and vectorizes whatever it
 * calls; ringfold calls the body once per leaf. Returns 0 or a negative code. Called on
 * pool workers concurrently, on disjoint ranges: it must be pure but for *acc. */
typedef int (*rf_range_fn)(size_t lo, size_t hi, rf_val ctx, rf_val *acc);

#define RF_FOLD_RANGE_GRAIN 4096

/* Fold the index range [lo, hi) with body over leaves of at least grain indexes (0:
 * RF_FOLD_RANGE_GRAIN), split lazily on the fork/join pool as rf_fold is, and combine
 * the parts' results in index order with combinef (associative, not necessarily
 * commutative); every part starts from init, the identity of combinef.
 * Returns: 0 and *out.
 * Errors:  -EINVAL (NULL body, combinef or out; lo > hi); the first negative code of
 *          body or combinef; the pools' start error; RF_ESHUTDOWN (rf_shutdown
 *          cancelled a fiber's wait).
 * Blocks:  until done, as rf_fold (a fiber parks, a thread futex-waits).
 * Context: any.
 * Cost:    one body call per leaf and a fork per 32 to 64 leaves when nobody
 *          steals; a range of at most grain runs on the caller. */
RF_API int rf_fold_range(size_t lo, size_t hi, size_t grain, rf_range_fn body, rf_val ctx,
                         rf_update_fn combinef, rf_val init, rf_val *out);

/* Defines `static int name(size_t lo, size_t hi, rf_val ctx, rf_val *acc)`, a range
 * body over the array of elem_t that ctx points to (rf_from_ptr(array)): for each
 * element x with keep(x), acc = reduce(acc, map(x)). keep, map and reduce are the
 * caller's static inline functions or macros (rf_keep_all, rf_identity, rf_plus serve
 * where a stage is not wanted), so the whole leaf compiles to one loop:
 *
 *     static inline bool even(int64_t x) { return x % 2 == 0; }
 *     static inline int64_t times3(int64_t x) { return 3 * x; }
 *     RF_FOLD_BODY(sum_even_times3, int64_t, even, times3, rf_plus)
 *     ...
 *     rf_fold_range(0, n, 0, sum_even_times3, rf_from_ptr(xs), rf_add, 0, &sum);
 *
 * is (r/fold + (r/map #(* 3 %) (r/filter even? xs))). The loop reads the array a page
 * (RF_FOLD_PAGE bytes) at a time and first prefetches the page four ahead
 * (rf_fold_prefetch), as ringfold's own call-free loops do; it is unrolled four times
 * (a loop the compiler cannot vectorize then costs less loop overhead per element).
 * keep's result is taken as a 64-bit flag, the width of the accumulator: GCC does not
 * vectorize a 64-bit reduction guarded by a bool. Where RF_FOLD_BODY_CLONES is 1 (x86-64
 * built for a CPU without AVX2, GCC or Clang) the loop is compiled twice, as
 * <name>_rf_base and <name>_rf_avx2 (four 64-bit lanes, where the baseline has two and
 * lacks a 64-bit multiply and compare), and name calls the one the CPU runs
 * (__builtin_cpu_supports, a load and a test per leaf). Each compiled loop starts on a
 * 64-byte boundary, so that where it lands, and with it its speed, does not depend on
 * the code compiled around it. */
/* clang-format off */
/* The loop RF_FOLD_BODY compiles, a statement over lo, hi, ctx and acc; spelled out in each
 * clone (an inlined function would carry the baseline's code shape into the AVX2 clone,
 * where GCC 12 then does not vectorize it). */
#define RF_FOLD_BODY_LOOP_(elem_t, keep, map, reduce)                                      \
	do {                                                                               \
		const elem_t *xs = (const elem_t *)rf_to_ptr(ctx);                         \
		const size_t page =                                                        \
		    RF_FOLD_PAGE / sizeof(elem_t) ? RF_FOLD_PAGE / sizeof(elem_t) : 1;     \
		rf_val a = *acc;                                                           \
		for (size_t i = lo, end; i < hi; i = end) {                                \
			end = hi - i > page ? i + page : hi;                               \
			rf_fold_prefetch(&xs[i]);                                          \
			_Pragma("GCC unroll 4")                                            \
			for (size_t j = i; j < end; j++) {                                 \
				const rf_val kept = keep(xs[j]) != 0;                      \
				if (kept)                                                  \
					a = reduce(a, map(xs[j]));                         \
			}                                                                  \
		}                                                                          \
		*acc = a;                                                                  \
	} while (0)

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(__AVX2__)
#define RF_FOLD_BODY_CLONES 1
#define RF_FOLD_BODY(name, elem_t, keep, map, reduce)                                      \
	__attribute__((aligned(64))) static int name##_rf_base(size_t lo, size_t hi,       \
	                                                       rf_val ctx, rf_val *acc)    \
	{                                                                                  \
		RF_FOLD_BODY_LOOP_(elem_t, keep, map, reduce);                             \
		return 0;                                                                  \
	}                                                                                  \
	__attribute__((aligned(64), target("avx2"))) static int name##_rf_avx2(            \
	    size_t lo, size_t hi, rf_val ctx, rf_val *acc)                                 \
	{                                                                                  \
		RF_FOLD_BODY_LOOP_(elem_t, keep, map, reduce);                             \
		return 0;                                                                  \
	}                                                                                  \
	static int name(size_t lo, size_t hi, rf_val ctx, rf_val *acc)                     \
	{                                                                                  \
		return __builtin_cpu_supports("avx2") ? name##_rf_avx2(lo, hi, ctx, acc)   \
		                                      : name##_rf_base(lo, hi, ctx, acc);  \
	}
#else
#define RF_FOLD_BODY_CLONES 0
#define RF_FOLD_BODY(name, elem_t, keep, map, reduce)                                      \
	__attribute__((aligned(64))) static int name(size_t lo, size_t hi, rf_val ctx,     \
	                                             rf_val *acc)                          \
	{                                                                                  \
		RF_FOLD_BODY_LOOP_(elem_t, keep, map, reduce);                             \
		return 0;                                                                  \
	}
#endif
/* clang-format on */

/* The page RF_FOLD_BODY's loop reads at a time, in bytes: the span within which hardware
 * prefetchers follow a stream. */
#define RF_FOLD_PAGE 4096

/* How many pages ahead rf_fold_prefetch reaches: far enough that the page is in flight
 * before the loop gets there (one page ahead hides less of the restart), near enough to
 * stay within the fold's 4096-element leaves (eight pages of int64). */
#define RF_FOLD_AHEAD 4

/* Prefetch the page RF_FOLD_AHEAD ahead of p (p + RF_FOLD_AHEAD * RF_FOLD_PAGE), for a loop
 * reading an array forward a page at a time: the hardware prefetchers stop at each page
 * boundary, and this hides the restart (the TLB miss and the first demand misses of the
 * next page). Never faults, whatever lies there.
 * Returns: nothing.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    one prefetch instruction (none where the compiler has no prefetch builtin). */
static inline void rf_fold_prefetch(const void *p)
{
#if defined(__GNUC__) || defined(__clang__)
	__builtin_prefetch((const void *)((uintptr_t)p + RF_FOLD_AHEAD * RF_FOLD_PAGE));
#else
	(void)p;
#endif
}

/* RF_FOLD_BODY's keep stage that keeps every element.
 * Returns: 1.
 * Errors:  none.
 * Blocks:  never.
 * Context: any (a macro: compiled into the caller's leaf).
 * Cost:    none. */
#define rf_keep_all(x) ((void)(x), 1)

/* RF_FOLD_BODY's map stage that maps an element to itself.
 * Returns: x.
 * Errors:  none.
 * Blocks:  never.
 * Context: any (a macro: compiled into the caller's leaf).
 * Cost:    none. */
#define rf_identity(x) (x)

/* RF_FOLD_BODY's reduce step for a sum: (+ a y).
 * Returns: a + y, as an rf_val (wraps as int64 addition does in two's complement).
 * Errors:  none.
 * Blocks:  never.
 * Context: any (a macro: compiled into the caller's leaf).
 * Cost:    one add. */
#define rf_plus(a, y) ((a) + (rf_val)(y))

/* (reduce f init c) over a reducible: serial, on the caller.
 * Returns: 0 and the result in *out.
 * Errors:  -EINVAL (NULL f or out; a bad source or NULL transform function), -E2BIG (too
 *          many stages), f's or a stage's negative code.
 * Blocks:  never (but for what the user functions do).
 * Context: any.
 * Cost:    the calls of the stages and of f per element. */
RF_API int rf_r_reduce(rf_reducible c, rf_update_fn f, rf_val init, rf_val *out);

/* A double as a value: its 64 bits, unchanged (rf_to_double gives it back).
 * Returns: the value holding d's bits.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    a register move. */
static inline rf_val rf_from_double(double d)
{
	rf_val v;
	memcpy(&v, &d, sizeof(v));
	return v;
}
/* The double whose bits a value holds (the inverse of rf_from_double).
 * Returns: the double.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    a register move. */
static inline double rf_to_double(rf_val v)
{
	double d;
	memcpy(&d, &v, sizeof(d));
	return d;
}

/* The double sum, a ready-made reducef/combinef: *out = acc + x as doubles.
 * Returns: 0.
 * Errors:  none; out must not be NULL (a fold never passes NULL).
 * Blocks:  never.
 * Context: any.
 * Cost:    one addition. */
RF_API int rf_dadd(rf_val acc, rf_val x, rf_val *out);

/* NUMA: node-partitioned input. Fill the memory in place (rf_pmap, or a fold over
 * rf_r_range writing each index, keeps each part's writes on its node), then fold
 * rf_r_numa(rf_r_int64(a, n), layout): each node's pool folds its own part and the parts'
 * results are combined in order. */
#define RF_FOLD_MAX_NODES 64
typedef struct rf_numa_layout {
	int nodes;
	size_t start[RF_FOLD_MAX_NODES + 1]; /* part k is [start[k], start[k+1]) */
} rf_numa_layout;

/* Zeroed memory for n elements of elem_size bytes, cut into one contiguous part per NUMA
 * node (sized by the node's worker count, cut on page boundaries), each part first
 * touched by its own node's workers so its pages live on that node.
 * Returns: 0, *out the memory and *layout the cuts (element indexes).
 * Errors:  -EINVAL (n or elem_size 0, n * elem_size overflows, NULL layout or out), -ENOMEM,
 *          the pools' start error.
 * Blocks:  while the pools touch the pages.
 * Context: plain thread or fiber.
 * Cost:    an mmap and a page fault per page. */
RF_API int rf_fold_numa_alloc(size_t n, size_t elem_size, rf_numa_layout *layout, void **out);

/* Free rf_fold_numa_alloc's memory (the same n and elem_size).
 * Returns: nothing.
 * Errors:  none; NULL p, elem_size 0 or an overflowing n * elem_size is a no-op.
 * Blocks:  never.
 * Context: any.
 * Cost:    an munmap. */
RF_API void rf_fold_numa_free(void *p, size_t n, size_t elem_size);

/* c folded part by part on each node's pool, as layout cuts it.
 * Returns: the reducible.
 * Errors:  none here; a fold over it returns -EINVAL for NULL layout or one that does
 *          not match the nodes and c's count.
 * Blocks:  never.
 * Context: any.
 * Cost:    a copy of the reducible (384 bytes). */
RF_API rf_reducible rf_r_numa(rf_reducible c, const rf_numa_layout *layout);

#ifdef __cplusplus
}
#endif
#endif
