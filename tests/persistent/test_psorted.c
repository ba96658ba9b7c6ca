/* persistent sorted maps: random assoc/dissoc sequences checked against a plain table
 * (get, count, in-order iteration, nth, iteration from a key), the weight balance and
 * sizes of every node, old versions unchanged, a user comparator (strings, descending),
 * owned keys and values balanced, bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ringfold.h"
#include "runtime/coll/ptree.h"

#define K 700
#define ABSENT INT64_MIN

typedef struct model {
	rf_val v[K];
	size_t n;
} model;

/* sizes right, weights within delta 3, keys in order; returns the height */
static int check_tree(const tnode *t, rf_val lo, rf_val hi)
{
	if (!t)
		return 0;
	assert_true(t->k >= lo && t->k <= hi);
	size_t sl = t_size(t->l), sr = t_size(t->r);
	assert_int_equal(t->size, sl + sr + 1);
	if (sl + sr > 1) {
		assert_true(sl <= 3 * sr);
		assert_true(sr <= 3 * sl);
	}
	int hl = check_tree(t->l, lo, t->k - 1), hr = check_tree(t->r, t->k + 1, hi);
	return 1 + (hl > hr ? hl : hr);
}

static void check(const rf_psorted *m, const model *mo)
{
	assert_int_equal(rf_psorted_count(m), mo->n);
	int h = check_tree(m->root, INT64_MIN, INT64_MAX);
	assert_true(h <= TMAX_HEIGHT);
	rf_psorted_iter it;
	rf_val k, v;
	rf_psorted_iter_init(m, &it);
	size_t i = 0;
	for (int key = 0; key < K; key++) {
		rf_val got;
		assert_int_equal(rf_psorted_get(m, key, ABSENT, &got), 0);
		assert_int_equal(got, mo->v[key]);
		if (mo->v[key] == ABSENT)
			continue;
		assert_true(rf_psorted_iter_next(&it, &k, &v)); /* in key order */
		assert_int_equal(k, key);
		assert_int_equal(v, mo->v[key]);
		rf_val nk;
		assert_int_equal(rf_psorted_nth(m, i++, &nk, NULL), 0);
		assert_int_equal(nk, key);
	}
	assert_false(rf_psorted_iter_next(&it, &k, &v));
	assert_int_equal(rf_psorted_nth(m, i, &k, &v), -ERANGE);
	/* (subseq m >= 350) */
	rf_psorted_iter_from(m, 350, &it);
	for (int key = 350; key < K; key++)
		if (mo->v[key] != ABSENT) {
			assert_true(rf_psorted_iter_next(&it, &k, NULL));
			assert_int_equal(k, key);
		}
	assert_false(rf_psorted_iter_next(&it, &k, NULL));
}

static void random_ops(void **state)
{
	enum { STEPS = 30000, KEEP = 10 };
	srand(17);
	model mo = {.n = 0}, kept_m[KEEP];
	for (int k = 0; k < K; k++)
		mo.v[k] = ABSENT;
	rf_psorted *m, *kept[KEEP];
	int nkept = 0;
	assert_int_equal(rf_psorted_new(NULL, 0, NULL, &m), 0);
	for (int s = 0; s < STEPS; s++) {
		if (s % 3000 == 2999 && nkept < KEEP) {
			rf_psorted_retain(m);
			kept[nkept] = m;
			kept_m[nkept++] = mo;
		}
		int k = rand() % K;
		rf_psorted *n;
		if (rand() % 3) {
			rf_val v = rand() % 100;
			assert_int_equal(rf_psorted_assoc(m, k, v, &n), 0);
			mo.n += mo.v[k] == ABSENT;
			mo.v[k] = v;
		} else {
			assert_int_equal(rf_psorted_dissoc(m, k, &n), 0);
			mo.n -= mo.v[k] != ABSENT;
			mo.v[k] = ABSENT;
		}
		rf_psorted_release(m);
		m = n;
		if (s % 2503 == 0)
			check(m, &mo);
	}
	check(m, &mo);
	for (int i = 0; i < nkept; i++) {
		check(kept[i], &kept_m[i]);
		rf_psorted_release(kept[i]);
	}
	rf_psorted_release(m);
}

/* Ascending and descending runs: the worst cases for an unbalanced tree. */
static void sequential_keys(void **state)
{
	rf_psorted *m, *n;
	assert_int_equal(rf_psorted_new(NULL, 0, NULL, &m), 0);
	for (rf_val k = 0; k < 100000; k++) {
		assert_int_equal(rf_psorted_assoc(m, k % 2 ? k : -k, k, &n), 0);
		rf_psorted_release(m);
		m = n;
	}
	int h = check_tree(m->root, INT64_MIN, INT64_MAX);
	assert_true(h <= 2 * 17 + 1); /* about 2.4 log2(n) at worst; far less in practice */
	for (rf_val k = 0; k < 100000; k += 2) {
		assert_int_equal(rf_psorted_dissoc(m, -k, &n), 0);
		rf_psorted_release(m);
		m = n;
	}
	assert_int_equal(rf_psorted_count(m), 50000);
	check_tree(m->root, INT64_MIN, INT64_MAX);
	rf_psorted_release(m);
}

