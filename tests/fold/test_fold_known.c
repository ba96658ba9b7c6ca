/* fold over pipelines of ringfold's own functions (rf_add, rf_inc, rf_dec, rf_mul maps;
 * rf_even, rf_odd filters and removes; rf_add reducing), which a fold compiles into one
 * call-free loop: equal, bit for bit, to a serial interpreter of the chain and to the
 * same chain built from look-alike user functions (which take the per-element loops),
 * for every source kind, sizes around the call-free chunk, several n, overflowing
 * arithmetic, and chains that keep all, one parity, or nothing; on both clones of the
 * loop (baseline and AVX2, fold_fns.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fold_fns.h"
#include "ringfold.h"

enum { O_ADD, O_INC, O_DEC, O_MUL, O_FILTER_EVEN, O_FILTER_ODD, O_REMOVE_EVEN, O_REMOVE_ODD };
#define NOPS 8

typedef struct chain {
	int n;
	int op[RF_R_MAX_STAGES];
	rf_val arg[RF_R_MAX_STAGES];
} chain;

#define MAX_N 50000
static int64_t data[MAX_N];
static double ddata[MAX_N];

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
	return xorshift64(&rng);
}

/* Look-alikes the fold cannot recognize: the same results through a call per element. */
static int u_add(rf_val x, rf_val a, rf_val *out)
{
	*out = (rf_val)((uint64_t)x + (uint64_t)a);
	return 0;
}
static int u_inc(rf_val x, rf_val a, rf_val *out)
{
	return u_add(x, 1, out);
}
static int u_dec(rf_val x, rf_val a, rf_val *out)
{
	return u_add(x, -1, out);
}
static int u_mul(rf_val x, rf_val a, rf_val *out)
{
	*out = (rf_val)((uint64_t)x * (uint64_t)a);
	return 0;
}
static int u_even(rf_val x, rf_val a, rf_val *out)
{
	*out = (x & 1) == 0;
	return 0;
}
static int u_odd(rf_val x, rf_val a, rf_val *out)
{
	*out = (x & 1) != 0;
	return 0;
}
static int u_sum(rf_val acc, rf_val x, rf_val *out)
{
	return u_add(acc, x, out);
}

/* x through the chain: 1 and *y if kept, else 0. */
static int interpret(const chain *ch, rf_val x, rf_val *y)
{
	uint64_t v = (uint64_t)x;
	for (int i = 0; i < ch->n; i++) {
		uint64_t a = (uint64_t)ch->arg[i];
		switch (ch->op[i]) {
		case O_ADD:
			v += a;
			break;
		case O_INC:
			v += 1;
			break;
		case O_DEC:
			v -= 1;
			break;
		case O_MUL:
			v *= a;
			break;
		case O_FILTER_EVEN:
		case O_REMOVE_ODD:
			if (v & 1)
				return 0;
			break;
		default: /* O_FILTER_ODD, O_REMOVE_EVEN */
			if (!(v & 1))
				return 0;
		}
	}
	*y = (rf_val)v;
	return 1;
}

static rf_reducible stages(rf_reducible c, const chain *ch, int user)
{
	for (int i = 0; i < ch->n; i++) {
		rf_val a = ch->arg[i];
		switch (ch->op[i]) {
		case O_ADD:
			c = rf_r_map(c, user ? u_add : rf_add, a);
			break;
		case O_INC:
			c = rf_r_map(c, user ? u_inc : rf_inc, a);
			break;
		case O_DEC:
			c = rf_r_map(c, user ? u_dec : rf_dec, a);
			break;
		case O_MUL:
			c = rf_r_map(c, user ? u_mul : rf_mul, a);
			break;
		case O_FILTER_EVEN:
			c = rf_r_filter(c, user ? u_even : rf_even, a);
			break;
		case O_FILTER_ODD:
			c = rf_r_filter(c, user ? u_odd : rf_odd, a);
			break;
		case O_REMOVE_EVEN:
			c = rf_r_remove(c, user ? u_even : rf_even, a);
			break;
		default:
			c = rf_r_remove(c, user ? u_odd : rf_odd, a);
		}
	}
	return c;
}

/* Runs of 7 over data (rf_r_runs). */
static size_t runs7(rf_val src, size_t i, const rf_val **run)
{
	const rf_val *a = rf_to_ptr(src);
	*run = a + i;
	return 7 - i % 7;
}

enum { S_INT64, S_DOUBLE, S_RANGE, S_RANGE_WRAP, S_RUNS, S_NKINDS };

static rf_reducible source(int s, size_t n)
{
	switch (s) {
	case S_INT64:
		return rf_r_int64(data, n);
	case S_DOUBLE:
		return rf_r_double(ddata, n);
	case S_RANGE:
		return rf_r_range(-1000, -1000 + (int64_t)n);
	case S_RANGE_WRAP: /* ends at INT64_MAX: sums and products overflow */
		return rf_r_range(INT64_MAX - (int64_t)n, INT64_MAX);
	default:
		return rf_r_runs(runs7, rf_from_ptr(data), n);
	}
}

static rf_val element(int s, size_t n, size_t i)
{
	switch (s) {
	case S_DOUBLE:
		return rf_from_double(ddata[i]);
	case S_RANGE:
		return -1000 + (rf_val)i;
	case S_RANGE_WRAP:
		return INT64_MAX - (rf_val)n + (rf_val)i;
	default:
		return data[i];
	}
}

