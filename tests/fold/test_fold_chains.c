/* fold over chains of transforms: every leaf loop (fused shapes, staged blocks, the
 * per-element step path) against a serial interpreter of the same chain, over every
 * source kind, sizes around the block length, several chunk sizes, a commutative and a
 * non-commutative reduction; errors from a user function at any stage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fold_fns.h"
#include "ringfold.h"

enum op_kind { O_MAP, O_FILTER, O_REMOVE, O_BLOCK, O_MAPCAT, O_TAKE_WHILE, O_FAIL };

/* A chain: up to 7 ops (a source other than int64 adds a decoding map in front). */
typedef struct op {
	int kind;
	rf_val arg; /* map and block: k of x*k+1; take-while: the limit; fail: the stage kind */
} op;
typedef struct chain {
	int n;
	op ops[7];
} chain;

static int affine(rf_val x, rf_val k, rf_val *out)
{
	*out = x * k + 1;
	return 0;
}

/* Keeps the evens, as x*k+1: a map and a filter in one slice. */
static int evens_affine(rf_val *xs, size_t n, rf_val k, size_t *kept)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if ((xs[i] & 1) == 0)
			xs[m++] = xs[i] * k + 1;
	*kept = m;
	return 0;
}

static int repeat_self(rf_val x, rf_val arg, rf_emit *e)
{
	for (rf_val i = 0; i < x % 4; i++) {
		int rc = rf_emit_val(e, x);
		if (rc)
			return rc;
	}
	return 0;
}

/* The failing element: every stage kind has a variant that fails on it and otherwise
 * passes x on unchanged. */
static int bad(rf_val x)
{
	return x % 97 == 5;
}

static int fail_map(rf_val x, rf_val arg, rf_val *out)
{
	if (bad(x))
		return -ERANGE;
	*out = x;
	return 0;
}

static int fail_pred(rf_val x, rf_val keep, rf_val *out)
{
	if (bad(x))
		return -ERANGE;
	*out = keep;
	return 0;
}

static int fail_block(rf_val *xs, size_t n, rf_val arg, size_t *kept)
{
	for (size_t i = 0; i < n; i++)
		if (bad(xs[i]))
			return -ERANGE;
	*kept = n;
	return 0;
}

static int fail_mapcat(rf_val x, rf_val arg, rf_emit *e)
{
	return bad(x) ? -ERANGE : rf_emit_val(e, x);
}

static int fail_reduce(rf_val acc, rf_val x, rf_val *out)
{
	if (bad(x))
		return -ERANGE;
	*out = acc + x;
	return 0;
}

/* ---- the sources: all give the values of data[], decoded by a first map if need be --- */

#define MAX_N 20011
static int64_t data[MAX_N];
static double ddata[MAX_N];
static int64_t edata[MAX_N][2]; /* elements of 16 bytes: the value, then padding */

enum src_kind { S_INT64, S_DOUBLE, S_RANGE, S_ELEMS, S_NKINDS };

static int from_index(rf_val i, rf_val arg, rf_val *out)
{
	*out = data[i];
	return 0;
}
static int from_double(rf_val bits, rf_val arg, rf_val *out)
{
	*out = (rf_val)rf_to_double(bits);
	return 0;
}
static int from_elem(rf_val p, rf_val arg, rf_val *out)
{
	*out = *(const int64_t *)rf_to_ptr(p);
	return 0;
}

static rf_reducible source(int s, size_t n)
{
	switch (s) {
	case S_DOUBLE:
		return rf_r_map(rf_r_double(ddata, n), from_double, 0);
	case S_RANGE:
		return rf_r_map(rf_r_range(0, (int64_t)n), from_index, 0);
	case S_ELEMS:
		return rf_r_map(rf_r_elems(edata, n, sizeof(edata[0])), from_elem, 0);
	}
	return rf_r_int64(data, n);
}