static int by_string_desc(rf_val a, rf_val b, rf_val ctx)
{
	assert_int_equal(ctx, 5);
	return -strcmp(rf_to_ptr(a), rf_to_ptr(b));
}

static void user_order(void **state)
{
	static const char *words[] = {"pear", "apple", "fig", "kiwi", "banana", "cherry"};
	static const char *want[] = {"pear", "kiwi", "fig", "cherry", "banana", "apple"};
	rf_psorted *m, *n;
	assert_int_equal(rf_psorted_new(by_string_desc, 5, NULL, &m), 0);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(rf_psorted_assoc(m, rf_from_ptr(words[i]), i, &n), 0);
		rf_psorted_release(m);
		m = n;
	}
	char probe[8] = "fig";
	rf_val v;
	assert_int_equal(rf_psorted_get(m, rf_from_ptr(probe), -1, &v), 0);
	assert_int_equal(v, 2);
	rf_psorted_iter it;
	rf_val k;
	rf_psorted_iter_init(m, &it);
	for (int i = 0; i < 6; i++) {
		assert_true(rf_psorted_iter_next(&it, &k, NULL));
		assert_string_equal(rf_to_ptr(k), want[i]);
	}
	assert_false(rf_psorted_iter_next(&it, &k, NULL));
	rf_psorted_release(m);
}

static _Atomic long live;
static void retain_(rf_val x, rf_val ctx)
{
	atomic_fetch_add(&live, 1);
}
static void release_(rf_val x, rf_val ctx)
{
	atomic_fetch_sub(&live, 1);
}

static void owned_entries_balance(void **state)
{
	const rf_coll_ops ops = {.size = sizeof(rf_coll_ops),
	                         .retain = retain_,
	                         .release = release_,
	                         .key_retain = retain_,
	                         .key_release = release_};
	rf_psorted *m, *n, *old = NULL;
	assert_int_equal(rf_psorted_new(NULL, 0, &ops, &m), 0);
	srand(23);
	for (int s = 0; s < 8000; s++) {
		if (s == 4000) {
			rf_psorted_retain(m);
			old = m;
		}
		int k = rand() % 500;
		if (rand() % 3)
			assert_int_equal(rf_psorted_assoc(m, k, s, &n), 0);
		else
			assert_int_equal(rf_psorted_dissoc(m, k, &n), 0);
		rf_psorted_release(m);
		m = n;
	}
	rf_coll_release(rf_from_ptr(old), 0);
	assert_int_equal(atomic_load(&live), 2 * (long)rf_psorted_count(m));
	rf_psorted_release(m);
	assert_int_equal(atomic_load(&live), 0);
}

static void bad_input(void **state)
{
	rf_psorted *m, *n;
	rf_val v;
	assert_int_equal(rf_psorted_new(NULL, 0, NULL, NULL), -EINVAL);
	rf_coll_ops unsized = {.size = 1};
	assert_int_equal(rf_psorted_new(NULL, 0, &unsized, &m), -EINVAL);
	assert_int_equal(rf_psorted_count(NULL), 0);
	assert_false(rf_psorted_contains(NULL, 1));
	assert_int_equal(rf_psorted_get(NULL, 1, 0, &v), -EINVAL);
	assert_int_equal(rf_psorted_assoc(NULL, 1, 1, &n), -EINVAL);
	assert_int_equal(rf_psorted_dissoc(NULL, 1, &n), -EINVAL);
	assert_int_equal(rf_psorted_nth(NULL, 0, &v, &v), -EINVAL);
	rf_psorted_release(NULL);
	rf_psorted_iter it;
	rf_psorted_iter_init(NULL, &it);
	assert_false(rf_psorted_iter_next(&it, &v, &v));
	assert_int_equal(rf_psorted_new(NULL, 0, NULL, &m), 0);
	assert_int_equal(rf_psorted_nth(m, 0, &v, &v), -ERANGE);
	assert_int_equal(rf_psorted_nth(m, SIZE_MAX, &v, &v), -ERANGE);
	rf_val keys[] = {INT64_MAX, INT64_MIN, 0, -1, 1};
	for (int i = 0; i < 5; i++) {
		assert_int_equal(rf_psorted_assoc(m, keys[i], i, &n), 0);
		rf_psorted_release(m);
		m = n;
	}
	rf_val k;
	assert_int_equal(rf_psorted_nth(m, 0, &k, NULL), 0);
	assert_int_equal(k, INT64_MIN);
	assert_int_equal(rf_psorted_nth(m, 4, &k, NULL), 0);
	assert_int_equal(k, INT64_MAX);
	assert_int_equal(rf_psorted_dissoc(m, 42, &n), 0); /* absent: the same map */
	assert_ptr_equal(n, m);
	rf_psorted_release(n);
	rf_psorted_release(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(random_ops), cmocka_unit_test(sequential_keys),
	    cmocka_unit_test(user_order), cmocka_unit_test(owned_entries_balance),
	    cmocka_unit_test(bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