static rf_val expect(const chain *ch, int s, size_t n)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++) {
		rf_val y;
		if (interpret(ch, element(s, n, i), &y))
			sum += (uint64_t)y;
	}
	return (rf_val)sum;
}

typedef struct check_args {
	const chain *ch;
	int s;
	size_t n, chunk;
} check_args;

static void check_clone(const void *arg)
{
	const check_args *a = arg;
	const chain *ch = a->ch;
	int s = a->s;
	size_t n = a->n, chunk = a->chunk;
	const rf_val init = 12345; /* serial reduce only: a fold starts every chunk from init */
	rf_val want = expect(ch, s, n), got = 0, user = 0;
	assert_int_equal(rf_fold_n(stages(source(s, n), ch, 0), chunk, rf_add, 0, rf_add, &got), 0);
	assert_int_equal(got, want);
	assert_int_equal(rf_fold_n(stages(source(s, n), ch, 1), chunk, rf_add, 0, u_sum, &user), 0);
	assert_int_equal(user, want);
	assert_int_equal(rf_r_reduce(stages(source(s, n), ch, 0), rf_add, init, &got), 0);
	assert_int_equal(got, (rf_val)((uint64_t)want + (uint64_t)init));
}

/* Both clones of the call-free loops (fold_fns.h). */
static void check(const chain *ch, int s, size_t n, size_t chunk)
{
	check_args a = {ch, s, n, chunk};
	each_clone(check_clone, &a);
}

static chain random_chain(void)
{
	static const rf_val args[] = {0, 1, -1, 2, 3, -7, 1000003, INT64_MAX, INT64_MIN};
	chain ch = {.n = (int)(next() % (RF_R_MAX_STAGES + 1))};
	for (int i = 0; i < ch.n; i++) {
		ch.op[i] = (int)(next() % NOPS);
		ch.arg[i] =
		    next() % 4 ? args[next() % (sizeof(args) / sizeof(args[0]))] : (rf_val)next();
	}
	return ch;
}

static void random_chains(void **state)
{
	static const size_t sizes[] = {0, 1, 7, 4095, 4096, 4097, 9000, MAX_N};
	static const size_t chunks[] = {1, 512, 5000};
	for (int k = 0; k < 60; k++) {
		chain ch = random_chain();
		for (int s = 0; s < S_NKINDS; s++)
			for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++)
				check(&ch, s, sizes[si], chunks[(size_t)k % 3]);
	}
}

/* The shapes the loop distinguishes, each named: keep all, one parity either way, none
 * (contradicting filters, or an even multiplier making every value even). */
static void every_keep_shape(void **state)
{
	const chain list[] = {
	    {0, {0}, {0}},
	    {2, {O_FILTER_EVEN, O_MUL}, {0, 3}}, /* the benchmark's pipeline */
	    {3, {O_INC, O_FILTER_ODD, O_ADD}, {0, 0, -5}},
	    {2, {O_MUL, O_REMOVE_EVEN}, {7, 0}},
	    {2, {O_FILTER_EVEN, O_FILTER_ODD}, {0, 0}},
	    {2, {O_MUL, O_FILTER_ODD}, {4, 0}},
	    {2, {O_MUL, O_FILTER_EVEN}, {4, 0}},
	    {4, {O_DEC, O_MUL, O_ADD, O_REMOVE_ODD}, {0, -3, INT64_MAX, 0}},
	};
	for (size_t k = 0; k < sizeof(list) / sizeof(list[0]); k++)
		for (int s = 0; s < S_NKINDS; s++) {
			check(&list[k], s, MAX_N, 512);
			check(&list[k], s, 4097, 1);
		}
}

static void known_functions(void **state)
{
	rf_val out = 99;
	assert_int_equal(rf_mul(-3, 7, &out), 0);
	assert_int_equal(out, -21);
	assert_int_equal(rf_mul(INT64_MAX, 2, &out), 0);
	assert_int_equal(out, -2); /* wraps */
	assert_int_equal(rf_even(-4, 1, &out), 0);
	assert_int_equal(out, 1);
	assert_int_equal(rf_even(INT64_MIN + 1, 0, &out), 0);
	assert_int_equal(out, 0);
	assert_int_equal(rf_odd(-3, 0, &out), 0);
	assert_int_equal(out, 1);
	assert_int_equal(rf_odd(0, 1, &out), 0);
	assert_int_equal(out, 0);
	/* (r/fold + (r/map #(* 3 %) (r/filter even? (range 10)))) = 3 * (0+2+4+6+8) */
	assert_int_equal(rf_fold(rf_r_map(rf_r_filter(rf_r_range(0, 10), rf_even, 0), rf_mul, 3),
	                         rf_add, 0, rf_add, &out),
	                 0);
	assert_int_equal(out, 60);
}

static int setup(void **state)
{
	for (size_t i = 0; i < MAX_N; i++) {
		data[i] = i % 5 == 0 ? (int64_t)next() : (int64_t)(i * 7 % 1000) - 300;
		ddata[i] = (double)data[i] * 0.37;
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(known_functions),
	    cmocka_unit_test(every_keep_shape),
	    cmocka_unit_test(random_chains),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