static rf_reducible build(const chain *ch, int s, size_t n)
{
	rf_reducible c = source(s, n);
	for (int i = 0; i < ch->n; i++) {
		const op *o = &ch->ops[i];
		switch (o->kind) {
		case O_MAP:
			c = rf_r_map(c, affine, o->arg);
			break;
		case O_FILTER:
			c = rf_r_filter(c, even, 0);
			break;
		case O_REMOVE:
			c = rf_r_remove(c, even, 0);
			break;
		case O_BLOCK:
			c = rf_r_block(c, evens_affine, o->arg);
			break;
		case O_MAPCAT:
			c = rf_r_mapcat(c, repeat_self, 0);
			break;
		case O_TAKE_WHILE:
			c = rf_r_take_while(c, below, o->arg);
			break;
		default: /* O_FAIL, in the shape of stage kind arg */
			c = o->arg == O_MAP      ? rf_r_map(c, fail_map, 0)
			    : o->arg == O_FILTER ? rf_r_filter(c, fail_pred, 1)
			    : o->arg == O_REMOVE ? rf_r_remove(c, fail_pred, 0)
			    : o->arg == O_BLOCK  ? rf_r_block(c, fail_block, 0)
			                         : rf_r_mapcat(c, fail_mapcat, 0);
		}
	}
	return c;
}

/* The serial interpreter: x through ops i.. into f. 0, 1 (take-while ended) or < 0. */
static int push(const chain *ch, int i, rf_val x, rf_update_fn f, rf_val *acc)
{
	for (; i < ch->n; i++) {
		const op *o = &ch->ops[i];
		switch (o->kind) {
		case O_MAP:
			x = x * o->arg + 1;
			break;
		case O_FILTER:
			if (x & 1)
				return 0;
			break;
		case O_REMOVE:
			if (!(x & 1))
				return 0;
			break;
		case O_BLOCK:
			if (x & 1)
				return 0;
			x = x * o->arg + 1;
			break;
		case O_TAKE_WHILE:
			if (x >= o->arg)
				return 1;
			break;
		case O_MAPCAT:
			for (rf_val k = 0; k < x % 4; k++) {
				int rc = push(ch, i + 1, x, f, acc);
				if (rc)
					return rc;
			}
			return 0;
		default: /* O_FAIL */
			if (bad(x))
				return -ERANGE;
		}
	}
	rf_val next = RF_NIL;
	int rc = f(*acc, x, &next);
	*acc = next;
	return rc;
}

/* The expected outcome of reducing data[0..n) from init: its code, and *out when 0. */
static int expect(const chain *ch, size_t n, rf_update_fn f, rf_val init, rf_val *out)
{
	rf_val acc = init;
	for (size_t i = 0; i < n; i++) {
		int rc = push(ch, 0, data[i], f, &acc);
		if (rc < 0)
			return rc;
		if (rc > 0)
			break;
	}
	*out = acc;
	return 0;
}

static const chain chains[] = {
    {0, {{O_MAP, 0}}},
    {1, {{O_MAP, 3}}},
    {1, {{O_FILTER, 0}}},
    {1, {{O_REMOVE, 0}}},
    {1, {{O_BLOCK, 5}}},
    {2, {{O_MAP, 3}, {O_MAP, 5}}},
    {2, {{O_MAP, 3}, {O_FILTER, 0}}},
    {2, {{O_FILTER, 0}, {O_MAP, 5}}},
    {2, {{O_FILTER, 0}, {O_REMOVE, 0}}},
    {2, {{O_REMOVE, 0}, {O_MAP, 3}}},
    {2, {{O_REMOVE, 0}, {O_REMOVE, 0}}},
    {3, {{O_FILTER, 0}, {O_MAP, 5}, {O_REMOVE, 0}}},
    {3, {{O_MAP, 3}, {O_BLOCK, 5}, {O_MAP, 2}}},
    {2, {{O_BLOCK, 5}, {O_MAP, 3}}},
    {5, {{O_FILTER, 0}, {O_FILTER, 0}, {O_MAP, 3}, {O_REMOVE, 0}, {O_MAP, 2}}},
    {1, {{O_TAKE_WHILE, 600}}},
    {2, {{O_MAP, 3}, {O_TAKE_WHILE, 900}}},
    {3, {{O_FILTER, 0}, {O_TAKE_WHILE, 600}, {O_MAP, 3}}},
    {1, {{O_MAPCAT, 0}}},
    {3, {{O_MAP, 3}, {O_MAPCAT, 0}, {O_FILTER, 0}}},
    {2, {{O_BLOCK, 5}, {O_MAPCAT, 0}}},
    {2, {{O_TAKE_WHILE, 600}, {O_MAPCAT, 0}}},
};
#define NCHAINS (sizeof(chains) / sizeof(chains[0]))

