/* tests/fold/fold_fns.h: functions the fold tests share.
 *  - even, below: the predicates of the tests' filter and take-while stages.
 *  - the concatenation monoid, packed as (hash of the sequence, its length).
 *    Associative, not commutative: a fold that reorders chunks or elements changes the
 *    hash, one that only regroups them does not.
 *  - each_clone: a test body run on both clones of the call-free loops. */
#ifndef RF_TESTS_FOLD_FNS_H
#define RF_TESTS_FOLD_FNS_H

#include <stdint.h>

#include "ringfold.h"
#include "runtime/fj/stream.h"

/* body(arg) on the baseline clones of the call-free loops, then on the ones r_plan picks
 * for this CPU (runtime/fj/stream.h). No other thread may fold meanwhile. */
static inline void each_clone(void (*body)(const void *arg), const void *arg)
{
#ifdef R_AVX2_CLONES
	bool have = r_avx2;
	r_avx2 = false;
	body(arg);
	r_avx2 = have;
#endif
	body(arg);
}

static inline int even(rf_val x, rf_val arg, rf_val *out)
{
	*out = (x & 1) == 0;
	return 0;
}

static inline int below(rf_val x, rf_val limit, rf_val *out)
{
	*out = x < limit;
	return 0;
}

#define LEN_BITS 20
#define HASH_MASK ((1ULL << 43) - 1)

static inline uint64_t pow_b(uint64_t len)
{
	uint64_t r = 1, b = 1000003;
	for (; len; len >>= 1, b = (b * b) & HASH_MASK)
		if (len & 1)
			r = (r * b) & HASH_MASK;
	return r;
}

static inline rf_val pack(uint64_t h, uint64_t len)
{
	return (rf_val)((h << LEN_BITS) | len);
}

/* combinef: the sequence a followed by b */
static inline int concat(rf_val a, rf_val b, rf_val *out)
{
	uint64_t ha = (uint64_t)a >> LEN_BITS, la = (uint64_t)a & ((1 << LEN_BITS) - 1);
	uint64_t hb = (uint64_t)b >> LEN_BITS, lb = (uint64_t)b & ((1 << LEN_BITS) - 1);
	*out = pack((ha * pow_b(lb) + hb) & HASH_MASK, la + lb);
	return 0;
}

/* reducef: the sequence acc followed by x */
static inline int conj1(rf_val acc, rf_val x, rf_val *out)
{
	return concat(acc, pack((uint64_t)x & HASH_MASK, 1), out);
}

/* The tests' pseudo-random source (xorshift64): the same sequence from the same seed. */
static inline uint64_t xorshift64(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

#endif
