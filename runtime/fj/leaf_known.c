/* runtime/fj/leaf_known.c: pipelines made only of ringfold's own integer functions, folded
 * with rf_add, compiled to one call-free loop (internal; no shared state).
 *
 * The maps rf_add, rf_inc, rf_dec and rf_mul are affine in two's-complement arithmetic
 * (mod 2^64), and so is any chain of them: y = A*x + B. The predicates rf_even and rf_odd
 * only read the low bit, and the low bit of A*x + B is (A & x ^ B) & 1, so a filter or a
 * remove after such maps keeps either every element, none, or the elements of one parity
 * of the source value x. The whole pipeline is then "keep x of parity p (or all, or
 * none), map A*x + B, sum", and the sum of a chunk is A * (sum of kept x) + B * (count
 * kept), exactly, since all of it is arithmetic mod 2^64: the loop only sums and counts
 * the kept elements, with no branch and no multiply per element, which the compiler
 * vectorizes. The result equals the per-element pipeline's bit for bit; no user function
 * is called, so nothing can fail.
 */
#include <stdbool.h>
#include <string.h>

#include "runtime/fj/reducible.h"
#include "runtime/fj/stream.h"

enum { KEEP_ALL = -1, KEEP_NONE = -2 }; /* else keep the x with (x & 1) == keep */

/* Fold the map f(., arg) into y = mul*x + add; false if f is not a known affine map. */
static bool compose_map(rf_update_fn f, rf_val arg, uint64_t *mul, uint64_t *add)
{
	uint64_t c;
	if (f == rf_mul) {
		*mul *= (uint64_t)arg;
		*add *= (uint64_t)arg;
		return true;
	}
	if (f == rf_add)
		c = (uint64_t)arg;
	else if (f == rf_inc)
		c = 1;
	else if (f == rf_dec)
		c = (uint64_t)-1;
	else
		return false;
	*add += c;
	return true;
}

/* Narrow *keep by "y has parity want", y = mul*x + add. */
static void compose_parity(uint64_t want, uint64_t mul, uint64_t add, int *keep)
{
	if (*keep == KEEP_NONE)
		return;
	if (!(mul & 1)) { /* y's parity is add's whatever x is */
		if ((add & 1) != want)
			*keep = KEEP_NONE;
		return;
	}
	int p = (int)((want ^ add) & 1); /* y has parity want iff x has parity p */
	if (*keep == KEEP_ALL)
		*keep = p;
	else if (*keep != p)
		*keep = KEEP_NONE;
}

typedef struct known_sums {
	uint64_t sum, count; /* of the kept x */
	uint64_t parity;     /* keep the x of this parity (known_block_parity only) */
} known_sums;

static inline __attribute__((always_inline)) void known_block_all(const void *p, size_t k, void *st)
{
	known_sums *s = st;
	uint64_t sum = 0;
	for (size_t j = 0; j < k; j++) {
		rf_val x;
		memcpy(&x, (const char *)p + j * sizeof(x), sizeof(x));
		sum += (uint64_t)x;
	}
	s->sum += sum;
	s->count += k;
}

static inline __attribute__((always_inline)) void known_block_parity(const void *p, size_t k,
                                                                     void *st)
{
	known_sums *s = st;
	uint64_t sum = 0, dropped = 0;
	for (size_t j = 0; j < k; j++) {
		rf_val x;
		memcpy(&x, (const char *)p + j * sizeof(x), sizeof(x));
		uint64_t drop = ((uint64_t)x ^ s->parity) & 1; /* 0 iff x has the kept parity */
		sum += (uint64_t)x & (drop - 1);
		dropped += drop;
	}
	s->sum += sum;
	s->count += k - dropped;
}

/* The kept elements of src[0..m) summed into *acc as mul*x + add each. */
static inline __attribute__((always_inline)) int known_kernel(const fold_ctx *cx, const void *src,
                                                              size_t m, rf_val *acc)
{
	const int keep = cx->known_keep;
	known_sums s = {0, 0, (uint64_t)keep};
	if (keep == KEEP_NONE)
		return 0;
	if (keep == KEEP_ALL)
		r_stream(src, m, &s, known_block_all);
	else
		r_stream(src, m, &s, known_block_parity);
	*acc = (rf_val)((uint64_t)*acc + cx->known_mul * s.sum + cx->known_add * s.count);
	return 0;
}

static int known_base(const fold_ctx *cx, const void *src, size_t m, rf_val *acc)
{
	return known_kernel(cx, src, m, acc);
}

#ifdef R_AVX2_CLONES
R_AVX2 static int known_avx2(const fold_ctx *cx, const void *src, size_t m, rf_val *acc)
{
	return known_kernel(cx, src, m, acc);
}
#endif

bool r_plan_known(fold_ctx *cx)
{
	const r_coll *c = cx->c;
	uint64_t mul = 1, add = 0;
	int keep = KEEP_ALL;
	if (cx->reducef != rf_add || c->kind == R_SOURCE)
		return false;
	for (int i = 0; i < c->nstages; i++) {
		const r_stage *s = &c->st[i];
		if (s->kind == R_MAP) {
			if (!compose_map(s->f, s->arg, &mul, &add))
				return false;
		} else if (s->kind == R_FILTER || s->kind == R_REMOVE) {
			if (s->f != rf_even && s->f != rf_odd)
				return false;
			uint64_t want = s->f == rf_odd; /* the parity the predicate is true for */
			compose_parity(s->kind == R_FILTER ? want : want ^ 1, mul, add, &keep);
		} else {
			return false;
		}
	}
	cx->known_mul = mul;
	cx->known_add = add;
	cx->known_keep = keep;
	cx->kernel = known_base;
#ifdef R_AVX2_CLONES
	if (r_avx2)
		cx->kernel = known_avx2;
#endif
	return true;
}