static const size_t sizes[] = {0, 1, 2, 255, 256, 257, 511, 513, 1000, 4099, MAX_N};
static const size_t chunks[] = {1, 7, 512, 5000};

static int setup(void **state)
{
	for (size_t i = 0; i < MAX_N; i++) {
		data[i] = (int64_t)(i * 7 % 1000) - 300;
		ddata[i] = (double)data[i];
		edata[i][0] = data[i];
		edata[i][1] = -1;
	}
	return 0;
}

static void check(const chain *ch, int s, size_t n, size_t chunk)
{
	rf_val want, got = 12345;
	rf_reducible c = build(ch, s, n);
	assert_int_equal(expect(ch, n, rf_add, 0, &want), 0);
	assert_int_equal(rf_fold_n(c, chunk, rf_add, 0, rf_add, &got), 0);
	assert_int_equal(got, want);
	assert_int_equal(expect(ch, n, conj1, pack(0, 0), &want), 0);
	assert_int_equal(rf_fold_n(c, chunk, concat, pack(0, 0), conj1, &got), 0);
	assert_int_equal(got, want);
}

static void every_chain_source_and_size(void **state)
{
	for (size_t k = 0; k < NCHAINS; k++)
		for (int s = 0; s < S_NKINDS; s++)
			for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
				if (sizes[si] == MAX_N) { /* the big one: the default chunk only */
					check(&chains[k], s, MAX_N, RF_FOLD_DEFAULT_N);
					continue;
				}
				for (size_t ci = 0; ci < sizeof(chunks) / sizeof(chunks[0]); ci++)
					check(&chains[k], s, sizes[si], chunks[ci]);
				rf_val want, got;
				assert_int_equal(expect(&chains[k], sizes[si], rf_add, 0, &want),
				                 0);
				assert_int_equal(
				    rf_r_reduce(build(&chains[k], s, sizes[si]), rf_add, 0, &got),
				    0);
				assert_int_equal(got, want);
			}
}

/* A failing stage of each kind at each position of each chain: the fold returns the
 * error exactly when the serial reduction meets it (take-while may end it first). */
static void errors_at_every_stage(void **state)
{
	static const int kinds[] = {O_MAP, O_FILTER, O_REMOVE, O_BLOCK, O_MAPCAT};
	for (size_t k = 0; k < NCHAINS; k++) {
		if (chains[k].n == 7)
			continue;
		for (int pos = 0; pos <= chains[k].n; pos++)
			for (size_t fk = 0; fk < sizeof(kinds) / sizeof(kinds[0]); fk++) {
				chain ch = chains[k];
				memmove(&ch.ops[pos + 1], &ch.ops[pos],
				        (size_t)(ch.n - pos) * sizeof(op));
				ch.ops[pos] = (op){O_FAIL, kinds[fk]};
				ch.n++;
				for (int s = 0; s < S_NKINDS; s++) {
					size_t n = 1000;
					rf_val want, got = 0;
					int wrc = expect(&ch, n, rf_add, 0, &want);
					rf_reducible c = build(&ch, s, n);
					assert_int_equal(rf_fold(c, rf_add, 0, rf_add, &got), wrc);
					if (!wrc)
						assert_int_equal(got, want);
					assert_int_equal(rf_r_reduce(c, rf_add, 0, &got), wrc);
					assert_int_equal(
					    rf_fold_n(c, 1, concat, pack(0, 0), conj1, &got),
					    expect(&ch, n, conj1, pack(0, 0), &want));
				}
			}
	}
}

/* A failing reducing function behind every chain and source. */
static void errors_from_reducef(void **state)
{
	for (size_t k = 0; k < NCHAINS; k++)
		for (int s = 0; s < S_NKINDS; s++) {
			rf_val want, got;
			int wrc = expect(&chains[k], 1000, fail_reduce, 0, &want);
			rf_reducible c = build(&chains[k], s, 1000);
			assert_int_equal(rf_fold(c, rf_add, 0, fail_reduce, &got), wrc);
			if (!wrc)
				assert_int_equal(got, want);
			assert_int_equal(rf_fold_n(c, 3, rf_add, 0, fail_reduce, &got), wrc);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_chain_source_and_size),
	    cmocka_unit_test(errors_at_every_stage),
	    cmocka_unit_test(errors_from_reducef),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
